//! What archiving and querying cost in requests: the counts the layout promises (module docs of
//! [`object`](crate::object)), checked on the provider's request counter.

use super::super::{ProviderFixture, Request, get_all, one_run};
use crate::object::{ObjectHistoryArchiver, ObjectVisibilityArchiver};
use archiver_core::testing::{search_attributes, test_records};
use archiver_core::{
    ArchiveOptions, GetHistoryRequest, HistoryArchiver, QueryRequest, VisibilityArchiver,
};

/// A small workflow costs one history write and one visibility write, a re-archive one
/// refused conditional write; a multi-blob history one existence check, a write per blob, the
/// manifest write and one sweep listing; the first page of it the version listing, the
/// manifest and one blob.
pub async fn requests_per_archived_workflow<F: ProviderFixture>(fixture: &F) {
    let store = fixture.counted_store();
    let location = fixture.fresh_uri("requests");

    // A typical small workflow: its history fits one blob.
    let (source, run, history, request) = one_run("small", 1, 20);
    let history_archiver = ObjectHistoryArchiver::new(store.clone(), source);
    let visibility_archiver = ObjectVisibilityArchiver::new(store.clone());
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
        "one inline history write and one visibility write (Temporal: S3 5 PUTs + 1 HEAD, \
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

/// Queries download only the records the key index admits: exact matches for indexed
/// predicates, `page_size + 1` in time orders, and a next-page token that restarts the listing
/// where it stopped.
pub async fn queries_download_only_what_the_index_admits<F: ProviderFixture>(fixture: &F) {
    let archiver = ObjectVisibilityArchiver::new(fixture.counted_store());
    let location = fixture.fresh_uri("pruning");
    let records = test_records("ns-id", 120);
    for record in &records {
        archiver
            .archive(&location, record, &ArchiveOptions::default())
            .await
            .expect("archive");
    }
    let attrs = search_attributes();
    let query =
        |text: &str, page_size: usize| QueryRequest::new("ns-id", text).with_page_size(page_size);
    let cases = [
        ("WorkflowId = 'wf-7'", 1),
        ("RunId IN ('run-0003', 'run-0100')", 2),
        (
            "WorkflowType = 'payments' AND ExecutionStatus = 'Completed'",
            10,
        ),
        (
            "CloseTime BETWEEN '2026-01-01T00:10:00Z' AND '2026-01-01T00:19:00Z'",
            10,
        ),
        ("StartTime > '2026-01-01T01:00:00Z'", 29),
    ];
    for (text, expected) in cases {
        fixture.reset_requests();
        let page = archiver
            .query(&location, &query(text, 1000), &attrs)
            .await
            .expect(text);
        assert_eq!(page.executions.len(), expected, "{text}");
        assert_eq!(
            fixture.count(Request::Get),
            expected,
            "{text}: only matching records are downloaded"
        );
        assert_eq!(fixture.count(Request::List), 1, "{text}");
    }

    // The default order walks the listing newest first and stops when the page is decided,
    // and the token really pages (Temporal's GCS query never returned one).
    fixture.reset_requests();
    let page = archiver
        .query(&location, &query("", 10), &attrs)
        .await
        .expect("default query");
    assert_eq!(page.executions.len(), 10);
    assert_eq!(
        page.executions[0].run_id, "run-0119",
        "newest close time first"
    );
    assert_eq!(
        fixture.count(Request::Get),
        11,
        "page_size + 1 downloads for 120 records"
    );
    let second = archiver
        .query(
            &location,
            &query("", 10).with_next_page_token(page.next_page_token),
            &attrs,
        )
        .await
        .expect("second page");
    assert_eq!(second.executions[0].run_id, "run-0109");
    assert!(second.next_page_token.is_some());
    // The listing restarts at the token's close time: records tied with it may follow it in
    // the order, so the token's own record is read again (one extra GET), nothing older.
    assert_eq!(
        fixture.count(Request::Get),
        11 + 12,
        "the token starts the listing where it stopped"
    );

    // Orders by start time (also in the key) stop downloading once the page is decided.
    for text in [
        "ORDER BY StartTime ASC",
        "ORDER BY StartTime DESC",
        "ORDER BY CloseTime ASC",
    ] {
        fixture.reset_requests();
        let page = archiver
            .query(&location, &query(text, 5), &attrs)
            .await
            .expect(text);
        assert_eq!(page.executions.len(), 5, "{text}");
        assert_eq!(
            fixture.count(Request::Get),
            6,
            "{text}: page_size + 1 downloads"
        );
    }

    // A residual predicate (custom attribute) still needs downloads, but only until decided.
    fixture.reset_requests();
    let page = archiver
        .query(&location, &query("CustomKeyword = 'red'", 5), &attrs)
        .await
        .expect("residual query");
    assert_eq!(page.executions.len(), 5);
    assert!(fixture.count(Request::Get) < 30, "{:?}", fixture.requests());
}
