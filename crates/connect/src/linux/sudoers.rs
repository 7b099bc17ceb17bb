//! A sudoers(5) parser: the whole grammar sudo itself accepts — aliases, user
//! specifications with runas lists, tags and options, digests, regular expressions,
//! negation, `Defaults` with their bindings, `@include`/`#include` and their `dir` forms,
//! line continuations — into a tree that keeps each rule's file and line. Anything sudo
//! would refuse is an error naming the file and line, and nothing of the file is kept.
//!
//! What the rules *mean* for a host (who may become root there) is [`super::privileges`].

use std::collections::BTreeMap;

/// Where an entry was written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Origin {
    pub file: String,
    pub line: u32,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A sudoers file that sudo would not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct SudoersError {
    pub file: String,
    pub line: u32,
    pub message: String,
}

/// One item of a user, host or runas list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    All,
    Alias(String),
    /// A user name, host name or (in a runas group list) a group name, as written.
    Name(String),
    Uid(u32),
    /// `%group`
    Group(String),
    /// `%#gid`
    Gid(u32),
    /// `%:group`, a group from a non-Unix source.
    NonUnixGroup(String),
    NonUnixGid(u32),
    /// `+netgroup`
    Netgroup(String),
    /// An IP address or network, in a host list.
    Network(String),
    /// An empty runas user list: the invoking user only.
    Myself,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// An odd number of `!` before it.
    pub negated: bool,
    pub item: Item,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    All,
    Alias(String),
    /// A path (possibly a glob or `^regex$`), `sudoedit` or `list`, with its arguments as
    /// written (words joined by one space).
    Run {
        path: String,
        args: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandItem {
    pub negated: bool,
    pub command: Command,
    /// (algorithm, value) in the order written.
    pub digests: Vec<(&'static str, String)>,
}

/// A tag's state: unset, set by the rule, or (SETENV only) implied by a command of `ALL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tag {
    #[default]
    Unset,
    On,
    Off,
    Implied,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tags {
    /// `PASSWD` (On) / `NOPASSWD` (Off): whether a password is asked.
    pub authenticate: Tag,
    pub noexec: Tag,
    pub intercept: Tag,
    pub send_mail: Tag,
    pub setenv: Tag,
    pub follow: Tag,
    pub log_input: Tag,
    pub log_output: Tag,
}

/// `(users : groups)` before a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runas {
    /// `None` when only groups were given (`(: wheel)`): the invoking user.
    pub users: Option<Vec<Member>>,
    pub groups: Option<Vec<Member>>,
}

/// A value a command carries, with whether it was written here or carried over from the
/// command before it (sudo carries runas lists, tags and options to the following
/// commands of the same list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried<T> {
    pub value: T,
    pub inherited: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    /// `None`: no runas list, so the command runs as `runas_default` (root).
    pub runas: Option<Carried<Runas>>,
    pub tags: Tags,
    /// `TIMEOUT=` in seconds.
    pub timeout: Option<u64>,
    /// `NOTBEFORE=` / `NOTAFTER=` as Unix seconds.
    pub not_before: Option<i64>,
    pub not_after: Option<i64>,
    pub chroot: Option<Carried<String>>,
    pub cwd: Option<Carried<String>>,
    /// `ROLE=`, `TYPE=`, `APPARMOR_PROFILE=`, `PRIVS=`, `LIMITPRIVS=` (lowercased names).
    pub options: Vec<(&'static str, String)>,
    pub command: CommandItem,
}

/// `hosts = commands`, one of the `:`-separated parts of a user specification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Privilege {
    pub hosts: Vec<Member>,
    pub commands: Vec<CommandSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSpec {
    pub users: Vec<Member>,
    pub privileges: Vec<Privilege>,
    pub origin: Origin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AliasKind {
    User,
    Runas,
    Host,
    Command,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AliasBody {
    Members(Vec<Member>),
    Commands(Vec<CommandItem>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    pub body: AliasBody,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    Global,
    Host(Vec<Member>),
    User(Vec<Member>),
    Runas(Vec<Member>),
    Command(Vec<CommandItem>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// `name` (true) or `!name` (false), with no value.
    Flag(bool),
    Assign(String),
    Add(String),
    Remove(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub name: String,
    pub operation: Operation,
}

/// One `Defaults` line: its settings share the binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultsEntry {
    pub binding: Binding,
    pub settings: Vec<Setting>,
    pub origin: Origin,
}

/// A parsed sudoers policy, its included files in place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sudoers {
    pub defaults: Vec<DefaultsEntry>,
    pub aliases: BTreeMap<(AliasKind, String), Alias>,
    pub rules: Vec<UserSpec>,
}

impl Sudoers {
    pub fn alias(&self, kind: AliasKind, name: &str) -> Option<&Alias> {
        self.aliases.get(&(kind, name.to_owned()))
    }
}

/// Where `@include` and `@includedir` read from.
pub trait Includes {
    /// The text of a file.
    fn file(&mut self, path: &str) -> Result<String, String>;
    /// The files of a directory that sudo would read, in the order it reads them.
    fn dir(&mut self, path: &str) -> Result<Vec<String>, String>;
}

/// No includes: an include is an error saying so.
#[derive(Debug)]
pub struct NoIncludes;

impl Includes for NoIncludes {
    fn file(&mut self, path: &str) -> Result<String, String> {
        Err(format!("{path}: includes are not read here"))
    }
    fn dir(&mut self, path: &str) -> Result<Vec<String>, String> {
        Err(format!("{path}: includes are not read here"))
    }
}

/// Reads includes from the file system, as sudo does: relative paths from the including
/// file's directory; in a directory, files whose names neither end in `~` nor contain a
/// `.`, in lexical order. A host's files copied elsewhere are read with
/// [`FileIncludes::rooted`]: `/etc/…` in an include then means that copy.
#[derive(Debug, Default)]
pub struct FileIncludes {
    etc: Option<std::path::PathBuf>,
}

impl FileIncludes {
    /// Includes under `/etc/` read from `etc` instead (a copy of a host's `/etc`).
    pub fn rooted(etc: &std::path::Path) -> Self {
        FileIncludes { etc: Some(etc.to_owned()) }
    }

    fn place(&self, path: &str) -> std::path::PathBuf {
        match (&self.etc, path.strip_prefix("/etc/")) {
            (Some(etc), Some(rest)) => etc.join(rest),
            _ => std::path::PathBuf::from(path),
        }
    }
}

impl Includes for FileIncludes {
    fn file(&mut self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.place(path)).map_err(|e| format!("cannot read {path}: {e}"))
    }
    fn dir(&mut self, path: &str) -> Result<Vec<String>, String> {
        let entries =
            std::fs::read_dir(self.place(path)).map_err(|e| format!("cannot read {path}: {e}"))?;
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.ends_with('~') && !n.contains('.'))
            .collect();
        names.sort();
        Ok(names.into_iter().map(|n| format!("{}/{n}", path.trim_end_matches('/'))).collect())
    }
}

/// How deep includes may nest before the parser assumes a loop (sudo's own limit).
const MAX_INCLUDE_DEPTH: usize = 128;

/// Parses `text`, read from `file`, with its includes.
pub fn parse(text: &str, file: &str, includes: &mut dyn Includes) -> Result<Sudoers, SudoersError> {
    let mut sudoers = Sudoers::default();
    parse_into(&mut sudoers, text, file, includes, 0)?;
    Ok(sudoers)
}

fn parse_into(
    sudoers: &mut Sudoers,
    text: &str,
    file: &str,
    includes: &mut dyn Includes,
    depth: usize,
) -> Result<(), SudoersError> {
    for (line, logical) in logical_lines(text).map_err(|line| SudoersError {
        file: file.to_owned(),
        line,
        message: "the last line ends in `\\`, continuing past the end of the file".into(),
    })? {
        let origin = Origin { file: file.to_owned(), line };
        let mut c = Cursor { s: &logical, pos: 0, origin: &origin };
        c.skip_ws();
        if c.at_end() {
            continue;
        }
        if let Some((target, is_dir)) = include_directive(&logical) {
            include(sudoers, file, &origin, target, is_dir, includes, depth)?;
            continue;
        }
        let first = c.peek_word();
        match first.as_str() {
            "User_Alias" | "Runas_Alias" | "Host_Alias" | "Cmnd_Alias" | "Cmd_Alias" => {
                c.pos += first.len();
                let kind = match first.as_str() {
                    "User_Alias" => AliasKind::User,
                    "Runas_Alias" => AliasKind::Runas,
                    "Host_Alias" => AliasKind::Host,
                    _ => AliasKind::Command,
                };
                c.aliases(sudoers, kind)?;
            }
            "Defaults" => {
                c.pos += "Defaults".len();
                let entry = c.defaults()?;
                sudoers.defaults.push(entry);
            }
            _ => {
                let spec = c.user_spec()?;
                sudoers.rules.push(spec);
            }
        }
    }
    Ok(())
}

fn include(
    sudoers: &mut Sudoers,
    file: &str,
    origin: &Origin,
    target: String,
    is_dir: bool,
    includes: &mut dyn Includes,
    depth: usize,
) -> Result<(), SudoersError> {
    let fail =
        |message: String| SudoersError { file: origin.file.clone(), line: origin.line, message };
    if depth >= MAX_INCLUDE_DEPTH {
        return Err(fail(format!("includes nest deeper than {MAX_INCLUDE_DEPTH}: a loop?")));
    }
    let path = if target.starts_with('/') {
        target
    } else {
        match file.rfind('/') {
            Some(i) => format!("{}/{target}", &file[..i]),
            None => target,
        }
    };
    let files = if is_dir { includes.dir(&path).map_err(fail)? } else { vec![path] };
    for f in files {
        let text = includes.file(&f).map_err(fail)?;
        parse_into(sudoers, &text, &f, includes, depth + 1)?;
    }
    Ok(())
}

/// `@include`, `#include`, `@includedir`, `#includedir` and their target.
fn include_directive(line: &str) -> Option<(String, bool)> {
    let rest = line.trim_start();
    let rest = rest.strip_prefix('@').or_else(|| rest.strip_prefix('#'))?;
    let (rest, is_dir) = match rest.strip_prefix("includedir") {
        Some(r) => (r, true),
        None => (rest.strip_prefix("include")?, false),
    };
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let target = rest.trim();
    let target = target
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .map(|t| t.replace("\\\"", "\""))
        .unwrap_or_else(|| target.replace("\\ ", " "));
    (!target.is_empty()).then_some((target, is_dir))
}

/// Physical lines joined where they end in a backslash, each with the line it starts on.
/// Err(line) when the file ends inside a continuation.
fn logical_lines(text: &str) -> Result<Vec<(u32, String)>, u32> {
    let mut out = Vec::new();
    let mut current: Option<(u32, String)> = None;
    for (i, raw) in text.split_terminator('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let number = i as u32 + 1;
        let trailing = raw.bytes().rev().take_while(|&b| b == b'\\').count();
        let (body, continues) =
            if trailing % 2 == 1 { (&raw[..raw.len() - 1], true) } else { (raw, false) };
        let entry = current.get_or_insert_with(|| (number, String::new()));
        entry.1.push_str(body);
        if !continues {
            out.extend(current.take());
        }
    }
    match current {
        Some((line, _)) => Err(line),
        None => Ok(out),
    }
}

/// The three kinds of list items are typed differently.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    User,
    Host,
    RunasGroup,
}

const TAG_WORDS: &[&str] = &[
    "PASSWD",
    "NOPASSWD",
    "EXEC",
    "NOEXEC",
    "SETENV",
    "NOSETENV",
    "LOG_INPUT",
    "NOLOG_INPUT",
    "LOG_OUTPUT",
    "NOLOG_OUTPUT",
    "MAIL",
    "NOMAIL",
    "FOLLOW",
    "NOFOLLOW",
    "INTERCEPT",
    "NOINTERCEPT",
];

const OPTION_WORDS: &[(&str, &str)] = &[
    ("ROLE", "role"),
    ("TYPE", "type"),
    ("APPARMOR_PROFILE", "apparmor_profile"),
    ("PRIVS", "privs"),
    ("LIMITPRIVS", "limitprivs"),
];

const DIGESTS: &[&str] = &["sha224", "sha256", "sha384", "sha512"];

struct Cursor<'a> {
    s: &'a str,
    pos: usize,
    origin: &'a Origin,
}

