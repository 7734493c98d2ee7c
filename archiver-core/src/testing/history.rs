//! History scenarios.

use std::sync::Arc;

use super::data::{hostile_id, source_with_run, test_history, test_request};
use super::{Fixture, declared};
use crate::history::{HistoryIterator, MemoryHistorySource, RunKey};
use crate::{
    ArchiveHistoryRequest, ArchiveOptions, ArchiveUri, Error, GetHistoryRequest, History,
    HistoryArchiver, HistorySource, MemoryProgressManager, Result,
};

/// A small target, so test histories span many blobs.
const SMALL_BLOB: usize = 1024;

/// Every page of a get of `run` (`version`, or the highest with `None`), `page_size` events a
/// page, concatenated; panics on an empty page or a token loop.
pub async fn read_history(
    archiver: &dyn HistoryArchiver,
    uri: &ArchiveUri,
    run: &RunKey,
    version: Option<i64>,
    page_size: usize,
) -> Result<Vec<History>> {
    let mut request =
        GetHistoryRequest::new(&run.namespace_id, &run.workflow_id, &run.run_id, page_size);
    request.close_failover_version = version;
    let mut batches = Vec::new();
    for _ in 0..100_000 {
        let page = archiver.get(uri, &request).await?;
        assert!(
            !page.history_batches.is_empty(),
            "get returned an empty page (page size {page_size})"
        );
        batches.extend(page.history_batches);
        match page.next_page_token {
            Some(token) if !token.is_empty() => request.next_page_token = Some(token),
            _ => return Ok(batches),
        }
    }
    panic!("get never stopped returning page tokens");
}

/// How many blobs the iterator cuts `request`'s history into at `target` bytes.
async fn blob_count(
    source: &Arc<MemoryHistorySource>,
    request: &ArchiveHistoryRequest,
    target: usize,
) -> u64 {
    let mut iterator = HistoryIterator::new(source.clone(), request, target);
    let mut count = 0;
    while iterator
        .next()
        .await
        .expect("test history iterates")
        .is_some()
    {
        count += 1;
    }
    count
}

fn event_ids(batches: &[History]) -> Vec<i64> {
    batches
        .iter()
        .flat_map(|b| b.events.iter().map(|e| e.event_id))
        .collect()
}

/// A source holding one run's history, and the request archiving it.
fn one_run(
    name: &str,
    seed: u64,
    batches: usize,
    version: i64,
) -> (
    Arc<MemoryHistorySource>,
    RunKey,
    Vec<History>,
    ArchiveHistoryRequest,
) {
    let run = RunKey::new(
        "conformance-ns",
        format!("wf-{name}"),
        format!("run-{name}"),
    );
    let (source, history, request) = source_with_run(&run, seed, batches, version);
    (source, run, history, request)
}

fn as_source(source: &Arc<MemoryHistorySource>) -> Arc<dyn HistorySource> {
    source.clone()
}

/// Archive a multi-blob history, read it back with several page sizes: every event exactly
/// once, in order, batches intact.
pub async fn archive_then_get(fixture: &dyn Fixture) {
    let (source, run, history, request) = one_run("archive-then-get", 1, 80, 3);
    assert!(
        blob_count(&source, &request, SMALL_BLOB).await > 3,
        "test data spans blobs"
    );
    let archiver = fixture.history_archiver(as_source(&source), SMALL_BLOB);
    let uri = fixture.new_uri();
    archiver
        .archive(&uri, &request, &ArchiveOptions::default())
        .await
        .expect("archive of a multi-blob history");
    let all_ids: Vec<i64> = (1..request.next_event_id).collect();
    for page_size in [1, 3, 17, 10_000] {
        let got = read_history(&*archiver, &uri, &run, None, page_size)
            .await
            .unwrap_or_else(|e| panic!("get with page size {page_size}: {e}"));
        assert_eq!(
            event_ids(&got),
            all_ids,
            "page size {page_size}: every event once, in order"
        );
        assert_eq!(
            got, history,
            "page size {page_size}: batches read back as archived"
        );
    }
}

