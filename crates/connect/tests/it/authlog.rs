//! Authentication logs against lines nobody on this project wrote: fail2ban's regression
//! logs (with fail2ban's expected host and user for each), pgbadger's PostgreSQL logs,
//! and lines in the documented formats of sudo, su, login, the audit log and Windows.

use bantay_connect::authlog::{read_line, AuthEvent, LogContext, LogTally, Reading, Service};
use bantay_core::{Timestamp, MANILA_OFFSET_SECONDS};

fn context(year: i64) -> LogContext {
    LogContext::in_year(year, MANILA_OFFSET_SECONDS)
}

fn event(line: &str) -> AuthEvent<'_> {
    match read_line(line.as_bytes(), &context(2026)) {
        Reading::Event(e) => e,
        other => panic!("{line}\n  read as {other:?}, not as an event"),
    }
}

/// Messages with no account in them: connection-level trouble that fail2ban counts but
/// that is no use of an account.
const NOT_AN_ACCOUNT: [&str; 15] = [
    "Too many authentication failures [preauth]",
    "Did not receive identification string",
    "Bad protocol version identification",
    "Unable to negotiate",
    "no matching",
    "kex_exchange_identification",
    "banner exchange",
    "ssh_dispatch_run_fatal",
    "Received disconnect from",
    "Timeout before authentication",
    "refused connect from",
    "Connection closed by",
    "Connection reset by",
    "Disconnected from",
    "POSSIBLE BREAK-IN ATTEMPT",
];

