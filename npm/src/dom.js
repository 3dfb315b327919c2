// DOM capture: the page as a tree of numbered nodes (a snapshot at start and at keyframes), every
// change to it, and what the user did to it. The walk runs here, in JavaScript, and hands each
// snapshot or change set to the wasm recorder in one crossing (see sdk-wasm/src/tape.rs for the
// layout): reading the DOM one property per crossing from wasm costs two to three times as much.
//
// Privacy is decided here, before anything reaches the recorder: form values are masked unless
// an ancestor opts in with data-sl-unmask (password values always), text under data-sl-mask is
// masked, data-sl-block elements become empty boxes of the same size, and neither script
// contents nor on* attributes are read. dom/privacy.js holds the rules.
//
// This module wires the recorder's concerns (under dom/) around the context they share: the
// options, the node ids, the sink, and whether it is running and observing changes.

import { createCanvases } from './dom/canvas.js';
import { wrapFormState } from './dom/form-state.js';
import { createFrames } from './dom/frames.js';
import { createInteractions } from './dom/interactions.js';
import { createMutations } from './dom/mutations.js';
import { installPageHooks, removePageHooks } from './dom/page-hooks.js';
import { createPrivacy, selector } from './dom/privacy.js';
import { createSerializer } from './dom/serialize.js';
import { createStylesheets, wrapCssom } from './dom/stylesheets.js';
import { numbering } from './dom/tape.js';
import { VERSION } from './version.js';

// The release this recorder is from: the entry script checks it is its own.
export const DOM_VERSION = VERSION;

export function createDomRecorder(sink, options = {}) {
  const maskSelector = selector('[data-sl-mask]', options.maskSelector);
  const unmaskSelector = selector('[data-sl-unmask]', options.unmaskSelector);
  const blockSelector = selector('[data-sl-block]', options.blockSelector);
  const maskAllInputs = options.maskAllInputs !== false;
  // Canvas images are optional: off unless the app sets an interval (at least 250 ms).
  const canvasMs = Number(options.canvasIntervalMs) > 0 ? Math.max(250, Number(options.canvasIntervalMs)) : 0;
  const maskAllText = options.maskAllText === true;
  // Redacts credentials in a URL (see network.js); the identity where the page has none to
  // redact with.
  const cleanUrl = typeof sink.cleanUrl === 'function' ? sink.cleanUrl : (href) => href;
  // A bad selector fails here, at init, rather than on every node.
  for (const s of [maskSelector, unmaskSelector, blockSelector]) document.querySelector(s);

  // Node ids, stable for the page's life: keyframes reuse them.
  const { map: ids, assign: assignId } = numbering();

  function idOf(node) {
    return (node && ids.get(node)) || 0;
  }

  const ctx = {
    sink,
    maskSelector,
    unmaskSelector,
    blockSelector,
    maskAllInputs,
    canvasMs,
    maskAllText,
    cleanUrl,
    ids,
    assignId,
    idOf,
    // Between start() and stop().
    running: false,
    // Changes are diffed while observing; a storm pauses that, never the rest of the recording.
    observing: false,
    // The MutationObserver, while running.
    observer: null,
  };
  const privacy = createPrivacy(ctx);
  const sheets = createStylesheets(ctx, privacy);
  const interactions = createInteractions(ctx, privacy);
  // What a frame loads, or a shadow root attached, after the walk joins as a change: the frames
  // reach `addSubtree` of the change sets, which come after the walk that needs the frames.
  const frames = createFrames(ctx, interactions, (root, holder, removes) => addSubtree(root, holder, removes));
  const canvases = createCanvases(ctx);
  const serializer = createSerializer(ctx, privacy, sheets, frames, canvases);
  const { snapshot, keyframe, catchUp, addSubtree, startObserving, stopObserving } = createMutations(
    ctx,
    privacy,
    sheets,
    interactions,
    serializer,
  );
  const { readPageScrollWhenIdle, listenTo, flushMoves, stopListening } = interactions;
  const { startCanvases, stopCanvases } = canvases;

  // What the page's wrapped functions report to while this recorder runs (see dom/page-hooks.js).
  const hooks = { ...sheets.hooks, ...frames.hooks, ...interactions.hooks };

  function start() {
    wrapCssom();
    wrapFormState();
    installPageHooks(hooks);
    startObserving();
    ctx.running = true;
    readPageScrollWhenIdle();
    snapshot();
    listenTo(document);
    startCanvases();
  }

  function stop() {
    ctx.running = false;
    removePageHooks(hooks);
    stopObserving();
    stopCanvases();
    flushMoves();
    stopListening(document);
  }

  return { start, stop, keyframe, catchUp, recordEventInProgress: interactions.recordEventInProgress };
}
