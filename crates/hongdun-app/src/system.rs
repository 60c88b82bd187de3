//! System administration use cases: units, users, roles, API tokens,
//! dictionaries, settings, divisions and the sign-in log.
//!
//! Each starts with `authorize`, validates its input into field errors, and
//! passes the caller's scope and audit context into one store call.
use crate::auth::{check_password_policy, hash_password, random_hex, sha256_hex, TOKEN_PREFIX};
use crate::{App, AppError, AppResult, FieldError, Principal};
use chrono::{Duration, Utc};
use hongdun_core::division::DivisionCode;
use hongdun_core::ids::{RoleId, TokenId, UnitId, UserId};
use hongdun_core::system::{is_known_permission, DataScope, UnitKind};
use hongdun_core::Coded;
use hongdun_store::*;

/// Collects field errors so a form shows all of them at once.
#[derive(Default)]
pub struct Check(Vec<FieldError>);

impl Check {
    pub fn push(&mut self, field: &str, code: &str, msg: impl Into<String>) {
        self.0.push(FieldError::new(field, code, msg));
    }
    /// Required text of 1..=max characters after trimming.
    pub fn text(&mut self, field: &str, value: &str, max: usize) -> String {
        let v = value.trim();
        if v.is_empty() {
            self.push(field, "required", "必填项");
        } else if v.chars().count() > max {
            self.push(field, "too_long", format!("不能超过 {max} 个字符"));
        } else if v.chars().any(char::is_control) {
            self.push(field, "invalid_chars", "不能包含控制字符");
        }
        v.to_owned()
    }
    /// An identifier: ASCII letters, digits, `_`, `-`, `.`, 1..=max long.
    pub fn ident(&mut self, field: &str, value: &str, max: usize) -> String {
        let v = value.trim();
        let ok = !v.is_empty()
            && v.len() <= max
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if !ok {
            self.push(
                field,
                "invalid_ident",
                format!("只能由字母、数字、下划线、连字符或点组成，长度 1–{max}"),
            );
        }
        v.to_owned()
    }
    pub fn finish(self) -> AppResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.0))
        }
    }
}

