//! Real DuckDB reads segments laid out Hive-style and answers SQL equivalents of list filters
//! with the same rows as the list-filter evaluator over the same records.
//!
//! Needs `ARCHIVER_DUCKDB_PYTHON`: a Python with the `duckdb` package (PyPI; `.ci/run` installs
//! it). Without it the test says so and passes, except under `CI=true`, where it fails.

mod support;

use archiver_core::VisibilityRecord;
use archiver_kit::segment::{SegmentOptions, encode_segment, partition_records};
use jiff::{SignedDuration, Timestamp};
use support::duckdb::{self, Statement};
use visibility_query::{SearchAttributeType as T, SearchAttributes};

fn attributes() -> SearchAttributes {
    archiver_core::testing::search_attributes()
        .with_custom("CustomBool", T::Bool)
        .with_custom("CustomDouble", T::Double)
        .with_custom("CustomDatetime", T::Datetime)
        .with_custom("CustomKeywordList", T::KeywordList)
        .with_custom("CustomText", T::Text)
}

/// 300 records over four UTC days, with every custom type (some values absent or unparsable).
fn records() -> Vec<VisibilityRecord> {
    let base: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    archiver_core::testing::test_records("ns-id", 300)
        .into_iter()
        .enumerate()
        .map(|(i, mut r)| {
            let n = i as i64;
            r.close_time = base + SignedDuration::from_mins(17 * n) + SignedDuration::from_nanos(n);
            r.start_time = r.close_time - SignedDuration::from_mins(n % 90);
            r.execution_time = r.start_time;
            r.execution_duration_nanos = Some(SignedDuration::from_mins(n % 90).as_nanos() as i64);
            let sa = &mut r.search_attributes;
            if i % 5 != 0 {
                sa.insert("CustomBool".into(), (i % 2 == 0).to_string());
            }
            sa.insert("CustomDouble".into(), format!("{}", n as f64 / 8.0));
            sa.insert(
                "CustomDatetime".into(),
                (base + SignedDuration::from_mins(11 * n)).to_string(),
            );
            let tags = ["a", "b", "c", "d"];
            sa.insert(
                "CustomKeywordList".into(),
                serde_json::to_string(&tags[..=i % 4].iter().skip(i % 2).collect::<Vec<_>>())
                    .unwrap(),
            );
            sa.insert("CustomText".into(), format!("order {i} shipped"));
            if i % 7 == 0 {
                sa.insert("CustomInt".into(), "not a number".into());
            }
            r
        })
        .collect()
}

/// (list filter, DuckDB WHERE clause over the segment columns and Hive partitions).
const CASES: &[(&str, &str)] = &[
    ("WorkflowId = 'wf-7'", "WorkflowId = 'wf-7'"),
    ("RunId = 'run-0042'", "RunId = 'run-0042'"),
    (
        "WorkflowType = 'payments' AND ExecutionStatus = 'Failed'",
        "WorkflowType = 'payments' AND ExecutionStatus = 'Failed'",
    ),
    (
        "CloseTime >= '2026-01-02T00:00:00Z' AND CloseTime < '2026-01-03T00:00:00Z'",
        "close_date = DATE '2026-01-02'",
    ),
    (
        "CloseTime BETWEEN '2026-01-02T10:00:00Z' AND '2026-01-02T20:00:00Z'",
        "CloseTime BETWEEN TIMESTAMPTZ '2026-01-02 10:00:00+00' AND TIMESTAMPTZ '2026-01-02 20:00:00+00'",
    ),
    ("CustomKeyword = 'red'", "CustomKeyword = 'red'"),
    ("CustomKeyword != 'blue'", "CustomKeyword != 'blue'"),
    ("HistoryLength > 150", "HistoryLength > 150"),
    ("CustomInt BETWEEN 3 AND 5", "CustomInt BETWEEN 3 AND 5"),
    (
        "ExecutionStatus IN ('Completed', 'Canceled')",
        "ExecutionStatus IN ('Completed', 'Canceled')",
    ),
    (
        "WorkflowId STARTS_WITH 'wf-1'",
        "starts_with(WorkflowId, 'wf-1')",
    ),
    (
        "CustomKeywordList = 'b'",
        "list_contains(CustomKeywordList, 'b')",
    ),
    ("CustomBool = true", "CustomBool = true"),
    ("CustomDouble > 20.5", "CustomDouble > 20.5"),
    (
        "CustomDatetime < '2026-01-02T12:00:00Z'",
        "CustomDatetime < TIMESTAMPTZ '2026-01-02 12:00:00+00'",
    ),
    (
        "NOT (WorkflowType = 'refunds') OR CustomInt IS NULL",
        "NOT (WorkflowType = 'refunds') OR CustomInt IS NULL",
    ),
    (
        "ExecutionDuration > '1h'",
        "ExecutionDuration > 3600000000000",
    ),
    ("CustomBool != true", "CustomBool != true"),
];

