//! Complaints, reports and enquiries (投诉举报咨询): the case state table, the
//! versioned deadline rule sets, and the small pure rules around them
//! (receipt codes, the complainant key used to merge repeats and to flag
//! abuse). DOMAIN.md §2–3.
//!
//! A case is stamped with the rule set in force on the day it was received and
//! keeps it; every deadline is counted on the working-day calendar, and a
//! deadline falling in a year with no schedule is an error, never a guess.
use crate::calendar::{Calendar, CalendarError};
use crate::Coded;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

str_enum! {
    /// 投诉 / 举报 / 咨询.
    CaseKind {
        Complaint = "complaint" / "投诉",
        Report = "report" / "举报",
        Enquiry = "enquiry" / "咨询",
    }
}

str_enum! {
    /// Where a case came in.
    Channel {
        /// The public web form (with a receipt code).
        Web = "web" / "网上登记",
        /// 12315 hotline call entered by staff.
        Hotline = "hotline" / "12315 热线",
        /// Imported from the national 12315 platform's export.
        Platform = "platform" / "全国 12315 平台",
        /// Another system through Open311 GeoReport v2.
        Open311 = "open311" / "Open311 接口",
        /// Walk-in or letter, entered by staff.
        Counter = "counter" / "窗口/信函",
        /// A consumer reporting a broken delivery seal from its scan page.
        Seal = "seal" / "食安封签扫码",
    }
}

str_enum! {
    /// One state per case; the outcome says how a step ended.
    CaseState {
        /// 待受理 / 待核查: received, the first decision pending.
        Received = "received" / "待处理",
        /// 已受理（调解中）/ 核查中.
        Accepted = "accepted" / "处理中",
        /// 调解结束 / 已作出立案决定: awaiting the follow-up or the reply.
        Decided = "decided" / "待回访/答复",
        /// 已办结.
        Closed = "closed" / "已办结",
        /// 已合并: the same matter as an earlier case, handled there.
        Merged = "merged" / "已合并",
    }
}

str_enum! {
    CaseOutcome {
        NotAccepted = "not_accepted" / "不予受理",
        Agreed = "agreed" / "调解成功",
        Failed = "failed" / "调解不成",
        CaseOpened = "case_opened" / "已立案",
        NotOpened = "not_opened" / "不予立案",
        Answered = "answered" / "已答复",
    }
}

str_enum! {
    /// The step a case's current deadline belongs to.
    Step {
        /// 受理决定 (complaints).
        Accept = "accept" / "受理决定",
        /// 调解 (complaints, from acceptance).
        Mediate = "mediate" / "调解",
        /// 核查与立案决定 (reports, from receipt).
        Decide = "decide" / "核查与立案决定",
        /// 回访 (complaints) / 答复举报人 (reports).
        FollowUp = "follow_up" / "回访/答复",
        /// 答复咨询.
        Answer = "answer" / "答复咨询",
    }
}

/// The complaint categories (a dictionary the console offers; codes are stable).
pub const CATEGORIES: &[(&str, &str)] = &[
    ("food", "食品安全"),
    ("product_quality", "产品质量"),
    ("price", "价格收费"),
    ("advertising", "广告宣传"),
    ("contract", "合同格式条款"),
    ("service", "服务质量"),
    ("drug", "药品"),
    ("medical_device", "医疗器械"),
    ("cosmetics", "化妆品"),
    ("special_equipment", "特种设备"),
    ("ip", "知识产权"),
    ("metrology", "计量"),
    ("licensing", "无照无证经营"),
    ("other", "其他"),
];

pub fn is_category(c: &str) -> bool {
    CATEGORIES.iter().any(|(k, _)| *k == c)
}

