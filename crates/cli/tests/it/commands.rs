use std::fs;

use super::{bantay, root};

const SMALL: [(&str, &str); 4] = [
    ("persons.csv", "id,name,port\nP1,Juan Cruz,\nP2,Maria Santos,Cebu\nP3,Ramon Reyes,\n"),
    (
        "assignments.csv",
        "person,unit,valid_from,valid_until,order\nP1,TSD,2020-01-01,,CPO-2020-1\nP2,PDMU,2020-01-01,,CPO-2020-2\nP3,SMD,2020-01-01,,CPO-2020-3\nP3,SDD,2024-01-01,,CPO-2024-9\nP3,TSD,2024-01-01,,CPO-2024-9\n",
    ),
    (
        "resources.csv",
        "id,kind,class,system,port\ncps-os-1,host,os,CPS,Manila\ncps-db-1,database,database,CPS,Manila\ncps-app-1,application,application,CPS,Manila\nep-cebu-1,device,endpoint,,Cebu\nep-davao-1,device,endpoint,,Davao\n",
    ),
    (
        "grants.csv",
        "person,resource,clause,valid_from,valid_until\nP1,cps-app-1,1.3.1,2026-01-01,\nP1,cps-os-1,1.3.1,2026-01-01,\nP2,ep-cebu-1,1.4,2026-01-01,\nP2,ep-davao-1,1.4,2026-01-01,\nP3,cps-os-1,1.2.4,2025-01-01,\nP3,cps-db-1,2.2.1,2025-01-01,\nP3,cps-app-1,1.3.1,2025-01-01,\n",
    ),
];

fn small_snapshot() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("org")).unwrap();
    for (name, text) in SMALL {
        fs::write(dir.path().join("org").join(name), text).unwrap();
    }
    dir
}

