//! `SqlVisibilityStore::list` over N records (env `VISIBILITY_SQL_BENCH_ROWS`,
//! default 1,000,000): a selective filter (`WorkflowId = ...`) and a one-day
//! `CloseTime` range, first page of 100, on SQLite and, when
//! `VISIBILITY_SQL_POSTGRES_URL` is set (and the `postgres` feature is on), PostgreSQL.
//!
//! `cargo bench -p visibility-sql --all-features --bench list`
//!
//! Loading is done once: the SQLite file is kept in Cargo's target tmp dir
//! (named after N and the schema, renamed into place only when complete), and
//! PostgreSQL keeps the data in a namespace named after N, reused when it
//! already holds N rows (after a schema change, use a fresh database: `CREATE
//! INDEX IF NOT EXISTS` keeps old index definitions).

use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::{SignedDuration, Timestamp};
use visibility_query::sql::Dialect;
use visibility_query::{ExecutionStatus, FieldLayout, RecordValues, SearchAttributeType};
use visibility_sql::{Count, SqlVisibilityStore};

const CHUNK: usize = 20_000;
const DAY_US: i64 = 86_400_000_000;

fn rows() -> usize {
    std::env::var("VISIBILITY_SQL_BENCH_ROWS")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(1_000_000)
}

fn epoch() -> Timestamp {
    "2024-01-01T00:00:00Z".parse().unwrap()
}

/// Record `i`: starts spread over a year, 90% closed within an hour, 20 types,
/// a custom Keyword with 1000 values.
fn record(i: usize) -> RecordValues {
    // A fixed multiplicative hash: the same data on every run and engine.
    let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let start = epoch()
        .checked_add(SignedDuration::from_micros(
            (h % (365 * DAY_US as u64)) as i64,
        ))
        .unwrap();
    let mut r = RecordValues::new(
        format!("wf-{i}"),
        format!("run-{i:08}"),
        format!("Type{}", h % 20),
    )
    .with_start_time(start)
    .with_attribute("CustomerId", format!("customer-{}", (h >> 20) % 1000));
    r.execution_time = Some(start);
    if !(h >> 8).is_multiple_of(10) {
        let close = start
            .checked_add(SignedDuration::from_micros(
                ((h >> 16) % 3_600_000_000) as i64,
            ))
            .unwrap();
        r = r
            .with_close_time(close)
            .with_status(ExecutionStatus::ALL[1 + (h >> 4) as usize % 6]);
        r.history_length = Some(((h >> 32) % 500) as i64);
    }
    r
}

async fn load(store: &SqlVisibilityStore, ns: &str, n: usize) {
    if store.count(ns, "").await.unwrap() == Count::Total(n as u64) {
        return;
    }
    let _exists = store
        .create_search_attribute(ns, "CustomerId", SearchAttributeType::Keyword)
        .await;
    let t = Instant::now();
    for lo in (0..n).step_by(CHUNK) {
        let batch: Vec<RecordValues> = (lo..(lo + CHUNK).min(n)).map(record).collect();
        store.upsert_many(ns, &batch).await.unwrap();
    }
    store.optimize().await.unwrap();
    eprintln!(
        "loaded {n} rows into {ns} in {:.1?} (with ANALYZE)",
        t.elapsed()
    );
}

async fn sqlite(n: usize) -> SqlVisibilityStore {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    // Keyed by the schema too: a changed index set means a fresh load.
    let mut h = std::hash::DefaultHasher::new();
    Dialect::Sqlite
        .schema(&FieldLayout::temporal_sql())
        .hash(&mut h);
    let name = format!("visibility-sql-bench-{n}-{:016x}.db", h.finish());
    let path = dir.join(&name);
    if !path.exists() {
        let tmp = dir.join(format!("{name}.loading"));
        for suffix in ["", "-wal", "-shm"] {
            let _absent = std::fs::remove_file(format!("{}{suffix}", tmp.display()));
        }
        let s = open(&format!("sqlite:{}", tmp.display())).await;
        load(&s, "bench", n).await;
        s.close().await;
        std::fs::rename(&tmp, &path).unwrap();
    }
    open(&format!("sqlite:{}", path.display())).await
}

async fn open(url: &str) -> SqlVisibilityStore {
    let s = SqlVisibilityStore::builder()
        .url(url)
        .build()
        .await
        .unwrap();
    s.setup().await.unwrap();
    s
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let n = rows();
    let mut engines = vec![("sqlite", "bench".to_owned(), rt.block_on(sqlite(n)))];
    if cfg!(feature = "postgres")
        && let Ok(url) = std::env::var("VISIBILITY_SQL_POSTGRES_URL")
    {
        let ns = format!("bench-{n}");
        let s = rt.block_on(async {
            let s = open(&url).await;
            load(&s, &ns, n).await;
            s
        });
        engines.push(("postgres", ns, s));
    }
    let day = epoch()
        .checked_add(SignedDuration::from_hours(24 * 180))
        .unwrap();
    let next = day.checked_add(SignedDuration::from_hours(24)).unwrap();
    let filters = [
        ("workflow_id_eq", format!("WorkflowId = 'wf-{}'", n / 2)),
        (
            "close_time_one_day",
            format!("CloseTime >= '{day}' AND CloseTime < '{next}'"),
        ),
    ];
    let mut g = c.benchmark_group(format!("sql_list_{n}"));
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    for (engine, ns, store) in &engines {
        for (name, filter) in &filters {
            let page = rt.block_on(store.list(ns, filter, 100, None)).unwrap();
            eprintln!(
                "{engine} {name}: {} rows on the first page",
                page.records.len()
            );
            g.bench_function(format!("{engine}/{name}"), |b| {
                b.to_async(&rt)
                    .iter(|| async { store.list(ns, filter, 100, None).await.unwrap() })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
