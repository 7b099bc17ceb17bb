//! Bantay's tamper-evident ledger, the pure part: events in a canonical encoding
//! (RFC 8785), the RFC 6962 / RFC 9162 Merkle tree over their leaves, inclusion and consistency proofs with their verification, and
//! Ed25519-signed tree heads. Storage of events and heads is `crates/store`'s job (issue 3,
//! not built yet); nothing here does IO or reads the clock.

mod event;
mod head;
mod tree;

pub use event::{canonical_json, EncodingError, Event};
pub use head::{signed_bytes, SignedTreeHead};
pub use tree::{
    empty_root, leaf_hash, node_hash, verify_consistency, verify_inclusion, Hash, MerkleTree,
    ProofError,
};
