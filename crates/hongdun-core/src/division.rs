//! Administrative division codes (统计用区划代码): province 2 digits, city 4,
//! county 6, township 9. A county bureau's jurisdiction is its county code; its
//! offices cover townships.
use crate::Coded;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DivisionCode(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DivisionLevel {
    Province,
    City,
    County,
    Township,
}

impl DivisionLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::City => "city",
            Self::County => "county",
            Self::Township => "township",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "province" => Self::Province,
            "city" => Self::City,
            "county" => Self::County,
            "township" => Self::Township,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid division code")]
pub struct DivisionCodeError;

impl Coded for DivisionCodeError {
    fn code(&self) -> &'static str {
        "division_code_invalid"
    }
    fn message_zh(&self) -> String {
        "行政区划代码应为 2、4、6 或 9 位数字".into()
    }
}

impl DivisionCode {
    pub fn parse(s: &str) -> Result<Self, DivisionCodeError> {
        let s = s.trim();
        let ok_len = matches!(s.len(), 2 | 4 | 6 | 9);
        if ok_len && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(DivisionCodeError)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn level(&self) -> DivisionLevel {
        match self.0.len() {
            2 => DivisionLevel::Province,
            4 => DivisionLevel::City,
            6 => DivisionLevel::County,
            _ => DivisionLevel::Township,
        }
    }
    /// The enclosing division, `None` for a province.
    pub fn parent(&self) -> Option<DivisionCode> {
        let len = match self.0.len() {
            4 => 2,
            6 => 4,
            9 => 6,
            _ => return None,
        };
        Some(Self(self.0[..len].to_owned()))
    }
    /// True when `other` is this division or lies inside it.
    pub fn contains(&self, other: &DivisionCode) -> bool {
        other.0.starts_with(&self.0)
    }
}

impl TryFrom<String> for DivisionCode {
    type Error = DivisionCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<DivisionCode> for String {
    fn from(d: DivisionCode) -> String {
        d.0
    }
}
impl std::fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn levels_and_parents() {
        let t = DivisionCode::parse("331023100").unwrap();
        assert_eq!(t.level(), DivisionLevel::Township);
        assert_eq!(t.parent().unwrap().as_str(), "331023");
        assert_eq!(
            DivisionCode::parse("331023")
                .unwrap()
                .parent()
                .unwrap()
                .as_str(),
            "3310"
        );
        assert_eq!(DivisionCode::parse("33").unwrap().parent(), None);
        assert!(DivisionCode::parse("331023").unwrap().contains(&t));
        assert!(!DivisionCode::parse("330482").unwrap().contains(&t));
    }

    #[test]
    fn rejects_bad_codes() {
        for bad in [
            "",
            "3",
            "331",
            "33102",
            "3310231",
            "33102310x",
            "３３",
            "3310231000",
        ] {
            assert_eq!(DivisionCode::parse(bad), Err(DivisionCodeError), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_roundtrips(s in "\\PC{0,12}") {
            if let Ok(d) = DivisionCode::parse(&s) {
                prop_assert_eq!(DivisionCode::parse(d.as_str()).unwrap(), d);
            }
        }
    }
}
