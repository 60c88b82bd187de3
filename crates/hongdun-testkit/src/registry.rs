//! Registry cases on both backends: upsert and history, Chinese search,
//! scope, import (encodings, bad rows, idempotence), public answers.
use crate::http::TestApp;
use crate::World;
use hongdun_app::import::ImportOptions;
use hongdun_app::registry::{CheckMode, EntitySearch, RawEntity};
use hongdun_core::registry::{org_check_char, Uscc};
use hongdun_store::*;
use serde_json::json;

/// A valid credit code: market regulation (9), `kind` (1 enterprise, 2
/// individual), registered in `county`, with serial `n`.
pub fn uscc(kind: char, county: &str, n: u32) -> String {
    let org8 = format!("MA{n:06}");
    let org = format!("{org8}{}", org_check_char(org8.as_bytes()).unwrap());
    Uscc::with_check(&format!("9{kind}{county}{org}"))
        .unwrap()
        .to_string()
}

/// Test merchants: (kind, county, n, name, township).
pub const MERCHANTS: &[(char, &str, u32, &str, &str)] = &[
    ('2', "331023", 1, "天台县赤城街道阿强面馆", "331023001"),
    ('2', "331023", 2, "天台县赤城街道老王面馆", "331023001"),
    ('2', "331023", 3, "天台县始丰街道面包新语店", "331023002"),
    ('1', "331023", 4, "天台华为手机专卖有限公司", "331023002"),
    ('2', "330482", 5, "平湖市当湖街道阿强面馆", "330482001"),
];

pub fn raw(i: usize) -> RawEntity {
    let (kind, county, n, name, town) = MERCHANTS[i];
    RawEntity {
        uscc: Some(uscc(kind, county, n)),
        name: Some(name.into()),
        legal_rep: Some("张三丰".into()),
        id_number: Some("11010519491231002X".into()),
        phone: Some("13812345678".into()),
        address: Some(format!("{name}经营场所")),
        township_code: Some(town.into()),
        industry: Some(if name.contains("面馆") {
            "H6210".into()
        } else {
            "F5273".into()
        }),
        established: Some("2019-05-06".into()),
        tags: Some("网络餐饮".into()),
        ..Default::default()
    }
}

async fn seed(w: &World) {
    let j = hongdun_app::registry::Jurisdictions::load(w.store.as_ref())
        .await
        .unwrap();
    let today = chrono::Utc::now().date_naive();
    let rows: Vec<NewEntity> = (0..MERCHANTS.len())
        .map(|i| {
            hongdun_app::registry::check_entity(&raw(i), CheckMode::Strict, &j, today)
                .unwrap()
                .0
        })
        .collect();
    let ctx = AuditCtx::system("test");
    let c = w.store.upsert_entities(&ctx, &rows).await.unwrap();
    assert_eq!(c.inserted, 5);
}

fn names(p: &Page<Entity>) -> Vec<&str> {
    p.items.iter().map(|e| e.name.as_str()).collect()
}

pub async fn upsert_history_and_idempotence(w: &World) {
    seed(w).await;
    let j = hongdun_app::registry::Jurisdictions::load(w.store.as_ref())
        .await
        .unwrap();
    let today = chrono::Utc::now().date_naive();
    let ctx = AuditCtx::system("test");
    let rows: Vec<NewEntity> = (0..MERCHANTS.len())
        .map(|i| {
            hongdun_app::registry::check_entity(&raw(i), CheckMode::Strict, &j, today)
                .unwrap()
                .0
        })
        .collect();
    let (head, _) = w.store.audit_head().await.unwrap();
    let again = w.store.upsert_entities(&ctx, &rows).await.unwrap();
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 5));
    assert_eq!(
        w.store.audit_head().await.unwrap().0,
        head,
        "an unchanged batch writes nothing"
    );
    let mut changed = rows[0].clone();
    changed.address = Some("天台县赤城街道新地址".into());
    changed.phone = Some("13900000000".into());
    let c = w
        .store
        .upsert_entities(&ctx, &[changed.clone()])
        .await
        .unwrap();
    assert_eq!(c.updated, 1);
    let e = w
        .store
        .entity_by_uscc(&ScopeFilter::All, changed.uscc.as_deref().unwrap())
        .await
        .unwrap();
    let history = w
        .store
        .entity_history(&ScopeFilter::All, e.id)
        .await
        .unwrap();
    assert_eq!(
        history.iter().map(|h| h.kind.as_str()).collect::<Vec<_>>(),
        vec!["create", "update"]
    );
    let diff: serde_json::Value = serde_json::from_str(&history[1].changes).unwrap();
    assert_eq!(diff["address"][1], "天台县赤城街道新地址");
    assert_eq!(
        diff["phone"],
        json!(["[已脱敏]", "[已脱敏]"]),
        "personal fields never enter the history in clear"
    );
    assert!(w.app.verify_audit().await.unwrap().ok);
}

