//! Authentication logs: one line in, one authentication event (or a reason there is none)
//! out. Section 4.5 of the order needs to know who used which account, how, from where,
//! and whether interactively; these readers find that in the logs hosts already keep:
//!
//! - syslog lines (RFC 3164, RFC 5424, rsyslog's ISO 8601 file format, journal short
//!   form) from OpenSSH (`sshd`, `sshd-session`), `sudo`, `su`, `login` and any PAM
//!   service, and the Linux audit log's `USER_LOGIN`/`USER_AUTH`/`USER_ERR` records;
//! - PostgreSQL's connection lines in its `stderr` format (any `log_line_prefix`),
//!   `csvlog` and `jsonlog`, also wrapped by Cloud SQL or CloudNativePG;
//! - Windows logon events 4624 (success) and 4625 (failure) exported as JSON lines
//!   (`evtx_dump -o jsonl`, or Winlogbeat/ECS).
//!
//! Reading a line never fails: a line is an [`AuthEvent`], [`Reading::Other`] (a format
//! Bantay knows but a line that is not an authentication, such as a key exchange error),
//! or [`Reading::Unknown`]; callers count the last and report them. Events borrow from the
//! line, so reading allocates nothing in the common case (the benchmark reads a gigabyte).
//!
//! Names an attacker chooses (a user name offered to `sshd`, a PAM `ruser`) are read the
//! way the program wrote them, from the fixed text around them, never by searching for
//! the first `from`: `Failed password for invalid user x from 10.0.0.1 from 127.0.0.1
//! port 22 ssh2` came from 127.0.0.1 (fail2ban's regression lines are the test).

mod audit;
mod openssh;
mod pam;
mod postgres;
mod syslog;
mod windows;

use std::borrow::Cow;

use bantay_core::Timestamp;
use serde::Serialize;

pub use syslog::{parse_header, Header};

/// One authentication: someone used (or tried to use) an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthEvent<'a> {
    /// When, if the line says (the journal's short form does not).
    pub time: Option<Timestamp>,
    /// The host that logged it (empty when the line does not say).
    pub host: Cow<'a, str>,
    /// The program or service that authenticated.
    pub service: Service,
    /// The account whose rights were used or asked for: the target of `su` and `sudo`.
    pub account: Cow<'a, str>,
    /// The account that asked, when it differs: who ran `su` or `sudo`.
    pub by: Option<Cow<'a, str>>,
    /// Where from: a remote address, a terminal (`tty1`, `pts/0`), or `[local]`.
    pub source: Option<Cow<'a, str>>,
    /// How: `password`, `publickey`, `keyboard-interactive`, `session`, `command`,
    /// `logon type 10`, …
    pub method: Cow<'a, str>,
    /// A person at a keyboard (a shell, a console, a remote desktop, `psql`) rather than a
    /// program.
    pub interactive: bool,
    pub success: bool,
    /// What was run, for `sudo`.
    pub command: Option<Cow<'a, str>>,
}

/// The program that authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Ssh,
    Sudo,
    Su,
    /// A console or serial `login`.
    Login,
    /// Any other PAM service (`vsftpd`, `cron`, …).
    Pam,
    Postgres,
    Windows,
}

impl Service {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ssh => "ssh",
            Self::Sudo => "sudo",
            Self::Su => "su",
            Self::Login => "login",
            Self::Pam => "pam",
            Self::Postgres => "postgres",
            Self::Windows => "windows",
        }
    }
}

/// What one line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading<'a> {
    Event(AuthEvent<'a>),
    /// A format Bantay reads, but not an authentication (a disconnect, a query, …).
    Other,
    /// Not a format Bantay reads.
    Unknown,
}

/// What a line's text leaves unsaid: the year (RFC 3164 timestamps have none) and the
/// clock's offset (RFC 3164 and PostgreSQL's `%t` without a zone are the host's local time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogContext {
    pub year: i64,
    pub offset_seconds: i64,
    /// The month (1–12) the log is read in, or 0. RFC 3164 lines carry no year: read in
    /// January, a line from December is last year's, so a line of a later month than
    /// this one is dated in the year before `year`.
    pub month: i64,
}

