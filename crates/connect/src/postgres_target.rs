//! A PostgreSQL server as a target Bantay enforces: privileged database access there is
//! membership in a role (`GRANT role TO login`), so Bantay grants the membership when a
//! request is approved, removes it when the grant ends, and reads the memberships back to
//! find any it did not make.
//!
//! This module only talks to the server; which memberships should exist is decided by
//! the service layer from the ledger's grants.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions as _, PgPool};

/// What went wrong on a target, naming the target and what was being done.
#[derive(Debug, thiserror::Error)]
#[error("target `{target}`: {doing}: {source}")]
pub struct TargetError {
    pub target: String,
    pub doing: String,
    #[source]
    pub source: sqlx::Error,
}

/// A connection to one PostgreSQL server, by the name the configuration gives it.
#[derive(Debug, Clone)]
pub struct PostgresTarget {
    name: String,
    pool: PgPool,
}

/// A member of a role on the server.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Membership {
    pub role: String,
    pub member: String,
}

/// Quotes an identifier for SQL: roles are names, never parameters.
fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

impl PostgresTarget {
    /// Connects lazily: a target that is down fails the enforcement that needs it, not
    /// the start of the service.
    pub fn new(name: &str, url: &str) -> Result<Self, TargetError> {
        let error = |source| TargetError {
            target: name.to_owned(),
            doing: "reading its URL".into(),
            source,
        };
        let options: PgConnectOptions = url.parse().map_err(error)?;
        let options = options.disable_statement_logging();
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect_lazy_with(options);
        Ok(Self { name: name.to_owned(), pool })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) fn error(&self, doing: String) -> impl FnOnce(sqlx::Error) -> TargetError + '_ {
        move |source| TargetError { target: self.name.clone(), doing, source }
    }

    /// Every member of each of `roles` (direct memberships).
    pub async fn members(&self, roles: &[String]) -> Result<Vec<Membership>, TargetError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT r.rolname::text, m.rolname::text FROM pg_auth_members am \
             JOIN pg_roles r ON r.oid = am.roleid JOIN pg_roles m ON m.oid = am.member \
             WHERE r.rolname = ANY($1) ORDER BY 1, 2",
        )
        .bind(roles)
        .fetch_all(&self.pool)
        .await
        .map_err(self.error("reading role memberships".into()))?;
        Ok(rows.into_iter().map(|(role, member)| Membership { role, member }).collect())
    }

    /// `GRANT role TO login`.
    pub async fn grant(&self, role: &str, login: &str) -> Result<(), TargetError> {
        let sql = format!("GRANT {} TO {}", quote(role), quote(login));
        sqlx::query(&sql)
            .execute(&self.pool)
            .await
            .map_err(self.error(format!("granting {role} to {login}")))?;
        Ok(())
    }

    /// `REVOKE role FROM login`.
    pub async fn revoke(&self, role: &str, login: &str) -> Result<(), TargetError> {
        let sql = format!("REVOKE {} FROM {}", quote(role), quote(login));
        sqlx::query(&sql)
            .execute(&self.pool)
            .await
            .map_err(self.error(format!("revoking {role} from {login}")))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(super::quote("cps_dba"), "\"cps_dba\"");
        assert_eq!(super::quote("a\"; DROP ROLE x; --"), "\"a\"\"; DROP ROLE x; --\"");
    }
}
