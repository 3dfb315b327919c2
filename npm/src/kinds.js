// The numbers the page's JavaScript and the wasm recorder agree on, all in one place: the kinds
// of event the recorder's intake takes, and the node kinds and namespaces of the DOM tape. A
// test in sdk-wasm (js_contract.rs) reads this file and holds each number to the Rust one.

// Event kinds of the recorder's intake (sdk-wasm/src/intake.rs).
export const NAVIGATION = 1;
export const VISIBILITY = 2;
export const VIEWPORT = 3;
export const META = 4;
export const CONSOLE = 5;
export const ERROR = 6;
export const STYLE_SHEET = 7;
export const STYLE_RULE = 8;
export const ADOPTED_STYLE_SHEETS = 9;
export const NETWORK = 10;
export const CANVAS = 11;
export const POINTER = 12;
export const MOUSE_MOVES = 13;
export const SCROLL = 14;
export const INPUT = 15;
export const FOCUS = 16;
export const CUSTOM = 17;
export const IDENTIFY = 18;
export const TIMEZONE = 19;
export const TRACE_KEY = 20;
export const SCROLL_POSITION = 21;
export const KEY = 22;
export const SUBMIT = 23;
export const FEEDBACK = 24;

// Node kinds on the DOM tape (sdk-wasm/src/tape.rs).
export const DOCUMENT = 0;
export const DOCTYPE = 1;
export const ELEMENT = 2;
export const TEXT = 3;
export const COMMENT = 4;
export const CDATA = 5;
export const SHADOW_ROOT = 6;

// An element's namespace on the DOM tape, by its URI; any other (HTML) is 0.
export const NAMESPACES = { 'http://www.w3.org/2000/svg': 1, 'http://www.w3.org/1998/Math/MathML': 2 };
