//! `bantay`: the one binary. Each command lives in its own module under `commands/`;
//! `main` parses the command line and dispatches, nothing more.
//!
//! Exit codes: 0 success (and, for `scan` and `policy explain`, nothing found or
//! allowed); 1 findings exist or the request is denied; 2 bad input or usage.

mod clock;
mod commands;
mod embedded;
mod output;
mod place;
mod served;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::output::Output;

/// Bantay: privileged-access governance for CMO 04-2019.
#[derive(Debug, Parser)]
#[command(name = "bantay", version, about, propagate_version = true)]
struct Cli {
    /// How to print results.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    output: Output,

    #[command(flatten)]
    place: place::Place,

    #[command(flatten)]
    service: served::ServiceOptions,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check, explain and inspect a policy pack.
    #[command(subcommand)]
    Policy(PolicyCommand),

    /// Find every privilege no duty justifies (4.1) and every breach of separation of
    /// duties (4.2) in a snapshot directory.
    Scan(commands::scan::Args),

    /// Create the database, the ledger's signing key and the ledger's first events.
    Init(commands::init::Args),

    /// Verify, inspect, prove and export the tamper-evident ledger.
    #[command(subcommand)]
    Ledger(commands::ledger::LedgerCommand),

    /// Demo data.
    #[command(subcommand)]
    Demo(DemoCommand),

    /// Record an organisation's records in the ledger.
    #[command(subcommand)]
    Import(ImportCommand),

    /// Ask for privileged access, approve, withdraw and look at requests (4.1, 4.2).
    #[command(subcommand)]
    Request(commands::request::RequestCommand),

    /// Grants: list a person's, end what ran out, enforce on real targets.
    #[command(subcommand)]
    Grants(commands::grants::GrantsCommand),

    /// Record people and personnel orders; a move re-examines the person's grants
    /// (section 3).
    #[command(subcommand)]
    Personnel(commands::personnel::PersonnelCommand),

    /// Record resources privileged access is held on.
    #[command(subcommand)]
    Resources(ResourcesCommand),

    /// Access reviews of standing grants.
    #[command(subcommand)]
    Review(commands::review::ReviewCommand),

    /// Revocation tasks a person confirms with evidence.
    #[command(subcommand)]
    Tasks(commands::review::TasksCommand),

    /// API tokens for scripts and connectors.
    #[command(subcommand)]
    Tokens(commands::review::TokensCommand),

    /// Signing in to the web pages: passwords, second factors, auditors and administrators.
    #[command(subcommand)]
    Users(commands::users::UsersCommand),

    /// The notifications people get, and mailing them.
    #[command(subcommand)]
    Notifications(commands::review::NotificationsCommand),

    /// The helpdesk's incident register with its SLA clocks (1.1, 1.3.1).
    #[command(subcommand)]
    Incident(commands::datacenter::IncidentCommand),

    /// Record a datacenter camera's status (CCTV, 4.3).
    Camera(commands::datacenter::CameraArgs),

    /// The guard roster (4.4).
    #[command(subcommand)]
    Roster(RosterCommand),

    /// Emergency datacenter passes (4.3): request, approve, print, verify offline.
    #[command(subcommand)]
    Pass(commands::datacenter::PassCommand),

    /// The guard station (4.4): vet a pass, log entry, exit and refusals.
    #[command(subcommand)]
    Guard(commands::datacenter::GuardCommand),

    /// The compliance report to the Commissioner (section 5): clause by clause, signed,
    /// ending with the ledger's signed head. Exit 1 if findings are open.
    Report(commands::report::Args),

    /// Certify that an extract file holds what a source database answers to a read-only
    /// query (1.3.7); writes a signed certificate and records it in the ledger.
    Certify(commands::certify::CertifyArgs),

    /// Check a certificate and its extract file offline. Exit 0 certified, 1 not.
    Verify(commands::certify::VerifyArgs),

    /// The registry of documented system accounts (4.5).
    #[command(subcommand)]
    Accounts(commands::accounts::AccountsCommand),

    /// Read authentication logs against the system-account registry (4.5).
    #[command(subcommand)]
    Logs(commands::accounts::LogsCommand),

    /// Findings with their evidence; acknowledge, remediate, reopen.
    #[command(subcommand)]
    Findings(commands::accounts::FindingsCommand),

    /// Serve the JSON API and run the scheduler (expiry, reviews, enforcement, mail).
    Serve(commands::serve::Args),
}

#[derive(Debug, Subcommand)]
enum RosterCommand {
    /// Put a guard on a datacenter's post for a period.
    Add(commands::datacenter::RosterArgs),
}

