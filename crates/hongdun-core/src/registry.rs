//! The register of businesses (经营主体名录): credit codes, registration
//! numbers, kinds, statuses, licences, and the text normalisation that imports
//! and search share. DOMAIN.md §1.
use crate::Coded;
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

/// The 31 symbols of GB 32100-2015, in value order.
const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// 3^(i-1) mod 31 for positions 1..17.
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// 统一社会信用代码, validated.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Uscc(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    #[error("a credit code has 18 characters, got {0}")]
    Length(usize),
    #[error("character {ch:?} at position {pos} is not allowed")]
    Charset { pos: usize, ch: char },
    #[error("check character should be {expected}")]
    Checksum { expected: char },
    #[error("organisation-code check character should be {expected}")]
    OrgChecksum { expected: char },
}

impl Coded for UsccError {
    fn code(&self) -> &'static str {
        match self {
            Self::Length(_) => "uscc_length",
            Self::Charset { .. } => "uscc_charset",
            Self::Checksum { .. } | Self::OrgChecksum { .. } => "uscc_checksum",
        }
    }
    fn message_zh(&self) -> String {
        match self {
            Self::Length(n) => format!("统一社会信用代码应为 18 位，实际 {n} 位"),
            Self::Charset { pos, ch } => {
                format!("统一社会信用代码第 {pos} 位“{ch}”不是允许的字符（不使用 I、O、S、V、Z）")
            }
            Self::Checksum { expected } => {
                format!("统一社会信用代码校验位错误，第 18 位应为 {expected}")
            }
            Self::OrgChecksum { expected } => {
                format!("统一社会信用代码中的组织机构代码校验位错误，第 17 位应为 {expected}")
            }
        }
    }
}

fn uscc_value(b: u8) -> Option<u32> {
    USCC_ALPHABET.iter().position(|&a| a == b).map(|i| i as u32)
}

/// The check character for the first 17 characters (which must be valid symbols).
pub fn uscc_check_char(first17: &[u8]) -> Option<char> {
    let mut sum = 0u32;
    for (b, w) in first17.iter().zip(USCC_WEIGHTS) {
        sum += uscc_value(*b)? * w;
    }
    let c = (31 - sum % 31) % 31;
    Some(USCC_ALPHABET[c as usize] as char)
}

/// The GB 11714 check character for an organisation code's first 8 characters.
pub fn org_check_char(first8: &[u8]) -> Option<char> {
    let mut sum = 0u32;
    for (b, w) in first8.iter().zip(ORG_WEIGHTS) {
        let v = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            _ => return None,
        };
        sum += v * w;
    }
    Some(match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from_digit(n, 10)?,
    })
}

impl Uscc {
    /// Parses after normalising (trim, full-width to half-width, upper case).
    pub fn parse(s: &str) -> Result<Self, UsccError> {
        let s = normalize_code(s);
        let n = s.chars().count();
        if n != 18 {
            return Err(UsccError::Length(n));
        }
        for (i, ch) in s.chars().enumerate() {
            if !ch.is_ascii() || uscc_value(ch as u8).is_none() {
                return Err(UsccError::Charset { pos: i + 1, ch });
            }
        }
        let b = s.as_bytes();
        let expected = uscc_check_char(&b[..17]).unwrap_or('?');
        if b[17] as char != expected {
            return Err(UsccError::Checksum { expected });
        }
        let org = org_check_char(&b[8..16]).unwrap_or('?');
        if b[16] as char != org {
            return Err(UsccError::OrgChecksum { expected: org });
        }
        Ok(Self(s))
    }

    /// Accepts any 18 valid symbols without checking the check characters, for
    /// lenient imports of historic registers (flagged in the import report).
    pub fn parse_unchecked(s: &str) -> Result<Self, UsccError> {
        match Self::parse(s) {
            Ok(u) => Ok(u),
            Err(UsccError::Checksum { .. } | UsccError::OrgChecksum { .. }) => {
                Ok(Self(normalize_code(s)))
            }
            Err(e) => Err(e),
        }
    }

