//! The privileged access that really exists: imports from Linux hosts, PostgreSQL
//! servers and applications, the links from their accounts to persons, and what the
//! order finds in them (4.1 and 4.2 over linked accounts, 4.5 over accounts linked to
//! nobody and not documented).
//!
//! An import is one append: the links it can make, an `accounts.imported` event with the
//! whole canonical snapshot and its SHA-256 (replacing what was known of the source), and
//! the findings it opens. Finding ids are a hash of what they are about, so importing the
//! same state again opens nothing twice.

use std::collections::{BTreeMap, BTreeSet};

use bantay_connect::ImportedAccount;
use bantay_core::{held_findings, ungranted_key, unowned_key, HeldAccess, HeldFinding};
use bantay_store::{HeldAccountRow, NewEvent};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::error::{Result, ServiceError};
use crate::service::{Actor, Service};

/// What kind of system a source is, and so what class of access its accounts hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Linux,
    Postgres,
    Application,
    /// A directory's privileged groups (LDAP, Active Directory): they may confer any
    /// class of access, so the resource named says which.
    Directory,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Linux => "linux",
            Self::Postgres => "postgres",
            Self::Application => "application",
            Self::Directory => "directory",
        }
    }

    /// The privilege class of the resource such a source is; any for a directory.
    fn class(self) -> Option<&'static str> {
        match self {
            Self::Linux => Some("os"),
            Self::Postgres => Some("database"),
            Self::Application => Some("application"),
            Self::Directory => None,
        }
    }
}

/// A file or server read for an import, with the SHA-256 of what was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportInput {
    pub name: String,
    pub sha256: String,
}

