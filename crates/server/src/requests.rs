//! Requests for privileged access and their approval (4.1, 4.2): submitted with the duty
//! clause that needs them, checked at once, approved step by step by the heads the pack's
//! chain names, checked again at each approval, and turned into a time-bound grant.

use bantay_core::{
    approval_chain, check_period, decide, parse_clause, step_approvers, AccessRequest, Clause,
    Decision, GrantKind, Outcome, PersonIdx, ResourceIdx, Snapshot, Timestamp,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::error::{Result, ServiceError};
use crate::service::{new_id, parse_time, Actor, Service};

/// A request for a privilege, as a person fills it in.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestForm {
    /// Who would hold the privilege; the requester when omitted. A unit head may ask for
    /// a person of their unit.
    #[serde(default)]
    pub person: Option<String>,
    /// The resource, e.g. `cps-db-0`.
    pub resource: String,
    /// The duty clause that needs it, e.g. `2.2.1`.
    pub clause: String,
    /// `standing` (days) or `just_in_time` (hours).
    pub kind: String,
    /// When it starts (`2026-12-01T08:00`, Manila time unless an offset is given); now
    /// when omitted.
    #[serde(default)]
    pub valid_from: Option<String>,
    /// When it ends.
    pub valid_until: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReasonView {
    pub clause: String,
    /// `permits` or `denies`.
    pub effect: String,
    pub message: String,
}

/// One step of a request's approval chain.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApprovalView {
    pub step: i32,
    /// The unit whose head approves this step.
    pub unit: String,
    /// Who approved it, once approved.
    pub approver: Option<String>,
    pub time: Option<String>,
    /// For the step awaiting approval: who may approve it now.
    pub eligible: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequestView {
    pub id: String,
    /// `pending`, `approved`, `refused`, `withdrawn` or `expired`.
    pub status: String,
    pub requester: String,
    pub person: String,
    pub resource: String,
    pub clause: String,
    pub kind: String,
    pub valid_from: String,
    pub valid_until: String,
    pub submitted: String,
    /// A pending request not approved by then expires.
    pub expires: String,
    /// The decision, clause by clause.
    pub reasons: Vec<ReasonView>,
    pub steps: Vec<ApprovalView>,
    /// The grant an approved request made.
    pub grant: Option<String>,
}

/// What the order would decide of a request, recorded nowhere.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DecisionView {
    /// `allow` or `deny`.
    pub outcome: String,
    /// The clauses that decided.
    pub clauses: Vec<String>,
    /// Every clause that spoke, with what it said.
    pub reasons: Vec<ReasonView>,
    /// The units whose heads would approve it, in order.
    pub chain: Vec<String>,
}

/// A request form checked against the records: everything a decision needs.
struct Checked {
    person: String,
    resource: String,
    /// The resource's class of privilege (os, database, application, …).
    class: String,
    clause: Clause,
    kind: GrantKind,
    from: Timestamp,
    until: Timestamp,
    critical: bool,
    now: Timestamp,
}

/// How long a request may wait for its approvals.
const PENDING_MAX_SECONDS: i64 = 7 * 86_400;

/// The reasons of a decision as stored (a JSON array of reasons), for people to read.
pub(crate) fn reason_views(stored: &str) -> Vec<ReasonView> {
    let reasons: Vec<serde_json::Value> = serde_json::from_str(stored).unwrap_or_default();
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    reasons
        .iter()
        .map(|r| ReasonView {
            clause: text(&r["clause"]),
            effect: text(&r["effect"]),
            message: text(&r["message"]),
        })
        .collect()
}

fn time_text(seconds: i64) -> String {
    Timestamp::from_unix_seconds(seconds).to_string()
}

fn reasons_json(decision: &Decision) -> serde_json::Value {
    serde_json::to_value(&decision.reasons).unwrap_or_default()
}

