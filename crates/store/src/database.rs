//! Opening the database: SQLite by default (`./bantay.db`), PostgreSQL when the URL says
//! so; checks that the database is Bantay's and not from a newer release; runs the
//! forward-only migrations of its backend.
//!
//! The same SQL text serves both backends wherever it can (`$1`-style parameters work in
//! both, and so does `ON CONFLICT`); the two `dispatch` macros run one body against
//! whichever backend is open.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::error::{Doing, Result, StoreError};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    /// `postgres://…` or `postgresql://…` is PostgreSQL; `sqlite:PATH` or a bare path is a
    /// SQLite file.
    pub fn parse(text: &str) -> Self {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Self::Postgres(text.to_owned())
        } else {
            let path = text.strip_prefix("sqlite://").or_else(|| text.strip_prefix("sqlite:"));
            Self::Sqlite(PathBuf::from(path.unwrap_or(text)))
        }
    }

    /// How to name the database to a person: the file, or the URL without its password.
    pub fn location(&self) -> String {
        match self {
            Self::Sqlite(path) => path.display().to_string(),
            Self::Postgres(url) => redact_password(url),
        }
    }
}

fn redact_password(url: &str) -> String {
    // postgres://user:secret@host/db → postgres://user:***@host/db
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((credentials, host)) = rest.split_once('@') else { return url.to_owned() };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Whether opening may create a new, empty database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    Create,
    Existing,
}

#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the open backend's pool.
macro_rules! dispatch_pool {
    ($pool:expr, $name:ident => $body:expr) => {
        match $pool {
            $crate::database::Pool::Sqlite($name) => $body,
            $crate::database::Pool::Postgres($name) => $body,
        }
    };
}
pub(crate) use dispatch_pool;

pub(crate) enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs `$body` with `$conn` bound to the transaction's connection.
macro_rules! dispatch_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::database::Tx::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::database::Tx::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}
pub(crate) use dispatch_tx;

/// Placeholders for a generated statement: `?` on SQLite (whose named-parameter lookup is
/// a linear scan, quadratic over a multi-row insert), `$1, $2, …` on PostgreSQL.
pub(crate) struct Placeholders {
    numbered: bool,
    next: usize,
}

impl Placeholders {
    pub(crate) fn for_tx(tx: &Tx) -> Self {
        Self { numbered: matches!(tx, Tx::Postgres(_)), next: 0 }
    }

    #[allow(clippy::should_implement_trait)] // never ends; an Iterator would suggest it could
    pub(crate) fn next(&mut self) -> String {
        self.next += 1;
        if self.numbered {
            format!("${}", self.next)
        } else {
            "?".to_owned()
        }
    }
}

impl Tx {
    pub(crate) async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
        .doing("committing")
    }
}

/// An open, migrated database.
#[derive(Debug, Clone)]
pub struct Database {
    pub(crate) pool: Pool,
    location: String,
}

