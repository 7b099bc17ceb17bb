//! sudoers, passwd and group. sudo's own regression inputs and the JSON its `cvtsudoers`
//! prints for each are the oracle: our tree, written out in cvtsudoers' JSON shape, must
//! equal sudo's, and every input sudo refuses must be refused with its file and line.

use std::collections::BTreeMap;

use bantay_connect::linux::sudoers::{
    self, AliasBody, AliasKind, Binding, Command, CommandItem, CommandSpec, FileIncludes, Item,
    Member, NoIncludes, Operation, Sudoers, Tag,
};
use bantay_connect::linux::{parse_group, parse_passwd, privileged_accounts};
use serde_json::{json, Map, Value};

/// The inputs sudo refuses (their `.json.ok` is empty because cvtsudoers failed), and the
/// line of the first error.
const REFUSED: &[(u32, u32)] =
    &[(4, 6), (5, 2), (7, 2), (8, 8), (11, 1), (12, 1), (13, 1), (18, 2), (25, 3), (29, 5)];

#[derive(Clone, Copy)]
enum Word {
    User,
    Host,
    RunasGroup,
}

fn member(m: &Member, word: Word) -> Value {
    let (key, value): (&str, Value) = match (&m.item, word) {
        (Item::All, Word::User) => ("username", "ALL".into()),
        (Item::All, Word::Host) => ("hostname", "ALL".into()),
        (Item::All, Word::RunasGroup) => ("usergroup", "ALL".into()),
        (Item::Myself, _) => ("username", "".into()),
        (Item::Alias(a), Word::User) => ("useralias", a.as_str().into()),
        (Item::Alias(a), Word::Host) => ("hostalias", a.as_str().into()),
        (Item::Alias(a), Word::RunasGroup) => ("runasalias", a.as_str().into()),
        (Item::Name(n), Word::User) => ("username", n.as_str().into()),
        (Item::Name(n), Word::Host) => ("hostname", n.as_str().into()),
        (Item::Name(n), Word::RunasGroup) => ("usergroup", n.as_str().into()),
        (Item::Uid(u), _) => ("userid", (*u).into()),
        (Item::Group(g), _) => ("usergroup", g.as_str().into()),
        (Item::Gid(g), _) => ("usergid", (*g).into()),
        (Item::NonUnixGroup(g), _) => ("nonunixgroup", g.as_str().into()),
        (Item::NonUnixGid(g), _) => ("nonunixgid", (*g).into()),
        (Item::Netgroup(g), _) => ("netgroup", g.as_str().into()),
        (Item::Network(n), _) => ("networkaddr", n.as_str().into()),
    };
    let mut object = Map::new();
    object.insert(key.into(), value);
    if m.negated {
        object.insert("negated".into(), true.into());
    }
    Value::Object(object)
}

fn runas_member(m: &Member) -> Value {
    match &m.item {
        Item::Alias(a) => {
            let mut v = json!({ "runasalias": a });
            if m.negated {
                v["negated"] = true.into();
            }
            v
        }
        _ => member(m, Word::User),
    }
}

fn command(c: &CommandItem) -> Value {
    let mut object = Map::new();
    match &c.command {
        Command::All => {
            object.insert("command".into(), "ALL".into());
        }
        Command::Alias(a) => {
            object.insert("cmndalias".into(), a.as_str().into());
        }
        Command::Run { path, args } => {
            let text = match args {
                Some(a) => format!("{path} {a}"),
                None => path.clone(),
            };
            object.insert("command".into(), text.into());
        }
    }
    let mut digests: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (algorithm, value) in &c.digests {
        digests.entry(algorithm).or_default().push(value);
    }
    for (algorithm, values) in digests {
        let v: Value = if values.len() == 1 { values[0].into() } else { values.into() };
        object.insert(algorithm.into(), v);
    }
    if c.negated {
        object.insert("negated".into(), true.into());
    }
    Value::Object(object)
}

fn tag(options: &mut Vec<Value>, name: &str, t: Tag) {
    match t {
        Tag::Unset => {}
        Tag::On | Tag::Implied => options.push(json!({ name: true })),
        Tag::Off => options.push(json!({ name: false })),
    }
}

