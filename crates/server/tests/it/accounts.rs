//! 4.5 in use: the system-account registry, authentication logs read against it, the
//! findings they open with their lines as evidence, and each finding's lifecycle.

use bantay_core::SystemAccount;
use bantay_server::{Actor, FindingStep, ServiceError};

use crate::{on_both_backends, World};

pub(crate) fn oracle() -> SystemAccount {
    SystemAccount {
        host: "cps-db1".into(),
        account: "oracle".into(),
        system: "CPS".into(),
        purpose: "owns the CPS database files and runs its listener".into(),
        custodian: "SDD".into(),
        usage: "service".into(),
        origins: vec!["10.20.1.0/24".into()],
    }
}

/// A day on cps-db1: a program's key login from the application network (documented), a
/// person's `sudo -i` and `su` into `oracle`, an SSH login to it from a workstation, a
/// failed attempt, the same person's own login, and lines of no known format.
pub(crate) const LOG: &str = "\
Dec  1 07:00:01 cps-db1 sshd[100]: Accepted publickey for oracle from 10.20.1.15 port 50000 ssh2: RSA SHA256:abc
Dec  1 07:10:00 cps-db1 sshd[101]: Accepted password for ana from 10.30.7.7 port 50001 ssh2
Dec  1 07:11:00 cps-db1 sudo[102]:  ana : TTY=pts/0 ; PWD=/home/ana ; USER=oracle ; COMMAND=/bin/bash
Dec  1 07:20:00 cps-db1 su[103]: (to oracle) ben on pts/1
Dec  1 07:30:00 cps-db1 sshd[104]: Accepted password for oracle from 10.30.7.8 port 50002 ssh2
Dec  1 07:31:00 cps-db1 sshd[105]: Failed password for oracle from 10.30.7.9 port 50003 ssh2
this line is in no format Bantay reads
Dec  1 07:40:00 cps-db1 sudo[106]:  ana : TTY=pts/0 ; PWD=/ ; USER=oracle ; COMMAND=/usr/bin/lsnrctl status
";

