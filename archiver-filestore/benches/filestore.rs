//! Filestore throughput against its anchors.
//!
//! - `archive_64MiB/*`: archiving one ~64 MiB history (2 MiB blobs) with the filestore, with the
//!   in-memory provider (same iterator and JSON encoding, no disk: the CPU floor), and a plain
//!   write + fdatasync of the same encoded bytes (the disk floor).
//! - `get_first_page`: the first 100-event page of that archive.
//! - `visibility_10k/*`: one record archived (durable, one file) beside a plain write + fsync +
//!   rename + directory fsync of the same bytes, and queries over 10,000 records: an equality
//!   the file names prune, and the whole namespace's first page.
//!
//! `cargo bench -p archiver-filestore --bench filestore`

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use archiver_core::history::{
    History, HistoryPage, HistorySource, ReadHistoryRequest, RunKey, encode_batch,
};
use archiver_core::testing::{search_attributes, test_history, test_records, test_request};
use archiver_core::{
    ArchiveOptions, ArchiveUri, GetHistoryRequest, HistoryArchiver, MemoryHistoryArchiver,
    QueryRequest, Result, VisibilityArchiver,
};
use archiver_filestore::{FilestoreHistoryArchiver, FilestoreVisibilityArchiver};
use async_trait::async_trait;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const HISTORY_BYTES: usize = 64 << 20;

fn uri_of(dir: &std::path::Path) -> ArchiveUri {
    ArchiveUri::parse(&format!("file://{}", dir.display())).unwrap()
}

/// One run's history, paged by binary search like an indexed store. (`MemoryHistorySource`
/// scans from the first batch on every read, which makes a 64 MiB archive quadratic and
/// would measure the source, not the archiver.)
#[derive(Debug)]
struct IndexedSource {
    batches: Vec<History>,
}

#[async_trait]
impl HistorySource for IndexedSource {
    async fn read_history(&self, request: &ReadHistoryRequest) -> Result<HistoryPage> {
        let start = match &request.next_page_token {
            Some(token) => i64::from_be_bytes(token.as_slice().try_into().unwrap()),
            None => request.first_event_id,
        };
        let first = |b: &History| b.first_event_id().unwrap_or(i64::MAX);
        let at = self.batches.partition_point(|b| first(b) < start);
        let mut page = HistoryPage::default();
        let mut events = 0;
        for (i, batch) in self.batches[at..].iter().enumerate() {
            if first(batch) >= request.next_event_id {
                break;
            }
            events += batch.events.len();
            page.batches.push(batch.clone());
            if events >= request.page_size.max(1) {
                page.next_page_token = self
                    .batches
                    .get(at + i + 1)
                    .map(|b| first(b).to_be_bytes().to_vec());
                break;
            }
        }
        Ok(page)
    }
}

/// A history of about [`HISTORY_BYTES`] encoded, and its encoded size.
fn big_history() -> (Vec<History>, usize) {
    let mut batches = 1_000;
    loop {
        let history = test_history(11, batches, 1);
        let bytes: usize = history.iter().map(|b| encode_batch(b).unwrap().len()).sum();
        if bytes >= HISTORY_BYTES {
            return (history, bytes);
        }
        batches = batches * HISTORY_BYTES / bytes + 1;
    }
}

fn history(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (history, bytes) = big_history();
    let run = RunKey::new("ns", "big", "run");
    let request = test_request(&run, &history, 1);
    let encoded: Vec<u8> = history
        .iter()
        .flat_map(|b| encode_batch(b).unwrap())
        .collect();
    let source = Arc::new(IndexedSource { batches: history });

    let mut group = c.benchmark_group("archive_64MiB");
    group
        .sample_size(10)
        .throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("filestore", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
                let archiver = FilestoreHistoryArchiver::new(source.clone());
                let start = Instant::now();
                runtime
                    .block_on(archiver.archive(
                        &uri_of(dir.path()),
                        &request,
                        &ArchiveOptions::default(),
                    ))
                    .unwrap();
                total += start.elapsed();
            }
            total
        })
    });
    group.bench_function("memory_provider", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let archiver = MemoryHistoryArchiver::new(source.clone());
                let start = Instant::now();
                runtime
                    .block_on(archiver.archive(
                        &"memory://bench/a".parse().unwrap(),
                        &request,
                        &ArchiveOptions::default(),
                    ))
                    .unwrap();
                total += start.elapsed();
            }
            total
        })
    });
    group.bench_function("write_fdatasync", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
                let start = Instant::now();
                let mut file = std::fs::File::create(dir.path().join("plain")).unwrap();
                for chunk in encoded.chunks(2 << 20) {
                    file.write_all(chunk).unwrap();
                }
                file.sync_data().unwrap();
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();

    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let uri = uri_of(dir.path());
    let archiver = FilestoreHistoryArchiver::new(source);
    runtime
        .block_on(archiver.archive(&uri, &request, &ArchiveOptions::default()))
        .unwrap();
    let get = GetHistoryRequest::new("ns", "big", "run", 100);
    c.bench_function("get_first_page_of_64MiB", |b| {
        b.iter(|| runtime.block_on(archiver.get(&uri, &get)).unwrap())
    });
}

fn visibility(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let uri = uri_of(dir.path());
    let archiver = FilestoreVisibilityArchiver::new();
    let records = test_records("ns", 10_000);
    runtime.block_on(async {
        for record in &records {
            archiver
                .archive(&uri, record, &ArchiveOptions::default())
                .await
                .unwrap();
        }
    });
    let attributes = search_attributes();
    let mut group = c.benchmark_group("visibility_10k");
    group.sample_size(20);
    let mut n = 0;
    group.bench_function("archive_one_record", |b| {
        b.iter(|| {
            let mut record = records[n % records.len()].clone();
            record.run_id = format!("bench-{n}");
            n += 1;
            runtime
                .block_on(archiver.archive(&uri, &record, &ArchiveOptions::default()))
                .unwrap()
        })
    });
    let plain_dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let payload = serde_json::to_vec(&records[0]).unwrap();
    let mut m = 0;
    group.bench_function("plain_write_fsync_rename_dirsync", |b| {
        b.iter(|| {
            let temp = plain_dir.path().join(format!(".tmp-{m}"));
            let mut file = std::fs::File::create(&temp).unwrap();
            file.write_all(&payload).unwrap();
            file.sync_data().unwrap();
            std::fs::rename(&temp, plain_dir.path().join(format!("{m}.vis"))).unwrap();
            std::fs::File::open(plain_dir.path())
                .unwrap()
                .sync_all()
                .unwrap();
            m += 1;
        })
    });
    let by_id = QueryRequest::new("ns", "WorkflowId = 'wf-4242'");
    group.bench_function("query_workflow_id", |b| {
        b.iter(|| {
            runtime
                .block_on(archiver.query(&uri, &by_id, &attributes))
                .unwrap()
        })
    });
    let all = QueryRequest::new("ns", "");
    group.bench_function("query_all_first_page", |b| {
        b.iter(|| {
            runtime
                .block_on(archiver.query(&uri, &all, &attributes))
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, history, visibility);
criterion_main!(benches);
