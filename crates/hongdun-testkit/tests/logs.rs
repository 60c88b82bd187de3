//! Secrets never reach the log: every line the server writes at TRACE level
//! while users sign in, change passwords and create tokens is captured and
//! searched for hashes, passwords and token secrets.
use hongdun_testkit::http::TestApp;
use hongdun_testkit::{Backend, PASSWORD};
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secrets_in_logs() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_env_filter("trace")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    let world = Backend::Sqlite.world().await.unwrap();
    let app = TestApp::spawn(&world).await;
    let (_, wrong) = app.try_login("a_admin", "Wr0ng-secret-pw").await;
    assert_eq!(wrong.status, 401);
    let admin = app.login("a_admin").await;
    let token = admin
        .post(
            "/api/v1/system/tokens",
            &json!({"name": "t", "permissions": ["system:unit:list"]}),
        )
        .await
        .ok();
    let secret = token["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        app.with_token(&secret)
            .get("/api/v1/system/units")
            .await
            .status,
        200
    );
    admin
        .post(
            "/api/v1/me/password",
            &json!({"old_password": PASSWORD, "new_password": "Brand-n3w-pass"}),
        )
        .await;
    tracing::info!("end of scenario");
    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("end of scenario") && log.len() > 1000,
        "the capture works"
    );
    for secret_text in [
        "$argon2",
        PASSWORD,
        "Wr0ng-secret-pw",
        "Brand-n3w-pass",
        secret.as_str(),
        &secret[4..],
    ] {
        assert!(
            !log.contains(secret_text),
            "{secret_text:?} appeared in the log"
        );
    }
}
