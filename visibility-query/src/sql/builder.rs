//! A statement under construction: SQL text plus parameters, with the
//! placeholder syntax and casts of each dialect.

use std::fmt::Debug;

use jiff::Timestamp;

use crate::ast::CompareOp;
use crate::attributes::SearchAttributes;

use super::column::Column;
use super::datetime::{datetime_text, max_close_text};
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

    pub(crate) fn binds(&mut self, values: Vec<Bind>) -> Result<(), SqlError> {
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(v)?;
        }
        Ok(())
    }

    /// `CASE WHEN col IS NULL THEN NULL ELSE <b> END`: unknown when missing,
    /// like every evaluator test but IS NULL.
    pub(crate) fn always(&mut self, col: &Column, b: bool) {
        self.push("CASE WHEN ");
        self.push(&col.name);
        self.push(if b {
            " IS NULL THEN NULL ELSE TRUE END"
        } else {
            " IS NULL THEN NULL ELSE FALSE END"
        });
    }

    pub(crate) fn column_as(&mut self, col: &Column, as_double: bool) {
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
}

/// A test the checker never pairs with this column's type; reported rather
/// than guessed at.
pub(crate) fn unexpected(what: impl Debug, col: &Column) -> SqlError {
    SqlError::NotSupported(format!("{what:?} on column {}", col.name))
}
