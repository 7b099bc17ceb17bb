//! Bantay's core: the organisation of CMO 04-2019, its policy pack, and decisions that
//! cite their clauses.
//!
//! Everything here is pure: no file, network or clock access, and no async runtime. Time
//! is a parameter ([`Timestamp`]); a pack arrives as text ([`PackSources`]); snapshots
//! arrive record by record. Storage, HTTP and connectors live in other crates and call in.

mod access;
mod accounts;
mod catalog;
mod clauses;
mod compiled;
mod corpus;
mod datacenter;
mod decision;
mod held;
mod ids;
mod lifecycle;
mod org;
mod pack;
mod policy;
mod rules;
mod scan;
mod snapshot;
mod time;

pub use access::{AccessPolicy, Action, Role, ACCESS_POLICY};
pub use accounts::{check_origin, misuse, AccountUse, Misuse, SystemAccount};
pub use catalog::{Catalog, Datacenter, PrivilegeClass, ShiftPlan, System};
pub use clauses::{ClauseIdx, ClauseInfo, ClauseSet, Clauses};
pub use compiled::{
    coverage, Coverage, DecisionTable, PortRelation, PrincipalProfile, Profiles, ResourceProfile,
};
pub use corpus::{parse_corpus, run_case, Case, CaseResult};
pub use datacenter::{check_pass_window, shift_at, shifts_between, Shift};
pub use decision::{decide, justify, AccessRequest, Decision, Effect, Outcome, Reason};
pub use held::{held_findings, ungranted_key, unowned_key, HeldAccess, HeldFinding};
pub use ids::IdIndex;
pub use lifecycle::{
    approval_chain, check_period, reexamine, step_approvers, GrantKind, Reexamined,
};
pub use org::{Clause, Duty, Organisation, Unit, UnitIdx};
pub use pack::{
    PackErrors, PackProblem, PackSources, PolicyPack, DUTIES_FILE, ORG_FILE, RESOURCES_FILE,
    RULES_FILE, SCHEMA_FILE,
};
pub use policy::{Duties, PrincipalFacts, ResourceFacts, Verdict};
pub use rules::{
    ApprovalChain, DatacenterRules, GrantDurations, IncidentSla, Rules, SeparationOfDuties,
};
pub use scan::{Finding, Scan, ScanBuilder, ScanReport, ScanWorker, Tally, Violation};
pub use snapshot::{
    check_resource, parse_clause, parse_period, Assignment, AssignmentRecord, Grant, GrantRecord,
    Origin, Person, PersonIdx, PersonRecord, RecordError, Resource, ResourceIdx, ResourceRecord,
    Snapshot, SnapshotBuilder,
};
pub use time::{
    parse_bytes as parse_time_bytes, ManilaTime, Period, TimeError, Timestamp,
    MANILA_OFFSET_SECONDS,
};
