//! Errors with a kind, a position and a caret display.

use std::fmt;
use std::sync::Arc;

/// What went wrong, in the categories Temporal's converters report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QueryErrorKind {
    /// The text is not a filter at all (syntax error).
    Malformed,
    /// Valid SQL that the list-filter language does not support (LIKE, functions, LIMIT ...).
    NotSupported,
    /// A well-formed construct that makes no sense as a filter (a literal on the left, a bare column ...).
    InvalidExpression,
    /// A literal of the wrong type or form for its search attribute.
    InvalidValue,
    /// A name that is not a search attribute.
    UnknownSearchAttribute,
    /// An operator the search attribute's type does not allow (`<` on Text ...).
    OperatorNotAllowed,
    /// The input is too large or too deeply nested.
    TooComplex,
}

impl QueryErrorKind {
    /// A stable snake_case name, as printed by the command-line checker.
    ///
    /// ```
    /// assert_eq!(visibility_query::QueryErrorKind::NotSupported.as_str(), "not_supported");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::NotSupported => "not_supported",
            Self::InvalidExpression => "invalid_expression",
            Self::InvalidValue => "invalid_value",
            Self::UnknownSearchAttribute => "unknown_search_attribute",
            Self::OperatorNotAllowed => "operator_not_allowed",
            Self::TooComplex => "too_complex",
        }
    }
}

impl fmt::Display for QueryErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parse or check failure: a kind, a message, and where in the input it is.
///
/// `Display` prints the message, then the offending line with a caret under the fault:
///
/// ```
/// let err = visibility_query::parse("WorkflowId = 'a' AND AND").unwrap_err();
/// assert_eq!(err.kind(), visibility_query::QueryErrorKind::Malformed);
/// assert_eq!((err.offset(), err.line(), err.column()), (21, 1, 22));
/// assert_eq!(
///     err.to_string(),
///     "malformed: syntax error near 'AND' at line 1, column 22\n  WorkflowId = 'a' AND AND\n                       ^"
/// );
/// ```
#[derive(Debug, Clone, thiserror::Error)]
pub struct QueryError {
    // Boxed so that every `Result<_, QueryError>` on the parser's hot path
    // stays a pointer wide instead of carrying ~80 bytes through each frame.
    detail: Box<Detail>,
}

#[derive(Debug, Clone)]
struct Detail {
    kind: QueryErrorKind,
    message: String,
    offset: usize,
    line: usize,
    column: usize,
    input: Arc<str>,
}

impl QueryError {
    /// Position is computed here, once, so that the hot path never tracks lines.
    pub(crate) fn new(
        kind: QueryErrorKind,
        message: impl Into<String>,
        input: &str,
        offset: usize,
    ) -> Self {
        let offset = floor_char_boundary(input, offset.min(input.len()));
        let before = &input[..offset];
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = input[line_start..offset].chars().count() + 1;
        QueryError {
            detail: Box::new(Detail {
                kind,
                message: message.into(),
                offset,
                line,
                column,
                input: input.into(),
            }),
        }
    }

    /// The category.
    pub fn kind(&self) -> QueryErrorKind {
        self.detail.kind
    }

    /// The message without position (for example `column name 'Foo' is not a valid search attribute`).
    pub fn message(&self) -> &str {
        &self.detail.message
    }

    /// Byte offset of the fault in [`input`](Self::input).
    pub fn offset(&self) -> usize {
        self.detail.offset
    }

    /// 1-based line of the fault.
    pub fn line(&self) -> usize {
        self.detail.line
    }

    /// 1-based column of the fault, counted in characters.
    pub fn column(&self) -> usize {
        self.detail.column
    }

    /// The filter text the error refers to.
    pub fn input(&self) -> &str {
        &self.detail.input
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &*self.detail;
        write!(
            f,
            "{}: {} at line {}, column {}",
            d.kind, d.message, d.line, d.column
        )?;
        let start = d.input[..d.offset].rfind('\n').map_or(0, |i| i + 1);
        let end = d.input[d.offset..]
            .find('\n')
            .map_or(d.input.len(), |i| d.offset + i);
        let line = &d.input[start..end];
        // Tabs keep their width in the caret line so the caret stays aligned.
        let pad: String = line[..d.offset - start]
            .chars()
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        write!(f, "\n  {line}\n  {pad}^")
    }
}
