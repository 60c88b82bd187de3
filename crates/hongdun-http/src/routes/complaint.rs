//! `/api/v1/complaints/*` (staff), the public form and receipt lookup
//! (`/api/public/v1/complaints`, `/complaint`), and Open311 GeoReport v2
//! (`/open311/v2/*`) for other systems.
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{origin, Auth, Json, Params};
use crate::routes::imports::internal;
use crate::routes::public::{esc, page};
use crate::routes::system::Items;
use crate::AppState;
use axum::extract::{Form, Path, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use chrono::{Datelike, NaiveDate};
use hongdun_app::complaint::{
    CaseActionInput, CaseDetail, CaseImportReport, CaseInput, CaseSummary, CaseView, Intake,
    PublicCase, Stats, Submitter,
};
use hongdun_app::inspection::today_cn;
use hongdun_app::{AppError, Principal};
use hongdun_core::complaint::{CaseKind, CaseState, Channel, RuleSet, CATEGORIES};
use hongdun_core::ids::UnitId;
use hongdun_store::{CaseQuery, Page, Platform, Pledge};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/complaints", get(list).post(create))
        .route("/api/v1/complaints/summary", get(summary))
        .route(
            "/api/v1/complaints/import",
            post(import_12315).layer(axum::extract::DefaultBodyLimit::max(64 << 20)),
        )
        .route("/api/v1/complaints/stats", get(stats))
        .route("/api/v1/complaints/stats.csv", get(stats_csv))
        .route("/api/v1/complaints/deadline", get(deadline))
        .route("/api/v1/complaints/{id}", get(detail))
        .route("/api/v1/complaints/{id}/actions", post(action))
        .route("/api/v1/complaint-rules", get(rules).put(put_rule))
        .route(
            "/api/v1/complaint-platforms",
            get(platforms).put(put_platform),
        )
        .route("/api/v1/entities/{uscc}/pledges", get(pledges))
        .route(
            "/api/v1/entities/{uscc}/pledges/{kind}",
            put(put_pledge).delete(delete_pledge),
        )
        .route("/open311/v2/services.json", get(o311_services))
        .route("/open311/v2/services/{file}", get(o311_service))
        .route(
            "/open311/v2/requests.json",
            get(o311_requests).post(o311_post),
        )
        .route("/open311/v2/requests/{file}", get(o311_request))
}

/// Public routes: the rate limiter of `routes::public` wraps them.
pub fn public_router() -> Router<AppState> {
    Router::new()
        .route("/api/public/v1/complaints", post(public_submit))
        .route("/api/public/v1/complaints/{receipt}", get(public_case))
        .route("/api/public/v1/complaint-categories", get(categories))
        .route("/complaint", get(form_page))
        .route("/complaint/{receipt}", get(receipt_page))
}

fn query_of(q: &Params) -> Result<CaseQuery, ApiError> {
    let bad =
        |name: &str, msg: &str| ApiError::bad_request("invalid_param", msg.to_owned(), Some(name));
    let today = today_cn();
    let due_soon = q.int("due_within", 0..=60)?;
    Ok(CaseQuery {
        kind: match q.text("kind") {
            Some(k) => Some(
                CaseKind::parse(k)
                    .ok_or_else(|| bad("kind", "参数 kind 应为 complaint、report 或 enquiry"))?,
            ),
            None => None,
        },
        state: match q.text("state") {
            Some(k) => Some(CaseState::parse(k).ok_or_else(|| bad("state", "参数 state 无效"))?),
            None => None,
        },
        open: matches!(q.text("open"), Some("true" | "1")),
        unit_id: q.int("unit_id", 1..=i64::MAX)?.map(UnitId),
        category: q.text("category").map(str::to_owned),
        platform: q.text("platform").map(str::to_owned),
        flagged: matches!(q.text("flagged"), Some("true" | "1")).then_some(true),
        q: q.text("q").map(str::to_owned),
        overdue: matches!(q.text("overdue"), Some("true" | "1")).then_some(today),
        due_between: due_soon.map(|n| (today, today + chrono::Days::new(n as u64))),
        received_between: match (q.date("from")?, q.date("to")?) {
            (None, None) => None,
            (f, t) => Some((f.unwrap_or(NaiveDate::MIN), t.unwrap_or(today))),
        },
        paging: q.paging()?,
    })
}