impl Service {
    /// Checks a request form: who, what, under which clause, for how long, and that the
    /// actor may ask for that person. Reads only.
    async fn checked(&self, actor: &Actor, form: &RequestForm) -> Result<Checked> {
        let now = self.now();
        let person = form.person.clone().unwrap_or_else(|| actor.id().to_owned());
        if self.store.person(&person).await?.is_none() {
            return Err(ServiceError::bad(
                "person",
                format!("no person `{person}`; record them first (`bantay personnel add`)"),
            ));
        }
        let Some(resource) = self.store.resource(&form.resource).await? else {
            return Err(ServiceError::bad(
                "resource",
                format!("no resource `{}`; `bantay resources list` shows them", form.resource),
            ));
        };
        let clause = parse_clause(&self.pack, &form.clause)
            .map_err(|e| ServiceError::bad("clause", e.message))?;
        let kind = match form.kind.as_str() {
            "standing" => GrantKind::Standing,
            "just_in_time" => GrantKind::JustInTime,
            other => {
                return Err(ServiceError::bad(
                    "kind",
                    format!("`{other}` is not a kind of grant; write standing or just_in_time"),
                ))
            }
        };
        let from = match &form.valid_from {
            Some(text) => parse_time("valid_from", text)?,
            None => now,
        };
        let until = parse_time("valid_until", &form.valid_until)?;
        check_period(&self.pack.rules.grants, kind, from, until, now)
            .map_err(|e| ServiceError::bad(e.field, e.message))?;
        if !actor.is_system() && actor.id() != person && !self.heads_unit_of(actor, &person).await?
        {
            return Err(ServiceError::Forbidden(format!(
                "{} may ask for privileges for themselves, or as a unit head for a person of their unit; {person} is neither",
                actor.id()
            )));
        }
        let critical = resource
            .system
            .as_deref()
            .and_then(|s| self.pack.catalog.system(s))
            .is_some_and(|s| s.critical);
        Ok(Checked {
            person,
            resource: resource.id,
            class: resource.class,
            clause,
            kind,
            from,
            until,
            critical,
            now,
        })
    }

    /// What the order says of a checked request now: the decision, clause by clause, and
    /// the units whose heads would approve it. Reads only.
    async fn judge(&self, request: &Checked) -> Result<(Decision, Vec<bantay_core::UnitIdx>)> {
        let (snapshot, persons) =
            self.snapshot_of(&[&request.person], &[&request.resource]).await?;
        let person = persons[0];
        let target = resource_idx(&snapshot, &request.resource)?;
        let decision = decide_over(
            &self.pack,
            &snapshot,
            person,
            target,
            &request.clause,
            request.from,
            request.until,
        );
        let unit = self
            .unit_for(&snapshot, person, &request.clause, request.from)
            .or(self.unit_at(&snapshot, person, request.now));
        let chain =
            unit.map(|u| approval_chain(&self.pack, u, request.critical).1).unwrap_or_default();
        Ok((decision, chain))
    }

    /// The decision a request would meet, without recording anything: what a requester
    /// checks before asking, and what a connector asks before it acts.
    pub async fn preview(&self, actor: &Actor, form: &RequestForm) -> Result<DecisionView> {
        let request = self.checked(actor, form).await?;
        let (decision, chain) = self.judge(&request).await?;
        let allowed = decision.outcome == Outcome::Allow && !chain.is_empty();
        Ok(DecisionView {
            outcome: if allowed { "allow" } else { "deny" }.to_owned(),
            clauses: decision.clauses().into_iter().map(str::to_owned).collect(),
            reasons: reason_views(&reasons_json(&decision).to_string()),
            chain: chain.iter().map(|&u| self.pack.org.unit(u).id.clone()).collect(),
        })
    }

    /// Submits a request. Bad input is an error and writes nothing; a request the order
    /// refuses is recorded as refused, with the clauses that refuse it.
    pub async fn submit(&self, actor: &Actor, form: &RequestForm) -> Result<RequestView> {
        let request = self.checked(actor, form).await?;
        let Checked {
            ref person, ref resource, ref class, ref clause, kind, from, until, now, ..
        } = request;
        let person_id = person.as_str();
        let id = new_id("R");
        self.decided(|_| async {
            let (decision, chain) = self.judge(&request).await?;
            let allowed = decision.outcome == Outcome::Allow && !chain.is_empty();
            let mut events = vec![self.event(
                "request.submitted",
                actor,
                json!({
                    "id": id, "requester": actor_person(actor, person_id), "person": person_id,
                    "resource": resource, "clause": clause.as_str(), "kind": kind.as_str(),
                    "valid_from": from.unix_seconds(), "valid_until": until.unix_seconds(),
                    "chain": chain.iter().map(|&u| self.pack.org.unit(u).id.clone()).collect::<Vec<_>>(),
                    "expires": until.unix_seconds().min(now.unix_seconds() + PENDING_MAX_SECONDS),
                    "outcome": if allowed { "pending" } else { "refused" },
                    "reasons": reasons_json(&decision),
                }),
            )];
            if allowed {
                let excluded = [actor.id(), person_id];
                for approver in self.eligible(chain[0], &excluded, now).await? {
                    events.push(self.notification(
                        &approver,
                        &format!("Approve {id}: {class} on {resource} for {person_id}"),
                        &format!(
                            "{} asks that {person_id} hold {class} on {resource} from {from} until {until}, citing {clause}.\n\
                             You approve step 1 as head of {}. `bantay request approve {id}` or the API.",
                            actor.id(), self.pack.org.unit(chain[0]).id
                        ),
                    ));
                }
            }
            Ok((events, ()))
        })
        .await?;
        self.view(&id).await
    }

