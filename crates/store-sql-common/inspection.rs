//! Inspection items, plans, draws, tasks and hazards.
use super::{append_audit, enum_col, get, join_list, now, push_scope, split_list, DbRow};
use crate::{map_err, Backend, Db};
use chrono::NaiveDate;
use hongdun_core::ids::{UnitId, UserId};
use hongdun_core::inspection::HazardState;
use hongdun_store::*;
use sqlx::QueryBuilder;
use std::collections::HashMap;

pub(crate) fn ids_text<T: Copy>(ids: &[T], f: impl Fn(T) -> i64) -> String {
    ids.iter()
        .map(|&i| f(i).to_string())
        .collect::<Vec<_>>()
        .join(" ")
}
/// Task positions in entity order: each task keeps its seq, and the check of
/// each row's entity walks the register's table forwards instead of jumping
/// about a province's file. Written `TASK_BATCH` to a statement.
pub(crate) fn tasks_in_entity_order(tasks: &[NewTask]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..tasks.len()).collect();
    order.sort_unstable_by_key(|&i| tasks[i].entity_id);
    order
}
pub(crate) const TASK_BATCH: usize = 5000;

/// A draw's tasks, up to their VALUES: plan, draw, seq, entity, office, team,
/// status and time.
pub(crate) const TASK_INSERT: &str =
    "INSERT INTO inspection_task (plan_id, draw_id, seq, entity_id, \
     unit_id, team, status, updated_at) VALUES ";
/// A draw's team members, up to their VALUES or SELECT.
pub(crate) const TASK_MEMBER_INSERT: &str =
    "INSERT INTO inspection_task_member (task_id, user_id) ";

/// What `save_draw` writes, handed back by a backend path that does not apply.
pub(crate) type DrawParts = (NewDraw, PackedList, Vec<NewTask>);

/// A draw's row; the id comes back (`RETURNING id`, or SQLite's last row id).
pub(crate) const DRAW_INSERT: &str = "INSERT INTO inspection_draw (plan_id, unit_id, kind, seed, \
     seed_source, seed_hash, algorithm, algorithm_version, sampling, team_size, candidates_count, \
     candidates_sha256, inspectors, inspectors_sha256, outcome, drawn_by, drawn_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id";
/// One LZ4 chunk of a draw's frozen list.
pub(crate) const DRAW_LIST_INSERT: &str =
    "INSERT INTO inspection_draw_list (draw_id, chunk, data, lz4) VALUES ($1, $2, '', $3)";
pub(crate) const PLAN_DRAWN: &str =
    "UPDATE inspection_plan SET status = 'drawn', updated_at = $1 WHERE id = $2";

/// The draw as written, without reading a province's outcome back.
pub(crate) fn draw_written(
    id: i64,
    d: NewDraw,
    ctx: &AuditCtx,
    at: chrono::DateTime<chrono::Utc>,
) -> Draw {
    Draw {
        id,
        plan_id: d.plan_id,
        unit_id: d.unit_id,
        kind: d.kind,
        seed: d.seed,
        seed_source: d.seed_source,
        seed_hash: d.seed_hash,
        algorithm: d.algorithm,
        algorithm_version: d.algorithm_version,
        sampling: d.sampling,
        team_size: d.team_size,
        candidates_count: d.candidates_count,
        candidates_sha256: d.candidates_sha256,
        inspectors: d.inspectors,
        inspectors_sha256: d.inspectors_sha256,
        outcome: d.outcome,
        drawn_by: ctx.actor_name.clone(),
        drawn_at: at,
    }
}

/// A step of a draw's save, for `--log hongdun_store_sqlite=debug`.
pub(crate) fn save_lap(started: std::time::Instant, step: &str) {
    tracing::debug!(step, ms = started.elapsed().as_millis() as u64, "save_draw")
}

/// The audit row of a saved draw.
pub(crate) fn draw_audit(draw: &Draw, tasks: usize) -> AuditChange {
    AuditChange::new::<(), _>(
        "inspection.draw",
        "inspection_draw",
        draw.id,
        None,
        Some(&serde_json::json!({
            "plan_id": draw.plan_id,
            "kind": draw.kind,
            "seed_hash": draw.seed_hash,
            "candidates_sha256": draw.candidates_sha256,
            "candidates": draw.candidates_count,
            "tasks": tasks,
        })),
    )
}

/// Inserts `batch` (positions into `tasks`) as tasks of a draw in one
/// statement. Integers and the team text (digits and spaces) go in as
/// literals: binding eight values for each of 150,000 tasks costs more than
/// the insert; the plan, the draw and the time are bound once.
pub(crate) async fn insert_task_batch(
    conn: &mut super::Conn,
    tasks: &[NewTask],
    batch: &[usize],
    (plan_id, draw_id, at): (i64, i64, chrono::DateTime<chrono::Utc>),
) -> StoreResult<<Db as sqlx::Database>::QueryResult> {
    use std::fmt::Write;
    let mut sql = String::with_capacity(batch.len() * 48 + 200);
    sql.push_str(TASK_INSERT);
    for (k, &i) in batch.iter().enumerate() {
        if k > 0 {
            sql.push(',');
        }
        let t = &tasks[i];
        let unit = t.unit_id.map_or("NULL".to_owned(), |u| u.0.to_string());
        let _ = write!(
            sql,
            "($1, $2, {}, {}, {unit}, '{}', 'assigned', $3)",
            i + 1,
            t.entity_id,
            ids_text(&t.team, |u| u.0),
        );
    }
    sqlx::query(&sql)
        .bind(plan_id)
        .bind(draw_id)
        .bind(at)
        .execute(conn)
        .await
        .map_err(map_err)
}

fn ids_parse(s: &str) -> Vec<i64> {
    s.split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect()
}
fn json_col(r: &DbRow, col: &str) -> StoreResult<serde_json::Value> {
    let s: String = get(r, col)?;
    serde_json::from_str(&s).map_err(|e| StoreError::Other(format!("bad JSON in {col}: {e}")))
}

