//! A segment's tail: its Bloom filters (written together, before the footer, so one range
//! request fetches them), its offset index (where each page lies) and its footer (the Parquet
//! metadata). The file cannot checksum its own tail, so whoever refers to a segment records
//! [`SegmentTail`] (the manifest does) and readers verify the regions against it before
//! trusting a byte of them.

use std::collections::BTreeSet;
use std::sync::Arc;

use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::file::metadata::{PageIndexPolicy, ParquetMetaData, ParquetMetaDataReader};
use serde::{Deserialize, Serialize};

use super::SegmentError;
use super::checksum::{CHECKSUM_KEY, Checksums, PAGE_CHECKSUM_KEY, page_units, pages_region};
use super::columns::{self, Description, METADATA_KEY, SYSTEM};
use super::sparse::SparseFile;

/// Column chunks at most this far apart are fetched in one range request, the gap with them.
const JOIN_GAP: u64 = 64 << 10;
/// Pages at most this far apart are fetched in one range request: a reader after a few rows
/// fetches little, in few requests.
const PAGE_JOIN_GAP: u64 = 4 << 10;

/// Parquet's file trailer: the metadata length (4 bytes, little-endian) and `PAR1`.
const TRAILER: u64 = 8;

/// A byte range of a segment and its CRC-32C.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    /// Where the region starts.
    pub offset: u64,
    /// Its length in bytes.
    pub len: u64,
    /// CRC-32C of its bytes.
    pub crc32c: u32,
}

impl Region {
    fn of(file: &[u8], offset: u64, len: u64) -> Result<Region, SegmentError> {
        let bytes = usize::try_from(offset)
            .ok()
            .zip(usize::try_from(len).ok())
            .and_then(|(o, l)| file.get(o..o.checked_add(l)?))
            .ok_or_else(|| SegmentError::corrupted("a region lies outside the file"))?;
        Ok(Region {
            offset,
            len,
            crc32c: crc32c::crc32c(bytes),
        })
    }

    /// Checks the region's bytes, fetched into `file`.
    pub fn verify(&self, file: &SparseFile, what: &str) -> Result<(), SegmentError> {
        let bytes = file.slice(self.offset, self.len)?;
        if crc32c::crc32c(&bytes) != self.crc32c {
            return Err(SegmentError::corrupted(format!(
                "the segment's {what} fail their CRC-32C"
            )));
        }
        Ok(())
    }
}

/// Where a segment's Bloom filters and footer lie, with their checksums: recorded when the
/// segment is written, by whatever refers to it.
///
/// ```
/// use archiver_kit::segment::{encode_segment, SegmentOptions, SegmentTail};
///
/// let records = archiver_core::testing::test_records("ns", 10);
/// let attributes = archiver_core::testing::search_attributes();
/// let bytes = encode_segment(records, &attributes, &SegmentOptions::default()).unwrap();
/// let tail = SegmentTail::of(&bytes).unwrap();
/// assert_eq!(tail.footer.offset + tail.footer.len, bytes.len() as u64);
/// assert!(tail.blooms.is_some());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentTail {
    /// The Bloom filters, all of them (`None` when the segment has none: no rows).
    pub blooms: Option<Region>,
    /// The offset index, between the Bloom filters and the footer (`None` in segments written
    /// without one: their readers fetch whole column chunks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_index: Option<Region>,
    /// The footer: the Parquet metadata and the trailer, to the end of the file.
    pub footer: Region,
}

impl SegmentTail {
    /// Where the offset index and footer start: what a reader fetches first.
    pub fn metadata_start(&self) -> u64 {
        self.page_index
            .map_or(self.footer.offset, |index| index.offset)
    }
}

impl SegmentTail {
    /// The tail of a whole segment file.
    pub fn of(file: &[u8]) -> Result<SegmentTail, SegmentError> {
        let len = file.len() as u64;
        let footer_len = footer_len(file)?;
        let footer = Region::of(file, len - footer_len, footer_len)?;
        let metadata = ParquetMetaDataReader::decode_metadata(
            &file[(len - footer_len) as usize..(len - TRAILER) as usize],
        )
        .map_err(|e| SegmentError::corrupted(format!("footer: {e}")))?;
        let (mut blooms, mut page_index) = (None, None);
        let widen = |span: &mut Option<(u64, u64)>, offset: Option<i64>, len: Option<i32>| {
            if let (Some(offset), Some(len)) = (offset, len) {
                let (start, end) = (offset as u64, offset as u64 + len as u64);
                *span = Some(span.map_or((start, end), |(s, e)| (s.min(start), e.max(end))));
            }
        };
        for chunk in metadata.row_groups().iter().flat_map(|g| g.columns()) {
            widen(
                &mut blooms,
                chunk.bloom_filter_offset(),
                chunk.bloom_filter_length(),
            );
            widen(
                &mut page_index,
                chunk.offset_index_offset(),
                chunk.offset_index_length(),
            );
        }
        let region = |span: Option<(u64, u64)>| {
            span.map(|(start, end)| Region::of(file, start, end - start))
                .transpose()
        };
        Ok(SegmentTail {
            blooms: region(blooms)?,
            page_index: region(page_index)?,
            footer,
        })
    }
}

