//! Running blocking file work off the async runtime.

use archiver_core::Result;

use crate::error::join_error;

/// Runs `work` on tokio's blocking pool; `operation` names it if the task panics.
pub(crate) async fn blocking<T: Send + 'static>(
    operation: &'static str,
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| join_error(operation, err))?
}
