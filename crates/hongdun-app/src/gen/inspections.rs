//! A year of random inspections for a generated county: the inspection items a
//! county bureau works with, the mix of visit outcomes, and the hazards found
//! outside inspections. Choices are drawn from `Rng` forks, so the same seed
//! gives the same year.
use super::Rng;

/// (code, name, legal basis, department section code, industry prefixes)
pub const ITEMS: &[(&str, &str, &str, &str, &[&str])] = &[
    (
        "SP-01",
        "食品经营许可证公示及有效性",
        "《中华人民共和国食品安全法》第三十五条",
        "food",
        &["H62", "F52"],
    ),
    (
        "SP-02",
        "从业人员健康证明",
        "《中华人民共和国食品安全法》第四十五条",
        "food",
        &["H62", "F52"],
    ),
    (
        "SP-03",
        "原料进货查验记录",
        "《中华人民共和国食品安全法》第五十三条",
        "food",
        &["H62", "F52"],
    ),
    (
        "SP-04",
        "餐具清洗消毒",
        "《中华人民共和国食品安全法》第五十六条",
        "food",
        &["H62"],
    ),
    (
        "DJ-01",
        "营业执照公示及登记事项",
        "《市场主体登记管理条例》第三十六条",
        "registry",
        &[],
    ),
    (
        "TS-01",
        "特种设备使用登记及定期检验",
        "《中华人民共和国特种设备安全法》第三十三条",
        "equipment",
        &[],
    ),
];

/// Visit outcomes in the proportions county reports give (most visits find nothing).
pub const OUTCOME_MIX: &[(u32, &str)] = &[
    (80, "no_problem"),
    (11, "rectified_on_site"),
    (5, "rectification_ordered"),
    (1, "case_opened"),
    (3, "not_found"),
];

/// Hazards found outside inspections: (category, what).
pub const DIRECT_HAZARDS: &[(&str, &str)] = &[
    ("special_equipment", "电梯超期未检验"),
    ("special_equipment", "压力容器安全阀未校验"),
    ("gas", "液化石油气钢瓶未固定、无报警装置"),
    ("gas", "燃气软管老化"),
    ("market", "农贸市场快检室未按规定开展快检"),
    ("fire", "后厨疏散通道堆放杂物"),
    ("food", "冷藏柜温度超标"),
    ("product", "销售无 3C 标志的电动自行车充电器"),
];

pub fn outcome(seed: u64, task: u64) -> &'static str {
    let picked: &&'static str = Rng::fork(seed ^ 0x1A5E, task).weighted(OUTCOME_MIX);
    picked
}

/// Days after the plan's start when the visit happened, and whether the
/// non-compliant items of a visit with problems include the second item.
pub fn visit_day(seed: u64, task: u64, span: u64) -> u64 {
    Rng::fork(seed ^ 0x7151, task).below(span)
}

/// How a hazard found `age` days ago stands today: days to close it (None:
/// still open), and whether it is still awaiting the re-check.
pub fn hazard_fate(seed: u64, n: u64, age: i64) -> (Option<i64>, bool) {
    let mut r = Rng::fork(seed ^ 0x4A2A, n);
    let days = 3 + r.below(25) as i64;
    if days < age && !r.chance(0.03) {
        (Some(days), false)
    } else {
        (None, r.chance(0.4))
    }
}

pub fn direct_hazard(seed: u64, n: u64) -> (&'static str, &'static str, u64) {
    let mut r = Rng::fork(seed ^ 0xD1EC, n);
    let (cat, what) = *r.pick(DIRECT_HAZARDS);
    (cat, what, r.below(365))
}
