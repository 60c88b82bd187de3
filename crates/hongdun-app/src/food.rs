//! 食安在线 (DOMAIN.md §6): delivery seals and sunshine kitchens.
//!
//! **Seals.** A batch of seals is issued to a business; each seal's code is
//! signed with the bureau's key (`hongdun_core::seal`), so the public check
//! refuses a forged code before any database read. A genuine code costs one
//! point read (what happened to that seal) and the merchant's public view;
//! scans are counted in memory and written in one transaction every few
//! seconds (`flush_seal_scans`), so a burst of scans never queues behind the
//! single SQLite writer. A platform binds a seal to an order; a second order is
//! refused and raises a warning. "Seal broken" files a complaint in one step —
//! the complaint workflow is the person's closing step.
//!
//! **Kitchens.** Cameras (GB/T 28181 ids) of a business; gateways post
//! heartbeats with an API token; each beat sets one bit of its camera's hour
//! word. Online rates are computed from those words on read
//! (`hongdun_core::kitchen` holds the definition).
use crate::inspection::today_cn;
use crate::registry::PublicMerchant;
use crate::{App, AppError, AppResult, Principal};
use chrono::{DateTime, NaiveDate, Utc};
use hongdun_core::complaint::{CaseKind, Channel};
use hongdun_core::ids::UnitId;
use hongdun_core::kitchen::{self, ONLINE_TARGET};
use hongdun_core::registry::EntityStatus;
use hongdun_core::seal::{self, SealKey};
use hongdun_core::Coded;
use hongdun_store::{
    AuditCtx, BeatWord, BindOutcome, Camera, CameraPatch, CameraQuery, NewCamera, NewSealBatch,
    NewSealWarning, Page, Paging, ScanTally, ScopeFilter, SealBatch, SealCount, SealUse,
    SealWarning,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// Most seals in one batch (a few hundred A4 sheets).
pub const MAX_BATCH: i32 = 10_000;
/// Most heartbeats in one request.
pub const MAX_BEATS: usize = 10_000;
/// How late a buffered heartbeat may arrive (hours).
const BEAT_MAX_AGE_HOURS: i64 = 48;

/// The keys that verify seals, and the one that signs new batches.
pub(crate) struct Keyring {
    keys: Vec<SealKey>,
    current: Option<u8>,
}

/// Batches by number.
pub(crate) type BatchMap = HashMap<i64, SealBatch>;

/// Every camera, by device id and by business.
pub(crate) struct CameraMap {
    cameras: Vec<Camera>,
    /// The last beat minute of each camera, moved forward by this process's
    /// heartbeats so the public page is current without re-reading the list.
    last_beat: Vec<std::sync::atomic::AtomicI64>,
    by_device: HashMap<String, usize>,
    by_entity: HashMap<i64, Vec<usize>>,
}

impl CameraMap {
    /// The camera with this device id.
    pub(crate) fn camera(&self, device_id: &str) -> Option<&Camera> {
        self.by_device.get(device_id).map(|&i| &self.cameras[i])
    }
}

/// Scans not yet written: (batch, serial) → tally.
#[derive(Default)]
pub(crate) struct ScanBook(std::sync::Mutex<HashMap<(i64, i32), ScanTally>>);

impl ScanBook {
    fn count(&self, batch: &SealBatch, serial: i32, at: DateTime<Utc>) -> i64 {
        let mut book = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let t = book.entry((batch.id, serial)).or_insert(ScanTally {
            batch_id: batch.id,
            serial,
            unit_id: batch.unit_id,
            scans: 0,
            first: at,
            last: at,
        });
        t.scans += 1;
        t.last = at;
        t.scans - 1
    }
    fn take(&self) -> Vec<ScanTally> {
        let mut book = self.0.lock().unwrap_or_else(|p| p.into_inner());
        book.drain().map(|(_, t)| t).collect()
    }
    fn put_back(&self, tallies: Vec<ScanTally>) {
        let mut book = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for t in tallies {
            let e = book
                .entry((t.batch_id, t.serial))
                .or_insert(ScanTally { scans: 0, ..t });
            e.scans += t.scans;
            e.first = e.first.min(t.first);
            e.last = e.last.max(t.last);
        }
    }
}

/// Public merchant views by credit code, each kept for the cache time: a
/// takeout merchant's seals are scanned thousands of times a day and its
/// licences change a few times a year. Bounded: cleared when it grows past
/// `MERCHANT_CACHE_MAX` entries.
#[derive(Default)]
pub(crate) struct MerchantCache(std::sync::Mutex<HashMap<String, CachedMerchant>>);

/// When it was read, the view, and the entity's id (for the live kitchen badge).
type CachedMerchant = (std::time::Instant, Arc<PublicMerchant>, i64);

const MERCHANT_CACHE_MAX: usize = 50_000;
const MERCHANT_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(30);

impl MerchantCache {
    fn get(&self, uscc: &str) -> Option<(Arc<PublicMerchant>, i64)> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(uscc)
            .filter(|(at, _, _)| at.elapsed() < MERCHANT_CACHE_TTL)
            .map(|(_, m, id)| (m.clone(), *id))
    }
    fn put(&self, uscc: &str, m: Arc<PublicMerchant>, entity_id: i64) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MERCHANT_CACHE_MAX {
            map.clear();
        }
        map.insert(uscc.to_owned(), (std::time::Instant::now(), m, entity_id));
    }
}