    /// Approves the step of a request that awaits `actor`. The last approval records the
    /// grant (and, for a resource on an enforced target, grants it there).
    pub async fn approve(&self, actor: &Actor, id: &str) -> Result<RequestView> {
        let now = self.now();
        let (answer, appended) = self
            .decided(|_| async {
                let request = self.pending(id, now).await?;
                let request = match request {
                    Pending::Open(r) => r,
                    Pending::JustExpired(events, refusal) => return Ok((events, Err(refusal))),
                };
                if actor.id() == request.requester || actor.id() == request.person {
                    return Err(ServiceError::Refused(format!(
                        "nobody approves their own request: {} {} {id}",
                        actor.id(),
                        if actor.id() == request.requester { "asked for" } else { "would hold what is asked in" },
                    )));
                }
                let step = request.approved;
                let chain = request.chain_units();
                let unit_id = chain.get(step as usize).cloned().unwrap_or_default();
                let unit = self.pack.org.find(&unit_id).ok_or_else(|| {
                    ServiceError::Refused(format!("{id}: the chain names unit `{unit_id}`, which the pack no longer has"))
                })?;
                let approvals = self.store.approvals(id).await?;
                let mut excluded: Vec<&str> = vec![&request.requester, &request.person];
                excluded.extend(approvals.iter().map(|a| a.approver.as_str()));
                let eligible = self.eligible(unit, &excluded, now).await?;
                if approvals.iter().any(|a| a.approver == actor.id()) {
                    return Err(ServiceError::Refused(format!(
                        "{} approved an earlier step of {id}; each step needs a different approver",
                        actor.id()
                    )));
                }
                if !eligible.iter().any(|e| e == actor.id()) {
                    return Err(ServiceError::Forbidden(format!(
                        "{} may not approve step {} of {id}: it is for the head of {unit_id} ({})",
                        actor.id(),
                        step + 1,
                        if eligible.is_empty() { "nobody is on record".to_owned() } else { eligible.join(", ") }
                    )));
                }
                // Checked again: the person's units or grants may have changed since.
                let (snapshot, persons) = self.snapshot_of(&[&request.person], &[&request.resource]).await?;
                let target = resource_idx(&snapshot, &request.resource)?;
                let clause = Clause::parse(&request.clause).ok_or_else(|| {
                    ServiceError::Refused(format!("{id} cites `{}`, which is not a clause", request.clause))
                })?;
                let from = Timestamp::from_unix_seconds(request.valid_from.max(now.unix_seconds()));
                let until = Timestamp::from_unix_seconds(request.valid_until);
                let decision = decide_over(&self.pack, &snapshot, persons[0], target, &clause, from, until);
                if decision.outcome == Outcome::Deny {
                    let events = vec![
                        self.event("request.refused", actor, json!({ "id": id, "reasons": reasons_json(&decision) })),
                        self.notification(
                            &request.requester,
                            &format!("{id} refused at approval"),
                            &format!("Checked again at approval, {id} is refused: {}", messages(&decision)),
                        ),
                    ];
                    return Ok((events, Ok(None)));
                }
                let digest = self
                    .store
                    .leaf(request.submitted_seq as u64)
                    .await?
                    .map(hex::encode)
                    .unwrap_or_default();
                let mut events = vec![self.event(
                    "request.approved",
                    actor,
                    json!({ "id": id, "step": step, "unit": unit_id, "approver": actor.id(), "digest": digest }),
                )];
                let last = step + 1 == request.steps;
                if last {
                    let grant = new_id("G");
                    events.push(self.event(
                        "grant.recorded",
                        actor,
                        json!({
                            "id": grant, "person": request.person, "resource": request.resource,
                            "clause": request.clause, "valid_from": from.unix_seconds(),
                            "valid_until": request.valid_until, "request": id,
                        }),
                    ));
                    for whom in dedup([&request.requester, &request.person]) {
                        events.push(self.notification(
                            whom,
                            &format!("{id} approved: {} holds {} until {until}", request.person, request.resource),
                            &format!("Every approval of {id} is in. Grant {grant} runs from {from} until {until}."),
                        ));
                    }
                    return Ok((events, Ok(Some(request.resource.clone()))));
                }
                let next_unit = chain.get(step as usize + 1).and_then(|u| self.pack.org.find(u));
                if let Some(next_unit) = next_unit {
                    excluded.push(actor.id());
                    for approver in self.eligible(next_unit, &excluded, now).await? {
                        events.push(self.notification(
                            &approver,
                            &format!("Approve {id}: {} for {}", request.resource, request.person),
                            &format!(
                                "{id} awaits step {} of {}: you approve as head of {}. {} approved step {}.",
                                step + 2, request.steps, self.pack.org.unit(next_unit).id, actor.id(), step + 1
                            ),
                        ));
                    }
                }
                Ok((events, Ok(None)))
            })
            .await?;
        let granted = answer?;
        if let (Some(resource), Some(_)) = (granted, appended) {
            self.enforce_resource(&resource).await;
        }
        self.view(id).await
    }

