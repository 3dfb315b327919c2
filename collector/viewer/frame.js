// The replay frame that plays: the page is built once from a keyframe, then changed in place,
// node by node, as the replay core says (player/src/live.rs), so images and fonts don't reload,
// animations don't restart and nothing flickers between two changes.
//
// Two sandboxed frames (no scripts run in them; the viewer reads and changes them, same
// origin) take turns: a page in another mode (a doctype that differs, or none: quirks) is
// loaded with that doctype and built in the hidden one, and shown when it is complete, so the
// engineer never sees a blank frame.
// What the ops carry has already been made inert by the replay core; the frame adds its own
// safety net: names the DOM refuses are skipped, and a node goes only under a node shown.

import { contentOffset, Hover } from '/viewer/hover.js';

const NAMESPACES = ['http://www.w3.org/1999/xhtml', 'http://www.w3.org/2000/svg', 'http://www.w3.org/1998/Math/MathML'];
const XLINK = 'http://www.w3.org/1999/xlink';
const XML = 'http://www.w3.org/XML/1998/namespace';

function setAttribute(element, name, value) {
  try {
    if (name.startsWith('xlink:')) element.setAttributeNS(XLINK, name, value);
    else if (name.startsWith('xml:')) element.setAttributeNS(XML, name, value);
    else element.setAttribute(name, value);
  } catch (_) {
    // A name the DOM refuses: left out, as the inert HTML leaves it out.
  }
}

function matches(element, selector) {
  try {
    return element.matches(selector);
  } catch (_) {
    return false;
  }
}

// Modal dialogs and open popovers are drawn in the top layer, over the page with a backdrop,
// as the user saw them: the recording marks them (`data-sl-modal`, `data-sl-popover-open`),
// and the frame's elements are put in the same state.
function showTopLayer(doc) {
  for (const dialog of doc.querySelectorAll('dialog')) {
    const modal = dialog.hasAttribute('data-sl-modal');
    if (modal === matches(dialog, ':modal')) continue;
    try {
      if (modal) {
        dialog.removeAttribute('open');
        dialog.showModal();
      } else {
        // Open without being modal, as recorded, or closed.
        const open = dialog.hasAttribute('open');
        dialog.close();
        if (open) dialog.setAttribute('open', '');
      }
    } catch (_) {
      // A dialog the frame can't show this way stays as its attributes say.
    }
  }
  for (const popover of doc.querySelectorAll('[popover]')) {
    const open = popover.hasAttribute('data-sl-popover-open');
    if (open === matches(popover, ':popover-open')) continue;
    try {
      if (open) popover.showPopover();
      else popover.hidePopover();
    } catch (_) {
      // Likewise.
    }
  }
}

export class ReplayFrame {
  // `make` returns a new sandboxed iframe; both go into `stage`. With `write`, a page in
  // another mode is written into the hidden frame rather than loaded from a `blob:` URL: a
  // file opened from disk has an origin of its own that such a document would not share.
  constructor(stage, make, { write = false } = {}) {
    this.write = write;
    this.frames = [make(), make()];
    this.frames[0].id = 'replay-frame';
    this.frames[1].id = 'replay-frame-next';
    this.frames[1].classList.add('standby');
    stage.prepend(...this.frames);
    this.shown = 0;
    this.doctype = null;
    this.nodes = new Map();
    this.ids = new WeakMap();
    // Where each document's window was scrolled: held there while its images arrive.
    this.windowScrolls = new Map();
    this.focused = 0;
    // The recorded frames' documents built in the page.
    this.documents = new Set();
    this.hover = new Hover();
    // Called when a page in another mode is shown, which happens after the moment that asked
    // for it was drawn: what is drawn over the frame (hover, the focus ring) is drawn again.
    this.onShown = null;
    // While a page in another mode loads: what arrived meanwhile, applied once it has.
    this.waiting = null;
    // How often a page was built, and how often a frame loaded for it, for the player
    // benchmark: between keyframes, neither happens.
    this.stage = stage;
    stage.dataset.builds = '0';
    stage.dataset.loads = '0';
    stage.dataset.updates = '0';
  }