impl Cursor<'_> {
    fn error(&self, message: impl Into<String>) -> SudoersError {
        SudoersError {
            file: self.origin.file.clone(),
            line: self.origin.line,
            message: message.into(),
        }
    }

    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// Skips blanks, and a comment (a `#` not starting a numeric id) to the end.
    fn skip_ws(&mut self) {
        loop {
            match self.peek() {
                Some(' ' | '\t' | '\r') => self.pos += 1,
                Some('#') if !self.rest()[1..].starts_with(|c: char| c.is_ascii_digit()) => {
                    self.pos = self.s.len();
                }
                _ => return,
            }
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char, what: &str) -> Result<(), SudoersError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.error(format!("expected `{c}` {what}, found {}", self.found())))
        }
    }

    fn found(&self) -> String {
        match self.rest().chars().take(20).collect::<String>() {
            s if s.is_empty() => "the end of the line".into(),
            s => format!("`{s}`"),
        }
    }

    /// The bare word at the cursor (letters, digits, `_`), without moving.
    fn peek_word(&self) -> String {
        self.rest().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
    }

    /// An unquoted word in a list: up to a blank or one of `,:=()!"`, with `\x` standing
    /// for `x`. In a host list a word may be an IPv6 address or network, colons and all.
    fn bare_word(&mut self, host: bool) -> String {
        if host {
            let token: &str = self.rest().split([' ', '\t', ',', '=', ')']).next().unwrap_or("");
            let address = token.split('/').next().unwrap_or(token);
            if token.contains(':') && address.parse::<std::net::Ipv6Addr>().is_ok() {
                let token = token.to_owned();
                self.pos += token.len();
                return token;
            }
        }
        let mut out = String::new();
        let mut chars = self.rest().char_indices().peekable();
        let mut end = self.rest().len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, n)) => out.push(n),
                    None => out.push('\\'),
                },
                ' ' | '\t' | ',' | ':' | '=' | '(' | ')' | '!' | '"' => {
                    end = i;
                    break;
                }
                _ => out.push(c),
            }
        }
        self.pos += end;
        out
    }

    /// A word of a command or a value: up to a blank, `,` or (for a command) `:`. A
    /// backslash escapes those and itself, and stays before anything else (`^\$x$`).
    fn raw_word(&mut self, colon_ends: bool) -> String {
        let mut out = String::new();
        let mut chars = self.rest().char_indices().peekable();
        let mut end = self.rest().len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.peek() {
                    Some(&(_, n @ (',' | ':' | '=' | '\\' | ' ' | '\t' | '#'))) => {
                        out.push(n);
                        chars.next();
                    }
                    _ => out.push('\\'),
                },
                ' ' | '\t' | ',' => {
                    end = i;
                    break;
                }
                ':' if colon_ends => {
                    end = i;
                    break;
                }
                _ => out.push(c),
            }
        }
        self.pos += end;
        out
    }

    /// A double-quoted string; `\"` is a quote, other backslashes stay as written.
    fn quoted(&mut self) -> Result<String, SudoersError> {
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, '"')) => out.push('"'),
                    Some((_, n)) => {
                        out.push('\\');
                        out.push(n);
                    }
                    None => out.push('\\'),
                },
                _ => out.push(c),
            }
        }
        Err(self
            .error("a quoted string is not closed on its line (a newline in a string needs `\\`)"))
    }

    fn member(&mut self, context: Context) -> Result<Member, SudoersError> {
        self.skip_ws();
        let mut negated = false;
        while self.eat('!') {
            negated = !negated;
            self.skip_ws();
        }
        let (word, quoted) = if self.peek() == Some('"') {
            (self.quoted()?, true)
        } else {
            (self.bare_word(context == Context::Host), false)
        };
        if word.is_empty() && !quoted {
            return Err(self.error(format!("expected a name, found {}", self.found())));
        }
        let item = classify(&word, quoted, context).map_err(|m| self.error(m))?;
        Ok(Member { negated, item })
    }

    fn member_list(&mut self, context: Context) -> Result<Vec<Member>, SudoersError> {
        let mut list = vec![self.member(context)?];
        while self.eat(',') {
            list.push(self.member(context)?);
        }
        Ok(list)
    }

    fn aliases(&mut self, sudoers: &mut Sudoers, kind: AliasKind) -> Result<(), SudoersError> {
        loop {
            self.skip_ws();
            let name = self.bare_word(false);
            if !is_alias_name(&name) {
                return Err(self.error(format!(
                    "`{name}` is not an alias name: use capitals, digits and `_`, starting with a capital"
                )));
            }
            self.expect('=', "after the alias name")?;
            let body = match kind {
                AliasKind::Command => AliasBody::Commands(self.command_list(true)?),
                AliasKind::Host => AliasBody::Members(self.member_list(Context::Host)?),
                AliasKind::User | AliasKind::Runas => {
                    AliasBody::Members(self.member_list(Context::User)?)
                }
            };
            if sudoers.aliases.contains_key(&(kind, name.clone())) {
                return Err(self.error(format!("alias `{name}` is defined twice")));
            }
            sudoers.aliases.insert((kind, name), Alias { body, origin: self.origin.clone() });
            self.skip_ws();
            if self.at_end() {
                return Ok(());
            }
            self.expect(':', "between aliases")?;
        }
    }

    /// Commands separated by `,`; in a `Defaults!` binding without arguments, since the
    /// settings follow.
    fn command_list(&mut self, with_args: bool) -> Result<Vec<CommandItem>, SudoersError> {
        let mut list = vec![self.command(with_args)?];
        while self.eat(',') {
            list.push(self.command(with_args)?);
        }
        Ok(list)
    }

    fn defaults(&mut self) -> Result<DefaultsEntry, SudoersError> {
        let binding = match self.peek() {
            Some('@') => {
                self.pos += 1;
                Binding::Host(self.member_list(Context::Host)?)
            }
            Some(':') => {
                self.pos += 1;
                Binding::User(self.member_list(Context::User)?)
            }
            Some('>') => {
                self.pos += 1;
                Binding::Runas(self.member_list(Context::User)?)
            }
            Some('!') => {
                self.pos += 1;
                Binding::Command(self.command_list(false)?)
            }
            _ => Binding::Global,
        };
        let mut settings = vec![self.setting()?];
        while self.eat(',') {
            settings.push(self.setting()?);
        }
        self.skip_ws();
        if !self.at_end() {
            return Err(
                self.error(format!("unexpected {} after the Defaults settings", self.found()))
            );
        }
        Ok(DefaultsEntry { binding, settings, origin: self.origin.clone() })
    }

    fn setting(&mut self) -> Result<Setting, SudoersError> {
        self.skip_ws();
        let mut negated = false;
        while self.eat('!') {
            negated = !negated;
        }
        self.skip_ws();
        let name = self.peek_word();
        if name.is_empty() {
            return Err(self.error(format!("expected a Defaults setting, found {}", self.found())));
        }
        self.pos += name.len();
        self.skip_ws();
        let op = if self.rest().starts_with("+=") {
            Some('+')
        } else if self.rest().starts_with("-=") {
            Some('-')
        } else if self.rest().starts_with('=') {
            Some('=')
        } else {
            None
        };
        let Some(op) = op else {
            return Ok(Setting { name, operation: Operation::Flag(!negated) });
        };
        if negated {
            return Err(self.error(format!("`!{name}` cannot take a value")));
        }
        self.pos += if op == '=' { 1 } else { 2 };
        self.skip_ws();
        let value = if self.peek() == Some('"') { self.quoted()? } else { self.raw_word(false) };
        if name == "command_timeout" {
            parse_timeout(&value).ok_or_else(|| {
                self.error(format!("command_timeout: `{value}` is not a time (e.g. 1d2h30m10s)"))
            })?;
        }
        let operation = match op {
            '+' => Operation::Add(value),
            '-' => Operation::Remove(value),
            _ => Operation::Assign(value),
        };
        Ok(Setting { name, operation })
    }

    fn user_spec(&mut self) -> Result<UserSpec, SudoersError> {
        let users = self.member_list(Context::User)?;
        let mut privileges = Vec::new();
        loop {
            let hosts = self.member_list(Context::Host)?;
            self.expect('=', "between the hosts and the commands")?;
            let commands = self.command_specs()?;
            privileges.push(Privilege { hosts, commands });
            self.skip_ws();
            if self.at_end() {
                break;
            }
            self.expect(':', "before the next `hosts = commands`")?;
        }
        Ok(UserSpec { users, privileges, origin: self.origin.clone() })
    }

    fn command_specs(&mut self) -> Result<Vec<CommandSpec>, SudoersError> {
        let mut specs: Vec<CommandSpec> = Vec::new();
        loop {
            let spec = self.command_spec(specs.last())?;
            specs.push(spec);
            if !self.eat(',') {
                return Ok(specs);
            }
        }
    }

    fn command_spec(&mut self, before: Option<&CommandSpec>) -> Result<CommandSpec, SudoersError> {
        fn carry<T: Clone>(c: &Option<Carried<T>>) -> Option<Carried<T>> {
            c.as_ref().map(|c| Carried { value: c.value.clone(), inherited: true })
        }
        let mut spec = CommandSpec {
            runas: before.and_then(|b| carry(&b.runas)),
            tags: before.map(|b| b.tags).unwrap_or_default(),
            timeout: before.and_then(|b| b.timeout),
            not_before: before.and_then(|b| b.not_before),
            not_after: before.and_then(|b| b.not_after),
            chroot: before.and_then(|b| carry(&b.chroot)),
            cwd: before.and_then(|b| carry(&b.cwd)),
            options: before.map(|b| b.options.clone()).unwrap_or_default(),
            command: CommandItem { negated: false, command: Command::All, digests: vec![] },
        };
        // An implied SETENV (from `ALL`) carries over like a written one, as in sudo.
        if self.eat('(') {
            spec.runas = Some(Carried { value: self.runas()?, inherited: false });
        }
        loop {
            self.skip_ws();
            let word = self.peek_word();
            if TAG_WORDS.contains(&word.as_str()) && self.rest()[word.len()..].starts_with(':') {
                self.pos += word.len() + 1;
                set_tag(&mut spec.tags, &word);
                continue;
            }
            let after = &self.rest()[word.len()..];
            if word.is_empty() || !after.starts_with('=') {
                break;
            }
            let known =
                matches!(word.as_str(), "TIMEOUT" | "NOTBEFORE" | "NOTAFTER" | "CWD" | "CHROOT")
                    || OPTION_WORDS.iter().any(|(w, _)| *w == word);
            if !known {
                break;
            }
            self.pos += word.len() + 1;
            let value = if self.peek() == Some('"') { self.quoted()? } else { self.raw_word(true) };
            match word.as_str() {
                "TIMEOUT" => {
                    let t = parse_timeout(&value).ok_or_else(|| {
                        self.error(format!("TIMEOUT={value} is not a time (e.g. 1d2h30m10s)"))
                    })?;
                    spec.timeout = (t > 0).then_some(t).or(spec.timeout);
                }
                "NOTBEFORE" | "NOTAFTER" => {
                    let t = parse_generalized_time(&value).ok_or_else(|| {
                        self.error(format!(
                            "{word}={value} is not a time (YYYYMMDDHHMMSSZ or with an offset)"
                        ))
                    })?;
                    if word == "NOTBEFORE" {
                        spec.not_before = Some(t);
                    } else {
                        spec.not_after = Some(t);
                    }
                }
                "CWD" => spec.cwd = Some(Carried { value, inherited: false }),
                "CHROOT" => spec.chroot = Some(Carried { value, inherited: false }),
                _ => {
                    let Some((_, name)) = OPTION_WORDS.iter().find(|(w, _)| *w == word) else {
                        continue;
                    };
                    spec.options.retain(|(n, _)| n != name);
                    spec.options.push((name, value));
                }
            }
        }
        spec.command = self.command(true)?;
        if spec.command.command == Command::All
            && !spec.command.negated
            && spec.tags.setenv == Tag::Unset
        {
            spec.tags.setenv = Tag::Implied;
        }
        Ok(spec)
    }

    fn runas(&mut self) -> Result<Runas, SudoersError> {
        let mut runas = Runas { users: None, groups: None };
        self.skip_ws();
        if !matches!(self.peek(), Some(':' | ')')) {
            runas.users = Some(self.member_list(Context::User)?);
        }
        if self.eat(':') {
            self.skip_ws();
            if self.peek() != Some(')') {
                runas.groups = Some(self.member_list(Context::RunasGroup)?);
            }
        }
        self.expect(')', "closing the runas list")?;
        Ok(runas)
    }

    fn command(&mut self, with_args: bool) -> Result<CommandItem, SudoersError> {
        self.skip_ws();
        let mut negated = false;
        while self.eat('!') {
            negated = !negated;
            self.skip_ws();
        }
        let mut digests = Vec::new();
        loop {
            self.skip_ws();
            let word = self.peek_word();
            let Some(algorithm) = DIGESTS.iter().find(|d| **d == word) else { break };
            if !self.rest()[word.len()..].starts_with(':') {
                break;
            }
            self.pos += word.len() + 1;
            let value = self.raw_word(true);
            let valid = !value.is_empty()
                && value.chars().all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c));
            if !valid {
                return Err(self.error(format!("{algorithm}: `{value}` is not a digest")));
            }
            digests.push((*algorithm, value));
            if !self.eat(',') {
                break;
            }
        }
        self.skip_ws();
        let command = if self.peek() == Some('^') {
            let path = self.regex()?;
            Command::Run { path, args: if with_args { self.args()? } else { None } }
        } else {
            let word = self.raw_word(true);
            match word.as_str() {
                "" => {
                    return Err(self.error(format!("expected a command, found {}", self.found())));
                }
                "ALL" => Command::All,
                w if is_alias_name(w) => Command::Alias(word),
                w if w.starts_with('/') || w == "sudoedit" || w == "list" => {
                    let args = if with_args { self.args()? } else { None };
                    Command::Run { args, path: word }
                }
                _ => {
                    return Err(self.error(format!(
                        "`{word}` is not a command: give a full path, ALL, a Cmnd_Alias, sudoedit or list"
                    )))
                }
            }
        };
        if !digests.is_empty() && matches!(command, Command::Alias(_)) {
            return Err(self.error("a digest must be followed by a command, not an alias"));
        }
        Ok(CommandItem { negated, command, digests })
    }

    /// `^…$`: up to a `$` followed by a blank, `,`, `:` or the end.
    fn regex(&mut self) -> Result<String, SudoersError> {
        let rest = self.rest();
        let bytes = rest.as_bytes();
        let mut i = 1;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b'$' if matches!(bytes.get(i + 1), None | Some(b' ' | b'\t' | b',' | b':')) => {
                    let found = rest[..=i].to_owned();
                    self.pos += i + 1;
                    return Ok(found);
                }
                _ => i += 1,
            }
        }
        Err(self.error(format!(
            "the regular expression `{}` does not end in `$`",
            rest.split([',', ':']).next().unwrap_or(rest).trim_end()
        )))
    }

    /// A command's arguments: words up to `,`, `:` or the end, joined by one space.
    fn args(&mut self) -> Result<Option<String>, SudoersError> {
        let mut words: Vec<String> = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None | Some(',' | ':') => break,
                Some('^') => words.push(self.regex()?),
                Some(_) => {
                    let word = self.raw_word(true);
                    words.push(word);
                }
            }
        }
        Ok((!words.is_empty()).then(|| words.join(" ")))
    }
}

