//! The import's batches of new businesses, written on one thread.
//!
//! Through sqlx every statement crosses to the connection's worker thread and
//! back, and every bound value is copied into the driver's argument list on
//! the way: for a register import that is 24 values for each of millions of
//! rows. Here a batch whose rows are all new is written on a blocking thread
//! through a rusqlite connection of its own to the same file: one prepared
//! INSERT stepped per row with the row's strings bound in place, then the
//! search index, the error report, the audit row and the job's checkpoint,
//! all in one transaction, as the sqlx path writes them.
//!
//! After a first load the deferred indexes are built here too, the search
//! index beside the others in a scratch file (`SideSearch`).
//!
//! A batch holding a business already in the register (a re-import, a
//! correction file) meets the credit-code or registration-number uniqueness
//! check; it is then rolled back whole and written by the general upsert,
//! which compares and records history.
//!
//! A draw is saved here too: its row, the frozen list's chunks, some 150,000
//! tasks and twice as many team members for a province, each through one
//! prepared statement stepped per row (0.7 s where the multi-row literal
//! statements through sqlx took 1.0 s: SQLite parsed every row of them).
use crate::common::inspection::{
    draw_audit, draw_written, ids_text, save_lap, tasks_in_entity_order, DRAW_INSERT,
    DRAW_LIST_INSERT, PLAN_DRAWN, TASK_INSERT, TASK_MEMBER_INSERT,
};
use crate::common::registry::{upsert_audit, ENTITY_INSERT, IMPORT_JOB_ADVANCE};
use crate::common::{chained_row, now, AUDIT_HEAD, AUDIT_INSERT, AUDIT_NEXT};
use crate::{CACHE_KIB, JOURNAL_SIZE_LIMIT};
use chrono::{DateTime, SecondsFormat, Utc};
use hongdun_store::{
    AuditCtx, Draw, ImportBatch, NewDraw, NewTask, PackedList, StoreError, StoreResult,
    UpsertCounts,
};
use rusqlite::{params, Connection, ErrorCode, TransactionBehavior};
use std::path::PathBuf;
use std::time::Duration;

/// The writer connection, opened on first use and kept (with its page cache)
/// between batches. Only used under the store's write lock.
pub(crate) struct BulkWriter {
    path: PathBuf,
    conn: std::sync::Mutex<Option<Connection>>,
    checkpoints: std::sync::Mutex<Option<std::sync::mpsc::SyncSender<()>>>,
    /// Search indexes built aside and copied in (`SideSearch`), not rebuilt
    /// in place.
    pub(crate) searches_built_aside: std::sync::atomic::AtomicU32,
}

fn fail(e: rusqlite::Error) -> StoreError {
    StoreError::Other(e.to_string())
}

