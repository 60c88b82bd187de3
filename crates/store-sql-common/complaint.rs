//! Complaints, reports and enquiries; rule sets, platforms, pledges.
use super::{
    append_audit, enum_col, get, join_list, like_pattern, now, push_scope, split_list, DbRow,
};
use crate::{map_err, Backend, Db};
use chrono::NaiveDate;
use hongdun_core::complaint::{
    CaseKind, CaseOutcome, CaseState, Channel, RulePeriods, RuleSet, Step,
};
use hongdun_core::ids::UnitId;
use hongdun_store::*;
use sqlx::QueryBuilder;

const CASE_COLS: &str = "c.id, c.receipt, c.external_no, c.kind, c.channel, c.state, c.outcome, \
    c.step, c.due_on, c.due_uncertain, c.paused_on, c.late, c.unit_id, c.rule_set, c.received_on, \
    c.accepted_on, c.decided_on, c.closed_on, c.complainant_name, c.complainant_phone, \
    c.complainant_id_number, c.complainant_address, c.real_name, c.respondent_entity_id, \
    e.uscc AS respondent_uscc, c.respondent_name, c.respondent_address, c.category, c.platform, \
    c.amount_involved, c.amount_recovered, c.description, c.files, c.lat, c.lng, c.merged_into, \
    c.flagged, c.satisfaction, c.reply, c.created_by, c.created_at, c.updated_at";
const CASE_FROM: &str = "complaint c LEFT JOIN entity e ON e.id = c.respondent_entity_id";

fn case_from(r: &DbRow) -> StoreResult<Case> {
    let opt_enum = |col: &str, parse: fn(&str) -> Option<_>| -> StoreResult<Option<_>> {
        get::<Option<String>>(r, col)?
            .map(|v| enum_col(&v, parse, col))
            .transpose()
    };
    Ok(Case {
        id: get(r, "id")?,
        receipt: get(r, "receipt")?,
        external_no: get(r, "external_no")?,
        kind: enum_col(
            &get::<String>(r, "kind")?,
            CaseKind::parse,
            "complaint.kind",
        )?,
        channel: enum_col(
            &get::<String>(r, "channel")?,
            Channel::parse,
            "complaint.channel",
        )?,
        state: enum_col(
            &get::<String>(r, "state")?,
            CaseState::parse,
            "complaint.state",
        )?,
        outcome: opt_enum("outcome", CaseOutcome::parse)?,
        step: get::<Option<String>>(r, "step")?
            .map(|v| enum_col(&v, Step::parse, "complaint.step"))
            .transpose()?,
        due_on: get(r, "due_on")?,
        due_uncertain: get(r, "due_uncertain")?,
        paused_on: get(r, "paused_on")?,
        late: get(r, "late")?,
        unit_id: UnitId(get(r, "unit_id")?),
        rule_set: get(r, "rule_set")?,
        received_on: get(r, "received_on")?,
        accepted_on: get(r, "accepted_on")?,
        decided_on: get(r, "decided_on")?,
        closed_on: get(r, "closed_on")?,
        complainant_name: get(r, "complainant_name")?,
        complainant_phone: get(r, "complainant_phone")?,
        complainant_id_number: get(r, "complainant_id_number")?,
        complainant_address: get(r, "complainant_address")?,
        real_name: get(r, "real_name")?,
        respondent_entity_id: get(r, "respondent_entity_id")?,
        respondent_uscc: get(r, "respondent_uscc")?,
        respondent_name: get(r, "respondent_name")?,
        respondent_address: get(r, "respondent_address")?,
        category: get(r, "category")?,
        platform: get(r, "platform")?,
        amount_involved: get(r, "amount_involved")?,
        amount_recovered: get(r, "amount_recovered")?,
        description: get(r, "description")?,
        files: split_list(&get::<String>(r, "files")?),
        lat: get(r, "lat")?,
        lng: get(r, "lng")?,
        merged_into: get(r, "merged_into")?,
        flagged: get(r, "flagged")?,
        satisfaction: get(r, "satisfaction")?,
        reply: get(r, "reply")?,
        created_by: get(r, "created_by")?,
        created_at: get(r, "created_at")?,
        updated_at: get(r, "updated_at")?,
    })
}

