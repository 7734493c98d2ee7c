//! [`ArchiveUri`]: where an archive lives, e.g. `file:///var/lib/archive` or `s3://bucket/prefix`.
//!
//! Temporal parses archival URIs with Go's `net/url.ParseRequestURI`, and stored namespace
//! configs hold URIs that were accepted by it. We follow Go's rules rather than WHATWG's (the
//! `url` crate's), because they disagree where it matters here: Go gives `file://` an empty path
//! (the `url` crate says `/`), and `s3://`, `s3:///x` and `gs:/bucket` have no host at all.

mod escape;

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

use escape::{Component, escape, is_valid_encoded_path, unescape};

use crate::{Error, Result};

/// An archival URI, parsed with the rules of Go's `net/url.ParseRequestURI`.
///
/// - The input is absolute (`scheme:...`) or an absolute path (`/...`). Relative references and
///   `""` are errors, and there is no fragment: a `#` is part of the path or the query.
/// - `scheme:rest` where `rest` does not start with `/` is *opaque*: `mailto:a@b.com` has
///   [`opaque`](Self::opaque) `a@b.com` and no host or path.
/// - The scheme is lowercased; the host is kept as written. [`path`](Self::path) is
///   percent-decoded; [`query`](Self::query) maps each key to its values in order.
/// - Hosts follow recent Go releases: an IPv6 address must be in brackets and valid
///   (`[::1]:8080`, with an optional `%25zone`), and a port is digits only.
/// - Unlike Go, percent-escapes that decode to bytes that are not UTF-8 are errors in the path and
///   userinfo (Rust strings hold UTF-8); in the query, such pairs are skipped like other
///   malformed pairs.
///
/// [`Display`](fmt::Display) writes a URI that parses back to an equal value (the password
/// included, so a URI can be stored and read back). [`Debug`](fmt::Debug),
/// [`redacted`](Self::redacted) and every error show `xxxxx` in place of a password.
///
/// Equality compares the parsed parts and the path's spelling (`/a%2Fb` is not `/a/b`), but not
/// whether an empty authority was written: `s3:/x` equals `s3:///x`.
///
/// ```
/// use archiver_core::ArchiveUri;
/// let uri: ArchiveUri = "s3://user:secret@bucket:9000/prefix/a%20b?region=eu&region=us".parse()?;
/// assert_eq!(uri.scheme(), "s3");
/// assert_eq!(uri.hostname(), "bucket");
/// assert_eq!(uri.port(), "9000");
/// assert_eq!(uri.path(), "/prefix/a b");
/// assert_eq!(uri.query()["region"], ["eu", "us"]);
/// assert_eq!(uri.redacted(), "s3://user:xxxxx@bucket:9000/prefix/a%20b?region=eu&region=us");
/// assert!(!format!("{uri:?}").contains("secret"));
/// # Ok::<(), archiver_core::Error>(())
/// ```
#[derive(Clone)]
pub struct ArchiveUri {
    scheme: String,
    opaque: String,
    user: Option<Userinfo>,
    /// Decoded `host[:port]`, IPv6 literals in brackets (Go's `URL.Host`).
    host: String,
    /// `scheme:/path`: written without `//` (Go's `OmitHost`).
    omit_host: bool,
    path: String,
    /// The path as written, kept only when it is a valid spelling other than the default
    /// escaping of `path` (Go's `RawPath` as `EscapedPath` uses it).
    raw_path: Option<String>,
    /// `None` without a `?`; `Some("")` for a trailing `?` (Go's `ForceQuery`).
    raw_query: Option<String>,
    query: BTreeMap<String, Vec<String>>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Userinfo {
    username: String,
    /// `Some("")` for `user:@host`: the password is set but empty.
    password: Option<String>,
}

/// What errors and logs show in place of a password (Go's `URL.Redacted` does the same).
const REDACTED_PASSWORD: &str = "xxxxx";

/// The scheme of local directories.
const FILE_SCHEME: &str = "file";

/// Longest URI text echoed in an error: the input may be arbitrary bytes from a config.
const MAX_ECHOED_CHARS: usize = 256;

impl ArchiveUri {
    /// Parses `s` with Go's `net/url.ParseRequestURI` rules (see the type docs).
    ///
    /// Errors are [`Error::InvalidUri`] with the URI (password removed) and the reason.
    pub fn parse(s: &str) -> Result<Self> {
        parse_request_uri(s).map_err(|reason| Error::InvalidUri {
            uri: redact_unparsed(s),
            reason,
        })
    }

