//! The PostgreSQL store, for city and province deployments (and Citus or the
//! PostgreSQL-compatible databases procurement requires).
#![forbid(unsafe_code)]

use hongdun_store::{Store, StoreError, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;
use std::time::Duration;

pub(crate) type Db = sqlx::Postgres;
pub(crate) type Backend = PgStore;

#[path = "../../store-sql-common/mod.rs"]
mod common;

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

/// A write transaction. PostgreSQL needs no process lock: row locks (the audit
/// head among them) order concurrent writers.
pub(crate) struct WriteTx {
    tx: sqlx::Transaction<'static, Db>,
}

impl WriteTx {
    pub(crate) async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await.map_err(map_err)
    }
}

/// A draw's save: on PostgreSQL an ordinary write transaction.
pub(crate) type BulkTx = WriteTx;

impl std::ops::Deref for WriteTx {
    type Target = sqlx::PgConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}
impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl PgStore {
    /// PostgreSQL reads go through the pool (the hook exists for SQLite's on-thread reads).
    pub(crate) fn fast_entity_with_licences(
        &self,
        _uscc: &str,
    ) -> Option<StoreResult<(hongdun_store::Entity, Vec<hongdun_store::Licence>)>> {
        None
    }

    pub(crate) fn fast_search_entities(
        &self,
        _scope: &hongdun_store::ScopeFilter,
        _q: &hongdun_store::EntityQuery,
    ) -> Option<StoreResult<hongdun_store::Page<hongdun_store::Entity>>> {
        None
    }

    pub(crate) fn fast_seal_use(
        &self,
        _batch_id: i64,
        _serial: i32,
    ) -> Option<StoreResult<Option<hongdun_store::SealUse>>> {
        None
    }

    pub(crate) fn fast_licences_of_many(
        &self,
        _ids: &[i64],
    ) -> Option<StoreResult<Vec<hongdun_store::Licence>>> {
        None
    }

    pub(crate) async fn fast_draw_candidates(
        &self,
        _scope: &hongdun_store::ScopeFilter,
        _q: &hongdun_store::CandidateQuery,
    ) -> Option<StoreResult<hongdun_store::DrawCandidates>> {
        None
    }

    pub async fn connect(url: &str) -> StoreResult<Self> {
        let opts = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Other(format!("bad PostgreSQL URL: {e}")))?
            .application_name("hongdun");
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await
            .map_err(map_err)?;
        Ok(Self { pool })
    }

    pub(crate) async fn begin_write(&self) -> StoreResult<WriteTx> {
        Ok(WriteTx {
            tx: self.pool.begin().await.map_err(map_err)?,
        })
    }

    pub(crate) async fn begin_bulk_write(&self) -> StoreResult<BulkTx> {
        self.begin_write().await
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Narrows a query to entities whose search terms include every one of `terms`
/// (array containment on the GIN-indexed `search_terms`).
pub(crate) fn push_search_terms(
    qb: &mut sqlx::QueryBuilder<'_, Db>,
    terms: &[String],
    limit: Option<i64>,
) {
    match limit {
        None => {
            qb.push(" AND search_terms @> ")
                .push_bind(terms.to_vec())
                .push("::text[]");
        }
        Some(n) => {
            qb.push(" AND id IN (SELECT id FROM entity WHERE search_terms @> ")
                .push_bind(terms.to_vec())
                .push("::text[] ORDER BY id LIMIT ")
                .push_bind(n)
                .push(")");
        }
    }
}

/// PostgreSQL defers its search index with the others (`entity_search` in
/// ENTITY_INDEXES) and keeps the credit code's uniqueness through a first
/// load (its inserts check it cheaply): nothing to mark, nothing to refuse.
pub(crate) async fn begin_first_load(
    _conn: &mut sqlx::PgConnection,
    _job_id: i64,
) -> StoreResult<()> {
    Ok(())
}

pub(crate) async fn end_first_load(_conn: &mut sqlx::PgConnection) -> StoreResult<()> {
    Ok(())
}

pub(crate) async fn refuse_during_first_load(
    _conn: &mut sqlx::PgConnection,
    _job: Option<i64>,
) -> StoreResult<()> {
    Ok(())
}

/// Nothing waits: `entity_search` is rebuilt with the other indexes.
pub(crate) async fn finish_search_index(_conn: &mut sqlx::PgConnection) -> StoreResult<()> {
    Ok(())
}

/// New entities need no indexing step: `search_terms` is a generated column.
pub(crate) async fn index_new_entities(
    _conn: &mut sqlx::PgConnection,
    _ids: &[i64],
) -> StoreResult<()> {
    Ok(())
}

/// Joins licences to their entities with the licences read first (a watch
/// list narrows licences by date; starting from the entities of a whole county
/// is 20× slower). PostgreSQL plans the join order from its statistics.
pub(crate) const LICENCE_FIRST_JOIN: &str = "JOIN";
/// A draw's tasks in batches, then their team members from the tasks' team
/// column in one statement (the plan's index finds the tasks; the draw id
/// keeps it to this draw's).
pub(crate) async fn insert_draw_tasks(
    conn: &mut sqlx::PgConnection,
    plan_id: i64,
    draw_id: i64,
    at: chrono::DateTime<chrono::Utc>,
    tasks: &[hongdun_store::NewTask],
) -> StoreResult<()> {
    use common::inspection::{insert_task_batch, tasks_in_entity_order, TASK_BATCH};
    for batch in tasks_in_entity_order(tasks).chunks(TASK_BATCH) {
        insert_task_batch(&mut *conn, tasks, batch, (plan_id, draw_id, at)).await?;
    }
    sqlx::query(&format!(
        "{}SELECT t.id, u::bigint FROM inspection_task t, unnest(string_to_array(t.team, ' ')) u \
         WHERE t.plan_id = $1 AND t.draw_id = $2 AND t.team <> ''",
        common::inspection::TASK_MEMBER_INSERT
    ))
    .bind(plan_id)
    .bind(draw_id)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

/// The secondary entity indexes a bulk load defers: those of migrations 0002,
/// 0003 and 0005 but entity_stats, which migration 0011 drops.
pub(crate) const ENTITY_INDEXES: &[(&str, &str)] = &[
    (
        "entity_unit_name",
        "CREATE INDEX IF NOT EXISTS entity_unit_name ON entity (unit_id, name)",
    ),
    (
        "entity_township",
        "CREATE INDEX IF NOT EXISTS entity_township ON entity (township_code)",
    ),
    (
        "entity_established",
        "CREATE INDEX IF NOT EXISTS entity_established ON entity (established, unit_id)",
    ),
    (
        "entity_draw",
        "CREATE INDEX IF NOT EXISTS entity_draw ON entity (status, unit_id) INCLUDE (kind, industry, township_code, county_code, risk_class, grid, uscc, reg_no)",
    ),
    (
        "entity_search",
        "CREATE INDEX IF NOT EXISTS entity_search ON entity USING GIN (search_terms)",
    ),
];

/// Settings for building the secondary indexes after a bulk load (this
/// transaction only), and nothing to put back.
pub(crate) const INDEX_BUILD_SETTINGS: (&str, &str) =
    ("SET LOCAL maintenance_work_mem = '256MB'", "");

/// Runs a multi-row INSERT of `rows` rows and gives the ids they took, in order.
pub(crate) async fn inserted_ids(
    conn: &mut sqlx::PgConnection,
    mut qb: sqlx::QueryBuilder<'_, Db>,
    rows: usize,
) -> StoreResult<Vec<i64>> {
    use sqlx::Row as _;
    qb.push(" RETURNING id");
    let ids = qb
        .build()
        .fetch_all(conn)
        .await
        .map_err(map_err)?
        .iter()
        .map(|r| r.try_get::<i64, _>("id"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(map_err)?;
    if ids.len() != rows {
        return Err(StoreError::Other("insert: rows not all written".into()));
    }
    Ok(ids)
}

impl PgStore {
    /// PostgreSQL builds the deferred indexes in `ensure_entity_indexes`' one
    /// transaction.
    pub(crate) async fn build_entity_indexes_bulk(&self) -> StoreResult<bool> {
        Ok(false)
    }

    /// PostgreSQL saves a draw through the shared SQL.
    pub(crate) async fn save_draw_bulk(
        &self,
        _ctx: &hongdun_store::AuditCtx,
        d: hongdun_store::NewDraw,
        list: hongdun_store::PackedList,
        tasks: Vec<hongdun_store::NewTask>,
    ) -> StoreResult<Result<hongdun_store::Draw, common::inspection::DrawParts>> {
        Ok(Err((d, list, tasks)))
    }

    /// PostgreSQL writes every import batch through the general upsert.
    pub(crate) async fn commit_new_entities(
        &self,
        _ctx: &hongdun_store::AuditCtx,
        _job_id: i64,
        batch: hongdun_store::ImportBatch,
    ) -> StoreResult<Result<hongdun_store::UpsertCounts, hongdun_store::ImportBatch>> {
        Ok(Err(batch))
    }
}

/// Serialises the emptiness check and the index drops with other writers.
pub(crate) async fn lock_entities_for_bulk(conn: &mut sqlx::PgConnection) -> StoreResult<()> {
    sqlx::query("LOCK TABLE entity IN SHARE ROW EXCLUSIVE MODE")
        .execute(conn)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub(crate) fn map_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) => match db.kind() {
            sqlx::error::ErrorKind::UniqueViolation => {
                // detail: "Key (username)=(x) already exists."
                let detail = db
                    .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .and_then(|e| e.detail())
                    .unwrap_or("");
                let cols = detail
                    .strip_prefix("Key (")
                    .and_then(|s| s.split_once(')'))
                    .map(|(c, _)| c)
                    .unwrap_or("");
                let field = cols.rsplit([',', ' ']).next().unwrap_or("").to_owned();
                StoreError::Conflict { field }
            }
            sqlx::error::ErrorKind::ForeignKeyViolation => StoreError::MissingReference,
            _ => StoreError::Other(db.to_string()),
        },
        other => StoreError::Other(other.to_string()),
    }
}

#[async_trait::async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations")
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Other(format!("migration failed: {e}")))
    }

    async fn backup_to(&self, _path: &str) -> StoreResult<()> {
        Err(StoreError::Other(
            "PostgreSQL is backed up with pg_dump".into(),
        ))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
