//! Realistic synthetic organisations of any size, for demos, tests and benchmarks.
//!
//! The shape follows the Bureau: MISTG's units (most people in PDMU at the ports), the
//! Bureau's systems with their hosts, databases and applications at the main and
//! disaster-recovery datacenters, end-user devices at every port. Most grants are what a
//! duty justifies (chosen by asking the pack itself); some are not: realigned people who
//! kept their old unit's access, a wrong clause cited, access nobody's duty covers, a few
//! people who hold all three elements of CPS or ERP, expired and future grants.
//! The same seed gives the same files.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use bantay_core::{ClauseIdx, PolicyPack, PortRelation, Profiles, Timestamp, UnitIdx};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Shape {
    pub persons: usize,
    pub grants_per_person: usize,
    pub seed: u64,
    /// The day the organisation is "as of": most grants are active then.
    pub as_of: Timestamp,
}

/// How many records of each kind were written.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Written {
    pub persons: usize,
    pub assignments: usize,
    pub resources: usize,
    pub grants: usize,
}

const DAY: i64 = 86_400;

const FIRST: &[&str] = &[
    "Juan",
    "Maria",
    "Jose",
    "Ana",
    "Rodrigo",
    "Liza",
    "Ramon",
    "Teresita",
    "Antonio",
    "Rosario",
    "Eduardo",
    "Marites",
    "Fernando",
    "Corazon",
    "Ricardo",
    "Imelda",
    "Manuel",
    "Gloria",
    "Andres",
    "Leonora",
    "Emilio",
    "Josefina",
    "Carlos",
    "Perla",
    "Danilo",
    "Luzviminda",
    "Rogelio",
    "Nenita",
];
const LAST: &[&str] = &[
    "Santos",
    "Reyes",
    "Cruz",
    "Bautista",
    "Ocampo",
    "Garcia",
    "Mendoza",
    "Torres",
    "Tomas",
    "Andrada",
    "Castillo",
    "Flores",
    "Villanueva",
    "Ramos",
    "Castro",
    "Rivera",
    "Aquino",
    "Navarro",
    "Salazar",
    "Mercado",
    "Dizon",
    "Manalo",
    "Pascual",
    "Soriano",
    "Lim",
    "Tan",
    "Domingo",
    "Aguilar",
];

/// Unit ids and their share of personnel.
const UNIT_SHARES: &[(&str, u32)] = &[
    ("PDMU", 30),
    ("TSD", 22),
    ("SMD", 18),
    ("SDD", 14),
    ("PMID", 8),
    ("TMS", 3),
    ("PSDS", 3),
    ("MISTG", 2),
];

/// What a unit's duties justify for a person at a port: (resource, clause) pairs.
type Candidates = Vec<(u32, ClauseIdx)>;

struct Res {
    id: String,
    kind: &'static str,
    class: &'static str,
    system: Option<String>,
    port: Option<u16>,
}

/// Writes `persons.csv`, `assignments.csv`, `resources.csv` and `grants.csv` into `dir`
/// (created if need be).
pub fn write_snapshot(pack: &PolicyPack, shape: &Shape, dir: &Path) -> anyhow::Result<Written> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let create = |name: &str| -> anyhow::Result<BufWriter<File>> {
        let path = dir.join(name);
        let file =
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(BufWriter::with_capacity(1 << 20, file))
    };
    let (mut p, mut a, mut r, mut g) = (
        create("persons.csv")?,
        create("assignments.csv")?,
        create("resources.csv")?,
        create("grants.csv")?,
    );
    let written = generate(pack, shape, &mut p, &mut a, &mut r, &mut g)?;
    for mut w in [p, a, r, g] {
        w.flush()?;
    }
    Ok(written)
}