#[derive(Debug, Subcommand)]
enum ResourcesCommand {
    /// Record a resource (or update it), checked against the pack's catalog.
    Add(commands::personnel::ResourceArgs),
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Check a pack: TOML, Cedar, schema, clauses and references. Prints each problem
    /// with its file and line.
    Validate {
        /// The pack directory; the shipped CMO 04-2019 pack when omitted.
        dir: Option<PathBuf>,
    },
    /// Run the pack's decision cases (DIR/tests/*.toml): each names a request and the
    /// decision, with its clauses, that the pack must reach.
    Test {
        /// The pack directory; the shipped pack and policy/cmo-04-2019/tests when omitted.
        dir: Option<PathBuf>,
    },
    /// Decide one request and say why, clause by clause.
    Explain(commands::explain::Args),
    /// Print the pack's decisions as a table: which unit may hold which class on which
    /// kind of resource, under which clause (CSV).
    Table {
        /// A policy pack directory; the shipped CMO 04-2019 pack when omitted.
        #[arg(long)]
        pack: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum DemoCommand {
    /// Write a realistic synthetic organisation as snapshot files.
    Generate(commands::generate::Args),
    /// Record the demo organisation in the ledger (after `bantay init`), with a head for
    /// each unit and mail addresses, ready for requests and approvals.
    Seed(commands::import::SeedArgs),
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Record a snapshot directory (persons, assignments, resources, grants as CSV or
    /// JSON lines) in the ledger, all or nothing.
    Snapshot { dir: PathBuf },
    /// A Linux host's privileged accounts from its passwd, group and sudoers (with its
    /// includes): uid 0 and sudo. Exit 1 if findings were opened.
    Linux(commands::held::LinuxArgs),
    /// A PostgreSQL server's privileged roles from its live catalog (SUPERUSER,
    /// CREATEROLE, REPLICATION, BYPASSRLS, memberships, database owners).
    Postgres(commands::held::PostgresArgs),
    /// An application's role export (CSV account,role,level[,person] or JSON).
    App(commands::held::AppArgs),
    /// The members of a directory's privileged groups (LDAP, Active Directory), nested
    /// groups followed; linked to persons by the directory's `mail`.
    Ldap(commands::held::LdapArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Policy(PolicyCommand::Validate { dir }) => {
            commands::validate::run(dir.as_deref(), cli.output)
        }
        Command::Policy(PolicyCommand::Test { dir }) => {
            commands::test::run(dir.as_deref(), cli.output)
        }
        Command::Policy(PolicyCommand::Table { pack }) => {
            commands::table::run(pack.as_deref(), cli.output)
        }
        Command::Policy(PolicyCommand::Explain(args)) => commands::explain::run(&args, cli.output),
        Command::Scan(args) => commands::scan::run(&args, cli.output),
        Command::Init(args) => commands::init::run(&args, &cli.place, cli.output),
        Command::Ledger(command) => commands::ledger::run(&command, &cli.place, cli.output),
        Command::Demo(DemoCommand::Generate(args)) => commands::generate::run(&args, cli.output),
        Command::Demo(DemoCommand::Seed(args)) => {
            commands::import::seed(&args, &cli.place, &cli.service, cli.output)
        }
        Command::Import(ImportCommand::Snapshot { dir }) => {
            commands::import::snapshot(&dir, &cli.place, &cli.service, cli.output)
        }
        Command::Import(ImportCommand::Linux(args)) => {
            commands::held::linux(&args, &cli.place, &cli.service, cli.output)
        }
        Command::Import(ImportCommand::Postgres(args)) => {
            commands::held::postgres(&args, &cli.place, &cli.service, cli.output)
        }
        Command::Import(ImportCommand::App(args)) => {
            commands::held::app(&args, &cli.place, &cli.service, cli.output)
        }
        Command::Import(ImportCommand::Ldap(args)) => {
            commands::held::ldap(&args, &cli.place, &cli.service, cli.output)
        }
        Command::Request(c) => commands::request::run(&c, &cli.place, &cli.service, cli.output),
        Command::Grants(c) => commands::grants::run(&c, &cli.place, &cli.service, cli.output),
        Command::Personnel(c) => commands::personnel::run(&c, &cli.place, &cli.service, cli.output),
        Command::Resources(ResourcesCommand::Add(args)) => {
            commands::personnel::add_resource(&args, &cli.place, &cli.service)
        }
        Command::Review(c) => commands::review::review(&c, &cli.place, &cli.service, cli.output),
        Command::Tasks(c) => commands::review::tasks(&c, &cli.place, &cli.service, cli.output),
        Command::Tokens(c) => commands::review::tokens(&c, &cli.place, &cli.service),
        Command::Users(c) => commands::users::users(&c, &cli.place, &cli.service),
        Command::Notifications(c) => {
            commands::review::notifications(&c, &cli.place, &cli.service, cli.output)
        }
        Command::Incident(c) => {
            commands::datacenter::incident(&c, &cli.place, &cli.service, cli.output)
        }
        Command::Accounts(c) => {
            commands::accounts::accounts(&c, cli.output, &cli.place, &cli.service)
        }
        Command::Logs(c) => commands::accounts::logs(&c, cli.output, &cli.place, &cli.service),
        Command::Findings(c) => {
            commands::accounts::findings(&c, cli.output, &cli.place, &cli.service)
        }
        Command::Camera(args) => commands::datacenter::camera(&args, &cli.place, &cli.service),
        Command::Roster(RosterCommand::Add(args)) => {
            commands::datacenter::roster(&args, &cli.place, &cli.service)
        }
        Command::Pass(c) => commands::datacenter::pass(&c, &cli.place, &cli.service, cli.output),
        Command::Guard(c) => commands::datacenter::guard(&c, &cli.place, &cli.service, cli.output),
        Command::Report(args) => commands::report::run(&args, &cli.place, &cli.service, cli.output),
        Command::Certify(args) => {
            commands::certify::certify(&args, &cli.place, &cli.service, cli.output)
        }
        Command::Verify(args) => commands::certify::verify(&args, cli.output),
        Command::Serve(args) => commands::serve::run(&args, &cli.place, &cli.service),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
