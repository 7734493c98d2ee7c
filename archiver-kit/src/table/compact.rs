//! Compaction: fold a namespace's batches into its segments and commit the next manifest.
//!
//! In each partition (close day) that gains records, the segments whose close-time ranges the
//! new records fall among (and a small segment just before them) are rewritten: their rows
//! (row group by row group, already in order) are merged with the new records (sorted), a row
//! whose run was archived again gives way to the newer record, and the result is written as
//! new segments of at most `max_segment_rows` rows. Records arrive about when runs close, so a
//! compaction usually appends one segment or grows the day's last one: its cost follows the
//! new records, not the partition. A partition's segments stay disjoint in close time and a
//! run is in one row. Memory holds one row group, the new records and the segment being written. The
//! manifest of the next generation is created last, create-only: the commit point. A compactor
//! that loses that race deletes what it wrote and reports it; the winner's snapshot lacks
//! nothing (batches it did not fold stay unfolded). Objects the new snapshot no longer needs
//! are deleted by a later compaction once older than the grace period.

use std::collections::HashSet;

use crate::object::{ObjectLocation, ObjectStore, list_all};
use archiver_core::{Error, Result, VisibilityRecord};
use jiff::{SignedDuration, Timestamp};
use visibility_query::SearchAttributes;

use super::VisibilityTable;
use super::create::{Writer, create};
use super::keys::{TableKeys, segment_generation};
use super::manifest::{Dated, Manifest, SegmentEntry};
use super::read::segment_error;
use super::snapshot::{RunKey, run_of};
use crate::segment::{
    SegmentTail, SegmentWriter, SparseFile, partition_path, partition_records, read_groups,
};

/// What a compaction did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactReport {
    /// The generation committed; `None` when there was nothing to do or another compactor
    /// committed first.
    pub generation: Option<u64>,
    /// Another compactor committed the same generation first; what this one wrote was removed
    /// and nothing it read was lost (run again to fold what the winner did not).
    pub superseded: bool,
    /// Batches folded into segments.
    pub batches_folded: usize,
    /// Records those batches held (one per run).
    pub records_folded: usize,
    /// Segments written.
    pub segments_written: usize,
    /// Rows in the segments written.
    pub rows_written: u64,
    /// Segments replaced by the rewrite of their partition.
    pub segments_replaced: usize,
    /// Objects past the grace period deleted (folded batches, replaced segments, manifests).
    pub objects_deleted: usize,
    /// Segments no manifest names deleted: left by compactors that crashed, or that lost
    /// their commit and could not remove them (swept once per `compact`, in its last round).
    pub orphans_deleted: usize,
    /// Rounds committed (each folds about 40,000 records, so memory stays bounded).
    pub rounds: usize,
    /// Batches were left for another round (internal: `compact` runs rounds until none are).
    #[doc(hidden)]
    pub more: bool,
}

/// Records one compaction round folds, about. Memory follows it: at 1,000,000 records
/// (`benches/visibility_table.rs`) 50,000 peaked at 237-240 MiB, 40,000 at 218-233 MiB.
const ROUND_RECORDS: usize = 40_000;

impl CompactReport {
    /// Adds a later round's report to this one.
    pub(crate) fn add(&mut self, round: CompactReport) {
        self.generation = round.generation.or(self.generation);
        self.superseded |= round.superseded;
        self.batches_folded += round.batches_folded;
        self.records_folded += round.records_folded;
        self.segments_written += round.segments_written;
        self.rows_written += round.rows_written;
        self.segments_replaced += round.segments_replaced;
        self.objects_deleted += round.objects_deleted;
        self.orphans_deleted += round.orphans_deleted;
        self.rounds += usize::from(round.generation.is_some());
        self.more = round.more;
    }
}

