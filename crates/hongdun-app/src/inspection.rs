//! Random inspections (双随机、一公开) and the hazard loop: items, plans, the
//! verifiable draw and its export, tasks and field records, publication,
//! hazards with deadlines on the working-day calendar, 回头看 re-visit draws, and
//! the daily / weekly / monthly figures.
use crate::{App, AppError, AppResult, Principal};
use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use hongdun_core::ids::{UnitId, UserId};
use hongdun_core::inspection::{
    canonical_candidates, compare, draw, draw_set_into, hazard_next, Candidate, DrawInput,
    DrawOutcome, HazardAction, HazardState, Mismatch, PoolInspector, Sampling, SetDraw,
};
use hongdun_core::sampling::sha256_hex;
use hongdun_core::Coded;
use hongdun_store::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The visit outcomes a task can end with.
pub const OUTCOMES: &[(&str, &str)] = &[
    ("no_problem", "未发现问题"),
    ("rectified_on_site", "发现问题已责令当场整改"),
    ("rectification_ordered", "发现问题已责令限期整改"),
    ("case_opened", "发现问题已立案查处"),
    ("not_found", "未发现经营主体（通过登记的住所无法联系）"),
];
pub const VERDICTS: &[&str] = &["compliant", "non_compliant", "not_applicable"];
/// Hazard categories (隐患类别).
pub const HAZARD_CATEGORIES: &[(&str, &str)] = &[
    ("special_equipment", "特种设备"),
    ("market", "农贸市场"),
    ("fire", "消防"),
    ("gas", "燃气"),
    ("food", "食品安全"),
    ("product", "产品质量"),
    ("inspection", "双随机检查发现"),
    ("other", "其他"),
];
/// Default publication limit in working days (DOMAIN.md §4; the plan may set its own).
pub const DEFAULT_PUBLISH_DAYS: i64 = 20;

/// Today in China (UTC+8), the day deadlines count from.
pub fn today_cn() -> NaiveDate {
    (Utc::now() + chrono::Duration::hours(8)).date_naive()
}

fn outcome_label(code: &str) -> &'static str {
    OUTCOMES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("", |(_, l)| *l)
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemInput {
    pub code: String,
    pub name: String,
    pub department_id: Option<i64>,
    pub legal_basis: String,
    #[serde(default)]
    pub kinds: Vec<String>,
    #[serde(default)]
    pub industries: Vec<String>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanInput {
    pub name: String,
    #[serde(default)]
    pub departments: Vec<i64>,
    pub items: Vec<i64>,
    #[serde(default)]
    pub target: TargetFilter,
    /// {"mode":"ratio","ratios":{"A":300,"B":500,…}} (basis points) or {"mode":"count","count":N}
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub sampling: serde_json::Value,
    #[serde(default)]
    pub exclude_months: i64,
    pub team_size: Option<i64>,
    pub pool: Vec<i64>,
    pub publish_days: Option<i64>,
}

/// A draw as published: everything needed to re-derive it, and the result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DrawExport {
    pub format: String,
    pub format_version: u32,
    pub draw_id: i64,
    pub kind: String,
    pub plan_id: Option<i64>,
    pub plan_name: Option<String>,
    pub seed_source: String,
    pub drawn_at: DateTime<Utc>,
    pub input: DrawInput,
    pub outcome: DrawOutcome,
}

pub const EXPORT_FORMAT: &str = "hongdun-draw";

/// What `hongdun draw verify` and the public page answer.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifyReport {
    pub identical: bool,
    pub candidates: usize,
    pub picks: usize,
    pub seed_hash: String,
    pub candidates_sha256: String,
    /// Where the published draw departs from the re-derived one (zh-CN).
    pub differences: Vec<String>,
}

/// Re-derives a published draw from its export and compares. Pure: no store.
pub fn verify_draw_export(bytes: &[u8]) -> AppResult<VerifyReport> {
    let export: DrawExport = serde_json::from_slice(bytes).map_err(|e| {
        AppError::field(
            "file",
            "draw_export_invalid",
            format!("不是有效的抽取结果导出文件：{e}"),
        )
    })?;
    if export.format != EXPORT_FORMAT {
        return Err(AppError::field(
            "file",
            "draw_export_invalid",
            format!("文件格式为“{}”，应为 {EXPORT_FORMAT}", export.format),
        ));
    }
    let candidates = export.input.candidates.len();
    let derived = match draw(&export.input) {
        Ok(d) => d,
        Err(e) => {
            return Ok(VerifyReport {
                identical: false,
                candidates,
                picks: export.outcome.picks.len(),
                seed_hash: sha256_hex(&export.input.seed),
                candidates_sha256: sha256_hex(&canonical_candidates(&export.input.candidates)),
                differences: vec![format!("按公布的输入无法重新抽取：{}", e.message_zh())],
            })
        }
    };
    let differences: Vec<String> = compare(&export.outcome, &derived)
        .into_iter()
        .map(|m| match m {
            Mismatch::Field {
                field,
                published,
                derived,
            } => format!("{field}：公布为 {published}，重算为 {derived}"),
            Mismatch::Pick {
                position,
                published,
                derived,
            } => format!(
                "第 {position} 个抽中对象：公布为 {}，重算为 {}",
                published.map_or("（无）".into(), |p| format!(
                    "{} 检查组 {}",
                    p.id,
                    p.team.join("、")
                )),
                derived.map_or("（无）".into(), |p| format!(
                    "{} 检查组 {}",
                    p.id,
                    p.team.join("、")
                ))
            ),
        })
        .collect();
    Ok(VerifyReport {
        identical: differences.is_empty(),
        candidates,
        picks: export.outcome.picks.len(),
        seed_hash: derived.seed_hash,
        candidates_sha256: derived.candidates_sha256,
        differences,
    })
}

