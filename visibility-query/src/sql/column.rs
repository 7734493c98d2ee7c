//! The allow-list of column names: which column holds a checked field.

use std::borrow::Cow;

use crate::attributes::{PREDEFINED, SearchAttributeType as T, SearchAttributes, SystemField};
use crate::check::Field;

use super::SqlError;

/// How a column stores its values, which decides how conditions render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Text compared byte-wise.
    Keyword,
    /// `ExecutionStatus` as its integer.
    Status,
    Int,
    Double,
    Bool,
    /// A datetime (microseconds, UTC).
    Time,
    /// A JSON array of strings: KeywordList values, or Text tokens.
    List,
    /// A system attribute records do not carry: always missing.
    Absent,
}

impl Kind {
    pub(crate) fn of(ty: T) -> Kind {
        match ty {
            T::Keyword => Kind::Keyword,
            T::Text | T::KeywordList => Kind::List,
            T::Int => Kind::Int,
            T::Double => Kind::Double,
            T::Bool => Kind::Bool,
            T::Datetime => Kind::Time,
        }
    }
}

/// A column of `executions_visibility`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Column {
    /// Only ever a name from the allow-list: a system column, a predefined
    /// attribute's name, or a preallocated field such as `Keyword03`.
    pub(crate) name: Cow<'static, str>,
    pub(crate) kind: Kind,
}

/// The dedicated columns of Temporal's system attributes that records carry, by field.
pub(crate) fn system_column(f: SystemField) -> Column {
    let (name, kind) = match f {
        SystemField::WorkflowId => ("workflow_id", Kind::Keyword),
        SystemField::RunId => ("run_id", Kind::Keyword),
        SystemField::WorkflowType => ("workflow_type_name", Kind::Keyword),
        SystemField::ExecutionStatus => ("status", Kind::Status),
        SystemField::StartTime => ("start_time", Kind::Time),
        SystemField::ExecutionTime => ("execution_time", Kind::Time),
        SystemField::CloseTime => ("close_time", Kind::Time),
        SystemField::HistoryLength => ("history_length", Kind::Int),
        SystemField::ExecutionDuration => ("execution_duration", Kind::Int),
        SystemField::Unexposed => ("NULL", Kind::Absent),
    };
    Column {
        name: Cow::Borrowed(name),
        kind,
    }
}

/// The column holding `field`'s values.
pub(crate) fn column(field: &Field, attrs: &SearchAttributes) -> Result<Column, SqlError> {
    let (name, ty) = match field {
        Field::System(f) => return Ok(system_column(*f)),
        Field::Attr { name, ty } => (name.as_ref(), *ty),
    };
    let kind = Kind::of(ty);
    // A custom attribute first: it may be named like a field or a predefined
    // attribute never is (those are reserved).
    if let Some(c) = attrs.custom().find(|c| c.name == name) {
        let f = c
            .field
            .as_deref()
            .ok_or_else(|| SqlError::NoField(name.to_owned()))?;
        return preallocated(f, ty)
            .map(|n| Column {
                name: Cow::Owned(n),
                kind,
            })
            .ok_or_else(|| SqlError::NoField(name.to_owned()));
    }
    if let Some(&(n, _)) = PREDEFINED.iter().find(|(n, t)| *n == name && *t == ty) {
        return Ok(Column {
            name: Cow::Borrowed(n),
            kind,
        });
    }
    // A preallocated field queried by its own name.
    preallocated(name, ty)
        .map(|n| Column {
            name: Cow::Owned(n),
            kind,
        })
        .ok_or_else(|| SqlError::NoField(name.to_owned()))
}

/// The name of a preallocated field (`<Type><01..99>` of type `ty`), rebuilt
/// from its parts so that nothing but that shape reaches SQL text.
pub(crate) fn preallocated(field: &str, ty: T) -> Option<String> {
    let digits = field.strip_prefix(ty.name())?;
    let n: u8 = digits
        .parse()
        .ok()
        .filter(|_| digits.len() == 2 && digits.bytes().all(|b| b.is_ascii_digit()))?;
    (n >= 1).then(|| field_name(ty, n))
}

/// `Keyword03` for (Keyword, 3).
pub(crate) fn field_name(ty: T, n: u8) -> String {
    format!("{}{n:02}", ty.name())
}