impl<S: ObjectStore> VisibilityTable<S> {
    pub(crate) async fn run_compaction(
        &self,
        location: &ObjectLocation,
        namespace_id: &str,
        attributes: &SearchAttributes,
    ) -> Result<CompactReport> {
        let keys = TableKeys::new(location, namespace_id);
        let snapshot = self.snapshot(location, &keys).await?;
        let now = Timestamp::now();
        let grace =
            SignedDuration::try_from(self.inner.options.grace()).unwrap_or(SignedDuration::MAX);
        let cutoff = now.checked_sub(grace).unwrap_or(Timestamp::MIN);
        let mut report = CompactReport::default();
        let mut next: Manifest = (*snapshot.manifest).clone();
        next.generation += 1;

        // A round folds the oldest batches up to about ROUND_RECORDS records: memory holds
        // those, not everything archived since the last compaction.
        let mut fresh = Vec::new();
        let mut taken = 0;
        while taken < snapshot.batches.len() && fresh.len() < ROUND_RECORDS {
            let chunk = &snapshot.batches[taken..(taken + 16).min(snapshot.batches.len())];
            // In batch order: partitioning keeps a run's last record.
            fresh.extend(self.read_batch_records(location, &keys, chunk).await?);
            taken += chunk.len();
        }
        let batches = &snapshot.batches[..taken];
        report.more = taken < snapshot.batches.len();
        report.batches_folded = batches.len();
        // Once every record of the per-record layout is folded, readers stop listing it.
        next.legacy_folded = taken >= snapshot.legacy;
        let partitions = partition_records(fresh)
            .map_err(|e| Error::invalid_request("record", e.to_string()))?;
        report.records_folded = partitions.values().map(Vec::len).sum();
        let mut written = Vec::new();
        let result = async {
            for records in partitions.into_values() {
                self.rewrite_partition(
                    location,
                    &keys,
                    attributes,
                    &mut next,
                    records,
                    now,
                    &mut written,
                    &mut report,
                )
                .await?;
            }
            Ok::<_, Error>(())
        }
        .await;
        if let Err(error) = result {
            self.remove(location, &written).await;
            return Err(error);
        }

        next.folded.extend(batches.iter().map(|key| Dated {
            key: key.clone(),
            at: now,
        }));
        if let Some(previous) = &snapshot.manifest_key {
            next.retired.push(Dated {
                key: previous.clone(),
                at: now,
            });
        }
        // Past the grace period no reader still uses what these name: delete them first, and
        // drop them from the manifest only once they are gone.
        let expired: Vec<String> = next
            .folded
            .iter()
            .chain(&next.retired)
            .filter(|d| d.at < cutoff)
            .map(|d| d.key.clone())
            .collect();
        if !expired.is_empty() {
            match self.inner.store.delete(location.bucket(), &expired).await {
                Ok(()) => {
                    let gone: HashSet<&String> = expired.iter().collect();
                    next.folded.retain(|d| !gone.contains(&d.key));
                    next.retired.retain(|d| !gone.contains(&d.key));
                    report.objects_deleted = expired.len();
                }
                Err(failure) => {
                    tracing::warn!(error = %failure, count = expired.len(),
                        "could not delete expired visibility objects; a later compaction retries");
                }
            }
        }
        if !report.more {
            report.orphans_deleted = self.sweep_orphans(location, &keys, &next).await;
        }
        if report.batches_folded == 0 && report.objects_deleted == 0 {
            return Ok(report); // nothing changed: no new generation
        }

        let key = keys.manifest(next.generation);
        let outcome = create(
            self.inner.store.as_ref(),
            location,
            &key,
            next.encode(),
            "commit manifest",
        )
        .await;
        match outcome {
            Ok(Writer::Us) => {
                report.generation = Some(next.generation);
                Ok(report)
            }
            Ok(Writer::Other) => {
                self.remove(location, &written).await;
                Ok(CompactReport {
                    superseded: true,
                    objects_deleted: report.objects_deleted,
                    orphans_deleted: report.orphans_deleted,
                    ..CompactReport::default()
                })
            }
            Err(error) => {
                self.remove(location, &written).await;
                Err(error)
            }
        }
    }

