//! The detective scan (4.1, 4.2) over what the store holds: every grant in force that no
//! duty of its holder's units justifies, and every person holding more elements of CPS or
//! ERP than 4.2 allows. The same compiled scan as `bantay scan` over snapshot files.

use std::collections::BTreeMap;

use bantay_core::{
    AssignmentRecord, Finding, GrantRecord, PersonRecord, ResourceRecord, ScanBuilder, Timestamp,
};

use crate::error::{Result, ServiceError};
use crate::service::Service;

/// What the scan found at a moment.
#[derive(Debug)]
pub struct StateScan {
    pub at: Timestamp,
    pub grants_in_force: u64,
    /// Findings per clause.
    pub counts: BTreeMap<String, usize>,
    pub findings: Vec<Finding>,
}

fn text(t: Option<i64>) -> String {
    t.map(|s| Timestamp::from_unix_seconds(s).to_string()).unwrap_or_default()
}

impl Service {
    /// Scans the grants in force at `at`.
    pub async fn scan_state(&self, at: Timestamp) -> Result<StateScan> {
        let inconsistent = |e: bantay_core::RecordError| {
            ServiceError::Store(bantay_store::StoreError::Event {
                kind: "state".into(),
                message: e.to_string(),
            })
        };
        let persons = self.store.persons().await?;
        let assignments = self.store.all_assignments().await?;
        let resources = self.store.resources().await?;
        let grants = self.store.grants_in_force(at.unix_seconds()).await?;
        let mut builder = ScanBuilder::new(&self.pack, at);
        for p in &persons {
            builder
                .person(PersonRecord {
                    id: &p.id,
                    name: &p.name,
                    port: p.port.as_deref().unwrap_or(""),
                })
                .map_err(inconsistent)?;
        }
        for a in &assignments {
            let (from, until) = (text(Some(a.valid_from)), text(a.valid_until));
            let record = AssignmentRecord {
                person: &a.person,
                unit: &a.unit,
                valid_from: &from,
                valid_until: &until,
                order: &a.personnel_order,
            };
            builder.assignment(record).map_err(inconsistent)?;
        }
        for r in &resources {
            let record = ResourceRecord {
                id: &r.id,
                kind: &r.kind,
                class: &r.class,
                system: r.system.as_deref().unwrap_or(""),
                port: r.port.as_deref().unwrap_or(""),
            };
            builder.resource(record).map_err(inconsistent)?;
        }
        let scan = builder.finish();
        let mut worker = scan.worker();
        for (i, g) in grants.iter().enumerate() {
            let (from, until) = (text(Some(g.valid_from)), text(g.valid_until));
            let record = GrantRecord {
                person: &g.person,
                resource: &g.resource,
                clause: &g.clause,
                valid_from: &from,
                valid_until: &until,
            };
            worker.check(record, i as u64 + 1).map_err(inconsistent)?;
        }
        let tally = worker.into_tally();
        let report = scan.finish(vec![tally], "grants in force");
        let counts = report.counts().into_iter().map(|(c, n)| (c.to_string(), n)).collect();
        let findings = report.findings().collect();
        Ok(StateScan { at, grants_in_force: grants.len() as u64, counts, findings })
    }
}