/// The candidate list from its canonical text (`id \t class \t grid` lines).
pub fn parse_canonical(list: &str) -> Vec<Candidate> {
    list.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut parts = l.splitn(3, '\t');
            let id = parts.next().unwrap_or("").to_owned();
            let class = parts.next().unwrap_or("").to_owned();
            let grid = parts.next().filter(|g| !g.is_empty()).map(str::to_owned);
            Candidate { id, class, grid }
        })
        .collect()
}

/// Does an inspection item apply to a business? Empty lists mean every kind / trade.
pub fn item_applies(item: &InspectionItem, e: &Entity) -> bool {
    let kind_ok = item.kinds.is_empty() || item.kinds.iter().any(|k| k == e.kind.as_str());
    let trade_ok = item.industries.is_empty()
        || e.industry
            .as_deref()
            .is_some_and(|ind| item.industries.iter().any(|p| ind.starts_with(p.as_str())));
    kind_ok && trade_ok
}

/// Most picks a draw answer carries; all of them are in the tasks (paged) and
/// the export. A province's draw holds hundreds of thousands.
pub const DRAW_PICKS_SHOWN: usize = 1000;

/// The draw as answers show it: the first picks and `outcome.picks_total`.
fn summary(mut d: Draw) -> Draw {
    if let Some(o) = d.outcome.as_object_mut() {
        let total = o
            .get("picks")
            .and_then(|p| p.as_array())
            .map_or(0, Vec::len);
        if let Some(serde_json::Value::Array(picks)) = o.get_mut("picks") {
            picks.truncate(DRAW_PICKS_SHOWN);
        }
        o.insert("picks_total".into(), total.into());
    }
    d
}

/// The seed as typed (trimmed), or twenty OS digits when none was given, with
/// where it came from ("typed" or "os").
fn seed_or_os(seed: Option<&str>) -> AppResult<(String, &'static str)> {
    match seed.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Ok((s.to_owned(), "typed")),
        None => Ok((os_seed()?, "os")),
    }
}

/// Twenty decimal digits from the operating system, shown like twenty dice rolls.
fn os_seed() -> AppResult<String> {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("getrandom: {e}")))?;
    Ok(bytes.iter().map(|b| char::from(b'0' + b % 10)).collect())
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitInput {
    pub records: Vec<ItemRecord>,
    pub outcome: String,
    pub note: Option<String>,
    /// Defaults to now.
    pub visited_at: Option<DateTime<Utc>>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
}

