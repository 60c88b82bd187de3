//! The working-day calendar (DOMAIN.md §2).
//!
//! A working day is Monday–Friday, minus the official holidays, plus the weekend
//! days the State Council declares working days (调休). Only listed exceptions are
//! stored per year; a computation that touches a year with no published schedule
//! fails with `calendar_year_missing` instead of guessing Monday–Friday.
//!
//! Periods follow 期间开始的日不计算在内: the day of the event is not counted, so
//! `add_working_days(d, 1)` is the first working day after `d`.
use crate::Coded;
use chrono::{Datelike, Days, NaiveDate, Weekday};
use std::collections::{BTreeMap, HashMap};

/// The longest period we agree to compute, in working days (about 40 years).
pub const MAX_PERIOD_DAYS: u32 = 10_000;

/// One listed date of a year's schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleDay {
    pub date: NaiveDate,
    /// true: an official day off (holiday); false: a 调休 working day.
    pub is_off_day: bool,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("no holiday schedule for year {0}")]
    YearMissing(i32),
    #[error("date {date} does not belong to year {year}")]
    DateOutsideYear { year: i32, date: NaiveDate },
    #[error("date {0} listed twice")]
    DuplicateDate(NaiveDate),
    #[error("period too long")]
    PeriodTooLong,
}

impl Coded for CalendarError {
    fn code(&self) -> &'static str {
        match self {
            Self::YearMissing(_) => "calendar_year_missing",
            Self::DateOutsideYear { .. } => "calendar_date_outside_year",
            Self::DuplicateDate(_) => "calendar_duplicate_date",
            Self::PeriodTooLong => "calendar_period_too_long",
        }
    }
    fn message_zh(&self) -> String {
        match self {
            Self::YearMissing(y) => {
                format!("{y} 年的节假日安排尚未录入，无法计算工作日；请管理员先添加该年度安排")
            }
            Self::DateOutsideYear { year, date } => format!("日期 {date} 不属于 {year} 年"),
            Self::DuplicateDate(d) => format!("日期 {d} 重复出现"),
            Self::PeriodTooLong => format!("期限不能超过 {MAX_PERIOD_DAYS} 个工作日"),
        }
    }
}

/// The schedules of every year an administrator has entered.
///
/// A year's notice may also list the last days of December of the year before
/// (the 2019 notice moved 2018-12-29..31 for New Year), so listed days are merged
/// across notices; where two notices list one date, the later notice wins.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    /// notice year → its listed days.
    notices: BTreeMap<i32, Vec<(NaiveDate, bool)>>,
    /// date → is_off_day, merged from all notices.
    days: HashMap<NaiveDate, bool>,
}

impl Calendar {
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks a year's schedule: every date inside the year (or in the December
    /// before it), none twice.
    pub fn validate_year(year: i32, days: &[ScheduleDay]) -> Result<(), CalendarError> {
        let mut seen = std::collections::HashSet::new();
        for d in days {
            let in_year =
                d.date.year() == year || (d.date.year() == year - 1 && d.date.month() == 12);
            if !in_year {
                return Err(CalendarError::DateOutsideYear { year, date: d.date });
            }
            if !seen.insert(d.date) {
                return Err(CalendarError::DuplicateDate(d.date));
            }
        }
        Ok(())
    }

    /// Adds or replaces a year's schedule.
    pub fn set_year(&mut self, year: i32, days: &[ScheduleDay]) -> Result<(), CalendarError> {
        Self::validate_year(year, days)?;
        self.notices
            .insert(year, days.iter().map(|d| (d.date, d.is_off_day)).collect());
        // Ascending notice years: a later notice overrides an earlier one.
        self.days = self.notices.values().flatten().copied().collect();
        Ok(())
    }

    pub fn has_year(&self, year: i32) -> bool {
        self.notices.contains_key(&year)
    }

    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.notices.keys().copied()
    }

    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        if !self.has_year(date.year()) {
            return Err(CalendarError::YearMissing(date.year()));
        }
        Ok(match self.days.get(&date) {
            Some(off) => !off,
            None => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
        })
    }

    /// The `days`-th working day after `from` (`from` itself is not counted);
    /// `days == 0` gives `from`.
    pub fn add_working_days(&self, from: NaiveDate, days: u32) -> Result<NaiveDate, CalendarError> {
        if days > MAX_PERIOD_DAYS {
            return Err(CalendarError::PeriodTooLong);
        }
        let mut date = from;
        let mut left = days;
        while left > 0 {
            date = date
                .checked_add_days(Days::new(1))
                .ok_or(CalendarError::PeriodTooLong)?;
            if self.is_working_day(date)? {
                left -= 1;
            }
        }
        Ok(date)
    }

    /// Working days in the half-open interval (from, to]; negative when `to`
    /// is before `from`. `working_days_between(d, add_working_days(d, n)) == n`.
    pub fn working_days_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<i64, CalendarError> {
        if to < from {
            return Ok(-self.working_days_between(to, from)?);
        }
        if (to - from).num_days() > i64::from(MAX_PERIOD_DAYS) * 2 {
            return Err(CalendarError::PeriodTooLong);
        }
        let mut n = 0i64;
        let mut date = from;
        while date < to {
            date = date
                .checked_add_days(Days::new(1))
                .ok_or(CalendarError::PeriodTooLong)?;
            if self.is_working_day(date)? {
                n += 1;
            }
        }
        Ok(n)
    }
}

