//! Throw-away databases for tests and benchmarks: a SQLite file in a temporary directory,
//! or a fresh database on the PostgreSQL server at `BANTAY_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), dropped again when the value is.
//! A missing server is an error that says so; tests never skip it.

use std::path::{Path, PathBuf};

use sqlx::{Connection, PgConnection};

use crate::database::DatabaseUrl;

/// The server that tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("BANTAY_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database that lives as long as this value.
#[derive(Debug)]
pub enum TestDatabase {
    Sqlite { dir: PathBuf },
    Postgres { name: String },
}

impl TestDatabase {
    /// A new SQLite file in a new directory under `parent` (the system's temporary
    /// directory when `None`).
    pub fn sqlite(parent: Option<&Path>) -> std::io::Result<Self> {
        let base = parent.map_or_else(std::env::temp_dir, Path::to_path_buf);
        let mut suffix = [0u8; 8];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut suffix);
        let dir = base.join(format!("bantay-test-{}", hex::encode(suffix)));
        std::fs::create_dir_all(&dir)?;
        Ok(Self::Sqlite { dir })
    }

    /// A new, empty database on the test PostgreSQL server.
    pub async fn postgres() -> Result<Self, String> {
        let admin = postgres_admin_url();
        let mut conn = PgConnection::connect(&admin).await.map_err(|e| {
            format!("PostgreSQL is needed for this test and is not reachable at {admin} ({e}); start it (scripts/test does) or set BANTAY_TEST_POSTGRES")
        })?;
        let mut suffix = [0u8; 8];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut suffix);
        let name = format!("bantay_test_{}", hex::encode(suffix));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .map_err(|e| format!("cannot create a test database on {admin}: {e}"))?;
        let _ = conn.close().await;
        Ok(Self::Postgres { name })
    }

    pub fn url(&self) -> DatabaseUrl {
        match self {
            Self::Sqlite { dir } => DatabaseUrl::Sqlite(dir.join("bantay.db")),
            Self::Postgres { name } => DatabaseUrl::Postgres(self::database_url(name)),
        }
    }

    /// The URL as text, for `--database` and `BANTAY_DATABASE_URL`.
    pub fn url_text(&self) -> String {
        match self.url() {
            DatabaseUrl::Sqlite(path) => path.display().to_string(),
            DatabaseUrl::Postgres(url) => url,
        }
    }

    /// A directory that goes away with the database (for key files and the like).
    pub fn dir(&self) -> PathBuf {
        match self {
            Self::Sqlite { dir } => dir.clone(),
            Self::Postgres { name } => std::env::temp_dir().join(name),
        }
    }
}

fn database_url(name: &str) -> String {
    let admin = postgres_admin_url();
    match admin.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => format!("{admin}/{name}"),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match self {
            Self::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Self::Postgres { name } => {
                let _ = std::fs::remove_dir_all(std::env::temp_dir().join(&*name));
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                // Drop runs outside any runtime the test may be inside: use a thread of
                // its own with a runtime of its own.
                let _ = std::thread::spawn(move || {
                    let runtime =
                        tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                    runtime.block_on(async {
                        let mut conn = PgConnection::connect(&postgres_admin_url()).await.ok()?;
                        sqlx::query(&sql).execute(&mut conn).await.ok()
                    })
                })
                .join();
            }
        }
    }
}
