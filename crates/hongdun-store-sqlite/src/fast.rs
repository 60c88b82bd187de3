//! Reads that stay on the calling thread.
//!
//! sqlx runs every SQLite connection on a worker thread of its own and hands each
//! query and each row across channels; under load those hand-offs (futex wake-ups,
//! context switches) cost more than a point lookup itself. The public lookups —
//! the endpoint a shop's QR code and every consumer hits — instead take a
//! read-only connection from a small pool and run on the caller's thread: an
//! indexed lookup is tens of microseconds, shorter than one hand-off.
//!
//! Same file, same WAL: these connections see every committed write.
use crate::common::{enum_col, like_pattern};
use crate::CACHE_KIB;
use hongdun_core::ids::UnitId;
use hongdun_core::registry::{EntityKind, EntityStatus, LicenceKind};
use hongdun_store::{
    DrawCandidates, Entity, EntityQuery, EntitySort, Licence, Page, ScopeFilter, SealUse,
    StoreError, StoreResult,
};
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, Row};
use std::path::PathBuf;
use std::sync::Mutex;

/// Idle read-only connections, opened on first use and kept up to `max_idle`.
pub(crate) struct FastReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    max_idle: usize,
}

pub(crate) const ENTITY_COLS: &str =
    "e.id, e.uscc, e.reg_no, e.name, e.kind, e.legal_rep, e.id_number, \
    e.phone, e.address, e.county_code, e.township_code, e.unit_id, e.grid, e.industry, e.status, \
    e.established, e.capital, e.employees, e.business_scope, e.tags, e.warning, e.updated_at";
const N_ENTITY_COLS: usize = 22;

/// Page cache of a connection scanning a draw's candidates (KiB).
const SCAN_CACHE_KIB: i64 = 2048;

fn fail(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
        // A first load has the credit-code index still to build (see
        // `entity_with_licences`).
        rusqlite::Error::SqliteFailure(_, Some(m)) if m.contains("no such index: entity_uscc") => {
            StoreError::RegisterLoading
        }
        other => StoreError::Other(other.to_string()),
    }
}

fn entity_at(r: &Row<'_>) -> StoreResult<Entity> {
    let kind: String = r.get(4).map_err(fail)?;
    let status: String = r.get(14).map_err(fail)?;
    let tags: String = r.get(19).map_err(fail)?;
    Ok(Entity {
        id: r.get(0).map_err(fail)?,
        uscc: r.get(1).map_err(fail)?,
        reg_no: r.get(2).map_err(fail)?,
        name: r.get(3).map_err(fail)?,
        kind: enum_col(&kind, EntityKind::parse, "entity.kind")?,
        legal_rep: r.get(5).map_err(fail)?,
        id_number: r.get(6).map_err(fail)?,
        phone: r.get(7).map_err(fail)?,
        address: r.get(8).map_err(fail)?,
        county_code: r.get(9).map_err(fail)?,
        township_code: r.get(10).map_err(fail)?,
        unit_id: r.get::<_, Option<i64>>(11).map_err(fail)?.map(UnitId),
        grid: r.get(12).map_err(fail)?,
        industry: r.get(13).map_err(fail)?,
        status: enum_col(&status, EntityStatus::parse, "entity.status")?,
        established: r.get(15).map_err(fail)?,
        capital: r.get(16).map_err(fail)?,
        employees: r.get(17).map_err(fail)?,
        business_scope: r.get(18).map_err(fail)?,
        tags: tags.split_whitespace().map(str::to_owned).collect(),
        warning: r.get(20).map_err(fail)?,
        updated_at: r.get(21).map_err(fail)?,
    })
}

/// A licence from seven columns starting at `at` (id, kind, number, issuer,
/// issued_on, expires_on, status); `None` when the left join found none.
fn licence_at(r: &Row<'_>, at: usize, entity_id: i64) -> StoreResult<Option<Licence>> {
    let Some(id) = r.get::<_, Option<i64>>(at).map_err(fail)? else {
        return Ok(None);
    };
    let kind: String = r.get(at + 1).map_err(fail)?;
    Ok(Some(Licence {
        id,
        entity_id,
        kind: enum_col(&kind, LicenceKind::parse, "licence.kind")?,
        number: r.get(at + 2).map_err(fail)?,
        issuer: r.get(at + 3).map_err(fail)?,
        issued_on: r.get(at + 4).map_err(fail)?,
        expires_on: r.get(at + 5).map_err(fail)?,
        status: r.get(at + 6).map_err(fail)?,
    }))
}

