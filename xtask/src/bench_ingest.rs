//! `cargo xtask bench-ingest`: the release collector under load over loopback, against a bare
//! sled loop storing the same payloads in the same run.
//!
//! Every acknowledged batch is durable (the collector answers after its group's fsync), so the
//! figures are for durable acks. Payloads are generated before the clock starts, so the load
//! generator spends its CPU on HTTP only; it still shares the machine's cores with the
//! collector, as a client on the same host would.

use std::io::Write as _;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use sightline_e2e::{Collector, Http};
use sightline_protocol::*;

use crate::rng::Rng;
use crate::tools::{bench_config, cargo, target_dir};

const KEY: &str = "slk_bench_ingest";

/// Command-line options.
pub struct Options {
    seconds: u64,
    connections: usize,
    batch_bytes: usize,
}

impl Options {
    /// Parses `--seconds N --connections N --batch-kib N`.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options { seconds: 10, connections: 64, batch_bytes: 4096 };
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let value: usize = args
                .next()
                .and_then(|v| v.parse().ok())
                .filter(|v| *v > 0)
                .ok_or_else(|| format!("{flag} needs a positive number"))?;
            match flag.as_str() {
                "--seconds" => options.seconds = value.min(120) as u64,
                "--connections" => options.connections = value.min(512),
                "--batch-kib" => options.batch_bytes = value.min(512) * 1024,
                other => return Err(format!("unknown option {other}")),
            }
        }
        Ok(options)
    }
}

/// One event of the mix a busy page produces: pointer movement, clicks, DOM changes, input,
/// requests and console output.
fn event(rng: &mut Rng) -> Event {
    let data = match rng.below(10) {
        0..=2 => EventData::MouseMove(MouseMove {
            points: (0..6)
                .map(|i| MovePoint { x: rng.below(1280) as i32, y: rng.below(720) as i32, offset: i * 50 })
                .collect(),
        }),
        3 => EventData::Pointer(Pointer { kind: PointerKind::Click, target: rng.below(5000) as u32, x: 100, y: 200 }),
        4..=6 => EventData::Mutation(Mutation {
            removes: vec![rng.below(5000) as u32],
            adds: (0..3)
                .map(|i| Node {
                    id: 5000 + rng.below(100_000) as u32,
                    parent: rng.below(5000) as u32,
                    next: 0,
                    kind: if i == 2 {
                        NodeKind::Text(format!("{} {} {}", rng.word(), rng.word(), rng.word()))
                    } else {
                        NodeKind::Element(Element {
                            tag: "td".into(),
                            attrs: vec![("class".into(), format!("cell {}", rng.word()))],
                            ns: Namespace::Html,
                        })
                    },
                })
                .collect(),
            attrs: vec![AttributeChange { id: rng.below(5000) as u32, name: "class".into(), value: Some(rng.word()) }],
            texts: vec![TextChange { id: rng.below(5000) as u32, text: rng.word() }],
        }),
        7 => EventData::Input(Input {
            target: rng.below(5000) as u32,
            value: "*".repeat(rng.below(20) as usize),
            checked: None,
            masked: true,
            scripted: false,
        }),
        8 => {
            let mut trace = [0u8; 16];
            trace[..8].copy_from_slice(&rng.next().to_le_bytes());
            trace[8..].copy_from_slice(&rng.next().to_le_bytes());
            EventData::Network(Box::new(Network {
                id: rng.below(10_000) as u32,
                initiator: Initiator::Fetch,
                method: "GET".into(),
                url: format!("https://app.example.com/api/invoices/{}?page={}", rng.below(100_000), rng.below(50)),
                status: if rng.below(50) == 0 { 500 } else { 200 },
                duration: rng.below(900) as u32,
                response_size: Some(rng.below(100_000)),
                trace: Some(TraceContext { trace_id: TraceId(trace), span_id: SpanId(rng.next().to_le_bytes()) }),
                ..Network::default()
            }))
        }
        _ => EventData::Console(Console {
            level: ConsoleLevel::Log,
            args: vec![format!("loaded {} rows for {}", rng.below(5000), rng.word())],
            stack: None,
        }),
    };
    Event { dt: rng.below(200) as u32, data }
}

