//! Behaviour beyond the conformance suite, against the real server: URI validation errors,
//! requests per archived workflow, index-pruned queries, hostile ids, corruption detection,
//! credentials kept out of output.

mod support;

use std::time::Duration;

use archiver_core::testing::{search_attributes, test_records};
use archiver_core::{
    ArchiveOptions, ArchiveUri, Error, GetHistoryRequest, HistoryArchiver, QueryRequest,
    VisibilityArchiver,
};
use archiver_s3::{
    RetrySettings, S3HistoryArchiver, S3Settings, S3Store, S3VisibilityArchiver, TimeoutSettings,
};
use support::{RequestCounter, get_all, one_run};

fn uri(text: &str) -> ArchiveUri {
    ArchiveUri::parse(text).expect("valid URI")
}

fn quick(settings: S3Settings) -> S3Settings {
    settings
        .with_retry(RetrySettings {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
        })
        .with_timeouts(TimeoutSettings {
            connect: Duration::from_secs(1),
            attempt: Duration::from_secs(5),
        })
}

#[tokio::test]
async fn validate_uri_tells_missing_denied_and_unreachable_apart() {
    let Some(server) = support::server("validate_uri_tells_missing_denied_and_unreachable_apart")
    else {
        return;
    };
    let good = S3VisibilityArchiver::new(S3Store::new(quick(server.settings())));
    good.validate_uri(&uri(&server.fresh_uri("v")))
        .await
        .expect("the test bucket validates");

    let missing = good
        .validate_uri(&uri("s3://no-such-bucket-archiver/x"))
        .await;
    match missing {
        Err(Error::InvalidUri { reason, .. }) => {
            assert!(reason.contains("does not exist"), "{reason}")
        }
        other => panic!("missing bucket: expected InvalidUri, got {other:?}"),
    }

    let secret = "definitely-the-wrong-secret";
    let denied_settings = quick(server.settings()).with_credentials(&server.access_key_id, secret);
    let denied_store = S3Store::new(denied_settings);
    let denied = S3VisibilityArchiver::new(denied_store.clone())
        .validate_uri(&uri(&format!("s3://{}/x", server.bucket)))
        .await
        .expect_err("a wrong secret is denied");
    let text = denied.to_string();
    assert!(!denied.is_retryable(), "a denial is not retryable: {text}");
    assert!(text.contains("access denied"), "{text}");
    assert!(
        !text.contains(secret),
        "the secret leaked into the error: {text}"
    );
    let debug = format!("{denied:?} {denied_store:?}");
    assert!(
        !debug.contains(secret),
        "the secret leaked into Debug: {debug}"
    );

    let unreachable = S3VisibilityArchiver::new(S3Store::new(quick(
        server.settings_via("http://127.0.0.1:1"),
    )))
    .validate_uri(&uri("s3://some-bucket/x"))
    .await
    .expect_err("nothing listens on port 1");
    assert!(unreachable.is_retryable(), "{unreachable}");
    assert!(
        unreachable.to_string().contains("cannot reach"),
        "{unreachable}"
    );
}

#[tokio::test]
async fn requests_per_archived_workflow() {
    let Some(server) = support::server("requests_per_archived_workflow") else {
        return;
    };
    let counter = RequestCounter::default();
    let store = counter.store(server.settings());
    let location = uri(&server.fresh_uri("requests"));

    // A typical small workflow: its history fits one blob.
    let (source, run, history, request) = one_run("small", 1, 20);
    let history_archiver = S3HistoryArchiver::new(store.clone(), source);
    let visibility_archiver = S3VisibilityArchiver::new(store.clone());
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
    println!("small workflow: {:?}", counter.requests());
    assert_eq!(
        counter.requests(),
        ["PUT", "PUT"],
        "one inline history PUT and one visibility PUT (Temporal: 5 PUTs + 1 HEAD)"
    );
    counter.reset();
    history_archiver
        .archive(&location, &request, &options)
        .await
        .expect("re-archive");
    assert_eq!(
        counter.requests(),
        ["PUT"],
        "a re-archive is one refused conditional PUT"
    );
    assert_eq!(
        get_all(&history_archiver, &location, &run).await.unwrap(),
        history
    );

    // A multi-blob history: one HEAD, one PUT per blob, one manifest PUT, one LIST to sweep
    // the staged blobs of abandoned attempts.
    let (source, run, history, request) = one_run("large", 2, 300);
    let archiver = S3HistoryArchiver::new(store.clone(), source).with_target_blob_size(4096);
    counter.reset();
    archiver
        .archive(&location, &request, &options)
        .await
        .expect("archive");
    let blobs = archiver.blob_writes() as usize;
    assert!(blobs > 3, "several blobs: {blobs}");
    println!("{blobs}-blob history: {:?}", counter.requests());
    assert_eq!(counter.count("HEAD"), 1);
    assert_eq!(counter.count("PUT"), blobs + 1);
    assert_eq!(counter.count("LIST"), 1);
    assert_eq!(counter.total(), blobs + 3);
    counter.reset();
    archiver
        .archive(&location, &request, &options)
        .await
        .expect("re-archive");
    assert_eq!(counter.requests(), ["HEAD"], "nothing is uploaded twice");

    // The first page of a large history costs the manifest and one blob.
    counter.reset();
    let first = archiver
        .get(
            &location,
            &GetHistoryRequest::new(&run.namespace_id, &run.workflow_id, &run.run_id, 5),
        )
        .await
        .expect("first page");
    assert!(first.next_page_token.is_some());
    assert_eq!(
        counter.requests(),
        ["LIST", "GET", "GET"],
        "versions, manifest, one blob"
    );
    assert_eq!(get_all(&archiver, &location, &run).await.unwrap(), history);
}

