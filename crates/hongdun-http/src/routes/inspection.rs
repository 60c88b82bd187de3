//! `/api/v1/inspection/*` (items, plans, draws, tasks, publication) and
//! `/api/v1/hazards/*` (the closed loop and its figures).
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Auth, Json, Params};
use crate::routes::system::Items;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use hongdun_app::inspection::{
    HazardActionInput, HazardInput, HazardReport, HazardView, ItemInput, PlanInput, RevisitInput,
    TaskDetail, VisitInput,
};
use hongdun_core::ids::{UnitId, UserId};
use hongdun_core::inspection::HazardState;
use hongdun_store::{
    Draw, Hazard, HazardEvent, HazardQuery, InspectionItem, InspectionPlan, Page, Task, TaskQuery,
};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/inspection/items", get(list_items).post(put_item))
        .route("/api/v1/inspection/conflicts", post(declare_conflict))
        .route(
            "/api/v1/inspection/plans",
            get(list_plans).post(create_plan),
        )
        .route("/api/v1/inspection/plans/{id}", get(get_plan))
        .route(
            "/api/v1/inspection/plans/{id}/draw",
            get(plan_draw).post(draw_plan),
        )
        .route("/api/v1/inspection/draws/{id}", get(get_draw))
        .route(
            "/api/v1/inspection/draws/{id}/export.json",
            get(export_draw),
        )
        .route("/api/v1/inspection/tasks", get(list_tasks))
        .route("/api/v1/inspection/tasks/{id}", get(task_detail))
        .route("/api/v1/inspection/tasks/{id}/visit", post(record_visit))
        .route("/api/v1/inspection/tasks/{id}/publish", post(publish_task))
        .route(
            "/api/v1/inspection/publications/overdue",
            get(overdue_publications),
        )
        .route("/api/v1/hazards", get(list_hazards).post(create_hazard))
        .route("/api/v1/hazards/report", get(hazard_report))
        .route("/api/v1/hazards/revisit-draws", post(revisit_draw))
        .route("/api/v1/hazards/{id}", get(hazard_detail))
        .route("/api/v1/hazards/{id}/actions", post(hazard_action))
        .route("/api/v1/files", post(upload_file))
        .route("/api/v1/files/{id}", get(get_file))
}

#[utoipa::path(get, path = "/api/v1/inspection/items", tag = "inspection",
    responses((status = 200, description = "检查事项清单（一单）")))]