on_both_backends! {
    async fn interactive_use_of_a_system_account_is_found_with_its_line(backend) {
        let w = World::bureau(backend).await;
        let op = w.operator();
        w.service.document_account(&op, &oracle()).await.unwrap();

        let context = w.service.log_context();
        let size = w.size().await;
        let ingested = w.service.ingest_log(&op, "auth.log", LOG.as_bytes(), &context).await.unwrap();
        assert_eq!((ingested.tally.lines, ingested.tally.events, ingested.tally.unknown), (8, 7, 1));
        assert_eq!(ingested.opened.len(), 3, "{ingested:?}");
        assert_eq!(w.kinds_since(size).await, ["finding.opened", "finding.opened", "finding.opened", "authlog.ingested"]);

        let mut findings = w.service.findings(&Actor::system("test"), "cli").await.unwrap();
        findings.sort_by(|a, b| a.evidence.cmp(&b.evidence));
        let evidence: Vec<&str> = findings.iter().map(|f| f.evidence.as_str()).collect();
        assert_eq!(evidence, [
            "auth.log:3: Dec  1 07:11:00 cps-db1 sudo[102]:  ana : TTY=pts/0 ; PWD=/home/ana ; USER=oracle ; COMMAND=/bin/bash",
            "auth.log:4: Dec  1 07:20:00 cps-db1 su[103]: (to oracle) ben on pts/1",
            "auth.log:5: Dec  1 07:30:00 cps-db1 sshd[104]: Accepted password for oracle from 10.30.7.8 port 50002 ssh2",
        ]);
        assert!(findings.iter().all(|f| f.clause == "4.5" && f.subject == "oracle@cps-db1" && f.status == "open"));
        assert_eq!(findings[0].summary, "`ana` used system account `oracle` on cps-db1 interactively (sudo from pts/0)");
        assert_eq!(findings[2].summary, "someone used system account `oracle` on cps-db1 interactively (ssh from 10.30.7.8)");

        // The ingest is on record with the hash of exactly what was read.
        let events = w.events().await;
        let last = &events.iter().rfind(|e| e["kind"] == "authlog.ingested").unwrap()["body"];
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(LOG.as_bytes()));
        assert_eq!((last["sha256"].as_str(), last["unknown"].as_u64()), (Some(sha.as_str()), Some(1)));

        // Reading the same log again opens nothing twice.
        let again = w.service.ingest_log(&op, "auth.log", LOG.as_bytes(), &context).await.unwrap();
        assert_eq!((again.opened.len(), again.known), (0, 3));
    }

    async fn a_finding_is_acknowledged_remediated_and_reopened_on_the_ledger(backend) {
        let w = World::bureau(backend).await;
        let op = w.operator();
        w.service.document_account(&op, &oracle()).await.unwrap();
        let context = w.service.log_context();
        let ingested = w.service.ingest_log(&op, "auth.log", LOG.as_bytes(), &context).await.unwrap();
        let id = &ingested.opened[0];
        let chief = bantay_server::Actor::person("CHIEF-SDD");

        let refused = w.service.finding_step(&chief, id, FindingStep::Reopened, "again").await;
        assert!(matches!(refused, Err(ServiceError::Refused(ref m)) if m.contains("only when remediated")), "{refused:?}");
        let empty = w.service.finding_step(&chief, id, FindingStep::Acknowledged, " ").await;
        assert!(matches!(empty, Err(ServiceError::BadInput { ref field, .. }) if field == "note"), "{empty:?}");

        let size = w.size().await;
        for (step, note, status) in [
            (FindingStep::Acknowledged, "SDD will rotate the oracle password", "acknowledged"),
            (FindingStep::Remediated, "password rotated; ana's sudo rule for oracle removed", "remediated"),
            (FindingStep::Reopened, "ana used it again on 3 December", "reopened"),
        ] {
            let f = w.service.finding_step(&chief, id, step, note).await.unwrap();
            assert_eq!(f.status, status);
        }
        let events = w.events().await;
        let steps: Vec<(&str, &str, &str)> = events[size..]
            .iter()
            .map(|e| (e["actor"].as_str().unwrap(), e["body"]["status"].as_str().unwrap(), e["body"]["note"].as_str().unwrap()))
            .collect();
        assert_eq!(steps[0], ("CHIEF-SDD", "acknowledged", "SDD will rotate the oracle password"));
        assert_eq!(steps.len(), 3);
        let missing = w.service.finding_step(&chief, "F-none", FindingStep::Remediated, "x").await;
        assert!(matches!(missing, Err(ServiceError::NotFound { .. })));
    }

    async fn the_registry_refuses_what_it_cannot_use(backend) {
        let w = World::bureau(backend).await;
        let op = w.operator();
        let size = w.size().await;
        for (account, field) in [
            (SystemAccount { custodian: "NOPE".into(), ..oracle() }, "custodian"),
            (SystemAccount { origins: vec!["10.0.0.0/40".into()], ..oracle() }, "origins"),
            (SystemAccount { purpose: " ".into(), ..oracle() }, "purpose"),
        ] {
            let e = w.service.document_account(&op, &account).await.unwrap_err();
            assert!(matches!(e, ServiceError::BadInput { field: ref f, .. } if f == field), "{e:?}");
        }
        assert_eq!(w.size().await, size, "nothing recorded");

        // Documenting again replaces the record.
        w.service.document_account(&op, &oracle()).await.unwrap();
        let moved = SystemAccount { origins: vec!["10.20.2.0/24".into()], ..oracle() };
        w.service.document_account(&op, &moved).await.unwrap();
        assert_eq!(w.service.system_accounts().await.unwrap(), [moved]);
        w.service.withdraw_account(&op, "cps-db1", "oracle", "database moved to cps-db2").await.unwrap();
        assert!(w.service.system_accounts().await.unwrap().is_empty());
        let again = w.service.withdraw_account(&op, "cps-db1", "oracle", "twice").await;
        assert!(matches!(again, Err(ServiceError::NotFound { .. })));
    }
}

