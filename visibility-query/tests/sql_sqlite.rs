//! The SQL translation run on a real engine (bundled SQLite): the schema is
//! accepted, and for generated records and filters the rows `list` and
//! `count` return are exactly the evaluator's matches, in the evaluator's
//! order, page by page.

use std::collections::BTreeMap;

use proptest::prelude::*;
use rusqlite::Connection;
use rusqlite::types::Value as DbValue;
use visibility_query::sql::{self, Dialect, PageKey, SqlParam, SqlStatement};
use visibility_query::testing::{ES_ATTRIBUTES, cases};
use visibility_query::{
    CheckedQuery, ExecutionStatus, FieldLayout, Record, RecordValues, SearchAttributeType as T,
    SearchAttributes, Timestamp, compile,
};

const NS: &str = "ns";

fn attrs() -> SearchAttributes {
    SearchAttributes::new()
        .with_field_layout(FieldLayout::temporal_sql())
        .with_custom("Region", T::Keyword)
        .with_custom("Tags", T::KeywordList)
        .with_custom("Notes", T::Text)
        .with_custom("Amount", T::Double)
        .with_custom("Count", T::Int)
        .with_custom("Flag", T::Bool)
        .with_custom("Due", T::Datetime)
}

fn db(attrs: &SearchAttributes) -> Connection {
    let _ = attrs;
    let c = Connection::open_in_memory().unwrap();
    for ddl in Dialect::Sqlite.schema(&FieldLayout::temporal_sql()) {
        c.execute_batch(&ddl)
            .unwrap_or_else(|e| panic!("{e}: {ddl}"));
    }
    c
}

fn db_value(p: &SqlParam) -> DbValue {
    match p {
        SqlParam::Text(s) => DbValue::Text(s.clone()),
        SqlParam::Int(n) => DbValue::Integer(*n),
        SqlParam::Float(x) => DbValue::Real(*x),
        SqlParam::Bool(b) => DbValue::Integer(i64::from(*b)),
    }
}

/// The attribute columns a record's search attributes fill, by attribute.
fn attribute_columns(attrs: &SearchAttributes) -> Vec<(String, String, T)> {
    let mut cols: Vec<(String, String, T)> = attrs
        .custom()
        .map(|c| (c.name.clone(), c.field.clone().unwrap(), c.ty))
        .collect();
    cols.push((
        "TemporalNamespaceDivision".into(),
        "TemporalNamespaceDivision".into(),
        T::Keyword,
    ));
    cols.push((
        "TemporalChangeVersion".into(),
        "TemporalChangeVersion".into(),
        T::KeywordList,
    ));
    cols
}

