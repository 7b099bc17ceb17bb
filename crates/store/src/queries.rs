//! Reading the current state: the rows the service layer decides on and people look at.
//! Every query here reads committed state only; writes go through the ledger.

use crate::database::{dispatch_pool, dispatch_tx};
use crate::error::{Doing, Result};
use crate::ledger::Store;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct PersonRow {
    pub id: String,
    pub name: String,
    pub port: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct AssignmentRow {
    pub person: String,
    pub unit: String,
    pub valid_from: i64,
    pub valid_until: Option<i64>,
    pub personnel_order: String,
    pub is_head: i32,
    pub seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct ResourceRow {
    pub id: String,
    pub kind: String,
    pub class: String,
    pub system: Option<String>,
    pub port: Option<String>,
    pub target: Option<String>,
    pub target_role: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct GrantRow {
    pub id: String,
    pub person: String,
    pub resource: String,
    pub clause: String,
    pub valid_from: i64,
    pub valid_until: Option<i64>,
    pub status: String,
    pub request: Option<String>,
    pub seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct RequestRow {
    pub id: String,
    pub requester: String,
    pub person: String,
    pub resource: String,
    pub clause: String,
    pub kind: String,
    pub valid_from: i64,
    pub valid_until: i64,
    pub status: String,
    /// JSON array of unit ids, one per approval step.
    pub chain: String,
    pub steps: i32,
    pub approved: i32,
    /// JSON array of the decision's reasons.
    pub reasons: String,
    pub submitted: i64,
    pub submitted_seq: i64,
    pub expires: i64,
    pub seq: i64,
}

impl RequestRow {
    /// The unit whose head approves each step.
    pub fn chain_units(&self) -> Vec<String> {
        serde_json::from_str(&self.chain).unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct ApprovalRow {
    pub request: String,
    pub step: i32,
    pub unit: String,
    pub approver: String,
    pub time: i64,
    pub digest: String,
    pub seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct TaskRow {
    pub id: String,
    pub grant_id: String,
    pub reason: String,
    pub due: i64,
    pub status: String,
    pub evidence: Option<String>,
    pub done_by: Option<String>,
    pub seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct EnforcementRow {
    pub grant_id: String,
    pub target: String,
    pub role: String,
    pub login: String,
    pub status: String,
    pub seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct ReviewRow {
    pub id: String,
    pub title: String,
    pub deadline: i64,
    pub status: String,
    pub opened: i64,
    pub seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct ReviewItemRow {
    pub review: String,
    pub grant_id: String,
    pub reviewer: String,
    pub decision: String,
    pub decided_by: Option<String>,
    pub seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct NotificationRow {
    pub id: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created: i64,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub seq: i64,
}

/// A documented system account (4.5); `origins` is a JSON array.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct SystemAccountRow {
    pub host: String,
    pub account: String,
    pub system: String,
    pub purpose: String,
    pub custodian: String,
    pub usage: String,
    pub origins: String,
    pub seq: i64,
}

/// An account a source showed with privileged access; `how` is a JSON array.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct HeldAccountRow {
    pub source: String,
    pub account: String,
    pub kind: String,
    pub resource: String,
    pub full_control: i32,
    pub how: String,
    /// The person it is linked to, if any.
    pub person: Option<String>,
    pub seq: i64,
}

/// A User or Group an identity provider keeps over SCIM; `body` is its JSON.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IdentityRow {
    pub resource_type: String,
    pub id: String,
    pub body: String,
    pub person: Option<String>,
    pub created: i64,
    pub modified: i64,
    pub version: i64,
    pub seq: i64,
}

/// An open browser session.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    pub reference: String,
    pub person: String,
    /// The factors it was opened with, space-separated (`password totp`).
    pub factors: String,
    pub created: i64,
    pub expires: i64,
}

/// A person's sign-in secrets, kept outside the ledger.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CredentialRow {
    pub person: String,
    /// argon2id, as a PHC string.
    pub password: String,
    /// The TOTP secret, base32, when the person has a second factor.
    pub totp: Option<String>,
    pub changed: i64,
}

impl std::fmt::Debug for CredentialRow {
    /// Never the secrets, whatever logs a row.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialRow")
            .field("person", &self.person)
            .field("totp", &self.totp.is_some())
            .field("changed", &self.changed)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct FindingRow {
    pub id: String,
    pub clause: String,
    pub subject: String,
    pub summary: String,
    pub evidence: String,
    pub status: String,
    pub opened: i64,
    pub seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct IncidentRow {
    pub id: String,
    pub title: String,
    pub priority: String,
    pub tier: i32,
    pub owner: String,
    pub status: String,
    pub opened: i64,
    pub respond_by: i64,
    pub resolve_by: i64,
    pub responded: Option<i64>,
    pub resolved: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct CameraRow {
    pub datacenter: String,
    pub camera: String,
    pub operational: i32,
    pub since: i64,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct OutageRow {
    pub datacenter: String,
    pub camera: String,
    pub down_from: i64,
    pub down_until: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct RosterRow {
    pub id: String,
    pub guard: String,
    pub datacenter: String,
    pub post: String,
    pub valid_from: i64,
    pub valid_until: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct PassRow {
    pub id: String,
    pub requester: String,
    pub person: String,
    pub datacenter: String,
    pub incident: String,
    pub reason: String,
    pub valid_from: i64,
    pub valid_until: i64,
    pub status: String,
    pub approver: Option<String>,
    pub reasons: String,
    pub token: Option<String>,
    pub submitted: i64,
    pub seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct VisitRow {
    pub id: String,
    pub pass: Option<String>,
    pub person: String,
    pub datacenter: String,
    pub guard: String,
    pub entered: i64,
    pub exited: Option<i64>,
    pub exit_guard: Option<String>,
    pub seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct GuardLogRow {
    pub seq: i64,
    pub datacenter: String,
    pub guard: String,
    pub time: i64,
    pub action: String,
    pub pass: Option<String>,
    pub person: Option<String>,
    pub verdict: String,
}

const INCIDENT_COLUMNS: &str =
    "SELECT id, title, priority, tier, owner, status, opened, respond_by, \
     resolve_by, responded, resolved FROM incidents";
const PASS_COLUMNS: &str =
    "SELECT id, requester, person, datacenter, incident, reason, valid_from, \
     valid_until, status, approver, reasons, token, submitted, seq FROM passes";
const VISIT_COLUMNS: &str =
    "SELECT id, pass, person, datacenter, guard, entered, exited, exit_guard, seq FROM visits";

const GRANT_COLUMNS: &str =
    "SELECT id, person, resource, clause, valid_from, valid_until, status, request, seq FROM grants";
const REQUEST_COLUMNS: &str = "SELECT id, requester, person, resource, clause, kind, valid_from, \
     valid_until, status, chain, steps, approved, reasons, submitted, submitted_seq, expires, seq \
     FROM requests";

/// Runs a query returning rows of `$row`, binding each argument in order.
macro_rules! rows {
    ($store:expr, $row:ty, $doing:literal, $sql:expr $(, $arg:expr)* $(,)?) => {
        dispatch_pool!(&$store.database().pool, pool => {
            sqlx::query_as::<_, $row>($sql)$(.bind($arg))*.fetch_all(pool).await
        })
        .doing($doing)
    };
}

impl Store {
    pub async fn person(&self, id: &str) -> Result<Option<PersonRow>> {
        let mut rows = rows!(
            self,
            PersonRow,
            "reading a person",
            "SELECT id, name, port, email FROM personnel WHERE id = $1",
            id
        )?;
        Ok(rows.pop())
    }

    pub async fn persons(&self) -> Result<Vec<PersonRow>> {
        rows!(
            self,
            PersonRow,
            "reading personnel",
            "SELECT id, name, port, email FROM personnel ORDER BY id"
        )
    }

    /// A person's assignments, oldest first.
    pub async fn assignments(&self, person: &str) -> Result<Vec<AssignmentRow>> {
        rows!(
            self,
            AssignmentRow,
            "reading assignments",
            "SELECT person, unit, valid_from, valid_until, personnel_order, is_head, seq \
             FROM assignments WHERE person = $1 ORDER BY valid_from",
            person
        )
    }

    /// Every assignment, by person and start.
    pub async fn all_assignments(&self) -> Result<Vec<AssignmentRow>> {
        rows!(
            self,
            AssignmentRow,
            "reading assignments",
            "SELECT person, unit, valid_from, valid_until, personnel_order, is_head, seq \
             FROM assignments ORDER BY person, valid_from, unit"
        )
    }

    /// Every resource, by id.
    pub async fn resources(&self) -> Result<Vec<ResourceRow>> {
        rows!(
            self,
            ResourceRow,
            "reading resources",
            "SELECT id, kind, class, system, port, target, target_role FROM resources ORDER BY id"
        )
    }

    /// Every grant in force at `at`, now or in the past: a grant's period ends when it is
    /// revoked or suspended, so the period alone says whether it was held.
    pub async fn grants_in_force(&self, at: i64) -> Result<Vec<GrantRow>> {
        let sql = format!(
            "{GRANT_COLUMNS} WHERE valid_from <= $1 AND (valid_until IS NULL OR valid_until > $1) ORDER BY person, id"
        );
        rows!(self, GrantRow, "reading grants in force", &sql, at)
    }

    /// The people heading `unit` at `at`.
    pub async fn heads(&self, unit: &str, at: i64) -> Result<Vec<String>> {
        dispatch_pool!(&self.database().pool, pool => {
            sqlx::query_scalar::<_, String>(
                "SELECT person FROM assignments WHERE unit = $1 AND is_head = 1 \
                 AND valid_from <= $2 AND (valid_until IS NULL OR valid_until > $2) ORDER BY person")
                .bind(unit).bind(at).fetch_all(pool).await
        })
        .doing("reading unit heads")
    }

    pub async fn resource(&self, id: &str) -> Result<Option<ResourceRow>> {
        let mut rows = rows!(self, ResourceRow, "reading a resource",
            "SELECT id, kind, class, system, port, target, target_role FROM resources WHERE id = $1", id)?;
        Ok(rows.pop())
    }

    /// Every resource whose access is enforced on `target`.
    pub async fn resources_on(&self, target: &str) -> Result<Vec<ResourceRow>> {
        rows!(self, ResourceRow, "reading a target's resources",
            "SELECT id, kind, class, system, port, target, target_role FROM resources WHERE target = $1 ORDER BY id", target)
    }

    pub async fn grant(&self, id: &str) -> Result<Option<GrantRow>> {
        let sql = format!("{GRANT_COLUMNS} WHERE id = $1");
        let mut rows = rows!(self, GrantRow, "reading a grant", &sql, id)?;
        Ok(rows.pop())
    }

    /// Every grant a person has held, oldest first.
    pub async fn grants_of(&self, person: &str) -> Result<Vec<GrantRow>> {
        let sql = format!("{GRANT_COLUMNS} WHERE person = $1 ORDER BY valid_from, id");
        rows!(self, GrantRow, "reading a person's grants", &sql, person)
    }

    /// Active or suspended grants whose period ended by `now`.
    pub async fn grants_ended(&self, now: i64) -> Result<Vec<GrantRow>> {
        let sql = format!(
            "{GRANT_COLUMNS} WHERE status IN ('active', 'suspended') AND valid_until IS NOT NULL \
             AND valid_until <= $1 ORDER BY valid_until, id"
        );
        rows!(self, GrantRow, "reading ended grants", &sql, now)
    }

    /// Grants on the resources of `target` in force at `now` (a suspended grant runs
    /// until its suspension takes effect).
    pub async fn grants_on(&self, target: &str, now: i64) -> Result<Vec<GrantRow>> {
        let sql = format!(
            "{GRANT_COLUMNS} WHERE status IN ('active', 'suspended') AND valid_from <= $2 \
             AND (valid_until IS NULL OR valid_until > $2) \
             AND resource IN (SELECT id FROM resources WHERE target = $1) ORDER BY id"
        );
        rows!(self, GrantRow, "reading a target's grants", &sql, target, now)
    }

    /// Active grants with no end or ending after `after` (what a review covers).
    pub async fn standing_grants(&self, after: i64) -> Result<Vec<GrantRow>> {
        let sql = format!(
            "{GRANT_COLUMNS} WHERE status = 'active' AND (valid_until IS NULL OR valid_until > $1) ORDER BY id"
        );
        rows!(self, GrantRow, "reading standing grants", &sql, after)
    }

    pub async fn request(&self, id: &str) -> Result<Option<RequestRow>> {
        let sql = format!("{REQUEST_COLUMNS} WHERE id = $1");
        let mut rows = rows!(self, RequestRow, "reading a request", &sql, id)?;
        Ok(rows.pop())
    }

    /// Requests, newest first; only those of `status` when given.
    pub async fn requests(&self, status: Option<&str>) -> Result<Vec<RequestRow>> {
        let sql = format!(
            "{REQUEST_COLUMNS} WHERE ($1 IS NULL OR status = $1) ORDER BY submitted_seq DESC"
        );
        rows!(self, RequestRow, "reading requests", &sql, status)
    }

    /// Pending requests that expired by `now`.
    pub async fn requests_expired(&self, now: i64) -> Result<Vec<RequestRow>> {
        let sql =
            format!("{REQUEST_COLUMNS} WHERE status = 'pending' AND expires <= $1 ORDER BY id");
        rows!(self, RequestRow, "reading expired requests", &sql, now)
    }

    pub async fn approvals(&self, request: &str) -> Result<Vec<ApprovalRow>> {
        rows!(self, ApprovalRow, "reading approvals",
            "SELECT request, step, unit, approver, time, digest, seq FROM approvals WHERE request = $1 ORDER BY step",
            request)
    }

    /// Tasks, open ones first.
    pub async fn tasks(&self) -> Result<Vec<TaskRow>> {
        rows!(self, TaskRow, "reading tasks",
            "SELECT id, grant_id, reason, due, status, evidence, done_by, seq FROM tasks ORDER BY status DESC, due, id")
    }

    pub async fn task(&self, id: &str) -> Result<Option<TaskRow>> {
        let mut rows = rows!(self, TaskRow, "reading a task",
            "SELECT id, grant_id, reason, due, status, evidence, done_by, seq FROM tasks WHERE id = $1", id)?;
        Ok(rows.pop())
    }

    pub async fn enforcements(&self, target: &str) -> Result<Vec<EnforcementRow>> {
        rows!(self, EnforcementRow, "reading enforcements",
            "SELECT grant_id, target, role, login, status, seq FROM enforcements WHERE target = $1 ORDER BY grant_id",
            target)
    }

    pub async fn review(&self, id: &str) -> Result<Option<(ReviewRow, Vec<ReviewItemRow>)>> {
        let Some(review) = rows!(
            self,
            ReviewRow,
            "reading a review",
            "SELECT id, title, deadline, status, opened, seq FROM reviews WHERE id = $1",
            id
        )?
        .pop() else {
            return Ok(None);
        };
        let items = rows!(
            self,
            ReviewItemRow,
            "reading review items",
            "SELECT review, grant_id, reviewer, decision, decided_by, seq FROM review_items \
             WHERE review = $1 ORDER BY grant_id",
            id
        )?;
        Ok(Some((review, items)))
    }

    /// Open reviews whose deadline passed by `now`.
    pub async fn reviews_due(&self, now: i64) -> Result<Vec<ReviewRow>> {
        rows!(self, ReviewRow, "reading due reviews",
            "SELECT id, title, deadline, status, opened, seq FROM reviews WHERE status = 'open' AND deadline <= $1 ORDER BY id",
            now)
    }

    /// A person's notifications, newest first.
    pub async fn notifications(&self, recipient: &str) -> Result<Vec<NotificationRow>> {
        rows!(
            self,
            NotificationRow,
            "reading notifications",
            "SELECT id, recipient, subject, body, created, status, attempts, last_error, seq \
             FROM notifications WHERE recipient = $1 ORDER BY seq DESC",
            recipient
        )
    }

    /// Notifications not yet delivered that have been tried fewer than `max_attempts` times.
    pub async fn undelivered(&self, max_attempts: i32) -> Result<Vec<NotificationRow>> {
        rows!(self, NotificationRow, "reading undelivered notifications",
            "SELECT id, recipient, subject, body, created, status, attempts, last_error, seq \
             FROM notifications WHERE status IN ('queued', 'failed') AND attempts < $1 ORDER BY seq",
            max_attempts)
    }

    pub async fn has_notification(&self, id: &str) -> Result<bool> {
        let n: i64 = dispatch_pool!(&self.database().pool, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE id = $1").bind(id).fetch_one(pool).await
        })
        .doing("checking a notification")?;
        Ok(n > 0)
    }

    /// Every finding, oldest first.
    pub async fn findings(&self) -> Result<Vec<FindingRow>> {
        rows!(self, FindingRow, "reading findings",
            "SELECT id, clause, subject, summary, evidence, status, opened, seq FROM findings ORDER BY opened, id")
    }

    pub async fn finding(&self, id: &str) -> Result<Option<FindingRow>> {
        let mut rows = rows!(self, FindingRow, "reading a finding",
            "SELECT id, clause, subject, summary, evidence, status, opened, seq FROM findings WHERE id = $1", id)?;
        Ok(rows.pop())
    }

    pub async fn system_accounts(&self) -> Result<Vec<SystemAccountRow>> {
        rows!(self, SystemAccountRow, "reading system accounts",
            "SELECT host, account, system, purpose, custodian, usage, origins, seq FROM system_accounts ORDER BY host, account")
    }

    /// The imported privileged accounts with the person each is linked to, by source.
    pub async fn held_accounts(&self) -> Result<Vec<HeldAccountRow>> {
        rows!(self, HeldAccountRow, "reading imported accounts",
            "SELECT h.source, h.account, h.kind, h.resource, h.full_control, h.how, l.person, h.seq \
             FROM held_accounts h LEFT JOIN account_links l ON l.source = h.source AND l.account = h.account \
             ORDER BY h.source, h.account")
    }

    /// The provisioned identities of a type (`User`, `Group`), by id.
    pub async fn identities(&self, resource_type: &str) -> Result<Vec<IdentityRow>> {
        rows!(self, IdentityRow, "reading provisioned identities",
            "SELECT resource_type, id, body, person, created, modified, version, seq FROM identities \
             WHERE resource_type = $1 ORDER BY id", resource_type)
    }

    /// One provisioned identity.
    pub async fn identity(&self, resource_type: &str, id: &str) -> Result<Option<IdentityRow>> {
        let mut rows = rows!(self, IdentityRow, "reading a provisioned identity",
            "SELECT resource_type, id, body, person, created, modified, version, seq FROM identities \
             WHERE resource_type = $1 AND id = $2", resource_type, id)?;
        Ok(rows.pop())
    }

    /// Every (source, account, person) link, including links of accounts not imported yet.
    pub async fn account_links(&self) -> Result<Vec<(String, String, String)>> {
        dispatch_pool!(&self.database().pool, pool => {
            sqlx::query_as::<_, (String, String, String)>(
                "SELECT source, account, person FROM account_links ORDER BY source, account",
            )
            .fetch_all(pool)
            .await
        })
        .doing("reading account links")
    }

    /// Whether a finding with this id is on record, and its status.
    pub async fn finding_status(&self, id: &str) -> Result<Option<String>> {
        dispatch_pool!(&self.database().pool, pool => {
            sqlx::query_scalar::<_, String>("SELECT status FROM findings WHERE id = $1").bind(id).fetch_optional(pool).await
        })
        .doing("reading a finding")
    }

    /// Active grants ending between `now` and `by`.
    pub async fn grants_ending(&self, now: i64, by: i64) -> Result<Vec<GrantRow>> {
        let sql = format!(
            "{GRANT_COLUMNS} WHERE status = 'active' AND valid_until > $1 AND valid_until <= $2 ORDER BY valid_until, id"
        );
        rows!(self, GrantRow, "reading grants about to end", &sql, now, by)
    }

    /// The earliest moment after `now` when something starts or ends: a grant (to be
    /// enforced from its start, ended at its end), a pending request or an open review.
    /// The scheduler wakes then, so expiry and enforcement are on time.
    pub async fn next_due(&self, now: i64) -> Result<Option<i64>> {
        dispatch_pool!(&self.database().pool, pool => {
            sqlx::query_scalar::<_, Option<i64>>(
                "SELECT MIN(t) FROM ( \
                 SELECT MIN(valid_until) AS t FROM grants WHERE status IN ('active', 'suspended') AND valid_until > $1 \
                 UNION ALL SELECT MIN(valid_from) FROM grants WHERE status = 'active' AND valid_from > $1 \
                 UNION ALL SELECT MIN(expires) FROM requests WHERE status = 'pending' AND expires > $1 \
                 UNION ALL SELECT MIN(deadline) FROM reviews WHERE status = 'open' AND deadline > $1) due")
                .bind(now).fetch_one(pool).await
        })
        .doing("finding the next expiry")
    }

    pub async fn incident(&self, id: &str) -> Result<Option<IncidentRow>> {
        let sql = format!("{INCIDENT_COLUMNS} WHERE id = $1");
        Ok(rows!(self, IncidentRow, "reading an incident", &sql, id)?.pop())
    }

    /// Open incidents, the first to breach first.
    pub async fn open_incidents(&self) -> Result<Vec<IncidentRow>> {
        let sql = format!(
            "{INCIDENT_COLUMNS} WHERE status = 'open' ORDER BY \
             CASE WHEN responded IS NULL AND respond_by < resolve_by THEN respond_by ELSE resolve_by END, id"
        );
        rows!(self, IncidentRow, "reading open incidents", &sql)
    }

    /// Every camera's last reported status (a camera never reported has no row).
    pub async fn cameras(&self, datacenter: &str) -> Result<Vec<CameraRow>> {
        rows!(self, CameraRow, "reading cameras",
            "SELECT datacenter, camera, operational, since, note FROM cameras WHERE datacenter = $1 ORDER BY camera", datacenter)
    }

    /// Camera outages at a datacenter overlapping `[from, until)`.
    pub async fn outages(&self, datacenter: &str, from: i64, until: i64) -> Result<Vec<OutageRow>> {
        rows!(self, OutageRow, "reading camera outages",
            "SELECT datacenter, camera, down_from, down_until FROM camera_outages \
             WHERE datacenter = $1 AND down_from < $3 AND (down_until IS NULL OR down_until > $2) ORDER BY down_from",
            datacenter, from, until)
    }

    /// Roster entries at a datacenter overlapping `[from, until)`.
    pub async fn roster(&self, datacenter: &str, from: i64, until: i64) -> Result<Vec<RosterRow>> {
        rows!(self, RosterRow, "reading the roster",
            "SELECT id, guard, datacenter, post, valid_from, valid_until FROM roster \
             WHERE datacenter = $1 AND valid_from < $3 AND valid_until > $2 ORDER BY valid_from, id",
            datacenter, from, until)
    }

    pub async fn pass(&self, id: &str) -> Result<Option<PassRow>> {
        let sql = format!("{PASS_COLUMNS} WHERE id = $1");
        Ok(rows!(self, PassRow, "reading a pass", &sql, id)?.pop())
    }

    /// Passes at a datacenter whose window overlaps `[from, until)`, of one status.
    pub async fn passes(
        &self,
        datacenter: &str,
        status: &str,
        from: i64,
        until: i64,
    ) -> Result<Vec<PassRow>> {
        let sql = format!(
            "{PASS_COLUMNS} WHERE datacenter = $1 AND status = $2 AND valid_from < $4 AND valid_until > $3 ORDER BY valid_from, id"
        );
        rows!(self, PassRow, "reading passes", &sql, datacenter, status, from, until)
    }

    /// The slots taken in a datacenter's shift.
    pub async fn taken_slots(&self, datacenter: &str, shift_start: i64) -> Result<Vec<i64>> {
        dispatch_pool!(&self.database().pool, pool => {
            sqlx::query_scalar::<_, i32>("SELECT slot FROM pass_shifts WHERE datacenter = $1 AND shift_start = $2 ORDER BY slot")
                .bind(datacenter).bind(shift_start).fetch_all(pool).await
        })
        .doing("reading a shift's slots")
        .map(|slots| slots.into_iter().map(i64::from).collect())
    }

    pub async fn visit(&self, id: &str) -> Result<Option<VisitRow>> {
        let sql = format!("{VISIT_COLUMNS} WHERE id = $1");
        Ok(rows!(self, VisitRow, "reading a visit", &sql, id)?.pop())
    }

    /// Visits at a datacenter that began in `[from, until)`, or are still open.
    pub async fn visits(&self, datacenter: &str, from: i64, until: i64) -> Result<Vec<VisitRow>> {
        let sql = format!(
            "{VISIT_COLUMNS} WHERE datacenter = $1 AND ((entered >= $2 AND entered < $3) OR exited IS NULL) ORDER BY entered, id"
        );
        rows!(self, VisitRow, "reading visits", &sql, datacenter, from, until)
    }

    /// Visits under way at a datacenter at `at`: entered by then, not exited before.
    pub async fn inside_at(&self, datacenter: &str, at: i64) -> Result<Vec<VisitRow>> {
        let sql = format!(
            "{VISIT_COLUMNS} WHERE datacenter = $1 AND entered <= $2 AND (exited IS NULL OR exited >= $2) ORDER BY entered, id"
        );
        rows!(self, VisitRow, "reading who was inside", &sql, datacenter, at)
    }

    /// The guard's logbook at a datacenter, newest first.
    pub async fn guard_log(&self, datacenter: &str, limit: i64) -> Result<Vec<GuardLogRow>> {
        rows!(
            self,
            GuardLogRow,
            "reading the logbook",
            "SELECT seq, datacenter, guard, time, action, pass, person, verdict FROM guard_log \
             WHERE datacenter = $1 ORDER BY seq DESC LIMIT $2",
            datacenter,
            limit
        )
    }

    /// The person a live API token (by the hex SHA-256 of its secret) belongs to.
    pub async fn token_person(&self, hash: &str) -> Result<Option<String>> {
        dispatch_pool!(&self.database().pool, pool => {
            sqlx::query_scalar::<_, String>("SELECT person FROM api_tokens WHERE hash = $1 AND revoked IS NULL AND scope IS NULL")
                .bind(hash).fetch_optional(pool).await
        })
        .doing("checking a token")
    }

    /// The person a live token of `scope` (e.g. `scim`) was issued to.
    pub async fn scoped_token_person(&self, hash: &str, scope: &str) -> Result<Option<String>> {
        dispatch_pool!(&self.database().pool, pool => {
            sqlx::query_scalar::<_, String>("SELECT person FROM api_tokens WHERE hash = $1 AND revoked IS NULL AND scope = $2")
                .bind(hash).bind(scope).fetch_optional(pool).await
        })
        .doing("checking a token")
    }

    /// The roles events name for a person (`auditor`, `administrator`).
    pub async fn access_roles(&self, person: &str) -> Result<Vec<String>> {
        dispatch_pool!(&self.database().pool, pool => {
            sqlx::query_scalar::<_, String>("SELECT role FROM access_roles WHERE person = $1 ORDER BY role")
                .bind(person).fetch_all(pool).await
        })
        .doing("reading a person's roles")
    }

    /// The session whose cookie secret has this hex SHA-256, if open and not expired at `now`.
    pub async fn session(&self, hash: &str, now: i64) -> Result<Option<SessionRow>> {
        let mut rows = rows!(
            self,
            SessionRow,
            "reading a session",
            "SELECT reference, person, factors, created, expires FROM sessions \
             WHERE hash = $1 AND closed IS NULL AND expires > $2",
            hash,
            now
        )?;
        Ok(rows.pop())
    }

    /// A person's open sessions at `now`, newest first.
    pub async fn sessions_of(&self, person: &str, now: i64) -> Result<Vec<SessionRow>> {
        rows!(
            self,
            SessionRow,
            "reading a person's sessions",
            "SELECT reference, person, factors, created, expires FROM sessions \
             WHERE person = $1 AND closed IS NULL AND expires > $2 ORDER BY created DESC",
            person,
            now
        )
    }

    pub async fn credential(&self, person: &str) -> Result<Option<CredentialRow>> {
        let mut rows = rows!(
            self,
            CredentialRow,
            "reading a credential",
            "SELECT person, password, totp, changed FROM credentials WHERE person = $1",
            person
        )?;
        Ok(rows.pop())
    }

    /// The times of `key`'s failed sign-ins since `since`, oldest first.
    pub async fn signin_failures(&self, key: &str, since: i64) -> Result<Vec<i64>> {
        let times: Vec<(i64,)> = rows!(
            self,
            (i64,),
            "reading failed sign-ins",
            "SELECT failed_at FROM signin_failures WHERE key = $1 AND failed_at >= $2 ORDER BY failed_at",
            key,
            since
        )?;
        Ok(times.into_iter().map(|(t,)| t).collect())
    }

    /// Notes a failed sign-in at `now` for each of `keys`, and forgets those before
    /// `forget_before`.
    pub async fn signin_failed(&self, keys: &[&str], now: i64, forget_before: i64) -> Result<()> {
        let mut tx = self.database().begin().await?;
        for key in keys {
            dispatch_tx!(&mut tx, c => {
                sqlx::query("INSERT INTO signin_failures (key, failed_at) VALUES ($1, $2)")
                    .bind(*key).bind(now).execute(c).await.map(|r| r.rows_affected())
            })
            .doing("noting a failed sign-in")?;
        }
        dispatch_tx!(&mut tx, c => {
            sqlx::query("DELETE FROM signin_failures WHERE failed_at < $1")
                .bind(forget_before).execute(c).await.map(|r| r.rows_affected())
        })
        .doing("forgetting old failed sign-ins")?;
        tx.commit().await
    }

    /// Forgets `key`'s failed sign-ins (it signed in).
    pub async fn signin_succeeded(&self, key: &str) -> Result<()> {
        dispatch_pool!(&self.database().pool, pool => {
            sqlx::query("DELETE FROM signin_failures WHERE key = $1").bind(key).execute(pool).await.map(|r| r.rows_affected())
        })
        .doing("forgetting failed sign-ins")?;
        Ok(())
    }

    /// Uses TOTP time step `step` for `person`, if it is later than every step they used
    /// before: true if it was, false if this or a later code was used already. One
    /// statement, so two servers given the same code at once cannot both accept it.
    pub async fn use_totp_step(&self, person: &str, step: i64) -> Result<bool> {
        let used = dispatch_pool!(&self.database().pool, pool => {
            sqlx::query(
                "INSERT INTO totp_steps (person, step) VALUES ($1, $2) ON CONFLICT (person) \
                 DO UPDATE SET step = excluded.step WHERE totp_steps.step < excluded.step",
            )
            .bind(person).bind(step).execute(pool).await.map(|r| r.rows_affected())
        })
        .doing("using a one-time code")?;
        Ok(used == 1)
    }

    /// When the session `reference` was last used, if it has been.
    pub async fn session_last_used(&self, reference: &str) -> Result<Option<i64>> {
        let mut times: Vec<(i64,)> = rows!(
            self,
            (i64,),
            "reading a session's last use",
            "SELECT last_seen FROM session_use WHERE reference = $1",
            reference
        )?;
        Ok(times.pop().map(|(t,)| t))
    }

    /// Forgets the use of sessions last used before `before` (they have ended).
    pub async fn forget_session_use(&self, before: i64) -> Result<()> {
        dispatch_pool!(&self.database().pool, pool => {
            sqlx::query("DELETE FROM session_use WHERE last_seen < $1")
                .bind(before).execute(pool).await.map(|r| r.rows_affected())
        })
        .doing("forgetting ended sessions' use")?;
        Ok(())
    }

    /// Notes that the session `reference` was used at `now` (`None`: forgets it).
    pub async fn session_used(&self, reference: &str, now: Option<i64>) -> Result<()> {
        dispatch_pool!(&self.database().pool, pool => {
            match now {
                Some(now) => sqlx::query(
                    "INSERT INTO session_use (reference, last_seen) VALUES ($1, $2) \
                     ON CONFLICT (reference) DO UPDATE SET last_seen = excluded.last_seen",
                )
                .bind(reference).bind(now).execute(pool).await.map(|r| r.rows_affected()),
                None => sqlx::query("DELETE FROM session_use WHERE reference = $1")
                    .bind(reference).execute(pool).await.map(|r| r.rows_affected()),
            }
        })
        .doing("noting a session's use")?;
        Ok(())
    }
}
