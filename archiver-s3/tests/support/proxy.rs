//! A TCP fault proxy in front of the S3 server (ecosystem.md §5, in tokio): per connection it
//! can reset on accept, reset after N response bytes, or delay each response chunk.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the proxy does to connections.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// Reset every Nth accepted connection at once (0: never).
    pub reset_every: usize,
    /// On connections the predicate below picks, reset after this many response bytes (0: never).
    pub reset_after_bytes: usize,
    /// Apply `reset_after_bytes` to every Nth connection only (0 or 1: all).
    pub reset_after_bytes_every: usize,
    /// Delay before forwarding each response chunk.
    pub delay: Duration,
    /// Answer every Nth connection's first request with `503 SlowDown` and close (0: never).
    pub slow_down_every: usize,
    /// Once: reset the connection carrying the response byte number N counted over all
    /// connections (0: never), to place one fault anywhere in a sequence of requests.
    pub reset_once_at_total_bytes: usize,
}

/// A running proxy; stops when dropped.
pub struct FaultProxy {
    pub addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    faults_injected: Arc<AtomicUsize>,
    response_bytes: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Starts a proxy on 127.0.0.1 forwarding to `target` (`http://host:port`).
    pub async fn start(target: &str, faults: Faults) -> FaultProxy {
        let target = target
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let connections = Arc::new(AtomicUsize::new(0));
        let faults_injected = Arc::new(AtomicUsize::new(0));
        let total = Arc::new(AtomicUsize::new(0));
        let (conns, injected, all_bytes) = (
            Arc::clone(&connections),
            Arc::clone(&faults_injected),
            Arc::clone(&total),
        );
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let n = conns.fetch_add(1, Ordering::Relaxed) + 1;
                if faults.reset_every > 0 && n % faults.reset_every == 0 {
                    injected.fetch_add(1, Ordering::Relaxed);
                    reset(client);
                    continue;
                }
                if faults.slow_down_every > 0 && n % faults.slow_down_every == 0 {
                    injected.fetch_add(1, Ordering::Relaxed);
                    tokio::spawn(slow_down(client));
                    continue;
                }
                let every = faults.reset_after_bytes_every.max(1);
                let limit = (faults.reset_after_bytes > 0 && n % every == 0)
                    .then_some(faults.reset_after_bytes);
                let (target, injected, total) = (
                    target.clone(),
                    Arc::clone(&injected),
                    Arc::clone(&all_bytes),
                );
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(&target).await {
                        let cut = Cut {
                            limit,
                            total,
                            once_at: faults.reset_once_at_total_bytes,
                        };
                        relay(client, server, cut, faults.delay, injected).await;
                    }
                });
            }
        });
        FaultProxy {
            addr,
            connections,
            faults_injected,
            response_bytes: total,
            task,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// Response bytes the server sent through the proxy so far.
    pub fn response_bytes(&self) -> usize {
        self.response_bytes.load(Ordering::Relaxed)
    }

    pub fn faults_injected(&self) -> usize {
        self.faults_injected.load(Ordering::Relaxed)
    }
}

/// Reads the request head, answers S3's throttling error, closes.
async fn slow_down(mut client: TcpStream) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = client.write_all(response.as_bytes()).await;
    let _ = client.shutdown().await;
}

/// Closes with a TCP RST instead of a FIN.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// Where a connection's response is cut.
struct Cut {
    /// After this many bytes of this connection.
    limit: Option<usize>,
    /// Response bytes over all connections so far.
    total: Arc<AtomicUsize>,
    /// At this total (0: never); fires once, since the total only grows past it.
    once_at: usize,
}

impl Cut {
    /// How many of the next `n` bytes may pass, after `sent` on this connection; `None`: all.
    fn allowance(&self, sent: usize, n: usize) -> Option<usize> {
        let mut allowed = self.limit.map(|limit| limit.saturating_sub(sent));
        let before = self.total.fetch_add(n, Ordering::Relaxed);
        if self.once_at > 0 && before < self.once_at && before + n >= self.once_at {
            let once = self.once_at - before;
            allowed = Some(allowed.map_or(once, |a| a.min(once)));
        }
        allowed.filter(|a| *a < n)
    }
}

async fn relay(
    client: TcpStream,
    server: TcpStream,
    cut: Cut,
    delay: Duration,
    injected: Arc<AtomicUsize>,
) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upstream = async {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
        let _ = server_write.shutdown().await;
    };
    let downstream = async {
        let mut sent = 0usize;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match server_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if let Some(allowed) = cut.allowance(sent, n) {
                let _ = client_write.write_all(&buf[..allowed]).await;
                injected.fetch_add(1, Ordering::Relaxed);
                return true;
            }
            if client_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
            sent += n;
        }
        let _ = client_write.shutdown().await;
        false
    };
    let cut = {
        let mut upstream = std::pin::pin!(upstream);
        let mut downstream = std::pin::pin!(downstream);
        tokio::select! {
            cut = &mut downstream => cut,
            () = &mut upstream => downstream.await,
        }
    };
    if cut {
        // Reunite to reset the connection mid-response.
        if let Ok(stream) = client_read.reunite(client_write) {
            reset(stream);
        }
    }
}
