//! The collector over HTTP: the real binary on loopback, the real sled store in a temp dir.

use std::path::Path;

use sightline_collector::store::{SledStore, Store};
use sightline_e2e::{batch_bytes, fixtures, random_session, sample_session, split_frames, Collector, Http};
use sightline_protocol::frame::frame_payload;
use sightline_protocol::{
    decode_batch, encode_batch, encode_payload, seal, Event, EventData, Limits, SessionId, Visibility, WriterSecret,
};

const KEY_A: &str = "slk_project_a";
const TOKEN_A: &str = "slr_token_a";
const KEY_B: &str = "slk_project_b";
const TOKEN_B: &str = "slr_token_b";

const CONFIG: &str = r#"
[[projects]]
name = "a"
ingest_key = "slk_project_a"
accept_unsealed = true
read_tokens = ["slr_token_a"]
allowed_origins = ["https://app.a.example"]

[[projects]]
name = "b"
ingest_key = "slk_project_b"
accept_unsealed = true
read_tokens = ["slr_token_b"]
rate_limit = 2
"#;

fn start(dir: &Path, config: &str) -> Collector {
    Collector::start(Path::new(env!("CARGO_BIN_EXE_sightline-collector")), &dir.join("data"), config)
}

fn small_batch(key: &str, session: SessionId, seq: u32) -> Vec<u8> {
    batch_bytes(
        key,
        session,
        0,
        seq,
        vec![Event { dt: 5, data: EventData::Visibility(Visibility { visible: seq.is_multiple_of(2) }) }],
    )
}

#[test]
fn ingest_then_query_then_stream_events() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path(), CONFIG);
    let http = Http::default();
    let session = random_session();
    let batches = sample_session(KEY_A, session);
    // Out of order on purpose: storage and the events stream order by (page, seq).
    for i in [1, 0, 2] {
        let response = http.post_batch(&collector.base, KEY_A, &batches[i]);
        assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
        assert_eq!(response.json()["result"], "stored");
    }

    let list = http.get(&format!("{}/api/sessions", collector.base), TOKEN_A).json();
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1);
    let summary = &sessions[0];
    assert_eq!(summary["id"], session.to_string());
    assert_eq!(summary["user_id"], "u_1842");
    assert_eq!(summary["email"], "jane@acme.com");
    assert_eq!(summary["traits"]["plan"], "enterprise");
    assert_eq!(summary["device"]["browser"], "Chrome");
    assert_eq!(summary["device"]["timezone"], "Europe/Paris");
    assert_eq!(summary["error_count"], 2);
    assert_eq!(summary["failed_request_count"], 2);
    assert_eq!(summary["batch_count"], 3);
    assert_eq!(summary["bytes"], batches.iter().map(Vec::len).sum::<usize>());
    let events: usize = fixtures::all().iter().map(|(_, b)| b.events.len()).sum();
    assert_eq!(summary["event_count"], events);
    assert_eq!(summary["urls"].as_array().unwrap().len(), 3);
    assert!(list["next_cursor"].is_null());

    let one = http.get(&format!("{}/api/sessions/{session}", collector.base), TOKEN_A);
    assert_eq!(one.status, 200);
    assert_eq!(&one.json(), summary);

    let stream = http.get(&format!("{}/api/sessions/{session}/events", collector.base), TOKEN_A);
    assert_eq!(stream.status, 200);
    assert_eq!(stream.header("content-type"), Some("application/vnd.sightline.batches"));
    assert_eq!(split_frames(&stream.body), batches, "batches come back byte for byte, in order");
}

#[test]
fn a_batch_sent_twice_is_acknowledged_twice_and_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path(), CONFIG);
    let http = Http::default();
    let session = random_session();
    let batch = small_batch(KEY_A, session, 0);
    assert_eq!(http.post_batch(&collector.base, KEY_A, &batch).json()["result"], "stored");
    let again = http.post_batch(&collector.base, KEY_A, &batch);
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["result"], "duplicate");

    let stream = http.get(&format!("{}/api/sessions/{session}/events", collector.base), TOKEN_A);
    assert_eq!(split_frames(&stream.body).len(), 1);
    let summary = http.get(&format!("{}/api/sessions/{session}", collector.base), TOKEN_A).json();
    assert_eq!(summary["batch_count"], 1);
    assert_eq!(summary["event_count"], 1);
    let metrics =
        String::from_utf8(http.request("GET", &format!("{}/metrics", collector.base), &[], None).body).unwrap();
    assert!(metrics.contains("sightline_batches_duplicate_total 1"), "{metrics}");
    assert!(metrics.contains("sightline_batches_stored_total 1"), "{metrics}");
}

#[test]
fn a_different_batch_under_the_same_numbers_is_refused_and_the_first_kept() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path(), CONFIG);
    let http = Http::default();
    let session = random_session();
    let first = small_batch(KEY_A, session, 0);
    let mut other = decode_batch(&first, &Limits::default()).unwrap();
    other.start += 1;
    let other = encode_batch(&other).unwrap();
    assert_eq!(http.post_batch(&collector.base, KEY_A, &first).json()["result"], "stored");
    let refused = http.post_batch(&collector.base, KEY_A, &other);
    assert_eq!((refused.status, refused.error_code()), (409, "batch_conflict".to_owned()));
    // The real retry is still a duplicate, and what is stored is the first.
    assert_eq!(http.post_batch(&collector.base, KEY_A, &first).json()["result"], "duplicate");
    let stream = http.get(&format!("{}/api/sessions/{session}/events", collector.base), TOKEN_A);
    assert_eq!(split_frames(&stream.body), vec![first]);
    let metrics =
        String::from_utf8(http.request("GET", &format!("{}/metrics", collector.base), &[], None).body).unwrap();
    assert!(metrics.contains("sightline_rejects_total{reason=\"batch_conflict\"} 1"), "{metrics}");
}

#[test]
fn a_restart_keeps_every_acknowledged_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut collector = start(dir.path(), CONFIG);
    let http = Http::default();
    let session = random_session();
    for seq in 0..50 {
        assert_eq!(http.post_batch(&collector.base, KEY_A, &small_batch(KEY_A, session, seq)).status, 200);
    }
    collector.stop();
    collector.restart();
    let stream = http.get(&format!("{}/api/sessions/{session}/events", collector.base), TOKEN_A);
    let frames = split_frames(&stream.body);
    assert_eq!(frames.len(), 50);
    for (seq, frame) in frames.iter().enumerate() {
        assert_eq!(frame, &small_batch(KEY_A, session, seq as u32));
    }
}

