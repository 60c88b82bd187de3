//! The `inspection` module: items, plans, draws (immutable once written), tasks
//! with their field records and publication, and hazards with their events.
use crate::{AuditCtx, Page, Paging, ScopeFilter, StoreResult};
use chrono::{DateTime, NaiveDate, Utc};
use hongdun_core::ids::{UnitId, UserId};
use hongdun_core::inspection::{CandidateSet, HazardState};
use hongdun_core::registry::EntityKind;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InspectionItem {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// The section (科室) whose item it is.
    pub department_id: Option<UnitId>,
    /// 检查依据: the law and article.
    pub legal_basis: String,
    /// Entity kinds it applies to; empty = every kind.
    pub kinds: Vec<String>,
    /// Industry-code prefixes it applies to; empty = every industry.
    pub industries: Vec<String>,
    pub enabled: bool,
}

#[derive(Debug, Clone)]
pub struct NewInspectionItem {
    pub code: String,
    pub name: String,
    pub department_id: Option<UnitId>,
    pub legal_basis: String,
    pub kinds: Vec<String>,
    pub industries: Vec<String>,
    pub enabled: bool,
}

/// Which businesses a plan targets (all optional, combined with AND).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TargetFilter {
    /// Division codes or prefixes (a county, a township).
    #[serde(default)]
    pub divisions: Vec<String>,
    /// Industry-code prefixes.
    #[serde(default)]
    pub industries: Vec<String>,
    #[serde(default)]
    pub kinds: Vec<EntityKind>,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InspectionPlan {
    pub id: i64,
    pub unit_id: UnitId,
    pub name: String,
    /// The sections taking part (a joint inspection when more than one).
    pub departments: Vec<UnitId>,
    pub items: Vec<i64>,
    pub target: TargetFilter,
    /// `hongdun_core::inspection::Sampling` as JSON.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub sampling: serde_json::Value,
    pub exclude_months: i64,
    pub team_size: i64,
    pub pool: Vec<UserId>,
    pub publish_days: i64,
    /// draft, drawn
    pub status: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewPlan {
    pub unit_id: UnitId,
    pub name: String,
    pub departments: Vec<UnitId>,
    pub items: Vec<i64>,
    pub target: TargetFilter,
    pub sampling: serde_json::Value,
    pub exclude_months: i64,
    pub team_size: i64,
    pub pool: Vec<UserId>,
    pub publish_days: i64,
}

/// The businesses a draw may pick, as the store hands them over: the compact
/// list the draw runs on, and the entity and office behind each position.
#[derive(Debug, Clone, Default)]
pub struct DrawCandidates {
    pub set: CandidateSet,
    /// The entity behind each position, in stretches as the set's rows (one
    /// per reader, moved in whole by `append`).
    entity_ids: Vec<Vec<i64>>,
    /// The office of each, 0 for none (ids start at 1): half the memory of
    /// `Option<UnitId>` over a province's ten million.
    unit_ids: Vec<Vec<i64>>,
}

impl DrawCandidates {
    pub fn with_capacity(n: usize) -> Self {
        Self {
            set: CandidateSet::with_capacity(n),
            entity_ids: vec![Vec::with_capacity(n)],
            unit_ids: vec![Vec::with_capacity(n)],
        }
    }

    /// One business: its entity id, credit code (else registration number),
    /// class, grid and office.
    pub fn push(
        &mut self,
        entity_id: i64,
        id: &str,
        class: &str,
        grid: Option<&str>,
        unit_id: Option<UnitId>,
    ) {
        if self.entity_ids.is_empty() {
            self.entity_ids.push(Vec::new());
            self.unit_ids.push(Vec::new());
        }
        self.set.push(id, class, grid);
        self.entity_ids
            .last_mut()
            .expect("a stretch")
            .push(entity_id);
        self.unit_ids
            .last_mut()
            .expect("a stretch")
            .push(unit_id.map_or(0, |u| u.0));
    }

    /// Appends another reader's rows, moved rather than copied.
    pub fn append(&mut self, other: DrawCandidates) {
        self.set.append(other.set);
        self.entity_ids
            .extend(other.entity_ids.into_iter().filter(|v| !v.is_empty()));
        self.unit_ids
            .extend(other.unit_ids.into_iter().filter(|v| !v.is_empty()));
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// The stretch and the place in it of position `i`.
    fn locate(&self, mut i: usize) -> (usize, usize) {
        for (k, v) in self.entity_ids.iter().enumerate() {
            if i < v.len() {
                return (k, i);
            }
            i -= v.len();
        }
        panic!("candidate position out of range");
    }

    /// The entity at position `i`.
    pub fn entity_id(&self, i: usize) -> i64 {
        let (k, j) = self.locate(i);
        self.entity_ids[k][j]
    }

    /// Every entity id, in list order.
    pub fn entity_ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.entity_ids.iter().flatten().copied()
    }

    /// The office of the business at position `i`.
    pub fn unit_id(&self, i: usize) -> Option<UnitId> {
        let (k, j) = self.locate(i);
        Some(self.unit_ids[k][j]).filter(|&u| u != 0).map(UnitId)
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

/// A draw's frozen list as stored: the canonical text cut at line ends into
/// chunks of about 4 MiB, each compressed with LZ4 (block format, its size in
/// front). A province's list is some 200 MB of text; compressed, it is written
/// in a fraction of the time. The fingerprint is always of the text.
#[derive(Debug, Clone, Default)]
pub struct PackedList {
    pub chunks: Vec<Vec<u8>>,
}

impl PackedList {
    /// The most text one chunk holds (it ends at a line end).
    pub const CHUNK: usize = 4 << 20;

    /// Packs `text`, the chunks compressed on every core.
    pub fn pack(text: &str) -> Self {
        let mut pieces = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let mut cut = rest.len().min(Self::CHUNK);
            while cut < rest.len() && !rest.is_char_boundary(cut) {
                cut += 1;
            }
            if let Some(nl) = rest[..cut].rfind('\n').filter(|_| cut < rest.len()) {
                cut = nl + 1;
            }
            pieces.push(&rest[..cut]);
            rest = &rest[cut..];
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let per = pieces.len().div_ceil(threads).max(1);
        let chunks = std::thread::scope(|s| {
            let parts: Vec<_> = pieces
                .chunks(per)
                .map(|part| {
                    s.spawn(move || part.iter().map(|p| Self::compress(p)).collect::<Vec<_>>())
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|p| p.join().expect("pack thread"))
                .collect()
        });
        Self { chunks }
    }

    /// Appends one piece of the text (at most [`PackedList::CHUNK`] bytes,
    /// ending at a line end) as the next chunk: the list packed as the draw
    /// writes it out (`draw_set_into`).
    pub fn push_piece(&mut self, piece: &str) {
        self.chunks.push(Self::compress(piece));
    }

    fn compress(piece: &str) -> Vec<u8> {
        lz4_flex::block::compress_prepend_size(piece.as_bytes())
    }

    /// The text of one stored chunk. A size in front larger than any chunk
    /// this writes is refused before anything is allocated for it.
    pub fn unpack(chunk: &[u8]) -> Result<String, String> {
        let size = chunk
            .get(..4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .ok_or("draw list chunk: too short")?;
        if size > 2 * Self::CHUNK {
            return Err(format!("draw list chunk: claims {size} bytes"));
        }
        let bytes = lz4_flex::block::decompress_size_prepended(chunk)
            .map_err(|e| format!("draw list chunk: {e}"))?;
        String::from_utf8(bytes).map_err(|e| format!("draw list chunk: {e}"))
    }
}

/// What decides the candidate list.
#[derive(Debug, Clone, Default)]
pub struct CandidateQuery {
    pub target: TargetFilter,
    /// Businesses visited on or after this day are left out.
    pub visited_since: Option<NaiveDate>,
}

/// An inspector of the pool with what recusal needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PoolMember {
    pub user_id: UserId,
    pub display_name: String,
    pub unit_id: UnitId,
    pub cert_no: Option<String>,
    /// The code of the grid unit the inspector belongs to, if any.
    pub grid: Option<String>,
    /// Credit codes of declared conflicts.
    pub conflicts: Vec<String>,
}

/// A draw as stored (immutable).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Draw {
    pub id: i64,
    pub plan_id: Option<i64>,
    pub unit_id: UnitId,
    /// plan (businesses and teams) or revisit (回头看 of closed hazards)
    pub kind: String,
    pub seed: String,
    /// typed (entered by a person) or os (from the operating system)
    pub seed_source: String,
    pub seed_hash: String,
    pub algorithm: String,
    pub algorithm_version: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub sampling: serde_json::Value,
    pub team_size: i64,
    pub candidates_count: i64,
    pub candidates_sha256: String,
    /// The pool as drawn (`PoolInspector`s) as JSON.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub inspectors: serde_json::Value,
    pub inspectors_sha256: String,
    /// `DrawOutcome` as JSON.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub outcome: serde_json::Value,
    pub drawn_by: String,
    pub drawn_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewDraw {
    pub plan_id: Option<i64>,
    pub unit_id: UnitId,
    pub kind: String,
    pub seed: String,
    pub seed_source: String,
    pub seed_hash: String,
    pub algorithm: String,
    pub algorithm_version: i64,
    pub sampling: serde_json::Value,
    pub team_size: i64,
    pub candidates_count: i64,
    pub candidates_sha256: String,
    pub inspectors: serde_json::Value,
    pub inspectors_sha256: String,
    pub outcome: serde_json::Value,
}

/// A task to create with a draw: one drawn business and its team.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub entity_id: i64,
    pub unit_id: Option<UnitId>,
    pub team: Vec<UserId>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Task {
    pub id: i64,
    pub plan_id: i64,
    pub plan_name: String,
    pub draw_id: i64,
    pub seq: i64,
    pub entity_id: i64,
    pub uscc: Option<String>,
    pub entity_name: String,
    pub address: Option<String>,
    pub unit_id: Option<UnitId>,
    pub team: Vec<UserId>,
    /// assigned, done
    pub status: String,
    pub outcome: Option<String>,
    pub note: Option<String>,
    pub visited_at: Option<DateTime<Utc>>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub publish_due: Option<NaiveDate>,
    pub published_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemRecord {
    pub item_id: i64,
    /// compliant, non_compliant, not_applicable
    pub verdict: String,
    #[serde(default)]
    pub note: Option<String>,
    /// References to uploaded photos.
    #[serde(default)]
    pub photos: Vec<String>,
}

/// The result of a visit, written once.
#[derive(Debug, Clone)]
pub struct TaskResult {
    pub records: Vec<ItemRecord>,
    pub outcome: String,
    pub note: Option<String>,
    pub visited_at: DateTime<Utc>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// None when the calendar lacks the year the limit falls in.
    pub publish_due: Option<NaiveDate>,
    /// Hazards found (non-compliant items), created with the record.
    pub hazards: Vec<NewHazard>,
}

#[derive(Debug, Clone, Default)]
pub struct TaskQuery {
    pub plan_id: Option<i64>,
    /// Tasks whose team includes this user (and which they may see even
    /// outside their unit's scope).
    pub member: Option<UserId>,
    pub status: Option<String>,
    /// Visited, unpublished, and due before this day.
    pub publication_overdue: Option<NaiveDate>,
    pub paging: Paging,
}

/// A published result as the public sees it: no class, no personal data.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicInspection {
    pub uscc: Option<String>,
    pub entity_name: String,
    pub plan_name: String,
    pub authority: String,
    pub visited_on: NaiveDate,
    pub outcome: String,
    pub published_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hazard {
    pub id: i64,
    pub unit_id: UnitId,
    pub entity_id: Option<i64>,
    /// The business name or the place.
    pub place: String,
    pub task_id: Option<i64>,
    pub category: String,
    pub description: String,
    pub state: HazardState,
    pub deadline: Option<NaiveDate>,
    pub found_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewHazard {
    pub unit_id: UnitId,
    pub entity_id: Option<i64>,
    pub place: String,
    pub task_id: Option<i64>,
    pub category: String,
    pub description: String,
    pub found_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HazardEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_name: String,
    /// report, order, submit, recheck_pass, recheck_fail
    pub action: String,
    /// The state after the step.
    pub state: HazardState,
    pub note: Option<String>,
    pub evidence: Vec<String>,
    pub deadline: Option<NaiveDate>,
}

/// One step applied to a hazard; the app computed `to` with the core's table.
#[derive(Debug, Clone)]
pub struct HazardStep {
    pub from: HazardState,
    pub to: HazardState,
    pub action: String,
    pub note: Option<String>,
    pub evidence: Vec<String>,
    pub deadline: Option<NaiveDate>,
    pub today: NaiveDate,
}

#[derive(Debug, Clone, Default)]
pub struct HazardQuery {
    pub state: Option<HazardState>,
    pub unit_id: Option<UnitId>,
    pub category: Option<String>,
    /// Open with a deadline before this day.
    pub overdue: Option<NaiveDate>,
    pub closed_between: Option<(NaiveDate, NaiveDate)>,
    pub paging: Paging,
}

/// Counts per office and day (日巡查), the basis of weekly comparison and
/// monthly ranking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HazardDay {
    pub unit_id: UnitId,
    pub day: NaiveDate,
    pub found: i64,
    pub closed: i64,
}

#[async_trait::async_trait]
pub trait InspectionStore {
    async fn put_item(
        &self,
        ctx: &AuditCtx,
        item: &NewInspectionItem,
    ) -> StoreResult<InspectionItem>;
    async fn list_items(&self) -> StoreResult<Vec<InspectionItem>>;
    async fn put_conflict(
        &self,
        ctx: &AuditCtx,
        user: UserId,
        uscc: &str,
        reason: &str,
    ) -> StoreResult<()>;

    async fn create_plan(&self, ctx: &AuditCtx, plan: &NewPlan) -> StoreResult<InspectionPlan>;
    async fn get_plan(&self, scope: &ScopeFilter, id: i64) -> StoreResult<InspectionPlan>;
    async fn list_plans(
        &self,
        scope: &ScopeFilter,
        paging: Paging,
    ) -> StoreResult<Page<InspectionPlan>>;

    /// Active businesses in scope matching the target, minus those visited since
    /// the cut-off, in no particular order (the draw orders them itself).
    async fn draw_candidates(
        &self,
        scope: &ScopeFilter,
        q: &CandidateQuery,
    ) -> StoreResult<DrawCandidates>;
    async fn pool_members(&self, users: &[UserId]) -> StoreResult<Vec<PoolMember>>;
    /// Writes the draw, its frozen list (the canonical text, packed), the tasks
    /// and their teams, and marks the plan drawn — one transaction, one audit row.
    /// A plan drawn already is a conflict on `plan_id`.
    async fn save_draw(
        &self,
        ctx: &AuditCtx,
        draw: NewDraw,
        list: PackedList,
        tasks: Vec<NewTask>,
    ) -> StoreResult<Draw>;
    async fn get_draw(&self, scope: &ScopeFilter, id: i64) -> StoreResult<Draw>;
    async fn draw_of_plan(&self, scope: &ScopeFilter, plan_id: i64) -> StoreResult<Draw>;
    /// The canonical candidate list of a draw, as frozen.
    async fn draw_list(&self, draw_id: i64) -> StoreResult<String>;

    async fn list_tasks(&self, scope: &ScopeFilter, q: &TaskQuery) -> StoreResult<Page<Task>>;
    async fn get_task(
        &self,
        scope: &ScopeFilter,
        member: Option<UserId>,
        id: i64,
    ) -> StoreResult<Task>;
    async fn task_records(&self, task_id: i64) -> StoreResult<Vec<ItemRecord>>;
    /// Records a visit once: a task already done is a conflict on `status`.
    async fn record_task(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        member: Option<UserId>,
        id: i64,
        result: &TaskResult,
    ) -> StoreResult<Task>;
    async fn publish_task(&self, ctx: &AuditCtx, scope: &ScopeFilter, id: i64)
        -> StoreResult<Task>;
    async fn public_inspections(&self, uscc: &str) -> StoreResult<Vec<PublicInspection>>;

    async fn create_hazard(&self, ctx: &AuditCtx, h: &NewHazard) -> StoreResult<Hazard>;
    async fn get_hazard(
        &self,
        scope: &ScopeFilter,
        id: i64,
    ) -> StoreResult<(Hazard, Vec<HazardEvent>)>;
    /// Applies a step if the hazard is still in `step.from` (else a conflict on
    /// `state`), with its event and audit row.
    async fn hazard_step(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        id: i64,
        step: &HazardStep,
    ) -> StoreResult<Hazard>;
    async fn list_hazards(&self, scope: &ScopeFilter, q: &HazardQuery)
        -> StoreResult<Page<Hazard>>;
    /// Found and closed per office and day within [from, to].
    async fn hazard_days(
        &self,
        scope: &ScopeFilter,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<HazardDay>>;
}

/// An uploaded file's description (the bytes travel separately).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredFile {
    pub id: i64,
    pub sha256: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub unit_id: UnitId,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewFile {
    pub sha256: String,
    pub name: String,
    pub content_type: String,
    pub data: Vec<u8>,
    pub unit_id: UnitId,
}

#[async_trait::async_trait]
pub trait FileStore {
    async fn put_file(&self, ctx: &AuditCtx, f: &NewFile) -> StoreResult<StoredFile>;
    /// Scoped by the file's unit, or its uploader.
    async fn get_file(&self, scope: &ScopeFilter, id: i64) -> StoreResult<(StoredFile, Vec<u8>)>;
    /// Descriptions only, for checking references.
    async fn file_info(&self, scope: &ScopeFilter, ids: &[i64]) -> StoreResult<Vec<StoredFile>>;
}
