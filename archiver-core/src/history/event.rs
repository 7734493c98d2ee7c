//! `HistoryEvent` and `History` (one batch) in Temporal's protobuf-JSON shape.
//!
//! The common fields are typed; everything else (the `…EventAttributes`, `links`,
//! `userMetadata`, fields of newer protos) is kept as compact JSON text ([`EventFields`]), so
//! nothing is lost and no protobuf toolchain is needed. Writing is canonical protojson
//! (lowerCamel names, int64 as strings, enum names, zero values omitted), straight into bytes;
//! reading is lenient like Temporal's (int64 as number or string, `null` as unset, proto field
//! names, legacy enum names).
//!
//! Both types are JSON only: `Serialize` hands serde the JSON text as a
//! [`RawValue`](serde_json::value::RawValue), which serde_json's serializers (`to_string`,
//! `to_writer`, `to_value`) understand and other formats do not.

use std::fmt;
use std::io::Write as _;

use jiff::Timestamp;

use serde::de::{Error as _, MapAccess, Visitor};
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use super::fields::FieldsBuilder;
use super::{EventFields, EventType};

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
    /// Every other field (attributes included), as compact JSON text in input order.
    pub fields: EventFields,
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

    /// About (never less than) the length of [`write_json`](Self::write_json)'s output.
    pub(super) fn json_len_hint(&self) -> usize {
        // The typed fields take at most 150 bytes, names and punctuation included (an `Other`
        // event type name may be longer).
        12 + self
            .events
            .iter()
            .map(|e| 150 + e.event_type.name().len() + e.fields.members_json().len())
            .sum::<usize>()
    }

    /// Appends the batch's canonical protojson (`{"events":[...]}`, `{}` when empty) to `out`.
    pub(super) fn write_json(&self, out: &mut Vec<u8>) {
        if self.events.is_empty() {
            out.extend_from_slice(b"{}");
            return;
        }
        out.extend_from_slice(b"{\"events\":[");
        for (i, event) in self.events.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            event.write_json(out);
        }
        out.extend_from_slice(b"]}");
    }
}

impl Serialize for History {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_written(serializer, |out| self.write_json(out))
    }
}

/// Serializes what `write` appends (JSON we wrote ourselves) as raw JSON: serde_json's
/// serializers copy it, `serde_json::to_value` parses it.
fn serialize_written<S: Serializer>(
    serializer: S,
    write: impl FnOnce(&mut Vec<u8>),
) -> Result<S::Ok, S::Error> {
    let mut out = Vec::new();
    write(&mut out);
    let raw = String::from_utf8(out)
        .map_err(S::Error::custom)
        .and_then(|text| RawValue::from_string(text).map_err(S::Error::custom))?;
    raw.serialize(serializer)
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

/// Protojson's Timestamp text: RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits.
fn write_time(out: &mut Vec<u8>, time: Timestamp) {
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
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{time:.digits$}");
}

impl HistoryEvent {
    /// Appends the event's canonical protojson to `out`: the typed fields (zero values left
    /// out, int64 as strings, the enum by name), then [`fields`](Self::fields) as they are.
    pub(super) fn write_json(&self, out: &mut Vec<u8>) {
        let mut first = true;
        let mut key = |out: &mut Vec<u8>, name: &str| {
            if !std::mem::take(&mut first) {
                out.push(b',');
            }
            out.push(b'"');
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":");
        };
        out.push(b'{');
        if self.event_id != 0 {
            key(out, "eventId");
            write_int64(out, self.event_id);
        }
        if let Some(time) = self.event_time {
            key(out, "eventTime");
            out.push(b'"');
            write_time(out, time);
            out.push(b'"');
        }
        if self.event_type != EventType::Unspecified {
            key(out, "eventType");
            let name = self.event_type.name();
            if name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                out.push(b'"');
                out.extend_from_slice(name.as_bytes());
                out.push(b'"');
            } else {
                // `Other` holds any text a caller gave: written escaped (the iterator refuses it).
                let _ = serde_json::to_writer(&mut *out, name);
            }
        }
        for (name, value) in [("version", self.version), ("taskId", self.task_id)] {
            if value != 0 {
                key(out, name);
                write_int64(out, value);
            }
        }
        let members = self.fields.members_json();
        if !members.is_empty() {
            if !first {
                out.push(b',');
            }
            out.extend_from_slice(members.as_bytes());
        }
        out.push(b'}');
    }
}

