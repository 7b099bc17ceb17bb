//! The stored ledger's figures (issue 3), each beside its peer in the same run:
//!
//! - `appends`: durable appends per second through group commit (events, leaf hashes,
//!   signed head and state rows in one transaction) beside plain inserts of the same rows
//!   into a bare table with the same durability settings, on SQLite and PostgreSQL.
//! - `verify`: `Store::verify` over a stored ledger, in MB/s of event bytes, beside
//!   `openssl speed -evp sha256` at the ledger's average event size and at 8 KiB.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use bantay_ledger::{leaf_hash, Event};
use bantay_store::testing::TestDatabase;
use bantay_store::{GroupCommit, NewEvent, OpenMode, Store, Trust};
use serde_json::json;

use crate::{median, time};

const T0: i64 = 1_780_000_000;

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?)
}

/// What the benchmark appends: a finding (one state row each) or a note (ledger only).
fn event(kind: &str, i: u64) -> NewEvent {
    match kind {
        "finding.opened" => NewEvent::new(
            kind,
            "system:scan",
            T0 + i as i64,
            json!({"id": format!("F{i:09}"), "clause": "4.5", "subject": format!("root@cps-db-{}", i % 97),
                   "summary": "interactive use of a system account by a person",
                   "evidence": format!("/var/log/auth.log:{}", 1000 + i)}),
        ),
        _ => NewEvent::new(
            kind,
            "P0000042",
            T0 + i as i64,
            json!({"text": format!("guard post 2 shift log line {i}: all quiet")}),
        ),
    }
}

async fn fresh(postgres: bool) -> anyhow::Result<TestDatabase> {
    if postgres {
        TestDatabase::postgres().await.map_err(anyhow::Error::msg)
    } else {
        Ok(TestDatabase::sqlite(None)?)
    }
}

/// Plain inserts of the rows the ledger would write, 100 to a transaction, into a bare
/// table on the same engine with the same durability settings.
async fn bare(db: &TestDatabase, rows: &[(i64, Vec<u8>, Vec<u8>)]) -> anyhow::Result<Duration> {
    // Open through the store once so that the file is made the same way; then the same
    // settings as the store's connections (WAL, FULL, checkpoint interval).
    let store = Store::open(&db.url(), OpenMode::Create).await?;
    store.database().close().await;
    let create =
        "CREATE TABLE bare (seq BIGINT PRIMARY KEY, leaf BYTEA NOT NULL, event BYTEA NOT NULL)";
    match db.url() {
        bantay_store::DatabaseUrl::Sqlite(path) => {
            use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
            let options = SqliteConnectOptions::new()
                .filename(path)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .pragma("wal_autocheckpoint", "10000");
            let pool = sqlx::SqlitePool::connect_with(options).await?;
            sqlx::query(&create.replace("BYTEA", "BLOB").replace("BIGINT", "INTEGER"))
                .execute(&pool)
                .await?;
            let (elapsed, result) = crate::time_async(async {
                for chunk in rows.chunks(100) {
                    let mut sql = String::from("INSERT INTO bare (seq, leaf, event) VALUES ");
                    for i in 0..chunk.len() {
                        sql.push_str(if i > 0 { ",(?,?,?)" } else { "(?,?,?)" });
                    }
                    let mut tx = pool.begin().await?;
                    let mut q = sqlx::query(&sql);
                    for (seq, leaf, event) in chunk {
                        q = q.bind(seq).bind(leaf).bind(event);
                    }
                    q.execute(&mut *tx).await?;
                    tx.commit().await?;
                }
                anyhow::Ok(())
            })
            .await;
            result?;
            pool.close().await;
            Ok(elapsed)
        }
        bantay_store::DatabaseUrl::Postgres(url) => {
            let pool = sqlx::PgPool::connect(&url).await?;
            sqlx::query(create).execute(&pool).await?;
            let (elapsed, result) = crate::time_async(async {
                for chunk in rows.chunks(100) {
                    let seqs: Vec<i64> = chunk.iter().map(|r| r.0).collect();
                    let leaves: Vec<&[u8]> = chunk.iter().map(|r| &r.1[..]).collect();
                    let events: Vec<&[u8]> = chunk.iter().map(|r| &r.2[..]).collect();
                    let mut tx = pool.begin().await?;
                    sqlx::query("INSERT INTO bare SELECT * FROM UNNEST($1::bigint[], $2::bytea[], $3::bytea[])")
                        .bind(seqs)
                        .bind(leaves)
                        .bind(events)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                }
                anyhow::Ok(())
            })
            .await;
            result?;
            pool.close().await;
            Ok(elapsed)
        }
    }
}

