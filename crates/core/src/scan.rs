//! The detective scan (4.1 and 4.2) over a snapshot too large to hold: personnel,
//! assignments and resources are indexed compactly, then grants stream through
//! [`Scan::check`] (from several threads at once) and [`Scan::findings`] reports every
//! grant no duty justifies and every person who holds more of a separation-of-duties set
//! than the pack allows, each with its evidence.
//!
//! Only grants active at the scan time count; every grant is still checked for errors, so
//! a bad line anywhere fails the scan instead of being skipped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::clauses::ClauseIdx;
use crate::compiled::{DecisionTable, PortRelation, Profiles};
use crate::decision::{duty_reasons, explain_unjustified, list, Effect, Holding};
use crate::ids::IdIndex;
use crate::org::{Clause, UnitIdx};
use crate::pack::PolicyPack;
use crate::snapshot::{
    check_port_scoped, check_resource, duplicate_id, empty_id, find_unit, parse_clause,
    parse_period, unknown_person, unknown_port, unknown_resource, AssignmentRecord, GrantRecord,
    Origin, PersonRecord, RecordError, ResourceRecord,
};
use crate::time::Timestamp;

/// Reads personnel, assignments and resources for a scan at `at`.
#[derive(Debug)]
pub struct ScanBuilder<'p> {
    pack: &'p PolicyPack,
    at: Timestamp,
    persons: IdIndex,
    /// 0 for none, else 1 + the port's position in the catalog.
    person_port: Vec<u16>,
    /// (person, unit) for each assignment active at `at`.
    active: Vec<(u32, UnitIdx)>,
    /// The person of the previous assignment, a good guess for the next.
    last_person: u32,
    resources: IdIndex,
    resource_profile: Vec<u32>,
    resource_port: Vec<u16>,
    profiles: Profiles,
    ports: HashMap<String, u16>,
}

const NO_LINE: u32 = u32::MAX;

impl<'p> ScanBuilder<'p> {
    pub fn new(pack: &'p PolicyPack, at: Timestamp) -> Self {
        let ports =
            pack.catalog.ports.iter().enumerate().map(|(i, p)| (p.clone(), i as u16 + 1)).collect();
        Self {
            pack,
            at,
            persons: IdIndex::default(),
            person_port: Vec::new(),
            active: Vec::new(),
            last_person: 0,
            resources: IdIndex::default(),
            resource_profile: Vec::new(),
            resource_port: Vec::new(),
            profiles: Profiles::default(),
            ports,
        }
    }

    /// Sizes the indexes for what is coming, from the file sizes.
    pub fn reserve(&mut self, persons: usize, resources: usize) {
        self.persons = IdIndex::with_capacity(persons);
        self.person_port.reserve(persons);
        self.active.reserve(persons);
        self.resources = IdIndex::with_capacity(resources);
    }

    fn port(&self, port: &str) -> Result<u16, RecordError> {
        if port.is_empty() {
            return Ok(0);
        }
        self.ports.get(port).copied().ok_or_else(|| unknown_port(port))
    }

    pub fn person(&mut self, r: PersonRecord<'_>) -> Result<(), RecordError> {
        if r.id.is_empty() {
            return Err(empty_id("person"));
        }
        let port = self.port(r.port)?;
        self.persons.insert(r.id).map_err(|_| duplicate_id("person", r.id))?;
        self.person_port.push(port);
        Ok(())
    }

    pub fn assignment(&mut self, r: AssignmentRecord<'_>) -> Result<(), RecordError> {
        let person = self
            .persons
            .get_near(r.person, self.last_person)
            .ok_or_else(|| unknown_person(r.person))?;
        self.last_person = person;
        let unit = find_unit(self.pack, r.unit)?;
        let period = parse_period(r.valid_from, r.valid_until)?;
        check_port_scoped(self.pack, unit, r.person, self.person_port[person as usize] != 0)?;
        if period.contains(self.at) {
            self.active.push((person, unit));
        }
        Ok(())
    }

    pub fn resource(&mut self, r: ResourceRecord<'_>) -> Result<(), RecordError> {
        check_resource(self.pack, r)?;
        let port = self.port(r.port)?;
        self.resources.insert(r.id).map_err(|_| duplicate_id("resource", r.id))?;
        let system = (!r.system.is_empty()).then_some(r.system);
        let profile = self.profiles.resource(r.kind, r.class, system, port != 0);
        self.resource_profile.push(profile);
        self.resource_port.push(port);
        Ok(())
    }