/// An int64 as protojson writes it: a decimal string.
fn write_int64(out: &mut Vec<u8>, value: i64) {
    out.push(b'"');
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    out.push(b'"');
}

impl Serialize for HistoryEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_written(serializer, |out| self.write_json(out))
    }
}

/// The typed fields by JSON name and proto name; a JSON name wins over a proto name.
const TYPED: [(&str, &str); 5] = [
    ("eventId", "event_id"),
    ("eventTime", "event_time"),
    ("eventType", "event_type"),
    ("version", "version"),
    ("taskId", "task_id"),
];

/// The typed fields as read, before conversion: by [`TYPED`] index, JSON name then proto name.
#[derive(Default)]
struct TypedFields {
    json: [Option<Value>; 5],
    proto: [Option<Value>; 5],
}

impl TypedFields {
    /// Reads `name`'s value into its slot if it is a typed field; false when it is not.
    fn read<'de, A: MapAccess<'de>>(&mut self, name: &str, map: &mut A) -> Result<bool, A::Error> {
        for (i, (json, proto)) in TYPED.iter().enumerate() {
            let slot = if name == *json {
                &mut self.json[i]
            } else if name == *proto {
                &mut self.proto[i]
            } else {
                continue;
            };
            *slot = Some(map.next_value()?);
            return Ok(true);
        }
        Ok(false)
    }

    /// The value of the typed field with JSON name `json_name`, `null` as unset.
    fn take(&mut self, json_name: &str) -> Option<Value> {
        let i = TYPED.iter().position(|(json, _)| *json == json_name)?;
        self.json[i]
            .take()
            .or_else(|| self.proto[i].take())
            .filter(|v| !v.is_null())
    }
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
        deserializer.deserialize_map(EventVisitor)
    }
}

struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = HistoryEvent;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a history event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HistoryEvent, A::Error> {
        let mut typed = TypedFields::default();
        let mut fields = FieldsBuilder::default();
        while let Some(name) = map.next_key::<String>()? {
            if !typed.read(&name, &mut map)? {
                fields.push(name, map.next_value::<Box<RawValue>>()?);
            }
        }
        let fields = fields.build();
        let event_id = int64("eventId", typed.take("eventId"))?;
        let event_time = match typed.take("eventTime") {
            None => None,
            Some(Value::String(s)) => Some(s.parse::<Timestamp>().map_err(|e| {
                A::Error::custom(format!("eventTime: {s:?} is not an RFC 3339 time: {e}"))
            })?),
            Some(other) => {
                return Err(A::Error::custom(format!(
                    "eventTime: expected an RFC 3339 string, got {other}"
                )));
            }
        };
        let event_type = match typed.take("eventType") {
            None => EventType::Unspecified,
            Some(Value::String(s)) => EventType::from_name(&s)
                .ok_or_else(|| A::Error::custom(format!("eventType: {s:?} is not an enum name")))?,
            Some(Value::Number(n)) => n
                .as_i64()
                .and_then(EventType::from_number)
                .ok_or_else(|| A::Error::custom(format!("eventType: unknown number {n}")))?,
            Some(other) => {
                return Err(A::Error::custom(format!(
                    "eventType: expected a name or number, got {other}"
                )));
            }
        };
        Ok(HistoryEvent {
            event_id,
            event_time,
            event_type,
            version: int64("version", typed.take("version"))?,
            task_id: int64("taskId", typed.take("taskId"))?,
            fields,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector of Temporal's history JSON codec tests, whitespace normalized.
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
        let keys: Vec<_> = event.fields.names().collect();
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
