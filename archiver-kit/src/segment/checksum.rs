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

/// Checks every chunk of `row_groups` against the checksums `text` recorded.
pub(super) fn verify_chunks(
    file: &[u8],
    row_groups: &[RowGroupMetaData],
    text: Option<&str>,
) -> Result<(), SegmentError> {
    let text =
        text.ok_or_else(|| SegmentError::corrupted(format!("no {CHECKSUM_KEY} metadata")))?;
    let recorded: Vec<Vec<Vec<u32>>> = serde_json::from_str(text).map_err(|e| {
        SegmentError::corrupted(format!("{CHECKSUM_KEY} metadata does not decode: {e}"))
    })?;
    if recorded.len() != row_groups.len() {
        return Err(SegmentError::corrupted(
            "the checksums do not cover the file's row groups",
        ));
    }
    for (g, (crcs, group)) in recorded.iter().zip(row_groups).enumerate() {
        if crcs.len() != group.columns().len() {
            return Err(SegmentError::corrupted(format!(
                "the checksums do not cover the columns of row group {g}"
            )));
        }
        for (crc, chunk) in crcs.iter().zip(group.columns()) {
            if chunk_regions(file, chunk)? != *crc {
                return Err(SegmentError::corrupted(format!(
                    "column {:?} of row group {g} fails its CRC-32C",
                    chunk.column_path().string()
                )));
            }
        }
    }
    Ok(())
}

/// The CRCs of a chunk's pages and of its Bloom filter (if any).
fn chunk_regions(file: &[u8], chunk: &ColumnChunkMetaData) -> Result<Vec<u32>, SegmentError> {
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
    regions
        .into_iter()
        .map(|region| region_bytes(file, region).map(crc32c::crc32c))
        .collect()
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
