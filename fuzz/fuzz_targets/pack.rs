//! Any text as one file of the shipped pack (which file chosen by the first byte): the
//! loader returns a pack or problems, never panics.
#![no_main]

use bantay_core::{PackSources, PolicyPack};
use libfuzzer_sys::fuzz_target;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../policy/cmo-04-2019/");

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let read = |f: &str| std::fs::read_to_string(format!("{DIR}{f}")).unwrap();
    let mut s = PackSources {
        dir: "pack".into(),
        org: read("org.toml"),
        resources: read("resources.toml"),
        rules: read("rules.toml"),
        duties: read("duties.cedar"),
        schema: read("schema.cedarschema"),
    };
    let slot = match which % 5 {
        0 => &mut s.org,
        1 => &mut s.resources,
        2 => &mut s.rules,
        3 => &mut s.duties,
        _ => &mut s.schema,
    };
    *slot = text.to_owned();
    let _ = PolicyPack::load(&s);
});
