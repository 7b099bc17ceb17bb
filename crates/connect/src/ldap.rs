//! Privileged groups in a directory (OpenLDAP, Active Directory): who is a member of the
//! groups that confer privileged access, directly or through nested groups.
//!
//! A group is named by its DN or its `cn`; its members are read from `member`
//! (groupOfNames, Active Directory), `uniqueMember` (groupOfUniqueNames) and `memberUid`
//! (posixGroup). A member that is itself a group is opened in turn (cycles and depth
//! bounded); every other member is an account, named by `uid`, `sAMAccountName` or
//! `cn`, with its `mail` when the directory has one. Plain `ldap://` only: Bantay links
//! no TLS library yet (see README).

use std::collections::{BTreeMap, BTreeSet};

use ldap3::{ldap_escape, Ldap, LdapConnAsync, Scope, SearchEntry};

use crate::imported::ImportedAccount;

/// How deep nested groups are followed.
const MAX_NESTING: usize = 16;

const ATTRIBUTES: &[&str] =
    &["objectClass", "cn", "uid", "sAMAccountName", "mail", "member", "uniqueMember", "memberUid"];

/// Where a directory is and which of its groups confer privileged access.
#[derive(Debug, Clone)]
pub struct DirectorySource {
    pub url: String,
    /// A simple bind; anonymous without one.
    pub bind_dn: Option<String>,
    pub password: Option<String>,
    /// Where groups named by `cn` and accounts named by `memberUid` are looked for.
    pub base: String,
    pub groups: Vec<String>,
    /// The groups confer full control (administrators, root-equivalent).
    pub full_control: bool,
}

/// What went wrong reading a directory, naming the server and what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("{url}: {message}")]
    Server { url: String, message: String },
    #[error("{url}: no group `{group}` under {base}: name it by DN or by its cn")]
    NoGroup { url: String, group: String, base: String },
}

/// What a directory showed: the accounts, and every entry read (DN and attributes,
/// sorted) for the record's hash.
#[derive(Debug, Clone)]
pub struct DirectoryRead {
    pub accounts: Vec<ImportedAccount>,
    pub entries: Vec<(String, BTreeMap<String, Vec<String>>)>,
}

struct Reader<'a> {
    ldap: Ldap,
    source: &'a DirectorySource,
    seen: BTreeMap<String, (String, BTreeMap<String, Vec<String>>)>,
}

fn attr<'e>(entry: &'e BTreeMap<String, Vec<String>>, name: &str) -> &'e [String] {
    entry.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map_or(&[], |(_, v)| v.as_slice())
}

fn is_group(entry: &BTreeMap<String, Vec<String>>) -> bool {
    attr(entry, "objectClass").iter().any(|c| {
        ["groupOfNames", "groupOfUniqueNames", "posixGroup", "group"]
            .iter()
            .any(|g| c.eq_ignore_ascii_case(g))
    })
}

impl Reader<'_> {
    fn fail(&self, e: impl std::fmt::Display) -> DirectoryError {
        DirectoryError::Server { url: self.source.url.clone(), message: e.to_string() }
    }

    async fn search(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
    ) -> Result<Vec<(String, BTreeMap<String, Vec<String>>)>, DirectoryError> {
        let found = self
            .ldap
            .search(base, scope, filter, ATTRIBUTES.to_vec())
            .await
            .map_err(|e| self.fail(e))?;
        // 32: noSuchObject, a member DN that is not there.
        if found.1.rc == 32 {
            return Ok(Vec::new());
        }
        let (entries, _) = found
            .success()
            .map_err(|e| self.fail(format!("searching {base} for {filter}: {e}")))?;
        let mut out = Vec::new();
        for entry in entries {
            let entry = SearchEntry::construct(entry);
            let attrs: BTreeMap<String, Vec<String>> = entry.attrs.into_iter().collect();
            self.seen.insert(entry.dn.to_lowercase(), (entry.dn.clone(), attrs.clone()));
            out.push((entry.dn, attrs));
        }
        Ok(out)
    }

    async fn entry(
        &mut self,
        dn: &str,
    ) -> Result<Option<(String, BTreeMap<String, Vec<String>>)>, DirectoryError> {
        if let Some(found) = self.seen.get(&dn.to_lowercase()) {
            return Ok(Some(found.clone()));
        }
        Ok(self.search(dn, Scope::Base, "(objectClass=*)").await?.into_iter().next())
    }
}