pub async fn chinese_search(w: &World) {
    seed(w).await;
    let search = |q: &str| EntitySearch {
        q: Some(q.into()),
        ..Default::default()
    };
    let run = |s: EntitySearch| async move {
        let q = hongdun_app::registry::query_of(&s).unwrap();
        w.store
            .search_entities(&ScopeFilter::All, &q)
            .await
            .unwrap()
    };
    let p = run(search("面馆")).await;
    assert_eq!(p.total, 3, "{:?}", names(&p));
    assert_eq!(
        names(&p),
        vec![
            "天台县赤城街道老王面馆",
            "天台县赤城街道阿强面馆",
            "平湖市当湖街道阿强面馆"
        ]
    );
    assert_eq!(run(search("阿强面馆")).await.total, 2);
    assert_eq!(
        run(search("赤城阿强")).await.total,
        0,
        "the pieces must be contiguous"
    );
    assert_eq!(
        names(&run(search("华为")).await),
        vec!["天台华为手机专卖有限公司"]
    );
    assert_eq!(run(search("aqmg")).await.total, 2, "pinyin initials");
    assert_eq!(run(search("面包")).await.total, 1);
    let code = uscc('1', "331023", 4);
    assert_eq!(
        names(&run(search(&code[..10])).await),
        vec!["天台华为手机专卖有限公司"]
    );
    let filtered = EntitySearch {
        q: Some("面馆".into()),
        division: Some("330482".into()),
        ..Default::default()
    };
    assert_eq!(run(filtered).await.total, 1);
    let by_kind = EntitySearch {
        kind: Some("企业".into()),
        ..Default::default()
    };
    assert_eq!(run(by_kind).await.total, 1);
    let by_tag = EntitySearch {
        tag: Some("网络餐饮".into()),
        ..Default::default()
    };
    assert_eq!(run(by_tag).await.total, 5);
    let by_industry = EntitySearch {
        industry: Some("H62".into()),
        ..Default::default()
    };
    assert_eq!(run(by_industry).await.total, 3);
    let by_address = EntitySearch {
        address: Some("始丰".into()),
        ..Default::default()
    };
    assert_eq!(
        names(&run(by_address).await),
        vec!["天台县始丰街道面包新语店"]
    );
    assert_eq!(run(search("%")).await.total, 0);
    assert_eq!(
        run(search("\"面馆\" OR 1=1")).await.total,
        0,
        "search text is never query syntax"
    );
}

pub async fn entities_are_routed_and_scoped(w: &World) {
    seed(w).await;
    let chicheng = w.store.find_unit_by_code("331023-amr-o001").await.unwrap();
    let e = w
        .store
        .entity_by_uscc(&ScopeFilter::All, &uscc('2', "331023", 1))
        .await
        .unwrap();
    assert_eq!(
        e.unit_id,
        Some(chicheng.id),
        "routed to the office of its township"
    );
    let office = ScopeFilter::Limited {
        units: vec![chicheng.id],
        user: None,
    };
    let q = EntityQuery::default();
    let mine = w.store.search_entities(&office, &q).await.unwrap();
    assert_eq!(mine.total, 2);
    let other = uscc('2', "330482", 5);
    assert!(matches!(
        w.store.entity_by_uscc(&office, &other).await,
        Err(StoreError::NotFound)
    ));
}

