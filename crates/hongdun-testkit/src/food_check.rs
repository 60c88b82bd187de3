//! 食安在线, the checks that need a person: AI capture alerts (ingest with
//! merged repeats, triage, the hazard a confirmed alert opens, the business's
//! photo reply, the closing re-check, false-positive rates) and sampling tests
//! (plans, samples, judged results, disposal, publication, figures).
use crate::food::{assert_nothing_personal, caterers, token};
use crate::http::TestApp;
use crate::inspection::load_county;
use crate::World;
use base64::Engine;
use chrono::{Datelike, Duration, Utc};
use hongdun_app::files::TINY_PNG;
use hongdun_app::inspection::today_cn;
use hongdun_core::food_sample;
use serde_json::{json, Value};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn codes(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["code"].as_str().unwrap_or("").to_owned())
        .collect()
}

pub async fn alert_triage_loop(w: &World) {
    load_county(w).await;
    let app = TestApp::spawn(w).await;
    let admin = app.login("a_admin").await;
    let food = app.login("a_food").await;
    let other = app.login("b_food").await;
    let public = app.anonymous();
    let firms = caterers(w).await;
    let devices = ["33102300001320000001", "33102300001320000002"];
    for (d, place) in devices.iter().zip(["kitchen", "cold"]) {
        food.post(
            "/api/v1/cameras",
            &json!({"device_id": d, "uscc": firms[0][0], "place": place, "vendor": "海康威视"}),
        )
        .await
        .ok();
    }
    let boxes = app.with_token(&token(&admin, &["food:alert:ingest"]).await);
    let t0 = Utc::now() - Duration::hours(2);
    let at = |m: i64| (t0 + Duration::minutes(m)).to_rfc3339();
    let receipt = boxes
        .post(
            "/api/v1/alerts/ingest",
            &json!({"vendor": "慧眼AI", "alerts": [
                {"device_id": devices[0], "kind": "rodent", "confidence": 0.8, "at": at(0), "snapshot": b64(TINY_PNG)},
                {"device_id": devices[0], "kind": "rodent", "confidence": 0.9, "at": at(3)},
                {"device_id": devices[0], "kind": "rodent", "confidence": 0.7, "at": at(30)},
                {"device_id": devices[0], "kind": "no_mask", "confidence": 0.95, "at": at(31)},
                {"device_id": devices[0], "kind": "cat", "confidence": 0.9, "at": at(32)},
                {"device_id": devices[0], "kind": "smoking", "confidence": 1.5, "at": at(33)},
                {"device_id": "33102300001329999999", "kind": "smoking", "confidence": 0.9},
                {"device_id": devices[0], "kind": "phone", "confidence": 0.9, "snapshot": "不是图片"},
                {"device_id": devices[0], "kind": "phone", "confidence": 0.9, "at": (Utc::now() + Duration::hours(1)).to_rfc3339()},
            ]}),
        )
        .await
        .ok();
    let accepted: Vec<(i64, bool)> = receipt["accepted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["index"].as_i64().unwrap(), a["merged"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        accepted,
        [(0, false), (1, true), (2, false), (3, false)],
        "{receipt}"
    );
    assert_eq!(
        codes(&receipt, "rejected"),
        [
            "alert_kind",
            "alert_confidence",
            "camera_unknown",
            "alert_snapshot",
            "alert_in_future"
        ]
    );
    let first_id = receipt["accepted"][0]["alert_id"].as_i64().unwrap();
    assert_eq!(receipt["accepted"][1]["alert_id"], first_id);
    // A second vendor's box on the other camera; no vendor named → the camera's.
    boxes
        .post(
            "/api/v1/alerts/ingest",
            &json!({"alerts": [
                {"device_id": devices[1], "kind": "smoking", "confidence": 0.6, "at": at(40)},
                {"device_id": devices[1], "kind": "smoking", "confidence": 0.65, "at": at(49)},
                {"device_id": devices[1], "kind": "smoking", "confidence": 0.66, "at": at(58)},
            ]}),
        )
        .await
        .ok();
    // The box may not read what it reports; staff of another county see nothing.
    assert_eq!(boxes.get("/api/v1/alerts").await.status, 403);
    assert_eq!(other.get("/api/v1/alerts").await.ok()["total"], 0);
    assert_eq!(
        other
            .get(&format!("/api/v1/alerts/{first_id}"))
            .await
            .status,
        404
    );

    let queue = food.get("/api/v1/alerts?status=pending").await.ok();
    assert_eq!(queue["total"], 4, "{queue}");
    let first = food.get(&format!("/api/v1/alerts/{first_id}")).await.ok();
    assert_eq!(
        (
            &first["repeats"],
            &first["confidence"],
            &first["vendor"],
            &first["stage"]
        ),
        (&json!(2), &json!(0.9), &json!("慧眼AI"), &json!("pending"))
    );
    assert_eq!(first["kind_label"], "老鼠出没");
    let snap = food
        .get(&format!("/api/v1/files/{}", first["snapshot_id"]))
        .await;
    assert_eq!(&snap.bytes[..], TINY_PNG);
    // Repeats every 9 minutes chain into one alert (the window slides).
    let smoking = food.get("/api/v1/alerts?kind=smoking").await.ok();
    assert_eq!(smoking["total"], 1);
    assert_eq!(smoking["items"][0]["repeats"], 3);
    assert_eq!(smoking["items"][0]["vendor"], "海康威视");

    // Triage: dismissing needs a reason; a triaged alert stays triaged.
    let second_id = receipt["accepted"][2]["alert_id"].as_i64().unwrap();
    let triage = |id: i64| format!("/api/v1/alerts/{id}/triage");
    let r = food
        .post(&triage(second_id), &json!({"action": "dismiss"}))
        .await;
    assert_eq!(
        (r.status, r.json["fields"][0]["field"].as_str()),
        (422, Some("note"))
    );
    let d = food
        .post(
            &triage(second_id),
            &json!({"action": "dismiss", "note": "画面中为猫，非鼠类"}),
        )
        .await
        .ok();
    assert_eq!(
        (d["alert"]["stage"].as_str(), d["reply_url"].as_null()),
        (Some("dismissed"), Some(()))
    );
    let r = food
        .post(&triage(second_id), &json!({"action": "confirm"}))
        .await;
    assert_eq!((r.status, r.code()), (422, "alert_triaged"));

    // Confirm: a hazard with its order and deadline, the snapshot as evidence,
    // and a reply link for the business.
    let c = food
        .post(
            &triage(first_id),
            &json!({"action": "confirm", "deadline_days": 3, "note": "后厨多次出现鼠迹"}),
        )
        .await
        .ok();
    assert_eq!(c["alert"]["stage"], "rectifying");
    let hazard_id = c["alert"]["hazard_id"].as_i64().unwrap();
    let reply_url = c["reply_url"].as_str().unwrap().to_owned();
    let token = reply_url.rsplit('/').next().unwrap().to_owned();
    assert!(reply_url.contains("/r/"), "{reply_url}");
    let h = food.get(&format!("/api/v1/hazards/{hazard_id}")).await.ok();
    assert_eq!(h["hazard"]["state"], "ordered");
    assert_eq!(h["hazard"]["category"], "food");
    assert!(h["hazard"]["deadline"].is_string());
    assert!(h["hazard"]["description"]
        .as_str()
        .unwrap()
        .contains("老鼠出没"));
    assert_eq!(
        h["events"][1]["evidence"][0],
        format!("file:{}", first["snapshot_id"])
    );

    // The business's page: its order, nothing personal; a wrong token is 404.
    let page = public.get(&format!("/r/{token}")).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("整改中") && page.text.contains("上传整改照片"));
    assert_nothing_personal(&page.text, &firms[0]);
    let view = public
        .get(&format!("/api/public/v1/replies/{token}"))
        .await
        .ok();
    assert_eq!(
        (view["open"].as_bool(), view["state"].as_str()),
        (Some(true), Some("ordered"))
    );
    assert_nothing_personal(&view.to_string(), &firms[0]);
    assert!(
        !view.to_string().contains("a_food"),
        "staff names stay inside"
    );
    let wrong = "0".repeat(32);
    assert_eq!(public.get(&format!("/r/{wrong}")).await.status, 404);
    assert_eq!(public.get("/api/public/v1/replies/xyz").await.status, 404);

    // The business answers with photos; the alert is still open until a person re-checks.
    let answer = format!("/api/public/v1/replies/{token}");
    let r = public.post(&answer, &json!({"photos": []})).await;
    assert_eq!(
        (r.status, r.json["fields"][0]["field"].as_str()),
        (422, Some("photos"))
    );
    let r = public
        .post(&answer, &json!({"photos": [b64(b"GIF89a....")]}))
        .await;
    assert_eq!(
        (r.status, r.json["fields"][0]["field"].as_str()),
        (422, Some("photos[0]"))
    );
    let v = public
        .post(
            &answer,
            &json!({"note": "已封堵鼠洞并放置挡鼠板", "photos": [format!("data:image/png;base64,{}", b64(TINY_PNG))]}),
        )
        .await
        .ok();
    assert_eq!(
        (v["state"].as_str(), v["open"].as_bool()),
        (Some("submitted"), Some(false))
    );
    let r = public
        .post(&answer, &json!({"photos": [b64(TINY_PNG)]}))
        .await;
    assert_eq!((r.status, r.code()), (422, "hazard_state"));
    let a = food.get(&format!("/api/v1/alerts/{first_id}")).await.ok();
    assert_eq!(a["stage"], "rectifying");
    let h = food.get(&format!("/api/v1/hazards/{hazard_id}")).await.ok();
    let submit = h["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(submit["action"], "submit");
    assert!(submit["actor_name"]
        .as_str()
        .unwrap()
        .starts_with("经营者回复"));
    let photo = submit["evidence"][0]
        .as_str()
        .unwrap()
        .trim_start_matches("file:")
        .to_owned();
    assert_eq!(
        &food.get(&format!("/api/v1/files/{photo}")).await.bytes[..],
        TINY_PNG
    );

    // A person re-checks: closed, and so is the alert.
    food.post(
        &format!("/api/v1/hazards/{hazard_id}/actions"),
        &json!({"action": "recheck", "passed": true, "note": "现场复查，未见鼠迹"}),
    )
    .await
    .ok();
    let a = food.get(&format!("/api/v1/alerts/{first_id}")).await.ok();
    assert_eq!(
        (a["stage"].as_str(), a["hazard_state"].as_str()),
        (Some("closed"), Some("closed"))
    );
    assert_eq!(food.get("/api/v1/alerts?open=false").await.ok()["total"], 1);
    assert_eq!(food.get("/api/v1/alerts?open=true").await.ok()["total"], 0);
    assert_eq!(public.get(&answer).await.ok()["open"], false);
    // A new link for a closed hazard is refused; for an open one it replaces the old.
    let r = food
        .post(
            &format!("/api/v1/hazards/{hazard_id}/reply-link"),
            &json!({}),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "hazard_state"));

    // False-positive rates per kind and vendor, against a recount in SQL.
    let no_mask = receipt["accepted"][3]["alert_id"].as_i64().unwrap();
    food.post(&triage(no_mask), &json!({"action": "confirm"}))
        .await
        .ok();
    let stats = food.get("/api/v1/alerts/stats").await.ok();
    let row = |list: &str, key: &str| {
        stats[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == key)
            .cloned()
            .unwrap()
    };
    let rodent = row("by_kind", "rodent");
    assert_eq!(
        (
            &rodent["confirmed"],
            &rodent["dismissed"],
            &rodent["false_positive_rate"]
        ),
        (&json!(1), &json!(1), &json!(0.5))
    );
    assert_eq!(
        row("by_kind", "smoking")["false_positive_rate"],
        Value::Null
    );
    let vendor = row("by_vendor", "慧眼AI");
    assert_eq!(vendor["false_positive_rate"].as_f64().unwrap(), 1.0 / 3.0);
    for (status, col) in [
        ("pending", "pending"),
        ("confirmed", "confirmed"),
        ("dismissed", "dismissed"),
    ] {
        let n = w
            .raw
            .scalar(&format!(
                "SELECT COUNT(*) FROM ai_alert WHERE status = '{status}'"
            ))
            .await;
        assert_eq!(stats["total"][col], n, "{status}");
    }

    // No alert ends without a person: every triaged alert names who, and every
    // closed one's hazard was closed by a staff re-check.
    assert_eq!(
        w.raw
            .scalar(
                "SELECT COUNT(*) FROM ai_alert WHERE status <> 'pending' AND triaged_by IS NULL"
            )
            .await,
        0
    );
    assert_eq!(
        w.raw
            .scalar(
                "SELECT COUNT(*) FROM ai_alert a JOIN hazard h ON h.id = a.hazard_id WHERE h.state = 'closed' \
                 AND NOT EXISTS (SELECT 1 FROM hazard_event e WHERE e.hazard_id = h.id \
                 AND e.action = 'recheck_pass' AND e.actor_name NOT LIKE '经营者%')"
            )
            .await,
        0
    );
}

