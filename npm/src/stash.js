// Batches still undelivered when the page goes away (or may: a hidden tab can be discarded) are
// kept in localStorage and sent by the next page of the same origin, or by this one if it is
// shown again. Each keeps its session, page and sequence number inside it, so a batch that did
// get through after all is stored once.
//
// Stored form, one stash per project: a version line `2`, then one batch a line in base64,
// oldest first. A stash holds at most 512 KB of batches, the newest.

const STORAGE_KEY = 'sightline.unsent.';
const MAX_BYTES = 512 * 1024;

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

// Takes what pages of project `key` left undelivered, oldest first, and clears it. Lines that
// don't read are skipped; without storage (privacy modes, sandboxed frames) there is nothing.
export function takeStash(key) {
  try {
    const stored = localStorage.getItem(STORAGE_KEY + key);
    localStorage.removeItem(STORAGE_KEY + key);
    const lines = stored === null ? [] : stored.split('\n');
    // Version 1 wrote `page:seq:` before each batch.
    if (lines[0] !== '1' && lines[0] !== '2') return [];
    const batches = [];
    for (const line of lines.slice(1)) {
      try {
        batches.push(fromBase64(line.slice(line.lastIndexOf(':') + 1)));
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
// left.
export function saveStash(key, batches) {
  if (batches.length === 0) return;
  try {
    // A tab hidden and then closed keeps the same batches twice: they are stored once.
    const all = takeStash(key).concat(batches).map(toBase64);
    const stored = new Set();
    const kept = [];
    let bytes = 0;
    for (let i = all.length - 1; i >= 0 && bytes + (all[i].length / 4) * 3 <= MAX_BYTES; i--) {
      if (stored.has(all[i])) continue;
      stored.add(all[i]);
      bytes += (all[i].length / 4) * 3;
      kept.push(all[i]);
    }
    localStorage.setItem(STORAGE_KEY + key, ['2'].concat(kept.reverse()).join('\n'));
  } catch (_) {
    // A full storage quota loses the stash, not the page.
  }
}
