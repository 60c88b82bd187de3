//! The conformance suite: behaviour both storage backends must share. Each
//! case takes a fresh `World`; `tests/conformance.rs` runs every case on
//! SQLite and on PostgreSQL.
use crate::World;
use chrono::{Duration, Utc};
use hongdun_app::bootstrap::BootstrapOptions;
use hongdun_core::calendar::ScheduleDay;
use hongdun_core::ids::{TokenId, UnitId, UserId};
use hongdun_core::system::UnitKind;
use hongdun_store::*;

fn ctx() -> AuditCtx {
    AuditCtx {
        actor_user_id: None,
        actor_name: "conformance".into(),
        unit_id: None,
        request_id: Some("req-1".into()),
    }
}

async fn unit(w: &World, code: &str) -> Unit {
    w.store.find_unit_by_code(code).await.unwrap()
}

async fn user(w: &World, username: &str) -> User {
    let c = w.store.credentials(username).await.unwrap();
    w.store.get_user_unscoped(c.user_id).await.unwrap()
}

fn limited(units: &[UnitId], user: Option<UserId>) -> ScopeFilter {
    ScopeFilter::Limited {
        units: units.to_vec(),
        user,
    }
}

/// Text with every SQL and LIKE metacharacter we can think of, and some Chinese.
pub const NASTY: &str =
    "O'Brien\"; DROP TABLE app_user; -- %_\\ 面馆' OR '1'='1 /* */ \u{3000}全角";

pub async fn bootstrap_is_idempotent(w: &World) {
    let roles = w.store.list_roles().await.unwrap().len();
    let divisions = w.store.division_count().await.unwrap();
    let years = w.store.list_holiday_years().await.unwrap().len();
    let (seq, _) = w.store.audit_head().await.unwrap();
    w.app
        .bootstrap(&BootstrapOptions {
            division_prefixes: Some(vec!["33".into()]),
        })
        .await
        .unwrap();
    assert_eq!(w.store.list_roles().await.unwrap().len(), roles);
    assert_eq!(w.store.division_count().await.unwrap(), divisions);
    assert_eq!(w.store.list_holiday_years().await.unwrap().len(), years);
    assert_eq!(
        w.store.audit_head().await.unwrap().0,
        seq,
        "a second bootstrap changes nothing"
    );
    assert_eq!(roles, 6);
    assert!(years >= 12);
}

pub async fn divisions_tree(w: &World) {
    let tiantai = w.store.get_division("331023").await.unwrap();
    assert_eq!(tiantai.name, "天台县");
    assert_eq!(tiantai.parent_code.as_deref(), Some("3310"));
    let towns = w.store.list_divisions(Some("331023")).await.unwrap();
    assert!(towns.len() >= 10, "{}", towns.len());
    assert!(towns.iter().any(|t| t.name == "赤城街道"));
    assert!(towns.windows(2).all(|p| p[0].code < p[1].code));
    let provinces = w.store.list_divisions(None).await.unwrap();
    assert_eq!(provinces.len(), 31);
    assert!(matches!(
        w.store.get_division("999999").await,
        Err(StoreError::NotFound)
    ));
}

