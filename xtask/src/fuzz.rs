//! `cargo xtask fuzz [--seconds N] [TARGET…]`: runs each fuzz target (`fuzz/fuzz_targets`:
//! batch, stream, replay, otlp) for N seconds (60 by default) with libFuzzer through
//! `cargo fuzz`, on the pinned nightly, installing both when missing. Each starts from its
//! corpus (`fuzz/corpus/TARGET`, seeded from the protocol's fixtures), which it grows; an input
//! that fails is copied to `fuzz/regressions/TARGET`, which the collector's test suite replays
//! on every run (`collector/tests/fuzz_regressions.rs`), and the task fails naming it.

use std::path::Path;
use std::process::Command;

use sightline_protocol::{encode_batch, encode_payload, fixtures};

use crate::tools::{cargo, workspace_root, SIZE_TOOLCHAIN};

const TARGETS: [&str; 4] = ["batch", "stream", "replay", "otlp"];

/// What `cargo xtask fuzz` was asked for.
pub struct Options {
    seconds: u32,
    targets: Vec<String>,
}

impl Options {
    /// Reads `[--seconds N] [TARGET…]`.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options { seconds: 60, targets: Vec::new() };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            if arg == "--seconds" {
                let value = args.next().ok_or("--seconds needs a value")?;
                options.seconds = value.parse().ok().filter(|n| *n > 0).ok_or("--seconds needs a positive number")?;
            } else if TARGETS.contains(&arg.as_str()) {
                options.targets.push(arg.clone());
            } else {
                return Err(format!("no fuzz target {arg}: the targets are {}", TARGETS.join(", ")));
            }
        }
        if options.targets.is_empty() {
            options.targets = TARGETS.iter().map(|t| (*t).to_owned()).collect();
        }
        Ok(options)
    }
}

/// Runs the fuzzers and prints what each did.
pub fn run(options: Options) -> Result<(), String> {
    ensure_cargo_fuzz()?;
    let fuzz = workspace_root().join("fuzz");
    seed(&fuzz)?;
    let mut findings = Vec::new();
    for target in &options.targets {
        let corpus = fuzz.join("corpus").join(target);
        let artifacts = fuzz.join("artifacts").join(target);
        std::fs::create_dir_all(&artifacts).map_err(|e| e.to_string())?;
        let before = files(&corpus).len();
        let output = Command::new("cargo")
            .current_dir(&fuzz)
            .args([&format!("+{SIZE_TOOLCHAIN}"), "fuzz", "run", "-O", target])
            .arg(&corpus)
            .arg("--")
            .arg(format!("-max_total_time={}", options.seconds))
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .args(["-rss_limit_mb=2048", "-timeout=10", "-print_final_stats=1"])
            .output()
            .map_err(|e| format!("cargo fuzz: {e}"))?;
        let log = String::from_utf8_lossy(&output.stderr);
        let stat = |name: &str| {
            log.lines().find_map(|l| l.strip_prefix(&format!("stat::{name}:")).map(|v| v.trim().to_owned()))
        };
        println!(
            "{target:<8} {} s: {} runs, corpus {} → {} inputs, peak RSS {} MB",
            options.seconds,
            stat("number_of_executed_units").unwrap_or_else(|| "?".into()),
            before,
            files(&corpus).len(),
            stat("peak_rss_mb").unwrap_or_else(|| "?".into()),
        );
        if !output.status.success() {
            let kept = fuzz.join("regressions").join(target);
            std::fs::create_dir_all(&kept).map_err(|e| e.to_string())?;
            for found in files(&artifacts) {
                let name = found.file_name().unwrap_or_default().to_owned();
                std::fs::copy(&found, kept.join(&name)).map_err(|e| e.to_string())?;
                findings.push(format!("{target}: {}", kept.join(name).display()));
            }
            if findings.is_empty() {
                return Err(format!("cargo fuzz run {target} failed:\n{log}"));
            }
        }
    }
    if findings.is_empty() {
        Ok(())
    } else {
        Err(format!("inputs that fail, kept as regressions:\n  {}", findings.join("\n  ")))
    }
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir).map(|d| d.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect()).unwrap_or_default()
}

/// cargo-fuzz and the pinned nightly, which builds with the sanitizer libFuzzer needs.
fn ensure_cargo_fuzz() -> Result<(), String> {
    let toolchain = Command::new("rustup").args(["run", SIZE_TOOLCHAIN, "rustc", "--version"]).output();
    if !toolchain.is_ok_and(|o| o.status.success()) {
        let installed =
            Command::new("rustup").args(["toolchain", "install", SIZE_TOOLCHAIN, "--profile", "minimal"]).status();
        if !installed.is_ok_and(|s| s.success()) {
            return Err(format!("could not install {SIZE_TOOLCHAIN}, which the fuzzers build with"));
        }
    }
    let fuzz = Command::new("cargo").args(["fuzz", "--version"]).output();
    if fuzz.is_ok_and(|o| o.status.success()) {
        return Ok(());
    }
    eprintln!("installing cargo-fuzz (once)");
    cargo(&["install", "cargo-fuzz", "--locked"], &[])
}

/// Each corpus starts from the protocol's fixtures, written as that target reads its input.
fn seed(fuzz: &Path) -> Result<(), String> {
    let mut stream = Vec::new();
    for (name, batch) in fixtures::all() {
        let framed = encode_batch(&batch).map_err(|e| e.to_string())?;
        let payload = encode_payload(&batch).map_err(|e| e.to_string())?;
        write_seed(fuzz, "batch", name, &framed)?;
        write_seed(fuzz, "replay", name, &payload)?;
        stream.extend_from_slice(&(framed.len() as u32).to_le_bytes());
        stream.extend_from_slice(&framed);
    }
    write_seed(fuzz, "stream", "fixtures", &stream)?;
    let logs = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"billing"}}]},"scopeLogs":[{"logRecords":[{"timeUnixNano":"1790000000000000000","severityNumber":17,"severityText":"ERROR","body":{"stringValue":"SMTP relay refused"},"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7"}]}]}]}"#;
    let spans = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"billing"}}]},"scopeSpans":[{"spans":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","name":"POST /invoices/{id}/send","kind":2,"startTimeUnixNano":"1790000000000000000","endTimeUnixNano":"1790000000184000000","status":{"code":2,"message":"relay refused"}}]}]}]}"#;
    write_seed(fuzz, "otlp", "logs", logs.as_bytes())?;
    write_seed(fuzz, "otlp", "spans", spans.as_bytes())
}

fn write_seed(fuzz: &Path, target: &str, name: &str, bytes: &[u8]) -> Result<(), String> {
    let dir = fuzz.join("corpus").join(target);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join(format!("seed-{name}")), bytes).map_err(|e| e.to_string())
}
