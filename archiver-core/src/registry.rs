//! [`ProviderRegistry`]: URI scheme -> archiver, built on first use from a registered factory.
//!
//! Providers are registered as factories, not instances, so a provider whose scheme is never
//! used costs nothing and a provider whose config section is missing fails only when asked for
//! (with [`Error::ProviderNotConfigured`]).
//!
//! There are two tiers. *Built-in* providers are registered by the crate that wires the
//! providers in (the `archiver` facade registers `memory`, `file`, `s3` and `gs`). *Custom*
//! providers are registered by the application, and **a custom registration overrides a built-in
//! one of the same scheme**, whatever the order of registration (Temporal's custom archiver
//! factories override its built-ins the same way).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use crate::config::{
    ArchivalConfig, ArchivalTarget, FilestoreConfig, GcsConfig, ProviderConfig, S3Config,
};
use crate::{Error, HistoryArchiver, HistorySource, Result, VisibilityArchiver};

/// Builds the history archiver of one scheme (called once per registry and scheme).
pub type HistoryArchiverFactory =
    Arc<dyn Fn(&ProviderContext) -> Result<Arc<dyn HistoryArchiver>> + Send + Sync>;

/// Builds the visibility archiver of one scheme (called once per registry and scheme).
pub type VisibilityArchiverFactory =
    Arc<dyn Fn(&ProviderContext) -> Result<Arc<dyn VisibilityArchiver>> + Send + Sync>;

/// What a factory gets: the scheme and target it builds for, the engine's history source, and
/// the archival config, with accessors for the provider section it needs.
#[derive(Debug, Clone)]
pub struct ProviderContext {
    /// The scheme being built, e.g. `"file"`.
    pub scheme: String,
    /// Whether a history or a visibility archiver is being built.
    pub target: ArchivalTarget,
    /// Where history archivers read histories from.
    pub history_source: Arc<dyn HistorySource>,
    /// The whole archival config.
    pub config: ArchivalConfig,
}

impl ProviderContext {
    /// The `provider` section of this target (`archival.history.provider` or
    /// `archival.visibility.provider`).
    pub fn provider_config(&self) -> &ProviderConfig {
        &self.config.target(self.target).provider
    }

    /// The `filestore` section, or [`Error::ProviderNotConfigured`].
    pub fn filestore(&self) -> Result<&FilestoreConfig> {
        self.provider_config()
            .filestore
            .as_ref()
            .ok_or_else(|| self.not_configured())
    }

    /// The `s3store` section, or [`Error::ProviderNotConfigured`].
    pub fn s3store(&self) -> Result<&S3Config> {
        self.provider_config()
            .s3store
            .as_ref()
            .ok_or_else(|| self.not_configured())
    }

    /// The `gstorage` section, or [`Error::ProviderNotConfigured`].
    pub fn gstorage(&self) -> Result<&GcsConfig> {
        self.provider_config()
            .gstorage
            .as_ref()
            .ok_or_else(|| self.not_configured())
    }

    /// The raw `customStores.<scheme>` section, if present. Custom factories decide whether
    /// they need it (Temporal passes a nil config to its custom factories too).
    pub fn custom_store(&self) -> Option<&serde_json::Value> {
        self.provider_config().custom_store(&self.scheme)
    }

    /// [`Error::ProviderNotConfigured`] for this scheme, for factories that need a section.
    pub fn not_configured(&self) -> Error {
        Error::ProviderNotConfigured {
            scheme: self.scheme.clone(),
        }
    }
}

type Factory<A> = Arc<dyn Fn(&ProviderContext) -> Result<Arc<A>> + Send + Sync>;

/// A registered factory and the instance it built, once built.
struct Slot<A: ?Sized> {
    factory: Factory<A>,
    /// Held while building, so concurrent first calls for one scheme build once; other
    /// schemes have their own lock. A failed build leaves it empty, to be tried again.
    instance: Mutex<Option<Arc<A>>>,
}

/// The registrations of one kind of archiver, in two tiers.
struct Slots<A: ?Sized> {
    target: ArchivalTarget,
    built_in: BTreeMap<String, Slot<A>>,
    custom: BTreeMap<String, Slot<A>>,
}

impl<A: ?Sized> Slots<A> {
    fn new(target: ArchivalTarget) -> Self {
        Slots {
            target,
            built_in: BTreeMap::new(),
            custom: BTreeMap::new(),
        }
    }

    fn register(&mut self, custom: bool, scheme: String, factory: Factory<A>) {
        let tier = if custom {
            &mut self.custom
        } else {
            &mut self.built_in
        };
        let slot = Slot {
            factory,
            instance: Mutex::new(None),
        };
        tier.insert(scheme, slot);
    }

    fn schemes(&self) -> Vec<String> {
        let mut schemes: Vec<String> = self
            .custom
            .keys()
            .chain(self.built_in.keys())
            .cloned()
            .collect();
        schemes.sort();
        schemes.dedup();
        schemes
    }

    fn get(&self, scheme: &str, registry: &ProviderRegistry) -> Result<Arc<A>> {
        let slot = self
            .custom
            .get(scheme)
            .or_else(|| self.built_in.get(scheme))
            .ok_or_else(|| Error::UnsupportedScheme {
                scheme: scheme.to_owned(),
                available: self.schemes(),
            })?;
        // A factory that panicked leaves the slot empty, which is a consistent state.
        let mut instance = slot.instance.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(built) = instance.as_ref() {
            return Ok(Arc::clone(built));
        }
        let context = ProviderContext {
            scheme: scheme.to_owned(),
            target: self.target,
            history_source: Arc::clone(&registry.history_source),
            config: registry.config.clone(),
        };
        let built = (slot.factory)(&context)?;
        *instance = Some(Arc::clone(&built));
        Ok(built)
    }
}

