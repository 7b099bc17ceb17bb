//! Key rotation keeps old heads verifiable; proofs check offline and fail when anything in
//! them changes; two writers on one database make one history.

use bantay_store::{NewEvent, OpenMode, Problem, Store, Trust};
use serde_json::json;

use crate::{database, fill, ledger, Backend, T0};

async fn rotation_keeps_old_heads_verifiable(backend: Backend) {
    let db = database(backend).await;
    let (store, first) = ledger(&db).await;
    fill(&store, 50, 10).await;
    let before = store.head(None).await.unwrap().unwrap();
    let second = crate::key();
    let rotated = store.rotate_key(second.clone(), "P0000009", T0 + 100).await.unwrap();
    assert_eq!(rotated.first, 50);
    fill(&store, 80, 10).await;

    let v =
        store.verify(&Trust { first_key: Some(first.verifying_key()), head: None }).await.unwrap();
    assert_eq!(v.problem, None);
    assert_eq!(v.keys, vec![(0, first.verifying_key()), (50, second.verifying_key())]);
    assert!(
        before.head.verify(&first.verifying_key()),
        "a head from before still verifies with its key"
    );
    let after = store.head(None).await.unwrap().unwrap();
    assert_eq!((after.key_seq, after.public_key), (50, second.verifying_key()));
    assert!(after.head.verify(&second.verifying_key()));

    // The old key no longer unlocks; the new one does.
    let other = Store::open(&db.url(), OpenMode::Existing).await.unwrap();
    assert!(other.unlock(first.clone()).await.is_err());
    other.unlock(second).await.unwrap();
    other
        .append(
            vec![NewEvent::new("ledger.note", "x", T0, json!({"text": "from another writer"}))],
            T0,
        )
        .await
        .unwrap();

    // Trusting another first key is a problem at event 0.
    let v = store
        .verify(&Trust { first_key: Some(crate::key().verifying_key()), head: None })
        .await
        .unwrap();
    assert!(matches!(v.problem, Some(Problem::UntrustedKey { seq: 0, .. })), "{:?}", v.problem);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proofs_check_offline_and_fail_when_changed() {
    let db = database(Backend::Sqlite).await;
    let (store, key) = ledger(&db).await;
    fill(&store, 777, 50).await;
    let public = key.verifying_key();
    for seq in [0, 1, 2, 100, 511, 512, 776] {
        let bundle = store.prove(seq, None).await.unwrap();
        assert_eq!(bundle.tree_size, 777);
        bundle.check(&public).unwrap();
        let json = serde_json::to_string(&bundle).unwrap();
        let back: bantay_ledger::InclusionBundle = serde_json::from_str(&json).unwrap();
        back.check(&public).unwrap();

        let mut changed = bundle.clone();
        changed.event = changed
            .event
            .replacen("note", "nope", 1)
            .replacen("TMS", "TMX", 1)
            .replacen("public_key\":\"", "public_key\":\"0", 1);
        assert!(changed.check(&public).is_err(), "altered event {seq}");
        let mut moved = bundle.clone();
        moved.seq = (seq + 1) % 777;
        assert!(moved.check(&public).is_err(), "wrong position {seq}");
        let mut path = bundle.clone();
        path.proof[0] = "00".repeat(32);
        assert!(path.check(&public).is_err(), "changed path {seq}");
        let mut time = bundle.clone();
        time.head_time += 1;
        assert!(matches!(time.check(&public), Err(bantay_ledger::ProofCheck::BadSignature)));
        assert!(bundle.check(&crate::key().verifying_key()).is_err(), "another key");
    }
    // Against an older head, by its size.
    let old = store.prove(5, Some(53)).await.unwrap();
    assert_eq!(old.tree_size, 53);
    old.check(&public).unwrap();
    assert!(store.prove(5, Some(54)).await.is_err(), "no head of that size");
    assert!(store.prove(777, None).await.is_err(), "no such event");
}

/// Two stores on one database (as two processes would be) take turns: one history.
async fn two_writers_make_one_history(backend: Backend) {
    let db = database(backend).await;
    let (a, key) = ledger(&db).await;
    let b = Store::open(&db.url(), OpenMode::Existing).await.unwrap();
    b.unlock(key).await.unwrap();
    let (a, b) = (std::sync::Arc::new(a), std::sync::Arc::new(b));
    let mut tasks = Vec::new();
    for (name, store) in [("a", a.clone()), ("b", b.clone())] {
        tasks.push(tokio::spawn(async move {
            for i in 0..100 {
                let e =
                    NewEvent::new("ledger.note", name, T0, json!({"text": format!("{name}{i}")}));
                store.append(vec![e], T0).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let v = a.verify(&Trust::default()).await.unwrap();
    assert_eq!((v.events, v.problem), (203, None));
    assert_eq!(v.heads, 201);
}

crate::on_both_backends!(rotation_keeps_old_heads_verifiable, two_writers_make_one_history);
