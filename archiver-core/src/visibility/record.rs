//! [`VisibilityRecord`]: what is archived about a closed workflow run, and what queries see.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use visibility_query::ExecutionStatus;

use crate::request::id;
use crate::{Error, Result};

/// One closed workflow run, as the visibility archivers store and query it.
///
/// Serialized with camelCase field names and RFC 3339 times; `status` by name (`"Completed"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VisibilityRecord {
    /// The namespace id.
    pub namespace_id: String,
    /// The namespace name.
    pub namespace: String,
    /// The workflow id.
    pub workflow_id: String,
    /// The run id.
    pub run_id: String,
    /// The workflow type (`WorkflowType` in queries).
    pub workflow_type_name: String,
    /// When the run started.
    pub start_time: Timestamp,
    /// When the run's first workflow task was due (after a start delay or cron wait).
    pub execution_time: Timestamp,
    /// When the run closed.
    pub close_time: Timestamp,
    /// How it closed.
    #[serde(with = "status_by_name")]
    pub status: ExecutionStatus,
    /// How many events the history has.
    pub history_length: i64,
    /// The run's memo, as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memo: Option<serde_json::Value>,
    /// Search attributes, values stringified as the engine does (scalars as text, datetimes
    /// RFC 3339, lists as JSON arrays).
    #[serde(default)]
    pub search_attributes: BTreeMap<String, String>,
    /// Where the run's history was archived, if it was.
    #[serde(default)]
    pub history_archival_uri: String,
    /// Close time minus execution time, in nanoseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_duration_nanos: Option<i64>,
}

/// The deepest nesting of arrays and objects a memo may have (`{}` and `[]` are 1 deep).
///
/// Providers store a record as one JSON document, and readers decode it with `serde_json`,
/// which refuses documents nested more than 128 levels deep: a deeper memo could be archived
/// but never read back. The limit leaves room for the record itself and for a reader that
/// decodes records inside a larger document.
pub const MAX_MEMO_DEPTH: usize = 100;

/// Go's zero `time.Time` (year 1): how Temporal spells "no time". The Unix epoch is a real time.
fn is_unset(time: Timestamp) -> bool {
    const GO_ZERO_SECONDS: i64 = -62_135_596_800;
    time.as_second() == GO_ZERO_SECONDS && time.subsec_nanosecond() == 0 || time == Timestamp::MIN
}

impl VisibilityRecord {
    /// Checks the fields every provider indexes; the error names the first bad field.
    pub fn validate(&self) -> Result<()> {
        id("namespace_id", &self.namespace_id)?;
        id("namespace", &self.namespace)?;
        id("workflow_id", &self.workflow_id)?;
        id("run_id", &self.run_id)?;
        id("workflow_type_name", &self.workflow_type_name)?;
        for (field, time) in [
            ("start_time", self.start_time),
            ("close_time", self.close_time),
        ] {
            if is_unset(time) {
                return Err(Error::invalid_request(field, "must be set"));
            }
        }
        if let Some(memo) = &self.memo
            && deeper_than(memo, MAX_MEMO_DEPTH)
        {
            return Err(Error::invalid_request(
                "memo",
                format!("is nested more than {MAX_MEMO_DEPTH} arrays or objects deep"),
            ));
        }
        Ok(())
    }
}

/// Whether `value` nests arrays and objects more than `limit` deep. Walks with its own stack:
/// the value is untrusted, and recursion could overflow the thread's.
fn deeper_than(value: &serde_json::Value, limit: usize) -> bool {
    use serde_json::Value;
    let mut stack = vec![(value, 0)];
    while let Some((value, above)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(fields) => Box::new(fields.values()),
            _ => continue,
        };
        if above == limit {
            return true;
        }
        stack.extend(children.map(|child| (child, above + 1)));
    }
    false
}