#[utoipa::path(get, path = "/api/v1/complaints", tag = "complaints",
    params(("kind" = Option<String>, Query), ("state" = Option<String>, Query), ("open" = Option<bool>, Query),
           ("overdue" = Option<bool>, Query), ("due_within" = Option<i64>, Query, description = "到期于今后 N 天内"),
           ("flagged" = Option<bool>, Query), ("unit_id" = Option<i64>, Query), ("category" = Option<String>, Query),
           ("platform" = Option<String>, Query), ("q" = Option<String>, Query, description = "查询码、12315 编号或被投诉人名称"),
           ("from" = Option<String>, Query), ("to" = Option<String>, Query),
           ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "案件清单（投诉人信息已脱敏）")))]
pub async fn list(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<Json<Page<CaseView>>> {
    Ok(Json(s.app.list_cases(&p, &query_of(&q)?).await?))
}

#[utoipa::path(post, path = "/api/v1/complaints", tag = "complaints", request_body = CaseInput,
    responses((status = 201, body = Intake), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(input): Json<CaseInput>,
) -> ApiResult<(StatusCode, Json<Intake>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.submit_case(Submitter::Staff(&p), &input).await?),
    ))
}

#[utoipa::path(post, path = "/api/v1/complaints/import", tag = "complaints",
    request_body(content = Vec<u8>, description = "全国 12315 平台导出的 CSV（UTF-8 或 GBK）或 XLSX 文件", content_type = "application/octet-stream"),
    responses((status = 200, body = CaseImportReport, description = "逐行结果：新增、合并、已导入跳过、失败及原因"),
              (status = 403, body = ErrorBody)))]
pub async fn import_12315(
    State(s): State<AppState>,
    Auth(p): Auth,
    body: axum::body::Bytes,
) -> ApiResult<Json<CaseImportReport>> {
    s.app.authorize(&p, "complaint:create").await?;
    let dir = std::env::temp_dir().join("hongdun-uploads");
    tokio::fs::create_dir_all(&dir).await.map_err(internal)?;
    let path = dir.join(format!("{}.12315", uuid::Uuid::new_v4().simple()));
    tokio::fs::write(&path, &body).await.map_err(internal)?;
    let report = s.app.import_cases(&p, &path).await;
    let _ = tokio::fs::remove_file(&path).await;
    Ok(Json(report?))
}

#[utoipa::path(get, path = "/api/v1/complaints/{id}", tag = "complaints",
    responses((status = 200, body = CaseDetail), (status = 404, body = ErrorBody)))]
pub async fn detail(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<CaseDetail>> {
    Ok(Json(s.app.case_detail(&p, id).await?))
}

#[utoipa::path(post, path = "/api/v1/complaints/{id}/actions", tag = "complaints", request_body = CaseActionInput,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn action(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(a): Json<CaseActionInput>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(s.app.case_action(&p, id, &a).await?))
}

#[utoipa::path(get, path = "/api/v1/complaints/summary", tag = "complaints",
    responses((status = 200, body = CaseSummary)))]
pub async fn summary(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<CaseSummary>> {
    Ok(Json(s.app.case_summary(&p).await?))
}

async fn stats_of(s: &AppState, p: &Principal, q: &Params) -> Result<Stats, ApiError> {
    let today = today_cn();
    let from = q
        .date("from")?
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today));
    let to = q.date("to")?.unwrap_or(today);
    let by = q.text("by").unwrap_or("unit");
    Ok(s.app.case_stats(p, from, to, by).await?)
}

#[utoipa::path(get, path = "/api/v1/complaints/stats", tag = "complaints",
    params(("from" = Option<String>, Query, description = "默认今年 1 月 1 日"), ("to" = Option<String>, Query),
           ("by" = Option<String>, Query, description = "unit | category | platform | month | kind")),
    responses((status = 200, body = Stats)))]
pub async fn stats(State(s): State<AppState>, Auth(p): Auth, q: Params) -> ApiResult<Json<Stats>> {
    Ok(Json(stats_of(&s, &p, &q).await?))
}

