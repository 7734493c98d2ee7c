//! Crash safety with real kills: a child process (this test binary, re-run with an environment
//! variable) archives histories and visibility records and is killed with SIGKILL at a random
//! point. After each kill: no partial archive is visible (a history reads as not found or whole,
//! queries return only intact records, none twice), archiving again completes, and at the end
//! `cleanup` leaves no staged file.
//!
//! `ARCHIVER_CRASH_KILLS` sets the number of kills (default 20); `ARCHIVER_CRASH_SEED` replays
//! the kill points of an earlier run (the seed is printed).

use std::collections::HashSet;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use archiver_core::history::{History, MemoryHistorySource, RunKey};
use archiver_core::testing::{search_attributes, test_history, test_records, test_request};
use archiver_core::{
    ArchiveOptions, ArchiveUri, Error, HistoryArchiver, QueryRequest, VisibilityArchiver,
    VisibilityRecord,
};
use archiver_filestore::{FilestoreHistoryArchiver, FilestoreVisibilityArchiver};

const TEST: &str = "archives_killed_at_random_points_leave_no_partial_data";
/// Set in the child: the archive root to write into.
const CHILD_ROOT: &str = "ARCHIVER_FILESTORE_CRASH_CHILD_ROOT";
/// Set in the child: which round's data to archive.
const CHILD_ROUND: &str = "ARCHIVER_FILESTORE_CRASH_CHILD_ROUND";
/// Runs archived per round, and visibility records archived after each.
const RUNS: usize = 3;
const RECORDS_PER_RUN: usize = 10;

fn uri_of(dir: &Path) -> ArchiveUri {
    ArchiveUri::parse(&format!("file://{}", dir.display())).unwrap()
}

/// Round `round`'s data: its own runs and its own namespace of records, so every round's
/// child has fresh work to be killed in.
fn round_data(round: u64) -> (Vec<(RunKey, Vec<History>)>, Vec<VisibilityRecord>) {
    let runs = (0..RUNS as u64)
        .map(|j| {
            let run = RunKey::new("ns", format!("wf-{j}"), format!("run-{round}"));
            (run, test_history(round * 100 + j, 200, 1))
        })
        .collect();
    (
        runs,
        test_records(&format!("ns-{round}"), RUNS * RECORDS_PER_RUN),
    )
}

/// Archives round `round` into `root`: each run's history, then a share of the records.
async fn archive_round(root: &Path, round: u64) {
    let uri = uri_of(root);
    let (runs, records) = round_data(round);
    let source = Arc::new(MemoryHistorySource::new());
    for (run, history) in &runs {
        source.insert(run.clone(), history.clone());
    }
    let histories = FilestoreHistoryArchiver::new(source).with_target_blob_size(2_000);
    let visibility = FilestoreVisibilityArchiver::new();
    for ((run, history), share) in runs.iter().zip(records.chunks(RECORDS_PER_RUN)) {
        histories
            .archive(
                &uri,
                &test_request(run, history, 1),
                &ArchiveOptions::default(),
            )
            .await
            .unwrap();
        for record in share {
            visibility
                .archive(&uri, record, &ArchiveOptions::default())
                .await
                .unwrap();
        }
    }
}

/// Runs the child for round `round` to completion, or until killed after `kill_after`.
/// Returns whether it was killed before it finished.
fn run_child(root: &Path, round: u64, kill_after: Option<Duration>) -> bool {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ROOT, root)
        .env(CHILD_ROUND, round.to_string())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let Some(delay) = kill_after else {
        assert!(child.wait().unwrap().success(), "the child failed");
        return false;
    };
    std::thread::sleep(delay);
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    // The child may have exited on its own before the signal landed (even after a check that
    // it still ran): the status says which, and a child that exited must have succeeded.
    let killed = status.signal() == Some(SIGKILL);
    assert!(killed || status.success(), "the child failed: {status}");
    killed
}

/// The signal `Child::kill` sends.
const SIGKILL: i32 = 9;

async fn get_all(uri: &ArchiveUri, run: &RunKey) -> archiver_core::Result<Vec<History>> {
    let archiver = FilestoreHistoryArchiver::new(Arc::new(MemoryHistorySource::new()));
    archiver_core::testing::read_history(&archiver, uri, run, None, 50).await
}

