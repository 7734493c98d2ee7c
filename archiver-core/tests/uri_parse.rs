//! `ArchiveUri` against Go's `net/url.ParseRequestURI`: every case of Temporal's `uri_test.go`
//! table, plus the edges Go's rules define (hosts, ports, escapes).

use archiver_core::{ArchiveUri, Error};

/// Expected accessor values; `query` lists each key with its values in order.
#[derive(Default)]
struct Want {
    scheme: &'static str,
    hostname: &'static str,
    port: &'static str,
    path: &'static str,
    username: &'static str,
    password: &'static str,
    opaque: &'static str,
    query: &'static [(&'static str, &'static [&'static str])],
}

fn check(input: &str, want: Want) {
    let uri = ArchiveUri::parse(input).unwrap_or_else(|e| panic!("{input:?} should parse: {e}"));
    assert_eq!(uri.scheme(), want.scheme, "scheme of {input:?}");
    assert_eq!(uri.hostname(), want.hostname, "hostname of {input:?}");
    assert_eq!(uri.port(), want.port, "port of {input:?}");
    assert_eq!(uri.path(), want.path, "path of {input:?}");
    assert_eq!(uri.username(), want.username, "username of {input:?}");
    assert_eq!(uri.password(), want.password, "password of {input:?}");
    assert_eq!(uri.opaque(), want.opaque, "opaque of {input:?}");
    let query: Vec<(&str, Vec<&str>)> = uri
        .query()
        .iter()
        .map(|(k, v)| (k.as_str(), v.iter().map(String::as_str).collect()))
        .collect();
    let want_query: Vec<(&str, Vec<&str>)> =
        want.query.iter().map(|(k, v)| (*k, v.to_vec())).collect();
    assert_eq!(query, want_query, "query of {input:?}");
    // Whatever was accepted prints back to something that reads the same.
    assert_eq!(
        ArchiveUri::parse(&uri.to_string()).unwrap(),
        uri,
        "{input:?} round trip"
    );
}

fn check_err(input: &str, reason_contains: &str) {
    match ArchiveUri::parse(input) {
        Err(Error::InvalidUri { reason, .. }) => assert!(
            reason.contains(reason_contains),
            "{input:?}: reason {reason:?} lacks {reason_contains:?}"
        ),
        other => panic!("{input:?} should be InvalidUri, got {other:?}"),
    }
}

/// Temporal's `TestURISuite/TestURI`, all ten rows.
#[test]
fn temporal_uri_test_table() {
    check_err("", "empty");
    check_err("some random string", "not absolute");
    check(
        "mailto:a@b.com",
        Want {
            scheme: "mailto",
            opaque: "a@b.com",
            ..Want::default()
        },
    );
    check(
        "test://",
        Want {
            scheme: "test",
            ..Want::default()
        },
    );
    check(
        "http://example.com/path",
        Want {
            scheme: "http",
            hostname: "example.com",
            path: "/path",
            ..Want::default()
        },
    );
    check(
        "http://example.com/path with space",
        Want {
            scheme: "http",
            hostname: "example.com",
            path: "/path with space",
            ..Want::default()
        },
    );
    check(
        "https://localhost:8080?key1=value1&key1=value2&key2=value3",
        Want {
            scheme: "https",
            hostname: "localhost",
            port: "8080",
            query: &[("key1", &["value1", "value2"]), ("key2", &["value3"])],
            ..Want::default()
        },
    );
    check(
        "file:///absolute/path/to/dir",
        Want {
            scheme: "file",
            path: "/absolute/path/to/dir",
            ..Want::default()
        },
    );
    check(
        "test://person:password@host/path",
        Want {
            scheme: "test",
            hostname: "host",
            path: "/path",
            username: "person",
            password: "password",
            ..Want::default()
        },
    );
    check(
        "test:opaque?key=value",
        Want {
            scheme: "test",
            opaque: "opaque",
            query: &[("key", &["value"])],
            ..Want::default()
        },
    );
}

