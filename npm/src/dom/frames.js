// Same-origin frames and shadow roots, which the walk enters as part of the page: a frame's
// document is recorded under the frame (cross-origin frames as empty ones) and gets the page's
// listeners; a frame that navigates, or an element that gets a shadow root, adds the new
// subtree as a change.

// `addSubtree` adds a subtree the observer can't see arrive (see mutations.js); `listenTo`
// gives a document the page's listeners (see interactions.js).
export function createFrames(ctx, { listenTo }, addSubtree) {
  const { sink, ids } = ctx;
  const framesWatched = new WeakSet();
  const frameDocuments = new WeakMap();

  // The walk met `iframe`: its loads are watched from now on, and its document, when it is
  // same-origin and loaded, is returned for the walk to enter.
  function enterFrame(iframe) {
    watchFrame(iframe);
    let doc = null;
    try {
      doc = iframe.contentDocument;
    } catch (_) {
      // Cross-origin: recorded as an empty frame.
    }
    if (!doc || !doc.documentElement) return null;
    frameDocuments.set(iframe, doc);
    return doc;
  }

  function watchFrame(iframe) {
    if (framesWatched.has(iframe)) return;
    framesWatched.add(iframe);
    iframe.addEventListener('load', () =>
      sink.guard(() => {
        if (!ctx.running || !ids.has(iframe) || !iframe.isConnected) return;
        let doc = null;
        try {
          doc = iframe.contentDocument;
        } catch (_) {
          // Cross-origin, as below.
        }
        const old = frameDocuments.get(iframe);
        const oldId = old && ids.has(old) ? [ids.get(old)] : [];
        if (!doc || !doc.documentElement) {
          // The frame went to a page the recorder can't read (another origin): the document it
          // had (often the blank one it was made with) goes, and the replay loads its source.
          frameDocuments.delete(iframe);
          if (oldId.length > 0) addSubtree(null, iframe, oldId);
          return;
        }
        if (ids.has(doc)) return;
        // The frame navigated: its new document replaces the old one.
        frameDocuments.set(iframe, doc);
        addSubtree(doc, iframe, oldId);
      }),
    );
  }

  // The documents of same-origin frames get the page's listeners when they are first walked.
  // Those stay when the recorder stops (a frame's document may be long gone), doing nothing.
  const framesListened = new WeakSet();
  function listenToFrame(doc) {
    if (doc === document || framesListened.has(doc)) return;
    framesListened.add(doc);
    listenTo(doc);
  }

  // What the `attachShadow` wrapper reports (see page-hooks.js).
  const hooks = {
    shadowAttached(host, root) {
      sink.guard(() => {
        // Open roots only: a closed one is private to its component.
        if (ctx.running && ids.has(host) && host.shadowRoot === root) addSubtree(root, host, []);
      });
    },
  };

  return { enterFrame, listenToFrame, hooks };
}
