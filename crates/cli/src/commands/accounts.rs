//! `bantay accounts …`, `logs ingest` and `findings …`: the system-account registry
//! (4.5), authentication logs read against it, and the findings' lifecycle.

use std::path::PathBuf;
use std::process::ExitCode;

use bantay_connect::authlog::LogContext;
use bantay_core::SystemAccount;
use bantay_server::FindingStep;

use crate::output::Output;
use crate::place::{runtime, Place};
use crate::served::{open, or_exit, print_json, ServiceOptions};

#[derive(Debug, clap::Subcommand)]
pub enum AccountsCommand {
    /// Document a system account (4.5): what it is for, who answers for it, how and from
    /// where it is used. Documenting it again replaces the record.
    Document {
        /// The host it lives on, or `*` for every host.
        #[arg(long)]
        host: String,
        #[arg(long)]
        account: String,
        /// The system it serves (CPS, ERP, …).
        #[arg(long)]
        system: String,
        #[arg(long)]
        purpose: String,
        /// The unit that answers for it.
        #[arg(long)]
        custodian: String,
        /// How it is used: service, batch, replication, …
        #[arg(long)]
        usage: String,
        /// Where programs log in with it from: addresses, networks (10.20.1.0/24) or
        /// host names; repeat or separate with commas. None: only on the host.
        #[arg(long, value_delimiter = ',')]
        origin: Vec<String>,
    },
    /// Take an account out of the registry.
    Withdraw {
        #[arg(long)]
        host: String,
        #[arg(long)]
        account: String,
        #[arg(long)]
        reason: String,
    },
    /// The registry.
    List,
    /// The privileged accounts imports found, with their persons.
    Held,
    /// Say whose an imported account is: closes its "linked to nobody" finding and
    /// checks the person's access. Exit 1 if findings were opened.
    Link {
        #[arg(long)]
        source: String,
        #[arg(long)]
        account: String,
        #[arg(long)]
        person: String,
        /// How you know.
        #[arg(long)]
        note: String,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum LogsCommand {
    /// Read an authentication log (syslog, journal, audit, PostgreSQL, Windows JSON) and
    /// open a 4.5 finding for each forbidden use of a system account. Exit 1 if it
    /// opened findings.
    Ingest {
        file: PathBuf,
        /// The year of lines that carry none (RFC 3164); default: this year.
        #[arg(long)]
        year: Option<i64>,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum FindingsCommand {
    /// Findings with their evidence.
    List {
        /// Only findings in this status (open, acknowledged, remediated, reopened).
        #[arg(long)]
        status: Option<String>,
    },
    /// Someone owns it.
    Acknowledge {
        id: String,
        #[arg(long)]
        note: String,
    },
    /// It was fixed: say what was done.
    Remediate {
        id: String,
        #[arg(long)]
        note: String,
    },
    /// It came back.
    Reopen {
        id: String,
        #[arg(long)]
        note: String,
    },
}

pub fn accounts(
    command: &AccountsCommand,
    output: Output,
    place: &Place,
    options: &ServiceOptions,
) -> anyhow::Result<ExitCode> {
    match command {
        AccountsCommand::Held => return super::held::list(place, options, output),
        AccountsCommand::Link { source, account, person, note } => {
            return super::held::link(source, account, person, note, place, options);
        }
        _ => {}
    }
    runtime()?.block_on(async {
        let service = open(place, options).await?;
        match command {
            AccountsCommand::Held | AccountsCommand::Link { .. } => {}
            AccountsCommand::Document {
                host,
                account,
                system,
                purpose,
                custodian,
                usage,
                origin,
            } => {
                let record = SystemAccount {
                    host: host.clone(),
                    account: account.clone(),
                    system: system.clone(),
                    purpose: purpose.clone(),
                    custodian: custodian.clone(),
                    usage: usage.clone(),
                    origins: origin.clone(),
                };
                let record = or_exit!(service.document_account(&options.actor(), &record).await);
                println!(
                    "documented {}@{} ({}, {})",
                    record.account, record.host, record.system, record.custodian
                );
            }
            AccountsCommand::Withdraw { host, account, reason } => {
                or_exit!(service.withdraw_account(&options.actor(), host, account, reason).await);
                println!("withdrew {account}@{host}");
            }
            AccountsCommand::List => {
                let accounts = or_exit!(service.system_accounts().await);
                if output == Output::Json {
                    print_json(&accounts)?;
                } else {
                    for a in &accounts {
                        let origins = if a.origins.is_empty() {
                            "the host only".to_owned()
                        } else {
                            a.origins.join(", ")
                        };
                        println!(
                            "{}@{}  {}  custodian {}  {}: {}  from {origins}",
                            a.account, a.host, a.system, a.custodian, a.usage, a.purpose
                        );
                    }
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn logs(
    command: &LogsCommand,
    output: Output,
    place: &Place,
    options: &ServiceOptions,
) -> anyhow::Result<ExitCode> {
    let LogsCommand::Ingest { file, year } = command;
    let source = match std::fs::File::open(file) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return Ok(ExitCode::from(2));
        }
    };
    runtime()?.block_on(async {
        let service = open(place, options).await?;
        let mut context = service.log_context();
        if let Some(year) = year {
            context = LogContext::in_year(*year, context.offset_seconds);
        }
        let name = file.display().to_string();
        let ingested = or_exit!(service.ingest_log(&options.actor(), &name, source, &context).await);
        if output == Output::Json {
            print_json(&ingested)?;
        } else {
            let t = &ingested.tally;
            println!(
                "{name}: {} lines, {} authentications ({} failed), {} of no known format; sha256 {}",
                t.lines, t.events, t.failures, t.unknown, ingested.sha256
            );
            println!("{} findings opened, {} already on record", ingested.opened.len(), ingested.known);
            for id in &ingested.opened {
                println!("  {id}");
            }
        }
        Ok(if ingested.opened.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
    })
}

pub fn findings(
    command: &FindingsCommand,
    output: Output,
    place: &Place,
    options: &ServiceOptions,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let service = open(place, options).await?;
        let (id, step, note) = match command {
            FindingsCommand::List { status } => {
                let findings = or_exit!(service.findings(&options.actor(), "cli").await);
                let shown: Vec<_> = findings
                    .iter()
                    .filter(|f| status.as_ref().is_none_or(|s| &f.status == s))
                    .collect();
                if output == Output::Json {
                    print_json(&shown)?;
                } else {
                    for f in shown {
                        println!(
                            "{}  {}  {}  {}\n  {}\n  evidence: {}",
                            f.id, f.clause, f.status, f.subject, f.summary, f.evidence
                        );
                    }
                }
                return Ok(ExitCode::SUCCESS);
            }
            FindingsCommand::Acknowledge { id, note } => (id, FindingStep::Acknowledged, note),
            FindingsCommand::Remediate { id, note } => (id, FindingStep::Remediated, note),
            FindingsCommand::Reopen { id, note } => (id, FindingStep::Reopened, note),
        };
        let finding = or_exit!(service.finding_step(&options.actor(), id, step, note).await);
        println!("{} is {}", finding.id, finding.status);
        Ok(ExitCode::SUCCESS)
    })
}
