//! Whole statements: list (with keyset paging) and count.

use jiff::Timestamp;

use std::ops::Bound;

use crate::CheckedQuery;
use crate::ast::CompareOp;
use crate::attributes::SearchAttributes;
use crate::check::Cond;
use crate::plan::TimeRange;

use super::builder::{Bind, Sql, op_text};
use super::datetime::{TimeCmp, time_cmp};
use super::render::mentions_division;
use super::{Dialect, SqlError, SqlStatement};

/// The row columns [`list`] selects, in this order. Datetimes come back in the
/// column types of [`Dialect::schema`]; `search_attributes` is the JSON object
/// of archived attribute strings.
pub const ROW_COLUMNS: &[&str] = &[
    "workflow_id",
    "run_id",
    "workflow_type_name",
    "status",
    "start_time",
    "execution_time",
    "close_time",
    "history_length",
    "execution_duration",
    "search_attributes",
];

/// Keyset position after the last row of a page, in the list order
/// (close time descending with open runs first, start time descending, run ID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageKey {
    /// The row's close time; `None` while open.
    pub close_time: Option<Timestamp>,
    /// The row's start time.
    pub start_time: Timestamp,
    /// The row's run ID.
    pub run_id: String,
    /// The row's workflow ID (the evaluator's last tie-breaker; SQL needs
    /// none after the run ID, unique in a namespace).
    pub workflow_id: String,
}

/// The evaluator breaks ties last by workflow ID, but `run_id` is unique in a
/// namespace (the primary key), so the order ends there and the indexes
/// serve it whole.
const ORDER: &str = " ORDER BY close_time_or_max DESC, start_time DESC, run_id ASC";

/// `SELECT <ROW_COLUMNS> FROM executions_visibility WHERE <namespace +
/// division + filter> [AND <keyset after `after`>] ORDER BY <the order> LIMIT ?`.
///
/// The rows are the records of the namespace that [`CheckedQuery::matches`]
/// accepts (outside any `TemporalNamespaceDivision` unless the filter names
/// it), in the order of [`CheckedQuery::compare`], at most `limit` of them.
/// `ORDER BY` and `GROUP BY` are [`SqlError::NotSupported`].
///
/// ```
/// use visibility_query::sql::{self, Dialect, PageKey, SqlParam};
/// use visibility_query::{compile, FieldLayout, SearchAttributes, SearchAttributeType as T};
///
/// let attrs = SearchAttributes::new()
///     .with_field_layout(FieldLayout::temporal_sql())
///     .with_custom("Region", T::Keyword);
/// let q = compile("Region = 'eu' AND WorkflowId STARTS_WITH 'order-'", &attrs).unwrap();
/// let after = PageKey {
///     close_time: None,
///     start_time: "2024-05-01T00:00:00Z".parse().unwrap(),
///     run_id: "r-9".into(),
///     workflow_id: "order-9".into(),
/// };
/// let st = sql::list(&q, &attrs, Dialect::Postgres, "ns", Some(&after), 50).unwrap();
/// assert!(st.sql.contains("Keyword01 = $2::text AND workflow_id LIKE $3::text ESCAPE '!'"));
/// assert_eq!(st.params[2], SqlParam::Text("order-%".into()));
/// assert_eq!(st.params.last(), Some(&SqlParam::Int(50)));
/// ```
pub fn list(
    q: &CheckedQuery,
    attrs: &SearchAttributes,
    d: Dialect,
    namespace_id: &str,
    after: Option<&PageKey>,
    limit: u32,
) -> Result<SqlStatement, SqlError> {
    if q.group_by().is_some() {
        return Err(SqlError::NotSupported("'GROUP BY' clause".into()));
    }
    let mut s = Sql::new(d, attrs);
    s.push("SELECT ");
    s.push(&ROW_COLUMNS.join(", "));
    s.push(" FROM executions_visibility");
    where_clause(&mut s, q, namespace_id)?;
    if let Some(k) = after {
        s.push(" AND ");
        keyset(&mut s, k)?;
    }
    s.push(ORDER);
    s.push(" LIMIT ");
    s.bind(Bind::Int(i64::from(limit)))?;
    Ok(s.finish())
}

