//! Ids and memos that a provider could store but never read back are refused up front, by the
//! requests' `validate()` and so by every provider: [`MAX_ID_BYTES`] of JSON per id,
//! [`MAX_MEMO_DEPTH`] levels of memo. The memory provider shows the refusal and that the
//! largest accepted values archive and read back.

use std::collections::BTreeMap;
use std::sync::Arc;

use archiver_core::history::RunKey;
use archiver_core::visibility::MAX_MEMO_DEPTH;
use archiver_core::{
    ArchiveHistoryRequest, ArchiveOptions, ArchiveUri, Error, GetHistoryRequest, History,
    HistoryArchiver, HistoryEvent, MAX_ID_BYTES, MemoryHistorySource, QueryRequest, Result,
    VisibilityArchiver, VisibilityRecord,
};
use archiver_kit::memory::{MemoryHistoryArchiver, MemoryVisibilityArchiver};
use visibility_query::{ExecutionStatus, SearchAttributes};

/// The id: 180,000 NULs, 1,080,000 bytes once escaped (`\u0000` each).
fn nuls() -> String {
    "\0".repeat(180_000)
}

/// An id of exactly `escaped` bytes as a JSON string, mostly 6-byte escapes.
fn id_of_escaped_len(escaped: usize) -> String {
    let mut id = "\u{1}".repeat(escaped / 6);
    id.push_str(&"x".repeat(escaped % 6));
    assert_eq!(serde_json::to_string(&id).unwrap().len() - 2, escaped);
    id
}

