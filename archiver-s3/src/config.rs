//! [`S3Settings`]: how to reach S3 (region, endpoint, path style, credentials, retries,
//! timeouts), from code, from the environment, or from Temporal's `s3store` config section.

use std::fmt;

use archiver_core::config::S3Config;
use archiver_kit::object::{RetrySettings, TimeoutSettings};

/// A secret string: usable through [`expose`](Self::expose), never shown (`Debug` prints
/// `"<redacted>"`; there is no `Display`).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for handing to the SDK.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

/// Static credentials. Without them the standard AWS credential chain is used (environment,
/// shared profile files, web identity, ECS and EC2 instance metadata).
#[derive(Clone, PartialEq, Eq)]
pub struct StaticCredentials {
    /// The access key id (not secret on its own, but shown only in part).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: Secret,
    /// A session token, for temporary credentials.
    pub session_token: Option<Secret>,
}

impl fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The first 4 characters name the key for an operator (`AKIA...`) without giving it away.
        let shown: String = self.access_key_id.chars().take(4).collect();
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &format_args!("{shown}..."))
            .field("secret_access_key", &self.secret_access_key)
            .field("session_token", &self.session_token)
            .finish()
    }
}

/// How the provider reaches S3. Unset fields fall back to the AWS SDK's own discovery when the
/// client is first used (`AWS_REGION`, `AWS_ENDPOINT_URL`, profile files, the credential
/// chain).
///
/// ```
/// use archiver_s3::S3Settings;
/// let settings = S3Settings::new()
///     .with_region("us-east-1")
///     .with_endpoint("http://127.0.0.1:8333")
///     .with_force_path_style(true)
///     .with_credentials("AKIAEXAMPLE", "wJalrXUtnFEMI")
///     .with_max_attempts(3);
/// let shown = format!("{settings:?}");
/// assert!(!shown.contains("wJalrXUtnFEMI") && !shown.contains("AKIAEXAMPLE"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct S3Settings {
    /// The region, e.g. `us-east-1`.
    pub region: Option<String>,
    /// An S3-compatible endpoint, e.g. `http://127.0.0.1:8333`; AWS when unset.
    pub endpoint: Option<String>,
    /// `http://host/bucket/key` addressing instead of `http://bucket.host/key` (most
    /// S3-compatible servers need it).
    pub force_path_style: bool,
    /// Static credentials; the standard credential chain when unset.
    pub credentials: Option<StaticCredentials>,
    /// Retry policy.
    pub retry: RetrySettings,
    /// Time limits.
    pub timeouts: TimeoutSettings,
    /// Log one line per request attempt (method, path and query, status) at `DEBUG` under the
    /// `tracing` target `archiver_s3::request`; never headers or bodies. Temporal's `logLevel`
    /// turns it on.
    pub log_requests: bool,
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("force_path_style", &self.force_path_style)
            .field("credentials", &self.credentials)
            .field("retry", &self.retry)
            .field("timeouts", &self.timeouts)
            .field("log_requests", &self.log_requests)
            .finish()
    }
}

impl S3Settings {
    /// Nothing set: the SDK discovers region, endpoint and credentials.
    pub fn new() -> Self {
        Self::default()
    }

