//! A demo county: the real bureau structure of one county (default 天台县
//! 331023) with its real townships, and one login per built-in role. The
//! synthetic businesses and activity come with the generator (issue 4).
use crate::system::{UnitInput, UserInput};
use crate::{App, AppError, AppResult};
use hongdun_store::{AuditCtx, ScopeFilter, StoreError, Unit};

/// Sections of a county bureau (科室), by code and name.
const SECTIONS: &[(&str, &str)] = &[
    ("office", "办公室"),
    ("registry", "登记注册科"),
    ("food", "食品安全监管科"),
    ("drug", "药品医疗器械化妆品监管科"),
    ("quality", "质量发展与标准计量科"),
    ("ip", "知识产权科"),
    ("consumer", "消费者权益保护科"),
    ("equipment", "特种设备安全监察科"),
    ("enforcement", "综合行政执法队"),
];

/// A login created for the demo, printed once.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub username: String,
    pub password: String,
    pub role: String,
    pub unit: String,
}

/// Shown on screen for the demo only; a real deployment sets its own.
pub const DEMO_PASSWORD: &str = "Hongdun@2026";

impl App {
    /// Creates the county's bureau, sections, offices and demo users, unless the
    /// bureau exists already. Returns the logins (empty when nothing was created).
    pub async fn create_demo_county(&self, county: &str) -> AppResult<Vec<DemoLogin>> {
        self.create_county(county, "").await
    }

    /// As `create_demo_county`, with `prefix` before every username, so tests can
    /// build several counties in one database.
    pub async fn create_county(&self, county: &str, prefix: &str) -> AppResult<Vec<DemoLogin>> {
        self.create_county_in(county, prefix, None).await
    }

    /// The demo of a city or a province (`division` of 4 or 2 digits): its
    /// bureau with an administrator, a leader and an auditor, and under it every
    /// county's bureau, sections, offices and staff (usernames prefixed
    /// `u{county}_`). A county code gives `create_demo_county`. Returns the
    /// logins to show — one per built-in role, inspectors of two offices — and
    /// the counties created.
    pub async fn create_demo_region(
        &self,
        division: &str,
    ) -> AppResult<(Vec<DemoLogin>, Vec<String>)> {
        if division.len() == 6 {
            return Ok((
                self.create_demo_county(division).await?,
                vec![division.to_owned()],
            ));
        }
        let region = self
            .store
            .get_division(division)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => {
                    AppError::field("division", "division_unknown", "行政区划代码不存在")
                }
                e => e.into(),
            })?;
        let counties: Vec<String> = crate::gen::world::plan(division, 0)
            .map_err(|e| AppError::field("division", "division_unknown", e))?
            .into_iter()
            .map(|c| c.code)
            .collect();
        let code = format!("{division}-amr");
        if self.store.find_unit_by_code(&code).await.is_ok() {
            return Ok((Vec::new(), counties));
        }
        let ctx = AuditCtx::system("demo");
        let all = ScopeFilter::All;
        let top = self
            .create_unit_as(
                &ctx,
                &all,
                &UnitInput {
                    parent_id: None,
                    code,
                    name: format!("{}市场监督管理局", region.name),
                    kind: "bureau".into(),
                    jurisdiction: vec![division.to_owned()],
                    sort: 0,
                },
            )
            .await?;
        let mut logins = Vec::new();
        for (username, title, role) in [
            ("admin", "系统管理员", "admin"),
            ("leader", "局长", "leader"),
            ("auditor", "审计员", "auditor"),
        ] {
            self.create_user_as(
                &ctx,
                &all,
                &UserInput {
                    username: username.into(),
                    display_name: format!("{}{title}", region.name),
                    unit_id: top.id,
                    phone: None,
                    cert_no: None,
                    password: DEMO_PASSWORD.into(),
                    role_codes: vec![role.into()],
                },
            )
            .await?;
            logins.push(DemoLogin {
                username: username.into(),
                password: DEMO_PASSWORD.into(),
                role: role.into(),
                unit: top.name.clone(),
            });
        }
        for (i, county) in counties.iter().enumerate() {
            let mine = self
                .create_county_in(county, &format!("u{county}_"), Some(top.id))
                .await?;
            // The first county's section staff and inspectors stand for all.
            if i == 0 {
                logins.extend(
                    mine.into_iter()
                        .filter(|l| matches!(l.role.as_str(), "section_staff" | "inspector")),
                );
            }
        }
        Ok((logins, counties))
    }

    async fn create_county_in(
        &self,
        county: &str,
        prefix: &str,
        parent: Option<hongdun_core::ids::UnitId>,
    ) -> AppResult<Vec<DemoLogin>> {
        let division = self.store.get_division(county).await.map_err(|e| match e {
            StoreError::NotFound => {
                AppError::field("division", "division_unknown", "行政区划代码不存在")
            }
            e => e.into(),
        })?;
        if division.code.len() != 6 {
            return Err(AppError::field(
                "division",
                "division_not_county",
                "演示数据需要一个县级行政区划代码（6 位）",
            ));
        }
        let bureau_code = format!("{}-amr", division.code);
        if self.store.find_unit_by_code(&bureau_code).await.is_ok() {
            return Ok(Vec::new());
        }
        let ctx = AuditCtx::system("demo");
        let all = ScopeFilter::All;
        let short = division
            .name
            .trim_end_matches(['县', '区', '市'])
            .to_owned();
        let bureau = self
            .create_unit_as(
                &ctx,
                &all,
                &UnitInput {
                    parent_id: parent,
                    code: bureau_code.clone(),
                    name: format!("{}市场监督管理局", division.name),
                    kind: "bureau".into(),
                    jurisdiction: vec![division.code.clone()],
                    sort: 0,
                },
            )
            .await?;
        let mut sections = Vec::new();
        for (i, (code, name)) in SECTIONS.iter().enumerate() {
            let input = UnitInput {
                parent_id: Some(bureau.id),
                code: format!("{bureau_code}-{code}"),
                name: (*name).into(),
                kind: "section".into(),
                jurisdiction: vec![division.code.clone()],
                sort: i as i64,
            };
            sections.push(self.create_unit_as(&ctx, &all, &input).await?);
        }
        // One office (市场监管所) per township, one grid under each.
        let mut offices: Vec<Unit> = Vec::new();
        for (i, t) in self
            .store
            .list_divisions(Some(&division.code))
            .await?
            .iter()
            .enumerate()
        {
            let town = t
                .name
                .trim_end_matches(['镇', '乡'])
                .trim_end_matches("街道")
                .to_owned();
            let office = self
                .create_unit_as(
                    &ctx,
                    &all,
                    &UnitInput {
                        parent_id: Some(bureau.id),
                        code: format!("{bureau_code}-o{}", &t.code[6..]),
                        name: format!("{town}市场监管所"),
                        kind: "office".into(),
                        jurisdiction: vec![t.code.clone()],
                        sort: 100 + i as i64,
                    },
                )
                .await?;
            self.create_unit_as(
                &ctx,
                &all,
                &UnitInput {
                    parent_id: Some(office.id),
                    code: format!("{bureau_code}-g{}-1", &t.code[6..]),
                    name: format!("{town}第一网格"),
                    kind: "grid".into(),
                    jurisdiction: vec![t.code.clone()],
                    sort: 0,
                },
            )
            .await?;
            offices.push(office);
        }
        let food = &sections[2];
        let mut plan: Vec<(&str, &str, &Unit, &str)> = vec![
            ("admin", "系统管理员", &bureau, "admin"),
            ("leader", "局长", &bureau, "leader"),
            ("food", "食品科科员", food, "section_staff"),
            ("auditor", "审计员", &bureau, "auditor"),
        ];
        let inspector_names = ["inspector1", "inspector2"];
        for (name, office) in inspector_names.iter().zip(offices.iter()) {
            plan.push((name, "所检查员", office, "inspector"));
        }
        let mut logins = Vec::new();
        for (i, (username, title, unit, role)) in plan.into_iter().enumerate() {
            let username = format!("{prefix}{username}");
            let input = UserInput {
                username: username.clone(),
                display_name: format!("{short}{title}"),
                unit_id: unit.id,
                phone: None,
                cert_no: (role == "inspector")
                    .then(|| format!("33{}{:06}", &division.code[2..6], 100 + i)),
                password: DEMO_PASSWORD.into(),
                role_codes: vec![role.into()],
            };
            self.create_user_as(&ctx, &all, &input).await?;
            logins.push(DemoLogin {
                username,
                password: DEMO_PASSWORD.into(),
                role: role.into(),
                unit: unit.name.clone(),
            });
        }
        Ok(logins)
    }
}

