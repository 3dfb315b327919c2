//! Webhooks through the real binary: a session with problems is delivered, signed, to a
//! receiver on loopback that fails and recovers; the retries and the delivery are in the log;
//! only new problems make another delivery; a queued delivery outlives a restart; hooks made
//! through the API get a secret once and can't point inside the collector's network.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use sightline_e2e::receiver::{Received, Receiver};
use sightline_e2e::{batch_bytes, random_session, Collector, Http};
use sightline_protocol::{ErrorEvent, ErrorKind, Event, EventData, Network, SessionId};

const KEY: &str = "slk_project_hooks";
const TOKEN: &str = "slr_token_hooks";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn config(receiver: &str, allow_private: bool) -> String {
    config_with(receiver, allow_private, 1500)
}

fn config_with(receiver: &str, allow_private: bool, debounce_ms: u64) -> String {
    format!(
        "[webhooks]\ndebounce_ms = {debounce_ms}\nfirst_retry_ms = 300\nmax_attempts = 4\nallow_private_destinations = \
         {allow_private}\n\n[[projects]]\nname = \"hooks\"\ningest_key = \"{KEY}\"\naccept_unsealed = true\nread_tokens = [\"{TOKEN}\"]\n\n\
         [[projects.webhooks]]\nurl = \"{receiver}/hook\"\nsecret = \"{SECRET}\"\nevents = [\"problem\"]\n"
    )
}

fn start(dir: &Path, config: &str) -> Collector {
    Collector::start(Path::new(env!("CARGO_BIN_EXE_sightline-collector")), &dir.join("data"), config)
}

fn error(message: &str) -> EventData {
    EventData::Error(Box::new(ErrorEvent {
        kind: ErrorKind::Uncaught,
        name: "TypeError".into(),
        message: message.into(),
        ..Default::default()
    }))
}

fn failed_request(path: &str) -> EventData {
    EventData::Network(Box::new(Network {
        id: 1,
        method: "POST".into(),
        url: format!("https://app.example{path}"),
        status: 500,
        duration: 40,
        ..Default::default()
    }))
}

fn send(http: &Http, collector: &Collector, session: SessionId, seq: u32, events: Vec<EventData>) {
    let events = events.into_iter().map(|data| Event { dt: 10, data }).collect();
    assert_eq!(http.post_batch(&collector.base, KEY, &batch_bytes(KEY, session, 0, seq, events)).status, 200);
}

/// Checks the delivery's Standard Webhooks signature under `secret`.
fn assert_signed(delivery: &Received, secret: &str) {
    let id = delivery.header("webhook-id").expect("webhook-id");
    let timestamp: u64 = delivery.header("webhook-timestamp").expect("webhook-timestamp").parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(now.abs_diff(timestamp) < 60, "a timestamp near now, for replay protection");
    let key = base64::engine::general_purpose::STANDARD.decode(secret.trim_start_matches("whsec_")).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(&delivery.body);
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(delivery.header("webhook-signature"), Some(format!("v1,{expected}").as_str()));
}

