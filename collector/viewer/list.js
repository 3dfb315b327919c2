// The session list: which session is the customer's? Filters go into the URL, so a search can
// be shared; the columns say who, on what, where, for how long, through which routes, and what
// went wrong first; sessions still sending are marked live.

import { api, device, duration, el, isLive, place, traitsSummary, when } from '/viewer/common.js';

const FILTERS = [
  ['user', 'User id or email', 'text'],
  ['q', 'Traits contain', 'text'],
  ['url', 'URL visited contains', 'text'],
  ['trace', 'Trace id', 'text'],
  ['from', 'From', 'datetime-local'],
  ['to', 'To', 'datetime-local'],
];
const CHECKS = [
  ['has_errors', 'With errors'],
  ['has_failed_requests', 'With failed requests'],
  ['has_rage_clicks', 'Rage clicks'],
  ['has_dead_clicks', 'Dead clicks'],
  ['has_error_clicks', 'Error clicks'],
  ['has_feedback', 'User reports'],
];

// The columns, and for those that sort, the value they sort by.
const COLUMNS = [
  ['started', 'Started', (s) => s.start || s.first_seen],
  ['user', 'User'],
  ['device', 'Device'],
  ['where', 'Where'],
  ['duration', 'Duration', (s) => s.duration_ms],
  ['routes', 'Routes', (s) => s.urls.length],
  ['problem', 'First problem'],
  ['errors', 'Errors', (s) => s.error_count],
  ['failed', 'Failed requests', (s) => s.failed_request_count],
  ['frustration', 'Frustration', (s) => frustrationTotal(s.signals || {})],
];

// Goes to the list with these parameters, as a link would.
function go(params, navigate) {
  history.pushState({}, '', `/${params.toString() ? `?${params}` : ''}`);
  navigate();
}

function filterForm(params, navigate) {
  const fields = FILTERS.map(([name, label, type]) => {
    let value = params.get(name) || '';
    if (type === 'datetime-local' && value) value = new Date(Number(value) - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 16);
    return el('label', {}, el('span', { text: label }), el('input', { name, type, value }));
  });
  const checks = CHECKS.map(([name, label]) => el('label', { class: 'check' }, el('input', { name, type: 'checkbox', checked: params.get(name) === 'true' }), label));
  const form = el('form', { id: 'filters', class: 'filters' }, fields, checks, el('button', { class: 'primary', type: 'submit', text: 'Find' }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [name, , type] of FILTERS) {
      const value = form.elements[name].value.trim();
      if (!value) continue;
      next.set(name, type === 'datetime-local' ? String(new Date(value).getTime()) : value);
    }
    for (const [name] of CHECKS) if (form.elements[name].checked) next.set(name, 'true');
    if (params.get('sort')) next.set('sort', params.get('sort'));
    go(next, navigate);
  });
  return form;
}

function frustrationTotal(signals) {
  return (signals.rage_clicks || 0) + (signals.dead_clicks || 0) + (signals.error_clicks || 0);
}

// Rage, dead and error clicks, as one count with the breakdown on hover.
function frustration(signals) {
  const parts = [
    [signals.rage_clicks, 'rage'],
    [signals.dead_clicks, 'dead'],
    [signals.error_clicks, 'error'],
  ].filter(([n]) => n > 0);
  const total = frustrationTotal(signals);
  return el('td', { class: `number${total ? ' bad' : ''}`, title: parts.map(([n, kind]) => `${n} ${kind} click${n > 1 ? 's' : ''}`).join(', '), text: total });
}

// A cell whose value filters the list: the user's email or id, a count of problems.
function filterLink(params, name, value, text, attributes = {}) {
  const next = new URLSearchParams(params);
  next.delete('cursor');
  next.set(name, value);
  return el('a', { href: `/?${next}`, title: `Only sessions with ${name === 'user' ? 'this user' : 'these'}`, ...attributes, text });
}

function sessionRow(session, moment, params) {
  const link = `/sessions/${session.id}${moment ? `?t=${moment}` : ''}`;
  const user = session.user_id || session.email || 'anonymous';
  const who = session.user_id || session.email ? filterLink(params, 'user', session.email || session.user_id, user, { class: 'user' }) : el('span', { class: 'user', text: user });
  // The digest's headline once the session is analysed; until then its first problem.
  const problem = session.headline || (session.first_problem && session.first_problem.text);
  const count = (n, filter) => (n ? filterLink(params, filter, 'true', String(n)) : '0');
  return el(
    'tr',
    { 'data-session': session.id },
    el('td', {}, el('a', { href: link, text: when(session.start || session.first_seen) }), isLive(session) ? el('span', { class: 'live', text: 'live' }) : null),
    el(
      'td',
      {},
      who,
      session.email && session.user_id ? el('div', { class: 'email', text: session.email }) : null,
      el('div', { class: 'muted', text: traitsSummary(session.traits) }),
    ),
    el('td', { text: device(session.device) }),
    el('td', { text: place(session.geo, session.device) }),
    el('td', { class: 'number', text: duration(session.duration_ms) }),
    el('td', { class: 'number', title: session.urls.join('\n'), text: session.urls.length }),
    el('td', { class: problem ? 'problem-line' : 'muted', title: problem || '', text: problem || '–' }),
    el('td', { class: `number${session.error_count ? ' bad' : ''}` }, count(session.error_count, 'has_errors')),
    el('td', { class: `number${session.failed_request_count ? ' bad' : ''}` }, count(session.failed_request_count, 'has_failed_requests')),
    frustration(session.signals || {}),
  );
}

