//! An organisation's state at hand: personnel, their unit assignments (with the personnel
//! order that made each), resources, and the privileged grants people hold. Built record
//! by record through [`SnapshotBuilder`], which checks each against the pack and says what
//! is wrong in words that name the field.

use std::collections::HashMap;

use crate::org::{Clause, UnitIdx};
use crate::pack::PolicyPack;
use crate::time::{Period, Timestamp};

/// A person's position in [`Snapshot::persons`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonIdx(pub u32);

/// A resource's position in [`Snapshot::resources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceIdx(pub u32);

#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub name: String,
    /// The port a person serves, for port-scoped units (PDMU).
    pub port: Option<String>,
}

/// A person's assignment to a unit for a period, by a personnel order (section 3).
#[derive(Debug, Clone)]
pub struct Assignment {
    pub person: PersonIdx,
    pub unit: UnitIdx,
    pub period: Period,
    /// The Customs Personnel Order (CPO) that made it.
    pub order: String,
}

#[derive(Debug, Clone)]
pub struct Resource {
    pub id: String,
    pub kind: String,
    pub class: String,
    pub system: Option<String>,
    pub port: Option<String>,
}

/// Where a record came from, for evidence: a file and line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Origin {
    pub file: String,
    pub line: u64,
}

/// A privilege a person holds: a resource, the duty clause cited for it, and its period.
#[derive(Debug, Clone)]
pub struct Grant {
    pub person: PersonIdx,
    pub resource: ResourceIdx,
    pub clause: Clause,
    pub period: Period,
    pub origin: Option<Origin>,
}

/// What was wrong with one record; the reader adds the file and line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RecordError {
    pub field: &'static str,
    pub message: String,
}

fn record_error(field: &'static str, message: impl Into<String>) -> RecordError {
    RecordError { field, message: message.into() }
}

#[derive(Debug, Default)]
pub struct Snapshot {
    pub persons: Vec<Person>,
    pub assignments: Vec<Assignment>,
    pub resources: Vec<Resource>,
    pub grants: Vec<Grant>,
    person_index: HashMap<String, PersonIdx>,
    resource_index: HashMap<String, ResourceIdx>,
    /// Assignments of each person, by position in `assignments`.
    assignments_of: Vec<Vec<u32>>,
    /// Grants of each person, by position in `grants`.
    grants_of: Vec<Vec<u32>>,
}

impl Snapshot {
    pub fn person(&self, id: &str) -> Option<PersonIdx> {
        self.person_index.get(id).copied()
    }

    pub fn resource(&self, id: &str) -> Option<ResourceIdx> {
        self.resource_index.get(id).copied()
    }

    /// The units a person is assigned to at `at`, in no particular order, without repeats.
    pub fn units_at(&self, person: PersonIdx, at: Timestamp) -> Vec<UnitIdx> {
        let mut units: Vec<UnitIdx> = self.assignments_of[person.0 as usize]
            .iter()
            .map(|&a| &self.assignments[a as usize])
            .filter(|a| a.period.contains(at))
            .map(|a| a.unit)
            .collect();
        units.sort_unstable();
        units.dedup();
        units
    }

    /// The grants a person holds at `at`.
    pub fn grants_at(&self, person: PersonIdx, at: Timestamp) -> impl Iterator<Item = &Grant> {
        self.grants_of[person.0 as usize]
            .iter()
            .map(|&g| &self.grants[g as usize])
            .filter(move |g| g.period.contains(at))
    }
}

/// Builds a [`Snapshot`], checking every record against the pack as it comes.
#[derive(Debug)]
pub struct SnapshotBuilder<'p> {
    pack: &'p PolicyPack,
    snapshot: Snapshot,
}

/// The text of a record's fields, as a reader found them.
#[derive(Debug, Clone, Copy)]
pub struct PersonRecord<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub port: &'a str,
}

#[derive(Debug, Clone, Copy)]
pub struct AssignmentRecord<'a> {
    pub person: &'a str,
    pub unit: &'a str,
    pub valid_from: &'a str,
    pub valid_until: &'a str,
    pub order: &'a str,
}

#[derive(Debug, Clone, Copy)]
pub struct ResourceRecord<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub class: &'a str,
    pub system: &'a str,
    pub port: &'a str,
}

#[derive(Debug, Clone, Copy)]
pub struct GrantRecord<'a> {
    pub person: &'a str,
    pub resource: &'a str,
    pub clause: &'a str,
    pub valid_from: &'a str,
    pub valid_until: &'a str,
}

