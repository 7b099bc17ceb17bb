//! The state tables follow the ledger: replaying it gives exactly the live state, and an
//! append that fails leaves neither events nor state behind.

use bantay_store::{state_rows, NewEvent, Store, StoreError, Trust};
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::{database, ledger, Backend, T0};

/// A random but valid history: people recorded and realigned, resources, grants given and
/// revoked, findings opened and moved through their statuses, notes, a key rotation.
async fn random_history(store: &Store, seed: u64) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut grants = Vec::new();
    let mut findings = Vec::new();
    let mut time = T0;
    for round in 0..40 {
        let mut batch = Vec::new();
        for i in 0..rng.random_range(1..12) {
            time += 60;
            let person = format!("P{:03}", rng.random_range(0..30));
            let n = round * 100 + i;
            let event = match rng.random_range(0..9) {
                0 | 1 => NewEvent::new(
                    "person.recorded",
                    "system:test",
                    time,
                    json!({"id": person, "name": format!("Person {person}"), "port": "Manila"}),
                ),
                2 => NewEvent::new(
                    "resource.recorded",
                    "system:test",
                    time,
                    json!({"id": format!("cps-db-{}", n % 7), "kind": "database", "class": "database", "system": "CPS"}),
                ),
                3 => NewEvent::new(
                    "ledger.note",
                    "P001",
                    time,
                    json!({"text": format!("round {round}")}),
                ),
                4 => {
                    let id = format!("F{n}");
                    findings.push(id.clone());
                    NewEvent::new(
                        "finding.opened",
                        "system:scan",
                        time,
                        json!({"id": id, "clause": "4.2", "subject": person, "summary": "os, database and application on CPS", "evidence": "grants.csv:12"}),
                    )
                }
                5 if !findings.is_empty() => {
                    let id = findings[rng.random_range(0..findings.len())].clone();
                    let status = ["acknowledged", "remediated", "reopened"][rng.random_range(0..3)];
                    NewEvent::new(
                        "finding.status",
                        "P002",
                        time,
                        json!({"id": id, "status": status}),
                    )
                }
                _ => NewEvent::new("ledger.note", "P001", time, json!({"text": "quiet"})),
            };
            batch.push(event);
        }
        store.append(batch, time).await.unwrap();
        // Events that depend on the state: each its own append, valid by construction.
        let people: Vec<String> = state_rows(store.database())
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.starts_with("(\"person\""))
            .map(|r| r.split('"').nth(3).unwrap().to_owned())
            .collect();
        let resources = state_rows(store.database())
            .await
            .unwrap()
            .iter()
            .filter(|r| r.starts_with("(\"resource\""))
            .count();
        if let Some(person) = people.get(rng.random_range(0..people.len().max(1))) {
            time += 60;
            let unit = if rng.random_bool(0.5) { "SMD" } else { "TMS" };
            store.append(vec![NewEvent::new("person.assigned", "system:test", time, json!({"person": person, "unit": unit, "valid_from": time, "order": format!("CPO-{round}")}))], time).await.unwrap();
            if resources > 0 {
                let id = format!("G{round}");
                let resource = format!("cps-db-{}", rng.random_range(0..7));
                let grant = NewEvent::new(
                    "grant.recorded",
                    "system:test",
                    time,
                    json!({"id": id, "person": person, "resource": resource, "clause": "1.2.4", "valid_from": time, "valid_until": time + 86_400}),
                );
                if store.append(vec![grant], time).await.is_ok() {
                    grants.push(id);
                }
            }
        }
        if round % 5 == 4 && !grants.is_empty() {
            let id = grants.remove(rng.random_range(0..grants.len()));
            store
                .append(
                    vec![NewEvent::new(
                        "grant.revoked",
                        "P002",
                        time,
                        json!({"id": id, "reason": "review"}),
                    )],
                    time,
                )
                .await
                .unwrap();
        }
        if round == 20 {
            store.rotate_key(crate::key(), "system:test", time).await.unwrap();
        }
    }
}