/// What someone does to a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseAction {
    /// 受理 (complaint) / 开始核查 (report).
    Accept,
    /// 不予受理 with a reason sent to the complainant.
    Reject,
    /// 调解达成协议, with the amount recovered (fen).
    Agree { recovered: i64 },
    /// 调解不成 / 终止调解.
    Fail,
    /// 立案 (report).
    OpenCase,
    /// 不予立案 (report).
    NoCase,
    /// 回访 (complaint) or 答复举报人 (report): the case closes.
    Close,
    /// 答复咨询.
    Answer,
    /// 合并: the same matter as another case.
    Merge,
}

impl CaseAction {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Reject => "reject",
            Self::Agree { .. } => "agree",
            Self::Fail => "fail",
            Self::OpenCase => "open_case",
            Self::NoCase => "no_case",
            Self::Close => "close",
            Self::Answer => "answer",
            Self::Merge => "merge",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("action not allowed for a {kind:?} in state {state:?}")]
    NotAllowed { kind: CaseKind, state: CaseState },
    #[error("recovered amount must not be negative")]
    NegativeAmount,
}

impl Coded for CaseError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotAllowed { .. } => "complaint_state",
            Self::NegativeAmount => "complaint_amount",
        }
    }
    fn message_zh(&self) -> String {
        match self {
            Self::NotAllowed { kind, state } => format!(
                "该{}当前为“{}”，不能执行该操作",
                kind.label_zh(),
                state.label_zh()
            ),
            Self::NegativeAmount => "挽回金额不能为负数".into(),
        }
    }
}

/// The one transition table: the next state and, where the step decides one,
/// the outcome.
pub fn case_next(
    kind: CaseKind,
    state: CaseState,
    action: &CaseAction,
) -> Result<(CaseState, Option<CaseOutcome>), CaseError> {
    use CaseAction as A;
    use CaseKind as K;
    use CaseOutcome as O;
    use CaseState as S;
    let not_allowed = || CaseError::NotAllowed { kind, state };
    match (kind, state, action) {
        (_, S::Received | S::Accepted, A::Merge) => Ok((S::Merged, None)),
        (K::Complaint | K::Report, S::Received, A::Accept) => Ok((S::Accepted, None)),
        (K::Complaint | K::Report, S::Received, A::Reject) => Ok((S::Closed, Some(O::NotAccepted))),
        (K::Complaint, S::Accepted, A::Agree { recovered }) => {
            if *recovered < 0 {
                Err(CaseError::NegativeAmount)
            } else {
                Ok((S::Decided, Some(O::Agreed)))
            }
        }
        (K::Complaint, S::Accepted, A::Fail) => Ok((S::Decided, Some(O::Failed))),
        (K::Report, S::Accepted, A::OpenCase) => Ok((S::Decided, Some(O::CaseOpened))),
        (K::Report, S::Accepted, A::NoCase) => Ok((S::Decided, Some(O::NotOpened))),
        (K::Complaint | K::Report, S::Decided, A::Close) => Ok((S::Closed, None)),
        (K::Enquiry, S::Received, A::Answer) => Ok((S::Closed, Some(O::Answered))),
        _ => Err(not_allowed()),
    }
}

/// The step whose deadline runs while a case of `kind` is in `state`.
pub fn step_for(kind: CaseKind, state: CaseState) -> Option<Step> {
    match (kind, state) {
        (CaseKind::Complaint, CaseState::Received) => Some(Step::Accept),
        (CaseKind::Complaint, CaseState::Accepted) => Some(Step::Mediate),
        // A report's decision period runs from receipt through the check.
        (CaseKind::Report, CaseState::Received | CaseState::Accepted) => Some(Step::Decide),
        (CaseKind::Complaint | CaseKind::Report, CaseState::Decided) => Some(Step::FollowUp),
        (CaseKind::Enquiry, CaseState::Received) => Some(Step::Answer),
        _ => None,
    }
}

/// Periods in working days. `None`: the rule set fixes no period for the step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RulePeriods {
    /// Decide whether to accept a complaint, from receipt.
    pub accept: Option<u32>,
    /// Mediation, from acceptance.
    pub mediate: Option<u32>,
    /// Check a report and decide whether to open a case, from receipt.
    pub decide: Option<u32>,
    /// Follow-up visit or reply to a real-name reporter, from the decision.
    pub follow_up: Option<u32>,
    /// Answer an enquiry, from receipt.
    pub answer: Option<u32>,
    /// The most working days an approver may add to one case's current step.
    pub max_extension: u32,
}

