//! One test per construct: syntax, errors, checking, evaluation, planning, dialects.

use std::cmp::Ordering;

use visibility_query::{
    ExecutionStatus as S, ListFilter, MAX_FILTER_LEN, QueryErrorKind as K, RecordValues,
    SearchAttributeType as T, SearchAttributes, Timestamp, compile, parse,
};

fn attrs() -> SearchAttributes {
    SearchAttributes::new()
        .with_custom("Kw", T::Keyword)
        .with_custom("Txt", T::Text)
        .with_custom("N", T::Int)
        .with_custom("D", T::Double)
        .with_custom("B", T::Bool)
        .with_custom("Dt", T::Datetime)
        .with_custom("L", T::KeywordList)
}

fn canon(s: &str) -> String {
    parse(s).unwrap_or_else(|e| panic!("{s}: {e}")).to_string()
}

fn kind(s: &str) -> K {
    compile(s, &attrs()).map(|_| ()).unwrap_err().kind()
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn rec() -> RecordValues {
    RecordValues::new("wf-1", "run-1", "Payment")
        .with_status(S::Completed)
        .with_start_time(t("2024-01-01T10:00:00Z"))
        .with_close_time(t("2024-01-01T11:00:00Z"))
        .with_attribute("Kw", "order-7")
        .with_attribute("Txt", "Nothing else matters")
        .with_attribute("N", "42")
        .with_attribute("D", "2.5")
        .with_attribute("B", "true")
        .with_attribute("Dt", "2024-01-01T10:00:00.5Z")
        .with_attribute("L", r#"["red","green"]"#)
}

fn matches(s: &str) -> bool {
    compile(s, &attrs())
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .matches(&rec())
}

#[test]
fn precedence_and_parentheses() {
    assert_eq!(
        canon("a = 1 or b = 2 and c = 3"),
        "a = 1 OR b = 2 AND c = 3"
    );
    assert_eq!(
        canon("(a = 1 or b = 2) and c = 3"),
        "(a = 1 OR b = 2) AND c = 3"
    );
    assert_eq!(canon("not a = 1 and b = 2"), "NOT a = 1 AND b = 2");
    assert_eq!(canon("not (a = 1 and b = 2)"), "NOT (a = 1 AND b = 2)");
    assert_eq!(
        canon("x between 1 and 2 or y = 3"),
        "x BETWEEN 1 AND 2 OR y = 3"
    );
    assert_eq!(canon("a = 1 && b = 2 || c = 3"), "a = 1 AND b = 2 OR c = 3");
    assert_eq!(canon("((a = 1))"), "a = 1");
    assert_eq!(
        canon("(a = 1 and b = 2) and c = 3"),
        "(a = 1 AND b = 2) AND c = 3"
    );
}

#[test]
fn operators() {
    assert_eq!(canon("a<>1"), "a != 1");
    for op in ["=", "!=", "<", "<=", ">", ">="] {
        assert_eq!(canon(&format!("a {op} 'x'")), format!("a {op} 'x'"));
    }
    assert_eq!(canon("a not in ('x',\"y\")"), "a NOT IN ('x', 'y')");
    assert_eq!(canon("a NOT BETWEEN 1 AND 2"), "a NOT BETWEEN 1 AND 2");
    assert_eq!(canon("a not starts_with 'p'"), "a NOT STARTS_WITH 'p'");
    assert_eq!(canon("a is not null"), "a IS NOT NULL");
    assert_eq!(canon("a iS NuLl"), "a IS NULL");
}

#[test]
fn literals() {
    assert_eq!(canon("a = 'it''s'"), "a = 'it''s'");
    assert_eq!(canon(r#"a = "say \"hi\"""#), "a = 'say \"hi\"'");
    assert_eq!(canon(r"a = 'back\\slash\n'"), "a = 'back\\\\slash\n'");
    assert_eq!(canon("a = 00012"), "a = 12");
    assert_eq!(canon("a = - 5"), "a = -5");
    assert_eq!(canon("a = +3"), "a = 3");
    assert_eq!(canon("a = 1.50"), "a = 1.5");
    assert_eq!(canon("a = 1e3"), "a = 1000.0");
    assert_eq!(canon("a = .5E-1"), "a = 0.05");
    assert_eq!(canon("a = True"), "a = TRUE");
    assert_eq!(canon("a = 9223372036854775808"), "a = 9.223372036854776e18");
    assert_eq!(
        canon("a = -9223372036854775808"),
        "a = -9223372036854775808"
    );
}

#[test]
fn names_and_comments() {
    assert_eq!(canon("`order` = 1"), "`order` = 1");
    assert_eq!(canon("`a``b` = 1"), "`a``b` = 1");
    assert_eq!(canon("`my attr` = 1"), "`my attr` = 1");
    assert_eq!(canon("t.WorkflowId = 1"), "`t.WorkflowId` = 1");
    assert_eq!(
        canon("a = 1 -- c\n and /* x */ b = 2 # y"),
        "a = 1 AND b = 2"
    );
    assert_eq!(canon("a = 1;"), "a = 1");
    assert_eq!(canon("   "), "");
    assert_eq!(canon("order by a, b desc"), "ORDER BY a, b DESC");
    assert_eq!(
        canon("a = 1 group by ExecutionStatus"),
        "a = 1 GROUP BY ExecutionStatus"
    );
}

#[test]
fn syntax_errors_have_positions() {
    let e = parse("a = 1 AND\n  b = = 2").unwrap_err();
    assert_eq!(e.kind(), K::Malformed);
    assert_eq!((e.offset(), e.line(), e.column()), (16, 2, 7));
    assert!(e.to_string().ends_with("\n    b = = 2\n        ^"), "{e}");
    for bad in [
        "a == 1",
        "a IN ()",
        "a IN (1,)",
        "'a' 'b'",
        "a = 'x",
        "WHERE a = 1",
        "select 1",
        "a = 1; b = 2",
        "order = 1",
        "a = 1 order by b group by c",
    ] {
        assert_eq!(parse(bad).unwrap_err().kind(), K::Malformed, "{bad}");
    }
}

#[test]
fn refusals_are_explained() {
    for (q, k) in [
        ("a LIKE 'x%'", K::NotSupported),
        ("a = f(1)", K::NotSupported),
        ("a = 1 LIMIT 10", K::NotSupported),
        ("a = 1 HAVING b = 1", K::NotSupported),
        ("a = 1 UNION select 1", K::NotSupported),
        ("a = 1 FOR UPDATE", K::NotSupported),
        ("group by a, b", K::NotSupported),
        ("group by a order by b", K::NotSupported),
        ("a = b", K::NotSupported),
        ("1 = a", K::InvalidExpression),
        ("a = -1.5", K::InvalidExpression),
        ("a = 1 + 2", K::InvalidExpression),
        ("a = NULL", K::InvalidExpression),
        ("a IS TRUE", K::InvalidExpression),
        ("a", K::InvalidExpression),
        ("TRUE", K::NotSupported),
        ("a = ?", K::InvalidExpression),
        ("a = 0x1F", K::InvalidExpression),
    ] {
        let e = parse(q).unwrap_err();
        assert_eq!(e.kind(), k, "{q}: {e}");
    }
    // A later syntax error wins over an earlier refusal, as in Temporal.
    assert_eq!(
        parse("a LIKE 'x' AND AND").unwrap_err().kind(),
        K::Malformed
    );
}

#[test]
fn limits() {
    let deep = format!("{}a = 1{}", "(".repeat(199), ")".repeat(199));
    assert!(parse(&deep).is_ok());
    let too_deep = format!("{}a = 1{}", "(".repeat(100_000), ")".repeat(100_000));
    assert_eq!(parse(&too_deep).unwrap_err().kind(), K::TooComplex);
    let nots = format!("{}a = 1", "NOT ".repeat(100_000));
    assert_eq!(parse(&nots).unwrap_err().kind(), K::TooComplex);
    let minus = format!("a = {}1.5", "-".repeat(1000).replace("--", "- -"));
    assert!(parse(&minus).is_err());
    let big = "a = 1 OR ".repeat(MAX_FILTER_LEN / 9 + 1);
    assert_eq!(parse(&big).unwrap_err().kind(), K::TooComplex);
    // A long flat chain is fine: AND/OR chains do not nest.
    let chain = format!("a = 1{}", " OR a = 1".repeat(50_000));
    assert!(compile(&chain, &SearchAttributes::new().with_custom("a", T::Int)).is_ok());
}

#[test]
fn checking() {
    assert_eq!(kind("Nope = 1"), K::UnknownSearchAttribute);
    assert_eq!(kind("workflowid = 'a'"), K::UnknownSearchAttribute);
    assert_eq!(kind("N = 'x'"), K::InvalidValue);
    assert_eq!(kind("Kw = 1"), K::InvalidValue);
    assert_eq!(kind("B = 'true'"), K::InvalidValue);
    assert_eq!(kind("Dt > '2024-01-01'"), K::InvalidValue);
    assert_eq!(kind("ExecutionStatus = 'Bogus'"), K::InvalidValue);
    assert_eq!(kind("ExecutionStatus = 9"), K::InvalidValue);
    assert_eq!(kind("ExecutionDuration > '1t'"), K::InvalidValue);
    assert_eq!(kind("Txt = '  '"), K::InvalidValue);
    assert_eq!(kind("L < 'a'"), K::OperatorNotAllowed);
    assert_eq!(kind("Txt IN ('a')"), K::OperatorNotAllowed);
    assert_eq!(kind("N STARTS_WITH 'a'"), K::OperatorNotAllowed);
    assert_eq!(kind("Txt BETWEEN 'a' AND 'b'"), K::InvalidExpression);
    assert_eq!(kind("B BETWEEN TRUE AND FALSE"), K::InvalidExpression);
    assert_eq!(kind("ORDER BY Txt"), K::NotSupported);
    assert_eq!(kind("GROUP BY WorkflowId"), K::NotSupported);
    assert_eq!(kind("SearchPrecision = 'Day'"), K::InvalidExpression);
    assert_eq!(
        kind("CloseTime = 1 AND SearchPrecision = 'Week'"),
        K::InvalidValue
    );
    let e = compile("WorkflowId = 'a' AND Nope = 1", &attrs()).unwrap_err();
    assert_eq!(e.offset(), 21);
    for ok in [
        "N = 1.5",
        "D = 3",
        "B = false",
        "B < TRUE",
        "Dt = 1700000000000000000",
        "ExecutionStatus IN ('Running', 'COMPLETED', 'WORKFLOW_EXECUTION_STATUS_FAILED', 'timed_out', 6)",
        "ExecutionDuration > '1h30m' AND ExecutionDuration < '02:00:00' AND ExecutionDuration != 5",
        "L = 'red' AND L IN ('a', 'b') AND L IS NOT NULL",
        "Kw STARTS_WITH 'order-'",
        "ScheduleId = 'x' AND TemporalScheduleId = 'y' AND WorkflowTypeName = 'z'",
        "GROUP BY ExecutionStatus",
        "ORDER BY L, Dt DESC",
    ] {
        assert!(
            compile(ok, &attrs()).is_ok(),
            "{ok}: {:?}",
            compile(ok, &attrs()).err()
        );
    }
}

#[test]
fn evaluation() {
    assert!(matches(""));
    assert!(matches(
        "WorkflowId = 'wf-1' AND RunId != 'x' AND WorkflowType STARTS_WITH 'Pay'"
    ));
    assert!(matches(
        "ExecutionStatus = 'Completed' AND ExecutionStatus = 2 AND ExecutionStatus != 'Running'"
    ));
    assert!(matches(
        "CloseTime BETWEEN '2024-01-01T11:00:00Z' AND '2024-01-01T11:00:00Z'"
    ));
    assert!(matches(
        "N > 41.5 AND N <= 42 AND D BETWEEN 2 AND 3 AND B = TRUE"
    ));
    assert!(matches(
        "Dt > '2024-01-01T10:00:00Z' AND Dt < 1704103200600000000"
    ));
    assert!(matches(
        "Txt = 'else' AND Txt = 'MATTERS whatever' AND Txt != 'foo'"
    ));
    assert!(!matches("Txt = 'matter'"));
    assert!(matches(
        "L = 'red' AND L != 'blue' AND L IN ('blue', 'green') AND L NOT IN ('x')"
    ));
    assert!(matches("Kw BETWEEN 'order-' AND 'order-~'"));
    assert!(matches("NOT (WorkflowId = 'x' OR RunId = 'y')"));
}

#[test]
fn missing_values_follow_sql() {
    // Nothing is known about a missing value: neither `=` nor `!=` holds, nor their negation.
    for q in [
        "ExecutionTime = 1",
        "ExecutionTime != 1",
        "NOT ExecutionTime = 1",
        "TaskQueue = 'q'",
        "Nope2 IS NOT NULL OR HistoryLength > 0",
    ] {
        if let Ok(c) = compile(q, &attrs()) {
            assert!(!c.matches(&rec()), "{q}");
        }
    }
    assert!(matches(
        "ExecutionTime IS NULL AND TaskQueue IS NULL AND Kw IS NOT NULL"
    ));
    assert!(matches("ExecutionTime = 1 OR WorkflowId = 'wf-1'"));
    assert!(!matches("NOT (ExecutionTime = 1 AND WorkflowId = 'wf-1')"));
    assert!(matches("NOT (ExecutionTime = 1 AND WorkflowId = 'zzz')"));
}

#[test]
fn old_archiver_dialects() {
    let a = SearchAttributes::new();
    let r = rec();
    let q = |s: &str| compile(s, &a).unwrap_or_else(|e| panic!("{s}: {e}"));
    assert!(q("CloseTime = '2024-01-01T00:00:00Z' AND SearchPrecision = 'Day'").matches(&r));
    assert!(!q("CloseTime = '2024-01-01T00:00:00Z' AND SearchPrecision = 'Hour'").matches(&r));
    assert!(q("(StartTime = '2024-01-01T10:59:59Z' AND SearchPrecision = 'Hour') AND WorkflowId = 'wf-1'").matches(&r));
    assert!(q("WorkflowTypeName = 'Payment' AND StartTime = 1704103200000000000 AND SearchPrecision = 'Second'").matches(&r));
    assert!(q("ExecutionStatus = 'completed'").matches(&r));
    for s in [
        "continuedasnew",
        "continued_as_new",
        "CONTINUED_AS_NEW",
        "6",
    ] {
        let c = q(&format!("ExecutionStatus = '{s}'"));
        assert!(
            c.matches(&RecordValues::new("w", "r", "t").with_status(S::ContinuedAsNew)),
            "{s}"
        );
    }
    assert!(
        q("ExecutionStatus = 7")
            .matches(&RecordValues::new("w", "r", "t").with_status(S::TimedOut))
    );
    assert!(q("CloseTime <= 1704106800000000000 AND CloseTime > 1000").matches(&r));
}

#[test]
fn plans() {
    let plan = |s: &str| compile(s, &attrs()).unwrap().plan();
    let p = plan(
        "WorkflowId = 'a' AND ExecutionStatus IN ('Running', 'Failed') AND StartTime > '2024-01-01T00:00:00Z'",
    );
    assert_eq!(p.workflow_ids.unwrap().len(), 1);
    assert_eq!(p.statuses.unwrap().len(), 2);
    assert!(!p.start_time.is_unbounded() && p.exact);
    let p = plan("WorkflowId = 'a' OR WorkflowId = 'b'");
    assert_eq!(p.workflow_ids.unwrap().len(), 2);
    assert!(p.exact);
    let p = plan("WorkflowId = 'a' OR RunId = 'b'");
    assert!(p.workflow_ids.is_none() && p.run_ids.is_none() && !p.exact);
    let p = plan("NOT (WorkflowId != 'a') AND NOT CloseTime < '2024-01-01T00:00:00Z'");
    assert_eq!(p.workflow_ids.unwrap().len(), 1);
    assert!(p.close_time.contains(t("2024-01-01T00:00:00Z")));
    assert!(plan("WorkflowId = 'a' AND WorkflowId = 'b'").is_empty());
    assert!(plan("").exact && !plan("Kw = 'x'").exact);
    // Keyword attributes: the values they must hold, kept through AND, NOT and a union on
    // the same attribute; dropped when either side of an OR leaves them free.
    let values = |p: &visibility_query::Plan, name: &str| {
        p.keywords
            .get(name)
            .map(|v| v.iter().cloned().collect::<Vec<_>>())
    };
    let p = plan("Kw = 'x' AND WorkflowType = 't'");
    assert_eq!(values(&p, "Kw"), Some(vec!["x".to_owned()]));
    let p = plan("Kw IN ('x', 'y') AND NOT Kw != 'y'");
    assert_eq!(values(&p, "Kw"), Some(vec!["y".to_owned()]));
    let p = plan("Kw = 'x' OR Kw = 'z'");
    assert_eq!(values(&p, "Kw"), Some(vec!["x".to_owned(), "z".to_owned()]));
    assert!(plan("Kw = 'x' OR WorkflowId = 'a'").keywords.is_empty());
    assert!(plan("Kw != 'x'").keywords.is_empty() && plan("L = 'x'").keywords.is_empty());
    assert!(plan("Kw = 'x' AND Kw = 'y'").is_empty());
    let mut record = rec();
    record.search_attributes.insert("Kw".into(), "x".into());
    assert!(plan("Kw = 'x'").admits(&record) && !plan("Kw = 'y'").admits(&record));
}

#[test]
fn ordering() {
    let q = compile("", &attrs()).unwrap();
    let open = RecordValues::new("w", "r2", "t").with_start_time(t("2024-01-01T00:00:00Z"));
    let closed = rec();
    assert_eq!(q.compare(&open, &closed), Ordering::Less); // open first under CloseTime DESC
    let q = compile("ORDER BY N", &attrs()).unwrap();
    let mut a = rec();
    a.search_attributes.insert("N".into(), "7".into());
    assert_eq!(q.compare(&a, &rec()), Ordering::Less);
    assert_eq!(q.group_by(), None);
    assert_eq!(
        compile("GROUP BY ExecutionStatus", &attrs())
            .unwrap()
            .group_by(),
        Some("ExecutionStatus")
    );
}

#[test]
fn from_str_and_check() {
    let f: ListFilter = "Kw = 'x' AND N > 1".parse().unwrap();
    assert!(f.check(&attrs()).is_ok());
    let err = f.check(&SearchAttributes::new()).unwrap_err();
    assert_eq!(err.kind(), K::UnknownSearchAttribute);
    // Positions refer to the canonical text, not to the text `f` was parsed from.
    let spaced: ListFilter = "  N   >  1   AND   Nope = 'x'".parse().unwrap();
    let err = spaced.check(&attrs()).unwrap_err();
    assert_eq!((err.input(), err.offset()), ("N > 1 AND Nope = 'x'", 10));
    let valid: ListFilter = "  N   >  1  ORDER BY  Kw".parse().unwrap();
    let q = valid.check(&attrs()).unwrap();
    assert_eq!(
        (q.filter(), q.order_by()),
        (&valid, valid.order_by.as_slice())
    );
}

#[test]
fn checked_query_keeps_the_parsed_filter() {
    for text in [
        "",
        "Kw = 'it''s' AND (N > 1 OR `L` IN ('a', 'b')) ORDER BY StartTime DESC, Kw",
        "Kw STARTS_WITH 'p' GROUP BY ExecutionStatus",
    ] {
        let q = compile(text, &attrs()).unwrap();
        let f = parse(text).unwrap();
        assert_eq!(q.order_by(), f.order_by.as_slice(), "{text}");
        assert_eq!(q.filter(), &f, "{text}");
        assert_eq!(q.clone().filter().to_string(), f.to_string(), "{text}");
    }
}
