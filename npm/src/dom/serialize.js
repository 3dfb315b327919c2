// The walk: a document, or any subtree of it, written onto the tape as numbered nodes, parents
// first, masked and blocked as the privacy rules say (see privacy.js). A walk can be spread over
// several tasks; on its way it notes the stylesheets, canvases, frames and shadow roots it meets
// for the concerns that record them.

import { CDATA, COMMENT, DOCTYPE, DOCUMENT, ELEMENT, NAMESPACES, SHADOW_ROOT, TEXT } from '../kinds.js';
import { wrapOwnFormState } from './form-state.js';
import { topLayer } from './interactions.js';
import { MASK, maskText, maskValue } from './privacy.js';

export function createSerializer(ctx, privacy, sheets, frames, { canvases }) {
  const { assignId, blockSelector, canvasMs } = ctx;
  const { flagsOf, formValueMasked, textMasked, absoluteCss, attributeValue } = privacy;
  const { noteSheet, noteAdopter } = sheets;
  const { enterFrame, listenToFrame } = frames;
  const observed = new WeakSet();

  // Each document and shadow root the walk meets is watched for changes.
  function observe(root) {
    const { observer } = ctx;
    if (observer === null || observed.has(root)) return;
    observed.add(root);
    observer.observe(root, { childList: true, subtree: true, attributes: true, characterData: true });
  }

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
              const doc = enterFrame(el);
              if (doc !== null) stack.push(doc, id, flags, 0);
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

  return { walker, observe, recordedText };
}