impl RulePeriods {
    pub fn period(&self, step: Step) -> Option<u32> {
        match step {
            Step::Accept => self.accept,
            Step::Mediate => self.mediate,
            Step::Decide => self.decide,
            Step::FollowUp => self.follow_up,
            Step::Answer => self.answer,
        }
    }
}

/// A versioned rule set: the periods in force from `effective_from`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleSet {
    pub code: String,
    pub name: String,
    pub effective_from: NaiveDate,
    pub periods: RulePeriods,
    /// Checked against the published text; a verified set can no longer be edited.
    pub verified: bool,
}

/// The rule sets the product ships with. Order 20's periods are the law's
/// (DOMAIN.md §3); Order 121's start as a copy of them, unverified, for an
/// administrator to check against the published text and correct.
pub fn builtin_rule_sets() -> Vec<RuleSet> {
    let order20 = RulePeriods {
        accept: Some(7),
        mediate: Some(45),
        decide: Some(15),
        follow_up: None,
        answer: None,
        max_extension: 15,
    };
    vec![
        RuleSet {
            code: "samr-20-2022".into(),
            name: "市场监督管理投诉举报处理暂行办法（总局令第20号，2022年修订）".into(),
            effective_from: NaiveDate::from_ymd_opt(2020, 1, 1).expect("valid date"),
            periods: order20.clone(),
            verified: true,
        },
        RuleSet {
            code: "samr-121-2026".into(),
            name: "市场监督管理投诉举报处理办法（总局令第121号）".into(),
            effective_from: NaiveDate::from_ymd_opt(2026, 4, 15).expect("valid date"),
            periods: RulePeriods {
                follow_up: Some(10),
                ..order20
            },
            verified: false,
        },
    ]
}

/// The rule set in force on `day`: the latest whose effective date is not after it.
pub fn rule_in_force(sets: &[RuleSet], day: NaiveDate) -> Option<&RuleSet> {
    sets.iter()
        .filter(|s| s.effective_from <= day)
        .max_by_key(|s| s.effective_from)
}

/// The due date of `step` started on `start`; `None` when the rule set fixes
/// no period for it.
pub fn due_date(
    cal: &Calendar,
    periods: &RulePeriods,
    step: Step,
    start: NaiveDate,
) -> Result<Option<NaiveDate>, CalendarError> {
    periods
        .period(step)
        .map(|n| cal.add_working_days(start, n))
        .transpose()
}

/// A paused (中止) step resumes with its due date moved by the working days
/// spent paused.
pub fn resumed_due(
    cal: &Calendar,
    due: NaiveDate,
    paused_on: NaiveDate,
    resumed_on: NaiveDate,
) -> Result<NaiveDate, CalendarError> {
    let n = cal.working_days_between(paused_on, resumed_on)?.max(0);
    cal.add_working_days(due, u32::try_from(n).unwrap_or(u32::MAX))
}

/// A stable, non-reversible key for "the same person": SHA-256 of the
/// normalised ID number, else of the phone's digits. `None` for an anonymous
/// case. Used to merge repeats and count a person's complaints, never shown.
pub fn person_key(id_number: Option<&str>, phone: Option<&str>) -> Option<String> {
    let id: String = id_number
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let material = if id.len() >= 15 {
        format!("id:{id}")
    } else {
        let digits: String = phone
            .unwrap_or("")
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        // A mainland mobile may come with the 86 country code.
        let digits = match digits.strip_prefix("86") {
            Some(rest) if rest.len() == 11 => rest.to_owned(),
            _ => digits,
        };
        if digits.len() < 7 {
            return None;
        }
        format!("phone:{digits}")
    };
    Some(crate::sampling::sha256_hex(&material))
}