fn optional(v: Option<&str>) -> Option<String> {
    v.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

// ---------------------------------------------------------------- inputs

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct UnitInput {
    pub parent_id: Option<UnitId>,
    pub code: String,
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub jurisdiction: Vec<String>,
    #[serde(default)]
    pub sort: i64,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct UnitUpdate {
    pub name: Option<String>,
    pub jurisdiction: Option<Vec<String>>,
    pub enabled: Option<bool>,
    pub sort: Option<i64>,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct UserInput {
    pub username: String,
    pub display_name: String,
    pub unit_id: UnitId,
    pub phone: Option<String>,
    pub cert_no: Option<String>,
    pub password: String,
    #[serde(default)]
    pub role_codes: Vec<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct UserUpdate {
    pub display_name: Option<String>,
    pub unit_id: Option<UnitId>,
    pub phone: Option<String>,
    pub cert_no: Option<String>,
    pub enabled: Option<bool>,
    pub role_codes: Option<Vec<String>>,
    #[serde(default)]
    pub unlock: bool,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RoleInput {
    pub code: String,
    pub name: String,
    pub scope: String,
    #[serde(default)]
    pub custom_units: Vec<UnitId>,
    #[serde(default)]
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RoleUpdate {
    pub name: Option<String>,
    pub scope: Option<String>,
    pub custom_units: Option<Vec<UnitId>>,
    pub permissions: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct TokenInput {
    pub name: String,
    /// The account the token acts as; defaults to the caller.
    pub user_id: Option<UserId>,
    pub permissions: Vec<String>,
    /// Days until it expires; none for a token that lives until revoked.
    pub expires_in_days: Option<i64>,
}

/// A freshly created token: the secret is shown this once.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CreatedToken {
    pub token: ApiToken,
    pub secret: String,
}

// ---------------------------------------------------------------- helpers

impl App {
    async fn check_jurisdiction(&self, c: &mut Check, codes: &[String]) -> AppResult<Vec<String>> {
        let mut out = Vec::new();
        for (i, code) in codes.iter().enumerate() {
            let field = format!("jurisdiction[{i}]");
            match DivisionCode::parse(code) {
                Err(e) => c.push(&field, e.code(), e.message_zh()),
                Ok(d) => match self.store.get_division(d.as_str()).await {
                    Ok(_) => out.push(d.to_string()),
                    Err(StoreError::NotFound) => {
                        c.push(&field, "division_unknown", "行政区划代码不存在")
                    }
                    Err(e) => return Err(e.into()),
                },
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    async fn role_ids(&self, c: &mut Check, codes: &[String]) -> AppResult<Vec<RoleId>> {
        let mut ids = Vec::new();
        for (i, code) in codes.iter().enumerate() {
            match self.store.find_role_by_code(code).await {
                Ok(r) => ids.push(r.id),
                Err(StoreError::NotFound) => {
                    c.push(&format!("role_codes[{i}]"), "role_unknown", "角色不存在")
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(ids)
    }

    fn check_permissions(c: &mut Check, perms: &[String]) {
        for (i, p) in perms.iter().enumerate() {
            if !is_known_permission(p) {
                c.push(
                    &format!("permissions[{i}]"),
                    "permission_unknown",
                    format!("未知权限：{p}"),
                );
            }
        }
    }

    /// Only a holder of the permission with an unlimited scope, or whose scope
    /// covers the unit, may place a user or unit there.
    async fn check_unit_in_scope(
        &self,
        c: &mut Check,
        field: &str,
        scope: &ScopeFilter,
        unit: UnitId,
    ) -> AppResult<()> {
        match self.store.get_unit(scope, unit).await {
            Ok(_) => Ok(()),
            Err(StoreError::NotFound) => {
                c.push(field, "unit_unknown", "单位不存在或不在您的管辖范围内");
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}

// ---------------------------------------------------------------- units and divisions

impl App {
    pub async fn list_units(&self, p: &Principal) -> AppResult<Vec<Unit>> {
        let scope = self.authorize(p, "system:unit:list").await?;
        Ok(self.store.list_units(&scope).await?)
    }

    pub async fn get_unit(&self, p: &Principal, id: UnitId) -> AppResult<Unit> {
        let scope = self.authorize(p, "system:unit:list").await?;
        Ok(self.store.get_unit(&scope, id).await?)
    }

    pub async fn create_unit(&self, p: &Principal, input: &UnitInput) -> AppResult<Unit> {
        let scope = self.authorize(p, "system:unit:create").await?;
        self.create_unit_as(&p.audit_ctx(), &scope, input).await
    }

    /// Creates a unit for `ctx` within `scope` (the console, the CLI and the demo).
    pub async fn create_unit_as(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        input: &UnitInput,
    ) -> AppResult<Unit> {
        let mut c = Check::default();
        let code = c.ident("code", &input.code, 32);
        let name = c.text("name", &input.name, 100);
        let kind = UnitKind::parse(&input.kind);
        if kind.is_none() {
            c.push(
                "kind",
                "unit_kind_invalid",
                "单位类型应为 bureau、section、office 或 grid",
            );
        }
        match input.parent_id {
            Some(parent) => {
                self.check_unit_in_scope(&mut c, "parent_id", scope, parent)
                    .await?
            }
            None if *scope != ScopeFilter::All => c.push(
                "parent_id",
                "required",
                "只有全部数据权限的管理员可以新建顶级单位",
            ),
            None => {}
        }
        let jurisdiction = self.check_jurisdiction(&mut c, &input.jurisdiction).await?;
        c.finish()?;
        let unit = self
            .store
            .create_unit(
                ctx,
                &NewUnit {
                    parent_id: input.parent_id,
                    code,
                    name,
                    kind: kind.unwrap_or(UnitKind::Office),
                    jurisdiction,
                    sort: input.sort,
                },
            )
            .await?;
        self.forget_units();
        Ok(unit)
    }

    pub async fn update_unit(
        &self,
        p: &Principal,
        id: UnitId,
        input: &UnitUpdate,
    ) -> AppResult<Unit> {
        let scope = self.authorize(p, "system:unit:update").await?;
        let mut c = Check::default();
        let name = input.name.as_deref().map(|n| c.text("name", n, 100));
        let jurisdiction = match &input.jurisdiction {
            Some(j) => Some(self.check_jurisdiction(&mut c, j).await?),
            None => None,
        };
        c.finish()?;
        let patch = UnitPatch {
            name,
            jurisdiction,
            enabled: input.enabled,
            sort: input.sort,
        };
        let unit = self
            .store
            .update_unit(&p.audit_ctx(), &scope, id, &patch)
            .await?;
        self.forget_units();
        Ok(unit)
    }

    /// Reference data: any signed-in user may browse divisions.
    pub async fn list_divisions(&self, parent: Option<&str>) -> AppResult<Vec<Division>> {
        if let Some(p) = parent {
            DivisionCode::parse(p).map_err(|e| AppError::rule(&e, Some("parent")))?;
        }
        Ok(self.store.list_divisions(parent).await?)
    }
}

// ---------------------------------------------------------------- users

impl App {
    pub async fn list_users(&self, p: &Principal, q: &UserQuery) -> AppResult<Page<User>> {
        let scope = self.authorize(p, "system:user:list").await?;
        Ok(self.store.list_users(&scope, q).await?)
    }

    pub async fn get_user(&self, p: &Principal, id: UserId) -> AppResult<User> {
        let scope = self.authorize(p, "system:user:list").await?;
        Ok(self.store.get_user(&scope, id).await?)
    }

    pub async fn create_user(&self, p: &Principal, input: &UserInput) -> AppResult<User> {
        let scope = self.authorize(p, "system:user:create").await?;
        self.create_user_as(&p.audit_ctx(), &scope, input).await
    }

    /// Creates a user for `ctx` within `scope` (the console, the CLI and the demo).
    pub async fn create_user_as(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        input: &UserInput,
    ) -> AppResult<User> {
        let mut c = Check::default();
        let username = c.ident("username", &input.username, 64);
        let display_name = c.text("display_name", &input.display_name, 64);
        self.check_unit_in_scope(&mut c, "unit_id", scope, input.unit_id)
            .await?;
        if let Err(AppError::Validation(errs)) = check_password_policy("password", &input.password)
        {
            c.0.extend(errs);
        }
        let role_ids = self.role_ids(&mut c, &input.role_codes).await?;
        c.finish()?;
        let password_hash = hash_password(&input.password).await?;
        Ok(self
            .store
            .create_user(
                ctx,
                &NewUser {
                    username,
                    display_name,
                    unit_id: input.unit_id,
                    phone: optional(input.phone.as_deref()),
                    cert_no: optional(input.cert_no.as_deref()),
                    password_hash,
                    must_change_password: false,
                    role_ids,
                },
            )
            .await?)
    }

    pub async fn update_user(
        &self,
        p: &Principal,
        id: UserId,
        input: &UserUpdate,
    ) -> AppResult<User> {
        let scope = self.authorize(p, "system:user:update").await?;
        let mut c = Check::default();
        let display_name = input
            .display_name
            .as_deref()
            .map(|n| c.text("display_name", n, 64));
        if let Some(unit) = input.unit_id {
            self.check_unit_in_scope(&mut c, "unit_id", &scope, unit)
                .await?;
        }
        let role_ids = match &input.role_codes {
            Some(codes) => Some(self.role_ids(&mut c, codes).await?),
            None => None,
        };
        if id == p.user.id && input.enabled == Some(false) {
            c.push("enabled", "cannot_disable_self", "不能停用自己的账号");
        }
        c.finish()?;
        let patch = UserPatch {
            display_name,
            unit_id: input.unit_id,
            phone: input.phone.as_deref().map(|v| optional(Some(v))),
            cert_no: input.cert_no.as_deref().map(|v| optional(Some(v))),
            enabled: input.enabled,
            role_ids,
            unlock: input.unlock,
        };
        Ok(self
            .store
            .update_user(&p.audit_ctx(), &scope, id, &patch)
            .await?)
    }

    /// An administrator sets a temporary password; the user must change it.
    pub async fn reset_password(&self, p: &Principal, id: UserId, password: &str) -> AppResult<()> {
        let scope = self.authorize(p, "system:user:reset-password").await?;
        check_password_policy("password", password)?;
        let user = self.store.get_user(&scope, id).await?;
        let hash = hash_password(password).await?;
        Ok(self
            .store
            .set_password(&p.audit_ctx(), user.id, &hash, true)
            .await?)
    }
}

// ---------------------------------------------------------------- roles

impl App {
    pub async fn list_roles(&self, p: &Principal) -> AppResult<Vec<Role>> {
        self.authorize(p, "system:role:list").await?;
        Ok(self.store.list_roles().await?)
    }

    async fn check_role_body(
        &self,
        c: &mut Check,
        scope: Option<&str>,
        units: Option<&[UnitId]>,
        perms: Option<&[String]>,
    ) -> AppResult<Option<DataScope>> {
        let parsed = scope.map(|s| {
            let d = DataScope::parse(s);
            if d.is_none() {
                c.push(
                    "scope",
                    "scope_invalid",
                    "数据范围应为 all、custom_units、own_unit、own_unit_and_below 或 self_only",
                );
            }
            d
        });
        if let Some(units) = units {
            for (i, u) in units.iter().enumerate() {
                self.check_unit_in_scope(c, &format!("custom_units[{i}]"), &ScopeFilter::All, *u)
                    .await?;
            }
        }
        if let Some(perms) = perms {
            Self::check_permissions(c, perms);
        }
        Ok(parsed.flatten())
    }

    pub async fn create_role(&self, p: &Principal, input: &RoleInput) -> AppResult<Role> {
        self.authorize(p, "system:role:create").await?;
        let mut c = Check::default();
        let code = c.ident("code", &input.code, 32);
        let name = c.text("name", &input.name, 64);
        let scope = self
            .check_role_body(
                &mut c,
                Some(&input.scope),
                Some(&input.custom_units),
                Some(&input.permissions),
            )
            .await?;
        c.finish()?;
        let mut permissions = input.permissions.clone();
        permissions.sort();
        permissions.dedup();
        Ok(self
            .store
            .create_role(
                &p.audit_ctx(),
                &NewRole {
                    code,
                    name,
                    scope: scope.unwrap_or(DataScope::SelfOnly),
                    custom_units: input.custom_units.clone(),
                    permissions,
                    builtin: false,
                },
            )
            .await?)
    }

    pub async fn update_role(
        &self,
        p: &Principal,
        id: RoleId,
        input: &RoleUpdate,
    ) -> AppResult<Role> {
        self.authorize(p, "system:role:update").await?;
        let mut c = Check::default();
        let name = input.name.as_deref().map(|n| c.text("name", n, 64));
        let scope = self
            .check_role_body(
                &mut c,
                input.scope.as_deref(),
                input.custom_units.as_deref(),
                input.permissions.as_deref(),
            )
            .await?;
        let role = self.store.get_role(id).await?;
        if role.builtin && (input.permissions.is_some() || input.scope.is_some()) {
            c.push(
                "permissions",
                "builtin_role",
                "内置角色的权限和数据范围随版本维护，请复制为新角色后修改",
            );
        }
        c.finish()?;
        let patch = RolePatch {
            name,
            scope,
            custom_units: input.custom_units.clone(),
            permissions: input.permissions.clone(),
            enabled: input.enabled,
        };
        Ok(self.store.update_role(&p.audit_ctx(), id, &patch).await?)
    }
}

// ---------------------------------------------------------------- API tokens

impl App {
    pub async fn create_token(&self, p: &Principal, input: &TokenInput) -> AppResult<CreatedToken> {
        let scope = self.authorize(p, "system:token:create").await?;
        let mut c = Check::default();
        let name = c.text("name", &input.name, 64);
        let owner = match input.user_id {
            None => Some(p.user.clone()),
            Some(id) => match self.store.get_user(&scope, id).await {
                Ok(u) => Some(u),
                Err(StoreError::NotFound) => {
                    c.push("user_id", "user_unknown", "用户不存在或不在您的管辖范围内");
                    None
                }
                Err(e) => return Err(e.into()),
            },
        };
        if input.permissions.is_empty() {
            c.push("permissions", "required", "至少选择一项权限");
        }
        Self::check_permissions(&mut c, &input.permissions);
        // A token can never exceed its owner, nor what its creator holds.
        let mine = p.permissions();
        let owner_perms: Vec<String> = match &owner {
            Some(o) => self
                .store
                .roles_of_user(o.id)
                .await?
                .into_iter()
                .filter(|r| r.enabled)
                .flat_map(|r| r.permissions)
                .collect(),
            None => Vec::new(),
        };
        for (i, perm) in input.permissions.iter().enumerate() {
            if is_known_permission(perm)
                && (!mine.contains(perm) || (owner.is_some() && !owner_perms.contains(perm)))
            {
                c.push(
                    &format!("permissions[{i}]"),
                    "permission_exceeds",
                    format!("令牌不能超出本人或所属账号的权限：{perm}"),
                );
            }
        }
        let expires_at = match input.expires_in_days {
            Some(d) if !(1..=3650).contains(&d) => {
                c.push("expires_in_days", "out_of_range", "有效期应为 1–3650 天");
                None
            }
            Some(d) => Some(Utc::now() + Duration::days(d)),
            None => None,
        };
        c.finish()?;
        let owner = owner.ok_or(AppError::NotFound)?;
        let secret = format!("{TOKEN_PREFIX}{}", random_hex(24));
        let mut permissions = input.permissions.clone();
        permissions.sort();
        permissions.dedup();
        let token = self
            .store
            .create_token(
                &p.audit_ctx(),
                &NewApiToken {
                    user_id: owner.id,
                    name,
                    prefix: secret.chars().take(10).collect(),
                    token_hash: sha256_hex(&secret),
                    permissions,
                    expires_at,
                },
            )
            .await?;
        Ok(CreatedToken { token, secret })
    }

    pub async fn list_tokens(&self, p: &Principal) -> AppResult<Vec<ApiToken>> {
        let scope = self.authorize(p, "system:token:list").await?;
        Ok(self.store.list_tokens(&scope).await?)
    }

    pub async fn revoke_token(&self, p: &Principal, id: TokenId) -> AppResult<ApiToken> {
        let scope = self.authorize(p, "system:token:revoke").await?;
        Ok(self.store.revoke_token(&p.audit_ctx(), &scope, id).await?)
    }
}

// ---------------------------------------------------------------- dictionaries, settings, sign-in log

/// Settings the product reads, with the range each accepts.
pub const KNOWN_SETTINGS: &[(&str, i64, i64, &str)] = &[
    (
        "auth.lockout_threshold",
        3,
        20,
        "连续登录失败多少次后锁定账号",
    ),
    ("auth.lockout_minutes", 1, 1440, "账号锁定时长（分钟）"),
    ("auth.session_hours", 1, 720, "登录会话有效期（小时）"),
    (
        "kitchen.online_window_minutes",
        1,
        60,
        "阳光厨房摄像头多少分钟内有心跳视为在线",
    ),
    (
        "alert.merge_window_minutes",
        1,
        240,
        "同一摄像头同类 AI 预警在多少分钟内合并为一条",
    ),
];

impl App {
    pub async fn list_dict_types(&self, p: &Principal) -> AppResult<Vec<DictType>> {
        self.authorize(p, "system:dict:list").await?;
        Ok(self.store.list_dict_types().await?)
    }

    pub async fn list_dict_items(
        &self,
        p: &Principal,
        dict_type: &str,
    ) -> AppResult<Vec<DictItem>> {
        self.authorize(p, "system:dict:list").await?;
        Ok(self.store.list_dict_items(dict_type).await?)
    }

    pub async fn put_dict_type(
        &self,
        p: &Principal,
        code: &str,
        name: &str,
    ) -> AppResult<DictType> {
        self.authorize(p, "system:dict:update").await?;
        let mut c = Check::default();
        let t = DictType {
            code: c.ident("code", code, 64),
            name: c.text("name", name, 64),
        };
        c.finish()?;
        Ok(self.store.upsert_dict_type(&p.audit_ctx(), &t).await?)
    }

    pub async fn put_dict_item(&self, p: &Principal, item: &DictItem) -> AppResult<DictItem> {
        self.authorize(p, "system:dict:update").await?;
        let mut c = Check::default();
        let item = DictItem {
            dict_type: c.ident("dict_type", &item.dict_type, 64),
            code: c.ident("code", &item.code, 64),
            label: c.text("label", &item.label, 100),
            sort: item.sort,
            enabled: item.enabled,
        };
        c.finish()?;
        match self.store.upsert_dict_item(&p.audit_ctx(), &item).await {
            Err(StoreError::MissingReference) => Err(AppError::field(
                "dict_type",
                "dict_type_unknown",
                "字典类型不存在",
            )),
            other => Ok(other?),
        }
    }

    pub async fn delete_dict_item(
        &self,
        p: &Principal,
        dict_type: &str,
        code: &str,
    ) -> AppResult<()> {
        self.authorize(p, "system:dict:update").await?;
        Ok(self
            .store
            .delete_dict_item(&p.audit_ctx(), dict_type, code)
            .await?)
    }

    pub async fn list_settings(&self, p: &Principal) -> AppResult<Vec<Setting>> {
        self.authorize(p, "system:setting:list").await?;
        Ok(self.store.list_settings().await?)
    }

    pub async fn put_setting(&self, p: &Principal, key: &str, value: &str) -> AppResult<Setting> {
        self.authorize(p, "system:setting:update").await?;
        let mut c = Check::default();
        let key = c.ident("key", key, 64);
        let value = value.trim();
        if value.chars().count() > 4000 {
            c.push("value", "too_long", "不能超过 4000 个字符");
        }
        if let Some((_, lo, hi, _)) = KNOWN_SETTINGS.iter().find(|(k, ..)| *k == key) {
            if !value.parse::<i64>().is_ok_and(|v| (*lo..=*hi).contains(&v)) {
                c.push(
                    "value",
                    "out_of_range",
                    format!("应为 {lo}–{hi} 之间的整数"),
                );
            }
        }
        c.finish()?;
        let saved = self.store.put_setting(&p.audit_ctx(), &key, value).await?;
        self.online_window.forget();
        Ok(saved)
    }

    pub async fn list_login_log(
        &self,
        p: &Principal,
        paging: Paging,
    ) -> AppResult<Page<LoginLogEntry>> {
        let scope = self.authorize(p, "system:login-log:list").await?;
        Ok(self.store.list_login_log(&scope, paging).await?)
    }
}