    /// The scheme, lowercased (`"file"`, `"s3"`); empty for an absolute path such as `/a/b`.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The percent-decoded path: `/a b` for `file:///a%20b`; empty for `file://` and opaque URIs.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The host without port or IPv6 brackets (`::1` for `http://[::1]:80`); may be empty.
    pub fn hostname(&self) -> &str {
        let (host, _) = split_host_port(&self.host);
        host.strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host)
    }

    /// The port as written (digits only); empty when there is none.
    pub fn port(&self) -> &str {
        split_host_port(&self.host).1
    }

    /// The decoded user name; empty when the URI has no userinfo.
    pub fn username(&self) -> &str {
        self.user.as_ref().map_or("", |u| &u.username)
    }

    /// The decoded password; empty when there is none. Keep it out of logs: use
    /// [`redacted`](Self::redacted) to show the URI.
    pub fn password(&self) -> &str {
        self.user
            .as_ref()
            .and_then(|u| u.password.as_deref())
            .unwrap_or("")
    }

    /// The opaque part of `scheme:opaque` URIs, as written (`a@b.com` for `mailto:a@b.com`).
    pub fn opaque(&self) -> &str {
        &self.opaque
    }

    /// The query: each key's decoded values, in the order written. Malformed pairs are skipped,
    /// like Go's `URL.Query` does.
    pub fn query(&self) -> &BTreeMap<String, Vec<String>> {
        &self.query
    }

    /// The directory a `file://` URI names: its absolute, percent-decoded path.
    ///
    /// The rule every user of `file://` URIs shares (the config check, the file store), so a
    /// URI accepted here does not fail on first use. The URI must be `file:///absolute/path`
    /// (or `file://localhost/absolute/path`); [`Error::InvalidUri`] otherwise, saying why:
    ///
    /// - user info or a port (a local directory has neither), or a host other than `localhost`
    ///   (`file://relative/x` names host `relative`, not a relative path);
    /// - an empty path (`file://`, or the opaque `file:x`);
    /// - a NUL in the path (`%00`: no file system path can hold it);
    /// - a `..` segment, written so or escaped (`%2e%2e`): the directory would depend on the
    ///   links along the way rather than on the URI, and could lie outside the path as written.
    ///
    /// Another scheme is [`Error::SchemeMismatch`].
    ///
    /// ```
    /// use archiver_core::ArchiveUri;
    /// let uri: ArchiveUri = "file:///var/lib/archive%20x".parse()?;
    /// assert_eq!(uri.file_directory()?, "/var/lib/archive x");
    /// let bad: ArchiveUri = "file:///var/%2e%2e/etc".parse()?;
    /// assert!(bad.file_directory().is_err());
    /// # Ok::<(), archiver_core::Error>(())
    /// ```
    pub fn file_directory(&self) -> Result<&str> {
        crate::check_scheme(FILE_SCHEME, self)?;
        let reason = if self.user.is_some() {
            "a file URI has no user info"
        } else if !self.port().is_empty() || self.host.ends_with(':') {
            "a file URI has no port"
        } else if !matches!(self.hostname(), "" | "localhost") {
            "a file URI names a local directory: use file:///absolute/path (no host)"
        } else if self.path.is_empty() {
            "the directory path is empty: use file:///absolute/path"
        } else if self.path.contains('\0') {
            "the directory path contains NUL"
        } else if self.path.split('/').any(|segment| segment == "..") {
            "the directory path has a `..` segment"
        } else {
            // A parsed path that is not empty starts with `/` (opaque URIs have no path).
            return Ok(&self.path);
        };
        Err(Error::InvalidUri {
            uri: self.redacted(),
            reason: reason.to_owned(),
        })
    }

    /// The URI with any password replaced by `xxxxx`: the form for errors and logs.
    pub fn redacted(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, true)
            .expect("writing to a String cannot fail");
        out
    }

    /// Writes the URI like Go's `URL.String`, with the password redacted on request.
    fn write(&self, f: &mut impl fmt::Write, redact: bool) -> fmt::Result {
        if !self.scheme.is_empty() {
            write!(f, "{}:", self.scheme)?;
        }
        if !self.opaque.is_empty() {
            f.write_str(&self.opaque)?;
        } else {
            let has_authority = !self.host.is_empty() || self.user.is_some();
            let path = match &self.raw_path {
                Some(raw) => raw.clone(),
                None => escape(&self.path, Component::Path),
            };
            // `s3:/x` keeps its spelling, unless the path starts with `//` and would then read
            // back as an authority (Go's `URL.String` has that flaw).
            let omit_host = self.omit_host && !has_authority && !path.starts_with("//");
            if (!self.scheme.is_empty() || has_authority) && !omit_host {
                if has_authority || !self.path.is_empty() {
                    f.write_str("//")?;
                }
                if let Some(user) = &self.user {
                    f.write_str(&escape(&user.username, Component::UserPassword))?;
                    if let Some(password) = &user.password {
                        let shown = if redact {
                            REDACTED_PASSWORD.to_owned()
                        } else {
                            escape(password, Component::UserPassword)
                        };
                        write!(f, ":{shown}@")?;
                    } else {
                        f.write_char('@')?;
                    }
                }
                f.write_str(&escape(&self.host, Component::Host))?;
            }
            // Parsed paths are empty or start with `/` (or are `*`), so unlike Go's
            // `URL.String` no `/` or `./` needs adding for them to read back the same.
            f.write_str(&path)?;
        }
        if let Some(query) = &self.raw_query {
            write!(f, "?{query}")?;
        }
        Ok(())
    }
}