#[utoipa::path(get, path = "/api/v1/complaints/stats.csv", tag = "complaints",
    responses((status = 200, description = "统计表 CSV（UTF-8 带 BOM，Excel 可直接打开）")))]
pub async fn stats_csv(State(s): State<AppState>, Auth(p): Auth, q: Params) -> ApiResult<Response> {
    let st = stats_of(&s, &p, &q).await?;
    let mut out = String::from(
        "\u{feff}分组,受理登记数,受理数,办结数,按期办结数,办结率,按期办结率,挽回经济损失（元）\n",
    );
    for r in st.rows.iter().chain(std::iter::once(&st.total)) {
        let label = r.label.replace('"', "\"\"");
        out.push_str(&format!(
            "\"{label}\",{},{},{},{},{:.2}%,{:.2}%,{:.2}\n",
            r.received,
            r.accepted,
            r.closed,
            r.closed_on_time,
            r.closure_rate * 100.0,
            r.on_time_rate * 100.0,
            r.recovered as f64 / 100.0
        ));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"complaints-{}-{}-{}.csv\"",
                    st.by, st.from, st.to
                ),
            ),
        ],
        out,
    )
        .into_response())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeadlinePreview {
    pub rule_set: String,
    pub due_on: Option<NaiveDate>,
}

#[utoipa::path(get, path = "/api/v1/complaints/deadline", tag = "complaints",
    params(("kind" = Option<String>, Query), ("received_on" = String, Query)),
    responses((status = 200, body = DeadlinePreview), (status = 422, body = ErrorBody, description = "calendar_year_missing 等")))]
pub async fn deadline(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<Json<DeadlinePreview>> {
    s.app.authorize(&p, "complaint:list").await?;
    let kind = match q.text("kind") {
        Some(k) => CaseKind::parse(k).ok_or_else(|| {
            ApiError::bad_request("invalid_param", "参数 kind 无效", Some("kind"))
        })?,
        None => CaseKind::Complaint,
    };
    let on = Params::required(q.date("received_on")?, "received_on")?;
    let (rule_set, due_on) = s.app.preview_due(kind, on).await?;
    Ok(Json(DeadlinePreview { rule_set, due_on }))
}

#[utoipa::path(get, path = "/api/v1/complaint-rules", tag = "complaints",
    responses((status = 200, description = "期限规则（按生效日期）")))]
pub async fn rules(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Items<RuleSet>>> {
    Ok(Json(Items {
        items: s.app.complaint_rule_sets(&p).await?,
    }))
}

#[utoipa::path(put, path = "/api/v1/complaint-rules", tag = "complaints", request_body = RuleSet,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn put_rule(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(r): Json<RuleSet>,
) -> ApiResult<StatusCode> {
    s.app.put_complaint_rule_set(&p, &r).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/complaint-platforms", tag = "complaints",
    responses((status = 200, description = "网络交易平台及其登记地管辖单位")))]
pub async fn platforms(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<Json<Items<Platform>>> {
    Ok(Json(Items {
        items: s.app.complaint_platforms(&p).await?,
    }))
}

#[utoipa::path(put, path = "/api/v1/complaint-platforms", tag = "complaints", request_body = Platform,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn put_platform(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(pf): Json<Platform>,
) -> ApiResult<StatusCode> {
    s.app.put_complaint_platform(&p, &pf).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/entities/{uscc}/pledges", tag = "registry",
    responses((status = 200, description = "放心消费承诺（ODR、无理由退货）")))]
pub async fn pledges(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(uscc): Path<String>,
) -> ApiResult<Json<Items<Pledge>>> {
    Ok(Json(Items {
        items: s.app.pledges(&p, &uscc).await?,
    }))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct PledgeInput {
    #[serde(default)]
    pub since: Option<NaiveDate>,
    #[serde(default)]
    pub until: Option<NaiveDate>,
    #[serde(default)]
    pub note: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/entities/{uscc}/pledges/{kind}", tag = "registry", request_body = PledgeInput,
    responses((status = 200, body = Pledge), (status = 422, body = ErrorBody)))]
