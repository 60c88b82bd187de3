//! The `system` module: divisions, units, users, roles, sessions, API tokens,
//! the sign-in log, dictionaries, settings and the holiday calendar.
use crate::{AuditCtx, Page, Paging, ScopeFilter, StoreResult};
use chrono::{DateTime, Utc};
use hongdun_core::calendar::ScheduleDay;
use hongdun_core::division::DivisionLevel;
use hongdun_core::ids::{RoleId, TokenId, UnitId, UserId};
use hongdun_core::system::{DataScope, UnitKind, UnitNode};
use serde::Serialize;

// ---------------------------------------------------------------- divisions

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Division {
    pub code: String,
    pub name: String,
    pub level: DivisionLevel,
    pub parent_code: Option<String>,
}

#[async_trait::async_trait]
pub trait DivisionStore {
    /// Inserts or updates the given divisions (reference data; one audit row).
    async fn upsert_divisions(&self, ctx: &AuditCtx, rows: &[Division]) -> StoreResult<u64>;
    async fn division_count(&self) -> StoreResult<i64>;
    /// Every division code, for validating imports in memory.
    async fn all_division_codes(&self) -> StoreResult<Vec<String>>;
    async fn get_division(&self, code: &str) -> StoreResult<Division>;
    /// Children of `parent`, or the provinces when `None`; ordered by code.
    async fn list_divisions(&self, parent: Option<&str>) -> StoreResult<Vec<Division>>;
}

// ---------------------------------------------------------------- units

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Unit {
    pub id: UnitId,
    pub parent_id: Option<UnitId>,
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    /// Division codes the unit covers (辖区).
    pub jurisdiction: Vec<String>,
    pub enabled: bool,
    pub sort: i64,
}

#[derive(Debug, Clone)]
pub struct NewUnit {
    pub parent_id: Option<UnitId>,
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub jurisdiction: Vec<String>,
    pub sort: i64,
}

#[derive(Debug, Clone, Default)]
pub struct UnitPatch {
    pub name: Option<String>,
    pub jurisdiction: Option<Vec<String>>,
    pub enabled: Option<bool>,
    pub sort: Option<i64>,
}

#[async_trait::async_trait]
pub trait UnitStore {
    /// The whole tree, unscoped: only for computing scopes.
    async fn unit_nodes(&self) -> StoreResult<Vec<UnitNode>>;
    async fn list_units(&self, scope: &ScopeFilter) -> StoreResult<Vec<Unit>>;
    async fn get_unit(&self, scope: &ScopeFilter, id: UnitId) -> StoreResult<Unit>;
    /// Unscoped lookup by code, for the command line and start-up tasks.
    async fn find_unit_by_code(&self, code: &str) -> StoreResult<Unit>;
    async fn create_unit(&self, ctx: &AuditCtx, new: &NewUnit) -> StoreResult<Unit>;
    async fn update_unit(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        id: UnitId,
        patch: &UnitPatch,
    ) -> StoreResult<Unit>;
}

// ---------------------------------------------------------------- users

/// A staff account as everyone but the sign-in code sees it: no password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub unit_id: UnitId,
    pub phone: Option<String>,
    /// 执法证号 (enforcement certificate number).
    pub cert_no: Option<String>,
    pub enabled: bool,
    pub must_change_password: bool,
    pub locked_until: Option<DateTime<Utc>>,
    pub role_ids: Vec<RoleId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What sign-in needs. Deliberately not `Serialize`.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user_id: UserId,
    pub password_hash: String,
    pub enabled: bool,
    pub failed_logins: i64,
    pub locked_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub unit_id: UnitId,
    pub phone: Option<String>,
    pub cert_no: Option<String>,
    pub password_hash: String,
    pub must_change_password: bool,
    pub role_ids: Vec<RoleId>,
}

