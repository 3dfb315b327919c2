// The public API around the wasm recorder. Every entry point catches its own failures: if the
// wasm can't load or the recorder throws, the SDK switches itself off and the page carries on
// as if it weren't installed.
//
// This module wires the API's parts (under api/) around the state they share: page metadata
// (page.js), route changes (routes.js), delivery of batches (delivery.js), console output and
// errors (console.js), next to the DOM and network recorders. The DOM recorder (dom.js) is a
// file of its own, loaded while the wasm loads: what a page must load before it runs is the
// API, the network wrappers and the error listeners, which are in place from `init`.

import { createConsoleAndErrors, flattenValue, MAX_VALUE_TEXT } from './api/console.js';
import { createBuffer } from './api/buffer.js';
import { createDelivery, LEAVING_SLICE_MS } from './api/delivery.js';
import { createGrants } from './api/grant.js';
import { createPageMetadata } from './api/page.js';
import { createRoutes } from './api/routes.js';
import { ADOPTED_STYLE_SHEETS, CANVAS, CUSTOM, ERROR, FEEDBACK, FOCUS, IDENTIFY, INPUT, KEY, MOUSE_MOVES, NETWORK, POINTER, SCROLL, SCROLL_POSITION, STYLE_RULE, STYLE_SHEET, SUBMIT, TRACE_KEY } from './kinds.js';
import { createNetworkRecorder } from './network.js';
import { joinTexts } from './tape.js';
import { VERSION } from './version.js';

// A full snapshot is taken this often, so a lost batch never ruins the rest of a replay.
const KEYFRAME_INTERVAL_MS = 5 * 60 * 1000;
// Characters of a feedback report sent at most (the protocol's MAX_FEEDBACK).
const MAX_FEEDBACK = 4000;
// Events kept while the recorder's wasm loads: at most this many, and this many characters;
// past either, requests and console output are dropped before errors and what the app says.
const MAX_EARLY = 500;
const MAX_EARLY_CHARS = 1 << 20;

// Runs `fn` once the current script is done, before the page's next listener: the browser's
// own `queueMicrotask`, taken before a page can replace it.
const soon =
  typeof queueMicrotask === 'function' ? queueMicrotask.bind(globalThis) : (fn) => Promise.resolve().then(fn);

