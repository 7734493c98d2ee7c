//! `s3://bucket/optional/prefix` URIs, and the keys of the layout under them.
//!
//! Ids never appear raw in keys: each becomes the hex of a SHA-256 digest (see [`id_segment`]),
//! so `/`, `..`, unicode or a 10 KB workflow id all give a short, safe key.

use archiver_core::{ArchiveUri, Error, Result, check_scheme};
use sha2::{Digest, Sha256};

/// The provider's URI scheme.
pub(crate) const SCHEME: &str = "s3";
/// The layout version, the first segment under the URI's prefix.
const LAYOUT: &str = "v1";
/// The longest key prefix a URI may carry: S3 keys end at 1024 bytes and the layout needs
/// about 230 of them after the prefix.
const MAX_PREFIX: usize = 512;

/// The bucket and key prefix a URI names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Location {
    pub(crate) bucket: String,
    /// Empty, or ends with `/`.
    prefix: String,
}

impl Location {
    /// Checks the URI without the network: scheme `s3`, a valid bucket name as host, a prefix
    /// that leaves room for our keys.
    pub(crate) fn from_uri(uri: &ArchiveUri) -> Result<Self> {
        check_scheme(SCHEME, uri)?;
        let invalid = |reason: String| Error::InvalidUri {
            uri: uri.redacted(),
            reason,
        };
        let bucket = uri.hostname();
        if bucket.is_empty() {
            return Err(invalid("no bucket specified".into()));
        }
        if !is_bucket_name(bucket) {
            return Err(invalid(format!(
                "{bucket:?} is not a bucket name (3 to 63 of a-z, 0-9, '.', '-', starting with a letter or digit)"
            )));
        }
        if !uri.port().is_empty() || !uri.username().is_empty() {
            return Err(invalid(
                "an s3 URI names a bucket: no port or user (set the endpoint in the config)".into(),
            ));
        }
        let path = uri.path().trim_matches('/');
        if path.len() > MAX_PREFIX {
            return Err(invalid(format!(
                "the key prefix is {} bytes, at most {MAX_PREFIX} are allowed",
                path.len()
            )));
        }
        if path.chars().any(char::is_control) {
            return Err(invalid("the key prefix holds control characters".into()));
        }
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}/")
        };
        Ok(Location {
            bucket: bucket.to_owned(),
            prefix,
        })
    }

    /// `s3://bucket/key`, to name an object in errors and logs.
    pub(crate) fn describe(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    /// `<prefix>v1/history/<ns>/<workflow>/<run>/`: everything archived for one run.
    pub(crate) fn run_prefix(&self, namespace_id: &str, workflow_id: &str, run_id: &str) -> String {
        format!(
            "{}{LAYOUT}/history/{}/{}/{}/",
            self.prefix,
            id_segment(namespace_id),
            id_segment(workflow_id),
            id_segment(run_id)
        )
    }

    /// `<prefix>v1/visibility/<ns>/`: one namespace's records.
    pub(crate) fn visibility_prefix(&self, namespace_id: &str) -> String {
        format!(
            "{}{LAYOUT}/visibility/{}/",
            self.prefix,
            id_segment(namespace_id)
        )
    }
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

/// SHA-256 over `parts`, each prefixed by its length (so `("ab","c")` and `("a","bc")` differ).
pub(crate) fn digest(parts: &[&str]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize().into()
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The key segment of an id: 32 hex digits (128 bits of SHA-256). Fixed length, `[0-9a-f]`
/// only; the real id is stored inside the objects and checked on read.
pub(crate) fn id_segment(id: &str) -> String {
    hex(&digest(&[id])[..16])
}

/// An 8-hex-digit digest of an indexed value in visibility keys. Short on purpose: it prunes
/// the listing; collisions only cost a download, since records are checked after reading.
pub(crate) fn short_hash(value: &str) -> String {
    hex(&digest(&[value])[..4])
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn location(uri: &str) -> Result<Location> {
        Location::from_uri(&ArchiveUri::parse(uri).expect("parses"))
    }

    #[test]
    fn bucket_and_prefix() {
        assert!(
            location("s3://Legacy_Bucket/x").is_ok(),
            "legacy names are accepted"
        );
        let l = location("s3://my-bucket/a/b/").unwrap();
        assert_eq!(
            (l.bucket.as_str(), l.prefix.as_str()),
            ("my-bucket", "a/b/")
        );
        assert_eq!(location("s3://my-bucket").unwrap().prefix, "");
        assert_eq!(
            location("s3://my-bucket//lead").unwrap().prefix,
            "lead/",
            "leading slashes are trimmed, as Temporal does"
        );
        assert_eq!(l.describe("k"), "s3://my-bucket/k");
    }

    #[test]
    fn bad_uris_are_invalid_uri() {
        for uri in [
            "s3:///no-bucket",
            "s3://ab/x",
            "s3://bucket:9000/x",
            "s3://-bucket/x",
        ] {
            assert!(
                matches!(location(uri), Err(Error::InvalidUri { .. })),
                "{uri}"
            );
        }
        let long = format!("s3://bucket/{}", "p".repeat(MAX_PREFIX + 1));
        assert!(matches!(location(&long), Err(Error::InvalidUri { .. })));
        assert!(matches!(
            location("file:///tmp"),
            Err(Error::SchemeMismatch { .. })
        ));
    }

    #[test]
    fn hostile_ids_give_fixed_safe_keys() {
        let l = location("s3://bucket/p").unwrap();
        let long = "w".repeat(10_000);
        for id in ["../..", "/", "a/b", "", "日本", long.as_str(), "a\0b"] {
            let key = l.run_prefix(id, id, id);
            assert_eq!(key.len(), "p/v1/history/".len() + 3 * 33, "{key}");
            assert!(key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'/'));
        }
    }

    proptest! {
        #[test]
        fn segments_are_injective_in_practice(a in any::<String>(), b in any::<String>()) {
            prop_assume!(a != b);
            prop_assert_ne!(id_segment(&a), id_segment(&b));
        }
    }
}
