//! Checked conditions to SQL text and parameters.
//!
//! The evaluator's Kleene logic is SQL's own, so AND/OR/NOT map directly;
//! every leaf is written so that it is NULL exactly when the evaluator's leaf
//! is unknown (its field missing), and otherwise agrees with it.

use jiff::Timestamp;

use crate::ast::CompareOp;
use crate::attributes::SearchAttributes;
use crate::check::{Check, Cond, Field, Scalar};
use crate::record::RecordValues;
use crate::status::ExecutionStatus;

use super::column::{Column, Kind, column};
use super::datetime::{TimeCmp, datetime_text, max_close_text, time_cmp};
use super::{Dialect, SqlError, SqlParam, SqlStatement};

/// A value about to be bound, with what the engine must know of its type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Bind {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Time(Timestamp),
    /// The stand-in for a missing close time, later than any [`Timestamp`].
    MaxTime,
}

/// A statement under construction.
#[derive(Debug)]
pub(crate) struct Sql<'a> {
    pub(crate) d: Dialect,
    pub(crate) attrs: &'a SearchAttributes,
    pub(crate) text: String,
    pub(crate) params: Vec<SqlParam>,
}

pub(crate) fn op_text(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "=",
        CompareOp::NotEq => "!=",
        CompareOp::Lt => "<",
        CompareOp::LtEq => "<=",
        CompareOp::Gt => ">",
        CompareOp::GtEq => ">=",
    }
}

/// `col op v` restated for the column, or decided for every present value.
enum Atom {
    Cmp {
        /// The column cast to a double (an Int column against a float literal).
        as_double: bool,
        op: CompareOp,
        value: Bind,
    },
    Always(bool),
}

impl<'a> Sql<'a> {
    pub(crate) fn new(d: Dialect, attrs: &'a SearchAttributes) -> Self {
        Sql {
            d,
            attrs,
            text: String::new(),
            params: Vec::new(),
        }
    }

    pub(crate) fn finish(self) -> SqlStatement {
        SqlStatement {
            sql: self.text,
            params: self.params,
        }
    }

