//! AI capture alerts (AI 抓拍预警): ingest from edge boxes, triage, the hazard a
//! confirmed alert opens, the business's reply link, false-positive rates.
//! The rules are in `hongdun_core::alert`; the rectification is the hazard
//! loop's (`inspection.rs`), so an alert ends only by a person: dismissed, or
//! its hazard closed by a passing re-check.
use crate::auth::{random_hex, sha256_hex};
use crate::inspection::today_cn;
use crate::{App, AppError, AppResult, Principal};
use base64::Engine;
use chrono::{DateTime, Duration, NaiveDate, SubsecRound, Utc};
use hongdun_core::alert::{self, AlertError, AlertStatus};
use hongdun_core::inspection::{hazard_next, HazardAction, HazardState};
use hongdun_core::kitchen;
use hongdun_store::{
    Alert, AlertAccepted, AlertQuery, AuditCtx, HazardEvent, HazardStep, NewAlert, NewFile,
    NewHazard, Page, ScopeFilter, StoreError,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Most reports in one request (snapshots make them large).
pub const MAX_ALERTS: usize = 200;
/// Working days a confirmed alert's order gives when the triager names none.
pub const DEFAULT_ALERT_DEADLINE_DAYS: u32 = 3;

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertReport {
    /// The camera's 20-digit national device id.
    pub device_id: String,
    /// A code of the violation dictionary (no_mask, rodent …).
    pub kind: String,
    /// 0 < confidence ≤ 1.
    pub confidence: f64,
    /// When the box saw it; defaults to now.
    pub at: Option<DateTime<Utc>>,
    /// The snapshot, a JPEG or PNG in Base64 (≤ 2 MB decoded).
    pub snapshot: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertBatch {
    /// The AI vendor (defaults to the camera's vendor).
    pub vendor: Option<String>,
    pub alerts: Vec<AlertReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlertAcceptance {
    pub index: usize,
    #[serde(flatten)]
    pub outcome: AlertAccepted,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlertReceipt {
    pub accepted: Vec<AlertAcceptance>,
    pub rejected: Vec<crate::food::BeatRejection>,
}

/// Where an alert stands, for people.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertView {
    #[serde(flatten)]
    pub alert: Alert,
    pub kind_label: &'static str,
    pub place_label: &'static str,
    /// pending, dismissed, rectifying, closed
    pub stage: &'static str,
    pub stage_label: &'static str,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TriageInput {
    /// confirm or dismiss
    pub action: String,
    /// Required to dismiss: why it is a false positive.
    pub note: Option<String>,
    /// Working days to rectify (confirm; default 3).
    pub deadline_days: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TriageOutcome {
    pub alert: AlertView,
    /// The business's reply token (confirm only); shown once.
    pub reply_token: Option<String>,
}

/// Triaged counts and the false-positive rate of one kind or vendor.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FalsePositiveRow {
    pub key: String,
    pub label: String,
    pub pending: i64,
    pub confirmed: i64,
    pub dismissed: i64,
    /// dismissed / (confirmed + dismissed); null when nothing was triaged.
    pub false_positive_rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertFigures {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub total: FalsePositiveRow,
    pub by_kind: Vec<FalsePositiveRow>,
    pub by_vendor: Vec<FalsePositiveRow>,
}

/// What the business sees through its reply link: nothing about other
/// businesses, nobody's personal data.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplyView {
    pub business: String,
    pub category: String,
    pub description: String,
    pub state: HazardState,
    pub state_label: &'static str,
    pub deadline: Option<NaiveDate>,
    /// Whether the business can answer now (ordered or reported).
    pub open: bool,
    /// Steps so far: action, state and time only (no names).
    pub steps: Vec<ReplyStep>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplyStep {
    pub at: DateTime<Utc>,
    pub action: String,
    pub state_label: &'static str,
    pub note: Option<String>,
}

fn view(a: Alert) -> AlertView {
    let (stage, stage_label) = match (a.status, a.hazard_state) {
        (AlertStatus::Pending, _) => ("pending", "待研判"),
        (AlertStatus::Dismissed, _) => ("dismissed", "已排除（误报）"),
        (AlertStatus::Confirmed, Some(HazardState::Closed)) => ("closed", "已整改销号"),
        (AlertStatus::Confirmed, _) => ("rectifying", "整改中"),
    };
    AlertView {
        kind_label: alert::violation_label(&a.kind).unwrap_or("其他"),
        place_label: kitchen::place_label(&a.place).unwrap_or("其他"),
        stage,
        stage_label,
        alert: a,
    }
}

fn tally_row(
    key: String,
    label: String,
    pending: i64,
    confirmed: i64,
    dismissed: i64,
) -> FalsePositiveRow {
    FalsePositiveRow {
        key,
        label,
        pending,
        confirmed,
        dismissed,
        false_positive_rate: alert::false_positive_rate(confirmed, dismissed),
    }
}

/// China-time wall clock of an instant, for descriptions.
fn cst(t: DateTime<Utc>) -> String {
    (t + Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The hazard a confirmed alert opens and its rectification order, taken on
/// `today` with `deadline`.
pub(crate) fn confirmation(
    a: &Alert,
    note: Option<&str>,
    today: NaiveDate,
    deadline: NaiveDate,
) -> (NewHazard, HazardStep) {
    let label = alert::violation_label(&a.kind).unwrap_or("其他");
    let mut description = format!(
        "AI 抓拍：{label}。摄像头 {}（{}），{} 起",
        a.device_id,
        kitchen::place_label(&a.place).unwrap_or("其他"),
        cst(a.first_at)
    );
    if a.repeats > 1 {
        description.push_str(&format!("，至 {} 共 {} 次", cst(a.last_at), a.repeats));
    }
    description.push_str(&format!("，置信度 {:.0}%。", a.confidence * 100.0));
    if let Some(n) = note {
        description.push_str(n);
    }
    let hazard = NewHazard {
        unit_id: a.unit_id,
        entity_id: Some(a.entity_id),
        place: a.entity_name.clone(),
        task_id: None,
        category: "food".into(),
        description,
        found_on: (a.first_at + Duration::hours(8)).date_naive(),
    };
    let order = HazardStep {
        from: HazardState::Reported,
        to: hazard_next(HazardState::Reported, &HazardAction::Order)
            .expect("the transition table orders a reported hazard"),
        action: "order".into(),
        note: Some(format!("AI 预警 #{} 经人工确认，责令整改", a.id)),
        evidence: a
            .snapshot_id
            .map(|f| format!("file:{f}"))
            .into_iter()
            .collect(),
        deadline: Some(deadline),
        today,
    };
    (hazard, order)
}

impl App {
    /// Reports from an edge box. Each is checked on its own: the good ones are
    /// kept (a repeat merged), the bad ones returned by index.
    pub async fn ingest_alerts(
        &self,
        p: &Principal,
        batch: &AlertBatch,
    ) -> AppResult<AlertReceipt> {
        let scope = self.authorize(p, "food:alert:ingest").await?;
        if batch.alerts.len() > MAX_ALERTS {
            return Err(AppError::field(
                "alerts",
                "too_many",
                format!("每次最多上报 {MAX_ALERTS} 条预警"),
            ));
        }
        let map = self.camera_map().await?;
        let now = Utc::now();
        let mut rejected = Vec::new();
        let mut good = Vec::new();
        for (index, r) in batch.alerts.iter().enumerate() {
            let reject = |code: &'static str, message: String| crate::food::BeatRejection {
                index,
                device_id: r.device_id.clone(),
                code,
                message,
            };
            let Some(cam) = map
                .camera(r.device_id.trim())
                .filter(|c| scope.allows(Some(c.unit_id), None))
            else {
                rejected.push(reject(
                    "camera_unknown",
                    "设备未登记或不在本接口的管辖范围内".into(),
                ));
                continue;
            };
            let at = r.at.unwrap_or(now).trunc_subsecs(0);
            let checked = alert::check(&r.kind, r.confidence).and_then(|()| {
                if at > now + Duration::minutes(2) {
                    Err(AlertError::Future)
                } else if at < now - Duration::hours(alert::MAX_AGE_HOURS) {
                    Err(AlertError::TooOld)
                } else {
                    Ok(())
                }
            });
            let snapshot = match (checked, r.snapshot.as_deref().map(str::trim)) {
                (Err(e), _) => Err(e),
                (Ok(()), None | Some("")) => Ok(None),
                (Ok(()), Some(b64)) => decode_snapshot(b64).map(|(bytes, ty)| {
                    Some(NewFile {
                        sha256: hex::encode(Sha256::digest(&bytes)),
                        name: format!(
                            "alert-{}-{}.{}",
                            cam.device_id,
                            (at + Duration::hours(8)).format("%Y%m%d%H%M%S"),
                            if ty == "image/png" { "png" } else { "jpg" }
                        ),
                        content_type: ty.into(),
                        data: bytes,
                        unit_id: cam.unit_id,
                    })
                }),
            };
            match snapshot {
                Err(e) => rejected.push(reject(e_code(&e), hongdun_core::Coded::message_zh(&e))),
                Ok(snapshot) => good.push((
                    index,
                    NewAlert {
                        camera_id: cam.id,
                        entity_id: cam.entity_id,
                        unit_id: cam.unit_id,
                        kind: r.kind.clone(),
                        vendor: batch
                            .vendor
                            .as_deref()
                            .or(cam.vendor.as_deref())
                            .map(str::trim)
                            .filter(|v| !v.is_empty())
                            .unwrap_or("未注明")
                            .chars()
                            .take(50)
                            .collect(),
                        at,
                        confidence: r.confidence,
                        snapshot,
                    },
                )),
            }
        }
        let window = self
            .setting_i64(
                "alert.merge_window_minutes",
                i64::from(alert::DEFAULT_MERGE_WINDOW),
                1..=240,
            )
            .await;
        let (indexes, alerts): (Vec<usize>, Vec<NewAlert>) = good.into_iter().unzip();
        let outcomes = if alerts.is_empty() {
            Vec::new()
        } else {
            self.store
                .ingest_alerts(&p.audit_ctx(), &alerts, window * 60)
                .await?
        };
        Ok(AlertReceipt {
            accepted: indexes
                .into_iter()
                .zip(outcomes)
                .map(|(index, outcome)| AlertAcceptance { index, outcome })
                .collect(),
            rejected,
        })
    }

    pub async fn list_alerts(&self, p: &Principal, q: &AlertQuery) -> AppResult<Page<AlertView>> {
        let scope = self.authorize(p, "food:alert:list").await?;
        let page = self.store.list_alerts(&scope, q).await?;
        Ok(Page {
            items: page.items.into_iter().map(view).collect(),
            total: page.total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    pub async fn alert_detail(&self, p: &Principal, id: i64) -> AppResult<AlertView> {
        let scope = self.authorize(p, "food:alert:list").await?;
        Ok(view(self.store.get_alert(&scope, id).await?))
    }

    /// A person's verdict on a pending alert.
    pub async fn triage_alert(
        &self,
        p: &Principal,
        id: i64,
        input: &TriageInput,
    ) -> AppResult<TriageOutcome> {
        let scope = self.authorize(p, "food:alert:triage").await?;
        let a = self.store.get_alert(&scope, id).await?;
        if a.status != AlertStatus::Pending {
            return Err(AppError::rule(&AlertError::Triaged, None));
        }
        let note = input
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        let conflict = |e: StoreError| match e {
            StoreError::Conflict { .. } => AppError::rule(&AlertError::Triaged, None),
            other => other.into(),
        };
        match input.action.as_str() {
            "dismiss" => {
                let Some(note) = note else {
                    return Err(AppError::field(
                        "note",
                        "required",
                        "排除预警时请写明理由（如：画面中为猫，非鼠类）",
                    ));
                };
                let a = self
                    .store
                    .dismiss_alert(&p.audit_ctx(), &scope, id, note)
                    .await
                    .map_err(conflict)?;
                Ok(TriageOutcome {
                    alert: view(a),
                    reply_token: None,
                })
            }
            "confirm" => {
                let days = input.deadline_days.unwrap_or(DEFAULT_ALERT_DEADLINE_DAYS);
                if !(1..=365).contains(&days) {
                    return Err(AppError::field(
                        "deadline_days",
                        "invalid",
                        "整改期限应为 1–365 个工作日",
                    ));
                }
                let today = today_cn();
                let deadline = self
                    .calendar()
                    .await?
                    .add_working_days(today, days)
                    .map_err(|e| AppError::rule(&e, Some("deadline_days")))?;
                let (hazard, order) = confirmation(&a, note, today, deadline);
                let ctx = p.audit_ctx();
                let a = self
                    .store
                    .confirm_alert(&ctx, &scope, id, note, &hazard, &order)
                    .await
                    .map_err(conflict)?;
                let token = match a.hazard_id {
                    Some(h) => Some(self.new_reply_link(&ctx, h).await?),
                    None => None,
                };
                Ok(TriageOutcome {
                    alert: view(a),
                    reply_token: token,
                })
            }
            _ => Err(AppError::field("action", "invalid", "未知的操作")),
        }
    }

    async fn new_reply_link(&self, ctx: &AuditCtx, hazard_id: i64) -> AppResult<String> {
        let token = random_hex(16);
        self.store
            .set_reply_link(ctx, hazard_id, &sha256_hex(&token))
            .await?;
        Ok(token)
    }

    /// A new reply link for a hazard of a registered business (the old one stops working).
    pub async fn hazard_reply_link(&self, p: &Principal, hazard_id: i64) -> AppResult<String> {
        let scope = self.authorize(p, "hazard:handle").await?;
        let (h, _) = self.store.get_hazard(&scope, hazard_id).await?;
        if h.entity_id.is_none() {
            return Err(AppError::Rule {
                code: "hazard_no_business",
                message: "该隐患没有关联经营主体，无法生成整改回复链接".into(),
                field: None,
            });
        }
        if h.state == HazardState::Closed {
            return Err(AppError::rule(
                &hongdun_core::inspection::HazardError::NotAllowed(h.state),
                None,
            ));
        }
        self.new_reply_link(&p.audit_ctx(), hazard_id).await
    }

    async fn hazard_of_reply(
        &self,
        token: &str,
    ) -> AppResult<(hongdun_store::Hazard, Vec<HazardEvent>)> {
        let token = token.trim();
        if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AppError::NotFound);
        }
        let id = self
            .store
            .hazard_by_reply(&sha256_hex(&token.to_ascii_lowercase()))
            .await?;
        Ok(self.store.get_hazard(&ScopeFilter::All, id).await?)
    }

    /// What the business's reply link shows.
    pub async fn reply_view(&self, token: &str) -> AppResult<ReplyView> {
        let (h, events) = self.hazard_of_reply(token).await?;
        Ok(ReplyView {
            business: h.place.clone(),
            category: crate::inspection::HAZARD_CATEGORIES
                .iter()
                .find(|(c, _)| *c == h.category)
                .map_or("其他", |(_, l)| *l)
                .into(),
            description: h.description.clone(),
            state: h.state,
            state_label: h.state.label_zh(),
            deadline: h.deadline,
            open: matches!(h.state, HazardState::Reported | HazardState::Ordered),
            steps: events
                .into_iter()
                .map(|e| ReplyStep {
                    at: e.at,
                    action: e.action,
                    state_label: e.state.label_zh(),
                    note: e.note,
                })
                .collect(),
        })
    }

    /// The business answers its rectification order with photos: the hazard's
    /// `submit` step, awaiting a person's re-check.
    pub async fn reply_to_hazard(
        &self,
        token: &str,
        note: Option<&str>,
        photos: Vec<(String, Vec<u8>)>,
        request_id: Option<String>,
    ) -> AppResult<ReplyView> {
        let (h, _) = self.hazard_of_reply(token).await?;
        if photos.is_empty() {
            return Err(AppError::field("photos", "required", "请上传整改后的照片"));
        }
        if photos.len() > 9 {
            return Err(AppError::field(
                "photos",
                "too_many",
                "每次最多上传 9 张照片",
            ));
        }
        let to = hazard_next(
            h.state,
            &HazardAction::Submit {
                evidence: photos.len(),
            },
        )
        .map_err(|e| AppError::rule(&e, None))?;
        let ctx = AuditCtx {
            actor_user_id: None,
            actor_name: format!("经营者回复：{}", h.place),
            unit_id: Some(h.unit_id),
            request_id,
        };
        let mut evidence = Vec::new();
        for (i, (name, bytes)) in photos.into_iter().enumerate() {
            let file = self
                .checked_file(&name, bytes, h.unit_id)
                .map_err(|e| match e {
                    AppError::Validation(mut errs) => {
                        for f in &mut errs {
                            f.field = format!("photos[{i}]");
                        }
                        AppError::Validation(errs)
                    }
                    other => other,
                })?;
            evidence.push(format!(
                "file:{}",
                self.store.put_file(&ctx, &file).await?.id
            ));
        }
        let step = HazardStep {
            from: h.state,
            to,
            action: "submit".into(),
            note: Some(
                note.map(str::trim)
                    .filter(|n| !n.is_empty())
                    .unwrap_or("经营者已上传整改照片")
                    .chars()
                    .take(500)
                    .collect(),
            ),
            evidence,
            deadline: None,
            today: today_cn(),
        };
        match self
            .store
            .hazard_step(&ctx, &ScopeFilter::All, h.id, &step)
            .await
        {
            Err(StoreError::Conflict { .. }) => {
                return Err(AppError::rule(
                    &hongdun_core::inspection::HazardError::NotAllowed(h.state),
                    None,
                ))
            }
            other => other?,
        };
        self.reply_view(token).await
    }

    /// False-positive rates per kind and vendor of alerts first seen in `[from, to]`.
    pub async fn alert_figures(
        &self,
        p: &Principal,
        from: NaiveDate,
        to: NaiveDate,
    ) -> AppResult<AlertFigures> {
        let scope = self.authorize(p, "food:alert:list").await?;
        if to < from {
            return Err(AppError::field("to", "invalid", "结束日期不能早于开始日期"));
        }
        let tallies = self.store.alert_tallies(&scope, from, to).await?;
        let mut by_kind: std::collections::BTreeMap<String, [i64; 3]> = Default::default();
        let mut by_vendor: std::collections::BTreeMap<String, [i64; 3]> = Default::default();
        let mut total = [0i64; 3];
        for t in &tallies {
            for (map, key) in [(&mut by_kind, &t.kind), (&mut by_vendor, &t.vendor)] {
                let e = map.entry(key.clone()).or_default();
                e[0] += t.pending;
                e[1] += t.confirmed;
                e[2] += t.dismissed;
            }
            total[0] += t.pending;
            total[1] += t.confirmed;
            total[2] += t.dismissed;
        }
        let rows = |m: std::collections::BTreeMap<String, [i64; 3]>, kind: bool| {
            m.into_iter()
                .map(|(k, [p, c, d])| {
                    let label = if kind {
                        alert::violation_label(&k).unwrap_or("其他").to_owned()
                    } else {
                        k.clone()
                    };
                    tally_row(k, label, p, c, d)
                })
                .collect()
        };
        Ok(AlertFigures {
            from,
            to,
            total: tally_row("total".into(), "合计".into(), total[0], total[1], total[2]),
            by_kind: rows(by_kind, true),
            by_vendor: rows(by_vendor, false),
        })
    }
}

fn e_code(e: &AlertError) -> &'static str {
    hongdun_core::Coded::code(e)
}

fn decode_snapshot(b64: &str) -> Result<(Vec<u8>, &'static str), AlertError> {
    // A data URL prefix is tolerated ("data:image/jpeg;base64,…").
    let b64 = b64.split_once(";base64,").map_or(b64, |(_, d)| d);
    if b64.len() > alert::MAX_SNAPSHOT_BYTES / 3 * 4 + 8 {
        return Err(AlertError::Snapshot);
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map_err(|_| AlertError::Snapshot)?;
    if bytes.len() > alert::MAX_SNAPSHOT_BYTES {
        return Err(AlertError::Snapshot);
    }
    let ty = alert::snapshot_type(&bytes).ok_or(AlertError::Snapshot)?;
    Ok((bytes, ty))
}
