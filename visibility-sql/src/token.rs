//! Page tokens: the keyset position after a page's last row, bound to the query.
//!
//! Layout: version byte, 8-byte FNV-1a fingerprint of (namespace, canonical
//! filter), then the position as JSON. A token from another query or namespace,
//! or a damaged one, is an error instead of a silently wrong page.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use visibility_query::sql::PageKey;

const VERSION: u8 = 1;

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
    out
}

/// The position, or why the token does not continue this query.
pub(crate) fn decode(token: &[u8], fingerprint: u64) -> Result<PageKey, &'static str> {
    let (&version, rest) = token.split_first().ok_or("empty")?;
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
    fn garbage() {
        assert!(decode(b"", 1).is_err());
        assert!(decode(b"\x02abcdefgh{}", 1).is_err());
        assert_ne!(fingerprint("a", "b"), fingerprint("ab", ""));
    }
}
