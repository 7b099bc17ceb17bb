//! Certified extracts (1.3.7): TSD certifies that an extract file holds exactly what the
//! source database answers to a read-only query. The certificate is signed with the
//! ledger's key and recorded in the ledger; `bantay verify` checks it offline.

use std::path::Path;

use bantay_connect::{query_source, read_extract};
use bantay_ledger::certificate::{signed_bytes, Certificate, Certified};
use serde_json::json;

use crate::error::{Result, ServiceError};
use crate::service::{Actor, Service};

/// The duty that certifies extracts.
const CERTIFYING_DUTY: &str = "1.3.7";

impl Service {
    /// Re-runs `query` on `source` read-only, compares the answer with the extract file
    /// cell by cell and, when they match, issues and records a signed certificate. A
    /// mismatch names the first differing row and column; nothing is issued or recorded.
    pub async fn certify(
        &self,
        officer: &Actor,
        source: &str,
        query: &str,
        extract: &Path,
    ) -> Result<Certificate> {
        self.may_certify(officer).await?;
        if query.trim().is_empty() {
            return Err(ServiceError::bad("query", "give the query that produced the extract"));
        }
        let format = bantay_connect::extract_format(extract)
            .map_err(|e| ServiceError::bad("extract", e.to_string()))?;
        let location = bantay_store::DatabaseUrl::parse(source).location();
        let answer = query_source(source, query).await.map_err(|e| {
            ServiceError::Source(format!("{location}: {}", crate::error::chain(&e)))
        })?;
        let file = read_extract(extract, &answer.columns)
            .map_err(|e| ServiceError::bad("extract", e.to_string()))?;
        if let Some(difference) = answer.first_difference(&file) {
            return Err(ServiceError::Refused(format!(
                "{} is not what {location} holds: {difference}; no certificate is issued",
                extract.display()
            )));
        }
        let certified = Certified {
            source: location,
            query: query.trim().to_owned(),
            columns: answer.columns.clone(),
            rows: answer.rows.len() as u64,
            content_sha256: answer.content_hash(),
            extract: extract
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            format: format.to_owned(),
            certified_at: self.now().unix_seconds(),
            officer: officer.id().to_owned(),
        };
        let (signature, key) = self.store.sign(&signed_bytes(&certified)).await?;
        let mut certificate = Certificate::from_parts(certified, &key, &signature);
        let body = serde_json::to_value(&certificate).unwrap_or_default();
        let appended =
            self.record("extract.certified", officer, json!({ "certificate": body })).await?;
        certificate.ledger_seq = Some(appended.first);
        Ok(certificate)
    }

    /// Only a person of the unit whose duty is 1.3.7 (TSD) certifies.
    async fn may_certify(&self, officer: &Actor) -> Result<()> {
        let duty = bantay_core::Clause::parse(CERTIFYING_DUTY)
            .and_then(|c| self.pack.org.duty(&c).map(|(u, _)| u));
        let Some(owner) = duty else {
            return Err(ServiceError::Forbidden(format!(
                "the pack names no unit with duty {CERTIFYING_DUTY}"
            )));
        };
        let unit = &self.pack.org.unit(owner).id;
        if officer.is_system() || self.store.person(officer.id()).await?.is_none() {
            return Err(ServiceError::Forbidden(format!("a certifying officer of {unit} certifies extracts ({CERTIFYING_DUTY}); name them with --as")));
        }
        let (snapshot, persons) = self.snapshot_of(&[officer.id()], &[]).await?;
        if snapshot
            .units_at(persons[0], self.now())
            .iter()
            .any(|&u| self.pack.org.is_within(u, owner))
        {
            return Ok(());
        }
        Err(ServiceError::Forbidden(format!(
            "{} is not in {unit}, whose duty {CERTIFYING_DUTY} certifies extracts",
            officer.id()
        )))
    }
}