    /// Builds a valid code from its first 17 characters (generators, tests).
    pub fn with_check(first17: &str) -> Option<Self> {
        if first17.len() != 17 {
            return None;
        }
        let c = uscc_check_char(first17.as_bytes())?;
        Self::parse(&format!("{first17}{c}")).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Positions 3–8: the registering authority's division code.
    pub fn division(&self) -> &str {
        &self.0[2..8]
    }
}

impl TryFrom<String> for Uscc {
    type Error = UsccError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<Uscc> for String {
    fn from(u: Uscc) -> String {
        u.0
    }
}
impl std::fmt::Display for Uscc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Trim, full-width → half-width, remove inner spaces, upper-case: for codes.
pub fn normalize_code(s: &str) -> String {
    normalize_code_owned(s.to_owned())
}

/// Full-width ASCII → half-width (but for the full-width brackets names use),
/// ideographic space → space, runs of whitespace collapsed, trimmed. Chinese
/// characters are kept as they are.
pub fn normalize_text(s: &str) -> String {
    normalized(s).into_owned()
}

/// `normalize_text`, keeping `s` itself when it is clean already.
pub fn normalize_text_owned(s: String) -> String {
    if is_normalized(&s) {
        return s;
    }
    rebuild_normalized(&s)
}

/// `normalize_code`, upper-casing `s` in place when it is ASCII letters and digits.
pub fn normalize_code_owned(mut s: String) -> String {
    // Almost every code is: one pass over the bytes.
    if s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        s.make_ascii_uppercase();
        return s;
    }
    normalized(&s)
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// `normalize_text`, borrowing `s` when it is clean already.
pub fn normalized(s: &str) -> std::borrow::Cow<'_, str> {
    // Most cells of an export are already clean: one pass that only reads.
    if is_normalized(s) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(rebuild_normalized(s))
}

/// `normalize_text` character by character.
fn rebuild_normalized(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for ch in s.chars() {
        let ch = match ch {
            '\u{3000}' => ' ',
            // Registered names write brackets full-width (（个体工商户）): keep them.
            '（' | '）' => ch,
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(ch as u32 - 0xFEE0).unwrap_or(ch),
            c => c,
        };
        if ch.is_whitespace() || ch.is_control() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(ch);
    }
    out
}

/// Whether `normalize_text(s)` is `s` itself: no full-width ASCII, no
/// white space but single spaces between other characters, no control
/// characters.
fn is_normalized(s: &str) -> bool {
    // Printable ASCII and the main CJK block (UTF-8 lead bytes E4-E9, whose
    // characters are neither spaces, controls nor full-width forms) need
    // only a look at their spaces; a cell with any other character takes
    // the character-by-character check.
    let b = s.as_bytes();
    if b.iter()
        .all(|&c| matches!(c, 0x20..=0x7E | 0x80..=0xBF | 0xE4..=0xE9))
    {
        return b.first() != Some(&b' ')
            && b.last() != Some(&b' ')
            && !b.windows(2).any(|w| w == b"  ");
    }
    is_normalized_by_char(s)
}

fn is_normalized_by_char(s: &str) -> bool {
    // A space at the start, or after a space, would be dropped.
    let mut after_space = true;
    for ch in s.chars() {
        match ch {
            ' ' if after_space => return false,
            ' ' => after_space = true,
            '（' | '）' => after_space = false,
            '\u{FF01}'..='\u{FF5E}' => return false,
            c if c.is_whitespace() || c.is_control() => return false,
            _ => after_space = false,
        }
    }
    !after_space || s.is_empty()
}

/// 注册号: the 15-digit registration number of older entities.
pub fn parse_reg_no(s: &str) -> Option<String> {
    let s = normalize_code(s);
    (s.len() == 15 && s.bytes().all(|b| b.is_ascii_digit())).then_some(s)
}

str_enum!(
    /// 主体类型
    EntityKind {
        Enterprise = "enterprise" / "企业",
        Individual = "individual" / "个体工商户",
        Cooperative = "cooperative" / "农民专业合作社",
        Branch = "branch" / "分支机构",
    }
);

str_enum!(
    /// 登记状态
    EntityStatus {
        /// 存续（在业）
        Active = "active" / "存续",
        Revoked = "revoked" / "吊销",
        Cancelled = "cancelled" / "注销",
        MovedOut = "moved_out" / "迁出",
    }
);

impl EntityStatus {
    /// Also understands the spellings government exports use.
    pub fn parse_loose(s: &str) -> Option<Self> {
        let s = normalize_text(s);
        Self::parse(&s).or(match s.as_str() {
            "在业"
            | "存续（在营、开业、在册）"
            | "存续(在营、开业、在册)"
            | "开业"
            | "在营"
            | "在册"
            | "存续在业"
            | "存续（在业）"
            | "存续(在业)" => Some(Self::Active),
            "吊销，未注销" | "吊销,未注销" | "吊销未注销" => Some(Self::Revoked),
            "已注销" | "注销企业" => Some(Self::Cancelled),
            "已迁出" => Some(Self::MovedOut),
            _ => None,
        })
    }
}

str_enum!(
    /// 许可证种类
    LicenceKind {
        /// 营业执照
        Business = "business" / "营业执照",
        /// 食品经营许可证 JY + 14 digits
        FoodBusiness = "food_business" / "食品经营许可证",
        /// 食品生产许可证 SC + 14 digits
        FoodProduction = "food_production" / "食品生产许可证",
        /// 药品经营许可证
        DrugRetail = "drug_retail" / "药品经营许可证",
        /// 医疗器械经营许可证 / 备案凭证
        MedicalDevice = "medical_device" / "医疗器械经营许可证",
        /// 特种设备使用登记证
        SpecialEquipment = "special_equipment" / "特种设备使用登记证",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("licence number does not have the shape of its kind")]
pub struct LicenceNoError {
    pub kind: LicenceKind,
}

impl Coded for LicenceNoError {
    fn code(&self) -> &'static str {
        "licence_no_invalid"
    }
    fn message_zh(&self) -> String {
        match self.kind {
            LicenceKind::FoodBusiness => "食品经营许可证编号应为 JY 加 14 位数字".into(),
            LicenceKind::FoodProduction => "食品生产许可证编号应为 SC 加 14 位数字".into(),
            LicenceKind::DrugRetail => {
                "药品经营许可证编号应为省份简称加 2 位字母和 7 位数字，如 浙AA5710001".into()
            }
            _ => "许可证编号不能为空，且不超过 64 个字符".into(),
        }
    }
}

const PROVINCE_ABBR: &str =
    "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵黔云滇藏陕甘青宁新港澳台";

impl LicenceKind {
    /// Validates a licence number's shape for its kind (check digits are not
    /// published, so only the shape is checked) and returns it normalised.
    pub fn parse_number(self, s: &str) -> Result<String, LicenceNoError> {
        let err = LicenceNoError { kind: self };
        let code = normalize_code(s);
        let digits = |t: &str, n: usize| t.len() == n && t.bytes().all(|b| b.is_ascii_digit());
        match self {
            Self::FoodBusiness => code
                .strip_prefix("JY")
                .filter(|t| digits(t, 14))
                .map(|_| code.clone())
                .ok_or(err),
            Self::FoodProduction => code
                .strip_prefix("SC")
                .filter(|t| digits(t, 14))
                .map(|_| code.clone())
                .ok_or(err),
            Self::DrugRetail => {
                let mut it = code.chars();
                let ok = it.next().is_some_and(|c| PROVINCE_ABBR.contains(c)) && {
                    let rest: String = it.collect();
                    rest.len() == 9
                        && rest[..2].bytes().all(|b| b.is_ascii_uppercase())
                        && rest[2..].bytes().all(|b| b.is_ascii_digit())
                };
                if ok {
                    Ok(code)
                } else {
                    Err(err)
                }
            }
            Self::Business => Uscc::parse_unchecked(&code)
                .map(|u| u.0)
                .or_else(|_| parse_reg_no(&code).ok_or(err)),
            Self::MedicalDevice | Self::SpecialEquipment => {
                let t = normalize_text(s);
                if t.is_empty() || t.chars().count() > 64 {
                    Err(err)
                } else {
                    Ok(t)
                }
            }
        }
    }
}

/// Industries (GB/T 4754-2017 code prefixes) whose businesses must hold a
/// licence of `kind`: the rule behind the "licence required but missing" list.
pub const REQUIRED_LICENCES: &[(&str, LicenceKind)] = &[
    ("H62", LicenceKind::FoodBusiness),    // 餐饮业
    ("F521", LicenceKind::FoodBusiness),   // 综合零售（超市、百货）
    ("F522", LicenceKind::FoodBusiness),   // 食品、饮料及烟草制品专门零售
    ("C13", LicenceKind::FoodProduction),  // 农副食品加工业
    ("C14", LicenceKind::FoodProduction),  // 食品制造业
    ("C15", LicenceKind::FoodProduction),  // 酒、饮料和精制茶制造业
    ("F5251", LicenceKind::DrugRetail),    // 西药零售
    ("F5252", LicenceKind::DrugRetail),    // 中药零售
    ("F5254", LicenceKind::MedicalDevice), // 医疗用品及器材零售
];

/// The industry prefixes that require `kind`.
pub fn industries_requiring(kind: LicenceKind) -> Vec<&'static str> {
    REQUIRED_LICENCES
        .iter()
        .filter(|(_, k)| *k == kind)
        .map(|(p, _)| *p)
        .collect()
}

