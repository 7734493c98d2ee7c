//! The registry factory of the object-store history archiver: a provider says how to make its
//! store from the provider config. (Its visibility archiver's factory is the table's,
//! [`crate::table::visibility_factory`].)

use std::sync::Arc;

use super::{ObjectHistoryArchiver, ObjectStore};
use archiver_core::{HistoryArchiverFactory, ProviderContext, Result};

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
