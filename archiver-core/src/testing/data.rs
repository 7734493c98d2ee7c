//! Deterministic test data: histories, requests, visibility records.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use visibility_query::{ExecutionStatus, SearchAttributeType, SearchAttributes};

use crate::history::{EventFields, EventType, History, HistoryEvent, MemoryHistorySource, RunKey};
use crate::{ArchiveHistoryRequest, VisibilityRecord};

/// A small deterministic generator (SplitMix64): no `rand` dependency, same data every run.
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A history of `batches` batches of 1 to 5 events each, every event carrying `version` and
/// some attribute payload; deterministic for a `seed`.
pub fn test_history(seed: u64, batches: usize, version: i64) -> Vec<History> {
    let mut rng = SplitMix::new(seed);
    let start: Timestamp = "2026-03-01T12:00:00Z".parse().expect("valid time");
    let mut next_id = 1_i64;
    (0..batches)
        .map(|_| {
            let len = 1 + rng.below(5) as i64;
            let events = (0..len)
                .map(|_| {
                    let id = next_id;
                    next_id += 1;
                    let mut fields = EventFields::new();
                    fields.insert(
                        "markerRecordedEventAttributes",
                        json!({ "markerName": format!("m{}-{}", id, rng.next()), "details": "x".repeat(rng.below(60) as usize) }),
                    );
                    HistoryEvent {
                        event_id: id,
                        event_time: start.checked_add(SignedDuration::from_millis(id * 1_500)).ok(),
                        event_type: if id == 1 {
                            EventType::WorkflowExecutionStarted
                        } else {
                            EventType::MarkerRecorded
                        },
                        version,
                        task_id: 1_000 + id,
                        fields,
                    }
                })
                .collect();
            History::new(events)
        })
        .collect()
}

/// A source holding `run`'s [`test_history`], that history, and the [`test_request`]
/// archiving it.
pub fn source_with_run(
    run: &RunKey,
    seed: u64,
    batches: usize,
    version: i64,
) -> (
    Arc<MemoryHistorySource>,
    Vec<History>,
    ArchiveHistoryRequest,
) {
    let source = Arc::new(MemoryHistorySource::new());
    let history = test_history(seed, batches, version);
    source.insert(run.clone(), history.clone());
    let request = test_request(run, &history, version);
    (source, history, request)
}

/// The request that archives `history` of `run` under `version`.
pub fn test_request(run: &RunKey, history: &[History], version: i64) -> ArchiveHistoryRequest {
    let last = history
        .last()
        .and_then(History::last_event)
        .map_or(0, |e| e.event_id);
    ArchiveHistoryRequest {
        shard_id: 1,
        namespace_id: run.namespace_id.clone(),
        namespace: format!("{}-name", run.namespace_id),
        workflow_id: run.workflow_id.clone(),
        run_id: run.run_id.clone(),
        branch_token: b"branch".to_vec(),
        next_event_id: last + 1,
        close_failover_version: version,
    }
}

/// The search attributes the visibility scenarios use: `CustomKeyword` (Keyword) and
/// `CustomInt` (Int).
pub fn search_attributes() -> SearchAttributes {
    SearchAttributes::new()
        .with_custom("CustomKeyword", SearchAttributeType::Keyword)
        .with_custom("CustomInt", SearchAttributeType::Int)
}

/// An id that is hostile as a path, an object key or a URL: `..` and `/`, NUL, non-ASCII,
/// `#?%`, and kilobytes long (within [`MAX_ID_BYTES`](crate::MAX_ID_BYTES) once escaped).
pub fn hostile_id() -> String {
    format!(
        "../../{}/日本/\u{0}/#?%{}",
        "a/".repeat(600),
        "x".repeat(1500)
    )
}

/// `count` records in `namespace_id`, with distinct close times one minute apart (record `i`
/// closes at minute `i`), types, statuses and custom attributes cycling.
pub fn test_records(namespace_id: &str, count: usize) -> Vec<VisibilityRecord> {
    const TYPES: [&str; 3] = ["payments", "shipping", "refunds"];
    const STATUSES: [ExecutionStatus; 4] = [
        ExecutionStatus::Completed,
        ExecutionStatus::Failed,
        ExecutionStatus::Canceled,
        ExecutionStatus::TimedOut,
    ];
    const COLORS: [&str; 3] = ["blue", "green", "red"];
    let base: Timestamp = "2026-01-01T00:00:00Z".parse().expect("valid time");
    let minutes = |m: i64| {
        base.checked_add(SignedDuration::from_mins(m))
            .expect("in range")
    };
    (0..count)
        .map(|i| {
            let n = i as i64;
            let start = minutes(n - 30);
            let close = minutes(n);
            VisibilityRecord {
                namespace_id: namespace_id.to_owned(),
                namespace: format!("{namespace_id}-name"),
                workflow_id: format!("wf-{i}"),
                run_id: format!("run-{i:04}"),
                workflow_type_name: TYPES[i % TYPES.len()].to_owned(),
                start_time: start,
                execution_time: start,
                close_time: close,
                status: STATUSES[i % STATUSES.len()],
                history_length: 10 + n,
                memo: (i % 2 == 0).then(|| json!({ "note": format!("memo {i}") })),
                search_attributes: BTreeMap::from([
                    (
                        "CustomKeyword".to_owned(),
                        COLORS[i % COLORS.len()].to_owned(),
                    ),
                    ("CustomInt".to_owned(), (i % 10).to_string()),
                ]),
                history_archival_uri: String::new(),
                execution_duration_nanos: Some(30 * 60 * 1_000_000_000),
            }
        })
        .collect()
}