/// The length of the footer region (metadata and trailer) of a whole file.
fn footer_len(file: &[u8]) -> Result<u64, SegmentError> {
    let len = file.len() as u64;
    let trailer = file
        .get(file.len().saturating_sub(TRAILER as usize)..)
        .filter(|t| t.len() == TRAILER as usize && &t[4..] == b"PAR1")
        .ok_or_else(|| SegmentError::corrupted("no Parquet trailer"))?;
    let metadata_len = u64::from(u32::from_le_bytes([
        trailer[0], trailer[1], trailer[2], trailer[3],
    ]));
    let footer_len = metadata_len + TRAILER;
    if footer_len > len {
        return Err(SegmentError::corrupted(
            "the footer is longer than the file",
        ));
    }
    Ok(footer_len)
}

/// A segment's footer, parsed and checked: its metadata, its description, its page checksums.
/// Immutable and cheap to clone, so readers cache it by segment.
#[derive(Debug, Clone)]
pub struct SegmentFooter {
    pub(super) arrow: ArrowReaderMetadata,
    pub(super) description: Arc<Description>,
    pub(super) checksums: Arc<Checksums>,
}

impl SegmentFooter {
    /// Reads the footer from `file`, which holds the footer region and the offset index
    /// (`tail` says where, and is verified first when given).
    pub fn read(
        file: &SparseFile,
        tail: Option<&SegmentTail>,
    ) -> Result<SegmentFooter, SegmentError> {
        let len = file.file_len();
        let corrupted =
            |e: parquet::errors::ParquetError| SegmentError::corrupted(format!("footer: {e}"));
        let metadata = match tail {
            Some(tail) => {
                tail.footer.verify(file, "footer")?;
                if tail.footer.offset + tail.footer.len != len || tail.footer.len < TRAILER {
                    return Err(SegmentError::corrupted(
                        "the footer region does not end the file",
                    ));
                }
                let bytes = file.slice(tail.footer.offset, tail.footer.len - TRAILER)?;
                let metadata = ParquetMetaDataReader::decode_metadata(&bytes).map_err(corrupted)?;
                match tail.page_index {
                    // Only an index whose bytes are checked is read.
                    Some(index) => {
                        index.verify(file, "offset index")?;
                        let mut reader = ParquetMetaDataReader::new_with_metadata(metadata)
                            .with_column_index_policy(PageIndexPolicy::Skip)
                            .with_offset_index_policy(PageIndexPolicy::Required);
                        reader
                            .read_page_indexes_sized(file, len)
                            .map_err(corrupted)?;
                        reader.finish().map_err(corrupted)?
                    }
                    None => metadata,
                }
            }
            // A whole file is read whole: its offset index, unchecked, is not needed.
            None => ParquetMetaDataReader::new()
                .parse_and_finish(file)
                .map_err(corrupted)?,
        };
        Self::from_metadata(Arc::new(metadata))
    }

    fn from_metadata(metadata: Arc<ParquetMetaData>) -> Result<SegmentFooter, SegmentError> {
        let value = |key: &str| {
            metadata
                .file_metadata()
                .key_value_metadata()
                .and_then(|kv| kv.iter().find(|kv| kv.key == key))
                .and_then(|kv| kv.value.as_deref())
        };
        let checksums = Checksums::parse(
            value(CHECKSUM_KEY),
            value(PAGE_CHECKSUM_KEY),
            metadata.row_groups(),
        )?;
        let text = value(METADATA_KEY)
            .ok_or_else(|| SegmentError::corrupted(format!("no {METADATA_KEY} metadata")))?;
        let description = Description::from_json(text)?;
        // The Parquet reader trusts the offset index (a page before its chunk panics it).
        for g in 0..metadata.num_row_groups() {
            for c in 0..metadata.row_group(g).num_columns() {
                page_units(&metadata, g, c)?;
            }
        }
        let arrow = ArrowReaderMetadata::try_new(metadata.clone(), ArrowReaderOptions::default())
            .map_err(|e| SegmentError::corrupted(e.to_string()))?;
        // Compare the columns only: the schema's metadata holds the key-value pairs too.
        if arrow.schema().fields() != description.schema().fields() {
            return Err(SegmentError::corrupted(
                "the file's columns differ from what its metadata describes",
            ));
        }
        Ok(SegmentFooter {
            arrow,
            description: Arc::new(description),
            checksums: Arc::new(checksums),
        })
    }

