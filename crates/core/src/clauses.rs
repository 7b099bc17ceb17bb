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

    /// The clauses in the set, in order, visiting only the set bits: verdicts are read
    /// for every finding a scan reports.
    pub fn iter(&self) -> impl Iterator<Item = ClauseIdx> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &word)| {
            let mut bits = word;
            std::iter::from_fn(move || {
                (bits != 0).then(|| {
                    let bit = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    ClauseIdx((w * 64 + bit) as u16)
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{ClauseIdx, ClauseSet};

    #[test]
    fn a_set_yields_exactly_its_members_in_order() {
        let mut set = ClauseSet::default();
        assert_eq!(set.iter().count(), 0);
        for i in [255, 0, 63, 64, 130] {
            set.insert(ClauseIdx(i));
        }
        let members: Vec<u16> = set.iter().map(|c| c.0).collect();
        assert_eq!(members, [0, 63, 64, 130, 255]);
        assert!(set.contains(ClauseIdx(130)) && !set.contains(ClauseIdx(131)));
    }
}
