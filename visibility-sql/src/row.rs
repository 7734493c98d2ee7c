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
use visibility_query::{
    ExecutionStatus, FieldLayout, RecordValues, SearchAttributeType as T, SearchAttributes,
};

use crate::engine::DbRow;
use crate::error::{Error, Result};
use crate::shim::{self as sql, Dialect, SqlParam, SqlStatement};

/// How a value is written, which decides its SQL expression per dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    Time,
    Json,
    Tokens,
}

/// Floors to a whole microsecond: every engine stores µs.
pub(crate) fn floor_micros(t: Timestamp) -> Timestamp {
    let ns = t.as_nanosecond();
    Timestamp::from_nanosecond(ns - ns.rem_euclid(1000)).unwrap_or(t)
}

/// Parses a stored datetime as the evaluator does: RFC 3339, or epoch nanoseconds.
fn parse_time(raw: &str) -> Option<Timestamp> {
    let s = raw.trim();
    s.parse::<Timestamp>().ok().or_else(|| {
        s.parse::<i64>()
            .ok()
            .and_then(|n| Timestamp::from_nanosecond(i128::from(n)).ok())
    })
}

/// The values of a stored KeywordList: a JSON array of strings, or one plain value.
fn keyword_list(raw: &str) -> Vec<String> {
    if raw.trim_start().starts_with('[')
        && let Ok(v) = serde_json::from_str::<Vec<String>>(raw)
    {
        return v;
    }
    vec![raw.to_owned()]
}

/// One attribute value as its column holds it.
fn typed(ty: T, raw: &str, d: Dialect) -> Option<(SqlParam, Kind)> {
    let t = raw.trim();
    Some(match ty {
        T::Keyword | T::Text => (SqlParam::Text(raw.to_owned()), Kind::Plain),
        T::Int => (SqlParam::Int(t.parse().ok()?), Kind::Plain),
        T::Double => {
            let x: f64 = t.parse().ok().filter(|x: &f64| x.is_finite())?;
            (SqlParam::Float(x), Kind::Plain)
        }
        T::Bool => (
            SqlParam::Bool(match t {
                "true" | "TRUE" | "True" => true,
                "false" | "FALSE" | "False" => false,
                _ => return None,
            }),
            Kind::Plain,
        ),
        T::Datetime => (
            SqlParam::Text(sql::datetime_text(d, parse_time(t)?)),
            Kind::Time,
        ),
        T::KeywordList => (
            SqlParam::Text(serde_json::to_string(&keyword_list(raw)).ok()?),
            Kind::Json,
        ),
    })
}

/// The record's search attributes with non-µs datetimes floored, as the store keeps them.
fn stored_attributes(rec: &RecordValues, attrs: &SearchAttributes) -> BTreeMap<String, String> {
    let mut out = rec.search_attributes.clone();
    for (name, v) in out.iter_mut() {
        if attrs.get(name) == Some(T::Datetime)
            && let Some(t) = parse_time(v)
            && floor_micros(t) != t
        {
            *v = floor_micros(t).to_string();
        }
    }
    out
}

/// Column names of the preallocated fields of a layout, in schema order.
pub(crate) fn fields(layout: &FieldLayout) -> impl Iterator<Item = (String, T)> + '_ {
    T::ALL.into_iter().flat_map(move |ty| {
        (1..=layout.limit(ty)).map(move |i| (format!("{}{i:02}", ty.name()), ty))
    })
}

