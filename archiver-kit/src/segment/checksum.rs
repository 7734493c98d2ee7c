//! CRC-32C of every column chunk's pages, and of each page on its own, kept in the segment's
//! footer metadata.
//!
//! Parquet's writer records no page checksums, and a flipped bit in a data page can decode as
//! a different value. Each chunk is summed whole (for readers that fetch whole chunks) and page
//! by page (for readers that fetch only the pages holding some rows, by the offset index) when
//! the segment is finished, and verified before it is decoded. The Bloom filters, the offset
//! index and the footer (written after every row group) cannot be covered from inside the
//! file; what refers to a segment records their checksums ([`SegmentTail`](super::SegmentTail)).

use std::ops::Range;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use parquet::column::page::PageReader;
use parquet::file::metadata::{ColumnChunkMetaData, ParquetMetaData, RowGroupMetaData};
use parquet::file::reader::{ChunkReader, Length};
use parquet::file::serialized_reader::SerializedPageReader;

use super::SegmentError;
use super::sparse::SparseFile;

/// The key-value metadata key of the checksums: JSON, per row group, per column, the CRC of the
/// chunk's pages.
pub(super) const CHECKSUM_KEY: &str = "archiver.segment.crc32c";

/// The key-value metadata key of the page checksums: JSON, per row group, per column, the CRC of
/// each page, header included (the dictionary page first, when the chunk has one).
pub(super) const PAGE_CHECKSUM_KEY: &str = "archiver.segment.page-crc32c";

/// The checksums of the chunks of `row_groups` within `file`.
pub(super) fn chunk_checksums(
    file: &[u8],
    row_groups: &[RowGroupMetaData],
) -> Result<String, SegmentError> {
    per_chunk(row_groups, |_, chunk| {
        Ok(crc32c::crc32c(file_region(file, chunk)?.1))
    })
}

/// `sum` of every chunk, as JSON: per row group, per column.
fn per_chunk<T: serde::Serialize>(
    row_groups: &[RowGroupMetaData],
    sum: impl Fn(&RowGroupMetaData, &ColumnChunkMetaData) -> Result<T, SegmentError>,
) -> Result<String, SegmentError> {
    let sums = row_groups
        .iter()
        .map(|group| {
            group
                .columns()
                .iter()
                .map(|chunk| sum(group, chunk))
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(serde_json::to_string(&sums).unwrap_or_default())
}

/// The checksums of every page of `row_groups` within `file`, each page found by walking its
/// chunk's page headers (the file is not finished yet: there is no offset index to read).
pub(super) fn page_checksums(
    file: &[u8],
    row_groups: &[RowGroupMetaData],
) -> Result<String, SegmentError> {
    per_chunk(row_groups, |group, chunk| {
        let ((start, len), bytes) = file_region(file, chunk)?;
        let starts = page_starts(bytes, start, group, chunk)?;
        let end = start + len;
        starts
            .iter()
            .zip(starts.iter().skip(1).chain([&end]))
            .map(|(&from, &to)| {
                bytes
                    .get((from - start) as usize..(to - start) as usize)
                    .map(crc32c::crc32c)
                    .ok_or_else(|| SegmentError::corrupted("a page lies outside its chunk"))
            })
            .collect::<Result<Vec<u32>, _>>()
    })
}

/// Where each page of `chunk` starts: the page reader asks for a reader at every page header
/// it peeks, and skipping a page decodes nothing.
fn page_starts(
    bytes: &[u8],
    base: u64,
    group: &RowGroupMetaData,
    chunk: &ColumnChunkMetaData,
) -> Result<Vec<u64>, SegmentError> {
    let recorder = Arc::new(StartRecorder {
        file: Bytes::copy_from_slice(bytes),
        base,
        starts: Mutex::default(),
    });
    let failed = |e: parquet::errors::ParquetError| {
        SegmentError::InvalidInput(format!("cannot walk the pages just written: {e}"))
    };
    let rows = usize::try_from(group.num_rows()).unwrap_or(0);
    let mut pages =
        SerializedPageReader::new(recorder.clone(), chunk, rows, None).map_err(failed)?;
    while pages.peek_next_page().map_err(failed)?.is_some() {
        pages.skip_next_page().map_err(failed)?;
    }
    let mut starts = recorder
        .starts
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    starts.sort_unstable();
    starts.dedup();
    Ok(starts)
}

/// A chunk's bytes (at their file offsets) that remembers where readers were asked for.
struct StartRecorder {
    file: Bytes,
    base: u64,
    starts: Mutex<Vec<u64>>,
}

impl Length for StartRecorder {
    fn len(&self) -> u64 {
        self.base + self.file.len() as u64
    }
}

impl ChunkReader for StartRecorder {
    type T = bytes::buf::Reader<Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        self.starts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(start);
        self.get_bytes(start, (self.len() - start.min(self.len())) as usize)
            .map(bytes::Buf::reader)
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        let from = start
            .checked_sub(self.base)
            .and_then(|f| usize::try_from(f).ok())
            .filter(|f| f.saturating_add(length) <= self.file.len())
            .ok_or_else(|| parquet::errors::ParquetError::EOF("outside the chunk".into()))?;
        Ok(self.file.slice(from..from + length))
    }
}

/// A chunk's region and its bytes within a whole `file`.
fn file_region<'f>(
    file: &'f [u8],
    chunk: &ColumnChunkMetaData,
) -> Result<((u64, u64), &'f [u8]), SegmentError> {
    let (start, len) = pages_region(chunk)?;
    usize::try_from(start)
        .ok()
        .zip(usize::try_from(len).ok())
        .and_then(|(start, len)| file.get(start..start.checked_add(len)?))
        .map(|bytes| ((start, len), bytes))
        .ok_or_else(|| SegmentError::corrupted("a column chunk lies outside the file"))
}

