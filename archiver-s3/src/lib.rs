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
//! ## Layout
//!
//! The archivers are archiver-kit's object-store archivers
//! ([`archiver_kit::object`]) over [`S3Store`]; the keys are the kit's object-store layout v1
//! (documented there): per run, a manifest written last with `If-None-Match: *` as the commit
//! point and staged blobs under a per-attempt prefix, or the whole history inline in the
//! manifest when it fits one blob. Visibility records go to archiver-kit's
//! [visibility table](archiver_kit::table): concurrent archives group-committed into batch
//! objects, compacted into Hive-partitioned Parquet segments under a manifest committed with
//! `If-None-Match: *` (readable by DuckDB, Spark, Trino, Athena). Records the earlier
//! per-record layout wrote (the kit's object-store visibility layout, one object per record) are
//! still read, until a [`compact`](archiver_kit::table::VisibilityTable::compact) of their
//! namespace folds them into segments.
//!
//! ## Guarantees
//!
//! - **Atomic commits, no partial archives**; **idempotent**: re-archiving an archived run
//!   uploads nothing (the manifest exists; a single-blob archive's conditional PUT is its own
//!   check), and concurrent archives of one run both succeed, one manifest winning.
//! - **Resumable**: with a [`ProgressManager`](archiver_core::ProgressManager), the attempt id,
//!   the blobs stored and the iterator state are recorded after each blob; a retry continues
//!   without uploading any blob twice.
//! - **Requests per workflow**: the history, 1 PUT when it fits one blob (Temporal: 5 PUTs
//!   plus a HEAD per blob), N + 1 PUTs, one HEAD and one LIST (the sweep) for N blobs; the
//!   visibility record, a share of one batch PUT per 50 ms window (0.001 PUTs per record
//!   measured at 1,000 concurrent closes).
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
mod location;
mod register;
mod request_log;
mod store;

use archiver_kit::object::ObjectHistoryArchiver;
use archiver_kit::table::VisibilityTable;

pub use archiver_kit::object::{RetrySettings, TimeoutSettings};
pub use config::{S3Settings, Secret, StaticCredentials};
pub use register::{history_factory, register, visibility_factory};
pub use store::S3Store;

/// The `s3://` [`HistoryArchiver`](archiver_core::HistoryArchiver): the kit's object-store
/// history archiver over an [`S3Store`] (layout and guarantees in the crate docs).
pub type S3HistoryArchiver = ObjectHistoryArchiver<S3Store>;

/// The `s3://` [`VisibilityArchiver`](archiver_core::VisibilityArchiver): archiver-kit's
/// [visibility table](archiver_kit::table) over an [`S3Store`] (group-committed batches,
/// Parquet segments, a manifest), which also reads the records the per-record layout wrote.
pub type S3VisibilityArchiver = VisibilityTable<S3Store>;
