//! The syslog header: time, host and program before the message.
//!
//! Accepted, with or without a `<PRI>` in front (as received over the network):
//! - RFC 5424: `1 2019-07-08T17:40:16.95-04:00 host app procid msgid [sd…] message`;
//! - RFC 3164 / BSD: `Jun 21 16:47:48 host sshd[13709]: message` (the host may be
//!   missing, as in `Mar  3 00:17:22 [sshd]: …`);
//! - rsyslog's file format: `2026-11-30T10:00:00.123456+08:00 host sshd[1]: message`;
//! - the journal's short form without a time: `host sshd[1]: message`.

use bantay_core::{parse_time_bytes, Timestamp};

use super::{Cut, LogContext};

/// A line's time, read only when the line turns out to be an authentication: most lines
/// are not, and reading a date costs as much as classifying the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp<'a> {
    None,
    /// `Mmm dd hh:mm:ss`, in the context's year and zone.
    Bsd(&'a str, LogContext),
    /// ISO 8601, with its offset or Manila's.
    Iso(&'a str),
    /// PostgreSQL's `%t`/`%m` and its zone abbreviation.
    Pg(&'a str, &'a str, LogContext),
    /// A time already read.
    Read(Option<Timestamp>),
}

impl Stamp<'_> {
    pub fn time(self) -> Option<Timestamp> {
        match self {
            Stamp::None => None,
            Stamp::Bsd(text, context) => bsd_time(text, &context).map(|(t, _)| t),
            Stamp::Iso(text) => parse_time_bytes(text.as_bytes()).ok(),
            Stamp::Pg(stamp, zone, context) => super::postgres::pg_time(stamp, zone, &context),
            Stamp::Read(time) => time,
        }
    }
}

/// The parts of a syslog line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    pub time: Stamp<'a>,
    pub host: &'a str,
    pub program: &'a str,
    pub pid: Option<&'a str>,
    pub message: &'a str,
}

/// Reads the header of a syslog line, or `None` if the line has none.
pub fn parse_header<'a>(line: &'a str, context: &LogContext) -> Option<Header<'a>> {
    let line = strip_priority(line);
    if let Some(rest) = line.strip_prefix("1 ") {
        return rfc5424(rest);
    }
    let b = line.as_bytes();
    if b.len() > 19 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[10] == b'T' {
        let (stamp, rest) = line.split_once(' ')?;
        return host_and_tag(Stamp::Iso(stamp), rest);
    }
    if let Some(rest) = bsd_shape(line) {
        return host_and_tag(Stamp::Bsd(line, *context), rest);
    }
    host_and_tag(Stamp::None, line)
}

fn strip_priority(line: &str) -> &str {
    let b = line.as_bytes();
    if b.first() == Some(&b'<') {
        if let Some(end) = b.iter().take(5).position(|&c| c == b'>') {
            if end > 1 && b[1..end].iter().all(u8::is_ascii_digit) {
                return &line[end + 1..];
            }
        }
    }
    line
}

/// The rest of the line after what looks like `Mmm dd hh:mm:ss `, without reading it.
fn bsd_shape(line: &str) -> Option<&str> {
    let b = line.as_bytes();
    if b.len() < 15 || b[3] != b' ' || !b[0].is_ascii_uppercase() {
        return None;
    }
    let day_end = if b[4] == b' ' {
        6
    } else {
        4 + b[4..6].iter().take_while(|c| c.is_ascii_digit()).count()
    };
    let clock = b.get(day_end..day_end + 10)?;
    if clock[0] != b' ' || clock[3] != b':' || clock[6] != b':' || clock[9] != b' ' {
        return None;
    }
    line.get(day_end + 10..)
}

/// `Mmm dd hh:mm:ss ` (the day padded with a space, or not), and the rest of the line.
fn bsd_time<'a>(line: &'a str, context: &LogContext) -> Option<(Timestamp, &'a str)> {
    let b = line.as_bytes();
    if b.len() < 15 || b[3] != b' ' {
        return None;
    }
    let month = match &b[..3] {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    };
    let mut i = 4;
    if b[i] == b' ' {
        i += 1;
    }
    let day_len = b[i..].iter().take(2).take_while(|c| c.is_ascii_digit()).count();
    let day = number(&b[i..i + day_len])?;
    i += day_len;
    let clock = b.get(i..i + 10)?;
    if clock[0] != b' ' || clock[3] != b':' || clock[6] != b':' || clock[9] != b' ' {
        return None;
    }
    let hour = number(&clock[1..3])?;
    let minute = number(&clock[4..6])?;
    let second = number(&clock[7..9])?;
    // A month still to come is last year's (a December line read in January).
    let year =
        if context.month > 0 && month > context.month { context.year - 1 } else { context.year };
    let time =
        Timestamp::from_civil((year, month, day), (hour, minute, second), context.offset_seconds)?;
    Some((time, line.get(i + 10..)?))
}

