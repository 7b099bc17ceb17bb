//! Section 4.5 in use: the registry of documented system accounts, authentication logs
//! read against it, and the findings they open, with each finding's lifecycle (open,
//! acknowledged, remediated, reopened) on the ledger.
//!
//! An ingest is one append: the findings it opens and an `authlog.ingested` event with the
//! SHA-256 of the bytes read, so a log read twice opens nothing twice and anyone holding
//! the log can show it is the one Bantay read.

use std::collections::HashSet;
use std::io::Read;

use bantay_connect::authlog::{
    read_log, AuthEvent, LogContext, LogTally, Reading, Service as LogService,
};
use bantay_core::{check_origin, misuse, AccountUse, SystemAccount};
use bantay_store::FindingRow;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::error::{Result, ServiceError};
use crate::service::{Actor, Service};

/// What an ingest read and found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ingested {
    pub source: String,
    pub sha256: String,
    pub bytes: u64,
    pub tally: LogTally,
    /// Findings this ingest opened.
    pub opened: Vec<String>,
    /// Misuses already on record from an earlier read of the same lines.
    pub known: usize,
}

/// A step in a finding's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingStep {
    Acknowledged,
    Remediated,
    Reopened,
}

impl FindingStep {
    /// The step a word names (`acknowledged`/`acknowledge`, `remediated`/`remediate`,
    /// `reopened`/`reopen`), as a form or the API sends it.
    pub fn parse(word: &str) -> Result<Self> {
        match word {
            "acknowledged" | "acknowledge" => Ok(Self::Acknowledged),
            "remediated" | "remediate" => Ok(Self::Remediated),
            "reopened" | "reopen" => Ok(Self::Reopened),
            other => Err(ServiceError::bad(
                "step",
                format!(
                    "`{other}` is not a step of a finding; write acknowledge, remediate or reopen"
                ),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Acknowledged => "acknowledged",
            Self::Remediated => "remediated",
            Self::Reopened => "reopened",
        }
    }

    /// The statuses this step may follow.
    fn from(self) -> &'static [&'static str] {
        match self {
            Self::Acknowledged => &["open", "reopened"],
            Self::Remediated => &["open", "acknowledged", "reopened"],
            Self::Reopened => &["remediated"],
        }
    }
}

/// A console login on a datacenter's host, to be checked against the guard's log.
struct Console {
    datacenter: String,
    host: String,
    account: String,
    time: bantay_core::Timestamp,
}

/// A system account used as 4.5 forbids: the finding it opens.
struct Misuse {
    id: String,
    subject: String,
    summary: String,
}

/// What one log line shows: a console login to check, a system account's misuse, and the
/// start of the line as evidence.
struct Shown {
    console: Option<Console>,
    misuse: Option<Misuse>,
    text: String,
}

/// The longest stretch of a log line kept as evidence.
const EVIDENCE_CHARS: usize = 600;

impl Service {
    /// How to read log lines that leave the year and zone unsaid: this year, on Manila's
    /// clock.
    pub fn log_context(&self) -> LogContext {
        LogContext::manila(self.now())
    }

    /// Documents a system account (4.5), or replaces its record.
    pub async fn document_account(
        &self,
        actor: &Actor,
        account: &SystemAccount,
    ) -> Result<SystemAccount> {
        for (field, value) in [
            ("host", &account.host),
            ("account", &account.account),
            ("system", &account.system),
            ("purpose", &account.purpose),
            ("usage", &account.usage),
        ] {
            if value.trim().is_empty() {
                return Err(ServiceError::bad(field, "must not be empty: say it in a few words"));
            }
        }
        let Some(unit) = self.pack.org.find(&account.custodian) else {
            return Err(ServiceError::bad(
                "custodian",
                format!(
                    "no unit `{}` in the pack; name the unit that answers for the account",
                    account.custodian
                ),
            ));
        };
        let custodian = self.pack.org.unit(unit).id.clone();
        for origin in &account.origins {
            check_origin(origin).map_err(|why| ServiceError::bad("origins", why))?;
        }
        let record = SystemAccount { custodian, ..account.clone() };
        let body = serde_json::to_value(&record)
            .map_err(|e| ServiceError::bad("account", e.to_string()))?;
        self.record("account.documented", actor, body).await?;
        Ok(record)
    }

