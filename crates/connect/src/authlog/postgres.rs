//! PostgreSQL's connection lines: `connection authorized: user=… database=…` and the
//! `FATAL` refusals, in the `stderr` format (any `log_line_prefix`), over syslog, as
//! `csvlog`, and as `jsonlog` (bare, or wrapped by CloudNativePG or Cloud SQL).
//!
//! A session's client address is in the line only when `log_line_prefix` has `%h` or
//! `%r` (or in csvlog and jsonlog, always); `connection received: host=…` lines are
//! not joined to the later `connection authorized` line.

use std::borrow::Cow;

use bantay_core::{parse_time_bytes, Timestamp};
use serde_json::Value;

use super::syslog::{number, Stamp};
use super::{address, AuthEvent, Cut, Header, LogContext, Reading, Service};
use crate::split_csv_line;

/// Clients a person types into; a connection from anything else is a program's.
const INTERACTIVE_APPS: [&str; 6] = ["psql", "pgAdmin", "DBeaver", "DataGrip", "pgcli", "Navicat"];

/// What a connection line says, wherever it came from. Everything is borrowed from the
/// line, or from the caller's copy when the line was JSON or CSV.
struct Connection<'a> {
    time: Stamp<'a>,
    host: &'a str,
    /// From the line's prefix or record, when it has one.
    source: Option<&'a str>,
    application: Option<&'a str>,
    severity: &'a str,
    message: &'a str,
}

impl<'a> Connection<'a> {
    fn read(self) -> Reading<'a> {
        let message = self.message;
        if self.severity == "LOG" {
            let (rest, method) = match message.strip_prefix("connection authorized: ") {
                Some(rest) => (rest, "connection"),
                None => match message.strip_prefix("replication connection authorized: ") {
                    Some(rest) => (rest, "replication"),
                    None => return Reading::Other,
                },
            };
            let word = |s: &'a str| &s[..memchr::memchr(b' ', s.as_bytes()).unwrap_or(s.len())];
            let Some(user) = rest.strip_prefix("user=").map(word) else {
                return Reading::Other;
            };
            let interactive = rest
                .cut(" application_name=")
                .map(|(_, a)| word(a))
                .or(self.application)
                .is_some_and(|a| INTERACTIVE_APPS.iter().any(|i| a.starts_with(i)));
            return self.event(user, method, true, interactive);
        }
        if self.severity != "FATAL" {
            return Reading::Other;
        }
        // `password authentication failed for user "x"`, `Peer authentication failed for
        // user "x"`, `no pg_hba.conf entry for host "h", user "x", database "d", …`,
        // `role "x" does not exist`.
        let quoted = |after: &str| message.split_once(after).and_then(|(_, r)| r.split('"').next());
        if let Some((method, _)) = message.cut(" authentication failed for user \"") {
            if let Some(user) = quoted("for user \"") {
                let method = method.rsplit(' ').next().unwrap_or(method);
                return self.event(user, method, false, false);
            }
        }
        if message.starts_with("no pg_hba.conf entry for host ") {
            if let Some(user) = quoted("user \"") {
                let source = self.source.or(quoted("host \""));
                return Connection { source, ..self }.event(user, "pg_hba", false, false);
            }
        }
        if let Some(rest) = message.strip_prefix("role \"") {
            if let Some((user, " does not exist")) = rest.split_once('"') {
                return self.event(user, "none", false, false);
            }
        }
        Reading::Other
    }

    fn event(
        self,
        account: &'a str,
        method: &'a str,
        success: bool,
        interactive: bool,
    ) -> Reading<'a> {
        Reading::Event(AuthEvent {
            time: self.time.time(),
            host: Cow::Borrowed(self.host),
            service: Service::Postgres,
            account: Cow::Borrowed(account),
            by: None,
            source: self.source.map(|s| Cow::Borrowed(address(s))),
            method: Cow::Borrowed(method),
            interactive,
            success,
            command: None,
        })
    }
}

