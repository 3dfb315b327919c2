// What of a request the SDK never records: values whose key looks like a credential
// (authorization, cookie, password, token, key, session, card number, …, and the keys the app
// adds with `redactKeys`), in a URL's query, in a fragment of `k=v` pairs (where OAuth puts an
// access token), and in JSON bodies, at any depth. They are replaced, not dropped, so the shape
// of what was sent stays readable.

export const REDACTED = '[redacted]';
const CREDENTIAL_KEYS =
  /authorization|cookie|passw(or)?d|^pwd$|secret|token|(^|[-_ ])key$|apikey|credential|session|card[-_ ]?number|^cvc$|^cvv$|^pin$|^code$|^sig$|signature|^otp$|ticket|^auth$|jwt|saml/i;
const FRAGMENT_PAIRS = /^#[^=&#]+=/;

// Strings match text that contains them (`prefix`: that starts with them); RegExps by test.
export function toMatcher(list, prefix) {
  const items = Array.isArray(list) ? list : [];
  const matches = prefix ? (text, item) => text.startsWith(item) : (text, item) => text.includes(item);
  return (text) =>
    items.some((item) => {
      if (!(item instanceof RegExp)) return matches(text, String(item));
      item.lastIndex = 0; // a `g` or `y` RegExp would go on from its last match
      return item.test(text);
    });
}

// The redaction rules, with the app's own keys (`redactKeys`: strings or RegExps).
export function createRedaction(redactKeys) {
  const extraKeys = toMatcher(redactKeys);

  function isCredential(key) {
    return CREDENTIAL_KEYS.test(key) || extraKeys(key);
  }

  // Whether any key of `k=v` pairs (a query or a fragment, without its `?` or `#`) looks like
  // a credential, decoded as URLSearchParams decodes it.
  function namesCredential(pairs) {
    for (const pair of pairs.split('&')) {
      const equals = pair.indexOf('=');
      let key = equals === -1 ? pair : pair.slice(0, equals);
      try {
        key = decodeURIComponent(key.replace(/\+/g, ' '));
      } catch (_) {
        return true; // not valid percent-encoding: let the full parse decide
      }
      if (isCredential(key)) return true;
    }
    return false;
  }

  // Redacts the credential-like values of `k=v` pairs in place; whether there were any.
  function redactParams(params) {
    let changed = false;
    for (const key of new Set(params.keys())) {
      if (isCredential(key)) {
        params.set(key, REDACTED);
        changed = true;
      }
    }
    return changed;
  }

  // The URL with credential-like values redacted in its query, and in a fragment of `k=v`
  // pairs.
  function cleanUrl(href) {
    const hash = href.indexOf('#');
    const fragment = hash === -1 ? '' : href.slice(hash);
    const query = href.indexOf('?');
    const search = query === -1 || (hash !== -1 && query > hash) ? '' : href.slice(query + 1, hash === -1 ? undefined : hash);
    const suspect =
      (search !== '' && namesCredential(search)) ||
      // URLSearchParams drops a leading `?`, so `#?token=…` holds pairs too.
      (FRAGMENT_PAIRS.test(fragment) && namesCredential(fragment.slice(fragment[1] === '?' ? 2 : 1)));
    if (!suspect) return href;
    const copy = new URL(href);
    let changed = redactParams(copy.searchParams);
    if (FRAGMENT_PAIRS.test(copy.hash)) {
      const fragment = new URLSearchParams(copy.hash.slice(1));
      if (redactParams(fragment)) {
        copy.hash = fragment.toString();
        changed = true;
      }
    }
    return changed ? copy.href : href;
  }

  function redactJson(value, depth) {
    if (depth > 32 || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => redactJson(v, depth + 1));
    const out = {};
    for (const [key, v] of Object.entries(value)) out[key] = isCredential(key) ? REDACTED : redactJson(v, depth + 1);
    return out;
  }

  return { isCredential, redactParams, cleanUrl, redactJson };
}
