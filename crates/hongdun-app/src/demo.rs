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
                    parent_id: None,
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