fn gmt(t: i64) -> String {
    let ((y, m, d), (h, mi, s)) = bantay_core::Timestamp::from_unix_seconds(t).civil_at(0);
    format!("{y:04}{m:02}{d:02}{h:02}{mi:02}{s:02}Z")
}

fn spec_options(s: &CommandSpec) -> Vec<Value> {
    let mut options = Vec::new();
    if let Some(c) = &s.chroot {
        options.push(json!({ "runchroot": c.value }));
    }
    if let Some(c) = &s.cwd {
        options.push(json!({ "runcwd": c.value }));
    }
    if let Some(t) = s.timeout {
        options.push(json!({ "command_timeout": t }));
    }
    if let Some(t) = s.not_before {
        options.push(json!({ "notbefore": gmt(t) }));
    }
    if let Some(t) = s.not_after {
        options.push(json!({ "notafter": gmt(t) }));
    }
    tag(&mut options, "authenticate", s.tags.authenticate);
    tag(&mut options, "noexec", s.tags.noexec);
    tag(&mut options, "intercept", s.tags.intercept);
    tag(&mut options, "send_mail", s.tags.send_mail);
    tag(&mut options, "setenv", s.tags.setenv);
    tag(&mut options, "sudoedit_follow", s.tags.follow);
    tag(&mut options, "log_input", s.tags.log_input);
    tag(&mut options, "log_output", s.tags.log_output);
    for (name, value) in &s.options {
        options.push(json!({ *name: value }));
    }
    options
}

/// cvtsudoers merges a command into the one before when it only carries over the runas
/// list, chroot and cwd of that one and has the same tags.
fn continues(before: &CommandSpec, next: &CommandSpec) -> bool {
    let carried = |inherited: Option<bool>, had: bool| match inherited {
        None => !had,
        Some(inherited) => inherited,
    };
    carried(next.runas.as_ref().map(|r| r.inherited), before.runas.is_some())
        && carried(next.chroot.as_ref().map(|r| r.inherited), before.chroot.is_some())
        && carried(next.cwd.as_ref().map(|r| r.inherited), before.cwd.is_some())
        && before.tags == next.tags
        && before.options == next.options
}

fn cmnd_specs(specs: &[CommandSpec]) -> Vec<Value> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < specs.len() {
        let first = &specs[i];
        let mut object = Map::new();
        if let Some(runas) = &first.runas {
            let users: Vec<Value> = match &runas.value.users {
                Some(users) => users.iter().map(runas_member).collect(),
                None => vec![json!({ "username": "" })],
            };
            object.insert("runasusers".into(), users.into());
            if let Some(groups) = &runas.value.groups {
                let groups: Vec<Value> =
                    groups.iter().map(|m| member(m, Word::RunasGroup)).collect();
                object.insert("runasgroups".into(), groups.into());
            }
        }
        let options = spec_options(first);
        if !options.is_empty() {
            object.insert("Options".into(), options.into());
        }
        let mut commands = vec![command(&first.command)];
        let mut last = first;
        i += 1;
        while i < specs.len() && continues(last, &specs[i]) {
            commands.push(command(&specs[i].command));
            last = &specs[i];
            i += 1;
        }
        object.insert("Commands".into(), commands.into());
        out.push(Value::Object(object));
    }
    out
}

fn setting_value(s: &sudoers::Setting) -> Value {
    const LISTS: &[&str] =
        &["env_check", "env_delete", "env_keep", "passprompt_regex", "log_servers"];
    let list = |op: &str, v: &str| {
        let words: Vec<&str> = v.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
        json!({ "operation": op, s.name.as_str(): words })
    };
    match &s.operation {
        Operation::Flag(b) => json!({ s.name.as_str(): b }),
        Operation::Assign(v) if LISTS.contains(&s.name.as_str()) => list("list_assign", v),
        Operation::Add(v) => list("list_add", v),
        Operation::Remove(v) => list("list_remove", v),
        Operation::Assign(v) => json!({ s.name.as_str(): v }),
    }
}

