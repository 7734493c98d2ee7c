//! [`GcsStore`]: the kit's [`ObjectStore`] over GCS (put, create-only put, get, exists, list,
//! delete, bucket lookup), each retried by one policy and classified by
//! [`crate::error::classify`].
//!
//! The client sits behind [`ObjectBackend`], one attempt of exactly those operations, so it can
//! be swapped (for the official `google-cloud-storage` crate, say) without touching the retry
//! policy.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use archiver_core::{ArchiveUri, Result};
use archiver_kit::object::{
    Failure, FailureKind as Kind, ListPage, ObjectLocation, ObjectStore, PutMode, PutOutcome,
};
use async_trait::async_trait;
use base64::Engine as _;
use bytes::Bytes;
use gcloud_storage::client::google_cloud_auth::error::Error as AuthError;
use gcloud_storage::client::{Client, ClientConfig};
use gcloud_storage::http::buckets::get::GetBucketRequest;
use gcloud_storage::http::objects::Object;
use gcloud_storage::http::objects::delete::DeleteObjectRequest;
use gcloud_storage::http::objects::download::Range;
use gcloud_storage::http::objects::get::GetObjectRequest;
use gcloud_storage::http::objects::list::ListObjectsRequest;
use gcloud_storage::http::objects::upload::{UploadObjectRequest, UploadType};
use tokio::sync::OnceCell;

use crate::config::{Credentials, GcsSettings};
use crate::error::{classify, classify_auth, failure, timed_out};
use crate::location::{SCHEME, location};

/// A failure or a value.
type Attempted<T> = std::result::Result<T, Failure>;

/// The object operations the provider needs from a GCS client. One attempt each: retries and
/// time limits are [`GcsStore`]'s.
#[async_trait]
pub(crate) trait ObjectBackend: Send + Sync {
    /// Writes `name`; with `create_only`, only if no live object has that name.
    async fn put(
        &self,
        bucket: &str,
        name: &str,
        body: Bytes,
        create_only: bool,
    ) -> Attempted<PutOutcome>;
    /// The whole object; `None` when it does not exist.
    async fn get(&self, bucket: &str, name: &str) -> Attempted<Option<Bytes>>;
    /// `len` bytes from `offset` (`len` > 0), fewer when the object ends first.
    async fn get_range(
        &self,
        bucket: &str,
        name: &str,
        offset: u64,
        len: u64,
    ) -> Attempted<Option<Bytes>>;
    /// Whether the object exists.
    async fn exists(&self, bucket: &str, name: &str) -> Attempted<bool>;
    /// One page of names under `prefix`, from `start` (inclusive) on the first page.
    async fn list(
        &self,
        bucket: &str,
        prefix: &str,
        start: Option<&str>,
        page: Option<String>,
    ) -> Attempted<ListPage>;
    /// Deletes the object; a missing one is not an error.
    async fn delete(&self, bucket: &str, name: &str) -> Attempted<()>;
    /// Whether the bucket exists and is visible to us ([`Kind::NoSuchBucket`] otherwise).
    async fn bucket(&self, bucket: &str) -> Attempted<()>;
}

/// The `gcloud-storage` (JSON API) backend: every operation, listing included, is a JSON API
/// call, so an emulator serves all of it.
struct GcloudBackend {
    client: Client,
}

impl GcloudBackend {
    async fn download(&self, bucket: &str, name: &str, range: &Range) -> Attempted<Option<Bytes>> {
        let request = GetObjectRequest {
            bucket: bucket.to_owned(),
            object: name.to_owned(),
            ..Default::default()
        };
        match self.client.download_object(&request, range).await {
            Ok(data) => Ok(Some(Bytes::from(data))),
            Err(e) => missing_is(classify(&e), None),
        }
    }
}

/// `ifGenerationMatch=0`: create only. GCS enforces it for every upload type; fake-gcs-server
/// only for multipart uploads, which is why every write here is multipart.
const NO_LIVE_GENERATION: i64 = 0;

#[async_trait]
impl ObjectBackend for GcloudBackend {
    async fn put(
        &self,
        bucket: &str,
        name: &str,
        body: Bytes,
        create_only: bool,
    ) -> Attempted<PutOutcome> {
        let request = UploadObjectRequest {
            bucket: bucket.to_owned(),
            if_generation_match: create_only.then_some(NO_LIVE_GENERATION),
            ..Default::default()
        };
        // The server checks the body against this CRC-32C and refuses a damaged upload.
        let crc =
            base64::engine::general_purpose::STANDARD.encode(crc32c::crc32c(&body).to_be_bytes());
        let metadata = UploadType::Multipart(Box::new(Object {
            name: name.to_owned(),
            content_type: Some("application/octet-stream".to_owned()),
            crc32c: Some(crc),
            ..Default::default()
        }));
        match self.client.upload_object(&request, body, &metadata).await {
            Ok(_) => Ok(PutOutcome::Created),
            Err(e) => {
                let failure = classify(&e);
                if create_only && failure.kind() == Kind::PreconditionFailed {
                    Ok(PutOutcome::AlreadyExists)
                } else {
                    Err(failure)
                }
            }
        }
    }