// What can be wrong with a record, worded once for both the in-memory snapshot and the
// streaming scan.

pub(crate) fn empty_id(what: &str) -> RecordError {
    record_error("id", format!("is empty; every {what} needs an id"))
}

pub(crate) fn duplicate_id(what: &str, id: &str) -> RecordError {
    record_error("id", format!("{what} `{id}` is listed twice; ids must be unique"))
}

pub(crate) fn unknown_person(id: &str) -> RecordError {
    record_error("person", format!("`{id}` is not in persons.csv"))
}

pub(crate) fn unknown_resource(id: &str) -> RecordError {
    record_error("resource", format!("`{id}` is not in resources.csv"))
}

pub(crate) fn unknown_port(port: &str) -> RecordError {
    record_error("port", format!("`{port}` is not a port of the pack (resources.toml `ports`)"))
}

/// The unit an assignment names, by id or alias.
pub(crate) fn find_unit(pack: &PolicyPack, name: &str) -> Result<UnitIdx, RecordError> {
    pack.org.find(name).ok_or_else(|| {
        let units: Vec<&str> = pack.org.units().iter().map(|u| u.id.as_str()).collect();
        record_error("unit", format!("`{name}` is not a unit; units: {}", units.join(", ")))
    })
}

/// A port-scoped unit (PDMU) needs people who serve a port.
pub(crate) fn check_port_scoped(
    pack: &PolicyPack,
    unit: UnitIdx,
    person: &str,
    has_port: bool,
) -> Result<(), RecordError> {
    let unit = pack.org.unit(unit);
    if unit.port_scoped && !has_port {
        return Err(record_error(
            "unit",
            format!(
                "{} is port-scoped, but person `{person}` has no port; give them one in persons.csv",
                unit.id
            ),
        ));
    }
    Ok(())
}

fn optional(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// Reads a validity period; an empty `valid_until` is open-ended.
pub fn parse_period(from: &str, until: &str) -> Result<Period, RecordError> {
    let from = Timestamp::parse(from).map_err(|e| record_error("valid_from", e.to_string()))?;
    let until = if until.is_empty() {
        None
    } else {
        Some(Timestamp::parse(until).map_err(|e| record_error("valid_until", e.to_string()))?)
    };
    if until.is_some_and(|u| u <= from) {
        return Err(record_error(
            "valid_until",
            "ends before or when it starts; valid_until must be after valid_from",
        ));
    }
    Ok(Period { from, until })
}

impl<'p> SnapshotBuilder<'p> {
    pub fn new(pack: &'p PolicyPack) -> Self {
        Self { pack, snapshot: Snapshot::default() }
    }

    pub fn pack(&self) -> &'p PolicyPack {
        self.pack
    }

    pub fn person(&mut self, r: PersonRecord<'_>) -> Result<PersonIdx, RecordError> {
        if r.id.is_empty() {
            return Err(empty_id("person"));
        }
        if self.snapshot.person_index.contains_key(r.id) {
            return Err(duplicate_id("person", r.id));
        }
        if !r.port.is_empty() && !self.pack.catalog.has_port(r.port) {
            return Err(unknown_port(r.port));
        }
        let idx = PersonIdx(self.snapshot.persons.len() as u32);
        self.snapshot.persons.push(Person {
            id: r.id.to_owned(),
            name: r.name.to_owned(),
            port: optional(r.port),
        });
        self.snapshot.person_index.insert(r.id.to_owned(), idx);
        self.snapshot.assignments_of.push(Vec::new());
        self.snapshot.grants_of.push(Vec::new());
        Ok(idx)
    }

    pub fn assignment(&mut self, r: AssignmentRecord<'_>) -> Result<(), RecordError> {
        let person = self.known_person(r.person)?;
        let unit = find_unit(self.pack, r.unit)?;
        let period = parse_period(r.valid_from, r.valid_until)?;
        let has_port = self.snapshot.persons[person.0 as usize].port.is_some();
        check_port_scoped(self.pack, unit, r.person, has_port)?;
        let n = self.snapshot.assignments.len() as u32;
        self.snapshot.assignments.push(Assignment {
            person,
            unit,
            period,
            order: r.order.to_owned(),
        });
        self.snapshot.assignments_of[person.0 as usize].push(n);
        Ok(())
    }

    pub fn resource(&mut self, r: ResourceRecord<'_>) -> Result<ResourceIdx, RecordError> {
        check_resource(self.pack, r)?;
        if self.snapshot.resource_index.contains_key(r.id) {
            return Err(duplicate_id("resource", r.id));
        }
        let idx = ResourceIdx(self.snapshot.resources.len() as u32);
        self.snapshot.resources.push(Resource {
            id: r.id.to_owned(),
            kind: r.kind.to_owned(),
            class: r.class.to_owned(),
            system: optional(r.system),
            port: optional(r.port),
        });
        self.snapshot.resource_index.insert(r.id.to_owned(), idx);
        Ok(idx)
    }

    pub fn grant(&mut self, r: GrantRecord<'_>, origin: Option<Origin>) -> Result<(), RecordError> {
        let person = self.known_person(r.person)?;
        let resource = self.snapshot.resource(r.resource).ok_or_else(|| {
            record_error("resource", format!("`{}` is not in resources.csv", r.resource))
        })?;
        let clause = parse_clause(self.pack, r.clause)?;
        let period = parse_period(r.valid_from, r.valid_until)?;
        let n = self.snapshot.grants.len() as u32;
        self.snapshot.grants.push(Grant { person, resource, clause, period, origin });
        self.snapshot.grants_of[person.0 as usize].push(n);
        Ok(())
    }

    /// An assignment from the store, already checked when it was recorded.
    pub fn stored_assignment(
        &mut self,
        person: &str,
        unit: &str,
        period: Period,
        order: &str,
    ) -> Result<(), RecordError> {
        let person = self.known_person(person)?;
        let unit = find_unit(self.pack, unit)?;
        let n = self.snapshot.assignments.len() as u32;
        self.snapshot.assignments.push(Assignment {
            person,
            unit,
            period,
            order: order.to_owned(),
        });
        self.snapshot.assignments_of[person.0 as usize].push(n);
        Ok(())
    }

    /// A grant from the store, already checked when it was recorded.
    pub fn stored_grant(
        &mut self,
        person: &str,
        resource: &str,
        clause: &str,
        period: Period,
    ) -> Result<(), RecordError> {
        let person = self.known_person(person)?;
        let resource = self
            .snapshot
            .resource(resource)
            .ok_or_else(|| record_error("resource", format!("no resource `{resource}`")))?;
        let clause = Clause::parse(clause)
            .ok_or_else(|| record_error("clause", format!("`{clause}` is not a clause")))?;
        let n = self.snapshot.grants.len() as u32;
        self.snapshot.grants.push(Grant { person, resource, clause, period, origin: None });
        self.snapshot.grants_of[person.0 as usize].push(n);
        Ok(())
    }

    fn known_person(&self, id: &str) -> Result<PersonIdx, RecordError> {
        self.snapshot.person(id).ok_or_else(|| unknown_person(id))
    }

    pub fn finish(self) -> Snapshot {
        self.snapshot
    }
}

