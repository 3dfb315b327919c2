//! `cargo xtask run`: the product on its embedded default, with the example app. It builds the
//! SDK and both binaries, then starts the collector (sled in `./sightline-data`, listening on
//! 127.0.0.1:8686) and Acme Billing, the example app (127.0.0.1:8687), whose pages send their
//! sessions to the collector. The demo project's keys are made on first run and kept in
//! `./sightline-demo.toml`, the collector's config file.

use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use crate::build_sdk::build_sdk;
use crate::tools::{cargo, target_dir, workspace_root};

const CONFIG: &str = "sightline-demo.toml";
const COLLECTOR: &str = "127.0.0.1:8686";
const SHOP: &str = "127.0.0.1:8687";

/// Stops a child process when dropped, whichever way `run` ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn run() -> Result<(), String> {
    build_sdk()?;
    crate::build_player::build_player()?;
    cargo(&["build", "--release", "--locked", "-p", "sightline-collector", "-p", "sightline-example-shop"], &[])?;
    let root = workspace_root();
    let DemoProject { key, token, backend_key } = demo_project(&root.join(CONFIG))?;
    let bin = |name: &str| target_dir().join("release").join(name);

    let collector = Command::new(bin("sightline-collector"))
        .args(["serve", "--listen", COLLECTOR, "--config", CONFIG])
        .current_dir(&root)
        .spawn()
        .map_err(|e| format!("starting the collector: {e}"))?;
    let collector = Running(collector);
    let shop = Command::new(bin("sightline-example-shop"))
        .args(["--listen", SHOP, "--collector", &format!("http://{COLLECTOR}"), "--ingest-key", &key])
        .args(["--backend-key", &backend_key])
        .current_dir(&root)
        .spawn()
        .map_err(|e| format!("starting the example app: {e}"))?;
    let shop = Running(shop);

    println!();
    println!("  example app:  http://{SHOP}/   (click around: each visit is recorded)");
    println!("  collector:    http://{COLLECTOR}/   (data in ./sightline-data)");
    println!("  read token:   {token}   (for the query API and the viewer; kept in ./{CONFIG})");
    println!("  Ctrl-C stops both.");
    println!();
    let mut running = [collector, shop];
    loop {
        for process in &mut running {
            if let Ok(Some(status)) = process.0.try_wait() {
                return Err(format!("a process of the demo exited ({status}); stopping the other"));
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The demo project's secrets.
struct DemoProject {
    key: String,
    token: String,
    backend_key: String,
}

/// The demo project's keys and token: from the config file, or new ones written to it.
fn demo_project(path: &Path) -> Result<DemoProject, String> {
    if let Ok(text) = std::fs::read_to_string(path) {
        let value = |name: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(name)?.trim_start().strip_prefix('=')?.trim().split('"').nth(1))
                .map(str::to_owned)
        };
        if let (Some(key), Some(token), Some(backend_key)) =
            (value("ingest_key"), value("read_tokens"), value("backend_keys"))
        {
            return Ok(DemoProject { key, token, backend_key });
        }
        return Err(format!(
            "{} lacks ingest_key, read_tokens or backend_keys; remove it to start afresh",
            path.display()
        ));
    }
    let random = || {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| format!("random source: {e}"))?;
        Ok::<_, String>(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
    };
    let (key, token, backend_key) =
        (format!("slk_{}", random()?), format!("slr_{}", random()?), format!("slb_{}", random()?));
    let config = format!(
        "# The demo project of `cargo xtask run`: Acme Billing sends its sessions here.\n\
         [[projects]]\nname = \"acme-billing\"\ningest_key = \"{key}\"\nread_tokens = [\"{token}\"]\n\
         backend_keys = [\"{backend_key}\"]\n\
         allowed_origins = [\"http://{SHOP}\", \"http://localhost:8687\"]\nretention_days = 30\n"
    );
    std::fs::write(path, config).map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(DemoProject { key, token, backend_key })
}
