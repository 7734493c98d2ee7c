//! Archive a workflow's history and a few hundred visibility records to a local directory, read
//! the history back page by page, and query the records with list filters.
//!
//! ```text
//! cargo run --example quickstart                 # into a temporary directory
//! cargo run --example quickstart -- --dir /tmp/a # into a directory of your choice (kept)
//! ```

use std::sync::Arc;
use std::time::Instant;

use archiver::config::ArchivalConfig;
use archiver::testing::{GeneratedHistorySource, search_attributes, test_records};
use archiver::{ArchiveOptions, ArchiveUri, GetHistoryRequest, QueryRequest};

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

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (dir, _temp) = match std::env::args().skip_while(|a| a != "--dir").nth(1) {
        Some(dir) => (std::path::PathBuf::from(dir), None),
        None => {
            let temp = tempfile::tempdir()?;
            (temp.path().to_path_buf(), Some(temp))
        }
    };
    let uri: ArchiveUri = format!("file://{}", dir.display()).parse()?;
    println!("archiving into {uri}\n");

    // The engine's persistence, here a generated 5 MB history of an order workflow.
    let source = Arc::new(GeneratedHistorySource::with_approx_bytes(42, 5 << 20));
    let config = ArchivalConfig::from_yaml(CONFIG)?;
    config.validate()?;
    let registry = archiver::registry(config, source.clone());

    // 1. Archive the history: streamed in blobs of about 2 MiB, committed atomically.
    let history = registry.history_archiver(uri.scheme())?;
    let request = source.request("orders-ns", "order-7421", "run-1", 1);
    let started = Instant::now();
    history
        .archive(&uri, &request, &ArchiveOptions::default())
        .await?;
    println!(
        "history: archived {} events of workflow {:?} in {:.0?}",
        source.events(),
        request.workflow_id,
        started.elapsed()
    );

    // 2. Read it back, 1,000 events a page.
    let mut get = GetHistoryRequest::new("orders-ns", "order-7421", "run-1", 1_000);
    let (mut pages, mut events) = (0, 0);
    loop {
        let page = history.get(&uri, &get).await?;
        pages += 1;
        events += page
            .history_batches
            .iter()
            .map(|b| b.events.len())
            .sum::<usize>();
        match page.next_page_token {
            Some(token) => get.next_page_token = Some(token),
            None => break,
        }
    }
    println!("history: read back {events} events in {pages} pages\n");

    // 3. Archive 300 visibility records, one durable write each.
    let visibility = registry.visibility_archiver(uri.scheme())?;
    let records = test_records("orders-ns", 300);
    let started = Instant::now();
    for record in &records {
        visibility
            .archive(&uri, record, &ArchiveOptions::default())
            .await?;
    }
    println!(
        "visibility: archived {} records in {:.0?}",
        records.len(),
        started.elapsed()
    );

    // 4. Query them with list filters (CustomKeyword is a custom search attribute).
    let attributes = search_attributes();
    for filter in [
        "WorkflowType = 'payments' AND ExecutionStatus = 'Completed'",
        "CloseTime BETWEEN '2026-01-01T01:00:00Z' AND '2026-01-01T01:30:00Z' AND CustomKeyword = 'red'",
        "WorkflowId IN ('wf-1', 'wf-2', 'wf-250') OR ExecutionStatus = 'TimedOut' ORDER BY StartTime ASC",
    ] {
        let mut request = QueryRequest::new("orders-ns", filter).with_page_size(50);
        let mut found = Vec::new();
        loop {
            let page = visibility.query(&uri, &request, &attributes).await?;
            found.extend(page.executions);
            match page.next_page_token {
                Some(token) => request = request.with_next_page_token(Some(token)),
                None => break,
            }
        }
        let first: Vec<&str> = found
            .iter()
            .take(3)
            .map(|r| r.workflow_id.as_str())
            .collect();
        println!(
            "query {filter}\n  -> {} records, first {first:?}",
            found.len()
        );
    }

    // 5. A bad filter is a typed error that points at the fault.
    let bad = QueryRequest::new("orders-ns", "CloseTime > 'yesterday'");
    if let Err(err) = visibility.query(&uri, &bad, &attributes).await {
        println!("\nquery CloseTime > 'yesterday'\n  -> {err}");
    }
    Ok(())
}
