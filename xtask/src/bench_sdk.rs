//! `cargo xtask bench-sdk`: the same scripted journeys in headless Chromium with no recorder,
//! with Sightline's SDK (recording, and in buffer mode: recording without sending), and with
//! rrweb's recorder (`@rrweb/record`, from `npm/node_modules`), side by side: main-thread time (the DevTools protocol's `TaskDuration`), long tasks, bytes
//! shipped, and what a page loads.
//!
//! Sightline's bytes are what the collector stored for the session (LZ4-compressed batches, as
//! sent); rrweb's are its events as JSON, gzipped, as a user of rrweb would send them.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sightline_e2e::static_files::StaticFiles;
use sightline_e2e::webdriver::Browser;
use sightline_e2e::{Collector, Http};

use crate::build_sdk::{build_sdk, page_load};
use crate::tools::{gzip_size, release_collector, workspace_root};

const KEY: &str = "slk_bench_sdk";
const TOKEN: &str = "slr_bench_sdk";
const PAGE_SCRIPT: &str = include_str!("bench_sdk.js");
const RRWEB: &str = "npm/node_modules/@rrweb/record/dist/record.umd.min.cjs";
const RRWEB_NETWORK: &str =
    "npm/node_modules/@rrweb/rrweb-plugin-network-record/dist/rrweb-plugin-network-record.umd.min.cjs";
/// What the API journey's calls get back.
const API_RESPONSE: &str = r#"{"id":42,"customer":"Globex","amount":1024,"currency":"EUR","status":"open"}"#;
/// `buffer` is Sightline in buffer mode: recording, keeping the last minute, sending nothing.
const MODES: [&str; 4] = ["none", "sightline", "buffer", "rrweb"];
/// Where each recorder's code runs from, for attributing profile samples.
const RECORDER_FILES: [&str; 5] =
    ["/index.js", "/dom.js", "sightline_bg.wasm", "/rrweb-record.js", "/rrweb-network.js"];
const JOURNEYS: [(&str, &str); 5] = [
    ("interactions", "400 steps of typing, clicks, list changes, row highlights, scrolls and mouse moves"),
    ("form", "a form of 1,000 fields re-rendered 20 times: every value, check and choice set from script"),
    ("table", "a 10,000-row table rendered, then re-rendered three times"),
    ("storm", "100,000 nodes a second replaced for 3 s (2,500 paragraphs every 50 ms)"),
    ("api", "1,000 API calls one after the other, half fetch and half XHR (rrweb with its network plugin)"),
];

/// One journey under one recorder.
#[derive(Debug, Clone, Copy, Default)]
struct Measure {
    main_thread_ms: f64,
    /// CPU time sampled in the recorder's own files (script and wasm), self time.
    recorder_code_ms: f64,
    /// Wall-clock time of the journey itself, when it measures one.
    journey_ms: f64,
    /// The longest script run of the recorder's own (long animation frame attribution).
    longest_script_ms: f64,
    longest_task_ms: f64,
    long_tasks: f64,
    bytes: f64,
}

/// Command-line options.
pub struct Options {
    /// Runs of each journey under each recorder.
    pub runs: usize,
    /// Only this journey.
    pub journey: Option<String>,
    /// Only the sizes, no journeys.
    pub sizes_only: bool,
}