/// A date as sqlx binds it for SQLite (chrono's `%F`), written digit by digit
/// for the years of four digits every register date has: through chrono's
/// formatter it cost the writer about 1.3 s per ten million businesses.
fn date_text(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    let y = d.year();
    if !(0..=9999).contains(&y) {
        return d.format("%F").to_string();
    }
    let digits = |n: u32, width: usize, out: &mut [u8]| {
        let mut n = n;
        for k in (0..width).rev() {
            out[k] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    let mut b = *b"0000-00-00";
    digits(y as u32, 4, &mut b[0..4]);
    digits(d.month(), 2, &mut b[5..7]);
    digits(d.day(), 2, &mut b[8..10]);
    String::from_utf8_lossy(&b).into_owned()
}

/// A time as sqlx binds it for SQLite, so rows from both paths read and sort alike.
fn time_text(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

impl BulkWriter {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            conn: std::sync::Mutex::new(None),
            checkpoints: std::sync::Mutex::new(None),
            searches_built_aside: Default::default(),
        }
    }

    fn open(&self) -> StoreResult<Connection> {
        let c = Connection::open(&self.path).map_err(fail)?;
        c.busy_timeout(Duration::from_secs(10)).map_err(fail)?;
        // The settings of the pool's connections (SqliteStore::connect), but
        // the WAL never checkpointed by this connection's commits: a thread
        // of its own copies it back (see `checkpoint_soon`). And no memory
        // map: this connection appends and scans once (a first load's index
        // builds), where mapped reads are no faster than read(2), and every
        // mapped page it touched counted in the import's resident memory
        // (256 MiB of a 10M first load's peak).
        c.execute_batch(&format!(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -{CACHE_KIB}; \
             PRAGMA mmap_size = 0; PRAGMA wal_autocheckpoint = 0; \
             PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}"
        ))
        .map_err(fail)?;
        Ok(c)
    }

    /// Asks the checkpoint thread (started on first use) to copy what the WAL
    /// holds back into the database. A commit on this connection would do it
    /// itself, inline, once the WAL passed its threshold: reading the WAL,
    /// writing the pages and waiting for their fsync while the next batch
    /// waits. On a thread of its own the copy runs beside the writer (a
    /// PASSIVE checkpoint takes only what is committed and blocks no one),
    /// and the WAL starts over at the first write after a copy that caught
    /// up. Asks made while a copy runs fold into one more copy.
    fn checkpoint_soon(&self) {
        let Ok(mut slot) = self.checkpoints.lock() else {
            return;
        };
        if slot.is_none() {
            let (tx, rx) = std::sync::mpsc::sync_channel::<()>(1);
            let path = self.path.clone();
            let spawned = std::thread::Builder::new()
                .name("sqlite-checkpoint".into())
                .spawn(move || {
                    let conn = match Connection::open(&path) {
                        Ok(c) => c,
                        Err(e) => {
                            tracing::warn!(error = %e, "checkpoint thread: cannot open the database");
                            return;
                        }
                    };
                    // Ends when the writer (the sender) is dropped.
                    while rx.recv().is_ok() {
                        if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)") {
                            tracing::warn!(error = %e, "background checkpoint");
                        }
                    }
                });
            match spawned {
                Ok(_) => *slot = Some(tx),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot start the checkpoint thread");
                    return;
                }
            }
        }
        if let Some(tx) = slot.as_ref() {
            // Full: a copy is already asked for and will take this commit too.
            let _ = tx.try_send(());
        }
    }

    /// Runs `f` on the writer connection (opened on first use); after a
    /// failure the connection is dropped, so the next use starts afresh.
    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> StoreResult<T>) -> StoreResult<T> {
        let mut slot = self
            .conn
            .lock()
            .map_err(|_| StoreError::Other("bulk writer poisoned".into()))?;
        if slot.is_none() {
            *slot = Some(self.open()?);
        }
        let result = f(slot.as_mut().expect("opened above"));
        if result.is_err() {
            *slot = None;
        }
        result
    }

    /// Saves a draw in one transaction, as the shared `save_draw` does:
    /// without foreign-key checks (see `BulkTx`: every row the tasks refer to
    /// is never deleted), with a small page cache that spills to the WAL, and
    /// with the WAL checkpointed after the commit on a connection of its own.
    pub(crate) fn save_draw(
        &self,
        ctx: &AuditCtx,
        d: NewDraw,
        list: &PackedList,
        tasks: &[NewTask],
    ) -> StoreResult<Draw> {
        let draw = self.with(|conn| {
            conn.execute_batch("PRAGMA foreign_keys = OFF; PRAGMA cache_size = -16384")
                .map_err(fail)?;
            let written = write_draw(conn, ctx, d, list, tasks);
            conn.execute_batch(&format!(
                "PRAGMA foreign_keys = ON; PRAGMA cache_size = -{CACHE_KIB}"
            ))
            .map_err(fail)?;
            written
        })?;
        // Tens of megabytes copied back into the database and synced: after
        // the answer, not inside the commit.
        self.checkpoint_soon();
        Ok(draw)
    }

    /// Builds the secondary entity indexes a first load deferred (those
    /// missing), each in a transaction of its own, and the search index if it
    /// waits for its rebuild, then copies the WAL back before answering.
    /// The gigabytes of index pages the WAL takes at province scale are
    /// copied by the checkpoint thread after each index, beside the next one,
    /// instead of inside the last commit. During a first load the search index
    /// is built beside the b-tree indexes, on a thread of its own
    /// (`SideSearch`); the connection is opened afresh afterwards, so no
    /// search-index state it may hold from before outlives the copy.
    pub(crate) fn build_entity_indexes(&self) -> StoreResult<()> {
        let built = self.with(|conn| {
            let (before, after) = crate::INDEX_BUILD_SETTINGS;
            conn.execute_batch(before).map_err(fail)?;
            let built = self.build_missing(conn);
            conn.execute_batch(after).map_err(fail)?;
            built
        });
        if let Ok(mut slot) = self.conn.lock() {
            *slot = None;
        }
        built
    }

    fn build_missing(&self, conn: &mut Connection) -> StoreResult<()> {
        let mut missing = Vec::new();
        for (name, sql) in crate::ENTITY_INDEXES {
            let exists: bool = conn
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1)",
                    [name],
                    |r| r.get(0),
                )
                .map_err(fail)?;
            if !exists {
                missing.push((name, sql));
            }
        }
        let search = search_rebuild_pending(conn)?;
        let first_load = first_load_owner(conn)?.is_some();
        if missing.is_empty() && !search && !first_load {
            return Ok(());
        }
        // Only while the first load's owner is set does no one else change a
        // business, so that the snapshot the side build reads stays the
        // register until its copy commits.
        let side = if search && first_load {
            SideSearch::start(&self.path, conn)
        } else {
            None
        };
        for (name, sql) in missing {
            let started = std::time::Instant::now();
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(fail)?;
            // IF NOT EXISTS: another process may have built it meanwhile.
            tx.execute_batch(sql).map_err(fail)?;
            tx.commit().map_err(fail)?;
            self.checkpoint_soon();
            tracing::debug!(
                step = name,
                ms = started.elapsed().as_millis() as u64,
                "entity index"
            );
        }
        let started = std::time::Instant::now();
        let copied = match side {
            Some(side) => match side.finish(conn) {
                Ok(()) => {
                    self.searches_built_aside
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    true
                }
                Err(e) => {
                    tracing::warn!(error = %e, "search index built aside: not used, rebuilt in place");
                    false
                }
            },
            None => false,
        };
        if !copied {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(fail)?;
            if search_rebuild_pending(&tx)? {
                tx.execute_batch(crate::SEARCH_REBUILD).map_err(fail)?;
            }
            tx.execute(crate::END_FIRST_LOAD, []).map_err(fail)?;
            tx.commit().map_err(fail)?;
        }
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            aside = copied,
            "search index"
        );
        // All of it in the database file before the import says it is done:
        // waits (up to two minutes) for the checkpoint thread's copy, which
        // SQLite answers busy at once, without its busy handler, then copies
        // the rest. What is built is committed already: a copy held up by a
        // long reader (a server under load) is left to the checkpoint
        // thread, not an error.
        let started = std::time::Instant::now();
        let limit = Duration::from_secs(120);
        conn.busy_timeout(limit).map_err(fail)?;
        let copied = loop {
            let r: rusqlite::Result<(i64, i64, i64)> =
                conn.query_row("PRAGMA wal_checkpoint(FULL)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                });
            match r {
                Ok((1, _, _)) if started.elapsed() < limit => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                r => break r,
            }
        };
        conn.busy_timeout(Duration::from_secs(10)).map_err(fail)?;
        let ms = started.elapsed().as_millis() as u64;
        match copied {
            Ok((0, _, _)) => tracing::debug!(ms, "entity indexes checkpointed"),
            Ok((_, frames, copied)) => {
                tracing::info!(
                    ms,
                    frames,
                    copied,
                    "entity indexes: WAL not yet all copied back"
                );
                self.checkpoint_soon();
            }
            Err(e) => {
                tracing::warn!(ms, error = %e, "entity indexes: checkpoint");
                self.checkpoint_soon();
            }
        }
        Ok(())
    }

    /// Writes `batch` if every row is new; `None` (nothing written) otherwise.
    pub(crate) fn commit_new(
        &self,
        ctx: &AuditCtx,
        job_id: i64,
        batch: &ImportBatch,
    ) -> StoreResult<Option<UpsertCounts>> {
        let written = self.with(|conn| write_batch(conn, ctx, job_id, batch))?;
        if written.is_some() {
            self.checkpoint_soon();
        }
        Ok(written)
    }
}

