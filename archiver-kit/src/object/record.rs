//! The stored form of a visibility record: its JSON, then a trailer line with the JSON's
//! CRC-32C, so damage at rest or in transit is detected on read instead of returned.
//!
//! ```text
//! {"namespaceId":"...",...}\ncrc32c:0123abcd\n
//! ```
//!
//! The trailer is the last [`TRAILER_LEN`] bytes: a truncated object loses or shifts it, a
//! flipped bit breaks the checksum (CRC-32C catches every error of up to 2 bits, and every
//! burst of up to 32), and the JSON never holds a raw newline, so the tag cannot occur inside it.

use bytes::Bytes;

use super::layout::hex;
use archiver_core::{Error, Result, VisibilityRecord};

/// What starts the trailer.
const TAG: &[u8] = b"\ncrc32c:";
/// The trailer: the tag, 8 hex digits, a newline.
const TRAILER_LEN: usize = TAG.len() + 8 + 1;

/// The object stored for `record`.
pub(super) fn encode(provider: &'static str, record: &VisibilityRecord) -> Result<Bytes> {
    let mut out = serde_json::to_vec(record)
        .map_err(|e| Error::backend(provider, "encode visibility record", e, false))?;
    let crc = crc32c::crc32c(&out);
    out.reserve(TRAILER_LEN);
    out.extend_from_slice(TAG);
    out.extend_from_slice(hex(&crc.to_be_bytes()).as_bytes());
    out.push(b'\n');
    Ok(Bytes::from(out))
}

/// The record in `data`, the object at `location`, verified against its checksum:
/// [`Error::Corrupted`] naming `location` when the object is damaged, truncated, or not a
/// record.
pub(super) fn decode(data: &[u8], location: &str) -> Result<VisibilityRecord> {
    let corrupted = |reason: String| Error::corrupted(location, reason);
    let Some(split) = data.len().checked_sub(TRAILER_LEN) else {
        return Err(corrupted(format!(
            "visibility record object of {} bytes is shorter than its checksum trailer",
            data.len()
        )));
    };
    let (json, trailer) = data.split_at(split);
    let stored = trailer
        .strip_prefix(TAG)
        .and_then(|rest| rest.strip_suffix(b"\n"))
        .and_then(|digits| std::str::from_utf8(digits).ok())
        .filter(|digits| {
            digits
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
        .and_then(|digits| u32::from_str_radix(digits, 16).ok())
        .ok_or_else(|| {
            corrupted("visibility record object has no checksum trailer (truncated?)".into())
        })?;
    let crc = crc32c::crc32c(json);
    if crc != stored {
        return Err(corrupted(format!(
            "visibility record CRC-32C {crc:08x}, its trailer says {stored:08x}"
        )));
    }
    serde_json::from_slice(json).map_err(|e| {
        corrupted(format!(
            "visibility record does not decode at byte {}: {e}",
            e.column()
        ))
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use jiff::Timestamp;
    use proptest::prelude::*;
    use visibility_query::ExecutionStatus;

    use super::*;

    fn stored() -> (VisibilityRecord, Bytes) {
        let record = VisibilityRecord {
            namespace_id: "ns".into(),
            namespace: "n".into(),
            workflow_id: "line\nbreak \u{0} 日本".into(),
            run_id: "run".into(),
            workflow_type_name: "Payments".into(),
            start_time: Timestamp::UNIX_EPOCH,
            execution_time: Timestamp::UNIX_EPOCH,
            close_time: Timestamp::MAX,
            status: ExecutionStatus::Failed,
            history_length: 3,
            memo: None,
            search_attributes: BTreeMap::new(),
            history_archival_uri: "s3://b/h".into(),
            execution_duration_nanos: Some(7),
        };
        let bytes = encode("s3", &record).unwrap();
        (record, bytes)
    }

    #[test]
    fn round_trips() {
        let (record, bytes) = stored();
        assert!(bytes.ends_with(b"\n"));
        assert_eq!(decode(&bytes, "k").unwrap(), record);
    }

    #[test]
    fn unsealed_json_is_corrupted() {
        let (record, _) = stored();
        let bare = serde_json::to_vec(&record).unwrap();
        match decode(&bare, "s3://b/k.json") {
            Err(Error::Corrupted { location, reason }) => {
                assert_eq!(location, "s3://b/k.json");
                assert!(reason.contains("trailer"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    proptest! {
        /// Any one flipped bit, anywhere: Corrupted, never a record.
        #[test]
        fn a_flipped_bit_is_never_a_record(at in any::<prop::sample::Index>(), bit in 0u8..8) {
            let (_, bytes) = stored();
            let mut damaged = bytes.to_vec();
            damaged[at.index(bytes.len())] ^= 1 << bit;
            let got = decode(&damaged, "k");
            prop_assert!(matches!(got, Err(Error::Corrupted { .. })), "{:?}", got);
        }

        /// Any proper prefix: Corrupted, never a record.
        #[test]
        fn a_truncated_object_is_never_a_record(at in any::<prop::sample::Index>()) {
            let (_, bytes) = stored();
            let got = decode(&bytes[..at.index(bytes.len())], "k");
            prop_assert!(matches!(got, Err(Error::Corrupted { .. })), "{:?}", got);
        }
    }
}
