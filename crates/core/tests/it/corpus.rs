//! The shipped pack decides every case of its corpus as the case says.

use bantay_core::{parse_corpus, run_case};

#[test]
fn the_shipped_corpus_passes() {
    let pack = super::shipped_pack();
    let dir = super::pack_dir().join("tests");
    let mut cases = 0;
    let mut failures = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for case in parse_corpus(&path.display().to_string(), &text).unwrap() {
            cases += 1;
            if let Some(failure) = run_case(&pack, &case).failure {
                failures.push(format!("{}: {failure}", case.name));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(cases >= 40, "the corpus must have at least 40 cases, has {cases}");
}

#[test]
fn every_duty_of_sections_1_and_2_has_a_case() {
    let pack = super::shipped_pack();
    let dir = super::pack_dir().join("tests");
    let mut cited = std::collections::HashSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        for case in parse_corpus("", &std::fs::read_to_string(&path).unwrap()).unwrap() {
            cited.insert(case.clause);
        }
    }
    let missing: Vec<String> = pack
        .org
        .duties()
        .map(|(_, d)| d.clause.to_string())
        .filter(|c| !cited.contains(c))
        .collect();
    assert!(missing.is_empty(), "duties with no corpus case: {missing:?}");
}

#[test]
fn a_wrong_expectation_fails_with_the_reasons() {
    let pack = super::shipped_pack();
    let text = r#"
[[case]]
name = "deliberately wrong"
at = "2026-03-01"
person = { units = ["TSD"] }
resource = { kind = "host", class = "os", system = "CPS" }
clause = "1.3.1"
expect = "allow"
clauses = ["1.3.1"]
"#;
    let case = &parse_corpus("t.toml", text).unwrap()[0];
    let failure = run_case(&pack, case).failure.expect("the case must fail");
    assert!(failure.contains("got Deny by [\"4.1\"]"), "{failure}");
    assert!(failure.contains("1.3.1 Incident management"), "{failure}");
}

#[test]
fn a_malformed_corpus_names_its_line() {
    let e = parse_corpus("t.toml", "[[case]]\nname = \"x\"\nat = 3\n").unwrap_err();
    assert!(e.starts_with("t.toml:"), "{e}");
}