/// The respondent as a merge key: its register id, else its name with spaces
/// and punctuation removed.
pub fn respondent_key(entity_id: Option<i64>, name: &str) -> String {
    match entity_id {
        Some(id) => format!("e:{id}"),
        None => format!(
            "n:{}",
            name.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect::<String>()
        ),
    }
}

/// When someone's filing looks like a pattern worth a human look (职业索赔 /
/// 恶意投诉): many cases against many different businesses within the window.
/// A flag only: a flagged case is still handled like any other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AbusePolicy {
    pub window_days: u32,
    pub min_cases: u32,
    pub min_respondents: u32,
}

impl Default for AbusePolicy {
    fn default() -> Self {
        Self {
            window_days: 365,
            min_cases: 10,
            min_respondents: 5,
        }
    }
}

impl AbusePolicy {
    pub fn flags(&self, cases: u32, respondents: u32) -> bool {
        cases >= self.min_cases && respondents >= self.min_respondents
    }
}

/// Receipt codes: 12 symbols from an alphabet without look-alikes (no 0/O,
/// 1/I/L), in groups of four — about 59 bits, so codes cannot be guessed.
pub const RECEIPT_ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// A receipt code from 8 random bytes.
pub fn receipt_code(random: [u8; 8]) -> String {
    let mut v = u64::from_le_bytes(random);
    let mut out = String::with_capacity(14);
    for i in 0..12 {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(RECEIPT_ALPHABET[(v % 31) as usize] as char);
        v /= 31;
    }
    out
}

