//! The three engines: placeholders, column types and the schema.

use crate::attributes::{FieldLayout, PREDEFINED, SearchAttributeType as T};

use super::column::{Kind, field_name};
use super::datetime::{MAX_CLOSE, max_close_text};

/// A SQL engine (and the dialect of the text written for it).
///
/// ```
/// use visibility_query::sql::Dialect;
/// assert_eq!(Dialect::Sqlite.placeholder(2), "?2");
/// assert_eq!(Dialect::Postgres.placeholder(2), "$2");
/// assert_eq!(Dialect::MySql.placeholder(2), "?");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// SQLite 3.31+ (generated columns, JSON1).
    Sqlite,
    /// PostgreSQL 12+.
    Postgres,
    /// MySQL 8.0.17+; the SQL is also accepted by MariaDB 10.11.
    MySql,
}

/// Columns that are part of an index: on MySQL they need a bounded length.
const INDEXED_TEXT: &[&str] = &[
    "namespace_id",
    "run_id",
    "workflow_id",
    "workflow_type_name",
];

impl Dialect {
    /// Placeholder for the n-th (1-based) parameter: `?n` SQLite, `$n`
    /// PostgreSQL, `?` MySQL. (Statements add PostgreSQL casts after it.)
    pub fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
            Dialect::MySql => "?".to_owned(),
        }
    }

    /// DDL statements for `executions_visibility` with the preallocated
    /// fields of `layout`, and its indexes; run them in order. Idempotent
    /// (`IF NOT EXISTS`). Columns:
    ///
    /// * `namespace_id`, `run_id` (primary key), `workflow_id`,
    ///   `workflow_type_name`: text, not null;
    /// * `status`: integer, not null ([`ExecutionStatus::as_i32`](crate::ExecutionStatus::as_i32));
    /// * `start_time` (not null), `execution_time`, `close_time` (null while
    ///   open): datetimes as [`datetime_text`](super::datetime_text) (SQLite
    ///   TEXT, PostgreSQL `timestamp`, MySQL `DATETIME(6)`);
    /// * `close_time_or_max`: generated from `close_time`, for the order; never written;
    /// * `history_length`, `execution_duration` (ns): 64-bit integers;
    /// * `search_attributes`: text, a JSON object of every attribute's
    ///   archived string by name (not read by filters; lets a store rebuild a record);
    /// * one column per predefined attribute (named as it, e.g.
    ///   `TemporalChangeVersion`) and per preallocated field (`Keyword01`...),
    ///   typed by the attribute type: Keyword text, Int 64-bit integer, Double
    ///   double, Bool boolean, Datetime as above, KeywordList and Text a JSON
    ///   array of strings (SQLite TEXT, PostgreSQL `jsonb`, MySQL `JSON`).
    ///
    /// The alias table for custom attributes is the store's own.
    ///
    /// ```
    /// use visibility_query::sql::Dialect;
    /// use visibility_query::FieldLayout;
    /// let ddl = Dialect::Postgres.schema(&FieldLayout::temporal_sql());
    /// assert!(ddl[0].starts_with("CREATE TABLE IF NOT EXISTS executions_visibility ("));
    /// assert!(ddl[0].contains("Keyword10 TEXT COLLATE \"C\""));
    /// ```
    pub fn schema(self, layout: &FieldLayout) -> Vec<String> {
        let mut cols: Vec<String> = vec![
            format!("namespace_id {} NOT NULL", self.text_type("namespace_id")),
            format!("run_id {} NOT NULL", self.text_type("run_id")),
            format!("workflow_id {} NOT NULL", self.text_type("workflow_id")),
            format!(
                "workflow_type_name {} NOT NULL",
                self.text_type("workflow_type_name")
            ),
            format!("status {} NOT NULL", self.sql_type(Kind::Status)),
            format!("start_time {} NOT NULL", self.sql_type(Kind::Time)),
            format!("execution_time {}", self.sql_type(Kind::Time)),
            format!("close_time {}", self.sql_type(Kind::Time)),
            self.close_time_or_max(),
            format!("history_length {}", self.sql_type(Kind::Int)),
            format!("execution_duration {}", self.sql_type(Kind::Int)),
            format!(
                "search_attributes {} NOT NULL",
                match self {
                    Dialect::MySql => "LONGTEXT CHARACTER SET utf8mb4",
                    _ => "TEXT",
                }
            ),
        ];
        for (name, ty) in PREDEFINED {
            cols.push(format!("{name} {}", self.attr_type(*ty)));
        }
        for ty in T::ALL {
            for n in 1..=layout.limit(ty) {
                cols.push(format!("{} {}", field_name(ty, n), self.attr_type(ty)));
            }
        }
        cols.push("PRIMARY KEY (namespace_id, run_id)".to_owned());
        let indexes = [
            // The list order itself, so that a page is read off the index.
            (
                "by_close_time",
                "namespace_id, close_time_or_max DESC, start_time DESC, run_id",
            ),
            ("by_start_time", "namespace_id, start_time DESC, run_id"),
            // An equality on the first column leaves the rows in list order.
            (
                "by_workflow_id",
                "namespace_id, workflow_id, close_time_or_max DESC, start_time DESC, run_id",
            ),
            (
                "by_workflow_type",
                "namespace_id, workflow_type_name, close_time_or_max DESC, start_time DESC, run_id",
            ),
            (
                "by_status",
                "namespace_id, status, close_time_or_max DESC, start_time DESC, run_id",
            ),
        ];
        let mut out = Vec::new();
        match self {
            // MySQL has no CREATE INDEX IF NOT EXISTS: indexes go in the table.
            Dialect::MySql => {
                for (name, on) in indexes {
                    cols.push(format!("INDEX {name} ({on})"));
                }
                out.push(format!(
                    "CREATE TABLE IF NOT EXISTS executions_visibility (\n  {}\n) DEFAULT CHARSET = utf8mb4",
                    cols.join(",\n  ")
                ));
            }
            _ => {
                out.push(format!(
                    "CREATE TABLE IF NOT EXISTS executions_visibility (\n  {}\n)",
                    cols.join(",\n  ")
                ));
                for (name, on) in indexes {
                    out.push(format!(
                        "CREATE INDEX IF NOT EXISTS executions_visibility_{name} ON executions_visibility ({on})"
                    ));
                }
            }
        }
        out
    }

    fn close_time_or_max(self) -> String {
        match self {
            Dialect::Sqlite => format!(
                "close_time_or_max TEXT GENERATED ALWAYS AS (COALESCE(close_time, '{}')) VIRTUAL",
                max_close_text(self)
            ),
            Dialect::Postgres => format!(
                "close_time_or_max TIMESTAMP GENERATED ALWAYS AS (COALESCE(close_time, TIMESTAMP '{MAX_CLOSE}')) STORED"
            ),
            Dialect::MySql => format!(
                "close_time_or_max DATETIME(6) GENERATED ALWAYS AS (COALESCE(close_time, TIMESTAMP'{MAX_CLOSE}')) STORED"
            ),
        }
    }

    /// The type of a text column; on MySQL a binary string (byte-wise
    /// comparison without PAD SPACE), bounded only where an index needs it.
    fn text_type(self, column: &str) -> &'static str {
        match self {
            Dialect::Sqlite => "TEXT",
            Dialect::Postgres => "TEXT COLLATE \"C\"",
            Dialect::MySql if column == "namespace_id" || column == "run_id" => "VARBINARY(255)",
            Dialect::MySql if INDEXED_TEXT.contains(&column) => "VARBINARY(1020)",
            Dialect::MySql => "BLOB",
        }
    }

    fn attr_type(self, ty: T) -> &'static str {
        match Kind::of(ty) {
            Kind::Keyword => self.text_type(""),
            k => self.sql_type(k),
        }
    }

    fn sql_type(self, kind: Kind) -> &'static str {
        match (self, kind) {
            (_, Kind::Keyword | Kind::Absent) => self.text_type(""),
            (Dialect::Sqlite, Kind::Status | Kind::Int | Kind::Bool) => "INTEGER",
            (Dialect::Sqlite, Kind::Double) => "REAL",
            (Dialect::Sqlite, Kind::Time | Kind::List) => "TEXT",
            (Dialect::Postgres, Kind::Status) => "INTEGER",
            (Dialect::Postgres, Kind::Int) => "BIGINT",
            (Dialect::Postgres, Kind::Double) => "DOUBLE PRECISION",
            (Dialect::Postgres, Kind::Bool) => "BOOLEAN",
            (Dialect::Postgres, Kind::Time) => "TIMESTAMP",
            (Dialect::Postgres, Kind::List) => "JSONB",
            (Dialect::MySql, Kind::Status) => "INT",
            (Dialect::MySql, Kind::Int) => "BIGINT",
            (Dialect::MySql, Kind::Double) => "DOUBLE",
            (Dialect::MySql, Kind::Bool) => "BOOLEAN",
            (Dialect::MySql, Kind::Time) => "DATETIME(6)",
            (Dialect::MySql, Kind::List) => "JSON",
        }
    }
}
