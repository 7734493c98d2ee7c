//! Wiring the provider into core's [`ProviderRegistry`].

use std::sync::Arc;

use archiver_core::{
    HistoryArchiverFactory, ProviderContext, ProviderRegistry, VisibilityArchiverFactory,
};

use crate::layout::SCHEME;
use crate::{FilestoreHistoryArchiver, FilestoreVisibilityArchiver};

/// A factory building [`FilestoreHistoryArchiver`] from the `filestore` section of the history
/// provider config ([`ProviderNotConfigured`](archiver_core::Error::ProviderNotConfigured)
/// without one).
pub fn history_factory() -> HistoryArchiverFactory {
    Arc::new(|context: &ProviderContext| {
        let config = context.filestore()?;
        let archiver =
            FilestoreHistoryArchiver::with_config(Arc::clone(&context.history_source), config);
        Ok(Arc::new(archiver))
    })
}

/// A factory building [`FilestoreVisibilityArchiver`] from the `filestore` section of the
/// visibility provider config.
pub fn visibility_factory() -> VisibilityArchiverFactory {
    Arc::new(|context: &ProviderContext| {
        let config = context.filestore()?;
        Ok(Arc::new(FilestoreVisibilityArchiver::with_config(config)))
    })
}

/// Registers both archivers as the built-in providers of the `file` scheme.
///
/// ```
/// use std::sync::Arc;
/// use archiver_core::config::ArchivalConfig;
/// use archiver_core::{MemoryHistorySource, ProviderRegistry};
///
/// let config = ArchivalConfig::from_yaml(r#"
/// archival:
///   history: { state: "enabled", enableRead: true, provider: { filestore: { fileMode: "0640", dirMode: "0750" } } }
///   visibility: { state: "enabled", enableRead: true, provider: { filestore: { fileMode: "0640", dirMode: "0750" } } }
/// namespaceDefaults:
///   archival:
///     history: { state: "enabled", URI: "file:///var/lib/archive" }
///     visibility: { state: "enabled", URI: "file:///var/lib/archive" }
/// "#)?;
/// let mut registry = ProviderRegistry::new(config, Arc::new(MemoryHistorySource::new()));
/// archiver_filestore::register(&mut registry);
/// assert_eq!(registry.history_archiver("file")?.scheme(), "file");
/// assert_eq!(registry.visibility_archiver("file")?.scheme(), "file");
/// # Ok::<(), archiver_core::Error>(())
/// ```
pub fn register(registry: &mut ProviderRegistry) -> &mut ProviderRegistry {
    registry
        .register_builtin_history(SCHEME, history_factory())
        .register_builtin_visibility(SCHEME, visibility_factory())
}

#[cfg(test)]
mod tests {
    use super::*;
    use archiver_core::config::ArchivalConfig;
    use archiver_core::{Error, MemoryHistorySource};

    #[test]
    fn a_missing_filestore_section_is_not_configured() {
        let mut registry = ProviderRegistry::new(
            ArchivalConfig::default(),
            Arc::new(MemoryHistorySource::new()),
        );
        register(&mut registry);
        assert_eq!(registry.schemes(), ["file"]);
        assert!(matches!(
            registry.history_archiver("file"),
            Err(Error::ProviderNotConfigured { .. })
        ));
        assert!(matches!(
            registry.visibility_archiver("file"),
            Err(Error::ProviderNotConfigured { .. })
        ));
    }
}
