//! Importing the register from government exports: CSV (UTF-8, UTF-8 with BOM,
//! GBK/GB18030 detected) and XLSX; Chinese or English headers; every bad row
//! reported with its row, column, code and message while the good rows are kept.
//!
//! A reader thread parses and validates while the database commits the previous
//! batch. Each batch commits with its errors and the job's checkpoint in one
//! transaction, so a killed import resumes after the last whole batch.
use crate::registry::{check_entity_owned, CheckMode, Jurisdictions, RawEntity};
use crate::{App, AppError, AppResult};
use chrono::Utc;
use hongdun_store::{
    AuditCtx, ImportBatch, ImportError, ImportJob, ImportJobQuery, Page, StoreError,
};
use sha2::{Digest, Sha256};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

pub const KIND_ENTITIES: &str = "entities";

/// How long a job may say `running` with no batch committed, and no import
/// of this process running it, before the history calls it stalled: a
/// command-line import killed, or a server that lost the upload it was
/// reading. Well above the longest silent step of a live import (the index
/// builds after a first load: about a minute for ten million businesses).
pub const IMPORT_STALL_AFTER: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// An import job as the console and the API show it.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportJobView {
    #[serde(flatten)]
    pub job: ImportJob,
    /// Running by its status, but no import runs it here and nothing has been
    /// committed for `IMPORT_STALL_AFTER` (10 minutes): most likely cut off.
    /// Its committed batches are kept; the same file imported again (uploaded,
    /// or the same command) resumes it after the last one.
    pub stalled: bool,
}

/// The jobs this process is importing (`App::live_imports`), each removed
/// when its run ends, however it ends.
pub(crate) struct LiveImport<'a> {
    live: &'a std::sync::Mutex<std::collections::HashSet<i64>>,
    id: i64,
}

impl<'a> LiveImport<'a> {
    fn start(live: &'a std::sync::Mutex<std::collections::HashSet<i64>>, id: i64) -> Self {
        live.lock().unwrap_or_else(|e| e.into_inner()).insert(id);
        Self { live, id }
    }
}