/// A history whose namespace, workflow and run ids are all [`hostile_id`] archives in several
/// blobs and reads back whole; a run whose ids differ from them only at the end stays apart.
pub async fn hostile_ids_round_trip(fixture: &dyn Fixture) {
    let hostile = hostile_id();
    let run = RunKey::new(hostile.as_str(), hostile.as_str(), hostile.as_str());
    let (source, history, request) = source_with_run(&run, 11, 20, 1);
    let near = RunKey::new(hostile.as_str(), format!("{hostile}/"), hostile.as_str());
    let near_history = test_history(12, 5, 1);
    source.insert(near.clone(), near_history.clone());
    let archiver = fixture.history_archiver(as_source(&source), SMALL_BLOB);
    let uri = fixture.new_uri();
    let options = ArchiveOptions::default();
    archiver
        .archive(&uri, &request, &options)
        .await
        .expect("archive with hostile ids");
    archiver
        .archive(&uri, &test_request(&near, &near_history, 1), &options)
        .await
        .expect("archive with a near id");
    for (run, history) in [(&run, &history), (&near, &near_history)] {
        let got = read_history(&*archiver, &uri, run, None, 7)
            .await
            .expect("get with hostile ids");
        assert_eq!(&got, history, "hostile ids read back their own history");
    }
}

/// Without a version, get reads the highest archived version; with one, that version; an
/// unknown version is NotFound.
pub async fn get_versions(fixture: &dyn Fixture) {
    let (source, run, v1, request_v1) = one_run("versions", 2, 30, 1);
    let archiver = fixture.history_archiver(as_source(&source), SMALL_BLOB);
    let uri = fixture.new_uri();
    let options = ArchiveOptions::default();
    archiver
        .archive(&uri, &request_v1, &options)
        .await
        .expect("archive version 1");
    let v2 = test_history(3, 25, 2);
    source.insert(run.clone(), v2.clone());
    archiver
        .archive(&uri, &test_request(&run, &v2, 2), &options)
        .await
        .expect("archive version 2");
    let highest = read_history(&*archiver, &uri, &run, None, 4)
        .await
        .expect("get highest");
    assert_eq!(
        highest, v2,
        "get without a version reads the highest version"
    );
    let first = read_history(&*archiver, &uri, &run, Some(1), 4)
        .await
        .expect("get version 1");
    assert_eq!(first, v1, "get with version 1 reads version 1");
    let missing = read_history(&*archiver, &uri, &run, Some(7), 4).await;
    assert!(
        matches!(missing, Err(Error::NotFound { .. })),
        "get of a version never archived: expected NotFound, got {missing:?}"
    );
}

/// Get of a run never archived is NotFound.
pub async fn get_missing_run_is_not_found(fixture: &dyn Fixture) {
    let source = Arc::new(MemoryHistorySource::new());
    let archiver = fixture.history_archiver(as_source(&source), SMALL_BLOB);
    let run = RunKey::new("conformance-ns", "wf-missing", "run-missing");
    let got = read_history(&*archiver, &fixture.new_uri(), &run, None, 10).await;
    assert!(
        matches!(got, Err(Error::NotFound { .. })),
        "get of a missing run: expected NotFound, got {got:?}"
    );
}

/// History that no longer exists at the source is skipped: Ok, and nothing archived.
pub async fn archive_skips_missing_history(fixture: &dyn Fixture) {
    let (source, run, _, request) = one_run("skip", 4, 5, 1);
    source.remove(&run);
    let archiver = fixture.history_archiver(as_source(&source), SMALL_BLOB);
    let uri = fixture.new_uri();
    archiver
        .archive(&uri, &request, &ArchiveOptions::default())
        .await
        .expect("archiving a history the source no longer has is success (skip)");
    let got = read_history(&*archiver, &uri, &run, None, 10).await;
    assert!(
        matches!(got, Err(Error::NotFound { .. })),
        "a skipped archive must leave nothing: got {got:?}"
    );
}