pub(super) fn number(b: &[u8]) -> Option<i64> {
    if b.is_empty() {
        return None;
    }
    b.iter().try_fold(0i64, |n, &c| c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0')))
}

/// `host tag[pid]: message` or `tag[pid]: message`.
fn host_and_tag<'a>(time: Stamp<'a>, rest: &'a str) -> Option<Header<'a>> {
    let space = memchr::memchr(b' ', rest.as_bytes())?;
    let (first, after) = (&rest[..space], &rest[space + 1..]);
    // `[sshd] message`: a bracketed program, no host, no colon.
    if let Some(program) = first.strip_prefix('[').and_then(|p| p.strip_suffix(']')) {
        let message = strip_kernel_time(after);
        return Some(Header { time, host: "", program, pid: None, message });
    }
    let (host, tagged) = if first.ends_with(':') { ("", rest) } else { (first, after) };
    // The tag runs to the first colon, which must come before any space and be followed
    // by a space or the end of the line (`sshd[1]:` with an empty message).
    let colon = memchr::memchr2(b':', b' ', tagged.as_bytes())?;
    let (tag, message) = match tagged.as_bytes().get(colon..colon + 2) {
        Some(b": ") => (&tagged[..colon], &tagged[colon + 2..]),
        Some([b':']) => (&tagged[..colon], ""),
        _ => return None,
    };
    if tag.is_empty() {
        return None;
    }
    let (program, pid) = split_tag(tag)?;
    // Without a time, only `host program[pid]:` (the journal's short form) is a header;
    // anything else with a colon would pass for one.
    if time == Stamp::None && (host.is_empty() || pid.is_none()) {
        return None;
    }
    let message = strip_kernel_time(strip_solaris_id(message));
    Some(Header { time, host, program, pid, message })
}

/// `sshd[123]` → (`sshd`, `123`); `[sshd]` → (`sshd`, none); `sshd` → (`sshd`, none).
fn split_tag(tag: &str) -> Option<(&str, Option<&str>)> {
    match memchr::memchr(b'[', tag.as_bytes()) {
        None => Some((tag, None)),
        Some(0) => Some((tag[1..].strip_suffix(']')?, None)),
        Some(i) => Some((&tag[..i], Some(tag[i + 1..].strip_suffix(']')?))),
    }
}

/// Some relays put the kernel's clock before the message: `kernel:[  970.699396]: …` or
/// `kernel: [  970.699396] …`.
fn strip_kernel_time(message: &str) -> &str {
    let Some(rest) = message.strip_prefix("kernel:") else {
        return message;
    };
    let rest = rest.trim_start();
    match rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
        Some((_, after)) => after.strip_prefix(':').unwrap_or(after).trim_start(),
        None => message,
    }
}

/// Solaris puts `[ID 800047 auth.info] ` before the message.
fn strip_solaris_id(message: &str) -> &str {
    if message.starts_with("[ID ") {
        if let Some((_, rest)) = message.cut("] ") {
            return rest;
        }
    }
    message
}

/// `TIMESTAMP HOST APP PROCID MSGID SD [MSG]` after the version.
fn rfc5424(rest: &str) -> Option<Header<'_>> {
    let mut fields = rest.splitn(6, ' ');
    let stamp = fields.next()?;
    let host = fields.next()?;
    let program = fields.next()?;
    let pid = fields.next()?;
    let _msgid = fields.next()?;
    let rest = fields.next().unwrap_or("");
    let time = if stamp == "-" { Stamp::None } else { Stamp::Iso(stamp) };
    let message = skip_structured_data(rest)?;
    let message = message.strip_prefix('\u{feff}').unwrap_or(message);
    Some(Header {
        time,
        host: nil(host),
        program: nil(program),
        pid: (pid != "-").then_some(pid),
        message,
    })
}

fn nil(field: &str) -> &str {
    if field == "-" {
        ""
    } else {
        field
    }
}

/// Skips `-` or one or more `[id key="value" …]` elements (values may hold escaped
/// quotes and, as some senders write them, unescaped brackets), and the space after.
fn skip_structured_data(rest: &str) -> Option<&str> {
    if let Some(message) = rest.strip_prefix('-') {
        return Some(message.strip_prefix(' ').unwrap_or(message));
    }
    let b = rest.as_bytes();
    let mut i = 0;
    while b.get(i) == Some(&b'[') {
        let mut quoted = false;
        i += 1;
        loop {
            match *b.get(i)? {
                b'\\' => i += 1,
                b'"' => quoted = !quoted,
                b']' if !quoted => break,
                _ => {}
            }
            i += 1;
        }
        i += 1;
    }
    if i == 0 {
        return None;
    }
    let message = rest.get(i..)?;
    Some(message.strip_prefix(' ').unwrap_or(message))
}
