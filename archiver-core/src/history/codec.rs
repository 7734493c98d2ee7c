//! The blob encoding every provider shares: newline-delimited canonical JSON, one [`History`]
//! (batch) per line. Lines let a reader decode and page on whole batches, and let the writer
//! measure a batch by the bytes it writes (no second serialization to estimate sizes).

use super::History;
use crate::{Error, Result};

/// Encodes one batch as one line (canonical protojson, then `\n`).
pub fn encode_batch(batch: &History) -> Vec<u8> {
    // One allocation: growing from empty would copy the line about ten times.
    let mut line = Vec::with_capacity(batch.json_len_hint() + 1);
    encode_batch_into(batch, &mut line);
    line
}

/// Appends one batch as one line to `out` (what [`encode_batch`] returns).
pub fn encode_batch_into(batch: &History, out: &mut Vec<u8>) {
    batch.write_json(out);
    // JSON escapes newlines inside strings, so `\n` only ever ends a line.
    out.push(b'\n');
}

/// Decodes a blob written with [`encode_batch`] lines.
pub fn decode_batches(data: &[u8]) -> Result<Vec<History>> {
    decode_batches_at(data, "history blob")
}

/// Like [`decode_batches`], naming `location` (an object key or file) in the error.
pub fn decode_batches_at(data: &[u8], location: &str) -> Result<Vec<History>> {
    data.split(|&b| b == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.is_empty())
        .map(|(index, line)| {
            serde_json::from_slice(line).map_err(|e| {
                Error::corrupted(location, format!("batch on line {}: {e}", index + 1))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::HistoryEvent;

    #[test]
    fn lines_round_trip_and_damage_is_corruption() {
        let batch = |id| {
            History::new(vec![HistoryEvent {
                event_id: id,
                ..Default::default()
            }])
        };
        let mut blob = encode_batch(&batch(1));
        encode_batch_into(&batch(2), &mut blob);
        assert_eq!(decode_batches(&blob).unwrap(), vec![batch(1), batch(2)]);
        blob.truncate(blob.len() - 4);
        match decode_batches_at(&blob, "run.blob") {
            Err(Error::Corrupted { location, reason }) => {
                assert_eq!(location, "run.blob");
                assert!(reason.contains("line 2"), "{reason}");
            }
            other => panic!("expected Corrupted, got {other:?}"),
        }
    }
}