/// History that does not end as the request says is HistoryMutated, not retryable, and leaves
/// no archive.
pub async fn archive_detects_mutated_history(fixture: &dyn Fixture) {
    let (source, run, history, request) = one_run("mutated", 5, 40, 2);
    let archiver = fixture.history_archiver(as_source(&source), SMALL_BLOB);
    let uri = fixture.new_uri();
    let options = ArchiveOptions::default();
    let lower_version = ArchiveHistoryRequest {
        close_failover_version: 1,
        ..request.clone()
    };
    let longer = ArchiveHistoryRequest {
        next_event_id: request.next_event_id + 3,
        ..request.clone()
    };
    let mut grown = history.clone();
    grown.extend(test_history(6, 1, 2).into_iter().map(|mut b| {
        for (i, e) in b.events.iter_mut().enumerate() {
            e.event_id = request.next_event_id + i as i64;
        }
        b
    }));
    for (case, request) in [
        ("events newer than the close version", &lower_version),
        ("history shorter than next_event_id", &longer),
    ] {
        let got = archiver.archive(&uri, request, &options).await;
        match got {
            Err(ref e @ Error::HistoryMutated { .. }) => {
                assert!(
                    !e.is_retryable(),
                    "{case}: HistoryMutated must not be retryable"
                )
            }
            other => panic!("{case}: expected HistoryMutated, got {other:?}"),
        }
    }
    source.insert(run.clone(), grown);
    let got = archiver.archive(&uri, &request, &options).await;
    assert!(
        matches!(got, Err(Error::HistoryMutated { .. })),
        "history grown past next_event_id: expected HistoryMutated, got {got:?}"
    );
    let got = read_history(&*archiver, &uri, &run, None, 10).await;
    assert!(
        matches!(got, Err(Error::NotFound { .. })),
        "a mutated history must leave no archive: got {got:?}"
    );
}

/// Archiving the same run twice succeeds and gives the same archive.
pub async fn rearchive_is_idempotent(fixture: &dyn Fixture) {
    let (source, run, history, request) = one_run("rearchive", 7, 40, 1);
    let archiver = fixture.history_archiver(as_source(&source), SMALL_BLOB);
    let uri = fixture.new_uri();
    for attempt in 1..=2 {
        archiver
            .archive(&uri, &request, &ArchiveOptions::default())
            .await
            .unwrap_or_else(|e| panic!("archive attempt {attempt}: {e}"));
        let got = read_history(&*archiver, &uri, &run, None, 7)
            .await
            .expect("get");
        assert_eq!(got, history, "archive attempt {attempt}: same result");
    }
}

/// Two concurrent archives of the same run both succeed, and the archive is complete.
pub async fn concurrent_archives_both_succeed(fixture: &dyn Fixture) {
    let (source, run, history, request) = one_run("concurrent", 8, 60, 1);
    let archiver = fixture.history_archiver(as_source(&source), SMALL_BLOB);
    let uri = fixture.new_uri();
    let options = ArchiveOptions::default();
    let (a, b) = futures::join!(
        archiver.archive(&uri, &request, &options),
        archiver.archive(&uri, &request, &options)
    );
    a.expect("first concurrent archive");
    b.expect("second concurrent archive");
    let got = read_history(&*archiver, &uri, &run, None, 9)
        .await
        .expect("get");
    assert_eq!(
        got, history,
        "concurrent archives leave one complete archive"
    );
}

/// An archive interrupted by a retryable source failure fails retryably and leaves nothing
/// visible; a second archive with the same progress manager completes, equal to a clean one.
/// With [`Capabilities::counts_blob_writes`](super::Capabilities), no blob is written twice.
pub async fn resume_after_interruption(fixture: &dyn Fixture) {
    let counts = declared(
        fixture.capabilities().counts_blob_writes,
        "counts_blob_writes",
        "resume_after_interruption",
    );
    let (source, run, history, request) = one_run("resume", 9, 400, 5);
    let target = 2 * SMALL_BLOB;
    let expected_blobs = blob_count(&source, &request, target).await;
    let archiver = fixture.history_archiver(as_source(&source), target);
    let uri = fixture.new_uri();
    let progress = Arc::new(MemoryProgressManager::new());
    let options = ArchiveOptions::default().with_progress_manager(progress);
    // The first page reads fine (several blobs' worth), the second fails.
    source.fail_reads_after(1, 1);
    let before = fixture.blob_writes();
    let first = archiver.archive(&uri, &request, &options).await;
    match first {
        Err(ref e) if e.is_retryable() => {}
        other => panic!("an interrupted archive must fail retryably, got {other:?}"),
    }
    let partial = read_history(&*archiver, &uri, &run, None, 10).await;
    assert!(
        matches!(partial, Err(Error::NotFound { .. })),
        "an interrupted archive must not be visible: got {partial:?}"
    );
    archiver
        .archive(&uri, &request, &options)
        .await
        .expect("the resumed archive completes");
    let got = read_history(&*archiver, &uri, &run, None, 50)
        .await
        .expect("get");
    assert_eq!(got, history, "the resumed archive equals a clean one");
    if counts {
        let written = fixture
            .blob_writes()
            .expect("blob_writes when counts_blob_writes")
            - before.expect("blob_writes when counts_blob_writes");
        assert_eq!(
            written, expected_blobs,
            "a resumed archive writes each of the {expected_blobs} blobs once"
        );
    }
}

