//! `bantay policy table`: the pack's decisions as rows.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use crate::output::Output;

pub fn run(pack: Option<&Path>, output: Output) -> anyhow::Result<ExitCode> {
    let pack = crate::embedded::load(pack)?;
    let rows = bantay_core::coverage(&pack);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match output {
        Output::Json => serde_json::to_writer_pretty(&mut out, &rows)?,
        Output::Text => {
            writeln!(out, "unit,person_has_port,kind,class,system,resource_has_port,ports,clause")?;
            for r in &rows {
                writeln!(
                    out,
                    "{},{},{},{},{},{},{},{}",
                    r.unit,
                    r.person_has_port,
                    r.kind,
                    r.class,
                    r.system,
                    r.resource_has_port,
                    r.ports,
                    r.clause
                )?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
