//! Food sampling tests (食品安全监督抽检): plans, samples, lab results, disposal.
use crate::{AuditCtx, Page, Paging, ScopeFilter, StoreResult};
use chrono::{DateTime, NaiveDate, Utc};
use hongdun_core::food_sample::SampleState;
use hongdun_core::ids::UnitId;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SamplePlan {
    pub id: i64,
    pub unit_id: UnitId,
    pub year: i32,
    pub name: String,
    pub target: i32,
    pub note: Option<String>,
    /// Samples taken so far, and how many of them failed.
    pub taken: i64,
    pub failed: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewSamplePlan {
    pub unit_id: UnitId,
    pub year: i32,
    pub name: String,
    pub target: i32,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sample {
    pub id: i64,
    pub plan_id: i64,
    pub unit_id: UnitId,
    pub sample_no: String,
    pub product: String,
    pub category: String,
    pub spec: Option<String>,
    pub batch_no: Option<String>,
    pub produced_on: Option<NaiveDate>,
    pub producer_name: String,
    pub producer_address: Option<String>,
    pub seller_entity_id: i64,
    pub seller_name: String,
    pub seller_uscc: Option<String>,
    pub place_kind: String,
    pub sampled_on: NaiveDate,
    pub sampled_by: String,
    pub lab: Option<String>,
    pub state: SampleState,
    pub tested_on: Option<NaiveDate>,
    pub published_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewSample {
    pub plan_id: i64,
    pub unit_id: UnitId,
    pub product: String,
    pub category: String,
    pub spec: Option<String>,
    pub batch_no: Option<String>,
    pub produced_on: Option<NaiveDate>,
    pub producer_name: String,
    pub producer_address: Option<String>,
    pub seller_entity_id: i64,
    pub place_kind: String,
    pub sampled_on: NaiveDate,
    pub lab: Option<String>,
}

/// One test item's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SampleResult {
    /// 检验项目, e.g. 铅(以Pb计)
    pub item: String,
    /// 检验结果 as the lab wrote it (a number, 未检出 …)
    pub value: String,
    pub unit: Option<String>,
    /// 标准指标, e.g. ≤0.2
    pub limit: String,
    /// 判定依据, e.g. GB 2762-2022
    pub standard: String,
    pub pass: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SampleEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_name: String,
    pub action: String,
    pub state: SampleState,
    pub note: Option<String>,
    /// A notice, recall or case number.
    pub ref_no: Option<String>,
}

/// A step on a sample: results entered, a disposal, closing, publishing.
#[derive(Debug, Clone)]
pub struct SampleStep {
    pub from: SampleState,
    pub to: SampleState,
    pub action: String,
    pub note: Option<String>,
    pub ref_no: Option<String>,
    /// Results, on `results`.
    pub results: Vec<SampleResult>,
    pub lab: Option<String>,
    pub today: NaiveDate,
}

#[derive(Debug, Clone, Default)]
pub struct SampleQuery {
    pub plan_id: Option<i64>,
    pub unit_id: Option<UnitId>,
    pub state: Option<SampleState>,
    /// Failed samples only (any disposal state).
    pub failed: Option<bool>,
    pub published: Option<bool>,
    pub seller_entity_id: Option<i64>,
    /// Product, producer, seller or sample number (contains).
    pub q: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub paging: Paging,
}

/// Counts per office and category in a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SampleTally {
    pub unit_id: UnitId,
    pub category: String,
    pub taken: i64,
    pub tested: i64,
    pub failed: i64,
    /// Failed samples not yet closed.
    pub open: i64,
    pub published: i64,
}

#[async_trait::async_trait]
pub trait SampleStore {
    async fn create_sample_plan(
        &self,
        ctx: &AuditCtx,
        p: &NewSamplePlan,
    ) -> StoreResult<SamplePlan>;
    async fn sample_plan(&self, scope: &ScopeFilter, id: i64) -> StoreResult<SamplePlan>;
    async fn list_sample_plans(
        &self,
        scope: &ScopeFilter,
        year: Option<i32>,
    ) -> StoreResult<Vec<SamplePlan>>;
    /// Numbers the sample `CJ{year}{unit:04}{seq:05}` in the same transaction.
    async fn create_sample(&self, ctx: &AuditCtx, s: &NewSample) -> StoreResult<Sample>;
    /// Many samples in one transaction (the demo generator; a year's worth).
    async fn create_samples(&self, ctx: &AuditCtx, s: &[NewSample]) -> StoreResult<Vec<i64>>;
    async fn get_sample(
        &self,
        scope: &ScopeFilter,
        id: i64,
    ) -> StoreResult<(Sample, Vec<SampleResult>, Vec<SampleEvent>)>;
    async fn list_samples(&self, scope: &ScopeFilter, q: &SampleQuery)
        -> StoreResult<Page<Sample>>;
    /// Takes a step if the sample is still in `step.from` (else a conflict on
    /// `state`); results, when given, are written in the same transaction.
    async fn sample_step(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        id: i64,
        step: &SampleStep,
    ) -> StoreResult<Sample>;
    /// Marks results public on `day` (a conflict on `state` when no results yet).
    async fn publish_sample(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        id: i64,
        day: NaiveDate,
    ) -> StoreResult<Sample>;
    /// Failed results of these samples (for published lists).
    async fn failed_results(&self, ids: &[i64]) -> StoreResult<Vec<(i64, SampleResult)>>;
    async fn sample_tallies(
        &self,
        scope: &ScopeFilter,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<SampleTally>>;
}
