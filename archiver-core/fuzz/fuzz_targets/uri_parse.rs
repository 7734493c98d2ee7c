//! `ArchiveUri::parse` on any text: never panics, and what parses prints back to an equal URI
//! whose `Debug` and `redacted()` hide the password.
#![no_main]

use archiver_core::ArchiveUri;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(uri) = ArchiveUri::parse(text) else {
        return;
    };
    let printed = uri.to_string();
    let reparsed = ArchiveUri::parse(&printed)
        .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which fails: {e}"));
    assert_eq!(reparsed, uri, "{text:?} printed as {printed:?}");
    assert_eq!(reparsed.to_string(), printed);
    let _ = (uri.hostname(), uri.port(), uri.query());
    let redacted = uri.redacted();
    assert_eq!(format!("{uri:?}"), format!("ArchiveUri({redacted:?})"));
    let reread = ArchiveUri::parse(&redacted).expect("the redacted form parses");
    if uri.password() != reread.password() {
        assert_eq!(reread.password(), "xxxxx");
    }
});
