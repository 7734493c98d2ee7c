//! A history blob read from storage (untrusted bytes): decoding never panics, and whatever
//! decodes encodes to canonical lines that decode to the same batches and re-encode to the same
//! bytes.
#![no_main]

use archiver_core::history::{decode_batches, encode_batch_into};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(batches) = decode_batches(data) else {
        return;
    };
    let mut encoded = Vec::new();
    for batch in &batches {
        encode_batch_into(batch, &mut encoded);
    }
    let again = decode_batches(&encoded).unwrap_or_else(|e| {
        panic!(
            "our own encoding {:?} fails to decode: {e}",
            String::from_utf8_lossy(&encoded)
        )
    });
    assert_eq!(again, batches, "decode(encode(x)) != x");
    let mut twice = Vec::new();
    for batch in &again {
        encode_batch_into(batch, &mut twice);
    }
    assert_eq!(twice, encoded, "encoding is not canonical");
});