    pub(crate) fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }

    /// Appends a placeholder for `b` (with the cast the engine needs).
    pub(crate) fn bind(&mut self, b: Bind) -> Result<(), SqlError> {
        let d = self.d;
        let (param, cast) = match b {
            Bind::Text(s) => {
                if d == Dialect::Postgres && s.contains('\0') {
                    return Err(SqlError::NotSupported(
                        "a NUL character in a PostgreSQL text value".into(),
                    ));
                }
                (SqlParam::Text(s), "text")
            }
            Bind::Int(n) => (SqlParam::Int(n), "bigint"),
            Bind::Float(x) => {
                if x.is_nan() || (d == Dialect::MySql && x.is_infinite()) {
                    return Err(SqlError::NotSupported(format!(
                        "the number {x} in a {d:?} statement"
                    )));
                }
                (SqlParam::Float(x), "double precision")
            }
            Bind::Bool(v) => (SqlParam::Bool(v), "boolean"),
            Bind::Time(t) => (SqlParam::Text(datetime_text(d, t)), "timestamp"),
            Bind::MaxTime => (SqlParam::Text(max_close_text(d)), "timestamp"),
        };
        let n = self.params.len() + 1;
        let time = cast == "timestamp";
        self.params.push(param);
        match d {
            Dialect::Sqlite => self.text.push_str(&d.placeholder(n)),
            Dialect::Postgres => {
                self.text.push_str(&d.placeholder(n));
                self.text.push_str("::");
                self.text.push_str(cast);
            }
            Dialect::MySql if time => self.text.push_str("CAST(? AS DATETIME(6))"),
            Dialect::MySql => self.text.push('?'),
        }
        Ok(())
    }

    fn binds(&mut self, values: Vec<Bind>) -> Result<(), SqlError> {
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(v)?;
        }
        Ok(())
    }

    /// Appends `c`; compound conditions are parenthesized by their parent.
    pub(crate) fn cond(&mut self, c: &Cond) -> Result<(), SqlError> {
        match c {
            Cond::True => self.push("TRUE"),
            Cond::Or(items) if items.is_empty() => self.push("FALSE"),
            Cond::And(items) => self.conjunction(items)?,
            Cond::Or(items) => self.join(items, " OR ")?,
            Cond::Not(inner) => {
                self.push("NOT (");
                self.cond(inner)?;
                self.push(")");
            }
            Cond::Leaf(field, check) => self.leaf(field, check)?,
        }
        Ok(())
    }

    /// `a AND b ...`, leaving out the `TRUE`s (a SearchPrecision leaves one).
    pub(crate) fn conjunction(&mut self, items: &[Cond]) -> Result<(), SqlError> {
        let mut first = true;
        for item in items.iter().filter(|c| **c != Cond::True) {
            if !first {
                self.push(" AND ");
            }
            first = false;
            self.nested(item)?;
        }
        if first {
            self.push("TRUE");
        }
        Ok(())
    }

    fn join(&mut self, items: &[Cond], sep: &str) -> Result<(), SqlError> {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.push(sep);
            }
            self.nested(item)?;
        }
        Ok(())
    }

    pub(crate) fn nested(&mut self, c: &Cond) -> Result<(), SqlError> {
        // NOT binds tighter than AND and OR, and every leaf is one operand.
        if matches!(c, Cond::And(_) | Cond::Or(_)) {
            self.push("(");
            self.cond(c)?;
            self.push(")");
            Ok(())
        } else {
            self.cond(c)
        }
    }

    fn leaf(&mut self, field: &Field, check: &Check) -> Result<(), SqlError> {
        let col = column(field, self.attrs)?;
        if let Check::IsNull { negated } = check {
            if col.kind == Kind::Absent {
                self.push(if *negated { "FALSE" } else { "TRUE" });
            } else {
                self.push(&col.name);
                self.push(if *negated { " IS NOT NULL" } else { " IS NULL" });
            }
            return Ok(());
        }
        match col.kind {
            // Every other test of a missing value is unknown.
            Kind::Absent => self.push(if self.d == Dialect::Postgres {
                "CAST(NULL AS BOOLEAN)"
            } else {
                "NULL"
            }),
            Kind::Status => self.status(field, check)?,
            Kind::List => self.list(&col, check)?,
            _ => self.scalar(&col, check)?,
        }
        Ok(())
    }

    /// The status has nine values and is never missing: ask the evaluator
    /// which satisfy the check (ranges compare names there) and test the set.
    fn status(&mut self, field: &Field, check: &Check) -> Result<(), SqlError> {
        let leaf = Cond::Leaf(field.clone(), check.clone());
        let mut yes = Vec::new();
        let mut no = Vec::new();
        for s in ExecutionStatus::ALL {
            let rec = RecordValues::default().with_status(s);
            match crate::eval::eval(&leaf, &rec) {
                Some(true) => yes.push(s),
                Some(false) => no.push(s),
                None => {
                    return Err(SqlError::NotSupported(format!(
                        "this test of ExecutionStatus ({check:?})"
                    )));
                }
            }
        }
        let (negated, set) = if yes.len() <= no.len() {
            (false, yes)
        } else {
            (true, no)
        };
        let ints = |v: Vec<ExecutionStatus>| -> Vec<Bind> {
            v.into_iter()
                .map(|s| Bind::Int(i64::from(s.as_i32())))
                .collect()
        };
        match set.len() {
            0 => self.push(if negated { "TRUE" } else { "FALSE" }),
            1 => {
                self.push(if negated { "status != " } else { "status = " });
                self.binds(ints(set))?;
            }
            _ => {
                self.push(if negated {
                    "status NOT IN ("
                } else {
                    "status IN ("
                });
                self.binds(ints(set))?;
                self.push(")");
            }
        }
        Ok(())
    }

    /// `CASE WHEN col IS NULL THEN NULL ELSE <b> END`: unknown when missing,
    /// like every evaluator test but IS NULL.
    fn always(&mut self, col: &Column, b: bool) {
        self.push("CASE WHEN ");
        self.push(&col.name);
        self.push(if b {
            " IS NULL THEN NULL ELSE TRUE END"
        } else {
            " IS NULL THEN NULL ELSE FALSE END"
        });
    }

    fn column_as(&mut self, col: &Column, as_double: bool) {
        if as_double {
            self.push("CAST(");
            self.push(&col.name);
            self.push(match self.d {
                Dialect::Sqlite => " AS REAL)",
                Dialect::Postgres => " AS DOUBLE PRECISION)",
                Dialect::MySql => " AS DOUBLE)",
            });
        } else {
            self.push(&col.name);
        }
    }

    /// `col op v` for a column of a scalar kind.
    fn atom(&self, col: &Column, op: CompareOp, v: &Scalar) -> Result<Atom, SqlError> {
        let cmp = |op, value| Atom::Cmp {
            as_double: false,
            op,
            value,
        };
        Ok(match (col.kind, v) {
            (Kind::Keyword, Scalar::Str(s)) => match s.find('\0') {
                // PostgreSQL text holds no NUL, so `s` compares with stored
                // values as its part before the NUL, followed by something
                // smaller than any character.
                Some(nul) if self.d == Dialect::Postgres => {
                    let head = Bind::Text(s[..nul].to_owned());
                    match op {
                        CompareOp::Eq => Atom::Always(false),
                        CompareOp::NotEq => Atom::Always(true),
                        CompareOp::Lt | CompareOp::LtEq => cmp(CompareOp::LtEq, head),
                        CompareOp::Gt | CompareOp::GtEq => cmp(CompareOp::Gt, head),
                    }
                }
                _ => cmp(op, Bind::Text(s.clone())),
            },
            (Kind::Int, Scalar::Int(n)) => cmp(op, Bind::Int(*n)),
            // The evaluator compares an integer with a float as `n as f64`.
            (Kind::Int, Scalar::Float(x)) => Atom::Cmp {
                as_double: true,
                op,
                value: Bind::Float(*x),
            },
            (Kind::Double, Scalar::Int(n)) => cmp(op, Bind::Float(*n as f64)),
            (Kind::Double, Scalar::Float(x)) => cmp(op, Bind::Float(*x)),
            (Kind::Bool, Scalar::Bool(b)) => cmp(op, Bind::Bool(*b)),
            (Kind::Time, Scalar::Time(t)) => match time_cmp(op, *t) {
                TimeCmp::Always(b) => Atom::Always(b),
                TimeCmp::Cmp(op, f) => cmp(op, Bind::Time(f)),
            },
            _ => return Err(mismatch(col, v)),
        })
    }

    fn write_atom(&mut self, col: &Column, a: Atom) -> Result<(), SqlError> {
        match a {
            Atom::Always(b) => self.always(col, b),
            Atom::Cmp {
                as_double,
                op,
                value,
            } => {
                self.column_as(col, as_double);
                self.push(" ");
                self.push(op_text(op));
                self.push(" ");
                self.bind(value)?;
            }
        }
        Ok(())
    }

    fn scalar(&mut self, col: &Column, check: &Check) -> Result<(), SqlError> {
        match check {
            Check::Cmp(op, v) => {
                let a = self.atom(col, *op, v)?;
                self.write_atom(col, a)
            }
            Check::In { negated, list } => self.in_list(col, *negated, list),
            Check::Between { negated, low, high } => {
                let lo = self.atom(col, CompareOp::GtEq, low)?;
                let hi = self.atom(col, CompareOp::LtEq, high)?;
                self.push(if *negated { "NOT (" } else { "(" });
                self.write_atom(col, lo)?;
                self.push(" AND ");
                self.write_atom(col, hi)?;
                self.push(")");
                Ok(())
            }
            Check::Window { start, end } => {
                let lo = self.atom(col, CompareOp::GtEq, &Scalar::Time(*start))?;
                let hi = self.atom(col, CompareOp::Lt, &Scalar::Time(*end))?;
                self.push("(");
                self.write_atom(col, lo)?;
                self.push(" AND ");
                self.write_atom(col, hi)?;
                self.push(")");
                Ok(())
            }
            Check::StartsWith { negated, prefix } if col.kind == Kind::Keyword => {
                self.starts_with(col, *negated, prefix)
            }
            other => Err(SqlError::NotSupported(format!(
                "{other:?} on column {}",
                col.name
            ))),
        }
    }

    /// `col [NOT] IN (...)`: values that can never be equal are dropped, and
    /// an Int column meets float values as a double, like the evaluator.
    fn in_list(&mut self, col: &Column, negated: bool, list: &[Scalar]) -> Result<(), SqlError> {
        let mut plain = Vec::new();
        let mut doubles = Vec::new();
        for v in list {
            match self.atom(col, CompareOp::Eq, v)? {
                Atom::Cmp {
                    as_double: false,
                    value,
                    ..
                } => plain.push(value),
                Atom::Cmp {
                    as_double: true,
                    value,
                    ..
                } => doubles.push(value),
                Atom::Always(_) => {}
            }
        }
        let groups: Vec<(bool, Vec<Bind>)> = [(false, plain), (true, doubles)]
            .into_iter()
            .filter(|g| !g.1.is_empty())
            .collect();
        match groups.len() {
            0 => self.always(col, negated),
            1 => {
                let (as_double, values) = groups.into_iter().next().unwrap_or_default();
                self.column_as(col, as_double);
                self.push(if negated { " NOT IN (" } else { " IN (" });
                self.binds(values)?;
                self.push(")");
            }
            _ => {
                self.push(if negated { "NOT (" } else { "(" });
                for (i, (as_double, values)) in groups.into_iter().enumerate() {
                    if i > 0 {
                        self.push(" OR ");
                    }
                    self.column_as(col, as_double);
                    self.push(" IN (");
                    self.binds(values)?;
                    self.push(")");
                }
                self.push(")");
            }
        }
        Ok(())
    }

    /// Byte-wise prefix test, as `str::starts_with`.
    fn starts_with(&mut self, col: &Column, negated: bool, prefix: &str) -> Result<(), SqlError> {
        match self.d {
            // SQLite's LIKE ignores ASCII case and stops at NUL, and substr
            // of an empty blob is NULL: find the prefix's bytes at byte 1.
            Dialect::Sqlite => {
                self.push("instr(CAST(");
                self.push(&col.name);
                self.push(" AS BLOB), CAST(");
                self.bind(Bind::Text(prefix.to_owned()))?;
                self.push(if negated {
                    " AS BLOB)) != 1"
                } else {
                    " AS BLOB)) = 1"
                });
            }
            // No stored PostgreSQL text has a NUL, so none has this prefix.
            Dialect::Postgres if prefix.contains('\0') => self.always(col, negated),
            // Case-sensitive on PostgreSQL ("C" collation) and on MySQL's binary strings.
            Dialect::Postgres | Dialect::MySql => {
                self.push(&col.name);
                self.push(if negated { " NOT LIKE " } else { " LIKE " });
                self.bind(Bind::Text(like_prefix(prefix)))?;
                self.push(" ESCAPE '!'");
            }
        }
        Ok(())
    }

    /// KeywordList `contains any` and Text `any token matches`: both columns
    /// hold a JSON array of strings.
    fn list(&mut self, col: &Column, check: &Check) -> Result<(), SqlError> {
        let (negated, values) = match check {
            Check::Contains { negated, values } => (*negated, values),
            Check::TextMatch { negated, tokens } => (*negated, tokens),
            other => {
                return Err(SqlError::NotSupported(format!(
                    "{other:?} on column {}",
                    col.name
                )));
            }
        };
        let values: Vec<Bind> = values
            .iter()
            // jsonb holds no NUL either.
            .filter(|v| !(self.d == Dialect::Postgres && v.contains('\0')))
            .map(|v| Bind::Text(v.clone()))
            .collect();
        if values.is_empty() {
            self.always(col, negated);
            return Ok(());
        }
        if negated {
            self.push("NOT (");
        }
        match self.d {
            // json_each of NULL is empty, not NULL: keep a missing value unknown.
            Dialect::Sqlite => {
                self.push("CASE WHEN ");
                self.push(&col.name);
                self.push(" IS NULL THEN NULL ELSE EXISTS (SELECT 1 FROM json_each(executions_visibility.");
                self.push(&col.name);
                self.push(") AS j WHERE j.value IN (");
                self.binds(values)?;
                self.push(")) END");
            }
            Dialect::Postgres => {
                let many = values.len() > 1;
                if many && !negated {
                    self.push("(");
                }
                for (i, v) in values.into_iter().enumerate() {
                    if i > 0 {
                        self.push(" OR ");
                    }
                    self.push(&col.name);
                    self.push(" @> jsonb_build_array(");
                    self.bind(v)?;
                    self.push(")");
                }
                if many && !negated {
                    self.push(")");
                }
            }
            Dialect::MySql => {
                self.push("JSON_OVERLAPS(");
                self.push(&col.name);
                self.push(", JSON_ARRAY(");
                self.binds(values)?;
                self.push("))");
            }
        }
        if negated {
            self.push(")");
        }
        Ok(())
    }
}

/// A LIKE pattern for "starts with `p`", escaping with `!` (ref §10.1).
pub(crate) fn like_prefix(p: &str) -> String {
    let mut out = String::with_capacity(p.len() + 2);
    for c in p.chars() {
        if matches!(c, '!' | '%' | '_') {
            out.push('!');
        }
        out.push(c);
    }
    out.push('%');
    out
}

fn mismatch(col: &Column, v: &Scalar) -> SqlError {
    SqlError::NotSupported(format!("comparing column {} with {v:?}", col.name))
}

/// Whether `c` names `TemporalNamespaceDivision` (then no implicit filter on it).
pub(crate) fn mentions_division(c: &Cond) -> bool {
    match c {
        Cond::True => false,
        Cond::And(items) | Cond::Or(items) => items.iter().any(mentions_division),
        Cond::Not(inner) => mentions_division(inner),
        Cond::Leaf(Field::Attr { name, .. }, _) => name == "TemporalNamespaceDivision",
        Cond::Leaf(Field::System(_), _) => false,
    }
}
