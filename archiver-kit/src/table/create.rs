//! Create-only writes that know whose object they found: a retry (the SDK's own, or after a
//! lost answer) of a write that had landed finds the object there, and it is ours exactly when
//! its bytes are.

use crate::object::{ObjectLocation, ObjectStore, PutMode, PutOutcome};
use archiver_core::Result;
use bytes::Bytes;

/// Who wrote the object a create-only write names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Writer {
    /// This write: the object holds its bytes.
    Us,
    /// Another writer got there first.
    Other,
}

/// Writes `body` at `key` unless an object is there, and says whose object is there after.
pub(crate) async fn create<S: ObjectStore + ?Sized>(
    store: &S,
    location: &ObjectLocation,
    key: &str,
    body: Bytes,
    what: &str,
) -> Result<Writer> {
    let describe = location.describe(key);
    let failed = match store
        .put(location.bucket(), key, body.clone(), PutMode::CreateOnly)
        .await
    {
        Ok(PutOutcome::Created) => return Ok(Writer::Us),
        Ok(PutOutcome::AlreadyExists) => None,
        Err(failure) if failure.kind().may_have_landed() => Some(failure),
        Err(failure) => return Err(failure.into_core(what, &describe)),
    };
    match (store.get(location.bucket(), key).await, failed) {
        (Ok(Some(stored)), _) if stored == body => Ok(Writer::Us),
        // Someone else's (perhaps removed since it stopped us).
        (Ok(Some(_)), _) | (Ok(None), None) => Ok(Writer::Other),
        // The write failed and did not land, or we cannot tell: its failure says why.
        (Ok(None) | Err(_), Some(failure)) => Err(failure.into_core(what, &describe)),
        (Err(read), None) => Err(read.into_core(what, &describe)),
    }
}
