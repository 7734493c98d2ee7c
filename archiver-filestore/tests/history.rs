//! Filestore-specific history behaviour: modes, crash safety, integrity, hostile ids, URIs.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use archiver_core::history::{
    History, HistoryPage, MemoryHistorySource, ReadHistoryRequest, RunKey,
};
use archiver_core::testing::{test_history, test_request};
use archiver_core::{
    ArchiveHistoryRequest, ArchiveOptions, ArchiveUri, Error, GetHistoryRequest, HistoryArchiver,
    HistorySource, MemoryProgressManager, Result,
};
use archiver_filestore::{FilestoreConfig, FilestoreHistoryArchiver};
use async_trait::async_trait;

fn uri_of(dir: &Path) -> ArchiveUri {
    ArchiveUri::parse(&format!("file://{}", dir.display())).unwrap()
}

fn one_run(workflow_id: &str, batches: usize) -> (Arc<MemoryHistorySource>, RunKey, Vec<History>) {
    let source = Arc::new(MemoryHistorySource::new());
    let run = RunKey::new("ns-id", workflow_id, "run-1");
    let history = test_history(3, batches, 1);
    source.insert(run.clone(), history.clone());
    (source, run, history)
}

/// A run archived once (default archiver) under a fresh root, and the archive file it made.
struct ArchivedRun {
    root: tempfile::TempDir,
    uri: ArchiveUri,
    run: RunKey,
    request: ArchiveHistoryRequest,
    history: Vec<History>,
    archiver: FilestoreHistoryArchiver,
    file: PathBuf,
}

async fn archived_run(workflow_id: &str, batches: usize) -> ArchivedRun {
    let root = tempfile::tempdir().unwrap();
    let uri = uri_of(root.path());
    let (source, run, history) = one_run(workflow_id, batches);
    let request = test_request(&run, &history, 1);
    let archiver = FilestoreHistoryArchiver::new(source);
    archiver
        .archive(&uri, &request, &ArchiveOptions::default())
        .await
        .unwrap();
    let file = files_under(root.path()).pop().unwrap();
    ArchivedRun {
        root,
        uri,
        run,
        request,
        history,
        archiver,
        file,
    }
}

