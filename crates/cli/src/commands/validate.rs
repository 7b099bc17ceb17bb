//! `bantay policy validate [DIR]`

use std::path::Path;
use std::process::ExitCode;

use bantay_core::{PackErrors, PolicyPack};

use crate::output::Output;

pub fn run(dir: Option<&Path>, output: Output) -> anyhow::Result<ExitCode> {
    let loaded = match dir {
        Some(dir) => match bantay_connect::read_pack(dir) {
            Ok(pack) => Ok(pack),
            Err(bantay_connect::ConnectError::Pack(errors)) => Err(errors),
            Err(other) => return Err(other.into()),
        },
        None => PolicyPack::load(&crate::embedded::sources()),
    };
    let name = dir.map_or_else(
        || "the shipped pack (policy/cmo-04-2019)".to_owned(),
        |d| d.display().to_string(),
    );
    match loaded {
        Ok(pack) => {
            summary(&name, &pack, output)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            problems(&errors, output)?;
            Ok(ExitCode::from(1))
        }
    }
}

fn summary(name: &str, pack: &PolicyPack, output: Output) -> anyhow::Result<()> {
    let duties = pack.org.duties().count();
    let justifying = pack.duties.permitting_clauses().iter().count();
    match output {
        Output::Text => println!(
            "{name}: ok\n  {} units, {duties} duties ({justifying} justify privileged access), {} privilege classes, {} systems, {} separation-of-duties rule(s)",
            pack.org.units().len(),
            pack.catalog.classes.len(),
            pack.catalog.systems.len(),
            pack.rules.separation_of_duties.len()
        ),
        Output::Json => println!(
            "{}",
            serde_json::json!({
                "pack": name, "ok": true,
                "units": pack.org.units().len(), "duties": duties, "justifying_duties": justifying,
                "classes": pack.catalog.classes.len(), "systems": pack.catalog.systems.len(),
                "separation_of_duties": pack.rules.separation_of_duties.len(),
            })
        ),
    }
    Ok(())
}

fn problems(errors: &PackErrors, output: Output) -> anyhow::Result<()> {
    match output {
        Output::Text => eprint!("{errors}"),
        Output::Json => {
            let list: Vec<_> = errors
                .0
                .iter()
                .map(|p| serde_json::json!({"file": p.file, "line": p.line, "message": p.message, "hint": p.hint}))
                .collect();
            println!("{}", serde_json::json!({"ok": false, "problems": list}));
        }
    }
    Ok(())
}
