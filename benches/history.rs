//! History archive throughput and memory, and get-first-page latency, on the `file://` provider.
//!
//! Anchors in the same run, so the figures to read are ratios, not MB/s:
//! - `plain_write_fsync`: a plain write + fsync of the same number of bytes (the disk's rate);
//! - `memory_provider`: core's in-memory provider archiving the same history (same iterator
//!   and JSON encoding, no disk): the CPU floor.
//!
//! The timed archives read from a [`TakenSource`](common::taken::TakenSource): pages are *moved* out of batches built
//! before the timer starts. (`MemoryHistorySource` deep-clones every batch it returns, which
//! costs more than the archiving itself; the line `source/memory_history_source_read` prints
//! that cost for reference.)
//!
//! `cargo bench --bench history`; `ARCHIVER_BENCH_SIZES=1,64` (MB) to skip the 512 MB case. The
//! largest size is archived once from the lazy generator for peak memory and get-first-page; the
//! criterion throughput runs take every size (their batches are built in memory first: about
//! 1.3x the encoded size, twice over while a copy is handed to the timed archive).

// Each bench uses only some of the shared helpers.
#[allow(dead_code)]
mod common;

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use archiver::filestore::FilestoreHistoryArchiver;
use archiver::history::{History, MemoryHistorySource, ReadHistoryRequest, RunKey};
use archiver::testing::GeneratedHistorySource;
use archiver::{
    ArchiveHistoryRequest, ArchiveOptions, ArchiveUri, GetHistoryRequest, HistoryArchiver,
    HistorySource, MemoryHistoryArchiver,
};
use common::taken::{GeneratedBatches, time_archives};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn sizes_mb() -> Vec<usize> {
    std::env::var("ARCHIVER_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 64, 512])
}

fn uri_of(dir: &std::path::Path) -> ArchiveUri {
    format!("file://{}", dir.display()).parse().expect("uri")
}

/// Writes `bytes` bytes in 1 MiB writes and fsyncs: the disk's own rate for what we archive.
fn plain_write_fsync(path: &std::path::Path, chunk: &[u8], bytes: u64) {
    let mut file = std::fs::File::create(path).expect("create");
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        file.write_all(&chunk[..n]).expect("write");
        left -= n as u64;
    }
    file.sync_all().expect("fsync");
}

/// Commits the file system's journal after an untimed cleanup (an fsync of `dir` commits the
/// whole pending transaction on ext4), so the next timed run's first fsync does not pay for the
/// previous run's deletions.
fn settle(dir: &std::path::Path) {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .expect("fsync the bench directory");
}

fn archive(c: &mut Criterion) {
    let rt = common::runtime();
    let dir = common::bench_dir("history");
    let mut group = c.benchmark_group("history_archive");
    group.sample_size(10).warm_up_time(Duration::from_secs(1));
    for mb in sizes_mb() {
        let GeneratedBatches {
            batches,
            request,
            bytes,
        } = GeneratedBatches::new(mb, "bench-wf");
        source_read_cost(&rt, &request, &batches, bytes, mb);
        let chunk: Vec<u8> = (0..(1 << 20)).map(|i| (i * 131 % 251) as u8).collect();
        group.throughput(Throughput::Bytes(bytes));
        let mut round = 0_u64;
        group.bench_function(BenchmarkId::new("filestore", format!("{mb}MB")), |b| {
            b.iter_custom(|iters| {
                round += 1;
                let target = |run| dir.join(format!("archive-{mb}-{round}-{run}"));
                time_archives(
                    &rt,
                    iters,
                    &batches,
                    &request,
                    |source, run| (FilestoreHistoryArchiver::new(source), uri_of(&target(run))),
                    |run| {
                        std::fs::remove_dir_all(target(run)).ok();
                        settle(&dir);
                    },
                )
            })
        });
        group.bench_function(
            BenchmarkId::new("memory_provider", format!("{mb}MB")),
            |b| {
                b.iter_custom(|iters| {
                    time_archives(
                        &rt,
                        iters,
                        &batches,
                        &request,
                        |source, _| {
                            let uri = "memory://bench/history".parse().expect("uri");
                            (MemoryHistoryArchiver::new(source), uri)
                        },
                        |_| {},
                    )
                })
            },
        );
        group.bench_function(
            BenchmarkId::new("plain_write_fsync", format!("{mb}MB")),
            |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let path = dir.join(format!("plain-{mb}"));
                        let started = Instant::now();
                        plain_write_fsync(&path, &chunk, bytes);
                        total += started.elapsed();
                        std::fs::remove_file(&path).ok();
                        settle(&dir);
                    }
                    total
                })
            },
        );
    }
    group.finish();
}

