//! Uploading files to import, following their progress, and downloading the
//! error report.
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Auth, Json, Params};
use crate::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use hongdun_app::import::ImportOptions;
use hongdun_app::registry::CheckMode;
use hongdun_app::AppError;
use hongdun_store::ImportJob;
use tokio::io::AsyncWriteExt;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/imports/entities", post(upload_entities))
        .route("/api/v1/imports/{id}", get(get_job))
        .route("/api/v1/imports/{id}/errors.csv", get(job_errors))
}

pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError(AppError::Internal(e.to_string()))
}

#[utoipa::path(post, path = "/api/v1/imports/entities", tag = "registry",
    params(("mode" = Option<String>, Query, description = "strict (default) or lenient"),
           ("file_name" = Option<String>, Query, description = "the original file name, for the job list")),
    request_body(content = Vec<u8>, description = "the CSV or XLSX file as the body", content_type = "application/octet-stream"),
    responses((status = 202, body = ImportJob, description = "started; poll GET /api/v1/imports/{id}"),
              (status = 403, body = ErrorBody)))]
pub async fn upload_entities(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
    body: Body,
) -> ApiResult<(StatusCode, Json<ImportJob>)> {
    s.app.authorize(&p, "registry:entity:import").await?;
    let mode = match q.text("mode") {
        None | Some("strict") => CheckMode::Strict,
        Some("lenient") => CheckMode::Lenient,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_param",
                "mode 应为 strict 或 lenient",
                Some("mode"),
            ))
        }
    };
    let file_name: String = q
        .text("file_name")
        .unwrap_or("upload")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    // The upload goes to disk as it arrives: memory stays flat whatever its size.
    let dir = std::env::temp_dir().join("hongdun-uploads");
    tokio::fs::create_dir_all(&dir).await.map_err(internal)?;
    let path = dir.join(format!("{}.upload", uuid::Uuid::new_v4().simple()));
    let mut file = tokio::fs::File::create(&path).await.map_err(internal)?;
    let mut stream = body.into_data_stream();
    use futures_util::StreamExt;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::bad_request("invalid_body", format!("上传中断：{e}"), None))?;
        file.write_all(&chunk).await.map_err(internal)?;
    }
    file.flush().await.map_err(internal)?;
    drop(file);
    let opts = ImportOptions {
        mode,
        file_name: Some(file_name),
        ..Default::default()
    };
    let ctx = p.audit_ctx();
    let job = s.app.prepare_import(&ctx, &path, &opts).await?;
    let app = s.app.clone();
    let started = job.clone();
    tokio::spawn(async move {
        if let Err(e) = app
            .run_import(&ctx, started.clone(), &path, &opts, &|_| {})
            .await
        {
            tracing::error!(job = started.id, error = %e, "import failed");
            let _ = app
                .store()
                .finish_import_job(started.id, "failed", Some(&e.message_zh()))
                .await;
        }
        let _ = tokio::fs::remove_file(&path).await;
    });
    Ok((StatusCode::ACCEPTED, Json(job)))
}

#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "registry",
    responses((status = 200, body = ImportJob), (status = 404, body = ErrorBody)))]
pub async fn get_job(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<ImportJob>> {
    Ok(Json(s.app.import_job(&p, id).await?))
}

#[utoipa::path(get, path = "/api/v1/imports/{id}/errors.csv", tag = "registry",
    responses((status = 200, description = "行号, 列, 错误代码, 说明, 级别", content_type = "text/csv"), (status = 404, body = ErrorBody)))]
pub async fn job_errors(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let csv = s.app.import_report_for(&p, id).await?;
    let disposition = format!("attachment; filename=\"import-{id}-errors.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}