/// Parses the dates government exports contain: `2020-01-02`, `2020/1/2`,
/// `2020.01.02`, `20200102`, `2020年1月2日`, with an optional time part, and
/// Excel serial day numbers (1900 date system).
pub fn parse_loose_date(s: &str) -> Option<NaiveDate> {
    let s = normalize_text(s);
    let s = s.split([' ', 'T']).next().unwrap_or("");
    if s.is_empty() {
        return None;
    }
    let numeric = s.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if numeric && s.bytes().filter(|&b| b == b'.').count() <= 1 {
        if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
            return NaiveDate::parse_from_str(s, "%Y%m%d").ok();
        }
        // An Excel serial: days since 1899-12-30 (which absorbs Excel's 1900 leap-year bug
        // for every date after 1900-02-28). Only plausible ranges (1900–2100) are accepted.
        let days: f64 = s.parse().ok()?;
        if !(61.0..=73_415.0).contains(&days) {
            return None;
        }
        let base = NaiveDate::from_ymd_opt(1899, 12, 30)?;
        return base.checked_add_days(Days::new(days.floor() as u64));
    }
    let t = s.replace(['年', '月', '/', '.'], "-").replace('日', "");
    let mut parts = t.split('-').filter(|p| !p.is_empty());
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// The search terms of a Chinese name: every run of CJK characters as
/// overlapping character bigrams (so a two-character query such as "面馆"
/// matches), every run of letters or digits as one lower-case word.
pub fn search_terms(text: &str) -> Vec<String> {
    let text = normalize_text(text);
    let mut terms = Vec::new();
    let mut cjk: Vec<char> = Vec::new();
    let mut word = String::new();
    let flush_cjk = |cjk: &mut Vec<char>, terms: &mut Vec<String>| {
        match cjk.len() {
            0 => {}
            1 => terms.push(cjk[0].to_string()),
            _ => terms.extend(cjk.windows(2).map(|w| w.iter().collect::<String>())),
        }
        cjk.clear();
    };
    for ch in text.chars() {
        if is_cjk(ch) {
            if !word.is_empty() {
                terms.push(std::mem::take(&mut word));
            }
            cjk.push(ch);
        } else if ch.is_alphanumeric() {
            flush_cjk(&mut cjk, &mut terms);
            word.extend(ch.to_lowercase());
        } else {
            flush_cjk(&mut cjk, &mut terms);
            if !word.is_empty() {
                terms.push(std::mem::take(&mut word));
            }
        }
    }
    flush_cjk(&mut cjk, &mut terms);
    if !word.is_empty() {
        terms.push(word);
    }
    terms.sort();
    terms.dedup();
    terms
}