/// Where WHATWG parsing (the `url` crate) would differ from Go's.
#[test]
fn go_semantics_where_whatwg_differs() {
    // filestore relies on `file://` having an empty path (its "empty directory path" error).
    check(
        "file://",
        Want {
            scheme: "file",
            ..Want::default()
        },
    );
    check(
        "s3://",
        Want {
            scheme: "s3",
            ..Want::default()
        },
    );
    check(
        "s3:///test",
        Want {
            scheme: "s3",
            path: "/test",
            ..Want::default()
        },
    );
    check(
        "gs:/bucket/dir",
        Want {
            scheme: "gs",
            path: "/bucket/dir",
            ..Want::default()
        },
    );
    check(
        "gs:bucket/dir",
        Want {
            scheme: "gs",
            opaque: "bucket/dir",
            ..Want::default()
        },
    );
    // Not a relative directory: `relative` is the host.
    check(
        "file://relative/path",
        Want {
            scheme: "file",
            hostname: "relative",
            path: "/path",
            ..Want::default()
        },
    );
    // The scheme is lowercased, the host is not.
    check(
        "FILE://Host/x",
        Want {
            scheme: "file",
            hostname: "Host",
            path: "/x",
            ..Want::default()
        },
    );
    // An absolute path without a scheme is a request URI too.
    check(
        "/var/lib/archive",
        Want {
            path: "/var/lib/archive",
            ..Want::default()
        },
    );
    check(
        "*",
        Want {
            path: "*",
            ..Want::default()
        },
    );
    // `//x` without a scheme is a path, not an authority.
    check(
        "//host/p",
        Want {
            path: "//host/p",
            ..Want::default()
        },
    );
    // No fragments: `#` belongs to the path.
    check(
        "file:///a#b",
        Want {
            scheme: "file",
            path: "/a#b",
            ..Want::default()
        },
    );
}

#[test]
fn hosts_and_ports() {
    check(
        "http://[::1]:8080/x",
        Want {
            scheme: "http",
            hostname: "::1",
            port: "8080",
            path: "/x",
            ..Want::default()
        },
    );
    check(
        "http://[fe80::1%25en0]/",
        Want {
            scheme: "http",
            hostname: "fe80::1%en0",
            path: "/",
            ..Want::default()
        },
    );
    check(
        "http://[::ffff:1.2.3.4]",
        Want {
            scheme: "http",
            hostname: "::ffff:1.2.3.4",
            ..Want::default()
        },
    );
    check(
        "http://host:/x",
        Want {
            scheme: "http",
            hostname: "host",
            path: "/x",
            ..Want::default()
        },
    );
    check(
        "s3://my-bucket.s3:99999",
        Want {
            scheme: "s3",
            hostname: "my-bucket.s3",
            port: "99999",
            ..Want::default()
        },
    );
    check(
        "http://b%C3%BCcher.de",
        Want {
            scheme: "http",
            hostname: "bücher.de",
            ..Want::default()
        },
    );
    check_err("http://host:abc/", "invalid port \":abc\"");
    check_err("http://host:80:80/", "more than one ':'");
    check_err("http://::1/", "more than one ':'");
    check_err("http://[::1/", "missing ']'");
    check_err("http://[::1]x/", "invalid port \"x\"");
    check_err("http://[not-ipv6]/", "invalid IPv6 address");
    check_err("http://[1.2.3.4]/", "invalid IPv6 address");
    check_err("http://ho st/", "invalid character ' ' in the host");
    check_err("http://h%41/", "invalid percent-escape \"%41\" in the host");
    check_err("http://[fe80::1%25%2F]/", "IPv6 zone");
}