    async fn get(&self, bucket: &str, name: &str) -> Attempted<Option<Bytes>> {
        self.download(bucket, name, &Range::default()).await
    }

    async fn get_range(
        &self,
        bucket: &str,
        name: &str,
        offset: u64,
        len: u64,
    ) -> Attempted<Option<Bytes>> {
        // HTTP ranges are inclusive.
        let last = offset.saturating_add(len - 1);
        self.download(bucket, name, &Range(Some(offset), Some(last)))
            .await
    }

    async fn exists(&self, bucket: &str, name: &str) -> Attempted<bool> {
        let request = GetObjectRequest {
            bucket: bucket.to_owned(),
            object: name.to_owned(),
            ..Default::default()
        };
        match self.client.get_object(&request).await {
            Ok(_) => Ok(true),
            Err(e) => missing_is(classify(&e), false),
        }
    }

    async fn list(
        &self,
        bucket: &str,
        prefix: &str,
        start: Option<&str>,
        page: Option<String>,
    ) -> Attempted<ListPage> {
        let request = ListObjectsRequest {
            bucket: bucket.to_owned(),
            prefix: Some(prefix.to_owned()),
            start_offset: page.is_none().then(|| start.map(str::to_owned)).flatten(),
            page_token: page,
            ..Default::default()
        };
        let response = self
            .client
            .list_objects(&request)
            .await
            .map_err(|e| classify(&e))?;
        Ok(ListPage {
            keys: response
                .items
                .unwrap_or_default()
                .into_iter()
                .map(|object| object.name)
                .collect(),
            next: response.next_page_token.filter(|t| !t.is_empty()),
        })
    }

    async fn delete(&self, bucket: &str, name: &str) -> Attempted<()> {
        let request = DeleteObjectRequest {
            bucket: bucket.to_owned(),
            object: name.to_owned(),
            ..Default::default()
        };
        match self.client.delete_object(&request).await {
            Ok(()) => Ok(()),
            Err(e) => missing_is(classify(&e), ()),
        }
    }

    async fn bucket(&self, bucket: &str) -> Attempted<()> {
        let request = GetBucketRequest {
            bucket: bucket.to_owned(),
            ..Default::default()
        };
        match self.client.get_bucket(&request).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let failure = classify(&e);
                // A bucket lookup's 404 is about the bucket itself.
                if failure.kind() == Kind::NotFound {
                    Err(failure.with_kind(Kind::NoSuchBucket))
                } else {
                    Err(failure)
                }
            }
        }
    }
}

/// `value` when `failure` says the object does not exist, the failure otherwise.
fn missing_is<T>(failure: Failure, value: T) -> Attempted<T> {
    if failure.kind() == Kind::NotFound {
        Ok(value)
    } else {
        Err(failure)
    }
}

/// The GCS client of the provider: cheap to clone, shared by the history and visibility
/// archivers. The client is built on first use (credentials load asynchronously); a key file
/// that cannot be read is reported then, as a non-retryable access error.
#[derive(Clone)]
pub struct GcsStore {
    inner: Arc<Inner>,
}

struct Inner {
    settings: GcsSettings,
    backend: OnceCell<Arc<dyn ObjectBackend>>,
}

impl fmt::Debug for GcsStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("GcsStore")
            .field(&self.inner.settings)
            .finish()
    }
}

impl GcsStore {
    /// A store whose client is built from `settings` when first used.
    pub fn new(settings: GcsSettings) -> Self {
        GcsStore {
            inner: Arc::new(Inner {
                settings,
                backend: OnceCell::new(),
            }),
        }
    }

    /// A store from [`GcsSettings::from_env`].
    pub fn from_env() -> Self {
        Self::new(GcsSettings::from_env())
    }

    /// The settings the store was made with.
    pub fn settings(&self) -> &GcsSettings {
        &self.inner.settings
    }

    async fn backend(&self) -> Attempted<&Arc<dyn ObjectBackend>> {
        self.inner
            .backend
            .get_or_try_init(|| build_backend(&self.inner.settings))
            .await
    }

