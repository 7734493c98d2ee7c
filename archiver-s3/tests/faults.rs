//! Faults between the provider and a real S3 server (a TCP proxy in front of SeaweedFS):
//! archives complete through the SDK's retries, or fail with the right classification, and
//! nothing is ever reported archived that is not, nor is a partial archive ever visible.

mod support;

use std::time::Duration;

use archiver_core::testing::{search_attributes, test_records};
use archiver_core::{
    ArchiveOptions, ArchiveUri, Error, HistoryArchiver, QueryRequest, VisibilityArchiver,
};
use archiver_s3::{
    RetrySettings, S3HistoryArchiver, S3Settings, S3Store, S3VisibilityArchiver, TimeoutSettings,
};
use support::proxy::{FaultProxy, Faults};
use support::{get_all, one_run};

fn uri(text: &str) -> ArchiveUri {
    ArchiveUri::parse(text).expect("valid URI")
}

fn with_attempts(settings: S3Settings, attempts: u32, attempt_timeout: Duration) -> S3Settings {
    settings
        .with_retry(RetrySettings {
            max_attempts: attempts,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(50),
        })
        .with_timeouts(TimeoutSettings {
            connect: Duration::from_secs(1),
            attempt: attempt_timeout,
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archives_complete_through_dropped_connections_and_throttling() {
    let Some(server) =
        support::server("archives_complete_through_dropped_connections_and_throttling")
    else {
        return;
    };
    for (case, faults) in [
        (
            "every 3rd connection reset on accept",
            Faults {
                reset_every: 3,
                ..Faults::default()
            },
        ),
        (
            "every 2nd connection answered 503 SlowDown",
            Faults {
                slow_down_every: 2,
                ..Faults::default()
            },
        ),
        (
            "every 4th connection reset mid-response",
            Faults {
                reset_after_bytes: 40,
                reset_after_bytes_every: 4,
                ..Faults::default()
            },
        ),
    ] {
        let proxy = FaultProxy::start(&server.endpoint, faults).await;
        let store = S3Store::new(with_attempts(
            server.settings_via(&proxy.endpoint()),
            8,
            Duration::from_secs(10),
        ));
        let location = uri(&server.fresh_uri("faults-ok"));
        let (source, run, history, request) = one_run("through-faults", 5, 200);
        let archiver = S3HistoryArchiver::new(store.clone(), source).with_target_blob_size(4096);
        archiver
            .archive(&location, &request, &ArchiveOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{case}: archive must complete through retries: {e}"));
        assert_eq!(
            get_all(&archiver, &location, &run)
                .await
                .unwrap_or_else(|e| panic!("{case}: get: {e}")),
            history,
            "{case}"
        );
        let visibility = S3VisibilityArchiver::new(store);
        let records = test_records("ns-id", 12);
        for record in &records {
            visibility
                .archive(&location, record, &ArchiveOptions::default())
                .await
                .unwrap_or_else(|e| panic!("{case}: visibility archive: {e}"));
        }
        let found = visibility
            .query(
                &location,
                &QueryRequest::new("ns-id", ""),
                &search_attributes(),
            )
            .await
            .unwrap_or_else(|e| panic!("{case}: query: {e}"));
        assert_eq!(found.executions.len(), records.len(), "{case}");
        assert!(
            proxy.faults_injected() > 0,
            "{case}: the proxy injected no fault"
        );
        println!(
            "{case}: {} connections, {} faults injected, all operations succeeded",
            proxy.connections(),
            proxy.faults_injected()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_faults_fail_retryably_and_leave_nothing_visible() {
    let Some(server) =
        support::server("persistent_faults_fail_retryably_and_leave_nothing_visible")
    else {
        return;
    };
    let direct = S3Store::new(server.settings());
    for (case, faults, attempt_timeout, says) in [
        (
            "every response cut after 20 bytes",
            Faults {
                reset_after_bytes: 20,
                ..Faults::default()
            },
            Duration::from_secs(10),
            "connection",
        ),
        (
            "every request throttled",
            Faults {
                slow_down_every: 1,
                ..Faults::default()
            },
            Duration::from_secs(10),
            "throttled",
        ),
        (
            "responses slower than the attempt timeout",
            Faults {
                delay: Duration::from_millis(800),
                ..Faults::default()
            },
            Duration::from_millis(200),
            "timed out",
        ),
    ] {
        let proxy = FaultProxy::start(&server.endpoint, faults).await;
        let store = S3Store::new(with_attempts(
            server.settings_via(&proxy.endpoint()),
            2,
            attempt_timeout,
        ));
        let location = uri(&server.fresh_uri("faults-fail"));
        let (source, run, _, request) = one_run("failing", 6, 200);
        let archiver = S3HistoryArchiver::new(store, source.clone()).with_target_blob_size(4096);
        let err = archiver
            .archive(&location, &request, &ArchiveOptions::default())
            .await
            .expect_err(case);
        assert!(err.is_retryable(), "{case}: must be retryable: {err}");
        assert!(
            err.to_string().contains(says),
            "{case}: error should say {says:?}: {err}"
        );
        // Read directly (no proxy): nothing is visible.
        let reader = S3HistoryArchiver::new(direct.clone(), source);
        let got = get_all(&reader, &location, &run).await;
        assert!(
            matches!(got, Err(Error::NotFound { .. })),
            "{case}: a failed archive must not be visible, got {got:?}"
        );
        println!("{case}: failed retryably as expected: {err}");
    }
}

/// One fault at every stage of an archive, without SDK retries: whatever the outcome, a
/// reader sees the complete history or nothing, and a success is always readable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_at_any_point_never_leaves_a_partial_archive() {
    let Some(server) = support::server("a_fault_at_any_point_never_leaves_a_partial_archive")
    else {
        return;
    };
    let (succeeded, failed) = fault_sweep(&server, 1).await;
    println!("no retries: {succeeded} archives succeeded, {failed} failed retryably; none partial");
    assert!(failed > 3, "the faults must have hit several archives");
}

/// The same sweep with SDK retries: every archive completes, including when the manifest PUT
/// was stored but its answer lost (the retry meets our own manifest and must keep its blobs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_fault_anywhere_is_absorbed_by_retries() {
    let Some(server) = support::server("a_single_fault_anywhere_is_absorbed_by_retries") else {
        return;
    };
    let (succeeded, failed) = fault_sweep(&server, 3).await;
    println!("3 attempts: {succeeded} archives succeeded, {failed} failed");
    assert_eq!(failed, 0, "one fault per archive is always retried away");
}

/// Archives one history again and again, each time with one connection reset at a different
/// response byte; checks each outcome against what a reader sees. Returns (ok, failed).
async fn fault_sweep(server: &support::Server, attempts: u32) -> (usize, usize) {
    let direct = S3Store::new(server.settings());
    let (mut failed, mut succeeded) = (0, 0);
    // The first (fault-free) run measures the response bytes; then one fault is placed at a
    // different byte of that sequence in each run.
    let mut total_bytes = None;
    let mut at = 0;
    loop {
        let proxy = FaultProxy::start(
            &server.endpoint,
            Faults {
                reset_once_at_total_bytes: at,
                ..Faults::default()
            },
        )
        .await;
        let store = S3Store::new(with_attempts(
            server.settings_via(&proxy.endpoint()),
            attempts,
            Duration::from_secs(10),
        ));
        let location = uri(&server.fresh_uri("faults-any"));
        let (source, run, history, request) = one_run("anywhere", 7, 120);
        let archiver = S3HistoryArchiver::new(store, source.clone()).with_target_blob_size(4096);
        let outcome = archiver
            .archive(&location, &request, &ArchiveOptions::default())
            .await;
        let reader = S3HistoryArchiver::new(direct.clone(), source);
        let seen = get_all(&reader, &location, &run).await;
        match (&outcome, &seen) {
            (Ok(()), Ok(got)) => {
                assert_eq!(
                    got, &history,
                    "fault at byte {at}: a success reads back whole"
                );
                succeeded += 1;
            }
            (Ok(()), Err(e)) => {
                panic!("fault at byte {at}: reported archived but not readable: {e}")
            }
            (Err(e), Err(Error::NotFound { .. })) => {
                assert!(e.is_retryable(), "fault at byte {at}: {e}");
                failed += 1;
            }
            // The manifest was stored but its response was cut: archived, reported failed
            // retryably; the retry finds it and succeeds. Never partial.
            (Err(e), Ok(got)) => {
                assert!(e.is_retryable(), "fault at byte {at}: {e}");
                assert_eq!(got, &history, "fault at byte {at}: never partial");
                failed += 1;
            }
            (Err(e), Err(other)) => panic!("fault at byte {at}: archive {e}; then get {other}"),
        }
        let total = *total_bytes.get_or_insert_with(|| proxy.response_bytes());
        // About 40 placements; an odd stride lands on headers, bodies and boundaries alike.
        at += (total / 40) | 1;
        if at > total {
            break;
        }
    }
    (succeeded, failed)
}