fn insert(c: &Connection, attrs: &SearchAttributes, ns: &str, r: &RecordValues) {
    let d = Dialect::Sqlite;
    let time = |t: Option<Timestamp>| t.map(|t| SqlParam::Text(sql::datetime_text(d, t)));
    let mut names = vec![
        "namespace_id",
        "run_id",
        "workflow_id",
        "workflow_type_name",
        "status",
        "start_time",
        "execution_time",
        "close_time",
        "history_length",
        "execution_duration",
        "search_attributes",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect::<Vec<_>>();
    let mut values: Vec<Option<SqlParam>> = vec![
        Some(SqlParam::Text(ns.into())),
        Some(SqlParam::Text(r.run_id.clone())),
        Some(SqlParam::Text(r.workflow_id.clone())),
        Some(SqlParam::Text(r.workflow_type.clone())),
        Some(SqlParam::Int(i64::from(r.status.as_i32()))),
        time(r.start_time),
        time(r.execution_time),
        time(r.close_time),
        r.history_length.map(SqlParam::Int),
        r.execution_duration.map(SqlParam::Int),
        Some(SqlParam::Text("{}".into())),
    ];
    for (name, col, ty) in attribute_columns(attrs) {
        names.push(col);
        values.push(
            r.search_attribute(&name)
                .and_then(|raw| sql::column_value(d, ty, raw)),
        );
    }
    let marks: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
    let text = format!(
        "INSERT INTO executions_visibility ({}) VALUES ({})",
        names.join(", "),
        marks.join(", ")
    );
    let params: Vec<DbValue> = values
        .iter()
        .map(|v| v.as_ref().map_or(DbValue::Null, db_value))
        .collect();
    c.execute(&text, rusqlite::params_from_iter(params))
        .unwrap_or_else(|e| panic!("{e}: {text}"));
}

fn run(c: &Connection, st: &SqlStatement) -> Vec<Vec<DbValue>> {
    let mut stmt = c
        .prepare(&st.sql)
        .unwrap_or_else(|e| panic!("{e}: {}", st.sql));
    let n = stmt.column_count();
    let params: Vec<DbValue> = st.params.iter().map(db_value).collect();
    stmt.query_map(rusqlite::params_from_iter(params), |row| {
        (0..n).map(|i| row.get::<_, DbValue>(i)).collect()
    })
    .unwrap_or_else(|e| panic!("{e}: {}", st.sql))
    .collect::<Result<_, _>>()
    .unwrap()
}

/// Every page of `list` (page size `page`), as run IDs.
fn list_all(
    c: &Connection,
    q: &CheckedQuery,
    attrs: &SearchAttributes,
    by_run: &BTreeMap<String, RecordValues>,
    page: u32,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut after: Option<PageKey> = None;
    loop {
        let st = sql::list(q, attrs, Dialect::Sqlite, NS, after.as_ref(), page).unwrap();
        let rows = run(c, &st);
        for row in &rows {
            let DbValue::Text(run_id) = &row[1] else {
                panic!("run_id {row:?}")
            };
            out.push(run_id.clone());
        }
        if rows.len() < page as usize {
            return out;
        }
        let last = &by_run[out.last().unwrap()];
        after = Some(PageKey {
            close_time: last.close_time,
            start_time: last.start_time.unwrap(),
            run_id: last.run_id.clone(),
            workflow_id: last.workflow_id.clone(),
        });
    }
}

/// What the store should return: the evaluator's matches outside any
/// division (unless the filter names it), in the evaluator's order.
fn expected(q: &CheckedQuery, filter: &str, records: &[RecordValues]) -> Vec<String> {
    let mut m: Vec<&RecordValues> = records
        .iter()
        .filter(|r| {
            filter.contains("TemporalNamespaceDivision")
                || r.search_attribute("TemporalNamespaceDivision").is_none()
        })
        .filter(|r| q.matches(*r))
        .collect();
    m.sort_by(|a, b| q.compare(*a, *b));
    m.into_iter().map(|r| r.run_id.clone()).collect()
}

#[test]
fn schema_runs_for_several_layouts() {
    for layout in [
        FieldLayout::empty(),
        FieldLayout::temporal_sql(),
        FieldLayout::empty()
            .with_limit(T::Keyword, 99)
            .with_limit(T::Text, 5),
    ] {
        let c = Connection::open_in_memory().unwrap();
        for _ in 0..2 {
            for ddl in Dialect::Sqlite.schema(&layout) {
                c.execute_batch(&ddl)
                    .unwrap_or_else(|e| panic!("{e}: {ddl}"));
            }
        }
    }
}

// ---- generated records and filters ----

const WORDS: &[&str] = &[
    "a", "A", "a ", "ab", "b", "é", "a_b", "a%", "", "b\0c", "zz", "a\\", "a\\%", "a!", "a'", "a\t",
];
const PHRASES: &[&str] = &[
    "hello world",
    "Hello",
    "order-processing v2",
    "",
    "it's a_b",
    "WORLD peace",
];
/// Microsecond-aligned instants (a store floors to microseconds on write).
const TIMES: &[&str] = &[
    "2024-01-01T00:00:00Z",
    "2024-01-01T00:00:00.000001Z",
    "2024-01-01T10:30:00.5Z",
    "2024-01-02T00:00:00Z",
    "1999-12-31T23:59:59.999999Z",
];

fn word() -> impl Strategy<Value = String> {
    prop::sample::select(WORDS).prop_map(str::to_owned)
}

fn time() -> impl Strategy<Value = Timestamp> {
    prop::sample::select(TIMES).prop_map(|t| t.parse().unwrap())
}

fn record(i: usize) -> impl Strategy<Value = RecordValues> {
    let attr = |name: &'static str, s: BoxedStrategy<String>| {
        prop::option::weighted(0.7, s).prop_map(move |v| (name, v))
    };
    (
        (
            word(),
            word(),
            prop::sample::select(&ExecutionStatus::ALL[..]),
        ),
        (time(), prop::option::of(time()), prop::option::of(time())),
        (
            prop::option::of(-2i64..4),
            prop::option::of(prop_oneof![Just(0i64), Just(3_600_000_000_000), Just(-1)]),
        ),
        (
            attr("Region", word().boxed()),
            attr(
                "Tags",
                prop::collection::vec(word(), 0..3)
                    .prop_map(|v| format!("{v:?}").replace("\\0", "\\u0000"))
                    .boxed(),
            ),
            attr(
                "Notes",
                prop::sample::select(PHRASES)
                    .prop_map(str::to_owned)
                    .boxed(),
            ),
            attr(
                "Amount",
                prop::sample::select(&["1", "2.5", "-0.5", "x", "3"][..])
                    .prop_map(str::to_owned)
                    .boxed(),
            ),
            attr(
                "Count",
                prop::sample::select(&["1", "2", "-7", "x"][..])
                    .prop_map(str::to_owned)
                    .boxed(),
            ),
            attr(
                "Flag",
                prop::sample::select(&["true", "false", "maybe"][..])
                    .prop_map(str::to_owned)
                    .boxed(),
            ),
            attr(
                "Due",
                prop_oneof![time().prop_map(|t| t.to_string()), Just("soon".to_owned())].boxed(),
            ),
            prop::option::weighted(
                0.15,
                Just(("TemporalNamespaceDivision", Some("d".to_owned()))),
            )
            .prop_map(|o| o.unwrap_or(("TemporalNamespaceDivision", None))),
        ),
    )
        .prop_map(
            move |((wf, ty, status), (start, exec, close), (hl, dur), attrs)| {
                let mut r = RecordValues::new(wf, format!("run-{i:03}"), ty)
                    .with_status(status)
                    .with_start_time(start);
                r.execution_time = exec;
                r.close_time = close;
                r.history_length = hl;
                r.execution_duration = dur;
                let (a, b, c, d, e, f, g, h) = attrs;
                for (name, v) in [a, b, c, d, e, f, g, h] {
                    if let Some(v) = v {
                        r = r.with_attribute(name, v);
                    }
                }
                r
            },
        )
}

