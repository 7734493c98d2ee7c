//! The shared archive loop (`archive_staged`): what it asks of a provider's stage, in which
//! order, and what it keeps after a failure.

use std::sync::{Arc, Mutex};

use archiver_core::history::{
    ArchiveRun, EventFields, MemoryHistorySource, Put, RunKey, StagedArchive, archive_staged,
};
use archiver_core::{
    ArchiveHistoryRequest, ArchiveOptions, Error, History, HistoryBlob, HistoryEvent,
    MemoryProgressManager, Result,
};

/// A stage that logs every call and can be told to fail or to find the archive present.
struct Logged {
    log: Arc<Mutex<Vec<String>>>,
    /// Blobs staged by this attempt or the one it resumed.
    staged: Vec<i64>,
    fail_put: Option<(usize, bool)>,
    archived_already: bool,
}

impl Logged {
    fn new(log: &Arc<Mutex<Vec<String>>>) -> Self {
        Self {
            log: Arc::clone(log),
            staged: Vec::new(),
            fail_put: None,
            archived_already: false,
        }
    }
    fn note(&self, entry: String) {
        self.log.lock().unwrap().push(entry);
    }
}

impl StagedArchive for Logged {
    type Checkpoint = Vec<i64>;

    async fn resume(&mut self, staged: Vec<i64>) -> Result<bool> {
        self.note(format!("resume {staged:?}"));
        self.staged = staged;
        Ok(true)
    }

    async fn put(&mut self, blob: HistoryBlob, durable: bool) -> Result<Put> {
        if self.archived_already {
            self.note("put: archived".into());
            return Ok(Put::AlreadyArchived);
        }
        if let Some((at, retryable)) = self.fail_put
            && self.staged.len() == at
        {
            self.note("put: failed".into());
            return Err(Error::backend("test", "put", "injected", retryable));
        }
        self.note(format!("put {} durable={durable}", blob.first_event_id));
        self.staged.push(blob.first_event_id);
        Ok(Put::Staged)
    }

    fn checkpoint(&self) -> Vec<i64> {
        self.staged.clone()
    }

    async fn commit(self, only: Option<HistoryBlob>) -> Result<()> {
        match only {
            Some(blob) => self.note(format!("commit only {}", blob.first_event_id)),
            None => self.note(format!("commit {:?}", self.staged)),
        }
        Ok(())
    }

    async fn abandon(self) {
        self.note("abandon".into());
    }
}

/// A run of `batches` one-event batches of about 100 bytes each.
fn source(batches: i64) -> (Arc<MemoryHistorySource>, ArchiveHistoryRequest) {
    let source = Arc::new(MemoryHistorySource::new());
    let history = (1..=batches)
        .map(|id| {
            let mut fields = EventFields::new();
            fields.insert("pad", "p".repeat(100).into());
            History::new(vec![HistoryEvent {
                event_id: id,
                version: 1,
                fields,
                ..Default::default()
            }])
        })
        .collect();
    source.insert(RunKey::new("ns", "wf", "run"), history);
    let request = ArchiveHistoryRequest {
        namespace_id: "ns".into(),
        namespace: "n".into(),
        workflow_id: "wf".into(),
        run_id: "run".into(),
        next_event_id: batches + 1,
        close_failover_version: 1,
        ..Default::default()
    };
    (source, request)
}

/// Archives with blobs of about one batch; returns the result and the log.
async fn archive(
    stage: Logged,
    source: &Arc<MemoryHistorySource>,
    request: &ArchiveHistoryRequest,
    options: &ArchiveOptions,
    binding: &str,
) -> Result<()> {
    let run = ArchiveRun::new(source.clone(), request, options, 1);
    archive_staged(stage, run, &["test", binding]).await
}

fn taken(log: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap())
}

#[tokio::test]
async fn a_one_blob_history_is_committed_whole_and_longer_ones_blob_by_blob() {
    let log = Arc::default();
    let options = ArchiveOptions::default();
    let (one, request) = source(1);
    archive(Logged::new(&log), &one, &request, &options, "a")
        .await
        .unwrap();
    assert_eq!(taken(&log), ["commit only 1"]);

    let (three, request) = source(3);
    archive(Logged::new(&log), &three, &request, &options, "a")
        .await
        .unwrap();
    assert_eq!(
        taken(&log),
        [
            "put 1 durable=false",
            "put 2 durable=false",
            "put 3 durable=false",
            "commit [1, 2, 3]"
        ]
    );
}

#[tokio::test]
async fn a_history_gone_at_the_source_or_archived_already_is_success_and_abandons() {
    let log = Arc::default();
    let options = ArchiveOptions::default();
    let (source, request) = source(3);
    let other = ArchiveHistoryRequest {
        run_id: "gone".into(),
        ..request.clone()
    };
    archive(Logged::new(&log), &source, &other, &options, "a")
        .await
        .unwrap();
    assert_eq!(taken(&log), ["abandon"]);

    let mut stage = Logged::new(&log);
    stage.archived_already = true;
    archive(stage, &source, &request, &options, "a")
        .await
        .unwrap();
    assert_eq!(taken(&log), ["put: archived", "abandon"]);
}

#[tokio::test]
async fn a_retry_resumes_where_recorded_progress_stands_and_writes_no_blob_twice() {
    let log = Arc::default();
    let (source, request) = source(4);
    let options =
        ArchiveOptions::default().with_progress_manager(Arc::new(MemoryProgressManager::new()));
    let mut failing = Logged::new(&log);
    failing.fail_put = Some((2, true));
    let err = archive(failing, &source, &request, &options, "a")
        .await
        .unwrap_err();
    assert!(err.is_retryable());
    assert_eq!(
        taken(&log),
        ["put 1 durable=true", "put 2 durable=true", "put: failed"],
        "a retryable failure with progress keeps the staging"
    );

    archive(Logged::new(&log), &source, &request, &options, "a")
        .await
        .unwrap();
    assert_eq!(
        taken(&log),
        [
            "resume [1, 2]",
            "put 3 durable=true",
            "put 4 durable=true",
            "commit [1, 2, 3, 4]"
        ]
    );

    // Progress bound to another archive is not offered to the stage: it starts over.
    archive(Logged::new(&log), &source, &request, &options, "b")
        .await
        .unwrap();
    assert_eq!(taken(&log)[0], "put 1 durable=true");
}

#[tokio::test]
async fn a_failure_no_retry_can_resume_from_abandons_the_staging() {
    let log = Arc::default();
    let (source, request) = source(3);
    for (options, retryable) in [
        (ArchiveOptions::default(), true),
        (
            ArchiveOptions::default().with_progress_manager(Arc::new(MemoryProgressManager::new())),
            false,
        ),
    ] {
        let mut failing = Logged::new(&log);
        failing.fail_put = Some((1, retryable));
        archive(failing, &source, &request, &options, "a")
            .await
            .unwrap_err();
        assert_eq!(taken(&log).last().unwrap(), "abandon");
    }
}
