//! Any bytes: the time parser returns a time or an error, never panics, and a time it
//! returns prints and parses back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = bantay_core::parse_time_bytes(data) {
        let printed = t.to_string();
        assert_eq!(bantay_core::Timestamp::parse(&printed), Ok(t), "{printed}");
    }
});
