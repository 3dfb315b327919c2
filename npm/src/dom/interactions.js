// What the user did to the page: clicks and taps, mouse and finger moves, scrolls, input and
// focus, and popovers and dialogs shown or hidden; and form state a script set, which fires no
// event. The listeners are passive and listen in the capture phase, on the document and on the
// documents of same-origin frames.

import { MASK, isFormControl, maskValue } from './privacy.js';
import { EMPTY, Tape, changeTape } from './tape.js';

// Mouse positions are sampled this often and shipped in groups this old.
const MOVE_SAMPLE_MS = 50;
const MOVE_GROUP_MS = 500;
const SCROLL_THROTTLE_MS = 100;
// A scroll this long after the user's wheel, key, pointer or finger is theirs.
const USER_SCROLL_MS = 3000;

const POINTER_KINDS = { click: 0, dblclick: 1, contextmenu: 2, touchstart: 5, touchend: 6 };
const LISTEN = { capture: true, passive: true };
// Keys recorded whatever has the focus.
const ACTING_KEYS = new Set(['Enter', 'Escape', 'Tab', 'ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight']);
// Space presses a button, checkbox, radio button or link; elsewhere it types.
const SPACE_ACTS = /^(button:.*|a:.*|input:(checkbox|radio|button|submit|reset))$/;
// The key of a shortcut: one printable ASCII character.
const SHORTCUT_KEY = /^[\x21-\x7e]$/;
// Fields text is typed into, where Ctrl and Meta edit.
const TEXT_INPUTS = /^(|text|search|email|password|url|tel|number)$/;

function isTextField(el) {
  if (!el || el.nodeType !== 1) return false;
  if (el.isContentEditable || el.localName === 'textarea') return true;
  return el.localName === 'input' && TEXT_INPUTS.test(String(el.getAttribute('type') || '').toLowerCase());
}

// Runs `fn` once the current script is done: the browser's own `queueMicrotask`, taken before a
// page can replace it.
const microtask =
  typeof queueMicrotask === 'function' ? queueMicrotask.bind(globalThis) : (fn) => Promise.resolve().then(fn);

function targetOf(event) {
  const path = typeof event.composedPath === 'function' ? event.composedPath() : null;
  return (path && path[0]) || event.target;
}

// The SDK's own feedback dialog (a closed shadow root, whose events reach the page's listeners
// retargeted to its host): what the user does in it is their report, not a step on the page.
function inOwnDialog(event) {
  const target = event.target;
  return target !== null && typeof target === 'object' && target.localName === 'sightline-feedback';
}

// The window an event happened in; events a script creates may have no `view`.
function viewOf(event) {
  if (event.view) return event.view;
  const target = targetOf(event);
  const doc = target && (target.nodeType === 9 ? target : target.ownerDocument);
  return doc ? doc.defaultView : null;
}

// Where the viewport of the frame an event happened in sits in the page's viewport: events
// in same-origin frames are recorded in the page's coordinates.
function frameOffset(event) {
  let x = 0;
  let y = 0;
  for (let view = viewOf(event); view && view !== window && view.frameElement; view = view.parent) {
    const frame = view.frameElement;
    const box = frame.getBoundingClientRect();
    // The frame's content starts inside its border and padding.
    const style = frame.ownerDocument.defaultView.getComputedStyle(frame);
    x += box.left + frame.clientLeft + (parseFloat(style.paddingLeft) || 0);
    y += box.top + frame.clientTop + (parseFloat(style.paddingTop) || 0);
  }
  return [x, y];
}

// Whether a dialog is modal, or a popover open, is in no attribute, yet the replay needs it
// to draw the element in the top layer, over the page: recorded as `data-sl-modal` and
// `data-sl-popover-open`. Returns [name, present], or null for other elements.
export function topLayer(el) {
  try {
    if (el.localName === 'dialog') return ['data-sl-modal', el.open && el.matches(':modal')];
    if (el.hasAttribute('popover')) return ['data-sl-popover-open', el.matches(':popover-open')];
  } catch (_) {
    // A browser without these pseudo-classes: the page is recorded as its attributes say.
  }
  return null;
}