/// A line that starts with PostgreSQL's `%t`/`%m` time: `stderr`, or `csvlog`.
pub(super) fn read_prefixed<'a>(text: &'a str, context: &LogContext) -> Option<Reading<'a>> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[10] != b' ' || !b[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let time_end = text.get(20..)?.find([' ', ',']).map_or(text.len(), |i| i + 20);
    // `2017-09-06 08:40:10[.123] UTC`: the zone follows after a space.
    let (zone, after) = match text.as_bytes().get(time_end) {
        Some(b' ') => {
            let rest = &text[time_end + 1..];
            let end = rest.find([' ', ',']).unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        }
        _ => ("", &text[time_end..]),
    };
    if after.starts_with(',') {
        return Some(csvlog(pg_time(&text[..time_end], zone, context), text));
    }
    let time = Stamp::Pg(&text[..time_end], zone, *context);
    let message = after.trim_start();
    Some(prefixed_message(time, "", message))
}

/// `%t`/`%m` with the zone abbreviation PostgreSQL writes: only UTC/GMT and numeric
/// offsets are unambiguous; other abbreviations are read as the host's local time.
pub(super) fn pg_time(stamp: &str, zone: &str, context: &LogContext) -> Option<Timestamp> {
    let offset = match zone {
        "UTC" | "GMT" | "Z" => Some(0),
        _ => {
            let (sign, digits) = match zone.as_bytes().first() {
                Some(b'+') => (1, &zone[1..]),
                Some(b'-') => (-1, &zone[1..]),
                _ => (0, ""),
            };
            match digits.len() {
                2 => number(digits.as_bytes()).map(|h| sign * h * 3600),
                4 => number(&digits.as_bytes()[..2])
                    .zip(number(&digits.as_bytes()[2..]))
                    .map(|(h, m)| sign * (h * 3600 + m * 60)),
                _ => None,
            }
        }
    }
    .unwrap_or(context.offset_seconds);
    let naive = parse_time_bytes(stamp.as_bytes()).ok()?;
    // `parse_time_bytes` reads a zoneless time as Manila's; move it to the line's zone.
    Some(naive.plus_seconds(bantay_core::MANILA_OFFSET_SECONDS - offset))
}

/// `…prefix… LOG:  message` with the prefix's `user=`, `client=`/`host=`/`remote=` and
/// `app=` fields read when present.
fn prefixed_message<'a>(time: Stamp<'a>, host: &'a str, text: &'a str) -> Reading<'a> {
    for severity in ["LOG", "FATAL"] {
        let marker = if severity == "LOG" { " LOG:  " } else { " FATAL:  " };
        let found = text.at(marker).map(|i| (&text[..i], &text[i + marker.len()..]));
        let found = found.or_else(|| {
            let lead = if severity == "LOG" { "LOG:  " } else { "FATAL:  " };
            text.strip_prefix(lead).map(|m| ("", m))
        });
        if let Some((prefix, message)) = found {
            // Most lines are statements and checkpoints: the prefix is read only for the
            // lines that can be a connection.
            if severity == "LOG" && !message.contains("connection authorized: ") {
                return Reading::Other;
            }
            let fields = PrefixFields::read(prefix);
            let (source, application) = (fields.source, fields.application);
            return Connection { time, host, source, application, severity, message }.read();
        }
    }
    if text.at(":  ").is_some() {
        Reading::Other
    } else {
        Reading::Unknown
    }
}

/// The client and the application named in a `log_line_prefix` (`client=`, `host=`,
/// `remote=`, `h=`, `r=`; `app=`, `application=`), each up to a comma or space; empty and
/// `[unknown]` values are no value. Where several are written, the one first in those
/// lists wins.
#[derive(Default)]
struct PrefixFields<'a> {
    source: Option<&'a str>,
    application: Option<&'a str>,
}

impl<'a> PrefixFields<'a> {
    fn read(prefix: &'a str) -> Self {
        const SOURCES: [&str; 5] = ["client", "host", "remote", "h", "r"];
        let mut source: Option<(usize, &str)> = None;
        let mut fields = Self::default();
        for word in prefix.split([',', ' ']) {
            let Some((name, value)) = word.split_once('=') else {
                continue;
            };
            if value.is_empty() || value == "[unknown]" {
                continue;
            }
            if let Some(rank) = SOURCES.iter().position(|s| *s == name) {
                if source.is_none_or(|(best, _)| rank < best) {
                    let address = value.split_once('(').map_or(value, |(a, _)| a);
                    source = Some((rank, address));
                }
            } else if name == "app" || (name == "application" && fields.application.is_none()) {
                fields.application = Some(value);
            }
        }
        fields.source = source.map(|(_, s)| s);
        fields
    }
}

