// The side of the workspace: the facts of the session in tabs (Activity, Network, Console and
// errors, Context), each list scrolling on its own, searchable, following the playhead. A click
// on a fact seeks the replay there and opens its details, which never moves the replay: only
// the list scrolls. A request opens as a table of its parts, its bodies pretty-printed and
// folded, with the backend's spans and log lines of its trace.

import { api, clock, el } from '/viewer/common.js';

export const TABS = [
  ['activity', 'Activity'],
  ['network', 'Network'],
  ['console', 'Console'],
  ['context', 'Context'],
];

// Scrolls `list` so that `item` is in view, and nothing else: scrollIntoView would scroll
// every box around it, the page included.
export function reveal(list, item, center = false) {
  const top = item.offsetTop;
  const bottom = top + item.offsetHeight;
  if (center) list.scrollTop = top - list.clientHeight / 2;
  else if (top < list.scrollTop) list.scrollTop = top;
  else if (bottom > list.scrollTop + list.clientHeight) list.scrollTop = bottom - list.clientHeight;
}

// A shell command that sends the request again as recorded: redacted values stay redacted.
export function curl(parts) {
  const quote = (text) => `'${String(text).replace(/'/g, "'\\''")}'`;
  // Everything recorded is quoted, and the URL is given as `--url`: a recording is the page's
  // (anyone's) to write, and can't add a command or an option.
  const args = ['curl', '-X', quote(parts.method), '--url', quote(parts.url)];
  for (const [name, value] of (parts.sent && parts.sent.headers) || []) args.push('-H', quote(`${name}: ${value}`));
  if (parts.sent && parts.sent.body) args.push('--data-raw', quote(parts.sent.body));
  return args.join(' ');
}

// A body as readable text: JSON indented, anything else as it is.
function pretty(text) {
  try {
    return [JSON.stringify(JSON.parse(text), null, 2), true];
  } catch (_) {
    return [text, false];
  }
}

function headersTable(headers) {
  if (!headers.length) return el('p', { class: 'muted', text: 'No headers recorded.' });
  return el('table', { class: 'headers' }, headers.map(([name, value]) => el('tr', {}, el('th', { text: name }), el('td', { text: value }))));
}

function bodyBlock(side, message) {
  if (message.body === null || message.body === undefined) {
    return el('p', { class: 'muted', text: message.size ? `${side} body: ${message.size} bytes, not recorded as text.` : `No ${side.toLowerCase()} body.` });
  }
  const [text, json] = pretty(message.body);
  const about = [`${message.size} bytes`, json ? 'JSON' : '', message.truncated ? 'cut at the recorder’s limit' : ''].filter(Boolean).join(', ');
  return el('details', { class: 'body' }, el('summary', { text: `${side} body (${about})` }), el('pre', { text }));
}

// What a request sent and received, laid out.
function requestDetail(fact) {
  const parts = fact.request;
  const status = parts.status ? String(parts.status) : parts.error || 'no response';
  const copy = el('button', { class: 'copy-curl', text: 'Copy as curl' });
  copy.addEventListener('click', (event) => {
    event.stopPropagation();
    const command = curl(parts);
    navigator.clipboard.writeText(command).then(
      () => (copy.textContent = 'Copied'),
      () => (copy.textContent = command),
    );
  });
  const rows = [
    ['URL', parts.url],
    ['Method', parts.method],
    ['Status', status],
    ['Duration', `${parts.duration} ms`],
    ['Trace', fact.trace || ''],
  ].filter(([, value]) => value);
  return el(
    'div',
    { class: 'request-detail', hidden: true },
    el('table', { class: 'headers summary-table' }, rows.map(([name, value]) => el('tr', {}, el('th', { text: name }), el('td', { text: value })))),
    copy,
    parts.sent ? [el('h4', { text: 'Request headers' }), headersTable(parts.sent.headers), bodyBlock('Request', parts.sent)] : el('p', { class: 'muted', text: 'Headers and bodies are recorded for the URLs the page allows.' }),
    parts.received ? [el('h4', { text: 'Response headers' }), headersTable(parts.received.headers), bodyBlock('Response', parts.received)] : null,
  );
}

function severity(number) {
  if (number >= 17) return 'sev-error';
  if (number >= 13) return 'sev-warn';
  if (number >= 9) return 'sev-info';
  return 'sev-debug';
}

