//! Food sampling tests (`/api/v1/sample-plans`, `/api/v1/samples*`), the
//! published results (`/api/public/v1/food-samples`, page `/p/food-samples`).
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Auth, Json, Params};
use crate::routes::public::{esc, page};
use crate::routes::system::Items;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use hongdun_app::inspection::today_cn;
use hongdun_app::sample::{
    PublicSample, ResultsInput, SampleActionInput, SampleDetail, SampleFigures, SampleInput,
    SamplePlanInput, SampleView,
};
use hongdun_core::food_sample::SampleState;
use hongdun_core::ids::UnitId;
use hongdun_store::{Page, SamplePlan, SampleQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/sample-plans", get(plans).post(create_plan))
        .route("/api/v1/samples", get(list).post(create))
        .route("/api/v1/samples/stats", get(stats))
        .route("/api/v1/samples/{id}", get(detail))
        .route("/api/v1/samples/{id}/results", post(results))
        .route("/api/v1/samples/{id}/actions", post(action))
        .route("/api/v1/samples/{id}/publish", post(publish))
        .route("/api/v1/food/terms", get(terms))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Term {
    pub code: &'static str,
    pub label: &'static str,
}

/// The food pages' fixed vocabularies, as the server checks them.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct FoodTerms {
    /// AI violation kinds (`hongdun_core::alert::VIOLATIONS`).
    pub violations: Vec<Term>,
    /// Food categories of the sampling plan.
    pub categories: Vec<Term>,
    /// Where a sample is taken.
    pub place_kinds: Vec<Term>,
    /// Disposal steps of a failed sample.
    pub disposals: Vec<Term>,
}

fn terms_of(list: &'static [(&'static str, &'static str)]) -> Vec<Term> {
    list.iter()
        .map(|&(code, label)| Term { code, label })
        .collect()
}

#[utoipa::path(get, path = "/api/v1/food/terms", tag = "food",
    responses((status = 200, body = FoodTerms, description = "违规类型、食品类别、抽样场所、处置方式")))]
pub async fn terms(_signed_in: Auth) -> Json<FoodTerms> {
    use hongdun_core::{alert, food_sample};
    Json(FoodTerms {
        violations: terms_of(alert::VIOLATIONS),
        categories: terms_of(food_sample::CATEGORIES),
        place_kinds: terms_of(food_sample::PLACE_KINDS),
        disposals: terms_of(food_sample::DISPOSALS),
    })
}

/// Public routes: the rate limiter of `routes::public` wraps them.
pub fn public_router() -> Router<AppState> {
    Router::new()
        .route("/api/public/v1/food-samples", get(public_list))
        .route("/p/food-samples", get(public_page))
}

fn bool_param(q: &Params, name: &str) -> Result<Option<bool>, ApiError> {
    match q.text(name) {
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(ApiError::bad_request(
            "invalid_param",
            format!("参数 {name} 应为 true 或 false"),
            Some(name),
        )),
        None => Ok(None),
    }
}

#[utoipa::path(get, path = "/api/v1/sample-plans", tag = "food",
    params(("year" = Option<i32>, Query)),
    responses((status = 200, description = "抽检计划及完成进度")))]
pub async fn plans(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<Json<Items<SamplePlan>>> {
    let year = q.int("year", 2000..=2100)?.map(|y| y as i32);
    Ok(Json(Items {
        items: s.app.sample_plans(&p, year).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/sample-plans", tag = "food",
    request_body = SamplePlanInput,
    responses((status = 201, description = "抽检计划"), (status = 422, body = ErrorBody)))]
pub async fn create_plan(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(i): Json<SamplePlanInput>,
) -> ApiResult<(StatusCode, Json<SamplePlan>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.create_sample_plan(&p, &i).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/samples", tag = "food",
    params(("plan_id" = Option<i64>, Query), ("unit_id" = Option<i64>, Query),
           ("state" = Option<String>, Query, description = "sampled | passed | failed | disposing | closed"),
           ("failed" = Option<bool>, Query), ("published" = Option<bool>, Query),
           ("q" = Option<String>, Query), ("from" = Option<String>, Query), ("to" = Option<String>, Query),
           ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "抽检样品")))]
pub async fn list(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<Json<Page<SampleView>>> {
    let state = match q.text("state") {
        Some(v) => Some(SampleState::parse(v).ok_or_else(|| {
            ApiError::bad_request("invalid_param", "参数 state 不正确", Some("state"))
        })?),
        None => None,
    };
    let query = SampleQuery {
        plan_id: q.int("plan_id", 1..=i64::MAX)?,
        unit_id: q.int("unit_id", 1..=i64::MAX)?.map(UnitId),
        state,
        failed: bool_param(&q, "failed")?,
        published: bool_param(&q, "published")?,
        seller_entity_id: None,
        q: q.text("q").map(str::to_owned),
        from: q.date("from")?,
        to: q.date("to")?,
        paging: q.paging()?,
    };
    Ok(Json(s.app.list_samples(&p, &query).await?))
}

#[utoipa::path(post, path = "/api/v1/samples", tag = "food",
    request_body = SampleInput,
    responses((status = 201, description = "登记抽样，自动编号"), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    Auth(p): Auth,
    Json(i): Json<SampleInput>,
) -> ApiResult<(StatusCode, Json<SampleView>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.create_sample(&p, &i).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/samples/{id}", tag = "food",
    responses((status = 200, description = "样品、检验结果和办理过程"), (status = 404, body = ErrorBody)))]
pub async fn detail(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<SampleDetail>> {
    Ok(Json(s.app.sample_detail(&p, id).await?))
}

#[utoipa::path(post, path = "/api/v1/samples/{id}/results", tag = "food",
    request_body = ResultsInput,
    responses((status = 200, description = "逐项判定；任一项不合格则样品不合格"), (status = 422, body = ErrorBody)))]
