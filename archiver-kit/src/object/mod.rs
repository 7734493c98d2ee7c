//! Archiving to object stores (S3, GCS, any store of keyed byte objects): everything that does
//! not depend on the provider. A provider implements the small [`ObjectStore`] trait over its
//! SDK (with one failure classifier) and gets [`ObjectHistoryArchiver`]; its visibility
//! archiver is the [visibility table](crate::table) over the same store.
//!
//! ## Object-store layout, version 1
//!
//! Ids are user strings and never appear raw in keys: each becomes 32 hex digits of its
//! SHA-256 (`h(..)` below), so any id gives a short, safe key well inside the 1024 bytes S3 and
//! GCS allow (the URI's prefix is limited to [`MAX_PREFIX`] bytes). Objects store the real ids,
//! which readers check.
//!
//! ```text
//! <prefix>/v1/history/<h(ns id)>/<h(workflow id)>/<h(run id)>/manifest/<version key>
//! <prefix>/v1/history/<h(ns id)>/<h(workflow id)>/<h(run id)>/blobs/<version key>/<attempt>/<index>
//! <prefix>/v1/visibility/<h(ns id)>/<close>_<start>_<status>_<h8(wf id)>_<h8(type)>_<h8(run id)>_<identity>.json
//!          (the old per-record visibility layout: read and folded by the table, no longer written)
//! ```
//!
//! **History.** Blobs (whole batches, one `History` JSON per line, about 2 MiB each) are
//! uploaded one by one as the history is read, so memory stays about one blob, under a
//! staging prefix private to the attempt (16 random hex digits). The **manifest** is written
//! last, create-only: a JSON header line listing every blob's key, size, CRC-32C and event
//! range. It is the commit point: readers only trust manifests, so a reader sees no archive or
//! a complete one, and an interrupted or failed archive leaves nothing visible (its staged
//! blobs are deleted when it cannot be resumed, unless the manifest write's outcome is
//! unknown; blobs of crashed attempts are swept by the run's next successful archive, one
//! LIST). A history that fits one blob is stored **inline** after the manifest header: one
//! write archives it. `<version key>` is the close failover version as 16 hex digits ordered
//! like the numbers (negative ones too), so the highest version is the last manifest listed.
//! Reads fetch the manifest, then only the blobs the page needs, verifying size, CRC-32C and
//! batch count ([`Error::Corrupted`](archiver_core::Error::Corrupted) otherwise).
//!
//! **Visibility (the per-record layout, read only).** Before the [visibility
//! table](crate::table), the providers stored one object per record under
//! `v1/visibility/<h(ns id)>/`: the record as JSON, then a trailer line with the JSON's
//! CRC-32C (`crc32c:<8 hex digits>`). Its key carried the close time (inverted, so listing
//! walked newest first), the start time (Unix nanoseconds, biased to 21 fixed digits), the
//! status number, 32-bit digests of workflow id, type and run id, and a 128-bit identity
//! digest of (namespace id, workflow id, run id). Nothing writes this layout any more: the
//! table reads these objects (as batches of one record, each checked with
//! [`decode_visibility_record`]: a damaged or truncated one is
//! [`Error::Corrupted`](archiver_core::Error::Corrupted) naming its key, never returned
//! changed) until a compaction folds them into its segments and deletes them.

mod factory;
mod failure;
mod history;
mod layout;
mod manifest;
pub(crate) mod record;
mod retry;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod timeout;

pub use factory::history_factory;
pub use failure::{Failure, FailureKind};
pub use history::ObjectHistoryArchiver;
pub use layout::{MAX_PREFIX, ObjectLocation, id_segment};
pub use retry::RetrySettings;
pub use store::{ListPage, ObjectStore, PutMode, PutOutcome, list_all};
pub use timeout::TimeoutSettings;

/// A visibility record as the per-record layout stored it (one object per record under
/// [`ObjectLocation::visibility_prefix`], see the [module docs](self)), decoded and checked;
/// `location` names the object in errors. The [table](crate::table) reads old archives with it.
pub fn decode_visibility_record(
    data: &[u8],
    location: &str,
) -> archiver_core::Result<archiver_core::VisibilityRecord> {
    record::decode(data, location)
}
