//! `gs://bucket/optional/prefix` URIs, and the object names of the layout under them.
//!
//! Ids never appear raw in names: each becomes the hex of a SHA-256 digest (see [`id_segment`]),
//! so `/`, `..`, unicode or a 10 KB workflow id all give a short, safe name.

use archiver_core::{ArchiveUri, Error, Result, check_scheme};
use sha2::{Digest, Sha256};

/// The provider's URI scheme.
pub(crate) const SCHEME: &str = "gs";
/// The layout version, the first segment under the URI's prefix.
const LAYOUT: &str = "v1";
/// The longest name prefix a URI may carry: GCS names end at 1024 bytes and the layout needs
/// about 230 of them after the prefix.
const MAX_PREFIX: usize = 512;

/// The bucket and name prefix a URI names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Location {
    pub(crate) bucket: String,
    /// Empty, or ends with `/`.
    prefix: String,
}

impl Location {
    /// Checks the URI without the network: scheme `gs`, a valid bucket name as host, a prefix
    /// that leaves room for our names.
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
                "{bucket:?} is not a bucket name (3 to 63 of a-z, 0-9, '-', '_', '.'; \
                 dotted names up to 222)"
            )));
        }
        if !uri.port().is_empty() || !uri.username().is_empty() {
            return Err(invalid(
                "a gs URI names a bucket: no port or user (set the endpoint in the settings)"
                    .into(),
            ));
        }
        let path = uri.path().trim_matches('/');
        if path.len() > MAX_PREFIX {
            return Err(invalid(format!(
                "the name prefix is {} bytes, at most {MAX_PREFIX} are allowed",
                path.len()
            )));
        }
        if path.chars().any(char::is_control) {
            return Err(invalid("the name prefix holds control characters".into()));
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

    /// `gs://bucket/name`, to name an object in errors and logs.
    pub(crate) fn describe(&self, name: &str) -> String {
        format!("gs://{}/{name}", self.bucket)
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

// ---- provider-independent: identical to archiver-s3's location.rs (to move to core) ----------

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

/// The name segment of an id: 32 hex digits (128 bits of SHA-256). Fixed length, `[0-9a-f]`
/// only; the real id is stored inside the objects and checked on read.
pub(crate) fn id_segment(id: &str) -> String {
    hex(&digest(&[id])[..16])
}

/// An 8-hex-digit digest of an indexed value in visibility names. Short on purpose: it prunes
/// the listing; collisions only cost a download, since records are checked after reading.
pub(crate) fn short_hash(value: &str) -> String {
    hex(&digest(&[value])[..4])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(uri: &str) -> Result<Location> {
        Location::from_uri(&ArchiveUri::parse(uri).expect("parses"))
    }

    #[test]
    fn bucket_and_prefix() {
        let l = location("gs://my-bucket_1/a/b/").unwrap();
        assert_eq!(
            (l.bucket.as_str(), l.prefix.as_str()),
            ("my-bucket_1", "a/b/")
        );
        assert_eq!(location("gs://my-bucket").unwrap().prefix, "");
        assert_eq!(location("gs://my-bucket//lead").unwrap().prefix, "lead/");
        assert_eq!(l.describe("k"), "gs://my-bucket_1/k");
        assert!(location("gs://a.b.example.com/x").is_ok());
    }

    #[test]
    fn bad_uris_are_invalid_uri() {
        for uri in [
            "gs:///no-bucket",
            "gs://Upper/x",
            "gs://ab/x",
            "gs://bucket:9000/x",
            "gs://-bucket/x",
            "gs://google-bucket/x",
            "gs://a..b/x",
        ] {
            assert!(
                matches!(location(uri), Err(Error::InvalidUri { .. })),
                "{uri}"
            );
        }
        let long = format!("gs://bucket/{}", "p".repeat(MAX_PREFIX + 1));
        assert!(matches!(location(&long), Err(Error::InvalidUri { .. })));
        assert!(matches!(
            location("s3://bucket/x"),
            Err(Error::SchemeMismatch { .. })
        ));
    }

    #[test]
    fn hostile_ids_give_fixed_safe_names() {
        let l = location("gs://bucket/p").unwrap();
        let long = "w".repeat(10_000);
        for id in ["../..", "/", "a/b", "", "日本", long.as_str(), "a\0b"] {
            let name = l.run_prefix(id, id, id);
            assert_eq!(name.len(), "p/v1/history/".len() + 3 * 33, "{name}");
            assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'/'));
        }
    }
}
