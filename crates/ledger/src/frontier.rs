//! A Merkle tree that remembers only its right edge: the roots of its perfect subtrees,
//! at most 64 hashes. Enough to compute the root at every size as leaves stream past,
//! which is all that verifying a stored ledger against its signed heads needs.

use crate::tree::{empty_root, node_hash, Hash};

#[derive(Debug, Clone, Default)]
pub struct Frontier {
    size: u64,
    /// Roots of the perfect subtrees, largest (leftmost) first.
    peaks: Vec<Hash>,
}

impl Frontier {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        // Each trailing one bit of the old size is a peak the new leaf completes.
        let mut carry = self.size;
        while carry & 1 == 1 {
            // A set bit always has its peak, so the pop cannot come up empty.
            let left = self.peaks.pop().unwrap_or_default();
            hash = node_hash(&left, &hash);
            carry >>= 1;
        }
        self.peaks.push(hash);
        self.size += 1;
    }

    /// The RFC 6962 root of the leaves pushed so far.
    pub fn root(&self) -> Hash {
        let mut peaks = self.peaks.iter().rev();
        let Some(last) = peaks.next() else { return empty_root() };
        peaks.fold(*last, |right, left| node_hash(left, &right))
    }
}
