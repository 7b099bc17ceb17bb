//! What the web pages show, as the service decides it: each method checks the session's
//! role against Bantay's own policy and reads what that role may see.

use std::collections::BTreeSet;

use bantay_core::{shift_at, shifts_between, Action, Role, Timestamp};
use bantay_store::{FindingRow, GrantRow, GuardLogRow, PassRow, PersonRow, VisitRow};

use crate::datacenter::GateView;
use crate::error::{Result, ServiceError};
use crate::requests::{RequestForm, RequestView};
use crate::service::{Actor, Service};
use crate::signin::{permits, Session};

/// The order's rules a dashboard reports on, in the order's order.
pub const RULES: [(&str, &str); 6] = [
    ("3", "Access re-checked when people are realigned"),
    ("4.1", "Least privilege, by the unit's duties"),
    ("4.2", "Nobody with OS, database and application rights on one critical system"),
    ("4.3", "Datacenters closed but for one approved emergency visit a shift"),
    ("4.4", "Guards log every entry"),
    ("4.5", "System accounts documented and never used by people"),
];

/// One rule's standing: findings not yet remediated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleStanding {
    pub clause: &'static str,
    pub title: &'static str,
    pub open: usize,
    pub acknowledged: usize,
}

/// A person's first page.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// Compliance rule by rule, for those who may see findings.
    pub standing: Option<Vec<RuleStanding>>,
    /// For those who may see findings: the findings each rule gained in each of the last
    /// twelve weeks, oldest first (week start, one count per rule of [`RULES`]).
    pub weekly: Vec<(i64, Vec<usize>)>,
    /// The person's own privileges in force, each with the clause that justifies it.
    pub grants: Vec<GrantRow>,
    /// Notifications addressed to them.
    pub notifications: usize,
}

/// The findings each rule of [`RULES`] gained in each of the twelve weeks before `now`,
/// oldest first: (week start, one count per rule).
fn weekly_findings(findings: &[FindingRow], now: i64) -> Vec<(i64, Vec<usize>)> {
    const WEEK: i64 = 7 * 86_400;
    (0..12)
        .rev()
        .map(|ago| {
            let start = now - (ago + 1) * WEEK;
            let gained = |clause: &str| {
                findings
                    .iter()
                    .filter(|f| (start..start + WEEK).contains(&f.opened) && of_rule(f, clause))
                    .count()
            };
            (start, RULES.iter().map(|(clause, _)| gained(clause)).collect())
        })
        .collect()
}

fn of_rule(finding: &FindingRow, clause: &str) -> bool {
    finding.clause == clause
        || finding.clause.strip_prefix(clause).is_some_and(|r| r.starts_with('.'))
}

impl Service {
    pub async fn dashboard(&self, session: &Session) -> Result<Dashboard> {
        session.require(Action::ViewOwn)?;
        let now = self.now().unix_seconds();
        let findings = if session.may(Action::ViewFindings) {
            self.store.findings().await?
        } else {
            Vec::new()
        };
        let weekly = if session.may(Action::ViewFindings) {
            weekly_findings(&findings, now)
        } else {
            Vec::new()
        };
        let standing = if session.may(Action::ViewFindings) {
            let count = |clause: &str, status: &[&str]| {
                findings
                    .iter()
                    .filter(|f| of_rule(f, clause) && status.contains(&f.status.as_str()))
                    .count()
            };
            Some(
                RULES
                    .iter()
                    .map(|&(clause, title)| RuleStanding {
                        clause,
                        title,
                        open: count(clause, &["open", "reopened"]),
                        acknowledged: count(clause, &["acknowledged"]),
                    })
                    .collect(),
            )
        } else {
            None
        };
        let grants = self
            .store
            .grants_of(&session.person)
            .await?
            .into_iter()
            .filter(|g| g.status == "active" && g.valid_from <= now)
            .filter(|g| g.valid_until.is_none_or(|u| u > now))
            .collect();
        let notifications = self.store.notifications(&session.person).await?.len();
        Ok(Dashboard { standing, weekly, grants, notifications })
    }

    /// Findings not yet remediated, newest first, for those who may see them; the view is
    /// recorded.
    pub async fn unremediated_findings(&self, session: &Session) -> Result<Vec<FindingRow>> {
        session.require(Action::ViewFindings)?;
        let findings: Vec<_> = self
            .findings_newest_first()
            .await?
            .into_iter()
            .filter(|f| f.status != "remediated")
            .collect();
        self.evidence_viewed(&Actor::person(&session.person), "page", &findings).await?;
        Ok(findings)
    }
}

