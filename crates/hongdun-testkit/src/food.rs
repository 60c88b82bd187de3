//! 食安在线 on both backends over a generated county: delivery seals (issue,
//! print, bind, scan, break, warnings, figures, key rotation, forged codes
//! refused without the database) and sunshine kitchens (cameras, heartbeats,
//! online rates equal to an independent recount from the raw beats, coverage,
//! the public page).
use crate::http::{Client, TestApp};
use crate::inspection::load_county;
use crate::World;
use chrono::{Duration, NaiveDate, Utc};
use hongdun_core::kitchen;
use hongdun_core::seal::{seal_code, SealKey};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};

/// Two catering businesses of county a with a credit code, and one
/// operator's personal data to look for in public answers.
pub(crate) async fn caterers(w: &World) -> Vec<Vec<String>> {
    w.raw
        .rows(
            "SELECT uscc, name, legal_rep, phone, id_number FROM entity WHERE industry LIKE 'H62%' \
             AND status = 'active' AND uscc IS NOT NULL AND unit_id IS NOT NULL \
             AND county_code = '331023' ORDER BY id LIMIT 2",
        )
        .await
}

pub(crate) fn assert_nothing_personal(text: &str, firm: &[String]) {
    for needle in [&firm[2], &firm[3], &firm[4]] {
        if needle.chars().count() >= 2 {
            assert!(!text.contains(needle.as_str()), "{needle} leaked in {text}");
        }
    }
}

