//! Sign-in, sign-out, the caller's profile and password.
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json, RequestOrigin, CSRF_COOKIE, SESSION_COOKIE};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use hongdun_app::Credential;
use hongdun_store::{Role, Unit, User};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/me/password", post(change_password))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginBody {
    pub username: String,
    pub password: String,
}

/// Who the caller is and what they may do; the console builds its menu from it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MeBody {
    pub user: User,
    pub unit: Option<Unit>,
    pub roles: Vec<Role>,
    pub permissions: Vec<String>,
    /// Send back as `X-CSRF-Token` on every state-changing request.
    pub csrf_token: Option<String>,
}

fn cookie_header(
    state: &AppState,
    name: &str,
    value: &str,
    max_age: i64,
    http_only: bool,
) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; Max-Age={max_age}; SameSite=Strict");
    if http_only {
        c.push_str("; HttpOnly");
    }
    if state.http.cookie_secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).expect("cookie values are hex")
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginBody,
    responses((status = 200, body = MeBody), (status = 401, body = ErrorBody), (status = 423, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    Json(body): Json<LoginBody>,
) -> ApiResult<Response> {
    let signed = state
        .app
        .login(&body.username, &body.password, &origin)
        .await?;
    let roles = state
        .app
        .store()
        .roles_of_user(signed.user.id)
        .await
        .map_err(hongdun_app::AppError::from)?;
    let unit = state
        .app
        .store()
        .get_unit(&hongdun_store::ScopeFilter::All, signed.user.unit_id)
        .await
        .ok();
    let principal = hongdun_app::Principal {
        user: signed.user.clone(),
        roles: roles.clone(),
        credential: Credential::Session {
            id_hash: String::new(),
            csrf_token: signed.csrf_token.clone(),
        },
        request_id: None,
        ip: None,
    };
    let body = MeBody {
        permissions: principal.permissions(),
        user: signed.user,
        unit,
        roles,
        csrf_token: Some(signed.csrf_token.clone()),
    };
    let mut headers = HeaderMap::new();
    headers.append(
        header::SET_COOKIE,
        cookie_header(
            &state,
            SESSION_COOKIE,
            &signed.session_secret,
            signed.max_age_secs,
            true,
        ),
    );
    headers.append(
        header::SET_COOKIE,
        cookie_header(
            &state,
            CSRF_COOKIE,
            &signed.csrf_token,
            signed.max_age_secs,
            false,
        ),
    );
    Ok((headers, Json(body)).into_response())
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(
    State(state): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    Auth(p): Auth,
) -> ApiResult<Response> {
    state.app.logout(&p, &origin).await?;
    let mut headers = HeaderMap::new();
    headers.append(
        header::SET_COOKIE,
        cookie_header(&state, SESSION_COOKIE, "", 0, true),
    );
    headers.append(
        header::SET_COOKIE,
        cookie_header(&state, CSRF_COOKIE, "", 0, false),
    );
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}

#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = MeBody), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, Auth(p): Auth) -> ApiResult<Json<MeBody>> {
    let unit = state
        .app
        .store()
        .get_unit(&hongdun_store::ScopeFilter::All, p.user.unit_id)
        .await
        .ok();
    let csrf_token = match &p.credential {
        Credential::Session { csrf_token, .. } => Some(csrf_token.clone()),
        Credential::Token { .. } => None,
    };
    Ok(Json(MeBody {
        permissions: p.permissions(),
        user: p.user,
        unit,
        roles: p.roles,
        csrf_token,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordBody {
    pub old_password: String,
    pub new_password: String,
}

#[utoipa::path(post, path = "/api/v1/me/password", tag = "auth", request_body = PasswordBody,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    Auth(p): Auth,
    Json(body): Json<PasswordBody>,
) -> ApiResult<StatusCode> {
    state
        .app
        .change_password(&p, &body.old_password, &body.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