// The interactions of one DOM recorder, masked as the privacy rules say (see privacy.js).
export function createInteractions(ctx, { flagsAt, formValueMasked, inBlockedOrScript }) {
  const { sink, ids, idOf } = ctx;

  // Each pointer event once, whichever comes first: the SDK's listener, or an error raised
  // while the event is dispatched (see `recordEventInProgress`).
  const pointed = new WeakSet();

  // When Enter or Space was last recorded: the click it makes a control fire (or a form's
  // default button, on Enter in a field) is that key's doing, not a second action.
  let activatedAt = -Infinity;

  function onPointer(event) {
    if (!ctx.running || pointed.has(event) || inOwnDialog(event)) return;
    if (event.type === 'click' && event.detail === 0 && event.timeStamp - activatedAt < 100) return;
    pointed.add(event);
    flushMoves();
    const point = event.changedTouches && event.changedTouches.length > 0 ? event.changedTouches[0] : event;
    const [dx, dy] = frameOffset(event);
    const [x, y] = [Math.round(point.clientX + dx) | 0, Math.round(point.clientY + dy) | 0];
    sink.pointer(POINTER_KINDS[event.type], idOf(targetOf(event)), x, y, dispatchedAt(event));
  }

  let moves = [];
  let movesStart = 0;
  let lastMove = 0;
  let movesTimer = null;
  // The last move a sample passed over, and the timer that takes it at the end of the sample's
  // interval: where a fast move ends is where the pointer rests, and what it hovers.
  let passed = null;
  let passedTimer = null;

  // Mouse moves and a finger's moves share one sampled trail.
  function onMouseMove(event) {
    if (!ctx.running) return;
    const point = event.touches ? event.touches[0] : event;
    if (!point) return;
    const [dx, dy] = frameOffset(event);
    const [x, y] = [Math.round(point.clientX + dx) | 0, Math.round(point.clientY + dy) | 0];
    const now = Date.now();
    if (now - lastMove < MOVE_SAMPLE_MS) {
      passed = [x, y];
      if (passedTimer === null) passedTimer = setTimeout(takePassed, MOVE_SAMPLE_MS - (now - lastMove));
      return;
    }
    addMove(x, y, now);
  }

  function takePassed() {
    passedTimer = null;
    if (ctx.running && passed !== null) addMove(passed[0], passed[1], Date.now());
  }

  function addMove(x, y, now) {
    passed = null;
    lastMove = now;
    if (moves.length === 0) {
      movesStart = now;
      movesTimer = setTimeout(flushMoves, MOVE_GROUP_MS);
    }
    moves.push(x, y, now - movesStart);
  }

  function flushMoves() {
    // A click or a touch comes after where the pointer went: that goes first.
    if (passedTimer !== null) clearTimeout(passedTimer);
    passedTimer = null;
    if (ctx.running && passed !== null) addMove(passed[0], passed[1], Date.now());
    if (movesTimer !== null) clearTimeout(movesTimer);
    movesTimer = null;
    if (moves.length === 0) return;
    const samples = new Int32Array(moves);
    moves = [];
    if (ctx.running) sink.mouseMoves(samples, movesStart);
  }

  // The elements the page scrolled (a table's container, a modal's body, a chat), with their
  // latest positions from scroll events, so that a snapshot carries them: a replay sought to
  // any moment starts from the latest snapshot before it.
  const elementScrolls = new Map();

  function recordElementScrolls() {
    for (const [el, [x, y]] of elementScrolls) {
      if (!el.isConnected) elementScrolls.delete(el);
      else if (ids.has(el)) sink.scroll(ids.get(el), x, y, false);
    }
  }

  // Reading a scroll position makes the browser lay the page out if it changed, which on a big
  // page is the longest thing a recorder could do. The page's position is read once when the
  // page is first idle; after that it is known from scroll events (a restored position fires
  // one too).
  let pageScroll = null;

  function readPageScroll() {
    pageScroll = [Math.round(window.scrollX), Math.round(window.scrollY)];
  }

  function recordPageScroll() {
    if (pageScroll !== null && (pageScroll[0] !== 0 || pageScroll[1] !== 0)) {
      sink.scroll(idOf(document), pageScroll[0], pageScroll[1], false);
    }
  }

  // The scroll positions a snapshot carries: the page's and the scrolled elements'.
  function recordScrollPositions() {
    recordPageScroll();
    recordElementScrolls();
  }

  function readPageScrollWhenIdle() {
    // When the page is idle, its layout is up to date and reading the position is free.
    const idle = typeof requestIdleCallback === 'function' ? requestIdleCallback : (fn) => setTimeout(fn, 200);
    idle(() =>
      sink.guard(() => {
        if (!ctx.running || pageScroll !== null) return;
        readPageScroll();
        recordPageScroll();
      }),
    );
  }

  // The latest position of each scrolled target, read in the scroll event itself: the browser
  // dispatches it right after scrolling, with the layout up to date, so reading costs nothing.
  const scrolled = new Map();
  let scrollTimer = null;
  // Whether the user scrolled: a scroll soon after their wheel, key, pointer or finger (a flick
  // glides on for a while); a page that scrolls itself (a chat following its messages) keeps
  // nobody's session alive.
  let inputAt = -Infinity;
  let scrolledByUser = false;

  function onUserInput(event) {
    inputAt = event.timeStamp;
  }

  // When the event was made, in ms since the epoch: a frame's event counts from the frame's
  // own time origin, the errors it is compared with from the page's.
  function dispatchedAt(event) {
    const view = event.view || (event.target && event.target.ownerDocument && event.target.ownerDocument.defaultView);
    const timing = (view && view.performance) || performance;
    return timing.timeOrigin + event.timeStamp;
  }

  // Keys that act, never those that type: what was typed is the field's value, masked.
  function onKeyDown(event) {
    onUserInput(event);
    // An input method composing text uses Enter and the arrows to choose what it types.
    if (!ctx.running || !event.isTrusted || event.repeat || event.isComposing || event.keyCode === 229) return;
    if (inOwnDialog(event)) return;
    const key = event.key;
    if (typeof key !== 'string') return;
    const modifiers = (event.ctrlKey ? 1 : 0) | (event.altKey ? 2 : 0) | (event.shiftKey ? 4 : 0) | (event.metaKey ? 8 : 0);
    // AltGr types (`@` on many layouts) and reports itself as Ctrl and Alt; Alt alone types on a
    // Mac (Option+L is `@`). A shortcut is Ctrl or Meta with a plain key, on anything but a field
    // being typed into (there, it edits: copy, paste, select all).
    const typing = typeof event.getModifierState === 'function' && event.getModifierState('AltGraph');
    const target = targetOf(event);
    const shortcut = !typing && (modifiers & 9) !== 0 && SHORTCUT_KEY.test(key) && !isTextField(target);
    const acts =
      ACTING_KEYS.has(key) ||
      (key === ' ' && target && target.nodeType === 1 && SPACE_ACTS.test(target.localName + ':' + (target.type || ''))) ||
      shortcut;
    if (!acts) return;
    if (key === 'Enter' || key === ' ') activatedAt = event.timeStamp;
    sink.key(idOf(target), modifiers, key, dispatchedAt(event));
  }

  function onSubmit(event) {
    if (!ctx.running || inOwnDialog(event)) return;
    const form = targetOf(event);
    if (form && form.nodeType === 1) sink.submit(idOf(form));
  }

  function onScroll(event) {
    if (!ctx.running) return;
    const target = targetOf(event);
    if (target === document || target === window || target === document.scrollingElement) {
      readPageScroll();
      scrolled.set(document, pageScroll);
    } else if (target && target.nodeType === 1) {
      const position = [Math.round(target.scrollLeft), Math.round(target.scrollTop)];
      scrolled.set(target, position);
      if (position[0] === 0 && position[1] === 0) elementScrolls.delete(target);
      else elementScrolls.set(target, position);
    } else if (target && target.nodeType === 9 && target.defaultView) {
      // A same-origin frame's document.
      scrolled.set(target, [Math.round(target.defaultView.scrollX), Math.round(target.defaultView.scrollY)]);
    }
    if (event.timeStamp - inputAt < USER_SCROLL_MS) scrolledByUser = true;
    if (scrollTimer === null) scrollTimer = setTimeout(() => sink.guard(flushScrolls), SCROLL_THROTTLE_MS);
  }

  function flushScrolls() {
    scrollTimer = null;
    for (const [target, [x, y]] of scrolled) {
      if (ids.has(target)) sink.scroll(ids.get(target), x, y, scrolledByUser);
    }
    scrolled.clear();
    scrolledByUser = false;
  }

  function onInput(event) {
    if (!ctx.running) return;
    const el = targetOf(event);
    if (!el || el.nodeType !== 1 || !isFormControl(el)) return;
    // An input event a script dispatched (an input mask, a helper setting the value) is the
    // script's doing.
    recordControl(el, !event.isTrusted);
  }

  // What each control was last recorded as, so that the same state is not recorded twice (the
  // user's input, then a framework setting the value it already has).
  const recordedState = new WeakMap();

  // `seen` tells the state apart where the value alone doesn't (a select's index); `scripted`
  // says the page's script set it, not the user. A state the user's input event reports that a
  // script set first is recorded again as the user's: a framework re-sets a checkbox inside
  // the click's dispatch, before the browser fires `input`.
  function recordState(el, value, checked, masked, scripted, seen = value) {
    const state = `${checked}:${seen}`;
    const last = recordedState.get(el);
    if (last === state || (last === `s:${state}` && scripted)) return false;
    recordedState.set(el, scripted ? `s:${state}` : state);
    sink.input(ids.get(el), value, checked, masked, scripted);
    return true;
  }

  // Which option of a select is chosen, as the options' `selected` attributes, so the replay
  // shows it even where the value is masked: the choice among the page's own options is not
  // secret by default (under `data-sl-mask` it is left out).
  function recordChosen(select, flags) {
    if (flags & MASK) return;
    const tape = new Tape();
    for (const option of select.options) {
      if (!ids.has(option)) continue;
      tape.nums.push(ids.get(option), option.selected ? 1 : 0);
      tape.text('selected');
      if (option.selected) tape.text('');
      tape.count++;
    }
    if (tape.count > 0) sink.mutation(changeTape([], EMPTY, tape, EMPTY), tape.texts.join('\0'));
  }

  // Records a control's state as it is now, masked as its place in the page says, as the
  // user's doing or (`scripted`) the page's.
  function recordControl(el, scripted) {
    if (!ids.has(el)) return;
    const flags = flagsAt(el);
    const type = String(el.type || '').toLowerCase();
    if (type === 'checkbox' || type === 'radio') {
      if (flags & MASK) return;
      recordState(el, '', el.checked ? 2 : 1, false, scripted);
      if (type === 'radio' && el.checked && el.name) {
        // The radio that lost its check fires nothing.
        const group = (el.form || el.getRootNode()).querySelectorAll(`input[type=radio][name="${CSS.escape(el.name)}"]`);
        for (const other of group) if (other !== el && ids.has(other)) recordState(other, '', 1, false, scripted);
      }
      return;
    }
    if (type === 'file') return;
    const value = String(el.value ?? '');
    const masked = formValueMasked(el, flags);
    const recorded = masked ? maskValue(value) : value;
    if (el.localName !== 'select') {
      recordState(el, recorded, 0, masked, scripted);
      return;
    }
    // Another option with the same masked length is still a change.
    if (recordState(el, recorded, 0, masked, scripted, `${el.selectedIndex}:${recorded}`)) recordChosen(el, flags);
  }

  function onFocus(event) {
    if (!ctx.running || inOwnDialog(event)) return;
    const id = idOf(targetOf(event));
    if (id !== 0) sink.focus(id, event.type === 'focusin');
  }

  // Controls a script changed in this task, recorded once it is done, each with the state it
  // ended in (a field set twice in a task is recorded once).
  const scriptSet = new Set();

  function formChanged(el) {
    if (!ids.has(el)) return;
    if (scriptSet.size === 0) microtask(() => sink.guard(recordScriptSet));
    scriptSet.add(el);
  }

  function recordScriptSet() {
    const controls = Array.from(scriptSet);
    scriptSet.clear();
    if (ctx.running) for (const el of controls) recordControl(el, true);
  }

  // What the form setter wrappers report (see form-state.js).
  const hooks = {
    formSet(el) {
      sink.guard(() => {
        const control = el.localName === 'option' ? el.closest('select') : el;
        if (ctx.running && control) formChanged(control);
      });
    },
    formReset(form) {
      sink.guard(() => {
        if (!ctx.running) return;
        for (const el of form.elements) if (isFormControl(el)) formChanged(el);
      });
    },
  };

  // A popover shown or hidden: no attribute changes, but a `toggle` event follows.
  function onToggle(event) {
    if (!ctx.running || !ctx.observing) return;
    const el = event.target;
    if (!el || el.nodeType !== 1 || !ids.has(el) || inBlockedOrScript(el)) return;
    const layer = topLayer(el);
    if (layer === null) return;
    const tape = new Tape();
    pushLayer(tape, el, layer);
    sink.mutation(changeTape([], EMPTY, tape, EMPTY), tape.texts.join('\0'));
  }

  function pushLayer(tape, el, [name, present]) {
    tape.nums.push(ids.get(el), present ? 1 : 0);
    tape.text(name);
    if (present) tape.text('');
    tape.count++;
  }

  const LISTENERS = [
    ['click', onPointer],
    ['dblclick', onPointer],
    ['contextmenu', onPointer],
    ['touchstart', onPointer],
    ['touchend', onPointer],
    ['mousemove', onMouseMove],
    ['touchmove', onMouseMove],
    ['scroll', onScroll],
    ['wheel', onUserInput],
    ['keydown', onKeyDown],
    ['submit', onSubmit],
    ['pointerdown', onUserInput],
    ['touchmove', onUserInput],
    ['input', onInput],
    ['change', onInput],
    ['focusin', onFocus],
    ['focusout', onFocus],
    ['toggle', onToggle],
  ];

  // Each handler runs behind the SDK's guard: a failure switches the SDK off, never the page.
  function guarded(handler) {
    return (arg) => sink.guard(() => handler(arg));
  }
  const handlers = LISTENERS.map(([type, handler]) => [type, guarded(handler)]);

  // Clicks are also taken on the window, before any listener on the document or below it: a
  // page's listener that throws then can't get its error recorded ahead of the click.
  const onWindow = handlers.filter(([type]) => POINTER_KINDS[type] !== undefined);

  function listenTo(doc) {
    for (const [type, handler] of handlers) doc.addEventListener(type, handler, LISTEN);
    const view = doc.defaultView;
    if (view) for (const [type, handler] of onWindow) view.addEventListener(type, handler, LISTEN);
  }

  function stopListening(doc) {
    for (const [type, handler] of handlers) doc.removeEventListener(type, handler, LISTEN);
    const view = doc.defaultView;
    if (view) for (const [type, handler] of onWindow) view.removeEventListener(type, handler, LISTEN);
  }

  // The page logs an error: if a click the user made is being dispatched (the page's own
  // listener runs before the SDK's), the click is recorded first, so the error is its.
  function recordEventInProgress() {
    const event = typeof window !== 'undefined' ? window.event : undefined;
    if (event && event.isTrusted && POINTER_KINDS[event.type] !== undefined) onPointer(event);
  }

  return { listenTo, stopListening, flushMoves, readPageScrollWhenIdle, recordScrollPositions, pushLayer, hooks, recordEventInProgress };
}