/// The `INSERT ... ON CONFLICT DO UPDATE` (upsert) of one record.
pub(crate) fn upsert(
    d: Dialect,
    ns: &str,
    rec: &RecordValues,
    attrs: &SearchAttributes,
    layout: &FieldLayout,
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
    let mut cols: Vec<(String, Option<SqlParam>, Kind)> = vec![
        ("namespace_id".into(), text(ns), Kind::Plain),
        ("run_id".into(), text(&rec.run_id), Kind::Plain),
        ("workflow_id".into(), text(&rec.workflow_id), Kind::Plain),
        (
            "workflow_type_name".into(),
            text(&rec.workflow_type),
            Kind::Plain,
        ),
        (
            "status".into(),
            Some(SqlParam::Int(rec.status.as_i32().into())),
            Kind::Plain,
        ),
        ("start_time".into(), time(Some(start)), Kind::Time),
        (
            "execution_time".into(),
            time(rec.execution_time),
            Kind::Time,
        ),
        ("close_time".into(), time(rec.close_time), Kind::Time),
        (
            "history_length".into(),
            rec.history_length.map(SqlParam::Int),
            Kind::Plain,
        ),
        (
            "execution_duration".into(),
            rec.execution_duration.map(SqlParam::Int),
            Kind::Plain,
        ),
        (
            "search_attributes".into(),
            Some(SqlParam::Text(json)),
            Kind::Plain,
        ),
    ];
    let mut attribute = |column: &str, ty: T, raw: Option<&String>| {
        let value = raw.and_then(|v| typed(ty, v, d));
        if ty == T::Text {
            let tokens = value.as_ref().map(|_| {
                let toks = sql::text_tokens(raw.map_or("", String::as_str));
                SqlParam::Text(serde_json::to_string(&toks).unwrap_or_default())
            });
            cols.push((format!("{column}_tokens"), tokens, Kind::Tokens));
        }
        let (v, kind) = value.map_or((None, Kind::Plain), |(v, k)| (Some(v), k));
        let kind = match ty {
            T::Datetime => Kind::Time,
            T::KeywordList => Kind::Json,
            _ => kind,
        };
        cols.push((column.to_owned(), v, kind));
    };
    for &(name, ty) in PREDEFINED_COLUMNS {
        attribute(name, ty, stored.get(name));
    }
    for (field, ty) in fields(layout) {
        // A field's value is its alias's; with no alias, the attribute named like the field
        // (the evaluator resolves a bare field name the same way).
        let alias = attrs
            .custom()
            .find(|c| c.field.as_deref() == Some(field.as_str()));
        let name = alias.map_or(field.as_str(), |c| c.name.as_str());
        attribute(&field, ty, stored.get(name));
    }
    Ok(render_upsert(d, &cols))
}

/// Predefined attributes with their own column (the rest live only in the JSON).
const PREDEFINED_COLUMNS: &[(&str, T)] = &[("TemporalNamespaceDivision", T::Keyword)];

fn render_upsert(d: Dialect, cols: &[(String, Option<SqlParam>, Kind)]) -> SqlStatement {
    let mut params = Vec::with_capacity(cols.len());
    let mut values = Vec::with_capacity(cols.len());
    for (_, v, kind) in cols {
        match v {
            None => values.push("NULL".to_owned()),
            Some(v) => {
                params.push(v.clone());
                let ph = d.placeholder(params.len());
                values.push(value_expr(d, *kind, &ph));
            }
        }
    }
    let names: Vec<&str> = cols.iter().map(|(n, _, _)| n.as_str()).collect();
    let updates: Vec<String> = names[2..]
        .iter()
        .map(|n| match d {
            Dialect::MySql => format!("{n} = VALUES({n})"),
            _ => format!("{n} = excluded.{n}"),
        })
        .collect();
    let conflict = match d {
        Dialect::MySql => "ON DUPLICATE KEY UPDATE".to_owned(),
        _ => "ON CONFLICT (namespace_id, run_id) DO UPDATE SET".to_owned(),
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

fn value_expr(d: Dialect, kind: Kind, ph: &str) -> String {
    match (d, kind) {
        (Dialect::Postgres, Kind::Time) => format!("{ph}::timestamp"),
        (Dialect::Postgres, Kind::Json) => format!("{ph}::jsonb"),
        (Dialect::Postgres, Kind::Tokens) => format!("{ph}::jsonb"),
        _ => ph.to_owned(),
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
    fn floors_and_parses() {
        let t: Timestamp = "2024-01-01T00:00:00.123456789Z".parse().unwrap();
        assert_eq!(floor_micros(t).to_string(), "2024-01-01T00:00:00.123456Z");
        let before: Timestamp = "1969-12-31T23:59:59.9999995Z".parse().unwrap();
        assert_eq!(
            floor_micros(before).to_string(),
            "1969-12-31T23:59:59.999999Z"
        );
        assert_eq!(
            parse_time("1000"),
            Some(Timestamp::from_nanosecond(1000).unwrap())
        );
        assert_eq!(keyword_list(r#"["a","b"]"#), ["a", "b"]);
        assert_eq!(keyword_list("plain"), ["plain"]);
    }
}