    /// Merges `records` (one partition's, sorted, one per run) into the partition's segments
    /// in `next`, writing new segments and retiring the old ones.
    #[allow(clippy::too_many_arguments)]
    async fn rewrite_partition(
        &self,
        location: &ObjectLocation,
        keys: &TableKeys,
        attributes: &SearchAttributes,
        next: &mut Manifest,
        records: Vec<VisibilityRecord>,
        now: Timestamp,
        written: &mut Vec<String>,
        report: &mut CompactReport,
    ) -> Result<()> {
        let Some(first) = records.first() else {
            return Ok(());
        };
        let partition = partition_path(keys.namespace_id(), first.close_time)
            .map_err(|e| Error::invalid_request("namespace_id", e.to_string()))?;
        let in_partition = |entry: &SegmentEntry| {
            partition_path(keys.namespace_id(), entry.min_close)
                .ok()
                .as_ref()
                == Some(&partition)
        };
        let (mut partition_segments, mut kept): (Vec<SegmentEntry>, Vec<SegmentEntry>) =
            next.segments.drain(..).partition(|e| in_partition(e));
        // Segments may share a close time at their ends (ties split at a segment's size):
        // ordered by both ends, their rows follow one another.
        partition_segments.sort_by_key(|e| (e.min_close, e.max_close));
        // Rewrite only the segments the new records fall among (a run archived again has the
        // close time it had, so its old row is in one of them), and a small segment just
        // before them, so segments grow toward their size; append the rest as new segments.
        // The partition's segments stay sorted and disjoint in close time.
        let (low, high) = (
            first.close_time,
            records.last().map_or(first.close_time, |r| r.close_time),
        );
        let preceding = partition_segments
            .iter()
            .rposition(|e| e.max_close < low)
            .filter(|&p| {
                partition_segments[p].rows < self.inner.options.max_segment_rows() as u64 / 2
            });
        let mut old = Vec::new();
        for (i, entry) in partition_segments.into_iter().enumerate() {
            if Some(i) == preceding || (entry.max_close >= low && entry.min_close <= high) {
                old.push(entry);
            } else {
                kept.push(entry);
            }
        }
        next.segments = kept;
        let replaced: HashSet<RunKey> = records.iter().map(run_of).collect();

        let mut output = Output::new(self, location, keys, attributes, next.generation);
        let mut fresh = records.into_iter().peekable();
        for entry in &old {
            let describe = location.describe(&entry.key);
            let (footer, _) = self.footer(location, entry, false).await?;
            for g in 0..footer.row_groups() {
                let mut file = SparseFile::new(entry.bytes);
                for (offset, len) in footer
                    .page_ranges(&[g])
                    .map_err(|e| segment_error(&describe, e))?
                {
                    file.insert(
                        offset,
                        self.fetch_exact(location, &entry.key, offset, len).await?,
                    );
                }
                let rows = read_groups(&file, &footer, vec![g], |r| !replaced.contains(&run_of(r)))
                    .map_err(|e| segment_error(&describe, e))?;
                for row in rows {
                    while let Some(record) = fresh.next_if(|f| segment_before(f, &row)) {
                        output.push(record, written, report).await?;
                    }
                    output.push(row, written, report).await?;
                }
            }
        }
        for record in fresh {
            output.push(record, written, report).await?;
        }
        let new = output.finish(written, report).await?;
        next.segments.extend(new);
        next.segments.sort_by(|a, b| {
            (a.min_close, a.max_close, &a.key).cmp(&(b.min_close, b.max_close, &b.key))
        });
        report.segments_replaced += old.len();
        next.retired.extend(old.into_iter().map(|e| Dated {
            key: e.key,
            at: now,
        }));
        Ok(())
    }

    /// Deletes the namespace's segments that no manifest names and none ever will: those of
    /// a generation before `next`'s that `next` neither keeps nor retires. A compactor writes
    /// generation `g`'s segments after reading manifest `g - 1` and publishes them only by
    /// creating manifest `g`; once that manifest exists (it does: `next` follows it), a
    /// compactor still writing `g`'s segments loses its commit, so what it wrote is never read.
    /// Best effort: returns how many were deleted, and a failure waits for the next compaction.
    async fn sweep_orphans(
        &self,
        location: &ObjectLocation,
        keys: &TableKeys,
        next: &Manifest,
    ) -> usize {
        let Ok(prefix) = keys.segments() else {
            return 0;
        };
        let listed = match list_all(self.inner.store.as_ref(), location.bucket(), &prefix).await {
            Ok(listed) => listed,
            Err(failure) => {
                tracing::warn!(error = %failure, "could not list segments to sweep orphans");
                return 0;
            }
        };
        let named: HashSet<&str> = next
            .segments
            .iter()
            .map(|e| e.key.as_str())
            .chain(next.retired.iter().map(|d| d.key.as_str()))
            .collect();
        let orphans: Vec<String> = listed
            .into_iter()
            .filter(|key| {
                segment_generation(key).is_some_and(|g| g < next.generation)
                    && !named.contains(key.as_str())
            })
            .collect();
        if orphans.is_empty() {
            return 0;
        }
        match self.inner.store.delete(location.bucket(), &orphans).await {
            Ok(()) => {
                tracing::info!(count = orphans.len(), "deleted orphan segments");
                orphans.len()
            }
            Err(failure) => {
                tracing::warn!(error = %failure, count = orphans.len(),
                    "could not delete orphan segments; a later compaction retries");
                0
            }
        }
    }