/// A person's requests page: what they asked for, and what awaits their approval.
#[derive(Debug, Clone)]
pub struct RequestsPage {
    /// Requests they made or that are for them, newest first.
    pub mine: Vec<RequestView>,
    /// Pending requests whose next step they may approve now.
    pub awaiting: Vec<RequestView>,
    /// Resources on record, for the form.
    pub resources: Vec<String>,
    /// Datacenters (id, name) and open incidents (id, title), for the pass form.
    pub datacenters: Vec<(String, String)>,
    pub incidents: Vec<(String, String)>,
}

impl Service {
    pub async fn requests_page(&self, session: &Session) -> Result<RequestsPage> {
        session.require(Action::ViewOwn)?;
        let all = self.requests(None).await?;
        let me = session.person.as_str();
        let awaiting = if session.may(Action::ApproveRequest) {
            all.iter().filter(|r| r.status == "pending" && awaits(r, me)).cloned().collect()
        } else {
            Vec::new()
        };
        let mut mine: Vec<RequestView> =
            all.into_iter().filter(|r| r.requester == me || r.person == me).collect();
        mine.sort_by(|a, b| b.submitted.cmp(&a.submitted).then_with(|| b.id.cmp(&a.id)));
        let resources = self.store.resources().await?.into_iter().map(|r| r.id).collect();
        let datacenters =
            self.pack.catalog.datacenters.iter().map(|d| (d.id.clone(), d.name.clone())).collect();
        let incidents = self.open_incidents().await?.into_iter().map(|i| (i.id, i.title)).collect();
        Ok(RequestsPage { mine, awaiting, resources, datacenters, incidents })
    }

    /// One request, for someone it concerns: its requester, its holder, an approver of
    /// one of its steps, or someone who may read everything.
    pub async fn request_for(&self, session: &Session, id: &str) -> Result<RequestView> {
        session.require(Action::ViewOwn)?;
        self.request_seen_by(&session.person, &session.roles, id).await
    }

    /// One request, for someone it concerns (see [`concerns`]) or who reads everything.
    pub async fn request_seen_by(
        &self,
        person: &str,
        roles: &BTreeSet<Role>,
        id: &str,
    ) -> Result<RequestView> {
        let view = self.view(id).await?;
        if !concerns(&view, person) && !permits(roles, Action::ReadAll) {
            return Err(ServiceError::Forbidden(format!(
                "{person} may not see {id}: it is neither theirs nor awaiting their approval"
            )));
        }
        Ok(view)
    }

    /// Requests (of one status when given) that concern `person`, or all of them for
    /// someone who reads everything.
    pub async fn requests_seen_by(
        &self,
        person: &str,
        roles: &BTreeSet<Role>,
        status: Option<&str>,
    ) -> Result<Vec<RequestView>> {
        let all = self.requests(status).await?;
        if permits(roles, Action::ReadAll) {
            return Ok(all);
        }
        Ok(all.into_iter().filter(|r| concerns(r, person)).collect())
    }

    /// A person's grants, for themselves, a head of one of their units, or someone who
    /// reads everything.
    pub async fn grants_seen_by(
        &self,
        caller: &Actor,
        roles: &BTreeSet<Role>,
        person: &str,
    ) -> Result<Vec<GrantRow>> {
        if self.store.person(person).await?.is_none() {
            return Err(ServiceError::NotFound { what: "person", id: person.to_owned() });
        }
        let allowed = caller.id() == person
            || permits(roles, Action::ReadAll)
            || self.heads_unit_of(caller, person).await?;
        if !allowed {
            return Err(ServiceError::Forbidden(format!(
                "{} may see their own grants, or as a unit head those of their unit; {person} is neither",
                caller.id()
            )));
        }
        self.grants_of(person).await
    }

    /// Submits a request in a session (see [`Service::submit`]).
    pub async fn submit_as(&self, session: &Session, form: &RequestForm) -> Result<RequestView> {
        session.require(Action::Request)?;
        self.submit(&session.actor(), form).await
    }

    /// Moves a finding on in a session (see [`Service::finding_step`]).
    pub async fn handle_finding_as(
        &self,
        session: &Session,
        id: &str,
        step: crate::accounts::FindingStep,
        note: &str,
    ) -> Result<FindingRow> {
        session.require(Action::HandleFinding)?;
        self.finding_step(&session.actor(), id, step, note).await
    }

