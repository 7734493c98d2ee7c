//! A fault campaign: many archives (history, and visibility through the table the providers
//! register) through a [`FaultProxy`] that injects random per-request faults, each outcome
//! checked against what a direct, fault-free store reads back.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use super::super::proxy::{FaultProxy, RandomFaults};
use futures::StreamExt as _;

use super::super::{ProviderFixture, get_all, one_run};
use crate::object::{ObjectHistoryArchiver, ObjectStore, RetrySettings};
use crate::table::VisibilityTable;
use archiver_core::testing::{search_attributes, test_records};
use archiver_core::{
    ArchiveOptions, ArchiveUri, Error, HistoryArchiver, QueryRequest, VisibilityArchiver,
    VisibilityRecord,
};

/// How a campaign runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Campaign {
    /// Probability that a request (each attempt) gets a fault.
    pub rate: f64,
    /// Archives (a history and its visibility record each).
    pub archives: usize,
    /// Attempts per request, the first included.
    pub attempts: u32,
    /// Seed of the faults.
    pub seed: u64,
    /// Archives in flight at once (1: one after the other, and the faults replay exactly).
    pub concurrency: usize,
}

impl Campaign {
    /// What CI runs on every provider: 10% faults, 5 attempts, 24 archives, 4 at a time (a
    /// few seconds).
    pub fn ci() -> Self {
        Campaign {
            rate: 0.10,
            archives: 24,
            attempts: 5,
            seed: 12,
            concurrency: 4,
        }
    }
}

/// Outcomes of one kind of operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcomes {
    /// Operations tried.
    pub tries: usize,
    /// Reported Ok, and verified.
    pub ok: usize,
    /// Reported failed (retryable): archives invisible or complete, queries with no answer.
    pub failed: usize,
    /// Reported Ok but not read back exactly, or failed leaving something partial. Always a
    /// defect.
    pub incomplete: usize,
}

impl fmt::Display for Outcomes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} tries, {} ok, {} failed, {} incomplete",
            self.tries, self.ok, self.failed, self.incomplete
        )
    }
}

/// What a campaign saw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CampaignReport {
    /// History archives.
    pub histories: Outcomes,
    /// Visibility record archives.
    pub records: Outcomes,
    /// Query pages through the faults.
    pub queries: Outcomes,
    /// Requests the proxy saw (every attempt).
    pub requests: usize,
    /// Faults injected, by kind.
    pub faults: BTreeMap<&'static str, usize>,
    /// Final errors, by what failed and their text without the location (cut at 140
    /// characters), counted.
    pub failures: BTreeMap<String, usize>,
    /// Wall time.
    pub elapsed: Duration,
}

impl fmt::Display for CampaignReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "histories: {}", self.histories)?;
        writeln!(f, "records:   {}", self.records)?;
        writeln!(f, "queries:   {}", self.queries)?;
        writeln!(
            f,
            "{} requests, faults {:?}, {:.1} s",
            self.requests,
            self.faults,
            self.elapsed.as_secs_f64()
        )?;
        for (failure, count) in &self.failures {
            writeln!(f, "  {count} x {failure}")?;
        }
        Ok(())
    }
}

/// Counts a final error in `failures` (it must be retryable: a fault is transient).
fn failure(failures: &mut BTreeMap<String, usize>, what: &str, err: &Error) {
    assert!(
        err.is_retryable(),
        "{what}: a failure under transient faults must be retryable: {err}"
    );
    // Without the location, so failures of the same kind group.
    let text = err
        .to_string()
        .split(' ')
        .filter(|word| !word.starts_with("s3://") && !word.starts_with("gs://"))
        .collect::<Vec<_>>()
        .join(" ");
    let short: String = text.chars().take(140).collect();
    *failures.entry(format!("{what}: {short}")).or_default() += 1;
}

/// How one archive ended, checked against the direct store.
enum Verdict {
    /// Reported Ok, and read back exactly.
    Ok,
    /// Reported failed; invisible, or stored whole.
    Failed(Error),
    /// Anything else (logged).
    Incomplete,
}

