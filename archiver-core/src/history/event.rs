//! `HistoryEvent` and `History` (one batch) in Temporal's protobuf-JSON shape.
//!
//! The common fields are typed; everything else (the `…EventAttributes`, `links`,
//! `userMetadata`, fields of newer protos) is kept verbatim as JSON, so nothing is lost and no
//! protobuf toolchain is needed. Writing is canonical protojson (lowerCamel names, int64 as
//! strings, enum names, zero values omitted); reading is lenient like Temporal's (int64 as number
//! or string, `null` as unset, proto field names, legacy enum names).

use jiff::Timestamp;
use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::EventType;

/// One history event.
///
/// ```
/// use archiver_core::history::{EventType, HistoryEvent};
/// let event: HistoryEvent = serde_json::from_str(
///     r#"{"eventId": 5, "eventType": "WorkflowTaskScheduled", "version": "7",
///         "workflowTaskScheduledEventAttributes": {"attempt": 1}}"#,
/// ).unwrap();
/// assert_eq!(event.event_type, EventType::WorkflowTaskScheduled);
/// assert_eq!(
///     serde_json::to_string(&event).unwrap(),
///     r#"{"eventId":"5","eventType":"EVENT_TYPE_WORKFLOW_TASK_SCHEDULED","version":"7","workflowTaskScheduledEventAttributes":{"attempt":1}}"#,
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HistoryEvent {
    /// The event id: 1 for the first event, contiguous within a run.
    pub event_id: i64,
    /// When the event happened.
    pub event_time: Option<Timestamp>,
    /// What happened.
    pub event_type: EventType,
    /// The failover version the event was written under.
    pub version: i64,
    /// The engine's task id.
    pub task_id: i64,
    /// Every other field (attributes included), verbatim and in input order.
    pub fields: Map<String, Value>,
}

/// One batch of events as the engine persisted it (`temporal.api.history.v1.History`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct History {
    /// The events, in id order.
    pub events: Vec<HistoryEvent>,
}

impl History {
    /// A batch of `events`.
    pub fn new(events: Vec<HistoryEvent>) -> Self {
        History { events }
    }

    /// The id of the first event, if any.
    pub fn first_event_id(&self) -> Option<i64> {
        self.events.first().map(|e| e.event_id)
    }

    /// The last event, if any.
    pub fn last_event(&self) -> Option<&HistoryEvent> {
        self.events.last()
    }
}

impl Serialize for History {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if !self.events.is_empty() {
            map.serialize_entry("events", &self.events)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for History {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(default)]
            events: Option<Vec<HistoryEvent>>,
        }
        let raw = Raw::deserialize(deserializer)?;
        Ok(History {
            events: raw.events.unwrap_or_default(),
        })
    }
}

/// Protojson writes Timestamps with 0, 3, 6 or 9 fractional digits.
fn format_time(time: Timestamp) -> String {
    let nanos = time.subsec_nanosecond();
    let digits = if nanos == 0 {
        0
    } else if nanos % 1_000_000 == 0 {
        3
    } else if nanos % 1_000 == 0 {
        6
    } else {
        9
    };
    format!("{time:.digits$}")
}

impl Serialize for HistoryEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if self.event_id != 0 {
            map.serialize_entry("eventId", &self.event_id.to_string())?;
        }
        if let Some(time) = self.event_time {
            map.serialize_entry("eventTime", &format_time(time))?;
        }
        if self.event_type != EventType::Unspecified {
            map.serialize_entry("eventType", self.event_type.name())?;
        }
        if self.version != 0 {
            map.serialize_entry("version", &self.version.to_string())?;
        }
        if self.task_id != 0 {
            map.serialize_entry("taskId", &self.task_id.to_string())?;
        }
        for (key, value) in &self.fields {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// Removes a field by its JSON name or its proto name, keeping the order of the rest.
fn take(fields: &mut Map<String, Value>, json_name: &str, proto_name: &str) -> Option<Value> {
    let value = fields
        .shift_remove(json_name)
        .or_else(|| fields.shift_remove(proto_name));
    value.filter(|v| !v.is_null())
}

fn int64<E: serde::de::Error>(name: &str, value: Option<Value>) -> Result<i64, E> {
    match value {
        None => Ok(0),
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| E::custom(format!("{name}: {n} is not an int64"))),
        Some(Value::String(s)) => s
            .parse()
            .map_err(|_| E::custom(format!("{name}: {s:?} is not an int64"))),
        Some(other) => Err(E::custom(format!("{name}: expected an int64, got {other}"))),
    }
}

