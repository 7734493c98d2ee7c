//! Reading a segment back into the records that were written.

use std::collections::BTreeMap;

use archiver_core::VisibilityRecord;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType};
use std::collections::BTreeSet;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, UInt32Array, new_null_array};
use arrow_schema::{Field, Schema};
use arrow_select::take::take as take_array;
use bytes::Bytes;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReaderBuilder, RowSelection};
use visibility_query::{AttributeValue, Plan, SearchAttributeType};

use super::SegmentError;
use super::columns::{self, Description};
use super::extra::{Extra, join_time, render};
use super::footer::SegmentFooter;
use super::sparse::SparseFile;

/// Decodes a whole segment into its records, in file order (`CloseTime` ascending).
///
/// Damaged, truncated or foreign bytes are [`SegmentError::Corrupted`] (the chunk checksums and
/// the segment's self-description catch them), never a panic.
pub fn decode_segment(bytes: Bytes) -> Result<Vec<VisibilityRecord>, SegmentError> {
    let file = SparseFile::whole(bytes);
    let footer = SegmentFooter::read(&file, None)?;
    let all = (0..footer.row_groups()).collect();
    read_groups(&file, &footer, all, |_| true)
}

/// The records of row groups `groups` (ascending) of a segment that `keep` accepts, each
/// group's pages (fetched into `file`) verified first.
pub fn read_groups(
    file: &SparseFile,
    footer: &SegmentFooter,
    groups: Vec<usize>,
    mut keep: impl FnMut(&VisibilityRecord) -> bool,
) -> Result<Vec<VisibilityRecord>, SegmentError> {
    let row_groups = footer.metadata().row_groups();
    for &g in &groups {
        footer.checksums.verify_pages(file, row_groups, g)?;
    }
    let mut records = Vec::new();
    let reader =
        ParquetRecordBatchReaderBuilder::new_with_metadata(file.clone(), footer.arrow.clone())
            .with_row_groups(groups)
            .build()
            .map_err(|e| SegmentError::corrupted(e.to_string()))?;
    for batch in reader {
        let batch = batch.map_err(|e| SegmentError::corrupted(e.to_string()))?;
        decode_batch(&batch, &footer.description, &mut records, &mut keep)?;
    }
    Ok(records)
}

/// Rows `rows` (ascending indices within row group `g`) of a segment that `keep` accepts, the
/// pages holding them (fetched into `file`: [`SegmentFooter::ranges_to_fetch`] says which)
/// verified first. Only those rows become records.
pub fn read_rows(
    file: &SparseFile,
    footer: &SegmentFooter,
    g: usize,
    rows: &[usize],
    mut keep: impl FnMut(&VisibilityRecord) -> bool,
) -> Result<Vec<VisibilityRecord>, SegmentError> {
    let selection = selection(footer, g, rows)?;
    footer.checksums.verify_rows(
        file,
        footer.metadata(),
        g,
        &footer.all_columns(),
        Some(rows),
    )?;
    let reader =
        ParquetRecordBatchReaderBuilder::new_with_metadata(file.clone(), footer.arrow.clone())
            .with_row_groups(vec![g])
            .with_row_selection(selection)
            .build()
            .map_err(|e| SegmentError::corrupted(e.to_string()))?;
    let mut records = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| SegmentError::corrupted(e.to_string()))?;
        decode_batch(&batch, &footer.description, &mut records, &mut keep)?;
    }
    Ok(records)
}