impl App {
    /// Gives the food businesses among the first `rows` generated entities of
    /// `county` (seed `seed`) their licences, dated around today, so the demo's
    /// licence watch lists and public pages have something to show. Returns how
    /// many were added (none again on a second run: numbers are unique).
    pub async fn load_demo_licences(&self, county: &str, rows: u64, seed: u64) -> AppResult<u64> {
        use crate::gen::{entities, licences};
        let (county_name, towns) = entities::towns_of(county).map_err(AppError::Internal)?;
        let today = chrono::Utc::now().date_naive();
        let ctx = AuditCtx::system("demo");
        let mut batch = Vec::with_capacity(5_000);
        let mut added = 0;
        for n in 0..rows {
            let e = entities::entity(seed, n, county, &county_name, &towns);
            if let Some(l) = licences::licence(seed, n, &e, county, &county_name, today) {
                batch.push((
                    l.uscc,
                    hongdun_store::NewLicence {
                        kind: l.kind,
                        number: l.number,
                        issuer: Some(l.issuer),
                        issued_on: Some(l.issued_on),
                        expires_on: Some(l.expires_on),
                        status: "valid".into(),
                    },
                ));
            }
            if batch.len() == 5_000 || (n + 1 == rows && !batch.is_empty()) {
                added += self.store.load_licences(&ctx, &batch).await?;
                batch.clear();
            }
        }
        Ok(added)
    }
}

impl App {
    /// A demo county's bureau and the scope of its units (a city's demo holds
    /// several counties; each loader stays within one).
    async fn demo_county(&self, county: &str) -> AppResult<(Unit, ScopeFilter)> {
        let bureau = self
            .store
            .find_unit_by_code(&format!("{county}-amr"))
            .await?;
        let units = self
            .unit_tree()
            .await?
            .subtree(bureau.id)
            .into_iter()
            .collect();
        Ok((bureau, ScopeFilter::Limited { units, user: None }))
    }

