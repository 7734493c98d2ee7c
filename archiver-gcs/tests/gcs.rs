//! Behaviour beyond the conformance suite, against the emulator: URI validation errors,
//! requests per archived workflow, a history far over one blob kept whole without a progress
//! manager, index-pruned queries, hostile ids, damage detection.

mod support;

use std::sync::Arc;
use std::time::Duration;

use archiver_core::testing::{GeneratedHistorySource, search_attributes, test_records};
use archiver_core::{
    ArchiveOptions, ArchiveUri, Error, GetHistoryRequest, HistoryArchiver, QueryRequest,
    VisibilityArchiver,
};
use archiver_gcs::{
    GcsHistoryArchiver, GcsSettings, GcsStore, GcsVisibilityArchiver, RetrySettings,
    TimeoutSettings,
};
use support::proxy::{Fault, FaultProxy};
use support::{get_all, one_run};

fn uri(text: &str) -> ArchiveUri {
    ArchiveUri::parse(text).expect("valid URI")
}

fn quick(settings: GcsSettings) -> GcsSettings {
    settings
        .with_retry(RetrySettings {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
        })
        .with_timeouts(TimeoutSettings {
            attempt: Duration::from_secs(5),
        })
}

/// A proxy that forwards everything, to count requests.
async fn counter(server: &support::Server) -> FaultProxy {
    FaultProxy::start(&server.endpoint, |_, _, _| Fault::Pass).await
}

#[tokio::test]
async fn validate_uri_tells_missing_denied_and_unreachable_apart() {
    let Some(server) = support::server("validate_uri_tells_missing_denied_and_unreachable_apart")
    else {
        return;
    };
    let good = GcsVisibilityArchiver::new(GcsStore::new(quick(server.settings())));
    good.validate_uri(&uri(&server.fresh_uri("v")))
        .await
        .expect("the test bucket validates");
    match good
        .validate_uri(&uri("gs://no-such-bucket-archiver/x"))
        .await
    {
        Err(Error::InvalidUri { reason, .. }) => {
            assert!(reason.contains("does not exist"), "{reason}")
        }
        other => panic!("missing bucket: expected InvalidUri, got {other:?}"),
    }

    // The emulator checks no credentials: a denial is injected.
    let denying = FaultProxy::start(&server.endpoint, |_, _, _| Fault::Status(403)).await;
    let denied = GcsVisibilityArchiver::new(GcsStore::new(quick(
        server.settings_via(&denying.endpoint()),
    )))
    .validate_uri(&uri(&format!("gs://{}/x", server.bucket)))
    .await
    .expect_err("denied");
    assert!(
        !denied.is_retryable(),
        "a denial is not retryable: {denied}"
    );
    assert!(denied.to_string().contains("access denied"), "{denied}");
    assert_eq!(denying.seen().len(), 1, "a denial is not retried");

    let unreachable = GcsVisibilityArchiver::new(GcsStore::new(quick(
        server.settings_via("http://127.0.0.1:1"),
    )))
    .validate_uri(&uri("gs://some-bucket/x"))
    .await
    .expect_err("nothing listens on port 1");
    assert!(unreachable.is_retryable(), "{unreachable}");
    assert!(
        unreachable.to_string().contains("cannot reach"),
        "{unreachable}"
    );

    let missing_key = GcsStore::new(
        quick(server.settings()).with_credentials_file("/nonexistent/archiver-gcs-key.json"),
    );
    let err = GcsVisibilityArchiver::new(missing_key)
        .validate_uri(&uri(&format!("gs://{}/x", server.bucket)))
        .await
        .expect_err("an unreadable key file");
    assert!(!err.is_retryable(), "{err}");
    assert!(err.to_string().contains("credentials file"), "{err}");
}

