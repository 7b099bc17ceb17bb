//! The lifecycle's events and their changes to the state tables: requests and their
//! approvals, grants suspended or expired, revocation tasks, what was enforced on a real
//! target, access reviews, notifications and API tokens.
//!
//! Like the rest of `state`, this checks that an event fits the state (a request is
//! pending before it is approved, a step is approved in order); whether it *should*
//! happen (policy, authority) is the service layer's decision, made before it appends.

use serde::Deserialize;
use serde_json::Value;

use super::{body, exists, refused, touched};
use crate::database::{dispatch_tx, Tx};
use crate::error::{Doing, Result, StoreError};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LifecycleChange {
    GrantExpired(GrantId),
    GrantSuspended(GrantSuspended),
    GrantEnforced(GrantEnforced),
    RequestSubmitted(RequestSubmitted),
    RequestApproved(RequestApproved),
    RequestClosed { status: &'static str, id: String, reasons: Option<Value> },
    TaskOpened(TaskOpened),
    TaskDone(TaskDone),
    ReviewOpened(ReviewOpened),
    ReviewDecided(ReviewDecided),
    ReviewClosed(Id),
    NotificationQueued(NotificationQueued),
    NotificationDelivered(NotificationDelivered),
    TokenIssued(TokenIssued),
    TokenRevoked(Id),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Id {
    id: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GrantId {
    id: String,
    reason: String,
}

/// A grant stopped from `from` on (at once, or on a personnel order's effective date).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GrantSuspended {
    id: String,
    from: i64,
    reason: String,
    #[serde(default)]
    order: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GrantEnforced {
    grant: String,
    target: String,
    role: String,
    login: String,
    status: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestSubmitted {
    id: String,
    requester: String,
    person: String,
    resource: String,
    clause: String,
    kind: String,
    valid_from: i64,
    valid_until: i64,
    /// The unit whose head approves each step.
    chain: Vec<String>,
    expires: i64,
    /// `pending`, or `refused` when the decision at submission denied it.
    outcome: String,
    reasons: Value,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestApproved {
    id: String,
    step: i64,
    unit: String,
    approver: String,
    /// The leaf hash of the `request.submitted` event approved.
    digest: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestClosedBody {
    id: String,
    #[serde(default)]
    reasons: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskOpened {
    id: String,
    grant: String,
    reason: String,
    due: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskDone {
    id: String,
    evidence: String,
    by: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewItem {
    grant: String,
    reviewer: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewOpened {
    id: String,
    title: String,
    deadline: i64,
    items: Vec<ReviewItem>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewDecided {
    review: String,
    grant: String,
    decision: String,
    by: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NotificationQueued {
    id: String,
    recipient: String,
    subject: String,
    body: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NotificationDelivered {
    id: String,
    status: String,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenIssued {
    id: String,
    person: String,
    /// Hex SHA-256 of the secret; the secret itself is never recorded.
    hash: String,
    /// `scim` for an identity provider's token; none for a person's API token.
    #[serde(default)]
    scope: Option<String>,
}

fn one_of(kind: &str, field: &str, value: &str, allowed: &[&str]) -> Result<()> {
    if allowed.contains(&value) {
        return Ok(());
    }
    Err(refused(kind, format!("body.{field}: `{value}` is not one of {}", allowed.join(", "))))
}

impl LifecycleChange {
    /// Reads a lifecycle event's body; `None` when the kind is not a lifecycle kind.
    pub(crate) fn parse(kind: &str, value: &Value) -> Result<Option<Self>> {
        let closed = |status: &'static str| -> Result<Self> {
            let b: RequestClosedBody = body(kind, value)?;
            Ok(LifecycleChange::RequestClosed { status, id: b.id, reasons: b.reasons })
        };
        Ok(Some(match kind {
            "grant.expired" => LifecycleChange::GrantExpired(body(kind, value)?),
            "grant.suspended" => LifecycleChange::GrantSuspended(body(kind, value)?),
            "grant.enforced" => {
                let b: GrantEnforced = body(kind, value)?;
                one_of(kind, "status", &b.status, &["granted", "removed"])?;
                LifecycleChange::GrantEnforced(b)
            }
            "request.submitted" => {
                let b: RequestSubmitted = body(kind, value)?;
                one_of(kind, "kind", &b.kind, &["standing", "just_in_time"])?;
                one_of(kind, "outcome", &b.outcome, &["pending", "refused"])?;
                if b.valid_until <= b.valid_from {
                    return Err(refused(kind, "body.valid_until: must be after valid_from".into()));
                }
                LifecycleChange::RequestSubmitted(b)
            }
            "request.approved" => LifecycleChange::RequestApproved(body(kind, value)?),
            "request.refused" => closed("refused")?,
            "request.withdrawn" => closed("withdrawn")?,
            "request.expired" => closed("expired")?,
            "task.opened" => LifecycleChange::TaskOpened(body(kind, value)?),
            "task.done" => LifecycleChange::TaskDone(body(kind, value)?),
            "review.opened" => LifecycleChange::ReviewOpened(body(kind, value)?),
            "review.decided" => {
                let b: ReviewDecided = body(kind, value)?;
                one_of(kind, "decision", &b.decision, &["confirmed", "revoked"])?;
                LifecycleChange::ReviewDecided(b)
            }
            "review.closed" => LifecycleChange::ReviewClosed(body(kind, value)?),
            "notification.queued" => LifecycleChange::NotificationQueued(body(kind, value)?),
            "notification.delivered" => {
                let b: NotificationDelivered = body(kind, value)?;
                one_of(kind, "status", &b.status, &["sent", "failed"])?;
                LifecycleChange::NotificationDelivered(b)
            }
            "token.issued" => {
                let t: TokenIssued = body(kind, value)?;
                if let Some(scope) = &t.scope {
                    one_of(kind, "scope", scope, &["scim"])?;
                }
                LifecycleChange::TokenIssued(t)
            }
            "token.revoked" => LifecycleChange::TokenRevoked(body(kind, value)?),
            _ => return Ok(None),
        }))
    }
}

pub(crate) async fn apply(
    tx: &mut Tx,
    seq: i64,
    time: i64,
    change: &LifecycleChange,
) -> Result<()> {
    match change {
        LifecycleChange::GrantExpired(g) => {
            let n = execute!(tx, "expiring a grant",
                "UPDATE grants SET status = 'expired', seq = $1 WHERE id = $2 AND status IN ('active', 'suspended')",
                seq, &g.id)?;
            touched("grant.expired", n, || {
                format!("body.id: no active or suspended grant `{}`", g.id)
            })?;
        }
        LifecycleChange::GrantSuspended(g) => {
            let n = execute!(tx, "suspending a grant",
                "UPDATE grants SET status = 'suspended', \
                 valid_until = CASE WHEN valid_until IS NULL OR valid_until > $1 THEN $1 ELSE valid_until END, \
                 seq = $2 WHERE id = $3 AND status = 'active'",
                g.from, seq, &g.id)?;
            touched("grant.suspended", n, || format!("body.id: no active grant `{}`", g.id))?;
        }
        LifecycleChange::GrantEnforced(e) => {
            execute!(tx, "recording an enforcement",
                "INSERT INTO enforcements (grant_id, target, role, login, status, seq) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (grant_id) DO UPDATE SET target = excluded.target, role = excluded.role, \
                 login = excluded.login, status = excluded.status, seq = excluded.seq",
                &e.grant, &e.target, &e.role, &e.login, &e.status, seq)?;
        }
        LifecycleChange::RequestSubmitted(r) => {
            for (field, person) in [("requester", &r.requester), ("person", &r.person)] {
                if !exists(tx, "personnel", person).await? {
                    return Err(refused(
                        "request.submitted",
                        format!("body.{field}: no person `{person}`"),
                    ));
                }
            }
            if !exists(tx, "resources", &r.resource).await? {
                return Err(refused(
                    "request.submitted",
                    format!("body.resource: no resource `{}`", r.resource),
                ));
            }
            let chain = serde_json::to_string(&r.chain).map_err(|e| StoreError::Event {
                kind: "request.submitted".into(),
                message: e.to_string(),
            })?;
            let reasons = r.reasons.to_string();
            let n = execute!(tx, "recording a request",
                "INSERT INTO requests (id, requester, person, resource, clause, kind, valid_from, valid_until, \
                 status, chain, steps, approved, reasons, submitted, submitted_seq, expires, seq) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12, $13, $14, $15, $14) \
                 ON CONFLICT (id) DO NOTHING",
                &r.id, &r.requester, &r.person, &r.resource, &r.clause, &r.kind, r.valid_from,
                r.valid_until, &r.outcome, chain, r.chain.len() as i64, reasons, time, seq, r.expires)?;
            touched("request.submitted", n, || {
                format!("body.id: request `{}` exists already", r.id)
            })?;
        }
        LifecycleChange::RequestApproved(a) => {
            let n = execute!(
                tx,
                "approving a request",
                "UPDATE requests SET approved = approved + 1, \
                 status = CASE WHEN approved + 1 = steps THEN 'approved' ELSE status END, seq = $1 \
                 WHERE id = $2 AND status = 'pending' AND approved = $3 AND steps > $3",
                seq,
                &a.id,
                a.step
            )?;
            touched("request.approved", n, || {
                format!("body.step: request `{}` is not pending at step {}", a.id, a.step)
            })?;
            execute!(
                tx,
                "recording an approval",
                "INSERT INTO approvals (request, step, unit, approver, time, digest, seq) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &a.id,
                a.step,
                &a.unit,
                &a.approver,
                time,
                &a.digest,
                seq
            )?;
        }
        LifecycleChange::RequestClosed { status, id, reasons } => {
            let reasons = reasons.as_ref().map(Value::to_string);
            let n = execute!(
                tx,
                "closing a request",
                "UPDATE requests SET status = $1, reasons = COALESCE($2, reasons), seq = $3 \
                 WHERE id = $4 AND status = 'pending'",
                *status,
                reasons,
                seq,
                id
            )?;
            touched(&format!("request.{status}"), n, || {
                format!("body.id: no pending request `{id}`")
            })?;
        }
        LifecycleChange::TaskOpened(t) => {
            let n = execute!(tx, "opening a task",
                "INSERT INTO tasks (id, grant_id, reason, due, status, seq) VALUES ($1, $2, $3, $4, 'open', $5) \
                 ON CONFLICT (id) DO NOTHING",
                &t.id, &t.grant, &t.reason, t.due, seq)?;
            touched("task.opened", n, || format!("body.id: task `{}` exists already", t.id))?;
        }
        LifecycleChange::TaskDone(t) => {
            let n = execute!(
                tx,
                "closing a task",
                "UPDATE tasks SET status = 'done', evidence = $1, done_by = $2, seq = $3 \
                 WHERE id = $4 AND status = 'open'",
                &t.evidence,
                &t.by,
                seq,
                &t.id
            )?;
            touched("task.done", n, || format!("body.id: no open task `{}`", t.id))?;
        }
        LifecycleChange::ReviewOpened(r) => {
            let n = execute!(tx, "opening a review",
                "INSERT INTO reviews (id, title, deadline, status, opened, seq) VALUES ($1, $2, $3, 'open', $4, $5) \
                 ON CONFLICT (id) DO NOTHING",
                &r.id, &r.title, r.deadline, time, seq)?;
            touched("review.opened", n, || format!("body.id: review `{}` exists already", r.id))?;
            for item in &r.items {
                execute!(tx, "adding a review item",
                    "INSERT INTO review_items (review, grant_id, reviewer, decision, seq) VALUES ($1, $2, $3, 'pending', $4)",
                    &r.id, &item.grant, &item.reviewer, seq)?;
            }
        }
        LifecycleChange::ReviewDecided(d) => {
            let n = execute!(
                tx,
                "deciding a review item",
                "UPDATE review_items SET decision = $1, decided_by = $2, seq = $3 \
                 WHERE review = $4 AND grant_id = $5 AND decision = 'pending' \
                 AND review IN (SELECT id FROM reviews WHERE status = 'open')",
                &d.decision,
                &d.by,
                seq,
                &d.review,
                &d.grant
            )?;
            touched("review.decided", n, || {
                format!(
                    "body.grant: `{}` is not awaiting a decision in open review `{}`",
                    d.grant, d.review
                )
            })?;
        }
        LifecycleChange::ReviewClosed(r) => {
            let n =
                execute!(tx, "closing a review",
                "UPDATE reviews SET status = 'closed', seq = $1 WHERE id = $2 AND status = 'open'",
                seq, &r.id)?;
            touched("review.closed", n, || format!("body.id: no open review `{}`", r.id))?;
        }
        LifecycleChange::NotificationQueued(n) => {
            let rows = execute!(tx, "queueing a notification",
                "INSERT INTO notifications (id, recipient, subject, body, created, status, attempts, seq) \
                 VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6) ON CONFLICT (id) DO NOTHING",
                &n.id, &n.recipient, &n.subject, &n.body, time, seq)?;
            touched("notification.queued", rows, || {
                format!("body.id: notification `{}` exists already", n.id)
            })?;
        }
        LifecycleChange::NotificationDelivered(d) => {
            let n = execute!(tx, "recording a delivery",
                "UPDATE notifications SET status = $1, attempts = attempts + 1, last_error = $2, seq = $3 \
                 WHERE id = $4 AND status IN ('queued', 'failed')",
                &d.status, &d.error, seq, &d.id)?;
            touched("notification.delivered", n, || {
                format!("body.id: no undelivered notification `{}`", d.id)
            })?;
        }
        LifecycleChange::TokenIssued(t) => {
            if !exists(tx, "personnel", &t.person).await? {
                return Err(refused(
                    "token.issued",
                    format!("body.person: no person `{}`", t.person),
                ));
            }
            let n = execute!(tx, "issuing a token",
                "INSERT INTO api_tokens (id, person, hash, created, seq, scope) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT DO NOTHING",
                &t.id, &t.person, &t.hash, time, seq, &t.scope)?;
            touched("token.issued", n, || format!("body.id: token `{}` exists already", t.id))?;
        }
        LifecycleChange::TokenRevoked(t) => {
            let n =
                execute!(tx, "revoking a token",
                "UPDATE api_tokens SET revoked = $1, seq = $2 WHERE id = $3 AND revoked IS NULL",
                time, seq, &t.id)?;
            touched("token.revoked", n, || format!("body.id: no live token `{}`", t.id))?;
        }
    }
    Ok(())
}
