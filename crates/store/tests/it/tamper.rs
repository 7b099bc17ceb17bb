//! A ledger of 10,000 events; each kind of tampering, on randomly chosen rows, is found by
//! `verify`, which names the sequence number. Each change is undone before the next.

use bantay_store::testing::TestDatabase;
use bantay_store::{DatabaseUrl, Problem, Store, Trust};
use rand::{Rng, SeedableRng};
use sqlx::{PgPool, SqlitePool};

use crate::{database, fill, ledger, Backend};

/// A row of `ledger_events`: seq, then leaf and event bytes.
type StoredRow = (i64, (Vec<u8>, Vec<u8>));

/// Raw access to the database, as an attacker with write access has it.
enum Raw {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

macro_rules! raw {
    ($raw:expr, $pool:ident => $body:expr) => {
        match $raw {
            Raw::Sqlite($pool) => $body,
            Raw::Postgres($pool) => $body,
        }
    };
}

impl Raw {
    async fn open(db: &TestDatabase) -> Self {
        match db.url() {
            DatabaseUrl::Sqlite(path) => Raw::Sqlite(
                SqlitePool::connect(&format!("sqlite:{}", path.display())).await.unwrap(),
            ),
            DatabaseUrl::Postgres(url) => Raw::Postgres(PgPool::connect(&url).await.unwrap()),
        }
    }

    async fn row(&self, seq: i64) -> (Vec<u8>, Vec<u8>) {
        raw!(self, p => sqlx::query_as("SELECT leaf, event FROM ledger_events WHERE seq = $1").bind(seq).fetch_one(p).await.unwrap())
    }

    async fn set(&self, seq: i64, leaf: &[u8], event: &[u8]) {
        raw!(self, p => sqlx::query("UPDATE ledger_events SET leaf = $1, event = $2 WHERE seq = $3").bind(leaf).bind(event).bind(seq).execute(p).await.map(|_| ()).unwrap());
    }

    async fn delete_from(&self, seq: i64, to: i64) {
        raw!(self, p => sqlx::query("DELETE FROM ledger_events WHERE seq >= $1 AND seq < $2").bind(seq).bind(to).execute(p).await.map(|_| ()).unwrap());
    }

    async fn insert(&self, seq: i64, leaf: &[u8], event: &[u8]) {
        self.insert_all(&[(seq, (leaf.to_vec(), event.to_vec()))]).await;
    }

    async fn insert_all(&self, rows: &[StoredRow]) {
        raw!(self, p => {
            let mut tx = p.begin().await.unwrap();
            for (seq, (leaf, event)) in rows {
                sqlx::query("INSERT INTO ledger_events (seq, leaf, event) VALUES ($1, $2, $3)").bind(seq).bind(leaf).bind(event).execute(&mut *tx).await.unwrap();
            }
            tx.commit().await.unwrap();
        });
    }

    async fn rows_from(&self, seq: i64) -> Vec<StoredRow> {
        let rows: Vec<(i64, Vec<u8>, Vec<u8>)> = raw!(self, p => sqlx::query_as("SELECT seq, leaf, event FROM ledger_events WHERE seq >= $1 ORDER BY seq").bind(seq).fetch_all(p).await.unwrap());
        rows.into_iter().map(|(s, l, e)| (s, (l, e))).collect()
    }
}

async fn problem(store: &Store) -> Problem {
    store.verify(&Trust::default()).await.unwrap().problem.expect("the change is detected")
}

async fn tampering_is_found_and_named(backend: Backend) {
    const EVENTS: u64 = 10_000;
    let db = database(backend).await;
    let (store, _) = ledger(&db).await;
    fill(&store, EVENTS, 100).await;
    let clean = store.verify(&Trust::default()).await.unwrap();
    assert_eq!((clean.events, clean.problem), (EVENTS, None));
    let raw = Raw::open(&db).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x7a3b);

    for _ in 0..6 {
        // One byte of the event, or of its stored leaf hash, set to another value.
        let seq = rng.random_range(0..EVENTS) as i64;
        let (leaf, event) = raw.row(seq).await;
        let (mut leaf2, mut event2) = (leaf.clone(), event.clone());
        let target = if rng.random_bool(0.8) { &mut event2 } else { &mut leaf2 };
        let at = rng.random_range(0..target.len());
        target[at] ^= rng.random_range(1..=255u8);
        raw.set(seq, &leaf2, &event2).await;
        let p = problem(&store).await;
        assert_eq!(p.seq(), seq as u64, "byte {at} of event {seq}: {p}");
        raw.set(seq, &leaf, &event).await;

        // A row deleted.
        let seq = rng.random_range(0..EVENTS - 1) as i64;
        let (leaf, event) = raw.row(seq).await;
        raw.delete_from(seq, seq + 1).await;
        let p = problem(&store).await;
        assert!(
            matches!(p, Problem::Missing { .. }) && p.seq() == seq as u64,
            "deleted {seq}: {p}"
        );
        raw.insert(seq, &leaf, &event).await;

        // Two rows swapped.
        let (a, b) = (rng.random_range(0..EVENTS) as i64, rng.random_range(0..EVENTS) as i64);
        if a != b {
            let (ra, rb) = (raw.row(a).await, raw.row(b).await);
            raw.set(a, &rb.0, &rb.1).await;
            raw.set(b, &ra.0, &ra.1).await;
            let p = problem(&store).await;
            assert_eq!(p.seq(), a.min(b) as u64, "swapped {a} and {b}: {p}");
            raw.set(a, &ra.0, &ra.1).await;
            raw.set(b, &rb.0, &rb.1).await;
        }

        // The tail cut.
        let from = rng.random_range(1..EVENTS) as i64;
        let tail = raw.rows_from(from).await;
        raw.delete_from(from, i64::MAX).await;
        let p = problem(&store).await;
        assert!(matches!(p, Problem::Cut { .. }) && p.seq() == from as u64, "cut from {from}: {p}");
        raw.insert_all(&tail).await;
    }
    // Bytes that text handling might choke on: NUL, invalid UTF-8, a newline.
    for (seq, byte) in [(4321i64, 0x00u8), (4322, 0xff), (4323, b'\n')] {
        let (leaf, event) = raw.row(seq).await;
        let mut changed = event.clone();
        changed[10] = byte;
        raw.set(seq, &leaf, &changed).await;
        let p = problem(&store).await;
        assert!(
            matches!(p, Problem::Altered { seq: s } if s == seq as u64),
            "byte {byte:#x} in event {seq}: {p}"
        );
        raw.set(seq, &leaf, &event).await;
        let mut leaf2 = leaf.clone();
        leaf2[0] = byte;
        leaf2[31] = 0;
        if leaf2 != leaf {
            raw.set(seq, &leaf2, &event).await;
            let p = problem(&store).await;
            assert!(
                matches!(p, Problem::Altered { seq: s } if s == seq as u64),
                "leaf byte {byte:#x} of {seq}: {p}"
            );
            raw.set(seq, &leaf, &event).await;
        }
    }
    assert_eq!(
        store.verify(&Trust::default()).await.unwrap().problem,
        None,
        "every change was undone"
    );

    // A signed head altered.
    raw!(&raw, p => sqlx::query("UPDATE ledger_heads SET time = time + 1 WHERE size = 5003").execute(p).await.map(|_| ()).unwrap());
    let p = problem(&store).await;
    assert!(matches!(p, Problem::BadSignature { size: 5003, .. }), "{p}");
}

crate::on_both_backends!(tampering_is_found_and_named);
