//! Visibility on the `file://` provider: durable archive rate with 8 concurrent callers, and
//! query latency over 100,000 records (`ARCHIVER_BENCH_RECORDS` to change the count).
//!
//! Anchors in the same run: `plain_write_fsync_rename_dirsync` (one caller doing what a durable
//! record needs with no sharing: the per-record floor without group commit), and the same
//! queries on core's in-memory provider (the CPU floor: no file system, every record checked).
//!
//! The 100,000 records are archived once into `target/bench-data/visibility-<layout>-<n>` and
//! reused by later runs (a marker file says the set is complete; the layout tag changes when
//! the filestore layout does).

// Each bench uses only some of the shared helpers.
#[allow(dead_code)]
mod common;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use archiver::filestore::FilestoreVisibilityArchiver;
use archiver::testing::{search_attributes, test_records};
use archiver::{
    ArchiveOptions, ArchiveUri, MemoryVisibilityArchiver, QueryRequest, VisibilityArchiver,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const CALLERS: u64 = 8;

/// Names the data set directory: bump when the filestore layout changes (here: workflow
/// index v1).
const LAYOUT_TAG: &str = "v1-idx1";

fn uri_of(dir: &std::path::Path) -> ArchiveUri {
    format!("file://{}", dir.display()).parse().expect("uri")
}

fn archive(c: &mut Criterion) {
    let rt = common::runtime();
    let dir = common::bench_dir("visibility-archive");
    let uri = uri_of(&dir);
    let archiver = Arc::new(FilestoreVisibilityArchiver::new());
    let template = test_records("bench-ns", 1).remove(0);
    let next = Arc::new(AtomicU64::new(0));
    let mut group = c.benchmark_group("visibility_archive");
    group.sample_size(10).throughput(Throughput::Elements(1));
    group.bench_function("filestore_8_callers", |b| {
        b.iter_custom(|iters| {
            let started = Instant::now();
            rt.block_on(async {
                let tasks: Vec<_> = (0..CALLERS)
                    .map(|caller| {
                        let (archiver, uri, next) = (archiver.clone(), uri.clone(), next.clone());
                        let mut record = template.clone();
                        let share = iters / CALLERS + u64::from(caller < iters % CALLERS);
                        tokio::spawn(async move {
                            for _ in 0..share {
                                let n = next.fetch_add(1, Ordering::Relaxed);
                                record.workflow_id = format!("wf-{n}");
                                record.run_id = format!("run-{n}");
                                archiver
                                    .archive(&uri, &record, &ArchiveOptions::default())
                                    .await
                                    .expect("archive");
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.expect("caller");
                }
            });
            started.elapsed()
        })
    });
    let plain = common::bench_dir("visibility-plain");
    let payload = serde_json::to_vec(&template).expect("encode");
    let mut m = 0_u64;
    group.bench_function("plain_write_fsync_rename_dirsync", |b| {
        b.iter(|| {
            let temp = plain.join(format!(".tmp-{m}"));
            let mut file = std::fs::File::create(&temp).expect("create");
            file.write_all(&payload).expect("write");
            file.sync_data().expect("fsync");
            std::fs::rename(&temp, plain.join(format!("{m}.vis"))).expect("rename");
            std::fs::File::open(&plain)
                .and_then(|d| d.sync_all())
                .expect("dir fsync");
            m += 1;
        })
    });
    group.finish();
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&plain).ok();
}

/// The query data set, archived once (8 concurrent callers) and then reused.
fn dataset(
    rt: &tokio::runtime::Runtime,
    count: usize,
) -> (ArchiveUri, Arc<FilestoreVisibilityArchiver>) {
    let dir = common::bench_dir(&format!("visibility-{LAYOUT_TAG}-{count}"));
    let uri = uri_of(&dir);
    let archiver = Arc::new(FilestoreVisibilityArchiver::new());
    let marker = dir.join("complete");
    if !marker.exists() {
        let records = Arc::new(test_records("bench-ns", count));
        let started = Instant::now();
        rt.block_on(async {
            let tasks: Vec<_> = (0..CALLERS as usize)
                .map(|caller| {
                    let (archiver, uri, records) = (archiver.clone(), uri.clone(), records.clone());
                    tokio::spawn(async move {
                        for record in records.iter().skip(caller).step_by(CALLERS as usize) {
                            archiver
                                .archive(&uri, record, &ArchiveOptions::default())
                                .await
                                .expect("archive");
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("caller");
            }
        });
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "visibility dataset: {count} records archived in {seconds:.1} s ({:.0} records/s, 8 callers)",
            count as f64 / seconds
        );
        std::fs::write(&marker, b"").expect("marker");
    }
    (uri, archiver)
}

fn query(c: &mut Criterion) {
    let rt = common::runtime();
    let count = std::env::var("ARCHIVER_BENCH_RECORDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let (uri, archiver) = dataset(&rt, count);
    let attributes = search_attributes();
    // Records close a minute apart from 2026-01-01: day 10 holds 1,440 of them.
    let cases = [
        (
            "workflow_id_equality",
            format!("WorkflowId = 'wf-{}'", count / 2),
        ),
        (
            "one_day_close_time_first_100",
            "CloseTime >= '2026-01-10T00:00:00Z' AND CloseTime < '2026-01-11T00:00:00Z'".to_owned(),
        ),
        ("status_first_100", "ExecutionStatus = 'Failed'".to_owned()),
    ];
    let memory = MemoryVisibilityArchiver::new();
    let memory_uri: ArchiveUri = "memory://bench/visibility".parse().expect("uri");
    rt.block_on(async {
        for record in test_records("bench-ns", count) {
            memory
                .archive(&memory_uri, &record, &ArchiveOptions::default())
                .await
                .expect("archive in memory");
        }
    });
    let mut group = c.benchmark_group(format!("visibility_query_{count}"));
    group.sample_size(20);
    for (name, filter) in cases {
        let request = QueryRequest::new("bench-ns", filter).with_page_size(100);
        let found = rt
            .block_on(archiver.query(&uri, &request, &attributes))
            .expect("query")
            .executions
            .len();
        assert!(found > 0, "{name} found nothing");
        group.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(archiver.query(&uri, &request, &attributes))
                    .expect("query")
            })
        });
        group.bench_function(format!("{name}/memory_provider"), |b| {
            b.iter(|| {
                rt.block_on(memory.query(&memory_uri, &request, &attributes))
                    .expect("query")
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = archive, query
}
criterion_main!(benches);
