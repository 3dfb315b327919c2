// The project's capture grants: users recorded in full, with the bodies of the requests to some
// URLs, for a while (the SDK applies a grant without the page seeing it). A grant is made here
// for a user id or email, is listed until it ends, and can be revoked; each is in the audit
// log.

import { api, el, send, when } from '/viewer/common.js';


function grantRow(grant, refresh, problem) {
  const revoke = el('button', { type: 'button', class: 'revoke', text: 'Revoke' });
  revoke.addEventListener('click', async () => {
    try {
      await send('DELETE', `/api/grants/${grant.id}`);
      await refresh();
    } catch (e) {
      problem.textContent = e.message;
    }
  });
  return el(
    'tr',
    { class: 'grant', 'data-grant': grant.id },
    el('td', { class: 'user', text: grant.user }),
    el('td', { text: grant.network_urls.length ? grant.network_urls.join(', ') : 'no bodies' }),
    el('td', { text: when(grant.expires) }),
    el('td', { text: `${grant.by}, ${when(grant.created)}` }),
    el('td', {}, revoke),
  );
}

function newGrantForm(refresh, user) {
  const who = el('input', { name: 'user', required: true, placeholder: 'u_1842 or jane@acme.com', value: user || '' });
  const urls = el('input', { name: 'urls', placeholder: '/api/orders, /api/invoices' });
  const hours = el('input', { name: 'hours', type: 'number', min: '1', max: '168', value: '24' });
  const error = el('p', { class: 'error' });
  const form = el(
    'form',
    { id: 'new-grant', class: 'card' },
    el('h2', { text: 'Record a user fully' }),
    el('p', {
      class: 'muted',
      text: "Their next pages are recorded whatever the sampling and buffer mode say, with the headers and bodies of requests whose URL contains one of these (redacted as always; inputs stay masked).",
    }),
    el('label', {}, el('span', { text: 'User id or email' }), who),
    el('label', {}, el('span', { text: 'Request URLs, comma-separated' }), urls),
    el('label', {}, el('span', { text: 'For how many hours' }), hours),
    error,
    el('button', { class: 'primary', type: 'submit', text: 'Grant' }),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await send('POST', '/api/grants', {
        user: who.value.trim(),
        network_urls: urls.value.split(',').map((u) => u.trim()).filter(Boolean),
        hours: Number(hours.value) || 24,
      });
      await refresh();
    } catch (e) {
      error.textContent = e.message;
    }
  });
  return form;
}

// `user` fills the form (a session's page links here with its user).
export async function showGrants(view, signal, user) {
  const form = newGrantForm(() => refresh(), user);
  const problem = el('p', { class: 'error' });
  const refresh = async () => {
    const { grants } = await api('/api/grants');
    if (signal.aborted) return;
    const list = grants.length
      ? el(
          'table',
          { class: 'grants' },
          el('thead', {}, el('tr', {}, ['User', 'Request bodies of', 'Ends', 'Granted by', ''].map((h) => el('th', { text: h })))),
          el('tbody', {}, grants.map((grant) => grantRow(grant, refresh, problem))),
        )
      : el('p', { class: 'muted', text: 'No user is recorded fully now.' });
    view.replaceChildren(el('h1', { text: 'Capture grants' }), el('section', { class: 'card' }, list, problem), form);
  };
  await refresh();
}
