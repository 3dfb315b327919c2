// Stylesheets as the replay needs them: a <link>'s rules (the viewer can't fetch what needed the
// user's cookies), sheets changed through the CSSOM, and sheets adopted by a document or shadow
// root, each numbered once for the page's life, with the URLs in their rules made absolute.

import { cleanText } from '../tape.js';
import { mimic } from '../wrap.js';
import { pageHooks } from './page-hooks.js';
import { numbering } from './tape.js';

// CSS-in-JS libraries change stylesheets through the CSSOM, and components attach shadow roots,
// neither of which a mutation observer sees. The wrappers are installed once per page, call the
// original first (a throw propagates as before, unrecorded), and report to whichever DOM
// recorder is running.
let cssomWrapped = false;

export function wrapCssom() {
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

// The stylesheets of one DOM recorder; `absoluteCss` is the privacy rules' (see privacy.js).
export function createStylesheets(ctx, { absoluteCss }) {
  const { sink, ids, idOf } = ctx;
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
      else el.addEventListener('load', () => sink.guard(() => ctx.running && ids.has(el) && el.sheet && recordSheet(el.sheet, ids.get(el))), { once: true });
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

  // What the CSSOM wrappers report (see page-hooks.js).
  const hooks = {
    inserted(target, index) {
      sink.guard(() => {
        const sheet = sheetOf(target);
        if (!ctx.running || !sheet) return;
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
        if (ctx.running && sheet && sheetIds.has(sheet)) sink.styleRule(sheetIds.get(sheet), rulePath(target, index), undefined);
      });
    },
    replaced(sheet) {
      sink.guard(() => {
        if (ctx.running && sheetIds.has(sheet)) recordSheet(sheet, sheet.ownerNode ? idOf(sheet.ownerNode) : 0);
      });
    },
    adopted(root) {
      sink.guard(() => {
        if (ctx.running && ids.has(root)) recordAdopted(root, false);
      });
    },
  };

  return { noteSheet, noteAdopter, recordNotedSheets, hooks };
}
