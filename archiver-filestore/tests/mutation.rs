//! Damage to stored files: every bit flip (one per byte for histories) and every truncation of a
//! `.hist` and a `.vis` file. A read never panics and never returns changed data: it gives the
//! exact original or [`Error::Corrupted`] naming the file. Re-archiving over a damaged history
//! is refused the same way, never a silent `Ok`.
//!
//! Each test counts the outcomes and prints them (`--nocapture`) before asserting.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use archiver_core::history::{History, MemoryHistorySource, RunKey};
use archiver_core::testing::{search_attributes, test_history, test_records, test_request};
use archiver_core::{
    ArchiveOptions, ArchiveUri, Error, HistoryArchiver, QueryRequest, VisibilityArchiver,
    VisibilityRecord,
};
use archiver_filestore::{FilestoreHistoryArchiver, FilestoreVisibilityArchiver};

fn uri_of(dir: &Path) -> ArchiveUri {
    ArchiveUri::parse(&format!("file://{}", dir.display())).unwrap()
}

/// The one file under `dir` whose name ends with `extension` (workflow-index pointers aside).
fn stored_file(dir: &Path, extension: &str) -> PathBuf {
    fn walk(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, extension, out);
            } else if path.to_str().unwrap().ends_with(extension)
                && !path.components().any(|c| c.as_os_str() == "by-workflow")
            {
                out.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(dir, extension, &mut found);
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

/// The damaged versions of `good`: one flipped bit per byte (`all_bits`: every bit) and every
/// shorter length.
fn mutations(good: &[u8], all_bits: bool) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for at in 0..good.len() {
        let bits: Vec<usize> = if all_bits {
            (0..8).collect()
        } else {
            vec![at % 8]
        };
        for bit in bits {
            let mut bad = good.to_vec();
            bad[at] ^= 1 << bit;
            out.push((format!("bit {bit} of byte {at}"), bad));
        }
    }
    for len in 0..good.len() {
        out.push((format!("truncated to {len} bytes"), good[..len].to_vec()));
    }
    out
}

/// How a read of damaged data turned out.
fn classify<T: PartialEq + std::fmt::Debug>(
    outcome: archiver_core::Result<T>,
    original: &T,
    path: &Path,
) -> &'static str {
    match outcome {
        Ok(found) if &found == original => "the exact original",
        Ok(_) => "CHANGED DATA",
        Err(Error::Corrupted { location, .. }) if location == path.display().to_string() => {
            "Corrupted naming the file"
        }
        Err(_) => "ANOTHER ERROR",
    }
}

fn report(
    what: &str,
    counts: &BTreeMap<&'static str, usize>,
    allowed: &[&str],
    examples: &[String],
) {
    eprintln!("{what}: {counts:?}");
    let bad: usize = counts
        .iter()
        .filter(|(outcome, _)| !allowed.contains(outcome))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        bad, 0,
        "{what}: {counts:?}; first unexpected outcomes: {examples:?}"
    );
}

async fn get_all(
    archiver: &FilestoreHistoryArchiver,
    uri: &ArchiveUri,
    run: &RunKey,
) -> archiver_core::Result<Vec<History>> {
    archiver_core::testing::read_history(archiver, uri, run, None, 4).await
}

#[tokio::test]
async fn damaged_history_archives_read_as_the_original_or_corrupted() {
    let root = tempfile::tempdir().unwrap();
    let uri = uri_of(root.path());
    let source = Arc::new(MemoryHistorySource::new());
    let run = RunKey::new("ns", "wf", "run");
    let history = test_history(5, 5, 1);
    source.insert(run.clone(), history.clone());
    let request = test_request(&run, &history, 1);
    let archiver = FilestoreHistoryArchiver::new(source).with_target_blob_size(200);
    archiver
        .archive(&uri, &request, &ArchiveOptions::default())
        .await
        .unwrap();
    let path = stored_file(root.path(), ".hist");
    let good = std::fs::read(&path).unwrap();
    let (mut reads, mut rearchives) = (BTreeMap::new(), BTreeMap::new());
    let mut examples = Vec::new();
    for (damage, bad) in mutations(&good, false) {
        std::fs::write(&path, &bad).unwrap();
        let read = classify(get_all(&archiver, &uri, &run).await, &history, &path);
        let archived = archiver
            .archive(&uri, &request, &ArchiveOptions::default())
            .await;
        // A silent Ok over an archive that does not read back is what the re-archive must not do.
        let rearchive = match (archived, std::fs::read(&path).unwrap() == bad) {
            (Ok(()), _) if read == "the exact original" => "Ok over an intact archive",
            (Ok(()), true) => "OK OVER A DAMAGED ARCHIVE",
            (Ok(()), false) => "OK, REWRITTEN",
            (Err(err), _) => classify::<()>(Err(err), &(), &path),
        };
        *reads.entry(read).or_insert(0) += 1;
        *rearchives.entry(rearchive).or_insert(0) += 1;
        let expected = matches!(read, "the exact original" | "Corrupted naming the file")
            && matches!(
                rearchive,
                "Ok over an intact archive" | "Corrupted naming the file"
            );
        if !expected && examples.len() < 5 {
            examples.push(format!("{damage}: read {read}, re-archive {rearchive}"));
        }
        std::fs::write(&path, &good).unwrap();
    }
    report(
        &format!("{} damaged .hist files, get", good.len() * 2),
        &reads,
        &["the exact original", "Corrupted naming the file"],
        &examples,
    );
    report(
        &format!("{} damaged .hist files, re-archive", good.len() * 2),
        &rearchives,
        &["Ok over an intact archive", "Corrupted naming the file"],
        &examples,
    );
}

#[tokio::test]
async fn damaged_visibility_records_read_as_the_original_or_corrupted() {
    let root = tempfile::tempdir().unwrap();
    let uri = uri_of(root.path());
    let record = test_records("ns", 1).remove(0);
    let archiver = FilestoreVisibilityArchiver::new();
    archiver
        .archive(&uri, &record, &ArchiveOptions::default())
        .await
        .unwrap();
    let path = stored_file(root.path(), ".vis");
    let good = std::fs::read(&path).unwrap();
    let original: Vec<VisibilityRecord> = vec![record];
    let request = QueryRequest::new("ns", "");
    let mut counts = BTreeMap::new();
    let mut examples = Vec::new();
    let cases = mutations(&good, true);
    for (damage, bad) in &cases {
        std::fs::write(&path, bad).unwrap();
        let page = archiver
            .query(&uri, &request, &search_attributes())
            .await
            .map(|page| page.executions);
        let outcome = match page {
            Ok(found) if found.is_empty() => "A SILENTLY SHORT PAGE",
            other => classify(other, &original, &path),
        };
        if !matches!(outcome, "the exact original" | "Corrupted naming the file")
            && examples.len() < 5
        {
            examples.push(format!("{damage}: {outcome}"));
        }
        *counts.entry(outcome).or_insert(0) += 1;
    }
    report(
        &format!("{} damaged .vis files, query", cases.len()),
        &counts,
        &["the exact original", "Corrupted naming the file"],
        &examples,
    );
}