async fn get_all(
    archiver: &dyn HistoryArchiver,
    uri: &ArchiveUri,
    run: &RunKey,
) -> Result<Vec<History>> {
    archiver_core::testing::read_history(archiver, uri, run, None, 7).await
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn is_temp(path: &Path) -> bool {
    path.file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with(".tmp-")
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[tokio::test]
async fn modes_are_applied_exactly() {
    let root = tempfile::tempdir().unwrap();
    let (source, run, history) = one_run("wf", 30);
    // Wider than any usual umask allows: a umask of 022 would turn these into 0644 / 0755.
    let config = FilestoreConfig::new(0o666, 0o777);
    let archiver = FilestoreHistoryArchiver::with_config(source, &config);
    let uri = uri_of(&root.path().join("archive"));
    archiver
        .archive(
            &uri,
            &test_request(&run, &history, 1),
            &ArchiveOptions::default(),
        )
        .await
        .unwrap();
    let files = files_under(root.path());
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(mode(&files[0]), 0o666);
    let mut dir = files[0].parent().unwrap();
    while dir != root.path() {
        assert_eq!(mode(dir), 0o777, "{}", dir.display());
        dir = dir.parent().unwrap();
    }

    let narrow = FilestoreConfig::new(0o600, 0o700);
    let (source, run, history) = one_run("wf2", 3);
    let archiver = FilestoreHistoryArchiver::with_config(source, &narrow);
    archiver
        .archive(
            &uri,
            &test_request(&run, &history, 1),
            &ArchiveOptions::default(),
        )
        .await
        .unwrap();
    let file = files_under(root.path())
        .into_iter()
        .find(|f| mode(f) == 0o600);
    assert!(file.is_some(), "the second archive has mode 0600");
}

/// A source that serves `allowed` reads, then never answers: the archive hangs mid-way like a
/// process about to be killed.
#[derive(Debug)]
struct StallingSource {
    inner: Arc<MemoryHistorySource>,
    allowed: AtomicUsize,
}

#[async_trait]
impl HistorySource for StallingSource {
    async fn read_history(&self, request: &ReadHistoryRequest) -> Result<HistoryPage> {
        if self
            .allowed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_err()
        {
            std::future::pending::<()>().await;
        }
        self.inner.read_history(request).await
    }
}

#[tokio::test]
async fn an_archive_dropped_mid_way_leaves_no_visible_archive_and_a_later_one_succeeds() {
    let root = tempfile::tempdir().unwrap();
    let uri = uri_of(root.path());
    let (source, run, history) = one_run("crash", 400);
    let request = test_request(&run, &history, 1);
    let stalling = Arc::new(StallingSource {
        inner: Arc::clone(&source),
        allowed: AtomicUsize::new(3),
    });
    let crashing = FilestoreHistoryArchiver::new(stalling).with_target_blob_size(2_000);
    let outcome = tokio::time::timeout(
        Duration::from_secs(1),
        crashing.archive(&uri, &request, &ArchiveOptions::default()),
    )
    .await;
    assert!(outcome.is_err(), "the archive was cut off");
    assert!(
        crashing.blob_writes() > 0,
        "some blobs were written before the cut"
    );

    let files = files_under(root.path());
    assert!(
        !files.is_empty() && files.iter().all(|f| is_temp(f)),
        "only staged files: {files:?}"
    );
    let healthy = FilestoreHistoryArchiver::new(source).with_target_blob_size(2_000);
    assert!(matches!(
        get_all(&healthy, &uri, &run).await,
        Err(Error::NotFound { .. })
    ));

    healthy
        .archive(&uri, &request, &ArchiveOptions::default())
        .await
        .unwrap();
    assert_eq!(get_all(&healthy, &uri, &run).await.unwrap(), history);
}

#[tokio::test]
async fn leftover_temp_files_do_not_disturb_reads_or_archives() {
    let root = tempfile::tempdir().unwrap();
    let uri = uri_of(root.path());
    let (source, run, history) = one_run("leftover", 40);
    let archiver = FilestoreHistoryArchiver::new(Arc::clone(&source) as Arc<dyn HistorySource>)
        .with_target_blob_size(1_000);
    let request = test_request(&run, &history, 1);
    archiver
        .archive(&uri, &request, &ArchiveOptions::default())
        .await
        .unwrap();
    let archive = files_under(root.path()).pop().unwrap();
    let dir = archive.parent().unwrap();
    // A crashed writer's partial file for the same version, and one for a higher version.
    std::fs::write(dir.join(".tmp-1-999-1-0"), b"ARCVHIST partial garbage").unwrap();
    std::fs::write(dir.join(".tmp-9-999-1-0"), b"").unwrap();
    assert_eq!(
        get_all(&archiver, &uri, &run).await.unwrap(),
        history,
        "highest committed version"
    );

    // Re-archiving over it is idempotent and still reads back the same.
    archiver
        .archive(&uri, &request, &ArchiveOptions::default())
        .await
        .unwrap();
    assert_eq!(get_all(&archiver, &uri, &run).await.unwrap(), history);
}

#[tokio::test]
async fn a_failed_archive_resumes_from_its_staged_file() {
    let root = tempfile::tempdir().unwrap();
    let uri = uri_of(root.path());
    let (source, run, history) = one_run("resume", 300);
    let request = test_request(&run, &history, 1);
    let archiver = FilestoreHistoryArchiver::new(Arc::clone(&source) as Arc<dyn HistorySource>)
        .with_target_blob_size(2_000);
    let progress = Arc::new(MemoryProgressManager::new());
    let options = ArchiveOptions::default().with_progress_manager(progress.clone());
    source.fail_reads_after(2, 1);
    let err = archiver
        .archive(&uri, &request, &options)
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    let first = archiver.blob_writes();
    assert!(first > 0);
    assert!(files_under(root.path()).iter().all(|f| is_temp(f)));

    archiver.archive(&uri, &request, &options).await.unwrap();
    assert_eq!(get_all(&archiver, &uri, &run).await.unwrap(), history);
    let clean = FilestoreHistoryArchiver::new(source).with_target_blob_size(2_000);
    clean
        .archive(
            &uri_of(&root.path().join("clean")),
            &request,
            &ArchiveOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        archiver.blob_writes(),
        clean.blob_writes(),
        "no blob written twice"
    );
    assert!(
        files_under(root.path()).iter().all(|f| !is_temp(f)),
        "the staged file became the archive"
    );
}

#[tokio::test]
async fn damage_is_reported_as_corrupted_and_only_needed_blobs_are_read() {
    let root = tempfile::tempdir().unwrap();
    let uri = uri_of(root.path());
    let (source, run, history) = one_run("damaged", 200);
    let archiver = FilestoreHistoryArchiver::new(source).with_target_blob_size(1_000);
    archiver
        .archive(
            &uri,
            &test_request(&run, &history, 1),
            &ArchiveOptions::default(),
        )
        .await
        .unwrap();
    let path = files_under(root.path()).pop().unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    // Damage the middle of the file: a late blob, not the first one.
    let at = bytes.len() * 2 / 3;
    bytes[at] ^= 0x55;
    std::fs::write(&path, &bytes).unwrap();

    let first = GetHistoryRequest::new(&run.namespace_id, &run.workflow_id, &run.run_id, 1);
    let page = archiver
        .get(&uri, &first)
        .await
        .expect("the first page reads only the first blob");
    assert_eq!(page.history_batches[0], history[0]);
    match get_all(&archiver, &uri, &run).await {
        Err(Error::Corrupted { location, .. }) => assert_eq!(location, path.display().to_string()),
        other => panic!("expected Corrupted, got {other:?}"),
    }
}

#[tokio::test]
async fn hostile_ids_stay_inside_the_root_and_round_trip() {
    let root = tempfile::tempdir().unwrap();
    let archive_root = root.path().join("archive");
    let uri = uri_of(&archive_root);
    let long = "w".repeat(4096);
    let ids = [
        "../../escape",
        "/",
        "a/b/../c",
        "nul\0byte",
        "日本語 ワークフロー 🦀",
        ".",
        "..",
        &long,
    ];
    let source = Arc::new(MemoryHistorySource::new());
    let archiver = FilestoreHistoryArchiver::new(Arc::clone(&source) as Arc<dyn HistorySource>);
    for (i, id) in ids.iter().enumerate() {
        let run = RunKey::new(*id, *id, *id);
        let history = test_history(i as u64, 5, 1);
        source.insert(run.clone(), history.clone());
        archiver
            .archive(
                &uri,
                &test_request(&run, &history, 1),
                &ArchiveOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(
            get_all(&archiver, &uri, &run).await.unwrap(),
            history,
            "{id:?}"
        );
    }
    let files = files_under(root.path());
    assert_eq!(files.len(), ids.len());
    for file in files {
        assert!(
            file.starts_with(archive_root.join("v2/history")),
            "{}",
            file.display()
        );
        assert!(
            file.as_os_str().len() < 512,
            "bounded path: {}",
            file.display()
        );
    }
}

#[tokio::test]
async fn validate_uri_checks_the_directory() {
    let root = tempfile::tempdir().unwrap();
    let archiver = FilestoreHistoryArchiver::new(Arc::new(MemoryHistorySource::new()));
    let fresh = root.path().join("a/b");
    archiver.validate_uri(&uri_of(&fresh)).await.unwrap();
    assert!(fresh.is_dir(), "a creatable directory is created");
    assert!(
        std::fs::read_dir(&fresh).unwrap().next().is_none(),
        "the probe is removed"
    );

    std::fs::write(root.path().join("file"), b"x").unwrap();
    for bad in [
        format!("file://{}/file", root.path().display()),
        format!("file://{}/file/sub", root.path().display()),
        "file://".to_owned(),
        "file://host/dir".to_owned(),
    ] {
        let err = archiver
            .validate_uri(&ArchiveUri::parse(&bad).unwrap())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidUri { .. }), "{bad}: {err:?}");
    }
    let s3 = ArchiveUri::parse("s3://bucket/dir").unwrap();
    assert!(matches!(
        archiver.validate_uri(&s3).await,
        Err(Error::SchemeMismatch { .. })
    ));
}

#[tokio::test]
async fn a_root_that_is_a_file_is_a_non_retryable_backend_error_naming_the_path() {
    let root = tempfile::tempdir().unwrap();
    let blocker = root.path().join("blocker");
    std::fs::write(&blocker, b"x").unwrap();
    let (source, run, history) = one_run("wf", 3);
    let archiver = FilestoreHistoryArchiver::new(source);
    let err = archiver
        .archive(
            &uri_of(&blocker),
            &test_request(&run, &history, 1),
            &ArchiveOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Backend {
                retryable: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&blocker.display().to_string()),
        "{err}"
    );
}

#[tokio::test]
async fn a_history_gone_at_the_source_is_skipped_and_leaves_nothing() {
    let root = tempfile::tempdir().unwrap();
    let (source, run, history) = one_run("gone", 10);
    source.remove(&run);
    let archiver = FilestoreHistoryArchiver::new(source);
    archiver
        .archive(
            &uri_of(root.path()),
            &test_request(&run, &history, 1),
            &ArchiveOptions::default(),
        )
        .await
        .expect("a missing history is a skip, not an error");
    assert!(files_under(root.path()).is_empty());
    assert!(
        std::fs::read_dir(root.path()).unwrap().next().is_none(),
        "no directories either"
    );
}

#[tokio::test]
async fn another_runs_file_in_place_is_never_served_and_a_rearchive_replaces_it() {
    let root = tempfile::tempdir().unwrap();
    let uri = uri_of(root.path());
    let source = Arc::new(MemoryHistorySource::new());
    let archiver = FilestoreHistoryArchiver::new(Arc::clone(&source) as Arc<dyn HistorySource>);
    let mut paths = Vec::new();
    let mut runs = Vec::new();
    for (i, workflow_id) in ["a", "b"].into_iter().enumerate() {
        let run = RunKey::new("ns", workflow_id, "run");
        let history = test_history(i as u64, 4, 1);
        source.insert(run.clone(), history.clone());
        let before = files_under(root.path());
        archiver
            .archive(
                &uri,
                &test_request(&run, &history, 1),
                &ArchiveOptions::default(),
            )
            .await
            .unwrap();
        let new = files_under(root.path())
            .into_iter()
            .find(|f| !before.contains(f))
            .unwrap();
        paths.push(new);
        runs.push((run, history));
    }
    // Run b's archive replaced by run a's bytes (a collision, a misplaced copy).
    std::fs::copy(&paths[0], &paths[1]).unwrap();
    let (run_b, history_b) = &runs[1];
    assert!(matches!(
        get_all(&archiver, &uri, run_b).await,
        Err(Error::Corrupted { .. })
    ));
    archiver
        .archive(
            &uri,
            &test_request(run_b, history_b, 1),
            &ArchiveOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(&get_all(&archiver, &uri, run_b).await.unwrap(), history_b);
}

#[tokio::test]
async fn an_archive_dropped_mid_way_resumes_from_recorded_progress() {
    let root = tempfile::tempdir().unwrap();
    let uri = uri_of(root.path());
    let (source, run, history) = one_run("killed", 400);
    let request = test_request(&run, &history, 1);
    let progress = Arc::new(MemoryProgressManager::new());
    let options = ArchiveOptions::default().with_progress_manager(progress.clone());
    let stalling = Arc::new(StallingSource {
        inner: Arc::clone(&source),
        allowed: AtomicUsize::new(3),
    });
    let killed = FilestoreHistoryArchiver::new(stalling).with_target_blob_size(2_000);
    let cut = tokio::time::timeout(
        Duration::from_secs(1),
        killed.archive(&uri, &request, &options),
    )
    .await;
    assert!(cut.is_err());
    assert!(
        progress.snapshot().is_some(),
        "progress was recorded before the cut"
    );

    let restarted = FilestoreHistoryArchiver::new(Arc::clone(&source) as Arc<dyn HistorySource>)
        .with_target_blob_size(2_000);
    restarted.archive(&uri, &request, &options).await.unwrap();
    assert_eq!(get_all(&restarted, &uri, &run).await.unwrap(), history);

    let clean = FilestoreHistoryArchiver::new(source).with_target_blob_size(2_000);
    clean
        .archive(
            &uri_of(&root.path().join("clean")),
            &request,
            &ArchiveOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        killed.blob_writes() + restarted.blob_writes(),
        clean.blob_writes(),
        "the restart wrote only the blobs the killed attempt had not"
    );
}

#[tokio::test]
async fn an_unreadable_existing_archive_is_reported_not_rewritten() {
    let ArchivedRun {
        root: _root,
        uri,
        request,
        archiver,
        file: path,
        ..
    } = archived_run("damaged-before-rearchive", 20).await;
    let good = std::fs::read(&path).unwrap();
    for damage in ["flipped header byte", "truncated"] {
        let mut bad = good.clone();
        match damage {
            "truncated" => bad.truncate(good.len() / 2),
            _ => bad[3] ^= 0x20,
        }
        std::fs::write(&path, &bad).unwrap();
        match archiver
            .archive(&uri, &request, &ArchiveOptions::default())
            .await
        {
            Err(Error::Corrupted { location, .. }) => {
                assert_eq!(location, path.display().to_string(), "{damage}")
            }
            other => panic!("{damage}: expected Corrupted, got {other:?}"),
        }
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bad,
            "{damage}: left as found"
        );
    }
}

#[tokio::test]
async fn ids_too_long_for_a_readable_header_are_refused_up_front() {
    let root = tempfile::tempdir().unwrap();
    // 180,000 NULs are 1,080,000 bytes as JSON (`\u0000` each): over the header's 1 MiB.
    let (source, run, history) = one_run(&"\0".repeat(180_000), 2);
    let archiver = FilestoreHistoryArchiver::new(source);
    let err = archiver
        .archive(
            &uri_of(root.path()),
            &test_request(&run, &history, 1),
            &ArchiveOptions::default(),
        )
        .await
        .expect_err("an archive that could never be read back");
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
    assert!(files_under(root.path()).is_empty());
}

/// Makes a FIFO at `path` (with the `mkfifo` tool: this workspace forbids `unsafe`).
fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Runs `call` for at most 5 seconds; if it is stuck in `open` of the FIFO at `fifo`, a writer
/// opened (and closed) on the FIFO sets it free, so a failing test ends instead of hanging.
async fn bounded<T>(fifo: &Path, call: impl std::future::Future<Output = T>) -> Option<T> {
    tokio::pin!(call);
    match tokio::time::timeout(Duration::from_secs(5), &mut call).await {
        Ok(out) => Some(out),
        Err(_) => {
            use std::os::unix::fs::OpenOptionsExt;
            let _ = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(fifo);
            let _ = call.await;
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_in_place_of_an_archive_is_refused_without_blocking() {
    let ArchivedRun {
        root: _root,
        uri,
        run,
        request,
        archiver,
        file: path,
        ..
    } = archived_run("fifo", 20).await;
    std::fs::remove_file(&path).unwrap();
    mkfifo(&path);
    let get = bounded(&path, get_all(&archiver, &uri, &run))
        .await
        .expect("get blocked on the FIFO");
    let archive = bounded(
        &path,
        archiver.archive(&uri, &request, &ArchiveOptions::default()),
    )
    .await
    .expect("archive blocked on the FIFO");
    for (call, outcome) in [("get", get.map(drop)), ("archive", archive)] {
        match outcome {
            Err(Error::Corrupted { location, reason }) => {
                assert_eq!(location, path.display().to_string(), "{call}");
                assert!(reason.contains("FIFO"), "{call}: {reason}");
            }
            other => panic!("{call}: expected Corrupted, got {other:?}"),
        }
    }
}

/// Sets the modification time of `path` to `age` ago.
fn age(path: &Path, age: Duration) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - age)
        .unwrap();
}

#[tokio::test]
async fn staged_files_of_killed_writers_are_cleaned_by_later_archives_and_by_cleanup() {
    let ArchivedRun {
        root,
        uri,
        run,
        request,
        history,
        archiver,
        file: archive,
    } = archived_run("cleaned", 10).await;
    let dir = archive.parent().unwrap();
    let hour = Duration::from_secs(3600);
    // Left by killed writers of this version and of another one; one still being written.
    for (name, untouched) in [
        (".tmp-1-999-1-0", hour * 2),
        (".tmp-5-999-1-0", hour + Duration::from_secs(60)),
        (".tmp-1-999-2-0", Duration::from_secs(60)),
    ] {
        std::fs::write(dir.join(name), b"partial").unwrap();
        age(&dir.join(name), untouched);
    }
    // The run is archived already: the retry is a no-op that still cleans.
    archiver
        .archive(&uri, &request, &ArchiveOptions::default())
        .await
        .unwrap();
    let mut left: Vec<_> = files_under(root.path())
        .into_iter()
        .filter(|f| is_temp(f))
        .collect();
    assert_eq!(left, [dir.join(".tmp-1-999-2-0")], "only the fresh one");

    // Elsewhere in the archive (a run never archived again, the root's probe), only `cleanup`.
    let elsewhere = root.path().join("v2/history/other/run");
    std::fs::create_dir_all(&elsewhere).unwrap();
    for path in [
        elsewhere.join(".tmp-3-1-1-1"),
        root.path().join(".tmp-probe-1-1-1"),
    ] {
        std::fs::write(&path, b"x").unwrap();
        age(&path, hour * 2);
        left.push(path);
    }
    let outside = root.path().join("mine/.tmp-not-ours");
    std::fs::create_dir_all(outside.parent().unwrap()).unwrap();
    std::fs::write(&outside, b"x").unwrap();
    age(&outside, hour * 2);
    assert_eq!(archiver_filestore::cleanup(&uri, hour).await.unwrap(), 2);
    assert_eq!(
        archiver_filestore::cleanup(&uri, Duration::ZERO)
            .await
            .unwrap(),
        1
    );
    assert!(
        files_under(root.path())
            .iter()
            .filter(|f| is_temp(f))
            .eq([&outside])
    );
    assert_eq!(get_all(&archiver, &uri, &run).await.unwrap(), history);
}
