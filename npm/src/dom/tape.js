// The DOM recorder's side of the tape that sdk-wasm/src/tape.rs reads: what one walk hands to
// the recorder in one crossing (numbers and text fields, in tape order), in chunks the collector
// accepts, and the numbering of the nodes and sheets it refers to.

import { cleanText } from '../tape.js';

// A snapshot or change set goes to the recorder in chunks of about this much, so that no batch
// outgrows what the collector accepts; a big snapshot ships as a snapshot followed by additions.
const CHUNK_TEXT = 192 * 1024;
const CHUNK_NODES = 6000;

// The walker's output for one crossing: numbers and text fields, in tape order.
export class Tape {
  constructor() {
    this.nums = [];
    this.texts = [];
    this.size = 0;
    this.count = 0;
  }

  text(value) {
    const text = cleanText(value);
    this.size += text.length;
    this.texts.push(text);
  }

  full() {
    return this.size >= CHUNK_TEXT || this.count >= CHUNK_NODES;
  }

  reset() {
    this.nums = [];
    this.texts = [];
    this.size = 0;
    this.count = 0;
  }
}

export const EMPTY = new Tape();

export function nodesTape(tape) {
  return new Uint32Array([tape.count].concat(tape.nums));
}

export function changeTape(removes, adds, attributes, texts) {
  const nums = [removes.length].concat(removes, [adds.count], adds.nums, [attributes.count], attributes.nums, [texts.count], texts.nums);
  return new Uint32Array(nums);
}

// Numbers objects from 1 in the order they are first met, without keeping them alive.
export function numbering() {
  const map = new WeakMap();
  let next = 1;
  const assign = (object) => {
    let id = map.get(object);
    if (id === undefined) {
      id = next++;
      map.set(object, id);
    }
    return id;
  };
  return { map, assign };
}
