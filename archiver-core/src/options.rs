//! Per-call archive options: progress recording (to resume a multi-blob archive) and the
//! caller's non-retryable error.

use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::{Error, Result};

/// Saves and restores an archive's progress, so a retried archive continues where the last
/// attempt stopped instead of starting over.
///
/// Progress is opaque bytes owned by the provider (for the built-in providers, small JSON). The
/// engine stores them wherever it keeps task state (Temporal used activity heartbeats).
#[async_trait]
pub trait ProgressManager: Send + Sync + fmt::Debug {
    /// Records `progress`, replacing what was recorded before.
    async fn record_progress(&self, progress: &[u8]) -> Result<()>;
    /// The last recorded progress, if any.
    async fn load_progress(&self) -> Result<Option<Vec<u8>>>;
    /// Whether any progress was recorded.
    async fn has_progress(&self) -> bool;
}

/// A [`ProgressManager`] that keeps progress in memory, for tests, examples and engines that
/// retry within one process.
#[derive(Debug, Default)]
pub struct MemoryProgressManager {
    progress: Mutex<Option<Vec<u8>>>,
}

impl MemoryProgressManager {
    /// An empty manager.
    pub fn new() -> Self {
        Self::default()
    }

    /// The recorded progress (a copy), without going through the async trait.
    pub fn snapshot(&self) -> Option<Vec<u8>> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Vec<u8>>> {
        // A panic while holding this lock cannot leave the Option half-written.
        self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl ProgressManager for MemoryProgressManager {
    async fn record_progress(&self, progress: &[u8]) -> Result<()> {
        *self.lock() = Some(progress.to_vec());
        Ok(())
    }
    async fn load_progress(&self) -> Result<Option<Vec<u8>>> {
        Ok(self.snapshot())
    }
    async fn has_progress(&self) -> bool {
        self.lock().is_some()
    }
}

/// The caller's error, returned in place of a non-retryable failure.
pub type CallerError = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// Options of one `archive` call. The default has none set.
///
/// ```
/// use std::sync::Arc;
/// use archiver_core::{ArchiveOptions, Error, MemoryProgressManager};
/// let stop = Arc::new(std::io::Error::other("do not retry"));
/// let options = ArchiveOptions::default()
///     .with_progress_manager(Arc::new(MemoryProgressManager::new()))
///     .with_non_retryable_error(stop);
/// let failed = options.finish(Err(Error::HistoryMutated { reason: "x".into() }));
/// assert!(matches!(failed, Err(Error::Caller(_))));
/// ```
#[derive(Clone, Default)]
pub struct ArchiveOptions {
    progress_manager: Option<Arc<dyn ProgressManager>>,
    non_retryable_error: Option<CallerError>,
}

impl fmt::Debug for ArchiveOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArchiveOptions")
            .field("progress_manager", &self.progress_manager)
            .field(
                "non_retryable_error",
                &self.non_retryable_error.as_ref().map(|e| e.to_string()),
            )
            .finish()
    }
}

impl ArchiveOptions {
    /// Record progress through `manager` and resume from what it holds.
    pub fn with_progress_manager(mut self, manager: Arc<dyn ProgressManager>) -> Self {
        self.progress_manager = Some(manager);
        self
    }

    /// Return `error` (as [`Error::Caller`]) instead of any non-retryable failure, so the
    /// caller's retry machinery recognises "stop retrying".
    pub fn with_non_retryable_error(mut self, error: CallerError) -> Self {
        self.non_retryable_error = Some(error);
        self
    }

    /// The progress manager, if one was set.
    pub fn progress_manager(&self) -> Option<&Arc<dyn ProgressManager>> {
        self.progress_manager.as_ref()
    }

    /// Applies the non-retryable-error option to an archive's result: providers end `archive`
    /// with `options.finish(result)`.
    pub fn finish(&self, result: Result<()>) -> Result<()> {
        match (result, &self.non_retryable_error) {
            (Err(err), Some(caller)) if !err.is_retryable() => {
                tracing::warn!(error = %err, "archive failed with a non-retryable error");
                Err(Error::Caller(Arc::clone(caller)))
            }
            (result, _) => result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_swaps_only_non_retryable_errors() {
        let caller: CallerError = Arc::new(std::io::Error::other("stop"));
        let options = ArchiveOptions::default().with_non_retryable_error(caller);
        assert!(options.finish(Ok(())).is_ok());
        let retryable = Error::backend("memory", "write", std::io::Error::other("x"), true);
        assert!(matches!(
            options.finish(Err(retryable)),
            Err(Error::Backend { .. })
        ));
        let fatal = Error::NotFound { what: "x".into() };
        match options.finish(Err(fatal)) {
            Err(Error::Caller(e)) => assert_eq!(e.to_string(), "stop"),
            other => panic!("expected the caller's error, got {other:?}"),
        }
        let plain = ArchiveOptions::default();
        assert!(matches!(
            plain.finish(Err(Error::NotFound { what: "x".into() })),
            Err(Error::NotFound { .. })
        ));
    }

    #[tokio::test]
    async fn memory_progress_manager_keeps_the_last_record() {
        let pm = MemoryProgressManager::new();
        assert!(!pm.has_progress().await);
        assert_eq!(pm.load_progress().await.unwrap(), None);
        pm.record_progress(b"one").await.unwrap();
        pm.record_progress(b"two").await.unwrap();
        assert!(pm.has_progress().await);
        assert_eq!(
            pm.load_progress().await.unwrap().as_deref(),
            Some(&b"two"[..])
        );
    }
}