/// One import: everything `source` shows, on the resource it is.
#[derive(Debug, Clone)]
pub struct AccountsImport {
    pub source: String,
    pub kind: SourceKind,
    pub resource: String,
    pub inputs: Vec<ImportInput>,
    pub accounts: Vec<ImportedAccount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountsImported {
    pub source: String,
    /// SHA-256 of the canonical snapshot recorded.
    pub sha256: String,
    pub accounts: usize,
    pub full_control: usize,
    /// (account, person) links this import made.
    pub linked: Vec<(String, String)>,
    pub opened: Vec<String>,
    /// Breaches already on record.
    pub known: usize,
    /// Findings of accounts gone from the source, now remediated.
    pub remediated: usize,
}

/// An account as the checks see it: imported or on record, with its link.
struct Held {
    source: String,
    account: String,
    resource: String,
    full_control: bool,
    how: Vec<String>,
    person: Option<String>,
}

fn finding_id(f: &HeldFinding) -> String {
    id_of(f.clause.as_str(), &f.key)
}

pub(crate) fn id_of(clause: &str, key: &str) -> String {
    format!("F-{clause}-{}", &hex::encode(Sha256::digest(key.as_bytes()))[..16])
}

/// The finding statuses a fix can follow.
const UNFIXED: [&str; 3] = ["open", "acknowledged", "reopened"];

impl Held {
    fn from_row(r: HeldAccountRow) -> Held {
        Held {
            how: serde_json::from_str(&r.how).unwrap_or_default(),
            source: r.source,
            account: r.account,
            resource: r.resource,
            full_control: r.full_control != 0,
            person: r.person,
        }
    }
}

impl Service {
    /// Records what a source shows, replacing what was known of it, and opens the
    /// findings it gives: all or, on any problem, nothing.
    pub async fn import_accounts(
        &self,
        actor: &Actor,
        import: AccountsImport,
    ) -> Result<AccountsImported> {
        let source = import.source.trim();
        if source.is_empty() {
            return Err(ServiceError::bad("source", "name the host, server or application read"));
        }
        let Some(resource) = self.store.resource(&import.resource).await? else {
            return Err(ServiceError::bad(
                "resource",
                format!(
                    "no resource `{}` on record: record the {} it is first (bantay resources add)",
                    import.resource,
                    import.kind.as_str()
                ),
            ));
        };
        if let Some(class) = import.kind.class().filter(|&c| c != resource.class) {
            return Err(ServiceError::bad(
                "resource",
                format!(
                    "`{}` is {} access; the accounts of a {} source hold {class} access: name its {class} resource",
                    resource.id,
                    resource.class,
                    import.kind.as_str(),
                ),
            ));
        }
        let mut names = BTreeSet::new();
        if let Some(twice) = import.accounts.iter().find(|a| !names.insert(a.account.as_str())) {
            return Err(ServiceError::bad(
                "accounts",
                format!("account `{}` is listed twice: give each account once", twice.account),
            ));
        }
        let persons = self.store.persons().await?;
        let links: BTreeMap<(String, String), String> = self
            .store
            .account_links()
            .await?
            .into_iter()
            .map(|(source, account, person)| ((source, account), person))
            .collect();

        // Each account's person: a link on record, the source's own word, or a person
        // whose id or mail name is the account's name.
        let mut events = Vec::new();
        let mut linked = Vec::new();
        let mut held = Vec::new();
        for a in &import.accounts {
            let key = (source.to_owned(), a.account.clone());
            let on_record = links.get(&key).cloned();
            // The person, and (for a link this import makes) how it was known.
            let by_mail = || {
                persons.iter().find(|r| {
                    r.email
                        .as_deref()
                        .zip(a.mail.as_deref())
                        .is_some_and(|(m, n)| m.eq_ignore_ascii_case(n))
                })
            };
            let by_name = || {
                persons.iter().find(|r| {
                    r.id.eq_ignore_ascii_case(&a.account)
                        || r.email
                            .as_deref()
                            .and_then(|m| m.split('@').next())
                            .is_some_and(|local| local.eq_ignore_ascii_case(&a.account))
                })
            };
            let (person, note) = match (&on_record, &a.person) {
                (Some(p), _) => (Some(p.clone()), None),
                (None, Some(p)) => {
                    if !persons.iter().any(|r| r.id == *p) {
                        return Err(ServiceError::bad(
                            "person",
                            format!("account `{}`: no person `{p}` on record", a.account),
                        ));
                    }
                    (Some(p.clone()), Some("the source names the account's holder"))
                }
                (None, None) => match (by_mail(), by_name()) {
                    (Some(r), _) => {
                        (Some(r.id.clone()), Some("the source gives the holder's e-mail address"))
                    }
                    (None, Some(r)) => {
                        (Some(r.id.clone()), Some("the account bears the person's name"))
                    }
                    (None, None) => (None, None),
                },
            };
            if let (Some(p), Some(note)) = (&person, note) {
                events.push(self.event(
                    "account.linked",
                    actor,
                    json!({ "source": source, "account": a.account, "person": p, "note": note }),
                ));
                linked.push((a.account.clone(), p.clone()));
            }
            held.push(Held {
                source: source.to_owned(),
                account: a.account.clone(),
                resource: resource.id.clone(),
                full_control: a.full_control,
                how: a.how.clone(),
                person,
            });
        }

        let mut snapshot: Vec<Value> = held
            .iter()
            .map(|h| json!({ "account": h.account, "full_control": h.full_control, "how": h.how }))
            .collect();
        snapshot.sort_by(|a, b| a["account"].as_str().cmp(&b["account"].as_str()));
        let canonical = serde_json::to_vec(&snapshot)
            .map_err(|e| ServiceError::bad("accounts", e.to_string()))?;
        let sha256 = hex::encode(Sha256::digest(&canonical));

        // 4.2 counts what the linked persons hold through other sources too.
        let persons_here: BTreeSet<String> = held.iter().filter_map(|h| h.person.clone()).collect();
        let (before, elsewhere): (Vec<HeldAccountRow>, Vec<HeldAccountRow>) =
            self.store.held_accounts().await?.into_iter().partition(|r| r.source == source);
        let mut checked: Vec<Held> = elsewhere
            .into_iter()
            .filter(|r| r.person.as_ref().is_some_and(|p| persons_here.contains(p)))
            .map(Held::from_row)
            .collect();
        let here = held.len();
        checked.extend(held);
        let findings = self.check_held(&checked).await?;
        let (opened, known) = self.open_findings(actor, findings).await?;

        // An account gone from the source takes its findings with it.
        let mut closed = Vec::new();
        for gone in before.iter().filter(|r| !names.contains(r.account.as_str())) {
            let mut ids = vec![id_of(
                self.pack.rules.system_accounts.clause.as_str(),
                &unowned_key(source, &gone.account),
            )];
            if let Some(person) = &gone.person {
                let clause = self.pack.rules.grants.clause.as_str();
                ids.push(id_of(clause, &ungranted_key(source, &gone.account, person)));
            }
            for id in ids {
                let status = self.store.finding_status(&id).await?;
                if status.is_some_and(|s| UNFIXED.contains(&s.as_str())) {
                    let note = format!(
                        "`{}` is no longer on {source} (import {})",
                        gone.account,
                        &sha256[..12]
                    );
                    closed.push(self.event(
                        "finding.status",
                        actor,
                        json!({ "id": id, "status": "remediated", "note": note }),
                    ));
                }
            }
        }

        events.push(self.event(
            "accounts.imported",
            actor,
            json!({
                "source": source, "kind": import.kind.as_str(), "resource": resource.id,
                "sha256": sha256, "inputs": import.inputs, "accounts": snapshot,
                "findings": opened.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(),
            }),
        ));
        events.extend(opened.iter().map(|(_, e)| e.clone()));
        let remediated = closed.len();
        events.extend(closed);
        self.store.append(events, self.now().unix_seconds()).await?;
        Ok(AccountsImported {
            remediated,
            source: source.to_owned(),
            sha256,
            accounts: here,
            full_control: checked.iter().filter(|h| h.source == source && h.full_control).count(),
            linked,
            opened: opened.into_iter().map(|(id, _)| id).collect(),
            known,
        })
    }