impl LogContext {
    /// Lines read at `now` by hosts on Manila time: this year's, or last year's for a
    /// month still to come.
    pub fn manila(now: Timestamp) -> Self {
        let offset_seconds = bantay_core::MANILA_OFFSET_SECONDS;
        let month = now.month_at(offset_seconds);
        Self { year: now.year_at(offset_seconds), offset_seconds, month }
    }

    /// Lines of the given year, whatever their month.
    pub fn in_year(year: i64, offset_seconds: i64) -> Self {
        Self { year, offset_seconds, month: 0 }
    }
}

/// Reads one line (without its line ending).
pub fn read_line<'a>(line: &'a [u8], context: &LogContext) -> Reading<'a> {
    match std::str::from_utf8(line) {
        Ok(text) => read_text(text, context),
        Err(_) => Reading::Unknown,
    }
}

/// Reads one line already known to be UTF-8.
fn read_text<'a>(text: &'a str, context: &LogContext) -> Reading<'a> {
    let text = text.trim_end_matches(['\r', '\n']);
    match text.as_bytes().first() {
        None => Reading::Other,
        Some(b'{') => json_line(text),
        Some(b't') if text.starts_with("type=") => audit::read(text),
        _ => {
            if let Some(reading) = postgres::read_prefixed(text, context) {
                return reading;
            }
            match syslog::parse_header(text, context) {
                Some(header) => read_message(header),
                None => Reading::Unknown,
            }
        }
    }
}

/// A syslog message by the program that wrote it.
fn read_message(header: Header<'_>) -> Reading<'_> {
    let program = header.program;
    match program {
        "sshd" | "sshd-session" | "sshd-auth" => openssh::read(&header),
        "sudo" => pam::sudo(&header),
        "su" => pam::su(&header),
        "login" => pam::login(&header),
        "postgres" | "postgresql" | "postmaster" => postgres::read_syslog(&header),
        _ if program.starts_with("postgres") => postgres::read_syslog(&header),
        _ => pam::generic(&header),
    }
}

/// A JSON line: Windows logons, or PostgreSQL's `jsonlog` (bare or wrapped).
fn json_line(text: &str) -> Reading<'_> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return Reading::Unknown;
    };
    if let Some(reading) = windows::read(&value) {
        return reading.into_owned();
    }
    if let Some(reading) = postgres::read_json(&value) {
        return reading.into_owned();
    }
    // An application's structured log (zap, logrus, bunyan): read, but no login.
    if value.get("msg").or(value.get("message")).is_some() {
        return Reading::Other;
    }
    Reading::Unknown
}

impl Reading<'_> {
    fn into_owned(self) -> Reading<'static> {
        match self {
            Reading::Event(event) => Reading::Event(event.into_owned()),
            Reading::Other => Reading::Other,
            Reading::Unknown => Reading::Unknown,
        }
    }
}

impl AuthEvent<'_> {
    /// The event with its text copied out of the line.
    pub fn into_owned(self) -> AuthEvent<'static> {
        fn own(c: Cow<'_, str>) -> Cow<'static, str> {
            Cow::Owned(c.into_owned())
        }
        AuthEvent {
            time: self.time,
            host: own(self.host),
            service: self.service,
            account: own(self.account),
            by: self.by.map(own),
            source: self.source.map(own),
            method: own(self.method),
            interactive: self.interactive,
            success: self.success,
            command: self.command.map(own),
        }
    }
}

/// Counts of what a log held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LogTally {
    pub lines: u64,
    pub events: u64,
    pub failures: u64,
    pub other: u64,
    pub unknown: u64,
}

impl LogTally {
    pub fn add(&mut self, reading: &Reading<'_>) {
        self.lines += 1;
        match reading {
            Reading::Event(e) => {
                self.events += 1;
                self.failures += u64::from(!e.success);
            }
            Reading::Other => self.other += 1,
            Reading::Unknown => self.unknown += 1,
        }
    }