fn set_tag(tags: &mut Tags, word: &str) {
    let (name, on) = match word.strip_prefix("NO") {
        // NOPASSWD turns authentication off; the others name the tag they clear.
        Some(rest) => (rest, false),
        None => (word, true),
    };
    let value = if on { Tag::On } else { Tag::Off };
    let slot = match name {
        "PASSWD" => &mut tags.authenticate,
        "EXEC" => {
            // NOEXEC is the tag; EXEC clears it.
            tags.noexec = if on { Tag::Off } else { Tag::On };
            return;
        }
        "SETENV" => &mut tags.setenv,
        "LOG_INPUT" => &mut tags.log_input,
        "LOG_OUTPUT" => &mut tags.log_output,
        "MAIL" => &mut tags.send_mail,
        "FOLLOW" => &mut tags.follow,
        "INTERCEPT" => &mut tags.intercept,
        _ => return,
    };
    *slot = value;
}

fn is_alias_name(word: &str) -> bool {
    let mut chars = word.chars();
    matches!(chars.next(), Some('A'..='Z'))
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && word != "ALL"
}

fn classify(word: &str, quoted: bool, context: Context) -> Result<Item, String> {
    let id = |s: &str| s.parse::<u32>().ok();
    if !quoted && word == "ALL" {
        return Ok(Item::All);
    }
    if !quoted && is_alias_name(word) {
        return Ok(Item::Alias(word.to_owned()));
    }
    let named = |what: &str, rest: &str| {
        if rest.is_empty() {
            Err(format!("`{word}` names no {what}"))
        } else {
            Ok(rest.to_owned())
        }
    };
    match context {
        Context::RunasGroup => Ok(Item::Name(named("group", word)?)),
        Context::Host => {
            if let Some(rest) = word.strip_prefix('+') {
                return Ok(Item::Netgroup(named("netgroup", rest)?));
            }
            let address = word.split('/').next().unwrap_or(word);
            if address.parse::<std::net::IpAddr>().is_ok() {
                return Ok(Item::Network(word.to_owned()));
            }
            Ok(Item::Name(named("host", word)?))
        }
        Context::User => {
            if let Some(rest) = word.strip_prefix("%:") {
                return Ok(match rest.strip_prefix('#').and_then(id) {
                    Some(gid) => Item::NonUnixGid(gid),
                    None => Item::NonUnixGroup(named("group", rest)?),
                });
            }
            if let Some(rest) = word.strip_prefix('%') {
                return Ok(match rest.strip_prefix('#').and_then(id) {
                    Some(gid) => Item::Gid(gid),
                    None => Item::Group(named("group", rest)?),
                });
            }
            if let Some(rest) = word.strip_prefix('+') {
                return Ok(Item::Netgroup(named("netgroup", rest)?));
            }
            if let Some(uid) = word.strip_prefix('#').and_then(id) {
                return Ok(Item::Uid(uid));
            }
            Ok(Item::Name(named("user", word)?))
        }
    }
}

