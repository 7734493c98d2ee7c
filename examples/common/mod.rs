//! The tour the s3 and gcs examples take: archive a generated history and some visibility
//! records, read the history back page by page, query the records with list filters.

use std::fmt;
use std::time::Instant;

use archiver::testing::{GeneratedHistorySource, search_attributes, test_records};
use archiver::{
    ArchiveOptions, ArchiveUri, GetHistoryRequest, HistoryArchiver, QueryRequest, Result,
    VisibilityArchiver,
};

/// Filters the tour runs (`CustomKeyword` is a custom search attribute of the test records).
pub(crate) const FILTERS: [&str; 3] = [
    "WorkflowType = 'payments' AND ExecutionStatus = 'Completed'",
    "CloseTime BETWEEN '2026-01-01T01:00:00Z' AND '2026-01-01T01:30:00Z' AND CustomKeyword = 'red'",
    "WorkflowId IN ('wf-1', 'wf-2', 'wf-250') OR ExecutionStatus = 'TimedOut' ORDER BY StartTime ASC",
];

/// Runs the tour under `uri`, printing what happens; `records` visibility records.
pub(crate) async fn tour(
    history: &dyn HistoryArchiver,
    visibility: &dyn VisibilityArchiver,
    source: &GeneratedHistorySource,
    uri: &ArchiveUri,
    records: usize,
) -> Result<()> {
    // 1. Archive the history: streamed in blobs of about 2 MiB, committed atomically.
    let request = source.request("orders-ns", "order-7421", "run-1", 1);
    let started = Instant::now();
    history
        .archive(uri, &request, &ArchiveOptions::default())
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
        let page = history.get(uri, &get).await?;
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

    // 3. Archive the visibility records, one durable write each.
    let all = test_records("orders-ns", records);
    let started = Instant::now();
    for record in &all {
        visibility
            .archive(uri, record, &ArchiveOptions::default())
            .await?;
    }
    println!(
        "visibility: archived {} records in {:.0?}",
        all.len(),
        started.elapsed()
    );

    // 4. Query them with list filters, 50 a page.
    let attributes = search_attributes();
    for filter in FILTERS {
        let mut request = QueryRequest::new("orders-ns", filter).with_page_size(50);
        let mut found = Vec::new();
        loop {
            let page = visibility.query(uri, &request, &attributes).await?;
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
    if let Err(err) = visibility.query(uri, &bad, &attributes).await {
        println!("\nquery CloseTime > 'yesterday'\n  -> {err}");
    }
    Ok(())
}

/// The value of `--name VALUE` on the command line, else of the environment variable `env`.
pub(crate) fn flag_or_env(name: &str, env: &str) -> Option<String> {
    std::env::args()
        .skip_while(|a| a != name)
        .nth(1)
        .or_else(|| std::env::var(env).ok().filter(|v| !v.is_empty()))
}

/// What the examples' `main` returns. Rust prints a failed `main`'s error with `Debug`; this
/// one's `Debug` is the error's message and its causes, as a person wants to read them
/// (`Error: gs backend error during get bucket gs://b: access denied ...`), not the derived
/// struct dump.
pub(crate) struct Report(Box<dyn std::error::Error>);

impl<E: Into<Box<dyn std::error::Error>>> From<E> for Report {
    fn from(error: E) -> Self {
        Report(error.into())
    }
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.0.to_string();
        f.write_str(&shown)?;
        let mut cause = self.0.source();
        while let Some(error) = cause {
            // Many errors already say their cause in their message: say it once.
            let text = error.to_string();
            if !shown.contains(&text) {
                write!(f, "\n  caused by: {text}")?;
                shown.push_str(&text);
            }
            cause = error.source();
        }
        Ok(())
    }
}
