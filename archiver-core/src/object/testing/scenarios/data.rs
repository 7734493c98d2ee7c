//! What the store holds: ids that are hostile as keys round-trip, and a blob damaged at rest is
//! reported as [`Error::Corrupted`], never returned.

use super::super::{ProviderFixture, get_all, one_run};
use crate::history::RunKey;
use crate::object::{ObjectHistoryArchiver, ObjectStore, ObjectVisibilityArchiver, PutMode};
use crate::object::{PutOutcome, list_all};
use crate::testing::{search_attributes, test_records};
use crate::{ArchiveOptions, Error, HistoryArchiver, QueryRequest, VisibilityArchiver};

/// Ids with `..`, `/`, NUL, non-ASCII, URL delimiters and kilobytes of length archive and read
/// back, history and visibility.
pub async fn hostile_ids_round_trip<F: ProviderFixture>(fixture: &F) {
    let store = fixture.store();
    let location = fixture.fresh_uri("hostile");
    let hostile = format!(
        "../../{}/日本/\u{0}/#?%{}",
        "a/".repeat(600),
        "x".repeat(1500)
    );
    let (source, _, history, mut request) = one_run("placeholder", 3, 30);
    let run = RunKey::new(hostile.as_str(), hostile.as_str(), hostile.as_str());
    source.insert(run.clone(), history.clone());
    request.namespace_id = hostile.clone();
    request.workflow_id = hostile.clone();
    request.run_id = hostile.clone();
    let archiver = ObjectHistoryArchiver::new(store.clone(), source).with_target_blob_size(1024);
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
    let visibility = ObjectVisibilityArchiver::new(store);
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

/// One bit flipped in a stored blob (rewritten through the store, as damage at rest would
/// leave it) makes reading the history fail as [`Error::Corrupted`], naming the blob and its
/// CRC-32C.
pub async fn damaged_blobs_are_detected<F: ProviderFixture>(fixture: &F) {
    let store = fixture.store();
    let location = fixture.fresh_uri("damage");
    let (source, run, _, request) = one_run("damaged", 4, 100);
    let archiver = ObjectHistoryArchiver::new(store.clone(), source).with_target_blob_size(2048);
    archiver
        .archive(&location, &request, &ArchiveOptions::default())
        .await
        .expect("archive");

    let object = store.location(&location).expect("the test URI is valid");
    let keys = list_all(&store, object.bucket(), object.prefix())
        .await
        .expect("list");
    let blob = keys
        .into_iter()
        .find(|key| key.contains("/blobs/"))
        .expect("a blob");
    let original = store
        .get(object.bucket(), &blob)
        .await
        .expect("get blob")
        .expect("the listed blob exists");
    let mut damaged = original.to_vec();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x01;
    let written = store
        .put(object.bucket(), &blob, damaged.into(), PutMode::Overwrite)
        .await
        .expect("damage the blob");
    assert_eq!(written, PutOutcome::Created);

    match get_all(&archiver, &location, &run).await {
        Err(Error::Corrupted { location, reason }) => {
            assert!(location.ends_with(&blob), "{location}");
            assert!(reason.contains("CRC-32C"), "{reason}");
        }
        other => panic!("a flipped bit must be Corrupted, got {other:?}"),
    }
}
