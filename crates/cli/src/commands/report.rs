//! `bantay report`: the compliance report to the Commissioner (section 5) for a period,
//! as JSON or as a self-contained HTML page that prints well.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::output::Output;
use crate::place::{runtime, Place};
use crate::served::{open, or_exit, print_json, ServiceOptions};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The period's first day (Manila).
    #[arg(long)]
    from: String,
    /// The day after the period.
    #[arg(long)]
    until: String,
    /// Write the HTML report here (print it, or save it as PDF from a browser).
    #[arg(long)]
    html: Option<PathBuf>,
}

pub fn run(
    args: &Args,
    place: &Place,
    options: &ServiceOptions,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let from = bantay_core::Timestamp::parse(&args.from)?;
    let until = bantay_core::Timestamp::parse(&args.until)?;
    if until <= from {
        anyhow::bail!("--until {until} is not after --from {from}");
    }
    runtime()?.block_on(async {
        let service = open(place, options).await?;
        let report = or_exit!(service.report(from, until).await);
        if let Some(path) = &args.html {
            std::fs::write(path, bantay_server::report_html(&report))
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        }
        match output {
            Output::Json => print_json(&report)?,
            Output::Text => {
                println!("{} ({} to {})", report.title, report.from, report.until);
                for s in &report.sections {
                    println!("{:<4} {:<18} {}", s.clause, s.status, s.title);
                    for f in &s.figures {
                        println!("       {:>6}  {}", f.value, f.label);
                    }
                }
                println!(
                    "ledger: {} events, root {}; report signed by {}",
                    report.ledger.size, report.ledger.root, report.public_key
                );
            }
        }
        let open = report.sections.iter().any(|s| !s.open_findings.is_empty());
        Ok(if open { ExitCode::from(1) } else { ExitCode::SUCCESS })
    })
}