  get frame() {
    return this.frames[this.shown];
  }

  // Applies what the replay core answered for a moment: `{reset, ops}`.
  show(step) {
    if (step.reset || step.ops.length) this.stage.dataset.updates = String(Number(this.stage.dataset.updates) + 1);
    if (this.waiting) {
      // A new page makes what came before it moot.
      if (step.reset) this.waiting = [];
      this.waiting.push(step);
      return;
    }
    if (step.reset) {
      const [doctype, root] = step.reset;
      if (doctype !== this.doctype) return this.load(doctype, step);
      this.clear(this.frame.contentDocument, root);
    }
    this.apply(step.ops);
  }

  // A page in another mode: built in the hidden frame, which is shown once the page is in it.
  load(doctype, step) {
    const next = this.frames[1 - this.shown];
    this.waiting = [];
    const loaded = () => {
        const queued = this.waiting;
        this.waiting = null;
        const previous = this.frame;
        this.shown = 1 - this.shown;
        this.doctype = doctype;
        this.clear(next.contentDocument, step.reset[1]);
        this.apply(step.ops);
        for (const later of queued) this.show(later);
        next.id = 'replay-frame';
        next.classList.remove('standby');
        previous.id = 'replay-frame-next';
        previous.classList.add('standby');
        if (previous.contentDocument) previous.contentDocument.replaceChildren();
        if (this.onShown) this.onShown();
        // When the first recorded page is up, for the player benchmark (and anyone profiling).
        if (performance.getEntriesByName('sightline-first-frame').length === 0) performance.mark('sightline-first-frame');
    };
    this.stage.dataset.loads = String(Number(this.stage.dataset.loads) + 1);
    if (this.write) {
      // The parser takes the mode from what is written first: the doctype, or none (quirks).
      const doc = next.contentDocument;
      doc.open();
      doc.write(doctype);
      doc.close();
      loaded();
      return;
    }
    next.addEventListener('load', loaded, { once: true });
    // A document of its own URL, not `srcdoc`: a `srcdoc` document is never in quirks mode,
    // whatever its doctype. The blob's document has the viewer's origin (the sandbox lets the
    // viewer reach it, and nothing else) and inherits the viewer's content security policy.
    const url = URL.createObjectURL(new Blob([doctype], { type: 'text/html' }));
    next.addEventListener('load', () => URL.revokeObjectURL(url), { once: true });
    next.src = url;
  }

  clear(doc, root) {
    doc.replaceChildren();
    // A page built anew starts at its origin, as a fresh frame does; its scroll follows.
    if (doc.defaultView) doc.defaultView.scrollTo(0, 0);
    this.nodes = new Map([[root, doc]]);
    this.ids = new WeakMap([[doc, root]]);
    doc.adoptedStyleSheets = [];
    this.windowScrolls = new Map();
    this.focused = 0;
    this.documents = new Set();
    this.stage.dataset.builds = String(Number(this.stage.dataset.builds) + 1);
  }