/// Our tree in the shape of `cvtsudoers -f json`.
fn as_cvtsudoers(s: &Sudoers) -> Value {
    let mut top = Map::new();
    if !s.defaults.is_empty() {
        let defaults: Vec<Value> = s
            .defaults
            .iter()
            .map(|d| {
                let mut object = Map::new();
                let binding: Option<Vec<Value>> = match &d.binding {
                    Binding::Global => None,
                    Binding::Host(l) => Some(l.iter().map(|m| member(m, Word::Host)).collect()),
                    Binding::User(l) => Some(l.iter().map(|m| member(m, Word::User)).collect()),
                    Binding::Runas(l) => Some(l.iter().map(runas_member).collect()),
                    Binding::Command(l) => Some(l.iter().map(command).collect()),
                };
                if let Some(b) = binding {
                    object.insert("Binding".into(), b.into());
                }
                let options: Vec<Value> = d.settings.iter().map(setting_value).collect();
                object.insert("Options".into(), options.into());
                Value::Object(object)
            })
            .collect();
        top.insert("Defaults".into(), defaults.into());
    }
    for (kind, title) in [
        (AliasKind::User, "User_Aliases"),
        (AliasKind::Runas, "Runas_Aliases"),
        (AliasKind::Host, "Host_Aliases"),
        (AliasKind::Command, "Command_Aliases"),
    ] {
        let mut aliases = Map::new();
        for ((k, name), alias) in &s.aliases {
            if *k != kind {
                continue;
            }
            let members: Vec<Value> = match &alias.body {
                AliasBody::Members(l) => l
                    .iter()
                    .map(|m| match kind {
                        AliasKind::Host => member(m, Word::Host),
                        AliasKind::Runas => runas_member(m),
                        _ => member(m, Word::User),
                    })
                    .collect(),
                AliasBody::Commands(l) => l.iter().map(command).collect(),
            };
            aliases.insert(name.clone(), members.into());
        }
        if !aliases.is_empty() {
            top.insert(title.into(), Value::Object(aliases));
        }
    }
    let mut specs = Vec::new();
    for rule in &s.rules {
        let users: Vec<Value> = rule.users.iter().map(|m| member(m, Word::User)).collect();
        for p in &rule.privileges {
            let hosts: Vec<Value> = p.hosts.iter().map(|m| member(m, Word::Host)).collect();
            specs.push(json!({
                "User_List": users, "Host_List": hosts, "Cmnd_Specs": cmnd_specs(&p.commands),
            }));
        }
    }
    if !specs.is_empty() {
        top.insert("User_Specs".into(), specs.into());
    }
    Value::Object(top)
}

