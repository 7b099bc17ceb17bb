//! Any text as a data extract to certify (1.3.7), as CSV and as JSON lines. Nothing
//! panics; a CSV that reads has rows as wide as its header.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = std::path::Path::new("extract");
    if let Ok(table) = bantay_connect::parse_extract(path, "csv", text, &[]) {
        assert!(table.rows.iter().all(|r| r.len() == table.columns.len()));
        let _ = table.content_hash();
    }
    let columns = vec!["id".to_owned(), "name".to_owned()];
    if let Ok(table) = bantay_connect::parse_extract(path, "jsonl", text, &columns) {
        assert!(table.rows.iter().all(|r| r.len() == 2));
    }
});