export function createSightline(initWasm, Recorder, defaultWasmUrl, feedbackUrl, domUrl) {
  let recorder = null;
  let dom = null;
  let keyframeTimer = null;
  let viewer = null;
  let timer = null;
  let starting = null;
  let state = 'idle'; // idle → starting → recording → stopped | disabled
  // What start-up learns, which the API's parts read when they need it.
  // `buffer` holds the recording while in buffer mode (see api/buffer.js), and is null otherwise.
  // `grants` holds this tab's capture grant (see api/grant.js).
  const sdk = { endpoint: null, projectKey: null, settings: null, network: null, buffer: null, grants: null };
  // Start-up's options and the last user named, while this tab is sampled out: a capture grant
  // for the user starts recording after all.
  let sampledOut = null;
  let checkoutTimer = null;
  // While the recorder's wasm loads, the requests, console output and errors already recorded:
  // `[kind, nums, texts, at]`, handed to the recorder once it is ready; null otherwise.
  let early = null;
  // Characters kept in `early`: of requests and console lines, and of the rest.
  let earlyChars = [0, 0];
  // Why the SDK is off, once it is: one of the collector's report reasons
  // (collector/src/api/sdk_reports.rs).
  let disabledReason = null;
  // Reports sent from this page, at most a few (see `reportSdk`).
  let reportsLeft = 4;

  const { pageUrl, pageTitle, recordMeta, settleTimezone, recordViewport, onResize } = createPageMetadata(sdk, isRecording, put);
  const { recordPendingRoutes, watchRoutes } = createRoutes(isRecording, guard, put, pageUrl, pageTitle);
  const { watchErrors, logDisabled, releaseErrors } = createConsoleAndErrors(isCapturing, put, catchUp, pageUrl, recordEventInProgress);
  const { deliver, leave, resendStash, unstashDelivered, onPageShow, onVisibilityChange } = createDelivery(
    sdk,
    isRecording,
    guard,
    put,
    catchUp,
    settleTimezone,
    recordPendingRoutes,
    releaseErrors,
  );

  sdk.grants = createGrants(sdk, granted);

  // A capture grant was applied (or let go: `null`). It records the grant's URLs in detail,
  // sends what buffer mode kept, and starts recording a tab sampling left out.
  function granted(grant) {
    if (sdk.network !== null) sdk.network.grant(grant === null ? null : grant.urls);
    if (grant === null) return;
    if (sdk.buffer !== null) capture();
    if (sampledOut !== null && state === 'disabled') {
      const { options, user } = sampledOut;
      sampledOut = null;
      state = 'idle';
      disabledReason = null;
      starting = start(options).then(() => user !== null && identify(...user));
    }
  }

  function isRecording() {
    return state === 'recording';
  }

  // Whether requests, console output and errors are recorded: also while the wasm loads.
  function isCapturing() {
    return state === 'recording' || early !== null;
  }

  function shutDown() {
    early = null;
    if (timer !== null) clearInterval(timer);
    timer = null;
    if (checkoutTimer !== null) clearInterval(checkoutTimer);
    checkoutTimer = null;
    if (keyframeTimer !== null) clearInterval(keyframeTimer);
    keyframeTimer = null;
    if (sdk.network !== null) sdk.network.stop();
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
  function reportSdk(kind, reason) {
    if (sdk.endpoint === null || sdk.projectKey === null || reportsLeft <= 0) return;
    reportsLeft--;
    try {
      const url = `${sdk.endpoint}/v1/sdk-reports?key=${encodeURIComponent(sdk.projectKey)}`;
      navigator.sendBeacon(url, JSON.stringify({ kind, reason }));
    } catch (_) {
      // Reporting is best effort.
    }
  }

  function disable(error, reason = 'runtime') {
    sdk.buffer = null;
    if (state !== 'disabled') {
      disabledReason = reason;
      reportSdk('disabled', reason);
    }
    state = 'disabled';
    shutDown();
    recorder = null;
    if (error && typeof console !== 'undefined') logDisabled(error);
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
    if (early !== null) {
      const chars = texts.reduce((n, text) => n + String(text).length, nums.length);
      const vital = kind === ERROR || kind === IDENTIFY || kind === CUSTOM || kind === TRACE_KEY ? 1 : 0;
      const room = early.length < (vital + 1) * MAX_EARLY && earlyChars[vital] + chars <= MAX_EARLY_CHARS;
      if (room) {
        early.push([kind, nums, texts, at]);
        earlyChars[vital] += chars;
      }
      return;
    }
    // An event that began a new session (the user back after a long while) is followed by the
    // page as it is now, before the page's own listeners react to it.
    if (guard((r) => r.record(kind, nums, joinTexts(texts), at)) === true) guard(() => soon(keyframe));
    // In buffer mode, an uncaught error or rejection (not a resource that failed to load) is
    // what the kept recording was waiting for.
    if (sdk.buffer !== null && kind === ERROR && nums[0] !== 2) soon(capture);
  }

  // Buffer mode: the batch being recorded is closed and kept, and the next one starts with a
  // keyframe, so the kept tail can be replayed from there.
  function checkout() {
    if (sdk.buffer === null) return;
    guard((r) => r.flush(Date.now()));
    deliver();
    sdk.buffer.checkout(Date.now());
    keyframe();
  }

  // Buffer mode ends: what was kept goes to the collector, in order, with the recorder's own
  // retries, and everything after it as in full mode.
  function capture() {
    if (sdk.buffer === null || state !== 'recording') return;
    guard((r) => r.flush(Date.now()));
    deliver();
    const kept = sdk.buffer.take();
    sdk.buffer = null;
    if (checkoutTimer !== null) clearInterval(checkoutTimer);
    checkoutTimer = null;
    for (const batch of kept) guard((r) => r.resend(batch));
    resendStash();
    deliver();
  }

  function keyframe() {
    guard(() => dom !== null && dom.keyframe());
  }

  // The page as it is now, if a mutation storm paused its diffing (see dom/mutations.js).
  function recordEventInProgress() {
    guard(() => dom !== null && dom.recordEventInProgress());
  }

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

  function onTick() {
    guard((r) => {
      if (r.tick(Date.now())) keyframe();
      deliver();
      unstashDelivered(r);
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
    let decision;
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
      sdk.endpoint = new URL(String(options.endpoint), document.baseURI).href.replace(/\/+$/, '');
      sdk.projectKey = String(options.projectKey);
      sdk.grants.load();
      const sampled = sdk.grants.current() !== null ? 'in' : sampling(options.sampleRate);
      if (sampled !== 'in') {
        sampledOut = { options, user: null };
        state = 'disabled';
        disabledReason = 'sampled_out';
        if (sampled === 'out now') reportSdk('disabled', 'sampled_out');
        return;
      }
      sdk.settings = options;
      viewer = options.viewerUrl ? String(options.viewerUrl).replace(/\/+$/, '') : sdk.endpoint;
      // The app's first requests and errors come while the wasm loads: the wrappers and the
      // error listeners are in place now, and what they record waits in `early`.
      const startedAt = Date.now();
      // The wasm is asked for before the wrappers are in place: its download is not the app's.
      phase = 'wasm';
      const wasmSource = options.wasmUrl ?? defaultWasmUrl();
      const isUrl = typeof wasmSource === 'string' || wasmSource instanceof URL;
      const wasm = isUrl || (typeof Request === 'function' && wasmSource instanceof Request) ? fetch(wasmSource) : wasmSource;
      // The DOM recorder's module comes at the same time: from `domUrl`, else next to this
      // script (the URL a bundler rewrites, when it moves the package's files).
      const domHref = options.domUrl ? new URL(String(options.domUrl), document.baseURI).href : domUrl().href;
      const domModule = import(/* webpackIgnore: true */ /* @vite-ignore */ domHref);
      // Awaited below; should start-up fail before, their failures are no rejections of the page's.
      domModule.catch(() => {});
      if (wasm && typeof wasm.catch === 'function') wasm.catch(() => {});
      early = [];
      phase = 'storage';
      // The page's key for the trace ids of its requests: the wrapper derives each request's
      // ids from it and the request's number, and so does the collector from what is recorded.
      const traceKey = crypto.getRandomValues(new Uint8Array(32));
      put(TRACE_KEY, Array.from(traceKey));
      phase = 'start';
      sdk.network = createNetworkRecorder(networkSink(), { ...options, endpoint: sdk.endpoint }, traceKey);
      const grant = sdk.grants.current();
      if (grant !== null) sdk.network.grant(grant.urls);
      sdk.network.start();
      watchErrors();
      phase = 'wasm';
      await initWasm({ module_or_path: wasm });
      const { createDomRecorder, DOM_VERSION } = await domModule;
      if (DOM_VERSION !== VERSION) {
        phase = 'version';
        throw new Error(`dom.js is from release ${DOM_VERSION}, this script from ${VERSION}`);
      }
      // stop() while the wasm was loading means: don't record.
      if (state !== 'starting') {
        shutDown();
        return;
      }
      phase = 'storage';
      recorder = new Recorder(sdk.projectKey, startedAt);
      phase = 'start';
      if (options.mode === 'buffer' && sdk.grants.current() === null) {
        sdk.buffer = createBuffer(options.bufferSeconds);
        checkoutTimer = setInterval(checkout, sdk.buffer.checkoutEveryMs);
      } else {
        // What earlier pages could not deliver; in buffer mode it waits for the capture, so
        // that the kept batches are this page's alone.
        resendStash();
      }
      state = 'recording';
      const waiting = early;
      early = null;
      earlyChars = [0, 0];
      for (const [kind, nums, texts, at] of waiting) put(kind, nums, texts, at);
      // The recorder may have refused what came early: then it is off, and nothing more starts.
      if (state !== 'recording') return;
      recordMeta();
      timer = setInterval(onTick, 1000);
      addEventListener('pagehide', leave);
      addEventListener('pageshow', onPageShow);
      watchRoutes();
      recordViewport();
      dom = createDomRecorder(domSink(), options);
      dom.start();
      keyframeTimer = setInterval(keyframe, options.keyframeIntervalMs || KEYFRAME_INTERVAL_MS);
      addEventListener('resize', onResize);
      document.addEventListener('visibilitychange', onVisibilityChange);
    } catch (error) {
      // A page that stopped the SDK while it started chose so: nothing to report.
      if (state !== 'stopped') disable(error, phase);
    }
  }

  // A walk of the page the recorder could not read was dropped; it asks for another walk by
  // itself (`tick`).
  function recovered(dropped, reason) {
    if (dropped === true) reportSdk('recovered', reason);
  }

  // What the DOM recorder hands to the wasm recorder, stamped with the time.
  function domSink() {
    return {
      guard,
      snapshot: (nums, texts) => recovered(guard((r) => r.snapshot(nums, texts, Date.now())), 'snapshot_tape'),
      mutation: (nums, texts) => recovered(guard((r) => r.mutation(nums, texts, Date.now())), 'mutation_tape'),
      pointer: (kind, id, x, y, dispatchedAt) => userEvent(dispatchedAt, () => put(POINTER, [kind, id, x, y])),
      mouseMoves: (samples, at) => put(MOUSE_MOVES, samples, [], at),
      // A scroll the user made, or one the page made (or a snapshot found): only the user's
      // keeps the session alive.
      scroll: (id, x, y, byUser) => put(byUser ? SCROLL : SCROLL_POSITION, [id, x, y]),
      input: (id, value, checked, masked, scripted) => put(INPUT, [id, checked, masked ? 1 : 0, scripted ? 1 : 0], [value]),
      focus: (id, focused) => put(FOCUS, [id, focused ? 1 : 0]),
      key: (id, modifiers, key, dispatchedAt) => userEvent(dispatchedAt, () => put(KEY, [id, modifiers], [key])),
      submit: (id) => put(SUBMIT, [id]),
      styleSheet: (id, owner, rules, media) => put(STYLE_SHEET, [id, owner], [media].concat(rules)),
      styleRule: (sheet, path, rule) =>
        put(STYLE_RULE, [sheet, rule === undefined ? 0 : 1].concat(Array.from(path)), rule === undefined ? [] : [rule]),
      adoptedStyleSheets: (host, sheets) => put(ADOPTED_STYLE_SHEETS, [host].concat(Array.from(sheets))),
      canvas: (id, image) => put(CANVAS, [id], [image]),
      cleanUrl: pageUrl,
    };
  }

  // A click or key of the user's: the errors held from before it was dispatched are recorded
  // before it; those raised while it was (by a page listener that ran before the SDK's), after
  // it, as its own.
  function userEvent(dispatchedAt, record) {
    releaseErrors(dispatchedAt);
    record();
    releaseErrors();
  }

  // What the wrappers run, also while the wasm loads: a failure switches the SDK off.
  function safely(fn) {
    if (state === 'disabled') return undefined;
    try {
      return fn();
    } catch (error) {
      disable(error);
      return undefined;
    }
  }

  function networkSink() {
    return {
      guard: safely,
      network: (nums, texts, end) => put(NETWORK, nums, texts, end),
    };
  }

  // Both are recorded from `init` on, while the wasm loads too.
  function identify(userId, traits) {
    if (isCapturing()) putWithValue(IDENTIFY, String(userId), traits);
    else if (sampledOut !== null && state === 'disabled') sampledOut.user = [userId, traits];
    else return;
    sdk.grants.identified(userId, traits);
  }

  function track(name, props) {
    if (!isCapturing()) return;
    putWithValue(CUSTOM, String(name), props);
  }

  // The user's own words about a problem, tied to this moment of the session: recorded, and
  // sent now with everything before it. Returns whether it was taken (the SDK is recording and
  // there are words).
  function report(text) {
    if (state !== 'recording') return false;
    const words = Array.from(String(text ?? '').trim()).slice(0, MAX_FEEDBACK).join('');
    if (!words) return false;
    put(FEEDBACK, [], [words]);
    capture();
    flush();
    return true;
  }

  // The feedback dialog, one at a time; resolves to whether the user sent a report. Its module
  // (feedback.js, next to the SDK) is loaded when first asked for: a page that never opens it
  // never loads it.
  let feedbackOpen = null;
  function feedback(options) {
    if (state !== 'recording') return Promise.resolve(false);
    if (feedbackOpen === null) {
      // Never a rejection into the page: a dialog that can't load or open is a report not sent.
      feedbackOpen = import(/* webpackIgnore: true */ /* @vite-ignore */ feedbackUrl().href)
        .then((module) => module.openFeedback(report, MAX_FEEDBACK, options))
        .catch(() => false)
        .finally(() => {
          feedbackOpen = null;
        });
    }
    return feedbackOpen;
  }

  function flush() {
    settleTimezone();
    recordPendingRoutes();
    guard((r) => r.flush(Date.now()));
    deliver();
  }

  function stop() {
    // A tab sampling left out stays out: no grant starts it after this.
    sampledOut = null;
    // Buffer mode: what was kept is let go, and nothing more is kept or sent.
    if (sdk.buffer !== null) {
      if (checkoutTimer !== null) clearInterval(checkoutTimer);
      checkoutTimer = null;
      sdk.buffer.take();
    }
    if (state === 'recording') {
      if (keyframeTimer !== null) clearInterval(keyframeTimer);
      keyframeTimer = null;
      catchUp(LEAVING_SLICE_MS);
      releaseErrors();
      if (dom !== null) guard(() => dom.stop());
      dom = null;
      if (sdk.network !== null) sdk.network.stop();
      recordPendingRoutes();
      guard((r) => r.stop(Date.now()));
      deliver();
      if (state !== 'disabled') state = 'stopped';
    } else if (state === 'starting') {
      // The wrappers and listeners already in place go now, not once the wasm has loaded.
      state = 'stopped';
      shutDown();
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
    return { state, reason: state === 'disabled' ? disabledReason : null, buffering: sdk.buffer !== null };
  }

  return { init, identify, track, report, feedback, flush, stop, getSessionUrl, status };
}
