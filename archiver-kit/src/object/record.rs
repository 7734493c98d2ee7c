//! The per-record layout's stored form of a visibility record (one object per record, the
//! object-store providers' visibility layout before the [table](crate::table), which still
//! reads and folds it): its JSON, then a trailer line with the JSON's CRC-32C, so damage at
//! rest or in transit is detected on read instead of returned.
//!
//! ```text
//! {"namespaceId":"...",...}\ncrc32c:0123abcd\n
//! ```
//!
//! The trailer is the last [`TRAILER_LEN`] bytes: a truncated object loses or shifts it, a
//! flipped bit breaks the checksum (CRC-32C catches every error of up to 2 bits, and every
//! burst of up to 32), and the JSON never holds a raw newline, so the tag cannot occur inside it.

use archiver_core::{Error, Result, VisibilityRecord};

/// What starts the trailer.
const TAG: &[u8] = b"\ncrc32c:";
/// The trailer: the tag, 8 hex digits, a newline.
const TRAILER_LEN: usize = TAG.len() + 8 + 1;

/// The object the per-record layout stored for `record`, and its key under `location`
/// (`<visibility prefix><key name>`, see [`key_name`]): what tests write to stand for old
/// archives.
#[cfg(any(test, feature = "testing"))]
pub(crate) fn legacy_object(
    location: &super::ObjectLocation,
    record: &VisibilityRecord,
) -> (String, bytes::Bytes) {
    let key = format!(
        "{}{}",
        location.visibility_prefix(&record.namespace_id),
        key_name(record)
    );
    (key, encode(record))
}

/// The per-record layout's object for `record`: its JSON, then the trailer.
#[cfg(any(test, feature = "testing"))]
fn encode(record: &VisibilityRecord) -> bytes::Bytes {
    use super::layout::hex;
    let mut out = serde_json::to_vec(record).expect("a visibility record encodes");
    let crc = crc32c::crc32c(&out);
    out.reserve(TRAILER_LEN);
    out.extend_from_slice(TAG);
    out.extend_from_slice(hex(&crc.to_be_bytes()).as_bytes());
    out.push(b'\n');
    out.into()
}

/// The per-record layout's name of `record`'s object under its namespace prefix:
///
/// ```text
/// <close:21>_<start:21>_<status:2>_<h8(workflow id)>_<h8(type)>_<h8(run id)>_<identity>.json
/// ```
///
/// Times are Unix nanoseconds plus `4 * 10^20` (non-negative for any time), in 21 digits; the
/// close time inverted (`10^21 - 1 - x`) so a listing walks newest first. `h8` is 8 hex digits
/// of the value's digest (the one [`id_segment`](super::id_segment) takes 32 of); `identity`
/// 32 hex digits of the digest of (namespace id, workflow id, run id). The table reads these objects by
/// prefix and never parses the name: this is here so tests write what old archives hold.
#[cfg(any(test, feature = "testing"))]
fn key_name(record: &VisibilityRecord) -> String {
    use super::layout::{digest, hex};
    const BIAS: i128 = 400_000_000_000_000_000_000;
    const MAX21: i128 = 999_999_999_999_999_999_999;
    let h8 = |value: &str| hex(&digest(&[value])[..4]);
    let identity = digest(&[&record.namespace_id, &record.workflow_id, &record.run_id]);
    format!(
        "{:021}_{:021}_{:02}_{}_{}_{}_{}.json",
        MAX21 - (record.close_time.as_nanosecond() + BIAS),
        record.start_time.as_nanosecond() + BIAS,
        record.status.as_i32(),
        h8(&record.workflow_id),
        h8(&record.workflow_type_name),
        h8(&record.run_id),
        hex(&identity[..16])
    )
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

    fn stored() -> (VisibilityRecord, bytes::Bytes) {
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
        let bytes = encode(&record);
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

    /// One record as the per-record layout stored it, byte for byte (key and object): what
    /// old archives hold and the table must keep reading.
    fn old_archive() -> VisibilityRecord {
        VisibilityRecord {
            namespace_id: "ns-id".into(),
            namespace: "ns".into(),
            workflow_id: "wf-1".into(),
            run_id: "run-1".into(),
            workflow_type_name: "payments".into(),
            start_time: "2026-01-01T00:00:00Z".parse().unwrap(),
            execution_time: "2026-01-01T00:00:01Z".parse().unwrap(),
            close_time: "2026-01-01T00:30:00.000000001Z".parse().unwrap(),
            status: ExecutionStatus::Completed,
            history_length: 12,
            memo: Some(serde_json::json!({"note": "m"})),
            search_attributes: BTreeMap::from([("CustomKeyword".into(), "red".into())]),
            history_archival_uri: "s3://b/h".into(),
            execution_duration_nanos: Some(1_800_000_000_001),
        }
    }

    #[test]
    fn the_old_layout_is_pinned_byte_for_byte() {
        const KEY: &str = "p/v1/visibility/48ad2783813d366946e272683beb465c/\
            598232772599999999998_401767225600000000000_02_cd02f846_c304541f_801c2d84_\
            ad2db41bfae3d6d778bdf9b39ffa0db2.json";
        const BODY: &str = concat!(
            r#"{"namespaceId":"ns-id","namespace":"ns","workflowId":"wf-1","runId":"run-1","#,
            r#""workflowTypeName":"payments","startTime":"2026-01-01T00:00:00Z","#,
            r#""executionTime":"2026-01-01T00:00:01Z","closeTime":"2026-01-01T00:30:00.000000001Z","#,
            r#""status":"Completed","historyLength":12,"memo":{"note":"m"},"#,
            r#""searchAttributes":{"CustomKeyword":"red"},"historyArchivalUri":"s3://b/h","#,
            r#""executionDurationNanos":1800000000001}"#,
            "\ncrc32c:ca845f74\n"
        );
        let record = old_archive();
        let location = crate::object::ObjectLocation::new("s3", "b", "p");
        let (key, body) = legacy_object(&location, &record);
        assert_eq!(key, KEY);
        assert_eq!(std::str::from_utf8(&body).unwrap(), BODY);
        assert_eq!(decode(BODY.as_bytes(), KEY).unwrap(), record);
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
