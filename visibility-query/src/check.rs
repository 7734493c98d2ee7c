//! Type checking: names resolved, values converted, operators checked per type.

use std::borrow::Cow;

use jiff::{SignedDuration, Timestamp};

use crate::ast::{
    CompareOp, Expr, Ident, ListFilter, Lit, NameRef, OrderBy, Predicate, Span, Test, TestRef, Val,
    Value,
};
use crate::attributes::{Name, Resolved, SearchAttributeType as T, SearchAttributes, SystemField};
use crate::error::{QueryError, QueryErrorKind as K};
use crate::parser::{self, Build};
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

/// Parses and checks `src`, checking each condition as the parser finds it.
pub(crate) fn compile(src: &str, attrs: &SearchAttributes) -> Result<Checked, QueryError> {
    let mut b = CheckEach {
        c: Checker { attrs, src },
        error: None,
        precision: false,
    };
    let parsed = parser::parse_with(src, &mut b)?;
    if b.precision {
        // SearchPrecision changes how the time equalities around it are
        // checked, before or after it: check the whole tree.
        return check(&parser::parse(src)?, attrs, src);
    }
    if let Some(e) = b.error {
        return Err(e);
    }
    b.c.finish(
        parsed.filter.unwrap_or(Cond::True),
        parsed.group_by.as_ref(),
        parsed.order_by,
    )
}

/// Checks conditions as the parser hands them on. The first error is kept
/// and reported only when the whole text parses: syntax errors come first.
struct CheckEach<'a> {
    c: Checker<'a>,
    error: Option<QueryError>,
    /// A SearchPrecision predicate was seen.
    precision: bool,
}

impl<'a> Build<'a> for CheckEach<'_> {
    type Expr = Cond;

    fn and(&mut self, items: Vec<Cond>) -> Cond {
        Cond::And(items)
    }

    fn or(&mut self, items: Vec<Cond>) -> Cond {
        Cond::Or(items)
    }

    fn not(&mut self, inner: Cond) -> Cond {
        Cond::Not(Box::new(inner))
    }

    fn predicate(&mut self, name: NameRef<'a>, test: TestRef<'a>) -> Cond {
        if name.value == "SearchPrecision" {
            self.precision = true;
        }
        if self.precision || self.error.is_some() {
            return Cond::True;
        }
        self.c
            .predicate(&name.value, name.span, test, None)
            .unwrap_or_else(|e| {
                self.error = Some(e);
                Cond::True
            })
    }
}

/// Checks a parsed filter.
pub(crate) fn check(
    filter: &ListFilter,
    attrs: &SearchAttributes,
    src: &str,
) -> Result<Checked, QueryError> {
    let c = Checker { attrs, src };
    let cond = match &filter.filter {
        None => Cond::True,
        Some(e) => c.expr(e, None)?,
    };
    c.finish(cond, filter.group_by.as_ref(), filter.order_by.clone())
}

/// The evaluator's field for a resolved name written as `written`.
fn field(r: &Resolved<'_>, written: &str) -> Field {
    if let Some(sys) = r.system {
        return Field::System(sys);
    }
    let name = match r.name {
        Name::Static(n) => Cow::Borrowed(n),
        Name::Custom(n) => Cow::Owned(n.to_owned()),
        Name::Written => Cow::Owned(written.to_owned()),
    };
    Field::Attr { name, ty: r.ty }
}

