//! A segment file of which only some byte ranges are in memory: what a reader fetched with range
//! requests (the tail, the row groups it needs), served to the Parquet reader as if whole.

use std::sync::Arc;

use bytes::{Buf, Bytes};
use parquet::errors::ParquetError;
use parquet::file::reader::{ChunkReader, Length};

use super::SegmentError;

/// Byte ranges of one file, by offset. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SparseFile {
    len: u64,
    /// Fetched ranges, ascending by offset.
    parts: Arc<Vec<(u64, Bytes)>>,
}

impl SparseFile {
    /// A file of `len` bytes of which nothing is fetched yet.
    pub fn new(len: u64) -> SparseFile {
        SparseFile {
            len,
            parts: Arc::new(Vec::new()),
        }
    }

    /// A file that is entirely in memory.
    pub fn whole(bytes: Bytes) -> SparseFile {
        SparseFile {
            len: bytes.len() as u64,
            parts: Arc::new(vec![(0, bytes)]),
        }
    }

    /// The file's length.
    pub fn file_len(&self) -> u64 {
        self.len
    }

    /// Adds the bytes fetched from `offset`.
    pub fn insert(&mut self, offset: u64, bytes: Bytes) {
        let parts = Arc::make_mut(&mut self.parts);
        let at = parts.partition_point(|(o, _)| *o < offset);
        parts.insert(at, (offset, bytes));
    }

    /// Whether `len` bytes at `offset` are in memory.
    pub fn has(&self, offset: u64, len: u64) -> bool {
        self.find(offset, len).is_some()
    }

    /// `len` bytes at `offset`: an error when they lie outside the file or were not fetched.
    pub fn slice(&self, offset: u64, len: u64) -> Result<Bytes, SegmentError> {
        if offset.checked_add(len).is_none_or(|end| end > self.len) {
            return Err(SegmentError::corrupted(format!(
                "{len} bytes at offset {offset} lie outside the {}-byte file",
                self.len
            )));
        }
        self.find(offset, len).ok_or_else(|| {
            SegmentError::corrupted(format!(
                "{len} bytes at offset {offset} were not fetched (a metadata offset points \
                 outside what it describes)"
            ))
        })
    }

    fn find(&self, offset: u64, len: u64) -> Option<Bytes> {
        // The last part starting at or before `offset` is the only one that can hold it whole
        // unless parts overlap; try every part that starts at or before it, nearest first.
        let end = offset.checked_add(len)?;
        let upto = self.parts.partition_point(|(o, _)| *o <= offset);
        self.parts[..upto].iter().rev().find_map(|(o, bytes)| {
            let start = usize::try_from(offset - o).ok()?;
            let stop = usize::try_from(end - o).ok()?;
            (stop <= bytes.len()).then(|| bytes.slice(start..stop))
        })
    }
}

impl Length for SparseFile {
    fn len(&self) -> u64 {
        self.len
    }
}

impl ChunkReader for SparseFile {
    type T = bytes::buf::Reader<Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        // A reader runs to the end of the fetched part that holds `start`.
        let upto = self.parts.partition_point(|(o, _)| *o <= start);
        self.parts[..upto]
            .iter()
            .rev()
            .find_map(|(o, bytes)| {
                let from = usize::try_from(start - o).ok()?;
                (from < bytes.len()).then(|| bytes.slice(from..).reader())
            })
            .ok_or_else(|| ParquetError::General(format!("offset {start} was not fetched")))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        self.slice(start, length as u64)
            .map_err(|e| ParquetError::General(e.to_string()))
    }
}

/// Reads everything a reader of a part would give (tests).
#[cfg(test)]
fn read_all(mut reader: impl std::io::Read) -> Vec<u8> {
    let mut out = Vec::new();
    reader.read_to_end(&mut out).unwrap();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_fetched_ranges_and_refuses_the_rest() {
        let mut file = SparseFile::new(100);
        file.insert(90, Bytes::from_static(b"0123456789"));
        file.insert(10, Bytes::from_static(b"abcdef"));
        assert_eq!(file.slice(92, 3).unwrap(), Bytes::from_static(b"234"));
        assert_eq!(file.slice(10, 6).unwrap(), Bytes::from_static(b"abcdef"));
        assert!(file.slice(12, 6).is_err(), "runs past a part");
        assert!(file.slice(50, 1).is_err(), "not fetched");
        assert!(file.slice(95, 10).is_err(), "past the end");
        assert!(file.slice(u64::MAX, 2).is_err(), "overflow");
        assert_eq!(read_all(file.get_read(93).unwrap()), b"3456789");
        assert!(file.get_read(40).is_err());
        assert!(file.has(90, 10) && !file.has(89, 2));
    }
}
