//! The list-filter case table and what tests need to run it against records: the cases, the
//! attributes a case's context declares, the table's literals as value pools, and a small
//! deterministic generator. Every engine that answers list filters (the evaluator, the SQL
//! stores, the Parquet table, DuckDB) is held to the same table through this module.
//!
//! Enabled by the `testing` feature.
//!
//! ```
//! use visibility_query::testing::{LiteralPools, cases, declared_attributes};
//!
//! let cases = cases();
//! assert_eq!(cases.len(), 268);
//! let accepted: Vec<&str> = cases.iter().filter(|c| c.valid).map(|c| c.query.as_str()).collect();
//! let pools = LiteralPools::from_queries(&accepted);
//! assert!(pools.strings.iter().any(|s| s == "Running"));
//! assert_eq!(declared_attributes("docs").len(), 1);
//! ```

use jiff::Timestamp;
use serde::Deserialize;

use crate::{FieldLayout, SearchAttributeType as T};

/// The case table: Temporal's own tests, docs and parser experiments, one JSON object a line.
pub const CASE_TABLE: &str = include_str!("../tests/data/list-filter-cases.jsonl");

/// One case of [`CASE_TABLE`].
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct Case {
    /// The list filter.
    pub query: String,
    /// Whether the implementation the case comes from accepts it.
    pub valid: bool,
    /// The implementation and attribute set the case assumes (see [`declared_attributes`]).
    #[serde(default)]
    pub context: String,
    /// Why an invalid case is refused, in the source's words.
    #[serde(default)]
    pub error_category: Option<String>,
    /// A record the filter is evaluated on, when the source gave one.
    #[serde(default)]
    pub record: Option<serde_json::Map<String, serde_json::Value>>,
    /// Whether [`Case::record`] matches.
    #[serde(default)]
    pub expected_match: Option<bool>,
}

/// Every case of [`CASE_TABLE`], in order (a case's number is its index).
pub fn cases() -> Vec<Case> {
    CASE_TABLE
        .lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|err| panic!("list-filter case table, line {}: {err}", i + 1))
        })
        .collect()
}

/// The custom attributes of Temporal's Elasticsearch tests.
pub const ES_ATTRIBUTES: [(&str, T); 6] = [
    ("CustomIntField", T::Int),
    ("CustomTextField", T::Text),
    ("CustomKeywordField", T::Keyword),
    ("CustomDatetimeField", T::Datetime),
    ("CustomDoubleField", T::Double),
    ("CustomBoolField", T::Bool),
];

/// The attributes of the CHASM archetype cases (context `... chasm ...`), declared besides
/// the context's others.
pub const CHASM_ATTRIBUTES: [(&str, T); 5] = [
    ("ChasmCompleted", T::Bool),
    ("ChasmStatus", T::Keyword),
    ("ChasmCount", T::Int),
    ("ChasmScore", T::Double),
    ("ChasmStartTime", T::Datetime),
];

/// The custom attributes a case's `context` assumes, in the order a store hands out fields:
/// Temporal's SQL tests alias every field of [`FieldLayout::temporal_sql`] (`AliasFor<Field>`,
/// which lands on `<Field>` because fields are handed out in order), its Elasticsearch tests
/// use [`ES_ATTRIBUTES`] (and `AliasFor<name>` of them with the mapper), the docs
/// `Description`. Other contexts declare none.
pub fn declared_attributes(context: &str) -> Vec<(String, T)> {
    if context.contains("sqltest") {
        T::ALL
            .into_iter()
            .flat_map(|ty| {
                (1..=FieldLayout::temporal_sql().limit(ty))
                    .map(move |i| (format!("AliasFor{ty}{i:02}"), ty))
            })
            .collect()
    } else if context.contains("estest")
        || context.starts_with("functional")
        || context.starts_with("scheduler")
        || context.starts_with("unified-es store")
    {
        let mut declared: Vec<(String, T)> = ES_ATTRIBUTES
            .iter()
            .map(|&(name, ty)| (name.to_owned(), ty))
            .collect();
        if context.contains("TestMapper") {
            declared.extend(
                ES_ATTRIBUTES
                    .iter()
                    .map(|&(name, ty)| (format!("AliasFor{name}"), ty)),
            );
        }
        declared
    } else if context == "docs" {
        vec![("Description".to_owned(), T::Keyword)]
    } else {
        vec![]
    }
}

