//! The service layer's integration tests: every use case on a real store (SQLite and a
//! real PostgreSQL server), enforcement on a real PostgreSQL server, mail through a real
//! SMTP server (Python's aiosmtpd) and the HTTP API on an ephemeral port.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_debug_implementations)]

mod access;
mod accounts;
mod api;
mod browser;
mod certify;
mod datacenter;
mod directory;
mod enforcement;
mod held;
mod mail;
mod realignment;
mod report;
mod requests;
mod reviews;
mod scim;
mod web;

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use bantay_core::{PolicyPack, Timestamp};
use bantay_server::{
    unit_events, Actor, AssignmentForm, PersonForm, RequestForm, RequestView, ResourceForm,
    Service, Targets,
};
use bantay_store::testing::TestDatabase;
use bantay_store::{NewEvent, OpenMode, Store};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an async test body on SQLite and on PostgreSQL, as two tests.
macro_rules! on_both_backends {
    ($(async fn $name:ident($backend:ident) $body:block)*) => {
        mod on_sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::Backend::Sqlite).await }) *
        }
        mod on_postgres {
            #[allow(unused_imports)]
            use super::*;
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::Backend::Postgres).await }) *
        }
        $(async fn $name($backend: $crate::Backend) $body)*
    };
}
pub(crate) use on_both_backends;

pub fn pack() -> Arc<PolicyPack> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../policy/cmo-04-2019");
    Arc::new(bantay_connect::read_pack(&dir).unwrap())
}

pub fn at(text: &str) -> i64 {
    Timestamp::parse(text).unwrap().unix_seconds()
}

/// A store with the pack's units, a service over it and a clock the test moves.
pub struct World {
    pub service: Arc<Service>,
    pub clock: Arc<AtomicI64>,
    pub db: TestDatabase,
    key: ed25519_dalek::SigningKey,
    targets: Targets,
}

/// The test's "now" when a world starts: Tuesday 1 December 2026, 08:00 Manila.
pub const START: &str = "2026-12-01T08:00";

impl World {
    pub async fn new(backend: Backend, targets: Targets) -> Self {
        let db = match backend {
            Backend::Sqlite => TestDatabase::sqlite(None).unwrap(),
            Backend::Postgres => TestDatabase::postgres().await.unwrap_or_else(|e| panic!("{e}")),
        };
        let store = Store::open(&db.url(), OpenMode::Create).await.unwrap();
        let pack = pack();
        let t0 = at("2025-01-01");
        let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
        store
            .init(key.clone(), "system:test", t0, unit_events(&pack, "system:test", t0))
            .await
            .unwrap();
        let clock = Arc::new(AtomicI64::new(at(START)));
        let reader = clock.clone();
        let service = Service::new(
            Arc::new(store),
            pack,
            Arc::new(move || reader.load(Ordering::SeqCst)),
            targets.clone(),
        );
        Self { service: Arc::new(service), clock, db, key, targets }
    }

    /// Another server over the same database, with its own store and the same clock.
    pub async fn second_server(&self) -> Service {
        let store = Store::open(&self.db.url(), OpenMode::Existing).await.unwrap();
        store.unlock(self.key.clone()).await.unwrap();
        let reader = self.clock.clone();
        Service::new(
            Arc::new(store),
            pack(),
            Arc::new(move || reader.load(Ordering::SeqCst)),
            self.targets.clone(),
        )
    }

    /// The Bureau in small: the heads of MISTG, TMS, SMD, TSD, PSDS and SDD, three staff
    /// (ANA in SMD, BEN in SDD, CARL in TSD), and CPS's three elements plus a COMMS host.
    pub async fn bureau(backend: Backend) -> Self {
        Self::bureau_with(backend, Targets::none(), "").await
    }

