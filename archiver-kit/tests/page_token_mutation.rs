//! Every damaged page token is refused: a real history token and a real visibility token from
//! the memory provider (the tokens every provider hands out are made by `page_token`), each
//! single-bit flip and each truncation of their bytes must be `Error::CorruptedToken`, never
//! another page and never a panic.

use std::collections::BTreeMap;
use std::sync::Arc;

use archiver_core::history::RunKey;
use archiver_core::{
    ArchiveHistoryRequest, ArchiveOptions, ArchiveUri, Error, GetHistoryRequest, History,
    HistoryArchiver, HistoryEvent, MemoryHistorySource, QueryRequest, Result, VisibilityArchiver,
    VisibilityRecord,
};
use archiver_kit::memory::{MemoryHistoryArchiver, MemoryVisibilityArchiver};
use visibility_query::{ExecutionStatus, SearchAttributes};

/// Every token a single change can make from `token`: each bit flipped, each proper prefix.
fn mutations(token: &[u8]) -> Vec<Vec<u8>> {
    let flips = (0..token.len() * 8).map(|bit| {
        let mut damaged = token.to_vec();
        damaged[bit / 8] ^= 1 << (bit % 8);
        damaged
    });
    let truncations = (0..token.len()).map(|len| token[..len].to_vec());
    flips.chain(truncations).collect()
}

/// Asserts every answer to a damaged token is `CorruptedToken`; the failure counts those that
/// were served a page (and how many of them another page than `intact`, the intact token's).
fn assert_all_refused<T: PartialEq + std::fmt::Debug>(
    what: &str,
    intact: &T,
    results: Vec<(Vec<u8>, Result<T>)>,
) {
    let tried = results.len();
    for (_, result) in &results {
        if let Err(err) = result {
            assert!(!err.is_retryable(), "a damaged token stays damaged: {err}");
        }
    }
    let escaped: Vec<_> = results
        .into_iter()
        .filter(|(_, result)| !matches!(result, Err(Error::CorruptedToken { .. })))
        .collect();
    let other_page = escaped
        .iter()
        .filter(|(_, result)| result.as_ref().is_ok_and(|page| page != intact))
        .count();
    let other_error = escaped.iter().filter(|(_, result)| result.is_err()).count();
    let examples: Vec<_> = escaped
        .iter()
        .take(3)
        .map(|(token, result)| format!("{}: {result:?}", String::from_utf8_lossy(token)))
        .collect();
    assert!(
        escaped.is_empty(),
        "{} of {tried} damaged {what} tokens were not CorruptedToken ({other_page} served \
         another page, {other_error} another error), e.g. {examples:?}",
        escaped.len(),
    );
}

#[tokio::test]
async fn damaged_history_tokens_are_always_corrupted_token() {
    let source = Arc::new(MemoryHistorySource::new());
    let batches = (1..=12)
        .map(|id| {
            History::new(vec![HistoryEvent {
                event_id: id,
                version: 3,
                ..Default::default()
            }])
        })
        .collect();
    source.insert(RunKey::new("nid", "wf", "run"), batches);
    // One batch per blob, so the token's blob index matters and a changed one is another page.
    let archiver = MemoryHistoryArchiver::with_target_blob_size(source, 1);
    let uri: ArchiveUri = "memory://tokens/history".parse().unwrap();
    let request = ArchiveHistoryRequest {
        namespace_id: "nid".into(),
        namespace: "ns".into(),
        workflow_id: "wf".into(),
        run_id: "run".into(),
        next_event_id: 13,
        close_failover_version: 3,
        ..Default::default()
    };
    archiver
        .archive(&uri, &request, &ArchiveOptions::default())
        .await
        .unwrap();
    let mut get = GetHistoryRequest::new("nid", "wf", "run", 3);
    let token = archiver.get(&uri, &get).await.unwrap().next_page_token;
    let token = token.expect("12 events make more than one page of 3");
    get.next_page_token = Some(token.clone());
    let intact = archiver.get(&uri, &get).await.unwrap();

    let mut results = Vec::new();
    for damaged in mutations(&token) {
        get.next_page_token = Some(damaged.clone());
        results.push((damaged, archiver.get(&uri, &get).await));
    }
    assert_all_refused("history", &intact, results);
}

fn record(i: u32) -> VisibilityRecord {
    let close: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let close = close + jiff::SignedDuration::from_secs(i64::from(i % 4) * 60);
    VisibilityRecord {
        namespace_id: "nid".into(),
        namespace: "ns".into(),
        workflow_id: format!("wf-{i}"),
        run_id: format!("run-{i}"),
        workflow_type_name: "payments".into(),
        start_time: close,
        execution_time: close,
        close_time: close,
        status: ExecutionStatus::Completed,
        history_length: i64::from(i),
        memo: None,
        search_attributes: BTreeMap::new(),
        history_archival_uri: String::new(),
        execution_duration_nanos: Some(0),
    }
}

#[tokio::test]
async fn damaged_visibility_tokens_are_always_corrupted_token() {
    let archiver = MemoryVisibilityArchiver::new();
    let uri: ArchiveUri = "memory://tokens/visibility".parse().unwrap();
    for i in 0..12 {
        archiver
            .archive(&uri, &record(i), &ArchiveOptions::default())
            .await
            .unwrap();
    }
    let attributes = SearchAttributes::new();
    let mut query = QueryRequest::new("nid", "").with_page_size(4);
    let token = archiver
        .query(&uri, &query, &attributes)
        .await
        .unwrap()
        .next_page_token
        .expect("12 records make more than one page of 4");
    query.next_page_token = Some(token.clone());
    let intact = archiver.query(&uri, &query, &attributes).await.unwrap();

    let mut results = Vec::new();
    for damaged in mutations(&token) {
        query.next_page_token = Some(damaged.clone());
        results.push((damaged, archiver.query(&uri, &query, &attributes).await));
    }
    assert_all_refused("visibility", &intact, results);
}
