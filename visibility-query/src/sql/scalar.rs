//! Leaves on single-valued columns: comparisons, IN, BETWEEN, STARTS_WITH,
//! and SearchPrecision windows, equal to the evaluator's byte-wise, numeric
//! and microsecond comparisons.

use crate::ast::CompareOp;
use crate::check::{Check, Scalar};

use super::builder::{Bind, Sql, op_text, unexpected};
use super::column::{Column, Kind};
use super::datetime::{TimeCmp, time_cmp};
use super::{Dialect, SqlError};

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

impl Sql<'_> {
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
            _ => return Err(unexpected(v, col)),
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

    pub(crate) fn scalar(&mut self, col: &Column, check: &Check) -> Result<(), SqlError> {
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
            other => Err(unexpected(other, col)),
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
}

/// A LIKE pattern for "starts with `p`", escaping with `!` as Temporal's SQL
/// stores do.
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
