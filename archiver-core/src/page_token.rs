//! Opaque page tokens shared by every provider: versioned, base64 of JSON, bound to the
//! request they continue by a fingerprint, and sealed by a checksum over the whole JSON, so a
//! token from another request or a damaged one is [`Error::CorruptedToken`] instead of a
//! silently wrong page.
//!
//! The token is `base64url(json || check)`, where `json` is `{"v":2,"fp":..,"at":..}` and
//! `check` the first 8 bytes of SHA-256 over `json`. The position alone cannot be
//! trusted: flipping one bit of `"blob":1` makes `"blob":3`, still valid JSON of this request,
//! and a page silently skipped. With the check, any damage to the token (a flipped bit, a cut
//! end, an edited field) fails it, with odds of 2^-64 of going unnoticed. It is a checksum, not
//! a MAC (there is no secret): it catches damage, not a forger who recomputes it, which is why
//! the readers keep their own checks of a position (past the end, another version).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, QueryRequest, Result, VisibilityRecord};

/// The token format version; bump when the envelope changes. Version 1 had no checksum: its
/// tokens fail the check and are refused.
const VERSION: u32 = 2;

/// Bytes of the checksum that ends a decoded token.
const CHECK_LEN: usize = 8;

/// The checksum sealing `json`.
fn check(json: &[u8]) -> [u8; CHECK_LEN] {
    let digest = Sha256::digest(json);
    let mut check = [0; CHECK_LEN];
    check.copy_from_slice(&digest[..CHECK_LEN]);
    check
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    v: u32,
    fp: String,
    at: T,
}

/// A stable 64-bit fingerprint of `parts` (FNV-1a over length-prefixed parts, so `["ab", "c"]`
/// and `["a", "bc"]` differ). Stable across builds, unlike `std`'s hasher.
pub fn fingerprint(parts: &[&str]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    for part in parts {
        for byte in (part.len() as u64)
            .to_le_bytes()
            .iter()
            .chain(part.as_bytes())
        {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    hash
}

/// The fingerprint that binds a visibility query's page token to its request: the namespace
/// and the query text (page size may change between pages).
pub fn query_fingerprint(request: &QueryRequest) -> u64 {
    fingerprint(&[&request.namespace_id, &request.query])
}

/// The record a visibility query's page token continues after (the token
/// [`page_of`](crate::visibility::page_of) made for this request): `None` without a token.
/// The record holds every field an `ORDER BY` sorts on (not the memo), so a provider can
/// resume its index walk there; [`Error::CorruptedToken`] when the token is damaged or
/// another request's.
pub fn decode_query_token(request: &QueryRequest) -> Result<Option<VisibilityRecord>> {
    request
        .next_page_token
        .as_deref()
        .map(|token| decode_page_token(token, query_fingerprint(request)))
        .transpose()
}

/// Encodes `position` (where the next page starts) for the request with `fingerprint`.
pub fn encode_page_token<T: Serialize>(fingerprint: u64, position: &T) -> Result<Vec<u8>> {
    let mut sealed = serde_json::to_vec(&Envelope {
        v: VERSION,
        fp: format!("{fingerprint:016x}"),
        at: position,
    })
    .map_err(|e| Error::CorruptedToken {
        reason: format!("cannot encode the page position: {e}"),
    })?;
    let check = check(&sealed);
    sealed.extend_from_slice(&check);
    Ok(URL_SAFE_NO_PAD.encode(sealed).into_bytes())
}

/// Decodes a token made by [`encode_page_token`] for the request with `fingerprint`.
pub fn decode_page_token<T: DeserializeOwned>(token: &[u8], fingerprint: u64) -> Result<T> {
    let corrupted = |reason: String| Error::CorruptedToken { reason };
    let sealed = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|e| corrupted(format!("not base64: {e}")))?;
    let (json, sealed_check) = sealed
        .len()
        .checked_sub(CHECK_LEN)
        .map(|at| sealed.split_at(at))
        .ok_or_else(|| corrupted("too short".into()))?;
    if check(json) != sealed_check {
        return Err(corrupted(
            "checksum mismatch: the token is damaged, or of an older format".into(),
        ));
    }
    let envelope: Envelope<T> =
        serde_json::from_slice(json).map_err(|e| corrupted(format!("does not decode: {e}")))?;
    if envelope.v != VERSION {
        return Err(corrupted(format!("unknown token version {}", envelope.v)));
    }
    if envelope.fp != format!("{fingerprint:016x}") {
        return Err(corrupted("the token belongs to another request".into()));
    }
    Ok(envelope.at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn tokens_round_trip(fp: u64, position: (i64, String, Vec<u32>)) {
            let token = encode_page_token(fp, &position).unwrap();
            prop_assert_eq!(decode_page_token::<(i64, String, Vec<u32>)>(&token, fp).unwrap(), position);
        }

        #[test]
        fn foreign_or_damaged_tokens_are_rejected(fp: u64, other: u64, junk: Vec<u8>) {
            let token = encode_page_token(fp, &42_i64).unwrap();
            if other != fp {
                let is_corrupted = matches!(decode_page_token::<i64>(&token, other), Err(Error::CorruptedToken { .. }));
                prop_assert!(is_corrupted);
            }
            // Junk is an error, never a panic.
            let _ = decode_page_token::<i64>(&junk, fp);
        }

        #[test]
        fn any_changed_byte_is_detected(
            fp: u64,
            position: (i64, String),
            at: prop::sample::Index,
            xor in 1_u8..,
        ) {
            let mut token = encode_page_token(fp, &position).unwrap();
            let at = at.index(token.len());
            token[at] ^= xor;
            let is_corrupted = matches!(
                decode_page_token::<(i64, String)>(&token, fp),
                Err(Error::CorruptedToken { .. })
            );
            prop_assert!(is_corrupted);
        }
    }

    #[test]
    fn an_edited_position_without_its_checksum_is_refused() {
        let token = encode_page_token(7, &1_i64).unwrap();
        let sealed = URL_SAFE_NO_PAD.decode(&token).unwrap();
        let (json, check) = sealed.split_at(sealed.len() - CHECK_LEN);
        let edited = String::from_utf8(json.to_vec())
            .unwrap()
            .replace("\"at\":1", "\"at\":2");
        let forged = URL_SAFE_NO_PAD.encode([edited.as_bytes(), check].concat());
        assert!(matches!(
            decode_page_token::<i64>(forged.as_bytes(), 7),
            Err(Error::CorruptedToken { .. })
        ));
        // A token of version 1 (the same JSON, no checksum) is refused, not misread.
        let v1 =
            URL_SAFE_NO_PAD.encode(String::from_utf8_lossy(json).replace("\"v\":2", "\"v\":1"));
        assert!(matches!(
            decode_page_token::<i64>(v1.as_bytes(), 7),
            Err(Error::CorruptedToken { .. })
        ));
    }

    #[test]
    fn fingerprint_separates_parts() {
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
        assert_eq!(fingerprint(&["ns", "q"]), fingerprint(&["ns", "q"]));
    }
}