    /// Ready to take grants.
    pub fn finish(mut self) -> Scan<'p> {
        let pack = self.pack;
        self.active.sort_unstable();
        let mut person_principal = vec![0u32; self.persons.len()];
        let mut i = 0;
        let mut units = Vec::new();
        for (person, principal) in person_principal.iter_mut().enumerate() {
            units.clear();
            while i < self.active.len() && self.active[i].0 as usize == person {
                units.push(self.active[i].1);
                i += 1;
            }
            *principal = self.profiles.principal(&units, self.person_port[person] != 0);
        }
        drop(std::mem::take(&mut self.active));

        // Separation of duties: a slot per (rule, system), a class position within it.
        let mut slots = Vec::new();
        let mut width = 0usize;
        for (r, rule) in pack.rules.separation_of_duties.iter().enumerate() {
            for system in &rule.systems {
                slots.push(Slot { rule: r, system: system.clone(), base: width });
                width += rule.classes.len();
            }
        }
        let profile_sod = (0..self.profiles.resource_count())
            .map(|p| {
                let profile = self.profiles.resource_profile(p as u32);
                slots.iter().find_map(|slot| {
                    let rule = &pack.rules.separation_of_duties[slot.rule];
                    let class = rule.classes.iter().position(|c| *c == *profile.class)?;
                    (profile.system.as_deref() == Some(slot.system.as_str()))
                        .then_some(slot.base + class)
                })
            })
            .collect();
        let clause_keys = pack
            .org
            .duties()
            .filter_map(|(_, d)| {
                Some((clause_key(d.clause.as_str().as_bytes())?, pack.clauses.find(&d.clause)?))
            })
            .collect();
        let persons_n = self.persons.len();
        Scan {
            pack,
            at: self.at,
            table: self.profiles.compile(&pack.duties),
            persons: self.persons,
            person_principal,
            person_port: self.person_port,
            resources: self.resources,
            resource_profile: self.resource_profile,
            resource_port: self.resource_port,
            profile_sod,
            clause_keys,
            slots,
            width,
            sod_lines: (0..persons_n * width).map(|_| AtomicU32::new(NO_LINE)).collect(),
        }
    }
}

/// A short clause text packed into a u64 for a quick look-up on the hot path.
fn clause_key(text: &[u8]) -> Option<u64> {
    (text.len() <= 8).then(|| text.iter().fold(0u64, |k, &b| (k << 8) | u64::from(b)))
}

#[derive(Debug)]
struct Slot {
    rule: usize,
    system: String,
    /// Where this slot's classes start in a person's row of `sod_lines`.
    base: usize,
}

/// A grant that no duty justifies, found by [`Scan::check`].
#[derive(Debug, Clone, Copy)]
pub struct Violation {
    pub line: u64,
    person: u32,
    resource: u32,
    clause: ClauseIdx,
}

/// The scan itself: share it between threads and call [`Scan::check`] for every grant.
#[derive(Debug)]
pub struct Scan<'p> {
    pack: &'p PolicyPack,
    at: Timestamp,
    table: DecisionTable<'p>,
    persons: IdIndex,
    person_principal: Vec<u32>,
    person_port: Vec<u16>,
    resources: IdIndex,
    resource_profile: Vec<u32>,
    resource_port: Vec<u16>,
    /// For each resource profile, its position in a person's separation-of-duties row.
    profile_sod: Vec<Option<usize>>,
    clause_keys: Vec<(u64, ClauseIdx)>,
    slots: Vec<Slot>,
    width: usize,
    /// For each person and separation-of-duties class: the first line of a grant that
    /// gives it, or `NO_LINE`.
    sod_lines: Vec<AtomicU32>,
}

/// What a scan found.
#[derive(Debug, serde::Serialize)]
pub struct Finding {
    pub clause: Clause,
    pub person: String,
    pub resources: Vec<String>,
    pub message: String,
    pub evidence: Vec<Origin>,
}

/// One thread's share of a scan.
#[derive(Debug)]
pub struct ScanWorker<'s, 'p> {
    scan: &'s Scan<'p>,
    violations: Vec<Violation>,
    /// The person of the previous grant: grants files are usually grouped by person.
    last_person: u32,
    /// Grants read, and of those active at the scan time.
    pub read: u64,
    pub active: u64,
}

/// What a worker found, once it is done.
#[derive(Debug)]
pub struct Tally {
    violations: Vec<Violation>,
    pub read: u64,
    pub active: u64,
}