  apply(ops) {
    const doc = this.frame.contentDocument;
    // Scrolls wait until the page has all its changes, so that only the last position of
    // each node is set and the browser lays the page out once.
    const scrolls = new Map();
    for (const op of ops) {
      switch (op.op) {
        case 'element': {
          let node;
          try {
            // createElement for HTML: createElementNS would read `x:meta` as a prefixed `meta`,
            // past the replay core's rules, which compare whole names.
            if (!op.ns) node = doc.createElement(op.tag);
            else if (op.tag.includes(':')) node = doc.createComment('');
            else node = doc.createElementNS(NAMESPACES[op.ns] || NAMESPACES[0], op.tag);
          } catch (_) {
            node = doc.createComment('');
          }
          if (node.nodeType === 1) {
            for (const [name, value] of op.attrs) setAttribute(node, name, value);
            if (op.text !== null) node.textContent = op.text;
          }
          this.place(op.id, op.parent, op.next, node);
          break;
        }
        case 'text':
          this.place(op.id, op.parent, op.next, doc.createTextNode(op.text));
          break;
        case 'hole':
          this.place(op.id, op.parent, op.next, doc.createComment(''));
          break;
        case 'shadow': {
          const host = this.nodes.get(op.host);
          if (!host || host.nodeType !== 1) break;
          try {
            const root = host.shadowRoot || host.attachShadow({ mode: 'open' });
            this.forgetChildren(root);
            root.replaceChildren();
            root.adoptedStyleSheets = [];
            this.nodes.set(op.id, root);
            this.ids.set(root, op.id);
          } catch (_) {
            // An element that can't host a shadow root: its shadow tree is left out.
          }
          break;
        }
        case 'document':
          this.buildDocument(op.id, op.frame, op.doctype);
          break;
        case 'remove':
          this.remove(op.id);
          break;
        case 'attrs': {
          const element = this.nodes.get(op.id);
          if (!element || element.nodeType !== 1) break;
          const wanted = new Map(op.attrs);
          // The viewer's own hover mark stays (see hover.js); the recording never carries it.
          for (const name of element.getAttributeNames()) if (!wanted.has(name) && name !== 'data-sl-hover') element.removeAttribute(name);
          for (const [name, value] of op.attrs) if (element.getAttribute(name) !== value) setAttribute(element, name, value);
          break;
        }
        case 'content': {
          const node = this.nodes.get(op.id);
          if (node && node.nodeType === 3) node.data = op.text;
          else if (node && node.nodeType === 1) node.textContent = op.text;
          break;
        }
        case 'adopted':
          this.adopt(op.host, op.sheets);
          break;
        case 'scroll':
          // For the node that has the id now: one placed anew later starts at its origin.
          scrolls.set(op.id, [op.x, op.y, this.nodes.get(op.id)]);
          break;
        case 'focus':
          this.focused = op.id;
          break;
      }
    }
    if (ops.length > 0) {
      showTopLayer(doc);
      for (const inner of this.documents) if (inner.defaultView) showTopLayer(inner);
    }
    for (const [id, [x, y, node]] of scrolls) if (node && this.nodes.get(id) === node) this.scroll(id, x, y);
    // A page grows as its images arrive: each window goes back where the user had it.
    for (const [scrolled, [x, y]] of this.windowScrolls) {
      const view = scrolled.defaultView;
      if (!view || (scrolled !== doc && !this.documents.has(scrolled))) this.windowScrolls.delete(scrolled);
      else if (view.scrollX !== x || view.scrollY !== y) view.scrollTo(x, y);
    }
  }

  // Shows the page hovered where the recorded pointer is: `path` holds where it was lately and
  // is now, as `[x, y]` points in the page's viewport, oldest first (see hover.js).
  hoverAt(path) {
    if (this.waiting) return;
    const doc = this.frame.contentDocument;
    try {
      if (doc) this.hover.show(doc, path);
    } catch (_) {
      // Hover is drawn over what the page shows; a page it can't be drawn on plays without it.
    }
  }

