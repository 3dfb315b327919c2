// Route changes of single-page apps. The wrappers stay in place once installed (another
// library may have wrapped them after us) and do nothing but call through when the SDK is off;
// a throwing original throws exactly as before, and is not recorded.
//
// Apps set the new route's title after they render it, which comes after `pushState`: the
// URL is taken at once, the title a moment later. Route changes of one task (a push and a
// replace, a redirect) share the title the page gives them; a route change in a later task
// first records those before it, with the title the page has by then.

import { NAVIGATION } from '../kinds.js';
import { mimic } from '../wrap.js';

// A route change's title is read this long after it, once the app has rendered the route.
const TITLE_DELAY_MS = 100;

// `guard` and `put` are the API's calls into the recorder (see api.js); `pageUrl` and
// `pageTitle` are the page's, redacted and masked (see page.js).
export function createRoutes(isRecording, guard, put, pageUrl, pageTitle) {
  let lastUrl = null;
  let routes = [];
  let routeTimer = null;
  let inRouteTask = false;
  function recordRoute(kind) {
    if (!isRecording()) return;
    // Behind the guard: a failure here must not reach the page's own `pushState` call.
    guard(() => {
      const url = String(location.href);
      // Both popstate and hashchange fire for a hash change; replaceState often keeps the URL
      // (to store state, or the scroll position).
      if (kind !== 1 && url === lastUrl) return;
      lastUrl = url;
      if (!inRouteTask) {
        recordPendingRoutes();
        inRouteTask = true;
        setTimeout(() => {
          inRouteTask = false;
        }, 0);
      }
      routes.push([kind, pageUrl(url), Date.now()]);
      if (routeTimer === null) routeTimer = setTimeout(recordPendingRoutes, TITLE_DELAY_MS);
    });
  }

  // Records the route changes waiting for their title (also when the page goes away first).
  function recordPendingRoutes() {
    clearTimeout(routeTimer);
    routeTimer = null;
    if (routes.length === 0) return;
    const title = pageTitle();
    for (const [kind, url, at] of routes) put(NAVIGATION, [kind], [url, title], at);
    routes = [];
  }

  function wrapHistory(name, kind) {
    const original = history[name];
    if (typeof original !== 'function') return;
    history[name] = mimic(function (...args) {
      const result = original.apply(this, args);
      recordRoute(kind);
      return result;
    }, original);
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

  return { recordPendingRoutes, watchRoutes };
}
