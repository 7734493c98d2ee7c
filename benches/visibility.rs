//! Visibility on the `file://` provider: durable archive rate with 8 concurrent callers, and
//! query latency over 100,000 records (`ARCHIVER_BENCH_RECORDS` to change the count).
//!
//! The 100,000 records are archived once into `target/bench-data/visibility-<n>` and reused by
//! later runs (a marker file says the set is complete).

// Each bench uses only some of the shared helpers.
#[allow(dead_code)]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use archiver::filestore::FilestoreVisibilityArchiver;
use archiver::testing::{search_attributes, test_records};
use archiver::{ArchiveOptions, ArchiveUri, QueryRequest, VisibilityArchiver};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const CALLERS: u64 = 8;

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

fn archive(c: &mut Criterion) {
    let rt = runtime();
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
    group.finish();
    std::fs::remove_dir_all(&dir).ok();
}

/// The query data set, archived once (8 concurrent callers) and then reused.
fn dataset(
    rt: &tokio::runtime::Runtime,
    count: usize,
) -> (ArchiveUri, Arc<FilestoreVisibilityArchiver>) {
    let dir = common::bench_dir(&format!("visibility-{count}"));
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
    let rt = runtime();
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
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = archive, query
}
criterion_main!(benches);
