// The page's own functions the DOM recorder needs to hear from (the CSSOM, `attachShadow` and
// `adoptedStyleSheets` in stylesheets.js, the form setters in form-state.js) are wrapped once per
// page, and report to whichever DOM recorder is running: the one whose hooks are installed here.

export let pageHooks = null;

export function installPageHooks(hooks) {
  pageHooks = hooks;
}

export function removePageHooks(hooks) {
  if (pageHooks === hooks) pageHooks = null;
}