/// Parses `YYYY-MM-DD` strictly (no time, no surrounding text).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    if s.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    /// A year given as (date, off) pairs, as in the official notices.
    fn year(cal: &mut Calendar, y: i32, list: &[(&str, bool)]) {
        let days: Vec<ScheduleDay> = list
            .iter()
            .map(|(s, off)| ScheduleDay {
                date: d(s),
                is_off_day: *off,
                name: String::new(),
            })
            .collect();
        cal.set_year(y, &days).unwrap();
    }

    #[test]
    fn rejects_bad_schedules() {
        let mut cal = Calendar::new();
        let one = |s: &str| ScheduleDay {
            date: d(s),
            is_off_day: true,
            name: String::new(),
        };
        assert_eq!(
            cal.set_year(2026, &[one("2027-01-01")]).unwrap_err().code(),
            "calendar_date_outside_year"
        );
        assert_eq!(
            cal.set_year(2026, &[one("2025-11-30")]).unwrap_err().code(),
            "calendar_date_outside_year"
        );
        // The December before belongs to the next year's notice when it says so.
        cal.set_year(2019, &[one("2018-12-31")]).unwrap();
        assert_eq!(
            cal.is_working_day(d("2018-12-31")),
            Err(CalendarError::YearMissing(2018))
        );
        cal.set_year(2018, &[]).unwrap();
        // A Monday, but off under the 2019 notice.
        assert_eq!(cal.is_working_day(d("2018-12-31")), Ok(false));
        assert_eq!(
            cal.set_year(2026, &[one("2026-01-01"), one("2026-01-01")])
                .unwrap_err()
                .code(),
            "calendar_duplicate_date"
        );
    }

    #[test]
    fn missing_year_is_an_error_never_a_guess() {
        let mut cal = Calendar::new();
        year(&mut cal, 2026, &[]);
        let err = cal.add_working_days(d("2026-12-30"), 5).unwrap_err();
        assert_eq!(err, CalendarError::YearMissing(2027));
        assert_eq!(err.code(), "calendar_year_missing");
        assert!(cal.is_working_day(d("2030-03-04")).is_err());
        // Within a known year the computation still works.
        assert_eq!(
            cal.add_working_days(d("2026-12-28"), 2).unwrap(),
            d("2026-12-30")
        );
    }

    #[test]
    fn zero_days_is_the_same_day() {
        let cal = Calendar::new();
        // Zero days touches no year at all.
        assert_eq!(
            cal.add_working_days(d("2030-01-01"), 0).unwrap(),
            d("2030-01-01")
        );
    }

    #[test]
    fn period_limit() {
        let cal = Calendar::new();
        assert_eq!(
            cal.add_working_days(d("2026-01-01"), MAX_PERIOD_DAYS + 1)
                .unwrap_err()
                .code(),
            "calendar_period_too_long"
        );
    }

    proptest! {
        #[test]
        fn between_inverts_add(start in 0u32..300, n in 0u32..60) {
            let mut cal = Calendar::new();
            year(&mut cal, 2025, &[("2025-10-01", true), ("2025-10-02", true), ("2025-09-28", false)]);
            year(&mut cal, 2026, &[("2026-01-01", true), ("2026-01-04", false)]);
            let from = d("2025-03-01") + Days::new(u64::from(start));
            let to = cal.add_working_days(from, n).unwrap();
            prop_assert_eq!(cal.working_days_between(from, to).unwrap(), i64::from(n));
            prop_assert_eq!(cal.working_days_between(to, from).unwrap(), -i64::from(n));
            if n > 0 { prop_assert!(cal.is_working_day(to).unwrap()); }
        }

        #[test]
        fn parse_date_never_panics(s in "\\PC{0,14}") {
            if let Some(date) = parse_date(&s) {
                prop_assert_eq!(date.format("%Y-%m-%d").to_string(), s);
            }
        }
    }
}