    /// Adds the counts of another stretch of the same log.
    fn absorb(&mut self, other: &LogTally) {
        self.lines += other.lines;
        self.events += other.events;
        self.failures += other.failures;
        self.other += other.other;
        self.unknown += other.unknown;
    }
}

/// Reads a whole log. `look` is shown every line (its bytes, without the line ending, and
/// what it is) and says whether the line matters to the caller; `found` is then called
/// with each line's number (from 1) and what `look` made of it, in the order of the log.
/// Lines may be of any length; a last line without a newline counts. Only reading the
/// source can fail.
///
/// Reading a line depends on nothing but the line, so each block of the log is cut at line
/// ends into one part per core and the parts are read, and looked at, at once; only what
/// `look` keeps crosses back to the calling thread, where `found` runs.
pub fn read_log<T: Send>(
    source: impl std::io::Read,
    context: &LogContext,
    look: impl Fn(&[u8], Reading<'_>) -> Option<T> + Sync,
    found: impl FnMut(u64, T),
) -> std::io::Result<LogTally> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    read_log_on(cores, source, context, look, found)
}

/// At most this many parts of a block are read at once.
const MAX_PARTS: usize = 16;

/// [`read_log`] with `cores` threads (at most 16) reading lines, while the calling thread reads the
/// source ahead into a second buffer and hands on what they keep.
pub fn read_log_on<T: Send>(
    cores: usize,
    mut source: impl std::io::Read,
    context: &LogContext,
    look: impl Fn(&[u8], Reading<'_>) -> Option<T> + Sync,
    mut found: impl FnMut(u64, T),
) -> std::io::Result<LogTally> {
    let cores = cores.clamp(1, MAX_PARTS);
    // Big enough that starting the threads is lost in the reading: 4 MiB a core.
    let mut current = vec![0u8; cores << 22];
    let mut ahead = vec![0u8; cores << 22];
    let mut tally = LogTally::default();
    let (mut end, mut at_end) = fill(&mut source, &mut current, 0)?;
    loop {
        // Whole lines only, but for the last line of the log (`fill` leaves a newline in
        // a buffer it has not filled to the end of the source).
        let complete = match memchr::memrchr(b'\n', &current[..end]) {
            Some(newline) if !at_end => newline + 1,
            _ => end,
        };
        let parts = cut_at_lines(&current[..complete], cores);
        let mut next = Ok((0, true));
        std::thread::scope(|scope| {
            let readers: Vec<_> =
                parts.iter().map(|part| scope.spawn(|| read_part(part, context, &look))).collect();
            if !at_end {
                let carried = &current[complete..end];
                if ahead.len() < current.len() {
                    ahead.resize(current.len(), 0);
                }
                ahead[..carried.len()].copy_from_slice(carried);
                next = fill(&mut source, &mut ahead, carried.len());
            }
            for reader in readers {
                match reader.join() {
                    Ok(part) => {
                        for (line, kept) in part.kept {
                            found(tally.lines + line, kept);
                        }
                        tally.absorb(&part.tally);
                    }
                    // Readers never panic on input (the fuzz targets hold them to it); if
                    // one ever did, that panic is the bug to see, not a part to skip.
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
        });
        if at_end {
            return Ok(tally);
        }
        (end, at_end) = next?;
        std::mem::swap(&mut current, &mut ahead);
    }
}

/// Reads `source` into `buffer` from `filled` on, until the buffer is full or the source
/// ends; a buffer full of one line longer than it grows. Returns how far the buffer is
/// filled and whether the source ended.
fn fill(
    source: &mut impl std::io::Read,
    buffer: &mut Vec<u8>,
    mut filled: usize,
) -> std::io::Result<(usize, bool)> {
    loop {
        if filled == buffer.len() {
            if memchr::memchr(b'\n', buffer).is_some() {
                return Ok((filled, false));
            }
            buffer.resize(buffer.len() * 2, 0);
        }
        match source.read(&mut buffer[filled..]) {
            Ok(0) => return Ok((filled, true)),
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// `block` cut into at most `parts` pieces, each ending at a line's end.
fn cut_at_lines(block: &[u8], parts: usize) -> Vec<&[u8]> {
    let size = block.len().div_ceil(parts.max(1)).max(1);
    let mut pieces = Vec::with_capacity(parts);
    let mut rest = block;
    while !rest.is_empty() {
        let cut = match rest.get(size..).and_then(|after| memchr::memchr(b'\n', after)) {
            Some(i) => size + i + 1,
            None => rest.len(),
        };
        let (piece, after) = rest.split_at(cut);
        pieces.push(piece);
        rest = after;
    }
    pieces
}

/// What one part of a block held, and what was kept of it, by line number in the part.
struct Part<T> {
    tally: LogTally,
    kept: Vec<(u64, T)>,
}

/// Reads and looks at every line of `part`. Checking megabytes for UTF-8 at once is much
/// cheaper than line by line; a part that is not UTF-8 throughout is checked line by line.
fn read_part<T>(
    part: &[u8],
    context: &LogContext,
    look: &impl Fn(&[u8], Reading<'_>) -> Option<T>,
) -> Part<T> {
    let text = std::str::from_utf8(part).ok();
    let mut tally = LogTally::default();
    let mut kept = Vec::new();
    let mut one = |start: usize, stop: usize| {
        let bytes = &part[start..stop];
        let reading = match text.and_then(|t| t.get(start..stop)) {
            Some(text) => read_text(text, context),
            None => read_line(bytes, context),
        };
        tally.add(&reading);
        if let Some(k) = look(bytes, reading) {
            kept.push((tally.lines, k));
        }
    };
    let mut start = 0;
    for newline in memchr::memchr_iter(b'\n', part) {
        one(start, newline);
        start = newline + 1;
    }
    if start < part.len() {
        one(start, part.len());
    }
    Part { tally, kept }
}

/// Substring search for the readers' fixed words. Both `str::split_once(&str)` and a
/// one-off `memmem` searcher cost more to set up than the search itself on a log line, so
/// this looks for the needle's first byte that is not a space (spaces come every few
/// bytes) with `memchr`, and compares there.
pub(crate) trait Cut {
    fn at(&self, needle: &str) -> Option<usize>;
    fn cut(&self, needle: &str) -> Option<(&str, &str)>;
    fn rcut(&self, needle: &str) -> Option<(&str, &str)>;
}

/// The needle's first byte that is not a space, and its index.
fn anchor(needle: &[u8]) -> (usize, u8) {
    let k = needle.iter().position(|&b| b != b' ').unwrap_or(0);
    (k, needle.get(k).copied().unwrap_or(b' '))
}

impl Cut for str {
    fn at(&self, needle: &str) -> Option<usize> {
        let (h, n) = (self.as_bytes(), needle.as_bytes());
        let (k, byte) = anchor(n);
        let mut from = k;
        while from < h.len() {
            let i = from + memchr::memchr(byte, &h[from..])?;
            if h[i - k..].starts_with(n) {
                return Some(i - k);
            }
            from = i + 1;
        }
        None
    }

    fn cut(&self, needle: &str) -> Option<(&str, &str)> {
        let i = self.at(needle)?;
        Some((self.get(..i)?, self.get(i + needle.len()..)?))
    }

    fn rcut(&self, needle: &str) -> Option<(&str, &str)> {
        let (h, n) = (self.as_bytes(), needle.as_bytes());
        let (k, byte) = anchor(n);
        let mut to = h.len();
        while to > k {
            let i = memchr::memrchr(byte, &h[k..to])? + k;
            if h[i - k..].starts_with(n) {
                let start = i - k;
                return Some((self.get(..start)?, self.get(start + n.len()..)?));
            }
            to = i;
        }
        None
    }
}

/// An address as the program wrote it, with IPv4-mapped IPv6 (`::ffff:1.2.3.4`) shown as
/// the IPv4 address it is.
fn address(text: &str) -> &str {
    text.strip_prefix("::ffff:").filter(|v4| v4.contains('.')).unwrap_or(text)
}