fn rule_set_from(r: &DbRow) -> StoreResult<RuleSet> {
    let periods: String = get(r, "periods")?;
    Ok(RuleSet {
        code: get(r, "code")?,
        name: get(r, "name")?,
        effective_from: get(r, "effective_from")?,
        periods: serde_json::from_str::<RulePeriods>(&periods)
            .map_err(|e| StoreError::Other(format!("bad periods: {e}")))?,
        verified: get(r, "verified")?,
    })
}

fn periods_json(r: &RuleSet) -> String {
    serde_json::to_string(&r.periods).unwrap_or_default()
}

impl Backend {
    async fn case_events(&self, id: i64) -> StoreResult<Vec<CaseEvent>> {
        sqlx::query(
            "SELECT id, at, on_day, actor_name, action, state, note, from_unit, to_unit, due_on \
             FROM complaint_event WHERE complaint_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?
        .iter()
        .map(|r| {
            Ok(CaseEvent {
                id: get(r, "id")?,
                at: get(r, "at")?,
                on_day: get(r, "on_day")?,
                actor_name: get(r, "actor_name")?,
                action: get(r, "action")?,
                state: enum_col(
                    &get::<String>(r, "state")?,
                    CaseState::parse,
                    "complaint_event.state",
                )?,
                note: get(r, "note")?,
                from_unit: get::<Option<i64>>(r, "from_unit")?.map(UnitId),
                to_unit: get::<Option<i64>>(r, "to_unit")?.map(UnitId),
                due_on: get(r, "due_on")?,
            })
        })
        .collect()
    }

    /// A case by id or by receipt code, within `scope`, with its events.
    async fn case_where(
        &self,
        scope: &ScopeFilter,
        key: CaseKey<'_>,
    ) -> StoreResult<(Case, Vec<CaseEvent>)> {
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {CASE_COLS} FROM {CASE_FROM} WHERE "));
        match key {
            CaseKey::Id(id) => qb.push("c.id = ").push_bind(id),
            CaseKey::Receipt(r) => qb.push("c.receipt = ").push_bind(r.to_owned()),
        };
        push_scope(&mut qb, scope, "c.unit_id", None);
        let case = case_from(&qb.build().fetch_one(&self.pool).await.map_err(map_err)?)?;
        let events = self.case_events(case.id).await?;
        Ok((case, events))
    }
}

enum CaseKey<'a> {
    Id(i64),
    Receipt(&'a str),
}

/// A case as just written, read inside the writing transaction.
async fn case_in_tx(conn: &mut super::Conn, id: i64) -> StoreResult<Case> {
    let row = sqlx::query(&format!(
        "SELECT {CASE_COLS} FROM {CASE_FROM} WHERE c.id = $1"
    ))
    .bind(id)
    .fetch_one(&mut *conn)
    .await
    .map_err(map_err)?;
    case_from(&row)
}

#[allow(clippy::too_many_arguments)]
async fn insert_event(
    tx: &mut super::Conn,
    id: i64,
    on_day: NaiveDate,
    actor: &str,
    action: &str,
    state: CaseState,
    note: Option<&str>,
    units: (Option<UnitId>, Option<UnitId>),
    due_on: Option<NaiveDate>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO complaint_event (complaint_id, at, on_day, actor_name, action, state, note, \
         from_unit, to_unit, due_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id)
    .bind(now())
    .bind(on_day)
    .bind(actor)
    .bind(action)
    .bind(state.as_str())
    .bind(note)
    .bind(units.0.map(|u| u.0))
    .bind(units.1.map(|u| u.0))
    .bind(due_on)
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    Ok(())
}

#[async_trait::async_trait]
impl ComplaintStore for Backend {
    async fn rule_sets(&self) -> StoreResult<Vec<RuleSet>> {
        sqlx::query(
            "SELECT code, name, effective_from, periods, verified FROM complaint_rule_set \
             ORDER BY effective_from",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?
        .iter()
        .map(rule_set_from)
        .collect()
    }

    async fn put_rule_set(&self, ctx: &AuditCtx, r: &RuleSet) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let before = sqlx::query(
            "SELECT code, name, effective_from, periods, verified FROM complaint_rule_set \
             WHERE code = $1",
        )
        .bind(&r.code)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?
        .map(|row| rule_set_from(&row))
        .transpose()?;
        if before.as_ref().is_some_and(|b| b.verified) {
            return Err(StoreError::Conflict {
                field: "verified".into(),
            });
        }
        sqlx::query(
            "INSERT INTO complaint_rule_set (code, name, effective_from, periods, verified, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO UPDATE SET name = $2, \
             effective_from = $3, periods = $4, verified = $5, updated_at = $6",
        )
        .bind(&r.code)
        .bind(&r.name)
        .bind(r.effective_from)
        .bind(periods_json(r))
        .bind(r.verified)
        .bind(now())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new(
                "complaint.rule_set.put",
                "complaint_rule_set",
                &r.code,
                before.as_ref(),
                Some(r),
            ),
        )
        .await?;
        tx.commit().await
    }

