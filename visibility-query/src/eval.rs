//! Evaluation against a record, with SQL's three-valued logic.
//!
//! A comparison with a missing value is *unknown*, `NOT unknown` is unknown, and
//! a record matches only when the whole filter is *true* (as in Temporal's SQL
//! stores, where comparisons with NULL never match). So `CloseTime != t` and
//! `NOT CloseTime = t` both skip open workflows; `IS [NOT] NULL` asks directly.

use std::cmp::Ordering;

use jiff::Timestamp;

use crate::ast::CompareOp;
use crate::attributes::{SearchAttributeType as T, SystemField};
use crate::check::{Check, Cond, Field, Scalar, SortKey};
use crate::record::Record;
use crate::status::ExecutionStatus;
use crate::value::{keyword_list, parse_stored_time, text_tokens};

/// A field's value in a record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FieldValue<'r> {
    Str(&'r str),
    Status(ExecutionStatus),
    Int(i64),
    Float(f64),
    Bool(bool),
    Time(Timestamp),
    /// Text, tokenized on demand.
    Text(&'r str),
    List(Vec<String>),
}

pub(crate) fn field_value<'r>(field: &Field, rec: &'r dyn Record) -> Option<FieldValue<'r>> {
    Some(match field {
        Field::System(f) => match f {
            SystemField::WorkflowId => FieldValue::Str(rec.workflow_id()),
            SystemField::RunId => FieldValue::Str(rec.run_id()),
            SystemField::WorkflowType => FieldValue::Str(rec.workflow_type()),
            SystemField::ExecutionStatus => FieldValue::Status(rec.execution_status()),
            SystemField::StartTime => FieldValue::Time(rec.start_time()?),
            SystemField::ExecutionTime => FieldValue::Time(rec.execution_time()?),
            SystemField::CloseTime => FieldValue::Time(rec.close_time()?),
            SystemField::HistoryLength => FieldValue::Int(rec.history_length()?),
            SystemField::ExecutionDuration => FieldValue::Int(rec.execution_duration()?),
            SystemField::Unexposed => return None,
        },
        Field::Attr { name, ty } => {
            let raw = rec.search_attribute(name.as_ref())?;
            // A stored value that does not parse as its type is treated as missing.
            match ty {
                T::Keyword => FieldValue::Str(raw),
                T::Text => FieldValue::Text(raw),
                T::KeywordList => FieldValue::List(keyword_list(raw)),
                T::Int | T::Double => match raw.trim().parse::<i64>() {
                    Ok(n) => FieldValue::Int(n),
                    Err(_) => {
                        FieldValue::Float(raw.trim().parse::<f64>().ok().filter(|x| !x.is_nan())?)
                    }
                },
                T::Bool => FieldValue::Bool(match raw.trim() {
                    "true" | "TRUE" | "True" => true,
                    "false" | "FALSE" | "False" => false,
                    _ => return None,
                }),
                T::Datetime => FieldValue::Time(parse_stored_time(raw.trim())?),
            }
        }
    })
}

fn num_cmp(a: &FieldValue<'_>, b: &Scalar) -> Option<Ordering> {
    let af = match a {
        FieldValue::Int(x) => {
            if let Scalar::Int(y) = b {
                return Some(x.cmp(y));
            }
            *x as f64
        }
        FieldValue::Float(x) => *x,
        _ => return None,
    };
    let bf = match b {
        Scalar::Int(y) => *y as f64,
        Scalar::Float(y) => *y,
        _ => return None,
    };
    af.partial_cmp(&bf)
}