#[test]
fn bad_requests_get_a_status_and_a_json_reason_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let collector =
        start(dir.path(), &format!("{CONFIG}\n[limits]\nmax_batch_bytes = 4096\nmax_decompressed_bytes = 65536\n"));
    let http = Http::default();
    let url = format!("{}/v1/batches", collector.base);
    let session = random_session();
    let good = small_batch(KEY_A, session, 0);
    let post = |headers: &[(&str, &str)], body: &[u8]| http.request("POST", &url, headers, Some(body));
    let keyed = [("x-sightline-key", KEY_A)];

    let cases: Vec<(u16, &str, sightline_e2e::Response)> = vec![
        (401, "unauthenticated", post(&[], &good)),
        (401, "bad_credentials", post(&[("x-sightline-key", "slk_nobody_has_this")], &good)),
        (415, "unsupported_media_type", post(&[keyed[0], ("content-type", "application/json")], b"{}")),
        (
            415,
            "unsupported_media_type",
            post(&[keyed[0], ("content-type", "application/json"), ("origin", "https://app.a.example")], b"{}"),
        ),
        (400, "bad_magic", post(&keyed, b"{\"events\":[]}")),
        (400, "truncated", post(&keyed, &good[..5])),
        (400, "corrupt_compression", post(&keyed, &[&good[..8], &[0xff; 16][..]].concat())),
        (400, "unsupported_version", post(&keyed, &[b"SLB\x07", &good[4..]].concat())),
        (400, "schema", post(&keyed, &frame_payload(&[0x93, 1, 2, 3]).unwrap())),
        (400, "malformed", post(&keyed, &frame_payload(&[0x92, 1]).unwrap())),
        (400, "limit_exceeded", post(&keyed, &frame_payload(&[vec![0x91; 40], vec![0xc0]].concat()).unwrap())),
        (413, "too_large", post(&keyed, &vec![0u8; 5000])),
        (
            413,
            "decompressed_too_large",
            post(&keyed, &[&good[..4], &(1u32 << 20).to_le_bytes()[..], &good[8..]].concat()),
        ),
        (403, "project_mismatch", post(&[("x-sightline-key", KEY_B)], &good)),
        (403, "origin_not_allowed", post(&[keyed[0], ("origin", "https://evil.example")], &good)),
    ];
    assert_eq!(
        cases[3].2.header("access-control-allow-origin"),
        Some("https://app.a.example"),
        "errors carry CORS headers"
    );
    for (status, code, response) in &cases {
        assert_eq!(response.status, *status, "{code}: {}", String::from_utf8_lossy(&response.body));
        assert_eq!(response.error_code(), *code);
        assert!(!response.json()["message"].as_str().unwrap().is_empty());
    }

    let stream = http.get(&format!("{}/api/sessions/{session}/events", collector.base), TOKEN_A);
    assert_eq!(stream.status, 404, "nothing of a rejected batch is stored");
    let list = http.get(&format!("{}/api/sessions", collector.base), TOKEN_A).json();
    assert_eq!(list["sessions"].as_array().unwrap().len(), 0);
    let list = http.get(&format!("{}/api/sessions", collector.base), TOKEN_B).json();
    assert_eq!(list["sessions"].as_array().unwrap().len(), 0);

    // Project b allows 2 batches a second: the third in a burst is told to come back. (The
    // project_mismatch case above took one; wait for the bucket to refill.)
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    let session_b = random_session();
    let statuses: Vec<_> =
        (0..3).map(|seq| http.post_batch(&collector.base, KEY_B, &small_batch(KEY_B, session_b, seq))).collect();
    assert_eq!(statuses[0].status, 200);
    assert_eq!(statuses[1].status, 200);
    assert_eq!(statuses[2].status, 429);
    assert_eq!(statuses[2].error_code(), "rate_limited");
    assert!(statuses[2].header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);

    // Read API errors are JSON too.
    let bad_query = http.get(&format!("{}/api/sessions?limit=many", collector.base), TOKEN_A);
    assert_eq!((bad_query.status, bad_query.error_code().as_str()), (400, "bad_query"));
    let bad_id = http.get(&format!("{}/api/sessions/not-hex", collector.base), TOKEN_A);
    assert_eq!((bad_id.status, bad_id.error_code().as_str()), (400, "bad_session_id"));
    let nowhere = http.get(&format!("{}/nowhere", collector.base), TOKEN_A);
    assert_eq!((nowhere.status, nowhere.error_code().as_str()), (404, "not_found"));
    let wrong_method = http.request("PUT", &url, &keyed, Some(&good));
    assert_eq!((wrong_method.status, wrong_method.error_code().as_str()), (405, "method_not_allowed"));

    // The process is still up and serving.
    assert_eq!(http.post_batch(&collector.base, KEY_A, &good).status, 200);
    let metrics =
        String::from_utf8(http.request("GET", &format!("{}/metrics", collector.base), &[], None).body).unwrap();
    assert!(metrics.contains("sightline_rejects_total{reason=\"bad_magic\"} 1"), "{metrics}");
}

#[test]
fn the_key_can_come_as_a_query_parameter_for_beacons() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path(), CONFIG);
    let http = Http::default();
    let session = random_session();
    let response = http.request(
        "POST",
        &format!("{}/v1/batches?key={KEY_A}", collector.base),
        &[("content-type", "text/plain;charset=UTF-8"), ("origin", "https://app.a.example")],
        Some(&small_batch(KEY_A, session, 0)),
    );
    assert_eq!(response.status, 200);
    assert_eq!(response.header("access-control-allow-origin"), Some("https://app.a.example"));
}

#[test]
fn cors_preflight_and_headers_follow_each_projects_origins() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path(), CONFIG);
    let http = Http::default();
    let url = format!("{}/v1/batches", collector.base);
    let preflight = |origin: &str, query: &str| {
        http.request(
            "OPTIONS",
            &format!("{url}{query}"),
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type,x-sightline-key"),
            ],
            None,
        )
    };

    let ok = preflight("https://app.a.example", "");
    assert_eq!(ok.status, 204);
    assert_eq!(ok.header("access-control-allow-origin"), Some("https://app.a.example"));
    assert!(ok.header("access-control-allow-methods").unwrap().contains("POST"));
    assert!(ok.header("access-control-allow-headers").unwrap().contains("x-sightline-key"));
    // Project b allows any origin, so without a key any origin passes the preflight…
    assert_eq!(preflight("https://other.example", "").status, 204);
    // …but with project a's key only a's origin does.
    let refused = preflight("https://other.example", &format!("?key={KEY_A}"));
    assert_eq!((refused.status, refused.error_code().as_str()), (403, "origin_not_allowed"));

    // Answers to the page, errors included, carry the headers it needs to read them.
    let session = random_session();
    let post = |key: &str, seq| {
        http.request(
            "POST",
            &url,
            &[("x-sightline-key", key), ("origin", "https://other.example")],
            Some(&small_batch(key, session, seq)),
        )
    };
    let stored = post(KEY_B, 0);
    assert_eq!(stored.status, 200);
    assert_eq!(stored.header("access-control-allow-origin"), Some("https://other.example"));
    post(KEY_B, 1);
    let limited = post(KEY_B, 2);
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("access-control-allow-origin"), Some("https://other.example"));
    assert!(limited.header("access-control-expose-headers").unwrap().contains("retry-after"));
}