    /// A year of random inspections in the demo county: the item list, two
    /// certified inspectors in every office, four quarterly plans drawn with
    /// published seeds, visits with a county's mix of outcomes (most of them
    /// published), the hazards they found and others found directly, taken
    /// through the loop — dated over the past year. Skipped when plans exist.
    /// Returns (tasks, hazards).
    pub async fn load_demo_inspections(
        &self,
        county: &str,
        seed: u64,
    ) -> AppResult<(usize, usize)> {
        use crate::gen::inspections as g;
        use hongdun_core::inspection::{hazard_next, HazardAction, Sampling};
        use hongdun_store::*;
        let ctx = AuditCtx::system("demo");
        // Once per county: skipped when the county's bureau has plans.
        let (bureau, county_scope) = self.demo_county(county).await?;
        if self
            .store
            .list_plans(&county_scope, Paging::new(1, 1))
            .await?
            .total
            > 0
        {
            return Ok((0, 0));
        }
        // Everything below stays within the county (a city's demo has several).
        let all = county_scope;
        let units = self.store.list_units(&all).await?;
        let section = |code: &str| {
            units
                .iter()
                .find(|u| u.code == format!("{county}-amr-{code}"))
                .map(|u| u.id)
        };
        let offices: Vec<&Unit> = units
            .iter()
            .filter(|u| {
                u.parent_id == Some(bureau.id) && u.kind == hongdun_core::system::UnitKind::Office
            })
            .collect();
        let mut items = Vec::new();
        for (code, name, basis, dept, industries) in g::ITEMS {
            let item = self
                .store
                .put_item(
                    &ctx,
                    &NewInspectionItem {
                        code: (*code).into(),
                        name: (*name).into(),
                        department_id: section(dept),
                        legal_basis: (*basis).into(),
                        kinds: Vec::new(),
                        industries: industries.iter().map(|s| (*s).to_owned()).collect(),
                        enabled: true,
                    },
                )
                .await?;
            items.push(item.id);
        }
        // Two certified inspectors per office.
        let mut pool = Vec::new();
        for (i, office) in offices.iter().enumerate() {
            for k in 1..=2 {
                let username = format!(
                    "ins{}{}_{k}",
                    &county[4..],
                    &office.code[office.code.len() - 3..]
                );
                let user = match self
                    .create_user_as(
                        &ctx,
                        &all,
                        &crate::system::UserInput {
                            username: username.clone(),
                            display_name: format!(
                                "{}检查员{k}",
                                office.name.trim_end_matches("市场监管所")
                            ),
                            unit_id: office.id,
                            phone: None,
                            cert_no: Some(format!("33{}{:06}", &county[2..6], 500 + i * 2 + k)),
                            password: DEMO_PASSWORD.into(),
                            role_codes: vec!["inspector".into()],
                        },
                    )
                    .await
                {
                    Ok(u) => u,
                    Err(AppError::Conflict { .. }) => continue,
                    Err(e) => return Err(e),
                };
                pool.push(user.id);
            }
        }
        let today = crate::inspection::today_cn();
        let cal = self.calendar().await?;
        let mut tasks_done = 0;
        // Four quarterly plans: the oldest a year ago, the last still in progress.
        let plans = [
            (
                "第一季度食品经营者双随机抽查",
                vec!["H62".to_owned()],
                360i64,
                120usize,
            ),
            ("第二季度经营主体登记事项双随机抽查", vec![], 270, 150),
            (
                "第三季度食品销售者双随机抽查",
                vec!["F52".to_owned()],
                180,
                120,
            ),
            (
                "第四季度餐饮服务单位联合抽查",
                vec!["H62".to_owned()],
                60,
                150,
            ),
        ];
        for (q, (name, industries, start_ago, count)) in plans.into_iter().enumerate() {
            let plan_items: Vec<i64> = g::ITEMS
                .iter()
                .zip(&items)
                .filter(|((_, _, _, _, ind), _)| {
                    ind.is_empty()
                        || industries.is_empty()
                        || industries.iter().any(|i| ind.contains(&i.as_str()))
                })
                .map(|(_, id)| *id)
                .take(4)
                .collect();
            let plan = self
                .store
                .create_plan(
                    &ctx,
                    &NewPlan {
                        unit_id: bureau.id,
                        name: name.into(),
                        departments: section("food").into_iter().collect(),
                        items: plan_items.clone(),
                        target: TargetFilter {
                            industries,
                            ..Default::default()
                        },
                        sampling: serde_json::to_value(Sampling::Count { count })
                            .map_err(|e| AppError::Internal(e.to_string()))?,
                        exclude_months: 0,
                        team_size: 2,
                        pool: pool.clone(),
                        publish_days: crate::inspection::DEFAULT_PUBLISH_DAYS,
                    },
                )
                .await?;
            let draw_seed = format!(
                "{}{:02}{}",
                today.format("%Y"),
                q + 1,
                7_000_000 + seed * 1_000 + q as u64
            );
            self.run_draw(&ctx, &all, &plan, draw_seed, "typed").await?;
            let tasks = self
                .store
                .list_tasks(
                    &all,
                    &TaskQuery {
                        plan_id: Some(plan.id),
                        paging: Paging::new(1, 500),
                        ..Default::default()
                    },
                )
                .await?;
            let span = (start_ago - 5).min(85) as u64;
            for t in &tasks.items {
                let n = t.id as u64;
                let day = today
                    - chrono::Days::new(
                        (start_ago as u64).saturating_sub(g::visit_day(seed, n, span)),
                    );
                // The current quarter is under way: 60% visited so far.
                if q == 3 && g::visit_day(seed, n ^ 0xFF, 100) >= 60 {
                    continue;
                }
                let outcome = g::outcome(seed, n);
                let problem = matches!(
                    outcome,
                    "rectified_on_site" | "rectification_ordered" | "case_opened"
                );
                let records: Vec<ItemRecord> = if outcome == "not_found" {
                    Vec::new()
                } else {
                    plan_items
                        .iter()
                        .enumerate()
                        .map(|(k, id)| ItemRecord {
                            item_id: *id,
                            verdict: if problem && k == (n as usize % plan_items.len()) {
                                "non_compliant"
                            } else {
                                "compliant"
                            }
                            .into(),
                            note: None,
                            photos: Vec::new(),
                        })
                        .collect()
                };
                let hazards = records
                    .iter()
                    .filter(|r| r.verdict == "non_compliant")
                    .map(|r| NewHazard {
                        unit_id: t.unit_id.unwrap_or(bureau.id),
                        entity_id: Some(t.entity_id),
                        place: t.entity_name.clone(),
                        task_id: None,
                        category: "inspection".into(),
                        description: g::ITEMS
                            .iter()
                            .zip(&items)
                            .find(|(_, id)| **id == r.item_id)
                            .map_or("检查发现问题".into(), |(it, _)| {
                                format!("{}不符合要求", it.1)
                            }),
                        found_on: day,
                    })
                    .collect();
                let visited_at = day
                    .and_hms_opt(2 + (n % 6) as u32, (n % 60) as u32, 0)
                    .expect("time")
                    .and_utc();
                self.store
                    .record_task(
                        &ctx,
                        &all,
                        None,
                        t.id,
                        &TaskResult {
                            records,
                            outcome: outcome.into(),
                            note: None,
                            visited_at,
                            lat: None,
                            lng: None,
                            publish_due: cal.add_working_days(day, 20).ok(),
                            hazards,
                        },
                    )
                    .await?;
                tasks_done += 1;
                if (today - day).num_days() > 10 && !n.is_multiple_of(25) {
                    self.store.publish_task(&ctx, &all, t.id).await?;
                }
            }
        }
        // Hazards found directly, on businesses of the county.
        let candidates = self
            .store
            .draw_candidates(&all, &CandidateQuery::default())
            .await?;
        if !candidates.is_empty() {
            for n in 0..120u64 {
                let (category, what, ago) = g::direct_hazard(seed, n);
                let c = (n as usize * 7919) % candidates.len();
                let Some(unit) = candidates.unit_id(c) else {
                    continue;
                };
                let entity_id = candidates.entity_id(c);
                let e = self.store.get_entity(&all, entity_id).await?;
                self.store
                    .create_hazard(
                        &ctx,
                        &NewHazard {
                            unit_id: unit,
                            entity_id: Some(entity_id),
                            place: e.name,
                            task_id: None,
                            category: category.into(),
                            description: what.into(),
                            found_on: today - chrono::Days::new(ago),
                        },
                    )
                    .await?;
            }
        }
        // One stand-in photo for the evidence of every rectification.
        let photo = self
            .store
            .put_file(
                &ctx,
                &NewFile {
                    sha256: hongdun_core::sampling::sha256_hex("demo-photo"),
                    name: "整改照片.png".into(),
                    content_type: "image/png".into(),
                    data: crate::files::TINY_PNG.to_vec(),
                    unit_id: bureau.id,
                },
            )
            .await?;
        // Every hazard through the loop, as far as its age allows.
        let hazards = self.all_hazards(&all, HazardQuery::default()).await?;
        for h in &hazards {
            let age = (today - h.found_on).num_days();
            let (closes_after, submitted) = g::hazard_fate(seed, h.id as u64, age);
            let mut state = h.state;
            let mut step = |action: HazardAction,
                            name: &str,
                            deadline: Option<chrono::NaiveDate>,
                            at: chrono::NaiveDate| {
                let to = hazard_next(state, &action).map_err(|e| AppError::rule(&e, None));
                let s = to.map(|to| HazardStep {
                    from: state,
                    to,
                    action: name.into(),
                    note: None,
                    evidence: if name == "submit" {
                        vec![format!("file:{}", photo.id)]
                    } else {
                        Vec::new()
                    },
                    deadline,
                    today: at,
                });
                if let Ok(s) = &s {
                    state = s.to;
                }
                s
            };
            let deadline = cal.add_working_days(h.found_on, 10).ok();
            let order = step(HazardAction::Order, "order", deadline, h.found_on)?;
            self.store.hazard_step(&ctx, &all, h.id, &order).await?;
            match closes_after {
                Some(days) => {
                    let at = h.found_on + chrono::Days::new(days as u64);
                    for (a, name) in [
                        (HazardAction::Submit { evidence: 1 }, "submit"),
                        (HazardAction::Recheck { passed: true }, "recheck_pass"),
                    ] {
                        let s = step(a, name, None, at)?;
                        self.store.hazard_step(&ctx, &all, h.id, &s).await?;
                    }
                }
                None if submitted => {
                    let s = step(HazardAction::Submit { evidence: 1 }, "submit", None, today)?;
                    self.store.hazard_step(&ctx, &all, h.id, &s).await?;
                }
                None => {}
            }
        }
        Ok((tasks_done, hazards.len()))
    }
}

