//! Leaves on JSON-array columns: KeywordList containment and Text token match.

use crate::check::Check;

use super::builder::{Bind, Sql, unexpected};
use super::column::Column;
use super::{Dialect, SqlError};

impl Sql<'_> {
    /// KeywordList `contains any` and Text `any token matches`: both columns
    /// hold a JSON array of strings.
    pub(crate) fn list(&mut self, col: &Column, check: &Check) -> Result<(), SqlError> {
        let (negated, values) = match check {
            Check::Contains { negated, values } => (*negated, values),
            Check::TextMatch { negated, tokens } => (*negated, tokens),
            other => return Err(unexpected(other, col)),
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
