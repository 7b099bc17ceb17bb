//! The clauses of the order a pack knows: every duty (from `org.toml`) and every rule
//! clause (from `rules.toml`), each with a short title for decisions, and compact sets of
//! them for the decision table.

use std::collections::HashMap;

use crate::org::{Clause, UnitIdx};

/// Bantay keeps clause sets as 256-bit masks.
pub const MAX_CLAUSES: usize = 256;

/// A clause's position in [`Clauses`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClauseIdx(pub(crate) u16);

#[derive(Debug, Clone)]
pub struct ClauseInfo {
    pub clause: Clause,
    pub title: String,
    /// The unit whose duty this is; `None` for a rule clause such as 4.2.
    pub unit: Option<UnitIdx>,
}

#[derive(Debug, Clone)]
pub struct Clauses {
    infos: Vec<ClauseInfo>,
    index: HashMap<Clause, ClauseIdx>,
}

impl Clauses {
    pub(crate) fn new(infos: Vec<ClauseInfo>) -> Self {
        let index = infos
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clause.clone(), ClauseIdx(i as u16)))
            .collect();
        Self { infos, index }
    }

    pub fn find(&self, clause: &Clause) -> Option<ClauseIdx> {
        self.index.get(clause).copied()
    }

    /// Finds a clause by its text, e.g. "1.2.4".
    pub fn find_str(&self, clause: &str) -> Option<ClauseIdx> {
        self.find(&Clause::parse(clause)?)
    }

    pub fn info(&self, idx: ClauseIdx) -> &ClauseInfo {
        &self.infos[usize::from(idx.0)]
    }

    pub fn all(&self) -> impl Iterator<Item = (ClauseIdx, &ClauseInfo)> {
        self.infos.iter().enumerate().map(|(i, c)| (ClauseIdx(i as u16), c))
    }
}

/// A set of clauses, as a bit mask.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ClauseSet([u64; MAX_CLAUSES / 64]);

impl ClauseSet {
    pub fn insert(&mut self, c: ClauseIdx) {
        let i = usize::from(c.0);
        self.0[i / 64] |= 1 << (i % 64);
    }

    pub fn contains(&self, c: ClauseIdx) -> bool {
        let i = usize::from(c.0);
        self.0[i / 64] & (1 << (i % 64)) != 0
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    pub fn iter(&self) -> impl Iterator<Item = ClauseIdx> + '_ {
        (0..MAX_CLAUSES)
            .filter(|&i| self.0[i / 64] & (1 << (i % 64)) != 0)
            .map(|i| ClauseIdx(i as u16))
    }
}