/// A task with what its form needs.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskDetail {
    pub task: Task,
    pub outcome_label: String,
    pub items: Vec<InspectionItem>,
    pub records: Vec<ItemRecord>,
    pub team: Vec<PoolMember>,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HazardInput {
    /// The business, by credit code (its office takes the hazard).
    pub uscc: Option<String>,
    /// The place when it is not a registered business (a market, a lift).
    pub place: Option<String>,
    /// The office, when no business is named.
    pub unit_id: Option<i64>,
    pub category: String,
    pub description: String,
    pub found_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HazardActionInput {
    /// order, submit, recheck
    pub action: String,
    /// Working days to rectify (order; a failed re-check).
    pub deadline_days: Option<u32>,
    #[serde(default)]
    pub evidence: Vec<String>,
    pub passed: Option<bool>,
    pub note: Option<String>,
}

/// A hazard as lists show it: overdue ones climb to the unit above.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HazardView {
    #[serde(flatten)]
    pub hazard: Hazard,
    pub state_label: String,
    pub overdue: bool,
    /// The unit whose dashboard shows the hazard because it is overdue.
    pub escalated_to: Option<UnitId>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfficeRank {
    pub rank: usize,
    pub unit_id: UnitId,
    pub unit_name: String,
    pub found: i64,
    pub closed: i64,
    /// closed / found in the month, in percent (100 when nothing was found).
    pub closure_rate: f64,
}

/// 日巡查、周比对、月排名.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HazardReport {
    pub month: String,
    pub daily: Vec<Count2>,
    pub this_week: Count2,
    pub last_week: Count2,
    pub ranking: Vec<OfficeRank>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Count2 {
    pub key: String,
    pub found: i64,
    pub closed: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevisitInput {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub count: usize,
    pub seed: Option<String>,
}

impl App {
    pub async fn put_inspection_item(
        &self,
        p: &Principal,
        input: &ItemInput,
    ) -> AppResult<InspectionItem> {
        self.authorize(p, "inspection:item:update").await?;
        let mut errs = Vec::new();
        let code = input.code.trim();
        if code.is_empty() || code.len() > 40 {
            errs.push(crate::FieldError::new(
                "code",
                "required",
                "请填写事项编码（40 字以内）",
            ));
        }
        if input.name.trim().is_empty() {
            errs.push(crate::FieldError::new(
                "name",
                "required",
                "请填写检查事项名称",
            ));
        }
        if input.legal_basis.trim().is_empty() {
            errs.push(crate::FieldError::new(
                "legal_basis",
                "required",
                "检查事项必须有法律法规依据",
            ));
        }
        for k in &input.kinds {
            if hongdun_core::registry::EntityKind::parse(k).is_none() {
                errs.push(crate::FieldError::new(
                    "kinds",
                    "invalid",
                    format!("未知的主体类型 {k}"),
                ));
            }
        }
        if let Some(d) = input.department_id {
            let tree = self.unit_tree().await?;
            if !tree.contains(UnitId(d)) {
                errs.push(crate::FieldError::new(
                    "department_id",
                    "not_found",
                    "部门不存在",
                ));
            }
        }
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        Ok(self
            .store
            .put_item(
                &p.audit_ctx(),
                &NewInspectionItem {
                    code: code.to_owned(),
                    name: input.name.trim().to_owned(),
                    department_id: input.department_id.map(UnitId),
                    legal_basis: input.legal_basis.trim().to_owned(),
                    kinds: input.kinds.clone(),
                    industries: input
                        .industries
                        .iter()
                        .map(|s| s.trim().to_owned())
                        .collect(),
                    enabled: input.enabled.unwrap_or(true),
                },
            )
            .await?)
    }

    pub async fn inspection_items(&self, p: &Principal) -> AppResult<Vec<InspectionItem>> {
        self.authorize(p, "inspection:item:list").await?;
        Ok(self.store.list_items().await?)
    }

    /// Declares an inspector's conflict of interest with a business (recusal).
    pub async fn declare_conflict(
        &self,
        p: &Principal,
        user: UserId,
        uscc: &str,
        reason: &str,
    ) -> AppResult<()> {
        self.authorize(p, "inspection:plan:create").await?;
        hongdun_core::registry::Uscc::parse(uscc).map_err(|e| AppError::rule(&e, Some("uscc")))?;
        if reason.trim().is_empty() {
            return Err(AppError::field("reason", "required", "请填写回避原因"));
        }
        Ok(self
            .store
            .put_conflict(&p.audit_ctx(), user, uscc, reason.trim())
            .await?)
    }

    pub async fn create_plan(&self, p: &Principal, input: &PlanInput) -> AppResult<InspectionPlan> {
        self.authorize(p, "inspection:plan:create").await?;
        let tree = self.unit_tree().await?;
        let mut errs = Vec::new();
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            errs.push(crate::FieldError::new(
                "name",
                "required",
                "请填写计划名称（100 字以内）",
            ));
        }
        let team_size = input.team_size.unwrap_or(2);
        if !(2..=10).contains(&team_size) {
            errs.push(crate::FieldError::new(
                "team_size",
                "draw_team_size",
                "每组检查人员应为 2–10 人",
            ));
        }
        let sampling: Option<Sampling> = serde_json::from_value(input.sampling.clone()).ok();
        match &sampling {
            None => errs.push(crate::FieldError::new(
                "sampling",
                "invalid",
                "抽查方式应为按信用风险分类比例或固定数量",
            )),
            Some(Sampling::Ratio { ratios }) => {
                if ratios.is_empty() || ratios.values().all(|&r| r == 0) {
                    errs.push(crate::FieldError::new(
                        "sampling",
                        "invalid",
                        "请至少为一个风险分类设置抽查比例",
                    ));
                }
                if let Some((c, r)) = ratios.iter().find(|(_, &r)| r > 10_000) {
                    errs.push(crate::FieldError::new(
                        "sampling",
                        "draw_bad_ratio",
                        format!("{c} 类抽查比例 {}% 超过 100%", f64::from(*r) / 100.0),
                    ));
                }
            }
            Some(Sampling::Count { count }) => {
                if *count == 0 {
                    errs.push(crate::FieldError::new(
                        "sampling",
                        "invalid",
                        "抽取数量应大于 0",
                    ));
                }
            }
        }
        let items = self.store.list_items().await?;
        if input.items.is_empty() {
            errs.push(crate::FieldError::new(
                "items",
                "required",
                "请选择检查事项",
            ));
        }
        for i in &input.items {
            if !items.iter().any(|x| x.id == *i && x.enabled) {
                errs.push(crate::FieldError::new(
                    "items",
                    "not_found",
                    format!("检查事项 {i} 不存在或已停用"),
                ));
            }
        }
        for d in &input.departments {
            if !tree.contains(UnitId(*d)) {
                errs.push(crate::FieldError::new(
                    "departments",
                    "not_found",
                    format!("部门 {d} 不存在"),
                ));
            }
        }
        let pool: Vec<UserId> = input.pool.iter().copied().map(UserId).collect();
        let members = self.store.pool_members(&pool).await?;
        if (pool.len() as i64) < team_size {
            errs.push(crate::FieldError::new(
                "pool",
                "draw_team_size",
                "检查人员库人数少于每组人数",
            ));
        }
        for u in &pool {
            match members.iter().find(|m| m.user_id == *u) {
                None => errs.push(crate::FieldError::new(
                    "pool",
                    "not_found",
                    format!("用户 {} 不存在或已停用", u.0),
                )),
                Some(m) if m.cert_no.as_deref().unwrap_or("").is_empty() => {
                    errs.push(crate::FieldError::new(
                        "pool",
                        "cert_required",
                        format!("{} 没有执法证号，不能进入检查人员库", m.display_name),
                    ))
                }
                _ => {}
            }
        }
        let publish_days = input.publish_days.unwrap_or(DEFAULT_PUBLISH_DAYS);
        if !(1..=60).contains(&publish_days) {
            errs.push(crate::FieldError::new(
                "publish_days",
                "invalid",
                "公示时限应为 1–60 个工作日",
            ));
        }
        if !(0..=36).contains(&input.exclude_months) {
            errs.push(crate::FieldError::new(
                "exclude_months",
                "invalid",
                "排除近期已检查对象的月数应为 0–36",
            ));
        }
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        let plan = NewPlan {
            unit_id: tree.scope_anchor(p.user.unit_id),
            name: name.to_owned(),
            departments: input.departments.iter().copied().map(UnitId).collect(),
            items: input.items.clone(),
            target: input.target.clone(),
            sampling: serde_json::to_value(sampling)
                .map_err(|e| AppError::Internal(e.to_string()))?,
            exclude_months: input.exclude_months,
            team_size,
            pool,
            publish_days,
        };
        Ok(self.store.create_plan(&p.audit_ctx(), &plan).await?)
    }

    pub async fn list_plans(
        &self,
        p: &Principal,
        paging: Paging,
    ) -> AppResult<Page<InspectionPlan>> {
        let scope = self.authorize(p, "inspection:plan:list").await?;
        Ok(self.store.list_plans(&scope, paging).await?)
    }

    pub async fn get_plan(&self, p: &Principal, id: i64) -> AppResult<InspectionPlan> {
        let scope = self.authorize(p, "inspection:plan:list").await?;
        Ok(self.store.get_plan(&scope, id).await?)
    }

    /// Draws a plan's businesses and teams: freezes the candidate list, runs the
    /// published-seed draw and stores it with its tasks, once and for good.
    pub async fn draw_plan(
        &self,
        p: &Principal,
        plan_id: i64,
        seed: Option<&str>,
    ) -> AppResult<Draw> {
        let scope = self.authorize(p, "inspection:draw:execute").await?;
        let plan = self.store.get_plan(&scope, plan_id).await?;
        if plan.status != "draft" {
            return Err(AppError::Rule {
                code: "draw_done",
                message: "该计划已完成抽取，抽取结果不可更改".into(),
                field: None,
            });
        }
        let (seed, seed_source) = seed_or_os(seed)?;
        if seed.chars().count() > 200 {
            return Err(AppError::field(
                "seed",
                "invalid",
                "随机种子不超过 200 个字符",
            ));
        }
        self.run_draw(&p.audit_ctx(), &scope, &plan, seed, seed_source)
            .await
            .map(summary)
    }

    /// `hongdun draw run`: the draw of a plan by the operator at the server's
    /// console (whole register in scope), recorded as a system action.
    pub async fn draw_plan_cli(&self, plan_id: i64, seed: Option<&str>) -> AppResult<Draw> {
        let plan = self.store.get_plan(&ScopeFilter::All, plan_id).await?;
        // The plan's own bureau and everything below it.
        let tree = self.unit_tree().await?;
        let all = ScopeFilter::Limited {
            units: tree.subtree(plan.unit_id).into_iter().collect(),
            user: None,
        };
        let (seed, source) = seed_or_os(seed)?;
        self.run_draw(
            &hongdun_store::AuditCtx::system("cli"),
            &all,
            &plan,
            seed,
            source,
        )
        .await
        .map(summary)
    }

    /// The draw itself for a plan in draft, by whoever is allowed (a person, or
    /// the demo loader): candidates, the pure draw off the async workers, and one
    /// transaction for the draw, its frozen list and its tasks.
    pub async fn run_draw(
        &self,
        ctx: &hongdun_store::AuditCtx,
        scope: &ScopeFilter,
        plan: &InspectionPlan,
        seed: String,
        seed_source: &str,
    ) -> AppResult<Draw> {
        if plan.status != "draft" {
            return Err(AppError::Rule {
                code: "draw_done",
                message: "该计划已完成抽取，抽取结果不可更改".into(),
                field: None,
            });
        }
        let sampling: Sampling = serde_json::from_value(plan.sampling.clone())
            .map_err(|e| AppError::Internal(format!("plan sampling: {e}")))?;
        let visited_since = (plan.exclude_months > 0).then(|| {
            today_cn()
                .checked_sub_months(chrono::Months::new(plan.exclude_months as u32))
                .unwrap_or(NaiveDate::MIN)
        });
        let started = std::time::Instant::now();
        let found = self
            .store
            .draw_candidates(
                scope,
                &CandidateQuery {
                    target: plan.target.clone(),
                    visited_since,
                },
            )
            .await?;
        if found.is_empty() {
            return Err(AppError::Rule {
                code: "draw_no_candidates",
                message: "没有符合条件的检查对象".into(),
                field: Some("target".into()),
            });
        }
        let read = started.elapsed();
        let members = self.store.pool_members(&plan.pool).await?;
        let mut by_cert: HashMap<String, UserId> = HashMap::new();
        let mut inspectors = Vec::new();
        for m in &members {
            let Some(cert) = m.cert_no.clone().filter(|c| !c.is_empty()) else {
                continue;
            };
            by_cert.insert(cert.clone(), m.user_id);
            inspectors.push(PoolInspector {
                cert_no: cert,
                grid: m.grid.clone(),
                conflicts: m.conflicts.iter().cloned().collect(),
            });
        }
        let spec = (seed.clone(), sampling.clone(), plan.team_size as usize);
        // Hashing ten million tickets is CPU work: off the async workers.
        let (found, inspectors, drawn, tasks, packed) = tokio::task::spawn_blocking(move || {
            let (seed, sampling, team_size) = spec;
            let t = std::time::Instant::now();
            // The frozen list compressed piece by piece as the draw writes it
            // out, on the thread that orders it: never held whole.
            let mut packed = PackedList::default();
            let drawn = draw_set_into(
                &seed,
                &sampling,
                team_size,
                &found.set,
                &inspectors,
                PackedList::CHUNK,
                &mut |piece| packed.push_piece(piece),
            )
            .map_err(|e| AppError::rule(&e, Some("pool")))?;
            let drawn_ms = t.elapsed().as_millis() as u64;
            let tasks: Vec<NewTask> = drawn
                .chosen
                .iter()
                .zip(&drawn.outcome.picks)
                .map(|(&i, pick)| NewTask {
                    entity_id: found.entity_id(i),
                    unit_id: found.unit_id(i),
                    team: pick
                        .team
                        .iter()
                        .filter_map(|c| by_cert.get(c).copied())
                        .collect(),
                })
                .collect();
            tracing::debug!(
                drawn_ms,
                tasks_ms = t.elapsed().as_millis() as u64 - drawn_ms,
                chunks = packed.chunks.len(),
                bytes = packed.chunks.iter().map(Vec::len).sum::<usize>(),
                "draw computed"
            );
            AppResult::Ok((found, inspectors, drawn, tasks, packed))
        })
        .await
        .map_err(|e| AppError::Internal(format!("draw thread: {e}")))??;
        let SetDraw { outcome, .. } = drawn;
        let computed = started.elapsed();
        let new = NewDraw {
            plan_id: Some(plan.id),
            unit_id: plan.unit_id,
            kind: "plan".into(),
            seed,
            seed_source: seed_source.into(),
            seed_hash: outcome.seed_hash.clone(),
            algorithm: outcome.algorithm.clone(),
            algorithm_version: i64::from(outcome.algorithm_version),
            sampling: serde_json::to_value(&sampling)
                .map_err(|e| AppError::Internal(e.to_string()))?,
            team_size: plan.team_size,
            candidates_count: found.len() as i64,
            candidates_sha256: outcome.candidates_sha256.clone(),
            inspectors: serde_json::to_value(&inspectors)
                .map_err(|e| AppError::Internal(e.to_string()))?,
            inspectors_sha256: outcome.inspectors_sha256.clone(),
            outcome: serde_json::to_value(&outcome)
                .map_err(|e| AppError::Internal(e.to_string()))?,
        };
        let candidates = new.candidates_count;
        let picks = tasks.len();
        let saved = self.store.save_draw(ctx, new, packed, tasks).await?;
        tracing::info!(
            plan = plan.id,
            candidates,
            picks,
            read_ms = read.as_millis() as u64,
            draw_ms = (computed - read).as_millis() as u64,
            store_ms = (started.elapsed() - computed).as_millis() as u64,
            "draw done"
        );
        Ok(saved)
    }

    pub async fn get_draw(&self, p: &Principal, draw_id: i64) -> AppResult<Draw> {
        let scope = self.authorize(p, "inspection:plan:list").await?;
        Ok(summary(self.store.get_draw(&scope, draw_id).await?))
    }

    pub async fn draw_of_plan(&self, p: &Principal, plan_id: i64) -> AppResult<Draw> {
        let scope = self.authorize(p, "inspection:plan:list").await?;
        Ok(summary(self.store.draw_of_plan(&scope, plan_id).await?))
    }

    /// The export anyone can re-verify: the frozen inputs and the result. The
    /// stored list is checked against its fingerprint on the way out.
    pub async fn export_draw(&self, p: &Principal, draw_id: i64) -> AppResult<DrawExport> {
        let scope = self.authorize(p, "inspection:plan:list").await?;
        let d = self.store.get_draw(&scope, draw_id).await?;
        let list = self.store.draw_list(d.id).await?;
        if sha256_hex(&list) != d.candidates_sha256 {
            return Err(AppError::Internal(format!(
                "draw {} list does not match its fingerprint",
                d.id
            )));
        }
        let plan_name = match d.plan_id {
            Some(id) => Some(self.store.get_plan(&ScopeFilter::All, id).await?.name),
            None => None,
        };
        let bad = |e: serde_json::Error| AppError::Internal(format!("draw {}: {e}", d.id));
        Ok(DrawExport {
            format: EXPORT_FORMAT.into(),
            format_version: 1,
            draw_id: d.id,
            kind: d.kind.clone(),
            plan_id: d.plan_id,
            plan_name,
            seed_source: d.seed_source.clone(),
            drawn_at: d.drawn_at,
            input: DrawInput {
                seed: d.seed.clone(),
                sampling: serde_json::from_value(d.sampling.clone()).map_err(bad)?,
                team_size: d.team_size as usize,
                candidates: parse_canonical(&list),
                inspectors: serde_json::from_value(d.inspectors.clone()).map_err(bad)?,
            },
            outcome: serde_json::from_value(d.outcome.clone()).map_err(bad)?,
        })
    }

    pub async fn list_tasks(
        &self,
        p: &Principal,
        mut q: TaskQuery,
        mine: bool,
    ) -> AppResult<Page<Task>> {
        let scope = self.authorize(p, "inspection:task:list").await?;
        if mine {
            q.member = Some(p.user.id);
        }
        Ok(self.store.list_tasks(&scope, &q).await?)
    }

    /// Overdue publications (visited, unpublished, past the limit) for the section.
    pub async fn overdue_publications(
        &self,
        p: &Principal,
        paging: Paging,
    ) -> AppResult<Page<Task>> {
        let scope = self.authorize(p, "inspection:task:publish").await?;
        let q = TaskQuery {
            publication_overdue: Some(today_cn()),
            paging,
            ..Default::default()
        };
        Ok(self.store.list_tasks(&scope, &q).await?)
    }

    pub async fn task_detail(&self, p: &Principal, id: i64) -> AppResult<TaskDetail> {
        let scope = self.authorize(p, "inspection:task:list").await?;
        let task = self.store.get_task(&scope, Some(p.user.id), id).await?;
        let plan = self.store.get_plan(&ScopeFilter::All, task.plan_id).await?;
        let entity = self
            .store
            .get_entity(&ScopeFilter::All, task.entity_id)
            .await?;
        // Only the plan's items that apply to this business (by kind and trade).
        let items = self
            .store
            .list_items()
            .await?
            .into_iter()
            .filter(|i| plan.items.contains(&i.id) && item_applies(i, &entity))
            .collect();
        let records = self.store.task_records(id).await?;
        let team = self.store.pool_members(&task.team).await?;
        Ok(TaskDetail {
            outcome_label: task.outcome.as_deref().map_or("", outcome_label).into(),
            task,
            items,
            records,
            team,
        })
    }

    /// Records a visit (team members only), once; non-compliant items become hazards.
    pub async fn record_visit(
        &self,
        p: &Principal,
        id: i64,
        input: &VisitInput,
    ) -> AppResult<Task> {
        let scope = self.authorize(p, "inspection:task:record").await?;
        let detail = self.task_detail(p, id).await?;
        if !detail.task.team.contains(&p.user.id) {
            return Err(AppError::Rule {
                code: "task_not_member",
                message: "只有本检查组成员可以录入检查结果".into(),
                field: None,
            });
        }
        let mut errs = Vec::new();
        if !OUTCOMES.iter().any(|(c, _)| *c == input.outcome) {
            errs.push(crate::FieldError::new(
                "outcome",
                "invalid",
                "请选择检查结果",
            ));
        }
        let not_found = input.outcome == "not_found";
        for item in &detail.items {
            if !not_found && !input.records.iter().any(|r| r.item_id == item.id) {
                errs.push(crate::FieldError::new(
                    &format!("records.{}", item.id),
                    "required",
                    format!("请填写“{}”的检查情况", item.name),
                ));
            }
        }
        for r in &input.records {
            if !detail.items.iter().any(|i| i.id == r.item_id) {
                errs.push(crate::FieldError::new(
                    "records",
                    "not_found",
                    format!("检查事项 {} 不属于本计划", r.item_id),
                ));
            }
            if !VERDICTS.contains(&r.verdict.as_str()) {
                errs.push(crate::FieldError::new(
                    &format!("records.{}", r.item_id),
                    "invalid",
                    "检查情况应为符合、不符合或不适用",
                ));
            }
        }
        let problems: Vec<&ItemRecord> = input
            .records
            .iter()
            .filter(|r| r.verdict == "non_compliant")
            .collect();
        if input.outcome == "no_problem" && !problems.is_empty() {
            errs.push(crate::FieldError::new(
                "outcome",
                "inconsistent",
                "有不符合项时检查结果不能为“未发现问题”",
            ));
        }
        if !problems.is_empty()
            && !["rectified_on_site", "rectification_ordered", "case_opened"]
                .contains(&input.outcome.as_str())
        {
            errs.push(crate::FieldError::new(
                "outcome",
                "inconsistent",
                "有不符合项时请选择整改或立案的检查结果",
            ));
        }
        for r in &input.records {
            self.check_file_refs(p, &format!("records.{}", r.item_id), &r.photos)
                .await?;
        }
        let visited_at = input.visited_at.unwrap_or_else(Utc::now);
        if visited_at > Utc::now() + chrono::Duration::minutes(10) {
            errs.push(crate::FieldError::new(
                "visited_at",
                "future",
                "检查时间不能晚于现在",
            ));
        }
        for (v, f, lim) in [(input.lat, "lat", 90.0), (input.lng, "lng", 180.0)] {
            if v.is_some_and(|x| !x.is_finite() || x.abs() > lim) {
                errs.push(crate::FieldError::new(f, "invalid", "位置坐标无效"));
            }
        }
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        let plan = self
            .store
            .get_plan(&ScopeFilter::All, detail.task.plan_id)
            .await?;
        let visit_day = (visited_at + chrono::Duration::hours(8)).date_naive();
        // A limit in a year without a holiday schedule is left open, never guessed.
        let publish_due = self
            .add_working_days(visit_day, plan.publish_days as u32)
            .await
            .ok();
        let unit = detail.task.unit_id.unwrap_or(plan.unit_id);
        let hazards = problems
            .iter()
            .map(|r| {
                let item = detail.items.iter().find(|i| i.id == r.item_id);
                NewHazard {
                    unit_id: unit,
                    entity_id: Some(detail.task.entity_id),
                    place: detail.task.entity_name.clone(),
                    task_id: Some(id),
                    category: "inspection".into(),
                    description: format!(
                        "{}{}",
                        item.map_or("", |i| i.name.as_str()),
                        r.note
                            .as_deref()
                            .map(|n| format!("：{n}"))
                            .unwrap_or_default()
                    ),
                    found_on: visit_day,
                }
            })
            .collect();
        let result = TaskResult {
            records: input.records.clone(),
            outcome: input.outcome.clone(),
            note: input.note.clone(),
            visited_at,
            lat: input.lat,
            lng: input.lng,
            publish_due,
            hazards,
        };
        match self
            .store
            .record_task(&p.audit_ctx(), &scope, Some(p.user.id), id, &result)
            .await
        {
            Err(StoreError::Conflict { .. }) => Err(AppError::Rule {
                code: "task_done",
                message: "该任务已录入检查结果".into(),
                field: None,
            }),
            other => Ok(other?),
        }
    }

    pub async fn publish_task(&self, p: &Principal, id: i64) -> AppResult<Task> {
        let scope = self.authorize(p, "inspection:task:publish").await?;
        match self.store.publish_task(&p.audit_ctx(), &scope, id).await {
            Err(StoreError::Conflict { .. }) => Err(AppError::Rule {
                code: "task_not_publishable",
                message: "只有已录入且未公示的检查结果可以公示".into(),
                field: None,
            }),
            other => Ok(other?),
        }
    }

    /// Published results of one business, for everyone (no class, no names).
    pub async fn public_inspections(&self, uscc: &str) -> AppResult<Vec<PublicInspection>> {
        let mut out = self.store.public_inspections(uscc).await?;
        for i in &mut out {
            let label = outcome_label(&i.outcome);
            if !label.is_empty() {
                i.outcome = label.into();
            }
        }
        Ok(out)
    }

    pub async fn create_hazard(&self, p: &Principal, input: &HazardInput) -> AppResult<Hazard> {
        let scope = self.authorize(p, "hazard:create").await?;
        let mut errs = Vec::new();
        if !HAZARD_CATEGORIES.iter().any(|(c, _)| *c == input.category) {
            errs.push(crate::FieldError::new(
                "category",
                "invalid",
                "请选择隐患类别",
            ));
        }
        if input.description.trim().is_empty() {
            errs.push(crate::FieldError::new(
                "description",
                "required",
                "请描述隐患",
            ));
        }
        let today = today_cn();
        if input.found_on.is_some_and(|d| d > today) {
            errs.push(crate::FieldError::new(
                "found_on",
                "future",
                "发现日期不能晚于今天",
            ));
        }
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        let (unit_id, entity_id, place) = match input
            .uscc
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(uscc) => {
                let e = self
                    .store
                    .entity_by_uscc(&scope, uscc)
                    .await
                    .map_err(|e| match e {
                        StoreError::NotFound => AppError::field(
                            "uscc",
                            "not_found",
                            "辖区内没有这个统一社会信用代码的经营主体",
                        ),
                        other => other.into(),
                    })?;
                let unit = e.unit_id.ok_or_else(|| {
                    AppError::field("uscc", "unrouted", "该经营主体尚未分配到监管所")
                })?;
                (unit, Some(e.id), e.name)
            }
            None => {
                let place = input
                    .place
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty());
                let (Some(place), Some(unit)) = (place, input.unit_id) else {
                    return Err(AppError::field(
                        "uscc",
                        "required",
                        "请填写经营主体的统一社会信用代码，或填写地点并选择单位",
                    ));
                };
                if !scope.allows(Some(UnitId(unit)), None) {
                    return Err(AppError::field(
                        "unit_id",
                        "not_found",
                        "单位不在您的管辖范围内",
                    ));
                }
                (UnitId(unit), None, place.to_owned())
            }
        };
        Ok(self
            .store
            .create_hazard(
                &p.audit_ctx(),
                &NewHazard {
                    unit_id,
                    entity_id,
                    place,
                    task_id: None,
                    category: input.category.clone(),
                    description: input.description.trim().to_owned(),
                    found_on: input.found_on.unwrap_or(today),
                },
            )
            .await?)
    }

    fn hazard_view(
        &self,
        h: Hazard,
        today: NaiveDate,
        tree: &hongdun_core::system::UnitTree,
    ) -> HazardView {
        let overdue = matches!(h.state, HazardState::Reported | HazardState::Ordered)
            && h.deadline.is_some_and(|d| d < today);
        HazardView {
            state_label: h.state.label_zh().into(),
            escalated_to: overdue.then(|| tree.parent(h.unit_id)).flatten(),
            overdue,
            hazard: h,
        }
    }

    pub async fn list_hazards(
        &self,
        p: &Principal,
        q: &HazardQuery,
    ) -> AppResult<Page<HazardView>> {
        let scope = self.authorize(p, "hazard:list").await?;
        let page = self.store.list_hazards(&scope, q).await?;
        let tree = self.unit_tree().await?;
        let today = today_cn();
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(|h| self.hazard_view(h, today, &tree))
                .collect(),
            total: page.total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    pub async fn hazard_detail(
        &self,
        p: &Principal,
        id: i64,
    ) -> AppResult<(HazardView, Vec<HazardEvent>)> {
        let scope = self.authorize(p, "hazard:list").await?;
        let (h, events) = self.store.get_hazard(&scope, id).await?;
        let tree = self.unit_tree().await?;
        Ok((self.hazard_view(h, today_cn(), &tree), events))
    }

    /// One step of the closed loop, through the core's transition table.
    pub async fn hazard_action(
        &self,
        p: &Principal,
        id: i64,
        input: &HazardActionInput,
    ) -> AppResult<HazardView> {
        let scope = self.authorize(p, "hazard:handle").await?;
        let (h, _) = self.store.get_hazard(&scope, id).await?;
        let today = today_cn();
        let (action, name) = match input.action.as_str() {
            "order" => (HazardAction::Order, "order"),
            "submit" => (
                HazardAction::Submit {
                    evidence: input
                        .evidence
                        .iter()
                        .filter(|e| !e.trim().is_empty())
                        .count(),
                },
                "submit",
            ),
            "recheck" => match input.passed {
                Some(true) => (HazardAction::Recheck { passed: true }, "recheck_pass"),
                Some(false) => (HazardAction::Recheck { passed: false }, "recheck_fail"),
                None => return Err(AppError::field("passed", "required", "请选择复查是否通过")),
            },
            _ => return Err(AppError::field("action", "invalid", "未知的操作")),
        };
        if name == "submit" {
            self.check_file_refs(p, "evidence", &input.evidence).await?;
        }
        let to = hazard_next(h.state, &action).map_err(|e| {
            let field = matches!(e, hongdun_core::inspection::HazardError::NoEvidence)
                .then_some("evidence");
            AppError::rule(&e, field)
        })?;
        if name == "recheck_fail" && input.note.as_deref().unwrap_or("").trim().is_empty() {
            return Err(AppError::field(
                "note",
                "required",
                "复查未通过时请写明原因",
            ));
        }
        let deadline = if to == HazardState::Ordered {
            let days = input
                .deadline_days
                .filter(|d| (1..=365).contains(d))
                .ok_or_else(|| {
                    AppError::field(
                        "deadline_days",
                        "required",
                        "请填写整改期限（1–365 个工作日）",
                    )
                })?;
            Some(
                self.calendar()
                    .await?
                    .add_working_days(today, days)
                    .map_err(|e| AppError::rule(&e, Some("deadline_days")))?,
            )
        } else {
            None
        };
        let step = HazardStep {
            from: h.state,
            to,
            action: name.into(),
            note: input.note.clone().filter(|n| !n.trim().is_empty()),
            evidence: input
                .evidence
                .iter()
                .map(|e| e.trim().to_owned())
                .filter(|e| !e.is_empty())
                .collect(),
            deadline,
            today,
        };
        let after = match self
            .store
            .hazard_step(&p.audit_ctx(), &scope, id, &step)
            .await
        {
            Err(StoreError::Conflict { .. }) => {
                return Err(AppError::Rule {
                    code: "hazard_state",
                    message: "隐患状态已被他人更新，请刷新后重试".into(),
                    field: None,
                })
            }
            other => other?,
        };
        let tree = self.unit_tree().await?;
        Ok(self.hazard_view(after, today, &tree))
    }

    /// 日巡查、周比对、月排名 for `month` ("YYYY-MM").
    pub async fn hazard_report(&self, p: &Principal, month: &str) -> AppResult<HazardReport> {
        let scope = self.authorize(p, "hazard:list").await?;
        let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
            .map_err(|_| AppError::field("month", "invalid", "月份格式应为 YYYY-MM"))?;
        let next = first
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(first);
        let last = next - Days::new(1);
        let today = today_cn();
        let week_end = if today >= first && today <= last {
            today
        } else {
            last
        };
        let week_start = week_end - Days::new(u64::from(week_end.weekday().num_days_from_monday()));
        let prev_start = week_start - Days::new(7);
        let from = first.min(prev_start);
        let days = self.store.hazard_days(&scope, from, last).await?;
        let mut daily: BTreeMap<NaiveDate, Count2> = BTreeMap::new();
        let mut d = first;
        while d <= last {
            daily.insert(
                d,
                Count2 {
                    key: d.to_string(),
                    ..Default::default()
                },
            );
            d = d + Days::new(1);
        }
        let (mut this_week, mut last_week) = (
            Count2 {
                key: week_start.to_string(),
                ..Default::default()
            },
            Count2 {
                key: prev_start.to_string(),
                ..Default::default()
            },
        );
        let mut per_unit: BTreeMap<UnitId, (i64, i64)> = BTreeMap::new();
        for row in &days {
            if let Some(c) = daily.get_mut(&row.day) {
                c.found += row.found;
                c.closed += row.closed;
                let e = per_unit.entry(row.unit_id).or_default();
                e.0 += row.found;
                e.1 += row.closed;
            }
            if row.day >= week_start && row.day <= week_end {
                this_week.found += row.found;
                this_week.closed += row.closed;
            } else if row.day >= prev_start && row.day < week_start {
                last_week.found += row.found;
                last_week.closed += row.closed;
            }
        }
        let units = self.store.list_units(&scope).await?;
        let mut ranking: Vec<OfficeRank> = units
            .iter()
            .filter(|u| {
                u.kind == hongdun_core::system::UnitKind::Office && scope.allows(Some(u.id), None)
            })
            .map(|u| {
                let (found, closed) = per_unit.get(&u.id).copied().unwrap_or_default();
                let rate = if found == 0 {
                    100.0
                } else {
                    (closed as f64 * 1000.0 / found as f64).round() / 10.0
                };
                OfficeRank {
                    rank: 0,
                    unit_id: u.id,
                    unit_name: u.name.clone(),
                    found,
                    closed,
                    closure_rate: rate,
                }
            })
            .collect();
        ranking.sort_by(|a, b| {
            b.closure_rate
                .total_cmp(&a.closure_rate)
                .then(b.closed.cmp(&a.closed))
                .then(a.unit_name.cmp(&b.unit_name))
        });
        for (i, r) in ranking.iter_mut().enumerate() {
            r.rank = i + 1;
        }
        Ok(HazardReport {
            month: month.into(),
            daily: daily.into_values().collect(),
            this_week,
            last_week,
            ranking,
        })
    }

    /// Every hazard matching `q`, page by page (the store pages at most 500).
    pub(crate) async fn all_hazards(
        &self,
        scope: &ScopeFilter,
        mut q: HazardQuery,
    ) -> AppResult<Vec<Hazard>> {
        let mut all = Vec::new();
        for page in 1.. {
            q.paging = Paging::new(page, Paging::MAX_PER_PAGE);
            let got = self.store.list_hazards(scope, &q).await?;
            let n = got.items.len();
            all.extend(got.items);
            if n < Paging::MAX_PER_PAGE as usize {
                break;
            }
        }
        Ok(all)
    }

    /// 回头看: a seeded draw of hazards closed in [from, to], stored like any draw.
    pub async fn revisit_draw(&self, p: &Principal, input: &RevisitInput) -> AppResult<Draw> {
        let scope = self.authorize(p, "hazard:revisit").await?;
        if input.from > input.to {
            return Err(AppError::field("to", "invalid", "结束日期不能早于开始日期"));
        }
        if input.count == 0 {
            return Err(AppError::field("count", "invalid", "抽取数量应大于 0"));
        }
        let closed = self
            .all_hazards(
                &scope,
                HazardQuery {
                    closed_between: Some((input.from, input.to)),
                    ..Default::default()
                },
            )
            .await?;
        if closed.is_empty() {
            return Err(AppError::Rule {
                code: "draw_no_candidates",
                message: "所选期间没有已销号的隐患".into(),
                field: Some("from".into()),
            });
        }
        let (seed, seed_source) = seed_or_os(input.seed.as_deref())?;
        let input_draw = DrawInput {
            seed: seed.clone(),
            sampling: Sampling::Count { count: input.count },
            team_size: 0,
            candidates: closed
                .iter()
                .map(|h| Candidate {
                    id: format!("H{}", h.id),
                    class: "closed".into(),
                    grid: None,
                })
                .collect(),
            inspectors: Vec::new(),
        };
        let outcome = draw(&input_draw).map_err(|e| AppError::rule(&e, None))?;
        let tree = self.unit_tree().await?;
        let new = NewDraw {
            plan_id: None,
            unit_id: tree.scope_anchor(p.user.unit_id),
            kind: "revisit".into(),
            seed,
            seed_source: seed_source.into(),
            seed_hash: outcome.seed_hash.clone(),
            algorithm: outcome.algorithm.clone(),
            algorithm_version: i64::from(outcome.algorithm_version),
            sampling: serde_json::to_value(&input_draw.sampling)
                .map_err(|e| AppError::Internal(e.to_string()))?,
            team_size: 0,
            candidates_count: input_draw.candidates.len() as i64,
            candidates_sha256: outcome.candidates_sha256.clone(),
            inspectors: serde_json::json!([]),
            inspectors_sha256: outcome.inspectors_sha256.clone(),
            outcome: serde_json::to_value(&outcome)
                .map_err(|e| AppError::Internal(e.to_string()))?,
        };
        Ok(self
            .store
            .save_draw(
                &p.audit_ctx(),
                new,
                PackedList::pack(&canonical_candidates(&input_draw.candidates)),
                Vec::new(),
            )
            .await?)
    }
}
