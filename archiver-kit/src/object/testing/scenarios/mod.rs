//! Scenarios every object-store provider runs against its real server, beyond the conformance
//! suite (which holds hostile ids and paging in every order for every provider): request
//! counts, pruned queries of the visibility table, hostile namespace ids in its batches and
//! segments, damage detection, URI validation errors, a campaign of random per-request faults. Each is an `async fn` over a
//! [`ProviderFixture`] and panics naming what went wrong.
//!
//! A provider's test file declares them all as `#[tokio::test]`s, under these names, with
//! [`scenario_tests!`](super::scenario_tests); scenarios that need provider-specific inputs
//! (such as [`validate_uri_tells_missing_denied_and_unreachable_apart`]) are called from
//! hand-written tests.

mod data;
mod faults;
mod requests;
mod validate;

pub use data::{
    damaged_blobs_are_detected, damaged_objects_never_read_back_changed, hostile_ids_round_trip,
};
pub use faults::{
    Campaign, CampaignReport, Outcomes, fault_campaign_at_35_percent,
    fault_campaign_leaves_nothing_partial, run_fault_campaign,
};
pub use requests::{queries_read_only_what_the_filter_admits, requests_per_archived_workflow};
pub use validate::validate_uri_tells_missing_denied_and_unreachable_apart;

use super::{ObjectFixture, ProviderFixture};
use crate::object::ObjectStore;
use crate::table::VisibilityTable;
use archiver_core::testing::{run_history_suite, run_visibility_suite};
use archiver_core::{ArchiveOptions, ArchiveUri, VisibilityArchiver, VisibilityRecord};

/// The history conformance suite through the provider's store, under a fresh location.
pub async fn history_conformance<F: ProviderFixture>(fixture: &F) {
    let base = fixture.fresh_uri("history").to_string();
    run_history_suite(&ObjectFixture::new(fixture.store(), base)).await;
}

/// The visibility conformance suite through the provider's store, under a fresh location.
pub async fn visibility_conformance<F: ProviderFixture>(fixture: &F) {
    let base = fixture.fresh_uri("visibility").to_string();
    run_visibility_suite(&ObjectFixture::new(fixture.store(), base)).await;
}

/// Archives `records` through `table` all at once, as concurrent closes would: the table
/// groups them into batches.
async fn archive_together(
    table: &VisibilityTable<impl ObjectStore>,
    uri: &ArchiveUri,
    records: &[VisibilityRecord],
) {
    let options = ArchiveOptions::default();
    let calls = records
        .iter()
        .map(|record| table.archive(uri, record, &options));
    for result in futures::future::join_all(calls).await {
        result.expect("archive");
    }
}

/// The macro behind [`scenario_tests!`](super::scenario_tests), exported at the crate root
/// as macros by example are.
#[doc(hidden)]
#[macro_export]
macro_rules! __object_scenario_tests {
    (conformance: $fixture:path) => {
        $crate::__object_scenario_tests!(@tests $fixture;
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)] history_conformance;
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)] visibility_conformance;
        );
    };
    (behaviour: $fixture:path) => {
        $crate::__object_scenario_tests!(@tests $fixture;
            #[::tokio::test] requests_per_archived_workflow;
            #[::tokio::test] queries_read_only_what_the_filter_admits;
            #[::tokio::test] hostile_ids_round_trip;
            #[::tokio::test] damaged_blobs_are_detected;
            #[::tokio::test] damaged_objects_never_read_back_changed;
        );
    };
    (faults: $fixture:path) => {
        $crate::__object_scenario_tests!(@tests $fixture;
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)] fault_campaign_leaves_nothing_partial;
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "a measurement (35% faults, about a minute): run with --ignored --nocapture"]
            fault_campaign_at_35_percent;
        );
    };
    (@tests $fixture:path; $($(#[$test:meta])+ $name:ident;)*) => {$(
        $(#[$test])+
        async fn $name() {
            if let Some(fixture) = $fixture(stringify!($name)).await {
                $crate::object::testing::scenarios::$name(&fixture).await;
            }
        }
    )*};
}
