//! The policy pack's own test corpus: decision cases written as TOML, each giving a small
//! organisation, a request, and the decision with its clauses that the pack must reach
//! (cedar's JSON corpus, in the order's words). `bantay policy test` and the core's tests
//! run the shipped corpus in `policy/cmo-04-2019/tests/`.
//!
//! ```toml
//! [[case]]
//! name = "SMD administers a CPS host"
//! at = "2026-03-01"
//! person = { units = ["SMD"] }            # or assignments = [{ unit, from, until }]
//! resource = { kind = "host", class = "os", system = "CPS", port = "Manila" }
//! clause = "1.2.4"
//! grants = [{ resource = { kind = "database", class = "database", system = "CPS" }, clause = "2.2.1", from = "2025-01-01" }]
//! expect = "allow"
//! clauses = ["1.2.4"]
//! ```

use serde::Deserialize;

use crate::decision::{decide, AccessRequest, Outcome};
use crate::pack::PolicyPack;
use crate::snapshot::{
    AssignmentRecord, GrantRecord, PersonRecord, ResourceRecord, SnapshotBuilder,
};
use crate::time::Timestamp;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CorpusFile {
    case: Vec<Case>,
}

/// One decision case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    pub at: String,
    pub person: CasePerson,
    pub resource: CaseResource,
    pub clause: String,
    #[serde(default)]
    pub grants: Vec<CaseGrant>,
    pub expect: Expect,
    pub clauses: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CasePerson {
    /// Units held since 2000-01-01, open-ended: the short form.
    #[serde(default)]
    pub units: Vec<String>,
    /// Assignments with their periods: the long form.
    #[serde(default)]
    pub assignments: Vec<CaseAssignment>,
    #[serde(default)]
    pub port: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseAssignment {
    pub unit: String,
    pub from: String,
    #[serde(default)]
    pub until: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseResource {
    pub kind: String,
    pub class: String,
    #[serde(default)]
    pub system: String,
    #[serde(default)]
    pub port: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseGrant {
    pub resource: CaseResource,
    pub clause: String,
    pub from: String,
    #[serde(default)]
    pub until: String,
}

/// How one case came out.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub name: String,
    /// `None` when the pack decided as expected; otherwise what went wrong.
    pub failure: Option<String>,
}

/// Reads a corpus file's cases. `Err` names the line.
pub fn parse_corpus(file: &str, text: &str) -> Result<Vec<Case>, String> {
    match toml::from_str::<CorpusFile>(text) {
        Ok(corpus) => Ok(corpus.case),
        Err(e) => {
            let line = e.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            Err(format!("{file}:{}: {}", line.unwrap_or(1), e.message().trim()))
        }
    }
}

/// Decides one case with the pack and compares it with what the case expects.
pub fn run_case(pack: &PolicyPack, case: &Case) -> CaseResult {
    let failure = match decide_case(pack, case) {
        Err(e) => Some(format!("the case itself is wrong: {e}")),
        Ok((outcome, clauses, reasons)) => {
            let expected_outcome = match case.expect {
                Expect::Allow => Outcome::Allow,
                Expect::Deny => Outcome::Deny,
            };
            let mut expected = case.clauses.clone();
            expected.sort();
            if outcome != expected_outcome || clauses != expected {
                Some(format!(
                    "expected {:?} by {:?}, got {outcome:?} by {clauses:?}:\n    {}",
                    case.expect,
                    expected,
                    reasons.join("\n    ")
                ))
            } else {
                None
            }
        }
    };
    CaseResult { name: case.name.clone(), failure }
}

type Decided = (Outcome, Vec<String>, Vec<String>);

fn decide_case(pack: &PolicyPack, case: &Case) -> Result<Decided, String> {
    let mut b = SnapshotBuilder::new(pack);
    let err = |what: &str, e: crate::RecordError| format!("{what}: {e}");
    let person = b
        .person(PersonRecord { id: "subject", name: "Test Person", port: &case.person.port })
        .map_err(|e| err("person", e))?;
    for unit in &case.person.units {
        b.assignment(AssignmentRecord {
            person: "subject",
            unit,
            valid_from: "2000-01-01",
            valid_until: "",
            order: "CPO-TEST",
        })
        .map_err(|e| err("person.units", e))?;
    }
    for a in &case.person.assignments {
        b.assignment(AssignmentRecord {
            person: "subject",
            unit: &a.unit,
            valid_from: &a.from,
            valid_until: &a.until,
            order: "CPO-TEST",
        })
        .map_err(|e| err("person.assignments", e))?;
    }
    let target = b
        .resource(ResourceRecord {
            id: "target",
            kind: &case.resource.kind,
            class: &case.resource.class,
            system: &case.resource.system,
            port: &case.resource.port,
        })
        .map_err(|e| err("resource", e))?;
    for (i, g) in case.grants.iter().enumerate() {
        let id = format!("held-{i}");
        b.resource(ResourceRecord {
            id: &id,
            kind: &g.resource.kind,
            class: &g.resource.class,
            system: &g.resource.system,
            port: &g.resource.port,
        })
        .map_err(|e| err("grants.resource", e))?;
        b.grant(
            GrantRecord {
                person: "subject",
                resource: &id,
                clause: &g.clause,
                valid_from: &g.from,
                valid_until: &g.until,
            },
            None,
        )
        .map_err(|e| err("grants", e))?;
    }
    let clause = crate::snapshot::parse_clause(pack, &case.clause).map_err(|e| err("clause", e))?;
    let at = Timestamp::parse(&case.at).map_err(|e| format!("at: {e}"))?;
    let snapshot = b.finish();
    let decision = decide(pack, &snapshot, &AccessRequest { person, resource: target, clause, at });
    let mut clauses: Vec<String> = decision.clauses().into_iter().map(str::to_owned).collect();
    clauses.sort();
    clauses.dedup();
    let reasons = decision.reasons.iter().map(|r| r.message.clone()).collect();
    Ok((decision.outcome, clauses, reasons))
}
