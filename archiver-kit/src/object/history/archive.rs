//! Writing a history: blobs streamed one by one under a per-attempt staging prefix, then the
//! manifest created last (see [`super::manifest`]).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde::{Deserialize, Serialize};

use super::ObjectHistoryArchiver;
use crate::object::layout::{hex, version_key};
use crate::object::manifest::{BlobEntry, Identity, Manifest};
use crate::object::{FailureKind, ObjectLocation, ObjectStore, PutMode, PutOutcome, list_all};
use archiver_core::history::{ArchiveRun, Put, StagedArchive, archive_staged};
use archiver_core::{ArchiveHistoryRequest, ArchiveOptions, Error, HistoryBlob, Result};

/// How often a manifest create that met a concurrent one (409) is tried again.
const CONFLICT_RETRIES: u32 = 5;

/// Where an attempt stands between calls: its id (the staging prefix it owns) and the blobs it
/// stored.
#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    attempt: String,
    blobs: Vec<BlobEntry>,
}

/// One archive call in progress.
struct Attempt<'a, S> {
    archiver: &'a ObjectHistoryArchiver<S>,
    location: ObjectLocation,
    request: &'a ArchiveHistoryRequest,
    options: &'a ArchiveOptions,
    /// `<run prefix>`.
    run: String,
    /// `<run prefix>manifest/<version key>`.
    manifest_key: String,
    attempt: String,
    blobs: Vec<BlobEntry>,
    /// Whether this call checked that no manifest exists yet.
    checked: bool,
}

impl<S: ObjectStore> ObjectHistoryArchiver<S> {
    pub(super) async fn archive_run(
        &self,
        location: ObjectLocation,
        request: &ArchiveHistoryRequest,
        options: &ArchiveOptions,
    ) -> Result<()> {
        request.validate()?;
        let run = location.run_prefix(&request.namespace_id, &request.workflow_id, &request.run_id);
        let version = version_key(request.close_failover_version);
        // What binds recorded progress to this archive (the attempt takes the rest).
        let (bucket, binding_run) = (location.bucket().to_owned(), run.clone());
        let attempt = Attempt {
            archiver: self,
            manifest_key: format!("{run}manifest/{version}"),
            run,
            location,
            request,
            options,
            attempt: new_attempt_id(),
            blobs: Vec::new(),
            checked: false,
        };
        let history = ArchiveRun::new(
            Arc::clone(&self.source),
            request,
            options,
            self.target_blob_size,
        );
        let binding = [self.store.scheme(), &bucket, &binding_run, &version];
        archive_staged(attempt, history, &binding).await
    }
}

impl<S: ObjectStore> StagedArchive for Attempt<'_, S> {
    type Checkpoint = Checkpoint;

    async fn resume(&mut self, checkpoint: Checkpoint) -> Result<bool> {
        if !is_attempt_id(&checkpoint.attempt) {
            return Ok(false);
        }
        self.attempt = checkpoint.attempt;
        self.blobs = checkpoint.blobs;
        Ok(true)
    }

    async fn put(&mut self, blob: HistoryBlob, _durable: bool) -> Result<Put> {
        if !self.checked {
            if self.manifest_exists().await? {
                return Ok(Put::AlreadyArchived); // nothing is uploaded twice
            }
            self.checked = true;
        }
        self.upload(blob).await?;
        Ok(Put::Staged)
    }

    fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            attempt: self.attempt.clone(),
            blobs: self.blobs.clone(),
        }
    }

    async fn commit(mut self, only: Option<HistoryBlob>) -> Result<()> {
        self.create_manifest(only).await
    }

    async fn abandon(mut self) {
        self.discard().await;
    }
}

