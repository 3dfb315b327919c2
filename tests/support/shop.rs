//! The example app's process (`sightline-example-shop`) on a free loopback port.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::sdk::session_of;
use crate::webdriver::Browser;

/// The example app, stopped when dropped.
pub struct Shop {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Shop {
    /// Jane signs in to the example app in `browser`, recorded from the login page on; answers
    /// the session it records into.
    pub fn signed_in(&self, browser: &Browser) -> String {
        browser.navigate(&format!("{}/login", self.base));
        browser.wait_for("window.sightlineReady && document.getElementById('login-email')", Duration::from_secs(20));
        let session =
            session_of(&browser.execute("return document.getElementById('session').textContent.split(' ').pop();"));
        browser.type_into("#login-email", "jane@acme.com");
        browser.type_into("#login-password", "pw-for-the-demo");
        browser.click("#login-submit");
        browser.wait_for("document.querySelector('button.send')", Duration::from_secs(10));
        session
    }

    /// Starts the example app sending to `collector` with the ingest key `key`, and its
    /// backend's spans and logs with the backend key [`project_config`](crate::project_config)
    /// declares for that project.
    pub fn start(collector: &str, key: &str) -> Shop {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_owned();
        let bin = sibling_binary("sightline-example-shop");
        let mut child = Command::new(&bin)
            .args(["--listen", "127.0.0.1:0", "--collector", collector, "--ingest-key", key])
            .args(["--backend-key", &crate::backend_key(key), "--sdk-dir"])
            .arg(root.join("npm/dist"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let base = lines
            .find_map(|line| {
                line.ok()?.strip_prefix("Acme Billing (the example app) on ")?.strip_suffix('/').map(str::to_owned)
            })
            .expect("the example app did not start");
        // Keep reading so the process never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Shop { child, base }
    }
}

impl Drop for Shop {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A binary cargo built next to the test executables (`target/<profile>/<name>`).
pub fn sibling_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let path = exe.parent().and_then(Path::parent).map(|dir| dir.join(name)).expect("target dir");
    assert!(path.exists(), "{} is missing: build it with `cargo build -p {name}`", path.display());
    path
}
