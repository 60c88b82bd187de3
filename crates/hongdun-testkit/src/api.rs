//! HTTP API cases: a real server on port 0, run on both backends by
//! `tests/api.rs`. Sign-in, CSRF, lock-out, data scope, API tokens, the
//! calendar endpoints, the audit chain, and what must never be in a response.
use crate::http::{Client, TestApp};
use crate::World;
use serde_json::{json, Value};

pub(crate) async fn id_of(c: &Client, path: &str, key: &str, value: &str) -> i64 {
    let body = c.get(path).await.ok();
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x[key] == value)
        .unwrap_or_else(|| panic!("{value} not in {path}"))["id"]
        .as_i64()
        .unwrap()
}

pub async fn login_cookie_and_me(w: &World) {
    let app = TestApp::spawn(w).await;
    let (client, resp) = app.try_login("a_leader", crate::PASSWORD).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let cookies: Vec<&str> = resp
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("hongdun_session="))
        .unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict"),
        "{session}"
    );
    let csrf = cookies
        .iter()
        .find(|c| c.starts_with("hongdun_csrf="))
        .unwrap();
    assert!(!csrf.contains("HttpOnly"));
    assert!(resp.headers.get("x-request-id").is_some());
    let me = client.get("/api/v1/me").await.ok();
    assert_eq!(me["user"]["username"], "a_leader");
    assert_eq!(me["unit"]["name"], "天台县市场监督管理局");
    assert!(me["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "system:user:list"));
    assert_eq!(me["csrf_token"], resp.json["csrf_token"]);
    // Anonymous callers are turned away with the standard error shape.
    let anon = app.anonymous().get("/api/v1/me").await;
    assert_eq!((anon.status, anon.code()), (401, "auth_required"));
    assert!(anon.json["message"].as_str().unwrap().contains("登录"));
    // Logout ends the session.
    assert_eq!(
        client.post("/api/v1/auth/logout", &json!({})).await.status,
        204
    );
    assert_eq!(client.get("/api/v1/me").await.status, 401);
}

pub async fn wrong_password_locks_account(w: &World) {
    let app = TestApp::spawn(w).await;
    for i in 1..=4 {
        let (_, r) = app.try_login("a_inspector1", "wrong-Password1").await;
        assert_eq!((r.status, r.code()), (401, "auth_failed"), "attempt {i}");
    }
    let (_, r) = app.try_login("a_inspector1", "wrong-Password1").await;
    assert_eq!((r.status, r.code()), (423, "account_locked"));
    // Even the right password is refused while locked.
    let (_, r) = app.try_login("a_inspector1", crate::PASSWORD).await;
    assert_eq!((r.status, r.code()), (423, "account_locked"));
    // An unknown user gets the same answer as a wrong password.
    let (_, r) = app.try_login("nobody", "whatever").await;
    assert_eq!((r.status, r.code()), (401, "auth_failed"));
    // The sign-in log holds every attempt with its address; an admin unlocks.
    let admin = app.login("a_admin").await;
    let log = admin.get("/api/v1/system/login-log?per_page=50").await.ok();
    let rows: Vec<&Value> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["username"] == "a_inspector1")
        .collect();
    assert_eq!(rows.iter().filter(|r| r["outcome"] == "failure").count(), 4);
    assert_eq!(rows.iter().filter(|r| r["outcome"] == "locked").count(), 2);
    assert!(rows.iter().all(|r| r["ip"] == "127.0.0.1"));
    let id = id_of(
        &admin,
        "/api/v1/system/users?q=a_inspector1",
        "username",
        "a_inspector1",
    )
    .await;
    admin
        .patch(
            &format!("/api/v1/system/users/{id}"),
            &json!({"unlock": true}),
        )
        .await
        .ok();
    app.login("a_inspector1").await;
}

