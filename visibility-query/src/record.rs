//! The record an evaluator reads, and a simple owned implementation.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::status::ExecutionStatus;

/// A visibility record as the evaluator sees it. Archiver crates implement this for their record type.
pub trait Record {
    /// The workflow ID.
    fn workflow_id(&self) -> &str;
    /// The run ID.
    fn run_id(&self) -> &str;
    /// The workflow type name.
    fn workflow_type(&self) -> &str;
    /// The status.
    fn execution_status(&self) -> ExecutionStatus;
    /// When the run started.
    fn start_time(&self) -> Option<Timestamp>;
    /// When the run first became eligible to execute (differs from start for cron/retry).
    fn execution_time(&self) -> Option<Timestamp>;
    /// When the run closed; `None` while open.
    fn close_time(&self) -> Option<Timestamp>;
    /// Number of history events (closed runs).
    fn history_length(&self) -> Option<i64>;
    /// nanoseconds
    fn execution_duration(&self) -> Option<i64>;
    /// A search attribute's value stringified as archived (Temporal's searchattribute.Stringify: strconv scalars, RFC3339Nano datetimes, JSON arrays for lists).
    fn search_attribute(&self, name: &str) -> Option<&str>;
}

/// An owned [`Record`] with public fields, for tests and small tools.
///
/// ```
/// use visibility_query::{compile, ExecutionStatus, RecordValues, SearchAttributes};
/// let rec = RecordValues::new("wf-1", "run-1", "Payment")
///     .with_status(ExecutionStatus::Completed)
///     .with_attribute("CustomerId", "c-9");
/// let attrs = SearchAttributes::new().with_custom("CustomerId", "Keyword".parse().unwrap());
/// let q = compile("WorkflowType = 'Payment' AND CustomerId STARTS_WITH 'c-'", &attrs).unwrap();
/// assert!(q.matches(&rec));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordValues {
    /// See [`Record::workflow_id`].
    pub workflow_id: String,
    /// See [`Record::run_id`].
    pub run_id: String,
    /// See [`Record::workflow_type`].
    pub workflow_type: String,
    /// See [`Record::execution_status`].
    pub status: ExecutionStatus,
    /// See [`Record::start_time`].
    pub start_time: Option<Timestamp>,
    /// See [`Record::execution_time`].
    pub execution_time: Option<Timestamp>,
    /// See [`Record::close_time`].
    pub close_time: Option<Timestamp>,
    /// See [`Record::history_length`].
    pub history_length: Option<i64>,
    /// See [`Record::execution_duration`].
    pub execution_duration: Option<i64>,
    /// Stringified search attributes by name; see [`Record::search_attribute`].
    pub search_attributes: BTreeMap<String, String>,
}

impl RecordValues {
    /// A record with these IDs and type, status `Running`, nothing else set.
    pub fn new(
        workflow_id: impl Into<String>,
        run_id: impl Into<String>,
        workflow_type: impl Into<String>,
    ) -> Self {
        RecordValues {
            workflow_id: workflow_id.into(),
            run_id: run_id.into(),
            workflow_type: workflow_type.into(),
            status: ExecutionStatus::Running,
            ..Self::default()
        }
    }

    /// Sets the status.
    pub fn with_status(mut self, status: ExecutionStatus) -> Self {
        self.status = status;
        self
    }

    /// Sets the start time.
    pub fn with_start_time(mut self, t: Timestamp) -> Self {
        self.start_time = Some(t);
        self
    }

    /// Sets the close time.
    pub fn with_close_time(mut self, t: Timestamp) -> Self {
        self.close_time = Some(t);
        self
    }

    /// Sets a stringified search attribute.
    pub fn with_attribute(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.search_attributes.insert(name.into(), value.into());
        self
    }
}

impl Record for RecordValues {
    fn workflow_id(&self) -> &str {
        &self.workflow_id
    }
    fn run_id(&self) -> &str {
        &self.run_id
    }
    fn workflow_type(&self) -> &str {
        &self.workflow_type
    }
    fn execution_status(&self) -> ExecutionStatus {
        self.status
    }
    fn start_time(&self) -> Option<Timestamp> {
        self.start_time
    }
    fn execution_time(&self) -> Option<Timestamp> {
        self.execution_time
    }
    fn close_time(&self) -> Option<Timestamp> {
        self.close_time
    }
    fn history_length(&self) -> Option<i64> {
        self.history_length
    }
    fn execution_duration(&self) -> Option<i64> {
        self.execution_duration
    }
    fn search_attribute(&self, name: &str) -> Option<&str> {
        self.search_attributes.get(name).map(String::as_str)
    }
}
