//! A custom archiver, written the way an application adds its own storage: implement the two
//! traits over your store, register them under your own scheme, and prove them with the same
//! conformance suite the built-in providers pass.
//!
//! The "store" here is a toy key-value service (`KvStore`); swap it for your own client.
//!
//! ```text
//! cargo run --example custom_archiver
//! ```

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use archiver::config::ArchivalConfig;
use archiver::history::{ArchiveRun, Put, StagedArchive, archive_staged, decode_batches_at};
use archiver::query::SearchAttributes;
use archiver::testing::{self, Capabilities, Fixture, GeneratedHistorySource};
use archiver::visibility::{compile_query, page_of};
use archiver::{
    ArchiveHistoryRequest, ArchiveOptions, ArchiveUri, DEFAULT_TARGET_BLOB_SIZE, Error,
    GetHistoryRequest, GetHistoryResponse, HistoryArchiver, HistoryBlob, HistoryPager,
    HistorySource, QueryRequest, QueryResponse, Result, VisibilityArchiver, VisibilityRecord,
    check_scheme,
};
use async_trait::async_trait;

const SCHEME: &str = "kv";

/// The application's storage: keys to bytes, with create-only puts and prefix listing.
#[derive(Debug, Default)]
struct KvStore {
    map: Mutex<BTreeMap<String, Vec<u8>>>,
    /// History blobs written, so the conformance suite can check a resume writes none twice.
    blob_writes: AtomicU64,
}

impl KvStore {
    fn put(&self, key: String, value: Vec<u8>) {
        self.map.lock().expect("kv").insert(key, value);
    }
    fn delete(&self, keys: &[String]) {
        let mut map = self.map.lock().expect("kv");
        keys.iter().for_each(|key| drop(map.remove(key)));
    }
    /// Create-only: `false` when the key exists (the commit point of an archive).
    fn put_if_absent(&self, key: String, value: Vec<u8>) -> bool {
        let mut map = self.map.lock().expect("kv");
        if map.contains_key(&key) {
            return false;
        }
        map.insert(key, value);
        true
    }
    fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.map.lock().expect("kv").get(key).cloned()
    }
    fn list(&self, prefix: &str) -> Vec<(String, Vec<u8>)> {
        let map = self.map.lock().expect("kv");
        map.range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// Ids are user strings: hex-encode them so they never shape a key.
fn key_part(id: &str) -> String {
    id.bytes().map(|b| format!("{b:02x}")).collect()
}

fn run_prefix(uri: &ArchiveUri, namespace_id: &str, workflow_id: &str, run_id: &str) -> String {
    format!(
        "{}/history/{}/{}/{}/",
        key_part(&uri.to_string()),
        key_part(namespace_id),
        key_part(workflow_id),
        key_part(run_id)
    )
}

/// History: one key per blob, then a manifest written create-only as the commit point, so a
/// reader that finds a manifest finds the whole archive.
#[derive(Debug)]
struct KvHistoryArchiver {
    store: Arc<KvStore>,
    source: Arc<dyn HistorySource>,
    target_blob_size: usize,
}

impl KvHistoryArchiver {
    async fn archive_run(
        &self,
        uri: &ArchiveUri,
        request: &ArchiveHistoryRequest,
        options: &ArchiveOptions,
    ) -> Result<()> {
        check_scheme(SCHEME, uri)?;
        request.validate()?;
        let prefix = run_prefix(
            uri,
            &request.namespace_id,
            &request.workflow_id,
            &request.run_id,
        );
        // Zero-padded so the manifests list in version order.
        let version = format!(
            "{:020}",
            request.close_failover_version as i128 - i64::MIN as i128
        );
        let manifest = format!("{prefix}{version}/manifest");
        if self.store.get(&manifest).is_some() {
            return Ok(()); // archived already
        }
        // Each attempt stages under its own id: a concurrent attempt never mixes blobs with ours.
        let stage = KvStage {
            store: &self.store,
            attempt: format!("{prefix}{version}/{:016x}/", rand_id()),
            manifest: manifest.clone(),
            blobs: Vec::new(),
        };
        // The kit's archive loop reads the source, records progress after each blob, resumes
        // from it, skips a history the source no longer has and cleans up what a retry cannot
        // use: the stage only says how to store.
        let run = ArchiveRun::new(self.source.clone(), request, options, self.target_blob_size);
        archive_staged(stage, run, &[SCHEME, &manifest]).await
    }
}

/// One archive attempt: its blobs under its own prefix until the manifest names them.
struct KvStage<'a> {
    store: &'a KvStore,
    /// `<run>/<version>/<attempt id>/`.
    attempt: String,
    manifest: String,
    blobs: Vec<String>,
}

