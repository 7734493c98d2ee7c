//! What prunes visibility candidates before any file is opened ([`Prune`]: the query plan in
//! the terms of file names), and reading the survivors.

use std::collections::HashSet;
use std::io;
use std::ops::Bound;
use std::path::{Path, PathBuf};

use archiver_core::{Error, Result, VisibilityRecord};
use jiff::Timestamp;
use jiff::civil::Date;
use visibility_query::{Plan, TimeRange};

use crate::error::{io_error, open_error};
use crate::fsio;
use crate::naming::short_hash;

use super::indexed;
use super::visfile;
use super::visname::{self, VisName};

/// The plan, in the terms of file names: hashed equality sets and nanosecond ranges.
#[derive(Debug)]
pub(crate) struct Prune {
    close: TimeRange,
    start: TimeRange,
    workflow_ids: Option<HashSet<String>>,
    workflow_types: Option<HashSet<String>>,
    run_ids: Option<HashSet<String>>,
    statuses: Option<HashSet<i32>>,
}

fn hashed(values: &Option<std::collections::BTreeSet<String>>) -> Option<HashSet<String>> {
    values
        .as_ref()
        .map(|set| set.iter().map(|v| short_hash(v)).collect())
}

/// Whether `t` lies before the range's start.
fn before(range: &TimeRange, t: Timestamp) -> bool {
    match range.start {
        Bound::Included(s) => t < s,
        Bound::Excluded(s) => t <= s,
        Bound::Unbounded => false,
    }
}

/// Whether `t` lies after the range's end.
fn after(range: &TimeRange, t: Timestamp) -> bool {
    match range.end {
        Bound::Included(e) => t > e,
        Bound::Excluded(e) => t >= e,
        Bound::Unbounded => false,
    }
}

impl Prune {
    pub(crate) fn new(plan: &Plan) -> Self {
        Self {
            close: plan.close_time,
            start: plan.start_time,
            workflow_ids: hashed(&plan.workflow_ids),
            workflow_types: hashed(&plan.workflow_types),
            run_ids: hashed(&plan.run_ids),
            statuses: plan
                .statuses
                .as_ref()
                .map(|set| set.iter().map(|s| s.as_i32()).collect()),
        }
    }

    /// Whether records closed on `day` (UTC) can be in the close-time range.
    pub(crate) fn admits_day(&self, day: Date) -> bool {
        let Some((first, end)) = visname::day_range_nanos(day) else {
            return true;
        };
        let (Ok(first), Ok(last)) = (
            Timestamp::from_nanosecond(first),
            Timestamp::from_nanosecond(end - 1),
        ) else {
            return true;
        };
        !after(&self.close, first) && !before(&self.close, last)
    }

    /// Whether a record with this name can match.
    pub(crate) fn admits(&self, name: &VisName) -> bool {
        fn allowed<T: Eq + std::hash::Hash>(set: &Option<HashSet<T>>, v: &T) -> bool {
            set.as_ref().is_none_or(|s| s.contains(v))
        }
        let in_range = |range: &TimeRange, nanos: i128| {
            range.is_unbounded()
                || Timestamp::from_nanosecond(nanos).is_ok_and(|t| range.contains(t))
        };
        allowed(&self.statuses, &name.status)
            && allowed(&self.workflow_ids, &name.workflow_id_hash)
            && allowed(&self.workflow_types, &name.workflow_type_hash)
            && allowed(&self.run_ids, &name.run_id_hash)
            && in_range(&self.close, name.close_nanos)
            && in_range(&self.start, name.start_nanos)
    }
}

/// Entries of `dir` as (name, path); a missing directory is empty; non-UTF-8 names are strays.
pub(crate) fn list(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    entries(dir).map_err(|err| io_error("list", dir, err))
}

/// [`list`], with the file system's error.
pub(crate) fn entries(dir: &Path) -> io::Result<Vec<(String, PathBuf)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        match entry.file_name().into_string() {
            Ok(name) => out.push((name, entry.path())),
            Err(_) => {
                tracing::warn!(path = %entry.path().display(), "skipping a stray entry in the visibility archive")
            }
        }
    }
    Ok(out)
}

