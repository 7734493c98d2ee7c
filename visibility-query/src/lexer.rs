//! Tokens of the MySQL-flavoured filter text, borrowed from the input.
//!
//! The lexer never allocates: a token is a kind and a byte range, and the
//! parser decodes strings and names only when it builds the tree.

use crate::error::{QueryError, QueryErrorKind};

/// What a token is. Text is recovered from the span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A bare word that is not a reserved word: a name.
    Word,
    /// A reserved word; never a name.
    Kw(Kw),
    /// `` `name` ``; `escaped` when it contains a doubled backtick.
    Quoted {
        escaped: bool,
    },
    /// `'…'` or `"…"`; `escaped` when it contains an escape or a doubled quote.
    Str {
        escaped: bool,
    },
    /// `[0-9]+`
    Int,
    /// Digits with a `.` or an exponent.
    Float,
    /// `0x1F`, `x'41'`, `b'01'`: valid MySQL, never a valid filter value.
    Hex,
    /// `?`, `:name`, `::name`.
    Param,
    Eq,
    /// `!=` or `<>`
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    /// `<=>`
    NullSafeEq,
    LParen,
    RParen,
    Comma,
    Semicolon,
    Dot,
    Plus,
    Minus,
    /// `*`, `/`, `%`, `^`, `&`, `|`, `<<`, `>>`, `->`, `->>`: arithmetic and JSON operators.
    Arith,
    /// `~` or `!`
    Bang,
    /// `&&`
    AndAnd,
    /// `||`
    OrOr,
    Eof,
}

/// Reserved words the parser looks for; every other reserved word is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kw {
    And,
    Asc,
    Between,
    By,
    Desc,
    Div,
    Escape,
    False,
    For,
    Group,
    Having,
    In,
    Is,
    Like,
    Limit,
    Lock,
    Mod,
    Not,
    Null,
    Or,
    Order,
    Regexp,
    Rlike,
    StartsWith,
    True,
    Union,
    Update,
    Other,
}

