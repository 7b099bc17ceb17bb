//! The service: the store, the policy pack, the clock and the enforcement targets, and
//! the one way a decision becomes events ([`Service::decided`]).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use bantay_core::{
    Period, PersonIdx, PersonRecord, PolicyPack, ResourceRecord, Snapshot, SnapshotBuilder,
    Timestamp,
};
use bantay_store::{Appended, Clock, NewEvent, Store, StoreError};

use crate::enforce::Targets;
use crate::error::{Result, ServiceError};

/// Who is acting: a person (signed in, or named by the operator of the CLI) or Bantay
/// itself (`system:scheduler`). Events record it as their actor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(String);

impl Actor {
    /// A person, already authenticated by whoever constructs this (a token, the CLI's
    /// operator who holds the ledger's key).
    pub fn person(id: &str) -> Self {
        Self(id.to_owned())
    }

    /// Bantay itself, e.g. `system:scheduler`.
    pub fn system(name: &str) -> Self {
        Self(format!("system:{name}"))
    }

    pub fn id(&self) -> &str {
        &self.0
    }

    pub fn is_system(&self) -> bool {
        self.0.starts_with("system:")
    }
}

/// Bantay's use cases over one store.
pub struct Service {
    pub(crate) store: Arc<Store>,
    pub(crate) pack: Arc<PolicyPack>,
    clock: Clock,
    pub(crate) targets: Targets,
    /// Within one process, decisions take turns; across processes `append_at` keeps them
    /// honest.
    decide_lock: tokio::sync::Mutex<()>,
    /// What `/metrics` reports.
    pub(crate) metrics: crate::metrics::Metrics,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").field("targets", &self.targets).finish_non_exhaustive()
    }
}

/// How often a decision is retried when other writers keep moving the ledger.
const ATTEMPTS: usize = 50;

impl Service {
    pub fn new(store: Arc<Store>, pack: Arc<PolicyPack>, clock: Clock, targets: Targets) -> Self {
        Self {
            store,
            pack,
            clock,
            targets,
            decide_lock: tokio::sync::Mutex::new(()),
            metrics: Default::default(),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn pack(&self) -> &PolicyPack {
        &self.pack
    }

    pub fn now(&self) -> Timestamp {
        Timestamp::from_unix_seconds((self.clock)())
    }

    /// Runs `decide` on the state as of a ledger size and appends the events it returns,
    /// only if the ledger is still that size; otherwise decides again. `decide` must read
    /// all the state it relies on itself (it gets the size it decides at).
    pub(crate) async fn decided<T, F, Fut>(&self, mut decide: F) -> Result<(T, Option<Appended>)>
    where
        F: FnMut(u64) -> Fut,
        Fut: Future<Output = Result<(Vec<NewEvent>, T)>>,
    {
        let _turn = self.decide_lock.lock().await;
        for attempt in 0..ATTEMPTS {
            let size = self.store.size().await?;
            let (events, value) = decide(size).await?;
            if events.is_empty() {
                return Ok((value, None));
            }
            match self.store.append_at(size, events, self.now().unix_seconds()).await {
                Ok(appended) => return Ok((value, Some(appended))),
                Err(StoreError::LedgerMoved { .. }) => {
                    // Another process appended first: back off a little, differently
                    // each time, and decide on the newer state.
                    let pause = 1 + (attempt as u64 * 7 + rand::random::<u64>() % 5) % 20;
                    tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::Busy)
    }

    pub(crate) fn event(&self, kind: &str, actor: &Actor, body: serde_json::Value) -> NewEvent {
        NewEvent::new(kind, actor.id(), self.now().unix_seconds(), body)
    }

    /// Appends one event that needs no decision on the state (a record of a fact).
    pub(crate) async fn record(
        &self,
        kind: &str,
        actor: &Actor,
        body: serde_json::Value,
    ) -> Result<Appended> {
        let now = self.now().unix_seconds();
        Ok(self.store.append(vec![self.event(kind, actor, body)], now).await?)
    }

    /// The state that decisions about `persons` rest on: the persons, all their
    /// assignments and grants (with their periods, so the past is as it was), the
    /// resources of those grants and `resources`.
    pub(crate) async fn snapshot_of(
        &self,
        persons: &[&str],
        resources: &[&str],
    ) -> Result<(Snapshot, Vec<PersonIdx>)> {
        self.snapshot_moved(persons, resources, None).await
    }

    /// [`Service::snapshot_of`] as it would be after a personnel order `moved` took
    /// effect: the person's open assignment ends when the new one starts.
    pub(crate) async fn snapshot_moved(
        &self,
        persons: &[&str],
        resources: &[&str],
        moved: Option<&Move<'_>>,
    ) -> Result<(Snapshot, Vec<PersonIdx>)> {
        let mut builder = SnapshotBuilder::new(&self.pack);
        let mut grants = Vec::new();
        let mut resource_ids: Vec<String> = resources.iter().map(|r| (*r).to_owned()).collect();
        let mut indexes = Vec::new();
        let inconsistent = |e: bantay_core::RecordError| {
            ServiceError::Store(StoreError::Event { kind: "state".into(), message: e.to_string() })
        };
        for &id in persons {
            let person = self
                .store
                .person(id)
                .await?
                .ok_or_else(|| ServiceError::NotFound { what: "person", id: id.to_owned() })?;
            let idx = builder
                .person(PersonRecord {
                    id: &person.id,
                    name: &person.name,
                    port: person.port.as_deref().unwrap_or(""),
                })
                .map_err(inconsistent)?;
            indexes.push(idx);
            let moved = moved.filter(|m| m.person == id);
            for a in self.store.assignments(id).await? {
                let mut period = Period {
                    from: Timestamp::from_unix_seconds(a.valid_from),
                    until: a.valid_until.map(Timestamp::from_unix_seconds),
                };
                if let Some(m) = moved.filter(|m| period.until.is_none() && period.from < m.from) {
                    period.until = Some(m.from);
                }
                builder
                    .stored_assignment(&a.person, &a.unit, period, &a.personnel_order)
                    .map_err(inconsistent)?;
            }
            if let Some(m) = moved {
                let period = Period { from: m.from, until: None };
                builder.stored_assignment(id, m.unit, period, m.order).map_err(inconsistent)?;
            }
            for g in self.store.grants_of(id).await? {
                resource_ids.push(g.resource.clone());
                grants.push(g);
            }
        }
        resource_ids.sort();
        resource_ids.dedup();
        for id in &resource_ids {
            let r = self
                .store
                .resource(id)
                .await?
                .ok_or_else(|| ServiceError::NotFound { what: "resource", id: id.clone() })?;
            builder
                .resource(ResourceRecord {
                    id: &r.id,
                    kind: &r.kind,
                    class: &r.class,
                    system: r.system.as_deref().unwrap_or(""),
                    port: r.port.as_deref().unwrap_or(""),
                })
                .map_err(inconsistent)?;
        }
        for g in &grants {
            let period = Period {
                from: Timestamp::from_unix_seconds(g.valid_from),
                until: g.valid_until.map(Timestamp::from_unix_seconds),
            };
            builder
                .stored_grant(&g.person, &g.resource, &g.clause, period)
                .map_err(inconsistent)?;
        }
        Ok((builder.finish(), indexes))
    }

    /// The heads of each unit on the way up from `unit`, at `at`.
    pub(crate) async fn heads_above(
        &self,
        unit: bantay_core::UnitIdx,
        at: i64,
    ) -> Result<HashMap<String, Vec<String>>> {
        let mut heads = HashMap::new();
        for u in self.pack.org.lineage(unit) {
            let id = self.pack.org.unit(u).id.clone();
            let people = self.store.heads(&id, at).await?;
            heads.insert(id, people);
        }
        Ok(heads)
    }

    /// The unit a person belongs to at `at` (the first, if an order put them in two).
    pub(crate) fn unit_at(
        &self,
        snapshot: &Snapshot,
        person: PersonIdx,
        at: Timestamp,
    ) -> Option<bantay_core::UnitIdx> {
        snapshot.units_at(person, at).first().copied()
    }
}

/// A personnel order not yet recorded: from `from`, `person` is in `unit`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Move<'a> {
    pub person: &'a str,
    pub unit: &'a str,
    pub from: Timestamp,
    pub order: &'a str,
}

/// A fresh identifier: a prefix and 12 random hex digits (`R-3f9a0c41d2e7`).
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}-{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff)
}

/// Reads a time a person wrote, naming the field when it is not one.
pub(crate) fn parse_time(field: &str, text: &str) -> Result<Timestamp> {
    Timestamp::parse(text).map_err(|e| ServiceError::bad(field, e.to_string()))
}

impl Service {
    /// Issues an API token for `person`: returns the secret, which is shown once; the
    /// ledger keeps only its SHA-256.
    pub async fn issue_token(&self, actor: &Actor, person: &str) -> Result<String> {
        self.issue(actor, person, None).await
    }

