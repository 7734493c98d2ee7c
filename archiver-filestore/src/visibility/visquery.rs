//! Answering a visibility query: enumerate candidates through the cheapest index the plan
//! allows, read them in result order, and stop once the page is decided.
//!
//! - `WorkflowId = '...'` (or `IN`) in a namespace whose workflow index is complete: the
//!   pointers of those workflows ([`visindex`]); no day directory is listed.
//! - Otherwise the day directories the plan's close-time range admits. When the query is
//!   ordered by `CloseTime` (the default, `CloseTime DESC`), days are visited in that order,
//!   days before the page token are not listed, and listing stops once the page is decided.
//!
//! Within what is listed, names are pruned by the plan and sorted by the query's leading time;
//! files are opened in that order until core's [`PageCutoff`] says the page is decided
//! (`page_size + 1` matches past the token, plus ties). Queries ordered by anything else read
//! every admitted record. Either way [`page_of`] picks the page, so results are the same as a
//! full scan's.

use std::collections::VecDeque;
use std::io;
use std::path::{Path, PathBuf};

use archiver_core::visibility::{PageCutoff, TimeOrder, page_of};
use archiver_core::{Error, QueryRequest, QueryResponse, Result, VisibilityRecord};
use visibility_query::{CheckedQuery, Plan};

use crate::error::io_error;
use crate::fsio;

use super::STAGING_DIR;
use super::scan::{Prune, entries, list, read_record};
use super::visindex;
use super::visname::{self, VisName};

/// Pointer lookups beyond this many workflow ids scan days instead.
const MAX_INDEX_LOOKUPS: usize = 64;

/// The page of `request` from the records under `namespace_dir`. Blocking.
pub(crate) fn run(
    namespace_dir: &Path,
    plan: &Plan,
    query: &CheckedQuery,
    request: &QueryRequest,
) -> Result<QueryResponse> {
    let prune = Prune::new(plan);
    let cutoff = PageCutoff::new(query, request);
    let groups = match plan.workflow_ids.as_ref() {
        Some(ids) if ids.len() <= MAX_INDEX_LOOKUPS && visindex::is_complete(namespace_dir) => {
            from_index(namespace_dir, ids, &prune, &cutoff)?
        }
        _ => day_groups(namespace_dir, &prune, &cutoff)?,
    };
    let mut failure = None;
    let candidates = Candidates {
        prune: &prune,
        cutoff,
        groups,
        current: Vec::new().into_iter(),
        failure: &mut failure,
    };
    let response = page_of(candidates, query, request)?;
    match failure {
        Some(err) => Err(err),
        None => Ok(response),
    }
}

/// A file that may hold a matching record, and its position in result order.
#[derive(Debug)]
struct Candidate {
    path: PathBuf,
    rank: i128,
}

/// Candidates still to enumerate, in result order.
#[derive(Debug)]
enum Group {
    /// A day directory not listed yet; its records rank from `first_rank` on.
    Day { path: PathBuf, first_rank: i128 },
    /// Candidates already known (not yet sorted).
    Ready(Vec<Candidate>),
}

fn candidate(cutoff: &PageCutoff<'_>, path: PathBuf, name: &VisName) -> Candidate {
    Candidate {
        path,
        rank: cutoff.rank(name.close_nanos, name.start_nanos),
    }
}

/// The records the workflow index points to.
fn from_index(
    namespace_dir: &Path,
    workflow_ids: &std::collections::BTreeSet<String>,
    prune: &Prune,
    cutoff: &PageCutoff<'_>,
) -> Result<VecDeque<Group>> {
    let mut found = Vec::new();
    for workflow_id in workflow_ids {
        let pointers = visindex::lookup(namespace_dir, workflow_id).map_err(|err| {
            io_error(
                "list",
                &visindex::shard_dir(namespace_dir, workflow_id),
                err,
            )
        })?;
        for (file, name) in pointers {
            if !prune.admits(&name) {
                continue;
            }
            let Ok(close) = jiff::Timestamp::from_nanosecond(name.close_nanos) else {
                continue;
            };
            let path = namespace_dir.join(visname::day_dir(close)).join(file);
            found.push(candidate(cutoff, path, &name));
        }
    }
    Ok(VecDeque::from([Group::Ready(found)]))
}

