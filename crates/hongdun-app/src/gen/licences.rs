//! Food licences for the trades that need them (食品经营许可证 `JY…` for
//! catering and food retail, 食品生产许可证 `SC…` for food makers), as a
//! register really holds them: valid for five years, issued at any point of
//! that span — so a few expire within the month and a few have lapsed while
//! the shop still trades — and about one shop in twelve without one at all
//! (the "required but missing" list). Pure in (seed, row, today).
use super::entities::GenEntity;
use super::Rng;
use chrono::{Months, NaiveDate};
use hongdun_core::registry::LicenceKind;

/// Share of licensable, trading entities that hold their licence.
const HOLD_RATE: f64 = 0.92;
/// Food licences are valid five years (食品经营许可管理办法).
const VALID_YEARS: u32 = 5;

/// One generated licence, keyed by its holder's credit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenLicence {
    pub uscc: String,
    pub kind: LicenceKind,
    pub number: String,
    pub issuer: String,
    pub issued_on: NaiveDate,
    pub expires_on: NaiveDate,
}

/// The licence of generated row `n`, if its trade needs one and it holds one.
pub fn licence(
    seed: u64,
    n: u64,
    e: &GenEntity,
    county: &str,
    county_name: &str,
    today: NaiveDate,
) -> Option<GenLicence> {
    if !e.food || e.status != "存续" {
        return None;
    }
    let mut r = Rng::fork(seed ^ 0x11CE_2CE5, n);
    if !r.chance(HOLD_RATE) {
        return None;
    }
    let established = NaiveDate::parse_from_str(&e.established, "%Y-%m-%d").ok()?;
    // Issued within the last five years and two months (so some have lapsed),
    // never before the business existed.
    let span_days = i64::from(VALID_YEARS) * 365 + 60;
    let issued =
        (today - chrono::Duration::days(r.below(span_days as u64) as i64)).max(established);
    let expires =
        issued.checked_add_months(Months::new(12 * VALID_YEARS))? - chrono::Duration::days(1);
    let (kind, prefix) = if e.industry.starts_with('C') {
        (LicenceKind::FoodProduction, "SC")
    } else {
        (LicenceKind::FoodBusiness, "JY")
    };
    // Category digit (1 retail, 2 catering), the county, a serial, a check digit.
    let category = if e.industry.starts_with('H') { 2 } else { 1 };
    let serial = n % 1_000_000;
    let body = format!("{category}{county}{serial:06}");
    let check = body.bytes().map(|b| u32::from(b - b'0')).sum::<u32>() % 10;
    Some(GenLicence {
        uscc: e.uscc.clone(),
        kind,
        number: format!("{prefix}{body}{check}"),
        issuer: format!("{county_name}市场监督管理局"),
        issued_on: issued,
        expires_on: expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::entities::{entity, towns_of};

    #[test]
    fn licences_are_valid_realistic_and_deterministic() {
        let (name, towns) = towns_of("331023").unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let (mut food, mut held, mut expiring, mut lapsed) = (0, 0, 0, 0);
        let mut numbers = std::collections::HashSet::new();
        for n in 0..20_000 {
            let e = entity(7, n, "331023", &name, &towns);
            let l = licence(7, n, &e, "331023", &name, today);
            assert_eq!(
                l,
                licence(7, n, &e, "331023", &name, today),
                "deterministic"
            );
            if e.food && e.status == "存续" {
                food += 1;
            }
            let Some(l) = l else { continue };
            held += 1;
            assert!(e.food && e.status == "存续");
            assert_eq!(
                l.kind.parse_number(&l.number).unwrap(),
                l.number,
                "{}",
                l.number
            );
            assert!(numbers.insert(l.number.clone()), "numbers are unique");
            assert!(l.issued_on <= today && l.expires_on > l.issued_on);
            assert!(l.issued_on >= NaiveDate::parse_from_str(&e.established, "%Y-%m-%d").unwrap());
            if l.expires_on < today {
                lapsed += 1;
            } else if (l.expires_on - today).num_days() <= 30 {
                expiring += 1;
            }
        }
        let share = held as f64 / food as f64;
        assert!((0.89..0.95).contains(&share), "held {share}");
        assert!(
            expiring > 0 && lapsed > 0,
            "expiring {expiring}, lapsed {lapsed}"
        );
        assert!(
            (lapsed as f64) < 0.08 * held as f64,
            "lapsed {lapsed} of {held}"
        );
    }
}
