//! The use-case error: a stable code, a zh-CN message, and field paths.
use hongdun_core::Coded;
use hongdun_store::StoreError;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// The code of `StoreError::RegisterLoading`: answered 503, to be retried.
pub const REGISTRY_LOADING: &str = "registry_loading";

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not signed in")]
    Unauthenticated,
    #[error("wrong username or password")]
    BadCredentials,
    #[error("account locked")]
    AccountLocked { minutes: i64 },
    #[error("account disabled")]
    AccountDisabled,
    #[error("forbidden")]
    Forbidden,
    #[error("csrf token missing or wrong")]
    Csrf,
    #[error("not found")]
    NotFound,
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("conflict on {field}")]
    Conflict { field: String },
    /// A domain rule refused the request (e.g. `calendar_year_missing`).
    #[error("{code}")]
    Rule {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, code, message)])
    }

    pub fn rule<E: Coded>(e: &E, field: Option<&str>) -> Self {
        Self::Rule {
            code: e.code(),
            message: e.message_zh(),
            field: field.map(str::to_owned),
        }
    }

    /// The stable machine code the console switches on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "auth_required",
            Self::BadCredentials => "auth_failed",
            Self::AccountLocked { .. } => "account_locked",
            Self::AccountDisabled => "account_disabled",
            Self::Forbidden => "forbidden",
            Self::Csrf => "csrf_failed",
            Self::NotFound => "not_found",
            Self::Validation(_) => "validation_failed",
            Self::Conflict { .. } => "conflict",
            Self::Rule { code, .. } => code,
            Self::Internal(_) => "internal",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            Self::Unauthenticated => "请先登录".into(),
            Self::BadCredentials => "用户名或密码错误".into(),
            Self::AccountLocked { minutes } => {
                format!("登录失败次数过多，账号已锁定，请 {minutes} 分钟后再试或联系管理员解锁")
            }
            Self::AccountDisabled => "账号已停用，请联系管理员".into(),
            Self::Forbidden => "没有执行此操作的权限".into(),
            Self::Csrf => "请求缺少有效的 CSRF 令牌，请刷新页面后重试".into(),
            Self::NotFound => "记录不存在或不在您的管辖范围内".into(),
            Self::Validation(errs) => match errs.as_slice() {
                [one] => one.message.clone(),
                _ => "提交的数据有误，请检查标出的字段".into(),
            },
            Self::Conflict { field } => format!("{field} 已存在，不能重复"),
            Self::Rule { message, .. } => message.clone(),
            Self::Internal(_) => "服务器内部错误，请稍后重试".into(),
        }
    }

    pub fn fields(&self) -> Vec<FieldError> {
        match self {
            Self::Validation(errs) => errs.clone(),
            Self::Conflict { field } => vec![FieldError::new(
                field,
                "duplicate",
                format!("{field} 已存在"),
            )],
            Self::Rule {
                code,
                message,
                field: Some(f),
            } => vec![FieldError::new(f, code, message.clone())],
            _ => Vec::new(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict { field } => Self::Conflict { field },
            StoreError::MissingReference => Self::Rule {
                code: "reference_missing",
                message: "引用的记录不存在".into(),
                field: None,
            },
            StoreError::RegisterLoading => Self::Rule {
                code: REGISTRY_LOADING,
                message: "经营主体名录正在进行首次批量导入，导入完成后才能新增、修改或按代码查询经营主体，请稍后再试"
                    .into(),
                field: None,
            },
            StoreError::Other(m) => Self::Internal(m),
        }
    }
}