impl visibility_query::Record for VisibilityRecord {
    fn workflow_id(&self) -> &str {
        &self.workflow_id
    }
    fn run_id(&self) -> &str {
        &self.run_id
    }
    fn workflow_type(&self) -> &str {
        &self.workflow_type_name
    }
    fn execution_status(&self) -> ExecutionStatus {
        self.status
    }
    fn start_time(&self) -> Option<Timestamp> {
        Some(self.start_time)
    }
    fn execution_time(&self) -> Option<Timestamp> {
        Some(self.execution_time)
    }
    fn close_time(&self) -> Option<Timestamp> {
        Some(self.close_time)
    }
    fn history_length(&self) -> Option<i64> {
        Some(self.history_length)
    }
    fn execution_duration(&self) -> Option<i64> {
        self.execution_duration_nanos
    }
    fn search_attribute(&self, name: &str) -> Option<&str> {
        self.search_attributes.get(name).map(String::as_str)
    }
}

mod status_by_name {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};
    use visibility_query::ExecutionStatus;

    pub(super) fn serialize<S: Serializer>(
        status: &ExecutionStatus,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(status.name())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<ExecutionStatus, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn record() -> VisibilityRecord {
        VisibilityRecord {
            namespace_id: "nid".into(),
            namespace: "ns".into(),
            workflow_id: "wf".into(),
            run_id: "run".into(),
            workflow_type_name: "payments".into(),
            start_time: "2026-01-01T00:00:00Z".parse().unwrap(),
            execution_time: "2026-01-01T00:00:00Z".parse().unwrap(),
            close_time: "2026-01-01T00:05:00Z".parse().unwrap(),
            status: ExecutionStatus::Completed,
            history_length: 12,
            memo: None,
            search_attributes: BTreeMap::from([("CustomKeyword".into(), "blue".into())]),
            history_archival_uri: String::new(),
            execution_duration_nanos: Some(300_000_000_000),
        }
    }

    #[test]
    fn validation_names_the_field_and_epoch_is_a_time() {
        assert!(record().validate().is_ok());
        let mut r = record();
        r.workflow_type_name.clear();
        assert!(matches!(
            r.validate(),
            Err(Error::InvalidRequest {
                field: "workflow_type_name",
                ..
            })
        ));
        let mut r = record();
        r.close_time = "0001-01-01T00:00:00Z".parse().unwrap();
        assert!(matches!(
            r.validate(),
            Err(Error::InvalidRequest {
                field: "close_time",
                ..
            })
        ));
        let mut r = record();
        r.start_time = Timestamp::UNIX_EPOCH;
        assert!(r.validate().is_ok());
    }

    fn nested(depth: usize) -> serde_json::Value {
        (0..depth).fold(serde_json::json!("leaf"), |inner, _| {
            serde_json::json!([inner])
        })
    }

    #[test]
    fn memos_too_deep_to_read_back_are_refused() {
        let mut r = record();
        r.memo = Some(nested(MAX_MEMO_DEPTH));
        assert!(r.validate().is_ok());
        let json = serde_json::to_vec(&r).unwrap();
        let back: VisibilityRecord = serde_json::from_slice(&json).unwrap();
        assert_eq!(back, r, "the deepest memo accepted reads back");

        r.memo = Some(serde_json::json!({ "a": nested(MAX_MEMO_DEPTH) }));
        assert!(matches!(
            r.validate(),
            Err(Error::InvalidRequest { field: "memo", .. })
        ));
        r.memo = Some(nested(MAX_MEMO_DEPTH + 1));
        assert!(r.validate().is_err());
        // What the limit guards against: readers refuse a record with a memo this deep.
        r.memo = Some(nested(127));
        let json = serde_json::to_vec(&r).unwrap();
        assert!(serde_json::from_slice::<VisibilityRecord>(&json).is_err());
        // An empty array or object is one level, like serde_json counts it.
        assert!(!deeper_than(&serde_json::json!([]), 1));
        assert!(deeper_than(&serde_json::json!([[]]), 1));
        assert!(!deeper_than(&serde_json::json!("x"), 0));
    }

    #[test]
    fn serde_round_trip_with_status_by_name() {
        let json = serde_json::to_value(record()).unwrap();
        assert_eq!(json["status"], "Completed");
        assert_eq!(json["workflowTypeName"], "payments");
        let back: VisibilityRecord = serde_json::from_value(json).unwrap();
        assert_eq!(back, record());
    }
}