async fn query_all(uri: &ArchiveUri, namespace_id: &str) -> Vec<VisibilityRecord> {
    let archiver = FilestoreVisibilityArchiver::new();
    let mut request = QueryRequest::new(namespace_id, "").with_page_size(7);
    let mut all = Vec::new();
    loop {
        let page = archiver
            .query(uri, &request, &search_attributes())
            .await
            .unwrap_or_else(|err| panic!("a query after a kill: {err}"));
        all.extend(page.executions);
        match page.next_page_token {
            Some(token) => request.next_page_token = Some(token),
            None => return all,
        }
    }
}

/// What a reader sees of round `round`: each history not found or whole, records intact and
/// once each. Returns how many histories and records are visible.
async fn check_visible(root: &Path, round: u64) -> (usize, usize) {
    let uri = uri_of(root);
    let (runs, records) = round_data(round);
    let mut histories = 0;
    for (run, history) in &runs {
        match get_all(&uri, run).await {
            Ok(found) => {
                assert_eq!(&found, history, "round {round} {run:?}: a changed history");
                histories += 1;
            }
            Err(Error::NotFound { .. }) => {}
            Err(err) => panic!("round {round} {run:?}: {err}"),
        }
    }
    let found = query_all(&uri, &format!("ns-{round}")).await;
    let mut seen = HashSet::new();
    for record in &found {
        assert!(records.contains(record), "round {round}: a changed record");
        assert!(
            seen.insert((record.workflow_id.clone(), record.run_id.clone())),
            "round {round}: a record twice"
        );
    }
    (histories, found.len())
}

fn temps_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(temps_under(&path));
        } else if path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with(".tmp-")
        {
            out.push(path);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archives_killed_at_random_points_leave_no_partial_data() {
    if let Some(root) = std::env::var_os(CHILD_ROOT) {
        let round = std::env::var(CHILD_ROUND).unwrap().parse().unwrap();
        return archive_round(Path::new(&root), round).await;
    }
    let mut plan = archiver_core::testing::CrashPlan::from_env();
    let (kills, seed) = (plan.kills, plan.seed);
    eprintln!("crash test: {kills} kills, ARCHIVER_CRASH_SEED={seed}");

    // How long a whole round takes (process start included): kill points spread over it. A
    // child that finishes before its kill (a busy machine made the calibration slow) narrows
    // the window to that delay, so kills keep landing mid-round.
    let scratch = tempfile::tempdir().unwrap();
    let started = Instant::now();
    tokio::task::block_in_place(|| run_child(scratch.path(), 0, None));
    let mut window = started.elapsed();
    assert_eq!(
        check_visible(scratch.path(), 0).await,
        (RUNS, RUNS * RECORDS_PER_RUN)
    );

    let root = tempfile::tempdir().unwrap();
    let uri = uri_of(root.path());
    let (mut mid_round, mut partial_histories, mut partial_records) = (0, 0, 0);
    for round in 1..=kills {
        let delay = Duration::from_micros(plan.next_below(window.as_micros() as u64));
        let killed = tokio::task::block_in_place(|| run_child(root.path(), round, Some(delay)));
        if !killed {
            window = delay.max(Duration::from_millis(1));
        }
        let (histories, records) = check_visible(root.path(), round).await;
        if killed {
            mid_round += 1;
            partial_histories += usize::from(histories < RUNS);
            partial_records += usize::from(records < RUNS * RECORDS_PER_RUN);
        }
        // Archiving again completes and shows everything.
        archive_round(root.path(), round).await;
        assert_eq!(
            check_visible(root.path(), round).await,
            (RUNS, RUNS * RECORDS_PER_RUN),
            "round {round} after the re-archive"
        );
    }
    let temps = temps_under(root.path());
    let bytes: u64 = temps
        .iter()
        .map(|t| std::fs::metadata(t).unwrap().len())
        .sum();
    eprintln!(
        "crash test: {mid_round} of {kills} kills mid-round ({partial_histories} with a history \
         missing, {partial_records} with records missing), {} staged files ({bytes} bytes) left \
         before cleanup",
        temps.len()
    );
    let removed = archiver_filestore::cleanup(&uri, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(removed, temps.len() as u64);
    assert!(temps_under(root.path()).is_empty(), "no staged file left");
    for round in 1..=kills {
        assert_eq!(
            check_visible(root.path(), round).await,
            (RUNS, RUNS * RECORDS_PER_RUN),
            "round {round} after cleanup"
        );
    }
    assert!(mid_round > 0, "no kill landed mid-round");
}