/// Reads the members of `source.groups`, following nested groups.
pub async fn read_directory(source: &DirectorySource) -> Result<DirectoryRead, DirectoryError> {
    let fail = |e: &dyn std::fmt::Display| DirectoryError::Server {
        url: source.url.clone(),
        message: e.to_string(),
    };
    let (conn, mut ldap) = LdapConnAsync::new(&source.url).await.map_err(|e| fail(&e))?;
    ldap3::drive!(conn);
    if let Some(dn) = &source.bind_dn {
        ldap.simple_bind(dn, source.password.as_deref().unwrap_or_default())
            .await
            .and_then(|r| r.success())
            .map_err(|e| fail(&format!("binding as {dn}: {e}")))?;
    }
    let mut reader = Reader { ldap, source, seen: BTreeMap::new() };
    let mut accounts: BTreeMap<String, ImportedAccount> = BTreeMap::new();
    for name in &source.groups {
        let group = if name.contains('=') {
            reader.entry(name).await?
        } else {
            let filter = format!(
                "(&(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup)(objectClass=group))(cn={}))",
                ldap_escape(name)
            );
            reader.search(&source.base, Scope::Subtree, &filter).await?.into_iter().next()
        };
        let Some((dn, entry)) = group.filter(|(_, e)| is_group(e)) else {
            return Err(DirectoryError::NoGroup {
                url: source.url.clone(),
                group: name.clone(),
                base: source.base.clone(),
            });
        };
        // Breadth-first through nested groups, each opened once.
        let mut queue = vec![(entry, Vec::<String>::new())];
        let mut opened = BTreeSet::from([dn.to_lowercase()]);
        while let Some((group, path)) = queue.pop() {
            let how = if path.is_empty() {
                format!("member of {dn}")
            } else {
                format!("member of {dn} through {}", path.join(" < "))
            };
            let mut member_dns: Vec<String> = attr(&group, "member").to_vec();
            // `uniqueMember` may carry `#'0101'B` (an optional unique id) after the DN.
            member_dns.extend(
                attr(&group, "uniqueMember")
                    .iter()
                    .map(|m| m.split('#').next().unwrap_or(m).to_owned()),
            );
            for member in member_dns {
                let Some((member_dn, m)) = reader.entry(&member).await? else { continue };
                if is_group(&m) {
                    if path.len() < MAX_NESTING && opened.insert(member_dn.to_lowercase()) {
                        let mut deeper = path.clone();
                        deeper.push(member_dn.clone());
                        queue.push((m, deeper));
                    }
                    continue;
                }
                let name = ["uid", "sAMAccountName", "cn"]
                    .iter()
                    .find_map(|a| attr(&m, a).first())
                    .cloned();
                if let Some(name) = name {
                    add(
                        &mut accounts,
                        name,
                        attr(&m, "mail").first().cloned(),
                        &how,
                        source.full_control,
                    );
                }
            }
            for uid in attr(&group, "memberUid").to_vec() {
                let filter = format!("(uid={})", ldap_escape(&uid));
                let found = reader.search(&source.base, Scope::Subtree, &filter).await?;
                let mail = found.first().and_then(|(_, e)| attr(e, "mail").first().cloned());
                add(&mut accounts, uid, mail, &format!("{how} (memberUid)"), source.full_control);
            }
        }
    }
    let entries = reader.seen.into_values().collect();
    Ok(DirectoryRead { accounts: accounts.into_values().collect(), entries })
}

fn add(
    accounts: &mut BTreeMap<String, ImportedAccount>,
    name: String,
    mail: Option<String>,
    how: &str,
    full: bool,
) {
    let a = accounts.entry(name.clone()).or_insert_with(|| ImportedAccount {
        account: name,
        full_control: full,
        how: Vec::new(),
        person: None,
        mail: None,
    });
    if a.mail.is_none() {
        a.mail = mail;
    }
    if !a.how.iter().any(|h| h == how) {
        a.how.push(how.to_owned());
    }
}
