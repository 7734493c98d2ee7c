//! Many small histories archived at once on `file://`, beside the disk's floor for the same
//! files (issue #11).
//!
//! For each size (about 5 KB, 20 KB and 200 KB of encoded history), in histories/s:
//! - `filestore/<size>`: [`CALLERS`] concurrent callers share one `FilestoreHistoryArchiver`,
//!   each archiving distinct runs (distinct workflow and run ids) into a fresh root;
//! - `floor/<size>`: the least a durable, atomic write of the same files costs: [`CALLERS`]
//!   threads each creating a temp file of the archive file's size, writing, fsyncing it,
//!   renaming it into one directory and fsyncing that directory.
//!
//! The figure to read is the ratio of the two. On a shared machine the load changes between
//! criterion's samples of one line and of the other, so after each size a `ratio/<size>` line
//! also prints the median ratio of `ARCHIVER_BENCH_PAIRS` (default 10; 0 skips them) paired
//! rounds: [`PAIR_COUNT`] archives, then as many floor files right after (or the other way
//! round, alternately), with the spread.
//!
//! The archives' batches are built before the timer (a [`TakenRuns`] source moves them out).
//! Every sample writes into a fresh directory, and all of them are kept until the end of the
//! run: without a journal, ext4 does not reuse an inode freed less than a minute ago and scans
//! past each one when allocating, so removing a sample's files would slow the next sample's
//! creations, three per archive (workflow and run directories, file) against one per floor
//! file. For the same reason, leave a minute between runs. A run writes a few GB.
//!
//! `cargo bench --features filestore --bench small_histories`.

// Each bench uses only some of the shared helpers.
#[allow(dead_code)]
mod common;

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use archiver::filestore::FilestoreHistoryArchiver;
use archiver::testing::GeneratedHistorySource;
use archiver::{ArchiveHistoryRequest, ArchiveOptions, ArchiveUri, HistoryArchiver};
use common::taken::{GeneratedBatches, TakenRuns};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// Concurrent callers (archives) or threads (floor).
const CALLERS: usize = 8;

/// Approximate encoded history sizes, in KB.
const SIZES_KB: [usize; 3] = [5, 20, 200];

/// Encoded bytes of one generated batch (three events), about.
const BATCH_BYTES: usize = 1_620;

/// Paired rounds (archives, then floor files, timed back to back) behind each `ratio/` line,
/// unless `ARCHIVER_BENCH_PAIRS` says how many.
fn pairs() -> usize {
    std::env::var("ARCHIVER_BENCH_PAIRS")
        .ok()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(10)
}

/// Histories (and floor files) per side of a paired round.
const PAIR_COUNT: u64 = 500;

fn uri_of(dir: &Path) -> ArchiveUri {
    format!("file://{}", dir.display()).parse().expect("uri")
}

/// Fsyncs `dir`, so that a timed run does not pay for what the untimed setup changed in it.
fn settle(dir: &Path) {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .expect("fsync the bench directory");
}

/// `history` as run `run-<i>` of workflow `wf-<i>`.
fn request_for(history: &GeneratedBatches, i: u64) -> ArchiveHistoryRequest {
    ArchiveHistoryRequest {
        workflow_id: format!("wf-{i}"),
        run_id: format!("run-{i}"),
        ..history.request.clone()
    }
}

/// Archives `count` distinct runs of `history` into `root` with [`CALLERS`] callers sharing
/// one archiver; returns the time from the first archive's start to the last one's end.
fn archive_concurrently(
    rt: &tokio::runtime::Runtime,
    history: &GeneratedBatches,
    root: &Path,
    count: u64,
) -> Duration {
    let source = Arc::new(TakenRuns::default());
    let requests: Vec<_> = (0..count)
        .map(|i| {
            let request = request_for(history, i);
            source.insert(
                &request.workflow_id,
                &request.run_id,
                history.batches.clone(),
            );
            request
        })
        .collect();
    let requests = Arc::new(requests);
    let archiver = Arc::new(FilestoreHistoryArchiver::new(source));
    let uri = uri_of(root);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    rt.block_on(async {
        let callers: Vec<_> = (0..CALLERS)
            .map(|_| {
                let (archiver, uri, requests, next) = (
                    Arc::clone(&archiver),
                    uri.clone(),
                    Arc::clone(&requests),
                    Arc::clone(&next),
                );
                tokio::spawn(async move {
                    let options = ArchiveOptions::default();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(request) = usize::try_from(i).ok().and_then(|i| requests.get(i))
                        else {
                            break;
                        };
                        archiver
                            .archive(&uri, request, &options)
                            .await
                            .expect("archive");
                    }
                })
            })
            .collect();
        for caller in callers {
            caller.await.expect("caller");
        }
    });
    started.elapsed()
}