pub async fn units_and_jurisdiction(w: &World) {
    let bureau = unit(w, "331023-amr").await;
    assert_eq!(bureau.kind, UnitKind::Bureau);
    assert_eq!(bureau.jurisdiction, vec!["331023".to_owned()]);
    let new = NewUnit {
        parent_id: Some(bureau.id),
        code: "331023-amr-x".into(),
        name: NASTY.into(),
        kind: UnitKind::Office,
        jurisdiction: vec!["331023001".into(), "331023002".into()],
        sort: 7,
    };
    let created = w.store.create_unit(&ctx(), &new).await.unwrap();
    assert_eq!(created.name, NASTY);
    assert_eq!(
        created.jurisdiction,
        vec!["331023001".to_owned(), "331023002".to_owned()]
    );
    let dup = w.store.create_unit(&ctx(), &new).await.unwrap_err();
    assert!(
        matches!(&dup, StoreError::Conflict { field } if field == "code"),
        "{dup:?}"
    );
    let bad_division = NewUnit {
        code: "331023-amr-y".into(),
        jurisdiction: vec!["331023999".into()],
        ..new.clone()
    };
    assert!(matches!(
        w.store.create_unit(&ctx(), &bad_division).await,
        Err(StoreError::MissingReference)
    ));
    // The failed insert left nothing behind (one transaction).
    assert!(matches!(
        w.store.find_unit_by_code("331023-amr-y").await,
        Err(StoreError::NotFound)
    ));
    let patch = UnitPatch {
        name: Some("新名".into()),
        jurisdiction: Some(vec!["331023001".into()]),
        ..Default::default()
    };
    let updated = w
        .store
        .update_unit(&ctx(), &ScopeFilter::All, created.id, &patch)
        .await
        .unwrap();
    assert_eq!(
        (
            updated.name.as_str(),
            updated.jurisdiction.len(),
            updated.sort
        ),
        ("新名", 1, 7)
    );
    // Out of scope is not found, for reads and for writes.
    let other = limited(&[bureau.id], None);
    assert!(matches!(
        w.store.get_unit(&other, created.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        w.store
            .update_unit(&ctx(), &other, created.id, &patch)
            .await,
        Err(StoreError::NotFound)
    ));
    let nodes = w.store.unit_nodes().await.unwrap();
    assert!(nodes
        .iter()
        .any(|n| n.id == created.id && n.parent == Some(bureau.id)));
}

pub async fn users_scope_and_conflicts(w: &World) {
    let a_ins = user(w, "a_inspector1").await;
    let a_ins2 = user(w, "a_inspector2").await;
    let b_ins = user(w, "b_inspector1").await;
    let office = limited(&[a_ins.unit_id], None);
    let page = w
        .store
        .list_users(&office, &UserQuery::default())
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].id, a_ins.id);
    assert!(matches!(
        w.store.get_user(&office, b_ins.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        w.store.get_user(&office, a_ins2.id).await,
        Err(StoreError::NotFound)
    ));
    // Self-only sees exactly the one user.
    let me = limited(&[], Some(a_ins2.id));
    let page = w
        .store
        .list_users(&me, &UserQuery::default())
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![a_ins2.id]
    );
    // Empty scope sees nothing.
    assert_eq!(
        w.store
            .list_users(&limited(&[], None), &UserQuery::default())
            .await
            .unwrap()
            .total,
        0
    );
    let all = w
        .store
        .list_users(&ScopeFilter::All, &UserQuery::default())
        .await
        .unwrap();
    assert_eq!(all.total, 12);
    // Paging and search.
    let q = UserQuery {
        q: Some("INSPECTOR".into()),
        unit_id: None,
        paging: Paging::new(2, 3),
    };
    let page = w.store.list_users(&ScopeFilter::All, &q).await.unwrap();
    assert_eq!((page.total, page.items.len()), (4, 1));
    let dup = NewUser {
        username: "a_inspector1".into(),
        display_name: "x".into(),
        unit_id: a_ins.unit_id,
        phone: None,
        cert_no: None,
        password_hash: "h".into(),
        must_change_password: false,
        role_ids: vec![],
    };
    let e = w.store.create_user(&ctx(), &dup).await.unwrap_err();
    assert!(
        matches!(&e, StoreError::Conflict { field } if field == "username"),
        "{e:?}"
    );
}

