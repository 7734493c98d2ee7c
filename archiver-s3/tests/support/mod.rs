//! Shared by the tests that need a real S3-compatible server: connection settings from the
//! environment (see `.ci/servers.sh`), fresh prefixes, a request counter, the provider fixture
//! of the shared scenarios.

#![allow(dead_code, unreachable_pub, unused_imports)] // each test binary uses a different part

pub use archiver_kit::object::testing::{get_all, one_run, unique};

use std::sync::{Arc, Mutex};
use std::time::Duration;

use archiver_core::ArchiveUri;
use archiver_kit::object::RetrySettings;
use archiver_kit::object::testing::proxy::Dialect;
use archiver_kit::object::testing::{ProviderFixture, Request, ServerGate, env_var, quick_retry};
use archiver_s3::{S3Settings, S3Store, TimeoutSettings};
use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};

/// Where the test server is.
#[derive(Debug, Clone)]
pub struct Server {
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// Where the S3 tests find their server.
pub const GATE: ServerGate = ServerGate {
    server: "S3 server",
    local: "a local S3 server (SeaweedFS)",
    endpoint_var: "ARCHIVER_S3_ENDPOINT",
    script: ".ci/servers.sh",
};

/// The server from `ARCHIVER_S3_*` / `AWS_*`, or `None` (with a loud message) when unset.
/// Under CI a missing server is a failure, not a skip (see [`ServerGate::endpoint`]).
pub fn server(test: &str) -> Option<Server> {
    let endpoint = GATE.endpoint(test)?;
    Some(Server {
        endpoint,
        bucket: env_var("ARCHIVER_S3_BUCKET").unwrap_or_else(|| "archiver-test".into()),
        region: env_var("ARCHIVER_S3_REGION")
            .or_else(|| env_var("AWS_REGION"))
            .unwrap_or_else(|| "us-east-1".into()),
        access_key_id: env_var("AWS_ACCESS_KEY_ID").unwrap_or_else(|| "archiver".into()),
        secret_access_key: env_var("AWS_SECRET_ACCESS_KEY")
            .unwrap_or_else(|| "archiver-secret".into()),
    })
}

impl Server {
    /// Settings reaching this server at `endpoint` (the server's own, or a proxy in front).
    pub fn settings_via(&self, endpoint: &str) -> S3Settings {
        S3Settings::new()
            .with_region(&self.region)
            .with_endpoint(endpoint)
            .with_force_path_style(true)
            .with_credentials(&self.access_key_id, &self.secret_access_key)
    }

    pub fn settings(&self) -> S3Settings {
        self.settings_via(&self.endpoint)
    }

    /// `s3://bucket/<fresh random prefix>/<tag>`: nothing of earlier runs is visible there.
    pub fn fresh_uri(&self, tag: &str) -> String {
        format!("s3://{}/{}/{tag}", self.bucket, unique())
    }
}

/// `settings` with quick retries and short timeouts, so failures come fast.
pub fn quick(settings: S3Settings) -> S3Settings {
    settings
        .with_retry(quick_retry())
        .with_timeouts(TimeoutSettings {
            connect: Duration::from_secs(1),
            attempt: Duration::from_secs(5),
        })
}

/// The S3 provider of the shared scenarios: the server, and a counter on its counted stores.
#[derive(Debug)]
pub struct S3Fixture {
    pub server: Server,
    pub counter: RequestCounter,
}

/// The fixture for `test`, or `None` when the server is not configured (see [`server`]).
pub async fn fixture(test: &str) -> Option<S3Fixture> {
    Some(S3Fixture {
        server: server(test)?,
        counter: RequestCounter::default(),
    })
}

impl ProviderFixture for S3Fixture {
    type Store = S3Store;

    fn store(&self) -> S3Store {
        S3Store::new(self.server.settings())
    }

    fn server_endpoint(&self) -> String {
        self.server.endpoint.clone()
    }

    fn quick_store_via(&self, endpoint: &str) -> S3Store {
        S3Store::new(quick(self.server.settings_via(endpoint)))
    }

    fn retrying_store_via(&self, endpoint: &str, retry: RetrySettings) -> S3Store {
        S3Store::new(self.server.settings_via(endpoint).with_retry(retry))
    }

    fn dialect(&self) -> Dialect {
        Dialect::S3
    }

    fn counted_store(&self) -> S3Store {
        self.counter.store(self.server.settings())
    }

    fn requests(&self) -> Vec<Request> {
        self.counter.requests()
    }

    fn reset_requests(&self) {
        self.counter.reset();
    }

    fn fresh_uri(&self, tag: &str) -> ArchiveUri {
        ArchiveUri::parse(&self.server.fresh_uri(tag)).expect("valid URI")
    }
}

/// Counts the HTTP requests a client sends (every attempt, retries included), by kind.
#[derive(Debug, Default, Clone)]
pub struct RequestCounter {
    seen: Arc<Mutex<Vec<Request>>>,
}

impl RequestCounter {
    /// A store over `settings` whose requests this counter sees.
    pub fn store(&self, settings: S3Settings) -> S3Store {
        S3Store::new(settings).with_interceptor(self.clone())
    }

    /// Requests so far; a batch delete (`POST ?delete`) is [`Request::Delete`].
    pub fn requests(&self) -> Vec<Request> {
        self.seen.lock().unwrap().clone()
    }

    pub fn reset(&self) {
        self.seen.lock().unwrap().clear();
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        let request = context.request();
        let kind = Dialect::S3.classify(request.method(), request.uri());
        self.seen.lock().unwrap().push(kind);
        Ok(())
    }
}
