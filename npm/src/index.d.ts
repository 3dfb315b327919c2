/** Options for {@link init}. */
export interface InitOptions {
  /** The collector's base URL, such as `https://sightline.example.com`. */
  endpoint: string;
  /** The project's ingest key (`slk_…`). */
  projectKey: string;
  /** Where to load the recorder's wasm from (or the wasm's response, or a promise of it); defaults to the file next to this module. */
  wasmUrl?: string | URL | Request | Response | Promise<Response>;
  /** Where to load the DOM recorder (`dom.js`) from; defaults to the file next to this module. */
  domUrl?: string | URL;
  /** The viewer's base URL for {@link getSessionUrl}; defaults to `endpoint` (the collector serves the viewer). */
  viewerUrl?: string;
  /** Mask every form value (same-length `*`) unless an ancestor has `data-sl-unmask` or matches `unmaskSelector`. Default `true`; password values are masked whatever this says. */
  maskAllInputs?: boolean;
  /** Mask all page text as well (same-length `*`, whitespace kept). Default `false`. */
  maskAllText?: boolean;
  /** Extra CSS selector whose elements' text and values are masked, besides `[data-sl-mask]`. */
  maskSelector?: string;
  /** Extra CSS selector whose elements' text and values are recorded as they are, besides `[data-sl-unmask]`. */
  unmaskSelector?: string;
  /** Extra CSS selector of elements recorded as an empty box of the same size, besides `[data-sl-block]`. */
  blockSelector?: string;
  /** Share of browser tabs recorded, from 0 to 1; decided once per tab, so reloads keep the decision. A user support granted full capture to is recorded whatever this says. Default 1. */
  sampleRate?: number;
  /** Record an image of each `<canvas>` this often, in ms (at least 250), when it changed; off by default. Canvases under masking or blocking are never recorded. */
  canvasIntervalMs?: number;
  /** How often a full snapshot is taken, in ms. Default 300000 (5 minutes). */
  keyframeIntervalMs?: number;
  /** URLs whose request and response headers and bodies are recorded (redacted and capped): a string matches when the URL contains it. Default none: only method, URL, status, timing and sizes. */
  networkDetailUrls?: (string | RegExp)[];
  /** Cap on each recorded body, in bytes. Default 65536. */
  networkMaxBodyBytes?: number;
  /** Other origins whose servers accept a W3C `traceparent` header (the page's own origin always gets one): a string matches URLs that start with it, such as `'https://api.acme.com/'`. Never list origins whose CORS policy doesn't allow the header: the browser would refuse the call. */
  tracePropagationTargets?: (string | RegExp)[];
  /** Further credential-like keys to redact in headers, JSON and form bodies and query strings, besides authorization, cookie, password, token, secret, API key and the like. */
  redactKeys?: (string | RegExp)[];
  /**
   * `'buffer'` records without sending: the page's start and the last `bufferSeconds` are kept in memory and sent when an
   * uncaught error happens, the user reports a problem ({@link report}, {@link feedback}) or support grants the user full
   * capture; recording then goes on as in full mode. What is kept when the page goes away is lost. Default `'full'`.
   */
  mode?: 'full' | 'buffer';
  /** How much of the recent recording buffer mode keeps, in seconds, from 10 to 600. Default 60. */
  bufferSeconds?: number;
}

/** Options for {@link getSessionUrl}. */
export interface SessionUrlOptions {
  /** `'now'` links to this moment of the replay. */
  at?: 'now';
}

/** What the SDK is doing, from {@link status}. */
export interface Status {
  /** `'idle'` before `init`, `'starting'` while the wasm loads, then `'recording'`, `'stopped'` after `stop()`, or `'disabled'`. */
  state: 'idle' | 'starting' | 'recording' | 'stopped' | 'disabled';
  /**
   * Why the SDK is off (`null` unless `state` is `'disabled'`): `'sampled_out'` (this tab is outside `sampleRate`),
   * `'options'` (no `endpoint` or `projectKey`), `'wasm'` (the recorder, its wasm or `dom.js`, could not be loaded or compiled), `'storage'`
   * (no session storage or random source), `'version'` (`dom.js` is from another release than the script, as a stale cache
   * serves it), `'start'` (anything else at start-up), `'runtime'` (a failure while recording).
   */
  reason: 'sampled_out' | 'options' | 'wasm' | 'storage' | 'version' | 'start' | 'runtime' | null;
  /** Whether the SDK is in buffer mode and has sent nothing yet. */
  buffering: boolean;
}

/** A plain JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Starts recording this page into the tab's session. Never throws; on failure the SDK stays off. Calling it again returns the same promise. */
export function init(options: InitOptions): Promise<void>;
/** Says who the user is: your user id and plain-JSON traits such as email, plan, company or role. */
export function identify(userId: string, traits?: { [key: string]: Json }): void;
/** Records an application event with plain-JSON properties. */
export function track(name: string, props?: { [key: string]: Json }): void;
/** Text of the feedback dialog, to translate it. */
export interface FeedbackTexts {
  title?: string;
  intro?: string;
  label?: string;
  send?: string;
  cancel?: string;
  thanks?: string;
  close?: string;
}

/** Options for {@link feedback}. */
export interface FeedbackOptions {
  texts?: FeedbackTexts;
}

/**
 * Sends the user's own words about a problem (at most 4,000 characters) with the session at this moment, and what was
 * recorded before it; support sees it in the session, its digest and the project's webhooks. For apps with their own
 * form. Returns whether it was taken (`false` when the SDK is not recording or the text is blank).
 */
export function report(text: string): boolean;
/**
 * Opens an accessible dialog where the user describes the problem, and sends it as {@link report} does. The dialog is
 * a native modal `<dialog>` in a closed shadow root: the page's styles don't reach it, and it is not recorded. Resolves
 * to whether the user sent a report.
 */
export function feedback(options?: FeedbackOptions): Promise<boolean>;
/** Sends what has been recorded so far without waiting for the next batch. */
export function flush(): void;
/** Stops recording; what was recorded is still delivered. Before `init` completes, recording never starts. */
export function stop(): void;
/** A link to this session in the viewer (`<viewerUrl>/sessions/<id>`, with `?t=<ms since the epoch>` for `{ at: 'now' }`), for support tickets; `null` before `init` completes. */
export function getSessionUrl(options?: SessionUrlOptions): string | null;
/** What the SDK is doing, and why it is off when it is. The collector also hears once of a page whose SDK switched itself off. */
export function status(): Status;

declare const sightline: {
  init: typeof init;
  identify: typeof identify;
  track: typeof track;
  report: typeof report;
  feedback: typeof feedback;
  flush: typeof flush;
  stop: typeof stop;
  getSessionUrl: typeof getSessionUrl;
  status: typeof status;
};
export default sightline;
