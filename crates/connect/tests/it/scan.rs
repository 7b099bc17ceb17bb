//! Scans find what they should, with their evidence, whatever the format and threads.

use bantay_connect::{load_snapshot, scan_snapshot, SnapshotFiles};
use bantay_core::{decide, AccessRequest, Effect, Timestamp};

fn at() -> Timestamp {
    Timestamp::parse("2026-03-01").unwrap()
}

#[test]
fn finds_each_kind_with_its_evidence() {
    let pack = super::pack();
    let (_keep, dir) = super::small();
    let outcome = scan_snapshot(&SnapshotFiles::in_dir(&dir).unwrap(), &pack, at(), 2).unwrap();
    assert_eq!((outcome.persons, outcome.resources, outcome.grants_read), (4, 6, 10));
    assert_eq!(outcome.grants_active, 9);
    let findings: Vec<_> = outcome.report.findings().collect();
    let found: Vec<(String, String, Vec<u64>)> = findings
        .iter()
        .map(|f| {
            (f.clause.to_string(), f.person.clone(), f.evidence.iter().map(|e| e.line).collect())
        })
        .collect();
    assert_eq!(
        found,
        [
            ("4.1".into(), "P1".into(), vec![3]),
            ("4.1".into(), "P2".into(), vec![5]),
            ("4.3".into(), "P3".into(), vec![10]),
            ("4.1".into(), "P4".into(), vec![11]),
            ("4.2".into(), "P3".into(), vec![6, 7, 8]),
        ]
    );
    let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
    assert!(messages[0].contains("holds os on cps-os-1 citing 1.3.1"), "{}", messages[0]);
    assert!(
        messages[0]
            .contains("1.3.1 Incident management (Tier 1 and Tier 2 helpdesk) does not cover os"),
        "{}",
        messages[0]
    );
    assert!(
        messages[3].contains(
            "1.2.4 Systems and network administration is a duty of SMD, and P4 is in SDD"
        ),
        "{}",
        messages[3]
    );
    assert!(messages[4].contains("holds os, database and application on CPS"), "{}", messages[4]);
    let port = "1.4 On-site technical support at the ports covers the person's own port only; ep-davao-1 is at Davao and P2 serves Cebu";
    assert!(messages[1].contains(port), "{}", messages[1]);
    assert!(findings[0].evidence[0].file.ends_with("grants.csv"));
    let counts: Vec<(String, usize)> =
        outcome.report.counts().into_iter().map(|(c, n)| (c.to_string(), n)).collect();
    assert_eq!(counts, [("4.1".into(), 3), ("4.2".into(), 1), ("4.3".into(), 1)]);
}

#[test]
fn json_lines_and_csv_give_the_same_findings() {
    let pack = super::pack();
    let to_jsonl = |csv: &str| -> String {
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        lines
            .map(|line| {
                let mut fields = Vec::new();
                bantay_connect::split_csv_line(line, &mut fields).unwrap();
                let object: serde_json::Map<String, serde_json::Value> = header
                    .iter()
                    .zip(fields)
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.into_owned())))
                    .collect();
                serde_json::to_string(&object).unwrap() + "\n"
            })
            .collect()
    };
    let (_keep, dir) = super::snapshot(&[
        ("persons.jsonl", to_jsonl(super::PERSONS).as_bytes()),
        ("assignments.jsonl", to_jsonl(super::ASSIGNMENTS).as_bytes()),
        ("resources.jsonl", to_jsonl(super::RESOURCES).as_bytes()),
        ("grants.jsonl", to_jsonl(super::GRANTS).as_bytes()),
    ]);
    let (_keep2, csv_dir) = super::small();
    let json = scan_snapshot(&SnapshotFiles::in_dir(&dir).unwrap(), &pack, at(), 1).unwrap();
    let csv = scan_snapshot(&SnapshotFiles::in_dir(&csv_dir).unwrap(), &pack, at(), 1).unwrap();
    let key = |o: &bantay_connect::ScanOutcome| -> Vec<(String, String, Vec<u64>)> {
        o.report
            .findings()
            .map(|f| {
                (
                    f.clause.to_string(),
                    f.message.clone(),
                    f.evidence.iter().map(|e| e.line).collect(),
                )
            })
            .collect()
    };
    // JSON lines have no header, so every line number is one less.
    let shifted: Vec<_> = key(&csv)
        .into_iter()
        .map(|(c, m, lines)| (c, m, lines.into_iter().map(|l| l - 1).collect()))
        .collect();
    assert_eq!(key(&json), shifted);
}

/// The scan (compiled table, streamed, two threads) and one decision at a time (plain
/// Cedar over the whole snapshot in memory) agree on every grant of a synthetic
/// organisation.
#[test]
fn the_scan_agrees_with_decisions_one_by_one() {
    let pack = super::pack();
    let dir = tempfile::tempdir().unwrap();
    let as_of = Timestamp::parse("2026-07-01").unwrap();
    let shape = bantay_synthetic_shape(as_of);
    bantay_synthetic::write_snapshot(&pack, &shape, dir.path()).unwrap();
    let files = SnapshotFiles::in_dir(dir.path()).unwrap();
    let outcome = scan_snapshot(&files, &pack, as_of, 2).unwrap();
    let snapshot = load_snapshot(&files, &pack).unwrap();
    let mut expected_lines = Vec::new();
    for grant in &snapshot.grants {
        if !grant.period.contains(as_of) {
            continue;
        }
        let request = AccessRequest {
            person: grant.person,
            resource: grant.resource,
            clause: grant.clause.clone(),
            at: as_of,
        };
        let decision = decide(&pack, &snapshot, &request);
        let duty_denied = decision
            .reasons
            .iter()
            .any(|r| r.effect == Effect::Denies && r.clause.as_str() != "4.2");
        if duty_denied {
            expected_lines.push(grant.origin.as_ref().unwrap().line);
        }
    }
    let found_lines: Vec<u64> = outcome
        .report
        .findings()
        .filter(|f| f.clause.as_str() != "4.2")
        .map(|f| f.evidence[0].line)
        .collect();
    assert!(!expected_lines.is_empty());
    assert_eq!(found_lines, expected_lines);
}

fn bantay_synthetic_shape(as_of: Timestamp) -> bantay_synthetic::Shape {
    bantay_synthetic::Shape { persons: 2_000, grants_per_person: 10, seed: 3, as_of }
}
