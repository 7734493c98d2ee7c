//! What archiving and querying cost in requests: the counts the layout promises (module docs of
//! [`object`](crate::object)), checked on the provider's request counter.

use super::super::{ProviderFixture, Request, get_all, one_run};
use super::archive_together;
use crate::object::ObjectHistoryArchiver;
use crate::segment::SegmentOptions;
use crate::table::{TableOptions, VisibilityTable};
use archiver_core::testing::{search_attributes, test_records};
use archiver_core::{
    ArchiveOptions, GetHistoryRequest, HistoryArchiver, QueryRequest, VisibilityArchiver,
};

/// A small workflow costs one history write and one visibility batch write (its share of one,
/// when other records close in the same batch window), a re-archive one
/// refused conditional write; a multi-blob history one existence check, a write per blob, the
/// manifest write and one sweep listing; the first page of it the version listing, the
/// manifest and one blob.
pub async fn requests_per_archived_workflow<F: ProviderFixture>(fixture: &F) {
    let store = fixture.counted_store();
    let location = fixture.fresh_uri("requests");

    // A typical small workflow: its history fits one blob.
    let (source, run, history, request) = one_run("small", 1, 20);
    let history_archiver = ObjectHistoryArchiver::new(store.clone(), source);
    let visibility_archiver = VisibilityTable::new(store.clone());
    let mut record = test_records("ns-id", 1).remove(0);
    record.workflow_id = run.workflow_id.clone();
    record.run_id = run.run_id.clone();
    let options = ArchiveOptions::default();
    history_archiver
        .archive(&location, &request, &options)
        .await
        .expect("archive history");
    visibility_archiver
        .archive(&location, &record, &options)
        .await
        .expect("archive record");
    assert_eq!(
        fixture.requests(),
        [Request::Put, Request::Put],
        "one inline history write and one visibility batch write (Temporal: S3 5 PUTs + 1 HEAD, \
         GCS 3 uploads + bucket checks)"
    );
    fixture.reset_requests();
    history_archiver
        .archive(&location, &request, &options)
        .await
        .expect("re-archive");
    assert_eq!(
        fixture.requests(),
        [Request::Put],
        "a re-archive is one refused conditional write"
    );
    assert_eq!(
        get_all(&history_archiver, &location, &run).await.unwrap(),
        history
    );

    // A multi-blob history: one existence check, one write per blob, one manifest write, one
    // listing to sweep the staged blobs of abandoned attempts.
    let (source, run, history, request) = one_run("large", 2, 300);
    let archiver = ObjectHistoryArchiver::new(store.clone(), source).with_target_blob_size(4096);
    fixture.reset_requests();
    archiver
        .archive(&location, &request, &options)
        .await
        .expect("archive");
    let blobs = archiver.blob_writes() as usize;
    assert!(blobs > 3, "several blobs: {blobs}");
    let requests = fixture.requests();
    assert_eq!(fixture.count(Request::Head), 1, "{requests:?}");
    assert_eq!(fixture.count(Request::Put), blobs + 1, "{requests:?}");
    assert_eq!(fixture.count(Request::List), 1, "the sweep: {requests:?}");
    assert_eq!(requests.len(), blobs + 3, "{requests:?}");
    fixture.reset_requests();
    archiver
        .archive(&location, &request, &options)
        .await
        .expect("re-archive");
    assert_eq!(
        fixture.requests(),
        [Request::Head],
        "nothing is uploaded twice"
    );

    // The first page of a large history costs the version listing, the manifest and one blob.
    fixture.reset_requests();
    let first = archiver
        .get(
            &location,
            &GetHistoryRequest::new(&run.namespace_id, &run.workflow_id, &run.run_id, 5),
        )
        .await
        .expect("first page");
    assert!(first.next_page_token.is_some());
    assert_eq!(
        fixture.requests(),
        [Request::List, Request::Get, Request::Get],
        "versions, manifest, one blob"
    );
    assert_eq!(get_all(&archiver, &location, &run).await.unwrap(), history);
}