    /// Approves the next step of a request in a session (see [`Service::approve`]).
    pub async fn approve_as(&self, session: &Session, id: &str) -> Result<RequestView> {
        session.require(Action::ApproveRequest)?;
        self.approve(&session.actor(), id).await
    }
}

/// Whether a request concerns `person`: they asked, it is for them, or they approved or
/// may approve one of its steps.
pub fn concerns(request: &RequestView, person: &str) -> bool {
    request.requester == person
        || request.person == person
        || request.steps.iter().any(|s| {
            s.approver.as_deref() == Some(person) || s.eligible.iter().any(|e| e == person)
        })
}

/// Whether `person` may approve the step a request awaits.
pub fn awaits(request: &RequestView, person: &str) -> bool {
    request.steps.iter().any(|s| s.approver.is_none() && s.eligible.iter().any(|e| e == person))
}

/// One shift on the datacenter board.
#[derive(Debug, Clone)]
pub struct BoardShift {
    pub start: i64,
    pub end: i64,
    /// The shift now.
    pub current: bool,
    /// Guards rostered, with their post.
    pub guards: Vec<String>,
    /// Approved passes whose window touches the shift (4.3: at most one).
    pub passes: Vec<PassRow>,
    /// Visits under way at some time in the shift.
    pub visits: usize,
}

/// The datacenter board (4.3, 4.4).
#[derive(Debug, Clone)]
pub struct DatacenterBoard {
    pub datacenter: String,
    pub name: String,
    /// Passes requested and not yet approved or refused.
    pub requested: Vec<PassRow>,
    /// The two shifts before the current one, it, and the three after.
    pub around: Vec<BoardShift>,
    /// Visits in each shift of the past week up to now, oldest first: (shift start, visits).
    pub week: Vec<(i64, usize)>,
}

/// A unit on the organisation chart.
#[derive(Debug, Clone)]
pub struct OrgUnit {
    /// How far below the top (MISTG) it is.
    pub depth: usize,
    pub id: String,
    pub name: String,
    /// The head's title in the order ("Chief, SMD").
    pub head_title: String,
    /// Who heads it now, by personnel order.
    pub heads: Vec<String>,
    /// Its duties: clause, title, the order's text.
    pub duties: Vec<(String, String, String)>,
}

/// The ledger as an auditor sees it: its signed head, its newest events, and the proof
/// of one event when asked.
#[derive(Debug, Clone)]
pub struct LedgerPage {
    pub head: Option<bantay_store::StoredHead>,
    /// The newest events, newest first, as stored.
    pub recent: Vec<serde_json::Value>,
    /// The event asked for, its inclusion proof under the head, and the proof's check
    /// against the ledger's own keys.
    pub proof: Option<(bantay_ledger::InclusionBundle, std::result::Result<(), String>)>,
}

/// The guard station: who is inside now and the logbook.
#[derive(Debug, Clone)]
pub struct GateBoard {
    pub datacenter: String,
    pub name: String,
    /// Visits under way, with the person's name.
    pub inside: Vec<(VisitRow, String)>,
    /// The latest lines of the guard's logbook, newest first.
    pub log: Vec<GuardLogRow>,
}

impl Service {
    pub async fn gate_board(&self, session: &Session, datacenter: &str) -> Result<GateBoard> {
        session.require(Action::ViewDatacenter)?;
        let dc =
            self.pack.catalog.datacenters.iter().find(|d| d.id == datacenter).ok_or_else(|| {
                ServiceError::NotFound { what: "datacenter", id: datacenter.to_owned() }
            })?;
        let now = self.now().unix_seconds();
        let mut inside = Vec::new();
        for visit in self.store.inside_at(datacenter, now).await? {
            let name = self.store.person(&visit.person).await?.map_or_else(String::new, |p| p.name);
            inside.push((visit, name));
        }
        let log = self.logbook(datacenter, 20).await?;
        Ok(GateBoard { datacenter: dc.id.clone(), name: dc.name.clone(), inside, log })
    }