pub async fn list_items(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<Json<Items<InspectionItem>>> {
    Ok(Json(Items {
        items: s.app.inspection_items(&p).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/inspection/items", tag = "inspection", request_body = ItemInput,
    responses((status = 200, body = InspectionItem), (status = 422, body = ErrorBody)))]
pub async fn put_item(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(i): Json<ItemInput>,
) -> ApiResult<Json<InspectionItem>> {
    Ok(Json(s.app.put_inspection_item(&p, &i).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ConflictInput {
    pub user_id: i64,
    pub uscc: String,
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/inspection/conflicts", tag = "inspection", request_body = ConflictInput,
    responses((status = 204, description = "声明回避"), (status = 422, body = ErrorBody)))]
pub async fn declare_conflict(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(c): Json<ConflictInput>,
) -> ApiResult<StatusCode> {
    s.app
        .declare_conflict(&p, UserId(c.user_id), &c.uscc, &c.reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/inspection/plans", tag = "inspection",
    params(("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "抽查计划")))]
pub async fn list_plans(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<Json<Page<InspectionPlan>>> {
    Ok(Json(s.app.list_plans(&p, q.paging()?).await?))
}

#[utoipa::path(post, path = "/api/v1/inspection/plans", tag = "inspection", request_body = PlanInput,
    responses((status = 201, body = InspectionPlan), (status = 422, body = ErrorBody)))]
pub async fn create_plan(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(i): Json<PlanInput>,
) -> ApiResult<(StatusCode, Json<InspectionPlan>)> {
    Ok((StatusCode::CREATED, Json(s.app.create_plan(&p, &i).await?)))
}

#[utoipa::path(get, path = "/api/v1/inspection/plans/{id}", tag = "inspection",
    responses((status = 200, body = InspectionPlan), (status = 404, body = ErrorBody)))]
pub async fn get_plan(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<InspectionPlan>> {
    Ok(Json(s.app.get_plan(&p, id).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct DrawRequest {
    /// Typed in (a lottery result, dice); empty = from the operating system.
    pub seed: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/inspection/plans/{id}/draw", tag = "inspection", request_body = DrawRequest,
    responses((status = 201, body = Draw), (status = 422, body = ErrorBody)))]
pub async fn draw_plan(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(r): Json<DrawRequest>,
) -> ApiResult<(StatusCode, Json<Draw>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.draw_plan(&p, id, r.seed.as_deref()).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/inspection/plans/{id}/draw", tag = "inspection",
    responses((status = 200, body = Draw), (status = 404, body = ErrorBody)))]
pub async fn plan_draw(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Draw>> {
    Ok(Json(s.app.draw_of_plan(&p, id).await?))
}

#[utoipa::path(get, path = "/api/v1/inspection/draws/{id}", tag = "inspection",
    responses((status = 200, body = Draw), (status = 404, body = ErrorBody)))]
pub async fn get_draw(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Draw>> {
    Ok(Json(s.app.get_draw(&p, id).await?))
}

#[utoipa::path(get, path = "/api/v1/inspection/draws/{id}/export.json", tag = "inspection",
    responses((status = 200, description = "the published draw: seed, frozen list, pool, result", content_type = "application/json")))]
pub async fn export_draw(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let export = s.app.export_draw(&p, id).await?;
    let body = serde_json::to_vec(&export)
        .map_err(|e| ApiError::from(hongdun_app::AppError::Internal(e.to_string())))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"draw-{id}.json\""),
            ),
        ],
        body,
    ))
}

#[utoipa::path(get, path = "/api/v1/inspection/tasks", tag = "inspection",
    params(("plan_id" = Option<i64>, Query), ("mine" = Option<bool>, Query, description = "只看本人所在检查组的任务"),
           ("status" = Option<String>, Query, description = "assigned | done"), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "检查任务")))]
pub async fn list_tasks(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<Json<Page<Task>>> {
    let query = TaskQuery {
        plan_id: q.int("plan_id", 1..=i64::MAX)?,
        status: q.text("status").map(str::to_owned),
        paging: q.paging()?,
        ..Default::default()
    };
    let mine = matches!(q.text("mine"), Some("true" | "1"));
    Ok(Json(s.app.list_tasks(&p, query, mine).await?))
}

#[utoipa::path(get, path = "/api/v1/inspection/tasks/{id}", tag = "inspection",
    responses((status = 200, body = TaskDetail), (status = 404, body = ErrorBody)))]
pub async fn task_detail(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<TaskDetail>> {
    Ok(Json(s.app.task_detail(&p, id).await?))
}

#[utoipa::path(post, path = "/api/v1/inspection/tasks/{id}/visit", tag = "inspection", request_body = VisitInput,
    responses((status = 200, body = Task), (status = 422, body = ErrorBody)))]
pub async fn record_visit(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(v): Json<VisitInput>,
) -> ApiResult<Json<Task>> {
    Ok(Json(s.app.record_visit(&p, id, &v).await?))
}

#[utoipa::path(post, path = "/api/v1/inspection/tasks/{id}/publish", tag = "inspection",
    responses((status = 200, body = Task), (status = 422, body = ErrorBody)))]
pub async fn publish_task(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Task>> {
    Ok(Json(s.app.publish_task(&p, id).await?))
}

#[utoipa::path(get, path = "/api/v1/inspection/publications/overdue", tag = "inspection",
    params(("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "超过公示时限仍未公示的检查结果")))]
pub async fn overdue_publications(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<Json<Page<Task>>> {
    Ok(Json(s.app.overdue_publications(&p, q.paging()?).await?))
}

#[utoipa::path(get, path = "/api/v1/hazards", tag = "hazards",
    params(("state" = Option<String>, Query, description = "reported | ordered | submitted | closed"),
           ("unit_id" = Option<i64>, Query), ("category" = Option<String>, Query),
           ("overdue" = Option<bool>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "隐患清单")))]
pub async fn list_hazards(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<Json<Page<HazardView>>> {
    let state = match q.text("state") {
        Some(v) => Some(HazardState::parse(v).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_param",
                "参数 state 应为 reported、ordered、submitted 或 closed",
                Some("state"),
            )
        })?),
        None => None,
    };
    let query = HazardQuery {
        state,
        unit_id: q.int("unit_id", 1..=i64::MAX)?.map(UnitId),
        category: q.text("category").map(str::to_owned),
        overdue: matches!(q.text("overdue"), Some("true" | "1"))
            .then(hongdun_app::inspection::today_cn),
        closed_between: None,
        paging: q.paging()?,
    };
    Ok(Json(s.app.list_hazards(&p, &query).await?))
}

