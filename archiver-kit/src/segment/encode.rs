//! Writing a segment: records in `CloseTime` order, buffered into Arrow columns a row group at a
//! time and written as Parquet.

use std::sync::Arc;

use archiver_core::VisibilityRecord;
use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, Float64Builder, Int64Builder, ListBuilder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::Schema;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::{KeyValue, SortingColumn};
use parquet::file::properties::{BloomFilterPosition, EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use visibility_query::{AttributeValue, SearchAttributeType, SearchAttributes};

use super::SegmentError;
use super::checksum::{CHECKSUM_KEY, PAGE_CHECKSUM_KEY, chunk_checksums, page_checksums};
use super::columns::{self, BLOOM_FILTERED, DICTIONARY_ENCODED, Description, METADATA_KEY, SYSTEM};
use super::extra::{Extra, split_time, typed};

/// The Bloom filters' false-positive rate: 2.5% at a row group's full size gives a filter of
/// 16 KiB per 16,384 rows (filters are sized in powers of two), about 1 byte per row and column.
const BLOOM_FPP: f64 = 0.025;

/// Rows per data page at most. Small pages let a reader that wants a few rows fetch only the
/// pages holding them (the offset index says where they are), a few KiB per column and row,
/// where a whole column chunk would be a row group's worth. 512 rather than 1,024: a filter
/// matching one row in each of many groups (a custom keyword) read 2.7% of a 1M-record archive
/// with 1,024-row pages, most of it the pages of its rows' other columns.
const PAGE_ROWS: usize = 512;

/// The distinct workflow types a row group's Bloom filter is sized for: types are few, and a
/// filter sized for every row would be as large as the ids'.
const TYPE_NDV: u64 = 1024;

/// How segments are written.
///
/// ```
/// use archiver_kit::segment::SegmentOptions;
/// let options = SegmentOptions::default().with_row_group_rows(4_096);
/// assert_eq!(options.row_group_rows(), 4_096);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentOptions {
    row_group_rows: usize,
    zstd_level: i32,
}

impl Default for SegmentOptions {
    fn default() -> Self {
        SegmentOptions {
            row_group_rows: 16_384,
            zstd_level: 3,
        }
    }
}

impl SegmentOptions {
    /// Rows per row group (at least 1; default 16,384): the unit a reader skips by statistics
    /// and Bloom filters; smaller groups let a keyword's filter rule out more of them.
    pub fn with_row_group_rows(mut self, rows: usize) -> Self {
        self.row_group_rows = rows.max(1);
        self
    }

    /// Rows per row group.
    pub fn row_group_rows(&self) -> usize {
        self.row_group_rows
    }

    /// The ZSTD level (1..=22, default 3).
    pub fn with_zstd_level(mut self, level: i32) -> Self {
        self.zstd_level = level.clamp(1, 22);
        self
    }
}

/// Writes records, in `CloseTime` order, into one segment.
///
/// Memory holds one row group of columns at a time plus the encoded file so far.
pub struct SegmentWriter {
    description: Description,
    schema: Arc<Schema>,
    writer: ArrowWriter<Vec<u8>>,
    columns: Columns,
    row_group_rows: usize,
    rows: usize,
    last_close: Option<jiff::Timestamp>,
}

