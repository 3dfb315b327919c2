// The viewer: sign in with a read token, find sessions, open one. Every page is built from the
// query API of this collector; the token stays in this browser's storage, never in a URL that
// could be pasted into a ticket.
//
// - common.js: building elements, calling the API, formatting.
// - list.js: the session list.
// - session.js: one session as a workspace; panels.js its side panels; frame.js the replay
//   frame.
// - webhooks.js: the project's webhooks and their delivery logs.
// - grants.js: the users recorded in full, on support's request.

import { TOKEN_KEY, SignedOut, api, el, sharedLink, token, useShareLink } from '/viewer/common.js';
import { showList } from '/viewer/list.js';
import { showSession } from '/viewer/session.js';
import { showWebhooks } from '/viewer/webhooks.js';
import { showGrants } from '/viewer/grants.js';

const view = document.getElementById('view');
const signOut = document.getElementById('sign-out');
const webhooksLink = document.getElementById('webhooks-link');
const grantsLink = document.getElementById('grants-link');
// What the page shown last listens to, stopped when another is shown.
let shown = new AbortController();

function showSignIn(message) {
  signOut.hidden = true;
  webhooksLink.hidden = true;
  grantsLink.hidden = true;
  document.body.classList.remove('workspace-mode');
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

function failed(error) {
  if (error instanceof SignedOut && sharedLink()) {
    view.replaceChildren(
      el(
        'div',
        { class: 'card notice' },
        el('h2', { text: 'This link no longer opens the session' }),
        el('p', { text: 'It has expired or was revoked. Ask whoever shared it for a new one.' }),
      ),
    );
    return;
  }
  if (error instanceof SignedOut) {
    localStorage.removeItem(TOKEN_KEY);
    showSignIn('Your sign-in has expired or the token was revoked. Sign in again with a current read token.');
    return;
  }
  view.replaceChildren(
    el(
      'div',
      { class: 'card notice' },
      el('h2', { text: 'Something went wrong' }),
      el('p', { class: 'error', text: error.message }),
      el('p', { text: 'Reload the page to try again; if it persists, the collector’s log says more.' }),
    ),
  );
}

function route() {
  shown.abort();
  shown = new AbortController();
  // A share link: that one session, read-only, without signing in.
  const share = location.pathname.match(/^\/share\/(sls_[0-9]+_([0-9a-f]{32})_[0-9a-f_]+)$/);
  useShareLink(share ? share[1] : null);
  if (share) {
    signOut.hidden = true;
    webhooksLink.hidden = true;
    grantsLink.hidden = true;
    document.body.classList.add('workspace-mode');
    showSession(view, share[2], shown.signal).catch(failed);
    return;
  }
  if (!token()) {
    showSignIn();
    return;
  }
  signOut.hidden = false;
  webhooksLink.hidden = false;
  grantsLink.hidden = false;
  if (location.pathname === '/grants') {
    document.body.classList.remove('workspace-mode');
    showGrants(view, shown.signal, new URLSearchParams(location.search).get('user')).catch(failed);
    return;
  }
  if (location.pathname === '/webhooks') {
    document.body.classList.remove('workspace-mode');
    showWebhooks(view, shown.signal).catch(failed);
    return;
  }
  const session = location.pathname.match(/^\/sessions\/([0-9a-f]{32})$/);
  document.body.classList.toggle('workspace-mode', session !== null);
  (session ? showSession(view, session[1], shown.signal) : showList(view, route, failed)).catch(failed);
}

signOut.addEventListener('click', () => {
  localStorage.removeItem(TOKEN_KEY);
  shown.abort();
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
