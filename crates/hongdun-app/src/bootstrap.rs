//! Start-up tasks run by `hongdun migrate` and on every start: migrations, the
//! built-in roles, the division list, the bundled holiday schedules and the
//! default dictionaries. Each step only adds what is missing, so it is safe to
//! run again and never overwrites an administrator's corrections.
use crate::calendar::{parse_holiday_cn, BUNDLED_YEARS};
use crate::{App, AppError, AppResult};
use hongdun_core::division::DivisionLevel;
use hongdun_core::system::BUILTIN_ROLES;
use hongdun_store::{AuditCtx, DictItem, DictType, Division, NewRole, RolePatch, StoreError};

const PROVINCES: &str = include_str!("../../../data/divisions/provinces.csv");
const CITIES: &str = include_str!("../../../data/divisions/cities.csv");
const AREAS: &str = include_str!("../../../data/divisions/areas.csv");
const STREETS: &str = include_str!("../../../data/divisions/streets.csv");

#[derive(Debug, Clone, Default)]
pub struct BootstrapOptions {
    /// Load only divisions under these codes (plus every province); `None`
    /// loads the whole country. Tests use it to stay fast.
    pub division_prefixes: Option<Vec<String>>,
}

/// A code list: (type code, type name, [(item code, label)]).
type DictSeed = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// Default code lists; administrators edit them afterwards.
const DICTS: &[DictSeed] = &[
    (
        "complaint_category",
        "投诉举报类别",
        &[
            ("food", "食品"),
            ("drug", "药品医疗器械"),
            ("product_quality", "产品质量"),
            ("price", "价格收费"),
            ("advertising", "广告"),
            ("contract", "合同"),
            ("service", "服务"),
            ("special_equipment", "特种设备"),
            ("ip", "知识产权"),
            ("other", "其他"),
        ],
    ),
    (
        "registration_status",
        "登记状态",
        &[
            ("active", "存续（在业）"),
            ("revoked", "吊销"),
            ("cancelled", "注销"),
            ("moved_out", "迁出"),
        ],
    ),
];

/// Reads the bundled division CSVs, keeping codes under `prefixes`.
pub fn bundled_divisions(prefixes: Option<&[String]>) -> AppResult<Vec<Division>> {
    let keep = |code: &str| {
        code.len() == 2 || prefixes.is_none_or(|ps| ps.iter().any(|p| code.starts_with(p.as_str())))
    };
    let mut out = Vec::new();
    // (file, level, column holding the parent code)
    let files: [(&str, DivisionLevel, Option<usize>); 4] = [
        (PROVINCES, DivisionLevel::Province, None),
        (CITIES, DivisionLevel::City, Some(2)),
        (AREAS, DivisionLevel::County, Some(2)),
        (STREETS, DivisionLevel::Township, Some(2)),
    ];
    for (text, level, parent_col) in files {
        let mut rd = csv::Reader::from_reader(text.as_bytes());
        for rec in rd.records() {
            let rec = rec.map_err(|e| AppError::Internal(format!("bundled divisions: {e}")))?;
            let code = rec.get(0).unwrap_or("").trim().to_owned();
            if !keep(&code) {
                continue;
            }
            out.push(Division {
                name: rec.get(1).unwrap_or("").trim().to_owned(),
                level,
                parent_code: parent_col
                    .and_then(|c| rec.get(c))
                    .map(|s| s.trim().to_owned()),
                code,
            });
        }
    }
    Ok(out)
}

impl App {
    pub async fn bootstrap(&self, opts: &BootstrapOptions) -> AppResult<()> {
        self.store.migrate().await?;
        // Heals the indexes of a bulk import that was interrupted and never resumed.
        self.store.ensure_entity_indexes().await?;
        let ctx = AuditCtx::system("bootstrap");
        self.ensure_builtin_roles(&ctx).await?;
        self.ensure_seal_key(&ctx).await?;
        if self.store.division_count().await? == 0 {
            let rows = bundled_divisions(opts.division_prefixes.as_deref())?;
            self.store.upsert_divisions(&ctx, &rows).await?;
        }
        let have: Vec<i32> = self
            .store
            .list_holiday_years()
            .await?
            .iter()
            .map(|y| y.year)
            .collect();
        for (year, json) in BUNDLED_YEARS {
            if !have.contains(year) {
                let (y, days) = parse_holiday_cn(json).map_err(AppError::Internal)?;
                self.store
                    .put_holiday_year(&ctx, y, "国务院办公厅通知（holiday-cn 数据集）", &days)
                    .await?;
            }
        }
        // Rule sets are seeded once; administrators edit them from then on.
        self.store
            .seed_rule_sets(&hongdun_core::complaint::builtin_rule_sets())
            .await?;
        let types = self.store.list_dict_types().await?;
        for (code, name, items) in DICTS {
            if types.iter().any(|t| t.code == *code) {
                continue;
            }
            self.store
                .upsert_dict_type(
                    &ctx,
                    &DictType {
                        code: (*code).into(),
                        name: (*name).into(),
                    },
                )
                .await?;
            for (i, (item, label)) in items.iter().enumerate() {
                let item = DictItem {
                    dict_type: (*code).into(),
                    code: (*item).into(),
                    label: (*label).into(),
                    sort: i as i64,
                    enabled: true,
                };
                self.store.upsert_dict_item(&ctx, &item).await?;
            }
        }
        Ok(())
    }

    /// Built-in roles follow the code: created when missing, their permissions
    /// and scope brought up to date on upgrade.
    async fn ensure_builtin_roles(&self, ctx: &AuditCtx) -> AppResult<()> {
        for b in BUILTIN_ROLES {
            let mut perms: Vec<String> = (b.permissions)().into_iter().map(str::to_owned).collect();
            perms.sort();
            match self.store.find_role_by_code(b.code).await {
                Ok(role) => {
                    let mut have = role.permissions.clone();
                    have.sort();
                    if have != perms || role.scope != b.scope {
                        let patch = RolePatch {
                            permissions: Some(perms),
                            scope: Some(b.scope),
                            ..Default::default()
                        };
                        self.store.update_role(ctx, role.id, &patch).await?;
                    }
                }
                Err(StoreError::NotFound) => {
                    let new = NewRole {
                        code: b.code.into(),
                        name: b.name.into(),
                        scope: b.scope,
                        custom_units: Vec::new(),
                        permissions: perms,
                        builtin: true,
                    };
                    self.store.create_role(ctx, &new).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_divisions_parse() {
        let all = bundled_divisions(None).unwrap();
        assert!(all.len() > 40_000, "{}", all.len());
        let zj = bundled_divisions(Some(&["3310".to_owned()])).unwrap();
        let tiantai = zj.iter().find(|d| d.code == "331023").unwrap();
        assert_eq!(tiantai.name, "天台县");
        assert_eq!(tiantai.parent_code.as_deref(), Some("3310"));
        assert!(zj
            .iter()
            .any(|d| d.level == DivisionLevel::Township
                && d.parent_code.as_deref() == Some("331023")));
        assert!(zj
            .iter()
            .all(|d| d.code.len() == 2 || d.code.starts_with("3310")));
        for d in &all {
            hongdun_core::division::DivisionCode::parse(&d.code).unwrap();
        }
    }
}
