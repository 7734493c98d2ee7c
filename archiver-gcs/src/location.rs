//! `gs://bucket/optional/prefix` URIs: GCS's bucket naming, on top of the kit's
//! [`ObjectLocation`] checks.

use archiver_core::{ArchiveUri, Result};
use archiver_kit::object::ObjectLocation;

/// The provider's URI scheme.
pub(crate) const SCHEME: &str = "gs";

/// Checks `uri` without the network: scheme `gs`, a bucket name as host, a prefix that leaves
/// room for the layout's names.
pub(crate) fn location(uri: &ArchiveUri) -> Result<ObjectLocation> {
    ObjectLocation::from_uri(
        uri,
        SCHEME,
        is_bucket_name,
        "3 to 63 of a-z, 0-9, '-', '_', '.'; dotted names up to 222",
    )
}

/// GCS's bucket naming rules: lower-case letters, digits, `-`, `_` and `.`, starting and ending
/// with a letter or digit; 3 to 63 characters, or up to 222 when dotted with each dot-separated
/// part at most 63; no `goog` prefix.
fn is_bucket_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let max = if name.contains('.') { 222 } else { 63 };
    (3..=max).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_'))
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && name
            .split('.')
            .all(|part| !part.is_empty() && part.len() <= 63)
        && !name.starts_with("goog")
}

#[cfg(test)]
mod tests {
    use archiver_core::Error;

    use super::*;

    fn parse(uri: &str) -> Result<ObjectLocation> {
        location(&ArchiveUri::parse(uri).expect("parses"))
    }

    #[test]
    fn bucket_names() {
        let l = parse("gs://my-bucket_1/a/b/").unwrap();
        assert_eq!((l.bucket(), l.prefix()), ("my-bucket_1", "a/b/"));
        assert_eq!(l.describe("k"), "gs://my-bucket_1/k");
        assert!(parse("gs://a.b.example.com/x").is_ok());
        for uri in [
            "gs:///no-bucket",
            "gs://Upper/x",
            "gs://ab/x",
            "gs://bucket:9000/x",
            "gs://-bucket/x",
            "gs://google-bucket/x",
            "gs://a..b/x",
        ] {
            assert!(matches!(parse(uri), Err(Error::InvalidUri { .. })), "{uri}");
        }
        assert!(matches!(
            parse("s3://bucket/x"),
            Err(Error::SchemeMismatch { .. })
        ));
    }
}
