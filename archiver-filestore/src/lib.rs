//! # archiver-filestore: the `file://` provider
//!
//! Archives workflow histories and visibility records into a local directory (or any mounted
//! file system), with no server: [`FilestoreHistoryArchiver`] and
//! [`FilestoreVisibilityArchiver`] implement archiver-core's
//! [`HistoryArchiver`](archiver_core::HistoryArchiver) and
//! [`VisibilityArchiver`](archiver_core::VisibilityArchiver) for URIs like
//! `file:///var/lib/temporal/archive` (an absolute path; no host).
//!
//! ```
//! use std::sync::Arc;
//! use archiver_core::history::{MemoryHistorySource, RunKey};
//! use archiver_core::testing::{test_history, test_request};
//! use archiver_core::{ArchiveOptions, ArchiveUri, GetHistoryRequest, HistoryArchiver};
//! use archiver_filestore::{FilestoreConfig, FilestoreHistoryArchiver};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> archiver_core::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! let uri: ArchiveUri = format!("file://{}", dir.path().display()).parse()?;
//! // The engine's persistence; here an in-memory one holding one run.
//! let source = Arc::new(MemoryHistorySource::new());
//! let run = RunKey::new("ns-id", "order-42", "run-1");
//! let history = test_history(7, 20, 1);
//! source.insert(run.clone(), history.clone());
//!
//! let config = FilestoreConfig::new(0o640, 0o750);
//! let archiver = FilestoreHistoryArchiver::with_config(source, &config);
//! archiver.validate_uri(&uri).await?;
//! archiver
//!     .archive(&uri, &test_request(&run, &history, 1), &ArchiveOptions::default())
//!     .await?;
//!
//! let page = archiver
//!     .get(&uri, &GetHistoryRequest::new("ns-id", "order-42", "run-1", 1_000))
//!     .await?;
//! assert_eq!(page.history_batches, history);
//! assert!(page.next_page_token.is_none());
//! # Ok(()) }
//! ```
//!
//! With a [`ProviderRegistry`](archiver_core::ProviderRegistry), [`register`] adds both
//! archivers as the built-in `file` provider, configured from the `filestore` sections of the
//! archival config.
//!
//! ## Layout (format version 2)
//!
//! Everything lives under a version directory, so a future incompatible layout (`v3/`) can sit
//! beside it. (Layout 1, `v1/`, stored visibility records without a checksum; it had no users
//! and is not read.) Ids are user strings and never become raw path segments: each is written as
//! `<32 hex digits of SHA-256>-<hint>`, the hint being at most 32 characters of the id with
//! everything outside `[A-Za-z0-9_-]` replaced by `_` (so `../`, `/`, NUL, unicode and 4 KB ids
//! are all safe, and names stay short). Files also store the real ids, which readers check.
//!
//! ```text
//! <root>/v2/history/<ns id>/<workflow id>/<run id>/<close failover version>.hist
//! <root>/v2/visibility/<ns id>/<YYYY-MM-DD>/<close ns>_<start ns>_<status>_<h(wf id)>_<h(type)>_<h(run id)>_<identity>.vis
//! <root>/v2/visibility/<ns id>/by-workflow/COMPLETE-v1                       (workflow index v1)
//! <root>/v2/visibility/<ns id>/by-workflow/<2 hex>/<32 hex h(wf id)>_<record file name>
//! <root>/v2/visibility/<ns id>/staging/.tmp-*                  (records staged before their rename)
//! .tmp-*   staged files: ignored by readers, cleaned by later archives and by [`cleanup`]
//! ```
//!
//! **`.hist`** (one run, one version): a header (magic `ARCVHIST`, format version, the ids and
//! version as JSON, CRC-32C), then one frame per blob (magic, length, CRC-32C of the payload,
//! first/last event id, event and batch counts, header CRC; the payload is the blob as
//! archiver-core encodes it: one `History` JSON object per line), then an index of the frames and
//! a 32-byte footer pointing to it. Get reads the header, footer and index, then only the blobs
//! its page needs: the first page of a huge history costs about one blob's read. Every checksum
//! is verified on read; damage gives [`Error::Corrupted`](archiver_core::Error::Corrupted) naming
//! the file.
//!
//! **`.vis`**: a 20-byte header (magic `ARCVVREC`, record format version, body length, CRC-32C
//! over header and body) and the record as JSON, in the UTC day directory of its close time. The name carries
//! the close and start times (Unix nanoseconds, 20 digits), the status number, 8-hex-digit
//! digests of workflow id, type and run id, and a 128-bit digest of (namespace id, workflow id,
//! run id): archiving the same record again replaces it. (The indexed fields are part of the
//! name, so a run re-archived with a different close time, start time, status or type would be
//! stored twice; a closed run's record does not change these.) A query turns its filter's
//! [`Plan`](visibility_query::Plan) into day-directory and name checks, opens only the files that
//! pass, checks each record against the whole filter, and pages with core's shared helper
//! (`CloseTime DESC` by default). When the query is ordered by `CloseTime` or `StartTime` (the
//! default is), files are opened in that order and reading stops once the page is decided
//! (core's `PageCutoff`): days are visited newest first (in the query's direction), days before
//! the page token are not listed, so a first page costs one day listing and about `page_size`
//! reads. A stray (a name that is not a record's or a day's, a file named like a day directory,
//! a record name in another day's directory) is logged with its path (`tracing::warn!`) and
//! skipped; it never fails the query. A record file the query reads and cannot trust (checksum
//! or length mismatch, undecodable, not matching its name, a FIFO or directory in its place)
//! fails the query with [`Error::Corrupted`](archiver_core::Error::Corrupted) naming the file,
//! rather than returning a page silently short of it; archiving the record again rewrites the
//! file, removing it drops the record. A record removed since the listing is simply absent.
//!
//! **Workflow index (version 1)**: one empty pointer file per record, named by a digest of the
//! workflow id and the record's file name, in one of 256 shard directories. `WorkflowId = '...'`
//! lists one shard instead of every day. The pointer is created before the record is renamed
//! into place, both directories are fsynced before `archive` returns; a dangling pointer (crash
//! in between, removed record) or stray name is skipped. `COMPLETE-v1` is written by the writer
//! that creates the namespace directory and says every record there has a pointer; namespaces
//! without it (older archives) are answered by scanning days.
//!
//! ## Guarantees
//!
//! - **Atomic, durable commits.** History blobs are streamed into a staged file in the run
//!   directory (memory stays about one blob, whatever the history size); at the end the index
//!   and footer are written, the file is fsynced, renamed into place, and the directory is
//!   fsynced. The run's entry in the workflow directory and the workflow's in the namespace
//!   directory are fsynced too, whoever created them, by fsyncs that run beside the file's
//!   writing and that concurrent archives share (an archive waits only for an fsync of the
//!   directory that started after its change): `archive` returns once all of it is durable, and
//!   so does a call that finds the run archived already. Visibility records are staged, fsynced and renamed the same way (concurrent
//!   archives' fsyncs share journal commits in the kernel). A reader sees no archive or the
//!   whole one; a process killed mid-archive leaves only `.tmp-*` files.
//! - **Idempotent.** Archiving a run and version that is already archived (and intact) does
//!   nothing; two concurrent archives of the same run both succeed and leave one complete
//!   archive (each stages its own file; rename is atomic). The existing archive is verified
//!   whole (every blob's checksum, read in chunks); one that cannot be read (damaged, or not a
//!   regular file) is reported as
//!   [`Error::Corrupted`](archiver_core::Error::Corrupted) naming the file and left as found:
//!   an operator removes it to archive the run again. Ids too long for a readable header
//!   (over 1 MiB as JSON) are refused with
//!   [`Error::InvalidRequest`](archiver_core::Error::InvalidRequest) before anything is written.
//! - **Resumable.** With a [`ProgressManager`](archiver_core::ProgressManager), each blob is
//!   fsynced and then recorded (staged file, durable length, iterator state). A retry reopens
//!   the staged file, verifies what it holds, and continues without writing any blob twice.
//!   Without one, a failed archive removes its staged file.
//! - **Cleanup.** Staged files untouched for an hour (left by killed writers) are removed by
//!   the next archive in the same directory: a history archive cleans its run directory (any
//!   version), a visibility archive its namespace's `staging/` directory, which holds only
//!   staged files, so no day directory is ever listed for it. Each examines at most 256
//!   entries (bounded work; later archives go on). A run never archived again keeps what its
//!   killed attempts staged: [`cleanup`] sweeps a whole archive (for a periodic job).
//! - **Modes.** [`FilestoreConfig`]'s `file_mode` and `dir_mode` (Temporal's `fileMode` and
//!   `dirMode`; defaults [`DEFAULT_FILE_MODE`] / [`DEFAULT_DIR_MODE`], `0o666` / `0o766`) are applied exactly, regardless of the umask, to the
//!   files written and the directories created.
//! - **Errors.** File-system failures are [`Error::Backend`](archiver_core::Error::Backend) with
//!   the operation and path; only interrupted, would-block and timed-out calls are retryable (a
//!   full disk, an I/O error or a permission problem needs an operator). Stored files are
//!   opened without blocking (`O_NONBLOCK`) and checked to be regular files after opening, so a
//!   FIFO, device or directory in place of one is an
//!   [`Error::Corrupted`](archiver_core::Error::Corrupted) naming it, never a hang. All
//!   blocking I/O runs on tokio's blocking pool.

// `history/` and `visibility/` are the provider's two halves and do not import each other; the
// other modules are shared by both.
mod cleanup;
mod config;
mod dirsync;
mod error;
mod fsio;
mod history;
mod layout;
mod naming;
mod register;
mod task;
mod validate;
mod visibility;

pub use cleanup::cleanup;
pub use config::{DEFAULT_DIR_MODE, DEFAULT_FILE_MODE, FilestoreConfig};
pub use history::FilestoreHistoryArchiver;
pub use register::{history_factory, register, visibility_factory};
pub use visibility::FilestoreVisibilityArchiver;
