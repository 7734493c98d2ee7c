//! Golden SQL per dialect for representative filters (Temporal's SQL
//! translation, with bind parameters for values): the text a store runs is readable and stable.

use visibility_query::sql::{self, Dialect, PageKey, SqlError, SqlParam};
use visibility_query::{FieldLayout, SearchAttributeType as T, SearchAttributes, compile};

fn attrs() -> SearchAttributes {
    SearchAttributes::new()
        .with_field_layout(FieldLayout::temporal_sql())
        .with_custom("AliasForKeyword01", T::Keyword)
        .with_custom("AliasForInt01", T::Int)
        .with_custom("Tags", T::KeywordList)
        .with_custom("Notes", T::Text)
        .with_custom("Amount", T::Double)
        .with_custom("Flag", T::Bool)
        .with_custom("Due", T::Datetime)
}

/// The WHERE clause after the namespace (and division) scoping.
fn filter_sql(filter: &str, d: Dialect) -> (String, Vec<SqlParam>) {
    let a = attrs();
    let q = compile(filter, &a).unwrap();
    let st = sql::count(&q, &a, d, "ns").unwrap();
    let head = format!(
        "SELECT COUNT(*) AS row_count FROM executions_visibility WHERE namespace_id = {}",
        match d {
            Dialect::Sqlite => "?1",
            Dialect::Postgres => "$1::text",
            Dialect::MySql => "?",
        }
    );
    let rest = st
        .sql
        .strip_prefix(&head)
        .unwrap_or_else(|| panic!("{}", st.sql));
    assert_eq!(st.params[0], SqlParam::Text("ns".into()));
    (rest.to_owned(), st.params[1..].to_vec())
}

