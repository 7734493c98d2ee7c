//! [`EventFields`]: the members of an event the archiver does not interpret, kept as one piece
//! of compact JSON text.
//!
//! An archiver stores attributes, it never reads them. Holding them as the text of one JSON
//! object (one allocation per event) instead of `serde_json::Value` trees (one per string, map
//! and array inside them) makes writing an event a copy and dropping it one free: for the
//! histories in `benches/history.rs`, encoding and dropping trees cost several times what the
//! disk does.

use std::borrow::Cow;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// Named JSON values in order (a name appears once), held as one compact JSON object.
///
/// ```
/// use archiver_core::history::EventFields;
/// use serde_json::json;
///
/// let mut fields = EventFields::new();
/// fields.insert("activityTaskScheduledEventAttributes", json!({"activityId": "7", "attempt": 1}));
/// fields.insert("links", json!([]));
/// assert_eq!(
///     fields.as_json(),
///     r#"{"activityTaskScheduledEventAttributes":{"activityId":"7","attempt":1},"links":[]}"#,
/// );
/// assert_eq!(fields.value("activityTaskScheduledEventAttributes").unwrap()["attempt"], 1);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EventFields {
    /// A compact JSON object with at least one member, or empty (no allocation) for none.
    object: Box<str>,
}

/// The members of an object, borrowed from its text.
type Members<'a> = Vec<(Cow<'a, str>, &'a RawValue)>;

impl EventFields {
    /// No fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value` (replacing an earlier value, keeping its place).
    pub fn insert(&mut self, name: &str, value: Value) {
        // `Value`'s Display is compact JSON and cannot fail; RawValue only re-checks it.
        let raw = RawValue::from_string(value.to_string())
            .expect("serde_json writes valid JSON for a Value");
        self.insert_raw(name, &raw);
    }

    /// Sets `name` to the JSON text `raw` (compacted: whitespace outside strings removed).
    pub fn insert_raw(&mut self, name: &str, raw: &RawValue) {
        let raw = compact(raw);
        let mut members = self.members();
        match members.iter_mut().find(|(n, _)| n == name) {
            Some((_, slot)) => *slot = &raw,
            None => members.push((Cow::Borrowed(name), &raw)),
        }
        self.object = write_object(&members);
    }

    /// The JSON text of `name`.
    pub fn get(&self, name: &str) -> Option<&RawValue> {
        self.members()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, raw)| raw)
    }

    /// `name` parsed into a [`Value`] (a copy: for reading an attribute, not for bulk work).
    pub fn value(&self, name: &str) -> Option<Value> {
        // Text we hold is valid JSON, so the parse cannot fail.
        self.get(name)
            .and_then(|raw| serde_json::from_str(raw.get()).ok())
    }

    /// Removes `name`, returning its JSON text.
    pub fn remove(&mut self, name: &str) -> Option<Box<RawValue>> {
        let mut members = self.members();
        let index = members.iter().position(|(n, _)| n == name)?;
        let (_, raw) = members.remove(index);
        let raw = raw.to_owned();
        self.object = write_object(&members);
        Some(raw)
    }

    /// The fields in order (names unescaped).
    pub fn iter(&self) -> impl Iterator<Item = (Cow<'_, str>, &RawValue)> {
        self.members().into_iter()
    }

    /// The names in order (unescaped).
    pub fn names(&self) -> impl Iterator<Item = Cow<'_, str>> {
        self.members().into_iter().map(|(name, _)| name)
    }

    /// How many fields there are.
    pub fn len(&self) -> usize {
        self.members().len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.object.is_empty()
    }

    /// The fields as one compact JSON object (`{}` when there are none).
    pub fn as_json(&self) -> &str {
        if self.object.is_empty() {
            "{}"
        } else {
            &self.object
        }
    }

    /// The members' text without the braces (`"a":1,"b":2`), empty when there are none: what an
    /// event's own object continues with.
    pub(super) fn members_json(&self) -> &str {
        self.object
            .get(1..self.object.len().saturating_sub(1))
            .unwrap_or("")
    }

    fn members(&self) -> Members<'_> {
        if self.object.is_empty() {
            return Vec::new();
        }
        // Only this module writes `object`, always a valid JSON object: the parse cannot fail.
        let parsed = serde_json::from_str::<BorrowedMembers<'_>>(&self.object);
        debug_assert!(parsed.is_ok(), "EventFields holds invalid JSON");
        parsed.map(|m| m.0).unwrap_or_default()
    }
}

/// Collects owned `(name, JSON text)` pairs, a repeated name keeping its first place and its last
/// value (as a JSON object read into a map would), then writes them as one object.
#[derive(Default)]
pub(super) struct FieldsBuilder {
    members: Vec<(String, Box<RawValue>)>,
}

impl FieldsBuilder {
    pub(super) fn push(&mut self, name: String, raw: Box<RawValue>) {
        let compacted = match compact(&raw) {
            Cow::Owned(compacted) => Some(compacted),
            Cow::Borrowed(_) => None,
        };
        let raw = compacted.unwrap_or(raw);
        match self.members.iter_mut().find(|(n, _)| *n == name) {
            Some((_, slot)) => *slot = raw,
            None => self.members.push((name, raw)),
        }
    }