    /// Issues an identity provider's token for SCIM, held by `person` (who answers for
    /// what the provider writes). It serves `/scim/v2` only, and the API never.
    pub async fn issue_scim_token(&self, actor: &Actor, person: &str) -> Result<String> {
        self.issue(actor, person, Some("scim")).await
    }

    async fn issue(&self, actor: &Actor, person: &str, scope: Option<&str>) -> Result<String> {
        if self.store.person(person).await?.is_none() {
            return Err(ServiceError::bad("person", format!("no person `{person}`")));
        }
        let secret = format!("bty_{}", hex::encode(rand::random::<[u8; 32]>()));
        let mut body =
            serde_json::json!({ "id": new_id("K"), "person": person, "hash": token_hash(&secret) });
        if let Some(scope) = scope {
            body["scope"] = scope.into();
        }
        self.record("token.issued", actor, body).await?;
        Ok(secret)
    }

    /// The person a token's secret belongs to.
    pub async fn authenticate(&self, secret: &str) -> Result<Actor> {
        match self.store.token_person(&token_hash(secret)).await? {
            Some(person) => Ok(Actor::person(&person)),
            None => Err(ServiceError::Unauthenticated),
        }
    }

    /// The holder of an identity provider's SCIM token.
    pub async fn authenticate_scim(&self, secret: &str) -> Result<Actor> {
        match self.store.scoped_token_person(&token_hash(secret), "scim").await? {
            Some(person) => Ok(Actor::person(&person)),
            None => Err(ServiceError::Unauthenticated),
        }
    }
}

fn token_hash(secret: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

/// The events that record the pack's units, parents before children (a unit's parent
/// must be on record first): what `bantay init` writes after the key.
pub fn unit_events(pack: &PolicyPack, actor: &str, time: i64) -> Vec<NewEvent> {
    let org = &pack.org;
    let depth = |unit: &bantay_core::Unit| org_depth(pack, unit);
    let mut units: Vec<_> = org.units().iter().collect();
    units.sort_by_key(|unit| depth(unit));
    units
        .into_iter()
        .map(|unit| {
            let mut body = serde_json::json!({ "id": unit.id, "name": unit.name });
            if let Some(parent) = unit.parent {
                body["parent"] = org.unit(parent).id.clone().into();
            }
            NewEvent::new("unit.recorded", actor, time, body)
        })
        .collect()
}

fn org_depth(pack: &PolicyPack, unit: &bantay_core::Unit) -> usize {
    std::iter::successors(unit.parent, |&p| pack.org.unit(p).parent).count()
}
