//! The one place where GCS failures become archiver-core errors, with their retryability.
//!
//! Every client call goes through [`classify`]; callers branch on the [`Kind`] they care about
//! (a missing object, a failed precondition) and turn the rest into core errors with
//! [`GcsFailure::into_core`].

use std::fmt;

use archiver_core::Error;
use gcloud_storage::http::Error as ClientError;

/// The provider name in [`Error::Backend`].
pub(crate) const PROVIDER: &str = "gs";

/// What went wrong, as far as a caller needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The bucket does not exist.
    NoSuchBucket,
    /// The object (or, for a bucket lookup, the bucket) does not exist.
    NotFound,
    /// Credentials are missing, wrong, or lack the permission (401, 403, a token that could
    /// not be obtained).
    AccessDenied,
    /// A conditional write lost: the object exists (`ifGenerationMatch=0`, 412).
    PreconditionFailed,
    /// A concurrent request on the same object (409); trying again resolves it.
    Conflict,
    /// The server asks us to slow down (429).
    Throttled,
    /// The server failed (5xx).
    ServerError,
    /// No answer in time (ours or the server's 408).
    Timeout,
    /// The endpoint could not be reached or the connection dropped mid-request.
    Connection,
    /// The request itself is wrong (other 4xx, a request that could not be built).
    BadRequest,
}

impl Kind {
    /// Whether the same call can succeed later without anyone changing anything.
    pub(crate) fn is_retryable(self) -> bool {
        matches!(
            self,
            Kind::Conflict | Kind::Throttled | Kind::ServerError | Kind::Timeout | Kind::Connection
        )
    }
}

/// A classified GCS failure: the kind, and what the server or HTTP client said (never the
/// request headers, so never a token).
#[derive(Debug)]
pub(crate) struct GcsFailure {
    pub(crate) kind: Kind,
    status: Option<u16>,
    detail: String,
    /// Attempts made before giving up (1 without retries).
    pub(crate) attempts: u32,
}

impl fmt::Display for GcsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            Kind::NoSuchBucket => "the bucket does not exist",
            Kind::NotFound => "not found",
            Kind::AccessDenied => "access denied (check the credentials and the bucket's IAM)",
            Kind::PreconditionFailed => "precondition failed",
            Kind::Conflict => "conflicting concurrent request",
            Kind::Throttled => "throttled by the server",
            Kind::ServerError => "server error",
            Kind::Timeout => "timed out",
            Kind::Connection => "cannot reach the endpoint or the connection dropped",
            Kind::BadRequest => "request rejected",
        };
        write!(f, "{what}")?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status})")?;
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

impl std::error::Error for GcsFailure {}

impl GcsFailure {
    pub(crate) fn new(kind: Kind, status: Option<u16>, detail: impl Into<String>) -> Self {
        GcsFailure {
            kind,
            status,
            detail: detail.into(),
            attempts: 1,
        }
    }

    /// An attempt that got no answer within `limit`.
    pub(crate) fn timed_out(limit: std::time::Duration) -> Self {
        Self::new(Kind::Timeout, None, format!("no answer within {limit:?}"))
    }

    /// The core error for this failure during `operation` on `location` (`gs://bucket/name`).
    pub(crate) fn into_core(self, operation: &str, location: &str) -> Error {
        match self.kind {
            Kind::NoSuchBucket => Error::InvalidUri {
                uri: location.to_owned(),
                reason: format!("requested bucket does not exist ({operation})"),
            },
            Kind::NotFound => Error::NotFound {
                what: location.to_owned(),
            },
            kind => Error::backend(
                PROVIDER,
                format!("{operation} {location}"),
                self,
                kind.is_retryable(),
            ),
        }
    }
}

