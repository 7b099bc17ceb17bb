//! A Linux host's privileged accounts from its own files: `/etc/passwd`, `/etc/group` and
//! sudoers (with its includes). An account is privileged on the host when it is uid 0, or
//! when sudoers lets it run commands as root there; it is root-equivalent when those
//! commands are everything or a shell.

pub mod sudoers;

use std::collections::{BTreeMap, HashMap, HashSet};

use sudoers::{AliasBody, AliasKind, Command, CommandItem, Item, Member, Sudoers};

/// A line of an account file that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct LineError {
    pub file: String,
    pub line: u32,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub gecos: String,
    pub home: String,
    pub shell: String,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

/// Lines of a colon-separated account file, without comments, blanks and NIS `+`/`-`
/// entries (they name no local account).
fn fields<'t>(
    text: &'t str,
    file: &str,
    count: usize,
) -> impl Iterator<Item = Result<(u32, Vec<&'t str>), LineError>> + 't {
    let file = file.to_owned();
    text.lines().enumerate().filter_map(move |(i, line)| {
        let number = i as u32 + 1;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') || line.starts_with(['+', '-']) {
            return None;
        }
        let parts: Vec<&str> = line.split(':').collect();
        if parts.len() != count {
            return Some(Err(LineError {
                file: file.clone(),
                line: number,
                message: format!(
                    "{} fields where {count} were expected (name:…, separated by `:`)",
                    parts.len()
                ),
            }));
        }
        if parts[0].is_empty() {
            return Some(Err(LineError {
                file: file.clone(),
                line: number,
                message: "the name (first field) is empty".into(),
            }));
        }
        Some(Ok((number, parts)))
    })
}

fn id(file: &str, line: u32, field: &str, text: &str) -> Result<u32, LineError> {
    text.parse().map_err(|_| LineError {
        file: file.to_owned(),
        line,
        message: format!("{field} `{text}` is not a number"),
    })
}

/// Reads `/etc/passwd`: `name:password:uid:gid:gecos:home:shell`.
pub fn parse_passwd(text: &str, file: &str) -> Result<Vec<PasswdEntry>, LineError> {
    fields(text, file, 7)
        .map(|r| {
            let (line, f) = r?;
            Ok(PasswdEntry {
                name: f[0].to_owned(),
                uid: id(file, line, "uid", f[2])?,
                gid: id(file, line, "gid", f[3])?,
                gecos: f[4].to_owned(),
                home: f[5].to_owned(),
                shell: f[6].to_owned(),
                line,
            })
        })
        .collect()
}

/// Reads `/etc/group`: `name:password:gid:member,member`.
pub fn parse_group(text: &str, file: &str) -> Result<Vec<GroupEntry>, LineError> {
    fields(text, file, 4)
        .map(|r| {
            let (line, f) = r?;
            Ok(GroupEntry {
                name: f[0].to_owned(),
                gid: id(file, line, "gid", f[2])?,
                members: f[3].split(',').filter(|m| !m.is_empty()).map(str::to_owned).collect(),
            })
        })
        .collect()
}

/// One account with privileged access on the host, and every way it has it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PrivilegedAccount {
    pub account: String,
    /// `None` for an account sudoers names that `/etc/passwd` does not hold (a directory
    /// account).
    pub uid: Option<u32>,
    /// uid 0, or sudo to root for everything or for a shell.
    pub root_equivalent: bool,
    /// Has a login shell (not `nologin`/`false`).
    pub login_shell: bool,
    /// Each way, with the file and line that gives it.
    pub how: Vec<String>,
}

/// Commands that give a root shell when run as root.
const SHELLS: &[&str] =
    &["sh", "bash", "dash", "zsh", "ksh", "csh", "tcsh", "fish", "su", "sudo", "sudoedit"];

