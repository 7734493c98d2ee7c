//! Property test: random records and random filters over every attribute type,
//! on every engine; all pages in order and the count must equal the evaluator.

mod support;

use std::sync::OnceLock;

use proptest::prelude::*;
use visibility_query::{ExecutionStatus, RecordValues, SearchAttributeType as T};

use support::diff::{Outcome, check};

const ATTRS: &[(&str, T)] = &[
    ("Kw", T::Keyword),
    ("Txt", T::Text),
    ("Lst", T::KeywordList),
    ("Num", T::Int),
    ("Dbl", T::Double),
    ("Flag", T::Bool),
    ("Moment", T::Datetime),
];

/// Few distinct values so that equalities and ties happen; quotes, `%`, `_` and
/// a backslash so that escaping matters.
const WORDS: &[&str] = &["a", "b", "ab", "a%", "a_b", "it's", "c\\d", "Z", ""];
const TOKENS: &[&str] = &["alpha", "beta", "gamma", "x1", "2b"];
const TIMES: &[&str] = &[
    "2024-01-01T00:00:00Z",
    "2024-01-01T00:00:00.000001Z",
    "2024-01-01T12:30:00.5Z",
    "2024-01-02T00:00:00Z",
    "2023-12-31T23:59:59.999999Z",
];

fn word() -> impl Strategy<Value = String> {
    proptest::sample::select(WORDS).prop_map(str::to_owned)
}
fn time() -> impl Strategy<Value = jiff::Timestamp> {
    proptest::sample::select(TIMES).prop_map(|t| t.parse().unwrap())
}
fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(TOKENS), 1..4).prop_map(|w| w.join(" "))
}

fn record(i: usize) -> impl Strategy<Value = RecordValues> {
    let ids = (
        word(),
        word(),
        proptest::sample::select(&ExecutionStatus::ALL[..]),
    );
    let times = (
        time(),
        proptest::option::of(time()),
        proptest::option::of(0i64..5),
    );
    let attrs = (
        proptest::option::of(word()),
        proptest::option::of(text()),
        proptest::option::of(proptest::collection::vec(word(), 0..3)),
        proptest::option::of(-3i64..3),
        proptest::option::of(prop_oneof![Just(0.5f64), Just(-1.0), Just(2.0)]),
        proptest::option::of(any::<bool>()),
        proptest::option::of(time()),
    );
    (ids, times, attrs).prop_map(move |((wf, ty, status), (start, close, hl), a)| {
        let mut r = RecordValues::new(wf, format!("run-{i:02}"), ty).with_status(status);
        r.start_time = Some(start);
        r.close_time = close;
        r.history_length = hl;
        let (kw, txt, lst, num, dbl, flag, when) = a;
        let mut put = |n: &str, v: Option<String>| {
            if let Some(v) = v {
                r.search_attributes.insert(n.to_owned(), v);
            }
        };
        put("Kw", kw);
        put("Txt", txt);
        put("Lst", lst.map(|l| serde_json::to_string(&l).unwrap()));
        put("Num", num.map(|n| n.to_string()));
        put("Dbl", dbl.map(|x| x.to_string()));
        put("Flag", flag.map(|b| b.to_string()));
        put("Moment", when.map(|t| t.to_string()));
        r
    })
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''").replace('\\', "\\\\"))
}

