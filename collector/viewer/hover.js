// Hover as the user saw it: the element under the recorded pointer, and the elements it sits
// in, match the page's `:hover` rules in the replay frame, so a menu that opened on hover is
// open and a highlighted row is highlighted.
//
// The engineer's own pointer never reaches the frame (and must not hover it), so the frame's
// elements can't be `:hover`. Instead each `:hover` rule of a tree (the document, a shadow root,
// a recorded frame's document) is copied with `[data-sl-hover]` in place of `:hover` into a
// sheet the viewer adopts last in that tree, and the elements under the pointer carry that
// attribute. An attribute selector weighs what a pseudo-class weighs, so the copies win where
// the page's `:hover` rules would have.

const MARK = 'data-sl-hover';
const MARKED = `[${MARK}]`;
// Points of the pointer's path the hover follows, at most.
const PATH_POINTS = 8;
// Grouping rules inside grouping rules, at most: deeper ones are left out.
const MAX_DEPTH = 8;

export class Hover {
  constructor() {
    // The elements that carry the mark now, in `doc`, for the pointer at `last`.
    this.marked = [];
    this.doc = null;
    this.last = null;
    // Per tree (a document or shadow root): the sheets the copies were made from, and the sheet
    // holding them.
    this.copies = new WeakMap();
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
    for (const [x, y] of points.slice(from)) this.markUnder(doc, x, y);
    this.doc = doc;
    this.last = points[points.length - 1];
  }

  markUnder(doc, x, y) {
    // The rules go first: the marks of the point before may open what this point is over.
    for (const tree of new Set(this.marked.map((element) => element.getRootNode()))) this.copyRules(tree);
    const chain = underPointer(doc, x, y);
    this.mark(chain);
    for (const tree of new Set(chain.map((element) => element.getRootNode()))) this.copyRules(tree);
  }

  mark(chain) {
    for (const element of this.marked) if (!chain.includes(element)) element.removeAttribute(MARK);
    // A recorded change of attributes takes the mark away: it is put back each time.
    for (const element of chain) if (!element.hasAttribute(MARK)) element.setAttribute(MARK, '');
    this.marked = chain;
  }

  // The tree's `:hover` rules, copied into a sheet adopted last in it; made again only when the
  // tree's sheets are other sheets than last time (a changed `<style>` is a new sheet).
  copyRules(tree) {
    const doc = tree.nodeType === 9 ? tree : tree.ownerDocument;
    const view = doc && doc.defaultView;
    if (!view) return;
    let known = this.copies.get(tree);
    const adopted = tree.adoptedStyleSheets || [];
    const sources = [...tree.styleSheets, ...adopted.filter((sheet) => !known || sheet !== known.sheet)];
    if (!known || known.from.length !== sources.length || known.from.some((sheet, i) => sheet !== sources[i])) {
      try {
        const sheet = known ? known.sheet : new view.CSSStyleSheet();
        sheet.replaceSync(hoverRules(sources));
        known = { from: sources, sheet };
        this.copies.set(tree, known);
      } catch (_) {
        // A browser without constructed sheets: no hover.
        return;
      }
    }
    if (adopted[adopted.length - 1] !== known.sheet) {
      try {
        tree.adoptedStyleSheets = [...adopted.filter((sheet) => sheet !== known.sheet), known.sheet];
      } catch (_) {
        // Likewise.
      }
    }
  }
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
      const box = found.getBoundingClientRect();
      x -= box.left + found.clientLeft;
      y -= box.top + found.clientTop;
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

// The `:hover` rules of `sheets`, as CSS text with `[data-sl-hover]` in place of `:hover`, inside
// the media, supports, container and layer rules that held them. A sheet the viewer can't read
// (another origin's, without CORS) adds nothing.
function hoverRules(sheets) {
  const parts = [];
  for (const sheet of sheets) {
    const text = sheetRules(sheet, 0);
    const media = sheet.media && sheet.media.mediaText;
    if (text) parts.push(media ? `@media ${media} {\n${text}}\n` : text);
  }
  return parts.join('');
}

function sheetRules(sheet, depth) {
  let rules;
  try {
    rules = sheet.cssRules;
  } catch (_) {
    return '';
  }
  return copied(rules, depth);
}

// `hovered`: the rules are nested in a rule that applies only on hover, so all of them are
// copied.
function copied(rules, depth, hovered = false) {
  let text = '';
  for (const rule of rules) {
    const kind = rule.constructor.name;
    if (kind === 'CSSStyleRule') {
      const all = splitSelectors(rule.selectorText);
      const selectors = hovered ? all : all.filter((selector) => selector.includes(':hover'));
      if (selectors.length > 0 && rule.style.length > 0) {
        text += `${selectors.map(asMarked).join(', ')} { ${rule.style.cssText} }\n`;
      }
      // Nested rules (`&:hover`) stay nested in their parent's selector.
      if (rule.cssRules && rule.cssRules.length > 0 && depth < MAX_DEPTH) {
        const inner = copied(rule.cssRules, depth + 1, hovered || selectors.length > 0);
        if (inner) text += `${asMarked(rule.selectorText)} {\n${inner}}\n`;
      }
      continue;
    }
    if (depth >= MAX_DEPTH) continue;
    if (kind === 'CSSImportRule') {
      const inner = rule.styleSheet ? sheetRules(rule.styleSheet, depth + 1) : '';
      const media = rule.media && rule.media.mediaText;
      if (inner) text += media ? `@media ${media} {\n${inner}}\n` : inner;
      continue;
    }
    const head = groupHead(rule, kind);
    if (head === null) continue;
    const inner = copied(rule.cssRules, depth + 1, hovered);
    if (inner) text += `${head} {\n${inner}}\n`;
  }
  return text;
}

function asMarked(selector) {
  return selector.replace(/:hover\b/g, MARKED);
}

// How a grouping rule that can hold `:hover` rules begins; null for the others.
function groupHead(rule, kind) {
  switch (kind) {
    case 'CSSMediaRule':
      return `@media ${rule.media.mediaText}`;
    case 'CSSSupportsRule':
      return `@supports ${rule.conditionText}`;
    case 'CSSContainerRule':
      return `@container ${rule.conditionText}`;
    case 'CSSLayerBlockRule':
      return `@layer ${rule.name}`;
    default:
      return null;
  }
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
