//! [`MemoryVisibilityArchiver`].

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use visibility_query::SearchAttributes;

use super::{SCHEME, lock};
use archiver_core::visibility::{compile_query, page_of};
use archiver_core::{
    ArchiveOptions, ArchiveUri, QueryRequest, QueryResponse, Result, VisibilityArchiver,
    VisibilityRecord, check_scheme,
};

/// Location (the URI), namespace id, workflow id, run id.
type RecordKey = (String, String, String, String);

/// The in-memory [`VisibilityArchiver`]: records keyed by location and run (archiving a record
/// again replaces it), queries evaluated on every record of the namespace.
#[derive(Debug, Default)]
pub struct MemoryVisibilityArchiver {
    records: Mutex<BTreeMap<RecordKey, VisibilityRecord>>,
}

impl MemoryVisibilityArchiver {
    /// An empty archiver.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl VisibilityArchiver for MemoryVisibilityArchiver {
    fn scheme(&self) -> &'static str {
        SCHEME
    }

    async fn archive(
        &self,
        uri: &ArchiveUri,
        record: &VisibilityRecord,
        options: &ArchiveOptions,
    ) -> Result<()> {
        let result = check_scheme(SCHEME, uri).and_then(|()| record.validate());
        if result.is_ok() {
            let key = (
                uri.to_string(),
                record.namespace_id.clone(),
                record.workflow_id.clone(),
                record.run_id.clone(),
            );
            lock(&self.records).insert(key, record.clone());
        }
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
        let location = uri.to_string();
        let records = lock(&self.records);
        // The namespace is the key's prefix: only its records are candidates.
        let start = (
            location.clone(),
            request.namespace_id.clone(),
            String::new(),
            String::new(),
        );
        // The plan prunes before the full predicate runs: the reference for index-backed
        // providers, which enumerate only what the plan admits.
        let plan = query.plan();
        let candidates = records
            .range(start..)
            .take_while(|((l, ns, _, _), _)| *l == location && *ns == request.namespace_id)
            .map(|(_, record)| record)
            .filter(|record| !plan.is_empty() && plan.admits(*record));
        page_of(candidates, &query, request)
    }

    async fn validate_uri(&self, uri: &ArchiveUri) -> Result<()> {
        check_scheme(SCHEME, uri)
    }
}
