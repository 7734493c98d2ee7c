//! A [`RecordValues`] to the columns of `executions_visibility` and back.
//!
//! Search attributes travel as Temporal archives them: stringified by name. On
//! write each value is converted the way the evaluator reads it (a value that
//! does not parse as its type is missing for the evaluator, so its column is
//! NULL) into its column: a predefined attribute's own column, or a custom
//! attribute's preallocated field (`Keyword03`). The whole map is also kept as
//! JSON in `search_attributes`, from which reads rebuild the record.

use std::collections::BTreeMap;

use jiff::Timestamp;
use visibility_query::sql::{self, Dialect, SqlParam, SqlStatement, column_value};
use visibility_query::{
    ExecutionStatus, FieldLayout, RecordValues, SearchAttributeType as T, SearchAttributes,
};

use crate::engine::DbRow;
use crate::error::{Error, Result};

/// A column of `executions_visibility` the store writes, and where its value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// A system column, by its SQL name.
    System(&'static str),
    /// A predefined attribute's own column (named as the attribute).
    Predefined(String, T),
    /// A preallocated field (`Keyword03`): the value of the custom attribute aliased to it.
    Field(String, T),
}

impl Source {
    fn name(&self) -> &str {
        match self {
            Source::System(n) => n,
            Source::Predefined(n, _) | Source::Field(n, _) => n,
        }
    }
}

/// The columns of the schema, in DDL order, read from [`Dialect::schema`] itself so
/// that the store writes exactly the columns the translator reads.
#[derive(Debug, Clone)]
pub(crate) struct Columns(Vec<Source>);

/// A column written from the record's own fields: the namespace, and the row columns
/// `list` reads back.
fn system_column(name: &str) -> Option<&'static str> {
    std::iter::once("namespace_id")
        .chain(sql::ROW_COLUMNS.iter().copied())
        .find(|s| *s == name)
}

impl Columns {
    pub(crate) fn of(d: Dialect, layout: &FieldLayout) -> Columns {
        let ddl = d.schema(layout);
        let table = ddl.first().map(String::as_str).unwrap_or_default();
        let body = table
            .split_once('(')
            .map_or("", |(_, b)| b.rsplit_once(')').map_or(b, |(b, _)| b));
        let predefined = SearchAttributes::new();
        let fields: BTreeMap<String, T> = T::ALL
            .into_iter()
            .flat_map(|ty| {
                (1..=layout.limit(ty)).map(move |i| (format!("{}{i:02}", ty.name()), ty))
            })
            .collect();
        let mut out = Vec::new();
        for def in body.split(",\n") {
            let name = def.split_whitespace().next().unwrap_or_default();
            if let Some(sys) = system_column(name) {
                out.push(Source::System(sys));
            } else if let Some(&ty) = fields.get(name) {
                out.push(Source::Field(name.to_owned(), ty));
            } else if let Some(ty) = predefined.get(name) {
                out.push(Source::Predefined(name.to_owned(), ty));
            }
            // Anything else (close_time_or_max, keys, indexes) is not written.
        }
        Columns(out)
    }
}

/// The record's search attributes as the store keeps them: datetimes finer than a
/// microsecond (or in another spelling than RFC 3339) floored and rewritten.
fn stored_attributes(rec: &RecordValues, attrs: &SearchAttributes) -> BTreeMap<String, String> {
    let mut out = rec.search_attributes.clone();
    for (name, v) in out.iter_mut() {
        if attrs.get(name) != Some(T::Datetime) {
            continue;
        }
        // MySQL's text is `YYYY-MM-DD HH:MM:SS.ffffff` in UTC: RFC 3339 after two edits.
        if let Some(SqlParam::Text(t)) = column_value(Dialect::MySql, T::Datetime, v) {
            let floored = format!("{}Z", t.replacen(' ', "T", 1));
            if floored.parse::<Timestamp>().ok() != v.trim().parse::<Timestamp>().ok() {
                *v = floored;
            }
        }
    }
    out
}

/// The upsert (`INSERT ... ON CONFLICT DO UPDATE`) of one record.
pub(crate) fn upsert(
    d: Dialect,
    columns: &Columns,
    ns: &str,
    rec: &RecordValues,
    attrs: &SearchAttributes,
) -> Result<SqlStatement> {
    let invalid = |reason: &str| Error::InvalidRecord {
        namespace: ns.to_owned(),
        run_id: rec.run_id.clone(),
        reason: reason.to_owned(),
    };
    let start = rec.start_time.ok_or_else(|| invalid("no StartTime"))?;
    let time = |t: Option<Timestamp>| t.map(|t| SqlParam::Text(sql::datetime_text(d, t)));
    let text = |s: &str| Some(SqlParam::Text(s.to_owned()));
    let stored = stored_attributes(rec, attrs);
    let json = serde_json::to_string(&stored).map_err(|_| invalid("attributes as JSON"))?;
    let attribute = |name: &str, ty: T| {
        let v = stored.get(name).and_then(|raw| column_value(d, ty, raw));
        (v, Some(ty))
    };
    let mut cols: Vec<(&str, Option<SqlParam>, Option<T>)> = Vec::with_capacity(columns.0.len());
    for c in &columns.0 {
        let (v, ty) = match c {
            Source::System(name) => (
                match *name {
                    "namespace_id" => text(ns),
                    "run_id" => text(&rec.run_id),
                    "workflow_id" => text(&rec.workflow_id),
                    "workflow_type_name" => text(&rec.workflow_type),
                    "status" => Some(SqlParam::Int(rec.status.as_i32().into())),
                    "start_time" => time(Some(start)),
                    "execution_time" => time(rec.execution_time),
                    "close_time" => time(rec.close_time),
                    "history_length" => rec.history_length.map(SqlParam::Int),
                    "execution_duration" => rec.execution_duration.map(SqlParam::Int),
                    _ => Some(SqlParam::Text(json.clone())),
                },
                name.ends_with("_time").then_some(T::Datetime),
            ),
            Source::Predefined(name, ty) => attribute(name, *ty),
            Source::Field(field, ty) => {
                // A field holds its alias's value; with no alias, the attribute named like
                // the field (the evaluator resolves a bare field name the same way).
                let alias = attrs.custom().find(|c| c.field.as_deref() == Some(field));
                attribute(alias.map_or(field.as_str(), |c| c.name.as_str()), *ty)
            }
        };
        cols.push((c.name(), v, ty));
    }
    Ok(render_upsert(d, &cols))
}

