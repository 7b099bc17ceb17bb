//! The store's integration tests, each on SQLite and on PostgreSQL (a real server; see
//! `bantay_store::testing`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bad_input;
mod group;
mod keys_and_proofs;
mod state;
mod tamper;

use bantay_store::testing::TestDatabase;
use bantay_store::{NewEvent, OpenMode, Store};
use ed25519_dalek::SigningKey;
use serde_json::json;

pub const T0: i64 = 1_780_000_000;

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub async fn database(backend: Backend) -> TestDatabase {
    match backend {
        Backend::Sqlite => TestDatabase::sqlite(None).unwrap(),
        Backend::Postgres => TestDatabase::postgres().await.unwrap_or_else(|e| panic!("{e}")),
    }
}

pub fn key() -> SigningKey {
    SigningKey::generate(&mut rand_core::OsRng)
}

/// A new ledger with two units recorded at its start.
pub async fn ledger(db: &TestDatabase) -> (Store, SigningKey) {
    let store = Store::open(&db.url(), OpenMode::Create).await.unwrap();
    let key = key();
    let units = vec![
        NewEvent::new(
            "unit.recorded",
            "system:test",
            T0,
            json!({"id": "TMS", "name": "Technology Management Service"}),
        ),
        NewEvent::new(
            "unit.recorded",
            "system:test",
            T0,
            json!({"id": "SMD", "name": "Systems Management Division", "parent": "TMS"}),
        ),
    ];
    store.init(key.clone(), "system:test", T0, units).await.unwrap();
    (store, key)
}

/// Appends notes until the ledger holds `total` events, in commits of `batch`.
pub async fn fill(store: &Store, total: u64, batch: u64) {
    let mut size = store.size().await.unwrap();
    while size < total {
        let n = batch.min(total - size);
        let events = (0..n)
            .map(|i| {
                NewEvent::new(
                    "ledger.note",
                    "P0000001",
                    T0 + (size + i) as i64,
                    json!({"text": format!("note {} ✓", size + i)}),
                )
            })
            .collect();
        size = store.append(events, T0 + size as i64).await.unwrap().head.size;
    }
}

/// Declares `NAME_on_sqlite` and `NAME_on_postgres` tests that run `async fn NAME(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        pub mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await;
                }
            )*
        }
        pub mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Postgres).await;
                }
            )*
        }
    };
}

/// Runs SQL on the test database directly, as someone with write access to it could.
pub async fn execute(db: &TestDatabase, sql: &str) {
    match db.url() {
        bantay_store::DatabaseUrl::Sqlite(path) => {
            let pool =
                sqlx::SqlitePool::connect(&format!("sqlite:{}", path.display())).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
        bantay_store::DatabaseUrl::Postgres(url) => {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
    }
}