fn write(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The CSV of the "bad file": bad checksums, missing values, duplicate
/// codes and junk dates among good rows.
pub fn bad_file() -> String {
    let good1 = uscc('2', "331023", 11);
    let good2 = uscc('1', "331023", 12);
    let serial = uscc('2', "331023", 13);
    [
        "统一社会信用代码,企业名称,法定代表人,住所,乡镇街道代码,成立日期,登记状态".to_owned(),
        format!("{good1},天台县赤城街道小李快餐店,李四,赤城街道1号,331023001,2018-03-01,存续"),
        "91350100M000100Y44,坏校验码有限公司,王五,,,2020-01-01,存续".to_owned(),
        format!("{good2},天台县某某机械股份有限公司,赵六,始丰街道,331023002,2001/12/31,在业"),
        format!("{good1},重复的行,李四,,,,"),
        ",没有代码的行,,,,,".to_owned(),
        format!(
            "{},日期坏了的店,,,331023001,2020-13-45,",
            uscc('2', "331023", 14)
        ),
        format!("{serial},Excel序列日期店,,,331023001,43832,存续"),
        format!(
            "{},１２３全角店,,,３３１０２３００１,２０１５－０６－０１,存续",
            uscc('2', "331023", 15).replace('9', "９")
        ),
        format!("{},状态不对的店,,,,,营业中", uscc('2', "331023", 16)),
    ]
    .join("\n")
}

pub async fn import_bad_rows_and_encodings(w: &World) {
    let dir = crate::TempDir::new();
    let ctx = AuditCtx::system("test");
    let opts = ImportOptions::default();
    let text = bad_file();
    let utf8 = write(&dir.0, "bad.csv", text.as_bytes());
    let job = w
        .app
        .import_entities(&ctx, &utf8, &opts, &|_| {})
        .await
        .unwrap();
    assert_eq!(
        (
            job.status.as_str(),
            job.rows_total,
            job.rows_ok,
            job.rows_failed
        ),
        ("done", 9, 4, 5)
    );
    let errors = w.store.import_errors(job.id).await.unwrap();
    let got: Vec<(i64, &str, &str)> = errors
        .iter()
        .map(|e| (e.row_no, e.column.as_str(), e.code.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (3, "统一社会信用代码", "uscc_checksum"),
            (5, "统一社会信用代码", "duplicate_in_file"),
            (6, "统一社会信用代码", "required"),
            (7, "成立日期", "date_invalid"),
            (10, "登记状态", "status_invalid"),
        ]
    );
    let serial = w
        .store
        .entity_by_uscc(&ScopeFilter::All, &uscc('2', "331023", 13))
        .await
        .unwrap();
    assert_eq!(serial.established.unwrap().to_string(), "2020-01-02");
    let full = w
        .store
        .entity_by_uscc(&ScopeFilter::All, &uscc('2', "331023", 15))
        .await
        .unwrap();
    assert_eq!(
        (full.name.as_str(), full.township_code.as_deref()),
        ("123全角店", Some("331023001"))
    );
    let report = w.app.import_report_csv(job.id).await.unwrap();
    assert!(
        report.starts_with("\u{feff}行号,列,错误代码,说明,级别\n3,统一社会信用代码,uscc_checksum,"),
        "{report}"
    );

    // The same content in GBK and with a BOM: nothing changes, the same errors.
    let (gbk, _, _) = encoding_rs::GBK.encode(&text);
    let gbk = write(&dir.0, "bad-gbk.csv", &gbk);
    let job2 = w
        .app
        .import_entities(&ctx, &gbk, &opts, &|_| {})
        .await
        .unwrap();
    assert_eq!(
        (job2.rows_ok, job2.inserted, job2.updated, job2.rows_failed),
        (4, 0, 0, 5)
    );
    let bom = write(&dir.0, "bad-bom.csv", format!("\u{feff}{text}").as_bytes());
    let job3 = w
        .app
        .import_entities(&ctx, &bom, &opts, &|_| {})
        .await
        .unwrap();
    assert_eq!((job3.rows_ok, job3.inserted, job3.updated), (4, 0, 0));
    assert_eq!(w.store.import_errors(job3.id).await.unwrap().len(), 5);

    // Lenient keeps the historic code, flagged.
    let lenient = ImportOptions {
        mode: CheckMode::Lenient,
        ..Default::default()
    };
    let job4 = w
        .app
        .import_entities(&ctx, &utf8, &lenient, &|_| {})
        .await
        .unwrap();
    assert_eq!((job4.rows_ok, job4.rows_warned, job4.inserted), (5, 1, 1));
    let kept = w
        .store
        .entity_by_uscc(&ScopeFilter::All, "91350100M000100Y44")
        .await
        .unwrap();
    assert_eq!(kept.warning.as_deref(), Some("uscc_checksum"));

    // The same rows under a title and a blank line, as many exports have
    // them: the header is found below, each error two lines lower, nothing new.
    let titled = write(
        &dir.0,
        "bad-titled.csv",
        format!("天台县市场主体名录（截至2026年11月）,,\n,,\n{text}").as_bytes(),
    );
    let job6 = w
        .app
        .import_entities(&ctx, &titled, &opts, &|_| {})
        .await
        .unwrap();
    assert_eq!(
        (job6.rows_total, job6.rows_ok, job6.inserted, job6.updated),
        (9, 4, 0, 0)
    );
    let lower: Vec<(i64, String, String)> = w
        .store
        .import_errors(job6.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.row_no - 2, e.column, e.code))
        .collect();
    let expected: Vec<(i64, String, String)> = got
        .iter()
        .map(|(r, c, k)| (*r, c.to_string(), k.to_string()))
        .collect();
    assert_eq!(lower, expected);

    // Missing columns fail the whole job with a clear reason.
    let nocols = write(&dir.0, "nocols.csv", "地址,电话\n天台,123\n".as_bytes());
    let job5 = w
        .app
        .import_entities(&ctx, &nocols, &opts, &|_| {})
        .await
        .unwrap();
    assert_eq!(job5.status, "failed");
    assert!(job5.message.unwrap().contains("缺少"));
}

/// A CSV of snack bars in Tiantai, one row for each serial of a credit code.
fn snack_bars(serials: &[u32]) -> String {
    let mut text = String::from("统一社会信用代码,企业名称\n");
    for &n in serials {
        text.push_str(&format!("{},天台县第{n}号小吃店\n", uscc('2', "331023", n)));
    }
    text
}

/// Duplicates far apart in a long file are caught when the duplicate check
/// has spilled most of the codes to disk: the report matches the one an
/// all-in-memory check gives, row for row.
pub async fn duplicates_found_after_the_check_spills(w: &World) {
    let dir = crate::TempDir::new();
    let ctx = AuditCtx::system("test");
    // Every tenth row repeats a code from much earlier in the file.
    let serials: Vec<u32> = (0..3_000u32)
        .map(|i| if i % 10 == 9 { i / 4 + 1 } else { i + 1 })
        .collect();
    let mut first_seen = std::collections::HashSet::new();
    let mut expected = Vec::new();
    for (i, &serial) in serials.iter().enumerate() {
        if !first_seen.insert(serial) {
            expected.push((i as i64 + 2, "统一社会信用代码", "duplicate_in_file"));
        }
    }
    assert!(expected.len() > 200, "{}", expected.len());
    let path = write(&dir.0, "long.csv", snack_bars(&serials).as_bytes());
    let mut reports = Vec::new();
    // 4 KiB: about 29 runs of 96 codes on disk. Then the default, in memory.
    for dedup_memory in [4 * 1024, ImportOptions::default().dedup_memory] {
        let opts = ImportOptions {
            dedup_memory,
            ..Default::default()
        };
        let job = w
            .app
            .import_entities(&ctx, &path, &opts, &|_| {})
            .await
            .unwrap();
        assert_eq!(job.status, "done");
        assert_eq!(
            (job.rows_total, job.rows_failed, job.rows_ok),
            (3_000, expected.len() as i64, 3_000 - expected.len() as i64)
        );
        let errors = w.store.import_errors(job.id).await.unwrap();
        let got: Vec<(i64, String, String)> = errors
            .into_iter()
            .map(|e| (e.row_no, e.column, e.code))
            .collect();
        reports.push((job.inserted, job.updated, got));
    }
    let want: Vec<(i64, String, String)> = expected
        .iter()
        .map(|&(r, c, k)| (r, c.to_owned(), k.to_owned()))
        .collect();
    assert_eq!(reports[0].2, want);
    assert_eq!(reports[1].2, want);
    // The first import inserts every distinct code; the second changes nothing.
    assert_eq!((reports[0].0, reports[0].1), (first_seen.len() as i64, 0));
    assert_eq!((reports[1].0, reports[1].1), (0, 0));
}

