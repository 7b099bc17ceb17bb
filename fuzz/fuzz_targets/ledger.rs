//! Any bytes as the ledger's inputs from outside: as a stored event (`event_seq` reads its
//! tail), as a proof file (`bantay ledger verify-proof`) and as a JSON body to encode.
//! Nothing panics; a proof that checks is for an event whose seq it states.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let seq = bantay_ledger::event_seq(data);
    if let Ok(bundle) = serde_json::from_slice::<bantay_ledger::InclusionBundle>(data) {
        let key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]).verifying_key();
        if bundle.check(&key).is_ok() {
            assert_eq!(bantay_ledger::event_seq(bundle.event.as_bytes()), Some(bundle.seq));
        }
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(bytes) = bantay_ledger::canonical_json(&value) {
            // The canonical form reads back to the same value and is its own fixed point.
            let back: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(back, value);
            assert_eq!(bantay_ledger::canonical_json(&back).unwrap(), bytes);
        }
    }
    let _ = seq;
});
