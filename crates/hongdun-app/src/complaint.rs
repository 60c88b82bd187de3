//! Complaints, reports and enquiries (投诉举报, 12315): intake from every
//! channel, routing to the office whose jurisdiction holds the respondent,
//! the workflow with deadlines on the working-day calendar under the rule set
//! in force on the day of receipt, extensions and pauses by an approver,
//! merging of repeats, review flags for abuse patterns, the public receipt
//! page, pledges (ODR, 无理由退货) and the figures.
use crate::inspection::today_cn;
use crate::{App, AppError, AppResult, FieldError, Principal};
use chrono::{Datelike, Days, NaiveDate};
use hongdun_core::calendar::CalendarError;
use hongdun_core::complaint::{
    case_next, due_date, is_category, normalize_receipt, person_key, receipt_code, respondent_key,
    resumed_due, rule_in_force, step_for, AbusePolicy, CaseAction, CaseKind, CaseOutcome,
    CaseState, Channel, RuleSet, Step, CATEGORIES,
};
use hongdun_core::ids::UnitId;
use hongdun_core::privacy::{mask_id_number, mask_name, mask_phone};
use hongdun_core::registry::{normalize_text, Uscc};
use hongdun_core::system::UnitKind;
use hongdun_core::Coded;
use hongdun_store::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// A repeat of an open matter within this many days is merged into it.
pub const MERGE_WINDOW_DAYS: u64 = 90;
/// Follow-up satisfaction answers (回访满意度).
pub const SATISFACTION: &[(&str, &str)] = &[
    ("satisfied", "满意"),
    ("basically_satisfied", "基本满意"),
    ("dissatisfied", "不满意"),
    ("unreachable", "无法联系"),
];
pub const PLEDGE_KINDS: &[(&str, &str)] = &[
    ("odr", "在线消费纠纷解决（ODR）企业"),
    ("no_reason_return", "线下无理由退货承诺单位"),
];

fn category_label(c: &str) -> &'static str {
    CATEGORIES
        .iter()
        .find(|(k, _)| *k == c)
        .map_or("其他", |(_, l)| *l)
}

/// A new case from any channel. Amounts are in yuan.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseInput {
    #[serde(default)]
    pub kind: Option<CaseKind>,
    #[serde(default)]
    pub channel: Option<Channel>,
    /// Staff may enter the day a call or letter came in; the public cannot.
    #[serde(default)]
    pub received_on: Option<NaiveDate>,
    #[serde(default)]
    pub external_no: Option<String>,
    #[serde(default)]
    pub complainant_name: Option<String>,
    #[serde(default)]
    pub complainant_phone: Option<String>,
    #[serde(default)]
    pub complainant_id_number: Option<String>,
    #[serde(default)]
    pub complainant_address: Option<String>,
    #[serde(default)]
    pub respondent_uscc: Option<String>,
    #[serde(default)]
    pub respondent_name: Option<String>,
    #[serde(default)]
    pub respondent_address: Option<String>,
    pub category: String,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub amount_involved: Option<f64>,
    pub description: String,
    #[serde(default)]
    pub files: Vec<String>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lng: Option<f64>,
    /// Staff: the unit to route to when the respondent does not decide it.
    #[serde(default)]
    pub unit_id: Option<i64>,
}

/// One step on a case.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseActionInput {
    /// accept, reject, agree, fail, open_case, no_case, close, answer, merge,
    /// transfer, extend, pause, resume, respondent
    pub action: String,
    #[serde(default)]
    pub note: Option<String>,
    /// What the complainant or reporter is told.
    #[serde(default)]
    pub reply: Option<String>,
    /// Yuan recovered for the consumer (agree).
    #[serde(default)]
    pub recovered: Option<f64>,
    #[serde(default)]
    pub satisfaction: Option<String>,
    #[serde(default)]
    pub merge_into: Option<i64>,
    /// Working days (extend).
    #[serde(default)]
    pub days: Option<u32>,
    #[serde(default)]
    pub to_unit: Option<i64>,
    /// The respondent confirmed against the register (respondent).
    #[serde(default)]
    pub uscc: Option<String>,
}

/// A case as staff see it; the complainant's data masked unless the caller
/// handles cases in the case's unit.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseView {
    #[serde(flatten)]
    pub case: Case,
    pub kind_label: &'static str,
    pub state_label: &'static str,
    pub outcome_label: Option<&'static str>,
    pub step_label: Option<&'static str>,
    pub category_label: &'static str,
    pub unit_name: String,
    pub overdue: bool,
    pub masked: bool,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseDetail {
    #[serde(flatten)]
    pub view: CaseView,
    pub events: Vec<CaseEvent>,
    /// Register entries that may be the respondent, for a person to confirm.
    pub candidates: Vec<RespondentCandidate>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RespondentCandidate {
    pub uscc: Option<String>,
    pub name: String,
    pub address: Option<String>,
    pub unit_id: Option<UnitId>,
}

/// The receipt page: status and steps, never the complainant.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicCase {
    pub receipt: String,
    pub kind: CaseKind,
    pub kind_label: &'static str,
    pub state: CaseState,
    pub state_label: &'static str,
    pub outcome_label: Option<&'static str>,
    pub category_label: &'static str,
    pub respondent_name: String,
    pub received_on: NaiveDate,
    pub due_on: Option<NaiveDate>,
    pub unit_name: String,
    pub reply: Option<String>,
    pub steps: Vec<PublicStep>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicStep {
    pub on_day: NaiveDate,
    pub label: &'static str,
    pub state_label: &'static str,
}

/// What intake answers: the case, and whether it was merged or flagged.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Intake {
    pub id: i64,
    pub receipt: String,
    pub state: CaseState,
    pub unit_name: String,
    pub due_on: Option<NaiveDate>,
    /// The calendar lacks a year the deadline falls in; set it before relying on dates.
    pub due_uncertain: bool,
    pub merged_into: Option<i64>,
}

