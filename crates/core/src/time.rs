//! Instants and the Bureau's clock face. The core never reads the clock: every function
//! that depends on time takes a [`Timestamp`] (STYLE.md, "Time").
//!
//! Timestamps are whole seconds since the Unix epoch. Dates and times written without an
//! offset are read in the Bureau's time zone, Asia/Manila, which has kept UTC+08:00
//! without daylight saving since 1990, so a fixed offset is exact for every date Bantay
//! handles.

use std::fmt;

/// Asia/Manila's offset from UTC, in seconds.
pub const MANILA_OFFSET_SECONDS: i64 = 8 * 3600;

const SECONDS_PER_DAY: i64 = 86_400;

/// An instant, in seconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// What was wrong with a written date or time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a date or time: {why} (write 2026-03-01, 2026-03-01T08:00 for Manila time, or 2026-03-01T00:00:00Z)")]
pub struct TimeError {
    text: String,
    why: &'static str,
}

impl Timestamp {
    pub const fn from_unix_seconds(seconds: i64) -> Self {
        Self(seconds)
    }

    pub const fn unix_seconds(self) -> i64 {
        self.0
    }

    /// This instant plus `seconds` (saturating).
    #[must_use]
    pub const fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds))
    }

    /// Reads `YYYY-MM-DD` (midnight, Manila), `YYYY-MM-DDTHH:MM[:SS]` (Manila), or either
    /// time form followed by `Z` or `±HH:MM`. A space may stand for the `T`.
    pub fn parse(text: &str) -> Result<Self, TimeError> {
        parse_bytes(text.as_bytes())
            .map_err(|why| TimeError { text: text.chars().take(64).collect(), why })
    }

    /// The instant of a calendar date and time of day read on a clock `offset_seconds`
    /// east of UTC, or `None` when a part is out of range. Log readers use it for the
    /// many timestamp layouts that are not ISO 8601.
    pub fn from_civil(
        date: (i64, i64, i64),
        time: (i64, i64, i64),
        offset_seconds: i64,
    ) -> Option<Self> {
        let (year, month, day) = date;
        let (hour, minute, second) = time;
        let valid = (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && (0..24).contains(&hour)
            && (0..60).contains(&minute)
            && (0..61).contains(&second);
        if !valid {
            return None;
        }
        let days = days_from_civil(year, month, day);
        in_range(days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second - offset_seconds).ok()
    }

    /// The year on a clock `offset_seconds` east of UTC.
    pub fn year_at(self, offset_seconds: i64) -> i64 {
        civil_from_days((self.0 + offset_seconds).div_euclid(SECONDS_PER_DAY)).0
    }

    /// The calendar date and time of day on a clock `offset_seconds` east of UTC.
    pub fn civil_at(self, offset_seconds: i64) -> ((i64, i64, i64), (i64, i64, i64)) {
        let local = self.0 + offset_seconds;
        let seconds = local.rem_euclid(SECONDS_PER_DAY);
        let date = civil_from_days(local.div_euclid(SECONDS_PER_DAY));
        (date, (seconds / 3600, seconds % 3600 / 60, seconds % 60))
    }

    /// The month (1–12) at this instant on a clock `offset_seconds` east of UTC.
    pub fn month_at(self, offset_seconds: i64) -> i64 {
        civil_from_days((self.0 + offset_seconds).div_euclid(SECONDS_PER_DAY)).1
    }

    /// The Manila calendar date and time, `YYYY-MM-DD HH:MM:SS`.
    pub fn manila(self) -> ManilaTime {
        ManilaTime(self)
    }
}

/// Parses the forms [`Timestamp::parse`] accepts, from bytes. Kept allocation-free: the
/// scan calls it twice for each of millions of grants.
pub fn parse_bytes(b: &[u8]) -> Result<Timestamp, &'static str> {
    if b.len() < 10 {
        return Err("too short for a date");
    }
    let year = digits(&b[0..4]).ok_or("the year is not four digits")?;
    if b[4] != b'-' || b[7] != b'-' {
        return Err("expected YYYY-MM-DD");
    }
    let month = digits(&b[5..7]).ok_or("the month is not two digits")?;
    let day = digits(&b[8..10]).ok_or("the day is not two digits")?;
    if !(1..=12).contains(&month) {
        return Err("the month is not 01 to 12");
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err("no such day in that month");
    }
    let days = days_from_civil(year, month, day);
    let rest = &b[10..];
    if rest.is_empty() {
        return in_range(days * SECONDS_PER_DAY - MANILA_OFFSET_SECONDS);
    }
    if rest[0] != b'T' && rest[0] != b' ' {
        return Err("expected `T` between the date and the time");
    }
    let rest = &rest[1..];
    if rest.len() < 5 || rest[2] != b':' {
        return Err("expected HH:MM after the date");
    }
    let hour = digits(&rest[0..2]).ok_or("the hour is not two digits")?;
    let minute = digits(&rest[3..5]).ok_or("the minute is not two digits")?;
    let mut rest = &rest[5..];
    let mut second = 0;
    if rest.first() == Some(&b':') {
        if rest.len() < 3 {
            return Err("the second is not two digits");
        }
        second = digits(&rest[1..3]).ok_or("the second is not two digits")?;
        rest = &rest[3..];
        // Fractions of a second are accepted and dropped: grants are not that precise.
        if rest.first() == Some(&b'.') {
            let fraction = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if fraction == 0 {
                return Err("a `.` must be followed by digits");
            }
            rest = &rest[1 + fraction..];
        }
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err("the time of day is out of range");
    }
    let offset = match rest {
        [] => MANILA_OFFSET_SECONDS,
        [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let h = digits(&[*h1, *h2]).ok_or("the offset hour is not two digits")?;
            let m = digits(&[*m1, *m2]).ok_or("the offset minute is not two digits")?;
            if h > 14 || m > 59 {
                return Err("the offset is out of range");
            }
            let magnitude = h * 3600 + m * 60;
            if *sign == b'-' {
                -magnitude
            } else {
                magnitude
            }
        }
        _ => return Err("expected nothing, `Z` or an offset like +08:00 after the time"),
    };
    in_range(days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second - offset)
}

