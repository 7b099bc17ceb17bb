//! One decision, explained: may this person hold this privilege on this resource, citing
//! this duty, at this time? 4.1 asks Cedar whether a duty of the person's units at that
//! time covers it; 4.2 (and any separation of duties in the pack) counts the grants the
//! person then holds. Every reason names its clause.

use crate::clauses::ClauseIdx;
use crate::org::Clause;
use crate::pack::PolicyPack;
use crate::policy::{PrincipalFacts, ResourceFacts, Verdict};
use crate::rules::SeparationOfDuties;
use crate::snapshot::{Grant, PersonIdx, ResourceIdx, Snapshot};
use crate::time::Timestamp;

#[derive(Debug, Clone)]
pub struct AccessRequest {
    pub person: PersonIdx,
    pub resource: ResourceIdx,
    /// The duty clause the request cites.
    pub clause: Clause,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Allow,
    Deny,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    Permits,
    Denies,
}

/// One reason for a decision, naming its clause.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reason {
    pub clause: Clause,
    pub effect: Effect,
    pub message: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Decision {
    pub outcome: Outcome,
    pub reasons: Vec<Reason>,
}

impl Decision {
    /// The clauses that decided, in order: for a denial the clauses that deny (a permit
    /// that also applied is still among the reasons, but did not decide), for an allowance
    /// the clauses that permit.
    pub fn clauses(&self) -> Vec<&str> {
        let deciding = match self.outcome {
            Outcome::Allow => Effect::Permits,
            Outcome::Deny => Effect::Denies,
        };
        self.reasons.iter().filter(|r| r.effect == deciding).map(|r| r.clause.as_str()).collect()
    }
}

/// Decides a request with plain Cedar and the pack's separation-of-duties rules.
pub fn decide(pack: &PolicyPack, snapshot: &Snapshot, request: &AccessRequest) -> Decision {
    let mut decision = justify(pack, snapshot, request);
    let resource = &snapshot.resources[request.resource.0 as usize];
    for rule in &pack.rules.separation_of_duties {
        if let Some(reason) = separation_reason(
            rule,
            snapshot,
            request.person,
            &resource.class,
            resource.system.as_deref(),
            request.at,
        ) {
            decision.reasons.push(reason);
        }
    }
    decision.outcome = outcome_of(&decision.reasons);
    decision
}

/// 4.1 alone: whether the cited duty of the person's units at that time justifies the
/// privilege. A realignment asks only this of the grants a person already holds.
pub fn justify(pack: &PolicyPack, snapshot: &Snapshot, request: &AccessRequest) -> Decision {
    let person = &snapshot.persons[request.person.0 as usize];
    let resource = &snapshot.resources[request.resource.0 as usize];
    let units = snapshot.units_at(request.person, request.at);
    let principal = PrincipalFacts { units: &units, port: person.port.as_deref() };
    let facts = ResourceFacts {
        kind: &resource.kind,
        class: &resource.class,
        system: resource.system.as_deref(),
        port: resource.port.as_deref(),
    };
    let verdict = pack.duties.evaluate(principal, facts);
    let reasons = duty_reasons(pack, &verdict, &request.clause, |clause| {
        let unit_names: Vec<&str> = units.iter().map(|&u| pack.org.unit(u).id.as_str()).collect();
        let holding = Holding {
            person: &person.id,
            units: &unit_names,
            person_port: person.port.as_deref(),
            resource: &resource.id,
            class: &resource.class,
            resource_port: resource.port.as_deref(),
            at: request.at,
            only_the_port_differs: person.port.is_some() && person.port != resource.port && {
                let here = ResourceFacts { port: person.port.as_deref(), ..facts };
                let verdict = pack.duties.evaluate(principal, here);
                pack.clauses.find(clause).is_some_and(|c| verdict.justifies(c))
            },
        };
        explain_unjustified(pack, clause, &holding)
    });
    Decision { outcome: outcome_of(&reasons), reasons }
}

fn outcome_of(reasons: &[Reason]) -> Outcome {
    if reasons.iter().any(|r| r.effect == Effect::Denies) {
        Outcome::Deny
    } else {
        Outcome::Allow
    }
}

/// The 4.1 reasons of a verdict for a cited clause: what forbids, or what permits, or why
/// nothing does (worded by `unjustified`).
pub(crate) fn duty_reasons(
    pack: &PolicyPack,
    verdict: &Verdict,
    cited: &Clause,
    unjustified: impl FnOnce(&Clause) -> String,
) -> Vec<Reason> {
    let clauses = &pack.clauses;
    if !verdict.forbidding.is_empty() {
        return verdict
            .forbidding
            .iter()
            .map(|c| {
                let info = clauses.info(c);
                Reason {
                    clause: info.clause.clone(),
                    effect: Effect::Denies,
                    message: format!(
                        "denied by {} ({}): no standing access of this kind is held by anyone",
                        info.clause, info.title
                    ),
                }
            })
            .collect();
    }
    let cited_idx = clauses.find(cited);
    if let Some(idx) = cited_idx.filter(|&c| verdict.permitting.contains(c)) {
        let info = clauses.info(idx);
        let unit = info.unit.map(|u| pack.org.unit(u).id.as_str()).unwrap_or("");
        return vec![Reason {
            clause: info.clause.clone(),
            effect: Effect::Permits,
            message: format!("permitted by {} {} ({unit})", info.clause, info.title),
        }];
    }
    let mut message = unjustified(cited);
    let others: Vec<String> = verdict.permitting.iter().map(|c| clause_label(pack, c)).collect();
    if !others.is_empty() {
        message.push_str(&format!("; the person's duties that do cover it: {}", others.join(", ")));
    }
    vec![Reason { clause: rule_clause(pack, "4.1"), effect: Effect::Denies, message }]
}

