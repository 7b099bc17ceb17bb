//! Where the database and the signing key are: `--database` / `BANTAY_DATABASE_URL` and
//! `--key` / `BANTAY_KEY_FILE`, else `./bantay.db` and `./bantay.key`.

use std::path::PathBuf;

use bantay_store::{DatabaseUrl, DEFAULT_KEY_FILE};

#[derive(Debug, Clone, clap::Args)]
pub struct Place {
    /// The database: a SQLite file, or postgres://user@host/db.
    // The URL may hold a password: help never prints the environment's value.
    #[arg(
        long = "database",
        env = "BANTAY_DATABASE_URL",
        hide_env_values = true,
        global = true,
        default_value = "bantay.db"
    )]
    database: String,
    /// The ledger's signing key file (readable only by its owner).
    #[arg(long = "key", env = "BANTAY_KEY_FILE", global = true, default_value = DEFAULT_KEY_FILE)]
    key: PathBuf,
}

impl Place {
    pub fn database(&self) -> DatabaseUrl {
        DatabaseUrl::parse(&self.database)
    }

    pub fn key(&self) -> &std::path::Path {
        &self.key
    }
}

/// A runtime for one command's database work. Single-threaded: the command waits on the
/// database, and SQLite works on its own thread anyway.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}
