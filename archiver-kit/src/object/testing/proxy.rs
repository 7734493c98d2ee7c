//! [`FaultProxy`]: an HTTP/1.1 proxy in front of a provider's test server that decides, per
//! request, to pass it or to inject a [`Fault`]: an error status with or without the server
//! acting on the request, a connection reset before or after forwarding, a cut or truncated
//! answer, a delay, a flipped bit. [`RandomFaults`] picks faults from a seed, so a campaign
//! can be replayed.
//!
//! The proxy forces one request per connection (`Connection: close` towards the server), so
//! each request is judged on its own whatever the client's connection pooling. It records every
//! request it saw, so it doubles as a provider-independent request counter.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::Request;

/// What to do to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward it untouched.
    Pass,
    /// Answer it ourselves with this status (the server never sees it).
    Status(u16),
    /// Forward it (the server acts on it: a write is stored), then answer this status instead
    /// of the server's answer.
    StatusAfter(u16),
    /// Reset the connection without forwarding it.
    DropBefore,
    /// Forward it (the server acts on it), then reset instead of answering: a lost answer.
    DropAfter,
    /// Forward it and relay only this many bytes of the answer, then reset.
    CutResponse(usize),
    /// Forward it and relay the answer's head and half its body (half its head when it has no
    /// body), then reset.
    TruncateBody,
    /// Forward it and hold the answer this long.
    Delay(Duration),
    /// Forward it and flip one bit in the middle of the answer's body (damage in transit that
    /// only a checksum can catch).
    FlipBit,
}

impl Fault {
    /// A short name, for tallies.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Pass => "pass",
            Fault::Status(_) => "status",
            Fault::StatusAfter(_) => "status after forwarding",
            Fault::DropBefore => "reset before forwarding",
            Fault::DropAfter => "reset after forwarding",
            Fault::CutResponse(_) => "cut answer",
            Fault::TruncateBody => "truncated body",
            Fault::Delay(_) => "delay",
            Fault::FlipBit => "flipped bit",
        }
    }
}

/// The provider's HTTP dialect: how its errors look and what its requests are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The S3 REST API (path-style): XML errors.
    S3,
    /// The GCS JSON API: JSON errors.
    Gcs,
}

impl Dialect {
    /// The kind of a request, by method and path (with query).
    pub fn classify(self, method: &str, path: &str) -> Request {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        match self {
            Dialect::S3 => match method {
                "GET" if query.contains("list-type=2") => Request::List,
                "GET" => Request::Get,
                "PUT" => Request::Put,
                "HEAD" => Request::Head,
                "DELETE" => Request::Delete,
                "POST" if query.contains("delete") => Request::Delete,
                "POST" => Request::Other("POST"),
                _ => Request::Other("OTHER"),
            },
            Dialect::Gcs => match method {
                "POST" if path.starts_with("/upload/") => Request::Put,
                "DELETE" => Request::Delete,
                "GET" if path.ends_with("/o") => Request::List,
                "GET" if path.contains("/o/") && query.contains("alt=media") => Request::Get,
                "GET" if path.contains("/o/") => Request::Head,
                "GET" => Request::Other("BUCKET"),
                _ => Request::Other("OTHER"),
            },
        }
    }

