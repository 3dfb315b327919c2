// The script-tag build: `<script src=".../sightline.iife.js"></script>` defines `window.Sightline`
// with the same API as the ES module. The recorder's wasm is loaded from next to this script.
/* global createSightline, wasm_bindgen -- the modules and the glue, joined in at build time */
(function () {
  const script = typeof document !== 'undefined' ? document.currentScript : null;
  const base = script && script.src ? script.src : (typeof location !== 'undefined' ? location.href : '');
  /* wasm-bindgen glue and the modules are inserted here by `cargo xtask build-sdk` */
  const sightline = createSightline(
    wasm_bindgen,
    wasm_bindgen.Recorder,
    () => new URL('./sightline_iife_bg.wasm', base),
    () => new URL('./feedback.js', base),
    () => new URL('./dom.js', base),
  );
  window.Sightline = sightline;
})();
