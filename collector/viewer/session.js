// One session as a workspace that fits the screen: the replay with its timeline and controls
// on one side, always in view, the facts and the context in tabs on the other, each scrolling
// on its own. The engineer's choices (the panels' width, the tab in front, session time or the
// user's clock) are kept in this browser. The keyboard drives the replay (`?` lists the keys).

import { ApiError, api, clock, device, duration, el, embeddedWasm, exported, fetchApi, isLive, place, sharedLink, token, wallClock, when } from '/viewer/common.js';
import { ReplayFrame } from '/viewer/frame.js';
import { SidePanels } from '/viewer/panels.js';

const LAYOUT_KEY = 'sightline.layout';
const SIDE_MIN = 300;
const PLAYER_MIN = 360;

// The engineer's layout choices, kept in this browser.
class Layout {
  constructor() {
    try {
      this.values = JSON.parse(localStorage.getItem(LAYOUT_KEY) || '{}') || {};
    } catch (_) {
      this.values = {};
    }
  }

  get(name) {
    return this.values[name];
  }

  set(name, value) {
    this.values[name] = value;
    localStorage.setItem(LAYOUT_KEY, JSON.stringify(this.values));
  }
}

const KEYS = [
  ['Space', 'Play or pause'],
  ['← →', 'The previous or next event'],
  ['[ ]', 'The previous or next problem'],
  ['?', 'This list'],
];

let player = null;

// The replay core (Rust compiled to wasm), loaded once.
async function loadPlayer() {
  if (player === null) {
    player = import('/viewer/player.js').then(async (module) => {
      await module.default({ module_or_path: embeddedWasm() || '/viewer/player_bg.wasm' });
      return module;
    });
  }
  return player;
}

// A message where the replay or the page would be, saying what happened and what to do.
function notice(title, text, ...more) {
  return el('div', { class: 'notice' }, el('h2', { text: title }), el('p', { text }), ...more);
}

function gone() {
  return notice(
    'This session is gone',
    'It was deleted, or it is older than the project keeps sessions. Its link no longer leads anywhere.',
    el('a', { href: '/', text: 'Back to the sessions' }),
  );
}

// The panels' width, and dragging their edge to change it.
function resizable(workspace, splitter, widen, layout, signal) {
  const apply = () => {
    const total = workspace.clientWidth;
    const wanted = layout.get('wide') ? total * 0.6 : layout.get('side') || Math.min(520, total * 0.38);
    const side = Math.max(SIDE_MIN, Math.min(wanted, total - PLAYER_MIN));
    workspace.style.setProperty('--side', `${Math.round(side)}px`);
  };
  apply();
  splitter.addEventListener('pointerdown', (event) => {
    splitter.setPointerCapture(event.pointerId);
    const move = (e) => {
      const right = workspace.getBoundingClientRect().right;
      layout.set('wide', false);
      layout.set('side', Math.round(right - e.clientX));
      apply();
    };
    splitter.addEventListener('pointermove', move);
    splitter.addEventListener('pointerup', () => splitter.removeEventListener('pointermove', move), { once: true });
  });
  widen.addEventListener('click', () => {
    layout.set('wide', !layout.get('wide'));
    apply();
  });
  addEventListener('resize', apply, { signal });
}

