//! Parse + check speed of list filters, beside two anchors: `sqlparser` 0.64
//! (GenericDialect) parsing the same filter wrapped the way Temporal wraps it,
//! and a loop that reads every byte once (the floor).
//!
//! The corpus: 20 filters from 23 bytes to 4 KB (equalities, AND/OR with
//! parentheses, IN lists, BETWEEN, ORDER BY, GROUP BY, custom attributes), the
//! set Temporal's Go parser was timed on, without its two LIKE filters (the
//! language refuses LIKE).
//!
//! `cargo bench --bench list_filter -- --warm-up-time 1 --measurement-time 3`
//!
//! With `LIST_FILTER_CLOCK=cpu` every timing is this thread's CPU time (from
//! `/proc/thread-self/schedstat`) instead of wall time. On a shared machine
//! wall time also counts the time other processes ran, which is most of the
//! noise; the ratios between the three rows are what the targets are about.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Bencher, Criterion, Throughput, criterion_group, criterion_main};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;
use visibility_query::{SearchAttributeType as T, SearchAttributes, compile};

const CORPUS: &str = r#"eq_simple	WorkflowType = 'OrderProcessingWorkflow'
eq_workflowid	WorkflowId = 'order-7f3c2a9e-1b4d-4c8e-9a2f-3d5e6f7a8b9c'
and2_status	WorkflowType = 'OrderProcessingWorkflow' AND ExecutionStatus = 'Running'
and3_time	WorkflowType = 'foo' AND ExecutionStatus = 'Running' AND StartTime > '2023-01-01T00:00:00Z'
andor5_parens	(WorkflowType = 'OrderProcessingWorkflow' OR WorkflowType = 'RefundWorkflow') AND (ExecutionStatus = 'Running' OR ExecutionStatus = 'ContinuedAsNew') AND StartTime >= '2024-03-01T00:00:00Z'
andor5_nested	ExecutionStatus = 'Failed' AND (CloseTime > '2024-05-01T00:00:00Z' AND CloseTime < '2024-05-02T00:00:00Z') AND (TaskQueue = 'payments' OR (TaskQueue = 'billing' AND CustomKeywordField = 'priority'))
neq_isnull	ExecutionStatus != 'Completed' AND CloseTime IS NULL AND TemporalChangeVersion IS NOT NULL
in5_status	ExecutionStatus IN ('Running', 'Failed', 'TimedOut', 'Canceled', 'Terminated')
in50_ids	WorkflowId IN ('order-00000-1c9e59ec', 'order-00001-4e89d81a', 'order-00002-867d5f81', 'order-00003-c48feddb', 'order-00004-f8a83777', 'order-00005-7ae59509', 'order-00006-28b822c8', 'order-00007-73e90f53', 'order-00008-c3db334c', 'order-00009-d156de59', 'order-00010-e00c9e84', 'order-00011-bbb1a246', 'order-00012-5f2c5ba3', 'order-00013-d170ce48', 'order-00014-28cc838c', 'order-00015-c2eb363d', 'order-00016-c66ee343', 'order-00017-9cabd771', 'order-00018-04ef2b0f', 'order-00019-7c69355d', 'order-00020-e81692cc', 'order-00021-69802a5d', 'order-00022-45d81c2c', 'order-00023-d6009f11', 'order-00024-d589055d', 'order-00025-8ded71d4', 'order-00026-50ec0964', 'order-00027-a802e9e6', 'order-00028-1f5e1d42', 'order-00029-94fa0ceb', 'order-00030-5c179016', 'order-00031-89bb7fe1', 'order-00032-16e58499', 'order-00033-8073f4f0', 'order-00034-131e8e08', 'order-00035-04db3d5c', 'order-00036-038b3216', 'order-00037-dbac673a', 'order-00038-3aa880c2', 'order-00039-ec131777', 'order-00040-8bb8f0af', 'order-00041-32d0057a', 'order-00042-827d75c1', 'order-00043-1b369b5b', 'order-00044-1f43b731', 'order-00045-8e31dc3a', 'order-00046-011381c9', 'order-00047-65583c7b', 'order-00048-28a953f5', 'order-00049-dacba878')
notin10_types	WorkflowType NOT IN ('CronWorkflow', 'HeartbeatWorkflow', 'CleanupWorkflow', 'ReconcileWorkflow', 'BackfillWorkflow', 'MigrationWorkflow', 'AuditWorkflow', 'ReportWorkflow', 'SyncWorkflow', 'NotifyWorkflow') AND ExecutionStatus = 'Running'
between_dt	StartTime BETWEEN '2024-01-01T00:00:00Z' AND '2024-01-31T23:59:59.999999999Z'
between_and	WorkflowType = 'ReportWorkflow' AND CloseTime BETWEEN '2024-01-01T00:00:00+00:00' AND '2024-02-01T00:00:00+00:00' AND ExecutionStatus = 'Completed'
starts_with	WorkflowId STARTS_WITH 'order-2024-'
starts_with_and	WorkflowType STARTS_WITH 'Order' AND ExecutionStatus = 'Running' AND StartTime > '2024-06-01T00:00:00Z'
order_by	ExecutionStatus = 'Running' ORDER BY StartTime DESC
order_by_only	ORDER BY CloseTime DESC
group_by	WorkflowType = 'OrderProcessingWorkflow' GROUP BY ExecutionStatus
custom_typed	CustomKeywordField = 'tenant-42' AND CustomIntField >= 10 AND CustomDoubleField < 3.75 AND CustomBoolField = true AND CustomDatetimeField > '2024-01-01T00:00:00Z'
sched_buildids_escape	TemporalScheduledById = 'sched-nightly-report' AND TemporalSchedulePaused = false AND BuildIds IN ('assigned:v1.2.3', 'versioned:v1.2.4') AND WorkflowId != 'it''s-a-test'
long_4k	(WorkflowType = 'BatchWorkflow00' AND CustomKeywordField = 'tenant-000-f503ccbc') OR (WorkflowType = 'BatchWorkflow01' AND CustomKeywordField = 'tenant-001-e5353879') OR (WorkflowType = 'BatchWorkflow02' AND CustomKeywordField = 'tenant-002-2a5bd027') OR (WorkflowType = 'BatchWorkflow03' AND CustomKeywordField = 'tenant-003-4358694e') OR (WorkflowType = 'BatchWorkflow04' AND CustomKeywordField = 'tenant-004-a9dfb15b') OR (WorkflowType = 'BatchWorkflow05' AND CustomKeywordField = 'tenant-005-bf55e75f') OR (WorkflowType = 'BatchWorkflow06' AND CustomKeywordField = 'tenant-006-e92a96c0') OR (WorkflowType = 'BatchWorkflow07' AND CustomKeywordField = 'tenant-007-7ff8b5e8') OR (WorkflowType = 'BatchWorkflow08' AND CustomKeywordField = 'tenant-008-dc1092e1') OR (WorkflowType = 'BatchWorkflow09' AND CustomKeywordField = 'tenant-009-8e754506') OR (WorkflowType = 'BatchWorkflow10' AND CustomKeywordField = 'tenant-010-991b6d7a') OR (WorkflowType = 'BatchWorkflow11' AND CustomKeywordField = 'tenant-011-f7249fe7') OR (WorkflowType = 'BatchWorkflow12' AND CustomKeywordField = 'tenant-012-ca67956e') OR (WorkflowType = 'BatchWorkflow13' AND CustomKeywordField = 'tenant-013-46dee42d') OR (WorkflowType = 'BatchWorkflow14' AND CustomKeywordField = 'tenant-014-71e93180') OR (WorkflowType = 'BatchWorkflow15' AND CustomKeywordField = 'tenant-015-675e2c36') OR (WorkflowType = 'BatchWorkflow16' AND CustomKeywordField = 'tenant-016-5a9ad3c2') OR (WorkflowType = 'BatchWorkflow17' AND CustomKeywordField = 'tenant-017-2194f102') OR (WorkflowType = 'BatchWorkflow18' AND CustomKeywordField = 'tenant-018-b1521e6e') OR (WorkflowType = 'BatchWorkflow19' AND CustomKeywordField = 'tenant-019-1767f0a7') OR (WorkflowType = 'BatchWorkflow00' AND CustomKeywordField = 'tenant-020-485024ac') OR (WorkflowType = 'BatchWorkflow01' AND CustomKeywordField = 'tenant-021-7883b5f6') OR (WorkflowType = 'BatchWorkflow02' AND CustomKeywordField = 'tenant-022-632980fd') OR (WorkflowType = 'BatchWorkflow03' AND CustomKeywordField = 'tenant-023-2b2fc3ba') OR (WorkflowType = 'BatchWorkflow04' AND CustomKeywordField = 'tenant-024-a48b583b') OR (WorkflowType = 'BatchWorkflow05' AND CustomKeywordField = 'tenant-025-21722137') OR (WorkflowType = 'BatchWorkflow06' AND CustomKeywordField = 'tenant-026-5dad1d63') OR (WorkflowType = 'BatchWorkflow07' AND CustomKeywordField = 'tenant-027-7cf0763d') OR (WorkflowType = 'BatchWorkflow08' AND CustomKeywordField = 'tenant-028-d1361fd1') OR (WorkflowType = 'BatchWorkflow09' AND CustomKeywordField = 'tenant-029-5dd12738') OR (WorkflowType = 'BatchWorkflow10' AND CustomKeywordField = 'tenant-030-9c09d5aa') OR (WorkflowType = 'BatchWorkflow11' AND CustomKeywordField = 'tenant-031-763dba07') OR (WorkflowType = 'BatchWorkflow12' AND CustomKeywordField = 'tenant-032-8e852018') OR (WorkflowType = 'BatchWorkflow13' AND CustomKeywordField = 'tenant-033-fdbc7939') OR (WorkflowType = 'BatchWorkflow14' AND CustomKeywordField = 'tenant-034-283bd7b3') OR (WorkflowType = 'BatchWorkflow15' AND CustomKeywordField = 'tenant-035-d244767f') OR (WorkflowType = 'BatchWorkflow16' AND CustomKeywordField = 'tenant-036-1f3fd9cf') OR (WorkflowType = 'BatchWorkflow17' AND CustomKeywordField = 'tenant-037-334f9f2b') OR (WorkflowType = 'BatchWorkflow18' AND CustomKeywordField = 'tenant-038-a2cf645a') OR (WorkflowType = 'BatchWorkflow19' AND CustomKeywordField = 'tenant-039-aeb160da') OR (WorkflowType = 'BatchWorkflow00' AND CustomKeywordField = 'tenant-040-f62b20ef') OR (WorkflowType = 'BatchWorkflow01' AND CustomKeywordField = 'tenant-041-31d9090a') OR (WorkflowType = 'BatchWorkflow02' AND CustomKeywordField = 'tenant-042-f6b4c189') OR (WorkflowType = 'BatchWorkflow03' AND CustomKeywordField = 'tenant-043-8725663b') OR (WorkflowType = 'BatchWorkflow04' AND CustomKeywordField = 'tenant-044-b3069e51') OR (WorkflowType = 'BatchWorkflow05' AND CustomKeywordField = 'tenant-045-310bb02a') OR (WorkflowType = 'BatchWorkflow06' AND CustomKeywordField = 'tenant-046-8cae206e') OR (WorkflowType = 'BatchWorkflow07' AND CustomKeywordField = 'tenant-047-0b9ba5c0')"#;

