//! Food sampling tests: plans, samples numbered per office and year, lab
//! results, disposal events, publication and tallies.
use super::{append_audit, enum_col, get, like_pattern, now, push_scope, DbRow};
use crate::{map_err, Backend, Db};
use chrono::{Datelike, NaiveDate};
use hongdun_core::food_sample::SampleState;
use hongdun_core::ids::UnitId;
use hongdun_store::*;
use sqlx::QueryBuilder;

const PLAN_COLS: &str =
    "p.id, p.unit_id, p.year, p.name, p.target, p.note, p.created_by, p.created_at, \
    (SELECT COUNT(*) FROM food_sample s WHERE s.plan_id = p.id) AS taken, \
    (SELECT COUNT(*) FROM food_sample s WHERE s.plan_id = p.id \
       AND s.state IN ('failed', 'disposing', 'closed')) AS failed";
const SAMPLE_COLS: &str =
    "s.id, s.plan_id, s.unit_id, s.sample_no, s.product, s.category, s.spec, \
    s.batch_no, s.produced_on, s.producer_name, s.producer_address, s.seller_entity_id, \
    e.name AS seller_name, e.uscc AS seller_uscc, s.place_kind, s.sampled_on, s.sampled_by, s.lab, \
    s.state, s.tested_on, s.published_on, s.closed_on, s.updated_at";
const SAMPLE_FROM: &str = "food_sample s JOIN entity e ON e.id = s.seller_entity_id";

fn plan_from(r: &DbRow) -> StoreResult<SamplePlan> {
    Ok(SamplePlan {
        id: get(r, "id")?,
        unit_id: UnitId(get(r, "unit_id")?),
        year: get(r, "year")?,
        name: get(r, "name")?,
        target: get(r, "target")?,
        note: get(r, "note")?,
        taken: get(r, "taken")?,
        failed: get(r, "failed")?,
        created_by: get(r, "created_by")?,
        created_at: get(r, "created_at")?,
    })
}

fn sample_from(r: &DbRow) -> StoreResult<Sample> {
    Ok(Sample {
        id: get(r, "id")?,
        plan_id: get(r, "plan_id")?,
        unit_id: UnitId(get(r, "unit_id")?),
        sample_no: get(r, "sample_no")?,
        product: get(r, "product")?,
        category: get(r, "category")?,
        spec: get(r, "spec")?,
        batch_no: get(r, "batch_no")?,
        produced_on: get(r, "produced_on")?,
        producer_name: get(r, "producer_name")?,
        producer_address: get(r, "producer_address")?,
        seller_entity_id: get(r, "seller_entity_id")?,
        seller_name: get(r, "seller_name")?,
        seller_uscc: get(r, "seller_uscc")?,
        place_kind: get(r, "place_kind")?,
        sampled_on: get(r, "sampled_on")?,
        sampled_by: get(r, "sampled_by")?,
        lab: get(r, "lab")?,
        state: enum_col(
            &get::<String>(r, "state")?,
            SampleState::parse,
            "food_sample.state",
        )?,
        tested_on: get(r, "tested_on")?,
        published_on: get(r, "published_on")?,
        closed_on: get(r, "closed_on")?,
        updated_at: get(r, "updated_at")?,
    })
}

fn result_from(r: &DbRow) -> StoreResult<SampleResult> {
    Ok(SampleResult {
        item: get(r, "item")?,
        value: get(r, "value")?,
        unit: get(r, "unit")?,
        limit: get(r, "limit_text")?,
        standard: get(r, "standard")?,
        pass: get(r, "pass")?,
    })
}

