//! The syslog header: time, host and program before the message.
//!
//! Accepted, with or without a `<PRI>` in front (as received over the network):
//! - RFC 5424: `1 2019-07-08T17:40:16.95-04:00 host app procid msgid [sd…] message`;
//! - RFC 3164 / BSD: `Jun 21 16:47:48 host sshd[13709]: message` (the host may be
//!   missing, as in `Mar  3 00:17:22 [sshd]: …`);
//! - rsyslog's file format: `2026-11-30T10:00:00.123456+08:00 host sshd[1]: message`;
//! - the journal's short form without a time: `host sshd[1]: message`.

use bantay_core::{parse_time_bytes, Timestamp};

use super::LogContext;

/// The parts of a syslog line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    pub time: Option<Timestamp>,
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
        let time = parse_time_bytes(stamp.as_bytes()).ok();
        return host_and_tag(time, rest);
    }
    if let Some((time, rest)) = bsd_time(line, context) {
        return host_and_tag(Some(time), rest);
    }
    host_and_tag(None, line)
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
    let time = Timestamp::from_civil(
        (context.year, month, day),
        (hour, minute, second),
        context.offset_seconds,
    )?;
    Some((time, line.get(i + 10..)?))
}

pub(super) fn number(b: &[u8]) -> Option<i64> {
    if b.is_empty() {
        return None;
    }
    b.iter().try_fold(0i64, |n, &c| c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0')))
}

/// `host tag[pid]: message` or `tag[pid]: message`.
fn host_and_tag(time: Option<Timestamp>, rest: &str) -> Option<Header<'_>> {
    let (first, after) = rest.split_once(' ')?;
    // `[sshd] message`: a bracketed program, no host, no colon.
    if let Some(program) = first.strip_prefix('[').and_then(|p| p.strip_suffix(']')) {
        let message = strip_kernel_time(after);
        return Some(Header { time, host: "", program, pid: None, message });
    }
    let (host, tagged) = if first.ends_with(':') { ("", rest) } else { (first, after) };
    let (tag, message) = tagged.split_once(": ").or_else(|| {
        // A message may be empty: `sshd[1]:` at the end of the line.
        tagged.strip_suffix(':').map(|tag| (tag, ""))
    })?;
    if tag.is_empty() || tag.contains(' ') {
        return None;
    }
    let (program, pid) = split_tag(tag)?;
    // Without a time, only `host program[pid]:` (the journal's short form) is a header;
    // anything else with a colon would pass for one.
    if time.is_none() && (host.is_empty() || pid.is_none()) {
        return None;
    }
    let message = strip_kernel_time(strip_solaris_id(message));
    Some(Header { time, host, program, pid, message })
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

/// `sshd[123]` → (`sshd`, `123`); `[sshd]` → (`sshd`, none); `sshd` → (`sshd`, none).
fn split_tag(tag: &str) -> Option<(&str, Option<&str>)> {
    match tag.split_once('[') {
        None => Some((tag, None)),
        Some(("", inner)) => Some((inner.strip_suffix(']')?, None)),
        Some((program, inner)) => Some((program, Some(inner.strip_suffix(']')?))),
    }
}

/// Solaris puts `[ID 800047 auth.info] ` before the message.
fn strip_solaris_id(message: &str) -> &str {
    if message.starts_with("[ID ") {
        if let Some((_, rest)) = message.split_once("] ") {
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
    let time = if stamp == "-" { None } else { parse_time_bytes(stamp.as_bytes()).ok() };
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
