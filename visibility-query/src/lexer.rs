//! Tokens of the MySQL-flavoured filter text, borrowed from the input.
//!
//! The lexer never allocates: a token is a kind and a byte range. Strings
//! and names are decoded into new text only when they contain escapes.

use std::borrow::Cow;

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

/// For each word length, the first letters (bit `c - 'a'`) of the reserved
/// words of that length.
static KEYWORD_SHAPES: [u32; 17] = {
    let mut shapes = [0u32; 17];
    let mut i = 0;
    while i < crate::ast::RESERVED.len() {
        let w = crate::ast::RESERVED[i].as_bytes();
        if w.len() < shapes.len() {
            shapes[w.len()] |= 1 << (w[0] - b'a');
        }
        i += 1;
    }
    shapes
};

/// Classifies a bare word once, in the lexer, so the parser compares enums.
///
/// The lower-cased word is packed into an integer so that the keyword table
/// compiles to a few integer comparisons instead of a string comparison per keyword.
fn keyword(word: &str) -> Option<Kw> {
    if word.len() > 16 {
        return word
            .eq_ignore_ascii_case("current_timestamp")
            .then_some(Kw::Other);
    }
    // Most words are names: reject them on length and first letter before packing.
    let first = word.as_bytes().first()?.to_ascii_lowercase();
    if !first.is_ascii_lowercase() || KEYWORD_SHAPES[word.len()] & (1 << (first - b'a')) == 0 {
        return None;
    }
    let packed = word.bytes().rev().fold(0u128, |acc, b| {
        acc << 8 | u128::from(b.to_ascii_lowercase())
    });
    Some(match packed {
        0x646461 => Kw::Other,                       // add
        0x6c6c61 => Kw::Other,                       // all
        0x7265746c61 => Kw::Other,                   // alter
        0x657a796c616e61 => Kw::Other,               // analyze
        0x646e61 => Kw::And,                         // and
        0x7361 => Kw::Other,                         // as
        0x637361 => Kw::Asc,                         // asc
        0x746e656d6572636e695f6f747561 => Kw::Other, // auto_increment
        0x6e656577746562 => Kw::Between,             // between
        0x7972616e6962 => Kw::Other,                 // binary
        0x6e61656c6f6f62 => Kw::Other,               // boolean
        0x7962 => Kw::By,                            // by
        0x65736163 => Kw::Other,                     // case
        0x74736163 => Kw::Other,                     // cast
        0x6574616c6c6f63 => Kw::Other,               // collate
        0x6e6d756c6f63 => Kw::Other,                 // column
        0x746e69617274736e6f63 => Kw::Other,         // constraint
        0x747265766e6f63 => Kw::Other,               // convert
        0x657461657263 => Kw::Other,                 // create
        0x73736f7263 => Kw::Other,                   // cross
        0x657461645f746e6572727563 => Kw::Other,     // current_date
        0x656d69745f746e6572727563 => Kw::Other,     // current_time
        0x6573616261746164 => Kw::Other,             // database
        0x736573616261746164 => Kw::Other,           // databases
        0x746c7561666564 => Kw::Other,               // default
        0x6574656c6564 => Kw::Other,                 // delete
        0x63736564 => Kw::Desc,                      // desc
        0x6562697263736564 => Kw::Other,             // describe
        0x74636e6974736964 => Kw::Other,             // distinct
        0x766964 => Kw::Div,                         // div
        0x706f7264 => Kw::Other,                     // drop
        0x65736c65 => Kw::Other,                     // else
        0x646e65 => Kw::Other,                       // end
        0x657061637365 => Kw::Escape,                // escape
        0x737473697865 => Kw::Other,                 // exists
        0x6e69616c707865 => Kw::Other,               // explain
        0x6465646e65747865 => Kw::Other,             // extended
        0x65736c6166 => Kw::False,                   // false
        0x726f66 => Kw::For,                         // for
        0x6563726f66 => Kw::Other,                   // force
        0x6d6f7266 => Kw::Other,                     // from
        0x6c6c7566 => Kw::Other,                     // full
        0x70756f7267 => Kw::Group,                   // group
        0x7461636e6f635f70756f7267 => Kw::Other,     // group_concat
        0x676e69766168 => Kw::Having,                // having
        0x6669 => Kw::Other,                         // if
        0x65726f6e6769 => Kw::Other,                 // ignore
        0x6e69 => Kw::In,                            // in
        0x7865646e69 => Kw::Other,                   // index
        0x72656e6e69 => Kw::Other,                   // inner
        0x747265736e69 => Kw::Other,                 // insert
        0x6c61767265746e69 => Kw::Other,             // interval
        0x6f746e69 => Kw::Other,                     // into
        0x7369 => Kw::Is,                            // is
        0x6e696f6a => Kw::Other,                     // join
        0x79656b => Kw::Other,                       // key
        0x7466656c => Kw::Other,                     // left
        0x656b696c => Kw::Like,                      // like
        0x74696d696c => Kw::Limit,                   // limit
        0x656d69746c61636f6c => Kw::Other,           // localtime
        0x706d617473656d69746c61636f6c => Kw::Other, // localtimestamp
        0x6b636f6c => Kw::Lock,                      // lock
        0x686374616d => Kw::Other,                   // match
        0x65756c617678616d => Kw::Other,             // maxvalue
        0x646f6d => Kw::Mod,                         // mod
        0x6c61727574616e => Kw::Other,               // natural
        0x7478656e => Kw::Other,                     // next
        0x746f6e => Kw::Not,                         // not
        0x6c6c756e => Kw::Null,                      // null
        0x6e6f => Kw::Other,                         // on
        0x726f => Kw::Or,                            // or
        0x726564726f => Kw::Order,                   // order
        0x726574756f => Kw::Other,                   // outer
        0x7473696c737365636f7270 => Kw::Other,       // processlist
        0x707865676572 => Kw::Regexp,                // regexp
        0x656d616e6572 => Kw::Other,                 // rename
        0x6563616c706572 => Kw::Other,               // replace
        0x7468676972 => Kw::Other,                   // right
        0x656b696c72 => Kw::Rlike,                   // rlike
        0x616d65686373 => Kw::Other,                 // schema
        0x7463656c6573 => Kw::Other,                 // select
        0x726f74617261706573 => Kw::Other,           // separator
        0x746573 => Kw::Other,                       // set
        0x776f6873 => Kw::Other,                     // show
        0x65686361635f6c7173 => Kw::Other,           // sql_cache
        0x65686361635f6f6e5f6c7173 => Kw::Other,     // sql_no_cache
        0x687469775f737472617473 => Kw::StartsWith,  // starts_with
        0x6e696f6a5f7468676961727473 => Kw::Other,   // straight_join
        0x6d6165727473 => Kw::Other,                 // stream
        0x727473627573 => Kw::Other,                 // substr
        0x676e69727473627573 => Kw::Other,           // substring
        0x656c626174 => Kw::Other,                   // table
        0x73656c626174 => Kw::Other,                 // tables
        0x6e656874 => Kw::Other,                     // then
        0x6f74 => Kw::Other,                         // to
        0x65757274 => Kw::True,                      // true
        0x6e6f696e75 => Kw::Union,                   // union
        0x657571696e75 => Kw::Other,                 // unique
        0x657461647075 => Kw::Update,                // update
        0x657375 => Kw::Other,                       // use
        0x676e697375 => Kw::Other,                   // using
        0x657461645f637475 => Kw::Other,             // utc_date
        0x656d69745f637475 => Kw::Other,             // utc_time
        0x706d617473656d69745f637475 => Kw::Other,   // utc_timestamp
        0x7365756c6176 => Kw::Other,                 // values
        0x6e656877 => Kw::Other,                     // when
        0x6572656877 => Kw::Other,                   // where
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    // u32 (filters are at most 1 MiB) so that a token fits two registers:
    // copying a wider one byte-wise after each call stalled store forwarding.
    start: u32,
    end: u32,
}

impl Token {
    fn new(tok: Tok, start: usize, end: usize) -> Self {
        debug_assert!(end <= crate::MAX_FILTER_LEN);
        Token {
            tok,
            start: start as u32,
            end: end as u32,
        }
    }

    pub(crate) fn start(&self) -> usize {
        self.start as usize
    }

    pub(crate) fn end(&self) -> usize {
        self.end as usize
    }
}

#[derive(Debug)]
pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

fn is_word_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'@'
}

/// `[A-Za-z0-9_@]` as a table: one load per byte in the hot word scan.
static WORD_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || b == b'_' || b == b'@';
        i += 1;
    }
    t
};

