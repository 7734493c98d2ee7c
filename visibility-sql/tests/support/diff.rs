//! The differential check: a store's list (every page) and count must equal
//! the in-memory evaluation of the same filter over the same records.

use std::cmp::Ordering;

use visibility_query::{CheckedQuery, Record, RecordValues, compile};
use visibility_sql::{Count, Error};

use super::Engine;

/// What a filter did on an engine.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Listed (or counted, for GROUP BY) and equal to the evaluator, which selected this
    /// many records.
    Agreed(usize),
    /// The SQL store refuses it (ORDER BY): expected, nothing to compare.
    Unsupported,
    /// The filter does not compile against the namespace's attributes.
    NotCompiled,
}

/// The evaluator with the store's implicit scope: outside namespace divisions
/// unless the filter names TemporalNamespaceDivision (Temporal's SQL stores
/// add that condition to every query).
fn expected<'a>(
    q: &CheckedQuery,
    filter: &str,
    records: &'a [RecordValues],
) -> Vec<&'a RecordValues> {
    let mentions_division = filter.contains("NamespaceDivision");
    let mut out: Vec<&RecordValues> = records
        .iter()
        .filter(|r| {
            q.matches(*r)
                && (mentions_division || r.search_attribute("TemporalNamespaceDivision").is_none())
        })
        .collect();
    out.sort_by(|a, b| q.compare(*a, *b));
    out
}

/// Lists every page of `filter` (pages of `page_size`) and counts it on `e`, and asserts
/// both equal the evaluator's answer over `records` (everything stored in `ns`).
pub async fn check(
    e: &Engine,
    ns: &str,
    records: &[RecordValues],
    filter: &str,
    page_size: u32,
) -> Outcome {
    let attrs = e.store.search_attributes(ns).await.expect("attributes");
    let Ok(q) = compile(filter, &attrs) else {
        return Outcome::NotCompiled;
    };
    let want = expected(&q, filter, records);
    let ctx = format!("{} filter {filter:?}", e.name);
    if let Some(group) = q.group_by() {
        let got = e
            .store
            .count(ns, filter)
            .await
            .unwrap_or_else(|err| panic!("{ctx}: {err}"));
        let mut groups: Vec<(Option<String>, u64)> = Vec::new();
        for r in &want {
            let key = match group {
                "ExecutionStatus" => Some(r.status.name().to_owned()),
                other => r.search_attribute(other).map(str::to_owned),
            };
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => *n += 1,
                None => groups.push((key, 1)),
            }
        }
        groups.sort();
        assert_eq!(got, Count::Groups(groups), "{ctx}");
        return Outcome::Agreed(want.len());
    }
    let mut got: Vec<RecordValues> = Vec::new();
    let mut token: Option<Vec<u8>> = None;
    let mut pages = 0;
    loop {
        let page = match e.store.list(ns, filter, page_size, token.as_deref()).await {
            Ok(p) => p,
            Err(Error::Unsupported { .. }) if !q.order_by().is_empty() => {
                return Outcome::Unsupported;
            }
            Err(err) => panic!("{ctx}: {err}"),
        };
        pages += 1;
        assert!(
            page.records.len() <= page_size as usize,
            "{ctx}: page too long"
        );
        assert!(pages <= records.len() + 1, "{ctx}: paging does not end");
        got.extend(page.records);
        match page.next_page_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    if got.len() != want.len() || got.iter().zip(&want).any(|(g, w)| g != *w) {
        let ids = |v: Vec<&RecordValues>| v.iter().map(|r| r.run_id.clone()).collect::<Vec<_>>();
        panic!(
            "{ctx}: store and evaluator differ\n store: {:?}\n  eval: {:?}\n first differing: {:?}",
            ids(got.iter().collect()),
            ids(want.clone()),
            got.iter().zip(&want).find(|(g, w)| g != *w)
        );
    }
    // The order is the evaluator's total order (no two rows compare equal).
    assert!(
        got.windows(2)
            .all(|w| q.compare(&w[0], &w[1]) == Ordering::Less),
        "{ctx}: order"
    );
    let count = e
        .store
        .count(ns, filter)
        .await
        .unwrap_or_else(|err| panic!("{ctx}: count: {err}"));
    assert_eq!(count, Count::Total(want.len() as u64), "{ctx}: count");
    Outcome::Agreed(want.len())
}
