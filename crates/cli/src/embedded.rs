//! The shipped CMO 04-2019 policy pack, compiled into the binary so that `bantay` works
//! from any directory. `--pack DIR` reads another.

use std::path::Path;

use anyhow::Context;
use bantay_core::{PackSources, PolicyPack};

const DIR: &str = "policy/cmo-04-2019";

pub fn sources() -> PackSources {
    PackSources {
        dir: DIR.to_owned(),
        org: include_str!("../../../policy/cmo-04-2019/org.toml").to_owned(),
        resources: include_str!("../../../policy/cmo-04-2019/resources.toml").to_owned(),
        rules: include_str!("../../../policy/cmo-04-2019/rules.toml").to_owned(),
        duties: include_str!("../../../policy/cmo-04-2019/duties.cedar").to_owned(),
        schema: include_str!("../../../policy/cmo-04-2019/schema.cedarschema").to_owned(),
    }
}

/// The pack in `dir`, or the shipped one.
pub fn load(dir: Option<&Path>) -> anyhow::Result<PolicyPack> {
    match dir {
        Some(dir) => Ok(bantay_connect::read_pack(dir)?),
        None => PolicyPack::load(&sources()).context("the shipped policy pack does not load"),
    }
}
