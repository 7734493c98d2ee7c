//! What the store holds: ids that are hostile as keys round-trip, and an object damaged at rest
//! (visibility batch, history blob, manifest) is reported as [`Error::Corrupted`], never
//! returned changed.

use super::super::{ProviderFixture, get_all, one_run};
use crate::object::{ObjectHistoryArchiver, ObjectStore, PutMode};
use crate::object::{PutOutcome, list_all};
use crate::table::VisibilityTable;
use archiver_core::testing::{hostile_id, search_attributes, test_records};
use archiver_core::{ArchiveOptions, Error, HistoryArchiver, QueryRequest, VisibilityArchiver};

/// Namespace ids hostile as keys (beyond core's suite, which runs hostile workflow and run ids
/// on every provider): one of kilobytes is kept in the table's batches, and one short enough
/// for a segment's partition directory goes through a compaction's segments too.
pub async fn hostile_ids_round_trip<F: ProviderFixture>(fixture: &F) {
    let store = fixture.store();
    let location = fixture.fresh_uri("hostile");
    let hostile = hostile_id();
    let mut record = test_records("x", 1).remove(0);
    record.namespace_id = hostile.clone();
    record.workflow_id = hostile.clone();
    record.run_id = hostile.clone();
    record.workflow_type_name = hostile.clone();
    let visibility = VisibilityTable::new(store);
    visibility
        .archive(&location, &record, &ArchiveOptions::default())
        .await
        .expect("archive record with hostile ids");
    let by_workflow = |namespace_id: &str| {
        let text = format!("WorkflowId = '{}'", hostile.replace('\'', "\\'"));
        QueryRequest::new(namespace_id, text)
    };
    let found = visibility
        .query(&location, &by_workflow(&hostile), &search_attributes())
        .await
        .expect("query");
    assert_eq!(found.executions, vec![record.clone()]);

    // Segments name their partition by the namespace id (escaped, a bounded length): a
    // shorter hostile one, the rest as hostile as before.
    let namespace_id = "../日本/\u{0}/#?%=x";
    record.namespace_id = namespace_id.to_owned();
    visibility
        .archive(&location, &record, &ArchiveOptions::default())
        .await
        .expect("archive record with a hostile namespace id");
    visibility
        .compact(&location, namespace_id, &search_attributes())
        .await
        .expect("compact a namespace with hostile ids");
    let found = visibility
        .query(&location, &by_workflow(namespace_id), &search_attributes())
        .await
        .expect("query the segments");
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

/// The damage the mutation scenario applies to one stored object: single bit flips (first and
/// last byte, a spread of positions in between, each in a different bit) and truncations
/// (empty, a few bytes, half, all but the last byte).
fn mutations(original: &[u8]) -> Vec<(String, Vec<u8>)> {
    let len = original.len();
    let mut out = Vec::new();
    let mut positions: Vec<usize> = (0..12).map(|i| i * len / 12).collect();
    positions.push(len - 1);
    for (n, at) in positions.into_iter().enumerate() {
        let mut damaged = original.to_vec();
        damaged[at] ^= 1 << (n % 8);
        out.push((format!("bit {} of byte {at} flipped", n % 8), damaged));
    }
    for keep in [0, 3.min(len), len / 2, len - 1] {
        out.push((
            format!("truncated to {keep} of {len} bytes"),
            original[..keep].to_vec(),
        ));
    }
    out
}

/// Damage at rest to any stored object, a visibility batch, a history blob, a manifest with
/// its history inline or one listing blobs (bit flips, truncation; rewritten through the
/// store): a read never returns a changed record or history. A damaged batch fails the query
/// as [`Error::Corrupted`] naming its key; a damaged history reads back exactly (damage to a
/// manifest field reads do not use) or fails as [`Error::Corrupted`] naming the damaged object
/// (for a manifest whose blob entry was damaged, the blob that no longer matches it).
pub async fn damaged_objects_never_read_back_changed<F: ProviderFixture>(fixture: &F) {
    let store = fixture.store();
    let location = fixture.fresh_uri("mutations");
    let object = store.location(&location).expect("the test URI is valid");
    let bucket = object.bucket();
    let rewrite = |key: String, body: Vec<u8>| {
        let store = store.clone();
        async move {
            store
                .put(bucket, &key, body.into(), PutMode::Overwrite)
                .await
                .unwrap_or_else(|e| panic!("rewrite {key}: {e}"));
        }
    };

    // Visibility: every mutation of one batch object is reported, by every query reaching it.
    // (The table's own suite damages its segments and manifests too.)
    let visibility = VisibilityTable::new(store.clone());
    let records = test_records("ns-id", 3);
    for record in &records {
        visibility
            .archive(&location, record, &ArchiveOptions::default())
            .await
            .expect("archive record");
    }
    let batch_keys: Vec<String> = list_all(&store, bucket, object.prefix())
        .await
        .expect("list")
        .into_iter()
        .filter(|key| key.contains("/visibility/") && key.contains("/b/"))
        .collect();
    assert!(!batch_keys.is_empty(), "no batch stored");
    let target = &batch_keys[0];
    let original = store
        .get(bucket, target)
        .await
        .expect("get batch")
        .expect("the listed batch exists");
    for (damage, body) in mutations(&original) {
        rewrite(target.clone(), body).await;
        for text in ["", "ORDER BY StartTime ASC", "ExecutionStatus != 'Running'"] {
            let got = visibility
                .query(
                    &location,
                    &QueryRequest::new("ns-id", text),
                    &search_attributes(),
                )
                .await;
            match got {
                Err(Error::Corrupted { location, .. }) => {
                    assert!(location.ends_with(target.as_str()), "{damage}: {location}")
                }
                other => {
                    panic!("batch {damage}, query {text:?}: expected Corrupted, got {other:?}")
                }
            }
        }
    }
    rewrite(target.clone(), original.to_vec()).await;
    let found = visibility
        .query(
            &location,
            &QueryRequest::new("ns-id", ""),
            &search_attributes(),
        )
        .await
        .expect("the restored batch reads again");
    assert_eq!(found.executions.len(), records.len());

    // History: a multi-blob archive (damage to a blob and to the manifest) and an inline one.
    for (tag, batches, blob_size) in [("multi", 100, 2048), ("inline", 10, 1 << 20)] {
        let (source, run, history, request) = one_run(tag, 9, batches);
        let archiver =
            ObjectHistoryArchiver::new(store.clone(), source).with_target_blob_size(blob_size);
        archiver
            .archive(&location, &request, &ArchiveOptions::default())
            .await
            .expect("archive history");
        let prefix = object.run_prefix(&run.namespace_id, &run.workflow_id, &run.run_id);
        let targets: Vec<String> = list_all(&store, bucket, &prefix)
            .await
            .expect("list")
            .into_iter()
            .filter(|key| key.contains("/manifest/") || key.ends_with("/000001"))
            .collect();
        let expected = if tag == "multi" { 2 } else { 1 };
        assert_eq!(targets.len(), expected, "{tag}: {targets:?}");
        for target in targets {
            let original = store
                .get(bucket, &target)
                .await
                .expect("get")
                .expect("the listed object exists");
            for (damage, body) in mutations(&original) {
                rewrite(target.clone(), body).await;
                match get_all(&archiver, &location, &run).await {
                    Ok(got) => assert_eq!(got, history, "{tag} {target} {damage}: changed"),
                    // A damaged manifest entry no longer matches its blob: the blob is named.
                    Err(Error::Corrupted { location, .. }) => assert!(
                        location.ends_with(target.as_str())
                            || (target.contains("/manifest/") && location.contains(&prefix)),
                        "{tag} {target} {damage}: {location}"
                    ),
                    Err(other) => panic!("{tag} {target} {damage}: {other:?}"),
                }
            }
            rewrite(target.clone(), original.to_vec()).await;
            assert_eq!(get_all(&archiver, &location, &run).await.unwrap(), history);
        }
    }
}
