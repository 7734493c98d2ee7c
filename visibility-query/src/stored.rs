//! A stored search attribute value read as its declared type, exactly as the evaluator reads it,
//! for stores that keep typed columns (Parquet segments, SQL fields).

use jiff::Timestamp;

use crate::attributes::SearchAttributeType as T;
use crate::check::Field;
use crate::eval::{FieldValue, field_value};
use crate::record::RecordValues;
use crate::value::text_tokens;

/// A stored (stringified) search attribute value read as its type.
///
/// `Text` keeps the text and also offers its match tokens; a `Double` attribute whose stored
/// value is an integer reads as `Double`; an `Int` attribute whose stored value is a float is
/// not an `Int` and reads as `None` (the evaluator would compare it as a float; Temporal never
/// archives one).
///
/// ```
/// use visibility_query::{AttributeValue, SearchAttributeType as T};
/// assert_eq!(AttributeValue::read(T::Int, " 42 "), Some(AttributeValue::Int(42)));
/// assert_eq!(AttributeValue::read(T::Double, "2"), Some(AttributeValue::Double(2.0)));
/// assert_eq!(AttributeValue::read(T::Bool, "maybe"), None);
/// assert_eq!(
///     AttributeValue::read(T::KeywordList, r#"["a","b"]"#),
///     Some(AttributeValue::KeywordList(vec!["a".into(), "b".into()]))
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeValue {
    /// A Keyword value, as stored.
    Keyword(String),
    /// A Text value, as stored.
    Text(String),
    /// An Int value.
    Int(i64),
    /// A Double value.
    Double(f64),
    /// A Bool value.
    Bool(bool),
    /// A Datetime value.
    Datetime(Timestamp),
    /// A KeywordList's items.
    KeywordList(Vec<String>),
}

impl AttributeValue {
    /// Reads `raw` as a `ty` value the way the evaluator does; `None` when it does not parse
    /// (the evaluator then treats the attribute as missing).
    pub fn read(ty: T, raw: &str) -> Option<AttributeValue> {
        let name = "v";
        let record = RecordValues::default().with_attribute(name, raw);
        let field = Field::Attr {
            name: name.into(),
            ty,
        };
        Some(match field_value(&field, &record)? {
            FieldValue::Str(s) => AttributeValue::Keyword(s.to_owned()),
            FieldValue::Text(t) => AttributeValue::Text(t.to_owned()),
            FieldValue::List(items) => AttributeValue::KeywordList(items),
            FieldValue::Int(n) if ty == T::Double => AttributeValue::Double(n as f64),
            FieldValue::Int(n) => AttributeValue::Int(n),
            FieldValue::Float(x) if ty == T::Double => AttributeValue::Double(x),
            FieldValue::Float(_) => return None,
            FieldValue::Bool(b) => AttributeValue::Bool(b),
            FieldValue::Time(t) => AttributeValue::Datetime(t),
            FieldValue::Status(_) => return None,
        })
    }

    /// The tokens a `Text` value matches by (lower-cased words); `None` for other types.
    pub fn text_tokens(&self) -> Option<Vec<String>> {
        match self {
            AttributeValue::Text(t) => Some(text_tokens(t)),
            _ => None,
        }
    }
}