/// `SELECT COUNT(*) AS row_count ...`, or with `GROUP BY ExecutionStatus`
/// `SELECT status, COUNT(*) AS row_count ... GROUP BY status` (likewise for
/// `TemporalNamespaceDivision`): one row per group (in no particular order),
/// the group's value first.
/// Other GROUP BY attributes and ORDER BY are [`SqlError::NotSupported`].
///
/// ```
/// use visibility_query::sql::{self, Dialect};
/// use visibility_query::{compile, SearchAttributes};
/// let attrs = SearchAttributes::new();
/// let q = compile("WorkflowType = 't' GROUP BY ExecutionStatus", &attrs).unwrap();
/// let st = sql::count(&q, &attrs, Dialect::MySql, "ns").unwrap();
/// assert_eq!(
///     st.sql,
///     "SELECT status, COUNT(*) AS row_count FROM executions_visibility \
///      WHERE namespace_id = ? AND TemporalNamespaceDivision IS NULL \
///      AND workflow_type_name = ? GROUP BY status"
/// );
/// ```
pub fn count(
    q: &CheckedQuery,
    attrs: &SearchAttributes,
    d: Dialect,
    namespace_id: &str,
) -> Result<SqlStatement, SqlError> {
    let group = match q.group_by() {
        None => None,
        Some("ExecutionStatus") => Some("status"),
        Some("TemporalNamespaceDivision") => Some("TemporalNamespaceDivision"),
        Some(other) => {
            return Err(SqlError::NotSupported(format!(
                "'GROUP BY' clause is not supported for search attribute {other}"
            )));
        }
    };
    let mut s = Sql::new(d, attrs);
    s.push("SELECT ");
    if let Some(g) = group {
        s.push(g);
        s.push(", ");
    }
    s.push("COUNT(*) AS row_count FROM executions_visibility");
    where_clause(&mut s, q, namespace_id)?;
    if let Some(g) = group {
        s.push(" GROUP BY ");
        s.push(g);
    }
    Ok(s.finish())
}

/// ` WHERE namespace_id = ? [AND TemporalNamespaceDivision IS NULL] [AND <filter>]`.
fn where_clause(s: &mut Sql<'_>, q: &CheckedQuery, namespace_id: &str) -> Result<(), SqlError> {
    if !q.order_by().is_empty() {
        return Err(SqlError::NotSupported("'ORDER BY' clause".into()));
    }
    s.push(" WHERE namespace_id = ");
    s.bind(Bind::Text(namespace_id.to_owned()))?;
    let cond = q.cond();
    let division = q.group_by() == Some("TemporalNamespaceDivision") || mentions_division(cond);
    if !division {
        s.push(" AND TemporalNamespaceDivision IS NULL");
    }
    let plan = q.plan();
    match cond {
        Cond::True => {}
        Cond::And(items) if items.iter().any(|c| *c != Cond::True) => {
            s.push(" AND ");
            s.conjunction(items)?;
        }
        Cond::And(_) => {}
        c => {
            s.push(" AND ");
            s.nested(c)?;
        }
    }
    // Every match lies in the plan's time ranges; saying so at the top level
    // changes no result and lets an engine seek its index instead of
    // testing rows one by one (a bounded close time also means "closed", so
    // `close_time_or_max` equals `close_time` for every match).
    implied_range(s, "close_time_or_max", &plan.close_time)?;
    implied_range(s, "start_time", &plan.start_time)?;
    Ok(())
}

/// ` AND column >= ? AND column < ?` for a range every match satisfies.
fn implied_range(s: &mut Sql<'_>, column: &str, r: &TimeRange) -> Result<(), SqlError> {
    let bounds = [
        match r.start {
            Bound::Included(t) => Some((CompareOp::GtEq, t)),
            Bound::Excluded(t) => Some((CompareOp::Gt, t)),
            Bound::Unbounded => None,
        },
        match r.end {
            Bound::Included(t) => Some((CompareOp::LtEq, t)),
            Bound::Excluded(t) => Some((CompareOp::Lt, t)),
            Bound::Unbounded => None,
        },
    ];
    for (op, t) in bounds.into_iter().flatten() {
        // Stored times are whole microseconds: restate against the floored bound.
        if let TimeCmp::Cmp(op, t) = time_cmp(op, t) {
            s.push(" AND ");
            s.push(column);
            s.push(" ");
            s.push(op_text(op));
            s.push(" ");
            s.bind(Bind::Time(t))?;
        }
    }
    Ok(())
}

/// Rows after `k` in the order: `c <= k.c AND (c < k.c OR (c = k.c AND
/// (start < k.start OR (start = k.start AND run > k.run))))` with `c` the
/// close time or the maximum.
fn keyset(s: &mut Sql<'_>, k: &PageKey) -> Result<(), SqlError> {
    let close = || k.close_time.map_or(Bind::MaxTime, Bind::Time);
    let start = k.start_time;
    let text = |v: &String| Bind::Text(v.clone());
    s.push("close_time_or_max <= ");
    s.bind(close())?;
    s.push(" AND (close_time_or_max < ");
    s.bind(close())?;
    s.push(" OR (close_time_or_max = ");
    s.bind(close())?;
    s.push(" AND (start_time < ");
    s.bind(Bind::Time(start))?;
    s.push(" OR (start_time = ");
    s.bind(Bind::Time(start))?;
    s.push(" AND run_id > ");
    s.bind(text(&k.run_id))?;
    s.push("))))");
    Ok(())
}
