//! The whole archiver-core conformance suite against a real GCS emulator (fake-gcs-server via
//! `.ci/gcs-server.sh`), each run under a fresh random prefix.

mod support;

use archiver_core::object::testing::ObjectFixture;
use archiver_core::testing;
use archiver_gcs::GcsStore;

fn fixture(server: &support::Server, tag: &str) -> ObjectFixture<GcsStore> {
    ObjectFixture::new(GcsStore::new(server.settings()), server.fresh_uri(tag))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_conformance() {
    let Some(server) = support::server("history_conformance") else {
        return;
    };
    testing::run_history_suite(&fixture(&server, "history")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visibility_conformance() {
    let Some(server) = support::server("visibility_conformance") else {
        return;
    };
    testing::run_visibility_suite(&fixture(&server, "visibility")).await;
}
