//! [`TimeoutSettings`]: the time limits object-store providers share.

use std::time::Duration;

/// Time limits of one request attempt.
///
/// The S3 provider applies both limits (its SDK has a connect timeout and an attempt timeout).
/// The GCS provider applies `attempt` only: its client has no separate connect limit, so
/// connecting is bounded by the attempt's limit and `connect` is not used there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeoutSettings {
    /// Establishing a connection. Default 5 s.
    pub connect: Duration,
    /// One attempt of one request, body included (a 2 MiB blob on a slow link must fit).
    /// Default 60 s, Temporal's per-call timeout.
    pub attempt: Duration,
}

impl Default for TimeoutSettings {
    fn default() -> Self {
        TimeoutSettings {
            connect: Duration::from_secs(5),
            attempt: Duration::from_secs(60),
        }
    }
}
