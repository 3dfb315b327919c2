//! What every task stands on: where the workspace and its target directory are, running
//! programs and cargo, and installing the tools the builds need when they are missing, so the
//! README's two commands work on a fresh machine.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_owned()
}

/// Cargo's target directory: `CARGO_TARGET_DIR` when set (relative to the workspace, as
/// cargo reads it there), else `target/` in the workspace.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|dir| !dir.is_empty()) {
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
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

/// Runs a program; `Err` with the command line when it fails.
pub fn run(program: &Path, args: &[&str]) -> Result<(), String> {
    let status =
        Command::new(program).args(args).status().map_err(|e| format!("running {}: {e}", program.display()))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("`{} {}` failed ({status})", program.display(), args.join(" ")))
}

/// Gzipped size of a file (`gzip -9`), as a server would send it.
pub fn gzip_size(path: &Path) -> Option<usize> {
    let output = Command::new("gzip").args(["-9", "-c"]).arg(path).output().ok()?;
    output.status.success().then_some(output.stdout.len())
}

/// Runs this task again from an optimised build of xtask.
pub fn in_release(args: &[String]) -> Result<(), String> {
    let mut command = vec!["run", "--quiet", "--release", "--locked", "-p", "xtask", "--"];
    command.extend(args.iter().map(String::as_str));
    cargo(&command, &[])
}

/// The toolchain the SDK's wasm is built with: a nightly, pinned, because only a nightly can
/// rebuild the standard library for size. Its panics then abort at once (no panic messages, so
/// none of the formatting they need) and `Debug` prints nothing; the recorder needs neither,
/// and it saves about a sixth of the wasm. `ensure_wasm_tools` installs it.
pub const SIZE_TOOLCHAIN: &str = "nightly-2026-05-20";

/// Whether [`SIZE_TOOLCHAIN`] is installed, with the standard library's source.
pub fn size_toolchain_installed() -> bool {
    let sysroot = Command::new("rustup").args(["run", SIZE_TOOLCHAIN, "rustc", "--print", "sysroot"]).output();
    let Some(sysroot) = sysroot.ok().filter(|o| o.status.success()) else { return false };
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    sysroot.join("lib/rustlib/src/rust/library/std").exists()
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

/// The npm package's build tools (`wasm-opt`, esbuild, terser, TypeScript) and the benchmark's
/// and test apps' packages, as pinned by `npm/package-lock.json`: `npm ci` runs when
/// `node_modules` is missing or older than the lock file. Without npm, the package is built
/// unminified, and the steps that need those tools say so.
pub fn ensure_npm_tools() -> Result<(), String> {
    static CHECKED: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    CHECKED.get_or_init(install_npm_tools).clone()
}

fn install_npm_tools() -> Result<(), String> {
    let npm_dir = workspace_root().join("npm");
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    // npm writes this file last, with what it installed.
    let installed = modified(&npm_dir.join("node_modules/.package-lock.json"));
    let locked = modified(&npm_dir.join("package-lock.json"));
    if installed.is_some() && installed >= locked {
        return Ok(());
    }
    if Command::new("npm").arg("--version").output().is_err() {
        eprintln!("npm not found: the SDK is built unminified and without wasm-opt, and its types are not checked");
        return Ok(());
    }
    eprintln!("installing the npm package's build tools (npm ci in npm/)");
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&npm_dir)
        .status()
        .map_err(|e| format!("running npm: {e}"))?;
    status.success().then_some(()).ok_or_else(|| format!("`npm ci` in npm/ failed ({status})"))
}

/// A collector configuration with one project (`key`, `token`) and no rate limits: benchmarks
/// measure the collector, not its limits.
pub fn bench_config(key: &str, token: &str) -> String {
    format!("{}rate_limit = 0\n\n[limits]\nsource_rate_limit = 0\n", sightline_e2e::project_config("bench", key, token))
}

/// The release collector, built now, with one project (`key`, `token`) in a fresh data
/// directory, which is removed when the returned guard is dropped (after the collector).
pub fn release_collector(key: &str, token: &str) -> Result<(sightline_e2e::Collector, tempfile::TempDir), String> {
    cargo(&["build", "--release", "--locked", "-p", "sightline-collector"], &[])?;
    let data = tempfile::tempdir().map_err(|e| e.to_string())?;
    let collector = sightline_e2e::Collector::start(
        &target_dir().join("release/sightline-collector"),
        &data.path().join("data"),
        &bench_config(key, token),
    );
    Ok((collector, data))
}