/// A filter-language string literal.
fn lit(s: &str) -> String {
    visibility_query::Value::String(s.to_owned()).to_string()
}

/// A literal time with a possible sub-microsecond part.
fn time_lit() -> impl Strategy<Value = String> {
    (
        time(),
        prop_oneof![Just(0i64), Just(1), Just(999), Just(-1), Just(500)],
    )
        .prop_map(|(t, ns)| lit(&(t + jiff::SignedDuration::from_nanos(ns)).to_string()))
}

fn op() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&["=", "!=", "<", "<=", ">", ">="][..])
}

fn leaf() -> impl Strategy<Value = String> {
    let kw = prop::sample::select(&["WorkflowId", "WorkflowType", "Region"][..]);
    let tm = prop::sample::select(&["StartTime", "CloseTime", "ExecutionTime", "Due"][..]);
    let num = prop::sample::select(&["HistoryLength", "Amount", "Count", "ExecutionDuration"][..]);
    let numlit =
        prop::sample::select(&["1", "2", "2.5", "-1", "0", "3", "0.5", "3600000000000"][..]);
    let status = prop::sample::select(
        &[
            "Running",
            "Completed",
            "Failed",
            "Paused",
            "Unspecified",
            "TimedOut",
        ][..],
    );
    prop_oneof![
        (kw.clone(), op(), word()).prop_map(|(n, o, v)| format!("{n} {o} {}", lit(&v))),
        (
            kw.clone(),
            prop::collection::vec(word(), 1..3),
            any::<bool>()
        )
            .prop_map(|(n, v, neg)| {
                let l: Vec<String> = v.iter().map(|s| lit(s)).collect();
                format!("{n} {}IN ({})", if neg { "NOT " } else { "" }, l.join(", "))
            }),
        (kw.clone(), word(), any::<bool>()).prop_map(|(n, v, neg)| format!(
            "{n} {}STARTS_WITH {}",
            if neg { "NOT " } else { "" },
            lit(&v)
        )),
        (kw.clone(), word(), word(), any::<bool>()).prop_map(|(n, a, b, neg)| format!(
            "{n} {}BETWEEN {} AND {}",
            if neg { "NOT " } else { "" },
            lit(&a),
            lit(&b)
        )),
        (tm.clone(), op(), time_lit()).prop_map(|(n, o, v)| format!("{n} {o} {v}")),
        (tm.clone(), time_lit(), time_lit(), any::<bool>()).prop_map(|(n, a, b, neg)| format!(
            "{n} {}BETWEEN {a} AND {b}",
            if neg { "NOT " } else { "" }
        )),
        (tm.clone(), prop::collection::vec(time_lit(), 1..3))
            .prop_map(|(n, v)| format!("{n} IN ({})", v.join(", "))),
        (
            prop::sample::select(&["StartTime", "CloseTime"][..]),
            time_lit(),
            prop::sample::select(&["Day", "Hour", "Second"][..])
        )
            .prop_map(|(n, t, p)| format!("{n} = {t} AND SearchPrecision = '{p}'")),
        (num.clone(), op(), numlit.clone()).prop_map(|(n, o, v)| format!("{n} {o} {v}")),
        (
            num.clone(),
            prop::collection::vec(numlit.clone(), 1..3),
            any::<bool>()
        )
            .prop_map(|(n, v, neg)| format!(
                "{n} {}IN ({})",
                if neg { "NOT " } else { "" },
                v.join(", ")
            )),
        (num, numlit.clone(), numlit).prop_map(|(n, a, b)| format!("{n} BETWEEN {a} AND {b}")),
        (op(), status.clone()).prop_map(|(o, s)| format!("ExecutionStatus {o} '{s}'")),
        (status.clone(), status)
            .prop_map(|(a, b)| format!("ExecutionStatus BETWEEN '{a}' AND '{b}'")),
        prop::sample::select(&["C", "T", "Run", ""][..])
            .prop_map(|p| format!("ExecutionStatus STARTS_WITH '{p}'")),
        (prop::sample::select(&["=", "!="][..]), word())
            .prop_map(|(o, v)| format!("Tags {o} {}", lit(&v))),
        (prop::collection::vec(word(), 1..3), any::<bool>()).prop_map(|(v, neg)| {
            let l: Vec<String> = v.iter().map(|s| lit(s)).collect();
            format!(
                "Tags {}IN ({})",
                if neg { "NOT " } else { "" },
                l.join(", ")
            )
        }),
        (
            prop::sample::select(&["=", "!="][..]),
            prop::sample::select(&["hello", "world peace", "V2 ORDER", "it's", "a_b"][..])
        )
            .prop_map(|(o, v)| format!("Notes {o} {}", lit(v))),
        (op(), any::<bool>()).prop_map(|(o, b)| format!("Flag {o} {b}")),
        (
            prop::sample::select(
                &[
                    "Region",
                    "Tags",
                    "Notes",
                    "Amount",
                    "Count",
                    "Flag",
                    "Due",
                    "CloseTime",
                    "TaskQueue",
                    "TemporalNamespaceDivision",
                    "HistoryLength"
                ][..]
            ),
            any::<bool>()
        )
            .prop_map(|(n, neg)| format!("{n} IS {}NULL", if neg { "NOT " } else { "" })),
        Just("TaskQueue = 'q'".to_owned()),
        Just("TemporalNamespaceDivision = 'd'".to_owned()),
    ]
}

