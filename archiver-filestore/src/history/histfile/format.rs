//! Byte layout of a `.hist` file (format version 1). All integers are little-endian.
//!
//! ```text
//! header   "ARCVHIST" | format u16 = 1 | flags u16 = 0 | identity_len u32 | identity JSON | crc u32
//! frame*   "BLOB" | payload_len u32 | payload_crc u32 | first_event_id i64 | last_event_id i64
//!          | event_count u32 | batch_count u32 | header_crc u32            (40 bytes) | payload
//! index    one 40-byte entry per frame: offset u64 | the frame header without magic and crc
//! footer   index_offset u64 | blob_count u32 | index_crc u32 | footer_crc u32 | 0 u32 | "HISTEND1"
//! ```
//! Every crc is CRC-32C: the header's over everything before it, a frame header's over its first
//! 36 bytes, `payload_crc` over the payload, `index_crc` over the index, `footer_crc` over the
//! other 28 footer bytes.

use serde::{Deserialize, Serialize};

/// File magic.
pub(crate) const MAGIC: &[u8; 8] = b"ARCVHIST";
/// Format version written and understood.
pub(crate) const FORMAT_VERSION: u16 = 1;
/// Frame magic.
const FRAME_MAGIC: &[u8; 4] = b"BLOB";
/// Footer magic.
const FOOTER_MAGIC: &[u8; 8] = b"HISTEND1";
/// Bytes of the header before the identity JSON.
pub(crate) const HEADER_FIXED: usize = 16;
/// Bytes of a frame header.
pub(crate) const FRAME_HEADER: usize = 40;
/// Bytes of an index entry.
pub(crate) const INDEX_ENTRY: usize = 40;
/// Bytes of the footer.
pub(crate) const FOOTER: usize = 32;
/// Identity JSON longer than this is rejected (ids are bounded well below it in practice).
pub(crate) const MAX_IDENTITY: u32 = 1 << 20;

/// Whose archive a file holds; stored in the header and checked on every read, so a name
/// collision or a misplaced file can never serve another workflow's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Identity {
    pub(crate) namespace_id: String,
    pub(crate) workflow_id: String,
    pub(crate) run_id: String,
    pub(crate) close_failover_version: i64,
}

impl Identity {
    /// Whether the header of a file for this identity is within what readers accept
    /// ([`MAX_IDENTITY`] bytes of JSON).
    pub(crate) fn fits_header(&self) -> bool {
        serde_json::to_vec(self).is_ok_and(|json| json.len() <= MAX_IDENTITY as usize)
    }
}

/// What a frame says about its blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BlobMeta {
    pub(crate) first_event_id: i64,
    pub(crate) last_event_id: i64,
    pub(crate) event_count: u32,
    pub(crate) batch_count: u32,
}

/// A frame's place and checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Frame {
    /// Offset of the frame header in the file.
    pub(crate) offset: u64,
    pub(crate) payload_len: u32,
    pub(crate) payload_crc: u32,
    pub(crate) meta: BlobMeta,
}

impl Frame {
    /// Offset just past this frame's payload.
    pub(crate) fn end(&self) -> u64 {
        self.offset + FRAME_HEADER as u64 + u64::from(self.payload_len)
    }
}

/// Where the index is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Footer {
    pub(crate) index_offset: u64,
    pub(crate) blob_count: u32,
    pub(crate) index_crc: u32,
}

