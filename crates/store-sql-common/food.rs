//! 食安在线: seal keys, batches, uses, warnings and figures; kitchen cameras and
//! their heartbeat words.
use super::{append_audit, get, like_pattern, now, push_scope, DbRow};
use crate::{map_err, Backend, Db};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use hongdun_core::ids::UnitId;
use hongdun_store::*;
use sqlx::QueryBuilder;

const BATCH_COLS: &str = "b.id, b.key_id, b.entity_id, e.name AS entity_name, e.uscc, b.unit_id, \
    b.count, b.note, b.issued_on, b.created_by, b.created_at";
const BATCH_FROM: &str = "seal_batch b JOIN entity e ON e.id = b.entity_id";
const USE_COLS: &str = "batch_id, serial, order_no, platform, bound_at, scans, first_scan_at, \
    last_scan_at, broken_at, case_id";
const CAMERA_COLS: &str =
    "c.id, c.device_id, c.entity_id, e.name AS entity_name, e.uscc, e.industry, c.unit_id, \
    c.channel, c.place, c.stream_url, c.vendor, c.enabled, c.installed_minute, c.last_beat_minute, \
    c.created_at";
const CAMERA_FROM: &str = "camera c JOIN entity e ON e.id = c.entity_id";

fn batch_from(r: &DbRow) -> StoreResult<SealBatch> {
    Ok(SealBatch {
        id: get(r, "id")?,
        key_id: i32::from(get::<i16>(r, "key_id")?),
        entity_id: get(r, "entity_id")?,
        entity_name: get(r, "entity_name")?,
        uscc: get(r, "uscc")?,
        unit_id: UnitId(get(r, "unit_id")?),
        count: get(r, "count")?,
        note: get(r, "note")?,
        issued_on: get(r, "issued_on")?,
        created_by: get(r, "created_by")?,
        created_at: get(r, "created_at")?,
    })
}

fn use_from(r: &DbRow) -> StoreResult<SealUse> {
    Ok(SealUse {
        batch_id: get(r, "batch_id")?,
        serial: get(r, "serial")?,
        order_no: get(r, "order_no")?,
        platform: get(r, "platform")?,
        bound_at: get(r, "bound_at")?,
        scans: get(r, "scans")?,
        first_scan_at: get(r, "first_scan_at")?,
        last_scan_at: get(r, "last_scan_at")?,
        broken_at: get(r, "broken_at")?,
        case_id: get(r, "case_id")?,
    })
}

fn camera_from(r: &DbRow) -> StoreResult<Camera> {
    Ok(Camera {
        id: get(r, "id")?,
        device_id: get(r, "device_id")?,
        entity_id: get(r, "entity_id")?,
        entity_name: get(r, "entity_name")?,
        uscc: get(r, "uscc")?,
        industry: get(r, "industry")?,
        unit_id: UnitId(get(r, "unit_id")?),
        channel: get(r, "channel")?,
        place: get(r, "place")?,
        stream_url: get(r, "stream_url")?,
        vendor: get(r, "vendor")?,
        enabled: get(r, "enabled")?,
        installed_minute: get(r, "installed_minute")?,
        last_beat_minute: get(r, "last_beat_minute")?,
        created_at: get(r, "created_at")?,
    })
}

fn secret_hex(s: &[u8; 32]) -> String {
    s.iter().map(|b| format!("{b:02x}")).collect()
}