/// Temporal's wrapping: `select * from table1 [where ]<filter>`.
fn wrap(filter: &str) -> String {
    let t = filter.trim();
    let l = t.to_ascii_lowercase();
    if l.starts_with("order by") || l.starts_with("group by") {
        format!("select * from table1 {t}")
    } else {
        format!("select * from table1 where {t}")
    }
}

fn floor(filter: &str) -> usize {
    filter.bytes().filter(|&b| b == b'\'').count()
}

/// Nanoseconds this thread has run on a CPU.
fn thread_cpu_time() -> Duration {
    // The kernel refreshes the count only at a tick or a scheduler call; a
    // yield is a scheduler call, so the reading is current.
    std::thread::yield_now();
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat")
        .expect("LIST_FILTER_CLOCK=cpu needs /proc/thread-self/schedstat");
    let ns = stat.split_whitespace().next().and_then(|n| n.parse().ok());
    Duration::from_nanos(ns.expect("schedstat starts with nanoseconds on CPU"))
}

/// Times `f` with wall time, or with CPU time when `cpu` is set.
fn run<O>(b: &mut Bencher<'_>, cpu: bool, mut f: impl FnMut() -> O) {
    if !cpu {
        return b.iter(f);
    }
    b.iter_custom(|iters| {
        let start = thread_cpu_time();
        for _ in 0..iters {
            black_box(f());
        }
        thread_cpu_time() - start
    })
}

