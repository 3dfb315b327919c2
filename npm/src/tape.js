// What the page hands to the recorder crosses into wasm as numbers and text fields joined by
// NUL (see sdk-wasm/src/tape.rs and intake.rs), so a text field must hold no NUL of its own.

export function cleanText(text) {
  // The HTML parser turns NUL into U+FFFD anyway.
  return text.indexOf('\0') === -1 ? text : text.replace(/\0/g, '\uFFFD');
}

export function joinTexts(texts) {
  return texts.map((text) => cleanText(String(text))).join('\0');
}