/// Syslog from a real sender: util-linux `logger`, once over UDP in RFC 5424 and once over
/// TCP in RFC 3164 with octet counting, each carrying an interactive use of `oracle`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syslog_from_logger_over_udp_and_tcp_opens_findings() {
    let w = World::bureau(crate::Backend::Sqlite).await;
    let op = w.operator();
    let anywhere = SystemAccount { host: "*".into(), ..oracle() };
    w.service.document_account(&op, &anywhere).await.unwrap();
    let local = "127.0.0.1:0".parse().ok();
    let bound = bantay_server::receive_syslog(
        w.service.clone(),
        local,
        local,
        std::time::Duration::from_millis(100),
    )
    .await
    .unwrap();
    let send = |args: &[&str], port: u16, message: &str| {
        let status = std::process::Command::new("logger")
            .args(args)
            .args(["--server", "127.0.0.1", "--port", &port.to_string()])
            .arg(message)
            .status()
            .unwrap_or_else(|e| panic!("`logger` (util-linux, bsdutils) is needed: {e}"));
        assert!(status.success());
    };
    send(
        &["--udp", "--rfc5424", "-t", "sshd", "--id=4242"],
        bound.udp.unwrap().port(),
        "Accepted password for oracle from 10.30.7.8 port 50002 ssh2",
    );
    send(
        &["--tcp", "--rfc3164", "--octet-count", "-t", "su", "--id=4243"],
        bound.tcp.unwrap().port(),
        "(to oracle) ben on pts/1",
    );

    let mut findings = Vec::new();
    for _ in 0..100 {
        findings = w.service.findings(&Actor::system("test"), "cli").await.unwrap();
        if findings.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut summaries: Vec<&str> = findings.iter().map(|f| f.summary.as_str()).collect();
    summaries.sort();
    assert_eq!(summaries.len(), 2, "{findings:?}");
    assert!(summaries[0].starts_with("`ben` used system account `oracle` on "), "{summaries:?}");
    assert!(
        summaries[1].starts_with("someone used system account `oracle` on ")
            && summaries[1].ends_with("interactively (ssh from 10.30.7.8)"),
        "{summaries:?}"
    );
    assert!(findings.iter().all(|f| f.evidence.starts_with("syslog:")), "{findings:?}");
}

/// Waits (up to 10 s) until `n` findings are on record, and gives their evidence sorted.
async fn evidence_when(w: &World, n: usize) -> Vec<String> {
    let mut findings = Vec::new();
    for _ in 0..200 {
        findings = w.service.findings(&Actor::system("test"), "cli").await.unwrap();
        if findings.len() >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mut evidence: Vec<String> = findings.into_iter().map(|f| f.evidence).collect();
    evidence.sort();
    assert_eq!(evidence.len(), n, "{evidence:#?}");
    evidence
}

/// A followed log: lines appended are read with their line numbers in the file, a line
/// still being written waits for its line feed, a rotated file is read to its end and the
/// new one from its first line, and a truncated file from its start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_followed_log_is_read_as_it_grows_through_rotation_and_truncation() {
    use std::io::Write as _;
    let w = World::bureau(crate::Backend::Sqlite).await;
    w.service.document_account(&w.operator(), &oracle()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auth.log");
    let append = |text: &str| {
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path).unwrap();
        f.write_all(text.as_bytes()).unwrap();
    };
    let su = |n: u32| format!("Dec  1 07:2{n}:00 cps-db1 su[10{n}]: (to oracle) ben on pts/{n}\n");
    let quiet =
        "Dec  1 07:00:00 cps-db1 CRON[1]: pam_unix(cron:session): session closed for user root\n";
    let handle = bantay_server::follow_file(
        w.service.clone(),
        path.clone(),
        std::time::Duration::from_millis(50),
    );
    append(&format!("{quiet}{quiet}{}", su(1)));
    let name = path.display().to_string();
    let first = evidence_when(&w, 1).await;
    assert!(first[0].starts_with(&format!("{name}:3: ")), "{first:?}");

    // Half a line, then the rest.
    let line = su(2);
    append(&line[..20]);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        w.service.findings(&Actor::system("test"), "cli").await.unwrap().len(),
        1,
        "not before its line feed"
    );
    append(&line[20..]);
    let second = evidence_when(&w, 2).await;
    assert!(second[1].starts_with(&format!("{name}:4: ")), "{second:?}");

    // Rotation: a last line lands in the old file after the rename, then a new file.
    std::fs::rename(&path, dir.path().join("auth.log.1")).unwrap();
    let mut old =
        std::fs::OpenOptions::new().append(true).open(dir.path().join("auth.log.1")).unwrap();
    old.write_all(su(3).as_bytes()).unwrap();
    drop(old);
    append(&su(4));
    let rotated = evidence_when(&w, 4).await;
    assert!(
        rotated.iter().any(|e| e.starts_with(&format!("{name}:5: ")) && e.contains("pts/3")),
        "{rotated:#?}"
    );
    assert!(
        rotated.iter().any(|e| e.starts_with(&format!("{name}:1: ")) && e.contains("pts/4")),
        "{rotated:#?}"
    );

    // Truncation: read again from the start.
    std::fs::write(&path, "").unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    append(&format!("{quiet}{}", su(5)));
    let truncated = evidence_when(&w, 5).await;
    assert!(
        truncated.iter().any(|e| e.starts_with(&format!("{name}:2: ")) && e.contains("pts/5")),
        "{truncated:#?}"
    );
    handle.abort();
}