/// The options of the search index (`entity_fts`, migration 0011) but its
/// content table: a side build makes the same index only if they are the
/// same, and the main table's definition is checked for them first.
pub(crate) const SEARCH_OPTIONS: &str =
    "tokenize = \"ascii tokenchars '#'\", detail = none, columnsize = 0";

/// The search index of a first load built beside its b-tree indexes: the
/// index build holds the database's one write lock and keeps a core and a
/// half busy, and the search index (a tenth of the whole import for ten
/// million businesses) needs only to read the register. So a thread of its
/// own reads every business's terms from a snapshot of the register into a
/// contentless FTS5 table of the same options in a scratch file beside the
/// database; when the b-tree indexes are done, that table's segments (its
/// `_data` and `_idx` rows, the same bytes a `rebuild` writes) replace the
/// empty index's in the transaction that ends the first load.
struct SideSearch {
    scratch: PathBuf,
    thread: std::thread::JoinHandle<rusqlite::Result<()>>,
}

impl SideSearch {
    /// Starts the build, or `None` (the index is then rebuilt in place) when
    /// the index is not the one this build makes or no thread can start.
    fn start(path: &std::path::Path, conn: &Connection) -> Option<Self> {
        let definition: Option<String> = first_value(
            conn,
            "SELECT sql FROM sqlite_master WHERE name = 'entity_fts'",
        );
        if !definition.is_some_and(|d| d.contains(SEARCH_OPTIONS)) {
            return None;
        }
        let hashsize: Option<i64> =
            first_value(conn, "SELECT v FROM entity_fts_config WHERE k = 'hashsize'");
        let mut scratch = path.as_os_str().to_owned();
        scratch.push("-search-build");
        let scratch = PathBuf::from(scratch);
        let register = path.to_path_buf();
        let file = scratch.clone();
        let thread = std::thread::Builder::new()
            .name("search-index".into())
            .spawn(move || {
                // Left by a build cut off before: started over.
                let _ = std::fs::remove_file(&file);
                let c = Connection::open(&file)?;
                // A scratch file: nothing in it survives a crash anyway.
                c.execute_batch(
                    "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -16384",
                )?;
                c.execute(
                    "ATTACH DATABASE ?1 AS register",
                    [register.to_string_lossy()],
                )?;
                c.execute_batch(&format!(
                    "PRAGMA register.mmap_size = 0; \
                     CREATE VIRTUAL TABLE main.entity_fts USING fts5 (search, content = '', {SEARCH_OPTIONS})"
                ))?;
                if let Some(h) = hashsize {
                    c.execute(
                        "INSERT INTO main.entity_fts (entity_fts, rank) VALUES ('hashsize', ?1)",
                        [h],
                    )?;
                }
                c.execute_batch(
                    "BEGIN; \
                     INSERT INTO main.entity_fts (rowid, search) SELECT id, search FROM register.entity ORDER BY id; \
                     COMMIT",
                )
            })
            .map_err(|e| tracing::warn!(error = %e, "cannot start the search index build"))
            .ok()?;
        Some(Self { scratch, thread })
    }

