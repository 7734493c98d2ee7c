//! Wiring the provider into core's [`ProviderRegistry`].

use archiver_core::{
    HistoryArchiverFactory, ProviderContext, ProviderRegistry, Result, VisibilityArchiverFactory,
};
use archiver_kit::object;

use crate::location::SCHEME;
use crate::{GcsSettings, GcsStore};

/// A factory building [`GcsHistoryArchiver`](crate::GcsHistoryArchiver) from the `gstorage`
/// section of the history provider config ([`ProviderNotConfigured`](archiver_core::Error::ProviderNotConfigured) without one).
/// Credentials come from `credentialsPath`, or the default credentials when it is unset;
/// `STORAGE_EMULATOR_HOST` overrides both (see [`GcsSettings::from_config`]). The client is
/// built on first use.
pub fn history_factory() -> HistoryArchiverFactory {
    object::history_factory(store)
}

/// A factory building [`GcsVisibilityArchiver`](crate::GcsVisibilityArchiver) from the
/// `gstorage` section of the visibility provider config.
pub fn visibility_factory() -> VisibilityArchiverFactory {
    archiver_kit::table::visibility_factory(store)
}

/// The store the `gstorage` section describes (the client is built on first use).
fn store(context: &ProviderContext) -> Result<GcsStore> {
    Ok(GcsStore::new(GcsSettings::from_config(context.gstorage()?)))
}

/// Registers both archivers as the built-in providers of the `gs` scheme.
///
/// ```
/// use std::sync::Arc;
/// use archiver_core::config::ArchivalConfig;
/// use archiver_core::{MemoryHistorySource, ProviderRegistry};
///
/// let config = ArchivalConfig::from_yaml(r#"
/// archival:
///   history: { state: "enabled", enableRead: true, provider: { gstorage: { credentialsPath: "/etc/temporal/gcs-key.json" } } }
///   visibility: { state: "enabled", enableRead: true, provider: { gstorage: {} } }
/// namespaceDefaults:
///   archival:
///     history: { state: "enabled", URI: "gs://archive-bucket/temporal" }
///     visibility: { state: "enabled", URI: "gs://archive-bucket/temporal" }
/// "#)?;
/// let mut registry = ProviderRegistry::new(config, Arc::new(MemoryHistorySource::new()));
/// archiver_gcs::register(&mut registry);
/// assert_eq!(registry.history_archiver("gs")?.scheme(), "gs");
/// assert_eq!(registry.visibility_archiver("gs")?.scheme(), "gs");
/// # Ok::<(), archiver_core::Error>(())
/// ```
pub fn register(registry: &mut ProviderRegistry) -> &mut ProviderRegistry {
    registry
        .register_builtin_history(SCHEME, history_factory())
        .register_builtin_visibility(SCHEME, visibility_factory())
}

#[cfg(test)]
mod tests {
    use archiver_core::config::ArchivalConfig;
    use archiver_core::{Error, MemoryHistorySource};

    use std::sync::Arc;

    use super::*;

    #[test]
    fn a_missing_gstorage_section_is_not_configured() {
        let mut registry = ProviderRegistry::new(
            ArchivalConfig::default(),
            Arc::new(MemoryHistorySource::new()),
        );
        register(&mut registry);
        assert!(matches!(
            registry.history_archiver("gs"),
            Err(Error::ProviderNotConfigured { .. })
        ));
        assert!(matches!(
            registry.visibility_archiver("gs"),
            Err(Error::ProviderNotConfigured { .. })
        ));
    }
}
