//! The pack's Cedar: which duty justifies which privileged access (4.1).
//!
//! [`Duties::compile`] parses and validates `duties.cedar` against `schema.cedarschema`
//! and against the organisation and catalog, and [`Duties::evaluate`] answers one question
//! with plain Cedar: given a person's units and port and a resource's attributes, which
//! clauses permit holding it, and which forbid it.
//!
//! Two habits of the policies are checked here because the decision table
//! (`compiled.rs`) relies on them: a port is only compared with another port, never with a
//! literal (so a decision depends only on whether the two ports are the same), and every
//! string literal is a class, kind or system of the catalog (which also catches typos
//! such as `"databse"`, which Cedar alone would accept).

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision, Effect, Entities, Entity, EntityId, EntityTypeName, EntityUid,
    PolicyId, PolicySet, PrincipalConstraint, Request, RestrictedExpression, Schema,
    ValidationMode, Validator,
};
use miette::Diagnostic;
use serde_json::Value;

use crate::catalog::Catalog;
use crate::clauses::{ClauseIdx, ClauseSet, Clauses};
use crate::org::{Clause, Organisation, UnitIdx};
use crate::pack::{PackProblem, SourceFile};

/// What a decision knows of the person: the units they are in at the time, and their port.
#[derive(Debug, Clone, Copy)]
pub struct PrincipalFacts<'a> {
    pub units: &'a [UnitIdx],
    pub port: Option<&'a str>,
}

/// What a decision knows of the resource.
#[derive(Debug, Clone, Copy)]
pub struct ResourceFacts<'a> {
    pub kind: &'a str,
    pub class: &'a str,
    pub system: Option<&'a str>,
    pub port: Option<&'a str>,
}

/// Cedar's answer, as clauses: the permits that matched, and the forbids that matched.
/// Holding is justified under clause `c` when nothing forbids it and `c` permits it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Verdict {
    pub permitting: ClauseSet,
    pub forbidding: ClauseSet,
}

impl Verdict {
    pub fn justifies(&self, clause: ClauseIdx) -> bool {
        self.forbidding.is_empty() && self.permitting.contains(clause)
    }
}

/// The compiled Cedar policies of a pack.
#[derive(Debug)]
pub struct Duties {
    policies: PolicySet,
    clause_of: HashMap<PolicyId, ClauseIdx>,
    /// Unit entities with their parents, one per unit, indexed by [`UnitIdx`].
    units: Vec<Entity>,
    /// The same, as Cedar entities with the hierarchy's transitive closure computed.
    unit_entities: Entities,
    unit_uids: Vec<EntityUid>,
    action: EntityUid,
    /// The two entities of every request: the person asking and the resource.
    subject: EntityUid,
    object: EntityUid,
    authorizer: Authorizer,
}

const PERSON: &str = "Person";
const RESOURCE: &str = "Resource";
const UNIT: &str = "Unit";

fn uid(type_name: &str, id: &str) -> Result<EntityUid, String> {
    let t = EntityTypeName::from_str(type_name).map_err(|e| e.to_string())?;
    Ok(EntityUid::from_type_name_and_id(t, EntityId::new(id)))
}

