//! Recursive-descent parser for the accepted subset of Temporal's grammar.
//!
//! The parser accepts the wider MySQL shapes people actually type (LIKE,
//! functions, arithmetic, literals on the left ...) so that it can say *why*
//! they are refused. Such refusals are deferred: a later syntax error wins, as
//! in Temporal, where the SQL parser runs before the converter looks at the tree.

use std::borrow::Cow;

use crate::ast::{
    CompareOp, Expr, Ident, ListFilter, Lit, NameRef, OrderBy, Predicate, Span, TestRef, Val,
};
use crate::error::{QueryError, QueryErrorKind as K};
use crate::lexer::{Kw, Lexer, Tok, Token, decode_quoted_name, decode_string};

/// Filters longer than this are refused before lexing (1 MiB; a 5 000-value IN list is far smaller).
pub const MAX_FILTER_LEN: usize = 1 << 20;

/// Nested `NOT`s, parentheses and unary signs allowed, as in Temporal's parser (199 pass, 200 fail).
pub const MAX_NESTING: usize = 200;

/// What the parser makes of the conditions it recognizes: the public tree
/// for [`parse`], or checked conditions straight away for
/// [`compile`](crate::compile), which so never builds a tree it would throw away.
pub(crate) trait Build<'a> {
    /// A condition.
    type Expr;
    /// Two or more conditions that all hold.
    fn and(&mut self, items: Vec<Self::Expr>) -> Self::Expr;
    /// Two or more conditions of which one holds.
    fn or(&mut self, items: Vec<Self::Expr>) -> Self::Expr;
    /// A negated condition.
    fn not(&mut self, inner: Self::Expr) -> Self::Expr;
    /// A test on a name (an empty placeholder name when a deferred error already refuses it).
    fn predicate(&mut self, name: NameRef<'a>, test: TestRef<'a>) -> Self::Expr;
}

/// Builds the public tree.
#[derive(Debug)]
struct Tree;

impl<'a> Build<'a> for Tree {
    type Expr = Expr;

    fn and(&mut self, items: Vec<Expr>) -> Expr {
        Expr::And(items)
    }

    fn or(&mut self, items: Vec<Expr>) -> Expr {
        Expr::Or(items)
    }

    fn not(&mut self, inner: Expr) -> Expr {
        Expr::Not(Box::new(inner))
    }

    fn predicate(&mut self, name: NameRef<'a>, test: TestRef<'a>) -> Expr {
        Expr::Predicate(Predicate {
            name: name.into_ident(),
            test: test.into_test(),
        })
    }
}

/// A parsed filter whose condition is whatever the [`Build`] made of it.
#[derive(Debug)]
pub(crate) struct Parsed<E> {
    pub(crate) filter: Option<E>,
    pub(crate) group_by: Option<Ident>,
    pub(crate) order_by: Vec<OrderBy>,
}

