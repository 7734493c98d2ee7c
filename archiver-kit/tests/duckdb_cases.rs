//! Real DuckDB over a `file://` table's live segments answers SQL translations of the shared
//! list-filter case table (`visibility-query/tests/data/list-filter-cases.jsonl`) with the same
//! rows, in the same order, as [`VisibilityTable::query`].
//!
//! Every case that compiles under the attributes its context declares (as
//! `visibility-query/tests/cases.rs` reads contexts) runs against a namespace of its own
//! attribute set, filled with records built from the table's own literals (so that filters hit
//! something and miss something): `archiver_core::testing::CaseTable`, whose records the
//! conformance suite runs on every provider too. The SQL is `visibility_query::sql::list` for PostgreSQL, the
//! translator of Temporal's SQL visibility stores, unchanged; DuckDB runs it over a view that
//! presents the segments in the shape of `Dialect::schema`'s `executions_visibility`:
//!
//! * the columns are those of the schema's DDL (system columns, predefined attributes, the
//!   layout's preallocated fields), `close_time_or_max` with the DDL's own generated expression;
//! * a field a custom attribute is assigned to reads that attribute's typed segment column;
//!   every other attribute (predefined ones, unassigned fields) is the stored text the segment
//!   keeps in `Extra`, cast as DuckDB casts text (the generator writes them canonically);
//! * `status` is the segment's status name as its integer, times are UTC `TIMESTAMP`s;
//! * KeywordList columns are DuckDB lists and Text columns the lists of their tokens (the
//!   evaluator's tokenizer as a regular expression), so the translator's `col @>
//!   jsonb_build_array($n)` is DuckDB's list containment once `jsonb_build_array(x)` is the
//!   macro `[x]`.
//!
//! The translator scopes every statement to `TemporalNamespaceDivision IS NULL` unless the
//! filter names it, as Temporal's SQL stores do; `query` has no such scope, so its rows in a
//! division are left out of what DuckDB must return for such filters. A filter with `GROUP BY`
//! runs as `sql::count` and is checked against `query`'s rows counted per group; `ORDER BY` the
//! translator refuses (as Temporal's SQL stores do), so those cases are skipped, and counted.
//!
//! Not exercised, because SQL over the typed columns cannot match the evaluator there: times below
//! the microsecond (typed columns hold microseconds, as Temporal's SQL stores do; `Extra` keeps
//! the rest, so records here hold whole microseconds), and Text made of characters Rust's
//! `char::is_alphanumeric` counts but `\p{L}\p{N}` does not (some combining marks and
//! symbols with the Alphabetic property; no literal of the case table has one).
//!
//! Needs `ARCHIVER_DUCKDB_PYTHON` (`source .ci/duckdb.sh`); without it the test says so and
//! passes, except under `CI=true`, where it fails.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use archiver_core::testing::CaseTable;
use archiver_core::{
    ArchiveOptions, ArchiveUri, QueryRequest, VisibilityArchiver, VisibilityRecord,
};
use archiver_kit::segment::SegmentOptions;
use archiver_kit::store::LocalStore;
use archiver_kit::table::{TableOptions, VisibilityTable};
use support::duckdb::{self, Param, Statement};
use visibility_query::sql::{self, Dialect, SqlParam};
use visibility_query::{ExecutionStatus, FieldLayout, SearchAttributeType as T, SearchAttributes};

/// Cases where DuckDB and `query` knowingly differ, with why (none so far).
const DISAGREE: &[(usize, &str)] = &[];

const DIVISION: &str = "TemporalNamespaceDivision";

/// Runs per namespace (a quarter of them archived a second time, with other values).
const RUNS: usize = 150;
/// The page size of both sides: more than a namespace holds.
const PAGE: usize = 1000;

/// `name` as a DuckDB identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `s` as a DuckDB string literal.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The evaluator's Text tokenizer (`visibility_query::sql::text_tokens`): lower-cased runs of
/// letters and digits, which `_ . : '` join when a letter or digit follows.
const TOKEN: &str = r"[\p{L}\p{N}]+(?:[_.:'][\p{L}\p{N}]+)*";

/// The segment columns `executions_visibility`'s system columns are, by schema name.
fn system_column(name: &str) -> Option<String> {
    let utc = |c: &str| format!("timezone('UTC', {c})");
    Some(match name {
        "namespace_id" => "namespace_id".to_owned(), // the Hive partition
        "run_id" => "RunId".to_owned(),
        "workflow_id" => "WorkflowId".to_owned(),
        "workflow_type_name" => "WorkflowType".to_owned(),
        "status" => {
            let whens: String = ExecutionStatus::ALL
                .iter()
                .map(|s| format!(" WHEN {} THEN {}", literal(s.name()), s.as_i32()))
                .collect();
            format!("CASE ExecutionStatus{whens} END")
        }
        "start_time" => utc("StartTime"),
        "execution_time" => utc("ExecutionTime"),
        "close_time" => utc("CloseTime"),
        "history_length" => "HistoryLength".to_owned(),
        "execution_duration" => "ExecutionDuration".to_owned(),
        // Not read by filters.
        "search_attributes" => "'{}'".to_owned(),
        _ => return None,
    })
}

