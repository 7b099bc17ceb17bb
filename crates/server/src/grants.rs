//! Personnel, resources and grants over time: recording people and resources, personnel
//! orders that realign people (section 3), the sweep that ends what ran out, and the
//! revocation tasks a person confirms with evidence.

use bantay_core::{check_resource, reexamine, ResourceRecord, Timestamp};
use bantay_store::GrantRow;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::enforce::Reconciled;
use crate::error::{Result, ServiceError};
use crate::service::{new_id, parse_time, Actor, Move, Service};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonForm {
    pub id: String,
    pub name: String,
    /// The port a person of a port-scoped unit (PDMU) serves.
    #[serde(default)]
    pub port: Option<String>,
    /// Where notifications are mailed.
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceForm {
    pub id: String,
    pub kind: String,
    pub class: String,
    #[serde(default)]
    pub system: Option<String>,
    #[serde(default)]
    pub port: Option<String>,
    /// A configured target that enforces access to it (a PostgreSQL server's name).
    #[serde(default)]
    pub target: Option<String>,
    /// The role on the target that carries the privilege.
    #[serde(default)]
    pub target_role: Option<String>,
}

/// A personnel order (Customs Personnel Order): from `effective`, `person` is in `unit`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentForm {
    pub person: String,
    pub unit: String,
    /// The order's number, e.g. `CPO-2026-0142`.
    pub order: String,
    pub effective: String,
    /// The order makes the person head of the unit.
    #[serde(default)]
    pub head: bool,
}

/// What a realignment did to one grant.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MovedGrant {
    pub grant: String,
    pub resource: String,
    pub clause: String,
    /// Why it is kept (the duty of the new unit that covers it) or suspended.
    pub reason: String,
    /// The revocation task of a suspended grant, and its deadline.
    pub task: Option<String>,
    pub due: Option<String>,
}

/// The mover report of a personnel order: what the person keeps and what stops.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MoverReport {
    pub person: String,
    pub order: String,
    pub effective: String,
    pub from_units: Vec<String>,
    pub to_unit: String,
    pub kept: Vec<MovedGrant>,
    pub suspended: Vec<MovedGrant>,
    /// Findings opened over the person's accounts on real systems, read again once the
    /// order is in force (an account whose grant was suspended holds access with no
    /// grant on record). An order that takes effect later is read at the next import.
    pub held_findings: Vec<String>,
}

/// What one sweep ended.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Swept {
    pub requests_expired: Vec<String>,
    pub grants_expired: Vec<String>,
    pub expiry_notices: usize,
    pub reviews_closed: Vec<String>,
    pub grants_revoked_by_review: Vec<String>,
    /// Incidents moved to tier 2 because a clock ran out (1.1).
    pub incidents_escalated: Vec<String>,
    /// Findings opened by reconciling the guard's logbook (4.3, 4.4).
    pub datacenter_findings: Vec<String>,
    pub reconciled: Vec<Reconciled>,
}

/// How long a person has to remove access Bantay cannot remove itself.
pub(crate) const REVOCATION_DEADLINE_SECONDS: i64 = 3 * 86_400;
/// Holders hear this long before a grant ends.
const EXPIRY_NOTICE_SECONDS: i64 = 86_400;

impl Service {
    /// Records a person (or updates their name, port and mail address).
    pub async fn record_person(&self, actor: &Actor, form: &PersonForm) -> Result<()> {
        if form.id.trim().is_empty() || form.id.starts_with("system:") {
            return Err(ServiceError::bad(
                "id",
                "a person's id is a non-empty staff number, not `system:…`",
            ));
        }
        if form.name.trim().is_empty() {
            return Err(ServiceError::bad("name", "write the person's full name"));
        }
        if let Some(port) = form.port.as_deref().filter(|p| !self.pack.catalog.has_port(p)) {
            return Err(ServiceError::bad(
                "port",
                format!(
                    "`{port}` is not a port of the pack; ports: {}",
                    self.pack.catalog.ports.join(", ")
                ),
            ));
        }
        if let Some(email) = form.email.as_deref().filter(|e| !plausible_mail(e)) {
            return Err(ServiceError::bad("email", format!("`{email}` is not a mail address")));
        }
        let body =
            json!({ "id": form.id, "name": form.name, "port": form.port, "email": form.email });
        self.record("person.recorded", actor, body).await?;
        Ok(())
    }

