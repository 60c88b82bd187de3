//! Entities, licences, history and import jobs.
use super::{append_audit, enum_col, get, like_escape, like_pattern, now, push_scope, Conn, DbRow};
use crate::{map_err, push_search_terms, Backend, Db};
use chrono::NaiveDate;
use hongdun_core::ids::UnitId;
use hongdun_core::registry::{EntityKind, EntityStatus, LicenceKind};
use hongdun_store::*;
use serde_json::{json, Value};
use sqlx::QueryBuilder;
use std::collections::{BTreeMap, HashMap};

const ENTITY_COLS: &str = "id, uscc, reg_no, name, kind, legal_rep, id_number, phone, address, county_code, \
    township_code, unit_id, grid, industry, status, established, capital, employees, business_scope, tags, \
    warning, updated_at";

fn entity_from(r: &DbRow) -> StoreResult<Entity> {
    Ok(Entity {
        id: get(r, "id")?,
        uscc: get(r, "uscc")?,
        reg_no: get(r, "reg_no")?,
        name: get(r, "name")?,
        kind: enum_col(&get::<String>(r, "kind")?, EntityKind::parse, "entity.kind")?,
        legal_rep: get(r, "legal_rep")?,
        id_number: get(r, "id_number")?,
        phone: get(r, "phone")?,
        address: get(r, "address")?,
        county_code: get(r, "county_code")?,
        township_code: get(r, "township_code")?,
        unit_id: get::<Option<i64>>(r, "unit_id")?.map(UnitId),
        grid: get(r, "grid")?,
        industry: get(r, "industry")?,
        status: enum_col(
            &get::<String>(r, "status")?,
            EntityStatus::parse,
            "entity.status",
        )?,
        established: get(r, "established")?,
        capital: get(r, "capital")?,
        employees: get(r, "employees")?,
        business_scope: get(r, "business_scope")?,
        tags: get::<String>(r, "tags")?
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        warning: get(r, "warning")?,
        updated_at: get(r, "updated_at")?,
    })
}

/// The key an entity is matched on: its credit code, else its registration number.
fn key_of(uscc: &Option<String>, reg_no: &Option<String>) -> String {
    match (uscc, reg_no) {
        (Some(u), _) => format!("u:{u}"),
        (None, Some(r)) => format!("r:{r}"),
        (None, None) => String::new(),
    }
}

/// Field-by-field differences as {"field": [before, after]}; personal fields redacted.
fn diff(old: &Entity, new: &NewEntity) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    let mut put = |field: &str, a: Value, b: Value| {
        if a != b {
            let personal = hongdun_store::audit::PERSONAL_KEYS.contains(&field);
            let (a, b) = if personal {
                (json!("[已脱敏]"), json!("[已脱敏]"))
            } else {
                (a, b)
            };
            out.insert(field.to_owned(), json!([a, b]));
        }
    };
    put("reg_no", json!(old.reg_no), json!(new.reg_no));
    put("name", json!(old.name), json!(new.name));
    put("kind", json!(old.kind), json!(new.kind));
    put("legal_rep", json!(old.legal_rep), json!(new.legal_rep));
    put("id_number", json!(old.id_number), json!(new.id_number));
    put("phone", json!(old.phone), json!(new.phone));
    put("address", json!(old.address), json!(new.address));
    put(
        "county_code",
        json!(old.county_code),
        json!(new.county_code),
    );
    put(
        "township_code",
        json!(old.township_code),
        json!(new.township_code),
    );
    put("unit_id", json!(old.unit_id), json!(new.unit_id));
    put("grid", json!(old.grid), json!(new.grid));
    put("industry", json!(old.industry), json!(new.industry));
    put("status", json!(old.status), json!(new.status));
    put(
        "established",
        json!(old.established),
        json!(new.established),
    );
    put("capital", json!(old.capital), json!(new.capital));
    put("employees", json!(old.employees), json!(new.employees));
    put(
        "business_scope",
        json!(old.business_scope),
        json!(new.business_scope),
    );
    put("tags", json!(old.tags), json!(new.tags));
    put("warning", json!(old.warning), json!(new.warning));
    out
}

async fn existing_by_keys(
    conn: &mut Conn,
    rows: &[NewEntity],
) -> StoreResult<HashMap<String, Entity>> {
    let mut out = HashMap::new();
    let usccs: Vec<&String> = rows.iter().filter_map(|r| r.uscc.as_ref()).collect();
    let regs: Vec<&String> = rows
        .iter()
        .filter(|r| r.uscc.is_none())
        .filter_map(|r| r.reg_no.as_ref())
        .collect();
    for (col, keys) in [("uscc", usccs), ("reg_no", regs)] {
        for chunk in keys.chunks(500) {
            let mut qb = QueryBuilder::<Db>::new(format!(
                "SELECT {ENTITY_COLS} FROM entity WHERE {col} IN ("
            ));
            let mut list = qb.separated(", ");
            for k in chunk {
                list.push_bind((*k).clone());
            }
            qb.push(")");
            for r in qb.build().fetch_all(&mut *conn).await.map_err(map_err)? {
                let e = entity_from(&r)?;
                let key = if col == "uscc" {
                    key_of(&e.uscc, &None)
                } else {
                    key_of(&None, &e.reg_no)
                };
                out.insert(key, e);
            }
        }
    }
    Ok(out)
}

