//! [`RetrySettings`]: the retry policy object-store providers share (their SDK's retry
//! strategy, or their own loop).

use std::time::Duration;

/// Retry policy of every request: exponential backoff with jitter. Throttling, 5xx, timeouts
/// and dropped connections are retried (the retryable [`FailureKind`](super::FailureKind)s);
/// other failures are not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySettings {
    /// Attempts per request, the first included (1 disables retries). Default 5.
    pub max_attempts: u32,
    /// Backoff before the first retry. Default 100 ms.
    pub initial_backoff: Duration,
    /// Longest backoff between attempts. Default 10 s.
    pub max_backoff: Duration,
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
        }
    }
}
