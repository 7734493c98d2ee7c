//! Paging through a provider's query results (its visibility table's) agrees, page for page,
//! with the in-memory reference provider.

use jiff::{SignedDuration, Timestamp};

use super::super::ProviderFixture;
use super::archive_together;
use crate::memory::MemoryVisibilityArchiver;
use crate::table::VisibilityTable;
use archiver_core::testing::{search_attributes, test_records};
use archiver_core::{ArchiveOptions, ArchiveUri, QueryRequest, VisibilityArchiver};

/// Every page of every order agrees with the in-memory reference provider, with ties in the
/// sort keys (records share close and start times) and paging through them: on a table holding
/// segments and unfolded batches, then only segments.
pub async fn paging_agrees_with_the_reference_in_every_order<F: ProviderFixture>(fixture: &F) {
    let provider = VisibilityTable::new(fixture.store());
    let memory = MemoryVisibilityArchiver::new();
    let location = fixture.fresh_uri("orders");
    let reference = ArchiveUri::parse("memory://reference/orders").expect("reference URI");
    let mut records = test_records("ns-id", 60);
    for (i, record) in records.iter_mut().enumerate() {
        // Many ties: 6 distinct close times, 4 distinct start times.
        record.close_time = minute(i % 6);
        record.start_time = minute(i % 4);
    }
    for record in &records {
        memory
            .archive(&reference, record, &ArchiveOptions::default())
            .await
            .expect("archive");
    }
    let attrs = search_attributes();
    let compact = async || {
        provider
            .compact(&location, "ns-id", &attrs)
            .await
            .expect("compaction");
    };
    archive_together(&provider, &location, &records[..30]).await;
    compact().await;
    archive_together(&provider, &location, &records[30..]).await;
    for state in ["segments and batches", "segments"] {
        if state == "segments" {
            compact().await;
        }
        for text in [
            "",
            "ORDER BY CloseTime ASC",
            "ORDER BY StartTime DESC",
            "ORDER BY StartTime ASC, WorkflowId DESC",
            "ORDER BY HistoryLength DESC",
            "WorkflowType != 'refunds' ORDER BY StartTime ASC",
            "CustomKeyword = 'blue' OR ExecutionStatus = 'Failed'",
        ] {
            for page_size in [4, 100] {
                let mut request = QueryRequest::new("ns-id", text).with_page_size(page_size);
                let mut pages = 0;
                loop {
                    let got = provider
                        .query(&location, &request, &attrs)
                        .await
                        .expect(text);
                    let want = memory
                        .query(&reference, &request, &attrs)
                        .await
                        .expect(text);
                    assert_eq!(
                        got, want,
                        "{state}: {text} (page size {page_size}, page {pages})"
                    );
                    pages += 1;
                    match got.next_page_token {
                        Some(token) => request.next_page_token = Some(token),
                        None => break,
                    }
                }
            }
        }
    }
}

/// `minutes` after a base time with nanoseconds, so ties and precision are both exercised.
fn minute(minutes: usize) -> Timestamp {
    let base: Timestamp = "2026-02-01T00:00:00.123456789Z".parse().expect("time");
    base + SignedDuration::from_mins(minutes as i64)
}
