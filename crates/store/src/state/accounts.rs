//! Account events and their changes to the state tables: the system-account registry
//! (4.5), imports of the privileged accounts that really exist and their links to
//! persons, and log ingests, which are on record but change no table.

use serde::Deserialize;
use serde_json::Value;

use super::{body, touched};
use crate::database::{dispatch_tx, Tx};
use crate::error::{Doing, Result};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AccountsChange {
    Documented(Documented),
    Withdrawn {
        host: String,
        account: String,
    },
    /// An authentication log was read; its findings are their own events.
    Ingested,
    /// Everything a source shows, replacing what was known of it.
    Imported(Imported),
    Linked {
        source: String,
        account: String,
        person: String,
    },
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Imported {
    source: String,
    kind: String,
    resource: String,
    /// SHA-256 of the canonical snapshot (the accounts below as JSON) and of the inputs.
    #[allow(dead_code)] // the event is the record
    sha256: String,
    #[allow(dead_code)]
    inputs: Vec<Value>,
    accounts: Vec<HeldAccount>,
    #[allow(dead_code)]
    findings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HeldAccount {
    account: String,
    full_control: bool,
    how: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkedBody {
    source: String,
    account: String,
    person: String,
    #[allow(dead_code)] // kept in the event for the record
    note: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Documented {
    host: String,
    account: String,
    system: String,
    purpose: String,
    custodian: String,
    usage: String,
    origins: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WithdrawnBody {
    host: String,
    account: String,
    #[allow(dead_code)] // kept in the event for the record
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // the event is the record; no table holds it
struct IngestedBody {
    source: String,
    sha256: String,
    bytes: u64,
    lines: u64,
    events: u64,
    failures: u64,
    unknown: u64,
    findings: Vec<String>,
}

impl AccountsChange {
    pub(crate) fn parse(kind: &str, value: &Value) -> Result<Option<Self>> {
        Ok(Some(match kind {
            "account.documented" => AccountsChange::Documented(body(kind, value)?),
            "account.withdrawn" => {
                let b: WithdrawnBody = body(kind, value)?;
                AccountsChange::Withdrawn { host: b.host, account: b.account }
            }
            "accounts.imported" => AccountsChange::Imported(body(kind, value)?),
            "account.linked" => {
                let b: LinkedBody = body(kind, value)?;
                AccountsChange::Linked { source: b.source, account: b.account, person: b.person }
            }
            "authlog.ingested" => {
                body::<IngestedBody>(kind, value).map(|_| AccountsChange::Ingested)?
            }
            _ => return Ok(None),
        }))
    }
}

pub(crate) async fn apply(tx: &mut Tx, seq: i64, change: &AccountsChange) -> Result<()> {
    match change {
        AccountsChange::Documented(d) => {
            let origins = serde_json::to_string(&d.origins).unwrap_or_else(|_| "[]".into());
            // Documenting an account again replaces its record.
            execute!(tx, "documenting a system account",
                "INSERT INTO system_accounts (host, account, system, purpose, custodian, usage, origins, seq) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (host, account) DO UPDATE SET system = $3, purpose = $4, custodian = $5, \
                 usage = $6, origins = $7, seq = $8",
                &d.host, &d.account, &d.system, &d.purpose, &d.custodian, &d.usage, &origins, seq)?;
        }
        AccountsChange::Withdrawn { host, account } => {
            let n = execute!(
                tx,
                "withdrawing a system account",
                "DELETE FROM system_accounts WHERE host = $1 AND account = $2",
                host,
                account
            )?;
            touched("account.withdrawn", n, || {
                format!("body.account: `{account}` on `{host}` is not a documented system account")
            })?;
        }
        AccountsChange::Ingested => {}
        AccountsChange::Imported(i) => {
            execute!(
                tx,
                "replacing a source's accounts",
                "DELETE FROM held_accounts WHERE source = $1",
                &i.source
            )?;
            for a in &i.accounts {
                let how = serde_json::to_string(&a.how).unwrap_or_else(|_| "[]".into());
                execute!(tx, "recording an imported account",
                    "INSERT INTO held_accounts (source, account, kind, resource, full_control, how, seq) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &i.source, &a.account, &i.kind, &i.resource, i32::from(a.full_control), &how, seq)?;
            }
        }
        AccountsChange::Linked { source, account, person } => {
            execute!(
                tx,
                "linking an account to a person",
                "INSERT INTO account_links (source, account, person, seq) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (source, account) DO UPDATE SET person = $3, seq = $4",
                source,
                account,
                person,
                seq
            )?;
        }
    }
    Ok(())
}
