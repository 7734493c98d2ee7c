//! Registry factories for object-store providers: a provider says how to make its store from
//! the provider config, and gets both archivers' factories.

use std::sync::Arc;

use super::{ObjectHistoryArchiver, ObjectStore, ObjectVisibilityArchiver};
use archiver_core::{HistoryArchiverFactory, ProviderContext, Result, VisibilityArchiverFactory};

/// A factory building an [`ObjectHistoryArchiver`] over the store `make_store` builds from the
/// provider context (its config section; the engine's history source is the context's).
pub fn history_factory<S, F>(make_store: F) -> HistoryArchiverFactory
where
    S: ObjectStore,
    F: Fn(&ProviderContext) -> Result<S> + Send + Sync + 'static,
{
    Arc::new(move |context: &ProviderContext| {
        Ok(Arc::new(ObjectHistoryArchiver::new(
            make_store(context)?,
            Arc::clone(&context.history_source),
        )))
    })
}

/// A factory building an [`ObjectVisibilityArchiver`] over the store `make_store` builds from
/// the provider context.
pub fn visibility_factory<S, F>(make_store: F) -> VisibilityArchiverFactory
where
    S: ObjectStore,
    F: Fn(&ProviderContext) -> Result<S> + Send + Sync + 'static,
{
    Arc::new(move |context: &ProviderContext| {
        Ok(Arc::new(ObjectVisibilityArchiver::new(make_store(
            context,
        )?)))
    })
}
