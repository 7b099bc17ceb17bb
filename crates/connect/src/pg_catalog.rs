//! A PostgreSQL server's own account of privileged access: its roles' attributes
//! (SUPERUSER, CREATEROLE, REPLICATION, BYPASSRLS), who is a member of what, and who
//! owns each database, read in one consistent snapshot. [`privileged_roles`] says which
//! login roles hold privileged access through any of these.

use std::collections::{BTreeMap, BTreeSet};

use crate::imported::ImportedAccount;
use crate::postgres_target::{PostgresTarget, TargetError};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PgRole {
    pub name: String,
    pub superuser: bool,
    pub create_role: bool,
    pub create_db: bool,
    pub replication: bool,
    pub bypass_rls: bool,
    pub can_login: bool,
    /// The roles it is a direct member of.
    pub member_of: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PgCatalog {
    pub roles: Vec<PgRole>,
    /// (database, owner) for every database but the templates.
    pub database_owners: Vec<(String, String)>,
}

/// Predefined roles that reach the server's files or programs, or all data.
const POWERFUL_PREDEFINED: &[(&str, bool)] = &[
    ("pg_execute_server_program", true),
    ("pg_write_server_files", true),
    ("pg_read_server_files", false),
    ("pg_write_all_data", false),
    ("pg_read_all_data", false),
    ("pg_signal_backend", false),
    ("pg_checkpoint", false),
];

impl PostgresTarget {
    /// Reads the catalog in one read-only, repeatable-read transaction.
    pub async fn catalog(&self) -> Result<PgCatalog, TargetError> {
        let mut tx = self.pool().begin().await.map_err(self.error("connecting".into()))?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(self.error("starting a read-only snapshot".into()))?;
        type Row = (String, bool, bool, bool, bool, bool, bool, Vec<String>);
        let roles: Vec<Row> = sqlx::query_as(
            "SELECT r.rolname::text, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, \
             r.rolbypassrls, r.rolcanlogin, \
             ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid \
                   WHERE m.member = r.oid ORDER BY 1) \
             FROM pg_roles r ORDER BY 1",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(self.error("reading roles".into()))?;
        let database_owners: Vec<(String, String)> = sqlx::query_as(
            "SELECT datname::text, pg_get_userbyid(datdba)::text FROM pg_database \
             WHERE NOT datistemplate ORDER BY 1",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(self.error("reading database owners".into()))?;
        tx.commit().await.map_err(self.error("ending the snapshot".into()))?;
        let roles = roles
            .into_iter()
            .map(
                |(
                    name,
                    superuser,
                    create_role,
                    create_db,
                    replication,
                    bypass_rls,
                    can_login,
                    member_of,
                )| {
                    PgRole {
                        name,
                        superuser,
                        create_role,
                        create_db,
                        replication,
                        bypass_rls,
                        can_login,
                        member_of,
                    }
                },
            )
            .collect();
        Ok(PgCatalog { roles, database_owners })
    }
}

/// The login roles with privileged access, and how: their own attributes, those of every
/// role they are (directly or indirectly) a member of, powerful predefined roles, and the
/// databases they own. `server` names the source in each line.
pub fn privileged_roles(catalog: &PgCatalog, server: &str) -> Vec<ImportedAccount> {
    let by_name: BTreeMap<&str, &PgRole> =
        catalog.roles.iter().map(|r| (r.name.as_str(), r)).collect();
    let mut out = Vec::new();
    for role in catalog.roles.iter().filter(|r| r.can_login) {
        let mut how = Vec::new();
        let mut full = false;
        // The role and every role it can become, nearest first.
        let mut seen = BTreeSet::new();
        let mut queue = vec![(role.name.as_str(), None::<&str>)];
        while let Some((name, via)) = queue.pop() {
            if !seen.insert(name) {
                continue;
            }
            let Some(r) = by_name.get(name) else { continue };
            let whose = match via {
                None => String::new(),
                Some(_) => format!(" through membership in {name}"),
            };
            for (has, attribute, gives_full) in [
                (r.superuser, "SUPERUSER", true),
                (r.create_role, "CREATEROLE", false),
                (r.replication, "REPLICATION", false),
                (r.bypass_rls, "BYPASSRLS", false),
            ] {
                if has {
                    full |= gives_full;
                    how.push(format!("{attribute}{whose} ({server}: pg_roles)"));
                }
            }
            if let Some((_, gives_full)) = POWERFUL_PREDEFINED.iter().find(|(p, _)| *p == name) {
                full |= gives_full;
                how.push(format!("member of {name} ({server}: pg_auth_members)"));
            }
            for parent in r.member_of.iter().rev() {
                queue.push((parent, Some(name)));
            }
        }
        for (database, owner) in &catalog.database_owners {
            if *owner == role.name {
                how.push(format!("owner of database {database} ({server}: pg_database)"));
            }
        }
        if !how.is_empty() {
            out.push(ImportedAccount {
                account: role.name.clone(),
                full_control: full,
                how,
                person: None,
                mail: None,
            });
        }
    }
    out
}