fn secret_of(hex: &str) -> StoreResult<[u8; 32]> {
    let bad = || StoreError::Other("bad seal_key.secret".into());
    if hex.len() != 64 {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

/// The UTC day of a moment in China time, for day counts.
fn cst_day(t: DateTime<Utc>) -> NaiveDate {
    hongdun_core::kitchen::local_day(t)
}

type SealCounts = std::collections::BTreeMap<(i64, String), SealCount>;

/// The figures of one office and month, made on first use.
fn slot(out: &mut SealCounts, unit: i64, day: NaiveDate) -> &mut SealCount {
    let month = hongdun_core::kitchen::month_of(day);
    out.entry((unit, month.clone())).or_insert(SealCount {
        unit_id: UnitId(unit),
        month,
        issued: 0,
        bound: 0,
        scans: 0,
        broken: 0,
        warnings: 0,
    })
}

impl Backend {
    /// One camera, read through the pool or inside a write transaction.
    async fn camera_by_id<'e, E>(ex: E, id: i64) -> StoreResult<Camera>
    where
        E: sqlx::Executor<'e, Database = Db>,
    {
        sqlx::query(&format!(
            "SELECT {CAMERA_COLS} FROM {CAMERA_FROM} WHERE c.id = $1"
        ))
        .bind(id)
        .fetch_optional(ex)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(camera_from)
        .unwrap_or(Err(StoreError::NotFound))
    }

    async fn warn_in_tx(tx: &mut crate::WriteTx, w: &NewSealWarning) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO seal_warning (at, kind, code, batch_id, serial, unit_id, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(now())
        .bind(&w.kind)
        .bind(&w.code)
        .bind(w.batch_id)
        .bind(w.serial)
        .bind(w.unit_id.map(|u| u.0))
        .bind(&w.detail)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl FoodStore for Backend {
    async fn seal_keys(&self) -> StoreResult<Vec<StoredSealKey>> {
        sqlx::query("SELECT id, secret, created_at, retired FROM seal_key ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(|r| {
                let id = get::<i16>(r, "id")?;
                Ok(StoredSealKey {
                    id: id as u8,
                    secret: secret_of(&get::<String>(r, "secret")?)?,
                    created_at: get(r, "created_at")?,
                    retired: get(r, "retired")?,
                })
            })
            .collect()
    }

    async fn add_seal_key(&self, ctx: &AuditCtx, secret: [u8; 32]) -> StoreResult<u8> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT COALESCE(MAX(id) + 1, 0) AS next FROM seal_key")
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        let next = i64::from(get::<i32>(&row, "next")?);
        if next > 255 {
            return Err(StoreError::Conflict { field: "id".into() });
        }
        sqlx::query("INSERT INTO seal_key (id, secret, created_at) VALUES ($1, $2, $3)")
            .bind(next as i16)
            .bind(secret_hex(&secret))
            .bind(now())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), _>("seal_key.add", "seal_key", next, None, Some(&next)),
        )
        .await?;
        tx.commit().await?;
        Ok(next as u8)
    }

    async fn retire_seal_key(&self, ctx: &AuditCtx, id: u8) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE seal_key SET retired = TRUE WHERE id = $1")
            .bind(id as i16)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), _>("seal_key.retire", "seal_key", id, None, Some(&id)),
        )
        .await?;
        tx.commit().await
    }

    async fn create_seal_batch(&self, ctx: &AuditCtx, b: &NewSealBatch) -> StoreResult<SealBatch> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO seal_batch (key_id, entity_id, unit_id, count, note, issued_on, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(b.key_id as i16)
        .bind(b.entity_id)
        .bind(b.unit_id.0)
        .bind(b.count)
        .bind(&b.note)
        .bind(b.issued_on)
        .bind(&ctx.actor_name)
        .bind(now())
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        let id: i64 = get(&row, "id")?;
        if id > u32::MAX as i64 {
            return Err(StoreError::Other("seal batch numbers exhausted".into()));
        }
        let batch = batch_from(
            &sqlx::query(&format!(
                "SELECT {BATCH_COLS} FROM {BATCH_FROM} WHERE b.id = $1"
            ))
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?,
        )?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), _>("seal_batch.create", "seal_batch", id, None, Some(&batch)),
        )
        .await?;
        tx.commit().await?;
        Ok(batch)
    }

    async fn seal_batch(&self, scope: &ScopeFilter, id: i64) -> StoreResult<SealBatch> {
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {BATCH_COLS} FROM {BATCH_FROM} WHERE b.id = "
        ));
        qb.push_bind(id);
        push_scope(&mut qb, scope, "b.unit_id", None);
        qb.build()
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?
            .as_ref()
            .map(batch_from)
            .unwrap_or(Err(StoreError::NotFound))
    }

    async fn all_seal_batches(&self) -> StoreResult<Vec<SealBatch>> {
        sqlx::query(&format!(
            "SELECT {BATCH_COLS} FROM {BATCH_FROM} ORDER BY b.id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?
        .iter()
        .map(batch_from)
        .collect()
    }

    async fn list_seal_batches(
        &self,
        scope: &ScopeFilter,
        entity_id: Option<i64>,
        paging: Paging,
    ) -> StoreResult<Page<SealBatch>> {
        let build = |qb: &mut QueryBuilder<'_, Db>| {
            push_scope(qb, scope, "b.unit_id", None);
            if let Some(id) = entity_id {
                qb.push(" AND b.entity_id = ").push_bind(id);
            }
        };
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT COUNT(*) AS n FROM {BATCH_FROM} WHERE 1 = 1"
        ));
        build(&mut qb);
        let total: i64 = get(
            &qb.build().fetch_one(&self.pool).await.map_err(map_err)?,
            "n",
        )?;
        let mut qb =
            QueryBuilder::<Db>::new(format!("SELECT {BATCH_COLS} FROM {BATCH_FROM} WHERE 1 = 1"));
        build(&mut qb);
        qb.push(" ORDER BY b.id DESC LIMIT ")
            .push_bind(paging.per_page)
            .push(" OFFSET ")
            .push_bind(paging.offset());
        let items = qb
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(batch_from)
            .collect::<StoreResult<_>>()?;
        Ok(Page {
            items,
            total,
            page: paging.page,
            per_page: paging.per_page,
        })
    }

    async fn seal_use(&self, batch_id: i64, serial: i32) -> StoreResult<Option<SealUse>> {
        if let Some(answer) = self.fast_seal_use(batch_id, serial) {
            return answer;
        }
        sqlx::query(&format!(
            "SELECT {USE_COLS} FROM seal_use WHERE batch_id = $1 AND serial = $2"
        ))
        .bind(batch_id)
        .bind(serial)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?
        .as_ref()
        .map(use_from)
        .transpose()
    }

    async fn seal_uses(&self, batch_id: i64) -> StoreResult<Vec<SealUse>> {
        sqlx::query(&format!(
            "SELECT {USE_COLS} FROM seal_use WHERE batch_id = $1 ORDER BY serial"
        ))
        .bind(batch_id)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?
        .iter()
        .map(use_from)
        .collect()
    }

    async fn bind_seal(
        &self,
        ctx: &AuditCtx,
        batch: &SealBatch,
        serial: i32,
        code: &str,
        order_no: &str,
        platform: Option<&str>,
    ) -> StoreResult<BindOutcome> {
        let mut tx = self.begin_write().await?;
        let had: Option<Option<String>> =
            sqlx::query("SELECT order_no FROM seal_use WHERE batch_id = $1 AND serial = $2")
                .bind(batch.id)
                .bind(serial)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?
                .map(|r| get(&r, "order_no"))
                .transpose()?;
        let outcome = match had.flatten() {
            Some(o) if o == order_no => BindOutcome::Same,
            Some(o) => {
                Self::warn_in_tx(
                    &mut tx,
                    &NewSealWarning {
                        kind: "second_order".into(),
                        code: code.to_owned(),
                        batch_id: batch.id,
                        serial,
                        unit_id: Some(batch.unit_id),
                        detail: Some(format!("已绑定订单 {o}，又用于订单 {order_no}")),
                    },
                )
                .await?;
                BindOutcome::OtherOrder { order_no: o }
            }
            None => {
                let at = now();
                sqlx::query(
                    "INSERT INTO seal_use (batch_id, serial, order_no, platform, bound_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (batch_id, serial) DO UPDATE SET \
                     order_no = $3, platform = $4, bound_at = $5",
                )
                .bind(batch.id)
                .bind(serial)
                .bind(order_no)
                .bind(platform)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                append_audit(
                    &mut tx,
                    ctx,
                    &AuditChange::new::<(), _>(
                        "seal.bind",
                        "seal",
                        code,
                        None,
                        Some(&serde_json::json!({"order_no": order_no, "platform": platform})),
                    ),
                )
                .await?;
                BindOutcome::Bound
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn add_seal_scans(&self, tallies: &[ScanTally]) -> StoreResult<()> {
        if tallies.is_empty() {
            return Ok(());
        }
        let mut days: std::collections::BTreeMap<(i64, NaiveDate), i64> = Default::default();
        let mut tx = self.begin_write().await?;
        // Multi-row upserts: a busy flush holds thousands of seals.
        for chunk in tallies.chunks(200) {
            let mut qb = QueryBuilder::<Db>::new(
                "INSERT INTO seal_use (batch_id, serial, scans, first_scan_at, last_scan_at) ",
            );
            qb.push_values(chunk, |mut b, t| {
                b.push_bind(t.batch_id)
                    .push_bind(t.serial)
                    .push_bind(t.scans)
                    .push_bind(t.first)
                    .push_bind(t.last);
            });
            qb.push(
                " ON CONFLICT (batch_id, serial) DO UPDATE SET \
                 scans = seal_use.scans + excluded.scans, \
                 first_scan_at = COALESCE(seal_use.first_scan_at, excluded.first_scan_at), \
                 last_scan_at = excluded.last_scan_at",
            );
            qb.build().execute(&mut *tx).await.map_err(map_err)?;
        }
        for t in tallies {
            *days.entry((t.unit_id.0, cst_day(t.last))).or_default() += t.scans;
        }
        for ((unit, day), n) in days {
            sqlx::query(
                "INSERT INTO seal_scan_day (unit_id, day, scans) VALUES ($1, $2, $3) \
                 ON CONFLICT (unit_id, day) DO UPDATE SET scans = seal_scan_day.scans + $3",
            )
            .bind(unit)
            .bind(day)
            .bind(n)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        tx.commit().await
    }

    async fn mark_seal_broken(
        &self,
        batch: &SealBatch,
        serial: i32,
        code: &str,
        case_id: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let at = now();
        sqlx::query(
            "INSERT INTO seal_use (batch_id, serial, broken_at, case_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (batch_id, serial) DO UPDATE SET \
             broken_at = COALESCE(seal_use.broken_at, $3), case_id = COALESCE(seal_use.case_id, $4)",
        )
        .bind(batch.id)
        .bind(serial)
        .bind(at)
        .bind(case_id)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        Self::warn_in_tx(
            &mut tx,
            &NewSealWarning {
                kind: "broken".into(),
                code: code.to_owned(),
                batch_id: batch.id,
                serial,
                unit_id: Some(batch.unit_id),
                detail: Some(format!("消费者报告封签破损，投诉编号 {case_id}")),
            },
        )
        .await?;
        tx.commit().await
    }

    async fn add_seal_warning(&self, w: &NewSealWarning) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        Self::warn_in_tx(&mut tx, w).await?;
        tx.commit().await
    }

    async fn list_seal_warnings(
        &self,
        scope: &ScopeFilter,
        paging: Paging,
    ) -> StoreResult<Page<SealWarning>> {
        let build = |qb: &mut QueryBuilder<'_, Db>| push_scope(qb, scope, "unit_id", None);
        let mut qb = QueryBuilder::<Db>::new("SELECT COUNT(*) AS n FROM seal_warning WHERE 1 = 1");
        build(&mut qb);
        let total: i64 = get(
            &qb.build().fetch_one(&self.pool).await.map_err(map_err)?,
            "n",
        )?;
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT id, at, kind, code, batch_id, serial, unit_id, detail FROM seal_warning WHERE 1 = 1",
        );
        build(&mut qb);
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
            .map(|r| {
                Ok(SealWarning {
                    id: get(r, "id")?,
                    at: get(r, "at")?,
                    kind: get(r, "kind")?,
                    code: get(r, "code")?,
                    batch_id: get(r, "batch_id")?,
                    serial: get(r, "serial")?,
                    unit_id: get::<Option<i64>>(r, "unit_id")?.map(UnitId),
                    detail: get(r, "detail")?,
                })
            })
            .collect::<StoreResult<_>>()?;
        Ok(Page {
            items,
            total,
            page: paging.page,
            per_page: paging.per_page,
        })
    }

    async fn seal_counts(
        &self,
        scope: &ScopeFilter,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<SealCount>> {
        let mut out = SealCounts::new();
        // Issued: whole batches by their day of issue.
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT b.unit_id, b.issued_on AS day, SUM(b.count) AS n FROM seal_batch b WHERE b.issued_on >= ",
        );
        qb.push_bind(from)
            .push(" AND b.issued_on <= ")
            .push_bind(to);
        push_scope(&mut qb, scope, "b.unit_id", None);
        qb.push(" GROUP BY b.unit_id, b.issued_on");
        for r in qb.build().fetch_all(&self.pool).await.map_err(map_err)? {
            slot(&mut out, get(&r, "unit_id")?, get(&r, "day")?).issued += get::<i64>(&r, "n")?;
        }
        // Scans: the day counts.
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT unit_id, day, scans AS n FROM seal_scan_day WHERE day >= ",
        );
        qb.push_bind(from).push(" AND day <= ").push_bind(to);
        push_scope(&mut qb, scope, "unit_id", None);
        for r in qb.build().fetch_all(&self.pool).await.map_err(map_err)? {
            slot(&mut out, get(&r, "unit_id")?, get(&r, "day")?).scans += get::<i64>(&r, "n")?;
        }
        // Bound, broken and warnings: counted per month of China-time days, so
        // the grouping stays in the database whatever its size.
        let mut month_start = from.with_day(1).expect("first of month");
        while month_start <= to {
            let next = month_start
                .checked_add_months(chrono::Months::new(1))
                .expect("a later month");
            let (a, b) = (
                month_start.max(from),
                next.pred_opt().expect("a day").min(to),
            );
            let lo =
                a.and_hms_opt(0, 0, 0).expect("midnight").and_utc() - chrono::Duration::hours(8);
            let hi = b
                .succ_opt()
                .expect("a day")
                .and_hms_opt(0, 0, 0)
                .expect("midnight")
                .and_utc()
                - chrono::Duration::hours(8);
            const JOINED: &str = "FROM seal_use u JOIN seal_batch b ON b.id = u.batch_id WHERE";
            for (from_where, col, what) in [
                (JOINED, "u.bound_at", 0),
                (JOINED, "u.broken_at", 1),
                (
                    "FROM seal_warning b WHERE b.unit_id IS NOT NULL AND",
                    "b.at",
                    2,
                ),
            ] {
                let mut qb = QueryBuilder::<Db>::new(format!(
                    "SELECT b.unit_id, COUNT(*) AS n {from_where} {col} >= "
                ));
                qb.push_bind(lo)
                    .push(format!(" AND {col} < "))
                    .push_bind(hi);
                push_scope(&mut qb, scope, "b.unit_id", None);
                qb.push(" GROUP BY b.unit_id");
                for r in qb.build().fetch_all(&self.pool).await.map_err(map_err)? {
                    let s = slot(&mut out, get(&r, "unit_id")?, a);
                    let n: i64 = get(&r, "n")?;
                    match what {
                        0 => s.bound += n,
                        1 => s.broken += n,
                        _ => s.warnings += n,
                    }
                }
            }
            month_start = next;
        }
        Ok(out.into_values().collect())
    }

    async fn create_camera(&self, ctx: &AuditCtx, c: &NewCamera) -> StoreResult<Camera> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO camera (device_id, entity_id, unit_id, channel, place, stream_url, vendor, \
             installed_minute, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(&c.device_id)
        .bind(c.entity_id)
        .bind(c.unit_id.0)
        .bind(c.channel)
        .bind(&c.place)
        .bind(&c.stream_url)
        .bind(&c.vendor)
        .bind(c.installed_minute)
        .bind(now())
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        let id: i64 = get(&row, "id")?;
        let cam = Self::camera_by_id(&mut *tx, id).await?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), _>("camera.create", "camera", id, None, Some(&cam)),
        )
        .await?;
        tx.commit().await?;
        Ok(cam)
    }

    async fn update_camera(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        id: i64,
        patch: &CameraPatch,
    ) -> StoreResult<Camera> {
        let before = Self::camera_by_id(&self.pool, id).await?;
        if !scope.allows(Some(before.unit_id), None) {
            return Err(StoreError::NotFound);
        }
        let mut tx = self.begin_write().await?;
        let mut qb = QueryBuilder::<Db>::new("UPDATE camera SET id = id");
        if let Some(p) = &patch.place {
            qb.push(", place = ").push_bind(p.clone());
        }
        if let Some(c) = patch.channel {
            qb.push(", channel = ").push_bind(c);
        }
        if let Some(s) = &patch.stream_url {
            qb.push(", stream_url = ").push_bind(s.clone());
        }
        if let Some(v) = &patch.vendor {
            qb.push(", vendor = ").push_bind(v.clone());
        }
        if let Some(e) = patch.enabled {
            qb.push(", enabled = ").push_bind(e);
        }
        qb.push(" WHERE id = ").push_bind(id);
        qb.build().execute(&mut *tx).await.map_err(map_err)?;
        let after = Self::camera_by_id(&mut *tx, id).await?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new("camera.update", "camera", id, Some(&before), Some(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn list_cameras(
        &self,
        scope: &ScopeFilter,
        q: &CameraQuery,
    ) -> StoreResult<Page<Camera>> {
        let build = |qb: &mut QueryBuilder<'_, Db>| {
            push_scope(qb, scope, "c.unit_id", None);
            if let Some(id) = q.entity_id {
                qb.push(" AND c.entity_id = ").push_bind(id);
            }
            if let Some(u) = q.unit_id {
                qb.push(" AND c.unit_id = ").push_bind(u.0);
            }
            if let Some(text) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                let pat = like_pattern(text);
                qb.push(" AND (c.device_id LIKE ")
                    .push_bind(pat.clone())
                    .push(" ESCAPE '\\' OR e.name LIKE ")
                    .push_bind(pat.clone())
                    .push(" ESCAPE '\\' OR e.uscc LIKE ")
                    .push_bind(pat)
                    .push(" ESCAPE '\\')");
            }
        };
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT COUNT(*) AS n FROM {CAMERA_FROM} WHERE 1 = 1"
        ));
        build(&mut qb);
        let total: i64 = get(
            &qb.build().fetch_one(&self.pool).await.map_err(map_err)?,
            "n",
        )?;
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {CAMERA_COLS} FROM {CAMERA_FROM} WHERE 1 = 1"
        ));
        build(&mut qb);
        qb.push(" ORDER BY c.id LIMIT ")
            .push_bind(q.paging.per_page)
            .push(" OFFSET ")
            .push_bind(q.paging.offset());
        let items = qb
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(camera_from)
            .collect::<StoreResult<_>>()?;
        Ok(Page {
            items,
            total,
            page: q.paging.page,
            per_page: q.paging.per_page,
        })
    }

    async fn all_cameras(&self) -> StoreResult<Vec<Camera>> {
        sqlx::query(&format!(
            "SELECT {CAMERA_COLS} FROM {CAMERA_FROM} ORDER BY c.id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?
        .iter()
        .map(camera_from)
        .collect()
    }

    async fn add_beats(&self, words: &[BeatWord], last: &[(i64, i64)]) -> StoreResult<()> {
        if words.is_empty() && last.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        // Multi-row statements: a gateway's request is one round trip per 200 words.
        for chunk in words.chunks(200) {
            let mut qb =
                QueryBuilder::<Db>::new("INSERT INTO camera_beat (camera_id, hour, minutes) ");
            qb.push_values(chunk, |mut b, w| {
                b.push_bind(w.camera_id)
                    .push_bind(w.hour)
                    .push_bind(w.minutes as i64);
            });
            qb.push(
                " ON CONFLICT (camera_id, hour) DO UPDATE SET \
                 minutes = camera_beat.minutes | excluded.minutes",
            );
            qb.build().execute(&mut *tx).await.map_err(map_err)?;
        }
        // Last beats: one statement per 200 cameras.
        for chunk in last.chunks(200) {
            let mut qb = QueryBuilder::<Db>::new("WITH v(id, m) AS (");
            qb.push_values(chunk, |mut b, (camera, minute)| {
                b.push_bind(*camera).push_bind(*minute);
            });
            qb.push(
                ") UPDATE camera SET last_beat_minute = v.m FROM v WHERE camera.id = v.id \
                 AND (camera.last_beat_minute IS NULL OR camera.last_beat_minute < v.m)",
            );
            qb.build().execute(&mut *tx).await.map_err(map_err)?;
        }
        tx.commit().await
    }

    async fn beat_words(
        &self,
        scope: &ScopeFilter,
        from_hour: i64,
        to_hour: i64,
    ) -> StoreResult<Vec<BeatWord>> {
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT w.camera_id, w.hour, w.minutes FROM camera_beat w JOIN camera c ON c.id = w.camera_id \
             WHERE w.hour >= ",
        );
        qb.push_bind(from_hour)
            .push(" AND w.hour < ")
            .push_bind(to_hour);
        push_scope(&mut qb, scope, "c.unit_id", None);
        qb.build()
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(|r| {
                Ok(BeatWord {
                    camera_id: get(r, "camera_id")?,
                    hour: get(r, "hour")?,
                    minutes: get::<i64>(r, "minutes")? as u64,
                })
            })
            .collect()
    }

    async fn catering_counts(&self, scope: &ScopeFilter) -> StoreResult<Vec<(UnitId, i64)>> {
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT e.unit_id, COUNT(*) AS n FROM entity e WHERE e.unit_id IS NOT NULL \
             AND e.status = 'active' AND (e.industry LIKE '62%' OR e.industry LIKE 'H62%')",
        );
        push_scope(&mut qb, scope, "e.unit_id", None);
        qb.push(" GROUP BY e.unit_id");
        qb.build()
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(|r| Ok((UnitId(get(r, "unit_id")?), get(r, "n")?)))
            .collect()
    }
}