/// The rows of row group `g` (those of `rows`, ascending, when given) with only the columns of
/// `fields` (attribute names, as
/// [`CheckedQuery::fields_read`](visibility_query::CheckedQuery::fields_read) gives them) and
/// `Extra` decoded ([`SegmentFooter::field_columns`]), those fetched into `file`
/// ([`SegmentFooter::ranges_to_fetch`]); every other field holds a placeholder. A reader
/// evaluates a filter on these before it fetches whole rows. Returns the rows' indices in the
/// group beside them.
///
/// With a `plan`, only the rows whose values in the columns read are among those it allows
/// (its ids, types, statuses and keywords) are decoded: the others are ruled out column by
/// column before any becomes a record, so a selective filter costs about what its matches do.
pub fn read_group_fields(
    file: &SparseFile,
    footer: &SegmentFooter,
    g: usize,
    fields: &BTreeSet<String>,
    rows: Option<&[usize]>,
    plan: Option<&Plan>,
) -> Result<(Vec<usize>, Vec<VisibilityRecord>), SegmentError> {
    let leaves = footer.field_columns(fields);
    footer
        .checksums
        .verify_rows(file, footer.metadata(), g, &leaves, rows)?;
    let mask = ProjectionMask::leaves(footer.metadata().file_metadata().schema_descr(), leaves);
    let mut builder =
        ParquetRecordBatchReaderBuilder::new_with_metadata(file.clone(), footer.arrow.clone())
            .with_row_groups(vec![g])
            .with_projection(mask);
    if let Some(rows) = rows {
        builder = builder.with_row_selection(selection(footer, g, rows)?);
    }
    let reader = builder
        .build()
        .map_err(|e| SegmentError::corrupted(e.to_string()))?;
    let full = footer.description.schema();
    let allowed = plan
        .map(|plan| allowed_values(plan, &footer.description))
        .filter(|allowed| !allowed.is_empty());
    let mut indices = Vec::new();
    let mut records = Vec::new();
    let mut offset = 0;
    for batch in reader {
        let batch = batch.map_err(|e| SegmentError::corrupted(e.to_string()))?;
        let read = batch.num_rows();
        let batch = match &allowed {
            Some(allowed) => {
                let admitted = admitted_rows(&batch, allowed);
                indices.extend(admitted.iter().map(|&i| offset + i));
                if admitted.len() == read {
                    batch
                } else {
                    let take = UInt32Array::from_iter_values(admitted.iter().map(|&i| i as u32));
                    let columns = batch
                        .columns()
                        .iter()
                        .map(|column| take_array(column, &take, None))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| SegmentError::corrupted(e.to_string()))?;
                    RecordBatch::try_new(batch.schema(), columns)
                        .map_err(|e| SegmentError::corrupted(e.to_string()))?
                }
            }
            None => {
                indices.extend(offset..offset + read);
                batch
            }
        };
        offset += read;
        decode_partial(&batch, &full, &footer.description, &mut records)?;
    }
    if let Some(rows) = rows {
        // Indices of the selection's rows, not of the rows read.
        indices = indices.into_iter().map(|i| rows[i]).collect();
    }
    Ok((indices, records))
}

/// The rows of `batch` (some columns of a segment's) as records: columns not read become
/// placeholders, nulls and a valid status (a status is never null).
fn decode_partial(
    batch: &RecordBatch,
    full: &Schema,
    description: &Description,
    records: &mut Vec<VisibilityRecord>,
) -> Result<(), SegmentError> {
    let rows = batch.num_rows();
    let (fields, columns): (Vec<Field>, Vec<ArrayRef>) = full
        .fields()
        .iter()
        .map(|field| {
            let column = batch
                .column_by_name(field.name())
                .cloned()
                .unwrap_or_else(|| {
                    if field.name() == columns::STATUS {
                        Arc::new(StringArray::from(vec!["Running"; rows])) as ArrayRef
                    } else {
                        new_null_array(field.data_type(), rows)
                    }
                });
            (field.as_ref().clone().with_nullable(true), column)
        })
        .unzip();
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| SegmentError::corrupted(e.to_string()))?;
    decode_batch(&batch, description, records, &mut |_| true)
}

