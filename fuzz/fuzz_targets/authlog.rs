//! Any bytes as an authentication log, line by line and through the block reader on
//! three threads. Nothing panics; they agree on the count of every kind of line, and the
//! block reader hands back every line, numbered in order.
#![no_main]

use bantay_connect::authlog::{read_line, read_log_on, LogContext, LogTally};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let context = LogContext { year: 2026, offset_seconds: 8 * 3600, month: 1 };
    let mut expected = LogTally::default();
    let mut lines = data.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        if lines.peek().is_none() && line.is_empty() {
            break;
        }
        let reading = read_line(line, &context);
        if let bantay_connect::authlog::Reading::Event(e) = &reading {
            let _ = serde_json::to_string(e);
        }
        expected.add(&reading);
    }
    let mut numbers = Vec::new();
    let tally = read_log_on(3, data, &context, |_, _| Some(()), |n, ()| numbers.push(n)).unwrap();
    assert_eq!(tally, expected);
    assert!(numbers.iter().copied().eq(1..=tally.lines), "{numbers:?}");
});
