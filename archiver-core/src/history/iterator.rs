//! Turns a run's history into blobs of at least a target size, ending on batch boundaries.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::codec::encode_batch;
use super::mutated::check_last_event;
use super::{EventType, History, HistorySource, ReadHistoryRequest};
use crate::{ArchiveHistoryRequest, Error, Result};

/// The default target blob size: 2 MiB, as in Temporal.
pub const DEFAULT_TARGET_BLOB_SIZE: usize = 2 * 1024 * 1024;

/// Events asked of the source per read (Temporal's persistence page size).
const SOURCE_PAGE_SIZE: usize = 250;

const FIRST_EVENT_ID: i64 = 1;

/// Where an iterator stands: saved as progress, restored with [`HistoryIterator::resume`].
///
/// Serialized with Temporal's field names (`{"NextEventID":13,"FinishedIteration":false}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IteratorState {
    /// The first event of the next blob (always a batch boundary).
    #[serde(rename = "NextEventID")]
    pub next_event_id: i64,
    /// Whether the last blob was returned.
    #[serde(rename = "FinishedIteration")]
    pub finished: bool,
}

impl Default for IteratorState {
    fn default() -> Self {
        IteratorState {
            next_event_id: FIRST_EVENT_ID,
            finished: false,
        }
    }
}

/// A run of whole batches, encoded with [`encode_batch`](super::encode_batch) lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryBlob {
    /// The id of the first event.
    pub first_event_id: i64,
    /// The id of the last event.
    pub last_event_id: i64,
    /// The version of the first event.
    pub first_failover_version: i64,
    /// The version of the last event.
    pub last_failover_version: i64,
    /// How many events the blob holds.
    pub event_count: usize,
    /// How many batches (lines) the blob holds.
    pub batch_count: usize,
    /// Whether this is the history's last blob.
    pub is_last: bool,
    /// The encoded batches.
    pub data: Bytes,
}

/// A batch encoded once, with what blob headers and checks need.
#[derive(Debug)]
struct EncodedBatch {
    line: Vec<u8>,
    first_event_id: i64,
    last_event_id: i64,
    first_version: i64,
    last_version: i64,
    event_count: usize,
}

#[derive(Debug)]
enum Cursor {
    /// The next read starts at this event, without a token.
    At(i64),
    /// The next read continues a paged read.
    Token { first_event_id: i64, token: Vec<u8> },
    /// The source has nothing after the buffered batches.
    Exhausted,
}

/// Reads a run's history from a [`HistorySource`] and yields [`HistoryBlob`]s of at least the
/// target size (all but the last), each ending on a batch boundary.
///
/// Each batch is read once and serialized once; its encoded length is the size measure. A
/// failed [`next`](Self::next) leaves the iterator as it was, so calling it again yields the
/// same blob. Every blob is checked with the history-mutated rule.
#[derive(Debug)]
pub struct HistoryIterator {
    source: Arc<dyn HistorySource>,
    request: ArchiveHistoryRequest,
    target_blob_size: usize,
    state: IteratorState,
    /// Batches read past the last returned blob, contiguous from `state.next_event_id`.
    buffered: VecDeque<EncodedBatch>,
    cursor: Cursor,
}

impl HistoryIterator {
    /// An iterator from the first event.
    pub fn new(
        source: Arc<dyn HistorySource>,
        request: &ArchiveHistoryRequest,
        target_blob_size: usize,
    ) -> Self {
        Self::resume(source, request, target_blob_size, IteratorState::default())
    }

    /// An iterator continuing from a saved [`state`](Self::state).
    pub fn resume(
        source: Arc<dyn HistorySource>,
        request: &ArchiveHistoryRequest,
        target_blob_size: usize,
        state: IteratorState,
    ) -> Self {
        let cursor = if state.finished {
            Cursor::Exhausted
        } else {
            Cursor::At(state.next_event_id)
        };
        HistoryIterator {
            source,
            request: request.clone(),
            target_blob_size: target_blob_size.max(1),
            state,
            buffered: VecDeque::new(),
            cursor,
        }
    }

    /// Where the iterator stands: the state after the last returned blob.
    pub fn state(&self) -> IteratorState {
        self.state
    }

    /// Whether another blob may follow.
    pub fn has_next(&self) -> bool {
        !self.state.finished
    }

