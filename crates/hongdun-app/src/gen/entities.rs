//! Businesses in realistic proportions (Jinhua: 1.815M entities, 1.275M of them
//! individual businesses, i.e. 70%), named the way Chinese names are built —
//! region + trade name (字号) + trade + form — with valid credit codes carrying
//! their county, on real township names, established over decades.
use super::Rng;
use hongdun_core::registry::{org_check_char, Uscc};

/// A township of the generated county.
#[derive(Debug, Clone)]
pub struct Town {
    pub code: String,
    pub name: String,
}

/// A trade: (industry code, trade word, needs a food licence, tag).
type Trade = (&'static str, &'static str, bool, &'static str);

/// Trades with their weights in the mix.
const TRADES: &[(u32, Trade)] = &[
    (14, ("H6210", "面馆", true, "网络餐饮")),
    (8, ("H6210", "小吃店", true, "网络餐饮")),
    (6, ("H6210", "饭店", true, "阳光厨房")),
    (4, ("H6220", "奶茶店", true, "网络餐饮")),
    (14, ("F5211", "超市", true, "")),
    (9, ("F5221", "便利店", true, "")),
    (6, ("F5232", "服装店", false, "")),
    (4, ("F5273", "手机店", false, "")),
    (3, ("F5251", "药店", false, "")),
    (3, ("F5223", "水果店", true, "农贸市场")),
    (6, ("O8010", "理发店", false, "")),
    (4, ("O8040", "维修部", false, "")),
    (4, ("L7211", "商务咨询", false, "")),
    (5, ("C3484", "机械", false, "")),
    (3, ("C1391", "食品", true, "")),
    (3, ("E4790", "建筑工程", false, "")),
    (4, ("G5430", "货运", false, "")),
];

pub const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹",
    "袁", "邓", "许", "傅", "沈", "曾", "彭", "吕",
];
pub const GIVEN: &[&str] = &[
    "强", "伟", "芳", "娜", "敏", "静", "丽", "军", "杰", "磊", "洋", "勇", "艳", "涛", "明", "超",
    "霞", "平", "刚", "桂英", "建华", "国平", "小红", "海燕", "志强", "春梅", "玉兰", "德明",
];
const ZIHAO: &[&str] = &[
    "鑫达", "恒丰", "华盛", "金源", "宏远", "永兴", "顺发", "隆盛", "天成", "万福", "聚鑫", "和美",
    "佳禾", "瑞祥", "汇通", "新峰", "康源", "嘉诚", "博远", "益民", "老街", "阿强", "小李", "好味",
    "一品", "乡味", "放心", "诚信", "东方", "四季",
];
const ROADS: &[&str] = &[
    "人民路",
    "解放路",
    "中山路",
    "赤城路",
    "始丰路",
    "工业园区",
    "文化路",
    "环城东路",
    "新华街",
    "民主路",
    "劳动路",
    "和平路",
];

/// Kinds: individual businesses 70%, enterprises 27%, cooperatives 1%, branches 2%.
const KINDS: &[(u32, char)] = &[(70, '2'), (27, '1'), (1, '3'), (2, 'B')];
/// Status: most in business; older ones more often cancelled or revoked.
const STATUS: &[(u32, &str)] = &[(86, "存续"), (8, "注销"), (5, "吊销"), (1, "迁出")];

/// One generated business, as the columns of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenEntity {
    pub uscc: String,
    pub name: String,
    pub kind: &'static str,
    pub legal_rep: String,
    pub id_number: String,
    pub phone: String,
    pub address: String,
    pub township_code: String,
    pub industry: &'static str,
    pub status: &'static str,
    pub established: String,
    pub capital_wan: String,
    pub employees: u32,
    pub tags: String,
    /// Needs a food licence (for the licence generator).
    pub food: bool,
}

/// The header row, as government exports write it.
pub const HEADER: [&str; 14] = [
    "统一社会信用代码",
    "企业名称",
    "主体类型",
    "法定代表人/经营者",
    "身份证号",
    "联系电话",
    "住所/经营场所",
    "乡镇街道代码",
    "行业代码",
    "登记状态",
    "成立日期",
    "注册资本（万元）",
    "从业人数",
    "标签",
];

impl GenEntity {
    pub fn fields(&self) -> [String; 14] {
        [
            self.uscc.clone(),
            self.name.clone(),
            self.kind.to_owned(),
            self.legal_rep.clone(),
            self.id_number.clone(),
            self.phone.clone(),
            self.address.clone(),
            self.township_code.clone(),
            self.industry.to_owned(),
            self.status.to_owned(),
            self.established.clone(),
            self.capital_wan.clone(),
            self.employees.to_string(),
            self.tags.clone(),
        ]
    }
}