impl std::fmt::Debug for SegmentWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentWriter")
            .field("attributes", &self.description.attributes)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl SegmentWriter {
    /// A writer whose custom columns are `attributes`' declared custom attributes.
    pub fn new(
        attributes: &SearchAttributes,
        options: &SegmentOptions,
    ) -> Result<SegmentWriter, SegmentError> {
        let description = Description::for_attributes(attributes);
        let schema = description.schema();
        let close_time_index = SYSTEM
            .iter()
            .position(|c| *c == columns::CLOSE_TIME)
            .and_then(|i| i32::try_from(i).ok());
        let level = ZstdLevel::try_new(options.zstd_level)
            .map_err(|e| SegmentError::InvalidInput(format!("zstd level: {e}")))?;
        let mut properties = WriterProperties::builder()
            .set_compression(Compression::ZSTD(level))
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_data_page_row_count_limit(PAGE_ROWS)
            .set_write_batch_size(PAGE_ROWS)
            // A page of a dictionary-encoded column needs its chunk's dictionary page too, as
            // large as the chunk's distinct values: only the few-valued columns have one.
            .set_dictionary_enabled(false)
            .set_max_row_group_row_count(Some(options.row_group_rows))
            .set_sorting_columns(close_time_index.map(|column_idx| {
                vec![SortingColumn {
                    column_idx,
                    descending: false,
                    nulls_first: false,
                }]
            }))
            .set_key_value_metadata(Some(vec![KeyValue::new(
                METADATA_KEY.to_owned(),
                description.to_json(),
            )]));
        // All Bloom filters together before the footer: a reader fetches them in one request.
        properties = properties.set_bloom_filter_position(BloomFilterPosition::End);
        for column in DICTIONARY_ENCODED {
            properties = properties.set_column_dictionary_enabled(ColumnPath::from(column), true);
        }
        let keywords = description
            .attributes
            .iter()
            .filter(|(_, ty)| *ty == SearchAttributeType::Keyword)
            .map(|(name, _)| name.as_str());
        for column in BLOOM_FILTERED.into_iter().chain(keywords) {
            let ndv = match column {
                columns::WORKFLOW_TYPE => TYPE_NDV.min(options.row_group_rows as u64),
                _ => options.row_group_rows as u64,
            };
            let column = ColumnPath::from(column);
            properties = properties
                .set_column_bloom_filter_enabled(column.clone(), true)
                .set_column_bloom_filter_max_ndv(column.clone(), ndv)
                .set_column_bloom_filter_fpp(column, BLOOM_FPP);
        }
        let writer = ArrowWriter::try_new(Vec::new(), schema.clone(), Some(properties.build()))
            .map_err(|e| SegmentError::InvalidInput(format!("cannot start the writer: {e}")))?;
        Ok(SegmentWriter {
            columns: Columns::new(&description),
            description,
            schema,
            writer,
            row_group_rows: options.row_group_rows,
            rows: 0,
            last_close: None,
        })
    }

    /// Adds a record; records must come in `CloseTime` order (equal times in any order).
    pub fn push(&mut self, record: &VisibilityRecord) -> Result<(), SegmentError> {
        if self.last_close.is_some_and(|last| record.close_time < last) {
            return Err(SegmentError::OutOfOrder { row: self.rows });
        }
        self.last_close = Some(record.close_time);
        self.columns.push(record, &self.description);
        self.rows += 1;
        if self.columns.len() >= self.row_group_rows {
            self.flush()?;
        }
        Ok(())
    }

    /// How many records were pushed.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The finished Parquet file.
    pub fn finish(mut self) -> Result<Vec<u8>, SegmentError> {
        self.flush()?;
        // The file writer buffers: the chunks must reach the Vec before they are summed.
        self.writer
            .sync()
            .map_err(|e| SegmentError::InvalidInput(format!("cannot flush the segment: {e}")))?;
        let (file, row_groups) = (self.writer.inner(), self.writer.flushed_row_groups());
        let checksums = chunk_checksums(file, row_groups)?;
        let page_checksums = page_checksums(file, row_groups)?;
        self.writer
            .append_key_value_metadata(KeyValue::new(CHECKSUM_KEY.to_owned(), checksums));
        self.writer
            .append_key_value_metadata(KeyValue::new(PAGE_CHECKSUM_KEY.to_owned(), page_checksums));
        self.writer
            .into_inner()
            .map_err(|e| SegmentError::InvalidInput(format!("cannot finish the segment: {e}")))
    }

    fn flush(&mut self) -> Result<(), SegmentError> {
        if self.columns.len() == 0 {
            return Ok(());
        }
        let arrays = self.columns.finish();
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(|e| SegmentError::InvalidInput(format!("cannot build a batch: {e}")))?;
        self.writer
            .write(&batch)
            .map_err(|e| SegmentError::InvalidInput(format!("cannot write a batch: {e}")))?;
        self.writer
            .flush()
            .map_err(|e| SegmentError::InvalidInput(format!("cannot end a row group: {e}")))
    }
}

/// Encodes `records` (any order; sorted here by `CloseTime`, then workflow id and run id) as
/// one segment with a column for each of `attributes`' custom attributes.
pub fn encode_segment(
    mut records: Vec<VisibilityRecord>,
    attributes: &SearchAttributes,
    options: &SegmentOptions,
) -> Result<Vec<u8>, SegmentError> {
    records.sort_by(segment_order);
    let mut writer = SegmentWriter::new(attributes, options)?;
    for record in &records {
        writer.push(record)?;
    }
    writer.finish()
}

/// The order of a segment's rows: `CloseTime`, then workflow id, then run id.
pub(super) fn segment_order(a: &VisibilityRecord, b: &VisibilityRecord) -> std::cmp::Ordering {
    (a.close_time, &a.workflow_id, &a.run_id).cmp(&(b.close_time, &b.workflow_id, &b.run_id))
}

/// One row group's column builders.
struct Columns {
    strings: [StringBuilder; 7],
    times: [TimestampMicrosecondBuilder; 3],
    history_length: Int64Builder,
    execution_duration: Int64Builder,
    memo: StringBuilder,
    extra: StringBuilder,
    custom: Vec<Custom>,
}

enum Custom {
    Str(StringBuilder),
    Int(Int64Builder),
    Double(Float64Builder),
    Bool(BooleanBuilder),
    Time(TimestampMicrosecondBuilder),
    List(ListBuilder<StringBuilder>),
}

fn time_builder() -> TimestampMicrosecondBuilder {
    TimestampMicrosecondBuilder::new().with_timezone("UTC")
}

