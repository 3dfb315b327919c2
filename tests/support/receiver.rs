//! A webhook receiver on loopback: it keeps every request it gets and answers each with the
//! status its script says, so tests see deliveries, retries and recoveries as a real receiver
//! would.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// The path, with its query.
    pub path: String,
    /// Headers, names lowercase.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The status it was answered.
    pub status: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// The receiver, serving until the process ends.
pub struct Receiver {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    received: Arc<Mutex<Vec<Received>>>,
    statuses: Arc<Mutex<Vec<u16>>>,
}

impl Receiver {
    /// Starts on a free port, answering the first requests with `statuses` in turn, and 200
    /// after them.
    pub fn start(statuses: &[u16]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the receiver");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let statuses = Arc::new(Mutex::new(statuses.iter().rev().copied().collect::<Vec<_>>()));
        let (kept, script) = (received.clone(), statuses.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let mut reader = BufReader::new(&stream);
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                let mut headers = Vec::new();
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    if let Some((name, value)) = line.trim_end().split_once(':') {
                        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
                    }
                    line.clear();
                }
                let length = headers
                    .iter()
                    .find(|(k, _)| k == "content-length")
                    .and_then(|(_, v)| v.parse::<usize>().ok())
                    .unwrap_or(0);
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                let status = script.lock().unwrap().pop().unwrap_or(200);
                let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                kept.lock().unwrap().push(Received { path, headers, body, status });
                let mut stream = &stream;
                let _ =
                    write!(stream, "HTTP/1.1 {status} Scripted\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
            }
        });
        Receiver { base, received, statuses }
    }

    /// Answers the next requests with `statuses` in turn, then 200 again.
    pub fn script(&self, statuses: &[u16]) {
        *self.statuses.lock().unwrap() = statuses.iter().rev().copied().collect();
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Everything received, once `ready` holds of it (within 20 s).
    pub fn wait_for(&self, what: &str, ready: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let received = self.received();
            if ready(&received) {
                return received;
            }
            assert!(Instant::now() < deadline, "never received {what}: {received:#?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