/// Every line fail2ban says is an attack (`"match": true`) is read as a failed use of an
/// account, from the host fail2ban names and by the user it names; or it has no account
/// in it. No line fail2ban leaves alone is read as a failure.
#[test]
fn fail2ban_lines_give_the_host_and_user_fail2ban_expects() {
    let mut problems = Vec::new();
    let mut failures = 0;
    for name in [
        "fail2ban-sshd.log",
        "fail2ban-sshd-journal.log",
        "fail2ban-pam-generic.log",
        "fail2ban-selinux-ssh.log",
    ] {
        let text = std::fs::read_to_string(crate::fixtures().join("authlog").join(name)).unwrap();
        let mut expected: Option<serde_json::Value> = None;
        for (n, line) in text.lines().enumerate() {
            if let Some(json) = line.strip_prefix("# failJSON:") {
                expected = Some(serde_json::from_str(json.trim()).unwrap());
                continue;
            }
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let Some(expect) = expected.take() else { continue };
            let at = format!("{name}:{}", n + 1);
            let reading = read_line(line.as_bytes(), &context(2005));
            let matched = expect["match"] == true;
            match (&reading, matched) {
                (Reading::Event(e), true) if !e.success => {
                    failures += 1;
                    let host = expect["host"].as_str().unwrap_or("");
                    // Some lines carry no address: fail2ban takes it from an earlier line.
                    let stated = line.contains(host);
                    if e.source.as_deref() != Some(host) && !host.is_empty() && stated {
                        problems.push(format!(
                            "{at}: source {:?}, fail2ban says {host}\n  {line}",
                            e.source
                        ));
                    }
                    if let Some(user) = expect["user"].as_str() {
                        if e.account != user {
                            problems.push(format!(
                                "{at}: account {:?}, fail2ban says {user}\n  {line}",
                                e.account
                            ));
                        }
                    }
                    if let (Some(time), Some(t)) = (expect["time"].as_str(), e.time) {
                        // The syslog lines carry no zone: compare the clock reading.
                        let local = t.manila().to_string().replace(' ', "T")[..19].to_owned();
                        if line.as_bytes()[0].is_ascii_alphabetic()
                            && !line.starts_with("type=")
                            && local[5..] != time[5..]
                        {
                            problems.push(format!("{at}: time {local}, fail2ban says {time}"));
                        }
                    }
                }
                (Reading::Other, true) if NOT_AN_ACCOUNT.iter().any(|p| line.contains(p)) => {}
                // fail2ban also matches an `Accepted` line after failures of the session.
                (Reading::Event(e), true) if e.success && line.contains("Accepted") => {}
                // fail2ban's verdicts on single lines also depend on the lines before (its
                // filters count attempts per session): lines it leaves alone are only read.
                (_, false) => {}
                (reading, _) => problems
                    .push(format!("{at}: fail2ban match {matched}, read {reading:?}\n  {line}")),
            }
        }
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    // The match arms above already demand an event for every attack line with an account;
    // this guards against the fixtures going missing or being cut short.
    assert!(failures > 100, "only {failures} failed logins read");
}

#[test]
fn openssh_logins_say_who_from_where_and_how() {
    let e = event("Nov 30 09:15:02 cps-db1 sshd-session[1571]: Accepted publickey for oracle from 10.20.1.15 port 56502 ssh2: RSA SHA256:Yd3V1pKlq");
    assert_eq!(
        (e.service, e.account.as_ref(), e.source.as_deref()),
        (Service::Ssh, "oracle", Some("10.20.1.15"))
    );
    assert_eq!(
        (e.method.as_ref(), e.interactive, e.success, e.host.as_ref()),
        ("publickey", true, true, "cps-db1")
    );
    assert_eq!(e.time, Some(Timestamp::parse("2026-11-30T09:15:02").unwrap()));

    // RFC 5424 with structured data, as rsyslog forwards it.
    let e = event(
        r#"<38>1 2026-11-30T01:15:02.954167Z cps-db1 sshd 57915 - [timeQuality tzKnown="1"] Failed password for invalid user scanner from ::ffff:203.0.113.9 port 59197 ssh2"#,
    );
    assert_eq!(
        (e.account.as_ref(), e.source.as_deref(), e.success),
        ("scanner", Some("203.0.113.9"), false)
    );
    assert_eq!(e.time, Some(Timestamp::parse("2026-11-30T01:15:02Z").unwrap()));

    // rsyslog's ISO 8601 file format, and the journal's short form.
    let e = event("2026-11-30T09:15:02.123456+08:00 erp-app1 sshd[88]: Accepted password for jdelacruz from 10.20.4.7 port 40022 ssh2");
    assert_eq!((e.account.as_ref(), e.method.as_ref()), ("jdelacruz", "password"));
    let e = event("erp-app1 sshd[88]: Accepted keyboard-interactive/pam for jdelacruz from 10.20.4.7 port 40022 ssh2");
    assert_eq!((e.time, e.method.as_ref()), (None, "keyboard-interactive/pam"));
}

#[test]
fn sudo_su_and_login_name_the_target_account_and_who_asked() {
    let e = event("Nov 30 10:01:00 cps-db1 sudo:  jdelacruz : TTY=pts/0 ; PWD=/home/jdelacruz ; USER=oracle ; COMMAND=/bin/bash");
    assert_eq!(
        (e.service, e.account.as_ref(), e.by.as_deref()),
        (Service::Sudo, "oracle", Some("jdelacruz"))
    );
    assert_eq!((e.interactive, e.success, e.source.as_deref()), (true, true, Some("pts/0")));

    let e = event("Nov 30 10:02:00 cps-db1 sudo[4242]: jdelacruz : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/usr/bin/systemctl restart postgresql ; echo done");
    assert_eq!((e.account.as_ref(), e.interactive), ("root", false));
    assert_eq!(e.command.as_deref(), Some("/usr/bin/systemctl restart postgresql ; echo done"));
    let e = event("Nov 30 10:02:00 cps-db1 sudo[4242]: jdelacruz : TTY=pts/0 ; PWD=/ ; USER=oracle ; COMMAND=/bin/sh -c id");
    assert!(!e.interactive, "a shell with -c runs one command");

    let e = event("Nov 30 10:03:00 cps-db1 sudo[4243]: mreyes : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/home/mreyes ; USER=root ; COMMAND=/usr/bin/su -");
    assert_eq!((e.by.as_deref(), e.success, e.interactive), (Some("mreyes"), false, true));

    let e = event("Nov 30 10:04:00 cps-db1 su[5000]: (to oracle) jdelacruz on pts/0");
    assert_eq!(
        (e.service, e.account.as_ref(), e.by.as_deref(), e.success),
        (Service::Su, "oracle", Some("jdelacruz"), true)
    );
    let e = event("Nov 30 10:04:05 cps-db1 su[5001]: FAILED SU (to root) jdelacruz on pts/0");
    assert!(!e.success);
    let e = event("Nov 30 10:04:09 cps-db1 su: Successful su for root by mreyes");
    assert_eq!((e.account.as_ref(), e.by.as_deref()), ("root", Some("mreyes")));

    let e = event("Nov 30 10:05:00 cps-db1 login[777]: pam_unix(login:session): session opened for user root(uid=0) by LOGIN(uid=0)");
    assert_eq!(
        (e.service, e.account.as_ref(), e.method.as_ref(), e.interactive, e.by),
        (Service::Login, "root", "console", true, None)
    );
    let e = event("Nov 30 10:05:30 cps-db1 login[778]: FAILED LOGIN (1) on '/dev/tty1' FOR 'oracle', Authentication failure");
    assert_eq!(
        (e.account.as_ref(), e.source.as_deref(), e.success),
        ("oracle", Some("tty1"), false)
    );

    // A cron session is not a person at a keyboard; sshd's own session line is left to
    // sshd's `Accepted` line.
    let e = event("Nov 30 10:06:00 cps-db1 CRON[901]: pam_unix(cron:session): session opened for user oracle(uid=1001) by (uid=0)");
    assert_eq!((e.service, e.interactive), (Service::Pam, false));
    let line = "Nov 30 10:06:00 cps-db1 sshd[902]: pam_unix(sshd:session): session opened for user oracle(uid=1001) by (uid=0)";
    assert_eq!(read_line(line.as_bytes(), &context(2026)), Reading::Other);
}

/// pgbadger's logs: every `connection authorized` line is a successful connection of the
/// user it names, in each of the formats.
#[test]
fn postgresql_connections_from_every_log_format() {
    let dir = crate::fixtures().join("postgres");
    type Unpack = fn(&[u8]) -> Vec<u8>;
    let files: [(&str, Unpack); 5] = [
        ("light.postgres.log.bz2", bunzip),
        ("pg-syslog.1.bz2", bunzip),
        ("pg-syslog.2.gz", gunzip),
        ("cloudsql.log.gz", gunzip),
        ("cnpg.log.gz", gunzip),
    ];
    let mut connections = 0;
    for (name, unpack) in files {
        let bytes = unpack(&std::fs::read(dir.join(name)).unwrap());
        let mut tally = LogTally::default();
        let mut authorized = 0;
        for line in bytes.split(|&b| b == b'\n') {
            let reading = read_line(line, &context(2026));
            tally.add(&reading);
            let text = String::from_utf8_lossy(line);
            if let Some(rest) = text.split("connection authorized: user=").nth(1) {
                authorized += 1;
                let user = rest.split([' ', '"', '\\']).next().unwrap();
                match &reading {
                    Reading::Event(e) => {
                        assert_eq!(
                            (e.service, e.account.as_ref(), e.success),
                            (Service::Postgres, user, true),
                            "{name}: {text}"
                        );
                        assert!(e.time.is_some(), "{name}: no time in {text}");
                    }
                    other => panic!("{name}: {text}\n  read as {other:?}"),
                }
            }
        }
        assert_eq!(tally.events - tally.failures, authorized, "{name}: {tally:?}");
        assert_eq!(tally.unknown, 0, "{name}: {tally:?}");
        connections += authorized;
    }
    assert!(connections > 50, "only {connections} connection lines");
}

fn bunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut bzip2::read::MultiBzDecoder::new(bytes), &mut out).unwrap();
    out
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(bytes), &mut out).unwrap();
    out
}

