//! Bantay's tamper-evident ledger, the pure part: events in a canonical encoding
//! (RFC 8785), the RFC 6962 / RFC 9162 Merkle tree over their leaves, inclusion and consistency proofs with their verification, and
//! Ed25519-signed tree heads; and the pass code, a document signed with the ledger's key.
//! Storage of events and heads is `crates/store`'s job; nothing here does IO or reads the
//! clock.

mod bundle;
pub mod certificate;
mod event;
mod frontier;
mod head;
pub mod pass;
mod tree;

pub use bundle::{InclusionBundle, ProofCheck};
pub use event::{canonical_event, canonical_json, event_seq, EncodingError, Event};
pub use frontier::Frontier;
pub use head::{signed_bytes, SignedTreeHead};
pub use tree::{
    empty_root, leaf_hash, node_hash, verify_consistency, verify_inclusion, Hash, MerkleTree,
    ProofError,
};
