//! The archiver traits work as `dyn` objects, through `Arc`/`Box`, and in generic code.

use std::sync::Arc;

use archiver_core::{HistoryArchiver, MemoryHistorySource, VisibilityArchiver};
use archiver_kit::memory::{MemoryHistoryArchiver, MemoryVisibilityArchiver};

fn scheme_of_history<A: HistoryArchiver>(archiver: &A) -> &'static str {
    archiver.scheme()
}

fn scheme_of_visibility<A: VisibilityArchiver + ?Sized>(archiver: &A) -> &'static str {
    archiver.scheme()
}

#[test]
fn dyn_and_generic_use_compile_and_forward() {
    let source = Arc::new(MemoryHistorySource::new());
    let concrete = MemoryHistoryArchiver::new(source);
    let shared: Arc<dyn HistoryArchiver> = Arc::new(concrete);
    let boxed: Box<dyn HistoryArchiver> = Box::new(Arc::clone(&shared));
    // Arc<dyn _> and Box<dyn _> are archivers themselves, so generic code takes them.
    assert_eq!(scheme_of_history(&shared), "memory");
    assert_eq!(scheme_of_history(&boxed), "memory");
    let visibility: Arc<dyn VisibilityArchiver> = Arc::new(MemoryVisibilityArchiver::new());
    assert_eq!(scheme_of_visibility(&*visibility), "memory");
    assert_eq!(scheme_of_visibility(&Box::new(visibility)), "memory");
}

#[tokio::test]
async fn forwarding_reaches_the_inner_archiver() {
    let archiver: Box<Arc<dyn HistoryArchiver>> = Box::new(Arc::new(MemoryHistoryArchiver::new(
        Arc::new(MemoryHistorySource::new()),
    )));
    let foreign = "file:///tmp/x".parse().unwrap();
    assert!(matches!(
        archiver.validate_uri(&foreign).await,
        Err(archiver_core::Error::SchemeMismatch { .. })
    ));
}
