//! Working-day computations. Open to everyone: the calendar is public.
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Params};
use crate::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::Router;
use chrono::NaiveDate;
use serde::Serialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/calendar/add-working-days", get(add_working_days))
        .route(
            "/api/v1/calendar/working-days-between",
            get(working_days_between),
        )
        .route("/api/v1/calendar/is-working-day", get(is_working_day))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AddWorkingDaysBody {
    pub from: NaiveDate,
    pub days: u32,
    /// The `days`-th working day after `from` (`from` itself not counted).
    pub due: NaiveDate,
}

#[utoipa::path(get, path = "/api/v1/calendar/add-working-days", tag = "calendar",
    params(("from" = String, Query, description = "YYYY-MM-DD"), ("days" = u32, Query, description = "0–10000")),
    responses((status = 200, body = AddWorkingDaysBody), (status = 422, body = ErrorBody, description = "calendar_year_missing")))]
pub async fn add_working_days(
    State(state): State<AppState>,
    q: Params,
) -> ApiResult<Json<AddWorkingDaysBody>> {
    let from = Params::required(q.date("from")?, "from")?;
    let days = Params::required(
        q.int(
            "days",
            0..=i64::from(hongdun_core::calendar::MAX_PERIOD_DAYS),
        )?,
        "days",
    )?;
    let days = u32::try_from(days).unwrap_or(0);
    let due = state.app.add_working_days(from, days).await?;
    Ok(Json(AddWorkingDaysBody { from, days, due }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BetweenBody {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Working days in (from, to]; negative when `to` is before `from`.
    pub working_days: i64,
}

#[utoipa::path(get, path = "/api/v1/calendar/working-days-between", tag = "calendar",
    params(("from" = String, Query), ("to" = String, Query)),
    responses((status = 200, body = BetweenBody), (status = 422, body = ErrorBody)))]
pub async fn working_days_between(
    State(state): State<AppState>,
    q: Params,
) -> ApiResult<Json<BetweenBody>> {
    let from = Params::required(q.date("from")?, "from")?;
    let to = Params::required(q.date("to")?, "to")?;
    let working_days = state.app.working_days_between(from, to).await?;
    Ok(Json(BetweenBody {
        from,
        to,
        working_days,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct IsWorkingDayBody {
    pub date: NaiveDate,
    pub working: bool,
}

#[utoipa::path(get, path = "/api/v1/calendar/is-working-day", tag = "calendar",
    params(("date" = String, Query)),
    responses((status = 200, body = IsWorkingDayBody), (status = 422, body = ErrorBody)))]
pub async fn is_working_day(
    State(state): State<AppState>,
    q: Params,
) -> ApiResult<Json<IsWorkingDayBody>> {
    let date = Params::required(q.date("date")?, "date")?;
    let working = state.app.is_working_day(date).await?;
    Ok(Json(IsWorkingDayBody { date, working }))
}
