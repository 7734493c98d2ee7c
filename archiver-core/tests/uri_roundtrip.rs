//! Properties of `ArchiveUri`: printing reads back the same value, parsing never panics, and a
//! password never shows in `Debug`, `redacted()` or errors.

use archiver_core::{ArchiveUri, Error};
use proptest::prelude::*;

/// One piece of URI text: plain characters, valid and broken escapes, delimiters, non-ASCII.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9._~-]{1,4}",
        2 => "%[0-9A-Fa-f]{2}",
        1 => "%[0-9A-Za-z]{0,2}",
        2 => prop::sample::select(vec!["/", ":", "@", "?", "&", "=", ";", "+", "#", "[", "]", " ", "!", "*", "'", "%25", "%2F", "ü", "日"])
            .prop_map(str::to_owned),
    ]
}

fn text(max_pieces: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..max_pieces).prop_map(|p| p.concat())
}

/// URI-shaped text: a scheme (sometimes none), an authority (userinfo, reg-name or IPv6, port),
/// a path and a query, each made of arbitrary pieces.
fn uri_text() -> impl Strategy<Value = String> {
    let scheme = prop_oneof![Just(String::new()), "[a-zA-Z][a-zA-Z0-9+.-]{0,5}:"];
    let userinfo = prop_oneof![Just(String::new()), text(4).prop_map(|u| format!("{u}@"))];
    let host = prop_oneof![
        text(3),
        any::<std::net::Ipv6Addr>().prop_map(|a| format!("[{a}]")),
        "\\[fe80::[0-9a-f]{1,4}%25[a-z0-9]{1,3}\\]",
    ];
    let port = prop_oneof![
        Just(String::new()),
        "[0-9]{0,5}".prop_map(|p| format!(":{p}"))
    ];
    let authority = prop_oneof![
        Just(String::new()),
        (userinfo, host, port).prop_map(|(u, h, p)| format!("//{u}{h}{p}")),
    ];
    let path = text(6).prop_map(|p| if p.is_empty() { p } else { format!("/{p}") });
    let query = prop_oneof![Just(String::new()), text(5).prop_map(|q| format!("?{q}"))];
    (scheme, authority, path, query).prop_map(|(s, a, p, q)| format!("{s}{a}{p}{q}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// Display -> parse gives back an equal URI, and printing is stable from then on.
    #[test]
    fn display_then_parse_round_trips(input in uri_text()) {
        if let Ok(uri) = ArchiveUri::parse(&input) {
            let printed = uri.to_string();
            let reparsed = ArchiveUri::parse(&printed)
                .unwrap_or_else(|e| panic!("{input:?} printed as {printed:?}, which fails: {e}"));
            prop_assert_eq!(&reparsed, &uri, "{:?} printed as {:?}", input, printed);
            prop_assert_eq!(reparsed.to_string(), printed);
        }
    }

    /// Any text at all: no panic, and what parses round-trips.
    #[test]
    fn arbitrary_text_never_panics(input in any::<String>()) {
        if let Ok(uri) = ArchiveUri::parse(&input) {
            prop_assert_eq!(ArchiveUri::parse(&uri.to_string()).ok(), Some(uri));
        }
    }

    /// The password is in Display (so URIs can be stored) but never in Debug or redacted().
    #[test]
    fn password_is_never_shown(
        user in "[a-z]{0,5}",
        secret in "[A-Z]{6,10}",
        host in "[a-z]{0,6}",
        path in "(/[a-z]{1,4}){0,3}",
    ) {
        let uri = ArchiveUri::parse(&format!("s3://{user}:{secret}@{host}{path}")).unwrap();
        prop_assert_eq!(uri.password(), secret.as_str());
        prop_assert!(uri.to_string().contains(&secret));
        let debug = format!("{uri:?}");
        prop_assert!(!debug.contains(&secret));
        prop_assert!(!uri.redacted().contains(&secret));
        prop_assert!(uri.redacted().contains(":xxxxx@"));
        let reread = ArchiveUri::parse(&uri.redacted()).unwrap();
        prop_assert_eq!(reread.password(), "xxxxx");
    }

    /// Errors about a URI with a password do not echo the password.
    #[test]
    fn errors_do_not_show_the_password(
        secret in "[A-Z]{6,10}",
        broken in prop::sample::select(vec![":port", ":80:80", "/%zz", "/a%", "/%FF"]),
    ) {
        let input = format!("s3://user:{secret}@host{broken}");
        let err = ArchiveUri::parse(&input).unwrap_err();
        let Error::InvalidUri { uri, .. } = &err else { panic!("{err:?}") };
        prop_assert!(uri.contains("user:xxxxx@host"), "{}", uri);
        prop_assert!(!err.to_string().contains(&secret));
        let debug = format!("{err:?}");
        prop_assert!(!debug.contains(&secret));
    }
}

#[test]
fn bad_password_escape_is_reported_without_the_password() {
    let err = ArchiveUri::parse("s3://user:se%zzcret@host/x").unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(
        !text.contains("se%zzcret") && !text.contains("cret"),
        "{text}"
    );
    assert!(
        text.contains("invalid percent-escape in the password"),
        "{text}"
    );
}

#[test]
fn debug_shows_the_redacted_form() {
    let uri = ArchiveUri::parse("gs://me:pw@bucket/dir?x=1").unwrap();
    assert_eq!(
        format!("{uri:?}"),
        "ArchiveUri(\"gs://me:xxxxx@bucket/dir?x=1\")"
    );
    let plain = ArchiveUri::parse("gs://bucket/dir").unwrap();
    assert_eq!(plain.redacted(), plain.to_string());
}