/// Orders a present value against a literal; `None` when the kinds differ.
fn cmp(a: &FieldValue<'_>, b: &Scalar) -> Option<Ordering> {
    match (a, b) {
        (FieldValue::Str(x), Scalar::Str(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        // ExecutionStatus is a Keyword attribute: ranges compare the names.
        (FieldValue::Status(x), Scalar::Status(y)) => Some(if x == y {
            Ordering::Equal
        } else {
            x.name().cmp(y.name())
        }),
        (FieldValue::Bool(x), Scalar::Bool(y)) => Some(x.cmp(y)),
        (FieldValue::Time(x), Scalar::Time(y)) => Some(x.cmp(y)),
        _ => num_cmp(a, b),
    }
}

fn holds(op: CompareOp, o: Ordering) -> bool {
    match op {
        CompareOp::Eq => o == Ordering::Equal,
        CompareOp::NotEq => o != Ordering::Equal,
        CompareOp::Lt => o == Ordering::Less,
        CompareOp::LtEq => o != Ordering::Greater,
        CompareOp::Gt => o == Ordering::Greater,
        CompareOp::GtEq => o != Ordering::Less,
    }
}

fn leaf(field: &Field, check: &Check, rec: &dyn Record) -> Option<bool> {
    let Some(v) = field_value(field, rec) else {
        return match check {
            Check::IsNull { negated } => Some(!negated),
            _ => None,
        };
    };
    match check {
        Check::IsNull { negated } => Some(*negated),
        Check::Cmp(op, s) => cmp(&v, s).map(|o| holds(*op, o)),
        Check::In { negated, list } => {
            let mut any = false;
            for s in list {
                any |= cmp(&v, s)? == Ordering::Equal;
            }
            Some(any != *negated)
        }
        Check::Between { negated, low, high } => {
            let inside = cmp(&v, low)? != Ordering::Less && cmp(&v, high)? != Ordering::Greater;
            Some(inside != *negated)
        }
        Check::StartsWith { negated, prefix } => {
            let s = match &v {
                FieldValue::Str(s) => *s,
                FieldValue::Status(st) => st.name(),
                _ => return None,
            };
            Some(s.starts_with(prefix.as_str()) != *negated)
        }
        Check::TextMatch { negated, tokens } => {
            let FieldValue::Text(t) = v else { return None };
            let stored = text_tokens(t);
            Some(tokens.iter().any(|q| stored.contains(q)) != *negated)
        }
        Check::Contains { negated, values } => {
            let FieldValue::List(items) = v else {
                return None;
            };
            Some(values.iter().any(|x| items.contains(x)) != *negated)
        }
        Check::Window { start, end } => {
            let FieldValue::Time(t) = v else { return None };
            Some(*start <= t && t < *end)
        }
    }
}

/// Kleene logic: `Some(true)`, `Some(false)` or unknown (`None`).
pub(crate) fn eval(c: &Cond, rec: &dyn Record) -> Option<bool> {
    match c {
        Cond::True => Some(true),
        Cond::Leaf(f, check) => leaf(f, check, rec),
        Cond::Not(inner) => eval(inner, rec).map(|b| !b),
        Cond::And(items) => {
            let mut unknown = false;
            for i in items {
                match eval(i, rec) {
                    Some(false) => return Some(false),
                    None => unknown = true,
                    Some(true) => {}
                }
            }
            if unknown { None } else { Some(true) }
        }
        Cond::Or(items) => {
            let mut unknown = false;
            for i in items {
                match eval(i, rec) {
                    Some(true) => return Some(true),
                    None => unknown = true,
                    Some(false) => {}
                }
            }
            if unknown { None } else { Some(false) }
        }
    }
}

/// Orders two present values of one field.
fn cmp_values(a: &FieldValue<'_>, b: &FieldValue<'_>) -> Ordering {
    use FieldValue as V;
    match (a, b) {
        (V::Str(x) | V::Text(x), V::Str(y) | V::Text(y)) => x.cmp(y),
        (V::Status(x), V::Status(y)) => x.cmp(y),
        (V::Bool(x), V::Bool(y)) => x.cmp(y),
        (V::Time(x), V::Time(y)) => x.cmp(y),
        (V::List(x), V::List(y)) => x.cmp(y),
        (V::Int(x), V::Int(y)) => x.cmp(y),
        (V::Int(_) | V::Float(_), V::Int(_) | V::Float(_)) => {
            let f = |v: &V<'_>| match v {
                V::Int(n) => *n as f64,
                V::Float(x) => *x,
                _ => 0.0,
            };
            f(a).total_cmp(&f(b))
        }
        _ => Ordering::Equal,
    }
}

/// Compares by `keys`, then the tie-breakers. A missing value sorts as larger
/// than any present one, so under `DESC` open workflows (no CloseTime) come
/// first, like the SQL stores' `coalesce(close_time, max)`.
pub(crate) fn compare(keys: &[SortKey], a: &dyn Record, b: &dyn Record) -> Ordering {
    let by = |field: &Field, descending: bool| {
        let o = match (field_value(field, a), field_value(field, b)) {
            (Some(x), Some(y)) => cmp_values(&x, &y),
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (None, None) => Ordering::Equal,
        };
        if descending { o.reverse() } else { o }
    };
    keys.iter()
        .map(|k| by(&k.field, k.descending))
        .chain([
            by(&Field::System(SystemField::CloseTime), true),
            by(&Field::System(SystemField::StartTime), true),
            a.run_id().cmp(b.run_id()),
            a.workflow_id().cmp(b.workflow_id()),
        ])
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}
