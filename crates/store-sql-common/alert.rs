//! AI capture alerts: merged ingest, triage (a confirmed alert opens a hazard
//! with its rectification order in the same transaction), false-positive
//! tallies; the hazard reply link.
use super::inspection::{insert_file, insert_hazard, step_hazard};
use super::{append_audit, enum_col, get, now, push_scope, DbRow};
use crate::{map_err, Backend, Db};
use chrono::{Duration, NaiveDate};
use hongdun_core::alert::AlertStatus;
use hongdun_core::ids::UnitId;
use hongdun_core::inspection::HazardState;
use hongdun_store::*;
use sqlx::QueryBuilder;

const ALERT_COLS: &str = "a.id, a.camera_id, c.device_id, c.place, a.entity_id, e.name AS entity_name, \
    e.uscc, a.unit_id, a.kind, a.vendor, a.first_at, a.last_at, a.repeats, a.confidence, \
    a.snapshot_id, a.status, a.triaged_by, a.triaged_at, a.note, a.hazard_id, h.state AS hazard_state";
const ALERT_FROM: &str = "ai_alert a JOIN camera c ON c.id = a.camera_id \
    JOIN entity e ON e.id = a.entity_id LEFT JOIN hazard h ON h.id = a.hazard_id";

fn alert_from(r: &DbRow) -> StoreResult<Alert> {
    let hazard_state: Option<String> = get(r, "hazard_state")?;
    Ok(Alert {
        id: get(r, "id")?,
        camera_id: get(r, "camera_id")?,
        device_id: get(r, "device_id")?,
        place: get(r, "place")?,
        entity_id: get(r, "entity_id")?,
        entity_name: get(r, "entity_name")?,
        uscc: get(r, "uscc")?,
        unit_id: UnitId(get(r, "unit_id")?),
        kind: get(r, "kind")?,
        vendor: get(r, "vendor")?,
        first_at: get(r, "first_at")?,
        last_at: get(r, "last_at")?,
        repeats: get(r, "repeats")?,
        confidence: get(r, "confidence")?,
        snapshot_id: get(r, "snapshot_id")?,
        status: enum_col(
            &get::<String>(r, "status")?,
            AlertStatus::parse,
            "ai_alert.status",
        )?,
        triaged_by: get(r, "triaged_by")?,
        triaged_at: get(r, "triaged_at")?,
        note: get(r, "note")?,
        hazard_id: get(r, "hazard_id")?,
        hazard_state: hazard_state
            .map(|s| enum_col(&s, HazardState::parse, "hazard.state"))
            .transpose()?,
    })
}

