//! The tour (archive, read back, query) against Google Cloud Storage or a GCS emulator.
//!
//! ```text
//! source .ci/gcs-server.sh  # fake-gcs-server on 127.0.0.1:4443
//! cargo run --example gcs --features gcs -- --endpoint http://127.0.0.1:4443 --bucket archiver-test
//! ```
//!
//! Flags fall back to `ARCHIVER_GCS_ENDPOINT` and `ARCHIVER_GCS_BUCKET`; `STORAGE_EMULATOR_HOST`
//! works as for Google's own clients. A custom endpoint is reached without credentials
//! (emulators); without one, application default credentials are used.
//! `--credentials-file key.json` (Temporal's `credentialsPath`) uses a service-account key
//! instead, with or without `--endpoint`.

mod common;

use std::sync::Arc;

use archiver::gcs::{GcsHistoryArchiver, GcsSettings, GcsStore, GcsVisibilityArchiver};
use archiver::testing::GeneratedHistorySource;
use archiver::{ArchiveUri, HistoryArchiver};

#[tokio::main]
async fn main() -> Result<(), common::Report> {
    let bucket = common::flag_or_env("--bucket", "ARCHIVER_GCS_BUCKET")
        .ok_or("give --bucket NAME (or ARCHIVER_GCS_BUCKET)")?;
    let mut settings = GcsSettings::from_env();
    if let Some(endpoint) = common::flag_or_env("--endpoint", "ARCHIVER_GCS_ENDPOINT") {
        settings = settings.with_endpoint(endpoint).with_anonymous();
    }
    if let Some(key) = common::flag_or_env("--credentials-file", "ARCHIVER_GCS_CREDENTIALS_FILE") {
        settings = settings.with_credentials_file(key);
    }
    let store = GcsStore::new(settings);
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let uri: ArchiveUri = format!("gs://{bucket}/examples/{run}").parse()?;
    let source = Arc::new(GeneratedHistorySource::with_approx_bytes(42, 5 << 20));
    let history = GcsHistoryArchiver::new(store.clone(), source.clone());
    let visibility = GcsVisibilityArchiver::new(store);
    history.validate_uri(&uri).await?;
    println!("archiving into {uri}\n");
    common::tour(&history, &visibility, &source, &uri, 200).await?;
    Ok(())
}
