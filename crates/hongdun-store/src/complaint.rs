//! The `complaint` module: cases (complaints, reports, enquiries) with their
//! events, the deadline rule sets, online platforms, and merchants' pledges.
use crate::{AuditCtx, Page, Paging, ScopeFilter, StoreResult};
use chrono::{DateTime, NaiveDate, Utc};
use hongdun_core::complaint::{CaseKind, CaseOutcome, CaseState, Channel, RuleSet, Step};
use hongdun_core::ids::UnitId;
use serde::Serialize;

/// One case as the store keeps it. Carries the complainant's personal data:
/// the app masks it for everyone but the handler, and public answers are
/// built from other types.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Case {
    pub id: i64,
    pub receipt: String,
    /// The national 12315 platform's number, for imported cases.
    pub external_no: Option<String>,
    pub kind: CaseKind,
    pub channel: Channel,
    pub state: CaseState,
    pub outcome: Option<CaseOutcome>,
    /// The step whose deadline runs now.
    pub step: Option<Step>,
    pub due_on: Option<NaiveDate>,
    /// The calendar lacked a year the deadline falls in: no date is guessed.
    pub due_uncertain: bool,
    pub paused_on: Option<NaiveDate>,
    /// Some step finished after its due date.
    pub late: bool,
    pub unit_id: UnitId,
    pub rule_set: String,
    pub received_on: NaiveDate,
    pub accepted_on: Option<NaiveDate>,
    pub decided_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
    pub complainant_name: Option<String>,
    pub complainant_phone: Option<String>,
    pub complainant_id_number: Option<String>,
    pub complainant_address: Option<String>,
    pub real_name: bool,
    pub respondent_entity_id: Option<i64>,
    pub respondent_uscc: Option<String>,
    pub respondent_name: String,
    pub respondent_address: Option<String>,
    pub category: String,
    pub platform: Option<String>,
    /// Fen (0.01 yuan).
    pub amount_involved: Option<i64>,
    pub amount_recovered: i64,
    pub description: String,
    pub files: Vec<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub merged_into: Option<i64>,
    /// Flagged for review as a possible abuse pattern (never auto-rejected).
    pub flagged: bool,
    pub satisfaction: Option<String>,
    /// What the complainant is told; shown on the public receipt page.
    pub reply: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewCase {
    pub receipt: String,
    pub external_no: Option<String>,
    pub kind: Option<CaseKind>,
    pub channel: Option<Channel>,
    pub state: Option<CaseState>,
    pub step: Option<Step>,
    pub due_on: Option<NaiveDate>,
    pub due_uncertain: bool,
    pub unit_id: UnitId,
    pub rule_set: String,
    pub received_on: NaiveDate,
    pub complainant_name: Option<String>,
    pub complainant_phone: Option<String>,
    pub complainant_id_number: Option<String>,
    pub complainant_address: Option<String>,
    pub person_key: Option<String>,
    pub real_name: bool,
    pub respondent_entity_id: Option<i64>,
    pub respondent_name: String,
    pub respondent_key: String,
    pub respondent_address: Option<String>,
    pub category: String,
    pub platform: Option<String>,
    pub amount_involved: Option<i64>,
    pub description: String,
    pub files: Vec<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// Set when the case repeats an open one: it is stored merged into it.
    pub merged_into: Option<i64>,
    pub flagged: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The day the step counts as done on (the import and the generator
    /// record past steps).
    pub on_day: NaiveDate,
    pub actor_name: String,
    /// receive, accept, reject, agree, fail, open_case, no_case, close, answer,
    /// merge, transfer, extend, pause, resume, respondent
    pub action: String,
    pub state: CaseState,
    pub note: Option<String>,
    pub from_unit: Option<UnitId>,
    pub to_unit: Option<UnitId>,
    pub due_on: Option<NaiveDate>,
}

/// A step applied to a case: the app computed every new value; `None` leaves
/// a column as it is. Applied only if the case is still in `from`.
#[derive(Debug, Clone, Default)]
pub struct CaseChange {
    pub from: Option<CaseState>,
    pub action: String,
    pub on_day: Option<NaiveDate>,
    pub note: Option<String>,
    pub state: Option<CaseState>,
    pub outcome: Option<CaseOutcome>,
    /// `Some(None)` clears the step (the case is finished).
    pub step: Option<Option<Step>>,
    pub due_on: Option<Option<NaiveDate>>,
    pub due_uncertain: Option<bool>,
    pub paused_on: Option<Option<NaiveDate>>,
    pub late: Option<bool>,
    pub unit_id: Option<UnitId>,
    pub accepted_on: Option<NaiveDate>,
    pub decided_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
    pub amount_recovered: Option<i64>,
    pub satisfaction: Option<String>,
    pub reply: Option<String>,
    pub merged_into: Option<i64>,
    /// Confirming the respondent against the register.
    pub respondent: Option<(i64, String, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    pub kind: Option<CaseKind>,
    pub state: Option<CaseState>,
    /// Not closed and not merged.
    pub open: bool,
    pub unit_id: Option<UnitId>,
    pub category: Option<String>,
    pub platform: Option<String>,
    pub flagged: Option<bool>,
    /// Receipt code, 12315 number or respondent name (contains).
    pub q: Option<String>,
    /// Open with a due date before this day.
    pub overdue: Option<NaiveDate>,
    /// Open with a due date within [from, to].
    pub due_between: Option<(NaiveDate, NaiveDate)>,
    pub received_between: Option<(NaiveDate, NaiveDate)>,
    pub paging: Paging,
}

/// Counts per office, category, platform, kind and day of receipt: the app
/// folds them into any of its figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseCount {
    pub unit_id: UnitId,
    pub category: String,
    pub platform: Option<String>,
    pub kind: CaseKind,
    pub received_on: NaiveDate,
    pub received: i64,
    pub accepted: i64,
    pub closed: i64,
    pub closed_on_time: i64,
    pub recovered: i64,
}

/// An online trading platform and the unit of the authority where it is
/// registered (complaints against its merchants without a valid address go there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Platform {
    pub name: String,
    pub uscc: Option<String>,
    pub unit_id: UnitId,
}

