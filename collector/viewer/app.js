// The viewer: sign in with a read token, find sessions, open one. Every page is built from the
// query API of this collector; the token stays in this browser's storage, never in a URL that
// could be pasted into a ticket.

import { ReplayFrame } from '/viewer/frame.js';

const TOKEN_KEY = 'sightline.readToken';
const view = document.getElementById('view');
const signOut = document.getElementById('sign-out');

// Text from the API goes into the page as text, never as markup.
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'text') node.textContent = String(value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function token() {
  return localStorage.getItem(TOKEN_KEY);
}

class SignedOut extends Error {}

async function api(path) {
  const response = await fetch(path, { headers: { authorization: `Bearer ${token()}` } });
  if (response.status === 401) throw new SignedOut();
  const body = await response.json();
  if (!response.ok) throw new Error(body.message || `${response.status}`);
  return body;
}

// --- formatting --------------------------------------------------------------------------------

function when(ms) {
  return ms ? new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' }) : '–';
}

function duration(ms) {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function device(d) {
  const browser = [d.browser, d.browser_version && d.browser_version.split('.')[0]].filter(Boolean).join(' ');
  const os = [d.os, d.os_version].filter(Boolean).join(' ');
  return [browser, os, d.kind && d.kind !== 'unknown' ? d.kind : ''].filter(Boolean).join(' · ') || '–';
}

function traitsSummary(traits) {
  if (!traits || typeof traits !== 'object') return '';
  return Object.entries(traits)
    .filter(([key]) => key !== 'email')
    .slice(0, 3)
    .map(([key, value]) => `${key}: ${typeof value === 'object' ? JSON.stringify(value) : value}`)
    .join(', ');
}

function place(geo, d) {
  return [geo.city, geo.country].filter(Boolean).join(', ') || d.timezone || '–';
}

// --- sign in -----------------------------------------------------------------------------------

function showSignIn(message) {
  signOut.hidden = true;
  const input = el('input', { id: 'token', type: 'password', autocomplete: 'current-password', placeholder: 'slr_…' });
  const error = el('p', { class: 'error', text: message || '' });
  const form = el(
    'form',
    { id: 'sign-in', class: 'card narrow' },
    el('h1', { text: 'Sign in' }),
    el('p', { text: "Your project's read token. It stays in this browser." }),
    el('label', { for: 'token', text: 'Read token' }),
    input,
    error,
    el('button', { class: 'primary', type: 'submit', text: 'Sign in' }),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    localStorage.setItem(TOKEN_KEY, input.value.trim());
    try {
      await api('/api/sessions?limit=1');
      route();
    } catch (e) {
      localStorage.removeItem(TOKEN_KEY);
      error.textContent = e instanceof SignedOut ? 'That token is not valid.' : `Could not sign in: ${e.message}`;
    }
  });
  view.replaceChildren(form);
  input.focus();
}

// --- the session list --------------------------------------------------------------------------

const FILTERS = [
  ['user', 'User id or email', 'text'],
  ['q', 'Traits contain', 'text'],
  ['url', 'URL visited contains', 'text'],
  ['trace', 'Trace id', 'text'],
  ['from', 'From', 'datetime-local'],
  ['to', 'To', 'datetime-local'],
];

function filterForm(params) {
  const fields = FILTERS.map(([name, label, type]) => {
    let value = params.get(name) || '';
    if (type === 'datetime-local' && value) value = new Date(Number(value) - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 16);
    return el('label', {}, el('span', { text: label }), el('input', { name, type, value }));
  });
  const checks = [
    ['has_errors', 'With errors'],
    ['has_failed_requests', 'With failed requests'],
    ['has_rage_clicks', 'Rage clicks'],
    ['has_dead_clicks', 'Dead clicks'],
    ['has_error_clicks', 'Error clicks'],
  ].map(([name, label]) => el('label', { class: 'check' }, el('input', { name, type: 'checkbox', checked: params.get(name) === 'true' }), label));
  const form = el('form', { id: 'filters', class: 'filters' }, fields, checks, el('button', { class: 'primary', type: 'submit', text: 'Find' }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [name, , type] of FILTERS) {
      const value = form.elements[name].value.trim();
      if (!value) continue;
      next.set(name, type === 'datetime-local' ? String(new Date(value).getTime()) : value);
    }
    for (const name of ['has_errors', 'has_failed_requests', 'has_rage_clicks', 'has_dead_clicks', 'has_error_clicks']) if (form.elements[name].checked) next.set(name, 'true');
    history.pushState({}, '', `/${next.toString() ? `?${next}` : ''}`);
    route();
  });
  return form;
}