#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub unit_id: Option<UnitId>,
    pub phone: Option<Option<String>>,
    pub cert_no: Option<Option<String>>,
    pub enabled: Option<bool>,
    pub role_ids: Option<Vec<RoleId>>,
    /// Clears a lock-out and the failure counter.
    pub unlock: bool,
}

#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// Matches username or display name.
    pub q: Option<String>,
    pub unit_id: Option<UnitId>,
    pub paging: Paging,
}

#[async_trait::async_trait]
pub trait UserStore {
    async fn list_users(&self, scope: &ScopeFilter, q: &UserQuery) -> StoreResult<Page<User>>;
    async fn get_user(&self, scope: &ScopeFilter, id: UserId) -> StoreResult<User>;
    /// Unscoped: for authentication and the user's own profile.
    async fn get_user_unscoped(&self, id: UserId) -> StoreResult<User>;
    async fn credentials(&self, username: &str) -> StoreResult<Credentials>;
    async fn create_user(&self, ctx: &AuditCtx, new: &NewUser) -> StoreResult<User>;
    async fn update_user(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        id: UserId,
        patch: &UserPatch,
    ) -> StoreResult<User>;
    /// Sets a new password hash, ends the user's sessions, clears any lock.
    async fn set_password(
        &self,
        ctx: &AuditCtx,
        id: UserId,
        hash: &str,
        must_change: bool,
    ) -> StoreResult<()>;
    /// Counts a failed sign-in; locks until `lock_until` once `threshold` is reached.
    /// Returns the failure count and the lock, if any.
    async fn register_login_failure(
        &self,
        id: UserId,
        threshold: i64,
        lock_until: DateTime<Utc>,
    ) -> StoreResult<(i64, Option<DateTime<Utc>>)>;
    async fn register_login_success(&self, id: UserId) -> StoreResult<()>;
}

// ---------------------------------------------------------------- roles

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Role {
    pub id: RoleId,
    pub code: String,
    pub name: String,
    pub scope: DataScope,
    pub custom_units: Vec<UnitId>,
    pub permissions: Vec<String>,
    pub enabled: bool,
    pub builtin: bool,
}

#[derive(Debug, Clone)]
pub struct NewRole {
    pub code: String,
    pub name: String,
    pub scope: DataScope,
    pub custom_units: Vec<UnitId>,
    pub permissions: Vec<String>,
    pub builtin: bool,
}