/// When the duplicate check cannot write its run (a full or missing temp
/// directory) the import fails with a clear code after its last whole batch,
/// and importing the file again ends in the same state as one clean run.
pub async fn an_unwritable_spill_stops_the_import_cleanly(w: &World) {
    let dir = crate::TempDir::new();
    let ctx = AuditCtx::system("test");
    let serials: Vec<u32> = (1..=500).collect();
    let path = write(&dir.0, "spill.csv", snack_bars(&serials).as_bytes());
    let broken = ImportOptions {
        dedup_memory: 4 * 1024,
        batch_rows: 40,
        temp_dir: Some(dir.0.join("no-such-dir")),
        ..Default::default()
    };
    let job = w
        .app
        .import_entities(&ctx, &path, &broken, &|_| {})
        .await
        .unwrap();
    assert_eq!(job.status, "failed");
    // The table holds 96 codes: two whole batches of 40 went in, nothing of the third.
    assert_eq!((job.rows_total, job.inserted), (80, 80));
    let errors = w.store.import_errors(job.id).await.unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code, "import_temp_unwritable");
    assert!(
        errors[0].message.contains("临时文件"),
        "{}",
        errors[0].message
    );
    let fixed = ImportOptions {
        temp_dir: Some(dir.0.clone()),
        ..broken
    };
    let again = w
        .app
        .import_entities(&ctx, &path, &fixed, &|_| {})
        .await
        .unwrap();
    assert_eq!(again.status, "done");
    assert_eq!(
        (
            again.rows_total,
            again.inserted,
            again.updated,
            again.rows_failed
        ),
        (500, 420, 0, 0)
    );
}

pub async fn public_answers_hold_nothing_personal(w: &World) {
    seed(w).await;
    let app = TestApp::spawn(w).await;
    let code = uscc('2', "331023", 1);
    let staff = app.login("a_food").await;
    staff
        .put(
            &format!("/api/v1/entities/{code}/licences"),
            &json!({"kind": "food_business", "number": "JY23310230012345", "issuer": "天台县市场监督管理局",
                    "issued_on": "2021-06-01", "expires_on": "2026-05-31"}),
        )
        .await
        .ok();
    let anon = app.anonymous();
    let m = anon
        .get(&format!("/api/public/v1/merchants/{code}"))
        .await
        .ok();
    let mut keys: Vec<&String> = m.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "address",
            "kind",
            "kind_label",
            "kitchen",
            "legal_rep",
            "licences",
            "name",
            "pledges",
            "status",
            "status_label",
            "uscc"
        ]
    );
    assert_eq!(m["legal_rep"], "张**");
    assert_eq!(m["licences"][0]["validity"], "expired");
    let list = anon.get("/api/public/v1/merchants?q=面馆").await;
    let page = anon.get(&format!("/m/{code}")).await;
    assert!(
        page.text.contains("阿强面馆")
            && page.text.contains("JY23310230012345")
            && page.text.contains("已过期")
    );
    for body in [m.to_string(), list.text.clone(), page.text.clone()] {
        for secret in [
            "13812345678",
            "11010519491231002X",
            "张三丰",
            "id_number",
            "phone",
        ] {
            assert!(!body.contains(secret), "{secret} leaked: {body}");
        }
    }
    let qr = anon.get(&format!("/m/{code}/qr.svg")).await;
    assert_eq!(qr.status, 200);
    assert!(qr.text.starts_with("<?xml") && qr.text.contains("<svg"));
    assert_eq!(
        anon.get("/api/public/v1/merchants/91350100M000100Y44")
            .await
            .code(),
        "uscc_checksum"
    );
    assert_eq!(
        anon.get(&format!(
            "/api/public/v1/merchants/{}",
            uscc('2', "331023", 99)
        ))
        .await
        .status,
        404
    );
    assert_eq!(anon.get("/m/91350100M000100Y43").await.status, 404);
    let short = anon.get("/api/public/v1/merchants?q=面").await;
    assert_eq!(
        (short.status, short.json["fields"][0]["code"].as_str()),
        (422, Some("query_too_short"))
    );
}