pub async fn metacharacters_are_verbatim(w: &World) {
    let a = unit(w, "331023-amr").await;
    let new = NewUser {
        username: "nasty".into(),
        display_name: NASTY.into(),
        unit_id: a.id,
        phone: Some("13800000000' --".into()),
        cert_no: Some("%_\\".into()),
        password_hash: "h".into(),
        must_change_password: false,
        role_ids: vec![],
    };
    let u = w.store.create_user(&ctx(), &new).await.unwrap();
    let back = w.store.get_user_unscoped(u.id).await.unwrap();
    assert_eq!(back.display_name, NASTY);
    assert_eq!(back.cert_no.as_deref(), Some("%_\\"));
    // LIKE wildcards in a search match only themselves.
    for (q, want) in [
        ("%", 1),
        ("_", 13),
        ("%_\\", 1),
        ("\\", 1),
        ("O'Brien", 1),
        ("' OR '1'='1", 1),
        ("%%%%", 0),
    ] {
        let page = w
            .store
            .list_users(
                &ScopeFilter::All,
                &UserQuery {
                    q: Some(q.into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.total, want, "search {q:?}");
    }
    w.store.put_setting(&ctx(), "x.nasty", NASTY).await.unwrap();
    assert_eq!(w.store.get_setting("x.nasty").await.unwrap().value, NASTY);
    assert_eq!(
        w.store
            .list_users(&ScopeFilter::All, &UserQuery::default())
            .await
            .unwrap()
            .total,
        13
    );
}

pub async fn audit_chain_and_tampering(w: &World) {
    let r = w.app.verify_audit().await.unwrap();
    assert!(r.ok, "{r:?}");
    let (head, _) = w.store.audit_head().await.unwrap();
    assert_eq!(r.rows_checked, head);
    assert!(head > 20);
    // Every change wrote its row: the demo created the users.
    let q = AuditQuery {
        action: Some("system.user.create".into()),
        ..Default::default()
    };
    let rows = w.store.list_audit(&ScopeFilter::All, &q).await.unwrap();
    assert_eq!(rows.total, 12);
    // Personal fields never reach the audit log in clear.
    assert!(rows
        .items
        .iter()
        .all(|r| !r.after.as_deref().unwrap_or("").contains("$argon2")));
    // An edit made directly in the database breaks the chain at that row.
    w.raw
        .exec("UPDATE audit_log SET after_data = '{\"display_name\":\"forged\"}' WHERE seq = 5")
        .await;
    let r = w.app.verify_audit().await.unwrap();
    let b = r.first_broken.unwrap();
    assert_eq!((b.seq, b.code), (5, "row_altered"));
    assert_eq!(r.rows_checked, 4);
}

pub async fn audit_detects_deleted_rows(w: &World) {
    let (head, _) = w.store.audit_head().await.unwrap();
    w.raw
        .exec(&format!("DELETE FROM audit_log WHERE seq = {head}"))
        .await;
    let b = w.app.verify_audit().await.unwrap().first_broken.unwrap();
    assert_eq!((b.seq, b.code), (head, "tail_missing"));
    w.raw.exec("DELETE FROM audit_log WHERE seq = 3").await;
    let b = w.app.verify_audit().await.unwrap().first_broken.unwrap();
    assert_eq!((b.seq, b.code), (3, "row_missing"));
}

pub async fn concurrent_writes_keep_the_chain(w: &World) {
    let mut tasks = Vec::new();
    for i in 0..24 {
        let store = w.store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .put_setting(&ctx(), &format!("load.k{}", i % 6), &i.to_string())
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let r = w.app.verify_audit().await.unwrap();
    assert!(r.ok, "{r:?}");
    let rows = w
        .store
        .list_audit(
            &ScopeFilter::All,
            &AuditQuery {
                action: Some("system.setting.update".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(rows.total, 24);
}

pub async fn audit_scope(w: &World) {
    let a = unit(w, "331023-amr").await;
    let by_a = AuditCtx {
        actor_user_id: Some(UserId(1)),
        actor_name: "x".into(),
        unit_id: Some(a.id),
        request_id: None,
    };
    w.store.put_setting(&by_a, "k", "v").await.unwrap();
    let page = w
        .store
        .list_audit(&limited(&[a.id], None), &AuditQuery::default())
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].request_id, None);
    assert_eq!(page.items[0].actor_user_id, Some(1));
    let none = w
        .store
        .list_audit(&limited(&[UnitId(999_999)], None), &AuditQuery::default())
        .await
        .unwrap();
    assert_eq!(none.total, 0);
}

pub async fn login_failures_lock(w: &World) {
    let u = user(w, "a_leader").await;
    let until = Utc::now() + Duration::minutes(15);
    for i in 1..=4 {
        let (n, locked) = w
            .store
            .register_login_failure(u.id, 5, until)
            .await
            .unwrap();
        assert_eq!((n, locked), (i, None));
    }
    let (n, locked) = w
        .store
        .register_login_failure(u.id, 5, until)
        .await
        .unwrap();
    assert_eq!(n, 5);
    assert!(locked.is_some());
    let c = w.store.credentials("a_leader").await.unwrap();
    assert_eq!(c.failed_logins, 5);
    w.store.register_login_success(u.id).await.unwrap();
    let c = w.store.credentials("a_leader").await.unwrap();
    assert_eq!((c.failed_logins, c.locked_until), (0, None));
}

pub async fn sessions_expire(w: &World) {
    let u = user(w, "a_leader").await;
    let now = Utc::now();
    let s = Session {
        id_hash: "h1".into(),
        user_id: u.id,
        csrf_token: "c".into(),
        created_at: now,
        expires_at: now + Duration::hours(1),
        ip: Some("127.0.0.1".into()),
    };
    w.store.create_session(&s).await.unwrap();
    assert_eq!(w.store.get_session("h1", now).await.unwrap().user_id, u.id);
    assert!(matches!(
        w.store.get_session("h1", now + Duration::hours(2)).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        w.store
            .purge_expired_sessions(now + Duration::hours(2))
            .await
            .unwrap(),
        1
    );
    w.store
        .create_session(&Session {
            id_hash: "h2".into(),
            ..s
        })
        .await
        .unwrap();
    // Changing the password ends every session of the user.
    w.store
        .set_password(&ctx(), u.id, "newhash", false)
        .await
        .unwrap();
    assert!(matches!(
        w.store.get_session("h2", now).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        w.store.credentials("a_leader").await.unwrap().password_hash,
        "newhash"
    );
}

pub async fn tokens(w: &World) {
    let a = user(w, "a_inspector1").await;
    let b = user(w, "b_inspector1").await;
    let new = |u: &User, hash: &str| NewApiToken {
        user_id: u.id,
        name: "摄像头厂商".into(),
        prefix: "hdt_abc".into(),
        token_hash: hash.into(),
        permissions: vec!["system:unit:list".into(), "system:dict:list".into()],
        expires_at: None,
    };
    let ta = w.store.create_token(&ctx(), &new(&a, "ha")).await.unwrap();
    let tb = w.store.create_token(&ctx(), &new(&b, "hb")).await.unwrap();
    assert_eq!(
        ta.permissions,
        vec!["system:unit:list".to_owned(), "system:dict:list".to_owned()]
    );
    assert_eq!(w.store.token_by_hash("ha").await.unwrap().id, ta.id);
    let scope_a = limited(&[a.unit_id], None);
    let listed = w.store.list_tokens(&scope_a).await.unwrap();
    assert_eq!(listed.iter().map(|t| t.id).collect::<Vec<_>>(), vec![ta.id]);
    assert!(matches!(
        w.store.revoke_token(&ctx(), &scope_a, tb.id).await,
        Err(StoreError::NotFound)
    ));
    let revoked = w.store.revoke_token(&ctx(), &scope_a, ta.id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(matches!(
        w.store.token_by_hash("nope").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        w.store
            .revoke_token(&ctx(), &ScopeFilter::All, TokenId(999))
            .await,
        Err(StoreError::NotFound)
    ));
}

pub async fn dictionaries_and_settings(w: &World) {
    let items = w.store.list_dict_items("complaint_category").await.unwrap();
    assert!(items.iter().any(|i| i.code == "food" && i.label == "食品"));
    let item = DictItem {
        dict_type: "complaint_category".into(),
        code: "livestream".into(),
        label: "直播带货".into(),
        sort: 99,
        enabled: true,
    };
    w.store.upsert_dict_item(&ctx(), &item).await.unwrap();
    w.store
        .upsert_dict_item(
            &ctx(),
            &DictItem {
                label: "直播电商".into(),
                ..item.clone()
            },
        )
        .await
        .unwrap();
    let items = w.store.list_dict_items("complaint_category").await.unwrap();
    assert_eq!(items.last().unwrap().label, "直播电商");
    w.store
        .delete_dict_item(&ctx(), "complaint_category", "livestream")
        .await
        .unwrap();
    assert!(matches!(
        w.store
            .delete_dict_item(&ctx(), "complaint_category", "livestream")
            .await,
        Err(StoreError::NotFound)
    ));
    let orphan = DictItem {
        dict_type: "no_such_type".into(),
        ..item
    };
    assert!(matches!(
        w.store.upsert_dict_item(&ctx(), &orphan).await,
        Err(StoreError::MissingReference)
    ));
    let s = w
        .store
        .put_setting(&ctx(), "auth.lockout_threshold", "6")
        .await
        .unwrap();
    assert_eq!(
        w.store.get_setting("auth.lockout_threshold").await.unwrap(),
        s
    );
    // Each change is audited with before and after.
    let rows = w
        .store
        .list_audit(
            &ScopeFilter::All,
            &AuditQuery {
                target_type: Some("dict_item".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(rows.total, 14 + 3); // 14 seeded + create, update, delete
    let update = &rows.items[1];
    assert!(update.before.as_deref().unwrap().contains("直播带货"));
    assert!(update.after.as_deref().unwrap().contains("直播电商"));
}

pub async fn holiday_years(w: &World) {
    let days = vec![
        ScheduleDay {
            date: "2026-12-31".parse().unwrap(),
            is_off_day: true,
            name: "元旦".into(),
        },
        ScheduleDay {
            date: "2027-01-01".parse().unwrap(),
            is_off_day: true,
            name: "元旦".into(),
        },
        ScheduleDay {
            date: "2027-02-07".parse().unwrap(),
            is_off_day: false,
            name: "春节".into(),
        },
    ];
    let y = w
        .store
        .put_holiday_year(&ctx(), 2027, "国办发明电〔2026〕", &days)
        .await
        .unwrap();
    assert_eq!(y.days, days);
    // Replacing a year removes days no longer listed.
    let y = w
        .store
        .put_holiday_year(&ctx(), 2027, "更正", &days[1..])
        .await
        .unwrap();
    assert_eq!((y.days.len(), y.source.as_str()), (2, "更正"));
    let all = w.store.list_holiday_years().await.unwrap();
    assert!(all.iter().any(|y| y.year == 2027 && y.days.len() == 2));
    // 2019's notice lists the last days of 2018; both years keep their own lists.
    let y2019 = all.iter().find(|y| y.year == 2019).unwrap();
    assert!(y2019
        .days
        .iter()
        .any(|d| d.date.to_string() == "2018-12-31"));
    let bad = [ScheduleDay {
        date: "2029-05-01".parse().unwrap(),
        is_off_day: true,
        name: String::new(),
    }];
    assert!(w
        .store
        .put_holiday_year(&ctx(), 2027, "x", &bad)
        .await
        .is_err());
}

pub async fn login_log_scope(w: &World) {
    let a = user(w, "a_inspector1").await;
    let entry = |u: Option<&User>, outcome| NewLoginLog {
        username: u
            .map(|u| u.username.clone())
            .unwrap_or_else(|| "ghost".into()),
        user_id: u.map(|u| u.id),
        unit_id: u.map(|u| u.unit_id),
        outcome,
        ip: Some("10.0.0.1".into()),
        user_agent: None,
    };
    w.store
        .log_login(&entry(Some(&a), LoginOutcome::Failure))
        .await
        .unwrap();
    w.store
        .log_login(&entry(Some(&a), LoginOutcome::Locked))
        .await
        .unwrap();
    w.store
        .log_login(&entry(None, LoginOutcome::Failure))
        .await
        .unwrap();
    let mine = w
        .store
        .list_login_log(&limited(&[a.unit_id], None), Paging::default())
        .await
        .unwrap();
    assert_eq!(mine.total, 2);
    assert_eq!(mine.items[0].outcome, LoginOutcome::Locked);
    let all = w
        .store
        .list_login_log(&ScopeFilter::All, Paging::default())
        .await
        .unwrap();
    assert_eq!(all.total, 3);
}