/// A malformed structure; the caller adds the file name.
pub(crate) type FormatError = String;

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}
fn i64_at(b: &[u8], at: usize) -> i64 {
    i64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// The whole file header for `identity`.
pub(crate) fn encode_header(identity: &Identity) -> Vec<u8> {
    let json = serde_json::to_vec(identity).expect("identity serializes");
    let mut out = Vec::with_capacity(HEADER_FIXED + json.len() + 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&json);
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Checks the fixed part of the header and returns the identity JSON length.
pub(crate) fn decode_header_fixed(fixed: &[u8; HEADER_FIXED]) -> Result<u32, FormatError> {
    if &fixed[..8] != MAGIC {
        return Err("not a history archive (bad magic)".into());
    }
    let version = u16::from_le_bytes([fixed[8], fixed[9]]);
    if version != FORMAT_VERSION {
        return Err(format!("unsupported format version {version}"));
    }
    let len = u32_at(fixed, 12);
    if len > MAX_IDENTITY {
        return Err(format!("identity length {len} is implausible"));
    }
    Ok(len)
}

/// Checks the rest of the header (identity JSON and crc) and decodes the identity.
pub(crate) fn decode_header_rest(
    fixed: &[u8; HEADER_FIXED],
    rest: &[u8],
) -> Result<Identity, FormatError> {
    let (json, crc) = rest.split_at(rest.len() - 4);
    let mut hasher = crc32c::crc32c(fixed);
    hasher = crc32c::crc32c_append(hasher, json);
    if hasher != u32_at(crc, 0) {
        return Err("header checksum mismatch".into());
    }
    serde_json::from_slice(json).map_err(|err| format!("identity does not decode: {err}"))
}

/// A frame header for a payload.
pub(crate) fn encode_frame_header(
    payload: &[u8],
    meta: BlobMeta,
) -> Result<[u8; FRAME_HEADER], FormatError> {
    let len = u32::try_from(payload.len()).map_err(|_| "blob larger than 4 GiB".to_owned())?;
    let mut out = [0u8; FRAME_HEADER];
    out[..4].copy_from_slice(FRAME_MAGIC);
    out[4..8].copy_from_slice(&len.to_le_bytes());
    out[8..12].copy_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    out[12..20].copy_from_slice(&meta.first_event_id.to_le_bytes());
    out[20..28].copy_from_slice(&meta.last_event_id.to_le_bytes());
    out[28..32].copy_from_slice(&meta.event_count.to_le_bytes());
    out[32..36].copy_from_slice(&meta.batch_count.to_le_bytes());
    let crc = crc32c::crc32c(&out[..36]);
    out[36..].copy_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// Decodes a frame header found at `offset`.
pub(crate) fn decode_frame_header(
    offset: u64,
    b: &[u8; FRAME_HEADER],
) -> Result<Frame, FormatError> {
    if &b[..4] != FRAME_MAGIC {
        return Err(format!("no blob frame at offset {offset}"));
    }
    if crc32c::crc32c(&b[..36]) != u32_at(b, 36) {
        return Err(format!(
            "blob frame header checksum mismatch at offset {offset}"
        ));
    }
    Ok(Frame {
        offset,
        payload_len: u32_at(b, 4),
        payload_crc: u32_at(b, 8),
        meta: BlobMeta {
            first_event_id: i64_at(b, 12),
            last_event_id: i64_at(b, 20),
            event_count: u32_at(b, 28),
            batch_count: u32_at(b, 32),
        },
    })
}

/// The index entries for `frames`.
pub(crate) fn encode_index(frames: &[Frame]) -> Vec<u8> {
    let mut out = Vec::with_capacity(frames.len() * INDEX_ENTRY);
    for f in frames {
        out.extend_from_slice(&f.offset.to_le_bytes());
        out.extend_from_slice(&f.payload_len.to_le_bytes());
        out.extend_from_slice(&f.payload_crc.to_le_bytes());
        out.extend_from_slice(&f.meta.first_event_id.to_le_bytes());
        out.extend_from_slice(&f.meta.last_event_id.to_le_bytes());
        out.extend_from_slice(&f.meta.event_count.to_le_bytes());
        out.extend_from_slice(&f.meta.batch_count.to_le_bytes());
    }
    out
}

/// Decodes an index and checks that its frames tile `[data_start, index_offset)` exactly.
pub(crate) fn decode_index(
    bytes: &[u8],
    footer: &Footer,
    data_start: u64,
) -> Result<Vec<Frame>, FormatError> {
    if crc32c::crc32c(bytes) != footer.index_crc {
        return Err("index checksum mismatch".into());
    }
    let mut frames = Vec::with_capacity(footer.blob_count as usize);
    let mut expected = data_start;
    for entry in bytes.chunks_exact(INDEX_ENTRY) {
        let frame = Frame {
            offset: u64_at(entry, 0),
            payload_len: u32_at(entry, 8),
            payload_crc: u32_at(entry, 12),
            meta: BlobMeta {
                first_event_id: i64_at(entry, 16),
                last_event_id: i64_at(entry, 24),
                event_count: u32_at(entry, 32),
                batch_count: u32_at(entry, 36),
            },
        };
        if frame.offset != expected {
            return Err(format!(
                "index entry {} points to offset {}, expected {expected}",
                frames.len(),
                frame.offset
            ));
        }
        expected = frame.end();
        frames.push(frame);
    }
    if expected != footer.index_offset {
        return Err(format!(
            "blobs end at {expected} but the index starts at {}",
            footer.index_offset
        ));
    }
    Ok(frames)
}

/// The footer's checksum: over every footer byte but its own four.
fn footer_crc(b: &[u8; FOOTER]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(&b[..16]), &b[20..])
}

/// The footer.
pub(crate) fn encode_footer(footer: &Footer) -> [u8; FOOTER] {
    let mut out = [0u8; FOOTER];
    out[..8].copy_from_slice(&footer.index_offset.to_le_bytes());
    out[8..12].copy_from_slice(&footer.blob_count.to_le_bytes());
    out[12..16].copy_from_slice(&footer.index_crc.to_le_bytes());
    out[24..].copy_from_slice(FOOTER_MAGIC);
    let crc = footer_crc(&out);
    out[16..20].copy_from_slice(&crc.to_le_bytes());
    out
}

/// Decodes the footer of a file `file_len` bytes long and checks it fits the file.
pub(crate) fn decode_footer(b: &[u8; FOOTER], file_len: u64) -> Result<Footer, FormatError> {
    if &b[24..] != FOOTER_MAGIC {
        return Err("no footer: the archive is incomplete".into());
    }
    if footer_crc(b) != u32_at(b, 16) {
        return Err("footer checksum mismatch".into());
    }
    let footer = Footer {
        index_offset: u64_at(b, 0),
        blob_count: u32_at(b, 8),
        index_crc: u32_at(b, 12),
    };
    let index_len = u64::from(footer.blob_count) * INDEX_ENTRY as u64;
    if footer
        .index_offset
        .checked_add(index_len)
        .and_then(|n| n.checked_add(FOOTER as u64))
        != Some(file_len)
    {
        return Err(format!("footer does not fit a file of {file_len} bytes"));
    }
    Ok(footer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        Identity {
            namespace_id: "ns".into(),
            workflow_id: "wf/../x".into(),
            run_id: "run".into(),
            close_failover_version: -3,
        }
    }

    fn meta() -> BlobMeta {
        BlobMeta {
            first_event_id: 1,
            last_event_id: 9,
            event_count: 9,
            batch_count: 3,
        }
    }

    #[test]
    fn header_round_trips_and_detects_damage() {
        let bytes = encode_header(&identity());
        let fixed: [u8; HEADER_FIXED] = bytes[..HEADER_FIXED].try_into().unwrap();
        let len = decode_header_fixed(&fixed).unwrap() as usize;
        assert_eq!(bytes.len(), HEADER_FIXED + len + 4);
        assert_eq!(
            decode_header_rest(&fixed, &bytes[HEADER_FIXED..]).unwrap(),
            identity()
        );

        let mut damaged = bytes.clone();
        damaged[HEADER_FIXED + 3] ^= 1;
        assert!(decode_header_rest(&fixed, &damaged[HEADER_FIXED..]).is_err());
        let mut bad_version = fixed;
        bad_version[8] = 9;
        assert!(
            decode_header_fixed(&bad_version)
                .unwrap_err()
                .contains("version 9")
        );
        assert!(decode_header_fixed(&[0; HEADER_FIXED]).is_err());
    }

    #[test]
    fn frame_header_round_trips_and_detects_damage() {
        let header = encode_frame_header(b"payload", meta()).unwrap();
        let frame = decode_frame_header(100, &header).unwrap();
        assert_eq!(frame.meta, meta());
        assert_eq!(frame.payload_len, 7);
        assert_eq!(frame.payload_crc, crc32c::crc32c(b"payload"));
        assert_eq!(frame.end(), 100 + 40 + 7);
        for at in [0, 5, 20, 39] {
            let mut damaged = header;
            damaged[at] ^= 0x10;
            assert!(decode_frame_header(100, &damaged).is_err(), "byte {at}");
        }
    }

    #[test]
    fn index_and_footer_round_trip_and_must_tile_the_file() {
        let data_start = 64;
        let f1 = Frame {
            offset: data_start,
            payload_len: 10,
            payload_crc: 1,
            meta: meta(),
        };
        let f2 = Frame {
            offset: f1.end(),
            payload_len: 5,
            payload_crc: 2,
            meta: meta(),
        };
        let index = encode_index(&[f1, f2]);
        let footer = Footer {
            index_offset: f2.end(),
            blob_count: 2,
            index_crc: crc32c::crc32c(&index),
        };
        let file_len = footer.index_offset + index.len() as u64 + FOOTER as u64;
        let encoded = encode_footer(&footer);
        assert_eq!(decode_footer(&encoded, file_len).unwrap(), footer);
        assert!(decode_footer(&encoded, file_len + 1).is_err());
        assert_eq!(
            decode_index(&index, &footer, data_start).unwrap(),
            vec![f1, f2]
        );
        assert!(decode_index(&index, &footer, data_start + 1).is_err());

        let mut damaged = index.clone();
        damaged[9] ^= 1;
        assert!(
            decode_index(&damaged, &footer, data_start)
                .unwrap_err()
                .contains("checksum")
        );
        let mut bad_footer = encoded;
        bad_footer[2] ^= 1;
        assert!(decode_footer(&bad_footer, file_len).is_err());
        assert!(
            decode_footer(&[0; FOOTER], file_len)
                .unwrap_err()
                .contains("incomplete")
        );
    }
}
