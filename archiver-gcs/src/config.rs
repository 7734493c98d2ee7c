//! [`GcsSettings`]: how to reach GCS (endpoint, credentials, retries, timeouts), from code, from
//! the environment, or from Temporal's `gstorage` config section.

use std::path::PathBuf;

use archiver_core::config::GcsConfig;
use archiver_kit::object::{RetrySettings, TimeoutSettings};

/// The variable Google's clients read to reach an emulator (`host:port` or a URL) without
/// credentials.
const EMULATOR_HOST: &str = "STORAGE_EMULATOR_HOST";

/// Where the client's credentials come from. A key file's path is not secret; its contents
/// are never read into anything this crate prints.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Credentials {
    /// Application default credentials: `GOOGLE_APPLICATION_CREDENTIALS`, gcloud's user
    /// credentials, or the metadata server on Google Cloud.
    #[default]
    Default,
    /// A service-account key file (Temporal's `credentialsPath`).
    File(PathBuf),
    /// No credentials at all, for emulators such as fake-gcs-server.
    Anonymous,
}

/// How the provider reaches GCS.
///
/// ```
/// use archiver_gcs::{Credentials, GcsSettings};
/// let emulator = GcsSettings::new()
///     .with_endpoint("http://127.0.0.1:4443")
///     .with_anonymous()
///     .with_max_attempts(3);
/// assert_eq!(emulator.credentials, Credentials::Anonymous);
/// let production = GcsSettings::new().with_credentials_file("/etc/temporal/gcs-key.json");
/// assert!(format!("{production:?}").contains("gcs-key.json"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcsSettings {
    /// A GCS-compatible JSON API endpoint, e.g. `http://127.0.0.1:4443`; Google's when unset.
    pub endpoint: Option<String>,
    /// Where credentials come from.
    pub credentials: Credentials,
    /// Retry policy.
    pub retry: RetrySettings,
    /// Time limits. GCS applies `attempt` only (connecting is bounded by it); `connect` is not
    /// used.
    pub timeouts: TimeoutSettings,
}

impl GcsSettings {
    /// Google's endpoint with application default credentials.
    pub fn new() -> Self {
        Self::default()
    }

    /// Settings from the environment: `STORAGE_EMULATOR_HOST` (the variable Google's own
    /// clients honour; it also turns credentials off, as for them) or `ARCHIVER_GCS_ENDPOINT`
    /// (then `GOOGLE_APPLICATION_CREDENTIALS` or default credentials still apply).
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// [`from_env`](Self::from_env) over any variable source.
    pub(crate) fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let mut settings = Self::new();
        if let Some(host) = var(EMULATOR_HOST) {
            settings.use_emulator(host);
        } else if let Some(endpoint) = var("ARCHIVER_GCS_ENDPOINT") {
            settings.endpoint = Some(endpoint);
        }
        settings
    }

    /// Settings from Temporal's `gstorage` section: `credentialsPath` when set and not blank,
    /// default credentials otherwise (Temporal lets `GOOGLE_APPLICATION_CREDENTIALS` win over
    /// the path; the default credentials read that variable, so an unset path behaves alike).
    /// `STORAGE_EMULATOR_HOST` wins over both, as in Google's own clients (and Temporal's,
    /// through them): its endpoint, no credentials.
    pub fn from_config(config: &GcsConfig) -> Self {
        Self::from_config_and_vars(config, |name| {
            std::env::var(name).ok().filter(|v| !v.is_empty())
        })
    }

    /// [`from_config`](Self::from_config) over any variable source.
    pub(crate) fn from_config_and_vars(
        config: &GcsConfig,
        var: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let mut settings = Self::new();
        if let Some(path) = config
            .credentials_path
            .as_ref()
            .filter(|p| !p.as_os_str().is_empty())
        {
            settings.credentials = Credentials::File(path.clone());
        }
        if let Some(host) = var(EMULATOR_HOST) {
            settings.use_emulator(host);
        }
        settings
    }

    /// Points at the emulator `host` (`127.0.0.1:4443` or a URL), anonymously.
    fn use_emulator(&mut self, host: String) {
        self.endpoint = Some(if host.contains("://") {
            host
        } else {
            format!("http://{host}")
        });
        self.credentials = Credentials::Anonymous;
    }

    /// Sets a GCS-compatible endpoint.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Reads credentials from a service-account key file.
    pub fn with_credentials_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.credentials = Credentials::File(path.into());
        self
    }

    /// Sends no credentials (emulators).
    pub fn with_anonymous(mut self) -> Self {
        self.credentials = Credentials::Anonymous;
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

    /// Sets the time limits (`attempt`; see [`timeouts`](Self::timeouts)).
    pub fn with_timeouts(mut self, timeouts: TimeoutSettings) -> Self {
        self.timeouts = timeouts;
        self
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn emulator_host_means_anonymous() {
        let vars = HashMap::from([("STORAGE_EMULATOR_HOST", "127.0.0.1:4443")]);
        let s = GcsSettings::from_vars(|k| vars.get(k).map(|v| (*v).to_owned()));
        assert_eq!(s.endpoint.as_deref(), Some("http://127.0.0.1:4443"));
        assert_eq!(s.credentials, Credentials::Anonymous);
        let vars = HashMap::from([("ARCHIVER_GCS_ENDPOINT", "http://h:1")]);
        let s = GcsSettings::from_vars(|k| vars.get(k).map(|v| (*v).to_owned()));
        assert_eq!(s.endpoint.as_deref(), Some("http://h:1"));
        assert_eq!(s.credentials, Credentials::Default);
        assert_eq!(GcsSettings::from_vars(|_| None), GcsSettings::new());
    }

    #[test]
    fn from_config_uses_the_credentials_path() {
        let s = GcsSettings::from_config(&GcsConfig::default().with_credentials_path("/k.json"));
        assert_eq!(s.credentials, Credentials::File("/k.json".into()));
        let blank = GcsSettings::from_config(&GcsConfig::default().with_credentials_path(""));
        assert_eq!(blank.credentials, Credentials::Default);
    }

    #[test]
    fn from_config_honours_the_emulator_host() {
        let config = GcsConfig::default().with_credentials_path("/k.json");
        let emulator = HashMap::from([("STORAGE_EMULATOR_HOST", "localhost:9023")]);
        let s = GcsSettings::from_config_and_vars(&config, |k| {
            emulator.get(k).map(|v| (*v).to_owned())
        });
        assert_eq!(s.endpoint.as_deref(), Some("http://localhost:9023"));
        assert_eq!(s.credentials, Credentials::Anonymous);
        let url = HashMap::from([("STORAGE_EMULATOR_HOST", "https://gcs.test:443")]);
        let s = GcsSettings::from_config_and_vars(&GcsConfig::default(), |k| {
            url.get(k).map(|v| (*v).to_owned())
        });
        assert_eq!(s.endpoint.as_deref(), Some("https://gcs.test:443"));
        // Without the variable, the section alone decides (Google's endpoint, the key file).
        let s = GcsSettings::from_config_and_vars(&config, |_| None);
        assert_eq!(s.endpoint, None);
        assert_eq!(s.credentials, Credentials::File("/k.json".into()));
    }
}