/// `events` appends from `producers` concurrent callers, one event per call, through
/// group commit.
async fn grouped(
    db: &TestDatabase,
    kind: &'static str,
    events: u64,
    producers: u64,
) -> anyhow::Result<(Duration, u64)> {
    let store = Store::open(&db.url(), OpenMode::Create).await?;
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    store.init(key, "system:bench", T0, Vec::new()).await?;
    let store = Arc::new(store);
    let group = GroupCommit::start(store.clone(), Arc::new(|| T0), 1000);
    let (elapsed, result) = crate::time_async(async {
        let mut tasks = Vec::new();
        for p in 0..producers {
            let group = group.clone();
            tasks.push(tokio::spawn(async move {
                let mut i = p;
                while i < events {
                    group.append(vec![event(kind, i)]).await?;
                    i += producers;
                }
                anyhow::Ok(())
            }));
        }
        for t in tasks {
            t.await??;
        }
        anyhow::Ok(())
    })
    .await;
    result?;
    let verification = store.verify(&Trust::default()).await?;
    if verification.problem.is_some() || verification.events != events + 1 {
        bail!("the benchmark's ledger does not verify: {:?}", verification.problem);
    }
    let heads = verification.heads;
    store.database().close().await;
    Ok((elapsed, heads))
}

pub fn appends(events: u64, producers: u64, runs: usize, sqlite_only: bool) -> anyhow::Result<()> {
    let rt = runtime()?;
    // The rows the ledger writes for the note events, for the bare table.
    let rows: Vec<(i64, Vec<u8>, Vec<u8>)> = (0..events)
        .map(|i| {
            let e = event("ledger.note", i);
            let bytes =
                Event { seq: i + 1, time: e.time, kind: e.kind, actor: e.actor, body: e.body }
                    .canonical_bytes()?;
            Ok(((i + 1) as i64, leaf_hash(&bytes).to_vec(), bytes))
        })
        .collect::<anyhow::Result<_>>()?;
    let backends: &[bool] = if sqlite_only { &[false] } else { &[false, true] };
    println!("durable appends: {events} events from {producers} concurrent callers through group commit; median of {runs} runs");
    println!(
        "  {:<12} {:>22} {:>22} {:>22} {:>8}",
        "", "bare inserts (100/tx)", "bantay notes", "bantay findings", "ratio"
    );
    for &postgres in backends {
        let (mut b, mut n, mut f, mut heads) = (Vec::new(), Vec::new(), Vec::new(), 0);
        for _ in 0..runs {
            b.push(rt.block_on(async { bare(&fresh(postgres).await?, &rows).await })?);
            let (t, h) = rt.block_on(async {
                grouped(&fresh(postgres).await?, "ledger.note", events, producers).await
            })?;
            n.push(t);
            heads = h;
            f.push(
                rt.block_on(async {
                    grouped(&fresh(postgres).await?, "finding.opened", events, producers).await
                })?
                .0,
            );
        }
        let rate = |d: Duration| events as f64 / d.as_secs_f64();
        let (b, n, f) = (rate(median(b)), rate(median(n)), rate(median(f)));
        println!(
            "  {:<12} {:>18.0} /s {:>18.0} /s {:>18.0} /s {:>7.2}×   ({} commits for {events} events, ~{} per commit)",
            if postgres { "PostgreSQL" } else { "SQLite" },
            b,
            n,
            f,
            f / b,
            heads,
            events / heads.max(1)
        );
    }
    println!("  ratio = bantay findings (ledger + state row) / bare inserts. Goals: SQLite ≥ 0.5× bare; PostgreSQL ≥ 10,000/s.");
    Ok(())
}