#[test]
fn the_read_api_needs_a_token_and_shows_only_its_projects_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path(), CONFIG);
    let http = Http::default();
    let session = random_session();
    assert_eq!(http.post_batch(&collector.base, KEY_A, &small_batch(KEY_A, session, 0)).status, 200);
    let urls = [
        format!("{}/api/sessions", collector.base),
        format!("{}/api/sessions/{session}", collector.base),
        format!("{}/api/sessions/{session}/events", collector.base),
    ];
    for url in &urls {
        let anonymous = http.request("GET", url, &[], None);
        assert_eq!((anonymous.status, anonymous.error_code().as_str()), (401, "unauthenticated"));
        let wrong = http.get(url, "slr_not_a_token");
        assert_eq!((wrong.status, wrong.error_code().as_str()), (401, "bad_credentials"));
        let ingest_key_is_not_a_read_token = http.get(url, KEY_A);
        assert_eq!(ingest_key_is_not_a_read_token.status, 401);
        assert_eq!(http.get(url, TOKEN_A).status, 200);
    }
    // Project b's token sees none of project a's session.
    assert_eq!(http.get(&urls[0], TOKEN_B).json()["sessions"].as_array().unwrap().len(), 0);
    assert_eq!(http.get(&urls[1], TOKEN_B).status, 404);
    assert_eq!(http.get(&urls[2], TOKEN_B).status, 404);
    assert_eq!(http.delete(&urls[1], TOKEN_B).status, 404);
    let anonymous_delete = http.request("DELETE", &urls[1], &[], None);
    assert_eq!(anonymous_delete.status, 401);
    assert_eq!(http.get(&urls[1], TOKEN_A).status, 200, "still there after b's attempts");
    // Even a batch for the same session id under project b stays in project b.
    assert_eq!(http.post_batch(&collector.base, KEY_B, &small_batch(KEY_B, session, 0)).status, 200);
    assert_eq!(http.get(&urls[1], TOKEN_A).json()["batch_count"], 1);
    assert_eq!(http.get(&urls[1], TOKEN_B).json()["batch_count"], 1);
}

/// A share link opens its one session (summary, events, digest, the traces of its requests)
/// and nothing else: not the list, not another session, not another project's; it can't make
/// links or delete; it stops at its expiry, when revoked, and when forged.
#[test]
fn a_share_link_opens_one_session_until_it_expires_or_is_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path(), CONFIG);
    let http = Http::default();
    let (shared, other) = (random_session(), random_session());
    for session in [shared, other] {
        assert_eq!(http.post_batch(&collector.base, KEY_A, &small_batch(KEY_A, session, 0)).status, 200);
    }
    let share = |session: SessionId, body: &str, token: &str| {
        http.request(
            "POST",
            &format!("{}/api/sessions/{session}/share", collector.base),
            &[("authorization", &format!("Bearer {token}")), ("content-type", "application/json")],
            Some(body.as_bytes()),
        )
    };
    let made = share(shared, r#"{"days": 7}"#, TOKEN_A);
    assert_eq!(made.status, 201, "{}", made.json());
    let link = made.json();
    let token = link["token"].as_str().unwrap().to_owned();
    assert!(link["url"].as_str().unwrap().ends_with(&format!("/share/{token}")), "{link}");
    let week = link["expires"].as_u64().unwrap() - sightline_collector::api::now_ms();
    assert!((7 * 86_400_000 - 60_000..=7 * 86_400_000).contains(&week), "{week}");

    let base = &collector.base;
    for url in [
        format!("{base}/api/sessions/{shared}"),
        format!("{base}/api/sessions/{shared}/events"),
        format!("{base}/api/sessions/{shared}/digest"),
    ] {
        assert_eq!(http.get(&url, &token).status, 200, "{url}");
    }
    for url in [
        format!("{base}/api/sessions"),
        format!("{base}/api/sessions/{other}"),
        format!("{base}/api/sessions/{other}/events"),
        format!("{base}/api/sessions/{other}/digest"),
        // A file or a script would outlive the link.
        format!("{base}/api/sessions/{shared}/export"),
        format!("{base}/api/sessions/{shared}/repro"),
    ] {
        let refused = http.get(&url, &token);
        assert_eq!((refused.status, refused.error_code().as_str()), (403, "share_link_scope"), "{url}");
    }
    assert_eq!(http.delete(&format!("{base}/api/sessions/{shared}"), &token).status, 403);
    assert_eq!(share(shared, "{}", &token).status, 403, "a link makes no links");
    assert_eq!(http.get(&format!("{base}/api/traces/4bf92f3577b34da6a3ce929d0e0e4736"), &token).status, 404);
    // Project b's token can't share project a's session.
    assert_eq!(share(shared, "{}", TOKEN_B).status, 404);
    // Bad requests are refused with a reason.
    for body in [
        r#"{"days": 1e-9}"#,
        r#"{"days": 91}"#,
        r#"{"days": -1}"#,
        r#"{"seconds": 0}"#,
        r#"{"days": 1, "seconds": 1}"#,
        "{",
        r#"{"weeks": 1}"#,
    ] {
        let refused = share(shared, body, TOKEN_A);
        assert_eq!(refused.status, 400, "{body}: {}", refused.json());
    }

    // Forged: another session in the same token, or a later expiry.
    let forged = token.replacen(&shared.to_string(), &other.to_string(), 1);
    assert_eq!(http.get(&format!("{base}/api/sessions/{other}"), &forged).status, 401);
    // Expired.
    let brief = share(shared, r#"{"seconds": 1}"#, TOKEN_A).json()["token"].as_str().unwrap().to_owned();
    assert_eq!(http.get(&format!("{base}/api/sessions/{shared}"), &brief).status, 200);
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    let expired = http.get(&format!("{base}/api/sessions/{shared}"), &brief);
    assert_eq!(expired.status, 401);
    assert!(expired.json()["message"].as_str().unwrap().contains("expired"), "{}", expired.json());
    // Revoked, also across a restart.
    let id = link["id"].as_str().unwrap();
    assert_eq!(http.delete(&format!("{base}/api/shares/{id}"), &token).status, 403, "not by the link itself");
    assert_eq!(http.delete(&format!("{base}/api/shares/{id}"), TOKEN_B).status, 200, "b revokes its own ids only");
    assert_eq!(http.get(&format!("{base}/api/sessions/{shared}"), &token).status, 200, "still open");
    assert_eq!(http.delete(&format!("{base}/api/shares/{id}"), TOKEN_A).status, 200);
    let revoked = http.get(&format!("{base}/api/sessions/{shared}"), &token);
    assert_eq!(revoked.status, 401);
    assert!(revoked.json()["message"].as_str().unwrap().contains("revoked"));
    drop(collector);
    let collector = start(dir.path(), CONFIG);
    assert_eq!(http.get(&format!("{}/api/sessions/{shared}", collector.base), &token).status, 401);
    let fresh = http.request(
        "POST",
        &format!("{}/api/sessions/{shared}/share", collector.base),
        &[("authorization", &format!("Bearer {TOKEN_A}"))],
        None,
    );
    let fresh = fresh.json()["token"].as_str().unwrap().to_owned();
    assert_eq!(
        http.get(&format!("{}/api/sessions/{shared}", collector.base), &fresh).status,
        200,
        "the signing key is kept"
    );
}

fn assert_gone(data: &Path, project: u32, session: SessionId, user: &str) {
    let store = SledStore::open(data).unwrap();
    assert!(store.summary(project, session).unwrap().is_none());
    assert_eq!(store.batches(project, session).count(), 0);
    assert!(!store.sessions_of_user(project, user).unwrap().contains(&session));
    assert!(store.listed(project, None).map(Result::unwrap).all(|l| l.session != session));
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736".parse().unwrap();
    assert!(store.trace_hits(project, trace).unwrap().iter().all(|hit| hit.session != session));
}

#[test]
fn deleting_a_session_or_a_user_removes_their_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut collector = start(dir.path(), CONFIG);
    let http = Http::default();
    let (doomed, kept, janes_other) = (random_session(), random_session(), random_session());
    for session in [doomed, kept, janes_other] {
        for batch in sample_session(KEY_A, session) {
            assert_eq!(http.post_batch(&collector.base, KEY_A, &batch).status, 200);
        }
    }
    let session_url = |s: SessionId| format!("{}/api/sessions/{s}", collector.base);

    let by_trace = |s: SessionId| {
        let page = http
            .get(&format!("{}/api/sessions?trace=4bf92f3577b34da6a3ce929d0e0e4736", collector.base), TOKEN_A)
            .json();
        page["moments"].as_array().is_some_and(|m| m.iter().any(|m| m["session"] == s.to_string()))
    };
    assert!(by_trace(doomed));
    let deleted = http.delete(&session_url(doomed), TOKEN_A);
    assert_eq!((deleted.status, deleted.json()["deleted"].as_u64()), (200, Some(1)));
    assert_eq!(http.get(&session_url(doomed), TOKEN_A).status, 404);
    assert_eq!(http.get(&format!("{}/events", session_url(doomed)), TOKEN_A).status, 404);
    assert_eq!(http.delete(&session_url(doomed), TOKEN_A).status, 404);
    assert!(!by_trace(doomed) && by_trace(kept));
    // A retry of one of its batches arriving late is acknowledged but not stored again.
    let late = http.post_batch(&collector.base, KEY_A, &sample_session(KEY_A, doomed)[2]);
    assert_eq!(late.json()["result"], "dropped");
    let new_batch = batch_bytes(KEY_A, doomed, 1, 0, vec![]);
    assert_eq!(http.post_batch(&collector.base, KEY_A, &new_batch).json()["result"], "dropped");
    assert_eq!(http.get(&session_url(doomed), TOKEN_A).status, 404);

    // The GDPR request: every session of the user, by email here (the user id works too).
    let by_user = http.delete(&format!("{}/api/users/Jane@Acme.com", collector.base), TOKEN_A);
    assert_eq!(by_user.status, 200);
    assert_eq!(by_user.json()["deleted"], 2);
    for s in [kept, janes_other] {
        assert_eq!(http.get(&session_url(s), TOKEN_A).status, 404);
    }
    let search = http.get(&format!("{}/api/sessions?user=u_1842", collector.base), TOKEN_A).json();
    assert_eq!(search["sessions"].as_array().unwrap().len(), 0);

    collector.stop();
    for s in [doomed, kept, janes_other] {
        assert_gone(&dir.path().join("data"), 1, s, "u_1842");
    }
}