/// Pinyin initials of the CJK characters, letters and digits kept: 阿强面馆 → aqmg.
pub fn pinyin_initials(text: &str) -> String {
    use pinyin::ToPinyin;
    normalize_text(text)
        .chars()
        .filter_map(|ch| match ch.to_pinyin() {
            Some(p) => p.first_letter().chars().next(),
            None if ch.is_ascii_alphanumeric() => Some(ch.to_ascii_lowercase()),
            None => None,
        })
        .collect()
}

/// Every search term of an entity: its name's terms, and the bigrams of its
/// pinyin initials marked with `#` (so "aqmg" finds 阿强面馆).
pub fn entity_search_terms(name: &str) -> Vec<String> {
    let mut terms = search_terms(name);
    terms.extend(initials_terms(&pinyin_initials(name)));
    terms.sort();
    terms.dedup();
    terms
}

/// `entity_search_terms(name).join(" ")`, the entity's `search` column,
/// made with two allocations instead of one per term: the terms are slices
/// of the normalised name and of its `#`-marked initials.
pub fn entity_search_text(name: &str) -> String {
    use pinyin::ToPinyin;
    use std::borrow::Cow;
    let text = normalized(name);
    let text: &str = &text;
    // "#ab#bc…": the initials' bigrams, each a range of `marked`.
    let mut marked = String::new();
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    let mut prev: Option<char> = None;
    let mut count = 0usize;
    for c in text.chars().filter_map(|ch| match ch.to_pinyin() {
        Some(p) => p.first_letter().chars().next(),
        None if ch.is_ascii_alphanumeric() => Some(ch.to_ascii_lowercase()),
        None => None,
    }) {
        count += 1;
        if let Some(p) = prev {
            let start = marked.len();
            marked.push('#');
            marked.push(p);
            marked.push(c);
            ranges.push((start, marked.len()));
        }
        prev = Some(c);
    }
    if let (1, Some(p)) = (count, prev) {
        marked.push('#');
        marked.push(p);
        ranges.push((0, marked.len()));
    }
    let mut terms: Vec<Cow<'_, str>> = Vec::with_capacity(ranges.len() * 2 + 4);
    terms.extend(ranges.iter().map(|&(a, b)| Cow::Borrowed(&marked[a..b])));
    // The name's terms, as search_terms makes them.
    type Terms<'a> = Vec<std::borrow::Cow<'a, str>>;
    /// A CJK run of one character is a term by itself.
    fn end_cjk<'a>(text: &'a str, run: Option<(usize, usize)>, at: usize, terms: &mut Terms<'a>) {
        if let Some((start, 1)) = run {
            terms.push(std::borrow::Cow::Borrowed(&text[start..at]));
        }
    }
    fn end_word<'a>(text: &'a str, from: Option<usize>, at: usize, terms: &mut Terms<'a>) {
        if let Some(from) = from {
            let w = &text[from..at];
            let lower = w.chars().all(|c| {
                let mut l = c.to_lowercase();
                l.next() == Some(c) && l.next().is_none()
            });
            terms.push(if lower {
                std::borrow::Cow::Borrowed(w)
            } else {
                std::borrow::Cow::Owned(w.chars().flat_map(char::to_lowercase).collect())
            });
        }
    }
    // (start of the CJK run, characters in it), the start of its last character.
    let mut cjk: Option<(usize, usize)> = None;
    let mut last_cjk = 0usize;
    let mut word: Option<usize> = None;
    for (i, ch) in text.char_indices() {
        if is_cjk(ch) {
            end_word(text, word.take(), i, &mut terms);
            cjk = Some(match cjk {
                None => (i, 1),
                Some((start, n)) => {
                    terms.push(Cow::Borrowed(&text[last_cjk..i + ch.len_utf8()]));
                    (start, n + 1)
                }
            });
            last_cjk = i;
        } else if ch.is_alphanumeric() {
            end_cjk(text, cjk.take(), i, &mut terms);
            word.get_or_insert(i);
        } else {
            end_cjk(text, cjk.take(), i, &mut terms);
            end_word(text, word.take(), i, &mut terms);
        }
    }
    end_cjk(text, cjk, text.len(), &mut terms);
    end_word(text, word, text.len(), &mut terms);
    terms.sort_unstable();
    terms.dedup();
    let mut out = String::with_capacity(terms.iter().map(|t| t.len() + 1).sum());
    for (k, t) in terms.iter().enumerate() {
        if k > 0 {
            out.push(' ');
        }
        out.push_str(t);
    }
    out
}