    /// Records a resource (or updates it), checked against the pack's catalog.
    pub async fn record_resource(&self, actor: &Actor, form: &ResourceForm) -> Result<()> {
        let record = ResourceRecord {
            id: &form.id,
            kind: &form.kind,
            class: &form.class,
            system: form.system.as_deref().unwrap_or(""),
            port: form.port.as_deref().unwrap_or(""),
        };
        check_resource(&self.pack, record).map_err(|e| ServiceError::bad(e.field, e.message))?;
        match (&form.target, &form.target_role) {
            (Some(target), Some(_)) if !self.targets.has(target) => {
                return Err(ServiceError::bad(
                    "target",
                    format!(
                        "no target `{target}` is configured; configured: {}",
                        self.targets.names().join(", ")
                    ),
                ))
            }
            (Some(_), None) | (None, Some(_)) => {
                return Err(ServiceError::bad("target_role", "give a target and its role together"))
            }
            _ => {}
        }
        let body = json!({
            "id": form.id, "kind": form.kind, "class": form.class, "system": form.system,
            "port": form.port, "target": form.target, "target_role": form.target_role,
        });
        self.record("resource.recorded", actor, body).await?;
        Ok(())
    }

    /// Records a personnel order and re-examines, as of its effective date, every grant
    /// the person holds: what the new unit's duties do not justify is suspended from that
    /// date and gets a revocation task. Returns the mover report.
    pub async fn assign(&self, actor: &Actor, form: &AssignmentForm) -> Result<MoverReport> {
        let now = self.now();
        if self.store.person(&form.person).await?.is_none() {
            return Err(ServiceError::bad("person", format!("no person `{}`", form.person)));
        }
        let unit_idx = self.pack.org.find(&form.unit).ok_or_else(|| {
            let units: Vec<&str> = self.pack.org.units().iter().map(|u| u.id.as_str()).collect();
            ServiceError::bad(
                "unit",
                format!("`{}` is not a unit; units: {}", form.unit, units.join(", ")),
            )
        })?;
        let unit = self.pack.org.unit(unit_idx).id.clone();
        if form.order.trim().is_empty() {
            return Err(ServiceError::bad(
                "order",
                "cite the personnel order's number, e.g. CPO-2026-0142",
            ));
        }
        let effective = parse_time("effective", &form.effective)?;
        if !actor.is_system() && !self.may_order(actor, &form.person, unit_idx).await? {
            return Err(ServiceError::Forbidden(format!(
                "{} does not head a unit over both {}'s present unit and {unit}",
                actor.id(),
                form.person
            )));
        }
        let moved = Move { person: &form.person, unit: &unit, from: effective, order: &form.order };
        let (report, _) = self
            .decided(|_| async {
                let before = self.snapshot_of(&[&form.person], &[]).await?;
                let from_units: Vec<String> = before
                    .0
                    .units_at(before.1[0], effective.plus_seconds(-1))
                    .iter()
                    .map(|&u| self.pack.org.unit(u).id.clone())
                    .collect();
                let (snapshot, persons) = self.snapshot_moved(&[&form.person], &[], Some(&moved)).await?;
                let rows = self.store.grants_of(&form.person).await?;
                let mut events = vec![self.event(
                    "person.assigned",
                    actor,
                    json!({
                        "person": form.person, "unit": unit, "valid_from": effective.unix_seconds(),
                        "order": form.order, "head": form.head,
                    }),
                )];
                let mut report = MoverReport {
                    person: form.person.clone(),
                    order: form.order.clone(),
                    effective: effective.to_string(),
                    from_units,
                    to_unit: unit.clone(),
                    kept: Vec::new(),
                    suspended: Vec::new(),
                    held_findings: Vec::new(),
                };
                let stop = effective.max(now);
                for seen in reexamine(&self.pack, &snapshot, persons[0], effective) {
                    // The snapshot's grants are the person's grant rows, in the same order
                    // (both read within this attempt; had they differed, the ledger moved and
                    // the append is refused). Checked all the same.
                    let g = &snapshot.grants[seen.grant];
                    let Some(row) = rows
                        .get(seen.grant)
                        .filter(|r| r.status == "active" && r.valid_from == g.period.from.unix_seconds())
                    else {
                        continue;
                    };
                    let reason: Vec<&str> = seen.decision.reasons.iter().map(|r| r.message.as_str()).collect();
                    let reason = reason.join("; ");
                    if seen.keep {
                        report.kept.push(moved_grant(row, reason, None, None));
                        continue;
                    }
                    let task = new_id("T");
                    let due = stop.plus_seconds(REVOCATION_DEADLINE_SECONDS);
                    events.push(self.event(
                        "grant.suspended",
                        actor,
                        json!({ "id": row.id, "from": stop.unix_seconds(), "reason": reason, "order": form.order }),
                    ));
                    events.push(self.event(
                        "task.opened",
                        actor,
                        json!({
                            "id": task, "grant": row.id, "due": due.unix_seconds(),
                            "reason": format!("remove {} from {} ({}, section 3): {reason}", row.resource, row.person, form.order),
                        }),
                    ));
                    events.push(self.notification(
                        &row.person,
                        &format!("{} on {} suspended by {}", row.clause, row.resource, form.order),
                        &format!(
                            "From {stop}, after your move to {unit}, grant {} on {} is suspended: {reason}. It will be revoked by {due}.",
                            row.id, row.resource
                        ),
                    ));
                    report.suspended.push(moved_grant(row, reason, Some(task), Some(due.to_string())));
                }
                Ok((events, report))
            })
            .await?;
        for g in &report.suspended {
            if let Some(resource) = self.store.grant(&g.grant).await?.map(|g| g.resource) {
                self.enforce_resource(&resource).await;
            }
        }
        let mut report = report;
        if effective <= now {
            report.held_findings = self.recheck_held_of(actor, &form.person).await?;
        }
        Ok(report)
    }

