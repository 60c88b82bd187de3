//! 食安在线: delivery seals (`/api/v1/seal-*`, `/api/v1/seals/*`, the printable
//! A4 sheet, the public check `/api/public/v1/seals/{code}` and page `/s/{code}`)
//! and sunshine kitchens (`/api/v1/cameras*`, `/api/v1/kitchens/*`).
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Auth, Json, Params};
use crate::routes::public::{esc, page, public_base, validity_label};
use crate::routes::system::Items;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::Router;
use hongdun_app::complaint::Intake;
use hongdun_app::food::{
    BeatReceipt, BindInput, BrokenSealInput, CameraInput, CameraPatchInput, CameraView,
    CoverageRow, OnlineReport, PublicSeal, SealBatchDetail, SealBatchInput, SealFigure,
    SealKeyInfo,
};
use hongdun_app::inspection::today_cn;
use hongdun_app::AppError;
use hongdun_core::ids::UnitId;
use hongdun_store::{CameraQuery, Page, SealBatch, SealUse, SealWarning};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/seal-keys", get(seal_keys).post(rotate_key))
        .route("/api/v1/seal-batches", get(list_batches).post(issue_batch))
        .route("/api/v1/seal-batches/{id}", get(batch_detail))
        .route("/api/v1/seal-batches/{id}/sheet.svg", get(batch_sheet))
        .route("/api/v1/seals/{code}/bind", post(bind))
        .route("/api/v1/seal-warnings", get(warnings))
        .route("/api/v1/seals/stats", get(seal_stats))
        .route("/api/v1/cameras", get(list_cameras).post(create_camera))
        .route("/api/v1/cameras/{id}", patch(update_camera))
        .route(
            "/api/v1/cameras/heartbeats",
            post(heartbeats).layer(axum::extract::DefaultBodyLimit::max(4 << 20)),
        )
        .route("/api/v1/kitchens/online", get(online))
        .route("/api/v1/kitchens/coverage", get(coverage))
}

/// Public routes: the rate limiter of `routes::public` wraps them.
pub fn public_router() -> Router<AppState> {
    Router::new()
        .route("/api/public/v1/seals/{code}", get(public_seal))
        .route("/api/public/v1/seals/{code}/broken", post(broken))
        .route("/s/{code}", get(seal_page))
}

#[utoipa::path(get, path = "/api/v1/seal-keys", tag = "food",
    responses((status = 200, description = "封签签名密钥（不含密钥本身）")))]
pub async fn seal_keys(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<Json<Items<SealKeyInfo>>> {
    Ok(Json(Items {
        items: s.app.seal_key_list(&p).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/seal-keys", tag = "food",
    responses((status = 201, description = "新密钥用于此后发放的批次，旧封签仍可验证")))]
pub async fn rotate_key(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<(StatusCode, Json<SealKeyInfo>)> {
    Ok((StatusCode::CREATED, Json(s.app.rotate_seal_key(&p).await?)))
}

#[utoipa::path(get, path = "/api/v1/seal-batches", tag = "food",
    params(("uscc" = Option<String>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "封签批次")))]
pub async fn list_batches(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<Json<Page<SealBatch>>> {
    Ok(Json(
        s.app.seal_batches(&p, q.text("uscc"), q.paging()?).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/seal-batches", tag = "food",
    responses((status = 201, description = "发放一批封签"), (status = 422, body = ErrorBody)))]
pub async fn issue_batch(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(i): Json<SealBatchInput>,
) -> ApiResult<(StatusCode, Json<SealBatch>)> {
    Ok((StatusCode::CREATED, Json(s.app.issue_seals(&p, &i).await?)))
}

#[utoipa::path(get, path = "/api/v1/seal-batches/{id}", tag = "food",
    responses((status = 200, description = "批次及每枚封签的码、绑定、扫码与破损"), (status = 404, body = ErrorBody)))]
pub async fn batch_detail(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<SealBatchDetail>> {
    Ok(Json(s.app.seal_batch_detail(&p, id).await?))
}

/// Seals per A4 page: 4 columns × 6 rows.
const COLS: usize = 4;
const ROWS: usize = 6;

/// The dark modules of a QR code as one SVG path, at `(x, y)` mm, `size` mm wide.
fn qr_path(text: &str, x: f64, y: f64, size: f64) -> Result<String, ApiError> {
    let qr = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| ApiError(AppError::Internal(e.to_string())))?;
    let w = qr.width();
    let colors = qr.to_colors();
    let m = size / w as f64;
    let mut d = String::new();
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (cx, cy) = (x + (i % w) as f64 * m, y + (i / w) as f64 * m);
            d.push_str(&format!("M{cx:.3} {cy:.3}h{m:.3}v{m:.3}h-{m:.3}z"));
        }
    }
    Ok(format!(r##"<path d="{d}" fill="#000"/>"##))
}

#[utoipa::path(get, path = "/api/v1/seal-batches/{id}/sheet.svg", tag = "food",
    params(("page" = Option<i64>, Query, description = "第几张 A4（每张 24 枚）")),
    responses((status = 200, description = "A4 打印页（SVG，毫米单位）；响应头 X-Total-Pages 为总页数")))]