#[test]
fn the_retention_sweep_removes_expired_sessions_only() {
    let dir = tempfile::tempdir().unwrap();
    let config = CONFIG.replacen(
        "allowed_origins = [\"https://app.a.example\"]",
        "allowed_origins = [\"https://app.a.example\"]\nretention_days = 0.00002",
        1,
    );
    let mut collector = start(dir.path(), &format!("retention_sweep_seconds = 1\n{config}"));
    let http = Http::default();
    let (short_lived, long_lived) = (random_session(), random_session());
    assert_eq!(http.post_batch(&collector.base, KEY_A, &small_batch(KEY_A, short_lived, 0)).status, 200);
    assert_eq!(http.post_batch(&collector.base, KEY_B, &small_batch(KEY_B, long_lived, 0)).status, 200);
    assert_eq!(http.get(&format!("{}/api/sessions/{short_lived}", collector.base), TOKEN_A).status, 200);

    // 0.00002 days is 1.7 s; the sweep runs every second.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while http.get(&format!("{}/api/sessions/{short_lived}", collector.base), TOKEN_A).status != 404 {
        assert!(std::time::Instant::now() < deadline, "the session outlived its retention");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(http.get(&format!("{}/api/sessions/{long_lived}", collector.base), TOKEN_B).status, 200);
    collector.stop();
    assert_gone(&dir.path().join("data"), 1, short_lived, "");
}