#[test]
fn sudo_regression_inputs_read_as_cvtsudoers_reads_them() {
    let dir = crate::fixtures().join("sudoers");
    let mut compared = 0;
    let mut wrong = Vec::new();
    for n in 1..=31u32 {
        let input = std::fs::read_to_string(dir.join(format!("test{n}.in"))).unwrap();
        let expected = std::fs::read_to_string(dir.join(format!("test{n}.json.ok"))).unwrap();
        let name = format!("test{n}.in");
        let parsed = sudoers::parse(&input, &name, &mut NoIncludes);
        if let Some((_, line)) = REFUSED.iter().find(|(t, _)| *t == n) {
            assert!(expected.trim().is_empty(), "{name}: cvtsudoers accepted it");
            match parsed {
                Ok(_) => wrong.push(format!("{name}: sudo refuses it, we accepted it")),
                Err(e) if (e.file.as_str(), e.line) != (name.as_str(), *line) => {
                    wrong.push(format!("{name}: refused at line {line} by sudo, by us: {e}"))
                }
                Err(_) => {}
            }
            continue;
        }
        let parsed = match parsed {
            Ok(p) => p,
            Err(e) => {
                wrong.push(format!("{name}: sudo accepts it, we refused it: {e}"));
                continue;
            }
        };
        if expected.trim().is_empty() {
            assert_eq!(parsed, Sudoers::default(), "{name}: an empty policy");
            continue;
        }
        let expected: Value = serde_json::from_str(&expected).unwrap();
        let ours = as_cvtsudoers(&parsed);
        if ours != expected {
            wrong.push(format!(
                "{name}:\nours:\n{}\nsudo's:\n{}",
                serde_json::to_string(&ours).unwrap(),
                serde_json::to_string(&expected).unwrap()
            ));
        }
        compared += 1;
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
    assert_eq!(compared, 19, "every input sudo accepts compared");
}

const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
postgres:x:111:118:PostgreSQL administrator:/var/lib/postgresql:/bin/bash
toor:x:0:0:left over:/root:/bin/sh
jdelacruz:x:1001:1001:Juan Dela Cruz:/home/jdelacruz:/bin/bash
mreyes:x:1002:1002:Maria Reyes:/home/mreyes:/bin/bash
asantos:x:1003:1003:Ana Santos:/home/asantos:/bin/bash
guest:x:1004:1004::/home/guest:/bin/bash
bcruz:x:1005:1005:Ben Cruz:/home/bcruz:/bin/bash
";

const GROUP: &str = "root:x:0:
sudo:x:27:jdelacruz
ops:x:1100:asantos,guest
postgres:x:118:
";

const SUDOERS: &str = "# /etc/sudoers
Defaults\tenv_reset
Defaults\tsecure_path=\"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"

User_Alias DBAS = jdelacruz, mreyes
Cmnd_Alias PGCTL = /usr/bin/systemctl restart postgresql, /usr/bin/systemctl reload postgresql

root\tALL=(ALL:ALL) ALL
%sudo\tALL=(ALL:ALL) ALL
DBAS\tcps-db1 = (postgres) ALL

@includedir sudoers.d
";

const OPS: &str = "# sudoers.d/ops
asantos cps-db1 = NOPASSWD: PGCTL
%ops, !guest cps-db1.customs.gov.ph = (root) /usr/bin/journalctl
bcruz cps-app1 = /bin/bash
";

/// A host's /etc as files on disk, sudoers.d and all.
fn host_files() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sudoers.d")).unwrap();
    std::fs::write(dir.path().join("sudoers"), SUDOERS).unwrap();
    std::fs::write(dir.path().join("sudoers.d/ops"), OPS).unwrap();
    // sudo skips names with a dot or ending in `~`: an editor's backup grants nothing.
    std::fs::write(dir.path().join("sudoers.d/ops~"), "guest ALL = ALL\n").unwrap();
    std::fs::write(dir.path().join("sudoers.d/README.txt"), "guest ALL = ALL\n").unwrap();
    let path = dir.path().join("sudoers").to_string_lossy().into_owned();
    (dir, path)
}

#[test]
fn root_equivalents_on_a_host_follow_uid_0_groups_aliases_includes_and_negation() {
    let (_dir, path) = host_files();
    let text = std::fs::read_to_string(&path).unwrap();
    let policy = sudoers::parse(&text, &path, &mut FileIncludes::default()).unwrap();
    let passwd = parse_passwd(PASSWD, "/etc/passwd").unwrap();
    let group = parse_group(GROUP, "/etc/group").unwrap();

    let on_db = privileged_accounts("cps-db1.customs.gov.ph", &passwd, &group, &policy);
    let summary: Vec<(&str, bool)> =
        on_db.iter().map(|a| (a.account.as_str(), a.root_equivalent)).collect();
    assert_eq!(
        summary,
        [
            ("asantos", false),
            ("jdelacruz", true),
            ("mreyes", false),
            ("root", true),
            ("toor", true)
        ],
        "{on_db:#?}"
    );
    let how = |name: &str| on_db.iter().find(|a| a.account == name).unwrap().how.clone();
    assert_eq!(how("toor"), ["uid 0 (/etc/passwd:4)"]);
    assert_eq!(
        how("jdelacruz"),
        [format!("sudo ALL as root ({path}:9)"), format!("sudo ALL as postgres ({path}:10)")]
    );
    assert_eq!(how("mreyes"), [format!("sudo ALL as postgres ({path}:10)")]);
    let ops = format!("{}/sudoers.d/ops", path.trim_end_matches("/sudoers"));
    assert_eq!(
        how("asantos"),
        [
            format!(
                "sudo PGCTL (/usr/bin/systemctl restart postgresql, /usr/bin/systemctl reload postgresql) as root ({ops}:2)"
            ),
            format!("sudo /usr/bin/journalctl as root ({ops}:3)"),
        ]
    );

    // On the application host only root, toor, the sudo group and bcruz's shell.
    let on_app = privileged_accounts("cps-app1", &passwd, &group, &policy);
    let summary: Vec<(&str, bool)> =
        on_app.iter().map(|a| (a.account.as_str(), a.root_equivalent)).collect();
    assert_eq!(summary, [("bcruz", true), ("jdelacruz", true), ("root", true), ("toor", true)]);
}