pub async fn csrf_is_required(w: &World) {
    let app = TestApp::spawn(w).await;
    let admin = app.login("a_admin").await;
    let forged = admin.without_csrf();
    let r = forged
        .put(
            "/api/v1/system/settings/auth.lockout_threshold",
            &json!({"value": "6"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "csrf_failed"));
    let mut wrong = admin.clone();
    wrong.csrf = Some("0".repeat(64));
    assert_eq!(
        wrong
            .put(
                "/api/v1/system/settings/auth.lockout_threshold",
                &json!({"value": "6"})
            )
            .await
            .status,
        403
    );
    // Reads need no token; the real token works.
    assert_eq!(forged.get("/api/v1/system/settings").await.status, 200);
    admin
        .put(
            "/api/v1/system/settings/auth.lockout_threshold",
            &json!({"value": "6"}),
        )
        .await
        .ok();
    let r = admin
        .put(
            "/api/v1/system/settings/auth.lockout_threshold",
            &json!({"value": "99"}),
        )
        .await;
    assert_eq!(
        (r.status, r.json["fields"][0]["field"].as_str()),
        (422, Some("value"))
    );
}

pub async fn password_change(w: &World) {
    let app = TestApp::spawn(w).await;
    let c = app.login("a_food").await;
    let r = c
        .post(
            "/api/v1/me/password",
            &json!({"old_password": "nope", "new_password": "N3w-Passw0rd"}),
        )
        .await;
    assert_eq!(
        (r.status, r.json["fields"][0]["field"].as_str()),
        (422, Some("old_password"))
    );
    let r = c
        .post(
            "/api/v1/me/password",
            &json!({"old_password": crate::PASSWORD, "new_password": "short"}),
        )
        .await;
    assert_eq!(r.json["fields"][0]["code"], "password_weak");
    let r = c
        .post(
            "/api/v1/me/password",
            &json!({"old_password": crate::PASSWORD, "new_password": "N3w-Passw0rd"}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    // Every session ends with the old password.
    assert_eq!(c.get("/api/v1/me").await.status, 401);
    assert_eq!(app.try_login("a_food", crate::PASSWORD).await.1.status, 401);
    assert_eq!(app.try_login("a_food", "N3w-Passw0rd").await.1.status, 200);
}

pub async fn data_scope(w: &World) {
    let app = TestApp::spawn(w).await;
    let a_ins = app.login("a_inspector1").await;
    let a_leader = app.login("a_leader").await;
    let b_admin_view = app.login("a_admin").await;
    // An inspector of county A sees only their own office.
    let units = a_ins.get("/api/v1/system/units").await.ok();
    let mut names: Vec<&str> = units["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, vec!["赤城市场监管所", "赤城第一网格"]);
    // County B's records answer 404, never 403: their existence is not disclosed.
    let b_bureau = id_of(&b_admin_view, "/api/v1/system/units", "code", "330482-amr").await;
    let r = a_ins.get(&format!("/api/v1/system/units/{b_bureau}")).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    // The leader sees the bureau, every section and every office below it, and nothing of county B.
    let all_a = a_leader.get("/api/v1/system/units").await.ok();
    let codes: Vec<&str> = all_a["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.iter().all(|c| c.starts_with("331023-amr")),
        "{codes:?}"
    );
    let admin_units = b_admin_view.get("/api/v1/system/units").await.ok();
    let a_total = admin_units["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["code"].as_str().unwrap().starts_with("331023"))
        .count();
    assert_eq!(codes.len(), a_total);
    let users = a_leader.get("/api/v1/system/users?per_page=100").await.ok();
    assert_eq!(users["total"], 6);
    let b_user = id_of(
        &b_admin_view,
        "/api/v1/system/users?q=b_leader",
        "username",
        "b_leader",
    )
    .await;
    assert_eq!(
        a_leader
            .get(&format!("/api/v1/system/users/{b_user}"))
            .await
            .status,
        404
    );
    // Writes are scoped the same way: give the leader user management for the bureau.
    b_admin_view
        .post(
            "/api/v1/system/roles",
            &json!({"code": "user_admin", "name": "本局用户管理", "scope": "own_unit_and_below",
            "permissions": ["system:user:update", "system:user:list"]}),
        )
        .await
        .ok();
    let leader_id = id_of(
        &b_admin_view,
        "/api/v1/system/users?q=a_leader",
        "username",
        "a_leader",
    )
    .await;
    b_admin_view
        .patch(
            &format!("/api/v1/system/users/{leader_id}"),
            &json!({"role_codes": ["leader", "user_admin"]}),
        )
        .await
        .ok();
    let r = a_leader
        .patch(
            &format!("/api/v1/system/users/{b_user}"),
            &json!({"display_name": "x"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let a_ins_id = id_of(
        &b_admin_view,
        "/api/v1/system/users?q=a_inspector1",
        "username",
        "a_inspector1",
    )
    .await;
    a_leader
        .patch(
            &format!("/api/v1/system/users/{a_ins_id}"),
            &json!({"display_name": "赤城所 张三"}),
        )
        .await
        .ok();
    // A role without the permission is denied.
    let r = a_ins.get("/api/v1/system/users").await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    assert_eq!(a_ins.get("/api/v1/system/audit").await.status, 403);
    // The section's staff act for the whole bureau (own unit and below, from the bureau).
    let food = app.login("a_food").await;
    let users = food.get("/api/v1/system/users?per_page=100").await.ok();
    assert_eq!(users["total"], 6);
    // A leader cannot place a user in another county.
    let b_office = id_of(
        &b_admin_view,
        "/api/v1/system/units",
        "code",
        "330482-amr-food",
    )
    .await;
    let r = a_leader
        .post(
            "/api/v1/system/users",
            &json!({"username": "x1", "display_name": "x", "unit_id": b_office, "password": "Aa-12345678"}),
        )
        .await;
    assert_eq!(r.status, 403, "leaders hold no user:create: {}", r.text);
}

pub async fn custom_role_scope(w: &World) {
    let app = TestApp::spawn(w).await;
    let admin = app.login("a_admin").await;
    let office_b = id_of(&admin, "/api/v1/system/units", "code", "330482-amr-food").await;
    let role = admin
        .post(
            "/api/v1/system/roles",
            &json!({"code": "b_food_viewer", "name": "平湖食品科查看", "scope": "custom_units",
                    "custom_units": [office_b], "permissions": ["system:user:list"]}),
        )
        .await
        .ok();
    assert_eq!(role["scope"], "custom_units");
    let a_ins = id_of(
        &admin,
        "/api/v1/system/users?q=a_inspector2",
        "username",
        "a_inspector2",
    )
    .await;
    admin
        .patch(
            &format!("/api/v1/system/users/{a_ins}"),
            &json!({"role_codes": ["inspector", "b_food_viewer"]}),
        )
        .await
        .ok();
    let c = app.login("a_inspector2").await;
    let users = c.get("/api/v1/system/users").await.ok();
    let names: Vec<&str> = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["b_food"]);
    // Unknown permissions and scopes are field errors.
    let r = admin
        .post("/api/v1/system/roles", &json!({"code": "bad", "name": "x", "scope": "everything", "permissions": ["system:nuke:all"]}))
        .await;
    assert_eq!(r.status, 422);
    let fields: Vec<&str> = r.json["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["scope", "permissions[0]"]);
    // Built-in roles follow the code.
    let leader = id_of(&admin, "/api/v1/system/roles", "code", "leader").await;
    let r = admin
        .patch(
            &format!("/api/v1/system/roles/{leader}"),
            &json!({"scope": "all"}),
        )
        .await;
    assert_eq!(r.json["fields"][0]["code"], "builtin_role");
}

pub async fn api_tokens(w: &World) {
    let app = TestApp::spawn(w).await;
    let admin = app.login("a_admin").await;
    let created = admin
        .post("/api/v1/system/tokens", &json!({"name": "视频网关", "permissions": ["system:unit:list"], "expires_in_days": 30}))
        .await
        .ok();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("hdt_"));
    let token_id = created["token"]["id"].as_i64().unwrap();
    let machine = app.with_token(&secret);
    assert_eq!(machine.get("/api/v1/system/units").await.status, 200);
    // The token cannot exceed its own permissions, though its owner could.
    assert_eq!(machine.get("/api/v1/system/users").await.status, 403);
    assert_eq!(
        machine
            .put("/api/v1/system/settings/x", &json!({"value": "1"}))
            .await
            .status,
        403
    );
    // Bearer requests need no CSRF token.
    let me = machine.get("/api/v1/me").await.ok();
    assert_eq!(me["permissions"], json!(["system:unit:list"]));
    assert_eq!(me["csrf_token"], Value::Null);
    // A token can never be minted beyond its owner's or creator's permissions.
    let ins = id_of(
        &admin,
        "/api/v1/system/users?q=a_inspector1",
        "username",
        "a_inspector1",
    )
    .await;
    let r = admin
        .post(
            "/api/v1/system/tokens",
            &json!({"name": "x", "user_id": ins, "permissions": ["system:user:list"]}),
        )
        .await;
    assert_eq!(
        (r.status, r.json["fields"][0]["code"].as_str()),
        (422, Some("permission_exceeds"))
    );
    // The secret is stored hashed and never listed.
    let list = admin.get("/api/v1/system/tokens").await;
    assert!(!list.text.contains(&secret[4..]));
    admin
        .post(
            &format!("/api/v1/system/tokens/{token_id}/revoke"),
            &json!({}),
        )
        .await
        .ok();
    assert_eq!(machine.get("/api/v1/system/units").await.status, 401);
    assert_eq!(
        app.with_token("hdt_forged").get("/api/v1/me").await.status,
        401
    );
}

pub async fn calendar_endpoints(w: &World) {
    let app = TestApp::spawn(w).await;
    let anon = app.anonymous();
    let r = anon
        .get("/api/v1/calendar/add-working-days?from=2026-09-30&days=1")
        .await
        .ok();
    assert_eq!(r["due"], "2026-10-08");
    let r = anon
        .get("/api/v1/calendar/add-working-days?from=2026-09-30&days=7")
        .await
        .ok();
    assert_eq!(r["due"], "2026-10-15");
    let r = anon
        .get("/api/v1/calendar/working-days-between?from=2026-09-30&to=2026-10-15")
        .await
        .ok();
    assert_eq!(r["working_days"], 7);
    let r = anon
        .get("/api/v1/calendar/is-working-day?date=2026-01-04")
        .await
        .ok();
    assert_eq!(r["working"], true);
    let r = anon
        .get("/api/v1/calendar/add-working-days?from=2199-03-01&days=5")
        .await;
    assert_eq!((r.status, r.code()), (422, "calendar_year_missing"));
    for (q, field) in [
        ("from=2026-13-01&days=1", "from"),
        ("from=2026-09-30&days=-1", "days"),
        ("from=2026-09-30&days=abc", "days"),
        ("from=2026-09-30", "days"),
        ("days=3", "from"),
        ("from=2026-09-30T00:00&days=1", "from"),
    ] {
        let r = anon
            .get(&format!("/api/v1/calendar/add-working-days?{q}"))
            .await;
        assert_eq!(
            (r.status, r.code(), r.json["fields"][0]["field"].as_str()),
            (400, "invalid_param", Some(field)),
            "{q}"
        );
    }
    // An administrator adds next year's schedule; the computation then works.
    let admin = app.login("a_admin").await;
    let body = json!({"source": "国务院办公厅关于2199年部分节假日安排的通知", "days": [
        {"date": "2199-01-01", "is_off_day": true, "name": "元旦"},
        {"date": "2199-03-02", "is_off_day": false, "name": "调休"}]});
    admin
        .put("/api/v1/system/calendar/years/2199", &body)
        .await
        .ok();
    let r = anon
        .get("/api/v1/calendar/add-working-days?from=2199-03-01&days=1")
        .await
        .ok();
    assert_eq!(r["due"], "2199-03-02");
    let bad = json!({"days": [{"date": "2200-01-01", "is_off_day": true}]});
    let r = admin.put("/api/v1/system/calendar/years/2199", &bad).await;
    assert_eq!((r.status, r.code()), (422, "calendar_date_outside_year"));
    let ins = app.login("a_inspector1").await;
    assert_eq!(
        ins.put("/api/v1/system/calendar/years/2199", &body)
            .await
            .status,
        403
    );
}

pub async fn audit_over_http(w: &World) {
    let app = TestApp::spawn(w).await;
    let admin = app.login("a_admin").await;
    admin
        .put(
            "/api/v1/system/dicts/complaint_category/items/livestream",
            &json!({"label": "直播带货"}),
        )
        .await
        .ok();
    let rows = admin
        .get("/api/v1/system/audit?action=system.dict.item&target_id=complaint_category/livestream")
        .await
        .ok();
    assert_eq!(rows["total"], 1);
    let row = &rows["items"][0];
    assert_eq!(row["actor_name"], "a_admin");
    assert!(
        row["request_id"].as_str().is_some_and(|s| s.len() == 36),
        "{row}"
    );
    let r = admin
        .post("/api/v1/system/audit/verify", &json!({}))
        .await
        .ok();
    assert_eq!(r["ok"], true);
    w.raw
        .exec("UPDATE audit_log SET actor_name = 'someone else' WHERE seq = 7")
        .await;
    let r = admin
        .post("/api/v1/system/audit/verify", &json!({}))
        .await
        .ok();
    assert_eq!(
        (r["ok"].as_bool(), r["first_broken"]["seq"].as_i64()),
        (Some(false), Some(7))
    );
    // The auditor reads the log of their bureau but changes nothing.
    let auditor = app.login("a_auditor").await;
    assert_eq!(auditor.get("/api/v1/system/audit").await.status, 200);
    let r = auditor
        .put(
            "/api/v1/system/dicts/complaint_category/items/x",
            &json!({"label": "x"}),
        )
        .await;
    assert_eq!(r.status, 403);
}

pub async fn text_is_verbatim_over_http(w: &World) {
    let app = TestApp::spawn(w).await;
    let admin = app.login("a_admin").await;
    let bureau = id_of(&admin, "/api/v1/system/units", "code", "331023-amr").await;
    let nasty = crate::conformance::NASTY;
    let unit = admin
        .post("/api/v1/system/units", &json!({"parent_id": bureau, "code": "t-1", "name": nasty, "kind": "office", "jurisdiction": ["331023001"]}))
        .await;
    assert_eq!(unit.status, 201, "{}", unit.text);
    let user = admin
        .post(
            "/api/v1/system/users",
            &json!({"username": "t_user", "display_name": nasty, "unit_id": unit.json["id"],
            "password": "Aa-12345678", "cert_no": nasty, "role_codes": ["inspector"]}),
        )
        .await
        .ok();
    let back = admin
        .get(&format!("/api/v1/system/users/{}", user["id"]))
        .await
        .ok();
    assert_eq!(back["display_name"], nasty);
    assert_eq!(back["cert_no"], nasty);
    admin
        .put(
            "/api/v1/system/dicts/complaint_category/items/t1",
            &json!({"label": nasty}),
        )
        .await
        .ok();
    let items = admin
        .get("/api/v1/system/dicts/complaint_category/items")
        .await
        .ok();
    assert!(items["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["label"] == nasty));
    let found = admin
        .get("/api/v1/system/users?q=%27%20OR%20%271%27%3D%271")
        .await
        .ok();
    assert_eq!(found["total"], 1);
    // Duplicates are field errors, never a 500.
    let dup = admin
        .post("/api/v1/system/users", &json!({"username": "t_user", "display_name": "x", "unit_id": unit.json["id"], "password": "Aa-12345678"}))
        .await;
    assert_eq!(
        (dup.status, dup.json["fields"][0]["field"].as_str()),
        (409, Some("username"))
    );
    let r = admin
        .post("/api/v1/system/users", &json!({"username": "ok"}))
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_json"));
    let r = admin
        .post("/api/v1/system/users", &json!({"username": "bad name", "display_name": "", "unit_id": 999999, "password": "x"}))
        .await;
    let fields: Vec<&str> = r.json["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec!["username", "display_name", "unit_id", "password"]
    );
}

/// Walks every read endpoint as the admin and checks no secret is ever sent.
pub async fn no_secrets_in_responses(w: &World) {
    let app = TestApp::spawn(w).await;
    let admin = app.login("a_admin").await;
    admin
        .post(
            "/api/v1/system/tokens",
            &json!({"name": "t", "permissions": ["system:unit:list"]}),
        )
        .await
        .ok();
    let uid = id_of(
        &admin,
        "/api/v1/system/users?q=a_food",
        "username",
        "a_food",
    )
    .await;
    admin
        .post(
            &format!("/api/v1/system/users/{uid}/password"),
            &json!({"password": "Temp-Passw0rd"}),
        )
        .await;
    let mut bodies = Vec::new();
    for path in [
        "/api/v1/me",
        "/api/v1/system/users?per_page=500",
        &format!("/api/v1/system/users/{uid}"),
        "/api/v1/system/units",
        "/api/v1/system/roles",
        "/api/v1/system/tokens",
        "/api/v1/system/audit?per_page=500",
        "/api/v1/system/login-log?per_page=500",
        "/api/v1/system/settings",
        "/api/v1/system/dicts",
    ] {
        let r = admin.get(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        bodies.push(r.text);
    }
    for body in &bodies {
        assert!(!body.contains("$argon2"), "a password hash leaked: {body}");
        assert!(!body.contains("password_hash\":\"$"), "{body}");
        assert!(!body.contains("Temp-Passw0rd"));
        assert!(!body.contains(crate::PASSWORD));
    }
    let audit = &bodies[6];
    assert!(audit.contains("system.user.password") && audit.contains("[已脱敏]"));
}

pub async fn operations_endpoints(w: &World) {
    let app = TestApp::spawn(w).await;
    let anon = app.anonymous();
    assert_eq!(anon.get("/healthz").await.text, "ok");
    let spec = anon.get("/api/openapi.json").await.ok();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    assert!(spec["paths"]["/api/v1/calendar/add-working-days"].is_object());
    assert!(spec["paths"].as_object().unwrap().len() >= 25);
    let docs = anon.get("/api/docs/").await;
    assert_eq!(docs.status, 200);
    assert!(
        !docs.text.contains("http://") && !docs.text.contains("https://"),
        "the explorer loads nothing from outside"
    );
    let missing = anon.get("/api/v1/nope").await;
    assert_eq!((missing.status, missing.code()), (404, "not_found"));
    // The console: its routes are index.html (or the "build it" page), API paths
    // stay JSON, a missing asset is a plain 404.
    for route in ["/", "/entities?q=面馆", "/system/units", "/lookup"] {
        let page = anon.get(route).await;
        assert_eq!(page.status, 200, "{route}");
        assert!(
            page.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{route}"
        );
        assert!(
            page.text.contains("<div id=\"app\">") || page.text.contains("make web"),
            "{route}: {}",
            page.text
        );
    }
    assert_eq!(anon.get("/assets/no-such-file.js").await.status, 404);
    assert_eq!(anon.get("/api/v2/anything").await.code(), "not_found");
    let post = anon.post("/entities", &serde_json::json!({})).await;
    assert_eq!(post.status, 404, "only GET reaches the console");
    let metrics = anon.get("/metrics").await;
    assert!(
        metrics.text.contains(
            "hongdun_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        ),
        "{}",
        metrics.text
    );
    let divisions = app
        .login("a_inspector1")
        .await
        .get("/api/v1/system/divisions?parent=331023")
        .await
        .ok();
    assert!(divisions["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["name"] == "赤城街道"));
}
