//! The calls an engine makes, on a local directory: archive a closed run's history, read it
//! back page by page, archive visibility records, query them with list filters.
//!
//! It uses only what an application that adds `archiver` (default features) has, beside
//! `tokio`, `jiff` (the records' timestamps), `serde_json` (event attributes) and `tempfile`.
//!
//! ```text
//! cargo run --example quickstart                 # into a temporary directory
//! cargo run --example quickstart -- --dir /tmp/a # into a directory of your choice (kept)
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use archiver::config::ArchivalConfig;
use archiver::history::{EventFields, EventType, RunKey};
use archiver::query::{ExecutionStatus, SearchAttributeType, SearchAttributes};
use archiver::{
    ArchiveHistoryRequest, ArchiveOptions, ArchiveUri, GetHistoryRequest, History, HistoryEvent,
    MemoryHistorySource, QueryRequest, VisibilityRecord,
};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

/// Temporal's `archival:` and `namespaceDefaults:` sections, as a server's YAML has them.
const CONFIG: &str = r#"
archival:
  history:
    state: "enabled"
    enableRead: true
    provider:
      filestore:
        fileMode: "0666"
        dirMode: "0766"
  visibility:
    state: "enabled"
    enableRead: true
    provider:
      filestore:
        fileMode: "0666"
        dirMode: "0766"
namespaceDefaults:
  archival:
    history:
      state: "enabled"
      URI: "file:///tmp/temporal_archival/development"
    visibility:
      state: "enabled"
      URI: "file:///tmp/temporal_vis_archival/development"
"#;

const NAMESPACE_ID: &str = "orders-ns-id";
const NAMESPACE: &str = "orders";
/// The failover version the run closed with: every event carries it here.
const VERSION: i64 = 1;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let kept = std::env::args().skip_while(|a| a != "--dir").nth(1);
    let temp = tempfile::tempdir()?;
    let dir = kept.map_or_else(|| temp.path().to_path_buf(), Into::into);
    let uri: ArchiveUri = format!("file://{}", dir.display()).parse()?;
    println!("archiving into {uri}\n");

    // The engine's persistence: an engine implements `HistorySource` over its database. Here
    // an in-memory one holds a closed run of an order workflow that ran 300 activities.
    let run = RunKey::new(NAMESPACE_ID, "order-7421", "run-1");
    let batches = order_history(300);
    let events: usize = batches.iter().map(|b| b.events.len()).sum();
    let source = Arc::new(MemoryHistorySource::new());
    source.insert(run.clone(), batches);

    // One registry per process: scheme -> provider, each built on first use from its config.
    let config = ArchivalConfig::from_yaml(CONFIG)?;
    config.validate()?;
    let registry = archiver::registry(config, source);
    let history = registry.history_archiver(uri.scheme())?;
    let visibility = registry.visibility_archiver(uri.scheme())?;

    // 1. Archive the history: streamed from the source in blobs, committed atomically. The
    //    request says where the history must end (`next_event_id`, close version): a history
    //    that changed since is `Error::HistoryMutated`, not a silently different archive.
    let request = ArchiveHistoryRequest {
        shard_id: 1,
        namespace_id: run.namespace_id.clone(),
        namespace: NAMESPACE.into(),
        workflow_id: run.workflow_id.clone(),
        run_id: run.run_id.clone(),
        branch_token: b"branch".to_vec(),
        next_event_id: events as i64 + 1,
        close_failover_version: VERSION,
    };
    history
        .archive(&uri, &request, &ArchiveOptions::default())
        .await?;
    println!("history: archived {events} events of {:?}", run.workflow_id);

    // 2. Read it back, about 250 events a page (pages hold whole batches).
    let mut get = GetHistoryRequest::new(&run.namespace_id, &run.workflow_id, &run.run_id, 250);
    let (mut pages, mut read) = (0, Vec::new());
    loop {
        let page = history.get(&uri, &get).await?;
        pages += 1;
        read.extend(page.history_batches.into_iter().flat_map(|b| b.events));
        get.next_page_token = page.next_page_token;
        if get.next_page_token.is_none() {
            break;
        }
    }
    let last = read.last().map_or("none", |e| e.event_type.name());
    println!(
        "history: read back {} events in {pages} pages, the last one {last}\n",
        read.len()
    );

    // 3. Archive the visibility records of 60 closed runs, ours among them: one durable,
    //    idempotent write each.
    let records = order_records(60, &uri)?;
    for record in &records {
        visibility
            .archive(&uri, record, &ArchiveOptions::default())
            .await?;
    }
    println!("visibility: archived {} records", records.len());

    // 4. Query them, 10 a page. A query is checked against the namespace's search attributes:
    //    the built-in ones and its custom ones, here `CustomerTier`.
    let attributes =
        SearchAttributes::new().with_custom("CustomerTier", SearchAttributeType::Keyword);
    for filter in [
        "WorkflowType = 'payment' AND ExecutionStatus = 'Failed'",
        "CloseTime BETWEEN '2026-01-01T06:00:00Z' AND '2026-01-01T12:00:00Z' AND CustomerTier = 'gold'",
        "WorkflowId = 'order-7421'",
    ] {
        let mut request = QueryRequest::new(NAMESPACE_ID, filter).with_page_size(10);
        let (mut pages, mut found) = (0, Vec::new());
        loop {
            let page = visibility.query(&uri, &request, &attributes).await?;
            pages += 1;
            found.extend(page.executions);
            request.next_page_token = page.next_page_token;
            if request.next_page_token.is_none() {
                break;
            }
        }
        let newest = found.first().map_or_else(String::new, |r| {
            format!(", the newest {} (closed {})", r.workflow_id, r.close_time)
        });
        println!(
            "query {filter}\n  -> {} records in {pages} page(s) of 10{newest}",
            found.len()
        );
    }

    // 5. A bad filter is a typed error that says what is wrong and where.
    let bad = QueryRequest::new(NAMESPACE_ID, "CloseTime > 'yesterday'");
    if let Err(err) = visibility.query(&uri, &bad, &attributes).await {
        println!("\nquery CloseTime > 'yesterday'\n  -> {err}");
    }
    Ok(())
}

