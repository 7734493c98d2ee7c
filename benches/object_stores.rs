//! The object-store providers against local servers: `s3://` on SeaweedFS (`.ci/servers.sh`)
//! and `gs://` on fake-gcs-server (`.ci/gcs-server.sh`). Per provider (`s3_*`, `gcs_*`):
//!
//! - `history_archive/archiver/64MB`: archive of a generated 64 MiB history, read from batches
//!   built before the timer (as in `history.rs`); next to it `raw_upload/64MB`: the very
//!   uploads that archive made (same count, sizes and order, one after another as the archiver
//!   sends them) straight through the provider's client (S3: aws-sdk-s3 `PutObject`; GCS: the
//!   gcloud-storage multipart upload `GcsStore::put` sends), without reading, encoding,
//!   checksums, the manifest check or the sweep. The ratio of the medians is printed.
//! - `history_get/first_page_100_events/64MB`: reading the first page back (manifest, then
//!   the one blob it needs).
//! - Requests per archived workflow (a 10-batch history plus its visibility record) and per
//!   64 MiB archive, counted by a proxy in front of the server
//!   ([`common::counting_proxy`]): real HTTP requests, retries included. Printed, not timed.
//! - `visibility_query_10000/<case>`: the first page (100) of a WorkflowId equality, a
//!   one-day CloseTime range and an ExecutionStatus filter over 10,000 records
//!   (`ARCHIVER_BENCH_RECORDS` to change), loaded once per run by 32 concurrent callers into a
//!   fresh prefix through the providers' visibility archiver (the kit's `VisibilityTable`,
//!   default options) and compacted once (untimed, as its background compaction would); the
//!   queries run on a warm table; requests per query printed.
//!
//! The servers run on loopback on the same (shared) machine as the bench: read the ratios and
//! request counts, and the load average printed beside each figure. A provider whose server
//! variables are not set is skipped, with a message naming them.
//!
//! `cargo bench --bench object_stores --features s3,gcs`

// Each bench uses only some of the shared helpers.
#[allow(dead_code)]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use archiver::gcs::{GcsSettings, GcsStore};
use archiver::kit::table::VisibilityTable;
use archiver::object::testing::{one_run, unique};
use archiver::object::{ObjectHistoryArchiver, ObjectStore, PutMode, list_all};
use archiver::s3::{S3Settings, S3Store};
use archiver::testing::{search_attributes, test_records};
use archiver::{
    ArchiveOptions, ArchiveUri, GetHistoryRequest, HistoryArchiver, QueryRequest,
    VisibilityArchiver,
};
use common::counting_proxy::CountingProxy;
use common::taken::{GeneratedBatches, TakenSource, time_archives};
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};

/// The history size archived, in MiB.
const HISTORY_MB: usize = 64;
/// Concurrent callers loading the visibility records.
const LOADERS: usize = 32;

/// A provider under test: its server, its store, and its client's plain upload.
trait Provider {
    type Store: ObjectStore + Clone;
    /// Names the groups: `s3`, `gcs`.
    const NAME: &'static str;
    /// The server's endpoint, `http://host:port`.
    fn endpoint(&self) -> &str;
    /// The bucket the bench writes to.
    fn bucket(&self) -> &str;
    /// A store reaching the server at `endpoint` (its own, or the counting proxy).
    fn store(&self, endpoint: &str) -> Self::Store;
    /// Uploads `body` at `key` with the provider's client and nothing else.
    fn raw_put(
        store: &Self::Store,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
    ) -> impl Future<Output = ()> + Send;
}

/// The variable `name`, when set and not empty.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// SeaweedFS (or any S3 server) from the variables `.ci/servers.sh` exports.
#[derive(Debug)]
struct S3 {
    endpoint: String,
    bucket: String,
    region: String,
    access_key_id: String,
    secret_access_key: String,
}