impl Drop for LiveImport<'_> {
    fn drop(&mut self) {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

/// Header spellings (normalised: no spaces, no brackets' contents) for each field.
const HEADERS: &[(&str, &[&str])] = &[
    (
        "uscc",
        &[
            "统一社会信用代码",
            "社会信用代码",
            "信用代码",
            "uscc",
            "creditcode",
            "credit_code",
        ],
    ),
    ("reg_no", &["注册号", "工商注册号", "reg_no", "regno"]),
    // One column for either, as the national publicity system
    // (国家企业信用信息公示系统) and many local exports write it: each cell
    // is a legacy registration number if it is 15 digits, else a credit code.
    (
        "uscc_or_reg_no",
        &[
            "统一社会信用代码/注册号",
            "注册号/统一社会信用代码",
            "信用代码/注册号",
            "统一社会信用代码或注册号",
            "uscc_or_reg_no",
        ],
    ),
    (
        "name",
        &[
            "企业名称",
            "名称",
            "主体名称",
            "市场主体名称",
            "个体户名称",
            "字号名称",
            "name",
        ],
    ),
    (
        "kind",
        &["主体类型", "市场主体类型", "企业类型", "类型", "kind"],
    ),
    (
        "legal_rep",
        &[
            "法定代表人",
            "经营者",
            "法定代表人/经营者",
            "法定代表人（经营者）",
            "负责人",
            "投资人",
            "legal_rep",
        ],
    ),
    (
        "id_number",
        &[
            "身份证号",
            "身份证号码",
            "证件号码",
            "法定代表人证件号码",
            "id_number",
        ],
    ),
    (
        "phone",
        &["联系电话", "电话", "手机", "手机号码", "联系方式", "phone"],
    ),
    (
        "address",
        &[
            "住所",
            "经营场所",
            "住所/经营场所",
            "地址",
            "经营地址",
            "address",
        ],
    ),
    (
        "county_code",
        &["县区代码", "所属区县代码", "区县代码", "county_code"],
    ),
    (
        "township_code",
        &[
            "乡镇街道代码",
            "所属乡镇代码",
            "乡镇代码",
            "街道代码",
            "township_code",
        ],
    ),
    ("grid", &["网格", "所属网格", "grid"]),
    (
        "industry",
        &["行业代码", "国民经济行业代码", "行业", "industry"],
    ),
    ("status", &["登记状态", "经营状态", "状态", "status"]),
    (
        "established",
        &["成立日期", "注册日期", "设立日期", "established"],
    ),
    (
        "capital_wan",
        &["注册资本", "注册资金", "capital", "capital_wan"],
    ),
    (
        "employees",
        &["从业人数", "从业人员", "员工人数", "employees"],
    ),
    ("business_scope", &["经营范围", "business_scope"]),
    ("tags", &["标签", "tags"]),
];

/// Removes spaces, a leading `*` (required-field marks) and any bracketed unit
/// such as （万元）, so `* 注册资本（万元）` matches `注册资本`.
pub(crate) fn normalize_header(h: &str) -> String {
    let t = hongdun_core::registry::normalize_text(h.trim_start_matches('\u{feff}'));
    let mut out = String::new();
    let mut depth = 0;
    for ch in t.chars() {
        match ch {
            '(' | '（' => depth += 1,
            ')' | '）' => depth -= 1,
            '*' | ' ' => {}
            c if depth <= 0 => out.extend(c.to_lowercase()),
            _ => {}
        }
    }
    out
}

/// Which column holds each field, and the header text shown in error reports.
#[derive(Debug, Clone, Default)]
pub struct ColumnMap {
    /// (field, column index, header as written), the first column of each field.
    pub(crate) cols: Vec<(&'static str, usize, String)>,
    pub ignored: Vec<String>,
}

impl ColumnMap {
    /// The columns of `headers` that `table` names (field, then its
    /// spellings, compared normalised); the first column of a field wins,
    /// and the other headers are ignored.
    pub(crate) fn matching(table: &[(&'static str, &[&str])], headers: &[String]) -> Self {
        let mut map = ColumnMap::default();
        for (i, h) in headers.iter().enumerate() {
            let n = normalize_header(h);
            let field = table
                .iter()
                .find(|(_, names)| names.iter().any(|x| normalize_header(x) == n));
            match field {
                Some((f, _)) if !map.cols.iter().any(|(g, ..)| g == f) => {
                    map.cols.push((f, i, h.trim().to_owned()))
                }
                _ if !n.is_empty() => map.ignored.push(h.trim().to_owned()),
                _ => {}
            }
        }
        map
    }

    pub fn from_headers(headers: &[String]) -> Result<Self, Vec<ImportError>> {
        let map = Self::matching(HEADERS, headers);
        let has = |f: &str| map.cols.iter().any(|(g, ..)| *g == f);
        let mut missing = Vec::new();
        if !has("name") {
            missing.push(ImportError {
                row_no: 1,
                column: "名称".into(),
                code: "import_missing_column".into(),
                message: "缺少“名称/企业名称”列".into(),
                severity: "error".into(),
            });
        }
        if !has("uscc") && !has("reg_no") && !has("uscc_or_reg_no") {
            missing.push(ImportError {
                row_no: 1,
                column: "统一社会信用代码".into(),
                code: "import_missing_column".into(),
                message: "缺少“统一社会信用代码”或“注册号”列".into(),
                severity: "error".into(),
            });
        }
        if missing.is_empty() {
            Ok(map)
        } else {
            Err(missing)
        }
    }

    pub fn raw(&self, cell: impl Fn(usize) -> Option<String>) -> RawEntity {
        let mut r = RawEntity::default();
        for (field, i, _) in &self.cols {
            let v = cell(*i);
            let slot = match *field {
                "uscc_or_reg_no" => {
                    match v.as_deref().map(hongdun_core::registry::normalize_code) {
                        Some(code)
                            if code.len() == 15 && code.bytes().all(|b| b.is_ascii_digit()) =>
                        {
                            &mut r.reg_no
                        }
                        _ => &mut r.uscc,
                    }
                }
                "uscc" => &mut r.uscc,
                "reg_no" => &mut r.reg_no,
                "name" => &mut r.name,
                "kind" => &mut r.kind,
                "legal_rep" => &mut r.legal_rep,
                "id_number" => &mut r.id_number,
                "phone" => &mut r.phone,
                "address" => &mut r.address,
                "county_code" => &mut r.county_code,
                "township_code" => &mut r.township_code,
                "grid" => &mut r.grid,
                "industry" => &mut r.industry,
                "status" => &mut r.status,
                "established" => &mut r.established,
                "capital_wan" => &mut r.capital_wan,
                "employees" => &mut r.employees,
                "business_scope" => &mut r.business_scope,
                _ => &mut r.tags,
            };
            *slot = v;
        }
        r
    }

    /// The header text of `field` as the file wrote it.
    pub fn header_of(&self, field: &str) -> String {
        let find = |field: &str| self.cols.iter().find(|(f, ..)| *f == field);
        find(field)
            .or_else(|| match field {
                "uscc" | "reg_no" => find("uscc_or_reg_no"),
                _ => None,
            })
            .map(|(_, _, h)| h.clone())
            .unwrap_or_else(|| field.to_owned())
    }
}

/// The text encoding of a CSV file, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Utf8Bom,
    Gb18030,
}

pub fn detect_encoding(head: &[u8]) -> TextEncoding {
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return TextEncoding::Utf8Bom;
    }
    match std::str::from_utf8(head) {
        Ok(_) => TextEncoding::Utf8,
        // A sample cut in the middle of a character is still UTF-8.
        Err(e) if e.error_len().is_none() => TextEncoding::Utf8,
        Err(_) => TextEncoding::Gb18030,
    }
}

/// Packs a credit code (18 symbols of base 31) or a registration number into a
/// u128, so duplicate detection costs 16 bytes a row and has no false hits.
fn packed_key(uscc: Option<&str>, reg_no: Option<&str>) -> Option<u128> {
    if let Some(u) = uscc {
        let mut v: u128 = 0;
        for b in u.bytes() {
            let d = b"0123456789ABCDEFGHJKLMNPQRTUWXY"
                .iter()
                .position(|&a| a == b)? as u128;
            v = v * 31 + d;
        }
        return Some(v);
    }
    reg_no
        .and_then(|r| r.parse::<u128>().ok())
        .map(|n| n | (1u128 << 127))
}

pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Progress as the terminal or the API shows it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    pub rows: i64,
    pub bytes: u64,
    pub total_bytes: u64,
}

/// The duplicate check's default memory share: a table of 2^24 codes (256 MiB,
/// 12.5M rows before the first spill) and a 128 MiB filter for the spilled ones.
pub const DEDUP_MEMORY: usize = 384 << 20;

#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub mode: CheckMode,
    pub batch_rows: usize,
    /// The name recorded on the job (defaults to the file's name).
    pub file_name: Option<String>,
    /// Bytes the duplicate check may hold in memory; beyond them it spills
    /// sorted runs of codes to the temp directory (`TMPDIR`), 16 bytes a row.
    pub dedup_memory: usize,
    /// Where the duplicate check spills; `None` is the system's temp
    /// directory (`TMPDIR`).
    pub temp_dir: Option<PathBuf>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            mode: CheckMode::Strict,
            batch_rows: 10_000,
            file_name: None,
            dedup_memory: DEDUP_MEMORY,
            temp_dir: None,
        }
    }
}

enum Msg {
    Batch(ImportBatch, u64),
    Failed(ImportError),
}

/// Counts bytes as the reader consumes them, for progress.
struct Counting<R> {
    inner: R,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// Seeks pass through (an XLSX file is a zip: its directory is read first,
/// from the end); the count is of bytes read, so it ends near the file's size.
impl<R: std::io::Seek> std::io::Seek for Counting<R> {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// The reader side: rows → validated batches, sent as they fill.
struct Reader {
    map: Option<ColumnMap>,
    mode: CheckMode,
    juris: Jurisdictions,
    /// Packed codes of the rows read so far (duplicates in the file), in
    /// bounded memory: past its share the check spills sorted runs to disk.
    seen: crate::dedup::SeenKeys,
    resume_after: i64,
    batch_rows: usize,
    batch: ImportBatch,
    today: chrono::NaiveDate,
    tx: tokio::sync::mpsc::Sender<Msg>,
    bytes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Rows checked but not yet looked up in `seen` nor added to the batch:
    /// `WARM_ROWS` of them are looked up together (`SeenKeys::warm`), then
    /// each in the file's order, as one at a time would.
    checked: Vec<Checked>,
}

/// Rows whose duplicate lookups are made together.
const WARM_ROWS: usize = 16;

/// What `check_entity_owned` says of a row.
type Checks = Result<
    (hongdun_store::NewEntity, Vec<crate::registry::Problem>),
    Vec<crate::registry::Problem>,
>;

/// A data row checked, waiting for its duplicate lookup.
struct Checked {
    data_row: i64,
    /// `None`: a blank row.
    outcome: Option<Checks>,
    key: Option<u128>,
}

/// What the CSV and XLSX readers feed: a header row, then data rows; `false`
/// from any call stops reading. The register import and the 12315 import are both sinks.
pub(crate) trait RowSink {
    /// Bytes read so far, for progress (CSV only).
    fn bytes(&self) -> std::sync::Arc<std::sync::atomic::AtomicU64>;
    /// How many of the columns the sink needs `headers` lacks (0: a header it
    /// can read). The readers try the file's first rows with it to find the
    /// header below a title; a sink that answers 0 takes the first row.
    fn header_problems(&self, _headers: &[String]) -> usize {
        0
    }
    /// The header, in the file's row `row_no`; false (after reporting what
    /// is missing) stops reading.
    fn headers(&mut self, headers: Vec<String>, row_no: i64) -> bool;
    /// One data row; `data_row` is its number in the file less one (1 for
    /// the first data row under a header in row 1).
    fn row(&mut self, data_row: i64, cell: impl Fn(usize) -> Option<String>) -> bool;
    fn flush(&mut self) -> bool;
    /// About how many data rows the file holds, told once early on (CSV only).
    fn expect_rows(&mut self, _rows: usize) {}
}

impl RowSink for Reader {
    fn bytes(&self) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
        self.bytes.clone()
    }

