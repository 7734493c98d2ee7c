//! The list-filter case table with records: every case of
//! [`CASE_TABLE`](visibility_query::testing::CASE_TABLE) that compiles under the attributes its
//! context declares runs against records built from the table's own literals (so that filters
//! hit something and miss something), one namespace per attribute set.
//!
//! [`case_table_agrees_with_evaluation`] runs it on a provider against the reference, the shared
//! evaluator ([`page_of`]) over the same records; `archiver-kit`'s DuckDB test runs the same
//! records through SQL.

use std::collections::BTreeMap;

use futures::future::join_all;
use jiff::{SignedDuration, Timestamp};
use visibility_query::testing::{
    CHASM_ATTRIBUTES, Case, LiteralPools, Rng, cases, declared_attributes,
};
use visibility_query::{
    CheckedQuery, ExecutionStatus, FieldLayout, SearchAttributeType as T, SearchAttributes,
};

use super::Fixture;
use super::visibility::query_all;
use crate::visibility::{compile_query, page_of};
use crate::{ArchiveOptions, QueryRequest, VisibilityRecord};

/// Runs per namespace in [`case_table_agrees_with_evaluation`]: enough that most filters
/// select some runs and not all, few enough that a provider whose every call compacts (the
/// table suite's harshest setting) runs it in seconds.
const SUITE_RUNS: usize = 40;

/// The cases of the table that compile, by namespace.
#[derive(Debug)]
pub struct CaseTable {
    /// Every case of the table, in order (a case's number is its index).
    pub cases: Vec<Case>,
    /// One per attribute set, in the order first met.
    pub namespaces: Vec<CaseNamespace>,
    /// Cases that do not run, counted by why.
    pub skipped: BTreeMap<String, usize>,
}

/// The cases that share one attribute set, and the records they run on.
#[derive(Debug)]
pub struct CaseNamespace {
    /// The namespace id (`ns-<n>`).
    pub id: String,
    /// The attributes the cases' context declares, on `layout`'s preallocated fields.
    pub attributes: SearchAttributes,
    /// Temporal's SQL field layout, one more field of a type per CHASM attribute of it.
    pub layout: FieldLayout,
    /// The compiled cases: index in [`CaseTable::cases`], and the query.
    pub cases: Vec<(usize, CheckedQuery)>,
    seed: u64,
}

impl CaseTable {
    /// The case table, grouped. Cases of a parser-only context (`legacy-es/stub`) and cases
    /// that do not compile are counted in `skipped`.
    pub fn build() -> Self {
        let cases = cases();
        let mut namespaces: Vec<CaseNamespace> = Vec::new();
        let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
        for (i, case) in cases.iter().enumerate() {
            let Some((attributes, layout)) = case_attributes(&case.context) else {
                *skipped
                    .entry("parser-only context (legacy-es/stub)".into())
                    .or_default() += 1;
                continue;
            };
            let Ok(query) = visibility_query::compile(&case.query, &attributes) else {
                let why = if case.valid {
                    "refused by compile, though valid (visibility-query's cases.rs DISAGREE)"
                } else {
                    "refused by compile, as the case expects"
                };
                *skipped.entry(why.into()).or_default() += 1;
                continue;
            };
            let key = |a: &SearchAttributes| format!("{:?}", a.custom().collect::<Vec<_>>());
            let n = match namespaces
                .iter()
                .position(|ns| key(&ns.attributes) == key(&attributes))
            {
                Some(n) => n,
                None => {
                    let n = namespaces.len();
                    namespaces.push(CaseNamespace {
                        id: format!("ns-{n}"),
                        attributes,
                        layout,
                        cases: Vec::new(),
                        seed: 7 + n as u64,
                    });
                    n
                }
            };
            namespaces[n].cases.push((i, query));
        }
        Self {
            cases,
            namespaces,
            skipped,
        }
    }
}

impl CaseNamespace {
    /// What to archive, in two rounds: `runs` records with the custom attributes and
    /// the `predefined` ones, values drawn from the literals of the namespace's own cases;
    /// then a quarter of the runs again with other values (the same run, so the same ids and
    /// times), of which only the second may be found.
    pub fn records(
        &self,
        table: &CaseTable,
        predefined: &[(String, T)],
        runs: usize,
    ) -> [Vec<VisibilityRecord>; 2] {
        let queries: Vec<&str> = self
            .cases
            .iter()
            .map(|&(i, _)| table.cases[i].query.as_str())
            .collect();
        let pools = pools(&queries);
        let first = records(
            &pools,
            &self.attributes,
            predefined,
            &self.id,
            self.seed,
            runs,
        );
        let again = records(
            &pools,
            &self.attributes,
            predefined,
            &self.id,
            self.seed + 100,
            runs,
        )
        .into_iter()
        .zip(&first)
        .step_by(4)
        .map(|(again, first)| VisibilityRecord {
            workflow_id: first.workflow_id.clone(),
            run_id: first.run_id.clone(),
            start_time: first.start_time,
            execution_time: first.execution_time,
            close_time: first.close_time,
            ..again
        })
        .collect();
        [first, again]
    }
}

