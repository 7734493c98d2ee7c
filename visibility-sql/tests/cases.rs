//! Differential test over the shared case table: every accepted filter whose
//! attributes a namespace can hold runs on each engine against records built
//! from the table's own literals, and must list (page by page) and count
//! exactly what the in-memory evaluator gives.

mod support;

use jiff::Timestamp;
use serde::Deserialize;
use visibility_query::{ExecutionStatus, FieldLayout, RecordValues, SearchAttributeType as T};
use visibility_sql::SqlVisibilityStore;

use support::diff::{Outcome, check};

#[derive(Deserialize)]
struct Case {
    query: String,
    valid: bool,
    #[serde(default)]
    context: String,
}

/// Records per namespace.
const RECORDS: usize = 150;

const ES_ATTRS: &[(&str, T)] = &[
    ("CustomIntField", T::Int),
    ("CustomTextField", T::Text),
    ("CustomKeywordField", T::Keyword),
    ("CustomDatetimeField", T::Datetime),
    ("CustomDoubleField", T::Double),
    ("CustomBoolField", T::Bool),
];

/// The custom attributes a case's context assumes (its `context` field), as the store can hold them:
/// `AliasFor<Field>` lands on `<Field>` because fields are handed out in order.
fn attributes(context: &str) -> Vec<(String, T)> {
    if context.contains("sqltest") {
        let layout = T::ALL.map(|ty| (ty, FieldLayout::temporal_sql().limit(ty)));
        layout
            .into_iter()
            .flat_map(|(ty, n)| (1..=n).map(move |i| (format!("AliasFor{ty}{i:02}"), ty)))
            .collect()
    } else if context.contains("estest")
        || context.starts_with("functional")
        || context.starts_with("scheduler")
        || context.starts_with("unified-es store")
    {
        let mut v: Vec<(String, T)> = ES_ATTRS.iter().map(|&(n, t)| (n.to_owned(), t)).collect();
        if context.contains("TestMapper") {
            v.extend(ES_ATTRS.iter().map(|&(n, t)| (format!("AliasFor{n}"), t)));
        }
        v
    } else if context == "docs" {
        vec![("Description".to_owned(), T::Keyword)]
    } else {
        vec![]
    }
}

/// Literals of the table's queries, so that generated records hit the filters.
#[derive(Default)]
struct Pools {
    strings: Vec<String>,
    ints: Vec<i64>,
    floats: Vec<f64>,
    times: Vec<Timestamp>,
    words: Vec<String>,
}

