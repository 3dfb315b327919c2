//! A static file server on loopback, for the pages browser tests load.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};

/// Serves files under `root` at `http://127.0.0.1:PORT/`, plus `pages` given in memory, until
/// the process ends.
pub struct StaticFiles {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl StaticFiles {
    /// Starts serving on a free port.
    pub fn start(root: &Path, pages: Vec<(String, String)>) -> StaticFiles {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the static server");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let root = root.to_owned();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let (root, pages) = (root.clone(), pages.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(&stream);
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).is_err() {
                        return;
                    }
                    // Skip the headers: these tests only GET.
                    let mut line = String::new();
                    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                        line.clear();
                    }
                    let path = request_line.split_whitespace().nth(1).unwrap_or("/").split('?').next().unwrap_or("/");
                    let (status, body, content_type) = match pages.iter().find(|(p, _)| p == path) {
                        Some((p, page)) => {
                            // Pages are HTML unless their path says otherwise (`/theme.css`).
                            let path = Path::new(p);
                            let kind = if path.extension().is_some() {
                                content_type(path)
                            } else {
                                "text/html; charset=utf-8"
                            };
                            ("200 OK", page.clone().into_bytes(), kind)
                        }
                        None => {
                            match resolve(&root, path).and_then(|file| std::fs::read(&file).ok().map(|b| (b, file))) {
                                Some((bytes, file)) => ("200 OK", bytes, content_type(&file)),
                                None => ("404 Not Found", b"not found".to_vec(), "text/plain"),
                            }
                        }
                    };
                    respond(&stream, status, content_type, &body);
                });
            }
        });
        StaticFiles { base }
    }
}

/// Writes a whole answer that closes the connection; a client gone meanwhile is no error here.
pub(crate) fn respond(mut stream: &TcpStream, status: &str, content_type: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(body));
}

pub(crate) fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let relative = Path::new(path.trim_start_matches('/'));
    relative.components().all(|c| matches!(c, Component::Normal(_))).then(|| root.join(relative))
}

pub(crate) fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("html") => "text/html; charset=utf-8",
        Some("json") => "application/json",
        Some("css") => "text/css",
        _ => "application/octet-stream",
    }
}
