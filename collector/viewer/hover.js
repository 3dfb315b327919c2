// Hover as the user saw it: the element under the recorded pointer, and the elements it sits
// in, match the page's `:hover` rules in the replay frame, so a menu that opened on hover is
// open and a highlighted row is highlighted.
//
// The engineer's own pointer never reaches the frame (and must not hover it), so the frame's
// elements can't be `:hover`. Instead each `:hover` of the frame's own rules (the document's,
// a shadow root's, a recorded frame's, adopted sheets and nested rules included) is rewritten in
// place as `:is(:hover, [data-sl-hover])`, and the elements under the pointer carry that
// attribute. The rule keeps its place, its layer and its weight (`:is()` weighs what its
// heaviest part weighs), so the cascade is the page's own, `:not(:hover)` included.

const MARK = 'data-sl-hover';
const MARKED = `:is(:hover, [${MARK}])`;
// Points of the pointer's path the hover follows, at most.
const PATH_POINTS = 8;
// Grouping rules inside grouping rules, at most: deeper ones are left as they are.
const MAX_DEPTH = 8;

export class Hover {
  constructor() {
    // The elements that carry the mark now, in `doc`, for the pointer at `last`.
    this.marked = [];
    this.doc = null;
    this.last = null;
    // The sheets whose rules were rewritten.
    this.rewritten = new WeakSet();
  }

  // Marks what is under the pointer: `path` holds where it was in the last moments, oldest
  // first, and where it is now last (`[x, y]` in the viewport of `doc`, the frame's document);
  // empty when there is no pointer. What is under a point depends on where the pointer came
  // from (a menu that opened on hover is under it only once it has opened), so the pointer is
  // moved along the last points of the path.
  show(doc, path) {
    const points = path.slice(-PATH_POINTS);
    if (points.length === 0) {
      this.mark([]);
      this.last = null;
      return;
    }
    // Played on from the moment shown last, on the same page: the pointer goes on from where it
    // was, so only the points after that are followed (each point can cost the browser a
    // layout). Otherwise (another page, a seek away) the whole path is.
    let from = 0;
    const same = this.doc === doc && this.marked.every((element) => element.isConnected);
    if (same && this.last !== null) {
      for (let i = points.length - 1; i >= 0; i--) {
        if (points[i][0] === this.last[0] && points[i][1] === this.last[1]) {
          from = Math.min(i + 1, points.length - 1);
          break;
        }
      }
    }
    // Followed from its start, the path starts from nothing hovered.
    if (from === 0) this.mark([]);
    for (const [x, y] of points.slice(from)) this.markUnder(doc, x, y);
    this.doc = doc;
    this.last = points[points.length - 1];
  }

  markUnder(doc, x, y) {
    // The rules go first: the marks of the point before may open what this point is over.
    for (const tree of new Set(this.marked.map((element) => element.getRootNode()))) this.rewriteRules(tree);
    // A recorded change of attributes may have taken a mark away.
    this.mark(this.marked);
    const chain = underPointer(doc, x, y);
    this.mark(chain);
    for (const tree of new Set(chain.map((element) => element.getRootNode()))) this.rewriteRules(tree);
  }

  mark(chain) {
    for (const element of this.marked) if (!chain.includes(element)) element.removeAttribute(MARK);
    // A recorded change of attributes takes the mark away: it is put back each time.
    for (const element of chain) if (!element.hasAttribute(MARK)) element.setAttribute(MARK, '');
    this.marked = chain;
  }

  // Rewrites the `:hover` rules of the tree's sheets that were not rewritten yet (a changed
  // `<style>` is a new sheet).
  rewriteRules(tree) {
    const view = (tree.nodeType === 9 ? tree : tree.ownerDocument).defaultView;
    if (!view) return;
    for (const sheet of [...tree.styleSheets, ...(tree.adoptedStyleSheets || [])]) {
      if (this.rewritten.has(sheet)) continue;
      this.rewritten.add(sheet);
      rewriteSheet(sheet, view, 0);
    }
  }
}

// Where a frame element's document starts in the viewport holding the frame: past its border
// and padding.
export function contentOffset(holder) {
  const box = holder.getBoundingClientRect();
  const style = holder.ownerDocument.defaultView.getComputedStyle(holder);
  return [
    box.left + holder.clientLeft + (parseFloat(style.paddingLeft) || 0),
    box.top + holder.clientTop + (parseFloat(style.paddingTop) || 0),
  ];
}

