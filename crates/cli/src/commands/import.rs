//! `bantay import snapshot DIR` and `bantay demo seed`: record an organisation's
//! personnel, personnel orders, resources and grants in the ledger, all or nothing.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bantay_connect::{load_snapshot, SnapshotFiles};
use bantay_server::SnapshotImport;

use crate::output::Output;
use crate::place::{runtime, Place};
use crate::served::{open, or_exit, print_json, ServiceOptions};

#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    /// The snapshot directory; the repository's demo organisation when omitted.
    #[arg(long, default_value = "demo")]
    dir: PathBuf,
}

pub fn snapshot(
    dir: &Path,
    place: &Place,
    options: &ServiceOptions,
    output: Output,
) -> anyhow::Result<ExitCode> {
    record(dir, SnapshotImport::default(), place, options, output)
}

/// The demo organisation with a head for each unit and mail addresses, ready for the
/// request journey.
pub fn seed(
    args: &SeedArgs,
    place: &Place,
    options: &ServiceOptions,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let how =
        SnapshotImport { designate_heads: true, mail_domain: Some("demo.customs.example".into()) };
    record(&args.dir, how, place, options, output)
}

/// `bantay demo seed` with the repository's demo organisation.
pub fn seed_demo(place: &Place, options: &ServiceOptions) -> anyhow::Result<ExitCode> {
    seed(&SeedArgs { dir: PathBuf::from("demo") }, place, options, Output::Text)
}

fn record(
    dir: &Path,
    how: SnapshotImport,
    place: &Place,
    options: &ServiceOptions,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let pack = crate::embedded::load(None)?;
    let snapshot = load_snapshot(&SnapshotFiles::in_dir(dir)?, &pack)?;
    runtime()?.block_on(async {
        let service = open(place, options).await?;
        let done = or_exit!(service.import_snapshot(&options.actor(), &snapshot, &how).await);
        // Grants the records show as ended are marked so at once.
        let swept = or_exit!(service.sweep().await);
        if output == Output::Json {
            print_json(&done)?;
        } else {
            println!(
                "recorded {} persons, {} personnel orders, {} resources and {} grants from {} in one event batch",
                done.persons,
                done.assignments,
                done.resources,
                done.grants,
                dir.display()
            );
            println!("{} of those grants had ended already and are marked expired", swept.grants_expired.len());
            for (unit, person) in &done.heads {
                println!("  head of {unit:<6} {person}");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
