//! The typed syntax tree of a list filter and its canonical text.
//!
//! Spans record where each piece came from, for error messages; they are left
//! out of equality so that a tree printed and parsed back compares equal.

use std::borrow::Cow;
use std::fmt;

/// A byte range of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    pub(crate) fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
}

/// A search-attribute name as written (backticks removed, case kept).
#[derive(Debug, Clone, Eq)]
pub struct Ident {
    /// The name.
    pub value: String,
    /// Where it was written.
    pub span: Span,
}

impl Ident {
    /// A name with an empty span.
    pub fn new(value: impl Into<String>) -> Self {
        Ident {
            value: value.into(),
            span: Span::default(),
        }
    }
}

impl PartialEq for Ident {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

/// A literal value: a string (either quote style), a number or a boolean.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `'text'` or `"text"`, escapes decoded.
    String(String),
    /// An integer that fits `i64` (a leading `-` or `+` is part of it).
    Integer(i64),
    /// A float (`1.5`, `1e3`, or an integer too large for `i64`); never negative or infinite.
    Float(f64),
    /// `TRUE` or `FALSE`.
    Boolean(bool),
}

/// A literal and where it was written.
#[derive(Debug, Clone)]
pub struct Literal {
    /// The value.
    pub value: Value,
    /// Where it was written.
    pub span: Span,
}

impl Literal {
    /// A literal with an empty span.
    pub fn new(value: Value) -> Self {
        Literal {
            value,
            span: Span::default(),
        }
    }
}

impl PartialEq for Literal {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

/// A comparison operator. `<>` parses as [`NotEq`](CompareOp::NotEq) and prints as `!=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `=`
    Eq,
    /// `!=` or `<>`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
}

impl CompareOp {
    /// The operator's text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::NotEq => "!=",
            Self::Lt => "<",
            Self::LtEq => "<=",
            Self::Gt => ">",
            Self::GtEq => ">=",
        }
    }
}

/// What a predicate tests about its attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// `name <op> value`
    Compare(CompareOp, Literal),
    /// `name [NOT] IN (v, ...)`; never empty.
    In {
        /// `NOT IN`
        negated: bool,
        /// The values.
        list: Vec<Literal>,
    },
    /// `name [NOT] BETWEEN low AND high` (inclusive).
    Between {
        /// `NOT BETWEEN`
        negated: bool,
        /// Lower bound.
        low: Literal,
        /// Upper bound.
        high: Literal,
    },
    /// `name [NOT] STARTS_WITH prefix`
    StartsWith {
        /// `NOT STARTS_WITH`
        negated: bool,
        /// The prefix.
        prefix: Literal,
    },
    /// `name IS [NOT] NULL`
    IsNull {
        /// `IS NOT NULL`
        negated: bool,
    },
}

impl Test {
    /// The operator as Temporal's messages name it (`'NOT IN'`, `'STARTS_WITH'`).
    pub fn operator(&self) -> &'static str {
        let (op, negated) = match self {
            Test::Compare(op, _) => return op.as_str(),
            Test::In { negated, .. } => ("IN", *negated),
            Test::Between { negated, .. } => ("BETWEEN", *negated),
            Test::StartsWith { negated, .. } => ("STARTS_WITH", *negated),
            Test::IsNull { negated } => return is_null_operator(*negated),
        };
        negated_operator(op, negated)
    }
}

/// One condition on one search attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Predicate {
    /// The attribute.
    pub name: Ident,
    /// The condition.
    pub test: Test,
}

/// A boolean expression. `And`/`Or` hold two or more operands: a chain such as
/// `a AND b AND c` is one node, so nesting depth only grows with parentheses and
/// `NOT`, which the parser limits.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// All operands hold.
    And(Vec<Expr>),
    /// At least one operand holds.
    Or(Vec<Expr>),
    /// The operand does not hold.
    Not(Box<Expr>),
    /// A condition on an attribute.
    Predicate(Predicate),
}

/// One `ORDER BY` key.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    /// The attribute.
    pub name: Ident,
    /// `DESC` (the default is `ASC`).
    pub descending: bool,
}