/// A committed batch's counts and checkpoint added to its job ($1-$9: rows
/// seen, kept, failed, warned, inserted, updated, the checkpoint row, the time,
/// the job).
pub(crate) const IMPORT_JOB_ADVANCE: &str =
    "UPDATE import_job SET rows_total = rows_total + $1, rows_ok = rows_ok + $2, rows_failed = rows_failed + $3, \
     rows_warned = rows_warned + $4, inserted = inserted + $5, updated = updated + $6, checkpoint_row = $7, \
     updated_at = $8 WHERE id = $9 AND status = 'running'";

/// The columns of a new entity row, in the order of `push_entity_values`.
pub(crate) const ENTITY_INSERT: &str =
    "INSERT INTO entity (uscc, reg_no, name, kind, legal_rep, id_number, phone, address, county_code, \
     township_code, unit_id, grid, industry, status, established, capital, employees, business_scope, \
     tags, warning, search, created_by, created_at, updated_at) ";

pub(crate) fn push_entity_values(
    qb: &mut QueryBuilder<'_, Db>,
    rows: &[&NewEntity],
    at: chrono::DateTime<chrono::Utc>,
    by: &str,
) {
    qb.push_values(rows, |mut b, e| {
        b.push_bind(e.uscc.clone())
            .push_bind(e.reg_no.clone())
            .push_bind(e.name.clone())
            .push_bind(e.kind.as_str())
            .push_bind(e.legal_rep.clone())
            .push_bind(e.id_number.clone())
            .push_bind(e.phone.clone())
            .push_bind(e.address.clone())
            .push_bind(e.county_code.clone())
            .push_bind(e.township_code.clone())
            .push_bind(e.unit_id.map(|u| u.0))
            .push_bind(e.grid.clone())
            .push_bind(e.industry.clone())
            .push_bind(e.status.as_str())
            .push_bind(e.established)
            .push_bind(e.capital)
            .push_bind(e.employees)
            .push_bind(e.business_scope.clone())
            .push_bind(e.tags.join(" "))
            .push_bind(e.warning.clone())
            .push_bind(e.search.clone())
            .push_bind(by.to_owned())
            .push_bind(at)
            .push_bind(at);
    });
}

