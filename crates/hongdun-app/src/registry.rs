//! The register: one validation path for forms and imports, routing each
//! entity to the office whose jurisdiction holds it, scoped search with
//! masking, and the public licence lookup.
use crate::system::Check;
use crate::{App, AppError, AppResult, FieldError, Principal};
use chrono::{Datelike, NaiveDate, Utc};
use hongdun_core::ids::UnitId;
use hongdun_core::privacy::{mask_id_number, mask_name, mask_phone};
use hongdun_core::registry::*;
use hongdun_core::Coded;
use hongdun_store::*;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// How an import treats credit codes that fail their check character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckMode {
    /// Reject the row.
    #[default]
    Strict,
    /// Keep the row, flagged with a warning in the report.
    Lenient,
}

/// One entity as text, field by field: a form, or a row of an import.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct RawEntity {
    pub uscc: Option<String>,
    pub reg_no: Option<String>,
    pub name: Option<String>,
    pub kind: Option<String>,
    pub legal_rep: Option<String>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub county_code: Option<String>,
    pub township_code: Option<String>,
    pub grid: Option<String>,
    pub industry: Option<String>,
    pub status: Option<String>,
    pub established: Option<String>,
    /// 注册资本, in 万元 (as government exports write it).
    pub capital_wan: Option<String>,
    pub employees: Option<String>,
    pub business_scope: Option<String>,
    /// Separated by commas, 、 or spaces.
    pub tags: Option<String>,
}

/// A problem with one field; warnings keep the row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub field: &'static str,
    pub code: &'static str,
    pub message: String,
    pub warning: bool,
}

impl Problem {
    fn error(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            code,
            message: message.into(),
            warning: false,
        }
    }
}

/// Division codes and which unit answers for each, loaded once per import.
#[derive(Debug, Clone, Default)]
pub struct Jurisdictions {
    divisions: HashSet<String>,
    /// division code → (unit, depth in the tree); the deepest unit wins.
    unit_of: HashMap<String, (UnitId, usize)>,
}

impl Jurisdictions {
    pub async fn load(store: &dyn Store) -> AppResult<Self> {
        let divisions = store.all_division_codes().await?.into_iter().collect();
        let units = store.list_units(&ScopeFilter::All).await?;
        let parent: HashMap<UnitId, Option<UnitId>> =
            units.iter().map(|u| (u.id, u.parent_id)).collect();
        let depth = |mut id: UnitId| {
            let mut d = 0;
            while let Some(Some(p)) = parent.get(&id) {
                id = *p;
                d += 1;
                if d > 64 {
                    break;
                }
            }
            d
        };
        let mut unit_of: HashMap<String, (UnitId, usize)> = HashMap::new();
        for u in units
            .iter()
            .filter(|u| u.enabled && u.kind != hongdun_core::system::UnitKind::Section)
        {
            let d = depth(u.id);
            for code in &u.jurisdiction {
                // Grids share their office's township; the office answers for it.
                if u.kind == hongdun_core::system::UnitKind::Grid {
                    continue;
                }
                let e = unit_of.entry(code.clone()).or_insert((u.id, d));
                if d > e.1 {
                    *e = (u.id, d);
                }
            }
        }
        Ok(Self { divisions, unit_of })
    }

    /// The unit answering for a township, else for its county, city, province.
    pub fn route(&self, township: Option<&str>, county: Option<&str>) -> Option<UnitId> {
        let code = township.or(county)?;
        let mut c = code.to_owned();
        loop {
            if let Some((u, _)) = self.unit_of.get(&c) {
                return Some(*u);
            }
            let next = match c.len() {
                9 => 6,
                6 => 4,
                4 => 2,
                _ => return None,
            };
            c.truncate(next);
        }
    }

    pub fn knows(&self, code: &str) -> bool {
        self.divisions.contains(code)
    }
}

/// A cell, normalised (`normalize_text`), if not empty.
fn take(v: Option<String>) -> Option<String> {
    v.map(normalize_text_owned).filter(|s| !s.is_empty())
}

/// A code's cell, normalised once as a code (`normalize_code`), if not empty.
fn take_code(v: Option<String>) -> Option<String> {
    v.map(normalize_code_owned).filter(|s| !s.is_empty())
}

/// Checks an 18-character resident ID number (GB 11643, ISO 7064 MOD 11-2).
pub fn valid_id_number(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = b[..17]
        .iter()
        .zip(W)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize];
    b[17].to_ascii_uppercase() == check
}

fn valid_industry(s: &str) -> bool {
    let b = s.as_bytes();
    match b.first() {
        Some(c) if (b'A'..=b'T').contains(c) => {
            b.len() <= 5 && b[1..].iter().all(u8::is_ascii_digit)
        }
        Some(c) if c.is_ascii_digit() => {
            (2..=4).contains(&b.len()) && b.iter().all(u8::is_ascii_digit)
        }
        _ => false,
    }
}

/// Validates one entity. `Ok` carries warnings (the row is kept); `Err` every
/// problem found (the row is rejected).
pub fn check_entity(
    raw: &RawEntity,
    mode: CheckMode,
    j: &Jurisdictions,
    today: NaiveDate,
) -> Result<(NewEntity, Vec<Problem>), Vec<Problem>> {
    check_entity_owned(raw.clone(), mode, j, today)
}