fn item_from(r: &DbRow) -> StoreResult<InspectionItem> {
    Ok(InspectionItem {
        id: get(r, "id")?,
        code: get(r, "code")?,
        name: get(r, "name")?,
        department_id: get::<Option<i64>>(r, "department_id")?.map(UnitId),
        legal_basis: get(r, "legal_basis")?,
        kinds: split_list(&get::<String>(r, "kinds")?),
        industries: split_list(&get::<String>(r, "industries")?),
        enabled: get(r, "enabled")?,
    })
}

const PLAN_COLS: &str = "id, unit_id, name, departments, items, target, sampling, exclude_months, \
    team_size, pool, publish_days, status, created_by, created_at";

fn plan_from(r: &DbRow) -> StoreResult<InspectionPlan> {
    Ok(InspectionPlan {
        id: get(r, "id")?,
        unit_id: UnitId(get(r, "unit_id")?),
        name: get(r, "name")?,
        departments: ids_parse(&get::<String>(r, "departments")?)
            .into_iter()
            .map(UnitId)
            .collect(),
        items: ids_parse(&get::<String>(r, "items")?),
        target: serde_json::from_value(json_col(r, "target")?)
            .map_err(|e| StoreError::Other(format!("bad target: {e}")))?,
        sampling: json_col(r, "sampling")?,
        exclude_months: i64::from(get::<i32>(r, "exclude_months")?),
        team_size: i64::from(get::<i32>(r, "team_size")?),
        pool: ids_parse(&get::<String>(r, "pool")?)
            .into_iter()
            .map(UserId)
            .collect(),
        publish_days: i64::from(get::<i32>(r, "publish_days")?),
        status: get(r, "status")?,
        created_by: get(r, "created_by")?,
        created_at: get(r, "created_at")?,
    })
}

const DRAW_COLS: &str = "id, plan_id, unit_id, kind, seed, seed_source, seed_hash, algorithm, \
    algorithm_version, sampling, team_size, candidates_count, candidates_sha256, inspectors, \
    inspectors_sha256, outcome, drawn_by, drawn_at";

fn draw_from(r: &DbRow) -> StoreResult<Draw> {
    Ok(Draw {
        id: get(r, "id")?,
        plan_id: get(r, "plan_id")?,
        unit_id: UnitId(get(r, "unit_id")?),
        kind: get(r, "kind")?,
        seed: get(r, "seed")?,
        seed_source: get(r, "seed_source")?,
        seed_hash: get(r, "seed_hash")?,
        algorithm: get(r, "algorithm")?,
        algorithm_version: i64::from(get::<i32>(r, "algorithm_version")?),
        sampling: json_col(r, "sampling")?,
        team_size: i64::from(get::<i32>(r, "team_size")?),
        candidates_count: get(r, "candidates_count")?,
        candidates_sha256: get(r, "candidates_sha256")?,
        inspectors: json_col(r, "inspectors")?,
        inspectors_sha256: get(r, "inspectors_sha256")?,
        outcome: json_col(r, "outcome")?,
        drawn_by: get(r, "drawn_by")?,
        drawn_at: get(r, "drawn_at")?,
    })
}

const TASK_SELECT: &str = "SELECT t.id, t.plan_id, p.name AS plan_name, t.draw_id, t.seq, t.entity_id, \
    e.uscc, e.name AS entity_name, e.address, t.unit_id, t.team, t.status, t.outcome, t.note, \
    t.visited_at, t.lat, t.lng, t.publish_due, t.published_at \
    FROM inspection_task t JOIN inspection_plan p ON p.id = t.plan_id JOIN entity e ON e.id = t.entity_id \
    WHERE 1 = 1";

fn task_from(r: &DbRow) -> StoreResult<Task> {
    Ok(Task {
        id: get(r, "id")?,
        plan_id: get(r, "plan_id")?,
        plan_name: get(r, "plan_name")?,
        draw_id: get(r, "draw_id")?,
        seq: i64::from(get::<i32>(r, "seq")?),
        entity_id: get(r, "entity_id")?,
        uscc: get(r, "uscc")?,
        entity_name: get(r, "entity_name")?,
        address: get(r, "address")?,
        unit_id: get::<Option<i64>>(r, "unit_id")?.map(UnitId),
        team: ids_parse(&get::<String>(r, "team")?)
            .into_iter()
            .map(UserId)
            .collect(),
        status: get(r, "status")?,
        outcome: get(r, "outcome")?,
        note: get(r, "note")?,
        visited_at: get(r, "visited_at")?,
        lat: get(r, "lat")?,
        lng: get(r, "lng")?,
        publish_due: get(r, "publish_due")?,
        published_at: get(r, "published_at")?,
    })
}

/// Task visibility: the office's scope, or membership of the team.
fn push_task_scope(qb: &mut QueryBuilder<'_, Db>, scope: &ScopeFilter, member: Option<UserId>) {
    if matches!(scope, ScopeFilter::All) {
        return;
    }
    qb.push(" AND ((TRUE");
    push_scope(qb, scope, "t.unit_id", None);
    qb.push(")");
    if let Some(u) = member {
        qb.push(
            " OR EXISTS (SELECT 1 FROM inspection_task_member m WHERE m.task_id = t.id AND m.user_id = ",
        )
        .push_bind(u.0)
        .push(")");
    }
    qb.push(")");
}

const HAZARD_COLS: &str = "id, unit_id, entity_id, place, task_id, category, description, state, \
    deadline, found_on, closed_on, created_by, updated_at";

