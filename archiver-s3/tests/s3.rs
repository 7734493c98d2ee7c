//! Behaviour beyond the conformance suite, against the real server: the shared object-store
//! scenarios (request counts, index-pruned queries, hostile ids, corruption detection, paging),
//! URI validation errors with credentials kept out of output, and what is S3's own: an
//! embedder's client, the staged-blob sweep, the registry's `s3store` section.

mod support;

use archiver_core::testing::test_records;
use archiver_core::{ArchiveOptions, ArchiveUri, HistoryArchiver, VisibilityArchiver};
use archiver_kit::object::testing::{
    Request, archive_and_find_a_record, scenario_tests, scenarios,
};
use archiver_s3::{S3HistoryArchiver, S3Store, S3VisibilityArchiver};
use support::{RequestCounter, get_all, one_run, quick};

scenario_tests!(behaviour: support::fixture);

fn uri(text: &str) -> ArchiveUri {
    ArchiveUri::parse(text).expect("valid URI")
}

#[tokio::test]
async fn validate_uri_tells_missing_denied_and_unreachable_apart() {
    let Some(fixture) =
        support::fixture("validate_uri_tells_missing_denied_and_unreachable_apart").await
    else {
        return;
    };
    let server = &fixture.server;
    let secret = "definitely-the-wrong-secret";
    let denied_store =
        S3Store::new(quick(server.settings()).with_credentials(&server.access_key_id, secret));
    let denied = scenarios::validate_uri_tells_missing_denied_and_unreachable_apart(
        &fixture,
        denied_store.clone(),
    )
    .await;
    let text = denied.to_string();
    assert!(
        !text.contains(secret),
        "the secret leaked into the error: {text}"
    );
    let debug = format!("{denied:?} {denied_store:?}");
    assert!(
        !debug.contains(secret),
        "the secret leaked into Debug: {debug}"
    );
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
    assert_eq!(counter.requests(), [Request::Head, Request::Put]);
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
    archive_and_find_a_record(&*visibility, &location).await;
}
