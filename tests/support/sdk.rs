//! What the browser tests of the SDK share: a collector with one project, the built npm
//! package, and the batches a session stored.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sightline_protocol::{decode_batch, Batch, Limits};

use crate::static_files::StaticFiles;
use crate::webdriver::Browser;
use crate::{collector_bin, project_config, sealed_project_config, split_frames, Collector, Http};

/// The ingest key of the project [`start_collector`] declares.
pub const KEY: &str = "slk_sdk_in_browser";
/// Its read token.
pub const TOKEN: &str = "slr_sdk_in_browser";

/// The real collector with the test project, taking sealed batches only as a deployment does by
/// default, and the directory holding its data (dropped after the collector, as the tuple is).
pub fn start_collector() -> (Collector, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = sealed_project_config("web", KEY, TOKEN);
    let collector = Collector::start(&collector_bin(), &dir.path().join("data"), &config);
    (collector, dir)
}

/// Like [`start_collector`], for tests that also post batches of their own making, unsealed.
pub fn start_collector_taking_unsealed() -> (Collector, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(&collector_bin(), &dir.path().join("data"), &project_config("web", KEY, TOKEN));
    (collector, dir)
}

/// The built npm package.
pub fn dist() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_owned();
    assert!(root.join("npm/dist/index.js").exists(), "npm/dist is missing: run `cargo xtask build-sdk`");
    root.join("npm/dist")
}

/// The bundle of a test app built with a real framework from npm (`npm/test/apps`, built into
/// `target/test-apps` by `cargo xtask test`).
pub fn test_app(name: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_owned();
    let path = root.join("target/test-apps").join(format!("{name}.js"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; `cargo xtask test` builds the test apps", path.display()))
}

/// A page that installs the SDK and then runs the app's bundle at `/app.js`, as an app's
/// `index.html` does; `before` is the page's own markup ahead of both (its scripts run first).
/// The module sets `window.sdkStatus` and, once recording, `window.sessionUrl`.
pub fn app_page(collector: &str, before: &str) -> String {
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Todos</title></head><body>
{before}
<script type="module">
import {{ init, getSessionUrl, status }} from '/index.js';
await init({{ endpoint: '{collector}', projectKey: '{KEY}' }});
window.sdkStatus = status;
window.sessionUrl = getSessionUrl();
</script>
<script src="/app.js"></script>
</body></html>"#
    )
}

/// `page` served at `/` next to the npm package, open in headless Chromium (the server lives
/// as long as the first of the pair).
pub fn open_page(page: String) -> (StaticFiles, Browser) {
    let site = StaticFiles::start(&dist(), vec![("/".into(), page)]);
    let browser = Browser::start();
    browser.navigate(&format!("{}/", site.base));
    (site, browser)
}

/// The session the open page records into, once its script has set `window.sessionUrl`.
pub fn recorded_session(browser: &Browser) -> String {
    session_of(&browser.wait_for("window.sessionUrl", Duration::from_secs(20)))
}

/// The session id at the end of a session URL.
pub fn session_of(url: &serde_json::Value) -> String {
    url.as_str().expect("a session URL").rsplit('/').next().unwrap().to_owned()
}

/// The session's stored event stream as the read API returns it (framed batches), once it
/// holds at least `min_batches`.
pub fn stored_stream(http: &Http, collector: &Collector, session: &str, min_batches: usize) -> Vec<Vec<u8>> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let stream = http.get(&format!("{}/api/sessions/{session}/events", collector.base), TOKEN);
        if stream.status == 200 {
            let frames = split_frames(&stream.body);
            if frames.len() >= min_batches {
                return frames;
            }
        }
        assert!(Instant::now() < deadline, "session {session} did not arrive with {min_batches} batches");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The session's batches, decoded, once at least `min_batches` have arrived.
pub fn stored(http: &Http, collector: &Collector, session: &str, min_batches: usize) -> Vec<Batch> {
    stored_stream(http, collector, session, min_batches)
        .iter()
        .map(|b| decode_batch(b, &Limits::default()).expect("a valid batch"))
        .collect()
}

/// A page whose storm of 6,000 nodes replaced every 20 ms, 60 times, then 110,000 at once,
/// pauses diffing; 100 ms later, inside the pause (or the walk that ends one), the page settles on the markup `settled`
/// (`window.settledAt` its time) and, 50 ms later, resolves `window.storm` and runs `end` (with
/// `window.erredAt` its time). `window.flushNow` and `window.stopNow` are the SDK's.
pub fn storm_page(collector: &str, settled: &str, end: &str) -> String {
    format!(
        r#"<!doctype html><title>Storm then end</title><body><h1>Report</h1><div id="storm"></div><script type="module">
import {{ init, flush, stop, getSessionUrl }} from '/index.js';
await init({{ endpoint: '{collector}', projectKey: '{KEY}' }});
window.flushNow = flush;
window.stopNow = stop;
window.sessionUrl = getSessionUrl();
window.storm = new Promise((resolve) => {{
  const box = document.getElementById('storm');
  let rounds = 0;
  const timer = setInterval(() => {{
    const cells = [];
    for (let i = 0; i < 3000; i++) cells.push(`<p>cell ${{rounds}}-${{i}}</p>`);
    box.innerHTML = cells.join('');
    if (++rounds === 60) {{
      clearInterval(timer);
      // A burst over the storm budget, diffed on its own (nodes added and removed in one
      // change set would cancel out): when the page settles, diffing is paused, or walks the
      // page again after an earlier pause.
      const burst = [];
      for (let i = 0; i < 110000; i++) burst.push('<i></i>');
      box.innerHTML = burst.join('');
      setTimeout(() => {{
        box.innerHTML = '{settled}';
        window.settledAt = Date.now();
        setTimeout(() => {{ window.erredAt = Date.now(); resolve(true); {end}; }}, 50);
      }}, 100);
    }}
  }}, 20);
}});
</script></body>"#
    )
}
