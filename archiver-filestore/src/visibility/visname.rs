//! Visibility record file names: the index a query prunes with before opening any file.
//!
//! ```text
//! <YYYY-MM-DD of close time, UTC>/<close ns>_<start ns>_<status>_<h(workflow id)>_<h(type)>_<h(run id)>_<identity>.vis
//! ```
//! Nanoseconds since the Unix epoch are zero-padded to 20 digits (fixed width, so names sort by
//! close time). `status` is the protobuf number; `h` is an 8-hex-digit digest; `identity` is 32 hex
//! digits of a digest of (namespace id, workflow id, run id): the same record archived twice gets
//! the same name and replaces itself.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::naming::{digest_parts, hex, short_hash};

/// File extension of records.
const EXTENSION: &str = ".vis";

/// What a record's file name says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VisName {
    pub(crate) close_nanos: i128,
    pub(crate) start_nanos: i128,
    pub(crate) status: i32,
    pub(crate) workflow_id_hash: String,
    pub(crate) workflow_type_hash: String,
    pub(crate) run_id_hash: String,
    pub(crate) identity: String,
}

/// The indexed fields of a record, borrowed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Indexed<'a> {
    pub(crate) namespace_id: &'a str,
    pub(crate) workflow_id: &'a str,
    pub(crate) run_id: &'a str,
    pub(crate) workflow_type: &'a str,
    pub(crate) close_time: Timestamp,
    pub(crate) start_time: Timestamp,
    pub(crate) status: i32,
}

impl VisName {
    /// The name of a record with these fields.
    pub(crate) fn new(fields: Indexed<'_>) -> Self {
        let identity = digest_parts(&[fields.namespace_id, fields.workflow_id, fields.run_id]);
        Self {
            close_nanos: fields.close_time.as_nanosecond(),
            start_nanos: fields.start_time.as_nanosecond(),
            status: fields.status,
            workflow_id_hash: short_hash(fields.workflow_id),
            workflow_type_hash: short_hash(fields.workflow_type),
            run_id_hash: short_hash(fields.run_id),
            identity: hex(&identity[..16]),
        }
    }

    /// The file name.
    pub(crate) fn file_name(&self) -> String {
        format!(
            "{:020}_{:020}_{}_{}_{}_{}_{}{EXTENSION}",
            self.close_nanos,
            self.start_nanos,
            self.status,
            self.workflow_id_hash,
            self.workflow_type_hash,
            self.run_id_hash,
            self.identity
        )
    }

    /// Parses a file name; `None` for anything that is not a record name.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        let stem = name.strip_suffix(EXTENSION)?;
        let mut parts = stem.split('_');
        let close_nanos = parts.next()?.parse().ok()?;
        let start_nanos = parts.next()?.parse().ok()?;
        let status = parts.next()?.parse().ok()?;
        let mut hash = |len: usize| {
            parts
                .next()
                .filter(|h| {
                    h.len() == len && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                })
                .map(str::to_owned)
        };
        let parsed = Self {
            close_nanos,
            start_nanos,
            status,
            workflow_id_hash: hash(8)?,
            workflow_type_hash: hash(8)?,
            run_id_hash: hash(8)?,
            identity: hash(32)?,
        };
        parts.next().is_none().then_some(parsed)
    }
}

/// The day directory (UTC calendar date of the close time) a record lives in.
pub(crate) fn day_dir(close_time: Timestamp) -> String {
    close_time
        .to_zoned_datetime(TimeZone::UTC)
        .date()
        .to_string()
}

/// Parses a day directory name.
pub(crate) fn parse_day_dir(name: &str) -> Option<Date> {
    let date: Date = name.parse().ok()?;
    // Only the canonical spelling is ours.
    (date.to_string() == name).then_some(date)
}

/// The close-time range `[start, end)` a day directory covers, in nanoseconds.
pub(crate) fn day_range_nanos(day: Date) -> Option<(i128, i128)> {
    let start = day
        .to_zoned_datetime(TimeZone::UTC)
        .ok()?
        .timestamp()
        .as_nanosecond();
    Some((start, start + 86_400 * 1_000_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(close: &str) -> Indexed<'static> {
        Indexed {
            namespace_id: "ns",
            workflow_id: "wf/1",
            run_id: "run",
            workflow_type: "Payments",
            close_time: close.parse().unwrap(),
            start_time: "2024-01-01T00:00:00Z".parse().unwrap(),
            status: 3,
        }
    }

    #[test]
    fn name_round_trips() {
        let name = VisName::new(fields("2024-05-06T07:08:09.123456789Z"));
        let file = name.file_name();
        assert!(
            file.starts_with("01714979289123456789_01704067200000000000_3_"),
            "{file}"
        );
        assert!(file.len() < 255);
        assert_eq!(VisName::parse(&file), Some(name));
    }

    #[test]
    fn identity_decides_the_name() {
        let a = VisName::new(fields("2024-05-06T00:00:00Z"));
        assert_eq!(a, VisName::new(fields("2024-05-06T00:00:00Z")));
        let other_run = VisName::new(Indexed {
            run_id: "run2",
            ..fields("2024-05-06T00:00:00Z")
        });
        assert_ne!(a.identity, other_run.identity);
        assert_ne!(a.run_id_hash, other_run.run_id_hash);
        assert_eq!(a.workflow_id_hash, other_run.workflow_id_hash);
    }

    #[test]
    fn times_before_the_epoch_round_trip() {
        let name = VisName::new(fields("1969-12-31T23:59:59Z"));
        assert_eq!(VisName::parse(&name.file_name()), Some(name));
    }

    #[test]
    fn strays_do_not_parse() {
        for stray in [
            "notes.txt",
            ".tmp-x",
            "1_2_3.vis",
            "1_2_3_zzzzzzzz_00000000_00000000_00000000000000000000000000000000.vis",
            "1_2_3_00000000_00000000_00000000_00000000000000000000000000000000_extra.vis",
            "1_2_3_00000000_00000000_00000000_00000000000000000000000000000000.json",
        ] {
            assert_eq!(VisName::parse(stray), None, "{stray}");
        }
        assert!(
            VisName::parse("1_2_3_00000000_00000000_00000000_00000000000000000000000000000000.vis")
                .is_some()
        );
    }

    #[test]
    fn day_dirs_are_utc_dates_and_cover_whole_days() {
        let close: Timestamp = "2024-05-06T23:30:00-02:00".parse().unwrap();
        assert_eq!(day_dir(close), "2024-05-07");
        let day = parse_day_dir("2024-05-07").unwrap();
        let (start, end) = day_range_nanos(day).unwrap();
        assert!(start <= close.as_nanosecond() && close.as_nanosecond() < end);
        assert_eq!(parse_day_dir("2024-5-7"), None);
        assert_eq!(parse_day_dir("junk"), None);
    }
}
