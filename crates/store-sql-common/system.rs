//! The `system` tables: divisions, units, users, roles, sessions, API tokens,
//! the sign-in log, dictionaries, settings and holiday schedules.
use super::{
    append_audit, enum_col, get, join_list, like_escape, now, push_scope, split_list, Conn, DbRow,
};
use crate::{map_err, Backend, Db};
use chrono::{DateTime, NaiveDate, Utc};
use hongdun_core::calendar::ScheduleDay;
use hongdun_core::division::DivisionLevel;
use hongdun_core::ids::{RoleId, TokenId, UnitId, UserId};
use hongdun_core::system::{DataScope, UnitKind, UnitNode};
use hongdun_store::*;
use sqlx::QueryBuilder;

// ---------------------------------------------------------------- divisions

fn division_from(r: &DbRow) -> StoreResult<Division> {
    Ok(Division {
        code: get(r, "code")?,
        name: get(r, "name")?,
        level: enum_col(
            &get::<String>(r, "level")?,
            DivisionLevel::parse,
            "division.level",
        )?,
        parent_code: get(r, "parent_code")?,
    })
}

#[async_trait::async_trait]
impl DivisionStore for Backend {
    async fn upsert_divisions(&self, ctx: &AuditCtx, rows: &[Division]) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let mut n = 0;
        // Multi-row inserts, kept well under both databases' bind-parameter limits.
        for chunk in rows.chunks(1000) {
            let mut qb =
                QueryBuilder::<Db>::new("INSERT INTO division (code, name, level, parent_code) ");
            qb.push_values(chunk, |mut b, d| {
                b.push_bind(d.code.clone())
                    .push_bind(d.name.clone())
                    .push_bind(d.level.as_str())
                    .push_bind(d.parent_code.clone());
            });
            qb.push(
                " ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, \
                 parent_code = excluded.parent_code",
            );
            n += qb
                .build()
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
        }
        let summary = serde_json::json!({ "rows": rows.len() });
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), _>(
                "system.division.load",
                "division",
                "*",
                None,
                Some(&summary),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn division_count(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM division")
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)
    }

    async fn all_division_codes(&self) -> StoreResult<Vec<String>> {
        sqlx::query_scalar("SELECT code FROM division")
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)
    }

    async fn get_division(&self, code: &str) -> StoreResult<Division> {
        let r = sqlx::query("SELECT code, name, level, parent_code FROM division WHERE code = $1")
            .bind(code)
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        division_from(&r)
    }

    async fn list_divisions(&self, parent: Option<&str>) -> StoreResult<Vec<Division>> {
        let rows = match parent {
            Some(p) => sqlx::query(
                "SELECT code, name, level, parent_code FROM division WHERE parent_code = $1 ORDER BY code",
            )
            .bind(p)
            .fetch_all(&self.pool)
            .await,
            None => sqlx::query(
                "SELECT code, name, level, parent_code FROM division WHERE parent_code IS NULL ORDER BY code",
            )
            .fetch_all(&self.pool)
            .await,
        }
        .map_err(map_err)?;
        rows.iter().map(division_from).collect()
    }
}

// ---------------------------------------------------------------- units

const UNIT_COLS: &str = "id, parent_id, code, name, kind, enabled, sort";