    /// The duplicate check sized for the whole file at once: growing it
    /// doubles and rehashes its table again and again, and at the last
    /// doubling both tables are held (at 10M rows 128 MB beside 256 MB).
    /// It never grows beyond its memory share, whatever the guess.
    fn expect_rows(&mut self, rows: usize) {
        self.seen.reserve(rows);
    }

    fn header_problems(&self, headers: &[String]) -> usize {
        ColumnMap::from_headers(headers)
            .err()
            .map_or(0, |e| e.len())
    }

    fn headers(&mut self, headers: Vec<String>, row_no: i64) -> bool {
        match ColumnMap::from_headers(&headers) {
            Ok(m) => {
                self.map = Some(m);
                true
            }
            Err(errs) => {
                for e in errs {
                    let _ = self
                        .tx
                        .blocking_send(Msg::Failed(ImportError { row_no, ..e }));
                }
                false
            }
        }
    }

    fn row(&mut self, data_row: i64, cell: impl Fn(usize) -> Option<String>) -> bool {
        let Some(map) = &self.map else { return false };
        let raw = map.raw(|i| {
            cell(i)
                .map(|s| match s.trim() {
                    t if t.len() == s.len() => s,
                    t => t.to_owned(),
                })
                .filter(|s| !s.is_empty())
        });
        let blank = raw.uscc.is_none() && raw.reg_no.is_none() && raw.name.is_none();
        if data_row <= self.resume_after {
            // Committed before the interruption: only remember its key.
            if let Ok((e, _)) = check_entity_owned(raw, self.mode, &self.juris, self.today) {
                if let Some(k) = packed_key(e.uscc.as_deref(), e.reg_no.as_deref()) {
                    if let Err(err) = self.seen.insert(k) {
                        return self.spill_failed(err);
                    }
                }
            }
            return true;
        }
        let outcome = (!blank).then(|| check_entity_owned(raw, self.mode, &self.juris, self.today));
        let key = match &outcome {
            Some(Ok((e, _))) => packed_key(e.uscc.as_deref(), e.reg_no.as_deref()),
            _ => None,
        };
        self.checked.push(Checked {
            data_row,
            outcome,
            key,
        });
        if self.checked.len() >= WARM_ROWS {
            return self.settle();
        }
        true
    }

    fn flush(&mut self) -> bool {
        if !self.settle() {
            return false;
        }
        self.send_batch()
    }
}

impl Reader {
    /// The rows checked so far into the batch, in order: each one's
    /// duplicate lookup (after one read of all their slots), its errors, and
    /// the batch sent whenever it is full.
    fn settle(&mut self) -> bool {
        self.seen.warm(self.checked.iter().filter_map(|c| c.key));
        let Some(map) = self.map.take() else {
            return false;
        };
        let mut checked = std::mem::take(&mut self.checked);
        // Stops at the first row that cannot be settled; the rest are dropped.
        let go_on = checked.drain(..).all(|c| self.settle_one(&map, c));
        self.checked = checked;
        self.map = Some(map);
        go_on
    }

    fn settle_one(&mut self, map: &ColumnMap, c: Checked) -> bool {
        let Checked {
            data_row,
            outcome,
            key,
        } = c;
        let row_no = data_row + 1;
        if let Some(outcome) = outcome {
            self.batch.rows_seen += 1;
            match outcome {
                Ok((e, warnings)) => {
                    let new = match key {
                        Some(k) => match self.seen.insert(k) {
                            Ok(new) => new,
                            Err(err) => return self.spill_failed(err),
                        },
                        None => true,
                    };
                    if !new {
                        self.batch.rows_failed += 1;
                        let field = if e.uscc.is_some() { "uscc" } else { "reg_no" };
                        self.batch.errors.push(ImportError {
                            row_no,
                            column: map.header_of(field),
                            code: "duplicate_in_file".into(),
                            message: "与文件中前面的行重复，已跳过".into(),
                            severity: "error".into(),
                        });
                    } else {
                        if !warnings.is_empty() {
                            self.batch.rows_warned += 1;
                        }
                        for w in warnings {
                            self.batch.errors.push(ImportError {
                                row_no,
                                column: map.header_of(w.field),
                                code: w.code.into(),
                                message: w.message,
                                severity: "warning".into(),
                            });
                        }
                        self.batch.rows.push(e);
                    }
                }
                Err(problems) => {
                    self.batch.rows_failed += 1;
                    for p in problems {
                        self.batch.errors.push(ImportError {
                            row_no,
                            column: map.header_of(p.field),
                            code: p.code.into(),
                            message: p.message,
                            severity: "error".into(),
                        });
                    }
                }
            }
        }
        self.batch.checkpoint_row = data_row;
        if self.batch.rows_seen as usize >= self.batch_rows {
            return self.send_batch();
        }
        true
    }