/// Runs the journeys under each recorder and prints the medians.
pub fn run(options: Options) -> Result<(), String> {
    let runs = options.runs;
    if let Some(name) = &options.journey {
        if !JOURNEYS.iter().any(|(journey, _)| journey == name) {
            return Err(format!("no journey {name}"));
        }
    }
    build_sdk()?;
    if options.sizes_only {
        return print_sizes(&workspace_root());
    }
    let (collector, _data) = release_collector(KEY, TOKEN)?;
    let root = workspace_root();
    let read = |path: &str| {
        std::fs::read_to_string(root.join(path)).map_err(|_| format!("{path} is missing: run `npm install` in npm/"))
    };
    let (rrweb, rrweb_network) = (read(RRWEB)?, read(RRWEB_NETWORK)?);
    let rrweb_version = rrweb_version(&root).unwrap_or_else(|| "?".into());

    let page = format!(
        "<!doctype html><html><head><title>Invoices</title></head><body><script>{PAGE_SCRIPT}</script></body></html>"
    );
    let site = StaticFiles::start(
        &root.join("npm/dist"),
        vec![
            ("/bench".into(), page),
            ("/rrweb-record.js".into(), rrweb),
            ("/rrweb-network.js".into(), rrweb_network),
            ("/bench-api.json".into(), API_RESPONSE.into()),
        ],
    );
    let browser = Browser::start();
    let http = Http::default();
    let version = browser.execute("return navigator.userAgent.match(/Chrome\\/([\\d.]+)/)?.[1] ?? '?';");
    println!(
        "SDK benchmark: headless Chromium {}, median of {runs} runs per journey and recorder",
        version.as_str().unwrap_or("?")
    );

    for (journey, description) in JOURNEYS {
        if options.journey.as_ref().is_some_and(|name| name != journey) {
            continue;
        }
        let mut measures: Vec<Vec<Measure>> = vec![Vec::new(); MODES.len()];
        let mut elements = 0;
        // A warm-up run, not counted: the first load of a journey pays for caches and compilation.
        measure_once(&browser, &http, &collector, &site.base, MODES[0], journey)?;
        for run in 0..runs {
            // The recorders take turns, each run starting with the next one, so drift on this
            // shared machine spreads over all three.
            for turn in 0..MODES.len() {
                let index = (run + turn) % MODES.len();
                let mode = MODES[index];
                let (measure, nodes) = measure_once(&browser, &http, &collector, &site.base, mode, journey)?;
                elements = nodes;
                measures[index].push(measure);
            }
        }
        let medians: Vec<Measure> = measures.iter().map(|m| median(m)).collect();
        print_journey(journey, description, elements, &medians, &rrweb_version);
    }

    println!("\ntargets: main-thread time added <= 0.5x rrweb's; bytes <= rrweb's; no recorder task over 50 ms");
    print_sizes(&root)
}

/// Builds Sentry's browser SDK with session replay and tracing, as a page would bundle it
/// (esbuild, minified); returns the bundle's path.
fn sentry_bundle(root: &std::path::Path) -> Result<std::path::PathBuf, String> {
    let entry = "import * as Sentry from '@sentry/browser';\n\
        Sentry.init({ dsn: 'https://public@o0.ingest.sentry.io/0', tracesSampleRate: 1, replaysSessionSampleRate: 1,\n\
          integrations: [Sentry.replayIntegration(), Sentry.browserTracingIntegration()] });\n";
    let out = crate::tools::target_dir().join("bench-sdk-sentry.js");
    let mut child = std::process::Command::new(root.join("npm/node_modules/.bin/esbuild"))
        .args(["--bundle", "--minify", "--format=esm", "--log-level=warning"])
        .arg(format!("--outfile={}", out.display()))
        .current_dir(root.join("npm"))
        .stdin(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("esbuild: {e} (npm ci in npm/ first)"))?;
    use std::io::Write as _;
    child.stdin.take().ok_or("esbuild's stdin")?.write_all(entry.as_bytes()).map_err(|e| e.to_string())?;
    let status = child.wait().map_err(|e| e.to_string())?;
    status.success().then_some(out).ok_or_else(|| format!("bundling Sentry failed ({status})"))
}

/// What a page loads, gzipped, against the recorders that do the same job: PostHog's recorder
/// (rrweb with its console and network plugins, which PostHog's core loads when it records)
/// and Sentry's browser SDK with replay and tracing; rrweb's recorder alone for reference.
fn print_sizes(root: &std::path::Path) -> Result<(), String> {
    let dist = root.join("npm/dist");
    let loads = page_load(&dist)?;
    let size_of = |file: &str| loads.iter().find(|(name, _, _)| *name == file).map_or(0, |(_, _, gz)| *gz);
    let script = size_of("index.js");
    let ours: usize = loads.iter().map(|(_, _, gz)| gz).sum();
    let sentry = sentry_bundle(root).ok().and_then(|path| gzip_size(&path));
    let posthog_recorder = gzip_size(&root.join("npm/node_modules/posthog-js/dist/recorder.js"));
    let posthog_core = gzip_size(&root.join("npm/node_modules/posthog-js/dist/array.js"));
    let rrweb = gzip_size(&root.join(RRWEB));
    let version = |package: &str| {
        let json = std::fs::read_to_string(root.join(format!("npm/node_modules/{package}/package.json"))).ok()?;
        serde_json::from_str::<Value>(&json).ok()?["version"].as_str().map(str::to_owned)
    };
    let kb = |bytes: Option<usize>| {
        bytes.map_or_else(|| "missing (npm ci in npm/)".to_owned(), |b| format!("{:.1} KB", b as f64 / 1000.0))
    };
    println!("\nwhat a page loads, gzipped (gzip -9):");
    println!("  sightline: the script a page includes      {:>10}", kb(Some(script)));
    println!("  sightline: script, dom.js and wasm (all)   {:>10}", kb(Some(ours)));
    println!(
        "  PostHog {}: recorder.js (rrweb, console and network plugins) {:>10}",
        version("posthog-js").unwrap_or_default(),
        kb(posthog_recorder)
    );
    println!("  PostHog: its core (array.js), loaded first  {:>10}", kb(posthog_core));
    println!(
        "  Sentry {}: browser SDK with replay and tracing, bundled {:>10}",
        version("@sentry/browser").unwrap_or_default(),
        kb(sentry)
    );
    println!("  rrweb's recorder alone (reference)         {:>10}", kb(rrweb));
    let peers: Vec<usize> = [posthog_recorder, sentry].into_iter().flatten().collect();
    if let Some(smallest) = peers.iter().min() {
        println!(
            "  ratio against the smallest peer: {:.2} (target <= 0.75); the script alone {:.1} KB (target <= 20 KB)",
            ours as f64 / *smallest as f64,
            script as f64 / 1000.0
        );
    }
    Ok(())
}