impl Duties {
    pub(crate) fn compile(
        org: &Organisation,
        catalog: &Catalog,
        clauses: &Clauses,
        duties: SourceFile<'_>,
        schema_file: SourceFile<'_>,
    ) -> Result<Self, Vec<PackProblem>> {
        let mut problems = Vec::new();
        let schema = match Schema::from_cedarschema_str(schema_file.text) {
            Ok((schema, _warnings)) => Some(schema),
            Err(e) => {
                problems.extend(diagnostic_problems(&schema_file, &e));
                None
            }
        };
        let policies = match PolicySet::from_str(duties.text) {
            Ok(p) => p,
            Err(e) => {
                problems.extend(diagnostic_problems(&duties, &e));
                return Err(problems);
            }
        };
        let Some(schema) = schema else {
            return Err(problems);
        };
        let validation = Validator::new(schema.clone()).validate(&policies, ValidationMode::Strict);
        for error in validation.validation_errors() {
            for mut problem in diagnostic_problems(&duties, error) {
                // Cedar names policies policy0, policy1, …; people know them by clause.
                for policy in policies.policies() {
                    let generated = format!("for policy `{}`", policy.id());
                    if let (true, Some(clause)) =
                        (problem.message.contains(&generated), policy.annotation("clause"))
                    {
                        problem.message = problem.message.replace(
                            &generated,
                            &format!("in the policy for @clause(\"{clause}\")"),
                        );
                        break;
                    }
                }
                problems.push(problem);
            }
        }

        // PolicySet::from_str names policies policy0, policy1, … in source order, which
        // lets us point at the line where each one starts.
        let starts = statement_starts(duties.text);
        let mut clause_of = HashMap::new();
        let mut literals = Literals::new(org, catalog);
        for (n, &start) in starts.iter().enumerate() {
            let id = PolicyId::new(format!("policy{n}"));
            let Some(policy) = policies.policy(&id) else {
                continue;
            };
            let at = Some(start..start);
            let Some(text) = policy.annotation("clause") else {
                problems.push(duties.problem(
                    at,
                    "this policy has no @clause annotation",
                    Some(
                        "put @clause(\"1.2.4\") above it, naming the duty or rule it reads".into(),
                    ),
                ));
                continue;
            };
            let Some(idx) = Clause::parse(text).and_then(|c| clauses.find(&c)) else {
                problems.push(duties.problem(
                    at,
                    format!("@clause(\"{text}\") is not a clause of the pack"),
                    Some("name a duty from org.toml or a rule clause from rules.toml".into()),
                ));
                continue;
            };
            clause_of.insert(id, idx);
            if policy.effect() == Effect::Permit {
                check_permit_scope(
                    org,
                    clauses,
                    idx,
                    policy.principal_constraint(),
                    &duties,
                    start,
                    &mut problems,
                );
            }
            match policy.to_json() {
                Ok(json) => literals.check(&json, &duties, start, &mut problems),
                Err(e) => problems.push(duties.problem(at, e.to_string(), None)),
            }
        }
        if starts.len() != policies.policies().count() {
            problems.push(duties.problem(
                None,
                "could not match each policy to its line; a `;` inside a comment or string may confuse the count",
                None,
            ));
        }

        let unit_uids = org
            .units()
            .iter()
            .map(|u| uid(UNIT, &u.id))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| vec![duties.problem(None, e, None)])?;
        let units: Vec<Entity> = org
            .units()
            .iter()
            .zip(&unit_uids)
            .map(|(u, id)| {
                let parents = u.parent.map(|p| unit_uids[p.index()].clone()).into_iter().collect();
                Entity::new_no_attrs(id.clone(), parents)
            })
            .collect();
        let action = uid("Action", "hold").map_err(|e| vec![duties.problem(None, e, None)])?;
        let unit_entities = Entities::from_entities(units.iter().cloned(), None)
            .map_err(|e| vec![duties.problem(None, e.to_string(), None)])?;
        let compiled = Self {
            policies,
            clause_of,
            units,
            unit_entities,
            unit_uids,
            action,
            subject: uid(PERSON, "subject").map_err(|e| vec![duties.problem(None, e, None)])?,
            object: uid(RESOURCE, "object").map_err(|e| vec![duties.problem(None, e, None)])?,
            authorizer: Authorizer::new(),
        };

        // The entities Bantay builds must fit the schema: a schema that requires an
        // attribute Bantay does not know would make every decision an error.
        if problems.is_empty() {
            let sample_port = catalog.ports.first().map(String::as_str);
            let sample = compiled.entities(
                PrincipalFacts { units: &[], port: sample_port },
                ResourceFacts { kind: "host", class: "os", system: Some("CPS"), port: sample_port },
                Some(&schema),
            );
            if let Err(e) = sample {
                problems.push(schema_file.problem(
                    None,
                    format!("the schema does not fit the entities Bantay gives Cedar: {e}"),
                    Some("Person has an optional `port`; Resource has `kind`, `class` and optional `system` and `port`, all strings".into()),
                ));
            }
        }
        if problems.is_empty() {
            Ok(compiled)
        } else {
            Err(problems)
        }
    }

    fn entities(
        &self,
        principal: PrincipalFacts<'_>,
        resource: ResourceFacts<'_>,
        schema: Option<&Schema>,
    ) -> Result<Entities, String> {
        let string = |s: &str| RestrictedExpression::new_string(s.to_owned());
        let mut person_attrs = HashMap::new();
        if let Some(port) = principal.port {
            person_attrs.insert("port".to_owned(), string(port));
        }
        let parents: HashSet<EntityUid> =
            principal.units.iter().map(|u| self.unit_uids[u.index()].clone()).collect();
        let person =
            Entity::new(self.subject.clone(), person_attrs, parents).map_err(|e| e.to_string())?;
        let mut resource_attrs = HashMap::from([
            ("kind".to_owned(), string(resource.kind)),
            ("class".to_owned(), string(resource.class)),
        ]);
        if let Some(system) = resource.system {
            resource_attrs.insert("system".to_owned(), string(system));
        }
        if let Some(port) = resource.port {
            resource_attrs.insert("port".to_owned(), string(port));
        }
        let object = Entity::new(self.object.clone(), resource_attrs, HashSet::new())
            .map_err(|e| e.to_string())?;
        match schema {
            // Validation against the schema checks the units too.
            Some(schema) => {
                let all = self.units.iter().cloned().chain([person, object]);
                Entities::from_entities(all, Some(schema)).map_err(|e| e.to_string())
            }
            // The units' hierarchy is closed once, at load; each request adds two entities.
            None => self
                .unit_entities
                .clone()
                .add_entities([person, object], None)
                .map_err(|e| e.to_string()),
        }
    }

    /// Plain Cedar: builds the entities and the request and asks the authorizer. This is
    /// the reference the decision table is tested against, and what `explain` shows.
    pub fn evaluate(&self, principal: PrincipalFacts<'_>, resource: ResourceFacts<'_>) -> Verdict {
        let mut verdict = Verdict::default();
        // Both can only fail on entity ids or attribute values Cedar cannot hold; ours are
        // fixed ids and plain strings, checked once against the schema at load. A failure
        // is treated as "nothing permits", the safe answer.
        let Ok(entities) = self.entities(principal, resource, None) else {
            return verdict;
        };
        let (Ok(p), Ok(r)) = (uid(PERSON, "subject"), uid(RESOURCE, "object")) else {
            return verdict;
        };
        let Ok(request) = Request::new(p, self.action.clone(), r, Context::empty(), None) else {
            return verdict;
        };
        let response = self.authorizer.is_authorized(&request, &self.policies, &entities);
        for id in response.diagnostics().reason() {
            if let Some(&clause) = self.clause_of.get(id) {
                match response.decision() {
                    Decision::Allow => verdict.permitting.insert(clause),
                    Decision::Deny => verdict.forbidding.insert(clause),
                }
            }
        }
        verdict
    }

    /// The clauses of the pack's permits (which duties justify anything at all).
    pub fn permitting_clauses(&self) -> ClauseSet {
        let mut set = ClauseSet::default();
        for policy in self.policies.policies() {
            if policy.effect() == Effect::Permit {
                if let Some(&c) = self.clause_of.get(policy.id()) {
                    set.insert(c);
                }
            }
        }
        set
    }
}

