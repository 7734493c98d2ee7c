//! Hive-style partition paths, so engines derive `namespace_id` and `close_date` from them.

use std::collections::{BTreeMap, HashMap};

use archiver_core::VisibilityRecord;
use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::SegmentError;
use super::encode::segment_order;

/// The longest escaped namespace id a partition directory takes: a path segment must stay
/// under the 255 bytes file systems allow, with room for the `namespace_id=` prefix.
const MAX_ESCAPED: usize = 200;

/// The partition of records of `namespace_id` closed on `close_time`'s UTC day:
/// `namespace_id=<escaped id>/close_date=<YYYY-MM-DD>`.
///
/// The id is escaped as Hive escapes partition values (`%` and hex for `/`, `=`, `%`, `:`,
/// control characters and the other characters Hive escapes), so an id never becomes more than
/// one path segment and engines read the id back from the path.
///
/// ```
/// use archiver_kit::segment::partition_path;
/// let close = "2026-12-01T23:59:59Z".parse().unwrap();
/// assert_eq!(partition_path("ns/1", close).unwrap(), "namespace_id=ns%2F1/close_date=2026-12-01");
/// ```
pub fn partition_path(namespace_id: &str, close_time: Timestamp) -> Result<String, SegmentError> {
    if namespace_id.is_empty() {
        return Err(SegmentError::InvalidInput(
            "a partition needs a namespace id".into(),
        ));
    }
    let mut escaped = String::with_capacity(namespace_id.len());
    for c in namespace_id.chars() {
        if needs_escape(c) {
            escaped.push_str(&format!("%{:02X}", c as u32));
        } else {
            escaped.push(c);
        }
    }
    if escaped.len() > MAX_ESCAPED {
        return Err(SegmentError::InvalidInput(format!(
            "namespace id escapes to {} bytes; a partition directory takes at most {MAX_ESCAPED}",
            escaped.len()
        )));
    }
    let day = TimeZone::UTC.to_datetime(close_time).date();
    Ok(format!("namespace_id={escaped}/close_date={day}"))
}

/// Groups records into their partitions ([`partition_path`]), one record per run: a run
/// archived more than once (a retried or repeated archive) keeps its last record, so segments
/// never hold duplicates. Each partition's records come sorted as a segment holds them
/// (`CloseTime`, then workflow id, then run id).
///
/// ```
/// use archiver_kit::segment::partition_records;
/// let mut records = archiver_core::testing::test_records("ns", 3);
/// records.push(records[1].clone()); // archived again
/// let partitions = partition_records(records).unwrap();
/// assert_eq!(partitions["namespace_id=ns/close_date=2026-01-01"].len(), 3);
/// ```
pub fn partition_records(
    records: Vec<VisibilityRecord>,
) -> Result<BTreeMap<String, Vec<VisibilityRecord>>, SegmentError> {
    // Records are large: they are hashed and sorted by index and each moved once, at the end.
    let mut kept: Vec<usize> = {
        let mut last: HashMap<(&str, &str, &str), usize> = HashMap::with_capacity(records.len());
        for (i, r) in records.iter().enumerate() {
            last.insert((&r.namespace_id, &r.workflow_id, &r.run_id), i);
        }
        last.into_values().collect()
    };
    // Namespace, then segment order: each partition (namespace, close day) is one run of it.
    kept.sort_unstable_by(|&a, &b| {
        let (a, b) = (&records[a], &records[b]);
        a.namespace_id
            .cmp(&b.namespace_id)
            .then_with(|| segment_order(a, b))
    });
    let mut slots: Vec<Option<VisibilityRecord>> = records.into_iter().map(Some).collect();
    let mut partitions: BTreeMap<String, Vec<VisibilityRecord>> = BTreeMap::new();
    // The partition being filled: its day, path and records.
    let mut open: Option<(i64, String, Vec<VisibilityRecord>)> = None;
    for i in kept {
        let record = slots[i].take().expect("each run is kept once");
        let day = record.close_time.as_second().div_euclid(86_400);
        match &mut open {
            Some((d, _, rows)) if *d == day && rows[0].namespace_id == record.namespace_id => {
                rows.push(record);
            }
            _ => {
                let path = partition_path(&record.namespace_id, record.close_time)?;
                if let Some((_, path, rows)) = open.replace((day, path, vec![record])) {
                    partitions.insert(path, rows);
                }
            }
        }
    }
    if let Some((_, path, rows)) = open {
        partitions.insert(path, rows);
    }
    Ok(partitions)
}

/// Hive's `FileUtils.escapePathName` set.
fn needs_escape(c: char) -> bool {
    matches!(
        c,
        '\u{0}'
            ..='\u{1f}'
                | '"'
                | '#'
                | '%'
                | '\''
                | '*'
                | '/'
                | ':'
                | '='
                | '?'
                | '\\'
                | '\u{7f}'
                | '{'
                | '['
                | ']'
                | '^'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_stay_one_segment_and_long_ones_are_refused() {
        let t: Timestamp = "2026-01-02T00:00:00Z".parse().unwrap();
        assert_eq!(
            partition_path("../a=b\n", t).unwrap(),
            "namespace_id=..%2Fa%3Db%0A/close_date=2026-01-02"
        );
        assert_eq!(
            partition_path("..", t).unwrap(),
            "namespace_id=../close_date=2026-01-02"
        );
        assert!(partition_path("", t).is_err());
        assert!(matches!(
            partition_path(&"/".repeat(100), t),
            Err(SegmentError::InvalidInput(_))
        ));
    }

    proptest::proptest! {
        /// Against the plain statement of the rule: the last record of each run, grouped by
        /// partition path, each group in segment order.
        #[test]
        fn partitions_keep_the_last_record_of_each_run_in_segment_order(
            picks in proptest::collection::vec((0usize..3, 0usize..6, 0i64..4, 0i64..3, 0u8..4), 0..60)
        ) {
            let base: Timestamp = "2026-01-01T23:00:00Z".parse().unwrap();
            let template = archiver_core::testing::test_records("ns", 1).remove(0);
            let records: Vec<VisibilityRecord> = picks
                .iter()
                .enumerate()
                .map(|(i, &(ns, run, hours, wf, note))| VisibilityRecord {
                    namespace_id: format!("ns-{ns}"),
                    workflow_id: format!("wf-{wf}"),
                    run_id: format!("run-{run}"),
                    close_time: base + jiff::SignedDuration::from_hours(hours),
                    history_length: i as i64,
                    workflow_type_name: format!("t-{note}"),
                    ..template.clone()
                })
                .collect();
            let mut last: HashMap<(String, String, String), VisibilityRecord> = HashMap::new();
            for r in &records {
                last.insert((r.namespace_id.clone(), r.workflow_id.clone(), r.run_id.clone()), r.clone());
            }
            let mut expected: BTreeMap<String, Vec<VisibilityRecord>> = BTreeMap::new();
            for r in last.into_values() {
                expected.entry(partition_path(&r.namespace_id, r.close_time).unwrap()).or_default().push(r);
            }
            for rows in expected.values_mut() {
                rows.sort_by(segment_order);
            }
            proptest::prop_assert_eq!(partition_records(records).unwrap(), expected);
        }
    }
}
