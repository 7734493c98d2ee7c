//! A query over a segment returns exactly the records the evaluator matches, reading only the
//! row groups its plan cannot rule out; damage is reported, never a changed answer.

use archiver_core::VisibilityRecord;
use archiver_kit::segment::{
    SegmentError, SegmentFooter, SegmentOptions, SegmentTail, SparseFile, decode_segment,
    encode_segment, query_segment, read_group_fields,
};
use bytes::Bytes;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use visibility_query::{ExecutionStatus, SearchAttributes, compile};

fn attributes() -> SearchAttributes {
    archiver_core::testing::search_attributes()
}

/// Records `wf-i`/`run-i` with the given close offsets (seconds), types and statuses.
fn records(rows: &[(i64, usize, usize)]) -> Vec<VisibilityRecord> {
    const TYPES: [&str; 4] = ["payments", "shipping", "refunds", "audit"];
    const STATUSES: [ExecutionStatus; 3] = [
        ExecutionStatus::Completed,
        ExecutionStatus::Failed,
        ExecutionStatus::TimedOut,
    ];
    let base: Timestamp = "2026-03-01T00:00:00Z".parse().unwrap();
    let template = archiver_core::testing::test_records("ns-id", 1).remove(0);
    rows.iter()
        .enumerate()
        .map(|(i, &(offset, ty, status))| {
            let mut r = template.clone();
            r.workflow_id = format!("wf-{i}");
            r.run_id = format!("run-{i}");
            r.workflow_type_name = TYPES[ty % TYPES.len()].into();
            r.status = STATUSES[status % STATUSES.len()];
            // Nanoseconds too, so bounds between two microseconds are exercised.
            r.close_time = base
                + SignedDuration::from_secs(offset)
                + SignedDuration::from_nanos(offset % 1000);
            r.start_time = r.close_time - SignedDuration::from_secs(offset % 7_200);
            r.execution_time = r.start_time;
            r.history_length = offset % 500;
            r.search_attributes
                .insert("CustomKeyword".into(), format!("k{}", offset % 13));
            r
        })
        .collect()
}

fn time(records: &[VisibilityRecord], i: usize, delta_nanos: i64) -> String {
    (records[i % records.len()].close_time + SignedDuration::from_nanos(delta_nanos)).to_string()
}

/// Filters over the records' own values, each a different shape for the plan.
fn filters(records: &[VisibilityRecord], a: usize, b: usize) -> Vec<String> {
    let n = records.len();
    let (wa, wb) = (&records[a % n].workflow_id, &records[b % n].workflow_id);
    vec![
        format!("WorkflowId = '{wa}'"),
        format!("RunId = '{}'", records[b % n].run_id),
        format!("WorkflowId IN ('{wa}', '{wb}', 'wf-none')"),
        format!("WorkflowId = '{wa}' OR RunId = '{}'", records[b % n].run_id),
        format!("NOT WorkflowId = '{wa}'"),
        format!("WorkflowType = 'refunds' AND ExecutionStatus = 'Failed'"),
        format!("CloseTime >= '{}'", time(records, a, 0)),
        format!("CloseTime > '{}'", time(records, a, 1)),
        format!("CloseTime < '{}'", time(records, b, -1)),
        format!(
            "CloseTime BETWEEN '{}' AND '{}'",
            time(records, a, 0),
            time(records, b, 0)
        ),
        format!(
            "StartTime <= '{}' AND HistoryLength > 100",
            time(records, a, 0)
        ),
        format!(
            "CustomKeyword = 'k3' AND CloseTime > '{}'",
            time(records, b, 0)
        ),
        format!(
            "WorkflowId = '{wa}' AND CloseTime < '{}'",
            time(records, a, 0)
        ),
        "ExecutionStatus IN ('Completed', 'TimedOut') AND CustomKeyword IN ('k3', 'k5')".into(),
        format!(
            "RunId IN ('{}', 'run-none') OR WorkflowType = 'audit'",
            records[a % n].run_id
        ),
    ]
}