    /// Best-effort removal of segments a failed or superseded compaction wrote.
    async fn remove(&self, location: &ObjectLocation, keys: &[String]) {
        if keys.is_empty() {
            return;
        }
        if let Err(failure) = self.inner.store.delete(location.bucket(), keys).await {
            tracing::warn!(error = %failure, count = keys.len(),
                "could not remove the segments of an uncommitted compaction");
        }
    }
}

/// Whether `a` goes before `b` in a segment (`CloseTime`, workflow id, run id).
fn segment_before(a: &VisibilityRecord, b: &VisibilityRecord) -> bool {
    (a.close_time, &a.workflow_id, &a.run_id) < (b.close_time, &b.workflow_id, &b.run_id)
}

/// The segments one partition's rewrite writes, each uploaded as soon as it is full.
struct Output<'a, S> {
    table: &'a VisibilityTable<S>,
    location: &'a ObjectLocation,
    keys: &'a TableKeys,
    attributes: &'a SearchAttributes,
    generation: u64,
    current: Option<Current>,
    done: Vec<SegmentEntry>,
}

struct Current {
    writer: SegmentWriter,
    min_close: Timestamp,
    max_close: Timestamp,
    min_start: Timestamp,
    max_start: Timestamp,
}

impl<'a, S: ObjectStore> Output<'a, S> {
    fn new(
        table: &'a VisibilityTable<S>,
        location: &'a ObjectLocation,
        keys: &'a TableKeys,
        attributes: &'a SearchAttributes,
        generation: u64,
    ) -> Self {
        Output {
            table,
            location,
            keys,
            attributes,
            generation,
            current: None,
            done: Vec::new(),
        }
    }

    async fn push(
        &mut self,
        record: VisibilityRecord,
        written: &mut Vec<String>,
        report: &mut CompactReport,
    ) -> Result<()> {
        let current = match &mut self.current {
            Some(current) => current,
            None => self.current.insert(Current {
                writer: SegmentWriter::new(
                    self.attributes,
                    self.table.inner.options.segment_options(),
                )
                .map_err(|e| Error::invalid_request("search_attributes", e.to_string()))?,
                min_close: record.close_time,
                max_close: record.close_time,
                min_start: record.start_time,
                max_start: record.start_time,
            }),
        };
        current
            .writer
            .push(&record)
            .map_err(|e| Error::invalid_request("record", e.to_string()))?;
        current.max_close = current.max_close.max(record.close_time);
        current.min_start = current.min_start.min(record.start_time);
        current.max_start = current.max_start.max(record.start_time);
        if current.writer.rows() >= self.table.inner.options.max_segment_rows() {
            self.upload(written, report).await?;
        }
        Ok(())
    }

    async fn upload(
        &mut self,
        written: &mut Vec<String>,
        report: &mut CompactReport,
    ) -> Result<()> {
        let Some(current) = self.current.take() else {
            return Ok(());
        };
        let rows = current.writer.rows() as u64;
        let bytes = current
            .writer
            .finish()
            .map_err(|e| Error::invalid_request("record", e.to_string()))?;
        let tail =
            SegmentTail::of(&bytes).map_err(|e| Error::invalid_request("record", e.to_string()))?;
        let key = self
            .keys
            .new_segment(current.min_close, self.generation)
            .map_err(|e| Error::invalid_request("namespace_id", e.to_string()))?;
        let describe = self.location.describe(&key);
        let size = bytes.len() as u64;
        written.push(key.clone());
        match create(
            self.table.inner.store.as_ref(),
            self.location,
            &key,
            bytes.into(),
            "write segment",
        )
        .await?
        {
            Writer::Us => {}
            Writer::Other => {
                written.pop(); // not ours: never remove it
                return Err(Error::backend(
                    self.table.inner.store.scheme(),
                    "write segment",
                    format!("{describe} already exists"),
                    true,
                ));
            }
        }
        report.segments_written += 1;
        report.rows_written += rows;
        self.done.push(SegmentEntry {
            key,
            bytes: size,
            rows,
            min_close: current.min_close,
            max_close: current.max_close,
            min_start: current.min_start,
            max_start: current.max_start,
            tail,
        });
        Ok(())
    }

    async fn finish(
        mut self,
        written: &mut Vec<String>,
        report: &mut CompactReport,
    ) -> Result<Vec<SegmentEntry>> {
        self.upload(written, report).await?;
        Ok(self.done)
    }
}
