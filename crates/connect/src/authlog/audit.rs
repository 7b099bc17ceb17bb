//! The Linux audit log's user records (`/var/log/audit/audit.log`): `USER_AUTH`,
//! `USER_LOGIN` and `USER_ERR`, which PAM and sshd write for every attempt.

use std::borrow::Cow;

use bantay_core::Timestamp;

use super::{address, AuthEvent, Cut, Reading, Service};

pub(super) fn read(text: &str) -> Reading<'_> {
    let Some((kind, rest)) = text.strip_prefix("type=").and_then(|t| t.split_once(' ')) else {
        return Reading::Unknown;
    };
    let Some(stamp) = rest.strip_prefix("msg=audit(").and_then(|r| r.split(['.', ':']).next())
    else {
        return Reading::Unknown;
    };
    if !matches!(kind, "USER_AUTH" | "USER_LOGIN" | "USER_ERR") {
        return Reading::Other;
    }
    let time = stamp.parse::<i64>().ok().map(Timestamp::from_unix_seconds);
    let Some((_, inner)) = rest.cut("msg='") else {
        return Reading::Other;
    };
    let inner = inner.strip_suffix('\'').unwrap_or(inner);
    let field = |name: &str| {
        inner.split(' ').find_map(|f| f.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
    };
    let account = match field("acct") {
        Some(quoted) if quoted.starts_with('"') => Cow::Borrowed(quoted.trim_matches('"')),
        Some(hex) => Cow::Owned(decode_hex(hex).unwrap_or_else(|| hex.to_owned())),
        None => Cow::Borrowed(""),
    };
    let account = if account == "?" { Cow::Borrowed("") } else { account };
    let exe = field("exe").unwrap_or("").trim_matches('"');
    let service = match exe.rsplit('/').next().unwrap_or(exe) {
        "sshd" | "sshd-session" => Service::Ssh,
        "su" => Service::Su,
        "sudo" => Service::Sudo,
        "login" => Service::Login,
        _ => Service::Pam,
    };
    let source = field("addr").filter(|a| *a != "?").or(field("terminal").filter(|t| *t != "?"));
    Reading::Event(AuthEvent {
        time,
        host: Cow::Borrowed(field("node").unwrap_or("")),
        service,
        account,
        by: None,
        source: source.map(|s| Cow::Borrowed(address(s))),
        method: Cow::Borrowed(field("op").unwrap_or("")),
        interactive: !matches!(service, Service::Pam),
        success: field("res") == Some("success"),
        command: None,
    })
}

/// The audit log writes a name with spaces or quotes as hex: `28756E6B6E6F776E29`.
fn decode_hex(hex: &str) -> Option<String> {
    let bytes = hex::decode(hex).ok()?;
    String::from_utf8(bytes).ok()
}
