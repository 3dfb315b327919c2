// The public API around the wasm recorder. Every entry point catches its own failures: if the
// wasm can't load or the recorder throws, the SDK switches itself off and the page carries on
// as if it weren't installed.

export function createSightline(initWasm, Recorder, defaultWasmUrl) {
  let recorder = null;
  let endpoint = null;
  let viewer = null;
  let timer = null;
  let starting = null;
  let state = 'idle'; // idle → starting → recording → stopped | disabled

  function shutDown() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    removeEventListener('pagehide', onPageHide);
    removeEventListener('resize', onResize);
    document.removeEventListener('visibilitychange', onVisibilityChange);
  }

  function disable(error) {
    state = 'disabled';
    shutDown();
    recorder = null;
    if (error && typeof console !== 'undefined') console.debug('[sightline] disabled:', error);
  }

  function guard(fn) {
    if (recorder === null || state === 'disabled') return undefined;
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

  // Route changes of single-page apps. The wrappers stay in place once installed (another
  // library may have wrapped them after us) and do nothing but call through when the SDK is off;
  // a throwing original throws exactly as before, and is not recorded.
  let lastUrl = null;
  function recordRoute(kind) {
    if (state !== 'recording') return;
    const url = String(location.href);
    if (kind >= 3 && url === lastUrl) return; // popstate and hashchange both fire for a hash change
    lastUrl = url;
    guard((r) => r.navigate(kind, url, String(document.title), Date.now()));
  }

  function wrapHistory(name, kind) {
    const original = history[name];
    if (typeof original !== 'function') return;
    history[name] = function (...args) {
      const result = original.apply(this, args);
      recordRoute(kind);
      return result;
    };
  }

  let routesWatched = false;
  function watchRoutes() {
    if (routesWatched) return;
    routesWatched = true;
    lastUrl = String(location.href);
    wrapHistory('pushState', 1);
    wrapHistory('replaceState', 2);
    addEventListener('popstate', () => recordRoute(3));
    addEventListener('hashchange', () => recordRoute(4));
  }

  // Tab visibility, and the viewport's size (a resize is recorded once it settles).
  let resizeTimer = null;
  function recordViewport() {
    resizeTimer = null;
    if (state !== 'recording') return;
    guard((r) => r.viewport(Math.round(innerWidth), Math.round(innerHeight), Date.now()));
  }

  function onResize() {
    if (resizeTimer !== null) clearTimeout(resizeTimer);
    resizeTimer = setTimeout(recordViewport, 250);
  }

  function onVisibilityChange() {
    if (state !== 'recording') return;
    const visible = document.visibilityState === 'visible';
    guard((r) => {
      r.visibility(visible, Date.now());
      // A hidden tab may never come back: send what is recorded while the page can.
      if (!visible) r.flush(Date.now());
    });
  }

  function onTick() {
    guard((r) => {
      r.tick(Date.now());
      // After stop(), the timer runs only until everything recorded is delivered.
      if (state === 'stopped' && r.isIdle()) shutDown();
    });
  }

  function init(options) {
    if (starting === null) starting = start(options);
    return starting;
  }

  async function start(options) {
    state = 'starting';
    try {
      if (!options || !options.endpoint || !options.projectKey) {
        throw new Error('init needs { endpoint, projectKey }');
      }
      endpoint = String(options.endpoint).replace(/\/+$/, '');
      viewer = options.viewerUrl ? String(options.viewerUrl).replace(/\/+$/, '') : endpoint;
      await initWasm({ module_or_path: options.wasmUrl ?? defaultWasmUrl() });
      // stop() while the wasm was loading means: don't record.
      if (state !== 'starting') return;
      recorder = new Recorder(endpoint, String(options.projectKey), Date.now());
      state = 'recording';
      timer = setInterval(onTick, 1000);
      addEventListener('pagehide', onPageHide);
      watchRoutes();
      recordViewport();
      addEventListener('resize', onResize);
      document.addEventListener('visibilitychange', onVisibilityChange);
    } catch (error) {
      disable(error);
    }
  }

  function track(name, props) {
    if (state !== 'recording') return;
    guard((r) => r.track(String(name), props === undefined ? null : props, Date.now()));
  }

  function flush() {
    guard((r) => r.flush(Date.now()));
  }

  function stop() {
    if (state === 'recording') {
      guard((r) => r.stop(Date.now()));
      if (state !== 'disabled') state = 'stopped';
    } else if (state === 'starting') {
      state = 'stopped';
    }
  }

  function getSessionUrl() {
    const id = guard((r) => r.sessionId());
    return id ? `${viewer}/sessions/${id}` : null;
  }

  return { init, track, flush, stop, getSessionUrl };
}
