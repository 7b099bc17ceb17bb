//! The rules of the privileged-access lifecycle that need no storage: how long a
//! requested period may run (4.1), who approves a request and in what order, who may
//! approve a step, and which grants a realignment leaves unjustified (section 3).
//!
//! The service layer gathers the state (a person's assignments and grants, the heads of
//! units) and asks these functions; they decide and explain, and never read a clock.

use crate::decision::{justify, AccessRequest, Decision, Outcome};
use crate::org::{Clause, UnitIdx};
use crate::pack::PolicyPack;
use crate::rules::GrantDurations;
use crate::snapshot::{PersonIdx, RecordError, Snapshot};
use crate::time::Timestamp;

/// How long a grant runs: standing (days, renewed by a new request) or just in time
/// (hours, possibly starting later).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantKind {
    Standing,
    JustInTime,
}

impl GrantKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantKind::Standing => "standing",
            GrantKind::JustInTime => "just_in_time",
        }
    }
}

/// Slack for clocks that disagree a little: a period may start this much before now.
pub(crate) const CLOCK_SLACK_SECONDS: i64 = 300;

/// A window of time someone asks for (a grant's period, a datacenter visit), with the
/// names of its two fields as the asker wrote them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub from: Timestamp,
    pub until: Timestamp,
    pub fields: (&'static str, &'static str),
    /// What starts: "a grant", "a visit".
    pub what: &'static str,
}

impl Window {
    /// Checks that it is not over, ends after it starts, does not start in the past (but
    /// for a little clock slack) and lasts at most `max_seconds`; `too_long` words the
    /// last refusal.
    pub(crate) fn check(
        &self,
        now: Timestamp,
        max_seconds: i64,
        too_long: impl FnOnce() -> String,
    ) -> Result<(), RecordError> {
        let Window { from, until, fields: (from_field, until_field), what } = *self;
        let problem = |field, message: String| Err(RecordError { field, message });
        if until <= now {
            return problem(
                until_field,
                format!("the period ended already ({until}); ask for one that ends in the future"),
            );
        }
        if until <= from {
            return problem(until_field, format!("{until} is not after {from_field} {from}"));
        }
        if from.unix_seconds() < now.unix_seconds() - CLOCK_SLACK_SECONDS {
            return problem(
                from_field,
                format!("{from} is in the past; {what} starts now ({now}) or later"),
            );
        }
        if until.unix_seconds() - from.unix_seconds() > max_seconds {
            return problem(until_field, too_long());
        }
        Ok(())
    }
}

/// Checks a requested period against the pack's grant durations: it must end after it
/// starts, not start in the past, and not run longer than the pack allows for its kind.
pub fn check_period(
    durations: &GrantDurations,
    kind: GrantKind,
    from: Timestamp,
    until: Timestamp,
    now: Timestamp,
) -> Result<(), RecordError> {
    let (max, unit, limit) = match kind {
        GrantKind::Standing => {
            (i64::from(durations.standing_max_days) * 86_400, "days", durations.standing_max_days)
        }
        GrantKind::JustInTime => (
            i64::from(durations.just_in_time_max_hours) * 3600,
            "hours",
            durations.just_in_time_max_hours,
        ),
    };
    let window = Window { from, until, fields: ("valid_from", "valid_until"), what: "a grant" };
    window.check(now, max, || {
        format!(
            "a {} grant runs at most {limit} {unit} under {}; ask for a shorter period and renew it when it ends",
            kind.as_str().replace('_', "-"),
            durations.clause
        )
    })
}

/// The units whose heads approve a request, in order, and the clause that sets the
/// chain. `unit` is the person's unit; `critical` whether the resource's system is one
/// 4.2 names (CPS, ERP).
///
/// A step that lands on a unit already in the chain moves up to its parent (a person in
/// a service has no division: the service approves first, then the group), and a step
/// above the top is dropped: every step is a different unit.
pub fn approval_chain(pack: &PolicyPack, unit: UnitIdx, critical: bool) -> (Clause, Vec<UnitIdx>) {
    let org = &pack.org;
    let applies = if critical { "critical" } else { "default" };
    let chain = pack
        .rules
        .approval_chains
        .iter()
        .find(|c| c.applies_to == applies)
        .or_else(|| pack.rules.approval_chains.iter().find(|c| c.applies_to == "default"));
    let Some(chain) = chain else {
        return (pack.rules.grants.clause.clone(), vec![unit]);
    };
    // The lineage top-down: [group, service, division, …].
    let mut lineage: Vec<UnitIdx> = org.lineage(unit).collect();
    lineage.reverse();
    let at_depth = |depth: usize| lineage.get(depth).copied().unwrap_or(unit);
    let mut units: Vec<UnitIdx> = Vec::new();
    for step in &chain.steps {
        let mut next = match step.as_str() {
            "requester_division" => Some(at_depth(2)),
            "requester_service" => Some(at_depth(1)),
            name => org.find(name),
        };
        while let Some(u) = next.filter(|u| units.contains(u)) {
            next = org.unit(u).parent;
        }
        if let Some(u) = next {
            units.push(u);
        }
    }
    (chain.clause.clone(), units)
}

/// Who may approve a step for `unit`: the heads of the unit, or, when it has none on
/// record, of the nearest unit above it that has; never the requester, the person the
/// request is for, or anyone who approved an earlier step (their own request, or a
/// second signature of one person, would not be an approval). When nobody in a unit
/// remains, its parent's heads approve.
pub fn step_approvers(
    pack: &PolicyPack,
    unit: UnitIdx,
    excluded: &[&str],
    mut heads: impl FnMut(&str) -> Vec<String>,
) -> Vec<String> {
    for u in pack.org.lineage(unit) {
        let eligible: Vec<String> = heads(&pack.org.unit(u).id)
            .into_iter()
            .filter(|h| !excluded.contains(&h.as_str()))
            .collect();
        if !eligible.is_empty() {
            return eligible;
        }
    }
    Vec::new()
}

/// A grant re-examined at a realignment: kept, because a duty of the new unit still
/// justifies it, or to be suspended, with the decision that says why not.
#[derive(Debug, Clone)]
pub struct Reexamined {
    /// The grant's position in the snapshot's grants.
    pub grant: usize,
    pub keep: bool,
    pub decision: Decision,
}

/// Re-examines every grant `person` holds at `effective` (the personnel order's date) or
/// gets later, under the units the snapshot assigns them then. Only 4.1 is asked: a move
/// changes which duties a person has, not how many elements of a system they hold.
pub fn reexamine(
    pack: &PolicyPack,
    snapshot: &Snapshot,
    person: PersonIdx,
    effective: Timestamp,
) -> Vec<Reexamined> {
    snapshot
        .grants
        .iter()
        .enumerate()
        .filter(|(_, g)| g.person == person && g.period.until.is_none_or(|u| u > effective))
        .map(|(i, g)| {
            let request = AccessRequest {
                person,
                resource: g.resource,
                clause: g.clause.clone(),
                at: effective.max(g.period.from),
            };
            let decision = justify(pack, snapshot, &request);
            Reexamined { grant: i, keep: decision.outcome == Outcome::Allow, decision }
        })
        .collect()
}