/// A receipt code as typed by a person: case, spaces and dashes do not matter.
pub fn normalize_receipt(s: &str) -> Option<String> {
    let raw: Vec<char> = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if raw.len() != 12 || !raw.iter().all(|c| RECEIPT_ALPHABET.contains(&(*c as u8))) {
        return None;
    }
    let mut out = String::with_capacity(14);
    for (i, c) in raw.into_iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(c);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::ScheduleDay;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// 2026's autumn as the State Council published it: 中秋 9-25..27 off,
    /// Sunday 9-20 worked; 国庆 10-01..07 off, Saturday 10-10 worked.
    fn cal_2026() -> Calendar {
        let mut c = Calendar::new();
        let off = |s: &str| (d(s), true);
        let mut days = vec![(d("2026-09-20"), false), (d("2026-10-10"), false)];
        days.extend(["2026-09-25", "2026-09-26", "2026-09-27"].map(off));
        days.extend((1..=7).map(|n| (NaiveDate::from_ymd_opt(2026, 10, n).unwrap(), true)));
        let list: Vec<ScheduleDay> = days
            .into_iter()
            .map(|(date, is_off_day)| ScheduleDay {
                date,
                is_off_day,
                name: String::new(),
            })
            .collect();
        c.set_year(2026, &list).unwrap();
        c
    }

    #[test]
    fn complaint_path() {
        let k = CaseKind::Complaint;
        let (s, o) = case_next(k, CaseState::Received, &CaseAction::Accept).unwrap();
        assert_eq!((s, o), (CaseState::Accepted, None));
        let (s, o) = case_next(k, s, &CaseAction::Agree { recovered: 1200 }).unwrap();
        assert_eq!((s, o), (CaseState::Decided, Some(CaseOutcome::Agreed)));
        let (s, _) = case_next(k, s, &CaseAction::Close).unwrap();
        assert_eq!(s, CaseState::Closed);
        assert!(case_next(k, s, &CaseAction::Accept).is_err());
        assert_eq!(
            case_next(k, CaseState::Accepted, &CaseAction::Agree { recovered: -1 }),
            Err(CaseError::NegativeAmount)
        );
        assert_eq!(
            case_next(k, CaseState::Received, &CaseAction::Reject).unwrap(),
            (CaseState::Closed, Some(CaseOutcome::NotAccepted))
        );
        // A complaint is never "opened as a case"; a report never mediated.
        assert!(case_next(k, CaseState::Accepted, &CaseAction::OpenCase).is_err());
        assert!(case_next(
            CaseKind::Report,
            CaseState::Accepted,
            &CaseAction::Agree { recovered: 0 }
        )
        .is_err());
    }

    proptest! {
        /// Closed and merged are final; every state reached has a step or is final.
        #[test]
        fn final_states_stay_final(kind in 0usize..3, a in 0usize..9) {
            let kind = CaseKind::ALL[kind];
            let action = [CaseAction::Accept, CaseAction::Reject, CaseAction::Agree { recovered: 5 },
                CaseAction::Fail, CaseAction::OpenCase, CaseAction::NoCase, CaseAction::Close,
                CaseAction::Answer, CaseAction::Merge][a].clone();
            for s in [CaseState::Closed, CaseState::Merged] {
                prop_assert!(case_next(kind, s, &action).is_err());
            }
            for &s in CaseState::ALL {
                if let Ok((next, _)) = case_next(kind, s, &action) {
                    let is_final = matches!(next, CaseState::Closed | CaseState::Merged);
                    prop_assert!(is_final || step_for(kind, next).is_some());
                }
            }
        }

        #[test]
        fn receipts_round_trip(bytes in any::<[u8; 8]>()) {
            let code = receipt_code(bytes);
            prop_assert_eq!(code.len(), 14);
            prop_assert_eq!(normalize_receipt(&code.to_lowercase().replace('-', " ")), Some(code));
        }
    }

    #[test]
    fn deadlines_across_the_national_day_break() {
        let cal = cal_2026();
        let p = &builtin_rule_sets()[1].periods;
        // Received Wednesday 9-30, the last working day before the break:
        // 10-08, 10-09, 10-10 (Saturday, worked), 10-12 … the 7th is 10-15.
        assert_eq!(
            due_date(&cal, p, Step::Accept, d("2026-09-30")).unwrap(),
            Some(d("2026-10-15"))
        );
        // Received on Friday 9-25, itself a holiday (中秋): counting starts the
        // next working day: 9-28, 29, 30, 10-08, 09, 10 (Saturday), 12.
        assert_eq!(
            due_date(&cal, p, Step::Accept, d("2026-09-25")).unwrap(),
            Some(d("2026-10-12"))
        );
        // A 45-day mediation that would run into 2027 has no schedule yet.
        assert_eq!(
            due_date(&cal, p, Step::Mediate, d("2026-11-20")),
            Err(CalendarError::YearMissing(2027))
        );
        assert_eq!(due_date(&cal, p, Step::Answer, d("2026-11-20")), Ok(None));
        // Paused Monday 10-12 to Friday 10-16 (4 working days): due moves by 4.
        assert_eq!(
            resumed_due(&cal, d("2026-10-15"), d("2026-10-12"), d("2026-10-16")).unwrap(),
            d("2026-10-21")
        );
    }

    #[test]
    fn the_rule_set_switches_on_2026_04_15() {
        let sets = builtin_rule_sets();
        assert_eq!(
            rule_in_force(&sets, d("2026-04-14")).unwrap().code,
            "samr-20-2022"
        );
        assert_eq!(
            rule_in_force(&sets, d("2026-04-15")).unwrap().code,
            "samr-121-2026"
        );
        assert!(rule_in_force(&sets, d("2019-12-31")).is_none());
    }

    #[test]
    fn person_keys() {
        let a = person_key(None, Some("138 0013 8000")).unwrap();
        assert_eq!(Some(a.clone()), person_key(None, Some("+86 13800138000")));
        assert_ne!(Some(a), person_key(None, Some("13800138001")));
        assert_eq!(
            person_key(Some("33102319800101001x"), Some("1")),
            person_key(Some("33102319800101001X"), None)
        );
        assert_eq!(person_key(None, Some("12")), None);
        assert_eq!(respondent_key(None, "阿强 面馆。"), "n:阿强面馆");
        assert!(AbusePolicy::default().flags(10, 5));
        assert!(!AbusePolicy::default().flags(30, 1));
    }
}
