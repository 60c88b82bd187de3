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
use hongdun_app::import::{ImportJobView, ImportOptions};
use hongdun_app::registry::CheckMode;
use hongdun_app::AppError;
use hongdun_store::{AuditCtx, ImportJobQuery, Page, ScopeFilter};
use tokio::io::AsyncWriteExt;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/imports", get(list_jobs))
        .route("/api/v1/imports/entities", post(upload_entities))
        .route("/api/v1/imports/{id}", get(get_job))
        .route("/api/v1/imports/{id}/abandon", post(abandon_job))
        .route("/api/v1/imports/{id}/errors.csv", get(job_errors))
}

pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError(AppError::Internal(e.to_string()))
}

#[utoipa::path(post, path = "/api/v1/imports/entities", tag = "registry",
    params(("mode" = Option<String>, Query, description = "strict (default) or lenient"),
           ("file_name" = Option<String>, Query, description = "the original file name, for the job list")),
    request_body(content = Vec<u8>, description = "the CSV or XLSX file as the body", content_type = "application/octet-stream"),
    responses((status = 202, body = ImportJobView, description = "started; poll GET /api/v1/imports/{id}"),
              (status = 403, body = ErrorBody)))]
pub async fn upload_entities(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
    body: Body,
) -> ApiResult<(StatusCode, Json<ImportJobView>)> {
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
    let dir = s.http.upload_dir.clone();
    tokio::fs::create_dir_all(&dir).await.map_err(internal)?;
    let path = dir.join(format!("{}.upload", uuid::Uuid::new_v4().simple()));
    let received = async {
        let mut file = tokio::fs::File::create(&path).await.map_err(internal)?;
        let mut stream = body.into_data_stream();
        use futures_util::StreamExt;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                ApiError::bad_request("invalid_body", format!("上传中断：{e}"), None)
            })?;
            file.write_all(&chunk).await.map_err(internal)?;
        }
        file.flush().await.map_err(internal)
    }
    .await;
    if let Err(e) = received {
        // A broken-off upload leaves nothing behind.
        let _ = tokio::fs::remove_file(&path).await;
        return Err(e);
    }
    let opts = ImportOptions {
        mode,
        file_name: Some(file_name),
        ..Default::default()
    };
    let ctx = p.audit_ctx();
    let job = match s.app.prepare_import(&ctx, &path, &opts).await {
        Ok(job) => job,
        Err(e) => {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(e.into());
        }
    };
    // Locked while its import runs (the lock stays with the file through the
    // rename below).
    let held = lock(&path);
    let named = job_file(&dir, &job);
    if in_use(&named) {
        // The same file uploaded again while its import runs: the same job
        // answers, and nothing starts twice.
        let _ = tokio::fs::remove_file(&path).await;
        return Ok((StatusCode::ACCEPTED, Json(s.app.import_job_view(job))));
    }
    // Named after its job from now on, so a server stopped mid-import finds
    // it again (`resume_uploads`). Uploading a file whose import was cut off
    // resumes that job, and its file is replaced by the same bytes.
    let path = match tokio::fs::rename(&path, &named).await {
        Ok(()) => named,
        Err(e) => {
            tracing::warn!(job = job.id, error = %e, "upload kept under its first name");
            path
        }
    };
    run_upload(s.app.clone(), ctx, job.clone(), path, opts, held);
    // Not stalled: its import starts now.
    Ok((
        StatusCode::ACCEPTED,
        Json(ImportJobView {
            job,
            stalled: false,
        }),
    ))
}

/// An upload waiting for its job's import, in `HttpConfig::upload_dir`: a
/// server stopped mid-import (killed, power cut) finds it when it starts
/// again and resumes the job after its last batch. Named by the job and the
/// file's SHA-256: servers of other databases may share the directory, and
/// their job numbers are their own.
fn job_file(dir: &std::path::Path, job: &hongdun_store::ImportJob) -> std::path::PathBuf {
    dir.join(format!("job-{}-{}.upload", job.id, job.file_sha256))
}

/// The job number and SHA-256 a waiting upload's name (`job_file`) holds.
fn job_of_file(name: &str) -> Option<(i64, &str)> {
    let (id, sha) = name
        .strip_prefix("job-")?
        .strip_suffix(".upload")?
        .split_once('-')?;
    Some((id.parse().ok()?, sha))
}

/// The file opened and locked (exclusively, without waiting), if it can be.
fn lock(path: &std::path::Path) -> Option<std::fs::File> {
    let f = std::fs::File::open(path).ok()?;
    f.try_lock().ok()?;
    Some(f)
}

/// Whether an import (of this server or another) holds the file's lock.
fn in_use(path: &std::path::Path) -> bool {
    std::fs::File::open(path)
        .is_ok_and(|f| matches!(f.try_lock(), Err(std::fs::TryLockError::WouldBlock)))
}

/// Runs an upload's import to its end in the background, holding the file's
/// lock (`held`) meanwhile, so no other server resumes it and a second upload
/// of it starts nothing; then removes the file.
fn run_upload(
    app: std::sync::Arc<hongdun_app::App>,
    ctx: AuditCtx,
    job: hongdun_store::ImportJob,
    path: std::path::PathBuf,
    opts: ImportOptions,
    held: Option<std::fs::File>,
) {
    tokio::spawn(async move {
        if let Err(e) = app
            .run_import(&ctx, job.clone(), &path, &opts, &|_| {})
            .await
        {
            tracing::error!(job = job.id, error = %e, "import failed");
            let _ = app
                .store()
                .finish_import_job(job.id, "failed", Some(&e.message_zh()))
                .await;
        }
        let _ = tokio::fs::remove_file(&path).await;
        drop(held);
    });
}