/// Maps URI schemes to archivers: one instance per scheme and kind, built lazily from a
/// registered factory and then shared.
///
/// ```
/// use std::sync::Arc;
/// use archiver_core::{
///     ArchiveUri, Error, HistoryArchiver, HistorySource, MemoryHistorySource, ProviderRegistry,
///     config::ArchivalConfig,
/// };
/// # use archiver_core::{ArchiveHistoryRequest, ArchiveOptions, GetHistoryRequest, GetHistoryResponse, Result};
///
/// /// A provider of the `demo` scheme (its methods, hidden here, archive nothing).
/// #[derive(Debug)]
/// struct DemoArchiver(Arc<dyn HistorySource>);
/// # #[async_trait::async_trait]
/// # impl HistoryArchiver for DemoArchiver {
/// #     fn scheme(&self) -> &'static str { "demo" }
/// #     async fn archive(&self, _: &ArchiveUri, _: &ArchiveHistoryRequest, _: &ArchiveOptions) -> Result<()> { Ok(()) }
/// #     async fn get(&self, _: &ArchiveUri, r: &GetHistoryRequest) -> Result<GetHistoryResponse> {
/// #         Err(Error::NotFound { what: r.run_id.clone() })
/// #     }
/// #     async fn validate_uri(&self, uri: &ArchiveUri) -> Result<()> { archiver_core::check_scheme("demo", uri) }
/// # }
///
/// let mut registry = ProviderRegistry::new(ArchivalConfig::default(), Arc::new(MemoryHistorySource::new()));
/// registry.register_history("demo", Arc::new(|ctx: &archiver_core::ProviderContext| {
///     Ok(Arc::new(DemoArchiver(ctx.history_source.clone())) as Arc<dyn HistoryArchiver>)
/// }));
/// let uri: ArchiveUri = "demo://test/archive".parse()?;
/// let archiver = registry.history_archiver(uri.scheme())?;
/// assert!(Arc::ptr_eq(&archiver, &registry.history_archiver("demo")?));
/// assert!(matches!(registry.history_archiver("ftp"), Err(Error::UnsupportedScheme { .. })));
/// # Ok::<(), Error>(())
/// ```
pub struct ProviderRegistry {
    config: ArchivalConfig,
    history_source: Arc<dyn HistorySource>,
    history: Slots<dyn HistoryArchiver>,
    visibility: Slots<dyn VisibilityArchiver>,
}

impl ProviderRegistry {
    /// An empty registry: factories get `config` and `history_source` when they build.
    pub fn new(config: ArchivalConfig, history_source: Arc<dyn HistorySource>) -> Self {
        ProviderRegistry {
            config,
            history_source,
            history: Slots::new(ArchivalTarget::History),
            visibility: Slots::new(ArchivalTarget::Visibility),
        }
    }

    /// Registers an application's history archiver for `scheme`. It overrides a built-in one
    /// of the same scheme; registering the scheme again replaces the earlier registration
    /// (and the instance it built).
    pub fn register_history(
        &mut self,
        scheme: impl Into<String>,
        factory: HistoryArchiverFactory,
    ) -> &mut Self {
        self.history.register(true, scheme.into(), factory);
        self
    }

    /// Registers an application's visibility archiver for `scheme` (see
    /// [`register_history`](Self::register_history)).
    pub fn register_visibility(
        &mut self,
        scheme: impl Into<String>,
        factory: VisibilityArchiverFactory,
    ) -> &mut Self {
        self.visibility.register(true, scheme.into(), factory);
        self
    }

    /// Registers a built-in history archiver: used unless a custom one has the same scheme.
    pub fn register_builtin_history(
        &mut self,
        scheme: impl Into<String>,
        factory: HistoryArchiverFactory,
    ) -> &mut Self {
        self.history.register(false, scheme.into(), factory);
        self
    }

    /// Registers a built-in visibility archiver: used unless a custom one has the same scheme.
    pub fn register_builtin_visibility(
        &mut self,
        scheme: impl Into<String>,
        factory: VisibilityArchiverFactory,
    ) -> &mut Self {
        self.visibility.register(false, scheme.into(), factory);
        self
    }

    /// The history archiver for `scheme`, built on the first call and shared afterwards.
    ///
    /// [`Error::UnsupportedScheme`] (listing the registered schemes, sorted) when none is
    /// registered; the factory's error, such as [`Error::ProviderNotConfigured`], when
    /// building fails (the next call tries again).
    pub fn history_archiver(&self, scheme: &str) -> Result<Arc<dyn HistoryArchiver>> {
        self.history.get(scheme, self)
    }

    /// The visibility archiver for `scheme` (see [`history_archiver`](Self::history_archiver)).
    pub fn visibility_archiver(&self, scheme: &str) -> Result<Arc<dyn VisibilityArchiver>> {
        self.visibility.get(scheme, self)
    }

    /// Every scheme with a history or a visibility archiver, sorted.
    pub fn schemes(&self) -> Vec<String> {
        let mut schemes = self.history.schemes();
        schemes.extend(self.visibility.schemes());
        schemes.sort();
        schemes.dedup();
        schemes
    }

    /// The config factories are given.
    pub fn config(&self) -> &ArchivalConfig {
        &self.config
    }
}

impl fmt::Debug for ProviderRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderRegistry")
            .field("history", &self.history.schemes())
            .field("visibility", &self.visibility.schemes())
            .finish_non_exhaustive()
    }
}