/// `TIMEOUT=` and `command_timeout`: seconds, or days, hours, minutes and seconds each at
/// most once and in that order (`1d2h`, `30m`, `45`).
pub fn parse_timeout(text: &str) -> Option<u64> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    let mut last_unit = 0;
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let (rank, seconds) = match c.to_ascii_lowercase() {
            'd' => (1, 86_400),
            'h' => (2, 3_600),
            'm' => (3, 60),
            's' => (4, 1),
            _ => return None,
        };
        if number.is_empty() || rank <= last_unit {
            return None;
        }
        let n: u64 = number.parse().ok()?;
        total = total.checked_add(n.checked_mul(seconds)?)?;
        number.clear();
        last_unit = rank;
    }
    (number.is_empty() && last_unit > 0).then_some(total)
}

/// `NOTBEFORE=`/`NOTAFTER=`: `YYYYMMDDHH[MM[SS]][.fraction][Z|±HHMM]` (a `,` may stand for
/// the `.`; the fraction is of the last unit given), as Unix seconds. Without a zone sudo
/// uses the machine's; here there is no machine, so UTC.
pub fn parse_generalized_time(text: &str) -> Option<i64> {
    let digits_end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let digits = &text[..digits_end];
    if !matches!(digits.len(), 10 | 12 | 14) {
        return None;
    }
    let field = |from: usize, len: usize| digits.get(from..from + len)?.parse::<i64>().ok();
    let (year, month, day, hour) = (field(0, 4)?, field(4, 2)?, field(6, 2)?, field(8, 2)?);
    let minute = if digits.len() >= 12 { field(10, 2)? } else { 0 };
    let second = if digits.len() >= 14 { field(12, 2)? } else { 0 };
    let start = bantay_core::Timestamp::from_civil((year, month, day), (hour, minute, second), 0)?;
    let mut rest = &text[digits_end..];
    let mut fraction_seconds = 0;
    if let Some(after) = rest.strip_prefix('.').or_else(|| rest.strip_prefix(',')) {
        let end = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
        let frac: f64 =
            format!("0.{}", after.get(..end).filter(|f| !f.is_empty())?).parse().ok()?;
        let unit = match digits.len() {
            10 => 3_600.0,
            12 => 60.0,
            _ => 1.0,
        };
        fraction_seconds = (frac * unit) as i64;
        rest = &after[end..];
    }
    let offset = match rest {
        "" | "Z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hhmm = rest.get(1..)?;
            if hhmm.len() != 4 || !hhmm.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let (h, m): (i64, i64) = (hhmm[..2].parse().ok()?, hhmm[2..].parse().ok()?);
            sign * (h * 3_600 + m * 60)
        }
    };
    Some(start.unix_seconds() + fraction_seconds - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout("7D4H10M30S"), Some(619_830));
        assert_eq!(parse_timeout("45"), Some(45));
        assert_eq!(parse_timeout("0"), Some(0));
        for bad in ["7dd", "10mm30s", "4hg10m", "14g", "30ss", "", "h", "5m10"] {
            assert_eq!(parse_timeout(bad), None, "{bad}");
        }
    }

    #[test]
    fn generalized_times() {
        let t = |s| parse_generalized_time(s);
        assert_eq!(t("20170214083000Z"), Some(1_487_061_000));
        assert_eq!(t("201702140830.3Z"), Some(1_487_061_018));
        assert_eq!(t("20170214033000-0500"), t("20170214083000Z"));
        assert_eq!(t("2017021408.4Z"), Some(1_487_061_000 - 30 * 60 + 24 * 60));
        assert_eq!(t("2017"), None);
        assert_eq!(t("20171314083000Z"), None);
    }
}