/// One page of a chunk as the offset index places it: its bytes and the rows it holds (all of
/// the group's for a dictionary page, which every row needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PageUnit {
    pub(super) offset: u64,
    pub(super) len: u64,
    pub(super) rows: Range<usize>,
}

impl PageUnit {
    /// Whether the page holds one of `rows` (ascending).
    pub(super) fn holds_any(&self, rows: &[usize]) -> bool {
        let first = rows.partition_point(|&r| r < self.rows.start);
        rows.get(first).is_some_and(|&r| r < self.rows.end)
    }
}

/// The pages of column `c` in row group `g`, by the offset index (`None` without one).
pub(super) fn page_units(
    metadata: &ParquetMetaData,
    g: usize,
    c: usize,
) -> Result<Option<Vec<PageUnit>>, SegmentError> {
    let Some(locations) = metadata
        .page_index_for_row_group(g)
        .page_locations(c)
        .cloned()
    else {
        return Ok(None);
    };
    let group = metadata.row_group(g);
    let group_rows = usize::try_from(group.num_rows()).unwrap_or(0);
    let bad = || SegmentError::corrupted("the offset index does not fit its chunk");
    let (start, len) = pages_region(group.column(c))?;
    let mut units = Vec::with_capacity(locations.len() + 1);
    if let (Some(dictionary), Some(first)) =
        (group.column(c).dictionary_page_offset(), locations.first())
    {
        let dictionary = u64::try_from(dictionary).map_err(|_| bad())?;
        let first = u64::try_from(first.offset).map_err(|_| bad())?;
        units.push(PageUnit {
            offset: dictionary,
            len: first.checked_sub(dictionary).ok_or_else(bad)?,
            rows: 0..group_rows,
        });
    }
    for (i, page) in locations.iter().enumerate() {
        let row = |index: i64| usize::try_from(index).map_err(|_| bad());
        let end = locations
            .get(i + 1)
            .map_or(Ok(group_rows), |next| row(next.first_row_index))?;
        units.push(PageUnit {
            offset: u64::try_from(page.offset).map_err(|_| bad())?,
            len: u64::try_from(page.compressed_page_size).map_err(|_| bad())?,
            rows: row(page.first_row_index)?..end,
        });
    }
    // Pages in order, each inside the chunk after the one before, rows ascending and within
    // the group.
    let mut next = (start, 0);
    for unit in units
        .iter()
        .skip(usize::from(units.len() > locations.len()))
    {
        let fits = unit.offset >= next.0
            && unit.offset.saturating_add(unit.len) <= start + len
            && unit.rows.start >= next.1
            && unit.rows.start <= unit.rows.end
            && unit.rows.end <= group_rows;
        if !fits {
            return Err(bad());
        }
        next = (unit.offset + unit.len, unit.rows.start);
    }
    if units.first().is_some_and(|u| u.offset < start) {
        return Err(bad());
    }
    Ok(Some(units))
}

