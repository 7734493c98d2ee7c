//! The visibility table's whole suite (batches, compaction, manifest, range reads, damage)
//! against a real S3-compatible server (SeaweedFS via `.ci/servers.sh`), under fresh prefixes.

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_table_suite_passes_on_s3() {
    let Some(fixture) = support::fixture("the_table_suite_passes_on_s3").await else {
        return;
    };
    let store = archiver_s3::S3Store::new(fixture.server.settings());
    let server = fixture.server.clone();
    archiver_kit::testing::run_table_suite(store, move |tag| {
        server.fresh_uri(tag).parse().expect("a valid URI")
    })
    .await;
}
