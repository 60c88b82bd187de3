//! The web console (`web/`, built by Vite into `web/dist`), served at `/`.
//!
//! Release builds carry the files inside the binary — a government intranet has
//! no CDN and the bureau copies one file; debug builds read `web/dist` from
//! disk, so `npm run build` shows up without recompiling. Any path that is not
//! a file is a console route and gets `index.html` (the router runs in the
//! browser); `/api/…` paths never do.
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../web/dist"]
#[allow_missing = true]
struct Dist;

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>红盾</title>\
<p>控制台尚未构建：请在仓库根目录运行 <code>make web</code>（或 <code>make demo</code>）。\
<p>The console is not built: run <code>make web</code>.";

/// The console's answer for a path no API route took.
pub async fn serve(method: Method, uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    if method != Method::GET && method != Method::HEAD {
        return crate::not_found().await.into_response();
    }
    if let Some(file) = (!path.is_empty()).then(|| Dist::get(path)).flatten() {
        let mime = mime_of(path);
        // Vite names assets by content hash: they never change under one name.
        let cache = if path.starts_with("assets/") {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        return (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
                (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            ],
            file.data,
        )
            .into_response();
    }
    if path.starts_with("assets/") || path.rsplit('/').next().is_some_and(|l| l.contains('.')) {
        // A missing file (an old hashed asset, a typo) is a 404, not the app.
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    match Dist::get("index.html") {
        Some(index) => (
            [(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))],
            Html(index.data),
        )
            .into_response(),
        None => Html(NOT_BUILT).into_response(),
    }
}

fn mime_of(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
