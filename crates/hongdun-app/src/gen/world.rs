//! A whole jurisdiction as files ready for the import commands: a county, a
//! city or a province of the bundled division list, its businesses spread over
//! its counties in proportion to their townships, and a year of 12315
//! complaints against them. `hongdun gen --division CODE --scale S --out DIR`.
//!
//! Everything is a pure function of the options (no clock, no randomness from
//! outside), so the same seed writes byte-identical files.
use super::complaints as gc;
use super::entities::{csv_line, each_entity, entity, Town, HEADER};
use super::Rng;
use std::io::Write;
use std::path::{Path, PathBuf};

/// How many businesses: a county's (~100k), Jinhua's (1.815M, the city
/// report's figure), a province's (10M), or a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    County,
    City,
    Province,
    Rows(u64),
}

impl Scale {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "county" => Ok(Self::County),
            "city" => Ok(Self::City),
            "province" => Ok(Self::Province),
            n => n.replace('_', "").parse().map(Self::Rows).map_err(|_| {
                format!("--scale must be county, city, province or a number, not {n}")
            }),
        }
    }
    pub fn rows(self) -> u64 {
        match self {
            Self::County => 100_000,
            Self::City => 1_815_000,
            Self::Province => 10_000_000,
            Self::Rows(n) => n,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

/// One county's share of the world.
#[derive(Debug, Clone)]
pub struct CountyShare {
    pub code: String,
    pub name: String,
    pub towns: Vec<Town>,
    pub rows: u64,
}

/// The counties under `division` (a province, a city or one county) with
/// their townships, and `total` rows shared in proportion to township counts.
pub fn plan(division: &str, total: u64) -> Result<Vec<CountyShare>, String> {
    if !matches!(division.len(), 2 | 4 | 6) || !division.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "--division must be a province (2 digits), city (4) or county (6) code, not {division}"
        ));
    }
    let all = crate::bootstrap::bundled_divisions(Some(&[division.to_owned()]))
        .map_err(|e| e.message_zh())?;
    let mut counties: Vec<CountyShare> = all
        .iter()
        .filter(|d| d.code.len() == 6 && d.code.starts_with(division))
        .map(|c| CountyShare {
            code: c.code.clone(),
            name: c.name.clone(),
            towns: all
                .iter()
                .filter(|t| t.parent_code.as_deref() == Some(c.code.as_str()))
                .map(|t| Town {
                    code: t.code.clone(),
                    name: t.name.clone(),
                })
                .collect(),
            rows: 0,
        })
        .filter(|c| !c.towns.is_empty())
        .collect();
    counties.sort_by(|a, b| a.code.cmp(&b.code));
    if counties.is_empty() {
        return Err(format!(
            "division {division} has no counties with townships in the division list"
        ));
    }
    let towns: u64 = counties.iter().map(|c| c.towns.len() as u64).sum();
    let mut given = 0;
    let last = counties.len() - 1;
    for (i, c) in counties.iter_mut().enumerate() {
        c.rows = if i == last {
            total - given
        } else {
            total * c.towns.len() as u64 / towns
        };
        given += c.rows;
    }
    Ok(counties)
}

#[derive(Debug, Clone)]
pub struct WorldOptions {
    pub division: String,
    pub scale: Scale,
    pub seed: u64,
    /// Share of entity rows made bad on purpose (0.0–1.0).
    pub dirty: f64,
    pub gbk: bool,
    pub format: Format,
}

/// What was written.
#[derive(Debug, Clone, Default)]
pub struct WorldSummary {
    pub counties: usize,
    pub entities: u64,
    pub dirty: u64,
    pub complaints: u64,
    pub files: Vec<PathBuf>,
}

/// Rows of one table, to CSV (UTF-8 or GBK) or XLSX (constant memory).
enum Table {
    Csv(std::io::BufWriter<std::fs::File>, bool),
    Xlsx(Box<rust_xlsxwriter::Workbook>, u32, PathBuf),
}

/// The most rows one XLSX sheet holds (the header takes one).
const XLSX_MAX_ROWS: u64 = 1_048_575;

fn xlsx_err(e: rust_xlsxwriter::XlsxError) -> String {
    format!("xlsx: {e}")
}

