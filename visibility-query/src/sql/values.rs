//! Bind parameters, statements, and the values a store writes into columns.

use crate::attributes::SearchAttributeType as T;
use crate::stored::AttributeValue;

use super::Dialect;
use super::datetime::datetime_text;

/// A bind parameter. Datetimes travel as [`SqlParam::Text`] in the form of
/// [`datetime_text`] (the SQL text casts them where the engine needs it).
#[derive(Debug, Clone, PartialEq)]
pub enum SqlParam {
    /// A string (UTF-8).
    Text(String),
    /// A 64-bit integer.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

/// SQL text and its parameters, in placeholder order.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlStatement {
    /// The statement; values appear only as placeholders.
    pub sql: String,
    /// One value per placeholder, in order.
    pub params: Vec<SqlParam>,
}

/// The evaluator's Text tokenizer: lower-cased words; `_ . : '` join two word
/// characters. A store writes a Text column as the JSON array of these tokens.
///
/// ```
/// assert_eq!(visibility_query::sql::text_tokens("Order-processing v2"), ["order", "processing", "v2"]);
/// ```
pub fn text_tokens(s: &str) -> Vec<String> {
    crate::value::text_tokens(s)
}

/// The strings of an archived KeywordList value as the evaluator reads it: a
/// JSON array of strings, or else the whole text as one value.
///
/// ```
/// use visibility_query::sql::keyword_list;
/// assert_eq!(keyword_list(r#"["a","b"]"#), ["a", "b"]);
/// assert_eq!(keyword_list("plain"), ["plain"]);
/// ```
pub fn keyword_list(s: &str) -> Vec<String> {
    crate::value::keyword_list(s)
}

/// What a store writes into the column of a search attribute of type `ty`
/// whose archived (stringified) value is `raw`; `None` means `NULL`, which is
/// what the evaluator makes of a value that does not parse as its type.
///
/// KeywordList and Text give JSON arrays (of [`keyword_list`] and
/// [`text_tokens`]); Datetime gives [`datetime_text`]. An Int value that is not
/// an `i64` but a float is `None` (the evaluator would compare it as a float;
/// Temporal never archives one).
///
/// ```
/// use visibility_query::sql::{column_value, Dialect, SqlParam};
/// use visibility_query::SearchAttributeType as T;
/// assert_eq!(column_value(Dialect::Sqlite, T::Bool, "true"), Some(SqlParam::Bool(true)));
/// assert_eq!(column_value(Dialect::Sqlite, T::Int, "x"), None);
/// assert_eq!(
///     column_value(Dialect::Postgres, T::Datetime, "2024-01-02T03:04:05.123456789Z"),
///     Some(SqlParam::Text("2024-01-02 03:04:05.123456".into()))
/// );
/// assert_eq!(column_value(Dialect::MySql, T::Text, "Hello, World"), Some(SqlParam::Text(r#"["hello","world"]"#.into())));
/// ```
pub fn column_value(d: Dialect, ty: T, raw: &str) -> Option<SqlParam> {
    Some(match AttributeValue::read(ty, raw)? {
        AttributeValue::Keyword(s) => SqlParam::Text(s),
        text @ AttributeValue::Text(_) => SqlParam::Text(json_array(&text.text_tokens()?)),
        AttributeValue::KeywordList(items) => SqlParam::Text(json_array(&items)),
        AttributeValue::Int(n) => SqlParam::Int(n),
        AttributeValue::Double(x) => SqlParam::Float(x),
        AttributeValue::Bool(b) => SqlParam::Bool(b),
        AttributeValue::Datetime(t) => SqlParam::Text(datetime_text(d, t)),
    })
}

/// A JSON array of strings (RFC 8259 escaping).
pub(crate) fn json_array(items: &[String]) -> String {
    let mut out = String::from("[");
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push(']');
    out
}
