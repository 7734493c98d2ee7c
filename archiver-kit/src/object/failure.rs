//! [`Failure`]: a provider's classified object-store failure, and how it becomes a core
//! [`Error`]. Each provider has one classifier (SDK error to [`Failure`]); the archivers branch
//! on the [`FailureKind`] (a lost precondition, a conflict, an outcome that may have landed).

use std::fmt;

use archiver_core::Error;

/// What went wrong, as far as an archiver needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// The bucket does not exist.
    NoSuchBucket,
    /// The key (or, for a bucket lookup, the bucket) does not exist.
    NotFound,
    /// Credentials are missing, wrong, or lack the permission.
    AccessDenied,
    /// A conditional write lost: the object exists.
    PreconditionFailed,
    /// A concurrent conditional request on the same object (409); trying again resolves it.
    Conflict,
    /// The server asks us to slow down (429, 503 SlowDown, throttling codes).
    Throttled,
    /// The server failed (5xx).
    ServerError,
    /// No answer in time.
    Timeout,
    /// The endpoint could not be reached or the connection dropped.
    Connection,
    /// The request itself is wrong (other 4xx, a request that could not be built).
    BadRequest,
}

impl FailureKind {
    /// Whether the same call can succeed later without anyone changing anything.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            FailureKind::Conflict
                | FailureKind::Throttled
                | FailureKind::ServerError
                | FailureKind::Timeout
                | FailureKind::Connection
        )
    }

    /// Whether a write that failed this way may still have been stored (the request may have
    /// reached the server before the answer was lost).
    pub fn may_have_landed(self) -> bool {
        matches!(
            self,
            FailureKind::Connection | FailureKind::Timeout | FailureKind::ServerError
        )
    }

    /// The kind an HTTP status implies, for an answer whose body names no more telling
    /// error code.
    ///
    /// ```
    /// use archiver_kit::object::FailureKind;
    /// assert_eq!(FailureKind::from_http_status(429), FailureKind::Throttled);
    /// assert_eq!(FailureKind::from_http_status(502), FailureKind::ServerError);
    /// assert_eq!(FailureKind::from_http_status(400), FailureKind::BadRequest);
    /// ```
    pub fn from_http_status(status: u16) -> FailureKind {
        match status {
            401 | 403 => FailureKind::AccessDenied,
            404 => FailureKind::NotFound,
            408 => FailureKind::Timeout,
            409 => FailureKind::Conflict,
            412 => FailureKind::PreconditionFailed,
            429 => FailureKind::Throttled,
            500..=599 => FailureKind::ServerError,
            _ => FailureKind::BadRequest,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            FailureKind::NoSuchBucket => "the bucket does not exist",
            FailureKind::NotFound => "not found",
            FailureKind::AccessDenied => {
                "access denied (check the credentials and the bucket's permissions)"
            }
            FailureKind::PreconditionFailed => "precondition failed",
            FailureKind::Conflict => "conflicting concurrent request",
            FailureKind::Throttled => "throttled by the server",
            FailureKind::ServerError => "server error",
            FailureKind::Timeout => "timed out",
            FailureKind::Connection => "cannot reach the endpoint or the connection dropped",
            FailureKind::BadRequest => "request rejected",
        }
    }
}

/// A classified failure: the kind, and what the server or connector said (never the request,
/// so never a credential).
#[derive(Debug)]
pub struct Failure {
    provider: &'static str,
    kind: FailureKind,
    status: Option<u16>,
    code: Option<String>,
    detail: String,
    attempts: u32,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.describe())?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status}")?;
            if let Some(code) = &self.code {
                write!(f, " {code}")?;
            }
            f.write_str(")")?;
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        if self.attempts > 1 {
            write!(f, " (after {} attempts)", self.attempts)?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

impl Failure {
    /// A failure of `provider` (its scheme) of `kind`, with the HTTP status when there was an
    /// answer and what was said.
    pub fn new(
        provider: &'static str,
        kind: FailureKind,
        status: Option<u16>,
        detail: impl Into<String>,
    ) -> Self {
        Failure {
            provider,
            kind,
            status,
            code: None,
            detail: detail.into(),
            attempts: 1,
        }
    }

    /// The same failure with the server's error code (e.g. `SlowDown`).
    pub fn with_code(mut self, code: Option<String>) -> Self {
        self.code = code;
        self
    }

    /// The same failure, reclassified (e.g. a bucket lookup's 404 is [`FailureKind::NoSuchBucket`]).
    pub fn with_kind(mut self, kind: FailureKind) -> Self {
        self.kind = kind;
        self
    }

    /// The same failure after `attempts` attempts.
    pub fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> FailureKind {
        self.kind
    }

    /// The core error for this failure during `operation` on `location` (`s3://bucket/key`):
    /// a missing bucket is [`Error::InvalidUri`], a missing key [`Error::NotFound`], the rest
    /// [`Error::Backend`] with the kind's retryability.
    pub fn into_core(self, operation: &str, location: &str) -> Error {
        match self.kind {
            FailureKind::NoSuchBucket => Error::InvalidUri {
                uri: location.to_owned(),
                reason: format!("requested bucket does not exist ({operation})"),
            },
            FailureKind::NotFound => Error::NotFound {
                what: location.to_owned(),
            },
            kind => Error::backend(
                self.provider,
                format!("{operation} {location}"),
                self,
                kind.is_retryable(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transient_kinds_are_retryable() {
        use FailureKind::*;
        for kind in [Throttled, ServerError, Timeout, Connection, Conflict] {
            assert!(kind.is_retryable(), "{kind:?}");
        }
        for kind in [
            NoSuchBucket,
            NotFound,
            AccessDenied,
            PreconditionFailed,
            BadRequest,
        ] {
            assert!(!kind.is_retryable(), "{kind:?}");
        }
    }

    #[test]
    fn core_errors_keep_kind_and_retryability() {
        let missing = Failure::new("s3", FailureKind::NoSuchBucket, Some(404), "");
        assert!(matches!(
            missing.into_core("put", "s3://b/k"),
            Error::InvalidUri { .. }
        ));
        assert!(matches!(
            Failure::new("s3", FailureKind::NotFound, Some(404), "").into_core("get", "s3://b/k"),
            Error::NotFound { .. }
        ));
        let slow = Failure::new("s3", FailureKind::Throttled, Some(503), "x")
            .with_code(Some("SlowDown".into()))
            .with_attempts(3);
        let err = slow.into_core("put", "s3://b/k");
        assert!(err.is_retryable());
        assert_eq!(
            err.to_string(),
            "s3 backend error during put s3://b/k: throttled by the server (HTTP 503 SlowDown): x (after 3 attempts)"
        );
        let denied = Failure::new("gs", FailureKind::AccessDenied, Some(403), "");
        assert!(!denied.into_core("get", "gs://b/k").is_retryable());
    }
}