async fn unit_by_id(conn: &mut Conn, scope: &ScopeFilter, id: UnitId) -> StoreResult<Unit> {
    let mut qb = QueryBuilder::<Db>::new(format!("SELECT {UNIT_COLS} FROM unit WHERE id = "));
    qb.push_bind(id.0);
    push_scope(&mut qb, scope, "id", None);
    let r = qb.build().fetch_one(&mut *conn).await.map_err(map_err)?;
    let mut unit = unit_from(&r)?;
    unit.jurisdiction = sqlx::query_scalar(
        "SELECT division_code FROM unit_division WHERE unit_id = $1 ORDER BY division_code",
    )
    .bind(id.0)
    .fetch_all(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(unit)
}

fn unit_from(r: &DbRow) -> StoreResult<Unit> {
    Ok(Unit {
        id: UnitId(get(r, "id")?),
        parent_id: get::<Option<i64>>(r, "parent_id")?.map(UnitId),
        code: get(r, "code")?,
        name: get(r, "name")?,
        kind: enum_col(&get::<String>(r, "kind")?, UnitKind::parse, "unit.kind")?,
        jurisdiction: Vec::new(),
        enabled: get(r, "enabled")?,
        sort: get(r, "sort")?,
    })
}

async fn set_jurisdiction(conn: &mut Conn, id: UnitId, codes: &[String]) -> StoreResult<()> {
    sqlx::query("DELETE FROM unit_division WHERE unit_id = $1")
        .bind(id.0)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    for code in codes {
        sqlx::query("INSERT INTO unit_division (unit_id, division_code) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id.0)
            .bind(code)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl UnitStore for Backend {
    async fn unit_nodes(&self) -> StoreResult<Vec<UnitNode>> {
        let rows = sqlx::query("SELECT id, parent_id, kind FROM unit")
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(UnitNode {
                    id: UnitId(get(r, "id")?),
                    parent: get::<Option<i64>>(r, "parent_id")?.map(UnitId),
                    kind: enum_col(&get::<String>(r, "kind")?, UnitKind::parse, "unit.kind")?,
                })
            })
            .collect()
    }

    async fn list_units(&self, scope: &ScopeFilter) -> StoreResult<Vec<Unit>> {
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {UNIT_COLS} FROM unit WHERE TRUE"));
        push_scope(&mut qb, scope, "id", None);
        qb.push(" ORDER BY sort, id");
        let rows = qb.build().fetch_all(&self.pool).await.map_err(map_err)?;
        let mut units: Vec<Unit> = rows.iter().map(unit_from).collect::<StoreResult<_>>()?;
        let links =
            sqlx::query("SELECT unit_id, division_code FROM unit_division ORDER BY division_code")
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
        let mut by_unit: std::collections::HashMap<i64, Vec<String>> = Default::default();
        for l in &links {
            by_unit
                .entry(get(l, "unit_id")?)
                .or_default()
                .push(get(l, "division_code")?);
        }
        for u in &mut units {
            u.jurisdiction = by_unit.remove(&u.id.0).unwrap_or_default();
        }
        Ok(units)
    }

    async fn get_unit(&self, scope: &ScopeFilter, id: UnitId) -> StoreResult<Unit> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        unit_by_id(&mut conn, scope, id).await
    }

    async fn find_unit_by_code(&self, code: &str) -> StoreResult<Unit> {
        let id: i64 = sqlx::query_scalar("SELECT id FROM unit WHERE code = $1")
            .bind(code)
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        self.get_unit(&ScopeFilter::All, UnitId(id)).await
    }

    async fn create_unit(&self, ctx: &AuditCtx, new: &NewUnit) -> StoreResult<Unit> {
        let mut tx = self.begin_write().await?;
        let at = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO unit (parent_id, code, name, kind, enabled, sort, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, TRUE, $5, $6, $6) RETURNING id",
        )
        .bind(new.parent_id.map(|p| p.0))
        .bind(&new.code)
        .bind(&new.name)
        .bind(new.kind.as_str())
        .bind(new.sort)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        set_jurisdiction(&mut tx, UnitId(id), &new.jurisdiction).await?;
        let unit = unit_by_id(&mut tx, &ScopeFilter::All, UnitId(id)).await?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), _>("system.unit.create", "unit", id, None, Some(&unit)),
        )
        .await?;
        tx.commit().await?;
        Ok(unit)
    }

    async fn update_unit(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        id: UnitId,
        patch: &UnitPatch,
    ) -> StoreResult<Unit> {
        let mut tx = self.begin_write().await?;
        let before = unit_by_id(&mut tx, scope, id).await?;
        sqlx::query(
            "UPDATE unit SET name = COALESCE($1, name), enabled = COALESCE($2, enabled), \
             sort = COALESCE($3, sort), updated_at = $4 WHERE id = $5",
        )
        .bind(&patch.name)
        .bind(patch.enabled)
        .bind(patch.sort)
        .bind(now())
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if let Some(j) = &patch.jurisdiction {
            set_jurisdiction(&mut tx, id, j).await?;
        }
        let after = unit_by_id(&mut tx, &ScopeFilter::All, id).await?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new(
                "system.unit.update",
                "unit",
                id,
                Some(&before),
                Some(&after),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}

// ---------------------------------------------------------------- users

const USER_COLS: &str =
    "id, username, display_name, unit_id, phone, cert_no, enabled, must_change_password, \
                         locked_until, created_at, updated_at";

fn user_from(r: &DbRow) -> StoreResult<User> {
    Ok(User {
        id: UserId(get(r, "id")?),
        username: get(r, "username")?,
        display_name: get(r, "display_name")?,
        unit_id: UnitId(get(r, "unit_id")?),
        phone: get(r, "phone")?,
        cert_no: get(r, "cert_no")?,
        enabled: get(r, "enabled")?,
        must_change_password: get(r, "must_change_password")?,
        locked_until: get(r, "locked_until")?,
        role_ids: Vec::new(),
        created_at: get(r, "created_at")?,
        updated_at: get(r, "updated_at")?,
    })
}

async fn attach_roles(conn: &mut Conn, users: &mut [User]) -> StoreResult<()> {
    if users.is_empty() {
        return Ok(());
    }
    let mut qb =
        QueryBuilder::<Db>::new("SELECT user_id, role_id FROM user_role WHERE user_id IN (");
    let mut list = qb.separated(", ");
    for u in users.iter() {
        list.push_bind(u.id.0);
    }
    qb.push(") ORDER BY role_id");
    let rows = qb.build().fetch_all(&mut *conn).await.map_err(map_err)?;
    for r in &rows {
        let uid: i64 = get(r, "user_id")?;
        let rid: i64 = get(r, "role_id")?;
        if let Some(u) = users.iter_mut().find(|u| u.id.0 == uid) {
            u.role_ids.push(RoleId(rid));
        }
    }
    Ok(())
}

async fn user_by_id(conn: &mut Conn, scope: &ScopeFilter, id: UserId) -> StoreResult<User> {
    let mut qb = QueryBuilder::<Db>::new(format!("SELECT {USER_COLS} FROM app_user WHERE id = "));
    qb.push_bind(id.0);
    push_scope(&mut qb, scope, "unit_id", Some("id"));
    let r = qb.build().fetch_one(&mut *conn).await.map_err(map_err)?;
    let mut users = [user_from(&r)?];
    attach_roles(conn, &mut users).await?;
    let [user] = users;
    Ok(user)
}

async fn set_user_roles(conn: &mut Conn, id: UserId, roles: &[RoleId]) -> StoreResult<()> {
    sqlx::query("DELETE FROM user_role WHERE user_id = $1")
        .bind(id.0)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    for r in roles {
        sqlx::query(
            "INSERT INTO user_role (user_id, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(id.0)
        .bind(r.0)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    }
    Ok(())
}

fn push_user_filters(qb: &mut QueryBuilder<'_, Db>, scope: &ScopeFilter, q: &UserQuery) {
    qb.push(" WHERE TRUE");
    push_scope(qb, scope, "unit_id", Some("id"));
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let pattern = format!("%{}%", like_escape(&text.to_lowercase()));
        qb.push(" AND (LOWER(username) LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\' OR LOWER(display_name) LIKE ")
            .push_bind(pattern)
            .push(" ESCAPE '\\')");
    }
    if let Some(u) = q.unit_id {
        qb.push(" AND unit_id = ").push_bind(u.0);
    }
}

#[async_trait::async_trait]
impl UserStore for Backend {
    async fn list_users(&self, scope: &ScopeFilter, q: &UserQuery) -> StoreResult<Page<User>> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        let mut count = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM app_user");
        push_user_filters(&mut count, scope, q);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(&mut *conn)
            .await
            .map_err(map_err)?;
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {USER_COLS} FROM app_user"));
        push_user_filters(&mut qb, scope, q);
        qb.push(" ORDER BY id LIMIT ")
            .push_bind(q.paging.per_page)
            .push(" OFFSET ")
            .push_bind(q.paging.offset());
        let rows = qb.build().fetch_all(&mut *conn).await.map_err(map_err)?;
        let mut items: Vec<User> = rows.iter().map(user_from).collect::<StoreResult<_>>()?;
        attach_roles(&mut conn, &mut items).await?;
        Ok(Page {
            items,
            total,
            page: q.paging.page,
            per_page: q.paging.per_page,
        })
    }

    async fn get_user(&self, scope: &ScopeFilter, id: UserId) -> StoreResult<User> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        user_by_id(&mut conn, scope, id).await
    }

    async fn get_user_unscoped(&self, id: UserId) -> StoreResult<User> {
        self.get_user(&ScopeFilter::All, id).await
    }

    async fn credentials(&self, username: &str) -> StoreResult<Credentials> {
        let r = sqlx::query(
            "SELECT id, password_hash, enabled, failed_logins, locked_until FROM app_user WHERE username = $1",
        )
        .bind(username)
        .fetch_one(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(Credentials {
            user_id: UserId(get(&r, "id")?),
            password_hash: get(&r, "password_hash")?,
            enabled: get(&r, "enabled")?,
            failed_logins: get(&r, "failed_logins")?,
            locked_until: get(&r, "locked_until")?,
        })
    }

    async fn create_user(&self, ctx: &AuditCtx, new: &NewUser) -> StoreResult<User> {
        let mut tx = self.begin_write().await?;
        let at = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO app_user (username, display_name, unit_id, phone, cert_no, password_hash, enabled, \
             must_change_password, failed_logins, password_changed_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, 0, $8, $8, $8) RETURNING id",
        )
        .bind(&new.username)
        .bind(&new.display_name)
        .bind(new.unit_id.0)
        .bind(&new.phone)
        .bind(&new.cert_no)
        .bind(&new.password_hash)
        .bind(new.must_change_password)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        set_user_roles(&mut tx, UserId(id), &new.role_ids).await?;
        let user = user_by_id(&mut tx, &ScopeFilter::All, UserId(id)).await?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), _>("system.user.create", "user", id, None, Some(&user)),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    async fn update_user(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        id: UserId,
        patch: &UserPatch,
    ) -> StoreResult<User> {
        let mut tx = self.begin_write().await?;
        let before = user_by_id(&mut tx, scope, id).await?;
        let phone = patch.phone.clone().unwrap_or(before.phone.clone());
        let cert_no = patch.cert_no.clone().unwrap_or(before.cert_no.clone());
        sqlx::query(
            "UPDATE app_user SET display_name = COALESCE($1, display_name), unit_id = COALESCE($2, unit_id), \
             phone = $3, cert_no = $4, enabled = COALESCE($5, enabled), updated_at = $6 WHERE id = $7",
        )
        .bind(&patch.display_name)
        .bind(patch.unit_id.map(|u| u.0))
        .bind(phone)
        .bind(cert_no)
        .bind(patch.enabled)
        .bind(now())
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if patch.unlock {
            sqlx::query("UPDATE app_user SET failed_logins = 0, locked_until = NULL WHERE id = $1")
                .bind(id.0)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        if let Some(roles) = &patch.role_ids {
            set_user_roles(&mut tx, id, roles).await?;
        }
        if patch.enabled == Some(false) {
            sqlx::query("DELETE FROM session WHERE user_id = $1")
                .bind(id.0)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        let after = user_by_id(&mut tx, &ScopeFilter::All, id).await?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new(
                "system.user.update",
                "user",
                id,
                Some(&before),
                Some(&after),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn set_password(
        &self,
        ctx: &AuditCtx,
        id: UserId,
        hash: &str,
        must_change: bool,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let at = now();
        let n = sqlx::query(
            "UPDATE app_user SET password_hash = $1, must_change_password = $2, password_changed_at = $3, \
             failed_logins = 0, locked_until = NULL, updated_at = $3 WHERE id = $4",
        )
        .bind(hash)
        .bind(must_change)
        .bind(at)
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM session WHERE user_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let after =
            serde_json::json!({ "password_hash": hash, "must_change_password": must_change });
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), _>("system.user.password", "user", id, None, Some(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn register_login_failure(
        &self,
        id: UserId,
        threshold: i64,
        lock_until: DateTime<Utc>,
    ) -> StoreResult<(i64, Option<DateTime<Utc>>)> {
        let mut tx = self.begin_write().await?;
        let r = sqlx::query(
            "UPDATE app_user SET failed_logins = failed_logins + 1, \
             locked_until = CASE WHEN failed_logins + 1 >= $1 THEN $2 ELSE locked_until END \
             WHERE id = $3 RETURNING failed_logins, locked_until",
        )
        .bind(threshold)
        .bind(lock_until)
        .bind(id.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        let out = (get(&r, "failed_logins")?, get(&r, "locked_until")?);
        tx.commit().await?;
        Ok(out)
    }

    async fn register_login_success(&self, id: UserId) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE app_user SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await
    }
}

// ---------------------------------------------------------------- roles

const ROLE_COLS: &str = "id, code, name, scope, permissions, enabled, builtin";

fn role_from(r: &DbRow) -> StoreResult<Role> {
    Ok(Role {
        id: RoleId(get(r, "id")?),
        code: get(r, "code")?,
        name: get(r, "name")?,
        scope: enum_col(&get::<String>(r, "scope")?, DataScope::parse, "role.scope")?,
        custom_units: Vec::new(),
        permissions: split_list(&get::<String>(r, "permissions")?),
        enabled: get(r, "enabled")?,
        builtin: get(r, "builtin")?,
    })
}

async fn attach_role_units(conn: &mut Conn, roles: &mut [Role]) -> StoreResult<()> {
    let rows = sqlx::query("SELECT role_id, unit_id FROM role_unit ORDER BY unit_id")
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
    for r in &rows {
        let rid: i64 = get(r, "role_id")?;
        if let Some(role) = roles.iter_mut().find(|x| x.id.0 == rid) {
            role.custom_units.push(UnitId(get(r, "unit_id")?));
        }
    }
    Ok(())
}

async fn role_by_id(conn: &mut Conn, id: RoleId) -> StoreResult<Role> {
    let r = sqlx::query(&format!("SELECT {ROLE_COLS} FROM role WHERE id = $1"))
        .bind(id.0)
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?;
    let mut roles = [role_from(&r)?];
    attach_role_units(conn, &mut roles).await?;
    let [role] = roles;
    Ok(role)
}

async fn set_role_units(conn: &mut Conn, id: RoleId, units: &[UnitId]) -> StoreResult<()> {
    sqlx::query("DELETE FROM role_unit WHERE role_id = $1")
        .bind(id.0)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    for u in units {
        sqlx::query(
            "INSERT INTO role_unit (role_id, unit_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(id.0)
        .bind(u.0)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl RoleStore for Backend {
    async fn list_roles(&self) -> StoreResult<Vec<Role>> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        let rows = sqlx::query(&format!("SELECT {ROLE_COLS} FROM role ORDER BY id"))
            .fetch_all(&mut *conn)
            .await
            .map_err(map_err)?;
        let mut roles: Vec<Role> = rows.iter().map(role_from).collect::<StoreResult<_>>()?;
        attach_role_units(&mut conn, &mut roles).await?;
        Ok(roles)
    }

    async fn get_role(&self, id: RoleId) -> StoreResult<Role> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        role_by_id(&mut conn, id).await
    }

    async fn find_role_by_code(&self, code: &str) -> StoreResult<Role> {
        let id: i64 = sqlx::query_scalar("SELECT id FROM role WHERE code = $1")
            .bind(code)
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        self.get_role(RoleId(id)).await
    }

    async fn roles_of_user(&self, user: UserId) -> StoreResult<Vec<Role>> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        let rows = sqlx::query(&format!(
            "SELECT {ROLE_COLS} FROM role WHERE id IN (SELECT role_id FROM user_role WHERE user_id = $1) ORDER BY id"
        ))
        .bind(user.0)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
        let mut roles: Vec<Role> = rows.iter().map(role_from).collect::<StoreResult<_>>()?;
        attach_role_units(&mut conn, &mut roles).await?;
        Ok(roles)
    }

    async fn create_role(&self, ctx: &AuditCtx, new: &NewRole) -> StoreResult<Role> {
        let mut tx = self.begin_write().await?;
        let at = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO role (code, name, scope, permissions, enabled, builtin, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, TRUE, $5, $6, $6) RETURNING id",
        )
        .bind(&new.code)
        .bind(&new.name)
        .bind(new.scope.as_str())
        .bind(join_list(&new.permissions))
        .bind(new.builtin)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        set_role_units(&mut tx, RoleId(id), &new.custom_units).await?;
        let role = role_by_id(&mut tx, RoleId(id)).await?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), _>("system.role.create", "role", id, None, Some(&role)),
        )
        .await?;
        tx.commit().await?;
        Ok(role)
    }

    async fn update_role(
        &self,
        ctx: &AuditCtx,
        id: RoleId,
        patch: &RolePatch,
    ) -> StoreResult<Role> {
        let mut tx = self.begin_write().await?;
        let before = role_by_id(&mut tx, id).await?;
        sqlx::query(
            "UPDATE role SET name = COALESCE($1, name), scope = COALESCE($2, scope), \
             permissions = COALESCE($3, permissions), enabled = COALESCE($4, enabled), updated_at = $5 \
             WHERE id = $6",
        )
        .bind(&patch.name)
        .bind(patch.scope.map(DataScope::as_str))
        .bind(patch.permissions.as_deref().map(join_list))
        .bind(patch.enabled)
        .bind(now())
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if let Some(units) = &patch.custom_units {
            set_role_units(&mut tx, id, units).await?;
        }
        let after = role_by_id(&mut tx, id).await?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new(
                "system.role.update",
                "role",
                id,
                Some(&before),
                Some(&after),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}

// ---------------------------------------------------------------- sessions

#[async_trait::async_trait]
impl SessionStore for Backend {
    async fn create_session(&self, s: &Session) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO session (id_hash, user_id, csrf_token, created_at, expires_at, ip) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&s.id_hash)
        .bind(s.user_id.0)
        .bind(&s.csrf_token)
        .bind(s.created_at)
        .bind(s.expires_at)
        .bind(&s.ip)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await
    }

    async fn get_session(&self, id_hash: &str, now: DateTime<Utc>) -> StoreResult<Session> {
        let r = sqlx::query(
            "SELECT id_hash, user_id, csrf_token, created_at, expires_at, ip FROM session \
             WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(Session {
            id_hash: get(&r, "id_hash")?,
            user_id: UserId(get(&r, "user_id")?),
            csrf_token: get(&r, "csrf_token")?,
            created_at: get(&r, "created_at")?,
            expires_at: get(&r, "expires_at")?,
            ip: get(&r, "ip")?,
        })
    }

    async fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM session WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await
    }

    async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("DELETE FROM session WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        tx.commit().await?;
        Ok(n)
    }
}

