//! Identity events: what an identity provider provisions over SCIM (a User, a Group)
//! replaces what was kept of it; a deprovisioned one leaves the table. The person a
//! User is, and what its leaving means for their access, are their own events.

use serde::Deserialize;
use serde_json::Value;

use super::{body, exists, refused, touched};
use crate::database::{dispatch_tx, Tx};
use crate::error::{Doing, Result};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum IdentitiesChange {
    Provisioned(Provisioned),
    Deprovisioned { resource_type: String, id: String },
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Provisioned {
    #[serde(rename = "type")]
    resource_type: String,
    id: String,
    /// The resource as kept: a JSON object without `id` and `meta`.
    resource: serde_json::Map<String, Value>,
    #[serde(default)]
    person: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeprovisionedBody {
    #[serde(rename = "type")]
    resource_type: String,
    id: String,
    #[serde(default)]
    #[allow(dead_code)] // kept in the event for the record
    person: Option<String>,
}

const TYPES: &[&str] = &["User", "Group"];

impl IdentitiesChange {
    pub(crate) fn parse(kind: &str, value: &Value) -> Result<Option<Self>> {
        let change = match kind {
            "identity.provisioned" => IdentitiesChange::Provisioned(body(kind, value)?),
            "identity.deprovisioned" => {
                let b: DeprovisionedBody = body(kind, value)?;
                IdentitiesChange::Deprovisioned { resource_type: b.resource_type, id: b.id }
            }
            _ => return Ok(None),
        };
        let resource_type = match &change {
            IdentitiesChange::Provisioned(p) => &p.resource_type,
            IdentitiesChange::Deprovisioned { resource_type, .. } => resource_type,
        };
        if !TYPES.contains(&resource_type.as_str()) {
            return Err(refused(
                kind,
                format!("body.type: `{resource_type}` is not one of {}", TYPES.join(", ")),
            ));
        }
        Ok(Some(change))
    }
}

pub(crate) async fn apply(
    tx: &mut Tx,
    seq: i64,
    time: i64,
    change: &IdentitiesChange,
) -> Result<()> {
    match change {
        IdentitiesChange::Provisioned(p) => {
            if let Some(person) = &p.person {
                if !exists(tx, "personnel", person).await? {
                    return Err(refused(
                        "identity.provisioned",
                        format!("body.person: no person `{person}`; record the person first"),
                    ));
                }
            }
            let text = serde_json::to_string(&p.resource).unwrap_or_else(|_| "{}".into());
            execute!(tx, "keeping a provisioned identity",
                "INSERT INTO identities (resource_type, id, body, person, created, modified, version, seq) \
                 VALUES ($1, $2, $3, $4, $5, $5, 1, $6) \
                 ON CONFLICT (resource_type, id) DO UPDATE SET body = excluded.body, \
                 person = excluded.person, modified = excluded.modified, \
                 version = identities.version + 1, seq = excluded.seq",
                &p.resource_type, &p.id, &text, &p.person, time, seq)?;
        }
        IdentitiesChange::Deprovisioned { resource_type, id } => {
            let n = execute!(
                tx,
                "removing a deprovisioned identity",
                "DELETE FROM identities WHERE resource_type = $1 AND id = $2",
                resource_type,
                id
            )?;
            touched("identity.deprovisioned", n, || {
                format!("body.id: no {resource_type} `{id}` is provisioned")
            })?;
        }
    }
    Ok(())
}
