//! The `bantay` binary, driven as a person or a script would: exit codes, output and error
//! text. On failure each test prints the command, its output and its stderr.

// Tests fail loudly: helpers outside #[test] functions may unwrap and panic too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod commands;
mod ledger;
mod lifecycle;

use std::path::Path;
use std::process::Command;

/// What a run of `bantay` printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub command: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "$ {}\nexit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.command, self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `bantay ARGS` in `dir`.
pub fn bantay(dir: &Path, args: &[&str]) -> Run {
    bantay_with(dir, args, &[])
}

/// Runs `bantay ARGS` in `dir` with extra environment variables.
pub fn bantay_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_bantay"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        command: format!("bantay {}", args.join(" ")),
    }
}

/// The repository root, where `policy/` and `demo/` are.
pub fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Runs `bantay init` in `dir` and returns the public key it printed.
pub fn init_ledger(dir: &Path) -> String {
    let init = bantay(dir, &["init"]);
    assert_eq!(init.code, 0, "{init:?}");
    init.stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("public key:"))
        .unwrap_or_else(|| panic!("no public key printed: {init:?}"))
        .trim()
        .to_owned()
}