/// `#`-marked bigrams of an initials string ("aqmg" → #aq #qm #mg).
pub fn initials_terms(initials: &str) -> Vec<String> {
    let chars: Vec<char> = initials.chars().collect();
    match chars.len() {
        0 => Vec::new(),
        1 => vec![format!("#{}", chars[0])],
        _ => chars
            .windows(2)
            .map(|w| format!("#{}{}", w[0], w[1]))
            .collect(),
    }
}

pub fn is_cjk(ch: char) -> bool {
    matches!(ch, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{2A6DF}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn domain_examples_are_valid() {
        for c in [
            "91350100M000100Y43",
            "91350200776049653A",
            "91440101MA5CJQ4N59",
            "91350213678251743X",
            "123502001549897397",
        ] {
            assert_eq!(Uscc::parse(c).unwrap().as_str(), c);
        }
        assert_eq!(
            Uscc::parse("91350100M000100Y43").unwrap().division(),
            "350100"
        );
    }

    #[test]
    fn exact_error_codes() {
        let cases = [
            ("91350100M000100Y4", "uscc_length"),
            ("91350100M000100Y433", "uscc_length"),
            ("", "uscc_length"),
            ("91350100M000100YI3", "uscc_charset"),
            ("91350100M000100Y4O", "uscc_charset"),
            ("9135010０M000100Y4面", "uscc_charset"),
            ("91350100M000100Y44", "uscc_checksum"),
            ("91350200776049653B", "uscc_checksum"),
        ];
        for (c, code) in cases {
            assert_eq!(Uscc::parse(c).unwrap_err().code(), code, "{c}");
        }
        let e = Uscc::parse("91350100M000100Y44").unwrap_err();
        assert_eq!(e.message_zh(), "统一社会信用代码校验位错误，第 18 位应为 3");
    }

    #[test]
    fn normalises_full_width_and_spaces() {
        assert_eq!(
            Uscc::parse(" ９１３５０１００Ｍ０００１００Ｙ４３ ")
                .unwrap()
                .as_str(),
            "91350100M000100Y43"
        );
        assert_eq!(
            Uscc::parse("91350100m000100y43").unwrap().as_str(),
            "91350100M000100Y43"
        );
        assert_eq!(
            normalize_text("  天台县\u{3000}赤城街道  阿强面馆 "),
            "天台县 赤城街道 阿强面馆"
        );
        assert_eq!(normalize_text("（ＡＢＣ）１２３"), "（ABC）123");
        assert_eq!(normalize_text("Ａ（１）"), "A（1）");
    }

    #[test]
    fn lenient_parse_keeps_historic_codes() {
        assert!(Uscc::parse_unchecked("91350100M000100Y44").is_ok());
        assert!(Uscc::parse_unchecked("91350100M000100Y4").is_err());
    }

    #[test]
    fn licence_shapes() {
        assert_eq!(
            LicenceKind::FoodBusiness
                .parse_number("jy13310230012345")
                .unwrap(),
            "JY13310230012345"
        );
        assert!(LicenceKind::FoodBusiness
            .parse_number("JY1331023001234")
            .is_err());
        assert!(LicenceKind::FoodBusiness
            .parse_number("SC13310230012345")
            .is_err());
        assert_eq!(
            LicenceKind::FoodProduction
                .parse_number("SC10333102300123")
                .unwrap(),
            "SC10333102300123"
        );
        assert_eq!(
            LicenceKind::DrugRetail.parse_number("浙AA5710001").unwrap(),
            "浙AA5710001"
        );
        assert!(LicenceKind::DrugRetail.parse_number("浙A5710001").is_err());
        assert!(LicenceKind::Business
            .parse_number("91350100M000100Y43")
            .is_ok());
        assert!(LicenceKind::Business
            .parse_number("330000000012345")
            .is_ok());
        assert!(LicenceKind::SpecialEquipment
            .parse_number("梯11浙A00001(19)")
            .is_ok());
        assert!(LicenceKind::MedicalDevice.parse_number("  ").is_err());
        assert_eq!(
            LicenceKind::parse("食品经营许可证"),
            Some(LicenceKind::FoodBusiness)
        );
    }

    #[test]
    fn loose_dates() {
        let d = |s: &str| parse_loose_date(s).map(|d| d.to_string());
        for (input, want) in [
            ("2020-01-02", Some("2020-01-02")),
            ("2020/1/2", Some("2020-01-02")),
            ("2020.01.02", Some("2020-01-02")),
            ("20200102", Some("2020-01-02")),
            ("2020年1月2日", Some("2020-01-02")),
            ("2020-01-02 00:00:00", Some("2020-01-02")),
            ("43832", Some("2020-01-02")),
            ("43832.5", Some("2020-01-02")),
            ("２０２０－０１－０２", Some("2020-01-02")),
            ("2020-02-30", None),
            ("0", None),
            ("abc", None),
            ("", None),
            ("12/31/2020", None),
        ] {
            assert_eq!(d(input).as_deref(), want, "{input}");
        }
    }

    #[test]
    fn bigram_terms() {
        assert_eq!(search_terms("阿强面馆"), vec!["强面", "阿强", "面馆"]);
        assert_eq!(search_terms("面馆"), vec!["面馆"]);
        assert_eq!(
            search_terms("华为 Huawei 5G店"),
            vec!["5g", "huawei", "华为", "店"]
        );
        assert_eq!(search_terms("（天台）阿强"), vec!["天台", "阿强"]);
        assert_eq!(pinyin_initials("天台县阿强面馆 A1"), "ttxaqmga1");
        assert!(entity_search_terms("阿强面馆").contains(&"#mg".to_owned()));
    }

    proptest! {
        #[test]
        fn generated_codes_are_valid(body in "[0-9A-HJ-NP-RT-UW-Y]{8}", org in "[0-9A-Z]{8}") {
            // Build a code whose org check and overall check are both right.
            let org_check = org_check_char(org.as_bytes()).unwrap();
            let first17 = format!("91{}{org}{org_check}", &body[..6]);
            if first17.bytes().all(|b| uscc_value(b).is_some()) {
                let u = Uscc::with_check(&first17).unwrap();
                prop_assert_eq!(Uscc::parse(u.as_str()).unwrap(), u);
            }
        }

        #[test]
        fn one_changed_character_is_caught(i in 0usize..18, sym in 0usize..31) {
            let good = "91350200776049653A";
            let mut b = good.as_bytes().to_vec();
            if b[i] != USCC_ALPHABET[sym] {
                b[i] = USCC_ALPHABET[sym];
                let s = String::from_utf8(b).unwrap();
                prop_assert!(Uscc::parse(&s).is_err());
            }
        }

        #[test]
        fn search_text_is_the_joined_terms(s in "[ 　a-zA-Z0-9ＡＢａ１（）()·面馆阿强华为店Éé Ωω\t-]{0,24}") {
            prop_assert_eq!(entity_search_text(&s), entity_search_terms(&s).join(" "));
        }

        #[test]
        fn search_text_is_the_joined_terms_of_any_text(s in "\\PC{0,30}") {
            prop_assert_eq!(entity_search_text(&s), entity_search_terms(&s).join(" "));
        }

        #[test]
        fn normalized_means_unchanged(s in "[ 　a\t\n（）ＡＢ（面\u{3000}\u{A0}\u{7}]{0,12}") {
            prop_assert_eq!(is_normalized(&s), rebuild_normalized(&s) == s);
            prop_assert_eq!(normalize_text(&s), rebuild_normalized(&s));
        }

        #[test]
        fn byte_check_agrees_with_char_check(s in "[ a-zA-Z0-9\t\u{7}\u{7F}\u{85}\u{A0}\u{3000}\u{4000}\u{9FFF}面（）ＡＥ]{0,12}|.{0,20}") {
            prop_assert_eq!(is_normalized(&s), is_normalized_by_char(&s));
        }

        #[test]
        fn owned_forms_agree(s in "[a-zA-Z0-9]{0,20}|[ a-z0-9Ａ１\u{3000}面-]{0,12}|\\PC{0,12}") {
            prop_assert_eq!(normalize_text_owned(s.clone()), normalize_text(&s));
            prop_assert_eq!(normalize_code_owned(s.clone()), normalize_code(&s));
        }

        #[test]
        fn code_fast_path_agrees(s in "[a-zA-Z0-9]{0,20}|[ a-z0-9Ａ１\u{3000}-]{0,12}|\\PC{0,12}") {
            let slow: String = normalize_text(&s)
                .chars()
                .filter(|c| !c.is_whitespace())
                .flat_map(char::to_uppercase)
                .collect();
            prop_assert_eq!(normalize_code(&s), slow);
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,30}") {
            let _ = Uscc::parse(&s);
            let _ = parse_loose_date(&s);
            let _ = search_terms(&s);
            for k in LicenceKind::ALL { let _ = k.parse_number(&s); }
        }
    }
}
