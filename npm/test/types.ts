// Compiled with `tsc --noEmit --strict` by `cargo xtask test`: what an app writes against the
// package's types compiles, and what it must not write does not (`@ts-expect-error` fails the
// check when its line compiles).
import Sightline, { flush, getSessionUrl, identify, init, status, stop, track, type InitOptions, type Status } from '../dist/index.js';

const options: InitOptions = {
  endpoint: 'https://sightline.example.com',
  projectKey: 'slk_example',
  maskAllInputs: true,
  maskSelector: '.private',
  blockSelector: '.ad',
  sampleRate: 0.5,
  canvasIntervalMs: 1000,
  keyframeIntervalMs: 60_000,
  networkDetailUrls: ['/api/', /\/graphql$/],
  tracePropagationTargets: ['https://api.example.com/'],
  redactKeys: [/^x-internal-/],
};
const started: Promise<void> = init(options);
identify('u_1', { plan: 'team', seats: 12, tags: ['a', 'b'], trial: null });
track('invoice_sent', { amount: 1024 });
flush();
const link: string | null = getSessionUrl({ at: 'now' });
stop();
Sightline.track('via_default_export');
const now: Status = status();
if (now.state === 'disabled' && now.reason === 'wasm') console.warn('recorder not loaded');
// @ts-expect-error a reason is one of the listed ones
const badReason: Status['reason'] = 'crashed';

// @ts-expect-error the project key is required
init({ endpoint: 'https://sightline.example.com' });
// @ts-expect-error sampleRate is a number
init({ ...options, sampleRate: '0.5' });
// @ts-expect-error properties are JSON values
track('clicked', { at: new Date() });
// @ts-expect-error `at` takes only 'now'
getSessionUrl({ at: 12 });

export { started, link };
