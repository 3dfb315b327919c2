// Network capture: every fetch, XMLHttpRequest and sendBeacon call with its method, URL,
// status, timing, sizes and error, and a W3C `traceparent` on requests to the page's own origin
// (and to origins the app names), so the backend's logs of the same request can be joined.
//
// The wrappers never change what the page sees: the original is called with the page's own
// arguments (plus the traceparent header), its promise or result is returned as is, and a
// throw propagates unchanged. Headers and bodies are read only for URLs the app allow-lists,
// from clones, capped, with credential-like values redacted before anything reaches the
// recorder. The SDK's own requests to the collector are neither recorded nor traced.

import { createRedaction, REDACTED, toMatcher } from './redact.js';
import { mimic } from './wrap.js';

const FETCH = 0;
const XHR = 1;
const BEACON = 2;

const DEFAULT_MAX_BODY = 64 * 1024;
// Two hex digits for each byte value.
const HEX = Array.from({ length: 256 }, (_, b) => (b < 16 ? '0' : '') + b.toString(16));

function hex(bytes, start, end) {
  let out = '';
  for (let i = start; i < end; i++) out += HEX[bytes[i]];
  return out;
}

// The quarter rounds of ChaCha20's double round, by state index.
const QUARTER_ROUNDS = [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15, 0, 5, 10, 15, 1, 6, 11, 12, 2, 7, 8, 13, 3, 4, 9, 14];

const rotl = (v, c) => (v << c) | (v >>> (32 - c));

// ChaCha20's state, its working copy and the 24 bytes of ids, reused by every call.
const chachaState = new Int32Array(16);
const chachaWork = new Int32Array(16);
const idWords = new Uint32Array(6);
const idBytes = new Uint8Array(idWords.buffer);

// The `traceparent` of the page's request number `n`: its trace and span id are the first 24
// bytes of ChaCha20's block `n` (RFC 8439, zero nonce) under the page's key, as
// `TraceKey::derive` in protocol/src/trace_key.rs computes them. A recorded request then
// carries a one-byte marker instead of 24 random bytes, and the collector derives the same ids.
function derivedTraceparent(keyWords, n) {
  const state = chachaState;
  const x = chachaWork;
  state.set([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);
  state.set(keyWords, 4);
  state[12] = n;
  state[13] = state[14] = state[15] = 0;
  x.set(state);
  for (let round = 0; round < 10; round++) {
    for (let q = 0; q < 32; q += 4) {
      const a = QUARTER_ROUNDS[q];
      const b = QUARTER_ROUNDS[q + 1];
      const c = QUARTER_ROUNDS[q + 2];
      const d = QUARTER_ROUNDS[q + 3];
      x[a] += x[b];
      x[d] = rotl(x[d] ^ x[a], 16);
      x[c] += x[d];
      x[b] = rotl(x[b] ^ x[c], 12);
      x[a] += x[b];
      x[d] = rotl(x[d] ^ x[a], 8);
      x[c] += x[d];
      x[b] = rotl(x[b] ^ x[c], 7);
    }
  }
  // Typed arrays are little-endian wherever browsers run, as the Rust side writes the words.
  for (let i = 0; i < 6; i++) idWords[i] = x[i] + state[i];
  // All-zero ids are invalid in W3C trace context.
  if (idBytes.subarray(0, 16).every((b) => b === 0)) idBytes[0] = 1;
  if (idBytes.subarray(16, 24).every((b) => b === 0)) idBytes[16] = 1;
  return `00-${hex(idBytes, 0, 16)}-${hex(idBytes, 16, 24)}-01`;
}

// The UTF-8 size of a text, as it goes on the wire (a lone surrogate goes as U+FFFD).
function utf8Size(text) {
  let size = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) size += 1;
    else if (unit < 0x800) size += 2;
    else if ((unit & 0xfc00) === 0xd800 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      size += 4;
      i++;
    } else size += 3;
  }
  return size;
}