    pub(super) fn build(self) -> EventFields {
        let members: Members<'_> = self
            .members
            .iter()
            .map(|(n, raw)| (Cow::Borrowed(n.as_str()), &**raw))
            .collect();
        EventFields {
            object: write_object(&members),
        }
    }
}

/// `{"name":value,...}`, or empty for no members.
fn write_object(members: &[(Cow<'_, str>, &RawValue)]) -> Box<str> {
    if members.is_empty() {
        return Box::default();
    }
    let mut out = String::with_capacity(
        2 + members
            .iter()
            .map(|(n, raw)| n.len() + raw.get().len() + 4)
            .sum::<usize>(),
    );
    out.push('{');
    for (i, (name, raw)) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // A name is written as a JSON string (escaped); writing to a String cannot fail.
        out.push_str(&Value::from(name.as_ref()).to_string());
        out.push(':');
        out.push_str(raw.get());
    }
    out.push('}');
    out.into_boxed_str()
}

/// `raw` without whitespace outside strings (borrowed when it has none).
fn compact(raw: &RawValue) -> Cow<'_, RawValue> {
    let text = raw.get().as_bytes();
    let mut in_string = false;
    let mut escaped = false;
    let mut out: Option<Vec<u8>> = None;
    for (i, &b) in text.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
            out.get_or_insert_with(|| text[..i].to_vec());
            continue;
        }
        if let Some(out) = &mut out {
            out.push(b);
        }
    }
    // Removing whitespace between tokens keeps valid UTF-8 JSON valid.
    match out
        .and_then(|out| String::from_utf8(out).ok())
        .and_then(|text| RawValue::from_string(text).ok())
    {
        Some(compacted) => Cow::Owned(compacted),
        None => Cow::Borrowed(raw),
    }
}

/// An object's members borrowed from its text (for reading our own `object`).
struct BorrowedMembers<'a>(Members<'a>);

impl<'de> Deserialize<'de> for BorrowedMembers<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = BorrowedMembers<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(name) = map.next_key::<Cow<'de, str>>()? {
                    members.push((name, map.next_value::<&'de RawValue>()?));
                }
                Ok(BorrowedMembers(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

impl fmt::Debug for EventFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_json())
    }
}

impl FromIterator<(String, Value)> for EventFields {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        let mut builder = FieldsBuilder::default();
        for (name, value) in iter {
            let raw = RawValue::from_string(value.to_string())
                .expect("serde_json writes valid JSON for a Value");
            builder.push(name, raw);
        }
        builder.build()
    }
}

impl Serialize for EventFields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.members())
    }
}

impl<'de> Deserialize<'de> for EventFields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor;
        impl<'de> Visitor<'de> for FieldsVisitor {
            type Value = EventFields;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EventFields, A::Error> {
                let mut builder = FieldsBuilder::default();
                while let Some(name) = map.next_key::<String>()? {
                    builder.push(name, map.next_value()?);
                }
                Ok(builder.build())
            }
        }
        deserializer.deserialize_map(FieldsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn whitespace_outside_strings_is_removed_inside_kept() {
        let fields: EventFields =
            serde_json::from_str("{ \"a\" : { \"k\" : [ 1 , \"x  \\\" y\\n\" ] } ,\n\"b\":\t2 }")
                .unwrap();
        assert_eq!(fields.get("a").unwrap().get(), r#"{"k":[1,"x  \" y\n"]}"#);
        assert_eq!(fields.get("b").unwrap().get(), "2");
        assert_eq!(fields.as_json(), r#"{"a":{"k":[1,"x  \" y\n"]},"b":2}"#);
        assert_eq!(serde_json::to_string(&fields).unwrap(), fields.as_json());
    }

    #[test]
    fn a_repeated_name_keeps_the_last_value_in_the_first_place() {
        let fields: EventFields = serde_json::from_str(r#"{"a":1,"b":2,"a":3}"#).unwrap();
        assert_eq!(fields.names().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(fields.value("a"), Some(json!(3)));
    }

    #[test]
    fn names_are_escaped_in_the_text_and_unescaped_when_read() {
        let mut fields = EventFields::new();
        fields.insert("quote\"and\\slash\n", json!(1));
        assert_eq!(fields.as_json(), r#"{"quote\"and\\slash\n":1}"#);
        assert_eq!(fields.names().collect::<Vec<_>>(), ["quote\"and\\slash\n"]);
        assert_eq!(fields.value("quote\"and\\slash\n"), Some(json!(1)));
    }

    #[test]
    fn insert_get_remove() {
        let mut fields: EventFields = [("x".to_string(), json!({"n": null}))]
            .into_iter()
            .collect();
        fields.insert("y", json!("text"));
        fields.insert("x", json!(2));
        assert_eq!(fields.len(), 2);
        assert_eq!(fields.as_json(), r#"{"x":2,"y":"text"}"#);
        assert_eq!(fields.remove("x").unwrap().get(), "2");
        assert!(fields.get("x").is_none());
        assert_eq!(format!("{fields:?}"), r#"{"y":"text"}"#);
        assert_eq!(fields.remove("y").unwrap().get(), r#""text""#);
        assert!(fields.is_empty());
        assert_eq!(fields.as_json(), "{}");
        assert_eq!(fields, EventFields::new());
    }
}
