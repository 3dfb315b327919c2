//! Headless Chromium driven through ChromeDriver's WebDriver protocol.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The ChromeDriver process, killed when dropped, whatever happens after it starts.
struct Driver(Child);

impl Driver {
    fn spawn(port: u16) -> Driver {
        let path = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let child = Command::new(&path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {path}: {e}"));
        Driver(child)
    }

    fn exited(&self) -> bool {
        // `try_wait` needs `&mut`; a shared check goes through /proc instead.
        !std::path::Path::new(&format!("/proc/{}", self.0.id())).exists()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A browser session; the browser and its driver stop when this is dropped (the session
/// first, then the driver, in field order).
pub struct Browser {
    url: String,
    _profile: tempfile::TempDir,
    agent: ureq::Agent,
    _driver: Driver,
}

impl Browser {
    /// Starts ChromeDriver (`CHROMEDRIVER`, else `/usr/bin/chromedriver`) and a headless
    /// Chromium (`CHROMIUM`, else `/usr/bin/chromium`) with a fresh profile.
    pub fn start() -> Browser {
        Browser::start_with(&[])
    }

    /// The same, with more Chromium flags: `--host-resolver-rules=MAP * ~NOTFOUND` cuts the
    /// network, say.
    pub fn start_with(flags: &[&str]) -> Browser {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        // The port is free when picked but could be taken before the driver binds it: then the
        // driver exits, and another port is tried.
        let (driver, base) = (0..5)
            .find_map(|_| {
                let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).ok()?.port();
                let driver = Driver::spawn(port);
                let base = format!("http://127.0.0.1:{port}");
                let deadline = Instant::now() + Duration::from_secs(20);
                loop {
                    if agent.get(&format!("{base}/status")).call().is_ok() {
                        return Some((driver, base));
                    }
                    if driver.exited() || Instant::now() > deadline {
                        return None;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
            .expect("chromedriver did not start");
        let profile = tempfile::tempdir().expect("profile dir");
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ]
        .iter()
        .chain(flags)
        .map(|flag| (*flag).to_owned())
        .collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let capabilities = json!({ "capabilities": { "alwaysMatch": { "goog:chromeOptions": {
            "binary": binary,
            "args": args,
        }}}});
        let created = read_json(agent.post(&format!("{base}/session")).send(capabilities.to_string()));
        let id = created["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {created}")).to_owned();
        Browser { _driver: driver, url: format!("{base}/session/{id}"), _profile: profile, agent }
    }

    fn command(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.url);
        let value = read_json(match method {
            "POST" => self.agent.post(&url).header("content-type", "application/json").send(body.to_string()),
            "DELETE" => self.agent.delete(&url).call(),
            _ => self.agent.get(&url).call(),
        });
        assert!(value["value"].get("error").is_none(), "{method} {path}: {value}");
        value["value"].clone()
    }

    /// Loads `url` and waits for it.
    pub fn navigate(&self, url: &str) {
        self.command("POST", "/url", json!({ "url": url }));
    }

    /// Closes the current tab as a user would (the page gets its `pagehide`), and goes on in a
    /// new blank tab of the same browser, whose storage the next pages share.
    pub fn close_tab(&self) {
        let opened = self.command("POST", "/window/new", json!({ "type": "tab" }));
        let handle = opened["handle"].as_str().unwrap_or_else(|| panic!("no new tab: {opened}")).to_owned();
        self.command("DELETE", "/window", Value::Null);
        self.command("POST", "/window", json!({ "handle": handle }));
    }

    /// Resizes the browser window.
    pub fn set_window_size(&self, width: u32, height: u32) {
        self.command("POST", "/window/rect", json!({ "width": width, "height": height }));
    }

    /// A PNG of the page as shown.
    pub fn screenshot(&self) -> Vec<u8> {
        use base64::Engine as _;
        let encoded = self.command("GET", "/screenshot", Value::Null);
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().expect("base64 text"))
            .expect("a PNG in base64")
    }

    /// The WebDriver reference of the first element matching the CSS `selector`.
    fn element(&self, selector: &str) -> String {
        let found = self.command("POST", "/element", json!({ "using": "css selector", "value": selector }));
        let reference = found.as_object().and_then(|o| o.values().next()).and_then(Value::as_str);
        reference.unwrap_or_else(|| panic!("no element {selector}: {found}")).to_owned()
    }

    /// The WebDriver reference of the element `script` (a function body) returns: one that a
    /// selector can't reach, in a shadow root.
    pub fn element_from(&self, script: &str) -> String {
        let found = self.execute(script);
        let reference = found.as_object().and_then(|o| o.values().next()).and_then(Value::as_str);
        reference.unwrap_or_else(|| panic!("no element from {script}: {found}")).to_owned()
    }

    /// Clicks the element matching `selector` as a user would (scrolled into view, real events).
    pub fn click(&self, selector: &str) {
        self.click_element(&self.element(selector));
    }

    /// Clicks the element with this WebDriver reference as a user would.
    pub fn click_element(&self, element: &str) {
        self.command("POST", &format!("/element/{element}/click"), json!({}));
    }

    /// Clicks the element matching `selector` `times` times in a row, as one burst of real
    /// mouse input (one WebDriver actions request, so no round trip comes between clicks).
    pub fn click_repeatedly(&self, selector: &str, times: usize) {
        let element = self.element(selector);
        let mut actions = vec![json!({
            "type": "pointerMove",
            "duration": 0,
            "origin": { "element-6066-11e4-a52e-4f735466cecf": element },
            "x": 0,
            "y": 0,
        })];
        for _ in 0..times {
            actions.push(json!({ "type": "pointerDown", "button": 0 }));
            actions.push(json!({ "type": "pointerUp", "button": 0 }));
        }
        let mouse =
            json!({ "type": "pointer", "id": "mouse", "parameters": { "pointerType": "mouse" }, "actions": actions });
        self.command("POST", "/actions", json!({ "actions": [mouse] }));
    }

    /// Types `text` into the element matching `selector`, key by key.
    pub fn type_into(&self, selector: &str, text: &str) {
        self.type_into_element(&self.element(selector), text);
    }

    /// Types `text` into the element with this WebDriver reference, key by key.
    pub fn type_into_element(&self, element: &str, text: &str) {
        self.command("POST", &format!("/element/{element}/value"), json!({ "text": text }));
    }

    /// Sends a DevTools protocol command (`Domain.method`) to the page; returns its result.
    pub fn cdp(&self, command: &str, params: Value) -> Value {
        self.command("POST", "/goog/cdp/execute", json!({ "cmd": command, "params": params }))
    }

    /// Runs `script` (a function body) in the page and returns its result.
    pub fn execute(&self, script: &str) -> Value {
        self.command("POST", "/execute/sync", json!({ "script": script, "args": [] }))
    }

    /// Runs `script` (a function body) in the page; it answers by calling its last argument,
    /// whose argument this returns.
    pub fn execute_async(&self, script: &str) -> Value {
        self.command("POST", "/execute/async", json!({ "script": script, "args": [] }))
    }

    /// Like [`Browser::execute`], but `None` when the script failed (as it may while a page is
    /// being replaced).
    pub fn try_execute(&self, script: &str) -> Option<Value> {
        let url = format!("{}/execute/sync", self.url);
        let body = json!({ "script": script, "args": [] }).to_string();
        let response = self.agent.post(&url).header("content-type", "application/json").send(body).ok()?;
        let mut response = response;
        let value: Value = serde_json::from_slice(&response.body_mut().read_to_vec().ok()?).ok()?;
        value["value"].get("error").is_none().then(|| value["value"].clone())
    }

    /// Evaluates `expression` until it is truthy; returns its value.
    pub fn wait_for(&self, expression: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.try_execute(&format!("return ({expression}) || null;")).unwrap_or(Value::Null);
            if !value.is_null() && value != Value::Bool(false) {
                return value;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {expression}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn read_json(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Value {
    let mut response = response.unwrap_or_else(|e| panic!("WebDriver: {e}"));
    let body = response.body_mut().read_to_vec().expect("WebDriver body");
    serde_json::from_slice(&body).unwrap_or_else(|e| panic!("WebDriver sent no JSON ({e})"))
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session closes the browser; dropping `driver` then stops the driver.
        let _ = self.agent.delete(&self.url).call();
    }
}
