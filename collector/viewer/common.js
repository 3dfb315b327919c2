// What every page of the viewer shares: building elements from API text (as text, never as
// markup), calling the query API with the engineer's read token, and formatting.

export const TOKEN_KEY = 'sightline.readToken';

// Text from the API goes into the page as text, never as markup.
export function el(tag, attributes = {}, ...children) {
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

// A share link's token, when the viewer was opened from one: it reads that session only.
let shared = null;

export function useShareLink(shareToken) {
  shared = shareToken;
}

export function sharedLink() {
  return shared !== null && shared !== undefined;
}

export function token() {
  return shared || localStorage.getItem(TOKEN_KEY);
}

// The read token was refused: the engineer signs in again.
export class SignedOut extends Error {}

// An answer of the API that is not a success, with its status.
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// An exported file carries its session: what the API would answer is in the file, and nothing
// is fetched.
let embedded = null;

export function useEmbedded(data) {
  embedded = data;
}

export function exported() {
  return embedded !== null;
}

function bytesOf(base64) {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

// The replay core's wasm, when the file carries it.
export function embeddedWasm() {
  return embedded && embedded.wasm ? bytesOf(embedded.wasm) : null;
}

function embeddedAnswer(path) {
  const url = new URL(path, 'https://export.invalid');
  const json = (body, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const missing = () => json({ error: 'not_found', message: 'not in this file' }, 404);
  const trace = url.pathname.match(/^\/api\/traces\/([0-9a-f]{32})$/);
  if (trace) return embedded.traces[trace[1]] ? json(embedded.traces[trace[1]]) : missing();
  if (/^\/api\/sessions\/[0-9a-f]{32}$/.test(url.pathname)) return json(embedded.session);
  if (url.pathname.endsWith('/events')) return new Response(url.searchParams.has('after') ? new Uint8Array(0) : bytesOf(embedded.events));
  if (url.pathname.endsWith('/digest')) return new Response(embedded.digest, { headers: { 'content-type': 'text/markdown' } });
  return missing();
}

export async function fetchApi(path, init = {}) {
  if (embedded) return embeddedAnswer(path);
  const response = await fetch(path, { ...init, headers: { ...init.headers, authorization: `Bearer ${token()}` } });
  if (response.status === 401) throw new SignedOut();
  return response;
}

// Changes something through the API (`method` POST or DELETE, `body` sent as JSON); the answer's
// JSON, or an ApiError with the collector's reason.
export async function send(method, path, body) {
  const init = { method };
  if (body) {
    init.body = JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  const response = await fetchApi(path, init);
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, answer.message || `${response.status}`);
  return answer;
}

export async function api(path) {
  const response = await fetchApi(path);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, body.message || `${response.status}`);
  return body;
}

// --- formatting --------------------------------------------------------------------------------

export function when(ms) {
  return ms ? new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' }) : '–';
}

export function duration(ms) {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function device(d) {
  const browser = [d.browser, d.browser_version && d.browser_version.split('.')[0]].filter(Boolean).join(' ');
  const os = [d.os, d.os_version].filter(Boolean).join(' ');
  return [browser, os, d.kind && d.kind !== 'unknown' ? d.kind : ''].filter(Boolean).join(' · ') || '–';
}

export function traitsSummary(traits) {
  if (!traits || typeof traits !== 'object') return '';
  return Object.entries(traits)
    .filter(([key]) => key !== 'email')
    .slice(0, 3)
    .map(([key, value]) => `${key}: ${typeof value === 'object' ? JSON.stringify(value) : value}`)
    .join(', ');
}

// Where the user was: the city and country when known, else their language and time zone.
export function place(geo, d) {
  const located = [geo.city, geo.country].filter(Boolean).join(', ');
  return located || [d.language, d.timezone].filter(Boolean).join(' · ') || '–';
}

// Minutes and seconds into the session.
export function clock(ms) {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

// The time on the user's clock, in their time zone when it is known and valid.
export function wallClock(ms, timezone) {
  const options = { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false };
  try {
    return new Date(ms).toLocaleTimeString(undefined, timezone ? { ...options, timeZone: timezone } : options);
  } catch (_) {
    return new Date(ms).toLocaleTimeString(undefined, options);
  }
}

// A session still sending: its last batch arrived within the last minute.
export function isLive(session, now = Date.now()) {
  return now - (session.last_seen || 0) < 60_000;
}