/// Bantay's instants lie within the years 1000 to 9999 on the Manila clock, so that every
/// one prints as a four-digit year and reads back the same.
fn in_range(t: i64) -> Result<Timestamp, &'static str> {
    let first = days_from_civil(1000, 1, 1) * SECONDS_PER_DAY - MANILA_OFFSET_SECONDS;
    let last = days_from_civil(10_000, 1, 1) * SECONDS_PER_DAY - MANILA_OFFSET_SECONDS;
    if (first..last).contains(&t) {
        Ok(Timestamp(t))
    } else {
        Err("out of range: Bantay keeps times from the year 1000 to 9999")
    }
}

fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0i64, |n, &c| c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0')))
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (the inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A [`Timestamp`] shown on the Manila clock.
#[derive(Debug, Clone, Copy)]
pub struct ManilaTime(Timestamp);

impl ManilaTime {
    /// The full `xsd:dateTime` form, time of day included even at midnight
    /// (`2026-07-01T00:00:00+08:00`), for protocols that require it (SCIM).
    pub fn date_time(self) -> String {
        let local = self.0 .0 + MANILA_OFFSET_SECONDS;
        let (y, m, d) = civil_from_days(local.div_euclid(SECONDS_PER_DAY));
        let s = local.rem_euclid(SECONDS_PER_DAY);
        format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+08:00", s / 3600, s / 60 % 60, s % 60)
    }

    /// Seconds since Manila midnight.
    pub fn second_of_day(self) -> i64 {
        (self.0 .0 + MANILA_OFFSET_SECONDS).rem_euclid(SECONDS_PER_DAY)
    }
}

impl fmt::Display for ManilaTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let local = self.0 .0 + MANILA_OFFSET_SECONDS;
        let (y, m, d) = civil_from_days(local.div_euclid(SECONDS_PER_DAY));
        let s = local.rem_euclid(SECONDS_PER_DAY);
        if s == 0 {
            write!(f, "{y:04}-{m:02}-{d:02}")
        } else {
            write!(f, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+08:00", s / 3600, s / 60 % 60, s % 60)
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.manila().fmt(f)
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A half-open validity period `[from, until)`: a grant valid until 2026-06-01 is no
/// longer held at 2026-06-01 00:00 Manila. `until = None` is open-ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: Timestamp,
    pub until: Option<Timestamp>,
}

impl Period {
    pub fn contains(&self, at: Timestamp) -> bool {
        self.from <= at && self.until.is_none_or(|until| at < until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_manila_midnight() {
        let t = Timestamp::parse("2026-03-01").unwrap();
        assert_eq!(t, Timestamp::parse("2026-02-28T16:00:00Z").unwrap());
        assert_eq!(t.to_string(), "2026-03-01");
        assert_eq!(
            Timestamp::parse("2026-03-01T08:30").unwrap().to_string(),
            "2026-03-01T08:30:00+08:00"
        );
        assert_eq!(
            Timestamp::parse("2026-03-01 08:30:00+08:00").unwrap(),
            Timestamp::parse("2026-03-01T00:30:00.123Z").unwrap()
        );
    }

    #[test]
    fn bad_dates_say_why() {
        for (text, why) in [
            ("2026-02-29", "no such day"),
            ("2024-13-01", "month"),
            ("01/03/2026", "year"),
            ("2026-03-01T25:00", "out of range"),
            ("2026-03-01T08:00+8", "offset"),
            ("", "too short"),
            ("0999-12-31", "out of range"),
            ("1000-01-01T00:00+09:00", "out of range"),
        ] {
            let e = Timestamp::parse(text).unwrap_err().to_string();
            assert!(e.contains(why), "{text}: {e}");
        }
        assert!(Timestamp::parse("2024-02-29").is_ok());
    }

    #[test]
    fn civil_round_trip() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn periods_are_half_open() {
        let from = Timestamp::parse("2026-01-01").unwrap();
        let until = Timestamp::parse("2026-06-01").unwrap();
        let p = Period { from, until: Some(until) };
        assert!(p.contains(from));
        assert!(p.contains(until.plus_seconds(-1)));
        assert!(!p.contains(until));
        assert!(!p.contains(from.plus_seconds(-1)));
        assert!(Period { from, until: None }.contains(until));
    }
}