#[test]
fn a_syntax_error_in_an_included_file_names_that_file_and_line() {
    let (dir, path) = host_files();
    std::fs::write(dir.path().join("sudoers.d/broken"), "# fine\nbcruz ALL = (root\n").unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let e = sudoers::parse(&text, &path, &mut FileIncludes::default()).unwrap_err();
    assert!(e.file.ends_with("sudoers.d/broken"), "{e}");
    assert_eq!(e.line, 2, "{e}");
    assert!(e.message.contains("closing the runas list"), "{e}");

    // An include that is not there, and one that includes itself.
    let e = sudoers::parse("@include missing\n", "/nowhere/sudoers", &mut FileIncludes::default())
        .unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("/nowhere/sudoers", 1));
    assert!(e.message.contains("/nowhere/missing"), "{e}");
    std::fs::write(dir.path().join("loop"), "@include loop\n").unwrap();
    let looped = dir.path().join("loop").to_string_lossy().into_owned();
    let e = sudoers::parse("@include loop\n", &looped, &mut FileIncludes::default()).unwrap_err();
    assert!(e.message.contains("a loop"), "{e}");
}

#[test]
fn account_files_with_bad_lines_are_refused_with_the_line() {
    let e =
        parse_passwd("root:x:0:0:root:/root:/bin/bash\nbob:x:1000\n", "/etc/passwd").unwrap_err();
    assert_eq!(
        e.to_string(),
        "/etc/passwd:2: 3 fields where 7 were expected (name:…, separated by `:`)"
    );
    let e = parse_passwd("bob:x:one:1000:::/bin/sh\n", "/etc/passwd").unwrap_err();
    assert_eq!(e.to_string(), "/etc/passwd:1: uid `one` is not a number");
    let e = parse_group("wheel:x::root\n", "/etc/group").unwrap_err();
    assert_eq!(e.to_string(), "/etc/group:1: gid `` is not a number");
    // Comments, blank lines and NIS entries are not accounts.
    let ok = parse_passwd("# local\n\n+@netusers::::::\nroot:x:0:0::/root:/bin/sh\n", "p").unwrap();
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0].line, 4);
}

