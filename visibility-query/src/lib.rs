//! Temporal's Visibility list-filter language: parsed, checked, evaluated and planned.
//!
//! The language is the `WHERE` part of a MySQL `SELECT` as Temporal accepts it in
//! `temporal workflow list --query`: comparisons, `IN`, `BETWEEN`, `STARTS_WITH`,
//! `IS NULL`, joined by `AND`/`OR`/`NOT`, with optional `GROUP BY` and `ORDER BY`.
//!
//! The pipeline:
//!
//! 1. [`parse`] turns text into a [`ListFilter`] (syntax only). Its `Display`
//!    prints canonical text that parses back to an equal filter.
//! 2. [`ListFilter::check`] resolves names against [`SearchAttributes`], converts
//!    values (datetimes, statuses, durations ...) and checks operators per type,
//!    giving a [`CheckedQuery`]. [`compile`] does both steps.
//! 3. [`CheckedQuery::matches`] evaluates against any [`Record`];
//!    [`CheckedQuery::compare`] orders results; [`CheckedQuery::plan`] says what
//!    an index can use.
//!
//! ```
//! use visibility_query::{compile, ExecutionStatus, RecordValues, SearchAttributes, SearchAttributeType};
//!
//! let attrs = SearchAttributes::new().with_custom("Region", SearchAttributeType::Keyword);
//! let q = compile(
//!     "WorkflowType = 'Payment' AND ExecutionStatus = 'Completed' AND Region IN ('eu', 'us') \
//!      ORDER BY CloseTime DESC",
//!     &attrs,
//! )
//! .unwrap();
//!
//! let rec = RecordValues::new("wf-1", "run-1", "Payment")
//!     .with_status(ExecutionStatus::Completed)
//!     .with_attribute("Region", "eu");
//! assert!(q.matches(&rec));
//!
//! let plan = q.plan();
//! assert_eq!(plan.workflow_types.unwrap().into_iter().collect::<Vec<_>>(), ["Payment"]);
//! assert!(!plan.exact); // Region is left to `matches`
//! ```
//!
//! Errors carry a kind, the position and a caret display:
//!
//! ```
//! use visibility_query::{compile, QueryErrorKind, SearchAttributes};
//! let err = compile("CloseTime > '2024-01-01'", &SearchAttributes::new()).unwrap_err();
//! assert_eq!(err.kind(), QueryErrorKind::InvalidValue);
//! assert_eq!(err.offset(), 12);
//! println!("{err}");
//! ```
//!
//! The old archivers' dialects are accepted with their meaning: `WorkflowTypeName`,
//! close-status spellings such as `continuedasnew` or `2`, epoch-nanosecond times,
//! and `SearchPrecision`:
//!
//! ```
//! use visibility_query::{compile, SearchAttributes};
//! let q = compile(
//!     "WorkflowTypeName = 't' AND CloseTime = '2020-02-05T11:00:00Z' AND SearchPrecision = 'Day'",
//!     &SearchAttributes::new(),
//! )
//! .unwrap();
//! let day = q.plan().close_time;
//! assert!(day.contains("2020-02-05T00:00:00Z".parse().unwrap()));
//! assert!(!day.contains("2020-02-06T00:00:00Z".parse().unwrap()));
//! ```

mod ast;
mod attributes;
mod check;
mod error;
mod eval;
mod lexer;
mod parser;
mod plan;
mod record;
pub mod sql;
mod status;
mod stored;
#[cfg(feature = "testing")]
pub mod testing;
mod value;

use std::cmp::Ordering;
use std::str::FromStr;
use std::sync::OnceLock;

pub use ast::{CompareOp, Expr, Ident, ListFilter, Literal, OrderBy, Predicate, Span, Test, Value};
pub use attributes::{
    AttributeError, CustomAttribute, FieldAssignment, FieldLayout, ParseTypeError,
    SearchAttributeType, SearchAttributes,
};
pub use error::{QueryError, QueryErrorKind};
pub use jiff::Timestamp;
pub use parser::{MAX_FILTER_LEN, MAX_NESTING};
pub use plan::{Plan, TimeRange};
pub use record::{Record, RecordValues};
pub use status::{ExecutionStatus, ParseStatusError};
pub use stored::AttributeValue;

/// Parses filter text (syntax only; names and values are not checked).
///
/// An empty or whitespace-only filter is valid and matches everything.
///
/// ```
/// let f = visibility_query::parse("WorkflowId = 'a' or RunId = 'b'").unwrap();
/// assert_eq!(f.to_string(), "WorkflowId = 'a' OR RunId = 'b'");
/// ```
pub fn parse(filter: &str) -> Result<ListFilter, QueryError> {
    parser::parse(filter)
}

/// Parses and checks filter text against a set of search attributes.
///
/// ```
/// use visibility_query::{compile, SearchAttributes};
/// assert!(compile("HistoryLength > 10", &SearchAttributes::new()).is_ok());
/// assert!(compile("HistoryLength > 'ten'", &SearchAttributes::new()).is_err());
/// ```
pub fn compile(filter: &str, attrs: &SearchAttributes) -> Result<CheckedQuery, QueryError> {
    let c = check::compile(filter, attrs)?;
    Ok(CheckedQuery::new(c, filter, OnceLock::new()))
}

