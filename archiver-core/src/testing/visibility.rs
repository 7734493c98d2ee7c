//! Visibility scenarios.

use std::collections::BTreeSet;

use visibility_query::{SearchAttributes, compile};

use super::Fixture;
use super::data::{hostile_id, search_attributes, test_records};
use crate::visibility::{compile_query, page_of};
use crate::{
    ArchiveOptions, ArchiveUri, Error, QueryRequest, Result, VisibilityArchiver, VisibilityRecord,
};

/// Archives `records` under `uri`.
async fn archive_all(
    archiver: &dyn VisibilityArchiver,
    uri: &ArchiveUri,
    records: &[VisibilityRecord],
) {
    for record in records {
        archiver
            .archive(uri, record, &ArchiveOptions::default())
            .await
            .unwrap_or_else(|e| panic!("archive record {}: {e}", record.run_id));
    }
}

/// Every page of a query, concatenated; checks page sizes and stops token loops.
pub(super) async fn query_all(
    archiver: &dyn VisibilityArchiver,
    uri: &ArchiveUri,
    mut request: QueryRequest,
    attributes: &SearchAttributes,
) -> Result<Vec<VisibilityRecord>> {
    let mut all = Vec::new();
    for _ in 0..100_000 {
        let page = archiver.query(uri, &request, attributes).await?;
        assert!(
            page.executions.len() <= request.page_size,
            "a page holds at most page_size ({}) records, got {}",
            request.page_size,
            page.executions.len()
        );
        all.extend(page.executions);
        match page.next_page_token {
            Some(token) if !token.is_empty() => request.next_page_token = Some(token),
            _ => return Ok(all),
        }
    }
    panic!("query never stopped returning page tokens");
}

fn run_ids(records: &[VisibilityRecord]) -> Vec<&str> {
    records.iter().map(|r| r.run_id.as_str()).collect()
}

/// Archived records come back through paging exactly once each, newest close time first, for
/// page sizes 1, 7 and 100.
pub async fn query_pages_every_record_once(fixture: &dyn Fixture) {
    let archiver = fixture.visibility_archiver();
    let uri = fixture.new_uri();
    let records = test_records("ns-paging", 23);
    archive_all(&*archiver, &uri, &records).await;
    let mut newest_first = records.clone();
    newest_first.sort_by_key(|r| std::cmp::Reverse(r.close_time));
    for page_size in [1, 7, 100] {
        let request = QueryRequest::new("ns-paging", "").with_page_size(page_size);
        let got = query_all(&*archiver, &uri, request, &search_attributes())
            .await
            .unwrap_or_else(|e| panic!("query with page size {page_size}: {e}"));
        assert_eq!(
            run_ids(&got),
            run_ids(&newest_first),
            "page size {page_size}: every record once, newest close time first"
        );
        assert_eq!(
            got, newest_first,
            "page size {page_size}: records read back as archived"
        );
    }
}

/// Records archived between pages never make a record appear twice or go missing.
pub async fn paging_survives_concurrent_archives(fixture: &dyn Fixture) {
    let archiver = fixture.visibility_archiver();
    let uri = fixture.new_uri();
    let records = test_records("ns-moving", 30);
    let (initial, later) = records.split_at(20);
    // Archive the even ones first: the rest land before and after the cursor.
    let (first, second): (Vec<_>, Vec<_>) = initial
        .iter()
        .cloned()
        .partition(|r| r.history_length % 2 == 0);
    archive_all(&*archiver, &uri, &first).await;
    let attributes = search_attributes();
    let mut request = QueryRequest::new("ns-moving", "").with_page_size(4);
    let page = archiver
        .query(&uri, &request, &attributes)
        .await
        .expect("first page");
    let mut seen: Vec<VisibilityRecord> = page.executions;
    archive_all(&*archiver, &uri, &second).await;
    archive_all(&*archiver, &uri, later).await;
    request.next_page_token = page.next_page_token;
    if request.next_page_token.is_some() {
        seen.extend(
            query_all(&*archiver, &uri, request, &attributes)
                .await
                .expect("later pages"),
        );
    }
    let unique: BTreeSet<&str> = seen.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(
        unique.len(),
        seen.len(),
        "no record returned twice across pages"
    );
    for record in &first {
        assert!(
            unique.contains(record.run_id.as_str()),
            "record {} archived before paging is returned",
            record.run_id
        );
    }
}

