//! History archive throughput and memory, and get-first-page latency, on the `file://` provider.
//!
//! Anchors in the same run: a plain write + fsync of the same number of bytes (what the disk
//! does), so the figure to read is the ratio, not the MB/s.
//!
//! `cargo bench --bench history`; `ARCHIVER_BENCH_SIZES=1,64` (MB) to skip the 512 MB case.

// Each bench uses only some of the shared helpers.
#[allow(dead_code)]
mod common;

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use archiver::filestore::FilestoreHistoryArchiver;
use archiver::history::{MemoryHistorySource, RunKey, encode_batch};
use archiver::testing::GeneratedHistorySource;
use archiver::{ArchiveOptions, ArchiveUri, GetHistoryRequest, HistoryArchiver, HistorySource};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn sizes_mb() -> Vec<usize> {
    std::env::var("ARCHIVER_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 64, 512])
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
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

fn archive(c: &mut Criterion) {
    let rt = runtime();
    let dir = common::bench_dir("history");
    let mut group = c.benchmark_group("history_archive");
    group.sample_size(10).warm_up_time(Duration::from_secs(1));
    for mb in sizes_mb() {
        let generated = GeneratedHistorySource::with_approx_bytes(1, mb << 20);
        let request = generated.request("bench-ns", "bench-wf", "run", 1);
        // Pre-built batches: the timing is the archiver's, not the generator's.
        let source = Arc::new(MemoryHistorySource::new());
        let batches: Vec<_> = (0..(generated.events() / 3))
            .map(|i| generated.batch(i))
            .collect();
        let bytes: u64 = batches
            .iter()
            .map(|b| encode_batch(b).expect("encode").len() as u64 + 1)
            .sum();
        source.insert(RunKey::from(&request), batches);
        let archiver = FilestoreHistoryArchiver::new(source.clone() as Arc<dyn HistorySource>);
        let chunk: Vec<u8> = (0..(1 << 20)).map(|i| (i * 131 % 251) as u8).collect();
        group.throughput(Throughput::Bytes(bytes));
        let mut run = 0_u64;
        group.bench_with_input(
            BenchmarkId::new("filestore", format!("{mb}MB")),
            &mb,
            |b, _| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        run += 1;
                        let target = dir.join(format!("archive-{mb}-{run}"));
                        let uri = uri_of(&target);
                        let started = Instant::now();
                        rt.block_on(archiver.archive(&uri, &request, &ArchiveOptions::default()))
                            .expect("archive");
                        total += started.elapsed();
                        std::fs::remove_dir_all(&target).ok();
                    }
                    total
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("plain_write_fsync", format!("{mb}MB")),
            &mb,
            |b, _| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let path = dir.join(format!("plain-{mb}"));
                        let started = Instant::now();
                        plain_write_fsync(&path, &chunk, bytes);
                        total += started.elapsed();
                        std::fs::remove_file(&path).ok();
                    }
                    total
                })
            },
        );
    }
    group.finish();
}

/// One archive of the largest size straight from the lazy generator, outside criterion: peak
/// memory (resident set) while archiving, then get-first-page latency on that archive.
fn memory_and_first_page(c: &mut Criterion) {
    let rt = runtime();
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
         peak RSS +{:.1} MiB over {:.1} MiB before",
        common::mb_per_s(size, seconds),
        size,
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
