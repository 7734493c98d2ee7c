//! Group commit of directory fsyncs: concurrent writers share them.
//!
//! A record is durable once its rename is followed by an fsync of its directory that *started
//! after* the rename. Writers register the directories they renamed into and wait; one of them
//! (the leader) takes every registered directory and fsyncs each once, and everyone whose
//! registration came before that round started returns when it completes. Under load, one round
//! serves many records instead of one fsync per record. All calls block.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::fsio;

/// Shares directory fsyncs between concurrent writers (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct DirSyncer {
    state: Mutex<State>,
    round_done: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Rounds started so far; a round's number is the value after its start.
    started: u64,
    /// The last round that finished (rounds never overlap).
    finished: u64,
    /// Whether a round is running now.
    running: bool,
    /// Directories registered since the running round (if any) took its set.
    pending: HashSet<PathBuf>,
    /// The last round that failed, and why.
    failure: Option<(u64, io::ErrorKind, String)>,
}

impl DirSyncer {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent counters: keep going.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns once every directory in `dirs` has been fsynced by a round that started after
    /// this call began (so after whatever the caller renamed into them before calling).
    ///
    /// An error is the failure of such a round (conservatively also of a later one).
    pub(crate) fn sync(&self, dirs: &[&Path]) -> io::Result<()> {
        let mut state = self.lock();
        state
            .pending
            .extend(dirs.iter().map(|dir| dir.to_path_buf()));
        // Any round starting from now on takes our directories.
        let needed = state.started + 1;
        loop {
            if let Some((round, kind, message)) = &state.failure
                && *round >= needed
            {
                return Err(io::Error::new(*kind, message.clone()));
            }
            if state.finished >= needed {
                return Ok(());
            }
            if state.running {
                state = self
                    .round_done
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            state.running = true;
            state.started += 1;
            let round = state.started;
            let dirs = std::mem::take(&mut state.pending);
            drop(state);
            let outcome = dirs.iter().try_for_each(|dir| {
                fsio::sync_dir(dir)
                    .map_err(|err| (err.kind(), format!("fsync {}: {err}", dir.display())))
            });
            state = self.lock();
            state.running = false;
            state.finished = round;
            if let Err((kind, message)) = outcome {
                state.failure = Some((round, kind, message));
            }
            self.round_done.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn concurrent_callers_all_return_after_a_round_that_covers_them() {
        let root = tempfile::tempdir().unwrap();
        let syncer = Arc::new(DirSyncer::default());
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let (syncer, dir) = (syncer.clone(), root.path().join(format!("d{}", i % 3)));
                std::fs::create_dir_all(&dir).unwrap();
                std::thread::spawn(move || {
                    for _ in 0..20 {
                        syncer.sync(&[&dir]).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let state = syncer.lock();
        assert!(!state.running && state.pending.is_empty());
        assert!(
            state.finished >= 1 && state.finished <= 160,
            "{}",
            state.finished
        );
    }

    #[test]
    fn a_failed_round_fails_its_callers() {
        let root = tempfile::tempdir().unwrap();
        let syncer = DirSyncer::default();
        let missing = root.path().join("missing");
        let err = syncer.sync(&[&missing]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("missing"), "{err}");
        // A later round is unaffected.
        syncer.sync(&[root.path()]).unwrap();
    }
}