/// A permit reads one unit's duty, so it must be scoped to that unit (or a unit below
/// it): a permit for 2.2.1 (SDD's) scoped to SMD would hand SDD's duty to SMD.
fn check_permit_scope(
    org: &Organisation,
    clauses: &Clauses,
    clause: ClauseIdx,
    scope: PrincipalConstraint,
    file: &SourceFile<'_>,
    start: usize,
    problems: &mut Vec<PackProblem>,
) {
    let info = clauses.info(clause);
    let Some(owner) = info.unit else {
        problems.push(file.problem(
            Some(start..start),
            format!("a permit cites {}, which is a rule, not a unit's duty", info.clause),
            Some("a permit justifies access by a duty; cite the duty clause from org.toml".into()),
        ));
        return;
    };
    let scoped = match scope {
        PrincipalConstraint::In(uid) if uid.type_name().to_string() == UNIT => {
            match org.units().iter().position(|u| u.id == uid.id().unescaped()) {
                Some(i) => org.find(&org.units()[i].id),
                // An unknown unit is reported once, by the literal check.
                None => return,
            }
        }
        _ => None,
    };
    let owner_id = &org.unit(owner).id;
    match scoped {
        Some(unit) if org.is_within(unit, owner) => {}
        Some(unit) => problems.push(file.problem(
            Some(start..start),
            format!("the permit for {} is scoped to {}, but {} is a duty of {owner_id}", info.clause, org.unit(unit).id, info.clause),
            Some(format!("write `principal in Unit::\"{owner_id}\"`")),
        )),
        None => problems.push(file.problem(
            Some(start..start),
            format!("the permit for {} is not scoped to a unit", info.clause),
            Some(format!("write `principal in Unit::\"{owner_id}\"`: a duty justifies access only for its unit")),
        )),
    }
}

/// Byte offsets where each statement of a Cedar file starts (its first annotation or its
/// effect), skipping comments and string literals.
fn statement_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = Vec::new();
    let mut expecting = true;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                if expecting {
                    starts.push(i);
                    expecting = false;
                }
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b';' => expecting = true,
            c if c.is_ascii_whitespace() => {}
            _ if expecting => {
                starts.push(i);
                expecting = false;
            }
            _ => {}
        }
        i += 1;
    }
    starts
}

/// Problems from a Cedar diagnostic, each located by its first label.
fn diagnostic_problems(file: &SourceFile<'_>, error: &dyn Diagnostic) -> Vec<PackProblem> {
    let mut out = Vec::new();
    let related: Vec<&dyn Diagnostic> = error.related().map(|r| r.collect()).unwrap_or_default();
    let all: Vec<&dyn Diagnostic> = if related.is_empty() {
        vec![error]
    } else {
        std::iter::once(error).chain(related).collect()
    };
    for d in all {
        let span = d.labels().and_then(|mut l| l.next()).map(|l| l.offset()..l.offset() + l.len());
        let hint = d.help().map(|h| h.to_string());
        let message = d.to_string();
        let problem = file.problem(span, message, hint);
        if !out.contains(&problem) {
            out.push(problem);
        }
    }
    out
}

