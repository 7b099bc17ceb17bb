//! A database that is not Bantay's, is damaged, is newer than this release, or is missing;
//! the wrong signing key: each a clear error, and nothing written.

use bantay_store::testing::TestDatabase;
use bantay_store::{DatabaseUrl, NewEvent, OpenMode, Store, StoreError};
use serde_json::json;

use crate::{database, ledger, Backend, T0};

fn sqlite_path(db: &TestDatabase) -> std::path::PathBuf {
    match db.url() {
        DatabaseUrl::Sqlite(path) => path,
        DatabaseUrl::Postgres(_) => unreachable!(),
    }
}

#[tokio::test]
async fn a_damaged_file_is_named_and_left_as_it_was() {
    let db = TestDatabase::sqlite(None).unwrap();
    let path = sqlite_path(&db);
    let garbage: Vec<u8> = (0..10_000u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();
    for mode in [OpenMode::Existing, OpenMode::Create] {
        let error = Store::open(&db.url(), mode).await.unwrap_err();
        assert!(matches!(error, StoreError::NotADatabase { .. }), "{error}");
        let text = error.to_string();
        assert!(
            text.contains(&path.display().to_string()) && text.contains("restore it from a backup"),
            "{text}"
        );
    }
    assert_eq!(std::fs::read(&path).unwrap(), garbage, "not a byte written");
}

#[tokio::test]
async fn a_truncated_database_is_refused() {
    let db = TestDatabase::sqlite(None).unwrap();
    {
        let (store, _) = ledger(&db).await;
        crate::fill(&store, 3000, 500).await;
        store.database().close().await;
    }
    let path = sqlite_path(&db);
    // Fold the WAL in, then cut the file in half, as a failed copy would.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", path.display())).await.unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&pool).await.unwrap();
    pool.close().await;
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let outcome = async {
        let store = Store::open(&db.url(), OpenMode::Existing).await?;
        store.verify(&Default::default()).await
    }
    .await;
    let error = outcome.unwrap_err();
    assert!(matches!(error, StoreError::NotADatabase { .. }), "{error}");
}

#[tokio::test]
async fn someone_elses_database_is_not_touched() {
    let db = TestDatabase::sqlite(None).unwrap();
    let path = sqlite_path(&db);
    let pool =
        sqlx::SqlitePool::connect(&format!("sqlite:{}?mode=rwc", path.display())).await.unwrap();
    sqlx::query("CREATE TABLE invoices (id INTEGER)").execute(&pool).await.unwrap();
    pool.close().await;
    let error = Store::open(&db.url(), OpenMode::Create).await.unwrap_err().to_string();
    assert!(error.contains("none of Bantay's"), "{error}");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", path.display())).await.unwrap();
    let tables: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(tables, 1, "no table of ours was added");
}

#[tokio::test]
async fn a_missing_database_says_how_to_create_one() {
    let db = TestDatabase::sqlite(None).unwrap();
    let error = Store::open(&db.url(), OpenMode::Existing).await.unwrap_err().to_string();
    assert!(error.contains("no database at") && error.contains("bantay init"), "{error}");
    assert!(!sqlite_path(&db).exists(), "no file was created");
}

async fn a_newer_schema_is_refused(backend: Backend) {
    let db = database(backend).await;
    let (store, _) = ledger(&db).await;
    let size = store.size().await.unwrap();
    store.database().close().await;
    crate::execute(&db, "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (20991231000000, 'from the future', TRUE, X'00', 1)".replace("X'00'", if matches!(backend, Backend::Postgres) { "'\\x00'::bytea" } else { "X'00'" }).as_str()).await;
    let error = Store::open(&db.url(), OpenMode::Existing).await.unwrap_err();
    assert!(matches!(error, StoreError::NewerSchema { found: 20991231000000, .. }), "{error}");
    assert!(error.to_string().contains("downgrades are refused"), "{error}");
    crate::execute(&db, "DELETE FROM _sqlx_migrations WHERE version = 20991231000000").await;
    let store = Store::open(&db.url(), OpenMode::Existing).await.unwrap();
    assert_eq!(store.size().await.unwrap(), size, "nothing was written");
}

async fn the_wrong_key_writes_nothing(backend: Backend) {
    let db = database(backend).await;
    let (store, _) = ledger(&db).await;
    let size = store.size().await.unwrap();
    let other = Store::open(&db.url(), OpenMode::Existing).await.unwrap();
    let error = other.unlock(crate::key()).await.unwrap_err();
    assert!(matches!(error, StoreError::WrongKey { since: 0, .. }), "{error}");
    let error = other
        .append(vec![NewEvent::new("ledger.note", "x", T0, json!({"text": "x"}))], T0)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("signing key"), "{error}");
    let again = Store::open(&db.url(), OpenMode::Create).await.unwrap();
    let error = again.init(crate::key(), "x", T0, Vec::new()).await.unwrap_err();
    assert!(matches!(error, StoreError::AlreadyInitialised { events: 3, .. }), "{error}");
    assert_eq!(store.size().await.unwrap(), size);
}

/// Two `init`s racing on one empty database: one ledger, one clear refusal.
async fn racing_inits_start_one_ledger(backend: Backend) {
    let db = database(backend).await;
    let (a, b) = (
        Store::open(&db.url(), OpenMode::Create).await.unwrap(),
        Store::open(&db.url(), OpenMode::Create).await.unwrap(),
    );
    let (ra, rb) = tokio::join!(
        a.init(crate::key(), "a", T0, Vec::new()),
        b.init(crate::key(), "b", T0, Vec::new())
    );
    let refused = match (ra, rb) {
        (Ok(_), Err(e)) | (Err(e), Ok(_)) => e,
        other => panic!("exactly one init succeeds: {other:?}"),
    };
    assert!(matches!(refused, StoreError::AlreadyInitialised { events: 1, .. }), "{refused}");
    let v = a.verify(&Default::default()).await.unwrap();
    assert_eq!((v.events, v.problem), (1, None));
}

#[tokio::test]
async fn an_unreachable_server_is_named() {
    let url = DatabaseUrl::parse("postgres://postgres:secret@127.0.0.1:1/bantay");
    let error = Store::open(&url, OpenMode::Existing).await.unwrap_err().to_string();
    assert!(
        error.contains("cannot reach the database at postgres://postgres:***@127.0.0.1:1/bantay"),
        "{error}"
    );
    assert!(!error.contains("secret"), "the password is not shown: {error}");
}

crate::on_both_backends!(
    a_newer_schema_is_refused,
    the_wrong_key_writes_nothing,
    racing_inits_start_one_ledger
);
