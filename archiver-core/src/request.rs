//! The requests and responses of the archiver traits, and their validation.
//!
//! Validation follows Temporal's validators (the first failing check wins, in field order) and
//! names the field in [`Error::InvalidRequest`], so a caller can tell the user what to fix.
//! Ids and names are bounded by [`MAX_ID_BYTES`] the same way on every provider.

use crate::history::History;
use crate::visibility::VisibilityRecord;
use crate::{Error, Result};

/// The most bytes an id or name (namespace id and name, workflow id, run id, workflow type) may
/// take once written as a JSON string, escapes included and quotes not: 8 KiB.
///
/// Providers store ids as JSON (file headers, manifests, records) and their readers bound what
/// they decode, so an unbounded id could be archived and then never read back: a workflow id of
/// 180,000 NULs escapes (`\u0000`, 6 bytes each) past the file store's 1 MiB header limit.
/// Counting escaped bytes bounds what is stored, whatever the characters. The limit is generous,
/// so that no id a cluster accepts is refused here: Temporal's own default
/// (`limit.maxIDLength`) is 1,000 bytes, and clusters that raise it, ids of four-byte UTF-8
/// characters, and names derived from a long id (a namespace name of id plus suffix) all fit,
/// while three ids stay far below any reader's limit.
pub const MAX_ID_BYTES: usize = 8192;

/// Archive one closed workflow run's history.
///
/// ```
/// use archiver_core::ArchiveHistoryRequest;
/// let request = ArchiveHistoryRequest {
///     namespace_id: "ns-id".into(),
///     namespace: "payments".into(),
///     workflow_id: "order-42".into(),
///     run_id: "3f1c".into(),
///     next_event_id: 17,
///     ..Default::default()
/// };
/// assert!(request.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ArchiveHistoryRequest {
    /// The engine's shard that owns the run (used to read the history).
    pub shard_id: i32,
    /// The namespace id.
    pub namespace_id: String,
    /// The namespace name.
    pub namespace: String,
    /// The workflow id.
    pub workflow_id: String,
    /// The run id.
    pub run_id: String,
    /// The history branch to read.
    pub branch_token: Vec<u8>,
    /// The id of the last event plus one: the history must end exactly there.
    pub next_event_id: i64,
    /// The failover version the run closed with: archives are kept per version, and the last
    /// event must carry it. Any value is accepted (negative versions exist in old clusters).
    pub close_failover_version: i64,
}

impl ArchiveHistoryRequest {
    /// Checks the fields a provider needs; the error names the first bad field.
    pub fn validate(&self) -> Result<()> {
        id("namespace_id", &self.namespace_id)?;
        id("workflow_id", &self.workflow_id)?;
        id("run_id", &self.run_id)?;
        id("namespace", &self.namespace)?;
        if self.next_event_id <= 0 {
            return Err(Error::invalid_request(
                "next_event_id",
                format!("must be positive, got {}", self.next_event_id),
            ));
        }
        Ok(())
    }
}

/// Read an archived history back, a page at a time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GetHistoryRequest {
    /// The namespace id.
    pub namespace_id: String,
    /// The workflow id.
    pub workflow_id: String,
    /// The run id.
    pub run_id: String,
    /// Which archived version to read; `None` reads the highest archived version.
    pub close_failover_version: Option<i64>,
    /// The token of the previous response, `None` for the first page.
    pub next_page_token: Option<Vec<u8>>,
    /// About how many events a page holds. Soft: pages hold whole batches and at least one.
    pub page_size: usize,
}

impl GetHistoryRequest {
    /// A request for the first page of the highest archived version.
    pub fn new(
        namespace_id: impl Into<String>,
        workflow_id: impl Into<String>,
        run_id: impl Into<String>,
        page_size: usize,
    ) -> Self {
        GetHistoryRequest {
            namespace_id: namespace_id.into(),
            workflow_id: workflow_id.into(),
            run_id: run_id.into(),
            page_size,
            ..Default::default()
        }
    }

    /// Checks ids and page size; the error names the first bad field.
    pub fn validate(&self) -> Result<()> {
        id("namespace_id", &self.namespace_id)?;
        id("workflow_id", &self.workflow_id)?;
        id("run_id", &self.run_id)?;
        positive_page_size(self.page_size)
    }
}

