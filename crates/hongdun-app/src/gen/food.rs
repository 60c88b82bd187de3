//! 食安在线 for the demo: AI alert mixes (how often each kind is a false
//! positive, per vendor) and the sampling catalogue (products and test items
//! per food category, with their limits and standards), and lab values that
//! pass or fail their limit.
use super::Rng;

/// AI vendors of the demo's edge boxes, with how much more (or less) often
/// than the kind's base rate their alerts are false positives, in percent.
pub const AI_VENDORS: &[(&str, u32)] = &[("慧眼AI", 100), ("明厨卫士", 70), ("灵眸科技", 140)];

/// Violation kinds by frequency, with the base false-positive rate in percent.
pub const ALERT_MIX: &[(u32, (&str, u32))] = &[
    (30, ("no_mask", 8)),
    (20, ("no_hat", 10)),
    (10, ("no_uniform", 12)),
    (8, ("smoking", 25)),
    (10, ("phone", 30)),
    (5, ("bare_hand", 35)),
    (5, ("rodent", 45)),
    (6, ("bin_overflow", 15)),
    (4, ("wet_floor", 20)),
    (2, ("flame", 30)),
];

/// Why a person dismissed an alert, by kind.
pub fn dismiss_reason(kind: &str) -> &'static str {
    match kind {
        "rodent" => "画面中为猫/阴影，非鼠类",
        "smoking" => "手持物为筷子/勺子，非香烟",
        "phone" => "手持物为点菜单，非手机",
        "no_mask" | "no_hat" | "no_uniform" => "人员为非操作区过路人员",
        "flame" => "灶台有人看管，遮挡所致",
        _ => "画面误识别",
    }
}

/// A test item: name, unit, limit as standards write it, standard.
pub type Item = (&'static str, &'static str, &'static str, &'static str);

/// Category, products, test items.
pub const CATALOGUE: &[(&str, &[&str], &[Item])] = &[
    (
        "grain",
        &["鸡蛋挂面", "大米", "小麦粉", "米粉"],
        &[
            ("铅(以Pb计)", "mg/kg", "≤0.2", "GB 2762-2022"),
            ("镉(以Cd计)", "mg/kg", "≤0.2", "GB 2762-2022"),
            ("黄曲霉毒素B1", "μg/kg", "≤10", "GB 2761-2017"),
        ],
    ),
    (
        "meat",
        &["卤牛肉", "酱鸭", "火腿肠", "腊肉"],
        &[
            ("亚硝酸盐(以NaNO2计)", "mg/kg", "≤30", "GB 2760-2024"),
            (
                "苯甲酸及其钠盐(以苯甲酸计)",
                "g/kg",
                "不得检出",
                "GB 2760-2024",
            ),
            ("菌落总数", "CFU/g", "≤100000", "GB 2726-2016"),
        ],
    ),
    (
        "agri",
        &["韭菜", "芹菜", "豇豆", "鸡蛋", "猪肉"],
        &[
            ("腐霉利", "mg/kg", "≤0.2", "GB 2763-2021"),
            ("毒死蜱", "mg/kg", "≤0.02", "GB 2763-2021"),
            ("克百威", "mg/kg", "≤0.02", "GB 2763-2021"),
        ],
    ),
    (
        "condiment",
        &["酿造酱油", "食醋", "鸡精调味料"],
        &[
            ("氨基酸态氮(以氮计)", "g/100mL", "≥0.4", "GB 2717-2018"),
            ("苯甲酸及其钠盐(以苯甲酸计)", "g/kg", "≤1.0", "GB 2760-2024"),
        ],
    ),
    (
        "pastry",
        &["蛋糕", "月饼", "面包"],
        &[
            ("酸价(以脂肪计)(KOH)", "mg/g", "≤5", "GB 7099-2015"),
            ("过氧化值(以脂肪计)", "g/100g", "≤0.25", "GB 7099-2015"),
            ("菌落总数", "CFU/g", "≤100000", "GB 7099-2015"),
        ],
    ),
    (
        "catering",
        &["复用餐饮具", "自制凉拌菜", "油炸面制品"],
        &[
            ("大肠菌群", "/50cm²", "不得检出", "GB 14934-2016"),
            (
                "铝的残留量(干样品，以Al计)",
                "mg/kg",
                "≤100",
                "GB 2760-2024",
            ),
        ],
    ),
    (
        "aquatic",
        &["鱼干", "虾仁", "即食海蜇"],
        &[
            ("镉(以Cd计)", "mg/kg", "≤0.1", "GB 2762-2022"),
            ("孔雀石绿", "μg/kg", "不得检出", "农业农村部公告第250号"),
        ],
    ),
    (
        "beverage",
        &["饮用纯净水", "果汁饮料"],
        &[
            ("溴酸盐", "mg/L", "≤0.01", "GB 19298-2014"),
            ("铜绿假单胞菌", "CFU/250mL", "不得检出", "GB 19298-2014"),
        ],
    ),
    (
        "dairy",
        &["纯牛奶", "酸奶"],
        &[
            ("蛋白质", "g/100g", "≥2.9", "GB 25190-2010"),
            ("三聚氰胺", "mg/kg", "≤2.5", "卫生部等5部门公告2011年第10号"),
        ],
    ),
];

/// A lab value for `limit` that passes or fails it (as `hongdun_core::food_sample::judge` reads it).
pub fn lab_value(limit: &str, pass: bool, r: &mut Rng) -> String {
    let frac = |r: &mut Rng, lo: u64, hi: u64| (lo + r.below(hi - lo)) as f64 / 100.0;
    if limit == "不得检出" {
        return if pass {
            "未检出".into()
        } else {
            format!("{:.2}", frac(r, 1, 300))
        };
    }
    let (ge, n) = match (limit.strip_prefix('≥'), limit.strip_prefix('≤')) {
        (Some(n), _) => (true, n),
        (_, Some(n)) => (false, n),
        _ => return "未检出".into(),
    };
    let l: f64 = n.parse().unwrap_or(1.0);
    let v = match (ge, pass) {
        (false, true) if r.chance(0.4) => return "未检出".into(),
        (false, true) => l * frac(r, 5, 90),
        (false, false) => l * frac(r, 110, 400),
        (true, true) => l * frac(r, 102, 160),
        (true, false) => l * frac(r, 40, 95),
    };
    // Enough digits that rounding never carries a value across its limit.
    let digits = if l < 0.1 { 4 } else { 3 };
    format!("{v:.digits$}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use hongdun_core::food_sample::judge;

    #[test]
    fn lab_values_pass_or_fail_as_asked() {
        let mut r = Rng::new(7);
        for (_, _, items) in CATALOGUE {
            for (_, _, limit, _) in *items {
                for _ in 0..200 {
                    for pass in [true, false] {
                        let v = lab_value(limit, pass, &mut r);
                        assert_eq!(judge(&v, limit), Some(pass), "{v} vs {limit}");
                    }
                }
            }
        }
    }
}
