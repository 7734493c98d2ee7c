//! Why a query cannot be translated.

/// Why a checked query has no SQL translation. Always about the query (or the
/// namespace's attributes), never about an engine, so never worth retrying.
///
/// ```
/// use visibility_query::sql::{self, Dialect, SqlError};
/// use visibility_query::{compile, SearchAttributes};
/// let attrs = SearchAttributes::new();
/// let q = compile("ORDER BY StartTime", &attrs).unwrap();
/// let err = sql::list(&q, &attrs, Dialect::Postgres, "ns", None, 10).unwrap_err();
/// assert!(matches!(err, SqlError::NotSupported(_)));
/// assert_eq!(err.to_string(), "operation is not supported: 'ORDER BY' clause");
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SqlError {
    /// A construct the SQL stores do not offer (ORDER BY, most GROUP BY
    /// attributes), or a value an engine cannot represent.
    #[error("operation is not supported: {0}")]
    NotSupported(String),
    /// A custom search attribute (named) has no preallocated field, so no column.
    #[error("search attribute {0} has no field in the SQL store (no FieldLayout assigned one)")]
    NoField(String),
}
