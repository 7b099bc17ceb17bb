//! Bad input: each mistake is reported with its file, line and field, and a scan that
//! meets one reports nothing else: no findings from a half-read file.

use bantay_connect::{scan_snapshot, ConnectError, SnapshotFiles};
use bantay_core::Timestamp;

fn scan_error(edit: impl FnOnce(&mut [(&str, Vec<u8>); 4])) -> String {
    let mut files = [
        ("persons.csv", super::PERSONS.as_bytes().to_vec()),
        ("assignments.csv", super::ASSIGNMENTS.as_bytes().to_vec()),
        ("resources.csv", super::RESOURCES.as_bytes().to_vec()),
        ("grants.csv", super::GRANTS.as_bytes().to_vec()),
    ];
    edit(&mut files);
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, c)| (*n, c.as_slice())).collect();
    let (_keep, dir) = super::snapshot(&refs);
    let at = Timestamp::parse("2026-03-01").unwrap();
    let pack = super::pack();
    let result = SnapshotFiles::in_dir(&dir).and_then(|f| scan_snapshot(&f, &pack, at, 2));
    match result {
        Ok(o) => panic!("the scan succeeded with {} findings", o.report.findings().count()),
        Err(e) => e.to_string(),
    }
}

fn replace(content: &mut Vec<u8>, from: &str, to: &str) {
    let text = String::from_utf8(content.clone()).unwrap();
    assert!(text.contains(from), "{from}");
    *content = text.replacen(from, to, 1).into_bytes();
}

#[test]
fn an_unknown_unit_names_the_line_and_the_units() {
    let e = scan_error(|f| replace(&mut f[1].1, "P3,SDD,", "P3,SSD,"));
    assert!(
        e.contains("assignments.csv:5: field `unit`: `SSD` is not a unit; units: MISTG"),
        "{e}"
    );
}

#[test]
fn a_malformed_date_says_how_to_write_one() {
    let e = scan_error(|f| {
        replace(&mut f[3].1, "P2,ep-davao-1,1.4,2026-01-01", "P2,ep-davao-1,1.4,2026-13-01")
    });
    assert!(
        e.contains("grants.csv:5: field `valid_from`: `2026-13-01` is not a date or time"),
        "{e}"
    );
    assert!(e.contains("write 2026-03-01"), "{e}");
}

#[test]
fn a_duplicate_id_is_refused() {
    let e = scan_error(|f| replace(&mut f[0].1, "P4,Ana", "P1,Ana"));
    assert!(e.contains("persons.csv:5: field `id`: person `P1` is listed twice"), "{e}");
    let e = scan_error(|f| replace(&mut f[2].1, "ep-davao-1,", "ep-cebu-1,"));
    assert!(e.contains("resources.csv:6: field `id`: resource `ep-cebu-1` is listed twice"), "{e}");
}

#[test]
fn a_wrong_number_of_columns_is_refused() {
    let e = scan_error(|f| {
        replace(&mut f[3].1, "P2,ep-cebu-1,1.4,2026-01-01,", "P2,ep-cebu-1,1.4,2026-01-01")
    });
    assert!(e.contains("grants.csv:4: 4 fields, but the header has 5"), "{e}");
}

#[test]
fn a_file_that_is_not_utf8_names_the_line() {
    let e = scan_error(|f| {
        let mut bytes = f[0].1.clone();
        let at = bytes.windows(5).position(|w| w == b"Maria").unwrap();
        bytes[at + 1] = 0xff;
        f[0].1 = bytes;
    });
    assert!(e.contains("persons.csv:3: is not UTF-8 text; save the file as UTF-8"), "{e}");
}

#[test]
fn unknown_references_and_clauses_are_named() {
    let e = scan_error(|f| replace(&mut f[3].1, "P1,cps-app-1,", "P9,cps-app-1,"));
    assert!(e.contains("grants.csv:2: field `person`: `P9` is not in persons.csv"), "{e}");
    let e = scan_error(|f| replace(&mut f[3].1, "P1,cps-app-1,1.3.1", "P1,cps-app-1,4.2"));
    assert!(e.contains("grants.csv:2: field `clause`: 4.2 is not a duty of the order"), "{e}");
    let e = scan_error(|f| {
        replace(&mut f[2].1, "cps-db-1,database,database", "cps-db-1,database,databse")
    });
    assert!(
        e.contains("resources.csv:3: field `class`: `databse` is not a privilege class"),
        "{e}"
    );
}

#[test]
fn a_header_without_a_required_column_is_refused() {
    let e =
        scan_error(|f| replace(&mut f[3].1, "person,resource,clause,", "person,resource,clauses,"));
    assert!(e.contains("grants.csv:1: unknown column `clauses`"), "{e}");
    let e = scan_error(|f| f[3].1.clear());
    assert!(e.contains("grants.csv:1: is empty; the first line must name the columns"), "{e}");
}

#[test]
fn a_missing_file_says_what_a_snapshot_holds() {
    let (_keep, dir) = super::snapshot(&[("persons.csv", super::PERSONS.as_bytes())]);
    let e = SnapshotFiles::in_dir(&dir).unwrap_err();
    assert!(matches!(e, ConnectError::Missing { .. }));
    assert!(e.to_string().contains("assignments.csv: not found"), "{e}");
}

/// Two bad lines far apart in a file several chunks long, read by two threads: the scan
/// fails, and names the first one.
#[test]
fn the_first_bad_line_of_a_large_file_is_reported() {
    let mut grants = String::from("person,resource,clause,valid_from,valid_until\n");
    for i in 0..400_000 {
        let date = if i == 150_000 || i == 390_000 { "2026-02-30" } else { "2026-01-01" };
        grants.push_str(&format!("P1,cps-app-1,1.3.1,{date},\n"));
    }
    let e = scan_error(|f| f[3].1 = grants.into_bytes());
    assert!(e.contains("grants.csv:150002: field `valid_from`: `2026-02-30`"), "{e}");
}

/// A name longer than a whole read chunk (4 MiB) is read whole, and the scan goes on.
#[test]
fn a_line_longer_than_a_chunk_is_read() {
    let long = "x".repeat(5 << 20);
    let persons = format!("{}P5,{long},\n", super::PERSONS);
    let (_keep, dir) = super::snapshot(&[
        ("persons.csv", persons.as_bytes()),
        ("assignments.csv", super::ASSIGNMENTS.as_bytes()),
        ("resources.csv", super::RESOURCES.as_bytes()),
        ("grants.csv", super::GRANTS.as_bytes()),
    ]);
    let pack = super::pack();
    let at = Timestamp::parse("2026-03-01").unwrap();
    let outcome = scan_snapshot(&SnapshotFiles::in_dir(&dir).unwrap(), &pack, at, 2).unwrap();
    assert_eq!(outcome.persons, 5);
    assert_eq!(outcome.report.findings().count(), 5);
}
