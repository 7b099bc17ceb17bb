//! PAM's messages, and the programs that switch accounts through it: `sudo`, `su`, `login`.

use std::borrow::Cow;

use super::{address, AuthEvent, Cut, Header, Reading, Service};

/// Shells: a `sudo` of one (without `-c`) is an interactive session as its target.
const SHELLS: [&str; 9] = ["sh", "bash", "zsh", "ksh", "csh", "tcsh", "dash", "fish", "su"];

/// PAM services at which a person types: a session opened by one of them is interactive.
const INTERACTIVE_SERVICES: [&str; 12] = [
    "sshd",
    "login",
    "su",
    "su-l",
    "sudo-i",
    "gdm-password",
    "lightdm",
    "sddm",
    "xrdp-sesman",
    "cockpit",
    "remote",
    "systemd-user-interactive",
];

fn service_of(name: &str) -> Service {
    match name {
        "sshd" | "sshd-session" => Service::Ssh,
        "sudo" | "sudo-i" => Service::Sudo,
        "su" | "su-l" => Service::Su,
        "login" => Service::Login,
        _ => Service::Pam,
    }
}

fn event<'a>(header: &Header<'a>, service: Service, account: &'a str) -> AuthEvent<'a> {
    AuthEvent {
        time: header.time.time(),
        host: Cow::Borrowed(header.host),
        service,
        account: Cow::Borrowed(account),
        by: None,
        source: None,
        method: Cow::Borrowed("password"),
        interactive: true,
        success: true,
        command: None,
    }
}

/// Any program: PAM's own lines, or nothing Bantay reads.
pub(super) fn generic<'a>(header: &Header<'a>) -> Reading<'a> {
    let message = header.message;
    if message.starts_with("pam_") || message.starts_with("(pam_unix)") {
        return pam_message(header, message);
    }
    if header.program.ends_with("(pam_unix)") {
        // `pop(pam_unix)[4920]: authentication failure; …`, Linux-PAM before 0.99.2: the
        // service is in the tag, the message is the same.
        return pam_message(header, message);
    }
    Reading::Other
}

/// `pam_unix(SERVICE:session): session opened for user NAME(uid=N) by BY(uid=M)`,
/// `pam_unix(SERVICE:auth): authentication failure; logname= uid= euid= tty= ruser= rhost= [user=]`
/// (and the older `(pam_unix) …` and `pam_unix: …` spellings).
pub(super) fn pam_message<'a>(header: &Header<'a>, message: &'a str) -> Reading<'a> {
    if let Some(body) = message.strip_prefix("(pam_unix) ") {
        return pam_body(header, header.program, body);
    }
    let (service_name, body) = match message.cut("): ") {
        Some((module, body)) if !module.contains(' ') => {
            let inner = module.split_once('(').map_or("", |(_, inner)| inner);
            (inner.split(':').next().unwrap_or(""), body)
        }
        _ => ("", message.cut(": ").map_or(message, |(_, body)| body)),
    };
    let service_name = if service_name.is_empty() || service_name == "auth" {
        header.program
    } else {
        service_name
    };
    pam_body(header, service_name, body)
}

fn pam_body<'a>(header: &Header<'a>, service_name: &'a str, body: &'a str) -> Reading<'a> {
    let service_name = service_name.split('(').next().unwrap_or(service_name);
    let service = service_of(service_name);
    if let Some(rest) = body.strip_prefix("session opened for user ") {
        // sshd, sudo and su log the same session with more detail on their own line.
        if matches!(service, Service::Ssh | Service::Sudo | Service::Su) {
            return Reading::Other;
        }
        let (account, by) = match rest.cut(" by ") {
            Some((account, by)) => (account, Some(by)),
            None => (rest, None),
        };
        let mut e = event(header, service, strip_uid(account));
        e.by = by.map(strip_uid).filter(|b| !b.is_empty() && *b != "LOGIN").map(Cow::Borrowed);
        e.method = Cow::Borrowed("session");
        e.interactive = INTERACTIVE_SERVICES.contains(&service_name);
        return Reading::Event(e);
    }
    if let Some(fields) = body.strip_prefix("authentication failure; ") {
        return failure(header, service, fields);
    }
    Reading::Other
}

/// `uid=0` stripped: `root(uid=0)` → `root`.
fn strip_uid(name: &str) -> &str {
    name.split_once('(').map_or(name, |(name, _)| name).trim()
}

