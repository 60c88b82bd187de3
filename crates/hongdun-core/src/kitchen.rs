//! Sunshine kitchens (阳光厨房 / 明厨亮灶): camera identities, heartbeat time
//! buckets and the online rate. DOMAIN.md §6.
//!
//! Time is counted in China Standard Time (UTC+8, no daylight saving) as whole
//! minutes and hours since 1970-01-01 00:00 local: a day's and an hour's
//! figures are the ones a bureau reads off its wall clock.
//!
//! **Online.** A camera is online during minute `m` when it sent a heartbeat in
//! one of the minutes `m − w + 1 ..= m`, `w` being the online window (default
//! 3: gateways beat once a minute, so one lost beat does not count). Heartbeats
//! are kept as one 60-bit word per camera and hour, bit `i` set when a beat came
//! in minute `i` of that hour. The online rate of any set of cameras over any
//! period is online camera-minutes over counted camera-minutes; minutes before
//! a camera was installed and minutes not yet past are not counted.
use crate::Coded;
use chrono::{DateTime, Datelike, NaiveDate, Utc};

/// Seconds China Standard Time is ahead of UTC.
pub const CST_OFFSET_SECS: i64 = 8 * 3600;
/// The share of camera-minutes online a bureau is held to (95%).
pub const ONLINE_TARGET: f64 = 0.95;
/// Default online window in minutes.
pub const DEFAULT_WINDOW: u32 = 3;

/// Places in a kitchen a camera watches.
pub const PLACES: &[(&str, &str)] = &[
    ("kitchen", "后厨操作区"),
    ("prep", "切配区"),
    ("cooking", "烹饪区"),
    ("cold", "专间（冷食/裱花）"),
    ("washing", "洗消间"),
    ("storage", "食品库房"),
    ("serving", "备餐/出餐区"),
];

pub fn place_label(code: &str) -> Option<&'static str> {
    PLACES.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}

/// Minutes since 1970-01-01 00:00 China time.
pub fn minute_of(t: DateTime<Utc>) -> i64 {
    (t.timestamp() + CST_OFFSET_SECS).div_euclid(60)
}

/// The hour a minute falls in, and the minute within it.
pub fn hour_of_minute(minute: i64) -> (i64, u32) {
    (minute.div_euclid(60), minute.rem_euclid(60) as u32)
}

/// The first hour of a local calendar day.
pub fn first_hour(day: NaiveDate) -> i64 {
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight");
    midnight.and_utc().timestamp().div_euclid(3600)
}

/// The local day and hour of day (0–23) of an hour number.
pub fn day_of_hour(hour: i64) -> (NaiveDate, u32) {
    let t = DateTime::UNIX_EPOCH.naive_utc() + chrono::Duration::hours(hour);
    (t.date(), (hour.rem_euclid(24)) as u32)
}

/// The local day of a moment.
pub fn local_day(t: DateTime<Utc>) -> NaiveDate {
    day_of_hour(minute_of(t).div_euclid(60)).0
}

/// Mask of the minutes `0..n` of an hour.
fn first_minutes(n: u32) -> u64 {
    if n >= 60 {
        (1u64 << 60) - 1
    } else {
        (1u64 << n) - 1
    }
}

/// Which minutes of an hour a camera was online, given its beats in that hour
/// and the hour before (for a window that reaches back across the hour).
pub fn online_mask(prev: u64, cur: u64, window: u32) -> u64 {
    let both: u128 = (prev as u128 & ((1u128 << 60) - 1)) | ((cur as u128) << 60);
    let mut acc = both;
    for k in 1..window.clamp(1, 60) {
        acc |= both << k;
    }
    ((acc >> 60) as u64) & first_minutes(60)
}

/// Online and counted minutes of one camera in one hour. `counted` is the mask
/// of minutes that count (installed, already past).
pub fn hour_minutes(prev: u64, cur: u64, window: u32, counted: u64) -> (u32, u32) {
    let on = online_mask(prev, cur, window) & counted;
    (on.count_ones(), counted.count_ones())
}

/// The minutes of hour `hour` that count for a camera installed from minute
/// `installed` (inclusive), when minute `now` is the current one (minutes
/// before `now` are past; the current minute is not yet judged).
pub fn counted_mask(hour: i64, installed: i64, now: i64) -> u64 {
    let start = hour * 60;
    let lo = (installed - start).clamp(0, 60) as u32;
    let hi = (now - start).clamp(0, 60) as u32;
    if hi <= lo {
        return 0;
    }
    first_minutes(hi) & !first_minutes(lo)
}

