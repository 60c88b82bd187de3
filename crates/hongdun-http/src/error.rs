//! The one API error: `{"code", "message", "fields"}` with a stable code, a
//! zh-CN message and field paths. Details of 5xx errors are logged, never sent.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hongdun_app::{AppError, FieldError};
use serde::Serialize;

#[derive(Debug)]
pub struct ApiError(pub AppError);

pub type ApiResult<T> = Result<T, ApiError>;

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        Self(e)
    }
}

/// The body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine code, e.g. `calendar_year_missing`.
    pub code: String,
    /// A message for people, in Simplified Chinese.
    pub message: String,
    pub fields: Vec<FieldErrorBody>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FieldErrorBody {
    pub field: String,
    pub code: String,
    pub message: String,
}

impl From<FieldError> for FieldErrorBody {
    fn from(f: FieldError) -> Self {
        Self {
            field: f.field,
            code: f.code,
            message: f.message,
        }
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match &self.0 {
            AppError::Unauthenticated | AppError::BadCredentials => StatusCode::UNAUTHORIZED,
            AppError::AccountLocked { .. } => StatusCode::LOCKED,
            AppError::AccountDisabled | AppError::Forbidden | AppError::Csrf => {
                StatusCode::FORBIDDEN
            }
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Rule { code, .. } if *code == hongdun_app::REGISTRY_LOADING => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Validation(_) | AppError::Rule { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A malformed request (bad JSON, a bad query parameter).
    pub fn bad_request(
        code: &'static str,
        message: impl Into<String>,
        field: Option<&str>,
    ) -> Self {
        Self(AppError::Rule {
            code,
            message: message.into(),
            field: field.map(str::to_owned),
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self.0 {
            AppError::Rule { code, .. } if code.starts_with("invalid_") => StatusCode::BAD_REQUEST,
            _ => self.status(),
        };
        if let AppError::Internal(detail) = &self.0 {
            tracing::error!(error = %detail, "internal error");
        }
        let body = ErrorBody {
            code: self.0.code().to_owned(),
            message: self.0.message_zh(),
            fields: self.0.fields().into_iter().map(Into::into).collect(),
        };
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // A first import of the register: a minute or two at province scale.
            return (
                status,
                [(axum::http::header::RETRY_AFTER, "60")],
                Json(body),
            )
                .into_response();
        }
        (status, Json(body)).into_response()
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        // The rejection text names the path of the bad field when serde knows it.
        Self::bad_request(
            "invalid_json",
            format!("请求体不是有效的 JSON 或字段类型不符：{}", r.body_text()),
            None,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A first import of the register under way: 503, a retry hint and the
    /// stable code, not a 500 or "not found".
    #[test]
    fn a_register_loading_is_answered_503_with_retry_after() {
        let e = ApiError(AppError::from(hongdun_store::StoreError::RegisterLoading));
        assert_eq!(e.0.code(), hongdun_app::REGISTRY_LOADING);
        assert!(e.0.message_zh().contains("首次批量导入"));
        let r = e.into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[axum::http::header::RETRY_AFTER], "60");
    }
}