impl StagedArchive for KvStage<'_> {
    /// The attempt's prefix and its blobs' keys.
    type Checkpoint = (String, Vec<String>);

    async fn resume(&mut self, (attempt, blobs): Self::Checkpoint) -> Result<bool> {
        // Progress is only data: carry on only from keys of this archive that are all still
        // there.
        let run_version = self.manifest.trim_end_matches("manifest");
        let usable = attempt.starts_with(run_version)
            && blobs
                .iter()
                .all(|key| key.starts_with(&attempt) && self.store.get(key).is_some());
        if usable {
            self.attempt = attempt;
            self.blobs = blobs;
        }
        Ok(usable)
    }

    async fn put(&mut self, blob: HistoryBlob, _durable: bool) -> Result<Put> {
        let key = format!("{}{:06}", self.attempt, self.blobs.len());
        self.store.put(key.clone(), blob.data.to_vec());
        self.store.blob_writes.fetch_add(1, Ordering::Relaxed);
        self.blobs.push(key);
        Ok(Put::Staged)
    }

    fn checkpoint(&self) -> Self::Checkpoint {
        (self.attempt.clone(), self.blobs.clone())
    }

    async fn commit(mut self, only: Option<HistoryBlob>) -> Result<()> {
        if let Some(blob) = only {
            self.put(blob, false).await?;
        }
        let body = serde_json::to_vec(&self.blobs)
            .map_err(|e| Error::backend(SCHEME, "manifest", e, false))?;
        if !self.store.put_if_absent(self.manifest, body) {
            self.store.delete(&self.blobs); // an equal archive committed first
        }
        Ok(())
    }

    async fn abandon(self) {
        self.store.delete(&self.blobs);
    }
}

/// A random-enough id for staging keys.
fn rand_id() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

#[async_trait]
impl HistoryArchiver for KvHistoryArchiver {
    fn scheme(&self) -> &'static str {
        SCHEME
    }

    async fn archive(
        &self,
        uri: &ArchiveUri,
        request: &ArchiveHistoryRequest,
        options: &ArchiveOptions,
    ) -> Result<()> {
        // `finish` hands back the caller's own error for non-retryable failures, when set.
        options.finish(self.archive_run(uri, request, options).await)
    }

    async fn get(
        &self,
        uri: &ArchiveUri,
        request: &GetHistoryRequest,
    ) -> Result<GetHistoryResponse> {
        check_scheme(SCHEME, uri)?;
        request.validate()?;
        let prefix = run_prefix(
            uri,
            &request.namespace_id,
            &request.workflow_id,
            &request.run_id,
        );
        let mut pager = HistoryPager::new(request)?;
        let manifests: Vec<(i64, Vec<String>)> = self
            .store
            .list(&prefix)
            .into_iter()
            .filter(|(k, _)| k.ends_with("/manifest"))
            .filter_map(|(k, v)| {
                let padded: i128 = k[prefix.len()..prefix.len() + 20].parse().ok()?;
                Some((
                    (padded + i64::MIN as i128) as i64,
                    serde_json::from_slice(&v).ok()?,
                ))
            })
            .collect();
        let found = match pager.version() {
            Some(v) => manifests.into_iter().find(|(version, _)| *version == v),
            None => manifests.into_iter().last(),
        };
        let (version, blobs) = found.ok_or_else(|| Error::NotFound {
            what: format!("archived history of run {:?}", request.run_id),
        })?;
        while let Some(blob) = pager.next_blob(blobs.len()) {
            let key = &blobs[blob];
            let data = self
                .store
                .get(key)
                .ok_or_else(|| Error::corrupted(key, "blob missing"))?;
            pager.add_batches(decode_batches_at(&data, key)?)?;
        }
        pager.finish(version, blobs.len())
    }

    async fn validate_uri(&self, uri: &ArchiveUri) -> Result<()> {
        check_scheme(SCHEME, uri)
    }
}

/// Visibility: one key per run (archiving again replaces it); queries list the namespace and
/// leave filtering, ordering and paging to core's shared helper.
#[derive(Debug)]
struct KvVisibilityArchiver {
    store: Arc<KvStore>,
}