/// A rate in [0, 1], or `None` when nothing was counted.
pub fn rate(online: u64, counted: u64) -> Option<f64> {
    (counted > 0).then(|| online as f64 / counted as f64)
}

/// A national video device id (GB/T 28181): 20 digits. Digits 1–8 are the
/// administrative division (province, city, county, grass-roots), 9–10 the
/// industry, 11–13 the device type (131/132 cameras, 111–118 recorders and
/// platforms), 14 the network, 15–20 a serial number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceIdError {
    Length,
    Charset,
}

impl Coded for DeviceIdError {
    fn code(&self) -> &'static str {
        match self {
            Self::Length => "device_id_length",
            Self::Charset => "device_id_charset",
        }
    }
    fn message_zh(&self) -> String {
        match self {
            Self::Length => "设备国标编码应为 20 位数字".into(),
            Self::Charset => "设备国标编码只能包含数字".into(),
        }
    }
}

pub fn check_device_id(s: &str) -> Result<String, DeviceIdError> {
    let s = s.trim();
    if !s.chars().all(|c| c.is_ascii_digit()) {
        return Err(DeviceIdError::Charset);
    }
    if s.len() != 20 {
        return Err(DeviceIdError::Length);
    }
    Ok(s.to_owned())
}

/// Catering businesses (GB/T 4754-2017 division 62, 餐饮业): the base of coverage.
pub fn is_catering(industry: Option<&str>) -> bool {
    industry.is_some_and(|i| i.starts_with("62") || i.starts_with("H62"))
}

/// `YYYY-MM` of a day, for monthly figures.
pub fn month_of(day: NaiveDate) -> String {
    format!("{:04}-{:02}", day.year(), day.month())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn local_time_buckets() {
        // 2026-11-23 00:30 in Beijing is 2026-11-22 16:30 UTC.
        let t = Utc.with_ymd_and_hms(2026, 11, 22, 16, 30, 10).unwrap();
        let m = minute_of(t);
        let (h, i) = hour_of_minute(m);
        assert_eq!(i, 30);
        assert_eq!(
            day_of_hour(h),
            (NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(), 0)
        );
        assert_eq!(
            first_hour(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()),
            h
        );
        assert_eq!(local_day(t), NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
    }

    #[test]
    fn window_reaches_back_across_the_hour() {
        // A beat at minute 59 of the previous hour keeps minutes 0 and 1 online
        // with a window of 3.
        let prev = 1u64 << 59;
        let m = online_mask(prev, 0, 3);
        assert_eq!(m, 0b11);
        // A beat every minute: all 60 online.
        assert_eq!(online_mask(0, first_minutes(60), 1).count_ones(), 60);
        // One beat at minute 10, window 3: minutes 10, 11, 12.
        assert_eq!(online_mask(0, 1 << 10, 3), 0b111 << 10);
        // Nothing from the previous hour leaks beyond the window.
        assert_eq!(online_mask(first_minutes(60), 0, 3), 0b11);
    }

    #[test]
    fn counted_minutes() {
        let h = 1000;
        assert_eq!(counted_mask(h, 0, (h + 1) * 60).count_ones(), 60);
        assert_eq!(counted_mask(h, h * 60 + 15, (h + 1) * 60).count_ones(), 45);
        assert_eq!(counted_mask(h, 0, h * 60 + 20).count_ones(), 20);
        assert_eq!(counted_mask(h, (h + 2) * 60, (h + 3) * 60), 0);
        assert_eq!(counted_mask(h, 0, h * 60), 0);
    }

    #[test]
    fn device_ids() {
        assert!(check_device_id("33102300001310000001").is_ok());
        assert_eq!(
            check_device_id("3310230000131000000"),
            Err(DeviceIdError::Length)
        );
        assert_eq!(
            check_device_id("3310230000131000000X"),
            Err(DeviceIdError::Charset)
        );
    }

    proptest::proptest! {
        /// The bit arithmetic equals the definition minute by minute.
        #[test]
        fn mask_equals_definition(prev: u64, cur: u64, w in 1u32..10) {
            let prev = prev & first_minutes(60);
            let cur = cur & first_minutes(60);
            let beat = |m: i64| -> bool {
                if m < 0 { prev >> (m + 60) & 1 == 1 } else { cur >> m & 1 == 1 }
            };
            let mask = online_mask(prev, cur, w);
            for m in 0..60i64 {
                let expect = (m - w as i64 + 1..=m).any(beat);
                proptest::prop_assert_eq!(mask >> m & 1 == 1, expect);
            }
        }
    }
}
