//! # archiver
//!
//! Archive closed workflows' histories and visibility records to durable storage, read the
//! histories back page by page, and query the visibility records with Temporal's list-filter
//! language, on every provider.
//!
//! This crate is the facade: it re-exports [`archiver_core`] (traits, requests, URI, options,
//! config, registry), the list-filter language as [`query`], and one module per provider
//! feature. [`registry`] builds a [`ProviderRegistry`] with every built-in provider this build
//! has.
//!
//! | feature | scheme | provider crate |
//! |---|---|---|
//! | `filestore` (default) | `file://` | [`archiver_filestore`] |
//! | always | `memory://` | in-process, from `archiver-core` (tests, examples) |
//!
//! ```
//! use std::sync::Arc;
//! use archiver::{ArchiveUri, MemoryHistorySource, config::ArchivalConfig};
//!
//! let registry = archiver::registry(ArchivalConfig::default(), Arc::new(MemoryHistorySource::new()));
//! let uri: ArchiveUri = "memory://demo/archive".parse()?;
//! let history = registry.history_archiver(uri.scheme())?;
//! assert_eq!(history.scheme(), "memory");
//! # Ok::<(), archiver::Error>(())
//! ```

use std::sync::Arc;

pub use archiver_core::*;
/// The list-filter language ([`visibility_query`]): parse, check, evaluate, plan.
pub use visibility_query as query;

/// The `file://` provider.
#[cfg(feature = "filestore")]
pub use archiver_filestore as filestore;

/// A registry with every built-in provider of this build: `memory`, and `file` with the
/// `filestore` feature. Add your own with
/// [`ProviderRegistry::register_history`] / [`register_visibility`](ProviderRegistry::register_visibility);
/// a custom registration overrides a built-in one of the same scheme.
///
/// Providers are built on first use from their section of `config` (a missing section gives
/// [`Error::ProviderNotConfigured`]); `history_source` is the engine's persistence that history
/// archivers read from.
pub fn registry(
    config: config::ArchivalConfig,
    history_source: Arc<dyn HistorySource>,
) -> ProviderRegistry {
    let mut registry = ProviderRegistry::new(config, history_source);
    registry
        .register_builtin_history(
            "memory",
            Arc::new(|context: &ProviderContext| {
                Ok(Arc::new(MemoryHistoryArchiver::new(Arc::clone(
                    &context.history_source,
                ))))
            }),
        )
        .register_builtin_visibility(
            "memory",
            Arc::new(|_: &ProviderContext| Ok(Arc::new(MemoryVisibilityArchiver::new()))),
        );
    #[cfg(feature = "filestore")]
    archiver_filestore::register(&mut registry);
    registry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_schemes_list_the_built_ins() {
        let registry = registry(
            config::ArchivalConfig::default(),
            Arc::new(MemoryHistorySource::new()),
        );
        let err = registry.history_archiver("ftp").unwrap_err();
        let Error::UnsupportedScheme { available, .. } = err else {
            panic!("expected UnsupportedScheme, got {err:?}");
        };
        assert!(available.contains(&"memory".to_owned()));
        #[cfg(feature = "filestore")]
        assert!(available.contains(&"file".to_owned()));
    }

    #[cfg(feature = "filestore")]
    #[test]
    fn file_needs_its_config_section() {
        let registry = registry(
            config::ArchivalConfig::default(),
            Arc::new(MemoryHistorySource::new()),
        );
        assert!(matches!(
            registry.history_archiver("file"),
            Err(Error::ProviderNotConfigured { .. })
        ));
    }
}
