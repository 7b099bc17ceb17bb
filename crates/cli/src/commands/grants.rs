//! `bantay grants …`: a person's grants; the sweep that ends what ran out (for cron, or
//! run by `bantay serve`); enforcement on the configured targets.

use std::process::ExitCode;

use crate::output::Output;
use crate::place::{runtime, Place};
use crate::served::{open, or_exit, print_json, ServiceOptions};

#[derive(Debug, clap::Subcommand)]
pub enum GrantsCommand {
    /// A person's grants with the clause that justifies each, oldest first.
    List {
        #[arg(long)]
        person: String,
    },
    /// End what ran out: expired requests and grants, reviews past their deadline (what
    /// was not confirmed is revoked); warn holders of grants ending within a day; then
    /// enforce on every target. Run it from cron, or let `bantay serve` do it.
    Expire,
    /// Bring the targets' role memberships in line with the grants in force, and report
    /// memberships nobody granted as findings.
    Enforce {
        /// One target; all configured when omitted.
        #[arg(long)]
        target: Option<String>,
    },
}

pub fn run(
    command: &GrantsCommand,
    place: &Place,
    options: &ServiceOptions,
    output: Output,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let service = open(place, options).await?;
        match command {
            GrantsCommand::List { person } => {
                let grants = or_exit!(service.grants_of(person).await);
                if output == Output::Json {
                    print_json(&grants)?;
                } else {
                    for g in grants {
                        let until = g.valid_until.map(|u| bantay_core::Timestamp::from_unix_seconds(u).to_string());
                        println!(
                            "{}  {:<9} {} under {} from {} until {}",
                            g.id,
                            g.status,
                            g.resource,
                            g.clause,
                            bantay_core::Timestamp::from_unix_seconds(g.valid_from),
                            until.as_deref().unwrap_or("(open)")
                        );
                    }
                }
                Ok(ExitCode::SUCCESS)
            }
            GrantsCommand::Expire => {
                let swept = or_exit!(service.sweep().await);
                if output == Output::Json {
                    print_json(&swept)?;
                } else {
                    println!(
                        "expired: {} requests, {} grants; {} expiry notices; {} reviews closed, {} grants revoked by review; {} incidents escalated; {} datacenter findings",
                        swept.requests_expired.len(),
                        swept.grants_expired.len(),
                        swept.expiry_notices,
                        swept.reviews_closed.len(),
                        swept.grants_revoked_by_review.len(),
                        swept.incidents_escalated.len(),
                        swept.datacenter_findings.len()
                    );
                    print_reconciled(&swept.reconciled);
                }
                let errors = swept.reconciled.iter().any(|r| !r.errors.is_empty());
                Ok(if errors { ExitCode::from(1) } else { ExitCode::SUCCESS })
            }
            GrantsCommand::Enforce { target } => {
                let done = match target {
                    Some(t) => vec![or_exit!(service.reconcile(t).await)],
                    None => service.reconcile_all().await,
                };
                if output == Output::Json {
                    print_json(&done)?;
                } else {
                    print_reconciled(&done);
                }
                let trouble = done.iter().any(|r| !r.errors.is_empty() || !r.drift.is_empty());
                Ok(if trouble { ExitCode::from(1) } else { ExitCode::SUCCESS })
            }
        }
    })
}

fn print_reconciled(done: &[bantay_server::Reconciled]) {
    for r in done {
        println!(
            "target {}: {} granted, {} removed, {} drift findings",
            r.target,
            r.granted.len(),
            r.removed.len(),
            r.drift.len()
        );
        for line in r
            .granted
            .iter()
            .map(|g| format!("granted {g}"))
            .chain(r.removed.iter().map(|g| format!("removed {g}")))
        {
            println!("  {line}");
        }
        for d in &r.drift {
            println!("  finding {d}");
        }
        for e in &r.errors {
            println!("  error: {e}");
        }
    }
}
