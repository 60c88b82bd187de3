//! Complaints and reports on both backends over a generated county: intake
//! from the public, staff and Open311; routing; masking on every output;
//! merging of repeats and abuse flags; the workflow with deadlines, extensions,
//! pauses and transfers; rule sets by date of receipt; pledges; and a year of
//! generated cases whose figures must equal an independent recount.
use crate::http::{Client, TestApp};
use crate::inspection::load_county;
use crate::World;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const PHONE: &str = "13905761234";
const NAME: &str = "陈晓东";

fn assert_no_personal(text: &str) {
    for needle in [PHONE, NAME, "晓东", "330"] {
        assert!(!text.contains(needle), "{needle} leaked in {text}");
    }
}

async fn unit_of(w: &World, username: &str) -> i64 {
    w.raw
        .scalar(&format!(
            "SELECT unit_id FROM app_user WHERE username = '{username}'"
        ))
        .await
}

async fn firm_in(w: &World, unit: i64) -> String {
    w.raw.text(
        &format!(
            "SELECT uscc FROM entity WHERE unit_id = {unit} AND uscc IS NOT NULL ORDER BY id LIMIT 1"
        ),
    )
    .await
}

async fn act(c: &Client, id: i64, body: Value) -> crate::http::Resp {
    c.post(&format!("/api/v1/complaints/{id}/actions"), &body)
        .await
}

