//! `cargo xtask bench-live`: how soon a support engineer watching a session live sees what the
//! user does. The example app in one headless Chromium (the user, signed in), the viewer
//! following that session in another; the user clicks 20 times, a second and a half apart, and
//! each click is timed from the moment it is made to the moment the viewer's Activity panel
//! shows it. Prints the median and the longest, against the target (2 s).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sightline_e2e::webdriver::Browser;

use crate::build_player::build_player;
use crate::build_sdk::build_sdk;
use crate::tools::{cargo, release_collector, target_dir, workspace_root};

const KEY: &str = "slk_bench_live";
const TOKEN: &str = "slr_bench_live";
const CLICKS: usize = 20;
const TARGET_MS: f64 = 2_000.0;

/// The example app, stopped when dropped.
struct Shop(Child);

impl Drop for Shop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait(browser: &Browser, expression: &str, within: Duration) -> Result<(), String> {
    let deadline = Instant::now() + within;
    loop {
        let script = format!("try {{ return !!({expression}); }} catch (_) {{ return false; }}");
        if browser.execute(&script).as_bool() == Some(true) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {expression}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn run() -> Result<(), String> {
    build_sdk()?;
    build_player()?;
    cargo(&["build", "--release", "--locked", "-p", "sightline-example-shop"], &[])?;
    let (collector, _data) = release_collector(KEY, TOKEN)?;
    let mut shop = Command::new(target_dir().join("release/sightline-example-shop"))
        .args(["--listen", "127.0.0.1:0", "--collector", &collector.base, "--ingest-key", KEY])
        .args(["--backend-key", &sightline_e2e::backend_key(KEY), "--sdk-dir"])
        .arg(workspace_root().join("npm/dist"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting the example app: {e}"))?;
    let mut lines = BufReader::new(shop.stdout.take().ok_or("no stdout")?).lines();
    let shop_base = lines
        .find_map(|line| {
            line.ok()?.strip_prefix("Acme Billing (the example app) on ")?.strip_suffix('/').map(str::to_owned)
        })
        .ok_or("the example app did not start")?;
    std::thread::spawn(move || lines.for_each(drop));
    let _shop = Shop(shop);

    let user = Browser::start();
    user.navigate(&format!("{shop_base}/login"));
    wait(&user, "window.sightlineReady && document.getElementById('login-email')", Duration::from_secs(20))?;
    let session = user.execute("return document.getElementById('session').textContent.split(' ').pop();");
    let session = session.as_str().and_then(|url| url.rsplit('/').next()).ok_or("no session")?.to_owned();
    user.type_into("#login-email", "jane@acme.com");
    user.type_into("#login-password", "pw-for-the-demo");
    user.click("#login-submit");
    wait(&user, "document.querySelector('#download-pdf')", Duration::from_secs(10))?;

    let viewer = Browser::start();
    viewer.navigate(&format!("{}/", collector.base));
    viewer.execute(&format!("localStorage.setItem('sightline.readToken', '{TOKEN}'); return true;"));
    // The session is listed once its first batch is stored.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        viewer.navigate(&format!("{}/sessions/{session}", collector.base));
        if wait(&viewer, "!document.getElementById('go-live').hidden", Duration::from_secs(5)).is_ok() {
            break;
        }
        if Instant::now() > deadline {
            return Err("the viewer never followed the session".into());
        }
    }
    // The page learns it is watched from the answer to its next batch.
    std::thread::sleep(Duration::from_secs(6));

    let clicks = "document.querySelectorAll('#panel-activity > li').length";
    let mut latencies = Vec::with_capacity(CLICKS);
    for _ in 0..CLICKS {
        let before = viewer.execute(&format!("return {clicks};")).as_u64().unwrap_or(0);
        let clicked = Instant::now();
        user.click("#download-pdf");
        wait(&viewer, &format!("{clicks} > {before}"), Duration::from_secs(15))?;
        latencies.push(clicked.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(1_500));
    }
    latencies.sort_by(f64::total_cmp);
    let median = latencies[latencies.len() / 2];
    let max = latencies[latencies.len() - 1];
    println!("live view: a click on the page, shown in the watching viewer ({CLICKS} clicks, 1.5 s apart)");
    println!(
        "  median {median:>7.0} ms   max {max:>7.0} ms   target {TARGET_MS:.0} ms   median/target {:.2}",
        median / TARGET_MS
    );
    Ok(())
}
