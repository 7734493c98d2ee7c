//! A counting HTTP/1.1 proxy: forwards connections on 127.0.0.1 to a server and records every
//! request passing through (retries included), whatever client sends it, classified by what
//! it does in S3 or GCS JSON API terms. The figures behind "requests per ...".
//!
//! Plain threads and blocking sockets: the proxy runs beside the bench's tokio runtime, never
//! on it, and lives until the process ends.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One request seen: its kind and the size of the payload it carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Seen {
    /// `PUT`, `GET`, `HEAD`, `LIST`, `DELETE`, `BUCKET` or `OTHER`.
    pub(crate) kind: &'static str,
    /// Payload bytes: S3's decoded length of an `aws-chunked` body, the body's length otherwise
    /// (a GCS multipart upload's includes its metadata part).
    pub(crate) bytes: u64,
}

/// A running proxy.
#[derive(Debug, Clone)]
pub(crate) struct CountingProxy {
    /// `http://127.0.0.1:<port>`: point the client here.
    pub(crate) endpoint: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl CountingProxy {
    /// Starts a proxy forwarding to `target` (`http://host:port`).
    pub(crate) fn start(target: &str) -> io::Result<Self> {
        let target = target
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (target, log) = (target.clone(), Arc::clone(&log));
                std::thread::spawn(move || {
                    if let Err(e) = relay(client, &target, &log) {
                        eprintln!("counting proxy: connection to {target} ended: {e}");
                    }
                });
            }
        });
        Ok(CountingProxy { endpoint, seen })
    }

    /// Forgets the requests seen so far.
    pub(crate) fn reset(&self) {
        self.seen.lock().expect("proxy log").clear();
    }

    /// The requests seen since the last [`reset`](Self::reset), in order.
    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("proxy log").clone()
    }

    /// The requests seen since the last [`reset`](Self::reset), counted by kind.
    pub(crate) fn counts(&self) -> Counts {
        Counts::of(&self.seen())
    }
}

/// Requests counted by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    by_kind: BTreeMap<&'static str, u64>,
    bytes: u64,
}

impl Counts {
    fn of(seen: &[Seen]) -> Self {
        let mut counts = Counts::default();
        for request in seen {
            *counts.by_kind.entry(request.kind).or_default() += 1;
            counts.bytes += request.bytes;
        }
        counts
    }

    /// All requests.
    pub(crate) fn total(&self) -> u64 {
        self.by_kind.values().sum()
    }
}

impl fmt::Display for Counts {
    /// `5 requests (2 LIST, 3 GET; 1.2 kB sent)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} requests (", self.total())?;
        for (i, (kind, n)) in self.by_kind.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{n} {kind}")?;
        }
        write!(f, "; {:.1} kB sent)", self.bytes as f64 / 1e3)
    }
}

/// Relays one client connection: responses copied back as they come, requests parsed (to count
/// them) and forwarded.
fn relay(client: TcpStream, target: &str, log: &Mutex<Vec<Seen>>) -> io::Result<()> {
    let server = TcpStream::connect(target)?;
    let (mut from_server, mut to_client) = (server.try_clone()?, client.try_clone()?);
    let responses = std::thread::spawn(move || {
        let _ = io::copy(&mut from_server, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Both);
    });
    let result = forward_requests(BufReader::new(client), &server, log);
    let _ = server.shutdown(Shutdown::Write);
    let _ = responses.join();
    result
}

/// Forwards requests one after another (keep-alive), recording each.
fn forward_requests(
    mut from: BufReader<TcpStream>,
    mut to: &TcpStream,
    log: &Mutex<Vec<Seen>>,
) -> io::Result<()> {
    loop {
        let mut head = Vec::new();
        loop {
            let start = head.len();
            if from.read_until(b'\n', &mut head)? == 0 {
                return Ok(()); // the client closed the connection
            }
            if &head[start..] == b"\r\n" && start > 0 {
                break;
            }
        }
        let text = String::from_utf8_lossy(&head);
        let mut lines = text.split("\r\n");
        let mut request_line = lines.next().unwrap_or_default().split(' ');
        let (method, path) = (
            request_line.next().unwrap_or_default(),
            request_line.next().unwrap_or_default(),
        );
        let header = |name: &str| {
            text.split("\r\n").skip(1).find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| value.trim().to_owned())
            })
        };
        let chunked = header("transfer-encoding").is_some_and(|v| v.contains("chunked"));
        let length: u64 = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let payload = header("x-amz-decoded-content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(length);
        log.lock().expect("proxy log").push(Seen {
            kind: kind(method, path),
            bytes: payload,
        });
        to.write_all(&head)?;
        if chunked {
            forward_chunks(&mut from, to)?;
        } else {
            io::copy(&mut (&mut from).take(length), &mut to)?;
        }
    }
}

/// Forwards a `Transfer-Encoding: chunked` body, trailers included.
fn forward_chunks(from: &mut BufReader<TcpStream>, mut to: &TcpStream) -> io::Result<()> {
    loop {
        let mut line = Vec::new();
        from.read_until(b'\n', &mut line)?;
        to.write_all(&line)?;
        let size = String::from_utf8_lossy(&line);
        let size = size.split(';').next().unwrap_or_default().trim();
        let size = u64::from_str_radix(size, 16)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("chunk size: {e}")))?;
        if size == 0 {
            loop {
                let mut trailer = Vec::new();
                from.read_until(b'\n', &mut trailer)?;
                to.write_all(&trailer)?;
                if trailer == b"\r\n" || trailer.is_empty() {
                    return Ok(());
                }
            }
        }
        io::copy(&mut (&mut *from).take(size + 2), &mut to)?;
    }
}

/// What a request does, from its method and path: S3 REST (`/bucket/key`, `?list-type=2`,
/// `POST ?delete`) or the GCS JSON API (`/storage/v1/b/<bucket>/o/<name>`, uploads under
/// `/upload/`).
fn kind(method: &str, path: &str) -> &'static str {
    let (route, query) = path.split_once('?').unwrap_or((path, ""));
    let gcs: Vec<&str> = route
        .strip_prefix("/storage/v1/b/")
        .map(|rest| rest.split('/').collect())
        .unwrap_or_default();
    match method {
        "PUT" => "PUT",
        "HEAD" if route.trim_matches('/').contains('/') => "HEAD",
        "HEAD" => "BUCKET",
        "DELETE" => "DELETE",
        // S3 DeleteObjects: one request for up to 1000 keys.
        "POST" if query.split('&').any(|p| p == "delete" || p == "delete=") => "DELETE",
        "POST" if route.starts_with("/upload/") => "PUT",
        "GET" if query.contains("list-type=2") => "LIST",
        "GET" => match gcs.len() {
            1 => "BUCKET",
            2 => "LIST",
            n if n > 2 && !query.contains("alt=media") => "HEAD",
            _ => "GET",
        },
        _ => "OTHER",
    }
}
