//! The one place Bantay reads the clock (STYLE.md, "Time"): everything else takes the
//! time as a parameter.

use bantay_core::Timestamp;

/// Now, or the time given with `--at`.
pub fn now_or(at: Option<&str>) -> anyhow::Result<Timestamp> {
    match at {
        Some(text) => Ok(Timestamp::parse(text)?),
        None => Ok(now()),
    }
}

#[allow(clippy::disallowed_methods)] // the edge of the system: the clock is read here only
pub fn now() -> Timestamp {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    Timestamp::from_unix_seconds(seconds)
}