#[async_trait]
impl VisibilityArchiver for KvVisibilityArchiver {
    fn scheme(&self) -> &'static str {
        SCHEME
    }

    async fn archive(
        &self,
        uri: &ArchiveUri,
        record: &VisibilityRecord,
        options: &ArchiveOptions,
    ) -> Result<()> {
        let result = check_scheme(SCHEME, uri)
            .and_then(|()| record.validate())
            .and_then(|()| {
                let key = format!(
                    "{}/visibility/{}/{}/{}",
                    key_part(&uri.to_string()),
                    key_part(&record.namespace_id),
                    key_part(&record.workflow_id),
                    key_part(&record.run_id)
                );
                let body = serde_json::to_vec(record)
                    .map_err(|e| Error::backend(SCHEME, "encode", e, false))?;
                self.store.put(key, body);
                Ok(())
            });
        options.finish(result)
    }

    async fn query(
        &self,
        uri: &ArchiveUri,
        request: &QueryRequest,
        search_attributes: &SearchAttributes,
    ) -> Result<QueryResponse> {
        check_scheme(SCHEME, uri)?;
        let query = compile_query(request, search_attributes)?;
        let prefix = format!(
            "{}/visibility/{}/",
            key_part(&uri.to_string()),
            key_part(&request.namespace_id)
        );
        let records = self
            .store
            .list(&prefix)
            .into_iter()
            .map(|(key, body)| {
                serde_json::from_slice::<VisibilityRecord>(&body)
                    .map_err(|e| Error::corrupted(key, e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        page_of(records, &query, request)
    }

    async fn validate_uri(&self, uri: &ArchiveUri) -> Result<()> {
        check_scheme(SCHEME, uri)
    }
}

/// How the conformance suite builds our archivers.
struct KvFixture {
    store: Arc<KvStore>,
    next: Mutex<u32>,
}

impl Fixture for KvFixture {
    fn history_archiver(
        &self,
        source: Arc<dyn HistorySource>,
        target_blob_size: usize,
    ) -> Arc<dyn HistoryArchiver> {
        Arc::new(KvHistoryArchiver {
            store: self.store.clone(),
            source,
            target_blob_size,
        })
    }
    fn visibility_archiver(&self) -> Arc<dyn VisibilityArchiver> {
        Arc::new(KvVisibilityArchiver {
            store: self.store.clone(),
        })
    }
    fn new_uri(&self) -> ArchiveUri {
        let mut next = self.next.lock().expect("counter");
        *next += 1;
        format!("kv://suite/{next}").parse().expect("uri")
    }
    fn capabilities(&self) -> Capabilities {
        // The kit's archive loop resumes from recorded progress; the store counts blob writes.
        Capabilities::new().with_counts_blob_writes(true)
    }
    fn blob_writes(&self) -> Option<u64> {
        Some(self.store.blob_writes.load(Ordering::Relaxed))
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    // 1. Register under our own scheme, beside the built-ins.
    let store = Arc::new(KvStore::default());
    let source = Arc::new(GeneratedHistorySource::with_approx_bytes(9, 3 << 20));
    let mut registry = archiver::registry(ArchivalConfig::default(), source.clone());
    let history_store = store.clone();
    registry.register_history(
        SCHEME,
        Arc::new(move |context: &archiver::ProviderContext| {
            Ok(Arc::new(KvHistoryArchiver {
                store: history_store.clone(),
                source: context.history_source.clone(),
                target_blob_size: DEFAULT_TARGET_BLOB_SIZE,
            }))
        }),
    );
    let visibility_store = store.clone();
    registry.register_visibility(
        SCHEME,
        Arc::new(move |_: &archiver::ProviderContext| {
            Ok(Arc::new(KvVisibilityArchiver {
                store: visibility_store.clone(),
            }))
        }),
    );
    println!("registered schemes: {:?}", registry.schemes());

    // 2. Use it like any provider.
    let uri: ArchiveUri = "kv://orders/archive".parse()?;
    let history = registry.history_archiver(uri.scheme())?;
    let request = source.request("ns", "order-1", "run-1", 1);
    history
        .archive(&uri, &request, &ArchiveOptions::default())
        .await?;
    let page = history
        .get(&uri, &GetHistoryRequest::new("ns", "order-1", "run-1", 500))
        .await?;
    println!(
        "archived {} events; first page has {} batches, more: {}",
        source.events(),
        page.history_batches.len(),
        page.next_page_token.is_some()
    );

    // 3. Prove it: the conformance suite every built-in provider passes.
    let fixture = KvFixture {
        store,
        next: Mutex::new(0),
    };
    testing::run_history_suite(&fixture).await;
    testing::run_visibility_suite(&fixture).await;
    println!("conformance suite: history and visibility scenarios passed on kv://");
    Ok(())
}