pub async fn staff_api_scope_and_export(w: &World) {
    seed(w).await;
    let app = TestApp::spawn(w).await;
    let ins = app.login("a_inspector1").await;
    let list = ins.get("/api/v1/entities?q=面馆").await.ok();
    assert_eq!(list["total"], 2, "{list}");
    assert_eq!(
        list["items"][0]["phone"], "138****5678",
        "lists mask personal data"
    );
    assert_eq!(list["items"][0]["id_number"], "110***********002X");
    let other = uscc('2', "330482", 5);
    assert_eq!(
        ins.get(&format!("/api/v1/entities/{other}")).await.status,
        404
    );
    let mine = uscc('2', "331023", 1);
    let detail = ins.get(&format!("/api/v1/entities/{mine}")).await.ok();
    assert_eq!(
        detail["entity"]["phone"], "13812345678",
        "the handler sees the full record"
    );
    let admin = app.login("a_admin").await;
    let reads = admin
        .get("/api/v1/system/audit?action=registry.entity.read_personal")
        .await
        .ok();
    assert_eq!(reads["total"], 1, "reading personal data is logged");
    assert_eq!(reads["items"][0]["actor_name"], "a_inspector1");
    // Export: scope-limited, masked, audited.
    assert_eq!(ins.get("/api/v1/entities/export.csv").await.status, 403);
    let food = app.login("a_food").await;
    let csv = food.get("/api/v1/entities/export.csv").await;
    assert_eq!(csv.status, 200);
    assert_eq!(
        csv.text.lines().count(),
        1 + 4,
        "four entities in 天台, none of 平湖"
    );
    assert!(!csv.text.contains("13812345678") && csv.text.contains("138****5678"));
    // The same rows as an Excel workbook, cells as text.
    let xlsx = food.get("/api/v1/entities/export.xlsx").await;
    assert_eq!(xlsx.status, 200, "{}", xlsx.text);
    assert_eq!(
        xlsx.headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let sheet_rows = read_xlsx(&xlsx.bytes);
    let csv_rows: Vec<Vec<String>> = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.text.trim_start_matches('\u{feff}').as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(
        sheet_rows, csv_rows,
        "the workbook holds what the CSV holds"
    );
    assert_eq!(ins.get("/api/v1/entities/export.xlsx").await.status, 403);
    // The dashboard's figures count what the caller may see, and narrow to one office.
    let stats = food.get("/api/v1/registry/stats").await.ok();
    assert_eq!(stats["entities"]["total"], 4, "{stats}");
    let by_kind: i64 = stats["entities"]["by_kind"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_i64().unwrap())
        .sum();
    assert_eq!(by_kind, 4);
    let offices = stats["entities"]["by_unit"].as_array().unwrap().clone();
    let first = &offices[0];
    let office: i64 = first["key"].as_str().unwrap().parse().unwrap();
    let narrowed = food
        .get(&format!("/api/v1/registry/stats?unit_id={office}"))
        .await
        .ok();
    assert_eq!(narrowed["entities"]["total"], first["count"]);
    let mine = ins.get("/api/v1/registry/stats").await.ok();
    let visible = ins.get("/api/v1/entities").await.ok();
    assert_eq!(
        mine["entities"]["total"], visible["total"],
        "an inspector counts their office only"
    );
    let b_me = app.login("b_inspector1").await.get("/api/v1/me").await.ok();
    let b_office = b_me["unit"]["id"].as_i64().unwrap();
    assert_eq!(
        food.get(&format!("/api/v1/registry/stats?unit_id={b_office}"))
            .await
            .status,
        404,
        "another county's office is not narrowable"
    );
    // Create through the API: field errors where they belong; outside jurisdiction refused.
    let bad = food
        .post(
            "/api/v1/entities",
            &json!({"uscc": "91350100M000100Y44", "name": ""}),
        )
        .await;
    let fields: Vec<(&str, &str)> = bad.json["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["field"].as_str().unwrap(), f["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        vec![("uscc", "uscc_checksum"), ("name", "required")]
    );
    let outside = food
        .post("/api/v1/entities", &json!({"uscc": uscc('2', "330482", 50), "name": "平湖某店", "township_code": "330482001"}))
        .await;
    assert_eq!(outside.json["fields"][0]["code"], "outside_jurisdiction");
    let created = food
        .post("/api/v1/entities", &json!({"uscc": uscc('2', "331023", 51), "name": "天台新开面馆", "township_code": "331023001"}))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let dup = food
        .post(
            "/api/v1/entities",
            &json!({"uscc": uscc('2', "331023", 51), "name": "x", "township_code": "331023001"}),
        )
        .await;
    assert_eq!(dup.status, 409);
}

pub async fn upload_and_progress(w: &World) {
    let app = TestApp::spawn(w).await;
    let food = app.login("a_food").await;
    let job = upload(&food, "bad.csv", bad_file().into_bytes()).await;
    let id = job["id"].as_i64().unwrap();
    let j = finished(&food, id).await;
    assert_eq!(
        (j["rows_ok"].as_i64(), j["rows_failed"].as_i64()),
        (Some(4), Some(5))
    );
    assert_eq!(j["file_name"], "bad.csv");
    assert_eq!(j["status"], "done");
    let report = food.get(&format!("/api/v1/imports/{id}/errors.csv")).await;
    assert!(report.text.contains("duplicate_in_file"));
    let ins = app.login("a_inspector1").await;
    assert_eq!(ins.get(&format!("/api/v1/imports/{id}")).await.status, 403);
    let b = app.login("b_food").await;
    assert_eq!(
        b.get(&format!("/api/v1/imports/{id}")).await.status,
        404,
        "another county's job"
    );
}

/// Uploads `body` as `name`; the job as the upload answers.
async fn upload(c: &crate::http::Client, name: &str, body: Vec<u8>) -> serde_json::Value {
    let r = c
        .post_bytes(&format!("/api/v1/imports/entities?file_name={name}"), body)
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    r.json
}

/// Polls job `id` until it is no longer running.
async fn finished(c: &crate::http::Client, id: i64) -> serde_json::Value {
    for _ in 0..200 {
        let j = c.get(&format!("/api/v1/imports/{id}")).await.ok();
        if j["status"] != "running" {
            return j;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("import {id} still running");
}

/// The import history: each county sees its own jobs, newest first, filtered
/// and paged. A job left running with nothing committed for ten minutes and
/// no import of the server's own running it is called stalled; uploading its
/// file again resumes it and finishes it.
pub async fn import_history(w: &World) {
    let app = TestApp::spawn(w).await;
    let food = app.login("a_food").await;
    let b = app.login("b_food").await;
    let first = upload(&food, "bad.csv", bad_file().into_bytes()).await;
    assert_eq!(first["stalled"], false);
    let first = finished(&food, first["id"].as_i64().unwrap()).await;
    assert_eq!(first["status"], "done");
    let b_job = upload(
        &b,
        "b.csv",
        bad_file().replace("331023", "330482").into_bytes(),
    )
    .await;
    finished(&b, b_job["id"].as_i64().unwrap()).await;

    // A job cut off a quarter of an hour ago, as a killed command-line
    // import leaves it: running, its file's hash, one batch committed.
    let cut_file = [
        "统一社会信用代码,企业名称,乡镇街道代码".to_owned(),
        format!("{},天台县断点续传面馆,331023001", uscc('2', "331023", 61)),
        format!("{},天台县断点续传超市,331023002", uscc('2', "331023", 62)),
    ]
    .join("\n")
    .into_bytes();
    let dir = crate::TempDir::new();
    std::fs::write(dir.0.join("cut.csv"), &cut_file).unwrap();
    let sha = hongdun_app::import::sha256_file(&dir.0.join("cut.csv")).unwrap();
    let ctx = AuditCtx {
        actor_user_id: None,
        actor_name: "cli".into(),
        unit_id: first["unit_id"].as_i64().map(hongdun_core::ids::UnitId),
        request_id: None,
    };
    let cut = w
        .store
        .create_import_job(&ctx, "entities", "cut.csv", &sha, "strict")
        .await
        .unwrap();
    let at = (chrono::Utc::now() - chrono::TimeDelta::minutes(15)).to_rfc3339();
    w.raw
        .exec(&format!(
            "UPDATE import_job SET updated_at = '{at}' WHERE id = {}",
            cut.id
        ))
        .await;

    let list = food.get("/api/v1/imports").await.ok();
    assert_eq!(list["total"], 2, "{list}");
    let rows: Vec<(i64, &str, bool)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["id"].as_i64().unwrap(),
                j["status"].as_str().unwrap(),
                j["stalled"].as_bool().unwrap(),
            )
        })
        .collect();
    let first_id = first["id"].as_i64().unwrap();
    assert_eq!(
        rows,
        vec![(cut.id, "running", true), (first_id, "done", false)],
        "newest first, the other county's job not among them"
    );
    let theirs = b.get("/api/v1/imports").await.ok();
    assert_eq!(theirs["total"], 1);
    assert_eq!(theirs["items"][0]["id"], b_job["id"]);
    let running = food.get("/api/v1/imports?status=running").await.ok();
    assert_eq!(running["total"], 1);
    assert_eq!(running["items"][0]["id"], cut.id);
    let second = food.get("/api/v1/imports?per_page=1&page=2").await.ok();
    assert_eq!(
        (second["total"].as_i64(), second["items"][0]["id"].as_i64()),
        (Some(2), Some(first_id))
    );
    let bad = food.get("/api/v1/imports?status=paused").await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.code(), "invalid_param");
    assert_eq!(bad.json["fields"][0]["field"], "status", "{}", bad.text);
    let ins = app.login("a_inspector1").await;
    assert_eq!(ins.get("/api/v1/imports").await.status, 403);
    let one = food.get(&format!("/api/v1/imports/{}", cut.id)).await.ok();
    assert_eq!(one["stalled"], true);

    // A cut-off job nobody means to resume is given up: failed, saying so,
    // audited. A job that is over cannot be; another county's is not found.
    let gone = w
        .store
        .create_import_job(&ctx, "entities", "gone.csv", &"f".repeat(64), "strict")
        .await
        .unwrap();
    w.raw
        .exec(&format!(
            "UPDATE import_job SET updated_at = '{at}' WHERE id = {}",
            gone.id
        ))
        .await;
    let path = format!("/api/v1/imports/{}/abandon", gone.id);
    assert_eq!(b.post(&path, &json!({})).await.status, 404);
    let given_up = food.post(&path, &json!({})).await.ok();
    assert_eq!(
        (&given_up["status"], &given_up["stalled"]),
        (&json!("failed"), &json!(false))
    );
    assert!(
        given_up["message"].as_str().unwrap().contains("放弃"),
        "{given_up}"
    );
    let over = food
        .post(&format!("/api/v1/imports/{first_id}/abandon"), &json!({}))
        .await;
    assert_eq!((over.status, over.code()), (422, "import_not_stalled"));
    assert_eq!(
        w.raw
            .scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'registry.import.abandon'")
            .await,
        1
    );

    // The same file uploaded again resumes the cut-off job and finishes it.
    let again = upload(&food, "cut.csv", cut_file).await;
    assert_eq!(
        (again["id"].as_i64(), &again["stalled"]),
        (Some(cut.id), &json!(false))
    );
    let done = finished(&food, cut.id).await;
    assert_eq!(
        (&done["status"], &done["stalled"], done["inserted"].as_i64()),
        (&json!("done"), &json!(false), Some(2))
    );
}

