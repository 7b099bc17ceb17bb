//! 4.3's arithmetic: the shifts of the pack's shift plan (Asia/Manila, no daylight
//! saving), which shifts a pass's window touches, and whether a window is one the order
//! allows. Pure: the current time is a parameter.

use crate::catalog::ShiftPlan;
use crate::lifecycle::Window;
use crate::rules::DatacenterRules;
use crate::snapshot::RecordError;
use crate::time::{Timestamp, MANILA_OFFSET_SECONDS};

const DAY: i64 = 86_400;

/// One shift, `[start, end)`. A shift is named by its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shift {
    pub start: Timestamp,
    pub end: Timestamp,
}

/// The shift that `at` falls in. The last shift of a day runs past midnight into the
/// next day's first (22:00–06:00 is one shift).
pub fn shift_at(plan: &ShiftPlan, at: Timestamp) -> Shift {
    let local = at.unix_seconds() + MANILA_OFFSET_SECONDS;
    let midnight = local.div_euclid(DAY) * DAY;
    let second = local - midnight;
    let starts: Vec<i64> = plan.starts.iter().map(|&s| i64::from(s)).collect();
    // The plan always has a shift (the pack refuses one without); an empty one is a
    // single day-long shift from midnight.
    let (first, last) = (starts.first().copied().unwrap_or(0), starts.last().copied().unwrap_or(0));
    let start = match starts.iter().rev().find(|&&s| s <= second) {
        Some(&s) => midnight + s,
        None => midnight - DAY + last,
    };
    let start_of_day = start - (start.rem_euclid(DAY));
    let offset = start - start_of_day;
    let end = match starts.iter().find(|&&s| s > offset) {
        Some(&s) => start_of_day + s,
        None => start_of_day + DAY + first,
    };
    let end = if end <= start { start + DAY } else { end };
    Shift {
        start: Timestamp::from_unix_seconds(start - MANILA_OFFSET_SECONDS),
        end: Timestamp::from_unix_seconds(end - MANILA_OFFSET_SECONDS),
    }
}

/// Every shift `[from, until)` touches, in order: a window across a shift boundary counts
/// against both shifts.
pub fn shifts_between(plan: &ShiftPlan, from: Timestamp, until: Timestamp) -> Vec<Shift> {
    let mut shifts = Vec::new();
    let mut shift = shift_at(plan, from);
    while shift.start < until {
        shifts.push(shift);
        shift = shift_at(plan, shift.end);
    }
    shifts
}

/// Checks an emergency visit's window: it ends after it starts, is not over, does not
/// start in the past and is no longer than the pack's longest pass.
pub fn check_pass_window(
    rules: &DatacenterRules,
    from: Timestamp,
    until: Timestamp,
    now: Timestamp,
) -> Result<(), RecordError> {
    let hours = i64::from(rules.max_pass_hours);
    let window = Window { from, until, fields: ("from", "until"), what: "a visit" };
    window.check(now, hours * 3600, || {
        format!(
            "an emergency visit lasts at most {hours} hours under {}; ask for a shorter window",
            rules.clause
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> ShiftPlan {
        ShiftPlan { time_zone: "Asia/Manila".into(), starts: vec![6 * 3600, 14 * 3600, 22 * 3600] }
    }

    fn t(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    #[test]
    fn the_night_shift_runs_across_midnight() {
        let night = Shift { start: t("2026-12-01T22:00"), end: t("2026-12-02T06:00") };
        for at in
            ["2026-12-01T22:00", "2026-12-01T23:59:59", "2026-12-02T00:00", "2026-12-02T05:59:59"]
        {
            assert_eq!(shift_at(&plan(), t(at)), night, "{at}");
        }
        assert_eq!(shift_at(&plan(), t("2026-12-02T06:00")).start, t("2026-12-02T06:00"));
        assert_eq!(shift_at(&plan(), t("2026-12-02T13:59:59")).end, t("2026-12-02T14:00"));
        // Midnight UTC is 08:00 Manila: the morning shift.
        assert_eq!(shift_at(&plan(), t("2026-12-02T00:00:00Z")).start, t("2026-12-02T06:00"));
    }

    #[test]
    fn a_window_across_a_boundary_counts_against_both_shifts() {
        let shifts = shifts_between(&plan(), t("2026-12-01T13:00"), t("2026-12-01T15:00"));
        let starts: Vec<Timestamp> = shifts.iter().map(|s| s.start).collect();
        assert_eq!(starts, [t("2026-12-01T06:00"), t("2026-12-01T14:00")]);
        // Ending exactly at the boundary does not touch the next shift.
        assert_eq!(shifts_between(&plan(), t("2026-12-01T12:00"), t("2026-12-01T14:00")).len(), 1);
        let night = shifts_between(&plan(), t("2026-12-01T23:00"), t("2026-12-02T03:00"));
        assert_eq!(night.len(), 1, "one night shift across midnight");
    }
}