fn leaf() -> impl Strategy<Value = String> {
    let cmp = proptest::sample::select(&["=", "!=", "<", "<=", ">", ">="][..]);
    let eq = proptest::sample::select(&["=", "!="][..]);
    prop_oneof![
        (
            proptest::sample::select(&["WorkflowId", "WorkflowType", "Kw"][..]),
            cmp.clone(),
            word()
        )
            .prop_map(|(f, op, v)| format!("{f} {op} {}", quote(&v))),
        (
            proptest::sample::select(&["WorkflowId", "Kw"][..]),
            any::<bool>(),
            word()
        )
            .prop_map(|(f, not, v)| format!(
                "{f} {}STARTS_WITH {}",
                if not { "NOT " } else { "" },
                quote(&v)
            )),
        (word(), word()).prop_map(|(a, b)| format!("Kw BETWEEN {} AND {}", quote(&a), quote(&b))),
        (
            proptest::sample::select(
                &[
                    "Kw",
                    "Txt",
                    "Lst",
                    "Num",
                    "Dbl",
                    "Flag",
                    "Moment",
                    "CloseTime"
                ][..]
            ),
            any::<bool>()
        )
            .prop_map(|(f, not)| format!("{f} IS {}NULL", if not { "NOT " } else { "" })),
        (
            eq.clone(),
            proptest::collection::vec(proptest::sample::select(TOKENS), 1..3)
        )
            .prop_map(|(op, w)| format!("Txt {op} {}", quote(&w.join(" ")))),
        (eq.clone(), word()).prop_map(|(op, v)| format!("Lst {op} {}", quote(&v))),
        (any::<bool>(), proptest::collection::vec(word(), 1..3)).prop_map(|(not, v)| format!(
            "Lst {}IN ({})",
            if not { "NOT " } else { "" },
            v.iter().map(|s| quote(s)).collect::<Vec<_>>().join(", ")
        )),
        (
            proptest::sample::select(&["Num", "HistoryLength"][..]),
            cmp.clone(),
            -3i64..5
        )
            .prop_map(|(f, op, n)| format!("{f} {op} {n}")),
        (
            cmp.clone(),
            prop_oneof![Just("0.5"), Just("-1"), Just("2.0"), Just("1")]
        )
            .prop_map(|(op, x)| format!("Dbl {op} {x}")),
        (eq, any::<bool>()).prop_map(|(op, b)| format!("Flag {op} {b}")),
        (
            proptest::sample::select(&["Moment", "StartTime", "CloseTime"][..]),
            cmp,
            time(),
            0u32..3
        )
            .prop_map(|(f, op, t, nanos)| {
                // Sometimes a literal finer than the stored microsecond.
                let t = t
                    .checked_add(jiff::SignedDuration::from_nanos(i64::from(nanos) * 400))
                    .unwrap();
                format!("{f} {op} {}", quote(&t.to_string()))
            }),
        (time(), time()).prop_map(|(a, b)| format!(
            "StartTime BETWEEN {} AND {}",
            quote(&a.to_string()),
            quote(&b.to_string())
        )),
        proptest::collection::vec(proptest::sample::select(&ExecutionStatus::ALL[1..]), 1..3)
            .prop_map(|s| format!(
                "ExecutionStatus IN ({})",
                s.iter()
                    .map(|s| quote(s.name()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
    ]
}

fn filter() -> impl Strategy<Value = String> {
    leaf().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) AND ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) OR ({b})")),
            inner.prop_map(|a| format!("NOT ({a})")),
        ]
    })
}

struct World {
    rt: tokio::runtime::Runtime,
    engines: Vec<support::Engine>,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let engines = rt.block_on(support::engines());
        World { rt, engines }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn store_equals_evaluator(
        records in (1usize..30).prop_flat_map(|n| (0..n).map(record).collect::<Vec<_>>()),
        filters in proptest::collection::vec(filter(), 4),
        page_size in 1u32..8,
    ) {
        let w = world();
        w.rt.block_on(async {
            for e in &w.engines {
                let ns = support::unique_ns("props");
                for (name, ty) in ATTRS {
                    e.store.create_search_attribute(&ns, name, *ty).await.unwrap();
                }
                e.store.upsert_many(&ns, &records).await.unwrap();
                for f in &filters {
                    let outcome = check(e, &ns, &records, f, page_size).await;
                    assert!(matches!(outcome, Outcome::Agreed(_)), "{}: {f}: {outcome:?}", e.name);
                }
            }
        });
    }
}
