//! Shared by the tests that need a GCS emulator: connection settings from the environment (see
//! `.ci/gcs-server.sh`), fresh prefixes, one-run histories, a fault proxy.

#![allow(dead_code, unreachable_pub)] // each test binary uses a different part

pub mod proxy;

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use archiver_core::history::{History, MemoryHistorySource, RunKey};
use archiver_core::testing::{test_history, test_request};
use archiver_core::{ArchiveHistoryRequest, ArchiveUri, GetHistoryRequest, HistoryArchiver};
use archiver_gcs::GcsSettings;

/// Where the emulator is.
#[derive(Debug, Clone)]
pub struct Server {
    pub endpoint: String,
    pub bucket: String,
}

/// The emulator from `ARCHIVER_GCS_*`, or `None` (with a loud message) when unset. Under
/// `CI=true` a missing emulator is a failure, not a skip.
pub fn server(test: &str) -> Option<Server> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let Some(endpoint) = var("ARCHIVER_GCS_ENDPOINT") else {
        if var("CI").as_deref() == Some("true") {
            panic!(
                "GCS emulator required under CI: `source .ci/gcs-server.sh` to start one and set ARCHIVER_GCS_ENDPOINT"
            );
        }
        // Straight to stderr: libtest captures `eprintln!`, and a skip must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "\n!!!!!!!! SKIPPED {test}: ARCHIVER_GCS_ENDPOINT is not set. Run `source .ci/gcs-server.sh` \
             to start a local GCS emulator (fake-gcs-server) and export its settings. !!!!!!!!\n"
        );
        return None;
    };
    Some(Server {
        endpoint,
        bucket: var("ARCHIVER_GCS_BUCKET").unwrap_or_else(|| "archiver-test".into()),
    })
}

impl Server {
    /// Settings reaching this emulator at `endpoint` (its own, or a proxy in front).
    pub fn settings_via(&self, endpoint: &str) -> GcsSettings {
        GcsSettings::new().with_endpoint(endpoint).with_anonymous()
    }

    pub fn settings(&self) -> GcsSettings {
        self.settings_via(&self.endpoint)
    }

    /// `gs://bucket/<fresh random prefix>/<tag>`: nothing of earlier runs is visible there.
    pub fn fresh_uri(&self, tag: &str) -> String {
        format!("gs://{}/{}/{tag}", self.bucket, unique())
    }
}

/// A prefix unique to this process and call.
pub fn unique() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "test-{nanos:x}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A source holding one run of `batches` batches, and the request archiving it.
pub fn one_run(
    workflow_id: &str,
    seed: u64,
    batches: usize,
) -> (
    Arc<MemoryHistorySource>,
    RunKey,
    Vec<History>,
    ArchiveHistoryRequest,
) {
    let source = Arc::new(MemoryHistorySource::new());
    let run = RunKey::new("ns-id", workflow_id, "run-1");
    let history = test_history(seed, batches, 1);
    source.insert(run.clone(), history.clone());
    let request = test_request(&run, &history, 1);
    (source, run, history, request)
}

/// Every page of the highest archived version of `run`.
pub async fn get_all(
    archiver: &dyn HistoryArchiver,
    uri: &ArchiveUri,
    run: &RunKey,
) -> archiver_core::Result<Vec<History>> {
    let mut request = GetHistoryRequest::new(&run.namespace_id, &run.workflow_id, &run.run_id, 7);
    let mut all = Vec::new();
    loop {
        let page = archiver.get(uri, &request).await?;
        all.extend(page.history_batches);
        match page.next_page_token {
            Some(token) => request.next_page_token = Some(token),
            None => return Ok(all),
        }
    }
}
