//! What a provider's index can use: a necessary condition derived from the
//! checked filter, exact when nothing is left for the residual.
//!
//! Under three-valued logic `NOT e` is true exactly when `e` is *false*, so the
//! derivation tracks both: the constraint implied by "e is true" and the one
//! implied by "e is false". `AND` intersects (true side) or unions (false
//! side), `OR` the reverse, `NOT` swaps the sides. Leaves the index cannot use
//! contribute "no constraint", which is always safe.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use jiff::Timestamp;

use crate::ast::CompareOp;
use crate::attributes::{SearchAttributeType, SystemField};
use crate::check::{Check, Cond, Field, Scalar};
use crate::record::Record;
use crate::status::ExecutionStatus;

/// A time interval; a bounded range also requires the time to be present.
///
/// ```
/// use std::ops::Bound;
/// use visibility_query::{TimeRange, Timestamp};
/// let t: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
/// let r = TimeRange { start: Bound::Included(t), end: Bound::Unbounded };
/// assert!(r.contains(t) && !r.is_unbounded());
/// assert!(TimeRange::default().is_unbounded());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeRange {
    /// Lower bound.
    pub start: Bound<Timestamp>,
    /// Upper bound.
    pub end: Bound<Timestamp>,
}

impl Default for TimeRange {
    /// `Unbounded..Unbounded`.
    fn default() -> Self {
        TimeRange {
            start: Bound::Unbounded,
            end: Bound::Unbounded,
        }
    }
}

impl TimeRange {
    /// Whether `t` is inside.
    pub fn contains(&self, t: Timestamp) -> bool {
        let lo = match self.start {
            Bound::Included(s) => t >= s,
            Bound::Excluded(s) => t > s,
            Bound::Unbounded => true,
        };
        let hi = match self.end {
            Bound::Included(e) => t <= e,
            Bound::Excluded(e) => t < e,
            Bound::Unbounded => true,
        };
        lo && hi
    }

    /// Whether both ends are unbounded (no constraint at all).
    pub fn is_unbounded(&self) -> bool {
        matches!((self.start, self.end), (Bound::Unbounded, Bound::Unbounded))
    }

    /// Whether no time is inside.
    pub fn is_empty(&self) -> bool {
        match (self.start, self.end) {
            (Bound::Included(s), Bound::Included(e)) => s > e,
            (Bound::Included(s) | Bound::Excluded(s), Bound::Excluded(e))
            | (Bound::Excluded(s), Bound::Included(e)) => s >= e,
            _ => false,
        }
    }

    /// Whether a record's (possibly missing) time satisfies the range.
    fn admits(&self, t: Option<Timestamp>) -> bool {
        self.is_unbounded() || t.is_some_and(|t| self.contains(t))
    }

    fn intersect(&self, o: &TimeRange) -> TimeRange {
        TimeRange {
            start: tighter(self.start, o.start, true),
            end: tighter(self.end, o.end, false),
        }
    }

    fn hull(&self, o: &TimeRange) -> TimeRange {
        TimeRange {
            start: looser(self.start, o.start, true),
            end: looser(self.end, o.end, false),
        }
    }
}

fn key(b: Bound<Timestamp>) -> Option<Timestamp> {
    match b {
        Bound::Included(t) | Bound::Excluded(t) => Some(t),
        Bound::Unbounded => None,
    }
}

/// The stricter of two bounds (`lower`: the larger lower bound).
fn tighter(a: Bound<Timestamp>, b: Bound<Timestamp>, lower: bool) -> Bound<Timestamp> {
    match (key(a), key(b)) {
        (None, _) => b,
        (_, None) => a,
        (Some(x), Some(y)) if x == y => {
            if matches!(a, Bound::Excluded(_)) {
                a
            } else {
                b
            }
        }
        (Some(x), Some(y)) => {
            if (x > y) == lower {
                a
            } else {
                b
            }
        }
    }
}

