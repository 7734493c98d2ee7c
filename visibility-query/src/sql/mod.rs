//! Translation of checked list filters to parameterised SQL for the
//! `executions_visibility` table of Temporal's SQL visibility stores
//! (SQLite 3.31+, PostgreSQL 12+, MySQL 8.0.17+ / MariaDB 10.11).
//!
//! [`list`] and [`count`] turn a [`CheckedQuery`] into a [`SqlStatement`]: SQL
//! text plus bind parameters. The rows a statement selects are exactly the
//! records [`CheckedQuery::matches`] accepts (after the implicit scoping below),
//! in the order of [`CheckedQuery::compare`] (a filter's own `ORDER BY` is
//! refused, as by Temporal's SQL stores).
//!
//! ```
//! use visibility_query::sql::{self, Dialect, SqlParam};
//! use visibility_query::{compile, SearchAttributes};
//!
//! let attrs = SearchAttributes::new();
//! let q = compile("WorkflowType = 'Payment' AND HistoryLength > 10", &attrs).unwrap();
//! let st = sql::list(&q, &attrs, Dialect::Sqlite, "ns-1", None, 100).unwrap();
//! assert!(st.sql.contains("workflow_type_name = ?2 AND history_length > ?3"));
//! assert_eq!(st.params[0], SqlParam::Text("ns-1".into()));
//! assert_eq!(st.params.len(), 4); // namespace, 'Payment', 10, limit
//! ```
//!
//! # What a store must know
//!
//! * **Schema.** [`Dialect::schema`] returns the DDL (run in order); column
//!   names and types are fixed there and the translator depends on them. The
//!   alias table for custom attributes (`custom_search_attributes`) belongs to
//!   the store, not to this DDL. `close_time_or_max` is a generated column:
//!   never write it.
//! * **Parameters.** Values only ever travel as [`SqlParam`]s, numbered in the
//!   order of [`SqlStatement::params`]: `?1, ?2, ...` on SQLite, `$1, $2, ...`
//!   on PostgreSQL (each with an explicit cast: `::text`, `::bigint`,
//!   `::double precision`, `::boolean`, `::timestamp`), plain `?` on MySQL. Each
//!   placeholder appears exactly once; MySQL datetimes read
//!   `CAST(? AS DATETIME(6))`. Bind [`SqlParam::Int`] as a 64-bit
//!   integer, [`SqlParam::Float`] as a double, [`SqlParam::Bool`] as a boolean
//!   (SQLite/MySQL: 0/1), [`SqlParam::Text`] as text.
//! * **Column values.** Write every column the way [`column_value`] says (it
//!   reads an archived, stringified search attribute exactly as the evaluator
//!   does, so a value the evaluator treats as missing is `NULL`), datetimes as
//!   [`datetime_text`] (UTC, floored to the microsecond), the status as
//!   [`ExecutionStatus::as_i32`](crate::ExecutionStatus::as_i32).
//!   KeywordList columns hold a JSON array of the list's strings; Text columns
//!   hold a JSON array of the value's [`text_tokens`] (so every engine matches
//!   Text the way the evaluator does, without an engine tokenizer).
//! * **Scoping**, as in Temporal's SQL stores. Every statement is limited to `namespace_id = ?` and,
//!   unless the filter names `TemporalNamespaceDivision`, to
//!   `TemporalNamespaceDivision IS NULL`; the evaluator itself has no such
//!   implicit filter.
//! * **Text on MySQL** is stored in binary strings (`VARBINARY`, `BLOB`) so
//!   that comparisons are byte-wise with no trailing-space padding, like the
//!   evaluator: read `workflow_id`, `run_id` and `workflow_type_name` as bytes
//!   and decode UTF-8. PostgreSQL text columns use `COLLATE "C"` for the same
//!   reason, and PostgreSQL text cannot hold NUL: a filter value with NUL is
//!   translated to what it means against values without NUL.
//!   PostgreSQL cannot store a NUL in `text` or `jsonb` at all, so a record
//!   with one cannot be written there.
//! * **Indexes.** The order index is the list order itself; a CloseTime or
//!   StartTime range that every match satisfies (from
//!   [`CheckedQuery::plan`]) is repeated on `close_time_or_max` / `start_time`
//!   at the top level so that engines seek it; the other indexes end in the
//!   list order too. On 1M rows a page of 100 for a one-day CloseTime range
//!   takes 0.7 ms on SQLite and 0.8 ms on PostgreSQL 15, for WorkflowType and
//!   ExecutionStatus 11 ms and 0.8 ms.
//! * **Errors** ([`SqlError`]) are about the query, never about the engine, so
//!   they are never retryable.
//!
//! Known limits of equality with the evaluator: Double columns hold `f64`, so
//! an integer-valued Double attribute beyond 2^53 compares as the nearest
//! double; times before year 0000 are clamped to its start in
//! [`datetime_text`].

mod builder;
mod column;
mod datetime;
mod dialect;
mod error;
mod list;
mod render;
mod scalar;
mod statement;
mod values;

pub use datetime::datetime_text;
pub use dialect::Dialect;
pub use error::SqlError;
pub use statement::{PageKey, ROW_COLUMNS, count, list};
pub use values::{SqlParam, SqlStatement, column_value, keyword_list, text_tokens};

#[cfg(doc)]
use crate::CheckedQuery;