fn hazard_from(r: &DbRow) -> StoreResult<Hazard> {
    Ok(Hazard {
        id: get(r, "id")?,
        unit_id: UnitId(get(r, "unit_id")?),
        entity_id: get(r, "entity_id")?,
        place: get(r, "place")?,
        task_id: get(r, "task_id")?,
        category: get(r, "category")?,
        description: get(r, "description")?,
        state: enum_col(
            &get::<String>(r, "state")?,
            HazardState::parse,
            "hazard.state",
        )?,
        deadline: get(r, "deadline")?,
        found_on: get(r, "found_on")?,
        closed_on: get(r, "closed_on")?,
        created_by: get(r, "created_by")?,
        updated_at: get(r, "updated_at")?,
    })
}

/// A bind value of a statement built as text (shared by sqlx and SQLite's on-thread reads).
pub(crate) enum SqlArg {
    Text(String),
    Int(i64),
    Time(chrono::DateTime<chrono::Utc>),
}

/// Where two candidate readers divide the `entity_draw` index, which is led by
/// status, office, kind and industry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SplitPoint {
    pub unit: i64,
    pub kind: String,
    pub industry: Option<String>,
}

/// One part of the candidate read, each one stretch of the `entity_draw`
/// index. Together the parts hold every row once: rows compare with the split
/// point as row values, and the only rows neither side holds — those of the
/// split point's office and kind with no industry, whose comparison is NULL —
/// are a part of their own. SQLite's readers use it; PostgreSQL reads in one
/// statement.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(dead_code)]
pub(crate) enum UnitSlice {
    /// Businesses placed in no office (whole-jurisdiction scopes only).
    Unplaced,
    /// Before the split point.
    Below(SplitPoint),
    /// The split point's office and kind, no industry (when it has one).
    NoIndustryAt(SplitPoint),
    /// The split point and after.
    From(SplitPoint),
}

impl UnitSlice {
    /// Whether rows of a scope's office may fall in this part: a limited
    /// scope's office list is cut down to these before the row values apply.
    fn may_hold(&self, unit: i64) -> bool {
        match self {
            Self::Unplaced => false,
            Self::Below(p) => unit <= p.unit,
            Self::NoIndustryAt(p) => unit == p.unit,
            Self::From(p) => unit >= p.unit,
        }
    }
}

/// The candidate query as SQL with `$n` placeholders and its values: active
/// businesses in scope matching the target, minus those visited since the cut-off.
///
/// `slice` keeps one part of the offices, so readers on several cores each walk
/// their own stretch of the `entity_draw` index (led by status and office).
pub(crate) fn candidate_sql(
    scope: &ScopeFilter,
    q: &CandidateQuery,
    slice: Option<&UnitSlice>,
) -> (String, Vec<SqlArg>) {
    let mut sql = String::from(
        "SELECT e.id, COALESCE(e.uscc, e.reg_no) AS code, COALESCE(e.risk_class, 'B') AS class, \
         e.grid, e.unit_id FROM entity e WHERE e.status = 'active'",
    );
    let mut args: Vec<SqlArg> = Vec::new();
    let bind = |args: &mut Vec<SqlArg>, a: SqlArg| {
        args.push(a);
        format!("${}", args.len())
    };
    if let ScopeFilter::Limited { units, .. } = scope {
        // Candidates are never a person's own records: only the unit part applies.
        sql.push_str(" AND e.unit_id IN (NULL");
        for u in units
            .iter()
            .filter(|u| slice.as_ref().is_none_or(|s| s.may_hold(u.0)))
        {
            sql.push_str(", ");
            sql.push_str(&bind(&mut args, SqlArg::Int(u.0)));
        }
        sql.push(')');
    }
    {
        match slice {
            None => {}
            Some(UnitSlice::Unplaced) => sql.push_str(" AND e.unit_id IS NULL"),
            // Row values against the split point: a range of the index.
            Some(UnitSlice::Below(p) | UnitSlice::From(p)) => {
                let op = if matches!(slice, Some(UnitSlice::Below(_))) {
                    "<"
                } else {
                    ">="
                };
                let u = bind(&mut args, SqlArg::Int(p.unit));
                let k = bind(&mut args, SqlArg::Text(p.kind.clone()));
                match &p.industry {
                    Some(i) => {
                        let i = bind(&mut args, SqlArg::Text(i.clone()));
                        sql.push_str(&format!(
                            " AND (e.unit_id, e.kind, e.industry) {op} ({u}, {k}, {i})"
                        ));
                    }
                    None => {
                        sql.push_str(&format!(" AND (e.unit_id, e.kind) {op} ({u}, {k})"));
                    }
                }
            }
            Some(UnitSlice::NoIndustryAt(p)) => {
                let u = bind(&mut args, SqlArg::Int(p.unit));
                let k = bind(&mut args, SqlArg::Text(p.kind.clone()));
                sql.push_str(&format!(
                    " AND e.unit_id = {u} AND e.kind = {k} AND e.industry IS NULL"
                ));
            }
        }
    }
    let t = &q.target;
    let any_of = |sql: &mut String,
                  args: &mut Vec<SqlArg>,
                  values: &[String],
                  f: &dyn Fn(&str) -> (String, Vec<String>)| {
        if values.is_empty() {
            return;
        }
        sql.push_str(" AND (FALSE");
        for v in values {
            let (cond, vals) = f(v);
            let mut cond = cond;
            for (i, val) in vals.into_iter().enumerate() {
                cond = cond.replace(&format!("{{{i}}}"), &bind(args, SqlArg::Text(val)));
            }
            sql.push_str(" OR ");
            sql.push_str(&cond);
        }
        sql.push(')');
    };
    any_of(&mut sql, &mut args, &t.divisions, &|d| {
        let p = format!("{}%", super::like_escape(d));
        (
            "e.township_code LIKE {0} ESCAPE '\\' OR e.county_code LIKE {1} ESCAPE '\\'".into(),
            vec![p.clone(), p],
        )
    });
    any_of(&mut sql, &mut args, &t.industries, &|i| {
        (
            "e.industry LIKE {0} ESCAPE '\\'".into(),
            vec![format!("{}%", super::like_escape(i))],
        )
    });
    let kinds: Vec<String> = t.kinds.iter().map(|k| k.as_str().to_owned()).collect();
    any_of(&mut sql, &mut args, &kinds, &|k| {
        ("e.kind = {0}".into(), vec![k.to_owned()])
    });
    any_of(&mut sql, &mut args, &t.tags, &|tag| {
        (
            "(' ' || e.tags || ' ') LIKE {0} ESCAPE '\\'".into(),
            vec![format!("% {} %", super::like_escape(tag))],
        )
    });
    if let Some(since) = q.visited_since {
        let at = bind(
            &mut args,
            SqlArg::Time(since.and_hms_opt(0, 0, 0).expect("midnight").and_utc()),
        );
        sql.push_str(&format!(
            " AND NOT EXISTS (SELECT 1 FROM inspection_task vt WHERE vt.entity_id = e.id AND vt.visited_at >= {at})"
        ));
    }
    (sql, args)
}