#[utoipa::path(post, path = "/api/v1/hazards", tag = "hazards", request_body = HazardInput,
    responses((status = 201, body = Hazard), (status = 422, body = ErrorBody)))]
pub async fn create_hazard(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(h): Json<HazardInput>,
) -> ApiResult<(StatusCode, Json<Hazard>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.create_hazard(&p, &h).await?),
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HazardDetail {
    pub hazard: HazardView,
    pub events: Vec<HazardEvent>,
}

#[utoipa::path(get, path = "/api/v1/hazards/{id}", tag = "hazards",
    responses((status = 200, body = HazardDetail), (status = 404, body = ErrorBody)))]
pub async fn hazard_detail(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<HazardDetail>> {
    let (hazard, events) = s.app.hazard_detail(&p, id).await?;
    Ok(Json(HazardDetail { hazard, events }))
}

#[utoipa::path(post, path = "/api/v1/hazards/{id}/actions", tag = "hazards", request_body = HazardActionInput,
    responses((status = 200, body = HazardView), (status = 422, body = ErrorBody)))]
pub async fn hazard_action(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(a): Json<HazardActionInput>,
) -> ApiResult<Json<HazardView>> {
    Ok(Json(s.app.hazard_action(&p, id, &a).await?))
}

#[utoipa::path(get, path = "/api/v1/hazards/report", tag = "hazards",
    params(("month" = Option<String>, Query, description = "YYYY-MM，默认本月")),
    responses((status = 200, body = HazardReport)))]
pub async fn hazard_report(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<Json<HazardReport>> {
    let month = q.text("month").map(str::to_owned).unwrap_or_else(|| {
        hongdun_app::inspection::today_cn()
            .format("%Y-%m")
            .to_string()
    });
    Ok(Json(s.app.hazard_report(&p, &month).await?))
}

#[utoipa::path(post, path = "/api/v1/hazards/revisit-draws", tag = "hazards", request_body = RevisitInput,
    responses((status = 201, body = Draw), (status = 422, body = ErrorBody)))]
pub async fn revisit_draw(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(r): Json<RevisitInput>,
) -> ApiResult<(StatusCode, Json<Draw>)> {
    Ok((StatusCode::CREATED, Json(s.app.revisit_draw(&p, &r).await?)))
}

#[utoipa::path(post, path = "/api/v1/files", tag = "inspection",
    params(("name" = Option<String>, Query, description = "原文件名")),
    request_body(content = Vec<u8>, description = "the file as the body: JPEG, PNG, WebP or PDF, up to 10 MB", content_type = "application/octet-stream"),
    responses((status = 201, body = hongdun_store::StoredFile, description = "refer to it as \"file:{id}\" in photos and evidence"),
              (status = 422, body = ErrorBody)))]
pub async fn upload_file(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
    body: axum::body::Body,
) -> ApiResult<(StatusCode, Json<hongdun_store::StoredFile>)> {
    let name = q.text("name").unwrap_or("upload").to_owned();
    // Keep at most one byte past the limit (so the app can say it is too large)
    // but read the whole body, so the client hears the answer instead of a reset.
    use futures_util::StreamExt;
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request("invalid_body", format!("上传中断：{e}"), Some("file"))
        })?;
        let room = (hongdun_app::files::MAX_FILE_BYTES + 1).saturating_sub(bytes.len());
        bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Ok((
        StatusCode::CREATED,
        Json(s.app.upload_file(&p, &name, bytes).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "inspection",
    responses((status = 200, description = "the file"), (status = 404, body = ErrorBody)))]
pub async fn get_file(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let (f, data) = s.app.get_file(&p, id).await?;
    let encoded: String = f
        .name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, f.content_type.clone()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename*=UTF-8''{encoded}"),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CACHE_CONTROL, "private, max-age=86400".to_owned()),
        ],
        data,
    ))
}
