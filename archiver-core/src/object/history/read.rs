//! Reading a history back: the manifest, then only the blobs the page needs, each verified.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::ObjectHistoryArchiver;
use crate::history::decode_batches_at;
use crate::object::layout::{parse_version_key, version_key};
use crate::object::manifest::{Identity, Manifest};
use crate::object::{ObjectLocation, ObjectStore, list_all};
use crate::page_token::{decode_page_token, encode_page_token, fingerprint};
use crate::{Error, GetHistoryRequest, GetHistoryResponse, Result};

/// Where a page starts: a version, a blob of its manifest, a batch within the blob.
#[derive(Debug, Serialize, Deserialize)]
struct Position {
    version: i64,
    blob: usize,
    batch: usize,
}

impl<S: ObjectStore> ObjectHistoryArchiver<S> {
    pub(super) async fn get_page(
        &self,
        location: ObjectLocation,
        request: &GetHistoryRequest,
    ) -> Result<GetHistoryResponse> {
        request.validate()?;
        let token_fingerprint =
            fingerprint(&[&request.namespace_id, &request.workflow_id, &request.run_id]);
        let position = request
            .next_page_token
            .as_deref()
            .map(|token| decode_page_token::<Position>(token, token_fingerprint))
            .transpose()?;
        if let (Some(p), Some(v)) = (&position, request.close_failover_version)
            && p.version != v
        {
            return Err(Error::CorruptedToken {
                reason: "the token is for another close failover version".into(),
            });
        }
        let run = location.run_prefix(&request.namespace_id, &request.workflow_id, &request.run_id);
        let version = match position
            .as_ref()
            .map(|p| p.version)
            .or(request.close_failover_version)
        {
            Some(version) => version,
            None => self.highest_version(&location, &run, request).await?,
        };
        let manifest_key = format!("{run}manifest/{}", version_key(version));
        let describe = location.describe(&manifest_key);
        let data = self
            .store
            .get(location.bucket(), &manifest_key)
            .await
            .map_err(|f| f.into_core("read manifest", &describe))?
            .ok_or_else(|| not_found(request))?;
        let identity = Identity {
            namespace_id: request.namespace_id.clone(),
            workflow_id: request.workflow_id.clone(),
            run_id: request.run_id.clone(),
            close_failover_version: version,
        };
        let manifest = Manifest::decode(data, &identity, &describe)?;
        let start = position.unwrap_or(Position {
            version,
            blob: 0,
            batch: 0,
        });
        if start.blob >= manifest.blobs.len() {
            return Err(Error::CorruptedToken {
                reason: "the token points past the end of the archive".into(),
            });
        }
        let mut batches = Vec::new();
        let mut events = 0;
        let mut at = start;
        while at.blob < manifest.blobs.len() && events < request.page_size {
            let blob = self.read_blob(&location, &run, &manifest, at.blob).await?;
            if at.batch >= blob.len() {
                return Err(Error::CorruptedToken {
                    reason: "the token points past the end of a blob".into(),
                });
            }
            for batch in blob.into_iter().skip(at.batch) {
                if events >= request.page_size {
                    break;
                }
                events += batch.events.len();
                batches.push(batch);
                at.batch += 1;
            }
            if at.batch == manifest.blobs[at.blob].batches {
                at.blob += 1;
                at.batch = 0;
            }
        }
        let next_page_token = if at.blob < manifest.blobs.len() {
            Some(encode_page_token(token_fingerprint, &at)?)
        } else {
            None
        };
        Ok(GetHistoryResponse {
            history_batches: batches,
            next_page_token,
        })
    }

    /// The highest version with a manifest under `run`.
    async fn highest_version(
        &self,
        location: &ObjectLocation,
        run: &str,
        request: &GetHistoryRequest,
    ) -> Result<i64> {
        let prefix = format!("{run}manifest/");
        let keys = list_all(&self.store, location.bucket(), &prefix)
            .await
            .map_err(|f| f.into_core("list versions", &location.describe(&prefix)))?;
        keys.iter()
            .filter_map(|key| parse_version_key(key.strip_prefix(&prefix)?))
            .max()
            .ok_or_else(|| not_found(request))
    }

    /// The batches of blob `index`, verified against the manifest.
    async fn read_blob(
        &self,
        location: &ObjectLocation,
        run: &str,
        manifest: &Manifest,
        index: usize,
    ) -> Result<Vec<crate::History>> {
        let entry = &manifest.blobs[index];
        let (data, describe): (Bytes, String) = match &entry.key {
            None => (
                manifest.inline.clone(),
                location.describe(&format!("{run}manifest")),
            ),
            Some(relative) => {
                let key = format!("{run}{relative}");
                let describe = location.describe(&key);
                let data = self
                    .store
                    .get(location.bucket(), &key)
                    .await
                    .map_err(|f| f.into_core("read blob", &describe))?
                    .ok_or_else(|| {
                        Error::corrupted(&describe, "a blob the manifest lists is missing")
                    })?;
                (data, describe)
            }
        };
        entry.verify(&data, &describe)?;
        let batches = decode_batches_at(&data, &describe)?;
        if batches.len() != entry.batches {
            return Err(Error::corrupted(
                &describe,
                format!(
                    "{} batches, the manifest says {}",
                    batches.len(),
                    entry.batches
                ),
            ));
        }
        Ok(batches)
    }
}

fn not_found(request: &GetHistoryRequest) -> Error {
    Error::NotFound {
        what: format!(
            "archived history of workflow {:?} run {:?}",
            request.workflow_id, request.run_id
        ),
    }
}
