//! Shared by the tests that need a GCS emulator: connection settings from the environment (see
//! `.ci/gcs-server.sh`), fresh prefixes, one-run histories, the provider fixture of the shared
//! scenarios.

#![allow(dead_code, unreachable_pub, unused_imports)] // each test binary uses a different part

pub mod oauth;

pub use archiver_kit::object::testing::{get_all, one_run, unique};

use std::time::Duration;

use archiver_core::ArchiveUri;
use archiver_gcs::{GcsSettings, GcsStore, TimeoutSettings};
use archiver_kit::object::RetrySettings;
use archiver_kit::object::testing::proxy::{Dialect, Fault, FaultProxy};
use archiver_kit::object::testing::{ProviderFixture, Request, ServerGate, env_var, quick_retry};

/// Where the emulator is.
#[derive(Debug, Clone)]
pub struct Server {
    pub endpoint: String,
    pub bucket: String,
}

/// Where the GCS tests find their emulator.
pub const GATE: ServerGate = ServerGate {
    server: "GCS emulator",
    local: "a local GCS emulator (fake-gcs-server)",
    endpoint_var: "ARCHIVER_GCS_ENDPOINT",
    script: ".ci/gcs-server.sh",
};

/// The emulator from `ARCHIVER_GCS_*`, or `None` (with a loud message) when unset. Under CI a
/// missing emulator is a failure, not a skip (see [`ServerGate::endpoint`]).
pub fn server(test: &str) -> Option<Server> {
    let endpoint = GATE.endpoint(test)?;
    Some(Server {
        endpoint,
        bucket: env_var("ARCHIVER_GCS_BUCKET").unwrap_or_else(|| "archiver-test".into()),
    })
}

impl Server {
    /// Settings reaching this emulator at `endpoint` (its own, or a proxy in front).
    pub fn settings_via(&self, endpoint: &str) -> GcsSettings {
        GcsSettings::new().with_endpoint(endpoint).with_anonymous()
    }

    pub fn settings(&self) -> GcsSettings {
        self.settings_via(&self.endpoint)
    }

    /// `gs://bucket/<fresh random prefix>/<tag>`: nothing of earlier runs is visible there.
    pub fn fresh_uri(&self, tag: &str) -> String {
        format!("gs://{}/{}/{tag}", self.bucket, unique())
    }
}

/// `settings` with quick retries and a short timeout, so failures come fast.
pub fn quick(settings: GcsSettings) -> GcsSettings {
    settings
        .with_retry(quick_retry())
        .with_timeouts(TimeoutSettings {
            attempt: Duration::from_secs(5),
            ..TimeoutSettings::default()
        })
}

/// The GCS provider of the shared scenarios: the emulator, and a proxy in front of it that
/// forwards everything and counts the requests of the counted stores.
pub struct GcsFixture {
    pub server: Server,
    pub counter: FaultProxy,
}

/// The fixture for `test`, or `None` when the emulator is not configured (see [`server`]).
pub async fn fixture(test: &str) -> Option<GcsFixture> {
    let server = server(test)?;
    let counter = FaultProxy::start(&server.endpoint, Dialect::Gcs, |_, _, _| Fault::Pass).await;
    Some(GcsFixture { server, counter })
}

impl ProviderFixture for GcsFixture {
    type Store = GcsStore;

    fn store(&self) -> GcsStore {
        GcsStore::new(self.server.settings())
    }

    fn server_endpoint(&self) -> String {
        self.server.endpoint.clone()
    }

    fn quick_store_via(&self, endpoint: &str) -> GcsStore {
        GcsStore::new(quick(self.server.settings_via(endpoint)))
    }

    fn retrying_store_via(&self, endpoint: &str, retry: RetrySettings) -> GcsStore {
        GcsStore::new(self.server.settings_via(endpoint).with_retry(retry))
    }

    fn dialect(&self) -> Dialect {
        Dialect::Gcs
    }

    fn counted_store(&self) -> GcsStore {
        GcsStore::new(self.server.settings_via(&self.counter.endpoint()))
    }

    fn requests(&self) -> Vec<Request> {
        self.counter.requests()
    }

    fn reset_requests(&self) {
        self.counter.reset_log();
    }

    fn fresh_uri(&self, tag: &str) -> ArchiveUri {
        ArchiveUri::parse(&self.server.fresh_uri(tag)).expect("valid URI")
    }
}
