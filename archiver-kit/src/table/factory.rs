//! Registering the table as a provider's visibility archiver.

use std::sync::Arc;

use crate::object::ObjectStore;
use archiver_core::{ProviderContext, Result, VisibilityArchiverFactory};

use super::VisibilityTable;

/// A registry factory building a [`VisibilityTable`] (default options) over the store
/// `make_store` builds from the provider context: what an object-store provider registers for
/// its scheme.
///
/// ```
/// use archiver_kit::store::MemoryStore;
///
/// let factory = archiver_kit::table::visibility_factory(|_| Ok(MemoryStore::new()));
/// # let _ = factory;
/// ```
pub fn visibility_factory<S, F>(make_store: F) -> VisibilityArchiverFactory
where
    S: ObjectStore,
    F: Fn(&ProviderContext) -> Result<S> + Send + Sync + 'static,
{
    Arc::new(move |context: &ProviderContext| {
        Ok(Arc::new(VisibilityTable::new(make_store(context)?)))
    })
}