/// The looser of two bounds.
fn looser(a: Bound<Timestamp>, b: Bound<Timestamp>, lower: bool) -> Bound<Timestamp> {
    match (key(a), key(b)) {
        (None, _) | (_, None) => Bound::Unbounded,
        (Some(x), Some(y)) if x == y => {
            if matches!(a, Bound::Included(_)) {
                a
            } else {
                b
            }
        }
        (Some(x), Some(y)) => {
            if (x < y) == lower {
                a
            } else {
                b
            }
        }
    }
}

/// What a provider index can use. A NECESSARY condition: every record that
/// matches the query satisfies every constraint here. Providers prune with it,
/// then call [`CheckedQuery::matches`](crate::CheckedQuery::matches) on candidates.
///
/// ```
/// use visibility_query::{compile, SearchAttributes};
/// let q = compile("WorkflowId IN ('a', 'b') AND CloseTime >= '2024-01-01T00:00:00Z'", &SearchAttributes::new()).unwrap();
/// let plan = q.plan();
/// assert_eq!(plan.workflow_ids.unwrap().len(), 2);
/// assert!(!plan.close_time.is_unbounded());
/// assert!(plan.exact);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// Allowed workflow IDs; `None` = unconstrained.
    pub workflow_ids: Option<BTreeSet<String>>,
    /// Allowed run IDs.
    pub run_ids: Option<BTreeSet<String>>,
    /// Allowed workflow types.
    pub workflow_types: Option<BTreeSet<String>>,
    /// Allowed statuses.
    pub statuses: Option<BTreeSet<ExecutionStatus>>,
    /// Allowed close times (bounded also means "closed").
    pub close_time: TimeRange,
    /// Allowed start times.
    pub start_time: TimeRange,
    /// Allowed values of Keyword search attributes, by name (an attribute not named is
    /// unconstrained): what a Bloom filter on a keyword column can rule out. These never make
    /// the plan exact.
    pub keywords: BTreeMap<String, BTreeSet<String>>,
    /// true when the constraints above are exactly the filter (the residual is always true).
    pub exact: bool,
}

impl Plan {
    /// Whether the plan provably matches nothing.
    pub fn is_empty(&self) -> bool {
        self.workflow_ids.as_ref().is_some_and(BTreeSet::is_empty)
            || self.run_ids.as_ref().is_some_and(BTreeSet::is_empty)
            || self.workflow_types.as_ref().is_some_and(BTreeSet::is_empty)
            || self.statuses.as_ref().is_some_and(BTreeSet::is_empty)
            || self.close_time.is_empty()
            || self.start_time.is_empty()
            || self.keywords.values().any(BTreeSet::is_empty)
    }

    /// Whether a record satisfies every constraint of the plan.
    pub fn admits(&self, record: &dyn Record) -> bool {
        fn allowed<T: Ord + ?Sized, O: std::borrow::Borrow<T> + Ord>(
            set: &Option<BTreeSet<O>>,
            v: &T,
        ) -> bool {
            set.as_ref().is_none_or(|s| s.contains(v))
        }
        allowed(&self.workflow_ids, record.workflow_id())
            && allowed(&self.run_ids, record.run_id())
            && allowed(&self.workflow_types, record.workflow_type())
            && allowed(&self.statuses, &record.execution_status())
            && self.close_time.admits(record.close_time())
            && self.start_time.admits(record.start_time())
            && self.keywords.iter().all(|(name, values)| {
                record
                    .search_attribute(name)
                    .is_some_and(|v| values.contains(v))
            })
    }

    fn everything(exact: bool) -> Plan {
        Plan {
            exact,
            ..Plan::default()
        }
    }

    fn nothing() -> Plan {
        Plan {
            workflow_ids: Some(BTreeSet::new()),
            exact: true,
            ..Plan::default()
        }
    }

