// Keeping the replay's copy of the page current: full snapshots (at start, at keyframes, after a
// storm), the changes a MutationObserver reports, and subtrees it can't see arrive (a frame's new
// document, an attached shadow root), each walked in slices of a few milliseconds so the page
// stays responsive, and within a budget of nodes so that a storm of changes pauses the diffing
// rather than the page.

import { topLayer } from './interactions.js';
import { BLOCKED, MASK, isFormControl } from './privacy.js';
import { EMPTY, Tape, changeTape, nodesTape } from './tape.js';

// Changes are diffed within a budget of nodes that refills at this many a second and holds at
// most a burst's worth: a burst (a big table rendered, then filtered as the user types) is
// diffed, a storm that goes on is not. Diffing then pauses and resumes with a fresh snapshot,
// later and later while the storm goes on, so the page stays responsive. Interactions, input
// and everything else go on being recorded meanwhile.
const STORM_NODES = 50000;
const STORM_BURST = 2 * STORM_NODES;
const STORM_PAUSE_MS = 1000;
const STORM_PAUSE_MAX_MS = 30000;
// A snapshot walks for this long before it lets the page run.
const SLICE_MS = 8;

export function createMutations(ctx, privacy, sheets, interactions, serializer) {
  const { sink, ids, maskAllText } = ctx;
  const { flagsAt, inBlockedOrScript, attributeValue } = privacy;
  const { recordNotedSheets } = sheets;
  const { pushLayer, recordScrollPositions } = interactions;
  const { walker, observe, recordedText } = serializer;

  // A walk spread over several slices (a big snapshot or change set) holds back the changes
  // that arrive meanwhile and applies them once it is done: re-adding a node the walk already
  // wrote replaces it, so the result is the page as it is at the end, whatever changed between.
  let walking = false;
  // While a walk goes on in slices: walks the rest of it now, until a deadline; gives it up.
  let walkRest = null;
  let walkStop = null;
  // Whether the walk under way was started to catch up (see `catchUp`).
  let walkCatchesUp = false;
  let heldBack = [];
  let heldBackOverflow = false;
  let budget = STORM_BURST;
  let budgetAt = 0;
  let pauseMs = STORM_PAUSE_MS;
  let resumeTimer = null;

  // A full snapshot, walked in slices of a few milliseconds (see `sliced`).
  function snapshot(firstSliceMs = SLICE_MS) {
    if (walking) return;
    const tape = new Tape();
    let first = true;
    const emit = () => {
      if (first) sink.snapshot(nodesTape(tape), tape.texts.join('\0'));
      else if (tape.count > 0) sink.mutation(changeTape([], tape, EMPTY, EMPTY), tape.texts.join('\0'));
      first = false;
      tape.reset();
    };
    const step = walker(document, 0, 0, maskAllText ? MASK : 0, tape, emit);
    let sliceMs = firstSliceMs;
    sliced(() => {
      const done = step(performance.now() + sliceMs, Infinity);
      sliceMs = SLICE_MS;
      emit();
      if (done) {
        recordNotedSheets();
        recordScrollPositions();
      }
      return done;
    });
  }

  // The id of the first following sibling the player already has: added nodes go before it.
  // Added siblings in a row share the answer, kept in `known` for each one passed, so a run of
  // thousands of added siblings is walked once, not once for each.
  function nextKnown(node, added, known) {
    const passed = [];
    let next = 0;
    for (let sibling = node.nextSibling; sibling !== null; sibling = sibling.nextSibling) {
      if (added.has(sibling)) {
        const answer = known.get(sibling);
        if (answer !== undefined) {
          next = answer;
          break;
        }
        passed.push(sibling);
      } else if (ids.has(sibling)) {
        next = ids.get(sibling);
        break;
      }
    }
    for (const sibling of passed) known.set(sibling, next);
    return next;
  }

  // The added nodes with siblings added before one another in document order (each is placed
  // before the same known sibling, so the earlier must go first): one pass over the children of
  // each parent that got several, rather than a sort, whose every comparison costs the browser
  // a walk along the siblings.
  function inDocumentOrder(added) {
    const parents = new Map(); // a parent, and its one added child or null for several
    for (const node of added) {
      const parent = node.parentNode;
      if (parent !== null) parents.set(parent, parents.has(parent) ? null : node);
    }
    const queue = [];
    for (const [parent, only] of parents) {
      if (only !== null) queue.push(only);
      else for (let child = parent.firstChild; child !== null; child = child.nextSibling) if (added.has(child)) queue.push(child);
    }
    return queue;
  }

  function hasAddedAncestor(node, added) {
    for (let up = node.parentNode; up !== null; up = up.parentNode) {
      if (added.has(up)) return true;
      if (up.nodeType === 9 || up.nodeType === 11) return false;
    }
    return false;
  }

  // Takes nodes from the storm budget; false once it is spent.
  function spend(nodes) {
    const now = performance.now();
    budget = Math.min(STORM_BURST, budget + ((now - budgetAt) * STORM_NODES) / 1000) - nodes;
    budgetAt = now;
    return budget >= 0;
  }

  // Starts a sliced walk: `slice()` is called now and again after each pause until it returns
  // true; then what was held back is applied.
  function sliced(slice) {
    walking = true;
    heldBack = [];
    heldBackOverflow = false;
    let timer = null;
    const over = () => {
      walking = false;
      walkCatchesUp = false;
      walkRest = null;
      walkStop = null;
    };
    // One slice; true once the walk is over.
    const run = () => {
      if (!ctx.running || !ctx.observing) {
        over();
        return true;
      }
      if (!slice()) return false;
      over();
      const records = heldBack.concat(ctx.observer.takeRecords());
      heldBack = [];
      if (heldBackOverflow) pauseForStorm();
      else if (records.length > 0) onMutations(records);
      return true;
    };
    const next = () =>
      sink.guard(() => {
        timer = null;
        if (!run()) timer = setTimeout(next, 0);
      });
    walkRest = (deadline) =>
      sink.guard(() => {
        if (timer !== null) clearTimeout(timer);
        timer = null;
        while (!run()) {
          if (performance.now() >= deadline) {
            timer = setTimeout(next, 0);
            return;
          }
        }
      });
    walkStop = () => {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      over();
    };
    next();
  }

  function onMutations(records) {
    if (!ctx.running || !ctx.observing) return;
    if (walking) {
      if (heldBack.length + records.length > STORM_NODES) heldBackOverflow = true;
      else heldBack = heldBack.concat(records);
      return;
    }
    const removed = new Set();
    const added = new Set();
    const attributes = new Map();
    const texts = new Set();
    for (const record of records) {
      if (record.type === 'childList') {
        for (const node of record.removedNodes) {
          // A node added and removed within the same change set costs nothing.
          added.delete(node);
          if (ids.has(node)) removed.add(node);
        }
        for (const node of record.addedNodes) added.add(node);
      } else if (record.type === 'attributes') {
        const target = record.target;
        if (!ids.has(target)) continue;
        let names = attributes.get(target);
        if (names === undefined) attributes.set(target, (names = new Set()));
        names.add(record.attributeName);
      } else if (ids.has(record.target)) {
        texts.add(record.target);
      }
    }
    if (!spend(added.size + attributes.size + texts.size + removed.size)) {
      pauseForStorm();
      return;
    }
    // A node moved elsewhere is removed here and added again with the same ids.
    const removeIds = Array.from(removed, (node) => ids.get(node));
    sliced(changeSet(removeIds, added, attributes, texts));
  }

  // The observer's callback runs behind the SDK's guard: a failure switches the SDK off, never
  // the page.
  const onMutationsGuarded = (records) => sink.guard(() => onMutations(records));

  // The slices of one change set: additions walked within the time of a slice each (a chunk
  // that fills goes out with the removals, which apply first), then the attribute and text
  // changes with the last additions.
  function changeSet(removeIds, added, attributes, texts) {
    let removesLeft = removeIds;
    const adds = new Tape();
    const emitAdds = () => {
      sink.mutation(changeTape(removesLeft, adds, EMPTY, EMPTY), adds.texts.join('\0'));
      removesLeft = [];
      adds.reset();
    };
    const queue = inDocumentOrder(added);
    const known = new Map();
    // Each parent's masking flags, or BLOCKED: asked once a slice, not for each of its added
    // children.
    const parentFlags = new Map();
    let at = 0;
    let step = null;
    let counted = 0;
    return () => {
      const deadline = performance.now() + SLICE_MS;
      // The page may have changed a parent's masking between slices: each subtree started
      // from here on asks again (one being walked keeps the flags it started with).
      parentFlags.clear();
      for (;;) {
        if (step === null) {
          const node = queue[at++];
          if (node === undefined) break;
          const parent = node.parentNode;
          if (parent === null || !node.isConnected || !ids.has(parent) || hasAddedAncestor(node, added)) continue;
          let flags = parentFlags.get(parent);
          if (flags === undefined) parentFlags.set(parent, (flags = inBlockedOrScript(parent) ? BLOCKED : flagsAt(parent)));
          if (flags === BLOCKED) continue;
          step = walker(node, ids.get(parent), nextKnown(node, added, known), flags, adds, emitAdds);
          counted = 0;
        }
        const done = step(deadline, Infinity);
        const walked = step.walked - counted;
        counted = step.walked;
        if (!spend(walked)) {
          // Too much for this second: what was written is superseded by the snapshot after the pause.
          pauseForStorm();
          return true;
        }
        if (!done) {
          if (adds.count > 0) emitAdds();
          return false;
        }
        step = null;
      }
      finishChangeSet(removesLeft, adds, attributes, texts, added);
      return true;
    };
  }

  function finishChangeSet(removesLeft, adds, attributes, texts, added) {
    const attributeTape = new Tape();
    for (const [el, names] of attributes) {
      if (!el.isConnected || hasAddedAncestor(el, added) || added.has(el)) continue;
      if (inBlockedOrScript(el)) continue;
      const flags = flagsAt(el);
      const control = isFormControl(el) || el.localName === 'option';
      for (const name of names) {
        // Form state is recorded from the live properties, through input events.
        if (control && (name === 'value' || name === 'checked' || name === 'selected')) continue;
        const raw = el.getAttribute(name);
        const value = raw === null ? null : attributeValue(el, name, raw, flags);
        if (raw !== null && value === null) continue;
        attributeTape.nums.push(ids.get(el), value === null ? 0 : 1);
        attributeTape.text(name);
        if (value !== null) attributeTape.text(value);
        attributeTape.count++;
      }
      // A dialog opened or closed: modal or not.
      if (names.has('open') && el.localName === 'dialog') pushLayer(attributeTape, el, topLayer(el));
    }
    const textTape = new Tape();
    for (const node of texts) {
      if (!node.isConnected || hasAddedAncestor(node, added) || added.has(node)) continue;
      const parent = node.parentNode;
      if (parent && inBlockedOrScript(parent)) continue;
      const flags = parent && node.nodeType !== 8 ? flagsAt(parent) : 0;
      textTape.nums.push(ids.get(node));
      textTape.text(recordedText(node, flags));
      textTape.count++;
    }
    if (adds.count > 0 || attributeTape.count > 0 || textTape.count > 0 || removesLeft.length > 0) {
      const joined = adds.texts.concat(attributeTape.texts, textTape.texts).join('\0');
      sink.mutation(changeTape(removesLeft, adds, attributeTape, textTape), joined);
    }
    recordNotedSheets();
  }

  // A storm: stop diffing, and come back with a snapshot, later each time while storms go on.
  function pauseForStorm() {
    if (!ctx.observing) return;
    ctx.observing = false;
    walking = false;
    ctx.observer.takeRecords();
    resumeTimer = setTimeout(resumeAfterStorm, pauseMs);
    pauseMs = Math.min(pauseMs * 2, STORM_PAUSE_MAX_MS);
  }

  function resumeAfterStorm(firstSliceMs = SLICE_MS) {
    resumeTimer = null;
    if (ctx.observer === null || !ctx.running) return;
    ctx.observing = true;
    // A second's worth: a storm that goes on pauses again soon.
    budget = STORM_NODES;
    budgetAt = performance.now();
    ctx.observer.takeRecords();
    snapshot(firstSliceMs);
    // A calm minute forgives earlier storms.
    setTimeout(() => {
      if (ctx.observing) pauseMs = STORM_PAUSE_MS;
    }, 60000);
  }

  // A moment that matters came while a storm paused diffing, or while a walk went on that the
  // page changed under: an error, or the end of the session (the page goes away or hides,
  // `stop()`). The page is taken as it is now, so the replay shows it as it was then rather
  // than before the storm; when the session ends, the first slice of that walk may take
  // `firstSliceMs`, since no later slice may come.
  function catchUp(firstSliceMs = SLICE_MS) {
    if (!ctx.running) return;
    const deadline = performance.now() + firstSliceMs;
    const ending = firstSliceMs > SLICE_MS;
    // The nodes a walk has still to visit may be gone, and what it held back is diffed only
    // after it, if the storm budget allows (a storm's pause otherwise). A walk that catches up
    // already is given up for another only when the session ends, so that errors coming one
    // after another don't keep a walk from ending.
    if (walking && (ending || !walkCatchesUp) && ctx.observer !== null) {
      heldBack = heldBack.concat(ctx.observer.takeRecords());
      if (heldBack.length > 0 || heldBackOverflow) {
        walkStop();
        heldBack = [];
        walkCatchesUp = true;
        snapshot(firstSliceMs);
      }
    }
    if (!ctx.observing && resumeTimer !== null) {
      clearTimeout(resumeTimer);
      walkCatchesUp = true;
      resumeAfterStorm(firstSliceMs);
    }
    // A walk in slices still going (the page taken after a storm, or a large change) when the
    // session ends: no later slice would run, so the rest is walked now, within the time.
    if (ending && walkRest !== null) walkRest(deadline);
  }

  // Adds a subtree the observer can't see arrive (a frame's new document, a shadow root
  // attached to a recorded element) under its `holder`, in slices like any big change.
  function addSubtree(root, holder, removes) {
    if (!ctx.running || !ctx.observing) return;
    if (walking) {
      setTimeout(() => sink.guard(() => addSubtree(root, holder, removes)), 50);
      return;
    }
    if (!ids.has(holder) || !holder.isConnected || inBlockedOrScript(holder)) return;
    // Nothing to add: the removals alone (a frame's document gone where it can't be read).
    if (root === null) {
      if (removes.length > 0) sink.mutation(changeTape(removes, new Tape(), EMPTY, EMPTY), '');
      return;
    }
    if (root.nodeType === 11) observe(root);
    let removesLeft = removes;
    const adds = new Tape();
    const emit = () => {
      sink.mutation(changeTape(removesLeft, adds, EMPTY, EMPTY), adds.texts.join('\0'));
      removesLeft = [];
      adds.reset();
    };
    const step = walker(root, ids.get(holder), 0, flagsAt(holder), adds, emit);
    sliced(() => {
      const done = step(performance.now() + SLICE_MS, Infinity);
      if (adds.count > 0 || (done && removesLeft.length > 0)) emit();
      if (done) recordNotedSheets();
      return done;
    });
  }

  // A fresh snapshot, unless diffing is paused or a walk is under way.
  function keyframe() {
    if (!ctx.running || !ctx.observing || walking) return;
    // Changes not yet delivered to the observer are in the snapshot already.
    ctx.observer.takeRecords();
    snapshot();
  }

  // Diffing starts with a full burst's worth of budget.
  function startObserving() {
    ctx.observer = new MutationObserver(onMutationsGuarded);
    ctx.observing = true;
    budget = STORM_BURST;
    budgetAt = performance.now();
  }

  function stopObserving() {
    if (ctx.observer !== null) ctx.observer.disconnect();
    ctx.observer = null;
    if (resumeTimer !== null) clearTimeout(resumeTimer);
  }

  return { snapshot, keyframe, catchUp, addSubtree, startObserving, stopObserving };
}
