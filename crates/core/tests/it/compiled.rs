//! The decision table agrees with plain Cedar: a differential property test over
//! generated organisations (random units, ports and resources of the shipped pack's
//! catalog), 100,000 requests in all, comparing every permitting and forbidding clause.

use std::sync::atomic::{AtomicUsize, Ordering};

use bantay_core::{PortRelation, PrincipalFacts, Profiles, ResourceFacts, UnitIdx};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const ORGANISATIONS: u32 = 50;
const REQUESTS_PER_ORGANISATION: usize = 2_000;

static REQUESTS: AtomicUsize = AtomicUsize::new(0);

struct Person {
    units: Vec<UnitIdx>,
    port: Option<String>,
}

struct Resource {
    kind: String,
    class: String,
    system: Option<String>,
    port: Option<String>,
}

/// An organisation drawn from the pack's catalog: people in zero to three units (units
/// anywhere in the hierarchy), some with ports; resources of every kind and class, on a
/// system or none, at a port or none.
fn organisation(pack: &bantay_core::PolicyPack, seed: u64) -> (Vec<Person>, Vec<Resource>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let catalog = &pack.catalog;
    let units = pack.org.units().len();
    // A few ports per organisation, so that "same port" happens often.
    let ports: Vec<&String> =
        (0..3).map(|_| &catalog.ports[rng.random_range(0..catalog.ports.len())]).collect();
    let pick_port = |rng: &mut ChaCha8Rng| {
        rng.random_bool(0.6).then(|| ports[rng.random_range(0..ports.len())].clone())
    };
    let persons = (0..40)
        .map(|_| {
            let n = rng.random_range(0..=3);
            let units = (0..n)
                .map(|_| pack.org.find(&pack.org.units()[rng.random_range(0..units)].id).unwrap())
                .collect();
            Person { units, port: pick_port(&mut rng) }
        })
        .collect();
    let resources = (0..60)
        .map(|_| Resource {
            kind: catalog.kinds[rng.random_range(0..catalog.kinds.len())].clone(),
            class: catalog.classes[rng.random_range(0..catalog.classes.len())].id.clone(),
            system: rng
                .random_bool(0.8)
                .then(|| catalog.systems[rng.random_range(0..catalog.systems.len())].id.clone()),
            port: pick_port(&mut rng),
        })
        .collect();
    (persons, resources)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: ORGANISATIONS, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_decision_table_agrees_with_plain_cedar(seed in any::<u64>()) {
        let pack = super::shipped_pack();
        let (persons, resources) = organisation(&pack, seed);
        let mut profiles = Profiles::default();
        let principal: Vec<u32> = persons.iter().map(|p| profiles.principal(&p.units, p.port.is_some())).collect();
        let resource: Vec<u32> = resources
            .iter()
            .map(|r| profiles.resource(&r.kind, &r.class, r.system.as_deref(), r.port.is_some()))
            .collect();
        let table = profiles.compile(&pack.duties);
        let clauses: Vec<_> = pack.clauses.all().map(|(c, _)| c).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
        for _ in 0..REQUESTS_PER_ORGANISATION {
            let p = rng.random_range(0..persons.len());
            let r = rng.random_range(0..resources.len());
            let cited = clauses[rng.random_range(0..clauses.len())];
            let (person, res) = (&persons[p], &resources[r]);
            let plain = pack.duties.evaluate(
                PrincipalFacts { units: &person.units, port: person.port.as_deref() },
                ResourceFacts { kind: &res.kind, class: &res.class, system: res.system.as_deref(), port: res.port.as_deref() },
            );
            let compiled = table.verdict(principal[p], resource[r], PortRelation::of(person.port.as_ref(), res.port.as_ref()));
            prop_assert_eq!(compiled, &plain, "person {:?} {:?}, resource {}/{}/{:?}/{:?}", person.units, person.port, res.kind, res.class, res.system, res.port);
            prop_assert_eq!(compiled.justifies(cited), plain.justifies(cited));
            REQUESTS.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[test]
fn the_differential_test_covers_100_000_requests_and_both_answers() {
    assert!(u64::from(ORGANISATIONS) * REQUESTS_PER_ORGANISATION as u64 >= 100_000);
    // The generated requests must meet permits, forbids and plain denials, or agreement
    // would prove little: check on one organisation that all three occur.
    let pack = super::shipped_pack();
    let (persons, resources) = organisation(&pack, 7);
    let (mut permitted, mut forbidden, mut neither) = (0, 0, 0);
    for p in &persons {
        for r in &resources {
            let v = pack.duties.evaluate(
                PrincipalFacts { units: &p.units, port: p.port.as_deref() },
                ResourceFacts {
                    kind: &r.kind,
                    class: &r.class,
                    system: r.system.as_deref(),
                    port: r.port.as_deref(),
                },
            );
            match (v.permitting.is_empty(), v.forbidding.is_empty()) {
                (false, true) => permitted += 1,
                (_, false) => forbidden += 1,
                (true, true) => neither += 1,
            }
        }
    }
    assert!(permitted > 0 && forbidden > 0 && neither > 0, "{permitted} {forbidden} {neither}");
}