/// The floor: [`CALLERS`] threads write `count` files of `bytes` into `dir`, each staged as a
/// temp file (create, write, fsync), renamed into place and made durable by fsyncing `dir`.
fn floor_writes(dir: &Path, bytes: &[u8], count: u64) -> Duration {
    let next = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..CALLERS {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let temp = dir.join(format!(".tmp-{i}"));
                    let mut file = OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(&temp)
                        .expect("create temp");
                    file.write_all(bytes).expect("write");
                    file.sync_all().expect("fsync");
                    fs::rename(&temp, dir.join(format!("{i}.hist"))).expect("rename");
                    settle(dir);
                }
            });
        }
    });
    started.elapsed()
}

/// The size of the one `.hist` file under `dir`.
fn archive_file_size(dir: &Path) -> u64 {
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).expect("list").flatten() {
            let kind = entry.file_type().expect("file type");
            if kind.is_dir() {
                pending.push(entry.path());
            } else if entry.file_name().to_string_lossy().ends_with(".hist") {
                return entry.metadata().expect("metadata").len();
            }
        }
    }
    panic!("no archive under {}", dir.display())
}

fn small_histories(c: &mut Criterion) {
    let rt = common::runtime();
    let dir = common::bench_dir("small-histories");
    fs::remove_dir_all(&dir).ok();
    fs::create_dir(&dir).expect("bench dir");
    let mut group = c.benchmark_group("small_histories");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(1));
    for kb in SIZES_KB {
        let batches = (kb * 1024 + BATCH_BYTES / 2) / BATCH_BYTES;
        let history = GeneratedBatches::of(GeneratedHistorySource::new(1, batches), "bench-wf");
        // The floor writes files as large as the archive's: one archived for the measure.
        let probe = dir.join(format!("probe-{kb}"));
        archive_concurrently(&rt, &history, &probe, 1);
        let file_bytes = archive_file_size(&probe);
        println!(
            "small_histories/{kb}KB: {} bytes of history, {file_bytes} bytes of archive file; {}",
            history.bytes,
            common::load()
        );
        let content: Vec<u8> = (0..file_bytes).map(|i| (i * 131 % 251) as u8).collect();
        let label = format!("{kb}KB");
        let mut round = 0_u64;
        group.bench_function(BenchmarkId::new("filestore", &label), |b| {
            b.iter_custom(|iters| {
                round += 1;
                timed_archives(
                    &rt,
                    &history,
                    &dir.join(format!("archive-{kb}-{round}")),
                    iters,
                )
            })
        });
        group.bench_function(BenchmarkId::new("floor", &label), |b| {
            b.iter_custom(|iters| {
                round += 1;
                timed_floor(&dir.join(format!("floor-{kb}-{round}")), &content, iters)
            })
        });
        let pairs = pairs();
        if pairs == 0 {
            continue;
        }
        let mut ratios: Vec<f64> = (0..pairs)
            .map(|pair| {
                let archives = dir.join(format!("pair-archive-{kb}-{pair}"));
                let floor = dir.join(format!("pair-floor-{kb}-{pair}"));
                let (archived, floored) = if pair % 2 == 0 {
                    let archived = timed_archives(&rt, &history, &archives, PAIR_COUNT);
                    (archived, timed_floor(&floor, &content, PAIR_COUNT))
                } else {
                    let floored = timed_floor(&floor, &content, PAIR_COUNT);
                    (
                        timed_archives(&rt, &history, &archives, PAIR_COUNT),
                        floored,
                    )
                };
                floored.as_secs_f64() / archived.as_secs_f64()
            })
            .collect();
        ratios.sort_by(f64::total_cmp);
        println!(
            "small_histories/ratio/{label}: filestore/floor {:.2} (median of {pairs} paired rounds of {PAIR_COUNT}; {:.2} to {:.2}); {}",
            (ratios[(pairs - 1) / 2] + ratios[pairs / 2]) / 2.0,
            ratios[0],
            ratios[pairs - 1],
            common::load()
        );
    }
    group.finish();
    fs::remove_dir_all(&dir).expect("remove the bench data");
}

/// [`archive_concurrently`] into the fresh `root`.
fn timed_archives(
    rt: &tokio::runtime::Runtime,
    history: &GeneratedBatches,
    root: &Path,
    count: u64,
) -> Duration {
    settle_parent(root);
    archive_concurrently(rt, history, root, count)
}

/// [`floor_writes`] into the fresh directory `dir`.
fn timed_floor(dir: &Path, content: &[u8], count: u64) -> Duration {
    fs::create_dir(dir).expect("floor dir");
    settle_parent(dir);
    floor_writes(dir, content, count)
}

/// Writes back what the untimed setup left (the new directory's entry), so that the timed run
/// does not pay for it.
fn settle_parent(path: &Path) {
    settle(path.parent().expect("a bench path has a parent"));
}

criterion_group!(benches, small_histories);
criterion_main!(benches);