impl Pools {
    fn from(queries: &[&str]) -> Pools {
        let mut p = Pools::default();
        for q in queries {
            let b = q.as_bytes();
            let mut i = 0;
            while i < b.len() {
                let c = b[i];
                if c == b'\'' || c == b'"' {
                    let end = q[i + 1..].find(c as char).map_or(q.len(), |e| i + 1 + e);
                    p.strings.push(q[i + 1..end].to_owned());
                    i = end + 1;
                } else if c.is_ascii_digit()
                    || c == b'-' && b.get(i + 1).is_some_and(u8::is_ascii_digit)
                {
                    let end = q[i + 1..]
                        .find(|ch: char| !(ch.is_ascii_digit() || ch == '.'))
                        .map_or(q.len(), |e| i + 1 + e);
                    let lit = &q[i..end];
                    if let Ok(n) = lit.parse::<i64>() {
                        p.ints.push(n);
                    } else if let Ok(x) = lit.parse::<f64>() {
                        p.floats.push(x);
                    }
                    i = end;
                } else {
                    i += 1;
                }
            }
        }
        for s in &p.strings {
            if let Ok(t) = s.parse::<Timestamp>() {
                p.times
                    .push(Timestamp::from_microsecond(t.as_microsecond()).unwrap());
            }
            p.words.extend(visibility_query::sql::text_tokens(s));
        }
        for &n in &p.ints {
            if let Ok(t) = Timestamp::from_nanosecond(i128::from(n)) {
                p.times
                    .push(Timestamp::from_microsecond(t.as_microsecond()).unwrap());
            }
        }
        p.strings.sort();
        p.strings.dedup();
        p.words.sort();
        p.words.dedup();
        p.times.push("2020-02-15T20:30:40Z".parse().unwrap());
        p.floats.extend([1.23, 0.5, -2.0]);
        p
    }
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, X>(&mut self, v: &'a [X]) -> &'a X {
        &v[self.below(v.len())]
    }
}

fn records(p: &Pools, attrs: &[(String, T)], n: usize, seed: u64) -> Vec<RecordValues> {
    let mut rng = Rng(seed | 1);
    let base: Timestamp = "2020-02-15T00:00:00Z".parse().unwrap();
    (0..n)
        .map(|i| {
            let id = |rng: &mut Rng, prefix: &str| {
                if rng.chance(50) {
                    rng.pick(&p.strings).clone()
                } else {
                    format!("{prefix}-{}", rng.below(5))
                }
            };
            let wf = id(&mut rng, "wf");
            let ty = id(&mut rng, "type");
            let mut r = RecordValues::new(wf, format!("run-{i:03}"), ty);
            r.status = *rng.pick(&ExecutionStatus::ALL);
            let start = if rng.chance(20) {
                *rng.pick(&p.times)
            } else {
                base.checked_add(jiff::SignedDuration::from_micros(
                    rng.below(3 * 86_400_000_000) as i64,
                ))
                .unwrap()
            };
            r.start_time = Some(start);
            r.execution_time = rng.chance(70).then_some(start);
            if !rng.chance(30) {
                let close = start
                    .checked_add(jiff::SignedDuration::from_micros(
                        rng.below(86_400_000_000) as i64
                    ))
                    .unwrap();
                r.close_time = Some(close);
                r.history_length = Some(rng.below(20) as i64);
                r.execution_duration = Some(if rng.chance(50) {
                    *rng.pick(&[100, 123, 60_000_000_000, 123 * 3_600_000_000_000])
                } else {
                    rng.below(1_000_000_000_000) as i64
                });
            }
            if rng.chance(10) {
                r.search_attributes.insert(
                    "TemporalNamespaceDivision".into(),
                    rng.pick(&["123", "x"]).to_string(),
                );
            }
            for (name, ty) in attrs {
                if rng.chance(25) {
                    continue;
                }
                let v = match ty {
                    T::Keyword => rng.pick(&p.strings).clone(),
                    T::Text => (0..1 + rng.below(3))
                        .map(|_| rng.pick(&p.words).clone())
                        .collect::<Vec<_>>()
                        .join(" "),
                    T::KeywordList => serde_json::to_string(
                        &(0..rng.below(4))
                            .map(|_| rng.pick(&p.strings).clone())
                            .collect::<Vec<_>>(),
                    )
                    .unwrap(),
                    T::Int => rng.pick(&p.ints).to_string(),
                    T::Double => rng.pick(&p.floats).to_string(),
                    T::Bool => rng.chance(50).to_string(),
                    T::Datetime => rng.pick(&p.times).to_string(),
                };
                r.search_attributes.insert(name.clone(), v);
            }
            r
        })
        .collect()
}

async fn prepare(
    store: &SqlVisibilityStore,
    ns: &str,
    attrs: &[(String, T)],
    recs: &[RecordValues],
) {
    for (name, ty) in attrs {
        store
            .create_search_attribute(ns, name, *ty)
            .await
            .expect("create attribute");
    }
    store.upsert_many(ns, recs).await.expect("load");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_table_agrees_with_the_evaluator() {
    let text = include_str!("../../visibility-query/tests/data/list-filter-cases.jsonl");
    let cases: Vec<Case> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let accepted: Vec<&Case> = cases
        .iter()
        .filter(|c| c.valid && !c.context.starts_with("legacy-es/stub"))
        .collect();
    let pools = Pools::from(
        &accepted
            .iter()
            .map(|c| c.query.as_str())
            .collect::<Vec<_>>(),
    );
    for e in support::engines().await {
        let mut agreed = 0;
        let mut selective = 0;
        let mut unsupported = 0;
        let mut namespaces: Vec<(String, String)> = Vec::new();
        for (i, c) in accepted.iter().enumerate() {
            let attrs = attributes(&c.context);
            let key = format!("{attrs:?}");
            let ns = match namespaces.iter().find(|(k, _)| *k == key) {
                Some((_, ns)) => ns.clone(),
                None => {
                    let ns = support::unique_ns("cases");
                    let recs = records(&pools, &attrs, RECORDS, 7 + namespaces.len() as u64);
                    prepare(&e.store, &ns, &attrs, &recs).await;
                    namespaces.push((key, ns.clone()));
                    ns
                }
            };
            let recs = records(
                &pools,
                &attrs,
                RECORDS,
                7 + namespaces.iter().position(|(_, n)| *n == ns).unwrap() as u64,
            );
            match check(&e, &ns, &recs, &c.query, 1 + (i % 9) as u32).await {
                Outcome::Agreed(n) => {
                    agreed += 1;
                    // Neither nothing nor everything of the namespace: the filter discriminated.
                    selective += usize::from(n > 0 && n < RECORDS);
                }
                Outcome::Unsupported => unsupported += 1,
                Outcome::NotCompiled => {}
            }
        }
        println!(
            "{}: {agreed} cases agreed ({selective} selective), {unsupported} refused (ORDER BY)",
            e.name
        );
        assert!(agreed >= 130, "{}: only {agreed} cases ran", e.name);
        assert!(
            selective >= 60,
            "{}: only {selective} cases selected some records",
            e.name
        );
    }
}