/// Resumes the imports that a stopped server left running, from the uploads
/// still waiting in `dir`: each job from its last committed batch,
/// in the background, as its uploader's office. A file is taken only if it
/// is this database's job's file (the same SHA-256: the directory may serve
/// other databases too) and no running server holds its lock; the file of a
/// job that is over is removed. Returns the jobs resumed.
pub async fn resume_uploads(
    app: &std::sync::Arc<hongdun_app::App>,
    dir: &std::path::Path,
) -> Vec<i64> {
    let mut resumed = Vec::new();
    let Ok(mut dir) = tokio::fs::read_dir(dir).await else {
        return resumed;
    };
    while let Ok(Some(entry)) = dir.next_entry().await {
        let name = entry.file_name();
        let Some((id, named_sha)) = name.to_str().and_then(job_of_file) else {
            continue;
        };
        let path = entry.path();
        let job = match app.store().get_import_job(&ScopeFilter::All, id).await {
            Ok(job) if job.file_sha256 == named_sha => job,
            _ => continue,
        };
        let Some(held) = lock(&path) else {
            continue;
        };
        // The bytes too: a file cut short (a full disk) is not the job's.
        let file = path.clone();
        let ours = tokio::task::spawn_blocking(move || hongdun_app::import::sha256_file(&file))
            .await
            .is_ok_and(|sha| sha.is_ok_and(|sha| sha == job.file_sha256));
        if !ours {
            continue;
        }
        if job.status != "running" {
            let _ = tokio::fs::remove_file(&path).await;
            continue;
        }
        let ctx = AuditCtx {
            actor_user_id: None,
            actor_name: format!("system:resume-upload:{}", job.created_by_name),
            unit_id: job.unit_id,
            request_id: None,
        };
        let opts = ImportOptions {
            mode: if job.mode == "lenient" {
                CheckMode::Lenient
            } else {
                CheckMode::Strict
            },
            file_name: Some(job.file_name.clone()),
            ..Default::default()
        };
        tracing::info!(
            job = id,
            after_row = job.checkpoint_row,
            "resuming an uploaded import cut off when the server stopped"
        );
        resumed.push(id);
        run_upload(app.clone(), ctx, job, path, opts, Some(held));
    }
    resumed
}

#[utoipa::path(get, path = "/api/v1/imports", tag = "registry",
    params(("kind" = Option<String>, Query, description = "entities"),
           ("status" = Option<String>, Query, description = "running, done or failed"),
           ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = Page<ImportJobView>, description = "the import history in the caller's scope, newest first"),
              (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_jobs(
    State(s): State<AppState>,
    Auth(p): Auth,
    q: Params,
) -> ApiResult<Json<Page<ImportJobView>>> {
    let one_of = |name: &str, allowed: &[&str], message: &str| match q.text(name) {
        None => Ok(None),
        Some(v) if allowed.contains(&v) => Ok(Some(v.to_owned())),
        Some(_) => Err(ApiError::bad_request("invalid_param", message, Some(name))),
    };
    let query = ImportJobQuery {
        kind: one_of(
            "kind",
            &[hongdun_app::import::KIND_ENTITIES],
            "kind 应为 entities",
        )?,
        status: one_of(
            "status",
            &["running", "done", "failed"],
            "status 应为 running、done 或 failed",
        )?,
        paging: q.paging()?,
    };
    Ok(Json(s.app.import_jobs(&p, &query).await?))
}

#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "registry",
    responses((status = 200, body = ImportJobView), (status = 404, body = ErrorBody)))]
pub async fn get_job(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<ImportJobView>> {
    let job = s.app.import_job(&p, id).await?;
    Ok(Json(s.app.import_job_view(job)))
}

#[utoipa::path(post, path = "/api/v1/imports/{id}/abandon", tag = "registry",
    responses((status = 200, body = ImportJobView, description = "given up: failed, its committed rows kept"),
              (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody, description = "import_not_stalled: it still runs, or is over")))]
pub async fn abandon_job(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<ImportJobView>> {
    Ok(Json(s.app.abandon_import(&p, id).await?))
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_waiting_upload_is_named_by_its_job_and_its_bytes() {
        let job = hongdun_store::ImportJob {
            id: 12,
            kind: "entities".into(),
            file_name: "名录.csv".into(),
            file_sha256: "ab".repeat(32),
            mode: "strict".into(),
            status: "running".into(),
            rows_total: 0,
            rows_ok: 0,
            rows_failed: 0,
            rows_warned: 0,
            inserted: 0,
            updated: 0,
            checkpoint_row: 0,
            unit_id: None,
            created_by_name: "x".into(),
            message: None,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            finished_at: None,
        };
        let path = super::job_file(std::path::Path::new("/u"), &job);
        let name = path.file_name().unwrap().to_str().unwrap();
        assert_eq!(
            super::job_of_file(name),
            Some((12, job.file_sha256.as_str()))
        );
        for other in [
            "job-12.upload",
            "job-x-ab.upload",
            "job-12-ab.csv",
            "12-ab.upload",
        ] {
            assert_eq!(super::job_of_file(other), None, "{other}");
        }
    }
}