    /// A whole HTTP answer with status `code` and an error body the provider's SDK parses
    /// (S3: `SlowDown` for 503, `InternalError` for other 5xx).
    fn error_answer(self, code: u16) -> String {
        let (content_type, body) = match self {
            Dialect::S3 => {
                let name = match code {
                    503 => "SlowDown",
                    500..=599 => "InternalError",
                    403 => "AccessDenied",
                    _ => "Injected",
                };
                (
                    "application/xml",
                    format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{name}</Code><Message>injected by the fault proxy</Message></Error>"
                    ),
                )
            }
            Dialect::Gcs => (
                "application/json",
                format!(
                    r#"{{"error":{{"code":{code},"message":"injected by the fault proxy","errors":[{{"domain":"global","reason":"injected","message":"injected"}}]}}}}"#
                ),
            ),
        };
        format!(
            "HTTP/1.1 {code} Injected\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    }
}

/// One request the proxy saw: `(index, method, path with query, Authorization header)`.
pub type Seen = (usize, String, String, Option<String>);

type Plan = Arc<dyn Fn(usize, &str, &str) -> Fault + Send + Sync>;

/// What the proxy's connections share.
struct Shared {
    target: String,
    dialect: Dialect,
    plan: Plan,
    seen: Mutex<Vec<Seen>>,
    injected: Mutex<BTreeMap<&'static str, usize>>,
    next: AtomicUsize,
}

/// A running proxy; stops when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("addr", &self.addr)
            .field("target", &self.shared.target)
            .finish_non_exhaustive()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Starts a proxy on 127.0.0.1 forwarding to `target` (`http://host:port`) a provider
    /// speaking `dialect`; `plan` picks the fault of request number `n` (from 0) by its method
    /// and path.
    ///
    /// # Panics
    /// When no local port can be bound (a test environment failure).
    pub async fn start(
        target: &str,
        dialect: Dialect,
        plan: impl Fn(usize, &str, &str) -> Fault + Send + Sync + 'static,
    ) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let shared = Arc::new(Shared {
            target: target
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_owned(),
            dialect,
            plan: Arc::new(plan),
            seen: Mutex::new(Vec::new()),
            injected: Mutex::new(BTreeMap::new()),
            next: AtomicUsize::new(0),
        });
        let accepting = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let shared = Arc::clone(&accepting);
                tokio::spawn(async move {
                    // A failed relay is the client's fault to see: nothing to report here.
                    let _ = serve(client, &shared).await;
                });
            }
        });
        FaultProxy { addr, shared, task }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.shared.seen).clone()
    }

    /// The kinds of the requests seen so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        let dialect = self.shared.dialect;
        self.seen()
            .iter()
            .map(|(_, method, path, _)| dialect.classify(method, path))
            .collect()
    }

    /// How many requests seen so far were of `kind`.
    pub fn count(&self, kind: Request) -> usize {
        self.requests().into_iter().filter(|r| *r == kind).count()
    }

    /// Forgets the requests seen so far (not the faults injected).
    pub fn reset_log(&self) {
        lock(&self.shared.seen).clear();
    }

    /// Faults injected so far (every fault but [`Fault::Pass`]).
    pub fn injected(&self) -> usize {
        lock(&self.shared.injected).values().sum()
    }

    /// Faults injected so far, by [`Fault::name`].
    pub fn injected_by_kind(&self) -> BTreeMap<&'static str, usize> {
        lock(&self.shared.injected).clone()
    }
}

/// The guarded value, also after a panic elsewhere (the logs stay readable).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Faults drawn per request from a seed: request `n` gets a fault with probability `rate`,
/// of a kind drawn evenly from [`RandomFaults::KINDS`]. The draw depends on the seed and `n`
/// only, so a sequential run replays exactly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomFaults {
    /// The seed.
    pub seed: u64,
    /// The probability that a request gets a fault, in [0, 1].
    pub rate: f64,
    /// How long [`Fault::Delay`] holds an answer.
    pub delay: Duration,
}

impl RandomFaults {
    /// The kinds drawn: 503, 500 after the server acted, resets before and after forwarding,
    /// a truncated body, a delay.
    pub const KINDS: usize = 6;

    /// The fault of request `n`.
    pub fn pick(&self, n: usize) -> Fault {
        let draw = splitmix64(self.seed ^ splitmix64(n as u64));
        // The top 53 bits as a number in [0, 1); the low bits choose the kind.
        let unit = (draw >> 11) as f64 / (1u64 << 53) as f64;
        if unit >= self.rate {
            return Fault::Pass;
        }
        match draw % Self::KINDS as u64 {
            0 => Fault::Status(503),
            1 => Fault::StatusAfter(500),
            2 => Fault::DropBefore,
            3 => Fault::DropAfter,
            4 => Fault::TruncateBody,
            _ => Fault::Delay(self.delay),
        }
    }
}

