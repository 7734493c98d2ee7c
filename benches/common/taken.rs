//! Timed history archives from a source that costs (almost) nothing, so the timing is the
//! archiver's.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use archiver::history::{History, HistoryPage, ReadHistoryRequest, encode_batch};
use archiver::testing::GeneratedHistorySource;
use archiver::{
    ArchiveHistoryRequest, ArchiveOptions, ArchiveUri, Error, HistoryArchiver, HistorySource,
    Result,
};
use async_trait::async_trait;

/// A generated history held as batches in memory, built before any timer starts.
#[derive(Debug)]
pub(crate) struct GeneratedBatches {
    /// The batches, in event order.
    pub(crate) batches: Vec<History>,
    /// The request archiving them (namespace `bench-ns`, run `run`, version 1).
    pub(crate) request: ArchiveHistoryRequest,
    /// Their encoded size: one JSON line per batch, newlines included.
    pub(crate) bytes: u64,
}

impl GeneratedBatches {
    /// About `mb` MiB of encoded history (generator seed 1) as run `run` of `workflow_id`.
    pub(crate) fn new(mb: usize, workflow_id: &str) -> Self {
        Self::of(
            GeneratedHistorySource::with_approx_bytes(1, mb << 20),
            workflow_id,
        )
    }

    /// The whole history `generated` makes, as run `run` of `workflow_id`.
    pub(crate) fn of(generated: GeneratedHistorySource, workflow_id: &str) -> Self {
        let request = generated.request("bench-ns", workflow_id, "run", 1);
        let batches: Vec<_> = (0..(generated.events() / 3))
            .map(|i| generated.batch(i))
            .collect();
        let bytes = batches.iter().map(|b| encode_batch(b).len() as u64).sum();
        GeneratedBatches {
            batches,
            request,
            bytes,
        }
    }
}

/// One run's batches, handed out by moving them: a source that costs (almost) nothing, so the
/// timing is the archiver's. Single use: reads must follow each other in event order.
#[derive(Debug)]
pub(crate) struct TakenSource {
    batches: Mutex<VecDeque<History>>,
}

impl TakenSource {
    pub(crate) fn new(batches: Vec<History>) -> Arc<Self> {
        Arc::new(Self {
            batches: Mutex::new(batches.into()),
        })
    }
}

#[async_trait]
impl HistorySource for TakenSource {
    async fn read_history(&self, request: &ReadHistoryRequest) -> Result<HistoryPage> {
        take_page(&mut self.batches.lock().expect("lock"), request)
    }
}

/// Many runs' batches, each run handed out by moving them as [`TakenSource`] does: one source
/// for an archiver that many callers share, each archiving its own runs.
#[derive(Debug, Default)]
pub(crate) struct TakenRuns {
    runs: Mutex<HashMap<(String, String), VecDeque<History>>>,
}

impl TakenRuns {
    /// Serves `batches` (once) as run `run_id` of `workflow_id`, whatever the namespace.
    pub(crate) fn insert(&self, workflow_id: &str, run_id: &str, batches: Vec<History>) {
        self.runs
            .lock()
            .expect("lock")
            .insert((workflow_id.to_owned(), run_id.to_owned()), batches.into());
    }
}

#[async_trait]
impl HistorySource for TakenRuns {
    async fn read_history(&self, request: &ReadHistoryRequest) -> Result<HistoryPage> {
        let mut runs = self.runs.lock().expect("lock");
        let key = (request.workflow_id.clone(), request.run_id.clone());
        match runs.get_mut(&key) {
            Some(batches) => take_page(batches, request),
            None => Err(Error::Source {
                source: format!("TakenRuns holds no run {key:?}").into(),
                retryable: false,
            }),
        }
    }
}

/// Moves the next page of `request` out of `batches`, which must start at its first event.
fn take_page(batches: &mut VecDeque<History>, request: &ReadHistoryRequest) -> Result<HistoryPage> {
    let start = request.start_event_id()?;
    let out_of_order = || Error::Source {
        source: format!("TakenSource read at event {start} out of order").into(),
        retryable: false,
    };
    let mut page = HistoryPage::default();
    match batches.front() {
        None => return Ok(page),
        Some(front) if front.first_event_id() != Some(start) => return Err(out_of_order()),
        Some(_) => {}
    }
    let mut events = 0;
    while let Some(batch) = batches.pop_front() {
        events += batch.events.len();
        page.batches.push(batch);
        if events >= request.page_size.max(1) {
            break;
        }
    }
    page.next_page_token = batches
        .front()
        .and_then(History::first_event_id)
        .map(|id| id.to_be_bytes().to_vec());
    Ok(page)
}

/// Times `iters` archives of `batches` by the archiver `make` builds over a fresh
/// [`TakenSource`] (built, and later dropped, outside the timed region); `cleanup(run)` runs
/// untimed after each.
pub(crate) fn time_archives<A: HistoryArchiver>(
    rt: &tokio::runtime::Runtime,
    iters: u64,
    batches: &[History],
    request: &ArchiveHistoryRequest,
    mut make: impl FnMut(Arc<dyn HistorySource>, u64) -> (A, ArchiveUri),
    mut cleanup: impl FnMut(u64),
) -> Duration {
    let mut total = Duration::ZERO;
    for run in 0..iters {
        let (archiver, uri) = make(TakenSource::new(batches.to_vec()), run);
        let started = Instant::now();
        rt.block_on(archiver.archive(&uri, request, &ArchiveOptions::default()))
            .expect("archive");
        total += started.elapsed();
        drop(archiver);
        cleanup(run);
    }
    total
}