/// One row of the figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatRow {
    pub key: String,
    pub label: String,
    pub received: i64,
    pub accepted: i64,
    pub closed: i64,
    pub closed_on_time: i64,
    /// closed / received, 0..1.
    pub closure_rate: f64,
    /// closed on time / closed, 0..1.
    pub on_time_rate: f64,
    /// Fen.
    pub recovered: i64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stats {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: String,
    pub rows: Vec<StatRow>,
    pub total: StatRow,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseSummary {
    pub open: i64,
    pub overdue: i64,
    pub due_soon: i64,
    pub flagged: i64,
    pub received_this_month: i64,
}

fn yuan_to_fen(field: &str, v: Option<f64>) -> AppResult<Option<i64>> {
    match v {
        None => Ok(None),
        Some(y) if y.is_finite() && (0.0..1e12).contains(&y) => {
            Ok(Some((y * 100.0).round() as i64))
        }
        Some(_) => Err(AppError::field(
            field,
            "invalid",
            "金额应为不小于 0 的数字（元）",
        )),
    }
}

fn clean(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(|x| x.trim().to_owned())
        .filter(|x| !x.is_empty())
}

fn valid_phone(s: &str) -> bool {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    s.chars().all(|c| c.is_ascii_digit() || " -+()".contains(c)) && (7..=13).contains(&digits.len())
}

/// Who is entering a case.
#[derive(Debug, Clone, Copy)]
pub enum Submitter<'a> {
    /// The public form or Open311 without a user: `Channel` is forced.
    Public(Channel),
    Staff(&'a Principal),
}

impl App {
    /// A due date, or `None` with `uncertain` when the calendar lacks the year.
    async fn due(
        &self,
        periods: &hongdun_core::complaint::RulePeriods,
        step: Option<Step>,
        start: NaiveDate,
    ) -> AppResult<(Option<NaiveDate>, bool)> {
        let Some(step) = step else {
            return Ok((None, false));
        };
        let cal = self.calendar().await?;
        match due_date(&cal, periods, step, start) {
            Ok(d) => Ok((d, false)),
            Err(CalendarError::YearMissing(_)) => Ok((None, true)),
            Err(e) => Err(AppError::rule(&e, None)),
        }
    }

    pub(crate) async fn unit_names(&self) -> AppResult<HashMap<UnitId, String>> {
        Ok(self
            .store
            .list_units(&ScopeFilter::All)
            .await?
            .into_iter()
            .map(|u| (u.id, u.name))
            .collect())
    }

    /// The unit a case goes to: the respondent's office; for an online
    /// merchant without a usable address, the platform's; else the given
    /// unit; else the first bureau.
    async fn route_case(
        &self,
        entity: Option<&Entity>,
        platform: Option<&str>,
        fallback: Option<UnitId>,
    ) -> AppResult<UnitId> {
        if let Some(u) = entity.and_then(|e| e.unit_id) {
            return Ok(u);
        }
        if let Some(name) = platform {
            if let Some(p) = self
                .store
                .platforms()
                .await?
                .into_iter()
                .find(|p| p.name == name)
            {
                return Ok(p.unit_id);
            }
        }
        if let Some(u) = fallback {
            return Ok(u);
        }
        self.store
            .list_units(&ScopeFilter::All)
            .await?
            .into_iter()
            .filter(|u| u.kind == UnitKind::Bureau && u.parent_id.is_none())
            .map(|u| u.id)
            .min()
            .ok_or_else(|| AppError::Internal("no bureau to receive complaints".into()))
    }

    /// Intake from any channel. A repeat of an open matter by the same person
    /// is stored merged into it; a person filing against many businesses is
    /// flagged for review (and the case is handled like any other).
    pub async fn submit_case(&self, who: Submitter<'_>, input: &CaseInput) -> AppResult<Intake> {
        let (staff_scope, channel, ctx) = match who {
            Submitter::Public(ch) => (
                None,
                ch,
                AuditCtx {
                    actor_user_id: None,
                    actor_name: format!("public:{}", ch.as_str()),
                    unit_id: None,
                    request_id: None,
                },
            ),
            Submitter::Staff(p) => (
                Some(self.authorize(p, "complaint:create").await?),
                input.channel.unwrap_or(Channel::Hotline),
                p.audit_ctx(),
            ),
        };
        let today = today_cn();
        let kind = input.kind.unwrap_or(CaseKind::Complaint);
        let received_on = match who {
            Submitter::Staff(_) => input.received_on.unwrap_or(today),
            Submitter::Public(_) => today,
        };
        let mut errs = Vec::new();
        if !is_category(&input.category) {
            errs.push(FieldError::new("category", "invalid", "请选择问题类别"));
        }
        let description = input.description.trim();
        if description.chars().count() < 5 {
            errs.push(FieldError::new(
                "description",
                "required",
                "请描述事情经过（至少 5 个字）",
            ));
        } else if description.chars().count() > 4000 {
            errs.push(FieldError::new(
                "description",
                "too_long",
                "描述不能超过 4000 字",
            ));
        }
        if received_on > today {
            errs.push(FieldError::new(
                "received_on",
                "future",
                "接收日期不能晚于今天",
            ));
        }
        let name = clean(&input.complainant_name);
        let phone = clean(&input.complainant_phone);
        let id_number = clean(&input.complainant_id_number).map(|s| s.to_uppercase());
        if let Some(ph) = &phone {
            if !valid_phone(ph) {
                errs.push(FieldError::new(
                    "complainant_phone",
                    "invalid",
                    "请填写正确的联系电话",
                ));
            }
        }
        if let Some(id) = &id_number {
            if !crate::registry::valid_id_number(id) {
                errs.push(FieldError::new(
                    "complainant_id_number",
                    "invalid",
                    "身份证号码格式或校验位不正确",
                ));
            }
        }
        // A complaint needs someone to mediate for: name and phone.
        if kind == CaseKind::Complaint {
            if name.is_none() {
                errs.push(FieldError::new(
                    "complainant_name",
                    "required",
                    "投诉须填写投诉人姓名",
                ));
            }
            if phone.is_none() {
                errs.push(FieldError::new(
                    "complainant_phone",
                    "required",
                    "投诉须填写联系电话",
                ));
            }
        }
        let uscc_in = clean(&input.respondent_uscc);
        let resp_name_in = clean(&input.respondent_name);
        if kind != CaseKind::Enquiry && uscc_in.is_none() && resp_name_in.is_none() {
            errs.push(FieldError::new(
                "respondent_name",
                "required",
                "请填写被投诉（举报）经营者的名称或统一社会信用代码",
            ));
        }
        let amount = match yuan_to_fen("amount_involved", input.amount_involved) {
            Ok(a) => a,
            Err(AppError::Validation(mut e)) => {
                errs.append(&mut e);
                None
            }
            Err(e) => return Err(e),
        };
        if matches!(who, Submitter::Public(_)) && !input.files.is_empty() {
            errs.push(FieldError::new(
                "files",
                "not_allowed",
                "网上登记暂不支持附件，请在描述中说明",
            ));
        }
        let mut entity = None;
        if let Some(u) = &uscc_in {
            match Uscc::parse(u) {
                Err(e) => errs.push(FieldError::new("respondent_uscc", e.code(), e.message_zh())),
                Ok(code) => {
                    entity = match self
                        .store
                        .entity_by_uscc(&ScopeFilter::All, code.as_str())
                        .await
                    {
                        Ok(e) => Some(e),
                        Err(StoreError::NotFound) => None,
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
        let platform = clean(&input.platform);
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        if let Submitter::Staff(p) = who {
            if !input.files.is_empty() {
                self.check_file_refs(p, "files", &input.files).await?;
            }
        }
        let sets = self.store.rule_sets().await?;
        let rule = rule_in_force(&sets, received_on).ok_or_else(|| AppError::Rule {
            code: "complaint_rule_missing",
            message: format!("{received_on} 没有生效的投诉举报处理期限规则，请管理员先维护规则"),
            field: Some("received_on".into()),
        })?;
        let fallback = match (who, input.unit_id) {
            (Submitter::Staff(_), Some(u)) => {
                let u = UnitId(u);
                if !staff_scope
                    .as_ref()
                    .is_some_and(|s| s.allows(Some(u), None))
                {
                    return Err(AppError::field(
                        "unit_id",
                        "not_found",
                        "单位不在您的管辖范围内",
                    ));
                }
                Some(u)
            }
            (Submitter::Staff(p), None) => Some(p.user.unit_id),
            _ => None,
        };
        let unit_id = self
            .route_case(entity.as_ref(), platform.as_deref(), fallback)
            .await?;
        let respondent_name = entity
            .as_ref()
            .map(|e| e.name.clone())
            .or(resp_name_in)
            .unwrap_or_else(|| "（咨询）".into());
        let rkey = respondent_key(entity.as_ref().map(|e| e.id), &respondent_name);
        let pkey = person_key(id_number.as_deref(), phone.as_deref());
        let merged_into = match &pkey {
            Some(pk) if kind != CaseKind::Enquiry => self
                .store
                .open_case_for(
                    pk,
                    &rkey,
                    received_on
                        .checked_sub_days(Days::new(MERGE_WINDOW_DAYS))
                        .unwrap_or(received_on),
                )
                .await?
                .map(|c| c.id),
            _ => None,
        };
        let step = step_for(kind, CaseState::Received).filter(|_| merged_into.is_none());
        let (due_on, due_uncertain) = self.due(&rule.periods, step, received_on).await?;
        let mut new = NewCase {
            receipt: String::new(),
            external_no: clean(&input.external_no),
            kind: Some(kind),
            channel: Some(channel),
            state: Some(if merged_into.is_some() {
                CaseState::Merged
            } else {
                CaseState::Received
            }),
            step,
            due_on,
            due_uncertain,
            unit_id,
            rule_set: rule.code.clone(),
            received_on,
            real_name: name.is_some() && phone.is_some(),
            complainant_name: name,
            complainant_phone: phone,
            complainant_id_number: id_number,
            complainant_address: clean(&input.complainant_address),
            person_key: pkey.clone(),
            respondent_entity_id: entity.as_ref().map(|e| e.id),
            respondent_name,
            respondent_key: rkey,
            respondent_address: clean(&input.respondent_address)
                .or_else(|| entity.as_ref().and_then(|e| e.address.clone())),
            category: input.category.clone(),
            platform,
            amount_involved: amount,
            description: description.to_owned(),
            files: input.files.clone(),
            lat: input.lat.filter(|v| (-90.0..=90.0).contains(v)),
            lng: input.lng.filter(|v| (-180.0..=180.0).contains(v)),
            merged_into,
            flagged: false,
        };
        let case = loop {
            let mut bytes = [0u8; 8];
            getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(e.to_string()))?;
            new.receipt = receipt_code(bytes);
            match self.store.create_case(&ctx, &new).await {
                Err(StoreError::Conflict { field }) if field == "receipt" => continue,
                Err(StoreError::Conflict { field }) if field == "external_no" => {
                    return Err(AppError::field(
                        "external_no",
                        "duplicate",
                        "该 12315 平台编号已登记",
                    ))
                }
                other => break other?,
            }
        };
        if let Some(pk) = &pkey {
            let policy = AbusePolicy::default();
            let since = received_on
                .checked_sub_days(Days::new(u64::from(policy.window_days)))
                .unwrap_or(received_on);
            let (n, m) = self.store.person_counts(pk, since).await?;
            if policy.flags(n as u32, m as u32) {
                self.store.flag_person(pk, since).await?;
            }
        }
        let names = self.unit_names().await?;
        Ok(Intake {
            id: case.id,
            receipt: case.receipt,
            state: case.state,
            unit_name: names.get(&case.unit_id).cloned().unwrap_or_default(),
            due_on: case.due_on,
            due_uncertain: case.due_uncertain,
            merged_into: case.merged_into,
        })
    }

    fn view_of(
        &self,
        c: Case,
        names: &HashMap<UnitId, String>,
        unmasked: bool,
        today: NaiveDate,
    ) -> CaseView {
        let mut c = c;
        if !unmasked {
            c.complainant_name = c.complainant_name.as_deref().map(mask_name);
            c.complainant_phone = c.complainant_phone.as_deref().map(mask_phone);
            c.complainant_id_number = c.complainant_id_number.as_deref().map(mask_id_number);
            c.complainant_address = None;
        }
        CaseView {
            kind_label: c.kind.label_zh(),
            state_label: c.state.label_zh(),
            outcome_label: c.outcome.map(CaseOutcome::label_zh),
            step_label: c.step.map(Step::label_zh),
            category_label: category_label(&c.category),
            unit_name: names.get(&c.unit_id).cloned().unwrap_or_default(),
            overdue: c.paused_on.is_none()
                && !matches!(c.state, CaseState::Closed | CaseState::Merged)
                && c.due_on.is_some_and(|d| d < today),
            masked: !unmasked,
            case: c,
        }
    }

    pub async fn list_cases(&self, p: &Principal, q: &CaseQuery) -> AppResult<Page<CaseView>> {
        let scope = self.authorize(p, "complaint:list").await?;
        let page = self.store.list_cases(&scope, q).await?;
        let names = self.unit_names().await?;
        let today = today_cn();
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(|c| self.view_of(c, &names, false, today))
                .collect(),
            total: page.total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    pub async fn case_detail(&self, p: &Principal, id: i64) -> AppResult<CaseDetail> {
        let scope = self.authorize(p, "complaint:list").await?;
        let (case, events) = self.store.get_case(&scope, id).await?;
        let handler = match self.authorize(p, "complaint:handle").await {
            Ok(s) => s.allows(Some(case.unit_id), None),
            Err(_) => false,
        };
        let candidates = if case.respondent_entity_id.is_none() && case.kind != CaseKind::Enquiry {
            self.respondent_candidates(&case.respondent_name).await?
        } else {
            Vec::new()
        };
        let names = self.unit_names().await?;
        Ok(CaseDetail {
            view: self.view_of(case, &names, handler, today_cn()),
            events,
            candidates,
        })
    }

    /// Register entries whose name matches, for a person to confirm.
    pub async fn respondent_candidates(&self, name: &str) -> AppResult<Vec<RespondentCandidate>> {
        let q = normalize_text(name);
        if q.chars().count() < 2 {
            return Ok(Vec::new());
        }
        let search = crate::registry::EntitySearch {
            q: Some(q),
            paging: Paging::new(1, 8),
            ..Default::default()
        };
        let mut query = crate::registry::query_of(&search)?;
        query.skip_count = true;
        query.candidate_limit = Some(2_000);
        let page = self
            .store
            .search_entities(&ScopeFilter::All, &query)
            .await?;
        Ok(page
            .items
            .into_iter()
            .map(|e| RespondentCandidate {
                uscc: e.uscc,
                name: e.name,
                address: e.address,
                unit_id: e.unit_id,
            })
            .collect())
    }

    /// A step by staff, dated today.
    pub async fn case_action(
        &self,
        p: &Principal,
        id: i64,
        input: &CaseActionInput,
    ) -> AppResult<CaseView> {
        let case = self.apply_case_action(p, id, input, today_cn()).await?;
        let names = self.unit_names().await?;
        Ok(self.view_of(case, &names, true, today_cn()))
    }

    /// A step dated `on` (the generator replays past years through here).
    pub async fn apply_case_action(
        &self,
        p: &Principal,
        id: i64,
        input: &CaseActionInput,
        on: NaiveDate,
    ) -> AppResult<Case> {
        let approval = matches!(input.action.as_str(), "extend" | "pause" | "resume");
        let scope = self
            .authorize(
                p,
                if approval {
                    "complaint:approve"
                } else {
                    "complaint:handle"
                },
            )
            .await?;
        let (case, events) = self.store.get_case(&scope, id).await?;
        let note = clean(&input.note);
        let reply = clean(&input.reply);
        let sets = self.store.rule_sets().await?;
        let rule = sets
            .iter()
            .find(|r| r.code == case.rule_set)
            .ok_or_else(|| AppError::Internal(format!("rule set {} missing", case.rule_set)))?;
        let need_note = |what: &str| -> AppResult<String> {
            note.clone()
                .ok_or_else(|| AppError::field("note", "required", format!("请填写{what}")))
        };
        let mut ch = CaseChange {
            from: Some(case.state),
            action: input.action.clone(),
            on_day: Some(on),
            note: note.clone(),
            ..Default::default()
        };
        let open = !matches!(case.state, CaseState::Closed | CaseState::Merged);
        let workflow = match input.action.as_str() {
            "accept" => Some(CaseAction::Accept),
            "reject" => Some(CaseAction::Reject),
            "agree" => Some(CaseAction::Agree {
                recovered: yuan_to_fen("recovered", input.recovered)?.unwrap_or(0),
            }),
            "fail" => Some(CaseAction::Fail),
            "open_case" => Some(CaseAction::OpenCase),
            "no_case" => Some(CaseAction::NoCase),
            "close" => Some(CaseAction::Close),
            "answer" => Some(CaseAction::Answer),
            "merge" => Some(CaseAction::Merge),
            _ => None,
        };
        if let Some(action) = workflow {
            if case.paused_on.is_some() {
                return Err(AppError::Rule {
                    code: "complaint_paused",
                    message: "案件处于中止状态，请先恢复办理".into(),
                    field: None,
                });
            }
            let (to, outcome) = case_next(case.kind, case.state, &action)
                .map_err(|e| AppError::rule(&e, Some("action")))?;
            ch.state = Some(to);
            ch.outcome = outcome;
            match &action {
                CaseAction::Reject => {
                    ch.reply = Some(need_note("不予受理的理由（将告知投诉人）")?);
                }
                CaseAction::Agree { recovered } => {
                    ch.amount_recovered = Some(*recovered);
                    ch.reply = reply.clone();
                }
                CaseAction::Close => {
                    if case.kind == CaseKind::Complaint {
                        let s = input.satisfaction.as_deref().unwrap_or("");
                        if !SATISFACTION.iter().any(|(k, _)| *k == s) {
                            return Err(AppError::field(
                                "satisfaction",
                                "required",
                                "请选择回访结果",
                            ));
                        }
                        ch.satisfaction = Some(s.to_owned());
                    } else if case.real_name && reply.is_none() {
                        return Err(AppError::field(
                            "reply",
                            "required",
                            "请填写对实名举报人的答复",
                        ));
                    }
                    if reply.is_some() {
                        ch.reply = reply.clone();
                    }
                }
                CaseAction::Answer => {
                    ch.reply =
                        Some(reply.clone().ok_or_else(|| {
                            AppError::field("reply", "required", "请填写答复内容")
                        })?);
                }
                CaseAction::Merge => {
                    let into = input.merge_into.ok_or_else(|| {
                        AppError::field("merge_into", "required", "请填写合并到的案件")
                    })?;
                    let (target, _) =
                        self.store
                            .get_case(&scope, into)
                            .await
                            .map_err(|e| match e {
                                StoreError::NotFound => {
                                    AppError::field("merge_into", "not_found", "合并到的案件不存在")
                                }
                                e => e.into(),
                            })?;
                    if target.id == case.id || target.state == CaseState::Merged {
                        return Err(AppError::field("merge_into", "invalid", "不能合并到该案件"));
                    }
                    ch.merged_into = Some(into);
                }
                _ => {}
            }
            // The step just finished: late if past its due date.
            if case.due_on.is_some_and(|d| on > d) {
                ch.late = Some(true);
            }
            match to {
                CaseState::Accepted => ch.accepted_on = Some(on),
                CaseState::Decided => ch.decided_on = Some(on),
                CaseState::Closed => ch.closed_on = Some(on),
                _ => {}
            }
            let next_step = step_for(case.kind, to);
            ch.step = Some(next_step);
            // A report's decision period runs on from receipt; others start now.
            if next_step != case.step {
                let (due, uncertain) = self.due(&rule.periods, next_step, on).await?;
                ch.due_on = Some(due);
                ch.due_uncertain = Some(uncertain);
            }
        } else {
            match input.action.as_str() {
                "transfer" => {
                    if !open {
                        return Err(AppError::rule(
                            &hongdun_core::complaint::CaseError::NotAllowed {
                                kind: case.kind,
                                state: case.state,
                            },
                            Some("action"),
                        ));
                    }
                    let reason = need_note("移送理由")?;
                    let to = input.to_unit.map(UnitId).ok_or_else(|| {
                        AppError::field("to_unit", "required", "请选择移送到的单位")
                    })?;
                    let tree = self.unit_tree().await?;
                    if !tree.contains(to) || to == case.unit_id {
                        return Err(AppError::field(
                            "to_unit",
                            "invalid",
                            "请选择另一个有效的单位",
                        ));
                    }
                    ch.unit_id = Some(to);
                    ch.note = Some(reason);
                }
                "extend" => {
                    let _ = need_note("延长理由")?;
                    let Some(due) = case.due_on.filter(|_| open) else {
                        return Err(AppError::field(
                            "action",
                            "invalid",
                            "该案件当前没有可延长的期限",
                        ));
                    };
                    let days = input.days.unwrap_or(0);
                    if days == 0 || days > rule.periods.max_extension {
                        return Err(AppError::field(
                            "days",
                            "invalid",
                            format!("延长天数应为 1–{} 个工作日", rule.periods.max_extension),
                        ));
                    }
                    // One extension per step: find one after the last state change.
                    let since_step = events
                        .iter()
                        .rev()
                        .take_while(|e| {
                            matches!(
                                e.action.as_str(),
                                "extend" | "pause" | "resume" | "transfer" | "respondent"
                            )
                        })
                        .any(|e| e.action == "extend");
                    if since_step {
                        return Err(AppError::Rule {
                            code: "complaint_extended",
                            message: "本环节已经延长过一次，不能再次延长".into(),
                            field: Some("days".into()),
                        });
                    }
                    let cal = self.calendar().await?;
                    let new_due = cal
                        .add_working_days(due, days)
                        .map_err(|e| AppError::rule(&e, Some("days")))?;
                    ch.due_on = Some(Some(new_due));
                    ch.note = Some(format!(
                        "延长 {days} 个工作日：{}",
                        note.clone().unwrap_or_default()
                    ));
                }
                "pause" => {
                    let _ = need_note("中止理由")?;
                    if !open || case.paused_on.is_some() {
                        return Err(AppError::field("action", "invalid", "该案件不能中止"));
                    }
                    ch.paused_on = Some(Some(on));
                }
                "resume" => {
                    let Some(paused) = case.paused_on else {
                        return Err(AppError::field("action", "invalid", "该案件未中止"));
                    };
                    ch.paused_on = Some(None);
                    if let Some(due) = case.due_on {
                        let cal = self.calendar().await?;
                        let new_due = resumed_due(&cal, due, paused, on)
                            .map_err(|e| AppError::rule(&e, None))?;
                        ch.due_on = Some(Some(new_due));
                    }
                }
                "respondent" => {
                    let u = clean(&input.uscc).ok_or_else(|| {
                        AppError::field("uscc", "required", "请填写统一社会信用代码")
                    })?;
                    let code = Uscc::parse(&u).map_err(|e| AppError::rule(&e, Some("uscc")))?;
                    let e = self
                        .store
                        .entity_by_uscc(&ScopeFilter::All, code.as_str())
                        .await
                        .map_err(|e| match e {
                            StoreError::NotFound => AppError::field(
                                "uscc",
                                "not_found",
                                "名录中没有这个统一社会信用代码",
                            ),
                            e => e.into(),
                        })?;
                    ch.note = Some(format!("确认被投诉人：{}", e.name));
                    ch.respondent =
                        Some((e.id, e.name.clone(), respondent_key(Some(e.id), &e.name)));
                }
                _ => {
                    return Err(AppError::field("action", "invalid", "未知的操作"));
                }
            }
        }
        Ok(self
            .store
            .case_change(&p.audit_ctx(), &scope, id, &ch)
            .await?)
    }

    /// The public receipt page.
    pub async fn public_case(&self, receipt: &str) -> AppResult<PublicCase> {
        let code = normalize_receipt(receipt)
            .ok_or_else(|| AppError::field("receipt", "invalid", "查询码应为 12 位字母和数字"))?;
        let (c, events) = self.store.case_by_receipt(&code).await?;
        let names = self.unit_names().await?;
        Ok(PublicCase {
            receipt: c.receipt,
            kind: c.kind,
            kind_label: c.kind.label_zh(),
            state: c.state,
            state_label: c.state.label_zh(),
            outcome_label: c.outcome.map(CaseOutcome::label_zh),
            category_label: category_label(&c.category),
            respondent_name: c.respondent_name,
            received_on: c.received_on,
            due_on: c
                .due_on
                .filter(|_| !matches!(c.state, CaseState::Closed | CaseState::Merged)),
            unit_name: names.get(&c.unit_id).cloned().unwrap_or_default(),
            reply: c.reply,
            steps: events
                .iter()
                .map(|e| PublicStep {
                    on_day: e.on_day,
                    label: action_label(&e.action),
                    state_label: e.state.label_zh(),
                })
                .collect(),
        })
    }

    /// A case by its receipt with its unit's name, for Open311's public
    /// single-request answer (the caller strips what the public may not see).
    pub async fn case_by_receipt(&self, receipt: &str) -> AppResult<(Case, String)> {
        let (c, _) = self.store.case_by_receipt(receipt).await?;
        let unit = self
            .unit_names()
            .await?
            .get(&c.unit_id)
            .cloned()
            .unwrap_or_default();
        Ok((c, unit))
    }

    pub async fn case_summary(&self, p: &Principal) -> AppResult<CaseSummary> {
        let scope = self.authorize(p, "complaint:list").await?;
        let today = today_cn();
        let count = |q: CaseQuery| {
            let scope = scope.clone();
            async move {
                let mut q = q;
                q.paging = Paging::new(1, 1);
                self.store.list_cases(&scope, &q).await.map(|p| p.total)
            }
        };
        let soon = today.checked_add_days(Days::new(3)).unwrap_or(today);
        let month_start = today.with_day(1).unwrap_or(today);
        Ok(CaseSummary {
            open: count(CaseQuery {
                open: true,
                ..Default::default()
            })
            .await?,
            overdue: count(CaseQuery {
                overdue: Some(today),
                ..Default::default()
            })
            .await?,
            due_soon: count(CaseQuery {
                due_between: Some((today, soon)),
                ..Default::default()
            })
            .await?,
            flagged: count(CaseQuery {
                flagged: Some(true),
                open: true,
                ..Default::default()
            })
            .await?,
            received_this_month: count(CaseQuery {
                received_between: Some((month_start, today)),
                ..Default::default()
            })
            .await?,
        })
    }

    /// Received, accepted, closed, rates and amount recovered, grouped by
    /// `unit`, `category`, `platform`, `month` or `kind`, for cases received
    /// within [from, to] (merged repeats are not counted twice).
    pub async fn case_stats(
        &self,
        p: &Principal,
        from: NaiveDate,
        to: NaiveDate,
        by: &str,
    ) -> AppResult<Stats> {
        let scope = self.authorize(p, "complaint:list").await?;
        if to < from || (to - from).num_days() > 3660 {
            return Err(AppError::field(
                "to",
                "invalid",
                "统计区间无效（最长 10 年）",
            ));
        }
        let names = self.unit_names().await?;
        let rows = self.store.case_counts(&scope, from, to).await?;
        let key_of = |c: &CaseCount| -> AppResult<(String, String)> {
            Ok(match by {
                "unit" => (
                    c.unit_id.0.to_string(),
                    names.get(&c.unit_id).cloned().unwrap_or_default(),
                ),
                "category" => (c.category.clone(), category_label(&c.category).to_owned()),
                "platform" => match &c.platform {
                    Some(p) => (p.clone(), p.clone()),
                    None => (String::new(), "线下/非平台".into()),
                },
                "month" => {
                    let m = format!("{:04}-{:02}", c.received_on.year(), c.received_on.month());
                    (m.clone(), m)
                }
                "kind" => (c.kind.as_str().to_owned(), c.kind.label_zh().to_owned()),
                _ => {
                    return Err(AppError::field(
                        "by",
                        "invalid",
                        "分组应为 unit、category、platform、month 或 kind",
                    ))
                }
            })
        };
        let mut groups: BTreeMap<String, StatRow> = BTreeMap::new();
        let mut total = StatRow {
            key: "total".into(),
            label: "合计".into(),
            ..Default::default()
        };
        for c in &rows {
            let (key, label) = key_of(c)?;
            for r in [
                groups.entry(key.clone()).or_insert_with(|| StatRow {
                    key,
                    label,
                    ..Default::default()
                }),
                &mut total,
            ] {
                r.received += c.received;
                r.accepted += c.accepted;
                r.closed += c.closed;
                r.closed_on_time += c.closed_on_time;
                r.recovered += c.recovered;
            }
        }
        let rate = |a: i64, b: i64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let mut rows: Vec<StatRow> = groups.into_values().collect();
        for r in rows.iter_mut().chain(std::iter::once(&mut total)) {
            r.closure_rate = rate(r.closed, r.received);
            r.on_time_rate = rate(r.closed_on_time, r.closed);
        }
        if by != "month" {
            rows.sort_by(|a, b| b.received.cmp(&a.received).then(a.key.cmp(&b.key)));
        }
        Ok(Stats {
            from,
            to,
            by: by.to_owned(),
            rows,
            total,
        })
    }

    /// The due date a case received on a day would get, as a preview: the
    /// calendar lacking the year is an explicit error here.
    pub async fn preview_due(
        &self,
        kind: CaseKind,
        received_on: NaiveDate,
    ) -> AppResult<(String, Option<NaiveDate>)> {
        let sets = self.store.rule_sets().await?;
        let rule = rule_in_force(&sets, received_on).ok_or_else(|| AppError::Rule {
            code: "complaint_rule_missing",
            message: format!("{received_on} 没有生效的投诉举报处理期限规则"),
            field: Some("received_on".into()),
        })?;
        let cal = self.calendar().await?;
        let step = step_for(kind, CaseState::Received).expect("every kind has a first step");
        let due = due_date(&cal, &rule.periods, step, received_on)
            .map_err(|e| AppError::rule(&e, Some("received_on")))?;
        Ok((rule.code.clone(), due))
    }

    pub async fn complaint_rule_sets(&self, p: &Principal) -> AppResult<Vec<RuleSet>> {
        self.authorize(p, "complaint:list").await?;
        Ok(self.store.rule_sets().await?)
    }

    /// Edits a rule set until it is marked verified.
    pub async fn put_complaint_rule_set(&self, p: &Principal, r: &RuleSet) -> AppResult<()> {
        self.authorize(p, "complaint:rule:update").await?;
        let mut errs = Vec::new();
        if r.code.trim().is_empty()
            || !r
                .code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            errs.push(FieldError::new(
                "code",
                "invalid",
                "规则编号只能包含字母、数字和连字符",
            ));
        }
        if r.name.trim().is_empty() {
            errs.push(FieldError::new("name", "required", "请填写规则名称"));
        }
        for (f, v) in [
            ("periods.accept", r.periods.accept),
            ("periods.mediate", r.periods.mediate),
            ("periods.decide", r.periods.decide),
            ("periods.follow_up", r.periods.follow_up),
            ("periods.answer", r.periods.answer),
            ("periods.max_extension", Some(r.periods.max_extension)),
        ] {
            if v.is_some_and(|d| d > 365) {
                errs.push(FieldError::new(f, "invalid", "期限不能超过 365 个工作日"));
            }
        }
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        self.store
            .put_rule_set(&p.audit_ctx(), r)
            .await
            .map_err(|e| match e {
                StoreError::Conflict { field } if field == "verified" => AppError::Rule {
                    code: "complaint_rule_verified",
                    message: "该规则已核实生效，不能再修改；如有变化请新增一个版本".into(),
                    field: Some("code".into()),
                },
                e => e.into(),
            })
    }

    pub async fn complaint_platforms(&self, p: &Principal) -> AppResult<Vec<Platform>> {
        self.authorize(p, "complaint:list").await?;
        Ok(self.store.platforms().await?)
    }

    pub async fn put_complaint_platform(&self, p: &Principal, pf: &Platform) -> AppResult<()> {
        self.authorize(p, "complaint:rule:update").await?;
        if pf.name.trim().is_empty() {
            return Err(AppError::field("name", "required", "请填写平台名称"));
        }
        if !self.unit_tree().await?.contains(pf.unit_id) {
            return Err(AppError::field("unit_id", "not_found", "单位不存在"));
        }
        Ok(self.store.put_platform(&p.audit_ctx(), pf).await?)
    }

    /// Records a pledge (ODR / 无理由退货) for a business in the caller's scope.
    pub async fn put_pledge(
        &self,
        p: &Principal,
        uscc: &str,
        kind: &str,
        since: Option<NaiveDate>,
        until: Option<NaiveDate>,
        note: Option<String>,
    ) -> AppResult<Pledge> {
        let scope = self.authorize(p, "registry:entity:update").await?;
        if !PLEDGE_KINDS.iter().any(|(k, _)| *k == kind) {
            return Err(AppError::field(
                "kind",
                "invalid",
                "承诺类型应为 odr 或 no_reason_return",
            ));
        }
        let e = self.store.entity_by_uscc(&scope, uscc).await?;
        let since = since.unwrap_or_else(today_cn);
        if until.is_some_and(|u| u < since) {
            return Err(AppError::field(
                "until",
                "invalid",
                "截止日期不能早于开始日期",
            ));
        }
        let pledge = Pledge {
            entity_id: e.id,
            kind: kind.to_owned(),
            since,
            until,
            note,
        };
        self.store.put_pledge(&p.audit_ctx(), &pledge).await?;
        self.forget_pledges();
        Ok(pledge)
    }

    pub async fn delete_pledge(&self, p: &Principal, uscc: &str, kind: &str) -> AppResult<()> {
        let scope = self.authorize(p, "registry:entity:update").await?;
        let e = self.store.entity_by_uscc(&scope, uscc).await?;
        self.store.delete_pledge(&p.audit_ctx(), e.id, kind).await?;
        self.forget_pledges();
        Ok(())
    }

    pub async fn pledges(&self, p: &Principal, uscc: &str) -> AppResult<Vec<Pledge>> {
        let scope = self.authorize(p, "registry:entity:list").await?;
        let e = self.store.entity_by_uscc(&scope, uscc).await?;
        Ok(self.store.pledges_of(e.id).await?)
    }

    async fn pledge_map(&self) -> AppResult<std::sync::Arc<HashMap<i64, Vec<Pledge>>>> {
        if let Some(map) = self.pledges.fresh() {
            return Ok(map);
        }
        let mut map: HashMap<i64, Vec<Pledge>> = HashMap::new();
        for p in self.store.all_pledges().await? {
            map.entry(p.entity_id).or_default().push(p);
        }
        Ok(self.pledges.put(map))
    }

    fn forget_pledges(&self) {
        self.pledges.forget();
    }

    /// The pledges in force today, for the public merchant page (cached).
    pub async fn public_pledges(&self, entity_id: i64) -> AppResult<Vec<(String, &'static str)>> {
        let today = today_cn();
        Ok(self
            .pledge_map()
            .await?
            .get(&entity_id)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.since <= today && p.until.is_none_or(|u| u >= today))
            .filter_map(|p| {
                PLEDGE_KINDS
                    .iter()
                    .find(|(k, _)| *k == p.kind)
                    .map(|(k, l)| ((*k).to_owned(), *l))
            })
            .collect())
    }
}

/// zh-CN label of an event's action (the public receipt page shows these).
pub fn action_label(a: &str) -> &'static str {
    match a {
        "receive" => "已登记",
        "accept" => "已受理/开始核查",
        "reject" => "不予受理",
        "agree" => "调解达成协议",
        "fail" => "调解终止",
        "open_case" => "已立案",
        "no_case" => "不予立案",
        "close" => "办结",
        "answer" => "已答复",
        "merge" => "合并处理",
        "transfer" => "移送",
        "extend" => "延长期限",
        "pause" => "中止",
        "resume" => "恢复办理",
        "respondent" => "确认被投诉人",
        _ => "处理",
    }
}

/// Header names of the national 12315 platform's exports (and our own
/// English field names), per field.
pub const CASE_HEADERS: &[(&str, &[&str])] = &[
    (
        "external_no",
        &[
            "登记编号",
            "投诉举报编号",
            "工单编号",
            "编号",
            "external_no",
        ],
    ),
    ("kind", &["类型", "登记类型", "诉求类型", "kind"]),
    (
        "received_on",
        &[
            "登记时间",
            "登记日期",
            "接收时间",
            "接收日期",
            "received_on",
        ],
    ),
    (
        "complainant_name",
        &[
            "投诉人",
            "举报人",
            "投诉人姓名",
            "举报人姓名",
            "姓名",
            "complainant_name",
        ],
    ),
    (
        "complainant_phone",
        &[
            "联系电话",
            "投诉人电话",
            "手机号码",
            "电话",
            "complainant_phone",
        ],
    ),
    (
        "complainant_id_number",
        &[
            "身份证号",
            "证件号码",
            "身份证号码",
            "complainant_id_number",
        ],
    ),
    (
        "complainant_address",
        &["投诉人地址", "联系地址", "complainant_address"],
    ),
    (
        "respondent_name",
        &[
            "被投诉人",
            "被举报人",
            "被投诉单位",
            "被投诉举报对象",
            "涉及主体名称",
            "respondent_name",
        ],
    ),
    (
        "respondent_uscc",
        &[
            "统一社会信用代码",
            "被投诉人统一社会信用代码",
            "respondent_uscc",
        ],
    ),
    (
        "respondent_address",
        &["被投诉人地址", "经营地址", "respondent_address"],
    ),
    (
        "category",
        &["问题类别", "投诉问题分类", "问题分类", "category"],
    ),
    ("platform", &["网络交易平台", "平台名称", "platform"]),
    (
        "amount_involved",
        &["涉及金额", "争议金额", "涉案金额", "amount_involved"],
    ),
    (
        "description",
        &[
            "投诉内容",
            "举报内容",
            "诉求内容",
            "问题描述",
            "description",
        ],
    ),
];

/// A category code from the text an export writes (a code, a label, or a
/// word in it); anything else is `other`.
pub fn category_from_text(s: &str) -> &'static str {
    let s = s.trim();
    if let Some((c, _)) = CATEGORIES.iter().find(|(c, l)| *c == s || *l == s) {
        return c;
    }
    const WORDS: &[(&str, &str)] = &[
        ("医疗器械", "medical_device"),
        ("化妆品", "cosmetics"),
        ("特种设备", "special_equipment"),
        ("知识产权", "ip"),
        ("商标", "ip"),
        ("专利", "ip"),
        ("食品", "food"),
        ("餐饮", "food"),
        ("药", "drug"),
        ("价格", "price"),
        ("收费", "price"),
        ("广告", "advertising"),
        ("合同", "contract"),
        ("计量", "metrology"),
        ("无照", "licensing"),
        ("无证", "licensing"),
        ("质量", "product_quality"),
        ("商品", "product_quality"),
        ("服务", "service"),
    ];
    WORDS
        .iter()
        .find(|(w, _)| s.contains(w))
        .map_or("other", |(_, c)| c)
}

/// What an import of a 12315 export did.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseImportReport {
    pub rows: i64,
    pub created: i64,
    /// Stored merged into an earlier case of the same matter.
    pub merged: i64,
    /// Already imported (same 12315 number): re-importing changes nothing.
    pub skipped: i64,
    pub failed: i64,
    pub errors: Vec<ImportError>,
}

