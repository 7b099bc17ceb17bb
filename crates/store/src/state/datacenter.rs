//! Datacenter events and their changes to the state tables: incidents and their clocks,
//! camera status, the guard roster, emergency passes with the shift slots they hold, and
//! the guard's logbook. As elsewhere in `state`, this checks that an event fits the state
//! (a slot is free, a visit is open); the service decides whether it should happen.

use serde::Deserialize;
use serde_json::Value;

use super::{body, exists, refused, touched};
use crate::database::{dispatch_tx, Tx};
use crate::error::{Doing, Result};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DatacenterChange {
    IncidentOpened(IncidentOpened),
    IncidentStep { step: &'static str, id: String },
    CameraStatus(CameraStatus),
    GuardRostered(GuardRostered),
    PassRequested(PassRequested),
    PassApproved(PassApproved),
    PassClosed { status: &'static str, id: String, reasons: Value },
    Entry(Entry),
    Exit(Exit),
    Refused(Refusal),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IncidentOpened {
    id: String,
    title: String,
    priority: String,
    tier: i64,
    owner: String,
    respond_by: i64,
    resolve_by: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct IncidentStepBody {
    id: String,
    #[serde(default)]
    #[allow(dead_code)] // kept in the event for the record; the row needs only the step
    reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CameraStatus {
    datacenter: String,
    camera: String,
    operational: bool,
    note: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GuardRostered {
    id: String,
    guard: String,
    datacenter: String,
    post: String,
    valid_from: i64,
    valid_until: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PassRequested {
    id: String,
    requester: String,
    person: String,
    datacenter: String,
    incident: String,
    reason: String,
    valid_from: i64,
    valid_until: i64,
    /// `requested`, or `refused` when the checks at request time refused it.
    outcome: String,
    reasons: Value,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PassApproved {
    id: String,
    approver: String,
    /// The signed pass code the guard checks.
    token: String,
    /// The starts of the shifts the window touches, and the slot taken in each.
    shifts: Vec<i64>,
    slots: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct PassClosedBody {
    id: String,
    reasons: Value,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Entry {
    /// The visit this entry starts.
    id: String,
    #[serde(default)]
    pass: Option<String>,
    person: String,
    datacenter: String,
    guard: String,
    verdict: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Exit {
    visit: String,
    guard: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Refusal {
    datacenter: String,
    guard: String,
    #[serde(default)]
    pass: Option<String>,
    #[serde(default)]
    person: Option<String>,
    verdict: String,
}

impl DatacenterChange {
    pub(crate) fn parse(kind: &str, value: &Value) -> Result<Option<Self>> {
        let step = |step: &'static str| -> Result<Self> {
            let b: IncidentStepBody = body(kind, value)?;
            Ok(DatacenterChange::IncidentStep { step, id: b.id })
        };
        let closed = |status: &'static str| -> Result<Self> {
            let b: PassClosedBody = body(kind, value)?;
            Ok(DatacenterChange::PassClosed { status, id: b.id, reasons: b.reasons })
        };
        Ok(Some(match kind {
            "incident.opened" => DatacenterChange::IncidentOpened(body(kind, value)?),
            "incident.responded" => step("responded")?,
            "incident.escalated" => step("escalated")?,
            "incident.resolved" => step("resolved")?,
            "camera.status" => DatacenterChange::CameraStatus(body(kind, value)?),
            "guard.rostered" => {
                let b: GuardRostered = body(kind, value)?;
                if b.valid_until <= b.valid_from {
                    return Err(refused(kind, "body.valid_until: must be after valid_from".into()));
                }
                DatacenterChange::GuardRostered(b)
            }
            "pass.requested" => {
                let b: PassRequested = body(kind, value)?;
                if !["requested", "refused"].contains(&b.outcome.as_str()) {
                    return Err(refused(kind, "body.outcome: requested or refused".into()));
                }
                DatacenterChange::PassRequested(b)
            }
            "pass.approved" => {
                let b: PassApproved = body(kind, value)?;
                if b.shifts.len() != b.slots.len() || b.shifts.is_empty() {
                    return Err(refused(kind, "body.slots: one slot for each shift".into()));
                }
                DatacenterChange::PassApproved(b)
            }
            "pass.refused" => closed("refused")?,
            "pass.revoked" => closed("revoked")?,
            "guard.entry" => DatacenterChange::Entry(body(kind, value)?),
            "guard.exit" => DatacenterChange::Exit(body(kind, value)?),
            "guard.refused" => DatacenterChange::Refused(body(kind, value)?),
            _ => return Ok(None),
        }))
    }
}

pub(crate) async fn apply(
    tx: &mut Tx,
    seq: i64,
    time: i64,
    change: &DatacenterChange,
) -> Result<()> {
    match change {
        DatacenterChange::IncidentOpened(i) => {
            let n = execute!(tx, "opening an incident",
                "INSERT INTO incidents (id, title, priority, tier, owner, status, opened, respond_by, resolve_by, seq) \
                 VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
                &i.id, &i.title, &i.priority, i.tier, &i.owner, time, i.respond_by, i.resolve_by, seq)?;
            touched("incident.opened", n, || {
                format!("body.id: incident `{}` exists already", i.id)
            })?;
        }
        DatacenterChange::IncidentStep { step, id } => {
            let n = match *step {
                "responded" => execute!(tx, "recording a response",
                    "UPDATE incidents SET responded = $1, seq = $2 WHERE id = $3 AND status = 'open' AND responded IS NULL",
                    time, seq, id)?,
                "escalated" => execute!(tx, "escalating an incident",
                    "UPDATE incidents SET tier = 2, seq = $1 WHERE id = $2 AND status = 'open' AND tier = 1",
                    seq, id)?,
                _ => execute!(tx, "resolving an incident",
                    "UPDATE incidents SET status = 'resolved', resolved = $1, \
                     responded = COALESCE(responded, $1), seq = $2 WHERE id = $3 AND status = 'open'",
                    time, seq, id)?,
            };
            touched(&format!("incident.{step}"), n, || {
                format!("body.id: incident `{id}` is not open (or was {step} already)")
            })?;
        }
        DatacenterChange::CameraStatus(c) => {
            let operational = i32::from(c.operational);
            execute!(tx, "recording a camera's status",
                "INSERT INTO cameras (datacenter, camera, operational, since, note, seq) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (datacenter, camera) DO UPDATE SET operational = excluded.operational, \
                 since = CASE WHEN cameras.operational = excluded.operational THEN cameras.since ELSE excluded.since END, \
                 note = excluded.note, seq = excluded.seq",
                &c.datacenter, &c.camera, operational, time, &c.note, seq)?;
            if c.operational {
                execute!(
                    tx,
                    "ending a camera outage",
                    "UPDATE camera_outages SET down_until = $1, seq = $2 \
                     WHERE datacenter = $3 AND camera = $4 AND down_until IS NULL",
                    time,
                    seq,
                    &c.datacenter,
                    &c.camera
                )?;
            } else {
                execute!(
                    tx,
                    "recording a camera outage",
                    "INSERT INTO camera_outages (datacenter, camera, down_from, seq) \
                     SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM camera_outages \
                     WHERE datacenter = $1 AND camera = $2 AND down_until IS NULL) \
                     ON CONFLICT DO NOTHING",
                    &c.datacenter,
                    &c.camera,
                    time,
                    seq
                )?;
            }
        }
        DatacenterChange::GuardRostered(r) => {
            if !exists(tx, "personnel", &r.guard).await? {
                return Err(refused(
                    "guard.rostered",
                    format!("body.guard: no person `{}`", r.guard),
                ));
            }
            let n =
                execute!(tx, "rostering a guard",
                "INSERT INTO roster (id, guard, datacenter, post, valid_from, valid_until, seq) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
                &r.id, &r.guard, &r.datacenter, &r.post, r.valid_from, r.valid_until, seq)?;
            touched("guard.rostered", n, || {
                format!("body.id: roster entry `{}` exists already", r.id)
            })?;
        }
        DatacenterChange::PassRequested(p) => {
            for (field, person) in [("requester", &p.requester), ("person", &p.person)] {
                if !exists(tx, "personnel", person).await? {
                    return Err(refused(
                        "pass.requested",
                        format!("body.{field}: no person `{person}`"),
                    ));
                }
            }
            let n = execute!(tx, "recording a pass request",
                "INSERT INTO passes (id, requester, person, datacenter, incident, reason, valid_from, valid_until, \
                 status, reasons, submitted, seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                 ON CONFLICT (id) DO NOTHING",
                &p.id, &p.requester, &p.person, &p.datacenter, &p.incident, &p.reason, p.valid_from,
                p.valid_until, &p.outcome, p.reasons.to_string(), time, seq)?;
            touched("pass.requested", n, || format!("body.id: pass `{}` exists already", p.id))?;
        }
        DatacenterChange::PassApproved(p) => {
            let n = execute!(
                tx,
                "approving a pass",
                "UPDATE passes SET status = 'approved', approver = $1, token = $2, seq = $3 \
                 WHERE id = $4 AND status = 'requested'",
                &p.approver,
                &p.token,
                seq,
                &p.id
            )?;
            touched("pass.approved", n, || format!("body.id: no requested pass `{}`", p.id))?;
            for (shift, slot) in p.shifts.iter().zip(&p.slots) {
                let n = execute!(tx, "taking a shift's slot",
                    "INSERT INTO pass_shifts (datacenter, shift_start, slot, pass, seq) \
                     SELECT datacenter, $1, $2, id, $3 FROM passes WHERE id = $4 ON CONFLICT DO NOTHING",
                    *shift, *slot, seq, &p.id)?;
                touched("pass.approved", n, || {
                    format!("body.slots: slot {slot} of the shift starting at {shift} is taken by another pass (4.3: one person a shift)")
                })?;
            }
        }
        DatacenterChange::PassClosed { status, id, reasons } => {
            let from = if *status == "revoked" { "approved" } else { "requested" };
            let n = execute!(tx, "closing a pass",
                "UPDATE passes SET status = $1, reasons = $2, seq = $3 WHERE id = $4 AND status = $5",
                *status, reasons.to_string(), seq, id, from)?;
            touched(&format!("pass.{status}"), n, || format!("body.id: no {from} pass `{id}`"))?;
            if *status == "revoked" {
                execute!(
                    tx,
                    "freeing a revoked pass's slots",
                    "DELETE FROM pass_shifts WHERE pass = $1",
                    id
                )?;
            }
        }
        DatacenterChange::Entry(e) => {
            let n = execute!(
                tx,
                "logging an entry",
                "INSERT INTO visits (id, pass, person, datacenter, guard, entered, seq) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
                &e.id,
                &e.pass,
                &e.person,
                &e.datacenter,
                &e.guard,
                time,
                seq
            )?;
            touched("guard.entry", n, || format!("body.id: visit `{}` exists already", e.id))?;
            execute!(tx, "writing the logbook",
                "INSERT INTO guard_log (seq, datacenter, guard, time, action, pass, person, verdict) \
                 VALUES ($1, $2, $3, $4, 'entry', $5, $6, $7)",
                seq, &e.datacenter, &e.guard, time, &e.pass, &e.person, &e.verdict)?;
        }
        DatacenterChange::Exit(x) => {
            let n = execute!(tx, "logging an exit",
                "UPDATE visits SET exited = $1, exit_guard = $2, seq = $3 WHERE id = $4 AND exited IS NULL",
                time, &x.guard, seq, &x.visit)?;
            touched("guard.exit", n, || format!("body.visit: no open visit `{}`", x.visit))?;
            execute!(tx, "writing the logbook",
                "INSERT INTO guard_log (seq, datacenter, guard, time, action, pass, person, verdict) \
                 SELECT $1, datacenter, $2, $3, 'exit', pass, person, 'exit' FROM visits WHERE id = $4",
                seq, &x.guard, time, &x.visit)?;
        }
        DatacenterChange::Refused(r) => {
            execute!(tx, "writing the logbook",
                "INSERT INTO guard_log (seq, datacenter, guard, time, action, pass, person, verdict) \
                 VALUES ($1, $2, $3, $4, 'refused', $5, $6, $7)",
                seq, &r.datacenter, &r.guard, time, &r.pass, &r.person, &r.verdict)?;
        }
    }
    Ok(())
}
