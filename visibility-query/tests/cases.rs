//! Runs every case of `tests/data/list-filter-cases.jsonl` (Temporal's own
//! tests, docs and parser experiments) against this crate.
//!
//! `context` names the implementation and attribute set a case assumes. The
//! crate implements the unified converter's semantics (Temporal's
//! newer converter: one front end for every store, strict value types), so cases of
//! the legacy Elasticsearch converter's stub tests, which do no name or value
//! checks, are held to the parser only. Where we knowingly differ, the case is
//! listed in `DISAGREE` with the reason, and the test checks we still differ.

use visibility_query::testing::{CHASM_ATTRIBUTES, Case, ES_ATTRIBUTES, cases};
use visibility_query::{
    FieldLayout, QueryErrorKind as K, RecordValues, SearchAttributeType as T, SearchAttributes,
    compile, parse,
};

/// Cases where this crate deliberately differs, with why.
const DISAGREE: &[(usize, &str)] = &[
    (
        29,
        "scheduler archetype alias TemporalSystemExecutionStatus: no CHASM archetypes here; Temporal-prefixed names cannot be custom",
    ),
    (
        75,
        "legacy SQL skips Bool value checks; we apply the unified converter's (a Bool needs TRUE/FALSE)",
    ),
    (
        126,
        "ORDER BY disabled by a store's dynamic config is a store policy, not the language",
    ),
    (
        141,
        "legacy ES does not validate ExecutionStatus strings; we do (unified converter): '100' is no status",
    ),
    (
        158,
        "ActivityType exists only for the CHASM activity archetype; here it is an unknown attribute (invalid_expression)",
    ),
    (
        161,
        "schedule listing forbids ExecutionDuration: a store policy, not the language",
    ),
    (
        168,
        "the scheduler rewrites GROUP BY TemporalSchedulePaused; plain GROUP BY allows ExecutionStatus, TemporalNamespaceDivision, TemporalLowCardinalityKeyword*",
    ),
    (
        193,
        "the filestore archiver refuses OR; we accept the whole language (a superset of every archiver dialect)",
    ),
    (
        210,
        "the s3 archiver refuses WorkflowId together with WorkflowTypeName; we accept the conjunction",
    ),
    (211, "the s3 archiver cannot filter on RunId alone; we can"),
    (
        215,
        "the s3 archiver refuses OR; we accept the whole language",
    ),
    (
        253,
        "Temporal silently drops HAVING; dropping a condition widens results, so we refuse it (issue #3)",
    ),
    (
        261,
        "the old archivers accept lower-case status names ('continuedasnew', 'timed_out'), so 'running' is accepted too",
    ),
];

fn sql_test_attrs() -> SearchAttributes {
    let mut a = SearchAttributes::new();
    for (ty, n) in T::ALL.map(|ty| (ty, FieldLayout::temporal_sql().limit(ty))) {
        for i in 1..=n {
            let field = format!("{ty}{i:02}");
            a = a
                .with_custom(format!("AliasFor{field}"), ty)
                .with_custom(format!("AliasWithHyphenFor-{field}"), ty)
                .with_custom(field, ty);
        }
    }
    a
}

fn es_test_attrs(mapper: bool) -> SearchAttributes {
    let mut a = SearchAttributes::new();
    for (name, ty) in ES_ATTRIBUTES {
        a = a.with_custom(name, ty);
        if mapper {
            a = a.with_custom(format!("AliasFor{name}"), ty);
        }
    }
    a
}

fn with_chasm(mut a: SearchAttributes) -> SearchAttributes {
    for (name, ty) in CHASM_ATTRIBUTES {
        a = a.with_custom(name, ty);
    }
    a
}

enum Mode {
    ParseOnly,
    Compile(SearchAttributes),
}

fn mode(context: &str) -> Mode {
    if context.starts_with("legacy-es/stub") {
        return Mode::ParseOnly;
    }
    let mut a = if context.contains("sqltest") {
        sql_test_attrs()
    } else if context.contains("estest")
        || context.starts_with("functional")
        || context.starts_with("scheduler")
        || context.starts_with("unified-es store")
    {
        es_test_attrs(context.contains("TestMapper"))
    } else if context == "docs" {
        SearchAttributes::new().with_custom("Description", T::Keyword)
    } else {
        SearchAttributes::new()
    };
    if context.contains("chasm") {
        a = with_chasm(a);
    }
    Mode::Compile(a)
}

fn kinds_for(category: &str) -> &'static [K] {
    match category {
        "malformed" => &[K::Malformed, K::TooComplex],
        "not_supported" => &[K::NotSupported, K::OperatorNotAllowed],
        "invalid_expression" => &[
            K::InvalidExpression,
            K::InvalidValue,
            K::UnknownSearchAttribute,
            K::OperatorNotAllowed,
        ],
        "invalid_value" => &[K::InvalidValue],
        "invalid_search_attribute" => &[K::UnknownSearchAttribute],
        "not_allowed_operator" => &[K::OperatorNotAllowed, K::NotSupported],
        _ => &[
            K::Malformed,
            K::NotSupported,
            K::InvalidExpression,
            K::InvalidValue,
            K::UnknownSearchAttribute,
            K::OperatorNotAllowed,
            K::TooComplex,
        ],
    }
}

fn record_of(m: &serde_json::Map<String, serde_json::Value>) -> RecordValues {
    let s = |k: &str| {
        m.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let mut r = RecordValues::new(s("WorkflowId"), s("RunId"), s("WorkflowType"));
    r.status = s("ExecutionStatus").parse().unwrap();
    r.start_time = m
        .get("StartTime")
        .and_then(|v| v.as_str())
        .map(|t| t.parse().unwrap());
    r
}

/// `Ok(())` when we agree with the case, else a description.
fn run(i: usize, c: &Case) -> Result<(), String> {
    let result = match mode(&c.context) {
        Mode::ParseOnly => parse(&c.query).map(|_| None),
        Mode::Compile(attrs) => compile(&c.query, &attrs).map(Some),
    };
    match (&result, c.valid) {
        (Ok(q), true) => {
            if let (Some(q), Some(rec), Some(want)) = (q, &c.record, c.expected_match) {
                let got = q.matches(&record_of(rec));
                if got != want {
                    return Err(format!("case {i}: matches = {got}, want {want}"));
                }
            }
            Ok(())
        }
        (Err(e), false) => {
            let cat = c.error_category.as_deref().unwrap_or("rejected");
            if kinds_for(cat).contains(&e.kind()) {
                Ok(())
            } else {
                Err(format!(
                    "case {i}: category {cat}, got {:?}: {}",
                    e.kind(),
                    e.message()
                ))
            }
        }
        (Ok(_), false) => Err(format!(
            "case {i}: accepted, want rejected ({:?})",
            c.error_category
        )),
        (Err(e), true) => Err(format!("case {i}: rejected, want accepted: {e}")),
    }
}

#[test]
fn every_case() {
    let cases = cases();
    assert_eq!(cases.len(), 268);
    let mut failures = vec![];
    let mut agreed = 0;
    for (i, c) in cases.iter().enumerate() {
        let outcome = run(i, c);
        let disagreed = DISAGREE.iter().any(|&(n, _)| n == i);
        match (outcome, disagreed) {
            (Ok(()), false) => agreed += 1,
            (Err(_), true) => {}
            (Err(e), false) => failures.push(e),
            (Ok(()), true) => failures.push(format!("case {i}: listed in DISAGREE but now agrees")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(agreed + DISAGREE.len(), cases.len());
}