    /// Withdraws a pending request: only its requester or the person it is for may.
    pub async fn withdraw(&self, actor: &Actor, id: &str) -> Result<RequestView> {
        let now = self.now();
        let (answer, _) = self
            .decided(|_| async {
                let request = match self.pending(id, now).await? {
                    Pending::Open(r) => r,
                    Pending::JustExpired(events, refusal) => return Ok((events, Err(refusal))),
                };
                if !actor.is_system()
                    && actor.id() != request.requester
                    && actor.id() != request.person
                {
                    return Err(ServiceError::Forbidden(format!(
                        "only {} (who asked) or {} may withdraw {id}",
                        request.requester, request.person
                    )));
                }
                Ok((vec![self.event("request.withdrawn", actor, json!({ "id": id }))], Ok(())))
            })
            .await?;
        answer?;
        self.view(id).await
    }

    /// A request as a person sees it: its decision, its steps and who may approve next.
    pub async fn view(&self, id: &str) -> Result<RequestView> {
        let request = self
            .store
            .request(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound { what: "request", id: id.to_owned() })?;
        let approvals = self.store.approvals(id).await?;
        let mut steps = Vec::new();
        let mut excluded: Vec<&str> = vec![&request.requester, &request.person];
        excluded.extend(approvals.iter().map(|a| a.approver.as_str()));
        for (i, unit) in request.chain_units().iter().enumerate() {
            let done = approvals.iter().find(|a| a.step as usize == i);
            let eligible = match (done, self.pack.org.find(unit)) {
                (None, Some(u))
                    if request.status == "pending" && i == request.approved as usize =>
                {
                    self.eligible(u, &excluded, self.now()).await?
                }
                _ => Vec::new(),
            };
            steps.push(ApprovalView {
                step: i as i32 + 1,
                unit: unit.clone(),
                approver: done.map(|a| a.approver.clone()),
                time: done.map(|a| time_text(a.time)),
                eligible,
            });
        }
        let grant = self
            .store
            .grants_of(&request.person)
            .await?
            .into_iter()
            .find(|g| g.request.as_deref() == Some(id))
            .map(|g| g.id);
        Ok(RequestView {
            reasons: reason_views(&request.reasons),
            valid_from: time_text(request.valid_from),
            valid_until: time_text(request.valid_until),
            submitted: time_text(request.submitted),
            expires: time_text(request.expires),
            id: request.id,
            status: request.status,
            requester: request.requester,
            person: request.person,
            resource: request.resource,
            clause: request.clause,
            kind: request.kind,
            steps,
            grant,
        })
    }

    /// Requests, newest first; of one status when given.
    pub async fn requests(&self, status: Option<&str>) -> Result<Vec<RequestView>> {
        let mut out = Vec::new();
        for r in self.store.requests(status).await? {
            out.push(self.view(&r.id).await?);
        }
        Ok(out)
    }

