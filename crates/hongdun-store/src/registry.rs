//! The `registry` module: entities (经营主体), their licences and history, and
//! the import jobs that load them.
use crate::{AuditCtx, Page, Paging, ScopeFilter, StoreResult};
use chrono::{DateTime, NaiveDate, Utc};
use hongdun_core::ids::UnitId;
use hongdun_core::registry::{EntityKind, EntityStatus, LicenceKind};
use serde::Serialize;

/// An entity as staff see it (personal fields included: callers mask them for
/// anyone but the handler, and public answers never carry them).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Entity {
    pub id: i64,
    pub uscc: Option<String>,
    /// 注册号 (15 digits), for older entities.
    pub reg_no: Option<String>,
    pub name: String,
    pub kind: EntityKind,
    /// 法定代表人 / 经营者
    pub legal_rep: Option<String>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub county_code: Option<String>,
    pub township_code: Option<String>,
    /// The office responsible (routed from the township).
    pub unit_id: Option<UnitId>,
    pub grid: Option<String>,
    /// GB/T 4754 industry code.
    pub industry: Option<String>,
    pub status: EntityStatus,
    pub established: Option<NaiveDate>,
    /// 注册资本, in yuan.
    pub capital: Option<i64>,
    pub employees: Option<i64>,
    pub business_scope: Option<String>,
    pub tags: Vec<String>,
    /// Set when a lenient import accepted a code that fails its check.
    pub warning: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// One group of a count: a key (a kind, a status, an office id, a month) and how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Count {
    pub key: String,
    pub count: i64,
}

/// The figures a bureau reports about its register.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EntityStats {
    pub total: i64,
    pub by_kind: Vec<Count>,
    pub by_status: Vec<Count>,
    /// Keyed by office id ("" for entities not yet routed).
    pub by_unit: Vec<Count>,
    /// Newly established per month, oldest first.
    pub by_month: Vec<Count>,
}

/// The fields an import or a form supplies; identity is the credit code, or
/// the registration number when there is none.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewEntity {
    pub uscc: Option<String>,
    pub reg_no: Option<String>,
    pub name: String,
    pub kind: EntityKind,
    pub legal_rep: Option<String>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub county_code: Option<String>,
    pub township_code: Option<String>,
    pub unit_id: Option<UnitId>,
    pub grid: Option<String>,
    pub industry: Option<String>,
    pub status: EntityStatus,
    pub established: Option<NaiveDate>,
    pub capital: Option<i64>,
    pub employees: Option<i64>,
    pub business_scope: Option<String>,
    pub tags: Vec<String>,
    pub warning: Option<String>,
    /// Search terms (bigrams, words, pinyin initials), computed by the app.
    #[serde(skip)]
    pub search: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Licence {
    pub id: i64,
    pub entity_id: i64,
    pub kind: LicenceKind,
    pub number: String,
    pub issuer: Option<String>,
    pub issued_on: Option<NaiveDate>,
    pub expires_on: Option<NaiveDate>,
    /// valid, suspended, revoked, cancelled
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewLicence {
    pub kind: LicenceKind,
    pub number: String,
    pub issuer: Option<String>,
    pub issued_on: Option<NaiveDate>,
    pub expires_on: Option<NaiveDate>,
    pub status: String,
}

/// The lists inspectors work from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LicenceWatch {
    /// Valid licences expiring within the window (today ..= until).
    Expiring { today: NaiveDate, until: NaiveDate },
    /// Licences past their expiry whose holder is still in business.
    ExpiredTrading { today: NaiveDate },
    /// Businesses in business whose industry (by code prefix) requires a licence of
    /// `kind` and who hold no valid one.
    Missing {
        kind: LicenceKind,
        industry_prefixes: Vec<String>,
    },
}

/// One line of a watch list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LicenceAlert {
    pub entity_id: i64,
    pub uscc: Option<String>,
    pub name: String,
    pub unit_id: Option<UnitId>,
    pub township_code: Option<String>,
    pub industry: Option<String>,
    pub licence_kind: LicenceKind,
    /// None on the "missing" list.
    pub number: Option<String>,
    pub expires_on: Option<NaiveDate>,
}

/// One change in an entity's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EntityEvent {
    pub id: i64,
    pub entity_id: i64,
    pub at: DateTime<Utc>,
    pub actor_name: String,
    /// create, update, import
    pub kind: String,
    /// JSON of the changed fields: {"field": [before, after]}; personal fields redacted.
    pub changes: String,
}

/// Filters of an entity search; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct EntityQuery {
    /// Search terms every match must contain (bigrams/words from the app).
    pub terms: Vec<String>,
    /// The literal text a name must contain, checked after the index narrows.
    pub name_like: Option<String>,
    pub uscc_prefix: Option<String>,
    pub address_like: Option<String>,
    pub division: Option<String>,
    pub industry_prefix: Option<String>,
    pub kind: Option<EntityKind>,
    pub status: Option<EntityStatus>,
    pub tag: Option<String>,
    pub unit_id: Option<UnitId>,
    pub sort: EntitySort,
    pub paging: Paging,
    /// Skip counting the matches (`total` is then the page's length): for
    /// public lookups, where only the first page matters.
    pub skip_count: bool,
    /// Consider only the first N index hits: bounds the work of very common
    /// terms for public lookups; staff searches leave it unset.
    pub candidate_limit: Option<i64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EntitySort {
    #[default]
    Name,
    /// Registration order; what the index returns first, so the cheapest.
    Id,
    EstablishedDesc,
    UpdatedDesc,
}

/// What one batch upsert did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UpsertCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

