//! The visibility table's whole suite on the in-memory store and on a local directory.

use std::sync::atomic::{AtomicU64, Ordering};

use archiver_kit::store::{LocalStore, MemoryStore};
use archiver_kit::testing::run_table_suite;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_table_suite_passes_on_memory() {
    let n = AtomicU64::new(0);
    run_table_suite(MemoryStore::new(), move |tag| {
        let n = n.fetch_add(1, Ordering::Relaxed);
        format!("memory://suite/{tag}-{n}").parse().unwrap()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_table_suite_passes_on_a_local_directory() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    let n = AtomicU64::new(0);
    run_table_suite(LocalStore::new(), move |tag| {
        let n = n.fetch_add(1, Ordering::Relaxed);
        format!("file://{}/{tag}-{n}", root.display())
            .parse()
            .unwrap()
    })
    .await;
}
