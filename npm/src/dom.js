// DOM capture: the page as a tree of numbered nodes (a snapshot at start and at keyframes), every
// change to it, and what the user did to it. The walk runs here, in JavaScript, and hands each
// snapshot or change set to the wasm recorder in one crossing (see sdk-wasm/src/tape.rs for the
// layout): reading the DOM one property per crossing from wasm costs two to three times as much.
//
// Privacy is decided here, before anything reaches the recorder: form values are masked unless
// an ancestor opts in with data-sl-unmask (password values always), text under data-sl-mask is
// masked, data-sl-block elements become empty boxes of the same size, and neither script
// contents nor on* attributes are read.

import { cleanText } from './tape.js';
import { mimic } from './wrap.js';

const DOCUMENT = 0;
const DOCTYPE = 1;
const ELEMENT = 2;
const TEXT = 3;
const COMMENT = 4;
const CDATA = 5;
const SHADOW_ROOT = 6;

const NAMESPACES = { 'http://www.w3.org/2000/svg': 1, 'http://www.w3.org/1998/Math/MathML': 2 };
const URL_ATTRIBUTES = new Set(['href', 'src', 'action', 'formaction', 'poster', 'background', 'cite', 'xlink:href']);
// Attributes whose value is shown to the user as text.
const TEXT_ATTRIBUTES = new Set(['title', 'alt', 'placeholder', 'aria-label', 'aria-description', 'label']);
// Inputs whose value is a visible label, not something the user typed.
const LABEL_INPUTS = new Set(['button', 'submit', 'reset', 'image']);

// Inherited through the walk.
const MASK = 1; // text is masked (data-sl-mask, the mask selector, or maskAllText)
const UNMASK = 2; // form values and text are recorded as they are (data-sl-unmask)
const EDITABLE = 4; // inside contenteditable: text is what the user typed
const BLOCKED = -1; // not a flag: a parent inside a blocked element or a script

// A snapshot or change set goes to the recorder in chunks of about this much, so that no batch
// outgrows what the collector accepts; a big snapshot ships as a snapshot followed by additions.
const CHUNK_TEXT = 192 * 1024;
const CHUNK_NODES = 6000;
// Changes are diffed within a budget of nodes that refills at this many a second and holds at
// most a burst's worth: a burst (a big table rendered, then filtered as the user types) is
// diffed, a storm that goes on is not. Diffing then pauses and resumes with a fresh snapshot,
// later and later while the storm goes on, so the page stays responsive. Interactions, input
// and everything else go on being recorded meanwhile.
const STORM_NODES = 50000;
const STORM_BURST = 2 * STORM_NODES;
const STORM_PAUSE_MS = 1000;
const STORM_PAUSE_MAX_MS = 30000;
// Mouse positions are sampled this often and shipped in groups this old.
const MOVE_SAMPLE_MS = 50;
const MOVE_GROUP_MS = 500;
const SCROLL_THROTTLE_MS = 100;
// A scroll this long after the user's wheel, key, pointer or finger is theirs.
const USER_SCROLL_MS = 3000;
// A snapshot walks for this long before it lets the page run.
const SLICE_MS = 8;

function selector(base, extra) {
  return extra ? `${base},${extra}` : base;
}

function maskText(text) {
  return text.replace(/\S/g, '*');
}

function maskValue(value) {
  return '*'.repeat(value.length);
}

// The walker's output for one crossing: numbers and text fields, in tape order.
class Tape {
  constructor() {
    this.nums = [];
    this.texts = [];
    this.size = 0;
    this.count = 0;
  }

  text(value) {
    const text = cleanText(value);
    this.size += text.length;
    this.texts.push(text);
  }

  full() {
    return this.size >= CHUNK_TEXT || this.count >= CHUNK_NODES;
  }

  reset() {
    this.nums = [];
    this.texts = [];
    this.size = 0;
    this.count = 0;
  }
}

const EMPTY = new Tape();

// CSS-in-JS libraries change stylesheets through the CSSOM, and components attach shadow roots,
// neither of which a mutation observer sees. The wrappers are installed once per page, call the
// original first (a throw propagates as before, unrecorded), and report to whichever DOM
// recorder is running.
let pageHooks = null;
let cssomWrapped = false;