impl Backend {
    async fn sample_by_id<'e, E>(ex: E, scope: &ScopeFilter, id: i64) -> StoreResult<Sample>
    where
        E: sqlx::Executor<'e, Database = Db>,
    {
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {SAMPLE_COLS} FROM {SAMPLE_FROM} WHERE s.id = "
        ));
        qb.push_bind(id);
        push_scope(&mut qb, scope, "s.unit_id", None);
        sample_from(&qb.build().fetch_one(ex).await.map_err(map_err)?)
    }

    /// Inserts samples numbered after the office's last number of each year.
    async fn insert_samples(
        conn: &mut super::Conn,
        ctx: &AuditCtx,
        samples: &[NewSample],
    ) -> StoreResult<Vec<i64>> {
        let mut next: std::collections::HashMap<(i64, i32), i64> = Default::default();
        let at = now();
        let mut ids = Vec::with_capacity(samples.len());
        for s in samples {
            let year = s.sampled_on.year();
            let key = (s.unit_id.0, year);
            let seq = match next.get(&key) {
                Some(n) => *n,
                None => {
                    let prefix = format!("CJ{year}{:04}", s.unit_id.0 % 10_000);
                    let r = sqlx::query(
                        "SELECT MAX(sample_no) AS m FROM food_sample WHERE unit_id = $1 \
                         AND sample_no LIKE $2",
                    )
                    .bind(s.unit_id.0)
                    .bind(format!("{prefix}%"))
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(map_err)?;
                    let last: Option<String> = get(&r, "m")?;
                    last.and_then(|m| m[prefix.len()..].parse::<i64>().ok())
                        .unwrap_or(0)
                        + 1
                }
            };
            next.insert(key, seq + 1);
            let no = format!("CJ{year}{:04}{seq:05}", s.unit_id.0 % 10_000);
            let r = sqlx::query(
                "INSERT INTO food_sample (plan_id, unit_id, sample_no, product, category, spec, batch_no, \
                 produced_on, producer_name, producer_address, seller_entity_id, place_kind, sampled_on, \
                 sampled_by, lab, state, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
                 $9, $10, $11, $12, $13, $14, $15, 'sampled', $16, $16) RETURNING id",
            )
            .bind(s.plan_id)
            .bind(s.unit_id.0)
            .bind(&no)
            .bind(&s.product)
            .bind(&s.category)
            .bind(&s.spec)
            .bind(&s.batch_no)
            .bind(s.produced_on)
            .bind(&s.producer_name)
            .bind(&s.producer_address)
            .bind(s.seller_entity_id)
            .bind(&s.place_kind)
            .bind(s.sampled_on)
            .bind(&ctx.actor_name)
            .bind(&s.lab)
            .bind(at)
            .fetch_one(&mut *conn)
            .await
            .map_err(map_err)?;
            let id: i64 = get(&r, "id")?;
            sqlx::query(
                "INSERT INTO sample_event (sample_id, at, actor_name, action, state, note) \
                 VALUES ($1, $2, $3, 'sample', 'sampled', NULL)",
            )
            .bind(id)
            .bind(at)
            .bind(&ctx.actor_name)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
            ids.push(id);
        }
        Ok(ids)
    }
}