/// (filter, [SQLite, PostgreSQL, MySQL]): the WHERE clause after
/// `namespace_id = <param>`.
const GOLDEN: &[(&str, [&str; 3])] = &[
    (
        r#""#,
        [
            r#"TemporalNamespaceDivision IS NULL"#,
            r#"TemporalNamespaceDivision IS NULL"#,
            r#"TemporalNamespaceDivision IS NULL"#,
        ],
    ),
    (
        r#"AliasForKeyword01 = 'foo' and AliasForInt01 = 123"#,
        [
            r#"TemporalNamespaceDivision IS NULL AND Keyword01 = ?2 AND Int01 = ?3"#,
            r#"TemporalNamespaceDivision IS NULL AND Keyword01 = $2::text AND Int01 = $3::bigint"#,
            r#"TemporalNamespaceDivision IS NULL AND Keyword01 = ? AND Int01 = ?"#,
        ],
    ),
    (
        r#"WorkflowId = 'wf' OR WorkflowType != 't'"#,
        [
            r#"TemporalNamespaceDivision IS NULL AND (workflow_id = ?2 OR workflow_type_name != ?3)"#,
            r#"TemporalNamespaceDivision IS NULL AND (workflow_id = $2::text OR workflow_type_name != $3::text)"#,
            r#"TemporalNamespaceDivision IS NULL AND (workflow_id = ? OR workflow_type_name != ?)"#,
        ],
    ),
    (
        r#"ExecutionStatus = 'Running' OR ExecutionStatus > 'Failed'"#,
        [
            r#"TemporalNamespaceDivision IS NULL AND (status = ?2 OR status NOT IN (?3, ?4, ?5, ?6))"#,
            r#"TemporalNamespaceDivision IS NULL AND (status = $2::bigint OR status NOT IN ($3::bigint, $4::bigint, $5::bigint, $6::bigint))"#,
            r#"TemporalNamespaceDivision IS NULL AND (status = ? OR status NOT IN (?, ?, ?, ?))"#,
        ],
    ),
    (
        r#"AliasForKeyword01 STARTS_WITH 'eu_%' AND RunId NOT STARTS_WITH 'x'"#,
        [
            r#"TemporalNamespaceDivision IS NULL AND instr(CAST(Keyword01 AS BLOB), CAST(?2 AS BLOB)) = 1 AND instr(CAST(run_id AS BLOB), CAST(?3 AS BLOB)) != 1"#,
            r#"TemporalNamespaceDivision IS NULL AND Keyword01 LIKE $2::text ESCAPE '!' AND run_id NOT LIKE $3::text ESCAPE '!'"#,
            r#"TemporalNamespaceDivision IS NULL AND Keyword01 LIKE ? ESCAPE '!' AND run_id NOT LIKE ? ESCAPE '!'"#,
        ],
    ),
    (
        r#"Tags IN ('a', 'b') AND Notes != 'hello world'"#,
        [
            r#"TemporalNamespaceDivision IS NULL AND CASE WHEN KeywordList01 IS NULL THEN NULL ELSE EXISTS (SELECT 1 FROM json_each(executions_visibility.KeywordList01) AS j WHERE j.value IN (?2, ?3)) END AND NOT (CASE WHEN Text01 IS NULL THEN NULL ELSE EXISTS (SELECT 1 FROM json_each(executions_visibility.Text01) AS j WHERE j.value IN (?4, ?5)) END)"#,
            r#"TemporalNamespaceDivision IS NULL AND (KeywordList01 @> jsonb_build_array($2::text) OR KeywordList01 @> jsonb_build_array($3::text)) AND NOT (Text01 @> jsonb_build_array($4::text) OR Text01 @> jsonb_build_array($5::text))"#,
            r#"TemporalNamespaceDivision IS NULL AND JSON_OVERLAPS(KeywordList01, JSON_ARRAY(?, ?)) AND NOT (JSON_OVERLAPS(Text01, JSON_ARRAY(?, ?)))"#,
        ],
    ),
    (
        r#"Tags = 'a'"#,
        [
            r#"TemporalNamespaceDivision IS NULL AND CASE WHEN KeywordList01 IS NULL THEN NULL ELSE EXISTS (SELECT 1 FROM json_each(executions_visibility.KeywordList01) AS j WHERE j.value IN (?2)) END"#,
            r#"TemporalNamespaceDivision IS NULL AND KeywordList01 @> jsonb_build_array($2::text)"#,
            r#"TemporalNamespaceDivision IS NULL AND JSON_OVERLAPS(KeywordList01, JSON_ARRAY(?))"#,
        ],
    ),
    (
        r#"CloseTime BETWEEN '2024-01-01T00:00:00Z' AND '2024-01-02T00:00:00.0000005Z'"#,
        [
            r#"TemporalNamespaceDivision IS NULL AND (close_time >= ?2 AND close_time <= ?3) AND close_time_or_max >= ?4 AND close_time_or_max <= ?5"#,
            r#"TemporalNamespaceDivision IS NULL AND (close_time >= $2::timestamp AND close_time <= $3::timestamp) AND close_time_or_max >= $4::timestamp AND close_time_or_max <= $5::timestamp"#,
            r#"TemporalNamespaceDivision IS NULL AND (close_time >= CAST(? AS DATETIME(6)) AND close_time <= CAST(? AS DATETIME(6))) AND close_time_or_max >= CAST(? AS DATETIME(6)) AND close_time_or_max <= CAST(? AS DATETIME(6))"#,
        ],
    ),
    (
        r#"NOT (AliasForInt01 IN (1, 2.5)) AND Amount >= 3"#,
        [
            r#"TemporalNamespaceDivision IS NULL AND NOT ((Int01 IN (?2) OR CAST(Int01 AS REAL) IN (?3))) AND Double01 >= ?4"#,
            r#"TemporalNamespaceDivision IS NULL AND NOT ((Int01 IN ($2::bigint) OR CAST(Int01 AS DOUBLE PRECISION) IN ($3::double precision))) AND Double01 >= $4::double precision"#,
            r#"TemporalNamespaceDivision IS NULL AND NOT ((Int01 IN (?) OR CAST(Int01 AS DOUBLE) IN (?))) AND Double01 >= ?"#,
        ],
    ),
    (
        r#"TemporalNamespaceDivision = 'x' AND TaskQueue = 'q'"#,
        [
            r#"TemporalNamespaceDivision = ?2 AND NULL"#,
            r#"TemporalNamespaceDivision = $2::text AND CAST(NULL AS BOOLEAN)"#,
            r#"TemporalNamespaceDivision = ? AND NULL"#,
        ],
    ),
    (
        r#"StartTime = '2024-01-01T00:00:00.0000001Z' OR Due IS NOT NULL"#,
        [
            r#"TemporalNamespaceDivision IS NULL AND (CASE WHEN start_time IS NULL THEN NULL ELSE FALSE END OR Datetime01 IS NOT NULL)"#,
            r#"TemporalNamespaceDivision IS NULL AND (CASE WHEN start_time IS NULL THEN NULL ELSE FALSE END OR Datetime01 IS NOT NULL)"#,
            r#"TemporalNamespaceDivision IS NULL AND (CASE WHEN start_time IS NULL THEN NULL ELSE FALSE END OR Datetime01 IS NOT NULL)"#,
        ],
    ),
    (
        r#"Flag = true AND ExecutionDuration > '1h'"#,
        [
            r#"TemporalNamespaceDivision IS NULL AND Bool01 = ?2 AND execution_duration > ?3"#,
            r#"TemporalNamespaceDivision IS NULL AND Bool01 = $2::boolean AND execution_duration > $3::bigint"#,
            r#"TemporalNamespaceDivision IS NULL AND Bool01 = ? AND execution_duration > ?"#,
        ],
    ),
    (
        r#"CloseTime = '2020-02-05T11:00:00Z' AND SearchPrecision = 'Day'"#,
        [
            r#"TemporalNamespaceDivision IS NULL AND (close_time >= ?2 AND close_time < ?3) AND close_time_or_max >= ?4 AND close_time_or_max < ?5"#,
            r#"TemporalNamespaceDivision IS NULL AND (close_time >= $2::timestamp AND close_time < $3::timestamp) AND close_time_or_max >= $4::timestamp AND close_time_or_max < $5::timestamp"#,
            r#"TemporalNamespaceDivision IS NULL AND (close_time >= CAST(? AS DATETIME(6)) AND close_time < CAST(? AS DATETIME(6))) AND close_time_or_max >= CAST(? AS DATETIME(6)) AND close_time_or_max < CAST(? AS DATETIME(6))"#,
        ],
    ),
];

