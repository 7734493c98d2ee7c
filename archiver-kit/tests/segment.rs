//! Segments give back exactly what was written, refuse damaged bytes, and carry what engines
//! prune by (statistics, Bloom filters, sort order).

use std::collections::BTreeMap;

use archiver_core::VisibilityRecord;
use archiver_kit::segment::{
    SegmentError, SegmentOptions, SegmentWriter, decode_segment, encode_segment,
};
use bytes::Bytes;
use jiff::Timestamp;
use parquet::file::properties::ReaderProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::serialized_reader::ReadOptionsBuilder;
use proptest::prelude::*;
use visibility_query::{ExecutionStatus, SearchAttributeType as T, SearchAttributes};

/// One declared attribute of every type, plus names engines would confuse with system columns.
fn attributes() -> SearchAttributes {
    SearchAttributes::new()
        .with_custom("Kw", T::Keyword)
        .with_custom("Txt", T::Text)
        .with_custom("Num", T::Int)
        .with_custom("Dbl", T::Double)
        .with_custom("Flag", T::Bool)
        .with_custom("When", T::Datetime)
        .with_custom("Tags", T::KeywordList)
        .with_custom("memo", T::Keyword)
}

fn time() -> impl Strategy<Value = Timestamp> {
    // Year 1 to 9000, to the nanosecond: before and after the epoch.
    (-62_135_596_800i64..221_845_392_000, 0i32..1_000_000_000)
        .prop_map(|(s, n)| Timestamp::new(s, n).expect("in range"))
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9-]{1,12}",
        any::<String>().prop_filter("non-empty", |s| !s.is_empty()),
        Just("\u{0}'\"\\%_".to_owned()),
    ]
}

/// A stored value for an attribute: canonical for its type, non-canonical, or unparsable.
fn attribute_value(name: &'static str) -> BoxedStrategy<String> {
    let canonical: BoxedStrategy<String> = match name {
        "Num" => any::<i64>().prop_map(|n| n.to_string()).boxed(),
        "Dbl" => any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(|x| x.to_string())
            .boxed(),
        "Flag" => any::<bool>().prop_map(|b| b.to_string()).boxed(),
        "When" => time().prop_map(|t| t.to_string()).boxed(),
        "Tags" => prop::collection::vec(text(), 0..4)
            .prop_map(|v| serde_json::to_string(&v).unwrap())
            .boxed(),
        _ => text().boxed(),
    };
    prop_oneof![
        4 => canonical,
        1 => Just(" 042 ".to_owned()),
        1 => Just("TRUE".to_owned()),
        1 => Just("[\"a\", \"b\"]".to_owned()),
        1 => text(),
    ]
    .boxed()
}

fn search_attributes() -> impl Strategy<Value = BTreeMap<String, String>> {
    let names = [
        "Kw",
        "Txt",
        "Num",
        "Dbl",
        "Flag",
        "When",
        "Tags",
        "memo",
        "Undeclared",
    ];
    names
        .map(|n| prop::option::of(attribute_value(n)).prop_map(move |v| (n, v)))
        .prop_map(|pairs| {
            pairs
                .into_iter()
                .filter_map(|(n, v)| Some((n.to_owned(), v?)))
                .collect()
        })
}

fn memo() -> impl Strategy<Value = Option<serde_json::Value>> {
    prop::option::of(prop_oneof![
        text().prop_map(serde_json::Value::String),
        (text(), any::<i64>()).prop_map(|(k, v)| serde_json::json!({ k: v, "nested": [1, "x"] })),
    ])
}

fn status() -> impl Strategy<Value = ExecutionStatus> {
    prop::sample::select(vec![
        ExecutionStatus::Completed,
        ExecutionStatus::Failed,
        ExecutionStatus::Canceled,
        ExecutionStatus::Terminated,
        ExecutionStatus::ContinuedAsNew,
        ExecutionStatus::TimedOut,
    ])
}

prop_compose! {
    fn record()(
        ids in (text(), text(), text(), text(), text()),
        times in (time(), time(), time()),
        status in status(),
        history_length in any::<i64>(),
        memo in memo(),
        search_attributes in search_attributes(),
        uri in prop_oneof![Just(String::new()), text()],
        duration in prop::option::of(any::<i64>()),
    ) -> VisibilityRecord {
        VisibilityRecord {
            namespace_id: ids.0,
            namespace: ids.1,
            workflow_id: ids.2,
            run_id: ids.3,
            workflow_type_name: ids.4,
            start_time: times.0,
            execution_time: times.1,
            close_time: times.2,
            status,
            history_length,
            memo,
            search_attributes,
            history_archival_uri: uri,
            execution_duration_nanos: duration,
        }
    }
}

fn sorted(mut records: Vec<VisibilityRecord>) -> Vec<VisibilityRecord> {
    records.sort_by(|a, b| {
        (a.close_time, &a.workflow_id, &a.run_id).cmp(&(b.close_time, &b.workflow_id, &b.run_id))
    });
    records
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_segment_gives_back_exactly_the_records_written(
        records in prop::collection::vec(record(), 0..40),
        rows in 1usize..16,
    ) {
        let options = SegmentOptions::default().with_row_group_rows(rows);
        let bytes = encode_segment(records.clone(), &attributes(), &options).unwrap();
        prop_assert_eq!(decode_segment(Bytes::from(bytes)).unwrap(), sorted(records));
    }
}

