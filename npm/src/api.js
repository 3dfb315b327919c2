// The public API around the wasm recorder. Every entry point catches its own failures: if the
// wasm can't load or the recorder throws, the SDK switches itself off and the page carries on
// as if it weren't installed.

import { createDomRecorder } from './dom.js';
import { createNetworkRecorder } from './network.js';
import { saveStash, takeStash } from './stash.js';
import { joinTexts } from './tape.js';
import { mimic } from './wrap.js';

// A full snapshot is taken this often, so a lost batch never ruins the rest of a replay.
const KEYFRAME_INTERVAL_MS = 5 * 60 * 1000;
// Browsers allow this many bytes of keepalive requests and beacons in flight per page.
const KEEPALIVE_QUOTA = 64 * 1024;
// When the session ends inside a mutation storm's pause, the walk of the page as it is then
// may take this long at once (no later slice may run).
const LEAVING_SLICE_MS = 250;
// A batch whose request has not been answered in this long is aborted and tried again later.
const SEND_TIMEOUT_MS = 30 * 1000;
// A route change's title is read this long after it, once the app has rendered the route.
const TITLE_DELAY_MS = 100;
// Event kinds of the recorder's intake (sdk-wasm/src/intake.rs).
const NAVIGATION = 1;
const VISIBILITY = 2;
const VIEWPORT = 3;
const META = 4;
const CONSOLE = 5;
const ERROR = 6;
const STYLE_SHEET = 7;
const STYLE_RULE = 8;
const ADOPTED_STYLE_SHEETS = 9;
const NETWORK = 10;
const CANVAS = 11;
const POINTER = 12;
const MOUSE_MOVES = 13;
const SCROLL = 14;
const INPUT = 15;
const FOCUS = 16;
const CUSTOM = 17;
const IDENTIFY = 18;
const TIMEZONE = 19;
const TRACE_KEY = 20;
const SCROLL_POSITION = 21;
// Values of identify() and track() are capped at this many characters of text and values
// together, 8 levels deep and 100 items per list or object.
const MAX_VALUE_TEXT = 8192;

// A plain-JSON value as the recorder's intake reads it, depth first: numbers (a tag, then a
// number or a length where the tag needs one) and text fields. What isn't plain JSON becomes
// null.
function flattenValue(value, nums, texts, depth, budget) {
  // Every value costs one unit too, so shared or cyclic references can't multiply the work.
  budget.left -= 1;
  if (depth > 8 || budget.left <= 0 || value === null || value === undefined) return nums.push(0);
  if (typeof value === 'boolean') return nums.push(value ? 2 : 1);
  if (typeof value === 'number') return nums.push(3, value);
  if (typeof value === 'string') {
    const text = value.slice(0, budget.left);
    budget.left -= text.length;
    texts.push(text);
    return nums.push(4);
  }
  if (typeof value !== 'object') return nums.push(0);
  if (Array.isArray(value)) {
    const items = value.slice(0, 100);
    nums.push(5, items.length);
    for (const item of items) flattenValue(item, nums, texts, depth + 1, budget);
    return undefined;
  }
  const entries = Object.entries(value).slice(0, 100);
  nums.push(6, entries.length);
  for (const [key, item] of entries) {
    budget.left -= key.length;
    texts.push(key);
    flattenValue(item, nums, texts, depth + 1, budget);
  }
  return undefined;
}

// Runs `fn` once the current script is done, before the page's next listener: the browser's
// own `queueMicrotask`, taken before a page can replace it.
const soon =
  typeof queueMicrotask === 'function' ? queueMicrotask.bind(globalThis) : (fn) => Promise.resolve().then(fn);