/// A parsed (not yet type-checked) list filter.
///
/// `Display` prints canonical text that parses back to an equal filter:
///
/// ```
/// use visibility_query::ListFilter;
/// let f: ListFilter = "workflowid_x = \"a\" and (RunId <> 'b' || `my attr` in (1,2)) order by StartTime desc"
///     .parse()
///     .unwrap();
/// let text = f.to_string();
/// assert_eq!(text, "workflowid_x = 'a' AND (RunId != 'b' OR `my attr` IN (1, 2)) ORDER BY StartTime DESC");
/// assert_eq!(text.parse::<ListFilter>().unwrap(), f);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListFilter {
    /// The condition; `None` matches everything.
    pub filter: Option<Expr>,
    /// The `GROUP BY` attribute.
    pub group_by: Option<Ident>,
    /// The `ORDER BY` keys, in order.
    pub order_by: Vec<OrderBy>,
}

/// A name as the parser hands it on: borrowed from the input unless it had
/// to be decoded (doubled backticks) or joined (`t.name`).
#[derive(Debug, Clone)]
pub(crate) struct NameRef<'a> {
    pub(crate) value: Cow<'a, str>,
    pub(crate) span: Span,
}

impl NameRef<'_> {
    /// The empty name of a predicate whose deferred error already refuses it.
    pub(crate) fn placeholder() -> Self {
        NameRef {
            value: Cow::Borrowed(""),
            span: Span::default(),
        }
    }

    pub(crate) fn into_ident(self) -> Ident {
        Ident {
            value: self.value.into_owned(),
            span: self.span,
        }
    }
}

/// A [`Value`] whose string is borrowed when it can be: from the input
/// (no escapes) or from a [`Value`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl<'a> From<&'a Value> for Val<'a> {
    fn from(v: &'a Value) -> Self {
        match v {
            Value::String(s) => Val::Str(Cow::Borrowed(s)),
            Value::Integer(n) => Val::Int(*n),
            Value::Float(x) => Val::Float(*x),
            Value::Boolean(b) => Val::Bool(*b),
        }
    }
}

/// A [`Literal`] with a borrowed value.
#[derive(Debug, Clone)]
pub(crate) struct Lit<'a> {
    pub(crate) value: Val<'a>,
    pub(crate) span: Span,
}

impl Lit<'_> {
    /// A value with no place in the text (the parser already refused what was there).
    pub(crate) fn placeholder() -> Self {
        Lit {
            value: Val::Bool(false),
            span: Span::default(),
        }
    }

    pub(crate) fn into_literal(self) -> Literal {
        let value = match self.value {
            Val::Str(s) => Value::String(s.into_owned()),
            Val::Int(n) => Value::Integer(n),
            Val::Float(x) => Value::Float(x),
            Val::Bool(b) => Value::Boolean(b),
        };
        Literal {
            value,
            span: self.span,
        }
    }
}

impl<'a> From<&'a Literal> for Lit<'a> {
    fn from(l: &'a Literal) -> Self {
        Lit {
            value: Val::from(&l.value),
            span: l.span,
        }
    }
}

/// A [`Test`] with borrowed literals: what the parser hands on, and what the
/// checker reads.
#[derive(Debug, Clone)]
pub(crate) enum TestRef<'a> {
    Compare(CompareOp, Lit<'a>),
    In {
        negated: bool,
        list: Vec<Lit<'a>>,
    },
    Between {
        negated: bool,
        low: Lit<'a>,
        high: Lit<'a>,
    },
    StartsWith {
        negated: bool,
        prefix: Lit<'a>,
    },
    IsNull {
        negated: bool,
    },
}

impl TestRef<'_> {
    pub(crate) fn into_test(self) -> Test {
        match self {
            TestRef::Compare(op, l) => Test::Compare(op, l.into_literal()),
            TestRef::In { negated, list } => Test::In {
                negated,
                list: list.into_iter().map(Lit::into_literal).collect(),
            },
            TestRef::Between { negated, low, high } => Test::Between {
                negated,
                low: low.into_literal(),
                high: high.into_literal(),
            },
            TestRef::StartsWith { negated, prefix } => Test::StartsWith {
                negated,
                prefix: prefix.into_literal(),
            },
            TestRef::IsNull { negated } => Test::IsNull { negated },
        }
    }

    /// The operator as Temporal's messages name it; see [`Test::operator`].
    pub(crate) fn operator(&self) -> &'static str {
        let (op, negated) = match self {
            TestRef::Compare(op, _) => return op.as_str(),
            TestRef::In { negated, .. } => ("IN", *negated),
            TestRef::Between { negated, .. } => ("BETWEEN", *negated),
            TestRef::StartsWith { negated, .. } => ("STARTS_WITH", *negated),
            TestRef::IsNull { negated } => return is_null_operator(*negated),
        };
        negated_operator(op, negated)
    }
}

