// The SDK's pure parts, with node's test runner: what is masked, how values are flattened for
// the recorder, which credentials are redacted from URLs and bodies, what buffer mode keeps.

import assert from 'node:assert/strict';
import test from 'node:test';

import { createBuffer } from '../../src/api/buffer.js';
import { flattenValue, MAX_VALUE_TEXT } from '../../src/api/console.js';
import { maskText, maskValue, selector } from '../../src/dom/privacy.js';
import { createRedaction, REDACTED, toMatcher } from '../../src/redact.js';
import { cleanText, joinTexts } from '../../src/tape.js';
import { VERSION } from '../../src/version.js';
import { readFileSync } from 'node:fs';

test('masked text keeps its shape, masked values keep their length', () => {
  assert.equal(maskText('Jane Doe, 42 rue X'), maskText('Jane Doe, 42 rue X'));
  assert.notEqual(maskText('secret'), 'secret');
  assert.equal(maskText('ab cd').length, 'ab cd'.length);
  assert.match(maskText('ab cd'), /^\S+ \S+$/, 'spaces stay where they were');
  assert.equal(maskValue('hunter2'), '*******');
  assert.equal(maskValue(''), '');
});

test('selectors join the built-in one with the app’s', () => {
  assert.equal(selector('[data-sl-mask]'), '[data-sl-mask]');
  assert.equal(selector('[data-sl-mask]', '.pii'), '[data-sl-mask],.pii');
});

test('credentials are redacted from queries, OAuth fragments and JSON bodies, and nothing else', () => {
  const { cleanUrl, redactJson, isCredential } = createRedaction([/^x-tenant$/]);
  assert.equal(
    cleanUrl('https://app.example/cb?code=abc&state=ok#access_token=t0k&scope=read'),
    `https://app.example/cb?code=${encodeURIComponent(REDACTED)}&state=ok#access_token=${encodeURIComponent(REDACTED)}&scope=read`,
  );
  assert.equal(cleanUrl('https://app.example/items?page=2#top'), 'https://app.example/items?page=2#top', 'untouched');
  assert.equal(cleanUrl('https://app.example/?api%5Fkey=1').includes('1'), false, 'decoded as the browser decodes it');
  assert.deepEqual(redactJson({ user: { password: 'pw', name: 'Jane' }, list: [{ token: 't' }] }, 0), {
    user: { password: REDACTED, name: 'Jane' },
    list: [{ token: REDACTED }],
  });
  assert.equal(isCredential('x-tenant'), true, 'the app’s own keys');
  assert.equal(isCredential('tenant'), false);
});

test('matchers take strings (contained, or as prefixes) and RegExps, even global ones', () => {
  const global = /api/g;
  const contains = toMatcher(['/api/', global]);
  assert.equal(contains('https://x/api/y'), true);
  assert.equal(contains('https://x/other'), false);
  assert.equal(contains('https://x/apis') && contains('https://x/apis'), true, 'a global RegExp matches twice');
  assert.equal(toMatcher(['https://x'], true)('https://x/y'), true);
  assert.equal(toMatcher(['https://x'], true)('https://y/https://x'), false);
  assert.equal(toMatcher(undefined)('anything'), false);
});

test('values are flattened depth first, within a budget of text', () => {
  const nums = [];
  const texts = [];
  flattenValue({ a: [1, 'two', null, true], b: { c: false } }, nums, texts, 0, { left: MAX_VALUE_TEXT });
  assert.ok(nums.length > 0 && texts.includes('a') && texts.includes('two') && texts.includes('c'), JSON.stringify({ nums, texts }));
});

test('texts handed to the recorder hold no NUL, which separates them', () => {
  assert.equal(cleanText('a\0b'), cleanText('a\0b'));
  assert.equal(cleanText('a\0b').includes('\0'), false);
  assert.equal(joinTexts(['a', 'b']).split('\0').length, 2);
});

test('buffer mode keeps the page start and the window from the checkout before it', () => {
  const buffer = createBuffer(10);
  assert.equal(buffer.checkoutEveryMs, 5000);
  const batch = (name) => new TextEncoder().encode(name);
  const names = (list) => list.map((b) => new TextDecoder().decode(b));
  buffer.keep(batch('start'), 500);
  // A batch a second, a checkout every five.
  for (let t = 1; t <= 25; t++) {
    if (t % 5 === 0) buffer.checkout(t * 1000);
    buffer.keep(batch(`b${t}`), t * 1000 + 500);
  }
  // At 25.5 s the window starts at 15.5 s: kept from the checkout at 15 s.
  const kept = ['start'].concat(Array.from({ length: 11 }, (_, i) => `b${15 + i}`));
  assert.deepEqual(names(buffer.take()), kept);
  assert.deepEqual(buffer.take(), [], 'taken once');
  assert.equal(buffer.size(), 0);
});

test('buffer mode keeps between 10 s and 10 minutes', () => {
  assert.equal(createBuffer(1).checkoutEveryMs, 5000);
  assert.equal(createBuffer(Infinity).checkoutEveryMs, 300000);
  assert.equal(createBuffer('nonsense').checkoutEveryMs, 30000);
});

test('buffer mode keeps everything until a checkout is old enough', () => {
  const buffer = createBuffer(60);
  buffer.keep(new Uint8Array(3), 0);
  buffer.keep(new Uint8Array(5), 1000);
  buffer.checkout(2000);
  buffer.keep(new Uint8Array(7), 3000);
  assert.equal(buffer.take().length, 3);
});

test('the version built into the modules is the package’s', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.equal(VERSION, pkg.version);
});
