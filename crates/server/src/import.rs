//! Recording an organisation's snapshot (personnel, their personnel orders, resources and
//! the grants they hold) in the ledger as one atomic append: the state Bantay starts
//! from, or the demo organisation. Grants recorded this way are what the Bureau's records
//! show; the scan finds those no duty justifies.

use bantay_core::Snapshot;
use serde::Serialize;
use serde_json::json;
use sha2::Digest as _;

use crate::error::Result;
use crate::service::{Actor, Service};

/// How to record a snapshot.
#[derive(Debug, Clone, Default)]
pub struct SnapshotImport {
    /// Make the first person (by id) assigned to each unit at the time its head, for an
    /// organisation whose records do not say who heads what (the demo's).
    pub designate_heads: bool,
    /// Give each person the address `<id>@<domain>` (lowercase) for notifications.
    pub mail_domain: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Imported {
    pub persons: usize,
    pub assignments: usize,
    pub resources: usize,
    pub grants: usize,
    /// (unit, person) for every head designated.
    pub heads: Vec<(String, String)>,
}

impl Service {
    /// Records `snapshot` in one append: all of it or, on any problem, nothing.
    pub async fn import_snapshot(
        &self,
        actor: &Actor,
        snapshot: &Snapshot,
        how: &SnapshotImport,
    ) -> Result<Imported> {
        let now = self.now();
        let mut events = Vec::new();
        let mut done = Imported::default();
        for p in &snapshot.persons {
            let email = how.mail_domain.as_ref().map(|d| format!("{}@{d}", p.id.to_lowercase()));
            events.push(self.event(
                "person.recorded",
                actor,
                json!({ "id": p.id, "name": p.name, "port": p.port, "email": email }),
            ));
            done.persons += 1;
        }
        // A unit's head: the first person by id assigned to it now.
        let mut heads: Vec<(bantay_core::UnitIdx, &str)> = Vec::new();
        let mut order: Vec<&bantay_core::Assignment> = snapshot.assignments.iter().collect();
        order.sort_by_key(|a| (a.person, a.period.from));
        for a in &order {
            let person = &snapshot.persons[a.person.0 as usize].id;
            let unit = self.pack.org.unit(a.unit);
            let head = how.designate_heads
                && a.period.contains(now)
                && !unit.port_scoped
                && !heads.iter().any(|(u, _)| *u == a.unit);
            if head {
                heads.push((a.unit, person));
            }
            events.push(self.event(
                "person.assigned",
                actor,
                json!({
                    "person": person, "unit": unit.id, "valid_from": a.period.from.unix_seconds(),
                    "valid_until": a.period.until.map(|t| t.unix_seconds()), "order": a.order, "head": head,
                    // Recorded as the records give it: no assignment ends another.
                    "concurrent": true,
                }),
            ));
            done.assignments += 1;
        }
        done.heads = heads
            .iter()
            .map(|(u, p)| (self.pack.org.unit(*u).id.clone(), (*p).to_owned()))
            .collect();
        for r in &snapshot.resources {
            events.push(self.event(
                "resource.recorded",
                actor,
                json!({ "id": r.id, "kind": r.kind, "class": r.class, "system": r.system, "port": r.port }),
            ));
            done.resources += 1;
        }
        for (i, g) in snapshot.grants.iter().enumerate() {
            let person = &snapshot.persons[g.person.0 as usize].id;
            let resource = &snapshot.resources[g.resource.0 as usize].id;
            let from = g.period.from.unix_seconds();
            let until = g.period.until.map(|t| t.unix_seconds());
            // Stable for the same record at the same place, distinct for every record.
            let digest = sha2::Sha256::digest(format!(
                "{person}|{resource}|{}|{from}|{until:?}|{i}",
                g.clause
            ));
            events.push(self.event(
                "grant.recorded",
                actor,
                json!({
                    "id": format!("G-{}", &hex::encode(digest)[..12]), "person": person, "resource": resource,
                    "clause": g.clause.as_str(), "valid_from": from, "valid_until": until,
                }),
            ));
            done.grants += 1;
        }
        self.store.append(events, now.unix_seconds()).await?;
        Ok(done)
    }
}