/// What `found` finds, within 20 s.
fn wait_until<T>(found: impl Fn() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(found) = found() {
            return found;
        }
        assert!(std::time::Instant::now() < deadline, "never found");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Once the analyzer has read the session's first `batches`.
fn analysed(http: &Http, collector: &Collector, session: SessionId, batches: u64) {
    wait_until(|| {
        let summary = http.get(&format!("{}/api/sessions/{session}", collector.base), TOKEN).json();
        (summary["analyzed_batches"].as_u64() >= Some(batches)).then_some(())
    });
}

fn kinds(body: &Value) -> Vec<&str> {
    let mut kinds: Vec<&str> =
        body["new_problems"].as_array().unwrap().iter().map(|p| p["kind"].as_str().unwrap()).collect();
    kinds.sort_unstable();
    kinds
}

#[test]
fn a_sessions_new_problems_reach_a_receiver_that_fails_then_recovers() {
    let receiver = Receiver::start(&[503, 503]);
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path(), &config(&receiver.base, true));
    let http = Http::default();
    let session = random_session();
    send(&http, &collector, session, 0, vec![error("x is undefined"), failed_request("/api/invoices/40/send")]);

    // Two refusals, then the delivery: the same id each time, signed each time.
    let received = receiver.wait_for("a delivery answered 200", |r| r.iter().any(|d| d.status == 200));
    assert_eq!(received.iter().map(|d| d.status).collect::<Vec<_>>(), [503, 503, 200]);
    let ids: Vec<_> = received.iter().map(|d| d.header("webhook-id").unwrap().to_owned()).collect();
    assert!(ids.iter().all(|id| id == &ids[0]), "one delivery, tried three times: {ids:?}");
    for delivery in &received {
        assert_eq!(delivery.path, "/hook");
        assert_eq!(delivery.header("content-type"), Some("application/json"));
        assert_signed(delivery, SECRET);
    }
    let body = received[2].json();
    assert_eq!(body["type"], "session.problems");
    assert_eq!(body["project"], "hooks");
    assert_eq!(body["session"], session.to_string());
    assert_eq!(kinds(&body), ["failed_request", "js_error"]);
    assert_eq!(body["digest"]["session"], session.to_string());
    assert!(body["link"].as_str().unwrap().starts_with(&format!("{}/sessions/", collector.base)), "{body:#}");
    assert!(body["markdown"].as_str().unwrap().contains("/api/invoices/40/send"), "{body:#}");
    let text = body["text"].as_str().unwrap();
    assert!(text.starts_with("**2** new problems in the session of an anonymous user"), "{text}");
    assert!(text.contains("x is undefined"), "{text}");

    // The log: newest first, the delivery after two retries.
    let hooks = http.get(&format!("{}/api/webhooks", collector.base), TOKEN).json();
    let hook = &hooks["webhooks"][0];
    assert_eq!(hook["source"], "config");
    assert!(hook.get("secret").is_none(), "a hook's secret is never listed: {hook}");
    let id = hook["id"].as_str().unwrap();
    // The log is written just after the receiver answers.
    let log = wait_until(|| {
        let log = http.get(&format!("{}/api/webhooks/{id}/deliveries", collector.base), TOKEN).json();
        Some(log["deliveries"].as_array()?.clone()).filter(|log| log.len() == 3)
    });
    let outcomes: Vec<_> = log
        .iter()
        .map(|d| (d["outcome"].as_str().unwrap(), d["attempt"].as_u64().unwrap(), d["status"].as_u64()))
        .collect();
    assert_eq!(outcomes, [("delivered", 3, Some(200)), ("retrying", 2, Some(503)), ("retrying", 1, Some(503))]);
    assert!(log[1]["next_try"].as_u64().is_some() && log[0]["next_try"].is_null());
    assert_eq!(log[0]["session"], session.to_string());

    // The same problems again are not news; a new one is, alone, after the debounce.
    send(&http, &collector, session, 1, vec![]);
    analysed(&http, &collector, session, 2);
    std::thread::sleep(Duration::from_millis(1_000));
    assert_eq!(receiver.received().len(), 3, "nothing new, nothing sent");
    send(&http, &collector, session, 2, vec![failed_request("/api/invoices/41/send")]);
    let received = receiver.wait_for("the second delivery", |r| r.len() >= 4);
    let second = received[3].json();
    assert_eq!(kinds(&second), ["failed_request"]);
    assert!(second["new_problems"][0]["summary"].as_str().unwrap().contains("/api/invoices/41/send"), "{second:#}");
    assert_ne!(received[3].header("webhook-id"), received[0].header("webhook-id"));
    assert_signed(&received[3], SECRET);
}

#[test]
fn a_queued_delivery_outlives_a_restart() {
    let receiver = Receiver::start(&[500; 2]);
    let dir = tempfile::tempdir().unwrap();
    let mut collector = start(dir.path(), &config(&receiver.base, true));
    let http = Http::default();
    let session = random_session();
    send(&http, &collector, session, 0, vec![error("boom")]);
    receiver.wait_for("the first try", |r| !r.is_empty());
    collector.stop();
    let before_restart = receiver.received().len();
    assert!(before_restart < 3, "stopped before it could be delivered");
    collector.restart();
    let received = receiver.wait_for("the delivery after the restart", |r| r.iter().any(|d| d.status == 200));
    assert_eq!(received.last().unwrap().json()["session"], session.to_string());
    std::thread::sleep(Duration::from_millis(1_500));
    assert_eq!(receiver.received().iter().filter(|d| d.status == 200).count(), 1, "delivered once");
}

#[test]
fn what_analyses_add_while_a_delivery_waits_out_the_debounce_joins_it() {
    let receiver = Receiver::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path(), &config_with(&receiver.base, true, 8_000));
    let http = Http::default();
    let session = random_session();
    send(&http, &collector, session, 0, vec![error("first")]);
    receiver.wait_for("the first delivery", |r| r.len() == 1);
    // Two more analyses within the debounce: one delivery, after it, with both.
    send(&http, &collector, session, 1, vec![failed_request("/api/a")]);
    analysed(&http, &collector, session, 2);
    send(&http, &collector, session, 2, vec![error("third")]);
    analysed(&http, &collector, session, 3);
    assert_eq!(receiver.received().len(), 1, "still waiting out the debounce");
    let received = receiver.wait_for("the second delivery", |r| r.len() == 2);
    let body = received[1].json();
    assert_eq!(kinds(&body), ["failed_request", "js_error"], "{body:#}");
    assert!(body["text"].as_str().unwrap().contains("third"), "{body:#}");
}