/// The stores and tables a campaign archives through (`faulty`) and checks through (`direct`).
struct Through<'a, S> {
    faulty: &'a S,
    direct: &'a S,
    /// One table for every record, as a provider registers one: concurrent archives share its
    /// batches, and a failed batch write fails every record in it.
    faulty_table: &'a VisibilityTable<S>,
    direct_table: &'a VisibilityTable<S>,
}

/// Archives history and record number `i` through the faulty store, each checked through the
/// direct one.
async fn archive_one<S: ObjectStore + Clone>(
    through: &Through<'_, S>,
    location: &ArchiveUri,
    seed: u64,
    i: usize,
    template: VisibilityRecord,
) -> (Verdict, Verdict, VisibilityRecord) {
    let (faulty, direct) = (through.faulty, through.direct);
    let options = ArchiveOptions::default();
    let workflow_id = format!("campaign-{i}");
    // Every third history fits one blob: the inline, one-write archive.
    let (batches, blob_size) = if i % 3 == 2 {
        (10, 1 << 20)
    } else {
        (60, 2048)
    };
    let (source, run, history, request) = one_run(&workflow_id, seed + i as u64, batches);
    let archiver =
        ObjectHistoryArchiver::new(faulty.clone(), source.clone()).with_target_blob_size(blob_size);
    let outcome = archiver.archive(location, &request, &options).await;
    let reader = ObjectHistoryArchiver::new(direct.clone(), source);
    let stored = get_all(&reader, location, &run).await;
    let history_verdict = match (outcome, stored) {
        (Ok(()), Ok(got)) if got == history => Verdict::Ok,
        (Err(err), Err(Error::NotFound { .. })) => Verdict::Failed(err),
        // The commit landed but its answer was lost: failed as reported, complete as stored.
        (Err(err), Ok(got)) if got == history => Verdict::Failed(err),
        (outcome, stored) => {
            eprintln!(
                "{workflow_id}: INCOMPLETE: archive {outcome:?}, read back {:?}",
                stored.as_ref().map(Vec::len)
            );
            Verdict::Incomplete
        }
    };

    let mut record = template;
    record.workflow_id = workflow_id.clone();
    record.run_id = run.run_id.clone();
    let record_verdict = match through
        .faulty_table
        .archive(location, &record, &options)
        .await
    {
        Ok(()) => {
            let found = through
                .direct_table
                .query(
                    location,
                    &QueryRequest::new("ns-id", format!("WorkflowId = '{workflow_id}'")),
                    &search_attributes(),
                )
                .await;
            match found {
                Ok(page) if page.executions == [record.clone()] => Verdict::Ok,
                other => {
                    eprintln!("{workflow_id}: INCOMPLETE record: {other:?}");
                    Verdict::Incomplete
                }
            }
        }
        Err(err) => Verdict::Failed(err),
    };
    (history_verdict, record_verdict, record)
}

