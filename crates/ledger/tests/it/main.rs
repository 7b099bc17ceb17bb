//! The ledger's tree and heads against the published certificate-transparency test
//! vectors for RFC 6962, and by property over many sizes.

// Tests fail loudly: helpers outside #[test] functions may unwrap and panic too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bantay_ledger::{
    empty_root, leaf_hash, verify_consistency, verify_inclusion, Hash, MerkleTree, SignedTreeHead,
};
use proptest::prelude::*;

fn hx(s: &str) -> Hash {
    hex::decode(s).unwrap().try_into().unwrap()
}

/// The leaves of the CT test vectors (certificate-transparency's merkle tests).
const LEAVES: [&[u8]; 8] = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
];

const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn vector_tree() -> MerkleTree {
    let mut t = MerkleTree::new();
    for leaf in LEAVES {
        t.push(leaf_hash(leaf));
    }
    t
}

#[test]
fn roots_match_the_ct_vectors() {
    assert_eq!(
        hex::encode(empty_root()),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let t = vector_tree();
    for (n, root) in ROOTS.iter().enumerate() {
        assert_eq!(hex::encode(t.root_at(n as u64 + 1).unwrap()), *root, "size {}", n + 1);
    }
}

#[test]
fn inclusion_proof_matches_the_ct_vector() {
    let t = vector_tree();
    let path = t.inclusion_proof(0, 8).unwrap();
    let want = [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ];
    assert_eq!(path, want.map(hx));
    assert_eq!(t.inclusion_proof(0, 1).unwrap(), Vec::<Hash>::new());
}

#[test]
fn consistency_proofs_match_the_ct_vectors() {
    let t = vector_tree();
    let cases: [(u64, u64, &[&str]); 4] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (m, n, want) in cases {
        let proof = t.consistency_proof(m, n).unwrap();
        assert_eq!(proof, want.iter().map(|s| hx(s)).collect::<Vec<_>>(), "({m}, {n})");
        let (a, b) = (t.root_at(m).unwrap(), t.root_at(n).unwrap());
        assert!(verify_consistency(m, n, &proof, &a, &b), "({m}, {n}) verifies");
    }
}

fn tree_of(n: u64) -> MerkleTree {
    let mut t = MerkleTree::new();
    for i in 0..n {
        t.push(leaf_hash(&i.to_be_bytes()));
    }
    t
}

#[test]
fn every_proof_in_small_trees_verifies_and_tampering_fails() {
    let t = tree_of(70);
    for n in 1..=70 {
        let root = t.root_at(n).unwrap();
        for i in 0..n {
            let proof = t.inclusion_proof(i, n).unwrap();
            let leaf = *t.leaf(i).unwrap();
            assert!(verify_inclusion(&leaf, i, n, &proof, &root), "leaf {i} of {n}");
            assert!(
                !verify_inclusion(&leaf, (i + 1) % n, n, &proof, &root) || n == 1,
                "wrong index {i} of {n}"
            );
            let mut bad = leaf;
            bad[0] ^= 1;
            assert!(!verify_inclusion(&bad, i, n, &proof, &root));
        }
        for m in 0..=n {
            let proof = t.consistency_proof(m, n).unwrap();
            let old = t.root_at(m).unwrap();
            assert!(verify_consistency(m, n, &proof, &old, &root), "{m} -> {n}");
            if m > 0 && m < n {
                let mut wrong = old;
                wrong[5] ^= 0x80;
                assert!(
                    !verify_consistency(m, n, &proof, &wrong, &root),
                    "forged old root {m} -> {n}"
                );
                let mut cut = proof.clone();
                cut.pop();
                assert!(!verify_consistency(m, n, &cut, &old, &root), "short proof {m} -> {n}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any tree, any leaf: its proof verifies against the root, and against no other root.
    #[test]
    fn inclusion_holds_in_any_tree(n in 1u64..3000, pick in any::<u64>(), flip in any::<u64>()) {
        let t = tree_of(n);
        let i = pick % n;
        let root = t.root();
        let proof = t.inclusion_proof(i, n).unwrap();
        prop_assert!(verify_inclusion(t.leaf(i).unwrap(), i, n, &proof, &root));
        let mut other = root;
        other[(flip % 32) as usize] ^= 1 << (flip % 8);
        prop_assert!(!verify_inclusion(t.leaf(i).unwrap(), i, n, &proof, &other));
    }

    /// Growing a tree never breaks consistency with any earlier head.
    #[test]
    fn consistency_holds_as_the_tree_grows(n in 1u64..3000, pick in any::<u64>()) {
        let t = tree_of(n);
        let m = pick % (n + 1);
        let proof = t.consistency_proof(m, n).unwrap();
        prop_assert!(verify_consistency(m, n, &proof, &t.root_at(m).unwrap(), &t.root()));
    }

    /// Undoing leaves (a store's rolled-back append) leaves the tree as if they had never
    /// been pushed, and it grows on correctly from there.
    #[test]
    fn truncate_undoes_pushes(n in 0u64..600, pick in any::<u64>(), more in 0u64..40) {
        let m = pick % (n + 1);
        let mut t = tree_of(n);
        t.truncate(m);
        let fresh = tree_of(m);
        prop_assert_eq!(t.size(), m);
        prop_assert_eq!(t.root(), fresh.root());
        for i in m..m + more {
            t.push(leaf_hash(&i.to_be_bytes()));
        }
        let grown = tree_of(m + more);
        prop_assert_eq!(t.root(), grown.root());
        if m + more > 0 {
            let i = pick % (m + more);
            prop_assert_eq!(t.inclusion_proof(i, m + more).unwrap(), grown.inclusion_proof(i, m + more).unwrap());
        }
    }
}

#[test]
fn signed_heads_verify_and_detect_any_change() {
    let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    let other = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    let t = vector_tree();
    let head = SignedTreeHead::sign(&key, 8, t.root(), 1_780_000_000);
    assert!(head.verify(&key.verifying_key()));
    assert!(!head.verify(&other.verifying_key()), "the wrong key");
    for change in [
        SignedTreeHead { size: 7, ..head.clone() },
        SignedTreeHead { time: head.time + 1, ..head.clone() },
        SignedTreeHead { root: t.root_at(7).unwrap(), ..head.clone() },
    ] {
        assert!(!change.verify(&key.verifying_key()));
    }
}

#[test]
fn proofs_outside_the_tree_are_errors() {
    let t = tree_of(5);
    assert!(t.inclusion_proof(5, 5).is_err());
    assert!(t.inclusion_proof(0, 6).is_err());
    assert!(t.consistency_proof(4, 3).is_err());
    assert!(t.consistency_proof(2, 9).is_err());
    assert!(t.root_at(6).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    /// ct-merkle, an independent implementation, computes the same roots and the same
    /// inclusion and consistency proofs, byte for byte.
    #[test]
    fn agrees_with_ct_merkle(n in 1u64..700, pick in any::<u64>(), old in any::<u64>()) {
        let mut theirs = ct_merkle::mem_backed_tree::MemoryBackedTree::<sha2_for_ct_merkle::Sha256, Vec<u8>>::new();
        let mut ours = MerkleTree::new();
        for i in 0..n {
            let leaf = i.to_be_bytes().to_vec();
            ours.push(leaf_hash(&leaf));
            theirs.push(leaf);
        }
        let (their_root, our_root) = (theirs.root().as_bytes().to_vec(), ours.root().to_vec());
        prop_assert_eq!(their_root, our_root);
        let i = pick % n;
        let proof: Vec<u8> = ours.inclusion_proof(i, n).unwrap().concat();
        let their_proof = theirs.prove_inclusion(i as usize).as_bytes().to_vec();
        prop_assert_eq!(their_proof, proof);
        let m = 1 + old % n;
        let consistency: Vec<u8> = ours.consistency_proof(m, n).unwrap().concat();
        let their_consistency = theirs.prove_consistency((n - m) as usize).as_bytes().to_vec();
        prop_assert_eq!(their_consistency, consistency);
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map("[ -~]{0,8}", inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() })]

    /// The canonical form is JSON that reads back to the same value, and is its own
    /// canonical form.
    #[test]
    fn canonical_json_reads_back_and_is_a_fixed_point(value in json_value()) {
        let bytes = bantay_ledger::canonical_json(&value).unwrap();
        let back: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        prop_assert_eq!(&back, &value);
        prop_assert_eq!(bantay_ledger::canonical_json(&back).unwrap(), bytes);
    }
}

#[test]
fn refusals_name_the_json_path() {
    let e = bantay_ledger::canonical_json(&serde_json::json!({"a": [1, {"b": 0.5}]})).unwrap_err();
    assert_eq!(
        e.to_string(),
        "$.a[1].b: 0.5 is not an integer; events carry integers only (seconds, smallest units)"
    );
    let e = bantay_ledger::canonical_json(&serde_json::json!({"x": {"é": 1}})).unwrap_err();
    assert!(e.to_string().starts_with("$.x: key `é` is not ASCII"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    /// The event's bytes are the canonical form of the whole event as one JSON value.
    #[test]
    fn event_bytes_are_the_canonical_whole(body in json_value(), seq in any::<u64>(), time in any::<i64>(), kind in "[a-z.]{1,12}", actor in "\\PC{0,12}") {
        let event = bantay_ledger::Event { seq, time, kind: kind.clone(), actor: actor.clone(), body: body.clone() };
        let whole = serde_json::json!({"seq": seq, "time": time, "kind": kind, "actor": actor, "body": body});
        prop_assert_eq!(event.canonical_bytes().ok(), bantay_ledger::canonical_json(&whole).ok());
        if let Ok(bytes) = event.canonical_bytes() {
            prop_assert_eq!(bantay_ledger::event_seq(&bytes), Some(seq));
        }
    }
}