/// What `load_demo_complaints` did, counted as it went: a recount the
/// figures must agree with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComplaintYear {
    /// Cases stored, merged repeats included.
    pub cases: usize,
    /// Merged into an earlier case (not counted in the figures).
    pub merged: usize,
    /// Accepted (a complaint accepted or a report checked).
    pub accepted: usize,
    pub closed: usize,
    /// Fen recovered for consumers.
    pub recovered: i64,
    /// Received per office, merged excluded.
    pub by_unit: std::collections::BTreeMap<i64, usize>,
}

impl App {
    /// A year of complaints, reports and enquiries in a county (see
    /// `gen::complaints`), entered through the same use cases as the console,
    /// by `username` (who must hold the complaint permissions over the county),
    /// and taken through their steps on the days the generator picks — up to
    /// yesterday; recent ones are still open. Skipped when cases exist.
    pub async fn load_demo_complaints(
        &self,
        county: &str,
        username: &str,
        seed: u64,
        cases: usize,
    ) -> AppResult<ComplaintYear> {
        use crate::complaint::{CaseActionInput, CaseInput, Submitter};
        use crate::gen::{complaints as g, Rng};
        use hongdun_core::complaint::{CaseKind, CaseState, Channel};
        use hongdun_store::*;
        let all = ScopeFilter::All;
        let mut year = ComplaintYear::default();
        // Once per county: skipped when the county's units hold cases.
        let (_, county_scope) = self.demo_county(county).await?;
        if self
            .store
            .list_cases(&county_scope, &CaseQuery::default())
            .await?
            .total
            > 0
        {
            return Ok(year);
        }
        let p = self.principal_of(username).await?;
        // Respondents: businesses of the county from the register.
        let mut firms = Vec::new();
        for page in 1..=6 {
            let q = EntityQuery {
                division: Some(county.to_owned()),
                sort: EntitySort::Id,
                paging: Paging::new(page, 500),
                skip_count: true,
                ..Default::default()
            };
            let got = self.store.search_entities(&all, &q).await?.items;
            let done = got.len() < 500;
            firms.extend(
                got.into_iter()
                    .filter(|e| e.uscc.is_some() && e.unit_id.is_some()),
            );
            if done {
                break;
            }
        }
        if firms.is_empty() {
            return Ok(year);
        }
        let today = crate::inspection::today_cn();
        let last = today - chrono::Days::new(1);
        let first = today - chrono::Days::new(365);
        let cal = self.calendar().await?;
        let wd = |from: chrono::NaiveDate, n: u32| cal.add_working_days(from, n).ok();
        let mut r = Rng::fork(seed, 70);
        // A few people who file against many businesses (flagged for review).
        let serial: Vec<u64> = (0..3).map(|i| 9_000_000 + i).collect();
        let mut days: Vec<chrono::NaiveDate> = (0..cases)
            .map(|_| first + chrono::Days::new(r.below(365)))
            .collect();
        days.sort();
        for (i, received_on) in days.into_iter().enumerate() {
            let mut r = Rng::fork(seed, 1_000 + i as u64);
            let kind =
                CaseKind::parse(r.weighted::<&str>(g::KIND_MIX)).unwrap_or(CaseKind::Complaint);
            let category = (*r.weighted(g::CATEGORY_MIX)).to_owned();
            let category_for_text = category.clone();
            let platform =
                Some((*r.weighted(g::PLATFORM_MIX)).to_owned()).filter(|s| !s.is_empty());
            let firm = r.pick(&firms);
            let person = if r.chance(0.02) {
                *r.pick(&serial)
            } else {
                r.below(5_000_000)
            };
            let real = kind == CaseKind::Complaint || r.chance(0.6);
            let name = format!("{}{}", r.pick(g::SURNAMES), r.pick(g::GIVEN));
            let input = CaseInput {
                kind: Some(kind),
                channel: Some(*r.pick(&[
                    Channel::Hotline,
                    Channel::Platform,
                    Channel::Web,
                    Channel::Counter,
                ])),
                received_on: Some(received_on),
                complainant_name: real.then(|| name.clone()),
                complainant_phone: real.then(|| g::phone(person)),
                respondent_uscc: firm.uscc.clone(),
                category,
                platform,
                amount_involved: (kind == CaseKind::Complaint)
                    .then(|| (50 + r.below(5_000)) as f64),
                description: g::description(&category_for_text, &mut r),
                ..Default::default()
            };
            let intake = self.submit_case(Submitter::Staff(&p), &input).await?;
            year.cases += 1;
            if intake.state == CaseState::Merged {
                year.merged += 1;
                continue;
            }
            let unit = firm.unit_id.map_or(0, |u| u.0);
            *year.by_unit.entry(unit).or_default() += 1;
            let act = |action: &str| CaseActionInput {
                action: action.to_owned(),
                ..Default::default()
            };
            // Most steps well inside the limits; a few late.
            let late = r.chance(0.04);
            let step_days = |r: &mut Rng, limit: u32| {
                if late {
                    limit + 1 + r.below(5) as u32
                } else {
                    1 + r.below(u64::from(limit.saturating_sub(1).max(1))) as u32
                }
            };
            let mut steps: Vec<(chrono::NaiveDate, CaseActionInput)> = Vec::new();
            match kind {
                CaseKind::Enquiry => {
                    if let Some(d) = wd(received_on, 1 + r.below(3) as u32) {
                        let mut a = act("answer");
                        a.reply = Some("已电话答复咨询事项。".into());
                        steps.push((d, a));
                    }
                }
                CaseKind::Complaint => {
                    if r.chance(0.07) {
                        if let Some(d) = wd(received_on, step_days(&mut r, 7)) {
                            let mut a = act("reject");
                            a.note = Some(
                                "不属于市场监督管理部门职责范围，已告知投诉人向有关部门反映。"
                                    .into(),
                            );
                            steps.push((d, a));
                        }
                    } else if let Some(acc) = wd(received_on, step_days(&mut r, 7)) {
                        steps.push((acc, act("accept")));
                        if let Some(dec) = wd(acc, step_days(&mut r, 45).min(50)) {
                            let agreed = r.chance(0.78);
                            let mut a = act(if agreed { "agree" } else { "fail" });
                            if agreed {
                                // ¥3.109M over ~1,400 agreements in the report: about ¥2,200.
                                a.recovered = Some((100 + r.below(4_200)) as f64);
                            }
                            steps.push((dec, a));
                            if let Some(cl) = wd(dec, 1 + r.below(5) as u32) {
                                let mut a = act("close");
                                a.satisfaction = Some(
                                    (*r.weighted(&[
                                        (70, "satisfied"),
                                        (20, "basically_satisfied"),
                                        (6, "dissatisfied"),
                                        (4, "unreachable"),
                                    ]))
                                    .to_owned(),
                                );
                                steps.push((cl, a));
                            }
                        }
                    }
                }
                CaseKind::Report => {
                    if let Some(acc) = wd(received_on, 1 + r.below(3) as u32) {
                        steps.push((acc, act("accept")));
                        if let Some(dec) = wd(received_on, step_days(&mut r, 15).max(4)) {
                            steps.push((
                                dec,
                                act(if r.chance(0.2) {
                                    "open_case"
                                } else {
                                    "no_case"
                                }),
                            ));
                            if let Some(cl) = wd(dec, 1 + r.below(3) as u32) {
                                let mut a = act("close");
                                a.reply = Some("已对举报事项进行核查，并告知处理结果。".into());
                                steps.push((cl, a));
                            }
                        }
                    }
                }
            }
            for (day, a) in steps {
                if day > last {
                    break;
                }
                let c = self.apply_case_action(&p, intake.id, &a, day).await?;
                if a.action == "accept" {
                    year.accepted += 1;
                }
                if c.state == CaseState::Closed {
                    year.closed += 1;
                }
                if let Some(v) = a.recovered {
                    year.recovered += (v * 100.0).round() as i64;
                }
            }
        }
        Ok(year)
    }
}

