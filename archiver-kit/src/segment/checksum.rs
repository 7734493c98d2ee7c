//! CRC-32C of every column chunk's pages, kept in the segment's footer metadata.
//!
//! Parquet's writer records no page checksums, and a flipped bit in a data page can decode as
//! a different value. Each chunk's pages are summed when the segment is finished and verified
//! before they are decoded. The Bloom filters (written after every row group, before the
//! footer) and the footer itself cannot be covered from inside the file; what refers to a
//! segment records their checksums ([`SegmentTail`](super::SegmentTail)). Segments have no page
//! index; row-group statistics do the pruning.

use parquet::file::metadata::{ColumnChunkMetaData, RowGroupMetaData};

use super::SegmentError;
use super::sparse::SparseFile;

/// The key-value metadata key of the checksums: JSON, per row group, per column, the CRC of the
/// chunk's pages.
pub(super) const CHECKSUM_KEY: &str = "archiver.segment.crc32c";

/// The checksums of the chunks of `row_groups` within `file`.
pub(super) fn chunk_checksums(
    file: &[u8],
    row_groups: &[RowGroupMetaData],
) -> Result<String, SegmentError> {
    let crcs = row_groups
        .iter()
        .map(|group| {
            group
                .columns()
                .iter()
                .map(|chunk| {
                    let (start, len) = pages_region(chunk)?;
                    usize::try_from(start)
                        .ok()
                        .zip(usize::try_from(len).ok())
                        .and_then(|(start, len)| file.get(start..start.checked_add(len)?))
                        .map(crc32c::crc32c)
                        .ok_or_else(|| {
                            SegmentError::corrupted("a column chunk lies outside the file")
                        })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(serde_json::to_string(&crcs).unwrap_or_default())
}

/// The checksums a segment recorded, checked against its row groups' shape.
#[derive(Debug)]
pub(super) struct Checksums(Vec<Vec<u32>>);

impl Checksums {
    pub(super) fn parse(
        text: Option<&str>,
        row_groups: &[RowGroupMetaData],
    ) -> Result<Checksums, SegmentError> {
        let text =
            text.ok_or_else(|| SegmentError::corrupted(format!("no {CHECKSUM_KEY} metadata")))?;
        let recorded: Vec<Vec<u32>> = serde_json::from_str(text).map_err(|e| {
            SegmentError::corrupted(format!("{CHECKSUM_KEY} metadata does not decode: {e}"))
        })?;
        let fits = recorded.len() == row_groups.len()
            && recorded
                .iter()
                .zip(row_groups)
                .all(|(crcs, group)| crcs.len() == group.columns().len());
        if !fits {
            return Err(SegmentError::corrupted(
                "the checksums do not cover the file's row groups and columns",
            ));
        }
        Ok(Checksums(recorded))
    }

    /// Checks the pages of every column of row group `g`.
    pub(super) fn verify_pages(
        &self,
        file: &SparseFile,
        row_groups: &[RowGroupMetaData],
        g: usize,
    ) -> Result<(), SegmentError> {
        let all: Vec<usize> = (0..row_groups[g].columns().len()).collect();
        self.verify_columns(file, row_groups, g, &all)
    }

    /// Checks the pages of columns `columns` of row group `g`.
    pub(super) fn verify_columns(
        &self,
        file: &SparseFile,
        row_groups: &[RowGroupMetaData],
        g: usize,
        columns: &[usize],
    ) -> Result<(), SegmentError> {
        for &c in columns {
            let chunk = row_groups[g].column(c);
            let (start, len) = pages_region(chunk)?;
            if crc32c::crc32c(&file.slice(start, len)?) != self.0[g][c] {
                return Err(SegmentError::corrupted(format!(
                    "the pages of column {:?} in row group {g} fail their CRC-32C",
                    chunk.column_path().string()
                )));
            }
        }
        Ok(())
    }
}

/// Where a chunk's pages lie: (offset, length). (Parquet's own `byte_range` panics on the
/// negative offsets a damaged footer can hold.)
pub(super) fn pages_region(chunk: &ColumnChunkMetaData) -> Result<(u64, u64), SegmentError> {
    let start = chunk
        .dictionary_page_offset()
        .unwrap_or_else(|| chunk.data_page_offset());
    u64::try_from(start)
        .ok()
        .zip(u64::try_from(chunk.compressed_size()).ok())
        .ok_or_else(|| SegmentError::corrupted("a column chunk has a negative offset or size"))
}