async fn replay_gives_the_live_state(backend: Backend) {
    let db = database(backend).await;
    let (store, _) = ledger(&db).await;
    random_history(&store, 11).await;
    let rows = state_rows(store.database()).await.unwrap();
    for kind in ["unit", "person", "assignment", "resource", "grant", "finding", "key"] {
        assert!(
            rows.iter().any(|r| r.starts_with(&format!("(\"{kind}\""))),
            "the history made {kind} rows"
        );
    }
    assert!(rows.iter().any(|r| r.contains("\"revoked\"")), "a grant was revoked");
    assert_eq!(store.replay_differences().await.unwrap(), Vec::<String>::new());
    assert_eq!(
        state_rows(store.database()).await.unwrap(),
        rows,
        "the check left the live state as it was"
    );
    assert_eq!(store.verify(&Trust::default()).await.unwrap().problem, None);

    // A state row changed behind the ledger's back is a difference.
    crate::execute(&db, "UPDATE grants SET clause = '2.3.2' WHERE status = 'active'").await;
    let differences = store.replay_differences().await.unwrap();
    assert!(
        differences.iter().any(|d| d.starts_with("- (\"grant\"") && d.contains("2.3.2")),
        "{differences:?}"
    );
    assert!(
        differences.iter().any(|d| d.starts_with("+ (\"grant\"") && d.contains("1.2.4")),
        "{differences:?}"
    );
}

async fn a_failed_append_leaves_nothing(backend: Backend) {
    let db = database(backend).await;
    let (store, _) = ledger(&db).await;
    let before = (store.size().await.unwrap(), state_rows(store.database()).await.unwrap());
    let batch = vec![
        NewEvent::new("person.recorded", "system:test", T0, json!({"id": "P1", "name": "Ana"})),
        NewEvent::new(
            "grant.recorded",
            "system:test",
            T0,
            json!({"id": "G1", "person": "P1", "resource": "nowhere", "clause": "1.2.4", "valid_from": T0}),
        ),
    ];
    let error = store.append(batch, T0).await.unwrap_err().to_string();
    assert!(
        error.contains("grant.recorded") && error.contains("body.resource: no resource `nowhere`"),
        "{error}"
    );
    assert_eq!((store.size().await.unwrap(), state_rows(store.database()).await.unwrap()), before);

    for (kind, body, says) in [
        ("grant.recorded", json!({"id": "G1"}), "body: missing field"),
        ("person.recorded", json!({"id": "P1", "name": "Ana", "rank": 3}), "unknown field `rank`"),
        ("finding.status", json!({"id": "F1", "status": "closed"}), "`closed` is not one of"),
        ("grant.approved", json!({}), "unknown event kind"),
        (
            "ledger.key_rotated",
            json!({"public_key": "00", "endorsement": "00"}),
            "written by `bantay init`",
        ),
        ("ledger.note", json!({"text": 1.5}), "body"),
    ] {
        let error = store
            .append(vec![NewEvent::new(kind, "x", T0, body)], T0)
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains(kind) && error.contains(says), "{kind}: {error}");
    }
    let float = store
        .append(vec![NewEvent::new("ledger.note", "x", T0, json!({"text": "a", "n": 0.5}))], T0)
        .await
        .unwrap_err();
    assert!(matches!(float, StoreError::Event { .. } | StoreError::Encoding(_)), "{float}");
    assert_eq!(store.size().await.unwrap(), before.0, "no refused event was written");

    // The tree was rolled back with the transaction: the next append verifies.
    store
        .append(vec![NewEvent::new("ledger.note", "x", T0, json!({"text": "after"}))], T0)
        .await
        .unwrap();
    assert_eq!(store.verify(&Trust::default()).await.unwrap().problem, None);
}

crate::on_both_backends!(
    replay_gives_the_live_state,
    a_failed_append_leaves_nothing,
    append_at_refuses_a_decision_made_on_an_older_ledger
);

async fn append_at_refuses_a_decision_made_on_an_older_ledger(backend: Backend) {
    let db = database(backend).await;
    let (store, _) = ledger(&db).await;
    let size = store.size().await.unwrap();
    let note =
        |text: &str| vec![NewEvent::new("ledger.note", "system:test", T0, json!({"text": text}))];
    store.append(note("someone else wrote first"), T0).await.unwrap();
    let e = store.append_at(size, note("decided on the older state"), T0).await.unwrap_err();
    assert!(
        matches!(e, StoreError::LedgerMoved { expected, found } if expected == size && found == size + 1),
        "{e}"
    );
    assert_eq!(store.size().await.unwrap(), size + 1, "nothing written");
    store.append_at(size + 1, note("decided on the newest state"), T0).await.unwrap();
    assert_eq!(store.size().await.unwrap(), size + 2);
}