/// Walks a policy's JSON form checking its literals and its use of `port`.
struct Literals<'a> {
    org: &'a Organisation,
    known: HashSet<&'a str>,
}

impl<'a> Literals<'a> {
    fn new(org: &'a Organisation, catalog: &'a Catalog) -> Self {
        let known = catalog
            .classes
            .iter()
            .map(|c| c.id.as_str())
            .chain(catalog.kinds.iter().map(String::as_str))
            .chain(catalog.systems.iter().map(|s| s.id.as_str()))
            .collect();
        Self { org, known }
    }

    fn check(
        &mut self,
        policy: &Value,
        file: &SourceFile<'_>,
        start: usize,
        problems: &mut Vec<PackProblem>,
    ) {
        if let Some(entity) = policy.pointer("/principal/entity") {
            self.entity(entity, file, start, problems);
        }
        if let Some(conditions) = policy.get("conditions").and_then(Value::as_array) {
            for condition in conditions {
                if let Some(body) = condition.get("body") {
                    self.expr(body, file, start, problems);
                }
            }
        }
    }

    fn entity(
        &self,
        entity: &Value,
        file: &SourceFile<'_>,
        start: usize,
        problems: &mut Vec<PackProblem>,
    ) {
        let (Some(t), Some(id)) =
            (entity.get("type").and_then(Value::as_str), entity.get("id").and_then(Value::as_str))
        else {
            return;
        };
        if t == UNIT && self.org.units().iter().all(|u| u.id != id) {
            let hint = match self.org.find(id) {
                Some(u) => format!(
                    "`{id}` is an alias; Cedar names units by id: Unit::\"{}\"",
                    self.org.unit(u).id
                ),
                None => format!(
                    "units: {}",
                    self.org.units().iter().map(|u| u.id.as_str()).collect::<Vec<_>>().join(", ")
                ),
            };
            problems.push(file.problem(
                Some(start..start),
                format!("Unit::\"{id}\" is not a unit of org.toml"),
                Some(hint),
            ));
        }
    }

    fn expr(
        &self,
        node: &Value,
        file: &SourceFile<'_>,
        start: usize,
        problems: &mut Vec<PackProblem>,
    ) {
        match node {
            Value::Array(items) => items.iter().for_each(|i| self.expr(i, file, start, problems)),
            Value::Object(map) => {
                for (key, value) in map {
                    match key.as_str() {
                        "Value" => self.value(value, file, start, problems),
                        "==" | "!="
                            if is_port_access(value.get("left"))
                                && is_port_access(value.get("right")) => {}
                        "." if value.get("attr").and_then(Value::as_str) == Some("port") => {
                            problems.push(file.problem(
                                Some(start..start),
                                "`port` is used other than in `resource.port == principal.port`",
                                Some("compare a port only with another port; Bantay's compiled decisions depend on it".into()),
                            ));
                        }
                        _ => self.expr(value, file, start, problems),
                    }
                }
            }
            _ => {}
        }
    }

    fn value(
        &self,
        value: &Value,
        file: &SourceFile<'_>,
        start: usize,
        problems: &mut Vec<PackProblem>,
    ) {
        match value {
            Value::String(s) if !self.known.contains(s.as_str()) => problems.push(file.problem(
                Some(start..start),
                format!("\"{s}\" is not a class, kind or system of resources.toml"),
                Some(format!("known: {}", {
                    let mut k: Vec<_> = self.known.iter().copied().collect();
                    k.sort_unstable();
                    k.join(", ")
                })),
            )),
            Value::Array(items) => items.iter().for_each(|i| self.value(i, file, start, problems)),
            Value::Object(map) => {
                if let Some(entity) = map.get("__entity") {
                    self.entity(entity, file, start, problems);
                }
            }
            _ => {}
        }
    }
}

fn is_port_access(node: Option<&Value>) -> bool {
    node.and_then(|n| n.get(".")).and_then(|dot| dot.get("attr")).and_then(Value::as_str)
        == Some("port")
}

#[cfg(test)]
mod tests {
    use super::statement_starts;

    #[test]
    fn statements_start_after_semicolons_outside_comments_and_strings() {
        let text = "// a; b\n@clause(\"1;2\")\npermit (principal, action, resource);\n\nforbid (principal, action, resource);";
        let starts = statement_starts(text);
        assert_eq!(starts.len(), 2);
        assert_eq!(&text[starts[0]..starts[0] + 7], "@clause");
        assert_eq!(&text[starts[1]..starts[1] + 6], "forbid");
    }
}