    async fn seed_rule_sets(&self, sets: &[RuleSet]) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for r in sets {
            sqlx::query(
                "INSERT INTO complaint_rule_set (code, name, effective_from, periods, verified, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO NOTHING",
            )
            .bind(&r.code)
            .bind(&r.name)
            .bind(r.effective_from)
            .bind(periods_json(r))
            .bind(r.verified)
            .bind(now())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        tx.commit().await
    }

    async fn platforms(&self) -> StoreResult<Vec<Platform>> {
        sqlx::query("SELECT name, uscc, unit_id FROM complaint_platform ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(|r| {
                Ok(Platform {
                    name: get(r, "name")?,
                    uscc: get(r, "uscc")?,
                    unit_id: UnitId(get(r, "unit_id")?),
                })
            })
            .collect()
    }

    async fn put_platform(&self, ctx: &AuditCtx, p: &Platform) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO complaint_platform (name, uscc, unit_id) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET uscc = $2, unit_id = $3",
        )
        .bind(&p.name)
        .bind(&p.uscc)
        .bind(p.unit_id.0)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), _>(
                "complaint.platform.put",
                "complaint_platform",
                &p.name,
                None,
                Some(p),
            ),
        )
        .await?;
        tx.commit().await
    }

    async fn create_case(&self, ctx: &AuditCtx, c: &NewCase) -> StoreResult<Case> {
        let mut tx = self.begin_write().await?;
        let at = now();
        let state = c.state.unwrap_or(CaseState::Received);
        let id: i64 = get(
            &sqlx::query(
                "INSERT INTO complaint (receipt, external_no, kind, channel, state, step, due_on, \
                 due_uncertain, unit_id, rule_set, received_on, complainant_name, complainant_phone, \
                 complainant_id_number, complainant_address, person_key, real_name, \
                 respondent_entity_id, respondent_name, respondent_key, respondent_address, category, \
                 platform, amount_involved, description, files, lat, lng, merged_into, flagged, \
                 created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
                 $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, \
                 $26, $27, $28, $29, $30, $31, $32, $32) RETURNING id",
            )
            .bind(&c.receipt)
            .bind(&c.external_no)
            .bind(c.kind.unwrap_or(CaseKind::Complaint).as_str())
            .bind(c.channel.unwrap_or(Channel::Web).as_str())
            .bind(state.as_str())
            .bind(c.step.map(Step::as_str))
            .bind(c.due_on)
            .bind(c.due_uncertain)
            .bind(c.unit_id.0)
            .bind(&c.rule_set)
            .bind(c.received_on)
            .bind(&c.complainant_name)
            .bind(&c.complainant_phone)
            .bind(&c.complainant_id_number)
            .bind(&c.complainant_address)
            .bind(&c.person_key)
            .bind(c.real_name)
            .bind(c.respondent_entity_id)
            .bind(&c.respondent_name)
            .bind(&c.respondent_key)
            .bind(&c.respondent_address)
            .bind(&c.category)
            .bind(&c.platform)
            .bind(c.amount_involved)
            .bind(&c.description)
            .bind(join_list(&c.files))
            .bind(c.lat)
            .bind(c.lng)
            .bind(c.merged_into)
            .bind(c.flagged)
            .bind(&ctx.actor_name)
            .bind(at)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?,
            "id",
        )?;
        insert_event(
            &mut tx,
            id,
            c.received_on,
            &ctx.actor_name,
            "receive",
            CaseState::Received,
            None,
            (None, Some(c.unit_id)),
            c.due_on,
        )
        .await?;
        if let Some(into) = c.merged_into {
            insert_event(
                &mut tx,
                id,
                c.received_on,
                &ctx.actor_name,
                "merge",
                CaseState::Merged,
                Some(&format!("与案件 {into} 为同一事项，合并处理")),
                (None, None),
                None,
            )
            .await?;
        }
        let case = case_in_tx(&mut tx, id).await?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), _>("complaint.create", "complaint", id, None, Some(&case)),
        )
        .await?;
        tx.commit().await?;
        Ok(case)
    }

    async fn get_case(&self, scope: &ScopeFilter, id: i64) -> StoreResult<(Case, Vec<CaseEvent>)> {
        self.case_where(scope, CaseKey::Id(id)).await
    }

    async fn case_by_receipt(&self, receipt: &str) -> StoreResult<(Case, Vec<CaseEvent>)> {
        self.case_where(&ScopeFilter::All, CaseKey::Receipt(receipt))
            .await
    }

    async fn case_change(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        id: i64,
        ch: &CaseChange,
    ) -> StoreResult<Case> {
        let (before, _) = self.get_case(scope, id).await?;
        let mut tx = self.begin_write().await?;
        let at = now();
        let mut qb = QueryBuilder::<Db>::new("UPDATE complaint SET updated_at = ");
        qb.push_bind(at);
        macro_rules! set {
            ($col:literal, $v:expr) => {
                qb.push(concat!(", ", $col, " = ")).push_bind($v);
            };
        }
        if let Some(s) = ch.state {
            set!("state", s.as_str());
        }
        if let Some(o) = ch.outcome {
            set!("outcome", o.as_str());
        }
        if let Some(s) = ch.step {
            set!("step", s.map(Step::as_str));
        }
        if let Some(d) = ch.due_on {
            set!("due_on", d);
        }
        if let Some(b) = ch.due_uncertain {
            set!("due_uncertain", b);
        }
        if let Some(d) = ch.paused_on {
            set!("paused_on", d);
        }
        if let Some(b) = ch.late {
            set!("late", b);
        }
        if let Some(u) = ch.unit_id {
            set!("unit_id", u.0);
        }
        if let Some(d) = ch.accepted_on {
            set!("accepted_on", d);
        }
        if let Some(d) = ch.decided_on {
            set!("decided_on", d);
        }
        if let Some(d) = ch.closed_on {
            set!("closed_on", d);
        }
        if let Some(a) = ch.amount_recovered {
            set!("amount_recovered", a);
        }
        if let Some(s) = &ch.satisfaction {
            set!("satisfaction", s.clone());
        }
        if let Some(s) = &ch.reply {
            set!("reply", s.clone());
        }
        if let Some(m) = ch.merged_into {
            set!("merged_into", m);
        }
        if let Some((eid, name, key)) = &ch.respondent {
            set!("respondent_entity_id", *eid);
            set!("respondent_name", name.clone());
            set!("respondent_key", key.clone());
        }
        qb.push(" WHERE id = ").push_bind(id);
        qb.push(" AND state = ")
            .push_bind(ch.from.unwrap_or(before.state).as_str());
        let n = qb
            .build()
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict {
                field: "state".into(),
            });
        }
        let after = case_in_tx(&mut tx, id).await?;
        let units = if ch.unit_id.is_some() {
            (Some(before.unit_id), Some(after.unit_id))
        } else {
            (None, None)
        };
        insert_event(
            &mut tx,
            id,
            ch.on_day.unwrap_or_else(|| at.date_naive()),
            &ctx.actor_name,
            &ch.action,
            after.state,
            ch.note.as_deref(),
            units,
            after.due_on,
        )
        .await?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new(
                &format!("complaint.{}", ch.action),
                "complaint",
                id,
                Some(&before),
                Some(&after),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn list_cases(&self, scope: &ScopeFilter, q: &CaseQuery) -> StoreResult<Page<Case>> {
        let build = |qb: &mut QueryBuilder<'_, Db>| {
            push_scope(qb, scope, "c.unit_id", None);
            if let Some(k) = q.kind {
                qb.push(" AND c.kind = ").push_bind(k.as_str());
            }
            if let Some(s) = q.state {
                qb.push(" AND c.state = ").push_bind(s.as_str());
            }
            if q.open || q.overdue.is_some() || q.due_between.is_some() {
                qb.push(" AND c.state NOT IN ('closed', 'merged')");
            }
            if let Some(u) = q.unit_id {
                qb.push(" AND c.unit_id = ").push_bind(u.0);
            }
            if let Some(c) = &q.category {
                qb.push(" AND c.category = ").push_bind(c.clone());
            }
            if let Some(p) = &q.platform {
                qb.push(" AND c.platform = ").push_bind(p.clone());
            }
            if let Some(f) = q.flagged {
                qb.push(" AND c.flagged = ").push_bind(f);
            }
            if let Some(text) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                let pat = like_pattern(text);
                qb.push(" AND (c.receipt = ")
                    .push_bind(text.to_uppercase())
                    .push(" OR c.external_no = ")
                    .push_bind(text.to_owned())
                    .push(" OR c.respondent_name LIKE ")
                    .push_bind(pat)
                    .push(" ESCAPE '\\')");
            }
            if let Some(today) = q.overdue {
                qb.push(" AND c.paused_on IS NULL AND c.due_on < ")
                    .push_bind(today);
            }
            if let Some((from, to)) = q.due_between {
                qb.push(" AND c.paused_on IS NULL AND c.due_on >= ")
                    .push_bind(from)
                    .push(" AND c.due_on <= ")
                    .push_bind(to);
            }
            if let Some((from, to)) = q.received_between {
                qb.push(" AND c.received_on >= ")
                    .push_bind(from)
                    .push(" AND c.received_on <= ")
                    .push_bind(to);
            }
        };
        let mut qb =
            QueryBuilder::<Db>::new(format!("SELECT COUNT(*) AS n FROM {CASE_FROM} WHERE 1 = 1"));
        build(&mut qb);
        let total: i64 = get(
            &qb.build().fetch_one(&self.pool).await.map_err(map_err)?,
            "n",
        )?;
        let mut qb =
            QueryBuilder::<Db>::new(format!("SELECT {CASE_COLS} FROM {CASE_FROM} WHERE 1 = 1"));
        build(&mut qb);
        if q.overdue.is_some() || q.due_between.is_some() {
            qb.push(" ORDER BY c.due_on, c.id");
        } else {
            qb.push(" ORDER BY c.id DESC");
        }
        qb.push(" LIMIT ")
            .push_bind(q.paging.per_page)
            .push(" OFFSET ")
            .push_bind(q.paging.offset());
        let items = qb
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(case_from)
            .collect::<StoreResult<_>>()?;
        Ok(Page {
            items,
            total,
            page: q.paging.page,
            per_page: q.paging.per_page,
        })
    }

    async fn open_case_for(
        &self,
        person_key: &str,
        respondent_key: &str,
        since: NaiveDate,
    ) -> StoreResult<Option<Case>> {
        sqlx::query(&format!(
            "SELECT {CASE_COLS} FROM {CASE_FROM} WHERE c.person_key = $1 AND c.respondent_key = $2 \
             AND c.received_on >= $3 AND c.state NOT IN ('closed', 'merged') ORDER BY c.id LIMIT 1"
        ))
        .bind(person_key)
        .bind(respondent_key)
        .bind(since)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?
        .map(|r| case_from(&r))
        .transpose()
    }

    async fn person_counts(&self, person_key: &str, since: NaiveDate) -> StoreResult<(i64, i64)> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS n, COUNT(DISTINCT respondent_key) AS m FROM complaint \
             WHERE person_key = $1 AND received_on >= $2 AND state <> 'merged'",
        )
        .bind(person_key)
        .bind(since)
        .fetch_one(&self.pool)
        .await
        .map_err(map_err)?;
        Ok((get(&r, "n")?, get(&r, "m")?))
    }

    async fn flag_person(&self, person_key: &str, since: NaiveDate) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE complaint SET flagged = TRUE WHERE person_key = $1 AND received_on >= $2 \
             AND flagged = FALSE",
        )
        .bind(person_key)
        .bind(since)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    async fn case_counts(
        &self,
        scope: &ScopeFilter,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<CaseCount>> {
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT c.unit_id, c.category, c.platform, c.kind, c.received_on, COUNT(*) AS received, \
             SUM(CASE WHEN c.accepted_on IS NOT NULL THEN 1 ELSE 0 END) AS accepted, \
             SUM(CASE WHEN c.state = 'closed' THEN 1 ELSE 0 END) AS closed, \
             SUM(CASE WHEN c.state = 'closed' AND c.late = FALSE THEN 1 ELSE 0 END) AS on_time, \
             CAST(SUM(c.amount_recovered) AS BIGINT) AS recovered \
             FROM complaint c WHERE c.state <> 'merged' AND c.received_on >= ",
        );
        qb.push_bind(from)
            .push(" AND c.received_on <= ")
            .push_bind(to);
        push_scope(&mut qb, scope, "c.unit_id", None);
        qb.push(" GROUP BY c.unit_id, c.category, c.platform, c.kind, c.received_on");
        qb.build()
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(|r| {
                Ok(CaseCount {
                    unit_id: UnitId(get(r, "unit_id")?),
                    category: get(r, "category")?,
                    platform: get(r, "platform")?,
                    kind: enum_col(
                        &get::<String>(r, "kind")?,
                        CaseKind::parse,
                        "complaint.kind",
                    )?,
                    received_on: get(r, "received_on")?,
                    received: get(r, "received")?,
                    accepted: get(r, "accepted")?,
                    closed: get(r, "closed")?,
                    closed_on_time: get(r, "on_time")?,
                    recovered: get(r, "recovered")?,
                })
            })
            .collect()
    }

    async fn put_pledge(&self, ctx: &AuditCtx, p: &Pledge) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO entity_pledge (entity_id, kind, since, until, note, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (entity_id, kind) DO UPDATE SET \
             since = $3, until = $4, note = $5",
        )
        .bind(p.entity_id)
        .bind(&p.kind)
        .bind(p.since)
        .bind(p.until)
        .bind(&p.note)
        .bind(now())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), _>("pledge.put", "entity", p.entity_id, None, Some(p)),
        )
        .await?;
        tx.commit().await
    }

    async fn delete_pledge(&self, ctx: &AuditCtx, entity_id: i64, kind: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("DELETE FROM entity_pledge WHERE entity_id = $1 AND kind = $2")
            .bind(entity_id)
            .bind(kind)
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
            &AuditChange::new::<_, ()>("pledge.delete", "entity", entity_id, Some(&kind), None),
        )
        .await?;
        tx.commit().await
    }

    async fn pledges_of(&self, entity_id: i64) -> StoreResult<Vec<Pledge>> {
        self.all_pledges_where(Some(entity_id)).await
    }

    async fn all_pledges(&self) -> StoreResult<Vec<Pledge>> {
        self.all_pledges_where(None).await
    }
}

impl Backend {
    async fn all_pledges_where(&self, entity_id: Option<i64>) -> StoreResult<Vec<Pledge>> {
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT entity_id, kind, since, until, note FROM entity_pledge WHERE 1 = 1",
        );
        if let Some(id) = entity_id {
            qb.push(" AND entity_id = ").push_bind(id);
        }
        qb.push(" ORDER BY entity_id, kind");
        qb.build()
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(|r| {
                Ok(Pledge {
                    entity_id: get(r, "entity_id")?,
                    kind: get(r, "kind")?,
                    since: get(r, "since")?,
                    until: get(r, "until")?,
                    note: get(r, "note")?,
                })
            })
            .collect()
    }
}
