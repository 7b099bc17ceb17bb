//! `bantay-bench`: benchmarks that print Bantay's figure beside its peer's, measured in the
//! same run on the same data, and the ratio. Not tests: nothing here asserts a time.
//!
//! - `decisions`: the compiled decision table against plain `cedar-policy`
//!   `is_authorized`, over the same requests, checking that every decision is identical.
//! - `authlog`: reading and classifying a mixed authentication log vs `rg -c`.
//! - `serve`: many clients on the decision and guard endpoints vs a bare axum endpoint
//!   (see `serve_load.rs`).
//! - `appends`, `verify`: the stored ledger (see `ledger_store.rs`).
//! - `scan`: see `bench/scan.py`, which runs `bantay scan` beside DuckDB in separate
//!   processes so that each one's peak memory can be measured.

mod authlog;
mod ledger_store;
mod serve_load;

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bantay_connect::{load_snapshot, SnapshotFiles};
use bantay_core::{
    ClauseIdx, PersonIdx, PolicyPack, PortRelation, PrincipalFacts, Profiles, ResourceFacts,
    Timestamp, UnitIdx,
};
use bantay_synthetic::{write_snapshot, Shape};
use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "bantay-bench", about)]
enum Bench {
    /// Compiled decisions vs plain Cedar.
    Decisions {
        /// How many requests.
        #[arg(long, default_value_t = 100_000)]
        requests: usize,
        /// How many runs of each side; the median is reported.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// How many people the synthetic organisation has.
        #[arg(long, default_value_t = 10_000)]
        persons: usize,
    },
    /// Ledger inclusion proofs in a large tree: generation and verification, beside
    /// ct-merkle's in-memory tree over the same leaves.
    /// Durable appends through group commit vs plain inserts into a bare table.
    Appends {
        #[arg(long, default_value_t = 200_000)]
        events: u64,
        /// Concurrent callers, each appending one event at a time.
        #[arg(long, default_value_t = 256)]
        producers: u64,
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Skip PostgreSQL.
        #[arg(long)]
        sqlite_only: bool,
    },
    /// `ledger verify` over a stored ledger vs `openssl speed -evp sha256`.
    Verify {
        #[arg(long, default_value_t = 1_000_000)]
        events: u64,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Reading a mixed authentication log vs ripgrep counting the same lines.
    Authlog {
        /// Size of the generated log.
        #[arg(long, default_value_t = 1024)]
        megabytes: u64,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Many clients at once on the decision and guard endpoints, beside bare axum.
    Serve {
        /// Concurrent clients, one connection each.
        #[arg(long, default_value_t = 200)]
        clients: usize,
        /// How long each endpoint is loaded.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
    },
    Proofs {
        /// Events in the tree.
        #[arg(long, default_value_t = 10_000_000)]
        events: u64,
        /// Proofs to time (random leaves).
        #[arg(long, default_value_t = 10_000)]
        samples: usize,
    },
}

fn main() -> anyhow::Result<()> {
    match Bench::parse() {
        Bench::Appends { events, producers, runs, sqlite_only } => {
            ledger_store::appends(events, producers, runs, sqlite_only)
        }
        Bench::Verify { events, runs } => ledger_store::verify(events, runs),
        Bench::Decisions { requests, runs, persons } => decisions(requests, runs, persons),
        Bench::Proofs { events, samples } => proofs(events, samples),
        Bench::Authlog { megabytes, runs } => authlog::run(megabytes, runs),
        Bench::Serve { clients, seconds } => serve_load::run(clients, seconds),
    }
}

fn pack() -> anyhow::Result<PolicyPack> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy/cmo-04-2019");
    Ok(bantay_connect::read_pack(&dir)?)
}

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

#[allow(clippy::disallowed_methods)] // a benchmark reads the clock to time itself
fn time<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let start = Instant::now();
    let out = f();
    (start.elapsed(), out)
}