/// Filters (equality, ranges, OR, NOT, status, custom attributes, ORDER BY) return what direct
/// evaluation of the query returns, in the query's order.
pub async fn filters_agree_with_evaluation(fixture: &dyn Fixture) {
    let archiver = fixture.visibility_archiver();
    let uri = fixture.new_uri();
    let records = test_records("ns-filters", 40);
    archive_all(&*archiver, &uri, &records).await;
    let attributes = search_attributes();
    let queries = [
        "WorkflowType = 'payments'",
        "WorkflowId = 'wf-7'",
        "RunId = 'run-0012'",
        "CloseTime > '2026-01-01T00:10:00Z' AND CloseTime <= '2026-01-01T00:25:00Z'",
        "StartTime BETWEEN '2025-12-31T23:40:00Z' AND '2025-12-31T23:50:00Z'",
        "WorkflowType = 'payments' OR WorkflowType = 'refunds'",
        "NOT (WorkflowType = 'payments')",
        "ExecutionStatus = 'Failed'",
        "ExecutionStatus != 'Completed' AND WorkflowType = 'shipping'",
        "CustomKeyword = 'blue'",
        "CustomInt >= 5 AND CustomKeyword IN ('green', 'red')",
        "WorkflowType = 'shipping' ORDER BY StartTime ASC",
        "WorkflowType = 'nothing-has-this'",
    ];
    for text in queries {
        let query = compile(text, &attributes).unwrap_or_else(|e| panic!("{text}: {e}"));
        let mut expected: Vec<&VisibilityRecord> =
            records.iter().filter(|r| query.matches(*r)).collect();
        expected.sort_by(|a, b| {
            query
                .compare(*a, *b)
                .then_with(|| a.workflow_id.cmp(&b.workflow_id))
                .then_with(|| a.run_id.cmp(&b.run_id))
        });
        for page_size in [3, 100] {
            let request = QueryRequest::new("ns-filters", text).with_page_size(page_size);
            let got = query_all(&*archiver, &uri, request, &attributes)
                .await
                .unwrap_or_else(|e| panic!("query {text:?}: {e}"));
            let want: Vec<&str> = expected.iter().map(|r| r.run_id.as_str()).collect();
            assert_eq!(run_ids(&got), want, "query {text:?} page size {page_size}");
        }
    }
}

/// Queries that do not parse or type-check are InvalidQuery.
pub async fn query_errors_are_invalid_query(fixture: &dyn Fixture) {
    let archiver = fixture.visibility_archiver();
    let uri = fixture.new_uri();
    for text in [
        "WorkflowType = ",
        "NoSuchAttribute = 'x'",
        "CustomInt = 'not a number'",
        "CloseTime > 'yesterday'",
    ] {
        let got = archiver
            .query(&uri, &QueryRequest::new("ns", text), &search_attributes())
            .await;
        assert!(
            matches!(got, Err(Error::InvalidQuery(_))),
            "query {text:?}: expected InvalidQuery, got {got:?}"
        );
    }
}

/// A query sees only its namespace's records.
pub async fn namespace_isolation(fixture: &dyn Fixture) {
    let archiver = fixture.visibility_archiver();
    let uri = fixture.new_uri();
    let a = test_records("ns-a", 6);
    let b = test_records("ns-b", 4);
    archive_all(&*archiver, &uri, &a).await;
    archive_all(&*archiver, &uri, &b).await;
    for (namespace, count) in [("ns-a", 6), ("ns-b", 4), ("ns-c", 0)] {
        let got = query_all(
            &*archiver,
            &uri,
            QueryRequest::new(namespace, "").with_page_size(2),
            &search_attributes(),
        )
        .await
        .expect("query");
        assert_eq!(got.len(), count, "namespace {namespace}");
        assert!(
            got.iter().all(|r| r.namespace_id == namespace),
            "namespace {namespace} sees only its records"
        );
    }
}