/// A seal key as the console sees it: never the secret.
#[derive(Debug, Clone, Serialize)]
pub struct SealKeyInfo {
    pub id: u8,
    pub created_at: DateTime<Utc>,
    pub retired: bool,
    /// Signs new batches.
    pub current: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SealBatchInput {
    pub uscc: String,
    pub count: i32,
    #[serde(default)]
    pub note: Option<String>,
}

/// One seal of a batch, for the printed sheet and the console.
#[derive(Debug, Clone, Serialize)]
pub struct SealRow {
    pub serial: i32,
    pub code: String,
    pub pretty: String,
    #[serde(flatten)]
    pub used: Option<SealUse>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SealBatchDetail {
    pub batch: SealBatch,
    pub seals: Vec<SealRow>,
}

/// What a consumer sees after scanning a seal: nothing personal.
#[derive(Debug, Clone, Serialize)]
pub struct PublicSeal {
    pub code: String,
    /// sealed (bound to an order), unbound (issued, never bound), broken
    pub state: &'static str,
    pub state_label: &'static str,
    pub merchant: PublicMerchant,
    pub issued_on: NaiveDate,
    /// When the merchant sealed the bag (bound it to the order).
    pub sealed_at: Option<DateTime<Utc>>,
    pub platform: Option<String>,
    /// The order number's last four characters, to compare with the app.
    pub order_tail: Option<String>,
    /// Scans of this seal before this one.
    pub scans_before: i64,
    /// A caution to show, if any (scanned many times, not yet bound).
    pub notice: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BindInput {
    pub order_no: String,
    #[serde(default)]
    pub platform: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BrokenSealInput {
    /// A complaint needs the complainant's name and phone (never shown publicly).
    #[serde(default)]
    pub name: Option<String>,
    pub phone: String,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SealFigure {
    #[serde(flatten)]
    pub count: SealCount,
    pub unit_name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CameraInput {
    pub device_id: String,
    pub uscc: String,
    #[serde(default)]
    pub channel: Option<i32>,
    pub place: String,
    #[serde(default)]
    pub stream_url: Option<String>,
    #[serde(default)]
    pub vendor: Option<String>,
    /// Counted from this day (default today).
    #[serde(default)]
    pub installed_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CameraPatchInput {
    #[serde(default)]
    pub place: Option<String>,
    #[serde(default)]
    pub channel: Option<i32>,
    #[serde(default)]
    pub stream_url: Option<String>,
    #[serde(default)]
    pub vendor: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// A camera with whether it is online now.
#[derive(Debug, Clone, Serialize)]
pub struct CameraView {
    #[serde(flatten)]
    pub camera: Camera,
    pub place_label: &'static str,
    pub online: bool,
    pub last_beat_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Beat {
    pub device_id: String,
    /// When the camera was seen; default now.
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BeatRejection {
    pub index: usize,
    pub device_id: String,
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BeatReceipt {
    pub accepted: usize,
    pub rejected: Vec<BeatRejection>,
}

/// Online minutes of a group of cameras.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OnlineRow {
    pub key: String,
    pub label: String,
    pub cameras: usize,
    pub online_minutes: u64,
    pub counted_minutes: u64,
    pub rate: Option<f64>,
    pub meets_target: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OnlineReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: String,
    pub target: f64,
    pub window_minutes: u32,
    pub total: OnlineRow,
    pub rows: Vec<OnlineRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CoverageRow {
    pub unit_id: UnitId,
    pub unit_name: String,
    /// Catering businesses in business.
    pub catering: i64,
    /// Of them, with at least one enabled camera.
    pub with_kitchen: i64,
    pub rate: Option<f64>,
}

/// Whether a business's kitchen is live, for the public merchant page.
#[derive(Debug, Clone, Serialize)]
pub struct PublicKitchen {
    pub cameras: usize,
    pub online: usize,
    pub live: bool,
    pub places: Vec<&'static str>,
    /// A web player link, when the merchant publishes one (https only).
    pub watch_url: Option<String>,
}

fn seal_error(e: &seal::SealError) -> AppError {
    AppError::rule(e, Some("code"))
}

fn not_issued() -> AppError {
    AppError::Rule {
        code: "seal_not_issued",
        message: "该封签码未登记发放，请拒收并拨打 12315 反映".into(),
        field: Some("code".into()),
    }
}

fn tail(s: &str, n: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    chars[chars.len().saturating_sub(n)..].iter().collect()
}

impl App {
    // ---- keys ----

    /// Creates the first signing key when there is none (bootstrap).
    pub(crate) async fn ensure_seal_key(&self, ctx: &AuditCtx) -> AppResult<()> {
        if self.store.seal_keys().await?.is_empty() {
            self.store.add_seal_key(ctx, random_secret()?).await?;
        }
        Ok(())
    }

    pub(crate) async fn keyring(&self) -> AppResult<Arc<Keyring>> {
        if let Some(k) = self.seal_keys.fresh() {
            return Ok(k);
        }
        let stored = self.store.seal_keys().await?;
        let current = current_key(&stored);
        let keys = stored
            .into_iter()
            .map(|k| SealKey::new(k.id, k.secret))
            .collect();
        Ok(self.seal_keys.put(Keyring { keys, current }))
    }

    pub async fn seal_key_list(&self, p: &Principal) -> AppResult<Vec<SealKeyInfo>> {
        self.authorize(p, "food:seal:key").await?;
        let stored = self.store.seal_keys().await?;
        let current = current_key(&stored);
        Ok(stored
            .into_iter()
            .map(|k| SealKeyInfo {
                id: k.id,
                created_at: k.created_at,
                retired: k.retired,
                current: Some(k.id) == current,
            })
            .collect())
    }

    /// A new signing key for new batches; earlier seals keep verifying.
    pub async fn rotate_seal_key(&self, p: &Principal) -> AppResult<SealKeyInfo> {
        self.authorize(p, "food:seal:key").await?;
        let ctx = p.audit_ctx();
        let old: Vec<u8> = self
            .store
            .seal_keys()
            .await?
            .into_iter()
            .filter(|k| !k.retired)
            .map(|k| k.id)
            .collect();
        let id = self.store.add_seal_key(&ctx, random_secret()?).await?;
        for k in old {
            self.store.retire_seal_key(&ctx, k).await?;
        }
        self.seal_keys.forget();
        self.seal_key_list(p)
            .await?
            .into_iter()
            .find(|k| k.id == id)
            .ok_or(AppError::NotFound)
    }

    // ---- batches ----

    pub async fn issue_seals(&self, p: &Principal, input: &SealBatchInput) -> AppResult<SealBatch> {
        let scope = self.authorize(p, "food:seal:issue").await?;
        if !(1..=MAX_BATCH).contains(&input.count) {
            return Err(AppError::field(
                "count",
                "out_of_range",
                format!("每批封签数量应在 1 到 {MAX_BATCH} 之间"),
            ));
        }
        let e = self
            .store
            .entity_by_uscc(&scope, &hongdun_core::registry::normalize_code(&input.uscc))
            .await?;
        if e.status != EntityStatus::Active {
            return Err(AppError::field(
                "uscc",
                "entity_not_active",
                format!(
                    "该经营主体登记状态为“{}”，不能发放封签",
                    e.status.label_zh()
                ),
            ));
        }
        let Some(unit_id) = e.unit_id else {
            return Err(AppError::field(
                "uscc",
                "entity_without_unit",
                "该经营主体尚未划入任何监管所，请先补全辖区",
            ));
        };
        let ring = self.keyring().await?;
        let key_id = ring
            .current
            .ok_or_else(|| AppError::Internal("no seal key that is not retired".into()))?;
        let batch = self
            .store
            .create_seal_batch(
                &p.audit_ctx(),
                &NewSealBatch {
                    key_id,
                    entity_id: e.id,
                    unit_id,
                    count: input.count,
                    note: input.note.clone().filter(|s| !s.trim().is_empty()),
                    issued_on: today_cn(),
                },
            )
            .await?;
        self.seal_batches.forget();
        Ok(batch)
    }

    pub async fn seal_batches(
        &self,
        p: &Principal,
        uscc: Option<&str>,
        paging: Paging,
    ) -> AppResult<Page<SealBatch>> {
        let scope = self.authorize(p, "food:seal:list").await?;
        let entity_id = match uscc {
            Some(u) => Some(
                self.store
                    .entity_by_uscc(&scope, &hongdun_core::registry::normalize_code(u))
                    .await?
                    .id,
            ),
            None => None,
        };
        Ok(self
            .store
            .list_seal_batches(&scope, entity_id, paging)
            .await?)
    }

    /// A batch with every seal's code and what happened to it.
    pub async fn seal_batch_detail(&self, p: &Principal, id: i64) -> AppResult<SealBatchDetail> {
        let scope = self.authorize(p, "food:seal:list").await?;
        let batch = self.store.seal_batch(&scope, id).await?;
        let ring = self.keyring().await?;
        let key = ring
            .keys
            .iter()
            .find(|k| i32::from(k.id) == batch.key_id)
            .ok_or_else(|| AppError::Internal(format!("seal key {} missing", batch.key_id)))?;
        let mut uses: HashMap<i32, SealUse> = self
            .store
            .seal_uses(id)
            .await?
            .into_iter()
            .map(|u| (u.serial, u))
            .collect();
        let seals = (1..=batch.count)
            .map(|serial| {
                let code = seal::seal_code(key, batch.id as u32, serial as u16);
                SealRow {
                    serial,
                    pretty: seal::pretty(&code),
                    code,
                    used: uses.remove(&serial),
                }
            })
            .collect();
        Ok(SealBatchDetail { batch, seals })
    }

    async fn batch_map(&self) -> AppResult<Arc<BatchMap>> {
        if let Some(m) = self.seal_batches.fresh() {
            return Ok(m);
        }
        let map = self
            .store
            .all_seal_batches()
            .await?
            .into_iter()
            .map(|b| (b.id, b))
            .collect();
        Ok(self.seal_batches.put(map))
    }

    /// The batch a verified code names, or `seal_not_issued` (with a warning
    /// written: the code carries our signature but was never handed out).
    async fn issued_batch(&self, code: &str, id: seal::SealId) -> AppResult<SealBatch> {
        let batch_id = i64::from(id.batch);
        let cached = self.batch_map().await?.get(&batch_id).cloned();
        let batch = match cached {
            Some(b) => Some(b),
            // Issued by another server since the map was read?
            None => match self.store.seal_batch(&ScopeFilter::All, batch_id).await {
                Ok(b) => {
                    self.seal_batches.forget();
                    Some(b)
                }
                Err(hongdun_store::StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
        };
        let serial = i32::from(id.serial);
        match batch {
            Some(b) if serial >= 1 && serial <= b.count && b.key_id == i32::from(id.key_id) => {
                Ok(b)
            }
            other => {
                self.store
                    .add_seal_warning(&NewSealWarning {
                        kind: "never_issued".into(),
                        code: code.to_owned(),
                        batch_id,
                        serial,
                        unit_id: other.map(|b| b.unit_id),
                        detail: Some(
                            "签名有效但未登记发放的封签码（可能是密钥泄露或印制错误）".into(),
                        ),
                    })
                    .await?;
                Err(not_issued())
            }
        }
    }

    /// Arithmetic check, then the batch: what every seal use starts with.
    async fn genuine_seal(&self, code: &str) -> AppResult<(String, SealBatch, i32)> {
        let ring = self.keyring().await?;
        let id = seal::verify_seal(&ring.keys, code).map_err(|e| seal_error(&e))?;
        // Verified, so it decodes: re-encoding needs no second MAC.
        let canonical =
            seal::canonical(code).ok_or_else(|| seal_error(&seal::SealError::Malformed))?;
        let batch = self.issued_batch(&canonical, id).await?;
        Ok((canonical, batch, i32::from(id.serial)))
    }

    /// The public check of a seal (no sign-in). A forged code is refused by
    /// arithmetic alone; a genuine one is counted as a scan.
    pub async fn check_seal(&self, code: &str) -> AppResult<PublicSeal> {
        let (canonical, batch, serial) = self.genuine_seal(code).await?;
        let used = self.store.seal_use(batch.id, serial).await?;
        let pending = self.scan_book.count(&batch, serial, Utc::now());
        let uscc = batch.uscc.clone().unwrap_or_default();
        let merchant = match self.seal_merchants.get(&uscc) {
            Some((m, entity_id)) => {
                // The kitchen badge stays live; the rest may be 30 s old.
                let mut m = (*m).clone();
                m.kitchen = self.public_kitchen(entity_id).await?;
                m
            }
            None => {
                let m = self.public_merchant(&uscc).await?;
                self.seal_merchants
                    .put(&uscc, Arc::new(m.clone()), batch.entity_id);
                m
            }
        };
        let scans_before = used.as_ref().map_or(0, |u| u.scans) + pending;
        let (state, state_label) = match &used {
            Some(u) if u.broken_at.is_some() => ("broken", "已有消费者报告破损"),
            Some(u) if u.order_no.is_some() => ("sealed", "已封签"),
            _ => ("unbound", "未绑定订单"),
        };
        let notice = if state == "broken" {
            Some("此封签已被报告破损，请勿食用并联系平台".to_owned())
        } else if scans_before >= 3 {
            Some(format!(
                "此封签此前已被扫描 {scans_before} 次，如非本人扫描，封签可能被重复使用，请谨慎"
            ))
        } else if state == "unbound" {
            Some("此封签尚未绑定订单，请与订单核对商家".to_owned())
        } else {
            None
        };
        Ok(PublicSeal {
            code: seal::pretty(&canonical),
            state,
            state_label,
            merchant,
            issued_on: batch.issued_on,
            sealed_at: used.as_ref().and_then(|u| u.bound_at),
            platform: used.as_ref().and_then(|u| u.platform.clone()),
            order_tail: used
                .as_ref()
                .and_then(|u| u.order_no.as_deref())
                .map(|o| tail(o, 4)),
            scans_before,
            notice,
        })
    }

    /// Writes the scans counted since the last call; on failure they are kept
    /// for the next one.
    pub async fn flush_seal_scans(&self) -> AppResult<usize> {
        let tallies = self.scan_book.take();
        let n = tallies.len();
        if let Err(e) = self.store.add_seal_scans(&tallies).await {
            self.scan_book.put_back(tallies);
            return Err(e.into());
        }
        Ok(n)
    }

    /// A platform or the merchant binds a seal to an order.
    pub async fn bind_seal(
        &self,
        p: &Principal,
        code: &str,
        input: &BindInput,
    ) -> AppResult<SealUse> {
        let scope = self.authorize(p, "food:seal:bind").await?;
        let order_no = input.order_no.trim();
        if order_no.is_empty() || order_no.chars().count() > 64 {
            return Err(AppError::field(
                "order_no",
                "required",
                "请填写订单号（不超过 64 个字符）",
            ));
        }
        let (canonical, batch, serial) = self.genuine_seal(code).await?;
        if !scope.allows(Some(batch.unit_id), None) {
            return Err(AppError::NotFound);
        }
        let platform = input
            .platform
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        match self
            .store
            .bind_seal(
                &p.audit_ctx(),
                &batch,
                serial,
                &canonical,
                order_no,
                platform,
            )
            .await?
        {
            BindOutcome::Bound | BindOutcome::Same => {}
            BindOutcome::OtherOrder { order_no } => {
                return Err(AppError::Rule {
                    code: "seal_reused",
                    message: format!(
                        "该封签已绑定订单 {order_no}，不能再用于其他订单（已记录预警）"
                    ),
                    field: Some("code".into()),
                });
            }
        }
        self.store
            .seal_use(batch.id, serial)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// "Seal broken": a complaint against the merchant in one step, linked to
    /// the seal. Returns the complaint's receipt.
    pub async fn report_broken_seal(
        &self,
        code: &str,
        input: &BrokenSealInput,
    ) -> AppResult<crate::complaint::Intake> {
        let (canonical, batch, serial) = self.genuine_seal(code).await?;
        let used = self.store.seal_use(batch.id, serial).await?;
        let mut description = format!("外卖食安封签破损（封签码 {}", seal::pretty(&canonical));
        if let Some(o) = used.as_ref().and_then(|u| u.order_no.as_deref()) {
            description.push_str(&format!("，订单尾号 {}", tail(o, 4)));
        }
        if let Some(pf) = used.as_ref().and_then(|u| u.platform.as_deref()) {
            description.push_str(&format!("，平台 {pf}"));
        }
        description.push('）');
        if let Some(note) = input
            .note
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            description.push('。');
            description.push_str(note);
        }
        let case_input = crate::complaint::CaseInput {
            kind: Some(CaseKind::Complaint),
            channel: Some(Channel::Seal),
            received_on: None,
            external_no: None,
            complainant_name: input.name.clone(),
            complainant_phone: Some(input.phone.clone()),
            complainant_id_number: None,
            complainant_address: None,
            respondent_uscc: batch.uscc.clone(),
            respondent_name: Some(batch.entity_name.clone()),
            respondent_address: None,
            category: "food".into(),
            platform: used.as_ref().and_then(|u| u.platform.clone()),
            amount_involved: None,
            description,
            files: Vec::new(),
            lat: None,
            lng: None,
            unit_id: None,
        };
        let intake = self
            .submit_case(
                crate::complaint::Submitter::Public(Channel::Seal),
                &case_input,
            )
            .await?;
        self.store
            .mark_seal_broken(&batch, serial, &canonical, intake.id)
            .await?;
        Ok(intake)
    }

    pub async fn seal_warnings(
        &self,
        p: &Principal,
        paging: Paging,
    ) -> AppResult<Page<SealWarning>> {
        let scope = self.authorize(p, "food:seal:list").await?;
        Ok(self.store.list_seal_warnings(&scope, paging).await?)
    }

    /// Issued, bound, scanned, broken and warnings per office and month.
    pub async fn seal_figures(
        &self,
        p: &Principal,
        from: NaiveDate,
        to: NaiveDate,
    ) -> AppResult<Vec<SealFigure>> {
        let scope = self.authorize(p, "food:seal:list").await?;
        if to < from {
            return Err(AppError::field("to", "invalid", "结束日期不能早于开始日期"));
        }
        // Scans still in memory count too.
        self.flush_seal_scans().await?;
        let names = self.unit_names().await?;
        Ok(self
            .store
            .seal_counts(&scope, from, to)
            .await?
            .into_iter()
            .map(|c| SealFigure {
                unit_name: names.get(&c.unit_id).cloned().unwrap_or_default(),
                count: c,
            })
            .collect())
    }

    // ---- cameras ----

    /// The camera list (province scale: 100k rows), re-read after the cache
    /// time by one caller while the others keep using the old list.
    pub(crate) async fn camera_map(&self) -> AppResult<Arc<CameraMap>> {
        if let Some(m) = self.cameras.fresh() {
            return Ok(m);
        }
        let _loading = match self.cameras_loading.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                if let Some(stale) = self.cameras.any() {
                    return Ok(stale);
                }
                self.cameras_loading.lock().await
            }
        };
        if let Some(m) = self.cameras.fresh() {
            return Ok(m);
        }
        let cameras = self.store.all_cameras().await?;
        let mut by_device = HashMap::with_capacity(cameras.len());
        let mut by_entity: HashMap<i64, Vec<usize>> = HashMap::new();
        for (i, c) in cameras.iter().enumerate() {
            by_device.insert(c.device_id.clone(), i);
            by_entity.entry(c.entity_id).or_default().push(i);
        }
        let last_beat = cameras
            .iter()
            .map(|c| std::sync::atomic::AtomicI64::new(c.last_beat_minute.unwrap_or(i64::MIN)))
            .collect();
        Ok(self.cameras.put(CameraMap {
            last_beat,
            cameras,
            by_device,
            by_entity,
        }))
    }

    /// The online window in minutes (setting `kitchen.online_window_minutes`).
    pub async fn online_window(&self) -> u32 {
        if let Some(w) = self.online_window.fresh() {
            return *w;
        }
        let w = self
            .setting_i64(
                "kitchen.online_window_minutes",
                i64::from(kitchen::DEFAULT_WINDOW),
                1..=60,
            )
            .await as u32;
        *self.online_window.put(w)
    }

    fn camera_view(c: Camera, now_minute: i64, window: u32) -> CameraView {
        let online = c
            .last_beat_minute
            .is_some_and(|m| now_minute - m < i64::from(window) && c.enabled);
        let last_beat_at = c
            .last_beat_minute
            .and_then(|m| DateTime::from_timestamp(m * 60 - kitchen::CST_OFFSET_SECS, 0));
        CameraView {
            place_label: kitchen::place_label(&c.place).unwrap_or("其他"),
            camera: c,
            online,
            last_beat_at,
        }
    }

    fn check_stream_url(url: Option<&str>) -> AppResult<Option<String>> {
        let Some(u) = url.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        let ok = ["https://", "http://", "rtsp://", "rtmp://"]
            .iter()
            .any(|s| u.starts_with(s))
            && u.len() <= 500;
        if !ok {
            return Err(AppError::field(
                "stream_url",
                "invalid_url",
                "视频地址应以 https://、http://、rtsp:// 或 rtmp:// 开头",
            ));
        }
        Ok(Some(u.to_owned()))
    }

    pub async fn create_camera(&self, p: &Principal, input: &CameraInput) -> AppResult<CameraView> {
        let scope = self.authorize(p, "food:camera:update").await?;
        let mut errs = Vec::new();
        let device_id = match kitchen::check_device_id(&input.device_id) {
            Ok(d) => Some(d),
            Err(e) => {
                errs.push(crate::FieldError::new(
                    "device_id",
                    e.code(),
                    e.message_zh(),
                ));
                None
            }
        };
        if kitchen::place_label(&input.place).is_none() {
            errs.push(crate::FieldError::new(
                "place",
                "invalid",
                "未知的摄像头位置",
            ));
        }
        let channel = input.channel.unwrap_or(1);
        if !(1..=64).contains(&channel) {
            errs.push(crate::FieldError::new(
                "channel",
                "out_of_range",
                "通道号应在 1 到 64 之间",
            ));
        }
        let stream_url = match Self::check_stream_url(input.stream_url.as_deref()) {
            Ok(u) => u,
            Err(AppError::Validation(mut v)) => {
                errs.append(&mut v);
                None
            }
            Err(e) => return Err(e),
        };
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        let e = self
            .store
            .entity_by_uscc(&scope, &hongdun_core::registry::normalize_code(&input.uscc))
            .await?;
        let Some(unit_id) = e.unit_id else {
            return Err(AppError::field(
                "uscc",
                "entity_without_unit",
                "该经营主体尚未划入任何监管所，请先补全辖区",
            ));
        };
        let day = input.installed_on.unwrap_or_else(today_cn);
        let cam = self
            .store
            .create_camera(
                &p.audit_ctx(),
                &NewCamera {
                    device_id: device_id.expect("checked"),
                    entity_id: e.id,
                    unit_id,
                    channel,
                    place: input.place.clone(),
                    stream_url,
                    vendor: input.vendor.clone().filter(|s| !s.trim().is_empty()),
                    installed_minute: kitchen::first_hour(day) * 60,
                },
            )
            .await
            .map_err(|e| match e {
                hongdun_store::StoreError::Conflict { .. } => {
                    AppError::field("device_id", "duplicate", "该设备国标编码已登记")
                }
                other => other.into(),
            })?;
        self.cameras.forget();
        let window = self.online_window().await;
        Ok(Self::camera_view(
            cam,
            kitchen::minute_of(Utc::now()),
            window,
        ))
    }

    pub async fn update_camera(
        &self,
        p: &Principal,
        id: i64,
        input: &CameraPatchInput,
    ) -> AppResult<CameraView> {
        let scope = self.authorize(p, "food:camera:update").await?;
        if let Some(place) = &input.place {
            if kitchen::place_label(place).is_none() {
                return Err(AppError::field("place", "invalid", "未知的摄像头位置"));
            }
        }
        let patch = CameraPatch {
            place: input.place.clone(),
            channel: input.channel,
            stream_url: match &input.stream_url {
                Some(u) => Some(Self::check_stream_url(Some(u))?),
                None => None,
            },
            vendor: input
                .vendor
                .clone()
                .map(|v| Some(v).filter(|s| !s.trim().is_empty())),
            enabled: input.enabled,
        };
        let cam = self
            .store
            .update_camera(&p.audit_ctx(), &scope, id, &patch)
            .await?;
        self.cameras.forget();
        let window = self.online_window().await;
        Ok(Self::camera_view(
            cam,
            kitchen::minute_of(Utc::now()),
            window,
        ))
    }

    /// The id of a business in the caller's kitchen scope (camera filters).
    pub async fn camera_entity(&self, p: &Principal, uscc: &str) -> AppResult<i64> {
        let scope = self.authorize(p, "food:camera:list").await?;
        Ok(self
            .store
            .entity_by_uscc(&scope, &hongdun_core::registry::normalize_code(uscc))
            .await?
            .id)
    }

    pub async fn list_cameras(
        &self,
        p: &Principal,
        q: &CameraQuery,
    ) -> AppResult<Page<CameraView>> {
        let scope = self.authorize(p, "food:camera:list").await?;
        let page = self.store.list_cameras(&scope, q).await?;
        let now = kitchen::minute_of(Utc::now());
        let window = self.online_window().await;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(|c| Self::camera_view(c, now, window))
                .collect(),
            total: page.total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// Heartbeats from a camera gateway. Each beat is checked on its own: the
    /// good ones are kept, the bad ones reported by index.
    pub async fn heartbeats(&self, p: &Principal, beats: &[Beat]) -> AppResult<BeatReceipt> {
        let scope = self.authorize(p, "food:camera:heartbeat").await?;
        if beats.len() > MAX_BEATS {
            return Err(AppError::field(
                "beats",
                "too_many",
                format!("每次最多上报 {MAX_BEATS} 条心跳"),
            ));
        }
        let map = self.camera_map().await?;
        let now = Utc::now();
        let mut words: BTreeMap<(i64, i64), u64> = BTreeMap::new();
        let mut last: HashMap<i64, i64> = HashMap::new();
        let mut rejected = Vec::new();
        for (index, b) in beats.iter().enumerate() {
            let reject = |code: &'static str, message: &str| BeatRejection {
                index,
                device_id: b.device_id.clone(),
                code,
                message: message.to_owned(),
            };
            let found = map
                .by_device
                .get(b.device_id.trim())
                .map(|&i| (i, &map.cameras[i]))
                .filter(|(_, c)| scope.allows(Some(c.unit_id), None));
            let Some((slot, cam)) = found else {
                rejected.push(reject(
                    "camera_unknown",
                    "设备未登记或不在本接口的管辖范围内",
                ));
                continue;
            };
            if !cam.enabled {
                rejected.push(reject("camera_disabled", "设备已停用"));
                continue;
            }
            let at = b.at.unwrap_or(now);
            if at > now + chrono::Duration::minutes(2) {
                rejected.push(reject("beat_in_future", "心跳时间晚于服务器当前时间"));
                continue;
            }
            if at < now - chrono::Duration::hours(BEAT_MAX_AGE_HOURS) {
                rejected.push(reject("beat_too_old", "心跳时间早于 48 小时前，不再接收"));
                continue;
            }
            let minute = kitchen::minute_of(at);
            let (hour, i) = kitchen::hour_of_minute(minute);
            *words.entry((cam.id, hour)).or_default() |= 1u64 << i;
            let l = last.entry(cam.id).or_insert(minute);
            *l = (*l).max(minute);
            map.last_beat[slot].fetch_max(minute, std::sync::atomic::Ordering::Relaxed);
        }
        let words: Vec<BeatWord> = words
            .into_iter()
            .map(|((camera_id, hour), minutes)| BeatWord {
                camera_id,
                hour,
                minutes,
            })
            .collect();
        let last: Vec<(i64, i64)> = last.into_iter().collect();
        self.store.add_beats(&words, &last).await?;
        Ok(BeatReceipt {
            accepted: beats.len() - rejected.len(),
            rejected,
        })
    }

    /// Online rates over `[from, to]` (China-time days), grouped `by` unit,
    /// entity, camera, day or hour, with the total for everything in scope.
    pub async fn kitchen_online(
        &self,
        p: &Principal,
        from: NaiveDate,
        to: NaiveDate,
        by: &str,
        unit: Option<UnitId>,
    ) -> AppResult<OnlineReport> {
        let scope = self.authorize(p, "food:camera:list").await?;
        if to < from {
            return Err(AppError::field("to", "invalid", "结束日期不能早于开始日期"));
        }
        if (to - from).num_days() > 92 {
            return Err(AppError::field(
                "to",
                "range_too_long",
                "一次最多统计 93 天",
            ));
        }
        if !["unit", "entity", "camera", "day", "hour"].contains(&by) {
            return Err(AppError::field(
                "by",
                "invalid",
                "分组应为 unit、entity、camera、day 或 hour",
            ));
        }
        let window = self.online_window().await;
        let map = self.camera_map().await?;
        let names = self.unit_names().await?;
        let tree = self.unit_tree().await?;
        let in_unit = |u: UnitId| unit.is_none_or(|want| tree.is_within(u, want));
        let cams: Vec<&Camera> = map
            .cameras
            .iter()
            .filter(|c| c.enabled && scope.allows(Some(c.unit_id), None) && in_unit(c.unit_id))
            .collect();
        let (h0, h1) = (kitchen::first_hour(from), kitchen::first_hour(to) + 24);
        let words: HashMap<(i64, i64), u64> = self
            .store
            .beat_words(&scope, h0 - 1, h1)
            .await?
            .into_iter()
            .map(|w| ((w.camera_id, w.hour), w.minutes))
            .collect();
        let now = kitchen::minute_of(Utc::now());
        let mut groups: BTreeMap<String, (String, HashSet<i64>, u64, u64)> = BTreeMap::new();
        let mut total = (HashSet::new(), 0u64, 0u64);
        for c in cams {
            for hour in h0..h1 {
                let counted = kitchen::counted_mask(hour, c.installed_minute, now);
                if counted == 0 {
                    continue;
                }
                let cur = words.get(&(c.id, hour)).copied().unwrap_or(0);
                let prev = words.get(&(c.id, hour - 1)).copied().unwrap_or(0);
                let (on, n) = kitchen::hour_minutes(prev, cur, window, counted);
                let (key, label) = match by {
                    "unit" => (
                        c.unit_id.0.to_string(),
                        names.get(&c.unit_id).cloned().unwrap_or_default(),
                    ),
                    "entity" => (
                        c.uscc.clone().unwrap_or_else(|| c.entity_id.to_string()),
                        c.entity_name.clone(),
                    ),
                    "camera" => (
                        c.device_id.clone(),
                        format!(
                            "{} · {}",
                            c.entity_name,
                            kitchen::place_label(&c.place).unwrap_or("其他")
                        ),
                    ),
                    "day" => {
                        let d = kitchen::day_of_hour(hour).0.to_string();
                        (d.clone(), d)
                    }
                    _ => {
                        let (d, h) = kitchen::day_of_hour(hour);
                        let k = format!("{d} {h:02}:00");
                        (k.clone(), k)
                    }
                };
                let g = groups
                    .entry(key)
                    .or_insert_with(|| (label, HashSet::new(), 0, 0));
                g.1.insert(c.id);
                g.2 += u64::from(on);
                g.3 += u64::from(n);
                total.0.insert(c.id);
                total.1 += u64::from(on);
                total.2 += u64::from(n);
            }
        }
        let row = |key: String, label: String, cams: usize, on: u64, n: u64| {
            let rate = kitchen::rate(on, n);
            OnlineRow {
                key,
                label,
                cameras: cams,
                online_minutes: on,
                counted_minutes: n,
                rate,
                meets_target: rate.map(|r| r >= ONLINE_TARGET),
            }
        };
        Ok(OnlineReport {
            from,
            to,
            by: by.to_owned(),
            target: ONLINE_TARGET,
            window_minutes: window,
            total: row(
                "total".into(),
                "合计".into(),
                total.0.len(),
                total.1,
                total.2,
            ),
            rows: groups
                .into_iter()
                .map(|(k, (label, set, on, n))| row(k, label, set.len(), on, n))
                .collect(),
        })
    }

    /// Share of catering businesses with a sunshine kitchen, per office.
    pub async fn kitchen_coverage(&self, p: &Principal) -> AppResult<Vec<CoverageRow>> {
        let scope = self.authorize(p, "food:camera:list").await?;
        let map = self.camera_map().await?;
        let names = self.unit_names().await?;
        let mut with: HashMap<UnitId, HashSet<i64>> = HashMap::new();
        for c in &map.cameras {
            if c.enabled
                && kitchen::is_catering(c.industry.as_deref())
                && scope.allows(Some(c.unit_id), None)
            {
                with.entry(c.unit_id).or_default().insert(c.entity_id);
            }
        }
        let mut rows: Vec<CoverageRow> = self
            .store
            .catering_counts(&scope)
            .await?
            .into_iter()
            .map(|(unit_id, catering)| {
                let with_kitchen = with.get(&unit_id).map_or(0, |s| s.len() as i64);
                CoverageRow {
                    unit_id,
                    unit_name: names.get(&unit_id).cloned().unwrap_or_default(),
                    catering,
                    with_kitchen,
                    rate: kitchen::rate(with_kitchen as u64, catering as u64),
                }
            })
            .collect();
        rows.sort_by_key(|r| r.unit_id.0);
        Ok(rows)
    }

    /// Whether a business's kitchen is live (cached camera list; beats move
    /// the answer within the cache's 30 s).
    pub async fn public_kitchen(&self, entity_id: i64) -> AppResult<Option<PublicKitchen>> {
        let map = self.camera_map().await?;
        let Some(idx) = map.by_entity.get(&entity_id) else {
            return Ok(None);
        };
        let window = self.online_window().await;
        let now = kitchen::minute_of(Utc::now());
        let live_idx: Vec<usize> = idx
            .iter()
            .copied()
            .filter(|&i| map.cameras[i].enabled)
            .collect();
        if live_idx.is_empty() {
            return Ok(None);
        }
        let online = live_idx
            .iter()
            .filter(|&&i| {
                let m = map.last_beat[i].load(std::sync::atomic::Ordering::Relaxed);
                m != i64::MIN && now - m < i64::from(window)
            })
            .count();
        let cams: Vec<&Camera> = live_idx.iter().map(|&i| &map.cameras[i]).collect();
        let mut places: Vec<&'static str> = cams
            .iter()
            .map(|c| kitchen::place_label(&c.place).unwrap_or("其他"))
            .collect();
        places.dedup();
        Ok(Some(PublicKitchen {
            cameras: cams.len(),
            online,
            live: online > 0,
            places,
            watch_url: cams
                .iter()
                .filter_map(|c| c.stream_url.as_deref())
                .find(|u| u.starts_with("https://"))
                .map(str::to_owned),
        }))
    }
}

/// The key that signs new batches: the newest one not retired.
fn current_key(stored: &[hongdun_store::StoredSealKey]) -> Option<u8> {
    stored.iter().filter(|k| !k.retired).map(|k| k.id).max()
}

fn random_secret() -> AppResult<[u8; 32]> {
    let mut s = [0u8; 32];
    getrandom::fill(&mut s).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
    Ok(s)
}