#[test]
fn filters_and_cursor_pagination() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path(), CONFIG);
    let http = Http::default();
    let base = &collector.base;
    let quiet: Vec<SessionId> = (0..4).map(|_| random_session()).collect();
    for (i, session) in quiet.iter().enumerate() {
        let mut page_start = fixtures::page_start();
        page_start.session = *session;
        page_start.project = KEY_A.into();
        let sightline_protocol::EventData::Meta(meta) = &mut page_start.events[0].data else { unreachable!() };
        meta.url = format!("https://app.example.com/quiet/{i}");
        let bytes = sightline_protocol::encode_batch(&page_start).unwrap();
        assert_eq!(http.post_batch(base, KEY_A, &bytes).status, 200);
        std::thread::sleep(std::time::Duration::from_millis(3));
    }
    let troubled = random_session();
    for batch in sample_session(KEY_A, troubled) {
        assert_eq!(http.post_batch(base, KEY_A, &batch).status, 200);
    }
    let ids = |query: &str| -> Vec<String> {
        let page = http.get(&format!("{base}/api/sessions{query}"), TOKEN_A);
        assert_eq!(page.status, 200, "{query}: {}", String::from_utf8_lossy(&page.body));
        page.json()["sessions"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect()
    };
    let t = troubled.to_string();
    assert_eq!(ids("?has_errors=true"), vec![t.clone()]);
    assert_eq!(ids("?has_failed_requests=true"), vec![t.clone()]);
    assert_eq!(ids("?user=u_1842"), vec![t.clone()]);
    assert_eq!(ids("?user=JANE@acme.com"), vec![t.clone()]);
    assert_eq!(ids("?user=someone_else"), Vec::<String>::new());
    assert_eq!(ids("?q=ENTERPRISE"), vec![t.clone()]);
    assert_eq!(ids("?url=/invoices/42"), vec![t.clone()]);
    assert_eq!(ids("?url=/quiet/2"), vec![quiet[2].to_string()]);

    let by_trace = http.get(&format!("{base}/api/sessions?trace=4BF92F3577B34DA6A3CE929D0E0E4736"), TOKEN_A).json();
    assert_eq!(by_trace["sessions"][0]["id"], t);
    let other_user =
        http.get(&format!("{base}/api/sessions?trace=4bf92f3577b34da6a3ce929d0e0e4736&user=bob"), TOKEN_A).json();
    assert_eq!(other_user["sessions"].as_array().unwrap().len(), 0, "every filter applies to a trace search");
    assert!(other_user.get("moments").is_none(), "moments only of sessions returned");
    let moment = &by_trace["moments"][0];
    assert_eq!(moment["session"], t);
    assert_eq!(moment["seq"], 2);
    let facts = fixtures::facts();
    assert_eq!(moment["time"], facts.start + 250 - 184, "the request's start: its end minus its duration");

    // Newest first, two at a time, every session exactly once.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = http.get(&format!("{base}/api/sessions?limit=2{cursor}"), TOKEN_A).json();
        seen.extend(page["sessions"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    let mut expected: Vec<String> = quiet.iter().map(ToString::to_string).collect();
    expected.push(t.clone());
    expected.reverse();
    assert_eq!(seen, expected);

    // Time range: from the third quiet session on.
    let third = http.get(&format!("{base}/api/sessions/{}", quiet[2]), TOKEN_A).json();
    let from = third["first_seen"].as_u64().unwrap();
    let in_range = ids(&format!("?from={from}"));
    assert_eq!(in_range, vec![t.clone(), quiet[3].to_string(), quiet[2].to_string()]);
    let before = ids(&format!("?to={from}"));
    assert_eq!(before, vec![quiet[1].to_string(), quiet[0].to_string()]);
}

#[test]
fn first_start_creates_a_project_and_shows_its_secrets_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut collector = start(dir.path(), "");
    let banner = collector.banner.join("\n");
    let find = |label: &str| {
        banner
            .lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .unwrap_or_else(|| panic!("no {label} in {banner}"))
            .to_owned()
    };
    let key = find("ingest key: ");
    let token = find("read token: ");
    assert!(key.starts_with("slk_") && token.starts_with("slr_"));

    // The project takes sealed batches only, as the SDK sends them.
    let http = Http::default();
    let writer = WriterSecret(random_session().0);
    let session = writer.session_id();
    let sealed = |seq| seal(&writer, &small_batch(&key, session, seq));
    assert_eq!(http.post_batch(&collector.base, &key, &sealed(0)).status, 200);
    collector.stop();
    collector.restart();
    assert!(!collector.banner.join("\n").contains(&key), "secrets are printed only on creation");
    assert_eq!(http.get(&format!("{}/api/sessions/{session}", collector.base), &token).status, 200);
    assert_eq!(http.post_batch(&collector.base, &key, &sealed(1)).status, 200);
}

/// A session's id is derived from its writer's secret: a batch sealed with any other secret is
/// refused, the session's very first included, so nobody can claim a session its writer has
/// yet to start; a project takes unsealed batches only when told to.
#[test]
fn only_a_sessions_writer_writes_it_from_its_first_batch_on() {
    let dir = tempfile::tempdir().unwrap();
    let config = "[[projects]]\nname = \"sealed\"\ningest_key = \"slk_sealed\"\nread_tokens = [\"slr_sealed\"]\n\n\
                  [[projects]]\nname = \"older\"\ningest_key = \"slk_older\"\naccept_unsealed = true\n";
    let collector = start(dir.path(), config);
    let http = Http::default();
    let (key, token) = ("slk_sealed", "slr_sealed");
    let writer = WriterSecret(random_session().0);
    let session = writer.session_id();
    let attacker = WriterSecret(random_session().0);
    let summary = |session: SessionId| http.get(&format!("{}/api/sessions/{session}", collector.base), token);
    let refused = |bytes: &[u8], code: &str| {
        let response = http.post_batch(&collector.base, key, bytes);
        assert_eq!((response.status, response.error_code()), (403, code.to_owned()));
    };

    // Unsealed, as an SDK before protocol 5 sends: refused by default, nothing stored.
    let unsealed = SessionId([0x42; 16]);
    refused(&small_batch(key, unsealed, 0), "seal_required");
    assert_eq!(summary(unsealed).status, 404);
    // The writer's id, claimed first by someone else: refused, nothing stored.
    refused(&seal(&attacker, &small_batch(key, session, 0)), "not_session_writer");
    assert_eq!(summary(session).status, 404);
    // The writer: stored, and a retry is a duplicate.
    let first = seal(&writer, &small_batch(key, session, 0));
    assert_eq!(http.post_batch(&collector.base, key, &first).json()["result"], "stored");
    assert_eq!(http.post_batch(&collector.base, key, &first).json()["result"], "duplicate");
    // Someone else, on later numbers, sealed or not: refused.
    refused(&seal(&attacker, &small_batch(key, session, 1)), "not_session_writer");
    refused(&small_batch(key, session, 1), "not_session_writer");
    // A project that takes unsealed batches from older SDKs takes them for their sessions, never
    // for a sealed session's id, which only its writer writes, sealed.
    let older = |session, seq| http.post_batch(&collector.base, "slk_older", &small_batch("slk_older", session, seq));
    assert_eq!(older(unsealed, 0).status, 200);
    let claimed = WriterSecret(random_session().0).session_id();
    let answer = older(claimed, 0);
    assert_eq!((answer.status, answer.error_code()), (403, "not_session_writer".to_owned()));
    assert_eq!(http.post_batch(&collector.base, key, &seal(&writer, &small_batch(key, session, 1))).status, 200);
    assert_eq!(summary(session).json()["batch_count"], 2);
}

#[test]
fn health_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path(), CONFIG);
    let http = Http::default();
    let health = http.request("GET", &format!("{}/healthz", collector.base), &[], None);
    assert_eq!((health.status, health.json()["status"].as_str()), (200, Some("ok")));
    let session = random_session();
    let payload = encode_payload(&fixtures::facts()).unwrap();
    assert!(!payload.is_empty());
    for seq in 0..3 {
        http.post_batch(&collector.base, KEY_A, &small_batch(KEY_A, session, seq));
    }
    let metrics = http.request("GET", &format!("{}/metrics", collector.base), &[], None);
    assert!(metrics.header("content-type").unwrap().starts_with("text/plain"));
    let text = String::from_utf8(metrics.body).unwrap();
    for expected in [
        "sightline_batches_stored_total 3",
        "sightline_http_requests_total{route=\"/v1/batches\",status=\"200\"} 3",
        "sightline_http_requests_total{route=\"/healthz\",status=\"200\"} 1",
        "sightline_flush_seconds_bucket{le=\"+Inf\"}",
        "sightline_events_stored_total 3",
        "sightline_store_bytes ",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

#[test]
fn a_geoip_database_places_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("city.mmdb");
    std::fs::write(&database, sightline_e2e::mmdb::city_database([127, 0, 0, 0], 8, "FR", "Paris")).unwrap();
    let config = format!("geoip_db = {:?}\n{CONFIG}", database.display().to_string());
    let collector = start(dir.path(), &config);
    let http = Http::default();
    let session = random_session();
    assert_eq!(http.post_batch(&collector.base, KEY_A, &small_batch(KEY_A, session, 0)).status, 200);
    let summary = http.get(&format!("{}/api/sessions/{session}", collector.base), TOKEN_A).json();
    assert_eq!(summary["geo"]["country"], "FR");
    assert_eq!(summary["geo"]["city"], "Paris");

    // Without a database, no location is made up.
    std::fs::create_dir(dir.path().join("plain")).unwrap();
    let plain = start(&dir.path().join("plain"), CONFIG);
    let other = random_session();
    assert_eq!(http.post_batch(&plain.base, KEY_A, &small_batch(KEY_A, other, 0)).status, 200);
    let summary = http.get(&format!("{}/api/sessions/{other}", plain.base), TOKEN_A).json();
    assert!(summary["geo"]["country"].is_null());
}

#[test]
fn metrics_need_the_metrics_token_when_one_is_configured() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path(), &format!("metrics_token = \"slm_metrics_token\"\n{CONFIG}"));
    let http = Http::default();
    let url = format!("{}/metrics", collector.base);
    let without = http.request("GET", &url, &[], None);
    assert_eq!((without.status, without.error_code()), (401, "unauthenticated".to_owned()));
    assert_eq!(http.get(&url, "slm_wrong_token").status, 401);
    assert_eq!(http.get(&url, TOKEN_A).status, 401, "a project's read token is not enough");
    let with = http.get(&url, "slm_metrics_token");
    assert_eq!(with.status, 200);
    assert!(String::from_utf8_lossy(&with.body).contains("sightline_batches_stored_total"));
}

