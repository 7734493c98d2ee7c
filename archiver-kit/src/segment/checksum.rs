//! CRC-32C of every column chunk, kept in the segment's footer metadata.
//!
//! Parquet's writer records no page checksums, and a flipped bit in a data page can decode as
//! a different value (or, in a Bloom filter, hide a row from a lookup). Each chunk's pages and
//! Bloom filter are summed when the segment is finished and verified before they are trusted.
//! The footer itself cannot hold its own checksum; what refers to a segment (the manifest)
//! records that. Segments have no page index, which is written after the footer's metadata and
//! so could not be covered here; row-group statistics do the pruning.

use parquet::file::metadata::{ColumnChunkMetaData, RowGroupMetaData};

use super::SegmentError;

/// The key-value metadata key of the checksums: JSON, per row group, per column, the CRCs of
/// the chunk's pages and then of its Bloom filter, if it has one.
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
                .map(|chunk| chunk_regions(file, chunk))
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(serde_json::to_string(&crcs).unwrap_or_default())
}

/// The checksums a segment recorded, checked against its row groups' shape.
#[derive(Debug)]
pub(super) struct Checksums(Vec<Vec<Vec<u32>>>);

impl Checksums {
    pub(super) fn parse(
        text: Option<&str>,
        row_groups: &[RowGroupMetaData],
    ) -> Result<Checksums, SegmentError> {
        let text =
            text.ok_or_else(|| SegmentError::corrupted(format!("no {CHECKSUM_KEY} metadata")))?;
        let recorded: Vec<Vec<Vec<u32>>> = serde_json::from_str(text).map_err(|e| {
            SegmentError::corrupted(format!("{CHECKSUM_KEY} metadata does not decode: {e}"))
        })?;
        let fits = recorded.len() == row_groups.len()
            && recorded.iter().zip(row_groups).all(|(crcs, group)| {
                crcs.len() == group.columns().len()
                    && crcs.iter().zip(group.columns()).all(|(regions, chunk)| {
                        regions.len() == 1 + usize::from(chunk.bloom_filter_offset().is_some())
                    })
            });
        if !fits {
            return Err(SegmentError::corrupted(
                "the checksums do not cover the file's row groups, columns and Bloom filters",
            ));
        }
        Ok(Checksums(recorded))
    }

    /// Checks the pages of every column of row group `g`.
    pub(super) fn verify_pages(
        &self,
        file: &[u8],
        row_groups: &[RowGroupMetaData],
        g: usize,
    ) -> Result<(), SegmentError> {
        for (c, chunk) in row_groups[g].columns().iter().enumerate() {
            self.verify_region(file, chunk, g, c, 0)?;
        }
        Ok(())
    }

    /// Checks the Bloom filter of column `c` of row group `g` (which has one).
    pub(super) fn verify_bloom(
        &self,
        file: &[u8],
        row_groups: &[RowGroupMetaData],
        g: usize,
        c: usize,
    ) -> Result<(), SegmentError> {
        self.verify_region(file, row_groups[g].column(c), g, c, 1)
    }

    fn verify_region(
        &self,
        file: &[u8],
        chunk: &ColumnChunkMetaData,
        g: usize,
        c: usize,
        region: usize,
    ) -> Result<(), SegmentError> {
        let bytes = region_bytes(file, regions(chunk)?[region])?;
        if crc32c::crc32c(bytes) != self.0[g][c][region] {
            return Err(SegmentError::corrupted(format!(
                "the {} of column {:?} in row group {g} fail their CRC-32C",
                if region == 0 { "pages" } else { "Bloom filter" },
                chunk.column_path().string()
            )));
        }
        Ok(())
    }
}

/// The CRCs of a chunk's pages and of its Bloom filter (if any).
fn chunk_regions(file: &[u8], chunk: &ColumnChunkMetaData) -> Result<Vec<u32>, SegmentError> {
    regions(chunk)?
        .into_iter()
        .map(|region| region_bytes(file, region).map(crc32c::crc32c))
        .collect()
}

/// Where a chunk's pages and its Bloom filter (if any) lie: (offset, length).
fn regions(chunk: &ColumnChunkMetaData) -> Result<Vec<(i64, i64)>, SegmentError> {
    let pages_start = chunk
        .dictionary_page_offset()
        .unwrap_or_else(|| chunk.data_page_offset());
    let mut regions = vec![(pages_start, chunk.compressed_size())];
    if let Some(offset) = chunk.bloom_filter_offset() {
        let length = chunk
            .bloom_filter_length()
            .ok_or_else(|| SegmentError::corrupted("a Bloom filter has an offset but no length"))?;
        regions.push((offset, i64::from(length)));
    }
    Ok(regions)
}

/// The bytes of a region the footer names. (Parquet's own `byte_range` panics on the negative
/// offsets a damaged footer can hold.)
fn region_bytes(file: &[u8], (start, len): (i64, i64)) -> Result<&[u8], SegmentError> {
    usize::try_from(start)
        .ok()
        .zip(usize::try_from(len).ok())
        .and_then(|(start, len)| file.get(start..start.checked_add(len)?))
        .ok_or_else(|| SegmentError::corrupted("a column chunk lies outside the file"))
}