pub async fn complaint_workflow(w: &World) {
    load_county(w).await;
    let app = TestApp::spawn(w).await;
    let public = app.anonymous();
    let admin = app.login("a_admin").await;
    let leader = app.login("a_leader").await;
    let food = app.login("a_food").await;
    let ins1 = app.login("a_inspector1").await;
    let ins2 = app.login("a_inspector2").await;
    let office1 = unit_of(w, "a_inspector1").await;
    let office2 = unit_of(w, "a_inspector2").await;
    let firm = firm_in(w, office1).await;

    // Public intake: routed to the office holding the respondent, with a receipt.
    let form = json!({"kind": "complaint", "respondent_uscc": firm, "category": "food",
        "description": "外卖餐品中发现异物，商家不予处理。", "amount_involved": 58.5,
        "complainant_name": NAME, "complainant_phone": PHONE,
        "complainant_id_number": "330102199001011235"});
    let r = public.post("/api/public/v1/complaints", &form).await;
    // The ID number above fails its check digit: a field error, nothing stored.
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.json["fields"][0]["field"], "complainant_id_number");
    let mut form = form;
    form.as_object_mut()
        .unwrap()
        .remove("complainant_id_number");
    let intake = public.post("/api/public/v1/complaints", &form).await.ok();
    let receipt = intake["receipt"].as_str().unwrap().to_owned();
    let id = intake["id"].as_i64().unwrap();
    assert_eq!(receipt.len(), 14);
    assert_eq!(intake["state"], "received");
    assert!(intake["due_on"].is_string() || intake["due_uncertain"] == true);
    let office1_name = w
        .raw
        .text(&format!("SELECT name FROM unit WHERE id = {office1}"))
        .await;
    assert_eq!(intake["unit_name"], office1_name.as_str());

    // Clear errors: a complaint needs a phone; a credit code must check.
    let r = public
        .post(
            "/api/public/v1/complaints",
            &json!({"respondent_uscc": "91331023MA2AXXXXX1", "category": "food",
                "description": "商品有问题，要求退货。", "complainant_name": "张三"}),
        )
        .await;
    assert_eq!(r.status, 422);
    let fields: Vec<&str> = r.json["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"complainant_phone") && fields.contains(&"respondent_uscc"));

    // The receipt page shows the status and never the complainant.
    let lookup = receipt.to_lowercase().replace('-', "");
    let r = public
        .get(&format!("/api/public/v1/complaints/{lookup}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["state"], "received");
    assert_no_personal(&r.text);
    let page = public.get(&format!("/complaint/{receipt}")).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("待处理"));
    assert_no_personal(&page.text);
    assert_eq!(
        public
            .get("/api/public/v1/complaints/ABCD-EFGH-JKMN")
            .await
            .status,
        404
    );

    // The same person about the same matter again: merged into the first.
    let again = public.post("/api/public/v1/complaints", &form).await.ok();
    assert_eq!(again["state"], "merged");
    assert_eq!(again["merged_into"], id);

    // Masking: lists are masked for everyone; the detail only for the handler.
    let list = ins1.get("/api/v1/complaints?open=1").await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert!(list.text.contains(&receipt));
    assert_no_personal(&list.text);
    assert!(list.text.contains("139****1234"));
    let d = ins1.get(&format!("/api/v1/complaints/{id}")).await.ok();
    assert_eq!(d["complainant_phone"], PHONE);
    assert_eq!(d["masked"], false);
    let d = leader.get(&format!("/api/v1/complaints/{id}")).await;
    assert_eq!(d.status, 200);
    assert_no_personal(&d.text);
    let d = admin.get(&format!("/api/v1/complaints/{id}")).await.ok();
    assert_eq!(d["complainant_phone"], PHONE);
    // Another office does not see it at all.
    assert_eq!(
        ins2.get(&format!("/api/v1/complaints/{id}")).await.status,
        404
    );
    let audit = admin.get("/api/v1/system/audit?per_page=200").await;
    assert!(!audit.text.contains(PHONE), "a phone reached the audit log");

    // The workflow: accept → agreement → follow-up → closed.
    let c = act(&ins1, id, json!({"action": "accept"})).await.ok();
    assert_eq!(c["state"], "accepted");
    assert_eq!(c["step"], "mediate");
    let r = act(&ins1, id, json!({"action": "open_case"})).await;
    assert_eq!(r.code(), "complaint_state");
    let c = act(
        &ins1,
        id,
        json!({"action": "agree", "recovered": 128.5, "reply": "商家退还餐费并赔偿"}),
    )
    .await
    .ok();
    assert_eq!(c["state"], "decided");
    assert_eq!(c["amount_recovered"], 12850);
    let r = act(&ins1, id, json!({"action": "close"})).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json["fields"][0]["field"], "satisfaction");
    let c = act(
        &ins1,
        id,
        json!({"action": "close", "satisfaction": "satisfied"}),
    )
    .await
    .ok();
    assert_eq!(c["state"], "closed");
    assert_eq!(c["late"], false);
    let r = act(&ins1, id, json!({"action": "accept"})).await;
    assert_eq!(r.status, 422);
    let r = public
        .get(&format!("/api/public/v1/complaints/{receipt}"))
        .await
        .ok();
    assert_eq!(r["state"], "closed");
    assert_eq!(r["outcome_label"], "调解成功");
    assert_eq!(r["steps"].as_array().unwrap().len(), 4);

    // Staff entry of a report received on a past day: extension and pause
    // need an approver (the leader), once per step, with a reason.
    let rep = food
        .post(
            "/api/v1/complaints",
            &json!({"kind": "report", "channel": "hotline", "received_on": "2026-09-30",
                "respondent_uscc": firm, "category": "licensing",
                "description": "该店无证经营熟食。"}),
        )
        .await
        .ok();
    let rid = rep["id"].as_i64().unwrap();
    // 15 working days from 2026-09-30 across the National Day break.
    assert_eq!(rep["due_on"], "2026-10-27");
    let r = act(
        &ins1,
        rid,
        json!({"action": "extend", "days": 15, "note": "案情复杂"}),
    )
    .await;
    assert_eq!(r.status, 403);
    let r = act(&leader, rid, json!({"action": "extend", "days": 15})).await;
    assert_eq!(r.json["fields"][0]["field"], "note");
    let c = act(
        &leader,
        rid,
        json!({"action": "extend", "days": 15, "note": "需检验检测"}),
    )
    .await
    .ok();
    assert_eq!(c["due_on"], "2026-11-17");
    let r = act(
        &leader,
        rid,
        json!({"action": "extend", "days": 5, "note": "再延"}),
    )
    .await;
    assert_eq!(r.code(), "complaint_extended");
    let d = food.get(&format!("/api/v1/complaints/{rid}")).await.ok();
    assert!(d["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "extend" && e["actor_name"] == "a_leader"));
    let c = act(
        &leader,
        rid,
        json!({"action": "pause", "note": "等待检验报告"}),
    )
    .await
    .ok();
    assert!(c["paused_on"].is_string());
    let r = act(&food, rid, json!({"action": "accept"})).await;
    assert_eq!(r.code(), "complaint_paused");
    act(&leader, rid, json!({"action": "resume"})).await.ok();
    // Transfer with a reason, kept in the history.
    let r = act(
        &food,
        rid,
        json!({"action": "transfer", "to_unit": office2}),
    )
    .await;
    assert_eq!(r.json["fields"][0]["field"], "note");
    let c = act(
        &food,
        rid,
        json!({"action": "transfer", "to_unit": office2, "note": "经营场所属另一所辖区"}),
    )
    .await
    .ok();
    assert_eq!(c["unit_id"], office2);
    let d = ins2.get(&format!("/api/v1/complaints/{rid}")).await.ok();
    let t = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "transfer")
        .unwrap()
        .clone();
    assert_eq!(
        (t["from_unit"].as_i64(), t["to_unit"].as_i64()),
        (Some(office1), Some(office2))
    );
    assert_eq!(
        ins1.get(&format!("/api/v1/complaints/{rid}")).await.status,
        404
    );
    // Overdue lists: the report's due date passed (2026-11-17 < today).
    let over = food.get("/api/v1/complaints?overdue=1").await.ok();
    assert!(over["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == rid && c["overdue"] == true));

    // Each case keeps the rule set in force on the day it was received.
    for (day, set, due) in [
        ("2026-04-14", "samr-20-2022", "2026-04-23"),
        ("2026-04-15", "samr-121-2026", "2026-04-24"),
        // Friday before the 2025 National Day break: 9-28 (Sunday, worked), 29,
        // 30, 10-09, 10, 11 (Saturday, worked), 13.
        ("2025-09-26", "samr-20-2022", "2025-10-13"),
        ("2026-09-30", "samr-121-2026", "2026-10-15"),
    ] {
        let d = food
            .get(&format!("/api/v1/complaints/deadline?received_on={day}"))
            .await
            .ok();
        assert_eq!(
            (
                d["rule_set"].as_str().unwrap(),
                d["due_on"].as_str().unwrap()
            ),
            (set, due),
            "{day}"
        );
    }
    let c = food
        .post(
            "/api/v1/complaints",
            &json!({"received_on": "2026-04-14", "respondent_name": "某某便利店", "category": "price",
                "description": "标价与结账价格不一致。", "complainant_name": "李四", "complainant_phone": "13800001111"}),
        )
        .await
        .ok();
    let old_case = c["id"].as_i64().unwrap();
    assert_eq!(c["due_on"], "2026-04-23");
    // A year with no schedule is an explicit error, never a guess (the test
    // world enters the years up to next year: see `stand_in_schedules`).
    let r = food
        .get("/api/v1/complaints/deadline?received_on=2199-12-28")
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.code(), "calendar_year_missing");

    // Rule sets: Order 121's periods are editable until verified; Order 20's are not.
    let rules = admin.get("/api/v1/complaint-rules").await.ok();
    let mut r121 = rules["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "samr-121-2026")
        .unwrap()
        .clone();
    r121["periods"]["accept"] = json!(5);
    assert_eq!(
        admin.put("/api/v1/complaint-rules", &r121).await.status,
        204
    );
    let d = food
        .get("/api/v1/complaints/deadline?received_on=2026-09-30")
        .await
        .ok();
    assert_eq!(d["due_on"], "2026-10-13");
    let mut r20 = rules["items"][0].clone();
    r20["periods"]["accept"] = json!(3);
    let r = admin.put("/api/v1/complaint-rules", &r20).await;
    assert_eq!(r.code(), "complaint_rule_verified");
    let c = food
        .get(&format!("/api/v1/complaints/{old_case}"))
        .await
        .ok();
    assert_eq!(c["rule_set"], "samr-20-2022");

    // A merchant on a platform without a registered address goes to the
    // platform's jurisdiction.
    assert_eq!(
        admin
            .put(
                "/api/v1/complaint-platforms",
                &json!({"name": "某外卖平台", "unit_id": office2})
            )
            .await
            .status,
        204
    );
    let r = public
        .post(
            "/api/public/v1/complaints",
            &json!({"respondent_name": "网店小王烧烤", "platform": "某外卖平台", "category": "food",
                "description": "外卖烧烤不熟，平台客服不处理。", "complainant_name": "王五",
                "complainant_phone": "13700002222"}),
        )
        .await
        .ok();
    let office2_name = w
        .raw
        .text(&format!("SELECT name FROM unit WHERE id = {office2}"))
        .await;
    assert_eq!(r["unit_name"], office2_name.as_str());
    let d = ins2
        .get(&format!("/api/v1/complaints/{}", r["id"]))
        .await
        .ok();
    // A name-only respondent: candidates from the register for a person to confirm.
    assert!(d["candidates"].is_array());

    // Someone filing against many businesses is flagged for review, never rejected.
    // Repeats about one matter are merged and do not count; ten different shops do.
    let firms: Vec<String> = (0..10).map(|i| format!("测试商户{i}号店")).collect();
    for (i, f) in firms.iter().enumerate() {
        let r = public
            .post(
                "/api/public/v1/complaints",
                &json!({"respondent_name": f, "category": "advertising",
                    "description": format!("第{i}次：虚假宣传，要求三倍赔偿。"),
                    "complainant_name": "赵六", "complainant_phone": "13600003333"}),
            )
            .await
            .ok();
        assert_ne!(r["state"], "closed");
    }
    let flagged = admin.get("/api/v1/complaints?flagged=1").await.ok();
    assert_eq!(flagged["total"].as_i64().unwrap(), 10, "{flagged}");
    assert!(flagged["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["state"] == "received"));

    // Pledges show on the public merchant page.
    let r = food
        .put(
            &format!("/api/v1/entities/{firm}/pledges/odr"),
            &json!({"since": "2026-01-01"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let m = public
        .get(&format!("/api/public/v1/merchants/{firm}"))
        .await
        .ok();
    assert_eq!(m["pledges"][0]["kind"], "odr");
    let shop = public.get(&format!("/m/{firm}")).await;
    assert!(
        shop.text.contains("放心消费承诺")
            && shop.text.contains(&format!("/complaint?uscc={firm}"))
    );

    import_12315(w, &food).await;
    open311(w, &app, &admin).await;
}

/// A GBK export of the 12315 platform: good rows kept, bad rows reported by
/// row and column, a second import changes nothing.
async fn import_12315(w: &World, food: &Client) {
    let firm = firm_in(w, unit_of(w, "a_inspector2").await).await;
    let csv = format!(
        "登记编号,类型,登记时间,投诉人,联系电话,被投诉人,统一社会信用代码,问题类别,网络交易平台,涉及金额,投诉内容\r\n\
         12315-2026-0001,投诉,2026-11-02 09:12:00,钱七,13911112222,某某面馆,{firm},食品,美团,\"1,280.00\",面条里有虫子要求退款\r\n\
         12315-2026-0002,举报,2026/11/03,,,某超市,,虚假广告,,,宣传最低价与实际不符\r\n\
         12315-2026-0003,投诉,2026-11-04,孙八,13911114444,某药店,,药品,,abc,买到过期药品\r\n\
         ,投诉,2026-11-05,周九,13911113333,某店,,服务,,,没有编号的一行\r\n\
         12315-2026-0004,投诉,2026-11-06,吴十,12,某店,,服务,,,电话号码不对的一行\r\n"
    );
    let (gbk, _, bad) = encoding_rs::GBK.encode(&csv);
    assert!(!bad);
    let r = food
        .post_bytes("/api/v1/complaints/import", gbk.to_vec())
        .await
        .ok();
    assert_eq!(
        (
            r["rows"].as_i64(),
            r["created"].as_i64(),
            r["failed"].as_i64()
        ),
        (Some(5), Some(2), Some(3)),
        "{r}"
    );
    let errors = r["errors"].as_array().unwrap();
    let cols: Vec<(i64, &str)> = errors
        .iter()
        .map(|e| (e["row_no"].as_i64().unwrap(), e["column"].as_str().unwrap()))
        .collect();
    assert_eq!(cols, [(4, "涉及金额"), (5, "登记编号"), (6, "联系电话")]);
    let again = food
        .post_bytes("/api/v1/complaints/import", gbk.to_vec())
        .await
        .ok();
    assert_eq!(
        (again["created"].as_i64(), again["skipped"].as_i64()),
        (Some(0), Some(2)),
        "{again}"
    );
    let c = food.get("/api/v1/complaints?q=12315-2026-0001").await.ok();
    let c = &c["items"][0];
    assert_eq!(c["channel"], "platform");
    assert_eq!(c["category"], "food");
    assert_eq!(c["amount_involved"], 128000);
    assert_eq!(c["received_on"], "2026-11-02");
    assert_eq!(
        c["unit_id"].as_i64(),
        Some(unit_of(w, "a_inspector2").await)
    );
    let r = food.get("/api/v1/complaints?q=12315-2026-0002").await.ok();
    assert_eq!(r["items"][0]["category"], "advertising");
    assert_eq!(r["items"][0]["kind"], "report");
}

async fn open311(w: &World, app: &TestApp, admin: &Client) {
    let services = app.anonymous().get("/open311/v2/services.json").await.ok();
    let list = services.as_array().unwrap();
    assert!(list.len() > 20);
    for s in list {
        for key in [
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group",
        ] {
            assert!(s.get(key).is_some(), "{key} missing in {s}");
        }
        assert_eq!(s["type"], "realtime");
    }
    let def = app
        .anonymous()
        .get("/open311/v2/services/complaint.food.json")
        .await
        .ok();
    assert_eq!(def["service_code"], "complaint.food");
    assert!(def["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["variable"] == true && a["code"].is_string()));
    let firm = firm_in(w, unit_of(w, "a_inspector1").await).await;
    let http = reqwest::Client::new();
    let post = |key: Option<String>| {
        let mut form = vec![
            ("service_code", "complaint.product_quality".to_owned()),
            (
                "description",
                "购买的电热水壶漏电，商家拒绝退货。".to_owned(),
            ),
            ("first_name", "晓明".to_owned()),
            ("last_name", "周".to_owned()),
            ("phone", "13500004444".to_owned()),
            ("lat", "29.14".to_owned()),
            ("long", "121.00".to_owned()),
            ("attribute[respondent_uscc]", firm.clone()),
        ];
        if let Some(k) = key {
            form.push(("api_key", k));
        }
        http.post(app.url("/open311/v2/requests.json"))
            .form(&form)
            .send()
    };
    let r = post(None).await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body[0]["code"], 401);
    let token = admin
        .post(
            "/api/v1/system/tokens",
            &json!({"name": "12345 热线", "permissions": ["complaint:create", "complaint:list"], "expires_in_days": 30}),
        )
        .await
        .ok();
    let key = token["secret"].as_str().unwrap().to_owned();
    let r = post(Some(key.clone())).await.unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    let sr = body[0]["service_request_id"].as_str().unwrap().to_owned();
    let one = app
        .anonymous()
        .get(&format!("/open311/v2/requests/{sr}.json"))
        .await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json[0]["status"], "open");
    assert_eq!(one.json[0]["service_code"], "complaint.product_quality");
    assert!(!one.text.contains("13500004444") && !one.text.contains("晓明"));
    let all = app
        .anonymous()
        .get(&format!(
            "/open311/v2/requests.json?api_key={key}&status=open"
        ))
        .await
        .ok();
    assert!(all
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["service_request_id"] == sr.as_str()));
    let bad = http
        .post(app.url("/open311/v2/requests.json"))
        .form(&[("api_key", key.as_str()), ("service_code", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

/// A county's year of generated cases: the figures equal a recount of the
/// rows, and the generator's own tally.
pub async fn generated_year_of_complaints(w: &World) {
    load_county(w).await;
    let year = w
        .app
        .load_demo_complaints(
            "331023",
            "a_admin",
            7,
            hongdun_app::gen::complaints::CASES_PER_YEAR,
        )
        .await
        .unwrap();
    assert_eq!(year.cases, hongdun_app::gen::complaints::CASES_PER_YEAR);
    assert!(year.closed > year.cases * 8 / 10, "{year:?}");
    let app = TestApp::spawn(w).await;
    let admin = app.login("a_admin").await;
    let today = hongdun_app::inspection::today_cn();
    let from = today - chrono::Days::new(400);
    let stats = |by: &str| {
        let admin = &admin;
        let by = by.to_owned();
        async move {
            admin
                .get(&format!(
                    "/api/v1/complaints/stats?from={from}&to={today}&by={by}"
                ))
                .await
                .ok()
        }
    };
    // Independent recount from the rows.
    let rows = w
        .raw
        .rows(
            "SELECT CAST(unit_id AS TEXT), state, COALESCE(CAST(accepted_on AS TEXT), ''), \
             CASE WHEN late THEN '1' ELSE '0' END, CAST(amount_recovered AS TEXT), \
             CAST(received_on AS TEXT) FROM complaint WHERE state <> 'merged'",
        )
        .await;
    let mut by_unit: BTreeMap<String, (i64, i64, i64, i64, i64)> = BTreeMap::new();
    let mut by_month: BTreeMap<String, i64> = BTreeMap::new();
    for r in &rows {
        let e = by_unit.entry(r[0].clone()).or_default();
        e.0 += 1;
        e.1 += i64::from(!r[2].is_empty());
        let closed = r[1] == "closed";
        e.2 += i64::from(closed);
        e.3 += i64::from(closed && r[3] == "0");
        e.4 += r[4].parse::<i64>().unwrap();
        *by_month.entry(r[5][..7].to_owned()).or_default() += 1;
    }
    let s = stats("unit").await;
    let got: BTreeMap<String, (i64, i64, i64, i64, i64)> = s["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_owned(),
                (
                    r["received"].as_i64().unwrap(),
                    r["accepted"].as_i64().unwrap(),
                    r["closed"].as_i64().unwrap(),
                    r["closed_on_time"].as_i64().unwrap(),
                    r["recovered"].as_i64().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(got, by_unit);
    // And the generator's own tally.
    let t = &s["total"];
    assert_eq!(
        t["received"].as_i64().unwrap() as usize,
        year.cases - year.merged
    );
    assert_eq!(t["closed"].as_i64().unwrap() as usize, year.closed);
    assert_eq!(t["accepted"].as_i64().unwrap() as usize, year.accepted);
    assert_eq!(t["recovered"].as_i64().unwrap(), year.recovered);
    let want_units: BTreeMap<String, i64> = year
        .by_unit
        .iter()
        .map(|(k, v)| (k.to_string(), *v as i64))
        .collect();
    let got_units: BTreeMap<String, i64> = got.iter().map(|(k, v)| (k.clone(), v.0)).collect();
    assert_eq!(got_units, want_units);
    let m = stats("month").await;
    let got_month: BTreeMap<String, i64> = m["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_owned(),
                r["received"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got_month, by_month);
    let rate = t["closure_rate"].as_f64().unwrap();
    assert!((rate - year.closed as f64 / (year.cases - year.merged) as f64).abs() < 1e-9);
    // The CSV export carries the same total.
    let csv = admin
        .get(&format!(
            "/api/v1/complaints/stats.csv?from={from}&to={today}&by=category"
        ))
        .await;
    assert!(csv.text.starts_with('\u{feff}'));
    assert!(csv
        .text
        .lines()
        .last()
        .unwrap()
        .starts_with(&format!("\"合计\",{}", t["received"])));
    // No complainant's phone reaches a list.
    let list = admin.get("/api/v1/complaints?per_page=500").await;
    assert!(!list.text.contains("\"1990"));
}