/// Imports `path`, which holds two good rows and one bad: the job, done.
async fn import_two_good_one_bad(w: &World, path: &std::path::Path) -> ImportJob {
    let job = w
        .app
        .import_entities(
            &AuditCtx::system("test"),
            path,
            &ImportOptions::default(),
            &|_| {},
        )
        .await
        .unwrap();
    assert_eq!(
        (job.status.as_str(), job.rows_ok, job.rows_failed),
        ("done", 2, 1)
    );
    job
}

/// Imports a spreadsheet fixture (`fixtures/NAME`): two good rows and one
/// bad credit code; the first business, 92331023MAXL00014F, was established
/// 2018-07-09 with 10.5 万元 and 3 staff in 331023001. The job and that business.
async fn import_fixture(w: &World, name: &str) -> (ImportJob, Entity) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    let job = import_two_good_one_bad(w, &path).await;
    let e = w
        .store
        .entity_by_uscc(&ScopeFilter::All, "92331023MAXL00014F")
        .await
        .unwrap();
    assert_eq!(e.established.unwrap().to_string(), "2018-07-09");
    assert_eq!(
        (e.capital, e.employees, e.township_code.as_deref()),
        (Some(105_000), Some(3), Some("331023001"))
    );
    (job, e)
}

pub async fn import_xlsx(w: &World) {
    let (job, _) = import_fixture(w, "entities.xlsx").await;
    let errors = w.store.import_errors(job.id).await.unwrap();
    assert_eq!(
        (errors[0].row_no, errors[0].code.as_str()),
        (4, "uscc_checksum")
    );
}

