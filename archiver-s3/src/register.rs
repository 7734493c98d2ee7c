//! Wiring the provider into core's [`ProviderRegistry`].

use archiver_core::{
    HistoryArchiverFactory, ProviderContext, ProviderRegistry, Result, VisibilityArchiverFactory,
};
use archiver_kit::object;

use crate::location::SCHEME;
use crate::{S3Settings, S3Store};

/// A factory building [`S3HistoryArchiver`](crate::S3HistoryArchiver) from the `s3store`
/// section of the history provider config ([`ProviderNotConfigured`](archiver_core::Error::ProviderNotConfigured) without one).
/// Credentials come from the standard AWS chain. The client is built on first use.
pub fn history_factory() -> HistoryArchiverFactory {
    object::history_factory(store)
}

/// A factory building [`S3VisibilityArchiver`](crate::S3VisibilityArchiver) from the
/// `s3store` section of the visibility provider config.
pub fn visibility_factory() -> VisibilityArchiverFactory {
    archiver_kit::table::visibility_factory(store)
}

/// The store the `s3store` section describes (the client is built on first use).
fn store(context: &ProviderContext) -> Result<S3Store> {
    Ok(S3Store::new(S3Settings::from_config(context.s3store()?)))
}

/// Registers both archivers as the built-in providers of the `s3` scheme.
///
/// ```
/// use std::sync::Arc;
/// use archiver_core::config::ArchivalConfig;
/// use archiver_core::{MemoryHistorySource, ProviderRegistry};
///
/// let config = ArchivalConfig::from_yaml(r#"
/// archival:
///   history: { state: "enabled", enableRead: true, provider: { s3store: { region: "us-east-1", endpoint: "http://127.0.0.1:8333", s3ForcePathStyle: true } } }
///   visibility: { state: "enabled", enableRead: true, provider: { s3store: { region: "us-east-1" } } }
/// namespaceDefaults:
///   archival:
///     history: { state: "enabled", URI: "s3://archive-bucket/temporal" }
///     visibility: { state: "enabled", URI: "s3://archive-bucket/temporal" }
/// "#)?;
/// let mut registry = ProviderRegistry::new(config, Arc::new(MemoryHistorySource::new()));
/// archiver_s3::register(&mut registry);
/// assert_eq!(registry.history_archiver("s3")?.scheme(), "s3");
/// assert_eq!(registry.visibility_archiver("s3")?.scheme(), "s3");
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
    fn a_missing_s3store_section_is_not_configured() {
        let mut registry = ProviderRegistry::new(
            ArchivalConfig::default(),
            Arc::new(MemoryHistorySource::new()),
        );
        register(&mut registry);
        assert!(matches!(
            registry.history_archiver("s3"),
            Err(Error::ProviderNotConfigured { .. })
        ));
        assert!(matches!(
            registry.visibility_archiver("s3"),
            Err(Error::ProviderNotConfigured { .. })
        ));
    }
}