  // Where the focused element is in the frame's viewport, if one has the focus and is shown:
  // in a recorded frame, offset by where that frame is.
  focusBox() {
    const element = this.focused ? this.nodes.get(this.focused) : null;
    if (!element || element.nodeType !== 1 || !element.isConnected) return null;
    const box = element.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) return null;
    let [left, top] = [box.left, box.top];
    const page = this.frame.contentDocument;
    for (let doc = element.ownerDocument; doc && doc !== page; ) {
      const holder = doc.defaultView && doc.defaultView.frameElement;
      if (!holder) return null;
      const [x, y] = contentOffset(holder);
      left += x;
      top += y;
      doc = holder.ownerDocument;
    }
    return { left, top, width: box.width, height: box.height };
  }

  // A recorded frame's document, built in the frame element `frameId` as node `id`: the frame
  // has no source (see player/src/inert.rs), so it holds the empty document it was made with,
  // which is written anew with the recorded doctype (the parser takes the mode from it) and
  // emptied for the nodes that follow.
  buildDocument(id, frameId, doctype) {
    const holder = this.nodes.get(frameId);
    const doc = holder && holder.localName === 'iframe' ? this.innerDocument(holder) : null;
    if (!doc) return;
    const was = this.nodes.get(id);
    if (was) this.forgetChildren(was);
    try {
      doc.open();
      doc.write(doctype);
      doc.close();
    } catch (_) {
      // A document that can't be written: built in the mode it has.
    }
    doc.replaceChildren();
    doc.adoptedStyleSheets = [];
    this.windowScrolls.delete(doc);
    this.nodes.set(id, doc);
    this.ids.set(doc, id);
    this.documents.add(doc);
  }

  place(id, parent, next, node) {
    this.remove(id);
    const under = this.nodes.get(parent);
    if (!under) return;
    const before = next ? this.nodes.get(next) : null;
    try {
      under.insertBefore(node, before && before.parentNode === under ? before : null);
    } catch (_) {
      // The DOM refuses it there (a second element under the document): left out.
      return;
    }
    this.nodes.set(id, node);
    this.ids.set(node, id);
  }

  remove(id) {
    const node = this.nodes.get(id);
    if (!node) return;
    this.forgetChildren(node);
    this.nodes.delete(id);
    // A shadow root stays on its host, a document in its frame: both are emptied.
    if (node.nodeType === 11 || node.nodeType === 9) node.replaceChildren();
    else node.remove();
    if (node.nodeType === 9) this.documents.delete(node);
  }

  // Everything under a node leaves the map with it, shadow trees and frames' documents included.
  forgetChildren(node) {
    const stack = [];
    // One at a time: spreading a node's children into a call fails past ~100,000 of them.
    const pushChildren = (parent) => {
      for (let child = parent.firstChild; child; child = child.nextSibling) stack.push(child);
      if (parent.shadowRoot) stack.push(parent.shadowRoot);
      if (parent.localName === 'iframe') {
        const inner = this.innerDocument(parent);
        if (inner && this.documents.has(inner)) stack.push(inner);
      }
    };
    pushChildren(node);
    while (stack.length) {
      const below = stack.pop();
      const id = this.ids.get(below);
      if (id !== undefined && this.nodes.get(id) === below) this.nodes.delete(id);
      if (below.nodeType === 9) this.documents.delete(below);
      pushChildren(below);
    }
  }

  innerDocument(holder) {
    try {
      return holder.contentDocument;
    } catch (_) {
      return null;
    }
  }

  // A document's or shadow root's adopted sheets, adopted in the frame too: constructed in
  // the frame's own realm, they apply after every sheet of the tree, as they did for the user.
  adopt(hostId, sheets) {
    const host = this.nodes.get(hostId);
    if (!host || (host.nodeType !== 9 && host.nodeType !== 11)) return;
    const view = (host.nodeType === 9 ? host : host.ownerDocument).defaultView;
    if (!view) return;
    try {
      host.adoptedStyleSheets = sheets.map(([media, rules]) => {
        const sheet = new view.CSSStyleSheet(media ? { media } : {});
        sheet.replaceSync(rules);
        return sheet;
      });
    } catch (_) {
      // A browser without constructed sheets: the page shows without them.
    }
  }

  scroll(id, x, y) {
    const node = this.nodes.get(id);
    if (!node) return;
    if (node.nodeType === 9) {
      this.windowScrolls.set(node, [x, y]);
      if (node.defaultView) node.defaultView.scrollTo(x, y);
    } else if (node.nodeType === 1) {
      node.scrollLeft = x;
      node.scrollTop = y;
    }
  }
}
