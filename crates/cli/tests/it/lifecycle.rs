//! The request journey through the binary, as the people of the order would run it:
//! record people and a resource, ask, approve step by step, see the grant; a move that
//! suspends it; refusals with their exit codes; `bantay serve` answering over HTTP.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::bantay;

/// Runs `bantay ARGS` in `dir` and insists on `code`.
fn ok(dir: &std::path::Path, args: &[&str], code: i32) -> crate::Run {
    let run = bantay(dir, args);
    assert_eq!(run.code, code, "{run:?}");
    run
}

#[test]
fn request_approve_grant_and_realign_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["init"], 0);
    for (id, unit, head) in [
        ("DC", "MISTG", true),
        ("DIR-TMS", "TMS", true),
        ("CHIEF-SMD", "SMD", true),
        ("ANA", "SMD", false),
    ] {
        ok(
            d,
            &[
                "personnel",
                "add",
                "--id",
                id,
                "--name",
                &format!("{id} Cruz"),
                "--email",
                &format!("{}@customs.example", id.to_lowercase()),
            ],
            0,
        );
        let mut args = vec![
            "personnel",
            "assign",
            "--person",
            id,
            "--unit",
            unit,
            "--order",
            "CPO-2025-0001",
            "--effective",
            "2025-01-02",
        ];
        if head {
            args.push("--head");
        }
        ok(d, &args, 0);
    }
    ok(
        d,
        &[
            "resources",
            "add",
            "--id",
            "comms-os-0",
            "--kind",
            "host",
            "--class",
            "os",
            "--system",
            "COMMS",
        ],
        0,
    );
    let bad = ok(d, &["resources", "add", "--id", "x", "--kind", "spaceship", "--class", "os"], 2);
    assert!(bad.stderr.contains("kind: `spaceship` is not a kind"), "{bad:?}");

    let until = "2099-01-01";
    let too_long = ok(
        d,
        &[
            "request",
            "submit",
            "--as",
            "ANA",
            "--resource",
            "comms-os-0",
            "--clause",
            "1.2.4",
            "--until",
            until,
        ],
        2,
    );
    assert!(
        too_long.stderr.contains("valid_until: a standing grant runs at most 180 days"),
        "{too_long:?}"
    );
    let not_hers = ok(
        d,
        &[
            "personnel",
            "assign",
            "--as",
            "ANA",
            "--person",
            "ANA",
            "--unit",
            "SDD",
            "--order",
            "X",
            "--effective",
            "2030-01-01",
        ],
        1,
    );
    assert!(not_hers.stderr.contains("does not head a unit"), "{not_hers:?}");

    let submitted = ok(
        d,
        &[
            "request",
            "submit",
            "--as",
            "ANA",
            "--resource",
            "comms-os-0",
            "--clause",
            "1.2.4",
            "--kind",
            "just_in_time",
            "--until",
            &in_hours(4),
            "--output",
            "json",
        ],
        0,
    );
    let view: serde_json::Value = serde_json::from_str(&submitted.stdout).unwrap();
    let id = view["id"].as_str().unwrap().to_owned();
    assert_eq!(view["status"], "pending");

    let own = ok(d, &["request", "approve", &id, "--as", "ANA"], 1);
    assert!(own.stderr.contains("nobody approves their own request"), "{own:?}");
    let show = ok(d, &["request", "show", &id], 0);
    assert!(show.stdout.contains("step 1: awaits the head of SMD (CHIEF-SMD)"), "{show:?}");
    ok(d, &["request", "approve", &id, "--as", "CHIEF-SMD"], 0);
    let done = ok(d, &["request", "approve", &id, "--as", "DIR-TMS"], 0);
    assert!(done.stdout.contains(": approved") && done.stdout.contains("grant G-"), "{done:?}");
    let grants = ok(d, &["grants", "list", "--person", "ANA"], 0);
    assert!(grants.stdout.contains("active    comms-os-0 under 1.2.4"), "{grants:?}");
    let inbox = ok(d, &["notifications", "list", "--person", "CHIEF-SMD"], 0);
    assert!(inbox.stdout.contains(&format!("Approve {id}")), "{inbox:?}");

    // A move to SDD suspends the os grant at once and opens a revocation task.
    let moved = ok(
        d,
        &[
            "personnel",
            "assign",
            "--as",
            "DC",
            "--person",
            "ANA",
            "--unit",
            "SDD",
            "--order",
            "CPO-2026-0142",
            "--effective",
            "2026-01-01",
        ],
        0,
    );
    assert!(moved.stdout.contains("CPO-2026-0142: ANA moves from SMD to SDD"), "{moved:?}");
    assert!(
        moved.stdout.contains("suspended G-")
            && moved.stdout.contains("is a duty of SMD, and ANA is in SDD"),
        "{moved:?}"
    );
    let tasks = ok(d, &["tasks", "list"], 0);
    let task = tasks.stdout.split_whitespace().next().unwrap().to_owned();
    ok(d, &["tasks", "done", &task, "--as", "CHIEF-SMD", "--evidence", "ticket OPS-7"], 0);
    assert!(ok(d, &["grants", "list", "--person", "ANA"], 0).stdout.contains("revoked"));
    let expire = ok(d, &["grants", "expire"], 0);
    assert!(expire.stdout.starts_with("expired: 0 requests, 0 grants"), "{expire:?}");
    let verify = ok(d, &["ledger", "verify", "--state"], 0);
    assert!(verify.stdout.contains("replay"), "{verify:?}");
}