pub async fn put_pledge(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((uscc, kind)): Path<(String, String)>,
    Json(i): Json<PledgeInput>,
) -> ApiResult<Json<Pledge>> {
    Ok(Json(
        s.app
            .put_pledge(&p, &uscc, &kind, i.since, i.until, i.note)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/entities/{uscc}/pledges/{kind}", tag = "registry",
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_pledge(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((uscc, kind)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.app.delete_pledge(&p, &uscc, &kind).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- public ----

#[utoipa::path(post, path = "/api/public/v1/complaints", tag = "public", request_body = CaseInput,
    responses((status = 201, body = Intake, description = "登记成功，返回查询码"), (status = 422, body = ErrorBody)))]
pub async fn public_submit(
    State(s): State<AppState>,
    Json(input): Json<CaseInput>,
) -> ApiResult<(StatusCode, Json<Intake>)> {
    Ok((
        StatusCode::CREATED,
        Json(
            s.app
                .submit_case(Submitter::Public(Channel::Web), &input)
                .await?,
        ),
    ))
}

#[utoipa::path(get, path = "/api/public/v1/complaints/{receipt}", tag = "public",
    responses((status = 200, body = PublicCase, description = "办理进度，不含投诉人信息"), (status = 404, body = ErrorBody)))]
pub async fn public_case(
    State(s): State<AppState>,
    Path(receipt): Path<String>,
) -> ApiResult<Json<PublicCase>> {
    Ok(Json(s.app.public_case(&receipt).await?))
}

#[derive(Debug, Serialize)]
pub struct Category {
    pub code: &'static str,
    pub label: &'static str,
}

pub async fn categories() -> Json<Items<Category>> {
    Json(Items {
        items: CATEGORIES
            .iter()
            .map(|(code, label)| Category { code, label })
            .collect(),
    })
}

pub async fn form_page() -> Html<String> {
    let options: String = CATEGORIES
        .iter()
        .map(|(c, l)| format!(r#"<option value="{c}">{l}</option>"#))
        .collect();
    Html(page(
        "投诉举报登记",
        &format!(
            r#"<div class="card"><h1>消费投诉 · 举报登记</h1>
<p class="muted">提交后会得到一个查询码，凭查询码可随时查看办理进度。您的姓名和电话只用于联系您，不会公开。</p>
<form id="f">
<dl>
<dt>类型</dt><dd><select name="kind"><option value="complaint">投诉（要求解决纠纷）</option><option value="report">举报（反映违法行为）</option><option value="enquiry">咨询</option></select></dd>
<dt>被投诉（举报）商家名称</dt><dd><input name="respondent_name" style="width:100%"></dd>
<dt>统一社会信用代码（可不填）</dt><dd><input name="respondent_uscc" style="width:100%"></dd>
<dt>网络平台（网购、外卖等，可不填）</dt><dd><input name="platform" style="width:100%"></dd>
<dt>问题类别</dt><dd><select name="category">{options}</select></dd>
<dt>涉及金额（元，可不填）</dt><dd><input name="amount_involved" inputmode="decimal"></dd>
<dt>事情经过</dt><dd><textarea name="description" rows="5" style="width:100%"></textarea></dd>
<dt>您的姓名</dt><dd><input name="complainant_name"></dd>
<dt>联系电话</dt><dd><input name="complainant_phone" inputmode="tel"></dd>
</dl>
<p><button type="submit">提交</button></p>
</form><div id="out"></div></div>
<div class="card"><h1>查询办理进度</h1><form id="q"><input name="r" placeholder="查询码，如 ABCD-EFGH-JKMN"> <button>查询</button></form></div>
<script>
// Opened from a shop's page (/m/…): the shop is filled in.
const pre = new URLSearchParams(location.search).get('uscc');
if (pre) document.querySelector('#f [name=respondent_uscc]').value = pre;
document.getElementById('q').addEventListener('submit', (ev) => {{ ev.preventDefault();
  location.href = '/complaint/' + encodeURIComponent(new FormData(ev.target).get('r').trim()); }});
document.getElementById('f').addEventListener('submit', async (ev) => {{
  ev.preventDefault();
  const out = document.getElementById('out');
  const body = Object.fromEntries([...new FormData(ev.target)].filter(([k, v]) => v !== ''));
  if (body.amount_involved) body.amount_involved = Number(body.amount_involved);
  const r = await fetch('/api/public/v1/complaints', {{method: 'POST', headers: {{'Content-Type': 'application/json'}}, body: JSON.stringify(body)}});
  const j = await r.json();
  out.innerHTML = '';
  const p = document.createElement('p');
  if (!r.ok) {{ p.textContent = j.message + (j.fields.length > 1 ? '：' + j.fields.map(f => f.message).join('；') : ''); p.style.color = '#c8102e'; out.append(p); return; }}
  p.innerHTML = '已登记。查询码：<b id="receipt"></b>（请保存）';
  out.append(p);
  document.getElementById('receipt').textContent = j.receipt;
  const a = document.createElement('a'); a.href = '/complaint/' + j.receipt; a.textContent = '查看办理进度'; out.append(a);
  ev.target.reset();
}});
</script>"#
        ),
    ))
}

pub async fn receipt_page(State(s): State<AppState>, Path(receipt): Path<String>) -> Response {
    let body = match s.app.public_case(&receipt).await {
        Ok(c) => {
            let steps: String = c
                .steps
                .iter()
                .map(|st| format!("<dt>{}</dt><dd>{}（{}）</dd>", st.on_day, esc(st.label), esc(st.state_label)))
                .collect();
            format!(
                r#"<div class="card"><h1>{kind} · {state}</h1><p class="muted">查询码 {receipt}</p>
<dl><dt>被投诉（举报）对象</dt><dd>{resp}</dd><dt>问题类别</dt><dd>{cat}</dd>
<dt>登记日期</dt><dd>{recv}</dd><dt>承办单位</dt><dd>{unit}</dd>{due}{outcome}{reply}</dl></div>
<div class="card"><h1>办理经过</h1><dl>{steps}</dl></div>"#,
                kind = esc(c.kind_label),
                state = esc(c.state_label),
                receipt = esc(&c.receipt),
                resp = esc(&c.respondent_name),
                cat = esc(c.category_label),
                recv = c.received_on,
                unit = esc(&c.unit_name),
                due = c.due_on.map(|d| format!("<dt>本环节办理期限</dt><dd>{d}</dd>")).unwrap_or_default(),
                outcome = c.outcome_label.map(|o| format!("<dt>处理结果</dt><dd>{}</dd>", esc(o))).unwrap_or_default(),
                reply = c.reply.as_deref().map(|r| format!("<dt>答复</dt><dd>{}</dd>", esc(r))).unwrap_or_default(),
            )
        }
        Err(AppError::NotFound) => {
            return (StatusCode::NOT_FOUND, Html(page("查询办理进度", r#"<div class="card"><h1>没有找到这个查询码</h1><p class="muted">请核对查询码后重试。</p></div>"#))).into_response()
        }
        Err(e) => {
            let status = if matches!(e, AppError::Validation(_)) { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::INTERNAL_SERVER_ERROR };
            return (status, Html(page("查询办理进度", &format!(r#"<div class="card"><h1>{}</h1></div>"#, esc(&e.message_zh()))))).into_response();
        }
    };
    Html(page("查询办理进度", &body)).into_response()
}

// ---- Open311 GeoReport v2 ----

/// Open311 errors are a JSON array of `{code, description}`.
fn o311_error(status: StatusCode, description: impl Into<String>) -> Response {
    (
        status,
        Json(vec![
            serde_json::json!({"code": status.as_u16(), "description": description.into()}),
        ]),
    )
        .into_response()
}

fn o311_from_app(e: AppError) -> Response {
    let status = match &e {
        AppError::Unauthenticated | AppError::BadCredentials => StatusCode::UNAUTHORIZED,
        AppError::Forbidden => StatusCode::FORBIDDEN,
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut msg = e.message_zh();
    let fields = e.fields();
    if fields.len() > 1 {
        msg = fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ");
    } else if let Some(f) = fields.first() {
        msg = format!("{}: {}", f.field, f.message);
    }
    o311_error(status, msg)
}

fn service_code(kind: CaseKind, category: &str) -> String {
    format!("{}.{category}", kind.as_str())
}

fn services() -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for kind in [CaseKind::Complaint, CaseKind::Report] {
        for (c, l) in CATEGORIES {
            out.push(serde_json::json!({
                "service_code": service_code(kind, c),
                "service_name": format!("{}：{l}", kind.label_zh()),
                "description": format!("{}{l}问题", if kind == CaseKind::Complaint { "消费者投诉" } else { "举报" }),
                "metadata": true,
                "type": "realtime",
                "keywords": format!("{},{l}", kind.label_zh()),
                "group": kind.label_zh(),
            }));
        }
    }
    out.push(serde_json::json!({
        "service_code": "enquiry.other", "service_name": "咨询", "description": "消费咨询",
        "metadata": true, "type": "realtime", "keywords": "咨询", "group": "咨询",
    }));
    out
}

fn parse_service(code: &str) -> Option<(CaseKind, String)> {
    let (k, c) = code.split_once('.')?;
    let kind = CaseKind::parse(k)?;
    CATEGORIES
        .iter()
        .any(|(x, _)| *x == c)
        .then(|| (kind, c.to_owned()))
}

pub async fn o311_services() -> Response {
    Json(services()).into_response()
}

pub async fn o311_service(Path(file): Path<String>) -> Response {
    let Some(code) = file.strip_suffix(".json") else {
        return o311_error(StatusCode::NOT_FOUND, "only .json is served");
    };
    if parse_service(code).is_none() {
        return o311_error(StatusCode::NOT_FOUND, format!("no service {code}"));
    }
    let attr = |order: i64, code: &str, desc: &str, dtype: &str, required: bool| {
        serde_json::json!({"variable": true, "code": code, "datatype": dtype, "required": required,
            "datatype_description": "", "order": order, "description": desc})
    };
    Json(serde_json::json!({
        "service_code": code,
        "attributes": [
            attr(1, "respondent_name", "被投诉（举报）经营者名称", "string", !code.starts_with("enquiry")),
            attr(2, "respondent_uscc", "统一社会信用代码", "string", false),
            attr(3, "platform", "网络交易平台", "string", false),
            attr(4, "amount", "涉及金额（元）", "number", false),
        ]
    }))
    .into_response()
}

/// The caller of an Open311 request, by its `api_key` (one of our API tokens).
async fn o311_principal(
    s: &AppState,
    parts: &Parts,
    key: Option<&str>,
) -> Result<Principal, Response> {
    let Some(key) = key.map(str::trim).filter(|k| !k.is_empty()) else {
        return Err(o311_error(StatusCode::UNAUTHORIZED, "api_key is required"));
    };
    let o = origin(parts, s.http.trust_forwarded_for);
    s.app.token_principal(key, &o).await.map_err(o311_from_app)
}

fn o311_status(c: &hongdun_store::Case) -> &'static str {
    if matches!(c.state, CaseState::Closed | CaseState::Merged) {
        "closed"
    } else {
        "open"
    }
}

/// An Open311 request: status and place, never the complainant.
fn o311_request_json(c: &hongdun_store::Case, unit_name: &str, keyed: bool) -> serde_json::Value {
    serde_json::json!({
        "service_request_id": c.receipt,
        "status": o311_status(c),
        "status_notes": c.outcome.map(|o| o.label_zh()).unwrap_or(c.state.label_zh()),
        "service_name": format!("{}：{}", c.kind.label_zh(), CATEGORIES.iter().find(|(k, _)| *k == c.category).map_or("其他", |(_, l)| *l)),
        "service_code": service_code(c.kind, &c.category),
        // What the person wrote may hold personal details: keyed callers only.
        "description": if keyed { c.description.as_str() } else { "" },
        "agency_responsible": unit_name,
        "service_notice": "",
        "requested_datetime": c.created_at.to_rfc3339(),
        "updated_datetime": c.updated_at.to_rfc3339(),
        "expected_datetime": c.due_on.map(|d| format!("{d}T17:30:00+08:00")),
        "address": c.respondent_address,
        "address_id": "",
        "zipcode": "",
        "lat": c.lat,
        "long": c.lng,
        "media_url": "",
    })
}

pub async fn o311_post(
    State(s): State<AppState>,
    parts: Parts,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let p = match o311_principal(&s, &parts, f.get("api_key").map(String::as_str)).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let get = |k: &str| {
        f.get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let Some((kind, category)) = get("service_code").as_deref().and_then(parse_service) else {
        return o311_error(StatusCode::BAD_REQUEST, "service_code: unknown service");
    };
    let amount = match get("attribute[amount]").map(|a| a.parse::<f64>()) {
        None => None,
        Some(Ok(v)) => Some(v),
        Some(Err(_)) => {
            return o311_error(StatusCode::BAD_REQUEST, "attribute[amount]: not a number")
        }
    };
    let num = |k: &str| get(k).and_then(|v| v.parse::<f64>().ok());
    let name = match (get("last_name"), get("first_name")) {
        (Some(l), Some(f)) => Some(format!("{l}{f}")),
        (l, f) => l.or(f),
    };
    let input = CaseInput {
        kind: Some(kind),
        channel: Some(Channel::Open311),
        complainant_name: name,
        complainant_phone: get("phone"),
        respondent_name: get("attribute[respondent_name]"),
        respondent_uscc: get("attribute[respondent_uscc]"),
        respondent_address: get("address_string"),
        platform: get("attribute[platform]"),
        amount_involved: amount,
        category,
        description: get("description").unwrap_or_default(),
        lat: num("lat"),
        lng: num("long"),
        ..Default::default()
    };
    match s.app.submit_case(Submitter::Staff(&p), &input).await {
        Ok(i) => (
            StatusCode::CREATED,
            Json(vec![serde_json::json!({
                "service_request_id": i.receipt,
                "service_notice": format!("已登记，由{}办理", i.unit_name),
                "account_id": null,
            })]),
        )
            .into_response(),
        Err(e) => o311_from_app(e),
    }
}

pub async fn o311_requests(State(s): State<AppState>, parts: Parts, q: Params) -> Response {
    let p = match o311_principal(&s, &parts, q.text("api_key")).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let mut query = CaseQuery {
        paging: hongdun_store::Paging::new(1, 1000),
        ..Default::default()
    };
    if let Some(code) = q.text("service_code") {
        match parse_service(code) {
            Some((k, c)) => {
                query.kind = Some(k);
                query.category = Some(c);
            }
            None => return o311_error(StatusCode::BAD_REQUEST, "service_code: unknown service"),
        }
    }
    let day = |k: &str| {
        q.text(k)
            .and_then(|v| v.get(..10))
            .and_then(hongdun_core::calendar::parse_date)
    };
    let today = today_cn();
    let (from, to) = (
        day("start_date").unwrap_or(today - chrono::Days::new(90)),
        day("end_date").unwrap_or(today),
    );
    query.received_between = Some((from, to));
    let want_open = match q.text("status") {
        Some("open") => Some(true),
        Some("closed") => Some(false),
        _ => None,
    };
    if want_open == Some(true) {
        query.open = true;
    }
    let ids: Option<Vec<String>> = q
        .text("service_request_id")
        .map(|v| v.split(',').map(|x| x.trim().to_uppercase()).collect());
    let page = match s.app.list_cases(&p, &query).await {
        Ok(p) => p,
        Err(e) => return o311_from_app(e),
    };
    let out: Vec<serde_json::Value> = page
        .items
        .iter()
        .filter(|v| want_open != Some(false) || o311_status(&v.case) == "closed")
        .filter(|v| ids.as_ref().is_none_or(|ids| ids.contains(&v.case.receipt)))
        .map(|v| o311_request_json(&v.case, &v.unit_name, true))
        .collect();
    Json(out).into_response()
}

/// One request by its id (the receipt code): no key needed, as with the receipt page.
pub async fn o311_request(State(s): State<AppState>, Path(file): Path<String>) -> Response {
    let Some(id) = file.strip_suffix(".json") else {
        return o311_error(StatusCode::NOT_FOUND, "only .json is served");
    };
    let Some(code) = hongdun_core::complaint::normalize_receipt(id) else {
        return o311_error(StatusCode::NOT_FOUND, "no such request");
    };
    match s.app.case_by_receipt(&code).await {
        Ok((c, unit)) => Json(vec![o311_request_json(&c, &unit, false)]).into_response(),
        Err(e) => o311_from_app(e),
    }
}
