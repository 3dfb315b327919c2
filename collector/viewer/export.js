// The session in an exported file: the viewer's workspace over what the file carries (the
// session, its batches, the backend records of its requests, its digest and the replay core),
// opened from disk, offline.

import { el, useEmbedded } from '/viewer/common.js';
import { showSession } from '/viewer/session.js';

const data = JSON.parse(document.getElementById('sightline-export').textContent);
useEmbedded(data);
const stamp = document.querySelector('header .exported');
if (stamp) stamp.textContent += `, ${new Date(data.exported).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}`;
const view = document.getElementById('view');
showSession(view, data.session.id, new AbortController().signal).catch((error) => {
  view.replaceChildren(el('div', { class: 'card notice' }, el('h2', { text: 'The file could not be shown' }), el('p', { class: 'error', text: error.message })));
});
