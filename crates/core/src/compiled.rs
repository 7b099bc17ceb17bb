//! Compiled decisions: a table of Cedar verdicts keyed by exactly what a verdict depends
//! on, so that a scan over millions of grants asks Cedar once per distinct key.
//!
//! A verdict depends on the person only through the set of units they are in and whether
//! they have a port; on the resource only through its kind, class, system and whether it
//! has a port; and on the two ports only through whether they are the same. That last
//! step is sound because the pack loader refuses a policy that uses `port` other than in
//! `resource.port == principal.port` (see `policy.rs`), and Bantay gives Cedar no other
//! attributes. The differential test in `tests/it/compiled.rs` holds the table to plain
//! Cedar over generated organisations.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::org::UnitIdx;
use crate::policy::{Duties, PrincipalFacts, ResourceFacts, Verdict};

/// What a verdict depends on, of the person.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PrincipalProfile {
    /// Sorted, without repeats.
    pub units: Box<[UnitIdx]>,
    pub has_port: bool,
}

/// What a verdict depends on, of the resource.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceProfile {
    pub kind: Box<str>,
    pub class: Box<str>,
    pub system: Option<Box<str>>,
    pub has_port: bool,
}

/// How the person's port relates to the resource's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortRelation {
    /// At least one of them has no port.
    NotCompared = 0,
    Same = 1,
    Different = 2,
}

impl PortRelation {
    pub fn of<T: PartialEq>(person: Option<T>, resource: Option<T>) -> Self {
        match (person, resource) {
            (Some(p), Some(r)) if p == r => Self::Same,
            (Some(_), Some(_)) => Self::Different,
            _ => Self::NotCompared,
        }
    }
}

/// Interns profiles into dense ids while a snapshot is read; then [`Profiles::compile`].
#[derive(Debug, Default)]
pub struct Profiles {
    principals: Vec<PrincipalProfile>,
    principal_ids: HashMap<PrincipalProfile, u32>,
    single_unit: HashMap<(Option<UnitIdx>, bool), u32>,
    resources: Vec<ResourceProfile>,
    resource_ids: HashMap<ResourceProfile, u32>,
}

impl Profiles {
    /// The id of a person's profile. `units` need not be sorted.
    pub fn principal(&mut self, units: &[UnitIdx], has_port: bool) -> u32 {
        // Most people are in one unit: skip building and hashing a key for them.
        if units.len() <= 1 {
            let key = (units.first().copied(), has_port);
            if let Some(&id) = self.single_unit.get(&key) {
                return id;
            }
            let profile = PrincipalProfile { units: units.into(), has_port };
            let id = intern(&mut self.principals, &mut self.principal_ids, profile);
            self.single_unit.insert(key, id);
            return id;
        }
        let mut sorted = units.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let profile = PrincipalProfile { units: sorted.into(), has_port };
        intern(&mut self.principals, &mut self.principal_ids, profile)
    }

    pub fn resource(
        &mut self,
        kind: &str,
        class: &str,
        system: Option<&str>,
        has_port: bool,
    ) -> u32 {
        let profile = ResourceProfile {
            kind: kind.into(),
            class: class.into(),
            system: system.map(Into::into),
            has_port,
        };
        intern(&mut self.resources, &mut self.resource_ids, profile)
    }

    pub fn resource_count(&self) -> usize {
        self.resources.len()
    }

    pub fn resource_profile(&self, id: u32) -> &ResourceProfile {
        &self.resources[id as usize]
    }

    pub fn principal_profile(&self, id: u32) -> &PrincipalProfile {
        &self.principals[id as usize]
    }

    /// Freezes the profiles into a table whose verdicts are computed on first use.
    pub fn compile(self, duties: &Duties) -> DecisionTable<'_> {
        let cells = self.principals.len() * self.resources.len() * 3;
        DecisionTable {
            duties,
            profiles: self,
            cells: (0..cells).map(|_| OnceLock::new()).collect(),
        }
    }
}

fn intern<T: Clone + Eq + std::hash::Hash>(
    list: &mut Vec<T>,
    ids: &mut HashMap<T, u32>,
    item: T,
) -> u32 {
    if let Some(&id) = ids.get(&item) {
        return id;
    }
    let id = list.len() as u32;
    list.push(item.clone());
    ids.insert(item, id);
    id
}

