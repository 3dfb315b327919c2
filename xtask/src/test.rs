//! `cargo xtask test`: every test of the workspace, with what they need built first.

use crate::tools::{cargo, run, workspace_root};

/// Every test: the SDK's npm package built first and its types checked; the native workspace; then, compiled to wasm by `wasm-bindgen-test-runner`
/// (which `.ci/run` installs with Chromium and ChromeDriver), the protocol's golden vectors
/// under Node and the SDK's browser tests in headless Chromium.
pub fn test_all() -> Result<(), String> {
    // The end-to-end tests load the npm package in a browser, and the viewer's replay core,
    // which the collector's build compiles in.
    crate::build_sdk::build_sdk()?;
    // The package's TypeScript types, against what an app writes (`npm/test/types.ts`).
    let root = workspace_root();
    let tsc = root.join("npm/node_modules/.bin/tsc");
    let types = root.join("npm/test/tsconfig.json");
    if tsc.exists() {
        run(&tsc, &["-p", &types.to_string_lossy()])?;
    } else {
        eprintln!("the package's types are not checked: no TypeScript compiler until `npm ci` runs in npm/");
    }
    // Its lint, and the unit tests of its pure parts (masking, flattening, redaction).
    let eslint = root.join("npm/node_modules/.bin/eslint");
    if eslint.exists() {
        let npm = root.join("npm");
        run_in(&npm, &eslint, &["src", "test/unit"])?;
    } else {
        eprintln!("the package is not linted: no ESLint until `npm ci` runs in npm/");
    }
    run(std::path::Path::new("node"), &["--test", &root.join("npm/test/unit/").to_string_lossy()])?;
    build_test_apps()?;
    crate::build_player::build_player()?;
    // The example app's binary, which the end-to-end tests start (the collector's is built for
    // its own tests).
    cargo(&["build", "--locked", "-p", "sightline-example-shop"], &[])?;
    cargo(&["test", "--workspace", "--locked"], &[])?;
    let runner = ("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner");
    cargo(
        &["test", "--locked", "-p", "sightline-protocol", "--target", "wasm32-unknown-unknown", "--test", "golden"],
        &[runner],
    )?;
    // The SDK's recorder units, in headless Chromium.
    let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    cargo(
        &["test", "--locked", "-p", "sightline-sdk", "--target", "wasm32-unknown-unknown", "--tests"],
        &[runner, ("CHROMEDRIVER", &chromedriver)],
    )
}

/// Runs `program` with `args` in `dir`.
fn run_in(dir: &std::path::Path, program: &std::path::Path, args: &[&str]) -> Result<(), String> {
    let status = std::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .status()
        .map_err(|e| format!("running {}: {e}", program.display()))?;
    status.success().then_some(()).ok_or_else(|| format!("{} failed ({status})", program.display()))
}

/// The apps the browser tests record, built with real frameworks from npm (`npm/test/apps`)
/// into `target/test-apps`.
pub fn build_test_apps() -> Result<(), String> {
    let root = workspace_root();
    let script = root.join("npm/test/apps/build.mjs");
    let out = root.join("target/test-apps");
    run(std::path::Path::new("node"), &[&script.to_string_lossy(), &out.to_string_lossy()])
}
