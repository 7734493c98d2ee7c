//! Archive a workflow's history and a few hundred visibility records to a local directory, read
//! the history back page by page, and query the records with list filters.
//!
//! ```text
//! cargo run --example quickstart                 # into a temporary directory
//! cargo run --example quickstart -- --dir /tmp/a # into a directory of your choice (kept)
//! ```

mod common;

use std::sync::Arc;

use archiver::ArchiveUri;
use archiver::config::ArchivalConfig;
use archiver::testing::GeneratedHistorySource;

/// Temporal's `archival:` and `namespaceDefaults:` sections, as a server's YAML has them.
const CONFIG: &str = r#"
archival:
  history:
    state: "enabled"
    enableRead: true
    provider:
      filestore:
        fileMode: "0666"
        dirMode: "0766"
  visibility:
    state: "enabled"
    enableRead: true
    provider:
      filestore:
        fileMode: "0666"
        dirMode: "0766"
namespaceDefaults:
  archival:
    history:
      state: "enabled"
      URI: "file:///tmp/temporal_archival/development"
    visibility:
      state: "enabled"
      URI: "file:///tmp/temporal_vis_archival/development"
"#;

#[tokio::main]
async fn main() -> Result<(), common::Report> {
    let (dir, _temp) = match common::flag_or_env("--dir", "ARCHIVER_QUICKSTART_DIR") {
        Some(dir) => (std::path::PathBuf::from(dir), None),
        None => {
            let temp = tempfile::tempdir()?;
            (temp.path().to_path_buf(), Some(temp))
        }
    };
    let uri: ArchiveUri = format!("file://{}", dir.display()).parse()?;
    println!("archiving into {uri}\n");

    // The engine's persistence, here a generated 5 MB history of an order workflow.
    let source = Arc::new(GeneratedHistorySource::with_approx_bytes(42, 5 << 20));
    let config = ArchivalConfig::from_yaml(CONFIG)?;
    config.validate()?;
    let registry = archiver::registry(config, source.clone());

    let history = registry.history_archiver(uri.scheme())?;
    let visibility = registry.visibility_archiver(uri.scheme())?;
    common::tour(history.as_ref(), visibility.as_ref(), &source, &uri, 300).await?;
    Ok(())
}