/// Whether `name` is a preallocated field of `layout` (`Keyword03`).
fn is_field(name: &str, layout: &FieldLayout) -> bool {
    T::ALL.into_iter().any(|ty| {
        name.strip_prefix(ty.name()).is_some_and(|digits| {
            digits.len() == 2
                && digits
                    .parse::<u8>()
                    .is_ok_and(|n| n >= 1 && n <= layout.limit(ty))
        })
    })
}

/// The columns of `executions_visibility` (PostgreSQL DDL): name, and the generated
/// expression of a generated column.
fn schema_columns(layout: &FieldLayout) -> Vec<(String, Option<String>)> {
    let ddl = &Dialect::Postgres.schema(layout)[0];
    let body = &ddl[ddl.find('(').unwrap() + 1..ddl.rfind(')').unwrap()];
    body.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("PRIMARY KEY"))
        .map(|l| {
            let name = l.split_whitespace().next().unwrap().to_owned();
            let generated = l.split_once("GENERATED ALWAYS AS (").map(|(_, rest)| {
                let end = rest.rfind(')').unwrap();
                rest[..end].to_owned()
            });
            (name, generated)
        })
        .collect()
}

/// The predefined attributes (the schema's attribute columns that are not fields).
fn predefined(attrs: &SearchAttributes, layout: &FieldLayout) -> Vec<(String, T)> {
    schema_columns(layout)
        .into_iter()
        .filter(|(name, generated)| {
            generated.is_none() && system_column(name).is_none() && !is_field(name, layout)
        })
        .map(|(name, _)| {
            let ty = attrs.get(&name).expect("a predefined attribute");
            (name, ty)
        })
        .collect()
}

/// `CREATE OR REPLACE VIEW executions_visibility` over the segment files, in the shape of
/// `Dialect::schema` (see the module docs).
fn view(attrs: &SearchAttributes, layout: &FieldLayout, files: &[String]) -> String {
    let mut inner = Vec::new();
    let mut outer = Vec::new();
    for (name, generated) in schema_columns(layout) {
        if let Some(expr) = generated {
            outer.push(format!("{expr} AS {name}"));
            continue;
        }
        outer.push(name.clone());
        if let Some(column) = system_column(&name) {
            inner.push(format!("{column} AS {name}"));
            continue;
        }
        let ty = attrs
            .get(&name)
            .expect("every schema column is an attribute");
        let custom = attrs
            .custom()
            .find(|c| c.field.as_deref() == Some(name.as_str()));
        let expr = match custom {
            // The attribute's typed segment column.
            Some(c) => {
                let col = ident(&c.name);
                match ty {
                    T::Datetime => format!("timezone('UTC', {col})"),
                    T::Text => format!("regexp_extract_all(lower({col}), {})", literal(TOKEN)),
                    _ => col,
                }
            }
            // The stored text the segment keeps in `Extra`.
            None => {
                let path = literal(&format!("$.a.{}", ident(&name)));
                let raw = format!("json_extract_string(Extra, {path})");
                match ty {
                    T::Keyword => raw,
                    T::Int => format!("TRY_CAST({raw} AS BIGINT)"),
                    T::Double => format!("TRY_CAST({raw} AS DOUBLE)"),
                    T::Bool => format!("TRY_CAST({raw} AS BOOLEAN)"),
                    T::Datetime => format!("timezone('UTC', TRY_CAST({raw} AS TIMESTAMPTZ))"),
                    T::Text => format!("regexp_extract_all(lower({raw}), {})", literal(TOKEN)),
                    T::KeywordList => format!(
                        "CASE WHEN {raw} IS NULL THEN NULL \
                         WHEN json_valid({raw}) AND json_type({raw}) = 'ARRAY' \
                         THEN json_extract_string({raw}, '$[*]') ELSE [{raw}] END"
                    ),
                }
            }
        };
        inner.push(format!("{expr} AS {name}"));
    }
    let files: Vec<String> = files.iter().map(|f| literal(f)).collect();
    format!(
        "CREATE OR REPLACE VIEW executions_visibility AS SELECT {} FROM (SELECT {} FROM \
         read_parquet([{}], hive_partitioning = true, union_by_name = true, \
         hive_types = {{'namespace_id': VARCHAR, 'close_date': DATE}}))",
        outer.join(", "),
        inner.join(", "),
        files.join(", "),
    )
}

