//! Archiving streams: memory stays a few blobs however large the history. Alone in its binary
//! because it reads the process's peak resident size.

use std::sync::Arc;

use archiver_core::history::{
    EventFields, EventType, History, HistoryEvent, HistoryPage, HistorySource, ReadHistoryRequest,
};
use archiver_core::{
    ArchiveHistoryRequest, ArchiveOptions, ArchiveUri, GetHistoryRequest, HistoryArchiver, Result,
};
use archiver_filestore::FilestoreHistoryArchiver;
use async_trait::async_trait;

/// A `/proc/self/status` figure in bytes: `VmRSS` (resident now) or `VmHWM` (peak resident).
fn proc_status_bytes(key: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(key)).unwrap();
    let kib: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

const EVENTS: i64 = 24_000;
const PAYLOAD: usize = 1_000;

/// A source that makes its history up on demand (one ~1 KB event per batch), so the only large
/// memory is what the archiver holds.
#[derive(Debug)]
struct Generated {
    events: i64,
}

fn batch(id: i64) -> History {
    let mut fields = EventFields::new();
    fields.insert(
        "markerRecordedEventAttributes",
        serde_json::json!({ "markerName": format!("m{id}"), "details": "x".repeat(PAYLOAD) }),
    );
    History::new(vec![HistoryEvent {
        event_id: id,
        event_type: EventType::MarkerRecorded,
        version: 1,
        task_id: id,
        fields,
        ..Default::default()
    }])
}

#[async_trait]
impl HistorySource for Generated {
    async fn read_history(&self, request: &ReadHistoryRequest) -> Result<HistoryPage> {
        let start = match &request.next_page_token {
            Some(token) => i64::from_be_bytes(token.as_slice().try_into().unwrap()),
            None => request.first_event_id,
        };
        let end = (start + request.page_size.max(1) as i64).min(self.events + 1);
        Ok(HistoryPage {
            batches: (start..end).map(batch).collect(),
            next_page_token: (end <= self.events).then(|| end.to_be_bytes().to_vec()),
        })
    }
}

#[tokio::test(flavor = "current_thread")]
async fn archive_memory_stays_a_few_blobs_whatever_the_history_size() {
    const BLOB: usize = 1 << 20;
    let root = tempfile::tempdir().unwrap();
    let uri = ArchiveUri::parse(&format!("file://{}", root.path().display())).unwrap();
    let archiver = |events| {
        FilestoreHistoryArchiver::new(Arc::new(Generated { events })).with_target_blob_size(BLOB)
    };
    let request = ArchiveHistoryRequest {
        shard_id: 1,
        namespace_id: "ns".into(),
        namespace: "ns-name".into(),
        workflow_id: "big".into(),
        run_id: "run".into(),
        branch_token: Vec::new(),
        next_event_id: EVENTS + 1,
        close_failover_version: 1,
    };
    // Warm up allocator and runtime, then measure the peak resident size an archive adds.
    let small = ArchiveHistoryRequest {
        run_id: "warm-up".into(),
        next_event_id: 2_001,
        ..request.clone()
    };
    archiver(2_000)
        .archive(&uri, &small, &ArchiveOptions::default())
        .await
        .unwrap();
    let before = proc_status_bytes("VmHWM:").max(proc_status_bytes("VmRSS:"));
    let archiver = archiver(EVENTS);
    archiver
        .archive(&uri, &request, &ArchiveOptions::default())
        .await
        .unwrap();
    let peak = proc_status_bytes("VmHWM:").saturating_sub(before);
    eprintln!("peak resident growth: {peak} bytes");

    let archived: u64 = walk(root.path());
    assert!(archived > 20 * BLOB as u64, "a history of {archived} bytes");
    assert!(
        peak < 8 * BLOB,
        "archiving {archived} bytes grew the peak resident size by {peak} bytes; expected a few blobs at most"
    );

    let page = archiver
        .get(&uri, &GetHistoryRequest::new("ns", "big", "run", 10))
        .await
        .unwrap();
    assert_eq!(page.history_batches[0], batch(1));
}

fn walk(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            if path.is_dir() {
                walk(&path)
            } else {
                path.metadata().unwrap().len()
            }
        })
        .sum()
}
