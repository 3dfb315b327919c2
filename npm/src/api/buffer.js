// Buffer mode: the page is recorded but nothing is sent. The recorder's batches are kept here,
// in memory: the page's first (its metadata and first snapshot) and the last `seconds` of the
// rest. A keyframe every half of that (a checkout) makes the kept tail replayable from its
// start. When something worth sending happens (an uncaught error, the user's report), the
// kept batches go to the collector and recording goes on as in full mode.

// How much may be kept: at least 10 s (a keyframe every 5 s is already many walks of the page),
// at most 10 minutes.
const MIN_SECONDS = 10;
const MAX_SECONDS = 600;

export function createBuffer(seconds) {
  const windowMs = Math.min(Math.max(Number(seconds) || 60, MIN_SECONDS), MAX_SECONDS) * 1000;
  let first = null;
  // Batches after the first: `{ bytes, checkout }`, `checkout` the time of the keyframe the
  // batch starts with, if it does.
  let kept = [];
  let checkoutAt = null;
  let bytes = 0;

  return {
    // Half the window: how often a keyframe is taken.
    checkoutEveryMs: windowMs / 2,

    // The next batch kept starts with a keyframe taken at `at`.
    checkout(at) {
      checkoutAt = at;
    },

    // Keeps a batch the recorder handed out, and lets go of what is older than the window
    // needs: everything before the newest checkout at least `seconds` old.
    keep(batch, now) {
      if (first === null) {
        first = batch;
        return;
      }
      kept.push({ bytes: batch, checkout: checkoutAt });
      bytes += batch.length;
      checkoutAt = null;
      let from = 0;
      for (let i = kept.length - 1; i > 0; i--) {
        if (kept[i].checkout !== null && kept[i].checkout <= now - windowMs) {
          from = i;
          break;
        }
      }
      for (const dropped of kept.slice(0, from)) bytes -= dropped.bytes.length;
      kept = kept.slice(from);
    },

    // Everything kept, in order, and the buffer empty.
    take() {
      const all = (first === null ? [] : [first]).concat(kept.map((k) => k.bytes));
      first = null;
      kept = [];
      bytes = 0;
      return all;
    },

    // Bytes kept (the first batch aside).
    size() {
      return bytes;
    },
  };
}