/// Prints what reading the whole history through `MemoryHistorySource` (a deep clone of every
/// batch) costs, the source the timed runs replace.
fn source_read_cost(
    rt: &tokio::runtime::Runtime,
    request: &ArchiveHistoryRequest,
    batches: &[History],
    bytes: u64,
    mb: usize,
) {
    let source = MemoryHistorySource::new();
    source.insert(RunKey::from(request), batches.to_vec());
    let mut read = ReadHistoryRequest {
        shard_id: request.shard_id,
        namespace_id: request.namespace_id.clone(),
        workflow_id: request.workflow_id.clone(),
        run_id: request.run_id.clone(),
        branch_token: request.branch_token.clone(),
        first_event_id: 1,
        next_event_id: i64::MAX,
        page_size: 250,
        next_page_token: None,
    };
    let started = Instant::now();
    loop {
        let page = rt.block_on(source.read_history(&read)).expect("read");
        match page.next_page_token {
            Some(token) => read.next_page_token = Some(token),
            None => break,
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "source/memory_history_source_read/{mb}MB: {:.1} ms ({:.0} MB/s of encoded history); not in the timed archives",
        seconds * 1e3,
        common::mb_per_s(bytes, seconds)
    );
}

/// One archive of the largest size straight from the lazy generator, outside criterion: peak
/// memory (resident set) while archiving, then get-first-page latency on that archive.
fn memory_and_first_page(c: &mut Criterion) {
    let rt = common::runtime();
    let mb = *sizes_mb().iter().max().expect("a size");
    let dir = common::bench_dir("history-large");
    let uri = uri_of(&dir.join(format!("archive-{mb}")));
    let source = Arc::new(GeneratedHistorySource::with_approx_bytes(2, mb << 20));
    let request = source.request("bench-ns", "large-wf", "run", 1);
    let archiver = FilestoreHistoryArchiver::new(source.clone() as Arc<dyn HistorySource>);
    std::fs::remove_dir_all(dir.join(format!("archive-{mb}"))).ok();
    let before = common::reset_peak_rss();
    let started = Instant::now();
    rt.block_on(archiver.archive(&uri, &request, &ArchiveOptions::default()))
        .expect("archive");
    let seconds = started.elapsed().as_secs_f64();
    let peak = common::peak_rss_bytes();
    let size: u64 = walk_size(&dir.join(format!("archive-{mb}")));
    println!(
        "history_archive/generated/{mb}MB: {:.0} MB/s of archive file ({} bytes in {seconds:.2} s, generation included); \
         peak RSS {:.1} MiB (+{:.1} MiB over {:.1} MiB before)",
        common::mb_per_s(size, seconds),
        size,
        peak as f64 / f64::from(1 << 20),
        peak.saturating_sub(before) as f64 / f64::from(1 << 20),
        before as f64 / f64::from(1 << 20),
    );

    let mut group = c.benchmark_group("history_get");
    group.bench_function(
        BenchmarkId::new("first_page_100_events", format!("{mb}MB")),
        |b| {
            let get = GetHistoryRequest::new("bench-ns", "large-wf", "run", 100);
            b.iter(|| {
                let page = rt.block_on(archiver.get(&uri, &get)).expect("get");
                assert!(page.next_page_token.is_some());
                page
            })
        },
    );
    group.finish();
}

fn walk_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => walk_size(&e.path()),
                    _ => e.metadata().map_or(0, |m| m.len()),
                })
                .sum()
        })
        .unwrap_or(0)
}

// The memory reading runs first, before the throughput runs have grown the heap.
criterion_group!(benches, memory_and_first_page, archive);
criterion_main!(benches);