/// One page of an archived history.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GetHistoryResponse {
    /// Whole batches, in event order.
    pub history_batches: Vec<History>,
    /// Pass back in the next request; `None` when this was the last page.
    pub next_page_token: Option<Vec<u8>>,
}

/// Query archived visibility records with the list-filter language.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueryRequest {
    /// The namespace id: only its records are returned.
    pub namespace_id: String,
    /// The most records a page holds.
    pub page_size: usize,
    /// The token of the previous response, `None` for the first page.
    pub next_page_token: Option<Vec<u8>>,
    /// A list filter, e.g. `WorkflowType = 'payments' ORDER BY CloseTime DESC`; empty means all.
    pub query: String,
}

impl QueryRequest {
    /// The first page (of 100 records) of `query` in `namespace_id`.
    pub fn new(namespace_id: impl Into<String>, query: impl Into<String>) -> Self {
        QueryRequest {
            namespace_id: namespace_id.into(),
            page_size: 100,
            next_page_token: None,
            query: query.into(),
        }
    }

    /// The same request with another page size.
    pub fn with_page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size;
        self
    }

    /// The same request continuing after `token`.
    pub fn with_next_page_token(mut self, token: Option<Vec<u8>>) -> Self {
        self.next_page_token = token;
        self
    }

    /// Checks namespace id and page size; the error names the first bad field.
    pub fn validate(&self) -> Result<()> {
        id("namespace_id", &self.namespace_id)?;
        positive_page_size(self.page_size)
    }
}

/// One page of query results.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryResponse {
    /// Matching records in the query's order (newest close time first by default).
    pub executions: Vec<VisibilityRecord>,
    /// Pass back in the next request; `None` when this was the last page.
    pub next_page_token: Option<Vec<u8>>,
}

/// Checks an id or name: not empty, and at most [`MAX_ID_BYTES`] as a JSON string. The error
/// gives the size, never the id (it may be megabytes of anything).
pub(crate) fn id(field: &'static str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid_request(field, "must not be empty"));
    }
    // Escaping never shrinks a string: a longer one is refused without writing it out.
    let escaped = if value.len() > MAX_ID_BYTES {
        value.len()
    } else {
        serde_json::to_string(value).map_or(usize::MAX, |json| json.len() - 2)
    };
    if escaped > MAX_ID_BYTES {
        return Err(Error::invalid_request(
            field,
            format!(
                "is too long: at least {escaped} bytes as a JSON string, the limit is {MAX_ID_BYTES}"
            ),
        ));
    }
    Ok(())
}

fn positive_page_size(page_size: usize) -> Result<()> {
    if page_size == 0 {
        return Err(Error::invalid_request(
            "page_size",
            "must be greater than 0",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(result: Result<()>) -> &'static str {
        match result {
            Err(Error::InvalidRequest { field, .. }) => field,
            other => panic!("expected InvalidRequest, got {other:?}"),
        }
    }

    fn archive_request() -> ArchiveHistoryRequest {
        ArchiveHistoryRequest {
            namespace_id: "nid".into(),
            namespace: "ns".into(),
            workflow_id: "wf".into(),
            run_id: "run".into(),
            next_event_id: 5,
            ..Default::default()
        }
    }

    #[test]
    fn archive_request_names_the_first_bad_field() {
        assert!(archive_request().validate().is_ok());
        let mut r = archive_request();
        r.workflow_id.clear();
        r.namespace.clear();
        assert_eq!(field_of(r.validate()), "workflow_id");
        let mut r = archive_request();
        r.namespace.clear();
        assert_eq!(field_of(r.validate()), "namespace");
        let mut r = archive_request();
        r.next_event_id = 0;
        assert_eq!(field_of(r.validate()), "next_event_id");
        let mut r = archive_request();
        r.close_failover_version = -24;
        assert!(r.validate().is_ok(), "negative versions are legal");
    }

    #[test]
    fn get_and_query_requests_reject_zero_page_size() {
        let get = GetHistoryRequest::new("n", "w", "r", 0);
        assert_eq!(field_of(get.validate()), "page_size");
        assert_eq!(
            field_of(GetHistoryRequest::new("n", "", "r", 1).validate()),
            "workflow_id"
        );
        let query = QueryRequest::new("n", "").with_page_size(0);
        assert_eq!(field_of(query.validate()), "page_size");
        assert_eq!(
            field_of(QueryRequest::new("", "").validate()),
            "namespace_id"
        );
        assert!(QueryRequest::new("n", "").validate().is_ok());
    }
}
