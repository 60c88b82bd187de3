//! The embedded default store: SQLite in WAL mode, one file per bureau.
//!
//! Writes are serialised twice over: an in-process async mutex (fair, no busy
//! polling) and `BEGIN IMMEDIATE` (safe against another process, such as a
//! `hongdun` command run beside the server). Reads use the pool freely.
#![forbid(unsafe_code)]

use hongdun_store::{ScopeFilter, Store, StoreError, StoreResult};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

pub(crate) type Db = sqlx::Sqlite;
pub(crate) type Backend = SqliteStore;

mod bulk;
#[path = "../../store-sql-common/mod.rs"]
mod common;
mod fast;

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    write_lock: Arc<Mutex<()>>,
    /// On-thread reads for the public lookups (none for an in-memory database).
    fast: Option<Arc<fast::FastReads>>,
    /// The import's writer of new businesses (none for an in-memory database).
    bulk: Option<Arc<bulk::BulkWriter>>,
}

/// A write transaction holding the process-wide write lock until it ends.
pub(crate) struct WriteTx {
    tx: sqlx::Transaction<'static, Db>,
    _lock: OwnedMutexGuard<()>,
}

impl WriteTx {
    pub(crate) async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await.map_err(map_err)
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::SqliteConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}
impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// The write transaction of a draw's save: a connection taken out of the pool
/// for it, on which SQLite neither re-checks each task's references (below)
/// nor checkpoints the WAL inside the commit. The checkpoint (tens of
/// megabytes copied back into the database and synced for a province) runs
/// after the commit, on this connection, which is then closed; it is never
/// returned to the pool with its settings changed. Dropped uncommitted, the
/// connection closes and SQLite rolls the transaction back.
///
/// Foreign keys are off here because every row a draw's tasks refer to exists
/// and is never deleted: the plan (locked by this transaction), the draw
/// (written by it), and the businesses, offices and inspectors read for the
/// draw (the store has no delete for any of them). Checking each task's
/// business cost a second at 150,000 tasks: one page of a multi-gigabyte
/// table each. PostgreSQL keeps its checks.
pub(crate) struct BulkTx {
    conn: Option<sqlx::SqliteConnection>,
    _lock: OwnedMutexGuard<()>,
}

impl BulkTx {
    pub(crate) async fn commit(mut self) -> StoreResult<()> {
        let Some(mut conn) = self.conn.take() else {
            return Ok(());
        };
        use sqlx::Connection as _;
        sqlx::query("COMMIT")
            .execute(&mut conn)
            .await
            .map_err(map_err)?;
        tokio::spawn(async move {
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&mut conn)
                .await
            {
                tracing::warn!(error = %e, "checkpoint after a draw");
            }
            let _ = conn.close().await;
        });
        Ok(())
    }
}

impl std::ops::Deref for BulkTx {
    type Target = sqlx::SqliteConnection;
    fn deref(&self) -> &Self::Target {
        self.conn.as_ref().expect("open until committed")
    }
}
impl std::ops::DerefMut for BulkTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.conn.as_mut().expect("open until committed")
    }
}

