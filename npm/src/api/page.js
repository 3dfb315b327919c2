// What the page is and who looks at it: its metadata at start (URL, referrer, title, browser,
// OS, device, screen, language, time zone), and the viewport's size as it changes. Page URLs go
// out with credentials redacted and the title masked with the page's text.

import { META, TIMEZONE, VIEWPORT } from '../kinds.js';

// Who is on what: client hints where the browser has them, the user agent string otherwise.
function describeBrowser() {
  const ua = String(navigator.userAgent || '');
  const hints = navigator.userAgentData;
  let browser = ['', ''];
  let os = ['', ''];
  if (hints && Array.isArray(hints.brands)) {
    const brands = hints.brands.filter((b) => !/not.?a.?brand/i.test(b.brand));
    const named = brands.find((b) => b.brand !== 'Chromium') || brands[0];
    if (named) browser = [String(named.brand).replace(/^Google /, ''), String(named.version)];
    if (hints.platform) os = [String(hints.platform), ''];
  }
  if (!browser[0]) {
    const match =
      ua.match(/(Edg|OPR|Firefox|HeadlessChrome|Chrome|CriOS|FxiOS)\/([\d.]+)/) || ua.match(/Version\/([\d.]+).*(Safari)/);
    if (match) browser = match[2] === 'Safari' ? ['Safari', match[1]] : [match[1].replace('Edg', 'Edge').replace('OPR', 'Opera'), match[2]];
  }
  if (!os[0]) {
    const match = ua.match(/(Windows NT|Android|iPhone OS|CPU OS|Mac OS X|CrOS|Linux)[ _]?([\d._]*)/);
    if (match) {
      const names = { 'Windows NT': 'Windows', 'iPhone OS': 'iOS', 'CPU OS': 'iPadOS', 'Mac OS X': 'macOS', CrOS: 'ChromeOS' };
      os = [names[match[1]] || match[1], match[2].replace(/_/g, '.')];
    }
  }
  // 1 desktop, 2 mobile, 3 tablet, 4 bot (automation included).
  let device = 1;
  if (/bot|crawl|spider|slurp|HeadlessChrome|Lighthouse/i.test(ua) || navigator.webdriver) device = 4;
  else if (/iPad|Tablet/i.test(ua) || (/Android/.test(ua) && !/Mobile/.test(ua))) device = 3;
  else if ((hints && hints.mobile) || /Mobi|iPhone/.test(ua)) device = 2;
  return { ua, browser, os, device };
}

// The IANA time zone costs the first Intl call of the page (its locale data load, 10 ms and
// more): it is remembered per browser for the current UTC offset, and otherwise looked up
// when the page is idle and filled into the page's metadata before its first batch leaves.
// Browsers with Temporal name it without that load, in well under a millisecond.
const TIMEZONE_KEY = 'sightline.timezone';

// The time zone when it can be had at once (from Temporal, or remembered), else null.
function timezoneAtOnce(offset) {
  try {
    const [at, zone] = String(localStorage.getItem(TIMEZONE_KEY) || '').split('|');
    if (at === String(offset) && zone) return zone;
    // A polyfilled Temporal would ask Intl at once: only the browser's own is used.
    const now = typeof Temporal !== 'undefined' && Temporal.Now;
    return now && /\[native code\]/.test(String(now.timeZoneId)) ? now.timeZoneId() || null : null;
  } catch (_) {
    return null;
  }
}

// `sdk` is what start-up learns (see api.js); `put` hands an event to the recorder.
export function createPageMetadata(sdk, isRecording, put) {
  let timezonePending = null;

  // Anything sent before the idle lookup ran (a flush, the page going away) settles it first.
  function settleTimezone() {
    if (timezonePending !== null) timezonePending();
  }

  function lookUpTimezone(offset) {
    const later = typeof requestIdleCallback === 'function' ? (fn) => requestIdleCallback(fn, { timeout: 1000 }) : (fn) => setTimeout(fn, 50);
    timezonePending = () => {
      timezonePending = null;
      let zone = '';
      try {
        zone = Intl.DateTimeFormat().resolvedOptions().timeZone || '';
        localStorage.setItem(TIMEZONE_KEY, `${offset}|${zone}`);
      } catch (_) {
        // Without Intl or storage, the UTC offset still places the user.
      }
      if (zone) put(TIMEZONE, [], [zone]);
    };
    later(settleTimezone);
  }

  // Page URLs go out with credentials redacted (reset links, OAuth fragments), and the title
  // is masked with the page's text.
  function pageUrl(href) {
    const { network } = sdk;
    return network !== null ? network.cleanPageUrl(href) : String(href);
  }

  function pageTitle() {
    const { settings } = sdk;
    const title = String(document.title || '');
    return settings !== null && settings.maskAllText === true ? title.replace(/\S/g, '*') : title;
  }

  function recordMeta() {
    const { ua, browser, os, device } = describeBrowser();
    const offset = -new Date().getTimezoneOffset();
    const timezone = timezoneAtOnce(offset);
    if (timezone === null) lookUpTimezone(offset);
    put(
      META,
      [device, screen.width, screen.height, Math.round(innerWidth), Math.round(innerHeight), Number(devicePixelRatio) || 1, offset],
      [
        pageUrl(location.href),
        document.referrer ? pageUrl(document.referrer) : '',
        pageTitle(),
        ua,
        browser[0],
        browser[1],
        os[0],
        os[1],
        String(navigator.language || ''),
        timezone || '',
      ],
    );
  }

  // The viewport's size (a resize is recorded once it settles).
  let resizeTimer = null;
  function recordViewport() {
    resizeTimer = null;
    if (!isRecording()) return;
    put(VIEWPORT, [Math.round(innerWidth), Math.round(innerHeight)]);
  }

  function onResize() {
    if (resizeTimer !== null) clearTimeout(resizeTimer);
    resizeTimer = setTimeout(recordViewport, 250);
  }

  return { pageUrl, pageTitle, recordMeta, settleTimezone, recordViewport, onResize };
}
