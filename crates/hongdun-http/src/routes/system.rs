//! `/api/v1/system/…`: units, users, roles, API tokens, dictionaries,
//! settings, the audit log, the sign-in log, divisions and holiday schedules.
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json, Params};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::Router;
use hongdun_app::audit::VerifyReport;
use hongdun_app::calendar::DayInput;
use hongdun_app::system::{
    CreatedToken, RoleInput, RoleUpdate, TokenInput, UnitInput, UnitUpdate, UserInput, UserUpdate,
};
use hongdun_core::ids::{RoleId, TokenId, UnitId, UserId};
use hongdun_store::*;
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/system/units", get(list_units).post(create_unit))
        .route(
            "/api/v1/system/units/{id}",
            get(get_unit).patch(update_unit),
        )
        .route("/api/v1/system/users", get(list_users).post(create_user))
        .route(
            "/api/v1/system/users/{id}",
            get(get_user).patch(update_user),
        )
        .route("/api/v1/system/users/{id}/password", post(reset_password))
        .route("/api/v1/system/roles", get(list_roles).post(create_role))
        .route(
            "/api/v1/system/roles/{id}",
            axum::routing::patch(update_role),
        )
        .route("/api/v1/system/permissions", get(list_permissions))
        .route("/api/v1/system/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/system/tokens/{id}/revoke", post(revoke_token))
        .route("/api/v1/system/dicts", get(list_dict_types))
        .route("/api/v1/system/dicts/{dict_type}", put(put_dict_type))
        .route(
            "/api/v1/system/dicts/{dict_type}/items",
            get(list_dict_items),
        )
        .route(
            "/api/v1/system/dicts/{dict_type}/items/{code}",
            put(put_dict_item).delete(delete_dict_item),
        )
        .route("/api/v1/system/settings", get(list_settings))
        .route("/api/v1/system/settings/{key}", put(put_setting))
        .route("/api/v1/system/audit", get(list_audit))
        .route("/api/v1/system/audit/verify", post(verify_audit))
        .route("/api/v1/system/login-log", get(list_login_log))
        .route("/api/v1/system/divisions", get(list_divisions))
        .route("/api/v1/system/calendar/years", get(list_years))
        .route("/api/v1/system/calendar/years/{year}", put(put_year))
}

/// A list wrapper, so every list answer can grow fields without breaking clients.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

// ---------------------------------------------------------------- units

#[utoipa::path(get, path = "/api/v1/system/units", tag = "system", responses((status = 200, body = Items<Unit>)))]
pub async fn list_units(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Items<Unit>>> {
    Ok(Json(Items {
        items: s.app.list_units(&p).await?,
    }))
}

#[utoipa::path(get, path = "/api/v1/system/units/{id}", tag = "system",
    responses((status = 200, body = Unit), (status = 404, body = ErrorBody)))]
