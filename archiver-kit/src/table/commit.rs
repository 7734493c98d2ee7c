//! Group commit: concurrent `archive` calls of one namespace share one batch object.
//!
//! The first record of a batch arms a timer of the batch window; records of the same namespace
//! (and location) that arrive before it fires join the batch; a batch that reaches its size
//! bound is written at once. Each call waits for its batch's write and returns its outcome, so
//! an acknowledged record is a durable one. The write runs in its own task: a caller that gives
//! up does not take the others' batch with it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::object::{ObjectLocation, ObjectStore};
use archiver_core::{Error, Result};
use bytes::Bytes;
use jiff::Timestamp;
use tokio::sync::oneshot;

use super::TableOptions;
use super::batch;
use super::create::{Writer, create};
use super::keys::TableKeys;

/// What a waiting caller hears: its batch's outcome.
type Outcome = std::result::Result<(), Error>;

/// One namespace's batch being gathered.
struct Pending {
    /// Tells the timer that armed it that this batch is still the one gathering.
    id: u64,
    location: ObjectLocation,
    keys: TableKeys,
    lines: Vec<Bytes>,
    bytes: usize,
    waiters: Vec<oneshot::Sender<Outcome>>,
}

/// The batches being gathered, by bucket and namespace log prefix.
#[derive(Default)]
pub(crate) struct Committer {
    pending: Mutex<HashMap<(String, String), Pending>>,
    next_id: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Committer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Committer").finish_non_exhaustive()
    }
}

impl Committer {
    /// Adds one record (its JSON line) to its namespace's batch and waits until that batch is
    /// durable.
    pub(crate) async fn commit<S: ObjectStore>(
        self: &Arc<Self>,
        store: &Arc<S>,
        options: &TableOptions,
        location: &ObjectLocation,
        keys: TableKeys,
        line: Bytes,
    ) -> Result<()> {
        let (sender, receiver) = oneshot::channel();
        let slot = (location.bucket().to_owned(), keys.log().to_owned());
        let (full, armed) = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            let batch = pending.entry(slot.clone()).or_insert_with(|| Pending {
                id: self
                    .next_id
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                location: location.clone(),
                keys,
                lines: Vec::new(),
                bytes: 0,
                waiters: Vec::new(),
            });
            let first = batch.lines.is_empty();
            batch.bytes += line.len();
            batch.lines.push(line);
            batch.waiters.push(sender);
            if batch.lines.len() >= options.max_batch_records()
                || batch.bytes >= options.max_batch_bytes()
            {
                (pending.remove(&slot), None)
            } else {
                (None, first.then_some(batch.id))
            }
        };
        if let Some(batch) = full {
            tokio::spawn(write(Arc::clone(store), batch));
        } else if let Some(id) = armed {
            let (committer, store, window) =
                (Arc::clone(self), Arc::clone(store), options.batch_window());
            tokio::spawn(async move {
                tokio::time::sleep(window).await;
                let batch = {
                    let mut pending = committer.pending.lock().unwrap_or_else(|e| e.into_inner());
                    match pending.get(&slot) {
                        Some(batch) if batch.id == id => pending.remove(&slot),
                        _ => None, // written when it filled up; a newer batch has its own timer
                    }
                };
                if let Some(batch) = batch {
                    write(store, batch).await;
                }
            });
        }
        receiver.await.unwrap_or_else(|_| {
            Err(Error::backend(
                store.scheme(),
                "write visibility batch",
                "the batch writer stopped before the batch was written (runtime shutting down)",
                true,
            ))
        })
    }
}

/// Writes one batch and tells every waiter the outcome.
async fn write<S: ObjectStore>(store: Arc<S>, batch: Pending) {
    let Pending {
        location,
        keys,
        lines,
        waiters,
        ..
    } = batch;
    let key = keys.new_batch(Timestamp::now());
    let describe = location.describe(&key);
    let body = batch::assemble(keys.namespace_id(), &lines);
    let outcome = match create(
        store.as_ref(),
        &location,
        &key,
        body,
        "write visibility batch",
    )
    .await
    {
        Ok(Writer::Us) => Ok(()),
        // A fresh random name taken: never expected, and nothing of ours was written.
        Ok(Writer::Other) => Err(Error::backend(
            store.scheme(),
            "write visibility batch",
            format!("{describe} already exists"),
            true,
        )),
        Err(error) => Err(error),
    };
    tracing::debug!(key = %describe, records = lines.len(), ok = outcome.is_ok(), "visibility batch");
    match outcome {
        Ok(()) => {
            for waiter in waiters {
                let _ = waiter.send(Ok(()));
            }
        }
        Err(error) if waiters.len() == 1 => {
            let _ = waiters.into_iter().next().map(|w| w.send(Err(error)));
        }
        Err(error) => {
            // Every caller of the batch gets the failure; the error itself is shared.
            let retryable = error.is_retryable();
            let shared = Arc::new(error);
            for waiter in waiters {
                let _ = waiter.send(Err(Error::backend(
                    store.scheme(),
                    "write visibility batch",
                    SharedError(Arc::clone(&shared)),
                    retryable,
                )));
            }
        }
    }
}

/// One failure reported to every caller of a batch.
#[derive(Debug, Clone)]
struct SharedError(Arc<Error>);

impl std::fmt::Display for SharedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SharedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.0.as_ref())
    }
}