    /// Which constraints are set, one bit each.
    fn dims(&self) -> u8 {
        u8::from(self.workflow_ids.is_some())
            | u8::from(self.run_ids.is_some()) << 1
            | u8::from(self.workflow_types.is_some()) << 2
            | u8::from(self.statuses.is_some()) << 3
            | u8::from(!self.close_time.is_unbounded()) << 4
            | u8::from(!self.start_time.is_unbounded()) << 5
            | u8::from(!self.keywords.is_empty()) << 6
    }

    fn intersect(mut self, o: Plan) -> Plan {
        fn both<T: Ord>(a: Option<BTreeSet<T>>, b: Option<BTreeSet<T>>) -> Option<BTreeSet<T>> {
            match (a, b) {
                (Some(mut x), Some(y)) => {
                    x.retain(|v| y.contains(v));
                    Some(x)
                }
                (x, None) => x,
                (None, y) => y,
            }
        }
        self.workflow_ids = both(self.workflow_ids, o.workflow_ids);
        self.run_ids = both(self.run_ids, o.run_ids);
        self.workflow_types = both(self.workflow_types, o.workflow_types);
        self.statuses = both(self.statuses, o.statuses);
        self.close_time = self.close_time.intersect(&o.close_time);
        self.start_time = self.start_time.intersect(&o.start_time);
        for (name, values) in o.keywords {
            self.keywords
                .entry(name)
                .and_modify(|mine| mine.retain(|v| values.contains(v)))
                .or_insert(values);
        }
        self.exact &= o.exact;
        self
    }

    fn union(self, o: Plan) -> Plan {
        if self.is_empty() {
            return o;
        }
        if o.is_empty() {
            return self;
        }
        fn either<T: Ord>(a: Option<BTreeSet<T>>, b: Option<BTreeSet<T>>) -> Option<BTreeSet<T>> {
            match (a, b) {
                (Some(mut x), Some(y)) => {
                    x.extend(y);
                    Some(x)
                }
                _ => None,
            }
        }
        // A union is exact only when both sides constrain the same single set
        // (WorkflowId = a OR WorkflowId = b), or one side is "everything".
        let (da, db) = (self.dims(), o.dims());
        let same_set = da == db && da.count_ones() == 1 && da & 0b1111 != 0;
        let exact = self.exact && o.exact && (same_set || da == 0 || db == 0);
        Plan {
            workflow_ids: either(self.workflow_ids, o.workflow_ids),
            run_ids: either(self.run_ids, o.run_ids),
            workflow_types: either(self.workflow_types, o.workflow_types),
            statuses: either(self.statuses, o.statuses),
            close_time: self.close_time.hull(&o.close_time),
            start_time: self.start_time.hull(&o.start_time),
            // Only an attribute both sides constrain stays constrained.
            keywords: self
                .keywords
                .into_iter()
                .filter_map(|(name, mut values)| {
                    values.extend(o.keywords.get(&name)?.iter().cloned());
                    Some((name, values))
                })
                .collect(),
            exact,
        }
    }
}

/// The constraint implied by `c` evaluating to `truth`.
pub(crate) fn derive(c: &Cond, truth: bool) -> Plan {
    match c {
        Cond::True => {
            if truth {
                Plan::everything(true)
            } else {
                Plan::nothing()
            }
        }
        Cond::Not(inner) => derive(inner, !truth),
        Cond::And(items) | Cond::Or(items) => {
            let conjunctive = matches!(c, Cond::And(_)) == truth;
            let mut parts = items.iter().map(|i| derive(i, truth));
            let first = parts.next().unwrap_or_else(|| Plan::everything(true));
            if conjunctive {
                parts.fold(first, Plan::intersect)
            } else {
                parts.fold(first, Plan::union)
            }
        }
        Cond::Leaf(Field::System(f), check) => {
            leaf(*f, check, truth).unwrap_or_else(|| Plan::everything(false))
        }
        Cond::Leaf(
            Field::Attr {
                name,
                ty: SearchAttributeType::Keyword,
            },
            check,
        ) => keyword(name, check, truth).unwrap_or_else(|| Plan::everything(false)),
        Cond::Leaf(Field::Attr { .. }, _) => Plan::everything(false),
    }
}

