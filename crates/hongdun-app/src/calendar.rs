//! The working-day calendar as a service: schedules live in the database (seeded
//! from the holiday-cn data shipped in `data/holidays-cn/`), administrators add
//! or correct a year through the API, and every computation goes through
//! `hongdun_core::calendar`.
use crate::{App, AppError, AppResult, Principal};
use chrono::NaiveDate;
use hongdun_core::calendar::{parse_date, Calendar, ScheduleDay};
use hongdun_store::HolidayYear;
use std::sync::Arc;

/// The official schedules shipped with the binary (MIT, holiday-cn dataset).
pub const BUNDLED_YEARS: &[(i32, &str)] = &[
    (2015, include_str!("../../../data/holidays-cn/2015.json")),
    (2016, include_str!("../../../data/holidays-cn/2016.json")),
    (2017, include_str!("../../../data/holidays-cn/2017.json")),
    (2018, include_str!("../../../data/holidays-cn/2018.json")),
    (2019, include_str!("../../../data/holidays-cn/2019.json")),
    (2020, include_str!("../../../data/holidays-cn/2020.json")),
    (2021, include_str!("../../../data/holidays-cn/2021.json")),
    (2022, include_str!("../../../data/holidays-cn/2022.json")),
    (2023, include_str!("../../../data/holidays-cn/2023.json")),
    (2024, include_str!("../../../data/holidays-cn/2024.json")),
    (2025, include_str!("../../../data/holidays-cn/2025.json")),
    (2026, include_str!("../../../data/holidays-cn/2026.json")),
];

#[derive(serde::Deserialize)]
struct HolidayCnFile {
    year: i32,
    days: Vec<HolidayCnDay>,
}

#[derive(serde::Deserialize)]
struct HolidayCnDay {
    name: String,
    date: String,
    #[serde(rename = "isOffDay")]
    is_off_day: bool,
}

