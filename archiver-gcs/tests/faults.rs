//! Backend faults between the provider and the emulator, injected per request by the HTTP
//! fault proxy: 5xx, 429, connections dropped before or after the server acted, responses cut
//! short, slow answers. Archives complete through retries, or fail with the right
//! classification; nothing is reported archived that was not, and nothing archived is lost.

mod support;

use std::sync::Arc;
use std::time::Duration;

use archiver_core::testing::{search_attributes, test_records};
use archiver_core::{
    ArchiveOptions, ArchiveUri, Error, HistoryArchiver, QueryRequest, VisibilityArchiver,
};
use archiver_gcs::{
    GcsHistoryArchiver, GcsSettings, GcsStore, GcsVisibilityArchiver, RetrySettings,
    TimeoutSettings,
};
use archiver_kit::object::testing::Request;
use archiver_kit::object::testing::proxy::{Dialect, Fault, FaultProxy};
use support::{Server, get_all, one_run};

archiver_kit::object::testing::scenario_tests!(faults: support::fixture);

/// Which fault request `n` gets.
type Plan = fn(usize) -> Fault;

fn uri(text: &str) -> ArchiveUri {
    ArchiveUri::parse(text).expect("valid URI")
}

/// Quick retries, so faulty runs stay fast.
fn quick(settings: GcsSettings, attempts: u32, attempt_timeout: Duration) -> GcsSettings {
    settings
        .with_retry(RetrySettings {
            max_attempts: attempts,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(40),
        })
        .with_timeouts(TimeoutSettings {
            attempt: attempt_timeout,
            ..TimeoutSettings::default()
        })
}

/// Archives a multi-blob history through a proxy applying `plan`, returning the archive result
/// and the proxy. Reads are checked straight against the emulator afterwards.
async fn archive_through(
    server: &Server,
    tag: &str,
    attempts: u32,
    attempt_timeout: Duration,
    plan: impl Fn(usize, &str, &str) -> Fault + Send + Sync + 'static,
) -> (archiver_core::Result<()>, FaultProxy, ArchiveUri) {
    let proxy = FaultProxy::start(&server.endpoint, Dialect::Gcs, plan).await;
    let location = uri(&server.fresh_uri(tag));
    let (source, _, _, request) = one_run(tag, 11, 120);
    let store = GcsStore::new(quick(
        server.settings_via(&proxy.endpoint()),
        attempts,
        attempt_timeout,
    ));
    let archiver = GcsHistoryArchiver::new(store, source).with_target_blob_size(2048);
    let result = archiver
        .archive(&location, &request, &ArchiveOptions::default())
        .await;
    (result, proxy, location)
}