/// Rows of a table, by field.
#[derive(Default)]
struct CaseRows {
    cols: Vec<(&'static str, usize, String)>,
    rows: Vec<(i64, HashMap<&'static str, String>)>,
    header_errors: Vec<ImportError>,
    bytes: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// The columns of a 12315 export's header (field, index, header as
/// written), and an error for each required one missing.
#[allow(clippy::type_complexity)]
fn case_columns(
    headers: &[String],
    row_no: i64,
) -> (Vec<(&'static str, usize, String)>, Vec<ImportError>) {
    let cols = crate::import::ColumnMap::matching(CASE_HEADERS, headers).cols;
    let mut errors = Vec::new();
    for (f, label) in [
        ("external_no", "登记编号"),
        ("description", "投诉内容"),
        ("category", "问题类别"),
    ] {
        if !cols.iter().any(|(g, ..)| *g == f) {
            errors.push(ImportError {
                row_no,
                column: label.into(),
                code: "import_missing_column".into(),
                message: format!("缺少“{label}”列"),
                severity: "error".into(),
            });
        }
    }
    (cols, errors)
}

impl crate::import::RowSink for CaseRows {
    fn bytes(&self) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
        self.bytes.clone()
    }
    fn header_problems(&self, headers: &[String]) -> usize {
        case_columns(headers, 0).1.len()
    }
    fn headers(&mut self, headers: Vec<String>, row_no: i64) -> bool {
        (self.cols, self.header_errors) = case_columns(&headers, row_no);
        self.header_errors.is_empty()
    }
    fn row(&mut self, data_row: i64, cell: impl Fn(usize) -> Option<String>) -> bool {
        let mut m = HashMap::new();
        for (f, i, _) in &self.cols {
            if let Some(v) = cell(*i)
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
            {
                m.insert(*f, v);
            }
        }
        if !m.is_empty() {
            self.rows.push((data_row + 1, m));
        }
        true
    }
    fn flush(&mut self) -> bool {
        true
    }
}

impl App {
    /// Imports an export of the national 12315 platform (CSV in UTF-8 or
    /// GBK, or XLSX). Every row goes through the same intake as the console;
    /// rows with errors are reported (row, column, code, message) and the
    /// others kept; a row whose 12315 number is already here is skipped, so
    /// re-importing a file, or resuming one that was cut off, changes nothing.
    pub async fn import_cases(
        &self,
        p: &Principal,
        path: &std::path::Path,
    ) -> AppResult<CaseImportReport> {
        self.authorize(p, "complaint:create").await?;
        let owned = path.to_owned();
        let (table, read) = tokio::task::spawn_blocking(move || {
            let mut t = CaseRows::default();
            let r = crate::import::read_table(&owned, &mut t);
            (t, r)
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
        let mut report = CaseImportReport::default();
        if let Err(e) = read {
            report.errors.push(e);
            return Ok(report);
        }
        if !table.header_errors.is_empty() {
            report.errors = table.header_errors;
            return Ok(report);
        }
        let header_of = |f: &str| {
            table
                .cols
                .iter()
                .find(|(g, ..)| *g == f)
                .map_or_else(|| f.to_owned(), |(_, _, h)| h.clone())
        };
        for (row_no, m) in &table.rows {
            report.rows += 1;
            let get = |f: &str| m.get(f).cloned();
            let mut errs: Vec<(String, String, String)> = Vec::new();
            let kind = match get("kind").as_deref() {
                None => Some(CaseKind::Complaint),
                Some(k) if k.contains("举报") || k == "report" => Some(CaseKind::Report),
                Some(k) if k.contains("咨询") || k == "enquiry" => Some(CaseKind::Enquiry),
                Some(k) if k.contains("投诉") || k == "complaint" => Some(CaseKind::Complaint),
                Some(_) => {
                    errs.push((
                        "kind".into(),
                        "invalid".into(),
                        "类型应为投诉、举报或咨询".into(),
                    ));
                    None
                }
            };
            let received_on = match get("received_on") {
                None => None,
                Some(v) => {
                    match hongdun_core::registry::parse_loose_date(v.get(..10).unwrap_or(&v))
                        .or_else(|| hongdun_core::registry::parse_loose_date(&v))
                    {
                        Some(d) => Some(d),
                        None => {
                            errs.push((
                                "received_on".into(),
                                "invalid_date".into(),
                                "登记时间无法识别".into(),
                            ));
                            None
                        }
                    }
                }
            };
            let amount = match get("amount_involved").map(|a| a.replace([',', '，', '元', '¥'], ""))
            {
                None => None,
                Some(a) => match a.trim().parse::<f64>() {
                    Ok(v) => Some(v),
                    Err(_) => {
                        errs.push((
                            "amount_involved".into(),
                            "invalid".into(),
                            "金额应为数字（元）".into(),
                        ));
                        None
                    }
                },
            };
            if get("external_no").is_none() {
                errs.push((
                    "external_no".into(),
                    "required".into(),
                    "缺少 12315 登记编号".into(),
                ));
            }
            if errs.is_empty() {
                let input = CaseInput {
                    kind,
                    channel: Some(Channel::Platform),
                    received_on,
                    external_no: get("external_no"),
                    complainant_name: get("complainant_name"),
                    complainant_phone: get("complainant_phone"),
                    complainant_id_number: get("complainant_id_number"),
                    complainant_address: get("complainant_address"),
                    respondent_uscc: get("respondent_uscc"),
                    respondent_name: get("respondent_name"),
                    respondent_address: get("respondent_address"),
                    category: category_from_text(&get("category").unwrap_or_default()).to_owned(),
                    platform: get("platform"),
                    amount_involved: amount,
                    description: get("description").unwrap_or_default(),
                    ..Default::default()
                };
                match self.submit_case(Submitter::Staff(p), &input).await {
                    Ok(i) if i.merged_into.is_some() => report.merged += 1,
                    Ok(_) => report.created += 1,
                    Err(AppError::Validation(fe))
                        if fe
                            .iter()
                            .any(|f| f.field == "external_no" && f.code == "duplicate") =>
                    {
                        report.skipped += 1
                    }
                    Err(AppError::Validation(fe)) => {
                        errs.extend(fe.into_iter().map(|f| (f.field, f.code, f.message)));
                    }
                    Err(AppError::Rule {
                        code,
                        message,
                        field,
                    }) => {
                        errs.push((field.unwrap_or_default(), code.into(), message));
                    }
                    Err(e) => return Err(e),
                }
            }
            if !errs.is_empty() {
                report.failed += 1;
                for (field, code, message) in errs {
                    report.errors.push(ImportError {
                        row_no: *row_no,
                        column: header_of(&field),
                        code,
                        message,
                        severity: "error".into(),
                    });
                }
            }
        }
        Ok(report)
    }
}