function wrapCssom() {
  if (cssomWrapped || typeof CSSStyleSheet === 'undefined') return;
  cssomWrapped = true;
  const targets = [CSSStyleSheet.prototype];
  if (typeof CSSGroupingRule !== 'undefined') targets.push(CSSGroupingRule.prototype);
  for (const proto of targets) {
    const insertRule = proto.insertRule;
    const deleteRule = proto.deleteRule;
    if (typeof insertRule === 'function') {
      proto.insertRule = mimic(function (...args) {
        const index = insertRule.apply(this, args);
        if (pageHooks !== null) pageHooks.inserted(this, index);
        return index;
      }, insertRule);
    }
    if (typeof deleteRule === 'function') {
      proto.deleteRule = mimic(function (...args) {
        const result = deleteRule.apply(this, args);
        if (pageHooks !== null) pageHooks.deleted(this, args[0] >>> 0);
        return result;
      }, deleteRule);
    }
  }
  const sheet = CSSStyleSheet.prototype;
  for (const name of ['replace', 'replaceSync']) {
    const original = sheet[name];
    if (typeof original !== 'function') continue;
    sheet[name] = mimic(function (...args) {
      const result = original.apply(this, args);
      const changed = () => pageHooks !== null && pageHooks.replaced(this);
      if (result && typeof result.then === 'function') result.then(changed, () => {});
      else changed();
      return result;
    }, original);
  }
  const attachShadow = Element.prototype.attachShadow;
  if (typeof attachShadow === 'function') {
    Element.prototype.attachShadow = mimic(function (...args) {
      const root = attachShadow.apply(this, args);
      if (pageHooks !== null) pageHooks.shadowAttached(this, root);
      return root;
    }, attachShadow);
  }
  for (const proto of [Document.prototype, typeof ShadowRoot !== 'undefined' ? ShadowRoot.prototype : null]) {
    const descriptor = proto && Object.getOwnPropertyDescriptor(proto, 'adoptedStyleSheets');
    if (!descriptor || typeof descriptor.set !== 'function') continue;
    Object.defineProperty(proto, 'adoptedStyleSheets', {
      ...descriptor,
      set(value) {
        descriptor.set.call(this, value);
        if (pageHooks !== null) pageHooks.adopted(this);
      },
    });
  }
}

// Runs `fn` once the current script is done: the browser's own `queueMicrotask`, taken before a
// page can replace it.
const microtask =
  typeof queueMicrotask === 'function' ? queueMicrotask.bind(globalThis) : (fn) => Promise.resolve().then(fn);

// Form state a script sets fires no event: a framework clearing a field after Enter, unchecking
// "toggle all", choosing an option by `selectedIndex`, a form's `reset()`. The setters of the
// form elements' prototypes are wrapped (the getters stay the browser's own, the setters keep
// their `name` and `length`), call the original first, and report the element to whichever DOM
// recorder is running; a page that defines these properties itself replaces the wrappers and
// keeps working. Installed once per page, with the CSSOM's.
const FORM_SETTERS = [
  ['HTMLInputElement', ['value', 'checked', 'valueAsNumber', 'valueAsDate']],
  ['HTMLTextAreaElement', ['value']],
  ['HTMLSelectElement', ['value', 'selectedIndex']],
  ['HTMLOptionElement', ['selected']],
];
let formWrapped = false;

function wrapFormState() {
  if (formWrapped || typeof HTMLInputElement === 'undefined') return;
  formWrapped = true;
  for (const [type, names] of FORM_SETTERS) {
    const proto = globalThis[type] && globalThis[type].prototype;
    if (proto) for (const name of names) wrapFormSetter(proto, name);
  }
  const reset = typeof HTMLFormElement !== 'undefined' ? HTMLFormElement.prototype.reset : undefined;
  if (typeof reset === 'function') {
    HTMLFormElement.prototype.reset = mimic(function (...args) {
      const result = reset.apply(this, args);
      if (pageHooks !== null) pageHooks.formReset(this);
      return result;
    }, reset);
  }
}

// A framework may have defined `value` or `checked` on an element itself, over a copy of the
// prototype's setter taken before the SDK started (React does, to track what it set): such an
// element's own setter is wrapped the same way, the first time the recorder meets it.
const ownWrapped = new WeakSet();

function wrapOwnFormState(el) {
  if (ownWrapped.has(el)) return;
  ownWrapped.add(el);
  for (const name of ['value', 'checked']) {
    if (Object.prototype.hasOwnProperty.call(el, name)) wrapFormSetter(el, name);
  }
}

// Replaces `target`'s own setter of `name` (a prototype's, or an element's) with one that calls
// it, then reports the element to the running DOM recorder; getters stay as they are.
function wrapFormSetter(target, name) {
  const descriptor = Object.getOwnPropertyDescriptor(target, name);
  if (!descriptor || typeof descriptor.set !== 'function' || !descriptor.configurable) return;
  const set = descriptor.set;
  Object.defineProperty(target, name, {
    ...descriptor,
    set: mimic(function (value) {
      set.call(this, value);
      if (pageHooks !== null) pageHooks.formSet(this);
    }, set),
  });
}

