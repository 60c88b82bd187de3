//! The `food` module (食安在线): delivery-seal keys, batches, uses and warnings;
//! sunshine-kitchen cameras and their heartbeat words.
use crate::{AuditCtx, Page, Paging, ScopeFilter, StoreResult};
use chrono::{DateTime, NaiveDate, Utc};
use hongdun_core::ids::UnitId;
use serde::Serialize;

/// A signing key as stored. Not `Serialize`: the secret never leaves the
/// store in a model an API could return.
#[derive(Clone)]
pub struct StoredSealKey {
    pub id: u8,
    pub secret: [u8; 32],
    pub created_at: DateTime<Utc>,
    /// Retired keys still verify the seals they signed; new batches use the
    /// newest key that is not retired.
    pub retired: bool,
}

/// A batch of seals issued to one business: serials `1..=count`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SealBatch {
    pub id: i64,
    pub key_id: i32,
    pub entity_id: i64,
    pub entity_name: String,
    pub uscc: Option<String>,
    pub unit_id: UnitId,
    pub count: i32,
    pub note: Option<String>,
    pub issued_on: NaiveDate,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewSealBatch {
    pub key_id: u8,
    pub entity_id: i64,
    pub unit_id: UnitId,
    pub count: i32,
    pub note: Option<String>,
    pub issued_on: NaiveDate,
}

/// What happened to one seal: its order, its scans, its break. A seal with no
/// row was issued and never bound or scanned.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SealUse {
    pub batch_id: i64,
    pub serial: i32,
    pub order_no: Option<String>,
    pub platform: Option<String>,
    pub bound_at: Option<DateTime<Utc>>,
    pub scans: i64,
    pub first_scan_at: Option<DateTime<Utc>>,
    pub last_scan_at: Option<DateTime<Utc>>,
    pub broken_at: Option<DateTime<Utc>>,
    /// The complaint a broken seal opened.
    pub case_id: Option<i64>,
}

/// Scans counted in memory since the last flush, for one seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanTally {
    pub batch_id: i64,
    pub serial: i32,
    pub unit_id: UnitId,
    pub scans: i64,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

/// What binding a seal to an order found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindOutcome {
    /// Newly bound.
    Bound,
    /// Already bound to this same order (nothing changed).
    Same,
    /// Already bound to another order: refused, a warning written.
    OtherOrder { order_no: String },
}

/// A warning raised by a seal: a code signed by us but never issued, or one
/// presented for a second order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SealWarning {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// never_issued, second_order, broken
    pub kind: String,
    pub code: String,
    pub batch_id: i64,
    pub serial: i32,
    /// `None` when the batch is unknown (only whole-jurisdiction scopes see it).
    pub unit_id: Option<UnitId>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewSealWarning {
    pub kind: String,
    pub code: String,
    pub batch_id: i64,
    pub serial: i32,
    pub unit_id: Option<UnitId>,
    pub detail: Option<String>,
}

/// Seal figures of one office and month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SealCount {
    pub unit_id: UnitId,
    pub month: String,
    pub issued: i64,
    pub bound: i64,
    pub scans: i64,
    pub broken: i64,
    pub warnings: i64,
}

/// A camera of a sunshine kitchen.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Camera {
    pub id: i64,
    /// GB/T 28181 device id (20 digits).
    pub device_id: String,
    pub entity_id: i64,
    pub entity_name: String,
    pub uscc: Option<String>,
    /// The business's industry (GB/T 4754), for coverage of catering.
    pub industry: Option<String>,
    pub unit_id: UnitId,
    pub channel: i32,
    pub place: String,
    pub stream_url: Option<String>,
    pub vendor: Option<String>,
    pub enabled: bool,
    /// From this minute on (China time, see `hongdun_core::kitchen`) the camera counts.
    pub installed_minute: i64,
    pub last_beat_minute: Option<i64>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewCamera {
    pub device_id: String,
    pub entity_id: i64,
    pub unit_id: UnitId,
    pub channel: i32,
    pub place: String,
    pub stream_url: Option<String>,
    pub vendor: Option<String>,
    pub installed_minute: i64,
}