#[test]
fn validate_accepts_the_shipped_pack() {
    let run = bantay(root(), &["policy", "validate", "policy/cmo-04-2019"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("policy/cmo-04-2019: ok"), "{run:?}");
    assert!(run.stdout.contains("8 units, 29 duties (14 justify privileged access)"), "{run:?}");
}

#[test]
fn validate_reports_a_broken_pack_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("pack");
    fs::create_dir(&pack).unwrap();
    for f in ["org.toml", "resources.toml", "rules.toml", "duties.cedar", "schema.cedarschema"] {
        fs::copy(root().join("policy/cmo-04-2019").join(f), pack.join(f)).unwrap();
    }
    let duties = fs::read_to_string(pack.join("duties.cedar")).unwrap();
    fs::write(pack.join("duties.cedar"), duties.replacen("Unit::\"TSD\"", "Unit::\"TDS\"", 1))
        .unwrap();
    let run = bantay(dir.path(), &["policy", "validate", "pack"]);
    assert_eq!(run.code, 1, "{run:?}");
    insta::assert_snapshot!("validate_broken_pack", run.stderr);
    let json = bantay(dir.path(), &["policy", "validate", "pack", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["problems"][0]["file"], "pack/duties.cedar");
}

#[test]
fn validate_of_a_missing_directory_is_a_usage_error() {
    let run = bantay(root(), &["policy", "validate", "no/such/pack"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("no/such/pack: not found"), "{run:?}");
    assert!(run.stderr.contains("hint: name a policy pack directory"), "{run:?}");
}

#[test]
fn scan_prints_findings_with_evidence_and_exits_1() {
    let dir = small_snapshot();
    let run = bantay(dir.path(), &["scan", "org", "--at", "2026-03-01"]);
    assert_eq!(run.code, 1, "{run:?}");
    insta::assert_snapshot!("scan_small_text", run.stdout);
}

#[test]
fn scan_json_is_one_document_with_a_summary() {
    let dir = small_snapshot();
    let run = bantay(dir.path(), &["scan", "org", "--at", "2026-03-01", "--output", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["summary"]["findings_by_clause"], serde_json::json!({"4.1": 2, "4.2": 1}));
    assert_eq!(v["summary"]["grants_active"], 7);
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3);
    assert_eq!(
        findings[0]["evidence"][0],
        serde_json::json!({"file": "org/grants.csv", "line": 3})
    );
}

#[test]
fn a_clean_scan_exits_0() {
    let dir = small_snapshot();
    // Before any grant began, nothing is held.
    let run = bantay(dir.path(), &["scan", "org", "--at", "2024-06-01"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("no findings"), "{run:?}");
}

#[test]
fn scan_of_bad_input_exits_2_naming_file_line_and_field() {
    let dir = small_snapshot();
    let grants = dir.path().join("org/grants.csv");
    let text = fs::read_to_string(&grants)
        .unwrap()
        .replace("P2,ep-davao-1,1.4,2026-01-01,", "P2,ep-davao-1,1.4,01/01/2026,");
    fs::write(&grants, text).unwrap();
    let run = bantay(dir.path(), &["scan", "org", "--at", "2026-03-01"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.stdout, "", "no findings from a half-read file: {run:?}");
    insta::assert_snapshot!("scan_bad_date", run.stderr);
}

#[test]
fn explain_gives_the_decision_and_its_clauses() {
    let dir = small_snapshot();
    let allow = bantay(
        dir.path(),
        &[
            "policy",
            "explain",
            "--snapshot",
            "org",
            "--person",
            "P2",
            "--resource",
            "ep-cebu-1",
            "--clause",
            "1.4",
            "--at",
            "2026-03-01",
        ],
    );
    assert_eq!(allow.code, 0, "{allow:?}");
    assert_eq!(
        allow.stdout,
        "ALLOW: P2 holding ep-cebu-1 citing 1.4 at 2026-03-01\n  permitted by 1.4 On-site technical support at the ports (PDMU)\n"
    );
    let deny = bantay(
        dir.path(),
        &[
            "policy",
            "explain",
            "--snapshot",
            "org",
            "--person",
            "P1",
            "--resource",
            "cps-db-1",
            "--clause",
            "1.3.1",
            "--at",
            "2026-03-01",
            "--output",
            "json",
        ],
    );
    assert_eq!(deny.code, 1, "{deny:?}");
    let v: serde_json::Value = serde_json::from_str(&deny.stdout).unwrap();
    assert_eq!(v["outcome"], "deny");
    assert_eq!(v["reasons"][0]["clause"], "4.1");
    let unknown = bantay(
        dir.path(),
        &[
            "policy",
            "explain",
            "--snapshot",
            "org",
            "--person",
            "P9",
            "--resource",
            "cps-db-1",
            "--clause",
            "1.3.1",
        ],
    );
    assert_eq!(unknown.code, 2, "{unknown:?}");
    assert!(unknown.stderr.contains("--person: `P9` is not in org/persons"), "{unknown:?}");
}

#[test]
fn the_shipped_corpus_passes_through_the_cli() {
    let run = bantay(root(), &["policy", "test", "--output", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(v["passed"].as_u64().unwrap() >= 40, "{run:?}");
    assert_eq!(v["failed"], serde_json::json!([]));
}

#[test]
fn the_shipped_demo_organisation_scans() {
    let run = bantay(root(), &["scan", "demo", "--at", "2026-07-01", "--summary"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("150 persons"), "{run:?}");
    assert!(run.stdout.contains("4.2: 1 finding"), "{run:?}");
}

#[test]
fn generation_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    for out in ["a", "b"] {
        let run = bantay(
            dir.path(),
            &["demo", "generate", "--out", out, "--persons", "300", "--seed", "9"],
        );
        assert_eq!(run.code, 0, "{run:?}");
    }
    for f in ["persons.csv", "assignments.csv", "resources.csv", "grants.csv"] {
        assert_eq!(
            fs::read(dir.path().join("a").join(f)).unwrap(),
            fs::read(dir.path().join("b").join(f)).unwrap(),
            "{f}"
        );
    }
    // And what it writes is a valid snapshot.
    let run = bantay(dir.path(), &["scan", "a", "--at", "2026-07-01", "--summary"]);
    assert!(run.code == 0 || run.code == 1, "{run:?}");
}

#[test]
fn the_decision_table_lists_what_each_unit_may_hold() {
    let run = bantay(root(), &["policy", "table"]);
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], "unit,person_has_port,kind,class,system,resource_has_port,ports,clause");
    assert!(lines.contains(&"SDD,false,database,database,CPS,false,none,2.2.1"));
    assert!(lines.contains(&"PDMU,true,device,endpoint,,true,same,1.4"));
    assert!(!lines.iter().any(|l| l.starts_with("PDMU,true,device,endpoint,,true,different")));
    assert!(!lines.iter().any(|l| l.contains(",entry,")), "4.3 forbids every standing entry");
}