/// With the non-retryable-error option, a non-retryable failure returns the caller's error.
pub async fn non_retryable_error_option(fixture: &dyn Fixture) {
    let (source, _, _, request) = one_run("caller-error", 10, 10, 2);
    let archiver = fixture.history_archiver(as_source(&source), SMALL_BLOB);
    let mutated = ArchiveHistoryRequest {
        close_failover_version: 1,
        ..request
    };
    let caller = Arc::new(std::io::Error::other("caller says stop"));
    let options = ArchiveOptions::default().with_non_retryable_error(caller);
    match archiver
        .archive(&fixture.new_uri(), &mutated, &options)
        .await
    {
        Err(Error::Caller(e)) => assert_eq!(e.to_string(), "caller says stop"),
        other => panic!("expected the caller's error for a mutated history, got {other:?}"),
    }
}

/// A damaged page token is CorruptedToken.
pub async fn corrupted_history_token(fixture: &dyn Fixture) {
    let (source, run, _, request) = one_run("token", 11, 40, 1);
    let archiver = fixture.history_archiver(as_source(&source), SMALL_BLOB);
    let uri = fixture.new_uri();
    archiver
        .archive(&uri, &request, &ArchiveOptions::default())
        .await
        .expect("archive");
    let mut get = GetHistoryRequest::new(&run.namespace_id, &run.workflow_id, &run.run_id, 1);
    let token = archiver
        .get(&uri, &get)
        .await
        .expect("first page")
        .next_page_token
        .expect("a multi-page history gives a token");
    for (case, bad) in [
        ("garbage", b"not a token at all".to_vec()),
        ("truncated", token[..token.len() / 2].to_vec()),
    ] {
        get.next_page_token = Some(bad);
        let got = archiver.get(&uri, &get).await;
        assert!(
            matches!(got, Err(Error::CorruptedToken { .. })),
            "{case} token: expected CorruptedToken, got {got:?}"
        );
    }
}

fn assert_field<T: std::fmt::Debug>(case: &str, got: Result<T>, want: &str) {
    match got {
        Err(Error::InvalidRequest { field, .. }) if field == want => {}
        other => panic!("{case}: expected InvalidRequest naming {want}, got {other:?}"),
    }
}

/// Invalid requests are InvalidRequest naming the field; a foreign scheme is rejected.
pub async fn invalid_history_requests(fixture: &dyn Fixture) {
    let (source, run, _, request) = one_run("invalid", 12, 3, 1);
    let archiver = fixture.history_archiver(as_source(&source), SMALL_BLOB);
    let uri = fixture.new_uri();
    let options = ArchiveOptions::default();
    let no_workflow = ArchiveHistoryRequest {
        workflow_id: String::new(),
        ..request.clone()
    };
    assert_field(
        "archive without workflow_id",
        archiver.archive(&uri, &no_workflow, &options).await,
        "workflow_id",
    );
    let zero = GetHistoryRequest::new(&run.namespace_id, &run.workflow_id, &run.run_id, 0);
    assert_field(
        "get with page_size 0",
        archiver.get(&uri, &zero).await,
        "page_size",
    );
    let no_run = GetHistoryRequest::new(&run.namespace_id, &run.workflow_id, "", 5);
    assert_field(
        "get without run_id",
        archiver.get(&uri, &no_run).await,
        "run_id",
    );
    let foreign: ArchiveUri = "wrongscheme:///a/b/c".parse().expect("valid URI");
    let got = archiver.validate_uri(&foreign).await;
    assert!(
        matches!(got, Err(Error::SchemeMismatch { .. })),
        "validate_uri of another scheme: expected SchemeMismatch, got {got:?}"
    );
    archiver
        .validate_uri(&uri)
        .await
        .expect("the fixture's URI is valid");
}