/// The checksums a segment recorded, checked against its row groups' shape.
#[derive(Debug)]
pub(super) struct Checksums {
    chunks: Vec<Vec<u32>>,
    pages: Option<Vec<Vec<Vec<u32>>>>,
}

impl Checksums {
    pub(super) fn parse(
        text: Option<&str>,
        pages: Option<&str>,
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
        let pages = pages
            .map(|text| {
                let pages: Vec<Vec<Vec<u32>>> = serde_json::from_str(text).map_err(|e| {
                    SegmentError::corrupted(format!(
                        "{PAGE_CHECKSUM_KEY} metadata does not decode: {e}"
                    ))
                })?;
                let fits = pages.len() == row_groups.len()
                    && pages
                        .iter()
                        .zip(row_groups)
                        .all(|(crcs, group)| crcs.len() == group.columns().len());
                fits.then_some(pages).ok_or_else(|| {
                    SegmentError::corrupted(
                        "the page checksums do not cover the file's row groups and columns",
                    )
                })
            })
            .transpose()?;
        Ok(Checksums {
            chunks: recorded,
            pages,
        })
    }

    /// Checks, of columns `columns` of row group `g`, the pages holding `rows` (ascending;
    /// `None`: every page). Where a column has no page checksums or no offset index, or its
    /// whole chunk is in `file` anyway, the chunk is checked whole.
    pub(super) fn verify_rows(
        &self,
        file: &SparseFile,
        metadata: &ParquetMetaData,
        g: usize,
        columns: &[usize],
        rows: Option<&[usize]>,
    ) -> Result<(), SegmentError> {
        let row_groups = metadata.row_groups();
        for &c in columns {
            let (start, len) = pages_region(row_groups[g].column(c))?;
            let crcs = self.pages.as_ref().map(|p| &p[g][c]);
            let (Some(rows), Some(crcs), false) = (rows, crcs, file.has(start, len)) else {
                self.verify_columns(file, row_groups, g, &[c])?;
                continue;
            };
            let Some(units) = page_units(metadata, g, c)? else {
                self.verify_columns(file, row_groups, g, &[c])?;
                continue;
            };
            if units.len() != crcs.len() {
                return Err(SegmentError::corrupted(format!(
                    "column {:?} in row group {g} has {} pages but {} page checksums",
                    row_groups[g].column(c).column_path().string(),
                    units.len(),
                    crcs.len()
                )));
            }
            for (unit, crc) in units.iter().zip(crcs) {
                if unit.holds_any(rows)
                    && crc32c::crc32c(&file.slice(unit.offset, unit.len)?) != *crc
                {
                    return Err(SegmentError::corrupted(format!(
                        "a page of column {:?} in row group {g} fails its CRC-32C",
                        row_groups[g].column(c).column_path().string()
                    )));
                }
            }
        }
        Ok(())
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
            if crc32c::crc32c(&file.slice(start, len)?) != self.chunks[g][c] {
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