#[derive(Debug, Clone, Default)]
pub struct CameraPatch {
    pub place: Option<String>,
    pub channel: Option<i32>,
    pub stream_url: Option<Option<String>>,
    pub vendor: Option<Option<String>>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct CameraQuery {
    pub entity_id: Option<i64>,
    pub unit_id: Option<UnitId>,
    /// Device id, business name or credit code (contains).
    pub q: Option<String>,
    pub paging: Paging,
}

/// Beats of one camera in one hour: bit `i` of `minutes` is minute `i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BeatWord {
    pub camera_id: i64,
    pub hour: i64,
    pub minutes: u64,
}

#[async_trait::async_trait]
pub trait FoodStore {
    async fn seal_keys(&self) -> StoreResult<Vec<StoredSealKey>>;
    /// Adds a key with the next free id (0–255); a conflict on `id` when all are used.
    async fn add_seal_key(&self, ctx: &AuditCtx, secret: [u8; 32]) -> StoreResult<u8>;
    async fn retire_seal_key(&self, ctx: &AuditCtx, id: u8) -> StoreResult<()>;

    async fn create_seal_batch(&self, ctx: &AuditCtx, b: &NewSealBatch) -> StoreResult<SealBatch>;
    async fn seal_batch(&self, scope: &ScopeFilter, id: i64) -> StoreResult<SealBatch>;
    /// Every batch (for the in-memory map the public check reads).
    async fn all_seal_batches(&self) -> StoreResult<Vec<SealBatch>>;
    async fn list_seal_batches(
        &self,
        scope: &ScopeFilter,
        entity_id: Option<i64>,
        paging: Paging,
    ) -> StoreResult<Page<SealBatch>>;
    /// The use row of one seal, if any (the public check's one read).
    async fn seal_use(&self, batch_id: i64, serial: i32) -> StoreResult<Option<SealUse>>;
    async fn seal_uses(&self, batch_id: i64) -> StoreResult<Vec<SealUse>>;
    /// Binds a seal to an order. A second, different order is refused and a
    /// `second_order` warning written in the same transaction.
    async fn bind_seal(
        &self,
        ctx: &AuditCtx,
        batch: &SealBatch,
        serial: i32,
        code: &str,
        order_no: &str,
        platform: Option<&str>,
    ) -> StoreResult<BindOutcome>;
    /// Adds counted scans to their seals and to the day counts, in one transaction.
    async fn add_seal_scans(&self, tallies: &[ScanTally]) -> StoreResult<()>;
    /// Marks a seal broken with the complaint it opened (first report wins).
    async fn mark_seal_broken(
        &self,
        batch: &SealBatch,
        serial: i32,
        code: &str,
        case_id: i64,
    ) -> StoreResult<()>;
    async fn add_seal_warning(&self, w: &NewSealWarning) -> StoreResult<()>;
    async fn list_seal_warnings(
        &self,
        scope: &ScopeFilter,
        paging: Paging,
    ) -> StoreResult<Page<SealWarning>>;
    /// Figures per office and month for batches issued, seals bound, scans,
    /// breaks and warnings in `[from, to]`.
    async fn seal_counts(
        &self,
        scope: &ScopeFilter,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<SealCount>>;

    /// A device id already taken is a conflict on `device_id`.
    async fn create_camera(&self, ctx: &AuditCtx, c: &NewCamera) -> StoreResult<Camera>;
    async fn update_camera(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        id: i64,
        patch: &CameraPatch,
    ) -> StoreResult<Camera>;
    async fn list_cameras(&self, scope: &ScopeFilter, q: &CameraQuery)
        -> StoreResult<Page<Camera>>;
    /// Every camera (the heartbeat map and the public kitchen status).
    async fn all_cameras(&self) -> StoreResult<Vec<Camera>>;
    /// ORs each word into its camera's hour and moves `last_beat_minute`
    /// forward, in one transaction.
    async fn add_beats(&self, words: &[BeatWord], last: &[(i64, i64)]) -> StoreResult<()>;
    /// Beat words of the cameras in scope for hours `[from, to)`.
    async fn beat_words(
        &self,
        scope: &ScopeFilter,
        from_hour: i64,
        to_hour: i64,
    ) -> StoreResult<Vec<BeatWord>>;
    /// Catering businesses in business per office (the base of coverage).
    async fn catering_counts(&self, scope: &ScopeFilter) -> StoreResult<Vec<(UnitId, i64)>>;
}