// ---------------------------------------------------------------- API tokens

const TOKEN_COLS: &str =
    "t.id, t.user_id, t.name, t.prefix, t.permissions, t.created_at, t.expires_at, \
                          t.revoked_at, t.last_used_at";

fn token_from(r: &DbRow) -> StoreResult<ApiToken> {
    Ok(ApiToken {
        id: TokenId(get(r, "id")?),
        user_id: UserId(get(r, "user_id")?),
        name: get(r, "name")?,
        prefix: get(r, "prefix")?,
        permissions: split_list(&get::<String>(r, "permissions")?),
        created_at: get(r, "created_at")?,
        expires_at: get(r, "expires_at")?,
        revoked_at: get(r, "revoked_at")?,
        last_used_at: get(r, "last_used_at")?,
    })
}

async fn token_by_id(conn: &mut Conn, scope: &ScopeFilter, id: TokenId) -> StoreResult<ApiToken> {
    let mut qb = QueryBuilder::<Db>::new(format!(
        "SELECT {TOKEN_COLS} FROM api_token t JOIN app_user u ON u.id = t.user_id WHERE t.id = "
    ));
    qb.push_bind(id.0);
    push_scope(&mut qb, scope, "u.unit_id", Some("t.user_id"));
    let r = qb.build().fetch_one(&mut *conn).await.map_err(map_err)?;
    token_from(&r)
}

