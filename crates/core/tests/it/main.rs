//! The core's integration tests: one binary (STYLE.md, "Tests").

// Tests fail loudly: helpers outside #[test] functions may unwrap and panic too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod compiled;
mod corpus;
mod pack;

use std::path::{Path, PathBuf};

use bantay_core::{PackSources, PolicyPack};

/// The shipped pack's directory.
pub fn pack_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy/cmo-04-2019")
}

/// The shipped pack's sources, read from disk.
pub fn sources() -> PackSources {
    let dir = pack_dir();
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).expect(f);
    PackSources {
        dir: "policy/cmo-04-2019".into(),
        org: read("org.toml"),
        resources: read("resources.toml"),
        rules: read("rules.toml"),
        duties: read("duties.cedar"),
        schema: read("schema.cedarschema"),
    }
}

pub fn shipped_pack() -> PolicyPack {
    PolicyPack::load(&sources()).unwrap_or_else(|e| panic!("{e}"))
}
