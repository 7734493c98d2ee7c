//! # archiver-gcs: the `gs://` provider
//!
//! Archives workflow histories and visibility records to Google Cloud Storage or any endpoint
//! speaking its JSON API (fake-gcs-server included): [`GcsHistoryArchiver`] and
//! [`GcsVisibilityArchiver`] implement archiver-core's
//! [`HistoryArchiver`](archiver_core::HistoryArchiver) and
//! [`VisibilityArchiver`](archiver_core::VisibilityArchiver) for URIs like
//! `gs://my-bucket/optional/prefix`. Both share one [`GcsStore`] (the `gcloud-storage` JSON API
//! client behind a small internal trait), built from [`GcsSettings`] (code,
//! [`GcsSettings::from_env`], or Temporal's `gstorage` section via [`GcsSettings::from_config`]).
//!
//! ```no_run
//! use std::sync::Arc;
//! use archiver_core::{ArchiveOptions, ArchiveUri, GetHistoryRequest, HistoryArchiver};
//! use archiver_core::history::MemoryHistorySource;
//! use archiver_gcs::{GcsHistoryArchiver, GcsSettings, GcsStore};
//!
//! # async fn run(request: archiver_core::ArchiveHistoryRequest) -> archiver_core::Result<()> {
//! let store = GcsStore::new(GcsSettings::new().with_credentials_file("/etc/temporal/key.json"));
//! let archiver = GcsHistoryArchiver::new(store, Arc::new(MemoryHistorySource::new()));
//! let uri: ArchiveUri = "gs://archive-bucket/temporal".parse()?;
//! archiver.validate_uri(&uri).await?; // missing bucket, denial and unreachable differ
//! archiver.archive(&uri, &request, &ArchiveOptions::default()).await?;
//! let page = archiver
//!     .get(&uri, &GetHistoryRequest::new(&request.namespace_id, &request.workflow_id, &request.run_id, 100))
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! ## Layout
//!
//! The archivers are archiver-kit's object-store archivers
//! ([`archiver_kit::object`]) over [`GcsStore`]; the object names are the kit's object-store
//! layout v1 (documented there), the same as `archiver-s3`'s, and visibility records go to
//! archiver-kit's [visibility table](archiver_kit::table) as on S3 (records of the earlier
//! per-record layout still read until a compaction folds them). Specific to GCS: every upload is
//! multipart and carries its CRC-32C (GCS refuses a body damaged in transit); the manifest, the
//! commit point, is created with `ifGenerationMatch=0` (multipart is the upload type every GCS
//! implementation enforces it on); each blob is its own object, so every chunk of a large
//! history is kept with or without a progress manager (Temporal's GCS archiver overwrote part
//! 0 again and again without one); queries start listing with `startOffset`, download only
//! the names the plan admits, and stop early in `CloseTime`/`StartTime` order.
//!
//! ## Guarantees
//!
//! - **Atomic commits, no partial archives**; **idempotent**: re-archiving an archived run
//!   uploads nothing, and concurrent archives of one run both succeed, one manifest winning.
//! - **Resumable**: with a [`ProgressManager`](archiver_core::ProgressManager), the attempt id,
//!   the blobs stored and the iterator state are recorded after each blob; a retry continues
//!   without uploading any blob twice.
//! - **Errors** are classified in one function: 429, 5xx, timeouts and dropped connections are
//!   retryable (after this crate's own retries, see [`RetrySettings`]); a missing bucket
//!   ([`Error::InvalidUri`]), access denied and bad requests are not; a 412 on a create-only
//!   upload means "already archived". No response, however malformed, panics. Getting an
//!   access token counts as part of the request it is for: an OAuth endpoint that is down,
//!   throttling or failing is retried and reported retryable, a key it refuses
//!   (`invalid_grant`) or a key file that cannot be used is access denied at once.
//! - **Credentials** never appear in `Debug`, errors or logs (settings hold a key file's path,
//!   never its contents).
//!
//! [`Error::Corrupted`]: archiver_core::Error::Corrupted
//! [`Error::InvalidUri`]: archiver_core::Error::InvalidUri

mod config;
mod error;
mod location;
mod register;
mod store;

use archiver_kit::object::ObjectHistoryArchiver;
use archiver_kit::table::VisibilityTable;

pub use archiver_kit::object::{RetrySettings, TimeoutSettings};
pub use config::{Credentials, GcsSettings};
pub use register::{history_factory, register, visibility_factory};
pub use store::GcsStore;

/// The `gs://` [`HistoryArchiver`](archiver_core::HistoryArchiver): the kit's object-store
/// history archiver over a [`GcsStore`] (layout and guarantees in the crate docs).
pub type GcsHistoryArchiver = ObjectHistoryArchiver<GcsStore>;

/// The `gs://` [`VisibilityArchiver`](archiver_core::VisibilityArchiver): archiver-kit's
/// [visibility table](archiver_kit::table) over a [`GcsStore`] (group-committed batches,
/// Parquet segments, a manifest created with `ifGenerationMatch=0`), which also reads the
/// records the per-record layout wrote.
pub type GcsVisibilityArchiver = VisibilityTable<GcsStore>;