/// Policies the way the Bureau writes them: what Debian's `cvtsudoers -f json` (sudo's
/// own parser) prints for each, we must read too.
const OURS: &[&str] = &[
    "Defaults env_reset
Defaults:%dba !requiretty
Defaults secure_path=\"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"
User_Alias DBAS = jdelacruz, mreyes, %dba, !guest
Host_Alias CPSDB = cps-db1, cps-db2, 10.20.1.0/24
Runas_Alias DBOWN = postgres, oracle
Cmnd_Alias PGCTL = /usr/bin/systemctl restart postgresql, /usr/bin/systemctl reload postgresql
Cmnd_Alias SHELLS = /bin/sh, /bin/bash
root ALL=(ALL:ALL) ALL
%sudo ALL=(ALL:ALL) ALL
DBAS CPSDB = (DBOWN) NOPASSWD: ALL, !SHELLS : ALL = (root) PGCTL
asantos cps-db1 = NOPASSWD: PGCTL, (postgres) /usr/bin/psql, LOG_OUTPUT: /usr/bin/pg_dump *
bcruz cps-app1 = /bin/bash
",
    "# Debian's default, with a drop-in style rule
Defaults\tenv_reset
Defaults\tmail_badpass
Defaults\tuse_pty
root\tALL=(ALL:ALL) ALL
%sudo\tALL=(ALL:ALL) ALL
%admin ALL=(ALL) ALL
svc_cps cps-app1 = (root) NOPASSWD: /usr/bin/systemctl restart cps, /usr/bin/systemctl status cps
#1001 ALL = (#0) /usr/bin/id
%#27 ALL = (root:adm) /usr/bin/tail -f /var/log/syslog
ops ALL, !cps-db1 = (ALL) NOEXEC: NOPASSWD: /usr/bin/less /var/log/*, PASSWD: /usr/bin/vi /etc/hosts
",
    "Defaults>root !set_logname
Defaults@cps-db1 log_output, iolog_dir=/var/log/sudo-io
Defaults!/usr/bin/psql !log_output
Defaults env_keep += \"LANG LC_*\", env_keep -= LC_ALL
Cmnd_Alias DUMP = sha256:1IXHRCxXgSnIEnb+xBz4PAfWaPdXIBWKFF0QCwxJ5G4= /usr/bin/pg_dump
backup ALL = (postgres) NOPASSWD: DUMP, TIMEOUT=2h /usr/bin/pg_basebackup
auditor ALL = (root) NOTBEFORE=20261201000000Z NOTAFTER=20261231235959Z /usr/bin/journalctl
",
];

/// Written wrong: sudo refuses each, and so must we.
const BROKEN: &[&str] = &[
    "ana ALL = (root /bin/ls\n",
    "User_Alias lower = ana\n",
    "ana ALL = bin/ls\n",
    "ana ALL = TIMEOUT=3x /bin/ls\n",
    "Cmnd_Alias A = /bin/ls\nCmnd_Alias A = /bin/cat\n",
];

fn cvtsudoers(text: &str) -> Option<Value> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sudoers");
    std::fs::write(&file, text).unwrap();
    let out = std::process::Command::new("cvtsudoers")
        .args(["-f", "json"])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| {
            panic!("cvtsudoers (Debian's sudo package) is needed; scripts/test installs it: {e}")
        });
    out.status.success().then(|| serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn our_own_policies_read_as_debians_cvtsudoers_reads_them() {
    for (i, text) in OURS.iter().enumerate() {
        let sudo = cvtsudoers(text).unwrap_or_else(|| panic!("policy {i}: cvtsudoers refused it"));
        let ours = as_cvtsudoers(&sudoers::parse(text, "sudoers", &mut NoIncludes).unwrap());
        assert_eq!(
            ours,
            sudo,
            "policy {i}:\nours:\n{}\nsudo's:\n{}",
            serde_json::to_string_pretty(&ours).unwrap(),
            serde_json::to_string_pretty(&sudo).unwrap()
        );
    }
    for text in BROKEN {
        assert!(cvtsudoers(text).is_none(), "sudo accepts {text:?}");
        assert!(sudoers::parse(text, "sudoers", &mut NoIncludes).is_err(), "we accept {text:?}");
    }
}

/// Aliases naming aliases twice over, thirty deep (and a cycle): each is expanded once,
/// so reading the policy takes as long as its size, not 2^30 steps.
#[test]
fn aliases_are_expanded_once_each() {
    let mut text = String::new();
    for i in 0..30 {
        text.push_str(&format!("User_Alias U{i} = U{n}, U{n}, !nobody\n", n = i + 1));
        text.push_str(&format!("Cmnd_Alias C{i} = C{n}, C{n}\n", n = i + 1));
    }
    text.push_str("User_Alias U30 = ana, U0\nCmnd_Alias C30 = /bin/sh, C0\nU0 ALL = (root) C0\n");
    let policy = sudoers::parse(&text, "sudoers", &mut NoIncludes).unwrap();
    let passwd = parse_passwd("ana:x:1000:1000::/home/ana:/bin/bash\n", "p").unwrap();
    let found = privileged_accounts("h", &passwd, &[], &policy);
    assert_eq!(found.len(), 1);
    assert!(found[0].root_equivalent, "{found:?}");
}
