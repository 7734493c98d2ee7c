//! Type checking: names resolved, values converted, operators checked per type.

use std::borrow::Cow;

use jiff::{SignedDuration, Timestamp};

use crate::ast::{
    CompareOp, Expr, Ident, ListFilter, Literal, OrderBy, Predicate, Span, Test, Value,
};
use crate::attributes::{Name, Resolved, SearchAttributeType as T, SearchAttributes, SystemField};
use crate::error::{QueryError, QueryErrorKind as K};
use crate::status::ExecutionStatus;
use crate::value::{from_nanos, parse_duration, parse_rfc3339, text_tokens};

/// Where the evaluator reads a value from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Field {
    System(SystemField),
    /// Read with `Record::search_attribute(name)` and parsed as `ty`.
    Attr {
        /// `'static` for predefined attributes, so only custom names are owned.
        name: Cow<'static, str>,
        ty: T,
    },
}

/// A converted literal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Time(Timestamp),
    Status(ExecutionStatus),
}

/// A checked condition on one field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Check {
    Cmp(CompareOp, Scalar),
    In {
        negated: bool,
        list: Vec<Scalar>,
    },
    Between {
        negated: bool,
        low: Scalar,
        high: Scalar,
    },
    StartsWith {
        negated: bool,
        prefix: String,
    },
    IsNull {
        negated: bool,
    },
    /// Text `=`/`!=`: any query token equals any stored token.
    TextMatch {
        negated: bool,
        tokens: Vec<String>,
    },
    /// KeywordList `=`/`IN` (contains any) and `!=`/`NOT IN` (contains none).
    Contains {
        negated: bool,
        values: Vec<String>,
    },
    /// An old archiver's `Time = t AND SearchPrecision = 'Day'`: `start <= time < end`.
    Window {
        start: Timestamp,
        end: Timestamp,
    },
}

/// A checked boolean expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cond {
    True,
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Leaf(Field, Check),
}

/// A checked ORDER BY key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SortKey {
    pub(crate) field: Field,
    pub(crate) ty: T,
    pub(crate) descending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Precision {
    Day,
    Hour,
    Minute,
    Second,
}

impl Precision {
    fn seconds(self) -> i64 {
        match self {
            Precision::Day => 86_400,
            Precision::Hour => 3_600,
            Precision::Minute => 60,
            Precision::Second => 1,
        }
    }
}

pub(crate) struct Checked {
    pub(crate) cond: Cond,
    pub(crate) order: Vec<SortKey>,
    pub(crate) group_by: Option<String>,
    /// The filter's ORDER BY keys, moved out of it.
    pub(crate) order_by: Vec<OrderBy>,
}

struct Checker<'a> {
    attrs: &'a SearchAttributes,
    src: &'a str,
}

/// Checks `filter`, consuming it: its strings move into the checked tree
/// instead of being copied.
pub(crate) fn check(
    filter: ListFilter,
    attrs: &SearchAttributes,
    src: &str,
) -> Result<Checked, QueryError> {
    let c = Checker { attrs, src };
    let cond = match filter.filter {
        None => Cond::True,
        Some(e) => c.expr(e, None)?,
    };
    let group_by = match &filter.group_by {
        None => None,
        Some(id) => {
            let r = c.resolve(id)?;
            let name = match r.system {
                Some(SystemField::ExecutionStatus) | None => r.name.as_str(&id.value),
                Some(_) => id.value.as_str(),
            };
            if name != "ExecutionStatus"
                && name != "TemporalNamespaceDivision"
                && !name.starts_with("TemporalLowCardinalityKeyword")
            {
                return Err(c.err(
                    K::NotSupported,
                    format!(
                        "'GROUP BY' clause is not supported for search attribute {}",
                        id.value
                    ),
                    id.span,
                ));
            }
            Some(name.to_owned())
        }
    };
    let mut order = Vec::with_capacity(filter.order_by.len());
    for o in &filter.order_by {
        let r = c.resolve(&o.name)?;
        let ty = r.ty;
        if ty == T::Text {
            return Err(c.err(
                K::NotSupported,
                "unable to sort by search attribute type Text",
                o.name.span,
            ));
        }
        order.push(SortKey {
            field: field(&r, || o.name.value.clone()),
            ty,
            descending: o.descending,
        });
    }
    Ok(Checked {
        cond,
        order,
        group_by,
        order_by: filter.order_by,
    })
}