#[tokio::test]
async fn queries_download_only_what_the_index_admits() {
    let Some(server) = support::server("queries_download_only_what_the_index_admits") else {
        return;
    };
    let counter = RequestCounter::default();
    let archiver = S3VisibilityArchiver::new(counter.store(server.settings()));
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
        counter.reset();
        let page = archiver
            .query(&location, &query(text, 1000), &attrs)
            .await
            .expect(text);
        assert_eq!(page.executions.len(), expected, "{text}");
        assert_eq!(
            counter.count("GET"),
            expected,
            "{text}: only matching records are downloaded"
        );
        assert_eq!(counter.count("LIST"), 1, "{text}");
    }

    // The default order walks the listing newest first and stops when the page is decided.
    counter.reset();
    let page = archiver
        .query(&location, &query("", 10), &attrs)
        .await
        .expect("default query");
    assert_eq!(page.executions.len(), 10);
    assert_eq!(
        page.executions[0].run_id, "run-0119",
        "newest close time first"
    );
    assert_eq!(
        counter.count("GET"),
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
    // The listing restarts at the token's close time: records tied with it may follow it in
    // the order, so the token's own record is read again (one extra GET), nothing older.
    assert_eq!(
        counter.count("GET"),
        11 + 12,
        "the token starts the listing where it stopped"
    );

    // Orders by start time (also in the key) stop downloading once the page is decided.
    for text in [
        "ORDER BY StartTime ASC",
        "ORDER BY StartTime DESC",
        "ORDER BY CloseTime ASC",
    ] {
        counter.reset();
        let page = archiver
            .query(&location, &query(text, 5), &attrs)
            .await
            .expect(text);
        assert_eq!(page.executions.len(), 5, "{text}");
        assert_eq!(counter.count("GET"), 6, "{text}: page_size + 1 downloads");
    }

    // A residual predicate (custom attribute) still needs downloads, but only until decided.
    counter.reset();
    let page = archiver
        .query(&location, &query("CustomKeyword = 'red'", 5), &attrs)
        .await
        .expect("residual query");
    assert_eq!(page.executions.len(), 5);
    assert!(counter.count("GET") < 30, "{:?}", counter.requests());
}

