//! The one place where S3 failures are classified: every SDK call goes through [`classify`],
//! which decides the [`FailureKind`] (and so the retryability) of the kit's [`Failure`].

use std::fmt;

use archiver_kit::object::{Failure, FailureKind as Kind};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::location::SCHEME;

/// Classifies any SDK error. The SDK has already retried what its retry policy retries, so
/// this is the final word on retryability.
pub(crate) fn classify<E, R>(err: &SdkError<E, R>) -> Failure
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

fn failure(kind: Kind, status: Option<u16>, code: Option<String>, detail: String) -> Failure {
    Failure::new(SCHEME, kind, status, detail).with_code(code)
}

/// A response body that broke off while being read.
pub(crate) fn dropped(detail: String) -> Failure {
    failure(Kind::Connection, None, None, detail)
}

/// A request we could not even build.
pub(crate) fn invalid(detail: String) -> Failure {
    failure(Kind::BadRequest, None, None, detail)
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
        // S3 answers 503 to say slow down, even without the SlowDown code.
        503 => Kind::Throttled,
        _ => Kind::from_http_status(status),
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
    fn failures_name_status_and_code() {
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
    }
}