/// Verdicts by (person profile, resource profile, port relation). Safe to share between
/// threads: each cell is computed once, by whichever thread first needs it.
#[derive(Debug)]
pub struct DecisionTable<'d> {
    duties: &'d Duties,
    profiles: Profiles,
    cells: Vec<OnceLock<Verdict>>,
}

/// Representative ports: only "same or different" matters (see the module comment).
const HERE: &str = "port-of-the-person";
const ELSEWHERE: &str = "another-port";

impl DecisionTable<'_> {
    pub fn verdict(&self, principal: u32, resource: u32, ports: PortRelation) -> &Verdict {
        let n = self.profiles.resources.len();
        let cell = (principal as usize * n + resource as usize) * 3 + ports as usize;
        self.cells[cell].get_or_init(|| self.evaluate(principal, resource, ports))
    }

    fn evaluate(&self, principal: u32, resource: u32, ports: PortRelation) -> Verdict {
        let p = &self.profiles.principals[principal as usize];
        let r = &self.profiles.resources[resource as usize];
        let (person_port, resource_port) = match ports {
            PortRelation::Same => (Some(HERE), Some(HERE)),
            PortRelation::Different => (Some(HERE), Some(ELSEWHERE)),
            PortRelation::NotCompared => {
                (p.has_port.then_some(HERE), r.has_port.then_some(ELSEWHERE))
            }
        };
        self.duties.evaluate(
            PrincipalFacts { units: &p.units, port: person_port },
            ResourceFacts {
                kind: &r.kind,
                class: &r.class,
                system: r.system.as_deref(),
                port: resource_port,
            },
        )
    }

    pub fn profiles(&self) -> &Profiles {
        &self.profiles
    }

    /// How many distinct keys have been evaluated so far.
    pub fn evaluated(&self) -> usize {
        self.cells.iter().filter(|c| c.get().is_some()).count()
    }
}

/// One row of the pack's decisions as a relation: a person in `unit` (with or without a
/// port) may hold `class` on a resource of `kind` and `system` (with or without a port,
/// the ports related as `ports`) under `clause`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Coverage {
    pub unit: String,
    pub person_has_port: bool,
    pub kind: String,
    pub class: String,
    pub system: String,
    pub resource_has_port: bool,
    pub ports: &'static str,
    pub clause: String,
}

/// Every decision of the pack for a person in one unit, over every kind, class and system
/// of the catalog: what `bantay policy table` prints, and what a relational engine needs
/// to run the same 4.1 analysis (the scan benchmark gives it to DuckDB).
pub fn coverage(pack: &crate::PolicyPack) -> Vec<Coverage> {
    let catalog = &pack.catalog;
    let mut profiles = Profiles::default();
    let mut principals = Vec::new();
    for (i, unit) in pack.org.units().iter().enumerate() {
        for has_port in [false, true] {
            let id = profiles.principal(&[UnitIdx(i as u16)], has_port);
            principals.push((unit.id.clone(), has_port, id));
        }
    }
    let mut resources = Vec::new();
    let systems = catalog.systems.iter().map(|s| Some(s.id.as_str())).chain([None]);
    for system in systems {
        for kind in &catalog.kinds {
            for class in &catalog.classes {
                for has_port in [false, true] {
                    let id = profiles.resource(kind, &class.id, system, has_port);
                    resources.push((
                        kind.clone(),
                        class.id.clone(),
                        system.unwrap_or("").to_owned(),
                        has_port,
                        id,
                    ));
                }
            }
        }
    }
    let table = profiles.compile(&pack.duties);
    let mut rows = Vec::new();
    for (unit, person_has_port, p) in &principals {
        for (kind, class, system, resource_has_port, r) in &resources {
            let relations: &[(PortRelation, &'static str)] =
                if *person_has_port && *resource_has_port {
                    &[(PortRelation::Same, "same"), (PortRelation::Different, "different")]
                } else {
                    &[(PortRelation::NotCompared, "none")]
                };
            for &(relation, ports) in relations {
                let verdict = table.verdict(*p, *r, relation);
                if !verdict.forbidding.is_empty() {
                    continue;
                }
                for clause in verdict.permitting.iter() {
                    rows.push(Coverage {
                        unit: unit.clone(),
                        person_has_port: *person_has_port,
                        kind: kind.clone(),
                        class: class.clone(),
                        system: system.clone(),
                        resource_has_port: *resource_has_port,
                        ports,
                        clause: pack.clauses.info(clause).clause.to_string(),
                    });
                }
            }
        }
    }
    rows
}
