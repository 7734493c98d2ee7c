//! Checked conditions to SQL: the boolean structure, and which rendering
//! each leaf gets.
//!
//! The evaluator's Kleene logic is SQL's own, so AND/OR/NOT map directly;
//! every leaf is written so that it is NULL exactly when the evaluator's leaf
//! is unknown (its field missing), and otherwise agrees with it.

use crate::check::{Check, Cond, Field};
use crate::record::RecordValues;
use crate::status::ExecutionStatus;

use super::builder::{Bind, Sql};
use super::column::{Kind, column};
use super::{Dialect, SqlError};

impl Sql<'_> {
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