#[async_trait::async_trait]
impl TokenStore for Backend {
    async fn create_token(&self, ctx: &AuditCtx, new: &NewApiToken) -> StoreResult<ApiToken> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_token (user_id, name, prefix, token_hash, permissions, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(new.user_id.0)
        .bind(&new.name)
        .bind(&new.prefix)
        .bind(&new.token_hash)
        .bind(join_list(&new.permissions))
        .bind(now())
        .bind(new.expires_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        let token = token_by_id(&mut tx, &ScopeFilter::All, TokenId(id)).await?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<(), _>("system.token.create", "api_token", id, None, Some(&token)),
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    async fn list_tokens(&self, scope: &ScopeFilter) -> StoreResult<Vec<ApiToken>> {
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {TOKEN_COLS} FROM api_token t JOIN app_user u ON u.id = t.user_id WHERE TRUE"
        ));
        push_scope(&mut qb, scope, "u.unit_id", Some("t.user_id"));
        qb.push(" ORDER BY t.id");
        let rows = qb.build().fetch_all(&self.pool).await.map_err(map_err)?;
        rows.iter().map(token_from).collect()
    }

    async fn token_by_hash(&self, hash: &str) -> StoreResult<ApiToken> {
        let r = sqlx::query(&format!(
            "SELECT {TOKEN_COLS} FROM api_token t WHERE t.token_hash = $1"
        ))
        .bind(hash)
        .fetch_one(&self.pool)
        .await
        .map_err(map_err)?;
        token_from(&r)
    }