#[test]
fn digest_links_follow_the_host_not_a_forwarded_one() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path(), CONFIG);
    let http = Http::default();
    let session = random_session();
    assert_eq!(http.post_batch(&collector.base, KEY_A, &small_batch(KEY_A, session, 0)).status, 200);
    let url = format!("{}/api/sessions/{session}/digest", collector.base);
    let bearer = format!("Bearer {TOKEN_A}");
    let digest = http.request("GET", &url, &[("authorization", &bearer), ("x-forwarded-host", "evil.example")], None);
    assert_eq!(digest.status, 200);
    let link = digest.json()["link"].as_str().unwrap_or_default().to_owned();
    assert!(link.starts_with(&format!("{}/sessions/", collector.base)), "{link}");

    let configured = tempfile::tempdir().unwrap();
    let behind_proxy = start(configured.path(), &format!("public_url = \"https://support.example.com/\"\n{CONFIG}"));
    assert_eq!(http.post_batch(&behind_proxy.base, KEY_A, &small_batch(KEY_A, session, 0)).status, 200);
    let digest = http.get(&format!("{}/api/sessions/{session}/digest", behind_proxy.base), TOKEN_A).json();
    assert_eq!(digest["link"], format!("https://support.example.com/sessions/{session}"));
}

#[test]
fn garbage_sent_with_the_page_key_spends_its_sources_budget_not_the_projects() {
    let config = |source: u32| {
        format!(
            "[limits]\nsource_rate_limit = {source}\n\n[[projects]]\nname = \"a\"\ningest_key = \"{KEY_A}\"\naccept_unsealed = true\n\
             read_tokens = [\"{TOKEN_A}\"]\nrate_limit = 20\n"
        )
    };
    let http = Http::default();
    let garbage = vec![0x5a; 300];
    // The project allows 20 batches a second: 100 garbage bodies, refused, spend none of it.
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path(), &config(0));
    for _ in 0..100 {
        assert_eq!(http.post_batch(&collector.base, KEY_A, &garbage).status, 400);
    }
    let session = random_session();
    for seq in 0..10 {
        let response = http.post_batch(&collector.base, KEY_A, &small_batch(KEY_A, session, seq));
        assert_eq!(response.status, 200, "healthy batch {seq} after the flood");
    }
    // Each source has a budget of its own, charged before the body is read.
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path(), &config(5));
    let statuses: Vec<u16> = (0..8).map(|_| http.post_batch(&collector.base, KEY_A, &garbage).status).collect();
    assert_eq!(statuses[..5], [400; 5]);
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
}

#[test]
fn a_helpdesk_finds_a_users_recent_problems_in_one_call() {
    use sightline_protocol::{Identify, Value};
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path(), CONFIG);
    let http = Http::default();
    // The sample session: Jane's, with a failed request and an error.
    let troubled = random_session();
    for batch in sample_session(KEY_A, troubled) {
        assert_eq!(http.post_batch(&collector.base, KEY_A, &batch).status, 200);
    }
    // Another session of hers where nothing went wrong, and one of another user's that did.
    let identified = |user: &str, email: &str| Event {
        dt: 0,
        data: EventData::Identify(Identify {
            user_id: user.into(),
            traits: Value::Map(vec![("email".into(), Value::Str(email.into()))]),
        }),
    };
    let quiet = random_session();
    let batch = batch_bytes(KEY_A, quiet, 0, 0, vec![identified("u_1842", "jane@acme.com")]);
    assert_eq!(http.post_batch(&collector.base, KEY_A, &batch).status, 200);
    let someone_else = random_session();
    for batch in sample_session(KEY_A, someone_else) {
        let mut decoded = decode_batch(&batch, &Limits::default()).unwrap();
        for event in &mut decoded.events {
            if let EventData::Identify(identify) = &mut event.data {
                *identify = Identify { user_id: "u_7".into(), traits: Value::Map(Vec::new()) };
            }
        }
        assert_eq!(http.post_batch(&collector.base, KEY_A, &encode_batch(&decoded).unwrap()).status, 200);
    }

    // By email, in any case; once analysed, the digest's headline.
    let url = format!("{}/api/users/Jane@Acme.com/problems", collector.base);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let answer = loop {
        let answer = http.get(&url, TOKEN_A);
        assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
        let answer = answer.json();
        if answer["sessions"][0]["headline"].as_str().is_some_and(|h| h.contains(" after the user ")) {
            break answer;
        }
        assert!(std::time::Instant::now() < deadline, "never analysed: {answer:#}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let sessions = answer["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "only her session with a problem: {answer:#}");
    let found = &sessions[0];
    assert_eq!(found["session"], troubled.to_string());
    assert!(found["headline"].as_str().unwrap().starts_with("POST /api/invoices/42/send failed with 500"), "{found}");
    assert_eq!(found["failed_requests"], 2, "a 500 and a request with no answer");
    assert_eq!(found["link"], format!("{}/sessions/{troubled}", collector.base));
    // Its links work: the digest with the read token, the share link with nothing else.
    let digest = http.get(found["digest"].as_str().unwrap(), TOKEN_A);
    assert_eq!(digest.status, 200);
    assert!(String::from_utf8_lossy(&digest.body).contains("Failed request"));
    let share = found["share"].as_str().unwrap();
    let token = share.rsplit('/').next().unwrap();
    let summary = http.get(&format!("{}/api/sessions/{troubled}", collector.base), token);
    assert_eq!(summary.status, 200, "the share link opens that session");
    // Asked again (a sidebar, each time the ticket is looked at): the same link, revoked as one.
    let again = http.get(&url, TOKEN_A).json();
    assert_eq!(again["sessions"][0]["share"], found["share"]);
    assert_eq!(answer["truncated"], false);

    // Bad asks get a reason; another project's token sees nothing of hers.
    assert_eq!(http.get(&format!("{url}?days=0"), TOKEN_A).error_code(), "bad_query");
    assert_eq!(http.get(&format!("{url}?limit=51"), TOKEN_A).error_code(), "bad_query");
    assert_eq!(http.get(&format!("{url}?other=1"), TOKEN_A).error_code(), "bad_query");
    assert_eq!(http.get(&url, TOKEN_B).json()["sessions"], serde_json::json!([]));
    assert_eq!(http.get(&url, "").status, 401);
    // A share token is no key to her other sessions.
    assert_eq!(http.get(&url, token).status, 403);
    let revoke = format!("{}/api/shares/{}", collector.base, found["share_id"].as_str().unwrap());
    assert_eq!(http.delete(&revoke, TOKEN_A).status, 200);
    assert_eq!(http.get(&format!("{}/api/sessions/{troubled}", collector.base), token).status, 401);
    // An id the path had to encode is looked up as itself.
    let encoded = format!("{}/api/users/jane%2Bvip%40acme.com/problems", collector.base);
    assert_eq!(http.get(&encoded, TOKEN_A).json()["user"], "jane+vip@acme.com");
}

