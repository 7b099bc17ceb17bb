//! Events and their canonical encoding: the bytes a ledger leaf hashes.
//!
//! An event is written as JSON in the canonical form of RFC 8785 (JCS): object keys
//! sorted, no insignificant white space, minimal string escapes. Two restrictions keep the
//! form unambiguous without a float formatter: numbers are integers (a time is Unix
//! seconds, an amount is in its smallest unit), and object keys are ASCII, so sorting by
//! bytes is sorting by UTF-16 code units as JCS requires. The same event always gives the
//! same bytes, whoever wrote it and in whatever order its fields came.

use serde_json::Value;

/// One change in Bantay: what happened (`kind`), who did it, when, and the details.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Position in the ledger, from 0.
    pub seq: u64,
    /// Unix seconds.
    pub time: i64,
    /// What happened, e.g. `grant.created`.
    pub kind: String,
    /// Who did it: a person's id, or `system:…` for Bantay itself.
    pub actor: String,
    pub body: Value,
}

/// Why an event has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodingError {
    #[error(
        "{path}: {number} is not an integer; events carry integers only (seconds, smallest units)"
    )]
    NotAnInteger { path: String, number: String },
    #[error(
        "{path}: key `{key}` is not ASCII; event keys are ASCII so that their order is unambiguous"
    )]
    NonAsciiKey { path: String, key: String },
}

impl Event {
    /// The canonical bytes of the whole event.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, EncodingError> {
        canonical_event(self.seq, self.time, &self.kind, &self.actor, &self.body)
    }
}

/// The canonical bytes of an event given by its parts, without assembling an [`Event`]:
/// the top-level keys in their sorted order, the body in canonical form.
pub fn canonical_event(
    seq: u64,
    time: i64,
    kind: &str,
    actor: &str,
    body: &Value,
) -> Result<Vec<u8>, EncodingError> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"{\"actor\":");
    string(actor, &mut out);
    out.extend_from_slice(b",\"body\":");
    write(body, &mut out).map_err(|e| e.into_error(".body"))?;
    out.extend_from_slice(b",\"kind\":");
    string(kind, &mut out);
    out.extend_from_slice(format!(",\"seq\":{seq},\"time\":{time}}}").as_bytes());
    Ok(out)
}

/// The sequence number an event's canonical bytes carry, read from their end without
/// parsing the rest: the top-level keys sort as actor, body, kind, seq, time, so the bytes
/// end `,"seq":N,"time":T}`. `None` when they do not (the bytes are not an event's).
pub fn event_seq(bytes: &[u8]) -> Option<u64> {
    let rest = bytes.strip_suffix(b"}")?;
    let rest = &rest[..rposition(rest, b",\"time\":")?];
    let at = rposition(rest, b"\"seq\":")?;
    let digits = &rest[at + 6..];
    if digits.is_empty() || digits.len() > 20 || (digits[0] == b'0' && digits.len() > 1) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

fn rposition(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// The RFC 8785 canonical form of a JSON value, within the restrictions above.
pub fn canonical_json(value: &Value) -> Result<Vec<u8>, EncodingError> {
    let mut out = Vec::with_capacity(256);
    write(value, &mut out).map_err(|e| e.into_error(""))?;
    Ok(out)
}

impl Refused {
    /// The error, its path starting at `$` and `prefix`.
    fn into_error(self, prefix: &str) -> EncodingError {
        // The path was gathered innermost first, on the way out.
        let path = std::iter::once(format!("${prefix}"))
            .chain(self.path.into_iter().rev())
            .collect::<String>();
        match self.kind {
            Refusal::Number(number) => EncodingError::NotAnInteger { path, number },
            Refusal::Key(key) => EncodingError::NonAsciiKey { path, key },
        }
    }
}

/// A refusal on its way out of the recursion, collecting the path as it goes; building
/// paths only on error keeps the common case free of allocations.
struct Refused {
    kind: Refusal,
    path: Vec<String>,
}

enum Refusal {
    Number(String),
    Key(String),
}

fn write(value: &Value, out: &mut Vec<u8>) -> Result<(), Refused> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => {
            if n.is_f64() {
                return Err(Refused { kind: Refusal::Number(n.to_string()), path: Vec::new() });
            }
            out.extend_from_slice(n.to_string().as_bytes());
        }
        Value::String(s) => string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, out).map_err(|mut e| {
                    e.path.push(format!("[{i}]"));
                    e
                })?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            if let Some(bad) = keys.iter().find(|k| !k.is_ascii()) {
                return Err(Refused { kind: Refusal::Key((*bad).clone()), path: Vec::new() });
            }
            keys.sort_unstable();
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                string(key, out);
                out.push(b':');
                write(&map[key], out).map_err(|mut e| {
                    e.path.push(format!(".{key}"));
                    e
                })?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// A JSON string with JCS's minimal escapes: `"` and `\`, the five short control escapes,
/// `\u00xx` for other control characters, everything else as UTF-8.
fn string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{08}' => out.extend_from_slice(b"\\b"),
            '\u{0c}' => out.extend_from_slice(b"\\f"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon(v: Value) -> String {
        String::from_utf8(canonical_json(&v).unwrap()).unwrap()
    }

    #[test]
    fn keys_are_sorted_and_space_removed() {
        assert_eq!(
            canon(json!({"b": [1, {"z": null, "a": true}], "a": "x"})),
            r#"{"a":"x","b":[1,{"a":true,"z":null}]}"#
        );
    }

    #[test]
    fn strings_use_minimal_escapes() {
        assert_eq!(canon(json!("a\"b\\c\n\u{1f}é/€")), "\"a\\\"b\\\\c\\n\\u001fé/€\"");
    }

    #[test]
    fn floats_and_non_ascii_keys_are_refused_with_their_path() {
        let e = canonical_json(&json!({"grant": {"hours": 1.5}})).unwrap_err();
        assert_eq!(e.to_string(), "$.grant.hours: 1.5 is not an integer; events carry integers only (seconds, smallest units)");
        let e = canonical_json(&json!({"ñ": 1})).unwrap_err();
        assert!(matches!(e, EncodingError::NonAsciiKey { .. }));
    }

    #[test]
    fn the_same_event_in_any_field_order_is_the_same_bytes() {
        let a: Value =
            serde_json::from_str(r#"{"person":"P1","clause":"1.2.4","until":null}"#).unwrap();
        let b: Value =
            serde_json::from_str(r#"{"until":null,"clause":"1.2.4","person":"P1"}"#).unwrap();
        let event = |body| Event {
            seq: 7,
            time: 1_780_000_000,
            kind: "grant.created".into(),
            actor: "P9".into(),
            body,
        };
        assert_eq!(event(a).canonical_bytes().unwrap(), event(b).canonical_bytes().unwrap());
        assert_eq!(
            String::from_utf8(event(json!({})).canonical_bytes().unwrap()).unwrap(),
            r#"{"actor":"P9","body":{},"kind":"grant.created","seq":7,"time":1780000000}"#
        );
    }
}