/// The history `tag`'s archive should hold, read directly from the emulator.
async fn read_back(server: &Server, tag: &str, location: &ArchiveUri) -> archiver_core::Result<()> {
    let (source, run, history, _) = one_run(tag, 11, 120);
    let archiver = GcsHistoryArchiver::new(GcsStore::new(server.settings()), source);
    let got = get_all(&archiver, location, &run).await?;
    assert_eq!(got, history, "{tag}: the archive holds the whole history");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_throttling_are_retried_through() {
    let Some(server) = support::server("server_errors_and_throttling_are_retried_through") else {
        return;
    };
    for (tag, status) in [("s503", 503), ("s500", 500), ("s429", 429)] {
        // Every other request fails once: each is retried and goes through.
        let (result, proxy, location) =
            archive_through(&server, tag, 4, Duration::from_secs(10), move |n, _, _| {
                if n % 2 == 0 {
                    Fault::Status(status)
                } else {
                    Fault::Pass
                }
            })
            .await;
        result.unwrap_or_else(|e| panic!("{tag}: archive must complete through retries: {e}"));
        assert!(
            proxy.injected() >= 5,
            "{tag}: faults were injected: {}",
            proxy.injected()
        );
        read_back(&server, tag, &location).await.expect(tag);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_are_retried_through() {
    let Some(server) = support::server("dropped_connections_are_retried_through") else {
        return;
    };
    let plans: [(&str, Plan); 3] = [
        ("drop-before", |n| {
            if n % 3 == 0 {
                Fault::DropBefore
            } else {
                Fault::Pass
            }
        }),
        // The server stored the object but the answer was lost: the retry re-uploads a blob
        // (same bytes) or meets its own manifest (412), which must count as committed.
        ("drop-after", |n| {
            if n % 3 == 1 {
                Fault::DropAfter
            } else {
                Fault::Pass
            }
        }),
        ("cut-response", |n| {
            if n % 3 == 2 {
                Fault::CutResponse(20)
            } else {
                Fault::Pass
            }
        }),
    ];
    for (tag, plan) in plans {
        let (result, proxy, location) =
            archive_through(&server, tag, 4, Duration::from_secs(10), move |n, _, _| {
                plan(n)
            })
            .await;
        result.unwrap_or_else(|e| panic!("{tag}: archive must complete through retries: {e}"));
        assert!(proxy.injected() >= 3, "{tag}");
        read_back(&server, tag, &location).await.expect(tag);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_commit_answer_keeps_the_committed_archive() {
    let Some(server) = support::server("a_lost_commit_answer_keeps_the_committed_archive") else {
        return;
    };
    // Only the manifest upload (the create-only one) loses its answer, on its first attempt.
    let manifest_seen = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = Arc::clone(&manifest_seen);
    let (result, proxy, location) = archive_through(
        &server,
        "lost-commit",
        3,
        Duration::from_secs(10),
        move |_, method, path| {
            let create_only = Dialect::Gcs.classify(method, path) == Request::Put
                && path.contains("ifGenerationMatch=0");
            if create_only && !seen.swap(true, std::sync::atomic::Ordering::Relaxed) {
                Fault::DropAfter
            } else {
                Fault::Pass
            }
        },
    )
    .await;
    result.expect("the retry meets our own manifest: archived");
    assert!(manifest_seen.load(std::sync::atomic::Ordering::Relaxed));
    assert_eq!(
        proxy.count(Request::Delete),
        0,
        "no blob of the committed archive was deleted"
    );
    read_back(&server, "lost-commit", &location)
        .await
        .expect("the committed archive is complete");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_failures_are_classified_and_leave_nothing_visible() {
    let Some(server) =
        support::server("persistent_failures_are_classified_and_leave_nothing_visible")
    else {
        return;
    };
    let cases: [(&str, Fault, bool, &str); 5] = [
        ("p503", Fault::Status(503), true, "server error (HTTP 503)"),
        ("p429", Fault::Status(429), true, "throttled"),
        ("pdrop", Fault::DropBefore, true, "connection dropped"),
        (
            "pslow",
            Fault::Delay(Duration::from_millis(600)),
            true,
            "timed out",
        ),
        ("p403", Fault::Status(403), false, "access denied"),
    ];
    for (tag, fault, retryable, text) in cases {
        // The first few requests pass (blobs are staged), then every request fails.
        let (result, proxy, location) = archive_through(
            &server,
            tag,
            3,
            Duration::from_millis(300),
            move |n, _, _| {
                if n < 3 { Fault::Pass } else { fault }
            },
        )
        .await;
        let err = result.expect_err(tag);
        assert_eq!(err.is_retryable(), retryable, "{tag}: {err}");
        assert!(err.to_string().contains(text), "{tag}: {err}");
        let failed_requests = proxy.seen().len() - 3;
        let expected = if retryable { 3 } else { 1 };
        assert!(
            failed_requests >= expected,
            "{tag}: {failed_requests} failing requests, expected retries: {err}"
        );
        if retryable {
            assert!(err.to_string().contains("after 3 attempts"), "{tag}: {err}");
        }
        assert!(
            matches!(
                read_back(&server, tag, &location).await,
                Err(Error::NotFound { .. })
            ),
            "{tag}: a failed archive must not be visible"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visibility_survives_faults() {
    let Some(server) = support::server("visibility_survives_faults") else {
        return;
    };
    // A third of all requests fail; downloads run concurrently, so one request's retries land
    // on arbitrary slots of this pattern: 8 attempts make a spurious failure negligible.
    let proxy = FaultProxy::start(&server.endpoint, Dialect::Gcs, |n, _, _| match n % 9 {
        0 => Fault::Status(503),
        3 => Fault::DropAfter,
        6 => Fault::Status(429),
        _ => Fault::Pass,
    })
    .await;
    let store = GcsStore::new(quick(
        server.settings_via(&proxy.endpoint()),
        8,
        Duration::from_secs(10),
    ));
    let archiver = GcsVisibilityArchiver::new(store);
    let location = uri(&server.fresh_uri("vis-faults"));
    let records = test_records("ns-id", 12);
    for record in &records {
        archiver
            .archive(&location, record, &ArchiveOptions::default())
            .await
            .expect("archive through retries");
    }
    let mut found = Vec::new();
    let mut request = QueryRequest::new("ns-id", "").with_page_size(5);
    loop {
        let page = archiver
            .query(&location, &request, &search_attributes())
            .await
            .expect("query through retries");
        found.extend(page.executions);
        match page.next_page_token {
            Some(token) => request = request.with_next_page_token(Some(token)),
            None => break,
        }
    }
    assert_eq!(
        found.len(),
        records.len(),
        "every record once, through faults"
    );
    assert!(proxy.injected() > 10);
}
