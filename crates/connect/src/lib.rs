//! Bantay's readers: a policy pack from its directory, and an organisation's snapshot
//! (personnel, assignments, resources, grants) from CSV or JSON-lines files.
//!
//! It also reaches real systems: a PostgreSQL server whose role memberships carry
//! privileged database access ([`PostgresTarget`]).
//!
//! Readers turn bytes into the core's records and attach the file, line and field to
//! every error. They hold no policy of their own: what a record means is the core's
//! business. Every reader fails whole: a snapshot with one bad line yields no findings.

pub mod authlog;
mod error;
mod extract;
mod imported;
mod ldap;
pub mod linux;
mod pack_dir;
mod pg_catalog;
mod postgres_target;
pub mod scim;
mod snapshot;
mod table;

pub use error::ConnectError;
pub use extract::{extract_format, parse_extract, query_source, read_extract, SourceError};
pub use imported::{read_app_export, ImportedAccount};
pub use ldap::{read_directory, DirectoryError, DirectoryRead, DirectorySource};
pub use pack_dir::{read_pack, read_pack_sources};
pub use pg_catalog::{privileged_roles, PgCatalog, PgRole};
pub use postgres_target::{Membership, PostgresTarget, TargetError};
pub use snapshot::{load_snapshot, scan_snapshot, ScanOutcome, SnapshotFiles};
pub use table::{split_csv_line, Table, ASSIGNMENTS, GRANTS, PERSONS, RESOURCES};
