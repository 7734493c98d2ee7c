//! The in-memory provider (scheme `memory`, URIs like `memory://name/path`): the reference
//! behaviour every provider reproduces, and a double for tests and examples.
//!
//! Archives live as long as the archiver value; each URI is a separate location.

mod history;
mod visibility;

pub use history::MemoryHistoryArchiver;
pub use visibility::MemoryVisibilityArchiver;

/// The scheme of the in-memory provider.
pub const SCHEME: &str = "memory";

/// Recovers a lock's data after a panic elsewhere: every critical section here leaves the maps
/// consistent (single inserts and removes).
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
