//! Where a table's objects live, under the location's prefix:
//!
//! ```text
//! visibility/v2/log/<h(ns id)>/b/<micros, 20 digits>-<16 hex>      batches
//! visibility/v2/log/<h(ns id)>/m/<generation, 20 digits>           manifests
//! visibility/v2/segments/namespace_id=<id>/close_date=<day>/<generation, 20 digits>-<16 hex>.parquet
//! ```
//!
//! Batches and manifests of a namespace share one prefix, so one listing finds both (batches
//! sort before manifests). Records the per-record layout wrote before the table
//! (`v1/visibility/<ns>/...`, [`ObjectLocation::visibility_prefix`]) are read like batches of
//! one record each until a compaction folds them. Segments are Hive-partitioned with the namespace id readable, so an
//! engine pointed at `visibility/v2/segments/` sees every namespace as a table.

use crate::object::{ObjectLocation, id_segment};
use jiff::Timestamp;

use crate::segment::{SegmentError, partition_path};

/// The layout directory under a location's prefix.
const ROOT: &str = "visibility/v2/";

/// The keys of one namespace's table at one location.
#[derive(Debug, Clone)]
pub(crate) struct TableKeys {
    root: String,
    log: String,
    legacy: String,
    namespace_id: String,
}

impl TableKeys {
    pub(crate) fn new(location: &ObjectLocation, namespace_id: &str) -> TableKeys {
        let root = format!("{}{ROOT}", location.prefix());
        TableKeys {
            log: format!("{root}log/{}/", id_segment(namespace_id)),
            legacy: location.visibility_prefix(namespace_id),
            root,
            namespace_id: namespace_id.to_owned(),
        }
    }

    pub(crate) fn namespace_id(&self) -> &str {
        &self.namespace_id
    }

    /// The prefix one listing reads: the namespace's batches and manifests.
    pub(crate) fn log(&self) -> &str {
        &self.log
    }

    /// The prefix of the records the per-record layout wrote, one object each.
    pub(crate) fn legacy(&self) -> &str {
        &self.legacy
    }

    /// Whether `key` is a record of the per-record layout.
    pub(crate) fn is_legacy(&self, key: &str) -> bool {
        key.starts_with(&self.legacy)
    }

    /// The key of a new batch written at `now`.
    pub(crate) fn new_batch(&self, now: Timestamp) -> String {
        format!(
            "{}b/{:020}-{}",
            self.log,
            now.as_microsecond().max(0),
            random_hex()
        )
    }

    pub(crate) fn manifest(&self, generation: u64) -> String {
        format!("{}m/{generation:020}", self.log)
    }

    /// What a listed key of the log is.
    pub(crate) fn parse(&self, key: &str) -> Option<LogKey> {
        let name = key.strip_prefix(self.log.as_str())?;
        if let Some(batch) = name.strip_prefix("b/") {
            let (micros, random) = batch.split_once('-')?;
            (micros.len() == 20
                && micros.bytes().all(|b| b.is_ascii_digit())
                && random.len() == 16
                && random.bytes().all(|b| b.is_ascii_hexdigit()))
            .then_some(LogKey::Batch)
        } else if let Some(generation) = name.strip_prefix("m/") {
            (generation.len() == 20 && generation.bytes().all(|b| b.is_ascii_digit()))
                .then(|| generation.parse().ok().map(LogKey::Manifest))
                .flatten()
        } else {
            None
        }
    }

    /// The key of a new segment of the partition `close_time` falls in, written by the
    /// compaction that commits `generation`.
    pub(crate) fn new_segment(
        &self,
        close_time: Timestamp,
        generation: u64,
    ) -> Result<String, SegmentError> {
        Ok(format!(
            "{}segments/{}/{generation:020}-{}.parquet",
            self.root,
            partition_path(&self.namespace_id, close_time)?,
            random_hex()
        ))
    }

    /// The prefix of every segment of the namespace, in every partition.
    pub(crate) fn segments(&self) -> Result<String, SegmentError> {
        let partition = partition_path(&self.namespace_id, Timestamp::UNIX_EPOCH)?;
        let namespace = partition.split('/').next().unwrap_or_default();
        Ok(format!("{}segments/{namespace}/", self.root))
    }
}

/// The generation of the compaction that wrote the segment `key` ([`TableKeys::new_segment`]),
/// or `None` when `key` names no segment.
pub(crate) fn segment_generation(key: &str) -> Option<u64> {
    let name = key.rsplit('/').next()?.strip_suffix(".parquet")?;
    let (generation, random) = name.split_once('-')?;
    if generation.len() != 20
        || !generation.bytes().all(|b| b.is_ascii_digit())
        || random.len() != 16
        || !random.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    generation.parse().ok()
}

/// What a key in a namespace's log is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogKey {
    Batch,
    Manifest(u64),
}

/// 16 random hex digits, from std's randomly keyed hasher (no `rand` dependency): names that
/// two writers never share.
fn random_hex() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    format!("{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_keys_name_their_generation_under_the_namespace_prefix() {
        let location = ObjectLocation::new("s3", "bucket", "archive/");
        let keys = TableKeys::new(&location, "ns/1");
        let close = "2026-12-01T10:00:00Z".parse().unwrap();
        let key = keys.new_segment(close, 42).unwrap();
        assert!(key.starts_with(&keys.segments().unwrap()), "{key}");
        assert_eq!(
            keys.segments().unwrap(),
            "archive/visibility/v2/segments/namespace_id=ns%2F1/"
        );
        assert_eq!(segment_generation(&key), Some(42));
        for other in [
            "archive/visibility/v2/segments/namespace_id=ns%2F1/close_date=2026-12-01/notes.txt",
            "x/00000000000000000042-0123456789abcdef.json",
            "x/42-0123456789abcdef.parquet",
            "x/00000000000000000042-0123456789abcdeg.parquet",
        ] {
            assert_eq!(segment_generation(other), None, "{other}");
        }
    }
}
