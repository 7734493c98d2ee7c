//! Archival configuration: Temporal's `archival:` and `namespaceDefaults:` YAML sections, typed.
//!
//! [`ArchivalConfig::from_yaml`] reads a Temporal server config file as it is (other sections are
//! ignored) and validates it; code builds the same structs with the `with_*` methods and calls
//! [`ArchivalConfig::validate`]. Every error is an [`Error::InvalidConfig`](crate::Error) that
//! names the dotted YAML key at fault, e.g. `archival.history.provider.filestore.fileMode`.
//!
//! The namespace-level archival state machine and the retention rule live in [`namespace`].

mod archival;
pub mod namespace;
mod providers;
mod yaml;

pub use archival::{ArchivalConfig, ArchivalState, ArchivalTarget, TargetArchivalConfig};
pub use namespace::{NamespaceArchivalState, NamespaceDefault, NamespaceDefaults};
pub use providers::{FilestoreConfig, GcsConfig, ProviderConfig, S3Config};

use crate::Error;

fn invalid(key: impl Into<String>, reason: impl Into<String>) -> Error {
    Error::InvalidConfig {
        key: key.into(),
        reason: reason.into(),
    }
}

/// An [`Error::InvalidUri`] about the URI at `key`, as an [`Error::InvalidConfig`] naming the
/// key; other errors stay as they are.
fn invalid_uri(key: &str, err: Error) -> Error {
    match err {
        Error::InvalidUri { uri, reason } => {
            invalid(key, format!("{uri:?} is not a valid URI: {reason}"))
        }
        other => other,
    }
}
