//! Turning untrusted ids into safe, bounded file-system names.
//!
//! Namespace ids, workflow ids and run ids are arbitrary user strings: they may hold `/`, `..`,
//! NUL, any unicode, or be kilobytes long. None of that may reach a path. A name is the hex of a
//! SHA-256 digest (128 bits kept, which makes the mapping injective in practice) followed by a
//! short readable hint made of `[A-Za-z0-9_-]` only. The hint is for operators browsing the tree;
//! identity rests on the digest, and files also store the real ids, which readers check.

use sha2::{Digest, Sha256};

/// Hex digits of digest kept in a name (128 bits).
const DIGEST_HEX: usize = 32;
/// Characters of the readable hint kept after the digest.
const HINT_MAX: usize = 32;
/// The longest name [`id_segment`] returns.
#[cfg(test)]
const SEGMENT_MAX: usize = DIGEST_HEX + 1 + HINT_MAX;

/// SHA-256 over `parts`, each prefixed by its length so that `("ab", "c")` and `("a", "bc")`
/// hash differently.
pub(crate) fn digest_parts(parts: &[&str]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize().into()
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
    out
}

/// The directory name for one id: `<32 hex digest>[-<readable hint>]`.
///
/// Always starts with a hex digit (never `.` or `-`), holds only `[0-9a-zA-Z_-]`, and is at most
/// [`SEGMENT_MAX`] bytes long whatever the id.
pub(crate) fn id_segment(id: &str) -> String {
    let digest = digest_parts(&[id]);
    let mut out = hex(&digest[..DIGEST_HEX / 2]);
    let hint: String = id
        .chars()
        .take(HINT_MAX)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !hint.is_empty() {
        out.push('-');
        out.push_str(&hint);
    }
    out
}

/// A 32-bit digest of one indexed value, as 8 hex digits (visibility file names). Short on
/// purpose: it only prunes candidates; records are still checked after they are read.
pub(crate) fn short_hash(value: &str) -> String {
    hex(&digest_parts(&[value])[..4])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn is_safe(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= SEGMENT_MAX
            && name.as_bytes()[0].is_ascii_hexdigit()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    }

    #[test]
    fn hostile_ids_become_safe_names() {
        let long = "x".repeat(4096);
        for id in [
            "",
            ".",
            "..",
            "../../etc/passwd",
            "/",
            "a/b",
            "a\0b",
            "日本語-ワークフロー",
            "🦀",
            &long,
        ] {
            let name = id_segment(id);
            assert!(is_safe(&name), "{id:?} -> {name:?}");
        }
    }

    #[test]
    fn hint_keeps_readable_prefix() {
        assert!(id_segment("order-42").ends_with("-order-42"));
        assert!(id_segment("a/b").ends_with("-a_b"));
        assert_eq!(id_segment("").len(), DIGEST_HEX);
    }

    #[test]
    fn ids_that_share_a_hint_get_distinct_names() {
        // Same sanitised hint, same 32-char prefix: only the digest tells them apart.
        assert_ne!(id_segment("a/b"), id_segment("a_b"));
        let base = "p".repeat(40);
        assert_ne!(id_segment(&(base.clone() + "1")), id_segment(&(base + "2")));
    }

    #[test]
    fn digest_parts_is_length_prefixed() {
        assert_ne!(digest_parts(&["ab", "c"]), digest_parts(&["a", "bc"]));
    }

    #[test]
    fn hex_and_short_hash_are_lowercase_and_fixed_length() {
        assert_eq!(hex(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(short_hash("WorkflowType").len(), 8);
        assert_eq!(short_hash("x"), short_hash("x"));
    }

    proptest! {
        #[test]
        fn segment_is_safe_and_bounded(id in any::<String>()) {
            prop_assert!(is_safe(&id_segment(&id)));
        }

        #[test]
        fn segment_is_injective(a in any::<String>(), b in any::<String>()) {
            prop_assume!(a != b);
            prop_assert_ne!(id_segment(&a), id_segment(&b));
        }

        #[test]
        fn segment_is_deterministic(id in "\\PC{0,64}") {
            prop_assert_eq!(id_segment(&id), id_segment(&id));
        }
    }
}
