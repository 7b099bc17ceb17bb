//! The readers' integration tests: one binary (STYLE.md, "Tests").

// Tests fail loudly: helpers outside #[test] functions may unwrap and panic too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod authlog;
mod bad_input;
mod linux;
mod scan;
mod scim;

use std::path::{Path, PathBuf};

use bantay_core::PolicyPack;

/// The third-party fixtures beside the project (../shared/fixtures).
pub fn fixtures() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
    assert!(
        dir.is_dir(),
        "{} is missing: the third-party fixtures live beside the project (../shared/fixtures)",
        dir.display()
    );
    dir
}

pub fn pack() -> PolicyPack {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy/cmo-04-2019");
    bantay_connect::read_pack(&dir).unwrap_or_else(|e| panic!("{e}"))
}

/// A snapshot directory holding the given files.
pub fn snapshot(files: &[(&str, &[u8])]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    let path = dir.path().to_owned();
    (dir, path)
}

/// A small organisation with one finding of each kind, and the lines they are on.
pub const PERSONS: &str = "id,name,port\n\
P1,\"Cruz, Juan\",\n\
P2,Maria Santos,Cebu\n\
P3,Ramon Reyes,\n\
P4,Ana Bautista,\n";

pub const ASSIGNMENTS: &str = "person,unit,valid_from,valid_until,order\n\
P1,TSD,2020-01-01,,CPO-2020-0001\n\
P2,PDMU,2020-01-01,,CPO-2020-0002\n\
P3,SMD,2020-01-01,,CPO-2020-0003\n\
P3,SDD,2024-01-01,,CPO-2024-0100\n\
P3,TSD,2024-01-01,,CPO-2024-0100\n\
P4,SMD,2019-01-01,2026-01-15,CPO-2019-0009\n\
P4,SDD,2026-01-15,,CPO-2026-0015\n";

pub const RESOURCES: &str = "id,kind,class,system,port\n\
cps-os-1,host,os,CPS,Manila\n\
cps-db-1,database,database,CPS,Manila\n\
cps-app-1,application,application,CPS,Manila\n\
ep-cebu-1,device,endpoint,,Cebu\n\
ep-davao-1,device,endpoint,,Davao\n\
dc-main,datacenter,entry,,Manila\n";

/// Line 2: justified (TSD, CPS application, 1.3.1).
/// Line 3: 4.1, TSD root on a CPS host.
/// Line 4: justified (PDMU at its own port).
/// Line 5: 4.1, PDMU at another port.
/// Lines 6-8: P3 holds all three elements of CPS: 4.2 (each justified by one of their units).
/// Line 9: expired: not counted.
/// Line 10: 4.3, standing datacenter entry.
/// Line 11: 4.1, P4 kept SMD's os after moving to SDD.
pub const GRANTS: &str = "person,resource,clause,valid_from,valid_until\n\
P1,cps-app-1,1.3.1,2026-01-01,\n\
P1,cps-os-1,1.3.1,2026-01-01,2026-12-31\n\
P2,ep-cebu-1,1.4,2026-01-01,\n\
P2,ep-davao-1,1.4,2026-01-01,\n\
P3,cps-os-1,1.2.4,2025-01-01,\n\
P3,cps-db-1,2.2.1,2025-01-01,\n\
P3,cps-app-1,1.3.1,2025-01-01,\n\
P1,cps-os-1,1.2.4,2025-01-01,2026-01-01\n\
P3,dc-main,1.2.2,2025-01-01,\n\
P4,cps-os-1,1.2.4,2025-01-01,\n";

pub fn small() -> (tempfile::TempDir, PathBuf) {
    snapshot(&[
        ("persons.csv", PERSONS.as_bytes()),
        ("assignments.csv", ASSIGNMENTS.as_bytes()),
        ("resources.csv", RESOURCES.as_bytes()),
        ("grants.csv", GRANTS.as_bytes()),
    ])
}