fn measure_once(
    browser: &Browser,
    http: &Http,
    collector: &Collector,
    site: &str,
    mode: &str,
    journey: &str,
) -> Result<(Measure, u64), String> {
    // Every run records a session of its own.
    browser.try_execute("sessionStorage.clear(); localStorage.clear(); return true;");
    browser.navigate(&format!("{site}/bench"));
    // The runs share one renderer process: what the run before left behind (rrweb's mirror of a
    // 50,000-element page and its events weigh 100 MB and more) is collected now, not in the
    // middle of this run's journey and charged to whichever recorder runs then.
    browser.cdp("HeapProfiler.collectGarbage", json!({}));
    browser.cdp("Performance.enable", json!({}));
    let profiling = std::env::var("SIGHTLINE_BENCH_PROFILE").is_ok_and(|m| m == mode);
    // Every run is sampled, so the recorder's own code can be told from the page's: its share
    // is far steadier than the difference of two busy-time totals on a shared machine.
    browser.cdp("Profiler.enable", json!({}));
    browser.cdp("Profiler.setSamplingInterval", json!({ "interval": 100 }));
    browser.cdp("Profiler.start", json!({}));
    let before = task_ms(browser)?;
    let result = browser.execute(&format!("return runJourney('{mode}', '{journey}', '{}', '{KEY}');", collector.base));
    let after = task_ms(browser)?;
    let profile = browser.cdp("Profiler.stop", json!({}));
    let recorder_code_ms = self_time_ms(&profile["profile"], |url| RECORDER_FILES.iter().any(|f| url.ends_with(f)));
    if profiling {
        print_profile(&profile["profile"]);
        println!("    longest animation frames: {:#}", result["frames"]);
    }
    let finish = browser.execute("return finishJourney();");
    let bytes = match finish["session"].as_str() {
        Some(url) => {
            let session = url.rsplit('/').next().unwrap_or_default();
            let bytes = stored_bytes(http, collector, session)?;
            if profiling {
                print_bytes_by_kind(http, collector, session);
            }
            bytes
        }
        None => finish["bytes"].as_f64().unwrap_or(0.0),
    };
    let measure = Measure {
        main_thread_ms: after - before,
        recorder_code_ms,
        journey_ms: result["journeyMs"].as_f64().unwrap_or(0.0),
        longest_script_ms: result["recorderScript"].as_f64().unwrap_or(0.0),
        longest_task_ms: result["longest"].as_f64().unwrap_or(0.0),
        long_tasks: result["longTasks"].as_f64().unwrap_or(0.0),
        bytes,
    };
    Ok((measure, result["nodes"].as_u64().unwrap_or(0)))
}

/// The main thread's busy time so far, in ms.
fn task_ms(browser: &Browser) -> Result<f64, String> {
    let metrics = browser.cdp("Performance.getMetrics", json!({}));
    metrics["metrics"]
        .as_array()
        .and_then(|all| all.iter().find(|m| m["name"] == "TaskDuration"))
        .and_then(|m| m["value"].as_f64())
        .map(|seconds| seconds * 1000.0)
        .ok_or_else(|| format!("no TaskDuration in {metrics}"))
}

/// The bytes the collector stored for a session, once they stop growing.
fn stored_bytes(http: &Http, collector: &Collector, session: &str) -> Result<f64, String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut last, mut steady) = (0.0, 0);
    while Instant::now() < deadline {
        let summary = http.get(&format!("{}/api/sessions/{session}", collector.base), TOKEN);
        let bytes = if summary.status == 200 { summary.json()["bytes"].as_f64().unwrap_or(0.0) } else { 0.0 };
        steady = if bytes > 0.0 && bytes == last { steady + 1 } else { 0 };
        if steady >= 3 {
            return Ok(bytes);
        }
        last = bytes;
        std::thread::sleep(Duration::from_millis(300));
    }
    Err(format!("session {session} did not settle in the collector"))
}