/// Reads one record and checks it against its file name. `Ok(None)` when the file is gone (a
/// dangling index pointer, a record removed since the listing); [`Error::Corrupted`] naming the
/// file when it is damaged, not a regular file, or holds another record than its name says:
/// skipping it would make the page silently short.
pub(crate) fn read_record(path: &Path) -> Result<Option<VisibilityRecord>> {
    let file = match fsio::open_regular(path, false) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(open_error(path, err)),
    };
    let corrupted = |reason: String| Error::corrupted(path.display().to_string(), reason);
    let read = file
        .metadata()
        .and_then(|meta| visfile::read(&file, meta.len()));
    let record = match read {
        Ok(Ok(record)) => record,
        Ok(Err(reason)) => return Err(corrupted(reason)),
        Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => {
            return Err(corrupted("the file is shorter than its header says".into()));
        }
        Err(err) => return Err(io_error("read", path, err)),
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(VisName::parse);
    if name.as_ref() != Some(&VisName::new(indexed(&record))) {
        return Err(corrupted(
            "the record does not match its file name (a misplaced copy?)".into(),
        ));
    }
    Ok(Some(record))
}

#[cfg(test)]
mod tests {
    use super::*;
    use visibility_query::{SearchAttributes, compile};

    fn prune(filter: &str) -> Prune {
        Prune::new(&compile(filter, &SearchAttributes::new()).unwrap().plan())
    }

    fn name(workflow_id: &str, workflow_type: &str, close: &str, status: i32) -> VisName {
        VisName::new(visname::Indexed {
            namespace_id: "ns",
            workflow_id,
            run_id: "run",
            workflow_type,
            close_time: close.parse().unwrap(),
            start_time: "2024-01-01T00:00:00Z".parse().unwrap(),
            status,
        })
    }

    fn day(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn close_time_ranges_prune_whole_days() {
        let p = prune("CloseTime >= '2024-03-02T00:00:00Z' AND CloseTime < '2024-03-04T00:00:00Z'");
        assert!(!p.admits_day(day("2024-03-01")));
        assert!(p.admits_day(day("2024-03-02")));
        assert!(p.admits_day(day("2024-03-03")));
        assert!(!p.admits_day(day("2024-03-04")), "the end is excluded");
        let p = prune("CloseTime > '2024-03-02T23:59:59.999999999Z'");
        assert!(
            !p.admits_day(day("2024-03-02")),
            "nothing of that day is after its last instant"
        );
        assert!(p.admits_day(day("2024-03-03")));
        assert!(prune("WorkflowType = 'x'").admits_day(day("1999-01-01")));
    }

    #[test]
    fn names_are_pruned_by_every_indexed_field() {
        let file = name("wf-1", "payments", "2024-03-02T10:00:00Z", 2);
        assert!(prune("WorkflowId = 'wf-1'").admits(&file));
        assert!(!prune("WorkflowId = 'wf-2'").admits(&file));
        assert!(prune("WorkflowId IN ('wf-2', 'wf-1')").admits(&file));
        assert!(!prune("WorkflowType = 'refunds'").admits(&file));
        assert!(!prune("RunId = 'other'").admits(&file));
        assert!(prune("ExecutionStatus = 'Completed'").admits(&file));
        assert!(!prune("ExecutionStatus = 'Failed'").admits(&file));
        assert!(!prune("CloseTime > '2024-03-02T10:00:00Z'").admits(&file));
        assert!(prune("CloseTime >= '2024-03-02T10:00:00Z'").admits(&file));
        assert!(!prune("StartTime > '2024-06-01T00:00:00Z'").admits(&file));
        // What the plan cannot use constrains nothing; the full filter checks the record later.
        assert!(prune("WorkflowId = 'wf-2' OR HistoryLength > 3").admits(&file));
    }
}