#[async_trait::async_trait]
impl SampleStore for Backend {
    async fn create_sample_plan(
        &self,
        ctx: &AuditCtx,
        p: &NewSamplePlan,
    ) -> StoreResult<SamplePlan> {
        let mut tx = self.begin_write().await?;
        let r = sqlx::query(
            "INSERT INTO sample_plan (unit_id, year, name, target, note, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(p.unit_id.0)
        .bind(p.year)
        .bind(&p.name)
        .bind(p.target)
        .bind(&p.note)
        .bind(&ctx.actor_name)
        .bind(now())
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        let id: i64 = get(&r, "id")?;
        let plan = plan_from(
            &sqlx::query(&format!(
                "SELECT {PLAN_COLS} FROM sample_plan p WHERE p.id = $1"
            ))
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?,
        )?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), _>("sample_plan.create", "sample_plan", id, None, Some(&plan)),
        )
        .await?;
        tx.commit().await?;
        Ok(plan)
    }

    async fn sample_plan(&self, scope: &ScopeFilter, id: i64) -> StoreResult<SamplePlan> {
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {PLAN_COLS} FROM sample_plan p WHERE p.id = "
        ));
        qb.push_bind(id);
        push_scope(&mut qb, scope, "p.unit_id", None);
        plan_from(&qb.build().fetch_one(&self.pool).await.map_err(map_err)?)
    }

    async fn list_sample_plans(
        &self,
        scope: &ScopeFilter,
        year: Option<i32>,
    ) -> StoreResult<Vec<SamplePlan>> {
        let mut qb =
            QueryBuilder::<Db>::new(format!("SELECT {PLAN_COLS} FROM sample_plan p WHERE 1 = 1"));
        push_scope(&mut qb, scope, "p.unit_id", None);
        if let Some(y) = year {
            qb.push(" AND p.year = ").push_bind(y);
        }
        qb.push(" ORDER BY p.year DESC, p.id DESC");
        qb.build()
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(plan_from)
            .collect()
    }

    async fn create_sample(&self, ctx: &AuditCtx, s: &NewSample) -> StoreResult<Sample> {
        let mut tx = self.begin_write().await?;
        let id = Self::insert_samples(&mut tx, ctx, std::slice::from_ref(s)).await?[0];
        let sample = Self::sample_by_id(&mut *tx, &ScopeFilter::All, id).await?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), _>("sample.create", "food_sample", id, None, Some(&sample)),
        )
        .await?;
        tx.commit().await?;
        Ok(sample)
    }

    async fn create_samples(&self, ctx: &AuditCtx, s: &[NewSample]) -> StoreResult<Vec<i64>> {
        let mut tx = self.begin_write().await?;
        let ids = Self::insert_samples(&mut tx, ctx, s).await?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), _>(
                "sample.create_many",
                "food_sample",
                ids.first().copied().unwrap_or(0),
                None,
                Some(&ids.len()),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(ids)
    }

    async fn get_sample(
        &self,
        scope: &ScopeFilter,
        id: i64,
    ) -> StoreResult<(Sample, Vec<SampleResult>, Vec<SampleEvent>)> {
        let sample = Self::sample_by_id(&self.pool, scope, id).await?;
        let results = sqlx::query(
            "SELECT item, value, unit, limit_text, standard, pass FROM sample_result \
             WHERE sample_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?
        .iter()
        .map(result_from)
        .collect::<StoreResult<_>>()?;
        let events = sqlx::query(
            "SELECT id, at, actor_name, action, state, note, ref_no FROM sample_event \
             WHERE sample_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?
        .iter()
        .map(|r| {
            Ok(SampleEvent {
                id: get(r, "id")?,
                at: get(r, "at")?,
                actor_name: get(r, "actor_name")?,
                action: get(r, "action")?,
                state: enum_col(
                    &get::<String>(r, "state")?,
                    SampleState::parse,
                    "sample_event.state",
                )?,
                note: get(r, "note")?,
                ref_no: get(r, "ref_no")?,
            })
        })
        .collect::<StoreResult<_>>()?;
        Ok((sample, results, events))
    }

    async fn list_samples(
        &self,
        scope: &ScopeFilter,
        q: &SampleQuery,
    ) -> StoreResult<Page<Sample>> {
        let build = |qb: &mut QueryBuilder<'_, Db>| {
            push_scope(qb, scope, "s.unit_id", None);
            if let Some(p) = q.plan_id {
                qb.push(" AND s.plan_id = ").push_bind(p);
            }
            if let Some(u) = q.unit_id {
                qb.push(" AND s.unit_id = ").push_bind(u.0);
            }
            if let Some(st) = q.state {
                qb.push(" AND s.state = ").push_bind(st.as_str());
            }
            match q.failed {
                Some(true) => {
                    qb.push(" AND s.state IN ('failed', 'disposing', 'closed')");
                }
                Some(false) => {
                    qb.push(" AND s.state = 'passed'");
                }
                None => {}
            }
            match q.published {
                Some(true) => {
                    qb.push(" AND s.published_on IS NOT NULL");
                }
                Some(false) => {
                    qb.push(" AND s.published_on IS NULL");
                }
                None => {}
            }
            if let Some(e) = q.seller_entity_id {
                qb.push(" AND s.seller_entity_id = ").push_bind(e);
            }
            if let Some(from) = q.from {
                qb.push(" AND s.sampled_on >= ").push_bind(from);
            }
            if let Some(to) = q.to {
                qb.push(" AND s.sampled_on <= ").push_bind(to);
            }
            if let Some(text) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                let pat = like_pattern(text);
                qb.push(" AND (s.product LIKE ")
                    .push_bind(pat.clone())
                    .push(" ESCAPE '\\' OR s.producer_name LIKE ")
                    .push_bind(pat.clone())
                    .push(" ESCAPE '\\' OR e.name LIKE ")
                    .push_bind(pat.clone())
                    .push(" ESCAPE '\\' OR s.sample_no LIKE ")
                    .push_bind(pat)
                    .push(" ESCAPE '\\')");
            }
        };
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT COUNT(*) AS n FROM {SAMPLE_FROM} WHERE 1 = 1"
        ));
        build(&mut qb);
        let total: i64 = get(
            &qb.build().fetch_one(&self.pool).await.map_err(map_err)?,
            "n",
        )?;
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {SAMPLE_COLS} FROM {SAMPLE_FROM} WHERE 1 = 1"
        ));
        build(&mut qb);
        qb.push(" ORDER BY s.sampled_on DESC, s.id DESC LIMIT ")
            .push_bind(q.paging.per_page)
            .push(" OFFSET ")
            .push_bind(q.paging.offset());
        let items = qb
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(sample_from)
            .collect::<StoreResult<_>>()?;
        Ok(Page {
            items,
            total,
            page: q.paging.page,
            per_page: q.paging.per_page,
        })
    }

    async fn sample_step(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        id: i64,
        step: &SampleStep,
    ) -> StoreResult<Sample> {
        let before = Self::sample_by_id(&self.pool, scope, id).await?;
        let mut tx = self.begin_write().await?;
        let at = now();
        let tested_on = (step.action == "results").then_some(step.today);
        let closed_on = (step.to == SampleState::Closed).then_some(step.today);
        let done = sqlx::query(
            "UPDATE food_sample SET state = $1, updated_at = $2, \
             tested_on = COALESCE($3, tested_on), closed_on = COALESCE($4, closed_on), \
             lab = COALESCE($5, lab) WHERE id = $6 AND state = $7",
        )
        .bind(step.to.as_str())
        .bind(at)
        .bind(tested_on)
        .bind(closed_on)
        .bind(&step.lab)
        .bind(id)
        .bind(step.from.as_str())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict {
                field: "state".into(),
            });
        }
        for (seq, r) in step.results.iter().enumerate() {
            sqlx::query(
                "INSERT INTO sample_result (sample_id, seq, item, value, unit, limit_text, standard, pass) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(id)
            .bind(seq as i32)
            .bind(&r.item)
            .bind(&r.value)
            .bind(&r.unit)
            .bind(&r.limit)
            .bind(&r.standard)
            .bind(r.pass)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        sqlx::query(
            "INSERT INTO sample_event (sample_id, at, actor_name, action, state, note, ref_no) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(at)
        .bind(&ctx.actor_name)
        .bind(&step.action)
        .bind(step.to.as_str())
        .bind(&step.note)
        .bind(&step.ref_no)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let after = Self::sample_by_id(&mut *tx, &ScopeFilter::All, id).await?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new(
                &format!("sample.{}", step.action),
                "food_sample",
                id,
                Some(&before),
                Some(&after),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn publish_sample(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        id: i64,
        day: NaiveDate,
    ) -> StoreResult<Sample> {
        let before = Self::sample_by_id(&self.pool, scope, id).await?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE food_sample SET published_on = $1, updated_at = $2 \
             WHERE id = $3 AND state <> 'sampled' AND published_on IS NULL",
        )
        .bind(day)
        .bind(now())
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict {
                field: "state".into(),
            });
        }
        sqlx::query(
            "INSERT INTO sample_event (sample_id, at, actor_name, action, state) \
             VALUES ($1, $2, $3, 'publish', $4)",
        )
        .bind(id)
        .bind(now())
        .bind(&ctx.actor_name)
        .bind(before.state.as_str())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let after = Self::sample_by_id(&mut *tx, &ScopeFilter::All, id).await?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new(
                "sample.publish",
                "food_sample",
                id,
                Some(&before),
                Some(&after),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn failed_results(&self, ids: &[i64]) -> StoreResult<Vec<(i64, SampleResult)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT sample_id, item, value, unit, limit_text, standard, pass FROM sample_result \
             WHERE pass = FALSE AND sample_id IN (",
        );
        let mut list = qb.separated(", ");
        for id in ids {
            list.push_bind(*id);
        }
        qb.push(") ORDER BY sample_id, seq");
        qb.build()
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(|r| Ok((get(r, "sample_id")?, result_from(r)?)))
            .collect()
    }

    async fn sample_tallies(
        &self,
        scope: &ScopeFilter,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<SampleTally>> {
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT unit_id, category, COUNT(*) AS taken, \
             SUM(CASE WHEN state <> 'sampled' THEN 1 ELSE 0 END) AS tested, \
             SUM(CASE WHEN state IN ('failed', 'disposing', 'closed') THEN 1 ELSE 0 END) AS failed, \
             SUM(CASE WHEN state IN ('failed', 'disposing') THEN 1 ELSE 0 END) AS open, \
             SUM(CASE WHEN published_on IS NOT NULL THEN 1 ELSE 0 END) AS published \
             FROM food_sample WHERE sampled_on >= ",
        );
        qb.push_bind(from).push(" AND sampled_on <= ").push_bind(to);
        push_scope(&mut qb, scope, "unit_id", None);
        qb.push(" GROUP BY unit_id, category ORDER BY unit_id, category");
        qb.build()
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(|r| {
                Ok(SampleTally {
                    unit_id: UnitId(get(r, "unit_id")?),
                    category: get(r, "category")?,
                    taken: get(r, "taken")?,
                    tested: get(r, "tested")?,
                    failed: get(r, "failed")?,
                    open: get(r, "open")?,
                    published: get(r, "published")?,
                })
            })
            .collect()
    }
}
