//! Behaviour beyond the conformance suite, against the emulator: the shared object-store
//! scenarios (request counts, index-pruned queries, hostile ids, damage at rest, paging), URI
//! validation errors, and what is GCS's own: a history far over one blob kept whole without a
//! progress manager (Temporal's GCS archiver lost all but its last chunk), damage in transit.

mod support;

use std::sync::Arc;

use archiver_core::testing::GeneratedHistorySource;
use archiver_core::{
    ArchiveOptions, Error, GetHistoryRequest, HistoryArchiver, VisibilityArchiver,
};
use archiver_gcs::{GcsHistoryArchiver, GcsStore, GcsVisibilityArchiver};
use archiver_kit::object::testing::proxy::{Dialect, Fault, FaultProxy};
use archiver_kit::object::testing::{ProviderFixture, Request, scenario_tests, scenarios};
use support::{get_all, one_run, quick};

scenario_tests!(behaviour: support::fixture);

#[tokio::test]
async fn validate_uri_tells_missing_denied_and_unreachable_apart() {
    let Some(fixture) =
        support::fixture("validate_uri_tells_missing_denied_and_unreachable_apart").await
    else {
        return;
    };
    // The emulator checks no credentials: a denial is injected.
    let server = &fixture.server;
    let denying =
        FaultProxy::start(&server.endpoint, Dialect::Gcs, |_, _, _| Fault::Status(403)).await;
    scenarios::validate_uri_tells_missing_denied_and_unreachable_apart(
        &fixture,
        fixture.quick_store_via(&denying.endpoint()),
    )
    .await;
    assert_eq!(denying.seen().len(), 1, "a denial is not retried");

    let missing_key = GcsStore::new(
        quick(server.settings()).with_credentials_file("/nonexistent/archiver-gcs-key.json"),
    );
    let err = GcsVisibilityArchiver::new(missing_key)
        .validate_uri(&fixture.fresh_uri("key"))
        .await
        .expect_err("an unreadable key file");
    assert!(!err.is_retryable(), "{err}");
    assert!(err.to_string().contains("credentials file"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_of_many_default_blobs_is_kept_whole_without_progress_manager() {
    let Some(fixture) = support::fixture("a_history_of_many_default_blobs_is_kept_whole").await
    else {
        return;
    };
    // Temporal's GCS archiver keeps only the last ~2 MiB chunk of such a history.
    let source = Arc::new(GeneratedHistorySource::with_approx_bytes(5, 7 << 20));
    let request = source.request("ns-id", "big", "run-1", 1);
    let archiver = GcsHistoryArchiver::new(fixture.counted_store(), source.clone());
    let location = fixture.fresh_uri("big");
    archiver
        .archive(&location, &request, &ArchiveOptions::default())
        .await
        .expect("archive 7 MiB with default 2 MiB blobs");
    let blobs = archiver.blob_writes();
    assert!(blobs >= 3, "{blobs} blobs");
    assert_eq!(
        fixture.count(Request::Put) as u64,
        blobs + 1,
        "blobs and a manifest"
    );

    let mut get = GetHistoryRequest::new("ns-id", "big", "run-1", 1000);
    let mut next_id = 1;
    loop {
        let page = archiver.get(&location, &get).await.expect("page");
        for batch in &page.history_batches {
            for event in &batch.events {
                assert_eq!(event.event_id, next_id, "events in order, none missing");
                next_id += 1;
            }
        }
        match page.next_page_token {
            Some(token) => get.next_page_token = Some(token),
            None => break,
        }
    }
    assert_eq!(next_id - 1, source.events(), "every event of every blob");
}

/// Blob downloads that come back with one bit flipped (the HTTP proxy sees each request, so
/// it can damage exactly those) are caught by the CRC-32C, like damage at rest.
#[tokio::test]
async fn blobs_damaged_in_transit_are_detected() {
    let Some(fixture) = support::fixture("blobs_damaged_in_transit_are_detected").await else {
        return;
    };
    let location = fixture.fresh_uri("damage");
    let (source, run, _, request) = one_run("damaged", 4, 100);
    GcsHistoryArchiver::new(fixture.store(), Arc::clone(&source) as _)
        .with_target_blob_size(2048)
        .archive(&location, &request, &ArchiveOptions::default())
        .await
        .expect("archive");
    let proxy = FaultProxy::start(&fixture.server.endpoint, Dialect::Gcs, |_, method, path| {
        if method == "GET" && path.contains("%2Fblobs%2F") {
            Fault::FlipBit
        } else {
            Fault::Pass
        }
    })
    .await;
    let reader = GcsHistoryArchiver::new(
        GcsStore::new(fixture.server.settings_via(&proxy.endpoint())),
        source,
    );
    match get_all(&reader, &location, &run).await {
        Err(Error::Corrupted { location, reason }) => {
            assert!(location.contains("/blobs/"), "{location}");
            assert!(reason.contains("CRC-32C"), "{reason}");
        }
        other => panic!("a flipped bit must be Corrupted, got {other:?}"),
    }
    assert!(proxy.injected() >= 1);
}