/// Temporal's predefined attributes (stored with the custom ones, queryable everywhere), which
/// generated records carry too.
pub const PREDEFINED_ATTRIBUTES: &[(&str, T)] = crate::attributes::PREDEFINED;

/// The literals of some filters, sorted and without repeats (ints and floats in the order
/// found), so that records built from them hit the filters, and miss them.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct LiteralPools {
    /// The quoted strings.
    pub strings: Vec<String>,
    /// The integers.
    pub ints: Vec<i64>,
    /// The other numbers.
    pub floats: Vec<f64>,
    /// The strings and integers (as Unix nanoseconds) that are times, floored to the
    /// microsecond as SQL stores keep them, and one more.
    pub times: Vec<Timestamp>,
    /// The Text tokens of the strings ([`crate::sql::text_tokens`]).
    pub words: Vec<String>,
}

impl LiteralPools {
    /// The literals of `queries`.
    pub fn from_queries(queries: &[&str]) -> Self {
        let mut p = Self::default();
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
        let micros = |t: Timestamp| Timestamp::from_microsecond(t.as_microsecond()).ok();
        for s in &p.strings {
            if let Some(t) = s.parse::<Timestamp>().ok().and_then(micros) {
                p.times.push(t);
            }
            p.words.extend(crate::sql::text_tokens(s));
        }
        for &n in &p.ints {
            if let Some(t) = Timestamp::from_nanosecond(i128::from(n))
                .ok()
                .and_then(micros)
            {
                p.times.push(t);
            }
        }
        p.strings.sort();
        p.strings.dedup();
        p.words.sort();
        p.words.dedup();
        p.times.push(Timestamp::constant(1_581_798_640, 0)); // 2020-02-15T20:30:40Z
        p.floats.extend([1.23, 0.5, -2.0]);
        p
    }
}

/// A small deterministic generator (xorshift64*), so that a failing case rebuilds the same
/// records.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed` (any value: zero too).
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// An item of `items`, which must not be empty.
    pub fn pick<'a, X>(&mut self, items: &'a [X]) -> &'a X {
        &items[self.below(items.len())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_hold_each_kind_of_literal() {
        let p = LiteralPools::from_queries(&[
            "WorkflowId = 'b' AND WorkflowId = 'a' AND HistoryLength > -5",
            "CloseTime > '2021-01-02T03:04:05.123456789Z' AND Score < 0.25 AND Text = 'Hello world'",
        ]);
        assert_eq!(
            p.strings,
            ["2021-01-02T03:04:05.123456789Z", "Hello world", "a", "b"]
        );
        assert_eq!(p.ints, [-5]);
        assert_eq!(p.floats, [0.25, 1.23, 0.5, -2.0]);
        let floored: Timestamp = "2021-01-02T03:04:05.123456Z".parse().unwrap();
        assert!(p.times.contains(&floored), "{:?}", p.times);
        assert!(p.words.iter().any(|w| w == "hello"));
    }

    #[test]
    fn contexts_declare_their_attributes() {
        assert!(declared_attributes("unknown").is_empty());
        let mapper = declared_attributes("estest TestMapper");
        assert_eq!(mapper.len(), 2 * ES_ATTRIBUTES.len());
        assert!(mapper.iter().any(|(n, _)| n == "AliasForCustomIntField"));
        let sql = declared_attributes("sqltest");
        let fields: usize = T::ALL
            .into_iter()
            .map(|ty| usize::from(FieldLayout::temporal_sql().limit(ty)))
            .sum();
        assert_eq!(sql.len(), fields);
    }

    #[test]
    fn rng_repeats_for_a_seed() {
        let draw = |seed| {
            let mut r = Rng::new(seed);
            (0..5).map(|_| r.below(1000)).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        assert_eq!(Rng::new(0).below(0), 0);
    }
}
