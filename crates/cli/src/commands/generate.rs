//! `bantay demo generate`: a synthetic organisation as snapshot files.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bantay_core::Timestamp;
use bantay_synthetic::{write_snapshot, Shape};

use crate::output::Output;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write persons.csv, assignments.csv, resources.csv and grants.csv.
    #[arg(long)]
    out: PathBuf,
    /// How many people.
    #[arg(long, default_value_t = 1000)]
    persons: usize,
    /// Grants per person, on average.
    #[arg(long, default_value_t = 10)]
    grants_per_person: usize,
    /// The same seed gives the same files.
    #[arg(long, default_value_t = 4)]
    seed: u64,
    /// The day the data is as of: most grants are active then.
    #[arg(long, default_value = "2026-07-01")]
    as_of: String,
    /// A policy pack directory; the shipped CMO 04-2019 pack when omitted.
    #[arg(long)]
    pack: Option<PathBuf>,
}

pub fn run(args: &Args, output: Output) -> anyhow::Result<ExitCode> {
    let pack = crate::embedded::load(args.pack.as_deref())?;
    let as_of = Timestamp::parse(&args.as_of).context("--as-of")?;
    let shape = Shape {
        persons: args.persons,
        grants_per_person: args.grants_per_person,
        seed: args.seed,
        as_of,
    };
    let written = write_snapshot(&pack, &shape, &args.out)?;
    match output {
        Output::Text => println!(
            "wrote {} persons, {} assignments, {} resources and {} grants to {} (as of {as_of})",
            written.persons,
            written.assignments,
            written.resources,
            written.grants,
            args.out.display()
        ),
        Output::Json => println!("{}", serde_json::to_string(&written)?),
    }
    Ok(ExitCode::SUCCESS)
}