#[tokio::test]
async fn hostile_ids_round_trip() {
    let Some(server) = support::server("hostile_ids_round_trip") else {
        return;
    };
    let store = S3Store::new(server.settings());
    let location = uri(&server.fresh_uri("hostile"));
    let hostile = format!("../../{}/日本/\u{0}/{}", "a/".repeat(600), "x".repeat(1500));
    let (source, _, history, mut request) = one_run("placeholder", 3, 30);
    let run =
        archiver_core::history::RunKey::new(hostile.as_str(), hostile.as_str(), hostile.as_str());
    source.insert(run.clone(), history.clone());
    request.namespace_id = hostile.clone();
    request.workflow_id = hostile.clone();
    request.run_id = hostile.clone();
    let archiver = S3HistoryArchiver::new(store.clone(), source).with_target_blob_size(1024);
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
    let visibility = S3VisibilityArchiver::new(store);
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
    let store = S3Store::new(server.settings());
    let base = server.fresh_uri("damage");
    let location = uri(&base);
    let (source, run, _, request) = one_run("damaged", 4, 100);
    let archiver = S3HistoryArchiver::new(store.clone(), source).with_target_blob_size(2048);
    archiver
        .archive(&location, &request, &ArchiveOptions::default())
        .await
        .expect("archive");
    let prefix = base.trim_start_matches(&format!("s3://{}/", server.bucket));
    let client = store.client().await;
    let listed = client
        .list_objects_v2()
        .bucket(&server.bucket)
        .prefix(prefix)
        .send()
        .await
        .expect("list");
    let blob = listed
        .contents()
        .iter()
        .filter_map(|o| o.key())
        .find(|k| k.contains("/blobs/"))
        .expect("a blob")
        .to_owned();
    let original = client
        .get_object()
        .bucket(&server.bucket)
        .key(&blob)
        .send()
        .await
        .expect("get blob")
        .body
        .collect()
        .await
        .expect("body")
        .into_bytes();
    let mut damaged = original.to_vec();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x01;
    client
        .put_object()
        .bucket(&server.bucket)
        .key(&blob)
        .body(damaged.into())
        .send()
        .await
        .expect("damage the blob");
    match get_all(&archiver, &location, &run).await {
        Err(Error::Corrupted { location, reason }) => {
            assert!(location.ends_with(&blob), "{location}");
            assert!(reason.contains("CRC-32C"), "{reason}");
        }
        other => panic!("a flipped bit must be Corrupted, got {other:?}"),
    }
}

/// Every page of every order agrees with the in-memory reference provider, with ties in the
/// sort keys (records share close and start times) and paging through them.
#[tokio::test]
async fn paging_agrees_with_the_reference_in_every_order() {
    let Some(server) = support::server("paging_agrees_with_the_reference_in_every_order") else {
        return;
    };
    let s3 = S3VisibilityArchiver::new(S3Store::new(server.settings()));
    let memory = archiver_core::MemoryVisibilityArchiver::new();
    let location = uri(&server.fresh_uri("orders"));
    let reference = uri("memory://reference/orders");
    let mut records = test_records("ns-id", 60);
    for (i, record) in records.iter_mut().enumerate() {
        // Many ties: 6 distinct close times, 4 distinct start times.
        record.close_time = records_time(i % 6);
        record.start_time = records_time(i % 4);
    }
    for record in &records {
        s3.archive(&location, record, &ArchiveOptions::default())
            .await
            .expect("archive");
        memory
            .archive(&reference, record, &ArchiveOptions::default())
            .await
            .expect("archive");
    }
    let attrs = search_attributes();
    for text in [
        "",
        "ORDER BY CloseTime ASC",
        "ORDER BY StartTime DESC",
        "ORDER BY StartTime ASC, WorkflowId DESC",
        "ORDER BY HistoryLength DESC",
        "WorkflowType != 'refunds' ORDER BY StartTime ASC",
        "CustomKeyword = 'blue' OR ExecutionStatus = 'Failed'",
    ] {
        for page_size in [4, 100] {
            let mut request = QueryRequest::new("ns-id", text).with_page_size(page_size);
            let mut pages = 0;
            loop {
                let got = s3.query(&location, &request, &attrs).await.expect(text);
                let want = memory
                    .query(&reference, &request, &attrs)
                    .await
                    .expect(text);
                assert_eq!(got, want, "{text} (page size {page_size}, page {pages})");
                pages += 1;
                match got.next_page_token {
                    Some(token) => request.next_page_token = Some(token),
                    None => break,
                }
            }
        }
    }
}

fn records_time(minute: usize) -> jiff::Timestamp {
    let base: jiff::Timestamp = "2026-02-01T00:00:00.123456789Z".parse().expect("time");
    base + jiff::SignedDuration::from_mins(minute as i64)
}

/// An embedder's own client is used as it is, and interceptors can still be added to it.
#[tokio::test]
async fn an_embedders_client_is_used_as_is() {
    let Some(server) = support::server("an_embedders_client_is_used_as_is") else {
        return;
    };
    let own = S3Store::new(server.settings()).client().await.clone();
    let counter = RequestCounter::default();
    let store = S3Store::from_client(own).with_interceptor(counter.clone());
    assert_eq!(format!("{store:?}"), "S3Store(<embedder's client>)");
    let archiver = S3VisibilityArchiver::new(store);
    let location = uri(&server.fresh_uri("embedder"));
    archiver.validate_uri(&location).await.expect("validate");
    let record = test_records("ns-id", 1).remove(0);
    archiver
        .archive(&location, &record, &ArchiveOptions::default())
        .await
        .expect("archive");
    assert_eq!(counter.requests(), ["HEAD", "PUT"]);
}