const DIALECTS: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql];

#[test]
fn filters_render_as_expected() {
    for (filter, want) in GOLDEN {
        for (d, want) in DIALECTS.iter().zip(want) {
            let (got, _) = filter_sql(filter, *d);
            assert_eq!(got.strip_prefix(" AND "), Some(*want), "{filter} on {d:?}");
        }
    }
}

/// The examples of Temporal's SQL translation tests, with the values as parameters.
#[test]
fn ref_example_binds_values() {
    let (_, params) = filter_sql(
        "AliasForKeyword01 = 'foo' and AliasForInt01 = 123",
        Dialect::Postgres,
    );
    assert_eq!(params, [SqlParam::Text("foo".into()), SqlParam::Int(123)]);
    let (_, params) = filter_sql("AliasForKeyword01 STARTS_WITH 'foo_bar%!'", Dialect::MySql);
    assert_eq!(params, [SqlParam::Text("foo!_bar!%!!%".into())]);
    let (_, params) = filter_sql(
        "CloseTime > '2020-02-15T20:30:40.123456789+01:00'",
        Dialect::Sqlite,
    );
    // The filter, then the same bound repeated for the order index.
    let t = SqlParam::Text("2020-02-15 19:30:40.123456+00:00".into());
    assert_eq!(params, [t.clone(), t]);
}

/// As in Temporal's SQL translation, aliases resolve to system columns (`ScheduleId` is
/// `workflow_id`); statuses bind as integers.
#[test]
fn aliases_and_statuses() {
    let (sql, params) = filter_sql(
        "ScheduleId = 'foo' AND ExecutionStatus != 'Completed'",
        Dialect::Sqlite,
    );
    assert_eq!(
        sql,
        " AND TemporalNamespaceDivision IS NULL AND workflow_id = ?2 AND status != ?3"
    );
    assert_eq!(params, [SqlParam::Text("foo".into()), SqlParam::Int(2)]);
    // A range over statuses compares names in the evaluator: the set is spelled out.
    let (sql, params) = filter_sql("ExecutionStatus < 'Completed'", Dialect::MySql);
    assert_eq!(sql, " AND TemporalNamespaceDivision IS NULL AND status = ?");
    assert_eq!(params, [SqlParam::Int(4)]); // only Canceled sorts before Completed
}

