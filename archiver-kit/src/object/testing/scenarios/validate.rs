//! `validate_uri` (of the visibility table, what the providers register) tells a missing
//! bucket, a denial and an unreachable endpoint apart.

use super::super::ProviderFixture;
use crate::object::ObjectStore;
use crate::table::VisibilityTable;
use archiver_core::{ArchiveUri, Error, VisibilityArchiver};

/// The test bucket validates; a missing bucket is [`Error::InvalidUri`]; a denial (through
/// `denied`, a store the server refuses, however the provider's test makes one) is not
/// retryable and says so; an unreachable endpoint is retryable. Returns the denial, for the
/// provider's own checks on it (credentials kept out, no retry).
pub async fn validate_uri_tells_missing_denied_and_unreachable_apart<F: ProviderFixture>(
    fixture: &F,
    denied: F::Store,
) -> Error {
    let store = fixture.store();
    let scheme = store.scheme();
    let uri = |text: String| ArchiveUri::parse(&text).expect("valid URI");
    let good = VisibilityTable::new(store);
    good.validate_uri(&fixture.fresh_uri("v"))
        .await
        .expect("the test bucket validates");

    let missing = good
        .validate_uri(&uri(format!("{scheme}://no-such-bucket-archiver/x")))
        .await;
    match missing {
        Err(Error::InvalidUri { reason, .. }) => {
            assert!(reason.contains("does not exist"), "{reason}")
        }
        other => panic!("missing bucket: expected InvalidUri, got {other:?}"),
    }

    let denial = VisibilityTable::new(denied)
        .validate_uri(&fixture.fresh_uri("denied"))
        .await
        .expect_err("denied");
    assert!(
        !denial.is_retryable(),
        "a denial is not retryable: {denial}"
    );
    assert!(denial.to_string().contains("access denied"), "{denial}");

    let unreachable = VisibilityTable::new(fixture.quick_store_via("http://127.0.0.1:1"))
        .validate_uri(&uri(format!("{scheme}://some-bucket/x")))
        .await
        .expect_err("nothing listens on port 1");
    assert!(unreachable.is_retryable(), "{unreachable}");
    assert!(
        unreachable.to_string().contains("cannot reach"),
        "{unreachable}"
    );
    denial
}