/// 放心消费: an ODR enterprise or a no-reason-return pledge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pledge {
    pub entity_id: i64,
    /// odr, no_reason_return
    pub kind: String,
    pub since: NaiveDate,
    pub until: Option<NaiveDate>,
    pub note: Option<String>,
}

#[async_trait::async_trait]
pub trait ComplaintStore {
    async fn rule_sets(&self) -> StoreResult<Vec<RuleSet>>;
    /// Inserts or replaces a rule set; a verified one in the store is a
    /// conflict on `verified` (it can no longer change).
    async fn put_rule_set(&self, ctx: &AuditCtx, r: &RuleSet) -> StoreResult<()>;
    /// Inserts the rule sets that are missing; leaves the others alone.
    async fn seed_rule_sets(&self, sets: &[RuleSet]) -> StoreResult<()>;

    async fn platforms(&self) -> StoreResult<Vec<Platform>>;
    async fn put_platform(&self, ctx: &AuditCtx, p: &Platform) -> StoreResult<()>;

    /// A case, its `receive` event (and `merge` when merged) and its audit row.
    /// A taken receipt or 12315 number is a conflict on that field.
    async fn create_case(&self, ctx: &AuditCtx, c: &NewCase) -> StoreResult<Case>;
    async fn get_case(&self, scope: &ScopeFilter, id: i64) -> StoreResult<(Case, Vec<CaseEvent>)>;
    /// For the public receipt page (the app builds the public view).
    async fn case_by_receipt(&self, receipt: &str) -> StoreResult<(Case, Vec<CaseEvent>)>;
    async fn case_change(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        id: i64,
        change: &CaseChange,
    ) -> StoreResult<Case>;
    async fn list_cases(&self, scope: &ScopeFilter, q: &CaseQuery) -> StoreResult<Page<Case>>;
    /// The earliest open case of this person about this respondent received
    /// on or after `since` (the matter a repeat is merged into).
    async fn open_case_for(
        &self,
        person_key: &str,
        respondent_key: &str,
        since: NaiveDate,
    ) -> StoreResult<Option<Case>>;
    /// (cases, distinct respondents) of a person since a day, merged ones excluded.
    async fn person_counts(&self, person_key: &str, since: NaiveDate) -> StoreResult<(i64, i64)>;
    /// Marks every case of this person since a day as flagged for review.
    async fn flag_person(&self, person_key: &str, since: NaiveDate) -> StoreResult<u64>;
    async fn case_counts(
        &self,
        scope: &ScopeFilter,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<CaseCount>>;

    async fn put_pledge(&self, ctx: &AuditCtx, p: &Pledge) -> StoreResult<()>;
    async fn delete_pledge(&self, ctx: &AuditCtx, entity_id: i64, kind: &str) -> StoreResult<()>;
    async fn pledges_of(&self, entity_id: i64) -> StoreResult<Vec<Pledge>>;
    async fn all_pledges(&self) -> StoreResult<Vec<Pledge>>;
}