    /// Waits for the build and puts its segments in the register, with the
    /// end of the first load, in one transaction; the scratch file is removed
    /// whatever happens.
    fn finish(self, conn: &mut Connection) -> StoreResult<()> {
        let built = match self.thread.join() {
            Ok(built) => built.map_err(fail),
            Err(_) => Err(StoreError::Other("the search index build panicked".into())),
        };
        let copied = built.and_then(|()| Self::copy(&self.scratch, conn));
        let _ = std::fs::remove_file(&self.scratch);
        copied
    }

    fn copy(scratch: &std::path::Path, conn: &mut Connection) -> StoreResult<()> {
        conn.execute(
            "ATTACH DATABASE ?1 AS search_build",
            [scratch.to_string_lossy()],
        )
        .map_err(fail)?;
        let copied = (|| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(fail)?;
            tx.execute_batch(
                "DELETE FROM main.entity_fts_data; DELETE FROM main.entity_fts_idx; \
                 INSERT INTO main.entity_fts_data (id, block) SELECT id, block FROM search_build.entity_fts_data; \
                 INSERT INTO main.entity_fts_idx (segid, term, pgno) \
                 SELECT segid, term, pgno FROM search_build.entity_fts_idx",
            )
            .map_err(fail)?;
            tx.execute_batch(crate::SEARCH_BUILT).map_err(fail)?;
            tx.execute(crate::END_FIRST_LOAD, []).map_err(fail)?;
            tx.commit().map_err(fail)
        })();
        let detached = conn
            .execute_batch("DETACH DATABASE search_build")
            .map_err(fail);
        copied.and(detached)
    }
}

/// The first column of `sql`'s first row, if there is one and it reads as `T`.
fn first_value<T: rusqlite::types::FromSql>(conn: &Connection, sql: &str) -> Option<T> {
    use rusqlite::OptionalExtension;
    conn.query_row(sql, [], |r| r.get(0))
        .optional()
        .ok()
        .flatten()
}

/// The job of the first load under way, if any (`crate::FIRST_LOAD_OWNER`).
fn first_load_owner(c: &Connection) -> StoreResult<Option<i64>> {
    use rusqlite::OptionalExtension;
    c.query_row(crate::FIRST_LOAD_OWNER, [], |r| r.get(0))
        .optional()
        .map_err(fail)
}