fn param(p: &SqlParam) -> Param {
    match p {
        SqlParam::Text(s) => Param::Text(s.clone()),
        SqlParam::Int(n) => Param::Int(*n),
        SqlParam::Float(x) => Param::Float(*x),
        SqlParam::Bool(b) => Param::Bool(*b),
    }
}

/// A case that runs: its filter's statement, and what `query` returned (in scope).
struct Run {
    case: usize,
    namespace: usize,
    statement: Statement,
    /// What `query` returned, leaving out records in a division when the translator's scope
    /// does.
    expected: Expected,
}

/// What DuckDB must return for a case.
#[derive(Debug)]
enum Expected {
    /// The run ids of the matches, in order.
    Runs(Vec<String>),
    /// Matches per group (the group's value as JSON), for a filter with GROUP BY.
    Groups(BTreeMap<String, u64>),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duckdb_answers_the_case_table_like_query() {
    let Some(python) = duckdb::python() else {
        return;
    };
    let started = Instant::now();
    // The cases that compile, by the attribute set of their context: one namespace each.
    let table = CaseTable::build();
    let (cases, namespaces, mut skipped) = (&table.cases, &table.namespaces, table.skipped.clone());

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("table");
    let uri: ArchiveUri = format!("file://{}", root.display()).parse().unwrap();
    let table_archiver = VisibilityTable::with_options(
        LocalStore::new(),
        TableOptions::default()
            .with_batch_window(Duration::from_millis(2))
            .with_auto_compaction(None)
            .with_max_segment_rows(40)
            .with_segment_options(SegmentOptions::default().with_row_group_rows(16)),
    );
    for ns in namespaces {
        // Values from the literals of the namespace's own cases, so that they hit often; a
        // quarter of the runs archived again after the first compaction: the second rewrites
        // segments, and only the last record of a run may be found.
        let predefined = predefined(&ns.attributes, &ns.layout);
        for batch in ns.records(&table, &predefined, RUNS) {
            let options = ArchiveOptions::default();
            let calls = batch
                .iter()
                .map(|r| table_archiver.archive(&uri, r, &options));
            for result in futures::future::join_all(calls).await {
                result.unwrap();
            }
            table_archiver
                .compact(&uri, &ns.id, &ns.attributes)
                .await
                .unwrap();
        }
    }

    // Each case's statement, and what `query` returns for it.
    let mut runs: Vec<Run> = Vec::new();
    let mut in_division = 0;
    let compiled = namespaces
        .iter()
        .enumerate()
        .flat_map(|(n, ns)| ns.cases.iter().map(move |(i, q)| (*i, n, q)));
    for (i, namespace, q) in compiled {
        let ns = &namespaces[namespace];
        let case = &cases[i];
        // A filter with GROUP BY is a count of each group; any other, a list of runs.
        let statement = match q.group_by() {
            None => sql::list(
                q,
                &ns.attributes,
                Dialect::Postgres,
                &ns.id,
                None,
                PAGE as u32,
            ),
            Some(_) => sql::count(q, &ns.attributes, Dialect::Postgres, &ns.id),
        };
        let statement = match statement {
            Ok(st) => st,
            Err(sql::SqlError::NotSupported(why)) => {
                *skipped
                    .entry(format!("the SQL translator refuses it: {why}"))
                    .or_default() += 1;
                continue;
            }
            Err(e) => panic!("case {i} ({}): {e}", case.query),
        };
        let request = QueryRequest::new(&ns.id, &case.query).with_page_size(PAGE);
        let page = table_archiver
            .query(&uri, &request, &ns.attributes)
            .await
            .unwrap();
        assert!(
            page.next_page_token.is_none(),
            "case {i}: one page holds all"
        );
        let scoped = !(q.fields_read().contains(DIVISION) || q.group_by() == Some(DIVISION));
        let before = page.executions.len();
        let in_scope: Vec<VisibilityRecord> = page
            .executions
            .into_iter()
            .filter(|r| !scoped || !r.search_attributes.contains_key(DIVISION))
            .collect();
        in_division += before - in_scope.len();
        let expected = match q.group_by() {
            None => Expected::Runs(in_scope.into_iter().map(|r| r.run_id).collect()),
            Some(group) => {
                let mut groups = BTreeMap::new();
                for r in &in_scope {
                    let key = match group {
                        "ExecutionStatus" => serde_json::json!(r.status.as_i32()),
                        _ => serde_json::json!(r.search_attributes.get(group)),
                    };
                    *groups.entry(key.to_string()).or_default() += 1;
                }
                Expected::Groups(groups)
            }
        };
        runs.push(Run {
            case: i,
            namespace,
            statement: Statement {
                sql: statement.sql,
                params: statement.params.iter().map(param).collect(),
            },
            expected,
        });
    }

    // One DuckDB process: per namespace, its view, a check that it holds every run once, then
    // the namespace's cases.
    let mut statements = vec![Statement::plain("CREATE MACRO jsonb_build_array(x) AS [x]")];
    let mut slots: Vec<Option<usize>> = vec![None];
    for (n, ns) in namespaces.iter().enumerate() {
        let live = table_archiver.segments(&uri, &ns.id).await.unwrap();
        assert!(live.len() > 1, "{}: segments in several partitions", ns.id);
        let files: Vec<String> = live
            .iter()
            .map(|s| root.join(&s.key).display().to_string())
            .collect();
        statements.push(Statement::plain(view(&ns.attributes, &ns.layout, &files)));
        slots.push(None);
        statements.push(Statement::plain(
            "SELECT count(*), count(DISTINCT run_id) FROM executions_visibility",
        ));
        slots.push(None);
        for (r, run) in runs.iter().enumerate().filter(|(_, r)| r.namespace == n) {
            statements.push(run.statement.clone());
            slots.push(Some(r));
        }
    }
    let answer = duckdb::run(&python, &statements);

    let run_id_at = sql::ROW_COLUMNS
        .iter()
        .position(|c| *c == "run_id")
        .unwrap();
    let mut failures = Vec::new();
    let mut disagreed = Vec::new();
    let mut selective = 0;
    for ((statement, slot), result) in statements.iter().zip(&slots).zip(answer.results) {
        let rows = match result {
            Ok(rows) => rows,
            Err(e) => {
                failures.push(format!("{}\n  DuckDB: {e}", statement.sql));
                continue;
            }
        };
        let Some(r) = slot else {
            if statement.sql.starts_with("SELECT count(*)") {
                let counts = (rows[0][0].as_u64(), rows[0][1].as_u64());
                assert_eq!(
                    counts,
                    (Some(RUNS as u64), Some(RUNS as u64)),
                    "live segments"
                );
            }
            continue;
        };
        let run = &runs[*r];
        let (got, matched) = match &run.expected {
            Expected::Runs(expected) => {
                let got: Vec<String> = rows
                    .iter()
                    .map(|row| row[run_id_at].as_str().unwrap().to_owned())
                    .collect();
                selective += usize::from(!got.is_empty() && got.len() < RUNS);
                let (mut a, mut b) = (got.clone(), expected.clone());
                a.sort();
                b.sort();
                let matched = match (got == *expected, a == b) {
                    (true, _) => None,
                    (false, true) => Some("same rows, other order"),
                    (false, false) => Some("other rows"),
                };
                (format!("{got:?}"), matched)
            }
            Expected::Groups(expected) => {
                let got: BTreeMap<String, u64> = rows
                    .iter()
                    .map(|row| (row[0].to_string(), row[1].as_u64().unwrap()))
                    .collect();
                let n: u64 = got.values().sum();
                selective += usize::from(n > 0 && n < RUNS as u64);
                (
                    format!("{got:?}"),
                    (got != *expected).then_some("other counts"),
                )
            }
        };
        let Some(what) = matched else {
            continue;
        };
        disagreed.push(run.case);
        if !DISAGREE.iter().any(|&(n, _)| n == run.case) {
            failures.push(format!(
                "case {} ({}): {what}\n  query:  {:?}\n  DuckDB: {got}\n  SQL: {}\n  params: {:?}",
                run.case, cases[run.case].query, run.expected, statement.sql, statement.params
            ));
        }
    }
    for &(n, why) in DISAGREE {
        if !disagreed.contains(&n) {
            failures.push(format!("case {n} is listed in DISAGREE ({why}) but agrees"));
        }
    }

    let skipped_total: usize = skipped.values().sum();
    println!(
        "DuckDB {}: {} cases ran ({selective} selective: some runs, not all), {} disagreed \
         (listed), {skipped_total} skipped, over {} namespaces of {RUNS} runs \
         ({in_division} rows in a division left out by the SQL scope); {:.1} s",
        answer.version,
        runs.len(),
        disagreed.len(),
        namespaces.len(),
        started.elapsed().as_secs_f64()
    );
    for (why, n) in &skipped {
        println!("  skipped {n}: {why}");
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(runs.len() + skipped_total, cases.len());
    assert!(runs.len() >= 150, "only {} cases ran", runs.len());
    assert!(
        selective * 10 >= runs.len() * 7,
        "only {selective} of {} cases selected some runs but not all",
        runs.len()
    );
}