/// The field an `InvalidRequest` names; panics on anything else.
fn refused_field<T: std::fmt::Debug>(result: Result<T>) -> &'static str {
    match result {
        Err(err @ Error::InvalidRequest { field, .. }) => {
            assert!(!err.is_retryable(), "{err}");
            let message = err.to_string();
            assert!(message.contains(&MAX_ID_BYTES.to_string()) || field == "memo");
            assert!(message.len() < 200, "the id is not echoed: {message}");
            field
        }
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

fn archive_request(workflow_id: &str) -> ArchiveHistoryRequest {
    ArchiveHistoryRequest {
        namespace_id: "nid".into(),
        namespace: "ns".into(),
        workflow_id: workflow_id.into(),
        run_id: "run".into(),
        next_event_id: 2,
        close_failover_version: 1,
        ..Default::default()
    }
}

fn history_archiver(workflow_id: &str) -> MemoryHistoryArchiver {
    let source = Arc::new(MemoryHistorySource::new());
    let event = HistoryEvent {
        event_id: 1,
        version: 1,
        ..Default::default()
    };
    source.insert(
        RunKey::new("nid", workflow_id, "run"),
        vec![History::new(vec![event])],
    );
    MemoryHistoryArchiver::new(source)
}

#[test]
fn every_id_of_every_request_is_bounded() {
    let long = nuls();
    type Validate = fn(&str) -> Result<()>;
    let checks: Vec<(&str, Validate)> = vec![
        ("namespace_id", |id| {
            ArchiveHistoryRequest {
                namespace_id: id.into(),
                ..archive_request("wf")
            }
            .validate()
        }),
        ("namespace", |id| {
            ArchiveHistoryRequest {
                namespace: id.into(),
                ..archive_request("wf")
            }
            .validate()
        }),
        ("workflow_id", |id| archive_request(id).validate()),
        ("run_id", |id| {
            ArchiveHistoryRequest {
                run_id: id.into(),
                ..archive_request("wf")
            }
            .validate()
        }),
        ("namespace_id", |id| {
            GetHistoryRequest::new(id, "wf", "run", 1).validate()
        }),
        ("workflow_id", |id| {
            GetHistoryRequest::new("nid", id, "run", 1).validate()
        }),
        ("run_id", |id| {
            GetHistoryRequest::new("nid", "wf", id, 1).validate()
        }),
        ("namespace_id", |id| QueryRequest::new(id, "").validate()),
        ("namespace_id", |id| {
            VisibilityRecord {
                namespace_id: id.into(),
                ..record("wf")
            }
            .validate()
        }),
        ("namespace", |id| {
            VisibilityRecord {
                namespace: id.into(),
                ..record("wf")
            }
            .validate()
        }),
        ("workflow_id", |id| record(id).validate()),
        ("run_id", |id| {
            VisibilityRecord {
                run_id: id.into(),
                ..record("wf")
            }
            .validate()
        }),
        ("workflow_type_name", |id| {
            VisibilityRecord {
                workflow_type_name: id.into(),
                ..record("wf")
            }
            .validate()
        }),
    ];
    let at_limit = id_of_escaped_len(MAX_ID_BYTES);
    let past_limit = id_of_escaped_len(MAX_ID_BYTES + 1);
    for (field, check) in &checks {
        assert!(check(&at_limit).is_ok(), "{field} at the limit");
        assert_eq!(refused_field(check(&past_limit)), *field);
        assert_eq!(refused_field(check(&long)), *field);
        // Raw bytes count too, not only escapes.
        assert_eq!(refused_field(check(&"é".repeat(MAX_ID_BYTES))), *field);
    }
}

#[tokio::test]
async fn memory_history_refuses_what_it_could_not_read_back() {
    let uri: ArchiveUri = "memory://limits/history".parse().unwrap();
    let long = nuls();
    let archiver = history_archiver(&long);
    let result = archiver
        .archive(&uri, &archive_request(&long), &ArchiveOptions::default())
        .await;
    assert_eq!(refused_field(result), "workflow_id");
    assert_eq!(
        archiver.blob_writes(),
        0,
        "refused before anything is written"
    );
    let get = archiver
        .get(
            &uri,
            &GetHistoryRequest::new("nid", long.as_str(), "run", 10),
        )
        .await;
    assert_eq!(refused_field(get), "workflow_id");

    // The longest id accepted archives and reads back.
    let longest = id_of_escaped_len(MAX_ID_BYTES);
    let archiver = history_archiver(&longest);
    archiver
        .archive(&uri, &archive_request(&longest), &ArchiveOptions::default())
        .await
        .unwrap();
    let page = archiver
        .get(
            &uri,
            &GetHistoryRequest::new("nid", longest.as_str(), "run", 10),
        )
        .await
        .unwrap();
    assert_eq!(page.history_batches.len(), 1);
}

fn record(workflow_id: &str) -> VisibilityRecord {
    let time: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    VisibilityRecord {
        namespace_id: "nid".into(),
        namespace: "ns".into(),
        workflow_id: workflow_id.into(),
        run_id: "run".into(),
        workflow_type_name: "payments".into(),
        start_time: time,
        execution_time: time,
        close_time: time,
        status: ExecutionStatus::Completed,
        history_length: 1,
        memo: None,
        search_attributes: BTreeMap::new(),
        history_archival_uri: String::new(),
        execution_duration_nanos: Some(0),
    }
}

/// A memo `depth` arrays deep.
fn memo(depth: usize) -> serde_json::Value {
    (0..depth).fold(serde_json::json!(1), |inner, _| serde_json::json!([inner]))
}

#[tokio::test]
async fn memory_visibility_refuses_what_it_could_not_read_back() {
    let uri: ArchiveUri = "memory://limits/visibility".parse().unwrap();
    let archiver = MemoryVisibilityArchiver::new();
    let options = ArchiveOptions::default();
    let result = archiver.archive(&uri, &record(&nuls()), &options).await;
    assert_eq!(refused_field(result), "workflow_id");
    let too_deep = VisibilityRecord {
        memo: Some(memo(MAX_MEMO_DEPTH + 1)),
        ..record("wf")
    };
    assert_eq!(
        refused_field(archiver.archive(&uri, &too_deep, &options).await),
        "memo"
    );
    let query = archiver
        .query(
            &uri,
            &QueryRequest::new(nuls(), ""),
            &SearchAttributes::new(),
        )
        .await;
    assert_eq!(refused_field(query), "namespace_id");

    let largest = VisibilityRecord {
        memo: Some(memo(MAX_MEMO_DEPTH)),
        ..record(&id_of_escaped_len(MAX_ID_BYTES))
    };
    archiver.archive(&uri, &largest, &options).await.unwrap();
    let page = archiver
        .query(
            &uri,
            &QueryRequest::new("nid", ""),
            &SearchAttributes::new(),
        )
        .await
        .unwrap();
    assert_eq!(page.executions, [largest]);
}