fn render_upsert(d: Dialect, cols: &[(&str, Option<SqlParam>, Option<T>)]) -> SqlStatement {
    let mut params = Vec::with_capacity(cols.len());
    let mut values = Vec::with_capacity(cols.len());
    for (_, v, ty) in cols {
        match v {
            None => values.push("NULL".to_owned()),
            Some(v) => {
                params.push(v.clone());
                let ph = d.placeholder(params.len());
                values.push(match (d, ty) {
                    (Dialect::Postgres, Some(T::Datetime)) => format!("{ph}::timestamp"),
                    (Dialect::Postgres, Some(T::KeywordList | T::Text)) => format!("{ph}::jsonb"),
                    _ => ph,
                });
            }
        }
    }
    let names: Vec<&str> = cols.iter().map(|(n, _, _)| *n).collect();
    let updates: Vec<String> = names
        .iter()
        .filter(|n| !matches!(**n, "namespace_id" | "run_id"))
        .map(|n| match d {
            Dialect::MySql => format!("{n} = VALUES({n})"),
            _ => format!("{n} = excluded.{n}"),
        })
        .collect();
    let conflict = match d {
        Dialect::MySql => "ON DUPLICATE KEY UPDATE",
        _ => "ON CONFLICT (namespace_id, run_id) DO UPDATE SET",
    };
    SqlStatement {
        sql: format!(
            "INSERT INTO executions_visibility ({}) VALUES ({}) {conflict} {}",
            names.join(", "),
            values.join(", "),
            updates.join(", ")
        ),
        params,
    }
}

/// Rebuilds a record from a row of [`sql::ROW_COLUMNS`].
pub(crate) fn record(row: &DbRow, ns: &str) -> Result<RecordValues> {
    let col = |name: &str| {
        sql::ROW_COLUMNS
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
            .ok_or_else(|| Error::Corrupt {
                namespace: ns.to_owned(),
                reason: format!("the translator selects no {name} column"),
            })
    };
    let db = Error::db("list", ns);
    let text =
        |name| -> Result<String> { Ok(row.text(col(name)?).map_err(&db)?.unwrap_or_default()) };
    let status = row.int(col("status")?).map_err(&db)?.unwrap_or_default();
    let status = i32::try_from(status)
        .ok()
        .and_then(ExecutionStatus::from_i32)
        .ok_or_else(|| Error::Corrupt {
            namespace: ns.to_owned(),
            reason: format!("status {status}"),
        })?;
    let json = text("search_attributes")?;
    let search_attributes = if json.is_empty() {
        BTreeMap::new()
    } else {
        serde_json::from_str(&json).map_err(|e| Error::Corrupt {
            namespace: ns.to_owned(),
            reason: format!("search_attributes: {e}"),
        })?
    };
    Ok(RecordValues {
        workflow_id: text("workflow_id")?,
        run_id: text("run_id")?,
        workflow_type: text("workflow_type_name")?,
        status,
        start_time: row.time(col("start_time")?).map_err(&db)?,
        execution_time: row.time(col("execution_time")?).map_err(&db)?,
        close_time: row.time(col("close_time")?).map_err(&db)?,
        history_length: row.int(col("history_length")?).map_err(&db)?,
        execution_duration: row.int(col("execution_duration")?).map_err(&db)?,
        search_attributes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_follow_the_schema() {
        let layout = FieldLayout::temporal_sql();
        for d in [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql] {
            let c = Columns::of(d, &layout);
            assert!(c.0.contains(&Source::System("start_time")));
            assert!(c.0.contains(&Source::Field("Keyword10".into(), T::Keyword)));
            assert!(c.0.contains(&Source::Predefined(
                "TemporalNamespaceDivision".into(),
                T::Keyword
            )));
            assert!(c.0.contains(&Source::Predefined(
                "TemporalChangeVersion".into(),
                T::KeywordList
            )));
            // 11 system columns, 17 predefined, 28 fields.
            assert_eq!(c.0.len(), 11 + 17 + 28, "{d:?}");
        }
    }

    #[test]
    fn datetimes_floored_in_the_json() {
        let attrs = SearchAttributes::new().with_custom("D", T::Datetime);
        let rec = RecordValues::new("w", "r", "t")
            .with_attribute("D", "2024-01-01T00:00:00.123456789Z")
            .with_attribute("E", "2024-01-01T00:00:00.123456789Z");
        let s = stored_attributes(&rec, &attrs);
        assert_eq!(s["D"], "2024-01-01T00:00:00.123456Z");
        assert_eq!(s["E"], "2024-01-01T00:00:00.123456789Z"); // not a Datetime attribute
        let aligned =
            RecordValues::new("w", "r", "t").with_attribute("D", "2024-01-01T01:00:00+01:00");
        assert_eq!(
            stored_attributes(&aligned, &attrs)["D"],
            "2024-01-01T01:00:00+01:00"
        );
    }
}
