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
    /// Write the HTML report here (self-contained; it prints well).
    #[arg(long)]
    html: Option<PathBuf>,
    /// Write the report as PDF here, printed by headless Chromium (`chromium` on the
    /// PATH, or BANTAY_CHROMIUM).
    #[arg(long)]
    pdf: Option<PathBuf>,
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
        let html = bantay_server::report_html(&report);
        if let Some(path) = &args.html {
            std::fs::write(path, &html)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        }
        if let Some(path) = &args.pdf {
            print_pdf(&html, path)?;
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

/// Prints `html` to a PDF at `out` with headless Chromium.
fn print_pdf(html: &str, out: &std::path::Path) -> anyhow::Result<()> {
    let chromium = std::env::var_os("BANTAY_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| {
            ["chromium", "chromium-browser", "google-chrome"].iter().find_map(|name| {
                std::env::var_os("PATH").and_then(|paths| {
                    std::env::split_paths(&paths).map(|p| p.join(name)).find(|p| p.is_file())
                })
            })
        })
        .ok_or_else(|| {
            anyhow::anyhow!("a PDF needs Chromium: install it (Debian: apt-get install chromium) or set BANTAY_CHROMIUM, or write --html and print it from a browser")
        })?;
    let dir = tempfile::tempdir()?;
    let page = dir.path().join("report.html");
    std::fs::write(&page, html)?;
    let out = std::path::absolute(out)?;
    let status = std::process::Command::new(&chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer"])
        .arg(format!("--print-to-pdf={}", out.display()))
        .arg(format!("file://{}", page.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| anyhow::anyhow!("cannot run {}: {e}", chromium.display()))?;
    if !status.success() || !out.is_file() {
        anyhow::bail!(
            "{} did not print the report to {} ({status})",
            chromium.display(),
            out.display()
        );
    }
    Ok(())
}
