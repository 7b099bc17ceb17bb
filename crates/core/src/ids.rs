//! A compact map from ids (persons, resources) to dense indices, for scans over millions
//! of records: the ids live in one arena, the table holds only indices.

use std::hash::BuildHasher;

use hashbrown::HashTable;

#[derive(Debug, Default)]
pub struct IdIndex {
    arena: String,
    /// End of each id in `arena`; id `i` spans `ends[i-1]..ends[i]`.
    ends: Vec<usize>,
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
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.arena[start..self.ends[i]]
    }

    /// Adds an id; `Err` with the existing index when it is already there.
    pub fn insert(&mut self, id: &str) -> Result<u32, u32> {
        let hash = self.hasher.hash_one(id.as_bytes());
        if let Some(&existing) = self.table.find(hash, |&i| self.name(i) == id) {
            return Err(existing);
        }
        let idx = self.ends.len() as u32;
        self.arena.push_str(id);
        self.ends.push(self.arena.len());
        let Self {
            table,
            ends,
            arena,
            hasher,
        } = self;
        table.insert_unique(hash, idx, |&i| {
            let i = i as usize;
            let start = if i == 0 { 0 } else { ends[i - 1] };
            hasher.hash_one(arena[start..ends[i]].as_bytes())
        });
        Ok(idx)
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
        assert_eq!(ids.insert("P42"), Err(42));
        assert_eq!(ids.get("P9999"), Some(9999));
        assert_eq!(ids.get("P10000"), None);
        assert_eq!(ids.name(7), "P7");
    }
}