    /// [`World::bureau`] with targets, every person id prefixed (PostgreSQL role names
    /// are cluster-wide, so tests sharing a server need their own).
    pub async fn bureau_with(backend: Backend, targets: Targets, prefix: &str) -> Self {
        let world = Self::new(backend, targets).await;
        for (id, unit, head) in [
            ("DC", "MISTG", true),
            ("DIR-TMS", "TMS", true),
            ("CHIEF-SMD", "SMD", true),
            ("CHIEF-TSD", "TSD", true),
            ("DIR-PSDS", "PSDS", true),
            ("CHIEF-SDD", "SDD", true),
            ("ANA", "SMD", false),
            ("BEN", "SDD", false),
            ("CARL", "TSD", false),
        ] {
            world.person(&format!("{prefix}{id}"), unit, head).await;
        }
        for (id, kind, class, system) in [
            ("cps-os-0", "host", "os", "CPS"),
            ("cps-db-0", "database", "database", "CPS"),
            ("cps-app-0", "application", "application", "CPS"),
            ("comms-os-0", "host", "os", "COMMS"),
        ] {
            world.resource(id, kind, class, system, None).await;
        }
        world
    }

    pub fn now(&self) -> i64 {
        self.clock.load(Ordering::SeqCst)
    }

    pub fn set(&self, text: &str) {
        self.clock.store(at(text), Ordering::SeqCst);
    }

    pub fn advance(&self, seconds: i64) {
        self.clock.fetch_add(seconds, Ordering::SeqCst);
    }

    pub fn operator(&self) -> Actor {
        Actor::system("test")
    }

    /// Records a person (mail `id@customs.example`, lowercased) in `unit` since 2025.
    pub async fn person(&self, id: &str, unit: &str, head: bool) {
        let form = PersonForm {
            id: id.into(),
            name: format!("{id} Santos"),
            port: None,
            email: Some(format!("{}@customs.example", id.to_lowercase())),
        };
        self.service.record_person(&self.operator(), &form).await.unwrap();
        let order = AssignmentForm {
            person: id.into(),
            unit: unit.into(),
            order: format!("CPO-2025-{id}"),
            effective: "2025-01-02".into(),
            head,
        };
        self.service.assign(&self.operator(), &order).await.unwrap();
    }

    pub async fn resource(
        &self,
        id: &str,
        kind: &str,
        class: &str,
        system: &str,
        target: Option<(&str, &str)>,
    ) {
        let form = ResourceForm {
            id: id.into(),
            kind: kind.into(),
            class: class.into(),
            system: Some(system.into()),
            port: Some("Manila".into()),
            target: target.map(|t| t.0.to_owned()),
            target_role: target.map(|t| t.1.to_owned()),
        };
        self.service.record_resource(&self.operator(), &form).await.unwrap();
    }

    /// Appends events as an import of the Bureau's records would: no lifecycle checks.
    pub async fn import(&self, events: Vec<(&str, Value)>) {
        let now = self.now();
        let events = events
            .into_iter()
            .map(|(kind, body)| NewEvent::new(kind, "system:import", now, body))
            .collect();
        self.service.store().append(events, now).await.unwrap();
    }

    /// A grant that existed before Bantay (imported), from and until Manila dates.
    pub async fn legacy_grant(
        &self,
        id: &str,
        person: &str,
        resource: &str,
        clause: &str,
        from: &str,
        until: &str,
    ) {
        self.import(vec![(
            "grant.recorded",
            json!({"id": id, "person": person, "resource": resource, "clause": clause,
                   "valid_from": at(from), "valid_until": at(until)}),
        )])
        .await;
    }

    pub async fn request(
        &self,
        actor: &str,
        resource: &str,
        clause: &str,
        kind: &str,
        until: &str,
    ) -> RequestView {
        let form = RequestForm {
            person: None,
            resource: resource.into(),
            clause: clause.into(),
            kind: kind.into(),
            valid_from: None,
            valid_until: until.into(),
        };
        self.service.submit(&Actor::person(actor), &form).await.unwrap()
    }

    pub async fn approve(
        &self,
        actor: &str,
        id: &str,
    ) -> Result<RequestView, bantay_server::ServiceError> {
        self.service.approve(&Actor::person(actor), id).await
    }

    /// Every event in the ledger, parsed.
    pub async fn events(&self) -> Vec<Value> {
        let mut out = Vec::new();
        self.service.store().export(&mut out).await.unwrap();
        out.split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect()
    }

    /// The kinds of the events after the first `from`.
    pub async fn kinds_since(&self, from: usize) -> Vec<String> {
        self.events().await[from..].iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect()
    }

    pub async fn size(&self) -> usize {
        self.service.store().size().await.unwrap() as usize
    }
}