/// The string columns a plan constrains, with the values it allows in each.
fn allowed_values<'p>(
    plan: &'p Plan,
    description: &Description,
) -> Vec<(&'static str, Option<&'p str>, BTreeSet<&'p str>)> {
    let set = |values: &'p BTreeSet<String>| values.iter().map(String::as_str).collect();
    let mut allowed = Vec::new();
    for (column, values) in [
        (columns::WORKFLOW_ID, &plan.workflow_ids),
        (columns::RUN_ID, &plan.run_ids),
        (columns::WORKFLOW_TYPE, &plan.workflow_types),
    ] {
        if let Some(values) = values {
            allowed.push((column, None, set(values)));
        }
    }
    if let Some(statuses) = &plan.statuses {
        allowed.push((
            columns::STATUS,
            None,
            statuses.iter().map(|s| s.name()).collect(),
        ));
    }
    // A custom Keyword column by the segment's own description (as the Bloom filters are
    // read): an attribute kept only in `Extra`, or of another type, rules nothing out.
    for (name, values) in &plan.keywords {
        if description
            .attributes
            .iter()
            .any(|(n, ty)| n == name && *ty == SearchAttributeType::Keyword)
        {
            allowed.push(("", Some(name.as_str()), set(values)));
        }
    }
    allowed
}

