//! The HTTP boundary: axum routers, extractors, the one error type, OpenAPI and
//! the API explorer, metrics, request ids and graceful shutdown.
//!
//! Only this crate knows HTTP. Handlers turn requests into use-case calls on
//! `hongdun_app::App` and results into JSON; they hold no rules of their own.
#![forbid(unsafe_code)]

pub mod console;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod routes;

use axum::extract::State;
use axum::http::{header, HeaderName, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use hongdun_app::App;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;

/// HTTP-only settings.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Mark cookies `Secure` (serve behind HTTPS).
    pub cookie_secure: bool,
    /// Take the client address from `X-Forwarded-For` (behind a trusted proxy only).
    pub trust_forwarded_for: bool,
    /// Largest request body accepted (uploads; JSON bodies stay limited to 2 MiB).
    pub body_limit_bytes: usize,
    /// Requests per minute per client address on public pages; 0 turns the limit off.
    pub public_rate_per_minute: u32,
    /// The address the public reaches this server at, for QR codes
    /// (default: from the request's Host header).
    pub public_url: Option<String>,
    /// Where uploads wait while their import runs, one file per job, so a
    /// server stopped mid-import resumes them when it starts again.
    pub upload_dir: std::path::PathBuf,
}

/// The temp directory's `hongdun-uploads`.
pub fn default_upload_dir() -> std::path::PathBuf {
    std::env::temp_dir().join("hongdun-uploads")
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            cookie_secure: false,
            trust_forwarded_for: false,
            body_limit_bytes: 1024 * 1024 * 1024,
            public_rate_per_minute: 120,
            public_url: None,
            upload_dir: default_upload_dir(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub app: Arc<App>,
    pub http: Arc<HttpConfig>,
    pub metrics: Arc<metrics::Metrics>,
}

impl axum::extract::FromRef<AppState> for Arc<metrics::Metrics> {
    fn from_ref(s: &AppState) -> Self {
        s.metrics.clone()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "红盾 Hongdun API", version = "1", description = "市场监管数字化平台接口。错误统一为 {code, message, fields}。"),
    paths(
        routes::auth::login, routes::auth::logout, routes::auth::me, routes::auth::change_password,
        routes::calendar::add_working_days, routes::calendar::working_days_between, routes::calendar::is_working_day,
        routes::system::list_units, routes::system::get_unit, routes::system::create_unit, routes::system::update_unit,
        routes::system::list_users, routes::system::get_user, routes::system::create_user, routes::system::update_user,
        routes::system::reset_password,
        routes::system::list_roles, routes::system::create_role, routes::system::update_role, routes::system::list_permissions,
        routes::system::list_tokens, routes::system::create_token, routes::system::revoke_token,
        routes::system::list_dict_types, routes::system::put_dict_type, routes::system::list_dict_items,
        routes::system::put_dict_item, routes::system::delete_dict_item,
        routes::system::list_settings, routes::system::put_setting,
        routes::system::list_audit, routes::system::verify_audit, routes::system::list_login_log,
        routes::system::list_divisions, routes::system::list_years, routes::system::put_year,
        routes::registry::search, routes::registry::detail, routes::registry::create, routes::registry::update,
        routes::registry::put_licence, routes::registry::export_csv, routes::registry::export_xlsx, routes::registry::stats, routes::registry::licence_alerts,
        routes::imports::list_jobs, routes::imports::upload_entities, routes::imports::get_job, routes::imports::abandon_job, routes::imports::job_errors,
        routes::public::public_search, routes::public::public_merchant,
        routes::public::public_inspections, routes::public::verify_draw,
        routes::inspection::list_items, routes::inspection::put_item, routes::inspection::declare_conflict,
        routes::inspection::list_plans, routes::inspection::create_plan, routes::inspection::get_plan,
        routes::inspection::draw_plan, routes::inspection::plan_draw, routes::inspection::get_draw, routes::inspection::export_draw,
        routes::inspection::list_tasks, routes::inspection::task_detail, routes::inspection::record_visit,
        routes::inspection::publish_task, routes::inspection::overdue_publications,
        routes::inspection::list_hazards, routes::inspection::create_hazard, routes::inspection::hazard_detail,
        routes::inspection::hazard_action, routes::inspection::hazard_report, routes::inspection::revisit_draw,
        routes::inspection::upload_file, routes::inspection::get_file,
        routes::complaint::list, routes::complaint::create, routes::complaint::import_12315, routes::complaint::detail, routes::complaint::action,
        routes::complaint::summary, routes::complaint::stats, routes::complaint::stats_csv, routes::complaint::deadline,
        routes::complaint::rules, routes::complaint::put_rule, routes::complaint::platforms, routes::complaint::put_platform,
        routes::complaint::pledges, routes::complaint::put_pledge, routes::complaint::delete_pledge,
        routes::complaint::public_submit, routes::complaint::public_case,
        routes::food::seal_keys, routes::food::rotate_key, routes::food::list_batches, routes::food::issue_batch,
        routes::food::batch_detail, routes::food::batch_sheet, routes::food::bind, routes::food::warnings,
        routes::food::seal_stats, routes::food::list_cameras, routes::food::create_camera, routes::food::update_camera,
        routes::food::heartbeats, routes::food::online, routes::food::coverage,
        routes::food::public_seal, routes::food::broken,
        routes::alert::ingest, routes::alert::list, routes::alert::detail, routes::alert::triage, routes::alert::stats,
        routes::alert::reply_link, routes::alert::public_reply, routes::alert::public_answer,
        routes::sample::plans, routes::sample::create_plan, routes::sample::list, routes::sample::create,
        routes::sample::detail, routes::sample::results, routes::sample::action, routes::sample::publish,
        routes::sample::stats, routes::sample::public_list, routes::sample::terms,
    ),
    tags((name = "auth", description = "登录与当前用户"), (name = "calendar", description = "工作日计算"),
         (name = "system", description = "系统管理"),
         (name = "registry", description = "经营主体名录"),
         (name = "inspection", description = "双随机抽查"), (name = "hazards", description = "隐患闭环"), (name = "complaints", description = "投诉举报（12315）；另有 Open311 GeoReport v2 接口 /open311/v2"), (name = "food", description = "食安在线：食安封签、阳光厨房、AI 抓拍预警、食品抽检"), (name = "public", description = "公众查询（无需登录）"))
)]
pub struct ApiDoc;

