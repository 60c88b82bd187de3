//! The hash-chained audit log. `audit_head` holds the chain's last position and
//! hash; updating it first takes its row lock, which serialises appends on both
//! backends without reading a stale "last row".
use super::{now, push_scope};
use crate::{map_err, Backend, Db};
use hongdun_core::audit::chain_hash;
use hongdun_store::{
    AuditChange, AuditCtx, AuditQuery, AuditRow, AuditStore, Page, ScopeFilter, StoreResult,
};
use sqlx::{QueryBuilder, Row};

/// Takes the chain's next position and hash (`seq`, `last_hash`).
pub(crate) const AUDIT_NEXT: &str =
    "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, last_hash";
/// Writes one chained row: `AuditRow`'s fields in order, $1-$13.
pub(crate) const AUDIT_INSERT: &str =
    "INSERT INTO audit_log (seq, at, actor_user_id, actor_name, unit_id, action, target_type, target_id, \
     before_data, after_data, request_id, prev_hash, hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
/// Moves the chain's head to the row just written ($1: its hash).
pub(crate) const AUDIT_HEAD: &str = "UPDATE audit_head SET last_hash = $1 WHERE id = 1";

/// The row that follows `prev` at position `seq`, its hash computed.
pub(crate) fn chained_row(
    seq: i64,
    prev: String,
    ctx: &AuditCtx,
    change: &AuditChange,
) -> AuditRow {
    let mut row = AuditRow {
        seq,
        at: now(),
        actor_user_id: ctx.actor_user_id.map(|u| u.0),
        actor_name: ctx.actor_name.clone(),
        unit_id: ctx.unit_id.map(|u| u.0),
        action: change.action.clone(),
        target_type: change.target_type.clone(),
        target_id: change.target_id.clone(),
        before: change.before.clone(),
        after: change.after.clone(),
        request_id: ctx.request_id.clone(),
        prev_hash: prev,
        hash: String::new(),
    };
    row.hash = chain_hash(&row.prev_hash, &row.fields(&AuditRow::at_text(&row.at)));
    row
}

/// Writes one audit row inside the caller's transaction.
pub(crate) async fn append_audit(
    conn: &mut <Db as sqlx::Database>::Connection,
    ctx: &AuditCtx,
    change: &AuditChange,
) -> StoreResult<i64> {
    let head = sqlx::query(AUDIT_NEXT)
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?;
    let seq: i64 = head.try_get("seq").map_err(map_err)?;
    let prev: String = head.try_get("last_hash").map_err(map_err)?;
    let row = chained_row(seq, prev, ctx, change);
    sqlx::query(AUDIT_INSERT)
        .bind(row.seq)
        .bind(row.at)
        .bind(row.actor_user_id)
        .bind(&row.actor_name)
        .bind(row.unit_id)
        .bind(&row.action)
        .bind(&row.target_type)
        .bind(&row.target_id)
        .bind(&row.before)
        .bind(&row.after)
        .bind(&row.request_id)
        .bind(&row.prev_hash)
        .bind(&row.hash)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    sqlx::query(AUDIT_HEAD)
        .bind(&row.hash)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    Ok(seq)
}

const COLS: &str = "seq, at, actor_user_id, actor_name, unit_id, action, target_type, target_id, \
                    before_data, after_data, request_id, prev_hash, hash";

fn from_row(r: &<Db as sqlx::Database>::Row) -> StoreResult<AuditRow> {
    Ok(AuditRow {
        seq: r.try_get("seq").map_err(map_err)?,
        at: r.try_get("at").map_err(map_err)?,
        actor_user_id: r.try_get("actor_user_id").map_err(map_err)?,
        actor_name: r.try_get("actor_name").map_err(map_err)?,
        unit_id: r.try_get("unit_id").map_err(map_err)?,
        action: r.try_get("action").map_err(map_err)?,
        target_type: r.try_get("target_type").map_err(map_err)?,
        target_id: r.try_get("target_id").map_err(map_err)?,
        before: r.try_get("before_data").map_err(map_err)?,
        after: r.try_get("after_data").map_err(map_err)?,
        request_id: r.try_get("request_id").map_err(map_err)?,
        prev_hash: r.try_get("prev_hash").map_err(map_err)?,
        hash: r.try_get("hash").map_err(map_err)?,
    })
}

fn push_filters(qb: &mut QueryBuilder<'_, Db>, scope: &ScopeFilter, q: &AuditQuery) {
    qb.push(" WHERE TRUE");
    push_scope(qb, scope, "unit_id", Some("actor_user_id"));
    if let Some(a) = &q.action {
        qb.push(" AND action = ").push_bind(a.clone());
    }
    if let Some(t) = &q.target_type {
        qb.push(" AND target_type = ").push_bind(t.clone());
    }
    if let Some(t) = &q.target_id {
        qb.push(" AND target_id = ").push_bind(t.clone());
    }
    if let Some(u) = q.actor_user_id {
        qb.push(" AND actor_user_id = ").push_bind(u.0);
    }
    if let Some(f) = q.from {
        qb.push(" AND at >= ").push_bind(f);
    }
    if let Some(t) = q.to {
        qb.push(" AND at < ").push_bind(t);
    }
}

#[async_trait::async_trait]
impl AuditStore for Backend {
    async fn list_audit(&self, scope: &ScopeFilter, q: &AuditQuery) -> StoreResult<Page<AuditRow>> {
        let mut count = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM audit_log");
        push_filters(&mut count, scope, q);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {COLS} FROM audit_log"));
        push_filters(&mut qb, scope, q);
        qb.push(" ORDER BY seq DESC LIMIT ")
            .push_bind(q.paging.per_page)
            .push(" OFFSET ")
            .push_bind(q.paging.offset());
        let rows = qb.build().fetch_all(&self.pool).await.map_err(map_err)?;
        Ok(Page {
            items: rows.iter().map(from_row).collect::<StoreResult<_>>()?,
            total,
            page: q.paging.page,
            per_page: q.paging.per_page,
        })
    }

    async fn audit_rows_after(&self, after: i64, limit: i64) -> StoreResult<Vec<AuditRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(from_row).collect()
    }

    async fn record_audit(&self, ctx: &AuditCtx, change: AuditChange) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let seq = append_audit(&mut tx, ctx, &change).await?;
        tx.commit().await?;
        Ok(seq)
    }

    async fn audit_head(&self) -> StoreResult<(i64, String)> {
        let r = sqlx::query("SELECT seq, last_hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        Ok((
            r.try_get("seq").map_err(map_err)?,
            r.try_get("last_hash").map_err(map_err)?,
        ))
    }
}
