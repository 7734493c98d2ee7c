//! Visibility record keys: the index a query prunes with before downloading anything.
//!
//! ```text
//! <namespace prefix><close:21>_<start:21>_<status:2>_<h(workflow id)>_<h(type)>_<h(run id)>_<identity>.json
//! ```
//! Times are Unix nanoseconds shifted to be non-negative (+ [`BIAS`]) in 21 fixed digits; the
//! close time is *inverted* (`10^21 - 1 - x`), so an ascending listing walks records newest
//! close time first, the default query order: a default query stops listing once its page is
//! full. `h` is an 8-hex-digit digest; `identity` is 32 hex digits of a digest of (namespace id,
//! workflow id, run id): archiving the same record again overwrites its own key.

use std::collections::BTreeSet;
use std::ops::Bound;

use archiver_core::VisibilityRecord;
use jiff::Timestamp;
use visibility_query::{Plan, TimeRange};

use super::layout::{digest, hex, short_hash};

/// Added to nanoseconds so every representable time is non-negative (jiff's earliest time is
/// about -3.78e20 ns, its latest about 2.54e20 ns).
const BIAS: i128 = 400_000_000_000_000_000_000;
/// The largest 21-digit number.
const MAX21: i128 = 999_999_999_999_999_999_999;
/// Extension of record objects.
const EXTENSION: &str = ".json";

/// What a record's key says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct VisKey {
    pub(super) close_nanos: i128,
    pub(super) start_nanos: i128,
    pub(super) status: i32,
    pub(super) workflow_id_hash: String,
    pub(super) workflow_type_hash: String,
    pub(super) run_id_hash: String,
    pub(super) identity: String,
}

/// The identity digest of a record (namespace id, workflow id, run id).
pub(super) fn identity_of(record: &VisibilityRecord) -> String {
    hex(&digest(&[&record.namespace_id, &record.workflow_id, &record.run_id])[..16])
}

/// The inverted close-time field: the first thing in a key, so listing order is newest first.
pub(super) fn close_field(close_nanos: i128) -> String {
    format!("{:021}", MAX21 - (close_nanos + BIAS))
}

impl VisKey {
    /// The key of `record`.
    pub(super) fn of(record: &VisibilityRecord) -> Self {
        VisKey {
            close_nanos: record.close_time.as_nanosecond(),
            start_nanos: record.start_time.as_nanosecond(),
            status: record.status.as_i32(),
            workflow_id_hash: short_hash(&record.workflow_id),
            workflow_type_hash: short_hash(&record.workflow_type_name),
            run_id_hash: short_hash(&record.run_id),
            identity: identity_of(record),
        }
    }

    /// The key's name under the namespace prefix.
    pub(super) fn name(&self) -> String {
        format!(
            "{}_{:021}_{:02}_{}_{}_{}_{}{EXTENSION}",
            close_field(self.close_nanos),
            self.start_nanos + BIAS,
            self.status,
            self.workflow_id_hash,
            self.workflow_type_hash,
            self.run_id_hash,
            self.identity
        )
    }

    /// Parses a name; `None` for anything that is not a record key.
    pub(super) fn parse(name: &str) -> Option<Self> {
        let stem = name.strip_suffix(EXTENSION)?;
        let mut parts = stem.split('_');
        let mut number = |width: usize| {
            parts
                .next()
                .filter(|p| p.len() == width && p.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|p| p.parse::<i128>().ok())
        };
        let close_nanos = MAX21 - number(21)? - BIAS;
        let start_nanos = number(21)? - BIAS;
        let status = i32::try_from(number(2)?).ok()?;
        let mut hash = |len: usize| {
            parts
                .next()
                .filter(|h| {
                    h.len() == len && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                })
                .map(str::to_owned)
        };
        let key = VisKey {
            close_nanos,
            start_nanos,
            status,
            workflow_id_hash: hash(8)?,
            workflow_type_hash: hash(8)?,
            run_id_hash: hash(8)?,
            identity: hash(32)?,
        };
        parts.next().is_none().then_some(key)
    }
}

/// A query [`Plan`] turned into checks on keys.
#[derive(Debug, Clone)]
pub(super) struct KeyFilter {
    workflow_ids: Option<BTreeSet<String>>,
    run_ids: Option<BTreeSet<String>>,
    workflow_types: Option<BTreeSet<String>>,
    statuses: Option<BTreeSet<i32>>,
    close_time: TimeRange,
    start_time: TimeRange,
}

fn hashes(values: &Option<BTreeSet<String>>) -> Option<BTreeSet<String>> {
    values
        .as_ref()
        .map(|set| set.iter().map(|v| short_hash(v)).collect())
}

fn in_range(range: &TimeRange, nanos: i128) -> bool {
    range.is_unbounded() || Timestamp::from_nanosecond(nanos).is_ok_and(|t| range.contains(t))
}

impl KeyFilter {
    /// The checks `plan` implies.
    pub(super) fn new(plan: &Plan) -> Self {
        KeyFilter {
            workflow_ids: hashes(&plan.workflow_ids),
            run_ids: hashes(&plan.run_ids),
            workflow_types: hashes(&plan.workflow_types),
            statuses: plan
                .statuses
                .as_ref()
                .map(|set| set.iter().map(|s| s.as_i32()).collect()),
            close_time: plan.close_time,
            start_time: plan.start_time,
        }
    }

