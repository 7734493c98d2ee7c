//! # archiver-core
//!
//! The contract between a workflow engine and the storage its closed workflows are archived to:
//! the [`HistoryArchiver`] and [`VisibilityArchiver`] traits, their request types, the archival
//! [`ArchiveUri`], [`ArchiveOptions`], the history model and iterator, the provider registry and
//! archival config. It names no built-in provider: those (and the in-memory reference provider
//! and the object-store engine, in `archiver-kit`) build on it.
//!
//! Providers (`archiver-filestore`, `archiver-s3`, `archiver-gcs`) depend on this crate (the
//! object-store ones on `archiver-kit` too), and prove themselves with the conformance suite
//! behind the `testing` feature.

// ---- errors -------------------------------------------------------------------------------
mod error;
pub use error::{BoxError, Error, Result};

// ---- URI, config, registry ----------------------------------------------------------------
pub mod config;
mod registry;
mod uri;
pub use registry::{
    HistoryArchiverFactory, ProviderContext, ProviderRegistry, VisibilityArchiverFactory,
};
pub use uri::ArchiveUri;

// ---- traits, requests, options, history, visibility, testing ------------------------------
mod archiver;
pub mod history;
mod options;
pub mod page_token;
mod request;
#[cfg(feature = "testing")]
pub mod testing;
pub mod visibility;
pub use archiver::{HistoryArchiver, VisibilityArchiver, check_scheme};
pub use history::{
    DEFAULT_TARGET_BLOB_SIZE, History, HistoryBlob, HistoryEvent, HistoryIterator, HistoryPager,
    HistorySource, IteratorState, MemoryHistorySource, check_history_mutated,
};
pub use options::{ArchiveOptions, CallerError, MemoryProgressManager, ProgressManager};
pub use request::{
    ArchiveHistoryRequest, GetHistoryRequest, GetHistoryResponse, MAX_ID_BYTES, QueryRequest,
    QueryResponse,
};
pub use visibility::VisibilityRecord;
