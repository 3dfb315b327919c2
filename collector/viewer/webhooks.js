// The project's webhooks: where sessions with new problems are sent, and what became of each
// delivery. A hook made here shows its signing secret once; a configured one is changed in
// the collector's configuration.

import { api, el, send, when } from '/viewer/common.js';

const OUTCOMES = { delivered: 'Delivered', retrying: 'Will retry', failed: 'Given up' };


function deliveryRow(delivery) {
  const session = delivery.session
    ? el('a', { href: `/sessions/${delivery.session}`, text: delivery.session.slice(0, 8) })
    : '–';
  return el(
    'tr',
    { class: `delivery ${delivery.outcome}`, 'data-delivery': delivery.delivery },
    el('td', { text: when(delivery.time) }),
    el('td', { text: delivery.event }),
    el('td', {}, session),
    el('td', { class: 'num', text: delivery.attempt }),
    el('td', { class: 'num', text: delivery.status ?? '–' }),
    el('td', { class: 'outcome', text: OUTCOMES[delivery.outcome] || delivery.outcome }),
    el('td', { text: delivery.error || (delivery.next_try ? `next try ${when(delivery.next_try)}` : '') }),
  );
}

async function hookCard(hook, refresh, signal) {
  const { deliveries } = await api(`/api/webhooks/${hook.id}/deliveries?limit=20`);
  const ping = el('button', { type: 'button', class: 'ping', text: 'Send a test' });
  const problem = el('span', { class: 'error' });
  ping.addEventListener('click', async () => {
    try {
      const { delivery } = await send('POST', `/api/webhooks/${hook.id}/ping`);
      // The test goes out within a second or so; the log is read again until it shows, while
      // this page is the one shown.
      for (let tries = 0; tries < 10 && !signal.aborted; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        if (signal.aborted) break;
        await refresh();
        if (document.querySelector(`[data-delivery="${delivery}"]`)) break;
      }
    } catch (e) {
      problem.textContent = e.message;
    }
  });
  const actions = [ping];
  if (hook.source === 'api') {
    const remove = el('button', { type: 'button', class: 'remove', text: 'Remove' });
    remove.addEventListener('click', async () => {
      try {
        await send('DELETE', `/api/webhooks/${hook.id}`);
        await refresh();
      } catch (e) {
        problem.textContent = e.message;
      }
    });
    actions.push(remove);
  }
  const log = deliveries.length
    ? el(
        'table',
        { class: 'deliveries' },
        el('thead', {}, el('tr', {}, ['When', 'Event', 'Session', 'Try', 'Status', 'Outcome', ''].map((h) => el('th', { text: h })))),
        el('tbody', {}, deliveries.map(deliveryRow)),
      )
    : el('p', { class: 'muted', text: 'Nothing delivered yet.' });
  return el(
    'section',
    { class: 'card hook', 'data-hook': hook.id },
    el('h2', { text: hook.url }),
    el('p', { class: 'muted', text: `${hook.events.join(', ')} · ${hook.source === 'api' ? 'made here' : 'configured'}` }),
    el('div', { class: 'actions' }, actions, problem),
    log,
  );
}

function newHookForm(refresh, view) {
  const url = el('input', { name: 'url', type: 'url', required: true, placeholder: 'https://hooks.example.com/sightline' });
  const error = el('p', { class: 'error' });
  const form = el(
    'form',
    { id: 'new-hook', class: 'card' },
    el('h2', { text: 'Add a webhook' }),
    el('label', {}, el('span', { text: 'URL' }), url),
    error,
    el('button', { class: 'primary', type: 'submit', text: 'Add' }),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const made = await send('POST', '/api/webhooks', { url: url.value.trim() });
      await refresh();
      view.prepend(
        el(
          'div',
          { class: 'card notice', id: 'new-secret' },
          el('p', { text: 'The signing secret of the new webhook, shown this once:' }),
          el('code', { text: made.secret }),
        ),
      );
    } catch (e) {
      error.textContent = e.message;
    }
  });
  return form;
}

export async function showWebhooks(view, signal) {
  const refresh = async () => {
    const { webhooks } = await api('/api/webhooks');
    const cards = await Promise.all(webhooks.map((hook) => hookCard(hook, refresh, signal)));
    if (signal.aborted) return;
    view.replaceChildren(
      el('h1', { text: 'Webhooks' }),
      el('p', { text: 'Sessions with new problems are sent to these URLs, signed (Standard Webhooks).' }),
      ...(cards.length ? cards : [el('p', { class: 'muted', text: 'No webhooks yet.' })]),
      newHookForm(refresh, view),
    );
  };
  await refresh();
}