impl FastReads {
    pub(crate) fn new(path: PathBuf, max_idle: usize) -> Self {
        Self {
            path,
            idle: Mutex::new(Vec::new()),
            max_idle,
        }
    }

    fn open(&self) -> StoreResult<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(fail)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(fail)?;
        // The same page cache and memory map as the sqlx pool's connections.
        conn.execute_batch(&format!(
            "PRAGMA cache_size = -{CACHE_KIB}; PRAGMA mmap_size = 268435456;"
        ))
        .map_err(fail)?;
        Ok(conn)
    }

    /// Runs `f` on an idle connection (or a new one) on this thread.
    fn with<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let taken = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match taken {
            Some(c) => c,
            None => self.open()?,
        };
        let out = f(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.max_idle {
            idle.push(conn);
        }
        out
    }

    /// The candidate list of a draw (SQL from `candidate_sql`, one statement
    /// per part, run in turn), read straight from the file into the compact
    /// list: a province's ten million rows are too many to hand across sqlx's
    /// worker channel one by one, or to hold as three strings each.
    pub(crate) fn draw_candidates(
        &self,
        parts: Vec<(String, Vec<crate::common::SqlArg>)>,
        expected: usize,
    ) -> StoreResult<DrawCandidates> {
        self.with(|conn| {
            // One pass over the index: a page is read once, so a small page
            // cache serves as well as a large one, and does not take tens of
            // megabytes of fresh memory (slow to fault in on a virtual
            // machine). The pool's usual cache comes back afterwards.
            conn.execute_batch(&format!("PRAGMA cache_size = -{SCAN_CACHE_KIB}"))
                .map_err(fail)?;
            let out = Self::read_candidates(conn, parts, expected);
            conn.execute_batch(&format!("PRAGMA cache_size = -{CACHE_KIB}"))
                .map_err(fail)?;
            out
        })
    }

    fn read_candidates(
        conn: &Connection,
        parts: Vec<(String, Vec<crate::common::SqlArg>)>,
        expected: usize,
    ) -> StoreResult<DrawCandidates> {
        use crate::common::SqlArg;
        // Sized once: arrays of millions doubling as they fill would be
        // copied and faulted in again at every step.
        let mut out = DrawCandidates::with_capacity(expected);
        for (sql, args) in parts {
            let values: Vec<Value> = args
                .into_iter()
                .map(|a| match a {
                    SqlArg::Text(t) => Value::Text(t),
                    SqlArg::Int(i) => Value::Integer(i),
                    // As sqlx writes timestamps into SQLite, so text comparison holds.
                    SqlArg::Time(t) => {
                        Value::Text(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false))
                    }
                })
                .collect();
            let mut stmt = conn.prepare(&sql).map_err(fail)?;
            let mut rows = stmt
                .query(rusqlite::params_from_iter(values))
                .map_err(fail)?;
            while let Some(r) = rows.next().map_err(fail)? {
                let text = |i: usize| r.get_ref(i).and_then(|v| Ok(v.as_str_or_null()?));
                out.push(
                    r.get(0).map_err(fail)?,
                    text(1).map_err(fail)?.unwrap_or(""),
                    text(2).map_err(fail)?.unwrap_or(""),
                    text(3).map_err(fail)?,
                    r.get::<_, Option<i64>>(4).map_err(fail)?.map(UnitId),
                );
            }
        }
        Ok(out)
    }

    /// The (office, kind, industry) that splits the active register in two
    /// about equal halves, from a thousand rows spread over the ids (point reads,
    /// milliseconds), and how many rows each half may hold.
    pub(crate) fn split_point(
        &self,
        keep: &dyn Fn(i64) -> bool,
    ) -> StoreResult<(usize, Option<crate::common::SplitPoint>)> {
        self.with(|conn| {
            let max: Option<i64> = conn
                .query_row("SELECT MAX(id) FROM entity", [], |r| r.get(0))
                .map_err(fail)?;
            let Some(max) = max.filter(|&m| m > 0) else {
                return Ok((0, None));
            };
            let step = (max / 1000).max(1);
            // One row from each thousandth of the ids, at a scrambled offset
            // within it: evenly spaced ids can fall in step with a pattern of
            // the register's own (a generated one's, rows made in turn per
            // office) and split it unevenly.
            let ids: Vec<String> = (0..1000)
                .map(|k| 1 + k * step + (k * 2_654_435_761) % step)
                .take_while(|&i| i <= max)
                .map(|i| i.to_string())
                .collect();
            // Only the rowids in the condition: a filter on status would let the
            // planner walk the entity_draw index instead of reading 1,000 rows.
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT unit_id, kind, industry, status = 'active' FROM entity WHERE id IN ({})",
                    ids.join(",")
                ))
                .map_err(fail)?;
            type Sampled = (Option<i64>, String, Option<String>, bool);
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .map_err(fail)?
                .collect::<Result<Vec<Sampled>, _>>()
                .map_err(fail)?;
            let mut points: Vec<(i64, String, Option<String>)> = rows
                .into_iter()
                .filter_map(|(u, kind, industry, active)| {
                    u.filter(|&u| active && keep(u)).map(|u| (u, kind, industry))
                })
                .collect();
            // Rows each half may hold: the share of the sample in scope and
            // active, with a margin.
            let expected = (max as usize / 2) * (points.len() + 50) / ids.len().max(1);
            if points.len() < 2 {
                return Ok((expected * 2, None));
            }
            points.sort_unstable();
            // Rows equal to the split point all go to the second reader: when
            // the middle of the sample falls in a large stretch of equal keys
            // (an office's shops of one trade), split at whichever end of that
            // stretch is nearer the middle, not at the stretch itself.
            let half = points.len() / 2;
            let start = points.partition_point(|p| *p < points[half]);
            let end = points.partition_point(|p| *p <= points[half]);
            let at = match (start, end < points.len()) {
                // Every sampled row in one stretch: nothing to split at.
                (0, false) => return Ok((expected * 2, None)),
                (0, true) => end,
                (_, false) => start,
                (_, true) if half - start <= end - half => start,
                _ => end,
            };
            let (unit, kind, industry) = points[at].clone();
            let point = crate::common::SplitPoint {
                unit,
                kind,
                industry,
            };
            Ok((expected, Some(point)))
        })
    }

    /// One entity by credit code with its licences, in one indexed query.
    /// Through `entity_uscc` only: while a first load has that index still to
    /// build, the lookup is refused (`RegisterLoading`) instead of reading
    /// the whole register for every request.
    pub(crate) fn entity_with_licences(&self, uscc: &str) -> StoreResult<(Entity, Vec<Licence>)> {
        self.with(|conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {ENTITY_COLS}, l.id, l.kind, l.number, l.issuer, l.issued_on, \
                     l.expires_on, l.status FROM entity e INDEXED BY entity_uscc \
                     LEFT JOIN licence l ON l.entity_id = e.id \
                     WHERE e.uscc = ?1 ORDER BY l.kind, l.number"
                ))
                .map_err(fail)?;
            let mut rows = stmt.query([uscc]).map_err(fail)?;
            let mut entity: Option<Entity> = None;
            let mut licences = Vec::new();
            while let Some(r) = rows.next().map_err(fail)? {
                if entity.is_none() {
                    entity = Some(entity_at(r)?);
                }
                let id = entity.as_ref().map_or(0, |e| e.id);
                if let Some(l) = licence_at(r, N_ENTITY_COLS, id)? {
                    licences.push(l);
                }
            }
            Ok((entity.ok_or(StoreError::NotFound)?, licences))
        })
    }

    /// What happened to one seal (the public seal check's one read).
    pub(crate) fn seal_use(&self, batch_id: i64, serial: i32) -> StoreResult<Option<SealUse>> {
        self.with(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT batch_id, serial, order_no, platform, bound_at, scans, first_scan_at, \
                     last_scan_at, broken_at, case_id FROM seal_use WHERE batch_id = ?1 AND serial = ?2",
                )
                .map_err(fail)?;
            let mut rows = stmt.query((batch_id, serial)).map_err(fail)?;
            let Some(r) = rows.next().map_err(fail)? else {
                return Ok(None);
            };
            Ok(Some(SealUse {
                batch_id: r.get(0).map_err(fail)?,
                serial: r.get(1).map_err(fail)?,
                order_no: r.get(2).map_err(fail)?,
                platform: r.get(3).map_err(fail)?,
                bound_at: r.get(4).map_err(fail)?,
                scans: r.get(5).map_err(fail)?,
                first_scan_at: r.get(6).map_err(fail)?,
                last_scan_at: r.get(7).map_err(fail)?,
                broken_at: r.get(8).map_err(fail)?,
                case_id: r.get(9).map_err(fail)?,
            }))
        })
    }

    /// The public search: the whole register, by index terms, a literal name
    /// and/or a code prefix, first matches by id, uncounted (see
    /// `is_public_shape`). The same SQL as the pool path for these filters.
    pub(crate) fn search(&self, q: &EntityQuery) -> StoreResult<Page<Entity>> {
        let mut sql = format!("SELECT {ENTITY_COLS} FROM entity e WHERE TRUE");
        let mut args: Vec<Value> = Vec::new();
        if !q.terms.is_empty() {
            sql.push_str(" AND e.id IN (SELECT rowid FROM entity_fts WHERE entity_fts MATCH ?");
            args.push(Value::Text(crate::fts_match_expr(&q.terms)));
            if let Some(n) = q.candidate_limit {
                sql.push_str(" ORDER BY rowid LIMIT ?");
                args.push(Value::Integer(n));
            }
            sql.push(')');
        }
        if let Some(n) = &q.name_like {
            let pattern = like_pattern(n);
            sql.push_str(" AND (e.name LIKE ? ESCAPE '\\' OR e.search LIKE ? ESCAPE '\\')");
            args.push(Value::Text(pattern.clone()));
            args.push(Value::Text(pattern));
        }
        if let Some(p) = &q.uscc_prefix {
            sql.push_str(" AND e.uscc >= ? AND e.uscc < ?");
            args.push(Value::Text(p.clone()));
            args.push(Value::Text(format!("{p}\u{FFFF}")));
        }
        sql.push_str(" ORDER BY e.id LIMIT ? OFFSET ?");
        args.push(Value::Integer(q.paging.per_page));
        args.push(Value::Integer(q.paging.offset()));
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(&sql).map_err(fail)?;
            let mut rows = stmt.query(rusqlite::params_from_iter(args)).map_err(fail)?;
            let mut items = Vec::new();
            while let Some(r) = rows.next().map_err(fail)? {
                items.push(entity_at(r)?);
            }
            Ok(Page {
                total: items.len() as i64,
                items,
                page: q.paging.page,
                per_page: q.paging.per_page,
            })
        })
    }

    /// The licences of many entities, ordered as the sqlx path orders them.
    pub(crate) fn licences_of_many(&self, entity_ids: &[i64]) -> StoreResult<Vec<Licence>> {
        self.with(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT entity_id, id, kind, number, issuer, issued_on, expires_on, status \
                     FROM licence WHERE entity_id = ?1 ORDER BY kind, number",
                )
                .map_err(fail)?;
            let mut ids = entity_ids.to_vec();
            ids.sort_unstable();
            ids.dedup();
            let mut out = Vec::new();
            for id in ids {
                let mut rows = stmt.query([id]).map_err(fail)?;
                while let Some(r) = rows.next().map_err(fail)? {
                    if let Some(l) = licence_at(r, 1, id)? {
                        out.push(l);
                    }
                }
            }
            Ok(out)
        })
    }
}

/// The searches `FastReads::search` answers: the public lookup's shape. Any
/// scope, filter, sort or count goes through the pool instead.
pub(crate) fn is_public_shape(scope: &ScopeFilter, q: &EntityQuery) -> bool {
    matches!(scope, ScopeFilter::All)
        && q.skip_count
        && q.sort == EntitySort::Id
        && q.address_like.is_none()
        && q.division.is_none()
        && q.industry_prefix.is_none()
        && q.kind.is_none()
        && q.status.is_none()
        && q.tag.is_none()
        && q.unit_id.is_none()
}
