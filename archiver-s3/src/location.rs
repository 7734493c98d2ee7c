//! `s3://bucket/optional/prefix` URIs: S3's bucket naming, on top of the kit's
//! [`ObjectLocation`] checks.

use archiver_core::{ArchiveUri, Result};
use archiver_kit::object::ObjectLocation;

/// The provider's URI scheme.
pub(crate) const SCHEME: &str = "s3";

/// Checks `uri` without the network: scheme `s3`, a bucket name as host, a prefix that leaves
/// room for the layout's keys.
pub(crate) fn location(uri: &ArchiveUri) -> Result<ObjectLocation> {
    ObjectLocation::from_uri(
        uri,
        SCHEME,
        is_bucket_name,
        "3 to 255 of A-Z, a-z, 0-9, '.', '-', '_', starting with a letter or digit",
    )
}

/// S3's bucket names, leniently: today's rules (3 to 63 of `a-z0-9.-`) plus what legacy
/// us-east-1 buckets and S3-compatible servers allow (upper case, `_`, up to 255), so no real
/// bucket is refused; anything that could bend a request (`/`, `?`, `%`, spaces) is.
fn is_bucket_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=255).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        && bytes[0].is_ascii_alphanumeric()
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
        assert!(
            parse("s3://Legacy_Bucket/x").is_ok(),
            "legacy names are accepted"
        );
        let l = parse("s3://my-bucket/a/b/").unwrap();
        assert_eq!((l.bucket(), l.prefix()), ("my-bucket", "a/b/"));
        assert_eq!(l.describe("k"), "s3://my-bucket/k");
        for uri in [
            "s3:///no-bucket",
            "s3://ab/x",
            "s3://bucket:9000/x",
            "s3://-bucket/x",
        ] {
            assert!(matches!(parse(uri), Err(Error::InvalidUri { .. })), "{uri}");
        }
        assert!(matches!(
            parse("file:///tmp"),
            Err(Error::SchemeMismatch { .. })
        ));
    }

    #[test]
    fn a_refused_bucket_name_is_told_the_rule_it_broke() {
        let Err(Error::InvalidUri { reason, .. }) = parse("s3://-bucket/x") else {
            panic!("refused");
        };
        assert!(
            reason.contains(
                "3 to 255 of A-Z, a-z, 0-9, '.', '-', '_', starting with a letter or digit"
            ),
            "{reason}"
        );
        // The rule as told: 255 characters with upper case and `_` pass, 256 do not.
        let longest = format!("B_{}", "b".repeat(253));
        assert!(parse(&format!("s3://{longest}/x")).is_ok());
        assert!(parse(&format!("s3://{longest}b/x")).is_err());
    }
}