impl SqliteStore {
    /// See [`BulkTx`].
    pub(crate) async fn begin_bulk_write(&self) -> StoreResult<BulkTx> {
        let lock = self.write_lock.clone().lock_owned().await;
        let mut conn = self.pool.acquire().await.map_err(map_err)?.detach();
        sqlx::query(
            "PRAGMA foreign_keys = OFF; PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -16384",
        )
        .execute(&mut conn)
        .await
        .map_err(map_err)?;
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut conn)
            .await
            .map_err(map_err)?;
        Ok(BulkTx {
            conn: Some(conn),
            _lock: lock,
        })
    }

    /// Opens (creating if missing) `sqlite://PATH` with WAL, foreign keys and a
    /// busy timeout.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Other(format!("bad SQLite URL: {e}")))?
            .create_if_missing(true)
            // Set before the first table: a new file gets 8 KiB pages (see
            // PAGE_SIZE); an existing one keeps the size it was made with.
            .page_size(PAGE_SIZE)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // A 64 MiB page cache per connection and 256 MiB of memory-mapped reads keep
            // index maintenance of large imports off the disk.
            .pragma("cache_size", format!("-{CACHE_KIB}"))
            // Temporary b-trees (index builds after a bulk load) stay on disk:
            // sorting ten million keys in memory would break the memory bound.
            .pragma("mmap_size", "268435456")
            // Checkpoint the WAL every 64 MiB instead of 4: an import's batches
            // and a draw's tasks each write more than 4 MiB, and every
            // checkpoint copies pages back and syncs the file.
            .pragma("wal_autocheckpoint", "16384")
            // A first load's WAL grows to gigabytes (the checkpoint thread
            // copies it back beside the writer): the file is cut back to
            // 256 MiB (room for a province's draw) when the WAL next starts
            // over, not kept at its largest.
            .pragma("journal_size_limit", JOURNAL_SIZE_LIMIT.to_string());
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let fast = (!in_memory)
            .then(|| Arc::new(fast::FastReads::new(opts.get_filename().to_path_buf(), 8)));
        let bulk = (!in_memory)
            .then(|| Arc::new(bulk::BulkWriter::new(opts.get_filename().to_path_buf())));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(opts)
            .await
            .map_err(map_err)?;
        Ok(Self {
            pool,
            write_lock: Arc::new(Mutex::new(())),
            fast,
            bulk,
        })
    }

    pub(crate) async fn begin_write(&self) -> StoreResult<WriteTx> {
        let lock = self.write_lock.clone().lock_owned().await;
        let tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
        Ok(WriteTx { tx, _lock: lock })
    }

    /// Runs `f` with the bulk writer on a blocking thread, under the write lock.
    async fn on_bulk_writer<T: Send + 'static>(
        &self,
        bulk: Arc<bulk::BulkWriter>,
        what: &'static str,
        f: impl FnOnce(&bulk::BulkWriter) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let lock = self.write_lock.clone().lock_owned().await;
        tokio::task::spawn_blocking(move || {
            let _lock = lock;
            f(&bulk)
        })
        .await
        .map_err(|e| StoreError::Other(format!("{what}: {e}")))?
    }

    /// An import batch whose businesses are all new, written through the bulk
    /// writer (see `bulk`); the batch back, unwritten, when one of them is
    /// already registered or the database is in memory.
    pub(crate) async fn commit_new_entities(
        &self,
        ctx: &hongdun_store::AuditCtx,
        job_id: i64,
        batch: hongdun_store::ImportBatch,
    ) -> StoreResult<Result<hongdun_store::UpsertCounts, hongdun_store::ImportBatch>> {
        let Some(bulk) = self.bulk.clone().filter(|_| !batch.rows.is_empty()) else {
            return Ok(Err(batch));
        };
        let ctx = ctx.clone();
        self.on_bulk_writer(bulk, "import writer", move |b| {
            Ok(match b.commit_new(&ctx, job_id, &batch)? {
                Some(counts) => Ok(counts),
                None => Err(batch),
            })
        })
        .await
    }

    /// A draw saved through the bulk writer (see `bulk::BulkWriter::save_draw`);
    /// the parts back, unwritten, when the database is in memory.
    pub(crate) async fn save_draw_bulk(
        &self,
        ctx: &hongdun_store::AuditCtx,
        d: hongdun_store::NewDraw,
        list: hongdun_store::PackedList,
        tasks: Vec<hongdun_store::NewTask>,
    ) -> StoreResult<Result<hongdun_store::Draw, common::inspection::DrawParts>> {
        let Some(bulk) = self.bulk.clone() else {
            return Ok(Err((d, list, tasks)));
        };
        let ctx = ctx.clone();
        self.on_bulk_writer(bulk, "draw writer", move |b| {
            b.save_draw(&ctx, d, &list, &tasks).map(Ok)
        })
        .await
    }

    /// The deferred indexes built through the bulk writer
    /// (`BulkWriter::build_entity_indexes`); `false` (nothing done) for a
    /// database in memory.
    pub(crate) async fn build_entity_indexes_bulk(&self) -> StoreResult<bool> {
        let Some(bulk) = self.bulk.clone() else {
            return Ok(false);
        };
        self.on_bulk_writer(bulk, "index builder", |b| {
            b.build_entity_indexes().map(|()| true)
        })
        .await
    }

    /// The public lookup by credit code on the calling thread, when the
    /// database is a file (see `fast`).
    pub(crate) fn fast_entity_with_licences(
        &self,
        uscc: &str,
    ) -> Option<StoreResult<(hongdun_store::Entity, Vec<hongdun_store::Licence>)>> {
        self.fast.as_ref().map(|f| f.entity_with_licences(uscc))
    }

    /// A public-shaped search (whole register, by name or code prefix, first
    /// matches by id, uncounted) on the calling thread; other searches `None`.
    pub(crate) fn fast_search_entities(
        &self,
        scope: &ScopeFilter,
        q: &hongdun_store::EntityQuery,
    ) -> Option<StoreResult<hongdun_store::Page<hongdun_store::Entity>>> {
        let fast = self.fast.as_ref()?;
        fast::is_public_shape(scope, q).then(|| fast.search(q))
    }

    pub(crate) fn fast_seal_use(
        &self,
        batch_id: i64,
        serial: i32,
    ) -> Option<StoreResult<Option<hongdun_store::SealUse>>> {
        self.fast.as_ref().map(|f| f.seal_use(batch_id, serial))
    }

    pub(crate) fn fast_licences_of_many(
        &self,
        ids: &[i64],
    ) -> Option<StoreResult<Vec<hongdun_store::Licence>>> {
        self.fast.as_ref().map(|f| f.licences_of_many(ids))
    }

    /// A draw's candidate list on blocking threads from the read-only pool: two
    /// readers, each on its own connection and core, each walking its own half
    /// of the `entity_draw` index (split at the median office, kind and industry
    /// of a sample of rows), so neither steps over the other's rows. Writers
    /// are held off meanwhile (the write lock is taken and nothing written), so
    /// both readers see the same register: a business moved across the split
    /// point between their reads would otherwise be read twice or not at all.
    pub(crate) async fn fast_draw_candidates(
        &self,
        scope: &ScopeFilter,
        q: &hongdun_store::CandidateQuery,
    ) -> Option<StoreResult<hongdun_store::DrawCandidates>> {
        use common::UnitSlice;
        let started = std::time::Instant::now();
        let fast = self.fast.clone()?;
        let hold = match self.begin_write().await {
            Ok(h) => h,
            Err(e) => return Some(Err(e)),
        };
        let limited: Option<std::collections::HashSet<i64>> = match scope {
            ScopeFilter::Limited { units, .. } => Some(units.iter().map(|u| u.0).collect()),
            _ => None,
        };
        let split = {
            let fast = fast.clone();
            let limited = limited.clone();
            tokio::task::spawn_blocking(move || {
                fast.split_point(&|u| limited.as_ref().is_none_or(|l| l.contains(&u)))
            })
            .await
        };
        let (expected, split) = match split {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Some(Err(e)),
            Err(e) => return Some(Err(StoreError::Other(format!("candidate split: {e}")))),
        };
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            expected,
            ?split,
            "candidate split"
        );
        let split_used = split.is_some();
        let mut parts: Vec<Vec<Option<UnitSlice>>> = match split {
            Some(p) => vec![
                vec![
                    Some(UnitSlice::Unplaced),
                    Some(UnitSlice::Below(p.clone())),
                    p.industry
                        .is_some()
                        .then(|| UnitSlice::NoIndustryAt(p.clone())),
                ],
                vec![Some(UnitSlice::From(p))],
            ],
            None => vec![vec![None]],
        };
        if let Some(first) = parts.first_mut().filter(|_| split_used) {
            // A part that is None here is one that does not apply.
            first.retain(|s| match s {
                None => false,
                // A limited scope lists its offices: nobody unplaced is in it.
                Some(UnitSlice::Unplaced) => limited.is_none(),
                Some(_) => true,
            });
        }
        let readers: Vec<_> = parts
            .into_iter()
            .map(|slices| {
                let sqls: Vec<_> = slices
                    .into_iter()
                    .map(|slice| common::candidate_sql(scope, q, slice.as_ref()))
                    .collect();
                let fast = fast.clone();
                tokio::task::spawn_blocking(move || {
                    let t = std::time::Instant::now();
                    let out = fast.draw_candidates(sqls, expected);
                    tracing::debug!(
                        rows = out.as_ref().map_or(0, |c| c.len()),
                        ms = t.elapsed().as_millis() as u64,
                        "candidate reader"
                    );
                    out
                })
            })
            .collect();
        let mut all: Option<hongdun_store::DrawCandidates> = None;
        for r in readers {
            match r.await {
                Ok(Ok(rows)) => match all.as_mut() {
                    None => all = Some(rows),
                    Some(a) => a.append(rows),
                },
                Ok(Err(e)) => return Some(Err(e)),
                Err(e) => return Some(Err(StoreError::Other(format!("candidate reader: {e}")))),
            }
        }
        // Nothing was written: letting go rolls the empty transaction back.
        drop(hold);
        tracing::debug!(ms = started.elapsed().as_millis() as u64, "candidates read");
        Some(Ok(all.unwrap_or_default()))
    }

    /// The pool, for the conformance suite's direct-tampering tests.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// An FTS5 query requiring every term, each quoted so user text is never FTS syntax.