    async fn revoke_token(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        id: TokenId,
    ) -> StoreResult<ApiToken> {
        let mut tx = self.begin_write().await?;
        let before = token_by_id(&mut tx, scope, id).await?;
        sqlx::query("UPDATE api_token SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2")
            .bind(now())
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let after = token_by_id(&mut tx, &ScopeFilter::All, id).await?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new(
                "system.token.revoke",
                "api_token",
                id,
                Some(&before),
                Some(&after),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn touch_token(&self, id: TokenId, at: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE api_token SET last_used_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await
    }
}

// ---------------------------------------------------------------- sign-in log

#[async_trait::async_trait]
impl LoginLogStore for Backend {
    async fn log_login(&self, e: &NewLoginLog) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO login_log (at, username, user_id, unit_id, outcome, ip, user_agent) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(now())
        .bind(&e.username)
        .bind(e.user_id.map(|u| u.0))
        .bind(e.unit_id.map(|u| u.0))
        .bind(e.outcome.as_str())
        .bind(&e.ip)
        .bind(&e.user_agent)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await
    }

    async fn list_login_log(
        &self,
        scope: &ScopeFilter,
        paging: Paging,
    ) -> StoreResult<Page<LoginLogEntry>> {
        let mut count = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM login_log WHERE TRUE");
        push_scope(&mut count, scope, "unit_id", Some("user_id"));
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT id, at, username, user_id, unit_id, outcome, ip, user_agent FROM login_log WHERE TRUE",
        );
        push_scope(&mut qb, scope, "unit_id", Some("user_id"));
        qb.push(" ORDER BY id DESC LIMIT ")
            .push_bind(paging.per_page)
            .push(" OFFSET ")
            .push_bind(paging.offset());
        let rows = qb.build().fetch_all(&self.pool).await.map_err(map_err)?;
        let items = rows
            .iter()
            .map(|r| {
                Ok(LoginLogEntry {
                    id: get(r, "id")?,
                    at: get(r, "at")?,
                    username: get(r, "username")?,
                    user_id: get::<Option<i64>>(r, "user_id")?.map(UserId),
                    unit_id: get::<Option<i64>>(r, "unit_id")?.map(UnitId),
                    outcome: enum_col(
                        &get::<String>(r, "outcome")?,
                        LoginOutcome::parse,
                        "login_log.outcome",
                    )?,
                    ip: get(r, "ip")?,
                    user_agent: get(r, "user_agent")?,
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
}

// ---------------------------------------------------------------- dictionaries

fn dict_item_from(r: &DbRow) -> StoreResult<DictItem> {
    Ok(DictItem {
        dict_type: get(r, "dict_type")?,
        code: get(r, "code")?,
        label: get(r, "label")?,
        sort: get(r, "sort")?,
        enabled: get(r, "enabled")?,
    })
}

async fn dict_item(conn: &mut Conn, dict_type: &str, code: &str) -> StoreResult<Option<DictItem>> {
    let r = sqlx::query("SELECT dict_type, code, label, sort, enabled FROM dict_item WHERE dict_type = $1 AND code = $2")
        .bind(dict_type)
        .bind(code)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)?;
    r.as_ref().map(dict_item_from).transpose()
}

#[async_trait::async_trait]
impl DictStore for Backend {
    async fn list_dict_types(&self) -> StoreResult<Vec<DictType>> {
        let rows = sqlx::query("SELECT code, name FROM dict_type ORDER BY code")
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(DictType {
                    code: get(r, "code")?,
                    name: get(r, "name")?,
                })
            })
            .collect()
    }

    async fn upsert_dict_type(&self, ctx: &AuditCtx, t: &DictType) -> StoreResult<DictType> {
        let mut tx = self.begin_write().await?;
        let before: Option<String> =
            sqlx::query_scalar("SELECT name FROM dict_type WHERE code = $1")
                .bind(&t.code)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        sqlx::query("INSERT INTO dict_type (code, name) VALUES ($1, $2) ON CONFLICT (code) DO UPDATE SET name = excluded.name")
            .bind(&t.code)
            .bind(&t.name)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let before = before.map(|name| DictType {
            code: t.code.clone(),
            name,
        });
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new(
                "system.dict.type",
                "dict_type",
                &t.code,
                before.as_ref(),
                Some(t),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(t.clone())
    }

    async fn list_dict_items(&self, dict_type: &str) -> StoreResult<Vec<DictItem>> {
        let rows = sqlx::query(
            "SELECT dict_type, code, label, sort, enabled FROM dict_item WHERE dict_type = $1 ORDER BY sort, code",
        )
        .bind(dict_type)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(dict_item_from).collect()
    }

    async fn upsert_dict_item(&self, ctx: &AuditCtx, item: &DictItem) -> StoreResult<DictItem> {
        let mut tx = self.begin_write().await?;
        let before = dict_item(&mut tx, &item.dict_type, &item.code).await?;
        sqlx::query(
            "INSERT INTO dict_item (dict_type, code, label, sort, enabled) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (dict_type, code) DO UPDATE SET label = excluded.label, sort = excluded.sort, \
             enabled = excluded.enabled",
        )
        .bind(&item.dict_type)
        .bind(&item.code)
        .bind(&item.label)
        .bind(item.sort)
        .bind(item.enabled)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let target = format!("{}/{}", item.dict_type, item.code);
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new(
                "system.dict.item",
                "dict_item",
                target,
                before.as_ref(),
                Some(item),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(item.clone())
    }

    async fn delete_dict_item(
        &self,
        ctx: &AuditCtx,
        dict_type: &str,
        code: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let before = dict_item(&mut tx, dict_type, code)
            .await?
            .ok_or(StoreError::NotFound)?;
        sqlx::query("DELETE FROM dict_item WHERE dict_type = $1 AND code = $2")
            .bind(dict_type)
            .bind(code)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let target = format!("{dict_type}/{code}");
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new::<_, ()>(
                "system.dict.delete",
                "dict_item",
                target,
                Some(&before),
                None,
            ),
        )
        .await?;
        tx.commit().await
    }
}

// ---------------------------------------------------------------- settings

fn setting_from(r: &DbRow) -> StoreResult<Setting> {
    Ok(Setting {
        key: get(r, "key")?,
        value: get(r, "value")?,
        updated_at: get(r, "updated_at")?,
    })
}

#[async_trait::async_trait]
impl SettingStore for Backend {
    async fn list_settings(&self) -> StoreResult<Vec<Setting>> {
        let rows = sqlx::query("SELECT key, value, updated_at FROM setting ORDER BY key")
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(setting_from).collect()
    }

    async fn get_setting(&self, key: &str) -> StoreResult<Setting> {
        let r = sqlx::query("SELECT key, value, updated_at FROM setting WHERE key = $1")
            .bind(key)
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        setting_from(&r)
    }

    async fn put_setting(&self, ctx: &AuditCtx, key: &str, value: &str) -> StoreResult<Setting> {
        let mut tx = self.begin_write().await?;
        let before = sqlx::query("SELECT key, value, updated_at FROM setting WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?
            .as_ref()
            .map(setting_from)
            .transpose()?;
        let at = now();
        sqlx::query(
            "INSERT INTO setting (key, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(value)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let after = Setting {
            key: key.to_owned(),
            value: value.to_owned(),
            updated_at: at,
        };
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new(
                "system.setting.update",
                "setting",
                key,
                before.as_ref(),
                Some(&after),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}

// ---------------------------------------------------------------- holiday calendar

async fn holiday_years(conn: &mut Conn, only: Option<i32>) -> StoreResult<Vec<HolidayYear>> {
    let years = match only {
        Some(y) => {
            sqlx::query("SELECT year, source, updated_at FROM holiday_year WHERE year = $1")
                .bind(i64::from(y))
                .fetch_all(&mut *conn)
                .await
        }
        None => {
            sqlx::query("SELECT year, source, updated_at FROM holiday_year ORDER BY year")
                .fetch_all(&mut *conn)
                .await
        }
    }
    .map_err(map_err)?;
    let mut out = Vec::with_capacity(years.len());
    for y in &years {
        let year: i64 = get(y, "year")?;
        let days =
            sqlx::query("SELECT day, is_off_day, name FROM holiday WHERE year = $1 ORDER BY day")
                .bind(year)
                .fetch_all(&mut *conn)
                .await
                .map_err(map_err)?
                .iter()
                .map(|r| {
                    Ok(ScheduleDay {
                        date: get::<NaiveDate>(r, "day")?,
                        is_off_day: get(r, "is_off_day")?,
                        name: get(r, "name")?,
                    })
                })
                .collect::<StoreResult<Vec<_>>>()?;
        out.push(HolidayYear {
            year: i32::try_from(year).map_err(|_| StoreError::Other("year out of range".into()))?,
            source: get(y, "source")?,
            days,
            updated_at: get(y, "updated_at")?,
        });
    }
    Ok(out)
}

/// How an audit row shows a year's schedule.
fn year_summary(y: &HolidayYear) -> serde_json::Value {
    serde_json::json!({
        "year": y.year,
        "source": y.source,
        "days": y.days.iter().map(|d| serde_json::json!({
            "date": d.date.to_string(), "is_off_day": d.is_off_day, "name": d.name
        })).collect::<Vec<_>>(),
    })
}

#[async_trait::async_trait]
impl CalendarStore for Backend {
    async fn list_holiday_years(&self) -> StoreResult<Vec<HolidayYear>> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        holiday_years(&mut conn, None).await
    }

    async fn put_holiday_year(
        &self,
        ctx: &AuditCtx,
        year: i32,
        source: &str,
        days: &[ScheduleDay],
    ) -> StoreResult<HolidayYear> {
        if hongdun_core::calendar::Calendar::validate_year(year, days).is_err() {
            return Err(StoreError::Conflict {
                field: "days".into(),
            });
        }
        let mut tx = self.begin_write().await?;
        let before = holiday_years(&mut tx, Some(year)).await?.pop();
        sqlx::query("DELETE FROM holiday WHERE year = $1")
            .bind(i64::from(year))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query(
            "INSERT INTO holiday_year (year, source, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (year) DO UPDATE SET source = excluded.source, updated_at = excluded.updated_at",
        )
        .bind(i64::from(year))
        .bind(source)
        .bind(now())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        for d in days {
            sqlx::query(
                "INSERT INTO holiday (day, year, is_off_day, name) VALUES ($1, $2, $3, $4)",
            )
            .bind(d.date)
            .bind(i64::from(year))
            .bind(d.is_off_day)
            .bind(&d.name)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        let after = holiday_years(&mut tx, Some(year))
            .await?
            .pop()
            .ok_or(StoreError::NotFound)?;
        append_audit(
            &mut tx,
            ctx,
            &AuditChange::new(
                "system.calendar.year",
                "holiday_year",
                year,
                before.as_ref().map(year_summary).as_ref(),
                Some(&year_summary(&after)),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}
