//! [`S3Store`]: the S3 client both archivers share, and the kit's
//! [`ObjectStore`] over it (put, conditional create, get, list, delete, head bucket), each
//! failure classified by [`crate::error::classify`].

use std::fmt;
use std::sync::Arc;

use archiver_core::{ArchiveUri, Result};
use archiver_kit::object::{
    Failure, FailureKind as Kind, ListPage, ObjectLocation, ObjectStore, PutMode, PutOutcome,
    RetrySettings,
};
use async_trait::async_trait;
use aws_config::BehaviorVersion;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::{RetryConfig, RetryPartition, TokenBucket};
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    Credentials, Intercept, Region, SharedCredentialsProvider, SharedInterceptor,
};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use bytes::Bytes;
use tokio::sync::OnceCell;

use crate::config::S3Settings;
use crate::error::{classify, dropped, invalid};
use crate::location::{SCHEME, location};
use crate::request_log::RequestLog;

/// Where the client comes from.
enum ClientSource {
    /// Built from our settings on first use (loading the SDK config is async; factories and
    /// constructors are not), with the embedder's interceptors.
    Settings(Box<S3Settings>, Vec<SharedInterceptor>),
    /// The embedder's own client.
    Provided(Client),
}

struct Inner {
    source: ClientSource,
    /// The client built from settings.
    built: OnceCell<Client>,
}

/// The S3 client of the provider: cheap to clone, shared by the history and visibility
/// archivers. Build it from [`S3Settings`], or hand it your own `aws_sdk_s3::Client` or
/// `SdkConfig` (credentials, interceptors and HTTP client are then yours).
///
/// Its `Debug` shows the settings with credentials redacted.
#[derive(Clone)]
pub struct S3Store {
    inner: Arc<Inner>,
}

impl fmt::Debug for S3Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner.source {
            ClientSource::Settings(settings, _) => {
                f.debug_tuple("S3Store").field(settings).finish()
            }
            ClientSource::Provided(_) => f.write_str("S3Store(<embedder's client>)"),
        }
    }
}

impl S3Store {
    /// A store whose client is built from `settings` when first used.
    pub fn new(settings: S3Settings) -> Self {
        Self::with_source(ClientSource::Settings(Box::new(settings), Vec::new()))
    }

    /// A store from [`S3Settings::from_env`].
    pub fn from_env() -> Self {
        Self::new(S3Settings::from_env())
    }

    /// A store using the embedder's client as it is.
    pub fn from_client(client: Client) -> Self {
        Self::with_source(ClientSource::Provided(client))
    }

    /// A store with a client made from the embedder's `SdkConfig`.
    pub fn from_sdk_config(config: &aws_config::SdkConfig) -> Self {
        Self::from_client(Client::new(config))
    }

    /// The same store with `interceptor` added to its client: metrics, request counting,
    /// tracing. Call before sharing the store (the result has its own client).
    pub fn with_interceptor(self, interceptor: impl Intercept + 'static) -> Self {
        let interceptor = SharedInterceptor::new(interceptor);
        match &self.inner.source {
            ClientSource::Settings(settings, interceptors) => {
                let mut interceptors = interceptors.clone();
                interceptors.push(interceptor);
                Self::with_source(ClientSource::Settings(settings.clone(), interceptors))
            }
            ClientSource::Provided(client) => Self::from_client(Client::from_conf(
                client
                    .config()
                    .to_builder()
                    .interceptor(interceptor)
                    .build(),
            )),
        }
    }

    fn with_source(source: ClientSource) -> Self {
        S3Store {
            inner: Arc::new(Inner {
                source,
                built: OnceCell::new(),
            }),
        }
    }

    /// The SDK client (built on first call when made from settings).
    pub async fn client(&self) -> &Client {
        match &self.inner.source {
            ClientSource::Provided(client) => client,
            ClientSource::Settings(settings, interceptors) => {
                self.inner
                    .built
                    .get_or_init(|| build_client(settings, interceptors))
                    .await
            }
        }
    }

