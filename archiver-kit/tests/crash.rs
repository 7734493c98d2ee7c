//! Kill -9 during archives and compactions, in a loop: a child process (this test binary, run
//! again with an environment variable) archives records 40 at a time on a `file://` table,
//! appends the ids of each acknowledged group to a log (fsynced), and compacts every few
//! groups; it is killed with SIGKILL at a random point, again and again. Then: a compaction
//! completes, every acknowledged record is found exactly once, nothing is duplicated or
//! damaged, and no query fails.
//!
//! `ARCHIVER_CRASH_KILLS` sets the number of kills (default 20); `ARCHIVER_CRASH_SEED` replays
//! the kill points of an earlier run (the seed is printed).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use archiver_core::testing::{search_attributes, test_records};
use archiver_core::{
    ArchiveOptions, ArchiveUri, QueryRequest, VisibilityArchiver, VisibilityRecord,
};
use archiver_kit::segment::SegmentOptions;
use archiver_kit::store::LocalStore;
use archiver_kit::table::{TableOptions, VisibilityTable};

const TEST: &str = "archives_and_compactions_killed_at_random_points_lose_nothing";
/// Set in the child: the table's directory.
const CHILD_ROOT: &str = "ARCHIVER_TABLE_CRASH_CHILD_ROOT";
/// Set in the child: where its run starts in the record sequence.
const CHILD_START: &str = "ARCHIVER_TABLE_CRASH_CHILD_START";
/// Records in the whole sequence; children wrap around, so runs are archived again.
const RECORDS: usize = 1500;
const GROUP: usize = 40;

fn uri_of(root: &Path) -> ArchiveUri {
    format!("file://{}/table", root.display()).parse().unwrap()
}

fn table() -> VisibilityTable<LocalStore> {
    VisibilityTable::with_options(
        LocalStore::new(),
        TableOptions::default()
            .with_batch_window(Duration::from_millis(2))
            .with_grace(Duration::ZERO)
            .with_auto_compaction(None)
            .with_max_segment_rows(300)
            .with_segment_options(SegmentOptions::default().with_row_group_rows(50)),
    )
}

/// The child: archive groups of records concurrently, log each acknowledged group, compact
/// every third group; until killed (or 30 groups).
async fn child(root: &Path, start: usize) {
    let (uri, table) = (uri_of(root), table());
    let records = test_records("ns", RECORDS);
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(root.join("acked"))
        .unwrap();
    for group in 0..30 {
        let ids: Vec<usize> = (0..GROUP)
            .map(|i| (start + group * GROUP + i) % RECORDS)
            .collect();
        let options = ArchiveOptions::default();
        let calls = ids
            .iter()
            .map(|&i| table.archive(&uri, &records[i], &options));
        for result in futures::future::join_all(calls).await {
            result.unwrap();
        }
        let line: String = ids.iter().map(|i| format!("{i}\n")).collect();
        log.write_all(line.as_bytes()).unwrap();
        log.sync_data().unwrap();
        if group % 3 == 2 {
            table
                .compact(&uri, "ns", &search_attributes())
                .await
                .unwrap();
        }
    }
}

/// The signal `Child::kill` sends.
const SIGKILL: i32 = 9;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archives_and_compactions_killed_at_random_points_lose_nothing() {
    if let Some(root) = std::env::var_os(CHILD_ROOT) {
        let start = std::env::var(CHILD_START).unwrap().parse().unwrap();
        return child(Path::new(&root), start).await;
    }
    let mut plan = archiver_core::testing::CrashPlan::from_env();
    let (kills, seed) = (plan.kills, plan.seed);
    eprintln!("table crash test: {kills} kills, ARCHIVER_CRASH_SEED={seed}");
    let root = tempfile::tempdir().unwrap();
    let (mut killed, mut finished) = (0, 0);
    for round in 0..kills {
        let start = (round as usize * 7 * GROUP) % RECORDS;
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ROOT, root.path())
            .env(CHILD_START, start.to_string())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let delay = Duration::from_millis(50 + plan.next_below(900));
        std::thread::sleep(delay);
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        // The child may have exited on its own before the signal landed: then it succeeded.
        if status.signal() == Some(SIGKILL) {
            killed += 1;
        } else {
            assert!(
                status.success(),
                "round {round}: the child failed: {status}"
            );
            finished += 1;
        }

        // After every kill: queries work and hold no run twice.
        every_run(&table(), root.path(), &format!("after kill {round}")).await;
    }
    eprintln!("table crash test: {killed} kills mid-run, {finished} children finished first");
    assert!(killed > 0, "no kill landed");

    let (uri, table) = (uri_of(root.path()), table());
    let report = table
        .compact(&uri, "ns", &search_attributes())
        .await
        .expect("a compaction after the kills");
    eprintln!("table crash test: final compaction {report:?}");
    let records = test_records("ns", RECORDS);
    let log = std::fs::read_to_string(root.path().join("acked")).unwrap_or_default();
    // A kill may cut the last line short; only whole lines were acknowledged.
    let whole = &log[..log.rfind('\n').map_or(0, |end| end + 1)];
    let acked: BTreeSet<usize> = whole.lines().map(|l| l.parse().unwrap()).collect();
    let found = every_run(&table, root.path(), "at the end").await;
    for i in &acked {
        assert_eq!(
            found.get(&records[*i].run_id),
            Some(&records[*i]),
            "acknowledged record {i}"
        );
    }
    // What was found was archived: never a record that was not sent.
    for record in found.values() {
        assert!(records.contains(record), "{record:?}");
    }
    eprintln!(
        "table crash test: {} acknowledged records all found once ({} found)",
        acked.len(),
        found.len()
    );
}

/// Every record of the table by run, checking that no run is there twice.
async fn every_run(
    table: &VisibilityTable<LocalStore>,
    root: &Path,
    when: &str,
) -> BTreeMap<String, VisibilityRecord> {
    let page = table
        .query(
            &uri_of(root),
            &QueryRequest::new("ns", "").with_page_size(RECORDS + 1),
            &search_attributes(),
        )
        .await
        .unwrap_or_else(|e| panic!("a query {when}: {e}"));
    let count = page.executions.len();
    let runs: BTreeMap<String, VisibilityRecord> = page
        .executions
        .into_iter()
        .map(|r| (r.run_id.clone(), r))
        .collect();
    assert_eq!(runs.len(), count, "a run twice {when}");
    runs
}