/// Something in value or name position that is not a plain name or literal.
#[derive(Debug)]
enum Operand<'a, E> {
    Name(NameRef<'a>),
    Lit(Lit<'a>),
    /// A parenthesized condition (boxed: it is rare here, and an unboxed
    /// condition would triple the size of every operand the parser moves).
    Cond(Box<E>, Span),
    /// A construct already judged: what it is, and the error category.
    Other {
        what: &'static str,
        kind: K,
        span: Span,
    },
}

#[derive(Debug)]
struct Parser<'a, 'b, B> {
    build: &'b mut B,
    src: &'a str,
    lexer: Lexer<'a>,
    tok: Token,
    prev_end: usize,
    depth: usize,
    /// The first semantic refusal, reported only if the whole text parses.
    deferred: Option<(K, String, usize)>,
}

/// Parses filter text into a [`ListFilter`].
pub(crate) fn parse(src: &str) -> Result<ListFilter, QueryError> {
    let p = parse_with(src, &mut Tree)?;
    Ok(ListFilter {
        filter: p.filter,
        group_by: p.group_by,
        order_by: p.order_by,
    })
}

/// Parses filter text, handing each condition to `build`.
pub(crate) fn parse_with<'a, B: Build<'a>>(
    src: &'a str,
    build: &mut B,
) -> Result<Parsed<B::Expr>, QueryError> {
    if src.len() > MAX_FILTER_LEN {
        return Err(QueryError::new(
            K::TooComplex,
            format!(
                "filter is {} bytes, more than the limit of {MAX_FILTER_LEN}",
                src.len()
            ),
            src,
            MAX_FILTER_LEN,
        ));
    }
    let mut lexer = Lexer::new(src);
    let tok = lexer.next_token()?;
    let mut p = Parser {
        build,
        src,
        lexer,
        tok,
        prev_end: 0,
        depth: 0,
        deferred: None,
    };
    let filter = p.query()?;
    match p.deferred {
        Some((kind, msg, at)) => Err(QueryError::new(kind, msg, src, at)),
        None => Ok(filter),
    }
}

impl<'a, B: Build<'a>> Parser<'a, '_, B> {
    fn text(&self, t: Token) -> &'a str {
        &self.src[t.start()..t.end()]
    }

    fn bump(&mut self) -> Result<Token, QueryError> {
        let t = self.tok;
        self.prev_end = t.end();
        self.tok = self.lexer.next_token()?;
        Ok(t)
    }

    fn is_kw(&self, kw: Kw) -> bool {
        self.tok.tok == Tok::Kw(kw)
    }

    fn eat_kw(&mut self, kw: Kw) -> Result<bool, QueryError> {
        if self.is_kw(kw) {
            self.bump()?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Non-reserved words with a meaning in one place (`LOCK IN SHARE MODE`, `IS UNKNOWN`).
    fn is_word(&self, word: &str) -> bool {
        self.tok.tok == Tok::Word && self.text(self.tok).eq_ignore_ascii_case(word)
    }

    fn expect_word(&mut self, word: &str) -> Result<(), QueryError> {
        if !self.is_word(word) {
            return Err(self.syntax_error());
        }
        self.bump()?;
        Ok(())
    }

    fn syntax_error(&self) -> QueryError {
        let msg = match self.tok.tok {
            Tok::Eof => "syntax error at end of input".to_owned(),
            _ => format!("syntax error near '{}'", self.text(self.tok)),
        };
        QueryError::new(K::Malformed, msg, self.src, self.tok.start())
    }

    fn expect_kw(&mut self, kw: Kw) -> Result<(), QueryError> {
        if self.eat_kw(kw)? {
            Ok(())
        } else {
            Err(self.syntax_error())
        }
    }

    fn expect(&mut self, tok: Tok) -> Result<Token, QueryError> {
        if self.tok.tok == tok {
            self.bump()
        } else {
            Err(self.syntax_error())
        }
    }

    fn defer(&mut self, kind: K, msg: impl Into<String>, at: usize) {
        if self.deferred.is_none() {
            self.deferred = Some((kind, msg.into(), at));
        }
    }

    fn enter(&mut self) -> Result<(), QueryError> {
        self.depth += 1;
        if self.depth >= MAX_NESTING {
            return Err(QueryError::new(
                K::TooComplex,
                format!(
                    "max nesting level ({MAX_NESTING}) reached near '{}'",
                    self.text(self.tok)
                ),
                self.src,
                self.tok.start(),
            ));
        }
        Ok(())
    }

    fn query(&mut self) -> Result<Parsed<B::Expr>, QueryError> {
        let mut q = Parsed {
            filter: None,
            group_by: None,
            order_by: Vec::new(),
        };
        if !matches!(self.tok.tok, Tok::Eof | Tok::Semicolon)
            && !self.is_kw(Kw::Group)
            && !self.is_kw(Kw::Order)
        {
            q.filter = Some(self.or_expr()?);
        }
        self.having()?;
        if self.is_kw(Kw::Group) {
            self.bump()?;
            self.expect_kw(Kw::By)?;
            q.group_by = Some(self.clause_name("GROUP BY")?);
            while self.tok.tok == Tok::Comma {
                let at = self.bump()?.start();
                self.defer(
                    K::NotSupported,
                    "'GROUP BY' clause supports only a single field",
                    at,
                );
                self.clause_name("GROUP BY")?;
            }
            self.having()?;
        }
        if self.is_kw(Kw::Order) {
            let at = self.bump()?.start();
            self.expect_kw(Kw::By)?;
            if q.group_by.is_some() {
                self.defer(
                    K::NotSupported,
                    "'ORDER BY' clause is not supported with 'GROUP BY' clause",
                    at,
                );
            }
            loop {
                let name = self.clause_name("ORDER BY")?;
                let descending = if self.eat_kw(Kw::Desc)? {
                    true
                } else {
                    self.eat_kw(Kw::Asc)?;
                    false
                };
                q.order_by.push(OrderBy { name, descending });
                if self.tok.tok != Tok::Comma {
                    break;
                }
                self.bump()?;
            }
        }
        if self.is_kw(Kw::Limit) {
            let at = self.bump()?.start();
            self.defer(K::NotSupported, "'LIMIT' clause is not supported", at);
            self.expect(Tok::Int)?;
            if self.tok.tok == Tok::Comma || self.is_word("offset") {
                self.bump()?;
                self.expect(Tok::Int)?;
            }
        }
        if self.is_kw(Kw::For) || self.is_kw(Kw::Lock) {
            let at = self.tok.start();
            self.defer(
                K::NotSupported,
                "locking clauses (FOR UPDATE, LOCK IN SHARE MODE) are not supported",
                at,
            );
            if self.eat_kw(Kw::For)? {
                self.expect_kw(Kw::Update)?;
            } else {
                self.bump()?;
                self.expect_kw(Kw::In)?;
                self.expect_word("share")?;
                self.expect_word("mode")?;
            }
        }
        if self.is_kw(Kw::Union) {
            return Err(QueryError::new(
                K::NotSupported,
                "'UNION' is not supported",
                self.src,
                self.tok.start(),
            ));
        }
        if self.tok.tok == Tok::Semicolon {
            self.bump()?;
        }
        if self.tok.tok != Tok::Eof {
            return Err(self.syntax_error());
        }
        Ok(q)
    }

    /// Temporal's parser accepts `HAVING` and its converters silently drop it;
    /// dropping a condition would widen results, so it is refused here.
    fn having(&mut self) -> Result<(), QueryError> {
        if self.is_kw(Kw::Having) {
            let at = self.bump()?.start();
            self.defer(K::NotSupported, "'HAVING' clause is not supported", at);
            self.or_expr()?;
        }
        Ok(())
    }

    fn clause_name(&mut self, clause: &str) -> Result<Ident, QueryError> {
        match self.operand()? {
            Operand::Name(id) => Ok(id.into_ident()),
            Operand::Lit(Lit { span, .. })
            | Operand::Cond(_, span)
            | Operand::Other { span, .. } => {
                self.defer(
                    K::NotSupported,
                    format!("'{clause}' accepts only search attribute names"),
                    span.start,
                );
                Ok(Ident::new(""))
            }
        }
    }

    fn or_expr(&mut self) -> Result<B::Expr, QueryError> {
        let first = self.and_expr()?;
        if !(self.is_kw(Kw::Or) || self.tok.tok == Tok::OrOr) {
            return Ok(first);
        }
        let mut items = Vec::with_capacity(4);
        items.push(first);
        while self.is_kw(Kw::Or) || self.tok.tok == Tok::OrOr {
            self.bump()?;
            items.push(self.and_expr()?);
        }
        Ok(self.build.or(items))
    }

    fn and_expr(&mut self) -> Result<B::Expr, QueryError> {
        let first = self.not_expr()?;
        if !(self.is_kw(Kw::And) || self.tok.tok == Tok::AndAnd) {
            return Ok(first);
        }
        let mut items = Vec::with_capacity(4);
        items.push(first);
        while self.is_kw(Kw::And) || self.tok.tok == Tok::AndAnd {
            self.bump()?;
            items.push(self.not_expr()?);
        }
        Ok(self.build.and(items))
    }

    fn not_expr(&mut self) -> Result<B::Expr, QueryError> {
        if self.is_kw(Kw::Not) {
            self.enter()?;
            self.bump()?;
            let inner = self.not_expr()?;
            self.depth -= 1;
            return Ok(self.build.not(inner));
        }
        if self.tok.tok == Tok::LParen {
            // Parentheses are taken here rather than in `atom`, so that each
            // nesting level costs three stack frames, not seven.
            let open = self.tok.start();
            self.enter()?;
            self.bump()?;
            let inner = self.or_expr()?;
            let close = self.expect(Tok::RParen)?;
            self.depth -= 1;
            if matches!(self.tok.tok, Tok::Plus | Tok::Minus | Tok::Arith) {
                return Err(self.syntax_error());
            }
            if !self.at_operator() {
                return Ok(inner);
            }
            let span = Span::new(open, close.end());
            return self.predicate_rest(Operand::Cond(Box::new(inner), span));
        }
        if self.tok.tok == Tok::Word {
            // The usual left side, a plain name before an operator, goes
            // straight to the test without building an operand.
            let t = self.bump()?;
            if self.at_operator() {
                let name = NameRef {
                    value: Cow::Borrowed(self.text(t)),
                    span: Span::new(t.start(), t.end()),
                };
                return self.test(name);
            }
            let first = self.name_rest(Cow::Borrowed(self.text(t)), t.start())?;
            let left = self.operand_rest(first)?;
            return self.predicate_rest(left);
        }
        let left = self.operand()?;
        self.predicate_rest(left)
    }

    /// The operator and value(s) after a predicate's left side, if any.
    fn at_operator(&self) -> bool {
        matches!(
            self.tok.tok,
            Tok::Eq | Tok::NotEq | Tok::Lt | Tok::LtEq | Tok::Gt | Tok::GtEq | Tok::NullSafeEq
        ) || matches!(
            self.tok.tok,
            Tok::Kw(
                Kw::Not
                    | Kw::In
                    | Kw::Between
                    | Kw::StartsWith
                    | Kw::Like
                    | Kw::Regexp
                    | Kw::Rlike
                    | Kw::Is
            )
        )
    }

    fn predicate_rest(&mut self, left: Operand<'a, B::Expr>) -> Result<B::Expr, QueryError> {
        if !self.at_operator() {
            return Ok(self.bare_condition(left));
        }
        // Temporal checks the left side before the value.
        let name = self.left_name(left);
        self.test(name)
    }

    /// The operator and value(s) of a predicate on `name`; the current token is an operator.
    fn test(&mut self, name: NameRef<'a>) -> Result<B::Expr, QueryError> {
        let op_at = self.tok.start();
        let cmp = match self.tok.tok {
            Tok::Eq => Some(CompareOp::Eq),
            Tok::NotEq => Some(CompareOp::NotEq),
            Tok::Lt => Some(CompareOp::Lt),
            Tok::LtEq => Some(CompareOp::LtEq),
            Tok::Gt => Some(CompareOp::Gt),
            Tok::GtEq => Some(CompareOp::GtEq),
            _ => None,
        };
        if let Some(op) = cmp {
            self.bump()?;
            let v = self.value()?;
            return Ok(self.build.predicate(name, TestRef::Compare(op, v)));
        }
        if self.tok.tok == Tok::NullSafeEq {
            self.bump()?;
            self.defer(K::NotSupported, "operator '<=>' is not supported", op_at);
            self.value()?;
            return Ok(self
                .build
                .predicate(name, TestRef::IsNull { negated: false }));
        }
        let negated = self.eat_kw(Kw::Not)?;
        let test = if self.eat_kw(Kw::In)? {
            self.expect(Tok::LParen)?;
            // Most lists are short: grown from one value, a list is copied at
            // the 2nd, 5th and 9th.
            let mut list = Vec::with_capacity(8);
            list.push(self.value()?);
            while self.tok.tok == Tok::Comma {
                self.bump()?;
                list.push(self.value()?);
            }
            self.expect(Tok::RParen)?;
            TestRef::In { negated, list }
        } else if self.eat_kw(Kw::Between)? {
            let low = self.value()?;
            self.expect_kw(Kw::And)?;
            let high = self.value()?;
            TestRef::Between { negated, low, high }
        } else if self.eat_kw(Kw::StartsWith)? {
            TestRef::StartsWith {
                negated,
                prefix: self.value()?,
            }
        } else if self.is_kw(Kw::Like) || self.is_kw(Kw::Regexp) || self.is_kw(Kw::Rlike) {
            let t = self.bump()?;
            let word = self.text(t).to_ascii_uppercase();
            let not = if negated { "NOT " } else { "" };
            self.defer(
                K::NotSupported,
                format!("operator '{not}{word}' is not supported; use STARTS_WITH for prefixes"),
                op_at,
            );
            let prefix = self.value()?;
            if word == "LIKE" && self.eat_kw(Kw::Escape)? {
                self.value()?;
            }
            TestRef::StartsWith { negated, prefix }
        } else if negated {
            return Err(self.syntax_error());
        } else if self.eat_kw(Kw::Is)? {
            let negated = self.eat_kw(Kw::Not)?;
            if !self.eat_kw(Kw::Null)? {
                if self.is_kw(Kw::True) || self.is_kw(Kw::False) || self.is_word("unknown") {
                    self.bump()?;
                    self.defer(
                        K::InvalidExpression,
                        "'IS' operator can only be used as 'IS NULL' or 'IS NOT NULL'",
                        op_at,
                    );
                } else {
                    return Err(self.syntax_error());
                }
            }
            TestRef::IsNull { negated }
        } else {
            return Err(self.syntax_error());
        };
        Ok(self.build.predicate(name, test))
    }

    /// An operand with no operator after it, used as a condition.
    fn bare_condition(&mut self, left: Operand<'a, B::Expr>) -> B::Expr {
        let placeholder = TestRef::IsNull { negated: false };
        match left {
            Operand::Cond(e, _) => *e,
            Operand::Name(id) => {
                self.defer(
                    K::InvalidExpression,
                    format!("incomplete expression: '{}' needs an operator", id.value),
                    id.span.start,
                );
                self.build.predicate(id, TestRef::IsNull { negated: true })
            }
            Operand::Lit(l) => {
                self.defer(
                    K::NotSupported,
                    "a literal is not a condition",
                    l.span.start,
                );
                self.build.predicate(NameRef::placeholder(), placeholder)
            }
            Operand::Other { what, kind, span } => {
                self.defer(kind, format!("{what} is not a condition"), span.start);
                self.build.predicate(NameRef::placeholder(), placeholder)
            }
        }
    }

    /// The attribute of a predicate; anything but a name is refused.
    fn left_name(&mut self, left: Operand<'a, B::Expr>) -> NameRef<'a> {
        match left {
            Operand::Name(id) => id,
            Operand::Lit(l) => {
                self.defer(
                    K::InvalidExpression,
                    "must be a column name but was a literal",
                    l.span.start,
                );
                NameRef::placeholder()
            }
            Operand::Cond(_, span) => {
                self.defer(
                    K::InvalidExpression,
                    "must be a column name but was a condition",
                    span.start,
                );
                NameRef::placeholder()
            }
            Operand::Other { what, kind, span } => {
                let kind = if kind == K::NotSupported {
                    kind
                } else {
                    K::InvalidExpression
                };
                self.defer(
                    kind,
                    format!("must be a column name but was {what}"),
                    span.start,
                );
                NameRef::placeholder()
            }
        }
    }

    /// A right-hand side: only a literal is accepted.
    fn value(&mut self) -> Result<Lit<'a>, QueryError> {
        // The usual value, one string, number or boolean token, is taken
        // without building an operand.
        let t = self.tok;
        let value = match t.tok {
            Tok::Str { escaped } => Val::Str(decode_string(self.text(t), escaped)),
            Tok::Kw(Kw::True) => Val::Bool(true),
            Tok::Kw(Kw::False) => Val::Bool(false),
            Tok::Int => unsigned(self.text(t)),
            Tok::Float => match self.text(t).parse::<f64>() {
                Ok(x) if x.is_finite() => Val::Float(x),
                _ => {
                    let o = self.operand()?;
                    return Ok(self.operand_value(o));
                }
            },
            _ => {
                let o = self.operand()?;
                return Ok(self.operand_value(o));
            }
        };
        self.bump()?;
        let lit = Lit {
            value,
            span: Span::new(t.start(), t.end()),
        };
        if !self.at_arith() {
            return Ok(lit);
        }
        let o = self.operand_rest(Operand::Lit(lit))?;
        Ok(self.operand_value(o))
    }

    /// A value position's operand as a literal; anything else is refused (deferred).
    fn operand_value(&mut self, o: Operand<'a, B::Expr>) -> Lit<'a> {
        match o {
            Operand::Lit(l) => l,
            Operand::Name(id) => {
                self.defer(
                    K::NotSupported,
                    format!("column name on the right side of comparison expression (did you forget to quote \"{}\"?)", id.value),
                    id.span.start,
                );
                Lit::placeholder()
            }
            Operand::Cond(_, span) => {
                self.defer(
                    K::InvalidExpression,
                    "unexpected value: a condition",
                    span.start,
                );
                Lit::placeholder()
            }
            Operand::Other { what, kind, span } => {
                self.defer(kind, format!("unexpected value: {what}"), span.start);
                Lit::placeholder()
            }
        }
    }

    /// An operand with MySQL's arithmetic and JSON operators, which are parsed only to be refused.
    fn operand(&mut self) -> Result<Operand<'a, B::Expr>, QueryError> {
        let first = self.unary()?;
        self.operand_rest(first)
    }

    fn at_arith(&self) -> bool {
        matches!(
            self.tok.tok,
            Tok::Plus | Tok::Minus | Tok::Arith | Tok::Kw(Kw::Div | Kw::Mod)
        )
    }

    /// Arithmetic after a first operand, if any.
    fn operand_rest(
        &mut self,
        first: Operand<'a, B::Expr>,
    ) -> Result<Operand<'a, B::Expr>, QueryError> {
        if !self.at_arith() {
            return Ok(first);
        }
        let start = span_of(&first).start;
        let mut end = start;
        while self.at_arith() {
            self.bump()?;
            end = span_of(&self.unary()?).end;
        }
        Ok(Operand::Other {
            what: "an arithmetic expression",
            kind: K::InvalidExpression,
            span: Span::new(start, end),
        })
    }

    fn unary(&mut self) -> Result<Operand<'a, B::Expr>, QueryError> {
        if !matches!(self.tok.tok, Tok::Plus | Tok::Minus | Tok::Bang) {
            return self.atom();
        }
        let sign = self.bump()?;
        // A sign directly on an integer is part of the literal (MySQL folds it).
        if sign.tok != Tok::Bang && self.tok.tok == Tok::Int {
            let t = self.bump()?;
            let digits = self.text(t);
            let span = Span::new(sign.start(), t.end());
            let neg = sign.tok == Tok::Minus;
            return Ok(self.integer(digits, neg, span));
        }
        self.enter()?;
        let inner = self.unary()?;
        self.depth -= 1;
        let what = if sign.tok == Tok::Bang {
            "a '!' or '~' expression"
        } else {
            "a unary expression (negative floats cannot be written)"
        };
        Ok(Operand::Other {
            what,
            kind: K::InvalidExpression,
            span: Span::new(sign.start(), span_of(&inner).end),
        })
    }

    fn integer(&self, digits: &str, negative: bool, span: Span) -> Operand<'a, B::Expr> {
        if !negative {
            return Operand::Lit(Lit {
                value: unsigned(digits),
                span,
            });
        }
        let trimmed = digits.trim_start_matches('0');
        // Parse with the sign so that i64::MIN fits.
        let parsed = if trimmed.is_empty() {
            Some(0)
        } else {
            format!("-{trimmed}").parse::<i64>().ok()
        };
        match parsed {
            Some(n) => Operand::Lit(Lit {
                value: Val::Int(n),
                span,
            }),
            None => Operand::Other {
                what: "a negative number out of the Int range",
                kind: K::InvalidExpression,
                span,
            },
        }
    }

    fn atom(&mut self) -> Result<Operand<'a, B::Expr>, QueryError> {
        let t = self.tok;
        let span = Span::new(t.start(), t.end());
        match t.tok {
            Tok::Str { escaped } => {
                self.bump()?;
                Ok(Operand::Lit(Lit {
                    value: Val::Str(decode_string(self.text(t), escaped)),
                    span,
                }))
            }
            Tok::Int => {
                self.bump()?;
                Ok(self.integer(self.text(t), false, span))
            }
            Tok::Float => {
                self.bump()?;
                match self.text(t).parse::<f64>() {
                    Ok(x) if x.is_finite() => Ok(Operand::Lit(Lit {
                        value: Val::Float(x),
                        span,
                    })),
                    _ => Ok(Operand::Other {
                        what: "a number out of range",
                        kind: K::InvalidExpression,
                        span,
                    }),
                }
            }
            Tok::Hex => {
                self.bump()?;
                Ok(Operand::Other {
                    what: "a hex or bit literal",
                    kind: K::InvalidExpression,
                    span,
                })
            }
            Tok::Param => {
                self.bump()?;
                Ok(Operand::Other {
                    what: "a bind variable",
                    kind: K::InvalidExpression,
                    span,
                })
            }
            Tok::LParen => {
                self.enter()?;
                self.bump()?;
                let e = self.or_expr()?;
                let close = self.expect(Tok::RParen)?;
                self.depth -= 1;
                Ok(Operand::Cond(
                    Box::new(e),
                    Span::new(t.start(), close.end()),
                ))
            }
            Tok::Quoted { escaped } => {
                self.bump()?;
                let first = decode_quoted_name(self.text(t), escaped);
                self.name_rest(first, t.start())
            }
            Tok::Kw(kw @ (Kw::True | Kw::False)) => {
                self.bump()?;
                let value = Val::Bool(kw == Kw::True);
                Ok(Operand::Lit(Lit { value, span }))
            }
            Tok::Kw(Kw::Null) => {
                self.bump()?;
                Ok(Operand::Other {
                    what: "NULL (use IS NULL)",
                    kind: K::InvalidExpression,
                    span,
                })
            }
            Tok::Kw(_) => {
                // Reserved words are never names, but `if(...)`, `left(...)` ... are functions.
                self.bump()?;
                if self.tok.tok == Tok::LParen {
                    return self.function(t.start());
                }
                let msg = format!("syntax error near '{}'", self.text(t));
                Err(QueryError::new(K::Malformed, msg, self.src, t.start()))
            }
            Tok::Word => {
                self.bump()?;
                self.name_rest(Cow::Borrowed(self.text(t)), t.start())
            }
            _ => Err(self.syntax_error()),
        }
    }

    /// Qualified names (`t.WorkflowId`) and function calls after a first name part.
    fn name_rest(
        &mut self,
        mut value: Cow<'a, str>,
        start: usize,
    ) -> Result<Operand<'a, B::Expr>, QueryError> {
        if self.tok.tok == Tok::LParen {
            return self.function(start);
        }
        while self.tok.tok == Tok::Dot {
            self.bump()?;
            let part = self.tok;
            match part.tok {
                Tok::Word | Tok::Kw(_) => {
                    let value = value.to_mut();
                    value.push('.');
                    value.push_str(self.text(part));
                }
                Tok::Quoted { escaped } => {
                    let value = value.to_mut();
                    value.push('.');
                    value.push_str(&decode_quoted_name(self.text(part), escaped));
                }
                _ => return Err(self.syntax_error()),
            }
            self.bump()?;
        }
        Ok(Operand::Name(NameRef {
            value,
            span: Span::new(start, self.prev_end),
        }))
    }

    /// Skips a call's balanced parentheses without recursion.
    fn function(&mut self, start: usize) -> Result<Operand<'a, B::Expr>, QueryError> {
        let mut open = 0usize;
        loop {
            match self.tok.tok {
                Tok::LParen => open += 1,
                Tok::RParen => open -= 1,
                Tok::Eof => return Err(self.syntax_error()),
                _ => {}
            }
            let t = self.bump()?;
            if open == 0 {
                return Ok(Operand::Other {
                    what: "a function call",
                    kind: K::NotSupported,
                    span: Span::new(start, t.end()),
                });
            }
        }
    }
}

/// An unsigned integer literal; Go's ParseValue falls back to float64 beyond int64.
fn unsigned(digits: &str) -> Val<'static> {
    match digits.parse::<i64>() {
        Ok(n) => Val::Int(n),
        Err(_) => Val::Float(digits.parse::<f64>().unwrap_or(f64::INFINITY)),
    }
}

fn span_of<E>(o: &Operand<'_, E>) -> Span {
    match o {
        Operand::Name(id) => id.span,
        Operand::Lit(l) => l.span,
        Operand::Cond(_, s) | Operand::Other { span: s, .. } => *s,
    }
}