impl ArchiveUri {
    /// Everything but `omit_host`, which only chooses between two spellings of one URI.
    #[allow(clippy::type_complexity)]
    fn identity(
        &self,
    ) -> (
        &str,
        &str,
        &Option<Userinfo>,
        &str,
        &str,
        &Option<String>,
        &Option<String>,
    ) {
        (
            &self.scheme,
            &self.opaque,
            &self.user,
            &self.host,
            &self.path,
            &self.raw_path,
            &self.raw_query,
        )
    }
}

impl PartialEq for ArchiveUri {
    fn eq(&self, other: &Self) -> bool {
        // `query` follows from `raw_query`.
        self.identity() == other.identity()
    }
}

impl Eq for ArchiveUri {}

impl std::hash::Hash for ArchiveUri {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.identity().hash(state);
    }
}

impl FromStr for ArchiveUri {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl fmt::Display for ArchiveUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, false)
    }
}

impl fmt::Debug for ArchiveUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ArchiveUri").field(&self.redacted()).finish()
    }
}

/// Go's `parse(rawURL, viaRequest = true)`, reasons in our words.
fn parse_request_uri(raw: &str) -> Result<ArchiveUri, String> {
    if let Some(c) = raw.chars().find(|c| c.is_ascii_control()) {
        return Err(format!("contains the control character {c:?}"));
    }
    if raw.is_empty() {
        return Err("empty URI".into());
    }
    let mut uri = ArchiveUri {
        scheme: String::new(),
        opaque: String::new(),
        user: None,
        host: String::new(),
        omit_host: false,
        path: String::new(),
        raw_path: None,
        raw_query: None,
        query: BTreeMap::new(),
    };
    if raw == "*" {
        uri.path = "*".into();
        uri.raw_path = Some("*".into());
        return Ok(uri);
    }
    let (scheme, rest) = split_scheme(raw)?;
    uri.scheme = scheme.to_ascii_lowercase();

    let rest = if rest.ends_with('?') && rest.matches('?').count() == 1 {
        uri.raw_query = Some(String::new());
        &rest[..rest.len() - 1]
    } else if let Some((rest, query)) = rest.split_once('?') {
        uri.query = parse_query(query);
        uri.raw_query = Some(query.to_owned());
        rest
    } else {
        rest
    };

    if !rest.starts_with('/') {
        if uri.scheme.is_empty() {
            return Err(
                "not absolute: a scheme (`file:`) or a path starting with `/` is required".into(),
            );
        }
        uri.opaque = rest.to_owned();
        return Ok(uri);
    }

    let path = match rest.strip_prefix("//").filter(|_| !uri.scheme.is_empty()) {
        Some(authority_and_path) => {
            let (authority, path) = authority_and_path
                .find('/')
                .map_or((authority_and_path, ""), |i| authority_and_path.split_at(i));
            (uri.user, uri.host) = parse_authority(authority)?;
            path
        }
        None => {
            uri.omit_host = !uri.scheme.is_empty();
            rest
        }
    };
    uri.path = unescape(path, Component::Path).map_err(|e| e.reason("path", false))?;
    if path != escape(&uri.path, Component::Path) && is_valid_encoded_path(path) {
        uri.raw_path = Some(path.to_owned());
    }
    Ok(uri)
}

/// Splits a leading `scheme:`; no scheme when the text before the first `:` is not one.
fn split_scheme(raw: &str) -> Result<(&str, &str), String> {
    for (i, b) in raw.bytes().enumerate() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return Err("missing scheme before ':'".into()),
            b':' => return Ok((&raw[..i], &raw[i + 1..])),
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

fn parse_authority(authority: &str) -> Result<(Option<Userinfo>, String), String> {
    let Some(at) = authority.rfind('@') else {
        return Ok((None, parse_host(authority)?));
    };
    let host = parse_host(&authority[at + 1..])?;
    let userinfo = &authority[..at];
    if !userinfo.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                '-' | '.'
                    | '_'
                    | ':'
                    | '~'
                    | '!'
                    | '$'
                    | '&'
                    | '\''
                    | '('
                    | ')'
                    | '*'
                    | '+'
                    | ','
                    | ';'
                    | '='
                    | '%'
                    | '@'
            )
    }) {
        return Err("invalid character in userinfo".into());
    }
    let (username, password) = match userinfo.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (userinfo, None),
    };
    let username =
        unescape(username, Component::UserPassword).map_err(|e| e.reason("user name", true))?;
    let password = password
        .map(|p| unescape(p, Component::UserPassword).map_err(|e| e.reason("password", true)))
        .transpose()?;
    Ok((Some(Userinfo { username, password }), host))
}