/// Parses one year in the holiday-cn JSON format.
pub fn parse_holiday_cn(json: &str) -> Result<(i32, Vec<ScheduleDay>), String> {
    let f: HolidayCnFile = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let days = f
        .days
        .into_iter()
        .map(|d| {
            let date = parse_date(&d.date).ok_or_else(|| format!("bad date {:?}", d.date))?;
            Ok(ScheduleDay {
                date,
                is_off_day: d.is_off_day,
                name: d.name,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Calendar::validate_year(f.year, &days).map_err(|e| e.to_string())?;
    Ok((f.year, days))
}

/// One listed day as the API accepts it.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct DayInput {
    pub date: String,
    pub is_off_day: bool,
    #[serde(default)]
    pub name: String,
}

impl App {
    pub async fn calendar(&self) -> AppResult<Arc<Calendar>> {
        if let Some(cal) = self.calendar.fresh() {
            return Ok(cal);
        }
        let mut cal = Calendar::new();
        for y in self.store.list_holiday_years().await? {
            cal.set_year(y.year, &y.days)
                .map_err(|e| AppError::Internal(e.to_string()))?;
        }
        Ok(self.calendar.put(cal))
    }

    pub async fn add_working_days(&self, from: NaiveDate, days: u32) -> AppResult<NaiveDate> {
        self.calendar()
            .await?
            .add_working_days(from, days)
            .map_err(|e| AppError::rule(&e, Some("from")))
    }

    pub async fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> AppResult<i64> {
        self.calendar()
            .await?
            .working_days_between(from, to)
            .map_err(|e| AppError::rule(&e, Some("to")))
    }

    pub async fn is_working_day(&self, date: NaiveDate) -> AppResult<bool> {
        self.calendar()
            .await?
            .is_working_day(date)
            .map_err(|e| AppError::rule(&e, Some("date")))
    }

    pub async fn holiday_years(&self) -> AppResult<Vec<HolidayYear>> {
        Ok(self.store.list_holiday_years().await?)
    }

    /// Adds or corrects a year's schedule (the next year is published each
    /// November or December).
    pub async fn put_holiday_year(
        &self,
        p: &Principal,
        year: i32,
        source: &str,
        days: &[DayInput],
    ) -> AppResult<HolidayYear> {
        self.authorize(p, "system:calendar:update").await?;
        let mut check = crate::system::Check::default();
        if !(1949..=2200).contains(&year) {
            check.push("year", "out_of_range", "年份应在 1949–2200 之间");
        }
        let source = check.text(
            "source",
            if source.trim().is_empty() {
                "人工录入"
            } else {
                source
            },
            500,
        );
        let mut parsed = Vec::with_capacity(days.len());
        for (i, d) in days.iter().enumerate() {
            match parse_date(d.date.trim()) {
                Some(date) => parsed.push(ScheduleDay {
                    date,
                    is_off_day: d.is_off_day,
                    name: d.name.trim().to_owned(),
                }),
                None => check.push(
                    &format!("days[{i}].date"),
                    "date_invalid",
                    "日期格式应为 YYYY-MM-DD",
                ),
            }
        }
        check.finish()?;
        Calendar::validate_year(year, &parsed).map_err(|e| AppError::rule(&e, Some("days")))?;
        let y = self
            .store
            .put_holiday_year(&p.audit_ctx(), year, &source, &parsed)
            .await?;
        self.calendar.forget();
        Ok(y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> Calendar {
        let mut cal = Calendar::new();
        for (year, json) in BUNDLED_YEARS {
            let (y, days) = parse_holiday_cn(json).unwrap();
            assert_eq!(y, *year);
            cal.set_year(y, &days).unwrap();
        }
        cal
    }

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    /// Working or not, from the official notices of 2024–2026.
    #[test]
    fn official_days_2024_2026() {
        let cal = bundled();
        let table = [
            ("2024-01-01", false), // 元旦
            ("2024-02-04", true),  // Sunday, 调休 for the Spring Festival
            ("2024-02-10", false), // 春节
            ("2024-02-18", true),  // Sunday, 调休
            ("2024-04-07", true),  // Sunday after 清明, 调休
            ("2024-05-01", false), // 劳动节
            ("2024-05-11", true),  // Saturday, 调休
            ("2024-09-14", true),  // Saturday, 调休 for 中秋
            ("2024-09-17", false), // 中秋
            ("2024-10-07", false), // 国庆
            ("2024-10-12", true),  // Saturday, 调休
            ("2024-10-08", true),  // an ordinary Tuesday
            ("2025-01-26", true),  // Sunday, 调休
            ("2025-01-28", false), // 春节 (除夕 is an official day off from 2025)
            ("2025-02-04", false),
            ("2025-02-08", true), // Saturday, 调休
            ("2025-04-27", true), // Sunday, 调休 for 劳动节
            ("2025-10-08", false),
            ("2025-10-11", true), // Saturday, 调休
            ("2025-09-28", true), // Sunday, 调休
            ("2026-01-01", false),
            ("2026-01-04", true), // Sunday, 调休 (DOMAIN.md §2)
            ("2026-10-01", false),
            ("2026-10-07", false),
            ("2026-10-08", true), // Thursday after the National Day break (DOMAIN.md §2)
            ("2026-11-21", false), // an ordinary Saturday
            ("2026-11-23", true), // an ordinary Monday
        ];
        for (date, working) in table {
            assert_eq!(cal.is_working_day(d(date)).unwrap(), working, "{date}");
        }
    }

    #[test]
    fn periods_across_holidays() {
        let cal = bundled();
        let table = [
            // (received, working days, due)
            ("2026-09-30", 1, "2026-10-08"), // DOMAIN.md §2
            ("2026-09-30", 7, "2026-10-15"), // 10-10 is a 调休 Saturday
            ("2026-09-25", 7, "2026-10-12"), // received on the 中秋 holiday before the National Day break
            ("2024-02-02", 1, "2024-02-04"), // Friday → the 调休 Sunday
            ("2024-02-08", 1, "2024-02-09"), // 除夕 2024 was not a day off
            ("2024-02-09", 1, "2024-02-18"), // across the Spring Festival onto a 调休 Sunday
            ("2025-12-31", 1, "2026-01-04"), // across years, onto a 调休 Sunday
            ("2025-04-30", 1, "2025-05-06"),
            ("2026-11-20", 15, "2026-12-11"),
            ("2026-03-02", 45, "2026-05-08"),
        ];
        for (from, n, due) in table {
            assert_eq!(
                cal.add_working_days(d(from), n).unwrap(),
                d(due),
                "{from} + {n}"
            );
            assert_eq!(
                cal.working_days_between(d(from), d(due)).unwrap(),
                i64::from(n),
                "{from}..{due}"
            );
        }
    }

    #[test]
    fn year_without_schedule_is_an_error() {
        let cal = bundled();
        let err = cal.add_working_days(d("2030-03-01"), 3).unwrap_err();
        assert_eq!(hongdun_core::Coded::code(&err), "calendar_year_missing");
        // A period that runs out of the last known year fails too.
        assert!(cal.add_working_days(d("2026-12-24"), 10).is_err());
    }
}
