//! The collector on a disk that fills up: a small tmpfs in a mount namespace of its own
//! (`unshare`: root, or unprivileged user namespaces), filled by its own ingest and by another process. Writes
//! are refused with `507` and `Retry-After` before the disk is full, nothing acknowledged is
//! lost, reads go on, the collector starts on a full disk, and batches are taken again once
//! space is back, without a restart.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use sightline_e2e::{batch_bytes, collector_bin, project_config, random_session, split_frames, Collector, Http};
use sightline_protocol::{Console, ConsoleLevel, Event, EventData, SessionId};

const KEY: &str = "slk_disk_test";
const TOKEN: &str = "slr_disk_test";
const MIB: u64 = 1 << 20;

/// A tmpfs of a given size, mounted in a mount namespace kept alive by a sleeping process.
struct SmallDisk {
    holder: Child,
    dir: PathBuf,
}

impl SmallDisk {
    fn mount(dir: &Path, mib: u64) -> SmallDisk {
        std::fs::create_dir_all(dir).unwrap();
        let script =
            format!("mount -t tmpfs -o size={mib}m tmpfs '{}' && echo mounted && exec sleep 600", dir.display());
        let mut holder = Command::new("unshare")
            .args(["--user", "--map-root-user", "--mount", "sh", "-c", &script])
            .stdout(Stdio::piped())
            .spawn()
            .expect("unshare");
        let stdout = holder.stdout.take().unwrap();
        // Made first, so that the holder is killed whatever happens next.
        let disk = SmallDisk { holder, dir: dir.to_owned() };
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "mounted", "the tmpfs was not mounted (user namespaces refused?)");
        disk
    }

    /// The command that runs what follows it inside the namespace.
    fn enter(&self) -> Vec<String> {
        let pid = self.holder.id().to_string();
        ["nsenter", "-t", &pid, "--user", "--mount", "--preserve-credentials"].map(String::from).to_vec()
    }

    fn run(&self, script: &str) -> Output {
        let enter = self.enter();
        Command::new(&enter[0]).args(&enter[1..]).args(["sh", "-c", script]).output().expect("nsenter")
    }

    fn has(&self, name: &str) -> bool {
        self.run(&format!("test -e '{}/{name}'", self.dir.display())).status.success()
    }

    /// Writes zeros into `name` until the disk is full, or `mib` of them.
    fn fill(&self, name: &str, mib: Option<u64>) {
        let count = mib.map(|m| format!("count={m}")).unwrap_or_default();
        self.run(&format!("dd if=/dev/zero of='{}/{name}' bs=1M {count} 2>/dev/null; true", self.dir.display()));
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// A batch of about 300 KiB that LZ4 can't shrink much (random text).
fn bulky_batch(session: SessionId, seq: u32) -> Vec<u8> {
    let args = (0..40)
        .map(|_| {
            let mut bytes = vec![0u8; 6 * 1024];
            getrandom::fill(&mut bytes).unwrap();
            base64::engine::general_purpose::STANDARD.encode(bytes)
        })
        .collect();
    let console = Console { level: ConsoleLevel::Log, args, stack: None };
    batch_bytes(KEY, session, 0, seq, vec![Event { dt: 1, data: EventData::Console(console) }])
}

fn json(response: &sightline_e2e::Response) -> serde_json::Value {
    serde_json::from_slice(&response.body)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&response.body)))
}

/// The session's stored batches, as the read API streams them.
fn stored(http: &Http, collector: &Collector, session: SessionId) -> Vec<Vec<u8>> {
    let stream = http.get(&format!("{}/api/sessions/{session}/events", collector.base), TOKEN);
    assert_eq!(stream.status, 200, "reads go on: {}", String::from_utf8_lossy(&stream.body));
    split_frames(&stream.body)
}

fn store_state(http: &Http, collector: &Collector) -> String {
    let health = http.get(&format!("{}/healthz", collector.base), "");
    assert_eq!(health.status, 200, "alive whatever the disk");
    json(&health)["store"].as_str().unwrap().to_owned()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "{what} within 20 s");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The collector's config: its project, and the free space it keeps (with a 4 MiB reserve).
