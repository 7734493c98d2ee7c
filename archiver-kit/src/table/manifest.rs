//! The manifest: one namespace's committed snapshot. Generation `n` is the object
//! `log/<ns>/m/<n>`, written create-only, so of two compactors committing the same generation
//! exactly one wins (S3 `If-None-Match`, GCS `ifGenerationMatch=0`, a hard link on file://).
//! The highest generation listed is the table's state.
//!
//! ```text
//! {"format":"archiver.visibility.manifest","version":1,"generation":7,"namespaceId":"...",
//!  "segments":[{"key":...,"bytes":...,"rows":...,"minClose":...,"maxClose":...,
//!               "minStart":...,"maxStart":...,"tail":{"blooms":{...},"footer":{...}}}],
//!  "folded":[{"key":"<batch key>","at":"<time>"}],
//!  "retired":[{"key":"<object key>","at":"<time>"}],"legacyFolded":true}
//! crc32c:<8 hex digits>
//! ```
//!
//! `folded` names the batches (and the per-record layout's records) whose records the segments
//! hold: readers skip them. `legacyFolded` says no record of the per-record layout is left to
//! read. `retired`
//! names objects no longer referenced (replaced segments, superseded manifests); both are
//! deleted once older than the grace period, so a reader still using an older snapshot finds
//! what it names.

use archiver_core::{Error, Result};
use bytes::Bytes;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::segment::SegmentTail;

const FORMAT: &str = "archiver.visibility.manifest";
const VERSION: u32 = 1;

/// A committed snapshot of one namespace's table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Manifest {
    format: String,
    version: u32,
    pub(crate) generation: u64,
    pub(crate) namespace_id: String,
    pub(crate) segments: Vec<SegmentEntry>,
    pub(crate) folded: Vec<Dated>,
    pub(crate) retired: Vec<Dated>,
    /// Whether every record of the per-record layout has been folded: readers stop listing it.
    #[serde(default)]
    pub(crate) legacy_folded: bool,
}

/// A live segment and what queries prune it by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SegmentEntry {
    pub(crate) key: String,
    pub(crate) bytes: u64,
    pub(crate) rows: u64,
    pub(crate) min_close: Timestamp,
    pub(crate) max_close: Timestamp,
    pub(crate) min_start: Timestamp,
    pub(crate) max_start: Timestamp,
    pub(crate) tail: SegmentTail,
}

/// An object key and when it was folded or retired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Dated {
    pub(crate) key: String,
    pub(crate) at: Timestamp,
}

impl Manifest {
    /// The empty table: generation 0, never stored.
    pub(crate) fn empty(namespace_id: &str) -> Manifest {
        Manifest {
            format: FORMAT.into(),
            version: VERSION,
            generation: 0,
            namespace_id: namespace_id.into(),
            segments: Vec::new(),
            folded: Vec::new(),
            retired: Vec::new(),
            legacy_folded: false,
        }
    }

    pub(crate) fn encode(&self) -> Bytes {
        let mut out = serde_json::to_vec(self).unwrap_or_default();
        out.push(b'\n');
        let crc = crc32c::crc32c(&out);
        out.extend_from_slice(format!("crc32c:{crc:08x}\n").as_bytes());
        out.into()
    }

    /// The manifest in `bytes`, verified: `describe` names the object in errors.
    pub(crate) fn decode(
        bytes: &[u8],
        namespace_id: &str,
        generation: u64,
        describe: &str,
    ) -> Result<Manifest> {
        let corrupted = |reason: String| Error::corrupted(describe, reason);
        let body = bytes
            .strip_suffix(b"\n")
            .ok_or_else(|| corrupted("the manifest has no checksum line".into()))?;
        let at = body
            .iter()
            .rposition(|b| *b == b'\n')
            .ok_or_else(|| corrupted("the manifest has no checksum line".into()))?;
        let (content, trailer) = (&body[..=at], &body[at + 1..]);
        let crc = trailer
            .strip_prefix(b"crc32c:")
            .filter(|hex| {
                hex.len() == 8 && hex.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            })
            .and_then(|hex| u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok())
            .ok_or_else(|| corrupted("the manifest's checksum line is malformed".into()))?;
        if crc32c::crc32c(content) != crc {
            return Err(corrupted("the manifest fails its CRC-32C".into()));
        }
        let manifest: Manifest = serde_json::from_slice(content)
            .map_err(|e| corrupted(format!("the manifest does not decode: {e}")))?;
        if manifest.format != FORMAT {
            return Err(corrupted("not a visibility manifest".into()));
        }
        if manifest.version != VERSION {
            return Err(corrupted(format!(
                "manifest format version {} is not supported (this library reads {VERSION})",
                manifest.version
            )));
        }
        if manifest.namespace_id != namespace_id || manifest.generation != generation {
            return Err(corrupted(
                "the manifest belongs to another namespace or generation than its key names".into(),
            ));
        }
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_damage() {
        let mut manifest = Manifest::empty("ns");
        manifest.generation = 3;
        manifest.folded.push(Dated {
            key: "b/1".into(),
            at: Timestamp::UNIX_EPOCH,
        });
        let bytes = manifest.encode();
        assert_eq!(Manifest::decode(&bytes, "ns", 3, "m").unwrap(), manifest);
        assert!(Manifest::decode(&bytes, "ns", 4, "m").is_err());
        assert!(Manifest::decode(&bytes, "other", 3, "m").is_err());
        for i in 0..bytes.len() {
            let mut damaged = bytes.to_vec();
            damaged[i] ^= 0x10;
            assert!(
                Manifest::decode(&damaged, "ns", 3, "m").is_err(),
                "flip at {i}"
            );
            assert!(
                Manifest::decode(&bytes[..i], "ns", 3, "m").is_err(),
                "cut at {i}"
            );
        }
    }
}