impl Database {
    pub async fn open(url: &DatabaseUrl, mode: OpenMode) -> Result<Self> {
        let location = url.location();
        let pool = match url {
            DatabaseUrl::Sqlite(path) => {
                if mode == OpenMode::Existing && !path.exists() {
                    return Err(StoreError::Missing { location });
                }
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(mode == OpenMode::Create)
                    .journal_mode(SqliteJournalMode::Wal)
                    // An acknowledged append must survive power loss, not only a crash.
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(60))
                    // Checkpoint the WAL every ~40 MiB rather than every 4 MiB: the pages an
                    // append always touches (the head, the ends of the B-trees) are copied
                    // back once per checkpoint, so fewer checkpoints copy less.
                    .pragma("wal_autocheckpoint", "10000")
                    .foreign_keys(true);
                let pool = SqlitePoolOptions::new()
                    .max_connections(4)
                    // A local file has no connection to lose; pinging it before every
                    // query only doubles the round trips.
                    .test_before_acquire(false)
                    .connect_with(options)
                    .await
                    .map_err(|e| sqlite_open_error(&location, e))?;
                Pool::Sqlite(pool)
            }
            DatabaseUrl::Postgres(text) => {
                let options = PgConnectOptions::from_str(text).map_err(|source| {
                    StoreError::Unreachable { location: location.clone(), source }
                })?;
                // One plain connection first: an unreachable server is reported at once
                // rather than after the pool's patient retries.
                let probe = sqlx::ConnectOptions::connect(&options).await.map_err(|source| {
                    StoreError::Unreachable { location: location.clone(), source }
                })?;
                let _ = sqlx::Connection::close(probe).await;
                let pool = PgPoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(Duration::from_secs(60))
                    .connect_with(options)
                    .await
                    .map_err(|source| StoreError::Unreachable {
                        location: location.clone(),
                        source,
                    })?;
                Pool::Postgres(pool)
            }
        };
        let database = Self { pool, location };
        database.migrate(mode).await?;
        Ok(database)
    }

    /// The database, named for a person.
    pub fn location(&self) -> &str {
        &self.location
    }

    fn migrator(&self) -> &'static Migrator {
        match self.pool {
            Pool::Sqlite(_) => &SQLITE_MIGRATIONS,
            Pool::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    /// Refuses a database that is not Bantay's or is newer than this release, then applies
    /// the migrations it lacks (each in its own transaction).
    async fn migrate(&self, mode: OpenMode) -> Result<()> {
        let (ours, others) = self.tables().await?;
        if !ours {
            if others > 0 {
                return Err(StoreError::NotADatabase {
                    location: self.location.clone(),
                    message: format!("it holds {others} tables but none of Bantay's"),
                });
            }
            if mode == OpenMode::Existing {
                return Err(StoreError::Missing { location: self.location.clone() });
            }
        } else {
            let found: Option<i64> = dispatch_pool!(&self.pool, pool => {
                sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
                    .fetch_one(pool)
                    .await
            })
            .map_err(|e| self.classify(e, "reading the schema version"))?;
            let known = self.migrator().iter().map(|m| m.version).max().unwrap_or(0);
            if let Some(found) = found.filter(|&found| found > known) {
                return Err(StoreError::NewerSchema {
                    location: self.location.clone(),
                    found,
                    known,
                });
            }
        }
        let result = dispatch_pool!(&self.pool, pool => self.migrator().run(pool).await);
        result.map_err(|source| StoreError::Migration { location: self.location.clone(), source })
    }

    /// Whether Bantay's migration table is there, and how many other tables.
    async fn tables(&self) -> Result<(bool, i64)> {
        let names: Vec<String> = match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                    .fetch_all(pool)
                    .await
            }
            Pool::Postgres(pool) => {
                sqlx::query_scalar(
                    "SELECT table_name::text FROM information_schema.tables \
                     WHERE table_schema = current_schema()",
                )
                .fetch_all(pool)
                .await
            }
        }
        .map_err(|e| self.classify(e, "listing tables"))?;
        let ours = names.iter().any(|n| n == "_sqlx_migrations");
        Ok((ours, names.len() as i64 - i64::from(ours)))
    }

    /// Turns SQLite's "not a database" and "malformed" into the error a person can act on.
    pub(crate) fn classify(&self, error: sqlx::Error, doing: &'static str) -> StoreError {
        match &self.pool {
            Pool::Sqlite(_) => sqlite_error(&self.location, error, doing),
            Pool::Postgres(_) => StoreError::Sql { doing, source: error },
        }
    }

    pub(crate) async fn begin(&self) -> Result<Tx> {
        match &self.pool {
            // IMMEDIATE takes the write lock at once, so that two processes never both
            // read the head and then race to extend it.
            Pool::Sqlite(pool) => pool
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map(Tx::Sqlite)
                .map_err(|e| self.classify(e, "starting a transaction")),
            Pool::Postgres(pool) => {
                pool.begin().await.map(Tx::Postgres).doing("starting a transaction")
            }
        }
    }

    pub async fn close(&self) {
        dispatch_pool!(&self.pool, pool => pool.close().await);
    }
}

fn is_corruption(error: &sqlx::Error) -> Option<String> {
    let sqlx::Error::Database(db) = error else { return None };
    // SQLITE_CORRUPT (11) and SQLITE_NOTADB (26), possibly as extended codes.
    let code: i64 = db.code()?.parse().ok()?;
    matches!(code & 0xff, 11 | 26).then(|| db.message().to_owned())
}

fn sqlite_open_error(location: &str, error: sqlx::Error) -> StoreError {
    match is_corruption(&error) {
        Some(message) => StoreError::NotADatabase { location: location.to_owned(), message },
        None => StoreError::Unreachable { location: location.to_owned(), source: error },
    }
}

fn sqlite_error(location: &str, error: sqlx::Error, doing: &'static str) -> StoreError {
    match is_corruption(&error) {
        Some(message) => StoreError::NotADatabase { location: location.to_owned(), message },
        None => StoreError::Sql { doing, source: error },
    }
}
