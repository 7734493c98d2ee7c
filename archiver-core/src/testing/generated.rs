//! A realistic history made on demand: examples and benches archive hundreds of megabytes
//! without holding them in memory first, so what they measure is the archiver's memory.

use std::fmt;

use async_trait::async_trait;
use base64::Engine as _;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::data::SplitMix;
use crate::history::{
    EventFields, EventType, History, HistoryEvent, HistoryPage, ReadHistoryRequest,
};
use crate::{ArchiveHistoryRequest, HistorySource, Result};

/// Events per batch: a workflow task's worth (started, completed, a command).
const EVENTS_PER_BATCH: i64 = 3;

/// Words the order-like payloads are made of, so they compress like real JSON does.
const WORDS: [&str; 16] = [
    "widget", "gadget", "sprocket", "bolt", "nut", "washer", "gear", "spring", "lever", "pulley",
    "cable", "socket", "bracket", "hinge", "valve", "pump",
];

/// A [`HistorySource`] that synthesises one run's history, `batches` batches of three
/// Temporal-like events (workflow and activity tasks carrying base64 JSON payloads, about
/// 500 bytes an event when encoded), the same bytes every time for a `seed`.
///
/// Any run id is served, so one source feeds many archives.
///
/// ```
/// use archiver_core::testing::GeneratedHistorySource;
/// let source = GeneratedHistorySource::with_approx_bytes(7, 1 << 20);
/// let request = source.request("ns", "wf", "run", 1);
/// assert_eq!(request.next_event_id, source.events() + 1);
/// ```
#[derive(Clone)]
pub struct GeneratedHistorySource {
    seed: u64,
    batches: i64,
}

impl fmt::Debug for GeneratedHistorySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedHistorySource")
            .field("seed", &self.seed)
            .field("batches", &self.batches)
            .finish()
    }
}

impl GeneratedHistorySource {
    /// A history of `batches` batches (at least one).
    pub fn new(seed: u64, batches: usize) -> Self {
        GeneratedHistorySource {
            seed,
            batches: (batches as i64).max(1),
        }
    }

    /// A history whose canonical JSON encoding is about `bytes` long.
    pub fn with_approx_bytes(seed: u64, bytes: usize) -> Self {
        const APPROX_BATCH_BYTES: usize = 1_620;
        Self::new(seed, bytes.div_ceil(APPROX_BATCH_BYTES))
    }

    /// How many events the history has.
    pub fn events(&self) -> i64 {
        self.batches * EVENTS_PER_BATCH
    }

    /// The archive request for this history as run `run_id` of `workflow_id`.
    pub fn request(
        &self,
        namespace_id: &str,
        workflow_id: &str,
        run_id: &str,
        close_failover_version: i64,
    ) -> ArchiveHistoryRequest {
        ArchiveHistoryRequest {
            shard_id: 1,
            namespace_id: namespace_id.to_owned(),
            namespace: format!("{namespace_id}-name"),
            workflow_id: workflow_id.to_owned(),
            run_id: run_id.to_owned(),
            branch_token: b"generated".to_vec(),
            next_event_id: self.events() + 1,
            close_failover_version,
        }
    }

