// The public API around the wasm recorder. Every entry point catches its own failures: if the
// wasm can't load or the recorder throws, the SDK switches itself off and the page carries on
// as if it weren't installed.

export function createSightline(initWasm, Recorder) {
  let recorder = null;
  let endpoint = null;
  let timer = null;
  let disabled = false;

  function disable(error) {
    disabled = true;
    if (timer !== null) clearInterval(timer);
    timer = null;
    recorder = null;
    removeEventListener('pagehide', onPageHide);
    if (typeof console !== 'undefined' && error) console.debug('[sightline] disabled:', error);
  }

  function guard(fn) {
    if (disabled || recorder === null) return undefined;
    try {
      return fn(recorder);
    } catch (error) {
      disable(error);
      return undefined;
    }
  }

  function onPageHide() {
    guard((r) => r.unload(Date.now()));
  }

  async function init(options) {
    if (recorder !== null || disabled) return;
    try {
      if (!options || !options.endpoint || !options.projectKey) {
        throw new Error('init needs { endpoint, projectKey }');
      }
      endpoint = String(options.endpoint).replace(/\/+$/, '');
      await initWasm({ module_or_path: options.wasmUrl ?? new URL('./sightline_bg.wasm', import.meta.url) });
      recorder = new Recorder(endpoint, String(options.projectKey), Date.now());
      timer = setInterval(() => guard((r) => r.tick(Date.now())), 1000);
      addEventListener('pagehide', onPageHide);
    } catch (error) {
      disable(error);
    }
  }

  function track(name, props) {
    guard((r) => r.track(String(name), props === undefined ? null : props, Date.now()));
  }

  function flush() {
    guard((r) => r.flush(Date.now()));
  }

  function stop() {
    guard((r) => r.stop(Date.now()));
    disable(null);
  }

  function getSessionUrl() {
    const id = guard((r) => r.sessionId());
    return id ? `${endpoint}/sessions/${id}` : null;
  }

  return { init, track, flush, stop, getSessionUrl };
}