/// The accounts privileged on `host` (its name as sudoers rules name it), by name.
pub fn privileged_accounts(
    host: &str,
    passwd: &[PasswdEntry],
    groups: &[GroupEntry],
    sudoers: &Sudoers,
) -> Vec<PrivilegedAccount> {
    let mut found: BTreeMap<String, PrivilegedAccount> = BTreeMap::new();
    for p in passwd.iter().filter(|p| p.uid == 0) {
        let account = account_entry(&mut found, p.name.as_str(), passwd);
        account.root_equivalent = true;
        account.how.push(format!("uid 0 (/etc/passwd:{})", p.line));
    }
    // Every account the rules could name: local ones and those named in user lists.
    let mut candidates: Vec<String> = passwd.iter().map(|p| p.name.clone()).collect();
    let mut named = HashSet::new();
    let mut expanded = HashSet::new();
    for rule in &sudoers.rules {
        for m in &rule.users {
            collect_names(sudoers, m, &mut named, &mut expanded);
        }
    }
    for group in groups {
        named.extend(group.members.iter().cloned());
    }
    let mut named: Vec<String> = named.into_iter().collect();
    named.sort();
    for n in named {
        if !candidates.contains(&n) {
            candidates.push(n);
        }
    }
    let runas_default = runas_default(sudoers);
    for name in &candidates {
        let user = User::new(name, passwd, groups);
        for rule in &sudoers.rules {
            if !list_matches(sudoers, &rule.users, AliasKind::User, &|i| user.is(i)) {
                continue;
            }
            for privilege in &rule.privileges {
                if !list_matches(sudoers, &privilege.hosts, AliasKind::Host, &|i| host_is(host, i))
                {
                    continue;
                }
                for spec in &privilege.commands {
                    if spec.command.negated {
                        continue;
                    }
                    // As root, or as another account (`(postgres) ALL` makes one the
                    // database's superuser through peer authentication).
                    let target = match &spec.runas {
                        None => Some(runas_default.clone()),
                        Some(r) => r.value.users.as_ref().and_then(|users| {
                            let root = User::root(passwd, groups);
                            if list_matches(sudoers, users, AliasKind::Runas, &|i| root.is(i)) {
                                return Some("root".to_owned());
                            }
                            let named: Vec<String> = users
                                .iter()
                                .filter(|m| !m.negated)
                                .filter_map(|m| match &m.item {
                                    Item::Name(n) => Some(n.clone()),
                                    Item::Uid(u) => Some(format!("#{u}")),
                                    _ => None,
                                })
                                .collect();
                            (!named.is_empty()).then(|| named.join(", "))
                        }),
                    };
                    let Some(target) = target else { continue };
                    let Some((full, what)) =
                        command_power(sudoers, &spec.command, &mut HashSet::new())
                    else {
                        continue;
                    };
                    let account = account_entry(&mut found, name, passwd);
                    account.root_equivalent |= full && target == "root";
                    account.how.push(format!("sudo {what} as {target} ({})", rule.origin));
                }
            }
        }
    }
    found.into_values().collect()
}

fn account_entry<'f>(
    found: &'f mut BTreeMap<String, PrivilegedAccount>,
    name: &str,
    passwd: &[PasswdEntry],
) -> &'f mut PrivilegedAccount {
    let user = passwd.iter().find(|p| p.name == name);
    found.entry(name.to_owned()).or_insert_with(|| PrivilegedAccount {
        account: name.to_owned(),
        uid: user.map(|p| p.uid),
        root_equivalent: false,
        login_shell: user.is_some_and(|p| {
            !p.shell.is_empty() && !p.shell.ends_with("/nologin") && !p.shell.ends_with("/false")
        }),
        how: Vec::new(),
    })
}

/// `Defaults runas_default=…` (global), else root.
fn runas_default(sudoers: &Sudoers) -> String {
    let mut user = "root".to_owned();
    for d in sudoers.defaults.iter().filter(|d| d.binding == sudoers::Binding::Global) {
        for s in d.settings.iter().filter(|s| s.name == "runas_default") {
            if let sudoers::Operation::Assign(v) = &s.operation {
                user = v.clone();
            }
        }
    }
    user
}

/// What a command lets one do as root: (root-equivalent, description).
fn command_power<'s>(
    sudoers: &'s Sudoers,
    item: &'s CommandItem,
    expanded: &mut HashSet<&'s str>,
) -> Option<(bool, String)> {
    match &item.command {
        Command::All => Some((true, "ALL".into())),
        Command::Run { path, args } => {
            let base = path.rsplit('/').next().unwrap_or(path);
            let full = SHELLS.contains(&base) && path != "sudoedit";
            let text = match args {
                Some(a) => format!("{path} {a}"),
                None => path.clone(),
            };
            Some((full, text))
        }
        // Each alias once: a cycle, or one reached twice, adds nothing new.
        Command::Alias(name) if expanded.insert(name) => {
            let alias = sudoers.alias(AliasKind::Command, name)?;
            let AliasBody::Commands(items) = &alias.body else { return None };
            let powers: Vec<(bool, String)> = items
                .iter()
                .filter(|i| !i.negated)
                .filter_map(|i| command_power(sudoers, i, expanded))
                .collect();
            if powers.is_empty() {
                return None;
            }
            let full = powers.iter().any(|(f, _)| *f);
            Some((
                full,
                format!(
                    "{name} ({})",
                    powers.into_iter().map(|(_, t)| t).collect::<Vec<_>>().join(", ")
                ),
            ))
        }
        Command::Alias(_) => None,
    }
}

