//! Group commit of directory fsyncs: callers that changed the same directory (renamed a file
//! into it, created a directory in it) share fsyncs of it.
//!
//! An fsync of a directory makes durable the changes made in it before that fsync started, not
//! those made while it runs. A caller takes a [`Ticket`] right after its change and redeems it
//! when it needs the change durable: redeeming returns once an fsync of the directory that
//! *started after the ticket was taken* has finished, whoever ran it. If one has finished
//! already (another caller's), there is nothing to do; if one is running, the caller waits for
//! it; otherwise the first caller runs one for everyone waiting. So a directory that many
//! callers change at once (the namespace directory, where each new workflow gets its
//! directory) sees a few fsyncs, not one per change, and one taken early (at the change)
//! and redeemed late (at the commit) is often paid by others.
//!
//! All functions block: call them from `spawn_blocking`.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use crate::fsio;

/// Shared directory fsyncs, one queue per directory. A directory's entry lives while tickets
/// for it do.
#[derive(Debug, Default)]
pub(crate) struct DirSyncs {
    dirs: Mutex<HashMap<PathBuf, Arc<DirSync>>>,
}

impl DirSyncs {
    /// A ticket for the changes made in `dir` before this call.
    pub(crate) fn ticket(self: &Arc<Self>, dir: &Path) -> Ticket {
        let entry = Arc::clone(lock(&self.dirs).entry(dir.to_owned()).or_default());
        // The first fsync to start from now on; one running now may have started before the
        // caller's change.
        let needed = lock(&entry.state).started + 1;
        Ticket {
            syncs: Arc::clone(self),
            dir: dir.to_owned(),
            entry: Some(entry),
            needed,
        }
    }

    /// Makes the changes made in `dir` before this call durable: a ticket redeemed at once.
    pub(crate) fn sync(self: &Arc<Self>, dir: &Path) -> io::Result<()> {
        self.ticket(dir).redeem()
    }

    /// How many callers wait on `dir`'s fsyncs now.
    #[cfg(test)]
    fn waiting(&self, dir: &Path) -> usize {
        lock(&self.dirs)
            .get(dir)
            .map_or(0, |entry| lock(&entry.state).waiting)
    }

    /// How many directories have an entry now.
    #[cfg(test)]
    fn entries(&self) -> usize {
        lock(&self.dirs).len()
    }
}

/// Changes made in a directory, to be made durable by an fsync of it that started after them:
/// see [`DirSyncs::ticket`]. Dropping it unredeemed gives up on that.
#[derive(Debug)]
pub(crate) struct Ticket {
    syncs: Arc<DirSyncs>,
    dir: PathBuf,
    /// `None` once dropped.
    entry: Option<Arc<DirSync>>,
    /// The number of the first fsync of the directory that started after the ticket was taken.
    needed: u64,
}

impl Ticket {
    /// Returns once an fsync of the directory that started after the ticket was taken has
    /// finished (running it if it is this caller's turn), with the outcome of the last fsync
    /// finished.
    pub(crate) fn redeem(self) -> io::Result<()> {
        let dir = self.dir.clone();
        self.redeem_with(|| fsio::sync_dir(&dir))
    }

    /// [`Ticket::redeem`] with `fsync` as the fsync this caller runs if it is its turn.
    fn redeem_with(self, fsync: impl FnOnce() -> io::Result<()>) -> io::Result<()> {
        let entry = self.entry.as_ref().expect("a live ticket has its entry");
        entry.sync(self.needed, fsync)
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut dirs = lock(&self.syncs.dirs);
        drop(self.entry.take());
        // Clones are taken under this lock: a count of one means no ticket holds the entry.
        if dirs
            .get(&self.dir)
            .is_some_and(|entry| Arc::strong_count(entry) == 1)
        {
            dirs.remove(&self.dir);
        }
    }
}

/// One directory's fsyncs, run one at a time.
#[derive(Debug, Default)]
struct DirSync {
    state: Mutex<SyncState>,
    /// Signalled when an fsync finishes.
    finished: Condvar,
}

#[derive(Debug, Default)]
struct SyncState {
    /// Fsyncs started so far; the one running, if any, is number `started`.
    started: u64,
    /// Whether fsync number `started` is running.
    running: bool,
    /// The last finished fsync's failure, if it failed.
    failed: Option<(io::ErrorKind, String)>,
    /// Callers waiting for an fsync to finish.
    waiting: usize,
}

impl SyncState {
    fn finished(&self) -> u64 {
        self.started - u64::from(self.running)
    }