#[test]
fn userinfo() {
    check(
        "s3://user@b/k",
        Want {
            scheme: "s3",
            hostname: "b",
            path: "/k",
            username: "user",
            ..Want::default()
        },
    );
    check(
        "s3://user:@b",
        Want {
            scheme: "s3",
            hostname: "b",
            username: "user",
            ..Want::default()
        },
    );
    check(
        "s3://@b",
        Want {
            scheme: "s3",
            hostname: "b",
            ..Want::default()
        },
    );
    check(
        "s3://us%40er:p%3Ass@w@rd@b/k",
        Want {
            scheme: "s3",
            hostname: "b",
            path: "/k",
            username: "us@er",
            password: "p:ss@w@rd",
            ..Want::default()
        },
    );
    check_err("s3://us er:pw@b", "invalid character in userinfo");
    check_err(
        "s3://user:pw%zz@b",
        "invalid percent-escape in the password",
    );
}

#[test]
fn paths_are_percent_decoded() {
    check(
        "file:///a%20b/%C3%BC/c%2Fd",
        Want {
            scheme: "file",
            path: "/a b/ü/c/d",
            ..Want::default()
        },
    );
    check(
        "file:///a+b",
        Want {
            scheme: "file",
            path: "/a+b",
            ..Want::default()
        },
    );
    check_err(
        "file:///a%zzb",
        "invalid percent-escape \"%zz\" in the path",
    );
    check_err("file:///a%2", "invalid percent-escape \"%2\" in the path");
    check_err("file:///a%FF", "does not decode to UTF-8");
    // An escaped slash keeps its spelling when printed, so it does not become a separator.
    assert_eq!(
        ArchiveUri::parse("file:///a%2Fb").unwrap().to_string(),
        "file:///a%2Fb"
    );
    assert_eq!(
        ArchiveUri::parse("http://example.com/path with space")
            .unwrap()
            .to_string(),
        "http://example.com/path%20with%20space"
    );
}

#[test]
fn queries_follow_go_parse_query() {
    check(
        "s3://b?a=1&a=2&b&c=x+y%21&=v",
        Want {
            scheme: "s3",
            hostname: "b",
            query: &[
                ("", &["v"]),
                ("a", &["1", "2"]),
                ("b", &[""]),
                ("c", &["x y!"]),
            ],
            ..Want::default()
        },
    );
    // Go drops pairs with a semicolon or a bad escape and keeps the rest.
    check(
        "s3://b?a=1;b=2&c=%zz&d=4",
        Want {
            scheme: "s3",
            hostname: "b",
            query: &[("d", &["4"])],
            ..Want::default()
        },
    );
    // A trailing `?` is kept when printing, and `??` starts the query with `?`.
    assert_eq!(
        ArchiveUri::parse("s3://b/k?").unwrap().to_string(),
        "s3://b/k?"
    );
    check(
        "s3://b/k??x",
        Want {
            scheme: "s3",
            hostname: "b",
            path: "/k",
            query: &[("?x", &[""])],
            ..Want::default()
        },
    );
}

#[test]
fn malformed_inputs_are_errors() {
    check_err("relative/path", "not absolute");
    check_err("a.txt", "not absolute");
    check_err("1http://x", "not absolute");
    check_err(":foo", "missing scheme");
    check_err("file:///a\nb", "control character");
    check_err("file:///a\u{7f}", "control character");
}

#[test]
fn scheme_and_uri_equality() {
    let a = ArchiveUri::parse("FILE:///x").unwrap();
    let b: ArchiveUri = "file:///x".parse().unwrap();
    assert_eq!(a, b);
    assert_ne!(a, ArchiveUri::parse("file:///y").unwrap());
}

#[test]
fn empty_authority_is_a_spelling_not_a_difference() {
    let short = ArchiveUri::parse("s3:/x").unwrap();
    assert_eq!(short, ArchiveUri::parse("s3:///x").unwrap());
    assert_eq!(short.to_string(), "s3:/x");
    // A path starting with `//` must not print as an authority (found by the round-trip proptest).
    let tricky = ArchiveUri::parse("x:/%2Fhost/p q").unwrap();
    assert_eq!(tricky.path(), "//host/p q");
    assert_eq!(tricky.to_string(), "x:////host/p%20q");
    assert_eq!(ArchiveUri::parse(&tricky.to_string()).unwrap(), tricky);
}