#[test]
fn postgresql_stderr_csvlog_and_refusals() {
    let e = event("2026-11-30 01:02:03.456 UTC [4242] user=cps_owner,db=cps,app=psql,client=10.20.1.15 LOG:  connection authorized: user=cps_owner database=cps application_name=psql");
    assert_eq!(
        (e.account.as_ref(), e.source.as_deref(), e.interactive),
        ("cps_owner", Some("10.20.1.15"), true)
    );
    assert_eq!(e.time, Some(Timestamp::parse("2026-11-30T01:02:03Z").unwrap()));
    let e = event("2026-11-30 09:02:03 PST [4243] user=etl,db=cps,app=loader,client=10.20.9.9 LOG:  connection authorized: user=etl database=cps application_name=loader");
    assert!(!e.interactive, "a loader is a program");
    let e = event(
        r#"2026-11-30 01:02:04 UTC [4244] user=cps_owner,db=cps,app=[unknown],client=10.9.9.9 FATAL:  password authentication failed for user "cps_owner""#,
    );
    assert_eq!(
        (e.account.as_ref(), e.method.as_ref(), e.success),
        ("cps_owner", "password", false)
    );
    let e = event(
        r#"2026-11-30 01:02:05 UTC [4245] user=x,db=y,app=[unknown],client=[unknown] FATAL:  no pg_hba.conf entry for host "203.0.113.7", user "postgres", database "cps", no encryption"#,
    );
    assert_eq!((e.account.as_ref(), e.source.as_deref()), ("postgres", Some("203.0.113.7")));

    // csvlog's columns, as PostgreSQL 16 writes them (the documentation's order).
    let e = event(
        r#"2026-11-30 01:02:06.789 UTC,"cps_owner","cps",4246,"10.20.1.15:51234",6748a1b2.1096,1,"authentication",2026-11-30 01:02:06 UTC,3/12,0,LOG,00000,"connection authorized: user=cps_owner database=cps application_name=psql",,,,,,,,,"","client backend",,0"#,
    );
    assert_eq!(
        (e.account.as_ref(), e.source.as_deref(), e.interactive),
        ("cps_owner", Some("10.20.1.15"), true)
    );
    let line = r#"2026-11-30 01:02:07.000 UTC,"cps_owner","cps",4246,"10.20.1.15:51234",6748a1b2.1096,2,"SELECT",2026-11-30 01:02:06 UTC,3/13,0,LOG,00000,"duration: 0.1 ms",,,,,,,,,"psql","client backend",,0"#;
    assert_eq!(read_line(line.as_bytes(), &context(2026)), Reading::Other);
}

