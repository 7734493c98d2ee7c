//! Where histories come from: the engine's persistence, behind [`HistorySource`].

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use async_trait::async_trait;

use super::History;
use crate::{ArchiveHistoryRequest, Error, Result};

/// Reads a run's history from the engine's persistence, a page of batches at a time.
#[async_trait]
pub trait HistorySource: Send + Sync + fmt::Debug {
    /// Batches in event-id order starting at `request.first_event_id` (one page of them, about
    /// `page_size` events, whole batches), and a token when more may follow.
    ///
    /// [`Error::NotFound`] when the branch has no history (any more); [`Error::Source`] for
    /// failures, marked retryable when trying again can help.
    async fn read_history(&self, request: &ReadHistoryRequest) -> Result<HistoryPage>;
}

/// One read of [`HistorySource::read_history`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadHistoryRequest {
    /// The engine's shard.
    pub shard_id: i32,
    /// The namespace id.
    pub namespace_id: String,
    /// The workflow id.
    pub workflow_id: String,
    /// The run id.
    pub run_id: String,
    /// The history branch.
    pub branch_token: Vec<u8>,
    /// The first event to return (batches start there).
    pub first_event_id: i64,
    /// Events from here on are not returned; `i64::MAX` reads to the end.
    pub next_event_id: i64,
    /// About how many events to return (whole batches, at least one).
    pub page_size: usize,
    /// The token of the previous page of this read, `None` for the first.
    pub next_page_token: Option<Vec<u8>>,
}

impl ReadHistoryRequest {
    /// Where this read starts: `first_event_id`, or the event id in a page token of the
    /// in-memory sources' form (the next event id, 8 bytes big-endian), which test sources may
    /// share.
    pub fn start_event_id(&self) -> Result<i64> {
        match &self.next_page_token {
            None => Ok(self.first_event_id),
            Some(token) => token
                .as_slice()
                .try_into()
                .map(i64::from_be_bytes)
                .map_err(|_| Error::Source {
                    source: "malformed page token".into(),
                    retryable: false,
                }),
        }
    }
}

/// One page of batches.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HistoryPage {
    /// Whole batches, in event order.
    pub batches: Vec<History>,
    /// Where the next page starts; `None` when the history ends here.
    pub next_page_token: Option<Vec<u8>>,
}

/// Identifies a run: the key of sources and archives.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunKey {
    /// The namespace id.
    pub namespace_id: String,
    /// The workflow id.
    pub workflow_id: String,
    /// The run id.
    pub run_id: String,
}

impl RunKey {
    /// The key of a run.
    pub fn new(
        namespace_id: impl Into<String>,
        workflow_id: impl Into<String>,
        run_id: impl Into<String>,
    ) -> Self {
        RunKey {
            namespace_id: namespace_id.into(),
            workflow_id: workflow_id.into(),
            run_id: run_id.into(),
        }
    }
}

impl From<&ArchiveHistoryRequest> for RunKey {
    fn from(r: &ArchiveHistoryRequest) -> Self {
        RunKey::new(&r.namespace_id, &r.workflow_id, &r.run_id)
    }
}

impl From<&ReadHistoryRequest> for RunKey {
    fn from(r: &ReadHistoryRequest) -> Self {
        RunKey::new(&r.namespace_id, &r.workflow_id, &r.run_id)
    }
}

#[derive(Debug, Default)]
struct MemoryState {
    histories: HashMap<RunKey, Vec<History>>,
    /// Reads that succeed before the injected failures start.
    succeed_before_failing: usize,
    /// Injected retryable failures still to come.
    failures: usize,
    reads: usize,
}

/// An in-memory [`HistorySource`] for tests and examples, with fault injection.
///
/// Page tokens are the next event id, so a history replaced between pages continues where the
/// reader left off (which is how a mutation shows up to an archiver).
#[derive(Debug, Default)]
pub struct MemoryHistorySource {
    state: Mutex<MemoryState>,
}

impl MemoryHistorySource {
    /// An empty source.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryState> {
        // Every update below is a single assignment; a poisoned lock holds consistent state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets (or replaces, simulating a mutation) the batches of a run.
    pub fn insert(&self, key: RunKey, batches: Vec<History>) {
        self.lock().histories.insert(key, batches);
    }

    /// Removes a run's history, as when it is deleted after retention.
    pub fn remove(&self, key: &RunKey) -> Option<Vec<History>> {
        self.lock().histories.remove(key)
    }

    /// The next `count` reads fail with a retryable [`Error::Source`].
    pub fn fail_next_reads(&self, count: usize) {
        self.fail_reads_after(0, count);
    }

    /// After `successes` more successful reads, `count` reads fail with a retryable
    /// [`Error::Source`]: an interruption mid-archive.
    pub fn fail_reads_after(&self, successes: usize, count: usize) {
        let mut state = self.lock();
        state.succeed_before_failing = successes;
        state.failures = count;
    }

    /// How many reads were made (failed ones included).
    pub fn reads(&self) -> usize {
        self.lock().reads
    }
}

#[async_trait]
impl HistorySource for MemoryHistorySource {
    async fn read_history(&self, request: &ReadHistoryRequest) -> Result<HistoryPage> {
        let mut state = self.lock();
        state.reads += 1;
        if state.failures > 0 {
            if state.succeed_before_failing == 0 {
                state.failures -= 1;
                return Err(Error::Source {
                    source: "injected failure".into(),
                    retryable: true,
                });
            }
            state.succeed_before_failing -= 1;
        }
        let key = RunKey::from(request);
        let batches = state.histories.get(&key).ok_or_else(|| Error::NotFound {
            what: format!(
                "history of workflow {:?} run {:?}",
                key.workflow_id, key.run_id
            ),
        })?;
        let start = request.start_event_id()?;
        let mut page = HistoryPage::default();
        let mut events = 0;
        // Batches are in event order: find the first one at `start` by binary search, so reading
        // a long history page by page stays linear overall.
        let first = batches.partition_point(|b| b.first_event_id().is_some_and(|id| id < start));
        let mut remaining = batches[first..]
            .iter()
            .take_while(|b| {
                b.first_event_id()
                    .is_some_and(|id| id < request.next_event_id)
            })
            .peekable();
        while let Some(batch) = remaining.next() {
            events += batch.events.len();
            page.batches.push(batch.clone());
            if events >= request.page_size.max(1) {
                page.next_page_token = remaining
                    .peek()
                    .and_then(|b| b.first_event_id())
                    .map(|id| id.to_be_bytes().to_vec());
                break;
            }
        }
        Ok(page)
    }
}
