//! Batches: the records of one group commit, one object.
//!
//! ```text
//! {"format":"archiver.visibility.batch","version":1,"namespaceId":"...","records":N}
//! <record JSON>            (N lines)
//! crc32c:<8 hex digits>    (of every byte before this line)
//! ```

use archiver_core::{Error, Result, VisibilityRecord};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

const FORMAT: &str = "archiver.visibility.batch";
const VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header {
    format: String,
    version: u32,
    namespace_id: String,
    records: usize,
}

/// A record's line in a batch (its JSON, no newline).
pub(crate) fn line(record: &VisibilityRecord) -> Result<Bytes> {
    serde_json::to_vec(record)
        .map(Bytes::from)
        .map_err(|e| Error::invalid_request("record", e.to_string()))
}

/// The bytes of a batch of records' `lines`, all of namespace `namespace_id`.
pub(crate) fn assemble(namespace_id: &str, lines: &[Bytes]) -> Bytes {
    let header = Header {
        format: FORMAT.into(),
        version: VERSION,
        namespace_id: namespace_id.into(),
        records: lines.len(),
    };
    let mut out = serde_json::to_vec(&header).unwrap_or_default();
    out.push(b'\n');
    for line in lines {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(format!("crc32c:{crc:08x}\n").as_bytes());
    out.into()
}

/// The records of a batch, verified: `describe` names the object in errors.
pub(crate) fn decode(
    bytes: &[u8],
    namespace_id: &str,
    describe: &str,
) -> Result<Vec<VisibilityRecord>> {
    let corrupted = |reason: &str| Error::corrupted(describe, reason);
    let body = bytes
        .strip_suffix(b"\n")
        .and_then(|b| b.rsplit_once_line())
        .ok_or_else(|| corrupted("the batch has no checksum line"))?;
    let (content, trailer) = body;
    let crc = trailer
        .strip_prefix(b"crc32c:")
        .and_then(|hex| std::str::from_utf8(hex).ok())
        .filter(|hex| hex.len() == 8 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
        .ok_or_else(|| corrupted("the batch's checksum line is malformed"))?;
    if crc32c::crc32c(content) != crc {
        return Err(corrupted("the batch fails its CRC-32C"));
    }
    let mut lines = content.split(|b| *b == b'\n');
    let header: Header = lines
        .next()
        .and_then(|line| serde_json::from_slice(line).ok())
        .ok_or_else(|| corrupted("the batch header does not decode"))?;
    if header.format != FORMAT {
        return Err(corrupted("not a visibility batch"));
    }
    if header.version != VERSION {
        return Err(corrupted(&format!(
            "batch format version {} is not supported (this library reads {VERSION})",
            header.version
        )));
    }
    if header.namespace_id != namespace_id {
        return Err(corrupted("the batch belongs to another namespace"));
    }
    let records = lines
        .filter(|line| !line.is_empty())
        .map(serde_json::from_slice::<VisibilityRecord>)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| corrupted(&format!("a record does not decode: {e}")))?;
    if records.len() != header.records || records.iter().any(|r| r.namespace_id != namespace_id) {
        return Err(corrupted(
            "the batch holds other records than its header says",
        ));
    }
    Ok(records)
}

/// Splits off the last line (after the last `\n`; the whole slice when there is none).
trait LastLine {
    fn rsplit_once_line(&self) -> Option<(&[u8], &[u8])>;
}

impl LastLine for [u8] {
    fn rsplit_once_line(&self) -> Option<(&[u8], &[u8])> {
        let at = self.iter().rposition(|b| *b == b'\n')?;
        Some((&self[..=at], &self[at + 1..]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_every_damage() {
        let records = archiver_core::testing::test_records("ns", 3);
        let lines: Vec<_> = records.iter().map(|r| line(r).unwrap()).collect();
        let bytes = assemble("ns", &lines);
        assert_eq!(decode(&bytes, "ns", "b").unwrap(), records);
        assert!(decode(&bytes, "other", "b").is_err());
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut damaged = bytes.to_vec();
                damaged[i] ^= 1 << bit;
                if let Ok(decoded) = decode(&damaged, "ns", "b") {
                    panic!("flip {i}/{bit} accepted: {decoded:?}");
                }
            }
            assert!(decode(&bytes[..i], "ns", "b").is_err(), "cut at {i}");
        }
        let empty = assemble("ns", &[]);
        assert_eq!(decode(&empty, "ns", "b").unwrap(), vec![]);
    }
}
