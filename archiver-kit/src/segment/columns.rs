//! The segment's columns: names, Arrow types, and the self-description kept in the file.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, TimeUnit};
use serde::Deserialize;
use visibility_query::{SearchAttributeType, SearchAttributes};

use super::SegmentError;

/// The segment format version, in the file's `archiver.segment` metadata.
pub(super) const VERSION: u32 = 1;
/// The key-value metadata key that describes a segment.
pub(super) const METADATA_KEY: &str = "archiver.segment";

pub(super) const NAMESPACE_ID: &str = "NamespaceId";
pub(super) const NAMESPACE: &str = "Namespace";
pub(super) const WORKFLOW_ID: &str = "WorkflowId";
pub(super) const RUN_ID: &str = "RunId";
pub(super) const WORKFLOW_TYPE: &str = "WorkflowType";
pub(super) const STATUS: &str = "ExecutionStatus";
pub(super) const START_TIME: &str = "StartTime";
pub(super) const EXECUTION_TIME: &str = "ExecutionTime";
pub(super) const CLOSE_TIME: &str = "CloseTime";
pub(super) const HISTORY_LENGTH: &str = "HistoryLength";
pub(super) const EXECUTION_DURATION: &str = "ExecutionDuration";
pub(super) const HISTORY_URI: &str = "HistoryArchivalUri";
pub(super) const MEMO: &str = "Memo";
pub(super) const EXTRA: &str = "Extra";

/// The system columns in file order.
pub(super) const SYSTEM: [&str; 14] = [
    NAMESPACE_ID,
    NAMESPACE,
    WORKFLOW_ID,
    RUN_ID,
    WORKFLOW_TYPE,
    STATUS,
    START_TIME,
    EXECUTION_TIME,
    CLOSE_TIME,
    HISTORY_LENGTH,
    EXECUTION_DURATION,
    HISTORY_URI,
    MEMO,
    EXTRA,
];

/// Columns with Bloom filters: the equality lookups a segment must answer without a scan (and
/// every custom Keyword column).
pub(super) const BLOOM_FILTERED: [&str; 3] = [WORKFLOW_ID, RUN_ID, WORKFLOW_TYPE];

/// Columns with few distinct values, the only dictionary-encoded ones.
pub(super) const DICTIONARY_ENCODED: [&str; 4] = [NAMESPACE_ID, NAMESPACE, WORKFLOW_TYPE, STATUS];

/// What a segment says of itself (JSON in the `archiver.segment` metadata).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Description {
    pub(super) version: u32,
    /// The custom attribute columns, in file order after the system columns.
    pub(super) attributes: Vec<(String, SearchAttributeType)>,
}

impl Description {
    /// The custom columns for `attributes`: every declared attribute whose name does not
    /// collide (ignoring case, as most engines do) with a system column. A colliding one is kept
    /// in `Extra` only.
    pub(super) fn for_attributes(attributes: &SearchAttributes) -> Description {
        let attributes = attributes
            .custom()
            .filter(|a| !SYSTEM.iter().any(|s| s.eq_ignore_ascii_case(&a.name)))
            .map(|a| (a.name.clone(), a.ty))
            .collect();
        Description {
            version: VERSION,
            attributes,
        }
    }

    pub(super) fn to_json(&self) -> String {
        // A Vec of (String, enum) always serializes.
        serde_json::json!({
            "version": self.version,
            "attributes": self
                .attributes
                .iter()
                .map(|(name, ty)| [name.as_str(), ty.name()])
                .collect::<Vec<_>>(),
        })
        .to_string()
    }

    pub(super) fn from_json(text: &str) -> Result<Description, SegmentError> {
        #[derive(Deserialize)]
        struct Raw {
            version: u32,
            attributes: Vec<(String, String)>,
        }
        let raw: Raw = serde_json::from_str(text).map_err(|e| {
            SegmentError::corrupted(format!("{METADATA_KEY} metadata does not decode: {e}"))
        })?;
        if raw.version != VERSION {
            return Err(SegmentError::UnsupportedVersion(raw.version));
        }
        let attributes = raw
            .attributes
            .into_iter()
            .map(|(name, ty)| match ty.parse() {
                Ok(ty) => Ok((name, ty)),
                Err(_) => Err(SegmentError::corrupted(format!(
                    "{METADATA_KEY} metadata names an unknown type {ty:?} for column {name:?}"
                ))),
            })
            .collect::<Result<_, _>>()?;
        Ok(Description {
            version: raw.version,
            attributes,
        })
    }

    /// The Arrow schema of a segment with these custom columns.
    pub(super) fn schema(&self) -> Arc<Schema> {
        let mut fields: Vec<Field> = SYSTEM
            .iter()
            .map(|name| {
                let (ty, nullable) = match *name {
                    START_TIME | EXECUTION_TIME | CLOSE_TIME => (timestamp(), false),
                    HISTORY_LENGTH => (DataType::Int64, false),
                    EXECUTION_DURATION => (DataType::Int64, true),
                    MEMO | EXTRA => (DataType::Utf8, true),
                    _ => (DataType::Utf8, false),
                };
                Field::new(*name, ty, nullable)
            })
            .collect();
        fields.extend(
            self.attributes
                .iter()
                .map(|(name, ty)| Field::new(name, attribute_type(*ty), true)),
        );
        Arc::new(Schema::new(fields))
    }
}

/// Microseconds, UTC: the timestamp every engine reads.
pub(super) fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// The Arrow type of a custom attribute's column.
pub(super) fn attribute_type(ty: SearchAttributeType) -> DataType {
    match ty {
        SearchAttributeType::Keyword | SearchAttributeType::Text => DataType::Utf8,
        SearchAttributeType::Int => DataType::Int64,
        SearchAttributeType::Double => DataType::Float64,
        SearchAttributeType::Bool => DataType::Boolean,
        SearchAttributeType::Datetime => timestamp(),
        SearchAttributeType::KeywordList => {
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
        }
    }
}