/// The values a Keyword attribute must hold for the check to have this truth value.
fn keyword(name: &str, check: &Check, truth: bool) -> Option<Plan> {
    let values = members(check, truth)?
        .iter()
        .map(|s| match s {
            Scalar::Str(s) => Some(s.clone()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    Some(Plan {
        keywords: BTreeMap::from([(name.to_owned(), values)]),
        ..Plan::everything(false)
    })
}

fn leaf(f: SystemField, check: &Check, truth: bool) -> Option<Plan> {
    let mut p = Plan::everything(true);
    match f {
        SystemField::WorkflowId | SystemField::RunId | SystemField::WorkflowType => {
            let set: BTreeSet<String> = members(check, truth)?
                .iter()
                .map(|s| match s {
                    Scalar::Str(s) => Some(s.clone()),
                    _ => None,
                })
                .collect::<Option<_>>()?;
            match f {
                SystemField::WorkflowId => p.workflow_ids = Some(set),
                SystemField::RunId => p.run_ids = Some(set),
                _ => p.workflow_types = Some(set),
            }
        }
        SystemField::ExecutionStatus => {
            let set = members(check, truth)?
                .iter()
                .map(|s| match s {
                    Scalar::Status(s) => Some(*s),
                    _ => None,
                })
                .collect::<Option<_>>()?;
            p.statuses = Some(set);
        }
        SystemField::CloseTime | SystemField::StartTime => {
            let r = range(check, truth)?;
            if f == SystemField::CloseTime {
                p.close_time = r
            } else {
                p.start_time = r
            }
        }
        _ => return None,
    }
    Some(p)
}

/// The values a field must equal for the check to have this truth value.
fn members(check: &Check, truth: bool) -> Option<&[Scalar]> {
    match check {
        Check::Cmp(CompareOp::Eq, v) if truth => Some(std::slice::from_ref(v)),
        Check::Cmp(CompareOp::NotEq, v) if !truth => Some(std::slice::from_ref(v)),
        Check::In { negated, list } if *negated != truth => Some(list),
        _ => None,
    }
}

/// The time range a field must lie in for the check to have this truth value
/// (either truth value of a comparison implies the time is present).
fn range(check: &Check, truth: bool) -> Option<TimeRange> {
    let t = |s: &Scalar| match s {
        Scalar::Time(t) => Some(*t),
        _ => None,
    };
    use Bound::{Excluded as Ex, Included as In, Unbounded as Un};
    let (start, end) = match check {
        Check::Cmp(op, v) => {
            let v = t(v)?;
            // `x < v` is false exactly when `x >= v`, and so on.
            let op = if truth { *op } else { negate(*op) };
            match op {
                CompareOp::Eq => (In(v), In(v)),
                CompareOp::NotEq => return None,
                CompareOp::Lt => (Un, Ex(v)),
                CompareOp::LtEq => (Un, In(v)),
                CompareOp::Gt => (Ex(v), Un),
                CompareOp::GtEq => (In(v), Un),
            }
        }
        Check::Between { negated, low, high } if *negated != truth => (In(t(low)?), In(t(high)?)),
        Check::Window { start, end } if truth => (In(*start), Ex(*end)),
        _ => return None,
    };
    Some(TimeRange { start, end })
}

fn negate(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Eq => CompareOp::NotEq,
        CompareOp::NotEq => CompareOp::Eq,
        CompareOp::Lt => CompareOp::GtEq,
        CompareOp::LtEq => CompareOp::Gt,
        CompareOp::Gt => CompareOp::LtEq,
        CompareOp::GtEq => CompareOp::Lt,
    }
}
