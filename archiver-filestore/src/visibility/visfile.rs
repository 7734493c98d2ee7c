//! The bytes of a `.vis` file (record format version 1, layout v2): one visibility record as
//! JSON behind a checksummed header, so that damage is detected instead of read as another
//! record. All integers are little-endian.
//!
//! ```text
//! "ARCVVREC" | format u16 = 1 | flags u16 = 0 | body_len u32 | crc u32 | JSON body (body_len bytes)
//! ```
//! `crc` is CRC-32C over the 16 bytes before it and the body, so every bit of the file is
//! covered: magic, format and flags are checked exactly, `body_len` against the file's length.

use std::io::Read;

use archiver_core::VisibilityRecord;

/// File magic.
const MAGIC: &[u8; 8] = b"ARCVVREC";
/// Record format version written and understood.
const FORMAT_VERSION: u16 = 1;
/// Bytes before the body.
pub(crate) const HEADER: usize = 20;

/// The file's bytes for `record`.
pub(crate) fn encode(record: &VisibilityRecord) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    serde_json::to_writer(&mut out, record)?;
    let body_len = u32::try_from(out.len() - HEADER).map_err(serde::ser::Error::custom)?;
    out[12..16].copy_from_slice(&body_len.to_le_bytes());
    let crc = crc32c::crc32c_append(crc32c::crc32c(&out[..16]), &out[HEADER..]);
    out[16..20].copy_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// Why stored bytes are not a record; the caller adds the file name.
pub(crate) type FormatError = String;

/// Reads and checks a record from `file`, whose length is `file_len`: the header, the length,
/// the checksum, then the JSON. Reads no more than the header promises and the file holds.
pub(crate) fn read(
    mut file: impl Read,
    file_len: u64,
) -> std::io::Result<Result<VisibilityRecord, FormatError>> {
    let mut header = [0u8; HEADER];
    if file_len < HEADER as u64 {
        return Ok(Err(format!(
            "{file_len} bytes: shorter than the record header"
        )));
    }
    file.read_exact(&mut header)?;
    if &header[..8] != MAGIC {
        return Ok(Err("not a visibility record (bad magic)".into()));
    }
    let version = u16::from_le_bytes([header[8], header[9]]);
    let flags = u16::from_le_bytes([header[10], header[11]]);
    if version != FORMAT_VERSION || flags != 0 {
        return Ok(Err(format!(
            "unsupported record format {version} (flags {flags:#x})"
        )));
    }
    let body_len = u32::from_le_bytes(header[12..16].try_into().expect("4 bytes"));
    if u64::from(body_len) != file_len - HEADER as u64 {
        return Ok(Err(format!(
            "the header says {body_len} bytes of record, the file holds {}",
            file_len - HEADER as u64
        )));
    }
    let mut body = vec![0u8; body_len as usize];
    file.read_exact(&mut body)?;
    let stored = u32::from_le_bytes(header[16..20].try_into().expect("4 bytes"));
    if crc32c::crc32c_append(crc32c::crc32c(&header[..16]), &body) != stored {
        return Ok(Err("record checksum mismatch".into()));
    }
    Ok(serde_json::from_slice(&body).map_err(|err| format!("record does not decode: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use archiver_core::testing::test_records;

    fn decode(bytes: &[u8]) -> Result<VisibilityRecord, FormatError> {
        read(bytes, bytes.len() as u64).expect("reading a slice")
    }

    #[test]
    fn round_trip() {
        for record in test_records("ns", 5) {
            let bytes = encode(&record).unwrap();
            assert_eq!(&bytes[..8], MAGIC);
            assert_eq!(decode(&bytes).unwrap(), record);
        }
    }

    #[test]
    fn every_flipped_bit_and_every_truncation_is_detected() {
        let record = test_records("ns", 1).remove(0);
        let good = encode(&record).unwrap();
        for bit in 0..good.len() * 8 {
            let mut bad = good.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(decode(&bad).is_err(), "bit {bit}");
        }
        for len in 0..good.len() {
            assert!(decode(&good[..len]).is_err(), "length {len}");
        }
        let mut longer = good.clone();
        longer.push(b' ');
        assert!(decode(&longer).is_err());
    }
}
