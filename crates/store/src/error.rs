//! What can go wrong in the store, worded for the person who must fix it.

use std::path::PathBuf;

/// An error from the store. Every variant says where (the database, the key file, the
/// event) and, where there is one, what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no database at {location}: run `bantay init` to create one, or set BANTAY_DATABASE_URL to the database you mean")]
    Missing { location: String },
    #[error("{location} is not a Bantay database (SQLite says: {message}); the file is damaged or of another kind: restore it from a backup, or point BANTAY_DATABASE_URL at the right file")]
    NotADatabase { location: String, message: String },
    // The cause is the `source`, which error reports print after this (`{:#}` in anyhow).
    #[error("cannot reach the database at {location}; check that the server runs and BANTAY_DATABASE_URL is right")]
    Unreachable {
        location: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("the database at {location} has schema version {found}, newer than this bantay knows ({known}); use the bantay release that wrote it or a newer one (downgrades are refused)")]
    NewerSchema { location: String, found: i64, known: i64 },
    #[error(
        "migrating the database at {location} failed; nothing was changed by the failing step"
    )]
    Migration {
        location: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    #[error("the database at {location} already holds a ledger of {events} events; `bantay init` starts a new ledger only in an empty database")]
    AlreadyInitialised { location: String, events: u64 },
    #[error("the ledger at {location} is empty: run `bantay init` first")]
    NotInitialised { location: String },
    #[error("{path}: {message}")]
    Key { path: PathBuf, message: String },
    #[error("the signing key {offered} is not this ledger's current key {current} (in force since event {since}); use the key file `bantay init` or the last `bantay ledger rotate-key` wrote")]
    WrongKey { offered: String, current: String, since: u64 },
    #[error("appending needs the ledger's signing key: unlock the store with the key file first")]
    NoSigningKey,
    #[error("the group-commit task has stopped; restart the service")]
    GroupCommitStopped,
    #[error("the ledger moved from {expected} to {found} events while a decision was made; decide again")]
    LedgerMoved { expected: u64, found: u64 },
    #[error("event `{kind}`: {message}")]
    Event { kind: String, message: String },
    #[error("the ledger at {location} is inconsistent: {message}; run `bantay ledger verify` for details")]
    Inconsistent { location: String, message: String },
    #[error("cannot write {what}")]
    Io {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Encoding(#[from] bantay_ledger::EncodingError),
    #[error(transparent)]
    Proof(#[from] bantay_ledger::ProofError),
    #[error("database error while {doing}")]
    Sql {
        doing: &'static str,
        #[source]
        source: sqlx::Error,
    },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Attaches what the store was doing to a database error.
pub(crate) trait Doing<T> {
    fn doing(self, doing: &'static str) -> Result<T>;
}

impl<T> Doing<T> for Result<T, sqlx::Error> {
    fn doing(self, doing: &'static str) -> Result<T> {
        self.map_err(|source| StoreError::Sql { doing, source })
    }
}