/// Writes persons, assignments, resources and grants CSVs to the four writers.
pub fn generate(
    pack: &PolicyPack,
    shape: &Shape,
    persons_out: &mut impl Write,
    assignments_out: &mut impl Write,
    resources_out: &mut impl Write,
    grants_out: &mut impl Write,
) -> anyhow::Result<Written> {
    let mut rng = ChaCha8Rng::seed_from_u64(shape.seed);
    let ports = &pack.catalog.ports;
    let mut written = Written::default();

    // Resources.
    let resources = resources(pack, shape.persons, &mut rng);
    writeln!(resources_out, "id,kind,class,system,port")?;
    for r in &resources {
        let port = r.port.map_or("", |p| ports[usize::from(p)].as_str());
        writeln!(
            resources_out,
            "{},{},{},{},{}",
            r.id,
            r.kind,
            r.class,
            r.system.as_deref().unwrap_or(""),
            port
        )?;
    }
    written.resources = resources.len();
    let mut profiles = Profiles::default();
    let resource_profile: Vec<u32> = resources
        .iter()
        .map(|r| profiles.resource(r.kind, r.class, r.system.as_deref(), r.port.is_some()))
        .collect();
    let units: Vec<(UnitIdx, u32)> =
        UNIT_SHARES.iter().filter_map(|(id, share)| Some((pack.org.find(id)?, *share))).collect();
    let mut principal_of = HashMap::new();
    for &(unit, _) in &units {
        for has_port in [false, true] {
            principal_of.insert((unit, has_port), profiles.principal(&[unit], has_port));
        }
    }
    let table = profiles.compile(&pack.duties);
    // What each unit's duties justify, per person port: (resource, clause) pairs.
    let mut candidates: HashMap<(UnitIdx, Option<u16>), Candidates> = HashMap::new();
    let mut justified = |unit: UnitIdx, port: Option<u16>| -> Candidates {
        candidates
            .entry((unit, port))
            .or_insert_with(|| {
                let principal = principal_of[&(unit, port.is_some())];
                let mut out = Vec::new();
                for (i, r) in resources.iter().enumerate() {
                    let verdict = table.verdict(
                        principal,
                        resource_profile[i],
                        PortRelation::of(port, r.port),
                    );
                    if verdict.forbidding.is_empty() {
                        out.extend(verdict.permitting.iter().map(|c| (i as u32, c)));
                    }
                }
                out
            })
            .clone()
    };
    let duty_clauses: HashMap<UnitIdx, Vec<String>> = units
        .iter()
        .map(|&(u, _)| (u, pack.org.unit(u).duties.iter().map(|d| d.clause.to_string()).collect()))
        .collect();
    let all_duties: Vec<String> = pack.org.duties().map(|(_, d)| d.clause.to_string()).collect();
    let total_share: u32 = units.iter().map(|(_, s)| s).sum();
    let date = |t: Timestamp| t.manila().to_string();
    let manila = ports.iter().position(|p| p == "Manila").map(|p| p as u16);
    let as_of = shape.as_of;

    writeln!(persons_out, "id,name,port")?;
    writeln!(assignments_out, "person,unit,valid_from,valid_until,order")?;
    writeln!(grants_out, "person,resource,clause,valid_from,valid_until")?;
    let mut order = 1000u32;
    for n in 0..shape.persons {
        let id = format!("P{n:07}");
        let pick = |rng: &mut ChaCha8Rng| {
            let mut x = rng.random_range(0..total_share.max(1));
            for &(u, share) in &units {
                if x < share {
                    return u;
                }
                x -= share;
            }
            units[0].0
        };
        let unit = pick(&mut rng);
        let port = if pack.org.unit(unit).port_scoped {
            Some(rng.random_range(0..ports.len() as u16))
        } else if rng.random_bool(0.2) {
            manila
        } else {
            None
        };
        let name = format!(
            "{} {}",
            FIRST.choose(&mut rng).unwrap_or(&"Juan"),
            LAST.choose(&mut rng).unwrap_or(&"Cruz")
        );
        writeln!(
            persons_out,
            "{id},{name},{}",
            port.map_or("", |p| ports[usize::from(p)].as_str())
        )?;
        written.persons += 1;

        // Assignments: most since long ago; some realigned by a recent personnel order
        // (section 3); a few detailed to a second unit as well.
        let hired = as_of.plus_seconds(-DAY * rng.random_range(400..4000));
        let mut previous = None;
        order += 1;
        if rng.random_bool(0.04) {
            let old = pick(&mut rng);
            if old != unit && !pack.org.unit(old).port_scoped {
                let moved = as_of.plus_seconds(-DAY * rng.random_range(1..200));
                writeln!(
                    assignments_out,
                    "{id},{},{},{},CPO-2019-{order}",
                    pack.org.unit(old).id,
                    date(hired),
                    date(moved)
                )?;
                writeln!(
                    assignments_out,
                    "{id},{},{},,CPO-2026-{order}",
                    pack.org.unit(unit).id,
                    date(moved)
                )?;
                written.assignments += 2;
                previous = Some(old);
            }
        }
        if previous.is_none() {
            writeln!(
                assignments_out,
                "{id},{},{},,CPO-2019-{order}",
                pack.org.unit(unit).id,
                date(hired)
            )?;
            written.assignments += 1;
        }
        let mut second = None;
        if rng.random_bool(0.03) {
            let other = pick(&mut rng);
            if other != unit && !pack.org.unit(other).port_scoped {
                writeln!(
                    assignments_out,
                    "{id},{},{},,CPO-2025-{order}",
                    pack.org.unit(other).id,
                    date(hired)
                )?;
                written.assignments += 1;
                second = Some(other);
            }
        }

        // Grants.
        let own = justified(unit, port);
        // Units whose duties justify nothing privileged (TMS, PSDS, the group) rarely hold
        // anything; when they do, it is a finding.
        let count = if own.is_empty() {
            usize::from(rng.random_bool(0.1))
        } else {
            rng.random_range(0..=2 * shape.grants_per_person)
        };
        let kept = previous.map(|old| justified(old, port)).unwrap_or_default();
        let extra = second.map(|s| justified(s, port)).unwrap_or_default();
        for _ in 0..count {
            let roll: f64 = rng.random();
            let (resource, clause) = if roll < 0.5 && !kept.is_empty() {
                let &(r, c) = kept.choose(&mut rng).unwrap_or(&kept[0]);
                (r, pack.clauses.info(c).clause.to_string())
            } else if roll < 0.1 && !extra.is_empty() {
                let &(r, c) = extra.choose(&mut rng).unwrap_or(&extra[0]);
                (r, pack.clauses.info(c).clause.to_string())
            } else if roll < 0.96 && !own.is_empty() {
                let &(r, c) = own.choose(&mut rng).unwrap_or(&own[0]);
                (r, pack.clauses.info(c).clause.to_string())
            } else {
                // A grant nobody checked: any resource, one of the unit's clauses (or any).
                let r = rng.random_range(0..resources.len() as u32);
                let clauses =
                    duty_clauses.get(&unit).filter(|c| !c.is_empty()).unwrap_or(&all_duties);
                (r, clauses.choose(&mut rng).cloned().unwrap_or_default())
            };
            let (from, until) = period(&mut rng, as_of);
            writeln!(
                grants_out,
                "{id},{},{clause},{},{}",
                resources[resource as usize].id,
                date(from),
                until.map(date).unwrap_or_default()
            )?;
            written.grants += 1;
        }
        // A few SMD administrators also hold the database and application of CPS or
        // ERP: the 4.2 breach the order exists to prevent.
        if pack.org.unit(unit).id == "SMD" && rng.random_bool(0.005) {
            let system = if rng.random_bool(0.5) { "CPS" } else { "ERP" };
            for class in ["os", "database", "application"] {
                if let Some(r) = resources
                    .iter()
                    .find(|r| r.class == class && r.system.as_deref() == Some(system))
                {
                    writeln!(
                        grants_out,
                        "{id},{},1.2.1,{},",
                        r.id,
                        date(as_of.plus_seconds(-DAY * 30))
                    )?;
                    written.grants += 1;
                }
            }
        }
    }
    Ok(written)
}