/// Inserts or updates `rows`, with history events and one audit row, inside `tx`.
async fn upsert_in_tx(
    tx: &mut Conn,
    ctx: &AuditCtx,
    rows: &[NewEntity],
    job: Option<i64>,
) -> StoreResult<UpsertCounts> {
    // During a first load the credit code is not yet indexed: only that
    // load's own job may write businesses.
    crate::refuse_during_first_load(&mut *tx, job).await?;
    let mut counts = UpsertCounts::default();
    let at = now();
    let existing = existing_by_keys(&mut *tx, rows).await?;
    let mut inserts: Vec<&NewEntity> = Vec::new();
    let mut events: Vec<(i64, &'static str, String)> = Vec::new();
    let mut changed_ids = Vec::new();
    for row in rows {
        match existing.get(&key_of(&row.uscc, &row.reg_no)) {
            None => inserts.push(row),
            Some(old) => {
                let changes = diff(old, row);
                if changes.is_empty() {
                    counts.unchanged += 1;
                    continue;
                }
                sqlx::query(
                    "UPDATE entity SET reg_no = $1, name = $2, kind = $3, legal_rep = $4, id_number = $5, \
                     phone = $6, address = $7, county_code = $8, township_code = $9, unit_id = $10, grid = $11, \
                     industry = $12, status = $13, established = $14, capital = $15, employees = $16, \
                     business_scope = $17, tags = $18, warning = $19, search = $20, updated_at = $21 \
                     WHERE id = $22",
                )
                .bind(&row.reg_no)
                .bind(&row.name)
                .bind(row.kind.as_str())
                .bind(&row.legal_rep)
                .bind(&row.id_number)
                .bind(&row.phone)
                .bind(&row.address)
                .bind(&row.county_code)
                .bind(&row.township_code)
                .bind(row.unit_id.map(|u| u.0))
                .bind(&row.grid)
                .bind(&row.industry)
                .bind(row.status.as_str())
                .bind(row.established)
                .bind(row.capital)
                .bind(row.employees)
                .bind(&row.business_scope)
                .bind(row.tags.join(" "))
                .bind(&row.warning)
                .bind(&row.search)
                .bind(at)
                .bind(old.id)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                counts.updated += 1;
                changed_ids.push(old.id);
                events.push((old.id, "update", Value::Object(changes).to_string()));
            }
        }
    }
    // 24 columns: 400 rows keep a statement under both databases' bind limits.
    // A creation is recorded on the row itself (created_at, created_by) and in
    // the audit row of its batch, not as an event row: imports stay lean.
    let mut new_ids = Vec::with_capacity(inserts.len());
    for chunk in inserts.chunks(400) {
        let mut qb = QueryBuilder::<Db>::new(ENTITY_INSERT);
        push_entity_values(&mut qb, chunk, at, &ctx.actor_name);
        new_ids.extend(crate::inserted_ids(&mut *tx, qb, chunk.len()).await?);
    }
    counts.inserted += new_ids.len() as u64;
    crate::index_new_entities(&mut *tx, &new_ids).await?;
    changed_ids.extend(new_ids);
    for chunk in events.chunks(1000) {
        let mut qb = QueryBuilder::<Db>::new(
            "INSERT INTO entity_event (entity_id, at, actor_name, kind, changes) ",
        );
        qb.push_values(chunk, |mut b, (id, kind, changes)| {
            b.push_bind(*id)
                .push_bind(at)
                .push_bind(ctx.actor_name.clone())
                .push_bind(*kind)
                .push_bind(changes.clone());
        });
        qb.build().execute(&mut *tx).await.map_err(map_err)?;
    }
    if counts.inserted + counts.updated > 0 {
        append_audit(&mut *tx, ctx, &upsert_audit(rows, &counts, changed_ids)).await?;
    }
    Ok(counts)
}

/// The audit row of one upsert: its counts and the first 1,000 ids it wrote.
pub(crate) fn upsert_audit(
    rows: &[NewEntity],
    counts: &UpsertCounts,
    mut changed_ids: Vec<i64>,
) -> AuditChange {
    changed_ids.truncate(1000);
    let summary = json!({ "counts": counts, "entity_ids": changed_ids });
    let target = if rows.len() == 1 {
        key_of(&rows[0].uscc, &rows[0].reg_no)
    } else {
        "batch".into()
    };
    AuditChange::new::<(), _>(
        "registry.entity.upsert",
        "entity",
        target,
        None,
        Some(&summary),
    )
}

#[async_trait::async_trait]
impl EntityStore for Backend {
    async fn upsert_entities(
        &self,
        ctx: &AuditCtx,
        rows: &[NewEntity],
    ) -> StoreResult<UpsertCounts> {
        if rows.is_empty() {
            return Ok(UpsertCounts::default());
        }
        let mut tx = self.begin_write().await?;
        let counts = upsert_in_tx(&mut tx, ctx, rows, None).await?;
        tx.commit().await?;
        Ok(counts)
    }

    async fn get_entity(&self, scope: &ScopeFilter, id: i64) -> StoreResult<Entity> {
        let mut qb =
            QueryBuilder::<Db>::new(format!("SELECT {ENTITY_COLS} FROM entity WHERE id = "));
        qb.push_bind(id);
        push_scope(&mut qb, scope, "unit_id", None);
        entity_from(&qb.build().fetch_one(&self.pool).await.map_err(map_err)?)
    }

    async fn entity_by_uscc(&self, scope: &ScopeFilter, uscc: &str) -> StoreResult<Entity> {
        let mut qb =
            QueryBuilder::<Db>::new(format!("SELECT {ENTITY_COLS} FROM entity WHERE uscc = "));
        qb.push_bind(uscc.to_owned());
        push_scope(&mut qb, scope, "unit_id", None);
        entity_from(&qb.build().fetch_one(&self.pool).await.map_err(map_err)?)
    }

    async fn search_entities(
        &self,
        scope: &ScopeFilter,
        q: &EntityQuery,
    ) -> StoreResult<Page<Entity>> {
        if let Some(answer) = self.fast_search_entities(scope, q) {
            return answer;
        }
        let filters = |qb: &mut QueryBuilder<'_, Db>| {
            qb.push(" WHERE TRUE");
            push_scope(qb, scope, "unit_id", None);
            if !q.terms.is_empty() {
                push_search_terms(qb, &q.terms, q.candidate_limit);
            }
            if let Some(n) = &q.name_like {
                qb.push(" AND (name LIKE ")
                    .push_bind(like_pattern(n))
                    .push(" ESCAPE '\\' OR search LIKE ");
                qb.push_bind(like_pattern(n)).push(" ESCAPE '\\')");
            }
            if let Some(p) = &q.uscc_prefix {
                // A range scan on the unique index: [p, p + U+FFFF).
                qb.push(" AND uscc >= ")
                    .push_bind(p.clone())
                    .push(" AND uscc < ")
                    .push_bind(format!("{p}\u{FFFF}"));
            }
            if let Some(a) = &q.address_like {
                qb.push(" AND address LIKE ")
                    .push_bind(like_pattern(a))
                    .push(" ESCAPE '\\'");
            }
            if let Some(d) = &q.division {
                match d.len() {
                    9 => qb.push(" AND township_code = ").push_bind(d.clone()),
                    6 => qb.push(" AND county_code = ").push_bind(d.clone()),
                    _ => qb
                        .push(" AND county_code LIKE ")
                        .push_bind(format!("{}%", like_escape(d)))
                        .push(" ESCAPE '\\'"),
                };
            }
            if let Some(i) = &q.industry_prefix {
                qb.push(" AND industry LIKE ")
                    .push_bind(format!("{}%", like_escape(i)))
                    .push(" ESCAPE '\\'");
            }
            if let Some(k) = q.kind {
                qb.push(" AND kind = ").push_bind(k.as_str());
            }
            if let Some(s) = q.status {
                qb.push(" AND status = ").push_bind(s.as_str());
            }
            if let Some(t) = &q.tag {
                qb.push(" AND (' ' || tags || ' ') LIKE ")
                    .push_bind(format!("% {} %", like_escape(t)))
                    .push(" ESCAPE '\\'");
            }
            if let Some(u) = q.unit_id {
                qb.push(" AND unit_id = ").push_bind(u.0);
            }
        };
        let total: Option<i64> = if q.skip_count {
            None
        } else {
            let mut count = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM entity");
            filters(&mut count);
            Some(
                count
                    .build_query_scalar()
                    .fetch_one(&self.pool)
                    .await
                    .map_err(map_err)?,
            )
        };
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {ENTITY_COLS} FROM entity"));
        filters(&mut qb);
        qb.push(match q.sort {
            EntitySort::Name => " ORDER BY name, id",
            EntitySort::Id => " ORDER BY id",
            EntitySort::EstablishedDesc => " ORDER BY established DESC, id",
            EntitySort::UpdatedDesc => " ORDER BY updated_at DESC, id",
        });
        qb.push(" LIMIT ")
            .push_bind(q.paging.per_page)
            .push(" OFFSET ")
            .push_bind(q.paging.offset());
        let rows = qb.build().fetch_all(&self.pool).await.map_err(map_err)?;
        let items: Vec<Entity> = rows.iter().map(entity_from).collect::<StoreResult<_>>()?;
        Ok(Page {
            total: total.unwrap_or(items.len() as i64),
            items,
            page: q.paging.page,
            per_page: q.paging.per_page,
        })
    }

    async fn entity_history(&self, scope: &ScopeFilter, id: i64) -> StoreResult<Vec<EntityEvent>> {
        self.get_entity(scope, id).await?;
        let created = sqlx::query("SELECT created_at, created_by FROM entity WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        let mut history = vec![EntityEvent {
            id: 0,
            entity_id: id,
            at: get(&created, "created_at")?,
            actor_name: get(&created, "created_by")?,
            kind: "create".into(),
            changes: "{}".into(),
        }];
        let rows = sqlx::query(
            "SELECT id, entity_id, at, actor_name, kind, changes FROM entity_event WHERE entity_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        for r in &rows {
            history.push(EntityEvent {
                id: get(r, "id")?,
                entity_id: get(r, "entity_id")?,
                at: get(r, "at")?,
                actor_name: get(r, "actor_name")?,
                kind: get(r, "kind")?,
                changes: get(r, "changes")?,
            });
        }
        Ok(history)
    }

    async fn licence_watch(
        &self,
        scope: &ScopeFilter,
        watch: &LicenceWatch,
        paging: Paging,
    ) -> StoreResult<Page<LicenceAlert>> {
        let missing = matches!(watch, LicenceWatch::Missing { .. });
        let from = |qb: &mut QueryBuilder<'_, Db>| {
            if missing {
                qb.push(" FROM entity e WHERE e.status = 'active'");
            } else {
                qb.push(format!(
                    " FROM licence l {} entity e ON e.id = l.entity_id WHERE l.status = 'valid'",
                    crate::LICENCE_FIRST_JOIN
                ));
            }
            push_scope(qb, scope, "e.unit_id", None);
            match watch {
                LicenceWatch::Expiring { today, until } => {
                    qb.push(" AND l.expires_on >= ").push_bind(*today);
                    qb.push(" AND l.expires_on <= ").push_bind(*until);
                }
                LicenceWatch::ExpiredTrading { today } => {
                    qb.push(" AND l.expires_on < ").push_bind(*today);
                    qb.push(" AND e.status = 'active'");
                }
                LicenceWatch::Missing {
                    kind,
                    industry_prefixes,
                } => {
                    qb.push(" AND (FALSE");
                    for p in industry_prefixes {
                        qb.push(" OR e.industry LIKE ")
                            .push_bind(format!("{}%", like_escape(p)))
                            .push(" ESCAPE '\\'");
                    }
                    qb.push(") AND NOT EXISTS (SELECT 1 FROM licence x WHERE x.entity_id = e.id AND x.status = 'valid' AND x.kind = ");
                    qb.push_bind(kind.as_str()).push(")");
                }
            }
        };
        let mut count = QueryBuilder::<Db>::new("SELECT COUNT(*)");
        from(&mut count);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        let cols = if missing {
            "SELECT e.id AS entity_id, e.uscc, e.name, e.unit_id, e.township_code, e.industry, NULL AS kind, \
             NULL AS number, NULL AS expires_on"
        } else {
            "SELECT e.id AS entity_id, e.uscc, e.name, e.unit_id, e.township_code, e.industry, l.kind, l.number, \
             l.expires_on"
        };
        let mut qb = QueryBuilder::<Db>::new(cols);
        from(&mut qb);
        qb.push(if missing {
            " ORDER BY e.name, e.id"
        } else {
            " ORDER BY l.expires_on, e.id"
        });
        qb.push(" LIMIT ")
            .push_bind(paging.per_page)
            .push(" OFFSET ")
            .push_bind(paging.offset());
        let rows = qb.build().fetch_all(&self.pool).await.map_err(map_err)?;
        let fixed_kind = match watch {
            LicenceWatch::Missing { kind, .. } => Some(*kind),
            _ => None,
        };
        let items = rows
            .iter()
            .map(|r| {
                let kind = match fixed_kind {
                    Some(k) => k,
                    None => enum_col(
                        &get::<String>(r, "kind")?,
                        LicenceKind::parse,
                        "licence.kind",
                    )?,
                };
                Ok(LicenceAlert {
                    entity_id: get(r, "entity_id")?,
                    uscc: get(r, "uscc")?,
                    name: get(r, "name")?,
                    unit_id: get::<Option<i64>>(r, "unit_id")?.map(UnitId),
                    township_code: get(r, "township_code")?,
                    industry: get(r, "industry")?,
                    licence_kind: kind,
                    number: if fixed_kind.is_some() {
                        None
                    } else {
                        get(r, "number")?
                    },
                    expires_on: if fixed_kind.is_some() {
                        None
                    } else {
                        get(r, "expires_on")?
                    },
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page {
            items,
            total,
            page: paging.page,
            per_page: paging.per_page,
        })
    }

    async fn entity_stats(
        &self,
        scope: &ScopeFilter,
        since: NaiveDate,
    ) -> StoreResult<EntityStats> {
        // Read from the draw's covering index, led by status, office and
        // kind: every status named, so each (status, office) is one seek, and
        // the groups come in the index's order (no sort).
        let statuses = EntityStatus::ALL
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT unit_id, kind, status, COUNT(*) AS n FROM entity WHERE status IN ({statuses})"
        ));
        push_scope(&mut qb, scope, "unit_id", None);
        qb.push(" GROUP BY status, unit_id, kind");
        let rows = qb.build().fetch_all(&self.pool).await.map_err(map_err)?;
        let mut by_kind: BTreeMap<String, i64> = BTreeMap::new();
        let mut by_status: BTreeMap<String, i64> = BTreeMap::new();
        let mut by_unit: BTreeMap<String, i64> = BTreeMap::new();
        let mut total = 0;
        for r in &rows {
            let n: i64 = get(r, "n")?;
            let unit = get::<Option<i64>>(r, "unit_id")?.map_or(String::new(), |u| u.to_string());
            *by_kind.entry(get(r, "kind")?).or_default() += n;
            *by_status.entry(get(r, "status")?).or_default() += n;
            *by_unit.entry(unit).or_default() += n;
            total += n;
        }
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT substr(CAST(established AS TEXT), 1, 7) AS k, COUNT(*) AS n FROM entity WHERE established >= ",
        );
        qb.push_bind(since);
        push_scope(&mut qb, scope, "unit_id", None);
        qb.push(" GROUP BY 1 ORDER BY 1");
        let by_month = qb
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .iter()
            .map(|r| {
                Ok(Count {
                    key: get(r, "k")?,
                    count: get(r, "n")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let counts = |m: BTreeMap<String, i64>| {
            m.into_iter()
                .map(|(key, count)| Count { key, count })
                .collect::<Vec<_>>()
        };
        Ok(EntityStats {
            total,
            by_kind: counts(by_kind),
            by_status: counts(by_status),
            by_unit: counts(by_unit),
            by_month,
        })
    }

    async fn entity_with_licences(&self, uscc: &str) -> StoreResult<(Entity, Vec<Licence>)> {
        if let Some(answer) = self.fast_entity_with_licences(uscc) {
            return answer;
        }
        let cols: Vec<String> = ENTITY_COLS
            .split(',')
            .map(|c| format!("e.{}", c.trim()))
            .collect();
        let rows = sqlx::query(&format!(
            "SELECT {}, l.id AS l_id, l.kind AS l_kind, l.number AS l_number, l.issuer AS l_issuer, \
             l.issued_on AS l_issued_on, l.expires_on AS l_expires_on, l.status AS l_status \
             FROM entity e LEFT JOIN licence l ON l.entity_id = e.id WHERE e.uscc = $1 ORDER BY l.kind, l.number",
            cols.join(", ")
        ))
        .bind(uscc)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let first = rows.first().ok_or(StoreError::NotFound)?;
        let entity = entity_from(first)?;
        let mut licences = Vec::new();
        for r in &rows {
            if let Some(id) = get::<Option<i64>>(r, "l_id")? {
                licences.push(Licence {
                    id,
                    entity_id: entity.id,
                    kind: enum_col(
                        &get::<String>(r, "l_kind")?,
                        LicenceKind::parse,
                        "licence.kind",
                    )?,
                    number: get(r, "l_number")?,
                    issuer: get(r, "l_issuer")?,
                    issued_on: get(r, "l_issued_on")?,
                    expires_on: get(r, "l_expires_on")?,
                    status: get(r, "l_status")?,
                });
            }
        }
        Ok((entity, licences))
    }

    async fn licences_of_many(&self, entity_ids: &[i64]) -> StoreResult<Vec<Licence>> {
        if let Some(answer) = self.fast_licences_of_many(entity_ids) {
            return answer;
        }
        let mut out = Vec::new();
        for chunk in entity_ids.chunks(500) {
            let mut qb = QueryBuilder::<Db>::new(
                "SELECT id, entity_id, kind, number, issuer, issued_on, expires_on, status FROM licence \
                 WHERE entity_id IN (",
            );
            let mut list = qb.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            qb.push(") ORDER BY entity_id, kind, number");
            for r in qb.build().fetch_all(&self.pool).await.map_err(map_err)? {
                out.push(licence_from(&r)?);
            }
        }
        Ok(out)
    }

    async fn licences_of(&self, entity_id: i64) -> StoreResult<Vec<Licence>> {
        let rows = sqlx::query(
            "SELECT id, entity_id, kind, number, issuer, issued_on, expires_on, status FROM licence \
             WHERE entity_id = $1 ORDER BY kind, number",
        )
        .bind(entity_id)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(licence_from).collect()
    }

    async fn load_licences(
        &self,
        ctx: &AuditCtx,
        rows: &[(String, NewLicence)],
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let at = now();
        let mut added = 0u64;
        for (uscc, l) in rows {
            added += sqlx::query(
                "INSERT INTO licence (entity_id, kind, number, issuer, issued_on, expires_on, status, created_at, updated_at) \
                 SELECT id, $2, $3, $4, $5, $6, $7, $8, $8 FROM entity WHERE uscc = $1 \
                 ON CONFLICT (kind, number) DO NOTHING",
            )
            .bind(uscc)
            .bind(l.kind.as_str())
            .bind(&l.number)
            .bind(&l.issuer)
            .bind(l.issued_on)
            .bind(l.expires_on)
            .bind(&l.status)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        }
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), _>(
                "registry.licence.load",
                "licence",
                "*",
                None,
                Some(&json!({ "rows": rows.len(), "added": added })),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(added)
    }

    async fn put_licence(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        entity_id: i64,
        l: &NewLicence,
    ) -> StoreResult<Licence> {
        self.get_entity(scope, entity_id).await?;
        let mut tx = self.begin_write().await?;
        let at = now();
        let r = sqlx::query(
            "INSERT INTO licence (entity_id, kind, number, issuer, issued_on, expires_on, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
             ON CONFLICT (kind, number) DO UPDATE SET issuer = excluded.issuer, issued_on = excluded.issued_on, \
             expires_on = excluded.expires_on, status = excluded.status, updated_at = excluded.updated_at \
             WHERE licence.entity_id = excluded.entity_id \
             RETURNING id, entity_id, kind, number, issuer, issued_on, expires_on, status",
        )
        .bind(entity_id)
        .bind(l.kind.as_str())
        .bind(&l.number)
        .bind(&l.issuer)
        .bind(l.issued_on)
        .bind(l.expires_on)
        .bind(&l.status)
        .bind(at)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?
        // The number belongs to another entity: a conflict, not a silent move.
        .ok_or(StoreError::Conflict { field: "number".into() })?;
        let licence = licence_from(&r)?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), _>(
                "registry.licence.put",
                "licence",
                licence.id,
                None,
                Some(&licence),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(licence)
    }
}

fn licence_from(r: &DbRow) -> StoreResult<Licence> {
    Ok(Licence {
        id: get(r, "id")?,
        entity_id: get(r, "entity_id")?,
        kind: enum_col(
            &get::<String>(r, "kind")?,
            LicenceKind::parse,
            "licence.kind",
        )?,
        number: get(r, "number")?,
        issuer: get(r, "issuer")?,
        issued_on: get(r, "issued_on")?,
        expires_on: get(r, "expires_on")?,
        status: get(r, "status")?,
    })
}

// ---------------------------------------------------------------- import jobs

const JOB_COLS: &str = "id, kind, file_name, file_sha256, mode, status, rows_total, rows_ok, rows_failed, rows_warned, \
    inserted, updated, checkpoint_row, unit_id, created_by_name, message, created_at, updated_at, finished_at";

fn job_from(r: &DbRow) -> StoreResult<ImportJob> {
    Ok(ImportJob {
        id: get(r, "id")?,
        kind: get(r, "kind")?,
        file_name: get(r, "file_name")?,
        file_sha256: get(r, "file_sha256")?,
        mode: get(r, "mode")?,
        status: get(r, "status")?,
        rows_total: get(r, "rows_total")?,
        rows_ok: get(r, "rows_ok")?,
        rows_failed: get(r, "rows_failed")?,
        rows_warned: get(r, "rows_warned")?,
        inserted: get(r, "inserted")?,
        updated: get(r, "updated")?,
        checkpoint_row: get(r, "checkpoint_row")?,
        unit_id: get::<Option<i64>>(r, "unit_id")?.map(UnitId),
        created_by_name: get(r, "created_by_name")?,
        message: get(r, "message")?,
        created_at: get(r, "created_at")?,
        updated_at: get(r, "updated_at")?,
        finished_at: get(r, "finished_at")?,
    })
}

#[async_trait::async_trait]
impl ImportStore for Backend {
    async fn begin_bulk_load(&self, job_id: i64) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        crate::lock_entities_for_bulk(&mut tx).await?;
        let any: Option<i64> = sqlx::query_scalar("SELECT id FROM entity LIMIT 1")
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
        if any.is_some() {
            return Ok(false);
        }
        for (name, _) in crate::ENTITY_INDEXES {
            sqlx::query(&format!("DROP INDEX IF EXISTS {name}"))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        crate::begin_first_load(&mut tx, job_id).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn ensure_entity_indexes(&self) -> StoreResult<()> {
        if self.build_entity_indexes_bulk().await? {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        let (before, after) = crate::INDEX_BUILD_SETTINGS;
        let creates = crate::ENTITY_INDEXES.iter().map(|(_, create)| *create);
        for sql in std::iter::once(before)
            .chain(creates)
            .chain([after])
            .filter(|s| !s.is_empty())
        {
            sqlx::query(sql).execute(&mut *tx).await.map_err(map_err)?;
        }
        crate::end_first_load(&mut tx).await?;
        crate::finish_search_index(&mut tx).await?;
        tx.commit().await
    }

    async fn create_import_job(
        &self,
        ctx: &AuditCtx,
        kind: &str,
        file_name: &str,
        file_sha256: &str,
        mode: &str,
    ) -> StoreResult<ImportJob> {
        let mut tx = self.begin_write().await?;
        let at = now();
        let r = sqlx::query(&format!(
            "INSERT INTO import_job (kind, file_name, file_sha256, mode, status, unit_id, created_by_name, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, 'running', $5, $6, $7, $7) RETURNING {JOB_COLS}"
        ))
        .bind(kind)
        .bind(file_name)
        .bind(file_sha256)
        .bind(mode)
        .bind(ctx.unit_id.map(|u| u.0))
        .bind(&ctx.actor_name)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        let job = job_from(&r)?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), _>(
                "registry.import.start",
                "import_job",
                job.id,
                None,
                Some(&job),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(job)
    }

    async fn resumable_import_job(&self, kind: &str, file_sha256: &str) -> StoreResult<ImportJob> {
        let r = sqlx::query(&format!(
            "SELECT {JOB_COLS} FROM import_job WHERE kind = $1 AND file_sha256 = $2 AND status = 'running' \
             ORDER BY id DESC LIMIT 1"
        ))
        .bind(kind)
        .bind(file_sha256)
        .fetch_one(&self.pool)
        .await
        .map_err(map_err)?;
        job_from(&r)
    }

    async fn get_import_job(&self, scope: &ScopeFilter, id: i64) -> StoreResult<ImportJob> {
        let mut qb =
            QueryBuilder::<Db>::new(format!("SELECT {JOB_COLS} FROM import_job WHERE id = "));
        qb.push_bind(id);
        push_scope(&mut qb, scope, "unit_id", None);
        job_from(&qb.build().fetch_one(&self.pool).await.map_err(map_err)?)
    }

    async fn list_import_jobs(
        &self,
        scope: &ScopeFilter,
        q: &ImportJobQuery,
    ) -> StoreResult<Page<ImportJob>> {
        let filters = |qb: &mut QueryBuilder<'_, Db>| {
            qb.push(" WHERE TRUE");
            if let Some(kind) = &q.kind {
                qb.push(" AND kind = ").push_bind(kind.clone());
            }
            if let Some(status) = &q.status {
                qb.push(" AND status = ").push_bind(status.clone());
            }
            push_scope(qb, scope, "unit_id", None);
        };
        let mut count = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM import_job");
        filters(&mut count);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {JOB_COLS} FROM import_job"));
        filters(&mut qb);
        qb.push(" ORDER BY id DESC LIMIT ")
            .push_bind(q.paging.per_page)
            .push(" OFFSET ")
            .push_bind(q.paging.offset());
        let rows = qb.build().fetch_all(&self.pool).await.map_err(map_err)?;
        Ok(Page {
            items: rows.iter().map(job_from).collect::<StoreResult<_>>()?,
            total,
            page: q.paging.page,
            per_page: q.paging.per_page,
        })
    }

    async fn commit_import_batch(
        &self,
        ctx: &AuditCtx,
        job_id: i64,
        batch: ImportBatch,
    ) -> StoreResult<UpsertCounts> {
        // All new (a first load): written on the backend's fastest path.
        let batch = match self.commit_new_entities(ctx, job_id, batch).await? {
            Ok(counts) => return Ok(counts),
            Err(batch) => batch,
        };
        let mut tx = self.begin_write().await?;
        let counts = if batch.rows.is_empty() {
            UpsertCounts::default()
        } else {
            upsert_in_tx(&mut tx, ctx, &batch.rows, Some(job_id)).await?
        };
        for chunk in batch.errors.chunks(1000) {
            let mut qb = QueryBuilder::<Db>::new(
                "INSERT INTO import_error (job_id, row_no, column_name, code, message, severity) ",
            );
            qb.push_values(chunk, |mut b, e| {
                b.push_bind(job_id)
                    .push_bind(e.row_no)
                    .push_bind(e.column.clone())
                    .push_bind(e.code.clone())
                    .push_bind(e.message.clone())
                    .push_bind(e.severity.clone());
            });
            qb.build().execute(&mut *tx).await.map_err(map_err)?;
        }
        sqlx::query(IMPORT_JOB_ADVANCE)
            .bind(batch.rows_seen)
            .bind(batch.rows.len() as i64)
            .bind(batch.rows_failed)
            .bind(batch.rows_warned)
            .bind(counts.inserted as i64)
            .bind(counts.updated as i64)
            .bind(batch.checkpoint_row)
            .bind(now())
            .bind(job_id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await?;
        Ok(counts)
    }

    async fn finish_import_job(
        &self,
        id: i64,
        status: &str,
        message: Option<&str>,
    ) -> StoreResult<ImportJob> {
        let mut tx = self.begin_write().await?;
        let at = now();
        let r = sqlx::query(&format!(
            "UPDATE import_job SET status = $1, message = $2, finished_at = $3, updated_at = $3 WHERE id = $4 \
             RETURNING {JOB_COLS}"
        ))
        .bind(status)
        .bind(message)
        .bind(at)
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        let job = job_from(&r)?;
        let ctx = AuditCtx {
            actor_user_id: None,
            actor_name: job.created_by_name.clone(),
            unit_id: job.unit_id,
            request_id: None,
        };
        append_audit(
            &mut tx,
            &ctx,
            &AuditChange::new::<(), _>(
                "registry.import.finish",
                "import_job",
                id,
                None,
                Some(&job),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(job)
    }

    async fn import_errors(&self, job_id: i64) -> StoreResult<Vec<ImportError>> {
        let rows = sqlx::query(
            "SELECT row_no, column_name, code, message, severity FROM import_error WHERE job_id = $1 ORDER BY row_no, id",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(ImportError {
                    row_no: get(r, "row_no")?,
                    column: get(r, "column_name")?,
                    code: get(r, "code")?,
                    message: get(r, "message")?,
                    severity: get(r, "severity")?,
                })
            })
            .collect()
    }
}
