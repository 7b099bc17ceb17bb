//! Enforcement on real targets: bringing a PostgreSQL server's role memberships in line
//! with the grants in force, and finding the memberships nobody granted (drift).
//!
//! Reconciliation compares three things: the grants in force on the target's resources
//! (what should be), the memberships on the server (what is), and what Bantay did there
//! before (the `enforcements` rows). It grants what is missing, removes what Bantay
//! granted and is no longer due, and opens a 4.1 finding for every other membership of a
//! role it manages. Every step is an event.

use std::collections::{BTreeMap, BTreeSet};

use bantay_connect::{Membership, PostgresTarget};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::error::{Result, ServiceError};
use crate::service::{Actor, Service};

/// The targets Bantay enforces on, by name.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    postgres: BTreeMap<String, PostgresTarget>,
}

impl Targets {
    pub fn none() -> Self {
        Self::default()
    }

    /// Reads `name=postgres://…` specifications (from `--target` or `BANTAY_TARGETS`).
    pub fn parse(specs: &[String]) -> Result<Self, String> {
        let mut postgres = BTreeMap::new();
        for spec in specs {
            let Some((name, url)) = spec.split_once('=') else {
                return Err(format!("target `{spec}`: write NAME=postgres://user@host/db"));
            };
            if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
                return Err(format!(
                    "target `{name}`: only PostgreSQL targets (postgres://…) are enforced"
                ));
            }
            let target = PostgresTarget::new(name, url).map_err(|e| e.to_string())?;
            postgres.insert(name.to_owned(), target);
        }
        Ok(Self { postgres })
    }

    pub fn has(&self, name: &str) -> bool {
        self.postgres.contains_key(name)
    }

    pub fn names(&self) -> Vec<String> {
        self.postgres.keys().cloned().collect()
    }
}

/// What one reconciliation of a target did.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Reconciled {
    pub target: String,
    /// `role login` memberships granted for grants in force.
    pub granted: Vec<String>,
    /// Memberships removed because their grant ended, was suspended or revoked.
    pub removed: Vec<String>,
    /// Findings opened for memberships no grant covers.
    pub drift: Vec<String>,
    /// What could not be done (the server refused, or is down); retried next time.
    pub errors: Vec<String>,
}