    /// Links an imported account to the person who holds it, closes the finding that it
    /// was linked to nobody, and opens what the order finds in the person's access now.
    pub async fn link_account(
        &self,
        actor: &Actor,
        source: &str,
        account: &str,
        person: &str,
        note: &str,
    ) -> Result<Vec<String>> {
        if note.trim().is_empty() {
            return Err(ServiceError::bad("note", "say how you know whose account it is"));
        }
        if self.store.person(person).await?.is_none() {
            return Err(ServiceError::NotFound { what: "person", id: person.to_owned() });
        }
        let rows = self.store.held_accounts().await?;
        let Some(row) = rows.iter().find(|r| r.source == source && r.account == account) else {
            return Err(ServiceError::NotFound {
                what: "imported account",
                id: format!("{account}@{source}"),
            });
        };
        if row.person.as_deref() == Some(person) {
            return Err(ServiceError::Refused(format!(
                "{account}@{source} is linked to {person} already"
            )));
        }
        let mut events = vec![self.event(
            "account.linked",
            actor,
            json!({ "source": source, "account": account, "person": person, "note": note }),
        )];
        let unowned =
            id_of(self.pack.rules.system_accounts.clause.as_str(), &unowned_key(source, account));
        if let Some(status) = self.store.finding_status(&unowned).await? {
            if UNFIXED.contains(&status.as_str()) {
                events.push(self.event(
                    "finding.status",
                    actor,
                    json!({ "id": unowned, "status": "remediated", "note": format!("linked to {person}: {note}") }),
                ));
            }
        }
        let checked: Vec<Held> = rows
            .into_iter()
            .map(Held::from_row)
            .map(|mut h| {
                if h.source == source && h.account == account {
                    h.person = Some(person.to_owned());
                }
                h
            })
            .filter(|h| h.person.as_deref() == Some(person))
            .collect();
        let findings = self.check_held(&checked).await?;
        let (opened, _) = self.open_findings(actor, findings).await?;
        events.extend(opened.iter().map(|(_, e)| e.clone()));
        self.store.append(events, self.now().unix_seconds()).await?;
        Ok(opened.into_iter().map(|(id, _)| id).collect())
    }

    /// Reads a person's linked accounts against the order again, after their grants or
    /// units changed (a realignment), and opens what it now finds: an account whose grant
    /// was suspended is access with no grant on record (4.1).
    pub(crate) async fn recheck_held_of(&self, actor: &Actor, person: &str) -> Result<Vec<String>> {
        let theirs: Vec<Held> = self
            .store
            .held_accounts()
            .await?
            .into_iter()
            .map(Held::from_row)
            .filter(|h| h.person.as_deref() == Some(person))
            .collect();
        if theirs.is_empty() {
            return Ok(Vec::new());
        }
        let findings = self.check_held(&theirs).await?;
        let (opened, _) = self.open_findings(actor, findings).await?;
        if !opened.is_empty() {
            let events = opened.iter().map(|(_, e)| e.clone()).collect();
            self.store.append(events, self.now().unix_seconds()).await?;
        }
        Ok(opened.into_iter().map(|(id, _)| id).collect())
    }

    /// The imported privileged accounts with their links.
    pub async fn held_accounts(&self) -> Result<Vec<HeldAccountRow>> {
        Ok(self.store.held_accounts().await?)
    }

    async fn check_held(&self, held: &[Held]) -> Result<Vec<HeldFinding>> {
        let persons: BTreeSet<&str> = held.iter().filter_map(|h| h.person.as_deref()).collect();
        let resources: BTreeSet<&str> = held.iter().map(|h| h.resource.as_str()).collect();
        let persons: Vec<&str> = persons.into_iter().collect();
        let resources: Vec<&str> = resources.into_iter().collect();
        let (snapshot, _) = self.snapshot_of(&persons, &resources).await?;
        let mut access = Vec::new();
        for h in held {
            let resource = snapshot.resource(&h.resource).ok_or_else(|| {
                ServiceError::NotFound { what: "resource", id: h.resource.clone() }
            })?;
            access.push(HeldAccess {
                source: &h.source,
                account: &h.account,
                resource,
                full_control: h.full_control,
                how: &h.how,
                person: h.person.as_deref().and_then(|p| snapshot.person(p)),
            });
        }
        let registry = self.system_accounts().await?;
        Ok(held_findings(&self.pack, &snapshot, &access, &registry, self.now()))
    }

    /// `finding.opened` events for the findings not on record yet, and how many were.
    async fn open_findings(
        &self,
        actor: &Actor,
        findings: Vec<HeldFinding>,
    ) -> Result<(Vec<(String, NewEvent)>, usize)> {
        let mut opened: Vec<(String, NewEvent)> = Vec::new();
        let mut known = 0;
        for f in findings {
            let id = finding_id(&f);
            if opened.iter().any(|(o, _)| *o == id)
                || self.store.finding_status(&id).await?.is_some()
            {
                known += 1;
                continue;
            }
            let event = self.event(
                "finding.opened",
                actor,
                json!({ "id": id, "clause": f.clause.as_str(), "subject": f.subject, "summary": f.summary, "evidence": f.evidence }),
            );
            opened.push((id, event));
        }
        Ok((opened, known))
    }
}
