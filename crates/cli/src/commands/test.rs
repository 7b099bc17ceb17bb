//! `bantay policy test [DIR]`: run a pack's decision corpus (`DIR/tests/*.toml`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use bantay_core::{parse_corpus, run_case};

use crate::output::Output;

pub fn run(dir: Option<&Path>, output: Output) -> anyhow::Result<ExitCode> {
    let pack = crate::embedded::load(dir)?;
    let tests = dir.map_or_else(|| PathBuf::from("policy/cmo-04-2019/tests"), |d| d.join("tests"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&tests)
        .with_context(|| {
            format!(
                "cannot read {}: a pack keeps its decision cases in tests/*.toml",
                tests.display()
            )
        })?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let (mut passed, mut failed) = (0usize, Vec::new());
    for file in &files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let cases = parse_corpus(&file.display().to_string(), &text).map_err(anyhow::Error::msg)?;
        for case in &cases {
            match run_case(&pack, case).failure {
                None => passed += 1,
                Some(why) => failed.push((file.display().to_string(), case.name.clone(), why)),
            }
        }
    }
    match output {
        Output::Text => {
            for (file, name, why) in &failed {
                println!("FAIL {file}: {name}\n  {why}");
            }
            println!("{passed} passed, {} failed", failed.len());
        }
        Output::Json => {
            let failures: Vec<_> = failed
                .iter()
                .map(
                    |(file, name, why)| serde_json::json!({"file": file, "case": name, "why": why}),
                )
                .collect();
            println!("{}", serde_json::json!({"passed": passed, "failed": failures}));
        }
    }
    Ok(if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