#[tokio::test]
async fn requests_per_archived_workflow() {
    let Some(server) = support::server("requests_per_archived_workflow") else {
        return;
    };
    let proxy = counter(&server).await;
    let store = GcsStore::new(server.settings_via(&proxy.endpoint()));
    let location = uri(&server.fresh_uri("requests"));

    // A typical small workflow: its history fits one blob.
    let (source, run, history, request) = one_run("small", 1, 20);
    let history_archiver = GcsHistoryArchiver::new(store.clone(), source);
    let visibility_archiver = GcsVisibilityArchiver::new(store.clone());
    let mut record = test_records("ns-id", 1).remove(0);
    record.workflow_id = run.workflow_id.clone();
    record.run_id = run.run_id.clone();
    let options = ArchiveOptions::default();
    history_archiver
        .archive(&location, &request, &options)
        .await
        .expect("archive history");
    visibility_archiver
        .archive(&location, &record, &options)
        .await
        .expect("archive record");
    assert_eq!(
        proxy.kinds(),
        ["UPLOAD", "UPLOAD"],
        "one inline history upload and one visibility upload (Temporal: 3 uploads + bucket checks)"
    );
    proxy.reset_log();
    history_archiver
        .archive(&location, &request, &options)
        .await
        .expect("re-archive");
    assert_eq!(
        proxy.kinds(),
        ["UPLOAD"],
        "a re-archive is one refused create"
    );
    assert_eq!(
        get_all(&history_archiver, &location, &run).await.unwrap(),
        history
    );

    // A multi-blob history: one existence check, one upload per blob, one manifest upload,
    // one listing to sweep staged blobs of abandoned attempts.
    let (source, run, history, request) = one_run("large", 2, 300);
    let archiver = GcsHistoryArchiver::new(store.clone(), source).with_target_blob_size(4096);
    proxy.reset_log();
    archiver
        .archive(&location, &request, &options)
        .await
        .expect("archive");
    let blobs = archiver.blob_writes() as usize;
    assert!(blobs > 3, "several blobs: {blobs}");
    assert_eq!(proxy.count("STAT"), 1);
    assert_eq!(proxy.count("UPLOAD"), blobs + 1);
    assert_eq!(proxy.count("LIST"), 1, "the sweep");
    assert_eq!(proxy.seen().len(), blobs + 3);
    proxy.reset_log();
    archiver
        .archive(&location, &request, &options)
        .await
        .expect("re-archive");
    assert_eq!(proxy.kinds(), ["STAT"], "nothing is uploaded twice");

    // The first page of a large history costs the version listing, the manifest and one blob.
    proxy.reset_log();
    let first = archiver
        .get(
            &location,
            &GetHistoryRequest::new(&run.namespace_id, &run.workflow_id, &run.run_id, 5),
        )
        .await
        .expect("first page");
    assert!(first.next_page_token.is_some());
    assert_eq!(proxy.kinds(), ["LIST", "GET", "GET"]);
    assert_eq!(get_all(&archiver, &location, &run).await.unwrap(), history);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_of_many_default_blobs_is_kept_whole_without_progress_manager() {
    let Some(server) = support::server("a_history_of_many_default_blobs_is_kept_whole") else {
        return;
    };
    // Temporal's GCS archiver keeps only the last ~2 MiB chunk of such a history.
    let source = Arc::new(GeneratedHistorySource::with_approx_bytes(5, 7 << 20));
    let request = source.request("ns-id", "big", "run-1", 1);
    let proxy = counter(&server).await;
    let archiver = GcsHistoryArchiver::new(
        GcsStore::new(server.settings_via(&proxy.endpoint())),
        source.clone(),
    );
    let location = uri(&server.fresh_uri("big"));
    archiver
        .archive(&location, &request, &ArchiveOptions::default())
        .await
        .expect("archive 7 MiB with default 2 MiB blobs");
    let blobs = archiver.blob_writes();
    assert!(blobs >= 3, "{blobs} blobs");
    assert_eq!(
        proxy.count("UPLOAD") as u64,
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

#[tokio::test]
async fn queries_download_only_what_the_index_admits() {
    let Some(server) = support::server("queries_download_only_what_the_index_admits") else {
        return;
    };
    let proxy = counter(&server).await;
    let archiver =
        GcsVisibilityArchiver::new(GcsStore::new(server.settings_via(&proxy.endpoint())));
    let location = uri(&server.fresh_uri("pruning"));
    let records = test_records("ns-id", 120);
    for record in &records {
        archiver
            .archive(&location, record, &ArchiveOptions::default())
            .await
            .expect("archive");
    }
    let attrs = search_attributes();
    let query =
        |text: &str, page_size: usize| QueryRequest::new("ns-id", text).with_page_size(page_size);
    let cases = [
        ("WorkflowId = 'wf-7'", 1),
        ("RunId IN ('run-0003', 'run-0100')", 2),
        (
            "WorkflowType = 'payments' AND ExecutionStatus = 'Completed'",
            10,
        ),
        (
            "CloseTime BETWEEN '2026-01-01T00:10:00Z' AND '2026-01-01T00:19:00Z'",
            10,
        ),
        ("StartTime > '2026-01-01T01:00:00Z'", 29),
    ];
    for (text, expected) in cases {
        proxy.reset_log();
        let page = archiver
            .query(&location, &query(text, 1000), &attrs)
            .await
            .expect(text);
        assert_eq!(page.executions.len(), expected, "{text}");
        assert_eq!(
            proxy.count("GET"),
            expected,
            "{text}: only matching records are downloaded"
        );
        assert_eq!(proxy.count("LIST"), 1, "{text}");
    }

    // The default order walks the listing newest first and stops when the page is decided,
    // and the token really pages (Temporal's GCS query never returned one).
    proxy.reset_log();
    let page = archiver
        .query(&location, &query("", 10), &attrs)
        .await
        .expect("default query");
    assert_eq!(page.executions.len(), 10);
    assert_eq!(page.executions[0].run_id, "run-0119");
    assert_eq!(
        proxy.count("GET"),
        11,
        "page_size + 1 downloads for 120 records"
    );
    let second = archiver
        .query(
            &location,
            &query("", 10).with_next_page_token(page.next_page_token),
            &attrs,
        )
        .await
        .expect("second page");
    assert_eq!(second.executions[0].run_id, "run-0109");
    assert!(second.next_page_token.is_some());
}

#[tokio::test]
async fn hostile_ids_round_trip() {
    let Some(server) = support::server("hostile_ids_round_trip") else {
        return;
    };
    let store = GcsStore::new(server.settings());
    let location = uri(&server.fresh_uri("hostile"));
    let hostile = format!(
        "../../{}/日本/\u{0}/#?%{}",
        "a/".repeat(600),
        "x".repeat(1500)
    );
    let (source, _, history, mut request) = one_run("placeholder", 3, 30);
    let run =
        archiver_core::history::RunKey::new(hostile.as_str(), hostile.as_str(), hostile.as_str());
    source.insert(run.clone(), history.clone());
    request.namespace_id = hostile.clone();
    request.workflow_id = hostile.clone();
    request.run_id = hostile.clone();
    let archiver = GcsHistoryArchiver::new(store.clone(), source).with_target_blob_size(1024);
    archiver
        .archive(&location, &request, &ArchiveOptions::default())
        .await
        .expect("archive with hostile ids");
    assert_eq!(get_all(&archiver, &location, &run).await.unwrap(), history);

    let mut record = test_records("x", 1).remove(0);
    record.namespace_id = hostile.clone();
    record.workflow_id = hostile.clone();
    record.run_id = hostile.clone();
    record.workflow_type_name = hostile.clone();
    let visibility = GcsVisibilityArchiver::new(store);
    visibility
        .archive(&location, &record, &ArchiveOptions::default())
        .await
        .expect("archive record with hostile ids");
    let text = format!("WorkflowId = '{}'", hostile.replace('\'', "\\'"));
    let found = visibility
        .query(
            &location,
            &QueryRequest::new(hostile.as_str(), text),
            &search_attributes(),
        )
        .await
        .expect("query");
    assert_eq!(found.executions, vec![record]);
}

#[tokio::test]
async fn damaged_blobs_are_detected() {
    let Some(server) = support::server("damaged_blobs_are_detected") else {
        return;
    };
    let location = uri(&server.fresh_uri("damage"));
    let (source, run, _, request) = one_run("damaged", 4, 100);
    GcsHistoryArchiver::new(GcsStore::new(server.settings()), Arc::clone(&source) as _)
        .with_target_blob_size(2048)
        .archive(&location, &request, &ArchiveOptions::default())
        .await
        .expect("archive");
    // Blob downloads come back with one bit flipped.
    let proxy = FaultProxy::start(&server.endpoint, |_, method, path| {
        if method == "GET" && path.contains("%2Fblobs%2F") {
            Fault::FlipBit
        } else {
            Fault::Pass
        }
    })
    .await;
    let reader = GcsHistoryArchiver::new(
        GcsStore::new(server.settings_via(&proxy.endpoint())),
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
