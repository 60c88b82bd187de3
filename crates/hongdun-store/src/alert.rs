//! AI capture alerts (AI 抓拍预警) and the merchant's reply link to a hazard.
use crate::{AuditCtx, HazardStep, NewFile, NewHazard, Page, Paging, ScopeFilter, StoreResult};
use chrono::{DateTime, NaiveDate, Utc};
use hongdun_core::alert::AlertStatus;
use hongdun_core::ids::UnitId;
use hongdun_core::inspection::HazardState;
use serde::Serialize;

/// An alert as lists show it, with its camera, business and, once confirmed,
/// its hazard's state.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alert {
    pub id: i64,
    pub camera_id: i64,
    pub device_id: String,
    pub place: String,
    pub entity_id: i64,
    pub entity_name: String,
    pub uscc: Option<String>,
    pub unit_id: UnitId,
    pub kind: String,
    pub vendor: String,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    /// Reports merged into this alert (1 = none merged).
    pub repeats: i64,
    /// The highest confidence reported.
    pub confidence: f64,
    pub snapshot_id: Option<i64>,
    pub status: AlertStatus,
    pub triaged_by: Option<String>,
    pub triaged_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
    pub hazard_id: Option<i64>,
    pub hazard_state: Option<HazardState>,
}

/// One report from an edge box, checked.
#[derive(Debug, Clone)]
pub struct NewAlert {
    pub camera_id: i64,
    pub entity_id: i64,
    pub unit_id: UnitId,
    pub kind: String,
    pub vendor: String,
    pub at: DateTime<Utc>,
    pub confidence: f64,
    /// Stored only when the report opens a new alert.
    pub snapshot: Option<NewFile>,
}

/// What became of one report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertAccepted {
    pub alert_id: i64,
    /// True when it was a repeat merged into a pending alert.
    pub merged: bool,
}

#[derive(Debug, Clone, Default)]
pub struct AlertQuery {
    pub status: Option<AlertStatus>,
    pub kind: Option<String>,
    pub unit_id: Option<UnitId>,
    pub entity_id: Option<i64>,
    /// Only confirmed alerts whose hazard is (not) closed.
    pub open: Option<bool>,
    pub paging: Paging,
}

/// Triaged counts of one kind and vendor, for false-positive rates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertTally {
    pub kind: String,
    pub vendor: String,
    pub pending: i64,
    pub confirmed: i64,
    pub dismissed: i64,
}

#[async_trait::async_trait]
pub trait AlertStore {
    /// Adds each report, merging a repeat into the latest pending alert of the
    /// same camera and kind whose last report is at most `window_secs` before
    /// it. One transaction for the whole list.
    async fn ingest_alerts(
        &self,
        ctx: &AuditCtx,
        alerts: &[NewAlert],
        window_secs: i64,
    ) -> StoreResult<Vec<AlertAccepted>>;
    async fn get_alert(&self, scope: &ScopeFilter, id: i64) -> StoreResult<Alert>;
    async fn list_alerts(&self, scope: &ScopeFilter, q: &AlertQuery) -> StoreResult<Page<Alert>>;
    /// Dismisses a pending alert (a conflict on `status` when it is not pending).
    async fn dismiss_alert(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        id: i64,
        note: &str,
    ) -> StoreResult<Alert>;
    /// Confirms a pending alert: in one transaction, opens the hazard, takes
    /// its `order` step and links it (a conflict on `status` when not pending).
    async fn confirm_alert(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        id: i64,
        note: Option<&str>,
        hazard: &NewHazard,
        order: &HazardStep,
    ) -> StoreResult<Alert>;
    /// Counts per kind and vendor of alerts first reported in `[from, to]`.
    async fn alert_tallies(
        &self,
        scope: &ScopeFilter,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<AlertTally>>;

    /// Sets the hazard's reply link (only the token's SHA-256), replacing any.
    async fn set_reply_link(
        &self,
        ctx: &AuditCtx,
        hazard_id: i64,
        token_sha256: &str,
    ) -> StoreResult<()>;
    /// The hazard a reply token opens.
    async fn hazard_by_reply(&self, token_sha256: &str) -> StoreResult<i64>;
}