/// Go's `parseHost`, with the checks recent Go releases add: a bracketed host must be an IPv6
/// address, and an unbracketed one has at most one colon.
fn parse_host(host: &str) -> Result<String, String> {
    if let Some(bracketed) = host.strip_prefix('[') {
        let close = bracketed.rfind(']').ok_or("missing ']' in host")?;
        let (literal, colon_port) = (&bracketed[..close], &bracketed[close + 1..]);
        check_port(colon_port)?;
        let (addr, zone) = literal
            .find("%25")
            .map_or((literal, ""), |z| literal.split_at(z));
        let addr = unescape(addr, Component::Host).map_err(|e| e.reason("host", false))?;
        if addr.parse::<Ipv6Addr>().is_err() {
            return Err(format!("invalid IPv6 address {addr:?} in host"));
        }
        let zone = unescape(zone, Component::Zone).map_err(|e| e.reason("IPv6 zone", false))?;
        return Ok(format!("[{addr}{zone}]{colon_port}"));
    }
    if let Some(colon) = host.find(':') {
        if host[colon + 1..].contains(':') {
            return Err(format!(
                "invalid host {host:?}: more than one ':' (IPv6 addresses go in brackets)"
            ));
        }
        check_port(&host[colon..])?;
    }
    unescape(host, Component::Host).map_err(|e| e.reason("host", false))
}

/// Accepts `""` or `:` followed by digits.
fn check_port(colon_port: &str) -> Result<(), String> {
    if is_optional_port(colon_port) {
        Ok(())
    } else {
        Err(format!("invalid port {colon_port:?} after host"))
    }
}

fn is_optional_port(colon_port: &str) -> bool {
    colon_port.is_empty()
        || colon_port
            .strip_prefix(':')
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// Go's `splitHostPort` on an already validated `URL.Host`.
fn split_host_port(host: &str) -> (&str, &str) {
    match host.rfind(':') {
        Some(colon) if is_optional_port(&host[colon..]) => (&host[..colon], &host[colon + 1..]),
        _ => (host, ""),
    }
}

/// Go's `ParseQuery`, keeping what it keeps: pairs with a `;` or a bad escape are dropped.
fn parse_query(raw: &str) -> BTreeMap<String, Vec<String>> {
    let mut query: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pair in raw.split('&') {
        if pair.is_empty() || pair.contains(';') {
            continue;
        }
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if let (Ok(key), Ok(value)) = (
            unescape(key, Component::Query),
            unescape(value, Component::Query),
        ) {
            query.entry(key).or_default().push(value);
        }
    }
    query
}

/// Best-effort password removal from text that did not parse, for the error message: replaces
/// what follows the first `:` of the userinfo of `scheme://userinfo@host`.
fn redact_unparsed(raw: &str) -> String {
    let mut text = raw.to_owned();
    if let Some(start) = raw.find("//").map(|i| i + 2) {
        let end = raw[start..]
            .find(['/', '?'])
            .map_or(raw.len(), |i| start + i);
        if let Some(at) = raw[start..end].rfind('@').map(|i| start + i)
            && let Some(colon) = raw[start..at].find(':').map(|i| start + i)
        {
            text = format!("{}:{REDACTED_PASSWORD}{}", &raw[..colon], &raw[at..]);
        }
    }
    match text.char_indices().nth(MAX_ECHOED_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unparsed_text_is_redacted_and_bounded() {
        assert_eq!(
            redact_unparsed("s3://me:hunter2@host:bad/x"),
            "s3://me:xxxxx@host:bad/x"
        );
        assert_eq!(redact_unparsed("mailto:a@b"), "mailto:a@b");
        let long = format!("file:///{}", "a".repeat(1000));
        assert!(redact_unparsed(&long).len() < 300);
    }

    #[test]
    fn split_host_port_matches_go() {
        assert_eq!(split_host_port("[::1]"), ("[::1]", ""));
        assert_eq!(split_host_port("[::1]:80"), ("[::1]", "80"));
        assert_eq!(split_host_port("h:"), ("h", ""));
        assert_eq!(split_host_port("h"), ("h", ""));
    }
}
