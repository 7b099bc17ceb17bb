//! Signed tree heads: an Ed25519 signature over the tree size, root hash and time, so that
//! a printed head pins the whole history up to it.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use crate::tree::Hash;

/// A tree head and its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTreeHead {
    pub size: u64,
    pub root: Hash,
    /// Unix seconds at signing.
    pub time: i64,
    pub signature: [u8; 64],
}

/// The bytes a head's signature covers: a domain tag, then size, root and time, fixed
/// width and big-endian, so that no two heads share them.
pub fn signed_bytes(size: u64, root: &Hash, time: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(18 + 8 + 32 + 8);
    out.extend_from_slice(b"bantay-tree-head\x00\x01");
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(root);
    out.extend_from_slice(&time.to_be_bytes());
    out
}

impl SignedTreeHead {
    /// Signs the head of a tree of `size` leaves with root `root` at `time`.
    pub fn sign(key: &SigningKey, size: u64, root: Hash, time: i64) -> Self {
        let signature = key.sign(&signed_bytes(size, &root, time)).to_bytes();
        Self { size, root, time, signature }
    }

    /// Whether `key` signed exactly this head.
    pub fn verify(&self, key: &VerifyingKey) -> bool {
        let signature = Signature::from_bytes(&self.signature);
        key.verify(&signed_bytes(self.size, &self.root, self.time), &signature).is_ok()
    }
}
