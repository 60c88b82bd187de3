//! `/api/v1/entities` (staff, scoped) and `/api/public/v1/merchants` (anyone).
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json, Params};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::Router;
use hongdun_app::registry::{
    EntityDetail, EntitySearch, EntitySummary, ExportFormat, LicenceInput, RawEntity, RegistryStats,
};
use hongdun_core::ids::UnitId;
use hongdun_store::{Entity, Licence, Page};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/entities", get(search).post(create))
        .route("/api/v1/entities/{uscc}", get(detail).put(update))
        .route("/api/v1/entities/{uscc}/licences", put(put_licence))
        .route("/api/v1/entities/export.csv", get(export_csv))
        .route("/api/v1/entities/export.xlsx", get(export_xlsx))
        .route("/api/v1/licences/alerts", get(licence_alerts))
        .route("/api/v1/registry/stats", get(stats))
}

fn search_of(q: &Params) -> ApiResult<EntitySearch> {
    let text = |k: &str| q.text(k).map(str::to_owned);
    Ok(EntitySearch {
        q: text("q"),
        address: text("address"),
        division: text("division"),
        industry: text("industry"),
        kind: text("kind"),
        status: text("status"),
        tag: text("tag"),
        unit_id: q.int("unit_id", 1..=i64::MAX)?.map(UnitId),
        sort: text("sort"),
        paging: q.paging()?,
    })
}

#[utoipa::path(get, path = "/api/v1/entities", tag = "registry",
    params(("q" = Option<String>, Query, description = "名称（两个字即可）、拼音首字母或信用代码前缀"),
           ("address" = Option<String>, Query), ("division" = Option<String>, Query), ("industry" = Option<String>, Query),
           ("kind" = Option<String>, Query), ("status" = Option<String>, Query), ("tag" = Option<String>, Query),
           ("unit_id" = Option<i64>, Query), ("sort" = Option<String>, Query, description = "name | established | updated"),
           ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "a page of entities, personal fields masked")))]
pub async fn search(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<Json<Page<EntitySummary>>> {
    Ok(Json(s.app.search_entities(&p, &search_of(&q)?).await?))
}

#[utoipa::path(get, path = "/api/v1/entities/{uscc}", tag = "registry",
    responses((status = 200, description = "entity, licences and history; the read of personal data is audited"),
              (status = 404, body = ErrorBody)))]
pub async fn detail(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(uscc): Path<String>,
) -> ApiResult<Json<EntityDetail>> {
    Ok(Json(s.app.entity_detail(&p, &uscc).await?))
}

#[utoipa::path(post, path = "/api/v1/entities", tag = "registry", request_body = Object,
    responses((status = 201, body = Entity), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(raw): Json<RawEntity>,
) -> ApiResult<(StatusCode, Json<Entity>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.save_entity(&p, &raw, true).await?),
    ))
}

#[utoipa::path(put, path = "/api/v1/entities/{uscc}", tag = "registry", request_body = Object,
    responses((status = 200, body = Entity), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(uscc): Path<String>,
    Json(mut raw): Json<RawEntity>,
) -> ApiResult<Json<Entity>> {
    raw.uscc = Some(uscc);
    Ok(Json(s.app.save_entity(&p, &raw, false).await?))
}

#[utoipa::path(put, path = "/api/v1/entities/{uscc}/licences", tag = "registry", request_body = Object,
    responses((status = 200, body = Licence), (status = 422, body = ErrorBody)))]
pub async fn put_licence(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(uscc): Path<String>,
    Json(l): Json<LicenceInput>,
) -> ApiResult<Json<Licence>> {
    Ok(Json(s.app.put_licence(&p, &uscc, &l).await?))
}

#[utoipa::path(get, path = "/api/v1/entities/export.csv", tag = "registry",
    params(("q" = Option<String>, Query), ("division" = Option<String>, Query), ("kind" = Option<String>, Query),
           ("status" = Option<String>, Query), ("tag" = Option<String>, Query)),
    responses((status = 200, description = "CSV (UTF-8 with BOM) of every match in the caller's scope", content_type = "text/csv")))]
pub async fn export_csv(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<axum::response::Response> {
    export(s, p, q, ExportFormat::Csv).await
}

#[utoipa::path(get, path = "/api/v1/entities/export.xlsx", tag = "registry",
    params(("q" = Option<String>, Query), ("division" = Option<String>, Query), ("kind" = Option<String>, Query),
           ("status" = Option<String>, Query), ("tag" = Option<String>, Query)),
    responses((status = 200, description = "Excel workbook of every match in the caller's scope (at most 1,048,575 rows; more is `export_too_large`)",
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn export_xlsx(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<axum::response::Response> {
    export(s, p, q, ExportFormat::Xlsx).await
}

async fn export(
    s: AppState,
    p: hongdun_app::Principal,
    q: Params,
    format: ExportFormat,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let body = s.app.export_entities(&p, &search_of(&q)?, format).await?;
    let name = format!(
        "attachment; filename=\"entities.{0}\"; filename*=UTF-8''%E7%BB%8F%E8%90%A5%E4%B8%BB%E4%BD%93.{0}",
        format.extension()
    );
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                format.content_type().to_owned(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, name),
        ],
        body,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/registry/stats", tag = "registry",
    params(("unit_id" = Option<i64>, Query, description = "narrow to one office in the caller's jurisdiction")),
    responses((status = 200, description = "entities by kind, status, office and month; licence watch counts")))]
pub async fn stats(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<Json<RegistryStats>> {
    let unit = q.int("unit_id", 1..=i64::MAX)?.map(UnitId);
    Ok(Json(s.app.registry_stats(&p, unit).await?))
}

#[utoipa::path(get, path = "/api/v1/licences/alerts", tag = "registry",
    params(("list" = String, Query, description = "expiring | expired_trading | missing"),
           ("days" = Option<i64>, Query, description = "window for expiring, default 30"),
           ("kind" = Option<String>, Query, description = "licence kind for missing, e.g. food_business"),
           ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "a page of alerts in the caller's scope"), (status = 422, body = ErrorBody)))]
pub async fn licence_alerts(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<Json<Page<hongdun_store::LicenceAlert>>> {
    let list = Params::required(q.text("list"), "list")?;
    let days = q.int("days", 1..=3650)?;
    Ok(Json(
        s.app
            .licence_alerts(&p, list, days, q.text("kind"), q.paging()?)
            .await?,
    ))
}
