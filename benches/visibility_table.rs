//! The visibility table (archiver-kit: batches, compaction, Parquet segments, manifest) at
//! scale: `ARCHIVER_BENCH_RECORDS` records (default 100,000; the issue's figure is 1,000,000)
//! in one namespace, closing over ten days, on `file://` and, when `ARCHIVER_S3_ENDPOINT` is set
//! (`.ci/servers.sh`) and the `s3` feature is on, on S3 (SeaweedFS on loopback).
//!
//! Per store it prints: the load (records/s and writes per record, 1,000 concurrent callers at a
//! time, 20 ms batch window); the compaction (records/s, peak RSS of the process during it,
//! stored bytes against the records' JSON); every query case on a second, uncompacted copy
//! (one run: time, requests, bytes read); every case after compaction cold (a new table: nothing cached)
//! with requests and bytes read; then criterion's timing of each case warm. With
//! `ARCHIVER_DUCKDB_PYTHON` set (`.ci/duckdb.sh`), DuckDB runs the same filters over the same
//! `file://` segments (the live ones the manifest lists) and prints its median of 5 runs.
//!
//! `ARCHIVER_BENCH_RECORDS=1000000 cargo bench --bench visibility_table --features s3`

// Each bench uses only some of the shared helpers.
#[allow(dead_code)]
mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use archiver::object::ObjectStore;
use archiver::testing::search_attributes;
use archiver::{ArchiveOptions, ArchiveUri, QueryRequest, VisibilityArchiver, VisibilityRecord};
use archiver_kit::store::LocalStore;
use archiver_kit::table::{TableOptions, VisibilityTable};
use archiver_kit::testing::Instrumented;
use criterion::{Criterion, criterion_group, criterion_main};
use jiff::{SignedDuration, Timestamp};

/// Concurrent callers during the load.
const CALLERS: usize = 1000;
/// Days the records' close times span.
const DAYS: i64 = 10;
const TYPES: usize = 20;
const STATUSES: [&str; 5] = ["Completed", "Failed", "Canceled", "Terminated", "TimedOut"];

fn base() -> Timestamp {
    "2026-11-01T00:00:00Z".parse().expect("time")
}