pub(crate) fn in_hours(hours: i64) -> String {
    #[allow(clippy::disallowed_methods)]
    // the test needs today's date for a period that is valid now
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
        as i64;
    bantay_core::Timestamp::from_unix_seconds(now + hours * 3600).to_string()
}

#[test]
fn serve_answers_with_the_api_and_its_openapi_document() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["init"], 0);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bantay"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(d)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    BufReader::new(child.stderr.take().unwrap()).read_line(&mut banner).unwrap();
    assert!(
        banner.contains(&format!("at http://127.0.0.1:{port} (the API at /api/v1")),
        "{banner}"
    );
    let get = |path: &str| {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        std::io::Write::write_all(
            &mut stream,
            format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes(),
        )
        .unwrap();
        let mut out = String::new();
        std::io::Read::read_to_string(&mut stream, &mut out).unwrap();
        out
    };
    assert!(get("/healthz").starts_with("HTTP/1.0 200"));
    let doc = get("/api/v1/openapi.json");
    assert!(doc.contains("\"/api/v1/requests/{id}/approve\""), "{doc}");
    let unauthenticated = get("/api/v1/requests");
    assert!(unauthenticated.starts_with("HTTP/1.0 401"), "{unauthenticated}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn the_demo_seeds_atomically_and_bad_records_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["init"], 0);
    let demo = crate::root().join("demo");
    let demo = demo.to_str().unwrap();
    let size = |d: &std::path::Path| -> u64 {
        let head = ok(d, &["ledger", "head", "--output", "json"], 0);
        serde_json::from_str::<serde_json::Value>(&head.stdout).unwrap()["size"].as_u64().unwrap()
    };

    // A snapshot with one bad line: named by file and line, nothing recorded.
    let broken = tempfile::tempdir().unwrap();
    for table in ["persons", "assignments", "resources", "grants"] {
        std::fs::copy(format!("{demo}/{table}.csv"), broken.path().join(format!("{table}.csv")))
            .unwrap();
    }
    let grants = broken.path().join("grants.csv");
    let mut text = std::fs::read_to_string(&grants).unwrap();
    text.push_str("P0000000,cps-os-0,1.2.4,2026-13-01,\n");
    std::fs::write(&grants, text).unwrap();
    let before = size(d);
    let bad = ok(d, &["import", "snapshot", broken.path().to_str().unwrap()], 2);
    assert!(bad.stderr.contains("grants.csv:1365: field `valid_from`"), "{bad:?}");
    assert_eq!(size(d), before);

    let seeded = ok(d, &["demo", "seed", "--dir", demo], 0);
    assert!(
        seeded
            .stdout
            .contains("recorded 150 persons, 159 personnel orders, 200 resources and 1363 grants"),
        "{seeded:?}"
    );
    assert!(seeded.stdout.contains("head of SMD    P0000005"), "{seeded:?}");
    let after = size(d);
    // Again: the records are there already, so the whole batch is refused.
    let again = ok(d, &["demo", "seed", "--dir", demo], 2);
    assert!(again.stderr.contains("already has an assignment"), "{again:?}");
    assert_eq!(size(d), after);
    let request = ok(
        d,
        &[
            "request",
            "submit",
            "--as",
            "P0000010",
            "--resource",
            "cps-os-0",
            "--clause",
            "1.2.4",
            "--kind",
            "just_in_time",
            "--until",
            &in_hours(4),
        ],
        0,
    );
    assert!(request.stdout.contains("step 1: awaits the head of SMD (P0000005)"), "{request:?}");
}