    /// A request that must be pending for what the caller does; a request whose time ran
    /// out is recorded as expired and the action refused.
    async fn pending(&self, id: &str, now: Timestamp) -> Result<Pending> {
        let request = self
            .store
            .request(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound { what: "request", id: id.to_owned() })?;
        let refusal = match request.status.as_str() {
            "pending" if request.expires <= now.unix_seconds() => {
                let refusal = ServiceError::Refused(format!(
                    "{id} expired at {} without all its approvals; ask again",
                    time_text(request.expires)
                ));
                let event =
                    self.event("request.expired", &Actor::system("expiry"), json!({ "id": id }));
                return Ok(Pending::JustExpired(vec![event], refusal));
            }
            "pending" => return Ok(Pending::Open(Box::new(request))),
            "withdrawn" => format!("{id} was withdrawn; there is nothing to act on"),
            "expired" => format!("{id} expired at {}; ask again", time_text(request.expires)),
            "approved" => format!("{id} is approved already"),
            _ => format!("{id} was refused; ask again once what refused it has changed"),
        };
        Err(ServiceError::Refused(refusal))
    }

    /// Who may approve a step for `unit` at `now`, leaving out `excluded`.
    pub(crate) async fn eligible(
        &self,
        unit: bantay_core::UnitIdx,
        excluded: &[&str],
        now: Timestamp,
    ) -> Result<Vec<String>> {
        let heads = self.heads_above(unit, now.unix_seconds()).await?;
        Ok(step_approvers(&self.pack, unit, excluded, |u| {
            heads.get(u).cloned().unwrap_or_default()
        }))
    }

    /// The unit of the person at `at` whose duties include `clause` (its chain approves a
    /// request citing it); else their first unit.
    fn unit_for(
        &self,
        snapshot: &Snapshot,
        person: PersonIdx,
        clause: &Clause,
        at: Timestamp,
    ) -> Option<bantay_core::UnitIdx> {
        let units = snapshot.units_at(person, at);
        let owner = self.pack.org.duty(clause).map(|(owner, _)| owner);
        units
            .iter()
            .copied()
            .find(|&u| owner.is_some_and(|o| self.pack.org.is_within(u, o)))
            .or_else(|| units.first().copied())
    }

    /// Whether `actor` heads a unit `person` belongs to now (or one above it).
    pub(crate) async fn heads_unit_of(&self, actor: &Actor, person: &str) -> Result<bool> {
        let now = self.now();
        let (snapshot, persons) = self.snapshot_of(&[person], &[]).await?;
        for unit in snapshot.units_at(persons[0], now) {
            let heads = self.heads_above(unit, now.unix_seconds()).await?;
            if heads.values().any(|h| h.iter().any(|p| p == actor.id())) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    pub(crate) fn notification(
        &self,
        recipient: &str,
        subject: &str,
        body: &str,
    ) -> bantay_store::NewEvent {
        self.event(
            "notification.queued",
            &Actor::system("notify"),
            json!({ "id": new_id("N"), "recipient": recipient, "subject": subject, "body": body }),
        )
    }
}

enum Pending {
    Open(Box<bantay_store::RequestRow>),
    /// Expired while pending: the expiry to record and the refusal to give.
    JustExpired(Vec<bantay_store::NewEvent>, ServiceError),
}

fn actor_person<'a>(actor: &'a Actor, person: &'a str) -> &'a str {
    if actor.is_system() {
        person
    } else {
        actor.id()
    }
}

fn dedup(people: [&String; 2]) -> Vec<&str> {
    let mut out: Vec<&str> = people.iter().map(|p| p.as_str()).collect();
    out.dedup();
    out
}

fn messages(decision: &Decision) -> String {
    decision
        .reasons
        .iter()
        .filter(|r| r.effect == bantay_core::Effect::Denies)
        .map(|r| r.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

pub(crate) fn resource_idx(snapshot: &Snapshot, id: &str) -> Result<ResourceIdx> {
    snapshot
        .resource(id)
        .ok_or_else(|| ServiceError::NotFound { what: "resource", id: id.to_owned() })
}

/// Decides a request for the whole period it asks for: at its start, and at every moment
/// within it when another of the person's grants begins (a grant starting next week may
/// complete OS + database + application then). The first denial decides.
pub(crate) fn decide_over(
    pack: &bantay_core::PolicyPack,
    snapshot: &Snapshot,
    person: PersonIdx,
    resource: ResourceIdx,
    clause: &Clause,
    from: Timestamp,
    until: Timestamp,
) -> Decision {
    let at = |at| {
        decide(pack, snapshot, &AccessRequest { person, resource, clause: clause.clone(), at })
    };
    let first = at(from);
    if first.outcome == Outcome::Deny {
        return first;
    }
    let starts = snapshot
        .grants
        .iter()
        .filter(|g| g.person == person && g.period.from > from && g.period.from < until)
        .map(|g| g.period.from);
    for start in starts {
        let later = at(start);
        if later.outcome == Outcome::Deny {
            return later;
        }
    }
    first
}
