//! `bantay scan DIR`: every 4.1 and 4.2 finding in a snapshot.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bantay_connect::{scan_snapshot, ScanOutcome, SnapshotFiles};

use crate::output::Output;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The snapshot directory: persons, assignments, resources and grants, each as .csv
    /// or .jsonl.
    dir: PathBuf,
    /// A policy pack directory; the shipped CMO 04-2019 pack when omitted.
    #[arg(long)]
    pack: Option<PathBuf>,
    /// Scan as of this time (grants and assignments active then). Now when omitted.
    #[arg(long)]
    at: Option<String>,
    /// Threads checking grants; all cores when omitted.
    #[arg(long)]
    threads: Option<usize>,
    /// Print only the counts, not each finding.
    #[arg(long)]
    summary: bool,
}

pub fn run(args: &Args, output: Output) -> anyhow::Result<ExitCode> {
    let pack = crate::embedded::load(args.pack.as_deref())?;
    let at = crate::clock::now_or(args.at.as_deref()).context("--at")?;
    let threads =
        args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let files = SnapshotFiles::in_dir(&args.dir)?;
    let outcome = scan_snapshot(&files, &pack, at, threads)?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    let counts = counts(&outcome);
    match output {
        Output::Text => text(&mut out, &outcome, &counts, args.summary)?,
        Output::Json => json(&mut out, &outcome, &counts, args.summary)?,
    }
    out.flush()?;
    Ok(if counts.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn counts(outcome: &ScanOutcome<'_>) -> Vec<(String, usize)> {
    outcome.report.counts().into_iter().map(|(c, n)| (c.to_string(), n)).collect()
}

fn text(
    out: &mut impl Write,
    outcome: &ScanOutcome<'_>,
    counts: &[(String, usize)],
    summary: bool,
) -> anyhow::Result<()> {
    if !summary {
        for f in outcome.report.findings() {
            let evidence: Vec<String> =
                f.evidence.iter().map(|o| format!("{}:{}", o.file, o.line)).collect();
            writeln!(
                out,
                "{:<4} {:<12} {}\n     evidence: {}",
                f.clause,
                f.person,
                f.message,
                evidence.join(", ")
            )?;
        }
    }
    writeln!(
        out,
        "scanned at {}: {} persons, {} resources, {} grants ({} active); Cedar asked {} times",
        outcome.at,
        outcome.persons,
        outcome.resources,
        outcome.grants_read,
        outcome.grants_active,
        outcome.decisions_evaluated
    )?;
    if counts.is_empty() {
        writeln!(out, "no findings")?;
    }
    for (clause, n) in counts {
        writeln!(out, "{clause}: {n} finding{}", if *n == 1 { "" } else { "s" })?;
    }
    Ok(())
}

fn json(
    out: &mut impl Write,
    outcome: &ScanOutcome<'_>,
    counts: &[(String, usize)],
    summary: bool,
) -> anyhow::Result<()> {
    let by_clause: serde_json::Map<String, serde_json::Value> =
        counts.iter().map(|(c, n)| (c.clone(), (*n).into())).collect();
    let head = serde_json::json!({
        "at": outcome.at,
        "persons": outcome.persons,
        "resources": outcome.resources,
        "grants": outcome.grants_read,
        "grants_active": outcome.grants_active,
        "findings_by_clause": by_clause,
    });
    // Written by hand around the findings so that millions of them stream out.
    write!(out, "{{\"summary\":{head}")?;
    if !summary {
        write!(out, ",\"findings\":[")?;
        for (i, f) in outcome.report.findings().enumerate() {
            if i > 0 {
                out.write_all(b",\n")?;
            }
            serde_json::to_writer(&mut *out, &f)?;
        }
        write!(out, "]")?;
    }
    writeln!(out, "}}")?;
    Ok(())
}
