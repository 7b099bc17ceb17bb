//! Datacenter access (4.3, 4.4) and the incidents passes serve (1.1, 1.3.1): the incident
//! register with its SLA clocks, camera status, the guard roster, emergency passes (one a
//! shift, approved by the Deputy Commissioner, under CCTV, with a guard rostered), the
//! signed pass and its printable page, the guard station, and the findings that
//! reconcile the logbook with the passes.

use bantay_core::{
    check_pass_window, shift_at, shifts_between, Datacenter, Effect, Reason, Timestamp,
};
use bantay_store::{NewEvent, PassRow};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::error::{Result, ServiceError};
use crate::requests::{reason_views, ReasonView};
use crate::service::{new_id, parse_time, Actor, Service};
use bantay_ledger::pass::{self as pass_code, CodeCheck, PassClaims};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentForm {
    pub title: String,
    /// P1 (critical) to P4, as the pack's service levels name them.
    pub priority: String,
    /// Who works on it (a person's id).
    pub owner: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentView {
    pub id: String,
    pub title: String,
    pub priority: String,
    pub tier: i32,
    pub owner: String,
    pub status: String,
    pub opened: String,
    pub respond_by: String,
    pub resolve_by: String,
    /// `responded`, `resolved`, or how long until the next clock runs out (`45m`,
    /// `breached`).
    pub clock: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RosterForm {
    pub guard: String,
    pub datacenter: String,
    pub post: String,
    pub from: String,
    pub until: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PassForm {
    /// Who would enter; the requester when omitted.
    #[serde(default)]
    pub person: Option<String>,
    pub datacenter: String,
    /// The open incident the visit serves.
    pub incident: String,
    pub reason: String,
    /// Now when omitted.
    #[serde(default)]
    pub from: Option<String>,
    pub until: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PassView {
    pub id: String,
    /// `requested`, `approved`, `refused` or `revoked`.
    pub status: String,
    pub requester: String,
    pub person: String,
    pub datacenter: String,
    pub incident: String,
    pub reason: String,
    pub from: String,
    pub until: String,
    pub approver: Option<String>,
    /// Why it was refused or revoked, clause by clause.
    pub reasons: Vec<ReasonView>,
    /// The signed code the guard checks (for an approved pass).
    pub code: Option<String>,
}

/// What the guard sees for a code, and what was logged.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GateView {
    /// valid, wrong datacenter, too early, expired, revoked, already inside, not inside,
    /// forged or malformed.
    pub verdict: String,
    pub pass: Option<String>,
    pub person: Option<String>,
    pub name: Option<String>,
    pub from: Option<String>,
    pub until: Option<String>,
    /// `entry`, `exit`, `refused`, or nothing for a check alone.
    pub logged: Option<String>,
    pub visit: Option<String>,
}

/// How long after a window's end a missing exit becomes a finding.
const EXIT_GRACE_SECONDS: i64 = 15 * 60;
/// How far the reconciliation looks back over visits, and around now over the roster.
const LOOK_BACK_SECONDS: i64 = 7 * 86_400;
const ROSTER_AHEAD_SECONDS: i64 = 3 * 86_400;

fn time_text(seconds: i64) -> String {
    Timestamp::from_unix_seconds(seconds).to_string()
}

fn denies(clause: &bantay_core::Clause, message: String) -> Reason {
    Reason { clause: clause.clone(), effect: Effect::Denies, message }
}

impl Service {
    fn datacenter(&self, id: &str) -> Result<&Datacenter> {
        self.pack.catalog.datacenters.iter().find(|d| d.id == id).ok_or_else(|| {
            let known: Vec<&str> =
                self.pack.catalog.datacenters.iter().map(|d| d.id.as_str()).collect();
            ServiceError::bad(
                "datacenter",
                format!("no datacenter `{id}`; datacenters: {}", known.join(", ")),
            )
        })
    }

    // ---- incidents ----

    /// Opens an incident at tier 1 with the SLA clocks of its priority.
    pub async fn open_incident(&self, actor: &Actor, form: &IncidentForm) -> Result<IncidentView> {
        let sla = self.pack.rules.incident_sla(&form.priority).ok_or_else(|| {
            let known: Vec<&str> =
                self.pack.rules.incident_slas.iter().map(|s| s.priority.as_str()).collect();
            ServiceError::bad(
                "priority",
                format!("`{}` is not a priority; priorities: {}", form.priority, known.join(", ")),
            )
        })?;
        if form.title.trim().is_empty() {
            return Err(ServiceError::bad("title", "say what is wrong"));
        }
        if self.store.person(&form.owner).await?.is_none() {
            return Err(ServiceError::bad("owner", format!("no person `{}`", form.owner)));
        }
        let now = self.now().unix_seconds();
        let id = new_id("INC");
        let body = json!({
            "id": id, "title": form.title, "priority": form.priority, "tier": 1, "owner": form.owner,
            "respond_by": now + sla.respond_seconds, "resolve_by": now + sla.resolve_seconds,
        });
        self.record("incident.opened", actor, body).await?;
        self.incident(&id).await
    }

    /// Records the first response to, or the resolution of, an open incident.
    pub async fn incident_step(&self, actor: &Actor, id: &str, step: &str) -> Result<IncidentView> {
        let kind = match step {
            "responded" => "incident.responded",
            "resolved" => "incident.resolved",
            _ => return Err(ServiceError::bad("step", "write responded or resolved")),
        };
        let incident = self.incident(id).await?;
        if incident.status != "open" {
            return Err(ServiceError::Refused(format!("{id} is resolved already")));
        }
        self.record(kind, actor, json!({ "id": id })).await?;
        self.incident(id).await
    }

    pub async fn incident(&self, id: &str) -> Result<IncidentView> {
        let row = self
            .store
            .incident(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound { what: "incident", id: id.to_owned() })?;
        Ok(self.incident_view(row))
    }

    /// Open incidents, the first to breach first: the helpdesk's board.
    pub async fn open_incidents(&self) -> Result<Vec<IncidentView>> {
        Ok(self.store.open_incidents().await?.into_iter().map(|r| self.incident_view(r)).collect())
    }

    fn incident_view(&self, r: bantay_store::IncidentRow) -> IncidentView {
        let now = self.now().unix_seconds();
        let next =
            if r.responded.is_none() { r.respond_by.min(r.resolve_by) } else { r.resolve_by };
        let clock = match (r.status.as_str(), r.responded) {
            ("resolved", _) => "resolved".to_owned(),
            _ if next <= now => "breached".to_owned(),
            _ => {
                let left = next - now;
                let what = if r.responded.is_none() { "to respond" } else { "to resolve" };
                if left >= 3600 {
                    format!("{}h{:02}m {what}", left / 3600, left / 60 % 60)
                } else {
                    format!("{}m {what}", (left + 59) / 60)
                }
            }
        };
        IncidentView {
            opened: time_text(r.opened),
            respond_by: time_text(r.respond_by),
            resolve_by: time_text(r.resolve_by),
            id: r.id,
            title: r.title,
            priority: r.priority,
            tier: r.tier,
            owner: r.owner,
            status: r.status,
            clock,
        }
    }

    /// The escalations due at `now`: a tier-1 incident whose response or resolution clock
    /// ran out goes to tier 2.
    pub(crate) async fn escalations(
        &self,
        actor: &Actor,
        now: i64,
    ) -> Result<(Vec<NewEvent>, Vec<String>)> {
        let (mut events, mut ids) = (Vec::new(), Vec::new());
        for i in self.store.open_incidents().await? {
            let unanswered = i.responded.is_none() && i.respond_by <= now;
            if i.tier != 1 || !(unanswered || i.resolve_by <= now) {
                continue;
            }
            let reason = if unanswered {
                format!(
                    "no response by {} (the {} response time)",
                    time_text(i.respond_by),
                    i.priority
                )
            } else {
                format!(
                    "not resolved by {} (the {} resolution time)",
                    time_text(i.resolve_by),
                    i.priority
                )
            };
            events.push(self.event(
                "incident.escalated",
                actor,
                json!({ "id": i.id, "reason": reason }),
            ));
            events.push(self.notification(
                &i.owner,
                &format!("{} escalated to tier 2", i.id),
                &format!("{}: {reason}. It is now with tier 2.", i.title),
            ));
            ids.push(i.id);
        }
        Ok((events, ids))
    }

    // ---- cameras and the roster ----

    /// Records a camera's status (the CCTV 4.3 requires).
    pub async fn camera_status(
        &self,
        actor: &Actor,
        datacenter: &str,
        camera: &str,
        operational: bool,
        note: &str,
    ) -> Result<()> {
        let dc = self.datacenter(datacenter)?;
        if !dc.cameras.iter().any(|c| c == camera) {
            return Err(ServiceError::bad(
                "camera",
                format!(
                    "{datacenter} has no camera `{camera}`; cameras: {}",
                    dc.cameras.join(", ")
                ),
            ));
        }
        let body = json!({ "datacenter": datacenter, "camera": camera, "operational": operational, "note": note });
        self.record("camera.status", actor, body).await?;
        Ok(())
    }

    /// Puts a guard on the roster of a datacenter's post for a period (4.4).
    pub async fn roster_guard(&self, actor: &Actor, form: &RosterForm) -> Result<String> {
        let dc = self.datacenter(&form.datacenter)?;
        if !dc.guard_posts.iter().any(|p| p == &form.post) {
            return Err(ServiceError::bad(
                "post",
                format!(
                    "{} has no post `{}`; posts: {}",
                    dc.id,
                    form.post,
                    dc.guard_posts.join(", ")
                ),
            ));
        }
        if self.store.person(&form.guard).await?.is_none() {
            return Err(ServiceError::bad(
                "guard",
                format!("no person `{}`; record the guard first", form.guard),
            ));
        }
        let from = parse_time("from", &form.from)?;
        let until = parse_time("until", &form.until)?;
        if until <= from {
            return Err(ServiceError::bad("until", format!("{until} is not after {from}")));
        }
        let id = new_id("GR");
        let body = json!({
            "id": id, "guard": form.guard, "datacenter": dc.id, "post": form.post,
            "valid_from": from.unix_seconds(), "valid_until": until.unix_seconds(),
        });
        self.record("guard.rostered", actor, body).await?;
        Ok(id)
    }

    /// The stretches of `[from, until)` no guard is rostered for at a datacenter.
    async fn unguarded(&self, datacenter: &str, from: i64, until: i64) -> Result<Vec<(i64, i64)>> {
        let mut gaps = Vec::new();
        let mut covered_to = from;
        for r in self.store.roster(datacenter, from, until).await? {
            if r.valid_from > covered_to {
                gaps.push((covered_to, r.valid_from.min(until)));
            }
            covered_to = covered_to.max(r.valid_until);
            if covered_to >= until {
                break;
            }
        }
        if covered_to < until {
            gaps.push((covered_to, until));
        }
        Ok(gaps)
    }

    // ---- passes ----

    /// Everything that refuses a pass for this window now, each citing its clause; with
    /// the slot the pass would take in each shift its window touches.
    async fn pass_problems(&self, p: &PassRow) -> Result<(Vec<Reason>, Vec<(i64, i64)>)> {
        let rules = &self.pack.rules.datacenter;
        let guard_clause =
            bantay_core::Clause::parse("4.4").unwrap_or_else(|| rules.clause.clone());
        let mut reasons = Vec::new();
        if rules.incident_required {
            match self.store.incident(&p.incident).await? {
                None => reasons.push(denies(
                    &rules.clause,
                    format!(
                        "an emergency visit serves an incident; there is no incident `{}`",
                        p.incident
                    ),
                )),
                Some(i) if i.status != "open" => reasons.push(denies(
                    &rules.clause,
                    format!("{} is resolved; an emergency visit serves an open incident", i.id),
                )),
                Some(i) if !rules.incident_priorities.contains(&i.priority) => {
                    reasons.push(denies(
                        &rules.clause,
                        format!(
                            "{} is {}; only {} incidents are emergencies that open the datacenter",
                            i.id,
                            i.priority,
                            rules.incident_priorities.join(" or ")
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        let mut slots = Vec::new();
        let (from, until) = (
            Timestamp::from_unix_seconds(p.valid_from),
            Timestamp::from_unix_seconds(p.valid_until),
        );
        for shift in shifts_between(&self.pack.catalog.shifts, from, until) {
            let start = shift.start.unix_seconds();
            let taken = self.store.taken_slots(&p.datacenter, start).await?;
            match (0..i64::from(rules.passes_per_shift)).find(|s| !taken.contains(s)) {
                Some(slot) => slots.push((start, slot)),
                None => {
                    let holders: Vec<String> = self
                        .store
                        .passes(&p.datacenter, "approved", start, shift.end.unix_seconds())
                        .await?
                        .into_iter()
                        .map(|h| format!("{} ({})", h.id, h.person))
                        .collect();
                    reasons.push(denies(
                        &rules.clause,
                        format!(
                            "{} admits {} person a shift and the shift from {} to {} is taken by {}",
                            p.datacenter, rules.passes_per_shift, shift.start, shift.end, holders.join(", ")
                        ),
                    ));
                }
            }
        }
        if rules.cctv_required {
            let down: Vec<String> = self
                .store
                .cameras(&p.datacenter)
                .await?
                .into_iter()
                .filter(|c| c.operational == 0)
                .map(|c| format!("{} ({})", c.camera, c.note))
                .collect();
            if !down.is_empty() {
                reasons.push(denies(
                    &rules.clause,
                    format!(
                        "CCTV at {} is not operational: {} down; no visit until it is restored",
                        p.datacenter,
                        down.join(", ")
                    ),
                ));
            }
        }
        for (gap_from, gap_until) in
            self.unguarded(&p.datacenter, p.valid_from, p.valid_until).await?
        {
            reasons.push(denies(
                &guard_clause,
                format!("no guard is rostered at {} from {} to {}; every entry needs a guard to vet and log it", p.datacenter, time_text(gap_from), time_text(gap_until)),
            ));
        }
        Ok((reasons, slots))
    }

    /// Requests an emergency pass. Bad input is an error and writes nothing; a pass the
    /// order refuses now is recorded as refused with its clauses.
    pub async fn request_pass(&self, actor: &Actor, form: &PassForm) -> Result<PassView> {
        let now = self.now();
        let person = form.person.as_deref().unwrap_or(actor.id());
        if self.store.person(person).await?.is_none() {
            return Err(ServiceError::bad("person", format!("no person `{person}`")));
        }
        let dc = self.datacenter(&form.datacenter)?.id.clone();
        if form.reason.trim().is_empty() {
            return Err(ServiceError::bad("reason", "say what must be done inside"));
        }
        let from = match &form.from {
            Some(text) => parse_time("from", text)?,
            None => now,
        };
        let until = parse_time("until", &form.until)?;
        check_pass_window(&self.pack.rules.datacenter, from, until, now)
            .map_err(|e| ServiceError::bad(e.field, e.message))?;
        let id = new_id("PASS");
        let requester = if actor.is_system() { person.to_owned() } else { actor.id().to_owned() };
        self.decided(|_| async {
            let row = PassRow {
                id: id.clone(),
                requester: requester.clone(),
                person: person.to_owned(),
                datacenter: dc.clone(),
                incident: form.incident.clone(),
                reason: form.reason.clone(),
                valid_from: from.unix_seconds(),
                valid_until: until.unix_seconds(),
                status: "requested".into(),
                approver: None,
                reasons: String::new(),
                token: None,
                submitted: now.unix_seconds(),
                seq: 0,
            };
            let (reasons, _) = self.pass_problems(&row).await?;
            let outcome = if reasons.is_empty() { "requested" } else { "refused" };
            let mut events = vec![self.event(
                "pass.requested",
                actor,
                json!({
                    "id": id, "requester": requester, "person": person, "datacenter": dc,
                    "incident": form.incident, "reason": form.reason, "valid_from": from.unix_seconds(),
                    "valid_until": until.unix_seconds(), "outcome": outcome, "reasons": reasons,
                }),
            )];
            if reasons.is_empty() {
                for approver in self.pass_approvers(&[&requester, person]).await? {
                    events.push(self.notification(
                        &approver,
                        &format!("Emergency pass {id}: {person} into {dc}, {from} to {until}"),
                        &format!("For incident {}: {}. Approve with `bantay pass approve {id}`.", form.incident, form.reason),
                    ));
                }
            }
            Ok((events, ()))
        })
        .await?;
        self.pass(&id).await
    }

    /// Who approves passes (the heads of the pack's approver unit), leaving out `excluded`.
    async fn pass_approvers(&self, excluded: &[&str]) -> Result<Vec<String>> {
        let unit = &self.pack.rules.datacenter.approver_unit;
        let heads = self.store.heads(unit, self.now().unix_seconds()).await?;
        Ok(heads.into_iter().filter(|h| !excluded.contains(&h.as_str())).collect())
    }

    /// The Deputy Commissioner's written approval: checked again (one a shift, CCTV, a
    /// guard, the incident) and signed. The database holds the shift's slot, so two
    /// approvals racing for one shift cannot both succeed.
    pub async fn approve_pass(&self, actor: &Actor, id: &str) -> Result<PassView> {
        let now = self.now().unix_seconds();
        let (answer, _) = self
            .decided(|_| async {
                let p = self.store.pass(id).await?.ok_or_else(|| ServiceError::NotFound { what: "pass", id: id.to_owned() })?;
                if p.status != "requested" {
                    return Ok((Vec::new(), Err(ServiceError::Refused(format!("{id} is {}; only a requested pass is approved", p.status)))));
                }
                if actor.id() == p.person || actor.id() == p.requester {
                    return Ok((Vec::new(), Err(ServiceError::Refused(format!(
                        "nobody approves their own pass: {} {} (4.3 asks for the written approval of another, the Deputy Commissioner)",
                        actor.id(), if actor.id() == p.person { "would enter" } else { "asked for it" })))));
                }
                let unit = &self.pack.rules.datacenter.approver_unit;
                if !self.store.heads(unit, now).await?.iter().any(|h| h == actor.id()) {
                    return Ok((Vec::new(), Err(ServiceError::Forbidden(format!(
                        "{} may not approve passes: {} requires the written approval of the head of {unit}",
                        actor.id(), self.pack.rules.datacenter.clause
                    )))));
                }
                if p.valid_until <= now {
                    let reasons = vec![denies(&self.pack.rules.datacenter.clause, format!("the window ended at {}", time_text(p.valid_until)))];
                    return Ok((vec![self.event("pass.refused", actor, json!({ "id": id, "reasons": reasons }))], Ok(())));
                }
                let (reasons, slots) = self.pass_problems(&p).await?;
                if !reasons.is_empty() {
                    let events = vec![
                        self.event("pass.refused", actor, json!({ "id": id, "reasons": reasons })),
                        self.notification(&p.requester, &format!("Pass {id} refused"), &reasons.iter().map(|r| r.message.as_str()).collect::<Vec<_>>().join("; ")),
                    ];
                    return Ok((events, Ok(())));
                }
                let claims = PassClaims { pass: p.id.clone(), person: p.person.clone(), datacenter: p.datacenter.clone(), from: p.valid_from, until: p.valid_until };
                let payload = pass_code::payload(&claims);
                let (signature, _) = self.store.sign(&pass_code::signed_message(&payload)).await?;
                let code = pass_code::encode(&payload, &signature);
                let events = vec![
                    self.event(
                        "pass.approved",
                        actor,
                        json!({
                            "id": id, "approver": actor.id(), "token": code,
                            "shifts": slots.iter().map(|s| s.0).collect::<Vec<_>>(),
                            "slots": slots.iter().map(|s| s.1).collect::<Vec<_>>(),
                        }),
                    ),
                    self.notification(&p.person, &format!("Pass {id} approved"), &format!("Enter {} between {} and {}; show the pass to the guard.", p.datacenter, time_text(p.valid_from), time_text(p.valid_until))),
                ];
                Ok((events, Ok(())))
            })
            .await?;
        answer?;
        self.pass(id).await
    }

    /// Revokes an approved pass (the approver's authority); its shifts are free again.
    pub async fn revoke_pass(&self, actor: &Actor, id: &str, reason: &str) -> Result<PassView> {
        let unit = &self.pack.rules.datacenter.approver_unit;
        if !actor.is_system()
            && !self
                .store
                .heads(unit, self.now().unix_seconds())
                .await?
                .iter()
                .any(|h| h == actor.id())
        {
            return Err(ServiceError::Forbidden(format!("only the head of {unit} revokes passes")));
        }
        let p = self
            .store
            .pass(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound { what: "pass", id: id.to_owned() })?;
        if p.status != "approved" {
            return Err(ServiceError::Refused(format!(
                "{id} is {}; only an approved pass is revoked",
                p.status
            )));
        }
        let reasons = vec![denies(
            &self.pack.rules.datacenter.clause,
            format!("revoked by {}: {reason}", actor.id()),
        )];
        self.record("pass.revoked", actor, json!({ "id": id, "reasons": reasons })).await?;
        self.pass(id).await
    }

    pub async fn pass(&self, id: &str) -> Result<PassView> {
        let p = self
            .store
            .pass(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound { what: "pass", id: id.to_owned() })?;
        let reasons = reason_views(&p.reasons);
        Ok(PassView {
            from: time_text(p.valid_from),
            until: time_text(p.valid_until),
            code: p.token.filter(|_| p.status == "approved"),
            id: p.id,
            status: p.status,
            requester: p.requester,
            person: p.person,
            datacenter: p.datacenter,
            incident: p.incident,
            reason: p.reason,
            approver: p.approver,
            reasons,
        })
    }

    /// A pass for someone it concerns: its holder, its requester, or someone who may see
    /// the datacenter board. Its code opens the door, so nobody else reads it.
    pub async fn pass_seen_by(
        &self,
        person: &str,
        roles: &std::collections::BTreeSet<bantay_core::Role>,
        id: &str,
    ) -> Result<PassView> {
        let pass = self.pass(id).await?;
        let concerned = pass.person == person || pass.requester == person;
        if !concerned && !crate::signin::permits(roles, bantay_core::Action::ViewDatacenter) {
            return Err(ServiceError::Forbidden(format!(
                "{person} may not see {id}: it is neither theirs nor for the datacenter board"
            )));
        }
        Ok(pass)
    }

    /// The printable pass: a self-contained page with the QR code of the signed code.
    pub async fn print_pass(&self, id: &str) -> Result<String> {
        let pass = self.pass(id).await?;
        let Some(code) = &pass.code else {
            return Err(ServiceError::Refused(format!(
                "{id} is {}; only an approved pass is printed",
                pass.status
            )));
        };
        let name = self.store.person(&pass.person).await?.map(|p| p.name).unwrap_or_default();
        let qr = qrcode::QrCode::new(code.as_bytes())
            .map_err(|e| {
                ServiceError::Refused(format!("the pass code does not fit a QR code: {e}"))
            })?
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(280, 280)
            .build();
        let e = html_escape;
        Ok(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Emergency pass {id}</title>\
             <style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}}dt{{font-weight:bold}}code{{word-break:break-all;font-size:.7em}}</style></head>\
             <body><h1>Emergency datacenter pass</h1><p>CMO 04-2019, 4.3: one person a shift, with the written approval of the Deputy Commissioner for MISTG.</p>\
             <dl><dt>Pass</dt><dd>{}</dd><dt>Person</dt><dd>{} ({})</dd><dt>Datacenter</dt><dd>{}</dd><dt>Valid</dt><dd>{} to {}</dd>\
             <dt>Incident</dt><dd>{}</dd><dt>Approved by</dt><dd>{}</dd></dl>{qr}<p><code>{}</code></p>\
             <p>The guard scans the code, or types it; it is signed with the ledger's key and checks offline with <code>bantay pass verify</code>.</p></body></html>",
            e(&pass.id), e(&name), e(&pass.person), e(&pass.datacenter), e(&pass.from), e(&pass.until),
            e(&pass.incident), e(pass.approver.as_deref().unwrap_or("")), e(code)
        ))
    }

    // ---- the guard station ----

    /// Whether `guard` is rostered at the datacenter now (4.4: only they vet and log).
    async fn on_duty(&self, guard: &Actor, datacenter: &str, now: i64) -> Result<()> {
        let roster = self.store.roster(datacenter, now, now + 1).await?;
        if roster.iter().any(|r| r.guard == guard.id()) {
            return Ok(());
        }
        Err(ServiceError::Forbidden(format!(
            "{} is not on the guard roster at {datacenter} now (4.4)",
            guard.id()
        )))
    }

    /// Vets a code: offline checks (signature, window) and what only Bantay knows
    /// (revoked, wrong datacenter, already inside).
    async fn vet(&self, datacenter: &str, code: &str, now: i64) -> Result<(CodeCheck, GateView)> {
        let keys = self.store.signing_keys().await?;
        let check = pass_code::check(code, &keys, now);
        let claims = match &check {
            CodeCheck::Valid(c) | CodeCheck::TooEarly(c) | CodeCheck::Expired(c) => Some(c.clone()),
            _ => None,
        };
        let mut verdict = check.verdict().to_owned();
        if let (Some(c), "valid") = (&claims, verdict.as_str()) {
            let pass = self.store.pass(&c.pass).await?;
            let open = self
                .store
                .visits(datacenter, now, now)
                .await?
                .into_iter()
                .any(|v| v.exited.is_none() && v.pass.as_deref() == Some(c.pass.as_str()));
            verdict = if c.datacenter != datacenter {
                "wrong datacenter".into()
            } else if pass.as_ref().is_none_or(|p| p.status != "approved") {
                "revoked".into()
            } else if open {
                "already inside".into()
            } else {
                verdict
            };
        }
        let name = match &claims {
            Some(c) => self.store.person(&c.person).await?.map(|p| p.name),
            None => None,
        };
        let view = GateView {
            verdict,
            pass: claims.as_ref().map(|c| c.pass.clone()),
            person: claims.as_ref().map(|c| c.person.clone()),
            name,
            from: claims.as_ref().map(|c| time_text(c.from)),
            until: claims.as_ref().map(|c| time_text(c.until)),
            logged: None,
            visit: None,
        };
        Ok((check, view))
    }

    /// The guard checks a code without logging anything.
    pub async fn gate_check(
        &self,
        guard: &Actor,
        datacenter: &str,
        code: &str,
    ) -> Result<GateView> {
        let now = self.now().unix_seconds();
        self.datacenter(datacenter)?;
        self.on_duty(guard, datacenter, now).await?;
        Ok(self.vet(datacenter, code, now).await?.1)
    }

    /// The guard admits the holder of a valid pass and logs the entry; anything else is
    /// logged as a refused attempt. A code that is not a pass code is an error, and only
    /// the refusal is logged.
    pub async fn gate_enter(
        &self,
        guard: &Actor,
        datacenter: &str,
        code: &str,
    ) -> Result<GateView> {
        let now = self.now().unix_seconds();
        self.datacenter(datacenter)?;
        self.on_duty(guard, datacenter, now).await?;
        let (answer, _) = self
            .decided(|_| async {
                let (check, mut view) = self.vet(datacenter, code, now).await?;
                if view.verdict == "valid" {
                    let visit = new_id("V");
                    view.logged = Some("entry".into());
                    view.visit = Some(visit.clone());
                    let body = json!({ "id": visit, "pass": view.pass, "person": view.person, "datacenter": datacenter, "guard": guard.id(), "verdict": "valid" });
                    return Ok((vec![self.event("guard.entry", guard, body)], Ok(view)));
                }
                view.logged = Some("refused".into());
                let unchecked = pass_code::claims_unchecked(code);
                let body = json!({
                    "datacenter": datacenter, "guard": guard.id(), "verdict": view.verdict,
                    "pass": view.pass.clone().or(unchecked.as_ref().map(|c| c.pass.clone())),
                    "person": view.person.clone().or(unchecked.map(|c| c.person)),
                });
                let events = vec![self.event("guard.refused", guard, body)];
                match check {
                    CodeCheck::Malformed(why) => Ok((events, Err(ServiceError::bad("code", format!("not a pass code: {why}; scan it again or type it as printed"))))),
                    _ => Ok((events, Ok(view))),
                }
            })
            .await?;
        answer
    }

    /// The guard logs the exit of the person a code names.
    pub async fn gate_exit(&self, guard: &Actor, datacenter: &str, code: &str) -> Result<GateView> {
        let now = self.now().unix_seconds();
        self.datacenter(datacenter)?;
        self.on_duty(guard, datacenter, now).await?;
        let (answer, _) = self
            .decided(|_| async {
                let (_, mut view) = self.vet(datacenter, code, now).await?;
                let Some(pass) = view.pass.clone() else {
                    return Err(ServiceError::bad(
                        "code",
                        format!("not a genuine pass code ({})", view.verdict),
                    ));
                };
                let open = self
                    .store
                    .visits(datacenter, now, now)
                    .await?
                    .into_iter()
                    .find(|v| v.exited.is_none() && v.pass.as_deref() == Some(pass.as_str()));
                let Some(visit) = open else {
                    view.verdict = "not inside".into();
                    return Ok((Vec::new(), Ok(view)));
                };
                view.verdict = "exit".into();
                view.logged = Some("exit".into());
                view.visit = Some(visit.id.clone());
                Ok((
                    vec![self.event(
                        "guard.exit",
                        guard,
                        json!({ "visit": visit.id, "guard": guard.id() }),
                    )],
                    Ok(view),
                ))
            })
            .await?;
        answer
    }

    /// The guard logs someone who went in without a valid pass (forced, or let in under
    /// pressure): the entry is recorded, and the reconciliation makes it a finding.
    pub async fn gate_enter_without_pass(
        &self,
        guard: &Actor,
        datacenter: &str,
        person: &str,
        note: &str,
    ) -> Result<GateView> {
        let now = self.now().unix_seconds();
        self.datacenter(datacenter)?;
        self.on_duty(guard, datacenter, now).await?;
        if note.trim().is_empty() {
            return Err(ServiceError::bad("note", "say why they went in without a pass"));
        }
        let visit = new_id("V");
        let verdict = format!("no pass: {note}");
        let body = json!({ "id": visit, "person": person, "datacenter": datacenter, "guard": guard.id(), "verdict": verdict });
        self.record("guard.entry", guard, body).await?;
        Ok(GateView {
            verdict,
            pass: None,
            person: Some(person.to_owned()),
            name: None,
            from: None,
            until: None,
            logged: Some("entry".into()),
            visit: Some(visit),
        })
    }

    // ---- reconciliation ----

    /// Findings from the logbook, the passes, the cameras and the roster at `now`: entry
    /// without a valid pass, no exit by the window's end, overstay, more people in a shift
    /// than the order allows, entry while CCTV was down, a shift with no guard rostered.
    /// Each is opened once (its id names what it is about).
    pub(crate) async fn datacenter_findings(
        &self,
        actor: &Actor,
        now: i64,
    ) -> Result<(Vec<NewEvent>, Vec<String>)> {
        let rules = &self.pack.rules.datacenter;
        let c43 = rules.clause.as_str().to_owned();
        let mut found: Vec<(String, String, String, String, String)> = Vec::new();
        for dc in &self.pack.catalog.datacenters {
            let visits = self.store.visits(&dc.id, now - LOOK_BACK_SECONDS, now + 1).await?;
            let mut per_shift: std::collections::BTreeMap<i64, std::collections::BTreeSet<String>> =
                Default::default();
            for v in &visits {
                let pass = match &v.pass {
                    Some(id) => self.store.pass(id).await?,
                    None => None,
                };
                let valid = pass.as_ref().is_some_and(|p| {
                    p.status == "approved" && p.valid_from <= v.entered && v.entered < p.valid_until
                });
                if !valid {
                    found.push((
                        format!("F-dc-nopass-{}", v.id),
                        c43.clone(),
                        v.person.clone(),
                        format!(
                            "{} entered {} at {} without a valid pass",
                            v.person,
                            dc.id,
                            time_text(v.entered)
                        ),
                        format!(
                            "logbook visit {} (guard {}): pass {}",
                            v.id,
                            v.guard,
                            v.pass.as_deref().unwrap_or("none")
                        ),
                    ));
                }
                if let Some(p) = &pass {
                    match v.exited {
                        None if now > p.valid_until + EXIT_GRACE_SECONDS => found.push((
                            format!("F-dc-noexit-{}", v.id),
                            c43.clone(),
                            v.person.clone(),
                            format!(
                                "no exit of {} from {} logged by the end of pass {} ({})",
                                v.person,
                                dc.id,
                                p.id,
                                time_text(p.valid_until)
                            ),
                            format!(
                                "logbook visit {}: entered {}, no exit",
                                v.id,
                                time_text(v.entered)
                            ),
                        )),
                        Some(exited) if exited > p.valid_until => found.push((
                            format!("F-dc-overstay-{}", v.id),
                            c43.clone(),
                            v.person.clone(),
                            format!(
                                "{} stayed in {} {} minutes past pass {}",
                                v.person,
                                dc.id,
                                (exited - p.valid_until + 59) / 60,
                                p.id
                            ),
                            format!(
                                "logbook visit {}: exit {} after the window's end {}",
                                v.id,
                                time_text(exited),
                                time_text(p.valid_until)
                            ),
                        )),
                        _ => {}
                    }
                }
                let shift =
                    shift_at(&self.pack.catalog.shifts, Timestamp::from_unix_seconds(v.entered));
                per_shift.entry(shift.start.unix_seconds()).or_default().insert(v.person.clone());
                for outage in self.store.outages(&dc.id, v.entered, v.entered + 1).await? {
                    found.push((
                        format!("F-dc-cctv-{}-{}", v.id, outage.camera),
                        c43.clone(),
                        v.person.clone(),
                        format!(
                            "{} entered {} at {} while camera {} was down",
                            v.person,
                            dc.id,
                            time_text(v.entered),
                            outage.camera
                        ),
                        format!(
                            "camera {} down from {}; logbook visit {}",
                            outage.camera,
                            time_text(outage.down_from),
                            v.id
                        ),
                    ));
                }
            }
            for (start, people) in per_shift {
                if people.len() > rules.passes_per_shift as usize {
                    let people: Vec<String> = people.into_iter().collect();
                    found.push((
                        format!("F-dc-crowd-{}-{start}", dc.id),
                        c43.clone(),
                        dc.id.clone(),
                        format!(
                            "{} people entered {} in the shift from {}; the order allows {}",
                            people.len(),
                            dc.id,
                            time_text(start),
                            rules.passes_per_shift
                        ),
                        format!("entered: {}", people.join(", ")),
                    ));
                }
            }
            let window = shifts_between(
                &self.pack.catalog.shifts,
                Timestamp::from_unix_seconds(now - 86_400),
                Timestamp::from_unix_seconds(now + ROSTER_AHEAD_SECONDS),
            );
            for shift in window {
                let (s, e) = (shift.start.unix_seconds(), shift.end.unix_seconds());
                let gaps = self.unguarded(&dc.id, s, e).await?;
                if let Some((gap_from, gap_until)) = gaps.first() {
                    found.push((
                        format!("F-dc-noguard-{}-{s}", dc.id),
                        "4.4".into(),
                        dc.id.clone(),
                        format!(
                            "no guard is rostered at {} for the shift from {}",
                            dc.id,
                            time_text(s)
                        ),
                        format!(
                            "roster gap from {} to {}",
                            time_text(*gap_from),
                            time_text(*gap_until)
                        ),
                    ));
                }
            }
        }
        let mut events = Vec::new();
        let mut opened = Vec::new();
        for (id, clause, subject, summary, evidence) in found {
            if opened.contains(&id) || self.store.finding_status(&id).await?.is_some() {
                continue;
            }
            events.push(self.event("finding.opened", actor, json!({ "id": id, "clause": clause, "subject": subject, "summary": summary, "evidence": evidence })));
            opened.push(id);
        }
        Ok((events, opened))
    }

    /// The guard's logbook at a datacenter, newest first.
    pub async fn logbook(
        &self,
        datacenter: &str,
        limit: i64,
    ) -> Result<Vec<bantay_store::GuardLogRow>> {
        self.datacenter(datacenter)?;
        Ok(self.store.guard_log(datacenter, limit).await?)
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