fn bench(c: &mut Criterion) {
    let cpu = std::env::var("LIST_FILTER_CLOCK").is_ok_and(|v| v == "cpu");
    let attrs = SearchAttributes::new()
        .with_custom("CustomKeywordField", T::Keyword)
        .with_custom("CustomIntField", T::Int)
        .with_custom("CustomDoubleField", T::Double)
        .with_custom("CustomBoolField", T::Bool)
        .with_custom("CustomDatetimeField", T::Datetime);
    for line in CORPUS.lines() {
        let (name, filter) = line.split_once('\t').expect("name<TAB>filter");
        assert!(compile(filter, &attrs).is_ok(), "{name} must compile");
        let mut g = c.benchmark_group(format!("list_filter/{name}"));
        g.throughput(Throughput::Bytes(filter.len() as u64));
        g.bench_function("visibility_query", |b| {
            run(b, cpu, || compile(black_box(filter), &attrs).is_ok())
        });
        g.bench_function("sqlparser", |b| {
            // sqlparser cannot parse STARTS_WITH: for those filters this times its error path.
            run(b, cpu, || {
                Parser::parse_sql(&GenericDialect {}, &wrap(black_box(filter))).is_ok()
            })
        });
        g.bench_function("floor", |b| run(b, cpu, || floor(black_box(filter))));
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