fn median(measures: &[Measure]) -> Measure {
    let pick = |f: fn(&Measure) -> f64| {
        let mut values: Vec<f64> = measures.iter().map(f).collect();
        values.sort_by(f64::total_cmp);
        values.get(values.len() / 2).copied().unwrap_or(0.0)
    };
    Measure {
        main_thread_ms: pick(|m| m.main_thread_ms),
        recorder_code_ms: pick(|m| m.recorder_code_ms),
        journey_ms: pick(|m| m.journey_ms),
        longest_script_ms: pick(|m| m.longest_script_ms),
        longest_task_ms: pick(|m| m.longest_task_ms),
        long_tasks: pick(|m| m.long_tasks),
        bytes: pick(|m| m.bytes),
    }
}

fn print_journey(journey: &str, description: &str, elements: u64, medians: &[Measure], rrweb_version: &str) {
    println!("\njourney \"{journey}\": {description} ({elements} elements at the end)");
    println!(
        "  {:<14} {:>12} {:>10} {:>14} {:>13} {:>12} {:>16} {:>14}",
        "recorder",
        "main thread",
        "added",
        "recorder code",
        "longest task",
        "tasks >50ms",
        "recorder script",
        "bytes shipped"
    );
    let base = medians[0].main_thread_ms;
    for (mode, m) in MODES.iter().zip(medians) {
        let name = if *mode == "rrweb" { format!("rrweb {rrweb_version}") } else { (*mode).to_owned() };
        let added = if *mode == "none" { "-".to_owned() } else { format!("{:.0} ms", m.main_thread_ms - base) };
        let longest = if m.longest_task_ms > 0.0 { format!("{:.0} ms", m.longest_task_ms) } else { "<50 ms".into() };
        let bytes = if *mode == "none" { "-".to_owned() } else { format!("{:.0} B", m.bytes) };
        // rrweb observes through constructors from a frame of its own, which hides its scripts
        // from long-animation-frame attribution: only ours can be named.
        let ours = matches!(*mode, "sightline" | "buffer");
        let script = if ours { format!("{:.0} ms", m.longest_script_ms) } else { "-".to_owned() };
        let code = if *mode == "none" { "-".to_owned() } else { format!("{:.1} ms", m.recorder_code_ms) };
        println!(
            "  {name:<14} {:>9.0} ms {added:>10} {code:>14} {longest:>13} {:>12.0} {script:>16} {bytes:>14}",
            m.main_thread_ms, m.long_tasks
        );
    }
    let (ours, buffered, theirs) = (&medians[1], &medians[2], &medians[3]);
    if journey == "api" {
        let per_call = |m: &Measure| (m.main_thread_ms - base) / 1000.0;
        let wall = |m: &Measure| m.journey_ms / 1000.0;
        println!(
            "  per call: recorder code sightline {:.3} ms, rrweb {:.3} ms; main thread added sightline {:.3} ms, rrweb {:.3} ms; wall clock none {:.3} ms, sightline {:.3} ms, rrweb {:.3} ms; bytes sightline {:.0}, rrweb {:.0} (page snapshot included)",
            ours.recorder_code_ms / 1000.0, theirs.recorder_code_ms / 1000.0,
            per_call(ours), per_call(theirs), wall(&medians[0]), wall(ours), wall(theirs), ours.bytes / 1000.0, theirs.bytes / 1000.0
        );
    }
    println!(
        "  buffer mode / full: recorder code {:.2}, main-thread time added {:.2}",
        buffered.recorder_code_ms / ours.recorder_code_ms.max(0.1),
        (buffered.main_thread_ms - base) / (ours.main_thread_ms - base).max(1.0),
    );
    println!(
        "  sightline / rrweb: recorder code {:.2}, main-thread time added {:.2}, bytes {:.2}",
        ours.recorder_code_ms / theirs.recorder_code_ms.max(0.1),
        (ours.main_thread_ms - base) / (theirs.main_thread_ms - base).max(1.0),
        ours.bytes / theirs.bytes.max(1.0)
    );
}

fn rrweb_version(root: &std::path::Path) -> Option<String> {
    let manifest = std::fs::read_to_string(root.join("npm/node_modules/@rrweb/record/package.json")).ok()?;
    let manifest: Value = serde_json::from_str(&manifest).ok()?;
    manifest["version"].as_str().map(str::to_owned)
}