/// The rows of `batch` whose every constrained column that was read holds an allowed value.
fn admitted_rows(
    batch: &RecordBatch,
    allowed: &[(&'static str, Option<&str>, BTreeSet<&str>)],
) -> Vec<usize> {
    let mut admitted: Vec<bool> = vec![true; batch.num_rows()];
    for (system, custom, values) in allowed {
        let Some(column) = batch.column_by_name(custom.unwrap_or(system)) else {
            continue; // not read: the evaluator decides
        };
        let Some(strings) = column.as_string_opt::<i32>() else {
            continue;
        };
        for (row, keep) in admitted.iter_mut().enumerate() {
            *keep = *keep && strings.is_valid(row) && values.contains(strings.value(row));
        }
    }
    (0..admitted.len()).filter(|&i| admitted[i]).collect()
}

/// `rows` of row group `g` as a selection, checked: ascending and within the group.
fn selection(
    footer: &SegmentFooter,
    g: usize,
    rows: &[usize],
) -> Result<RowSelection, SegmentError> {
    let group_rows = footer
        .metadata()
        .row_groups()
        .get(g)
        .ok_or_else(|| SegmentError::InvalidInput(format!("the segment has no row group {g}")))?
        .num_rows()
        .max(0) as usize;
    if rows.iter().any(|&r| r >= group_rows) || !rows.is_sorted() {
        return Err(SegmentError::InvalidInput(format!(
            "rows must be ascending and below the group's {group_rows}"
        )));
    }
    Ok(RowSelection::from_consecutive_ranges(
        rows.iter().map(|&r| r..r + 1),
        group_rows,
    ))
}

fn decode_batch(
    batch: &RecordBatch,
    description: &Description,
    out: &mut Vec<VisibilityRecord>,
    keep: &mut impl FnMut(&VisibilityRecord) -> bool,
) -> Result<(), SegmentError> {
    // The schema was checked against the description, so every cast below holds.
    let string = |name: &str| batch.column_by_name(name).map(|c| c.as_string::<i32>());
    let time = |name: &str| {
        batch
            .column_by_name(name)
            .map(|c| c.as_primitive::<TimestampMicrosecondType>())
    };
    let int = |name: &str| {
        batch
            .column_by_name(name)
            .map(|c| c.as_primitive::<Int64Type>())
    };
    let missing = || SegmentError::corrupted("a column is missing");
    let [ns_id, ns, wf, run, ty, status, uri, memo, extra] = [
        columns::NAMESPACE_ID,
        columns::NAMESPACE,
        columns::WORKFLOW_ID,
        columns::RUN_ID,
        columns::WORKFLOW_TYPE,
        columns::STATUS,
        columns::HISTORY_URI,
        columns::MEMO,
        columns::EXTRA,
    ]
    .map(string);
    let (ns_id, ns, wf, run, ty, status, uri, memo, extra) = (
        ns_id.ok_or_else(missing)?,
        ns.ok_or_else(missing)?,
        wf.ok_or_else(missing)?,
        run.ok_or_else(missing)?,
        ty.ok_or_else(missing)?,
        status.ok_or_else(missing)?,
        uri.ok_or_else(missing)?,
        memo.ok_or_else(missing)?,
        extra.ok_or_else(missing)?,
    );
    let [start, execution, close] = [
        columns::START_TIME,
        columns::EXECUTION_TIME,
        columns::CLOSE_TIME,
    ]
    .map(time);
    let (start, execution, close) = (
        start.ok_or_else(missing)?,
        execution.ok_or_else(missing)?,
        close.ok_or_else(missing)?,
    );
    let history_length = int(columns::HISTORY_LENGTH).ok_or_else(missing)?;
    let duration = int(columns::EXECUTION_DURATION).ok_or_else(missing)?;
    let custom: Vec<(&str, &dyn Array, SearchAttributeType)> = description
        .attributes
        .iter()
        .map(|(name, t)| {
            batch
                .column_by_name(name)
                .map(|c| (name.as_str(), c.as_ref(), *t))
                .ok_or_else(missing)
        })
        .collect::<Result<_, _>>()?;

    for row in 0..batch.num_rows() {
        let extra = Extra::from_json(extra.is_valid(row).then(|| extra.value(row)))?;
        let memo = if memo.is_valid(row) {
            Some(serde_json::from_str(memo.value(row)).map_err(|e| {
                SegmentError::corrupted(format!("Memo of row {row} does not decode: {e}"))
            })?)
        } else {
            None
        };
        let mut search_attributes = BTreeMap::new();
        for (name, column, t) in &custom {
            if column.is_valid(row) {
                search_attributes.insert((*name).to_owned(), render(&cell(*column, *t, row)?));
            }
        }
        // What the typed columns could not give back exactly overrides them.
        search_attributes.extend(extra.attributes);
        let status = status.value(row);
        let record = VisibilityRecord {
            namespace_id: ns_id.value(row).to_owned(),
            namespace: ns.value(row).to_owned(),
            workflow_id: wf.value(row).to_owned(),
            run_id: run.value(row).to_owned(),
            workflow_type_name: ty.value(row).to_owned(),
            start_time: join_time(start.value(row), extra.below_micros[0])?,
            execution_time: join_time(execution.value(row), extra.below_micros[1])?,
            close_time: join_time(close.value(row), extra.below_micros[2])?,
            status: status.parse().map_err(|_| {
                SegmentError::corrupted(format!("row {row} has an unknown status {status:?}"))
            })?,
            history_length: history_length.value(row),
            memo,
            search_attributes,
            history_archival_uri: uri.value(row).to_owned(),
            execution_duration_nanos: duration.is_valid(row).then(|| duration.value(row)),
        };
        if keep(&record) {
            out.push(record);
        }
    }
    Ok(())
}

/// The typed value in a custom column's cell (which is not null).
fn cell(
    column: &dyn Array,
    ty: SearchAttributeType,
    row: usize,
) -> Result<AttributeValue, SegmentError> {
    Ok(match ty {
        SearchAttributeType::Keyword => {
            AttributeValue::Keyword(column.as_string::<i32>().value(row).to_owned())
        }
        SearchAttributeType::Text => {
            AttributeValue::Text(column.as_string::<i32>().value(row).to_owned())
        }
        SearchAttributeType::Int => {
            AttributeValue::Int(column.as_primitive::<Int64Type>().value(row))
        }
        SearchAttributeType::Double => {
            AttributeValue::Double(column.as_primitive::<Float64Type>().value(row))
        }
        SearchAttributeType::Bool => AttributeValue::Bool(column.as_boolean().value(row)),
        SearchAttributeType::Datetime => AttributeValue::Datetime(join_time(
            column.as_primitive::<TimestampMicrosecondType>().value(row),
            0,
        )?),
        SearchAttributeType::KeywordList => {
            let items = column.as_list::<i32>().value(row);
            let items = items.as_string::<i32>();
            AttributeValue::KeywordList(
                (0..items.len())
                    .map(|i| items.is_valid(i).then(|| items.value(i).to_owned()))
                    .collect::<Option<_>>()
                    .ok_or_else(|| SegmentError::corrupted("a KeywordList holds a null item"))?,
            )
        }
    })
}