/// Every case of the table that compiles answers on the fixture's visibility archiver what the
/// shared evaluator answers over the same records (the second archive of a run replacing the
/// first), in the same order, in one page and, for every eighth case, in pages of 7.
pub async fn case_table_agrees_with_evaluation(fixture: &dyn Fixture) {
    let table = CaseTable::build();
    let archiver = fixture.visibility_archiver();
    let uri = fixture.new_uri();
    let predefined = predefined_attributes();
    let mut failures = Vec::new();
    let mut ran = 0;
    for ns in &table.namespaces {
        let rounds = ns.records(&table, &predefined, SUITE_RUNS);
        let mut live: BTreeMap<String, VisibilityRecord> = BTreeMap::new();
        for round in &rounds {
            let options = ArchiveOptions::default();
            let calls = round.iter().map(|r| archiver.archive(&uri, r, &options));
            for (record, result) in round.iter().zip(join_all(calls).await) {
                result.unwrap_or_else(|e| panic!("{}: archive {}: {e}", ns.id, record.run_id));
            }
            live.extend(round.iter().map(|r| (r.run_id.clone(), r.clone())));
        }
        let live: Vec<VisibilityRecord> = live.into_values().collect();
        for (n, (i, _)) in ns.cases.iter().enumerate() {
            let text = &table.cases[*i].query;
            let request = QueryRequest::new(&ns.id, text).with_page_size(SUITE_RUNS + 1);
            let query = compile_query(&request, &ns.attributes).expect("compiled before");
            let want = run_ids(
                &page_of(live.iter(), &query, &request)
                    .expect("reference")
                    .executions,
            );
            let page_sizes: &[usize] = if n % 8 == 0 {
                &[SUITE_RUNS + 1, 7]
            } else {
                &[SUITE_RUNS + 1]
            };
            for &page_size in page_sizes {
                let request = request.clone().with_page_size(page_size);
                match query_all(&*archiver, &uri, request, &ns.attributes).await {
                    Ok(got) if run_ids(&got) == want => {}
                    Ok(got) => failures.push(format!(
                        "case {i} {text:?} (page size {page_size}): got {:?}, the evaluator {want:?}",
                        run_ids(&got)
                    )),
                    Err(e) => failures.push(format!("case {i} {text:?}: {e}")),
                }
            }
            ran += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {ran} cases disagree with the evaluator:\n{}",
        failures.len(),
        failures[..failures.len().min(10)].join("\n")
    );
    assert!(ran >= 150, "only {ran} cases ran");
}

fn run_ids(records: &[VisibilityRecord]) -> Vec<String> {
    records.iter().map(|r| r.run_id.clone()).collect()
}

/// Temporal's predefined attributes, which records carry beside the custom ones.
pub fn predefined_attributes() -> Vec<(String, T)> {
    visibility_query::testing::PREDEFINED_ATTRIBUTES
        .iter()
        .map(|&(name, ty)| (name.to_owned(), ty))
        .collect()
}

/// The attributes a case's context declares, on preallocated fields (Temporal's SQL layout,
/// one more field of a type per CHASM attribute of it); `None` for parser-only contexts.
/// `AliasFor<Field>` lands on `<Field>` because fields are handed out in order.
pub fn case_attributes(context: &str) -> Option<(SearchAttributes, FieldLayout)> {
    if context.starts_with("legacy-es/stub") {
        return None;
    }
    let chasm = context.contains("chasm");
    let mut layout = FieldLayout::temporal_sql();
    if chasm {
        for (_, ty) in CHASM_ATTRIBUTES {
            layout = layout.clone().with_limit(ty, layout.limit(ty) + 1);
        }
    }
    let mut names = declared_attributes(context);
    if chasm {
        names.extend(CHASM_ATTRIBUTES.iter().map(|&(n, t)| (n.to_owned(), t)));
    }
    let mut attrs = SearchAttributes::new().with_field_layout(layout.clone());
    for (name, ty) in names {
        attrs = attrs.try_with_custom(name, ty).expect("fits the layout");
    }
    Some((attrs, layout))
}

/// The literals of the table's queries ([`LiteralPools`]), and a few values besides them so
/// that no pool is empty; ids must not be empty.
fn pools(queries: &[&str]) -> LiteralPools {
    let mut p = LiteralPools::from_queries(queries);
    p.strings.retain(|s| !s.is_empty());
    p.strings.push("value".into());
    p.strings.sort();
    p.strings.dedup();
    p.words.push("word".into());
    p.words.sort();
    p.words.dedup();
    p.ints.extend([0, 7]);
    p.times.sort();
    p.times.dedup();
    p
}

/// A value of type `ty` as a record stores it. `canonical` values are the text the engine
/// writes; otherwise some are other spellings the evaluator reads too, or unreadable.
fn value(rng: &mut Rng, p: &LiteralPools, ty: T, canonical: bool) -> String {
    if !canonical && rng.chance(5) {
        return "not a value".to_owned();
    }
    match ty {
        T::Keyword => rng.pick(&p.strings).clone(),
        T::Text if !canonical && rng.chance(30) => rng.pick(&p.strings).clone(),
        // The tokens matched by, some upper-cased.
        T::Text => (0..1 + rng.below(3))
            .map(|_| {
                let word = rng.pick(&p.words);
                if rng.chance(30) {
                    word.to_uppercase()
                } else {
                    word.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(if rng.chance(50) { " " } else { ", " }),
        T::KeywordList => {
            let items: Vec<&String> = (0..rng.below(4)).map(|_| rng.pick(&p.strings)).collect();
            match rng.below(if canonical { 1 } else { 4 }) {
                0 => serde_json::to_string(&items).expect("strings"),
                1 => serde_json::to_string_pretty(&items).expect("strings"),
                _ => rng.pick(&p.strings).clone(),
            }
        }
        T::Int => {
            let n = *rng.pick(&p.ints);
            if !canonical && n >= 0 && rng.chance(10) {
                format!("0{n}")
            } else {
                n.to_string()
            }
        }
        T::Double => rng.pick(&p.floats).to_string(),
        T::Bool if !canonical && rng.chance(10) => "TRUE".to_owned(),
        T::Bool => rng.chance(50).to_string(),
        T::Datetime => rng.pick(&p.times).to_string(),
    }
}

/// `runs` records of namespace `ns`; see [`CaseNamespace::records`].
fn records(
    p: &LiteralPools,
    attrs: &SearchAttributes,
    predefined: &[(String, T)],
    ns: &str,
    seed: u64,
    runs: usize,
) -> Vec<VisibilityRecord> {
    const DIVISION: &str = "TemporalNamespaceDivision";
    let mut rng = Rng::new(seed);
    let base: Timestamp = "2020-02-15T00:00:00Z".parse().expect("a time");
    // Go's zero time means "unset": a record cannot start then.
    let starts: Vec<Timestamp> = p
        .times
        .iter()
        .copied()
        .filter(|t| t.as_second() > -62_135_596_800)
        .collect();
    let records: Vec<VisibilityRecord> = (0..runs)
        .map(|i| {
            let id = |rng: &mut Rng, prefix: &str| {
                if rng.chance(50) {
                    rng.pick(&p.strings).clone()
                } else {
                    format!("{prefix}-{}", rng.below(5))
                }
            };
            let workflow_id = id(&mut rng, "wf");
            // Some run ids are literals too (each once: a run id is unique).
            let run_id = match p.strings.get(i / 3) {
                Some(s) if i % 3 == 0 => s.clone(),
                _ => format!("run-{i:03}"),
            };
            let workflow_type_name = id(&mut rng, "type");
            let micros = |n: usize| SignedDuration::from_micros(n as i64);
            let start = if rng.chance(20) {
                *rng.pick(&starts)
            } else {
                base.checked_add(micros(rng.below(3 * 86_400_000_000)))
                    .expect("in range")
            };
            let after = |rng: &mut Rng, t: Timestamp, within: usize| {
                t.checked_add(micros(rng.below(within))).unwrap_or(t)
            };
            let execution_time = if rng.chance(70) {
                start
            } else {
                after(&mut rng, start, 60_000_000)
            };
            let close_time = if rng.chance(15) {
                execution_time
            } else {
                after(&mut rng, execution_time, 86_400_000_000)
            };
            let execution_duration_nanos = rng.chance(80).then(|| {
                if rng.chance(50) {
                    *rng.pick(&[
                        100,
                        123,
                        1_000_000_000,
                        60_000_000_000,
                        123 * 60_000_000_000,
                        123 * 3_600_000_000_000,
                        123 * 86_400_000_000_000,
                    ])
                } else {
                    rng.below(1_000_000_000_000) as i64
                }
            });
            let mut search_attributes = BTreeMap::new();
            for a in attrs.custom() {
                if rng.chance(75) {
                    search_attributes.insert(a.name.clone(), value(&mut rng, p, a.ty, false));
                }
            }
            for (name, ty) in predefined {
                if name == DIVISION {
                    if rng.chance(10) {
                        let division = rng.pick(&["123", "x"]).to_string();
                        search_attributes.insert(name.clone(), division);
                    }
                } else if rng.chance(30) {
                    search_attributes.insert(name.clone(), value(&mut rng, p, *ty, true));
                }
            }
            VisibilityRecord {
                namespace_id: ns.to_owned(),
                namespace: format!("{ns}-name"),
                workflow_id,
                run_id,
                workflow_type_name,
                start_time: start,
                execution_time,
                close_time,
                status: *rng.pick(&ExecutionStatus::ALL),
                history_length: rng.below(20) as i64,
                memo: None,
                search_attributes,
                history_archival_uri: String::new(),
                execution_duration_nanos,
            }
        })
        .collect();
    let ids: std::collections::HashSet<&str> = records.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(ids.len(), runs, "run ids are unique");
    records
}
