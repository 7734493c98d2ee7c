//! The provider conformance suite (feature `testing`).
//!
//! Every provider runs all of it: implement [`Fixture`] and call [`run_history_suite`] and
//! [`run_visibility_suite`] from a test (each scenario is also a `pub async fn`, to run one at a
//! time). Scenarios panic with a message naming what the provider got wrong. Behaviour that not
//! every provider offers is gated on [`Capabilities`]; a scenario that needs a capability the
//! fixture did not declare, either way, panics instead of silently passing.
//!
//! Not semver-stable: scenarios are added as the contract grows.

mod blob_writes;
mod cases;
mod crash;
mod data;
mod generated;
mod history;
mod visibility;

use std::sync::Arc;

pub use blob_writes::BlobWriteTally;
pub use cases::{
    CaseNamespace, CaseTable, case_attributes, case_table_agrees_with_evaluation,
    predefined_attributes,
};
pub use crash::CrashPlan;
pub use data::{
    hostile_id, search_attributes, source_with_run, test_history, test_records, test_request,
};
pub use generated::GeneratedHistorySource;
pub use history::*;
pub use visibility::*;

use crate::{ArchiveUri, HistoryArchiver, HistorySource, VisibilityArchiver};

/// What the suite needs from a provider.
pub trait Fixture: Send + Sync {
    /// A history archiver reading from `source` and cutting blobs of at least
    /// `target_blob_size` bytes (the suite uses small sizes to get many blobs).
    fn history_archiver(
        &self,
        source: Arc<dyn HistorySource>,
        target_blob_size: usize,
    ) -> Arc<dyn HistoryArchiver>;
    /// A visibility archiver.
    fn visibility_archiver(&self) -> Arc<dyn VisibilityArchiver>;
    /// A fresh, empty location; each scenario archives under its own.
    fn new_uri(&self) -> ArchiveUri;
    /// What optional behaviour the provider has.
    fn capabilities(&self) -> Capabilities;
    /// Blobs written so far by history archivers this fixture made. Must be `Some` when
    /// [`Capabilities::counts_blob_writes`] is declared `true`.
    fn blob_writes(&self) -> Option<u64> {
        None
    }
}

/// Optional behaviour a provider declares: `Some(true)` has it, `Some(false)` has not,
/// `None` (undeclared) makes the scenarios that depend on it panic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// The fixture can count blob writes ([`Fixture::blob_writes`]), so the resume scenario
    /// checks that a resumed archive writes no blob twice.
    pub counts_blob_writes: Option<bool>,
}

impl Capabilities {
    /// Nothing declared.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares [`counts_blob_writes`](Self::counts_blob_writes).
    pub fn with_counts_blob_writes(mut self, yes: bool) -> Self {
        self.counts_blob_writes = Some(yes);
        self
    }
}

/// The value of a capability a scenario needs, or a panic telling the fixture to declare it.
fn declared(value: Option<bool>, name: &str, scenario: &str) -> bool {
    value.unwrap_or_else(|| {
        panic!("scenario {scenario} needs capability {name}: declare it true or false in Fixture::capabilities")
    })
}

/// Runs every history scenario.
pub async fn run_history_suite(fixture: &dyn Fixture) {
    archive_then_get(fixture).await;
    hostile_ids_round_trip(fixture).await;
    get_versions(fixture).await;
    get_missing_run_is_not_found(fixture).await;
    archive_skips_missing_history(fixture).await;
    archive_detects_mutated_history(fixture).await;
    rearchive_is_idempotent(fixture).await;
    concurrent_archives_both_succeed(fixture).await;
    resume_after_interruption(fixture).await;
    non_retryable_error_option(fixture).await;
    corrupted_history_token(fixture).await;
    invalid_history_requests(fixture).await;
}

/// Runs every visibility scenario.
pub async fn run_visibility_suite(fixture: &dyn Fixture) {
    query_pages_every_record_once(fixture).await;
    paging_survives_concurrent_archives(fixture).await;
    paging_agrees_with_evaluation_in_every_order(fixture).await;
    filters_agree_with_evaluation(fixture).await;
    case_table_agrees_with_evaluation(fixture).await;
    query_errors_are_invalid_query(fixture).await;
    namespace_isolation(fixture).await;
    hostile_ids_are_found(fixture).await;
    duplicate_record_is_kept_once(fixture).await;
    rearchive_with_other_values_replaces(fixture).await;
    corrupted_query_token(fixture).await;
    invalid_visibility_requests(fixture).await;
}