impl S3 {
    /// The server, or the names of the variables missing.
    fn from_env() -> Result<Self, Vec<&'static str>> {
        let required = [
            "ARCHIVER_S3_ENDPOINT",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
        ];
        let [endpoint, access_key_id, secret_access_key] = required.map(var);
        match (endpoint, access_key_id, secret_access_key) {
            (Some(endpoint), Some(access_key_id), Some(secret_access_key)) => Ok(S3 {
                endpoint,
                bucket: var("ARCHIVER_S3_BUCKET").unwrap_or_else(|| "archiver-test".into()),
                region: var("ARCHIVER_S3_REGION")
                    .or_else(|| var("AWS_REGION"))
                    .unwrap_or_else(|| "us-east-1".into()),
                access_key_id,
                secret_access_key,
            }),
            _ => Err(required.into_iter().filter(|v| var(v).is_none()).collect()),
        }
    }
}

impl Provider for S3 {
    type Store = S3Store;
    const NAME: &'static str = "s3";

    fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn bucket(&self) -> &str {
        &self.bucket
    }

    fn store(&self, endpoint: &str) -> S3Store {
        S3Store::new(
            S3Settings::new()
                .with_region(&self.region)
                .with_endpoint(endpoint)
                .with_force_path_style(true)
                .with_credentials(&self.access_key_id, &self.secret_access_key),
        )
    }

    async fn raw_put(store: &S3Store, bucket: &str, key: &str, body: Vec<u8>) {
        store
            .client()
            .await
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body.into())
            .send()
            .await
            .expect("raw PutObject");
    }
}

/// fake-gcs-server (or any GCS JSON API endpoint) from the variables `.ci/gcs-server.sh`
/// exports.
#[derive(Debug)]
struct Gcs {
    endpoint: String,
    bucket: String,
}

impl Gcs {
    /// The emulator, or the names of the variables missing.
    fn from_env() -> Result<Self, Vec<&'static str>> {
        let endpoint = var("ARCHIVER_GCS_ENDPOINT").ok_or(vec!["ARCHIVER_GCS_ENDPOINT"])?;
        Ok(Gcs {
            endpoint,
            bucket: var("ARCHIVER_GCS_BUCKET").unwrap_or_else(|| "archiver-test".into()),
        })
    }
}

impl Provider for Gcs {
    type Store = GcsStore;
    const NAME: &'static str = "gcs";

    fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn bucket(&self) -> &str {
        &self.bucket
    }

    fn store(&self, endpoint: &str) -> GcsStore {
        GcsStore::new(GcsSettings::new().with_endpoint(endpoint).with_anonymous())
    }

    /// The gcloud-storage client sits inside `GcsStore`; its `put` is one multipart upload (one
    /// request, the retry loop idle when nothing fails).
    async fn raw_put(store: &GcsStore, bucket: &str, key: &str, body: Vec<u8>) {
        store
            .put(bucket, key, body.into(), PutMode::Overwrite)
            .await
            .expect("raw upload");
    }
}

/// One provider's bench: its store straight to the server, a second one through the counting
/// proxy, and a fresh prefix for this run.
struct Bench<P: Provider> {
    rt: tokio::runtime::Runtime,
    store: P::Store,
    counted: P::Store,
    proxy: CountingProxy,
    base: String,
}

impl<P: Provider> Bench<P> {
    fn new(provider: &P) -> Self {
        let proxy = CountingProxy::start(provider.endpoint()).expect("start the counting proxy");
        let (store, counted) = (
            provider.store(provider.endpoint()),
            provider.store(&proxy.endpoint),
        );
        let base = format!(
            "{}://{}/bench-{}",
            store.scheme(),
            provider.bucket(),
            unique()
        );
        Bench {
            rt: common::runtime(),
            store,
            counted,
            proxy,
            base,
        }
    }

    /// `<base>/<tag>`.
    fn uri(&self, tag: &str) -> ArchiveUri {
        ArchiveUri::parse(&format!("{}/{tag}", self.base)).expect("bench URI")
    }