/// The day directories the plan admits, in result order when it is by close time.
fn day_groups(
    namespace_dir: &Path,
    prune: &Prune,
    cutoff: &PageCutoff<'_>,
) -> Result<VecDeque<Group>> {
    let mut days = Vec::new();
    for (name, path) in list(namespace_dir)? {
        if name == visindex::INDEX_DIR || name == STAGING_DIR {
            continue;
        }
        let Some(day) = visname::parse_day_dir(&name) else {
            if !fsio::is_temp_name(&name) {
                tracing::warn!(path = %path.display(), "skipping a stray entry in the visibility archive");
            }
            continue;
        };
        let Some((first, end)) = visname::day_range_nanos(day) else {
            tracing::warn!(path = %path.display(), "skipping a day directory outside the supported range");
            continue;
        };
        if prune.admits_day(day) {
            days.push((path, first, end - 1));
        }
    }
    match cutoff.order() {
        Some(order @ TimeOrder::CloseTime { .. }) => {
            let mut ranked: Vec<_> = days
                .into_iter()
                .map(|(path, first, last)| {
                    let (a, b) = (order.rank(first, first), order.rank(last, last));
                    (path, a.min(b), a.max(b))
                })
                // Days wholly before the token were returned on earlier pages.
                .filter(|(_, _, last_rank)| !cutoff.skips(*last_rank))
                .collect();
            ranked.sort_by_key(|(_, first_rank, _)| *first_rank);
            Ok(ranked
                .into_iter()
                .map(|(path, first_rank, _)| Group::Day { path, first_rank })
                .collect())
        }
        Some(TimeOrder::StartTime { .. }) => {
            // Days do not bound start times: every admitted name, sorted, then read in order.
            let mut all = Vec::new();
            for (path, ..) in days {
                all.extend(list_day(&path, prune, cutoff)?);
            }
            Ok(VecDeque::from([Group::Ready(all)]))
        }
        None => Ok(days
            .into_iter()
            .map(|(path, ..)| Group::Day {
                path,
                first_rank: 0,
            })
            .collect()),
    }
}

/// The admitted record names of one day directory.
fn list_day(day: &Path, prune: &Prune, cutoff: &PageCutoff<'_>) -> Result<Vec<Candidate>> {
    let range = day
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(visname::parse_day_dir)
        .and_then(visname::day_range_nanos);
    let listed = match entries(day) {
        Ok(listed) => listed,
        Err(err) if err.kind() == io::ErrorKind::NotADirectory => {
            tracing::warn!(path = %day.display(), "skipping a stray file named like a day directory");
            return Ok(Vec::new());
        }
        Err(err) => return Err(io_error("list", day, err)),
    };
    let mut out = Vec::new();
    for (name, path) in listed {
        let Some(parsed) = VisName::parse(&name) else {
            if !fsio::is_temp_name(&name) {
                tracing::warn!(path = %path.display(), "skipping a stray file in the visibility archive");
            }
            continue;
        };
        // A record outside its close time's day would break the day-by-day order.
        if range.is_some_and(|(first, end)| !(first..end).contains(&parsed.close_nanos)) {
            tracing::warn!(path = %path.display(), "skipping a visibility record in the wrong day directory");
            continue;
        }
        if prune.admits(&parsed) {
            out.push(candidate(cutoff, path, &parsed));
        }
    }
    Ok(out)
}

/// The candidate records, read lazily in result order until the page is decided.
///
/// Stray names are logged (`tracing::warn!` with the path) and skipped; records gone since
/// they were listed are skipped. A record that cannot be read (damaged, not a regular file, not
/// matching its name) or a directory that cannot be listed stops the enumeration and is
/// reported through `failure`: the page would otherwise be silently short.
#[derive(Debug)]
struct Candidates<'a, 'q> {
    prune: &'a Prune,
    cutoff: PageCutoff<'q>,
    groups: VecDeque<Group>,
    current: std::vec::IntoIter<Candidate>,
    failure: &'a mut Option<Error>,
}

impl Candidates<'_, '_> {
    /// Makes `candidates` the current list, in result order (stable: ties keep listing order).
    fn start(&mut self, mut candidates: Vec<Candidate>) {
        candidates.sort_by_key(|c| c.rank);
        self.current = candidates.into_iter();
    }
}

impl Iterator for Candidates<'_, '_> {
    type Item = VisibilityRecord;

    fn next(&mut self) -> Option<VisibilityRecord> {
        loop {
            if let Some(next) = self.current.next() {
                if self.cutoff.decided(next.rank) {
                    self.groups.clear();
                    self.current = Vec::new().into_iter();
                    return None;
                }
                if self.cutoff.skips(next.rank) {
                    continue;
                }
                let record = match read_record(&next.path) {
                    Ok(Some(record)) => record,
                    Ok(None) => continue,
                    Err(err) => {
                        *self.failure = Some(err);
                        return None;
                    }
                };
                self.cutoff.observe(next.rank, &record);
                return Some(record);
            }
            match self.groups.pop_front()? {
                Group::Ready(candidates) => self.start(candidates),
                Group::Day { path, first_rank } => {
                    if self.cutoff.decided(first_rank) {
                        self.groups.clear();
                        return None;
                    }
                    match list_day(&path, self.prune, &self.cutoff) {
                        Ok(candidates) => self.start(candidates),
                        Err(err) => {
                            *self.failure = Some(err);
                            return None;
                        }
                    }
                }
            }
        }
    }
}
