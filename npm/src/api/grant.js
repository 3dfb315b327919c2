// Capture grants: support asked the collector to record this user in full, with the bodies of
// the requests to some URLs, for a while (see collector/src/grants.rs). A grant comes as a
// token, in the answer to the lookup `identify` makes or to a batch. Applying it shows nothing
// to the page: buffer mode and sampling give way to full recording, and the grant's URLs are
// recorded as `networkDetailUrls` are. The tab keeps the token, so that its next pages apply
// it from their start; it is let go when it ends, when the collector says it no longer stands,
// or when another user signs in. The collector is shown the grant's id and the token's
// signature with each batch, and answers `revoked` when the grant no longer stands for the
// session's user.

const STORAGE = 'sightline.grant';
const ASKED = 'sightline.grant.asked';
// A user is looked up once per tab this often at most; the answers to batches carry a grant
// made in between.
const ASK_EVERY_MS = 5 * 60 * 1000;

// Bytes of a user id or email the collector keeps.
const MAX_USER_BYTES = 256;

// A user as grants name them: trimmed, an email lowercased, at most 256 bytes of UTF-8 cut at a
// character, as the collector's user index keeps them.
function normalized(user) {
  const text = String(user ?? '').trim();
  let kept = '';
  let bytes = 0;
  for (const char of text.includes('@') ? text.toLowerCase() : text) {
    const code = char.codePointAt(0);
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    if (bytes > MAX_USER_BYTES) break;
    kept += char;
  }
  return kept;
}

// What a token says, if it is one and has not ended: `{ id, user, urls, expires, token,
// shown }`, `shown` being what batches show the collector of it.
function readGrant(token) {
  try {
    const text = String(token);
    const payload = text.slice(4).split('.')[0].replace(/-/g, '+').replace(/_/g, '/');
    const grant = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0))));
    if (text.startsWith('slg_') && typeof grant.user === 'string' && Array.isArray(grant.urls) && grant.expires > Date.now()) {
      grant.token = text;
      grant.shown = `${grant.id}.${text.split('.')[1]}`;
      return grant;
    }
  } catch (_) {
    // Not a token: nothing is granted.
  }
  return null;
}

function storage(write) {
  try {
    return write(sessionStorage);
  } catch (_) {
    return null;
  }
}

// `sdk` is what start-up learns (the endpoint, the project key); `changed(grant)` is told of
// each grant applied, and of `null` when the one held is let go.
export function createGrants(sdk, changed) {
  let held = null;
  // The user this page last named (`[id, email]`, normalized), and when the lookup last asked
  // for whom (kept in memory too: session storage may be unavailable).
  let named = null;
  let asked = null;

  // A grant taken while the page had named a user keeps their id (`by`): another id named
  // later lets it go, whatever the grant's own user looks like.
  function set(grant) {
    held = grant;
    if (grant !== null && grant.by === undefined) grant.by = named !== null ? named[0] : '';
    storage((s) => (grant === null ? s.removeItem(STORAGE) : s.setItem(STORAGE, `${grant.token}\n${grant.by}`)));
    changed(grant);
  }

  // The grant standing for this tab, if any.
  function current() {
    if (held !== null && held.expires <= Date.now()) set(null);
    return held;
  }

  function apply(token, by) {
    const grant = readGrant(token);
    if (grant !== null && by !== undefined) grant.by = by;
    if (grant !== null && (held === null || held.token !== grant.token)) set(grant);
  }

  // The SHA-256 of the project key, a NUL and `text`, in hex: a user as the lookup names them.
  async function hash(text) {
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${sdk.projectKey}\0${text}`));
    return Array.from(new Uint8Array(digest), (b) => (b < 16 ? '0' : '') + b.toString(16)).join('');
  }

  // Asks the collector whether the user has a grant; without a secure context (no hashing),
  // the answers to batches alone bring one.
  async function lookUp(user, email) {
    const who = `${user}\n${email}`;
    const last = asked || storage((s) => JSON.parse(s.getItem(ASKED)));
    if (last && last.who === who && Date.now() - last.at < ASK_EVERY_MS) return;
    if (typeof crypto === 'undefined' || !crypto.subtle) return;
    asked = { who, at: Date.now() };
    storage((s) => s.setItem(ASKED, JSON.stringify(asked)));
    const query = new URLSearchParams({ key: sdk.projectKey });
    if (user) query.set('u', await hash(user));
    if (email) query.set('e', await hash(email));
    const response = await fetch(`${sdk.endpoint}/v1/grant?${query}`, { credentials: 'omit', cache: 'no-store' });
    if (!response.ok) return;
    const { grant } = await response.json();
    // Asked for this user: one named since gets nothing of theirs.
    if (grant && named !== null && named[0] === user && named[1] === email) apply(grant);
  }

  // Whether a grant for `grantUser` may stand for the user the page named last: it is theirs,
  // or they were named by what can't tell (an id only, for a grant made for their email).
  function mayStand(grantUser, by) {
    if (named === null) return true;
    const [user, email] = named;
    if (by && user && user !== by) return false;
    if (grantUser === user || grantUser === email) return true;
    return grantUser.includes('@') ? !email && !user.includes('@') : !user;
  }

  return {
    current,

    // What the tab kept from its earlier pages.
    load() {
      const kept = storage((s) => s.getItem(STORAGE));
      if (kept) apply(...kept.split('\n'));
      current();
    },

    // The app says who the user is: a grant for someone else is let go, and the user's own is
    // asked for. Never a rejection into the page.
    identified(userId, traits) {
      const user = normalized(userId);
      const email = traits && typeof traits.email === 'string' ? normalized(traits.email) : '';
      named = [user, email];
      const grant = current();
      if (grant !== null && !mayStand(grant.user, grant.by)) set(null);
      if (current() === null && (user || email)) lookUp(user, email).catch(() => {});
    },

    // What the answer to a batch that showed `sent` (a grant's `shown`, or undefined) said: a
    // grant's token, `revoked`, or nothing. A token for someone other than the user named
    // since the batch left is not taken.
    answered(header, sent) {
      if (header === 'revoked') {
        if (held !== null && held.shown === sent) set(null);
      } else if (header) {
        const grant = readGrant(header);
        if (grant !== null && mayStand(grant.user)) apply(header);
      }
    },
  };
}