const ORG_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// A unique, valid credit code for serial `n` in `county`: the organisation
/// code encodes `n`, so codes never collide within a county.
pub fn credit_code(kind: char, county: &str, n: u64) -> String {
    let mut org = *b"MA000000";
    let mut v = n;
    for slot in org[2..].iter_mut().rev() {
        *slot = ORG_ALPHABET[(v % 31) as usize];
        v /= 31;
    }
    let org = std::str::from_utf8(&org).expect("ascii");
    let kind_digit = if kind == 'B' { '1' } else { kind };
    let check = org_check_char(org.as_bytes()).expect("valid org symbols");
    Uscc::with_check(&format!("9{kind_digit}{county}{org}{check}"))
        .expect("valid symbols")
        .to_string()
}

/// A resident ID number with a correct check character (born 1950–2000, in `county`).
fn id_number(r: &mut Rng, county: &str) -> String {
    let year = 1950 + r.below(50);
    let month = 1 + r.below(12);
    let day = 1 + r.below(28);
    let seq = r.below(1000);
    let body = format!("{county}{year}{month:02}{day:02}{seq:03}");
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(W)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

/// Generates entity number `n` (0-based) of a county; pure in (seed, n).
pub fn entity(seed: u64, n: u64, county: &str, county_name: &str, towns: &[Town]) -> GenEntity {
    let mut r = Rng::fork(seed, n);
    let kind = *r.weighted(KINDS);
    let town = r.pick(towns);
    let (industry, trade, food, tag) = *r.weighted(TRADES);
    let surname = *r.pick(SURNAMES);
    let person = format!("{surname}{}", r.pick(GIVEN));
    let zihao = if r.chance(0.3) {
        format!("{}{}", r.pick(&["阿", "小", "老"]), r.pick(GIVEN))
    } else {
        (*r.pick(ZIHAO)).to_owned()
    };
    let short_county = county_name.trim_end_matches(['县', '市', '区']);
    let name = match kind {
        '2' => format!("{county_name}{}{zihao}{trade}", town.name),
        '3' => format!(
            "{county_name}{zihao}{}专业合作社",
            r.pick(&["果蔬", "茶叶", "养殖", "农机"])
        ),
        'B' => format!(
            "{}{zihao}{trade}有限公司{short_county}分公司",
            r.pick(&["浙江", "杭州", "宁波", "台州"])
        ),
        _ => {
            let form = *r.weighted(&[(80, "有限公司"), (12, "有限责任公司"), (8, "股份有限公司")]);
            format!("{short_county}{zihao}{trade}{form}")
        }
    };
    let year = 1985 + r.below(41) as i32;
    let (year, month, day) = (year.min(2026), 1 + r.below(12), 1 + r.below(28));
    let year = if year == 2026 && month > 10 {
        2025
    } else {
        year
    };
    let status = if year < 2015 {
        *r.weighted(STATUS)
    } else {
        *r.weighted(&[(95, "存续"), (4, "注销"), (1, "吊销")])
    };
    let capital_wan = match kind {
        '2' => format!("{}", 1 + r.below(50)),
        _ => format!(
            "{}",
            [10, 50, 100, 200, 500, 1000, 3000][r.below(7) as usize]
        ),
    };
    GenEntity {
        uscc: credit_code(kind, county, n),
        name,
        kind: match kind {
            '2' => "个体工商户",
            '3' => "农民专业合作社",
            'B' => "分支机构",
            _ => "企业",
        },
        legal_rep: person,
        id_number: id_number(&mut r, county),
        phone: format!(
            "1{}{:08}",
            r.pick(&["38", "39", "58", "59", "86", "88", "35", "37"]),
            r.below(100_000_000)
        ),
        address: format!(
            "{county_name}{}{}{}号",
            town.name,
            r.pick(ROADS),
            1 + r.below(300)
        ),
        township_code: town.code.clone(),
        industry,
        status,
        established: format!("{year}-{month:02}-{day:02}"),
        capital_wan,
        employees: if kind == '2' {
            1 + r.below(8) as u32
        } else {
            3 + r.below(200) as u32
        },
        tags: tag.to_owned(),
        food,
    }
}

/// How a `--dirty` row goes wrong, as real exports do.
pub fn dirty(e: &mut GenEntity, r: &mut Rng) -> &'static str {
    match r.below(6) {
        0 => {
            // A wrong check character.
            let last = e.uscc.pop().unwrap_or('0');
            e.uscc.push(if last == '1' { '2' } else { '1' });
            "uscc_checksum"
        }
        1 => {
            // Full-width digits (still valid once normalised).
            e.uscc = e
                .uscc
                .chars()
                .map(|c| {
                    if c.is_ascii_digit() {
                        char::from_u32(c as u32 + 0xFEE0).unwrap_or(c)
                    } else {
                        c
                    }
                })
                .collect();
            "full_width"
        }
        2 => {
            e.name.clear();
            "missing_name"
        }
        3 => {
            // An Excel serial day number instead of a date.
            e.established = "43832".into();
            "excel_serial"
        }
        4 => {
            e.established = "2019-13-45".into();
            "junk_date"
        }
        _ => "duplicate",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn towns() -> Vec<Town> {
        vec![
            Town {
                code: "331023001".into(),
                name: "赤城街道".into(),
            },
            Town {
                code: "331023101".into(),
                name: "平桥镇".into(),
            },
        ]
    }

    #[test]
    fn deterministic_valid_and_realistic() {
        let t = towns();
        let a: Vec<GenEntity> = (0..5000)
            .map(|n| entity(7, n, "331023", "天台县", &t))
            .collect();
        let b: Vec<GenEntity> = (0..5000)
            .map(|n| entity(7, n, "331023", "天台县", &t))
            .collect();
        assert_eq!(a, b);
        let mut codes = std::collections::HashSet::new();
        for e in &a {
            let u = Uscc::parse(&e.uscc).unwrap();
            assert_eq!(u.division(), "331023");
            assert!(codes.insert(e.uscc.clone()));
            assert!(
                crate::registry::valid_id_number(&e.id_number),
                "{}",
                e.id_number
            );
        }
        let individual =
            a.iter().filter(|e| e.kind == "个体工商户").count() as f64 / a.len() as f64;
        assert!((individual - 0.70).abs() < 0.03, "{individual}");
        let catering =
            a.iter().filter(|e| e.industry.starts_with('H')).count() as f64 / a.len() as f64;
        assert!((0.25..0.40).contains(&catering), "{catering}");
        assert!(a.iter().any(|e| e.name.contains("面馆")));
        assert_ne!(entity(8, 0, "331023", "天台县", &t), a[0]);
    }
}

/// The townships of `county` from the bundled division list.
pub fn towns_of(county: &str) -> Result<(String, Vec<Town>), String> {
    let all = crate::bootstrap::bundled_divisions(Some(&[county.to_owned()]))
        .map_err(|e| e.message_zh())?;
    let name = all
        .iter()
        .find(|d| d.code == county)
        .map(|d| d.name.clone())
        .ok_or(format!("unknown county {county}"))?;
    let towns: Vec<Town> = all
        .iter()
        .filter(|d| d.parent_code.as_deref() == Some(county))
        .map(|d| Town {
            code: d.code.clone(),
            name: d.name.clone(),
        })
        .collect();
    if towns.is_empty() {
        return Err(format!(
            "county {county} has no townships in the division list"
        ));
    }
    Ok((name, towns))
}

/// Options of `hongdun gen entities`.
#[derive(Debug, Clone)]
pub struct GenOptions {
    pub county: String,
    pub rows: u64,
    pub seed: u64,
    /// Share of rows made bad on purpose (0.0–1.0).
    pub dirty: f64,
    pub gbk: bool,
}

/// The `rows` businesses of one county in order, a `dirty_rate` share of
/// them made bad as real exports are (a "duplicate" repeats the row before).
/// Returns how many were made dirty.
#[allow(clippy::too_many_arguments)]
pub fn each_entity(
    seed: u64,
    dirty_rate: f64,
    county: &str,
    county_name: &str,
    towns: &[Town],
    rows: u64,
    mut f: impl FnMut(&GenEntity) -> Result<(), String>,
) -> Result<u64, String> {
    let mut dirty_count = 0;
    let mut previous: Option<GenEntity> = None;
    for n in 0..rows {
        let mut e = entity(seed, n, county, county_name, towns);
        let mut r = Rng::fork(seed ^ 0xD1E7, n);
        if dirty_rate > 0.0 && r.chance(dirty_rate) {
            dirty_count += 1;
            if dirty(&mut e, &mut r) == "duplicate" {
                if let Some(p) = &previous {
                    e = p.clone();
                }
            }
        }
        f(&e)?;
        previous = Some(e);
    }
    Ok(dirty_count)
}

/// One CSV line, newline-terminated; a field with a comma, quote or newline
/// (addresses) is quoted.
pub fn csv_line<S: AsRef<str>>(cells: &[S]) -> String {
    let mut line = String::with_capacity(256);
    for (i, f) in cells.iter().enumerate() {
        let f = f.as_ref();
        if i > 0 {
            line.push(',');
        }
        if f.contains([',', '"', '\n']) {
            line.push('"');
            line.push_str(&f.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(f);
        }
    }
    line.push('\n');
    line
}

/// Writes the CSV; returns the number of rows and how many were made dirty.
pub fn write_csv(opts: &GenOptions, out: impl std::io::Write) -> Result<(u64, u64), String> {
    use std::io::Write;
    let (county_name, towns) = towns_of(&opts.county)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
    let mut put = |line: String| -> Result<(), String> {
        let r = if opts.gbk {
            out.write_all(&encoding_rs::GBK.encode(&line).0)
        } else {
            out.write_all(line.as_bytes())
        };
        r.map_err(|e| e.to_string())
    };
    put(csv_line(&HEADER))?;
    let dirty_count = each_entity(
        opts.seed,
        opts.dirty,
        &opts.county,
        &county_name,
        &towns,
        opts.rows,
        |e| put(csv_line(&e.fields())),
    )?;
    out.flush().map_err(|e| e.to_string())?;
    Ok((opts.rows, dirty_count))
}