fn check_queries(records: &[VisibilityRecord], rows_per_group: usize, a: usize, b: usize) {
    let options = SegmentOptions::default().with_row_group_rows(rows_per_group);
    let bytes = Bytes::from(encode_segment(records.to_vec(), &attributes(), &options).unwrap());
    let all = decode_segment(bytes.clone()).unwrap();
    let tail = SegmentTail::of(&bytes).unwrap();
    for filter in filters(records, a, b) {
        let query = compile(&filter, &attributes()).unwrap();
        let expected: Vec<_> = all.iter().filter(|r| query.matches(*r)).cloned().collect();
        let found = query_segment(bytes.clone(), &tail, &query).unwrap();
        assert_eq!(found.records, expected, "{filter}");
        assert!(found.row_groups_read <= found.row_groups);
        // A reader that rules rows out by the plan's values first finds the same matches.
        let file = SparseFile::whole(bytes.clone());
        let footer = SegmentFooter::read(&file, Some(&tail)).unwrap();
        let (fields, plan) = (query.fields_read(), query.plan());
        for g in 0..footer.row_groups() {
            let matched = |(indices, partial): (Vec<usize>, Vec<VisibilityRecord>)| {
                assert_eq!(indices.len(), partial.len());
                let decoded = partial.len();
                let matched: Vec<usize> = indices
                    .into_iter()
                    .zip(&partial)
                    .filter(|(_, r)| query.matches(*r))
                    .map(|(i, _)| i)
                    .collect();
                (matched, decoded)
            };
            let (all_rows, decoded_all) =
                matched(read_group_fields(&file, &footer, g, &fields, None, None).unwrap());
            let (planned, decoded_planned) =
                matched(read_group_fields(&file, &footer, g, &fields, None, Some(&plan)).unwrap());
            assert_eq!(planned, all_rows, "{filter}, group {g}");
            assert!(decoded_planned <= decoded_all, "{filter}, group {g}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_segment_query_returns_what_the_evaluator_matches(
        rows in prop::collection::vec((0i64..30 * 86_400, 0usize..4, 0usize..3), 1..120),
        rows_per_group in 1usize..20,
        a: usize,
        b: usize,
    ) {
        let records = records(&rows);
        check_queries(&records, rows_per_group, a, b);
    }
}

/// 1,000 records one minute apart in 100 row groups.
fn large() -> (Vec<VisibilityRecord>, Bytes) {
    let rows: Vec<_> = (0..1000)
        .map(|i| (i * 60, i as usize, i as usize))
        .collect();
    let records = records(&rows);
    let options = SegmentOptions::default().with_row_group_rows(10);
    let bytes = encode_segment(records.clone(), &attributes(), &options).unwrap();
    (records, Bytes::from(bytes))
}

#[test]
fn lookups_and_time_ranges_read_only_the_row_groups_that_can_match() {
    let (records, bytes) = large();
    let tail = SegmentTail::of(&bytes).unwrap();
    let query = |filter: &str| {
        let query = compile(filter, &attributes()).unwrap();
        query_segment(bytes.clone(), &tail, &query).unwrap()
    };

    let mut false_positives = 0;
    for i in (0..1000).step_by(37) {
        let found = query(&format!("WorkflowId = 'wf-{i}'"));
        assert_eq!(found.records, vec![records[i].clone()]);
        false_positives += found.row_groups_read - 1;
    }
    // At most 2.5% false positives per group and value: about 27 lookups x 99 groups x 0.025
    // (less in practice: a ten-row group's filter is far below its capacity).
    assert!(
        false_positives <= 80,
        "{false_positives} extra row groups read"
    );

    let found = query("RunId IN ('run-5', 'run-995')");
    assert_eq!(found.records.len(), 2);
    assert!(found.row_groups_read <= 6, "{}", found.row_groups_read);

    // Minutes 100..199 are rows 100..199: groups 10..19, plus a neighbour at most.
    let found = query(&format!(
        "CloseTime >= '{}' AND CloseTime < '{}'",
        records[100].close_time, records[200].close_time
    ));
    assert_eq!(found.records, records[100..200].to_vec());
    assert!(
        (10..=11).contains(&found.row_groups_read),
        "{}",
        found.row_groups_read
    );

    let found = query("WorkflowId = 'wf-none'");
    assert!(found.records.is_empty());
    assert!(found.row_groups_read <= 5, "{}", found.row_groups_read);

    // A filter the plan cannot use reads everything, and is still right.
    let found = query("HistoryLength = 20");
    assert_eq!(found.row_groups_read, 100);
    let expected: Vec<_> = records
        .iter()
        .filter(|r| r.history_length == 20)
        .cloned()
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(found.records, expected);
}

#[test]
fn damage_never_changes_a_query_answer() {
    let rows: Vec<_> = (0..40).map(|i| (i * 60, i as usize, i as usize)).collect();
    let records = records(&rows);
    let options = SegmentOptions::default().with_row_group_rows(8);
    let bytes = encode_segment(records, &attributes(), &options).unwrap();
    let query = compile("WorkflowId = 'wf-17' OR RunId = 'run-3'", &attributes()).unwrap();
    // The tail's checksums are recorded apart from the file (in the manifest): damage to the
    // file cannot change them.
    let tail = SegmentTail::of(&bytes).unwrap();
    let expected = query_segment(Bytes::from(bytes.clone()), &tail, &query)
        .unwrap()
        .records;
    assert_eq!(expected.len(), 2);
    let (mut refused, mut same) = (0, 0);
    for byte in (0..bytes.len()).step_by(3) {
        let mut damaged = bytes.clone();
        damaged[byte] ^= 1 << (byte * 3 % 8);
        match query_segment(Bytes::from(damaged), &tail, &query) {
            Err(e) => {
                assert!(matches!(
                    e,
                    SegmentError::Corrupted(_) | SegmentError::UnsupportedVersion(_)
                ));
                refused += 1;
            }
            Ok(found) => {
                assert_eq!(
                    found.records, expected,
                    "flip in byte {byte} changed the answer"
                );
                same += 1;
            }
        }
    }
    eprintln!("{refused} flips refused, {same} left the answer unchanged");
    assert!(refused > 0);
}