/// An order workflow's history as the engine persisted it: the start, one batch per activity
/// (scheduled, started, completed), the completion. Every event carries [`VERSION`].
fn order_history(activities: usize) -> Vec<History> {
    let started: Timestamp = "2026-01-01T00:00:00Z".parse().expect("a valid time");
    let mut next_id = 0_i64;
    // `attributes` is the event's protojson member, e.g. `activityTaskStartedEventAttributes`.
    let mut event = |event_type: EventType, attributes: &str, value: serde_json::Value| {
        next_id += 1;
        let mut fields = EventFields::new();
        fields.insert(attributes, value);
        HistoryEvent {
            event_id: next_id,
            event_time: started.checked_add(SignedDuration::from_secs(next_id)).ok(),
            event_type,
            version: VERSION,
            task_id: 1_000 + next_id,
            fields,
        }
    };
    let mut batches = vec![History::new(vec![event(
        EventType::WorkflowExecutionStarted,
        "workflowExecutionStartedEventAttributes",
        json!({ "workflowType": { "name": "order" }, "taskQueue": { "name": "orders" } }),
    )])];
    for item in 0..activities {
        batches.push(History::new(vec![
            event(
                EventType::ActivityTaskScheduled,
                "activityTaskScheduledEventAttributes",
                json!({ "activityType": { "name": "ReserveItem" }, "activityId": item.to_string() }),
            ),
            event(
                EventType::ActivityTaskStarted,
                "activityTaskStartedEventAttributes",
                json!({ "attempt": 1 }),
            ),
            event(
                EventType::ActivityTaskCompleted,
                "activityTaskCompletedEventAttributes",
                json!({ "result": { "reserved": true } }),
            ),
        ]));
    }
    batches.push(History::new(vec![event(
        EventType::WorkflowExecutionCompleted,
        "workflowExecutionCompletedEventAttributes",
        json!({ "result": { "status": "shipped" } }),
    )]));
    batches
}

/// `count` runs' records, one closing every 15 minutes of 2026-01-01, types, statuses and
/// customer tiers cycling; the first is `order-7421`, whose history is archived under `uri`.
fn order_records(count: usize, uri: &ArchiveUri) -> Result<Vec<VisibilityRecord>, jiff::Error> {
    const TYPES: [&str; 3] = ["order", "payment", "shipment"];
    const STATUSES: [ExecutionStatus; 4] = [
        ExecutionStatus::Completed,
        ExecutionStatus::Failed,
        ExecutionStatus::Completed,
        ExecutionStatus::TimedOut,
    ];
    const TIERS: [&str; 2] = ["gold", "standard"];
    let midnight: Timestamp = "2026-01-01T00:00:00Z".parse()?;
    let ran = SignedDuration::from_mins(10);
    (0..count)
        .map(|i| {
            let close = midnight.checked_add(SignedDuration::from_mins(15 * i as i64))?;
            let start = close.checked_sub(ran)?;
            let archived = i == 0;
            Ok(VisibilityRecord {
                namespace_id: NAMESPACE_ID.into(),
                namespace: NAMESPACE.into(),
                workflow_id: if archived {
                    "order-7421".into()
                } else {
                    format!("order-{i}")
                },
                run_id: format!("run-{}", i + 1),
                workflow_type_name: TYPES[i % TYPES.len()].into(),
                start_time: start,
                execution_time: start,
                close_time: close,
                status: STATUSES[i % STATUSES.len()],
                history_length: 20 + i as i64,
                memo: None,
                search_attributes: BTreeMap::from([(
                    "CustomerTier".to_owned(),
                    TIERS[i % TIERS.len()].to_owned(),
                )]),
                history_archival_uri: if archived {
                    uri.to_string()
                } else {
                    String::new()
                },
                execution_duration_nanos: i64::try_from(ran.as_nanos()).ok(),
            })
        })
        .collect()
}