/// Stores an upload and its audit row inside the caller's transaction.
pub(super) async fn insert_file(
    conn: &mut super::Conn,
    ctx: &AuditCtx,
    f: &NewFile,
) -> StoreResult<StoredFile> {
    let r = sqlx::query(&format!(
        "INSERT INTO stored_file (sha256, name, content_type, size, data, unit_id, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {FILE_COLS}"
    ))
    .bind(&f.sha256)
    .bind(&f.name)
    .bind(&f.content_type)
    .bind(f.data.len() as i64)
    .bind(&f.data)
    .bind(f.unit_id.0)
    .bind(ctx.actor_user_id.map(|u| u.0))
    .bind(now())
    .fetch_one(&mut *conn)
    .await
    .map_err(map_err)?;
    let file = file_from(&r)?;
    append_audit(
        conn,
        ctx,
        &AuditChange::new::<(), _>("file.upload", "stored_file", file.id, None, Some(&file)),
    )
    .await?;
    Ok(file)
}

/// Moves a hazard one step (if it is still in `s.from`) with its event and
/// audit row, inside the caller's transaction.
pub(super) async fn step_hazard(
    conn: &mut super::Conn,
    ctx: &AuditCtx,
    before: &Hazard,
    s: &HazardStep,
) -> StoreResult<Hazard> {
    let at = now();
    let closed_on: Option<NaiveDate> = (s.to == HazardState::Closed).then_some(s.today);
    let deadline = if s.to == HazardState::Ordered {
        s.deadline
    } else {
        before.deadline
    };
    let r = sqlx::query(&format!(
        "UPDATE hazard SET state = $1, deadline = $2, closed_on = $3, updated_at = $4 \
         WHERE id = $5 AND state = $6 RETURNING {HAZARD_COLS}"
    ))
    .bind(s.to.as_str())
    .bind(deadline)
    .bind(closed_on)
    .bind(at)
    .bind(before.id)
    .bind(s.from.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(map_err)?
    .ok_or(StoreError::Conflict {
        field: "state".into(),
    })?;
    let after = hazard_from(&r)?;
    sqlx::query(
        "INSERT INTO hazard_event (hazard_id, at, actor_name, action, state, note, evidence, deadline) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(before.id)
    .bind(at)
    .bind(&ctx.actor_name)
    .bind(&s.action)
    .bind(s.to.as_str())
    .bind(&s.note)
    .bind(join_list(&s.evidence))
    .bind(s.deadline)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    append_audit(
        conn,
        ctx,
        &AuditChange::new(
            &format!("hazard.{}", s.action),
            "hazard",
            before.id,
            Some(before),
            Some(&after),
        ),
    )
    .await?;
    Ok(after)
}

/// A new hazard, its first event and its audit row, inside the caller's transaction.
pub(super) async fn insert_hazard(
    conn: &mut super::Conn,
    ctx: &AuditCtx,
    h: &NewHazard,
) -> StoreResult<Hazard> {
    let at = now();
    let r = sqlx::query(&format!(
        "INSERT INTO hazard (unit_id, entity_id, place, task_id, category, description, state, found_on, \
         created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'reported', $7, $8, $9, $9) \
         RETURNING {HAZARD_COLS}"
    ))
    .bind(h.unit_id.0)
    .bind(h.entity_id)
    .bind(&h.place)
    .bind(h.task_id)
    .bind(&h.category)
    .bind(&h.description)
    .bind(h.found_on)
    .bind(&ctx.actor_name)
    .bind(at)
    .fetch_one(&mut *conn)
    .await
    .map_err(map_err)?;
    let hazard = hazard_from(&r)?;
    sqlx::query(
        "INSERT INTO hazard_event (hazard_id, at, actor_name, action, state, note) VALUES ($1, $2, $3, 'report', 'reported', $4)",
    )
    .bind(hazard.id)
    .bind(at)
    .bind(&ctx.actor_name)
    .bind(&h.description)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    append_audit(
        conn,
        ctx,
        &AuditChange::new::<(), _>("hazard.create", "hazard", hazard.id, None, Some(&hazard)),
    )
    .await?;
    Ok(hazard)
}

#[async_trait::async_trait]
impl InspectionStore for Backend {
    async fn put_item(
        &self,
        ctx: &AuditCtx,
        item: &NewInspectionItem,
    ) -> StoreResult<InspectionItem> {
        let mut tx = self.begin_write().await?;
        let at = now();
        let r = sqlx::query(
            "INSERT INTO inspection_item (code, name, department_id, legal_basis, kinds, industries, enabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, department_id = excluded.department_id, \
             legal_basis = excluded.legal_basis, kinds = excluded.kinds, industries = excluded.industries, \
             enabled = excluded.enabled, updated_at = excluded.updated_at \
             RETURNING id, code, name, department_id, legal_basis, kinds, industries, enabled",
        )
        .bind(&item.code)
        .bind(&item.name)
        .bind(item.department_id.map(|u| u.0))
        .bind(&item.legal_basis)
        .bind(join_list(&item.kinds))
        .bind(join_list(&item.industries))
        .bind(item.enabled)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        let saved = item_from(&r)?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), _>(
                "inspection.item.put",
                "inspection_item",
                saved.id,
                None,
                Some(&saved),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(saved)
    }

    async fn list_items(&self) -> StoreResult<Vec<InspectionItem>> {
        sqlx::query(
            "SELECT id, code, name, department_id, legal_basis, kinds, industries, enabled \
             FROM inspection_item ORDER BY code",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?
        .iter()
        .map(item_from)
        .collect()
    }

    async fn put_conflict(
        &self,
        ctx: &AuditCtx,
        user: UserId,
        uscc: &str,
        reason: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO inspector_conflict (user_id, uscc, reason, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, uscc) DO UPDATE SET reason = excluded.reason",
        )
        .bind(user.0)
        .bind(uscc)
        .bind(reason)
        .bind(now())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), _>(
                "inspection.conflict.put",
                "app_user",
                user.0,
                None,
                Some(&serde_json::json!({ "uscc": uscc, "reason": reason })),
            ),
        )
        .await?;
        tx.commit().await
    }

    async fn create_plan(&self, ctx: &AuditCtx, p: &NewPlan) -> StoreResult<InspectionPlan> {
        let mut tx = self.begin_write().await?;
        let at = now();
        let r = sqlx::query(&format!(
            "INSERT INTO inspection_plan (unit_id, name, departments, items, target, sampling, exclude_months, \
             team_size, pool, publish_days, status, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'draft', $11, $12, $12) RETURNING {PLAN_COLS}"
        ))
        .bind(p.unit_id.0)
        .bind(&p.name)
        .bind(ids_text(&p.departments, |u| u.0))
        .bind(ids_text(&p.items, |i| i))
        .bind(serde_json::to_string(&p.target).map_err(|e| StoreError::Other(e.to_string()))?)
        .bind(p.sampling.to_string())
        .bind(p.exclude_months as i32)
        .bind(p.team_size as i32)
        .bind(ids_text(&p.pool, |u| u.0))
        .bind(p.publish_days as i32)
        .bind(&ctx.actor_name)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        let plan = plan_from(&r)?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), _>(
                "inspection.plan.create",
                "inspection_plan",
                plan.id,
                None,
                Some(&plan),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(plan)
    }

    async fn get_plan(&self, scope: &ScopeFilter, id: i64) -> StoreResult<InspectionPlan> {
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {PLAN_COLS} FROM inspection_plan WHERE id = "
        ));
        qb.push_bind(id);
        push_scope(&mut qb, scope, "unit_id", None);
        plan_from(&qb.build().fetch_one(&self.pool).await.map_err(map_err)?)
    }

    async fn list_plans(
        &self,
        scope: &ScopeFilter,
        paging: Paging,
    ) -> StoreResult<Page<InspectionPlan>> {
        let mut qb =
            QueryBuilder::<Db>::new("SELECT COUNT(*) AS n FROM inspection_plan WHERE 1 = 1");
        push_scope(&mut qb, scope, "unit_id", None);
        let total: i64 = get(
            &qb.build().fetch_one(&self.pool).await.map_err(map_err)?,
            "n",
        )?;
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {PLAN_COLS} FROM inspection_plan WHERE 1 = 1"
        ));
        push_scope(&mut qb, scope, "unit_id", None);
        qb.push(" ORDER BY id DESC LIMIT ")
            .push_bind(paging.per_page)
            .push(" OFFSET ")
            .push_bind(paging.offset());
        let items = qb
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(plan_from)
            .collect::<StoreResult<_>>()?;
        Ok(Page {
            items,
            total,
            page: paging.page,
            per_page: paging.per_page,
        })
    }

    async fn draw_candidates(
        &self,
        scope: &ScopeFilter,
        q: &CandidateQuery,
    ) -> StoreResult<DrawCandidates> {
        if let Some(fast) = self.fast_draw_candidates(scope, q).await {
            return fast;
        }
        let (sql, args) = candidate_sql(scope, q, None);
        let mut query = sqlx::query(&sql);
        for a in args {
            query = match a {
                SqlArg::Text(t) => query.bind(t),
                SqlArg::Int(i) => query.bind(i),
                SqlArg::Time(t) => query.bind(t),
            };
        }
        let rows = query.fetch_all(&self.pool).await.map_err(map_err)?;
        let mut out = DrawCandidates::with_capacity(rows.len());
        for r in &rows {
            out.push(
                get(r, "id")?,
                &get::<String>(r, "code")?,
                &get::<String>(r, "class")?,
                get::<Option<String>>(r, "grid")?.as_deref(),
                get::<Option<i64>>(r, "unit_id")?.map(UnitId),
            );
        }
        Ok(out)
    }

    async fn pool_members(&self, users: &[UserId]) -> StoreResult<Vec<PoolMember>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT u.id, u.display_name, u.unit_id, u.cert_no, \
             CASE WHEN n.kind = 'grid' THEN n.code END AS grid \
             FROM app_user u JOIN unit n ON n.id = u.unit_id WHERE u.enabled AND u.id IN (",
        );
        let mut list = qb.separated(", ");
        for u in users {
            list.push_bind(u.0);
        }
        qb.push(") ORDER BY u.id");
        let rows = qb.build().fetch_all(&self.pool).await.map_err(map_err)?;
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT user_id, uscc FROM inspector_conflict WHERE user_id IN (",
        );
        let mut list = qb.separated(", ");
        for u in users {
            list.push_bind(u.0);
        }
        qb.push(") ORDER BY uscc");
        let mut conflicts: HashMap<i64, Vec<String>> = HashMap::new();
        for r in qb.build().fetch_all(&self.pool).await.map_err(map_err)? {
            conflicts
                .entry(get(&r, "user_id")?)
                .or_default()
                .push(get(&r, "uscc")?);
        }
        rows.iter()
            .map(|r| {
                let id: i64 = get(r, "id")?;
                Ok(PoolMember {
                    user_id: UserId(id),
                    display_name: get(r, "display_name")?,
                    unit_id: UnitId(get(r, "unit_id")?),
                    cert_no: get(r, "cert_no")?,
                    grid: get(r, "grid")?,
                    conflicts: conflicts.remove(&id).unwrap_or_default(),
                })
            })
            .collect()
    }

    async fn save_draw(
        &self,
        ctx: &AuditCtx,
        d: NewDraw,
        list: PackedList,
        tasks: Vec<NewTask>,
    ) -> StoreResult<Draw> {
        // The backend's own path where it has one (SQLite: prepared statements
        // stepped on a connection of its own).
        let (d, list, tasks) = match self.save_draw_bulk(ctx, d, list, tasks).await? {
            Ok(draw) => return Ok(draw),
            Err(back) => back,
        };
        let started = std::time::Instant::now();
        let lap = |what: &str| save_lap(started, what);
        // See BulkTx: on SQLite without a check of each task's references
        // and with the WAL checkpoint after the commit.
        let mut tx = self.begin_bulk_write().await?;
        let at = now();
        let sampling = d.sampling.to_string();
        let inspectors = d.inspectors.to_string();
        let outcome = d.outcome.to_string();
        let r = sqlx::query(DRAW_INSERT)
            .bind(d.plan_id)
            .bind(d.unit_id.0)
            .bind(&d.kind)
            .bind(&d.seed)
            .bind(&d.seed_source)
            .bind(&d.seed_hash)
            .bind(&d.algorithm)
            .bind(d.algorithm_version as i32)
            .bind(&sampling)
            .bind(d.team_size as i32)
            .bind(d.candidates_count)
            .bind(&d.candidates_sha256)
            .bind(&inspectors)
            .bind(&d.inspectors_sha256)
            .bind(&outcome)
            .bind(&ctx.actor_name)
            .bind(at)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        let draw = draw_written(get(&r, "id")?, d, ctx, at);
        lap("draw row");
        for (chunk, bytes) in list.chunks.iter().enumerate() {
            sqlx::query(DRAW_LIST_INSERT)
                .bind(draw.id)
                .bind(chunk as i32)
                .bind(bytes.as_slice())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        if let Some(plan_id) = draw.plan_id {
            lap("list");
            crate::insert_draw_tasks(&mut tx, plan_id, draw.id, at, &tasks).await?;
            lap("tasks and members");
            sqlx::query(PLAN_DRAWN)
                .bind(at)
                .bind(plan_id)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        append_audit(&mut tx, ctx, &draw_audit(&draw, tasks.len())).await?;
        lap("plan, audit");
        tx.commit().await?;
        lap("commit");
        Ok(draw)
    }

    async fn get_draw(&self, scope: &ScopeFilter, id: i64) -> StoreResult<Draw> {
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {DRAW_COLS} FROM inspection_draw WHERE id = "
        ));
        qb.push_bind(id);
        push_scope(&mut qb, scope, "unit_id", None);
        draw_from(&qb.build().fetch_one(&self.pool).await.map_err(map_err)?)
    }

    async fn draw_of_plan(&self, scope: &ScopeFilter, plan_id: i64) -> StoreResult<Draw> {
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {DRAW_COLS} FROM inspection_draw WHERE kind = 'plan' AND plan_id = "
        ));
        qb.push_bind(plan_id);
        push_scope(&mut qb, scope, "unit_id", None);
        draw_from(&qb.build().fetch_one(&self.pool).await.map_err(map_err)?)
    }

    async fn draw_list(&self, draw_id: i64) -> StoreResult<String> {
        let rows = sqlx::query(
            "SELECT data, lz4 FROM inspection_draw_list WHERE draw_id = $1 ORDER BY chunk",
        )
        .bind(draw_id)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let mut out = String::new();
        for r in &rows {
            // Lists written before migration 0010 are plain text.
            match get::<Option<Vec<u8>>>(r, "lz4")? {
                Some(packed) => {
                    out.push_str(&PackedList::unpack(&packed).map_err(StoreError::Other)?)
                }
                None => out.push_str(&get::<String>(r, "data")?),
            }
        }
        Ok(out)
    }

    async fn list_tasks(&self, scope: &ScopeFilter, q: &TaskQuery) -> StoreResult<Page<Task>> {
        let build = |qb: &mut QueryBuilder<'_, Db>| {
            push_task_scope(qb, scope, q.member);
            if let Some(p) = q.plan_id {
                qb.push(" AND t.plan_id = ").push_bind(p);
            }
            if let Some(u) = q.member {
                qb.push(" AND EXISTS (SELECT 1 FROM inspection_task_member mm WHERE mm.task_id = t.id AND mm.user_id = ")
                    .push_bind(u.0)
                    .push(")");
            }
            if let Some(s) = &q.status {
                qb.push(" AND t.status = ").push_bind(s.clone());
            }
            if let Some(today) = q.publication_overdue {
                qb.push(" AND t.status = 'done' AND t.published_at IS NULL AND t.publish_due < ")
                    .push_bind(today);
            }
        };
        let mut qb =
            QueryBuilder::<Db>::new("SELECT COUNT(*) AS n FROM inspection_task t WHERE 1 = 1");
        build(&mut qb);
        let total: i64 = get(
            &qb.build().fetch_one(&self.pool).await.map_err(map_err)?,
            "n",
        )?;
        let mut qb = QueryBuilder::<Db>::new(TASK_SELECT);
        build(&mut qb);
        qb.push(" ORDER BY t.plan_id DESC, t.seq LIMIT ")
            .push_bind(q.paging.per_page)
            .push(" OFFSET ")
            .push_bind(q.paging.offset());
        let items = qb
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(task_from)
            .collect::<StoreResult<_>>()?;
        Ok(Page {
            items,
            total,
            page: q.paging.page,
            per_page: q.paging.per_page,
        })
    }

    async fn get_task(
        &self,
        scope: &ScopeFilter,
        member: Option<UserId>,
        id: i64,
    ) -> StoreResult<Task> {
        let mut qb = QueryBuilder::<Db>::new(TASK_SELECT);
        qb.push(" AND t.id = ").push_bind(id);
        push_task_scope(&mut qb, scope, member);
        task_from(&qb.build().fetch_one(&self.pool).await.map_err(map_err)?)
    }

    async fn task_records(&self, task_id: i64) -> StoreResult<Vec<ItemRecord>> {
        sqlx::query("SELECT item_id, verdict, note, photos FROM inspection_record WHERE task_id = $1 ORDER BY item_id")
            .bind(task_id)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(|r| {
                Ok(ItemRecord {
                    item_id: get(r, "item_id")?,
                    verdict: get(r, "verdict")?,
                    note: get(r, "note")?,
                    photos: split_list(&get::<String>(r, "photos")?),
                })
            })
            .collect()
    }

    async fn record_task(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        member: Option<UserId>,
        id: i64,
        res: &TaskResult,
    ) -> StoreResult<Task> {
        self.get_task(scope, member, id).await?;
        let mut tx = self.begin_write().await?;
        let at = now();
        let done = sqlx::query(
            "UPDATE inspection_task SET status = 'done', outcome = $1, note = $2, visited_at = $3, lat = $4, \
             lng = $5, publish_due = $6, updated_at = $7 WHERE id = $8 AND status = 'assigned'",
        )
        .bind(&res.outcome)
        .bind(&res.note)
        .bind(res.visited_at)
        .bind(res.lat)
        .bind(res.lng)
        .bind(res.publish_due)
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected();
        if done == 0 {
            return Err(StoreError::Conflict {
                field: "status".into(),
            });
        }
        for rec in &res.records {
            sqlx::query(
                "INSERT INTO inspection_record (task_id, item_id, verdict, note, photos, recorded_by, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(rec.item_id)
            .bind(&rec.verdict)
            .bind(&rec.note)
            .bind(join_list(&rec.photos))
            .bind(&ctx.actor_name)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        for h in &res.hazards {
            let mut h = h.clone();
            h.task_id = Some(id);
            insert_hazard(&mut tx, ctx, &h).await?;
        }
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), _>(
                "inspection.task.record",
                "inspection_task",
                id,
                None,
                Some(&serde_json::json!({ "outcome": res.outcome, "records": res.records })),
            ),
        )
        .await?;
        tx.commit().await?;
        self.get_task(&ScopeFilter::All, None, id).await
    }

    async fn publish_task(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        id: i64,
    ) -> StoreResult<Task> {
        self.get_task(scope, None, id).await?;
        let mut tx = self.begin_write().await?;
        let at = now();
        let n = sqlx::query(
            "UPDATE inspection_task SET published_at = $1, updated_at = $1 \
             WHERE id = $2 AND status = 'done' AND published_at IS NULL",
        )
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict {
                field: "status".into(),
            });
        }
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), ()>(
                "inspection.task.publish",
                "inspection_task",
                id,
                None,
                None,
            ),
        )
        .await?;
        tx.commit().await?;
        self.get_task(&ScopeFilter::All, None, id).await
    }

    async fn public_inspections(&self, uscc: &str) -> StoreResult<Vec<PublicInspection>> {
        sqlx::query(
            "SELECT e.uscc, e.name AS entity_name, p.name AS plan_name, b.name AS authority, t.visited_at, \
             t.outcome, t.published_at FROM inspection_task t JOIN entity e ON e.id = t.entity_id \
             JOIN inspection_plan p ON p.id = t.plan_id JOIN unit b ON b.id = p.unit_id \
             WHERE e.uscc = $1 AND t.published_at IS NOT NULL ORDER BY t.visited_at DESC",
        )
        .bind(uscc)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?
        .iter()
        .map(|r| {
            let visited: chrono::DateTime<chrono::Utc> = get(r, "visited_at")?;
            Ok(PublicInspection {
                uscc: get(r, "uscc")?,
                entity_name: get(r, "entity_name")?,
                plan_name: get(r, "plan_name")?,
                authority: get(r, "authority")?,
                visited_on: visited.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("+8")).date_naive(),
                outcome: get(r, "outcome")?,
                published_at: get(r, "published_at")?,
            })
        })
        .collect()
    }

    async fn create_hazard(&self, ctx: &AuditCtx, h: &NewHazard) -> StoreResult<Hazard> {
        let mut tx = self.begin_write().await?;
        let hazard = insert_hazard(&mut tx, ctx, h).await?;
        tx.commit().await?;
        Ok(hazard)
    }

    async fn get_hazard(
        &self,
        scope: &ScopeFilter,
        id: i64,
    ) -> StoreResult<(Hazard, Vec<HazardEvent>)> {
        let mut qb =
            QueryBuilder::<Db>::new(format!("SELECT {HAZARD_COLS} FROM hazard WHERE id = "));
        qb.push_bind(id);
        push_scope(&mut qb, scope, "unit_id", None);
        let hazard = hazard_from(&qb.build().fetch_one(&self.pool).await.map_err(map_err)?)?;
        let events = sqlx::query(
            "SELECT id, at, actor_name, action, state, note, evidence, deadline FROM hazard_event \
             WHERE hazard_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?
        .iter()
        .map(|r| {
            Ok(HazardEvent {
                id: get(r, "id")?,
                at: get(r, "at")?,
                actor_name: get(r, "actor_name")?,
                action: get(r, "action")?,
                state: enum_col(
                    &get::<String>(r, "state")?,
                    HazardState::parse,
                    "hazard_event.state",
                )?,
                note: get(r, "note")?,
                evidence: split_list(&get::<String>(r, "evidence")?),
                deadline: get(r, "deadline")?,
            })
        })
        .collect::<StoreResult<_>>()?;
        Ok((hazard, events))
    }

    async fn hazard_step(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        id: i64,
        s: &HazardStep,
    ) -> StoreResult<Hazard> {
        let (before, _) = self.get_hazard(scope, id).await?;
        let mut tx = self.begin_write().await?;
        let after = step_hazard(&mut tx, ctx, &before, s).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn list_hazards(
        &self,
        scope: &ScopeFilter,
        q: &HazardQuery,
    ) -> StoreResult<Page<Hazard>> {
        let build = |qb: &mut QueryBuilder<'_, Db>| {
            push_scope(qb, scope, "unit_id", None);
            if let Some(s) = q.state {
                qb.push(" AND state = ").push_bind(s.as_str());
            }
            if let Some(u) = q.unit_id {
                qb.push(" AND unit_id = ").push_bind(u.0);
            }
            if let Some(c) = &q.category {
                qb.push(" AND category = ").push_bind(c.clone());
            }
            if let Some(today) = q.overdue {
                qb.push(" AND state IN ('reported', 'ordered') AND deadline < ")
                    .push_bind(today);
            }
            if let Some((from, to)) = q.closed_between {
                qb.push(" AND state = 'closed' AND closed_on >= ")
                    .push_bind(from)
                    .push(" AND closed_on <= ")
                    .push_bind(to);
            }
        };
        let mut qb = QueryBuilder::<Db>::new("SELECT COUNT(*) AS n FROM hazard WHERE 1 = 1");
        build(&mut qb);
        let total: i64 = get(
            &qb.build().fetch_one(&self.pool).await.map_err(map_err)?,
            "n",
        )?;
        let mut qb =
            QueryBuilder::<Db>::new(format!("SELECT {HAZARD_COLS} FROM hazard WHERE 1 = 1"));
        build(&mut qb);
        qb.push(" ORDER BY id DESC LIMIT ")
            .push_bind(q.paging.per_page)
            .push(" OFFSET ")
            .push_bind(q.paging.offset());
        let items = qb
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(hazard_from)
            .collect::<StoreResult<_>>()?;
        Ok(Page {
            items,
            total,
            page: q.paging.page,
            per_page: q.paging.per_page,
        })
    }

    async fn hazard_days(
        &self,
        scope: &ScopeFilter,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<HazardDay>> {
        let mut out: std::collections::BTreeMap<(i64, NaiveDate), (i64, i64)> = Default::default();
        for (col, found) in [("found_on", true), ("closed_on", false)] {
            let mut qb = QueryBuilder::<Db>::new(format!(
                "SELECT unit_id, {col} AS day, COUNT(*) AS n FROM hazard WHERE {col} >= "
            ));
            qb.push_bind(from)
                .push(format!(" AND {col} <= "))
                .push_bind(to);
            push_scope(&mut qb, scope, "unit_id", None);
            qb.push(format!(" GROUP BY unit_id, {col}"));
            for r in qb.build().fetch_all(&self.pool).await.map_err(map_err)? {
                let e = out
                    .entry((get(&r, "unit_id")?, get(&r, "day")?))
                    .or_default();
                let n: i64 = get(&r, "n")?;
                if found {
                    e.0 += n;
                } else {
                    e.1 += n;
                }
            }
        }
        Ok(out
            .into_iter()
            .map(|((u, day), (found, closed))| HazardDay {
                unit_id: UnitId(u),
                day,
                found,
                closed,
            })
            .collect())
    }
}

const FILE_COLS: &str = "id, sha256, name, content_type, size, unit_id, created_by, created_at";

fn file_from(r: &DbRow) -> StoreResult<StoredFile> {
    Ok(StoredFile {
        id: get(r, "id")?,
        sha256: get(r, "sha256")?,
        name: get(r, "name")?,
        content_type: get(r, "content_type")?,
        size: get(r, "size")?,
        unit_id: UnitId(get(r, "unit_id")?),
        created_by: get::<Option<i64>>(r, "created_by")?.map(UserId),
        created_at: get(r, "created_at")?,
    })
}

#[async_trait::async_trait]
impl FileStore for Backend {
    async fn put_file(&self, ctx: &AuditCtx, f: &NewFile) -> StoreResult<StoredFile> {
        let mut tx = self.begin_write().await?;
        let file = insert_file(&mut tx, ctx, f).await?;
        tx.commit().await?;
        Ok(file)
    }

    async fn get_file(&self, scope: &ScopeFilter, id: i64) -> StoreResult<(StoredFile, Vec<u8>)> {
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {FILE_COLS}, data FROM stored_file WHERE id = "
        ));
        qb.push_bind(id);
        push_scope(&mut qb, scope, "unit_id", Some("created_by"));
        let r = qb.build().fetch_one(&self.pool).await.map_err(map_err)?;
        Ok((file_from(&r)?, get(&r, "data")?))
    }

    async fn file_info(&self, scope: &ScopeFilter, ids: &[i64]) -> StoreResult<Vec<StoredFile>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb =
            QueryBuilder::<Db>::new(format!("SELECT {FILE_COLS} FROM stored_file WHERE id IN ("));
        let mut list = qb.separated(", ");
        for i in ids {
            list.push_bind(*i);
        }
        qb.push(")");
        push_scope(&mut qb, scope, "unit_id", Some("created_by"));
        qb.build()
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(file_from)
            .collect()
    }
}
