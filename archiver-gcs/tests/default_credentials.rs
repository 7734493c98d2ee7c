//! Application default credentials, what a store uses when no key file is configured (Temporal's
//! `gstorage` section without `credentialsPath`), found through `GOOGLE_APPLICATION_CREDENTIALS`.
//!
//! Setting a variable in a running test process is unsafe (and forbidden in this workspace), so
//! the test runs its check in a child process of this test binary that has the variable; the
//! token endpoint stays in the parent and counts the grants.

mod support;

use std::process::Command;

use archiver_gcs::{Credentials, GcsSettings, GcsStore, GcsVisibilityArchiver};
use archiver_kit::object::testing::{ProviderFixture, archive_and_find_a_record};
use support::oauth::{GRANTED, TokenEndpoint, assert_every_request_carries_the_token, key_file};

const TEST: &str = "default_credentials_come_from_google_application_credentials";
/// Set in the child: run the check instead of starting a child.
const CHILD: &str = "ARCHIVER_GCS_TEST_ADC_CHILD";

#[tokio::test]
async fn default_credentials_come_from_google_application_credentials() {
    if std::env::var_os(CHILD).is_some() {
        return check_in_child().await;
    }
    if support::server(TEST).is_none() {
        return;
    }
    let tokens = TokenEndpoint::start(|_| GRANTED).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let key = key_file(dir.path(), &tokens.uri());
    let exe = std::env::current_exe().expect("this test binary");
    // Waiting on the blocking pool keeps this runtime free to answer the child's grant.
    let status = tokio::task::spawn_blocking(move || {
        Command::new(exe)
            .args([TEST, "--exact", "--nocapture"])
            .env(CHILD, "1")
            .env("GOOGLE_APPLICATION_CREDENTIALS", key)
            .env_remove("GOOGLE_APPLICATION_CREDENTIALS_JSON")
            .env_remove("STORAGE_EMULATOR_HOST")
            .status()
    })
    .await
    .expect("join")
    .expect("run the child");
    assert!(
        status.success(),
        "the check failed in the child (its output is above)"
    );
    assert_eq!(
        tokens.grants().len(),
        1,
        "one grant, from the key the variable names"
    );
}

async fn check_in_child() {
    let fixture = support::fixture(TEST)
        .await
        .expect("the parent found the emulator");
    let store = GcsStore::new(GcsSettings::new().with_endpoint(fixture.counter.endpoint()));
    assert_eq!(store.settings().credentials, Credentials::Default);
    archive_and_find_a_record(
        &GcsVisibilityArchiver::new(store),
        &fixture.fresh_uri("adc"),
    )
    .await;
    assert_every_request_carries_the_token(&fixture.counter.seen(), 2);
}