/// Over syslog: the message is `[6-1] …prefix… LOG:  …`.
pub(super) fn read_syslog<'a>(header: &Header<'a>) -> Reading<'a> {
    let message = header.message;
    let message = match message.strip_prefix('[') {
        // `[7-2]`: the second line of message 7, a continuation.
        Some(rest) => match rest.cut("] ") {
            Some((number, _)) if !number.ends_with("-1") => return Reading::Other,
            Some((_, m)) => m,
            None => message,
        },
        None => message,
    };
    match prefixed_message(header.time, header.host, message) {
        // The program is PostgreSQL: whatever else it logged is known not to be a login.
        Reading::Unknown => Reading::Other,
        reading => reading,
    }
}

/// `csvlog`: log_time, user_name, database_name, process_id, connection_from, session_id,
/// session_line_num, command_tag, session_start_time, virtual_transaction_id,
/// transaction_id, error_severity, sql_state_code, message, …, application_name (23rd).
fn csvlog(time: Option<Timestamp>, text: &str) -> Reading<'static> {
    let time = Stamp::Read(time);
    let mut fields = Vec::with_capacity(26);
    if split_csv_line(text, &mut fields).is_err() || fields.len() < 14 {
        return Reading::Unknown;
    }
    let source = strip_port(&fields[4]);
    Connection {
        time,
        host: "",
        source: (!source.is_empty()).then_some(source),
        application: fields.get(22).map(|a| a.as_ref()),
        severity: &fields[11],
        message: &fields[13],
    }
    .read()
    .into_owned()
}

/// `10.0.0.5:51234` → `10.0.0.5`; `[local]` and IPv6 addresses without a port stay.
fn strip_port(from: &str) -> &str {
    match from.rsplit_once(':') {
        Some((addr, port))
            if !addr.contains(':')
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            addr
        }
        _ => from,
    }
}

/// `jsonlog` (PostgreSQL 15+), CloudNativePG's `{"record": {…}}`, Cloud SQL's
/// `{"textPayload": "…"}`.
pub(super) fn read_json(value: &Value) -> Option<Reading<'static>> {
    fn text<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
        v.get(key).and_then(Value::as_str)
    }
    if let Some(payload) = text(value, "textPayload") {
        let time = text(value, "timestamp").and_then(|t| parse_time_bytes(t.as_bytes()).ok());
        let host = value.pointer("/resource/labels/database_id").and_then(Value::as_str);
        // `[pid]: [line-1] prefix LOG:  message`
        let payload = payload.cut("]: ").map_or(payload, |(_, m)| m);
        let payload =
            payload.strip_prefix('[').map_or(payload, |r| r.cut("] ").map_or(r, |(_, m)| m));
        return Some(match prefixed_message(Stamp::Read(time), host.unwrap_or(""), payload) {
            // A Cloud SQL record: the rest of a multi-line message is no login either.
            Reading::Unknown => Reading::Other,
            reading => reading.into_owned(),
        });
    }
    let record = value.get("record").unwrap_or(value);
    let severity = text(record, "error_severity")?;
    let message = text(record, "message")?;
    let time =
        text(record, "log_time").or_else(|| text(record, "timestamp")).and_then(pg_json_time);
    let source =
        text(record, "connection_from").map(strip_port).or_else(|| text(record, "remote_host"));
    let connection = Connection {
        time: Stamp::Read(time),
        host: text(value, "logging_pod").unwrap_or(""),
        source,
        application: text(record, "application_name"),
        severity,
        message,
    };
    Some(connection.read().into_owned())
}

/// `2022-11-27 18:58:02.093 UTC`, as jsonlog and CloudNativePG write it.
fn pg_json_time(text: &str) -> Option<Timestamp> {
    let (stamp, zone) = text.rsplit_once(' ').unwrap_or((text, ""));
    let context = LogContext::in_year(1970, 0);
    pg_time(stamp, zone, &context)
}