    /// The next blob, `None` after the last.
    ///
    /// [`Error::NotFound`] when the source has no history for the run (archivers skip it),
    /// [`Error::HistoryMutated`] when the history does not match the request, the source's
    /// error when a read fails.
    pub async fn next(&mut self) -> Result<Option<HistoryBlob>> {
        if self.state.finished {
            return Ok(None);
        }
        let mut size = 0;
        let mut taken = 0;
        loop {
            while taken < self.buffered.len() && size < self.target_blob_size {
                size += self.buffered[taken].line.len();
                taken += 1;
            }
            let need_more = size < self.target_blob_size;
            // At the target exactly at the end of what is buffered, read ahead to learn whether
            // this blob is the last. What is read ahead is kept for the next blob.
            let need_lookahead = !need_more && taken == self.buffered.len();
            if (need_more || need_lookahead) && !matches!(self.cursor, Cursor::Exhausted) {
                self.fill().await?;
                continue;
            }
            break;
        }
        if taken == 0 {
            if self.state.next_event_id == FIRST_EVENT_ID {
                return Err(Error::NotFound {
                    what: format!(
                        "history of workflow {:?} run {:?}",
                        self.request.workflow_id, self.request.run_id
                    ),
                });
            }
            self.state.finished = true;
            return Ok(None);
        }
        let is_last = taken == self.buffered.len() && matches!(self.cursor, Cursor::Exhausted);
        let batches = self.buffered.range(..taken);
        let first = &self.buffered[0];
        let last = &self.buffered[taken - 1];
        for batch in self.buffered.range(..taken - 1) {
            check_last_event(
                &self.request,
                batch.last_event_id,
                batch.last_version,
                false,
            )?;
        }
        check_last_event(
            &self.request,
            last.last_event_id,
            last.last_version,
            is_last,
        )?;
        let mut data = Vec::with_capacity(size);
        let mut event_count = 0;
        for batch in batches {
            data.extend_from_slice(&batch.line);
            event_count += batch.event_count;
        }
        let blob = HistoryBlob {
            first_event_id: first.first_event_id,
            last_event_id: last.last_event_id,
            first_failover_version: first.first_version,
            last_failover_version: last.last_version,
            event_count,
            batch_count: taken,
            is_last,
            data: Bytes::from(data),
        };
        self.buffered.drain(..taken);
        self.state = IteratorState {
            next_event_id: blob.last_event_id + 1,
            finished: is_last,
        };
        Ok(Some(blob))
    }

    /// Reads one page into the buffer. On error nothing changes.
    async fn fill(&mut self) -> Result<()> {
        let (first_event_id, token) = match &self.cursor {
            Cursor::At(id) => (*id, None),
            Cursor::Token {
                first_event_id,
                token,
            } => (*first_event_id, Some(token.clone())),
            Cursor::Exhausted => return Ok(()),
        };
        let page = self
            .source
            .read_history(&ReadHistoryRequest {
                shard_id: self.request.shard_id,
                namespace_id: self.request.namespace_id.clone(),
                workflow_id: self.request.workflow_id.clone(),
                run_id: self.request.run_id.clone(),
                branch_token: self.request.branch_token.clone(),
                first_event_id,
                // Read past the expected end: events beyond it mean the history was mutated.
                next_event_id: i64::MAX,
                page_size: SOURCE_PAGE_SIZE,
                next_page_token: token,
            })
            .await?;
        let mut expected = self
            .buffered
            .back()
            .map_or(self.state.next_event_id, |b| b.last_event_id + 1);
        for batch in &page.batches {
            let (Some(first), Some(last)) = (batch.events.first(), batch.events.last()) else {
                return Err(source_fault("the source returned a batch without events"));
            };
            if first.event_id != expected || last.event_id < first.event_id {
                return Err(source_fault(format!(
                    "the source returned events {}..={} where event {expected} was next",
                    first.event_id, last.event_id
                )));
            }
            expected = last.event_id + 1;
        }
        let encoded = encode_page(page.batches)?;
        self.buffered.extend(encoded);
        self.cursor = match page.next_page_token {
            Some(token) => Cursor::Token {
                first_event_id,
                token,
            },
            None => Cursor::Exhausted,
        };
        Ok(())
    }
}

/// Encodes a page's batches, in order, on this task, then drops them here too. (Handing either
/// to the blocking pool was measured slower: per-page wakeups, and freeing on another thread
/// than the one that allocates contends for the allocator's arenas.)
fn encode_page(batches: Vec<History>) -> Result<Vec<EncodedBatch>> {
    batches.iter().map(EncodedBatch::new).collect()
}

impl EncodedBatch {
    /// Encodes one batch (the caller has checked it holds events).
    fn new(batch: &History) -> Result<Self> {
        let (first, last) = match (batch.events.first(), batch.events.last()) {
            (Some(first), Some(last)) => (first, last),
            _ => return Err(source_fault("the source returned a batch without events")),
        };
        // `EventType::Other` takes any text; a name the reader refuses would make the archive
        // unreadable, so it is refused here, before anything is written.
        if let Some(event) = batch.events.iter().find(|event| {
            matches!(&event.event_type, EventType::Other(name) if EventType::from_name(name).is_none())
        }) {
            return Err(source_fault(format!(
                "event {} has event type {:?}, which is no enum name",
                event.event_id,
                event.event_type.name()
            )));
        }
        Ok(EncodedBatch {
            line: encode_batch(batch),
            first_event_id: first.event_id,
            last_event_id: last.event_id,
            first_version: first.version,
            last_version: last.version,
            event_count: batch.events.len(),
        })
    }
}

fn source_fault(reason: impl Into<String>) -> Error {
    Error::Source {
        source: reason.into().into(),
        retryable: false,
    }
}