    /// Whether a record with this key can match (a hash collision can let a non-match through;
    /// a match is never rejected).
    pub(super) fn admits(&self, key: &VisKey) -> bool {
        let allowed = |set: &Option<BTreeSet<String>>, hash: &str| {
            set.as_ref().is_none_or(|s| s.contains(hash))
        };
        allowed(&self.workflow_ids, &key.workflow_id_hash)
            && allowed(&self.run_ids, &key.run_id_hash)
            && allowed(&self.workflow_types, &key.workflow_type_hash)
            && self
                .statuses
                .as_ref()
                .is_none_or(|s| s.contains(&key.status))
            && in_range(&self.close_time, key.close_nanos)
            && in_range(&self.start_time, key.start_nanos)
    }

    /// The newest close time that can match, to start the listing at.
    pub(super) fn newest_close(&self) -> Option<i128> {
        match self.close_time.end {
            Bound::Included(t) | Bound::Excluded(t) => Some(t.as_nanosecond()),
            Bound::Unbounded => None,
        }
    }

    /// Whether every key with a close time of `close_nanos` or older fails the close range,
    /// so the (newest-first) listing can stop.
    pub(super) fn older_than_range(&self, close_nanos: i128) -> bool {
        match self.close_time.start {
            Bound::Included(t) => close_nanos < t.as_nanosecond(),
            Bound::Excluded(t) => close_nanos <= t.as_nanosecond(),
            Bound::Unbounded => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use visibility_query::{ExecutionStatus, SearchAttributes};

    use super::*;

    fn record(close: Timestamp, start: Timestamp) -> VisibilityRecord {
        VisibilityRecord {
            namespace_id: "ns".into(),
            namespace: "n".into(),
            workflow_id: "wf/1".into(),
            run_id: "run".into(),
            workflow_type_name: "Payments".into(),
            start_time: start,
            execution_time: start,
            close_time: close,
            status: ExecutionStatus::Failed,
            history_length: 3,
            memo: None,
            search_attributes: BTreeMap::new(),
            history_archival_uri: String::new(),
            execution_duration_nanos: None,
        }
    }

    fn any_time() -> impl Strategy<Value = Timestamp> {
        (
            Timestamp::MIN.as_second()..=Timestamp::MAX.as_second(),
            0i32..1_000_000_000,
        )
            .prop_map(|(s, n)| Timestamp::new(s, n).unwrap_or(Timestamp::MAX))
    }

    proptest! {
        #[test]
        fn keys_round_trip(close in any_time(), start in any_time()) {
            let key = VisKey::of(&record(close, start));
            let name = key.name();
            prop_assert_eq!(name.len(), 21 + 1 + 21 + 1 + 2 + 1 + 3 * 9 + 32 + 5);
            prop_assert_eq!(VisKey::parse(&name), Some(key));
        }

        #[test]
        fn listing_order_is_newest_close_first(a in any_time(), b in any_time()) {
            let ka = VisKey::of(&record(a, a)).name();
            let kb = VisKey::of(&record(b, b)).name();
            if a > b { prop_assert!(ka < kb); }
        }
    }

    #[test]
    fn filter_follows_the_plan() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        let r = record(
            t("2026-01-02T00:00:00.000000001Z"),
            t("2026-01-01T00:00:00Z"),
        );
        let key = VisKey::of(&r);
        let plan = |q: &str| {
            KeyFilter::new(
                &visibility_query::compile(q, &SearchAttributes::new())
                    .unwrap()
                    .plan(),
            )
        };
        for yes in [
            "",
            "WorkflowId = 'wf/1'",
            "ExecutionStatus = 'Failed'",
            "CloseTime > '2026-01-02T00:00:00Z'",
            "StartTime BETWEEN '2026-01-01T00:00:00Z' AND '2026-01-01T00:00:01Z'",
            "WorkflowType IN ('Payments', 'x') AND RunId = 'run'",
        ] {
            assert!(plan(yes).admits(&key), "{yes}");
        }
        for no in [
            "WorkflowId = 'wf/2'",
            "ExecutionStatus = 'Completed'",
            "CloseTime <= '2026-01-02T00:00:00Z'",
            "StartTime > '2026-01-01T00:00:00Z'",
            "RunId = 'other'",
        ] {
            assert!(!plan(no).admits(&key), "{no}");
        }
        let f = plan("CloseTime >= '2026-01-02T00:00:00Z' AND CloseTime < '2026-01-03T00:00:00Z'");
        assert_eq!(
            f.newest_close(),
            Some(t("2026-01-03T00:00:00Z").as_nanosecond())
        );
        assert!(f.older_than_range(t("2026-01-01T23:59:59Z").as_nanosecond()));
        assert!(!f.older_than_range(t("2026-01-02T00:00:00Z").as_nanosecond()));
    }

    #[test]
    fn strays_do_not_parse() {
        let good = VisKey::of(&record(Timestamp::UNIX_EPOCH, Timestamp::UNIX_EPOCH)).name();
        assert!(VisKey::parse(&good).is_some());
        for stray in [
            "notes.txt".to_owned(),
            good.replace(".json", ".tmp"),
            format!("x{good}"),
            good.replace(".json", "_extra.json"),
        ] {
            assert_eq!(VisKey::parse(&stray), None, "{stray}");
        }
    }
}