#[test]
fn an_emergency_pass_from_request_to_the_gate_and_offline() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let public = crate::init_ledger(d);
    for (id, unit) in [("DC", Some("MISTG")), ("BEN", Some("SDD")), ("GUARD-1", None)] {
        ok(d, &["personnel", "add", "--id", id, "--name", &format!("{id} Ramos")], 0);
        if let Some(unit) = unit {
            ok(
                d,
                &[
                    "personnel",
                    "assign",
                    "--person",
                    id,
                    "--unit",
                    unit,
                    "--order",
                    "CPO-1",
                    "--effective",
                    "2025-01-01",
                    "--head",
                ],
                0,
            );
        }
    }
    ok(
        d,
        &[
            "roster",
            "add",
            "--guard",
            "GUARD-1",
            "--datacenter",
            "DC-MAIN",
            "--post",
            "POST-MAIN-LOBBY",
            "--from",
            &in_hours(-1),
            "--until",
            &in_hours(30),
        ],
        0,
    );
    let incident = ok(
        d,
        &[
            "incident",
            "open",
            "--as",
            "BEN",
            "--title",
            "CPS DB down",
            "--priority",
            "P1",
            "--owner",
            "BEN",
            "--output",
            "json",
        ],
        0,
    );
    let incident: serde_json::Value = serde_json::from_str(&incident.stdout).unwrap();
    let incident = incident["id"].as_str().unwrap();
    let board = ok(d, &["incident", "list"], 0);
    assert!(
        board.stdout.contains("P1 tier 1 open") && board.stdout.contains("to respond"),
        "{board:?}"
    );

    let long = ok(
        d,
        &[
            "pass",
            "request",
            "--as",
            "BEN",
            "--datacenter",
            "DC-MAIN",
            "--incident",
            incident,
            "--reason",
            "disk",
            "--until",
            &in_hours(6),
        ],
        2,
    );
    assert!(
        long.stderr.contains("until: an emergency visit lasts at most 4 hours under 4.3"),
        "{long:?}"
    );
    let requested = ok(
        d,
        &[
            "pass",
            "request",
            "--as",
            "BEN",
            "--datacenter",
            "DC-MAIN",
            "--incident",
            incident,
            "--reason",
            "replace the failed disk",
            "--until",
            &in_hours(2),
            "--output",
            "json",
        ],
        0,
    );
    let id = serde_json::from_str::<serde_json::Value>(&requested.stdout).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let own = ok(d, &["pass", "approve", &id, "--as", "BEN"], 1);
    assert!(own.stderr.contains("nobody approves their own pass"), "{own:?}");
    let approved = ok(d, &["pass", "approve", &id, "--as", "DC", "--output", "json"], 0);
    let code = serde_json::from_str::<serde_json::Value>(&approved.stdout).unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = ok(d, &["pass", "print", &id], 0);
    assert!(page.stdout.starts_with("<!doctype html>") && page.stdout.contains("<svg"), "{page:?}");

    // Offline: only the public key and the code.
    let elsewhere = tempfile::tempdir().unwrap();
    let valid = ok(elsewhere.path(), &["pass", "verify", "--public-key", &public, &code], 0);
    assert!(
        valid.stdout.starts_with("valid") && valid.stdout.contains("for BEN into DC-MAIN"),
        "{valid:?}"
    );
    let expired = ok(
        elsewhere.path(),
        &["pass", "verify", "--public-key", &public, &code, "--at", &in_hours(3)],
        1,
    );
    assert!(expired.stdout.starts_with("expired"), "{expired:?}");
    // One character of the signature changed (not the last, whose low bits are padding).
    let mut forged: Vec<char> = code.chars().collect();
    let at = forged.len() - 10;
    forged[at] = if forged[at] == 'A' { 'B' } else { 'A' };
    let forged: String = forged.into_iter().collect();
    assert!(ok(elsewhere.path(), &["pass", "verify", "--public-key", &public, &forged], 1)
        .stdout
        .starts_with("forged"));

    let enter = ok(d, &["guard", "enter", "--as", "GUARD-1", "--datacenter", "DC-MAIN", &code], 0);
    assert!(
        enter.stdout.starts_with("VALID") && enter.stdout.contains("logged: entry"),
        "{enter:?}"
    );
    let again = ok(d, &["guard", "enter", "--as", "GUARD-1", "--datacenter", "DC-MAIN", &code], 1);
    assert!(again.stdout.starts_with("ALREADY INSIDE"), "{again:?}");
    ok(d, &["guard", "exit", "--as", "GUARD-1", "--datacenter", "DC-MAIN", &code], 0);
    let log = ok(d, &["guard", "log", "--datacenter", "DC-MAIN"], 0);
    assert_eq!(log.stdout.lines().count(), 3, "{log:?}");
    ok(d, &["ledger", "verify", "--state"], 0);
}