#[derive(Debug, Clone, Default)]
pub struct RolePatch {
    pub name: Option<String>,
    pub scope: Option<DataScope>,
    pub custom_units: Option<Vec<UnitId>>,
    pub permissions: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

#[async_trait::async_trait]
pub trait RoleStore {
    async fn list_roles(&self) -> StoreResult<Vec<Role>>;
    async fn get_role(&self, id: RoleId) -> StoreResult<Role>;
    async fn find_role_by_code(&self, code: &str) -> StoreResult<Role>;
    async fn roles_of_user(&self, user: UserId) -> StoreResult<Vec<Role>>;
    async fn create_role(&self, ctx: &AuditCtx, new: &NewRole) -> StoreResult<Role>;
    async fn update_role(&self, ctx: &AuditCtx, id: RoleId, patch: &RolePatch)
        -> StoreResult<Role>;
}

// ---------------------------------------------------------------- sessions

#[derive(Debug, Clone)]
pub struct Session {
    /// SHA-256 of the cookie value; the value itself is never stored.
    pub id_hash: String,
    pub user_id: UserId,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip: Option<String>,
}

#[async_trait::async_trait]
pub trait SessionStore {
    async fn create_session(&self, s: &Session) -> StoreResult<()>;
    /// A live (unexpired) session.
    async fn get_session(&self, id_hash: &str, now: DateTime<Utc>) -> StoreResult<Session>;
    async fn delete_session(&self, id_hash: &str) -> StoreResult<()>;
    async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64>;
}

// ---------------------------------------------------------------- API tokens

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    /// The first characters of the secret, to recognise it in lists.
    pub prefix: String,
    pub permissions: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub user_id: UserId,
    pub name: String,
    pub prefix: String,
    pub token_hash: String,
    pub permissions: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[async_trait::async_trait]
pub trait TokenStore {
    async fn create_token(&self, ctx: &AuditCtx, new: &NewApiToken) -> StoreResult<ApiToken>;
    /// Tokens whose owner lies in `scope`.
    async fn list_tokens(&self, scope: &ScopeFilter) -> StoreResult<Vec<ApiToken>>;
    async fn token_by_hash(&self, hash: &str) -> StoreResult<ApiToken>;
    async fn revoke_token(
        &self,
        ctx: &AuditCtx,
        scope: &ScopeFilter,
        id: TokenId,
    ) -> StoreResult<ApiToken>;
    async fn touch_token(&self, id: TokenId, at: DateTime<Utc>) -> StoreResult<()>;
}

// ---------------------------------------------------------------- sign-in log

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum LoginOutcome {
    Success,
    Failure,
    Locked,
    Disabled,
    Logout,
}

impl LoginOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Locked => "locked",
            Self::Disabled => "disabled",
            Self::Logout => "logout",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Success,
            Self::Failure,
            Self::Locked,
            Self::Disabled,
            Self::Logout,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginLogEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub username: String,
    pub user_id: Option<UserId>,
    pub unit_id: Option<UnitId>,
    pub outcome: LoginOutcome,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewLoginLog {
    pub username: String,
    pub user_id: Option<UserId>,
    pub unit_id: Option<UnitId>,
    pub outcome: LoginOutcome,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[async_trait::async_trait]
pub trait LoginLogStore {
    async fn log_login(&self, e: &NewLoginLog) -> StoreResult<()>;
    /// Newest first; scoped by the unit of the account.
    async fn list_login_log(
        &self,
        scope: &ScopeFilter,
        paging: Paging,
    ) -> StoreResult<Page<LoginLogEntry>>;
}

// ---------------------------------------------------------------- dictionaries and settings

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DictType {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DictItem {
    pub dict_type: String,
    pub code: String,
    pub label: String,
    pub sort: i64,
    pub enabled: bool,
}

#[async_trait::async_trait]
pub trait DictStore {
    async fn list_dict_types(&self) -> StoreResult<Vec<DictType>>;
    async fn upsert_dict_type(&self, ctx: &AuditCtx, t: &DictType) -> StoreResult<DictType>;
    async fn list_dict_items(&self, dict_type: &str) -> StoreResult<Vec<DictItem>>;
    async fn upsert_dict_item(&self, ctx: &AuditCtx, item: &DictItem) -> StoreResult<DictItem>;
    async fn delete_dict_item(
        &self,
        ctx: &AuditCtx,
        dict_type: &str,
        code: &str,
    ) -> StoreResult<()>;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Setting {
    pub key: String,
    pub value: String,
    pub updated_at: DateTime<Utc>,
}

#[async_trait::async_trait]
pub trait SettingStore {
    async fn list_settings(&self) -> StoreResult<Vec<Setting>>;
    async fn get_setting(&self, key: &str) -> StoreResult<Setting>;
    async fn put_setting(&self, ctx: &AuditCtx, key: &str, value: &str) -> StoreResult<Setting>;
}

// ---------------------------------------------------------------- holiday calendar

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayYear {
    pub year: i32,
    pub source: String,
    pub days: Vec<ScheduleDay>,
    pub updated_at: DateTime<Utc>,
}

#[async_trait::async_trait]
pub trait CalendarStore {
    async fn list_holiday_years(&self) -> StoreResult<Vec<HolidayYear>>;
    /// Replaces one year's schedule.
    async fn put_holiday_year(
        &self,
        ctx: &AuditCtx,
        year: i32,
        source: &str,
        days: &[ScheduleDay],
    ) -> StoreResult<HolidayYear>;
}
