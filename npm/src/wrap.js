// Wrapping the page's functions (history, console, fetch, XHR, CSSOM) without changing what the
// page can see of them: a wrapper keeps the original's `name` and `length`.

export function mimic(wrapper, original) {
  for (const key of ['name', 'length']) {
    try {
      Object.defineProperty(wrapper, key, { value: original[key], configurable: true });
    } catch (_) {
      // Non-configurable on some engines: the wrapper keeps its own.
    }
  }
  return wrapper;
}
