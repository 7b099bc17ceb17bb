//! Loading the pack: the shipped one loads; each kind of mistake is reported with its
//! file, line and a hint.

use bantay_core::{PackSources, PolicyPack};

fn problems(edit: impl FnOnce(&mut PackSources)) -> String {
    let mut sources = super::sources();
    edit(&mut sources);
    match PolicyPack::load(&sources) {
        Ok(_) => panic!("the edited pack loaded"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_shipped_pack_loads_with_every_unit_and_duty() {
    let pack = super::shipped_pack();
    let ids: Vec<&str> = pack.org.units().iter().map(|u| u.id.as_str()).collect();
    for unit in ["MISTG", "TMS", "SMD", "TSD", "PDMU", "PSDS", "SDD", "PMID"] {
        assert!(ids.contains(&unit), "{unit} missing from {ids:?}");
    }
    let clauses: Vec<String> = pack.org.duties().map(|(_, d)| d.clause.to_string()).collect();
    for c in [
        "1.1", "1.2.1", "1.2.2", "1.2.3", "1.2.4", "1.2.5", "1.2.6", "1.3.1", "1.3.2", "1.3.3",
        "1.3.4", "1.3.5", "1.3.6", "1.3.7", "1.4", "2.1", "2.2.1", "2.2.2", "2.2.3", "2.2.4",
        "2.3.1", "2.3.2", "2.3.3", "2.3.4", "2.3.5",
    ] {
        assert!(clauses.iter().any(|x| x == c), "duty {c} missing");
    }
    // PIMD and PMID are one unit.
    assert_eq!(pack.org.find("PIMD"), pack.org.find("PMID"));
    // Duties that justify nothing privileged are in the org but permit nothing.
    let permitting = pack.duties.permitting_clauses();
    for c in ["1.2.5", "2.2.3", "1.1"] {
        let idx = pack.clauses.find_str(c).unwrap();
        assert!(!permitting.contains(idx), "{c} must permit nothing");
    }
    let sod = &pack.rules.separation_of_duties[0];
    assert_eq!(sod.clause.as_str(), "4.2");
    assert_eq!(sod.systems, ["CPS", "ERP"]);
    assert_eq!(sod.max, 2);
}

#[test]
fn a_misspelt_entity_type_is_found_in_duties_cedar() {
    let e = problems(|s| {
        s.duties = s.duties.replacen("principal in Unit::\"SDD\"", "principal in Unti::\"SDD\"", 1)
    });
    assert!(e.contains("policy/cmo-04-2019/duties.cedar:"), "{e}");
    assert!(e.contains("unrecognized entity type `Unti`"), "{e}");
    assert!(e.contains("hint: did you mean `Unit`?"), "{e}");
    assert!(e.contains("@clause(\"2.2.1\")"), "{e}");
}

#[test]
fn a_duty_without_a_clause_names_its_line() {
    let e = problems(|s| s.org = s.org.replacen("clause = \"1.2.3\"\n", "", 1));
    let line =
        super::sources().org.lines().position(|l| l.contains("clause = \"1.2.3\"")).unwrap() + 1;
    assert!(e.contains("org.toml:"), "{e}");
    assert!(e.contains("missing field `clause`"), "{e}");
    assert!(e.contains("hint:"), "{e}");
    // toml reports the table the field is missing from: at or just before the line.
    let reported: usize =
        e.split("org.toml:").nth(1).unwrap().split(':').next().unwrap().parse().unwrap();
    assert!(
        reported <= line && reported + 6 >= line,
        "reported line {reported}, clause was at {line}: {e}"
    );
}

#[test]
fn a_rule_naming_an_unknown_unit_names_the_unit_and_line() {
    let e = problems(|s| {
        s.rules = s.rules.replace("approver_unit = \"MISTG\"", "approver_unit = \"MISGT\"")
    });
    let line =
        super::sources().rules.lines().position(|l| l.contains("approver_unit")).unwrap() + 1;
    assert!(
        e.contains(&format!("rules.toml:{line}: datacenter approver unit `MISGT` is not a unit")),
        "{e}"
    );
    assert!(e.contains("units: MISTG, TMS"), "{e}");
}

#[test]
fn a_permit_scoped_to_an_unknown_unit_is_refused() {
    let e = problems(|s| s.duties = s.duties.replacen("Unit::\"PMID\"", "Unit::\"PIMD\"", 1));
    assert!(e.contains("Unit::\"PIMD\" is not a unit of org.toml"), "{e}");
    assert!(e.contains("`PIMD` is an alias; Cedar names units by id: Unit::\"PMID\""), "{e}");
}

#[test]
fn bad_toml_names_file_and_line() {
    let e = problems(|s| s.resources = s.resources.replacen("[[system]]", "[[system]\n", 1));
    assert!(e.contains("resources.toml:"), "{e}");
    assert!(e.contains("hint:"), "{e}");
}

#[test]
fn a_permit_for_a_duty_of_another_unit_is_refused() {
    let e = problems(|s| {
        s.duties = s.duties.replacen(
            "@clause(\"2.2.1\")\npermit (principal in Unit::\"SDD\"",
            "@clause(\"2.2.1\")\npermit (principal in Unit::\"SMD\"",
            1,
        )
    });
    assert!(e.contains("the permit for 2.2.1 is scoped to SMD, but 2.2.1 is a duty of SDD"), "{e}");
}

#[test]
fn a_port_compared_with_a_literal_is_refused() {
    let e = problems(|s| {
        s.duties = s.duties.replacen(
            "&& resource.port == principal.port",
            "&& resource.port == \"Manila\"",
            1,
        )
    });
    assert!(e.contains("`port` is used other than in `resource.port == principal.port`"), "{e}");
}

#[test]
fn a_misspelt_class_literal_is_refused() {
    let e = problems(|s| {
        s.duties =
            s.duties.replacen("resource.class == \"security\"", "resource.class == \"securty\"", 1)
    });
    assert!(e.contains("\"securty\" is not a class, kind or system of resources.toml"), "{e}");
}

#[test]
fn a_policy_without_a_clause_is_refused() {
    let e = problems(|s| s.duties = s.duties.replacen("@clause(\"1.2.3\")\n", "", 1));
    assert!(e.contains("this policy has no @clause annotation"), "{e}");
}

#[test]
fn a_duplicate_clause_and_a_unit_cycle_are_refused() {
    let e = problems(|s| s.org = s.org.replacen("clause = \"1.2.5\"", "clause = \"1.2.4\"", 1));
    assert!(e.contains("clause 1.2.4 is listed twice"), "{e}");
    let e = problems(|s| {
        s.org = s.org.replacen(
            "parent = \"MISTG\"\nhead = \"Director, TMS\"",
            "parent = \"SMD\"\nhead = \"Director, TMS\"",
            1,
        )
    });
    assert!(e.contains("is its own ancestor"), "{e}");
}

#[test]
fn separation_of_duties_with_unknown_names_is_refused() {
    let e = problems(|s| {
        s.rules =
            s.rules.replacen("systems = [\"CPS\", \"ERP\"]", "systems = [\"CPS\", \"EPR\"]", 1)
    });
    assert!(e.contains("separation of duties names system `EPR`"), "{e}");
}
