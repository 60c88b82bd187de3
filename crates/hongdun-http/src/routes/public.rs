//! What the public sees without signing in: the merchant lookup API, the
//! mobile licence page `/m/{uscc}` and its QR code for the shop window. Rate
//! limited per client address; nothing personal is ever in an answer.
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Params};
use crate::routes::system::Items;
use crate::AppState;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use governor::{DefaultKeyedRateLimiter, Quota};
use hongdun_app::registry::PublicMerchant;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

pub fn router(state: &AppState) -> Router<AppState> {
    let limiter = NonZeroU32::new(state.http.public_rate_per_minute).map(|n| {
        Arc::new(DefaultKeyedRateLimiter::<IpAddr>::keyed(Quota::per_minute(
            n,
        )))
    });
    Router::new()
        .route("/api/public/v1/merchants", get(public_search))
        .route("/api/public/v1/merchants/{uscc}", get(public_merchant))
        .route("/m/{uscc}", get(merchant_page))
        .route("/m/{uscc}/qr.svg", get(merchant_qr))
        .route("/api/public/v1/inspections", get(public_inspections))
        .route(
            "/api/public/v1/draws/verify",
            axum::routing::post(verify_draw).layer(axum::extract::DefaultBodyLimit::max(256 << 20)),
        )
        .route("/verify", get(verify_page))
        .merge(crate::routes::complaint::public_router())
        .merge(crate::routes::food::public_router())
        .merge(crate::routes::alert::public_router())
        .merge(crate::routes::sample::public_router())
        .layer(axum::middleware::from_fn_with_state(limiter, rate_limit))
}

async fn rate_limit(
    State(limiter): State<Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>>,
    req: Request,
    next: Next,
) -> Response {
    if let Some(limiter) = limiter {
        let ip = req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        if limiter.check_key(&ip).is_err() {
            let e = ApiError::bad_request("rate_limited", "请求过于频繁，请稍后再试", None);
            let mut resp = e.into_response();
            *resp.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
            return resp;
        }
    }
    next.run(req).await
}

#[utoipa::path(get, path = "/api/public/v1/merchants", tag = "public",
    params(("q" = String, Query, description = "商户名称，至少两个字")),
    responses((status = 200, description = "up to 20 merchants, nothing personal"), (status = 422, body = ErrorBody)))]
pub async fn public_search(
    State(s): State<AppState>,
    q: Params,
) -> ApiResult<Json<Items<PublicMerchant>>> {
    let text = Params::required(q.text("q"), "q")?;
    Ok(Json(Items {
        items: s.app.public_search(text).await?,
    }))
}

#[utoipa::path(get, path = "/api/public/v1/merchants/{uscc}", tag = "public",
    responses((status = 200, description = "name, kind, address, status and licences with validity"),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 503, description = "registry_loading: the register's first import is under way", body = ErrorBody)))]
pub async fn public_merchant(
    State(s): State<AppState>,
    Path(uscc): Path<String>,
) -> ApiResult<Json<PublicMerchant>> {
    Ok(Json(s.app.public_merchant(&uscc).await?))
}

pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{margin:0;font:16px/1.6 -apple-system,"PingFang SC","Microsoft YaHei",sans-serif;background:#f4f5f7;color:#1f2329}}
header{{background:#c8102e;color:#fff;padding:14px 16px;font-weight:600}}
main{{padding:12px}} .card{{background:#fff;border-radius:10px;padding:14px 16px;margin-bottom:12px}}
h1{{font-size:20px;margin:0 0 6px}} .muted{{color:#646a73;font-size:14px}}
.tag{{display:inline-block;border-radius:4px;padding:0 6px;font-size:13px;margin-left:6px}}
.valid{{background:#e8f7ee;color:#1a7f37}} .expiring{{background:#fff4e5;color:#b35c00}}
.expired,.inactive{{background:#fdecec;color:#c8102e}} dl{{margin:0}} dt{{color:#646a73;font-size:13px;margin-top:8px}} dd{{margin:0}}
</style></head><body><header>红盾 · 商户证照查询</header><main>{body}</main></body></html>"#
    )
}

pub(crate) fn validity_label(v: &str) -> &'static str {
    match v {
        "valid" => "有效",
        "expiring" => "即将到期",
        "expired" => "已过期",
        _ => "已失效",
    }
}

/// The licence page behind the QR code in the shop window.
pub async fn merchant_page(State(s): State<AppState>, Path(uscc): Path<String>) -> Response {
    let m = match s.app.public_merchant(&uscc).await {
        Ok(m) => m,
        Err(e) => {
            let status = ApiError::from(e).status();
            let body = if status == StatusCode::SERVICE_UNAVAILABLE {
                page(
                    "名录更新中",
                    r#"<div class="card"><h1>经营主体名录正在更新</h1><p class="muted">请稍后再扫码查询，或拨打 12315 咨询、举报。</p></div>"#,
                )
            } else {
                page(
                    "未找到商户",
                    r#"<div class="card"><h1>未找到该商户</h1><p class="muted">请核对统一社会信用代码，或拨打 12315 咨询、举报。</p></div>"#,
                )
            };
            return (status, Html(body)).into_response();
        }
    };
    let mut licences = String::new();
    for l in &m.licences {
        licences.push_str(&format!(
            r#"<div class="card"><div><b>{}</b><span class="tag {}">{}</span></div><dl><dt>编号</dt><dd>{}</dd><dt>发证机关</dt><dd>{}</dd><dt>有效期</dt><dd>{} 至 {}</dd></dl></div>"#,
            esc(l.kind_label),
            l.validity,
            validity_label(l.validity),
            esc(&l.number),
            esc(l.issuer.as_deref().unwrap_or("—")),
            l.issued_on.map(|d| d.to_string()).unwrap_or_else(|| "—".into()),
            l.expires_on.map(|d| d.to_string()).unwrap_or_else(|| "长期".into()),
        ));
    }
    if licences.is_empty() {
        licences = r#"<div class="card muted">暂无登记的许可证</div>"#.into();
    }
    // 放心消费: ODR and no-reason-return pledges in force.
    if !m.pledges.is_empty() {
        licences.push_str(r#"<div class="card"><b>放心消费承诺</b><div>"#);
        for p in &m.pledges {
            licences.push_str(&format!(
                r#"<span class="tag valid">{}</span>"#,
                esc(p.label)
            ));
        }
        licences.push_str("</div></div>");
    }
    // 阳光厨房: whether the kitchen is live now.
    if let Some(k) = &m.kitchen {
        licences.push_str(&format!(
            r#"<div class="card"><b>阳光厨房</b><span class="tag {}">{}</span><div class="muted">{} 路摄像头：{}</div>{}</div>"#,
            if k.live { "valid" } else { "expiring" },
            if k.live { "直播中" } else { "当前离线" },
            k.cameras,
            esc(&k.places.join("、")),
            k.watch_url
                .as_deref()
                .map(|u| format!(r#"<a href="{}">观看后厨直播</a>"#, esc(u)))
                .unwrap_or_default(),
        ));
    }
    // 一公开: the published results of random inspections (no class, no names).
    let inspections = s.app.public_inspections(&uscc).await.unwrap_or_default();
    if !inspections.is_empty() {
        licences.push_str(r#"<div class="card"><b>双随机抽查结果</b><dl>"#);
        for i in inspections.iter().take(10) {
            licences.push_str(&format!(
                "<dt>{} · {}</dt><dd>{}（{}）</dd>",
                i.visited_on,
                esc(&i.authority),
                esc(&i.outcome),
                esc(&i.plan_name)
            ));
        }
        licences.push_str("</dl></div>");
    }
    let body = format!(
        r#"<div class="card"><h1>{}</h1><div class="muted">{} · {}</div><dl><dt>统一社会信用代码</dt><dd>{}</dd><dt>经营场所</dt><dd>{}</dd><dt>法定代表人/经营者</dt><dd>{}</dd></dl></div>{}<p class="muted">信息来自市场监管部门登记系统。发现问题请拨打 12315，或<a href="/complaint?uscc={}">在线投诉举报</a>。</p>"#,
        esc(&m.name),
        esc(m.kind_label),
        esc(m.status_label),
        esc(m.uscc.as_deref().unwrap_or("")),
        esc(m.address.as_deref().unwrap_or("—")),
        esc(m.legal_rep.as_deref().unwrap_or("—")),
        licences,
        esc(m.uscc.as_deref().unwrap_or("")),
    );
    Html(page(&format!("{} - 证照信息", esc(&m.name)), &body)).into_response()
}

/// The address printed QR codes point at: the configured public URL, else the
/// host this request came to.
pub(crate) fn public_base(s: &AppState, headers: &HeaderMap) -> String {
    match &s.http.public_url {
        Some(u) => u.trim_end_matches('/').to_owned(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    }
}

/// A printable QR code (SVG) that opens `/m/{uscc}`.
pub async fn merchant_qr(
    State(s): State<AppState>,
    Path(uscc): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    // Only codes of merchants that exist get a QR code.
    let m = s.app.public_merchant(&uscc).await?;
    let code = m.uscc.unwrap_or_default();
    let base = public_base(&s, &headers);
    let url = format!("{base}/m/{code}");
    let qr = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| ApiError(hongdun_app::AppError::Internal(e.to_string())))?;
    let svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(320, 320)
        .quiet_zone(true)
        .build();
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

#[utoipa::path(get, path = "/api/public/v1/inspections", tag = "public",
    params(("uscc" = String, Query, description = "统一社会信用代码")),
    responses((status = 200, description = "published inspection results (双随机、一公开); no risk class, no names")))]
pub async fn public_inspections(
    State(s): State<AppState>,
    q: Params,
) -> ApiResult<Json<Items<hongdun_store::PublicInspection>>> {
    let uscc = Params::required(q.text("uscc"), "uscc")?;
    Ok(Json(Items {
        items: s.app.public_inspections(uscc).await?,
    }))
}

#[utoipa::path(post, path = "/api/public/v1/draws/verify", tag = "public",
    request_body(content = Object, description = "a draw export (draw-N.json) as the body"),
    responses((status = 200, body = hongdun_app::inspection::VerifyReport), (status = 422, body = ErrorBody)))]
pub async fn verify_draw(
    body: axum::body::Bytes,
) -> ApiResult<Json<hongdun_app::inspection::VerifyReport>> {
    // Re-deriving a large draw is CPU work: off the async workers.
    let report =
        tokio::task::spawn_blocking(move || hongdun_app::inspection::verify_draw_export(&body))
            .await
            .map_err(|e| ApiError::from(hongdun_app::AppError::Internal(e.to_string())))??;
    Ok(Json(report))
}

/// Anyone can check a published draw: choose the export file, the page sends it
/// to the verification API and shows whether the draw re-derives identically.
pub async fn verify_page() -> Html<String> {
    Html(page(
        "抽取结果核验",
        r#"<div class="card"><h1>双随机抽取结果核验</h1>
<p class="muted">选择监管部门公布的抽取结果文件（draw-编号.json）。本页按公布的随机种子、冻结名录和抽取算法重新计算，核对抽中的检查对象和检查组是否一致。</p>
<input id="f" type="file" accept=".json,application/json">
<div id="out" style="margin-top:12px"></div></div>
<script>
document.getElementById('f').addEventListener('change', async (ev) => {
  const out = document.getElementById('out');
  const file = ev.target.files[0];
  if (!file) return;
  out.textContent = '正在核验…';
  try {
    const r = await fetch('/api/public/v1/draws/verify', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: await file.text()});
    const j = await r.json();
    out.innerHTML = '';
    const h = document.createElement('h2');
    if (!r.ok) { h.textContent = '无法核验：' + j.message; out.append(h); return; }
    h.textContent = j.identical ? '一致：重新计算的结果与公布结果完全相同' : '不一致：公布结果与重新计算的结果不同';
    h.style.color = j.identical ? '#1a7f37' : '#cf222e';
    out.append(h);
    const dl = document.createElement('dl');
    for (const [k, v] of [['名录对象数', j.candidates], ['抽中对象数', j.picks], ['种子 SHA-256', j.seed_hash], ['名录 SHA-256', j.candidates_sha256]]) {
      const dt = document.createElement('dt'); dt.textContent = k;
      const dd = document.createElement('dd'); dd.textContent = v; dd.style.wordBreak = 'break-all';
      dl.append(dt, dd);
    }
    out.append(dl);
    for (const d of j.differences) { const p = document.createElement('p'); p.textContent = d; out.append(p); }
  } catch (e) { out.textContent = '核验失败：' + e; }
});
</script>"#,
    ))
}