// The header: columns that sort are buttons; a second click reverses the order.
function header(params, navigate) {
  const sort = params.get('sort') || '';
  return el(
    'tr',
    {},
    COLUMNS.map(([key, title, by]) => {
      if (!by) return el('th', { text: title });
      const current = sort === key || sort === `-${key}`;
      const next = new URLSearchParams(params);
      next.set('sort', sort === `-${key}` ? key : `-${key}`);
      const button = el('button', { class: 'sort', 'data-sort': key, text: `${title}${current ? (sort.startsWith('-') ? ' ↓' : ' ↑') : ''}` });
      button.addEventListener('click', () => go(next, navigate));
      return el('th', { 'aria-sort': current ? (sort.startsWith('-') ? 'descending' : 'ascending') : null }, button);
    }),
  );
}

// Shows the list for the URL's filters; `navigate` shows what the URL now says, `failed` what
// went wrong.
// Filters under the column headers, for what the columns show: the user, the routes, the
// problems and the frustration; each change applies at once.
function columnFilters(params, navigate) {
  const apply = (changes) => {
    const next = new URLSearchParams(params);
    next.delete('cursor');
    for (const [name, value] of Object.entries(changes)) {
      if (value) next.set(name, value);
      else next.delete(name);
    }
    go(next, navigate);
  };
  const text = (name, placeholder) => {
    const input = el('input', { type: 'search', name: `column-${name}`, placeholder, value: params.get(name) || '' });
    input.addEventListener('change', () => apply({ [name]: input.value.trim() }));
    return input;
  };
  const choice = (name, options) => {
    const select = el('select', { name: `column-${name}` }, options.map(([value, label]) => el('option', { value, text: label, selected: params.get(value) === 'true' })));
    select.addEventListener('change', () => apply(Object.fromEntries(options.filter(([v]) => v).map(([v]) => [v, v === select.value ? 'true' : '']))));
    return select;
  };
  const cells = {
    user: text('user', 'id or email'),
    routes: text('url', 'URL contains'),
    problem: choice('problem', [
      ['', 'any'],
      ['has_errors', 'JS errors'],
      ['has_failed_requests', 'failed requests'],
    ]),
    frustration: choice('frustration', [
      ['', 'any'],
      ['has_rage_clicks', 'rage clicks'],
      ['has_dead_clicks', 'dead clicks'],
      ['has_error_clicks', 'error clicks'],
    ]),
  };
  return el('tr', { class: 'column-filters' }, COLUMNS.map(([key]) => el('th', {}, cells[key] || null)));
}

export async function showList(view, navigate, failed) {
  const params = new URLSearchParams(location.search);
  const rows = el('tbody', { id: 'sessions' });
  const more = el('button', { id: 'more', hidden: true, text: 'More sessions' });
  const status = el('p', { class: 'muted', id: 'status', text: 'Loading…' });
  view.replaceChildren(
    el('div', { class: 'card' }, filterForm(params, navigate)),
    el('div', { class: 'card' }, el('table', { class: 'sessions' }, el('thead', {}, header(params, navigate), columnFilters(params, navigate)), rows), status, more),
  );
  const sort = params.get('sort') || '';
  const column = COLUMNS.find(([key]) => sort.replace(/^-/, '') === key);
  const sessions = [];
  const moments = new Map();
  const show = () => {
    const shown = column ? [...sessions].sort((a, b) => (column[2](a) - column[2](b)) * (sort.startsWith('-') ? -1 : 1)) : sessions;
    rows.replaceChildren(...shown.map((s) => sessionRow(s, moments.get(s.id), params)));
    status.textContent = sessions.length === 0 ? 'No sessions match. Widen the time range, or check the user id or email.' : '';
  };
  let cursor = null;
  const load = async () => {
    const query = new URLSearchParams(params);
    query.delete('sort');
    query.set('limit', '50');
    if (cursor) query.set('cursor', cursor);
    const page = await api(`/api/sessions?${query}`);
    for (const m of page.moments || []) moments.set(m.session, m.time);
    sessions.push(...page.sessions);
    cursor = page.next_cursor || null;
    more.hidden = cursor === null;
    show();
  };
  more.addEventListener('click', () => load().catch(failed));
  await load();
}