    /// Batch `index` (0-based).
    pub fn batch(&self, index: i64) -> History {
        let mut rng = SplitMix::new(self.seed ^ (index as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
        let first = index * EVENTS_PER_BATCH + 1;
        let start: Timestamp = "2026-03-01T12:00:00Z".parse().expect("valid time");
        let events = (0..EVENTS_PER_BATCH)
            .map(|offset| {
                let id = first + offset;
                let (event_type, attributes) = self.event_body(id, &mut rng);
                let mut fields = EventFields::new();
                fields.insert(attributes.0, attributes.1);
                HistoryEvent {
                    event_id: id,
                    event_time: start
                        .checked_add(SignedDuration::from_micros(
                            id * 1_250 + (rng.below(900) as i64),
                        ))
                        .ok(),
                    event_type,
                    version: 1,
                    task_id: 1_048_576 + id,
                    fields,
                }
            })
            .collect();
        History::new(events)
    }

    fn event_body(&self, id: i64, rng: &mut SplitMix) -> (EventType, (&'static str, Value)) {
        if id == 1 {
            return (
                EventType::WorkflowExecutionStarted,
                (
                    "workflowExecutionStartedEventAttributes",
                    json!({
                        "workflowType": { "name": "OrderFulfillment" },
                        "taskQueue": { "name": "orders", "kind": "TASK_QUEUE_KIND_NORMAL" },
                        "input": { "payloads": [payload(rng)] },
                        "workflowExecutionTimeout": "0s",
                        "workflowTaskTimeout": "10s",
                        "originalExecutionRunId": "7d3c3e1e-5d1a-4f0e-9d55-2f3b1f6f6a11",
                        "attempt": 1,
                    }),
                ),
            );
        }
        if id == self.events() {
            return (
                EventType::WorkflowExecutionCompleted,
                (
                    "workflowExecutionCompletedEventAttributes",
                    json!({ "result": { "payloads": [payload(rng)] }, "workflowTaskCompletedEventId": (id - 1).to_string() }),
                ),
            );
        }
        match id % 6 {
            0 => (
                EventType::ActivityTaskScheduled,
                (
                    "activityTaskScheduledEventAttributes",
                    json!({
                        "activityId": id.to_string(),
                        "activityType": { "name": WORDS[rng.below(16) as usize] },
                        "taskQueue": { "name": "orders", "kind": "TASK_QUEUE_KIND_NORMAL" },
                        "input": { "payloads": [payload(rng)] },
                        "scheduleToCloseTimeout": "0s",
                        "startToCloseTimeout": "30s",
                        "workflowTaskCompletedEventId": (id - 1).to_string(),
                        "retryPolicy": { "initialInterval": "1s", "backoffCoefficient": 2, "maximumInterval": "100s" },
                    }),
                ),
            ),
            1 => (
                EventType::ActivityTaskStarted,
                (
                    "activityTaskStartedEventAttributes",
                    json!({ "scheduledEventId": (id - 1).to_string(), "identity": "worker-1@orders-7f9c", "requestId": format!("{:016x}", rng.next()), "attempt": 1 }),
                ),
            ),
            2 => (
                EventType::ActivityTaskCompleted,
                (
                    "activityTaskCompletedEventAttributes",
                    json!({ "result": { "payloads": [payload(rng)] }, "scheduledEventId": (id - 2).to_string(), "startedEventId": (id - 1).to_string(), "identity": "worker-1@orders-7f9c" }),
                ),
            ),
            3 => (
                EventType::WorkflowTaskScheduled,
                (
                    "workflowTaskScheduledEventAttributes",
                    json!({ "taskQueue": { "name": "orders", "kind": "TASK_QUEUE_KIND_NORMAL" }, "startToCloseTimeout": "10s", "attempt": 1 }),
                ),
            ),
            4 => (
                EventType::WorkflowTaskStarted,
                (
                    "workflowTaskStartedEventAttributes",
                    json!({ "scheduledEventId": (id - 1).to_string(), "identity": "worker-1@orders-7f9c", "requestId": format!("{:016x}", rng.next()), "historySizeBytes": (id * 700).to_string() }),
                ),
            ),
            _ => (
                EventType::WorkflowTaskCompleted,
                (
                    "workflowTaskCompletedEventAttributes",
                    json!({ "scheduledEventId": (id - 2).to_string(), "startedEventId": (id - 1).to_string(), "identity": "worker-1@orders-7f9c", "binaryChecksum": "b7e1f0c2" }),
                ),
            ),
        }
    }
}

/// A `json/plain` payload of an order with 0 to 12 line items.
fn payload(rng: &mut SplitMix) -> Value {
    let items: Vec<Value> = (0..rng.below(13))
        .map(|_| {
            json!({
                "sku": format!("{}-{}", WORDS[rng.below(16) as usize], rng.below(10_000)),
                "quantity": 1 + rng.below(9),
                "price": format!("{}.{:02}", rng.below(500), rng.below(100)),
            })
        })
        .collect();
    let order = json!({ "orderId": format!("ord-{:012}", rng.below(1_000_000_000_000)), "customer": WORDS[rng.below(16) as usize], "items": items });
    let data = base64::engine::general_purpose::STANDARD.encode(order.to_string());
    json!({ "metadata": { "encoding": "anNvbi9wbGFpbg==" }, "data": data })
}

#[async_trait]
impl HistorySource for GeneratedHistorySource {
    async fn read_history(&self, request: &ReadHistoryRequest) -> Result<HistoryPage> {
        let start = request.start_event_id()?;
        let end = request.next_event_id.min(self.events() + 1);
        // Batches start at 1, 4, 7, ...: the first batch starting at or after `start`.
        let mut index = (start.max(1) - 1 + EVENTS_PER_BATCH - 1) / EVENTS_PER_BATCH;
        let mut page = HistoryPage::default();
        let mut events = 0;
        while index < self.batches && index * EVENTS_PER_BATCH + 1 < end {
            if events >= request.page_size.max(1) {
                page.next_page_token = Some((index * EVENTS_PER_BATCH + 1).to_be_bytes().to_vec());
                break;
            }
            page.batches.push(self.batch(index));
            events += EVENTS_PER_BATCH as usize;
            index += 1;
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::encode_batch;

    fn read_all(source: &GeneratedHistorySource) -> Vec<History> {
        let request = source.request("ns", "wf", "run", 1);
        let mut read = ReadHistoryRequest {
            first_event_id: 1,
            next_event_id: request.next_event_id,
            page_size: 10,
            ..Default::default()
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut all = Vec::new();
        loop {
            let page = runtime.block_on(source.read_history(&read)).unwrap();
            all.extend(page.batches);
            match page.next_page_token {
                Some(token) => read.next_page_token = Some(token),
                None => return all,
            }
        }
    }

    #[test]
    fn pages_cover_every_event_once_in_order_and_repeat_exactly() {
        let source = GeneratedHistorySource::new(3, 40);
        let batches = read_all(&source);
        let ids: Vec<i64> = batches
            .iter()
            .flat_map(|b| b.events.iter().map(|e| e.event_id))
            .collect();
        assert_eq!(ids, (1..=source.events()).collect::<Vec<_>>());
        assert_eq!(batches, read_all(&source), "same seed, same history");
        assert_eq!(
            batches.last().unwrap().last_event().unwrap().event_type,
            EventType::WorkflowExecutionCompleted
        );
    }

    #[test]
    fn approx_bytes_is_close_to_the_encoded_size() {
        let source = GeneratedHistorySource::with_approx_bytes(5, 1 << 20);
        let bytes: usize = read_all(&source)
            .iter()
            .map(|b| encode_batch(b).len())
            .sum();
        let ratio = bytes as f64 / f64::from(1 << 20);
        assert!((0.7..1.4).contains(&ratio), "encoded {bytes} bytes");
    }
}
