//! Extractors: the signed-in caller (`Auth`), the request's origin, JSON bodies
//! with our error shape, and query parameters parsed with field errors.
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use hongdun_app::auth::Origin;
use hongdun_app::{AppError, Credential, Principal};
use std::collections::HashMap;
use std::net::SocketAddr;

pub const SESSION_COOKIE: &str = "hongdun_session";
pub const CSRF_COOKIE: &str = "hongdun_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A JSON body whose rejection is an `ApiError`.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Where the request came from, for logs and the sign-in log.
pub fn origin(parts: &Parts, trust_forwarded_for: bool) -> Origin {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let forwarded = trust_forwarded_for
        .then(|| parts.headers.get("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|s| s.trim().to_owned());
    let text = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(256).collect::<String>())
    };
    Origin {
        ip: forwarded.or(peer),
        user_agent: text("user-agent"),
        request_id: text("x-request-id"),
    }
}

pub struct RequestOrigin(pub Origin);

impl FromRequestParts<AppState> for RequestOrigin {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Self(origin(parts, state.http.trust_forwarded_for)))
    }
}

/// The signed-in caller: a session cookie (with the CSRF header on
/// state-changing requests) or `Authorization: Bearer hdt_…`.
pub struct Auth(pub Principal);

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let origin = origin(parts, state.http.trust_forwarded_for);
        let bearer = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if let Some(token) = bearer {
            return Ok(Self(
                state.app.token_principal(token.trim(), &origin).await?,
            ));
        }
        let secret = cookie(&parts.headers, SESSION_COOKIE).ok_or(AppError::Unauthenticated)?;
        let p = state.app.session_principal(secret, &origin).await?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let Credential::Session { csrf_token, .. } = &p.credential else {
                return Err(AppError::Unauthenticated.into());
            };
            if !constant_time_eq(sent, csrf_token) {
                return Err(AppError::Csrf.into());
            }
        }
        Ok(Self(p))
    }
}

/// Raw query parameters, parsed field by field so every error names its field.
pub struct Params(pub HashMap<String, String>);

impl FromRequestParts<AppState> for Params {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        let q = parts.uri.query().unwrap_or("");
        let map: HashMap<String, String> = serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .map_err(|_| ApiError::bad_request("invalid_query", "查询参数格式错误", None))?
            .into_iter()
            .collect();
        Ok(Self(map))
    }
}

impl Params {
    pub fn text(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    pub fn int(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<Option<i64>, ApiError> {
        let Some(raw) = self.text(name) else {
            return Ok(None);
        };
        let v: i64 = raw.parse().map_err(|_| {
            ApiError::bad_request("invalid_param", format!("参数 {name} 应为整数"), Some(name))
        })?;
        if !range.contains(&v) {
            return Err(ApiError::bad_request(
                "invalid_param",
                format!("参数 {name} 应在 {}–{} 之间", range.start(), range.end()),
                Some(name),
            ));
        }
        Ok(Some(v))
    }

    pub fn date(&self, name: &str) -> Result<Option<chrono::NaiveDate>, ApiError> {
        let Some(raw) = self.text(name) else {
            return Ok(None);
        };
        hongdun_core::calendar::parse_date(raw)
            .map(Some)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_param",
                    format!("参数 {name} 应为 YYYY-MM-DD 格式的日期"),
                    Some(name),
                )
            })
    }

    pub fn required<T>(v: Option<T>, name: &str) -> Result<T, ApiError> {
        v.ok_or_else(|| {
            ApiError::bad_request("invalid_param", format!("缺少参数 {name}"), Some(name))
        })
    }

    pub fn paging(&self) -> Result<hongdun_store::Paging, ApiError> {
        let page = self.int("page", 1..=1_000_000)?.unwrap_or(1);
        let per_page = self
            .int("per_page", 1..=hongdun_store::Paging::MAX_PER_PAGE)?
            .unwrap_or(20);
        Ok(hongdun_store::Paging::new(page, per_page))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn ints_dates_and_paging() {
        let p = params(&[
            ("days", " 7 "),
            ("bad", "7x"),
            ("neg", "-1"),
            ("d", "2026-09-30"),
            ("page", "0"),
        ]);
        assert_eq!(p.int("days", 0..=10).unwrap(), Some(7));
        assert_eq!(p.int("missing", 0..=10).unwrap(), None);
        assert_eq!(p.int("bad", 0..=10).unwrap_err().0.code(), "invalid_param");
        assert_eq!(p.int("neg", 0..=10).unwrap_err().0.fields()[0].field, "neg");
        assert_eq!(p.date("d").unwrap().unwrap().to_string(), "2026-09-30");
        assert!(p.paging().is_err(), "page 0 is refused");
        assert_eq!(
            params(&[]).paging().unwrap(),
            hongdun_store::Paging::new(1, 20)
        );
    }

    proptest! {
        #[test]
        fn int_parser_is_total(v in "\\PC{0,24}") {
            let p = params(&[("n", &v)]);
            match p.int("n", -5..=5) {
                Ok(Some(n)) => prop_assert!((-5..=5).contains(&n) && v.trim().parse::<i64>() == Ok(n)),
                Ok(None) => prop_assert!(v.trim().is_empty()),
                Err(e) => prop_assert_eq!(e.0.fields()[0].field.clone(), "n".to_owned()),
            }
        }

        #[test]
        fn date_parser_is_total(v in "\\PC{0,16}", y in 1900i32..2200, m in 1u32..13, d in 1u32..29) {
            let _ = params(&[("d", &v)]).date("d");
            let s = format!("{y:04}-{m:02}-{d:02}");
            prop_assert_eq!(params(&[("d", &s)]).date("d").unwrap().unwrap().to_string(), s);
        }

        #[test]
        fn query_strings_never_panic(q in "\\PC{0,64}") {
            let _ = serde_urlencoded::from_str::<Vec<(String, String)>>(&q);
        }
    }
}