#[test]
fn windows_logons_and_the_audit_log() {
    let e = event(
        r##"{"Event":{"#attributes":{"xmlns":"http://schemas.microsoft.com/win/2004/08/events/event"},"System":{"EventID":4624,"TimeCreated":{"#attributes":{"SystemTime":"2026-11-30T01:00:00.123456Z"}},"Computer":"ERP-DC1.customs.gov.ph","Channel":"Security"},"EventData":{"SubjectUserName":"ERP-DC1$","TargetUserName":"svc_erp","TargetDomainName":"CUSTOMS","LogonType":10,"IpAddress":"10.20.4.7","WorkstationName":"PC-ICT-07"}}}"##,
    );
    assert_eq!(
        (e.service, e.account.as_ref(), e.source.as_deref()),
        (Service::Windows, "CUSTOMS\\svc_erp", Some("10.20.4.7"))
    );
    assert_eq!(
        (e.interactive, e.success, e.method.as_ref(), e.host.as_ref()),
        (true, true, "logon type 10", "ERP-DC1.customs.gov.ph")
    );
    let e = event(
        r#"{"@timestamp":"2026-11-30T01:00:00Z","winlog":{"event_id":"4625","computer_name":"ERP-DC1","event_data":{"TargetUserName":"svc_erp","TargetDomainName":"CUSTOMS","LogonType":"3","IpAddress":"-","WorkstationName":"PC-ICT-07"}}}"#,
    );
    assert_eq!((e.interactive, e.success, e.source.as_deref()), (false, false, Some("PC-ICT-07")));

    let e = event(
        r#"type=USER_LOGIN msg=audit(1764464400.415:4063): pid=11998 uid=0 auid=1000 ses=4 msg='op=login acct="oracle" exe="/usr/sbin/sshd" hostname=? addr=10.20.1.15 terminal=ssh res=success'"#,
    );
    assert_eq!(
        (e.service, e.account.as_ref(), e.source.as_deref(), e.success),
        (Service::Ssh, "oracle", Some("10.20.1.15"), true)
    );
    assert_eq!(e.time, Some(Timestamp::from_unix_seconds(1_764_464_400)));
}

#[test]
fn lines_of_no_known_format_are_counted_never_fatal() {
    let mut tally = LogTally::default();
    for line in [
        "",
        "garbage without a header",
        "{\"not\": \"a logon\"}",
        "\u{fffd}\u{0}\u{7f}",
        "Nov 30 10:00:00 host kernel: eth0 up",
    ] {
        tally.add(&read_line(line.as_bytes(), &context(2026)));
    }
    tally.add(&read_line(&[0xff, 0xfe, b'x'], &context(2026)));
    assert_eq!((tally.lines, tally.events, tally.unknown, tally.other), (6, 0, 4, 2), "{tally:?}");
}