impl Checker<'_> {
    /// Checks GROUP BY and ORDER BY after the condition.
    fn finish(
        &self,
        cond: Cond,
        group_by: Option<&Ident>,
        order_by: Vec<OrderBy>,
    ) -> Result<Checked, QueryError> {
        let group_by = match group_by {
            None => None,
            Some(id) => {
                let r = self.resolve(&id.value, id.span)?;
                let name = match r.system {
                    Some(SystemField::ExecutionStatus) | None => r.name.as_str(&id.value),
                    Some(_) => id.value.as_str(),
                };
                if name != "ExecutionStatus"
                    && name != "TemporalNamespaceDivision"
                    && !name.starts_with("TemporalLowCardinalityKeyword")
                {
                    return Err(self.err(
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
        let mut order = Vec::with_capacity(order_by.len());
        for o in &order_by {
            let r = self.resolve(&o.name.value, o.name.span)?;
            let ty = r.ty;
            if ty == T::Text {
                return Err(self.err(
                    K::NotSupported,
                    "unable to sort by search attribute type Text",
                    o.name.span,
                ));
            }
            order.push(SortKey {
                field: field(&r, &o.name.value),
                ty,
                descending: o.descending,
            });
        }
        Ok(Checked {
            cond,
            order,
            group_by,
            order_by,
        })
    }

    fn err(&self, kind: K, msg: impl Into<String>, span: Span) -> QueryError {
        QueryError::new(kind, msg, self.src, span.start)
    }

    fn resolve(&self, name: &str, span: Span) -> Result<Resolved<'_>, QueryError> {
        self.attrs.resolve(name).ok_or_else(|| {
            self.err(
                K::UnknownSearchAttribute,
                format!("column name '{name}' is not a valid search attribute"),
                span,
            )
        })
    }

    fn expr(&self, e: &Expr, precision: Option<Precision>) -> Result<Cond, QueryError> {
        Ok(match e {
            Expr::And(items) => {
                let p = self.precision_of(items)?;
                Cond::And(
                    items
                        .iter()
                        .map(|i| self.expr(i, p.or(precision)))
                        .collect::<Result<_, _>>()?,
                )
            }
            Expr::Or(items) => Cond::Or(
                items
                    .iter()
                    .map(|i| self.expr(i, None))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Not(inner) => Cond::Not(Box::new(self.expr(inner, None)?)),
            Expr::Predicate(p) if is_precision(p) => {
                let (_, span) = self.precision_value(p)?;
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
            Expr::Predicate(p) => {
                self.predicate(&p.name.value, p.name.span, (&p.test).into(), precision)?
            }
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

    /// Checks a test on `name` (written at `span`).
    fn predicate(
        &self,
        name: &str,
        span: Span,
        test: TestRef<'_>,
        precision: Option<Precision>,
    ) -> Result<Cond, QueryError> {
        let r = self.resolve(name, span)?;
        let ty = r.ty;
        let status = r.system == Some(SystemField::ExecutionStatus);
        let duration = r.system == Some(SystemField::ExecutionDuration);
        let conv = |l: Lit<'_>| self.convert(l, ty, name, status, duration);
        let string = |l: Lit<'_>| match l.value {
            Val::Str(s) => Ok(s.into_owned()),
            other => Err(self.invalid_type(name, ty, &other, l.span)),
        };
        let operator = test.operator();
        let allow = |ok: bool| self.allow(ok, (name, span, operator), ty);
        let check = match test {
            TestRef::Compare(op, l) if ty == T::KeywordList => {
                let v = string(l)?;
                allow(matches!(op, CompareOp::Eq | CompareOp::NotEq))?;
                Check::Contains {
                    negated: op == CompareOp::NotEq,
                    values: vec![v],
                }
            }
            TestRef::Compare(op, l) if ty == T::Text => {
                let at = l.span;
                let v = match l.value {
                    Val::Str(s) => s,
                    other => return Err(self.invalid_type(name, ty, &other, at)),
                };
                allow(matches!(op, CompareOp::Eq | CompareOp::NotEq))?;
                let tokens = text_tokens(&v);
                if tokens.is_empty() {
                    return Err(self.err(
                        K::InvalidValue,
                        "unexpected value for Text type search attribute (no tokens found)",
                        at,
                    ));
                }
                Check::TextMatch {
                    negated: op == CompareOp::NotEq,
                    tokens,
                }
            }
            TestRef::Compare(op, l) => {
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
            TestRef::In { negated, list } if ty == T::KeywordList => {
                let values = list.into_iter().map(string).collect::<Result<_, _>>()?;
                Check::Contains { negated, values }
            }
            TestRef::In { negated, list } => {
                let list = list.into_iter().map(conv).collect::<Result<_, _>>()?;
                allow(ty != T::Text)?;
                Check::In { negated, list }
            }
            TestRef::Between { negated, low, high } => {
                if !matches!(ty, T::Datetime | T::Double | T::Int | T::Keyword) {
                    return Err(self.err(
                        K::InvalidExpression,
                        format!(
                            "cannot do range condition on search attribute '{name}' of type {ty}"
                        ),
                        span,
                    ));
                }
                Check::Between {
                    negated,
                    low: conv(low)?,
                    high: conv(high)?,
                }
            }
            TestRef::StartsWith { negated, prefix } => {
                let prefix = match prefix.value {
                    Val::Str(s) => s.into_owned(),
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
            TestRef::IsNull { negated } => Check::IsNull { negated },
        };
        Ok(Cond::Leaf(field(&r, name), check))
    }

    fn allow(&self, ok: bool, p: (&str, Span, &'static str), ty: T) -> Result<(), QueryError> {
        if ok {
            return Ok(());
        }
        Err(self.err(
            K::OperatorNotAllowed,
            format!(
                "operator '{}' not supported for {ty} type search attribute '{}'",
                p.2, p.0
            ),
            p.1,
        ))
    }

    fn invalid_type(&self, name: &str, ty: T, v: &Val<'_>, span: Span) -> QueryError {
        let go_type = match v {
            Val::Str(_) => "string",
            Val::Int(_) => "int64",
            Val::Float(_) => "float64",
            Val::Bool(_) => "bool",
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
        l: Lit<'_>,
        ty: T,
        name: &str,
        status: bool,
        duration: bool,
    ) -> Result<Scalar, QueryError> {
        let span = l.span;
        Ok(match (l.value, ty) {
            (Val::Str(s), T::Keyword) if status => Scalar::Status(
                s.parse().map_err(|_| self.err(K::InvalidValue, format!("invalid ExecutionStatus value '{s}'"), span))?,
            ),
            (Val::Int(n), T::Keyword) if status => Scalar::Status(
                i32::try_from(n)
                    .ok()
                    .and_then(ExecutionStatus::from_i32)
                    .ok_or_else(|| self.err(K::InvalidValue, format!("invalid ExecutionStatus value {n}"), span))?,
            ),
            (Val::Str(s), T::Int) if duration => Scalar::Int(parse_duration(&s).map_err(|why| {
                self.err(K::InvalidValue, format!("invalid duration value for search attribute ExecutionDuration: {s} ({why})"), span)
            })?),
            (Val::Str(s), T::Keyword | T::KeywordList | T::Text) => Scalar::Str(s.into_owned()),
            (Val::Int(n), T::Int | T::Double) => Scalar::Int(n),
            (Val::Float(x), T::Int | T::Double) => Scalar::Float(x),
            (Val::Bool(b), T::Bool) => Scalar::Bool(b),
            (Val::Str(s), T::Datetime) => Scalar::Time(
                parse_rfc3339(&s).ok_or_else(|| self.err(K::InvalidValue, format!("unable to parse datetime '{s}'"), span))?,
            ),
            (Val::Int(n), T::Datetime) => match from_nanos(n) {
                Some(t) => Scalar::Time(t),
                None => return Err(self.invalid_type(name, ty, &Val::Int(n), span)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FieldLayout;

    /// What a check gives, comparable.
    fn outcome(r: Result<Checked, QueryError>) -> Result<String, String> {
        r.map(|c| {
            format!(
                "{:?} {:?} {:?} {:?}",
                c.cond, c.order, c.group_by, c.order_by
            )
        })
        .map_err(|e| format!("{:?} {} {e}", e.kind(), e.offset()))
    }

    /// Checking while parsing gives what checking the parsed tree gives, errors
    /// (which one, where) included, on every query of the case table and more.
    #[test]
    fn compile_agrees_with_check_of_the_tree() {
        let sets = [
            SearchAttributes::new(),
            SearchAttributes::new()
                .with_custom("CustomKeywordField", T::Keyword)
                .with_custom("CustomTextField", T::Text)
                .with_custom("CustomIntField", T::Int)
                .with_custom("CustomDatetimeField", T::Datetime)
                .with_custom("CustomKeywordListField", T::KeywordList),
            SearchAttributes::new()
                .with_field_layout(FieldLayout::temporal_sql())
                .with_custom("Region", T::Keyword),
        ];
        let table = include_str!("../tests/data/list-filter-cases.jsonl");
        let mut queries: Vec<String> = table
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["query"].as_str().unwrap().to_owned()
            })
            .collect();
        queries.extend(
            [
                // The first error is the SearchPrecision one, though written last.
                "Nope = 1 AND CloseTime = '2020-01-01T10:00:00Z' AND SearchPrecision = 'Year'",
                "StartTime = 1 AND (SearchPrecision = 'Hour' AND RunId = 'r')",
                "SearchPrecision = 'Day' OR CloseTime = '2020-01-01T10:00:00Z'",
                "Nope = 1 AND RunId = 2 GROUP BY Nope2 ORDER BY Nope3",
                "RunId = 2 AND Nope = 1 ORDER BY CustomTextField",
                "Nope = 1 AND RunId = 'it''s' LIKE 'x%'",
                "`Region` = 'eu' AND Keyword01 IN ('a', \"b\") ORDER BY Keyword01 DESC, RunId",
            ]
            .map(str::to_owned),
        );
        for q in &queries {
            for attrs in &sets {
                let tree = parser::parse(q).and_then(|f| check(&f, attrs, q));
                assert_eq!(outcome(compile(q, attrs)), outcome(tree), "{q}");
            }
        }
    }
}