// The element under a point and every element it is shown in, innermost first: through open
// shadow roots, slots and the recorded frames the viewer can read, up to `doc`.
function underPointer(doc, x, y) {
  let element = null;
  let tree = doc;
  for (let depth = 0; depth < 32; depth++) {
    let found = null;
    try {
      found = tree.elementFromPoint(x, y);
    } catch (_) {
      // A tree the point can't be asked of.
    }
    if (!found || found === element) break;
    element = found;
    if (found.shadowRoot) {
      tree = found.shadowRoot;
    } else if (found.localName === 'iframe') {
      let inner = null;
      try {
        inner = found.contentDocument;
      } catch (_) {
        // Not the viewer's to read.
      }
      if (!inner) break;
      const [left, top] = contentOffset(found);
      x -= left;
      y -= top;
      tree = inner;
    } else {
      break;
    }
  }
  const chain = [];
  let node = element;
  while (node) {
    if (node.nodeType === 1) chain.push(node);
    let up = node.nodeType === 1 && node.assignedSlot ? node.assignedSlot : node.parentNode;
    if (up && up.nodeType === 11) up = up.host;
    if (!up && node.nodeType === 9 && node !== doc) {
      try {
        up = node.defaultView && node.defaultView.frameElement;
      } catch (_) {
        up = null;
      }
    }
    node = up;
  }
  return chain;
}

// Rewrites the `:hover` of a sheet's rules in place, through grouping and nested rules and
// the sheets it imports. A sheet the viewer can't read (another origin's, without CORS) stays
// as it is.
function rewriteSheet(sheet, view, depth) {
  let rules;
  try {
    rules = sheet.cssRules;
  } catch (_) {
    return;
  }
  rewriteRules(rules, view, depth);
}

function rewriteRules(rules, view, depth) {
  for (const rule of rules) {
    if (rule.constructor.name === 'CSSImportRule') {
      if (rule.styleSheet && depth < MAX_DEPTH) rewriteSheet(rule.styleSheet, view, depth + 1);
      continue;
    }
    if (typeof rule.selectorText === 'string' && rule.selectorText.includes(':hover')) rewriteSelector(rule, view);
    if (rule.cssRules && depth < MAX_DEPTH) rewriteRules(rule.cssRules, view, depth + 1);
  }
}

// The rule's selector with each `:hover` marked; a selector the browser refuses that way (in
// a list, the others still are) keeps its `:hover`.
function rewriteSelector(rule, view) {
  const selectors = splitSelectors(rule.selectorText);
  const marked = selectors.map(markHover);
  const whole = marked.join(', ');
  rule.selectorText = whole;
  if (rule.selectorText !== selectors.join(', ') || selectors.length === 1) return;
  const valid = (selector) => {
    try {
      return view.CSS.supports(`selector(${selector})`);
    } catch (_) {
      return false;
    }
  };
  rule.selectorText = marked.map((selector, i) => (valid(selector) ? selector : selectors[i])).join(', ');
}

// A selector with each `:hover` pseudo-class replaced by `:is(:hover, [data-sl-hover])`: not
// one inside an escape (`.md\:hover\:x`), a string or an attribute selector.
function markHover(selector) {
  let out = '';
  let quote = null;
  let brackets = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === '\\') {
      out += c + (selector[i + 1] ?? '');
      i++;
    } else if (quote !== null) {
      if (c === quote) quote = null;
      out += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      out += c;
    } else if (c === '[' || c === ']') {
      brackets += c === '[' ? 1 : -1;
      out += c;
    } else if (
      brackets === 0 &&
      c === ':' &&
      selector[i - 1] !== ':' &&
      selector.startsWith(':hover', i) &&
      !/[\w-]/.test(selector[i + 6] ?? '')
    ) {
      out += MARKED;
      i += 5;
    } else {
      out += c;
    }
  }
  return out;
}

// A selector list split at its top-level commas: not those inside `:is(…)`, `[…]` or quotes.
export function splitSelectors(list) {
  const selectors = [];
  let depth = 0;
  let quote = null;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (quote !== null) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '\\') {
      i++;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '(' || c === '[') {
      depth++;
    } else if (c === ')' || c === ']') {
      depth = Math.max(0, depth - 1);
    } else if (c === ',' && depth === 0) {
      selectors.push(list.slice(start, i).trim());
      start = i + 1;
    }
  }
  selectors.push(list.slice(start).trim());
  return selectors.filter((selector) => selector.length > 0);
}