#[test]
fn an_extract_is_certified_and_verified_offline() {
    use sqlx::Connection as _;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let source = runtime
        .block_on(bantay_store::testing::TestDatabase::postgres())
        .unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(async {
        let mut conn = sqlx::PgConnection::connect(&source.url_text()).await.unwrap();
        sqlx::query("CREATE TABLE ports (code text PRIMARY KEY, name text)")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO ports VALUES ('P01', 'Manila'), ('P02', 'Cebu')")
            .execute(&mut conn)
            .await
            .unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let public = crate::init_ledger(d);
    ok(d, &["personnel", "add", "--id", "CARL", "--name", "Carl Reyes"], 0);
    ok(
        d,
        &[
            "personnel",
            "assign",
            "--person",
            "CARL",
            "--unit",
            "TSD",
            "--order",
            "CPO-1",
            "--effective",
            "2025-01-01",
        ],
        0,
    );
    std::fs::write(d.join("ports.csv"), "code,name\nP01,Manila\nP02,Cebu\n").unwrap();
    let query = "SELECT code, name FROM ports ORDER BY code";
    let url = source.url_text();
    let certified = ok(
        d,
        &["certify", "--as", "CARL", "--source", &url, "--query", query, "--extract", "ports.csv"],
        0,
    );
    assert!(certified.stdout.contains("certified ports.csv: 2 rows"), "{certified:?}");
    let elsewhere = tempfile::tempdir().unwrap();
    for name in ["ports.csv", "ports.csv.cert.json"] {
        std::fs::copy(d.join(name), elsewhere.path().join(name)).unwrap();
    }
    let good = ok(
        elsewhere.path(),
        &["verify", "ports.csv.cert.json", "ports.csv", "--public-key", &public],
        0,
    );
    assert!(good.stdout.starts_with("ok: ports.csv holds the 2 rows CARL certified"), "{good:?}");
    std::fs::write(elsewhere.path().join("ports.csv"), "code,name\nP01,Manila\nP02,Cebu City\n")
        .unwrap();
    let bad = ok(
        elsewhere.path(),
        &["verify", "ports.csv.cert.json", "ports.csv", "--public-key", &public],
        1,
    );
    assert!(bad.stdout.contains("not certified: the file is not the certified extract"), "{bad:?}");
    let mismatch = ok(
        d,
        &[
            "certify",
            "--as",
            "CARL",
            "--source",
            &url,
            "--query",
            query,
            "--extract",
            "../nope.csv",
        ],
        2,
    );
    assert!(mismatch.stderr.contains("extract"), "{mismatch:?}");
}

/// 4.5 through the binary: document `oracle`, read a log in which a person switched to
/// it (exit 1: findings opened), see the finding with its line, acknowledge it; a
/// missing log and a bad origin exit 2 naming the file and the field.
#[test]
fn system_accounts_logs_and_findings_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    crate::init_ledger(d);
    let document = [
        "accounts",
        "document",
        "--host",
        "cps-db1",
        "--account",
        "oracle",
        "--system",
        "CPS",
        "--purpose",
        "runs the CPS database",
        "--custodian",
        "SDD",
        "--usage",
        "service",
        "--origin",
        "10.20.1.0/24,cps-app1",
    ];
    ok(d, &document, 0);
    let bad = ok(d, &[&document[..14], &["--origin", "10.20.1.0/99"]].concat(), 2);
    assert!(bad.stderr.contains("origins"), "{bad:?}");
    let listed = ok(d, &["accounts", "list"], 0);
    assert!(listed.stdout.contains("oracle@cps-db1  CPS  custodian SDD  service"), "{listed:?}");

    std::fs::write(
        d.join("auth.log"),
        "Dec  1 07:11:00 cps-db1 sudo[102]:  ana : TTY=pts/0 ; PWD=/home/ana ; USER=oracle ; COMMAND=/bin/bash\n\
         Dec  1 07:12:00 cps-db1 sshd[103]: Accepted publickey for oracle from 10.20.1.15 port 5000 ssh2\n",
    )
    .unwrap();
    let ingested = ok(d, &["logs", "ingest", "auth.log", "--year", "2026"], 1);
    assert!(
        ingested.stdout.contains("2 lines, 2 authentications (0 failed), 0 of no known format"),
        "{ingested:?}"
    );
    assert!(ingested.stdout.contains("1 findings opened, 0 already on record"), "{ingested:?}");
    let again = ok(d, &["logs", "ingest", "auth.log", "--year", "2026"], 0);
    assert!(again.stdout.contains("0 findings opened, 1 already on record"), "{again:?}");
    let missing = ok(d, &["logs", "ingest", "nope.log"], 2);
    assert!(missing.stderr.contains("nope.log"), "{missing:?}");

    let findings = ok(d, &["findings", "list", "--output", "json"], 0);
    let findings: serde_json::Value = serde_json::from_str(&findings.stdout).unwrap();
    let id = findings[0]["id"].as_str().unwrap();
    assert_eq!(findings[0]["evidence"], "auth.log:1: Dec  1 07:11:00 cps-db1 sudo[102]:  ana : TTY=pts/0 ; PWD=/home/ana ; USER=oracle ; COMMAND=/bin/bash");
    let acknowledged = ok(
        d,
        &["findings", "acknowledge", id, "--note", "SDD rotates the password", "--as", "CHIEF-SDD"],
        0,
    );
    assert!(acknowledged.stdout.contains("is acknowledged"), "{acknowledged:?}");
    ok(d, &["findings", "reopen", id, "--note", "too early"], 1);
    let open = ok(d, &["findings", "list", "--status", "open"], 0);
    assert!(open.stdout.trim().is_empty(), "{open:?}");
}

/// A copy of a host's /etc imported through the binary: sudoers' absolute includes are
/// read from the copy, the findings exit 1 and a second import 0, a sudoers error exits
/// 2 naming the included file and line, and linking an account closes its finding.
#[test]
fn a_hosts_accounts_are_imported_linked_and_refused_when_broken() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    crate::init_ledger(d);
    ok(
        d,
        &[
            "resources",
            "add",
            "--id",
            "cps-os-1",
            "--kind",
            "host",
            "--class",
            "os",
            "--system",
            "CPS",
        ],
        0,
    );
    ok(d, &["personnel", "add", "--id", "CARL", "--name", "Carl Reyes"], 0);
    let etc = d.join("cps-host1-etc");
    std::fs::create_dir_all(etc.join("sudoers.d")).unwrap();
    std::fs::write(
        etc.join("passwd"),
        "root:x:0:0:root:/root:/bin/bash\nops1:x:1001:1001::/home/ops1:/bin/bash\n",
    )
    .unwrap();
    std::fs::write(etc.join("group"), "root:x:0:\nwheel:x:10:ops1\n").unwrap();
    std::fs::write(etc.join("sudoers"), "Defaults env_reset\n@includedir /etc/sudoers.d\n")
        .unwrap();
    std::fs::write(etc.join("sudoers.d/admins"), "%wheel ALL = (ALL) ALL\n").unwrap();
    let import = [
        "import",
        "linux",
        "--source",
        "cps-host1",
        "--resource",
        "cps-os-1",
        "--etc",
        "cps-host1-etc",
    ];

    let first = ok(d, &import, 1);
    assert!(
        first.stdout.contains(
            "cps-host1: 2 privileged accounts (2 with full control) recorded as cps-os-1"
        ),
        "{first:?}"
    );
    assert!(
        first.stdout.contains("2 findings opened, 0 already on record, 0 remediated"),
        "{first:?}"
    );
    ok(d, &import, 0);
    let held = ok(d, &["accounts", "held"], 0);
    assert!(
        held.stdout.contains("ops1@cps-host1  cps-os-1  full control  linked to nobody"),
        "{held:?}"
    );
    assert!(held.stdout.contains("sudo ALL as root (/etc/sudoers.d/admins:1)"), "{held:?}");

    std::fs::write(etc.join("sudoers.d/late"), "# added\nops1 ALL = (root\n").unwrap();
    let broken = ok(d, &import, 2);
    assert!(
        broken.stderr.contains("/etc/sudoers.d/late:2: expected `)` closing the runas list"),
        "{broken:?}"
    );
    std::fs::remove_file(etc.join("sudoers.d/late")).unwrap();

    let linked = ok(
        d,
        &[
            "accounts",
            "link",
            "--source",
            "cps-host1",
            "--account",
            "ops1",
            "--person",
            "CARL",
            "--note",
            "per the SMD roster",
        ],
        1,
    );
    assert!(
        linked.stdout.contains("linked ops1@cps-host1 to CARL; 1 findings opened"),
        "{linked:?}"
    );
    let findings = ok(d, &["findings", "list", "--status", "remediated"], 0);
    assert!(findings.stdout.contains("ops1@cps-host1"), "{findings:?}");
    let missing = ok(
        d,
        &["import", "linux", "--source", "x", "--resource", "cps-os-1", "--etc", "nowhere"],
        2,
    );
    assert!(missing.stderr.contains("nowhere/passwd"), "{missing:?}");
}