/// An XLS workbook (Excel 97–2003) as older systems export it: a first
/// sheet of instructions, then the register under a title line. Errors name
/// the row Excel shows.
pub async fn import_xls(w: &World) {
    let (job, e) = import_fixture(w, "entities.xls").await;
    assert_eq!(e.name, "天台县赤城街道旧表格面馆");
    let other = w
        .store
        .entity_by_uscc(&ScopeFilter::All, "91331023MAXL00022D")
        .await
        .unwrap();
    assert_eq!(other.established.unwrap().to_string(), "2003-01-30");
    let errors = w.store.import_errors(job.id).await.unwrap();
    let got: Vec<(i64, &str)> = errors.iter().map(|e| (e.row_no, e.code.as_str())).collect();
    assert_eq!(got, vec![(5, "uscc_checksum")]);
}

/// The national publicity system's export has one column for either code
/// (统一社会信用代码/注册号): a 15-digit cell is a legacy registration number,
/// anything else a credit code, checked as one; errors name that column.
pub async fn import_either_code_column(w: &World) {
    let dir = crate::TempDir::new();
    let text = format!(
        "统一社会信用代码/注册号,企业名称,登记状态\n{},天台县新码小吃店,存续（在营、开业、在册）\n\
         331023000123456,天台县老码五金店,在业\n91350100M000100Y44,坏校验码,存续\n",
        uscc('2', "331023", 31)
    );
    let path = write(&dir.0, "either.csv", text.as_bytes());
    let job = import_two_good_one_bad(w, &path).await;
    let all = w
        .store
        .search_entities(&ScopeFilter::All, &EntityQuery::default())
        .await
        .unwrap();
    let codes: std::collections::BTreeMap<&str, (Option<&str>, Option<&str>)> = all
        .items
        .iter()
        .map(|e| (e.name.as_str(), (e.uscc.as_deref(), e.reg_no.as_deref())))
        .collect();
    let new_code = uscc('2', "331023", 31);
    assert_eq!(codes["天台县新码小吃店"], (Some(new_code.as_str()), None));
    assert_eq!(codes["天台县老码五金店"], (None, Some("331023000123456")));
    let errors = w.store.import_errors(job.id).await.unwrap();
    let got: Vec<(i64, &str, &str)> = errors
        .iter()
        .map(|e| (e.row_no, e.column.as_str(), e.code.as_str()))
        .collect();
    assert_eq!(got, vec![(4, "统一社会信用代码/注册号", "uscc_checksum")]);
}

pub async fn licence_watch_lists(w: &World) {
    seed(w).await;
    let app = TestApp::spawn(w).await;
    let food = app.login("a_food").await;
    let today = chrono::Utc::now().date_naive();
    let put = |n: u32, number: &str, expires: chrono::NaiveDate| {
        let food = food.clone();
        let number = number.to_owned();
        async move {
            food.put(
                &format!("/api/v1/entities/{}/licences", uscc('2', "331023", n)),
                &json!({"kind": "food_business", "number": number, "issued_on": "2020-01-01", "expires_on": expires.to_string()}),
            )
            .await
            .ok()
        }
    };
    put(1, "JY23310230000001", today + chrono::Duration::days(10)).await;
    put(2, "JY23310230000002", today - chrono::Duration::days(5)).await;
    let expiring = food
        .get("/api/v1/licences/alerts?list=expiring&days=30")
        .await
        .ok();
    assert_eq!(expiring["total"], 1);
    assert_eq!(expiring["items"][0]["number"], "JY23310230000001");
    let expired = food
        .get("/api/v1/licences/alerts?list=expired_trading")
        .await
        .ok();
    assert_eq!(expired["total"], 1);
    assert_eq!(expired["items"][0]["name"], "天台县赤城街道老王面馆");
    // 面馆 are catering (H6210). Both in 天台 hold a licence (one expired: that is the
    // list above, not this one); a new one without any licence is "missing".
    food.post(
        "/api/v1/entities",
        &json!({"uscc": uscc('2', "331023", 77), "name": "天台县赤城街道新开面馆",
                "township_code": "331023001", "industry": "H6210"}),
    )
    .await
    .ok();
    let missing = food
        .get("/api/v1/licences/alerts?list=missing&kind=food_business")
        .await
        .ok();
    let names: Vec<&str> = missing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["天台县赤城街道新开面馆"]);
    let b = app.login("b_food").await;
    let b_missing = b
        .get("/api/v1/licences/alerts?list=missing&kind=food_business")
        .await
        .ok();
    assert_eq!(b_missing["total"], 1, "平湖's own 面馆 without a licence");
    let bad = food.get("/api/v1/licences/alerts?list=nope").await;
    assert_eq!(bad.json["fields"][0]["code"], "list_invalid");
}

