import initWasm, { Recorder } from './sightline.js';
import { createSightline } from './api.js';

const sightline = createSightline(initWasm, Recorder, () => new URL('./sightline_bg.wasm', import.meta.url));

export const { init, identify, track, flush, stop, getSessionUrl, status } = sightline;
export default sightline;
