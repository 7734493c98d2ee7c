//! [`ProviderFixture`]: what the [scenarios](super::scenarios) need from a provider's test
//! support, and [`Request`], the kinds its request counter reports.

use super::super::{ObjectStore, RetrySettings};
use super::proxy::Dialect;
use archiver_core::ArchiveUri;

/// The kind of one request a provider sent, in object-store terms (S3 `PUT` and a GCS upload
/// are both [`Put`](Request::Put)), so one expectation serves every provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// An object write.
    Put,
    /// An object download.
    Get,
    /// An object existence or metadata check (S3 `HEAD`, GCS object metadata).
    Head,
    /// One page of a key listing.
    List,
    /// An object deletion (one key or a batch).
    Delete,
    /// Anything else, by the provider's own name for it (e.g. a bucket check).
    Other(&'static str),
}

/// One provider against its real server (or emulator), as the shared scenarios use it. Each
/// provider implements it once in its tests' support module; each fixture counts the requests
/// of its own [`counted_store`](Self::counted_store) only, so tests may run concurrently.
pub trait ProviderFixture: Send + Sync {
    /// The provider's store.
    type Store: ObjectStore + Clone;

    /// A store reaching the server directly, with the provider's default settings.
    fn store(&self) -> Self::Store;

    /// The server's endpoint (`http://host:port`), for a proxy in front of it.
    fn server_endpoint(&self) -> String;

    /// A store reaching the server at `endpoint` (the server's, a proxy's, or one where
    /// nothing listens) with few, quick retries and short timeouts, so failures come fast.
    fn quick_store_via(&self, endpoint: &str) -> Self::Store;

    /// A store reaching the server at `endpoint` (typically a [`FaultProxy`](super::proxy::FaultProxy))
    /// with the retry policy `retry` and the provider's default timeouts.
    fn retrying_store_via(&self, endpoint: &str, retry: RetrySettings) -> Self::Store;

    /// The provider's HTTP dialect, for a [`FaultProxy`](super::proxy::FaultProxy) in front of
    /// its server.
    fn dialect(&self) -> Dialect;

    /// A store reaching the server directly whose every request (each attempt) is counted.
    fn counted_store(&self) -> Self::Store;

    /// The requests [`counted_store`](Self::counted_store)s sent since the last
    /// [`reset_requests`](Self::reset_requests), in order.
    fn requests(&self) -> Vec<Request>;

    /// Forgets the requests counted so far.
    fn reset_requests(&self);

    /// A fresh, empty location on the test bucket (`<scheme>://<bucket>/<unique>/<tag>`):
    /// nothing of earlier runs or other tests is visible there.
    fn fresh_uri(&self, tag: &str) -> ArchiveUri;

    /// How many of the requests counted since the last reset were of `kind`.
    fn count(&self, kind: Request) -> usize {
        self.requests().into_iter().filter(|r| *r == kind).count()
    }
}