impl ScanWorker<'_, '_> {
    /// Done: what this worker found, no longer borrowing the scan.
    pub fn into_tally(self) -> Tally {
        Tally { violations: self.violations, read: self.read, active: self.active }
    }

    /// Checks one grant, from line `line` of the grants file: records a [`Violation`] when
    /// no duty justifies it and notes its class for separation of duties.
    pub fn check(&mut self, r: GrantRecord<'_>, line: u64) -> Result<(), RecordError> {
        let scan = self.scan;
        let person = scan
            .persons
            .get_near(r.person, self.last_person)
            .ok_or_else(|| unknown_person(r.person))?;
        self.last_person = person;
        let resource =
            scan.resources.get(r.resource).ok_or_else(|| unknown_resource(r.resource))?;
        let clause = scan.clause(r.clause)?;
        let period = parse_period(r.valid_from, r.valid_until)?;
        self.read += 1;
        if !period.contains(scan.at) {
            return Ok(());
        }
        self.active += 1;
        let profile = scan.resource_profile[resource as usize];
        let ports = scan.ports(person, resource);
        let verdict = scan.table.verdict(scan.person_principal[person as usize], profile, ports);
        if !verdict.justifies(clause) {
            self.violations.push(Violation { line, person, resource, clause });
        }
        if let Some(at) = scan.profile_sod[profile as usize] {
            let line = u32::try_from(line).unwrap_or(NO_LINE - 1);
            scan.sod_lines[person as usize * scan.width + at].fetch_min(line, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// A finished scan: its findings are made one at a time as they are read, so that
/// millions of them stream out in constant memory.
#[derive(Debug)]
pub struct ScanReport<'p> {
    scan: Scan<'p>,
    violations: Vec<Violation>,
    grants_file: String,
}

impl ScanReport<'_> {
    /// Every finding: grants no duty justifies (4.1, or the clause that forbids them), in
    /// file order, then every separation-of-duties breach, by person.
    pub fn findings(&self) -> impl Iterator<Item = Finding> + '_ {
        let scan = &self.scan;
        let file = self.grants_file.as_str();
        let unjustified = self.violations.iter().map(move |v| scan.unjustified(*v, file));
        let breaches = (0..scan.persons.len()).flat_map(move |person| {
            scan.slots.iter().filter_map(move |slot| scan.breach(person, slot, file))
        });
        unjustified.chain(breaches)
    }

    /// How many findings each clause has, without making them.
    pub fn counts(&self) -> std::collections::BTreeMap<Clause, usize> {
        let scan = &self.scan;
        let mut counts = std::collections::BTreeMap::new();
        for v in &self.violations {
            *counts.entry(scan.violation_clause(v)).or_insert(0) += 1;
        }
        for person in 0..scan.persons.len() {
            for slot in &scan.slots {
                let rule = &scan.pack.rules.separation_of_duties[slot.rule];
                let row = &scan.sod_lines[person * scan.width..(person + 1) * scan.width];
                let held = (0..rule.classes.len())
                    .filter(|&i| row[slot.base + i].load(Ordering::Relaxed) != NO_LINE)
                    .count();
                if held > rule.max {
                    *counts.entry(rule.clause.clone()).or_insert(0) += 1;
                }
            }
        }
        counts
    }

    pub fn scan(&self) -> &Scan<'_> {
        &self.scan
    }
}

impl<'p> Scan<'p> {
    pub fn persons(&self) -> usize {
        self.persons.len()
    }

    pub fn resources(&self) -> usize {
        self.resources.len()
    }

    /// How many distinct decision keys Cedar was asked about.
    pub fn decisions_evaluated(&self) -> usize {
        self.table.evaluated()
    }

    /// A worker for one thread: call [`ScanWorker::check`] for each grant it reads, then
    /// hand all workers to [`Scan::findings`].
    pub fn worker(&self) -> ScanWorker<'_, 'p> {
        ScanWorker { scan: self, violations: Vec::new(), last_person: 0, read: 0, active: 0 }
    }

    fn clause(&self, text: &str) -> Result<ClauseIdx, RecordError> {
        if let Some(key) = clause_key(text.as_bytes()) {
            if let Some(&(_, idx)) = self.clause_keys.iter().find(|(k, _)| *k == key) {
                return Ok(idx);
            }
        }
        // Longer clause numbers, and the error when it is not a duty.
        let clause = parse_clause(self.pack, text)?;
        self.pack.clauses.find(&clause).ok_or_else(|| RecordError {
            field: "clause",
            message: format!("{clause} is not a clause of the pack"),
        })
    }

