//! `bantay review …`, `bantay tasks …`, `bantay tokens issue` and `bantay notifications
//! …`: the smaller lifecycle commands.

use std::process::ExitCode;

use bantay_server::{ReviewDecision, ReviewForm, ReviewView};

use crate::output::Output;
use crate::place::{runtime, Place};
use crate::served::{failed, open, or_exit, print_json, ServiceOptions};

#[derive(Debug, clap::Subcommand)]
pub enum ReviewCommand {
    /// Open a review of every standing grant; each goes to the head of its holder's
    /// unit. What is not confirmed by the deadline is revoked.
    Open {
        #[arg(long)]
        title: String,
        #[arg(long)]
        deadline: String,
    },
    /// Confirm or revoke one grant of an open review (you must be its reviewer).
    Decide {
        id: String,
        #[arg(long)]
        grant: String,
        /// confirmed or revoked.
        #[arg(long)]
        decision: String,
    },
    Show {
        id: String,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum TasksCommand {
    /// Revocation tasks, open ones first.
    List,
    /// Confirm a task with evidence of what was done; the grant is revoked.
    Done {
        id: String,
        #[arg(long)]
        evidence: String,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum TokensCommand {
    /// Issue an API token for a person; the secret is printed once.
    Issue {
        #[arg(long)]
        person: String,
        /// A token for an identity provider's SCIM client (held by `person`, who answers
        /// for what it provisions): it serves /scim/v2 only, never the API.
        #[arg(long)]
        scim: bool,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum NotificationsCommand {
    /// A person's notifications, newest first.
    List {
        #[arg(long)]
        person: String,
    },
    /// Mail every undelivered notification through `--smtp-relay`.
    Deliver,
}

pub fn review(
    command: &ReviewCommand,
    place: &Place,
    options: &ServiceOptions,
    output: Output,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let service = open(place, options).await?;
        let actor = options.actor();
        let view = match command {
            ReviewCommand::Open { title, deadline } => {
                service
                    .open_review(
                        &actor,
                        &ReviewForm { title: title.clone(), deadline: deadline.clone() },
                    )
                    .await
            }
            ReviewCommand::Decide { id, grant, decision } => {
                let d = ReviewDecision { grant: grant.clone(), decision: decision.clone() };
                service.decide_review(&actor, id, &d).await
            }
            ReviewCommand::Show { id } => service.review(id).await,
        };
        let view = or_exit!(view);
        match output {
            Output::Json => print_json(&view)?,
            Output::Text => print_review(&view),
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn print_review(v: &ReviewView) {
    println!("{} {} ({}), deadline {}", v.id, v.title, v.status, v.deadline);
    for i in &v.items {
        println!("  {:<24} {:<10} reviewer {}", i.grant, i.decision, i.reviewer);
    }
}

pub fn tasks(
    command: &TasksCommand,
    place: &Place,
    options: &ServiceOptions,
    output: Output,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let service = open(place, options).await?;
        match command {
            TasksCommand::List => {
                let tasks = service.store().tasks().await?;
                if output == Output::Json {
                    print_json(&tasks)?;
                } else {
                    for t in tasks {
                        let due = bantay_core::Timestamp::from_unix_seconds(t.due);
                        println!("{}  {:<5} due {due}  {}", t.id, t.status, t.reason);
                    }
                }
            }
            TasksCommand::Done { id, evidence } => {
                or_exit!(service.complete_task(&options.actor(), id, evidence).await);
                println!("{id} done; its grant is revoked");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn tokens(
    command: &TokensCommand,
    place: &Place,
    options: &ServiceOptions,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let service = open(place, options).await?;
        let TokensCommand::Issue { person, scim } = command;
        let issued = if *scim {
            service.issue_scim_token(&options.actor(), person).await
        } else {
            service.issue_token(&options.actor(), person).await
        };
        match issued {
            Ok(secret) => {
                println!("{secret}");
                eprintln!(
                    "the token for {person}; it is shown only now (the ledger keeps its SHA-256)"
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Ok(failed(&e)),
        }
    })
}

pub fn notifications(
    command: &NotificationsCommand,
    place: &Place,
    options: &ServiceOptions,
    output: Output,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let service = open(place, options).await?;
        match command {
            NotificationsCommand::List { person } => {
                let inbox = service.inbox(person).await?;
                if output == Output::Json {
                    print_json(&inbox)?;
                } else {
                    for n in inbox {
                        println!("{}  {:<6} {}", n.id, n.status, n.subject);
                    }
                }
                Ok(ExitCode::SUCCESS)
            }
            NotificationsCommand::Deliver => {
                let Some(mailer) = options.mailer()? else {
                    anyhow::bail!(
                        "no mail relay: give --smtp-relay HOST:PORT or set BANTAY_SMTP_RELAY"
                    );
                };
                let delivered = service.deliver(&mailer).await?;
                if output == Output::Json {
                    print_json(&delivered)?;
                } else {
                    println!("sent {}, failed {}", delivered.sent, delivered.failed.len());
                    for f in &delivered.failed {
                        println!("  {f}");
                    }
                }
                Ok(if delivered.failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
            }
        }
    })
}
