//! Reading a policy pack directory.

use std::path::Path;

use bantay_core::{
    PackSources, PolicyPack, DUTIES_FILE, ORG_FILE, RESOURCES_FILE, RULES_FILE, SCHEMA_FILE,
};

use crate::ConnectError;

/// Reads the five files of a pack.
pub fn read_pack_sources(dir: &Path) -> Result<PackSources, ConnectError> {
    if !dir.is_dir() {
        return Err(ConnectError::Missing {
            path: dir.to_owned(),
            hint: "name a policy pack directory, e.g. policy/cmo-04-2019".into(),
        });
    }
    let read = |file: &str| {
        let path = dir.join(file);
        match std::fs::read(&path) {
            Ok(bytes) => String::from_utf8(bytes).map_err(|e| {
                let offset = e.utf8_error().valid_up_to();
                let line = e.as_bytes()[..offset].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
                ConnectError::record(&path, line, None, "is not UTF-8 text; save the file as UTF-8")
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ConnectError::Missing {
                path,
                hint: format!(
                    "a pack holds {ORG_FILE}, {RESOURCES_FILE}, {RULES_FILE}, {DUTIES_FILE} and {SCHEMA_FILE}; copy the missing one from policy/cmo-04-2019"
                ),
            }),
            Err(source) => Err(ConnectError::Io { path, source }),
        }
    };
    Ok(PackSources {
        dir: dir.display().to_string(),
        org: read(ORG_FILE)?,
        resources: read(RESOURCES_FILE)?,
        rules: read(RULES_FILE)?,
        duties: read(DUTIES_FILE)?,
        schema: read(SCHEMA_FILE)?,
    })
}

/// Reads and checks a pack.
pub fn read_pack(dir: &Path) -> Result<PolicyPack, ConnectError> {
    Ok(PolicyPack::load(&read_pack_sources(dir)?)?)
}