/// Multi-byte characters where the readers look for fixed positions and words.
#[test]
fn lines_with_multibyte_characters_are_read_without_panicking() {
    for line in [
        "2026-11-30 01:02:03.4é UTC [1] LOG:  x",
        "2026-11-30 01:02:0ééééé",
        "Nov 30 10:00:0é host sshd[1]: Accepted password for é from 10.0.0.1 port 1 ssh2",
        "Nov 30 10:00:00 host sshd[1]: Failed password for ééé fromé from 10.0.0.1 port 1 ssh2",
        "Nov 30 10:00:00 host sudo: é : TTY=é ; USER=é ; COMMAND=é",
    ] {
        let _ = read_line(line.as_bytes(), &context(2026));
    }
    let e = event(
        "Nov 30 10:00:00 host sshd[1]: Failed password for ééé fromé from 10.0.0.1 port 1 ssh2",
    );
    assert_eq!((e.account.as_ref(), e.source.as_deref()), ("ééé fromé", Some("10.0.0.1")));
}

/// RFC 3164 lines carry no year: read on 2 January 2027, a December line is from 2026
/// and a January line from 2027; with the year given, every line is in that year.
#[test]
fn a_december_line_read_in_january_is_last_years() {
    let now = Timestamp::parse("2027-01-02T09:00:00+08:00").unwrap();
    let context = LogContext::manila(now);
    let line = |day: &str| {
        format!("{day} 23:59:59 cps-db1 sshd[1]: Accepted password for ana from 10.0.0.5 port 5000 ssh2")
    };
    let time = |text: &str, context: &LogContext| match read_line(text.as_bytes(), context) {
        Reading::Event(e) => e.time,
        other => panic!("{other:?}"),
    };
    assert_eq!(time(&line("Dec 31"), &context), Timestamp::parse("2026-12-31T23:59:59+08:00").ok());
    assert_eq!(time(&line("Jan  1"), &context), Timestamp::parse("2027-01-01T23:59:59+08:00").ok());
    let given = LogContext::in_year(2027, MANILA_OFFSET_SECONDS);
    assert_eq!(time(&line("Dec 31"), &given), Timestamp::parse("2027-12-31T23:59:59+08:00").ok());
}

/// A whole log read on several threads is what reading its lines one by one gives, in
/// order and numbered from 1, whatever the number of threads, however the source hands
/// out its bytes, across blocks, and with a last line that has no newline, CRLF endings
/// and a line that is not UTF-8.
#[test]
fn a_log_read_on_many_threads_is_read_as_line_by_line() {
    use bantay_connect::authlog::read_log_on;
    let mut log = Vec::new();
    for name in ["fail2ban-sshd.log", "fail2ban-pam-generic.log", "fail2ban-sshd-journal.log"] {
        log.extend(std::fs::read(crate::fixtures().join("authlog").join(name)).unwrap());
    }
    log.extend_from_slice(
        b"Nov 30 10:00:00 h sshd[1]: Accepted password for ana from 10.0.0.5 port 5 ssh2\r\n",
    );
    log.extend_from_slice(&[0xff, 0xfe, b'\n', b'\n']);
    let small = log.clone();
    // Past one block (4 MiB a thread) so that lines are carried from block to block.
    while log.len() < 9 << 20 {
        log.extend_from_slice(&small);
    }
    log.extend_from_slice(b"Nov 30 10:00:01 h su[2]: (to oracle) ben on pts/1");
    let context = context(2026);
    let expected: Vec<(u64, Vec<u8>, String)> = log
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| (i as u64 + 1, line.to_vec(), format!("{:?}", read_line(line, &context))))
        .collect();
    /// Hands out at most `step` bytes a read, as a pipe or socket may.
    struct Trickle<'a>(&'a [u8], usize);
    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(out.len()).min(self.1);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    for (cores, step) in [(1, usize::MAX), (2, 65_537), (3, usize::MAX), (7, 1 << 20)] {
        let mut got = Vec::with_capacity(expected.len());
        let look =
            |line: &[u8], reading: Reading<'_>| Some((line.to_vec(), format!("{reading:?}")));
        let found = |number, (line, reading)| got.push((number, line, reading));
        let tally = read_log_on(cores, Trickle(&log, step), &context, look, found).unwrap();
        assert_eq!(tally.lines, expected.len() as u64, "{cores} threads");
        assert!(tally.events > 1000 && tally.unknown > 0, "{tally:?}");
        let first_wrong = got.iter().zip(&expected).position(|(g, e)| g != e);
        assert_eq!(first_wrong, None, "{cores} threads, reads of {step} bytes");
        assert_eq!(got.len(), expected.len());
    }
}