    /// The datacenter board: passes awaiting approval, the shifts around now with their
    /// guards, passes and visits, and the visits of each shift of the past week.
    pub async fn datacenter_board(
        &self,
        session: &Session,
        datacenter: &str,
    ) -> Result<DatacenterBoard> {
        session.require(Action::ViewDatacenter)?;
        let dc =
            self.pack.catalog.datacenters.iter().find(|d| d.id == datacenter).ok_or_else(|| {
                ServiceError::NotFound { what: "datacenter", id: datacenter.to_owned() }
            })?;
        let plan = &self.pack.catalog.shifts;
        let now = self.now();
        let current = shift_at(plan, now);
        let week_ago = Timestamp::from_unix_seconds(now.unix_seconds() - 7 * 86_400);
        let ahead = Timestamp::from_unix_seconds(current.end.unix_seconds() + 86_400);
        let shifts = shifts_between(plan, shift_at(plan, week_ago).end, ahead);
        let (from, until) = (week_ago.unix_seconds(), ahead.unix_seconds());
        let roster = self.store.roster(datacenter, from, until).await?;
        let approved = self.store.passes(datacenter, "approved", from, until).await?;
        let visits = self.store.visits(datacenter, from, until).await?;
        let requested = self
            .store
            .passes(datacenter, "requested", now.unix_seconds(), now.unix_seconds() + 30 * 86_400)
            .await?;
        let overlaps = |a: i64, b: i64, shift: &bantay_core::Shift| {
            a < shift.end.unix_seconds() && b > shift.start.unix_seconds()
        };
        let lines: Vec<BoardShift> = shifts
            .iter()
            .map(|shift| BoardShift {
                start: shift.start.unix_seconds(),
                end: shift.end.unix_seconds(),
                current: *shift == current,
                guards: roster
                    .iter()
                    .filter(|r| overlaps(r.valid_from, r.valid_until, shift))
                    .map(|r| format!("{} at {}", r.guard, r.post))
                    .collect(),
                passes: approved
                    .iter()
                    .filter(|p| overlaps(p.valid_from, p.valid_until, shift))
                    .cloned()
                    .collect(),
                visits: visits
                    .iter()
                    .filter(|v| {
                        let start = shift.start.unix_seconds();
                        v.entered < shift.end.unix_seconds() && v.exited.is_none_or(|x| x >= start)
                    })
                    .count(),
            })
            .collect();
        let at = lines.iter().position(|l| l.current).unwrap_or(0);
        Ok(DatacenterBoard {
            datacenter: dc.id.clone(),
            name: dc.name.clone(),
            requested,
            around: lines
                .get(at.saturating_sub(2)..lines.len().min(at + 4))
                .unwrap_or(&[])
                .to_vec(),
            week: lines.get(..=at).unwrap_or(&[]).iter().map(|l| (l.start, l.visits)).collect(),
        })
    }

    /// The organisation chart: each unit under its parent, its head now, its duties.
    pub async fn organisation(&self, session: &Session) -> Result<Vec<OrgUnit>> {
        session.require(Action::ViewOwn)?;
        let now = self.now().unix_seconds();
        let org = &self.pack.org;
        // Depth first, children in the pack's order, so the list reads as a tree.
        let mut order = Vec::new();
        let mut stack: Vec<(&bantay_core::Unit, usize)> =
            org.units().iter().filter(|u| u.parent.is_none()).rev().map(|u| (u, 0)).collect();
        while let Some((unit, depth)) = stack.pop() {
            order.push((unit, depth));
            let children =
                org.units().iter().filter(|c| c.parent.is_some_and(|p| org.unit(p).id == unit.id));
            stack.extend(children.rev().map(|c| (c, depth + 1)));
        }
        let mut units = Vec::new();
        for (unit, depth) in order {
            units.push(OrgUnit {
                depth,
                id: unit.id.clone(),
                name: unit.name.clone(),
                head_title: unit.head.clone(),
                heads: self.store.heads(&unit.id, now).await?,
                duties: unit
                    .duties
                    .iter()
                    .map(|d| (d.clause.as_str().to_owned(), d.title.clone(), d.text.clone()))
                    .collect(),
            });
        }
        Ok(units)
    }

    /// Every person with the privileges they hold now, each with its clause (auditors).
    pub async fn people(&self, session: &Session) -> Result<Vec<(PersonRow, Vec<GrantRow>)>> {
        session.require(Action::ReadAll)?;
        let now = self.now().unix_seconds();
        let mut held: std::collections::HashMap<String, Vec<GrantRow>> = Default::default();
        for grant in self.store.grants_in_force(now).await? {
            held.entry(grant.person.clone()).or_default().push(grant);
        }
        let mut people = Vec::new();
        for person in self.store.persons().await? {
            let mut grants = held.remove(&person.id).unwrap_or_default();
            grants.sort_by(|a, b| a.resource.cmp(&b.resource));
            people.push((person, grants));
        }
        Ok(people)
    }