/// `logname= uid=0 euid=0 tty=ssh ruser=R rhost=H[  user=U]`. The remote user and the
/// user may both be chosen by an attacker, so the host is the last `rhost=` before the
/// first ` user=` (PAM writes the user last).
fn failure<'a>(header: &Header<'a>, service: Service, fields: &'a str) -> Reading<'a> {
    let (head, user) = match fields.cut(" user=") {
        Some((head, user)) => (head, Some(user.trim())),
        None => (fields, None),
    };
    let Some((before, rhost)) = head.rcut(" rhost=") else {
        return Reading::Other;
    };
    let rhost = rhost.trim();
    let ruser = before.cut("ruser=").map(|(_, r)| r.trim()).filter(|r| !r.is_empty());
    let tty = before
        .split(' ')
        .find_map(|f| f.strip_prefix("tty="))
        .filter(|t| !t.is_empty() && *t != "ssh");
    let account = match (user, ruser) {
        (Some(user), _) if !user.is_empty() => user,
        (_, Some(ruser)) => ruser,
        _ => "",
    };
    let mut e = event(header, service, account);
    e.success = false;
    e.by = ruser.filter(|r| *r != account).map(Cow::Borrowed);
    e.source = if rhost.is_empty() { tty } else { Some(address(rhost)) }.map(Cow::Borrowed);
    Reading::Event(e)
}

/// `sudo`: `BY : [REASON ; ]TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/bash`.
pub(super) fn sudo<'a>(header: &Header<'a>) -> Reading<'a> {
    let message = header.message.trim_start();
    if message.starts_with("pam_") {
        return pam_message(header, message);
    }
    let Some((by, rest)) = message.cut(" : ") else {
        return Reading::Other;
    };
    // The command is last and may itself contain ` ; `.
    let (fields, command) = match rest.cut("COMMAND=") {
        Some((fields, command)) => (fields, Some(command)),
        None => (rest, None),
    };
    let mut account = "root";
    let mut tty = None;
    let mut refused = false;
    for field in fields.split(';').map(str::trim).filter(|f| !f.is_empty()) {
        match field.split_once('=') {
            Some(("USER", user)) => account = user,
            Some(("TTY", t)) => tty = Some(t),
            Some(_) => {}
            // A reason before the fields: `3 incorrect password attempts`, `user NOT in
            // sudoers`, `command not allowed`.
            None => refused = true,
        }
    }
    if tty.is_none() && command.is_none() {
        return Reading::Other;
    }
    let mut e = event(header, Service::Sudo, account);
    e.by = Some(Cow::Borrowed(by.trim()));
    e.source = tty.filter(|t| *t != "unknown").map(Cow::Borrowed);
    e.method = Cow::Borrowed("command");
    e.success = !refused;
    e.interactive = command.is_some_and(is_shell);
    e.command = command.map(Cow::Borrowed);
    Reading::Event(e)
}

/// A shell started without `-c`: what `sudo -i`, `sudo -s` and `sudo su -` log.
fn is_shell(command: &str) -> bool {
    let mut words = command.split_whitespace();
    let Some(program) = words.next() else {
        return false;
    };
    let name = program.rsplit('/').next().unwrap_or(program);
    SHELLS.contains(&name) && !words.any(|w| w == "-c")
}

/// `su`: util-linux's `(to root) alice on pts/0` and `FAILED SU (to root) alice on pts/0`,
/// shadow's `Successful su for root by alice` and `FAILED su for root by alice`.
pub(super) fn su<'a>(header: &Header<'a>) -> Reading<'a> {
    let message = header.message;
    if message.starts_with("pam_") {
        return pam_message(header, message);
    }
    let (success, rest) = match message.strip_prefix("FAILED SU ") {
        Some(rest) => (false, rest),
        None => (true, message),
    };
    if let Some(rest) = rest.strip_prefix("(to ") {
        if let Some((account, rest)) = rest.cut(") ") {
            let (by, tty) = rest.cut(" on ").unwrap_or((rest, ""));
            let mut e = event(header, Service::Su, account);
            e.by = Some(Cow::Borrowed(by));
            e.source = (!tty.is_empty()).then_some(Cow::Borrowed(tty));
            e.success = success;
            return Reading::Event(e);
        }
    }
    for (lead, success) in [("Successful su for ", true), ("FAILED su for ", false)] {
        if let Some(rest) = message.strip_prefix(lead) {
            if let Some((account, by)) = rest.cut(" by ") {
                let mut e = event(header, Service::Su, account);
                e.by = Some(Cow::Borrowed(by));
                e.success = success;
                return Reading::Event(e);
            }
        }
    }
    Reading::Other
}

/// `login`: PAM's session line names the account; `FAILED LOGIN (1) on '/dev/tty1' FOR
/// 'root', Authentication failure` is a refusal at the console.
pub(super) fn login<'a>(header: &Header<'a>) -> Reading<'a> {
    let message = header.message;
    if message.starts_with("pam_") {
        return match pam_message(header, message) {
            Reading::Event(mut e) => {
                e.method = Cow::Borrowed("console");
                Reading::Event(e)
            }
            other => other,
        };
    }
    if let Some(rest) = message.strip_prefix("FAILED LOGIN ") {
        let tty = rest.split('\'').nth(1);
        let account = rest.cut(" FOR '").and_then(|(_, r)| r.split('\'').next());
        if let Some(account) = account {
            let mut e = event(header, Service::Login, account);
            e.success = false;
            e.method = Cow::Borrowed("console");
            e.source = tty.map(|t| Cow::Borrowed(t.strip_prefix("/dev/").unwrap_or(t)));
            return Reading::Event(e);
        }
    }
    Reading::Other
}
