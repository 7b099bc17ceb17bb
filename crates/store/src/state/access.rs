//! Access to Bantay itself: the roles the organisation does not already imply (auditor,
//! administrator), that a person's credentials were set, and browser sessions opened and
//! closed. Sessions are kept by the SHA-256 of their cookie's secret, as API tokens are;
//! passwords and TOTP secrets never enter the ledger (see `credentials` in migration 0007).

use serde::Deserialize;
use serde_json::Value;

use super::{body, exists, refused, touched};
use crate::database::{dispatch_tx, Tx};
use crate::error::{Doing, Result};

/// The roles named by events; the others follow from the organisation.
pub const ASSIGNED_ROLES: &[&str] = &["auditor", "administrator"];

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AccessChange {
    RoleAssigned(RoleBody),
    RoleRemoved(RoleBody),
    CredentialSet(CredentialSet),
    SessionOpened(SessionOpened),
    SessionClosed(SessionClosed),
    /// Someone was shown findings with their evidence: a record only, no state.
    EvidenceViewed,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleBody {
    person: String,
    role: String,
}

/// That a person's sign-in was set, and with which factors; never the secrets.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CredentialSet {
    person: String,
    factors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SessionOpened {
    /// A short public name for the session, for the record and for closing it.
    reference: String,
    person: String,
    /// Hex SHA-256 of the cookie's secret.
    hash: String,
    expires: i64,
    factors: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)] // kept in the event for the record
    address: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SessionClosed {
    reference: String,
    #[allow(dead_code)] // kept in the event for the record
    reason: String,
}

const FACTORS: &[&str] = &["password", "totp"];

/// `evidence.viewed`: the findings whose evidence was shown, and where.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct EvidenceViewed {
    findings: Vec<String>,
    through: String,
}

/// Where evidence can be shown.
const THROUGH: &[&str] = &["page", "api", "cli"];

impl AccessChange {
    pub(crate) fn parse(kind: &str, value: &Value) -> Result<Option<Self>> {
        let factors_known = |factors: &[String]| -> Result<()> {
            match factors.iter().find(|f| !FACTORS.contains(&f.as_str())) {
                Some(f) => Err(refused(
                    kind,
                    format!("body.factors: `{f}` is not one of {}", FACTORS.join(", ")),
                )),
                None => Ok(()),
            }
        };
        Ok(Some(match kind {
            "role.assigned" | "role.removed" => {
                let b: RoleBody = body(kind, value)?;
                if !ASSIGNED_ROLES.contains(&b.role.as_str()) {
                    return Err(refused(
                        kind,
                        format!(
                            "body.role: `{}` is not one of {}",
                            b.role,
                            ASSIGNED_ROLES.join(", ")
                        ),
                    ));
                }
                if kind == "role.assigned" {
                    AccessChange::RoleAssigned(b)
                } else {
                    AccessChange::RoleRemoved(b)
                }
            }
            "credential.set" => {
                let b: CredentialSet = body(kind, value)?;
                factors_known(&b.factors)?;
                AccessChange::CredentialSet(b)
            }
            "session.opened" => {
                let b: SessionOpened = body(kind, value)?;
                factors_known(&b.factors)?;
                AccessChange::SessionOpened(b)
            }
            "session.closed" => AccessChange::SessionClosed(body(kind, value)?),
            "evidence.viewed" => {
                let b: EvidenceViewed = body(kind, value)?;
                if !THROUGH.contains(&b.through.as_str()) {
                    return Err(refused(
                        kind,
                        format!(
                            "body.through: `{}` is not one of {}",
                            b.through,
                            THROUGH.join(", ")
                        ),
                    ));
                }
                if b.findings.is_empty() {
                    return Err(refused(kind, "body.findings: name the findings shown".to_owned()));
                }
                AccessChange::EvidenceViewed
            }
            _ => return Ok(None),
        }))
    }
}

pub(crate) async fn apply(tx: &mut Tx, seq: i64, time: i64, change: &AccessChange) -> Result<()> {
    match change {
        AccessChange::RoleAssigned(r) => {
            person_known(tx, "role.assigned", &r.person).await?;
            execute!(
                tx,
                "assigning a role",
                "INSERT INTO access_roles (person, role, seq) VALUES ($1, $2, $3) \
                 ON CONFLICT (person, role) DO UPDATE SET seq = excluded.seq",
                &r.person,
                &r.role,
                seq
            )?;
        }
        AccessChange::RoleRemoved(r) => {
            let n = execute!(
                tx,
                "removing a role",
                "DELETE FROM access_roles WHERE person = $1 AND role = $2",
                &r.person,
                &r.role
            )?;
            touched("role.removed", n, || {
                format!("body.role: {} does not hold the role {}", r.person, r.role)
            })?;
        }
        AccessChange::CredentialSet(c) => person_known(tx, "credential.set", &c.person).await?,
        AccessChange::SessionOpened(s) => {
            person_known(tx, "session.opened", &s.person).await?;
            let n =
                execute!(tx, "opening a session",
                "INSERT INTO sessions (hash, reference, person, factors, created, expires, seq) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                &s.hash, &s.reference, &s.person, s.factors.join(" "), time, s.expires, seq)?;
            touched("session.opened", n, || {
                format!("body.reference: session `{}` exists already", s.reference)
            })?;
        }
        AccessChange::EvidenceViewed => {}
        AccessChange::SessionClosed(s) => {
            let n =
                execute!(tx, "closing a session",
                "UPDATE sessions SET closed = $1, seq = $2 WHERE reference = $3 AND closed IS NULL",
                time, seq, &s.reference)?;
            touched("session.closed", n, || {
                format!("body.reference: no open session `{}`", s.reference)
            })?;
        }
    }
    Ok(())
}

async fn person_known(tx: &mut Tx, kind: &str, person: &str) -> Result<()> {
    if exists(tx, "personnel", person).await? {
        Ok(())
    } else {
        Err(refused(kind, format!("body.person: no person `{person}`")))
    }
}