impl<'a> From<&'a Test> for TestRef<'a> {
    fn from(t: &'a Test) -> Self {
        match t {
            Test::Compare(op, l) => TestRef::Compare(*op, l.into()),
            Test::In { negated, list } => TestRef::In {
                negated: *negated,
                list: list.iter().map(Lit::from).collect(),
            },
            Test::Between { negated, low, high } => TestRef::Between {
                negated: *negated,
                low: low.into(),
                high: high.into(),
            },
            Test::StartsWith { negated, prefix } => TestRef::StartsWith {
                negated: *negated,
                prefix: prefix.into(),
            },
            Test::IsNull { negated } => TestRef::IsNull { negated: *negated },
        }
    }
}

fn is_null_operator(negated: bool) -> &'static str {
    if negated { "IS NOT NULL" } else { "IS NULL" }
}

fn negated_operator(op: &'static str, negated: bool) -> &'static str {
    match (op, negated) {
        (op, false) => op,
        ("IN", true) => "NOT IN",
        ("BETWEEN", true) => "NOT BETWEEN",
        (_, true) => "NOT STARTS_WITH",
    }
}

/// Reserved words of the MySQL grammar Temporal's parser uses: never bare names.
/// Sorted, lower case, for binary search.
pub(crate) const RESERVED: &[&str] = &[
    "add",
    "all",
    "alter",
    "analyze",
    "and",
    "as",
    "asc",
    "auto_increment",
    "between",
    "binary",
    "boolean",
    "by",
    "case",
    "cast",
    "collate",
    "column",
    "constraint",
    "convert",
    "create",
    "cross",
    "current_date",
    "current_time",
    "current_timestamp",
    "database",
    "databases",
    "default",
    "delete",
    "desc",
    "describe",
    "distinct",
    "div",
    "drop",
    "else",
    "end",
    "escape",
    "exists",
    "explain",
    "extended",
    "false",
    "for",
    "force",
    "from",
    "full",
    "group",
    "group_concat",
    "having",
    "if",
    "ignore",
    "in",
    "index",
    "inner",
    "insert",
    "interval",
    "into",
    "is",
    "join",
    "key",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "lock",
    "match",
    "maxvalue",
    "mod",
    "natural",
    "next",
    "not",
    "null",
    "on",
    "or",
    "order",
    "outer",
    "processlist",
    "regexp",
    "rename",
    "replace",
    "right",
    "rlike",
    "schema",
    "select",
    "separator",
    "set",
    "show",
    "sql_cache",
    "sql_no_cache",
    "starts_with",
    "straight_join",
    "stream",
    "substr",
    "substring",
    "table",
    "tables",
    "then",
    "to",
    "true",
    "union",
    "unique",
    "update",
    "use",
    "using",
    "utc_date",
    "utc_time",
    "utc_timestamp",
    "values",
    "when",
    "where",
];

/// Whether a bare word is reserved (ASCII case-insensitive), without allocating.
pub(crate) fn is_reserved(word: &str) -> bool {
    if word.len() > 20 {
        return false;
    }
    let mut buf = [0u8; 20];
    let lower = &mut buf[..word.len()];
    lower.copy_from_slice(word.as_bytes());
    lower.make_ascii_lowercase();
    RESERVED
        .binary_search_by(|k| k.as_bytes().cmp(lower))
        .is_ok()
}

fn is_bare(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_' || b == b'@')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'@')
        && !is_reserved(name)
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_bare(&self.value) {
            f.write_str(&self.value)
        } else {
            f.write_str("`")?;
            for (i, part) in self.value.split('`').enumerate() {
                if i > 0 {
                    f.write_str("``")?;
                }
                f.write_str(part)?;
            }
            f.write_str("`")
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Val::from(self).fmt(f)
    }
}

impl fmt::Display for Val<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Val::Str(s) => {
                f.write_str("'")?;
                let mut rest: &str = s;
                while let Some(i) = rest.find(['\'', '\\']) {
                    f.write_str(&rest[..i])?;
                    f.write_str(if rest.as_bytes()[i] == b'\'' {
                        "''"
                    } else {
                        "\\\\"
                    })?;
                    rest = &rest[i + 1..];
                }
                f.write_str(rest)?;
                f.write_str("'")
            }
            Val::Int(n) => write!(f, "{n}"),
            // `{:?}` keeps a `.0` or an exponent, so the text lexes as a float again.
            Val::Float(x) => write!(f, "{x:?}"),
            Val::Bool(true) => f.write_str("TRUE"),
            Val::Bool(false) => f.write_str("FALSE"),
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.name)?;
        let not = |negated: bool| if negated { "NOT " } else { "" };
        match &self.test {
            Test::Compare(op, v) => write!(f, "{} {v}", op.as_str()),
            Test::In { negated, list } => {
                write!(f, "{}IN (", not(*negated))?;
                for (i, v) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    v.fmt(f)?;
                }
                f.write_str(")")
            }
            Test::Between { negated, low, high } => {
                write!(f, "{}BETWEEN {low} AND {high}", not(*negated))
            }
            Test::StartsWith { negated, prefix } => {
                write!(f, "{}STARTS_WITH {prefix}", not(*negated))
            }
            Test::IsNull { negated } => write!(f, "IS {}NULL", not(*negated)),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A nested operand needs parentheses exactly when the parser would
        // otherwise merge it into its parent's chain or bind it differently.
        fn operand(f: &mut fmt::Formatter<'_>, e: &Expr, wrap: bool) -> fmt::Result {
            if wrap { write!(f, "({e})") } else { e.fmt(f) }
        }
        match self {
            Expr::And(items) => {
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" AND ")?;
                    }
                    operand(f, e, matches!(e, Expr::And(_) | Expr::Or(_)))?;
                }
                Ok(())
            }
            Expr::Or(items) => {
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" OR ")?;
                    }
                    operand(f, e, matches!(e, Expr::Or(_)))?;
                }
                Ok(())
            }
            Expr::Not(e) => {
                f.write_str("NOT ")?;
                operand(f, e, matches!(**e, Expr::And(_) | Expr::Or(_)))
            }
            Expr::Predicate(p) => p.fmt(f),
        }
    }
}