    /// GetObject (of `range` when given), the body read again under the retry policy when the
    /// connection breaks off mid-body.
    async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        range: Option<String>,
    ) -> std::result::Result<Option<Bytes>, Failure> {
        let client = self.client().await;
        let policy = retry_policy(client);
        let mut attempt = 1;
        loop {
            let response = match client
                .get_object()
                .bucket(bucket)
                .key(key)
                .set_range(range.clone())
                .send()
                .await
            {
                Ok(response) => response,
                Err(e) => {
                    let failure = classify(&e);
                    return if failure.kind() == Kind::NotFound {
                        Ok(None)
                    } else {
                        Err(failure)
                    };
                }
            };
            match response.body.collect().await {
                Ok(body) => return Ok(Some(body.into_bytes())),
                Err(e) if attempt < policy.max_attempts => {
                    tracing::debug!(attempt, error = %e, "S3 object body broke off, reading again");
                    tokio::time::sleep(policy.backoff(attempt)).await;
                    attempt += 1;
                }
                Err(e) => return Err(dropped(e.to_string()).with_attempts(attempt)),
            }
        }
    }
}

#[async_trait]
impl ObjectStore for S3Store {
    fn scheme(&self) -> &'static str {
        SCHEME
    }

    fn location(&self, uri: &ArchiveUri) -> Result<ObjectLocation> {
        location(uri)
    }

    /// HeadBucket, telling a missing bucket, a denial and an unreachable endpoint apart.
    async fn validate_bucket(&self, location: &ObjectLocation) -> Result<()> {
        let bucket = location.bucket();
        match self
            .client()
            .await
            .head_bucket()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let mut failure = classify(&e);
                // HeadBucket answers a bare 404 (no body, no code) for a missing bucket.
                if failure.kind() == Kind::NotFound {
                    failure = failure.with_kind(Kind::NoSuchBucket);
                }
                Err(failure.into_core("head bucket", &format!("s3://{bucket}")))
            }
        }
    }

    /// PutObject; create-only is `If-None-Match: *` (an existing object wins).
    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        mode: PutMode,
    ) -> std::result::Result<PutOutcome, Failure> {
        let create_only = mode == PutMode::CreateOnly;
        let mut request = self
            .client()
            .await
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(body));
        if create_only {
            request = request.if_none_match("*");
        }
        match request.send().await.map_err(|e| classify(&e)) {
            Ok(_) => Ok(PutOutcome::Created),
            Err(failure) if create_only && failure.kind() == Kind::PreconditionFailed => {
                Ok(PutOutcome::AlreadyExists)
            }
            Err(failure) => Err(failure),
        }
    }

    /// GetObject, the whole body; `None` when the key does not exist.
    ///
    /// The SDK retries a request until the head of its answer arrives; the body is read after
    /// the SDK is done, so a body that breaks off is retried here (a new GetObject, under the
    /// client's retry policy), not reported at once.
    async fn get(&self, bucket: &str, key: &str) -> std::result::Result<Option<Bytes>, Failure> {
        self.get_object(bucket, key, None).await
    }

    /// GetObject with `Range: bytes=offset-(offset+len-1)`.
    async fn get_range(
        &self,
        bucket: &str,
        key: &str,
        offset: u64,
        len: u64,
    ) -> std::result::Result<Option<Bytes>, Failure> {
        if len == 0 {
            return Ok(self.exists(bucket, key).await?.then(Bytes::new));
        }
        // HTTP ranges are inclusive.
        let range = format!("bytes={offset}-{}", offset.saturating_add(len - 1));
        self.get_object(bucket, key, Some(range)).await
    }

    /// HeadObject: whether the key exists.
    async fn exists(&self, bucket: &str, key: &str) -> std::result::Result<bool, Failure> {
        match self
            .client()
            .await
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => {
                let failure = classify(&e);
                if failure.kind() == Kind::NotFound {
                    Ok(false)
                } else {
                    Err(failure)
                }
            }
        }
    }

    /// One ListObjectsV2 page of keys under `prefix`, after `start_after` (first page only).
    async fn list(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        page: Option<String>,
    ) -> std::result::Result<ListPage, Failure> {
        let mut request = self
            .client()
            .await
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix);
        match page {
            Some(token) => request = request.continuation_token(token),
            None => {
                if let Some(after) = start_after {
                    request = request.start_after(after);
                }
            }
        }
        let output = request.send().await.map_err(|e| classify(&e))?;
        let keys = output
            .contents()
            .iter()
            .filter_map(|object| object.key().map(str::to_owned))
            .collect();
        let next = output
            .is_truncated()
            .unwrap_or(false)
            .then(|| output.next_continuation_token().map(str::to_owned))
            .flatten();
        Ok(ListPage { keys, next })
    }

    /// DeleteObjects, up to 1000 keys per request. Missing keys are not an error.
    async fn delete(&self, bucket: &str, keys: &[String]) -> std::result::Result<(), Failure> {
        for chunk in keys.chunks(1000) {
            let objects = chunk
                .iter()
                .map(|key| ObjectIdentifier::builder().key(key).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| invalid(e.to_string()))?;
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| invalid(e.to_string()))?;
            self.client()
                .await
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| classify(&e))?;
        }
        Ok(())
    }
}

