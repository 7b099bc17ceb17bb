//! A compact map from ids (persons, resources) to dense indices, for scans over millions
//! of records: the ids live in one arena, the table holds only indices.

use std::hash::BuildHasher;

use hashbrown::HashTable;

#[derive(Debug, Default)]
pub struct IdIndex {
    arena: String,
    /// End of each id in `arena`; id `i` spans `ends[i-1]..ends[i]`. u32 keeps the index
    /// small; [`IdIndex::insert`] refuses ids past 4 GiB of text.
    ends: Vec<u32>,
    table: HashTable<u32>,
    hasher: foldhash::fast::FixedState,
}

impl IdIndex {
    pub fn with_capacity(n: usize) -> Self {
        Self {
            arena: String::with_capacity(n * 8),
            ends: Vec::with_capacity(n),
            table: HashTable::with_capacity(n),
            hasher: foldhash::fast::FixedState::with_seed(0x6261_6e74_6179),
        }
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The id at `idx`.
    pub fn name(&self, idx: u32) -> &str {
        let i = idx as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.arena[start..self.ends[i] as usize]
    }

    /// Adds an id. `Err(Some(i))` when it is already there at `i`; `Err(None)` when the
    /// index is full (4 GiB of ids, or 2^32 of them).
    pub fn insert(&mut self, id: &str) -> Result<u32, Option<u32>> {
        let hash = self.hasher.hash_one(id.as_bytes());
        if let Some(&existing) = self.table.find(hash, |&i| self.name(i) == id) {
            return Err(Some(existing));
        }
        let idx = u32::try_from(self.ends.len()).map_err(|_| None)?;
        let end = u32::try_from(self.arena.len() + id.len()).map_err(|_| None)?;
        self.arena.push_str(id);
        self.ends.push(end);
        let Self { table, ends, arena, hasher } = self;
        table.insert_unique(hash, idx, |&i| {
            let i = i as usize;
            let start = if i == 0 { 0 } else { ends[i - 1] as usize };
            hasher.hash_one(&arena.as_bytes()[start..ends[i] as usize])
        });
        Ok(idx)
    }

    /// Like [`IdIndex::get`], trying `hint` and the index after it first: snapshot files
    /// are usually grouped by person, so the previous line's id, or the next one, is a good
    /// guess and saves a random memory access into a table of millions.
    pub fn get_near(&self, id: &str, hint: u32) -> Option<u32> {
        let n = self.ends.len() as u32;
        if hint < n && self.name(hint) == id {
            return Some(hint);
        }
        if hint.saturating_add(1) < n && self.name(hint + 1) == id {
            return Some(hint + 1);
        }
        self.get(id)
    }

    pub fn get(&self, id: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(id.as_bytes());
        self.table.find(hash, |&i| self.name(i) == id).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::IdIndex;

    #[test]
    fn inserts_finds_and_refuses_duplicates() {
        let mut ids = IdIndex::with_capacity(4);
        for n in 0..10_000 {
            assert_eq!(ids.insert(&format!("P{n}")), Ok(n));
        }
        assert_eq!(ids.insert("P42"), Err(Some(42)));
        assert_eq!(ids.get_near("P43", 42), Some(43));
        assert_eq!(ids.get_near("P43", 9999), Some(43));
        assert_eq!(ids.get_near("nobody", 1), None);
        assert_eq!(ids.get("P9999"), Some(9999));
        assert_eq!(ids.get("P10000"), None);
        assert_eq!(ids.name(7), "P7");
    }
}
