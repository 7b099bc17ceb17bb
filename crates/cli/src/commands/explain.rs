//! `bantay policy explain`: one decision, with its reasons.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use bantay_connect::{load_snapshot, SnapshotFiles};
use bantay_core::{decide, parse_clause, AccessRequest, Outcome};

use crate::output::Output;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The snapshot directory (persons, assignments, resources, grants).
    #[arg(long, default_value = "demo")]
    snapshot: PathBuf,
    /// A policy pack directory; the shipped CMO 04-2019 pack when omitted.
    #[arg(long)]
    pack: Option<PathBuf>,
    /// The person's id.
    #[arg(long)]
    person: String,
    /// The resource's id.
    #[arg(long)]
    resource: String,
    /// The duty clause the request cites, e.g. 1.2.4.
    #[arg(long)]
    clause: String,
    /// When: 2026-03-01, 2026-03-01T08:00 (Manila) or RFC 3339. Now when omitted.
    #[arg(long)]
    at: Option<String>,
}

pub fn run(args: &Args, output: Output) -> anyhow::Result<ExitCode> {
    let pack = crate::embedded::load(args.pack.as_deref())?;
    let at = crate::clock::now_or(args.at.as_deref()).context("--at")?;
    let snapshot = load_snapshot(&SnapshotFiles::in_dir(&args.snapshot)?, &pack)?;
    let Some(person) = snapshot.person(&args.person) else {
        bail!("--person: `{}` is not in {}/persons", args.person, args.snapshot.display());
    };
    let Some(resource) = snapshot.resource(&args.resource) else {
        bail!("--resource: `{}` is not in {}/resources", args.resource, args.snapshot.display());
    };
    let clause = parse_clause(&pack, &args.clause)
        .map_err(|e| anyhow::anyhow!("--clause: {}", e.message))?;
    let decision = decide(&pack, &snapshot, &AccessRequest { person, resource, clause, at });
    match output {
        Output::Text => {
            let verb = match decision.outcome {
                Outcome::Allow => "ALLOW",
                Outcome::Deny => "DENY",
            };
            println!(
                "{verb}: {} holding {} citing {} at {at}",
                args.person, args.resource, args.clause
            );
            for reason in &decision.reasons {
                println!("  {}", reason.message);
            }
        }
        Output::Json => println!("{}", serde_json::to_string_pretty(&decision)?),
    }
    Ok(match decision.outcome {
        Outcome::Allow => ExitCode::SUCCESS,
        Outcome::Deny => ExitCode::from(1),
    })
}
