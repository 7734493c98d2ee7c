//! Datetimes: the text each engine stores, and literals finer than a microsecond.

use jiff::Timestamp;
use jiff::tz::Offset;

use crate::ast::CompareOp;

use super::Dialect;

/// The text a store writes for a datetime column and a statement binds for a
/// datetime literal: UTC, floored to the microsecond, always six fraction
/// digits so that text order is time order. SQLite:
/// `2020-02-15 20:30:40.123456+00:00`; PostgreSQL (`timestamp`) and MySQL
/// (`DATETIME(6)`): `2020-02-15 20:30:40.123456`. Times before year 0000 are
/// clamped to its first microsecond.
///
/// ```
/// use visibility_query::sql::{datetime_text, Dialect};
/// let t = "2020-02-15T20:30:40.1234569Z".parse().unwrap();
/// assert_eq!(datetime_text(Dialect::Sqlite, t), "2020-02-15 20:30:40.123456+00:00");
/// assert_eq!(datetime_text(Dialect::MySql, t), "2020-02-15 20:30:40.123456");
/// ```
pub fn datetime_text(dialect: Dialect, t: Timestamp) -> String {
    let dt = Offset::UTC.to_datetime(floor_micros(t));
    let zone = if dialect == Dialect::Sqlite {
        "+00:00"
    } else {
        ""
    };
    if dt.year() < 0 {
        return format!("0000-01-01 00:00:00.000000{zone}");
    }
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}{zone}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.subsec_nanosecond() / 1000,
    )
}

/// The close time an open run sorts by: later than any [`Timestamp`] (whose
/// maximum is 9999-12-30 22:00 UTC), so open runs come first and no closed
/// run ties with them.
pub(crate) const MAX_CLOSE: &str = "9999-12-31 23:59:59.999999";

/// [`MAX_CLOSE`] as `dialect` writes datetimes.
pub(crate) fn max_close_text(dialect: Dialect) -> String {
    if dialect == Dialect::Sqlite {
        format!("{MAX_CLOSE}+00:00")
    } else {
        MAX_CLOSE.to_owned()
    }
}

/// `t` rounded down to a whole microsecond (what the store keeps).
pub(crate) fn floor_micros(t: Timestamp) -> Timestamp {
    let ns = t.as_nanosecond();
    Timestamp::from_nanosecond(ns - ns.rem_euclid(1000)).unwrap_or(t)
}

/// A comparison of a stored (microsecond) time with a literal, restated so
/// that it compares with the floored literal, or is decided for every present
/// value (`Always(false)` for `= t` when `t` has a sub-microsecond part).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum TimeCmp {
    Cmp(CompareOp, Timestamp),
    Always(bool),
}

/// `stored op t` for every microsecond-aligned `stored`, restated.
pub(crate) fn time_cmp(op: CompareOp, t: Timestamp) -> TimeCmp {
    let f = floor_micros(t);
    if f == t {
        return TimeCmp::Cmp(op, t);
    }
    // f < t < f + 1µs, and no stored value lies strictly between them.
    match op {
        CompareOp::Eq => TimeCmp::Always(false),
        CompareOp::NotEq => TimeCmp::Always(true),
        CompareOp::Gt | CompareOp::GtEq => TimeCmp::Cmp(CompareOp::Gt, f),
        CompareOp::Lt | CompareOp::LtEq => TimeCmp::Cmp(CompareOp::LtEq, f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The restated comparison agrees with comparing exactly, for every
        /// microsecond-aligned stored time near the literal.
        #[test]
        fn restated_equals_exact(base in -10_000_000_000i64..10_000_000_000, sub in 0i64..3000, delta in -3i64..=3) {
            let t = Timestamp::from_nanosecond(i128::from(base) * 1000 + i128::from(sub)).unwrap();
            let stored = Timestamp::from_nanosecond((i128::from(base) + i128::from(delta)) * 1000).unwrap();
            for op in [CompareOp::Eq, CompareOp::NotEq, CompareOp::Lt, CompareOp::LtEq, CompareOp::Gt, CompareOp::GtEq] {
                let exact = holds(op, stored.cmp(&t));
                let restated = match time_cmp(op, t) {
                    TimeCmp::Always(b) => b,
                    TimeCmp::Cmp(o, f) => {
                        proptest::prop_assert_eq!(f, floor_micros(f));
                        holds(o, stored.cmp(&f))
                    }
                };
                proptest::prop_assert_eq!(exact, restated, "{:?} {} {}", op, stored, t);
            }
        }

        /// Text order is time order.
        #[test]
        fn text_order(a in -60_000_000_000_000_000i64..250_000_000_000_000_000, b in -60_000_000_000_000_000i64..250_000_000_000_000_000) {
            let (ta, tb) = (floor_micros(Timestamp::from_nanosecond(i128::from(a) * 1000).unwrap()), floor_micros(Timestamp::from_nanosecond(i128::from(b) * 1000).unwrap()));
            for d in [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql] {
                proptest::prop_assert_eq!(datetime_text(d, ta).cmp(&datetime_text(d, tb)), ta.cmp(&tb));
            }
        }
    }

    fn holds(op: CompareOp, o: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match op {
            CompareOp::Eq => o == Equal,
            CompareOp::NotEq => o != Equal,
            CompareOp::Lt => o == Less,
            CompareOp::LtEq => o != Greater,
            CompareOp::Gt => o == Greater,
            CompareOp::GtEq => o != Less,
        }
    }
}