pub async fn batch_sheet(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    headers: HeaderMap,
    q: Params,
) -> ApiResult<Response> {
    let detail = s.app.seal_batch_detail(&p, id).await?;
    let per = COLS * ROWS;
    let pages = detail.seals.len().div_ceil(per).max(1);
    let n = q.int("page", 1..=pages as i64)?.unwrap_or(1) as usize;
    let base = public_base(&s, &headers);
    let (cw, ch) = (210.0 / COLS as f64, 297.0 / ROWS as f64);
    let mut body = String::new();
    for (k, seal) in detail
        .seals
        .iter()
        .skip((n - 1) * per)
        .take(per)
        .enumerate()
    {
        let (x, y) = ((k % COLS) as f64 * cw, (k / COLS) as f64 * ch);
        let name: String = detail.batch.entity_name.chars().take(14).collect();
        body.push_str(&format!(
            r##"<g><rect x="{x:.2}" y="{y:.2}" width="{cw:.2}" height="{ch:.2}" fill="none" stroke="#999" stroke-width="0.2" stroke-dasharray="2 1"/>
<text x="{tx:.2}" y="{t1:.2}" font-size="4" font-weight="bold" fill="#c8102e" text-anchor="middle">食安封签 · 开启即失效</text>
{qr}
<text x="{tx:.2}" y="{t2:.2}" font-size="2.6" text-anchor="middle">{name}</text>
<text x="{tx:.2}" y="{t3:.2}" font-size="2.6" font-family="monospace" text-anchor="middle">{code}</text>
<text x="{tx:.2}" y="{t4:.2}" font-size="2.2" fill="#666" text-anchor="middle">扫码核验 · 破损请拒收并拨打 12315</text></g>
"##,
            tx = x + cw / 2.0,
            t1 = y + 7.0,
            qr = qr_path(&format!("{base}/s/{}", seal.code), x + (cw - 28.0) / 2.0, y + 9.0, 28.0)?,
            t2 = y + 41.0,
            name = esc(&name),
            t3 = y + 44.5,
            code = esc(&seal.pretty),
            t4 = y + 47.5,
        ));
    }
    let svg = format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" viewBox="0 0 210 297" font-family="'Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif">
<rect width="210" height="297" fill="#fff"/>
{body}</svg>"##
    );
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml".to_owned()),
            (
                header::HeaderName::from_static("x-total-pages"),
                pages.to_string(),
            ),
        ],
        svg,
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/v1/seals/{code}/bind", tag = "food",
    responses((status = 200, description = "封签已绑定订单（同一订单重复绑定无变化）"),
              (status = 422, body = ErrorBody, description = "seal_forged / seal_not_issued / seal_reused（已用于其他订单，记录预警）")))]
pub async fn bind(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(code): Path<String>,
    Json(i): Json<BindInput>,
) -> ApiResult<Json<SealUse>> {
    Ok(Json(s.app.bind_seal(&p, &code, &i).await?))
}

#[utoipa::path(get, path = "/api/v1/seal-warnings", tag = "food",
    params(("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "封签预警：未发放的码、一签多单、破损")))]
pub async fn warnings(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<Json<Page<SealWarning>>> {
    Ok(Json(s.app.seal_warnings(&p, q.paging()?).await?))
}

fn period(q: &Params) -> Result<(chrono::NaiveDate, chrono::NaiveDate), ApiError> {
    let today = today_cn();
    let to = q.date("to")?.unwrap_or(today);
    let from = q.date("from")?.unwrap_or(to - chrono::Days::new(29));
    Ok((from, to))
}

#[utoipa::path(get, path = "/api/v1/seals/stats", tag = "food",
    params(("from" = Option<String>, Query), ("to" = Option<String>, Query)),
    responses((status = 200, description = "按单位、月份统计发放、使用、扫码、破损和预警")))]
pub async fn seal_stats(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<Json<Items<SealFigure>>> {
    let (from, to) = period(&q)?;
    Ok(Json(Items {
        items: s.app.seal_figures(&p, from, to).await?,
    }))
}

#[utoipa::path(get, path = "/api/v1/cameras", tag = "food",
    params(("uscc" = Option<String>, Query), ("unit_id" = Option<i64>, Query), ("q" = Option<String>, Query),
           ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "阳光厨房摄像头及当前是否在线")))]
