// What of the page is recorded. Privacy is decided here, in the page, before anything reaches
// the recorder; the walk, the change sets and the interactions all follow these rules.
//
// - Masking (data-sl-mask, the mask selector, or maskAllText for the whole page) and unmasking
//   (data-sl-unmask, the unmask selector) are inherited; the nearest of the two decides, across
//   shadow roots and same-origin frames.
// - Text under masking, and text inside contenteditable unless unmasked, is recorded with every
//   character but spaces as `*`. A textarea's text is masked as its value is; a style's text
//   is CSS, recorded as it is. Comments are recorded empty.
// - Form values are masked, as many `*` as characters, unless unmasked (with maskAllInputs off:
//   only under masking). A button's label is masked only under masking. Secret inputs are
//   masked always, unmasked or not: passwords, card numbers, security codes and expiry dates,
//   one-time codes, hidden inputs; one once seen as secret stays so. A file input's value is
//   never recorded.
// - Which boxes are checked and which option is chosen is recorded, except under masking.
// - data-sl-block elements (or the block selector) become empty boxes of the same size with
//   their id and class only; nothing inside them, nor inside a script, is read. Canvases (when
//   the app asks for them) are recorded only outside masking and blocking.
// - No on* attribute and no srcdoc is recorded; a `javascript:` URL becomes `javascript:void 0`;
//   attributes that show text (title, alt, placeholder, aria labels) are masked with the text.
// - URLs are made absolute, with credential-like values in their query or fragment redacted as
//   a request's are (see network.js).

// Inherited through the walk.
export const MASK = 1; // text is masked (data-sl-mask, the mask selector, or maskAllText)
export const UNMASK = 2; // form values and text are recorded as they are (data-sl-unmask)
export const EDITABLE = 4; // inside contenteditable: text is what the user typed
export const BLOCKED = -1; // not a flag: a parent inside a blocked element or a script

const URL_ATTRIBUTES = new Set(['href', 'src', 'action', 'formaction', 'poster', 'background', 'cite', 'xlink:href']);
// Attributes whose value is shown to the user as text.
const TEXT_ATTRIBUTES = new Set(['title', 'alt', 'placeholder', 'aria-label', 'aria-description', 'label']);
// Inputs whose value is a visible label, not something the user typed.
const LABEL_INPUTS = new Set(['button', 'submit', 'reset', 'image']);

// Inputs whose value is masked in every mode, unmasked or not: passwords, card numbers,
// security codes and expiry dates, one-time codes (by `autocomplete`), and hidden inputs,
// which carry tokens. One once seen as secret stays so: a "show password" toggle that switches
// it to text must not reveal it.
const SECRET_AUTOCOMPLETE = /(^|\s)(current-password|new-password|cc-number|cc-csc|cc-exp(-month|-year)?|one-time-code)(\s|$)/;

export function selector(base, extra) {
  return extra ? `${base},${extra}` : base;
}

export function maskText(text) {
  return text.replace(/\S/g, '*');
}

export function maskValue(value) {
  return '*'.repeat(value.length);
}

export function isFormControl(el) {
  const tag = el.localName;
  return tag === 'input' || tag === 'textarea' || tag === 'select';
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

// The rules under the recorder's options (see createDomRecorder).
export function createPrivacy(ctx) {
  const { maskSelector, unmaskSelector, blockSelector, maskAllInputs, maskAllText, cleanUrl } = ctx;

  function flagsOf(el, inherited) {
    let flags = inherited;
    if (el.matches(unmaskSelector)) flags = (flags | UNMASK) & ~MASK;
    if (el.matches(maskSelector)) flags = (flags | MASK) & ~UNMASK;
    const editable = el.getAttribute('contenteditable');
    if (editable !== null && editable !== 'false') flags |= EDITABLE;
    else if (editable === 'false') flags &= ~EDITABLE;
    return flags;
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
    if (URL_ATTRIBUTES.has(name) || (name === 'data' && el.localName === 'object')) {
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

  return { flagsOf, flagsAt, inBlockedOrScript, formValueMasked, textMasked, absoluteCss, attributeValue };
}