pub(crate) async fn token(admin: &Client, perms: &[&str]) -> String {
    admin
        .post(
            "/api/v1/system/tokens",
            &json!({"name": "外卖平台接口", "permissions": perms, "expires_in_days": 30}),
        )
        .await
        .ok()["secret"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The bureau's current signing key, read from the database as an
/// attacker who stole it would.
async fn stolen_key(w: &World) -> SealKey {
    let hex = w
        .raw
        .text("SELECT secret FROM seal_key ORDER BY id DESC LIMIT 1")
        .await;
    let id = w
        .raw
        .scalar("SELECT CAST(MAX(id) AS BIGINT) FROM seal_key")
        .await as u8;
    let mut secret = [0u8; 32];
    for (i, b) in secret.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    SealKey::new(id, secret)
}

pub async fn seal_lifecycle(w: &World) {
    load_county(w).await;
    let app = TestApp::spawn(w).await;
    let public = app.anonymous();
    let admin = app.login("a_admin").await;
    let food = app.login("a_food").await;
    let firms = caterers(w).await;
    let firm = &firms[0];

    // Issue: clear errors first, then a batch of 30.
    let r = food
        .post(
            "/api/v1/seal-batches",
            &json!({"uscc": firm[0], "count": 0}),
        )
        .await;
    assert_eq!(
        (r.status, r.json["fields"][0]["field"].as_str()),
        (422, Some("count"))
    );
    let r = food
        .post(
            "/api/v1/seal-batches",
            &json!({"uscc": "91331023MA2AXXXXX1", "count": 5}),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let batch = food
        .post(
            "/api/v1/seal-batches",
            &json!({"uscc": firm[0], "count": 30, "note": "首批"}),
        )
        .await
        .ok();
    let batch_id = batch["id"].as_i64().unwrap();
    assert_eq!(batch["entity_name"], firm[1].as_str());
    let detail = food
        .get(&format!("/api/v1/seal-batches/{batch_id}"))
        .await
        .ok();
    let seals = detail["seals"].as_array().unwrap();
    assert_eq!(seals.len(), 30);
    let codes: Vec<String> = seals
        .iter()
        .map(|s| s["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.iter().collect::<HashSet<_>>().len(), 30);

    // The A4 sheet: 24 seals a page, QR codes pointing at /s/{code}.
    let sheet = food
        .get(&format!("/api/v1/seal-batches/{batch_id}/sheet.svg"))
        .await;
    assert_eq!(sheet.status, 200);
    assert_eq!(sheet.headers["content-type"], "image/svg+xml");
    assert_eq!(sheet.headers["x-total-pages"], "2");
    assert_eq!(sheet.text.matches("食安封签 · 开启即失效").count(), 24);
    assert!(sheet.text.contains(seals[0]["pretty"].as_str().unwrap()));
    let page2 = food
        .get(&format!("/api/v1/seal-batches/{batch_id}/sheet.svg?page=2"))
        .await;
    assert_eq!(page2.text.matches("食安封签 · 开启即失效").count(), 6);
    assert_eq!(
        food.get(&format!("/api/v1/seal-batches/{batch_id}/sheet.svg?page=3"))
            .await
            .status,
        400
    );

    // Scope: another county's staff do not see it; inspectors may not.
    let b_food = app.login("b_food").await;
    assert_eq!(
        b_food
            .get(&format!("/api/v1/seal-batches/{batch_id}"))
            .await
            .status,
        404
    );
    assert_eq!(b_food.get("/api/v1/seal-batches").await.ok()["total"], 0);
    let ins = app.login("a_inspector1").await;
    assert_eq!(ins.get("/api/v1/seal-batches").await.status, 403);

    // A consumer scans seal 1 (typed loosely: lower case, dashes).
    let loose = seals[0]["pretty"].as_str().unwrap().to_lowercase();
    let r = public.get(&format!("/api/public/v1/seals/{loose}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["state"], "unbound");
    assert_eq!(r.json["merchant"]["name"], firm[1].as_str());
    assert_eq!(r.json["merchant"]["uscc"], firm[0].as_str());
    assert_nothing_personal(&r.text, firm);

    // Forged and mistyped codes.
    let mut forged: Vec<char> = codes[1].chars().collect();
    // A symbol of the tag (the last symbol also holds a padding bit).
    forged[15] = if forged[15] == '0' { '1' } else { '0' };
    let forged: String = forged.into_iter().collect();
    let r = public.get(&format!("/api/public/v1/seals/{forged}")).await;
    assert_eq!((r.status, r.code()), (422, "seal_forged"), "{}", r.text);
    let r = public.get("/api/public/v1/seals/HELLO").await;
    assert_eq!(r.code(), "seal_malformed");
    let page = public.get(&format!("/s/{forged}")).await;
    assert_eq!(page.status, 422);
    assert!(page.text.contains("封签核验未通过"));

    // A platform binds seal 1 to an order; the same order again is fine; a
    // second order is refused and raises a warning.
    let platform = app.with_token(&token(&admin, &["food:seal:bind"]).await);
    let bind = |code: String, order: &'static str| {
        let platform = platform.clone();
        async move {
            platform
                .post(
                    &format!("/api/v1/seals/{code}/bind"),
                    &json!({"order_no": order, "platform": "美团外卖"}),
                )
                .await
        }
    };
    let used = bind(codes[0].clone(), "MT202611230001").await.ok();
    assert_eq!(used["order_no"], "MT202611230001");
    assert_eq!(bind(codes[0].clone(), "MT202611230001").await.status, 200);
    let r = bind(codes[0].clone(), "MT202611239999").await;
    assert_eq!((r.status, r.code()), (422, "seal_reused"), "{}", r.text);
    assert_eq!(bind(forged.clone(), "MT1").await.code(), "seal_forged");
    let r = platform
        .post(
            &format!("/api/v1/seals/{}/bind", codes[2]),
            &json!({"order_no": " "}),
        )
        .await;
    assert_eq!(r.json["fields"][0]["field"], "order_no");

    // Scanned again: sealed, with the platform, time and order tail.
    let r = public
        .get(&format!("/api/public/v1/seals/{}", codes[0]))
        .await
        .ok();
    assert_eq!(r["state"], "sealed");
    assert_eq!(r["platform"], "美团外卖");
    assert_eq!(r["order_tail"], "0001");
    assert!(r["sealed_at"].is_string());
    assert_eq!(r["scans_before"], 1);
    let page = public.get(&format!("/s/{}", codes[0])).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("正规封签") && page.text.contains(firm[1].as_str()));
    assert_nothing_personal(&page.text, firm);

    // Codes signed with our key but never issued: refused, warned.
    let key = stolen_key(w).await;
    let ghost = seal_code(&key, 999_999, 1);
    let r = public.get(&format!("/api/public/v1/seals/{ghost}")).await;
    assert_eq!(r.code(), "seal_not_issued", "{}", r.text);
    let beyond = seal_code(&key, batch_id as u32, 31);
    assert_eq!(
        public
            .get(&format!("/api/public/v1/seals/{beyond}"))
            .await
            .code(),
        "seal_not_issued"
    );

    // Seal 2 broken: one step files a complaint against the merchant.
    let r = public
        .post(
            &format!("/api/public/v1/seals/{}/broken", codes[1]),
            &json!({"name": "陈晓东", "phone": "13905761234", "note": "送到时封签已经撕开"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let receipt = r.json["receipt"].as_str().unwrap().to_owned();
    let case_id = r.json["id"].as_i64().unwrap();
    let row = &w
        .raw
        .rows(&format!(
            "SELECT c.channel, c.state, c.category, e.uscc FROM complaint c \
             JOIN entity e ON e.id = c.respondent_entity_id WHERE c.id = {case_id}"
        ))
        .await[0];
    assert_eq!(
        row,
        &vec![
            "seal".to_string(),
            "received".into(),
            "food".into(),
            firm[0].clone()
        ]
    );
    // It ends only when a person closes the complaint; the staff see it.
    let case = food
        .get(&format!("/api/v1/complaints/{case_id}"))
        .await
        .ok();
    assert!(
        case["case"]["description"]
            .as_str()
            .unwrap_or_default()
            .contains("封签")
            || case["description"]
                .as_str()
                .unwrap_or_default()
                .contains("封签"),
        "{case}"
    );
    let r = public
        .get(&format!("/api/public/v1/seals/{}", codes[1]))
        .await
        .ok();
    assert_eq!(r["state"], "broken");
    assert_eq!(
        w.raw
            .scalar(&format!(
                "SELECT case_id FROM seal_use WHERE batch_id = {batch_id} AND serial = 2"
            ))
            .await,
        case_id
    );
    let receipt_page = public.get(&format!("/complaint/{receipt}")).await;
    assert!(!receipt_page.text.contains("13905761234") && !receipt_page.text.contains("晓东"));

    // Scans are counted in memory and written on flush.
    w.app.flush_seal_scans().await.unwrap();
    assert_eq!(
        w.raw
            .scalar(&format!(
                "SELECT scans FROM seal_use WHERE batch_id = {batch_id} AND serial = 1"
            ))
            .await,
        3
    );
    let scans_total = w
        .raw
        .scalar("SELECT CAST(COALESCE(SUM(scans), 0) AS BIGINT) FROM seal_use")
        .await;

    // Warnings and figures.
    let warns = food.get("/api/v1/seal-warnings").await.ok();
    let kinds: Vec<&str> = warns["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"second_order")
            && kinds.contains(&"broken")
            && kinds.contains(&"never_issued"),
        "{kinds:?}"
    );
    // The code of a batch that does not exist has no office: only whole-county scopes see it.
    let admin_warns = admin.get("/api/v1/seal-warnings").await.ok();
    assert_eq!(admin_warns["total"], 4);
    let stats = food.get("/api/v1/seals/stats").await.ok();
    let sum = |k: &str| -> i64 {
        stats["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[k].as_i64().unwrap())
            .sum()
    };
    assert_eq!(sum("issued"), 30);
    assert_eq!(sum("bound"), 1);
    assert_eq!(sum("broken"), 1);
    assert_eq!(sum("scans"), scans_total);
    assert_eq!(sum("warnings"), 3);

    // Key rotation: new batches use the new key; old seals keep verifying.
    let keys = admin.get("/api/v1/seal-keys").await.ok();
    assert!(!keys.to_string().contains("secret"));
    let new_key = admin.post("/api/v1/seal-keys", &json!({})).await.ok();
    assert_eq!(new_key["current"], true);
    assert_eq!(food.post("/api/v1/seal-keys", &json!({})).await.status, 403);
    let b2 = food
        .post(
            "/api/v1/seal-batches",
            &json!({"uscc": firm[0], "count": 2}),
        )
        .await
        .ok();
    assert_eq!(b2["key_id"], new_key["id"]);
    assert_eq!(
        public
            .get(&format!("/api/public/v1/seals/{}", codes[2]))
            .await
            .status,
        200
    );

    // Forged codes are refused by arithmetic alone: with the seal tables
    // dropped and the pool closed, a forged code still gets its answer while
    // a genuine one cannot.
    w.app.check_seal(&codes[3]).await.unwrap();
    w.raw.exec("DROP TABLE seal_use").await;
    w.raw.exec("DROP TABLE seal_batch").await;
    w.store.close().await;
    let err = w.app.check_seal(&forged).await.unwrap_err();
    assert_eq!(err.code(), "seal_forged");
    assert!(w.app.check_seal(&codes[3]).await.is_err());
}

/// One camera's raw beats (minute numbers, China time).
type Beats = BTreeMap<String, Vec<i64>>;

/// The online definition applied minute by minute to the raw beats.
fn recount(beats: &[i64], from_min: i64, to_min: i64, window: i64) -> (u64, u64) {
    let set: HashSet<i64> = beats.iter().copied().collect();
    let mut on = 0;
    for m in from_min..to_min {
        if (m - window + 1..=m).any(|b| set.contains(&b)) {
            on += 1;
        }
    }
    (on, (to_min - from_min) as u64)
}

pub async fn kitchen_online_rates(w: &World) {
    load_county(w).await;
    let app = TestApp::spawn(w).await;
    let admin = app.login("a_admin").await;
    let food = app.login("a_food").await;
    let public = app.anonymous();
    let firms = caterers(w).await;
    let today = kitchen::local_day(Utc::now());
    let yesterday = today.pred_opt().unwrap();
    let installed = yesterday.pred_opt().unwrap();

    // Register: clear errors, then three cameras on two kitchens.
    let r = food
        .post(
            "/api/v1/cameras",
            &json!({"device_id": "3310230000", "uscc": firms[0][0], "place": "灶台"}),
        )
        .await;
    let fields: Vec<&str> = r.json["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["device_id", "place"]);
    let devices = [
        "33102300001310000001",
        "33102300001310000002",
        "33102300001310000003",
    ];
    let mut ids = Vec::new();
    for (i, d) in devices.iter().enumerate() {
        let firm = &firms[usize::from(i > 0)];
        let place = ["kitchen", "prep", "cooking"][i];
        let cam = food
            .post(
                "/api/v1/cameras",
                &json!({"device_id": d, "uscc": firm[0], "place": place,
                        "vendor": "海康威视", "installed_on": installed,
                        "stream_url": if i == 0 { Value::from("https://live.example.cn/k/1") } else { Value::Null }}),
            )
            .await
            .ok();
        assert_eq!(cam["online"], false);
        ids.push(cam["id"].as_i64().unwrap());
    }
    let r = food
        .post(
            "/api/v1/cameras",
            &json!({"device_id": devices[0], "uscc": firms[0][0], "place": "kitchen"}),
        )
        .await;
    assert_eq!(
        (r.status, r.json["fields"][0]["code"].as_str()),
        (422, Some("duplicate"))
    );

    // Yesterday's beats: roughly one a minute with outages, seeded.
    let gateway = app.with_token(&token(&admin, &["food:camera:heartbeat"]).await);
    let start = kitchen::first_hour(yesterday) * 60;
    let mut beats: Beats = BTreeMap::new();
    let mut rng = 0x5eed_u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for (i, d) in devices.iter().enumerate() {
        let mut list = Vec::new();
        let mut m = start;
        while m < start + 1440 {
            let r = next() % 100;
            // Camera 3 is often offline; the others lose a beat now and then.
            let gap = if i == 2 && r < 30 {
                20 + r as i64
            } else if r < 5 {
                4
            } else {
                1
            };
            list.push(m);
            m += gap;
        }
        beats.insert(d.to_string(), list);
    }
    let at_of = |m: i64| {
        chrono::DateTime::from_timestamp(m * 60 - kitchen::CST_OFFSET_SECS + (m % 50), 0).unwrap()
    };
    let mut all: Vec<Value> = beats
        .iter()
        .flat_map(|(d, ms)| {
            ms.iter()
                .map(move |&m| json!({"device_id": d, "at": at_of(m)}))
        })
        .collect();
    // A few bad beats ride along: each reported, none stops the others.
    all.insert(5, json!({"device_id": "99999999999999999999"}));
    all.insert(
        9,
        json!({"device_id": devices[0], "at": Utc::now() + Duration::hours(1)}),
    );
    all.insert(
        11,
        json!({"device_id": devices[0], "at": Utc::now() - Duration::hours(60)}),
    );
    let mut accepted = 0;
    let mut rejected = Vec::new();
    for chunk in all.chunks(1000) {
        let r = gateway
            .post("/api/v1/cameras/heartbeats", &json!({"beats": chunk}))
            .await
            .ok();
        accepted += r["accepted"].as_u64().unwrap();
        for x in r["rejected"].as_array().unwrap() {
            rejected.push(x["code"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(
        rejected,
        ["camera_unknown", "beat_in_future", "beat_too_old"]
    );
    let raw_total: usize = beats.values().map(Vec::len).sum();
    assert_eq!(accepted as usize, raw_total);
    // Staff sessions cannot post heartbeats without the permission.
    let ins = app.login("a_inspector1").await;
    assert_eq!(
        ins.post("/api/v1/cameras/heartbeats", &json!({"beats": []}))
            .await
            .status,
        403
    );

    // The figures equal the recount from the raw beats, per camera and hour.
    let window = 3;
    let q = format!("from={yesterday}&to={yesterday}");
    let by_cam = food
        .get(&format!("/api/v1/kitchens/online?{q}&by=camera"))
        .await
        .ok();
    assert_eq!(by_cam["target"], 0.95);
    let mut tot = (0u64, 0u64);
    for row in by_cam["rows"].as_array().unwrap() {
        let d = row["key"].as_str().unwrap();
        let (on, n) = recount(&beats[d], start, start + 1440, window);
        assert_eq!(
            (
                row["online_minutes"].as_u64().unwrap(),
                row["counted_minutes"].as_u64().unwrap()
            ),
            (on, n),
            "{d}"
        );
        tot.0 += on;
        tot.1 += n;
    }
    assert_eq!(by_cam["rows"].as_array().unwrap().len(), 3);
    assert_eq!(by_cam["total"]["online_minutes"].as_u64().unwrap(), tot.0);
    assert_eq!(by_cam["total"]["counted_minutes"].as_u64().unwrap(), tot.1);
    let by_hour = food
        .get(&format!("/api/v1/kitchens/online?{q}&by=hour"))
        .await
        .ok();
    let rows = by_hour["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 24);
    for (h, row) in rows.iter().enumerate() {
        let (a, b) = (start + 60 * h as i64, start + 60 * (h as i64 + 1));
        let on: u64 = beats.values().map(|l| recount(l, a, b, window).0).sum();
        assert_eq!(row["online_minutes"].as_u64().unwrap(), on, "hour {h}");
        assert_eq!(row["counted_minutes"], 180);
    }
    let by_unit = food
        .get(&format!("/api/v1/kitchens/online?{q}&by=unit"))
        .await
        .ok();
    let unit_on: u64 = by_unit["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["online_minutes"].as_u64().unwrap())
        .sum();
    assert_eq!(unit_on, tot.0);
    let rate = by_unit["total"]["rate"].as_f64().unwrap();
    assert!((rate - tot.0 as f64 / tot.1 as f64).abs() < 1e-12);
    assert_eq!(
        food.get(&format!("/api/v1/kitchens/online?{q}&by=week"))
            .await
            .json["fields"][0]["field"],
        "by"
    );
    // Another county sees none of it.
    let b_food = app.login("b_food").await;
    let other = b_food
        .get(&format!("/api/v1/kitchens/online?{q}&by=camera"))
        .await
        .ok();
    assert_eq!(other["total"]["cameras"], 0);
    assert_eq!(b_food.get("/api/v1/cameras").await.ok()["total"], 0);

    // Live now: a beat this minute shows on the list and the public page.
    let firm = &firms[0];
    let before = public
        .get(&format!("/api/public/v1/merchants/{}", firm[0]))
        .await
        .ok();
    assert_eq!(before["kitchen"]["live"], false);
    gateway
        .post(
            "/api/v1/cameras/heartbeats",
            &json!({"beats": [{"device_id": devices[0]}]}),
        )
        .await
        .ok();
    let list = food
        .get(&format!("/api/v1/cameras?uscc={}", firm[0]))
        .await
        .ok();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["online"], true);
    let r = public
        .get(&format!("/api/public/v1/merchants/{}", firm[0]))
        .await;
    assert_eq!(r.json["kitchen"]["live"], true, "{}", r.text);
    assert_eq!(
        r.json["kitchen"]["watch_url"],
        "https://live.example.cn/k/1"
    );
    assert_nothing_personal(&r.text, firm);
    let page = public.get(&format!("/m/{}", firm[0])).await;
    assert!(page.text.contains("阳光厨房") && page.text.contains("直播中"));

    // A disabled camera no longer counts and its beats are refused.
    food.patch(
        &format!("/api/v1/cameras/{}", ids[2]),
        &json!({"enabled": false}),
    )
    .await
    .ok();
    let r = gateway
        .post(
            "/api/v1/cameras/heartbeats",
            &json!({"beats": [{"device_id": devices[2]}]}),
        )
        .await
        .ok();
    assert_eq!(r["rejected"][0]["code"], "camera_disabled");
    let after = food
        .get(&format!("/api/v1/kitchens/online?{q}&by=camera"))
        .await
        .ok();
    assert_eq!(after["rows"].as_array().unwrap().len(), 2);

    // Coverage: catering businesses with a kitchen, against a recount.
    let cov = food.get("/api/v1/kitchens/coverage").await.ok();
    let items = cov["items"].as_array().unwrap();
    let catering: i64 = items.iter().map(|r| r["catering"].as_i64().unwrap()).sum();
    let with: i64 = items
        .iter()
        .map(|r| r["with_kitchen"].as_i64().unwrap())
        .sum();
    let expect = w
        .raw
        .scalar(
            "SELECT COUNT(*) FROM entity WHERE county_code = '331023' AND status = 'active' \
             AND unit_id IS NOT NULL AND (industry LIKE '62%' OR industry LIKE 'H62%')",
        )
        .await;
    assert_eq!(catering, expect);
    assert_eq!(with, 2);
    let _: NaiveDate = installed;
}