    /// Runs `op` under the retry policy: each attempt within the attempt time limit,
    /// retryable failures tried again after a jittered exponential backoff.
    async fn retry<'s, T, F, Fut>(&'s self, op: F) -> Attempted<T>
    where
        F: Fn(&'s dyn ObjectBackend) -> Fut,
        Fut: Future<Output = Attempted<T>>,
    {
        let policy = self.inner.settings.retry;
        let limit = self.inner.settings.timeouts.attempt;
        let mut attempt = 1;
        loop {
            // The client is built (its first access token fetched) inside an attempt, so a
            // token endpoint that blips on the first request is retried like the request.
            let result =
                tokio::time::timeout(limit, async { op(self.backend().await?.as_ref()).await })
                    .await
                    .unwrap_or_else(|_| Err(timed_out(limit)));
            match result {
                Err(failure) if failure.kind().is_retryable() && attempt < policy.max_attempts => {
                    tracing::debug!(attempt, %failure, "GCS request failed, retrying");
                    tokio::time::sleep(policy.backoff(attempt)).await;
                    attempt += 1;
                }
                Err(failure) => return Err(failure.with_attempts(attempt)),
                Ok(value) => return Ok(value),
            }
        }
    }
}

#[async_trait]
impl ObjectStore for GcsStore {
    fn scheme(&self) -> &'static str {
        SCHEME
    }

    fn location(&self, uri: &ArchiveUri) -> Result<ObjectLocation> {
        location(uri)
    }

    /// A bucket lookup, telling a missing bucket, a denial and an unreachable endpoint apart.
    async fn validate_bucket(&self, location: &ObjectLocation) -> Result<()> {
        let bucket = location.bucket();
        self.retry(|b| b.bucket(bucket))
            .await
            .map_err(|failure| failure.into_core("get bucket", &format!("gs://{bucket}")))
    }

    async fn put(
        &self,
        bucket: &str,
        name: &str,
        body: Bytes,
        mode: PutMode,
    ) -> Attempted<PutOutcome> {
        let create_only = mode == PutMode::CreateOnly;
        // Bytes clone is a reference count: a retry re-sends without copying.
        self.retry(|b| b.put(bucket, name, body.clone(), create_only))
            .await
    }

    async fn get(&self, bucket: &str, name: &str) -> Attempted<Option<Bytes>> {
        self.retry(|b| b.get(bucket, name)).await
    }

    /// A ranged download (`Range: bytes=offset-(offset+len-1)`).
    async fn get_range(
        &self,
        bucket: &str,
        name: &str,
        offset: u64,
        len: u64,
    ) -> Attempted<Option<Bytes>> {
        if len == 0 {
            return Ok(self.exists(bucket, name).await?.then(Bytes::new));
        }
        self.retry(|b| b.get_range(bucket, name, offset, len)).await
    }

    async fn exists(&self, bucket: &str, name: &str) -> Attempted<bool> {
        self.retry(|b| b.exists(bucket, name)).await
    }

    async fn list(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        page: Option<String>,
    ) -> Attempted<ListPage> {
        self.retry(|b| b.list(bucket, prefix, start_after, page.clone()))
            .await
    }

    /// Deletes `names`, a few at a time (the JSON API deletes one object per request).
    async fn delete(&self, bucket: &str, names: &[String]) -> Attempted<()> {
        for chunk in names.chunks(DELETE_CONCURRENCY) {
            let results = futures::future::join_all(
                chunk
                    .iter()
                    .map(|name| self.retry(move |b| b.delete(bucket, name))),
            )
            .await;
            results.into_iter().collect::<Result<Vec<()>, _>>()?;
        }
        Ok(())
    }
}

/// Deletes in flight at once.
const DELETE_CONCURRENCY: usize = 8;

async fn build_backend(settings: &GcsSettings) -> Attempted<Arc<dyn ObjectBackend>> {
    let config = ClientConfig::default();
    let mut config = match &settings.credentials {
        Credentials::Anonymous => config.anonymous(),
        Credentials::Default => config
            .with_auth()
            .await
            .map_err(|e| classify_auth(&e, None))?,
        Credentials::File(path) => {
            let file = gcloud_storage::client::google_cloud_auth::credentials::CredentialsFile::new_from_file(
                path.to_string_lossy().into_owned(),
            )
            .await
            .map_err(|e| {
                // The auth crate's own text for an I/O error asks for default credentials,
                // which is not what went wrong here.
                let cause = match &e {
                    AuthError::CredentialsIOError(io) => io.to_string(),
                    other => other.to_string(),
                };
                failure(
                    Kind::AccessDenied,
                    None,
                    format!("cannot read the credentials file {}: {cause}", path.display()),
                )
            })?;
            config
                .with_credentials(file)
                .await
                .map_err(|e| classify_auth(&e, Some(path)))?
        }
    };
    if let Some(endpoint) = &settings.endpoint {
        config.storage_endpoint = endpoint.trim_end_matches('/').to_owned();
    }
    Ok(Arc::new(GcloudBackend {
        client: Client::new(config),
    }))
}
