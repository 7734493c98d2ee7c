//! [`RetrySettings`]: the retry policy object-store providers share (their SDK's retry
//! strategy, or their own loop).

use std::time::Duration;

/// Retry policy of every request: exponential backoff with jitter. Throttling, 5xx, timeouts
/// and dropped connections are retried (the retryable [`FailureKind`](super::FailureKind)s);
/// other failures are not. Each request gets its `max_attempts` however many other requests
/// needed retries: there is no retry quota shared across requests.
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

impl RetrySettings {
    /// The wait before retry number `attempt` (1 before the second attempt): full jitter, a
    /// random wait up to `initial_backoff * 2^(attempt-1)`, capped at `max_backoff`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .initial_backoff
            .saturating_mul(1 << attempt.saturating_sub(1).min(16))
            .min(self.max_backoff);
        ceiling.mul_f64(random_unit())
    }
}

/// A number in [0, 1) from std's randomly keyed hasher (no RNG dependency for jitter).
fn random_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetrySettings {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(250),
        };
        for attempt in 1..40 {
            let wait = policy.backoff(attempt);
            let ceiling = Duration::from_millis(100 * (1 << (attempt - 1).min(16)));
            assert!(
                wait <= ceiling.min(policy.max_backoff),
                "{attempt}: {wait:?}"
            );
        }
    }
}
