//! Food sampling tests (食品安全监督抽检): plans, samples, lab results judged
//! item by item, disposal of failures, publication. The rules are in
//! `hongdun_core::food_sample`; a failed sample ends only when a person closes
//! it after at least one disposal step.
use crate::inspection::today_cn;
use crate::{App, AppError, AppResult, FieldError, Principal};
use chrono::{Datelike, NaiveDate};
use hongdun_core::food_sample::{self as fs, SampleAction};
use hongdun_core::ids::UnitId;
use hongdun_store::{
    NewSample, NewSamplePlan, Page, Paging, Sample, SampleEvent, SamplePlan, SampleQuery,
    SampleResult, SampleStep, ScopeFilter, StoreError,
};
use serde::{Deserialize, Serialize};

/// Results a sample may carry.
pub const MAX_ITEMS: usize = 100;

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SamplePlanInput {
    pub year: i32,
    pub name: String,
    /// Samples to take.
    pub target: i32,
    pub note: Option<String>,
    /// The office or bureau the plan belongs to (default: the caller's).
    pub unit_id: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SampleInput {
    pub plan_id: i64,
    pub product: String,
    pub category: String,
    pub spec: Option<String>,
    pub batch_no: Option<String>,
    pub produced_on: Option<NaiveDate>,
    pub producer_name: String,
    pub producer_address: Option<String>,
    /// The business sampled (被抽样单位), by credit code.
    pub seller_uscc: String,
    pub place_kind: String,
    pub sampled_on: Option<NaiveDate>,
    pub lab: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResultInput {
    pub item: String,
    pub value: String,
    pub unit: Option<String>,
    pub limit: String,
    pub standard: String,
    /// The lab's verdict; required when the limit cannot be read, and must
    /// agree with the limit when it can.
    pub pass: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResultsInput {
    pub lab: Option<String>,
    pub results: Vec<ResultInput>,
    pub tested_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SampleActionInput {
    /// notice, recall, case, close
    pub action: String,
    pub note: Option<String>,
    /// The document, recall or case number.
    pub ref_no: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SampleView {
    #[serde(flatten)]
    pub sample: Sample,
    pub state_label: &'static str,
    pub category_label: &'static str,
    pub place_kind_label: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SampleDetail {
    pub sample: SampleView,
    pub results: Vec<SampleResult>,
    pub events: Vec<SampleEvent>,
}

/// A published result as anyone may read it (抽检信息公告).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicSample {
    pub sample_no: String,
    pub product: String,
    pub category: &'static str,
    pub spec: Option<String>,
    pub batch_no: Option<String>,
    pub produced_on: Option<NaiveDate>,
    pub producer_name: String,
    pub producer_address: Option<String>,
    pub seller_name: String,
    pub seller_uscc: Option<String>,
    pub place_kind: &'static str,
    pub sampled_on: NaiveDate,
    /// 合格 or 不合格
    pub conclusion: &'static str,
    pub passed: bool,
    /// The failed items only.
    pub failed_items: Vec<SampleResult>,
    pub published_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SampleFigureRow {
    pub key: String,
    pub label: String,
    pub taken: i64,
    pub tested: i64,
    pub failed: i64,
    /// Failed samples not yet closed.
    pub open: i64,
    pub published: i64,
    /// failed / tested; null before any result.
    pub failure_rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SampleFigures {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub total: SampleFigureRow,
    pub by_unit: Vec<SampleFigureRow>,
    pub by_category: Vec<SampleFigureRow>,
}

fn view(s: Sample) -> SampleView {
    SampleView {
        state_label: s.state.label_zh(),
        category_label: fs::category_label(&s.category).unwrap_or("其他"),
        place_kind_label: fs::place_kind_label(&s.place_kind).unwrap_or("其他"),
        sample: s,
    }
}

fn text(v: &Option<String>, max: usize) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(max).collect())
}

fn figure_row(key: String, label: String, c: [i64; 5]) -> SampleFigureRow {
    SampleFigureRow {
        key,
        label,
        taken: c[0],
        tested: c[1],
        failed: c[2],
        open: c[3],
        published: c[4],
        failure_rate: (c[1] > 0).then(|| c[2] as f64 / c[1] as f64),
    }
}

impl App {
    pub async fn create_sample_plan(
        &self,
        p: &Principal,
        input: &SamplePlanInput,
    ) -> AppResult<SamplePlan> {
        let scope = self.authorize(p, "food:sample:create").await?;
        let mut errs = Vec::new();
        let this_year = today_cn().year();
        if !(this_year - 5..=this_year + 1).contains(&input.year) {
            errs.push(FieldError::new("year", "invalid", "年度不在可选范围内"));
        }
        if input.name.trim().is_empty() {
            errs.push(FieldError::new("name", "required", "请填写计划名称"));
        }
        if !(1..=100_000).contains(&input.target) {
            errs.push(FieldError::new(
                "target",
                "invalid",
                "计划批次应为 1–100000",
            ));
        }
        let unit = match input.unit_id {
            Some(u) if !scope.allows(Some(UnitId(u)), None) => {
                errs.push(FieldError::new(
                    "unit_id",
                    "not_found",
                    "单位不在您的管辖范围内",
                ));
                UnitId(u)
            }
            Some(u) => UnitId(u),
            None => self.unit_tree().await?.scope_anchor(p.user.unit_id),
        };
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        Ok(self
            .store
            .create_sample_plan(
                &p.audit_ctx(),
                &NewSamplePlan {
                    unit_id: unit,
                    year: input.year,
                    name: input.name.trim().chars().take(100).collect(),
                    target: input.target,
                    note: text(&input.note, 500),
                },
            )
            .await?)
    }

    pub async fn sample_plans(
        &self,
        p: &Principal,
        year: Option<i32>,
    ) -> AppResult<Vec<SamplePlan>> {
        let scope = self.authorize(p, "food:sample:list").await?;
        Ok(self.store.list_sample_plans(&scope, year).await?)
    }

    /// Checks a new sample and resolves its seller; the sample belongs to the
    /// seller's office.
    pub(crate) async fn new_sample(
        &self,
        scope: &ScopeFilter,
        input: &SampleInput,
    ) -> AppResult<NewSample> {
        let mut errs = Vec::new();
        let today = today_cn();
        if input.product.trim().is_empty() {
            errs.push(FieldError::new("product", "required", "请填写样品名称"));
        }
        if fs::category_label(&input.category).is_none() {
            errs.push(FieldError::new("category", "invalid", "请选择食品类别"));
        }
        if fs::place_kind_label(&input.place_kind).is_none() {
            errs.push(FieldError::new("place_kind", "invalid", "请选择抽样环节"));
        }
        if input.producer_name.trim().is_empty() {
            errs.push(FieldError::new(
                "producer_name",
                "required",
                "请填写标称生产者（无法确认时写“无”）",
            ));
        }
        let sampled_on = input.sampled_on.unwrap_or(today);
        if sampled_on > today {
            errs.push(FieldError::new(
                "sampled_on",
                "future",
                "抽样日期不能晚于今天",
            ));
        }
        if input.produced_on.is_some_and(|d| d > sampled_on) {
            errs.push(FieldError::new(
                "produced_on",
                "after_sampling",
                "生产日期不能晚于抽样日期",
            ));
        }
        let plan = match self.store.sample_plan(scope, input.plan_id).await {
            Ok(p) => Some(p),
            Err(StoreError::NotFound) => {
                errs.push(FieldError::new(
                    "plan_id",
                    "not_found",
                    "抽检计划不存在或不在您的管辖范围内",
                ));
                None
            }
            Err(e) => return Err(e.into()),
        };
        if plan.as_ref().is_some_and(|p| p.year != sampled_on.year()) {
            errs.push(FieldError::new(
                "sampled_on",
                "plan_year",
                "抽样日期不在该计划的年度内",
            ));
        }
        let seller = match self
            .store
            .entity_by_uscc(
                scope,
                &hongdun_core::registry::normalize_code(&input.seller_uscc),
            )
            .await
        {
            Ok(e) if e.unit_id.is_some() => Some(e),
            Ok(_) => {
                errs.push(FieldError::new(
                    "seller_uscc",
                    "unrouted",
                    "该经营主体尚未分配到监管所",
                ));
                None
            }
            Err(StoreError::NotFound) => {
                errs.push(FieldError::new(
                    "seller_uscc",
                    "not_found",
                    "辖区内没有这个统一社会信用代码的经营主体",
                ));
                None
            }
            Err(e) => return Err(e.into()),
        };
        let (Some(plan), Some(seller)) = (plan, seller) else {
            return Err(AppError::Validation(errs));
        };
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        Ok(NewSample {
            plan_id: plan.id,
            unit_id: seller.unit_id.expect("checked above"),
            product: input.product.trim().chars().take(100).collect(),
            category: input.category.clone(),
            spec: text(&input.spec, 50),
            batch_no: text(&input.batch_no, 50),
            produced_on: input.produced_on,
            producer_name: input.producer_name.trim().chars().take(100).collect(),
            producer_address: text(&input.producer_address, 200),
            seller_entity_id: seller.id,
            place_kind: input.place_kind.clone(),
            sampled_on,
            lab: text(&input.lab, 100),
        })
    }

    pub async fn create_sample(&self, p: &Principal, input: &SampleInput) -> AppResult<SampleView> {
        let scope = self.authorize(p, "food:sample:create").await?;
        let new = self.new_sample(&scope, input).await?;
        Ok(view(self.store.create_sample(&p.audit_ctx(), &new).await?))
    }

    pub async fn list_samples(
        &self,
        p: &Principal,
        q: &SampleQuery,
    ) -> AppResult<Page<SampleView>> {
        let scope = self.authorize(p, "food:sample:list").await?;
        let page = self.store.list_samples(&scope, q).await?;
        Ok(Page {
            items: page.items.into_iter().map(view).collect(),
            total: page.total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    pub async fn sample_detail(&self, p: &Principal, id: i64) -> AppResult<SampleDetail> {
        let scope = self.authorize(p, "food:sample:list").await?;
        let (s, results, events) = self.store.get_sample(&scope, id).await?;
        Ok(SampleDetail {
            sample: view(s),
            results,
            events,
        })
    }

    async fn step_sample(
        &self,
        p: &Principal,
        scope: &ScopeFilter,
        id: i64,
        step: SampleStep,
    ) -> AppResult<SampleDetail> {
        match self
            .store
            .sample_step(&p.audit_ctx(), scope, id, &step)
            .await
        {
            Err(StoreError::Conflict { .. }) => {
                return Err(AppError::Rule {
                    code: "sample_state",
                    message: "样品状态已被他人更新，请刷新后重试".into(),
                    field: None,
                })
            }
            other => other?,
        };
        let (s, results, events) = self.store.get_sample(scope, id).await?;
        Ok(SampleDetail {
            sample: view(s),
            results,
            events,
        })
    }

    /// The lab's results. Each item is judged against its limit; the lab's own
    /// verdict is needed only where the limit cannot be read, and must agree
    /// where it can.
    pub async fn record_sample_results(
        &self,
        p: &Principal,
        id: i64,
        input: &ResultsInput,
    ) -> AppResult<SampleDetail> {
        let scope = self.authorize(p, "food:sample:record").await?;
        let (s, _, _) = self.store.get_sample(&scope, id).await?;
        if s.state.has_results() {
            // Results are entered once; a re-test (复检) is a new sample.
            return Err(AppError::rule(&fs::SampleError::NotAllowed(s.state), None));
        }
        let mut errs = Vec::new();
        if input.results.is_empty() {
            errs.push(FieldError::new(
                "results",
                "required",
                "请至少录入一个检验项目",
            ));
        }
        if input.results.len() > MAX_ITEMS {
            errs.push(FieldError::new(
                "results",
                "too_many",
                format!("检验项目不能超过 {MAX_ITEMS} 项"),
            ));
        }
        let today = today_cn();
        let tested_on = input.tested_on.unwrap_or(today);
        if tested_on > today || tested_on < s.sampled_on {
            errs.push(FieldError::new(
                "tested_on",
                "invalid",
                "检验日期应在抽样日期与今天之间",
            ));
        }
        let mut results = Vec::with_capacity(input.results.len());
        for (i, r) in input.results.iter().enumerate() {
            let f = |name: &str| format!("results[{i}].{name}");
            for (name, v) in [
                ("item", &r.item),
                ("value", &r.value),
                ("limit", &r.limit),
                ("standard", &r.standard),
            ] {
                if v.trim().is_empty() {
                    errs.push(FieldError::new(&f(name), "required", "此项必填"));
                }
            }
            let pass = match (fs::judge(&r.value, &r.limit), r.pass) {
                (Some(c), Some(given)) if c != given => {
                    errs.push(FieldError::new(
                        &f("pass"),
                        "sample_judgement_mismatch",
                        format!(
                            "按标准指标“{}”，结果“{}”应判定为{}",
                            r.limit.trim(),
                            r.value.trim(),
                            if c { "合格" } else { "不合格" }
                        ),
                    ));
                    c
                }
                (Some(c), _) => c,
                (None, Some(given)) => given,
                (None, None) => {
                    errs.push(FieldError::new(
                        &f("pass"),
                        "sample_judgement_required",
                        "无法按标准指标自动判定，请选择该项是否合格",
                    ));
                    false
                }
            };
            results.push(SampleResult {
                item: r.item.trim().chars().take(100).collect(),
                value: r.value.trim().chars().take(50).collect(),
                unit: text(&r.unit, 20),
                limit: r.limit.trim().chars().take(50).collect(),
                standard: r.standard.trim().chars().take(100).collect(),
                pass,
            });
        }
        if !errs.is_empty() {
            return Err(AppError::Validation(errs));
        }
        let failed = results.iter().any(|r| !r.pass);
        let to = fs::sample_next(s.state, &SampleAction::Results { failed })
            .map_err(|e| AppError::rule(&e, None))?;
        let step = SampleStep {
            from: s.state,
            to,
            action: "results".into(),
            note: Some(format!(
                "{} 项，{} 项不合格",
                results.len(),
                results.iter().filter(|r| !r.pass).count()
            )),
            ref_no: None,
            results,
            lab: text(&input.lab, 100),
            today: tested_on,
        };
        self.step_sample(p, &scope, id, step).await
    }

    /// A disposal step on a failed sample, or closing it.
    pub async fn sample_action(
        &self,
        p: &Principal,
        id: i64,
        input: &SampleActionInput,
    ) -> AppResult<SampleDetail> {
        let scope = self.authorize(p, "food:sample:record").await?;
        let (s, _, events) = self.store.get_sample(&scope, id).await?;
        let note = text(&input.note, 1000);
        let ref_no = text(&input.ref_no, 50);
        let action = match input.action.as_str() {
            "notice" | "recall" | "case" => SampleAction::Dispose,
            "close" => SampleAction::Close {
                disposals: events
                    .iter()
                    .filter(|e| fs::DISPOSALS.iter().any(|(c, _)| *c == e.action))
                    .count(),
            },
            _ => return Err(AppError::field("action", "invalid", "未知的操作")),
        };
        let to = fs::sample_next(s.state, &action).map_err(|e| AppError::rule(&e, None))?;
        if note.is_none() {
            return Err(AppError::field(
                "note",
                "required",
                if input.action == "close" {
                    "请写明核查处置结果"
                } else {
                    "请写明处置情况"
                },
            ));
        }
        if input.action == "case" && ref_no.is_none() {
            return Err(AppError::field("ref_no", "required", "请填写立案编号"));
        }
        let step = SampleStep {
            from: s.state,
            to,
            action: input.action.clone(),
            note,
            ref_no,
            results: Vec::new(),
            lab: None,
            today: today_cn(),
        };
        self.step_sample(p, &scope, id, step).await
    }

    pub async fn publish_sample(&self, p: &Principal, id: i64) -> AppResult<SampleView> {
        let scope = self.authorize(p, "food:sample:publish").await?;
        let (s, _, _) = self.store.get_sample(&scope, id).await?;
        if !s.state.has_results() {
            return Err(AppError::Rule {
                code: "sample_no_results",
                message: "尚无检验结果，不能公布".into(),
                field: None,
            });
        }
        if s.published_on.is_some() {
            return Err(AppError::Rule {
                code: "sample_published",
                message: "该样品的检验结果已公布".into(),
                field: None,
            });
        }
        match self
            .store
            .publish_sample(&p.audit_ctx(), &scope, id, today_cn())
            .await
        {
            Err(StoreError::Conflict { .. }) => Err(AppError::Rule {
                code: "sample_published",
                message: "该样品的检验结果已公布".into(),
                field: None,
            }),
            other => Ok(view(other?)),
        }
    }

    /// Published results, for anyone: nothing personal, the failed items named.
    pub async fn public_samples(
        &self,
        q: Option<&str>,
        failed: Option<bool>,
        paging: Paging,
    ) -> AppResult<Page<PublicSample>> {
        let page = self
            .store
            .list_samples(
                &ScopeFilter::All,
                &SampleQuery {
                    published: Some(true),
                    failed,
                    q: q.map(str::to_owned),
                    paging,
                    ..Default::default()
                },
            )
            .await?;
        let failed_ids: Vec<i64> = page
            .items
            .iter()
            .filter(|s| s.state.failed())
            .map(|s| s.id)
            .collect();
        let mut items: std::collections::HashMap<i64, Vec<SampleResult>> = Default::default();
        for (id, r) in self.store.failed_results(&failed_ids).await? {
            items.entry(id).or_default().push(r);
        }
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(|s| PublicSample {
                    failed_items: items.remove(&s.id).unwrap_or_default(),
                    passed: !s.state.failed(),
                    conclusion: if s.state.failed() {
                        "不合格"
                    } else {
                        "合格"
                    },
                    sample_no: s.sample_no,
                    product: s.product,
                    category: fs::category_label(&s.category).unwrap_or("其他"),
                    spec: s.spec,
                    batch_no: s.batch_no,
                    produced_on: s.produced_on,
                    producer_name: s.producer_name,
                    producer_address: s.producer_address,
                    seller_name: s.seller_name,
                    seller_uscc: s.seller_uscc,
                    place_kind: fs::place_kind_label(&s.place_kind).unwrap_or("其他"),
                    sampled_on: s.sampled_on,
                    published_on: s.published_on,
                })
                .collect(),
            total: page.total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// Taken, tested, failed, open and published per office and category.
    pub async fn sample_figures(
        &self,
        p: &Principal,
        from: NaiveDate,
        to: NaiveDate,
    ) -> AppResult<SampleFigures> {
        let scope = self.authorize(p, "food:sample:list").await?;
        if to < from {
            return Err(AppError::field("to", "invalid", "结束日期不能早于开始日期"));
        }
        let tallies = self.store.sample_tallies(&scope, from, to).await?;
        let units = self.store.list_units(&ScopeFilter::All).await?;
        let unit_name = |id: UnitId| {
            units
                .iter()
                .find(|u| u.id == id)
                .map_or_else(|| id.0.to_string(), |u| u.name.clone())
        };
        let mut by_unit: std::collections::BTreeMap<i64, [i64; 5]> = Default::default();
        let mut by_cat: std::collections::BTreeMap<String, [i64; 5]> = Default::default();
        let mut total = [0i64; 5];
        for t in &tallies {
            let c = [t.taken, t.tested, t.failed, t.open, t.published];
            for (acc, add) in [
                by_unit.entry(t.unit_id.0).or_default(),
                by_cat.entry(t.category.clone()).or_default(),
                &mut total,
            ]
            .into_iter()
            .map(|a| (a, c))
            {
                for i in 0..5 {
                    acc[i] += add[i];
                }
            }
        }
        Ok(SampleFigures {
            from,
            to,
            total: figure_row("total".into(), "合计".into(), total),
            by_unit: by_unit
                .into_iter()
                .map(|(u, c)| figure_row(u.to_string(), unit_name(UnitId(u)), c))
                .collect(),
            by_category: by_cat
                .into_iter()
                .map(|(k, c)| {
                    let label = fs::category_label(&k).unwrap_or("其他").to_owned();
                    figure_row(k, label, c)
                })
                .collect(),
        })
    }
}
