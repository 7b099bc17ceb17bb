//! The pack's `rules.toml`: constraints that are not a per-request permit.

use crate::org::Clause;

impl Rules {
    /// The service level of an incident priority.
    pub fn incident_sla(&self, priority: &str) -> Option<&IncidentSla> {
        self.incident_slas.iter().find(|s| s.priority == priority)
    }
}

/// A static separation-of-duties constraint (ANSI RBAC SSD): on each of `systems`, a
/// person may hold at most `max` of `classes`. 4.2 is `{CPS, ERP} × {os, database,
/// application}, max 2`.
#[derive(Debug, Clone)]
pub struct SeparationOfDuties {
    pub clause: Clause,
    pub systems: Vec<String>,
    pub classes: Vec<String>,
    pub max: usize,
}

/// How long a grant may run (4.1, "only what is necessary").
#[derive(Debug, Clone)]
pub struct GrantDurations {
    pub clause: Clause,
    pub standing_max_days: u32,
    pub just_in_time_max_hours: u32,
}

/// One approval chain: who approves, in order.
#[derive(Debug, Clone)]
pub struct ApprovalChain {
    pub clause: Clause,
    /// `default`, or `critical` for privileges on critical systems.
    pub applies_to: String,
    /// `requester_division`, `requester_service`, or a unit id whose head approves.
    pub steps: Vec<String>,
}

/// 4.3's datacenter rules.
#[derive(Debug, Clone)]
pub struct DatacenterRules {
    pub clause: Clause,
    pub passes_per_shift: u32,
    pub max_pass_hours: u32,
    /// The unit whose head approves passes (the Deputy Commissioner heads MISTG).
    pub approver_unit: String,
    pub cctv_required: bool,
    pub incident_required: bool,
    pub incident_priorities: Vec<String>,
}

/// The helpdesk's service level for a priority (1.1, 1.3.1): how soon an incident must be
/// answered and resolved before it goes to tier 2.
#[derive(Debug, Clone)]
pub struct IncidentSla {
    pub clause: Clause,
    pub priority: String,
    pub respond_seconds: i64,
    pub resolve_seconds: i64,
}

/// 4.5's system-account rules.
#[derive(Debug, Clone)]
pub struct SystemAccountRules {
    pub clause: Clause,
    pub interactive_use_allowed: bool,
}

#[derive(Debug, Clone)]
pub struct Rules {
    pub separation_of_duties: Vec<SeparationOfDuties>,
    pub grants: GrantDurations,
    pub approval_chains: Vec<ApprovalChain>,
    pub datacenter: DatacenterRules,
    pub incident_slas: Vec<IncidentSla>,
    pub system_accounts: SystemAccountRules,
}