/// The evaluator's field for a resolved name. `written` is the name as the
/// filter wrote it, moved in when it is the custom name itself (the usual
/// case) so that no copy is made.
fn field(r: &Resolved<'_>, written: impl FnOnce() -> String) -> Field {
    if let Some(sys) = r.system {
        return Field::System(sys);
    }
    let name = match r.name {
        Name::Static(n) => Cow::Borrowed(n),
        Name::Custom(n) => {
            let w = written();
            Cow::Owned(if w == n { w } else { n.to_owned() })
        }
        Name::Written => Cow::Owned(written()),
    };
    Field::Attr { name, ty: r.ty }
}

impl Checker<'_> {
    fn err(&self, kind: K, msg: impl Into<String>, span: Span) -> QueryError {
        QueryError::new(kind, msg, self.src, span.start)
    }

    fn resolve(&self, id: &Ident) -> Result<Resolved<'_>, QueryError> {
        self.attrs.resolve(&id.value).ok_or_else(|| {
            self.err(
                K::UnknownSearchAttribute,
                format!("column name '{}' is not a valid search attribute", id.value),
                id.span,
            )
        })
    }

    fn expr(&self, e: Expr, precision: Option<Precision>) -> Result<Cond, QueryError> {
        Ok(match e {
            Expr::And(items) => {
                let p = self.precision_of(&items)?;
                Cond::And(
                    items
                        .into_iter()
                        .map(|i| self.expr(i, p.or(precision)))
                        .collect::<Result<_, _>>()?,
                )
            }
            Expr::Or(items) => Cond::Or(
                items
                    .into_iter()
                    .map(|i| self.expr(i, None))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Not(inner) => Cond::Not(Box::new(self.expr(*inner, None)?)),
            Expr::Predicate(p) if is_precision(&p) => {
                let (_, span) = self.precision_value(&p)?;
                if precision.is_none() {
                    return Err(self.err(
                        K::InvalidExpression,
                        "SearchPrecision requires a StartTime or CloseTime equality in the same AND",
                        span,
                    ));
                }
                // It only widened the time equality beside it.
                Cond::True
            }
            Expr::Predicate(p) => self.predicate(p, precision)?,
        })
    }
    /// The SearchPrecision of a conjunction (nested ANDs included), if it has
    /// one and also a StartTime/CloseTime equality for it to apply to.
    fn precision_of(&self, items: &[Expr]) -> Result<Option<Precision>, QueryError> {
        let mut found = None;
        self.find_precision(items, &mut found)?;
        // Most conjunctions have no SearchPrecision: resolve names only when one does.
        Ok(found
            .map(|f: (Precision, Span)| f.0)
            .filter(|_| self.has_time_eq(items)))
    }

    /// The SearchPrecision predicates of a conjunction and its nested ones,
    /// last first (the order the error for two different ones always used).
    fn find_precision(
        &self,
        items: &[Expr],
        found: &mut Option<(Precision, Span)>,
    ) -> Result<(), QueryError> {
        for e in items.iter().rev() {
            match e {
                Expr::And(more) => self.find_precision(more, found)?,
                Expr::Predicate(p) if is_precision(p) => {
                    let v = self.precision_value(p)?;
                    if found.is_some_and(|f| f.0 != v.0) {
                        return Err(self.err(
                            K::InvalidExpression,
                            "only one expression is allowed for SearchPrecision",
                            v.1,
                        ));
                    }
                    *found = Some(v);
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn has_time_eq(&self, items: &[Expr]) -> bool {
        items.iter().any(|e| match e {
            Expr::And(more) => self.has_time_eq(more),
            Expr::Predicate(Predicate {
                name,
                test: Test::Compare(CompareOp::Eq, _),
            }) => matches!(
                self.attrs.resolve(&name.value).and_then(|r| r.system),
                Some(SystemField::StartTime | SystemField::CloseTime)
            ),
            _ => false,
        })
    }

    fn precision_value(&self, p: &Predicate) -> Result<(Precision, Span), QueryError> {
        let Test::Compare(CompareOp::Eq, lit) = &p.test else {
            return Err(self.err(
                K::InvalidExpression,
                "SearchPrecision accepts only '='",
                p.name.span,
            ));
        };
        let v = match &lit.value {
            Value::String(s) if s == "Day" => Precision::Day,
            Value::String(s) if s == "Hour" => Precision::Hour,
            Value::String(s) if s == "Minute" => Precision::Minute,
            Value::String(s) if s == "Second" => Precision::Second,
            other => {
                return Err(self.err(
                    K::InvalidValue,
                    format!("invalid value for SearchPrecision: {other}"),
                    lit.span,
                ));
            }
        };
        Ok((v, p.name.span))
    }

    fn predicate(&self, p: Predicate, precision: Option<Precision>) -> Result<Cond, QueryError> {
        let r = self.resolve(&p.name)?;
        let ty = r.ty;
        let name = &p.name.value;
        let status = r.system == Some(SystemField::ExecutionStatus);
        let duration = r.system == Some(SystemField::ExecutionDuration);
        let conv = |l: Literal| self.convert(l, ty, name, status, duration);
        let string = |l: Literal| match l.value {
            Value::String(s) => Ok(s),
            other => Err(self.invalid_type(name, ty, &other, l.span)),
        };
        let operator = p.test.operator();
        let allow = |ok: bool| self.allow(ok, (&p.name, operator), ty);
        let check = match p.test {
            Test::Compare(op, l) if ty == T::KeywordList => {
                let v = string(l)?;
                allow(matches!(op, CompareOp::Eq | CompareOp::NotEq))?;
                Check::Contains {
                    negated: op == CompareOp::NotEq,
                    values: vec![v],
                }
            }
            Test::Compare(op, l) if ty == T::Text => {
                let span = l.span;
                let v = string(l)?;
                allow(matches!(op, CompareOp::Eq | CompareOp::NotEq))?;
                let tokens = text_tokens(&v);
                if tokens.is_empty() {
                    return Err(self.err(
                        K::InvalidValue,
                        "unexpected value for Text type search attribute (no tokens found)",
                        span,
                    ));
                }
                Check::TextMatch {
                    negated: op == CompareOp::NotEq,
                    tokens,
                }
            }
            Test::Compare(op, l) => {
                let v = conv(l)?;
                match (precision, r.system, op, &v) {
                    (
                        Some(pr),
                        Some(SystemField::StartTime | SystemField::CloseTime),
                        CompareOp::Eq,
                        Scalar::Time(t),
                    ) => {
                        let (start, end) = window(*t, pr);
                        Check::Window { start, end }
                    }
                    _ => Check::Cmp(op, v),
                }
            }
            Test::In { negated, list } if ty == T::KeywordList => {
                let values = list.into_iter().map(string).collect::<Result<_, _>>()?;
                Check::Contains { negated, values }
            }
            Test::In { negated, list } => {
                let list = list.into_iter().map(conv).collect::<Result<_, _>>()?;
                allow(ty != T::Text)?;
                Check::In { negated, list }
            }
            Test::Between { negated, low, high } => {
                if !matches!(ty, T::Datetime | T::Double | T::Int | T::Keyword) {
                    return Err(self.err(
                        K::InvalidExpression,
                        format!(
                            "cannot do range condition on search attribute '{name}' of type {ty}"
                        ),
                        p.name.span,
                    ));
                }
                Check::Between {
                    negated,
                    low: conv(low)?,
                    high: conv(high)?,
                }
            }
            Test::StartsWith { negated, prefix } => {
                let prefix = match prefix.value {
                    Value::String(s) => s,
                    other => {
                        return Err(self.err(
                            K::InvalidValue,
                            format!(
                                "right-hand side of '{}' must be a literal string (got: {other})",
                                operator.to_lowercase()
                            ),
                            prefix.span,
                        ));
                    }
                };
                allow(ty == T::Keyword)?;
                Check::StartsWith { negated, prefix }
            }
            Test::IsNull { negated } => Check::IsNull { negated },
        };
        Ok(Cond::Leaf(field(&r, || p.name.value), check))
    }

    fn allow(&self, ok: bool, p: (&Ident, &'static str), ty: T) -> Result<(), QueryError> {
        if ok {
            return Ok(());
        }
        Err(self.err(
            K::OperatorNotAllowed,
            format!(
                "operator '{}' not supported for {ty} type search attribute '{}'",
                p.1, p.0.value
            ),
            p.0.span,
        ))
    }

    fn invalid_type(&self, name: &str, ty: T, v: &Value, span: Span) -> QueryError {
        let go_type = match v {
            Value::String(_) => "string",
            Value::Integer(_) => "int64",
            Value::Float(_) => "float64",
            Value::Boolean(_) => "bool",
        };
        self.err(
            K::InvalidValue,
            format!(
                "invalid value type for search attribute {name} of type {ty}: {v} (type: {go_type})"
            ),
            span,
        )
    }

    fn convert(
        &self,
        l: Literal,
        ty: T,
        name: &str,
        status: bool,
        duration: bool,
    ) -> Result<Scalar, QueryError> {
        let span = l.span;
        Ok(match (l.value, ty) {
            (Value::String(s), T::Keyword) if status => Scalar::Status(
                s.parse().map_err(|_| self.err(K::InvalidValue, format!("invalid ExecutionStatus value '{s}'"), span))?,
            ),
            (Value::Integer(n), T::Keyword) if status => Scalar::Status(
                i32::try_from(n)
                    .ok()
                    .and_then(ExecutionStatus::from_i32)
                    .ok_or_else(|| self.err(K::InvalidValue, format!("invalid ExecutionStatus value {n}"), span))?,
            ),
            (Value::String(s), T::Int) if duration => Scalar::Int(parse_duration(&s).map_err(|why| {
                self.err(K::InvalidValue, format!("invalid duration value for search attribute ExecutionDuration: {s} ({why})"), span)
            })?),
            (Value::String(s), T::Keyword | T::KeywordList | T::Text) => Scalar::Str(s),
            (Value::Integer(n), T::Int | T::Double) => Scalar::Int(n),
            (Value::Float(x), T::Int | T::Double) => Scalar::Float(x),
            (Value::Boolean(b), T::Bool) => Scalar::Bool(b),
            (Value::String(s), T::Datetime) => Scalar::Time(
                parse_rfc3339(&s).ok_or_else(|| self.err(K::InvalidValue, format!("unable to parse datetime '{s}'"), span))?,
            ),
            (Value::Integer(n), T::Datetime) => match from_nanos(n) {
                Some(t) => Scalar::Time(t),
                None => return Err(self.invalid_type(name, ty, &Value::Integer(n), span)),
            },
            (v, _) => return Err(self.invalid_type(name, ty, &v, span)),
        })
    }
}

fn is_precision(p: &Predicate) -> bool {
    p.name.value == "SearchPrecision"
}

/// The UTC `precision` unit containing `t`.
fn window(t: Timestamp, p: Precision) -> (Timestamp, Timestamp) {
    let unit = i128::from(p.seconds()) * 1_000_000_000;
    let start = Timestamp::from_nanosecond(t.as_nanosecond().div_euclid(unit) * unit).unwrap_or(t);
    let end = start
        .checked_add(SignedDuration::from_secs(p.seconds()))
        .unwrap_or(Timestamp::MAX);
    (start, end)
}
