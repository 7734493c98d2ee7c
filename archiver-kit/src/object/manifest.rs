//! The manifest: the commit point of a history archive.
//!
//! One object per (run, close failover version) at `<run>/manifest/<version key>`, created with
//! `If-None-Match: *` after every blob it lists is stored. Readers trust only manifests, so a
//! reader sees no archive or a complete one. The object is a JSON header line, then, for a
//! history that fits one blob, that blob inline (one PUT archives the whole history).

use archiver_core::history::HistoryBlob;
use archiver_core::{Error, Result};
use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};

/// The manifest format written and read.
const FORMAT: u32 = 1;

/// What an archive is of; checked against the request on read (keys are digests).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Identity {
    pub(super) namespace_id: String,
    pub(super) workflow_id: String,
    pub(super) run_id: String,
    pub(super) close_failover_version: i64,
}

/// One blob of the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BlobEntry {
    /// The blob's key relative to the run prefix; `None` when it follows the header inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) key: Option<String>,
    pub(super) size: u64,
    pub(super) crc32c: u32,
    pub(super) first_event_id: i64,
    pub(super) last_event_id: i64,
    pub(super) events: usize,
    pub(super) batches: usize,
}

impl BlobEntry {
    /// The entry of `blob`, stored at `key` (`None`: inline).
    pub(super) fn of(blob: &HistoryBlob, key: Option<String>) -> Self {
        BlobEntry {
            key,
            size: blob.data.len() as u64,
            crc32c: crc32c::crc32c(&blob.data),
            first_event_id: blob.first_event_id,
            last_event_id: blob.last_event_id,
            events: blob.event_count,
            batches: blob.batch_count,
        }
    }

    /// Checks `data` against the entry's size and checksum.
    pub(super) fn verify(&self, data: &[u8], location: &str) -> Result<()> {
        if data.len() as u64 != self.size {
            return Err(Error::corrupted(
                location,
                format!(
                    "blob is {} bytes, the manifest says {}",
                    data.len(),
                    self.size
                ),
            ));
        }
        let crc = crc32c::crc32c(data);
        if crc != self.crc32c {
            return Err(Error::corrupted(
                location,
                format!("CRC-32C {crc:08x}, the manifest says {:08x}", self.crc32c),
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header {
    format: u32,
    #[serde(flatten)]
    identity: Identity,
    blobs: Vec<BlobEntry>,
}

/// A decoded manifest, with its inline blob if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Manifest {
    pub(super) identity: Identity,
    pub(super) blobs: Vec<BlobEntry>,
    /// The bytes after the header: the inline blob.
    pub(super) inline: Bytes,
}

impl Manifest {
    /// Encodes a manifest of `blobs`, followed by `inline` (the blob whose entry has no key).
    pub(super) fn encode(
        provider: &'static str,
        identity: &Identity,
        blobs: &[BlobEntry],
        inline: &[u8],
    ) -> Result<Bytes> {
        let header = Header {
            format: FORMAT,
            identity: identity.clone(),
            blobs: blobs.to_vec(),
        };
        let json = serde_json::to_vec(&header)
            .map_err(|e| Error::backend(provider, "encode manifest", e, false))?;
        let mut out = BytesMut::with_capacity(json.len() + 1 + inline.len());
        out.extend_from_slice(&json);
        out.extend_from_slice(b"\n");
        out.extend_from_slice(inline);
        Ok(out.freeze())
    }

    /// Decodes a manifest object and checks it is the archive of `expected`.
    pub(super) fn decode(data: Bytes, expected: &Identity, location: &str) -> Result<Self> {
        let corrupted = |reason: String| Error::corrupted(location, reason);
        let end = data
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| corrupted("the manifest has no header line".into()))?;
        let header: Header = serde_json::from_slice(&data[..end])
            .map_err(|e| corrupted(format!("the manifest header does not decode: {e}")))?;
        if header.format != FORMAT {
            return Err(corrupted(format!(
                "unknown manifest format {}",
                header.format
            )));
        }
        if &header.identity != expected {
            return Err(corrupted(
                "the manifest belongs to another workflow run or version".into(),
            ));
        }
        if header.blobs.is_empty() || header.blobs.iter().filter(|b| b.key.is_none()).count() > 1 {
            return Err(corrupted(
                "the manifest lists no blobs or several inline ones".into(),
            ));
        }
        Ok(Manifest {
            identity: header.identity,
            blobs: header.blobs,
            inline: data.slice(end + 1..),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        Identity {
            namespace_id: "ns".into(),
            workflow_id: "wf".into(),
            run_id: "run".into(),
            close_failover_version: 3,
        }
    }

    fn entry(key: Option<&str>, data: &[u8]) -> BlobEntry {
        BlobEntry {
            key: key.map(str::to_owned),
            size: data.len() as u64,
            crc32c: crc32c::crc32c(data),
            first_event_id: 1,
            last_event_id: 2,
            events: 2,
            batches: 1,
        }
    }

    #[test]
    fn round_trip_with_inline_blob() {
        let blob = b"{\"events\":[]}\n";
        let bytes = Manifest::encode("s3", &identity(), &[entry(None, blob)], blob).unwrap();
        let m = Manifest::decode(bytes, &identity(), "m").unwrap();
        assert_eq!(&m.inline[..], blob);
        m.blobs[0].verify(&m.inline, "m").unwrap();
    }

    #[test]
    fn damage_and_foreign_manifests_are_corrupted() {
        let bytes = Manifest::encode("s3", &identity(), &[entry(Some("b/0"), b"x")], b"").unwrap();
        let other = Identity {
            run_id: "other".into(),
            ..identity()
        };
        for (case, got) in [
            ("foreign", Manifest::decode(bytes.clone(), &other, "m")),
            (
                "truncated",
                Manifest::decode(bytes.slice(..10), &identity(), "m"),
            ),
            ("empty", Manifest::decode(Bytes::new(), &identity(), "m")),
        ] {
            assert!(
                matches!(got, Err(Error::Corrupted { .. })),
                "{case}: {got:?}"
            );
        }
        let e = entry(Some("b/0"), b"abc");
        assert!(e.verify(b"abc", "b").is_ok());
        assert!(matches!(
            e.verify(b"abd", "b"),
            Err(Error::Corrupted { .. })
        ));
        assert!(matches!(e.verify(b"ab", "b"), Err(Error::Corrupted { .. })));
    }
}