#[test]
fn hooks_made_through_the_api_get_their_secret_once_and_stay_outside() {
    let receiver = Receiver::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path(), &config(&receiver.base, true));
    let http = Http::default();
    let bearer = format!("Bearer {TOKEN}");
    let post = |body: Value| {
        http.request(
            "POST",
            &format!("{}/api/webhooks", collector.base),
            &[("authorization", &bearer), ("content-type", "application/json")],
            Some(body.to_string().as_bytes()),
        )
    };
    let made = post(json!({ "url": format!("{}/made", receiver.base) }));
    assert_eq!(made.status, 201, "{}", String::from_utf8_lossy(&made.body));
    let made = made.json();
    let secret = made["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(made["events"], json!(["problem", "feedback"]));
    let id = made["id"].as_str().unwrap();
    let listed = http.get(&format!("{}/api/webhooks", collector.base), TOKEN).json();
    assert_eq!(listed["webhooks"].as_array().unwrap().len(), 2);
    assert!(listed["webhooks"].as_array().unwrap().iter().all(|h| h.get("secret").is_none()));

    // A ping, signed with the new secret.
    let ping = http.request(
        "POST",
        &format!("{}/api/webhooks/{id}/ping", collector.base),
        &[("authorization", &bearer)],
        None,
    );
    assert_eq!(ping.status, 202);
    let received = receiver.wait_for("the ping", |r| r.iter().any(|d| d.path == "/made"));
    let ping = received.iter().find(|d| d.path == "/made").unwrap();
    assert_eq!(ping.json()["type"], "ping");
    assert_signed(ping, &secret);

    // Bad hooks are refused with reasons; a configured one is changed in the configuration.
    for (body, code) in [
        (json!({ "url": "ftp://example.com/x" }), "bad_webhook"),
        (json!({ "url": "https://example.com/x", "events": ["everything"] }), "bad_webhook"),
        (json!({ "nope": 1 }), "bad_json"),
    ] {
        let refused = post(body.clone());
        assert_eq!((refused.status, refused.error_code()), (400, code.to_owned()), "{body}");
    }
    let configured = listed["webhooks"][0]["id"].as_str().unwrap();
    let refused = http.delete(&format!("{}/api/webhooks/{configured}", collector.base), TOKEN);
    assert_eq!((refused.status, refused.error_code()), (409, "configured_webhook".to_owned()));
    assert_eq!(http.delete(&format!("{}/api/webhooks/{id}", collector.base), TOKEN).status, 200);
    assert_eq!(http.get(&format!("{}/api/webhooks/{id}/deliveries", collector.base), TOKEN).status, 404);
    assert_eq!(http.get(&format!("{}/api/webhooks", collector.base), "slr_wrong_token").status, 401);

    // Without `allow_private_destinations`, a read token can't aim the collector at its own
    // network: loopback, the cloud's metadata address, a private range.
    let strict_dir = tempfile::tempdir().unwrap();
    let strict = start(strict_dir.path(), &config(&receiver.base, false));
    for url in [
        "http://127.0.0.1:8686/metrics",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/",
        "http://localhost/",
    ] {
        let refused = http.request(
            "POST",
            &format!("{}/api/webhooks", strict.base),
            &[("authorization", &bearer)],
            Some(json!({ "url": url }).to_string().as_bytes()),
        );
        assert_eq!(refused.status, 400, "{url}");
        assert!(refused.json()["message"].as_str().unwrap().contains("non-public"), "{url}: {:?}", refused.json());
    }
}

#[test]
fn a_hook_is_sent_a_bounded_number_of_sessions_an_hour_and_counts_the_rest() {
    let receiver = Receiver::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let config = config(&receiver.base, true).replace("[webhooks]\n", "[webhooks]\nmax_per_hour = 2\n");
    let collector = start(dir.path(), &config);
    let http = Http::default();
    let sessions: Vec<SessionId> = (0..4).map(|_| random_session()).collect();
    for (n, session) in sessions.iter().enumerate() {
        send(&http, &collector, *session, 0, vec![error(&format!("flood {n}"))]);
    }
    for session in &sessions {
        analysed(&http, &collector, *session, 1);
    }
    let hooks = wait_until(|| {
        let hooks = http.get(&format!("{}/api/webhooks", collector.base), TOKEN).json();
        (hooks["webhooks"][0]["held_back"] == 2).then_some(hooks)
    });
    assert_eq!(hooks["webhooks"].as_array().unwrap().len(), 1, "{hooks:#}");
    let received = receiver.wait_for("two deliveries", |r| r.len() >= 2);
    std::thread::sleep(Duration::from_millis(2_000));
    assert_eq!(
        receiver.received().len(),
        2,
        "{:?}",
        received.iter().map(|d| d.json()["session"].clone()).collect::<Vec<_>>()
    );
}
