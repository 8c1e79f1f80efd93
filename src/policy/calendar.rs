//! The campus calendar: business days and calendar days in the configured time zone.
//!
//! Owns only date arithmetic. It never reads the clock; every instant is an argument. DST is
//! handled by jiff: a wall-clock time that does not exist (spring-forward gap) moves forward
//! (jiff's "compatible" disambiguation), an ambiguous one (fall-back) takes the earlier instant.
use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, Zoned};
use std::collections::BTreeSet;

/// How far ahead to search for the next business day before deciding the calendar has none
/// (e.g. an empty workday list): then every day counts, so arithmetic always terminates.
const MAX_SEARCH_DAYS: usize = 3660;

/// Business-day calendar in one time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    tz: TimeZone,
    /// Indexed by `Weekday::to_monday_zero_offset()`.
    workdays: [bool; 7],
    holidays: BTreeSet<Date>,
}

impl Calendar {
    pub fn new(tz: TimeZone, workdays: &[Weekday], holidays: &[Date]) -> Self {
        // No workdays configured: count every day, so that arithmetic always terminates.
        let mut days = [workdays.is_empty(); 7];
        for w in workdays {
            days[w.to_monday_zero_offset() as usize] = true;
        }
        Calendar {
            tz,
            workdays: days,
            holidays: holidays.iter().copied().collect(),
        }
    }