    /// The Parquet metadata.
    pub fn metadata(&self) -> &Arc<ParquetMetaData> {
        self.arrow.metadata()
    }

    /// Row groups in the segment.
    pub fn row_groups(&self) -> usize {
        self.metadata().num_row_groups()
    }

    /// Rows in the segment.
    pub fn rows(&self) -> u64 {
        self.metadata().file_metadata().num_rows().max(0) as u64
    }

    /// The leaf columns that hold `fields` (attribute names): their system or custom columns,
    /// and always `Extra`, which holds what typed columns cannot (sub-microsecond times,
    /// attributes without a column).
    pub fn field_columns(&self, fields: &BTreeSet<String>) -> Vec<usize> {
        let names = SYSTEM.iter().copied().chain(
            self.description
                .attributes
                .iter()
                .map(|(name, _)| name.as_str()),
        );
        // Every column is one leaf (a KeywordList's list has one), so leaf = field index.
        names
            .enumerate()
            .filter(|(_, name)| *name == columns::EXTRA || fields.contains(*name))
            .map(|(i, _)| i)
            .collect()
    }

    /// Every leaf column.
    pub fn all_columns(&self) -> Vec<usize> {
        (0..self.metadata().file_metadata().schema_descr().num_columns()).collect()
    }

    /// The byte ranges of row group `g` to fetch to read `columns` (leaf indices) at `rows`
    /// (ascending; `None`: every row), of which `file` does not hold already: the pages
    /// holding those rows where the offset index says where they lie, whole chunks otherwise;
    /// near ones joined.
    pub fn ranges_to_fetch(
        &self,
        file: &SparseFile,
        g: usize,
        columns: &[usize],
        rows: Option<&[usize]>,
    ) -> Result<Vec<(u64, u64)>, SegmentError> {
        let group = self.metadata().row_groups().get(g).ok_or_else(|| {
            SegmentError::InvalidInput(format!("the segment has no row group {g}"))
        })?;
        let mut wanted: Vec<(u64, u64)> = Vec::new();
        let mut gap = JOIN_GAP;
        for &c in columns {
            let chunk = pages_region(group.column(c))?;
            if file.has(chunk.0, chunk.1) {
                continue;
            }
            match (rows, page_units(self.metadata(), g, c)?) {
                (Some(rows), Some(units)) => {
                    gap = PAGE_JOIN_GAP;
                    wanted.extend(
                        units
                            .iter()
                            .filter(|u| u.holds_any(rows) && !file.has(u.offset, u.len))
                            .map(|u| (u.offset, u.len)),
                    );
                }
                _ => wanted.push(chunk),
            }
        }
        wanted.sort_unstable();
        let mut ranges: Vec<(u64, u64)> = Vec::new();
        for (start, len) in wanted {
            match ranges.last_mut() {
                // A small gap costs less to read than another request.
                Some((s, l)) if start >= *s + *l && start - (*s + *l) <= gap => {
                    *l = start + len - *s;
                }
                Some((s, l)) if start < *s + *l => *l = (*l).max(start + len - *s),
                _ => ranges.push((start, len)),
            }
        }
        Ok(ranges)
    }

    /// The byte ranges holding the pages of row groups `groups` (ascending), adjacent ones
    /// joined: what to fetch to read them.
    pub fn page_ranges(&self, groups: &[usize]) -> Result<Vec<(u64, u64)>, SegmentError> {
        let mut ranges: Vec<(u64, u64)> = Vec::new();
        for &g in groups {
            let group = self.metadata().row_groups().get(g).ok_or_else(|| {
                SegmentError::InvalidInput(format!("the segment has no row group {g}"))
            })?;
            for chunk in group.columns() {
                let (start, len) = pages_region(chunk)?;
                match ranges.last_mut() {
                    Some((s, l)) if *s + *l == start => *l += len,
                    _ => ranges.push((start, len)),
                }
            }
        }
        Ok(ranges)
    }
}