/// Checks a resource's kind, class, system and port against the pack.
pub fn check_resource(pack: &PolicyPack, r: ResourceRecord<'_>) -> Result<(), RecordError> {
    let catalog = &pack.catalog;
    if r.id.is_empty() {
        return Err(empty_id("resource"));
    }
    if !catalog.has_kind(r.kind) {
        return Err(record_error(
            "kind",
            format!("`{}` is not a kind; kinds: {}", r.kind, catalog.kinds.join(", ")),
        ));
    }
    if catalog.class(r.class).is_none() {
        let classes: Vec<_> = catalog.classes.iter().map(|c| c.id.as_str()).collect();
        return Err(record_error(
            "class",
            format!("`{}` is not a privilege class; classes: {}", r.class, classes.join(", ")),
        ));
    }
    if !r.system.is_empty() && catalog.system(r.system).is_none() {
        let systems: Vec<_> = catalog.systems.iter().map(|s| s.id.as_str()).collect();
        return Err(record_error(
            "system",
            format!("`{}` is not a system; systems: {}", r.system, systems.join(", ")),
        ));
    }
    if !r.port.is_empty() && !catalog.has_port(r.port) {
        return Err(unknown_port(r.port));
    }
    Ok(())
}

/// Reads a cited clause, which must be a duty of the pack.
pub fn parse_clause(pack: &PolicyPack, text: &str) -> Result<Clause, RecordError> {
    let clause = Clause::parse(text).ok_or_else(|| {
        record_error("clause", format!("`{text}` is not a clause number like 1.2.4"))
    })?;
    if pack.org.duty(&clause).is_none() {
        return Err(record_error(
            "clause",
            format!("{clause} is not a duty of the order; cite the duty that justifies the privilege (e.g. 1.2.4)"),
        ));
    }
    Ok(clause)
}
