// Getting the batches the recorder hands out to the collector: posted one at a time with
// `fetch` (keepalive while small enough), by beacon when the page hides or goes away, and kept
// in the stash (see stash.js) for the next page when the browser won't take them; a page shown
// again takes back what it kept. The recorder decides what goes when; this side does the I/O
// and reports back.

import { VISIBILITY } from '../kinds.js';
import { saveStash, takeStash } from '../stash.js';

// Browsers allow this many bytes of keepalive requests and beacons in flight per page.
const KEEPALIVE_QUOTA = 64 * 1024;
// When the session ends inside a mutation storm's pause, the walk of the page as it is then
// may take this long at once (no later slice may run).
export const LEAVING_SLICE_MS = 250;
// A batch whose request has not been answered in this long is aborted and tried again later.
const SEND_TIMEOUT_MS = 30 * 1000;

// `sdk` is what start-up learns (the endpoint, the project key) and `guard`, `put`, `catchUp`
// the API's calls into the recorders (see api.js); what waits for the title or the time zone
// is settled before the page leaves.
export function createDelivery(sdk, isRecording, guard, put, catchUp, settleTimezone, recordPendingRoutes, releaseErrors) {
  // Posts the batch the recorder hands out and reports the collector's answer; the recorder
  // decides what goes when (one at a time, retries after a backoff).
  function deliver() {
    const batch = guard((r) => r.nextBatch(Date.now()));
    if (batch === undefined) return;
    // Buffer mode: kept, not sent (see buffer.js).
    if (sdk.buffer !== null) {
      sdk.buffer.keep(batch, Date.now());
      if (guard((r) => r.answered(200, null, Date.now()))) deliver();
      return;
    }
    // The answer is reported once: the collector's, or none (no response, a `fetch` the page
    // replaced that throws or returns something else, or no answer in time).
    let answered = false;
    const answer = (status, retryAfter) => {
      if (answered) return;
      answered = true;
      clearTimeout(timeout);
      if (guard((r) => r.answered(status, retryAfter, Date.now()))) deliver();
    };
    const abort = typeof AbortController === 'function' ? new AbortController() : null;
    const headers = { 'content-type': 'application/vnd.sightline.batch', 'x-sightline-key': sdk.projectKey };
    // The capture grant this tab holds, so the collector can say when it no longer stands.
    const grant = sdk.grants.current();
    const shown = grant === null ? undefined : grant.shown;
    if (shown !== undefined) headers['x-sightline-grant'] = shown;
    const timeout = setTimeout(() => {
      if (abort !== null) abort.abort();
      answer(0, null);
    }, SEND_TIMEOUT_MS);
    new Promise((resolve) =>
      resolve(
        fetch(`${sdk.endpoint}/v1/batches`, {
          method: 'POST',
          mode: 'cors',
          keepalive: batch.length <= KEEPALIVE_QUOTA,
          signal: abort !== null ? abort.signal : undefined,
          headers,
          body: batch,
        }),
      ),
    )
      .then((response) => {
        const status = Number(response.status);
        const retryAfter = response.headers.get('retry-after');
        // A support engineer follows the session live: batches go every second for a while.
        if (response.headers.get('x-sightline-watched') === '1') guard((r) => r.watched(Date.now()));
        if (status === 200) sdk.grants.answered(response.headers.get('x-sightline-grant'), shown);
        // The session holds all the collector takes of one, or another writer holds it (its
        // first batch was sealed with another secret): record on in a new one.
        const refusal = response.headers.get('x-sightline-error');
        if (refusal === 'session_full' || refusal === 'not_session_writer') {
          const full = response.headers.get('x-sightline-session');
          if (typeof full === 'string') guard((r) => r.sessionFull(full, Date.now()));
        }
        answer(status >= 100 && status <= 599 ? status : 0, typeof retryAfter === 'string' ? retryAfter : null);
      })
      .catch(() => answer(0, null));
  }

  // A beacon can't set headers: the key travels in the query, and the body as text/plain,
  // which needs no CORS preflight.
  function beacon(batch) {
    const url = `${sdk.endpoint}/v1/batches?key=${encodeURIComponent(sdk.projectKey)}`;
    return navigator.sendBeacon(url, new Blob([batch], { type: 'text/plain' }));
  }

  // The page is going away, or may be: a hidden tab can be discarded without a `pagehide`.
  // What waits goes out by beacon, and what the browser won't take is kept for the next page;
  // while the collector isn't answering, all is kept, beaconed or not (a beacon's failure
  // can't be seen).
  function leave() {
    // Buffer mode sends nothing, on leaving either: what was kept goes with the page.
    if (sdk.buffer !== null) return;
    settleTimezone();
    recordPendingRoutes();
    releaseErrors();
    catchUp(LEAVING_SLICE_MS);
    const kept = guard((r) => r.unload(Date.now(), beacon));
    if (kept !== undefined) stashed = saveStash(sdk.projectKey, kept, stashed);
  }

  // What this page last kept in the stash; it stays queued here too, and leaves the stash once
  // delivered (see `unstashDelivered`).
  let stashed = [];

  // Takes back what earlier pages (or this one, while hidden) could not deliver.
  function resendStash() {
    const batches = takeStash(sdk.projectKey, stashed);
    stashed = [];
    for (const batch of batches) guard((r) => r.resend(batch));
  }

  // Once the recorder `r` has delivered everything, what this page kept leaves the stash.
  function unstashDelivered(r) {
    if (stashed.length > 0 && r.isIdle()) stashed = saveStash(sdk.projectKey, [], stashed);
  }

  // A page that lives on after all (shown again, or restored from the back-forward cache)
  // takes back what it kept for the next page.
  function comeBack() {
    if (sdk.buffer === null) resendStash();
    deliver();
  }

  function onPageShow(event) {
    if (event.persisted) comeBack();
  }

  // Tab visibility: recorded, and a hidden tab sends or keeps what waits, as when leaving.
  function onVisibilityChange() {
    if (!isRecording()) return;
    const visible = document.visibilityState === 'visible';
    recordPendingRoutes();
    put(VISIBILITY, [visible ? 1 : 0]);
    if (visible) comeBack();
    else leave();
  }

  return { deliver, leave, resendStash, unstashDelivered, onPageShow, onVisibilityChange };
}