fn filter() -> impl Strategy<Value = String> {
    leaf().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4)
                .prop_map(|v| format!("({})", v.join(" AND "))),
            prop::collection::vec(inner.clone(), 2..4)
                .prop_map(|v| format!("({})", v.join(" OR "))),
            inner.prop_map(|f| format!("NOT ({f})")),
        ]
    })
}

fn records() -> impl Strategy<Value = Vec<RecordValues>> {
    (0usize..24).prop_flat_map(|n| (0..n).map(record).collect::<Vec<_>>())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn sqlite_returns_what_the_evaluator_matches(records in records(), filters in prop::collection::vec(filter(), 8)) {
        let attrs = attrs();
        let c = db(&attrs);
        let mut by_run = BTreeMap::new();
        for r in &records {
            insert(&c, &attrs, NS, r);
            // The same rows in another namespace must never show.
            insert(&c, &attrs, "other", r);
            by_run.insert(r.run_id.clone(), r.clone());
        }
        for f in &filters {
            // Some generated combinations are invalid (two SearchPrecisions).
            let Ok(q) = compile(f, &attrs) else { continue };
            let want = expected(&q, f, &records);
            for page in [3, 1000] {
                let got = list_all(&c, &q, &attrs, &by_run, page);
                if got != want {
                    let diff: Vec<&RecordValues> = want.iter().chain(&got).filter(|id| !(got.contains(id) && want.contains(id))).map(|id| &by_run[id]).collect();
                    let st = sql::list(&q, &attrs, Dialect::Sqlite, NS, None, page).unwrap();
                    prop_assert!(false, "{f} (page {page})\n got {got:?}\nwant {want:?}\ndiff {diff:?}\n{}\n{:?}", st.sql, st.params);
                }
            }
            let n = run(&c, &sql::count(&q, &attrs, Dialect::Sqlite, NS).unwrap());
            prop_assert_eq!(&n[0][0], &DbValue::Integer(want.len() as i64), "count {}", f);

            let grouped = compile(&format!("{f} GROUP BY ExecutionStatus"), &attrs).unwrap();
            let rows = run(&c, &sql::count(&grouped, &attrs, Dialect::Sqlite, NS).unwrap());
            let mut got = BTreeMap::new();
            for row in rows {
                let (DbValue::Integer(s), DbValue::Integer(n)) = (&row[0], &row[1]) else { panic!("{row:?}") };
                got.insert(*s, *n);
            }
            let mut want_groups = BTreeMap::new();
            for id in &want {
                *want_groups.entry(i64::from(by_run[id].status.as_i32())).or_insert(0) += 1;
            }
            prop_assert_eq!(got, want_groups, "group by {}", f);
        }
    }
}

