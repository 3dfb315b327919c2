// Form state a script sets fires no event: a framework clearing a field after Enter, unchecking
// "toggle all", choosing an option by `selectedIndex`, a form's `reset()`. The setters of the
// form elements' prototypes are wrapped (the getters stay the browser's own, the setters keep
// their `name` and `length`), call the original first, and report the element to whichever DOM
// recorder is running; a page that defines these properties itself replaces the wrappers and
// keeps working. Installed once per page, with the CSSOM's.

import { mimic } from '../wrap.js';
import { pageHooks } from './page-hooks.js';

const FORM_SETTERS = [
  ['HTMLInputElement', ['value', 'checked', 'valueAsNumber', 'valueAsDate']],
  ['HTMLTextAreaElement', ['value']],
  ['HTMLSelectElement', ['value', 'selectedIndex']],
  ['HTMLOptionElement', ['selected']],
];
let formWrapped = false;

export function wrapFormState() {
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

export function wrapOwnFormState(el) {
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