/// What `load_demo_food` made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FoodDemo {
    pub kitchens: usize,
    pub cameras: usize,
    /// Camera-hour heartbeat words written.
    pub beat_hours: usize,
    pub seals: usize,
    pub bound: usize,
    pub broken: usize,
}

/// Days of heartbeats the demo writes by default: a year, as the county's
/// report counts its online rates (about 8,760 hour words per camera).
pub const DEMO_BEAT_DAYS: u32 = 365;
/// Days of heartbeats a city's or province's demo writes by default: their
/// fleets are ten to a hundred times a county's.
pub const REGION_BEAT_DAYS: u32 = 14;
/// Sunshine kitchens per 100,000 businesses (天台: 765).
pub const KITCHENS_PER_100K: u64 = 765;

impl App {
    /// 食安在线 for one demo county (once): sunshine kitchens with one or two
    /// cameras each and two weeks of heartbeats (most cameras reliable, some
    /// flaky, a few mostly off), and seal batches for takeout kitchens with
    /// orders bound, scans, and a few broken seals reported by consumers.
    pub async fn load_demo_food(
        &self,
        county: &str,
        username: &str,
        seed: u64,
        kitchens: usize,
        beat_days: u32,
    ) -> AppResult<FoodDemo> {
        use crate::food::{BindInput, BrokenSealInput, CameraInput, SealBatchInput};
        use crate::gen::{complaints as g, Rng};
        use hongdun_core::kitchen;
        use hongdun_store::*;
        let mut made = FoodDemo::default();
        let (_, county_scope) = self.demo_county(county).await?;
        let q = CameraQuery::default();
        if self.store.list_cameras(&county_scope, &q).await?.total > 0 {
            return Ok(made);
        }
        let p = self.principal_of(username).await?;
        let mut firms = Vec::new();
        for page in 1..=20 {
            let q = EntityQuery {
                division: Some(county.to_owned()),
                industry_prefix: Some("H62".into()),
                sort: EntitySort::Id,
                paging: Paging::new(page, 500),
                skip_count: true,
                ..Default::default()
            };
            let got = self
                .store
                .search_entities(&ScopeFilter::All, &q)
                .await?
                .items;
            let done = got.len() < 500;
            firms.extend(got.into_iter().filter(|e| {
                e.uscc.is_some()
                    && e.unit_id.is_some()
                    && e.status == hongdun_core::registry::EntityStatus::Active
            }));
            if done || firms.len() >= kitchens * 3 {
                break;
            }
        }
        let step = (firms.len() / kitchens.max(1)).max(1);
        let chosen: Vec<_> = firms.iter().step_by(step).take(kitchens).collect();
        let today = crate::inspection::today_cn();
        let now = kitchen::minute_of(chrono::Utc::now());
        let first_day = today - chrono::Days::new(u64::from(beat_days));
        let mut r = Rng::fork(seed, 80);
        let mut serial = 0u32;
        let mut words = Vec::new();
        let mut last = Vec::new();
        for firm in &chosen {
            let uscc = firm.uscc.clone().unwrap_or_default();
            let n = if r.chance(0.3) { 2 } else { 1 };
            for c in 0..n {
                serial += 1;
                let place = if c == 0 {
                    "kitchen"
                } else {
                    *r.pick(&["prep", "cooking", "washing", "cold"])
                };
                let installed = first_day - chrono::Days::new(r.below(300));
                let cam = self
                    .create_camera(
                        &p,
                        &CameraInput {
                            device_id: format!("{county}0000131{serial:07}"),
                            uscc: uscc.clone(),
                            channel: Some(c + 1),
                            place: place.into(),
                            stream_url: None,
                            vendor: Some((*r.pick(&["海康威视", "大华股份", "宇视科技"])).into()),
                            installed_on: Some(installed),
                        },
                    )
                    .await?;
                made.cameras += 1;
                // Reliable (beats every minute, a rare loss), flaky (outages of
                // an hour or more), or mostly off.
                let class = r.below(100);
                let (loss, outage) = match class {
                    0..=84 => (0.01, 0.002),
                    85..=94 => (0.03, 0.03),
                    _ => (0.05, 0.5),
                };
                let start = kitchen::first_hour(first_day) * 60;
                let mut off_until = start;
                let mut hour_word: (i64, u64) = (start / 60, 0);
                let mut last_beat = None;
                for m in start..now {
                    let (h, i) = kitchen::hour_of_minute(m);
                    if h != hour_word.0 {
                        if hour_word.1 != 0 {
                            words.push(BeatWord {
                                camera_id: cam.camera.id,
                                hour: hour_word.0,
                                minutes: hour_word.1,
                            });
                        }
                        hour_word = (h, 0);
                        if r.chance(outage) {
                            off_until = m + 60 + r.below(240) as i64;
                        }
                    }
                    if m < off_until || r.chance(loss) {
                        continue;
                    }
                    hour_word.1 |= 1 << i;
                    last_beat = Some(m);
                }
                if hour_word.1 != 0 {
                    words.push(BeatWord {
                        camera_id: cam.camera.id,
                        hour: hour_word.0,
                        minutes: hour_word.1,
                    });
                }
                if let Some(m) = last_beat {
                    last.push((cam.camera.id, m));
                }
                if words.len() >= 20_000 {
                    made.beat_hours += words.len();
                    self.store.add_beats(&words, &last).await?;
                    words.clear();
                    last.clear();
                }
            }
            made.kitchens += 1;
        }
        made.beat_hours += words.len();
        self.store.add_beats(&words, &last).await?;
        self.cameras.forget();

        // Seals for takeout kitchens: a batch each, most bound to orders.
        for (k, firm) in chosen.iter().take((kitchens / 25).clamp(1, 30)).enumerate() {
            let batch = self
                .issue_seals(
                    &p,
                    &SealBatchInput {
                        uscc: firm.uscc.clone().unwrap_or_default(),
                        count: 100,
                        note: Some("演示数据".into()),
                    },
                )
                .await?;
            made.seals += 100;
            let detail = self.seal_batch_detail(&p, batch.id).await?;
            for s in detail.seals.iter().take(60 + r.below(30) as usize) {
                let order = format!(
                    "{}{:010}",
                    ["MT", "ELE"][r.below(2) as usize],
                    r.below(10_000_000_000)
                );
                let platform = ["美团外卖", "饿了么"][usize::from(order.starts_with("ELE"))];
                self.bind_seal(
                    &p,
                    &s.code,
                    &BindInput {
                        order_no: order,
                        platform: Some(platform.into()),
                    },
                )
                .await?;
                made.bound += 1;
                if r.chance(0.3) {
                    self.check_seal(&s.code).await?;
                }
            }
            if k % 10 == 0 {
                let s = &detail.seals[0];
                self.report_broken_seal(
                    &s.code,
                    &BrokenSealInput {
                        name: Some(format!("{}{}", r.pick(g::SURNAMES), r.pick(g::GIVEN))),
                        phone: g::phone(8_000_000 + k as u64),
                        note: Some("送达时封签已破损".into()),
                    },
                )
                .await?;
                made.broken += 1;
            }
        }
        self.flush_seal_scans().await?;
        Ok(made)
    }
}

