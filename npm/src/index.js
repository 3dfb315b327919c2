import initWasm, { Recorder } from './sightline.js';
import { createSightline } from './api.js';

const sightline = createSightline(
  initWasm,
  Recorder,
  () => new URL('./sightline_bg.wasm', import.meta.url),
  () => new URL('./feedback.js', import.meta.url),
  () => new URL('./dom.js', import.meta.url),
);

export const { init, identify, track, report, feedback, flush, stop, getSessionUrl, status } = sightline;
export default sightline;