impl Table {
    fn create(
        dir: &Path,
        stem: &str,
        format: Format,
        gbk: bool,
    ) -> Result<(Self, PathBuf), String> {
        match format {
            Format::Csv => {
                let path = dir.join(format!("{stem}.csv"));
                let f =
                    std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                Ok((
                    Table::Csv(std::io::BufWriter::with_capacity(1 << 20, f), gbk),
                    path,
                ))
            }
            Format::Xlsx => {
                let path = dir.join(format!("{stem}.xlsx"));
                let mut book = rust_xlsxwriter::Workbook::new();
                book.add_worksheet_with_constant_memory()
                    .map_err(xlsx_err)?
                    .set_name(stem)
                    .map_err(xlsx_err)?;
                Ok((Table::Xlsx(Box::new(book), 0, path.clone()), path))
            }
        }
    }

    fn row<S: AsRef<str>>(&mut self, cells: &[S]) -> Result<(), String> {
        match self {
            Table::Csv(out, gbk) => {
                let line = csv_line(cells);
                let r = if *gbk {
                    out.write_all(&encoding_rs::GBK.encode(&line).0)
                } else {
                    out.write_all(line.as_bytes())
                };
                r.map_err(|e| e.to_string())
            }
            Table::Xlsx(book, row, _) => {
                let sheet = book.worksheet_from_index(0).map_err(xlsx_err)?;
                for (col, v) in cells.iter().enumerate() {
                    let v = v.as_ref();
                    if !v.is_empty() {
                        // Codes stay text: an 18-character code must not become a number.
                        sheet.write_string(*row, col as u16, v).map_err(xlsx_err)?;
                    }
                }
                *row += 1;
                Ok(())
            }
        }
    }

    fn finish(self) -> Result<(), String> {
        match self {
            Table::Csv(mut out, _) => out.flush().map_err(|e| e.to_string()),
            Table::Xlsx(mut book, _, path) => book.save(&path).map_err(xlsx_err),
        }
    }
}

/// The header of the 12315 export, as the national platform writes it.
pub const COMPLAINT_HEADER: [&str; 11] = [
    "登记编号",
    "类型",
    "登记时间",
    "投诉人",
    "联系电话",
    "被投诉人",
    "统一社会信用代码",
    "问题类别",
    "网络交易平台",
    "涉及金额",
    "投诉内容",
];

/// The year the generated 12315 export covers (fixed, so files never depend
/// on the day they are made).
pub const COMPLAINT_YEAR: i32 = 2025;

