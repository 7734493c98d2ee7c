//! No value reaches SQL text: whatever a string holds (quotes, backslashes,
//! `%`, `_`, NUL, unicode, 4 KB), every dialect's statement text is the same
//! as for a plain value, it is ASCII, and it has one placeholder per parameter.

use proptest::prelude::*;
use visibility_query::sql::{self, Dialect, PageKey, SqlStatement};
use visibility_query::{FieldLayout, SearchAttributeType as T, SearchAttributes, Value, compile};

const DIALECTS: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql];

/// Filters with one string value, `{}`; Text is left out because its number
/// of tokens (so of parameters) depends on the value.
const TEMPLATES: &[&str] = &[
    "WorkflowId = {}",
    "WorkflowId != {}",
    "RunId < {}",
    "WorkflowType >= {}",
    "Region IN ({}, 'x')",
    "Region NOT IN ({})",
    "Region BETWEEN {} AND 'zzz'",
    "WorkflowId STARTS_WITH {}",
    "Region NOT STARTS_WITH {}",
    "Tags = {}",
    "Tags NOT IN ({}, 'y')",
    "BatcherUser = {} OR NOT (TemporalChangeVersion = {})",
];

fn attrs() -> SearchAttributes {
    SearchAttributes::new()
        .with_field_layout(FieldLayout::temporal_sql())
        .with_custom("Region", T::Keyword)
        .with_custom("Tags", T::KeywordList)
}

fn placeholders(d: Dialect, sql: &str) -> usize {
    match d {
        Dialect::Postgres => sql.matches('$').count(),
        Dialect::Sqlite | Dialect::MySql => sql.matches('?').count(),
    }
}

fn nasty() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "['\"\\\\%_!\\x00;`$?\\-/* \n\t]{0,12}",
        "[a'\\\\%_\\x00]{4000,4100}",
        Just("'; DROP TABLE executions_visibility; --".to_owned()),
        Just("\\' OR 1=1 --".to_owned()),
        Just("$1 ?1 ? :a @a".to_owned()),
        Just("é\u{0}😀\u{202e}".to_owned()),
    ]
}

fn check(
    st: &SqlStatement,
    plain: &SqlStatement,
    d: Dialect,
    nul_restated: bool,
) -> Result<(), TestCaseError> {
    prop_assert!(st.sql.is_ascii(), "{}", st.sql);
    prop_assert_eq!(placeholders(d, &st.sql), st.params.len(), "{}", st.sql);
    if !nul_restated {
        prop_assert_eq!(&st.sql, &plain.sql);
    }
    Ok(())
}

proptest! {
    #[test]
    fn values_never_reach_sql_text(v in nasty()) {
        let a = attrs();
        let v_lit = Value::String(v.clone()).to_string();
        for t in TEMPLATES {
            let q = compile(&t.replace("{}", &v_lit), &a).unwrap();
            let plain = compile(&t.replace("{}", "'v'"), &a).unwrap();
            for d in DIALECTS {
                // PostgreSQL restates a value with NUL (its text cannot hold one).
                let nul = d == Dialect::Postgres && v.contains('\0');
                let st = sql::list(&q, &a, d, "ns", None, 10).unwrap();
                check(&st, &sql::list(&plain, &a, d, "ns", None, 10).unwrap(), d, nul)?;
                let st = sql::count(&q, &a, d, "ns").unwrap();
                check(&st, &sql::count(&plain, &a, d, "ns").unwrap(), d, nul)?;
            }
        }
        // The namespace and a page key are values too.
        let q = compile("", &a).unwrap();
        let key = |s: &str| PageKey {
            close_time: None,
            start_time: "2024-01-01T00:00:00Z".parse().unwrap(),
            run_id: s.to_owned(),
            workflow_id: s.to_owned(),
        };
        for d in DIALECTS {
            let st = sql::list(&q, &a, d, &v, Some(&key(&v)), 10);
            if d == Dialect::Postgres && v.contains('\0') {
                prop_assert!(st.is_err());
                continue;
            }
            let plain = sql::list(&q, &a, d, "ns", Some(&key("v")), 10).unwrap();
            check(&st.unwrap(), &plain, d, false)?;
        }
    }
}
