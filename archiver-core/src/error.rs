//! The one error type of archiver-core, shared by every provider.

use std::sync::Arc;

/// A boxed error from a layer below us (an SDK, the file system, the engine's persistence).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in archival, as the cases a caller branches on.
///
/// Each case knows whether trying again can help: see [`Error::is_retryable`].
///
/// ```
/// use archiver_core::Error;
/// let err = Error::invalid_request("workflow_id", "must not be empty");
/// assert!(!err.is_retryable());
/// assert_eq!(err.to_string(), "invalid request: workflow_id must not be empty");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The archival URI does not parse or does not suit the provider.
    #[error("invalid archival URI {uri:?}: {reason}")]
    InvalidUri {
        /// The URI as given (credentials removed).
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A URI was given to a provider of another scheme.
    #[error("URI scheme mismatch: provider handles {expected:?}, URI has {found:?}")]
    SchemeMismatch {
        /// The scheme the provider serves.
        expected: String,
        /// The scheme of the URI.
        found: String,
    },
    /// No provider is registered for the scheme.
    #[error("no archiver registered for scheme {scheme:?} (registered: {})", .available.join(", "))]
    UnsupportedScheme {
        /// The scheme asked for.
        scheme: String,
        /// The schemes that are registered, sorted.
        available: Vec<String>,
    },
    /// A provider exists for the scheme but the configuration has no section for it.
    #[error("archiver for scheme {scheme:?} is not configured")]
    ProviderNotConfigured {
        /// The scheme asked for.
        scheme: String,
    },
    /// The configuration is invalid.
    #[error("invalid archival config at {key}: {reason}")]
    InvalidConfig {
        /// The config key (dotted path) at fault.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A request field is missing or invalid.
    #[error("invalid request: {field} {reason}")]
    InvalidRequest {
        /// The request field at fault.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The visibility list filter does not parse or does not type-check.
    #[error("invalid query: {0}")]
    InvalidQuery(#[from] visibility_query::QueryError),
    /// The requested archive or record does not exist.
    #[error("not found: {what}")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// The history changed while it was being archived (rules in the history iterator docs).
    #[error("history mutated: {reason}")]
    HistoryMutated {
        /// Which check failed.
        reason: String,
    },
    /// A page token does not decode, or belongs to another request.
    #[error("invalid next page token: {reason}")]
    CorruptedToken {
        /// Why it was rejected.
        reason: String,
    },
    /// Stored data fails its integrity check or does not decode.
    #[error("corrupted archive at {location}: {reason}")]
    Corrupted {
        /// Which object or file (no credentials).
        location: String,
        /// What check failed.
        reason: String,
    },
    /// Reading the history from the engine's persistence failed.
    #[error("reading history from the source failed: {source}")]
    Source {
        /// The source's error.
        source: BoxError,
        /// Whether the source says a retry can help.
        retryable: bool,
    },
    /// The storage backend failed.
    #[error("{provider} backend error during {operation}: {source}")]
    Backend {
        /// The provider's scheme or name, e.g. `"file"`.
        provider: &'static str,
        /// What we were doing, e.g. `"write blob"`.
        operation: String,
        /// The backend's error.
        source: BoxError,
        /// Whether a retry can help.
        retryable: bool,
    },
    /// The caller's own error, returned in place of a non-retryable failure
    /// (see `ArchiveOptions::with_non_retryable_error`).
    #[error("{0}")]
    Caller(Arc<dyn std::error::Error + Send + Sync + 'static>),
}

impl Error {
    /// Whether trying the same call again can succeed.
    ///
    /// Only transient trouble is retryable: backend or source failures marked so.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Source { retryable, .. } | Error::Backend { retryable, .. } => *retryable,
            _ => false,
        }
    }

    /// An [`Error::InvalidRequest`] for `field`.
    pub fn invalid_request(field: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidRequest {
            field,
            reason: reason.into(),
        }
    }

    /// An [`Error::Backend`] from any error.
    pub fn backend(
        provider: &'static str,
        operation: impl Into<String>,
        source: impl Into<BoxError>,
        retryable: bool,
    ) -> Self {
        Error::Backend {
            provider,
            operation: operation.into(),
            source: source.into(),
            retryable,
        }
    }

    /// An [`Error::Corrupted`] for `location`.
    pub fn corrupted(location: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Corrupted {
            location: location.into(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transient_failures_are_retryable() {
        let io = || std::io::Error::other("boom");
        assert!(Error::backend("file", "write", io(), true).is_retryable());
        assert!(!Error::backend("file", "write", io(), false).is_retryable());
        assert!(!Error::NotFound { what: "x".into() }.is_retryable());
        assert!(!Error::corrupted("f", "crc").is_retryable());
    }

    #[test]
    fn unsupported_scheme_lists_what_is_registered() {
        let err = Error::UnsupportedScheme {
            scheme: "ftp".into(),
            available: vec!["file".into(), "s3".into()],
        };
        assert_eq!(
            err.to_string(),
            "no archiver registered for scheme \"ftp\" (registered: file, s3)"
        );
    }
}