impl Backend {
    async fn alert_by_id<'e, E>(ex: E, scope: &ScopeFilter, id: i64) -> StoreResult<Alert>
    where
        E: sqlx::Executor<'e, Database = Db>,
    {
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {ALERT_COLS} FROM {ALERT_FROM} WHERE a.id = "
        ));
        qb.push_bind(id);
        push_scope(&mut qb, scope, "a.unit_id", None);
        alert_from(&qb.build().fetch_one(ex).await.map_err(map_err)?)
    }

    /// Marks a pending alert triaged; a conflict when someone was first.
    async fn triage_in_tx(
        conn: &mut super::Conn,
        ctx: &AuditCtx,
        before: &Alert,
        status: AlertStatus,
        note: Option<&str>,
        hazard_id: Option<i64>,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE ai_alert SET status = $1, triaged_by = $2, triaged_at = $3, note = $4, \
             hazard_id = $5 WHERE id = $6 AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(&ctx.actor_name)
        .bind(now())
        .bind(note)
        .bind(hazard_id)
        .bind(before.id)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict {
                field: "status".into(),
            });
        }
        let after = Self::alert_by_id(&mut *conn, &ScopeFilter::All, before.id).await?;
        append_audit(
            conn,
            ctx,
            &AuditChange::new(
                &format!("alert.{}", status.as_str()),
                "ai_alert",
                before.id,
                Some(before),
                Some(&after),
            ),
        )
        .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl AlertStore for Backend {
    async fn ingest_alerts(
        &self,
        ctx: &AuditCtx,
        alerts: &[NewAlert],
        window_secs: i64,
    ) -> StoreResult<Vec<AlertAccepted>> {
        let mut tx = self.begin_write().await?;
        let mut out = Vec::with_capacity(alerts.len());
        let window = Duration::seconds(window_secs);
        for a in alerts {
            let hit = sqlx::query(
                "SELECT id, first_at, last_at, confidence, snapshot_id FROM ai_alert \
                 WHERE camera_id = $1 AND kind = $2 AND status = 'pending' \
                 AND last_at >= $3 AND first_at <= $4 ORDER BY last_at DESC LIMIT 1",
            )
            .bind(a.camera_id)
            .bind(&a.kind)
            .bind(a.at - window)
            .bind(a.at + window)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
            if let Some(r) = hit {
                let id: i64 = get(&r, "id")?;
                let first: chrono::DateTime<chrono::Utc> = get(&r, "first_at")?;
                let last: chrono::DateTime<chrono::Utc> = get(&r, "last_at")?;
                let conf: f64 = get(&r, "confidence")?;
                let snap: Option<i64> = get(&r, "snapshot_id")?;
                let snapshot_id = match (snap, &a.snapshot) {
                    (None, Some(f)) => Some(insert_file(&mut tx, ctx, f).await?.id),
                    (s, _) => s,
                };
                sqlx::query(
                    "UPDATE ai_alert SET repeats = repeats + 1, first_at = $1, last_at = $2, \
                     confidence = $3, snapshot_id = $4 WHERE id = $5",
                )
                .bind(first.min(a.at))
                .bind(last.max(a.at))
                .bind(conf.max(a.confidence))
                .bind(snapshot_id)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                out.push(AlertAccepted {
                    alert_id: id,
                    merged: true,
                });
                continue;
            }
            let snapshot_id = match &a.snapshot {
                Some(f) => Some(insert_file(&mut tx, ctx, f).await?.id),
                None => None,
            };
            let r = sqlx::query(
                "INSERT INTO ai_alert (camera_id, entity_id, unit_id, kind, vendor, first_at, last_at, \
                 repeats, confidence, snapshot_id, status, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6, 1, $7, $8, 'pending', $9) RETURNING id",
            )
            .bind(a.camera_id)
            .bind(a.entity_id)
            .bind(a.unit_id.0)
            .bind(&a.kind)
            .bind(&a.vendor)
            .bind(a.at)
            .bind(a.confidence)
            .bind(snapshot_id)
            .bind(now())
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
            out.push(AlertAccepted {
                alert_id: get(&r, "id")?,
                merged: false,
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn get_alert(&self, scope: &ScopeFilter, id: i64) -> StoreResult<Alert> {
        Self::alert_by_id(&self.pool, scope, id).await
    }

    async fn list_alerts(&self, scope: &ScopeFilter, q: &AlertQuery) -> StoreResult<Page<Alert>> {
        let build = |qb: &mut QueryBuilder<'_, Db>| {
            push_scope(qb, scope, "a.unit_id", None);
            if let Some(s) = q.status {
                qb.push(" AND a.status = ").push_bind(s.as_str());
            }
            if let Some(k) = &q.kind {
                qb.push(" AND a.kind = ").push_bind(k.clone());
            }
            if let Some(u) = q.unit_id {
                qb.push(" AND a.unit_id = ").push_bind(u.0);
            }
            if let Some(e) = q.entity_id {
                qb.push(" AND a.entity_id = ").push_bind(e);
            }
            match q.open {
                Some(true) => {
                    qb.push(" AND a.status = 'confirmed' AND h.state <> 'closed'");
                }
                Some(false) => {
                    qb.push(" AND a.status = 'confirmed' AND h.state = 'closed'");
                }
                None => {}
            }
        };
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT COUNT(*) AS n FROM {ALERT_FROM} WHERE 1 = 1"
        ));
        build(&mut qb);
        let total: i64 = get(
            &qb.build().fetch_one(&self.pool).await.map_err(map_err)?,
            "n",
        )?;
        let mut qb =
            QueryBuilder::<Db>::new(format!("SELECT {ALERT_COLS} FROM {ALERT_FROM} WHERE 1 = 1"));
        build(&mut qb);
        qb.push(" ORDER BY a.last_at DESC, a.id DESC LIMIT ")
            .push_bind(q.paging.per_page)
            .push(" OFFSET ")
            .push_bind(q.paging.offset());
        let items = qb
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(alert_from)
            .collect::<StoreResult<_>>()?;
        Ok(Page {
            items,
            total,
            page: q.paging.page,
            per_page: q.paging.per_page,
        })
    }

    async fn dismiss_alert(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        id: i64,
        note: &str,
    ) -> StoreResult<Alert> {
        let before = self.get_alert(scope, id).await?;
        let mut tx = self.begin_write().await?;
        Self::triage_in_tx(
            &mut tx,
            ctx,
            &before,
            AlertStatus::Dismissed,
            Some(note),
            None,
        )
        .await?;
        tx.commit().await?;
        self.get_alert(scope, id).await
    }

    async fn confirm_alert(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        id: i64,
        note: Option<&str>,
        hazard: &NewHazard,
        order: &HazardStep,
    ) -> StoreResult<Alert> {
        let before = self.get_alert(scope, id).await?;
        let mut tx = self.begin_write().await?;
        let h = insert_hazard(&mut tx, ctx, hazard).await?;
        step_hazard(&mut tx, ctx, &h, order).await?;
        Self::triage_in_tx(
            &mut tx,
            ctx,
            &before,
            AlertStatus::Confirmed,
            note,
            Some(h.id),
        )
        .await?;
        tx.commit().await?;
        self.get_alert(scope, id).await
    }

    async fn alert_tallies(
        &self,
        scope: &ScopeFilter,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<AlertTally>> {
        let start = from.and_hms_opt(0, 0, 0).expect("midnight").and_utc() - Duration::hours(8);
        let end = to.and_hms_opt(0, 0, 0).expect("midnight").and_utc() + Duration::hours(16);
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT kind, vendor, \
             SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending, \
             SUM(CASE WHEN status = 'confirmed' THEN 1 ELSE 0 END) AS confirmed, \
             SUM(CASE WHEN status = 'dismissed' THEN 1 ELSE 0 END) AS dismissed \
             FROM ai_alert WHERE first_at >= ",
        );
        qb.push_bind(start).push(" AND first_at < ").push_bind(end);
        push_scope(&mut qb, scope, "unit_id", None);
        qb.push(" GROUP BY kind, vendor ORDER BY kind, vendor");
        qb.build()
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(|r| {
                Ok(AlertTally {
                    kind: get(r, "kind")?,
                    vendor: get(r, "vendor")?,
                    pending: get(r, "pending")?,
                    confirmed: get(r, "confirmed")?,
                    dismissed: get(r, "dismissed")?,
                })
            })
            .collect()
    }

    async fn set_reply_link(
        &self,
        ctx: &AuditCtx,
        hazard_id: i64,
        token_sha256: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM hazard_reply_link WHERE hazard_id = $1")
            .bind(hazard_id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query(
            "INSERT INTO hazard_reply_link (hazard_id, token_sha256, created_by, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(hazard_id)
        .bind(token_sha256)
        .bind(&ctx.actor_name)
        .bind(now())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), ()>("hazard.reply_link", "hazard", hazard_id, None, None),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn hazard_by_reply(&self, token_sha256: &str) -> StoreResult<i64> {
        let r = sqlx::query("SELECT hazard_id FROM hazard_reply_link WHERE token_sha256 = $1")
            .bind(token_sha256)
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        get(&r, "hazard_id")
    }
}