    fn send_batch(&mut self) -> bool {
        let batch = std::mem::take(&mut self.batch);
        let bytes = self.bytes.load(std::sync::atomic::Ordering::Relaxed);
        self.batch.checkpoint_row = batch.checkpoint_row;
        self.tx.blocking_send(Msg::Batch(batch, bytes)).is_ok()
    }
}

impl Reader {
    /// The duplicate check could not write its temporary file (a full or
    /// read-only temp directory): the import stops after its last committed
    /// batch, and importing the file again once there is room completes it
    /// (the committed rows come through unchanged).
    fn spill_failed(&mut self, err: std::io::Error) -> bool {
        let _ = self.tx.blocking_send(Msg::Failed(ImportError {
            row_no: 0,
            column: String::new(),
            code: "import_temp_unwritable".into(),
            message: format!("导入查重的临时文件无法写入（请检查临时目录的空间）：{err}"),
            severity: "error".into(),
        }));
        false
    }
}

fn read_error(e: impl std::fmt::Display) -> ImportError {
    ImportError {
        row_no: 0,
        column: String::new(),
        code: "import_unreadable".into(),
        message: format!("文件无法读取：{e}"),
        severity: "error".into(),
    }
}

/// How many rows at the top of a file may come before its header: a title
/// such as "天台县市场主体名录（截至2026年11月）", the date of the export, a note.
/// Government exports often have one or two.
const HEADER_SEARCH_ROWS: usize = 10;

/// The search for the header among a file's first rows: the first one the
/// sink can read is it, and the rows above it are not data. If none of the
/// first `HEADER_SEARCH_ROWS` rows with a value will do (of any sheet of a
/// workbook: a first sheet of instructions, 填表说明, is passed over), the
/// closest (fewest columns missing, the first of equals) is reported, with
/// its row number.
#[derive(Default)]
struct HeaderSearch {
    tried: usize,
    /// (problems, row number, cells) of the closest row so far.
    closest: Option<(usize, i64, Vec<String>)>,
}

enum Offer {
    Header,
    NotYet,
    /// The sink said stop.
    Stop,
    /// None of the rows to try was the header.
    GiveUp,
}

impl HeaderSearch {
    fn offer<S: RowSink>(&mut self, r: &mut S, row_no: i64, cells: Vec<String>) -> Offer {
        if cells.iter().all(|c| c.trim().is_empty()) {
            return Offer::NotYet;
        }
        self.tried += 1;
        let problems = r.header_problems(&cells);
        if problems == 0 {
            return if r.headers(cells, row_no) {
                Offer::Header
            } else {
                Offer::Stop
            };
        }
        if self.closest.as_ref().is_none_or(|(p, ..)| problems < *p) {
            self.closest = Some((problems, row_no, cells));
        }
        if self.tried >= HEADER_SEARCH_ROWS {
            return Offer::GiveUp;
        }
        Offer::NotYet
    }

    /// Starts on another sheet: its first rows are tried afresh; the closest
    /// row of the sheets before is kept.
    fn next_sheet(&mut self) {
        self.tried = 0;
    }

    /// No header found: the closest row's problems go to the sink. False if
    /// the file had no row with a value at all.
    fn give_up<S: RowSink>(&mut self, r: &mut S) -> bool {
        match self.closest.take() {
            Some((_, row_no, cells)) => {
                r.headers(cells, row_no);
                true
            }
            None => false,
        }
    }
}

fn empty_file(message: &str) -> ImportError {
    ImportError {
        row_no: 1,
        column: String::new(),
        code: "import_empty".into(),
        message: message.into(),
        severity: "error".into(),
    }
}

/// Reads a CSV, XLSX or XLS file (told apart by its first bytes) into `sink`.
pub(crate) fn read_table<S: RowSink>(path: &Path, sink: &mut S) -> Result<(), ImportError> {
    match sniff(path) {
        Kind::Xlsx => read_xlsx(path, sink),
        Kind::Xls => read_xls(path, sink),
        Kind::Csv => read_csv(path, sink),
    }
}

/// The data rows read before the CSV reader guesses the file's row count.
const EXPECT_AFTER_ROWS: i64 = 4096;

fn read_csv<S: RowSink>(path: &Path, r: &mut S) -> Result<(), ImportError> {
    let mut file = std::fs::File::open(path).map_err(read_error)?;
    let mut head = vec![0u8; 64 * 1024];
    let n = file.read(&mut head).map_err(read_error)?;
    head.truncate(n);
    let encoding = match detect_encoding(&head) {
        TextEncoding::Gb18030 => Some(encoding_rs::GB18030),
        TextEncoding::Utf8 | TextEncoding::Utf8Bom => None,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let file_len = file.metadata().map_or(0, |m| m.len());
    let counting = Counting {
        inner: file,
        count: r.bytes(),
    };
    let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(encoding)
        .bom_sniffing(true)
        .strip_bom(true)
        .build(BufReader::with_capacity(1 << 20, counting));
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(decoded);
    let mut rec = csv::StringRecord::new();
    // The file's row number of the record just read, and of the header.
    let mut row_no = 0i64;
    let mut header_at = None;
    let mut search = HeaderSearch::default();
    loop {
        match csv.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(read_error(e)),
        }
        row_no += 1;
        let Some(header_row) = header_at else {
            match search.offer(r, row_no, rec.iter().map(str::to_owned).collect()) {
                Offer::Header => header_at = Some(row_no),
                Offer::NotYet => {}
                Offer::Stop => return Ok(()),
                Offer::GiveUp => {
                    search.give_up(r);
                    return Ok(());
                }
            }
            continue;
        };
        if !r.row(row_no - 1, |i| rec.get(i).map(str::to_owned)) {
            return Ok(());
        }
        let data_rows = row_no - header_row;
        if data_rows == EXPECT_AFTER_ROWS {
            // Bytes of the (decoded) text so far against the file's size; GBK
            // text grows when decoded, so for such files this guesses low.
            let read = rec.position().map_or(0, |p| p.byte()).max(1);
            r.expect_rows((file_len as u128 * data_rows as u128 / read as u128) as usize);
        }
    }
    if header_at.is_none() {
        return if search.give_up(r) {
            Ok(())
        } else {
            Err(empty_file("文件是空的"))
        };
    }
    r.flush();
    Ok(())
}

/// A spreadsheet cell's value as text: whole numbers (codes, counts, date
/// serials) without a trailing ".0", dates as their serial number (the
/// register's date parser reads serials).
fn cell_text<D: calamine::DataType>(d: &D) -> Option<String> {
    if let Some(s) = d.get_string() {
        return Some(s.to_owned());
    }
    if let Some(f) = d.get_float() {
        return Some(if f.fract() == 0.0 && f.abs() < 1e15 {
            format!("{}", f as i64)
        } else {
            f.to_string()
        });
    }
    if let Some(i) = d.get_int() {
        return Some(i.to_string());
    }
    if let Some(b) = d.get_bool() {
        return Some(b.to_string());
    }
    if let Some(t) = d.get_datetime() {
        return Some(format!("{}", t.as_f64()));
    }
    d.get_datetime_iso()
        .or_else(|| d.get_duration_iso())
        .map(str::to_owned)
}

/// One sheet's cells, taken in row order, into the sink: the header looked
/// for among the first rows (its first column is column 0), then each row
/// handed over when the next begins. Rows keep the numbers the spreadsheet
/// shows, in error reports and in a resumed import's checkpoint.
#[derive(Default)]
struct SheetRows {
    /// The header's first column, once found.
    first_col: Option<usize>,
    /// The sheet row (from 0) being gathered, and its cells.
    at: Option<u32>,
    row: Vec<Option<String>>,
    /// The sheet's rows below its first, as the file records them.
    expect: usize,
}

impl SheetRows {
    /// A cell with a value, at sheet row `at` and column `col` (from 0).
    fn cell<S: RowSink>(
        &mut self,
        search: &mut HeaderSearch,
        r: &mut S,
        at: u32,
        col: u32,
        text: String,
    ) -> Offer {
        if self.at != Some(at) {
            if let Some(prev) = self.at {
                match self.hand_over(search, r, prev) {
                    Offer::Header | Offer::NotYet => {}
                    stop => return stop,
                }
            }
            self.at = Some(at);
        }
        let col = col as usize;
        if self.row.len() <= col {
            self.row.resize(col + 1, None);
        }
        self.row[col] = Some(text);
        Offer::NotYet
    }