    pub fn from_config(c: &crate::config::CalendarConfig) -> Self {
        let workdays: Vec<Weekday> = c.workdays.iter().map(|w| w.0).collect();
        Calendar::new(c.timezone.tz.clone(), &workdays, &c.holidays)
    }

    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }

    /// `t` in the calendar's zone, for notices and audit lines.
    pub fn local(&self, t: Timestamp) -> Zoned {
        t.to_zoned(self.tz.clone())
    }

    /// `t` as people read it: `2026-11-20 16:15 EST`.
    pub fn show(&self, t: Timestamp) -> String {
        self.local(t).strftime("%Y-%m-%d %H:%M %Z").to_string()
    }

    /// A configured weekday that is not a holiday.
    pub fn is_business_day(&self, d: Date) -> bool {
        self.workdays[d.weekday().to_monday_zero_offset() as usize] && !self.holidays.contains(&d)
    }

    /// The first business day strictly after `d`; `None` only at the end of the date range.
    fn next_business_day(&self, d: Date) -> Option<Date> {
        let mut cur = d;
        for _ in 0..MAX_SEARCH_DAYS {
            cur = cur.tomorrow().ok()?;
            if self.is_business_day(cur) {
                return Some(cur);
            }
        }
        // No business day configured at all: count every day rather than loop forever.
        d.tomorrow().ok()
    }

    /// "N business days after t": if `t` is not on a business day, start from 00:00 of the
    /// next business day; then step forward `n` business days, keeping the wall-clock time.
    pub fn business_days_after(&self, t: Timestamp, n: u32) -> Timestamp {
        let z = self.local(t);
        let (mut date, mut time) = (z.date(), z.time());
        if !self.is_business_day(date) {
            match self.next_business_day(date) {
                Some(d) => {
                    date = d;
                    time = Time::midnight();
                }
                None => return Timestamp::MAX,
            }
        }
        for _ in 0..n {
            match self.next_business_day(date) {
                Some(d) => date = d,
                None => return Timestamp::MAX,
            }
        }
        self.resolve(DateTime::from_parts(date, time))
    }

    /// "N calendar days after t": the same wall-clock time `n` days later in the zone.
    pub fn calendar_days_after(&self, t: Timestamp, n: u32) -> Timestamp {
        let z = self.local(t);
        let Ok(span) = Span::new().try_days(i64::from(n)) else {
            return Timestamp::MAX;
        };
        match z.datetime().checked_add(span) {
            Ok(dt) => self.resolve(dt),
            Err(_) => Timestamp::MAX,
        }
    }

    /// A wall-clock time in the zone, gaps moved forward, folds taking the earlier instant.
    fn resolve(&self, dt: DateTime) -> Timestamp {
        self.tz
            .to_ambiguous_timestamp(dt)
            .compatible()
            .unwrap_or(Timestamp::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn ny() -> Calendar {
        use Weekday::*;
        Calendar::new(
            TimeZone::get("America/New_York").unwrap(),
            &[Monday, Tuesday, Wednesday, Thursday, Friday],
            &[date(2026, 11, 26), date(2026, 12, 25), date(2027, 1, 1)],
        )
    }

    /// Local New York wall time → instant.
    fn at(cal: &Calendar, y: i16, m: i8, d: i8, h: i8, min: i8) -> Timestamp {
        date(y, m, d)
            .at(h, min, 0, 0)
            .to_zoned(cal.tz().clone())
            .unwrap()
            .timestamp()
    }

    fn show(cal: &Calendar, t: Timestamp) -> String {
        cal.local(t).strftime("%a %Y-%m-%d %H:%M %Z").to_string()
    }

    #[test]
    fn business_days_table() {
        let c = ny();
        // (start local, n, expected local)
        type LocalTime = (i16, i8, i8, i8, i8);
        let rows: &[(LocalTime, u32, &str)] = &[
            // Friday 16:00 + 2 → Tuesday 16:00.
            ((2026, 11, 20, 16, 0), 2, "Tue 2026-11-24 16:00 EST"),
            // Friday + 1 → Monday.
            ((2026, 11, 20, 16, 0), 1, "Mon 2026-11-23 16:00 EST"),
            // Saturday: start Monday 00:00, then +2 → Wednesday 00:00.
            ((2026, 11, 21, 10, 30), 2, "Wed 2026-11-25 00:00 EST"),
            // Saturday, n = 0 → Monday 00:00.
            ((2026, 11, 21, 10, 30), 0, "Mon 2026-11-23 00:00 EST"),
            // Day before Thanksgiving: Wed + 1 skips Thu (holiday) → Fri.
            ((2026, 11, 25, 9, 15), 1, "Fri 2026-11-27 09:15 EST"),
            // Wed + 2 → Fri, then Mon (skips holiday and weekend).
            ((2026, 11, 25, 9, 15), 2, "Mon 2026-11-30 09:15 EST"),
            // On the holiday itself: start Fri 00:00, + 1 → Mon 00:00.
            ((2026, 11, 26, 12, 0), 1, "Mon 2026-11-30 00:00 EST"),
            // Christmas Thursday 2026-12-24 + 1 → Mon 12-28 (Fri 25th is a holiday).
            ((2026, 12, 24, 8, 0), 1, "Mon 2026-12-28 08:00 EST"),
            // Across fall-back (Sun 2026-11-01): Fri 10-30 EDT + 1 → Mon EST, same wall time.
            ((2026, 10, 30, 16, 0), 1, "Mon 2026-11-02 16:00 EST"),
            // Across spring-forward (Sun 2026-03-08): Fri 03-06 EST + 1 → Mon EDT.
            ((2026, 3, 6, 16, 0), 1, "Mon 2026-03-09 16:00 EDT"),
        ];
        for &((y, m, d, h, min), n, want) in rows {
            let t = at(&c, y, m, d, h, min);
            assert_eq!(
                show(&c, c.business_days_after(t, n)),
                want,
                "{y}-{m}-{d} {h}:{min} + {n} business days"
            );
        }
    }

    #[test]
    fn calendar_days_keep_wall_clock_across_dst() {
        let c = ny();
        // Fall back: Sat 10-31 16:00 EDT + 3 days = Tue 11-03 16:00 EST (73 real hours).
        let t = at(&c, 2026, 10, 31, 16, 0);
        let r = c.calendar_days_after(t, 3);
        assert_eq!(show(&c, r), "Tue 2026-11-03 16:00 EST");
        assert_eq!(r.duration_since(t).as_hours(), 73);
        // Spring forward: Sat 03-07 16:00 EST + 3 = Tue 03-10 16:00 EDT (71 real hours).
        let t = at(&c, 2026, 3, 7, 16, 0);
        let r = c.calendar_days_after(t, 3);
        assert_eq!(show(&c, r), "Tue 2026-03-10 16:00 EDT");
        assert_eq!(r.duration_since(t).as_hours(), 71);
    }

    #[test]
    fn nonexistent_wall_time_moves_forward() {
        let c = ny();
        // Sat 2026-03-07 02:30 EST + 1 calendar day = 2026-03-08 02:30, which does not exist:
        // it moves forward to 03:30 EDT.
        let t = at(&c, 2026, 3, 7, 2, 30);
        assert_eq!(
            show(&c, c.calendar_days_after(t, 1)),
            "Sun 2026-03-08 03:30 EDT"
        );
        // A Sunday-workday calendar: business-day arithmetic lands on the gap the same way.
        let sun = Calendar::new(c.tz().clone(), &[Weekday::Sunday, Weekday::Saturday], &[]);
        assert_eq!(
            show(&sun, sun.business_days_after(t, 1)),
            "Sun 2026-03-08 03:30 EDT"
        );
        // Ambiguous 01:30 on fall-back day takes the earlier (EDT) instant.
        let t = at(&c, 2026, 10, 31, 1, 30);
        assert_eq!(
            show(&c, c.calendar_days_after(t, 1)),
            "Sun 2026-11-01 01:30 EDT"
        );
    }

    #[test]
    fn business_day_predicate_and_degenerate_calendars() {
        let c = ny();
        assert!(c.is_business_day(date(2026, 11, 25)));
        assert!(!c.is_business_day(date(2026, 11, 26))); // Thanksgiving
        assert!(!c.is_business_day(date(2026, 11, 28))); // Saturday
        // No workdays at all: every day counts.
        let none = Calendar::new(TimeZone::UTC, &[], &[]);
        let t: Timestamp = "2026-11-20T16:00:00Z".parse().unwrap();
        assert_eq!(
            none.business_days_after(t, 2).to_string(),
            "2026-11-22T16:00:00Z"
        );
        // Huge counts saturate instead of panicking.
        assert_eq!(c.calendar_days_after(t, u32::MAX), Timestamp::MAX);
    }
}
