// What the page drew on canvases, which no DOM change shows: off unless the app sets an
// interval (canvasIntervalMs), then each canvas the walks met is recorded as an image on it.

export function createCanvases(ctx) {
  const { sink, ids, canvasMs } = ctx;
  // Canvases met by the walks (none under masking or blocking), and the image last recorded
  // for each: a canvas is recorded again only when its image changed.
  const canvases = new Set();
  const canvasImages = new WeakMap();
  let canvasTimer = null;

  function recordCanvases() {
    for (const canvas of canvases) {
      if (!canvas.isConnected || !ids.has(canvas)) {
        canvases.delete(canvas);
        continue;
      }
      if (canvas.width === 0 || canvas.height === 0) continue;
      let image;
      try {
        image = canvas.toDataURL('image/webp', 0.6);
      } catch (_) {
        // A canvas tainted by cross-origin images can't be read.
        canvases.delete(canvas);
        continue;
      }
      if (canvasImages.get(canvas) === image) continue;
      canvasImages.set(canvas, image);
      sink.canvas(ids.get(canvas), image);
    }
  }

  function startCanvases() {
    if (canvasMs > 0) canvasTimer = setInterval(() => sink.guard(() => ctx.running && recordCanvases()), canvasMs);
  }

  function stopCanvases() {
    if (canvasTimer !== null) clearInterval(canvasTimer);
  }

  return { canvases, startCanvases, stopCanvases };
}