/// Classifies any client error. Retries are ours (see the store), so this decides them.
pub(crate) fn classify(err: &ClientError) -> GcsFailure {
    match err {
        ClientError::Response(response) => {
            let reason = response.errors.first().map(|e| e.reason.as_str());
            GcsFailure::new(
                kind_of(response.code, reason),
                Some(response.code),
                response.message.clone(),
            )
        }
        ClientError::HttpClient(e) | ClientError::RawResponse(e, _) => {
            // Only the error's text: reqwest never puts headers (the token) in it.
            let detail = error_chain(e);
            if let Some(status) = e.status() {
                GcsFailure::new(
                    kind_of(status.as_u16(), None),
                    Some(status.as_u16()),
                    detail,
                )
            } else if e.is_timeout() {
                GcsFailure::new(Kind::Timeout, None, detail)
            } else if e.is_builder() {
                GcsFailure::new(Kind::BadRequest, None, detail)
            } else {
                // Connect failures, resets, bodies cut off mid-transfer, undecodable answers.
                GcsFailure::new(Kind::Connection, None, detail)
            }
        }
        ClientError::HttpMiddleware(e) => GcsFailure::new(Kind::Connection, None, e.to_string()),
        ClientError::TokenSource(e) => GcsFailure::new(
            Kind::AccessDenied,
            None,
            format!("cannot obtain an access token: {e}"),
        ),
        ClientError::InvalidRangeHeader(e) => GcsFailure::new(Kind::BadRequest, None, e.clone()),
    }
}

/// An error and its sources, `: `-joined (reqwest's own Display hides the cause).
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The kind of an HTTP answer, from its JSON API error reason first and its status otherwise.
fn kind_of(status: u16, reason: Option<&str>) -> Kind {
    match reason {
        Some("conditionNotMet") => return Kind::PreconditionFailed,
        Some("rateLimitExceeded" | "userRateLimitExceeded") => return Kind::Throttled,
        _ => {}
    }
    match status {
        401 | 403 => Kind::AccessDenied,
        404 => Kind::NotFound,
        408 => Kind::Timeout,
        409 => Kind::Conflict,
        412 => Kind::PreconditionFailed,
        429 => Kind::Throttled,
        500..=599 => Kind::ServerError,
        _ => Kind::BadRequest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_reasons_map_to_kinds() {
        assert_eq!(kind_of(404, None), Kind::NotFound);
        assert_eq!(kind_of(412, None), Kind::PreconditionFailed);
        assert_eq!(
            kind_of(400, Some("conditionNotMet")),
            Kind::PreconditionFailed
        );
        assert_eq!(kind_of(403, Some("rateLimitExceeded")), Kind::Throttled);
        assert_eq!(kind_of(403, Some("forbidden")), Kind::AccessDenied);
        assert_eq!(kind_of(401, None), Kind::AccessDenied);
        assert_eq!(kind_of(429, None), Kind::Throttled);
        assert_eq!(kind_of(503, None), Kind::ServerError);
        assert_eq!(kind_of(408, None), Kind::Timeout);
        assert_eq!(kind_of(400, Some("invalid")), Kind::BadRequest);
    }

    #[test]
    fn only_transient_kinds_are_retryable() {
        for kind in [
            Kind::Throttled,
            Kind::ServerError,
            Kind::Timeout,
            Kind::Connection,
            Kind::Conflict,
        ] {
            assert!(kind.is_retryable(), "{kind:?}");
        }
        for kind in [
            Kind::NoSuchBucket,
            Kind::NotFound,
            Kind::AccessDenied,
            Kind::PreconditionFailed,
            Kind::BadRequest,
        ] {
            assert!(!kind.is_retryable(), "{kind:?}");
        }
    }

    #[test]
    fn core_errors_keep_kind_and_retryability() {
        let missing = GcsFailure::new(Kind::NoSuchBucket, Some(404), "");
        assert!(matches!(
            missing.into_core("put", "gs://b/k"),
            Error::InvalidUri { .. }
        ));
        let mut slow = GcsFailure::new(Kind::Throttled, Some(429), "slow down");
        slow.attempts = 3;
        let err = slow.into_core("put", "gs://b/k");
        assert!(err.is_retryable());
        assert_eq!(
            err.to_string(),
            "gs backend error during put gs://b/k: throttled by the server (HTTP 429): slow down (after 3 attempts)"
        );
        let denied = GcsFailure::new(Kind::AccessDenied, Some(403), "");
        assert!(!denied.into_core("get", "gs://b/k").is_retryable());
    }
}
