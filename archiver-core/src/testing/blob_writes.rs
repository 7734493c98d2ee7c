//! [`BlobWriteTally`]: the blob writes of every history archiver a fixture made, summed.

use std::fmt;
use std::sync::{Arc, Mutex};

type Counter = Box<dyn Fn() -> u64 + Send + Sync>;

/// Sums the blob writes of the history archivers a [`Fixture`](super::Fixture) hands out, for
/// its [`blob_writes`](super::Fixture::blob_writes).
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use archiver_core::testing::BlobWriteTally;
///
/// /// A history archiver that counts the blobs it writes.
/// #[derive(Default)]
/// struct MyArchiver {
///     blob_writes: AtomicU64,
/// }
/// impl MyArchiver {
///     fn blob_writes(&self) -> u64 {
///         self.blob_writes.load(Ordering::Relaxed)
///     }
/// }
///
/// let tally = BlobWriteTally::default();
/// let archiver = Arc::new(MyArchiver::default());
/// tally.track(&archiver, MyArchiver::blob_writes);
/// assert_eq!(tally.total(), 0);
/// archiver.blob_writes.fetch_add(2, Ordering::Relaxed);
/// assert_eq!(tally.total(), 2);
/// ```
#[derive(Default)]
pub struct BlobWriteTally {
    counters: Mutex<Vec<Counter>>,
}

impl fmt::Debug for BlobWriteTally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobWriteTally")
            .field("total", &self.total())
            .finish()
    }
}

impl BlobWriteTally {
    /// Counts `archiver`'s blob writes (read with `count`) from now on.
    pub fn track<A: Send + Sync + 'static>(&self, archiver: &Arc<A>, count: fn(&A) -> u64) {
        let archiver = Arc::clone(archiver);
        self.counters
            .lock()
            .expect("tally lock")
            .push(Box::new(move || count(&archiver)));
    }

    /// The blob writes of every tracked archiver so far.
    pub fn total(&self) -> u64 {
        self.counters
            .lock()
            .expect("tally lock")
            .iter()
            .map(|count| count())
            .sum()
    }
}
