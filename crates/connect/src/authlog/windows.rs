//! Windows logon events exported as JSON lines: 4624 (an account was logged on) and 4625
//! (an account failed to log on), from `evtx_dump -o jsonl`
//! (`{"Event": {"System": …, "EventData": …}}`) or Winlogbeat/ECS
//! (`{"@timestamp": …, "winlog": {"event_id": …, "event_data": …}}`).

use std::borrow::Cow;

use bantay_core::{parse_time_bytes, Timestamp};
use serde_json::Value;

use super::{address, AuthEvent, Reading, Service};

/// Logon types at which a person sits: interactive (2), unlock (7), remote interactive
/// (10), cached interactive (11) and cached remote interactive (12).
const INTERACTIVE_TYPES: [u64; 5] = [2, 7, 10, 11, 12];

/// `None` when the JSON is not a Windows event.
pub(super) fn read(value: &Value) -> Option<Reading<'static>> {
    let (id, time, host, data) = if let Some(event) = value.get("Event") {
        let system = event.get("System")?;
        let id = number(system.get("EventID")?)
            .or_else(|| system.pointer("/EventID/#text").and_then(number))?;
        let time = system
            .pointer("/TimeCreated/#attributes/SystemTime")
            .or_else(|| system.pointer("/TimeCreated/SystemTime"))
            .and_then(time_of);
        (id, time, system.get("Computer"), event.get("EventData")?)
    } else {
        let winlog = value.get("winlog")?;
        let id = number(winlog.get("event_id")?)?;
        let time = value.get("@timestamp").and_then(time_of);
        (id, time, winlog.get("computer_name"), winlog.get("event_data")?)
    };
    let success = match id {
        4624 => true,
        4625 => false,
        _ => return Some(Reading::Other),
    };
    let text = |key: &str| {
        data.get(key)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty() && *v != "-")
            .map(str::to_owned)
    };
    let logon_type = data.get("LogonType").and_then(number).unwrap_or(0);
    let account = match (text("TargetDomainName"), text("TargetUserName")) {
        (Some(domain), Some(user)) => format!("{domain}\\{user}"),
        (None, Some(user)) => user,
        (_, None) => return Some(Reading::Other),
    };
    let source = text("IpAddress").map(|a| address(&a).to_owned()).or(text("WorkstationName"));
    Some(Reading::Event(AuthEvent {
        time,
        host: Cow::Owned(host.and_then(Value::as_str).unwrap_or("").to_owned()),
        service: Service::Windows,
        account: Cow::Owned(account),
        by: None,
        source: source.map(Cow::Owned),
        method: Cow::Owned(format!("logon type {logon_type}")),
        interactive: INTERACTIVE_TYPES.contains(&logon_type),
        success,
        command: None,
    }))
}

/// Numbers arrive as numbers or as strings, depending on the exporter.
fn number(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
}

/// `2019-02-06T14:18:35.946133Z`, or seconds since the epoch.
fn time_of(value: &Value) -> Option<Timestamp> {
    match value {
        Value::String(s) => parse_time_bytes(s.as_bytes()).ok(),
        Value::Number(n) => n.as_f64().map(|s| Timestamp::from_unix_seconds(s as i64)),
        _ => None,
    }
}