impl<S: ObjectStore> Attempt<'_, S> {
    async fn manifest_exists(&self) -> Result<bool> {
        self.archiver
            .store
            .exists(self.location.bucket(), &self.manifest_key)
            .await
            .map_err(|f| {
                f.into_core(
                    "check manifest",
                    &self.location.describe(&self.manifest_key),
                )
            })
    }

    /// Stores one blob under the attempt's staging prefix (a failed upload leaves the staging
    /// to the archive loop, which keeps it when a retry can resume).
    async fn upload(&mut self, blob: HistoryBlob) -> Result<()> {
        let relative = format!(
            "blobs/{}/{}/{:06}",
            version_key(self.request.close_failover_version),
            self.attempt,
            self.blobs.len()
        );
        let key = format!("{}{relative}", self.run);
        let entry = BlobEntry::of(&blob, Some(relative));
        self.archiver
            .store
            .put(self.location.bucket(), &key, blob.data, PutMode::Overwrite)
            .await
            .map_err(|failure| failure.into_core("write blob", &self.location.describe(&key)))?;
        self.archiver.blob_writes.fetch_add(1, Ordering::Relaxed);
        self.blobs.push(entry);
        Ok(())
    }

    /// Creates the manifest (with `inline` as its only blob when given): the commit point.
    async fn create_manifest(&mut self, inline: Option<HistoryBlob>) -> Result<()> {
        let identity = Identity {
            namespace_id: self.request.namespace_id.clone(),
            workflow_id: self.request.workflow_id.clone(),
            run_id: self.request.run_id.clone(),
            close_failover_version: self.request.close_failover_version,
        };
        let body = match &inline {
            Some(blob) => Manifest::encode(
                self.archiver.store.scheme(),
                &identity,
                &[BlobEntry::of(blob, None)],
                &blob.data,
            )?,
            None => Manifest::encode(self.archiver.store.scheme(), &identity, &self.blobs, &[])?,
        };
        let describe = self.location.describe(&self.manifest_key);
        let mut conflicts = 0;
        loop {
            let put = self
                .archiver
                .store
                .put(
                    self.location.bucket(),
                    &self.manifest_key,
                    body.clone(),
                    PutMode::CreateOnly,
                )
                .await;
            match put {
                Ok(PutOutcome::Created) => {
                    if inline.is_some() {
                        self.archiver.blob_writes.fetch_add(1, Ordering::Relaxed);
                    } else {
                        self.sweep_strays().await;
                    }
                    return Ok(());
                }
                Ok(PutOutcome::AlreadyExists) => {
                    // Either another archive of this run committed first (ours is redundant),
                    // or our own PUT landed and only its answer was lost, then the store's retry
                    // met it: the blobs may only go in the first case.
                    if !self.manifest_lists_our_blobs(&identity, &describe).await {
                        self.discard().await;
                    }
                    return Ok(());
                }
                Err(failure)
                    if failure.kind() == FailureKind::Conflict && conflicts < CONFLICT_RETRIES =>
                {
                    conflicts += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50 << conflicts)).await;
                }
                Err(failure) => {
                    // A dropped connection, a timeout or a 5xx may hide a manifest that was
                    // stored: its blobs must stay. Only a refused request surely stored nothing.
                    let maybe_stored = failure.kind().may_have_landed();
                    let err = failure.into_core("commit manifest", &describe);
                    if !(maybe_stored || self.resumable(&err)) {
                        self.discard().await;
                    }
                    return Err(err);
                }
            }
        }
    }

    /// Whether a retry of this archive can resume from its staged blobs after `err` (then they
    /// are kept).
    fn resumable(&self, err: &Error) -> bool {
        err.is_retryable() && self.options.progress_manager().is_some()
    }

    /// Whether the stored manifest lists this attempt's blobs. When it cannot be read, the
    /// answer is yes: keeping redundant blobs is safe, deleting referenced ones is not.
    async fn manifest_lists_our_blobs(&self, identity: &Identity, describe: &str) -> bool {
        let Some(ours) = self.blobs.iter().find_map(|b| b.key.as_deref()) else {
            return true; // nothing staged: nothing to delete either way
        };
        match self
            .archiver
            .store
            .get(self.location.bucket(), &self.manifest_key)
            .await
        {
            Ok(Some(data)) => Manifest::decode(data, identity, describe)
                .map(|m| m.blobs.iter().any(|b| b.key.as_deref() == Some(ours)))
                .unwrap_or(true),
            Ok(None) | Err(_) => true,
        }
    }

    /// Best-effort removal of staged blobs our manifest does not list: those of attempts that
    /// crashed (a killed process cannot clean up) or that are losing to us right now (they
    /// will find our manifest and never commit). One LIST per multi-blob archive.
    async fn sweep_strays(&self) {
        let staging = format!(
            "{}blobs/{}/",
            self.run,
            version_key(self.request.close_failover_version)
        );
        let ours = format!("{staging}{}/", self.attempt);
        let strays = match list_all(&self.archiver.store, self.location.bucket(), &staging).await {
            Ok(keys) => keys
                .into_iter()
                .filter(|k| !k.starts_with(&ours))
                .collect::<Vec<_>>(),
            Err(failure) => {
                tracing::warn!(error = %failure, "could not list staged blobs to sweep");
                return;
            }
        };
        if strays.is_empty() {
            return;
        }
        tracing::info!(count = strays.len(), run = %self.run, "removing staged blobs of abandoned archive attempts");
        if let Err(failure) = self
            .archiver
            .store
            .delete(self.location.bucket(), &strays)
            .await
        {
            tracing::warn!(error = %failure, "could not remove staged blobs of abandoned attempts");
        }
    }

    /// Best-effort removal of this attempt's staged blobs (readers never see them; this only
    /// saves storage).
    async fn discard(&mut self) {
        let keys: Vec<String> = self
            .blobs
            .drain(..)
            .filter_map(|b| b.key.map(|k| format!("{}{k}", self.run)))
            .collect();
        if keys.is_empty() {
            return;
        }
        if let Err(failure) = self
            .archiver
            .store
            .delete(self.location.bucket(), &keys)
            .await
        {
            tracing::warn!(error = %failure, count = keys.len(), run = %self.run,
                "could not remove staged blobs of an abandoned archive attempt");
        }
    }
}

/// A random id for one archive attempt (16 hex digits), from std's randomly keyed hasher.
fn new_attempt_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    hex(&hasher.finish().to_be_bytes())
}

fn is_attempt_id(id: &str) -> bool {
    id.len() == 16 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempt_ids_are_distinct_and_well_formed() {
        let a = new_attempt_id();
        let b = new_attempt_id();
        assert_ne!(a, b);
        assert!(is_attempt_id(&a) && is_attempt_id(&b));
        assert!(!is_attempt_id("../../x"));
    }
}
