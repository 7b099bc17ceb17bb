//! The privileged access that really exists, read against the order: every account an
//! import shows with privileged access on a resource is either a person's (then 4.1 asks
//! for a grant on record, and 4.2 counts it with their grants) or a documented system
//! account (4.5); an account that is neither is a finding. Pure: the imports, the links
//! and the registry come in as values.

use crate::accounts::SystemAccount;
use crate::org::Clause;
use crate::pack::PolicyPack;
use crate::policy::{PrincipalFacts, ResourceFacts};
use crate::snapshot::{PersonIdx, ResourceIdx, Snapshot};
use crate::time::Timestamp;

/// An imported account with privileged access on a resource.
#[derive(Debug, Clone)]
pub struct HeldAccess<'a> {
    /// The host, server or application it was read from.
    pub source: &'a str,
    pub account: &'a str,
    pub resource: ResourceIdx,
    /// Root-equivalent, superuser, application administrator.
    pub full_control: bool,
    /// Each way it holds its access, with where that was read.
    pub how: &'a [String],
    /// The person it is linked to.
    pub person: Option<PersonIdx>,
}

/// What is wrong with the access that exists, naming its clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldFinding {
    pub clause: Clause,
    /// What it is about: `account@source`, or a person's id for 4.2.
    pub subject: String,
    /// A stable key: the same breach found again is the same finding.
    pub key: String,
    pub summary: String,
    pub evidence: String,
}

/// The key of the finding that an account is linked to nobody and undocumented (4.5).
pub fn unowned_key(source: &str, account: &str) -> String {
    format!("unowned|{source}|{account}")
}

/// The key of the finding that a person holds access through an account with no grant
/// on record (4.1).
pub fn ungranted_key(source: &str, account: &str, person: &str) -> String {
    format!("ungranted|{source}|{account}|{person}")
}

/// Checks every held access at `at`. `snapshot` holds the linked persons with their
/// assignments and grants, and the resources the accesses are on.
pub fn held_findings(
    pack: &PolicyPack,
    snapshot: &Snapshot,
    held: &[HeldAccess<'_>],
    registry: &[SystemAccount],
    at: Timestamp,
) -> Vec<HeldFinding> {
    let mut findings = Vec::new();
    for h in held {
        let resource = &snapshot.resources[h.resource.0 as usize];
        let subject = format!("{}@{}", h.account, h.source);
        let evidence = h.how.join("; ");
        let Some(person) = h.person else {
            if !registry.iter().any(|s| s.covers(h.source, h.account)) {
                findings.push(HeldFinding {
                    clause: pack.rules.system_accounts.clause.clone(),
                    key: unowned_key(h.source, h.account),
                    summary: format!(
                        "{subject} holds {} access on {} ({}) and is linked to nobody and not \
                         documented as a system account: link it to its holder or document it",
                        resource.class,
                        resource.id,
                        if h.full_control { "full control" } else { "partial" }
                    ),
                    subject,
                    evidence,
                });
            }
            continue;
        };
        let p = &snapshot.persons[person.0 as usize];
        if snapshot.grants_at(person, at).any(|g| g.resource == h.resource) {
            continue;
        }
        let units = snapshot.units_at(person, at);
        let verdict = pack.duties.evaluate(
            PrincipalFacts { units: &units, port: p.port.as_deref() },
            ResourceFacts {
                kind: &resource.kind,
                class: &resource.class,
                system: resource.system.as_deref(),
                port: resource.port.as_deref(),
            },
        );
        let covering: Vec<String> = if verdict.forbidding.is_empty() {
            verdict
                .permitting
                .iter()
                .map(|c| {
                    let info = pack.clauses.info(c);
                    format!("{} {}", info.clause, info.title)
                })
                .collect()
        } else {
            Vec::new()
        };
        let duty = if covering.is_empty() {
            "and no duty of their units covers it".to_owned()
        } else {
            format!("though a duty covers it ({}): request it", covering.join(", "))
        };
        findings.push(HeldFinding {
            clause: pack.rules.grants.clause.clone(),
            key: ungranted_key(h.source, h.account, &p.id),
            summary: format!(
                "{} ({}) holds {} on {} through {subject} with no grant on record, {duty}",
                p.id, p.name, resource.class, resource.id
            ),
            subject,
            evidence,
        });
    }
    findings.extend(separation(pack, snapshot, held, at));
    findings
}

/// 4.2 (and any separation of duties in the pack) over each person's grants in force and
/// the accesses linked to them.
fn separation(
    pack: &PolicyPack,
    snapshot: &Snapshot,
    held: &[HeldAccess<'_>],
    at: Timestamp,
) -> Vec<HeldFinding> {
    let mut persons: Vec<PersonIdx> = held.iter().filter_map(|h| h.person).collect();
    persons.sort_unstable();
    persons.dedup();
    let mut findings = Vec::new();
    for person in persons {
        // (resource, how it is held, imported) for everything the person holds at `at`.
        let mut holdings: Vec<(ResourceIdx, String, bool)> = snapshot
            .grants_at(person, at)
            .map(|g| (g.resource, format!("grant citing {}", g.clause), false))
            .collect();
        holdings.extend(
            held.iter()
                .filter(|h| h.person == Some(person))
                .map(|h| (h.resource, format!("account {}@{}", h.account, h.source), true)),
        );
        for rule in &pack.rules.separation_of_duties {
            for system in &rule.systems {
                let mut classes: Vec<(&str, Vec<String>)> = Vec::new();
                let mut imported = false;
                for (r, how, from_import) in &holdings {
                    let resource = &snapshot.resources[r.0 as usize];
                    if resource.system.as_deref() != Some(system.as_str())
                        || !rule.classes.contains(&resource.class)
                    {
                        continue;
                    }
                    imported |= from_import;
                    let line = format!("{} on {} ({how})", resource.class, resource.id);
                    match classes.iter_mut().find(|(c, _)| *c == resource.class) {
                        Some((_, lines)) => lines.push(line),
                        None => classes.push((&resource.class, vec![line])),
                    }
                }
                // Grants alone are the scan's to find (`bantay scan`).
                if classes.len() <= rule.max || !imported {
                    continue;
                }
                classes.sort_by_key(|(c, _)| rule.classes.iter().position(|r| r == c));
                let p = &snapshot.persons[person.0 as usize];
                let names: Vec<&str> = classes.iter().map(|(c, _)| *c).collect();
                findings.push(HeldFinding {
                    clause: rule.clause.clone(),
                    subject: p.id.clone(),
                    key: format!("separation|{}|{}|{}", rule.clause, system, p.id),
                    summary: format!(
                        "{} ({}) holds {} on {system}, more than {} of {}",
                        p.id,
                        p.name,
                        names.join(", "),
                        rule.max,
                        rule.classes.join(", ")
                    ),
                    evidence: classes
                        .iter()
                        .flat_map(|(_, lines)| lines.iter().cloned())
                        .collect::<Vec<_>>()
                        .join("; "),
                });
            }
        }
    }
    findings
}
