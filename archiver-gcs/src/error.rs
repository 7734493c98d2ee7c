//! The one place where GCS failures are classified: every client call goes through
//! [`classify`], which decides the [`FailureKind`](Kind) (and so the retryability) of the kit's
//! [`Failure`].

use std::path::Path;

use archiver_kit::object::{Failure, FailureKind as Kind};
use gcloud_storage::client::google_cloud_auth::error::Error as AuthError;
use gcloud_storage::http::Error as ClientError;

use crate::location::SCHEME;

/// A failure of the GCS provider.
pub(crate) fn failure(kind: Kind, status: Option<u16>, detail: impl Into<String>) -> Failure {
    Failure::new(SCHEME, kind, status, detail)
}

/// An attempt that got no answer within `limit`.
pub(crate) fn timed_out(limit: std::time::Duration) -> Failure {
    failure(Kind::Timeout, None, format!("no answer within {limit:?}"))
}

/// Classifies any client error. Retries are ours (see the store), so this decides them.
pub(crate) fn classify(err: &ClientError) -> Failure {
    match err {
        ClientError::Response(response) => {
            let reason = response.errors.first().map(|e| e.reason.as_str());
            failure(
                kind_of(response.code, reason),
                Some(response.code),
                response.message.clone(),
            )
        }
        ClientError::HttpClient(e) | ClientError::RawResponse(e, _) => classify_http(e, ""),
        ClientError::HttpMiddleware(e) => failure(Kind::Connection, None, e.to_string()),
        // A token refresh that failed on the way to a request.
        ClientError::TokenSource(e) => match e.downcast_ref::<AuthError>() {
            Some(auth) => classify_auth(auth, None),
            None => failure(
                Kind::AccessDenied,
                None,
                format!("cannot obtain an access token: {e}"),
            ),
        },
        ClientError::InvalidRangeHeader(e) => failure(Kind::BadRequest, None, e.clone()),
    }
}

/// Classifies a failure to load credentials or to get an access token with them (from
/// `key_file` when one was given, named in the detail). An OAuth endpoint that is unreachable,
/// slow, throttling or failing (5xx) is worth another attempt, as a storage request would be;
/// a token request it refuses (`invalid_grant`: a revoked or wrong key) and a key file that
/// cannot be used are not.
pub(crate) fn classify_auth(err: &AuthError, key_file: Option<&Path>) -> Failure {
    let with = key_file
        .map(|path| format!(" with the credentials file {}", path.display()))
        .unwrap_or_default();
    let token = format!("cannot obtain an access token{with}: ");
    match err {
        AuthError::HttpError(e) => classify_http(e, &token),
        AuthError::TokenErrorResponse { status, .. } => {
            let kind = match Kind::from_http_status(*status) {
                retryable if retryable.is_retryable() => retryable,
                _ => Kind::AccessDenied,
            };
            failure(kind, Some(*status), format!("{token}{err}"))
        }
        other => failure(
            Kind::AccessDenied,
            None,
            format!("cannot load credentials{with}: {other}"),
        ),
    }
}

/// Classifies an HTTP client error: by the answer's status when there was one, or by what
/// kept the answer from coming. `context` starts the failure's detail.
fn classify_http(e: &reqwest::Error, context: &str) -> Failure {
    // Only the error's text: reqwest never puts headers (the token) in it.
    let detail = format!("{context}{}", error_chain(e));
    if let Some(status) = e.status() {
        failure(
            kind_of(status.as_u16(), None),
            Some(status.as_u16()),
            detail,
        )
    } else if e.is_timeout() {
        failure(Kind::Timeout, None, detail)
    } else if e.is_builder() {
        failure(Kind::BadRequest, None, detail)
    } else {
        // Connect failures, resets, bodies cut off mid-transfer, undecodable answers.
        failure(Kind::Connection, None, detail)
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
    Kind::from_http_status(status)
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
    fn token_failures_are_retryable_only_when_the_endpoint_is() {
        let token_answer = |status: u16, error: &str| {
            classify(&ClientError::TokenSource(Box::new(
                AuthError::TokenErrorResponse {
                    status,
                    error: error.to_owned(),
                    error_description: "said the endpoint".to_owned(),
                },
            )))
        };
        let refused = token_answer(400, "invalid_grant");
        assert_eq!(refused.kind(), Kind::AccessDenied);
        assert!(refused.to_string().contains("invalid_grant"), "{refused}");
        assert_eq!(
            token_answer(401, "unauthorized_client").kind(),
            Kind::AccessDenied
        );
        assert_eq!(token_answer(503, "unavailable").kind(), Kind::ServerError);
        assert_eq!(token_answer(429, "rate_limited").kind(), Kind::Throttled);
        let unusable = classify_auth(&AuthError::NoPrivateKeyFound, Some(Path::new("/k.json")));
        assert_eq!(unusable.kind(), Kind::AccessDenied);
        let text = unusable.to_string();
        assert!(
            text.contains("cannot load credentials with the credentials file /k.json"),
            "{text}"
        );
        // A token source error of another type: nothing to go on, so not retried.
        let other = classify(&ClientError::TokenSource("no token".into()));
        assert_eq!(other.kind(), Kind::AccessDenied);
    }

    #[test]
    fn failures_name_status_and_attempts() {
        let slow = failure(Kind::Throttled, Some(429), "slow down").with_attempts(3);
        let err = slow.into_core("put", "gs://b/k");
        assert!(err.is_retryable());
        assert_eq!(
            err.to_string(),
            "gs backend error during put gs://b/k: throttled by the server (HTTP 429): slow down (after 3 attempts)"
        );
    }
}