fn sample_records(count: usize) -> Vec<VisibilityRecord> {
    archiver_core::testing::test_records("ns-id", count)
}

fn sample_attributes() -> SearchAttributes {
    archiver_core::testing::search_attributes()
}

#[test]
fn every_bit_flip_and_truncation_is_refused_or_harmless() {
    let records = sample_records(12);
    let options = SegmentOptions::default().with_row_group_rows(5);
    let bytes = encode_segment(records.clone(), &sample_attributes(), &options).unwrap();
    let (mut refused, mut same, mut changed) = (0, Vec::new(), Vec::new());
    let mut judge = |damaged: Vec<u8>, what: String| match decode_segment(Bytes::from(damaged)) {
        Err(e) => {
            assert!(
                matches!(
                    e,
                    SegmentError::Corrupted(_) | SegmentError::UnsupportedVersion(_)
                ),
                "{what}: {e}"
            );
            assert!(!e.is_retryable());
            refused += 1;
        }
        Ok(decoded) if decoded == records => same.push(what),
        Ok(_) => changed.push(what),
    };
    // One flip in every third byte (its bit chosen by position): every region of the file is
    // hit many times, in a time a debug build of Parquet allows.
    for byte in (0..bytes.len()).step_by(3) {
        let mut damaged = bytes.clone();
        damaged[byte] ^= 1 << (byte * 5 % 8);
        judge(damaged, format!("byte {byte}"));
    }
    for len in (0..bytes.len()).step_by(7) {
        judge(bytes[..len].to_vec(), format!("truncated to {len}"));
    }
    eprintln!(
        "{} bytes: {refused} mutations refused, {} harmless (the leading magic and the footer's \
         statistics, which the manifest's checksum covers), {} changed",
        bytes.len(),
        same.len(),
        changed.len()
    );
    assert!(
        changed.is_empty(),
        "decoded to changed records: {changed:?}"
    );
    assert!(refused > bytes.len() / 6, "most flips land in checked data");
}

#[test]
fn records_out_of_close_time_order_are_refused_by_the_writer() {
    let records = sample_records(3);
    let mut writer = SegmentWriter::new(&sample_attributes(), &SegmentOptions::default()).unwrap();
    writer.push(&records[1]).unwrap();
    assert!(matches!(
        writer.push(&records[0]),
        Err(SegmentError::OutOfOrder { row: 1 })
    ));
}