#[test]
fn a_user_with_many_sessions_is_erased_in_slices_and_no_one_else() {
    use sightline_protocol::{Identify, Value};
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path(), CONFIG);
    let http = Http::default();
    let identified = |user: &str| {
        vec![Event {
            dt: 0,
            data: EventData::Identify(Identify { user_id: user.into(), traits: Value::Map(Vec::new()) }),
        }]
    };
    // More sessions than one slice of the writer's (64) holds, and a user whose id differs only
    // in case: another person.
    let sessions: Vec<SessionId> = (0..150).map(|_| random_session()).collect();
    for session in &sessions {
        let batch = batch_bytes(KEY_A, *session, 0, 0, identified("JSmith"));
        assert_eq!(http.post_batch(&collector.base, KEY_A, &batch).status, 200);
    }
    let other = random_session();
    assert_eq!(
        http.post_batch(&collector.base, KEY_A, &batch_bytes(KEY_A, other, 0, 0, identified("jsmith"))).status,
        200
    );

    let blank = http.delete(&format!("{}/api/users/%20", collector.base), TOKEN_A);
    assert_eq!((blank.status, blank.error_code()), (400, "bad_user".to_owned()), "a blank id erases no one");
    let erased = http.delete(&format!("{}/api/users/JSmith", collector.base), TOKEN_A);
    assert_eq!((erased.status, erased.json()["deleted"].as_u64()), (200, Some(150)));
    let left = |user: &str| {
        let page = http.get(&format!("{}/api/sessions?user={user}&limit=200", collector.base), TOKEN_A).json();
        page["sessions"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(left("JSmith"), Vec::<String>::new());
    assert_eq!(left("jsmith"), vec![other.to_string()], "user id jsmith is someone else");
}

#[test]
fn the_page_at_a_moment_is_told_in_words_for_one_moment_named_once() {
    use sightline_protocol::{Element, Namespace, Node, NodeKind, PageMeta, Pointer, PointerKind, Snapshot};
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path(), CONFIG);
    let http = Http::default();
    let session = random_session();
    let node = |id, parent, kind| Node { id, parent, next: 0, kind };
    let element = |tag: &str| NodeKind::Element(Element { tag: tag.into(), attrs: vec![], ns: Namespace::Html });
    let events = vec![
        Event {
            dt: 0,
            data: EventData::Meta(Box::new(PageMeta {
                url: "https://app.a.example/billing".into(),
                title: "Billing".into(),
                ..Default::default()
            })),
        },
        Event {
            dt: 1,
            data: EventData::Snapshot(Snapshot {
                nodes: vec![
                    node(1, 0, NodeKind::Document(Default::default())),
                    node(2, 1, element("html")),
                    node(3, 2, element("body")),
                    node(4, 3, element("button")),
                    node(5, 4, NodeKind::Text("Pay now".into())),
                ],
            }),
        },
        Event { dt: 100, data: EventData::Pointer(Pointer { kind: PointerKind::Click, target: 4, x: 5, y: 6 }) },
    ];
    let batch = batch_bytes(KEY_A, session, 0, 0, events);
    assert_eq!(http.post_batch(&collector.base, KEY_A, &batch).status, 200);

    let page =
        |query: &str, token: &str| http.get(&format!("{}/api/sessions/{session}/page?{query}", collector.base), token);
    let told = page("offset=500", TOKEN_A);
    assert_eq!(told.status, 200);
    let view = &told.json()["page"];
    assert_eq!(view["url"], "https://app.a.example/billing");
    assert_eq!(view["title"], "Billing");
    assert_eq!(view["text"], "Pay now");
    assert_eq!(view["last_press"]["element"], "the \"Pay now\" button (button)");
    // The same moment by its time; before the click, no press.
    let summary = http.get(&format!("{}/api/sessions/{session}", collector.base), TOKEN_A).json();
    let start = summary["start"].as_u64().expect("the session's start");
    assert_eq!(page(&format!("at={}", start + 500), TOKEN_A).json()["page"], *view);
    assert_eq!(page(&format!("at={}", start + 50), TOKEN_A).json()["page"]["last_press"], serde_json::Value::Null);
    for query in ["", "at=1&offset=1", "at=soon", "at=1000"] {
        let refused = page(query, TOKEN_A);
        assert_eq!(refused.status, 400, "{query}");
        assert_eq!(refused.error_code(), "bad_query");
    }
    assert_eq!(page("offset=1", TOKEN_B).status, 404, "another project's token finds no such session");
}