    /// Whether `actor` heads a unit above (or at) both the person's present units and
    /// `unit`: the authority to realign between them.
    async fn may_order(
        &self,
        actor: &Actor,
        person: &str,
        unit: bantay_core::UnitIdx,
    ) -> Result<bool> {
        let now = self.now();
        let (snapshot, persons) = self.snapshot_of(&[person], &[]).await?;
        let present = snapshot.units_at(persons[0], now);
        for over in self.pack.org.lineage(unit) {
            let heads = self.store.heads(&self.pack.org.unit(over).id, now.unix_seconds()).await?;
            if heads.iter().any(|h| h == actor.id())
                && present.iter().all(|&p| self.pack.org.is_within(p, over))
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Ends what ran out by `now`: pending requests past their time, grants past their
    /// end, reviews past their deadline (revoking what was not confirmed); tells holders
    /// of grants ending within a day; then brings every target in line.
    pub async fn sweep(&self) -> Result<Swept> {
        let actor = Actor::system("scheduler");
        let now = self.now().unix_seconds();
        let (mut swept, _) = self
            .decided(|_| async {
                let mut swept = Swept::default();
                let mut events = Vec::new();
                for r in self.store.requests_expired(now).await? {
                    events.push(self.event("request.expired", &actor, json!({ "id": r.id })));
                    swept.requests_expired.push(r.id);
                }
                for g in self.store.grants_ended(now).await? {
                    let reason = format!(
                        "its period ended at {}",
                        Timestamp::from_unix_seconds(g.valid_until.unwrap_or(now))
                    );
                    events.push(self.event("grant.expired", &actor, json!({ "id": g.id, "reason": reason })));
                    swept.grants_expired.push(g.id);
                }
                for g in self.store.grants_ending(now, now + EXPIRY_NOTICE_SECONDS).await? {
                    let id = format!("N-expiring-{}", g.id);
                    if self.store.has_notification(&id).await? {
                        continue;
                    }
                    let until = Timestamp::from_unix_seconds(g.valid_until.unwrap_or(now));
                    events.push(self.event(
                        "notification.queued",
                        &Actor::system("notify"),
                        json!({
                            "id": id, "recipient": g.person,
                            "subject": format!("{} on {} ends {until}", g.clause, g.resource),
                            "body": format!("Grant {} on {} ends at {until}. To keep it, ask again: a renewal is a new request with its own checks.", g.id, g.resource),
                        }),
                    ));
                    swept.expiry_notices += 1;
                }
                let (review_events, closed, revoked) = self.close_due_reviews(&actor, now).await?;
                events.extend(review_events);
                swept.reviews_closed = closed;
                swept.grants_revoked_by_review = revoked;
                let (escalations, escalated) = self.escalations(&actor, now).await?;
                events.extend(escalations);
                swept.incidents_escalated = escalated;
                let (findings, opened) = self.datacenter_findings(&actor, now).await?;
                events.extend(findings);
                swept.datacenter_findings = opened;
                Ok((events, swept))
            })
            .await?;
        swept.reconciled = self.reconcile_all().await;
        Ok(swept)
    }

    /// Confirms an open revocation task with evidence; the grant is revoked with it.
    /// The person who held the grant cannot confirm its removal.
    pub async fn complete_task(&self, actor: &Actor, id: &str, evidence: &str) -> Result<()> {
        if evidence.trim().is_empty() {
            return Err(ServiceError::bad(
                "evidence",
                "say what was done and where it shows (a ticket, a command's output)",
            ));
        }
        let (answer, _) = self
            .decided(|_| async {
                let task = self
                    .store
                    .task(id)
                    .await?
                    .ok_or_else(|| ServiceError::NotFound { what: "task", id: id.to_owned() })?;
                if task.status != "open" {
                    return Ok((Vec::new(), Err(ServiceError::Refused(format!("{id} is done already")))));
                }
                let grant = self.store.grant(&task.grant_id).await?;
                if grant.as_ref().is_some_and(|g| g.person == actor.id()) {
                    return Err(ServiceError::Refused(format!(
                        "{} held the grant {id} removes; someone else confirms its removal",
                        actor.id()
                    )));
                }
                let mut events = vec![self.event(
                    "task.done",
                    actor,
                    json!({ "id": id, "evidence": evidence, "by": actor.id() }),
                )];
                if let Some(g) = grant.filter(|g| g.status == "active" || g.status == "suspended") {
                    events.push(self.event(
                        "grant.revoked",
                        actor,
                        json!({ "id": g.id, "reason": format!("removal confirmed in {id}: {evidence}") }),
                    ));
                }
                Ok((events, Ok(())))
            })
            .await?;
        answer
    }

    /// A person's grants, oldest first.
    pub async fn grants_of(&self, person: &str) -> Result<Vec<GrantRow>> {
        if self.store.person(person).await?.is_none() {
            return Err(ServiceError::NotFound { what: "person", id: person.to_owned() });
        }
        Ok(self.store.grants_of(person).await?)
    }
}

fn moved_grant(
    row: &GrantRow,
    reason: String,
    task: Option<String>,
    due: Option<String>,
) -> MovedGrant {
    MovedGrant {
        grant: row.id.clone(),
        resource: row.resource.clone(),
        clause: row.clause.clone(),
        reason,
        task,
        due,
    }
}

fn plausible_mail(text: &str) -> bool {
    let mut parts = text.split('@');
    matches!((parts.next(), parts.next(), parts.next()), (Some(l), Some(d), None) if !l.is_empty() && d.contains('.') && !text.contains(char::is_whitespace))
}