#[test]
fn list_statement() {
    let a = attrs();
    let q = compile("WorkflowType = 't'", &a).unwrap();
    let after = PageKey {
        close_time: None,
        start_time: "2024-01-01T00:00:00Z".parse().unwrap(),
        run_id: "r".into(),
        workflow_id: "w".into(),
    };
    let st = sql::list(&q, &a, Dialect::Sqlite, "ns", Some(&after), 10).unwrap();
    assert_eq!(
        st.sql,
        "SELECT workflow_id, run_id, workflow_type_name, status, start_time, execution_time, \
         close_time, history_length, execution_duration, search_attributes \
         FROM executions_visibility WHERE namespace_id = ?1 AND TemporalNamespaceDivision IS NULL \
         AND workflow_type_name = ?2 AND close_time_or_max <= ?3 AND (close_time_or_max < ?4 \
         OR (close_time_or_max = ?5 AND (start_time < ?6 OR (start_time = ?7 AND run_id > ?8)))) \
         ORDER BY close_time_or_max DESC, start_time DESC, run_id ASC LIMIT ?9"
    );
    let max = SqlParam::Text("9999-12-31 23:59:59.999999+00:00".into());
    assert_eq!(st.params[2..5], [max.clone(), max.clone(), max]);
    assert_eq!(st.params[8], SqlParam::Int(10));
    assert!(
        st.sql
            .starts_with(&format!("SELECT {} FROM", sql::ROW_COLUMNS.join(", ")))
    );

    let pg = sql::list(&q, &a, Dialect::Postgres, "ns", None, 10).unwrap();
    assert!(pg.sql.ends_with(" LIMIT $3::bigint"), "{}", pg.sql);
}

#[test]
fn count_statements() {
    let a = attrs();
    let q = compile("GROUP BY TemporalNamespaceDivision", &a).unwrap();
    let st = sql::count(&q, &a, Dialect::Postgres, "ns").unwrap();
    // Grouping by the division names it: no implicit division filter.
    assert_eq!(
        st.sql,
        "SELECT TemporalNamespaceDivision, COUNT(*) AS row_count FROM executions_visibility \
         WHERE namespace_id = $1::text GROUP BY TemporalNamespaceDivision"
    );
    let q = compile("ExecutionStatus = 'Running'", &a).unwrap();
    let st = sql::count(&q, &a, Dialect::Sqlite, "ns").unwrap();
    assert_eq!(
        st.sql,
        "SELECT COUNT(*) AS row_count FROM executions_visibility WHERE namespace_id = ?1 \
         AND TemporalNamespaceDivision IS NULL AND status = ?2"
    );
    assert_eq!(st.params[1], SqlParam::Int(1));
}

#[test]
fn rejected_constructs() {
    let a = attrs();
    let ordered = compile("WorkflowId = 'a' ORDER BY StartTime DESC", &a).unwrap();
    for d in DIALECTS {
        assert_eq!(
            sql::list(&ordered, &a, d, "ns", None, 1),
            Err(SqlError::NotSupported("'ORDER BY' clause".into()))
        );
        assert!(sql::count(&ordered, &a, d, "ns").is_err());
    }
    let grouped = compile("GROUP BY ExecutionStatus", &a).unwrap();
    assert!(sql::list(&grouped, &a, Dialect::Sqlite, "ns", None, 1).is_err());

    // A custom attribute the store has no field for.
    let plain = SearchAttributes::new().with_custom("Region", T::Keyword);
    let q = compile("Region = 'eu'", &plain).unwrap();
    let err = sql::list(&q, &plain, Dialect::Sqlite, "ns", None, 1).unwrap_err();
    assert_eq!(err, SqlError::NoField("Region".into()));
    assert!(err.to_string().contains("Region"));
}