#[test]
fn notes_are_signed_by_their_token_in_the_digest_and_go_with_their_session() {
    let config = "[[projects]]\nname = \"notes\"\ningest_key = \"slk_notes_key\"\naccept_unsealed = true\n\
                  read_tokens = [{ token = \"slr_ana_token\", name = \"Ana (L3)\" }, \"slr_plain_token\"]\n";
    let dir = tempfile::tempdir().unwrap();
    let mut collector = start(dir.path(), config);
    let http = Http::default();
    let session = random_session();
    assert_eq!(
        http.post_batch(&collector.base, "slk_notes_key", &small_batch("slk_notes_key", session, 0)).status,
        200
    );
    let notes_url = format!("{}/api/sessions/{session}/notes", collector.base);
    let post = |token: &str, body: serde_json::Value| {
        http.request(
            "POST",
            &notes_url,
            &[("authorization", &format!("Bearer {token}")), ("content-type", "application/json")],
            Some(body.to_string().as_bytes()),
        )
    };
    let start = http.get(&format!("{}/api/sessions/{session}", collector.base), "slr_ana_token").json()["start"]
        .as_u64()
        .unwrap();
    let later = post("slr_plain_token", serde_json::json!({ "time": start + 900, "text": "Second look: same here" }));
    assert_eq!(later.status, 201, "{}", String::from_utf8_lossy(&later.body));
    assert_eq!(later.json()["author"], "read token 2", "an unnamed token by its place, never by its secret");
    let first =
        post("slr_ana_token", serde_json::json!({ "offset_ms": 5, "text": "Here the PDF button does nothing" }));
    assert_eq!(first.status, 201);
    let first = first.json();
    assert_eq!((first["author"].as_str(), first["time"].as_u64()), (Some("Ana (L3)"), Some(start + 5)));

    let listed = http.get(&notes_url, "slr_ana_token").json();
    let texts: Vec<&str> = listed["notes"].as_array().unwrap().iter().map(|n| n["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["Here the PDF button does nothing", "Second look: same here"], "in the order of their moments");
    let digest = http.get(&format!("{}/api/sessions/{session}/digest", collector.base), "slr_ana_token").json();
    assert_eq!(digest["notes"][0]["author"], "Ana (L3)");
    assert_eq!(digest["notes"][0]["offset_ms"], 5);
    let markdown = String::from_utf8(
        http.get(&format!("{}/api/sessions/{session}/digest?format=md", collector.base), "slr_ana_token").body,
    )
    .unwrap();
    assert!(markdown.contains("## Notes\n\n- 0:00 Ana (L3): Here the PDF button does nothing ([watch]("), "{markdown}");

    // Refused with reasons: no words, too many, no moment or two; a share link can't see them.
    for (body, code) in [
        (serde_json::json!({ "offset_ms": 1, "text": "  " }), "bad_note"),
        (serde_json::json!({ "offset_ms": 1, "text": "x".repeat(2_001) }), "bad_note"),
        (serde_json::json!({ "text": "when?" }), "bad_note"),
        (serde_json::json!({ "time": start, "offset_ms": 1, "text": "both" }), "bad_note"),
        (serde_json::json!({ "offset_ms": 1, "text": "x", "author": "someone else" }), "bad_json"),
    ] {
        let refused = post("slr_ana_token", body.clone());
        assert_eq!((refused.status, refused.error_code()), (400, code.to_owned()), "{body}");
    }
    let shared = http.request(
        "POST",
        &format!("{}/api/sessions/{session}/share", collector.base),
        &[("authorization", "Bearer slr_ana_token")],
        None,
    );
    let share_token = shared.json()["token"].as_str().unwrap().to_owned();
    assert_eq!(http.get(&notes_url, &share_token).status, 403);
    let shared_digest = http.get(&format!("{}/api/sessions/{session}/digest", collector.base), &share_token).json();
    assert_eq!(shared_digest["notes"], serde_json::json!([]), "a share link's digest leaves the team's notes out");
    let exported = http.get(&format!("{}/api/sessions/{session}/export", collector.base), "slr_ana_token");
    assert!(!String::from_utf8_lossy(&exported.body).contains("PDF button"), "so does an exported file");
    assert_eq!(post(&share_token, serde_json::json!({ "offset_ms": 1, "text": "hi" })).status, 403);
    assert_eq!(
        http.get(&format!("{}/api/sessions/{}/notes", collector.base, random_session()), "slr_ana_token").status,
        404
    );

    // Removed one by one, and with their session.
    let note_url = format!("{notes_url}/{}", first["id"].as_str().unwrap());
    assert_eq!(http.delete(&note_url, "slr_ana_token").status, 200);
    assert_eq!(http.delete(&note_url, "slr_ana_token").status, 404);
    assert_eq!(http.delete(&format!("{}/api/sessions/{session}", collector.base), "slr_ana_token").status, 200);
    assert_eq!(post("slr_ana_token", serde_json::json!({ "offset_ms": 1, "text": "late" })).status, 404);
    collector.stop();
    let store = SledStore::open(&dir.path().join("data")).unwrap();
    assert!(store.notes(1, session).unwrap().is_empty(), "the session's notes went with it");
}

#[test]
fn the_audit_log_says_who_read_which_session_and_who_changed_what() {
    let config = "[[projects]]\nname = \"audited\"\ningest_key = \"slk_audit_key\"\naccept_unsealed = true\n\
                  read_tokens = [{ token = \"slr_ana_token\", name = \"Ana (L3)\" }, \"slr_plain_token\"]\n\n\
                  [[projects]]\nname = \"other\"\ningest_key = \"slk_other_key\"\naccept_unsealed = true\nread_tokens = [\"slr_other_token\"]\n";
    let dir = tempfile::tempdir().unwrap();
    let collector = start(dir.path(), config);
    let http = Http::default();
    let session = random_session();
    assert_eq!(
        http.post_batch(&collector.base, "slk_audit_key", &small_batch("slk_audit_key", session, 0)).status,
        200
    );
    let base = format!("{}/api/sessions/{session}", collector.base);
    assert_eq!(http.get(&format!("{base}/events"), "slr_ana_token").status, 200);
    assert_eq!(http.get(&format!("{base}/events?after=0.0"), "slr_ana_token").status, 200, "a live view's next read");
    assert_eq!(http.get(&format!("{base}/digest"), "slr_plain_token").status, 200);
    assert_eq!(
        http.get(&format!("{}/api/sessions/{}/digest", collector.base, random_session()), "slr_ana_token").status,
        404
    );
    let shared = http.request("POST", &format!("{base}/share"), &[("authorization", "Bearer slr_ana_token")], None);
    let share_id = shared.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(http.delete(&base, "slr_plain_token").status, 200);

    let expected = [
        ("read token 2", "delete_session", Some(session.to_string()), None),
        ("Ana (L3)", "share", Some(session.to_string()), Some(share_id)),
        ("read token 2", "digest", Some(session.to_string()), None),
        ("Ana (L3)", "view", Some(session.to_string()), None),
    ];
    let log = (0..100)
        .map(|_| {
            std::thread::sleep(std::time::Duration::from_millis(50));
            http.get(&format!("{}/api/audit", collector.base), "slr_ana_token").json()
        })
        .find(|log| log["entries"].as_array().is_some_and(|e| e.len() >= expected.len()))
        .expect("the entries are written");
    let mut entries: Vec<(&str, &str, Option<String>, Option<String>)> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let text = |name: &str| e[name].as_str().map(str::to_owned);
            (e["actor"].as_str().unwrap(), e["action"].as_str().unwrap(), text("session"), text("subject"))
        })
        .collect();
    let times: Vec<u64> = log["entries"].as_array().unwrap().iter().map(|e| e["time"].as_u64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first: {times:?}");
    // Two requests may fall in one millisecond: compared as sets.
    let mut expected = expected.to_vec();
    entries.sort();
    expected.sort();
    assert_eq!(entries, expected, "a later read of a live view and a 404 are not views");
    let older = entries.len();
    let oldest = log["entries"][older - 1]["time"].as_u64().unwrap();
    let page = http.get(&format!("{}/api/audit?before={}", collector.base, oldest), "slr_ana_token").json();
    assert_eq!(page["entries"].as_array().unwrap().len(), 0, "nothing before the first");
    let other = http.get(&format!("{}/api/audit", collector.base), "slr_other_token").json();
    assert_eq!(other["entries"].as_array().unwrap().len(), 0, "each project's log is its own");
}

#[test]
fn a_project_over_its_quota_is_refused_until_room_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let first = small_batch("slk_quota", random_session(), 0);
    // Room for two batches of this size, not three.
    let quota = first.len() * 5 / 2;
    let config = format!(
        "[[projects]]\nname = \"quota\"\ningest_key = \"slk_quota\"\nread_tokens = [\"slr_quota\"]\n\
         accept_unsealed = true\nmax_stored_bytes = {quota}\n\n\
         [[projects]]\nname = \"other\"\ningest_key = \"slk_other\"\naccept_unsealed = true\n"
    );
    let mut collector = start(dir.path(), &config);
    let http = Http::default();
    let base = collector.base.clone();
    let session = random_session();
    let batches: Vec<Vec<u8>> = (0..3).map(|seq| small_batch("slk_quota", session, seq)).collect();
    assert_eq!(batches[0].len(), first.len());
    assert_eq!(http.post_batch(&base, "slk_quota", &batches[0]).status, 200);
    assert_eq!(http.post_batch(&base, "slk_quota", &batches[1]).status, 200);
    let refused = http.post_batch(&base, "slk_quota", &batches[2]);
    assert_eq!((refused.status, refused.error_code().as_str()), (429, "quota_exceeded"));
    assert_eq!(refused.header("retry-after"), Some("3600"));
    // A retry of what is stored is still a duplicate; a new session is refused too; another
    // project is not concerned.
    let retry = http.post_batch(&base, "slk_quota", &batches[1]);
    assert_eq!((retry.status, retry.json()["result"].as_str()), (200, Some("duplicate")));
    assert_eq!(http.post_batch(&base, "slk_quota", &small_batch("slk_quota", random_session(), 0)).status, 429);
    assert_eq!(http.post_batch(&base, "slk_other", &small_batch("slk_other", random_session(), 0)).status, 200);
    let metrics = http.request("GET", &format!("{base}/metrics"), &[], None);
    assert!(String::from_utf8_lossy(&metrics.body).contains("sightline_rejects_total{reason=\"quota_exceeded\"} 2"));

    // What is stored is counted across a restart; deleting the session makes room.
    collector.stop();
    collector.restart();
    let base = collector.base.clone();
    assert_eq!(http.post_batch(&base, "slk_quota", &batches[2]).status, 429);
    assert_eq!(http.delete(&format!("{base}/api/sessions/{session}"), "slr_quota").status, 200);
    assert_eq!(http.post_batch(&base, "slk_quota", &batches[2]).status, 200, "the session is gone: dropped");
    assert_eq!(http.post_batch(&base, "slk_quota", &small_batch("slk_quota", random_session(), 0)).status, 200);
}
