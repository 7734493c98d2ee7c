//! `validate_uri`: the URI's shape, then a bucket lookup, telling a missing bucket, a denial and
//! an unreachable endpoint apart.

use archiver_core::{ArchiveUri, Result};

use crate::location::Location;
use crate::store::GcsStore;

/// Checks `uri` and that its bucket exists and is ours to use.
///
/// A missing bucket is [`InvalidUri`](archiver_core::Error::InvalidUri) ("requested bucket does
/// not exist"); a denial is a non-retryable backend error saying "access denied"; an endpoint
/// that does not answer is a retryable backend error saying it cannot be reached.
pub(crate) async fn validate_uri(store: &GcsStore, uri: &ArchiveUri) -> Result<()> {
    let location = Location::from_uri(uri)?;
    store
        .bucket(&location.bucket)
        .await
        .map_err(|failure| failure.into_core("get bucket", &format!("gs://{}", location.bucket)))
}
