//! The current-state tables as a function of the ledger. Each event kind has a body of a
//! fixed shape, checked before anything is written, and one change it makes to the
//! tables. Live appends and replay run the same [`apply`], so the state rebuilt from the
//! ledger is the live state (a test compares them).

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::database::{dispatch_tx, Database, Tx};
use crate::error::{Doing, Result, StoreError};

/// Runs one statement in the append's transaction and returns the rows it touched.
macro_rules! execute {
    ($tx:expr, $doing:literal, $sql:literal $(, $arg:expr)* $(,)?) => {
        dispatch_tx!(&mut *$tx, c => sqlx::query($sql)$(.bind($arg))*.execute(c).await.map(|r| r.rows_affected()))
            .doing($doing)
    };
}

mod access;
mod accounts;
mod datacenter;
mod identities;
mod lifecycle;

/// Refuses an event whose statement touched no row (what it changes is not there, or
/// not in the state it needs).
pub(crate) fn touched(kind: &str, rows: u64, message: impl FnOnce() -> String) -> Result<()> {
    if rows == 0 {
        return Err(refused(kind, message()));
    }
    Ok(())
}

/// An event kind and what its body must hold.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Change {
    /// The first event: the ledger's first signing key.
    LedgerInitialised {
        public_key: [u8; 32],
    },
    /// A new signing key, endorsed by the signature of the key it replaces.
    KeyRotated {
        public_key: [u8; 32],
        endorsement: [u8; 64],
    },
    /// A remark recorded for the record; changes no table.
    Note,
    /// A signed certificate of a data extract (1.3.7), kept in the ledger; changes no table.
    ExtractCertified,
    UnitRecorded(UnitRecorded),
    PersonRecorded(PersonRecorded),
    PersonAssigned(PersonAssigned),
    ResourceRecorded(ResourceRecorded),
    GrantRecorded(GrantRecorded),
    GrantRevoked(GrantRevoked),
    FindingOpened(FindingOpened),
    FindingStatus(FindingStatus),
    /// The privileged-access lifecycle: requests, approvals, grant states, tasks,
    /// enforcement, reviews, notifications and tokens.
    Lifecycle(lifecycle::LifecycleChange),
    /// Datacenter access: incidents, cameras, the roster, passes, the guard's logbook.
    Datacenter(datacenter::DatacenterChange),
    /// The system-account registry and log ingests.
    Accounts(accounts::AccountsChange),
    /// Users and groups an identity provider keeps over SCIM.
    Identities(identities::IdentitiesChange),
    /// Bantay's own roles, credentials set, sessions.
    Access(access::AccessChange),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UnitRecorded {
    id: String,
    name: String,
    #[serde(default)]
    parent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PersonRecorded {
    id: String,
    name: String,
    #[serde(default)]
    port: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

/// A personnel order: from `valid_from` the person belongs to `unit`; an open assignment
/// they had before ends then.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PersonAssigned {
    person: String,
    unit: String,
    valid_from: i64,
    #[serde(default)]
    valid_until: Option<i64>,
    order: String,
    /// The order names the person head of the unit (they approve for it).
    #[serde(default)]
    head: bool,
    /// An additional designation: the person's other assignments go on (records
    /// imported as they are say so too). Without it, the order moves the person.
    #[serde(default)]
    concurrent: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResourceRecorded {
    id: String,
    kind: String,
    class: String,
    #[serde(default)]
    system: Option<String>,
    #[serde(default)]
    port: Option<String>,
    /// Where Bantay enforces access to it, e.g. a PostgreSQL server named in the
    /// configuration, and the role that carries the privilege there.
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    target_role: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GrantRecorded {
    id: String,
    person: String,
    resource: String,
    clause: String,
    valid_from: i64,
    #[serde(default)]
    valid_until: Option<i64>,
    /// The request whose approval made it.
    #[serde(default)]
    request: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GrantRevoked {
    id: String,
    reason: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FindingOpened {
    id: String,
    clause: String,
    subject: String,
    summary: String,
    evidence: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FindingStatus {
    id: String,
    status: String,
    /// Why, in the words of whoever took the step; kept in the event.
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyBody {
    public_key: String,
    #[serde(default)]
    endorsement: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    #[allow(dead_code)] // read to check the shape; the text lives in the event itself
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CertificateBody {
    #[allow(dead_code)] // read to check the shape; `bantay verify` reads it
    certificate: bantay_ledger::certificate::Certificate,
}

/// The event kinds a caller may append; `ledger.*` key events are written only by
/// `init` and key rotation.
pub const EVENT_KINDS: &[&str] = &[
    "ledger.note",
    "extract.certified",
    "unit.recorded",
    "person.recorded",
    "person.assigned",
    "resource.recorded",
    "grant.recorded",
    "grant.revoked",
    "finding.opened",
    "finding.status",
    "grant.expired",
    "grant.suspended",
    "grant.enforced",
    "request.submitted",
    "request.approved",
    "request.refused",
    "request.withdrawn",
    "request.expired",
    "task.opened",
    "task.done",
    "review.opened",
    "review.decided",
    "review.closed",
    "notification.queued",
    "notification.delivered",
    "token.issued",
    "token.revoked",
    "incident.opened",
    "incident.responded",
    "incident.escalated",
    "incident.resolved",
    "camera.status",
    "guard.rostered",
    "pass.requested",
    "pass.approved",
    "pass.refused",
    "pass.revoked",
    "guard.entry",
    "guard.exit",
    "guard.refused",
    "account.documented",
    "account.withdrawn",
    "authlog.ingested",
    "accounts.imported",
    "account.linked",
    "identity.provisioned",
    "identity.deprovisioned",
    "role.assigned",
    "role.removed",
    "credential.set",
    "session.opened",
    "session.closed",
    "evidence.viewed",
];

pub(crate) fn body<T: DeserializeOwned>(kind: &str, body: &Value) -> Result<T> {
    T::deserialize(body)
        .map_err(|e| StoreError::Event { kind: kind.to_owned(), message: format!("body: {e}") })
}

fn hex_array<const N: usize>(kind: &str, field: &str, text: &str) -> Result<[u8; N]> {
    hex::decode(text).ok().and_then(|b| b.try_into().ok()).ok_or_else(|| StoreError::Event {
        kind: kind.to_owned(),
        message: format!("body.{field}: expected {} hex digits", 2 * N),
    })
}

impl Change {
    /// Reads an event's body by its kind; refuses unknown kinds and malformed bodies.
    pub(crate) fn parse(kind: &str, value: &Value) -> Result<Self> {
        Ok(match kind {
            "ledger.initialised" | "ledger.key_rotated" => {
                let key: KeyBody = body(kind, value)?;
                let public_key = hex_array(kind, "public_key", &key.public_key)?;
                match (kind, key.endorsement) {
                    ("ledger.initialised", None) => Change::LedgerInitialised { public_key },
                    ("ledger.key_rotated", Some(e)) => Change::KeyRotated {
                        public_key,
                        endorsement: hex_array(kind, "endorsement", &e)?,
                    },
                    _ => {
                        return Err(StoreError::Event {
                            kind: kind.to_owned(),
                            message: "body.endorsement: a rotation needs one, the first key none"
                                .into(),
                        })
                    }
                }
            }
            "ledger.note" => body::<NoteBody>(kind, value).map(|_| Change::Note)?,
            "extract.certified" => {
                body::<CertificateBody>(kind, value).map(|_| Change::ExtractCertified)?
            }
            "unit.recorded" => Change::UnitRecorded(body(kind, value)?),
            "person.recorded" => Change::PersonRecorded(body(kind, value)?),
            "person.assigned" => Change::PersonAssigned(body(kind, value)?),
            "resource.recorded" => Change::ResourceRecorded(body(kind, value)?),
            "grant.recorded" => Change::GrantRecorded(body(kind, value)?),
            "grant.revoked" => Change::GrantRevoked(body(kind, value)?),
            "finding.opened" => Change::FindingOpened(body(kind, value)?),
            "finding.status" => {
                let change: FindingStatus = body(kind, value)?;
                if !["open", "acknowledged", "remediated", "reopened"]
                    .contains(&change.status.as_str())
                {
                    return Err(StoreError::Event {
                        kind: kind.to_owned(),
                        message: format!(
                            "body.status: `{}` is not one of open, acknowledged, remediated, reopened",
                            change.status
                        ),
                    });
                }
                Change::FindingStatus(change)
            }
            _ => match lifecycle::LifecycleChange::parse(kind, value)? {
                Some(change) => Change::Lifecycle(change),
                None => match datacenter::DatacenterChange::parse(kind, value)? {
                    Some(change) => Change::Datacenter(change),
                    None => match accounts::AccountsChange::parse(kind, value)? {
                        Some(change) => Change::Accounts(change),
                        None => match identities::IdentitiesChange::parse(kind, value)? {
                            Some(change) => Change::Identities(change),
                            None => match access::AccessChange::parse(kind, value)? {
                                Some(change) => Change::Access(change),
                                None => {
                                    return Err(StoreError::Event {
                                        kind: kind.to_owned(),
                                        message: format!(
                                            "unknown event kind; known kinds: {}",
                                            EVENT_KINDS.join(", ")
                                        ),
                                    })
                                }
                            },
                        },
                    },
                },
            },
        })
    }
}

pub(crate) fn refused(kind: &str, message: String) -> StoreError {
    StoreError::Event { kind: kind.to_owned(), message }
}

/// Whether a row with this id exists in `table` (a fixed table name, never input).
pub(crate) async fn exists(tx: &mut Tx, table: &'static str, id: &str) -> Result<bool> {
    let sql = match table {
        "personnel" => "SELECT COUNT(*) FROM personnel WHERE id = $1",
        "units" => "SELECT COUNT(*) FROM units WHERE id = $1",
        _ => "SELECT COUNT(*) FROM resources WHERE id = $1",
    };
    let n: i64 = dispatch_tx!(tx, c => sqlx::query_scalar(sql).bind(id).fetch_one(c).await)
        .doing("checking a reference")?;
    Ok(n > 0)
}

/// Applies the change of event `seq` (at `time`) to the state tables, inside the append's
/// transaction. A change that contradicts the state (an unknown person, a grant that is
/// not there) is refused and the whole append rolls back.
pub(crate) async fn apply(tx: &mut Tx, seq: u64, time: i64, change: &Change) -> Result<()> {
    let seq = seq as i64;
    match change {
        Change::LedgerInitialised { public_key } | Change::KeyRotated { public_key, .. } => {
            dispatch_tx!(tx, c => sqlx::query("INSERT INTO ledger_keys (seq, public_key) VALUES ($1, $2)")
                .bind(seq).bind(&public_key[..]).execute(c).await.map(|r| r.rows_affected()))
            .doing("recording a signing key")?;
        }
        Change::Note | Change::ExtractCertified => {}
        Change::UnitRecorded(u) => {
            if let Some(parent) = &u.parent {
                if !exists(tx, "units", parent).await? {
                    return Err(refused(
                        "unit.recorded",
                        format!("body.parent: no unit `{parent}`; record the parent unit first"),
                    ));
                }
            }
            dispatch_tx!(tx, c => sqlx::query(
                "INSERT INTO units (id, name, parent, seq) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, parent = excluded.parent, seq = excluded.seq")
                .bind(&u.id).bind(&u.name).bind(&u.parent).bind(seq).execute(c).await.map(|r| r.rows_affected()))
            .doing("recording a unit")?;
        }
        Change::PersonRecorded(p) => {
            dispatch_tx!(tx, c => sqlx::query(
                "INSERT INTO personnel (id, name, port, email, seq) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, port = excluded.port, \
                 email = excluded.email, seq = excluded.seq")
                .bind(&p.id).bind(&p.name).bind(&p.port).bind(&p.email).bind(seq).execute(c).await.map(|r| r.rows_affected()))
            .doing("recording a person")?;
        }
        Change::PersonAssigned(a) => {
            if !exists(tx, "personnel", &a.person).await? {
                return Err(refused(
                    "person.assigned",
                    format!("body.person: no person `{}`", a.person),
                ));
            }
            if !exists(tx, "units", &a.unit).await? {
                return Err(refused("person.assigned", format!("body.unit: no unit `{}`", a.unit)));
            }
            if a.valid_until.is_some_and(|until| until <= a.valid_from) {
                return Err(refused(
                    "person.assigned",
                    "body.valid_until: must be after valid_from".into(),
                ));
            }
            if !a.concurrent {
                dispatch_tx!(tx, c => sqlx::query(
                    "UPDATE assignments SET valid_until = $1, seq = $2 \
                     WHERE person = $3 AND valid_until IS NULL AND valid_from < $1")
                    .bind(a.valid_from).bind(seq).bind(&a.person).execute(c).await.map(|r| r.rows_affected()))
                .doing("ending the previous assignment")?;
            }
            let inserted = dispatch_tx!(tx, c => sqlx::query(
                "INSERT INTO assignments (person, unit, valid_from, valid_until, personnel_order, is_head, seq) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (person, unit, valid_from) DO NOTHING")
                .bind(&a.person).bind(&a.unit).bind(a.valid_from).bind(a.valid_until).bind(&a.order)
                .bind(i32::from(a.head)).bind(seq)
                .execute(c).await.map(|r| r.rows_affected()))
            .doing("recording an assignment")?;
            if inserted == 0 {
                return Err(refused(
                    "person.assigned",
                    format!(
                        "`{}` already has an assignment to {} from {}; a later order must start later",
                        a.person, a.unit, a.valid_from
                    ),
                ));
            }
        }
        Change::ResourceRecorded(r) => {
            dispatch_tx!(tx, c => sqlx::query(
                "INSERT INTO resources (id, kind, class, system, port, target, target_role, seq) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, class = excluded.class, \
                 system = excluded.system, port = excluded.port, target = excluded.target, \
                 target_role = excluded.target_role, seq = excluded.seq")
                .bind(&r.id).bind(&r.kind).bind(&r.class).bind(&r.system).bind(&r.port)
                .bind(&r.target).bind(&r.target_role).bind(seq).execute(c).await.map(|r| r.rows_affected()))
            .doing("recording a resource")?;
        }
        Change::GrantRecorded(g) => {
            if !exists(tx, "personnel", &g.person).await? {
                return Err(refused(
                    "grant.recorded",
                    format!("body.person: no person `{}`", g.person),
                ));
            }
            if !exists(tx, "resources", &g.resource).await? {
                return Err(refused(
                    "grant.recorded",
                    format!("body.resource: no resource `{}`", g.resource),
                ));
            }
            let inserted = dispatch_tx!(tx, c => sqlx::query(
                "INSERT INTO grants (id, person, resource, clause, valid_from, valid_until, status, request, seq) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8) ON CONFLICT (id) DO NOTHING")
                .bind(&g.id).bind(&g.person).bind(&g.resource).bind(&g.clause).bind(g.valid_from)
                .bind(g.valid_until).bind(&g.request).bind(seq).execute(c).await.map(|r| r.rows_affected()))
            .doing("recording a grant")?;
            if inserted == 0 {
                return Err(refused(
                    "grant.recorded",
                    format!("body.id: grant `{}` exists already; grant ids are never reused", g.id),
                ));
            }
        }
        Change::GrantRevoked(r) => {
            let updated = dispatch_tx!(tx, c => sqlx::query(
                "UPDATE grants SET status = 'revoked', \
                 valid_until = CASE WHEN valid_until IS NULL OR valid_until > $1 THEN $1 ELSE valid_until END, \
                 seq = $2 WHERE id = $3 AND status IN ('active', 'suspended')")
                .bind(time).bind(seq).bind(&r.id).execute(c).await.map(|r| r.rows_affected()))
            .doing("revoking a grant")?;
            if updated == 0 {
                return Err(refused(
                    "grant.revoked",
                    format!("body.id: no active or suspended grant `{}`", r.id),
                ));
            }
        }
        Change::FindingOpened(f) => {
            let inserted = dispatch_tx!(tx, c => sqlx::query(
                "INSERT INTO findings (id, clause, subject, summary, evidence, status, opened, seq) \
                 VALUES ($1, $2, $3, $4, $5, 'open', $6, $7) ON CONFLICT (id) DO NOTHING")
                .bind(&f.id).bind(&f.clause).bind(&f.subject).bind(&f.summary).bind(&f.evidence)
                .bind(time).bind(seq).execute(c).await.map(|r| r.rows_affected()))
            .doing("opening a finding")?;
            if inserted == 0 {
                return Err(refused(
                    "finding.opened",
                    format!("body.id: finding `{}` exists already", f.id),
                ));
            }
        }
        Change::FindingStatus(s) => {
            let updated = dispatch_tx!(tx, c => sqlx::query("UPDATE findings SET status = $1, seq = $2 WHERE id = $3")
                .bind(&s.status).bind(seq).bind(&s.id).execute(c).await.map(|r| r.rows_affected()))
            .doing("changing a finding's status")?;
            if updated == 0 {
                return Err(refused("finding.status", format!("body.id: no finding `{}`", s.id)));
            }
        }
        Change::Lifecycle(change) => lifecycle::apply(tx, seq, time, change).await?,
        Change::Datacenter(change) => datacenter::apply(tx, seq, time, change).await?,
        Change::Accounts(change) => accounts::apply(tx, seq, change).await?,
        Change::Identities(change) => identities::apply(tx, seq, time, change).await?,
        Change::Access(change) => access::apply(tx, seq, time, change).await?,
    }
    Ok(())
}

/// Applies the changes of events `base`, `base + 1`, … in order. Runs of findings (the
/// bulk of what scans and monitors write) go in as multi-row inserts; the rest one by
/// one. The outcome is the same as applying each in turn (replay does that).
pub(crate) async fn apply_all(
    tx: &mut Tx,
    base: u64,
    times: &[i64],
    changes: &[Change],
) -> Result<()> {
    let mut i = 0;
    while i < changes.len() {
        let run = changes[i..].iter().take_while(|c| matches!(c, Change::FindingOpened(_))).count();
        if run >= 2 {
            for start in (i..i + run).step_by(100) {
                let end = (start + 100).min(i + run);
                open_findings(tx, base + start as u64, &times[start..end], &changes[start..end])
                    .await?;
            }
            i += run;
        } else {
            apply(tx, base + i as u64, times[i], &changes[i]).await?;
            i += 1;
        }
    }
    Ok(())
}

/// One multi-row insert of `finding.opened` changes; a duplicate id is refused by name.
async fn open_findings(tx: &mut Tx, first: u64, times: &[i64], changes: &[Change]) -> Result<()> {
    let findings: Vec<&FindingOpened> = changes
        .iter()
        .filter_map(|c| if let Change::FindingOpened(f) = c { Some(f) } else { None })
        .collect();
    let mut sql = String::from(
        "INSERT INTO findings (id, clause, subject, summary, evidence, status, opened, seq) VALUES ",
    );
    let mut numbered = crate::database::Placeholders::for_tx(tx);
    for k in 0..findings.len() {
        if k > 0 {
            sql.push(',');
        }
        let [a, b, c, d, e, f, g] = std::array::from_fn(|_| numbered.next());
        sql.push_str(&format!("({a},{b},{c},{d},{e},'open',{f},{g})"));
    }
    sql.push_str(" ON CONFLICT (id) DO NOTHING");
    let inserted = dispatch_tx!(&mut *tx, c => {
        let mut query = sqlx::query(&sql);
        for (k, f) in findings.iter().enumerate() {
            query = query.bind(&f.id).bind(&f.clause).bind(&f.subject).bind(&f.summary).bind(&f.evidence)
                .bind(times[k]).bind((first + k as u64) as i64);
        }
        query.execute(c).await.map(|r| r.rows_affected())
    })
    .doing("opening findings")?;
    if inserted as usize == findings.len() {
        return Ok(());
    }
    // Some id was there already (or twice in the batch): name the first such event.
    for (k, f) in findings.iter().enumerate() {
        let seq: Option<i64> = dispatch_tx!(&mut *tx, c => sqlx::query_scalar("SELECT seq FROM findings WHERE id = $1").bind(&f.id).fetch_optional(c).await)
            .doing("checking finding ids")?;
        if seq != Some((first + k as u64) as i64) {
            return Err(refused(
                "finding.opened",
                format!("body.id: finding `{}` exists already", f.id),
            ));
        }
    }
    Err(refused("finding.opened", "body.id: a finding exists already".into()))
}

/// The state tables, emptied before a replay (children before parents).
pub(crate) const STATE_TABLES: &[&str] = &[
    "sessions",
    "access_roles",
    "guard_log",
    "visits",
    "pass_shifts",
    "passes",
    "roster",
    "identities",
    "account_links",
    "held_accounts",
    "system_accounts",
    "camera_outages",
    "cameras",
    "incidents",
    "api_tokens",
    "notifications",
    "review_items",
    "reviews",
    "enforcements",
    "tasks",
    "approvals",
    "requests",
    "grants",
    "assignments",
    "findings",
    "resources",
    "personnel",
    "units",
    "ledger_keys",
];

/// Every row of every state table as text, in key order: two databases hold the same
/// state exactly when these are equal.
pub async fn state_rows(db: &Database) -> Result<Vec<String>> {
    let mut tx = db.begin().await?;
    state_rows_in(&mut tx).await
}

pub(crate) async fn state_rows_in(tx: &mut Tx) -> Result<Vec<String>> {
    type Row = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    // Every column cast to text, so one row type serves every table and both backends.
    const QUERIES: &[&str] = &[
        "SELECT 'unit', id, name, parent, CAST(seq AS TEXT), NULL, NULL, NULL FROM units ORDER BY id",
        "SELECT 'person', id, name, port, CAST(seq AS TEXT), email, NULL, NULL FROM personnel ORDER BY id",
        "SELECT 'assignment', person, unit, CAST(valid_from AS TEXT), CAST(valid_until AS TEXT), personnel_order, CAST(seq AS TEXT), CAST(is_head AS TEXT) FROM assignments ORDER BY person, valid_from, unit",
        "SELECT 'resource', id, kind, class, system, port, CAST(seq AS TEXT), target || ' ' || target_role FROM resources ORDER BY id",
        "SELECT 'grant', id, person || ' ' || resource || ' ' || clause, CAST(valid_from AS TEXT), CAST(valid_until AS TEXT), status, CAST(seq AS TEXT), request FROM grants ORDER BY id",
        "SELECT 'request', id, requester || ' ' || person || ' ' || resource || ' ' || clause || ' ' || kind, CAST(valid_from AS TEXT) || ' ' || CAST(valid_until AS TEXT), status || ' ' || chain || ' ' || CAST(approved AS TEXT), reasons, CAST(expires AS TEXT), CAST(seq AS TEXT) FROM requests ORDER BY id",
        "SELECT 'approval', request, CAST(step AS TEXT), unit, approver, digest, CAST(time AS TEXT), CAST(seq AS TEXT) FROM approvals ORDER BY request, step",
        "SELECT 'task', id, grant_id, reason, CAST(due AS TEXT), status, evidence, CAST(seq AS TEXT) FROM tasks ORDER BY id",
        "SELECT 'enforcement', grant_id, target, role, login, status, CAST(seq AS TEXT), NULL FROM enforcements ORDER BY grant_id",
        "SELECT 'review', id, title, CAST(deadline AS TEXT), status, CAST(opened AS TEXT), CAST(seq AS TEXT), NULL FROM reviews ORDER BY id",
        "SELECT 'review_item', review, grant_id, reviewer, decision, decided_by, CAST(seq AS TEXT), NULL FROM review_items ORDER BY review, grant_id",
        "SELECT 'notification', id, recipient, subject, body, status, CAST(attempts AS TEXT), CAST(seq AS TEXT) FROM notifications ORDER BY id",
        "SELECT 'incident', id, title || ' ' || priority || ' ' || owner, CAST(tier AS TEXT) || ' ' || status, CAST(respond_by AS TEXT) || ' ' || CAST(resolve_by AS TEXT), CAST(responded AS TEXT), CAST(resolved AS TEXT), CAST(seq AS TEXT) FROM incidents ORDER BY id",
        "SELECT 'camera', datacenter, camera, CAST(operational AS TEXT), CAST(since AS TEXT), note, CAST(seq AS TEXT), NULL FROM cameras ORDER BY datacenter, camera",
        "SELECT 'outage', datacenter, camera, CAST(down_from AS TEXT), CAST(down_until AS TEXT), CAST(seq AS TEXT), NULL, NULL FROM camera_outages ORDER BY datacenter, camera, down_from",
        "SELECT 'roster', id, guard, datacenter || ' ' || post, CAST(valid_from AS TEXT), CAST(valid_until AS TEXT), CAST(seq AS TEXT), NULL FROM roster ORDER BY id",
        "SELECT 'pass', id, requester || ' ' || person || ' ' || datacenter || ' ' || incident, reason, CAST(valid_from AS TEXT) || ' ' || CAST(valid_until AS TEXT), status || ' ' || COALESCE(approver, ''), reasons || COALESCE(token, ''), CAST(seq AS TEXT) FROM passes ORDER BY id",
        "SELECT 'pass_shift', datacenter, CAST(shift_start AS TEXT), CAST(slot AS TEXT), pass, CAST(seq AS TEXT), NULL, NULL FROM pass_shifts ORDER BY datacenter, shift_start, slot",
        "SELECT 'visit', id, pass, person || ' ' || datacenter || ' ' || guard, CAST(entered AS TEXT), CAST(exited AS TEXT), exit_guard, CAST(seq AS TEXT) FROM visits ORDER BY id",
        "SELECT 'guard_log', CAST(seq AS TEXT), datacenter, guard, CAST(time AS TEXT), action, pass, person || ' ' || verdict FROM guard_log ORDER BY seq",
        "SELECT 'token', id, person, hash, CAST(created AS TEXT), CAST(revoked AS TEXT), CAST(seq AS TEXT), scope FROM api_tokens ORDER BY id",
        "SELECT 'finding', id, clause || ' ' || subject, summary, evidence, status, CAST(opened AS TEXT), CAST(seq AS TEXT) FROM findings ORDER BY id",
        "SELECT 'system_account', host, account, system || ' ' || custodian || ' ' || usage, purpose, origins, CAST(seq AS TEXT), NULL FROM system_accounts ORDER BY host, account",
        "SELECT 'held_account', source, account, kind || ' ' || resource, CAST(full_control AS TEXT), how, CAST(seq AS TEXT), NULL FROM held_accounts ORDER BY source, account",
        "SELECT 'account_link', source, account, person, CAST(seq AS TEXT), NULL, NULL, NULL FROM account_links ORDER BY source, account",
        "SELECT 'identity', resource_type, id, body, person, CAST(created AS TEXT), CAST(modified AS TEXT) || ' ' || CAST(version AS TEXT), CAST(seq AS TEXT) FROM identities ORDER BY resource_type, id",
        "SELECT 'access_role', person, role, CAST(seq AS TEXT), NULL, NULL, NULL, NULL FROM access_roles ORDER BY person, role",
        "SELECT 'session', hash, reference, person, factors, CAST(created AS TEXT) || ' ' || CAST(expires AS TEXT), CAST(closed AS TEXT), CAST(seq AS TEXT) FROM sessions ORDER BY hash",
        "SELECT 'key', CAST(seq AS TEXT), NULL, NULL, NULL, NULL, NULL, NULL FROM ledger_keys ORDER BY seq",
    ];
    let mut out = Vec::new();
    for sql in QUERIES {
        let rows: Vec<Row> = dispatch_tx!(&mut *tx, c => sqlx::query_as(sql).fetch_all(c).await)
            .doing("reading the state")?;
        out.extend(rows.into_iter().map(|r| format!("{r:?}")));
    }
    Ok(out)
}
