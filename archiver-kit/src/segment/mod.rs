//! Parquet segments: immutable files of visibility records with typed columns.
//!
//! A segment is a plain Parquet file (ZSTD, row-group statistics on every column, Bloom filters on
//! `WorkflowId`, `RunId`, `WorkflowType` and every custom Keyword column, pages of at most 1,024
//! rows with an offset index, rows sorted by `CloseTime` and declared so in each row group's
//! sorting columns), so engines that know nothing of this library query it directly.
//! Segments are laid out Hive-style, `namespace_id=<id>/close_date=<YYYY-MM-DD>/<name>.parquet`
//! ([`partition_path`]).
//!
//! # Columns
//!
//! | column | Parquet / Arrow type | holds |
//! |---|---|---|
//! | `NamespaceId`, `Namespace` | string | the namespace |
//! | `WorkflowId`, `RunId`, `WorkflowType` | string | the run (Bloom-filtered) |
//! | `ExecutionStatus` | string | the status by name (`Completed`, `Failed`, ...) |
//! | `StartTime`, `ExecutionTime`, `CloseTime` | timestamp (microseconds, UTC) | the times |
//! | `HistoryLength` | int64 | events in the history |
//! | `ExecutionDuration` | int64, nullable | close minus execution time, nanoseconds |
//! | `HistoryArchivalUri` | string | where the history was archived |
//! | `Memo` | string (JSON), nullable | the memo |
//! | one per custom search attribute | Keyword/Text string, Int int64, Double double, Bool boolean, Datetime timestamp (us, UTC), KeywordList list&lt;string&gt; | the value as the list-filter evaluator reads it; null when absent or unparsable |
//! | `Extra` | string (JSON), nullable | what the typed columns cannot hold exactly |
//!
//! Custom attribute columns take the attribute's name. Times are microseconds because that is
//! what every engine reads (Spark refuses nanosecond timestamps); `Extra` keeps the
//! sub-microsecond remainders, and the stored text of any search attribute that has no typed
//! column (undeclared, or named like a system column) or whose typed value does not render back
//! to the same text (`"042"` for an Int, a Datetime with nanoseconds, an unparsable value). So
//! [`decode_segment`] returns every record exactly as it was archived, while engines see typed
//! columns. The segment describes itself: its key-value metadata `archiver.segment` names the
//! format version and each custom column's type, so a reader needs no outside schema.
//!
//! ```
//! use archiver_core::VisibilityRecord;
//! use archiver_kit::segment::{decode_segment, encode_segment, SegmentOptions};
//! use visibility_query::{SearchAttributeType, SearchAttributes};
//!
//! let record: VisibilityRecord = serde_json::from_str(r#"{
//!     "namespaceId": "ns-id", "namespace": "ns", "workflowId": "wf", "runId": "run",
//!     "workflowTypeName": "payments", "startTime": "2026-12-01T10:00:00Z",
//!     "executionTime": "2026-12-01T10:00:00Z", "closeTime": "2026-12-01T10:00:05.123456789Z",
//!     "status": "Completed", "historyLength": 12,
//!     "searchAttributes": {"CustomerId": "c-7"}
//! }"#).unwrap();
//! let attributes = SearchAttributes::new().with_custom("CustomerId", SearchAttributeType::Keyword);
//! let bytes = encode_segment(vec![record.clone()], &attributes, &SegmentOptions::default()).unwrap();
//! assert_eq!(decode_segment(bytes.into()).unwrap(), vec![record]);
//! ```

mod checksum;
mod columns;
mod decode;
mod encode;
mod error;
mod extra;
mod footer;
mod path;
mod query;
mod sparse;

pub use decode::{decode_segment, read_group_fields, read_groups, read_rows};
pub use encode::{SegmentOptions, SegmentWriter, encode_segment};
pub use error::SegmentError;
pub use footer::{Region, SegmentFooter, SegmentTail};
pub use path::{partition_path, partition_records};
pub use query::{SegmentMatches, query_segment};
pub use sparse::SparseFile;
