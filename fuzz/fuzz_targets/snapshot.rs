//! Any bytes as the grants file (or, by the first byte, the persons, assignments or
//! resources file) of a small snapshot: the scan returns findings or an error naming a
//! line, never panics.
#![no_main]

use std::sync::OnceLock;

use bantay_connect::{scan_snapshot, SnapshotFiles};
use bantay_core::{PolicyPack, Timestamp};
use libfuzzer_sys::fuzz_target;

const PACK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../policy/cmo-04-2019");
const FILES: [(&str, &str); 4] = [
    ("persons.csv", "id,name,port\nP1,Juan,\nP2,Maria,Cebu\n"),
    (
        "assignments.csv",
        "person,unit,valid_from,valid_until,order\nP1,TSD,2020-01-01,,C1\nP2,PDMU,2020-01-01,,C2\n",
    ),
    (
        "resources.csv",
        "id,kind,class,system,port\nh1,host,os,CPS,Manila\nd1,device,endpoint,,Cebu\n",
    ),
    ("grants.csv", "person,resource,clause,valid_from,valid_until\nP1,h1,1.3.1,2026-01-01,\n"),
];

fn pack() -> &'static PolicyPack {
    static PACK_ONCE: OnceLock<PolicyPack> = OnceLock::new();
    PACK_ONCE.get_or_init(|| bantay_connect::read_pack(std::path::Path::new(PACK)).unwrap())
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let dir = tempfile::tempdir().unwrap();
    for (i, (name, text)) in FILES.iter().enumerate() {
        let content = if usize::from(which % 4) == i { rest } else { text.as_bytes() };
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    let files = SnapshotFiles::in_dir(dir.path()).unwrap();
    let at = Timestamp::parse("2026-03-01").unwrap();
    match scan_snapshot(&files, pack(), at, 2) {
        Ok(outcome) => {
            let _ = outcome.report.findings().count();
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