/// Staged blobs of an attempt that never committed (here: kept for a resume that never came)
/// are removed by the next successful archive of the run.
#[tokio::test]
async fn abandoned_staged_blobs_are_swept_by_the_next_commit() {
    let Some(server) = support::server("abandoned_staged_blobs_are_swept_by_the_next_commit")
    else {
        return;
    };
    let store = S3Store::new(server.settings());
    let base = server.fresh_uri("sweep");
    let location = uri(&base);
    let (source, run, history, request) = one_run("sweep", 8, 400);
    let archiver =
        S3HistoryArchiver::new(store.clone(), source.clone()).with_target_blob_size(2048);
    let progress = std::sync::Arc::new(archiver_core::MemoryProgressManager::new());
    let resumable = ArchiveOptions::default().with_progress_manager(progress);
    source.fail_reads_after(1, 1);
    let err = archiver
        .archive(&location, &request, &resumable)
        .await
        .expect_err("the source fails mid-archive");
    assert!(err.is_retryable(), "{err}");
    let staged = |keys: Vec<String>| keys.into_iter().filter(|k| k.contains("/blobs/")).count();
    let prefix = base.trim_start_matches(&format!("s3://{}/", server.bucket));
    let list = || async {
        let client = store.client().await;
        let mut keys = Vec::new();
        let mut pages = client
            .list_objects_v2()
            .bucket(&server.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            keys.extend(
                page.expect("list")
                    .contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
        }
        keys
    };
    let abandoned = staged(list().await);
    assert!(
        abandoned > 0,
        "the interrupted attempt kept its blobs for a resume"
    );

    // A fresh attempt (no progress) archives the run and sweeps the abandoned blobs.
    let before = archiver.blob_writes();
    archiver
        .archive(&location, &request, &ArchiveOptions::default())
        .await
        .expect("archive");
    let written = (archiver.blob_writes() - before) as usize;
    assert_eq!(
        staged(list().await),
        written,
        "only the committed blobs remain"
    );
    assert_eq!(get_all(&archiver, &location, &run).await.unwrap(), history);
}

/// The registry path: Temporal's `s3store` section, credentials from the standard AWS chain
/// (here the `AWS_*` variables `.ci/servers.sh` exports).
#[tokio::test]
async fn registry_builds_working_archivers_from_the_s3store_section() {
    let Some(server) =
        support::server("registry_builds_working_archivers_from_the_s3store_section")
    else {
        return;
    };
    if std::env::var("AWS_ACCESS_KEY_ID").is_err() {
        eprintln!("SKIPPED: the credential chain needs AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY");
        return;
    }
    let provider = format!(
        "{{ s3store: {{ region: \"{}\", endpoint: \"{}\", s3ForcePathStyle: true }} }}",
        server.region, server.endpoint
    );
    let base = server.fresh_uri("registry");
    let yaml = format!(
        "archival:\n  history: {{ state: \"enabled\", enableRead: true, provider: {provider} }}\n  visibility: {{ state: \"enabled\", enableRead: true, provider: {provider} }}\nnamespaceDefaults:\n  archival:\n    history: {{ state: \"enabled\", URI: \"{base}\" }}\n    visibility: {{ state: \"enabled\", URI: \"{base}\" }}\n"
    );
    let config = archiver_core::config::ArchivalConfig::from_yaml(&yaml).expect("config");
    let (source, run, history, request) = one_run("registry", 10, 30);
    let mut registry = archiver_core::ProviderRegistry::new(config, source);
    archiver_s3::register(&mut registry);
    let location = uri(&base);
    let history_archiver = registry.history_archiver("s3").expect("history archiver");
    history_archiver
        .validate_uri(&location)
        .await
        .expect("validate");
    history_archiver
        .archive(&location, &request, &ArchiveOptions::default())
        .await
        .expect("archive");
    assert_eq!(
        get_all(&*history_archiver, &location, &run).await.unwrap(),
        history
    );
    let visibility = registry
        .visibility_archiver("s3")
        .expect("visibility archiver");
    let record = test_records("ns-id", 1).remove(0);
    visibility
        .archive(&location, &record, &ArchiveOptions::default())
        .await
        .expect("archive record");
    let found = visibility
        .query(
            &location,
            &QueryRequest::new("ns-id", ""),
            &search_attributes(),
        )
        .await
        .expect("query");
    assert_eq!(found.executions, vec![record]);
}
