//! The store's error type.

use visibility_query::sql::SqlError;
use visibility_query::{AttributeError, QueryError};

/// A `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a store operation failed. [`Error::is_retryable`] says whether trying
/// again later can succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The engine URL is malformed or names an engine this build does not include.
    #[error("invalid visibility store URL ({url}): {reason}")]
    Config {
        /// The URL with any password removed.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The list filter does not parse or check against the namespace's attributes.
    #[error("invalid query in namespace {namespace}: {source}")]
    Query {
        /// The namespace queried.
        namespace: String,
        /// The parser's or checker's error.
        #[source]
        source: QueryError,
    },
    /// The filter is valid but cannot run on a SQL store (ORDER BY, an unsupported
    /// GROUP BY, a custom attribute without a field).
    #[error("query not supported by the SQL store in namespace {namespace}: {source}")]
    Unsupported {
        /// The namespace queried.
        namespace: String,
        /// The translator's error.
        #[source]
        source: SqlError,
    },
    /// A custom search attribute cannot be created.
    #[error("search attribute {name} in namespace {namespace}: {source}")]
    Attribute {
        /// The namespace.
        namespace: String,
        /// The attribute's name.
        name: String,
        /// The rule it breaks.
        #[source]
        source: AttributeError,
    },
    /// Removing a custom search attribute the namespace does not have.
    #[error("namespace {namespace} has no custom search attribute {name}")]
    NoSuchAttribute {
        /// The namespace.
        namespace: String,
        /// The attribute's name.
        name: String,
    },
    /// A record the store cannot hold (no StartTime, a value the engine refuses, ...).
    #[error("invalid record {run_id} in namespace {namespace}: {reason}")]
    InvalidRecord {
        /// The namespace.
        namespace: String,
        /// The record's run ID.
        run_id: String,
        /// What is wrong.
        reason: String,
    },
    /// A page token that is damaged or belongs to another query or namespace.
    #[error("invalid page token for namespace {namespace}: {reason}")]
    PageToken {
        /// The namespace queried.
        namespace: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Stored data the store cannot read back (a row or alias table it did not write).
    #[error("corrupt visibility data in namespace {namespace}: {reason}")]
    Corrupt {
        /// The namespace.
        namespace: String,
        /// What is wrong.
        reason: String,
    },
    /// The database was set up with another schema version or field layout than this store's
    /// (see [`SqlVisibilityStoreBuilder::field_layout`](crate::SqlVisibilityStoreBuilder::field_layout)).
    /// Tables are not migrated: build the store with the layout the database has, or set up a
    /// fresh database.
    #[error(
        "the database's visibility schema is {found}, but this store expects {expected}: \
         build the store with the database's field layout, or set up a fresh database"
    )]
    SchemaMismatch {
        /// What the database records.
        found: String,
        /// What this store expects.
        expected: String,
    },
    /// The database refused or failed an operation.
    #[error("{operation} failed{}: {source}", in_namespace(.namespace))]
    Database {
        /// What the store was doing (`upsert`, `list`, `setup` ...).
        operation: &'static str,
        /// The namespace, empty for store-wide operations.
        namespace: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
}

impl Error {
    /// Whether the same call may succeed later: lost connections, pool and I/O
    /// timeouts, serialization failures, deadlocks and a busy SQLite database.
    /// Bad queries, bad records and constraint violations are not retryable.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Database { source, .. } => retryable(source),
            _ => false,
        }
    }

    pub(crate) fn db(operation: &'static str, namespace: &str) -> impl Fn(sqlx::Error) -> Self {
        move |source| Error::Database {
            operation,
            namespace: namespace.to_owned(),
            source,
        }
    }
}

fn in_namespace(ns: &str) -> String {
    if ns.is_empty() {
        String::new()
    } else {
        format!(" in namespace {ns}")
    }
}

fn retryable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_)
        | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => {
            let code = db.code();
            let code = code.as_deref().unwrap_or_default();
            // SQLSTATE: serialization failure, deadlock, connection exceptions, admin shutdown,
            // lock timeout; MySQL's numeric codes for deadlock / lock wait timeout; SQLite's
            // (extended) result codes for BUSY and LOCKED.
            code == "40001"
                || code == "40P01"
                || code.starts_with("08")
                || code.starts_with("57P")
                || code == "55P03"
                || code == "1213"
                || code == "1205"
                || matches!(code, "5" | "6" | "261" | "517" | "262")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        let timeout = Error::db("list", "ns")(sqlx::Error::PoolTimedOut);
        assert!(timeout.is_retryable());
        assert!(
            timeout
                .to_string()
                .contains("list failed in namespace ns: ")
        );
        let missing = Error::db("list", "ns")(sqlx::Error::RowNotFound);
        assert!(!missing.is_retryable());
        let bad = Error::PageToken {
            namespace: "ns".into(),
            reason: "damaged",
        };
        assert!(!bad.is_retryable());
    }
}