pub async fn list_cameras(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<Json<Page<CameraView>>> {
    let entity_id = match q.text("uscc") {
        Some(u) => Some(s.app.camera_entity(&p, u).await?),
        None => None,
    };
    let query = CameraQuery {
        entity_id,
        unit_id: q.int("unit_id", 1..=i64::MAX)?.map(UnitId),
        q: q.text("q").map(str::to_owned),
        paging: q.paging()?,
    };
    Ok(Json(s.app.list_cameras(&p, &query).await?))
}

#[utoipa::path(post, path = "/api/v1/cameras", tag = "food",
    responses((status = 201, description = "登记摄像头"), (status = 422, body = ErrorBody)))]
pub async fn create_camera(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(i): Json<CameraInput>,
) -> ApiResult<(StatusCode, Json<CameraView>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.create_camera(&p, &i).await?),
    ))
}

#[utoipa::path(patch, path = "/api/v1/cameras/{id}", tag = "food",
    responses((status = 200, description = "修改或停用摄像头"), (status = 404, body = ErrorBody)))]
pub async fn update_camera(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(i): Json<CameraPatchInput>,
) -> ApiResult<Json<CameraView>> {
    Ok(Json(s.app.update_camera(&p, id, &i).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BeatsInput {
    pub beats: Vec<hongdun_app::food::Beat>,
}

#[utoipa::path(post, path = "/api/v1/cameras/heartbeats", tag = "food",
    responses((status = 200, description = "accepted 条已记录；rejected 逐条列出未接收的心跳及原因")))]
pub async fn heartbeats(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(i): Json<BeatsInput>,
) -> ApiResult<Json<BeatReceipt>> {
    Ok(Json(s.app.heartbeats(&p, &i.beats).await?))
}

#[utoipa::path(get, path = "/api/v1/kitchens/online", tag = "food",
    params(("from" = Option<String>, Query), ("to" = Option<String>, Query),
           ("by" = Option<String>, Query, description = "unit | entity | camera | day | hour"),
           ("unit_id" = Option<i64>, Query)),
    responses((status = 200, description = "在线率（在线分钟 / 应在线分钟），目标 95%")))]
pub async fn online(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<Json<OnlineReport>> {
    let today = today_cn();
    let to = q.date("to")?.unwrap_or(today);
    let from = q.date("from")?.unwrap_or(to);
    let unit = q.int("unit_id", 1..=i64::MAX)?.map(UnitId);
    Ok(Json(
        s.app
            .kitchen_online(&p, from, to, q.text("by").unwrap_or("unit"), unit)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/kitchens/coverage", tag = "food",
    responses((status = 200, description = "各单位餐饮服务单位阳光厨房覆盖率")))]
pub async fn coverage(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<Json<Items<CoverageRow>>> {
    Ok(Json(Items {
        items: s.app.kitchen_coverage(&p).await?,
    }))
}

#[utoipa::path(get, path = "/api/public/v1/seals/{code}", tag = "public",
    responses((status = 200, description = "封签所属商户、证照、封签时间；不含个人信息"),
              (status = 422, body = ErrorBody, description = "seal_malformed / seal_forged / seal_not_issued")))]
pub async fn public_seal(
    State(s): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<PublicSeal>> {
    Ok(Json(s.app.check_seal(&code).await?))
}

#[utoipa::path(post, path = "/api/public/v1/seals/{code}/broken", tag = "public",
    responses((status = 201, description = "已登记投诉，返回查询码"), (status = 422, body = ErrorBody)))]
pub async fn broken(
    State(s): State<AppState>,
    Path(code): Path<String>,
    Json(i): Json<BrokenSealInput>,
) -> ApiResult<(StatusCode, Json<Intake>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.report_broken_seal(&code, &i).await?),
    ))
}

