//! OpenSSH's `sshd` (and, since 9.8, `sshd-session`) messages.

use std::borrow::Cow;

use super::{address, pam, AuthEvent, Cut, Header, Reading, Service};

pub(super) fn read<'a>(header: &Header<'a>) -> Reading<'a> {
    let message = header.message.trim_end();
    let message = message.strip_suffix(" [preauth]").unwrap_or(message);
    let message = message.strip_prefix("error: ").unwrap_or(message);
    if message.starts_with("pam_") || message.starts_with("(pam_unix)") {
        return pam::pam_message(header, message);
    }
    let event = |account: &'a str, source: Option<&'a str>, method: &'a str, success: bool| {
        Reading::Event(AuthEvent {
            time: header.time.time(),
            host: Cow::Borrowed(header.host),
            service: Service::Ssh,
            account: Cow::Borrowed(account),
            by: None,
            source: source.map(|s| Cow::Borrowed(address(s))),
            method: Cow::Borrowed(method),
            interactive: true,
            success,
            command: None,
        })
    };
    if let Some(rest) = message.strip_prefix("Accepted ") {
        if let Some((method, rest)) = rest.cut(" for ") {
            if let Some((user, addr)) = user_from(rest, ends_session_line) {
                return event(user, Some(addr), method, true);
            }
        }
        return Reading::Other;
    }
    if let Some(rest) = message.strip_prefix("Failed ") {
        if let Some((method, rest)) = rest.cut(" for ") {
            let rest = rest.strip_prefix("invalid user ").unwrap_or(rest);
            if let Some((user, addr)) = user_from(rest, ends_session_line) {
                return event(user, Some(addr), method, false);
            }
        }
        return Reading::Other;
    }
    if let Some(rest) = message.strip_prefix("Invalid user") {
        let rest = rest.strip_prefix(' ').unwrap_or(rest);
        if let Some((user, addr)) = user_from(rest, |tail| tail.is_empty()) {
            return event(user, Some(addr), "none", false);
        }
        return Reading::Other;
    }
    if let Some(rest) = message.strip_prefix("User ") {
        if let Some((user, addr)) = user_from(rest, |tail| tail.starts_with(" not allowed")) {
            return event(user, Some(addr), "none", false);
        }
        if let Some((user, _)) = rest.cut(" not allowed because") {
            return event(user, None, "none", false);
        }
        return Reading::Other;
    }
    if let Some(rest) = message.strip_prefix("ROOT LOGIN REFUSED FROM ") {
        let addr = rest.split(' ').next().unwrap_or(rest);
        return event("root", Some(addr), "none", false);
    }
    if let Some(rest) = message.strip_prefix("PAM: ") {
        // `PAM: Authentication failure for [illegal user ]NAME from HOST[ via ADDR]`, and
        // `PAM: User not known to the underlying authentication module for illegal user …`.
        if let Some((_, rest)) = rest.cut(" for ") {
            let rest = rest.strip_prefix("illegal user ").unwrap_or(rest);
            let via = |tail: &str| tail.is_empty() || tail.starts_with(" via ");
            if let Some((user, addr)) = user_from(rest, via) {
                return event(user, Some(addr), "keyboard-interactive/pam", false);
            }
        }
        return Reading::Other;
    }
    if let Some(rest) = message.strip_prefix("maximum authentication attempts exceeded for ") {
        let rest = rest.strip_prefix("invalid user ").unwrap_or(rest);
        if let Some((user, addr)) = user_from(rest, ends_session_line) {
            return event(user, Some(addr), "none", false);
        }
        return Reading::Other;
    }
    if let Some(user) = message.strip_prefix("Disconnecting: Too many authentication failures for ")
    {
        return event(user, None, "none", false);
    }
    if let Some(rest) = message.strip_prefix("Disconnecting invalid user ") {
        let head = rest.cut(": ").map_or(rest, |(head, _)| head);
        if let Some((user, addr)) = user_addr_port(head) {
            return event(user, Some(addr), "none", false);
        }
        return Reading::Other;
    }
    for lead in [
        "Connection closed by authenticating user ",
        "Connection reset by authenticating user ",
        "Disconnected from authenticating user ",
        "Connection closed by invalid user ",
        "Disconnected from invalid user ",
    ] {
        if let Some(rest) = message.strip_prefix(lead) {
            // `NAME ADDR port N`: the name is whatever lies before the last address.
            if let Some((user, addr)) = user_addr_port(rest) {
                return event(user, Some(addr), "none", false);
            }
            return Reading::Other;
        }
    }
    Reading::Other
}

/// What may follow ` from ADDR port N ssh2` in `Accepted`/`Failed` lines: nothing, or the
/// key's description after a colon.
fn ends_session_line(tail: &str) -> bool {
    tail.is_empty() || tail.starts_with(':')
}

/// `NAME from ADDR[ port N][ sshV]TAIL`, where NAME may itself hold ` from …`: the first
/// ` from ` whose address, port and protocol are followed by an acceptable tail.
fn user_from(rest: &str, tail_ok: impl Fn(&str) -> bool) -> Option<(&str, &str)> {
    let mut start = 0;
    loop {
        let at = if start == 0 && rest.starts_with("from ") {
            0
        } else {
            start + rest.get(start..)?.at(" from ")? + 1
        };
        let after = &rest[at + 5..];
        let addr_end = after.find(' ').unwrap_or(after.len());
        let addr = &after[..addr_end];
        let mut tail = &after[addr_end..];
        if let Some(port) = tail.strip_prefix(" port ") {
            let digits = port.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 {
                tail = &port[digits..];
            }
        }
        for protocol in [" ssh2", " ssh1"] {
            if let Some(t) = tail.strip_prefix(protocol) {
                tail = t;
            }
        }
        if !addr.is_empty() && tail_ok(tail) {
            return Some((rest[..at].trim_end_matches(' '), addr));
        }
        start = at + 1;
    }
}

/// `NAME ADDR port N` read from the right.
fn user_addr_port(rest: &str) -> Option<(&str, &str)> {
    let (left, port) = rest.rcut(" port ")?;
    let port = port.split(':').next().unwrap_or(port);
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match left.rsplit_once(' ') {
        Some((user, addr)) => Some((user, addr)),
        None => Some(("", left)),
    }
}