pub(crate) fn fts_match_expr(terms: &[String]) -> String {
    terms
        .iter()
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Narrows a query to entities whose search terms include every one of `terms`
/// (the FTS5 index; each term quoted so user text is never FTS syntax).
pub(crate) fn push_search_terms(
    qb: &mut sqlx::QueryBuilder<'_, Db>,
    terms: &[String],
    limit: Option<i64>,
) {
    let expr = fts_match_expr(terms);
    qb.push(" AND id IN (SELECT rowid FROM entity_fts WHERE entity_fts MATCH ")
        .push_bind(expr);
    if let Some(n) = limit {
        qb.push(" ORDER BY rowid LIMIT ").push_bind(n);
    }
    qb.push(")");
}

/// Indexes the entities with ids from $1 to $2 (one batch's new rows).
pub(crate) const INDEX_ID_RANGE: &str =
    "INSERT INTO entity_fts (rowid, search) SELECT id, search FROM entity WHERE id BETWEEN $1 AND $2";

/// Whether the search index waits for the rebuild at the end of a first bulk
/// load (`store_state`, migration 0013); new rows are then not indexed one
/// batch at a time.
pub(crate) const SEARCH_REBUILD_PENDING: &str =
    "SELECT EXISTS (SELECT 1 FROM store_state WHERE key = 'search_index' AND value = 'rebuild')";

/// Marks a first bulk load by import job `job_id`, in the transaction that
/// drops the deferred indexes (cleared in the ones that build them):
/// - `search_index` = `rebuild`: its rows are indexed for search in one
///   `rebuild` after the last batch instead of batch by batch (for a million
///   businesses 1.7 s instead of 2.5 s of the writer's time: the segments each
///   batch leaves are merged again and again);
/// - `first_load` = the job (`FIRST_LOAD_OWNER`).
pub(crate) async fn begin_first_load(
    conn: &mut sqlx::SqliteConnection,
    job_id: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO store_state (key, value) VALUES ('search_index', 'rebuild'), ('first_load', $1) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(job_id.to_string())
    .execute(conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

async fn search_rebuild_pending(conn: &mut sqlx::SqliteConnection) -> StoreResult<bool> {
    sqlx::query_scalar(SEARCH_REBUILD_PENDING)
        .fetch_one(conn)
        .await
        .map_err(map_err)
}

/// The rebuild a deferred search index waits for (nothing when none waits).
pub(crate) async fn finish_search_index(conn: &mut sqlx::SqliteConnection) -> StoreResult<()> {
    if search_rebuild_pending(&mut *conn).await? {
        sqlx::query(SEARCH_REBUILD)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    Ok(())
}

/// Marks the deferred search index built (`SEARCH_REBUILD_PENDING` false).
macro_rules! search_built {
    () => {
        "DELETE FROM store_state WHERE key = 'search_index'"
    };
}
pub(crate) const SEARCH_BUILT: &str = search_built!();

/// Builds the deferred search index and marks it built.
pub(crate) const SEARCH_REBUILD: &str = concat!(
    "INSERT INTO entity_fts (entity_fts) VALUES ('rebuild'); ",
    search_built!()
);

/// Adds newly inserted entities to the FTS5 index in one set-based statement
/// (ids of one batch are contiguous: the batch holds the write lock), unless
/// a first bulk load defers the index to its end.
pub(crate) async fn index_new_entities(
    conn: &mut sqlx::SqliteConnection,
    ids: &[i64],
) -> StoreResult<()> {
    let (Some(first), Some(last)) = (ids.iter().min(), ids.iter().max()) else {
        return Ok(());
    };
    if search_rebuild_pending(&mut *conn).await? {
        return Ok(());
    }
    sqlx::query(INDEX_ID_RANGE)
        .bind(first)
        .bind(last)
        .execute(conn)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Runs a multi-row INSERT of `rows` rows and gives the ids they took, in
/// order. Inside the write transaction the rows of one statement take
/// consecutive ids (AUTOINCREMENT, one writer), the last of them the
/// connection's last insert id, so no id is sent back row by row (a
/// `RETURNING id` row per business crossed the driver's worker channel one at
/// a time). Writing the rows as SQL literals instead of binding them was
/// tried: parsing cost what binding did.
pub(crate) async fn inserted_ids(
    conn: &mut sqlx::SqliteConnection,
    mut qb: sqlx::QueryBuilder<'_, Db>,
    rows: usize,
) -> StoreResult<Vec<i64>> {
    let done = qb.build().execute(conn).await.map_err(map_err)?;
    if done.rows_affected() != rows as u64 {
        return Err(StoreError::Other("insert: rows not all written".into()));
    }
    let last = done.last_insert_rowid();
    Ok((last - rows as i64 + 1..=last).collect())
}

/// Joins licences to their entities with the licences read first (a watch
/// list narrows licences by date; starting from the entities of a whole county
/// is 20× slower). SQLite keeps the tables of a CROSS JOIN in the order written.
pub(crate) const LICENCE_FIRST_JOIN: &str = "CROSS JOIN";
/// A draw's tasks in batches, each batch's team members straight after it by
/// the ids it was given: inside the write transaction the batch's rows take
/// consecutive ids (AUTOINCREMENT, one writer), the last of them the
/// connection's last insert id.
pub(crate) async fn insert_draw_tasks(
    conn: &mut sqlx::SqliteConnection,
    plan_id: i64,
    draw_id: i64,
    at: chrono::DateTime<chrono::Utc>,
    tasks: &[hongdun_store::NewTask],
) -> StoreResult<()> {
    use common::inspection::{insert_task_batch, tasks_in_entity_order, TASK_BATCH};
    use std::fmt::Write;
    for batch in tasks_in_entity_order(tasks).chunks(TASK_BATCH) {
        let done = insert_task_batch(&mut *conn, tasks, batch, (plan_id, draw_id, at)).await?;
        if done.rows_affected() != batch.len() as u64 {
            return Err(StoreError::Other("draw tasks: rows not all written".into()));
        }
        let first = done.last_insert_rowid() - batch.len() as i64 + 1;
        let mut sql = String::with_capacity(batch.len() * 24 + 80);
        sql.push_str(common::inspection::TASK_MEMBER_INSERT);
        sql.push_str("VALUES ");
        let mut any = false;
        for (k, &i) in batch.iter().enumerate() {
            for u in &tasks[i].team {
                if any {
                    sql.push(',');
                }
                any = true;
                let _ = write!(sql, "({}, {})", first + k as i64, u.0);
            }
        }
        if any {
            sqlx::query(&sql)
                .execute(&mut *conn)
                .await
                .map_err(map_err)?;
        }
    }
    Ok(())
}

/// The page size of a new database file. With 8 KiB pages instead of
/// SQLite's 4 KiB every b-tree has half the pages and one level less to walk
/// for most keys: 10M businesses imported in 148 s instead of 189 s (batches
/// 77 against 99 s, index builds 47 against 58 s, the search index 22 against
/// 30 s), 1M in 11.5-11.9 s instead of 13.2-13.8 s. 16 KiB: the batches no
/// faster, the sorts slower. SQLite changes the size of an existing file only
/// by VACUUM, which this store never runs by itself.
pub(crate) const PAGE_SIZE: u32 = 8192;

/// What the WAL file is cut back to when it starts over (bytes).
pub(crate) const JOURNAL_SIZE_LIMIT: i64 = 256 << 20;

/// The page cache of every connection to the file (KiB).
pub(crate) const CACHE_KIB: i64 = 65536;

/// The entity indexes a first bulk load defers: the credit code's uniqueness
/// (`entity_uscc`, see `uscc_index_of_its_own`) and the secondary indexes of
/// migrations 0002, 0003 and 0005 but entity_stats, which migration 0012
/// drops. Without `entity_uscc` during the load, its batches no longer insert
/// ten million codes in random order into a b-tree five times the page cache:
/// 10M businesses, batches 52-63 -> 41-46 s for an index built in 4 s after
/// (whole imports 110-120 -> 101-110 s).
/// The load itself keeps codes unique (the reader's set of every code in the
/// file; the register was empty) and nothing else may add or change a
/// business until the index is back (`FIRST_LOAD_OWNER`).
pub(crate) const ENTITY_INDEXES: &[(&str, &str)] = &[
    (
        "entity_uscc",
        "CREATE UNIQUE INDEX IF NOT EXISTS entity_uscc ON entity (uscc)",
    ),
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
        "CREATE INDEX IF NOT EXISTS entity_draw ON entity (status, unit_id, kind, industry, township_code, county_code, risk_class, grid, uscc, reg_no)",
    ),
];

/// Settings for building the secondary indexes after a bulk load, and what
/// puts the connection back. The sorter cuts its input into runs the size of
/// the page cache and sorts them on helper threads (the import's reader is
/// done by then, so the second core is free): with 16 MiB runs and two
/// threads the widest index (entity_draw) builds in 2.2 s instead of 3.4-4.0 s
/// for a million businesses. temp_store stays on disk: memory stays bounded.
pub(crate) const INDEX_BUILD_SETTINGS: (&str, &str) = (
    "PRAGMA threads = 2; PRAGMA cache_size = -16384",
    "PRAGMA threads = 0; PRAGMA cache_size = -65536",
);

/// The import job whose first load into an empty register left the entity
/// indexes, `entity_uscc` among them, to its end (`store_state` key
/// `first_load`, set in the transaction that drops them and cleared in the one
/// that finishes the search index after them). While one is set only that job's batches may write
/// businesses: anything else would meet no uniqueness check.
pub(crate) const FIRST_LOAD_OWNER: &str =
    "SELECT CAST(value AS INTEGER) FROM store_state WHERE key = 'first_load'";

/// Clears `FIRST_LOAD_OWNER`; run in the transaction that finishes the search
/// index, after the b-tree indexes are built (`bulk::BulkWriter::build_entity_indexes`),
/// so the search index built aside reads a register no one else changes.
pub(crate) const END_FIRST_LOAD: &str = "DELETE FROM store_state WHERE key = 'first_load'";

pub(crate) async fn end_first_load(conn: &mut sqlx::SqliteConnection) -> StoreResult<()> {
    sqlx::query(END_FIRST_LOAD)
        .execute(conn)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Refuses a write of businesses by anyone but the import job `job` while a
/// first load is under way (see `FIRST_LOAD_OWNER`).
pub(crate) async fn refuse_during_first_load(
    conn: &mut sqlx::SqliteConnection,
    job: Option<i64>,
) -> StoreResult<()> {
    let owner: Option<i64> = sqlx::query_scalar(FIRST_LOAD_OWNER)
        .fetch_optional(conn)
        .await
        .map_err(map_err)?;
    match owner {
        Some(owner) if Some(owner) != job => Err(StoreError::RegisterLoading),
        _ => Ok(()),
    }
}

/// SQLite: the write transaction already excludes every other writer.
pub(crate) async fn lock_entities_for_bulk(_conn: &mut sqlx::SqliteConnection) -> StoreResult<()> {
    Ok(())
}

/// Driver errors → `StoreError`; unique violations name their column.
pub(crate) fn map_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) => match db.kind() {
            sqlx::error::ErrorKind::UniqueViolation => {
                // "UNIQUE constraint failed: app_user.username"
                let msg = db.message();
                let field = msg.rsplit(['.', ' ']).next().unwrap_or("").to_owned();
                StoreError::Conflict { field }
            }
            sqlx::error::ErrorKind::ForeignKeyViolation => StoreError::MissingReference,
            _ => StoreError::Other(db.to_string()),
        },
        other => StoreError::Other(other.to_string()),
    }
}

impl SqliteStore {
    /// Moves the credit code's uniqueness from the entity table's column to
    /// the index `entity_uscc` (`entity_uscc.sql`), once, for a file made
    /// before it. Not a migration file: rebuilding a table that others
    /// reference takes foreign keys off, which SQLite ignores inside the
    /// transaction sqlx runs a migration in. For an empty register (every new
    /// file) this is instant; a register of millions is copied once.
    async fn uscc_index_of_its_own(&self) -> StoreResult<()> {
        let inline: bool = sqlx::query_scalar(USCC_INLINE)
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        if !inline {
            return Ok(());
        }
        let _lock = self.write_lock.clone().lock_owned().await;
        // A connection of its own, closed after: foreign keys stay on in the pool.
        let mut conn = self.pool.acquire().await.map_err(map_err)?.detach();
        let started = std::time::Instant::now();
        sqlx::query("PRAGMA foreign_keys = OFF")
            .execute(&mut conn)
            .await
            .map_err(map_err)?;
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut conn)
            .await
            .map_err(map_err)?;
        let rebuilt = rebuild_entity(&mut conn).await;
        let end = if rebuilt.is_ok() {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        let ended = sqlx::query(end).execute(&mut conn).await.map_err(map_err);
        let rows = rebuilt?;
        ended?;
        if rows > 0 {
            tracing::info!(
                rows,
                ms = started.elapsed().as_millis() as u64,
                "entity table rebuilt: the credit code's uniqueness is the index entity_uscc"
            );
        }
        Ok(())
    }
}

/// Whether the entity table still keeps its codes unique itself.
const USCC_INLINE: &str =
    "SELECT EXISTS (SELECT 1 FROM pragma_index_list('entity') WHERE origin = 'u')";

/// `entity_uscc.sql` and the secondary indexes the table had, inside the
/// caller's transaction; the number of businesses copied.
async fn rebuild_entity(conn: &mut sqlx::SqliteConnection) -> StoreResult<i64> {
    // Another process may have done it meanwhile.
    if !sqlx::query_scalar::<_, bool>(USCC_INLINE)
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?
    {
        return Ok(0);
    }
    let mut had = Vec::new();
    for (name, create) in &ENTITY_INDEXES[1..] {
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = $1)",
        )
        .bind(*name)
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?;
        if exists {
            had.push(*create);
        }
    }
    sqlx::query(include_str!("entity_uscc.sql"))
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    for create in had {
        sqlx::query(create)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    let broken: Option<String> =
        sqlx::query_scalar("SELECT \"table\" FROM pragma_foreign_key_check LIMIT 1")
            .fetch_optional(&mut *conn)
            .await
            .map_err(map_err)?;
    if let Some(table) = broken {
        return Err(StoreError::Other(format!(
            "entity rebuild: a row of {table} refers to a missing record"
        )));
    }
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM entity")
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations")
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Other(format!("migration failed: {e}")))?;
        self.uscc_index_of_its_own().await
    }

    async fn backup_to(&self, path: &str) -> StoreResult<()> {
        // VACUUM INTO writes a consistent, compacted copy while others keep reading.
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use hongdun_core::registry::{EntityKind, EntityStatus};
    use hongdun_store::{
        AuditCtx, EntityStore, ImportBatch, ImportStore, NewEntity, Store, UpsertCounts,
    };

    /// A file under the temp directory, with no database in it yet.
    pub(crate) fn fresh(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("hongdun-sqlite-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join(name);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", f.display()));
        }
        f
    }

    fn business(uscc: Option<&str>, reg_no: Option<&str>, name: &str) -> NewEntity {
        NewEntity {
            uscc: uscc.map(str::to_owned),
            reg_no: reg_no.map(str::to_owned),
            name: name.to_owned(),
            kind: EntityKind::Individual,
            legal_rep: None,
            id_number: None,
            phone: None,
            address: None,
            county_code: None,
            township_code: None,
            unit_id: None,
            grid: None,
            industry: None,
            status: EntityStatus::Active,
            established: None,
            capital: None,
            employees: None,
            business_scope: None,
            tags: Vec::new(),
            warning: None,
            search: hongdun_core::registry::entity_search_text(name),
        }
    }

    fn rows(conn: &rusqlite::Connection, sql: &str) -> Vec<String> {
        let mut stmt = conn.prepare(sql).unwrap();
        let out = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        out
    }

    /// A file made before `entity_uscc` (the codes unique on their columns)
    /// is rebuilt once by `migrate`, keeping every row, id, reference, the
    /// AUTOINCREMENT mark and the search index.
    #[tokio::test]
    async fn old_files_move_the_code_uniqueness_to_entity_uscc() {
        let file = fresh("old-uscc.db");
        let url = format!("sqlite://{}", file.display());
        {
            let pool = SqlitePoolOptions::new()
                .connect_with(
                    SqliteConnectOptions::from_str(&url)
                        .unwrap()
                        .create_if_missing(true)
                        .foreign_keys(true),
                )
                .await
                .unwrap();
            sqlx::migrate!("./migrations").run(&pool).await.unwrap();
            sqlx::query(
                "INSERT INTO entity (id, uscc, reg_no, name, kind, status, search, created_at, updated_at) VALUES \
                 (1, '91330100MA00000001', NULL, '阿强面馆', 'individual', 'active', '面馆 阿强 强面', 't', 't'), \
                 (2, NULL, '330100000000001', '老王超市', 'individual', 'active', '老王 王超 超市', 't', 't'), \
                 (3, '91330100MA00000003', NULL, '华为专卖', 'enterprise', 'active', '华为 为专 专卖', 't', 't'); \
                 INSERT INTO entity_fts (entity_fts) VALUES ('rebuild'); \
                 INSERT INTO licence (entity_id, kind, number, created_at, updated_at) \
                 VALUES (2, 'food_business', 'JY13301000000001', 't', 't'); \
                 DELETE FROM entity WHERE id = 3",
            )
            .execute(&pool)
            .await
            .unwrap();
            pool.close().await;
        }
        let before = rows(
            &rusqlite::Connection::open(&file).unwrap(),
            "SELECT id || '|' || coalesce(uscc, '') || '|' || coalesce(reg_no, '') || '|' || name FROM entity ORDER BY id",
        );
        for _ in 0..2 {
            let store = SqliteStore::connect(&url).await.unwrap();
            store.migrate().await.unwrap();
            store.close().await;
        }
        let c = rusqlite::Connection::open(&file).unwrap();
        assert_eq!(
            rows(&c, "SELECT id || '|' || coalesce(uscc, '') || '|' || coalesce(reg_no, '') || '|' || name FROM entity ORDER BY id"),
            before
        );
        assert_eq!(
            rows(&c, "SELECT name || ':' || \"unique\" || origin || partial FROM pragma_index_list('entity') ORDER BY name"),
            [
                "entity_draw:0c0",
                "entity_established:0c0",
                "entity_reg_no:1c1",
                "entity_township:0c0",
                "entity_unit_name:0c0",
                "entity_uscc:1c0",
            ]
        );
        assert_eq!(
            rows(
                &c,
                "SELECT CAST(seq AS TEXT) FROM sqlite_sequence WHERE name = 'entity'"
            ),
            ["3"]
        );
        assert!(rows(&c, "SELECT \"table\" FROM pragma_foreign_key_check").is_empty());
        assert_eq!(
            rows(&c, "SELECT CAST(entity_id AS TEXT) FROM licence"),
            ["2"]
        );
        assert_eq!(
            rows(
                &c,
                "SELECT CAST(rowid AS TEXT) FROM entity_fts WHERE entity_fts MATCH '超市'"
            ),
            ["2"]
        );
        c.execute_batch("INSERT INTO entity_fts (entity_fts, rank) VALUES ('integrity-check', 1)")
            .unwrap();
        // The codes are still unique; businesses without a number are many.
        let store = SqliteStore::connect(&url).await.unwrap();
        let ctx = AuditCtx::system("test");
        for dup in [
            business(Some("91330100MA00000001"), None, "重复"),
            business(None, Some("330100000000001"), "重复"),
        ] {
            let err = sqlx::query(
                "INSERT INTO entity (uscc, reg_no, name, kind, status, created_at, updated_at) \
                 VALUES ($1, $2, 'x', 'individual', 'active', 't', 't')",
            )
            .bind(&dup.uscc)
            .bind(&dup.reg_no)
            .execute(&store.pool)
            .await
            .map_err(map_err)
            .unwrap_err();
            assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
        }
        let counts = store
            .upsert_entities(
                &ctx,
                &[
                    business(Some("91330100MA00000004"), None, "甲"),
                    business(Some("91330100MA00000005"), None, "乙"),
                ],
            )
            .await
            .unwrap();
        assert_eq!(counts.inserted, 2);
        store.close().await;
    }

    /// A first load into an empty register defers `entity_uscc`: until the
    /// indexes are back only its own job writes businesses, a lookup by code
    /// is refused rather than read off the whole table, and after them the
    /// codes are unique again.
    #[tokio::test]
    async fn a_first_load_is_the_only_writer_until_its_indexes_are_built() {
        let file = fresh("first-load.db");
        let store = SqliteStore::connect(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let ctx = AuditCtx::system("test");
        let job = store
            .create_import_job(&ctx, "entities", "a.csv", "aa", "lenient")
            .await
            .unwrap();
        let other = store
            .create_import_job(&ctx, "entities", "b.csv", "bb", "lenient")
            .await
            .unwrap();
        assert!(store.begin_bulk_load(job.id).await.unwrap());
        let batch =
            |uscc: &str, row: i64| all_new(vec![business(Some(uscc), None, "阿强面馆")], row);
        let inserted = |c: UpsertCounts| c.inserted;
        assert_eq!(
            store
                .commit_import_batch(&ctx, job.id, batch("91330100MA00000001", 1))
                .await
                .map(inserted)
                .unwrap(),
            1
        );
        // The register is no longer empty: a second import is no first load.
        assert!(!store.begin_bulk_load(other.id).await.unwrap());
        for refused in [
            store
                .commit_import_batch(&ctx, other.id, batch("91330100MA00000001", 1))
                .await
                .map(inserted),
            store
                .upsert_entities(&ctx, &[business(Some("91330100MA00000001"), None, "x")])
                .await
                .map(inserted),
            store
                .entity_with_licences("91330100MA00000001")
                .await
                .map(|(e, _)| e.id as u64),
        ] {
            assert!(
                matches!(refused, Err(StoreError::RegisterLoading)),
                "{refused:?}"
            );
        }
        store.ensure_entity_indexes().await.unwrap();
        let (e, _) = store
            .entity_with_licences("91330100MA00000001")
            .await
            .unwrap();
        assert_eq!(e.name, "阿强面馆");
        // Back to normal: the same code again is an update, not a second row.
        let again = store
            .upsert_entities(
                &ctx,
                &[business(Some("91330100MA00000001"), None, "阿强面馆二店")],
            )
            .await
            .unwrap();
        assert_eq!((again.inserted, again.updated), (0, 1));
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM entity")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(n, 1);
        store.close().await;
    }

    /// A batch of good rows, the last of them at `checkpoint_row`.
    fn all_new(rows: Vec<NewEntity>, checkpoint_row: i64) -> ImportBatch {
        ImportBatch {
            rows_seen: rows.len() as i64,
            rows,
            errors: Vec::new(),
            checkpoint_row,
            rows_failed: 0,
            rows_warned: 0,
        }
    }

    /// A first load's search index is built aside, beside its b-tree
    /// indexes, and copied in: the very bytes an in-place rebuild writes,
    /// kept up to date afterwards by a change through the pool (the trigger)
    /// and a second import through the bulk writer, and no scratch file
    /// left behind.
    #[tokio::test]
    async fn a_first_loads_search_index_is_built_aside() {
        let file = fresh("search-aside.db");
        let store = SqliteStore::connect(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let c = rusqlite::Connection::open(&file).unwrap();
        let definition = rows(
            &c,
            "SELECT sql FROM sqlite_master WHERE name = 'entity_fts'",
        );
        assert!(
            definition[0].contains(bulk::SEARCH_OPTIONS),
            "{definition:?}"
        );
        // Pending terms flushed every 4 KiB: many segments, merged as they come.
        c.execute_batch("INSERT INTO entity_fts (entity_fts, rank) VALUES ('hashsize', 4096)")
            .unwrap();
        let count = |term: &str| {
            let sql =
                format!("SELECT COUNT(*) FROM entity_fts WHERE entity_fts MATCH '\"{term}\"'");
            let pool = store.pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>(&sql)
                    .fetch_one(&pool)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(count("面馆").await, 0);
        let ctx = AuditCtx::system("test");
        let job = store
            .create_import_job(&ctx, "entities", "a.csv", "aa", "strict")
            .await
            .unwrap();
        assert!(store.begin_bulk_load(job.id).await.unwrap());
        let names = ["阿强面馆", "华为专卖店", "老王超市", "赤城街道小李快餐店"];
        let code = |n: usize| format!("91330100MA{n:08}");
        for b in 0..4 {
            let rows = (0..500)
                .map(|i| {
                    let n = b * 500 + i;
                    business(Some(&code(n)), None, &format!("{}{n}号", names[n % 4]))
                })
                .collect();
            let batch = all_new(rows, (b as i64 + 1) * 500);
            store
                .commit_import_batch(&ctx, job.id, batch)
                .await
                .unwrap();
        }
        store.ensure_entity_indexes().await.unwrap();
        let aside = |s: &SqliteStore| {
            s.bulk
                .as_ref()
                .unwrap()
                .searches_built_aside
                .load(std::sync::atomic::Ordering::Relaxed)
        };
        assert_eq!(aside(&store), 1, "built aside, not rebuilt in place");
        let mut scratch = file.as_os_str().to_owned();
        scratch.push("-search-build");
        assert!(
            !std::path::Path::new(&scratch).exists(),
            "scratch file left"
        );
        assert!(rows(&c, "SELECT key FROM store_state").is_empty());
        let index = |c: &rusqlite::Connection| {
            let mut all = rows(
                c,
                "SELECT id || ':' || hex(block) FROM entity_fts_data ORDER BY id",
            );
            all.extend(rows(c, "SELECT segid || ':' || hex(term) || ':' || pgno FROM entity_fts_idx ORDER BY segid, term"));
            all
        };
        let aside = index(&c);
        assert!(aside.len() > 10, "{} rows", aside.len());
        c.execute_batch("INSERT INTO entity_fts (entity_fts, rank) VALUES ('integrity-check', 1)")
            .unwrap();
        assert_eq!(count("面馆").await, 500);
        assert_eq!(count("#lw").await, 500, "老王: pinyin initials");
        c.execute_batch("INSERT INTO entity_fts (entity_fts) VALUES ('rebuild')")
            .unwrap();
        assert!(index(&c) == aside, "not what a rebuild writes");

        let renamed = store
            .upsert_entities(&ctx, &[business(Some(&code(0)), None, "阿强茶馆")])
            .await
            .unwrap();
        assert_eq!(renamed.updated, 1);
        let next = store
            .create_import_job(&ctx, "entities", "b.csv", "bb", "strict")
            .await
            .unwrap();
        assert!(!store.begin_bulk_load(next.id).await.unwrap());
        let batch = all_new(vec![business(Some(&code(9999)), None, "新开茶馆")], 1);
        store
            .commit_import_batch(&ctx, next.id, batch)
            .await
            .unwrap();
        assert_eq!((count("茶馆").await, count("面馆").await), (2, 499));
        c.execute_batch("INSERT INTO entity_fts (entity_fts, rank) VALUES ('integrity-check', 1)")
            .unwrap();
        store.close().await;
    }

    fn page_size(path: &std::path::Path) -> i64 {
        rusqlite::Connection::open(path)
            .unwrap()
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap()
    }

    #[tokio::test]
    async fn new_files_get_8k_pages_and_old_files_keep_theirs() {
        let new = fresh("new.db");
        let old = fresh("old.db");
        // A file made before 8 KiB pages: SQLite's default of 4 KiB, in WAL.
        rusqlite::Connection::open(&old)
            .unwrap()
            .execute_batch("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE t (x)")
            .unwrap();
        for (file, want) in [(&new, i64::from(PAGE_SIZE)), (&old, 4096)] {
            let store = SqliteStore::connect(&format!("sqlite://{}", file.display()))
                .await
                .unwrap();
            store.migrate().await.unwrap();
            store.close().await;
            assert_eq!(page_size(file), want, "{}", file.display());
        }
    }
}
