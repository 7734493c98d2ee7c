//! Whatever parses prints as canonical text that parses back to an equal tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use visibility_query::parse;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(filter) = parse(text) {
        let canonical = filter.to_string();
        let again = parse(&canonical).unwrap_or_else(|e| panic!("canonical text {canonical:?} does not parse: {e}"));
        assert_eq!(again, filter, "canonical text {canonical:?}");
        assert_eq!(again.to_string(), canonical);
    }
});
