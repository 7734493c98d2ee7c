//! `Extra`: what a record holds that its typed columns cannot give back exactly.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use visibility_query::{AttributeValue, SearchAttributeType};

use super::SegmentError;

/// A time as the microsecond the column holds plus the nanoseconds below it (0..1000).
pub(super) fn split_time(time: Timestamp) -> (i64, i16) {
    let nanos = time.as_nanosecond();
    let micros = nanos.div_euclid(1000);
    // Timestamps span +-10,000 years: microseconds fit in i64.
    (micros as i64, nanos.rem_euclid(1000) as i16)
}

/// The time `split_time` split.
pub(super) fn join_time(micros: i64, below: i16) -> Result<Timestamp, SegmentError> {
    Timestamp::from_nanosecond(i128::from(micros) * 1000 + i128::from(below))
        .map_err(|e| SegmentError::corrupted(format!("time out of range: {e}")))
}

/// A typed value as its column gives it back, rendered as the engine stringifies values.
pub(super) fn render(value: &AttributeValue) -> String {
    match value {
        AttributeValue::Keyword(s) | AttributeValue::Text(s) => s.clone(),
        AttributeValue::Int(n) => n.to_string(),
        AttributeValue::Double(x) => x.to_string(),
        AttributeValue::Bool(b) => b.to_string(),
        AttributeValue::Datetime(t) => t.to_string(),
        AttributeValue::KeywordList(items) => {
            serde_json::to_string(items).unwrap_or_else(|_| String::from("[]"))
        }
    }
}

/// The value a typed column holds for `raw`, and whether it gives `raw` back exactly.
pub(super) fn typed(ty: SearchAttributeType, raw: &str) -> (Option<AttributeValue>, bool) {
    let Some(value) = AttributeValue::read(ty, raw) else {
        return (None, false);
    };
    // The column holds microseconds: a Datetime keeps what survives that.
    let value = match value {
        AttributeValue::Datetime(t) => {
            let (micros, _) = split_time(t);
            match join_time(micros, 0) {
                Ok(t) => AttributeValue::Datetime(t),
                Err(_) => return (None, false),
            }
        }
        other => other,
    };
    let exact = render(&value) == raw;
    (Some(value), exact)
}

/// The `Extra` column of one row; empty parts are left out of the JSON.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Extra {
    /// Nanoseconds below the microsecond of StartTime, ExecutionTime, CloseTime.
    #[serde(default, rename = "t", skip_serializing_if = "is_zero")]
    pub(super) below_micros: [i16; 3],
    /// Search attributes' stored text where no typed column gives it back.
    #[serde(default, rename = "a", skip_serializing_if = "BTreeMap::is_empty")]
    pub(super) attributes: BTreeMap<String, String>,
}

fn is_zero(t: &[i16; 3]) -> bool {
    *t == [0; 3]
}

impl Extra {
    /// The JSON text, or `None` when there is nothing to keep.
    pub(super) fn to_json(&self) -> Option<String> {
        (*self != Extra::default()).then(|| {
            // Integers and a string map always serialize.
            serde_json::to_string(self).unwrap_or_default()
        })
    }

    pub(super) fn from_json(text: Option<&str>) -> Result<Extra, SegmentError> {
        let Some(text) = text else {
            return Ok(Extra::default());
        };
        let extra: Extra = serde_json::from_str(text)
            .map_err(|e| SegmentError::corrupted(format!("Extra does not decode: {e}")))?;
        if extra.below_micros.iter().any(|n| !(0..1000).contains(n)) {
            return Err(SegmentError::corrupted(
                "Extra holds a sub-microsecond part outside 0..1000",
            ));
        }
        Ok(extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SearchAttributeType as T;

    #[test]
    fn split_and_join_are_inverse_before_and_after_the_epoch() {
        for text in [
            "2026-12-01T10:00:05.123456789Z",
            "1969-12-31T23:59:59.999999999Z",
            "0001-01-01T00:00:00Z",
            "1970-01-01T00:00:00Z",
        ] {
            let t: Timestamp = text.parse().unwrap();
            let (micros, below) = split_time(t);
            assert!((0..1000).contains(&below), "{text}");
            assert_eq!(join_time(micros, below).unwrap(), t, "{text}");
        }
    }

    #[test]
    fn typed_columns_say_when_they_give_the_text_back() {
        assert_eq!(typed(T::Int, "42"), (Some(AttributeValue::Int(42)), true));
        assert_eq!(typed(T::Int, "042"), (Some(AttributeValue::Int(42)), false));
        assert_eq!(typed(T::Int, "1.5"), (None, false));
        assert_eq!(
            typed(T::Bool, "TRUE"),
            (Some(AttributeValue::Bool(true)), false)
        );
        assert!(typed(T::Datetime, "2026-01-02T03:04:05.123456Z").1);
        assert!(!typed(T::Datetime, "2026-01-02T03:04:05.123456789Z").1);
        assert!(typed(T::KeywordList, r#"["a","b"]"#).1);
        assert!(!typed(T::KeywordList, r#"["a", "b"]"#).1);
        assert!(typed(T::Text, "any text at all").1);
    }

    #[test]
    fn an_empty_extra_is_no_text() {
        assert_eq!(Extra::default().to_json(), None);
        assert_eq!(Extra::from_json(None).unwrap(), Extra::default());
        assert!(Extra::from_json(Some(r#"{"t":[0,0,1000]}"#)).is_err());
    }
}
