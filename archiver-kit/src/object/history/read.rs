//! Reading a history back: the manifest, then only the blobs the page needs, each verified.

use bytes::Bytes;

use super::ObjectHistoryArchiver;
use crate::object::layout::{parse_version_key, version_key};
use crate::object::manifest::{Identity, Manifest};
use crate::object::{ObjectLocation, ObjectStore, list_all};
use archiver_core::history::{HistoryPager, decode_batches_at};
use archiver_core::{Error, GetHistoryRequest, GetHistoryResponse, Result};

impl<S: ObjectStore> ObjectHistoryArchiver<S> {
    pub(super) async fn get_page(
        &self,
        location: ObjectLocation,
        request: &GetHistoryRequest,
    ) -> Result<GetHistoryResponse> {
        request.validate()?;
        let mut pager = HistoryPager::new(request)?;
        let run = location.run_prefix(&request.namespace_id, &request.workflow_id, &request.run_id);
        let version = match pager.version() {
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
        while let Some(blob) = pager.next_blob(manifest.blobs.len()) {
            pager.add_batches(self.read_blob(&location, &run, &manifest, blob).await?)?;
        }
        pager.finish(version, manifest.blobs.len())
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
    ) -> Result<Vec<archiver_core::History>> {
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