    /// Ends the scan: the workers' violations, in file order, ready to be reported.
    pub fn finish(self, tallies: Vec<Tally>, grants_file: &str) -> ScanReport<'p> {
        let mut violations: Vec<Violation> =
            tallies.into_iter().flat_map(|t| t.violations).collect();
        violations.sort_unstable_by_key(|v| v.line);
        ScanReport { scan: self, violations, grants_file: grants_file.to_owned() }
    }

    /// The separation-of-duties breach of one person on one slot, if there is one.
    fn breach(&self, person: usize, slot: &Slot, grants_file: &str) -> Option<Finding> {
        let row = &self.sod_lines[person * self.width..(person + 1) * self.width];
        let rule = &self.pack.rules.separation_of_duties[slot.rule];
        let held_count = (0..rule.classes.len())
            .filter(|&i| row[slot.base + i].load(Ordering::Relaxed) != NO_LINE)
            .count();
        if held_count <= rule.max {
            return None;
        }
        let held: Vec<(&str, u32)> = rule
            .classes
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let line = row[slot.base + i].load(Ordering::Relaxed);
                (line != NO_LINE).then_some((c.as_str(), line))
            })
            .collect();
        let classes: Vec<&str> = held.iter().map(|(c, _)| *c).collect();
        Some(Finding {
            clause: rule.clause.clone(),
            person: self.persons.name(person as u32).to_owned(),
            resources: Vec::new(),
            message: format!(
                "holds {} on {} at {}: more than {} of {}",
                list(&classes),
                slot.system,
                self.at,
                rule.max,
                list(&rule.classes.iter().map(String::as_str).collect::<Vec<_>>())
            ),
            evidence: held
                .iter()
                .map(|&(_, line)| Origin { file: grants_file.to_owned(), line: u64::from(line) })
                .collect(),
        })
    }

    /// The clause a violation is reported under: what forbids it, else 4.1.
    fn violation_clause(&self, v: &Violation) -> Clause {
        let verdict = self.table.verdict(
            self.person_principal[v.person as usize],
            self.resource_profile[v.resource as usize],
            self.ports(v.person, v.resource),
        );
        match verdict.forbidding.iter().next() {
            Some(c) => self.pack.clauses.info(c).clause.clone(),
            None => crate::decision::rule_clause(self.pack, "4.1"),
        }
    }

    fn ports(&self, person: u32, resource: u32) -> PortRelation {
        PortRelation::of(
            Some(self.person_port[person as usize]).filter(|&p| p != 0),
            Some(self.resource_port[resource as usize]).filter(|&p| p != 0),
        )
    }

    fn unjustified(&self, v: Violation, grants_file: &str) -> Finding {
        let pack = self.pack;
        let person = self.persons.name(v.person);
        let resource = self.resources.name(v.resource);
        let profile =
            self.table.profiles().resource_profile(self.resource_profile[v.resource as usize]);
        let ports = self.ports(v.person, v.resource);
        let principal = self.person_principal[v.person as usize];
        let verdict =
            self.table.verdict(principal, self.resource_profile[v.resource as usize], ports);
        let units: Vec<&str> = self
            .table
            .profiles()
            .principal_profile(principal)
            .units
            .iter()
            .map(|&u| pack.org.unit(u).id.as_str())
            .collect();
        let cited = &pack.clauses.info(v.clause).clause;
        let reasons = duty_reasons(pack, verdict, cited, |c| {
            let port = |p: u16| (p != 0).then(|| pack.catalog.ports[usize::from(p) - 1].as_str());
            let holding = Holding {
                person,
                units: &units,
                person_port: port(self.person_port[v.person as usize]),
                resource,
                class: &profile.class,
                resource_port: port(self.resource_port[v.resource as usize]),
                at: self.at,
                only_the_port_differs: ports == PortRelation::Different
                    && self
                        .table
                        .verdict(
                            principal,
                            self.resource_profile[v.resource as usize],
                            PortRelation::Same,
                        )
                        .justifies(v.clause),
            };
            explain_unjustified(pack, c, &holding)
        });
        let denial = reasons.into_iter().find(|r| r.effect == Effect::Denies);
        let (clause, message) = match denial {
            Some(r) => (r.clause, r.message),
            None => (cited.clone(), "not justified".to_owned()),
        };
        Finding {
            clause,
            person: person.to_owned(),
            resources: vec![resource.to_owned()],
            message: format!("holds {} on {resource} citing {cited}; {message}", profile.class),
            evidence: vec![Origin { file: grants_file.to_owned(), line: v.line }],
        }
    }
}