/// `bantay serve` logs sign-ins, refusals and every response at `BANTAY_LOG=trace`, and
/// none of its lines carries a password, a session secret or an API token.
#[test]
fn serve_logs_what_happens_and_never_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["init"], 0);
    ok(d, &["personnel", "add", "--id", "ANA", "--name", "Ana Reyes"], 0);
    let password = "correct horse battery staple";
    let wrong = "incorrect mule battery stapler";
    let set =
        crate::bantay_with(d, &["users", "password", "ANA"], &[("BANTAY_PASSWORD", password)]);
    assert_eq!(set.code, 0, "{set:?}");
    let issued = ok(d, &["tokens", "issue", "--person", "ANA"], 0);
    let token =
        issued.stdout.split_whitespace().find(|w| w.starts_with("bty_")).unwrap().to_owned();

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bantay"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("BANTAY_LOG", "trace")
        .current_dir(d)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut banner = String::new();
    while !banner.contains("bantay serves") {
        stderr.read_line(&mut banner).unwrap();
    }
    let http = |request: String| {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        std::io::Write::write_all(&mut stream, request.as_bytes()).unwrap();
        let mut out = String::new();
        std::io::Read::read_to_string(&mut stream, &mut out).unwrap();
        out
    };
    let sign_in = |password: &str| {
        let body = format!("login=ANA&password={}&code=", password.replace(' ', "+"));
        http(format!(
            "POST /signin HTTP/1.0\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ))
    };
    assert!(sign_in(wrong).starts_with("HTTP/1.0 401"));
    let signed_in = sign_in(password);
    let secret = signed_in
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: bantay_session="))
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("no session cookie: {signed_in}"))
        .to_owned();
    let page =
        http(format!("GET / HTTP/1.0\r\nHost: x\r\nCookie: bantay_session={secret}\r\n\r\n"));
    assert!(page.contains("Good day, Ana Reyes"), "{page}");
    let api = http(format!(
        "GET /api/v1/requests HTTP/1.0\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
    ));
    assert!(api.starts_with("HTTP/1.0 200"), "{api}");
    child.kill().unwrap();
    child.wait().unwrap();
    let mut log = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut log).unwrap();

    for line in ["sign-in refused", "signed in", "route=\"/api/v1/requests\" status=200"] {
        assert!(log.contains(line), "the log has `{line}`:\n{log}");
    }
    for (what, secret) in [
        ("password", password),
        ("wrong password", wrong),
        ("session secret", &secret),
        ("token", &token),
    ] {
        assert!(!log.contains(secret), "the log carries the {what}:\n{log}");
    }
    let plus = password.replace(' ', "+");
    assert!(!log.contains(&plus), "the log carries the form-encoded password:\n{log}");
}