/// The page a consumer's phone opens from the seal's QR code.
pub async fn seal_page(State(s): State<AppState>, Path(code): Path<String>) -> Response {
    let seal = match s.app.check_seal(&code).await {
        Ok(seal) => seal,
        Err(e) => {
            let message = e.message_zh();
            let status = ApiError::from(e).status();
            let body = format!(
                r#"<div class="card"><h1 style="color:#c8102e">⚠ 封签核验未通过</h1><p>{}</p><p class="muted">封签码：{}</p></div>"#,
                esc(&message),
                esc(&code)
            );
            return (status, Html(page("食安封签核验", &body))).into_response();
        }
    };
    let m = &seal.merchant;
    let licences: String = m
        .licences
        .iter()
        .map(|l| {
            format!(
                "<dd>{} {}（{}）</dd>",
                esc(l.kind_label),
                esc(&l.number),
                validity_label(l.validity)
            )
        })
        .collect();
    let kitchen = match &m.kitchen {
        Some(k) if k.live => format!(
            "<dt>阳光厨房</dt><dd>直播中（{} 路摄像头在线）</dd>",
            k.online
        ),
        Some(_) => "<dt>阳光厨房</dt><dd>已接入，当前离线</dd>".to_owned(),
        None => String::new(),
    };
    let notice = seal
        .notice
        .as_deref()
        .map(|n| format!(r#"<p style="color:#b35c00">{}</p>"#, esc(n)))
        .unwrap_or_default();
    let body = format!(
        r#"<div class="card"><h1>{state_icon} {state}</h1>{notice}<dl>
<dt>封签码</dt><dd>{code}</dd>
<dt>封签时间</dt><dd>{sealed}</dd><dt>平台 · 订单尾号</dt><dd>{platform} · {tail}</dd>
<dt>发放日期</dt><dd>{issued}</dd></dl></div>
<div class="card"><h1>{name}</h1><div class="muted">{kind} · {status}</div><dl><dt>经营场所</dt><dd>{addr}</dd>
<dt>许可证</dt>{licences}{kitchen}</dl><p><a href="/m/{uscc}">查看全部证照信息</a></p></div>
<div class="card"><h1>封签破损？</h1><p class="muted">请拒收餐品，并一键投诉商家（您的姓名和电话只用于联系您，不会公开）。</p>
<form id="b"><dl><dt>您的姓名</dt><dd><input name="name" required></dd><dt>联系电话</dt><dd><input name="phone" inputmode="tel" required></dd>
<dt>情况说明（可不填）</dt><dd><textarea name="note" rows="3" style="width:100%"></textarea></dd></dl>
<p><button type="submit">封签破损，一键投诉</button></p></form><div id="out"></div></div>
<script>
document.getElementById('b').addEventListener('submit', async (ev) => {{
  ev.preventDefault();
  const out = document.getElementById('out');
  const body = Object.fromEntries([...new FormData(ev.target)].filter(([k, v]) => v !== ''));
  const r = await fetch(location.pathname.replace('/s/', '/api/public/v1/seals/') + '/broken', {{method: 'POST', headers: {{'Content-Type': 'application/json'}}, body: JSON.stringify(body)}});
  const j = await r.json();
  out.textContent = r.ok ? '已登记投诉，查询码：' + j.receipt + '（请保存）' : j.message;
  if (r.ok) {{ const a = document.createElement('a'); a.href = '/complaint/' + j.receipt; a.textContent = ' 查看办理进度'; out.append(a); ev.target.reset(); }}
}});
</script>"#,
        state_icon = if seal.state == "broken" { "⚠" } else { "✔" },
        state = if seal.state == "broken" {
            "此封签已被报告破损".to_owned()
        } else {
            format!("正规封签 · {}", seal.state_label)
        },
        notice = notice,
        code = esc(&seal.code),
        sealed = seal
            .sealed_at
            .map(|t| (t + chrono::Duration::hours(8))
                .format("%Y-%m-%d %H:%M")
                .to_string())
            .unwrap_or_else(|| "—".into()),
        platform = esc(seal.platform.as_deref().unwrap_or("—")),
        tail = esc(seal.order_tail.as_deref().unwrap_or("—")),
        issued = seal.issued_on,
        name = esc(&m.name),
        kind = esc(m.kind_label),
        status = esc(m.status_label),
        addr = esc(m.address.as_deref().unwrap_or("—")),
        licences = if licences.is_empty() {
            "<dd>暂无登记的许可证</dd>".to_owned()
        } else {
            licences
        },
        kitchen = kitchen,
        uscc = esc(m.uscc.as_deref().unwrap_or("")),
    );
    Html(page("食安封签核验", &body)).into_response()
}