/// The names a user list could stand for, through aliases (each expanded once).
fn collect_names<'s>(
    sudoers: &'s Sudoers,
    m: &'s Member,
    out: &mut HashSet<String>,
    expanded: &mut HashSet<&'s str>,
) {
    match &m.item {
        Item::Name(n) if !m.negated => {
            out.insert(n.clone());
        }
        Item::Alias(a) if expanded.insert(a) => {
            if let Some(AliasBody::Members(members)) =
                sudoers.alias(AliasKind::User, a).map(|a| &a.body)
            {
                for m in members {
                    collect_names(sudoers, m, out, expanded);
                }
            }
        }
        _ => {}
    }
}

/// A user as sudo sees them: name, uid and every group they are in.
struct User {
    name: String,
    uid: Option<u32>,
    groups: Vec<(String, u32)>,
}

impl User {
    fn new(name: &str, passwd: &[PasswdEntry], groups: &[GroupEntry]) -> User {
        let entry = passwd.iter().find(|p| p.name == name);
        let primary = entry.map(|p| p.gid);
        let groups = groups
            .iter()
            .filter(|g| Some(g.gid) == primary || g.members.iter().any(|m| m == name))
            .map(|g| (g.name.clone(), g.gid))
            .collect();
        User { name: name.to_owned(), uid: entry.map(|p| p.uid), groups }
    }

    fn root(passwd: &[PasswdEntry], groups: &[GroupEntry]) -> User {
        let mut root = User::new("root", passwd, groups);
        root.uid = Some(0);
        root
    }

    fn is(&self, item: &Item) -> bool {
        match item {
            Item::All => true,
            Item::Name(n) => *n == self.name,
            Item::Uid(u) => Some(*u) == self.uid,
            Item::Group(g) => self.groups.iter().any(|(name, _)| name == g),
            Item::Gid(g) => self.groups.iter().any(|(_, gid)| gid == g),
            // Netgroups and non-Unix groups live outside these files: not matched.
            _ => false,
        }
    }
}

fn host_is(host: &str, item: &Item) -> bool {
    match item {
        Item::All => true,
        Item::Name(n) => {
            let short = |s: &str| s.split('.').next().unwrap_or(s).to_ascii_lowercase();
            n.eq_ignore_ascii_case(host)
                || (!n.contains('.') && short(host) == n.to_ascii_lowercase())
        }
        _ => false,
    }
}

/// Whether a list matches: the last item that matches decides (a negated one excludes),
/// as in sudo; aliases are expanded, each once (an alias refers to others by name, so a
/// policy could otherwise make the work grow exponentially; a cycle matches nothing).
fn list_matches(
    sudoers: &Sudoers,
    list: &[Member],
    kind: AliasKind,
    is: &dyn Fn(&Item) -> bool,
) -> bool {
    let mut seen = HashMap::new();
    list_match(sudoers, list, kind, is, &mut seen).unwrap_or(false)
}

fn list_match<'s>(
    sudoers: &'s Sudoers,
    list: &'s [Member],
    kind: AliasKind,
    is: &dyn Fn(&Item) -> bool,
    seen: &mut HashMap<&'s str, Option<bool>>,
) -> Option<bool> {
    let mut result = None;
    for m in list {
        let matched = match &m.item {
            Item::Alias(name) => match seen.get(name.as_str()) {
                Some(known) => *known,
                None => {
                    seen.insert(name, None);
                    let found = match sudoers.alias(kind, name).map(|a| &a.body) {
                        Some(AliasBody::Members(members)) => {
                            list_match(sudoers, members, kind, is, seen)
                        }
                        _ => None,
                    };
                    seen.insert(name, found);
                    found
                }
            },
            item => is(item).then_some(true),
        };
        if let Some(matched) = matched {
            result = Some(matched != m.negated);
        }
    }
    result
}