    fn outcome(&self) -> io::Result<()> {
        match &self.failed {
            None => Ok(()),
            Some((kind, message)) => Err(io::Error::new(*kind, message.clone())),
        }
    }
}

impl DirSync {
    /// Returns once fsync number `needed` (or a later one) has finished, running it if it is
    /// the caller's turn.
    fn sync(&self, needed: u64, fsync: impl FnOnce() -> io::Result<()>) -> io::Result<()> {
        let mut state = lock(&self.state);
        let mut fsync = Some(fsync);
        loop {
            if state.finished() >= needed {
                // The last finished fsync started after the ticket was taken.
                return state.outcome();
            }
            if !state.running {
                state.started += 1;
                state.running = true;
                drop(state);
                // Each caller runs at most one fsync: the one it starts is `needed` or later.
                let run = fsync.take().expect("a caller runs one fsync");
                let finish = Finish { sync: self };
                let outcome = run();
                finish.done(&outcome);
                return outcome;
            }
            state.waiting += 1;
            state = self
                .finished
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.waiting -= 1;
        }
    }
}

/// Marks the running fsync finished and wakes the waiters, also when the fsync panics (the
/// waiters then see an error).
struct Finish<'a> {
    sync: &'a DirSync,
}

impl Finish<'_> {
    fn done(self, outcome: &io::Result<()>) {
        self.record(
            outcome
                .as_ref()
                .err()
                .map(|err| (err.kind(), err.to_string())),
        );
        std::mem::forget(self);
    }

    fn record(&self, failed: Option<(io::ErrorKind, String)>) {
        let mut state = lock(&self.sync.state);
        state.running = false;
        state.failed = failed;
        self.sync.finished.notify_all();
    }
}

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        self.record(Some((
            io::ErrorKind::Other,
            "directory fsync panicked".into(),
        )));
    }
}

