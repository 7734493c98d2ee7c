//! An HTTP/1.1 fault proxy in front of the emulator. Unlike a TCP proxy it sees each request
//! (method and path), so it can answer *that* request with a 503 or a 429, drop it before or
//! after the server acted on it, cut its response short, or delay it, and it records every
//! request it saw (for request counts). It forces one request per connection
//! (`Connection: close`), so each request is judged on its own.
//!
//! Generic over any HTTP/1.1 backend with Content-Length or chunked request bodies.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What to do to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward it untouched.
    Pass,
    /// Answer it ourselves with this status (the server never sees it).
    Status(u16),
    /// Reset the connection without forwarding it.
    DropBefore,
    /// Forward it (the server acts on it), then reset instead of answering: a lost answer.
    DropAfter,
    /// Forward it and relay only this many response bytes, then reset.
    CutResponse(usize),
    /// Forward it and hold the answer this long.
    Delay(Duration),
    /// Forward it and flip one bit in the middle of the response body (damage at rest or in
    /// transit that only a checksum can catch).
    FlipBit,
}

/// One request the proxy saw: `(index, method, path with query, Authorization header)`.
pub type Seen = (usize, String, String, Option<String>);

type Plan = Arc<dyn Fn(usize, &str, &str) -> Fault + Send + Sync>;

/// A running proxy; stops when dropped.
pub struct FaultProxy {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    injected: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Starts a proxy on 127.0.0.1 forwarding to `target` (`http://host:port`); `plan` picks
    /// the fault of request number `n` (from 0) by its method and path.
    pub async fn start(
        target: &str,
        plan: impl Fn(usize, &str, &str) -> Fault + Send + Sync + 'static,
    ) -> FaultProxy {
        let target = target
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let plan: Plan = Arc::new(plan);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let injected = Arc::new(AtomicUsize::new(0));
        let next = Arc::new(AtomicUsize::new(0));
        let (seen2, injected2) = (Arc::clone(&seen), Arc::clone(&injected));
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let (target, plan) = (target.clone(), Arc::clone(&plan));
                let (seen, injected, next) = (
                    Arc::clone(&seen2),
                    Arc::clone(&injected2),
                    Arc::clone(&next),
                );
                tokio::spawn(async move {
                    let _ = serve(client, &target, &plan, &seen, &injected, &next).await;
                });
            }
        });
        FaultProxy {
            addr,
            seen,
            injected,
            task,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Requests seen, as short kinds: `UPLOAD`, `GET` (media), `STAT`, `LIST`, `DELETE`,
    /// `BUCKET`.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.seen()
            .iter()
            .map(|(_, method, path, _)| kind(method, path))
            .collect()
    }

    pub fn count(&self, wanted: &str) -> usize {
        self.kinds().iter().filter(|k| **k == wanted).count()
    }

    pub fn reset_log(&self) {
        self.seen.lock().unwrap().clear();
    }

    /// Faults injected so far (every fault but `Pass`).
    pub fn injected(&self) -> usize {
        self.injected.load(Ordering::Relaxed)
    }
}

/// The kind of a JSON API request.
pub fn kind(method: &str, path: &str) -> &'static str {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    match method {
        "POST" if path.starts_with("/upload/") => "UPLOAD",
        "DELETE" => "DELETE",
        "GET" if path.ends_with("/o") => "LIST",
        "GET" if path.contains("/o/") && query.contains("alt=media") => "GET",
        "GET" if path.contains("/o/") => "STAT",
        "GET" => "BUCKET",
        _ => "OTHER",
    }
}

async fn serve(
    mut client: TcpStream,
    target: &str,
    plan: &Plan,
    seen: &Mutex<Vec<Seen>>,
    injected: &AtomicUsize,
    next: &AtomicUsize,
) -> std::io::Result<()> {
    let Some((head, body)) = read_request(&mut client).await? else {
        return Ok(());
    };
    let request_line = head.lines().next().unwrap_or_default().to_owned();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let n = next.fetch_add(1, Ordering::Relaxed);
    let authorization = header(&head, "authorization");
    seen.lock()
        .unwrap()
        .push((n, method.clone(), path.clone(), authorization));
    let fault = plan(n, &method, &path);
    if fault != Fault::Pass {
        injected.fetch_add(1, Ordering::Relaxed);
    }
    match fault {
        Fault::Status(code) => {
            let body = format!(
                r#"{{"error":{{"code":{code},"message":"injected by the fault proxy","errors":[{{"domain":"global","reason":"injected","message":"injected"}}]}}}}"#
            );
            let answer = format!(
                "HTTP/1.1 {code} Injected\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            client.write_all(answer.as_bytes()).await?;
            client.shutdown().await
        }
        Fault::DropBefore => {
            reset(client);
            Ok(())
        }
        _ => {
            let mut server = TcpStream::connect(target).await?;
            server.write_all(close_connection(&head).as_bytes()).await?;
            server.write_all(&body).await?;
            let mut response = Vec::new();
            server.read_to_end(&mut response).await?;
            match fault {
                Fault::DropAfter => {
                    reset(client);
                    Ok(())
                }
                Fault::CutResponse(bytes) => {
                    client
                        .write_all(&response[..bytes.min(response.len())])
                        .await?;
                    reset(client);
                    Ok(())
                }
                Fault::FlipBit => {
                    if let Some(head_end) = find(&response, b"\r\n\r\n") {
                        let body_len = response.len() - head_end - 4;
                        if body_len > 0 {
                            response[head_end + 4 + body_len / 2] ^= 0x01;
                        }
                    }
                    client.write_all(&response).await?;
                    client.shutdown().await
                }
                Fault::Delay(wait) => {
                    tokio::time::sleep(wait).await;
                    client.write_all(&response).await?;
                    client.shutdown().await
                }
                _ => {
                    client.write_all(&response).await?;
                    client.shutdown().await
                }
            }
        }
    }
}

/// Reads one request: its head (up to the blank line) and its body.
pub async fn read_request(client: &mut TcpStream) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    let head_end = loop {
        if let Some(at) = find(&buf, b"\r\n\r\n") {
            break at + 4;
        }
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut body = buf.split_off(head_end);
    let chunked =
        header(&head, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let length: usize = header(&head, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    loop {
        let complete = if chunked {
            body.ends_with(b"0\r\n\r\n")
        } else {
            body.len() >= length
        };
        if complete {
            return Ok(Some((head, body)));
        }
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        body.extend_from_slice(&chunk[..n]);
    }
}

/// The value of the header `name` in a request head.
fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().to_owned())
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The head with `Connection: close`, so the server answers once and closes.
fn close_connection(head: &str) -> String {
    let mut out = String::with_capacity(head.len() + 20);
    for line in head.trim_end_matches("\r\n").split("\r\n") {
        if line
            .split_once(':')
            .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("connection"))
        {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    out
}

/// Closes with a TCP RST instead of a FIN.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}