// What the backend reported for a request's trace: its spans and log lines, at their moments.
export function backendRecords(trace, start, format) {
  if (trace.spans.length === 0 && trace.logs.length === 0) {
    return [el('p', { class: 'muted', text: 'The backend sent nothing for this trace (yet).' })];
  }
  const attributes = (pairs) => pairs.map(([k, v]) => `${k}=${v}`).join(' ');
  const spans = trace.spans.map((s) =>
    el(
      'li',
      { class: `span ${s.status === 'error' ? 'sev-error problem' : 'sev-ok'}` },
      el('span', { class: 'at', text: format(s.start - start) }),
      el('span', { class: 'summary', text: `${s.service} · ${s.kind} ${s.name} · ${Math.round(s.duration_ms)} ms · ${s.status}${s.status_message ? `: ${s.status_message}` : ''}` }),
      s.attributes.length ? el('code', { text: attributes(s.attributes) }) : null,
    ),
  );
  const logs = trace.logs.map((l) =>
    el(
      'li',
      { class: `log ${severity(l.severity_number)}${l.severity_number >= 17 ? ' problem' : ''}` },
      el('span', { class: 'at', text: format(l.time - start) }),
      el('span', { class: 'severity', text: l.severity }),
      el('span', { class: 'summary', text: `${l.service} · ${l.message}` }),
      l.attributes.length ? el('code', { text: attributes(l.attributes) }) : null,
    ),
  );
  return [el('h4', { text: `Backend, trace ${trace.trace}` }), el('ol', { class: 'backend-records' }, spans, logs)];
}

export class SidePanels {
  // `side` is the aside to fill; `layout` keeps the engineer's choices; `seek(fact)` moves the
  // replay to a fact.
  constructor(side, layout, seek) {
    this.layout = layout;
    this.seek = seek;
    this.entries = [];
    this.lists = new Map();
    this.tabs = new Map();
    this.format = (ms) => clock(ms);
    // The backend's records of each trace, once loaded: a live session's panels are filled
    // again with every batch.
    this.traces = new Map();
    this.start = 0;
    const bar = el('div', { class: 'tabs', role: 'tablist' });
    for (const [panel, title] of TABS) {
      const tab = el('button', { id: `tab-${panel}`, role: 'tab', 'data-panel': panel, text: title });
      tab.addEventListener('click', () => this.show(panel));
      this.tabs.set(panel, tab);
      bar.append(tab);
    }
    this.widen = el('button', { id: 'widen', class: 'quiet', title: 'Widen the panels (or drag their edge)', text: '⇔' });
    bar.append(el('span', { class: 'spacer' }), this.widen);
    this.search = el('input', { id: 'panel-search', type: 'search', placeholder: 'Search this panel (bodies and stacks too)' });
    this.search.addEventListener('input', () => this.filter());
    this.boxes = el('div', { class: 'panel-boxes' });
    for (const [panel] of TABS) {
      const box = panel === 'context' ? el('section', { class: 'panel', id: 'context' }) : el('ol', { class: 'facts-list panel', id: `panel-${panel}` }, el('li', { class: 'muted', text: 'Loading…' }));
      this.lists.set(panel, box);
      this.boxes.append(box);
    }
    side.replaceChildren(bar, this.search, this.boxes);
    this.show(layout.get('tab') || 'network');
  }

  // The panel `panel` in front.
  show(panel) {
    if (!this.lists.has(panel)) panel = 'network';
    for (const [name, box] of this.lists) {
      box.hidden = name !== panel;
      this.tabs.get(name).setAttribute('aria-selected', String(name === panel));
    }
    this.active = panel;
    this.layout.set('tab', panel);
    this.search.hidden = panel === 'context';
    this.filter();
  }

  context(...children) {
    this.lists.get('context').replaceChildren(...children);
  }

  // Entries of the active panel that hold the search text, the others hidden.
  filter() {
    const query = this.search.value.trim().toLowerCase();
    const list = this.lists.get(this.active);
    for (const item of list.children) {
      if (item.dataset.search !== undefined) item.hidden = query !== '' && !item.dataset.search.includes(query);
    }
  }