/// Runs `campaign` on the provider: each archive's history (multi-blob, or inline for every
/// third) and record go through a proxy injecting [`RandomFaults`], then are read back
/// through a direct store: a history reported archived must read back exactly, a failed one
/// must be invisible or complete, never partial; a record reported archived must be found
/// exactly; every failure must be retryable. Then the namespace is queried page by page
/// through the faults: a page that comes back holds only records exactly as archived.
///
/// Panics on an unclassified (non-retryable) failure; counts the rest, `incomplete` included,
/// for the caller to judge.
pub async fn run_fault_campaign<F: ProviderFixture>(
    fixture: &F,
    campaign: Campaign,
) -> CampaignReport {
    let started = Instant::now();
    let faults = RandomFaults {
        seed: campaign.seed,
        rate: campaign.rate,
        delay: Duration::from_millis(50),
    };
    let proxy = FaultProxy::start(
        &fixture.server_endpoint(),
        fixture.dialect(),
        move |n, _, _| faults.pick(n),
    )
    .await;
    let faulty = fixture.retrying_store_via(
        &proxy.endpoint(),
        RetrySettings {
            max_attempts: campaign.attempts,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(200),
        },
    );
    let direct = fixture.store();
    let through = Through {
        faulty: &faulty,
        direct: &direct,
        faulty_table: &VisibilityTable::new(faulty.clone()),
        direct_table: &VisibilityTable::new(direct.clone()),
    };
    let location = fixture.fresh_uri("campaign");
    let mut report = CampaignReport::default();
    // Every record sent, by workflow id: one whose archive failed may still be stored whole.
    let mut sent: BTreeMap<String, VisibilityRecord> = BTreeMap::new();
    let templates = test_records("ns-id", campaign.archives);

    let outcomes: Vec<(Verdict, Verdict, VisibilityRecord)> =
        futures::stream::iter(templates.into_iter().enumerate())
            .map(|(i, template)| archive_one(&through, &location, campaign.seed, i, template))
            .buffer_unordered(campaign.concurrency.max(1))
            .collect()
            .await;
    for (history, record_verdict, record) in outcomes {
        for (outcomes, what, verdict) in [
            (&mut report.histories, "history", history),
            (&mut report.records, "record", record_verdict),
        ] {
            outcomes.tries += 1;
            match verdict {
                Verdict::Ok => outcomes.ok += 1,
                Verdict::Incomplete => outcomes.incomplete += 1,
                Verdict::Failed(err) => {
                    outcomes.failed += 1;
                    failure(&mut report.failures, what, &err);
                }
            }
        }
        sent.insert(record.workflow_id.clone(), record);
    }

    // Query through the faults, page by page; a failed page is tried again (a new request
    // with the same token), at most 5 times.
    let visibility = through.faulty_table;
    let mut request = QueryRequest::new("ns-id", "").with_page_size(7);
    let mut failures_in_a_row = 0;
    loop {
        report.queries.tries += 1;
        match visibility
            .query(&location, &request, &search_attributes())
            .await
        {
            Ok(page) => {
                failures_in_a_row = 0;
                let changed = page
                    .executions
                    .iter()
                    .any(|found| sent.get(&found.workflow_id) != Some(found));
                if changed {
                    eprintln!("query page with a changed record: {:?}", page.executions);
                    report.queries.incomplete += 1;
                } else {
                    report.queries.ok += 1;
                }
                match page.next_page_token {
                    Some(token) => request = request.with_next_page_token(Some(token)),
                    None => break,
                }
            }
            Err(err) => {
                failure(&mut report.failures, "query", &err);
                report.queries.failed += 1;
                failures_in_a_row += 1;
                if failures_in_a_row == 5 {
                    break;
                }
            }
        }
    }
    report.requests = proxy.seen().len();
    report.faults = proxy.injected_by_kind();
    report.elapsed = started.elapsed();
    report
}

/// The CI campaign ([`Campaign::ci`]: 10% faults, 5 attempts, 4 archives at a time): nothing reported archived is
/// missing or partial, nothing failed is partial, every failure is retryable, and no query
/// returns a changed record.
pub async fn fault_campaign_leaves_nothing_partial<F: ProviderFixture>(fixture: &F) {
    let report = run_fault_campaign(fixture, Campaign::ci()).await;
    println!("fault campaign at 10%, 5 attempts, 4 at a time:\n{report}");
    assert_eq!(report.histories.incomplete, 0, "{report}");
    assert_eq!(report.records.incomplete, 0, "{report}");
    assert_eq!(report.queries.incomplete, 0, "{report}");
    assert!(
        report.faults.values().sum::<usize>() > 10,
        "faults were injected: {report}"
    );
    assert!(report.histories.ok > 0 && report.records.ok > 0, "{report}");
}

/// A measurement, not a CI check: the campaign at 35% faults, 5 attempts, 60 archives, one
/// at a time and then 8 at a time, the figures printed. Only the invariants are asserted
/// (nothing partial, nothing changed, every failure retryable); how many archives fail is the
/// figure to read.
pub async fn fault_campaign_at_35_percent<F: ProviderFixture>(fixture: &F) {
    for concurrency in [1, 8] {
        let campaign = Campaign {
            rate: 0.35,
            archives: 60,
            attempts: 5,
            seed: 35,
            concurrency,
        };
        let report = run_fault_campaign(fixture, campaign).await;
        println!("fault campaign at 35%, 5 attempts, {concurrency} at a time:\n{report}");
        assert_eq!(report.histories.incomplete, 0, "{report}");
        assert_eq!(report.records.incomplete, 0, "{report}");
        assert_eq!(report.queries.incomplete, 0, "{report}");
    }
}