export function createSightline(initWasm, Recorder, defaultWasmUrl) {
  let recorder = null;
  let dom = null;
  let network = null;
  let settings = null;
  let keyframeTimer = null;
  let endpoint = null;
  let projectKey = null;
  let viewer = null;
  let timer = null;
  let starting = null;
  let state = 'idle'; // idle → starting → recording → stopped | disabled
  // Why the SDK is off, once it is: one of the collector's report reasons
  // (collector/src/api/sdk_reports.rs).
  let disabledReason = null;
  // Reports sent from this page, at most a few (see `report`).
  let reportsLeft = 4;

  function shutDown() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    if (keyframeTimer !== null) clearInterval(keyframeTimer);
    keyframeTimer = null;
    if (network !== null) network.stop();
    if (dom !== null) {
      const stopping = dom;
      dom = null;
      try {
        stopping.stop();
      } catch (_) {
        // Already failing: the SDK is switching itself off.
      }
    }
    removeEventListener('pagehide', leave);
    removeEventListener('pageshow', onPageShow);
    removeEventListener('resize', onResize);
    document.removeEventListener('visibilitychange', onVisibilityChange);
  }

  // Tells the collector about the SDK itself (it counts these, storing nothing): that it
  // switched itself off, or recovered from a walk of the page the recorder couldn't read.
  function report(kind, reason) {
    if (endpoint === null || projectKey === null || reportsLeft <= 0) return;
    reportsLeft--;
    try {
      const url = `${endpoint}/v1/sdk-reports?key=${encodeURIComponent(projectKey)}`;
      navigator.sendBeacon(url, JSON.stringify({ kind, reason }));
    } catch (_) {
      // Reporting is best effort.
    }
  }

  function disable(error, reason = 'runtime') {
    if (state !== 'disabled') {
      disabledReason = reason;
      report('disabled', reason);
    }
    state = 'disabled';
    shutDown();
    recorder = null;
    if (error && typeof console !== 'undefined') {
      inSdk = true;
      try {
        console.debug('[sightline] disabled:', error);
      } finally {
        inSdk = false;
      }
    }
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

  // Hands one event to the recorder: its kind, numbers and text fields, at `at` (now unless
  // given).
  function put(kind, nums, texts = [], at = Date.now()) {
    // An event that began a new session (the user back after a long while) is followed by the
    // page as it is now, before the page's own listeners react to it.
    if (guard((r) => r.record(kind, nums, joinTexts(texts), at)) === true) guard(() => soon(keyframe));
  }

  function keyframe() {
    guard(() => dom !== null && dom.keyframe());
  }

  // The page as it is now, if a mutation storm paused its diffing (see dom.js).
  function catchUp(firstSliceMs) {
    guard(() => dom !== null && dom.catchUp(firstSliceMs));
  }

  // An event whose last field is a plain-JSON value. Reading the value can run the page's code
  // (getters, proxies); if that throws, the value is null.
  function putWithValue(kind, text, value) {
    const nums = [];
    const texts = [text];
    try {
      flattenValue(value, nums, texts, 0, { left: MAX_VALUE_TEXT });
    } catch (_) {
      nums.length = 0;
      texts.length = 1;
      nums.push(0);
    }
    put(kind, nums, texts);
  }

  // Posts the batch the recorder hands out and reports the collector's answer; the recorder
  // decides what goes when (one at a time, retries after a backoff).
  function deliver() {
    const batch = guard((r) => r.nextBatch(Date.now()));
    if (batch === undefined) return;
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
    const timeout = setTimeout(() => {
      if (abort !== null) abort.abort();
      answer(0, null);
    }, SEND_TIMEOUT_MS);
    new Promise((resolve) =>
      resolve(
        fetch(`${endpoint}/v1/batches`, {
          method: 'POST',
          mode: 'cors',
          keepalive: batch.length <= KEEPALIVE_QUOTA,
          signal: abort !== null ? abort.signal : undefined,
          headers: { 'content-type': 'application/vnd.sightline.batch', 'x-sightline-key': projectKey },
          body: batch,
        }),
      ),
    )
      .then((response) => {
        const status = Number(response.status);
        const retryAfter = response.headers.get('retry-after');
        // The session holds all the collector takes of one: record on in a new one.
        if (response.headers.get('x-sightline-error') === 'session_full') {
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
    const url = `${endpoint}/v1/batches?key=${encodeURIComponent(projectKey)}`;
    return navigator.sendBeacon(url, new Blob([batch], { type: 'text/plain' }));
  }

  // The page is going away, or may be: a hidden tab can be discarded without a `pagehide`.
  // What waits goes out by beacon, and what the browser won't take is kept for the next page;
  // while the collector isn't answering, all is kept, beaconed or not (a beacon's failure
  // can't be seen).
  function leave() {
    settleTimezone();
    recordPendingRoutes();
    catchUp(LEAVING_SLICE_MS);
    const kept = guard((r) => r.unload(Date.now(), beacon));
    if (kept !== undefined) stashed = saveStash(projectKey, kept, stashed);
  }

  // What this page last kept in the stash; it stays queued here too, and leaves the stash once
  // delivered (see `onTick`).
  let stashed = [];

  // Takes back what earlier pages (or this one, while hidden) could not deliver.
  function resendStash() {
    const batches = takeStash(projectKey, stashed);
    stashed = [];
    for (const batch of batches) guard((r) => r.resend(batch));
  }

  // A page that lives on after all (shown again, or restored from the back-forward cache)
  // takes back what it kept for the next page.
  function comeBack() {
    resendStash();
    deliver();
  }

  function onPageShow(event) {
    if (event.persisted) comeBack();
  }

  // Route changes of single-page apps. The wrappers stay in place once installed (another
  // library may have wrapped them after us) and do nothing but call through when the SDK is off;
  // a throwing original throws exactly as before, and is not recorded.
  //
  // Apps set the new route's title after they render it, which comes after `pushState`: the
  // URL is taken at once, the title a moment later. Route changes of one task (a push and a
  // replace, a redirect) share the title the page gives them; a route change in a later task
  // first records those before it, with the title the page has by then.
  let lastUrl = null;
  let routes = [];
  let routeTimer = null;
  let inRouteTask = false;
  function recordRoute(kind) {
    if (state !== 'recording') return;
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

  // Tab visibility, and the viewport's size (a resize is recorded once it settles).
  let resizeTimer = null;
  function recordViewport() {
    resizeTimer = null;
    if (state !== 'recording') return;
    put(VIEWPORT, [Math.round(innerWidth), Math.round(innerHeight)]);
  }

  function onResize() {
    if (resizeTimer !== null) clearTimeout(resizeTimer);
    resizeTimer = setTimeout(recordViewport, 250);
  }

  function onVisibilityChange() {
    if (state !== 'recording') return;
    const visible = document.visibilityState === 'visible';
    recordPendingRoutes();
    put(VISIBILITY, [visible ? 1 : 0]);
    if (visible) comeBack();
    else leave();
  }

  // Console output and errors. The console methods are wrapped so that the original runs first,
  // with the same arguments and result; what is recorded is a capped text rendering of each
  // argument. Nothing the SDK itself logs is recorded.
  const LEVELS = { debug: 0, log: 1, info: 2, warn: 3, error: 4 };
  const MAX_ARG = 1024;
  const MAX_ARGS_TEXT = 8192;
  let inSdk = false;

  function clip(text, max) {
    return text.length > max ? text.slice(0, max) + '…' : text;
  }

  function render(value) {
    try {
      if (typeof value === 'string') return clip(value, MAX_ARG);
      if (value instanceof Error) return clip(`${value.name}: ${value.message}`, MAX_ARG);
      if (typeof Node !== 'undefined' && value instanceof Node) {
        const el = value;
        if (el.nodeType !== 1) return `#${el.nodeName.toLowerCase()}`;
        const id = el.id ? `#${el.id}` : '';
        const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
        return clip(`<${el.tagName.toLowerCase()}${id}${cls}>`, MAX_ARG);
      }
      if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
      if (typeof value === 'symbol' || typeof value === 'bigint') return String(value);
      if (value === undefined) return 'undefined';
      const seen = new WeakSet();
      let budget = MAX_ARG;
      const text = JSON.stringify(value, (key, v) => {
        if (budget <= 0) return undefined;
        budget -= key.length + 1;
        if (typeof v === 'object' && v !== null) {
          if (seen.has(v)) return '[Circular]';
          seen.add(v);
          if (typeof Node !== 'undefined' && v instanceof Node) return render(v);
        }
        if (typeof v === 'string') budget -= v.length;
        if (typeof v === 'bigint') return String(v);
        return v;
      });
      return clip(text === undefined ? String(value) : text, MAX_ARG);
    } catch (_) {
      return '[unrenderable]';
    }
  }

  function stackHere() {
    const stack = new Error().stack;
    // Drop the lines of the SDK's own frames (the Error line and the wrapper).
    return typeof stack === 'string' ? stack.split('\n').slice(3).join('\n') : undefined;
  }

  function wrapConsole() {
    if (typeof console === 'undefined') return;
    for (const [method, level] of Object.entries(LEVELS)) {
      const original = console[method];
      if (typeof original !== 'function') continue;
      console[method] = mimic(function (...args) {
        const result = original.apply(this, args);
        if (state === 'recording' && !inSdk) {
          inSdk = true;
          try {
            let budget = MAX_ARGS_TEXT;
            const texts = [];
            for (const arg of args) {
              if (budget <= 0) break;
              const text = render(arg);
              budget -= text.length;
              texts.push(text);
            }
            const stack = level >= 3 ? stackHere() : undefined;
            put(CONSOLE, [level, texts.length, stack === undefined ? 0 : 1], stack === undefined ? texts : texts.concat(stack));
          } finally {
            inSdk = false;
          }
        }
        return result;
      }, original);
    }
  }

  function onError(event) {
    if (state !== 'recording') return;
    const target = event.target;
    if (target && target !== window && target.tagName) {
      // A resource (image, script, stylesheet) failed to load; these don't bubble, hence capture.
      const url = pageUrl(String(target.currentSrc || target.src || target.href || ''));
      put(ERROR, [2, 0, 0, 0], [target.tagName.toLowerCase(), clip(url, 2048), '']);
      return;
    }
    const error = event.error;
    const name = error && error.name ? String(error.name) : 'Error';
    const message = clip(String(event.message || (error && error.message) || ''), 4096);
    const stack = error && typeof error.stack === 'string' ? clip(error.stack, 16384) : undefined;
    putError(0, name, message, stack, String(event.filename || ''), event.lineno >>> 0, event.colno >>> 0);
  }

  function onRejection(event) {
    if (state !== 'recording') return;
    const reason = event.reason;
    const isError = reason instanceof Error;
    const name = isError ? String(reason.name) : 'UnhandledRejection';
    const message = isError ? clip(String(reason.message), 4096) : render(reason);
    const stack = isError && typeof reason.stack === 'string' ? clip(reason.stack, 16384) : undefined;
    putError(1, name, message, stack, '', 0, 0);
  }

  function putError(kind, name, message, stack, source, line, column) {
    const texts = [name, message, source];
    if (stack !== undefined) texts.push(stack);
    put(ERROR, [kind, line, column, stack === undefined ? 0 : 1], texts);
    // The replay shows the page at the error, even inside a storm's pause.
    catchUp();
  }

  let errorsWatched = false;
  function watchErrors() {
    if (errorsWatched) return;
    errorsWatched = true;
    wrapConsole();
    addEventListener('error', onError, true);
    addEventListener('unhandledrejection', onRejection);
  }

  // Who is on what: client hints where the browser has them, the user agent string otherwise.
  function describeBrowser() {
    const ua = String(navigator.userAgent || '');
    const hints = navigator.userAgentData;
    let browser = ['', ''];
    let os = ['', ''];
    if (hints && Array.isArray(hints.brands)) {
      const brands = hints.brands.filter((b) => !/not.?a.?brand/i.test(b.brand));
      const named = brands.find((b) => b.brand !== 'Chromium') || brands[0];
      if (named) browser = [String(named.brand).replace(/^Google /, ''), String(named.version)];
      if (hints.platform) os = [String(hints.platform), ''];
    }
    if (!browser[0]) {
      const match =
        ua.match(/(Edg|OPR|Firefox|HeadlessChrome|Chrome|CriOS|FxiOS)\/([\d.]+)/) || ua.match(/Version\/([\d.]+).*(Safari)/);
      if (match) browser = match[2] === 'Safari' ? ['Safari', match[1]] : [match[1].replace('Edg', 'Edge').replace('OPR', 'Opera'), match[2]];
    }
    if (!os[0]) {
      const match = ua.match(/(Windows NT|Android|iPhone OS|CPU OS|Mac OS X|CrOS|Linux)[ _]?([\d._]*)/);
      if (match) {
        const names = { 'Windows NT': 'Windows', 'iPhone OS': 'iOS', 'CPU OS': 'iPadOS', 'Mac OS X': 'macOS', CrOS: 'ChromeOS' };
        os = [names[match[1]] || match[1], match[2].replace(/_/g, '.')];
      }
    }
    // 1 desktop, 2 mobile, 3 tablet, 4 bot (automation included).
    let device = 1;
    if (/bot|crawl|spider|slurp|HeadlessChrome|Lighthouse/i.test(ua) || navigator.webdriver) device = 4;
    else if (/iPad|Tablet/i.test(ua) || (/Android/.test(ua) && !/Mobile/.test(ua))) device = 3;
    else if ((hints && hints.mobile) || /Mobi|iPhone/.test(ua)) device = 2;
    return { ua, browser, os, device };
  }

  // The IANA time zone costs the first Intl call of the page (its locale data load, 10 ms and
  // more): it is remembered per browser for the current UTC offset, and otherwise looked up
  // when the page is idle and filled into the page's metadata before its first batch leaves.
  // Browsers with Temporal name it without that load, in well under a millisecond.
  const TIMEZONE_KEY = 'sightline.timezone';

  // The time zone when it can be had at once (from Temporal, or remembered), else null.
  function timezoneAtOnce(offset) {
    try {
      const [at, zone] = String(localStorage.getItem(TIMEZONE_KEY) || '').split('|');
      if (at === String(offset) && zone) return zone;
      // A polyfilled Temporal would ask Intl at once: only the browser's own is used.
      const now = typeof Temporal !== 'undefined' && Temporal.Now;
      return now && /\[native code\]/.test(String(now.timeZoneId)) ? now.timeZoneId() || null : null;
    } catch (_) {
      return null;
    }
  }

  let timezonePending = null;

  // Anything sent before the idle lookup ran (a flush, the page going away) settles it first.
  function settleTimezone() {
    if (timezonePending !== null) timezonePending();
  }

  function lookUpTimezone(offset) {
    const later = typeof requestIdleCallback === 'function' ? (fn) => requestIdleCallback(fn, { timeout: 1000 }) : (fn) => setTimeout(fn, 50);
    timezonePending = () => {
      timezonePending = null;
      let zone = '';
      try {
        zone = Intl.DateTimeFormat().resolvedOptions().timeZone || '';
        localStorage.setItem(TIMEZONE_KEY, `${offset}|${zone}`);
      } catch (_) {
        // Without Intl or storage, the UTC offset still places the user.
      }
      if (zone) put(TIMEZONE, [], [zone]);
    };
    later(settleTimezone);
  }

  // Page URLs go out with credentials redacted (reset links, OAuth fragments), and the title
  // is masked with the page's text.
  function pageUrl(href) {
    return network !== null ? network.cleanPageUrl(href) : String(href);
  }

  function pageTitle() {
    const title = String(document.title || '');
    return settings !== null && settings.maskAllText === true ? title.replace(/\S/g, '*') : title;
  }

  function recordMeta() {
    const { ua, browser, os, device } = describeBrowser();
    const offset = -new Date().getTimezoneOffset();
    const timezone = timezoneAtOnce(offset);
    if (timezone === null) lookUpTimezone(offset);
    put(
      META,
      [device, screen.width, screen.height, Math.round(innerWidth), Math.round(innerHeight), Number(devicePixelRatio) || 1, offset],
      [
        pageUrl(location.href),
        document.referrer ? pageUrl(document.referrer) : '',
        pageTitle(),
        ua,
        browser[0],
        browser[1],
        os[0],
        os[1],
        String(navigator.language || ''),
        timezone || '',
      ],
    );
  }

  function onTick() {
    guard((r) => {
      if (r.tick(Date.now())) keyframe();
      deliver();
      if (stashed.length > 0 && r.isIdle()) stashed = saveStash(projectKey, [], stashed);
      // After stop(), the timer runs only until everything recorded is delivered.
      if (state === 'stopped' && r.isIdle()) shutDown();
    });
  }

  // Whether this tab is recorded: decided once per tab (kept in sessionStorage), so a reload
  // doesn't cut a recorded session short or start recording half-way through one. Returns
  // 'in', 'out', or 'out now' when the tab was just left out (which the collector hears of
  // once per tab).
  function sampling(rate) {
    if (rate === undefined || rate === null || Number(rate) >= 1) return 'in';
    const key = 'sightline.sampled';
    let decision = null;
    let fresh = false;
    try {
      decision = sessionStorage.getItem(key);
      if (decision === null) {
        decision = Math.random() < Number(rate) ? '1' : '0';
        fresh = true;
        sessionStorage.setItem(key, decision);
      }
    } catch (_) {
      decision = Math.random() < Number(rate) ? '1' : '0';
    }
    if (decision === '1') return 'in';
    return fresh ? 'out now' : 'out';
  }

  function init(options) {
    if (starting === null) starting = start(options);
    return starting;
  }

  async function start(options) {
    state = 'starting';
    // What start-up was doing when it failed: the reason the SDK is off.
    let phase = 'options';
    try {
      if (!options || !options.endpoint || !options.projectKey) {
        throw new Error('init needs { endpoint, projectKey }');
      }
      // Absolute once and for all: a relative endpoint would follow the route (or a `<base>`).
      endpoint = new URL(String(options.endpoint), document.baseURI).href.replace(/\/+$/, '');
      projectKey = String(options.projectKey);
      const sampled = sampling(options.sampleRate);
      if (sampled !== 'in') {
        state = 'disabled';
        disabledReason = 'sampled_out';
        if (sampled === 'out now') report('disabled', 'sampled_out');
        return;
      }
      settings = options;
      viewer = options.viewerUrl ? String(options.viewerUrl).replace(/\/+$/, '') : endpoint;
      phase = 'wasm';
      await initWasm({ module_or_path: options.wasmUrl ?? defaultWasmUrl() });
      // stop() while the wasm was loading means: don't record.
      if (state !== 'starting') return;
      phase = 'storage';
      recorder = new Recorder(projectKey, Date.now());
      phase = 'start';
      resendStash();
      state = 'recording';
      // The page's key for the trace ids of its requests: the wrapper derives each request's
      // ids from it and the request's number, and so does the collector from what is recorded.
      const traceKey = crypto.getRandomValues(new Uint8Array(32));
      put(TRACE_KEY, Array.from(traceKey));
      network = createNetworkRecorder(networkSink(), { ...options, endpoint }, traceKey);
      recordMeta();
      timer = setInterval(onTick, 1000);
      addEventListener('pagehide', leave);
      addEventListener('pageshow', onPageShow);
      watchRoutes();
      watchErrors();
      recordViewport();
      dom = createDomRecorder(domSink(), options);
      dom.start();
      network.start();
      keyframeTimer = setInterval(keyframe, options.keyframeIntervalMs || KEYFRAME_INTERVAL_MS);
      addEventListener('resize', onResize);
      document.addEventListener('visibilitychange', onVisibilityChange);
    } catch (error) {
      disable(error, phase);
    }
  }

  // A walk of the page the recorder could not read was dropped; it asks for another walk by
  // itself (`tick`).
  function recovered(dropped, reason) {
    if (dropped === true) report('recovered', reason);
  }

  // What the DOM recorder hands to the wasm recorder, stamped with the time.
  function domSink() {
    return {
      guard,
      snapshot: (nums, texts) => recovered(guard((r) => r.snapshot(nums, texts, Date.now())), 'snapshot_tape'),
      mutation: (nums, texts) => recovered(guard((r) => r.mutation(nums, texts, Date.now())), 'mutation_tape'),
      pointer: (kind, id, x, y) => put(POINTER, [kind, id, x, y]),
      mouseMoves: (samples, at) => put(MOUSE_MOVES, samples, [], at),
      // A scroll the user made, or one the page made (or a snapshot found): only the user's
      // keeps the session alive.
      scroll: (id, x, y, byUser) => put(byUser ? SCROLL : SCROLL_POSITION, [id, x, y]),
      input: (id, value, checked, masked) => put(INPUT, [id, checked, masked ? 1 : 0], [value]),
      focus: (id, focused) => put(FOCUS, [id, focused ? 1 : 0]),
      styleSheet: (id, owner, rules, media) => put(STYLE_SHEET, [id, owner], [media].concat(rules)),
      styleRule: (sheet, path, rule) =>
        put(STYLE_RULE, [sheet, rule === undefined ? 0 : 1].concat(Array.from(path)), rule === undefined ? [] : [rule]),
      adoptedStyleSheets: (host, sheets) => put(ADOPTED_STYLE_SHEETS, [host].concat(Array.from(sheets))),
      canvas: (id, image) => put(CANVAS, [id], [image]),
      cleanUrl: pageUrl,
    };
  }

  function networkSink() {
    return {
      guard,
      network: (nums, texts, end) => put(NETWORK, nums, texts, end),
    };
  }

  function identify(userId, traits) {
    if (state !== 'recording') return;
    putWithValue(IDENTIFY, String(userId), traits);
  }

  function track(name, props) {
    if (state !== 'recording') return;
    putWithValue(CUSTOM, String(name), props);
  }

  function flush() {
    settleTimezone();
    recordPendingRoutes();
    guard((r) => r.flush(Date.now()));
    deliver();
  }

  function stop() {
    if (state === 'recording') {
      if (keyframeTimer !== null) clearInterval(keyframeTimer);
      keyframeTimer = null;
      catchUp(LEAVING_SLICE_MS);
      if (dom !== null) guard(() => dom.stop());
      dom = null;
      if (network !== null) network.stop();
      recordPendingRoutes();
      guard((r) => r.stop(Date.now()));
      deliver();
      if (state !== 'disabled') state = 'stopped';
    } else if (state === 'starting') {
      state = 'stopped';
    }
  }

  // `{ at: 'now' }` links to this moment of the replay (`?t=` ms since the epoch).
  function getSessionUrl(options) {
    const id = guard((r) => r.sessionId());
    if (!id) return null;
    const at = options && options.at === 'now' ? `?t=${Date.now()}` : '';
    return `${viewer}/sessions/${id}${at}`;
  }

  // What the SDK is doing: `{ state, reason }`, the reason being why it is off (null otherwise).
  function status() {
    return { state, reason: state === 'disabled' ? disabledReason : null };
  }

  return { init, identify, track, flush, stop, getSessionUrl, status };
}