/// Classifies a bare word once, in the lexer, so the parser compares enums.
fn keyword(word: &str) -> Option<Kw> {
    if word.len() > 20 {
        return None;
    }
    let mut buf = [0u8; 20];
    let lower = &mut buf[..word.len()];
    lower.copy_from_slice(word.as_bytes());
    lower.make_ascii_lowercase();
    Some(match &*lower {
        b"and" => Kw::And,
        b"asc" => Kw::Asc,
        b"between" => Kw::Between,
        b"by" => Kw::By,
        b"desc" => Kw::Desc,
        b"div" => Kw::Div,
        b"escape" => Kw::Escape,
        b"false" => Kw::False,
        b"for" => Kw::For,
        b"group" => Kw::Group,
        b"having" => Kw::Having,
        b"in" => Kw::In,
        b"is" => Kw::Is,
        b"like" => Kw::Like,
        b"limit" => Kw::Limit,
        b"lock" => Kw::Lock,
        b"mod" => Kw::Mod,
        b"not" => Kw::Not,
        b"null" => Kw::Null,
        b"or" => Kw::Or,
        b"order" => Kw::Order,
        b"regexp" => Kw::Regexp,
        b"rlike" => Kw::Rlike,
        b"starts_with" => Kw::StartsWith,
        b"true" => Kw::True,
        b"union" => Kw::Union,
        b"update" => Kw::Update,
        b"add" | b"all" | b"alter" | b"analyze" | b"as" | b"auto_increment" | b"binary"
        | b"boolean" | b"case" | b"cast" | b"collate" | b"column" | b"constraint" | b"convert"
        | b"create" | b"cross" | b"current_date" | b"current_time" | b"current_timestamp"
        | b"database" | b"databases" | b"default" | b"delete" | b"describe" | b"distinct"
        | b"drop" | b"else" | b"end" | b"exists" | b"explain" | b"extended" | b"force"
        | b"from" | b"full" | b"group_concat" | b"if" | b"ignore" | b"index" | b"inner"
        | b"insert" | b"interval" | b"into" | b"join" | b"key" | b"left" | b"localtime"
        | b"localtimestamp" | b"match" | b"maxvalue" | b"natural" | b"next" | b"on" | b"outer"
        | b"processlist" | b"rename" | b"replace" | b"right" | b"schema" | b"select"
        | b"separator" | b"set" | b"show" | b"sql_cache" | b"sql_no_cache" | b"straight_join"
        | b"stream" | b"substr" | b"substring" | b"table" | b"tables" | b"then" | b"to"
        | b"unique" | b"use" | b"using" | b"utc_date" | b"utc_time" | b"utc_timestamp"
        | b"values" | b"when" | b"where" => Kw::Other,
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

#[derive(Debug)]
pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

fn is_word_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'@'
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'@'
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Lexer { src, pos: 0 }
    }

    fn err(&self, message: impl Into<String>, at: usize) -> QueryError {
        QueryError::new(QueryErrorKind::Malformed, message, self.src, at)
    }

    fn peek_at(&self, i: usize) -> u8 {
        self.src.as_bytes().get(i).copied().unwrap_or(0)
    }

    /// Skips whitespace and the four comment styles (`--`, `#`, `//`, `/* */`).
    fn skip_trivia(&mut self) -> Result<(), QueryError> {
        let b = self.src.as_bytes();
        loop {
            match b.get(self.pos) {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.pos += 1,
                Some(b'#') => self.skip_line(),
                Some(b'-') if self.peek_at(self.pos + 1) == b'-' => self.skip_line(),
                Some(b'/') if self.peek_at(self.pos + 1) == b'/' => self.skip_line(),
                Some(b'/') if self.peek_at(self.pos + 1) == b'*' => {
                    let start = self.pos;
                    match self.src[self.pos + 2..].find("*/") {
                        Some(i) => self.pos += 2 + i + 2,
                        None => return Err(self.err("unterminated comment", start)),
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn skip_line(&mut self) {
        self.pos = self.src[self.pos..]
            .find('\n')
            .map_or(self.src.len(), |i| self.pos + i + 1);
    }

    pub(crate) fn next_token(&mut self) -> Result<Token, QueryError> {
        self.skip_trivia()?;
        let start = self.pos;
        let b = self.src.as_bytes();
        let Some(&c) = b.get(start) else {
            return Ok(Token {
                tok: Tok::Eof,
                start,
                end: start,
            });
        };
        let next = self.peek_at(start + 1);
        let (tok, len) = match c {
            b'\'' | b'"' => return self.string(c),
            b'`' => return self.quoted_name(),
            b'0'..=b'9' => return self.number(),
            b'.' if next.is_ascii_digit() => return self.number(),
            b'x' | b'X' | b'b' | b'B' if next == b'\'' => {
                let close = self.src[start + 2..]
                    .find('\'')
                    .ok_or_else(|| self.err("unterminated string", start))?;
                (Tok::Hex, close + 3)
            }
            _ if is_word_start(c) => {
                let len = b[start..]
                    .iter()
                    .position(|&x| !is_word_byte(x))
                    .unwrap_or(b.len() - start);
                (
                    keyword(&self.src[start..start + len]).map_or(Tok::Word, Tok::Kw),
                    len,
                )
            }
            b'=' => (Tok::Eq, 1),
            b'!' if next == b'=' => (Tok::NotEq, 2),
            b'<' if next == b'>' => (Tok::NotEq, 2),
            b'<' if next == b'=' && self.peek_at(start + 2) == b'>' => (Tok::NullSafeEq, 3),
            b'<' if next == b'=' => (Tok::LtEq, 2),
            b'<' if next == b'<' => (Tok::Arith, 2),
            b'<' => (Tok::Lt, 1),
            b'>' if next == b'=' => (Tok::GtEq, 2),
            b'>' if next == b'>' => (Tok::Arith, 2),
            b'>' => (Tok::Gt, 1),
            b'(' => (Tok::LParen, 1),
            b')' => (Tok::RParen, 1),
            b',' => (Tok::Comma, 1),
            b';' => (Tok::Semicolon, 1),
            b'.' => (Tok::Dot, 1),
            b'+' => (Tok::Plus, 1),
            b'-' if next == b'>' => (
                Tok::Arith,
                if self.peek_at(start + 2) == b'>' {
                    3
                } else {
                    2
                },
            ),
            b'-' => (Tok::Minus, 1),
            b'&' if next == b'&' => (Tok::AndAnd, 2),
            b'|' if next == b'|' => (Tok::OrOr, 2),
            b'*' | b'/' | b'%' | b'^' | b'&' | b'|' => (Tok::Arith, 1),
            b'~' | b'!' => (Tok::Bang, 1),
            b'?' => (Tok::Param, 1),
            b':' => {
                let name_at = if next == b':' { start + 2 } else { start + 1 };
                let len = b[name_at..]
                    .iter()
                    .position(|&x| !is_word_byte(x))
                    .unwrap_or(b.len() - name_at);
                if len == 0 {
                    return Err(self.err("syntax error near ':'", start));
                }
                (Tok::Param, name_at - start + len)
            }
            _ => {
                let ch = self.src[start..].chars().next().unwrap_or('?');
                return Err(self.err(format!("unexpected character '{ch}'"), start));
            }
        };
        self.pos = start + len;
        Ok(Token {
            tok,
            start,
            end: self.pos,
        })
    }

    fn string(&mut self, quote: u8) -> Result<Token, QueryError> {
        let start = self.pos;
        let b = self.src.as_bytes();
        let mut i = start + 1;
        let mut escaped = false;
        loop {
            // memchr-like scan: only the quote and the backslash matter.
            match b[i..].iter().position(|&x| x == quote || x == b'\\') {
                None => return Err(self.err("unterminated string", start)),
                Some(k) => {
                    i += k;
                    if b[i] == b'\\' {
                        if i + 1 >= b.len() {
                            return Err(self.err("unterminated string", start));
                        }
                        escaped = true;
                        i += 2;
                        // Keep `i` on a char boundary when the escaped char is multi-byte.
                        while !self.src.is_char_boundary(i) {
                            i += 1;
                        }
                    } else if b.get(i + 1) == Some(&quote) {
                        escaped = true;
                        i += 2;
                    } else {
                        self.pos = i + 1;
                        return Ok(Token {
                            tok: Tok::Str { escaped },
                            start,
                            end: self.pos,
                        });
                    }
                }
            }
        }
    }

    fn quoted_name(&mut self) -> Result<Token, QueryError> {
        let start = self.pos;
        let b = self.src.as_bytes();
        let mut i = start + 1;
        let mut escaped = false;
        loop {
            match b[i..].iter().position(|&x| x == b'`') {
                None => return Err(self.err("unterminated quoted name", start)),
                Some(k) => {
                    i += k;
                    if b.get(i + 1) == Some(&b'`') {
                        escaped = true;
                        i += 2;
                    } else {
                        if i == start + 1 {
                            return Err(self.err("empty quoted name", start));
                        }
                        self.pos = i + 1;
                        return Ok(Token {
                            tok: Tok::Quoted { escaped },
                            start,
                            end: self.pos,
                        });
                    }
                }
            }
        }
    }

    fn number(&mut self) -> Result<Token, QueryError> {
        let start = self.pos;
        let b = self.src.as_bytes();
        let digits = |mut i: usize| {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i
        };
        if b[start] == b'0'
            && matches!(self.peek_at(start + 1), b'x' | b'X')
            && self.peek_at(start + 2).is_ascii_hexdigit()
        {
            let mut i = start + 2;
            while b.get(i).is_some_and(u8::is_ascii_hexdigit) {
                i += 1;
            }
            return self.finish_number(Tok::Hex, start, i);
        }
        let mut i = digits(start);
        let mut tok = Tok::Int;
        if b.get(i) == Some(&b'.') {
            tok = Tok::Float;
            i = digits(i + 1);
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(b.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            if b.get(j).is_some_and(u8::is_ascii_digit) {
                tok = Tok::Float;
                i = digits(j);
            }
        }
        self.finish_number(tok, start, i)
    }

    fn finish_number(&mut self, tok: Tok, start: usize, end: usize) -> Result<Token, QueryError> {
        // `1abc`, `1AND`: MySQL rejects a word glued to a number.
        if self
            .src
            .as_bytes()
            .get(end)
            .is_some_and(|&x| is_word_byte(x))
        {
            return Err(self.err(
                format!("syntax error near '{}'", &self.src[start..=end]),
                start,
            ));
        }
        self.pos = end;
        Ok(Token { tok, start, end })
    }
}

/// Decodes the content of a string token (quotes included in `raw`).
pub(crate) fn decode_string(raw: &str, escaped: bool) -> String {
    let quote = raw.as_bytes()[0] as char;
    let inner = &raw[1..raw.len() - 1];
    if !escaped {
        return inner.to_owned();
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('0') => out.push('\0'),
                Some('b') => out.push('\u{8}'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('Z') => out.push('\u{1a}'),
                // `\'`, `\"`, `\\` and any other `\c` stand for `c` (MySQL).
                Some(other) => out.push(other),
                None => {}
            },
            c if c == quote => {
                // A doubled quote; the lexer guarantees the second one follows.
                chars.next();
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Decodes a backtick-quoted name.
pub(crate) fn decode_quoted_name(raw: &str, escaped: bool) -> String {
    let inner = &raw[1..raw.len() - 1];
    if escaped {
        inner.replace("``", "`")
    } else {
        inner.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        let mut l = Lexer::new(s);
        let mut out = vec![];
        loop {
            let t = l.next_token().unwrap();
            if t.tok == Tok::Eof {
                return out;
            }
            out.push(t.tok);
        }
    }

    #[test]
    fn tokens() {
        use Tok::*;
        assert_eq!(
            kinds("a<>b != <= >= <=> && ||"),
            [
                Word, NotEq, Word, NotEq, LtEq, GtEq, NullSafeEq, AndAnd, OrOr
            ]
        );
        assert_eq!(
            kinds("1 1.5 .5 1e3 1. 0x1F x'41'"),
            [Int, Float, Float, Float, Float, Hex, Hex]
        );
        assert_eq!(
            kinds("a -- c\n b # x\n c // y\n /* z */ d --3"),
            [Word, Word, Word, Word]
        );
        assert_eq!(
            kinds("'it''s' \"a\\\"b\" `x``y`"),
            [
                Str { escaped: true },
                Str { escaped: true },
                Quoted { escaped: true }
            ]
        );
        assert_eq!(kinds("? :v ::l"), [Param, Param, Param]);
    }

    #[test]
    fn lex_errors() {
        for bad in [
            "'abc", "`abc", "``", "1abc", "1AND", "/* x", "$", "é", "'a\\",
        ] {
            let mut l = Lexer::new(bad);
            let r = (0..4).try_for_each(|_| l.next_token().map(drop));
            assert!(r.is_err(), "{bad}");
        }
    }

    #[test]
    fn decoding() {
        assert_eq!(decode_string("'it''s'", true), "it's");
        assert_eq!(decode_string("\"a\"\"b\"", true), "a\"b");
        assert_eq!(decode_string(r"'a\_b\%c\x\n'", true), "a_b%cx\n");
        assert_eq!(decode_quoted_name("`a``b`", true), "a`b");
    }
}