fn clause_label(pack: &PolicyPack, c: ClauseIdx) -> String {
    let info = pack.clauses.info(c);
    format!("{} {}", info.clause, info.title)
}

/// The clause of a rule of the order, e.g. 4.1. Packs always list 4.1 and 4.2 (their
/// rules cite them); a pack that does not still gets the number in its reasons.
pub(crate) fn rule_clause(pack: &PolicyPack, number: &str) -> Clause {
    pack.clauses
        .find_str(number)
        .map(|c| pack.clauses.info(c).clause.clone())
        .or_else(|| Clause::parse(number))
        .unwrap_or_else(Clause::placeholder)
}

/// A person holding (or asking for) a privilege on a resource: what a denial explains.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Holding<'a> {
    pub person: &'a str,
    pub units: &'a [&'a str],
    pub person_port: Option<&'a str>,
    pub resource: &'a str,
    pub class: &'a str,
    pub resource_port: Option<&'a str>,
    pub at: Timestamp,
    /// Whether the cited duty would cover this were the resource at the person's port.
    pub only_the_port_differs: bool,
}

/// Why a cited clause does not justify a privilege, in the requester's words.
pub(crate) fn explain_unjustified(pack: &PolicyPack, cited: &Clause, h: &Holding<'_>) -> String {
    let Holding { person, units, resource, class, at, .. } = *h;
    if units.is_empty() {
        return format!(
            "denied by 4.1: {person} is assigned to no unit on {at}, so no duty justifies privileged access"
        );
    }
    let Some((owner, duty)) = pack.org.duty(cited) else {
        return format!(
            "denied by 4.1: {cited} is not a duty of the order, so it cannot justify {class} on {resource}"
        );
    };
    let holds_duty =
        units.iter().any(|u| pack.org.find(u).is_some_and(|u| pack.org.is_within(u, owner)));
    let owner = pack.org.unit(owner);
    if !holds_duty {
        return format!(
            "denied by 4.1: {cited} {} is a duty of {}, and {person} is in {} on {at}",
            duty.title,
            owner.id,
            units.join(" and ")
        );
    }
    if h.only_the_port_differs {
        let place =
            h.resource_port.map_or_else(|| "is at no port".to_owned(), |p| format!("is at {p}"));
        let serves = h.person_port.unwrap_or("no port");
        return format!(
            "denied by 4.1: {cited} {} covers the person's own port only; {resource} {place} and {person} serves {serves}",
            duty.title
        );
    }
    format!("denied by 4.1: {cited} {} does not cover {class} on {resource}", duty.title)
}

/// The separation-of-duties reason for a request, if the rule applies to it: it denies
/// when the person would hold more than `max` of the rule's classes on the system.
fn separation_reason(
    rule: &SeparationOfDuties,
    snapshot: &Snapshot,
    person: PersonIdx,
    class: &str,
    system: Option<&str>,
    at: Timestamp,
) -> Option<Reason> {
    let system = system.filter(|s| rule.systems.iter().any(|r| r == s))?;
    rule.classes.iter().position(|c| c == class)?;
    let mut held: Vec<(&str, &Grant)> = Vec::new();
    for grant in snapshot.grants_at(person, at) {
        let r = &snapshot.resources[grant.resource.0 as usize];
        if r.system.as_deref() == Some(system)
            && rule.classes.contains(&r.class)
            && r.class != class
            && !held.iter().any(|(c, _)| *c == r.class)
        {
            held.push((&r.class, grant));
        }
    }
    if held.len() < rule.max {
        return None;
    }
    let evidence: Vec<String> = held
        .iter()
        .map(|(c, g)| {
            format!("{c} on {} ({})", snapshot.resources[g.resource.0 as usize].id, g.clause)
        })
        .collect();
    let mut all: Vec<&str> = held.iter().map(|(c, _)| *c).chain([class]).collect();
    all.sort_by_key(|c| rule.classes.iter().position(|r| r == c));
    Some(Reason {
        clause: rule.clause.clone(),
        effect: Effect::Denies,
        message: format!(
            "denied by {}: the person would hold {} on {system}, more than {} of {} (already holds {})",
            rule.clause,
            list(&all),
            rule.max,
            list(&rule.classes.iter().map(String::as_str).collect::<Vec<_>>()),
            evidence.join(", "),
        ),
    })
}

/// "a, b and c"
pub(crate) fn list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