impl FromStr for ListFilter {
    type Err = QueryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

impl ListFilter {
    /// Checks names, values and operators against `attrs`.
    ///
    /// Error positions refer to the canonical text of this filter when it was
    /// not produced by [`parse`] from the same text; use [`compile`] to keep the
    /// user's own text in errors.
    pub fn check(&self, attrs: &SearchAttributes) -> Result<CheckedQuery, QueryError> {
        match check::check(self, attrs, "") {
            Ok(c) => Ok(CheckedQuery::new(c, "", OnceLock::from(self.clone()))),
            // Spans of a parsed filter point into its source, which is not kept;
            // check the canonical text so that error positions are meaningful.
            Err(_) => compile(&self.to_string(), attrs),
        }
    }
}

/// The name a field is read by: a system attribute's name, a search attribute's.
fn field_name(field: &check::Field) -> Option<String> {
    match field {
        check::Field::System(field) => field.name().map(str::to_owned),
        check::Field::Attr { name, .. } => Some(name.to_string()),
    }
}

/// A type-checked filter, ready to evaluate and plan.
#[derive(Debug, Clone)]
pub struct CheckedQuery {
    /// The parsed filter, rebuilt from `text` on first use: [`compile`]
    /// checks without building it, and most callers never ask for it.
    filter: OnceLock<ListFilter>,
    /// The text `filter` is parsed from when it is not known (empty when it is).
    text: Box<str>,
    cond: check::Cond,
    order: Vec<check::SortKey>,
    order_by: Vec<OrderBy>,
    group_by: Option<String>,
}

impl CheckedQuery {
    fn new(c: check::Checked, src: &str, filter: OnceLock<ListFilter>) -> Self {
        CheckedQuery {
            text: if filter.get().is_some() {
                "".into()
            } else {
                src.into()
            },
            filter,
            cond: c.cond,
            order: c.order,
            order_by: c.order_by,
            group_by: c.group_by,
        }
    }

    /// The parsed filter.
    pub fn filter(&self) -> &ListFilter {
        // `text` parsed when this query was compiled, so it parses again;
        // the default (match everything) is never reached.
        self.filter
            .get_or_init(|| parser::parse(&self.text).unwrap_or_default())
    }

    /// Whether the record matches (SQL semantics: a condition on a missing value is never true).
    pub fn matches(&self, record: &dyn Record) -> bool {
        eval::eval(&self.cond, record) == Some(true)
    }

    /// Total order for results: the ORDER BY keys, then CloseTime DESC and StartTime DESC (so
    /// CloseTime DESC by default), then RunId and WorkflowId ascending: deterministic paging.
    pub fn compare(&self, a: &dyn Record, b: &dyn Record) -> Ordering {
        eval::compare(&self.order, a, b)
    }

    /// What the condition reads of a record: system attributes by name (`WorkflowId`,
    /// `CloseTime`, ...) and search attributes by the name [`Record::search_attribute`] is asked
    /// for. A reader of a columnar store fetches only these columns to evaluate the filter.
    ///
    /// ```
    /// use visibility_query::{compile, SearchAttributes, SearchAttributeType};
    /// let attrs = SearchAttributes::new().with_custom("CustomerId", SearchAttributeType::Keyword);
    /// let q = compile("CustomerId = 'c-1' AND CloseTime > '2026-01-01T00:00:00Z' ORDER BY StartTime", &attrs).unwrap();
    /// assert_eq!(q.fields_read().into_iter().collect::<Vec<_>>(), ["CloseTime", "CustomerId"]);
    /// ```
    pub fn fields_read(&self) -> std::collections::BTreeSet<String> {
        fn walk(cond: &check::Cond, out: &mut std::collections::BTreeSet<String>) {
            match cond {
                check::Cond::True => {}
                check::Cond::And(all) | check::Cond::Or(all) => {
                    all.iter().for_each(|c| walk(c, out));
                }
                check::Cond::Not(inner) => walk(inner, out),
                check::Cond::Leaf(field, _) => out.extend(field_name(field)),
            }
        }
        let mut out = std::collections::BTreeSet::new();
        walk(&self.cond, &mut out);
        out
    }

    /// What the `ORDER BY` keys read, by name as [`fields_read`](Self::fields_read) gives them.
    /// After them every order breaks ties by `CloseTime`, `StartTime`, `RunId`, `WorkflowId`.
    ///
    /// ```
    /// use visibility_query::{compile, SearchAttributes};
    /// let q = compile("WorkflowType = 'a' ORDER BY StartTime", &SearchAttributes::new()).unwrap();
    /// assert_eq!(q.order_fields().into_iter().collect::<Vec<_>>(), ["StartTime"]);
    /// ```
    pub fn order_fields(&self) -> std::collections::BTreeSet<String> {
        self.order
            .iter()
            .filter_map(|k| field_name(&k.field))
            .collect()
    }

    /// What an index can use; see [`Plan`].
    pub fn plan(&self) -> Plan {
        plan::derive(&self.cond, true)
    }

    /// The `GROUP BY` attribute (resolved name), for count queries.
    pub fn group_by(&self) -> Option<&str> {
        self.group_by.as_deref()
    }

    /// The `ORDER BY` keys as written (resolved names are used for sorting).
    pub fn order_by(&self) -> &[OrderBy] {
        &self.order_by
    }

    /// The checked condition (for translations such as [`sql`]).
    pub(crate) fn cond(&self) -> &check::Cond {
        &self.cond
    }
}
