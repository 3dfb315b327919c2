// Batches still undelivered when the page goes away (or may: a hidden tab can be discarded) are
// kept in localStorage and sent by the next page of the same origin, or by this one if it is
// shown again. Each keeps its session, page and sequence number inside it, so a batch that did
// get through after all is stored once.
//
// Stored form, one stash per project: a version line `3`, then one batch a line, oldest first,
// as the time it was first kept (ms since the epoch) and the batch in base64, joined by `:`. A
// stash holds at most 512 KB of batches, the newest, none older than 3 days: a recording left
// behind by a collector that stayed unreachable is not kept for ever.

const STORAGE_KEY = 'sightline.unsent.';
const MAX_BYTES = 512 * 1024;
const MAX_AGE_MS = 3 * 24 * 60 * 60 * 1000;

function toBase64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// The stored batches of project `key`'s stash, oldest first, each `[base64, kept at]`, without
// those kept longer than the limit; versions 1 and 2 wrote no time (version 1 wrote
// `page:seq:` before each batch), and their batches count as kept now.
function storedEntries(key) {
  const stored = localStorage.getItem(STORAGE_KEY + key);
  const lines = stored === null ? [] : stored.split('\n');
  const version = lines[0];
  if (version !== '1' && version !== '2' && version !== '3') return [];
  const now = Date.now();
  const entries = [];
  for (const line of lines.slice(1)) {
    const batch = line.slice(line.lastIndexOf(':') + 1);
    const at = version === '3' ? Number(line.slice(0, line.indexOf(':'))) : now;
    if (Number.isFinite(at) && now - at <= MAX_AGE_MS) entries.push([batch, at]);
  }
  return entries;
}

function storedLines(key) {
  return storedEntries(key).map(([batch]) => batch);
}

// Takes what pages of project `key` left undelivered, oldest first, and clears it; `own` are
// the lines this page kept itself (see `saveStash`), which are left out: each is still queued
// here, or was delivered since. Lines that don't read are skipped; without storage (privacy
// modes, sandboxed frames) there is nothing.
export function takeStash(key, own) {
  try {
    const lines = storedLines(key);
    localStorage.removeItem(STORAGE_KEY + key);
    const mine = new Set(own);
    const batches = [];
    for (const line of lines) {
      if (mine.has(line)) continue;
      try {
        batches.push(fromBase64(line));
      } catch (_) {
        // Not base64: skipped.
      }
    }
    return batches;
  } catch (_) {
    return [];
  }
}

// Keeps `batches` (oldest first) for the next page, after what earlier pages of project `key`
// left, in place of what this page kept before: `replacing`, as the last call returned it (a
// tab hidden, then closed, keeps what still waits each time; what was delivered meanwhile
// goes). Returns what it kept of `batches`, for the next call.
export function saveStash(key, batches, replacing) {
  try {
    const replaced = new Set(replacing);
    const earlier = storedEntries(key).filter(([line]) => !replaced.has(line));
    const keptAt = new Map(earlier);
    const now = Date.now();
    // The newest that fit, each once; this page's batches are encoded only as far as they fit.
    const kept = new Set();
    let bytes = 0;
    const keep = (line) => {
      if (kept.has(line)) return true;
      bytes += (line.length / 4) * 3;
      if (bytes > MAX_BYTES) return false;
      kept.add(line);
      return true;
    };
    const mine = [];
    let full = false;
    for (let i = batches.length - 1; i >= 0 && !full; i--) {
      const line = toBase64(batches[i]);
      if (keep(line)) mine.push(line);
      else full = true;
    }
    for (let i = earlier.length - 1; i >= 0 && !full; i--) full = !keep(earlier[i][0]);
    const lines = Array.from(kept)
      .reverse()
      .map((line) => `${keptAt.get(line) ?? now}:${line}`);
    if (kept.size === 0) localStorage.removeItem(STORAGE_KEY + key);
    else localStorage.setItem(STORAGE_KEY + key, ['3'].concat(lines).join('\n'));
    return mine;
  } catch (_) {
    // A full storage quota keeps the stash as it was, this page's earlier lines included.
    return replacing;
  }
}
