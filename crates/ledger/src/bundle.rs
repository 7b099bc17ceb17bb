//! An inclusion proof packed with everything needed to check it offline: the event's
//! bytes, its position, the signed head it is proved against and the proof path. Whoever
//! holds the ledger's public key can check it with nothing else.

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

use crate::event::event_seq;
use crate::head::SignedTreeHead;
use crate::tree::{leaf_hash, verify_inclusion, Hash};

/// The JSON form of a proof, as `bantay ledger prove` writes it. Hashes, keys and
/// signatures are hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionBundle {
    /// The event's canonical bytes, as text.
    pub event: String,
    pub seq: u64,
    pub tree_size: u64,
    pub root: String,
    /// Unix seconds at which the head was signed.
    pub head_time: i64,
    pub head_signature: String,
    /// The key that signed the head.
    pub public_key: String,
    /// The audit path, nearest sibling first.
    pub proof: Vec<String>,
}

/// Why a proof does not hold, one reason at a time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofCheck {
    #[error("field `{0}` is not valid hex of the right length")]
    BadHex(&'static str),
    #[error("the head was signed by {signed_by}, not by the key you trust ({trusted})")]
    OtherKey { signed_by: String, trusted: String },
    #[error("the head's signature does not verify: the head or its signature was changed")]
    BadSignature,
    #[error("the event says it is number {found:?}, the proof says {claimed}")]
    WrongSeq { claimed: u64, found: Option<u64> },
    #[error("the event is not in the tree of {size} events with that root: the event, its position or the path was changed")]
    NotIncluded { size: u64 },
}

fn hex_array<const N: usize>(text: &str, field: &'static str) -> Result<[u8; N], ProofCheck> {
    hex::decode(text).ok().and_then(|b| b.try_into().ok()).ok_or(ProofCheck::BadHex(field))
}

impl InclusionBundle {
    pub fn new(
        event: &[u8],
        seq: u64,
        head: &SignedTreeHead,
        key: &VerifyingKey,
        proof: &[Hash],
    ) -> Self {
        Self {
            event: String::from_utf8_lossy(event).into_owned(),
            seq,
            tree_size: head.size,
            root: hex::encode(head.root),
            head_time: head.time,
            head_signature: hex::encode(head.signature),
            public_key: hex::encode(key.to_bytes()),
            proof: proof.iter().map(hex::encode).collect(),
        }
    }

    /// The signed head inside.
    pub fn head(&self) -> Result<SignedTreeHead, ProofCheck> {
        Ok(SignedTreeHead {
            size: self.tree_size,
            root: hex_array(&self.root, "root")?,
            time: self.head_time,
            signature: hex_array(&self.head_signature, "head_signature")?,
        })
    }

    /// Checks the head's signature with `trusted` and the event's inclusion under it.
    pub fn check(&self, trusted: &VerifyingKey) -> Result<(), ProofCheck> {
        let signed_by: [u8; 32] = hex_array(&self.public_key, "public_key")?;
        if signed_by != trusted.to_bytes() {
            return Err(ProofCheck::OtherKey {
                signed_by: self.public_key.clone(),
                trusted: hex::encode(trusted.to_bytes()),
            });
        }
        let head = self.head()?;
        if !head.verify(trusted) {
            return Err(ProofCheck::BadSignature);
        }
        let found = event_seq(self.event.as_bytes());
        if found != Some(self.seq) {
            return Err(ProofCheck::WrongSeq { claimed: self.seq, found });
        }
        let path =
            self.proof.iter().map(|p| hex_array(p, "proof")).collect::<Result<Vec<Hash>, _>>()?;
        let leaf = leaf_hash(self.event.as_bytes());
        if !verify_inclusion(&leaf, self.seq, head.size, &path, &head.root) {
            return Err(ProofCheck::NotIncluded { size: head.size });
        }
        Ok(())
    }
}