/// Every valid filter of the shared case table translates for every dialect
/// (or is refused as NotSupported: ORDER BY, GROUP BY in a list), and the
/// SQLite statements run.
#[test]
fn shared_cases_translate_and_run() {
    let layout = T::ALL
        .into_iter()
        .fold(FieldLayout::empty(), |l, ty| l.with_limit(ty, 20));
    let mut a = SearchAttributes::new().with_field_layout(layout.clone());
    for (ty, n) in T::ALL.map(|ty| (ty, FieldLayout::temporal_sql().limit(ty))) {
        for i in 1..=n {
            a = a.with_custom(format!("AliasFor{ty}{i:02}"), ty);
        }
    }
    for (name, ty) in ES_ATTRIBUTES
        .into_iter()
        .chain([("Description", T::Keyword)])
    {
        a = a.with_custom(name, ty);
    }
    let c = Connection::open_in_memory().unwrap();
    for ddl in Dialect::Sqlite.schema(&layout) {
        c.execute_batch(&ddl).unwrap();
    }
    let mut ran = 0;
    for case in cases() {
        let query = case.query.as_str();
        let Ok(q) = compile(query, &a) else { continue };
        for d in [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql] {
            for st in [
                sql::list(&q, &a, d, NS, None, 10),
                sql::count(&q, &a, d, NS),
            ] {
                match st {
                    Ok(st) if d == Dialect::Sqlite => {
                        run(&c, &st);
                        ran += 1;
                    }
                    Ok(_) => {}
                    Err(sql::SqlError::NotSupported(why)) => assert!(
                        why.contains("ORDER BY") || why.contains("GROUP BY"),
                        "{query}: {why}"
                    ),
                    Err(e) => panic!("{query}: {e}"),
                }
            }
        }
    }
    assert!(ran > 200, "only {ran} statements ran");
}