// Numbers objects from 1 in the order they are first met, without keeping them alive.
function numbering() {
  const map = new WeakMap();
  let next = 1;
  const assign = (object) => {
    let id = map.get(object);
    if (id === undefined) {
      id = next++;
      map.set(object, id);
    }
    return id;
  };
  return { map, assign };
}

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
  let observer = null;
  let running = false;
  const observed = new WeakSet();
  const framesWatched = new WeakSet();
  const frameDocuments = new WeakMap();

  function idOf(node) {
    return (node && ids.get(node)) || 0;
  }


  function observe(root) {
    if (observer === null || observed.has(root)) return;
    observed.add(root);
    observer.observe(root, { childList: true, subtree: true, attributes: true, characterData: true });
  }

  // --- privacy -------------------------------------------------------------------------------

  function flagsOf(el, inherited) {
    let flags = inherited;
    if (el.matches(unmaskSelector)) flags = (flags | UNMASK) & ~MASK;
    if (el.matches(maskSelector)) flags = (flags | MASK) & ~UNMASK;
    const editable = el.getAttribute('contenteditable');
    if (editable !== null && editable !== 'false') flags |= EDITABLE;
    else if (editable === 'false') flags &= ~EDITABLE;
    return flags;
  }

  // The element that holds `root` in the page: a shadow root's host, a frame document's frame.
  function holderOf(root) {
    if (root.nodeType === 11) return root.host || null;
    if (root.nodeType === 9) {
      try {
        return root.defaultView ? root.defaultView.frameElement : null;
      } catch (_) {
        return null;
      }
    }
    return null;
  }

  // Flags of a node reached without walking from the root (a change, an event target): the
  // nearest masking or unmasking ancestor decides, across shadow roots and frames as the walk
  // does.
  function flagsAt(node) {
    let flags = maskAllText ? MASK : 0;
    let decided = false;
    let editable = false;
    let el = node.nodeType === 1 ? node : holderOf(node);
    while (el) {
      if (!decided) {
        const unmasked = el.closest(unmaskSelector);
        const masked = el.closest(maskSelector);
        if (unmasked && (!masked || masked.contains(unmasked))) flags = (flags | UNMASK) & ~MASK;
        if (masked && (!unmasked || unmasked.contains(masked))) flags = (flags | MASK) & ~UNMASK;
        decided = masked !== null || unmasked !== null;
      }
      // From the attribute, not isContentEditable, which would make the browser compute styles.
      const holder = el.closest('[contenteditable]');
      if (!editable && holder !== null && holder.getAttribute('contenteditable') !== 'false') editable = true;
      el = holderOf(el.getRootNode());
    }
    return editable ? flags | EDITABLE : flags;
  }

  // Whether a node sits inside a blocked element or a script, across shadow roots and frames.
  function inBlockedOrScript(node) {
    for (let el = node.nodeType === 1 ? node : holderOf(node); el; el = holderOf(el.getRootNode())) {
      if (el.closest(blockSelector) !== null || el.closest('script') !== null) return true;
    }
    return false;
  }

  // Inputs whose value is masked in every mode, unmasked or not: passwords, card numbers,
  // security codes and expiry dates, one-time codes (by `autocomplete`), and hidden inputs,
  // which carry tokens. One once seen as secret stays so: a "show password" toggle that switches
  // it to text must not reveal it.
  const SECRET_AUTOCOMPLETE = /(^|\s)(current-password|new-password|cc-number|cc-csc|cc-exp(-month|-year)?|one-time-code)(\s|$)/;
  const secrets = new WeakSet();

  function isSecret(el) {
    if (el.localName !== 'input') return false;
    if (secrets.has(el)) return true;
    const type = String(el.type).toLowerCase();
    const autocomplete = String(el.getAttribute('autocomplete') || '').toLowerCase();
    if (type !== 'password' && type !== 'hidden' && !SECRET_AUTOCOMPLETE.test(autocomplete) && !autocomplete.includes('password')) {
      return false;
    }
    secrets.add(el);
    return true;
  }

  function formValueMasked(el, flags) {
    if (isSecret(el)) return true;
    if (el.localName === 'input' && LABEL_INPUTS.has(String(el.type).toLowerCase())) return (flags & MASK) !== 0;
    return maskAllInputs ? (flags & UNMASK) === 0 : (flags & MASK) !== 0;
  }

  function textMasked(parent, flags) {
    if (parent && parent.localName === 'textarea') return formValueMasked(parent, flags);
    if (flags & UNMASK) return false;
    return (flags & (MASK | EDITABLE)) !== 0;
  }

  function isFormControl(el) {
    const tag = el.localName;
    return tag === 'input' || tag === 'textarea' || tag === 'select';
  }

  // --- attributes ----------------------------------------------------------------------------

  // A URL in the page (an attribute, a srcset candidate, a `url()` in a style) made absolute,
  // with credential-like values in its query or fragment redacted as a request's are.
  function absolute(value, base) {
    const v = value.trim();
    if (v === '' || v[0] === '#' || /^(data|javascript|blob|mailto|tel|about):/i.test(v)) return value;
    try {
      return cleanUrl(new URL(v, base).href);
    } catch (_) {
      return value;
    }
  }

  function absoluteCss(text, base) {
    if (text.indexOf('url(') === -1) return text;
    return text.replace(/url\(\s*(['"]?)([^'")]*)\1\s*\)/g, (all, quote, url) => `url(${quote}${absolute(url, base)}${quote})`);
  }

  function absoluteSrcset(value, base) {
    return value
      .split(',')
      .map((candidate) => {
        const parts = candidate.trim().split(/\s+/);
        if (parts[0]) parts[0] = absolute(parts[0], base);
        return parts.join(' ');
      })
      .join(', ');
  }

  // The value to record for an attribute, or null to leave it out.
  function attributeValue(el, name, value, flags) {
    if (name.length > 2 && (name.charCodeAt(0) | 32) === 111 && (name.charCodeAt(1) | 32) === 110) return null; // on*
    // A frame's inline document is recorded as the frame's document node, masked like the rest.
    if (name === 'srcdoc') return null;
    if (URL_ATTRIBUTES.has(name)) {
      return /^\s*javascript:/i.test(value) ? 'javascript:void 0' : absolute(value, el.baseURI);
    }
    if (name === 'srcset') return absoluteSrcset(value, el.baseURI);
    if (name === 'style') return absoluteCss(value, el.baseURI);
    if (isFormControl(el) && (name === 'value' || name === 'checked' || name === 'selected')) {
      // Form state is recorded from the live properties instead (see pushFormState).
      return null;
    }
    if (el.localName === 'option' && name === 'selected') return null;
    // Attributes that show text are masked with the text around them.
    if (flags & MASK && TEXT_ATTRIBUTES.has(name)) return maskText(value);
    return value;
  }

  function pushFormState(el, flags, tape) {
    const tag = el.localName;
    let count = 0;
    if (tag !== 'option') wrapOwnFormState(el);
    if (tag === 'input') {
      const type = String(el.type).toLowerCase();
      if (type === 'checkbox' || type === 'radio') {
        // Choices under explicit masking are the user's answers: left out.
        if (el.checked && !(flags & MASK)) {
          tape.text('checked');
          tape.text('');
          count++;
        }
        return count;
      }
      if (type === 'file') return 0;
    }
    if (tag === 'option') {
      // Which option is chosen is not secret by default (see recordChosen).
      if (el.selected && !(flags & MASK)) {
        tape.text('selected');
        tape.text('');
        return 1;
      }
      return 0;
    }
    if (tag === 'input' || tag === 'textarea' || tag === 'select') {
      // Asked even of an empty field: a password input is remembered as one from here on.
      const masked = formValueMasked(el, flags);
      const value = String(el.value ?? '');
      if (value !== '') {
        tape.text('value');
        tape.text(masked ? maskValue(value) : value);
        count++;
      }
    }
    return count;
  }

  // --- stylesheets -------------------------------------------------------------------------

  const { map: sheetIds, assign: sheetIdOf } = numbering();
  // Sheets and adoptions met by the walk, recorded once the nodes they refer to are.
  let sheetOwners = [];
  let adopters = [];


  function rulesOf(sheet) {
    let rules = null;
    try {
      rules = sheet.cssRules;
    } catch (_) {
      // A cross-origin sheet: the player loads it from its URL.
    }
    if (!rules) return null;
    const base = sheet.href || document.baseURI;
    const texts = [];
    for (let i = 0; i < rules.length; i++) texts.push(absoluteCss(cleanText(rules[i].cssText), base));
    return texts;
  }

  function recordSheet(sheet, owner) {
    const rules = rulesOf(sheet);
    if (rules === null) return;
    const media = sheet.media ? String(sheet.media.mediaText || '') : '';
    sink.styleSheet(sheetIdOf(sheet), owner, rules, media);
  }

  // A <link> sheet is recorded as rules (the viewer can't fetch what needed the user's cookies);
  // a <style> sheet only when the CSSOM changed it, since its text is recorded as a node.
  function noteSheet(el) {
    const tag = el.localName;
    if (tag === 'link') {
      if (!/(^|\s)stylesheet(\s|$)/i.test(el.rel || '')) return;
      if (el.sheet) sheetOwners.push(el);
      else el.addEventListener('load', () => sink.guard(() => running && ids.has(el) && el.sheet && recordSheet(el.sheet, ids.get(el))), { once: true });
    } else if (tag === 'style' && el.sheet) {
      if (sheetIds.has(el.sheet) || (el.textContent.trim() === '' && el.sheet.cssRules.length > 0)) sheetOwners.push(el);
    }
  }

  function noteAdopter(root) {
    const sheets = root.adoptedStyleSheets;
    if (sheets && sheets.length > 0) adopters.push(root);
  }

  // `everySheet` records sheets recorded before too, so a keyframe stands on its own.
  function recordAdopted(root, everySheet) {
    const sheets = root.adoptedStyleSheets || [];
    const list = [];
    for (const sheet of sheets) {
      if (everySheet || !sheetIds.has(sheet)) recordSheet(sheet, 0);
      list.push(sheetIdOf(sheet));
    }
    sink.adoptedStyleSheets(idOf(root), new Uint32Array(list));
  }

  // After a snapshot or change set: the sheets and adoptions its walk met.
  function recordNotedSheets() {
    const owners = sheetOwners;
    const roots = adopters;
    sheetOwners = [];
    adopters = [];
    for (const el of owners) if (el.sheet && ids.has(el)) recordSheet(el.sheet, ids.get(el));
    for (const root of roots) if (ids.has(root)) recordAdopted(root, true);
  }

  function rulePath(target, index) {
    const path = [index];
    let rule = target instanceof CSSStyleSheet ? null : target;
    while (rule) {
      const parent = rule.parentRule;
      const list = parent ? parent.cssRules : rule.parentStyleSheet && rule.parentStyleSheet.cssRules;
      path.unshift(list ? Array.prototype.indexOf.call(list, rule) : 0);
      rule = parent;
    }
    return new Uint32Array(path);
  }

  function sheetOf(target) {
    return target instanceof CSSStyleSheet ? target : target.parentStyleSheet;
  }

  const hooks = {
    inserted(target, index) {
      sink.guard(() => {
        const sheet = sheetOf(target);
        if (!running || !sheet) return;
        if (sheetIds.has(sheet)) {
          const list = target.cssRules;
          const rule = list && list[index] ? absoluteCss(cleanText(list[index].cssText), sheet.href || document.baseURI) : '';
          sink.styleRule(sheetIds.get(sheet), rulePath(target, index), rule);
        } else if (sheet.ownerNode && ids.has(sheet.ownerNode)) {
          recordSheet(sheet, ids.get(sheet.ownerNode));
        }
      });
    },
    deleted(target, index) {
      sink.guard(() => {
        const sheet = sheetOf(target);
        if (running && sheet && sheetIds.has(sheet)) sink.styleRule(sheetIds.get(sheet), rulePath(target, index), undefined);
      });
    },
    replaced(sheet) {
      sink.guard(() => {
        if (running && sheetIds.has(sheet)) recordSheet(sheet, sheet.ownerNode ? idOf(sheet.ownerNode) : 0);
      });
    },
    adopted(root) {
      sink.guard(() => {
        if (running && ids.has(root)) recordAdopted(root, false);
      });
    },
    shadowAttached(host, root) {
      sink.guard(() => {
        // Open roots only: a closed one is private to its component.
        if (running && ids.has(host) && host.shadowRoot === root) addSubtree(root, host, []);
      });
    },
    formSet(el) {
      sink.guard(() => {
        const control = el.localName === 'option' ? el.closest('select') : el;
        if (running && control) formChanged(control);
      });
    },
    formReset(form) {
      sink.guard(() => {
        if (!running) return;
        for (const el of form.elements) if (isFormControl(el)) formChanged(el);
      });
    },
  };

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
    if (running) for (const el of controls) recordControl(el);
  }

  // --- the walk ------------------------------------------------------------------------------

  function pushElement(el, id, parent, next, flags, blocked, tape) {
    const nums = tape.nums;
    nums.push(ELEMENT, id, parent, next, NAMESPACES[el.namespaceURI] || 0, 0);
    const countAt = nums.length - 1;
    tape.text(el.localName);
    let count = 0;
    if (blocked) {
      // An empty box of the same size; id and class keep the page's layout rules applying to it.
      const rect = el.getBoundingClientRect();
      tape.text('data-sl-blocked');
      tape.text(`${Math.round(rect.width)} ${Math.round(rect.height)}`);
      count = 1;
      for (const name of ['id', 'class']) {
        const value = el.getAttribute(name);
        if (value !== null) {
          tape.text(name);
          tape.text(value);
          count++;
        }
      }
    } else {
      const attrs = el.attributes;
      for (let i = 0; i < attrs.length; i++) {
        const attr = attrs[i];
        const value = attributeValue(el, attr.name, attr.value, flags);
        if (value === null) continue;
        tape.text(attr.name);
        tape.text(value);
        count++;
      }
      const tag = el.localName;
      if (tag === 'input' || tag === 'textarea' || tag === 'select' || tag === 'option') count += pushFormState(el, flags, tape);
      const layer = topLayer(el);
      if (layer !== null && layer[1]) {
        tape.text(layer[0]);
        tape.text('');
        count++;
      }
    }
    nums[countAt] = count;
  }

  // Whether a dialog is modal, or a popover open, is in no attribute, yet the replay needs it
  // to draw the element in the top layer, over the page: recorded as `data-sl-modal` and
  // `data-sl-popover-open`. Returns [name, present], or null for other elements.
  function topLayer(el) {
    try {
      if (el.localName === 'dialog') return ['data-sl-modal', el.open && el.matches(':modal')];
      if (el.hasAttribute('popover')) return ['data-sl-popover-open', el.matches(':popover-open')];
    } catch (_) {
      // A browser without these pseudo-classes: the page is recorded as its attributes say.
    }
    return null;
  }

  // A popover shown or hidden: no attribute changes, but a `toggle` event follows.
  function onToggle(event) {
    if (!running || !observing) return;
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

  // What a text, comment or CDATA node is recorded as, under its parent's `flags`.
  function recordedText(node, flags) {
    // Comments show nothing; frameworks use them as anchors, so they stay, without content.
    if (node.nodeType === 8) return '';
    const parent = node.parentNode;
    if (parent && parent.localName === 'style') return absoluteCss(node.data, parent.baseURI);
    return textMasked(parent, flags) ? maskText(node.data) : node.data;
  }

  function pushCharacterData(node, id, parent, next, flags, tape) {
    const type = node.nodeType;
    tape.nums.push(type === 3 ? TEXT : type === 8 ? COMMENT : CDATA, id, parent, next);
    tape.text(recordedText(node, flags));
  }

  // A walk writing `root` and everything under it, parents first, `root` before `next` (0: as
  // the last child). It returns a step function, `step(deadline, maxNodes)`, which walks until
  // done (true) or until the deadline or node count is reached (false; call again to go on), so
  // a big snapshot can be spread over several tasks. `emit` is called whenever the tape is full.
  // `step.walked` counts the nodes written so far.
  function walker(root, parent, next, inherited, tape, emit) {
    const stack = [root, parent, inherited, next];
    const step = (deadline, maxNodes) => {
      let walked = 0;
      while (stack.length > 0) {
        const at = stack.pop();
        const flagsIn = stack.pop();
        const parentId = stack.pop();
        const node = stack.pop();
        const type = node.nodeType;
        if (type === 1) {
          const el = node;
          const flags = flagsOf(el, flagsIn);
          const blocked = el.matches(blockSelector);
          const id = assignId(el);
          pushElement(el, id, parentId, at, flags, blocked, tape);
          tape.count++;
          if (el.localName === 'style' || el.localName === 'link') noteSheet(el);
        else if (canvasMs > 0 && el.localName === 'canvas' && !blocked && !(flags & MASK)) canvases.add(el);
          if (!blocked && el.localName !== 'script') {
            for (let child = el.lastChild; child !== null; child = child.previousSibling) {
              stack.push(child, id, flags, 0);
            }
            const shadow = el.shadowRoot;
            if (shadow) stack.push(shadow, id, flags, 0);
            if (el.localName === 'iframe') {
              watchFrame(el);
              let doc = null;
              try {
                doc = el.contentDocument;
              } catch (_) {
                // Cross-origin: recorded as an empty frame.
              }
              if (doc && doc.documentElement) {
                frameDocuments.set(el, doc);
                stack.push(doc, id, flags, 0);
              }
            }
          }
        } else if (type === 3 || type === 4 || type === 8 || type === 10 || type === 9 || type === 11) {
          const id = assignId(node);
          tape.count++;
          if (type === 9) {
            tape.nums.push(DOCUMENT, id, parentId, at);
            observe(node);
            noteAdopter(node);
            listenToFrame(node);
          } else if (type === 11) {
            tape.nums.push(SHADOW_ROOT, id, parentId, at);
            observe(node);
            noteAdopter(node);
          } else if (type === 10) {
            tape.nums.push(DOCTYPE, id, parentId, at);
            tape.text(node.name || '');
            tape.text(node.publicId || '');
            tape.text(node.systemId || '');
          } else {
            pushCharacterData(node, id, parentId, at, flagsIn, tape);
          }
          if (type === 9 || type === 11) {
            for (let child = node.lastChild; child !== null; child = child.previousSibling) {
              stack.push(child, id, flagsIn, 0);
            }
          }
        }
        if (tape.full()) emit();
        walked++;
        if ((walked & 63) === 0 && (walked >= maxNodes || performance.now() > deadline)) {
          step.walked += walked;
          return stack.length === 0;
        }
      }
      step.walked += walked;
      return true;
    };
    step.walked = 0;
    return step;
  }


  function nodesTape(tape) {
    return new Uint32Array([tape.count].concat(tape.nums));
  }

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
        recordPageScroll();
        recordElementScrolls();
      }
      return done;
    });
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

  function changeTape(removes, adds, attributes, texts) {
    const nums = [removes.length].concat(removes, [adds.count], adds.nums, [attributes.count], attributes.nums, [texts.count], texts.nums);
    return new Uint32Array(nums);
  }

  // --- changes -------------------------------------------------------------------------------

  // A walk spread over several slices (a big snapshot or change set) holds back the changes
  // that arrive meanwhile and applies them once it is done: re-adding a node the walk already
  // wrote replaces it, so the result is the page as it is at the end, whatever changed between.
  let walking = false;
  let heldBack = [];
  let heldBackOverflow = false;
  // Changes are diffed while observing; a storm pauses that, never the rest of the recording.
  let observing = false;
  let budget = STORM_BURST;
  let budgetAt = 0;
  let pauseMs = STORM_PAUSE_MS;
  let resumeTimer = null;

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
    const next = () =>
      sink.guard(() => {
        if (!running || !observing) {
          walking = false;
          return;
        }
        if (!slice()) {
          setTimeout(next, 0);
          return;
        }
        walking = false;
        const records = heldBack.concat(observer.takeRecords());
        heldBack = [];
        if (heldBackOverflow) pauseForStorm();
        else if (records.length > 0) onMutations(records);
      });
    next();
  }

  function onMutations(records) {
    if (!running || !observing) return;
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
    if (!observing) return;
    observing = false;
    walking = false;
    observer.takeRecords();
    resumeTimer = setTimeout(resumeAfterStorm, pauseMs);
    pauseMs = Math.min(pauseMs * 2, STORM_PAUSE_MAX_MS);
  }

  function resumeAfterStorm(firstSliceMs = SLICE_MS) {
    resumeTimer = null;
    if (observer === null || !running) return;
    observing = true;
    // A second's worth: a storm that goes on pauses again soon.
    budget = STORM_NODES;
    budgetAt = performance.now();
    observer.takeRecords();
    snapshot(firstSliceMs);
    // A calm minute forgives earlier storms.
    setTimeout(() => {
      if (observing) pauseMs = STORM_PAUSE_MS;
    }, 60000);
  }

  // A moment that matters came while a storm paused diffing: an error, or the end of the
  // session (the page goes away or hides, \`stop()\`). The page is taken as it is now, so the
  // replay shows it as it was then rather than before the storm; when the session ends, the
  // first slice of that walk may take `firstSliceMs`, since no later slice may come.
  function catchUp(firstSliceMs = SLICE_MS) {
    if (!running || observing || resumeTimer === null) return;
    clearTimeout(resumeTimer);
    resumeAfterStorm(firstSliceMs);
  }

  function watchFrame(iframe) {
    if (framesWatched.has(iframe)) return;
    framesWatched.add(iframe);
    iframe.addEventListener('load', () =>
      sink.guard(() => {
        if (!running || !ids.has(iframe) || !iframe.isConnected) return;
        let doc = null;
        try {
          doc = iframe.contentDocument;
        } catch (_) {
          return;
        }
        if (!doc || !doc.documentElement || ids.has(doc)) return;
        // The frame navigated: its new document replaces the old one.
        const old = frameDocuments.get(iframe);
        frameDocuments.set(iframe, doc);
        addSubtree(doc, iframe, old && ids.has(old) ? [ids.get(old)] : []);
      }),
    );
  }

  // Adds a subtree the observer can't see arrive (a frame's new document, a shadow root
  // attached to a recorded element) under its `holder`, in slices like any big change.
  function addSubtree(root, holder, removes) {
    if (!running || !observing) return;
    if (walking) {
      setTimeout(() => sink.guard(() => addSubtree(root, holder, removes)), 50);
      return;
    }
    if (!ids.has(holder) || !holder.isConnected || inBlockedOrScript(holder)) return;
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

  // --- canvas ------------------------------------------------------------------------------

  // Canvases met by the walks (none under masking or blocking), and the image last recorded
  // for each: a canvas is recorded again only when its image changed.
  const canvases = new Set();
  const canvasImages = new WeakMap();
  let canvasTimer = null;

  function recordCanvases() {
    for (const canvas of canvases) {
      if (!canvas.isConnected || !ids.has(canvas)) {
        canvases.delete(canvas);
        continue;
      }
      if (canvas.width === 0 || canvas.height === 0) continue;
      let image;
      try {
        image = canvas.toDataURL('image/webp', 0.6);
      } catch (_) {
        // A canvas tainted by cross-origin images can't be read.
        canvases.delete(canvas);
        continue;
      }
      if (canvasImages.get(canvas) === image) continue;
      canvasImages.set(canvas, image);
      sink.canvas(ids.get(canvas), image);
    }
  }

  // --- interactions --------------------------------------------------------------------------

  function targetOf(event) {
    const path = typeof event.composedPath === 'function' ? event.composedPath() : null;
    return (path && path[0]) || event.target;
  }

  const POINTER_KINDS = { click: 0, dblclick: 1, contextmenu: 2, touchstart: 5, touchend: 6 };

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

  function onPointer(event) {
    if (!running) return;
    flushMoves();
    const point = event.changedTouches && event.changedTouches.length > 0 ? event.changedTouches[0] : event;
    const [dx, dy] = frameOffset(event);
    const [x, y] = [Math.round(point.clientX + dx) | 0, Math.round(point.clientY + dy) | 0];
    sink.pointer(POINTER_KINDS[event.type], idOf(targetOf(event)), x, y);
  }

  let moves = [];
  let movesStart = 0;
  let lastMove = 0;
  let movesTimer = null;

  // Mouse moves and a finger's moves share one sampled trail.
  function onMouseMove(event) {
    if (!running) return;
    const now = Date.now();
    if (now - lastMove < MOVE_SAMPLE_MS) return;
    const point = event.touches ? event.touches[0] : event;
    if (!point) return;
    lastMove = now;
    if (moves.length === 0) {
      movesStart = now;
      movesTimer = setTimeout(flushMoves, MOVE_GROUP_MS);
    }
    const [dx, dy] = frameOffset(event);
    moves.push(Math.round(point.clientX + dx) | 0, Math.round(point.clientY + dy) | 0, now - movesStart);
  }

  function flushMoves() {
    if (movesTimer !== null) clearTimeout(movesTimer);
    movesTimer = null;
    if (moves.length === 0) return;
    const samples = new Int32Array(moves);
    moves = [];
    if (running) sink.mouseMoves(samples, movesStart);
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

  function onScroll(event) {
    if (!running) return;
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
    if (!running) return;
    const el = targetOf(event);
    if (!el || el.nodeType !== 1 || !isFormControl(el)) return;
    recordControl(el);
  }

  // What each control was last recorded as, so that the same state is not recorded twice (the
  // user's input, then a framework setting the value it already has).
  const recordedState = new WeakMap();

  // `seen` tells the state apart where the value alone doesn't (a select's index).
  function recordState(el, value, checked, masked, seen = value) {
    const state = `${checked}:${seen}`;
    if (recordedState.get(el) === state) return false;
    recordedState.set(el, state);
    sink.input(ids.get(el), value, checked, masked);
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

  // Records a control's state as it is now, masked as its place in the page says.
  function recordControl(el) {
    if (!ids.has(el)) return;
    const flags = flagsAt(el);
    const type = String(el.type || '').toLowerCase();
    if (type === 'checkbox' || type === 'radio') {
      if (flags & MASK) return;
      recordState(el, '', el.checked ? 2 : 1, false);
      if (type === 'radio' && el.checked && el.name) {
        // The radio that lost its check fires nothing.
        const group = (el.form || el.getRootNode()).querySelectorAll(`input[type=radio][name="${CSS.escape(el.name)}"]`);
        for (const other of group) if (other !== el && ids.has(other)) recordState(other, '', 1, false);
      }
      return;
    }
    if (type === 'file') return;
    const value = String(el.value ?? '');
    const masked = formValueMasked(el, flags);
    const recorded = masked ? maskValue(value) : value;
    if (el.localName !== 'select') {
      recordState(el, recorded, 0, masked);
      return;
    }
    // Another option with the same masked length is still a change.
    if (recordState(el, recorded, 0, masked, `${el.selectedIndex}:${recorded}`)) recordChosen(el, flags);
  }

  function onFocus(event) {
    if (!running) return;
    const id = idOf(targetOf(event));
    if (id !== 0) sink.focus(id, event.type === 'focusin');
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
    ['keydown', onUserInput],
    ['pointerdown', onUserInput],
    ['touchmove', onUserInput],
    ['input', onInput],
    ['change', onInput],
    ['focusin', onFocus],
    ['focusout', onFocus],
    ['toggle', onToggle],
  ];
  const LISTEN = { capture: true, passive: true };

  // Each handler runs behind the SDK's guard: a failure switches the SDK off, never the page.
  function guarded(handler) {
    return (arg) => sink.guard(() => handler(arg));
  }
  const handlers = LISTENERS.map(([type, handler]) => [type, guarded(handler)]);
  const onMutationsGuarded = guarded(onMutations);

  // The documents of same-origin frames get the page's listeners when they are first walked.
  // Those stay when the recorder stops (a frame's document may be long gone), doing nothing.
  const framesListened = new WeakSet();
  function listenToFrame(doc) {
    if (doc === document || framesListened.has(doc)) return;
    framesListened.add(doc);
    for (const [type, handler] of handlers) doc.addEventListener(type, handler, LISTEN);
  }

  function start() {
    wrapCssom();
    wrapFormState();
    pageHooks = hooks;
    observer = new MutationObserver(onMutationsGuarded);
    running = true;
    observing = true;
    budget = STORM_BURST;
    budgetAt = performance.now();
    // When the page is idle, its layout is up to date and reading the position is free.
    const idle = typeof requestIdleCallback === 'function' ? requestIdleCallback : (fn) => setTimeout(fn, 200);
    idle(() =>
      sink.guard(() => {
        if (!running || pageScroll !== null) return;
        readPageScroll();
        recordPageScroll();
      }),
    );
    snapshot();
    for (const [type, handler] of handlers) document.addEventListener(type, handler, LISTEN);
    if (canvasMs > 0) canvasTimer = setInterval(() => sink.guard(() => running && recordCanvases()), canvasMs);
  }

  function stop() {
    running = false;
    if (pageHooks === hooks) pageHooks = null;
    if (observer !== null) observer.disconnect();
    observer = null;
    if (resumeTimer !== null) clearTimeout(resumeTimer);
    if (canvasTimer !== null) clearInterval(canvasTimer);
    flushMoves();
    for (const [type, handler] of handlers) document.removeEventListener(type, handler, LISTEN);
  }

  function keyframe() {
    if (!running || !observing || walking) return;
    // Changes not yet delivered to the observer are in the snapshot already.
    observer.takeRecords();
    snapshot();
  }

  return { start, stop, keyframe, catchUp };
}