/// A grant's period around `as_of`: mostly active then, some expired, some not yet begun.
fn period(rng: &mut ChaCha8Rng, as_of: Timestamp) -> (Timestamp, Option<Timestamp>) {
    let roll: f64 = rng.random();
    if roll < 0.08 {
        let until = as_of.plus_seconds(-DAY * rng.random_range(1..300));
        (until.plus_seconds(-DAY * rng.random_range(1..180)), Some(until))
    } else if roll < 0.10 {
        let from = as_of.plus_seconds(DAY * rng.random_range(1..60));
        (from, Some(from.plus_seconds(DAY * rng.random_range(1..180))))
    } else {
        let from = as_of.plus_seconds(-DAY * rng.random_range(0..300));
        let until = (roll > 0.2).then(|| as_of.plus_seconds(DAY * rng.random_range(1..180)));
        (from, until)
    }
}

/// The Bureau's resources, about one for every 50 people (at least a few of each kind).
fn resources(pack: &PolicyPack, persons: usize, rng: &mut ChaCha8Rng) -> Vec<Res> {
    let ports = &pack.catalog.ports;
    let port_of = |name: &str| ports.iter().position(|p| p == name).map(|p| p as u16);
    let (main, dr) = (port_of("Manila"), port_of("Clark"));
    let scale = (persons / 50).max(40);
    let mut out = Vec::with_capacity(scale + 64);
    let mut add = |id: String, kind, class, system: Option<&str>, port| {
        out.push(Res { id, kind, class, system: system.map(str::to_owned), port });
    };
    for system in &pack.catalog.systems {
        let s = system.id.to_lowercase();
        let n = (scale / 60).max(2);
        for i in 0..n {
            let site = if i % 4 == 3 { dr } else { main };
            for element in &system.elements {
                let (kind, class, tag) = match element.as_str() {
                    "os" => ("host", "os", "os"),
                    "database" => ("database", "database", "db"),
                    "application" => ("application", "application", "app"),
                    _ => continue,
                };
                add(format!("{s}-{tag}-{i}"), kind, class, Some(system.id.as_str()), site);
            }
            if system.elements.iter().any(|e| e == "database") {
                add(
                    format!("{s}-rpt-{i}"),
                    "database",
                    "reporting",
                    Some(system.id.as_str()),
                    site,
                );
            }
        }
    }
    let infra = pack.catalog.system("INFRA").map(|s| s.id.as_str());
    let shared: &[(&str, &str, &'static str, &'static str, usize)] = &[
        ("net", "appliance", "network", "", 40),
        ("san", "appliance", "storage", "", 150),
        ("fw", "appliance", "security", "", 150),
        ("bak", "appliance", "backup", "", 150),
        ("mon", "console", "monitoring", "", 200),
        ("aud", "console", "audit", "", 300),
        ("bms", "console", "facility", "", 400),
    ];
    for &(tag, kind, class, _, per) in shared {
        for i in 0..(scale / per).max(2) {
            let port = if class == "network" {
                Some(rng.random_range(0..ports.len() as u16))
            } else if i % 3 == 2 {
                dr
            } else {
                main
            };
            add(format!("{tag}-{i}"), kind, class, infra, port);
        }
    }
    let devices = (scale * 7 / 10).max(ports.len() * 8);
    for i in 0..devices {
        let port = rng.random_range(0..ports.len() as u16);
        let (tag, class) = if i % 4 == 3 { ("prn", "peripheral") } else { ("ep", "endpoint") };
        let place = ports[usize::from(port)].to_lowercase().replace(' ', "");
        add(format!("{tag}-{place}-{i}"), "device", class, None, Some(port));
    }
    for dc in &pack.catalog.datacenters {
        add(dc.id.to_lowercase(), "datacenter", "entry", None, port_of(&dc.port));
    }
    out
}