    /// The sheet's end: its last row handed over.
    fn end<S: RowSink>(&mut self, search: &mut HeaderSearch, r: &mut S) -> Offer {
        match self.at.take() {
            Some(at) => self.hand_over(search, r, at),
            None => Offer::NotYet,
        }
    }

    fn hand_over<S: RowSink>(&mut self, search: &mut HeaderSearch, r: &mut S, at: u32) -> Offer {
        let offer = match self.first_col {
            None => {
                let first = self.row.iter().position(Option::is_some).unwrap_or(0);
                let cells = self.row[first..]
                    .iter_mut()
                    .map(|c| c.take().unwrap_or_default())
                    .collect();
                let offer = search.offer(r, i64::from(at) + 1, cells);
                if let Offer::Header = offer {
                    self.first_col = Some(first);
                    if self.expect > 0 {
                        r.expect_rows(self.expect);
                    }
                }
                offer
            }
            Some(first) => {
                let cells = &self.row;
                if r.row(i64::from(at), |c| {
                    cells.get(first + c).and_then(|v| v.clone())
                }) {
                    Offer::NotYet
                } else {
                    Offer::Stop
                }
            }
        };
        self.row.clear();
        offer
    }
}

/// One sheet's cells with a value, (row, column, text) in row order, into
/// the sink. True when the import is done with the file (the sheet's header
/// was found and its rows handed over, or the sink said stop); false when
/// none of its first rows was the header, so the next sheet is tried.
fn sheet_into<S: RowSink>(
    cells: impl Iterator<Item = Result<(u32, u32, String), ImportError>>,
    expect: usize,
    search: &mut HeaderSearch,
    r: &mut S,
) -> Result<bool, ImportError> {
    search.next_sheet();
    let mut sheet = SheetRows {
        expect,
        ..Default::default()
    };
    for cell in cells {
        let (at, col, text) = cell?;
        match sheet.cell(search, r, at, col, text) {
            Offer::Header | Offer::NotYet => {}
            Offer::Stop => return Ok(true),
            Offer::GiveUp => return Ok(false),
        }
    }
    match sheet.end(search, r) {
        Offer::Stop => Ok(true),
        Offer::GiveUp => Ok(false),
        Offer::Header | Offer::NotYet if sheet.first_col.is_some() => {
            r.flush();
            Ok(true)
        }
        Offer::Header | Offer::NotYet => Ok(false),
    }
}

/// No sheet had its header: the closest row goes to the sink.
fn no_header<S: RowSink>(mut search: HeaderSearch, r: &mut S) -> Result<(), ImportError> {
    if search.give_up(r) {
        Ok(())
    } else {
        Err(empty_file("工作表是空的"))
    }
}

/// Reads an XLSX workbook a cell at a time, as the cells come in each
/// sheet's XML. Loading a sheet whole (`worksheet_range`) held every cell
/// at once: a full sheet of a million businesses took 1.3 GB. Only the
/// shared strings (the text cells Excel writes once and refers to) are
/// held, as the format requires.
fn read_xlsx<S: RowSink>(path: &Path, r: &mut S) -> Result<(), ImportError> {
    use calamine::{Reader as _, Xlsx};
    let file = std::fs::File::open(path).map_err(read_error)?;
    let counting = Counting {
        inner: BufReader::with_capacity(1 << 16, file),
        count: r.bytes(),
    };
    let mut book = Xlsx::new(counting).map_err(read_error)?;
    let mut search = HeaderSearch::default();
    for name in book.sheet_names().to_vec() {
        let mut cells = book.worksheet_cells_reader(&name).map_err(read_error)?;
        // The sheet's own record of its size, when it has one, sizes the
        // duplicate check as the CSV reader's guess does.
        let dims = cells.dimensions();
        let expect = dims.end.0.saturating_sub(dims.start.0) as usize;
        let cells = std::iter::from_fn(|| match cells.next_cell() {
            Ok(Some(c)) => {
                let (at, col) = c.get_position();
                Some(Ok(cell_text(c.get_value()).map(|t| (at, col, t))))
            }
            Ok(None) => None,
            Err(e) => Some(Err(read_error(e))),
        })
        .filter_map(Result::transpose);
        if sheet_into(cells, expect, &mut search, r)? {
            return Ok(());
        }
    }
    no_header(search, r)
}

/// Reads an XLS workbook (Excel 97–2003, which older government systems
/// still export). The format holds at most 65,536 rows a sheet, so a sheet
/// is read whole.
fn read_xls<S: RowSink>(path: &Path, r: &mut S) -> Result<(), ImportError> {
    use calamine::{Reader as _, Xls};
    let file = std::fs::File::open(path).map_err(read_error)?;
    let len = file.metadata().map_or(0, |m| m.len());
    let mut book = Xls::new(BufReader::new(file)).map_err(read_error)?;
    r.bytes().store(len, std::sync::atomic::Ordering::Relaxed);
    let mut search = HeaderSearch::default();
    for name in book.sheet_names().to_vec() {
        let range = book.worksheet_range(&name).map_err(read_error)?;
        let (top, left) = range.start().unwrap_or((0, 0));
        let expect = range.height().saturating_sub(1);
        let cells = range
            .used_cells()
            .filter_map(|(i, j, d)| cell_text(d).map(|t| Ok((top + i as u32, left + j as u32, t))));
        if sheet_into(cells, expect, &mut search, r)? {
            return Ok(());
        }
    }
    no_header(search, r)
}

/// What a file is, from its first bytes: a zip is XLSX, an OLE compound
/// file XLS, anything else CSV text.
enum Kind {
    Csv,
    Xlsx,
    Xls,
}

fn sniff(path: &Path) -> Kind {
    let mut magic = [0u8; 4];
    let read = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut magic));
    match (read, magic) {
        (Ok(()), [b'P', b'K', 3, 4]) => Kind::Xlsx,
        (Ok(()), [0xD0, 0xCF, 0x11, 0xE0]) => Kind::Xls,
        _ => Kind::Csv,
    }
}