    /// Deletes everything under `uri` (untimed housekeeping).
    fn clear(&self, uri: &ArchiveUri) {
        let location = self.store.location(uri).expect("location");
        self.rt.block_on(async {
            let keys = list_all(&self.store, location.bucket(), location.prefix())
                .await
                .expect("list for cleanup");
            self.store
                .delete(location.bucket(), &keys)
                .await
                .expect("cleanup");
        });
    }

    /// Requests to archive a small workflow (history + visibility record), then to archive it
    /// again (which must upload nothing new).
    fn requests_per_workflow(&self) {
        let (source, run, history, request) = one_run("small-wf", 1, 10);
        let history_archiver = ObjectHistoryArchiver::new(self.counted.clone(), source);
        let visibility = VisibilityTable::new(self.counted.clone());
        let mut record = test_records(&run.namespace_id, 1).remove(0);
        record.workflow_id = run.workflow_id.clone();
        record.run_id = run.run_id.clone();
        let uri = self.uri("small-workflow");
        let options = ArchiveOptions::default();
        for pass in ["archive", "archive again"] {
            self.proxy.reset();
            self.rt.block_on(async {
                history_archiver
                    .archive(&uri, &request, &options)
                    .await
                    .expect("archive history");
                visibility
                    .archive(&uri, &record, &options)
                    .await
                    .expect("archive record");
            });
            println!(
                "{}/requests_per_workflow/{pass}: {} ({} batches of history, 1 visibility record; {})",
                P::NAME,
                self.proxy.counts(),
                history.len(),
                common::load()
            );
        }
        self.clear(&uri);
    }

