//! Random inspections and hazards on both backends, over a generated county:
//! the draw (quotas, recusal, immutability, export and verification), visits,
//! publication, and the hazard loop.
use crate::api::id_of;
use crate::http::TestApp;
use crate::World;
use hongdun_app::gen::entities;
use hongdun_app::import::ImportOptions;
use hongdun_app::inspection::{verify_draw_export, DrawExport};
use hongdun_core::sampling::quota;
use hongdun_store::AuditCtx;
use serde_json::{json, Value};

const ROWS: u64 = 2_000;
const SEED: u64 = 3;

pub(crate) async fn load_county(w: &World) {
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
    let job = w
        .app
        .import_entities(
            &AuditCtx::system("test"),
            &path,
            &ImportOptions::default(),
            &|_| {},
        )
        .await
        .unwrap();
    assert_eq!(job.rows_failed, 0);
    // Credit-risk classes by a fixed rule (credit grading is another module).
    w.raw
        .exec("UPDATE entity SET risk_class = 'A' WHERE id % 10 = 1")
        .await;
    w.raw
        .exec("UPDATE entity SET risk_class = 'C' WHERE id % 10 = 2")
        .await;
    w.raw
        .exec("UPDATE entity SET risk_class = 'D' WHERE id % 20 = 3")
        .await;
}

