//! AI capture alerts (`/api/v1/alerts*`), the hazard reply link for businesses
//! (`/api/v1/hazards/{id}/reply-link`, public `/api/public/v1/replies/{token}`
//! and page `/r/{token}`).
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Auth, Json, Params, RequestOrigin};
use crate::routes::public::{esc, page, public_base};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use hongdun_app::alert::{
    AlertBatch, AlertFigures, AlertReceipt, AlertView, ReplyView, TriageInput, TriageOutcome,
};
use hongdun_app::inspection::today_cn;
use hongdun_core::alert::AlertStatus;
use hongdun_core::ids::UnitId;
use hongdun_store::{AlertQuery, Page};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/alerts/ingest",
            post(ingest).layer(axum::extract::DefaultBodyLimit::max(64 << 20)),
        )
        .route("/api/v1/alerts", get(list))
        .route("/api/v1/alerts/stats", get(stats))
        .route("/api/v1/alerts/{id}", get(detail))
        .route("/api/v1/alerts/{id}/triage", post(triage))
        .route("/api/v1/hazards/{id}/reply-link", post(reply_link))
}

/// Public routes: the rate limiter of `routes::public` wraps them.
pub fn public_router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/public/v1/replies/{token}",
            get(public_reply)
                .post(public_answer)
                .layer(axum::extract::DefaultBodyLimit::max(40 << 20)),
        )
        .route("/r/{token}", get(reply_page))
}

#[utoipa::path(post, path = "/api/v1/alerts/ingest", tag = "food",
    request_body = AlertBatch,
    responses((status = 200, description = "逐条受理：重复抓拍合并；不合格的按序号返回原因"),
              (status = 422, body = ErrorBody)))]
pub async fn ingest(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(i): Json<AlertBatch>,
) -> ApiResult<Json<AlertReceipt>> {
    Ok(Json(s.app.ingest_alerts(&p, &i).await?))
}

#[utoipa::path(get, path = "/api/v1/alerts", tag = "food",
    params(("status" = Option<String>, Query, description = "pending | confirmed | dismissed"),
           ("kind" = Option<String>, Query), ("unit_id" = Option<i64>, Query),
           ("open" = Option<bool>, Query, description = "已确认且整改未销号（true）或已销号（false）"),
           ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "AI 抓拍预警（研判队列）")))]
pub async fn list(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<Json<Page<AlertView>>> {
    let status = match q.text("status") {
        Some(v) => Some(AlertStatus::parse(v).ok_or_else(|| {
            ApiError::bad_request("invalid_param", "参数 status 不正确", Some("status"))
        })?),
        None => None,
    };
    let open = match q.text("open") {
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_param",
                "参数 open 应为 true 或 false",
                Some("open"),
            ))
        }
        None => None,
    };
    let query = AlertQuery {
        status,
        kind: q.text("kind").map(str::to_owned),
        unit_id: q.int("unit_id", 1..=i64::MAX)?.map(UnitId),
        entity_id: None,
        open,
        paging: q.paging()?,
    };
    Ok(Json(s.app.list_alerts(&p, &query).await?))
}

#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "food",
    responses((status = 200, body = AlertView), (status = 404, body = ErrorBody)))]
pub async fn detail(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<AlertView>> {
    Ok(Json(s.app.alert_detail(&p, id).await?))
}

#[derive(Serialize)]
pub struct TriageAnswer {
    #[serde(flatten)]
    outcome: TriageOutcome,
    /// The link the business answers with (confirm only; shown once).
    reply_url: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/triage", tag = "food",
    request_body = TriageInput,
    responses((status = 200, description = "研判结果；确认时生成整改隐患和商户回复链接"),
              (status = 422, body = ErrorBody)))]
pub async fn triage(
    State(s): State<AppState>,
    Auth(p): Auth,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(i): Json<TriageInput>,
) -> ApiResult<Json<TriageAnswer>> {
    let outcome = s.app.triage_alert(&p, id, &i).await?;
    let reply_url = outcome
        .reply_token
        .as_deref()
        .map(|t| format!("{}/r/{t}", public_base(&s, &headers)));
    Ok(Json(TriageAnswer { outcome, reply_url }))
}

#[utoipa::path(get, path = "/api/v1/alerts/stats", tag = "food",
    params(("from" = Option<String>, Query), ("to" = Option<String>, Query)),
    responses((status = 200, body = AlertFigures, description = "按违规类型、按厂商的误报率")))]
