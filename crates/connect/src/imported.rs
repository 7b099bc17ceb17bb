//! What an import of privileged access yields, whatever its source: each account with
//! privileged access and every way it holds it. Also the application role export, the
//! documented format in which an application (CPS, ERP) reports its accounts.
//!
//! The export is CSV with a header or JSON, one row per account and role:
//!
//! ```text
//! account,role,level,person
//! jdelacruz,CPS Administrator,admin,P-0001
//! cps_batch,Interface,privileged,
//! mreyes,Examiner,user,
//! ```
//!
//! ```json
//! { "accounts": [ { "account": "jdelacruz", "role": "CPS Administrator", "level": "admin",
//!                   "person": "P-0001" } ] }
//! ```
//!
//! `level` is `admin` (full control of the application), `privileged` (some
//! administration) or `user` (no privileged access: read and checked, not imported).
//! `person` is optional: the application's own record of whose account it is.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use crate::error::ConnectError;
use crate::table::split_csv_line;

/// An account a source shows with privileged access.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportedAccount {
    pub account: String,
    /// Root-equivalent, superuser, application administrator.
    pub full_control: bool,
    /// Each way it holds its access, with where that was read.
    pub how: Vec<String>,
    /// Whose account the source says it is, when it says.
    pub person: Option<String>,
    /// The holder's e-mail address, when the source keeps one (a directory's `mail`):
    /// the account is linked to the person on record with that address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mail: Option<String>,
}

impl From<crate::linux::PrivilegedAccount> for ImportedAccount {
    fn from(a: crate::linux::PrivilegedAccount) -> Self {
        ImportedAccount {
            account: a.account,
            full_control: a.root_equivalent,
            how: a.how,
            person: None,
            mail: None,
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportJson {
    accounts: Vec<ExportRow>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportRow {
    account: String,
    role: String,
    level: String,
    #[serde(default)]
    person: Option<String>,
}

/// Reads an application's role export (CSV or JSON, told apart by the first character).
pub fn read_app_export(text: &str, path: &Path) -> Result<Vec<ImportedAccount>, ConnectError> {
    let name = path.display().to_string();
    let mut rows: Vec<(u64, ExportRow)> = Vec::new();
    if text.trim_start().starts_with('{') {
        let parsed: ExportJson = serde_json::from_str(text).map_err(|e| {
            ConnectError::record(
                path,
                e.line() as u64,
                None,
                format!("{e} (see the export format)"),
            )
        })?;
        rows.extend(parsed.accounts.into_iter().enumerate().map(|(i, r)| (i as u64 + 1, r)));
    } else {
        let mut lines = text.lines().enumerate();
        let mut fields: Vec<Cow<'_, str>> = Vec::new();
        let Some((_, header)) = lines.next() else {
            return Err(ConnectError::record(
                path,
                1,
                None,
                "empty: the first line is the header account,role,level[,person]",
            ));
        };
        split_csv_line(header, &mut fields).map_err(|e| ConnectError::record(path, 1, None, e))?;
        let header: Vec<String> = fields.iter().map(|f| f.trim().to_owned()).collect();
        let column = |name: &str| header.iter().position(|h| h == name);
        let (Some(account), Some(role), Some(level)) =
            (column("account"), column("role"), column("level"))
        else {
            return Err(ConnectError::record(
                path,
                1,
                None,
                format!("the header must name account, role and level (and may name person); it names {}", header.join(", ")),
            ));
        };
        let person = column("person");
        for (i, line) in lines {
            let number = i as u64 + 1;
            if line.trim().is_empty() {
                continue;
            }
            fields.clear();
            split_csv_line(line, &mut fields)
                .map_err(|e| ConnectError::record(path, number, None, e))?;
            if fields.len() != header.len() {
                return Err(ConnectError::record(
                    path,
                    number,
                    None,
                    format!("{} fields where the header has {}", fields.len(), header.len()),
                ));
            }
            let get = |i: usize| fields[i].trim().to_owned();
            rows.push((
                number,
                ExportRow {
                    account: get(account),
                    role: get(role),
                    level: get(level),
                    person: person.map(get).filter(|p| !p.is_empty()),
                },
            ));
        }
    }
    let mut accounts: BTreeMap<String, ImportedAccount> = BTreeMap::new();
    for (number, row) in rows {
        let bad =
            |field: &str, message: String| ConnectError::record(path, number, Some(field), message);
        if row.account.is_empty() {
            return Err(bad("account", "empty".into()));
        }
        if row.role.is_empty() {
            return Err(bad("role", "empty".into()));
        }
        let full = match row.level.as_str() {
            "admin" => true,
            "privileged" => false,
            "user" => continue,
            other => {
                return Err(bad("level", format!("`{other}`: write admin, privileged or user")));
            }
        };
        let entry = accounts.entry(row.account.clone()).or_insert_with(|| ImportedAccount {
            account: row.account.clone(),
            full_control: false,
            how: Vec::new(),
            person: None,
            mail: None,
        });
        if let (Some(had), Some(new)) = (&entry.person, &row.person) {
            if had != new {
                return Err(bad("person", format!("`{new}`, but an earlier row says `{had}`")));
            }
        }
        entry.person = entry.person.take().or(row.person);
        entry.full_control |= full;
        entry.how.push(format!("role {} ({}) ({name}:{number})", row.role, row.level));
    }
    Ok(accounts.into_values().collect())
}