    /// The system-account registry (4.5), for those who read everything.
    pub async fn system_accounts_as(
        &self,
        session: &Session,
    ) -> Result<Vec<bantay_core::SystemAccount>> {
        session.require(Action::ReadAll)?;
        self.system_accounts().await
    }

    /// The ledger page; `prove` asks for the inclusion proof of one event.
    pub async fn ledger_page(&self, session: &Session, prove: Option<u64>) -> Result<LedgerPage> {
        session.require(Action::ReadAll)?;
        let head = self.store.head(None).await?;
        let recent = self
            .store
            .recent_events(50)
            .await?
            .iter()
            .filter_map(|bytes| serde_json::from_slice(bytes).ok())
            .collect();
        let proof = match prove {
            None => None,
            Some(seq) => {
                let size = head.as_ref().map_or(0, |h| h.head.size);
                if seq >= size {
                    return Err(ServiceError::bad(
                        "prove",
                        format!(
                            "the ledger holds events 0 to {}; choose one of them",
                            size.saturating_sub(1)
                        ),
                    ));
                }
                let bundle = self.store.prove(seq, Some(size)).await?;
                let keys = self.store.signing_keys().await?;
                let signed_by =
                    keys.iter().find(|k| hex::encode(k.to_bytes()) == bundle.public_key);
                let checked = match signed_by {
                    Some(key) => bundle.check(key).map_err(|e| e.to_string()),
                    None => Err("the head was signed by a key this ledger never held".to_owned()),
                };
                Some((bundle, checked))
            }
        };
        Ok(LedgerPage { head, recent, proof })
    }

    /// Approves an emergency pass in a session (see [`Service::approve_pass`]).
    pub async fn approve_pass_as(
        &self,
        session: &Session,
        id: &str,
    ) -> Result<crate::datacenter::PassView> {
        session.require(Action::ApprovePass)?;
        self.approve_pass(&session.actor(), id).await
    }

    /// Requests an emergency pass in a session (see [`Service::request_pass`]).
    pub async fn request_pass_as(
        &self,
        session: &Session,
        form: &crate::datacenter::PassForm,
    ) -> Result<crate::datacenter::PassView> {
        session.require(Action::Request)?;
        self.request_pass(&session.actor(), form).await
    }

    /// A guard's scan at the door, in a session: `enter` or `exit` (see
    /// [`Service::gate_enter`]).
    pub async fn scan_as(
        &self,
        session: &Session,
        datacenter: &str,
        action: &str,
        code: &str,
    ) -> Result<GateView> {
        session.require(Action::GuardGate)?;
        let guard = session.actor();
        match action {
            "enter" => self.gate_enter(&guard, datacenter, code).await,
            "exit" => self.gate_exit(&guard, datacenter, code).await,
            other => Err(ServiceError::bad("action", format!("`{other}` is not enter or exit"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(clause: &str, opened: i64) -> FindingRow {
        FindingRow {
            id: format!("F-{clause}-{opened}"),
            clause: clause.to_owned(),
            subject: "oracle@cps-db1".to_owned(),
            summary: String::new(),
            evidence: String::new(),
            status: "open".to_owned(),
            opened,
            seq: 0,
        }
    }

    #[test]
    fn each_finding_counts_once_in_the_week_and_under_the_rule_it_was_opened_in() {
        let now = 100 * 86_400;
        let week = 7 * 86_400;
        let findings = [
            finding("4.5", now - 1),             // the last week
            finding("4.1.2", now - week - 1),    // the week before, under 4.1
            finding("4.2", now - 12 * week),     // the first of the twelve
            finding("4.2", now - 12 * week - 1), // before them: not counted
            finding("4.3", now),                 // now: after the last week
        ];
        let weekly = weekly_findings(&findings, now);
        assert_eq!(weekly.len(), 12);
        let rule = |clause: &str| RULES.iter().position(|(c, _)| *c == clause).unwrap();
        assert_eq!(weekly[11].0, now - week);
        assert_eq!(weekly[11].1[rule("4.5")], 1);
        assert_eq!(weekly[10].1[rule("4.1")], 1);
        assert_eq!(weekly[0].1[rule("4.2")], 1);
        let total: usize = weekly.iter().flat_map(|(_, counts)| counts).sum();
        assert_eq!(total, 3);
    }
}
