//! [`FilestoreVisibilityArchiver`]: one file per record, named by what queries prune on.

use archiver_core::visibility::{compile_query, page_of};
use archiver_core::{
    ArchiveOptions, ArchiveUri, Error, QueryRequest, QueryResponse, Result, VisibilityArchiver,
    VisibilityRecord,
};
use async_trait::async_trait;
use visibility_query::SearchAttributes;

use crate::config::{self, FilestoreConfig};
use crate::error::{PROVIDER, io_error};
use crate::fsio::{self, Modes};
use crate::layout::{Layout, SCHEME};
use crate::scan::{Prune, Scan};
use crate::task::blocking;
use crate::visname::{self, Indexed, VisName};

/// The `file://` [`VisibilityArchiver`].
///
/// Each record is one JSON file, written durably (staged, fsynced, renamed, directory fsynced)
/// under a day directory of its close time, with its indexed fields in the file name. A query
/// prunes day directories and names with the filter's [`Plan`](visibility_query::Plan) before
/// opening any file, then checks the candidates it reads with the full filter.
#[derive(Debug, Clone)]
pub struct FilestoreVisibilityArchiver {
    modes: Modes,
}

impl Default for FilestoreVisibilityArchiver {
    fn default() -> Self {
        Self::new()
    }
}

impl FilestoreVisibilityArchiver {
    /// An archiver with default modes (files `0o666`, directories `0o766`, as Temporal).
    pub fn new() -> Self {
        Self::with_config(&config::default_config())
    }

    /// An archiver with the file and directory modes of `config`.
    pub fn with_config(config: &FilestoreConfig) -> Self {
        Self {
            modes: config::modes(config),
        }
    }

    async fn archive_record(&self, uri: &ArchiveUri, record: &VisibilityRecord) -> Result<()> {
        let layout = Layout::from_uri(uri)?;
        record.validate()?;
        let name = VisName::new(indexed(record)).file_name();
        let dir = layout
            .visibility_dir(&record.namespace_id)
            .join(visname::day_dir(record.close_time));
        let bytes = serde_json::to_vec(record)
            .map_err(|err| Error::backend(PROVIDER, "encode visibility record", err, false))?;
        let modes = self.modes;
        blocking("write visibility record", move || {
            fsio::write_atomic(&dir, &name, &bytes, modes)
                .map_err(|err| io_error("write visibility record", &dir.join(&name), err))
        })
        .await
    }
}

/// The fields of `record` its file name carries.
pub(crate) fn indexed(record: &VisibilityRecord) -> Indexed<'_> {
    Indexed {
        namespace_id: &record.namespace_id,
        workflow_id: &record.workflow_id,
        run_id: &record.run_id,
        workflow_type: &record.workflow_type_name,
        close_time: record.close_time,
        start_time: record.start_time,
        status: record.status.as_i32(),
    }
}

#[async_trait]
impl VisibilityArchiver for FilestoreVisibilityArchiver {
    fn scheme(&self) -> &'static str {
        SCHEME
    }

    async fn archive(
        &self,
        uri: &ArchiveUri,
        record: &VisibilityRecord,
        options: &ArchiveOptions,
    ) -> Result<()> {
        options.finish(self.archive_record(uri, record).await)
    }

    async fn query(
        &self,
        uri: &ArchiveUri,
        request: &QueryRequest,
        search_attributes: &SearchAttributes,
    ) -> Result<QueryResponse> {
        let layout = Layout::from_uri(uri)?;
        let query = compile_query(request, search_attributes)?;
        let plan = query.plan();
        let request = request.clone();
        blocking("query visibility records", move || {
            if plan.is_empty() {
                return page_of(std::iter::empty::<VisibilityRecord>(), &query, &request);
            }
            let prune = Prune::new(&plan);
            let dir = layout.visibility_dir(&request.namespace_id);
            let mut failure = None;
            let response = page_of(Scan::new(&dir, &prune, &mut failure)?, &query, &request)?;
            match failure {
                Some(err) => Err(err),
                None => Ok(response),
            }
        })
        .await
    }

    async fn validate_uri(&self, uri: &ArchiveUri) -> Result<()> {
        crate::validate::validate_root(uri, self.modes).await
    }
}
