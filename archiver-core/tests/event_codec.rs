//! The history line codec on generated events: encoding is canonical (equal to serde_json's
//! output for the same batch, and equal after a decode-encode round trip), decoding gives back
//! the batch, and pretty-printed input or a `serde_json::Value` reads as the same events.

use archiver_core::history::{
    EventFields, EventType, History, HistoryEvent, decode_batches, encode_batch,
};
use proptest::prelude::*;
use serde_json::Value;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        // Quarters: exact in binary, so parsing the text back into a Value gives the same float.
        any::<i32>().prop_map(|n| Value::from(f64::from(n) / 4.0)),
        // Quotes, backslashes, control characters, newlines and non-ASCII inside strings.
        "[a-z \"\\\\\n\t\u{0}\u{1f}é€😀]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::vec(("[a-zA-Z\" ]{1,6}", inner), 0..4)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

fn event_type() -> impl Strategy<Value = EventType> {
    prop_oneof![
        (1i64..=60).prop_map(|n| EventType::from_number(n).unwrap_or(EventType::Unspecified)),
        Just(EventType::Unspecified),
        // Types newer than the crate (any name the reader accepts; the iterator refuses others).
        Just(EventType::Other("EVENT_TYPE_FROM_THE_FUTURE".into())),
        "[A-Za-z0-9_]{1,8}".prop_map(|name| EventType::from_name(&name).unwrap()),
    ]
}

fn event() -> impl Strategy<Value = HistoryEvent> {
    (
        any::<i64>(),
        prop::option::of(0i64..4_000_000_000_000_000_000),
        event_type(),
        any::<i64>(),
        any::<i64>(),
        prop::collection::vec(("[a-zA-Z_\"\\\\é]{1,10}", json_value()), 0..4),
    )
        .prop_map(
            |(event_id, nanos, event_type, version, task_id, fields)| HistoryEvent {
                event_id,
                event_time: nanos.map(|n| jiff::Timestamp::from_nanosecond(i128::from(n)).unwrap()),
                event_type,
                version,
                task_id,
                fields: fields
                    .into_iter()
                    .filter(|(name, _)| !TYPED_NAMES.contains(&name.as_str()))
                    .collect(),
            },
        )
}

/// Names the event reads as its typed fields, not as other fields.
const TYPED_NAMES: [&str; 9] = [
    "eventId",
    "event_id",
    "eventTime",
    "event_time",
    "eventType",
    "event_type",
    "version",
    "taskId",
    "task_id",
];

proptest! {
    #[test]
    fn lines_are_canonical_and_round_trip(events in prop::collection::vec(event(), 0..5)) {
        let batch = History::new(events);
        let line = encode_batch(&batch);
        // The line is serde_json's text of the batch (our Serialize), plus the newline.
        let mut serde_line = serde_json::to_vec(&batch).unwrap();
        serde_line.push(b'\n');
        prop_assert_eq!(&line, &serde_line);
        // It is JSON, with one line per batch.
        let text = std::str::from_utf8(&line).unwrap();
        prop_assert_eq!(text.matches('\n').count(), 1);
        let value: Value = serde_json::from_str(text).unwrap();
        // Back to the same batch, and to the same bytes.
        let decoded = decode_batches(&line).unwrap();
        let back = decoded[0].clone();
        prop_assert_eq!(&back, &batch);
        prop_assert_eq!(encode_batch(&back), line.clone());
        // serde_json::to_value sees the same JSON, and from_value reads it back.
        prop_assert_eq!(serde_json::to_value(&batch).unwrap(), value.clone());
        prop_assert_eq!(&serde_json::from_value::<History>(value.clone()).unwrap(), &batch);
        // Pretty-printed input reads as the same batch.
        let pretty: History = serde_json::from_str(&serde_json::to_string_pretty(&value).unwrap()).unwrap();
        prop_assert_eq!(pretty, batch);
    }
}

#[test]
fn fields_keep_their_order_and_text() {
    let mut fields = EventFields::new();
    fields.insert("zNew", serde_json::json!({"b": 1, "a": [true, null]}));
    fields.insert("links", serde_json::json!([]));
    let event = HistoryEvent {
        event_id: 3,
        event_type: EventType::TimerFired,
        fields,
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_string(&event).unwrap(),
        r#"{"eventId":"3","eventType":"EVENT_TYPE_TIMER_FIRED","zNew":{"b":1,"a":[true,null]},"links":[]}"#
    );
}
