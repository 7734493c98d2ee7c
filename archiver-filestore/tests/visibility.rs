//! Filestore-specific visibility behaviour: strays and damage are skipped, one file per record,
//! modes, hostile ids.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use archiver_core::testing::{search_attributes, test_records};
use archiver_core::{
    ArchiveOptions, ArchiveUri, QueryRequest, VisibilityArchiver, VisibilityRecord,
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
async fn strays_and_damaged_files_are_skipped_not_fatal() {
    let root = tempfile::tempdir().unwrap();
    let uri = uri_of(root.path());
    let archiver = FilestoreVisibilityArchiver::new();
    let records = test_records("ns", 12);
    archive_all(&archiver, &uri, &records).await;
    let files = files_under(root.path());
    assert_eq!(files.len(), 12);
    let day = files[0].parent().unwrap();
    let namespace_dir = day.parent().unwrap();

    std::fs::write(namespace_dir.join("README"), b"notes").unwrap();
    std::fs::create_dir(namespace_dir.join("not-a-day")).unwrap();
    std::fs::write(day.join("junk.txt"), b"junk").unwrap();
    std::fs::write(day.join(".tmp-crashed-1-2-3"), b"{").unwrap();
    // Damaged: a record name holding garbage.
    let damaged = files[1].clone();
    std::fs::write(&damaged, b"{\"namespace_id\": tru").unwrap();
    // Misplaced: a valid record under another record's name (the index would lie about it).
    let misplaced_name = files[2].file_name().unwrap().to_owned();
    std::fs::copy(&files[3], day.join(&misplaced_name)).unwrap();

    let found = query_all(&archiver, &uri, "ns", "").await;
    assert_eq!(found.len(), 10, "every intact record, nothing else");
    let mut ids: Vec<_> = found.iter().map(|r| r.workflow_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10, "no record twice");
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
    let files = files_under(root.path());
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
    assert_eq!(query_all(&archiver, &uri, "ns", "").await, vec![record]);
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
            file.starts_with(archive_root.join("v1/visibility")),
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
