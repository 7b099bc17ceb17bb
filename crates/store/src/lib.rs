//! Bantay's storage: the ledger's events, signed heads and keys, and the current-state
//! tables, in SQLite (the embedded default, `./bantay.db`) or PostgreSQL
//! (`BANTAY_DATABASE_URL=postgres://…`). This is the one crate with SQL; it knows how to
//! keep and check the ledger, and leaves deciding what may happen to the service layer.

mod database;
mod error;
mod group;
mod keys;
mod ledger;
mod queries;
mod state;
#[doc(hidden)]
pub mod testing;
mod verify;

pub use database::{Database, DatabaseUrl, OpenMode};
pub use error::{Result, StoreError};
pub use group::{Clock, GroupCommit};
pub use keys::{
    create_key_file, parse_public_key, public_key_hex, read_key_file, DEFAULT_KEY_FILE,
};
pub use ledger::{endorsement_bytes, Appended, NewEvent, Store, StoredHead};
pub use queries::{
    ApprovalRow, AssignmentRow, CameraRow, CredentialRow, EnforcementRow, FindingRow, GrantRow,
    GuardLogRow, HeldAccountRow, IdentityRow, IncidentRow, NotificationRow, OutageRow, PassRow,
    PersonRow, RequestRow, ResourceRow, ReviewItemRow, ReviewRow, RosterRow, SessionRow,
    SystemAccountRow, TaskRow, VisitRow,
};
pub use state::{state_rows, EVENT_KINDS};
pub use verify::{Problem, Trust, Verification};
