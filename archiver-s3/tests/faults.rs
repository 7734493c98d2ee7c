//! Faults between the provider and a real S3 server (the kit's per-request fault proxy in front
//! of SeaweedFS): archives complete through the SDK's retries, or fail with the right
//! classification, and nothing is ever reported archived that is not, nor is a partial archive
//! ever visible.

mod support;

use std::time::Duration;

use archiver_core::testing::{search_attributes, test_records};
use archiver_core::{
    ArchiveOptions, ArchiveUri, Error, HistoryArchiver, QueryRequest, VisibilityArchiver,
};
use archiver_kit::object::testing::proxy::{Dialect, Fault, FaultProxy};
use archiver_s3::{
    RetrySettings, S3HistoryArchiver, S3Settings, S3Store, S3VisibilityArchiver, TimeoutSettings,
};
use support::{get_all, one_run};

archiver_kit::object::testing::scenario_tests!(faults: support::fixture);

/// Which fault request `n` gets.
type Plan = fn(usize) -> Fault;

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
    let cases: [(&str, Plan); 3] = [
        ("every 3rd request reset before forwarding", |n| {
            if n % 3 == 2 {
                Fault::DropBefore
            } else {
                Fault::Pass
            }
        }),
        ("every 2nd request answered 503 SlowDown", |n| {
            if n % 2 == 1 {
                Fault::Status(503)
            } else {
                Fault::Pass
            }
        }),
        ("every 4th response reset after 40 bytes", |n| {
            if n % 4 == 3 {
                Fault::CutResponse(40)
            } else {
                Fault::Pass
            }
        }),
    ];
    for (case, plan) in cases {
        let proxy = FaultProxy::start(&server.endpoint, Dialect::S3, move |n, _, _| plan(n)).await;
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
        assert!(proxy.injected() > 0, "{case}: the proxy injected no fault");
        println!(
            "{case}: {} requests, {} faults injected, all operations succeeded",
            proxy.seen().len(),
            proxy.injected()
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
    for (case, fault, attempt_timeout, says) in [
        (
            "every response cut after 20 bytes",
            Fault::CutResponse(20),
            Duration::from_secs(10),
            "connection",
        ),
        (
            "every request throttled",
            Fault::Status(503),
            Duration::from_secs(10),
            "throttled",
        ),
        (
            "responses slower than the attempt timeout",
            Fault::Delay(Duration::from_millis(800)),
            Duration::from_millis(200),
            "timed out",
        ),
    ] {
        let proxy = FaultProxy::start(&server.endpoint, Dialect::S3, move |_, _, _| fault).await;
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

/// The faults the sweep places: every way one request can go wrong.
const SWEPT: [Fault; 5] = [
    Fault::DropBefore,
    Fault::DropAfter,
    Fault::StatusAfter(500),
    Fault::TruncateBody,
    Fault::CutResponse(20),
];

/// Archives one history again and again, each time with one fault on a different request (and
/// of a different kind); checks each outcome against what a reader sees. Returns (ok, failed).
async fn fault_sweep(server: &support::Server, attempts: u32) -> (usize, usize) {
    let direct = S3Store::new(server.settings());
    let (mut failed, mut succeeded) = (0, 0);
    // The first (fault-free) run counts the requests; then one fault is placed on each of
    // them in turn, the kinds taking turns.
    let mut requests = None;
    let mut at = 0;
    loop {
        let fault = SWEPT[at % SWEPT.len()];
        let target = at.checked_sub(1);
        let proxy = FaultProxy::start(&server.endpoint, Dialect::S3, move |n, _, _| {
            if Some(n) == target {
                fault
            } else {
                Fault::Pass
            }
        })
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
        let case = format!("{fault:?} on request {target:?}");
        match (&outcome, &seen) {
            (Ok(()), Ok(got)) => {
                assert_eq!(got, &history, "{case}: a success reads back whole");
                succeeded += 1;
            }
            (Ok(()), Err(e)) => {
                panic!("{case}: reported archived but not readable: {e}")
            }
            (Err(e), Err(Error::NotFound { .. })) => {
                assert!(e.is_retryable(), "{case}: {e}");
                failed += 1;
            }
            // The manifest was stored but its answer was lost: archived, reported failed
            // retryably; the retry finds it and succeeds. Never partial.
            (Err(e), Ok(got)) => {
                assert!(e.is_retryable(), "{case}: {e}");
                assert_eq!(got, &history, "{case}: never partial");
                failed += 1;
            }
            (Err(e), Err(other)) => panic!("{case}: archive {e}; then get {other}"),
        }
        let total = *requests.get_or_insert_with(|| proxy.seen().len());
        at += 1;
        if at > total {
            break;
        }
    }
    (succeeded, failed)
}

/// Every request's first two attempts are reset, many requests in a row: with 5 attempts each
/// one goes through. The SDK's retry quota (a token bucket shared by every client of the
/// process, emptied by requests that needed two retries) must not ration retries across
/// requests: `max_attempts` is the policy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_are_not_rationed_across_requests() {
    let Some(server) = support::server("retries_are_not_rationed_across_requests") else {
        return;
    };
    let attempts = std::sync::Mutex::new(std::collections::HashMap::<String, usize>::new());
    let proxy = FaultProxy::start(&server.endpoint, Dialect::S3, move |_, method, path| {
        let mut attempts = attempts.lock().unwrap();
        let seen = attempts.entry(format!("{method} {path}")).or_default();
        *seen += 1;
        if *seen <= 2 {
            Fault::DropBefore
        } else {
            Fault::Pass
        }
    })
    .await;
    let store = S3Store::new(with_attempts(
        server.settings_via(&proxy.endpoint()),
        5,
        Duration::from_secs(10),
    ));
    let visibility = S3VisibilityArchiver::new(store);
    let location = uri(&server.fresh_uri("rationed"));
    for (i, record) in test_records("ns-id", 120).iter().enumerate() {
        visibility
            .archive(&location, record, &ArchiveOptions::default())
            .await
            .unwrap_or_else(|e| panic!("record {i}: 3 attempts of 5 must do: {e}"));
    }
    assert_eq!(proxy.injected(), 240);
}
