//! A year of complaints, reports and enquiries for a generated county, in the
//! proportions the Pinghu report gives (2,833 a year, all closed, ¥3.109M
//! recovered): kinds, categories, platforms, how long each step takes, the
//! outcomes, and a few people who file against many businesses. Choices come
//! from `Rng` forks, so the same seed gives the same year.
use super::Rng;

/// Cases a county bureau receives in a year.
pub const CASES_PER_YEAR: usize = 2_833;

pub const KIND_MIX: &[(u32, &str)] = &[(70, "complaint"), (22, "report"), (8, "enquiry")];

pub const CATEGORY_MIX: &[(u32, &str)] = &[
    (25, "food"),
    (18, "product_quality"),
    (15, "service"),
    (10, "contract"),
    (8, "price"),
    (6, "advertising"),
    (5, "licensing"),
    (3, "drug"),
    (3, "cosmetics"),
    (2, "medical_device"),
    (2, "special_equipment"),
    (1, "metrology"),
    (1, "ip"),
    (1, "other"),
];

/// Online platforms of complaints about online purchases; "" = offline.
pub const PLATFORM_MIX: &[(u32, &str)] = &[
    (62, ""),
    (12, "美团"),
    (8, "淘宝"),
    (6, "抖音"),
    (5, "拼多多"),
    (4, "京东"),
    (3, "饿了么"),
];

/// People's names come from the same lists as the register's operators.
pub use super::entities::{GIVEN, SURNAMES};

/// What the complainant wrote, by category.
pub fn description(category: &str, r: &mut Rng) -> String {
    let lines: &[&str] = match category {
        "food" => &[
            "在该店就餐后出现腹泻，要求退还餐费并赔偿医药费。",
            "购买的熟食已过保质期，店家拒绝退换。",
            "外卖餐品中发现异物，商家不予处理。",
        ],
        "product_quality" => &[
            "购买的电动车电池使用两个月即无法充电，商家推诿不修。",
            "新买的洗衣机漏水，要求退货被拒。",
            "购买的羽绒服含绒量与标签不符。",
        ],
        "service" => &[
            "预付的美容卡剩余次数，门店关门无法使用。",
            "汽车维修后同一故障再次出现，维修店拒绝返修。",
            "培训机构承诺的课程未兑现，要求退费。",
        ],
        "price" => &[
            "结账金额高于标价，商家拒绝按标价收费。",
            "停车收费未明码标价。",
        ],
        "advertising" => &[
            "商家宣传“最低价”“全网第一”，与实际不符。",
            "保健品宣传能治疗疾病。",
        ],
        "contract" => &[
            "装修合同约定工期已过，仍未完工。",
            "健身房格式合同规定概不退款。",
        ],
        _ => &["商家经营行为存在问题，请求处理。", "要求商家履行承诺。"],
    };
    (*r.pick(lines)).to_owned()
}

/// A mobile-shaped number for a generated person (one block, so they are
/// easy to recognise and clear out).
pub fn phone(n: u64) -> String {
    format!("1990{:07}", n % 10_000_000)
}