pub async fn sampling_lifecycle(w: &World) {
    load_county(w).await;
    let app = TestApp::spawn(w).await;
    let food = app.login("a_food").await;
    let other = app.login("b_food").await;
    let public = app.anonymous();
    let firms = caterers(w).await;
    let today = today_cn();
    let year = today.year();

    // The console's vocabularies are the ones the server checks against.
    let terms = food.get("/api/v1/food/terms").await.ok();
    let categories = codes(&terms, "categories");
    assert_eq!(categories.len(), food_sample::CATEGORIES.len());
    assert!(categories.contains(&"pastry".to_owned()));
    assert_eq!(
        codes(&terms, "place_kinds").len(),
        food_sample::PLACE_KINDS.len()
    );
    assert_eq!(codes(&terms, "disposals"), ["notice", "recall", "case"]);
    assert!(codes(&terms, "violations").contains(&"rodent".to_owned()));
    assert_eq!(public.get("/api/v1/food/terms").await.status, 401);

    // Plans.
    let r = food
        .post(
            "/api/v1/sample-plans",
            &json!({"year": year, "name": " ", "target": 0}),
        )
        .await;
    let fields: Vec<&str> = r.json["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "target"]);
    let plan = food
        .post(
            "/api/v1/sample-plans",
            &json!({"year": year, "name": format!("{year}年食品安全监督抽检计划"), "target": 10}),
        )
        .await
        .ok();
    let plan_id = plan["id"].as_i64().unwrap();

    // Samples: field errors, then three numbered in order.
    let r = food
        .post(
            "/api/v1/samples",
            &json!({"plan_id": plan_id, "product": "挂面", "category": "noodle", "producer_name": "某某面业",
                    "seller_uscc": "91331023MA2AXXXXX1", "place_kind": "market",
                    "sampled_on": today + Duration::days(1)}),
        )
        .await;
    let fields: Vec<&str> = r.json["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.starts_with(&["category", "sampled_on"]) && fields.contains(&"seller_uscc"),
        "{fields:?}"
    );
    let mut ids = Vec::new();
    for (product, category) in [("鸡蛋挂面", "grain"), ("卤牛肉", "meat"), ("韭菜", "agri")]
    {
        let s = food
            .post(
                "/api/v1/samples",
                &json!({"plan_id": plan_id, "product": product, "category": category, "spec": "500g/袋",
                        "batch_no": "20261101", "produced_on": today - Duration::days(20),
                        "producer_name": "浙江某某食品有限公司", "producer_address": "浙江省台州市",
                        "seller_uscc": firms[0][0], "place_kind": "catering", "lab": "台州市食品药品检验研究院"}),
            )
            .await
            .ok();
        assert_eq!(s["state"], "sampled");
        ids.push((
            s["id"].as_i64().unwrap(),
            s["sample_no"].as_str().unwrap().to_owned(),
        ));
    }
    assert!(
        ids[0].1.starts_with(&format!("CJ{year}")) && ids[0].1.ends_with("00001"),
        "{}",
        ids[0].1
    );
    assert!(ids[2].1.ends_with("00003"));
    assert_eq!(other.get("/api/v1/samples").await.ok()["total"], 0);
    assert_eq!(
        other
            .get(&format!("/api/v1/samples/{}", ids[0].0))
            .await
            .status,
        404
    );
    let plans = food
        .get(&format!("/api/v1/sample-plans?year={year}"))
        .await
        .ok();
    assert_eq!(plans["items"][0]["taken"], 3);

    // Results: judged against the limits; the lab's verdict must agree, and is
    // needed where the limit cannot be read.
    let results = |id: i64| format!("/api/v1/samples/{id}/results");
    let passed = food
        .post(
            &results(ids[0].0),
            &json!({"results": [
                {"item": "铅(以Pb计)", "value": "0.05", "unit": "mg/kg", "limit": "≤0.2", "standard": "GB 2762-2022"},
                {"item": "沙门氏菌", "value": "未检出", "limit": "不得检出", "standard": "GB 29921-2021"},
            ]}),
        )
        .await
        .ok();
    assert_eq!(passed["sample"]["state"], "passed");
    let bad = json!({"results": [
        {"item": "亚硝酸盐(以NaNO2计)", "value": "38", "unit": "mg/kg", "limit": "≤30", "standard": "GB 2760-2024", "pass": true},
        {"item": "感官", "value": "有异味", "limit": "应符合要求", "standard": "GB 2726-2016"},
    ]});
    let r = food.post(&results(ids[1].0), &bad).await;
    let errs: Vec<(String, String)> = r.json["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap().to_owned(),
                f["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        errs,
        [
            (
                "results[0].pass".to_owned(),
                "sample_judgement_mismatch".to_owned()
            ),
            (
                "results[1].pass".to_owned(),
                "sample_judgement_required".to_owned()
            )
        ]
    );
    let failed = food
        .post(
            &results(ids[1].0),
            &json!({"results": [
                {"item": "亚硝酸盐(以NaNO2计)", "value": "38", "unit": "mg/kg", "limit": "≤30", "standard": "GB 2760-2024"},
                {"item": "感官", "value": "无异味", "limit": "应符合要求", "standard": "GB 2726-2016", "pass": true},
            ]}),
        )
        .await
        .ok();
    assert_eq!(failed["sample"]["state"], "failed");
    let r = food.post(&results(ids[1].0), &bad).await;
    assert_eq!((r.status, r.code()), (422, "sample_state"));

    // Disposal: a failed sample closes only after a disposal step, by a person, with a note.
    let act = |id: i64| format!("/api/v1/samples/{id}/actions");
    let r = food
        .post(&act(ids[1].0), &json!({"action": "close", "note": "完毕"}))
        .await;
    assert_eq!((r.status, r.code()), (422, "sample_disposal_required"));
    let r = food
        .post(&act(ids[1].0), &json!({"action": "notice"}))
        .await;
    assert_eq!(
        (r.status, r.json["fields"][0]["field"].as_str()),
        (422, Some("note"))
    );
    food.post(
        &act(ids[1].0),
        &json!({"action": "notice", "note": "已送达检验报告", "ref_no": "天市监食检〔2026〕12号"}),
    )
    .await
    .ok();
    let r = food
        .post(
            &act(ids[1].0),
            &json!({"action": "case", "note": "超范围使用食品添加剂"}),
        )
        .await;
    assert_eq!(
        (r.status, r.json["fields"][0]["field"].as_str()),
        (422, Some("ref_no"))
    );
    food.post(
        &act(ids[1].0),
        &json!({"action": "case", "note": "立案调查", "ref_no": "天市监立〔2026〕88号"}),
    )
    .await
    .ok();
    let r = food.post(&act(ids[1].0), &json!({"action": "close"})).await;
    assert_eq!(
        (r.status, r.json["fields"][0]["field"].as_str()),
        (422, Some("note"))
    );
    let closed = food
        .post(
            &act(ids[1].0),
            &json!({"action": "close", "note": "问题产品已下架销毁，已罚款"}),
        )
        .await
        .ok();
    assert_eq!(closed["sample"]["state"], "closed");
    let actions: Vec<&str> = closed["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["sample", "results", "notice", "case", "close"]);
    let r = food
        .post(&act(ids[0].0), &json!({"action": "recall", "note": "x"}))
        .await;
    assert_eq!((r.status, r.code()), (422, "sample_state"));

    // Publication, and the public list without anything personal or internal.
    let publish = |id: i64| format!("/api/v1/samples/{id}/publish");
    let r = food.post(&publish(ids[2].0), &json!({})).await;
    assert_eq!((r.status, r.code()), (422, "sample_no_results"));
    assert_eq!(
        public.get("/api/public/v1/food-samples").await.ok()["total"],
        0
    );
    food.post(&publish(ids[0].0), &json!({})).await.ok();
    food.post(&publish(ids[1].0), &json!({})).await.ok();
    let r = food.post(&publish(ids[1].0), &json!({})).await;
    assert_eq!((r.status, r.code()), (422, "sample_published"));
    let list = public.get("/api/public/v1/food-samples").await.ok();
    assert_eq!(list["total"], 2);
    let bad_list = public
        .get("/api/public/v1/food-samples?failed=true")
        .await
        .ok();
    assert_eq!(bad_list["total"], 1);
    let item = &bad_list["items"][0];
    assert_eq!(
        (item["product"].as_str(), item["conclusion"].as_str()),
        (Some("卤牛肉"), Some("不合格"))
    );
    assert_eq!(item["failed_items"].as_array().unwrap().len(), 1);
    assert_eq!(item["failed_items"][0]["value"], "38");
    let text = list.to_string();
    assert_nothing_personal(&text, &firms[0]);
    assert!(!text.contains("a_food") && !text.contains("sampled_by"));
    let page = public
        .get("/p/food-samples?q=%E5%8D%A4%E7%89%9B%E8%82%89")
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("卤牛肉") && page.text.contains("亚硝酸盐"),
        "{}",
        page.text
    );
    assert!(!page.text.contains("鸡蛋挂面"));

    // Figures, against a recount in SQL.
    let stats = food
        .get(&format!(
            "/api/v1/samples/stats?from={year}-01-01&to={today}"
        ))
        .await
        .ok();
    let t = &stats["total"];
    assert_eq!(
        (
            &t["taken"],
            &t["tested"],
            &t["failed"],
            &t["open"],
            &t["published"],
            &t["failure_rate"]
        ),
        (
            &json!(3),
            &json!(2),
            &json!(1),
            &json!(0),
            &json!(2),
            &json!(0.5)
        )
    );
    assert_eq!(
        w.raw
            .scalar(
                "SELECT COUNT(*) FROM food_sample WHERE state IN ('failed', 'disposing', 'closed')"
            )
            .await,
        1
    );
    assert_eq!(stats["by_category"].as_array().unwrap().len(), 3, "{stats}");
}

/// The demo's year of alerts and samples is consistent with the rules: every
/// triaged alert names its person, every closed one was re-checked by staff,
/// every closed failed sample had a disposal step; and it is made once.
pub async fn demo_food_year(w: &World) {
    load_county(w).await;
    let app = &w.app;
    let food = app
        .load_demo_food("331023", "a_admin", 5, 12, 14)
        .await
        .unwrap();
    assert!(food.cameras >= 12);
    let made = app
        .load_demo_food_checks("331023", "a_admin", 5, 150)
        .await
        .unwrap();
    assert!(
        made.alerts > 20 && made.confirmed > 0 && made.dismissed > 0,
        "{made:?}"
    );
    assert_eq!(made.samples, 150);
    let again = app
        .load_demo_food_checks("331023", "a_admin", 5, 150)
        .await
        .unwrap();
    assert_eq!((again.alerts, again.samples), (0, 0));
    let scalar = |sql: &'static str| async move { w.raw.scalar(sql).await };
    assert_eq!(
        scalar("SELECT COUNT(*) FROM ai_alert").await,
        made.alerts as i64
    );
    assert!(scalar("SELECT COUNT(*) FROM ai_alert WHERE repeats > 1").await > 0);
    assert_eq!(
        scalar("SELECT COUNT(*) FROM ai_alert WHERE status = 'confirmed' AND hazard_id IS NULL")
            .await,
        0
    );
    assert_eq!(
        scalar("SELECT COUNT(*) FROM ai_alert WHERE status <> 'pending' AND triaged_by IS NULL")
            .await,
        0
    );
    assert_eq!(
        scalar(
            "SELECT COUNT(*) FROM ai_alert a JOIN hazard h ON h.id = a.hazard_id WHERE h.state = 'closed' \
             AND NOT EXISTS (SELECT 1 FROM hazard_event e WHERE e.hazard_id = h.id \
             AND e.action = 'recheck_pass' AND e.actor_name NOT LIKE '经营者%')"
        )
        .await,
        0
    );
    assert_eq!(
        scalar(
            "SELECT COUNT(*) FROM food_sample s WHERE s.state = 'closed' AND NOT EXISTS \
             (SELECT 1 FROM sample_event e WHERE e.sample_id = s.id AND e.action IN ('notice', 'recall', 'case'))"
        )
        .await,
        0
    );
    assert_eq!(
        scalar(
            "SELECT COUNT(*) FROM food_sample s WHERE s.state <> 'sampled' AND NOT EXISTS \
             (SELECT 1 FROM sample_result r WHERE r.sample_id = s.id)"
        )
        .await,
        0
    );
    // A sample fails exactly when one of its results does.
    assert_eq!(
        scalar(
            "SELECT COUNT(*) FROM food_sample s WHERE (s.state IN ('failed', 'disposing', 'closed')) <> \
             EXISTS (SELECT 1 FROM sample_result r WHERE r.sample_id = s.id AND r.pass = FALSE) \
             AND s.state <> 'sampled'"
        )
        .await,
        0
    );
    assert!(scalar("SELECT COUNT(*) FROM food_sample WHERE published_on IS NOT NULL").await > 100);
}