/// Queries read only what the filter admits. Before a compaction: one listing of the
/// namespace's log, one of the per-record layout, and one GET per unfolded batch, whatever
/// the filter. After it (segments of 8-row groups here, so there are groups to skip), warm:
/// one listing and at most one range GET per row group probed and per row group read, with
/// indexed predicates and time orders probing few of the groups; and a next-page token that
/// pages.
pub async fn queries_read_only_what_the_filter_admits<F: ProviderFixture>(fixture: &F) {
    let options = TableOptions::default()
        .with_segment_options(SegmentOptions::default().with_row_group_rows(8));
    let table = VisibilityTable::with_options(fixture.counted_store(), options);
    let location = fixture.fresh_uri("pruning");
    let records = test_records("ns-id", 120);
    archive_together(&table, &location, &records).await;
    let attrs = search_attributes();
    let query =
        |text: &str, page_size: usize| QueryRequest::new("ns-id", text).with_page_size(page_size);
    // Each with its matches, and whether the segments' statistics and Bloom filters rule out
    // most row groups.
    let cases = [
        ("WorkflowId = 'wf-7'", 1, true),
        ("RunId IN ('run-0003', 'run-0100')", 2, true),
        (
            "WorkflowType = 'payments' AND ExecutionStatus = 'Completed'",
            10,
            false,
        ),
        (
            "CloseTime BETWEEN '2026-01-01T00:10:00Z' AND '2026-01-01T00:19:00Z'",
            10,
            true,
        ),
        ("StartTime > '2026-01-01T01:00:00Z'", 29, true),
    ];
    for (text, expected, _) in cases {
        fixture.reset_requests();
        let (page, stats) = table
            .query_with_stats(&location, &query(text, 1000), &attrs)
            .await
            .expect(text);
        assert_eq!(page.executions.len(), expected, "{text}");
        assert!(
            stats.batches > 0 && stats.segments == 0,
            "{text}: {stats:?}"
        );
        assert_eq!(
            fixture.count(Request::Get),
            stats.batches,
            "{text}: one GET per unfolded batch"
        );
        assert_eq!(
            fixture.count(Request::List),
            2,
            "{text}: the log and the per-record layout"
        );
    }

    table
        .compact(&location, "ns-id", &attrs)
        .await
        .expect("compaction");
    // Warm: what a query costs once the manifest, footers and Bloom filters are cached.
    let warm = async |request: &QueryRequest| {
        table
            .query(&location, request, &attrs)
            .await
            .expect("query");
        fixture.reset_requests();
        let (page, stats) = table
            .query_with_stats(&location, request, &attrs)
            .await
            .expect("query");
        let requests = fixture.requests();
        assert_eq!(stats.batches, 0, "{request:?}: every batch folded");
        assert_eq!(fixture.count(Request::List), 1, "{requests:?}");
        // Range GETs only, by row group: the first columns of a window of up to eight
        // candidate groups at once (one GET each), then for a group probed at most one for
        // the rest of the fields its filter admits rows for and one for the pages of the rows
        // that can make the page.
        let gets = fixture.count(Request::Get);
        assert!(
            gets + 1 == requests.len() && gets <= 8 + 3 * stats.row_groups_probed,
            "{request:?}: {requests:?}, {stats:?}"
        );
        (page, stats)
    };
    for (text, expected, pruned) in cases {
        let (page, stats) = warm(&query(text, 1000)).await;
        assert_eq!(page.executions.len(), expected, "{text}");
        if text.starts_with("WorkflowId") || text.starts_with("RunId") {
            assert!(
                fixture.count(Request::Get) <= stats.row_groups_probed + stats.row_groups_read,
                "{text}: one GET per group the Bloom filters admit, one per group read: {stats:?}"
            );
        }
        assert!(stats.row_groups >= 15, "{text}: {stats:?}");
        if pruned {
            assert!(
                stats.row_groups_probed * 3 <= stats.row_groups,
                "{text}: most row groups ruled out: {stats:?}"
            );
        }
    }

    // The default order reads the newest groups and stops when the page is decided, and the
    // token really pages (Temporal's GCS query never returned one).
    let (page, stats) = warm(&query("", 10)).await;
    assert_eq!(page.executions.len(), 10);
    assert_eq!(
        page.executions[0].run_id, "run-0119",
        "newest close time first"
    );
    assert!(stats.row_groups_probed <= 3, "{stats:?}");
    let (second, stats) = warm(&query("", 10).with_next_page_token(page.next_page_token)).await;
    assert_eq!(second.executions[0].run_id, "run-0109");
    assert!(second.next_page_token.is_some());
    assert!(
        stats.row_groups_probed * 3 <= stats.row_groups,
        "the token skips the groups before it: {stats:?}"
    );

    // Other time orders, too, read the groups at the front of the order only.
    for text in [
        "ORDER BY StartTime ASC",
        "ORDER BY StartTime DESC",
        "ORDER BY CloseTime ASC",
    ] {
        let (page, stats) = warm(&query(text, 5)).await;
        assert_eq!(page.executions.len(), 5, "{text}");
        assert!(stats.row_groups_probed <= 2, "{text}: {stats:?}");
    }

    // A residual predicate (custom attribute) still needs reads, but only until decided.
    let (page, stats) = warm(&query("CustomKeyword = 'red'", 5)).await;
    assert_eq!(page.executions.len(), 5);
    assert!(stats.row_groups_probed * 3 <= stats.row_groups, "{stats:?}");
}
