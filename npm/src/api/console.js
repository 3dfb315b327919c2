// Console output and errors, and the page's values made into what the recorder takes: console
// arguments rendered as capped text, identify() and track() values flattened as plain JSON.
// The console methods are wrapped so that the original runs first, with the same arguments and
// result; what is recorded is a capped text rendering of each argument. Nothing the SDK itself
// logs is recorded.

import { CONSOLE, ERROR } from '../kinds.js';
import { mimic } from '../wrap.js';

const LEVELS = { debug: 0, log: 1, info: 2, warn: 3, error: 4 };
const MAX_ARG = 1024;
const MAX_ARGS_TEXT = 8192;
// Values of identify() and track() are capped at this many characters of text and values
// together, 8 levels deep and 100 items per list or object.
export const MAX_VALUE_TEXT = 8192;

// A plain-JSON value as the recorder's intake reads it, depth first: numbers (a tag, then a
// number or a length where the tag needs one) and text fields. What isn't plain JSON becomes
// null.
export function flattenValue(value, nums, texts, depth, budget) {
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

// `put` and `catchUp` are the API's calls into the recorders (see api.js); `pageUrl` redacts a
// failed resource's URL (see page.js).
// `recordEventInProgress` records the user's click being dispatched, if one is, before an error
// the page logs.
export function createConsoleAndErrors(isRecording, put, catchUp, pageUrl, recordEventInProgress) {
  let inSdk = false;

  function wrapConsole() {
    if (typeof console === 'undefined') return;
    for (const [method, level] of Object.entries(LEVELS)) {
      const original = console[method];
      if (typeof original !== 'function') continue;
      console[method] = mimic(function (...args) {
        const result = original.apply(this, args);
        if (isRecording() && !inSdk) {
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
            // An error logged by the page's own click handler is the click's, whichever
            // listener ran first.
            if (level >= 3) recordEventInProgress();
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

  // The SDK's own word on the console, that it switched itself off: not recorded.
  function logDisabled(error) {
    inSdk = true;
    try {
      console.debug('[sightline] disabled:', error);
    } finally {
      inSdk = false;
    }
  }

  function onError(event) {
    if (!isRecording()) return;
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
    const raisedAt = performance.timeOrigin + (event.timeStamp || performance.now());
    hold(raisedAt, [0, name, message, stack, String(event.filename || ''), event.lineno >>> 0, event.colno >>> 0]);
  }

  // An uncaught error is held for a moment. When the page's own listener throws while the
  // user's click or key is dispatched, before the SDK's listener has seen it, the browser
  // reports the error in an event of its own, so the click being dispatched can't be read then:
  // held, the error is recorded once the SDK has recorded that click or key, as its own
  // (`releaseErrors(dispatchedAt)` before it, `releaseErrors()` after), or else by a message
  // posted to the next task, or when the page leaves or the SDK stops.
  const held = [];
  let channel;
  let releasing = false;

  function hold(raisedAt, error) {
    held.push([Number(raisedAt) || 0, error]);
    if (releasing) return;
    releasing = true;
    try {
      if (channel === undefined) {
        channel = null;
        channel = new MessageChannel();
        channel.port1.onmessage = () => releaseErrors();
        // Outside a browser (a server render, a test runner) the port must not keep the process up.
        if (typeof channel.port1.unref === 'function') channel.port1.unref();
      }
      channel.port2.postMessage(0);
    } catch (_) {
      setTimeout(releaseErrors, 0);
    }
  }

  // Records the errors held that were raised before `before` (ms since the epoch, when a click
  // or key was made), or all.
  function releaseErrors(before = Infinity) {
    while (held.length > 0 && held[0][0] < before) putError(...held.shift()[1]);
    if (held.length === 0) releasing = false;
  }

  function onRejection(event) {
    if (!isRecording()) return;
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

  return { watchErrors, logDisabled, releaseErrors };
}