/// Locks `mutex`; a panic elsewhere leaves the state consistent, so poisoning is ignored.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::thread;
    use std::time::{Duration, Instant};

    const DIR: &str = "/archive/ns";

    fn dir() -> &'static Path {
        Path::new(DIR)
    }

    /// An fsync that counts its runs.
    fn counted(runs: &AtomicUsize) -> impl FnOnce() -> io::Result<()> + '_ {
        || {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    /// Waits until `n` callers wait on `DIR`.
    fn until_waiting(syncs: &DirSyncs, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while syncs.waiting(dir()) < n {
            assert!(Instant::now() < deadline, "callers never waited");
            thread::sleep(Duration::from_millis(1));
        }
    }

    /// Starts an fsync of `DIR` that holds until released; returns the release and its thread.
    fn held_fsync<'s>(
        scope: &'s thread::Scope<'s, '_>,
        syncs: &Arc<DirSyncs>,
        runs: &'s AtomicUsize,
    ) -> (
        mpsc::Sender<()>,
        thread::ScopedJoinHandle<'s, io::Result<()>>,
    ) {
        let (started_tx, started_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let ticket = syncs.ticket(dir());
        let first = scope.spawn(move || {
            ticket.redeem_with(|| {
                runs.fetch_add(1, Ordering::SeqCst);
                started_tx.send(()).unwrap();
                release_rx.recv().unwrap();
                Ok(())
            })
        });
        started_rx.recv().unwrap();
        (release_tx, first)
    }

    #[test]
    fn a_change_made_during_an_fsync_waits_for_a_later_one() {
        let syncs = Arc::new(DirSyncs::default());
        let runs = AtomicUsize::new(0);
        // How many fsyncs had run when the second caller's redeem returned.
        let runs_at_return = AtomicUsize::new(0);
        thread::scope(|scope| {
            let (release, first) = held_fsync(scope, &syncs, &runs);
            // A rename now, while the first fsync runs: that fsync may not cover it.
            let ticket = syncs.ticket(dir());
            let second = scope.spawn(|| {
                let outcome = ticket.redeem_with(counted(&runs));
                runs_at_return.store(runs.load(Ordering::SeqCst), Ordering::SeqCst);
                outcome
            });
            until_waiting(&syncs, 1);
            assert_eq!(runs.load(Ordering::SeqCst), 1);
            release.send(()).unwrap();
            first.join().unwrap().unwrap();
            second.join().unwrap().unwrap();
        });
        assert_eq!(runs.load(Ordering::SeqCst), 2, "a second fsync ran");
        assert_eq!(
            runs_at_return.load(Ordering::SeqCst),
            2,
            "returned after it"
        );
        assert_eq!(syncs.entries(), 0, "entries go with their tickets");
    }

    #[test]
    fn a_change_made_before_a_finished_fsync_needs_none() {
        let syncs = Arc::new(DirSyncs::default());
        let runs = AtomicUsize::new(0);
        let early = syncs.ticket(dir());
        syncs.ticket(dir()).redeem_with(counted(&runs)).unwrap();
        // Another caller's fsync started after `early` was taken: it covers it.
        early.redeem_with(counted(&runs)).unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // A change after that fsync needs a new one.
        syncs.ticket(dir()).redeem_with(counted(&runs)).unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn changes_made_during_an_fsync_share_the_next_one() {
        let syncs = Arc::new(DirSyncs::default());
        let runs = AtomicUsize::new(0);
        thread::scope(|scope| {
            let (release, first) = held_fsync(scope, &syncs, &runs);
            let waiters: Vec<_> = (0..5)
                .map(|_| {
                    let ticket = syncs.ticket(dir());
                    scope.spawn(|| ticket.redeem_with(counted(&runs)))
                })
                .collect();
            until_waiting(&syncs, 5);
            release.send(()).unwrap();
            first.join().unwrap().unwrap();
            for waiter in waiters {
                waiter.join().unwrap().unwrap();
            }
        });
        assert_eq!(runs.load(Ordering::SeqCst), 2, "one fsync for the five");
    }

    #[test]
    fn a_failed_fsync_fails_the_changes_it_covers_and_the_next_is_tried_afresh() {
        let syncs = Arc::new(DirSyncs::default());
        let runs = AtomicUsize::new(0);
        thread::scope(|scope| {
            let (release, first) = held_fsync(scope, &syncs, &runs);
            let waiters: Vec<_> = (0..3)
                .map(|_| {
                    let ticket = syncs.ticket(dir());
                    scope.spawn(|| {
                        ticket.redeem_with(|| {
                            runs.fetch_add(1, Ordering::SeqCst);
                            Err(io::Error::other("disk gone"))
                        })
                    })
                })
                .collect();
            until_waiting(&syncs, 3);
            release.send(()).unwrap();
            first.join().unwrap().unwrap();
            for waiter in waiters {
                let err = waiter.join().unwrap().unwrap_err();
                assert_eq!(err.to_string(), "disk gone");
            }
        });
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        syncs.ticket(dir()).redeem_with(counted(&runs)).unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn a_panicking_fsync_releases_its_waiters_with_an_error() {
        let syncs = Arc::new(DirSyncs::default());
        let runs = AtomicUsize::new(0);
        let panics = AtomicUsize::new(0);
        thread::scope(|scope| {
            let (release, first) = held_fsync(scope, &syncs, &runs);
            // Both changed during the first fsync; one runs the second, which panics.
            let waiters: Vec<_> = (0..2)
                .map(|_| {
                    let ticket = syncs.ticket(dir());
                    scope.spawn(|| {
                        ticket.redeem_with(|| {
                            panics.fetch_add(1, Ordering::SeqCst);
                            panic!("fsync panics")
                        })
                    })
                })
                .collect();
            until_waiting(&syncs, 2);
            release.send(()).unwrap();
            first.join().unwrap().unwrap();
            let outcomes: Vec<_> = waiters.into_iter().map(|w| w.join()).collect();
            assert_eq!(outcomes.iter().filter(|o| o.is_err()).count(), 1);
            let released = outcomes.into_iter().find_map(Result::ok).unwrap();
            assert!(released.unwrap_err().to_string().contains("panicked"));
        });
        assert_eq!(panics.load(Ordering::SeqCst), 1);
        assert_eq!(syncs.entries(), 0);
    }

    #[test]
    fn different_directories_do_not_wait_for_each_other() {
        let syncs = Arc::new(DirSyncs::default());
        let runs = AtomicUsize::new(0);
        thread::scope(|scope| {
            let (release, first) = held_fsync(scope, &syncs, &runs);
            // Returns while the fsync of DIR is held.
            syncs
                .ticket(Path::new("/archive/other"))
                .redeem_with(counted(&runs))
                .unwrap();
            assert_eq!(syncs.entries(), 1);
            release.send(()).unwrap();
            first.join().unwrap().unwrap();
        });
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn syncs_a_real_directory() {
        let root = tempfile::tempdir().unwrap();
        let syncs = Arc::new(DirSyncs::default());
        syncs.sync(root.path()).unwrap();
        let err = syncs.sync(&root.path().join("missing")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert_eq!(syncs.entries(), 0);
    }
}