fn record_count() -> usize {
    std::env::var("ARCHIVER_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

/// Record `i` of `n`: close times spread evenly over [`DAYS`] days.
fn record(i: usize, n: usize) -> VisibilityRecord {
    let span = DAYS * 86_400_000_000;
    let close = base()
        .checked_add(SignedDuration::from_micros(span / n as i64 * i as i64))
        .expect("time");
    let start = close
        .checked_sub(SignedDuration::from_secs((i % 3600) as i64 + 1))
        .expect("time");
    VisibilityRecord {
        namespace_id: "ns".into(),
        namespace: "bench".into(),
        workflow_id: format!("order-{i:09}"),
        run_id: format!(
            "{:016x}-{i:09}",
            (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ),
        workflow_type_name: format!("type-{}", i % TYPES),
        start_time: start,
        execution_time: start,
        close_time: close,
        status: STATUSES[i % STATUSES.len()].parse().expect("status"),
        history_length: (i % 1000) as i64 + 1,
        memo: i
            .is_multiple_of(3)
            .then(|| serde_json::json!({ "customer": format!("c-{}", i % 7919) })),
        search_attributes: BTreeMap::from([
            ("CustomKeyword".to_owned(), format!("kw-{}", i % 50_000)),
            ("CustomInt".to_owned(), (i % 100).to_string()),
        ]),
        history_archival_uri: format!("s3://history/ns/{i}"),
        execution_duration_nanos: Some(((i % 3600) as i64 + 1) * 1_000_000_000),
    }
}

/// The query cases, with their DuckDB equivalents (a WHERE clause, an ORDER BY and a LIMIT).
fn cases(n: usize) -> Vec<(&'static str, String, String, usize)> {
    let wf = record(n / 3, n).workflow_id;
    let run = record(2 * n / 3, n).run_id;
    let day = base()
        .checked_add(SignedDuration::from_hours(24 * 3))
        .expect("time");
    let next = day
        .checked_add(SignedDuration::from_hours(24))
        .expect("time");
    vec![
        (
            "workflow_id",
            format!("WorkflowId = '{wf}'"),
            format!("WorkflowId = '{wf}'"),
            100,
        ),
        (
            "run_id",
            format!("RunId = '{run}'"),
            format!("RunId = '{run}'"),
            100,
        ),
        (
            "one_day_page_100",
            format!("CloseTime >= '{day}' AND CloseTime < '{next}'"),
            format!("CloseTime >= TIMESTAMPTZ '{day}' AND CloseTime < TIMESTAMPTZ '{next}'"),
            100,
        ),
        (
            "type_and_status",
            "WorkflowType = 'type-7' AND ExecutionStatus = 'Failed'".into(),
            "WorkflowType = 'type-7' AND ExecutionStatus = 'Failed'".into(),
            100,
        ),
        (
            "custom_keyword",
            "CustomKeyword = 'kw-1234'".into(),
            "CustomKeyword = 'kw-1234'".into(),
            100,
        ),
        (
            "history_length_gt",
            "HistoryLength > 990".into(),
            "HistoryLength > 990".into(),
            100,
        ),
    ]
}

struct Bench<S> {
    name: &'static str,
    store: Instrumented<S>,
    /// Where the records are loaded and compacted.
    uri: ArchiveUri,
    /// Where they are loaded again and left uncompacted.
    raw_uri: ArchiveUri,
    n: usize,
}

impl<S: ObjectStore + Clone> Bench<S> {
    fn table(&self) -> VisibilityTable<Instrumented<S>> {
        VisibilityTable::with_options(
            self.store.clone(),
            // Compactions here are the bench's own, timed apart.
            TableOptions::default()
                .with_batch_window(Duration::from_millis(20))
                .with_auto_compaction(None),
        )
    }

    async fn load(&self, uri: &ArchiveUri) -> u64 {
        let table = self.table();
        let started = Instant::now();
        let puts = self.store.puts();
        let mut json_bytes = 0u64;
        let options = ArchiveOptions::default();
        for chunk in (0..self.n).collect::<Vec<_>>().chunks(CALLERS) {
            let records: Vec<_> = chunk.iter().map(|&i| record(i, self.n)).collect();
            json_bytes += records
                .iter()
                .map(|r| serde_json::to_vec(r).map_or(0, |v| v.len() as u64 + 1))
                .sum::<u64>();
            let calls = records
                .iter()
                .map(|record| table.archive(uri, record, &options));
            for result in futures::future::join_all(calls).await {
                result.expect("archive");
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let writes = self.store.puts() - puts;
        println!(
            "{}/load: {} records in {seconds:.1} s ({:.0} records/s), {writes} writes = {:.4} per record ({})",
            self.name,
            self.n,
            self.n as f64 / seconds,
            writes as f64 / self.n as f64,
            common::load()
        );
        json_bytes
    }

    async fn query_once(
        &self,
        table: &VisibilityTable<Instrumented<S>>,
        uri: &ArchiveUri,
        filter: &str,
        page: usize,
        label: &str,
    ) {
        let (reads, bytes) = (self.store.reads(), self.store.bytes_read());
        let started = Instant::now();
        let (response, stats) = table
            .query_with_stats(
                uri,
                &QueryRequest::new("ns", filter).with_page_size(page),
                &search_attributes(),
            )
            .await
            .expect("query");
        let ms = started.elapsed().as_secs_f64() * 1e3;
        let read = self.store.bytes_read() - bytes;
        println!(
            "{}/{label}: {ms:.1} ms, {} requests, {:.2} MB read, {} rows; {} segments read of {}, row groups: {} probed, {} read whole, of {}",
            self.name,
            self.store.reads() - reads,
            read as f64 / 1e6,
            response.executions.len(),
            stats.segments_read,
            stats.segments,
            stats.row_groups_probed,
            stats.row_groups_read,
            stats.row_groups,
        );
    }

    async fn compact(&self, json_bytes: u64) -> u64 {
        let table = self.table();
        let before = common::reset_peak_rss();
        let started = Instant::now();
        let report = table
            .compact(&self.uri, "ns", &search_attributes())
            .await
            .expect("compaction");
        let seconds = started.elapsed().as_secs_f64();
        let peak = common::peak_rss_bytes();
        let stored: u64 = table
            .segments(&self.uri, "ns")
            .await
            .expect("segments")
            .iter()
            .map(|s| s.bytes)
            .sum();
        println!(
            "{}/compact: {} records in {seconds:.1} s ({:.0} records/s, {} rounds), peak RSS {:.0} MiB (resident before: {:.0} MiB), {} segments, {:.1} MB stored = {:.3} of the records' JSON ({:.1} MB)",
            self.name,
            report.records_folded,
            report.records_folded as f64 / seconds,
            report.rounds,
            peak as f64 / (1 << 20) as f64,
            before as f64 / (1 << 20) as f64,
            report.segments_written,
            stored as f64 / 1e6,
            stored as f64 / json_bytes as f64,
            json_bytes as f64 / 1e6,
        );
        stored
    }
}

fn run<S: ObjectStore + Clone>(c: &mut Criterion, bench: Bench<S>, duckdb_root: Option<&str>) {
    let runtime = common::runtime();
    // Load and compact first, so the compaction's peak memory is its own; then load a second
    // copy to query uncompacted.
    let json_bytes = runtime.block_on(bench.load(&bench.uri));
    let stored = runtime.block_on(bench.compact(json_bytes));
    runtime.block_on(bench.load(&bench.raw_uri));
    let cases = cases(bench.n);
    for (label, filter, _, page) in &cases {
        let table = bench.table();
        runtime.block_on(bench.query_once(
            &table,
            &bench.raw_uri,
            filter,
            *page,
            &format!("uncompacted/{label}"),
        ));
    }
    for (label, filter, _, page) in &cases {
        let table = bench.table();
        runtime.block_on(bench.query_once(
            &table,
            &bench.uri,
            filter,
            *page,
            &format!("compacted_cold/{label}"),
        ));
    }
    let table = bench.table();
    let mut group = c.benchmark_group(format!("{}_table_{}", bench.name, bench.n));
    group.sample_size(10);
    for (label, filter, _, page) in &cases {
        let request = QueryRequest::new("ns", filter.as_str()).with_page_size(*page);
        // Once to fill the caches, then counted.
        runtime
            .block_on(table.query(&bench.uri, &request, &search_attributes()))
            .expect("query");
        runtime.block_on(bench.query_once(
            &table,
            &bench.uri,
            filter,
            *page,
            &format!("compacted_warm/{label}"),
        ));
        group.bench_function(*label, |b| {
            b.to_async(&runtime).iter(|| async {
                table
                    .query(&bench.uri, &request, &search_attributes())
                    .await
                    .expect("query")
            })
        });
    }
    group.finish();
    if let Some(root) = duckdb_root {
        let files: Vec<String> = runtime
            .block_on(table.segments(&bench.uri, "ns"))
            .expect("segments")
            .into_iter()
            .map(|s| format!("{root}/{}", s.key))
            .collect();
        duckdb(&bench, &files, &cases, stored);
    }
}

/// DuckDB over the live segment files: the median of 5 runs of each case.
fn duckdb<S>(
    bench: &Bench<S>,
    files: &[String],
    cases: &[(&'static str, String, String, usize)],
    stored: u64,
) {
    let Some(python) = std::env::var("ARCHIVER_DUCKDB_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
    else {
        println!(
            "{}/duckdb: skipped (ARCHIVER_DUCKDB_PYTHON is not set; source .ci/duckdb.sh)",
            bench.name
        );
        return;
    };
    let script = r#"
import json, sys, time, duckdb
request = json.load(sys.stdin)
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
files = ", ".join("'" + f.replace("'", "''") + "'" for f in request["files"])
con.execute(f"CREATE VIEW records AS SELECT * FROM read_parquet([{files}], hive_partitioning = true)")
out = {}
for name, where, limit in request["cases"]:
    sql = f"SELECT * FROM records WHERE {where} ORDER BY CloseTime DESC, StartTime DESC, RunId LIMIT {limit}"
    times, rows = [], 0
    for _ in range(5):
        t = time.perf_counter()
        rows = len(con.execute(sql).fetchall())
        times.append((time.perf_counter() - t) * 1e3)
    out[name] = [sorted(times)[2], rows]
json.dump(out, sys.stdout)
"#;
    let request = serde_json::json!({
        "files": files,
        "cases": cases.iter().map(|(name, _, sql, limit)| (name, sql, limit)).collect::<Vec<_>>(),
    });
    let mut child = std::process::Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start DuckDB");
    serde_json::to_writer(child.stdin.take().expect("stdin"), &request).expect("request");
    let output = child.wait_with_output().expect("DuckDB");
    let timings: BTreeMap<String, (f64, usize)> =
        serde_json::from_slice(&output.stdout).expect("DuckDB's answer");
    for (name, (ms, rows)) in timings {
        println!(
            "{}/duckdb/{name}: median {ms:.1} ms, {rows} rows (over {} files, {:.1} MB)",
            bench.name,
            files.len(),
            stored as f64 / 1e6
        );
    }
}

fn file(c: &mut Criterion) {
    let n = record_count();
    let dir = common::bench_dir(&format!("visibility-table-{n}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("bench dir");
    let root = dir.join("compacted").display().to_string();
    run(
        c,
        Bench {
            name: "file",
            store: Instrumented::new(LocalStore::new(), Duration::ZERO),
            uri: format!("file://{root}").parse().expect("uri"),
            raw_uri: format!("file://{}/raw", dir.display())
                .parse()
                .expect("uri"),
            n,
        },
        Some(&root),
    );
}

#[cfg(feature = "s3")]
fn s3(c: &mut Criterion) {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let Some(endpoint) = var("ARCHIVER_S3_ENDPOINT") else {
        println!("s3: skipped (ARCHIVER_S3_ENDPOINT is not set; source .ci/servers.sh)");
        return;
    };
    let bucket = var("ARCHIVER_S3_BUCKET").unwrap_or_else(|| "archiver-test".into());
    let settings = archiver::s3::S3Settings::new()
        .with_region(var("ARCHIVER_S3_REGION").unwrap_or_else(|| "us-east-1".into()))
        .with_endpoint(&endpoint)
        .with_force_path_style(true)
        .with_credentials(
            var("AWS_ACCESS_KEY_ID").unwrap_or_else(|| "archiver".into()),
            var("AWS_SECRET_ACCESS_KEY").unwrap_or_else(|| "archiver-secret".into()),
        );
    let n = record_count();
    let prefix = archiver::object::testing::unique();
    run(
        c,
        Bench {
            name: "s3",
            store: Instrumented::new(archiver::s3::S3Store::new(settings), Duration::ZERO),
            uri: format!("s3://{bucket}/{prefix}/table")
                .parse()
                .expect("uri"),
            raw_uri: format!("s3://{bucket}/{prefix}/raw").parse().expect("uri"),
            n,
        },
        None,
    );
}

#[cfg(not(feature = "s3"))]
fn s3(_: &mut Criterion) {
    println!("s3: skipped (build with --features s3)");
}

criterion_group!(benches, file, s3);
criterion_main!(benches);
