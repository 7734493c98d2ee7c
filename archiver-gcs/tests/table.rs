//! The visibility table's whole suite (batches, compaction, manifest, range reads, damage)
//! against a real GCS emulator (fake-gcs-server via `.ci/gcs-server.sh`), under fresh prefixes.

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_table_suite_passes_on_gcs() {
    let Some(server) = support::server("the_table_suite_passes_on_gcs") else {
        return;
    };
    let store = archiver_gcs::GcsStore::new(server.settings());
    archiver_kit::testing::run_table_suite(store, move |tag| {
        server.fresh_uri(tag).parse().expect("a valid URI")
    })
    .await;
}