/// `check_entity` taking the cells: a clean cell becomes the field itself,
/// without a copy (an import checks tens of millions of cells).
pub fn check_entity_owned(
    raw: RawEntity,
    mode: CheckMode,
    j: &Jurisdictions,
    today: NaiveDate,
) -> Result<(NewEntity, Vec<Problem>), Vec<Problem>> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut warning_code = None;

    // Each cell normalised once.
    let uscc_text = take(raw.uscc);
    let reg_no_text = take(raw.reg_no);
    let legal_rep = take(raw.legal_rep);
    let address = take(raw.address);
    let grid = take(raw.grid);
    let uscc = match uscc_text.as_deref() {
        None => None,
        Some(s) => match Uscc::parse(s) {
            Ok(u) => Some(u.to_string()),
            Err(e @ (UsccError::Checksum { .. } | UsccError::OrgChecksum { .. }))
                if mode == CheckMode::Lenient =>
            {
                warnings.push(Problem {
                    field: "uscc",
                    code: e.code(),
                    message: e.message_zh(),
                    warning: true,
                });
                warning_code = Some(e.code().to_owned());
                Some(normalize_code(s))
            }
            Err(e) => {
                errors.push(Problem::error("uscc", e.code(), e.message_zh()));
                None
            }
        },
    };
    let reg_no = match reg_no_text.as_deref() {
        None => None,
        Some(s) => match parse_reg_no(s) {
            Some(r) => Some(r),
            None => {
                errors.push(Problem::error(
                    "reg_no",
                    "reg_no_invalid",
                    "注册号应为 15 位数字",
                ));
                None
            }
        },
    };
    if uscc_text.is_none() && reg_no_text.is_none() {
        errors.push(Problem::error(
            "uscc",
            "required",
            "统一社会信用代码与注册号至少填写一项",
        ));
    }
    let name = take(raw.name).unwrap_or_default();
    if name.is_empty() {
        errors.push(Problem::error("name", "required", "名称不能为空"));
    } else if name.chars().count() > 200 {
        errors.push(Problem::error(
            "name",
            "too_long",
            "名称不能超过 200 个字符",
        ));
    }
    let kind = match take(raw.kind) {
        Some(k) => EntityKind::parse(&k).or_else(|| {
            errors.push(Problem::error(
                "kind",
                "kind_invalid",
                "主体类型应为 企业、个体工商户、农民专业合作社 或 分支机构",
            ));
            None
        }),
        // Position 2 of a code registered by market regulation tells the kind.
        None => match uscc.as_deref().map(|u| &u[..2]) {
            Some("92") => Some(EntityKind::Individual),
            Some("93") => Some(EntityKind::Cooperative),
            _ => Some(EntityKind::Enterprise),
        },
    };
    let id_number = take_code(raw.id_number);
    if let Some(id) = &id_number {
        if !valid_id_number(id) {
            errors.push(Problem::error(
                "id_number",
                "id_number_invalid",
                "身份证号码格式或校验位错误",
            ));
        }
    }
    let phone = take(raw.phone).map(|s| s.replace([' ', '-'], ""));
    if let Some(p) = &phone {
        if !(7..=20).contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_digit() || b == b'+') {
            errors.push(Problem::error(
                "phone",
                "phone_invalid",
                "联系电话应为 7–20 位数字",
            ));
        }
    }
    let mut township = take_code(raw.township_code);
    if let Some(t) = &township {
        if t.len() != 9 || !j.knows(t) {
            errors.push(Problem::error(
                "township_code",
                "division_unknown",
                "乡镇（街道）代码不存在",
            ));
            township = None;
        }
    }
    let mut county = take_code(raw.county_code);
    if let Some(c) = &county {
        if c.len() != 6 || !j.knows(c) {
            errors.push(Problem::error(
                "county_code",
                "division_unknown",
                "县级行政区划代码不存在",
            ));
            county = None;
        }
    }
    match (&township, &county) {
        (Some(t), Some(c)) if !t.starts_with(c.as_str()) => {
            errors.push(Problem::error(
                "township_code",
                "division_mismatch",
                "乡镇（街道）不在所填县（市、区）内",
            ));
        }
        (Some(t), None) => county = Some(t[..6].to_owned()),
        (None, None) => {
            county = uscc
                .as_deref()
                .map(|u| u[2..8].to_owned())
                .filter(|c| j.knows(c))
        }
        _ => {}
    }
    let industry = take_code(raw.industry);
    if let Some(i) = &industry {
        if !valid_industry(i) {
            errors.push(Problem::error(
                "industry",
                "industry_invalid",
                "行业代码应符合 GB/T 4754，如 H6210 或 6210",
            ));
        }
    }
    let status = match take(raw.status) {
        None => Some(EntityStatus::Active),
        Some(s) => EntityStatus::parse_loose(&s).or_else(|| {
            errors.push(Problem::error(
                "status",
                "status_invalid",
                "登记状态应为 存续、吊销、注销 或 迁出",
            ));
            None
        }),
    };
    let established = match take(raw.established) {
        None => None,
        Some(s) => match parse_loose_date(&s) {
            Some(d) if d > today => {
                errors.push(Problem::error(
                    "established",
                    "date_in_future",
                    "成立日期不能晚于今天",
                ));
                None
            }
            Some(d) => Some(d),
            None => {
                errors.push(Problem::error(
                    "established",
                    "date_invalid",
                    format!("无法识别的日期“{s}”"),
                ));
                None
            }
        },
    };
    let capital = match take(raw.capital_wan) {
        None => None,
        Some(s) => {
            let num = s
                .trim_end_matches("人民币")
                .trim_end_matches('元')
                .trim_end_matches('万')
                .replace(',', "");
            match num.trim().parse::<f64>() {
                Ok(v) if (0.0..1e12).contains(&v) => Some((v * 10_000.0).round() as i64),
                _ => {
                    errors.push(Problem::error(
                        "capital_wan",
                        "number_invalid",
                        "注册资本应为以万元计的数字",
                    ));
                    None
                }
            }
        }
    };
    let employees = match take(raw.employees) {
        None => None,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (0..10_000_000).contains(&n) => Some(n),
            _ => {
                errors.push(Problem::error(
                    "employees",
                    "number_invalid",
                    "从业人数应为非负整数",
                ));
                None
            }
        },
    };
    let tags: Vec<String> = take(raw.tags)
        .map(|t| {
            t.split([',', '，', '、', ';', '；', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if tags.len() > 20 || tags.iter().any(|t| t.chars().count() > 20) {
        errors.push(Problem::error(
            "tags",
            "tags_invalid",
            "标签最多 20 个，每个不超过 20 个字符",
        ));
    }
    for (field, v, max) in [
        ("legal_rep", &legal_rep, 50),
        ("address", &address, 300),
        ("grid", &grid, 50),
    ] {
        if v.as_deref().is_some_and(|s| s.chars().count() > max) {
            errors.push(Problem::error(
                field,
                "too_long",
                format!("不能超过 {max} 个字符"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut tags = tags;
    tags.sort();
    tags.dedup();
    let unit_id = j.route(township.as_deref(), county.as_deref());
    let search = entity_search_text(&name);
    Ok((
        NewEntity {
            uscc,
            reg_no,
            name,
            kind: kind.unwrap_or(EntityKind::Enterprise),
            legal_rep,
            id_number,
            phone,
            address,
            county_code: county,
            township_code: township,
            unit_id,
            grid,
            industry,
            status: status.unwrap_or(EntityStatus::Active),
            established,
            capital,
            employees,
            business_scope: take(raw.business_scope),
            tags,
            warning: warning_code,
            search,
        },
        warnings,
    ))
}

fn problems_to_error(problems: Vec<Problem>) -> AppError {
    AppError::Validation(
        problems
            .into_iter()
            .map(|p| FieldError::new(p.field, p.code, p.message))
            .collect(),
    )
}

// ---------------------------------------------------------------- views

/// An entity in a list: personal fields masked.
#[derive(Debug, Clone, Serialize)]
pub struct EntitySummary {
    #[serde(flatten)]
    pub entity: Entity,
}

impl EntitySummary {
    pub fn masked(mut e: Entity) -> Self {
        e.id_number = e.id_number.as_deref().map(mask_id_number);
        e.phone = e.phone.as_deref().map(mask_phone);
        Self { entity: e }
    }
}

/// What the home dashboard shows about the register.
#[derive(Debug, Clone, Serialize)]
pub struct RegistryStats {
    pub entities: EntityStats,
    /// Valid licences expiring within 30 days.
    pub licences_expiring: i64,
    /// Expired licences of entities still in business.
    pub licences_expired_trading: i64,
    /// The first month counted in `entities.by_month`.
    pub since: NaiveDate,
}

/// The detail page of an entity for staff in scope: personal data in full
/// (the read is audited), licences and history.
#[derive(Debug, Clone, Serialize)]
pub struct EntityDetail {
    pub entity: Entity,
    pub licences: Vec<LicenceView>,
    pub history: Vec<EntityEvent>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LicenceView {
    #[serde(flatten)]
    pub licence: Licence,
    /// valid, expiring (within 30 days), expired, or the licence's own status.
    pub validity: &'static str,
}

pub fn validity(l: &Licence, today: NaiveDate) -> &'static str {
    if l.status != "valid" {
        return "inactive";
    }
    match l.expires_on {
        Some(d) if d < today => "expired",
        Some(d) if (d - today).num_days() <= 30 => "expiring",
        _ => "valid",
    }
}

/// What anyone may see of a merchant: nothing personal.
#[derive(Debug, Clone, Serialize)]
pub struct PublicMerchant {
    pub uscc: Option<String>,
    pub name: String,
    pub kind: EntityKind,
    pub kind_label: &'static str,
    /// 经营场所 (the business premises, not a home address).
    pub address: Option<String>,
    pub status: EntityStatus,
    pub status_label: &'static str,
    /// 法定代表人/经营者, family name only.
    pub legal_rep: Option<String>,
    pub licences: Vec<PublicLicence>,
    /// 放心消费 pledges in force (ODR, 无理由退货); filled on the detail only.
    pub pledges: Vec<PublicPledge>,
    /// 阳光厨房: cameras and whether the kitchen is live; filled on the detail only.
    pub kitchen: Option<crate::food::PublicKitchen>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PublicPledge {
    pub kind: String,
    pub label: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct PublicLicence {
    pub kind: LicenceKind,
    pub kind_label: &'static str,
    pub number: String,
    pub issuer: Option<String>,
    pub issued_on: Option<NaiveDate>,
    pub expires_on: Option<NaiveDate>,
    pub validity: &'static str,
}

/// What the public may see of an entity and its licences.
fn public_view_of(e: Entity, licences: Vec<Licence>, today: NaiveDate) -> PublicMerchant {
    let licences = licences
        .into_iter()
        .map(|l| PublicLicence {
            kind: l.kind,
            kind_label: l.kind.label_zh(),
            validity: validity(&l, today),
            number: l.number,
            issuer: l.issuer,
            issued_on: l.issued_on,
            expires_on: l.expires_on,
        })
        .collect();
    PublicMerchant {
        uscc: e.uscc,
        name: e.name,
        kind: e.kind,
        kind_label: e.kind.label_zh(),
        address: e.address,
        status: e.status,
        status_label: e.status.label_zh(),
        legal_rep: e.legal_rep.as_deref().map(mask_name),
        licences,
        pledges: Vec::new(),
        kitchen: None,
    }
}

/// Parsed search parameters.
#[derive(Debug, Clone, Default)]
pub struct EntitySearch {
    pub q: Option<String>,
    pub address: Option<String>,
    pub division: Option<String>,
    pub industry: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub tag: Option<String>,
    pub unit_id: Option<UnitId>,
    pub sort: Option<String>,
    pub paging: Paging,
}

/// Turns the search box into index terms: a credit-code prefix, pinyin
/// initials, or Chinese words (bigrams, with a literal check for longer text).
pub fn query_of(s: &EntitySearch) -> AppResult<EntityQuery> {
    let mut q = EntityQuery {
        paging: s.paging,
        ..Default::default()
    };
    if let Some(text) = s.q.as_deref().map(normalize_text).filter(|t| !t.is_empty()) {
        let code = normalize_code(&text);
        let is_code = code.len() >= 2
            && code
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
            && code.bytes().next().is_some_and(|b| b.is_ascii_digit());
        if is_code {
            q.uscc_prefix = Some(code);
        } else if text.bytes().all(|b| b.is_ascii_alphabetic()) && text.len() >= 2 {
            q.terms = initials_terms(&text.to_ascii_lowercase());
        } else {
            q.terms = search_terms(&text);
            let chars = text.chars().filter(|c| !c.is_whitespace()).count();
            // Bigrams narrow; a literal check removes names that hold the pieces apart.
            if chars != 2 || q.terms.len() != 1 {
                q.name_like = Some(text.clone());
            }
            if q.terms.len() == 1 && chars == 1 {
                q.terms.clear();
            }
        }
    }
    q.address_like = s
        .address
        .as_deref()
        .map(normalize_text)
        .filter(|t| !t.is_empty());
    if let Some(d) = s.division.as_deref().filter(|d| !d.is_empty()) {
        hongdun_core::division::DivisionCode::parse(d)
            .map_err(|e| AppError::rule(&e, Some("division")))?;
        q.division = Some(d.to_owned());
    }
    q.industry_prefix = s
        .industry
        .as_deref()
        .map(normalize_code)
        .filter(|t| !t.is_empty());
    if let Some(k) = s.kind.as_deref().filter(|k| !k.is_empty()) {
        q.kind = Some(
            EntityKind::parse(k)
                .ok_or_else(|| AppError::field("kind", "kind_invalid", "未知的主体类型"))?,
        );
    }
    if let Some(st) = s.status.as_deref().filter(|k| !k.is_empty()) {
        q.status = Some(
            EntityStatus::parse_loose(st)
                .ok_or_else(|| AppError::field("status", "status_invalid", "未知的登记状态"))?,
        );
    }
    q.tag = s.tag.clone().filter(|t| !t.is_empty());
    q.unit_id = s.unit_id;
    q.sort = match s.sort.as_deref() {
        None | Some("") | Some("name") => EntitySort::Name,
        Some("established") => EntitySort::EstablishedDesc,
        Some("updated") => EntitySort::UpdatedDesc,
        Some(_) => {
            return Err(AppError::field(
                "sort",
                "sort_invalid",
                "排序应为 name、established 或 updated",
            ))
        }
    };
    Ok(q)
}

impl App {
    pub async fn search_entities(
        &self,
        p: &Principal,
        s: &EntitySearch,
    ) -> AppResult<Page<EntitySummary>> {
        let scope = self.authorize(p, "registry:entity:list").await?;
        let page = self.store.search_entities(&scope, &query_of(s)?).await?;
        Ok(Page {
            items: page.items.into_iter().map(EntitySummary::masked).collect(),
            total: page.total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// The dashboard's figures for the caller's jurisdiction, or for one office
    /// within it (`unit`): entities by kind, status, office and month of
    /// establishment over the last twelve months, and the licence watch lists.
    pub async fn registry_stats(
        &self,
        p: &Principal,
        unit: Option<UnitId>,
    ) -> AppResult<RegistryStats> {
        let mut scope = self.authorize(p, "registry:entity:list").await?;
        if let Some(u) = unit {
            if !scope.allows(Some(u), None) {
                return Err(AppError::NotFound);
            }
            scope = ScopeFilter::Limited {
                units: vec![u],
                user: None,
            };
        }
        let today = Utc::now().date_naive();
        let since = NaiveDate::from_ymd_opt(today.year() - 1, today.month(), 1)
            .unwrap_or(today)
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(today);
        let entities = self.store.entity_stats(&scope, since).await?;
        let count = |watch: LicenceWatch| {
            let scope = scope.clone();
            async move {
                self.store
                    .licence_watch(&scope, &watch, Paging::new(1, 1))
                    .await
                    .map(|p| p.total)
            }
        };
        Ok(RegistryStats {
            entities,
            licences_expiring: count(LicenceWatch::Expiring {
                today,
                until: today + chrono::Duration::days(30),
            })
            .await?,
            licences_expired_trading: count(LicenceWatch::ExpiredTrading { today }).await?,
            since,
        })
    }

    /// The full record; reading personal data is written to the audit log.
    pub async fn entity_detail(&self, p: &Principal, uscc: &str) -> AppResult<EntityDetail> {
        let scope = self.authorize(p, "registry:entity:list").await?;
        let code = normalize_code(uscc);
        let entity = self.store.entity_by_uscc(&scope, &code).await?;
        let today = Utc::now().date_naive();
        let licences = self
            .store
            .licences_of(entity.id)
            .await?
            .into_iter()
            .map(|l| LicenceView {
                validity: validity(&l, today),
                licence: l,
            })
            .collect();
        let history = self.store.entity_history(&scope, entity.id).await?;
        if entity.id_number.is_some() || entity.phone.is_some() {
            let note = serde_json::json!({ "read": ["id_number", "phone"] });
            self.store
                .record_audit(
                    &p.audit_ctx(),
                    AuditChange::new::<(), _>(
                        "registry.entity.read_personal",
                        "entity",
                        &code,
                        None,
                        Some(&note),
                    ),
                )
                .await?;
        }
        Ok(EntityDetail {
            entity,
            licences,
            history,
        })
    }

    /// Creates or updates one entity from a form; it must fall in the caller's scope.
    pub async fn save_entity(
        &self,
        p: &Principal,
        raw: &RawEntity,
        creating: bool,
    ) -> AppResult<Entity> {
        let perm = if creating {
            "registry:entity:create"
        } else {
            "registry:entity:update"
        };
        let scope = self.authorize(p, perm).await?;
        let j = Jurisdictions::load(self.store.as_ref()).await?;
        let (new, _) = check_entity(raw, CheckMode::Strict, &j, Utc::now().date_naive())
            .map_err(problems_to_error)?;
        let code = new.uscc.clone();
        if !scope.allows(new.unit_id, None) {
            return Err(AppError::field(
                "township_code",
                "outside_jurisdiction",
                "该经营主体不在您的管辖范围内",
            ));
        }
        match &code {
            Some(c) => match self.store.entity_by_uscc(&ScopeFilter::All, c).await {
                Ok(_) if creating => {
                    return Err(AppError::Conflict {
                        field: "uscc".into(),
                    });
                }
                Ok(existing) if !scope.allows(existing.unit_id, None) => {
                    return Err(AppError::NotFound)
                }
                Ok(_) => {}
                Err(StoreError::NotFound) if !creating => return Err(AppError::NotFound),
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            },
            None if !creating => {
                return Err(AppError::field(
                    "uscc",
                    "required",
                    "修改时须提供统一社会信用代码",
                ))
            }
            None => {}
        }
        self.store
            .upsert_entities(&p.audit_ctx(), std::slice::from_ref(&new))
            .await?;
        match code {
            Some(c) => Ok(self.store.entity_by_uscc(&scope, &c).await?),
            None => {
                let q = EntityQuery {
                    terms: vec![],
                    name_like: Some(new.name.clone()),
                    ..Default::default()
                };
                let found = self.store.search_entities(&scope, &q).await?;
                found
                    .items
                    .into_iter()
                    .find(|e| e.reg_no == new.reg_no)
                    .ok_or(AppError::NotFound)
            }
        }
    }

    pub async fn put_licence(
        &self,
        p: &Principal,
        uscc: &str,
        l: &LicenceInput,
    ) -> AppResult<Licence> {
        let scope = self.authorize(p, "registry:entity:update").await?;
        let entity = self
            .store
            .entity_by_uscc(&scope, &normalize_code(uscc))
            .await?;
        let mut c = Check::default();
        let kind = LicenceKind::parse(&l.kind);
        if kind.is_none() {
            c.push("kind", "licence_kind_invalid", "未知的许可证种类");
        }
        let number = kind.map(|k| k.parse_number(&l.number));
        if let Some(Err(e)) = &number {
            c.push("number", e.code(), e.message_zh());
        }
        let date = |c: &mut Check, field: &str, v: &Option<String>| match v
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            None => None,
            Some(s) => parse_loose_date(s).or_else(|| {
                c.push(field, "date_invalid", "日期格式错误");
                None
            }),
        };
        let issued_on = date(&mut c, "issued_on", &l.issued_on);
        let expires_on = date(&mut c, "expires_on", &l.expires_on);
        if let (Some(a), Some(b)) = (issued_on, expires_on) {
            if b < a {
                c.push("expires_on", "date_order", "有效期至不能早于发证日期");
            }
        }
        let status = l.status.clone().unwrap_or_else(|| "valid".into());
        if !["valid", "suspended", "revoked", "cancelled"].contains(&status.as_str()) {
            c.push(
                "status",
                "licence_status_invalid",
                "许可证状态应为 valid、suspended、revoked 或 cancelled",
            );
        }
        c.finish()?;
        let new = NewLicence {
            kind: kind.unwrap_or(LicenceKind::Business),
            number: number.and_then(Result::ok).unwrap_or_default(),
            issuer: l
                .issuer
                .as_deref()
                .map(normalize_text)
                .filter(|s| !s.is_empty()),
            issued_on,
            expires_on,
            status,
        };
        Ok(self
            .store
            .put_licence(&p.audit_ctx(), &scope, entity.id, &new)
            .await?)
    }

    /// The public lookup by credit code: no sign-in, nothing personal.
    pub async fn public_merchant(&self, uscc: &str) -> AppResult<PublicMerchant> {
        let code = Uscc::parse(uscc).map_err(|e| AppError::rule(&e, Some("uscc")))?;
        let (e, licences) = self.store.entity_with_licences(code.as_str()).await?;
        let id = e.id;
        let mut view = public_view_of(e, licences, Utc::now().date_naive());
        view.pledges = self
            .public_pledges(id)
            .await?
            .into_iter()
            .map(|(kind, label)| PublicPledge { kind, label })
            .collect();
        view.kitchen = self.public_kitchen(id).await?;
        Ok(view)
    }

    pub async fn public_search(&self, q: &str) -> AppResult<Vec<PublicMerchant>> {
        let q = normalize_text(q);
        if q.chars().count() < 2 {
            return Err(AppError::field("q", "query_too_short", "请至少输入两个字"));
        }
        let search = EntitySearch {
            q: Some(q),
            paging: Paging::new(1, 20),
            ..Default::default()
        };
        let mut query = query_of(&search)?;
        // The public sees the first matches, uncounted, from a bounded set of index hits.
        query.skip_count = true;
        query.sort = EntitySort::Id;
        query.candidate_limit = Some(2_000);
        let page = self
            .store
            .search_entities(&ScopeFilter::All, &query)
            .await?;
        let ids: Vec<i64> = page.items.iter().map(|e| e.id).collect();
        let mut licences = self.store.licences_of_many(&ids).await?;
        let today = Utc::now().date_naive();
        Ok(page
            .items
            .into_iter()
            .map(|e| {
                let mine: Vec<Licence> = licences.extract_if(.., |l| l.entity_id == e.id).collect();
                public_view_of(e, mine, today)
            })
            .collect())
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct LicenceInput {
    pub kind: String,
    pub number: String,
    pub issuer: Option<String>,
    pub issued_on: Option<String>,
    pub expires_on: Option<String>,
    pub status: Option<String>,
}

impl App {
    /// The licence watch lists: `expiring` (within `days`, default 30),
    /// `expired_trading`, `missing` (with `kind`).
    pub async fn licence_alerts(
        &self,
        p: &Principal,
        list: &str,
        days: Option<i64>,
        kind: Option<&str>,
        paging: Paging,
    ) -> AppResult<Page<LicenceAlert>> {
        let scope = self.authorize(p, "registry:entity:list").await?;
        let today = Utc::now().date_naive();
        let watch = match list {
            "expiring" => {
                let days = days.unwrap_or(30);
                if !(1..=3650).contains(&days) {
                    return Err(AppError::field("days", "out_of_range", "天数应为 1–3650"));
                }
                LicenceWatch::Expiring {
                    today,
                    until: today + chrono::Duration::days(days),
                }
            }
            "expired_trading" => LicenceWatch::ExpiredTrading { today },
            "missing" => {
                let kind = kind.and_then(LicenceKind::parse).ok_or_else(|| {
                    AppError::field("kind", "licence_kind_invalid", "请指定许可证种类")
                })?;
                let industry_prefixes = industries_requiring(kind)
                    .into_iter()
                    .map(str::to_owned)
                    .collect::<Vec<_>>();
                if industry_prefixes.is_empty() {
                    return Err(AppError::field(
                        "kind",
                        "licence_kind_not_required",
                        "没有行业以该许可证为必备",
                    ));
                }
                LicenceWatch::Missing {
                    kind,
                    industry_prefixes,
                }
            }
            _ => {
                return Err(AppError::field(
                    "list",
                    "list_invalid",
                    "清单应为 expiring、expired_trading 或 missing",
                ))
            }
        };
        Ok(self.store.licence_watch(&scope, &watch, paging).await?)
    }
}

/// Columns of an export, in order, with their Chinese headers (the same names
/// the importer reads, so an export can be imported again).
const EXPORT_HEADERS: [&str; 17] = [
    "统一社会信用代码",
    "注册号",
    "名称",
    "主体类型",
    "法定代表人/经营者",
    "身份证号",
    "联系电话",
    "住所/经营场所",
    "县区代码",
    "乡镇街道代码",
    "网格",
    "行业代码",
    "登记状态",
    "成立日期",
    "注册资本（万元）",
    "从业人数",
    "标签",
];

/// The file formats of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// UTF-8 with a BOM, so Excel opens Chinese text correctly.
    Csv,
    /// Office Open XML workbook, one sheet.
    Xlsx,
}

impl ExportFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
        }
    }
}

/// An Excel sheet holds 1,048,576 rows, the header included.
pub const XLSX_MAX_ROWS: i64 = 1_048_575;

/// One entity as an export row (ID numbers and phones masked: exports leave the system).
fn export_row(e: &Entity) -> [String; 17] {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        opt(&e.uscc),
        opt(&e.reg_no),
        e.name.clone(),
        e.kind.label_zh().to_owned(),
        opt(&e.legal_rep),
        e.id_number
            .as_deref()
            .map(mask_id_number)
            .unwrap_or_default(),
        e.phone.as_deref().map(mask_phone).unwrap_or_default(),
        opt(&e.address),
        opt(&e.county_code),
        opt(&e.township_code),
        opt(&e.grid),
        opt(&e.industry),
        e.status.label_zh().to_owned(),
        e.established.map(|d| d.to_string()).unwrap_or_default(),
        e.capital
            .map(|c| format!("{}", c as f64 / 10_000.0))
            .unwrap_or_default(),
        e.employees.map(|n| n.to_string()).unwrap_or_default(),
        e.tags.join("、"),
    ]
}

/// Writes rows in one of the export formats.
enum ExportWriter {
    Csv(Box<csv::Writer<Vec<u8>>>),
    Xlsx(Box<rust_xlsxwriter::Workbook>, u32),
}

fn xlsx_err(e: rust_xlsxwriter::XlsxError) -> AppError {
    AppError::Internal(format!("xlsx: {e}"))
}

impl ExportWriter {
    fn new(format: ExportFormat) -> AppResult<Self> {
        let mut w = match format {
            ExportFormat::Csv => {
                let mut buf = Vec::new();
                buf.extend_from_slice("\u{feff}".as_bytes());
                ExportWriter::Csv(Box::new(csv::Writer::from_writer(buf)))
            }
            ExportFormat::Xlsx => {
                let mut book = rust_xlsxwriter::Workbook::new();
                // Rows go to a temporary file as they come: memory stays flat.
                book.add_worksheet_with_constant_memory()
                    .map_err(xlsx_err)?
                    .set_name("经营主体")
                    .map_err(xlsx_err)?;
                ExportWriter::Xlsx(Box::new(book), 0)
            }
        };
        w.row(&EXPORT_HEADERS)?;
        Ok(w)
    }

    fn row<S: AsRef<str>>(&mut self, cells: &[S]) -> AppResult<()> {
        match self {
            ExportWriter::Csv(w) => w
                .write_record(cells.iter().map(AsRef::as_ref))
                .map_err(|e| AppError::Internal(e.to_string())),
            ExportWriter::Xlsx(book, row) => {
                let sheet = book.worksheet_from_index(0).map_err(xlsx_err)?;
                for (col, v) in cells.iter().enumerate() {
                    let v = v.as_ref();
                    if !v.is_empty() {
                        // Codes stay text (an 18-character code must not become a number).
                        sheet.write_string(*row, col as u16, v).map_err(xlsx_err)?;
                    }
                }
                *row += 1;
                Ok(())
            }
        }
    }

    fn finish(self) -> AppResult<Vec<u8>> {
        match self {
            ExportWriter::Csv(w) => w
                .into_inner()
                .map_err(|e| AppError::Internal(e.to_string())),
            ExportWriter::Xlsx(mut book, _) => book.save_to_buffer().map_err(xlsx_err),
        }
    }
}

impl App {
    /// Every entity matching `s` within the caller's scope, as CSV or XLSX.
    /// ID numbers and phones are masked: exports leave the system. Audited.
    pub async fn export_entities(
        &self,
        p: &Principal,
        s: &EntitySearch,
        format: ExportFormat,
    ) -> AppResult<Vec<u8>> {
        let scope = self.authorize(p, "registry:entity:export").await?;
        let mut q = query_of(s)?;
        if format == ExportFormat::Xlsx {
            q.paging = Paging::new(1, 1);
            let total = self.store.search_entities(&scope, &q).await?.total;
            if total > XLSX_MAX_ROWS {
                return Err(AppError::Rule {
                    code: "export_too_large",
                    message: format!(
                        "共 {total} 条，超过 Excel 单表上限 {XLSX_MAX_ROWS} 条，请缩小范围或导出 CSV"
                    ),
                    field: None,
                });
            }
        }
        let mut w = ExportWriter::new(format)?;
        let mut page = 1;
        let mut count = 0i64;
        loop {
            q.paging = Paging::new(page, Paging::MAX_PER_PAGE);
            let batch = self.store.search_entities(&scope, &q).await?;
            for e in &batch.items {
                w.row(&export_row(e))?;
            }
            count += batch.items.len() as i64;
            if batch.items.len() < Paging::MAX_PER_PAGE as usize {
                break;
            }
            page += 1;
        }
        let note = serde_json::json!({ "rows": count, "format": format.extension(), "q": s.q,
            "division": s.division, "kind": s.kind });
        self.store
            .record_audit(
                &p.audit_ctx(),
                AuditChange::new::<(), _>(
                    "registry.entity.export",
                    "entity",
                    "*",
                    None,
                    Some(&note),
                ),
            )
            .await?;
        // Building the workbook compresses it: off the async threads.
        tokio::task::spawn_blocking(move || w.finish())
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j() -> Jurisdictions {
        let mut j = Jurisdictions::default();
        for c in ["33", "3310", "331023", "331023001", "331023002", "350100"] {
            j.divisions.insert(c.into());
        }
        j.unit_of.insert("331023".into(), (UnitId(1), 0));
        j.unit_of.insert("331023001".into(), (UnitId(3), 1));
        j
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn id_numbers() {
        assert!(valid_id_number("11010519491231002X"));
        assert!(!valid_id_number("110105194912310021"));
        assert!(!valid_id_number("11010519491231002"));
    }

    #[test]
    fn a_good_row_routes_to_its_office() {
        let raw = RawEntity {
            uscc: Some("92331023MA2ABCDE1X".into()),
            name: Some(" 天台县赤城街道阿强面馆 ".into()),
            township_code: Some("331023001".into()),
            established: Some("2019/5/6".into()),
            capital_wan: Some("10.5".into()),
            tags: Some("网络餐饮、阳光厨房".into()),
            ..Default::default()
        };
        // Make the code valid for the test.
        let u = Uscc::with_check(&format!(
            "92331023MA2ABCDE{}",
            org_check_char(b"MA2ABCDE").unwrap()
        ))
        .unwrap();
        let raw = RawEntity {
            uscc: Some(u.to_string()),
            ..raw
        };
        let (e, warnings) = check_entity(&raw, CheckMode::Strict, &j(), today()).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(e.kind, EntityKind::Individual);
        assert_eq!(e.unit_id, Some(UnitId(3)));
        assert_eq!(e.county_code.as_deref(), Some("331023"));
        assert_eq!(e.capital, Some(105_000));
        assert_eq!(e.tags, vec!["网络餐饮", "阳光厨房"]);
        assert!(e.search.split(' ').any(|t| t == "面馆"));
        // A township without an office of its own falls back to the county's bureau.
        let raw2 = RawEntity {
            township_code: Some("331023002".into()),
            ..raw
        };
        assert_eq!(
            check_entity(&raw2, CheckMode::Strict, &j(), today())
                .unwrap()
                .0
                .unit_id,
            Some(UnitId(1))
        );
    }

    #[test]
    fn every_problem_is_reported() {
        let raw = RawEntity {
            uscc: Some("91350100M000100Y44".into()),
            name: None,
            kind: Some("公司".into()),
            id_number: Some("123".into()),
            township_code: Some("999999999".into()),
            established: Some("2030-01-01".into()),
            status: Some("营业中?".into()),
            ..Default::default()
        };
        let errs = check_entity(&raw, CheckMode::Strict, &j(), today()).unwrap_err();
        let codes: Vec<(&str, &str)> = errs.iter().map(|p| (p.field, p.code)).collect();
        assert_eq!(
            codes,
            vec![
                ("uscc", "uscc_checksum"),
                ("name", "required"),
                ("kind", "kind_invalid"),
                ("id_number", "id_number_invalid"),
                ("township_code", "division_unknown"),
                ("status", "status_invalid"),
                ("established", "date_in_future"),
            ]
        );
        // Lenient mode keeps a bad check character as a warning.
        let raw = RawEntity {
            uscc: Some("91350100M000100Y44".into()),
            name: Some("x".into()),
            ..Default::default()
        };
        let (e, w) = check_entity(&raw, CheckMode::Lenient, &j(), today()).unwrap();
        assert_eq!(
            (w[0].code, e.warning.as_deref()),
            ("uscc_checksum", Some("uscc_checksum"))
        );
        assert_eq!(e.county_code.as_deref(), Some("350100"));
    }

    #[test]
    fn search_box() {
        let q = |s: &str| {
            query_of(&EntitySearch {
                q: Some(s.into()),
                ..Default::default()
            })
            .unwrap()
        };
        assert_eq!(q("面馆").terms, vec!["面馆"]);
        assert_eq!(q("面馆").name_like, None);
        assert_eq!(q("阿强面馆").name_like.as_deref(), Some("阿强面馆"));
        assert_eq!(q("9133").uscc_prefix.as_deref(), Some("9133"));
        assert_eq!(q("aqmg").terms, vec!["#aq", "#qm", "#mg"]);
        assert!(q("面").terms.is_empty());
    }
}