/// Self time, in ms, of the profile's samples in functions whose script URL passes `wanted`.
fn self_time_ms(profile: &Value, wanted: impl Fn(&str) -> bool) -> f64 {
    let nodes: std::collections::HashSet<u64> = profile["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|node| wanted(node["callFrame"]["url"].as_str().unwrap_or("")))
        .filter_map(|node| node["id"].as_u64())
        .collect();
    let samples = profile["samples"].as_array().cloned().unwrap_or_default();
    let deltas = profile["timeDeltas"].as_array().cloned().unwrap_or_default();
    // Each sample lasts until the next one.
    let micros: f64 = samples
        .iter()
        .zip(deltas.iter().skip(1))
        .filter(|(sample, _)| sample.as_u64().is_some_and(|id| nodes.contains(&id)))
        .map(|(_, delta)| delta.as_f64().unwrap_or(0.0))
        .sum();
    micros / 1000.0
}

/// Self time by function, from a DevTools CPU profile: where a recorder's time goes.
fn print_profile(profile: &Value) {
    let mut names = std::collections::HashMap::new();
    for node in profile["nodes"].as_array().into_iter().flatten() {
        let frame = &node["callFrame"];
        let file = frame["url"].as_str().unwrap_or("").rsplit('/').next().unwrap_or("").to_owned();
        let name = format!("{} {}:{}", frame["functionName"].as_str().unwrap_or(""), file, frame["lineNumber"]);
        names.insert(node["id"].as_u64().unwrap_or(0), name);
    }
    let mut self_us: std::collections::HashMap<&str, f64> = std::collections::HashMap::new();
    let samples = profile["samples"].as_array().cloned().unwrap_or_default();
    let deltas = profile["timeDeltas"].as_array().cloned().unwrap_or_default();
    for (sample, delta) in samples.iter().zip(deltas.iter().skip(1).chain(std::iter::once(&json!(0)))) {
        let name = names.get(&sample.as_u64().unwrap_or(0)).map_or("?", String::as_str);
        *self_us.entry(name).or_default() += delta.as_f64().unwrap_or(0.0);
    }
    let mut top: Vec<_> = self_us.into_iter().collect();
    top.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (name, us) in top.iter().take(30) {
        println!("    {:>8.1} ms  {name}", us / 1000.0);
    }
}

/// What a session's bytes are made of: each kind of event alone, encoded as one batch.
fn print_bytes_by_kind(http: &Http, collector: &Collector, session: &str) {
    use sightline_protocol::{decode_batch, encode_batch, Batch, Event, EventData, Limits, Network};
    let stream = http.get(&format!("{}/api/sessions/{session}/events", collector.base), TOKEN);
    let batches: Vec<Batch> = sightline_e2e::split_frames(&stream.body)
        .iter()
        .filter_map(|frame| decode_batch(frame, &Limits::default()).ok())
        .collect();
    let Some(first) = batches.first() else { return };
    let mut kinds: std::collections::BTreeMap<u8, (usize, Vec<_>)> = std::collections::BTreeMap::new();
    for event in batches.iter().flat_map(|b| &b.events) {
        let entry = kinds.entry(event.data.tag()).or_default();
        entry.0 += 1;
        entry.1.push(event.clone());
    }
    // The page's key, if its requests derived their trace ids from one.
    let key = batches.iter().find_map(|b| b.trace_key);
    let compressed = |events: Vec<Event>, trace_key| {
        encode_batch(&Batch { events, trace_key, ..first.clone() }).map_or(0, |b| b.len())
    };
    for (kind, (count, events)) in kinds {
        let traced =
            events.iter().filter(|e| matches!(&e.data, EventData::Network(call) if call.trace.is_some())).count();
        let stored = compressed(events.clone(), key.filter(|_| traced > 0));
        print!("    kind {kind:>2}: {count:>6} events {stored:>9} B compressed alone");
        // What trace ids weigh: written in full (24 random bytes each), and left out.
        if traced > 0 {
            let untraced = events
                .iter()
                .map(|event| match &event.data {
                    EventData::Network(call) => {
                        let call = Network { trace: None, ..(**call).clone() };
                        Event { data: EventData::Network(Box::new(call)), ..event.clone() }
                    }
                    _ => event.clone(),
                })
                .collect();
            let (full, none) = (compressed(events, None), compressed(untraced, None));
            print!("; {traced} with trace ids: {full} B with the ids in full, {none} B without them");
        }
        println!();
    }
}