/// The retry policy `client` was configured with (ours, or the embedder's), for the retries
/// the SDK cannot do itself.
fn retry_policy(client: &Client) -> RetrySettings {
    let defaults = RetrySettings::default();
    client
        .config()
        .retry_config()
        .map_or(defaults, |config| RetrySettings {
            max_attempts: config.max_attempts(),
            initial_backoff: config.initial_backoff(),
            max_backoff: config.max_backoff(),
        })
}

/// The SDK client for `settings`: rustls with ring over hyper, the SDK's standard retry
/// strategy with our attempts and backoff, our timeouts.
async fn build_client(settings: &S3Settings, interceptors: &[SharedInterceptor]) -> Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let retry = RetryConfig::standard()
        .with_max_attempts(settings.retry.max_attempts.max(1))
        .with_initial_backoff(settings.retry.initial_backoff)
        .with_max_backoff(settings.retry.max_backoff);
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(settings.timeouts.connect)
        .operation_attempt_timeout(settings.timeouts.attempt)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .retry_config(retry)
        .timeout_config(timeouts);
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(endpoint) = &settings.endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    if let Some(credentials) = &settings.credentials {
        let credentials = Credentials::new(
            &credentials.access_key_id,
            credentials.secret_access_key.expose(),
            credentials
                .session_token
                .as_ref()
                .map(|t| t.expose().to_owned()),
            None,
            "archiver-s3",
        );
        loader = loader.credentials_provider(SharedCredentialsProvider::new(credentials));
    }
    let sdk = loader.load().await;
    // The SDK's standard strategy also rations retries with a token bucket shared by every
    // client of the process (500 tokens; a retry of a dropped connection costs 10, and only
    // a first-attempt success gives one back): about 50 requests that each needed two retries
    // empty it, and from then on requests fail after fewer attempts than `max_attempts` (see
    // tests/faults.rs, retries_are_not_rationed_across_requests). Archival is background work
    // that Temporal retries as a whole when it fails, so `max_attempts` per request is the
    // policy, as it is for GCS: no quota.
    let unrationed = RetryPartition::custom("archiver-s3")
        .token_bucket(TokenBucket::unlimited())
        .build();
    let mut config = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(settings.force_path_style)
        .retry_partition(unrationed);
    if settings.log_requests {
        config = config.interceptor(RequestLog);
    }
    for interceptor in interceptors {
        config = config.interceptor(interceptor.clone());
    }
    Client::from_conf(config.build())
}