pub async fn stats(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<Json<AlertFigures>> {
    let to = q.date("to")?.unwrap_or_else(today_cn);
    let from = q.date("from")?.unwrap_or(to - chrono::Duration::days(29));
    Ok(Json(s.app.alert_figures(&p, from, to).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReplyLink {
    pub reply_url: String,
}

#[utoipa::path(post, path = "/api/v1/hazards/{id}/reply-link", tag = "hazards",
    responses((status = 200, body = ReplyLink, description = "新的商户整改回复链接（旧链接失效）"),
              (status = 422, body = ErrorBody)))]
pub async fn reply_link(
    State(s): State<AppState>,
    Auth(p): Auth,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> ApiResult<Json<ReplyLink>> {
    let token = s.app.hazard_reply_link(&p, id).await?;
    Ok(Json(ReplyLink {
        reply_url: format!("{}/r/{token}", public_base(&s, &headers)),
    }))
}

#[utoipa::path(get, path = "/api/public/v1/replies/{token}", tag = "public",
    responses((status = 200, body = ReplyView), (status = 404, body = ErrorBody)))]
pub async fn public_reply(
    State(s): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<Json<ReplyView>> {
    Ok(Json(s.app.reply_view(&token).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct AnswerInput {
    pub note: Option<String>,
    /// Photos in Base64 (JPEG, PNG or WebP; data URLs accepted).
    pub photos: Vec<String>,
}

#[utoipa::path(post, path = "/api/public/v1/replies/{token}", tag = "public",
    request_body = AnswerInput,
    responses((status = 200, body = ReplyView, description = "整改照片已提交，等待监管人员复查"),
              (status = 422, body = ErrorBody)))]
pub async fn public_answer(
    State(s): State<AppState>,
    RequestOrigin(origin): RequestOrigin,
    Path(token): Path<String>,
    Json(i): Json<AnswerInput>,
) -> ApiResult<Json<ReplyView>> {
    let mut photos = Vec::with_capacity(i.photos.len());
    for (n, b64) in i.photos.iter().enumerate() {
        let data = b64.split_once(";base64,").map_or(b64.as_str(), |(_, d)| d);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim().as_bytes())
            .map_err(|_| {
                ApiError::from(hongdun_app::AppError::field(
                    &format!("photos[{n}]"),
                    "file_type",
                    "照片编码不正确（应为 Base64）",
                ))
            })?;
        photos.push((format!("reply-{}.jpg", n + 1), bytes));
    }
    Ok(Json(
        s.app
            .reply_to_hazard(&token, i.note.as_deref(), photos, origin.request_id)
            .await?,
    ))
}

/// The business's page: the order, and a form for photos of the rectification
/// (scaled down on the phone before upload).
pub async fn reply_page(State(s): State<AppState>, Path(token): Path<String>) -> Response {
    let v = match s.app.reply_view(&token).await {
        Ok(v) => v,
        Err(e) => {
            let message = e.message_zh();
            let status = ApiError::from(e).status();
            let body = format!(
                r#"<div class="card"><h1>链接无效</h1><p>{}</p><p class="muted">请联系发出整改通知的市场监管所。</p></div>"#,
                esc(&message)
            );
            return (status, Html(page("整改回复", &body))).into_response();
        }
    };
    let steps: String = v
        .steps
        .iter()
        .map(|st| {
            format!(
                "<dd>{} · {}{}</dd>",
                esc(&(st.at + chrono::Duration::hours(8))
                    .format("%Y-%m-%d %H:%M")
                    .to_string()),
                esc(st.state_label),
                st.note
                    .as_deref()
                    .map(|n| format!("：{}", esc(n)))
                    .unwrap_or_default()
            )
        })
        .collect();
    let form = if v.open {
        r#"<div class="card"><h1>上传整改照片</h1><p class="muted">整改完成后请拍照上传（最多 6 张），提交后由监管人员复查。</p>
<form id="f"><p><input type="file" name="photos" accept="image/*" multiple required></p>
<p><textarea name="note" rows="3" style="width:100%" placeholder="整改情况说明（可不填）"></textarea></p>
<p><button type="submit">提交整改</button></p></form><div id="out"></div></div>
<script>
function shrink(file) {
  return new Promise((ok, bad) => {
    const img = new Image();
    img.onload = () => {
      const k = Math.min(1, 1600 / Math.max(img.width, img.height));
      const c = document.createElement('canvas');
      c.width = Math.round(img.width * k); c.height = Math.round(img.height * k);
      c.getContext('2d').drawImage(img, 0, 0, c.width, c.height);
      ok(c.toDataURL('image/jpeg', 0.85));
    };
    img.onerror = bad;
    img.src = URL.createObjectURL(file);
  });
}
document.getElementById('f').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const out = document.getElementById('out');
  const files = [...ev.target.photos.files].slice(0, 6);
  out.textContent = '正在上传…';
  const photos = await Promise.all(files.map(shrink));
  const r = await fetch(location.pathname.replace('/r/', '/api/public/v1/replies/'), {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({note: ev.target.note.value, photos})});
  const j = await r.json();
  if (r.ok) { location.reload(); } else { out.textContent = j.message; }
});
</script>"#
    } else {
        r#"<div class="card"><p class="muted">当前无需上传材料。</p></div>"#
    };
    let body = format!(
        r#"<div class="card"><h1>整改通知 · {state}</h1><div class="muted">{business}</div><dl>
<dt>类别</dt><dd>{category}</dd><dt>问题</dt><dd>{description}</dd><dt>整改期限</dt><dd>{deadline}</dd>
<dt>办理过程</dt>{steps}</dl></div>{form}"#,
        state = esc(v.state_label),
        business = esc(&v.business),
        category = esc(&v.category),
        description = esc(&v.description),
        deadline = v.deadline.map_or_else(|| "—".to_owned(), |d| d.to_string()),
    );
    Html(page("整改回复", &body)).into_response()
}