/// SplitMix64: a good 64-bit mix in three lines, enough for test faults.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

async fn serve(mut client: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let Some((head, body)) = read_request(&mut client).await? else {
        return Ok(());
    };
    let request_line = head.lines().next().unwrap_or_default().to_owned();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let n = shared.next.fetch_add(1, Ordering::Relaxed);
    let authorization = header(&head, "authorization");
    lock(&shared.seen).push((n, method.clone(), path.clone(), authorization));
    let fault = (shared.plan)(n, &method, &path);
    if fault != Fault::Pass {
        *lock(&shared.injected).entry(fault.name()).or_default() += 1;
    }
    match fault {
        Fault::Status(code) => {
            client
                .write_all(shared.dialect.error_answer(code).as_bytes())
                .await?;
            return client.shutdown().await;
        }
        Fault::DropBefore => {
            reset(client);
            return Ok(());
        }
        _ => {}
    }
    let mut server = TcpStream::connect(&shared.target).await?;
    server.write_all(forwarded(&head).as_bytes()).await?;
    server.write_all(&body).await?;
    let mut response = Vec::new();
    server.read_to_end(&mut response).await?;
    let head_end = find(&response, b"\r\n\r\n").map_or(response.len(), |at| at + 4);
    let answer = match fault {
        Fault::StatusAfter(code) => shared.dialect.error_answer(code).into_bytes(),
        Fault::DropAfter => {
            reset(client);
            return Ok(());
        }
        Fault::CutResponse(bytes) => {
            client
                .write_all(&response[..bytes.min(response.len())])
                .await?;
            reset(client);
            return Ok(());
        }
        Fault::TruncateBody => {
            let body_len = response.len() - head_end;
            let keep = if body_len > 0 {
                head_end + body_len / 2
            } else {
                head_end / 2
            };
            client.write_all(&response[..keep]).await?;
            reset(client);
            return Ok(());
        }
        Fault::FlipBit => {
            let body_len = response.len() - head_end;
            if body_len > 0 {
                response[head_end + body_len / 2] ^= 0x01;
            }
            response
        }
        Fault::Delay(wait) => {
            tokio::time::sleep(wait).await;
            response
        }
        Fault::Pass | Fault::Status(_) | Fault::DropBefore => response,
    };
    client.write_all(&answer).await?;
    client.shutdown().await
}

/// Reads one request: its head (up to the blank line) and its body (by `Content-Length`, or
/// chunked). A client waiting for `100 Continue` is told to go on.
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
    if header(&head, "expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        client.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
    }
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

/// The head as forwarded: `Connection: close`, so the server answers once and closes, and no
/// `Expect` (the proxy already answered it and has the whole body).
fn forwarded(head: &str) -> String {
    let mut out = String::with_capacity(head.len() + 20);
    for line in head.trim_end_matches("\r\n").split("\r\n") {
        let dropped = line.split_once(':').is_some_and(|(k, _)| {
            let k = k.trim();
            k.eq_ignore_ascii_case("connection") || k.eq_ignore_ascii_case("expect")
        });
        if !dropped {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    out
}

/// Closes with a TCP RST instead of a FIN.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_faults_follow_the_rate_and_replay() {
        let faults = RandomFaults {
            seed: 7,
            rate: 0.1,
            delay: Duration::from_millis(1),
        };
        let picks: Vec<Fault> = (0..20_000).map(|n| faults.pick(n)).collect();
        let hit = picks.iter().filter(|f| **f != Fault::Pass).count();
        assert!((1_700..2_300).contains(&hit), "{hit} of 20000 at 10%");
        let kinds: std::collections::BTreeSet<_> = picks.iter().map(|f| f.name()).collect();
        assert_eq!(kinds.len(), RandomFaults::KINDS + 1, "{kinds:?}");
        assert_eq!(
            picks,
            (0..20_000).map(|n| faults.pick(n)).collect::<Vec<_>>()
        );
    }
}
