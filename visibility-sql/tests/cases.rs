//! Differential test over the shared case table: every accepted filter whose
//! attributes a namespace can hold runs on each engine against records built
//! from the table's own literals, and must list (page by page) and count
//! exactly what the in-memory evaluator gives.

mod support;

use jiff::Timestamp;
use visibility_query::testing::{LiteralPools, Rng, cases, declared_attributes};
use visibility_query::{ExecutionStatus, RecordValues, SearchAttributeType as T};
use visibility_sql::SqlVisibilityStore;

use support::diff::{Outcome, check};

/// Records per namespace.
const RECORDS: usize = 150;

fn records(p: &LiteralPools, attrs: &[(String, T)], n: usize, seed: u64) -> Vec<RecordValues> {
    let mut rng = Rng::new(seed);
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
    let cases = cases();
    let accepted: Vec<_> = cases
        .iter()
        .filter(|c| c.valid && !c.context.starts_with("legacy-es/stub"))
        .collect();
    let pools = LiteralPools::from_queries(
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
            let attrs = declared_attributes(&c.context);
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