fn envelope(session: SessionId, seq: u32, events: Vec<Event>) -> Batch {
    Batch {
        project: KEY.into(),
        session,
        page: 0,
        seq,
        start: 1_780_000_000_000 + u64::from(seq) * 5_000,
        sent: 1_780_000_000_000 + u64::from(seq) * 5_000 + 5_000,
        events,
        trace_key: None,
    }
}

/// Events that make a batch of about `target` compressed bytes.
fn events_for(rng: &mut Rng, target: usize) -> Vec<Event> {
    let mut batch = envelope(SessionId([1; 16]), 0, Vec::new());
    // Grow in steps, then trim back to the last size under the target.
    loop {
        let before = batch.events.len();
        batch.events.extend((0..8).map(|_| event(rng)));
        if encode_batch(&batch).expect("encoding").len() > target {
            batch.events.truncate(before.max(1));
            return batch.events;
        }
    }
}

fn session_id(rng: &mut Rng) -> SessionId {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&rng.next().to_le_bytes());
    id[8..].copy_from_slice(&rng.next().to_le_bytes());
    SessionId(id)
}

/// Batches for each connection: its own sessions, sequence numbers counting up.
fn payloads(connections: usize, per_connection: usize, target: usize) -> Vec<Vec<Vec<u8>>> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = connections.div_ceil(threads);
    let handles: Vec<_> = (0..connections)
        .collect::<Vec<_>>()
        .chunks(chunk)
        .map(|ids| {
            let ids = ids.to_vec();
            std::thread::spawn(move || {
                ids.into_iter()
                    .map(|c| {
                        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((c as u64 + 1) * 0x1234_5678_9abc));
                        let sessions: Vec<SessionId> = (0..4).map(|_| session_id(&mut rng)).collect();
                        let templates: Vec<Vec<Event>> = (0..16).map(|_| events_for(&mut rng, target)).collect();
                        (0..per_connection)
                            .map(|i| {
                                let events = templates[i % templates.len()].clone();
                                encode_batch(&envelope(sessions[i % 4], (i / 4) as u32, events)).expect("encoding")
                            })
                            .collect::<Vec<_>>()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    handles.into_iter().flat_map(|h| h.join().expect("generator")).collect()
}

/// A keep-alive HTTP/1.1 connection that does only what the load needs. All connections run
/// as tasks on one thread, so the load generator's CPU cost per request stays far below the
/// collector's on a shared machine, and no latency is a thread waiting to be scheduled.
struct RawClient {
    stream: TcpStream,
    head: Vec<u8>,
    response: Vec<u8>,
}

impl RawClient {
    async fn connect(addr: &str) -> std::io::Result<RawClient> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(RawClient { stream, head: Vec::with_capacity(8192), response: Vec::with_capacity(1024) })
    }

    /// Posts a batch; returns the status.
    async fn post_batch(&mut self, body: &[u8]) -> std::io::Result<u16> {
        self.head.clear();
        write!(
            self.head,
            "POST /v1/batches HTTP/1.1\r\nhost: 127.0.0.1\r\nx-sightline-key: {KEY}\r\n\
             content-type: application/vnd.sightline.batch\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )?;
        // One write per request, as HTTP clients do, rather than a segment for the head and
        // another for the body.
        self.head.extend_from_slice(body);
        self.stream.write_all(&self.head).await?;
        self.response.clear();
        let mut chunk = [0u8; 1024];
        loop {
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.response.extend_from_slice(&chunk[..n]);
            let Some(end) = self.response.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
            let head = String::from_utf8_lossy(&self.response[..end]).to_ascii_lowercase();
            let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while self.response.len() < end + 4 + length {
                let n = self.stream.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                self.response.extend_from_slice(&chunk[..n]);
            }
            return Ok(status);
        }
    }
}

/// One connection posting its pool until the deadline.
async fn connection(addr: String, pool: Vec<Vec<u8>>, deadline: Instant) -> (usize, usize, usize, Vec<u32>) {
    let (mut acked, mut bytes, mut errors, mut latencies) = (0, 0, 0, Vec::with_capacity(pool.len()));
    let Ok(mut client) = RawClient::connect(&addr).await else { return (0, 0, 1, latencies) };
    for payload in &pool {
        if Instant::now() >= deadline {
            break;
        }
        let sent = Instant::now();
        match client.post_batch(payload).await {
            Ok(200) => {
                latencies.push(sent.elapsed().as_micros() as u32);
                acked += 1;
                bytes += payload.len();
            }
            Ok(_) => errors += 1,
            Err(_) => {
                errors += 1;
                match RawClient::connect(&addr).await {
                    Ok(fresh) => client = fresh,
                    Err(_) => break,
                }
            }
        }
    }
    (acked, bytes, errors, latencies)
}

struct Load {
    acked: usize,
    bytes: usize,
    errors: usize,
    latencies_us: Vec<u32>,
    elapsed: Duration,
}

fn load(base: &str, pools: Vec<Vec<Vec<u8>>>, seconds: u64) -> Load {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let addr = base.trim_start_matches("http://").to_owned();
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let results = runtime.block_on(async {
        let tasks = tokio::task::LocalSet::new();
        let handles: Vec<_> =
            pools.into_iter().map(|pool| tasks.spawn_local(connection(addr.clone(), pool, deadline))).collect();
        tasks
            .run_until(async {
                let mut results = Vec::new();
                for handle in handles {
                    results.push(handle.await.expect("connection task"));
                }
                results
            })
            .await
    });
    let mut total = Load { acked: 0, bytes: 0, errors: 0, latencies_us: Vec::new(), elapsed: start.elapsed() };
    for (acked, bytes, errors, latencies) in results {
        total.acked += acked;
        total.bytes += bytes;
        total.errors += errors;
        total.latencies_us.extend(latencies);
    }
    total.latencies_us.sort_unstable();
    total
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let at = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    f64::from(sorted[at]) / 1000.0
}

/// Bytes a process has had written to disk so far (Linux's `/proc/PID/io`), to show how much
/// the store writes for each byte it keeps; `None` where that isn't available.
fn disk_writes(pid: &str) -> Option<u64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    io.lines().find_map(|l| l.strip_prefix("write_bytes:")).and_then(|v| v.trim().parse().ok())
}

/// Disk bytes written per stored byte, printed as `N.N×`, or `n/a`.
fn amplification(written: Option<u64>, stored: usize) -> String {
    match written {
        Some(w) if stored > 0 => format!("{:.1}× the batch bytes", w as f64 / stored as f64),
        _ => "n/a".to_owned(),
    }
}

/// What a bare sled loop achieved.
struct Bare {
    rate: f64,
    written: Option<u64>,
    stored_bytes: usize,
}

/// Stores the payloads in a bare sled tree, flushing every `flush_every` inserts, for at most
/// `seconds`.
fn bare_sled(payloads: &[&Vec<u8>], flush_every: usize, seconds: u64) -> Result<Bare, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let db = sled::Config::new().path(dir.path()).cache_capacity(256 << 20).open().map_err(|e| e.to_string())?;
    let tree = db.open_tree("bench").map_err(|e| e.to_string())?;
    let written_before = disk_writes("self");
    let start = Instant::now();
    let (mut stored, mut stored_bytes) = (0, 0);
    for (i, payload) in payloads.iter().enumerate() {
        tree.insert((i as u64).to_be_bytes(), payload.as_slice()).map_err(|e| e.to_string())?;
        stored += 1;
        stored_bytes += payload.len();
        if stored % flush_every == 0 {
            db.flush().map_err(|e| e.to_string())?;
            if start.elapsed() >= Duration::from_secs(seconds) {
                break;
            }
        }
    }
    db.flush().map_err(|e| e.to_string())?;
    let rate = stored as f64 / start.elapsed().as_secs_f64();
    let written = disk_writes("self").zip(written_before).map(|(after, before)| after - before);
    Ok(Bare { rate, written, stored_bytes })
}

/// Runs the benchmark and prints its figures.
pub fn run(options: Options) -> Result<(), String> {
    cargo(&["build", "--release", "--locked", "-p", "sightline-collector"], &[])?;
    let bin = target_dir().join("release/sightline-collector");

    // Enough payloads for 20,000 batches/s over the whole run.
    let per_connection = (20_000 * options.seconds as usize).div_ceil(options.connections);
    let generated = Instant::now();
    let pools = payloads(options.connections, per_connection, options.batch_bytes);
    let count: usize = pools.iter().map(Vec::len).sum();
    let mean_bytes = pools.iter().flatten().map(Vec::len).sum::<usize>() as f64 / count as f64;
    let sample = decode_batch(&pools[0][0], &Limits::default()).map_err(|e| e.to_string())?;
    let decoded = encode_payload(&sample).map_err(|e| e.to_string())?.len();
    eprintln!("generated {count} batches in {:.1} s", generated.elapsed().as_secs_f64());

    // Bare sled first, on the same payloads, while the machine is otherwise idle.
    let reference: Vec<&Vec<u8>> = pools.iter().flatten().take(200_000).collect();
    let sled_each = bare_sled(&reference, 1, 5)?;
    let sled_grouped = bare_sled(&reference, 64, 5)?;
    // Each phase starts from a quiet disk: what the bare loops left to write back is written
    // now, not during the collector's run.
    let _ = std::process::Command::new("sync").status();
    std::thread::sleep(Duration::from_secs(2));

    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let config = bench_config(KEY, "slr_bench_ingest");
    let mut collector = Collector::start(&bin, &dir.path().join("data"), &config);
    let pid = collector.pid().map(|p| p.to_string()).unwrap_or_default();
    let written_before = disk_writes(&pid);
    let result = load(&collector.base, pools, options.seconds);
    let written = disk_writes(&pid).zip(written_before).map(|(after, before)| after - before);
    let metrics = Http::default().request("GET", &format!("{}/metrics", collector.base), &[], None);
    collector.stop();
    let metrics = String::from_utf8_lossy(&metrics.body);
    let metric = |name: &str| -> f64 {
        metrics.lines().find_map(|l| l.strip_prefix(name)?.trim().parse().ok()).unwrap_or(f64::NAN)
    };
    let commits = metric("sightline_flush_seconds_count");

    let rate = result.acked as f64 / result.elapsed.as_secs_f64();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "ingest benchmark: {} connections, {:.1} s, batches of {:.1} KiB compressed ({:.1} KiB decoded, {} events), {cores} cores",
        options.connections,
        result.elapsed.as_secs_f64(),
        mean_bytes / 1024.0,
        decoded as f64 / 1024.0,
        sample.events.len(),
    );
    println!(
        "collector, durable acks over HTTP: {rate:>9.0} batches/s  {:>6.1} MB/s  p50 {:.2} ms  p99 {:.2} ms  ({} acknowledged, {} errors)",
        result.bytes as f64 / result.elapsed.as_secs_f64() / 1e6,
        percentile(&result.latencies_us, 0.50),
        percentile(&result.latencies_us, 0.99),
        result.acked,
        result.errors,
    );
    println!(
        "  group commits: {commits:.0}, {:.1} batches and {:.2} ms each on average",
        metric("sightline_group_commit_batches_total") / commits,
        metric("sightline_flush_seconds_sum") / commits * 1000.0,
    );
    println!("  written to disk: {}", amplification(written, result.bytes));
    println!("bare sled, insert + flush each:     {:>9.0} batches/s", sled_each.rate);
    println!(
        "bare sled, insert + flush every 64: {:>9.0} batches/s  written to disk: {}",
        sled_grouped.rate,
        amplification(sled_grouped.written, sled_grouped.stored_bytes)
    );
    println!("ratio collector / bare sled (flush every 64): {:.2}", rate / sled_grouped.rate);
    println!("ratio collector / bare sled (flush each):     {:.2}", rate / sled_each.rate);
    Ok(())
}