    /// Takes an account out of the registry (it was removed from its system).
    pub async fn withdraw_account(
        &self,
        actor: &Actor,
        host: &str,
        account: &str,
        reason: &str,
    ) -> Result<()> {
        if reason.trim().is_empty() {
            return Err(ServiceError::bad("reason", "say why the account is withdrawn"));
        }
        if !self.system_accounts().await?.iter().any(|a| a.host == host && a.account == account) {
            return Err(ServiceError::NotFound {
                what: "system account",
                id: format!("{account}@{host}"),
            });
        }
        let body = json!({ "host": host, "account": account, "reason": reason });
        self.record("account.withdrawn", actor, body).await?;
        Ok(())
    }

    pub async fn system_accounts(&self) -> Result<Vec<SystemAccount>> {
        let rows = self.store.system_accounts().await?;
        Ok(rows
            .into_iter()
            .map(|r| SystemAccount {
                origins: serde_json::from_str(&r.origins).unwrap_or_default(),
                host: r.host,
                account: r.account,
                system: r.system,
                purpose: r.purpose,
                custodian: r.custodian,
                usage: r.usage,
            })
            .collect())
    }

    /// Reads an authentication log from `source` (named in evidence as `name`) and opens a
    /// 4.5 finding for every use of a documented system account the order forbids, with
    /// the log line as evidence. Lines of no known format are counted, never fatal. Only a
    /// failure to read the source fails the ingest, and then nothing is recorded.
    pub async fn ingest_log(
        &self,
        actor: &Actor,
        name: &str,
        source: impl Read,
        context: &LogContext,
    ) -> Result<Ingested> {
        self.ingest_log_from(actor, name, 1, source, context).await
    }

    /// [`Service::ingest_log`] of lines that start at line `first` of `name` (a followed
    /// file read piece by piece), so evidence gives each line's number in the file.
    pub async fn ingest_log_from(
        &self,
        actor: &Actor,
        name: &str,
        first: u64,
        source: impl Read,
        context: &LogContext,
    ) -> Result<Ingested> {
        let registry = self.system_accounts().await?;
        let rules = &self.pack.rules.system_accounts;
        let clause = rules.clause.as_str().to_owned();
        let mut hashing = Hashing { inner: source, hash: Sha256::new(), bytes: 0 };
        // What a line shows, worked out where it is read (on every core); only lines that
        // show something come back, and get their number and evidence here, in order.
        let look = |line: &[u8], reading: Reading<'_>| {
            let Reading::Event(event) = reading else { return None };
            // At a datacenter host's console someone must be inside (4.3, 4.4).
            let console =
                event.service == LogService::Login && event.method == "console" && event.success;
            let console = match (console, event.time) {
                (true, Some(time)) => {
                    self.pack.catalog.datacenter_of_host(&event.host).map(|dc| Console {
                        datacenter: dc.id.clone(),
                        host: event.host.to_string(),
                        account: event.account.to_string(),
                        time,
                    })
                }
                _ => None,
            };
            let use_ = account_use(&event);
            let misuse = misuse(rules, &registry, &use_).map(|how| {
                let mut digest = Sha256::new();
                digest.update(use_.host.as_bytes());
                digest.update([0]);
                digest.update(line);
                let id = format!("F-4.5-{}", &hex::encode(digest.finalize())[..16]);
                Misuse {
                    id,
                    subject: format!("{}@{}", use_.account, use_.host),
                    summary: how.describe(&use_),
                }
            });
            if console.is_none() && misuse.is_none() {
                return None;
            }
            // The start of the line, as evidence.
            let text: String = String::from_utf8_lossy(line).chars().take(EVIDENCE_CHARS).collect();
            Some(Shown { console, misuse, text })
        };
        let mut found = Vec::new();
        let mut consoles = Vec::new();
        let tally = read_log(&mut hashing, context, look, |number, shown: Shown| {
            // Where the line is in the file, and the line.
            let evidence = format!("{name}:{}: {}", number + first - 1, shown.text);
            if let Some(console) = shown.console {
                consoles.push((console, evidence.clone()));
            }
            if let Some(Misuse { id, subject, summary }) = shown.misuse {
                found.push((id, clause.clone(), subject, summary, evidence));
            }
        })
        .map_err(|e| ServiceError::bad("log", format!("cannot read {name}: {e}")))?;
        let sha256 = hex::encode(hashing.hash.finalize());
        let entry_clause = self.pack.rules.datacenter.clause.as_str();
        for (c, evidence) in consoles {
            if !self.store.inside_at(&c.datacenter, c.time.unix_seconds()).await?.is_empty() {
                continue;
            }
            let id = format!("F-{entry_clause}-{}", &hex::encode(Sha256::digest(&evidence))[..16]);
            found.push((
                id,
                entry_clause.to_owned(),
                format!("{}@{}", c.account, c.host),
                format!(
                    "console login as `{}` on {} in {} at {} with nobody inside by the guard's log: \
                     an entry no guard logged, or a login from outside that is no console",
                    c.account,
                    c.host,
                    c.datacenter,
                    c.time.manila()
                ),
                evidence,
            ));
        }