  // The facts, each in its panel; the replay starts at `start`.
  // A live session's facts come again with each batch: what the engineer had open stays open,
  // and each list stays where it was scrolled.
  fill(facts, start) {
    const key = (fact) => `${fact.time} ${fact.panel} ${fact.summary}`;
    const open = new Set(this.entries.filter(([, item]) => item.classList.contains('open')).map(([fact]) => key(fact)));
    const scrolled = new Map([...this.lists].map(([panel, list]) => [panel, list.scrollTop]));
    this.start = start;
    this.entries = [];
    for (const [panel, list] of this.lists) {
      if (panel === 'context') continue;
      const items = facts.filter((f) => f.panel === panel).map((fact) => this.item(fact));
      list.replaceChildren(...(items.length ? items : [el('li', { class: 'muted', text: 'Nothing recorded here.' })]));
      const [, title] = TABS.find(([name]) => name === panel);
      this.tabs.get(panel).textContent = `${title} (${items.length})`;
    }
    for (const [fact, item] of this.entries) if (open.has(key(fact))) item.toggleDetail(false);
    for (const [panel, list] of this.lists) list.scrollTop = scrolled.get(panel) || 0;
    this.filter();
  }

  item(fact) {
    const at = el('span', { class: 'at', text: this.format(fact.time - this.start) });
    const detail = fact.request
      ? requestDetail(fact)
      : fact.detail || fact.trace
        ? el('pre', { class: 'detail', hidden: true, text: [fact.trace ? `trace ${fact.trace}` : '', fact.detail].filter(Boolean).join('\n') })
        : null;
    const item = el('li', { class: fact.problem ? 'problem' : '' }, at, el('span', { class: 'summary', text: fact.summary }), detail);
    const bodies = fact.request ? [fact.request.sent, fact.request.received].filter(Boolean).map((m) => m.body || '').join(' ') : '';
    item.dataset.search = `${fact.summary} ${fact.detail || ''} ${fact.trace || ''} ${bodies}`.toLowerCase();
    let backend = null;
    // Opens or closes the fact's details, and the backend's records of its trace.
    item.toggleDetail = (reveals = true) => {
      if (detail) detail.hidden = !detail.hidden;
      item.classList.toggle('open', detail ? !detail.hidden : backend === null || backend.hidden);
      if (fact.trace && backend === null) {
        backend = el('div', { class: 'backend', text: 'Loading the backend records of this trace…' });
        item.append(backend);
        if (!this.traces.has(fact.trace)) this.traces.set(fact.trace, api(`/api/traces/${fact.trace}`));
        this.traces.get(fact.trace).then(
          (trace) => {
            // Nothing yet may be something later: the backend sends on its own schedule.
            if (trace.spans.length === 0 && trace.logs.length === 0) this.traces.delete(fact.trace);
            backend.replaceChildren(...backendRecords(trace, this.start, this.format));
            if (reveals) reveal(item.parentNode, item);
          },
          (error) => {
            this.traces.delete(fact.trace);
            backend.textContent = `Backend records not loaded: ${error.message}`;
          },
        );
      } else if (backend !== null) {
        backend.hidden = detail ? detail.hidden : !backend.hidden;
      }
    };
    item.addEventListener('click', (event) => {
      // Inside the details (a body to fold, text to select), a click is not a seek.
      if (event.target.closest('.request-detail, .backend, pre.detail')) return;
      this.seek(fact);
      item.toggleDetail();
    });
    this.entries.push([fact, item, at]);
    return item;
  }

  // What has happened by `at` is marked; while playing, each list keeps its latest in view.
  mark(at, playing) {
    const latest = new Map();
    for (const [fact, item] of this.entries) {
      item.classList.toggle('past', fact.time <= at);
      if (fact.time <= at) latest.set(item.parentNode, item);
    }
    if (!playing) return;
    for (const [list, item] of latest) if (!list.hidden) reveal(list, item);
  }

  // The fact's panel in front, with the fact in view and marked.
  point(fact) {
    const entry = this.entries.find(([f]) => f === fact);
    if (!entry) return;
    this.show(fact.panel);
    const [, item] = entry;
    for (const [, other] of this.entries) other.classList.remove('pointed');
    item.classList.add('pointed');
    reveal(item.parentNode, item, true);
  }

  // Times shown as `format` says (session time, or the user's clock).
  relabel(format) {
    this.format = format;
    for (const [fact, , at] of this.entries) at.textContent = format(fact.time - this.start);
  }
}
