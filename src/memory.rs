//! The `memory://` provider: archiver-kit's in-memory archivers, the reference behaviour every
//! provider reproduces, wired into a [`ProviderRegistry`] the way the other providers are.
//!
//! Archives live as long as the archiver that holds them (the registry shares one per scheme),
//! and each URI is a separate location. It needs no config section: tests, examples and trying
//! the API out.

use std::sync::Arc;

pub use archiver_kit::memory::{MemoryHistoryArchiver, MemoryVisibilityArchiver, SCHEME};

use crate::{HistoryArchiverFactory, ProviderContext, ProviderRegistry, VisibilityArchiverFactory};

/// A factory building a [`MemoryHistoryArchiver`] over the registry's history source.
pub fn history_factory() -> HistoryArchiverFactory {
    Arc::new(|context: &ProviderContext| {
        Ok(Arc::new(MemoryHistoryArchiver::new(Arc::clone(
            &context.history_source,
        ))))
    })
}

/// A factory building an empty [`MemoryVisibilityArchiver`].
pub fn visibility_factory() -> VisibilityArchiverFactory {
    Arc::new(|_: &ProviderContext| Ok(Arc::new(MemoryVisibilityArchiver::new())))
}

/// Registers both archivers as the built-in providers of the `memory` scheme.
///
/// ```
/// use std::sync::Arc;
/// use archiver::config::ArchivalConfig;
/// use archiver::{MemoryHistorySource, ProviderRegistry};
///
/// let mut registry = ProviderRegistry::new(ArchivalConfig::default(), Arc::new(MemoryHistorySource::new()));
/// archiver::memory::register(&mut registry);
/// assert_eq!(registry.schemes(), ["memory"]);
/// assert_eq!(registry.history_archiver("memory")?.scheme(), "memory");
/// assert_eq!(registry.visibility_archiver("memory")?.scheme(), "memory");
/// # Ok::<(), archiver::Error>(())
/// ```
pub fn register(registry: &mut ProviderRegistry) -> &mut ProviderRegistry {
    registry
        .register_builtin_history(SCHEME, history_factory())
        .register_builtin_visibility(SCHEME, visibility_factory())
}