pub async fn results(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(i): Json<ResultsInput>,
) -> ApiResult<Json<SampleDetail>> {
    Ok(Json(s.app.record_sample_results(&p, id, &i).await?))
}

#[utoipa::path(post, path = "/api/v1/samples/{id}/actions", tag = "food",
    request_body = SampleActionInput,
    responses((status = 200, description = "核查处置：notice 送达、recall 召回、case 立案、close 办结"),
              (status = 422, body = ErrorBody)))]
pub async fn action(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
    Json(i): Json<SampleActionInput>,
) -> ApiResult<Json<SampleDetail>> {
    Ok(Json(s.app.sample_action(&p, id, &i).await?))
}

#[utoipa::path(post, path = "/api/v1/samples/{id}/publish", tag = "food",
    responses((status = 200, description = "公布检验结果"), (status = 422, body = ErrorBody)))]
pub async fn publish(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<SampleView>> {
    Ok(Json(s.app.publish_sample(&p, id).await?))
}

#[utoipa::path(get, path = "/api/v1/samples/stats", tag = "food",
    params(("from" = Option<String>, Query), ("to" = Option<String>, Query)),
    responses((status = 200, body = SampleFigures, description = "各单位、各类别抽检批次、不合格率、待处置")))]
pub async fn stats(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<Json<SampleFigures>> {
    let to = q.date("to")?.unwrap_or_else(today_cn);
    let from = q
        .date("from")?
        .unwrap_or_else(|| to.with_ordinal(1).unwrap_or(to));
    Ok(Json(s.app.sample_figures(&p, from, to).await?))
}

use chrono::Datelike;

#[utoipa::path(get, path = "/api/public/v1/food-samples", tag = "public",
    params(("q" = Option<String>, Query, description = "样品、生产者、被抽样单位或编号"),
           ("failed" = Option<bool>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, description = "已公布的食品抽检结果（不含个人信息）")))]
pub async fn public_list(
    State(s): State<AppState>,
    q: Params,
) -> ApiResult<Json<Page<PublicSample>>> {
    Ok(Json(
        s.app
            .public_samples(q.text("q"), bool_param(&q, "failed")?, q.paging()?)
            .await?,
    ))
}

/// 食品安全抽检信息公告: a phone-friendly list with search.
pub async fn public_page(State(s): State<AppState>, q: Params) -> Response {
    let text = q.text("q").map(str::to_owned);
    let failed = matches!(q.text("failed"), Some("true"));
    let page_no = q.int("page", 1..=100_000).ok().flatten().unwrap_or(1);
    let found = s
        .app
        .public_samples(
            text.as_deref(),
            failed.then_some(true),
            hongdun_store::Paging::new(page_no, 20),
        )
        .await;
    let found = match found {
        Ok(f) => f,
        Err(e) => {
            let status = ApiError::from(e).status();
            return (
                status,
                Html(page("食品抽检结果", "<div class=\"card\">查询失败</div>")),
            )
                .into_response();
        }
    };
    let rows: String = found
        .items
        .iter()
        .map(|x| {
            let items: String = x
                .failed_items
                .iter()
                .map(|r| {
                    format!(
                        "<dd>{}：{}{}（标准 {}，{}）</dd>",
                        esc(&r.item),
                        esc(&r.value),
                        esc(r.unit.as_deref().unwrap_or("")),
                        esc(&r.limit),
                        esc(&r.standard)
                    )
                })
                .collect();
            format!(
                r#"<div class="card"><h1>{product} <span class="tag {cls}">{conclusion}</span></h1>
<div class="muted">{no} · {category} · 抽样 {sampled}</div><dl>
<dt>标称生产者</dt><dd>{producer}</dd><dt>被抽样单位</dt><dd>{seller}（{place}）</dd>
<dt>规格 · 批号</dt><dd>{spec} · {batch}</dd>{items_head}{items}</dl></div>"#,
                product = esc(&x.product),
                cls = if x.passed { "valid" } else { "expired" },
                conclusion = x.conclusion,
                no = esc(&x.sample_no),
                category = x.category,
                sampled = x.sampled_on,
                producer = esc(&x.producer_name),
                seller = esc(&x.seller_name),
                place = x.place_kind,
                spec = esc(x.spec.as_deref().unwrap_or("—")),
                batch = esc(x.batch_no.as_deref().unwrap_or("—")),
                items_head = if x.failed_items.is_empty() {
                    ""
                } else {
                    "<dt>不合格项目</dt>"
                },
            )
        })
        .collect();
    let more = if found.total > page_no * 20 {
        format!(
            r#"<p><a href="?q={}&failed={}&page={}">下一页</a></p>"#,
            esc(&urlencode(text.as_deref().unwrap_or(""))),
            failed,
            page_no + 1
        )
    } else {
        String::new()
    };
    let body = format!(
        r#"<div class="card"><h1>食品安全抽检信息公告</h1><form><p><input name="q" value="{q}" placeholder="食品名称、生产者、经营者" style="width:70%">
<label><input type="checkbox" name="failed" value="true"{checked}> 只看不合格</label> <button type="submit">查询</button></p></form>
<div class="muted">共 {total} 批次</div></div>{rows}{more}"#,
        q = esc(text.as_deref().unwrap_or("")),
        checked = if failed { " checked" } else { "" },
        total = found.total,
    );
    Html(page("食品抽检结果", &body)).into_response()
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|v| v.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}