/// Whether a first load left the search index to one rebuild at its end
/// (the sqlx side's `search_rebuild_pending`, on this connection).
fn search_rebuild_pending(c: &Connection) -> StoreResult<bool> {
    c.query_row(crate::SEARCH_REBUILD_PENDING, [], |r| r.get(0))
        .map_err(fail)
}

fn write_batch(
    conn: &mut Connection,
    ctx: &AuditCtx,
    job_id: i64,
    batch: &ImportBatch,
) -> StoreResult<Option<UpsertCounts>> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(fail)?;
    // Another job's first load: the credit code is not indexed, so nothing
    // here would notice a business that load has already written. The
    // general upsert refuses the batch.
    if first_load_owner(&tx)?.is_some_and(|owner| owner != job_id) {
        return Ok(None);
    }
    let at = now();
    let at_s = time_text(&at);
    let mut ids = Vec::with_capacity(batch.rows.len());
    {
        let sql = format!(
            "{ENTITY_INSERT}VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
             $16, $17, $18, $19, $20, $21, $22, $23, $23)"
        );
        let mut insert = tx.prepare_cached(&sql).map_err(fail)?;
        for e in &batch.rows {
            let established = e.established.map(date_text);
            let r = insert.execute(params![
                e.uscc,
                e.reg_no,
                e.name,
                e.kind.as_str(),
                e.legal_rep,
                e.id_number,
                e.phone,
                e.address,
                e.county_code,
                e.township_code,
                e.unit_id.map(|u| u.0),
                e.grid,
                e.industry,
                e.status.as_str(),
                established,
                e.capital,
                e.employees,
                e.business_scope,
                e.tags.join(" "),
                e.warning,
                e.search,
                ctx.actor_name,
                at_s,
            ]);
            match r {
                Ok(_) => ids.push(tx.last_insert_rowid()),
                // Already registered: the general upsert takes the batch.
                Err(rusqlite::Error::SqliteFailure(f, _))
                    if f.code == ErrorCode::ConstraintViolation
                        && f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
                {
                    return Ok(None);
                }
                Err(e) => return Err(fail(e)),
            }
        }
    }
    if let (Some(first), Some(last)) = (ids.first(), ids.last()) {
        if !search_rebuild_pending(&tx)? {
            tx.execute(crate::INDEX_ID_RANGE, params![first, last])
                .map_err(fail)?;
        }
    }
    {
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO import_error (job_id, row_no, column_name, code, message, severity) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(fail)?;
        for e in &batch.errors {
            insert
                .execute(params![
                    job_id, e.row_no, e.column, e.code, e.message, e.severity
                ])
                .map_err(fail)?;
        }
    }
    let counts = UpsertCounts {
        inserted: ids.len() as u64,
        ..Default::default()
    };
    if !ids.is_empty() {
        append_audit(&tx, ctx, &upsert_audit(&batch.rows, &counts, ids))?;
    }
    tx.execute(
        IMPORT_JOB_ADVANCE,
        params![
            batch.rows_seen,
            batch.rows.len() as i64,
            batch.rows_failed,
            batch.rows_warned,
            counts.inserted as i64,
            counts.updated as i64,
            batch.checkpoint_row,
            time_text(&now()),
            job_id
        ],
    )
    .map_err(fail)?;
    tx.commit().map_err(fail)?;
    Ok(Some(counts))
}