#[test]
fn the_file_carries_what_engines_prune_by() {
    let records = sample_records(100);
    let options = SegmentOptions::default().with_row_group_rows(25);
    let bytes = encode_segment(records, &sample_attributes(), &options).unwrap();
    let options = ReadOptionsBuilder::new()
        .with_reader_properties(
            ReaderProperties::builder()
                .set_read_bloom_filter(true)
                .build(),
        )
        .build();
    let reader = SerializedFileReader::new_with_options(Bytes::from(bytes), options).unwrap();
    let metadata = reader.metadata();
    assert_eq!(metadata.num_row_groups(), 4);
    let schema = metadata.file_metadata().schema_descr();
    let column = |name: &str| {
        (0..schema.num_columns())
            .find(|i| schema.column(*i).path().string() == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    for g in 0..metadata.num_row_groups() {
        let group = metadata.row_group(g);
        let sorting = group.sorting_columns().expect("sorting columns declared");
        assert_eq!(sorting[0].column_idx as usize, column("CloseTime"));
        for name in ["WorkflowId", "RunId", "WorkflowType"] {
            let chunk = group.column(column(name));
            assert!(
                chunk.bloom_filter_offset().is_some(),
                "{name} has a Bloom filter"
            );
            assert!(chunk.statistics().is_some(), "{name} has statistics");
        }
        let row_group = reader.get_row_group(g).unwrap();
        let bloom = row_group
            .get_column_bloom_filter(column("WorkflowId"))
            .expect("Bloom filter read back");
        // Rows 25g..25g+25 hold wf-25g..: the filter has them and not the next group's.
        assert!(bloom.check(&format!("wf-{}", 25 * g).as_str()));
    }
    for name in [
        "CustomKeyword",
        "CustomInt",
        "HistoryLength",
        "ExecutionStatus",
    ] {
        column(name);
    }
}

/// A reader after a few rows fetches only the pages holding them (and checks only those): the
/// offset index says where each page lies, the page checksums vouch for each.
#[test]
fn a_few_rows_are_read_from_their_pages_alone() {
    use archiver_kit::segment::{SegmentFooter, SegmentTail, SparseFile, read_rows};

    // Memos that do not compress, so pages are worth skipping.
    let mut records = sample_records(5000);
    for (i, record) in records.iter_mut().enumerate() {
        let mut state = i as u64 + 1;
        let noise: String = (0..32)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                format!("{:02x}", state >> 56)
            })
            .collect();
        record.memo = Some(serde_json::json!({ "noise": noise }));
    }
    let options = SegmentOptions::default().with_row_group_rows(4096);
    let bytes = encode_segment(records.clone(), &sample_attributes(), &options).unwrap();
    let tail = SegmentTail::of(&bytes).unwrap();
    assert!(tail.page_index.is_some(), "the segment has an offset index");
    let whole = sorted(records);
    // Only the tail is fetched first, as a remote reader would.
    let fetch = |file: &mut SparseFile, ranges: &[(u64, u64)], source: &[u8]| {
        for &(offset, len) in ranges {
            let bytes = Bytes::copy_from_slice(&source[offset as usize..(offset + len) as usize]);
            file.insert(offset, bytes);
        }
        ranges.iter().map(|(_, len)| len).sum::<u64>()
    };
    let read =
        |source: &[u8], rows: &[usize]| -> Result<(Vec<VisibilityRecord>, u64), SegmentError> {
            let mut file = SparseFile::new(source.len() as u64);
            let start = tail.metadata_start();
            fetch(&mut file, &[(start, source.len() as u64 - start)], source);
            let footer = SegmentFooter::read(&file, Some(&tail))?;
            let columns = footer.all_columns();
            let ranges = footer.ranges_to_fetch(&file, 0, &columns, Some(rows))?;
            let fetched = fetch(&mut file, &ranges, source);
            Ok((read_rows(&file, &footer, 0, rows, |_| true)?, fetched))
        };
    let (found, _) = read(&bytes, &[10, 3000]).unwrap();
    assert_eq!(found, vec![whole[10].clone(), whole[3000].clone()]);
    let (found, fetched) = read(&bytes, &[3000]).unwrap();
    assert_eq!(found, vec![whole[3000].clone()]);
    let footer =
        SegmentFooter::read(&SparseFile::whole(bytes.clone().into()), Some(&tail)).unwrap();
    let group = footer.metadata().row_group(0).compressed_size() as u64;
    assert!(
        fetched * 2 < group,
        "fetched {fetched} bytes of a {group}-byte row group for one row"
    );

    // A flipped byte in a page that holds neither row is not read; in one that does, it is
    // refused.
    let units = |c: usize| {
        footer
            .metadata()
            .page_index_for_row_group(0)
            .page_locations(c)
            .cloned()
            .unwrap_or_default()
    };
    let memo = 12; // Memo: plain strings
    let pages = units(memo);
    assert!(pages.len() >= 4, "{} pages", pages.len());
    let middle = |p: &parquet::file::page_index::offset_index::PageLocation| {
        (p.offset + i64::from(p.compressed_page_size) / 2) as usize
    };
    let holding = |row: i64| {
        pages
            .iter()
            .rposition(|p| p.first_row_index <= row)
            .unwrap()
    };
    assert!(holding(10) + 1 < holding(3000));
    let mut damaged = bytes.clone();
    damaged[middle(&pages[holding(10) + 1])] ^= 0x10; // holds neither row
    assert_eq!(
        read(&damaged, &[10, 3000]).unwrap().0.len(),
        2,
        "an unread page is not checked"
    );
    let mut damaged = bytes.clone();
    damaged[middle(&pages[holding(3000)])] ^= 0x10; // holds row 3000
    assert!(matches!(
        read(&damaged, &[10, 3000]),
        Err(SegmentError::Corrupted(_))
    ));
}

/// Custom Keyword columns carry Bloom filters: an equality on one skips the row groups that
/// cannot hold the value; a keyword the segment has no column for rules nothing out.
#[test]
fn keyword_equalities_prune_row_groups_by_bloom_filter() {
    use archiver_kit::segment::{SegmentTail, query_segment};

    let mut records = sample_records(200);
    records[42]
        .search_attributes
        .insert("CustomKeyword".into(), "violet".into());
    records[43]
        .search_attributes
        .insert("Undeclared".into(), "violet".into());
    let options = SegmentOptions::default().with_row_group_rows(10);
    let bytes =
        Bytes::from(encode_segment(records.clone(), &sample_attributes(), &options).unwrap());
    let tail = SegmentTail::of(&bytes).unwrap();
    let run = |filter: &str, attributes: &SearchAttributes| {
        let query = visibility_query::compile(filter, attributes).unwrap();
        query_segment(bytes.clone(), &tail, &query).unwrap()
    };
    let found = run("CustomKeyword = 'violet'", &sample_attributes());
    assert_eq!(found.records, vec![records[42].clone()]);
    assert!(
        found.row_groups_read <= 3,
        "{} of {} row groups read",
        found.row_groups_read,
        found.row_groups
    );
    let later = sample_attributes().with_custom("Undeclared", T::Keyword);
    let found = run("Undeclared = 'violet'", &later);
    assert_eq!(found.records, vec![records[43].clone()]);
    assert_eq!(
        found.row_groups_read, found.row_groups,
        "no column, no pruning"
    );
}