impl<'de> Deserialize<'de> for HistoryEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut fields = Map::deserialize(deserializer)?;
        let event_id = int64("eventId", take(&mut fields, "eventId", "event_id"))?;
        let version = int64("version", take(&mut fields, "version", "version"))?;
        let task_id = int64("taskId", take(&mut fields, "taskId", "task_id"))?;
        let event_time = match take(&mut fields, "eventTime", "event_time") {
            None => None,
            Some(Value::String(s)) => Some(s.parse::<Timestamp>().map_err(|e| {
                D::Error::custom(format!("eventTime: {s:?} is not an RFC 3339 time: {e}"))
            })?),
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "eventTime: expected an RFC 3339 string, got {other}"
                )));
            }
        };
        let event_type = match take(&mut fields, "eventType", "event_type") {
            None => EventType::Unspecified,
            Some(Value::String(s)) => EventType::from_name(&s)
                .ok_or_else(|| D::Error::custom(format!("eventType: {s:?} is not an enum name")))?,
            Some(Value::Number(n)) => n
                .as_i64()
                .and_then(EventType::from_number)
                .ok_or_else(|| D::Error::custom(format!("eventType: unknown number {n}")))?,
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "eventType: expected a name or number, got {other}"
                )));
            }
        };
        Ok(HistoryEvent {
            event_id,
            event_time,
            event_type,
            version,
            task_id,
            fields,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Temporal's codec test vector (ref §11), whitespace normalized.
    const CANONICAL: &str = r#"{"events":[{"eventId":"130","eventTime":"1978-08-22T00:00:00Z","eventType":"EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED","version":"1234","requestCancelExternalWorkflowExecutionInitiatedEventAttributes":{"namespace":"some random target namespace","workflowExecution":{"workflowId":"some random target workflow ID","runId":"some random target run ID"},"control":"some random control","childWorkflowOnly":true}}]}"#;

    #[test]
    fn canonical_vector_round_trips_byte_for_byte() {
        let history: History = serde_json::from_str(CANONICAL).unwrap();
        let event = &history.events[0];
        assert_eq!(event.event_id, 130);
        assert_eq!(event.version, 1234);
        assert_eq!(
            event.event_type,
            EventType::RequestCancelExternalWorkflowExecutionInitiated
        );
        assert_eq!(
            event.event_time,
            Some("1978-08-22T00:00:00Z".parse().unwrap())
        );
        assert_eq!(serde_json::to_string(&history).unwrap(), CANONICAL);
    }

    #[test]
    fn legacy_input_reads_and_writes_canonically() {
        // Old gogo-era archives: numbers for int64, CamelCase enums, proto names, nulls.
        let legacy = r#"{"events":[{"event_id":130,"eventTime":"1978-08-22T00:00:00Z","eventType":"RequestCancelExternalWorkflowExecutionInitiated","version":1234,"taskId":null,"requestCancelExternalWorkflowExecutionInitiatedEventAttributes":{"namespace":"some random target namespace","workflowExecution":{"workflowId":"some random target workflow ID","runId":"some random target run ID"},"control":"some random control","childWorkflowOnly":true}}]}"#;
        let history: History = serde_json::from_str(legacy).unwrap();
        assert_eq!(serde_json::to_string(&history).unwrap(), CANONICAL);
    }

    #[test]
    fn unknown_fields_are_kept_in_order() {
        let input = r#"{"eventId":"1","zNewField":{"a":"1"},"links":[],"eventType":5}"#;
        let event: HistoryEvent = serde_json::from_str(input).unwrap();
        assert_eq!(event.event_type, EventType::WorkflowTaskScheduled);
        let keys: Vec<_> = event.fields.keys().cloned().collect();
        assert_eq!(keys, ["zNewField", "links"]);
        assert_eq!(
            serde_json::to_string(&event).unwrap(),
            r#"{"eventId":"1","eventType":"EVENT_TYPE_WORKFLOW_TASK_SCHEDULED","zNewField":{"a":"1"},"links":[]}"#
        );
    }

    #[test]
    fn fractional_times_use_protojson_precision() {
        let event = HistoryEvent {
            event_time: Some("2024-01-02T03:04:05.120Z".parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&event).unwrap(),
            r#"{"eventTime":"2024-01-02T03:04:05.120Z"}"#
        );
    }

    #[test]
    fn bad_values_are_errors_not_panics() {
        for bad in [
            r#"{"eventId":"x"}"#,
            r#"{"eventId":1.5}"#,
            r#"{"eventTime":"yesterday"}"#,
            r#"{"eventType":"no such thing!"}"#,
            r#"{"eventType":12345}"#,
            r#"[]"#,
        ] {
            assert!(serde_json::from_str::<HistoryEvent>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn empty_history_is_an_empty_object() {
        assert_eq!(serde_json::to_string(&History::default()).unwrap(), "{}");
        let h: History = serde_json::from_str(r#"{"events":null}"#).unwrap();
        assert!(h.events.is_empty());
    }
}
