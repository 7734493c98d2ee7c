//! # archiver-s3: the `s3://` provider
//!
//! Archives workflow histories and visibility records to Amazon S3 or any S3-compatible store
//! (SeaweedFS, MinIO, Ceph, ...): [`S3HistoryArchiver`] and [`S3VisibilityArchiver`] implement
//! archiver-core's [`HistoryArchiver`](archiver_core::HistoryArchiver) and
//! [`VisibilityArchiver`](archiver_core::VisibilityArchiver) for URIs like
//! `s3://my-bucket/optional/prefix`. Both share one [`S3Store`] (the `aws-sdk-s3` client),
//! built from [`S3Settings`] (code, [`S3Settings::from_env`], or Temporal's `s3store` section
//! via [`S3Settings::from_config`]) or from the embedder's own `aws_sdk_s3::Client` /
//! `SdkConfig`.
//!
//! ```no_run
//! use std::sync::Arc;
//! use archiver_core::{ArchiveOptions, ArchiveUri, GetHistoryRequest, HistoryArchiver};
//! use archiver_core::history::MemoryHistorySource;
//! use archiver_s3::{S3HistoryArchiver, S3Settings, S3Store};
//!
//! # async fn run(request: archiver_core::ArchiveHistoryRequest) -> archiver_core::Result<()> {
//! let store = S3Store::new(S3Settings::from_env().with_max_attempts(5));
//! let archiver = S3HistoryArchiver::new(store, Arc::new(MemoryHistorySource::new()));
//! let uri: ArchiveUri = "s3://archive-bucket/temporal".parse()?;
//! archiver.validate_uri(&uri).await?; // HeadBucket: missing, denied and unreachable differ
//! archiver.archive(&uri, &request, &ArchiveOptions::default()).await?;
//! let page = archiver
//!     .get(&uri, &GetHistoryRequest::new(&request.namespace_id, &request.workflow_id, &request.run_id, 100))
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! ## Layout (version 1)
//!
//! Ids are user strings and never appear raw in keys: each becomes 32 hex digits of its
//! SHA-256 (`h(..)` below), so any id gives a short, safe key well inside S3's 1024 bytes
//! (the URI's prefix is limited to 512 bytes). Objects store the real ids, which readers check.
//!
//! ```text
//! <prefix>/v1/history/<h(ns id)>/<h(workflow id)>/<h(run id)>/manifest/<version key>
//! <prefix>/v1/history/<h(ns id)>/<h(workflow id)>/<h(run id)>/blobs/<version key>/<attempt>/<index>
//! <prefix>/v1/visibility/<h(ns id)>/<close>_<start>_<status>_<h8(wf id)>_<h8(type)>_<h8(run id)>_<identity>.json
//! ```
//!
//! **History.** Blobs (whole batches, one `History` JSON per line, about 2 MiB each) are
//! uploaded one by one as the history is read, so memory stays about one blob, under a
//! staging prefix private to the attempt (16 random hex digits). The **manifest** is written
//! last, with `If-None-Match: *`: a JSON header line listing every blob's key, size, CRC-32C
//! and event range. It is the commit point: readers only trust manifests, so a reader sees no
//! archive or a complete one, and an interrupted or failed archive leaves nothing visible
//! (its staged blobs are deleted when it cannot be resumed, unless the manifest PUT's outcome
//! is unknown; blobs of crashed attempts are swept by the run's next successful archive). A history that fits one blob is
//! stored **inline** after the manifest header: one PUT archives it. `<version key>` is the
//! close failover version as 16 hex digits ordered like the numbers (negative ones too), so the
//! highest version is the last manifest listed. Reads fetch the manifest, then only the blobs
//! the page needs, verifying size, CRC-32C and batch count ([`Error::Corrupted`] otherwise).
//!
//! **Visibility.** One object (the record as JSON) per record, one PUT. Its key carries the
//! close time (inverted, so listing walks newest first), the start time (Unix nanoseconds,
//! biased to 21 fixed digits: nanosecond precision, any year), the status number, 32-bit
//! digests of workflow id, type and run id, and a 128-bit identity digest of (namespace id,
//! workflow id, run id), so archiving a record again overwrites itself. A query compiles the
//! list filter, turns its [`Plan`](visibility_query::Plan) into key checks and a listing range,
//! downloads only the keys that pass, checks each record against the whole filter, and pages
//! with core's shared `page_of`. When the order starts with `CloseTime` or `StartTime` (the
//! default is `CloseTime DESC`), records are downloaded in that order and only until the page
//! is decided: about `page_size` GETs, however large the namespace; in the default order the
//! listing stops there too (about one LIST). Other orders download every admitted record.
//!
//! ## Guarantees
//!
//! - **Atomic commits, no partial archives**; **idempotent**: re-archiving an archived run
//!   uploads nothing (the manifest exists; a single-blob archive's conditional PUT is its own
//!   check), and concurrent archives of one run both succeed, one manifest winning.
//! - **Resumable**: with a [`ProgressManager`](archiver_core::ProgressManager), the attempt id,
//!   the blobs stored and the iterator state are recorded after each blob; a retry continues
//!   without uploading any blob twice.
//! - **Requests per workflow** (history + visibility): 2 PUTs when the history fits one blob
//!   (Temporal: 5 PUTs plus a HEAD per blob); for N blobs, N + 2 PUTs, one HEAD and one
//!   LIST (the sweep).
//! - **Errors** are classified in one function: throttling, 5xx, timeouts and dropped
//!   connections are retryable (after the SDK's own retries, configured by
//!   [`RetrySettings`]); a missing bucket ([`Error::InvalidUri`]), access denied and bad
//!   requests are not.
//! - **Credentials** never appear in `Debug`, errors or logs.
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

pub use config::{RetrySettings, S3Settings, Secret, StaticCredentials, TimeoutSettings};
pub use history::S3HistoryArchiver;
pub use register::{history_factory, register, visibility_factory};
pub use store::S3Store;
pub use visibility::S3VisibilityArchiver;
