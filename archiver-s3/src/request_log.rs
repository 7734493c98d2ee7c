//! [`RequestLog`]: one `DEBUG` line per request attempt, what Temporal's `logLevel` turns on.

use std::time::Instant;

use aws_sdk_s3::config::interceptors::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_types::config_bag::{Storable, StoreReplace};

/// The `tracing` target of the lines, to filter on (`archiver_s3::request=debug`).
pub(crate) const TARGET: &str = "archiver_s3::request";

/// Logs each attempt's method, path, query and status (or that no response came), at `DEBUG`
/// under [`TARGET`]. Never headers or bodies: headers carry the signature and credential
/// scope, bodies the archived data; query parameters named `X-Amz-*` (presigned credentials)
/// are left out too.
#[derive(Debug)]
pub(crate) struct RequestLog;

/// The attempt being sent, noted before transmission: the request itself is gone (handed to
/// the HTTP client) when the attempt ends.
#[derive(Debug, Clone)]
struct Attempt {
    method: String,
    target: String,
    started: Instant,
}

impl Storable for Attempt {
    type Storer = StoreReplace<Self>;
}

impl Intercept for RequestLog {
    fn name(&self) -> &'static str {
        "RequestLog"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        let request = context.request();
        cfg.interceptor_state().store_put(Attempt {
            method: request.method().to_owned(),
            target: loggable_target(request.uri()),
            started: Instant::now(),
        });
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        // An attempt that failed before transmission (signing, say) sent nothing to log.
        let Some(Attempt {
            method,
            target,
            started,
        }) = cfg.load::<Attempt>().cloned()
        else {
            return Ok(());
        };
        cfg.interceptor_state().unset::<Attempt>();
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match context.response() {
            Some(response) => tracing::debug!(
                target: TARGET,
                %method,
                %target,
                status = response.status().as_u16(),
                elapsed_ms,
                "S3 request"
            ),
            None => tracing::debug!(
                target: TARGET,
                %method,
                %target,
                elapsed_ms,
                "S3 request: no response (connection error or timeout)"
            ),
        }
        Ok(())
    }
}

/// The path and query of `uri`, without the scheme and host and without `X-Amz-*` parameters.
fn loggable_target(uri: &str) -> String {
    let path_start = uri
        .find("://")
        .and_then(|scheme_end| uri[scheme_end + 3..].find('/').map(|i| scheme_end + 3 + i))
        .unwrap_or(uri.len());
    let target = &uri[path_start..];
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.get(..6).is_some_and(|n| n.eq_ignore_ascii_case("x-amz-")))
        .collect();
    if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_keep_path_and_query_but_no_credentials() {
        assert_eq!(
            loggable_target("http://127.0.0.1:8333/bucket/a/b?list-type=2&prefix=x%2F"),
            "/bucket/a/b?list-type=2&prefix=x%2F"
        );
        assert_eq!(
            loggable_target(
                "https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F&x-amz-signature=ab&x-id=GetObject"
            ),
            "/k?x-id=GetObject"
        );
        assert_eq!(loggable_target("https://host"), "");
    }
}
