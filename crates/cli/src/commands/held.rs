//! `bantay import linux|postgres|app|ldap`, `bantay accounts held` and `bantay accounts link`:
//! the privileged access that really exists on hosts, database servers and applications,
//! recorded all or nothing, linked to persons and read against the order.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use bantay_connect::linux::sudoers::{self, FileIncludes, Includes};
use bantay_connect::linux::{parse_group, parse_passwd, privileged_accounts};
use bantay_connect::{
    privileged_roles, read_app_export, read_directory, DirectorySource, ImportedAccount,
    PostgresTarget,
};
use bantay_server::{AccountsImport, AccountsImported, ImportInput, SourceKind};
use sha2::{Digest, Sha256};

use crate::output::Output;
use crate::place::{runtime, Place};
use crate::served::{open, or_exit, print_json, ServiceOptions};

#[derive(Debug, clap::Args)]
pub struct Target {
    /// The host, server or application read, as findings will name it.
    #[arg(long)]
    source: String,
    /// The resource on record that it is (its class must be os, database or application;
    /// for a directory, the resource its groups give access to).
    #[arg(long)]
    resource: String,
}

#[derive(Debug, clap::Args)]
pub struct LinuxArgs {
    #[command(flatten)]
    target: Target,
    /// A copy of the host's /etc holding passwd, group, sudoers (and what sudoers
    /// includes: `/etc/…` in an include is read from here).
    #[arg(long, default_value = "/etc")]
    etc: PathBuf,
    /// The host's name as sudoers rules name it; default: the source.
    #[arg(long)]
    host: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct PostgresArgs {
    #[command(flatten)]
    target: Target,
    /// postgres://user@host:port/db of a role that may read the catalog.
    #[arg(long)]
    url: String,
}

#[derive(Debug, clap::Args)]
pub struct AppArgs {
    #[command(flatten)]
    target: Target,
    /// The role export: CSV (account,role,level[,person]) or JSON.
    file: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct LdapArgs {
    #[command(flatten)]
    target: Target,
    /// ldap://host:port of the directory.
    #[arg(long)]
    url: String,
    /// Bind as this DN (simple bind; the password from BANTAY_LDAP_PASSWORD); anonymous
    /// without it.
    #[arg(long)]
    bind_dn: Option<String>,
    /// Where groups named by cn, and posixGroup members, are looked for.
    #[arg(long)]
    base: String,
    /// A group that gives access to the resource, by DN or cn; repeat for several.
    #[arg(long = "group", required = true)]
    groups: Vec<String>,
    /// The groups give full control (administrators); otherwise partial privileged access.
    #[arg(long)]
    full_control: bool,
}

/// Reads files from a host's /etc copy, keeping the SHA-256 of each for the record.
struct Hashed {
    files: FileIncludes,
    read: Vec<ImportInput>,
}

impl Includes for Hashed {
    fn file(&mut self, path: &str) -> Result<String, String> {
        let text = self.files.file(path)?;
        self.read.push(input(path, text.as_bytes()));
        Ok(text)
    }
    fn dir(&mut self, path: &str) -> Result<Vec<String>, String> {
        self.files.dir(path)
    }
}

fn input(name: &str, bytes: &[u8]) -> ImportInput {
    ImportInput { name: name.to_owned(), sha256: hex::encode(Sha256::digest(bytes)) }
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

pub fn linux(
    args: &LinuxArgs,
    place: &Place,
    options: &ServiceOptions,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let (passwd_path, group_path, sudoers_path) =
        (args.etc.join("passwd"), args.etc.join("group"), args.etc.join("sudoers"));
    let (passwd_text, group_text) = (read(&passwd_path)?, read(&group_path)?);
    let passwd = parse_passwd(&passwd_text, "/etc/passwd")?;
    let group = parse_group(&group_text, "/etc/group")?;
    let mut hashed = Hashed { files: FileIncludes::rooted(&args.etc), read: Vec::new() };
    let text = hashed
        .file("/etc/sudoers")
        .map_err(|e| anyhow::anyhow!("{e} ({})", sudoers_path.display()))?;
    let policy = sudoers::parse(&text, "/etc/sudoers", &mut hashed)?;
    let host = args.host.as_deref().unwrap_or(&args.target.source);
    let accounts: Vec<ImportedAccount> =
        privileged_accounts(host, &passwd, &group, &policy).into_iter().map(Into::into).collect();
    let mut inputs = vec![
        input("/etc/passwd", passwd_text.as_bytes()),
        input("/etc/group", group_text.as_bytes()),
    ];
    inputs.extend(hashed.read);
    record(SourceKind::Linux, &args.target, inputs, accounts, place, options, output)
}

pub fn postgres(
    args: &PostgresArgs,
    place: &Place,
    options: &ServiceOptions,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let server = PostgresTarget::new(&args.target.source, &args.url)?;
    let catalog = runtime()?.block_on(server.catalog())?;
    let accounts = privileged_roles(&catalog, &args.target.source);
    let bytes = serde_json::to_vec(&catalog)?;
    // The URL without its password, if it has one.
    let shown = match (args.url.find("://"), args.url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user = &args.url[scheme + 3..at];
            let user = user.split(':').next().unwrap_or(user);
            format!("{}{user}{}", &args.url[..scheme + 3], &args.url[at..])
        }
        _ => args.url.clone(),
    };
    let inputs = vec![input(&format!("{shown} (catalog)"), &bytes)];
    record(SourceKind::Postgres, &args.target, inputs, accounts, place, options, output)
}

pub fn app(
    args: &AppArgs,
    place: &Place,
    options: &ServiceOptions,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let text = read(&args.file)?;
    let accounts = read_app_export(&text, &args.file)?;
    let inputs = vec![input(&args.file.display().to_string(), text.as_bytes())];
    record(SourceKind::Application, &args.target, inputs, accounts, place, options, output)
}

pub fn ldap(
    args: &LdapArgs,
    place: &Place,
    options: &ServiceOptions,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let source = DirectorySource {
        url: args.url.clone(),
        bind_dn: args.bind_dn.clone(),
        password: std::env::var("BANTAY_LDAP_PASSWORD").ok(),
        base: args.base.clone(),
        groups: args.groups.clone(),
        full_control: args.full_control,
    };
    let read = runtime()?.block_on(read_directory(&source))?;
    // Every entry read, DN and attributes in order, is the input the record hashes.
    let bytes = serde_json::to_vec(&read.entries)?;
    let inputs = vec![input(&format!("{} ({} entries)", args.url, read.entries.len()), &bytes)];
    record(SourceKind::Directory, &args.target, inputs, read.accounts, place, options, output)
}

fn record(
    kind: SourceKind,
    target: &Target,
    inputs: Vec<ImportInput>,
    accounts: Vec<ImportedAccount>,
    place: &Place,
    options: &ServiceOptions,
    output: Output,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let service = open(place, options).await?;
        let import = AccountsImport {
            source: target.source.clone(),
            kind,
            resource: target.resource.clone(),
            inputs,
            accounts,
        };
        let done: AccountsImported =
            or_exit!(service.import_accounts(&options.actor(), import).await);
        if output == Output::Json {
            print_json(&done)?;
        } else {
            println!(
                "{}: {} privileged accounts ({} with full control) recorded as {}; sha256 {}",
                done.source, done.accounts, done.full_control, target.resource, done.sha256
            );
            for (account, person) in &done.linked {
                println!("  linked {account} to {person}");
            }
            println!(
                "{} findings opened, {} already on record, {} remediated (accounts gone)",
                done.opened.len(),
                done.known,
                done.remediated
            );
            for id in &done.opened {
                println!("  {id}");
            }
        }
        Ok(if done.opened.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
    })
}

/// The imported accounts, each with its person and how it holds its access.
pub fn list(place: &Place, options: &ServiceOptions, output: Output) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let service = open(place, options).await?;
        let rows = or_exit!(service.held_accounts().await);
        if output == Output::Json {
            print_json(&rows)?;
            return Ok(ExitCode::SUCCESS);
        }
        for r in &rows {
            let how: Vec<String> = serde_json::from_str(&r.how).unwrap_or_default();
            println!(
                "{}@{}  {}  {}  {}",
                r.account,
                r.source,
                r.resource,
                if r.full_control != 0 { "full control" } else { "partial" },
                r.person.as_deref().unwrap_or("linked to nobody"),
            );
            for h in how {
                println!("    {h}");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn link(
    source: &str,
    account: &str,
    person: &str,
    note: &str,
    place: &Place,
    options: &ServiceOptions,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let service = open(place, options).await?;
        let opened =
            or_exit!(service.link_account(&options.actor(), source, account, person, note).await);
        println!("linked {account}@{source} to {person}; {} findings opened", opened.len());
        for id in &opened {
            println!("  {id}");
        }
        Ok(if opened.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
    })
}
