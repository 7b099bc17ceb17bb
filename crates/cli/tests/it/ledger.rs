//! `bantay init` and `bantay ledger …` as an administrator and an auditor use them; a
//! writer killed at random moments; eight writers through one PostgreSQL.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use bantay_store::testing::TestDatabase;
use bantay_store::{OpenMode, Store, Trust};
use rand::{Rng, SeedableRng};

use crate::{bantay, bantay_with};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn init_verify_prove_and_check_offline() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let init = bantay(d, &["init"]);
    assert_eq!(init.code, 0, "{init:?}");
    assert!(init.stdout.contains("initialised the ledger in bantay.db"), "{init:?}");
    let public = init
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("public key:"))
        .unwrap()
        .trim()
        .to_owned();
    assert_eq!(public.len(), 64, "{init:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(d.join("bantay.key")).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let again = bantay(d, &["init"]);
    assert_eq!(again.code, 2, "{again:?}");
    assert!(again.stderr.contains("already holds a ledger"), "{again:?}");

    let note = bantay(d, &["ledger", "note", "handover to the night shift", "--actor", "P0000007"]);
    assert_eq!(note.code, 0, "{note:?}");
    let seq: u64 = note.stdout.trim().rsplit(' ').next().unwrap().parse().unwrap();

    let verify = bantay(d, &["ledger", "verify", "--public-key", &public, "--state"]);
    assert_eq!(verify.code, 0, "{verify:?}");
    assert!(
        verify.stdout.starts_with(&format!("ledger ok: {} events, 2 signed heads", seq + 1)),
        "{verify:?}"
    );
    assert!(verify.stdout.contains("state ok"), "{verify:?}");

    let head = bantay(d, &["ledger", "head", "--output", "json"]);
    assert_eq!(head.code, 0, "{head:?}");
    std::fs::write(d.join("head.json"), &head.stdout).unwrap();
    let proof = bantay(d, &["ledger", "prove", &seq.to_string()]);
    assert_eq!(proof.code, 0, "{proof:?}");
    assert!(proof.stdout.contains("handover to the night shift"), "{proof:?}");
    std::fs::write(d.join("proof.json"), &proof.stdout).unwrap();

    // Offline: no database, only the proof and the public key.
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::copy(d.join("proof.json"), elsewhere.path().join("proof.json")).unwrap();
    let check = bantay(
        elsewhere.path(),
        &["ledger", "verify-proof", "--public-key", &public, "proof.json"],
    );
    assert_eq!(check.code, 0, "{check:?}");
    assert!(
        check
            .stdout
            .starts_with(&format!("proof ok: event {seq} is in the ledger of {} events", seq + 1)),
        "{check:?}"
    );
    let forged = proof.stdout.replace("night shift", "day shift");
    std::fs::write(elsewhere.path().join("forged.json"), forged).unwrap();
    let check = bantay(
        elsewhere.path(),
        &["ledger", "verify-proof", "--public-key", &public, "forged.json"],
    );
    assert_eq!(check.code, 1, "{check:?}");
    assert!(check.stdout.contains("proof NOT ok: the event is not in the tree"), "{check:?}");

    let export = bantay(d, &["ledger", "export"]);
    assert_eq!(export.stdout.lines().count() as u64, seq + 1, "{export:?}");
    assert!(export.stdout.lines().next().unwrap().contains("\"kind\":\"ledger.initialised\""));

    // Another key is refused, and nothing is written.
    let other = bantay(d, &["init", "--database", "other.db", "--key", "other.key"]);
    assert_eq!(other.code, 0, "{other:?}");
    let wrong = bantay(d, &["ledger", "note", "x", "--key", "other.key"]);
    assert_eq!(wrong.code, 2, "{wrong:?}");
    assert!(wrong.stderr.contains("is not this ledger's current key"), "{wrong:?}");

    // Rotation: the new key signs from now on; the old heads still verify.
    let rotate = bantay(d, &["ledger", "rotate-key", "new.key"]);
    assert_eq!(rotate.code, 0, "{rotate:?}");
    let note = bantay(d, &["ledger", "note", "after rotation", "--key", "new.key"]);
    assert_eq!(note.code, 0, "{note:?}");
    let verify = bantay(d, &["ledger", "verify", "--public-key", &public, "--head", "head.json"]);
    assert_eq!(verify.code, 0, "{verify:?}");
    assert_eq!(verify.stdout.matches("key since event").count(), 2, "{verify:?}");

    // An event changed in the database is named; so is a cut tail that took its heads
    // with it, against the head kept outside.
    let db = d.join("bantay.db");
    runtime().block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", db.display())).await.unwrap();
        sqlx::query("UPDATE ledger_events SET event = CAST(REPLACE(CAST(event AS TEXT), 'Division', 'Divisions') AS BLOB) WHERE seq = 5").execute(&pool).await.unwrap();
        pool.close().await;
    });
    let verify = bantay(d, &["ledger", "verify"]);
    assert_eq!(verify.code, 1, "{verify:?}");
    assert!(
        verify.stdout.starts_with("ledger NOT ok at event 5: event 5 was changed"),
        "{verify:?}"
    );
    let json = bantay(d, &["ledger", "verify", "--output", "json"]);
    assert_eq!(json.code, 1, "{json:?}");
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!((v["ok"].as_bool(), v["problem"]["seq"].as_u64()), (Some(false), Some(5)));

    runtime().block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", db.display())).await.unwrap();
        sqlx::query("UPDATE ledger_events SET event = CAST(REPLACE(CAST(event AS TEXT), 'Divisions', 'Division') AS BLOB) WHERE seq = 5").execute(&pool).await.unwrap();
        // Back to the head `init` signed, just before the note.
        for sql in [
            "DELETE FROM ledger_events WHERE seq >= $1",
            "DELETE FROM ledger_heads WHERE size > $1",
            "DELETE FROM ledger_keys WHERE seq > 0 AND $1 > 0",
            "UPDATE ledger_state SET size = $1, root = (SELECT root FROM ledger_heads WHERE size = $1)",
        ] {
            sqlx::query(sql).bind(seq as i64).execute(&pool).await.unwrap();
        }
        pool.close().await;
    });
    let inside = bantay(d, &["ledger", "verify"]);
    assert_eq!(
        inside.code, 0,
        "a clean cut of events and heads leaves a consistent prefix: {inside:?}"
    );
    let outside = bantay(d, &["ledger", "verify", "--head", "head.json"]);
    assert_eq!(outside.code, 1, "{outside:?}");
    assert!(
        outside.stdout.starts_with(&format!(
            "ledger NOT ok at event {seq}: events from {seq} on are missing"
        )),
        "{outside:?}"
    );
    assert!(outside.stdout.contains("the head you hold"), "{outside:?}");
}

