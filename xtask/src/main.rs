//! `cargo xtask <task>`: the workspace's build, test and benchmark tasks, so the README needs
//! only plain commands.

mod bench_ingest;
mod bench_live;
mod bench_player;
mod bench_query;
mod bench_sdk;
mod build_player;
mod build_sdk;
mod demo;
mod fuzz;
mod rng;
mod test;
mod tools;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  run                       start the product with the example app: collector (sled, ./sightline-data) and Acme Billing
  test                      build the SDK, then run every test: native, wasm, and in headless Chromium
  build-sdk                 build the npm package in npm/dist and print its sizes
  build-player              build the viewer's replay core (wasm) into target/viewer-player
  bench-ingest [options]    load the collector over loopback and compare with bare sled
      --seconds N           how long to load it (default 10)
      --connections N       concurrent keep-alive connections (default 64)
      --batch-kib N         compressed batch size in KiB (default 4)
  fuzz [--seconds N] [TARGET…]
                            run the fuzz targets (batch, stream, replay, otlp) N seconds each
                            (default 60); failing inputs are kept in fuzz/regressions
  bench-live                a click in the example app, timed until the viewer watching live shows it
  bench-player              a synthetic 30-minute session: first frame and seek times, natively and in the viewer
  bench-query               the session list's queries over 100,000 sessions
  bench-sdk [options]       scripted journeys in headless Chromium: no recorder, this SDK (full and buffer mode), rrweb
                            (npm install in npm/ first)
      --runs N              runs of each journey and recorder, medians printed (default 3)
      --journey NAME        only this journey: interactions, form, table, storm or api
      --sizes               only what a page loads, against PostHog's recorder and Sentry's SDK";

/// `[--runs N] [--journey NAME]`: 3 runs of every journey by default.
fn bench_sdk_options(args: &[String]) -> Result<bench_sdk::Options, String> {
    let mut options = bench_sdk::Options { runs: 3, journey: None, sizes_only: false };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        if flag == "--sizes" {
            options.sizes_only = true;
            continue;
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--runs" => options.runs = value.parse().ok().filter(|n| *n > 0).ok_or("--runs needs a positive number")?,
            "--journey" => options.journey = Some(value.clone()),
            _ => return Err(USAGE.to_owned()),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => demo::run(),
        Some("test") => test::test_all(),
        Some("build-sdk") => build_sdk::build_sdk(),
        Some("build-player") => build_player::build_player(),
        Some("fuzz") => fuzz::Options::parse(&args[1..]).and_then(fuzz::run),
        // Benchmarks measure optimised code on both sides of the wire.
        Some("bench-ingest") if cfg!(debug_assertions) => tools::in_release(&args),
        Some("bench-ingest") => bench_ingest::Options::parse(&args[1..]).and_then(bench_ingest::run),
        Some("bench-live") if cfg!(debug_assertions) => tools::in_release(&args),
        Some("bench-live") => bench_live::run(),
        Some("bench-player") if cfg!(debug_assertions) => tools::in_release(&args),
        Some("bench-player") => bench_player::run(),
        Some("bench-query") if cfg!(debug_assertions) => tools::in_release(&args),
        Some("bench-query") => bench_query::run(),
        Some("bench-sdk") => bench_sdk_options(&args[1..]).and_then(bench_sdk::run),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}