/// The first sheet of a workbook as rows of strings (empty cells as "").
fn read_xlsx(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

/// A small generated county (2,000 businesses) with its food licences: the
/// import keeps every generated row, licences load once (a second load adds
/// none), and the watch lists count exactly what the generator dated.
pub async fn generated_world_with_licences(w: &World) {
    use hongdun_app::gen::{entities, licences};
    const ROWS: u64 = 2_000;
    const SEED: u64 = 3;
    let dir = crate::TempDir::new();
    let path = dir.0.join("gen.csv");
    let opts = entities::GenOptions {
        county: "331023".into(),
        rows: ROWS,
        seed: SEED,
        dirty: 0.0,
        gbk: false,
    };
    entities::write_csv(&opts, std::fs::File::create(&path).unwrap()).unwrap();
    let ctx = AuditCtx::system("test");
    let job = w
        .app
        .import_entities(&ctx, &path, &ImportOptions::default(), &|_| {})
        .await
        .unwrap();
    assert_eq!((job.rows_ok, job.rows_failed), (ROWS as i64, 0));
    let added = w
        .app
        .load_demo_licences("331023", ROWS, SEED)
        .await
        .unwrap();
    assert_eq!(
        w.app
            .load_demo_licences("331023", ROWS, SEED)
            .await
            .unwrap(),
        0
    );
    // What the generator says, recomputed here.
    let (name, towns) = entities::towns_of("331023").unwrap();
    let today = chrono::Utc::now().date_naive();
    let (mut held, mut expiring, mut lapsed) = (0u64, 0i64, 0i64);
    for n in 0..ROWS {
        let e = entities::entity(SEED, n, "331023", &name, &towns);
        if let Some(l) = licences::licence(SEED, n, &e, "331023", &name, today) {
            held += 1;
            if l.expires_on < today {
                lapsed += 1;
            } else if (l.expires_on - today).num_days() <= 30 {
                expiring += 1;
            }
        }
    }
    assert!(held > ROWS / 3, "most of the mix is food trades: {held}");
    assert_eq!(added, held);
    let app = TestApp::spawn(w).await;
    let leader = app.login("a_leader").await;
    let stats = leader.get("/api/v1/registry/stats").await.ok();
    assert_eq!(stats["entities"]["total"], ROWS as i64);
    assert_eq!(stats["licences_expiring"], expiring, "{stats}");
    assert_eq!(stats["licences_expired_trading"], lapsed, "{stats}");
    let audit = app
        .login("a_admin")
        .await
        .get("/api/v1/system/audit?action=registry.licence.load")
        .await
        .ok();
    assert_eq!(audit["total"], 2, "one audit row per load");
}

/// While a first load has the credit-code index still to build (SQLite), the
/// public lookup and its shop-window page say the register is being updated
/// (503 `registry_loading`, with `Retry-After`) instead of reading the whole
/// table for each request, and nothing else may add a business; once the
/// indexes are built, both work. PostgreSQL keeps its unique constraint
/// through a first load and answers throughout.
pub async fn a_first_load_answers_registry_loading(w: &World) {
    let j = hongdun_app::registry::Jurisdictions::load(w.store.as_ref())
        .await
        .unwrap();
    let today = chrono::Utc::now().date_naive();
    let mut rows: Vec<NewEntity> = (0..MERCHANTS.len())
        .map(|i| {
            hongdun_app::registry::check_entity(&raw(i), CheckMode::Strict, &j, today)
                .unwrap()
                .0
        })
        .collect();
    let late = rows.pop().unwrap();
    let ctx = AuditCtx::system("test");
    let job = w
        .store
        .create_import_job(&ctx, "entities", "first.csv", "first-load", "strict")
        .await
        .unwrap();
    assert!(w.store.begin_bulk_load(job.id).await.unwrap());
    let batch = ImportBatch {
        rows,
        checkpoint_row: 4,
        rows_seen: 4,
        ..Default::default()
    };
    let counts = w
        .store
        .commit_import_batch(&ctx, job.id, batch)
        .await
        .unwrap();
    assert_eq!(counts.inserted, 4);
    let app = TestApp::spawn(w).await;
    let anon = app.anonymous();
    let code = uscc('2', "331023", 1);
    let api = anon.get(&format!("/api/public/v1/merchants/{code}")).await;
    let page = anon.get(&format!("/m/{code}")).await;
    let other = w
        .store
        .upsert_entities(&ctx, std::slice::from_ref(&late))
        .await;
    match w.backend {
        crate::Backend::Sqlite => {
            assert_eq!(
                (api.status, api.code()),
                (503, "registry_loading"),
                "{}",
                api.text
            );
            assert_eq!(api.headers["retry-after"], "60");
            assert!(api.json["message"]
                .as_str()
                .unwrap()
                .contains("首次批量导入"));
            assert_eq!(page.status, 503);
            assert!(page.text.contains("名录正在更新"), "{}", page.text);
            assert!(
                matches!(other, Err(StoreError::RegisterLoading)),
                "{other:?}"
            );
        }
        crate::Backend::Postgres => {
            assert_eq!(api.status, 200, "{}", api.text);
            assert_eq!(page.status, 200);
            assert_eq!(other.unwrap().inserted, 1);
        }
    }
    w.store.ensure_entity_indexes().await.unwrap();
    let back = anon.get(&format!("/api/public/v1/merchants/{code}")).await;
    assert_eq!(back.status, 200, "{}", back.text);
    assert_eq!(back.json["name"], "天台县赤城街道阿强面馆");
    assert!(anon
        .get(&format!("/m/{code}"))
        .await
        .text
        .contains("阿强面馆"));
    let again = w.store.upsert_entities(&ctx, &[late]).await.unwrap();
    assert_eq!(again.inserted + again.unchanged, 1);
}