/// What `load_demo_food_checks` made.
#[derive(Debug, Default, Clone)]
pub struct FoodChecksDemo {
    pub alerts: usize,
    pub confirmed: usize,
    pub dismissed: usize,
    pub samples: usize,
    pub failed: usize,
}

/// Food samples a year per 100,000 businesses (the district report's 6,000).
pub const SAMPLES_PER_100K: u64 = 6_000;

impl App {
    /// A year of AI capture alerts on the demo county's kitchen cameras (merged
    /// repeats, triage with each kind's and vendor's false-positive rate, the
    /// confirmed ones through rectification, reply and re-check as their age
    /// allows) and a year of food sampling (plans, samples, lab results with a
    /// few failures, disposal, publication). Once per county; after
    /// `load_demo_food`, whose cameras it uses.
    pub async fn load_demo_food_checks(
        &self,
        county: &str,
        username: &str,
        seed: u64,
        samples: usize,
    ) -> AppResult<FoodChecksDemo> {
        use crate::gen::{food as g, Rng};
        use crate::sample::{ResultInput, ResultsInput};
        use chrono::{Datelike, Days, Duration, NaiveDate};
        use hongdun_core::food_sample::{sample_next, SampleAction, SampleState};
        use hongdun_core::inspection::HazardState;
        use hongdun_store::*;
        let mut made = FoodChecksDemo::default();
        let (bureau, county_scope) = self.demo_county(county).await?;
        if !self
            .store
            .list_sample_plans(&county_scope, None)
            .await?
            .is_empty()
        {
            return Ok(made);
        }
        let p = self.principal_of(username).await?;
        let ctx = p.audit_ctx();
        let all = ScopeFilter::All;
        let today = crate::inspection::today_cn();
        let cal = self.calendar().await?;
        let wd = |from: NaiveDate, n: u32| cal.add_working_days(from, n).unwrap_or(from);
        let at_cst = |day: NaiveDate, h: u32, m: u32| {
            day.and_hms_opt(h, m, 0).expect("a time of day").and_utc() - Duration::hours(8)
        };

        // Alerts: about six a camera a year, repeats within minutes merged.
        let mut cameras = Vec::new();
        for page in 1..=10 {
            let q = CameraQuery {
                paging: Paging::new(page, 500),
                ..Default::default()
            };
            let got = self.store.list_cameras(&county_scope, &q).await?.items;
            let done = got.len() < 500;
            cameras.extend(got);
            if done {
                break;
            }
        }
        let mut r = Rng::fork(seed, 90);
        let mut reports = Vec::new();
        let mut facts = Vec::new();
        for cam in &cameras {
            let (vendor, vendor_fp) = *r.pick(g::AI_VENDORS);
            for _ in 0..r.below(13) {
                let day = today - Days::new(r.below(365));
                let (kind, fp) = *r.weighted(g::ALERT_MIX);
                let at = at_cst(day, 9 + r.below(12) as u32, r.below(55) as u32);
                if at > chrono::Utc::now() {
                    continue;
                }
                for k in 0..=r.below(3) {
                    reports.push(NewAlert {
                        camera_id: cam.id,
                        entity_id: cam.entity_id,
                        unit_id: cam.unit_id,
                        kind: kind.into(),
                        vendor: vendor.into(),
                        at: at + Duration::minutes(k as i64 * 2),
                        confidence: (55 + r.below(45)) as f64 / 100.0,
                        snapshot: None,
                    });
                }
                facts.push((day, kind, fp * vendor_fp / 100));
            }
        }
        reports.sort_by_key(|a| a.at);
        let mut new_ids = Vec::new();
        for chunk in reports.chunks(2_000) {
            let got = self.store.ingest_alerts(&ctx, chunk, 600).await?;
            new_ids.extend(got.into_iter().filter(|a| !a.merged).map(|a| a.alert_id));
        }
        made.alerts = new_ids.len();
        let photo = self
            .store
            .put_file(
                &ctx,
                &NewFile {
                    sha256: hongdun_core::sampling::sha256_hex("demo-photo"),
                    name: "整改照片.png".into(),
                    content_type: "image/png".into(),
                    data: crate::files::TINY_PNG.to_vec(),
                    unit_id: bureau.id,
                },
            )
            .await?;
        for id in new_ids {
            let a = self.store.get_alert(&all, id).await?;
            let day = (a.first_at + Duration::hours(8)).date_naive();
            let fp = facts
                .iter()
                .find(|(d, k, _)| *d == day && *k == a.kind)
                .map_or(20, |f| f.2);
            let mut r = Rng::fork(seed, 100_000 + id as u64);
            // The last two days' alerts wait for triage.
            if (today - day).num_days() < 2 {
                continue;
            }
            if r.chance(f64::from(fp) / 100.0) {
                self.store
                    .dismiss_alert(&ctx, &all, id, g::dismiss_reason(&a.kind))
                    .await?;
                made.dismissed += 1;
                continue;
            }
            let triaged = wd(day, 1).min(today);
            let (hazard, order) = crate::alert::confirmation(&a, None, triaged, wd(triaged, 3));
            let a = self
                .store
                .confirm_alert(&ctx, &all, id, None, &hazard, &order)
                .await?;
            made.confirmed += 1;
            let Some(hid) = a.hazard_id else { continue };
            let answered = wd(triaged, 1 + r.below(3) as u32);
            if answered >= today {
                continue;
            }
            let merchant = AuditCtx {
                actor_user_id: None,
                actor_name: format!("经营者回复：{}", a.entity_name),
                unit_id: Some(a.unit_id),
                request_id: None,
            };
            let submitted = self
                .store
                .hazard_step(
                    &merchant,
                    &all,
                    hid,
                    &HazardStep {
                        from: HazardState::Ordered,
                        to: HazardState::Submitted,
                        action: "submit".into(),
                        note: Some("已整改，附整改照片".into()),
                        evidence: vec![format!("file:{}", photo.id)],
                        deadline: None,
                        today: answered,
                    },
                )
                .await?;
            let checked = wd(answered, 1 + r.below(2) as u32);
            if checked >= today || r.chance(0.03) {
                continue;
            }
            self.store
                .hazard_step(
                    &ctx,
                    &all,
                    submitted.id,
                    &HazardStep {
                        from: HazardState::Submitted,
                        to: HazardState::Closed,
                        action: "recheck_pass".into(),
                        note: Some("复查视频画面，已整改到位".into()),
                        evidence: Vec::new(),
                        deadline: None,
                        today: checked,
                    },
                )
                .await?;
        }

        // Sampling: a plan a year, samples from the county's food businesses.
        let mut sellers = Vec::new();
        for prefix in ["H62", "F52"] {
            for page in 1..=4 {
                let q = EntityQuery {
                    division: Some(county.to_owned()),
                    industry_prefix: Some(prefix.into()),
                    sort: EntitySort::Id,
                    paging: Paging::new(page, 500),
                    skip_count: true,
                    ..Default::default()
                };
                let got = self.store.search_entities(&all, &q).await?.items;
                let done = got.len() < 500;
                sellers.extend(got.into_iter().filter(|e| {
                    e.unit_id.is_some() && e.status == hongdun_core::registry::EntityStatus::Active
                }));
                if done {
                    break;
                }
            }
        }
        if sellers.is_empty() || samples == 0 {
            return Ok(made);
        }
        let first = today - Days::new(364);
        let mut plans = std::collections::BTreeMap::new();
        for year in [first.year(), today.year()] {
            if plans.contains_key(&year) {
                continue;
            }
            let plan = self
                .store
                .create_sample_plan(
                    &ctx,
                    &NewSamplePlan {
                        unit_id: bureau.id,
                        year,
                        name: format!("{year}年食品安全监督抽检计划"),
                        target: (samples as i32).max(1),
                        note: Some("演示数据".into()),
                    },
                )
                .await?;
            plans.insert(year, plan.id);
        }
        let mut r = Rng::fork(seed, 95);
        let producers = ["浙江", "台州", "宁波", "山东", "福建", "江苏"];
        let brands = [
            "康源", "鑫旺", "味美", "金穗", "海丰", "绿源", "天和", "佳味",
        ];
        let mut news = Vec::with_capacity(samples);
        for _ in 0..samples {
            let day = first + Days::new(r.below(365));
            let (category, products, _) = *r.pick(g::CATALOGUE);
            let seller = r.pick(&sellers);
            let catering = seller
                .industry
                .as_deref()
                .is_some_and(|i| i.starts_with("H62"));
            news.push(NewSample {
                plan_id: plans[&day.year()],
                unit_id: seller.unit_id.unwrap_or(bureau.id),
                product: (*r.pick(products)).into(),
                category: category.into(),
                spec: Some(
                    (*r.pick(&["500g/袋", "1kg/袋", "散装称重", "250mL/瓶", "400g/盒"])).into(),
                ),
                batch_no: Some(format!(
                    "{}",
                    (day - Days::new(5 + r.below(40))).format("%Y%m%d")
                )),
                produced_on: Some(day - Days::new(5 + r.below(40))),
                producer_name: format!("{}{}食品有限公司", r.pick(&producers), r.pick(&brands)),
                producer_address: None,
                seller_entity_id: seller.id,
                place_kind: if catering {
                    "catering".into()
                } else {
                    (*r.pick(&["supermarket", "market", "shop"])).into()
                },
                sampled_on: day,
                lab: Some("县食品药品检验检测中心".into()),
            });
        }
        news.sort_by_key(|s| s.sampled_on);
        let mut ids = Vec::with_capacity(samples);
        for chunk in news.chunks(500) {
            ids.extend(self.store.create_samples(&ctx, chunk).await?);
        }
        made.samples = ids.len();
        let catalogue = |c: &str| g::CATALOGUE.iter().find(|(k, ..)| *k == c).map(|x| x.2);
        for (id, s) in ids.into_iter().zip(&news) {
            let mut r = Rng::fork(seed, 200_000 + id as u64);
            let tested = s.sampled_on + Days::new(7 + r.below(14));
            if tested >= today {
                continue;
            }
            let items = catalogue(&s.category).unwrap_or_default();
            let bad = r.chance(0.03).then(|| r.below(items.len() as u64) as usize);
            let results = items
                .iter()
                .enumerate()
                .map(|(i, (item, unit, limit, standard))| ResultInput {
                    item: (*item).into(),
                    value: g::lab_value(limit, bad != Some(i), &mut r),
                    unit: Some((*unit).into()),
                    limit: (*limit).into(),
                    standard: (*standard).into(),
                    pass: None,
                })
                .collect();
            let d = self
                .record_sample_results(
                    &p,
                    id,
                    &ResultsInput {
                        lab: None,
                        results,
                        tested_on: Some(tested),
                    },
                )
                .await?;
            let mut state = d.sample.sample.state;
            if state == SampleState::Failed {
                made.failed += 1;
                let mut on = wd(tested, 2);
                let mut steps = vec![("notice", "已向被抽样单位送达检验报告，责令核查整改", None)];
                if r.chance(0.6) {
                    steps.push(("recall", "责令下架问题批次并召回", None));
                }
                if r.chance(0.4) {
                    steps.push((
                        "case",
                        "涉嫌经营不符合食品安全标准的食品，立案调查",
                        Some(format!(
                            "天市监立〔{}〕{}号",
                            tested.year(),
                            100 + r.below(800)
                        )),
                    ));
                }
                steps.push(("close", "核查处置完毕，问题产品已下架销毁", None));
                for (n, (action, note, ref_no)) in steps.into_iter().enumerate() {
                    if on >= today {
                        break;
                    }
                    let step = if action == "close" {
                        SampleAction::Close { disposals: n }
                    } else {
                        SampleAction::Dispose
                    };
                    let to = sample_next(state, &step).map_err(|e| AppError::rule(&e, None))?;
                    self.store
                        .sample_step(
                            &ctx,
                            &all,
                            id,
                            &SampleStep {
                                from: state,
                                to,
                                action: action.into(),
                                note: Some(note.into()),
                                ref_no,
                                results: Vec::new(),
                                lab: None,
                                today: on,
                            },
                        )
                        .await?;
                    state = to;
                    on = wd(on, 3 + r.below(10) as u32);
                }
            }
            let published = wd(tested, 10 + r.below(10) as u32);
            if published < today {
                self.store.publish_sample(&ctx, &all, id, published).await?;
            }
        }
        Ok(made)
    }
}