fn is_word_byte(b: u8) -> bool {
    WORD_BYTE[usize::from(b)]
}

/// The first `quote` or `\` in `s`, eight bytes at a time (SWAR): string
/// literals are most of a filter's bytes.
fn find_quote_or_backslash(s: &[u8], quote: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    let (q, bs) = (LO * u64::from(quote), LO * u64::from(b'\\'));
    let mut i = 0;
    while i + 8 <= s.len() {
        let mut chunk = [0u8; 8];
        chunk.copy_from_slice(&s[i..i + 8]);
        let v = u64::from_le_bytes(chunk);
        if has_zero(v ^ q) | has_zero(v ^ bs) != 0 {
            break;
        }
        i += 8;
    }
    s[i..]
        .iter()
        .position(|&x| x == quote || x == b'\\')
        .map(|k| i + k)
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
            return Ok(Token::new(Tok::Eof, start, start));
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
        Ok(Token::new(tok, start, self.pos))
    }

    fn string(&mut self, quote: u8) -> Result<Token, QueryError> {
        let start = self.pos;
        let b = self.src.as_bytes();
        let mut i = start + 1;
        let mut escaped = false;
        loop {
            match find_quote_or_backslash(&b[i..], quote) {
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
                        return Ok(Token::new(Tok::Str { escaped }, start, self.pos));
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
                        return Ok(Token::new(Tok::Quoted { escaped }, start, self.pos));
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
        Ok(Token::new(tok, start, end))
    }
}

/// Decodes the content of a string token (quotes included in `raw`),
/// borrowing it when it has no escapes.
pub(crate) fn decode_string(raw: &str, escaped: bool) -> Cow<'_, str> {
    let quote = raw.as_bytes()[0] as char;
    let inner = &raw[1..raw.len() - 1];
    if !escaped {
        return Cow::Borrowed(inner);
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
    Cow::Owned(out)
}

/// Decodes a backtick-quoted name, borrowing it when it has no doubled backtick.
pub(crate) fn decode_quoted_name(raw: &str, escaped: bool) -> Cow<'_, str> {
    let inner = &raw[1..raw.len() - 1];
    if escaped {
        Cow::Owned(inner.replace("``", "`"))
    } else {
        Cow::Borrowed(inner)
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
    fn keyword_table_matches_reserved_words() {
        for w in crate::ast::RESERVED {
            assert!(keyword(w).is_some(), "{w}");
            assert!(keyword(&w.to_uppercase()).is_some(), "{w}");
        }
        for w in [
            "WorkflowId",
            "status",
            "text",
            "x",
            "current_timestamps",
            "andx",
        ] {
            assert_eq!(keyword(w), None, "{w}");
        }
        assert_eq!(keyword("StArTs_WiTh"), Some(Kw::StartsWith));
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
