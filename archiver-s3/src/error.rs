//! The one place where S3 failures become archiver-core errors, with their retryability.
//!
//! Every SDK call goes through [`classify`]; callers branch on the [`Kind`] they care about
//! (a missing key, a failed precondition) and turn the rest into core errors with
//! [`S3Failure::into_core`].

use std::fmt;

use archiver_core::Error;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// The provider name in [`Error::Backend`].
pub(crate) const PROVIDER: &str = "s3";

/// What went wrong, as far as a caller needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The bucket does not exist.
    NoSuchBucket,
    /// The key (or, for HeadBucket, the bucket) does not exist.
    NotFound,
    /// Credentials are missing, wrong, or lack the permission.
    AccessDenied,
    /// A conditional write lost: the object exists (`If-None-Match: *`).
    PreconditionFailed,
    /// A concurrent conditional write is in flight (409); trying again resolves it.
    Conflict,
    /// The server asks us to slow down (429, 503 SlowDown, throttling codes).
    Throttled,
    /// The server failed (other 5xx).
    ServerError,
    /// No answer in time.
    Timeout,
    /// The endpoint could not be reached or the connection dropped.
    Connection,
    /// The request itself is wrong (other 4xx, a bad endpoint URL, a request the SDK could
    /// not build).
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

/// A classified S3 failure: the kind, and what the server or connector said (never the
/// request, so never a credential).
#[derive(Debug)]
pub(crate) struct S3Failure {
    pub(crate) kind: Kind,
    status: Option<u16>,
    code: Option<String>,
    detail: String,
}

impl fmt::Display for S3Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            Kind::NoSuchBucket => "the bucket does not exist",
            Kind::NotFound => "not found",
            Kind::AccessDenied => "access denied (check the credentials and the bucket policy)",
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
            write!(f, " (HTTP {status}")?;
            if let Some(code) = &self.code {
                write!(f, " {code}")?;
            }
            write!(f, ")")?;
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

impl std::error::Error for S3Failure {}

impl S3Failure {
    /// A response body that broke off while being read.
    pub(crate) fn dropped(detail: String) -> Self {
        failure(Kind::Connection, None, None, detail)
    }

    /// A request we could not even build.
    pub(crate) fn invalid(detail: String) -> Self {
        failure(Kind::BadRequest, None, None, detail)
    }

    /// The core error for this failure during `operation` on `location` (`s3://bucket/key`).
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

/// Classifies any SDK error. The SDK has already retried what its retry policy retries, so
/// this is the final word on retryability.
pub(crate) fn classify<E, R>(err: &SdkError<E, R>) -> S3Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + HttpStatus,
{
    let detail = DisplayErrorContext(err).to_string();
    match err {
        SdkError::ConstructionFailure(_) => failure(Kind::BadRequest, None, None, detail),
        SdkError::TimeoutError(_) => failure(Kind::Timeout, None, None, detail),
        SdkError::DispatchFailure(dispatch) => {
            let kind = if dispatch.is_timeout() {
                Kind::Timeout
            } else if dispatch.is_user() {
                Kind::BadRequest
            } else {
                Kind::Connection
            };
            failure(kind, None, None, detail)
        }
        // A response that was cut off or did not parse: the connection dropped mid-answer.
        SdkError::ResponseError(_) => failure(Kind::Connection, None, None, detail),
        SdkError::ServiceError(service) => {
            let status = service.raw().status_code();
            let code = err.code().map(str::to_owned);
            let message = err.message().unwrap_or_default().to_owned();
            failure(
                kind_of(status, code.as_deref()),
                Some(status),
                code,
                message,
            )
        }
        _ => failure(Kind::BadRequest, None, None, detail),
    }
}

fn failure(kind: Kind, status: Option<u16>, code: Option<String>, detail: String) -> S3Failure {
    S3Failure {
        kind,
        status,
        code,
        detail,
    }
}

/// The kind of a service error, from its error code first (servers agree on codes more than
/// on statuses) and its HTTP status otherwise.
fn kind_of(status: u16, code: Option<&str>) -> Kind {
    match code {
        Some("NoSuchBucket") => return Kind::NoSuchBucket,
        Some("NoSuchKey" | "NotFound") => return Kind::NotFound,
        Some("AccessDenied" | "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "ExpiredToken") => {
            return Kind::AccessDenied;
        }
        Some("PreconditionFailed") => return Kind::PreconditionFailed,
        Some("ConditionalRequestConflict" | "OperationAborted") => return Kind::Conflict,
        Some(
            "SlowDown"
            | "Throttling"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "TooManyRequests"
            | "RequestThrottled",
        ) => return Kind::Throttled,
        Some("RequestTimeout" | "RequestTimeTooSkewed") if status < 500 => {
            // A timeout the server measured, or a clock skew the SDK corrects on retry.
            return Kind::Timeout;
        }
        Some("InternalError" | "ServiceUnavailable") => return Kind::ServerError,
        _ => {}
    }
    match status {
        401 | 403 => Kind::AccessDenied,
        404 => Kind::NotFound,
        408 => Kind::Timeout,
        409 => Kind::Conflict,
        412 => Kind::PreconditionFailed,
        429 => Kind::Throttled,
        503 => Kind::Throttled,
        500..=599 => Kind::ServerError,
        _ => Kind::BadRequest,
    }
}

/// The HTTP status of a raw response (a trait so tests can classify without a real response).
pub(crate) trait HttpStatus {
    /// The status code.
    fn status_code(&self) -> u16;
}

impl HttpStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_decide_before_statuses() {
        assert_eq!(kind_of(404, Some("NoSuchBucket")), Kind::NoSuchBucket);
        assert_eq!(kind_of(404, Some("NoSuchKey")), Kind::NotFound);
        assert_eq!(kind_of(404, None), Kind::NotFound);
        assert_eq!(
            kind_of(403, Some("SignatureDoesNotMatch")),
            Kind::AccessDenied
        );
        assert_eq!(kind_of(503, Some("SlowDown")), Kind::Throttled);
        assert_eq!(kind_of(400, Some("RequestTimeout")), Kind::Timeout);
        assert_eq!(kind_of(500, None), Kind::ServerError);
        assert_eq!(kind_of(412, None), Kind::PreconditionFailed);
        assert_eq!(
            kind_of(409, Some("ConditionalRequestConflict")),
            Kind::Conflict
        );
        assert_eq!(kind_of(400, Some("InvalidArgument")), Kind::BadRequest);
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
        let missing = failure(
            Kind::NoSuchBucket,
            Some(404),
            Some("NoSuchBucket".into()),
            String::new(),
        );
        assert!(matches!(
            missing.into_core("put", "s3://b/k"),
            Error::InvalidUri { .. }
        ));
        let slow = failure(
            Kind::Throttled,
            Some(503),
            Some("SlowDown".into()),
            "x".into(),
        );
        let err = slow.into_core("put", "s3://b/k");
        assert!(err.is_retryable());
        assert_eq!(
            err.to_string(),
            "s3 backend error during put s3://b/k: throttled by the server (HTTP 503 SlowDown): x"
        );
        let denied = failure(Kind::AccessDenied, Some(403), None, String::new());
        assert!(!denied.into_core("get", "s3://b/k").is_retryable());
    }
}