pub async fn get_unit(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Unit>> {
    Ok(Json(s.app.get_unit(&p, UnitId(id)).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UnitBody {
    pub parent_id: Option<i64>,
    pub code: String,
    pub name: String,
    /// bureau, section, office or grid
    pub kind: String,
    #[serde(default)]
    pub jurisdiction: Vec<String>,
    #[serde(default)]
    pub sort: i64,
}

#[utoipa::path(post, path = "/api/v1/system/units", tag = "system", request_body = UnitBody,
    responses((status = 201, body = Unit), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_unit(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(b): Json<UnitBody>,
) -> ApiResult<(StatusCode, Json<Unit>)> {
    let input = UnitInput {
        parent_id: b.parent_id.map(UnitId),
        code: b.code,
        name: b.name,
        kind: b.kind,
        jurisdiction: b.jurisdiction,
        sort: b.sort,
    };
    Ok((
        StatusCode::CREATED,
        Json(s.app.create_unit(&p, &input).await?),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UnitPatchBody {
    pub name: Option<String>,
    pub jurisdiction: Option<Vec<String>>,
    pub enabled: Option<bool>,
    pub sort: Option<i64>,
}

#[utoipa::path(patch, path = "/api/v1/system/units/{id}", tag = "system", request_body = UnitPatchBody,
    responses((status = 200, body = Unit), (status = 404, body = ErrorBody)))]
pub async fn update_unit(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(b): Json<UnitPatchBody>,
) -> ApiResult<Json<Unit>> {
    let input = UnitUpdate {
        name: b.name,
        jurisdiction: b.jurisdiction,
        enabled: b.enabled,
        sort: b.sort,
    };
    Ok(Json(s.app.update_unit(&p, UnitId(id), &input).await?))
}

// ---------------------------------------------------------------- users

#[utoipa::path(get, path = "/api/v1/system/users", tag = "system",
    params(("q" = Option<String>, Query), ("unit_id" = Option<i64>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = Page<User>)))]
pub async fn list_users(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<Json<Page<User>>> {
    let query = UserQuery {
        q: q.text("q").map(str::to_owned),
        unit_id: q.int("unit_id", 1..=i64::MAX)?.map(UnitId),
        paging: q.paging()?,
    };
    Ok(Json(s.app.list_users(&p, &query).await?))
}

#[utoipa::path(get, path = "/api/v1/system/users/{id}", tag = "system",
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<User>> {
    Ok(Json(s.app.get_user(&p, UserId(id)).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UserBody {
    pub username: String,
    pub display_name: String,
    pub unit_id: i64,
    pub phone: Option<String>,
    pub cert_no: Option<String>,
    pub password: String,
    #[serde(default)]
    pub role_codes: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/system/users", tag = "system", request_body = UserBody,
    responses((status = 201, body = User), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_user(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(b): Json<UserBody>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let input = UserInput {
        username: b.username,
        display_name: b.display_name,
        unit_id: UnitId(b.unit_id),
        phone: b.phone,
        cert_no: b.cert_no,
        password: b.password,
        role_codes: b.role_codes,
    };
    Ok((
        StatusCode::CREATED,
        Json(s.app.create_user(&p, &input).await?),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UserPatchBody {
    pub display_name: Option<String>,
    pub unit_id: Option<i64>,
    /// An empty string clears it.
    pub phone: Option<String>,
    pub cert_no: Option<String>,
    pub enabled: Option<bool>,
    pub role_codes: Option<Vec<String>>,
    /// Lifts a lock-out after failed sign-ins.
    #[serde(default)]
    pub unlock: bool,
}

#[utoipa::path(patch, path = "/api/v1/system/users/{id}", tag = "system", request_body = UserPatchBody,
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
pub async fn update_user(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(b): Json<UserPatchBody>,
) -> ApiResult<Json<User>> {
    let input = UserUpdate {
        display_name: b.display_name,
        unit_id: b.unit_id.map(UnitId),
        phone: b.phone,
        cert_no: b.cert_no,
        enabled: b.enabled,
        role_codes: b.role_codes,
        unlock: b.unlock,
    };
    Ok(Json(s.app.update_user(&p, UserId(id), &input).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ResetPasswordBody {
    /// A temporary password; the user must change it at next sign-in.
    pub password: String,
}

#[utoipa::path(post, path = "/api/v1/system/users/{id}/password", tag = "system", request_body = ResetPasswordBody,
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn reset_password(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(b): Json<ResetPasswordBody>,
) -> ApiResult<StatusCode> {
    s.app.reset_password(&p, UserId(id), &b.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- roles and permissions

#[utoipa::path(get, path = "/api/v1/system/roles", tag = "system", responses((status = 200, body = Items<Role>)))]
pub async fn list_roles(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Items<Role>>> {
    Ok(Json(Items {
        items: s.app.list_roles(&p).await?,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RoleBody {
    pub code: String,
    pub name: String,
    /// all, custom_units, own_unit, own_unit_and_below, self_only
    pub scope: String,
    #[serde(default)]
    pub custom_units: Vec<i64>,
    #[serde(default)]
    pub permissions: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/system/roles", tag = "system", request_body = RoleBody,
    responses((status = 201, body = Role), (status = 422, body = ErrorBody)))]
pub async fn create_role(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(b): Json<RoleBody>,
) -> ApiResult<(StatusCode, Json<Role>)> {
    let input = RoleInput {
        code: b.code,
        name: b.name,
        scope: b.scope,
        custom_units: b.custom_units.into_iter().map(UnitId).collect(),
        permissions: b.permissions,
    };
    Ok((
        StatusCode::CREATED,
        Json(s.app.create_role(&p, &input).await?),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RolePatchBody {
    pub name: Option<String>,
    pub scope: Option<String>,
    pub custom_units: Option<Vec<i64>>,
    pub permissions: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

#[utoipa::path(patch, path = "/api/v1/system/roles/{id}", tag = "system", request_body = RolePatchBody,
    responses((status = 200, body = Role), (status = 404, body = ErrorBody)))]
pub async fn update_role(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(b): Json<RolePatchBody>,
) -> ApiResult<Json<Role>> {
    let input = RoleUpdate {
        name: b.name,
        scope: b.scope,
        custom_units: b.custom_units.map(|v| v.into_iter().map(UnitId).collect()),
        permissions: b.permissions,
        enabled: b.enabled,
    };
    Ok(Json(s.app.update_role(&p, RoleId(id), &input).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PermissionBody {
    pub name: String,
    pub label: String,
}

#[utoipa::path(get, path = "/api/v1/system/permissions", tag = "system", responses((status = 200, body = Items<PermissionBody>)))]
pub async fn list_permissions(Auth(_p): Auth) -> Json<Items<PermissionBody>> {
    let items = hongdun_core::system::PERMISSIONS
        .iter()
        .map(|(n, l)| PermissionBody {
            name: (*n).into(),
            label: (*l).into(),
        })
        .collect();
    Json(Items { items })
}

// ---------------------------------------------------------------- API tokens

#[utoipa::path(get, path = "/api/v1/system/tokens", tag = "system", responses((status = 200, body = Items<ApiToken>)))]
pub async fn list_tokens(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<Json<Items<ApiToken>>> {
    Ok(Json(Items {
        items: s.app.list_tokens(&p).await?,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct TokenBody {
    pub name: String,
    /// The account the token acts as; defaults to the caller.
    pub user_id: Option<i64>,
    pub permissions: Vec<String>,
    pub expires_in_days: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedTokenBody {
    pub token: ApiToken,
    /// Shown once: use as `Authorization: Bearer <secret>`.
    pub secret: String,
}

#[utoipa::path(post, path = "/api/v1/system/tokens", tag = "system", request_body = TokenBody,
    responses((status = 201, body = CreatedTokenBody), (status = 422, body = ErrorBody)))]
pub async fn create_token(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(b): Json<TokenBody>,
) -> ApiResult<(StatusCode, Json<CreatedTokenBody>)> {
    let input = TokenInput {
        name: b.name,
        user_id: b.user_id.map(UserId),
        permissions: b.permissions,
        expires_in_days: b.expires_in_days,
    };
    let CreatedToken { token, secret } = s.app.create_token(&p, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedTokenBody { token, secret }),
    ))
}

#[utoipa::path(post, path = "/api/v1/system/tokens/{id}/revoke", tag = "system",
    responses((status = 200, body = ApiToken), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<ApiToken>> {
    Ok(Json(s.app.revoke_token(&p, TokenId(id)).await?))
}

// ---------------------------------------------------------------- dictionaries and settings

#[utoipa::path(get, path = "/api/v1/system/dicts", tag = "system", responses((status = 200, body = Items<DictType>)))]
pub async fn list_dict_types(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<Json<Items<DictType>>> {
    Ok(Json(Items {
        items: s.app.list_dict_types(&p).await?,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DictTypeBody {
    pub name: String,
}

#[utoipa::path(put, path = "/api/v1/system/dicts/{dict_type}", tag = "system", request_body = DictTypeBody,
    responses((status = 200, body = DictType)))]
pub async fn put_dict_type(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(dict_type): Path<String>,
    Json(b): Json<DictTypeBody>,
) -> ApiResult<Json<DictType>> {
    Ok(Json(s.app.put_dict_type(&p, &dict_type, &b.name).await?))
}

#[utoipa::path(get, path = "/api/v1/system/dicts/{dict_type}/items", tag = "system", responses((status = 200, body = Items<DictItem>)))]
pub async fn list_dict_items(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(dict_type): Path<String>,
) -> ApiResult<Json<Items<DictItem>>> {
    Ok(Json(Items {
        items: s.app.list_dict_items(&p, &dict_type).await?,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DictItemBody {
    pub label: String,
    #[serde(default)]
    pub sort: i64,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

#[utoipa::path(put, path = "/api/v1/system/dicts/{dict_type}/items/{code}", tag = "system", request_body = DictItemBody,
    responses((status = 200, body = DictItem), (status = 422, body = ErrorBody)))]
pub async fn put_dict_item(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((dict_type, code)): Path<(String, String)>,
    Json(b): Json<DictItemBody>,
) -> ApiResult<Json<DictItem>> {
    let item = DictItem {
        dict_type,
        code,
        label: b.label,
        sort: b.sort,
        enabled: b.enabled,
    };
    Ok(Json(s.app.put_dict_item(&p, &item).await?))
}

#[utoipa::path(delete, path = "/api/v1/system/dicts/{dict_type}/items/{code}", tag = "system",
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_dict_item(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((dict_type, code)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.app.delete_dict_item(&p, &dict_type, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/system/settings", tag = "system", responses((status = 200, body = Items<Setting>)))]
pub async fn list_settings(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<Json<Items<Setting>>> {
    Ok(Json(Items {
        items: s.app.list_settings(&p).await?,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SettingBody {
    pub value: String,
}

#[utoipa::path(put, path = "/api/v1/system/settings/{key}", tag = "system", request_body = SettingBody,
    responses((status = 200, body = Setting), (status = 422, body = ErrorBody)))]
pub async fn put_setting(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(key): Path<String>,
    Json(b): Json<SettingBody>,
) -> ApiResult<Json<Setting>> {
    Ok(Json(s.app.put_setting(&p, &key, &b.value).await?))
}

// ---------------------------------------------------------------- audit and sign-in log

#[utoipa::path(get, path = "/api/v1/system/audit", tag = "system",
    params(("action" = Option<String>, Query), ("target_type" = Option<String>, Query), ("target_id" = Option<String>, Query),
           ("from" = Option<String>, Query), ("to" = Option<String>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = Page<AuditRow>)))]
pub async fn list_audit(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<Json<Page<AuditRow>>> {
    let day_start = |d: chrono::NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    let query = AuditQuery {
        action: q.text("action").map(str::to_owned),
        target_type: q.text("target_type").map(str::to_owned),
        target_id: q.text("target_id").map(str::to_owned),
        actor_user_id: q.int("actor_user_id", 1..=i64::MAX)?.map(UserId),
        from: q.date("from")?.and_then(day_start),
        to: q.date("to")?.and_then(|d| d.succ_opt()).and_then(day_start),
        paging: q.paging()?,
    };
    Ok(Json(s.app.list_audit(&p, &query).await?))
}

#[utoipa::path(post, path = "/api/v1/system/audit/verify", tag = "system", responses((status = 200, body = VerifyReport)))]
pub async fn verify_audit(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<Json<VerifyReport>> {
    Ok(Json(s.app.verify_audit_as(&p).await?))
}

#[utoipa::path(get, path = "/api/v1/system/login-log", tag = "system",
    params(("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = Page<LoginLogEntry>)))]
pub async fn list_login_log(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<Json<Page<LoginLogEntry>>> {
    Ok(Json(s.app.list_login_log(&p, q.paging()?).await?))
}

// ---------------------------------------------------------------- divisions and holiday schedules

#[utoipa::path(get, path = "/api/v1/system/divisions", tag = "system",
    params(("parent" = Option<String>, Query, description = "children of this code; provinces when absent")),
    responses((status = 200, body = Items<Division>)))]
pub async fn list_divisions(
    State(s): State<AppState>,
    Auth(_p): Auth,
    q: Params,
) -> ApiResult<Json<Items<Division>>> {
    Ok(Json(Items {
        items: s.app.list_divisions(q.text("parent")).await?,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HolidayYearBody {
    pub year: i32,
    pub source: String,
    #[schema(value_type = Vec<Object>)]
    pub days: Vec<DayInput>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<HolidayYear> for HolidayYearBody {
    fn from(y: HolidayYear) -> Self {
        Self {
            year: y.year,
            source: y.source,
            days: y
                .days
                .into_iter()
                .map(|d| DayInput {
                    date: d.date.to_string(),
                    is_off_day: d.is_off_day,
                    name: d.name,
                })
                .collect(),
            updated_at: y.updated_at,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/system/calendar/years", tag = "system", responses((status = 200, body = Items<HolidayYearBody>)))]
pub async fn list_years(
    State(s): State<AppState>,
    Auth(_p): Auth,
) -> ApiResult<Json<Items<HolidayYearBody>>> {
    Ok(Json(Items {
        items: s
            .app
            .holiday_years()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct HolidayYearInput {
    /// Where the schedule comes from (the State Council notice).
    #[serde(default)]
    pub source: String,
    /// Listed days only: holidays (`is_off_day: true`) and 调休 working days.
    #[schema(value_type = Vec<Object>)]
    pub days: Vec<DayInput>,
}

#[utoipa::path(put, path = "/api/v1/system/calendar/years/{year}", tag = "system", request_body = HolidayYearInput,
    responses((status = 200, body = HolidayYearBody), (status = 422, body = ErrorBody)))]
pub async fn put_year(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(year): Path<i32>,
    Json(b): Json<HolidayYearInput>,
) -> ApiResult<Json<HolidayYearBody>> {
    Ok(Json(
        s.app
            .put_holiday_year(&p, year, &b.source, &b.days)
            .await?
            .into(),
    ))
}
