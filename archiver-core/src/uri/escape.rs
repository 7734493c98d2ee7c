//! Percent-encoding with the per-component rules of Go's `net/url` (RFC 3986 as Go reads it).
//!
//! Which bytes a component may hold unescaped, and which escapes it may hold, differ between the
//! path, the host, an IPv6 zone, the userinfo and the query. Matching Go here is what makes
//! `ArchiveUri` accept and reject exactly the URIs Temporal does.

/// The URI component a string belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Component {
    Path,
    Host,
    Zone,
    UserPassword,
    Query,
}

/// Why a string does not decode. The offending text is kept only where it cannot be a secret.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum DecodeError {
    /// A `%` not followed by two hex digits, or an escape the component does not allow.
    BadEscape(String),
    /// A byte the host (or zone) may not contain at all.
    BadHostChar(char),
    /// The decoded bytes are not UTF-8 (Go allows that; Rust strings cannot hold it).
    NotUtf8,
}

impl DecodeError {
    /// A human reason, naming the component. `secret` components never echo their text.
    pub(super) fn reason(&self, what: &str, secret: bool) -> String {
        match self {
            DecodeError::BadEscape(_) if secret => format!("invalid percent-escape in the {what}"),
            DecodeError::BadEscape(s) => format!("invalid percent-escape {s:?} in the {what}"),
            DecodeError::BadHostChar(c) => format!("invalid character {c:?} in the {what}"),
            DecodeError::NotUtf8 => format!("the {what} does not decode to UTF-8"),
        }
    }
}

/// Whether `c` must be percent-encoded in `component` (Go's `shouldEscape`).
fn should_escape(c: u8, component: Component) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if matches!(component, Component::Host | Component::Zone)
        && matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'['
                | b']'
                | b'<'
                | b'>'
                | b'"'
        )
    {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match component {
            // The path is handled as a whole, so only `?` would be misread.
            Component::Path => c == b'?',
            Component::UserPassword => matches!(c, b'@' | b'/' | b'?' | b':'),
            Component::Query | Component::Host | Component::Zone => true,
        },
        _ => true,
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes (and `+` as a space in query components), with Go's checks.
pub(super) fn unescape(s: &str, component: Component) -> Result<String, DecodeError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let escape = || DecodeError::BadEscape(s[i..].chars().take(3).collect());
                let (Some(hi), Some(lo)) = (
                    bytes.get(i + 1).copied().and_then(hex_value),
                    bytes.get(i + 2).copied().and_then(hex_value),
                ) else {
                    return Err(escape());
                };
                let decoded = hi << 4 | lo;
                let is_percent = decoded == b'%';
                // RFC 3986 lets a host escape only non-ASCII bytes; RFC 6874 adds `%25` for zones.
                if component == Component::Host && decoded < 0x80 && !is_percent {
                    return Err(escape());
                }
                // A zone may escape only what it could also hold unescaped (Windows adds spaces).
                if component == Component::Zone
                    && !is_percent
                    && decoded != b' '
                    && should_escape(decoded, Component::Host)
                {
                    return Err(escape());
                }
                out.push(decoded);
                i += 3;
            }
            b'+' if component == Component::Query => {
                out.push(b' ');
                i += 1;
            }
            c => {
                if matches!(component, Component::Host | Component::Zone)
                    && c < 0x80
                    && should_escape(c, component)
                {
                    return Err(DecodeError::BadHostChar(c as char));
                }
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| DecodeError::NotUtf8)
}

/// Percent-encodes what `component` may not hold. Non-ASCII stays raw in hosts, where Go's
/// parser accepts it raw but rejects some of its escapes (in zones).
pub(super) fn escape(s: &str, component: Component) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        if !c.is_ascii() {
            if component == Component::Host {
                out.push(c);
            } else {
                for b in s[i..i + c.len_utf8()].bytes() {
                    out.extend([
                        '%',
                        HEX[usize::from(b >> 4)] as char,
                        HEX[usize::from(b & 15)] as char,
                    ]);
                }
            }
            continue;
        }
        let b = c as u8;
        if should_escape(b, component) {
            out.extend([
                '%',
                HEX[usize::from(b >> 4)] as char,
                HEX[usize::from(b & 15)] as char,
            ]);
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether `s` is a path as written that decodes to itself under Go's rules (Go's
/// `validEncoded`): such a spelling is kept, so `/a%2Fb` is not rewritten to `/a/b`.
pub(super) fn is_valid_encoded_path(s: &str) -> bool {
    s.bytes().all(|b| {
        matches!(
            b,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'['
                | b']'
                | b'%'
        ) || !should_escape(b, Component::Path)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_escapes_only_non_ascii_or_percent() {
        assert_eq!(unescape("a%C3%BCb", Component::Host).unwrap(), "aüb");
        assert_eq!(unescape("a%25b", Component::Host).unwrap(), "a%b");
        assert!(matches!(
            unescape("a%41", Component::Host),
            Err(DecodeError::BadEscape(e)) if e == "%41"
        ));
        assert_eq!(
            unescape("a b", Component::Host),
            Err(DecodeError::BadHostChar(' '))
        );
    }

    #[test]
    fn zone_allows_space_escapes_but_not_slash() {
        assert_eq!(unescape("%25en%200", Component::Zone).unwrap(), "%en 0");
        assert!(unescape("%2F", Component::Zone).is_err());
    }

    #[test]
    fn query_plus_is_space_only_in_query() {
        assert_eq!(unescape("a+b", Component::Query).unwrap(), "a b");
        assert_eq!(unescape("a+b", Component::Path).unwrap(), "a+b");
    }

    #[test]
    fn truncated_and_non_hex_escapes_fail() {
        for bad in ["%", "%4", "%zz", "a%G1"] {
            assert!(unescape(bad, Component::Path).is_err(), "{bad}");
        }
        assert_eq!(unescape("%FF", Component::Path), Err(DecodeError::NotUtf8));
    }

    #[test]
    fn escape_reverses_unescape() {
        for s in ["/a b/ü/?#%", "x:y@z", ""] {
            for component in [Component::Path, Component::UserPassword] {
                assert_eq!(unescape(&escape(s, component), component).unwrap(), s);
            }
        }
        assert_eq!(escape("/a?b c", Component::Path), "/a%3Fb%20c");
        assert_eq!(escape("u:p@", Component::UserPassword), "u%3Ap%40");
    }

    #[test]
    fn secret_components_do_not_echo_their_text() {
        let err = DecodeError::BadEscape("%zz".into());
        assert!(!err.reason("password", true).contains("%zz"));
        assert!(err.reason("path", false).contains("%zz"));
    }
}
