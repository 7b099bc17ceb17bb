//! `authlog`: reading and classifying a large mixed authentication log, beside the time
//! ripgrep takes merely to count the same lines (`rg -c`), in the same run on the same file.

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};
use bantay_connect::authlog::{read_log_on, LogContext};
use bantay_core::Timestamp;

use crate::{median, time};

/// What ripgrep looks for: the lines Bantay reads as logins, sessions and switches.
const PATTERN: &str = "Accepted |Failed |Invalid user |sudo\\[|su\\[|session opened|connection authorized|authentication failed|authentication failure";

pub fn run(megabytes: u64, runs: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("auth.log");
    let bytes = generate(&path, megabytes << 20)?;
    println!("authlog: {} MB mixed log (sshd, sudo, su, cron PAM, PostgreSQL, noise)", bytes >> 20);
    let context = LogContext::manila(Timestamp::from_unix_seconds(1_764_460_800));

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Bantay on one core (the floor is per core), then on every core (as `read_log` runs).
    let mut one_core = Vec::new();
    let mut ours = Vec::new();
    let mut events = 0;
    for _ in 0..runs {
        for (threads, times) in [(1, &mut one_core), (cores, &mut ours)] {
            let file = std::fs::File::open(&path)?;
            let (elapsed, tally) =
                time(|| read_log_on(threads, file, &context, |_, _| None::<()>, |_, ()| {}));
            events = tally?.events;
            times.push(elapsed);
        }
    }
    let mut theirs = Vec::new();
    let mut counted = 0;
    for _ in 0..runs {
        let (elapsed, output) =
            time(|| Command::new("rg").args(["-c", "--no-mmap", PATTERN]).arg(&path).output());
        let output = output.context(
            "cannot run `rg` (ripgrep), the peer of this benchmark: apt-get install ripgrep",
        )?;
        if !output.status.success() {
            bail!("rg failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        counted = String::from_utf8_lossy(&output.stdout).trim().parse::<u64>()?;
        theirs.push(elapsed);
    }
    let mb = bytes as f64 / 1e6;
    let rate = |d: Duration| mb / d.as_secs_f64();
    let (one_core, ours, theirs) = (median(one_core), median(ours), median(theirs));
    println!(
        "  bantay read + classify: {:>8.0} MB/s  ({events} events; median of {runs}, {cores} cores)",
        rate(ours)
    );
    println!("                 per core: {:>8.0} MB/s  (the same on one thread)", rate(one_core));
    println!(
        "  rg -c, same lines:      {:>8.0} MB/s  ({counted} lines; one file is one thread for rg)",
        rate(theirs)
    );
    println!("  ratio rg / bantay:      {:>8.2}×", ours.as_secs_f64() / theirs.as_secs_f64());
    Ok(())
}

/// Writes about `size` bytes of log lines in the proportions of a busy Linux host that
/// also runs PostgreSQL. Deterministic, so runs compare.
fn generate(path: &std::path::Path, size: u64) -> anyhow::Result<u64> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let users =
        ["jdelacruz", "mreyes", "asantos", "oracle", "postgres", "root", "svc_erp", "bgarcia"];
    let hosts = ["cps-db1", "cps-app1", "erp-db1", "erp-app2", "mail1"];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut written = 0u64;
    let mut line = Vec::with_capacity(256);
    let mut second = 0u64;
    while written < size {
        let r = next();
        let user = users[(r % 8) as usize];
        let host = hosts[((r >> 8) % 5) as usize];
        let ip = format!("10.{}.{}.{}", (r >> 16) % 256, (r >> 24) % 256, (r >> 32) % 256);
        let pid = 1000 + (r >> 40) % 60000;
        second += (r >> 20) % 3;
        let stamp = format!(
            "Nov {:2} {:02}:{:02}:{:02}",
            1 + (second / 86400) % 28,
            (second / 3600) % 24,
            (second / 60) % 60,
            second % 60
        );
        line.clear();
        match (r >> 48) % 20 {
            0..=2 => write!(line, "{stamp} {host} sshd[{pid}]: Accepted publickey for {user} from {ip} port {} ssh2: RSA SHA256:Yd3V1pKlqf0WcQ2nT3xk", 30000 + r % 30000)?,
            3..=4 => write!(line, "{stamp} {host} sshd[{pid}]: Failed password for invalid user {user}x from {ip} port {} ssh2", 30000 + r % 30000)?,
            5 => write!(line, "{stamp} {host} sshd[{pid}]: Connection closed by {ip} port {} [preauth]", 30000 + r % 30000)?,
            6..=7 => write!(line, "{stamp} {host} sudo[{pid}]:  {user} : TTY=pts/{} ; PWD=/home/{user} ; USER=root ; COMMAND=/usr/bin/systemctl status postgresql", r % 9)?,
            8 => write!(line, "{stamp} {host} su[{pid}]: (to oracle) {user} on pts/{}", r % 9)?,
            9..=11 => write!(line, "{stamp} {host} CRON[{pid}]: pam_unix(cron:session): session opened for user {user}(uid={}) by (uid=0)", 1000 + r % 50)?,
            12 => write!(line, "{stamp} {host} CRON[{pid}]: pam_unix(cron:session): session closed for user {user}")?,
            13..=14 => write!(line, "2026-11-{:02} {:02}:{:02}:{:02} UTC [{pid}] user={user},db=cps,app=psql,client={ip} LOG:  connection authorized: user={user} database=cps application_name=psql", 1 + (second / 86400) % 28, (second / 3600) % 24, (second / 60) % 60, second % 60)?,
            15 => write!(line, "2026-11-{:02} {:02}:{:02}:{:02} UTC [{pid}] user={user},db=cps,app=loader,client={ip} LOG:  duration: 0.{} ms  statement: SELECT 1", 1 + (second / 86400) % 28, (second / 3600) % 24, (second / 60) % 60, second % 60, r % 1000)?,
            16 => write!(line, "{stamp} {host} kernel: [{}.{:06}] e1000e: eth0 NIC Link is Up 1000 Mbps Full Duplex", r % 100000, r % 1000000)?,
            17 => write!(line, "{stamp} {host} systemd[1]: Started Session {} of User {user}.", r % 100000)?,
            _ => write!(line, "{stamp} {host} CRON[{pid}]: ({user}) CMD (/usr/local/bin/backup --incremental)")?,
        }
        line.push(b'\n');
        out.write_all(&line)?;
        written += line.len() as u64;
    }
    out.flush()?;
    Ok(written)
}