fn write_draw(
    conn: &mut Connection,
    ctx: &AuditCtx,
    d: NewDraw,
    list: &PackedList,
    tasks: &[NewTask],
) -> StoreResult<Draw> {
    let started = std::time::Instant::now();
    let lap = |what: &str| save_lap(started, what);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(fail)?;
    let at = now();
    let at_s = time_text(&at);
    let id: i64 = tx
        .query_row(
            DRAW_INSERT,
            params![
                d.plan_id,
                d.unit_id.0,
                d.kind,
                d.seed,
                d.seed_source,
                d.seed_hash,
                d.algorithm,
                d.algorithm_version,
                d.sampling.to_string(),
                d.team_size,
                d.candidates_count,
                d.candidates_sha256,
                d.inspectors.to_string(),
                d.inspectors_sha256,
                d.outcome.to_string(),
                ctx.actor_name,
                at_s,
            ],
            |r| r.get(0),
        )
        .map_err(conflict_or_fail)?;
    lap("draw row");
    {
        let mut insert = tx.prepare(DRAW_LIST_INSERT).map_err(fail)?;
        for (chunk, bytes) in list.chunks.iter().enumerate() {
            insert
                .execute(params![id, chunk as i64, bytes])
                .map_err(fail)?;
        }
    }
    lap("list");
    if let Some(plan_id) = d.plan_id {
        // Tasks in entity order (each keeps its seq), then their members by
        // the ids the tasks took.
        let order = tasks_in_entity_order(tasks);
        let mut task_ids = Vec::with_capacity(order.len());
        {
            let mut insert = tx
                .prepare(&format!(
                    "{TASK_INSERT}($1, $2, $3, $4, $5, $6, 'assigned', $7)"
                ))
                .map_err(fail)?;
            for &i in &order {
                let t = &tasks[i];
                insert
                    .execute(params![
                        plan_id,
                        id,
                        i as i64 + 1,
                        t.entity_id,
                        t.unit_id.map(|u| u.0),
                        ids_text(&t.team, |u| u.0),
                        at_s,
                    ])
                    .map_err(fail)?;
                task_ids.push(tx.last_insert_rowid());
            }
        }
        lap("tasks");
        let mut insert = tx
            .prepare(&format!("{TASK_MEMBER_INSERT}VALUES ($1, $2)"))
            .map_err(fail)?;
        for (&i, task_id) in order.iter().zip(task_ids) {
            for u in &tasks[i].team {
                insert.execute(params![task_id, u.0]).map_err(fail)?;
            }
        }
        drop(insert);
        lap("members");
        tx.execute(PLAN_DRAWN, params![at_s, plan_id])
            .map_err(fail)?;
    }
    let draw = draw_written(id, d, ctx, at);
    append_audit(&tx, ctx, &draw_audit(&draw, tasks.len()))?;
    tx.commit().map_err(fail)?;
    lap("commit");
    Ok(draw)
}

/// A unique constraint (a plan drawn already) as the conflict sqlx's mapping
/// makes of it, naming the column; anything else as a store error.
fn conflict_or_fail(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, Some(msg))
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            // "UNIQUE constraint failed: inspection_draw.plan_id"
            let field = msg.rsplit(['.', ' ']).next().unwrap_or("").to_owned();
            StoreError::Conflict { field }
        }
        _ => fail(e),
    }
}

/// The audit chain's next row, as `common::append_audit` writes it.
fn append_audit(
    tx: &rusqlite::Transaction<'_>,
    ctx: &AuditCtx,
    change: &hongdun_store::AuditChange,
) -> StoreResult<i64> {
    let (seq, prev): (i64, String) = tx
        .query_row(AUDIT_NEXT, [], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(fail)?;
    let row = chained_row(seq, prev, ctx, change);
    tx.execute(
        AUDIT_INSERT,
        params![
            row.seq,
            time_text(&row.at),
            row.actor_user_id,
            row.actor_name,
            row.unit_id,
            row.action,
            row.target_type,
            row.target_id,
            row.before,
            row.after,
            row.request_id,
            row.prev_hash,
            row.hash
        ],
    )
    .map_err(fail)?;
    tx.execute(AUDIT_HEAD, params![row.hash]).map_err(fail)?;
    Ok(seq)
}

#[cfg(test)]
mod tests {
    use super::date_text;
    use chrono::NaiveDate;

    /// The writer's connection maps none of the file (its mapped pages
    /// counted in a first load's peak memory) and leaves checkpoints to its
    /// own thread.
    #[test]
    fn the_bulk_connection_maps_nothing_and_never_checkpoints() {
        let conn = super::BulkWriter::new(crate::tests::fresh("bulk-settings.db"))
            .open()
            .unwrap();
        let pragma = |name: &str| -> i64 {
            conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(pragma("mmap_size"), 0);
        assert_eq!(pragma("wal_autocheckpoint"), 0);
        assert_eq!(pragma("cache_size"), -super::CACHE_KIB);
    }

    #[test]
    fn dates_read_as_sqlx_writes_them() {
        let mut d = NaiveDate::from_ymd_opt(-30, 1, 1).unwrap();
        let end = NaiveDate::from_ymd_opt(10_030, 12, 31).unwrap();
        while d <= end {
            assert_eq!(date_text(d), d.format("%F").to_string());
            d += chrono::Duration::days(37);
        }
        let last = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap();
        assert_eq!(date_text(last), "9999-12-31");
    }
}