/// Records whose workflow id, run id and type are [`hostile_id`], in a namespace whose id is
/// hostile but short, are found by each id and by listing; a record whose ids differ from them
/// only at the end is not found by them.
pub async fn hostile_ids_are_found(fixture: &dyn Fixture) {
    let archiver = fixture.visibility_archiver();
    let uri = fixture.new_uri();
    let namespace_id = "../日本/\u{0}/#?%=x";
    let hostile = hostile_id();
    let mut records = test_records(namespace_id, 2);
    for (record, suffix) in records.iter_mut().zip(["", "/"]) {
        record.workflow_id = format!("{hostile}{suffix}");
        record.run_id = format!("{hostile}{suffix}");
        record.workflow_type_name = hostile.clone();
    }
    archive_all(&*archiver, &uri, &records).await;
    let quoted = hostile.replace('\'', "\\'");
    for filter in [
        format!("WorkflowId = '{quoted}'"),
        format!("RunId = '{quoted}'"),
        format!("WorkflowId = '{quoted}' AND WorkflowType = '{quoted}'"),
    ] {
        let got = query_all(
            &*archiver,
            &uri,
            QueryRequest::new(namespace_id, &filter),
            &search_attributes(),
        )
        .await
        .unwrap_or_else(|e| panic!("query by a hostile id: {e}"));
        assert_eq!(got, records[..1], "the record with the hostile ids, alone");
    }
    let all = query_all(
        &*archiver,
        &uri,
        QueryRequest::new(namespace_id, "").with_page_size(1),
        &search_attributes(),
    )
    .await
    .expect("list a hostile namespace");
    assert_eq!(all.len(), 2, "both records of the hostile namespace");
}

/// Every order pages like the shared evaluator orders, with ties in the sort keys (records
/// share close and start times) and pages cut through them: full pages but the last, every
/// record once, in the evaluator's order.
pub async fn paging_agrees_with_evaluation_in_every_order(fixture: &dyn Fixture) {
    let archiver = fixture.visibility_archiver();
    let uri = fixture.new_uri();
    let base: jiff::Timestamp = "2026-02-01T00:00:00.123456789Z".parse().expect("time");
    let minute = |n: usize| base + jiff::SignedDuration::from_mins(n as i64);
    let mut records = test_records("ns-orders", 60);
    for (i, record) in records.iter_mut().enumerate() {
        // Many ties: 6 distinct close times, 4 distinct start times.
        record.close_time = minute(i % 6);
        record.start_time = minute(i % 4);
    }
    archive_all(&*archiver, &uri, &records).await;
    let attributes = search_attributes();
    for text in [
        "",
        "ORDER BY CloseTime ASC",
        "ORDER BY StartTime DESC",
        "ORDER BY StartTime ASC, WorkflowId DESC",
        "ORDER BY HistoryLength DESC",
        "WorkflowType != 'refunds' ORDER BY StartTime ASC",
        "CustomKeyword = 'blue' OR ExecutionStatus = 'Failed'",
    ] {
        let all = QueryRequest::new("ns-orders", text).with_page_size(records.len() + 1);
        let query = compile_query(&all, &attributes).unwrap_or_else(|e| panic!("{text}: {e}"));
        let want = page_of(records.iter(), &query, &all).expect("the evaluator");
        for page_size in [4, 100] {
            let mut request = QueryRequest::new("ns-orders", text).with_page_size(page_size);
            let mut got = Vec::new();
            loop {
                let page = archiver
                    .query(&uri, &request, &attributes)
                    .await
                    .unwrap_or_else(|e| panic!("{text:?}: {e}"));
                let last = page.next_page_token.is_none();
                assert!(
                    page.executions.len() == page_size || last && page.executions.len() < page_size,
                    "{text:?} page size {page_size}: page {} holds {} records",
                    got.len() / page_size,
                    page.executions.len()
                );
                got.extend(page.executions);
                match page.next_page_token {
                    Some(token) if got.len() <= records.len() => {
                        request.next_page_token = Some(token)
                    }
                    _ => break,
                }
            }
            assert_eq!(
                run_ids(&got),
                run_ids(&want.executions),
                "{text:?} page size {page_size}"
            );
        }
    }
}

/// Archiving the same record twice keeps one.
pub async fn duplicate_record_is_kept_once(fixture: &dyn Fixture) {
    let archiver = fixture.visibility_archiver();
    let uri = fixture.new_uri();
    let records = test_records("ns-dup", 3);
    archive_all(&*archiver, &uri, &records).await;
    archive_all(&*archiver, &uri, &records[1..2]).await;
    let got = query_all(
        &*archiver,
        &uri,
        QueryRequest::new("ns-dup", ""),
        &search_attributes(),
    )
    .await
    .expect("query");
    assert_eq!(
        got.len(),
        3,
        "a record archived twice appears once: {:?}",
        run_ids(&got)
    );
}