    fn history_archive(&self, c: &mut Criterion) {
        let history = GeneratedBatches::new(HISTORY_MB, "large-wf");
        let options = ArchiveOptions::default();

        // One untimed archive through the proxy: its requests, and the uploads raw_upload sends.
        let uri = self.uri("history-counted");
        let archiver = ObjectHistoryArchiver::new(
            self.counted.clone(),
            TakenSource::new(history.batches.clone()),
        );
        self.proxy.reset();
        self.rt
            .block_on(archiver.archive(&uri, &history.request, &options))
            .expect("archive");
        let seen = self.proxy.seen();
        println!(
            "{}/requests_per_archive/{HISTORY_MB}MB: {} ({} bytes of history in {} blobs)",
            P::NAME,
            self.proxy.counts(),
            history.bytes,
            archiver.blob_writes()
        );
        self.first_page(c, &uri);
        self.clear(&uri);
        let uploads: Vec<usize> = seen
            .iter()
            .filter(|s| s.kind == "PUT")
            .map(|s| s.bytes as usize)
            .collect();
        let pattern: Vec<u8> = (0..uploads.iter().copied().max().unwrap_or(0))
            .map(|i| (i * 131 % 251) as u8)
            .collect();

        let mut group = c.benchmark_group(format!("{}_history_archive", P::NAME));
        // One archive per sample (flat sampling): 10 samples, after one warm-up archive.
        group
            .sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_millis(1))
            .measurement_time(Duration::from_secs(5))
            .throughput(Throughput::Bytes(history.bytes));
        let mut round = 0_u64;
        let mut archive_samples = Vec::new();
        group.bench_function(
            BenchmarkId::new("archiver", format!("{HISTORY_MB}MB")),
            |b| {
                b.iter_custom(|iters| {
                    round += 1;
                    let uri = |run: u64| self.uri(&format!("archive-{round}-{run}"));
                    let total = time_archives(
                        &self.rt,
                        iters,
                        &history.batches,
                        &history.request,
                        |source, run| {
                            (
                                ObjectHistoryArchiver::new(self.store.clone(), source),
                                uri(run),
                            )
                        },
                        |run| self.clear(&uri(run)),
                    );
                    archive_samples.push(total / iters as u32);
                    total
                })
            },
        );
        let mut raw_samples = Vec::new();
        group.bench_function(
            BenchmarkId::new("raw_upload", format!("{HISTORY_MB}MB")),
            |b| {
                b.iter_custom(|iters| {
                    round += 1;
                    let mut total = Duration::ZERO;
                    for run in 0..iters {
                        let uri = self.uri(&format!("raw-{round}-{run}"));
                        let location = self.store.location(&uri).expect("location");
                        let bodies: Vec<Vec<u8>> =
                            uploads.iter().map(|&n| pattern[..n].to_vec()).collect();
                        let started = Instant::now();
                        self.rt.block_on(async {
                            for (i, body) in bodies.into_iter().enumerate() {
                                let key = format!("{}raw-{i}", location.prefix());
                                P::raw_put(&self.store, location.bucket(), &key, body).await;
                            }
                        });
                        total += started.elapsed();
                        self.clear(&uri);
                    }
                    raw_samples.push(total / iters as u32);
                    total
                })
            },
        );
        group.finish();
        // The first sample of each is criterion's warm-up call.
        let (archive, raw) = (median(&archive_samples[1..]), median(&raw_samples[1..]));
        let uploaded: usize = uploads.iter().sum();
        println!(
            "{}/history_archive/{HISTORY_MB}MB: archiver median {:.0} ms ({:.1} MB/s of history), \
             raw upload of the same {} objects ({} bytes) {:.0} ms ({:.1} MB/s); \
             archiver/raw time ratio {:.2} ({} and {} samples; {})",
            P::NAME,
            archive.as_secs_f64() * 1e3,
            common::mb_per_s(history.bytes, archive.as_secs_f64()),
            uploads.len(),
            uploaded,
            raw.as_secs_f64() * 1e3,
            common::mb_per_s(uploaded as u64, raw.as_secs_f64()),
            archive.as_secs_f64() / raw.as_secs_f64(),
            archive_samples.len() - 1,
            raw_samples.len() - 1,
            common::load()
        );
    }

    /// Latency and requests of reading the first page (100 events) of the history archived at
    /// `uri`.
    fn first_page(&self, c: &mut Criterion, uri: &ArchiveUri) {
        let get = GetHistoryRequest::new("bench-ns", "large-wf", "run", 100);
        let reader = |store: &P::Store| {
            ObjectHistoryArchiver::new(store.clone(), TakenSource::new(Vec::new()))
        };
        let (timed, counted) = (reader(&self.store), reader(&self.counted));
        self.proxy.reset();
        let page = self
            .rt
            .block_on(counted.get(uri, &get))
            .expect("first page");
        assert!(
            page.next_page_token.is_some(),
            "a 64 MiB history has more pages"
        );
        println!(
            "{}/requests_per_get/first_page_100_events/{HISTORY_MB}MB: {} ({})",
            P::NAME,
            self.proxy.counts(),
            common::load()
        );
        let mut group = c.benchmark_group(format!("{}_history_get", P::NAME));
        group
            .sample_size(20)
            .measurement_time(Duration::from_secs(5));
        group.bench_function(
            BenchmarkId::new("first_page_100_events", format!("{HISTORY_MB}MB")),
            |b| b.iter(|| self.rt.block_on(timed.get(uri, &get)).expect("get")),
        );
        group.finish();
    }

    /// Loads the records once into a fresh prefix, then times and counts the three queries.
    fn visibility_queries(&self, c: &mut Criterion) {
        let count: usize = var("ARCHIVER_BENCH_RECORDS")
            .and_then(|n| n.parse().ok())
            .unwrap_or(10_000);
        let uri = self.uri("visibility");
        self.load(&uri, count);
        let attributes = search_attributes();
        let started = Instant::now();
        let report = self
            .rt
            .block_on(VisibilityTable::new(self.store.clone()).compact(
                &uri,
                "bench-ns",
                &attributes,
            ))
            .expect("compaction");
        println!(
            "{}/visibility_compaction: {} records folded in {:.1} s ({})",
            P::NAME,
            report.records_folded,
            started.elapsed().as_secs_f64(),
            common::load()
        );

        // Record i closes at minute i from 2026-01-01: day 3 holds 1,440 of them.
        let cases = [
            (
                "workflow_id_equality",
                format!("WorkflowId = 'wf-{}'", count / 2),
            ),
            (
                "one_day_close_time_first_100",
                "CloseTime >= '2026-01-03T00:00:00Z' AND CloseTime < '2026-01-04T00:00:00Z'"
                    .to_owned(),
            ),
            ("status_first_100", "ExecutionStatus = 'Failed'".to_owned()),
        ];
        let timed = VisibilityTable::new(self.store.clone());
        let counted = VisibilityTable::new(self.counted.clone());
        let mut group = c.benchmark_group(format!("{}_visibility_query_{count}", P::NAME));
        group
            .sample_size(20)
            .measurement_time(Duration::from_secs(5));
        for (name, filter) in cases {
            let request = QueryRequest::new("bench-ns", filter.as_str()).with_page_size(100);
            self.proxy.reset();
            let page = self
                .rt
                .block_on(counted.query(&uri, &request, &attributes))
                .expect("query");
            assert!(!page.executions.is_empty(), "{name} found nothing");
            println!(
                "{}/requests_per_query/{name}: {} for {} results{} ({filter}; {})",
                P::NAME,
                self.proxy.counts(),
                page.executions.len(),
                if page.next_page_token.is_some() {
                    " and a next page"
                } else {
                    ""
                },
                common::load()
            );
            group.bench_function(name, |b| {
                b.iter(|| {
                    self.rt
                        .block_on(timed.query(&uri, &request, &attributes))
                        .expect("query")
                })
            });
        }
        group.finish();
        self.clear(&uri);
    }

    /// Archives `count` records under `uri`, [`LOADERS`] callers at once.
    fn load(&self, uri: &ArchiveUri, count: usize) {
        let records = Arc::new(test_records("bench-ns", count));
        let archiver = Arc::new(VisibilityTable::new(self.store.clone()));
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        self.rt.block_on(async {
            let callers: Vec<_> = (0..LOADERS)
                .map(|_| {
                    let (records, archiver, next, uri) =
                        (records.clone(), archiver.clone(), next.clone(), uri.clone());
                    tokio::spawn(async move {
                        while let Some(record) = records.get(next.fetch_add(1, Ordering::Relaxed)) {
                            archiver
                                .archive(&uri, record, &ArchiveOptions::default())
                                .await
                                .expect("archive record");
                        }
                    })
                })
                .collect();
            for caller in callers {
                caller.await.expect("loader");
            }
        });
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{}/visibility_load: {count} records in {seconds:.1} s ({:.0} records/s, {LOADERS} callers; {})",
            P::NAME,
            count as f64 / seconds,
            common::load()
        );
    }
}

/// The median of `samples` (the upper one of an even count).
fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

/// Runs every group of `provider`, or says why it is skipped.
fn run<P: Provider>(c: &mut Criterion, provider: Result<P, Vec<&'static str>>) {
    let provider = match provider {
        Ok(provider) => provider,
        Err(missing) => {
            eprintln!(
                "object_stores: skipping the {} groups: {} not set (source .ci/servers.sh and \
                 .ci/gcs-server.sh to start the local servers)",
                P::NAME,
                missing.join(", ")
            );
            return;
        }
    };
    let bench = Bench::new(&provider);
    bench.requests_per_workflow();
    bench.history_archive(c);
    bench.visibility_queries(c);
}

fn s3(c: &mut Criterion) {
    run(c, S3::from_env());
}

fn gcs(c: &mut Criterion) {
    run(c, Gcs::from_env());
}

criterion_group!(benches, s3, gcs);
criterion_main!(benches);