async fn healthz(State(s): State<AppState>) -> impl IntoResponse {
    match s.app.store().ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

async fn metrics_text(State(s): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.metrics.render(),
    )
}

/// A JSON 404 for API paths; every other GET is the console's.
async fn fallback(method: axum::http::Method, uri: axum::http::Uri) -> axum::response::Response {
    let p = uri.path();
    if p.starts_with("/api/") || p == "/api" {
        return not_found().await.into_response();
    }
    console::serve(method, uri).await
}

async fn not_found() -> error::ApiError {
    hongdun_app::AppError::NotFound.into()
}

pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let api = Router::new()
        .merge(routes::auth::router())
        .merge(routes::calendar::router())
        .merge(routes::system::router())
        .merge(routes::registry::router())
        .merge(routes::imports::router())
        .merge(routes::inspection::router())
        .merge(routes::complaint::router())
        .merge(routes::food::router())
        .merge(routes::alert::router())
        .merge(routes::sample::router())
        .merge(routes::public::router(&state))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .fallback(fallback)
        .with_state(state.clone());
    Router::new()
        .merge(utoipa_swagger_ui::SwaggerUi::new("/api/docs").url("/api/openapi.json", ApiDoc::openapi()))
        .merge(api)
        .layer(axum::middleware::from_fn_with_state(state.metrics.clone(), metrics::track))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(state.http.body_limit_bytes))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(60)))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            // The path only: query strings may one day carry personal data.
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// Serves until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Seal scans are counted in memory and written every two seconds (and
    // once more after the last request).
    let app = state.app.clone();
    let flusher = tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
        loop {
            tick.tick().await;
            if let Err(e) = app.flush_seal_scans().await {
                tracing::warn!(error = %e, "seal scans not written yet");
            }
        }
    });
    let app = state.app.clone();
    // In the background: finding them hashes each waiting upload.
    let resuming = app.clone();
    let uploads = state.http.upload_dir.clone();
    tokio::spawn(async move {
        let resumed = routes::imports::resume_uploads(&resuming, &uploads).await;
        if !resumed.is_empty() {
            tracing::info!(jobs = ?resumed, "uploaded imports resumed");
        }
    });
    let served = axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    flusher.abort();
    if let Err(e) = app.flush_seal_scans().await {
        tracing::error!(error = %e, "seal scans lost at shutdown");
    }
    served
}