/// Writes `entities.{csv,xlsx}` and `complaints-12315.{csv,xlsx}` into `dir`.
pub fn write_world(opts: &WorldOptions, dir: &Path) -> Result<WorldSummary, String> {
    if opts.gbk && opts.format == Format::Xlsx {
        return Err("--encoding gbk applies to CSV only".into());
    }
    let total = opts.scale.rows();
    if opts.format == Format::Xlsx && total > XLSX_MAX_ROWS {
        return Err(format!(
            "an XLSX sheet holds at most {XLSX_MAX_ROWS} rows; use --format csv for {total}"
        ));
    }
    let counties = plan(&opts.division, total)?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut sum = WorldSummary {
        counties: counties.len(),
        ..Default::default()
    };
    let (mut table, path) = Table::create(dir, "entities", opts.format, opts.gbk)?;
    table.row(&HEADER)?;
    for c in &counties {
        sum.dirty += each_entity(
            opts.seed,
            opts.dirty,
            &c.code,
            &c.name,
            &c.towns,
            c.rows,
            |e| table.row(&e.fields()),
        )?;
        sum.entities += c.rows;
    }
    table.finish()?;
    sum.files.push(path);

    // A year of 12315 cases against the businesses just written, at the
    // county rate (2,833 for ~100k businesses).
    let (mut table, path) = Table::create(dir, "complaints-12315", opts.format, opts.gbk)?;
    table.row(&COMPLAINT_HEADER)?;
    let start = chrono::NaiveDate::from_ymd_opt(COMPLAINT_YEAR, 1, 1).expect("valid date");
    for c in &counties {
        let cases = c.rows * gc::CASES_PER_YEAR as u64 / 100_000;
        for i in 0..cases {
            let mut r = Rng::fork(
                opts.seed ^ 0xC0_3315,
                u64::from(c.code.parse::<u32>().unwrap_or(0)) << 32 | i,
            );
            let target = entity(
                opts.seed,
                r.below(c.rows.max(1)),
                &c.code,
                &c.name,
                &c.towns,
            );
            let kind = *r.weighted(gc::KIND_MIX);
            let category = *r.weighted(gc::CATEGORY_MIX);
            let label = hongdun_core::complaint::CATEGORIES
                .iter()
                .find(|(k, _)| *k == category)
                .map_or("其他", |(_, l)| *l);
            let day = start + chrono::Days::new(r.below(365));
            let complainant = format!("{}{}", r.pick(gc::SURNAMES), r.pick(gc::GIVEN));
            let cells = [
                format!("12315-{}-{COMPLAINT_YEAR}-{i:06}", c.code),
                hongdun_core::complaint::CaseKind::parse(kind)
                    .map_or("投诉", |k| k.label_zh())
                    .to_owned(),
                format!("{day} {:02}:{:02}:00", 8 + r.below(10), r.below(60)),
                complainant,
                gc::phone(r.below(10_000_000)),
                target.name.clone(),
                target.uscc.clone(),
                label.to_owned(),
                (*r.weighted(gc::PLATFORM_MIX)).to_owned(),
                if kind == "complaint" {
                    format!("{}.00", 50 + r.below(5_000))
                } else {
                    String::new()
                },
                gc::description(category, &mut r),
            ];
            table.row(&cells)?;
            sum.complaints += 1;
        }
    }
    table.finish()?;
    sum.files.push(path);
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_city_is_its_counties_in_proportion() {
        let p = plan("3307", 1_815_000).unwrap();
        assert!(p.len() >= 9, "Jinhua has nine county-level divisions");
        assert_eq!(p.iter().map(|c| c.rows).sum::<u64>(), 1_815_000);
        assert!(p.iter().all(|c| c.code.starts_with("3307") && c.rows > 0));
        let one = plan("331023", 10).unwrap();
        assert_eq!((one.len(), one[0].rows), (1, 10));
        assert!(plan("99", 10).is_err());
        assert!(plan("3307x", 10).is_err());
        assert_eq!(Scale::parse("2_000").unwrap().rows(), 2_000);
        assert!(Scale::parse("town").is_err());
    }

    #[test]
    fn same_seed_same_bytes_and_files_import_ready() {
        let base = std::env::temp_dir().join(format!("hongdun-world-{}", std::process::id()));
        let opts = WorldOptions {
            division: "3307".into(),
            scale: Scale::Rows(20_000),
            seed: 5,
            dirty: 0.0,
            gbk: false,
            format: Format::Csv,
        };
        let a = write_world(&opts, &base.join("a")).unwrap();
        let b = write_world(&opts, &base.join("b")).unwrap();
        for (x, y) in a.files.iter().zip(&b.files) {
            assert_eq!(std::fs::read(x).unwrap(), std::fs::read(y).unwrap());
        }
        assert_eq!(a.entities, 20_000);
        assert!(a.complaints > 400);
        // Every credit code checks and carries a county of the city.
        let text = std::fs::read_to_string(&a.files[0]).unwrap();
        for line in text.lines().skip(1) {
            let code = line.split(',').next().unwrap();
            let u = hongdun_core::registry::Uscc::parse(code).unwrap();
            assert!(u.division().starts_with("3307"), "{code}");
        }
        let xlsx = write_world(
            &WorldOptions {
                format: Format::Xlsx,
                scale: Scale::Rows(500),
                ..opts.clone()
            },
            &base.join("x"),
        )
        .unwrap();
        assert!(xlsx.files[0].extension().unwrap() == "xlsx");
        assert!(write_world(
            &WorldOptions {
                format: Format::Xlsx,
                scale: Scale::City,
                ..opts
            },
            &base.join("y"),
        )
        .is_err());
        let _ = std::fs::remove_dir_all(&base);
    }
}
