//! Filestore-specific visibility behaviour: strays are skipped, damage fails the query, one file
//! per record, modes, hostile ids.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use archiver_core::testing::{search_attributes, test_records};
use archiver_core::{
    ArchiveOptions, ArchiveUri, Error, QueryRequest, VisibilityArchiver, VisibilityRecord,
};
use archiver_filestore::{FilestoreConfig, FilestoreVisibilityArchiver};

fn uri_of(dir: &Path) -> ArchiveUri {
    ArchiveUri::parse(&format!("file://{}", dir.display())).unwrap()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The record files under `dir` (not the workflow index's pointers and marker).
fn records_under(dir: &Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|p| !p.components().any(|c| c.as_os_str() == "by-workflow"))
        .collect()
}

async fn query_all(
    archiver: &FilestoreVisibilityArchiver,
    uri: &ArchiveUri,
    namespace_id: &str,
    filter: &str,
) -> Vec<VisibilityRecord> {
    let mut request = QueryRequest::new(namespace_id, filter).with_page_size(3);
    let mut all = Vec::new();
    loop {
        let page = archiver
            .query(uri, &request, &search_attributes())
            .await
            .unwrap();
        all.extend(page.executions);
        match page.next_page_token {
            Some(token) => request.next_page_token = Some(token),
            None => return all,
        }
    }
}

async fn archive_all(
    archiver: &FilestoreVisibilityArchiver,
    uri: &ArchiveUri,
    records: &[VisibilityRecord],
) {
    for record in records {
        archiver
            .archive(uri, record, &ArchiveOptions::default())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn strays_are_skipped_not_fatal() {
    let root = tempfile::tempdir().unwrap();
    let uri = uri_of(root.path());
    let archiver = FilestoreVisibilityArchiver::new();
    let records = test_records("ns", 12);
    archive_all(&archiver, &uri, &records).await;
    let files = records_under(root.path());
    assert_eq!(files.len(), 12);
    let day = files[0].parent().unwrap();
    let namespace_dir = day.parent().unwrap();

    std::fs::write(namespace_dir.join("README"), b"notes").unwrap();
    std::fs::create_dir(namespace_dir.join("not-a-day")).unwrap();
    // A file named like a day directory.
    std::fs::write(namespace_dir.join("2020-01-01"), b"not a directory").unwrap();
    std::fs::write(day.join("junk.txt"), b"junk").unwrap();
    std::fs::write(day.join(".tmp-crashed-1-2-3"), b"{").unwrap();

    let found = query_all(&archiver, &uri, "ns", "").await;
    assert_eq!(found.len(), 12, "every record, nothing else");
    let mut ids: Vec<_> = found.iter().map(|r| r.workflow_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 12, "no record twice");
    for record in &found {
        assert!(records.contains(record));
    }
    let one = query_all(
        &archiver,
        &uri,
        "ns",
        &format!("WorkflowId = '{}'", found[0].workflow_id),
    )
    .await;
    assert_eq!(one, vec![found[0].clone()]);
    let old_days = query_all(&archiver, &uri, "ns", "CloseTime < '2021-01-01T00:00:00Z'").await;
    assert!(old_days.is_empty());
}

/// The error of a query of everything in namespace `ns`, which must be Corrupted naming `path`.
async fn assert_query_fails_naming(
    archiver: &FilestoreVisibilityArchiver,
    uri: &ArchiveUri,
    path: &Path,
    what: &str,
) {
    let request = QueryRequest::new("ns", "").with_page_size(100);
    let outcome = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        archiver.query(uri, &request, &search_attributes()),
    )
    .await
    .unwrap_or_else(|_| panic!("{what}: the query blocked"));
    match outcome {
        Err(Error::Corrupted { location, .. }) => {
            assert_eq!(location, path.display().to_string(), "{what}")
        }
        Ok(page) => panic!(
            "{what}: expected Corrupted, got a page of {} records",
            page.executions.len()
        ),
        Err(other) => panic!("{what}: expected Corrupted, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_files_that_cannot_be_read_fail_the_query_naming_the_file() {
    let root = tempfile::tempdir().unwrap();
    let uri = uri_of(root.path());
    let archiver = FilestoreVisibilityArchiver::new();
    let records = test_records("ns", 12);
    archive_all(&archiver, &uri, &records).await;
    let files = records_under(root.path());
    let good = std::fs::read(&files[1]).unwrap();

    let mut flipped = good.clone();
    let at = flipped.len() - 10;
    flipped[at] ^= 0x04;
    std::fs::write(&files[1], &flipped).unwrap();
    assert_query_fails_naming(&archiver, &uri, &files[1], "a flipped bit").await;
    std::fs::write(&files[1], b"{\"namespace_id\": tru").unwrap();
    assert_query_fails_naming(&archiver, &uri, &files[1], "garbage").await;
    std::fs::write(&files[1], &good[..good.len() / 2]).unwrap();
    assert_query_fails_naming(&archiver, &uri, &files[1], "truncated").await;
    // Re-archiving the record rewrites its file.
    archive_all(&archiver, &uri, &records).await;
    assert_eq!(query_all(&archiver, &uri, "ns", "").await.len(), 12);

    // A valid record under another record's name (the name would lie about it).
    let saved = std::fs::read(&files[2]).unwrap();
    std::fs::copy(&files[3], &files[2]).unwrap();
    assert_query_fails_naming(&archiver, &uri, &files[2], "a misplaced copy").await;
    std::fs::write(&files[2], &saved).unwrap();

    // Not a regular file where a record is expected (what a permission error would also be
    // for a non-root reader): a directory, a FIFO (which must not block the query).
    std::fs::remove_file(&files[4]).unwrap();
    std::fs::create_dir(&files[4]).unwrap();
    assert_query_fails_naming(&archiver, &uri, &files[4], "a directory").await;
    std::fs::remove_dir(&files[4]).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(&files[4])
        .status()
        .unwrap();
    assert!(status.success());
    assert_query_fails_naming(&archiver, &uri, &files[4], "a FIFO").await;
    std::fs::remove_file(&files[4]).unwrap();
    assert_eq!(
        query_all(&archiver, &uri, "ns", "").await.len(),
        11,
        "a removed record is simply gone"
    );
}

#[tokio::test]
async fn one_file_per_record_identity_and_rearchive_replaces_it() {
    let root = tempfile::tempdir().unwrap();
    let uri = uri_of(root.path());
    let archiver = FilestoreVisibilityArchiver::with_config(&FilestoreConfig::new(0o640, 0o750));
    let mut record = test_records("ns", 1).remove(0);
    archiver
        .archive(&uri, &record, &ArchiveOptions::default())
        .await
        .unwrap();
    record.memo = Some(serde_json::json!({"note": "updated"}));
    archiver
        .archive(&uri, &record, &ArchiveOptions::default())
        .await
        .unwrap();
    let files = records_under(root.path());
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(
        std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o7777,
        0o640
    );
    assert_eq!(
        std::fs::metadata(files[0].parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o7777,
        0o750
    );
    assert_eq!(
        query_all(&archiver, &uri, "ns", "").await,
        vec![record.clone()]
    );

    // Archived again with what its file name indexes changed (status, type, close day): the
    // new record replaces the old one, under the new name, and its index pointer too.
    record.status = visibility_query::ExecutionStatus::Failed;
    record.workflow_type_name = "renamed".into();
    record.close_time += jiff::SignedDuration::from_hours(48);
    archiver
        .archive(&uri, &record, &ArchiveOptions::default())
        .await
        .unwrap();
    let files = records_under(root.path());
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(
        query_all(&archiver, &uri, "ns", "").await,
        vec![record.clone()]
    );
    let by_workflow = format!("WorkflowId = '{}'", record.workflow_id);
    assert_eq!(
        query_all(&archiver, &uri, "ns", &by_workflow).await,
        vec![record]
    );
    let pointers = files_under(root.path())
        .into_iter()
        .filter(|p| p.components().any(|c| c.as_os_str() == "by-workflow"))
        .filter(|p| p.extension().is_some_and(|e| e == "vis"))
        .count();
    assert_eq!(pointers, 1, "the replaced record's pointer is removed");
}

#[tokio::test]
async fn hostile_ids_stay_inside_the_root() {
    let root = tempfile::tempdir().unwrap();
    let archive_root = root.path().join("archive");
    let uri = uri_of(&archive_root);
    let archiver = FilestoreVisibilityArchiver::new();
    let long = "n".repeat(4096);
    for namespace_id in ["../../escape", "/", "nul\0", "名前空間", &long] {
        let mut record = test_records(namespace_id, 1).remove(0);
        record.workflow_id = format!("../{namespace_id}/wf");
        record.run_id = "/".into();
        archiver
            .archive(&uri, &record, &ArchiveOptions::default())
            .await
            .unwrap();
        let found = query_all(
            &archiver,
            &uri,
            namespace_id,
            &format!("WorkflowId = '{}'", record.workflow_id.replace('\'', "''")),
        )
        .await;
        assert_eq!(found, vec![record], "{namespace_id:?}");
    }
    for file in files_under(root.path()) {
        assert!(
            file.starts_with(archive_root.join("v2/visibility")),
            "{}",
            file.display()
        );
        assert!(file.as_os_str().len() < 512, "{}", file.display());
    }
}

#[tokio::test]
async fn a_namespace_without_records_is_empty_not_an_error() {
    let root = tempfile::tempdir().unwrap();
    let page = FilestoreVisibilityArchiver::new()
        .query(
            &uri_of(root.path()),
            &QueryRequest::new("nobody", ""),
            &search_attributes(),
        )
        .await
        .unwrap();
    assert!(page.executions.is_empty() && page.next_page_token.is_none());
}

#[tokio::test]
async fn workflow_id_queries_use_the_index_and_dangling_pointers_are_harmless() {
    let root = tempfile::tempdir().unwrap();
    let uri = uri_of(root.path());
    let archiver = FilestoreVisibilityArchiver::new();
    let records = test_records("ns", 30);
    archive_all(&archiver, &uri, &records).await;
    let target = &records[7];
    let filter = format!("WorkflowId = '{}'", target.workflow_id);
    assert_eq!(
        query_all(&archiver, &uri, "ns", &filter).await,
        vec![target.clone()]
    );

    let pointers: Vec<_> = files_under(root.path())
        .into_iter()
        .filter(|p| {
            p.parent()
                .unwrap()
                .parent()
                .unwrap()
                .ends_with("by-workflow")
        })
        .collect();
    assert_eq!(pointers.len(), 30, "one pointer per record");
    // A pointer whose record is gone is skipped.
    let record_file = records_under(root.path())
        .into_iter()
        .find(|p| {
            std::fs::read(p)
                .unwrap()
                .ends_with(&serde_json::to_vec(target).unwrap())
        })
        .unwrap();
    std::fs::remove_file(&record_file).unwrap();
    assert!(query_all(&archiver, &uri, "ns", &filter).await.is_empty());
    // Without its pointer a record is invisible to the index: proof the index answers.
    let other = &records[8];
    let other_filter = format!("WorkflowId = '{}'", other.workflow_id);
    let index_dir = pointers[0].parent().unwrap().parent().unwrap().to_owned();
    let gone: Vec<_> = pointers
        .iter()
        .filter(|p| std::fs::metadata(p).is_ok())
        .collect();
    for pointer in &gone {
        std::fs::remove_file(pointer).unwrap();
    }
    assert!(
        query_all(&archiver, &uri, "ns", &other_filter)
            .await
            .is_empty()
    );
    // A namespace not marked complete (older layout) is scanned instead.
    std::fs::remove_file(index_dir.join("COMPLETE-v1")).unwrap();
    assert_eq!(
        query_all(&archiver, &uri, "ns", &other_filter).await,
        vec![other.clone()]
    );
}

#[tokio::test]
async fn ordered_pages_match_a_full_sort_in_every_time_order() {
    let root = tempfile::tempdir().unwrap();
    let uri = uri_of(root.path());
    let archiver = FilestoreVisibilityArchiver::new();
    // Over several days, so pages cross day directories.
    let records = test_records("ns", 3_000);
    let sample: Vec<_> = records.iter().step_by(97).cloned().collect();
    archive_all(&archiver, &uri, &sample).await;
    let query_of = |text: &str| visibility_query::compile(text, &search_attributes()).unwrap();
    for text in [
        "",
        "ORDER BY CloseTime ASC",
        "ORDER BY StartTime DESC",
        "ORDER BY StartTime ASC",
        "ExecutionStatus = 'Failed'",
        "CloseTime >= '2026-01-02T00:00:00Z' ORDER BY WorkflowId",
    ] {
        let query = query_of(text);
        let mut expected: Vec<_> = sample
            .iter()
            .filter(|r| query.matches(*r))
            .cloned()
            .collect();
        expected.sort_by(|a, b| {
            query
                .compare(a, b)
                .then_with(|| a.workflow_id.cmp(&b.workflow_id))
                .then_with(|| a.run_id.cmp(&b.run_id))
        });
        assert!(!expected.is_empty(), "{text}");
        assert_eq!(
            query_all(&archiver, &uri, "ns", text).await,
            expected,
            "{text}"
        );
    }
}

#[tokio::test]
async fn records_are_staged_apart_and_what_killed_writers_staged_is_cleaned() {
    let root = tempfile::tempdir().unwrap();
    let uri = uri_of(root.path());
    let archiver = FilestoreVisibilityArchiver::new();
    let records = test_records("ns", 4);
    archive_all(&archiver, &uri, &records[..2]).await;
    let day = records_under(root.path())[0].parent().unwrap().to_owned();
    let staging = day.parent().unwrap().join("staging");
    assert!(staging.is_dir());
    let stale = staging.join(".tmp-killed-1-2-3");
    let fresh = staging.join(".tmp-in-flight-1-2-3");
    for (path, age) in [(&stale, 7200), (&fresh, 10)] {
        std::fs::write(path, b"{").unwrap();
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(age))
            .unwrap();
    }
    archive_all(&archiver, &uri, &records[2..]).await;
    assert!(
        !stale.exists(),
        "a stale staged record is removed by the next archive"
    );
    assert!(fresh.exists(), "one maybe in flight is kept");
    assert_eq!(query_all(&archiver, &uri, "ns", "").await.len(), 4);
    assert!(
        records_under(root.path())
            .iter()
            .all(|f| !f.starts_with(&staging) || f == &fresh),
        "nothing else is staged"
    );
}