/// A run archived again with other values (type, status, attributes; a closed run keeps its
/// start and close times) is found as archived last, once, and no longer by its old values.
pub async fn rearchive_with_other_values_replaces(fixture: &dyn Fixture) {
    let archiver = fixture.visibility_archiver();
    let uri = fixture.new_uri();
    let records = test_records("ns-again", 4);
    archive_all(&*archiver, &uri, &records).await;
    let mut again = records[1].clone();
    again.workflow_type_name = "renamed".into();
    again.history_length += 100;
    again
        .search_attributes
        .insert("CustomKeyword".into(), "changed".into());
    again.status = visibility_query::ExecutionStatus::Terminated;
    archive_all(&*archiver, &uri, std::slice::from_ref(&again)).await;
    let attributes = search_attributes();
    let find = async |filter: &str| {
        query_all(
            &*archiver,
            &uri,
            QueryRequest::new("ns-again", filter),
            &attributes,
        )
        .await
        .unwrap_or_else(|e| panic!("query {filter:?}: {e}"))
    };
    let all = find("").await;
    assert_eq!(all.len(), 4, "each run once: {:?}", run_ids(&all));
    assert!(all.contains(&again), "the run as archived last");
    let by_run = format!("RunId = '{}'", again.run_id);
    assert_eq!(find(&by_run).await, vec![again.clone()]);
    let old_type = format!("WorkflowType = '{}'", records[1].workflow_type_name);
    assert!(
        !run_ids(&find(&old_type).await).contains(&again.run_id.as_str()),
        "not found by its old type"
    );
}

/// A damaged token, or one from another query, is CorruptedToken.
pub async fn corrupted_query_token(fixture: &dyn Fixture) {
    let archiver = fixture.visibility_archiver();
    let uri = fixture.new_uri();
    archive_all(&*archiver, &uri, &test_records("ns-token", 5)).await;
    let attributes = search_attributes();
    let request = QueryRequest::new("ns-token", "").with_page_size(2);
    let token = archiver
        .query(&uri, &request, &attributes)
        .await
        .expect("first page")
        .next_page_token
        .expect("a token after a full page with more to come");
    let cases = [
        (
            "garbage",
            request
                .clone()
                .with_next_page_token(Some(b"garbage!".to_vec())),
        ),
        (
            "truncated",
            request
                .clone()
                .with_next_page_token(Some(token[..token.len() / 2].to_vec())),
        ),
        (
            "from another query",
            QueryRequest::new("ns-token", "WorkflowType = 'payments'")
                .with_page_size(2)
                .with_next_page_token(Some(token.clone())),
        ),
    ];
    for (case, request) in cases {
        let got = archiver.query(&uri, &request, &attributes).await;
        assert!(
            matches!(got, Err(Error::CorruptedToken { .. })),
            "{case} token: expected CorruptedToken, got {got:?}"
        );
    }
}

/// Invalid records and requests are InvalidRequest naming the field.
pub async fn invalid_visibility_requests(fixture: &dyn Fixture) {
    let archiver = fixture.visibility_archiver();
    let uri = fixture.new_uri();
    let mut record = test_records("ns-invalid", 1).remove(0);
    record.workflow_type_name.clear();
    match archiver
        .archive(&uri, &record, &ArchiveOptions::default())
        .await
    {
        Err(Error::InvalidRequest {
            field: "workflow_type_name",
            ..
        }) => {}
        other => panic!(
            "record without a type: expected InvalidRequest(workflow_type_name), got {other:?}"
        ),
    }
    let zero = QueryRequest::new("ns-invalid", "").with_page_size(0);
    match archiver.query(&uri, &zero, &search_attributes()).await {
        Err(Error::InvalidRequest {
            field: "page_size", ..
        }) => {}
        other => panic!("page_size 0: expected InvalidRequest(page_size), got {other:?}"),
    }
    let foreign: ArchiveUri = "wrongscheme:///a/b/c".parse().expect("valid URI");
    let got = archiver.validate_uri(&foreign).await;
    assert!(
        matches!(got, Err(Error::SchemeMismatch { .. })),
        "validate_uri of another scheme: expected SchemeMismatch, got {got:?}"
    );
}
