//! Parquet segments: how fast records become a segment (what compaction does) and come back, and
//! how many bytes a record costs in a segment against the per-record JSON the providers store
//! today. `ARCHIVER_BENCH_RECORDS` sets the count (default 100,000).
//!
//! The records look like a busy namespace's day: UUID-shaped workflow and run ids, 20 workflow
//! types, every status, close times across one day, a small memo on half of them, and five
//! custom search attributes of different types.

use std::collections::BTreeMap;
use std::hint::black_box;

use archiver_core::VisibilityRecord;
use archiver_kit::segment::{SegmentOptions, decode_segment, encode_segment};
use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jiff::{SignedDuration, Timestamp};
use visibility_query::{ExecutionStatus, SearchAttributeType as T, SearchAttributes};

fn count() -> usize {
    std::env::var("ARCHIVER_BENCH_RECORDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000)
}

fn attributes() -> SearchAttributes {
    SearchAttributes::new()
        .with_custom("CustomerId", T::Keyword)
        .with_custom("Region", T::Keyword)
        .with_custom("Amount", T::Double)
        .with_custom("Attempts", T::Int)
        .with_custom("Tags", T::KeywordList)
}

/// A deterministic stream of pseudo-random numbers (xorshift), so every run benches the same
/// records.
fn uuid(state: &mut u64) -> String {
    let mut next = || {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    };
    let (a, b) = (next(), next());
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

fn records(n: usize) -> Vec<VisibilityRecord> {
    const STATUSES: [ExecutionStatus; 6] = [
        ExecutionStatus::Completed,
        ExecutionStatus::Failed,
        ExecutionStatus::Canceled,
        ExecutionStatus::Terminated,
        ExecutionStatus::ContinuedAsNew,
        ExecutionStatus::TimedOut,
    ];
    let day: Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    (0..n)
        .map(|i| {
            let close =
                day + SignedDuration::from_nanos((86_400_000_000_000 / n as i64) * i as i64);
            let start = close - SignedDuration::from_millis(1_000 + (i as i64 * 7_919) % 3_600_000);
            let workflow_id = format!("order-{}", uuid(&mut state));
            VisibilityRecord {
                namespace_id: "8c1b4e2a-5a43-4d0e-9c1e-2f6f2b7d9a10".into(),
                namespace: "payments-prod".into(),
                run_id: uuid(&mut state),
                workflow_type_name: format!("workflow-type-{}", i % 20),
                start_time: start,
                execution_time: start,
                close_time: close,
                status: STATUSES[i % STATUSES.len()],
                history_length: 11 + (i as i64 * 31) % 500,
                memo: (i % 2 == 0).then(|| serde_json::json!({"source": "api", "batch": i % 97})),
                search_attributes: BTreeMap::from([
                    ("CustomerId".into(), format!("customer-{}", i % 5_000)),
                    (
                        "Region".into(),
                        ["eu-west-1", "us-east-1", "ap-south-1"][i % 3].into(),
                    ),
                    ("Amount".into(), format!("{}", (i % 10_000) as f64 / 4.0)),
                    ("Attempts".into(), (1 + i % 4).to_string()),
                    (
                        "Tags".into(),
                        serde_json::to_string(&["priority", "retail"][..1 + i % 2]).unwrap(),
                    ),
                ]),
                history_archival_uri: format!("s3://archive-bucket/history/{workflow_id}"),
                workflow_id,
                execution_duration_nanos: Some((close - start).as_nanos() as i64),
            }
        })
        .collect()
}

fn segments(c: &mut Criterion) {
    let n = count();
    let records = records(n);
    let attributes = attributes();
    let options = SegmentOptions::default();
    let json_bytes: usize = records
        .iter()
        .map(|r| serde_json::to_vec(r).unwrap().len())
        .sum();
    let segment = encode_segment(records.clone(), &attributes, &options).unwrap();
    eprintln!(
        "{n} records: per-record JSON {json_bytes} bytes ({:.0}/record), segment {} bytes \
         ({:.1}/record): {:.3} of the JSON",
        json_bytes as f64 / n as f64,
        segment.len(),
        segment.len() as f64 / n as f64,
        segment.len() as f64 / json_bytes as f64
    );

    let mut group = c.benchmark_group("segment");
    group
        .sample_size(10)
        .throughput(Throughput::Elements(n as u64));
    group.bench_function(format!("encode_{n}"), |b| {
        b.iter_batched(
            || records.clone(),
            |records| black_box(encode_segment(records, &attributes, &options).unwrap()),
            criterion::BatchSize::LargeInput,
        )
    });
    let bytes = Bytes::from(segment);
    group.bench_function(format!("decode_{n}"), |b| {
        b.iter(|| black_box(decode_segment(bytes.clone()).unwrap()))
    });
    // The floor the JSON providers pay to turn records into bytes, for scale.
    group.bench_function(format!("json_per_record_{n}"), |b| {
        b.iter(|| {
            for r in &records {
                black_box(serde_json::to_vec(r).unwrap());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, segments);
criterion_main!(benches);