function sessionRow(session, moment) {
  const link = `/sessions/${session.id}${moment ? `?t=${moment}` : ''}`;
  const user = session.user_id || session.email || 'anonymous';
  return el(
    'tr',
    { 'data-session': session.id },
    el('td', {}, el('a', { href: link, text: when(session.start || session.first_seen) })),
    el('td', {}, el('div', { class: 'user', text: user }), el('div', { class: 'muted', text: traitsSummary(session.traits) })),
    el('td', { text: device(session.device) }),
    el('td', { text: place(session.geo, session.device) }),
    el('td', { class: 'number', text: duration(session.duration_ms) }),
    el('td', { class: 'number', text: session.pages.length }),
    el('td', { class: `number${session.error_count ? ' bad' : ''}`, text: session.error_count }),
    el('td', { class: `number${session.failed_request_count ? ' bad' : ''}`, text: session.failed_request_count }),
    frustration(session.signals || {}),
  );
}

// Rage, dead and error clicks, as one count with the breakdown on hover.
function frustration(signals) {
  const parts = [
    [signals.rage_clicks, 'rage'],
    [signals.dead_clicks, 'dead'],
    [signals.error_clicks, 'error'],
  ].filter(([n]) => n > 0);
  const total = parts.reduce((sum, [n]) => sum + n, 0);
  return el('td', { class: `number${total ? ' bad' : ''}`, title: parts.map(([n, kind]) => `${n} ${kind} click${n > 1 ? 's' : ''}`).join(', '), text: total });
}

async function showList() {
  const params = new URLSearchParams(location.search);
  const rows = el('tbody', { id: 'sessions' });
  const more = el('button', { id: 'more', hidden: true, text: 'More sessions' });
  const status = el('p', { class: 'muted', id: 'status', text: 'Loading…' });
  view.replaceChildren(
    el('div', { class: 'card' }, filterForm(params)),
    el(
      'div',
      { class: 'card' },
      el(
        'table',
        { class: 'sessions' },
        el('thead', {}, el('tr', {}, ['Started', 'User', 'Device', 'Where', 'Duration', 'Pages', 'Errors', 'Failed requests', 'Frustration'].map((h) => el('th', { text: h })))),
        rows,
      ),
      status,
      more,
    ),
  );
  let cursor = null;
  const load = async () => {
    const query = new URLSearchParams(params);
    query.set('limit', '50');
    if (cursor) query.set('cursor', cursor);
    const page = await api(`/api/sessions?${query}`);
    const moments = new Map((page.moments || []).map((m) => [m.session, m.time]));
    rows.append(...page.sessions.map((s) => sessionRow(s, moments.get(s.id))));
    cursor = page.next_cursor || null;
    more.hidden = cursor === null;
    status.textContent = rows.children.length === 0 ? 'No sessions match.' : '';
  };
  more.addEventListener('click', () => load().catch(failed));
  await load();
}

// --- one session -------------------------------------------------------------------------------

function facts(pairs) {
  return el(
    'dl',
    { class: 'facts' },
    pairs.filter(([, value]) => value !== '' && value !== null && value !== undefined).map(([name, value, id]) => [el('dt', { text: name }), el('dd', { text: value, id })]),
  );
}

// --- replay ------------------------------------------------------------------------------------

let player = null;

// The replay core (Rust compiled to wasm), loaded once.
async function loadPlayer() {
  if (player === null) {
    player = import('/viewer/player.js').then(async (module) => {
      await module.default({ module_or_path: '/viewer/player_bg.wasm' });
      return module;
    });
  }
  return player;
}