/// Starts `bantay ledger append-loop`, kills it with SIGKILL at a random moment, and
/// returns the sequence numbers it acknowledged before dying.
fn kill_a_writer(env: &[(&str, String)], actor: &str, batch: u64, after: Duration) -> Vec<u64> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bantay"))
        .args([
            "ledger",
            "append-loop",
            "--count",
            "100000000",
            "--batch",
            &batch.to_string(),
            "--actor",
            actor,
        ])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| l.strip_prefix("acknowledged ").map(|n| n.parse::<u64>().unwrap()))
            .collect::<Vec<_>>()
    });
    std::thread::sleep(after);
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    reader.join().unwrap()
}

/// Runs `bantay init` on `db` with a key beside it; returns the environment that points
/// `bantay` at both.
fn init_in(db: &TestDatabase) -> [(&'static str, String); 2] {
    let dir = db.dir();
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("bantay.key");
    let env =
        [("BANTAY_DATABASE_URL", db.url_text()), ("BANTAY_KEY_FILE", key.display().to_string())];
    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let init = bantay_with(&dir, &["init"], &env_ref);
    assert_eq!(init.code, 0, "{init:?}");
    env
}

fn a_killed_writer_loses_nothing(db: &TestDatabase) {
    let env = init_in(db);
    let mut rng = rand::rngs::StdRng::seed_from_u64(50);
    let mut acknowledged_total = 0;
    for round in 0..50 {
        let actor = format!("run-{round}");
        let batch = [1, 1, 7, 50][rng.random_range(0..4)];
        let after = Duration::from_millis(rng.random_range(20..250));
        let acked = kill_a_writer(&env, &actor, batch, after);
        acknowledged_total += acked.len();
        runtime().block_on(async {
            let store = Store::open(&db.url(), OpenMode::Existing).await.unwrap();
            let v = store.verify(&Trust::default()).await.unwrap();
            assert_eq!(v.problem, None, "round {round}: the ledger verifies after SIGKILL");
            let mut export = Vec::new();
            store.export(&mut export).await.unwrap();
            let lines: Vec<&[u8]> = export.split(|&b| b == b'\n').collect();
            for seq in &acked {
                let line = std::str::from_utf8(lines[*seq as usize]).unwrap();
                assert!(
                    line.contains(&format!("\"actor\":\"{actor}\"")),
                    "round {round}: acknowledged event {seq} is there: {line}"
                );
            }
            store.database().close().await;
        });
    }
    assert!(
        acknowledged_total > 100,
        "the writers were killed while writing ({acknowledged_total} acknowledged)"
    );
}

#[test]
fn a_killed_writer_loses_nothing_on_sqlite() {
    a_killed_writer_loses_nothing(&TestDatabase::sqlite(None).unwrap());
}

#[test]
fn a_killed_writer_loses_nothing_on_postgres() {
    let db = runtime().block_on(TestDatabase::postgres()).unwrap_or_else(|e| panic!("{e}"));
    a_killed_writer_loses_nothing(&db);
}

fn eight_writers_make_one_history(db: &TestDatabase, per_writer: u64) {
    let env = init_in(db);
    let start = runtime().block_on(async {
        Store::open(&db.url(), OpenMode::Existing).await.unwrap().size().await.unwrap()
    });
    let writers: Vec<_> = (0..8)
        .map(|w| {
            Command::new(env!("CARGO_BIN_EXE_bantay"))
                .args([
                    "ledger",
                    "append-loop",
                    "--count",
                    &per_writer.to_string(),
                    "--actor",
                    &format!("writer-{w}"),
                ])
                .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut acked = Vec::new();
    for child in writers {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let seqs: Vec<u64> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.strip_prefix("acknowledged ").unwrap().parse().unwrap())
            .collect();
        assert_eq!(seqs.len() as u64, per_writer);
        acked.extend(seqs);
    }
    acked.sort_unstable();
    acked.dedup();
    assert_eq!(
        acked.len() as u64,
        8 * per_writer,
        "no two writers were given the same sequence number"
    );
    runtime().block_on(async {
        let store = Store::open(&db.url(), OpenMode::Existing).await.unwrap();
        let v = store.verify(&Trust::default()).await.unwrap();
        assert_eq!((v.events, v.problem), (start + 8 * per_writer, None));
        assert_eq!(acked, (start..start + 8 * per_writer).collect::<Vec<_>>());
    });
}

#[test]
fn eight_writers_make_one_history_on_postgres() {
    let db = runtime().block_on(TestDatabase::postgres()).unwrap_or_else(|e| panic!("{e}"));
    eight_writers_make_one_history(&db, 1000);
}

#[test]
fn eight_writers_make_one_history_on_sqlite() {
    eight_writers_make_one_history(&TestDatabase::sqlite(None).unwrap(), 250);
}