impl App {
    /// Imports (or resumes importing) `path` into the register.
    pub async fn import_entities(
        &self,
        ctx: &AuditCtx,
        path: &Path,
        opts: &ImportOptions,
        progress: &(dyn Fn(&Progress) + Send + Sync),
    ) -> AppResult<ImportJob> {
        let job = self.prepare_import(ctx, path, opts).await?;
        self.run_import(ctx, job, path, opts, progress).await
    }

    /// Finds the interrupted job for this file, or starts a new one.
    pub async fn prepare_import(
        &self,
        ctx: &AuditCtx,
        path: &Path,
        opts: &ImportOptions,
    ) -> AppResult<ImportJob> {
        let p: PathBuf = path.to_path_buf();
        let sha = tokio::task::spawn_blocking(move || sha256_file(&p))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(|e| {
                AppError::field("file", "import_unreadable", format!("文件无法读取：{e}"))
            })?;
        let mode = match opts.mode {
            CheckMode::Strict => "strict",
            CheckMode::Lenient => "lenient",
        };
        let file_name = opts.file_name.clone().unwrap_or_else(|| {
            path.file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        match self.store.resumable_import_job(KIND_ENTITIES, &sha).await {
            Ok(j) if j.mode == mode => Ok(j),
            Ok(_) | Err(StoreError::NotFound) => Ok(self
                .store
                .create_import_job(ctx, KIND_ENTITIES, &file_name, &sha, mode)
                .await?),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads `path` from the job's checkpoint to the end, committing batch by batch.
    pub async fn run_import(
        &self,
        ctx: &AuditCtx,
        job: ImportJob,
        path: &Path,
        opts: &ImportOptions,
        progress: &(dyn Fn(&Progress) + Send + Sync),
    ) -> AppResult<ImportJob> {
        let started = std::time::Instant::now();
        let _live = LiveImport::start(&self.live_imports, job.id);
        let total_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        // A first load into an empty register builds its secondary indexes once,
        // at the end, instead of row by row.
        self.store.begin_bulk_load(job.id).await?;
        // A sign of life before the first batch, which may be minutes away
        // when a large file resumes (its committed rows are read again and
        // skipped): a resumed job's last change is that of its cut-off run.
        self.store
            .commit_import_batch(
                ctx,
                job.id,
                ImportBatch {
                    checkpoint_row: job.checkpoint_row,
                    ..Default::default()
                },
            )
            .await?;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Msg>(2);
        let bytes = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut reader = Reader {
            map: None,
            mode: opts.mode,
            juris: Jurisdictions::load(self.store.as_ref()).await?,
            seen: crate::dedup::SeenKeys::with_memory(opts.dedup_memory)
                .in_dir(opts.temp_dir.clone()),
            resume_after: job.checkpoint_row,
            batch_rows: opts.batch_rows.max(1),
            batch: ImportBatch {
                checkpoint_row: job.checkpoint_row,
                ..Default::default()
            },
            today: Utc::now().date_naive(),
            tx,
            bytes: bytes.clone(),
            checked: Vec::with_capacity(WARM_ROWS),
        };
        let p = path.to_path_buf();
        let worker = tokio::task::spawn_blocking(move || {
            let result = read_table(&p, &mut reader);
            if let Err(e) = result {
                let _ = reader.tx.blocking_send(Msg::Failed(e));
            }
            tracing::info!(
                runs = reader.seen.runs(),
                disk_lookups = reader.seen.probes(),
                "import duplicate check"
            );
        });
        let mut rows = job.rows_total;
        let mut failure: Vec<ImportError> = Vec::new();
        while let Some(msg) = rx.recv().await {
            match msg {
                Msg::Batch(batch, read) => {
                    if batch.rows_seen == 0
                        && batch.errors.is_empty()
                        && batch.checkpoint_row == job.checkpoint_row
                    {
                        continue;
                    }
                    rows += batch.rows_seen;
                    self.store.commit_import_batch(ctx, job.id, batch).await?;
                    progress(&Progress {
                        rows,
                        bytes: read,
                        total_bytes,
                    });
                }
                Msg::Failed(e) => failure.push(e),
            }
        }
        worker
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        tracing::info!(
            ms = started.elapsed().as_millis() as u64,
            rows,
            "import batches committed"
        );
        self.store.ensure_entity_indexes().await?;
        tracing::info!(
            ms = started.elapsed().as_millis() as u64,
            "import indexes built"
        );
        if failure.is_empty() {
            Ok(self.store.finish_import_job(job.id, "done", None).await?)
        } else {
            let message = failure
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join("；");
            let batch = ImportBatch {
                errors: failure,
                checkpoint_row: job.checkpoint_row,
                ..Default::default()
            };
            self.store.commit_import_batch(ctx, job.id, batch).await?;
            Ok(self
                .store
                .finish_import_job(job.id, "failed", Some(&message))
                .await?)
        }
    }

    /// The error report of a job as CSV (UTF-8 with BOM, so Excel opens it).
    pub async fn import_report_csv(&self, job_id: i64) -> AppResult<String> {
        let errors = self.store.import_errors(job_id).await?;
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(["行号", "列", "错误代码", "说明", "级别"]);
        for e in &errors {
            let severity = if e.severity == "warning" {
                "警告（已导入）"
            } else {
                "错误（未导入）"
            };
            let _ = w.write_record([
                e.row_no.to_string().as_str(),
                &e.column,
                &e.code,
                &e.message,
                severity,
            ]);
        }
        let body = String::from_utf8(
            w.into_inner()
                .map_err(|e| AppError::Internal(e.to_string()))?,
        )
        .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(format!("\u{feff}{body}"))
    }
}

impl App {
    /// A job as its starter (or anyone whose scope covers the starter's unit) sees it.
    pub async fn import_job(&self, p: &crate::Principal, id: i64) -> AppResult<ImportJob> {
        let scope = self.authorize(p, "registry:entity:import").await?;
        Ok(self.store.get_import_job(&scope, id).await?)
    }

    pub async fn import_report_for(&self, p: &crate::Principal, id: i64) -> AppResult<String> {
        let job = self.import_job(p, id).await?;
        self.import_report_csv(job.id).await
    }

    /// A job with whether it looks cut off (see `ImportJobView::stalled`).
    pub fn import_job_view(&self, job: ImportJob) -> ImportJobView {
        let stalled = job.status == "running"
            && Utc::now() - job.updated_at > IMPORT_STALL_AFTER
            && !self
                .live_imports
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(&job.id);
        ImportJobView { job, stalled }
    }

    /// Gives up a stalled job (see `ImportJobView::stalled`): it ends as
    /// failed, saying who gave it up; its committed rows stay in the
    /// register and its error report stays readable. A job that still runs,
    /// or is over, is refused (`import_not_stalled`). A first load given up
    /// gets its deferred indexes built now, so the register is whole again.
    pub async fn abandon_import(&self, p: &crate::Principal, id: i64) -> AppResult<ImportJobView> {
        let job = self.import_job(p, id).await?;
        let view = self.import_job_view(job);
        if !view.stalled {
            return Err(AppError::Rule {
                code: "import_not_stalled",
                message: "只有已中断的导入才能放弃（这次导入仍在进行或已经结束）".into(),
                field: None,
            });
        }
        let ctx = p.audit_ctx();
        let message = format!(
            "已于中断后由 {} 放弃：已提交的 {} 行保留在名录中，其余未导入",
            ctx.actor_name, view.job.checkpoint_row
        );
        let before = view.job;
        let after = self
            .store
            .finish_import_job(id, "failed", Some(&message))
            .await?;
        self.store
            .record_audit(
                &ctx,
                hongdun_store::AuditChange::new(
                    "registry.import.abandon",
                    "import_job",
                    id,
                    Some(&before),
                    Some(&after),
                ),
            )
            .await?;
        self.store.ensure_entity_indexes().await?;
        Ok(self.import_job_view(after))
    }

    /// The import history in `p`'s scope, newest first.
    pub async fn import_jobs(
        &self,
        p: &crate::Principal,
        q: &ImportJobQuery,
    ) -> AppResult<Page<ImportJobView>> {
        let scope = self.authorize(p, "registry:entity:import").await?;
        let page = self.store.list_import_jobs(&scope, q).await?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(|j| self.import_job_view(j))
                .collect(),
            total: page.total,
            page: page.page,
            per_page: page.per_page,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_as_exports_write_them() {
        let h: Vec<String> = [
            "* 统一社会信用代码",
            "企业名称",
            "法定代表人（经营者）",
            "注册资本（万元）",
            "成立日期",
            "备注",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let m = ColumnMap::from_headers(&h).unwrap();
        assert_eq!(m.ignored, vec!["备注"]);
        let raw = m.raw(|i| Some(format!("v{i}")));
        assert_eq!(
            (raw.uscc.as_deref(), raw.capital_wan.as_deref()),
            (Some("v0"), Some("v3"))
        );
        assert_eq!(raw.legal_rep.as_deref(), Some("v2"));
        assert_eq!(m.header_of("uscc"), "* 统一社会信用代码");
        let english: Vec<String> = ["uscc", "name"].iter().map(|s| s.to_string()).collect();
        assert!(ColumnMap::from_headers(&english).is_ok());
        // The publicity system's one column for either code.
        let either: Vec<String> = ["统一社会信用代码/注册号", "企业名称"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let m = ColumnMap::from_headers(&either).unwrap();
        let row = |code: &str| {
            let code = code.to_owned();
            m.raw(move |i| (i == 0).then(|| code.clone()))
        };
        let new = row("92331023MAXL00014F");
        assert_eq!(
            (new.uscc.as_deref(), new.reg_no),
            (Some("92331023MAXL00014F"), None)
        );
        let old = row("３３１０２３０００１２３４５６");
        assert_eq!(
            (old.uscc, old.reg_no.as_deref()),
            (None, Some("３３１０２３０００１２３４５６"))
        );
        let short = row("33102300012345");
        assert_eq!(
            short.uscc.as_deref(),
            Some("33102300012345"),
            "checked as a credit code"
        );
        assert_eq!(m.header_of("reg_no"), "统一社会信用代码/注册号");
        assert_eq!(m.header_of("uscc"), "统一社会信用代码/注册号");
        let bad: Vec<String> = ["地址"].iter().map(|s| s.to_string()).collect();
        let errs = ColumnMap::from_headers(&bad).unwrap_err();
        assert_eq!(errs.len(), 2);
        assert!(errs.iter().all(|e| e.code == "import_missing_column"));
    }

    #[test]
    fn encodings() {
        assert_eq!(detect_encoding(b"\xEF\xBB\xBFname"), TextEncoding::Utf8Bom);
        assert_eq!(detect_encoding("名称".as_bytes()), TextEncoding::Utf8);
        assert_eq!(detect_encoding(&"名称".as_bytes()[..4]), TextEncoding::Utf8);
        let (gbk, _, _) = encoding_rs::GBK.encode("企业名称,统一社会信用代码");
        assert_eq!(detect_encoding(&gbk), TextEncoding::Gb18030);
    }

    /// What a reader handed over: the header, each row's number and its
    /// first cells, the size guesses.
    #[derive(Default)]
    struct Collect {
        header_row: i64,
        headers: Vec<String>,
        rows: Vec<(i64, Vec<Option<String>>)>,
        guesses: Vec<usize>,
        bytes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    }

    impl RowSink for Collect {
        fn bytes(&self) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
            self.bytes.clone()
        }
        fn header_problems(&self, headers: &[String]) -> usize {
            ColumnMap::from_headers(headers)
                .err()
                .map_or(0, |e| e.len())
        }
        fn headers(&mut self, headers: Vec<String>, row_no: i64) -> bool {
            self.header_row = row_no;
            self.headers = headers;
            true
        }
        fn row(&mut self, data_row: i64, cell: impl Fn(usize) -> Option<String>) -> bool {
            self.rows.push((data_row, (0..4).map(&cell).collect()));
            true
        }
        fn flush(&mut self) -> bool {
            true
        }
        fn expect_rows(&mut self, rows: usize) {
            self.guesses.push(rows);
        }
    }

    /// The CSV reader guesses the file's row count once, from the bytes its
    /// first rows took, so the duplicate set can be sized at once.
    #[test]
    fn the_csv_reader_guesses_the_row_count() {
        let path = std::env::temp_dir().join(format!("hongdun-guess-{}.csv", std::process::id()));
        let mut text = String::from("统一社会信用代码,企业名称\n");
        for i in 0..20_000 {
            text.push_str(&format!("code{i:06},某某面馆{}\n", "号".repeat(i % 7)));
        }
        std::fs::write(&path, text).unwrap();
        let mut sink = Collect::default();
        read_csv(&path, &mut sink).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(sink.rows.len(), 20_000);
        assert_eq!(sink.guesses.len(), 1, "{:?}", sink.guesses);
        let guess = sink.guesses[0] as f64;
        assert!((19_000.0..21_000.0).contains(&guess), "{guess}");
        // A file shorter than the sample is never guessed at.
        let short =
            std::env::temp_dir().join(format!("hongdun-guess-s-{}.csv", std::process::id()));
        std::fs::write(&short, "统一社会信用代码\n1\n2\n").unwrap();
        sink.guesses.clear();
        read_csv(&short, &mut sink).unwrap();
        std::fs::remove_file(&short).unwrap();
        assert!(sink.guesses.is_empty());
    }

    #[test]
    fn packed_keys_are_distinct() {
        let a = packed_key(Some("91350100M000100Y43"), None).unwrap();
        let b = packed_key(Some("91350200776049653A"), None).unwrap();
        let r = packed_key(None, Some("330000000012345")).unwrap();
        assert!(a != b && a != r && b != r);
        assert_eq!(packed_key(Some("9135010IM000100Y43"), None), None);
    }

    /// A sheet as Excel writes one (text cells in the shared-strings table,
    /// dates as serial numbers with a date format), read a cell at a time:
    /// a title and a date above the header are not data; the header's first
    /// column is column 0; rows keep the numbers Excel shows, a blank one
    /// skipped; a cell left of the header is not read; the bytes read are
    /// counted for the progress bar.
    #[test]
    fn an_xlsx_sheet_is_read_a_cell_at_a_time() {
        let path = std::env::temp_dir().join(format!("hongdun-cells-{}.xlsx", std::process::id()));
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        sheet
            .merge_range(
                0,
                0,
                0,
                4,
                "天台县市场主体名录",
                &rust_xlsxwriter::Format::new(),
            )
            .unwrap();
        sheet.write_string(1, 3, "导出时间：2026-11-30").unwrap();
        for (c, h) in ["统一社会信用代码", "企业名称", "成立日期", "从业人数"]
            .iter()
            .enumerate()
        {
            sheet.write_string(2, c as u16 + 1, *h).unwrap();
        }
        sheet.write_string(3, 1, "92331023MAXL00014F").unwrap();
        sheet.write_string(3, 2, "天台县赤城街道表格面馆").unwrap();
        sheet
            .write_number_with_format(3, 3, 43290.0, &date)
            .unwrap();
        sheet.write_number(3, 4, 3.0).unwrap();
        // Row 5 left blank.
        sheet.write_string(5, 0, "左边的备注").unwrap();
        sheet.write_string(5, 1, "91331023MAXL00022D").unwrap();
        sheet.write_string(5, 2, "天台县赤城街道表格面馆").unwrap();
        sheet.write_number(5, 4, 40.5).unwrap();
        book.save(&path).unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        let shared = {
            let mut zip = std::fs::File::open(&path).unwrap();
            let mut all = Vec::new();
            zip.read_to_end(&mut all).unwrap();
            all.windows(17).any(|w| w == b"sharedStrings.xml")
        };
        assert!(shared, "the sheet's text is in the shared-strings table");

        let mut sink = Collect::default();
        read_xlsx(&path, &mut sink).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            sink.headers,
            ["统一社会信用代码", "企业名称", "成立日期", "从业人数"]
        );
        assert_eq!(sink.header_row, 3);
        let s = |v: &str| Some(v.to_owned());
        let first = vec![
            s("92331023MAXL00014F"),
            s("天台县赤城街道表格面馆"),
            s("43290"),
            s("3"),
        ];
        let second = vec![
            s("91331023MAXL00022D"),
            s("天台县赤城街道表格面馆"),
            None,
            s("40.5"),
        ];
        // Excel rows 4 and 6: `data_row` is the row's number less one.
        assert_eq!(sink.rows, vec![(3, first), (5, second)]);
        assert_eq!(sink.guesses, vec![5], "from the sheet's recorded size");
        let read = sink.bytes.load(std::sync::atomic::Ordering::Relaxed);
        assert!(read >= len / 2, "{read} of {len} bytes counted");
    }

    /// A CSV export with a title line and a blank line above its header: the
    /// header is found, data rows keep their line numbers. With no header
    /// among the first ten lines the closest one is reported, with its line.
    #[test]
    fn a_title_above_the_header_is_not_data() {
        let path = std::env::temp_dir().join(format!("hongdun-title-{}.csv", std::process::id()));
        std::fs::write(
            &path,
            "天台县市场主体名录（截至2026年11月）,,\n,,\n序号,统一社会信用代码,企业名称\n\
             1,92331023MAXL00014F,老王面馆\n2,91331023MAXL00022D,天台机械\n",
        )
        .unwrap();
        let mut sink = Collect::default();
        read_csv(&path, &mut sink).unwrap();
        assert_eq!((sink.header_row, sink.headers.len()), (3, 3));
        let codes: Vec<(i64, Option<String>)> = sink
            .rows
            .iter()
            .map(|(n, c)| (*n + 1, c[1].clone()))
            .collect();
        assert_eq!(
            codes,
            vec![
                (4, Some("92331023MAXL00014F".into())),
                (5, Some("91331023MAXL00022D".into()))
            ]
        );

        let mut text = String::from("名录\n企业名称,住所\n");
        for i in 0..20 {
            text.push_str(&format!("某某面馆{i},赤城街道{i}号\n"));
        }
        std::fs::write(&path, text).unwrap();
        let mut sink = Collect::default();
        read_csv(&path, &mut sink).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(sink.header_row, 2, "the line missing only the code column");
        assert_eq!(sink.headers, ["企业名称", "住所"]);
        assert!(sink.rows.is_empty());
    }

    /// A workbook whose first sheet is instructions (填表说明, longer than
    /// the rows tried for a header): the rows come from the next sheet.
    #[test]
    fn a_sheet_of_instructions_is_passed_over() {
        let path = std::env::temp_dir().join(format!("hongdun-sheets-{}.xlsx", std::process::id()));
        let mut book = rust_xlsxwriter::Workbook::new();
        let notes = book.add_worksheet().set_name("填表说明").unwrap();
        for i in 0..12 {
            notes
                .write_string(i, 0, format!("{}. 请按模板填写。", i + 1))
                .unwrap();
        }
        let sheet = book.add_worksheet().set_name("名录").unwrap();
        sheet.write_string(0, 0, "企业名称").unwrap();
        sheet.write_string(0, 1, "统一社会信用代码").unwrap();
        sheet.write_string(1, 0, "老王面馆").unwrap();
        sheet.write_string(1, 1, "92331023MAXL00014F").unwrap();
        book.save(&path).unwrap();
        let mut sink = Collect::default();
        read_table(&path, &mut sink).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!((sink.header_row, sink.headers.len()), (1, 2));
        assert_eq!(sink.rows.len(), 1);
        assert_eq!(sink.rows[0].0, 1);
        assert_eq!(sink.rows[0].1[1].as_deref(), Some("92331023MAXL00014F"));
    }
}
