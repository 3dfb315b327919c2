//! Running the workspace's own tools.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::build_sdk::{size_toolchain_installed, SIZE_TOOLCHAIN};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_owned()
}

/// Runs `cargo` with `args` in the workspace root; `Err` with the command on failure.
pub fn cargo(args: &[&str], envs: &[(&str, &str)]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(&cargo);
    command.args(args).current_dir(workspace_root());
    for (k, v) in envs {
        command.env(k, v);
    }
    let status = command.status().map_err(|e| format!("running {cargo}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}

/// Runs this task again from an optimised build of xtask.
pub fn in_release(args: &[String]) -> Result<(), String> {
    let mut command = vec!["run", "--quiet", "--release", "--locked", "-p", "xtask", "--"];
    command.extend(args.iter().map(String::as_str));
    cargo(&command, &[])
}

/// The wasm target and the `wasm-bindgen` CLI at the exact version of the crate in Cargo.lock,
/// installed if missing, so the README's commands work on a fresh machine. Checked once per
/// run of xtask.
pub fn ensure_wasm_tools() -> Result<(), String> {
    static CHECKED: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    CHECKED.get_or_init(install_wasm_tools).clone()
}

fn install_wasm_tools() -> Result<(), String> {
    let rustup = Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]).output();
    if let Ok(output) = rustup {
        if !output.status.success() {
            return Err(format!(
                "rustup target add wasm32-unknown-unknown: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    // The SDK's size-tuned build; without it, the SDK is built with stable Rust.
    if !size_toolchain_installed() {
        eprintln!("installing {SIZE_TOOLCHAIN} with rust-src, for the SDK's build (once)");
        let nightly = Command::new("rustup")
            .args(["toolchain", "install", SIZE_TOOLCHAIN, "--profile", "minimal", "--component", "rust-src"])
            .status();
        if !nightly.is_ok_and(|status| status.success()) {
            eprintln!("could not install {SIZE_TOOLCHAIN}: the SDK will be built with stable Rust, and be bigger");
        }
    }
    let lock = std::fs::read_to_string(workspace_root().join("Cargo.lock")).map_err(|e| e.to_string())?;
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"wasm-bindgen\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")?.strip_suffix('"')))
        .ok_or("no wasm-bindgen in Cargo.lock")?
        .to_owned();
    let installed = Command::new("wasm-bindgen").arg("--version").output().ok();
    if installed.is_some_and(|o| String::from_utf8_lossy(&o.stdout).contains(&version)) {
        return Ok(());
    }
    eprintln!("installing wasm-bindgen-cli {version} (once; a few minutes)");
    cargo(&["install", "wasm-bindgen-cli", "--version", &version], &[])
}

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
        crate::build_sdk::run(&tsc, &["-p", &types.to_string_lossy()])?;
    } else {
        eprintln!("the package's types are not checked: no TypeScript compiler until `npm ci` runs in npm/");
    }
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

/// The release collector, built now, with one project (`key`, `token`) in a fresh data
/// directory, which is removed when the returned guard is dropped (after the collector).
pub fn release_collector(key: &str, token: &str) -> Result<(sightline_e2e::Collector, tempfile::TempDir), String> {
    cargo(&["build", "--release", "--locked", "-p", "sightline-collector"], &[])?;
    let data = tempfile::tempdir().map_err(|e| e.to_string())?;
    let collector = sightline_e2e::Collector::start(
        &workspace_root().join("target/release/sightline-collector"),
        &data.path().join("data"),
        &sightline_e2e::project_config("bench", key, token),
    );
    Ok((collector, data))
}