fn openssl_sha256(bytes: usize) -> anyhow::Result<f64> {
    let out = std::process::Command::new("openssl")
        .args(["speed", "-evp", "sha256", "-seconds", "2", "-bytes", &bytes.to_string()])
        .output()
        .context("running `openssl speed` (Debian package openssl)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let k = text
        .lines()
        .rev()
        .find(|l| l.starts_with("sha256"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.trim_end_matches('k').parse::<f64>().ok())
        .context("reading `openssl speed` output")?;
    Ok(k * 1000.0)
}

pub fn verify(events: u64, runs: usize) -> anyhow::Result<()> {
    let rt = runtime()?;
    let db = TestDatabase::sqlite(None)?;
    let store = rt.block_on(async {
        let store = Store::open(&db.url(), OpenMode::Create).await?;
        store
            .init(ed25519_dalek::SigningKey::from_bytes(&[9; 32]), "system:bench", T0, Vec::new())
            .await?;
        let mut i = 0;
        while i < events {
            let batch = (i..(i + 10_000).min(events)).map(|i| event("finding.opened", i)).collect();
            store.append(batch, T0).await?;
            i += 10_000;
        }
        anyhow::Ok(store)
    })?;
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..runs {
        let (t, v) = time(|| rt.block_on(store.verify(&Trust::default())));
        let v = v?;
        if v.problem.is_some() {
            bail!("the benchmark's ledger does not verify");
        }
        bytes = v.bytes;
        times.push(t);
    }
    let t = median(times);
    let ours = bytes as f64 / t.as_secs_f64();
    let average = (bytes / (events + 1)) as usize;
    // Where the time goes: the same checks over the same bytes already in memory.
    let mut exported = Vec::new();
    rt.block_on(store.export(&mut exported))?;
    let lines: Vec<&[u8]> = exported.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
    let (in_memory, root) = time(|| {
        let mut frontier = bantay_ledger::Frontier::new();
        for line in &lines {
            std::hint::black_box(bantay_ledger::event_seq(line));
            frontier.push(leaf_hash(line));
        }
        frontier.root()
    });
    std::hint::black_box(root);
    let at_size = openssl_sha256(average)?;
    let at_8k = openssl_sha256(8192)?;
    let mb = |x: f64| x / 1e6;
    println!("ledger verify: {} events ({:.0} MB, {average} bytes on average) in SQLite; median of {runs}: {:.2} s", events + 1, mb(bytes as f64), t.as_secs_f64());
    println!("  {:<44} {:>10.0} MB/s", "bantay ledger verify (leaves, tree, heads)", mb(ours));
    println!(
        "  {:<44} {:>10.0} MB/s   ratio {:.2}",
        "the same checks over the bytes in memory",
        mb(bytes as f64 / in_memory.as_secs_f64()),
        bytes as f64 / in_memory.as_secs_f64() / at_size
    );
    println!(
        "  {:<44} {:>10.0} MB/s   ratio {:.2}",
        format!("openssl speed -evp sha256, {average}-byte blocks"),
        mb(at_size),
        ours / at_size
    );
    println!(
        "  {:<44} {:>10.0} MB/s   ratio {:.2}",
        "openssl speed -evp sha256, 8192-byte blocks",
        mb(at_8k),
        ours / at_8k
    );
    println!("  ({:.0} events/s; goal ≥ 0.5 of openssl)", (events + 1) as f64 / t.as_secs_f64());

    // Proofs from the store: the first loads the tree from the stored leaves, the rest
    // are served from memory.
    let reopened = rt.block_on(Store::open(&db.url(), OpenMode::Existing))?;
    let (load, first) = time(|| rt.block_on(reopened.prove(events / 2, None)));
    first?;
    let store = reopened;
    let picks: Vec<u64> = (0..1000u64).map(|k| (k * 7_919_993) % (events + 1)).collect();
    let per_proof: Vec<Duration> =
        picks.iter().map(|&seq| time(|| rt.block_on(store.prove(seq, None))).0).collect();
    let per_proof = median(per_proof);
    let bundle = rt.block_on(store.prove(picks[0], None))?;
    let public = ed25519_dalek::SigningKey::from_bytes(&[9; 32]).verifying_key();
    let check = median((0..1000).map(|_| time(|| bundle.check(&public)).0).collect());
    println!(
        "proofs from the store: first {:.2} s (loads {} leaves), then median {:.1} µs each (reads the event and head, builds the path); offline check {:.1} µs (signature + path)",
        load.as_secs_f64(),
        events + 1,
        per_proof.as_secs_f64() * 1e6,
        check.as_secs_f64() * 1e6
    );
    rt.block_on(store.database().close());
    Ok(())
}