    /// Settings from the standard `AWS_*` variables: `AWS_REGION` (or `AWS_DEFAULT_REGION`),
    /// `AWS_ENDPOINT_URL_S3` (or `AWS_ENDPOINT_URL`), `AWS_S3_FORCE_PATH_STYLE` (`true`/`1`),
    /// `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`) and
    /// `AWS_MAX_ATTEMPTS`. Unset or unparsable variables are skipped; without keys the
    /// credential chain (profiles, web identity, instance metadata) is used.
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// [`from_env`](Self::from_env) over any variable source (testable without touching the
    /// process environment).
    pub(crate) fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let mut settings = Self::new();
        settings.region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"));
        settings.endpoint = var("AWS_ENDPOINT_URL_S3").or_else(|| var("AWS_ENDPOINT_URL"));
        settings.force_path_style = var("AWS_S3_FORCE_PATH_STYLE")
            .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
        if let (Some(id), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
            settings.credentials = Some(StaticCredentials {
                access_key_id: id,
                secret_access_key: Secret::new(secret),
                session_token: var("AWS_SESSION_TOKEN").map(Secret::new),
            });
        }
        if let Some(attempts) = var("AWS_MAX_ATTEMPTS").and_then(|v| v.parse().ok()) {
            settings.retry.max_attempts = attempts;
        }
        settings
    }

    /// Settings from Temporal's `s3store` section (`region`, `endpoint`, `s3ForcePathStyle`,
    /// `logLevel`); credentials come from the standard chain, as in Temporal.
    ///
    /// `logLevel` is an aws-sdk-go log mode; any value but 0 (off) turns on
    /// [`log_requests`](Self::log_requests). The Go modes that also log request signing or
    /// HTTP bodies (`LogDebugWithSigning` 4097, `LogDebugWithHTTPBody` 4098) get the same
    /// request lines and a warning: signatures and archived data are never logged.
    pub fn from_config(config: &S3Config) -> Self {
        if config.log_level & GO_SIGNING_OR_BODY != 0 {
            tracing::warn!(
                log_level = config.log_level,
                "s3store logLevel asks for signing or HTTP body logging, which archiver-s3 never \
                 does (credentials, archived data); logging one line per request instead"
            );
        }
        let region = config.region.trim();
        S3Settings {
            region: (!region.is_empty()).then(|| region.to_owned()),
            endpoint: config.endpoint.clone().filter(|e| !e.trim().is_empty()),
            force_path_style: config.s3_force_path_style,
            log_requests: config.log_level != 0,
            ..Self::default()
        }
    }

    /// Sets the region.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Sets an S3-compatible endpoint.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Sets path-style addressing.
    pub fn with_force_path_style(mut self, force: bool) -> Self {
        self.force_path_style = force;
        self
    }

    /// Sets static credentials.
    pub fn with_credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Self {
        self.credentials = Some(StaticCredentials {
            access_key_id: access_key_id.into(),
            secret_access_key: Secret::new(secret_access_key),
            session_token: None,
        });
        self
    }

    /// Sets the attempts per request (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.retry.max_attempts = attempts.max(1);
        self
    }

    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetrySettings) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the time limits.
    pub fn with_timeouts(mut self, timeouts: TimeoutSettings) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Turns the per-request log lines on or off (see [`log_requests`](Self::log_requests)).
    pub fn with_request_log(mut self, on: bool) -> Self {
        self.log_requests = on;
        self
    }
}

/// aws-sdk-go v1's `LogDebugWithSigning` and `LogDebugWithHTTPBody` bits (the values
/// Temporal's documentation lists), whose logs would carry signatures and bodies.
const GO_SIGNING_OR_BODY: u32 = 0x1 | 0x2;

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let mut settings = S3Settings::new().with_credentials("AKIASECRETID", "very-secret-key");
        if let Some(c) = settings.credentials.as_mut() {
            c.session_token = Some(Secret::new("session-token-value"));
        }
        for shown in [format!("{settings:?}"), format!("{settings:#?}")] {
            for secret in ["very-secret-key", "session-token-value", "AKIASECRETID"] {
                assert!(!shown.contains(secret), "{secret} leaked: {shown}");
            }
            assert!(shown.contains("AKIA..."), "{shown}");
        }
    }

    #[test]
    fn from_vars_reads_the_standard_names() {
        let vars: HashMap<&str, &str> = HashMap::from([
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9000"),
            ("AWS_S3_FORCE_PATH_STYLE", "true"),
            ("AWS_ACCESS_KEY_ID", "id"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_MAX_ATTEMPTS", "7"),
        ]);
        let s = S3Settings::from_vars(|k| vars.get(k).map(|v| (*v).to_owned()));
        assert_eq!(s.region.as_deref(), Some("eu-west-1"));
        assert_eq!(s.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(s.force_path_style);
        assert_eq!(s.retry.max_attempts, 7);
        let c = s.credentials.expect("credentials");
        assert_eq!(
            (c.access_key_id.as_str(), c.secret_access_key.expose()),
            ("id", "secret")
        );
        let empty = S3Settings::from_vars(|_| None);
        assert_eq!(empty, S3Settings::new());
    }

    #[test]
    fn from_config_keeps_temporal_fields() {
        let config = S3Config::new("us-west-2")
            .with_endpoint("http://localhost:4566")
            .with_force_path_style(true);
        let s = S3Settings::from_config(&config);
        assert_eq!(s.region.as_deref(), Some("us-west-2"));
        assert_eq!(s.endpoint.as_deref(), Some("http://localhost:4566"));
        assert!(s.force_path_style && s.credentials.is_none());
        assert!(!s.log_requests, "logLevel 0 is off");
    }

    #[test]
    fn log_level_turns_request_logging_on() {
        for level in [4096, 4097, 4098, 4100] {
            let s = S3Settings::from_config(&S3Config::new("us-east-1").with_log_level(level));
            assert!(s.log_requests, "{level}");
        }
    }
}
