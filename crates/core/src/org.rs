//! The organisation of the order (sections 1 and 2): units in a hierarchy, their aliases,
//! and their numbered duties. Built from the policy pack's `org.toml` and immutable after.

use std::collections::HashMap;
use std::fmt;

/// A unit's position in [`Organisation::units`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnitIdx(pub(crate) u16);

impl UnitIdx {
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// A clause of the order, e.g. `1.2.4` or `4.2`: dot-separated numbers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Clause(Box<str>);

impl Clause {
    /// Accepts `1`, `1.2`, `1.2.4`, …: numbers separated by single dots.
    pub fn parse(text: &str) -> Option<Self> {
        let ok = !text.is_empty()
            && text.split('.').all(|part| {
                !part.is_empty() && part.len() <= 3 && part.bytes().all(|b| b.is_ascii_digit())
            });
        ok.then(|| Self(text.into()))
    }

    /// Stands in for a clause that failed to parse while loading goes on to find more
    /// problems; a pack with a problem is never returned, so it is never seen.
    pub(crate) fn placeholder() -> Self {
        Self("0".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A numbered duty of a unit, as the order words it.
#[derive(Debug, Clone)]
pub struct Duty {
    pub clause: Clause,
    /// A short name for decisions: "Systems and network administration".
    pub title: String,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct Unit {
    pub id: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub parent: Option<UnitIdx>,
    /// The title of the unit's head ("Chief, SMD"), who approves for it.
    pub head: String,
    /// Whether the unit's people each serve one port (PDMU, 1.4).
    pub port_scoped: bool,
    pub duties: Vec<Duty>,
}

/// The units, their hierarchy and duties.
#[derive(Debug, Clone)]
pub struct Organisation {
    units: Vec<Unit>,
    /// Ids and aliases, each mapped to its unit.
    by_name: HashMap<String, UnitIdx>,
    /// Each duty clause and the unit that holds it.
    duty_owner: HashMap<Clause, (UnitIdx, usize)>,
}

impl Organisation {
    /// Builds the organisation; the caller (the pack loader) has checked that names are
    /// unique, parents exist and the hierarchy has no cycle.
    pub(crate) fn new(units: Vec<Unit>) -> Self {
        let mut by_name = HashMap::new();
        let mut duty_owner = HashMap::new();
        for (i, unit) in units.iter().enumerate() {
            let idx = UnitIdx(i as u16);
            by_name.insert(unit.id.clone(), idx);
            for alias in &unit.aliases {
                by_name.insert(alias.clone(), idx);
            }
            for (d, duty) in unit.duties.iter().enumerate() {
                duty_owner.insert(duty.clause.clone(), (idx, d));
            }
        }
        Self { units, by_name, duty_owner }
    }

    pub fn units(&self) -> &[Unit] {
        &self.units
    }

    pub fn unit(&self, idx: UnitIdx) -> &Unit {
        &self.units[idx.index()]
    }

    /// Finds a unit by its id or any alias ("PIMD" finds PMID).
    pub fn find(&self, name: &str) -> Option<UnitIdx> {
        self.by_name.get(name).copied()
    }

    /// The unit holding a duty clause, and the duty.
    pub fn duty(&self, clause: &Clause) -> Option<(UnitIdx, &Duty)> {
        let &(unit, d) = self.duty_owner.get(clause)?;
        Some((unit, &self.units[unit.index()].duties[d]))
    }

    /// Every duty, with its unit.
    pub fn duties(&self) -> impl Iterator<Item = (UnitIdx, &Duty)> {
        self.units
            .iter()
            .enumerate()
            .flat_map(|(i, u)| u.duties.iter().map(move |d| (UnitIdx(i as u16), d)))
    }

    /// The unit and its ancestors, nearest first.
    pub fn lineage(&self, unit: UnitIdx) -> impl Iterator<Item = UnitIdx> + '_ {
        std::iter::successors(Some(unit), |u| self.units[u.index()].parent)
    }

    /// Whether `ancestor` is `unit` or above it.
    pub fn is_within(&self, unit: UnitIdx, ancestor: UnitIdx) -> bool {
        self.lineage(unit).any(|u| u == ancestor)
    }
}