#[test]
fn duckdb_answers_sql_equivalents_of_list_filters_like_the_evaluator() {
    let Some(python) = duckdb::python() else {
        return;
    };
    let records = records();
    let attributes = attributes();
    let dir = tempfile::tempdir().unwrap();

    // Every tenth run archived twice, the first time with a stale attribute: partitioning keeps
    // the last record of each run, so DuckDB must see no duplicate and no stale value.
    let mut archived: Vec<VisibilityRecord> = records
        .iter()
        .step_by(10)
        .map(|r| {
            let mut stale = r.clone();
            stale
                .search_attributes
                .insert("CustomKeyword".into(), "stale".into());
            stale
        })
        .collect();
    archived.extend(records.iter().cloned());
    let partitions = partition_records(archived).unwrap();
    assert_eq!(partitions.len(), 4, "the records span four days");
    let options = SegmentOptions::default().with_row_group_rows(20);
    // Two segments per partition, as compaction leaves them before they are merged.
    for (path, mut part) in partitions {
        let second = part.split_off(part.len() / 2);
        std::fs::create_dir_all(dir.path().join(&path)).unwrap();
        for (i, rows) in [part, second].into_iter().enumerate() {
            let bytes = encode_segment(rows, &attributes, &options).unwrap();
            std::fs::write(
                dir.path().join(&path).join(format!("part-{i}.parquet")),
                bytes,
            )
            .unwrap();
        }
    }

    // The segments read as any engine would: Hive partitions, files unioned by column name.
    let glob = format!("{}/**/*.parquet", dir.path().display()).replace('\'', "''");
    let mut statements = vec![
        Statement::plain(format!(
            "CREATE VIEW records AS SELECT * FROM read_parquet(\
             '{glob}', hive_partitioning = true, union_by_name = true)"
        )),
        Statement::plain("DESCRIBE records"),
    ];
    statements.extend(CASES.iter().map(|(_, sql)| {
        Statement::plain(format!(
            "SELECT RunId FROM records WHERE {sql} ORDER BY RunId"
        ))
    }));
    let answer = duckdb::run(&python, &statements);
    let mut results = answer
        .results
        .into_iter()
        .map(|r| r.expect("DuckDB ran it"));
    results.next();
    let columns: std::collections::BTreeMap<String, String> = results
        .next()
        .unwrap()
        .into_iter()
        .map(|row| {
            (
                row[0].as_str().unwrap().to_owned(),
                row[1].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (column, ty) in [
        ("CloseTime", "TIMESTAMP WITH TIME ZONE"),
        ("HistoryLength", "BIGINT"),
        ("CustomInt", "BIGINT"),
        ("CustomDouble", "DOUBLE"),
        ("CustomBool", "BOOLEAN"),
        ("CustomDatetime", "TIMESTAMP WITH TIME ZONE"),
        ("CustomKeywordList", "VARCHAR[]"),
        ("close_date", "DATE"),
        ("namespace_id", "VARCHAR"),
    ] {
        assert_eq!(columns[column], ty, "DuckDB's type of {column}");
    }

    for ((filter, sql), rows) in CASES.iter().zip(results) {
        let query = visibility_query::compile(filter, &attributes).unwrap();
        let mut expected: Vec<&str> = records
            .iter()
            .filter(|r| query.matches(*r))
            .map(|r| r.run_id.as_str())
            .collect();
        expected.sort_unstable();
        let got: Vec<&str> = rows.iter().map(|row| row[0].as_str().unwrap()).collect();
        assert!(
            !expected.is_empty(),
            "{filter}: a case that matches nothing proves little"
        );
        assert_eq!(got, expected, "{filter}  vs  DuckDB: {sql}");
    }
}