impl fmt::Display for ListFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if let Some(e) = &self.filter {
            e.fmt(f)?;
            sep = " ";
        }
        if let Some(g) = &self.group_by {
            write!(f, "{sep}GROUP BY {g}")?;
            sep = " ";
        }
        for (i, o) in self.order_by.iter().enumerate() {
            f.write_str(if i == 0 { sep } else { "," })?;
            write!(
                f,
                "{}{}{}",
                if i == 0 { "ORDER BY " } else { " " },
                o.name,
                if o.descending { " DESC" } else { "" }
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_is_sorted() {
        assert!(RESERVED.windows(2).all(|w| w[0] < w[1]));
        assert!(RESERVED.iter().all(|w| w.len() <= 20));
        assert!(is_reserved("OrDeR"));
        assert!(!is_reserved("Status"));
    }

    #[test]
    fn idents_quote_when_needed() {
        assert_eq!(Ident::new("WorkflowId").to_string(), "WorkflowId");
        assert_eq!(Ident::new("order").to_string(), "`order`");
        assert_eq!(Ident::new("a-b").to_string(), "`a-b`");
        assert_eq!(Ident::new("a`b").to_string(), "`a``b`");
        assert_eq!(Ident::new("1a").to_string(), "`1a`");
    }

    #[test]
    fn values_print_lexable() {
        assert_eq!(Value::String("it's \\".into()).to_string(), "'it''s \\\\'");
        assert_eq!(Value::Float(1.0).to_string(), "1.0");
        assert_eq!(Value::Float(1e300).to_string(), "1e300");
        assert_eq!(Value::Integer(-3).to_string(), "-3");
    }
}