impl Service {
    /// Reconciles one target now.
    pub async fn reconcile(&self, name: &str) -> Result<Reconciled> {
        let target = self
            .targets
            .postgres
            .get(name)
            .ok_or_else(|| ServiceError::NotFound { what: "target", id: name.to_owned() })?;
        let actor = Actor::system(&format!("enforce:{name}"));
        let now = self.now().unix_seconds();
        let mut done = Reconciled { target: name.to_owned(), ..Reconciled::default() };
        let resources = self.store.resources_on(name).await?;
        let role_of: BTreeMap<&str, &str> = resources
            .iter()
            .filter_map(|r| Some((r.id.as_str(), r.target_role.as_deref()?)))
            .collect();
        let roles: Vec<String> = role_of
            .values()
            .map(|r| (*r).to_owned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        // What should be: grant → (role, login). A person's login on the server is their id.
        let due: Vec<(String, Membership)> = self
            .store
            .grants_on(name, now)
            .await?
            .into_iter()
            .filter_map(|g| {
                let role = role_of.get(g.resource.as_str())?;
                Some((g.id, Membership { role: (*role).to_owned(), member: g.person }))
            })
            .collect();
        let wanted: BTreeSet<&Membership> = due.iter().map(|(_, m)| m).collect();
        if roles.is_empty() {
            return Ok(done);
        }
        let actual: BTreeSet<Membership> = match target.members(&roles).await {
            Ok(members) => members.into_iter().collect(),
            Err(e) => {
                done.errors.push(e.to_string());
                return Ok(done);
            }
        };
        let enforced = self.store.enforcements(name).await?;
        let mut events = Vec::new();
        for (grant, m) in &due {
            let recorded = enforced.iter().any(|e| &e.grant_id == grant && e.status == "granted");
            if !actual.contains(m) {
                if let Err(e) = target.grant(&m.role, &m.member).await {
                    done.errors.push(e.to_string());
                    continue;
                }
                done.granted.push(format!("{} {}", m.role, m.member));
            } else if recorded {
                continue;
            }
            events.push(self.event(
                "grant.enforced",
                &actor,
                json!({ "grant": grant, "target": name, "role": m.role, "login": m.member, "status": "granted" }),
            ));
        }
        let mut removing = BTreeSet::new();
        let tasks = self.store.tasks().await?;
        for e in enforced.iter().filter(|e| e.status == "granted") {
            if due.iter().any(|(g, _)| g == &e.grant_id) {
                continue;
            }
            let m = Membership { role: e.role.clone(), member: e.login.clone() };
            if actual.contains(&m) && !wanted.contains(&m) {
                if let Err(err) = target.revoke(&m.role, &m.member).await {
                    done.errors.push(err.to_string());
                    continue;
                }
                done.removed.push(format!("{} {}", m.role, m.member));
                removing.insert(m.clone());
            }
            events.push(self.event(
                "grant.enforced",
                &actor,
                json!({ "grant": e.grant_id, "target": name, "role": e.role, "login": e.login, "status": "removed" }),
            ));
            let evidence = format!(
                "REVOKE \"{}\" FROM \"{}\" on {name} at {}",
                e.role,
                e.login,
                bantay_core::Timestamp::from_unix_seconds(now)
            );
            for task in tasks.iter().filter(|t| t.grant_id == e.grant_id && t.status == "open") {
                events.push(self.event(
                    "task.done",
                    &actor,
                    json!({ "id": task.id, "evidence": evidence, "by": actor.id() }),
                ));
                if self.store.grant(&e.grant_id).await?.is_some_and(|g| g.status == "suspended") {
                    events.push(self.event(
                        "grant.revoked",
                        &actor,
                        json!({ "id": e.grant_id, "reason": format!("removed from the server: {evidence}") }),
                    ));
                }
            }
        }
        for m in actual.iter().filter(|m| !wanted.contains(m) && !removing.contains(*m)) {
            let id = format!("F-drift-{name}-{}-{}", m.role, m.member);
            let status = self.store.finding_status(&id).await?;
            match status.as_deref() {
                None => events.push(self.event(
                    "finding.opened",
                    &actor,
                    json!({
                        "id": id, "clause": "4.1", "subject": m.member,
                        "summary": format!("{} holds {} on {name}, which no grant in Bantay covers", m.member, m.role),
                        "evidence": format!("pg_auth_members on {name}: `{}` is a member of `{}`; no active grant on a resource of role `{}` for `{}`", m.member, m.role, m.role, m.member),
                    }),
                )),
                Some("remediated") => events.push(self.event(
                    "finding.status",
                    &actor,
                    json!({ "id": id, "status": "reopened" }),
                )),
                _ => continue,
            }
            done.drift.push(id);
        }
        if !events.is_empty() {
            self.store.append(events, now).await?;
        }
        Ok(done)
    }

    /// Reconciles every configured target; a target's failure is reported in its result.
    pub async fn reconcile_all(&self) -> Vec<Reconciled> {
        let mut out = Vec::new();
        for name in self.targets.names() {
            out.push(self.reconcile(&name).await.unwrap_or_else(|e| Reconciled {
                target: name.clone(),
                errors: vec![e.to_string()],
                ..Reconciled::default()
            }));
        }
        out
    }

    /// Reconciles the target of `resource`, if it has one. Failures are logged: the
    /// grant stands in the ledger and the next sweep retries.
    pub(crate) async fn enforce_resource(&self, resource: &str) {
        let target = match self.store.resource(resource).await {
            Ok(Some(r)) => r.target,
            _ => None,
        };
        let Some(target) = target.filter(|t| self.targets.has(t)) else { return };
        match self.reconcile(&target).await {
            Ok(r) if r.errors.is_empty() => {}
            Ok(r) => tracing::warn!(target = %target, errors = ?r.errors, "enforcement incomplete"),
            Err(e) => tracing::warn!(target = %target, error = %e, "enforcement failed"),
        }
    }
}
