//! Where things go: the bucket and prefix a URI names, and the key segments of layout v1
//! (id digests, version keys) under it.
//!
//! Ids never appear raw in keys: each becomes the hex of a SHA-256 digest (see [`id_segment`]),
//! so `/`, `..`, unicode or a 10 KB workflow id all give a short, safe key.

use sha2::{Digest, Sha256};

use archiver_core::{ArchiveUri, Error, Result, check_scheme};

/// The layout version, the first segment under the URI's prefix.
const LAYOUT: &str = "v1";
/// The longest key prefix a URI may carry: S3 and GCS keys end at 1024 bytes and the layout
/// needs about 230 of them after the prefix.
pub const MAX_PREFIX: usize = 512;

/// The bucket and key prefix an object-store URI names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectLocation {
    scheme: &'static str,
    bucket: String,
    /// Empty, or ends with `/`.
    prefix: String,
}

impl ObjectLocation {
    /// Checks `uri` without the network: `scheme`, a host that `is_bucket_name` accepts
    /// (`rules` says what it accepts, for the error), no port or user, a prefix that leaves
    /// room for the layout's keys and holds no control characters.
    pub fn from_uri(
        uri: &ArchiveUri,
        scheme: &'static str,
        is_bucket_name: impl Fn(&str) -> bool,
        rules: &str,
    ) -> Result<Self> {
        check_scheme(scheme, uri)?;
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
                "{bucket:?} is not a bucket name ({rules})"
            )));
        }
        if !uri.port().is_empty() || !uri.username().is_empty() {
            return Err(invalid(format!(
                "a {scheme} URI names a bucket: no port or user (set the endpoint in the settings)"
            )));
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
        Ok(ObjectLocation {
            scheme,
            bucket: bucket.to_owned(),
            prefix,
        })
    }

    /// A location a store has already checked: `bucket` as the store names it (a directory for
    /// a local store) and `prefix`, which gains a trailing `/` unless empty.
    ///
    /// ```
    /// use archiver_kit::object::ObjectLocation;
    /// let location = ObjectLocation::new("file", "/var/lib/archive", "a/b");
    /// assert_eq!(location.prefix(), "a/b/");
    /// ```
    pub fn new(scheme: &'static str, bucket: impl Into<String>, prefix: &str) -> Self {
        let prefix = prefix.trim_matches('/');
        ObjectLocation {
            scheme,
            bucket: bucket.into(),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
        }
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The key prefix: empty, or ending with `/`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `scheme://bucket/key`, to name an object in errors and logs.
    pub fn describe(&self, key: &str) -> String {
        format!("{}://{}/{key}", self.scheme, self.bucket)
    }

    /// `<prefix>v1/history/<ns>/<workflow>/<run>/`: everything archived for one run.
    pub fn run_prefix(&self, namespace_id: &str, workflow_id: &str, run_id: &str) -> String {
        format!(
            "{}{LAYOUT}/history/{}/{}/{}/",
            self.prefix,
            id_segment(namespace_id),
            id_segment(workflow_id),
            id_segment(run_id)
        )
    }

    /// `<prefix>v1/visibility/<ns>/`: one namespace's records in the per-record layout, which
    /// the [table](crate::table) reads and folds (nothing writes it any more).
    pub fn visibility_prefix(&self, namespace_id: &str) -> String {
        format!(
            "{}{LAYOUT}/visibility/{}/",
            self.prefix,
            id_segment(namespace_id)
        )
    }
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
pub fn id_segment(id: &str) -> String {
    hex(&digest(&[id])[..16])
}

/// A fixed-width key for a version whose byte order is the numeric order (negative versions
/// included), so the last manifest listed is the highest version.
pub(crate) fn version_key(version: i64) -> String {
    format!("{:016x}", (version as u64) ^ (1 << 63))
}

/// The version of a [`version_key`]; `None` for anything else.
pub(crate) fn parse_version_key(key: &str) -> Option<i64> {
    if key.len() != 16 || !key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let raw = u64::from_str_radix(key, 16).ok()?;
    Some((raw ^ (1 << 63)) as i64)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn location(uri: &str) -> Result<ObjectLocation> {
        let uri = ArchiveUri::parse(uri).expect("parses");
        ObjectLocation::from_uri(&uri, "s3", |b| b.len() >= 3 && !b.starts_with('-'), "rules")
    }

    #[test]
    fn bucket_and_prefix() {
        let l = location("s3://my-bucket/a/b/").unwrap();
        assert_eq!((l.bucket(), l.prefix()), ("my-bucket", "a/b/"));
        assert_eq!(location("s3://my-bucket").unwrap().prefix(), "");
        assert_eq!(
            location("s3://my-bucket//lead").unwrap().prefix(),
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

    #[test]
    fn strays_are_not_versions() {
        for stray in [
            "",
            "0",
            "zzzzzzzzzzzzzzzz",
            "8000000000000000x",
            "800000000000000A",
        ] {
            assert_eq!(parse_version_key(stray), None, "{stray}");
        }
    }

    proptest! {
        #[test]
        fn segments_are_injective_in_practice(a in any::<String>(), b in any::<String>()) {
            prop_assume!(a != b);
            prop_assert_ne!(id_segment(&a), id_segment(&b));
        }

        #[test]
        fn version_keys_round_trip_and_sort_numerically(a: i64, b: i64) {
            prop_assert_eq!(parse_version_key(&version_key(a)), Some(a));
            prop_assert_eq!(a.cmp(&b), version_key(a).cmp(&version_key(b)));
        }
    }
}