// A path-absolute URL made only of characters the URL parser keeps as they are, without dot
// segments: resolving it is appending it to the base's origin. Most requests look like this,
// and parsing a URL per request is the wrappers' largest cost.
const PLAIN_PATH = /^\/(?![/\\])[\w\-.~!$&()*+,;=:@/?%#]*$/;
const DOT_SEGMENT = /\/(\.|%2e)/i;


// `traceKey`: the page's 32 random bytes for deriving trace ids (the recorder has them too).
export function createNetworkRecorder(sink, options, traceKey) {
  const keyWords = new Uint32Array(new Uint8Array(traceKey).buffer);
  // Requests made on this page so far: each call's number.
  let requests = 0;
  // The collector's URL (absolute, as the wrapper hands it over), so its own requests are
  // recognised.
  const own = String(options.endpoint || '');
  const configured = toMatcher(options.networkDetailUrls);
  // The URLs of a capture grant (see api/grant.js), recorded as the configured ones are.
  let granted = null;
  const detailed = (url) => configured(url) || (granted !== null && granted(url));
  const traced = toMatcher(options.tracePropagationTargets, true);
  const { isCredential, redactParams, cleanUrl, redactJson } = createRedaction(options.redactKeys);
  const maxBody = Number(options.networkMaxBodyBytes) > 0 ? Number(options.networkMaxBodyBytes) : DEFAULT_MAX_BODY;
  let running = false;
  // Leaving the page cancels its requests, which then fail like a network error would. They
  // are recorded as aborted, not failed: the user left, the server did nothing wrong. Leaving
  // starts at `beforeunload`; an interaction, or the page still being there 3 s later (a
  // download link, a prompt the user cancelled), means it stayed.
  let leaving = false;
  let stayTimer = 0;
  const stayed = () => {
    leaving = false;
    clearTimeout(stayTimer);
  };
  const left = () => {
    leaving = true;
    clearTimeout(stayTimer);
    stayTimer = setTimeout(stayed, 3000);
  };
  const LEFT_ERROR = 'AbortError: the page was left before the response';
  // A document's origin never changes; its base URL changes with the route (or a `<base>`).
  const pageOrigin = location.origin;
  let baseHref = null;
  let baseOrigin = '';

  // Where a request goes, resolved as the browser resolves it (against the document's base
  // URL): `{ href, origin }`, or null when it doesn't parse.
  function target(input) {
    const text = String(input);
    const base = document.baseURI;
    try {
      if (base !== baseHref) {
        // Only an http(s) base resolves a path onto its origin (a `blob:` base has one too).
        baseOrigin = /^https?:/i.test(base) ? new URL(base).origin : '';
        baseHref = base;
      }
      if (baseOrigin !== '' && PLAIN_PATH.test(text) && !DOT_SEGMENT.test(text)) {
        return { href: baseOrigin + text, origin: baseOrigin };
      }
      const url = new URL(text, base);
      // A user name and password in a URL are credentials: never recorded.
      url.username = '';
      url.password = '';
      return { href: url.href, origin: url.origin };
    } catch (_) {
      return null;
    }
  }

  function isOwn(to) {
    return own !== '' && to.href.startsWith(own);
  }

  // Same origin always; other origins only when the app says their servers accept it, since
  // an unexpected header makes the browser ask the server first (CORS) and may break the call.
  function wantsTrace(to) {
    return to.origin === pageOrigin || traced(to.href);
  }

  // A body's text, redacted and capped: [text, size, truncated]; text is undefined for binary.
  function bodyText(text, contentType) {
    let clean = text;
    const type = String(contentType || '').toLowerCase();
    const trimmed = text.trimStart();
    if (type.includes('json') || trimmed.startsWith('{') || trimmed.startsWith('[')) {
      try {
        clean = JSON.stringify(redactJson(JSON.parse(text), 0));
      } catch (_) {
        // JSON that doesn't parse as a whole (NDJSON, a guard prefix, cut short): its
        // `"key": value` pairs are redacted where they stand.
        clean = text.replace(/"([^"\\]{1,128})"(\s*:\s*)("(?:[^"\\]|\\.)*"|[^,}\]\s]+)/g, (pair, key, colon) =>
          isCredential(key) ? `"${key}"${colon}"${REDACTED}"` : pair,
        );
      }
    } else if (type.includes('x-www-form-urlencoded') || (!type && /^[^\s=&]+=[^\s&]*(&[^\s=&]+=[^\s&]*)*$/.test(trimmed))) {
      const form = new URLSearchParams(text);
      redactParams(form);
      clean = form.toString();
    }
    const size = utf8Size(text);
    return clean.length > maxBody ? [clean.slice(0, maxBody), size, true] : [clean, size, false];
  }

  function headerList(entries) {
    const flat = [];
    for (const [name, value] of entries) flat.push(String(name).toLowerCase(), isCredential(name) ? REDACTED : String(value));
    return flat;
  }

  // What a request body is, without consuming it: [text or undefined, size or -1].
  function describeBody(body) {
    if (body === undefined || body === null) return [undefined, 0];
    if (typeof body === 'string') return [body, utf8Size(body)];
    if (body instanceof URLSearchParams) {
      const text = body.toString();
      return [text, text.length];
    }
    if (body instanceof Blob) return [undefined, body.size];
    if (body instanceof ArrayBuffer) return [undefined, body.byteLength];
    if (ArrayBuffer.isView(body)) return [undefined, body.byteLength];
    if (typeof FormData !== 'undefined' && body instanceof FormData) {
      const fields = new URLSearchParams();
      let files = false;
      for (const [key, value] of body) {
        if (typeof value === 'string') fields.append(key, value);
        else files = true;
      }
      return files ? [undefined, -1] : [fields.toString(), -1];
    }
    return [undefined, -1]; // a stream
  }

  // The call as the recorder's intake reads it (sdk-wasm/src/intake.rs): headers and bodies
  // only where they were captured.
  function record(call) {
    const texts = [call.method, call.url];
    const shape = [];
    for (const [headers, body] of [
      [call.requestHeaders, call.requestBody],
      [call.responseHeaders, call.responseBody],
    ]) {
      shape.push(headers == null ? -1 : headers.length / 2, body == null ? 0 : 1);
      if (headers != null) texts.push(...headers);
      if (headers != null && body != null) texts.push(body);
    }
    for (const text of [call.error, call.traceparent]) {
      shape.push(text == null ? 0 : 1);
      if (text != null) texts.push(text);
    }
    const end = Date.now();
    const nums = [call.id, call.initiator, call.status, call.start, end, call.requestSize, call.responseSize];
    nums.push(call.requestBodySize, call.requestTruncated ? 1 : 0, call.responseBodySize, call.responseTruncated ? 1 : 0);
    sink.network(nums.concat(shape), texts, end);
  }

  function newCall(initiator, method, to) {
    return {
      id: ++requests,
      initiator,
      method: String(method || 'GET').toUpperCase(),
      url: cleanUrl(to.href),
      status: 0,
      start: Date.now(),
      requestSize: -1,
      responseSize: -1,
      requestHeaders: undefined,
      requestBody: undefined,
      requestBodySize: -1,
      requestTruncated: false,
      responseHeaders: undefined,
      responseBody: undefined,
      responseBodySize: -1,
      responseTruncated: false,
      error: undefined,
      traceparent: undefined,
      detailed: detailed(to.href),
    };
  }

  // `contentType` is read only for an allow-listed call's body.
  function captureRequestBody(call, body, contentType) {
    const [text, size] = describeBody(body);
    call.requestSize = size;
    if (!call.detailed) return;
    call.requestBodySize = size;
    if (text !== undefined) {
      [call.requestBody, call.requestBodySize, call.requestTruncated] = bodyText(text, contentType());
    }
  }

  // The browser's message quotes a URL with a user name and password in it: those go.
  function errorText(error) {
    const text = error && typeof error === 'object' && 'name' in error ? `${error.name}: ${error.message}` : String(error);
    return text.replace(/\/\/[^\s/?#@]*@/g, '//');
  }

  // --- fetch ---------------------------------------------------------------------------------

  function wrapFetch() {
    const original = window.fetch;
    if (typeof original !== 'function') return;
    window.fetch = mimic(function (input, init) {
      if (!running) return original.apply(this, arguments);
      let call = null;
      let args = arguments;
      try {
        const isRequest = typeof Request !== 'undefined' && input instanceof Request;
        const to = target(isRequest ? input.url : input);
        if (to !== null && !isOwn(to)) {
          const method = (init && init.method) || (isRequest ? input.method : 'GET');
          call = newCall(FETCH, method, to);
          // Most calls set no headers: then none are parsed, and the trace header goes in a
          // plain record.
          const given = (init && init.headers) || (isRequest ? input.headers : undefined);
          const headers = given || call.detailed ? new Headers(given) : null;
          const existing = headers === null ? null : headers.get('traceparent');
          if (existing !== null) {
            call.traceparent = existing;
          } else if (wantsTrace(to)) {
            call.traceparent = derivedTraceparent(keyWords, call.id);
            if (isRequest && init === undefined) {
              // A copy of the Request keeps every setting of its own (referrer, mode, …);
              // passing an init would reset some of them.
              const copy = new Request(input);
              copy.headers.set('traceparent', call.traceparent);
              args = [copy];
            } else {
              if (headers !== null) headers.set('traceparent', call.traceparent);
              args = [input, Object.assign({}, init, { headers: headers || { traceparent: call.traceparent } })];
            }
          }
          if (call.detailed) call.requestHeaders = headerList(headers.entries());
          // A Request's own body can't be read without consuming it: its size stays unknown.
          if (init && 'body' in init) captureRequestBody(call, init.body, () => headers.get('content-type'));
        }
      } catch (_) {
        // Anything unexpected: the page's call goes through untouched and unrecorded.
        call = null;
        args = arguments;
      }
      const promise = original.apply(this, args);
      if (call !== null) {
        promise.then(
          (response) => sink.guard(() => onFetchResponse(call, response)),
          (error) => sink.guard(() => {
            call.error = leaving ? LEFT_ERROR : errorText(error);
            record(call);
          }),
        );
      }
      return promise;
    }, original);
  }

  function onFetchResponse(call, response) {
    call.status = response.status;
    const length = response.headers.get('content-length');
    if (length !== null && /^\d+$/.test(length)) call.responseSize = Number(length);
    if (!call.detailed) {
      record(call);
      return;
    }
    call.responseHeaders = headerList(response.headers.entries());
    const type = response.headers.get('content-type') || '';
    if (!isTextual(type) || response.type === 'opaque') {
      record(call);
      return;
    }
    // A clone tees the body: the page reads its own copy as before.
    response
      .clone()
      .text()
      .then(
        (text) =>
          sink.guard(() => {
            [call.responseBody, call.responseBodySize, call.responseTruncated] = bodyText(text, type);
            if (call.responseSize < 0) call.responseSize = call.responseBodySize;
            record(call);
          }),
        () => sink.guard(() => record(call)),
      );
  }

  function isTextual(contentType) {
    return contentType === '' || /json|text|xml|x-www-form-urlencoded|javascript|graphql/i.test(contentType);
  }

  // --- XMLHttpRequest ------------------------------------------------------------------------

  const xhrCalls = new WeakMap();

  function wrapXhr() {
    if (typeof XMLHttpRequest === 'undefined') return;
    const proto = XMLHttpRequest.prototype;
    const open = proto.open;
    const setRequestHeader = proto.setRequestHeader;
    const send = proto.send;
    const abort = proto.abort;

    proto.open = mimic(function (method, url) {
      const previous = xhrCalls.get(this);
      // open() again from an error handler (a retry) comes before `loadend`: the request that
      // ended is recorded before open() clears it.
      if (previous !== undefined) sink.guard(() => settleXhr(this, previous));
      const result = open.apply(this, arguments);
      sink.guard(() => {
        // open() again cancels a request in flight without an event: the old one is over.
        if (previous !== undefined && previous.stop) previous.stop();
        xhrCalls.delete(this);
        const to = running ? target(url) : null;
        if (to !== null && !isOwn(to)) xhrCalls.set(this, { call: newCall(XHR, method, to), to, headers: [] });
      });
      return result;
    }, open);

    proto.setRequestHeader = mimic(function (name, value) {
      const result = setRequestHeader.apply(this, arguments);
      const state = xhrCalls.get(this);
      if (state !== undefined) state.headers.push([String(name), String(value)]);
      return result;
    }, setRequestHeader);

    proto.send = mimic(function (body) {
      const state = xhrCalls.get(this);
      let end = null;
      if (state !== undefined && !state.sent) end = sink.guard(() => prepareXhr(this, state, body, setRequestHeader)) || null;
      try {
        return send.apply(this, arguments);
      } finally {
        // A synchronous request is over when send returns (or throws).
        if (end !== null && this.readyState === 4) end();
      }
    }, send);

    // An abort ends the request like a network error would (status 0, then `loadend`): the
    // wrapper tells them apart.
    proto.abort = mimic(function () {
      const state = xhrCalls.get(this);
      if (state !== undefined && state.sent) {
        // Aborting a request that already ended (before its `loadend`) clears its status.
        sink.guard(() => settleXhr(this, state));
        state.aborted = true;
      }
      return abort.apply(this, arguments);
    }, abort);
  }

  function prepareXhr(xhr, state, body, setRequestHeader) {
    const { call } = state;
    state.sent = true;
    call.start = Date.now();
    const existing = state.headers.find(([name]) => name.toLowerCase() === 'traceparent');
    if (existing) {
      call.traceparent = existing[1];
    } else if (wantsTrace(state.to)) {
      call.traceparent = derivedTraceparent(keyWords, call.id);
      setRequestHeader.call(xhr, 'traceparent', call.traceparent);
      state.headers.push(['traceparent', call.traceparent]);
    }
    if (call.detailed) call.requestHeaders = headerList(state.headers);
    const contentType = () => (state.headers.find(([name]) => name.toLowerCase() === 'content-type') || [])[1];
    captureRequestBody(call, body, contentType);
    // `loadend` follows every way an asynchronous request ends (load, error, abort, timeout):
    // one listener instead of four.
    const onEnd = () =>
      sink.guard(() => {
        // The `loadend` of a request ended before a retry's open() reaches the retry too.
        if (state.done || xhr.readyState !== 4) return;
        state.stop();
        finishXhr(xhr, state);
      });
    xhr.addEventListener('loadend', onEnd);
    state.stop = () => {
      state.done = true;
      xhr.removeEventListener('loadend', onEnd);
    };
    return onEnd;
  }

  // Records a request that has ended, if its `loadend` has not come yet.
  function settleXhr(xhr, state) {
    if (state.sent && !state.done && xhr.readyState === 4) {
      state.stop();
      finishXhr(xhr, state);
    }
  }

  // Why a request that ended without a status failed.
  function xhrError(xhr, state) {
    if (state.aborted) return leaving ? LEFT_ERROR : 'AbortError: aborted';
    // The browser's timer starts after the wrapper's clock (1 ms of rounding allowed for).
    if (xhr.timeout > 0 && Date.now() - state.call.start >= xhr.timeout - 1) return 'TimeoutError: timeout';
    return leaving ? LEFT_ERROR : 'NetworkError: error';
  }

  function finishXhr(xhr, state) {
    const { call } = state;
    call.status = xhr.status;
    if (call.status === 0) call.error = xhrError(xhr, state);
    const length = xhr.getResponseHeader('content-length');
    if (length !== null && /^\d+$/.test(length)) call.responseSize = Number(length);
    if (call.detailed && xhr.readyState >= 2) {
      const raw = xhr.getAllResponseHeaders().trim();
      const entries = raw === '' ? [] : raw.split(/\r?\n/).map((line) => {
        const at = line.indexOf(':');
        return [line.slice(0, at).trim(), line.slice(at + 1).trim()];
      });
      call.responseHeaders = headerList(entries);
      const type = xhr.getResponseHeader('content-type') || '';
      let text;
      if ((xhr.responseType === '' || xhr.responseType === 'text') && isTextual(type)) text = xhr.responseText;
      else if (xhr.responseType === 'json' && xhr.response !== null) text = JSON.stringify(xhr.response);
      if (text !== undefined) {
        [call.responseBody, call.responseBodySize, call.responseTruncated] = bodyText(text, type);
        if (call.responseSize < 0) call.responseSize = call.responseBodySize;
      }
    }
    record(call);
  }

  // --- sendBeacon ----------------------------------------------------------------------------

  function wrapBeacon() {
    if (typeof navigator === 'undefined' || typeof navigator.sendBeacon !== 'function') return;
    const original = navigator.sendBeacon;
    navigator.sendBeacon = mimic(function (url, data) {
      const queued = original.apply(this, arguments);
      if (running) {
        sink.guard(() => {
          const to = target(url);
          if (to === null || isOwn(to)) return;
          const call = newCall(BEACON, 'POST', to);
          captureRequestBody(call, data, () => undefined);
          if (!queued) call.error = 'NotQueued: the browser refused the beacon';
          record(call);
        });
      }
      return queued;
    }, original);
  }

  let wrapped = false;

  function start() {
    if (!wrapped) {
      wrapped = true;
      wrapFetch();
      wrapXhr();
      wrapBeacon();
    }
    running = true;
    addEventListener('beforeunload', left, true);
    addEventListener('pagehide', left, true);
    for (const type of ['pageshow', 'pointerdown', 'keydown']) addEventListener(type, stayed, true);
  }

  function stop() {
    running = false;
    removeEventListener('beforeunload', left, true);
    removeEventListener('pagehide', left, true);
    for (const type of ['pageshow', 'pointerdown', 'keydown']) removeEventListener(type, stayed, true);
  }

  // A page URL (load, route change, referrer) with its credentials redacted like a request's.
  function cleanPageUrl(href) {
    const to = target(href);
    return to === null ? String(href) : cleanUrl(to.href);
  }

  // A capture grant's URL patterns (strings a URL contains), or null when none stands.
  function grant(urls) {
    granted = urls === null ? null : toMatcher(urls.map(String));
  }

  return { start, stop, cleanPageUrl, grant };
}
