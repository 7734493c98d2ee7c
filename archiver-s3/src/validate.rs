//! `validate_uri`: the URI's shape, then HeadBucket, telling a missing bucket, a denial and an
//! unreachable endpoint apart.

use archiver_core::{ArchiveUri, Result};

use crate::error::Kind;
use crate::location::Location;
use crate::store::S3Store;

/// Checks `uri` and that its bucket exists and is ours to use.
///
/// A missing bucket is [`InvalidUri`](archiver_core::Error::InvalidUri) ("requested bucket does
/// not exist"); a denial is a non-retryable backend error saying "access denied"; an endpoint
/// that does not answer is a retryable backend error saying it cannot be reached.
pub(crate) async fn validate_uri(store: &S3Store, uri: &ArchiveUri) -> Result<()> {
    let location = Location::from_uri(uri)?;
    match store.head_bucket(&location.bucket).await {
        Ok(()) => Ok(()),
        Err(mut failure) => {
            // HeadBucket answers a bare 404 (no body, no code) for a missing bucket.
            if failure.kind == Kind::NotFound {
                failure.kind = Kind::NoSuchBucket;
            }
            Err(failure.into_core("head bucket", &format!("s3://{}", location.bucket)))
        }
    }
}
