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
//! ## Layout (version 1, the same as `archiver-s3`'s)
//!
//! Ids are user strings and never appear raw in object names: each becomes 32 hex digits of
//! its SHA-256 (`h(..)` below), so any id gives a short, safe name well inside GCS's 1024
//! bytes (the URI's prefix is limited to 512 bytes). Objects store the real ids, which readers
//! check.
//!
//! ```text
//! <prefix>/v1/history/<h(ns id)>/<h(workflow id)>/<h(run id)>/manifest/<version key>
//! <prefix>/v1/history/<h(ns id)>/<h(workflow id)>/<h(run id)>/blobs/<version key>/<attempt>/<index>
//! <prefix>/v1/visibility/<h(ns id)>/<close>_<start>_<status>_<h8(wf id)>_<h8(type)>_<h8(run id)>_<identity>.json
//! ```
//!
//! **History.** Blobs (whole batches, one `History` JSON per line, about 2 MiB each) are
//! uploaded one by one as the history is read, so memory stays about one blob, under a
//! staging prefix private to the attempt, each as its own object, so every chunk of a large
//! history is kept, with or without a progress manager (Temporal's GCS archiver overwrote part
//! 0 again and again without one). The **manifest** is written last with
//! `ifGenerationMatch=0` (create only; sent as a multipart upload, the upload type every GCS
//! implementation enforces it on): a JSON header line listing every blob's name, size, CRC-32C
//! and event range. It is the commit point: readers only trust manifests, so a reader sees no
//! archive or a complete one, and an interrupted or failed archive leaves nothing visible. A
//! history that fits one blob is stored **inline** after the manifest header: one upload
//! archives it. `<version key>` orders like the close failover version, so the highest
//! version is the last manifest listed. Reads fetch the manifest, then only the blobs the page
//! needs, verifying size, CRC-32C and batch count ([`Error::Corrupted`] otherwise); uploads
//! carry their CRC-32C so GCS refuses a body damaged in transit.
//!
//! **Visibility.** One object (the record as JSON) per record, one upload. Its name carries
//! the close time (inverted, so listing walks newest first), the start time, the status, short
//! digests of workflow id, type and run id, and an identity digest, so archiving a record again
//! overwrites itself. A query compiles the list filter (the whole language: ranges, `IN`,
//! `OR`, `ExecutionStatus`, custom search attributes; no `SearchPrecision`), turns its
//! [`Plan`](visibility_query::Plan) into name checks and a listing start (`startOffset`),
//! downloads only the names that pass, checks each record against the whole filter, and pages
//! with core's shared `page_of`, with a real next-page token.
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
//!   upload means "already archived". No response, however malformed, panics.
//! - **Credentials** never appear in `Debug`, errors or logs (settings hold a key file's path,
//!   never its contents).
//!
//! [`Error::Corrupted`]: archiver_core::Error::Corrupted
//! [`Error::InvalidUri`]: archiver_core::Error::InvalidUri

mod config;
mod error;
mod history;
mod location;
mod register;
mod store;
mod validate;
mod visibility;

pub use config::{Credentials, GcsSettings, RetrySettings, TimeoutSettings};
pub use history::GcsHistoryArchiver;
pub use register::{history_factory, register, visibility_factory};
pub use store::GcsStore;
pub use visibility::GcsVisibilityArchiver;