impl Columns {
    fn new(description: &Description) -> Columns {
        Columns {
            strings: std::array::from_fn(|_| StringBuilder::new()),
            times: std::array::from_fn(|_| time_builder()),
            history_length: Int64Builder::new(),
            execution_duration: Int64Builder::new(),
            memo: StringBuilder::new(),
            extra: StringBuilder::new(),
            custom: description
                .attributes
                .iter()
                .map(|(_, ty)| match ty {
                    SearchAttributeType::Keyword | SearchAttributeType::Text => {
                        Custom::Str(StringBuilder::new())
                    }
                    SearchAttributeType::Int => Custom::Int(Int64Builder::new()),
                    SearchAttributeType::Double => Custom::Double(Float64Builder::new()),
                    SearchAttributeType::Bool => Custom::Bool(BooleanBuilder::new()),
                    SearchAttributeType::Datetime => Custom::Time(time_builder()),
                    SearchAttributeType::KeywordList => {
                        Custom::List(ListBuilder::new(StringBuilder::new()))
                    }
                })
                .collect(),
        }
    }

    fn len(&self) -> usize {
        self.history_length.len()
    }

    fn push(&mut self, record: &VisibilityRecord, description: &Description) {
        for (builder, value) in self.strings.iter_mut().zip([
            record.namespace_id.as_str(),
            &record.namespace,
            &record.workflow_id,
            &record.run_id,
            &record.workflow_type_name,
            record.status.name(),
            &record.history_archival_uri,
        ]) {
            builder.append_value(value);
        }
        let mut extra = Extra::default();
        for (i, time) in [record.start_time, record.execution_time, record.close_time]
            .into_iter()
            .enumerate()
        {
            let (micros, below) = split_time(time);
            self.times[i].append_value(micros);
            extra.below_micros[i] = below;
        }
        self.history_length.append_value(record.history_length);
        self.execution_duration
            .append_option(record.execution_duration_nanos);
        self.memo
            .append_option(record.memo.as_ref().map(|m| m.to_string()));

        for (name, raw) in &record.search_attributes {
            if !description.attributes.iter().any(|(n, _)| n == name) {
                extra.attributes.insert(name.clone(), raw.clone());
            }
        }
        for ((name, ty), column) in description.attributes.iter().zip(&mut self.custom) {
            let (value, exact) = match record.search_attributes.get(name) {
                None => (None, true),
                Some(raw) => typed(*ty, raw),
            };
            if !exact && let Some(raw) = record.search_attributes.get(name) {
                extra.attributes.insert(name.clone(), raw.clone());
            }
            column.push(value);
        }
        self.extra.append_option(extra.to_json());
    }

    /// The row group's arrays, in schema order; the builders start over.
    fn finish(&mut self) -> Vec<ArrayRef> {
        let [ns_id, ns, wf, run, ty, status, uri] = &mut self.strings;
        let [start, execution, close] = &mut self.times;
        let mut arrays: Vec<ArrayRef> = vec![
            Arc::new(ns_id.finish()),
            Arc::new(ns.finish()),
            Arc::new(wf.finish()),
            Arc::new(run.finish()),
            Arc::new(ty.finish()),
            Arc::new(status.finish()),
            Arc::new(start.finish()),
            Arc::new(execution.finish()),
            Arc::new(close.finish()),
            Arc::new(self.history_length.finish()),
            Arc::new(self.execution_duration.finish()),
            Arc::new(uri.finish()),
            Arc::new(self.memo.finish()),
            Arc::new(self.extra.finish()),
        ];
        arrays.extend(self.custom.iter_mut().map(Custom::finish));
        arrays
    }
}

impl Custom {
    /// Appends a typed value (or null); `typed` gave the value this column's type.
    fn push(&mut self, value: Option<AttributeValue>) {
        match (self, value) {
            (Custom::Str(b), Some(AttributeValue::Keyword(s) | AttributeValue::Text(s))) => {
                b.append_value(s)
            }
            (Custom::Int(b), Some(AttributeValue::Int(n))) => b.append_value(n),
            (Custom::Double(b), Some(AttributeValue::Double(x))) => b.append_value(x),
            (Custom::Bool(b), Some(AttributeValue::Bool(v))) => b.append_value(v),
            (Custom::Time(b), Some(AttributeValue::Datetime(t))) => b.append_value(split_time(t).0),
            (Custom::List(b), Some(AttributeValue::KeywordList(items))) => {
                for item in items {
                    b.values().append_value(item);
                }
                b.append(true);
            }
            (Custom::Str(b), _) => b.append_null(),
            (Custom::Int(b), _) => b.append_null(),
            (Custom::Double(b), _) => b.append_null(),
            (Custom::Bool(b), _) => b.append_null(),
            (Custom::Time(b), _) => b.append_null(),
            (Custom::List(b), _) => b.append(false),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Custom::Str(b) => Arc::new(b.finish()),
            Custom::Int(b) => Arc::new(b.finish()),
            Custom::Double(b) => Arc::new(b.finish()),
            Custom::Bool(b) => Arc::new(b.finish()),
            Custom::Time(b) => Arc::new(b.finish()),
            Custom::List(b) => Arc::new(b.finish()),
        }
    }
}