#[async_trait::async_trait]
pub trait EntityStore {
    /// Inserts or updates by credit code (or registration number), writing one
    /// history event per changed entity and one audit row for the batch, in one
    /// transaction.
    async fn upsert_entities(
        &self,
        ctx: &AuditCtx,
        rows: &[NewEntity],
    ) -> StoreResult<UpsertCounts>;
    async fn get_entity(&self, scope: &ScopeFilter, id: i64) -> StoreResult<Entity>;
    async fn entity_by_uscc(&self, scope: &ScopeFilter, uscc: &str) -> StoreResult<Entity>;
    async fn search_entities(
        &self,
        scope: &ScopeFilter,
        q: &EntityQuery,
    ) -> StoreResult<Page<Entity>>;
    async fn entity_history(&self, scope: &ScopeFilter, id: i64) -> StoreResult<Vec<EntityEvent>>;
    async fn licences_of(&self, entity_id: i64) -> StoreResult<Vec<Licence>>;
    /// A watch list, scoped by the entity's office; soonest expiry first.
    async fn licence_watch(
        &self,
        scope: &ScopeFilter,
        watch: &LicenceWatch,
        paging: Paging,
    ) -> StoreResult<Page<LicenceAlert>>;
    /// Counts of the entities in scope: by kind, status, office and month of
    /// establishment (months from `since`, "YYYY-MM").
    async fn entity_stats(&self, scope: &ScopeFilter, since: NaiveDate)
        -> StoreResult<EntityStats>;
    /// Loads licences for entities named by credit code (seed data, the demo):
    /// one transaction and one audit row for the lot; a number already on file,
    /// or a code not in the register, is skipped. Returns how many were added.
    async fn load_licences(
        &self,
        ctx: &AuditCtx,
        rows: &[(String, NewLicence)],
    ) -> StoreResult<u64>;
    /// An entity and its licences in one round trip (the public lookup).
    async fn entity_with_licences(&self, uscc: &str) -> StoreResult<(Entity, Vec<Licence>)>;
    /// The licences of several entities in one query (lists and public search).
    async fn licences_of_many(&self, entity_ids: &[i64]) -> StoreResult<Vec<Licence>>;
    async fn put_licence(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        entity_id: i64,
        l: &NewLicence,
    ) -> StoreResult<Licence>;
}

// ---------------------------------------------------------------- import jobs

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportJob {
    pub id: i64,
    pub kind: String,
    pub file_name: String,
    pub file_sha256: String,
    /// strict or lenient
    pub mode: String,
    /// running, done, failed
    pub status: String,
    pub rows_total: i64,
    pub rows_ok: i64,
    pub rows_failed: i64,
    pub rows_warned: i64,
    pub inserted: i64,
    pub updated: i64,
    /// The last data row (1-based, header excluded) whose batch is committed.
    pub checkpoint_row: i64,
    pub unit_id: Option<UnitId>,
    pub created_by_name: String,
    pub message: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportError {
    /// The row number as a spreadsheet shows it (the header is row 1).
    pub row_no: i64,
    pub column: String,
    pub code: String,
    pub message: String,
    /// error (row rejected) or warning (row kept)
    pub severity: String,
}

/// What one committed batch adds to its job.
#[derive(Debug, Clone, Default)]
pub struct ImportBatch {
    pub rows: Vec<NewEntity>,
    pub errors: Vec<ImportError>,
    pub checkpoint_row: i64,
    pub rows_seen: i64,
    pub rows_failed: i64,
    pub rows_warned: i64,
}

#[async_trait::async_trait]
pub trait ImportStore {
    /// Prepares import job `job_id`'s first load into an empty register:
    /// drops the entity indexes it defers so rows append fast (on SQLite the
    /// credit code's too: until they are built again, only this job may add
    /// or change businesses, others get `StoreError::RegisterLoading`).
    /// Returns false (and changes nothing) when the register already holds
    /// entities.
    async fn begin_bulk_load(&self, job_id: i64) -> StoreResult<bool>;
    /// Creates any missing secondary entity index (after a bulk load, or to heal
    /// one that was interrupted); cheap when they all exist.
    async fn ensure_entity_indexes(&self) -> StoreResult<()>;
    async fn create_import_job(
        &self,
        ctx: &AuditCtx,
        kind: &str,
        file_name: &str,
        file_sha256: &str,
        mode: &str,
    ) -> StoreResult<ImportJob>;
    /// A job for the same file that was interrupted, to resume.
    async fn resumable_import_job(&self, kind: &str, file_sha256: &str) -> StoreResult<ImportJob>;
    /// Jobs are scoped by the unit of the person who started them.
    async fn get_import_job(&self, scope: &ScopeFilter, id: i64) -> StoreResult<ImportJob>;
    /// Commits one batch: the entities, their errors and the job's checkpoint in
    /// one transaction, so a crash never leaves half a batch. The batch is
    /// handed over (a backend may write it on another thread).
    async fn commit_import_batch(
        &self,
        ctx: &AuditCtx,
        job_id: i64,
        batch: ImportBatch,
    ) -> StoreResult<UpsertCounts>;
    async fn finish_import_job(
        &self,
        id: i64,
        status: &str,
        message: Option<&str>,
    ) -> StoreResult<ImportJob>;
    async fn import_errors(&self, job_id: i64) -> StoreResult<Vec<ImportError>>;
    /// The import history: jobs in `scope` (by the unit of the person who
    /// started them), newest first.
    async fn list_import_jobs(
        &self,
        scope: &ScopeFilter,
        q: &ImportJobQuery,
    ) -> StoreResult<Page<ImportJob>>;
}

/// Filters of the import history.
#[derive(Debug, Clone, Default)]
pub struct ImportJobQuery {
    /// `entities` (the only kind so far).
    pub kind: Option<String>,
    /// running, done or failed.
    pub status: Option<String>,
    pub paging: Paging,
}