fn config(min_free: u64) -> String {
    format!(
        "{}\n[storage]\nmin_free_bytes = {min_free}\nreserve_bytes = {}\n",
        project_config("disk", KEY, TOKEN),
        4 * MIB
    )
}

/// Posts notes of 2,000 characters until one is refused (at most 2,000 of them); the refusal.
fn note_until_refused(http: &Http, collector: &Collector, session: SessionId) -> sightline_e2e::Response {
    let notes = format!("{}/api/sessions/{session}/notes", collector.base);
    let auth = format!("Bearer {TOKEN}");
    for i in 0..2000 {
        let body = serde_json::json!({ "offset_ms": i, "text": "x".repeat(2000) }).to_string();
        let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
        let answer = http.request("POST", &notes, &headers, Some(body.as_bytes()));
        if answer.status != 201 {
            return answer;
        }
    }
    panic!("2,000 notes taken on a full disk");
}

#[test]
fn a_full_disk_costs_new_writes_only_and_passes_without_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let disk = SmallDisk::mount(&tmp.path().join("disk"), 48);
    let mut collector = Collector::start_under(&disk.enter(), &collector_bin(), &disk.dir, &config(16 * MIB));
    let http = Http::default();
    assert!(disk.has("reserve"), "the reserve is kept while there is room");
    assert_eq!(store_state(&http, &collector), "ok");

    // The collector's own batches fill the disk down to its minimum free space.
    disk.fill("filler", Some(20));
    let session = random_session();
    let mut acked: Vec<Vec<u8>> = Vec::new();
    let mut refused = 0;
    for seq in 0..60 {
        let batch = bulky_batch(session, seq);
        let answer = http.post_batch(&collector.base, KEY, &batch);
        match answer.status {
            200 => acked.push(batch),
            507 => {
                assert_eq!(json(&answer)["error"], "storage_full");
                assert!(answer.header("retry-after").is_some(), "a full disk says when to come back");
                refused += 1;
                if refused == 3 {
                    break;
                }
            }
            other => panic!("batch {seq}: {other} {}", String::from_utf8_lossy(&answer.body)),
        }
    }
    assert!(acked.len() >= 3 && refused == 3, "{} acknowledged, {refused} refused", acked.len());
    let ready = http.get(&format!("{}/readyz", collector.base), "");
    assert_eq!((ready.status, json(&ready)["error"].as_str()), (503, Some("storage_full")));
    assert_eq!(store_state(&http, &collector), "full");
    assert_eq!(stored(&http, &collector, session), acked, "every acknowledged batch, byte for byte");
    // Every write is refused alike, not only batches.
    let note = note_until_refused(&http, &collector, session);
    assert_eq!((note.status, json(&note)["error"].as_str()), (507, Some("storage_full")));

    // Another process takes the rest of the disk, and the collector is killed and started
    // again: sled can't open on a disk with no space left, so the reserve is given up for it,
    // reads are served and writes refused.
    disk.fill("filler-2", None);
    collector.kill9();
    collector.restart();
    assert!(!disk.has("reserve"), "the reserve was given up for the store");
    assert_eq!(store_state(&http, &collector), "full");
    assert_eq!(stored(&http, &collector, session), acked, "a collector on a full disk serves reads");
    assert_eq!(http.post_batch(&collector.base, KEY, &bulky_batch(session, 100)).status, 507);
    let note = note_until_refused(&http, &collector, session);
    assert_eq!((note.status, json(&note)["error"].as_str()), (507, Some("storage_full")));

    // Space comes back: batches are taken again, with no restart, and the reserve is kept again.
    disk.run(&format!("rm '{0}/filler' '{0}/filler-2'", disk.dir.display()));
    wait_for("ready again", || http.get(&format!("{}/readyz", collector.base), "").status == 200);
    let later = bulky_batch(session, 101);
    assert_eq!(http.post_batch(&collector.base, KEY, &later).status, 200);
    acked.push(later);
    assert_eq!(stored(&http, &collector, session), acked);
    wait_for("the reserve kept again", || disk.has("reserve"));
}