        let mut events = Vec::new();
        let mut opened = Vec::new();
        let mut seen = HashSet::new();
        let mut known = 0;
        for (id, clause, subject, summary, evidence) in found {
            if !seen.insert(id.clone()) || self.store.finding_status(&id).await?.is_some() {
                known += 1;
                continue;
            }
            events.push(self.event(
                "finding.opened",
                actor,
                json!({ "id": id, "clause": clause, "subject": subject, "summary": summary, "evidence": evidence }),
            ));
            opened.push(id);
        }
        events.push(self.event(
            "authlog.ingested",
            actor,
            json!({
                "source": name, "sha256": sha256, "bytes": hashing.bytes, "lines": tally.lines,
                "events": tally.events, "failures": tally.failures, "unknown": tally.unknown,
                "findings": opened,
            }),
        ));
        self.store.append(events, self.now().unix_seconds()).await?;
        Ok(Ingested { source: name.to_owned(), sha256, bytes: hashing.bytes, tally, opened, known })
    }

    /// Every finding on record, newest first, with its evidence, for `actor` to see
    /// `through` the web page, the API or the CLI. The view is recorded
    /// (`evidence.viewed`): evidence names people, and who read it is evidence too.
    pub async fn findings(&self, actor: &Actor, through: &str) -> Result<Vec<FindingRow>> {
        let findings = self.findings_newest_first().await?;
        self.evidence_viewed(actor, through, &findings).await?;
        Ok(findings)
    }

    /// Every finding on record, newest first, without recording a view: for counting.
    pub(crate) async fn findings_newest_first(&self) -> Result<Vec<FindingRow>> {
        let mut findings = self.store.findings().await?;
        findings.sort_by(|a, b| b.opened.cmp(&a.opened).then_with(|| a.id.cmp(&b.id)));
        Ok(findings)
    }

    /// Records that `actor` was shown the evidence of `findings` (nothing, for none).
    pub(crate) async fn evidence_viewed(
        &self,
        actor: &Actor,
        through: &str,
        findings: &[FindingRow],
    ) -> Result<()> {
        if !findings.is_empty() {
            let ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
            self.record("evidence.viewed", actor, json!({ "findings": ids, "through": through }))
                .await?;
        }
        Ok(())
    }

    /// Moves a finding on: acknowledged (someone owns it), remediated (fixed, with what
    /// was done), reopened (it came back). Each step is a ledger event with its note.
    pub async fn finding_step(
        &self,
        actor: &Actor,
        id: &str,
        step: FindingStep,
        note: &str,
    ) -> Result<FindingRow> {
        if note.trim().is_empty() {
            return Err(ServiceError::bad(
                "note",
                format!("say why the finding is {}", step.as_str()),
            ));
        }
        // Decided on one ledger size, so two people moving the same finding at once
        // cannot both move it from the same status.
        self.decided(|_| async {
            let Some(finding) = self.store.finding(id).await? else {
                return Err(ServiceError::NotFound { what: "finding", id: id.to_owned() });
            };
            if !step.from().contains(&finding.status.as_str()) {
                return Err(ServiceError::Refused(format!(
                    "finding {id} is {}; it can be {} only when {}",
                    finding.status,
                    step.as_str(),
                    step.from().join(" or ")
                )));
            }
            let body = json!({ "id": id, "status": step.as_str(), "note": note.trim() });
            Ok((vec![self.event("finding.status", actor, body)], ()))
        })
        .await?;
        self.store
            .finding(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound { what: "finding", id: id.to_owned() })
    }
}

fn account_use<'e>(event: &'e AuthEvent<'_>) -> AccountUse<'e> {
    AccountUse {
        host: &event.host,
        account: &event.account,
        by: event.by.as_deref(),
        source: event.source.as_deref(),
        service: event.service.as_str(),
        interactive: event.interactive,
        success: event.success,
    }
}

/// Counts and hashes what passes through, so the ledger records exactly what was read.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
    bytes: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}
