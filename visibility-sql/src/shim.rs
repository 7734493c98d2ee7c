//! TEMPORARY stand-in for `visibility_query::sql` until the translator lands.
#![allow(missing_docs, unreachable_pub, dead_code)]
use visibility_query::{CheckedQuery, FieldLayout, SearchAttributes, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    Sqlite,
    Postgres,
    MySql,
}
impl Dialect {
    pub fn schema(self, _layout: &FieldLayout) -> Vec<String> {
        vec![]
    }
    pub fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
            Dialect::MySql => "?".into(),
        }
    }
}
pub fn datetime_text(_dialect: Dialect, t: Timestamp) -> String {
    t.to_string()
}
pub fn text_tokens(s: &str) -> Vec<String> {
    s.split(' ').map(str::to_owned).collect()
}
#[derive(Debug, Clone, PartialEq)]
pub enum SqlParam {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}
#[derive(Debug, Clone, PartialEq)]
pub struct SqlStatement {
    pub sql: String,
    pub params: Vec<SqlParam>,
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageKey {
    pub close_time: Option<Timestamp>,
    pub start_time: Timestamp,
    pub run_id: String,
    pub workflow_id: String,
}
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SqlError {
    #[error("not supported: {0}")]
    NotSupported(String),
    #[error("no field: {0}")]
    NoField(String),
}
pub fn list(
    _q: &CheckedQuery,
    _attrs: &SearchAttributes,
    _d: Dialect,
    _namespace_id: &str,
    _after: Option<&PageKey>,
    _limit: u32,
) -> Result<SqlStatement, SqlError> {
    todo!()
}
pub fn count(
    _q: &CheckedQuery,
    _attrs: &SearchAttributes,
    _d: Dialect,
    _namespace_id: &str,
) -> Result<SqlStatement, SqlError> {
    todo!()
}
pub const ROW_COLUMNS: &[&str] = &[];
