//! What the web pages show, as the service decides it: each method checks the session's
//! role against Bantay's own policy and reads what that role may see.

use bantay_core::Action;
use bantay_store::{FindingRow, GrantRow};

use crate::error::Result;
use crate::service::Service;
use crate::signin::Session;

/// The order's rules a dashboard reports on, in the order's order.
pub const RULES: [(&str, &str); 6] = [
    ("3", "Access re-checked when people are realigned"),
    ("4.1", "Least privilege, by the unit's duties"),
    ("4.2", "Nobody with OS, database and application rights on one critical system"),
    ("4.3", "Datacenters closed but for one approved emergency visit a shift"),
    ("4.4", "Guards log every entry"),
    ("4.5", "System accounts documented and never used by people"),
];

/// One rule's standing: findings not yet remediated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleStanding {
    pub clause: &'static str,
    pub title: &'static str,
    pub open: usize,
    pub acknowledged: usize,
}

/// A person's first page.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// Compliance rule by rule, for those who may see findings.
    pub standing: Option<Vec<RuleStanding>>,
    /// The person's own privileges in force, each with the clause that justifies it.
    pub grants: Vec<GrantRow>,
    /// Notifications addressed to them.
    pub notifications: usize,
}

fn of_rule(finding: &FindingRow, clause: &str) -> bool {
    finding.clause == clause
        || finding.clause.strip_prefix(clause).is_some_and(|r| r.starts_with('.'))
}

impl Service {
    pub async fn dashboard(&self, session: &Session) -> Result<Dashboard> {
        session.require(Action::ViewOwn)?;
        let now = self.now().unix_seconds();
        let standing = if session.may(Action::ViewFindings) {
            let findings = self.store.findings().await?;
            let count = |clause: &str, status: &[&str]| {
                findings
                    .iter()
                    .filter(|f| of_rule(f, clause) && status.contains(&f.status.as_str()))
                    .count()
            };
            Some(
                RULES
                    .iter()
                    .map(|&(clause, title)| RuleStanding {
                        clause,
                        title,
                        open: count(clause, &["open", "reopened"]),
                        acknowledged: count(clause, &["acknowledged"]),
                    })
                    .collect(),
            )
        } else {
            None
        };
        let grants = self
            .store
            .grants_of(&session.person)
            .await?
            .into_iter()
            .filter(|g| g.status == "active" && g.valid_from <= now)
            .filter(|g| g.valid_until.is_none_or(|u| u > now))
            .collect();
        let notifications = self.store.notifications(&session.person).await?.len();
        Ok(Dashboard { standing, grants, notifications })
    }

    /// Findings not yet remediated, newest first, for those who may see them.
    pub async fn unremediated_findings(&self, session: &Session) -> Result<Vec<FindingRow>> {
        session.require(Action::ViewFindings)?;
        let mut findings: Vec<FindingRow> =
            self.store.findings().await?.into_iter().filter(|f| f.status != "remediated").collect();
        findings.sort_by(|a, b| b.opened.cmp(&a.opened).then_with(|| a.id.cmp(&b.id)));
        Ok(findings)
    }
}
