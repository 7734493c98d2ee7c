//! The tour (archive, read back, query) against an S3-compatible endpoint.
//!
//! ```text
//! source .ci/servers.sh     # SeaweedFS on 127.0.0.1:8333, or use your own endpoint
//! cargo run --example s3 --features s3 -- --endpoint http://127.0.0.1:8333 --bucket archiver-test
//! ```
//!
//! Flags fall back to `ARCHIVER_S3_ENDPOINT`, `ARCHIVER_S3_BUCKET` and `ARCHIVER_S3_REGION`;
//! credentials come from the standard AWS chain (`AWS_ACCESS_KEY_ID`, profiles, ...). Without an
//! endpoint it talks to Amazon S3 itself.

mod common;

use std::sync::Arc;

use archiver::s3::{S3HistoryArchiver, S3Settings, S3Store, S3VisibilityArchiver};
use archiver::testing::GeneratedHistorySource;
use archiver::{ArchiveUri, HistoryArchiver};

#[tokio::main]
async fn main() -> Result<(), common::Report> {
    let bucket = common::flag_or_env("--bucket", "ARCHIVER_S3_BUCKET")
        .ok_or("give --bucket NAME (or ARCHIVER_S3_BUCKET)")?;
    let mut settings = S3Settings::from_env();
    if let Some(endpoint) = common::flag_or_env("--endpoint", "ARCHIVER_S3_ENDPOINT") {
        // Local servers serve buckets on the path, not as host names.
        settings = settings.with_endpoint(endpoint).with_force_path_style(true);
    }
    if let Some(region) = common::flag_or_env("--region", "ARCHIVER_S3_REGION") {
        settings = settings.with_region(region);
    }
    println!("{settings:?}\n"); // credentials are redacted
    let store = S3Store::new(settings);
    // A fresh prefix per run, so runs never meet each other's records.
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let uri: ArchiveUri = format!("s3://{bucket}/examples/{run}").parse()?;
    let source = Arc::new(GeneratedHistorySource::with_approx_bytes(42, 5 << 20));
    let history = S3HistoryArchiver::new(store.clone(), source.clone());
    let visibility = S3VisibilityArchiver::new(store);
    history.validate_uri(&uri).await?;
    println!("archiving into {uri}\n");
    common::tour(&history, &visibility, &source, &uri, 200).await?;
    Ok(())
}