export async function showSession(view, id, signal) {
  let session;
  try {
    session = await api(`/api/sessions/${encodeURIComponent(id)}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      view.replaceChildren(el('div', { class: 'card' }, gone()));
      return;
    }
    throw error;
  }
  const layout = new Layout();
  const d = session.device;
  const who = session.user_id || session.email || 'Anonymous session';
  const actions = el('span', { class: 'actions' });
  // Support asks for this user's next pages in full (see grants.js), with or without a replay.
  const user = session.user_id || session.email;
  const record = exported() || sharedLink() || !user ? null : el('a', { id: 'grant', class: 'button', href: `/grants?user=${encodeURIComponent(user)}`, title: "Record this user's next pages fully, with request bodies", text: 'Record fully' });
  const bar = el(
    'div',
    { class: 'session-bar' },
    el('h1', { text: who }),
    isLive(session) ? el('span', { class: 'live', text: 'live' }) : null,
    el('span', { class: 'muted', text: [session.email && session.user_id ? session.email : '', device(d), place(session.geo, d), when(session.start)].filter(Boolean).join(' · ') }),
    el('span', { class: 'spacer' }),
    actions,
    record,
  );
  const column = el('section', { id: 'replay', class: 'player-column' }, bar, el('p', { class: 'muted', text: 'Loading the replay…' }));
  const side = el('aside', { id: 'side', class: 'side' });
  const splitter = el('div', { id: 'splitter', class: 'splitter', role: 'separator', 'aria-orientation': 'vertical', title: 'Drag to resize the panels' });
  const workspace = el('div', { id: 'workspace', class: 'workspace' }, column, splitter, side);
  view.replaceChildren(workspace);
  let seek = () => {};
  const panels = new SidePanels(side, layout, (fact) => seek(fact));
  resizable(workspace, splitter, panels.widen, layout, signal);
  const traits = session.traits && Object.keys(session.traits).length ? JSON.stringify(session.traits, null, 2) : '';
  panels.context(
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
      ['Session', session.id],
    ]),
    traits ? el('h3', { text: 'Traits' }) : null,
    traits ? el('pre', { class: 'traits', text: traits }) : null,
    el('h3', { text: 'Pages visited' }),
    el('ol', { class: 'urls' }, session.urls.map((url) => el('li', { text: url }))),
  );
  const replay = await showReplay(id, session, column, actions, panels, layout, signal);
  if (replay) seek = replay;
}

function facts(pairs) {
  return el(
    'dl',
    { class: 'facts' },
    pairs.filter(([, value]) => value !== '' && value !== null && value !== undefined).map(([name, value, id]) => [el('dt', { text: name }), el('dd', { text: value, id })]),
  );
}

// Whether the batch `page`.`seq` comes after `last` (`page.seq`, or empty for none).
function after(last, page, seq) {
  if (!last) return true;
  const [lastPage, lastSeq] = last.split('.').map(Number);
  return page > lastPage || (page === lastPage && seq > lastSeq);
}

// Whether a key press is for a field the engineer is typing into rather than for the replay.
function typing(target) {
  if (!(target instanceof Element)) return false;
  if (target.matches('textarea, select, [contenteditable]')) return true;
  return target.matches('input') && !target.matches('[type=range], [type=checkbox]');
}

// The replay in `column`; answers the function that seeks it to a fact, or nothing when there
// is nothing to replay (a message says why).
async function showReplay(id, session, column, actions, panels, layout, signal) {
  const bar = column.firstChild;
  let module;
  try {
    module = await loadPlayer();
  } catch (_) {
    column.replaceChildren(bar, notice('No replay in this build', 'This collector was built without the replay core. Build it with `cargo xtask build-player`, then build the collector again. The facts and the digest work without it.'));
    panels.fill([], 0);
    return null;
  }
  const response = await fetchApi(`/api/sessions/${encodeURIComponent(id)}/events`);
  if (response.status === 404) {
    column.replaceChildren(bar, gone());
    panels.fill([], 0);
    return null;
  }
  if (!response.ok) throw new Error(`the session's events: ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const replay = new module.Player(bytes);
  const start = replay.start();
  let length = Math.max(0, replay.end() - start);
  if (bytes.length === 0 || !replay.hasPage()) {
    column.replaceChildren(bar, notice('Nothing to replay yet', 'The page has not sent its first snapshot. Sessions show as soon as a page starts sending; the replay follows within seconds. Reload this page in a moment.'));
    // What was recorded besides the page (requests, console) is there already.
    panels.fill(bytes.length ? JSON.parse(replay.facts()) : [], start);
    return null;
  }
  // The frame has the user's viewport size, scaled to fit; the cursor is drawn over it.
  const cursor = el('div', { id: 'cursor', hidden: true });
  // The field that had the focus, ringed; the mouse's path over the last second.
  const focusRing = el('div', { id: 'focus-ring', hidden: true });
  const trail = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  trail.id = 'trail';
  const trailLine = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  trail.append(trailLine);
  const stage = el('div', { class: 'stage' }, focusRing, trail, cursor);
  const stageBox = el('div', { class: 'stage-box' }, stage);
  // The recorded page in a sandboxed frame: no scripts run in it, forms can't submit, links
  // can't navigate; the viewer builds and changes its page (same origin; see frame.js). It is
  // credentialless: what the recording loads (images, fonts, styles) goes out without the
  // engineer's cookies, and without a referrer.
  const replayFrame = new ReplayFrame(
    stage,
    () =>
      el('iframe', {
        sandbox: 'allow-same-origin',
        credentialless: true,
        referrerpolicy: 'no-referrer',
        title: 'The session as the user saw it',
      }),
    { write: exported() },
  );
  const slider = el('input', { id: 'timeline', type: 'range', min: 0, max: length, step: 10, value: 0, 'aria-label': 'Timeline' });
  const time = el('span', { id: 'time', class: 'muted' });
  const timeMode = el('button', { id: 'time-mode', class: 'quiet', title: 'Session time, or the time on the user’s clock' });
  const play = el('button', { id: 'play', class: 'primary', text: 'Play' });
  const speed = el('select', { id: 'speed', 'aria-label': 'Speed' }, [1, 2, 4, 8].map((s) => el('option', { value: s, text: `${s}×` })));
  const skip = el('input', { id: 'skip-idle', type: 'checkbox', checked: true });
  const keysButton = el('button', { id: 'keys-button', class: 'quiet', title: 'Keyboard shortcuts', text: '?' });
  const copy = el('button', { id: 'copy-link', text: 'Copy link to this moment' });
  const digest = el('button', { id: 'copy-digest', text: 'Copy digest' });
  // A link for someone without the project's read token: this session only, for a week.
  const share = sharedLink() || exported() ? null : el('button', { id: 'share', title: 'A link that opens this session only, read-only, for 7 days', text: 'Share' });
  // The session as one HTML file, for a ticket: it opens offline, from disk.
  const exportButton = exported() || sharedLink() ? null : el('button', { id: 'export', title: 'One HTML file with the replay, the facts and the backend records; it opens offline', text: 'Export' });
  // A Playwright script doing what the user did.
  const repro = exported() || sharedLink() ? null : el('button', { id: 'repro', title: 'A Playwright script that does what the user did and checks what went wrong', text: 'Repro' });
  actions.replaceChildren(exported() ? '' : copy, digest, share || '', exportButton || '', repro || '');
  const download = async (button, path, name) => {
    try {
      const answer = await fetchApi(path);
      if (!answer.ok) throw new Error(answer.status);
      const link = el('a', { href: URL.createObjectURL(await answer.blob()), download: name });
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
      button.textContent = 'Saved';
    } catch (error) {
      button.textContent = `Not saved: ${error.message}`;
    }
  };
  if (repro) repro.addEventListener('click', () => download(repro, `/api/sessions/${encodeURIComponent(id)}/repro`, `repro-${id}.js`));
  if (exportButton) exportButton.addEventListener('click', () => download(exportButton, `/api/sessions/${encodeURIComponent(id)}/export`, `sightline-${id}.html`));
  if (share) {
    share.addEventListener('click', async () => {
      try {
        const answer = await fetch(`/api/sessions/${encodeURIComponent(id)}/share`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json' },
          body: JSON.stringify({ days: 7 }),
        });
        const made = await answer.json();
        if (!answer.ok) throw new Error(made.message || answer.status);
        share.dataset.url = made.url;
        await navigator.clipboard.writeText(made.url).then(
          () => (share.textContent = 'Share link copied (7 days)'),
          () => (share.textContent = made.url),
        );
      } catch (error) {
        share.textContent = `Not shared: ${error.message}`;
      }
    });
  }
  const help = el(
    'div',
    { id: 'keys', class: 'keys', hidden: true, role: 'dialog', 'aria-label': 'Keyboard shortcuts' },
    el('h3', { text: 'Keyboard' }),
    el('dl', {}, KEYS.map(([key, what]) => [el('dt', {}, el('kbd', { text: key })), el('dd', { text: what })])),
  );
  let timer = null;
  let facts = [];
  let problems = [];
  // The facts of the replay as it is (a live session's grow): in the panels and on the
  // timeline.
  const markers = el('div', { class: 'markers', id: 'markers' });
  const readFacts = () => {
    // Frustration signals read as activity; failed requests are already network problems.
    const signals = JSON.parse(replay.signals()).filter((s) => s.kind !== 'failed_request');
    facts = JSON.parse(replay.facts())
      .concat(signals.map((s) => ({ time: s.time, panel: 'activity', kind: s.kind, summary: s.summary, detail: s.cause || '', problem: true, trace: null })))
      .sort((a, b) => a.time - b.time);
    problems = facts.filter((f) => f.problem);
    panels.fill(facts, start);
    // Markers on the timeline for clicks, navigations, errors, failed requests and signals.
    markers.replaceChildren();
    for (const fact of facts) {
      const marked = fact.problem || fact.kind === 'click' || fact.kind === 'navigation';
      if (!marked || length === 0) continue;
      const marker = el('button', {
        class: `marker ${fact.problem ? 'problem' : fact.kind} ${fact.kind}`,
        title: fact.summary,
        style: `left: ${(((fact.time - start) / length) * 100).toFixed(2)}%`,
      });
      marker.addEventListener('click', () => {
        seekTo(fact.time);
        panels.point(fact);
      });
      markers.append(marker);
    }
  };
  // Support's notes at moments of the session, as markers of their own; the team's, so not in a
  // share link's view nor in an exported file.
  const notesLayer = el('div', { class: 'markers notes', id: 'notes' });
  const withNotes = !sharedLink() && !exported();
  const loadNotes = async () => {
    if (!withNotes || length === 0) return;
    const { notes } = await api(`/api/sessions/${encodeURIComponent(id)}/notes`);
    notesLayer.replaceChildren(
      ...notes.map((note) => {
        const marker = el('button', {
          class: 'marker note',
          title: `${note.author}: ${note.text}`,
          'aria-label': `Note by ${note.author}: ${note.text}`,
          style: `left: ${(((note.time - start) / length) * 100).toFixed(2)}%`,
        });
        marker.addEventListener('click', () => seekTo(note.time));
        return marker;
      }),
    );
  };
  const noteButton = withNotes ? el('button', { id: 'add-note', title: 'A note at this moment, for the team', text: 'Add note' }) : null;
  const noteForm = el('form', { id: 'note-form', class: 'note-form', hidden: true });
  const noteText = el('input', { name: 'text', type: 'text', maxlength: '2000', placeholder: 'What happens here?', 'aria-label': 'Note' });
  const noteError = el('span', { class: 'error' });
  noteForm.append(noteText, el('button', { type: 'submit', class: 'primary', text: 'Save note' }), noteError);
  if (noteButton) {
    noteButton.addEventListener('click', () => {
      noteForm.hidden = false;
      noteText.focus();
    });
    noteForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      const text = noteText.value.trim();
      if (!text) return;
      const answer = await fetchApi(`/api/sessions/${encodeURIComponent(id)}/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ time: Math.round(start + playhead), text }),
      });
      if (!answer.ok) {
        noteError.textContent = (await answer.json().catch(() => ({}))).message || `${answer.status}`;
        return;
      }
      noteText.value = '';
      noteError.textContent = '';
      noteForm.hidden = true;
      await loadNotes();
    });
  }
  const timezone = session.device.timezone;
  const label = (offset) => (layout.get('clock') === 'user' ? wallClock(start + offset, timezone) : clock(offset));

  // What is drawn on the frame's page and over it: hover where the pointer is, having come the
  // way it came (see hover.js), then the focus ring, since what hover opens can move the page.
  let drawnScale = 1;
  const drawOverFrame = (at, pointer, scale) => {
    drawnScale = scale;
    const went = replay.pathAt(at);
    const hoverPath = [];
    for (let i = 0; i + 1 < went.length; i += 2) hoverPath.push([went[i], went[i + 1]]);
    if (pointer.length) hoverPath.push([pointer[0], pointer[1]]);
    replayFrame.hoverAt(hoverPath);
    const box = replayFrame.focusBox();
    focusRing.hidden = box === null;
    if (box !== null) {
      focusRing.style.left = `${box.left * scale}px`;
      focusRing.style.top = `${box.top * scale}px`;
      focusRing.style.width = `${box.width * scale}px`;
      focusRing.style.height = `${box.height * scale}px`;
    }
  };

  let playhead = 0;
  const render = (offset) => {
    playhead = offset;
    const at = start + offset;
    slider.value = String(offset);
    time.textContent = layout.get('clock') === 'user' ? `${wallClock(at, timezone)}${timezone ? ` (${timezone})` : ''}` : `${clock(offset)} / ${clock(length)}`;
    panels.mark(at, timer !== null);
    const [url, title] = replay.pageAt(at);
    const current = document.getElementById('current-page');
    if (current) current.textContent = url ? `${title ? `${title} · ` : ''}${url}` : '–';
    for (const li of document.querySelectorAll('#context .urls li')) li.classList.toggle('current', li.textContent === url);
    // The user's viewport, scaled to fit the room there is, in both directions.
    const [width, height] = replay.viewportAt(at);
    const room = stageBox.getBoundingClientRect();
    const scale = width && height ? Math.min(1, room.width / width, room.height / height) : 1;
    if (width) {
      for (const frame of replayFrame.frames) {
        frame.style.width = `${width}px`;
        frame.style.height = `${height}px`;
        frame.style.transform = `scale(${scale})`;
      }
      stage.style.width = `${Math.floor(width * scale)}px`;
      stage.style.height = `${Math.floor(height * scale)}px`;
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
    drawOverFrame(at, pointer, scale);
    const points = replay.trailAt(at);
    const path = [];
    for (let i = 0; i + 1 < points.length; i += 2) path.push(`${points[i] * scale},${points[i + 1] * scale}`);
    trailLine.setAttribute('points', path.join(' '));
  };
  replayFrame.onShown = () => {
    const at = start + playhead;
    drawOverFrame(at, replay.pointerAt(at), drawnScale);
  };
  const seekTo = (time) => render(Math.min(Math.max(time - start, 0), length));
  const pause = () => {
    clearInterval(timer);
    timer = null;
    play.textContent = 'Play';
  };
  const toggle = () => {
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
  };
  play.addEventListener('click', toggle);
  slider.addEventListener('input', () => render(Number(slider.value)));
  const showTimeMode = () => (timeMode.textContent = layout.get('clock') === 'user' ? 'User’s clock' : 'Session time');
  showTimeMode();
  timeMode.addEventListener('click', () => {
    layout.set('clock', layout.get('clock') === 'user' ? 'session' : 'user');
    showTimeMode();
    panels.relabel(label);
    render(playhead);
  });
  copy.addEventListener('click', () => {
    const link = `${location.origin}${location.pathname}?t=${Math.round(start + Number(slider.value))}`;
    navigator.clipboard.writeText(link).then(
      () => (copy.textContent = 'Link copied'),
      () => (copy.textContent = link),
    );
  });
  // The digest (Markdown) for a ticket: who, where, and each problem with its backend records.
  digest.addEventListener('click', async () => {
    try {
      const answer = await fetchApi(`/api/sessions/${encodeURIComponent(id)}/digest?format=md`);
      if (!answer.ok) throw new Error(`digest: ${answer.status}`);
      await navigator.clipboard.writeText(await answer.text());
      digest.textContent = 'Digest copied';
    } catch (error) {
      digest.textContent = `Digest not copied: ${error.message}`;
    }
  });
  keysButton.addEventListener('click', () => (help.hidden = !help.hidden));
  // The keyboard: the replay's, unless the engineer is typing somewhere.
  const step = (list, forward) => {
    const at = start + playhead;
    const fact = forward ? list.find((f) => f.time > at) : [...list].reverse().find((f) => f.time < at);
    if (!fact) return;
    seekTo(fact.time);
    panels.point(fact);
  };
  document.addEventListener(
    'keydown',
    (event) => {
      if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
      const actions = {
        ' ': () => (event.target instanceof HTMLButtonElement ? null : toggle()),
        ArrowRight: () => step(facts, true),
        ArrowLeft: () => step(facts, false),
        ']': () => step(problems, true),
        '[': () => step(problems, false),
        '?': () => (help.hidden = !help.hidden),
        Escape: () => (help.hidden = true),
      };
      const action = actions[event.key];
      if (!action || (event.key === ' ' && event.target instanceof HTMLButtonElement)) return;
      event.preventDefault();
      action();
    },
    { signal },
  );
  signal.addEventListener('abort', pause);
  const controls = el(
    'div',
    { class: 'controls' },
    play,
    speed,
    el('label', { class: 'check' }, skip, 'Skip inactivity'),
    time,
    timeMode,
    el('span', { class: 'spacer' }),
    noteButton || '',
    keysButton,
  );
  column.replaceChildren(bar, stageBox, el('div', { class: 'timeline' }, markers, notesLayer, slider), controls, noteForm, help);
  panels.relabel(label);
  readFacts();
  loadNotes().catch(() => {});
  // The room for the replay changes with the window and the panels' width.
  const resized = new ResizeObserver(() => render(playhead));
  resized.observe(stageBox);
  signal.addEventListener('abort', () => resized.disconnect());
  const asked = Number(new URLSearchParams(location.search).get('t'));
  render(asked > 0 ? Math.min(Math.max(asked - start, 0), length) : 0);

  // A session still sending is followed: each batch, once stored, joins the replay, and the
  // playhead, when it was at the end, stays there.
  const liveButton = el('button', { id: 'go-live', class: 'live-button', hidden: true, title: 'Follow the session as it happens', text: '● Live' });
  liveButton.addEventListener('click', () => render(length));
  controls.insertBefore(liveButton, keysButton);
  let catching = null;
  let again = false;
  const catchUp = async () => {
    if (catching) {
      again = true;
      return catching;
    }
    catching = (async () => {
      do {
        again = false;
        const answer = await fetchApi(`/api/sessions/${encodeURIComponent(id)}/events?after=${replay.lastBatch()}`, { signal });
        if (!answer.ok) return;
        const more = new Uint8Array(await answer.arrayBuffer());
        if (more.length === 0) continue;
        if (!replay.append(more)) {
          // A batch came in out of order: the session is read again.
          location.reload();
          return;
        }
        const atEnd = playhead >= length - 1000;
        length = Math.max(0, replay.end() - start);
        slider.max = String(length);
        readFacts();
        render(atEnd ? length : playhead);
      } while (again);
    })().finally(() => (catching = null));
    return catching;
  };
  const follow = async () => {
    const answer = await fetchApi(`/api/sessions/${encodeURIComponent(id)}/live`, { signal });
    if (!answer.ok || !answer.body) return;
    liveButton.hidden = false;
    const reader = answer.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    // The latest batch announced: one announced after it that comes earlier in the session
    // is out of order.
    let announced = replay.lastBatch();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (\w+)/m.exec(message);
        // A batch stored after one that comes later in the session (a page's last, sent by the
        // next page): what was read no longer holds; the session is read again, at the moment
        // shown.
        const stored = event && event[1] === 'stored' ? /^data: \{"page":(\d+),"seq":(\d+)\}/m.exec(message) : null;
        if (stored) {
          const [page, seq] = [Number(stored[1]), Number(stored[2])];
          if (!after(announced, page, seq) && !after(replay.lastBatch(), page, seq)) {
            location.replace(`${location.pathname}?t=${Math.round(start + playhead)}`);
            return;
          }
          if (after(announced, page, seq)) announced = `${page}.${seq}`;
        }
        // Whatever came while the stream was opening is read on `ready`.
        if (event && ['stored', 'lagged', 'ready'].includes(event[1])) await catchUp();
      }
    }
    liveButton.hidden = true;
  };
  if (isLive(session)) follow().catch(() => (liveButton.hidden = true));
  return (fact) => seekTo(fact.time);
}
