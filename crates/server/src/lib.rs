//! Bantay's service layer and JSON API. Every use case — submit a request, approve it,
//! record a personnel order, expire what ended, enforce on a real server, review, notify —
//! is a method of [`Service`]: it reads the state from the store, asks the pure core to
//! decide, and appends the events that record the decision. The CLI and the HTTP API both
//! call these methods; neither touches SQL or decides anything itself.
//!
//! Decisions and their events are atomic: the service reads the ledger's size before the
//! state it decides on, and appends only if the ledger has not moved since
//! ([`bantay_store::Store::append_at`]); otherwise it decides again. So two approvals
//! racing cannot together break 4.2, on one server or many.

mod accounts;
mod api;
mod certify;
mod charts;
mod datacenter;
mod enforce;
mod error;
mod grants;
mod held;
mod import;
mod metrics;
mod notify;
mod overview;
mod report;
mod requests;
mod reviews;
mod scan;
mod scim;
mod scim_http;
mod service;
mod signin;
mod syslog;
mod tail;
mod web;

pub use accounts::{FindingStep, Ingested};
pub use api::{openapi, router, API_ROUTES};
pub use bantay_ledger::pass::{check as check_pass_code, CodeCheck, PassClaims};
pub use datacenter::{GateView, IncidentForm, IncidentView, PassForm, PassView, RosterForm};
pub use enforce::{Reconciled, Targets};
pub use error::ServiceError;
pub use grants::{AssignmentForm, MovedGrant, MoverReport, PersonForm, ResourceForm, Swept};
pub use held::{AccountsImport, AccountsImported, ImportInput, SourceKind};
pub use import::{Imported, SnapshotImport};
pub use notify::{Delivered, Mailer, MailerConfig};
pub use report::{report_bytes, report_html, Report, Section};
pub use requests::{ApprovalView, DecisionView, RequestForm, RequestView};
pub use reviews::{ReviewDecision, ReviewForm, ReviewView};
pub use scan::StateScan;
pub use service::{unit_events, Actor, Service};
pub use signin::{Enrolment, Session, SignInForm, SignedIn, IDLE_SECONDS, SESSION_SECONDS};
pub use syslog::{receive_syslog, SyslogAddresses};
pub use tail::follow_file;
