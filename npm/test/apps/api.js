// The todo apps' backend calls, made only when the page gives the app an API (`window.todoApi`,
// its base path): saving a new todo and syncing the list. A failure is reported the way apps
// report one: an error in the console and a notice on the page.
const base = typeof window === 'undefined' ? undefined : window.todoApi;

/** Whether the page gave the app an API. */
export const hasApi = Boolean(base);

function notice(text) {
  let shown = document.getElementById('notice');
  if (!shown) {
    shown = document.body.appendChild(document.createElement('p'));
    shown.id = 'notice';
    shown.setAttribute('role', 'alert');
  }
  shown.textContent = text;
}

// Answers `{ ok }`, or `{ ok: false, reason }` with the server's reason or the network's.
async function post(path, body) {
  let response;
  try {
    response = await fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (error) {
    return { ok: false, reason: error.message };
  }
  if (response.ok) return { ok: true };
  const answer = await response.json().catch(() => ({}));
  return { ok: false, reason: answer.error || `HTTP ${response.status}` };
}

/** Saves a new todo. */
export async function save(title) {
  if (!base) return;
  const result = await post('/todos', { title });
  if (!result.ok) {
    console.error(`Saving a todo failed: ${result.reason}`);
    notice('Could not save your todo');
  }
}

let syncing = false;

/** Syncs the list; a click while a sync is under way does nothing. */
export async function sync(onSyncing) {
  if (!base || syncing) return;
  syncing = true;
  onSyncing(true);
  const result = await post('/sync', {});
  syncing = false;
  onSyncing(false);
  if (!result.ok) {
    console.error(`Sync failed: ${result.reason}`);
    notice('Your list could not be synced');
  }
}