#[allow(clippy::disallowed_methods)] // a benchmark reads the clock to time itself
async fn time_async<T>(f: impl std::future::Future<Output = T>) -> (Duration, T) {
    let start = Instant::now();
    let out = f.await;
    (start.elapsed(), out)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn decisions(requests: usize, runs: usize, persons_n: usize) -> anyhow::Result<()> {
    let pack = pack()?;
    // The requests are the grants of a synthetic organisation, as a scan decides them:
    // realistic people (units, ports) and resources (kinds, classes, systems).
    let as_of = Timestamp::parse("2026-07-01")?;
    let dir = tempfile::tempdir()?;
    let shape = Shape { persons: persons_n, grants_per_person: 10, seed: 11, as_of };
    write_snapshot(&pack, &shape, dir.path())?;
    let snapshot = load_snapshot(&SnapshotFiles::in_dir(dir.path())?, &pack)?;
    let persons: Vec<Person> = (0..snapshot.persons.len())
        .map(|i| Person {
            units: snapshot.units_at(PersonIdx(i as u32), as_of),
            port: snapshot.persons[i].port.clone(),
        })
        .collect();
    let resources: Vec<Resource> = snapshot
        .resources
        .iter()
        .map(|r| Resource {
            kind: r.kind.clone(),
            class: r.class.clone(),
            system: r.system.clone(),
            port: r.port.clone(),
        })
        .collect();
    if snapshot.grants.is_empty() {
        bail!("the synthetic organisation has no grants");
    }
    let work: Vec<(usize, usize, ClauseIdx)> = (0..requests)
        .map(|i| {
            let g = &snapshot.grants[i % snapshot.grants.len()];
            let clause =
                pack.clauses.find(&g.clause).context("a grant cites a clause the pack lacks")?;
            Ok((g.person.0 as usize, g.resource.0 as usize, clause))
        })
        .collect::<anyhow::Result<_>>()?;

    // Plain Cedar: build the request and entities, ask the authorizer, for each request.
    let plain_run = || {
        work.iter()
            .map(|&(p, r, clause)| {
                let (person, res) = (&persons[p], &resources[r]);
                let verdict = pack.duties.evaluate(
                    PrincipalFacts { units: &person.units, port: person.port.as_deref() },
                    ResourceFacts {
                        kind: &res.kind,
                        class: &res.class,
                        system: res.system.as_deref(),
                        port: res.port.as_deref(),
                    },
                );
                (verdict.justifies(clause), verdict)
            })
            .collect::<Vec<_>>()
    };
    // Compiled: profile the people and resources, then one table look-up a request; the
    // table is built afresh each run and the Cedar calls that fill it are counted.
    let compiled_run = || {
        let mut profiles = Profiles::default();
        let p: Vec<u32> =
            persons.iter().map(|x| profiles.principal(&x.units, x.port.is_some())).collect();
        let r: Vec<u32> = resources
            .iter()
            .map(|x| profiles.resource(&x.kind, &x.class, x.system.as_deref(), x.port.is_some()))
            .collect();
        let table = profiles.compile(&pack.duties);
        let verdicts: Vec<_> = work
            .iter()
            .map(|&(a, b, clause)| {
                let ports = PortRelation::of(persons[a].port.as_ref(), resources[b].port.as_ref());
                let verdict = *table.verdict(p[a], r[b], ports);
                (verdict.justifies(clause), verdict)
            })
            .collect();
        (verdicts, table.evaluated())
    };

    let (mut plain_times, mut compiled_times) = (Vec::new(), Vec::new());
    let mut evaluated = 0;
    for _ in 0..runs {
        let (t, plain) = time(plain_run);
        plain_times.push(t);
        let (t, (compiled, n)) = time(compiled_run);
        compiled_times.push(t);
        evaluated = n;
        if plain != compiled {
            let differ = plain.iter().zip(&compiled).filter(|(a, b)| a != b).count();
            bail!("{differ} of {requests} decisions differ between plain Cedar and the table");
        }
        black_box((plain, compiled));
    }
    let (plain, compiled) = (median(plain_times), median(compiled_times));
    let rate = |d: Duration| requests as f64 / d.as_secs_f64();
    let allowed = work.iter().zip(plain_run()).filter(|(_, (ok, _))| *ok).count();
    println!(
        "decisions: {requests} requests (the grants of a synthetic organisation of {persons_n} people, {} resources; {allowed} allowed); median of {runs} runs; all decisions identical",
        resources.len()
    );
    println!(
        "  plain cedar-policy is_authorized : {:>12.0} decisions/s  ({:.2} µs each)",
        rate(plain),
        plain.as_secs_f64() * 1e6 / requests as f64
    );
    println!("  Bantay compiled decision table   : {:>12.0} decisions/s  ({:.3} µs each, Cedar asked {evaluated} times, included)", rate(compiled), compiled.as_secs_f64() * 1e6 / requests as f64);
    println!("  ratio                            : {:>12.1}x", rate(compiled) / rate(plain));
    Ok(())
}

/// Per-operation median of `samples` timed batches of 1 operation each.
#[allow(clippy::disallowed_methods)] // a benchmark reads the clock to time itself
fn per_op(samples: usize, mut f: impl FnMut(usize)) -> Duration {
    let mut times: Vec<Duration> = (0..samples)
        .map(|i| {
            let start = Instant::now();
            f(i);
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn proofs(events: u64, samples: usize) -> anyhow::Result<()> {
    use bantay_ledger::{leaf_hash, verify_inclusion, MerkleTree};
    let leaf = |i: u64| i.to_be_bytes();
    let (t, ours) = time(|| {
        let mut tree = MerkleTree::new();
        for i in 0..events {
            tree.push(leaf_hash(&leaf(i)));
        }
        tree
    });
    let (ct_t, theirs) = time(|| {
        let mut tree = ct_merkle::mem_backed_tree::MemoryBackedTree::<
            sha2_for_ct_merkle::Sha256,
            [u8; 8],
        >::new();
        for i in 0..events {
            tree.push(leaf(i));
        }
        tree
    });
    if theirs.root().as_bytes().as_slice() != ours.root().as_slice() {
        bail!("the two trees disagree on the root");
    }
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    let picks: Vec<u64> = (0..samples)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % events
        })
        .collect();
    let root = ours.root();
    let our_proofs: Vec<Vec<[u8; 32]>> =
        picks.iter().map(|&i| ours.inclusion_proof(i, events)).collect::<Result<_, _>>()?;
    let gen = per_op(samples, |k| {
        black_box(ours.inclusion_proof(picks[k], events).ok());
    });
    let ct_gen = per_op(samples, |k| {
        black_box(theirs.prove_inclusion(picks[k] as usize));
    });
    let verify = per_op(samples, |k| {
        let i = picks[k];
        black_box(verify_inclusion(&leaf_hash(&leaf(i)), i, events, &our_proofs[k], &root));
    });
    let ct_root = theirs.root();
    let ct_proofs: Vec<_> = picks.iter().map(|&i| theirs.prove_inclusion(i as usize)).collect();
    let ct_verify = per_op(samples, |k| {
        black_box(ct_root.verify_inclusion(&leaf(picks[k]), picks[k], &ct_proofs[k]).is_ok());
    });
    if !picks
        .iter()
        .zip(&our_proofs)
        .all(|(&i, p)| verify_inclusion(&leaf_hash(&leaf(i)), i, events, p, &root))
    {
        bail!("a proof failed to verify");
    }
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!("inclusion proofs in a tree of {events} events; median of {samples} random leaves; roots identical");
    println!("  {:<30} {:>12} {:>12} {:>12}", "", "build tree", "prove", "verify");
    println!(
        "  {:<30} {:>11.1}s {:>10.2}µs {:>10.2}µs",
        "Bantay ledger (MerkleTree)",
        t.as_secs_f64(),
        us(gen),
        us(verify)
    );
    println!(
        "  {:<30} {:>11.1}s {:>10.2}µs {:>10.2}µs",
        "ct-merkle MemoryBackedTree",
        ct_t.as_secs_f64(),
        us(ct_gen),
        us(ct_verify)
    );
    println!(
        "  ratio (ct-merkle / Bantay)      {:>11.1}x {:>11.1}x {:>11.1}x",
        ct_t.as_secs_f64() / t.as_secs_f64(),
        us(ct_gen) / us(gen),
        us(ct_verify) / us(verify)
    );
    println!("  goals: prove <= 50 µs, verify <= 10 µs");
    Ok(())
}