pub async fn draw_publish_and_hazard_loop(w: &World) {
    load_county(w).await;
    let app = TestApp::spawn(w).await;
    let admin = app.login("a_admin").await;
    let food = app.login("a_food").await;
    let units = admin.get("/api/v1/system/units").await.ok();
    let units = units["items"]
        .as_array()
        .or(units.as_array())
        .unwrap()
        .clone();
    let section = units.iter().find(|u| u["kind"] == "section").unwrap()["id"]
        .as_i64()
        .unwrap();
    let grid = units.iter().find(|u| u["kind"] == "grid").unwrap().clone();
    let grid_code = grid["code"].as_str().unwrap().to_owned();
    let grid_town = grid["jurisdiction"][0].as_str().unwrap().to_owned();
    // Businesses of that township belong to that grid.
    let in_grid = w
        .raw
        .exec(&format!(
            "UPDATE entity SET grid = '{grid_code}' WHERE township_code = '{grid_town}'"
        ))
        .await;
    assert!(in_grid > 0);
    // A grid inspector (recusal by grid) and one without a certificate.
    let r = admin
        .post(
            "/api/v1/system/users",
            &json!({"username": "a_grid", "display_name": "网格检查员", "unit_id": grid["id"], "cert_no": "33102399001",
                    "password": "Aa-12345678", "role_codes": ["inspector"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let no_cert = admin
        .post(
            "/api/v1/system/users",
            &json!({"username": "a_nocert", "display_name": "无证人员", "unit_id": grid["id"],
                    "password": "Aa-12345678", "role_codes": ["inspector"]}),
        )
        .await
        .ok()["id"]
        .as_i64()
        .unwrap();
    let users = admin.get("/api/v1/system/users?per_page=100").await.ok();
    let user = |name: &str| {
        users["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == name)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (i1, i2, ig) = (user("a_inspector1"), user("a_inspector2"), user("a_grid"));

    // 一单: items with their legal basis.
    let r = food
        .post(
            "/api/v1/inspection/items",
            &json!({"code": "SP-01", "name": "", "legal_basis": ""}),
        )
        .await;
    assert_eq!(r.status, 422);
    let mut items = Vec::new();
    for (code, name) in [
        ("SP-01", "食品经营许可证悬挂及有效性"),
        ("SP-02", "从业人员健康证明"),
    ] {
        let it = food
            .post(
                "/api/v1/inspection/items",
                &json!({"code": code, "name": name, "department_id": section, "legal_basis": "《中华人民共和国食品安全法》第三十五条"}),
            )
            .await
            .ok();
        items.push(it["id"].as_i64().unwrap());
    }
    // An item for a trade no business here has: in the plan, but on no form.
    let lifts = food
        .post(
            "/api/v1/inspection/items",
            &json!({"code": "TS-99", "name": "客运索道定期检验", "legal_basis": "《中华人民共和国特种设备安全法》第四十条", "industries": ["X99"]}),
        )
        .await
        .ok()["id"]
        .as_i64()
        .unwrap();
    let plan_items = [items.clone(), vec![lifts]].concat();

    // A conflict declared by inspector 1 with one business outside the grid.
    let conflict_uscc: String = {
        let e = food
            .get("/api/v1/entities?per_page=50&status=active")
            .await
            .ok();
        e["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["township_code"] != grid_town.as_str())
            .unwrap()["uscc"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        food.post(
            "/api/v1/inspection/conflicts",
            &json!({"user_id": i1, "uscc": conflict_uscc, "reason": "亲属经营"})
        )
        .await
        .status,
        204
    );

    // Plans: bad input is reported per field.
    let ratios = json!({"mode": "ratio", "ratios": {"A": 500, "B": 300, "C": 2000, "D": 10000}});
    let bad = food
        .post(
            "/api/v1/inspection/plans",
            &json!({"name": "x", "items": items, "sampling": ratios, "team_size": 1, "pool": [i1, no_cert]}),
        )
        .await;
    assert_eq!(bad.status, 422);
    let fields: Vec<String> = bad.json["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        fields.contains(&"draw_team_size".to_owned())
            && fields.contains(&"cert_required".to_owned()),
        "{fields:?}"
    );
    let plan = food
        .post(
            "/api/v1/inspection/plans",
            &json!({"name": "2026年食品经营者双随机抽查", "departments": [section], "items": plan_items,
                    "target": {"divisions": ["331023"]}, "sampling": ratios, "team_size": 2,
                    "exclude_months": 12, "pool": [i1, i2, ig]}),
        )
        .await;
    assert_eq!(plan.status, 201, "{}", plan.json);
    let plan_id = plan.json["id"].as_i64().unwrap();

    // The draw.
    let draw = food
        .post(
            &format!("/api/v1/inspection/plans/{plan_id}/draw"),
            &json!({"seed": "20261123"}),
        )
        .await;
    assert_eq!(draw.status, 201, "{}", draw.json);
    let again = food
        .post(
            &format!("/api/v1/inspection/plans/{plan_id}/draw"),
            &json!({"seed": "1"}),
        )
        .await;
    assert_eq!((again.status, again.code()), (422, "draw_done"));
    let d = draw.json;
    let draw_id = d["id"].as_i64().unwrap();
    assert_eq!(d["seed_source"], "typed");
    assert_eq!(
        d["seed_hash"],
        hongdun_core::sampling::sha256_hex("20261123")
    );
    // Per-class counts match the ratios (rounded up), recounted from the register.
    for (class, bp) in [("A", 500u32), ("B", 300), ("C", 2000), ("D", 10_000)] {
        let cond = if class == "B" {
            "(risk_class IS NULL OR risk_class = 'B')".to_owned()
        } else {
            format!("risk_class = '{class}'")
        };
        let size = w
            .raw
            .scalar(&format!(
                "SELECT COUNT(*) FROM entity WHERE status = 'active' AND {cond}"
            ))
            .await as usize;
        let drawn = d["outcome"]["picks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["class"] == class)
            .count();
        assert_eq!(drawn, quota(size, bp), "class {class} of {size}");
    }
    let picks = d["outcome"]["picks"].as_array().unwrap().clone();
    // Same seed and list → the same draw on both backends (a golden fingerprint).
    let mut stored = d["outcome"].clone();
    stored.as_object_mut().unwrap().remove("picks_total");
    let fingerprint = hongdun_core::sampling::sha256_hex(&serde_json::to_string(&stored).unwrap());
    // Computed once; both backends must give exactly this draw.
    assert_eq!(
        (
            fingerprint.as_str(),
            d["candidates_sha256"].as_str().unwrap()
        ),
        (
            "b47160ab83bd068609efae949249e4020efac2bb095606ee1caca09d4037f4e0",
            "18d19efd83a6be9301b6852e40830114c183e4a0279ba49bc09ac438e08e9e84"
        )
    );
    // Recusal: the grid inspector never in a team for their grid; inspector 1 never
    // for the business they declared.
    let grid_ids: Vec<String> = {
        let e = food
            .get(&format!(
                "/api/v1/entities?division={grid_town}&per_page=500"
            ))
            .await
            .ok();
        e["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["uscc"].as_str().unwrap().to_owned())
            .collect()
    };
    let cert = |id: i64| {
        users["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == id)
            .unwrap()["cert_no"]
            .clone()
    };
    let (c1, cg) = (cert(i1), cert(ig));
    for p in &picks {
        assert_eq!(p["team"].as_array().unwrap().len(), 2);
        if grid_ids.iter().any(|g| p["id"] == g.as_str()) {
            assert!(
                !p["team"].as_array().unwrap().contains(&cg),
                "grid recusal: {p}"
            );
        }
        if p["id"] == conflict_uscc.as_str() {
            assert!(
                !p["team"].as_array().unwrap().contains(&c1),
                "conflict recusal: {p}"
            );
        }
    }
    // Immutable: neither the draw nor its list can be edited, even behind the store.
    assert!(w
        .raw
        .try_exec(&format!(
            "UPDATE inspection_draw SET seed = 'x' WHERE id = {draw_id}"
        ))
        .await
        .is_err());
    assert!(w
        .raw
        .try_exec(&format!(
            "DELETE FROM inspection_draw_list WHERE draw_id = {draw_id}"
        ))
        .await
        .is_err());

    // Export, re-verify, tamper.
    let export = food
        .get(&format!("/api/v1/inspection/draws/{draw_id}/export.json"))
        .await;
    assert_eq!(export.status, 200);
    let bytes = export.bytes.clone();
    let report = verify_draw_export(&bytes).unwrap();
    assert!(report.identical, "{:?}", report.differences);
    assert_eq!(report.picks, picks.len());
    let mut forged: DrawExport = serde_json::from_slice(&bytes).unwrap();
    forged.outcome.picks[1].id = forged
        .input
        .candidates
        .iter()
        .find(|c| !picks.iter().any(|p| p["id"] == c.id.as_str()))
        .unwrap()
        .id
        .clone();
    let report = verify_draw_export(&serde_json::to_vec(&forged).unwrap()).unwrap();
    assert!(!report.identical);
    assert!(
        report.differences.iter().any(|d| d.contains("第 2 个")),
        "{:?}",
        report.differences
    );
    let mut shrunk: DrawExport = serde_json::from_slice(&bytes).unwrap();
    shrunk.input.candidates.pop();
    let report = verify_draw_export(&serde_json::to_vec(&shrunk).unwrap()).unwrap();
    assert!(
        report
            .differences
            .iter()
            .any(|d| d.starts_with("candidates_sha256")),
        "{:?}",
        report.differences
    );
    // The public verification endpoint answers the same, without signing in.
    let anon = app.anonymous();
    let r = anon
        .post(
            "/api/public/v1/draws/verify",
            &serde_json::from_slice::<Value>(&bytes).unwrap(),
        )
        .await
        .ok();
    assert_eq!(r["identical"], true);
    assert_eq!(anon.get("/verify").await.status, 200);

    // Tasks: inspector 1 records a visit on one of their tasks.
    let ins1 = app.login("a_inspector1").await;
    let mine = ins1
        .get(&format!(
            "/api/v1/inspection/tasks?mine=true&plan_id={plan_id}&per_page=500"
        ))
        .await
        .ok();
    let mine = mine["items"].as_array().unwrap().clone();
    let expected = picks
        .iter()
        .filter(|p| p["team"].as_array().unwrap().contains(&c1))
        .count();
    assert_eq!(mine.len(), expected);
    assert!(expected >= 2, "inspector 1 has tasks");
    let task = mine[0]["id"].as_i64().unwrap();
    let detail = ins1
        .get(&format!("/api/v1/inspection/tasks/{task}"))
        .await
        .ok();
    assert_eq!(detail["items"].as_array().unwrap().len(), 2);
    let missing = ins1
        .post(&format!("/api/v1/inspection/tasks/{task}/visit"), &json!({"records": [{"item_id": items[0], "verdict": "compliant"}], "outcome": "no_problem"}))
        .await;
    assert_eq!(missing.status, 422);
    assert_eq!(
        missing.json["fields"][0]["field"],
        format!("records.{}", items[1])
    );
    let visit = json!({"records": [{"item_id": items[0], "verdict": "compliant"},
                                   {"item_id": items[1], "verdict": "non_compliant", "note": "两名员工健康证过期"}],
                       "outcome": "rectification_ordered", "lat": 29.14, "lng": 121.0});
    let inconsistent = ins1
        .post(
            &format!("/api/v1/inspection/tasks/{task}/visit"),
            &json!({"records": visit["records"], "outcome": "no_problem"}),
        )
        .await;
    assert_eq!(inconsistent.json["fields"][0]["code"], "inconsistent");
    let not_member_task = ins1
        .get(&format!(
            "/api/v1/inspection/tasks?plan_id={plan_id}&per_page=500"
        ))
        .await
        .ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| !t["team"].as_array().unwrap().contains(&json!(i1)))
        .map(|t| t["id"].as_i64().unwrap());
    if let Some(other) = not_member_task {
        let r = ins1
            .post(&format!("/api/v1/inspection/tasks/{other}/visit"), &visit)
            .await;
        assert_eq!(r.code(), "task_not_member");
    }
    let done = ins1
        .post(&format!("/api/v1/inspection/tasks/{task}/visit"), &visit)
        .await
        .ok();
    assert_eq!(done["status"], "done");
    assert!(done["publish_due"].is_string(), "{done}");
    let twice = ins1
        .post(&format!("/api/v1/inspection/tasks/{task}/visit"), &visit)
        .await;
    assert_eq!(twice.code(), "task_done");

    // Publication (一公开): public results carry no class and no names.
    let uscc = done["uscc"].as_str().unwrap().to_owned();
    assert_eq!(
        anon.get(&format!("/api/public/v1/inspections?uscc={uscc}"))
            .await
            .ok()["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        food.post(
            &format!("/api/v1/inspection/tasks/{task}/publish"),
            &json!({})
        )
        .await
        .status,
        200
    );
    let public = anon
        .get(&format!("/api/public/v1/inspections?uscc={uscc}"))
        .await;
    let text = public.json.to_string();
    assert_eq!(
        public.json["items"][0]["outcome"], "发现问题已责令限期整改",
        "{text}"
    );
    for secret in ["risk", "class", "team", "inspector", "cert"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let page = anon.get(&format!("/m/{uscc}")).await;
    assert!(
        page.text.contains("双随机抽查结果") && page.text.contains("发现问题已责令限期整改"),
        "{}",
        page.text
    );
    assert!(!page.text.contains("risk_class"));
    // A second visit, published late: on the section's overdue list.
    let second = mine[1]["id"].as_i64().unwrap();
    let ok = json!({"records": [{"item_id": items[0], "verdict": "compliant"}, {"item_id": items[1], "verdict": "not_applicable"}], "outcome": "no_problem"});
    ins1.post(&format!("/api/v1/inspection/tasks/{second}/visit"), &ok)
        .await
        .ok();
    w.raw
        .exec(&format!(
            "UPDATE inspection_task SET publish_due = '2026-01-05' WHERE id = {second}"
        ))
        .await;
    let overdue = food
        .get("/api/v1/inspection/publications/overdue")
        .await
        .ok();
    assert_eq!(overdue["total"], 1);
    assert_eq!(overdue["items"][0]["id"], second);

    // The hazard the visit raised, through the loop (it belongs to the
    // business's office; the section works across the bureau).
    let hz = food.get("/api/v1/hazards?state=reported").await.ok();
    assert_eq!(hz["total"], 1, "{hz}");
    let h = hz["items"][0]["id"].as_i64().unwrap();
    assert_eq!(hz["items"][0]["task_id"], task);
    let act = |body: Value| {
        let c = &food;
        async move { c.post(&format!("/api/v1/hazards/{h}/actions"), &body).await }
    };
    assert_eq!(
        act(json!({"action": "recheck", "passed": true}))
            .await
            .code(),
        "hazard_state"
    );
    assert_eq!(
        act(json!({"action": "order"})).await.json["fields"][0]["field"],
        "deadline_days"
    );
    let ordered = act(json!({"action": "order", "deadline_days": 5}))
        .await
        .ok();
    let due = w
        .app
        .add_working_days(hongdun_app::inspection::today_cn(), 5)
        .await
        .unwrap();
    assert_eq!(ordered["deadline"], due.to_string());
    assert_eq!(
        act(json!({"action": "submit", "evidence": []}))
            .await
            .code(),
        "hazard_evidence_required"
    );
    // Evidence is an uploaded file, typed by its bytes; a name alone is refused.
    let bad = food
        .post_bytes("/api/v1/files?name=a.txt", b"just text".to_vec())
        .await;
    assert_eq!(
        (bad.status, bad.json["fields"][0]["code"].as_str()),
        (422, Some("file_type"))
    );
    let too_big = food
        .post_bytes("/api/v1/files?name=big.jpg", vec![0xFF; 11 << 20])
        .await;
    assert_eq!(too_big.json["fields"][0]["code"], "file_too_large");
    let up = food
        .post_bytes(
            "/api/v1/files?name=整改照片.png",
            hongdun_app::files::TINY_PNG.to_vec(),
        )
        .await;
    assert_eq!(up.status, 201, "{}", up.json);
    assert_eq!(up.json["content_type"], "image/png");
    let photo = format!("file:{}", up.json["id"]);
    let back = food.get(&format!("/api/v1/files/{}", up.json["id"])).await;
    assert_eq!(&back.bytes[..], hongdun_app::files::TINY_PNG);
    let other = app.login("b_leader").await;
    assert_eq!(
        other
            .get(&format!("/api/v1/files/{}", up.json["id"]))
            .await
            .status,
        404
    );
    assert_eq!(
        act(json!({"action": "submit", "evidence": ["photo-1.jpg"]}))
            .await
            .json["fields"][0]["code"],
        "file_unknown"
    );
    assert_eq!(
        act(json!({"action": "submit", "evidence": [photo]}))
            .await
            .ok()["state"],
        "submitted"
    );
    assert_eq!(
        act(json!({"action": "recheck", "passed": false}))
            .await
            .json["fields"][0]["field"],
        "note"
    );
    assert_eq!(act(json!({"action": "recheck", "passed": false, "note": "仍有一人未办证", "deadline_days": 3})).await.ok()["state"], "ordered");
    assert_eq!(
        act(json!({"action": "submit", "evidence": [photo]}))
            .await
            .ok()["state"],
        "submitted"
    );
    let closed = act(json!({"action": "recheck", "passed": true, "note": "已整改"}))
        .await
        .ok();
    assert_eq!(closed["state"], "closed");
    let detail = food.get(&format!("/api/v1/hazards/{h}")).await.ok();
    let actions: Vec<&str> = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "report",
            "order",
            "submit",
            "recheck_fail",
            "submit",
            "recheck_pass"
        ]
    );
    // One state per hazard, from a closed set.
    assert!(w
        .raw
        .try_exec(&format!("UPDATE hazard SET state = 'lost' WHERE id = {h}"))
        .await
        .is_err());

    // A hazard entered directly, left overdue: it climbs to the bureau.
    let direct = food
        .post(
            "/api/v1/hazards",
            &json!({"uscc": uscc, "category": "gas", "description": "液化气钢瓶未固定"}),
        )
        .await;
    assert_eq!(direct.status, 201, "{}", direct.json);
    let d2 = direct.json["id"].as_i64().unwrap();
    food.post(
        &format!("/api/v1/hazards/{d2}/actions"),
        &json!({"action": "order", "deadline_days": 2}),
    )
    .await
    .ok();
    w.raw
        .exec(&format!(
            "UPDATE hazard SET deadline = '2026-01-05' WHERE id = {d2}"
        ))
        .await;
    let leader = app.login("a_leader").await;
    let late = leader.get("/api/v1/hazards?overdue=true").await.ok();
    assert_eq!(late["total"], 1);
    let bureau = id_of(&admin, "/api/v1/system/units", "code", "331023-amr").await;
    assert_eq!(late["items"][0]["escalated_to"], bureau);
    assert_eq!(late["items"][0]["overdue"], true);

    // Figures: found and closed today, recounted.
    let month = hongdun_app::inspection::today_cn()
        .format("%Y-%m")
        .to_string();
    let report = leader
        .get(&format!("/api/v1/hazards/report?month={month}"))
        .await
        .ok();
    let found: i64 = report["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["found"].as_i64().unwrap())
        .sum();
    let closed_n: i64 = report["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["closed"].as_i64().unwrap())
        .sum();
    assert_eq!((found, closed_n), (2, 1), "{report}");
    assert_eq!(report["this_week"]["found"], 2);
    assert!(report["ranking"].as_array().unwrap().len() > 1);
    assert_eq!(report["ranking"][0]["rank"], 1);

    // 回头看: a seeded draw of closed hazards.
    let today = hongdun_app::inspection::today_cn().to_string();
    let rv = food
        .post(
            "/api/v1/hazards/revisit-draws",
            &json!({"from": today, "to": today, "count": 5, "seed": "42"}),
        )
        .await;
    assert_eq!(rv.status, 201, "{}", rv.json);
    assert_eq!(rv.json["kind"], "revisit");
    assert_eq!(rv.json["outcome"]["picks"].as_array().unwrap().len(), 1);
    assert_eq!(rv.json["outcome"]["picks"][0]["id"], format!("H{h}"));

    // The other county sees none of it.
    let b_leader = app.login("b_leader").await;
    assert_eq!(
        b_leader
            .get(&format!("/api/v1/inspection/plans/{plan_id}"))
            .await
            .status,
        404
    );
    assert_eq!(
        b_leader.get(&format!("/api/v1/hazards/{h}")).await.status,
        404
    );
    assert_eq!(
        b_leader.get("/api/v1/inspection/tasks").await.ok()["total"],
        0
    );
}

/// The demo's year of inspections: loaded once, every draw re-verifies, every
/// closed hazard went through evidence and a re-check, and the month's figures
/// equal a recount from the rows.
pub async fn generated_year_of_inspections(w: &World) {
    load_county(w).await;
    let (tasks, hazards) = w.app.load_demo_inspections("331023", 1).await.unwrap();
    assert!(tasks > 300, "{tasks} visits");
    assert!(hazards > 100, "{hazards} hazards");
    assert_eq!(
        w.app.load_demo_inspections("331023", 1).await.unwrap(),
        (0, 0)
    );
    let app = TestApp::spawn(w).await;
    let food = app.login("a_food").await;
    let plans = food.get("/api/v1/inspection/plans").await.ok();
    assert_eq!(plans["total"], 4);
    for p in plans["items"].as_array().unwrap() {
        let d = food
            .get(&format!("/api/v1/inspection/plans/{}/draw", p["id"]))
            .await
            .ok();
        let export = food
            .get(&format!("/api/v1/inspection/draws/{}/export.json", d["id"]))
            .await;
        let report = verify_draw_export(&export.bytes).unwrap();
        assert!(report.identical, "{:?}", report.differences);
    }
    // No hazard closed without evidence and a passing re-check.
    let bad = w
        .raw
        .scalar(
            "SELECT COUNT(*) FROM hazard h WHERE h.state = 'closed' AND NOT EXISTS \
             (SELECT 1 FROM hazard_event s JOIN hazard_event r ON r.hazard_id = s.hazard_id AND r.id > s.id \
              WHERE s.hazard_id = h.id AND s.action = 'submit' AND s.evidence <> '' AND r.action = 'recheck_pass')",
        )
        .await;
    assert_eq!(bad, 0);
    let open_ones = w
        .raw
        .scalar("SELECT COUNT(*) FROM hazard WHERE state <> 'closed'")
        .await;
    assert!(open_ones > 0, "some hazards are still open");
    // The figures of a past month, recounted from the rows.
    let month = (hongdun_app::inspection::today_cn() - chrono::Days::new(100))
        .format("%Y-%m")
        .to_string();
    let report = app
        .login("a_leader")
        .await
        .get(&format!("/api/v1/hazards/report?month={month}"))
        .await
        .ok();
    let found: i64 = report["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["found"].as_i64().unwrap())
        .sum();
    let closed: i64 = report["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["closed"].as_i64().unwrap())
        .sum();
    let like = format!("{month}%");
    let (rf, rc) = match &w.raw {
        crate::Raw::Sqlite(_) => (
            w.raw.scalar(&format!("SELECT COUNT(*) FROM hazard WHERE found_on LIKE '{like}'")).await,
            w.raw.scalar(&format!("SELECT COUNT(*) FROM hazard WHERE closed_on LIKE '{like}'")).await,
        ),
        crate::Raw::Pg(_) => (
            w.raw.scalar(&format!("SELECT COUNT(*) FROM hazard WHERE to_char(found_on, 'YYYY-MM-DD') LIKE '{like}'")).await,
            w.raw.scalar(&format!("SELECT COUNT(*) FROM hazard WHERE to_char(closed_on, 'YYYY-MM-DD') LIKE '{like}'")).await,
        ),
    };
    assert_eq!((found, closed), (rf, rc), "{report}");
    let ranked: i64 = report["ranking"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["found"].as_i64().unwrap())
        .sum();
    assert_eq!(ranked, found, "every hazard counted once, in one office");
    // Published results reach the public; unpublished ones do not.
    let published = w
        .raw
        .scalar("SELECT COUNT(*) FROM inspection_task WHERE published_at IS NOT NULL")
        .await;
    assert!(published > 0);
}

/// The store reads every active business in scope exactly once, however its
/// readers divide the register (SQLite splits it at a sampled office, kind and
/// industry; rows with no industry compare as NULL there and are a part of
/// their own): the entity ids equal a plain count, for the whole jurisdiction
/// and for a scope listing offices, with either half of the register lacking
/// an industry.
pub async fn candidates_read_once(w: &World) {
    use hongdun_core::ids::UnitId;
    use hongdun_store::{CandidateQuery, ScopeFilter};
    load_county(w).await;
    let ids = |rows: Vec<Vec<String>>| -> Vec<i64> {
        rows.into_iter().map(|r| r[0].parse().unwrap()).collect()
    };
    let units: Vec<UnitId> = ids(w.raw.rows("SELECT CAST(id AS TEXT) FROM unit").await)
        .into_iter()
        .map(UnitId)
        .collect();
    let offices = ScopeFilter::Limited {
        units: units.clone(),
        user: None,
    };
    for parity in [0, 1] {
        w.raw
            .exec(&format!(
                "UPDATE entity SET industry = CASE WHEN id % 2 = {parity} THEN NULL \
                 ELSE COALESCE(industry, 'H6210') END"
            ))
            .await;
        for (scope, cond) in [
            (&ScopeFilter::All, ""),
            (&offices, " AND unit_id IS NOT NULL"),
        ] {
            let mut want = ids(w
                .raw
                .rows(&format!(
                    "SELECT CAST(id AS TEXT) FROM entity WHERE status = 'active'{cond}"
                ))
                .await);
            want.sort_unstable();
            assert!(want.len() > 1000, "a county's register");
            let got = w
                .store
                .draw_candidates(scope, &CandidateQuery::default())
                .await
                .unwrap();
            let mut got_ids: Vec<i64> = got.entity_ids().collect();
            got_ids.sort_unstable();
            assert_eq!(
                got_ids.len(),
                want.len(),
                "parity {parity}, scope {scope:?}"
            );
            assert_eq!(got_ids, want, "parity {parity}, scope {scope:?}");
            assert_eq!(got.set.len(), got.len());
        }
    }
}

/// A draw's tasks and team members as written in batches: more tasks than one
/// batch holds (5,000), teams of none to three, and every task's members
/// exactly the ids of its team column, on both backends. (SQLite gives each
/// batch's members the ids its tasks took; PostgreSQL reads them back.)
pub async fn draw_tasks_keep_their_teams(w: &World) {
    use hongdun_core::ids::{UnitId, UserId};
    use hongdun_store::{NewDraw, NewPlan, NewTask, PackedList};
    load_county(w).await;
    let num =
        |v: &Vec<Vec<String>>| -> Vec<i64> { v.iter().map(|r| r[0].parse().unwrap()).collect() };
    let entities = num(&w
        .raw
        .rows("SELECT CAST(id AS TEXT) FROM entity ORDER BY id")
        .await);
    let users = num(&w
        .raw
        .rows("SELECT CAST(id AS TEXT) FROM app_user ORDER BY id")
        .await);
    let unit = UnitId(num(&w.raw.rows("SELECT CAST(MIN(id) AS TEXT) FROM unit").await)[0]);
    assert!(users.len() >= 3, "users for teams of three");
    let ctx = AuditCtx::system("test");
    let plan = w
        .store
        .create_plan(
            &ctx,
            &NewPlan {
                unit_id: unit,
                name: "批量任务".into(),
                departments: vec![unit],
                items: vec![],
                target: Default::default(),
                sampling: json!({"mode": "count", "count": 1}),
                exclude_months: 0,
                team_size: 2,
                pool: users.iter().map(|&u| UserId(u)).collect(),
                publish_days: 20,
            },
        )
        .await
        .unwrap();
    // Positions out of entity order (the store writes in entity order).
    let n = 12_345usize;
    let tasks: Vec<NewTask> = (0..n)
        .map(|k| NewTask {
            entity_id: entities[(k * 7919) % entities.len()],
            unit_id: (k % 5 != 0).then_some(unit),
            team: (0..k % 4)
                .map(|j| UserId(users[(k + j) % users.len()]))
                .collect(),
        })
        .collect();
    let draw = w
        .store
        .save_draw(
            &ctx,
            NewDraw {
                plan_id: Some(plan.id),
                unit_id: unit,
                kind: "plan".into(),
                seed: "1".into(),
                seed_source: "typed".into(),
                seed_hash: "h".into(),
                algorithm: "test".into(),
                algorithm_version: 1,
                sampling: json!({}),
                team_size: 2,
                candidates_count: 1,
                candidates_sha256: "s".into(),
                inspectors: json!([]),
                inspectors_sha256: "i".into(),
                outcome: json!({}),
            },
            PackedList::pack("x\tB\t\n"),
            tasks.clone(),
        )
        .await
        .unwrap();
    let got = w.raw.rows(&format!(
        "SELECT CAST(t.seq AS TEXT), CAST(t.entity_id AS TEXT), t.team, \
         COALESCE((SELECT CAST(COUNT(*) AS TEXT) FROM inspection_task_member m WHERE m.task_id = t.id), '0') \
         FROM inspection_task t WHERE t.draw_id = {} ORDER BY t.seq",
        draw.id
    ))
    .await;
    assert_eq!(got.len(), n);
    let members = w
        .raw
        .rows(&format!(
            "SELECT CAST(t.seq AS TEXT), CAST(m.user_id AS TEXT) FROM inspection_task_member m \
         JOIN inspection_task t ON t.id = m.task_id WHERE t.draw_id = {}",
            draw.id
        ))
        .await;
    let mut by_seq: Vec<Vec<i64>> = vec![Vec::new(); n];
    for r in &members {
        by_seq[r[0].parse::<usize>().unwrap() - 1].push(r[1].parse().unwrap());
    }
    for (k, r) in got.iter().enumerate() {
        let t = &tasks[k];
        assert_eq!(r[0], (k + 1).to_string());
        assert_eq!(r[1], t.entity_id.to_string(), "task {k}");
        let team: Vec<i64> = t.team.iter().map(|u| u.0).collect();
        let text: Vec<String> = team.iter().map(i64::to_string).collect();
        assert_eq!(r[2], text.join(" "), "task {k}");
        let mut want = team.clone();
        want.sort_unstable();
        let mut have = by_seq[k].clone();
        have.sort_unstable();
        assert_eq!(have, want, "members of task {k}");
    }
}