function clock(ms) {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

// The recorded page in a sandboxed frame: no scripts run in it, forms can't submit, links
// can't navigate; the viewer builds and changes its page (same origin; see frame.js). It is
// credentialless: what the recording loads (images, fonts, styles) goes out without the
// engineer's cookies, and without a referrer.
async function showReplay(id, section) {
  let module;
  try {
    module = await loadPlayer();
  } catch (_) {
    section.replaceChildren(el('p', { class: 'muted', text: 'This collector was built without the replay player (cargo xtask build-player).' }));
    return;
  }
  const response = await fetch(`/api/sessions/${encodeURIComponent(id)}/events`, { headers: { authorization: `Bearer ${token()}` } });
  if (!response.ok) throw new Error(`events: ${response.status}`);
  const replay = new module.Player(new Uint8Array(await response.arrayBuffer()));
  const start = replay.start();
  const length = Math.max(0, replay.end() - start);
  // The frame has the user's viewport size, scaled to fit; the cursor is drawn over it.
  const cursor = el('div', { id: 'cursor', hidden: true });
  // The field that had the focus, ringed; the mouse's path over the last second.
  const focusRing = el('div', { id: 'focus-ring', hidden: true });
  const trail = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  trail.id = 'trail';
  const trailLine = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  trail.append(trailLine);
  const stage = el('div', { class: 'stage' }, focusRing, trail, cursor);
  const replayFrame = new ReplayFrame(stage, () =>
    el('iframe', {
      sandbox: 'allow-same-origin',
      credentialless: true,
      referrerpolicy: 'no-referrer',
      title: 'The session as the user saw it',
    }),
  );
  const slider = el('input', { id: 'timeline', type: 'range', min: 0, max: length, step: 10, value: 0 });
  const time = el('span', { id: 'time', class: 'muted' });
  const play = el('button', { id: 'play', text: 'Play' });
  const speed = el('select', { id: 'speed' }, [1, 2, 4, 8].map((s) => el('option', { value: s, text: `${s}×` })));
  const copy = el('button', { id: 'copy-link', text: 'Copy link to this moment' });
  const skip = el('input', { id: 'skip-idle', type: 'checkbox', checked: true });
  let timer = null;
  // Frustration signals read as activity; failed requests are already network problems.
  const signals = JSON.parse(replay.signals()).filter((s) => s.kind !== 'failed_request');
  const facts = JSON.parse(replay.facts())
    .concat(signals.map((s) => ({ time: s.time, panel: 'activity', kind: s.kind, summary: s.summary, detail: s.cause || '', problem: true, trace: null })))
    .sort((a, b) => a.time - b.time);
  const digest = el('button', { id: 'copy-digest', text: 'Copy digest' });
  const entries = [];

  let playhead = 0;
  const render = (offset) => {
    playhead = offset;
    const at = start + offset;
    slider.value = String(offset);
    time.textContent = `${clock(offset)} / ${clock(length)}`;
    // The panels follow the playhead: what has happened by now is marked, and the context
    // names the page the user was on.
    const latest = new Map();
    for (const [fact, item] of entries) {
      item.classList.toggle('past', fact.time <= at);
      if (fact.time <= at) latest.set(item.parentNode, item);
    }
    // While playing, each panel keeps its latest entry in view.
    if (timer !== null) {
      for (const [list, item] of latest) {
        const below = item.offsetTop + item.offsetHeight > list.scrollTop + list.clientHeight;
        if (item.offsetTop < list.scrollTop || below) list.scrollTop = item.offsetTop - list.clientHeight / 2;
      }
    }
    const [url, title] = replay.pageAt(at);
    const current = document.getElementById('current-page');
    if (current) current.textContent = url ? `${title ? `${title} · ` : ''}${url}` : '–';
    for (const li of document.querySelectorAll('#context .urls li')) li.classList.toggle('current', li.textContent === url);
    const [width, height] = replay.viewportAt(at);
    const scale = width ? Math.min(1, stage.clientWidth / width) : 1;
    if (width) {
      for (const frame of replayFrame.frames) {
        frame.style.width = `${width}px`;
        frame.style.height = `${height}px`;
        frame.style.transform = `scale(${scale})`;
      }
      stage.style.height = `${Math.ceil(height * scale)}px`;
    }
    const pointer = replay.pointerAt(at);
    cursor.hidden = pointer.length === 0;
    if (pointer.length) {
      cursor.style.left = `${pointer[0] * scale}px`;
      cursor.style.top = `${pointer[1] * scale}px`;
      cursor.classList.toggle('clicked', pointer[2] === 1);
    }
    // The frame's page changes in place; it is built anew only at a keyframe or a seek back.
    replayFrame.show(JSON.parse(replay.frameAt(at)));
    const box = replayFrame.focusBox();
    focusRing.hidden = box === null;
    if (box !== null) {
      focusRing.style.left = `${box.left * scale}px`;
      focusRing.style.top = `${box.top * scale}px`;
      focusRing.style.width = `${box.width * scale}px`;
      focusRing.style.height = `${box.height * scale}px`;
    }
    const points = replay.trailAt(at);
    const path = [];
    for (let i = 0; i + 1 < points.length; i += 2) path.push(`${points[i] * scale},${points[i + 1] * scale}`);
    trailLine.setAttribute('points', path.join(' '));
  };
  const pause = () => {
    clearInterval(timer);
    timer = null;
    play.textContent = 'Play';
  };
  play.addEventListener('click', () => {
    if (timer !== null) return pause();
    play.textContent = 'Pause';
    let tick = performance.now();
    timer = setInterval(() => {
      // The playhead moves by the time that passed, times the speed, however late the timer.
      const now = performance.now();
      let next = playhead + (now - tick) * Number(speed.value);
      tick = now;
      // Skipping inactivity: a pause of more than 2 s without events plays as half a second.
      const coming = replay.nextEventAfter(start + playhead);
      if (skip.checked && coming > 0 && coming - start - next > 2000) next = coming - start - 500;
      render(Math.min(next, length));
      if (next >= length) pause();
    }, 100);
  });
  slider.addEventListener('input', () => render(Number(slider.value)));
  copy.addEventListener('click', () => {
    const link = `${location.origin}/sessions/${id}?t=${Math.round(start + Number(slider.value))}`;
    navigator.clipboard.writeText(link).then(
      () => (copy.textContent = 'Link copied'),
      () => (copy.textContent = link),
    );
  });
  // The digest (Markdown) for a ticket: who, where, and each problem with its backend records.
  digest.addEventListener('click', async () => {
    try {
      const response = await fetch(`/api/sessions/${encodeURIComponent(id)}/digest?format=md`, { headers: { authorization: `Bearer ${token()}` } });
      if (!response.ok) throw new Error(`digest: ${response.status}`);
      await navigator.clipboard.writeText(await response.text());
      digest.textContent = 'Digest copied';
    } catch (error) {
      digest.textContent = `Digest not copied: ${error.message}`;
    }
  });
  // Markers on the timeline for clicks, navigations, errors, failed requests and signals.
  const markers = el('div', { class: 'markers', id: 'markers' });
  for (const fact of facts) {
    const marked = fact.problem || fact.kind === 'click' || fact.kind === 'navigation';
    if (!marked || length === 0) continue;
    const marker = el('button', {
      class: `marker ${fact.problem ? 'problem' : fact.kind} ${fact.kind}`,
      title: fact.summary,
      style: `left: ${(((fact.time - start) / length) * 100).toFixed(2)}%`,
    });
    marker.addEventListener('click', () => render(fact.time - start));
    markers.append(marker);
  }
  // Side panels: every fact at its moment; a click seeks there and opens the details.
  const panels = el('div', { class: 'panels' });
  for (const [panel, title] of [
    ['activity', 'Activity'],
    ['network', 'Network'],
    ['console', 'Console & errors'],
  ]) {
    const list = el('ol', { class: 'facts-list', id: `panel-${panel}` });
    for (const fact of facts.filter((f) => f.panel === panel)) {
      const detail = fact.detail || fact.trace ? el('pre', { class: 'detail', hidden: true, text: [fact.trace ? `trace ${fact.trace}` : '', fact.detail].filter(Boolean).join('\n') }) : null;
      const item = el(
        'li',
        { class: fact.problem ? 'problem' : '' },
        el('span', { class: 'at', text: clock(fact.time - start) }),
        el('span', { class: 'summary', text: fact.summary }),
        detail,
      );
      let backend = null;
      item.addEventListener('click', () => {
        render(fact.time - start);
        if (detail) detail.hidden = !detail.hidden;
        if (fact.trace && backend === null) {
          backend = el('div', { class: 'backend', text: 'Loading the backend records of this trace…' });
          item.append(backend);
          api(`/api/traces/${fact.trace}`).then(
            (t) => {
              backend.replaceChildren(...backendRecords(t, start));
              backend.scrollIntoView({ block: 'nearest' });
            },
            (error) => (backend.textContent = `Backend records not loaded: ${error.message}`),
          );
        } else if (backend !== null) {
          backend.hidden = detail ? detail.hidden : !backend.hidden;
        }
      });
      entries.push([fact, item]);
      list.append(item);
    }
    panels.append(el('section', { class: 'panel' }, el('h3', { text: `${title} (${list.children.length})` }), list));
  }
  section.replaceChildren(stage, markers, el('div', { class: 'controls' }, play, speed, el('label', { class: 'check' }, skip, 'Skip inactivity'), slider, time, copy, digest), panels);
  const asked = Number(new URLSearchParams(location.search).get('t'));
  render(asked > 0 ? Math.min(Math.max(asked - start, 0), length) : 0);
}

// What the backend reported for a request's trace: its spans and log lines, at their moments.
function backendRecords(trace, start) {
  if (trace.spans.length === 0 && trace.logs.length === 0) {
    return [el('p', { class: 'muted', text: 'The backend sent nothing for this trace (yet).' })];
  }
  const attributes = (pairs) => pairs.map(([k, v]) => `${k}=${v}`).join(' ');
  const spans = trace.spans.map((s) =>
    el(
      'li',
      { class: s.status === 'error' ? 'span problem' : 'span' },
      el('span', { class: 'at', text: clock(s.start - start) }),
      el('span', { class: 'summary', text: `${s.service} · ${s.kind} ${s.name} · ${Math.round(s.duration_ms)} ms · ${s.status}${s.status_message ? `: ${s.status_message}` : ''}` }),
      s.attributes.length ? el('code', { text: attributes(s.attributes) }) : null,
    ),
  );
  const logs = trace.logs.map((l) =>
    el(
      'li',
      { class: l.severity_number >= 17 ? 'log problem' : 'log' },
      el('span', { class: 'at', text: clock(l.time - start) }),
      el('span', { class: 'summary', text: `${l.service} · ${l.severity} · ${l.message}` }),
      l.attributes.length ? el('code', { text: attributes(l.attributes) }) : null,
    ),
  );
  return [el('h4', { text: `Backend, trace ${trace.trace}` }), el('ol', { class: 'backend-records' }, spans, logs)];
}

async function showSession(id) {
  const session = await api(`/api/sessions/${encodeURIComponent(id)}`);
  const d = session.device;
  const traits = session.traits && Object.keys(session.traits).length ? JSON.stringify(session.traits, null, 2) : '';
  view.replaceChildren(
    el(
      'div',
      { class: 'card' },
      el('h1', { text: session.user_id || session.email || 'Anonymous session' }),
      el('p', { class: 'muted', text: `Session ${session.id}` }),
    ),
    el('section', { class: 'card', id: 'replay' }, el('p', { class: 'muted', text: 'Loading the replay…' })),
    el(
      'section',
      { class: 'card', id: 'context' },
      el('h2', { text: 'Context' }),
      facts([
        ['User id', session.user_id],
        ['Email', session.email],
        ['Browser', [d.browser, d.browser_version].filter(Boolean).join(' ')],
        ['OS', [d.os, d.os_version].filter(Boolean).join(' ')],
        ['Device', d.kind],
        ['Screen', d.screen && d.screen[0] ? `${d.screen[0]} × ${d.screen[1]} (×${d.pixel_ratio})` : ''],
        ['Viewport', d.viewport && d.viewport[0] ? `${d.viewport[0]} × ${d.viewport[1]}` : ''],
        ['Language', d.language],
        ['Time zone', d.timezone],
        ['Where', [session.geo.city, session.geo.country].filter(Boolean).join(', ')],
        ['Page at the playhead', '–', 'current-page'],
        ['Started', when(session.start)],
        ['Ended', when(session.end)],
        ['Duration', duration(session.duration_ms)],
        ['Errors', session.error_count],
        ['Requests', `${session.request_count} (${session.failed_request_count} failed)`],
      ]),
      traits ? el('h3', { text: 'Traits' }) : null,
      traits ? el('pre', { class: 'traits', text: traits }) : null,
      el('h3', { text: 'Pages visited' }),
      el('ol', { class: 'urls' }, session.urls.map((url) => el('li', { text: url }))),
    ),
  );
  await showReplay(id, document.getElementById('replay'));
}

// --- routing -----------------------------------------------------------------------------------

function failed(error) {
  if (error instanceof SignedOut) {
    localStorage.removeItem(TOKEN_KEY);
    showSignIn('Your token is no longer valid. Sign in again.');
    return;
  }
  view.replaceChildren(el('div', { class: 'card' }, el('p', { class: 'error', text: `Something went wrong: ${error.message}` })));
}

function route() {
  if (!token()) {
    showSignIn();
    return;
  }
  signOut.hidden = false;
  const session = location.pathname.match(/^\/sessions\/([0-9a-f]{32})$/);
  (session ? showSession(session[1]) : showList()).catch(failed);
}

signOut.addEventListener('click', () => {
  localStorage.removeItem(TOKEN_KEY);
  showSignIn();
});

// Links inside the viewer change the page without a reload.
document.addEventListener('click', (event) => {
  const link = event.target.closest('a[href^="/"]');
  if (!link || event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  history.pushState({}, '', link.getAttribute('href'));
  route();
});
addEventListener('popstate', route);
route();
