//! Page tokens: the keyset position after a page's last row, bound to the query.
//!
//! Layout: version byte, 8-byte FNV-1a fingerprint of (namespace, canonical
//! filter), the position as JSON, then a CRC-32C of all that. A token from
//! another query or namespace, or a damaged one, is an error instead of a
//! silently wrong page: without the checksum a flipped bit in the JSON can
//! still decode, as another position of the same query.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use visibility_query::sql::PageKey;

/// Version 1 had no checksum; its tokens are refused.
const VERSION: u8 = 2;

#[derive(Serialize, Deserialize)]
struct Position {
    c: Option<Timestamp>,
    s: Timestamp,
    r: String,
    w: String,
}

/// Identifies the query a token continues.
pub(crate) fn fingerprint(namespace: &str, canonical_filter: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in namespace
        .bytes()
        .chain([0xff])
        .chain(canonical_filter.bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

pub(crate) fn encode(fingerprint: u64, key: &PageKey) -> Vec<u8> {
    let pos = Position {
        c: key.close_time,
        s: key.start_time,
        r: key.run_id.clone(),
        w: key.workflow_id.clone(),
    };
    let mut out = vec![VERSION];
    out.extend_from_slice(&fingerprint.to_be_bytes());
    // Serializing strings and timestamps to a Vec cannot fail.
    out.extend(serde_json::to_vec(&pos).unwrap_or_default());
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// The position, or why the token does not continue this query.
pub(crate) fn decode(token: &[u8], fingerprint: u64) -> Result<PageKey, &'static str> {
    let (sealed, crc) = token
        .split_at_checked(token.len().wrapping_sub(4))
        .ok_or("truncated")?;
    if crc32c::crc32c(sealed).to_be_bytes() != crc {
        return Err("damaged (checksum mismatch)");
    }
    let (&version, rest) = sealed.split_first().ok_or("empty")?;
    if version != VERSION {
        return Err("unknown version");
    }
    let (fp, json) = rest.split_at_checked(8).ok_or("truncated")?;
    if fp != fingerprint.to_be_bytes() {
        return Err("issued for another query or namespace");
    }
    let p: Position = serde_json::from_slice(json).map_err(|_| "damaged")?;
    Ok(PageKey {
        close_time: p.c,
        start_time: p.s,
        run_id: p.r,
        workflow_id: p.w,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn round_trip_and_binding(
            close in proptest::option::of(0i64..4_000_000_000_000_000),
            start in 0i64..4_000_000_000_000_000,
            run in ".{0,40}",
            wf in ".{0,40}",
            filter in ".{0,40}",
        ) {
            let key = PageKey {
                close_time: close.map(|c| Timestamp::from_microsecond(c).unwrap()),
                start_time: Timestamp::from_microsecond(start).unwrap(),
                run_id: run,
                workflow_id: wf,
            };
            let fp = fingerprint("ns", &filter);
            let token = encode(fp, &key);
            proptest::prop_assert_eq!(decode(&token, fp), Ok(key));
            let other = fingerprint("ns2", &filter);
            proptest::prop_assert!(decode(&token, other).is_err());
            proptest::prop_assert!(decode(&token[..token.len() - 1], fp).is_err());
        }
    }

    #[test]
    fn every_bit_flip_and_cut_of_a_token_is_refused() {
        let key = PageKey {
            close_time: Some(Timestamp::from_microsecond(1_767_225_600_123_456).unwrap()),
            start_time: Timestamp::from_microsecond(1_767_225_000_000_000).unwrap(),
            run_id: "run-0042".into(),
            workflow_id: "wf-42".into(),
        };
        let fp = fingerprint("ns", "WorkflowType = 'payments'");
        let token = encode(fp, &key);
        let mut accepted = Vec::new();
        for bit in 0..token.len() * 8 {
            let mut damaged = token.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            if let Ok(decoded) = decode(&damaged, fp) {
                accepted.push((bit, decoded));
            }
        }
        for len in 0..token.len() {
            if let Ok(decoded) = decode(&token[..len], fp) {
                accepted.push((len, decoded));
            }
        }
        assert!(
            accepted.is_empty(),
            "{} of {} damaged tokens accepted: {accepted:?}",
            accepted.len(),
            token.len() * 9
        );
    }

    #[test]
    fn garbage() {
        assert!(decode(b"", 1).is_err());
        assert!(decode(b"\x02abcdefgh{}", 1).is_err());
        assert_ne!(fingerprint("a", "b"), fingerprint("ab", ""));
    }
}