/// PostgreSQL text holds no NUL: a literal with one is restated against the
/// values that can be stored.
#[test]
fn postgres_nul_literals() {
    let text = |s: &str| SqlParam::Text(s.into());
    let pg = |f: &str| filter_sql(f, Dialect::Postgres);
    let scoped = " AND TemporalNamespaceDivision IS NULL AND ";
    let never = |c: &str| format!("{scoped}CASE WHEN {c} IS NULL THEN NULL ELSE FALSE END");
    assert_eq!(
        pg("AliasForKeyword01 < 'ab\0c'"),
        (format!("{scoped}Keyword01 <= $2::text"), vec![text("ab")])
    );
    assert_eq!(
        pg("AliasForKeyword01 >= 'ab\0c'"),
        (format!("{scoped}Keyword01 > $2::text"), vec![text("ab")])
    );
    assert_eq!(
        pg("AliasForKeyword01 = 'ab\0c'"),
        (never("Keyword01"), vec![])
    );
    assert_eq!(
        pg("WorkflowId STARTS_WITH '\0'"),
        (never("workflow_id"), vec![])
    );
    assert_eq!(pg("Tags = 'x\0'"), (never("KeywordList01"), vec![]));
    assert_eq!(
        pg("AliasForKeyword01 NOT IN ('a\0', 'b')"),
        (
            format!("{scoped}Keyword01 NOT IN ($2::text)"),
            vec![text("b")]
        )
    );
    // The other engines store NUL and compare it like any character.
    assert_eq!(
        filter_sql("AliasForKeyword01 = 'ab\0c'", Dialect::Sqlite).1,
        [text("ab\0c")]
    );
}

#[test]
fn schema_has_every_field() {
    let layout = FieldLayout::empty()
        .with_limit(T::Keyword, 12)
        .with_limit(T::Text, 1);
    for d in DIALECTS {
        let ddl = d.schema(&layout).join(";\n");
        assert!(ddl.contains("Keyword12 "), "{ddl}");
        assert!(!ddl.contains("Keyword13"), "{ddl}");
        assert!(ddl.contains("Text01 "), "{ddl}");
        assert!(!ddl.contains("Int01"), "{ddl}");
        assert!(ddl.contains("TemporalNamespaceDivision "), "{ddl}");
        assert!(ddl.contains("close_time_or_max"), "{ddl}");
    }
}

/// What a store writes is what the evaluator reads, type by type.
#[test]
fn column_values() {
    use visibility_query::sql::column_value as cv;
    let text = |s: &str| Some(SqlParam::Text(s.into()));
    let d = Dialect::Sqlite;
    assert_eq!(cv(d, T::Keyword, ""), text(""));
    assert_eq!(cv(d, T::KeywordList, "plain"), text(r#"["plain"]"#));
    assert_eq!(
        cv(d, T::KeywordList, r#"["a\"b", "\u00e9\n"]"#),
        text(r#"["a\"b","é\n"]"#)
    );
    assert_eq!(cv(d, T::KeywordList, "[]"), text("[]"));
    assert_eq!(cv(d, T::Text, "  "), text("[]"));
    assert_eq!(cv(d, T::Double, "5"), Some(SqlParam::Float(5.0)));
    assert_eq!(cv(d, T::Double, " 2.5 "), Some(SqlParam::Float(2.5)));
    assert_eq!(cv(d, T::Double, "NaN"), None);
    assert_eq!(cv(d, T::Int, "-7"), Some(SqlParam::Int(-7)));
    assert_eq!(cv(d, T::Int, "5.5"), None);
    assert_eq!(cv(d, T::Bool, "False"), Some(SqlParam::Bool(false)));
    assert_eq!(cv(d, T::Bool, "maybe"), None);
    assert_eq!(
        cv(d, T::Datetime, "1700000000000000999"),
        text("2023-11-14 22:13:20.000000+00:00")
    );
    assert_eq!(
        cv(
            Dialect::Postgres,
            T::Datetime,
            "2024-02-29T23:59:59.9999999-01:00"
        ),
        text("2024-03-01 00:59:59.999999")
    );
    assert_eq!(cv(d, T::Datetime, "yesterday"), None);
}
