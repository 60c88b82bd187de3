//! A real server on a free port, and typed helpers to talk to it.
use crate::World;
use hongdun_http::{AppState, HttpConfig};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;

pub struct TestApp {
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    /// Uploads wait here, apart from every other test's.
    pub uploads: crate::TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// One HTTP answer, body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub bytes: Vec<u8>,
    pub json: Value,
}

impl Resp {
    async fn from(r: reqwest::Response) -> Resp {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let bytes = r.bytes().await.unwrap().to_vec();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            text,
            bytes,
            json,
        }
    }

    /// The error code of an error answer.
    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or("")
    }

    #[track_caller]
    pub fn ok(self) -> Value {
        assert!(
            (200..300).contains(&self.status),
            "expected success, got {}: {}",
            self.status,
            self.text
        );
        self.json
    }
}

impl TestApp {
    /// Serves `world` on 127.0.0.1:0 until dropped.
    pub async fn spawn(world: &World) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let uploads = crate::TempDir::new();
        let state = AppState {
            app: world.app.clone(),
            http: Arc::new(HttpConfig {
                upload_dir: uploads.0.clone(),
                ..HttpConfig::default()
            }),
            metrics: Default::default(),
        };
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            hongdun_http::serve(listener, state, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        TestApp {
            addr,
            shutdown: Some(tx),
            uploads,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A client with no credentials (a member of the public).
    pub fn anonymous(&self) -> Client {
        Client {
            http: new_client(),
            base: self.url(""),
            csrf: None,
            bearer: None,
        }
    }

    pub async fn try_login(&self, username: &str, password: &str) -> (Client, Resp) {
        let client = self.anonymous();
        let resp = client
            .post(
                "/api/v1/auth/login",
                &serde_json::json!({"username": username, "password": password}),
            )
            .await;
        let csrf = resp.json["csrf_token"].as_str().map(str::to_owned);
        (Client { csrf, ..client }, resp)
    }

    /// Signs in a generated user with the demo password.
    pub async fn login(&self, username: &str) -> Client {
        let (client, resp) = self.try_login(username, crate::PASSWORD).await;
        assert_eq!(resp.status, 200, "login {username}: {}", resp.text);
        client
    }

    pub fn with_token(&self, token: &str) -> Client {
        Client {
            http: new_client(),
            base: self.url(""),
            csrf: None,
            bearer: Some(token.to_owned()),
        }
    }
}

fn new_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
}

/// A browser-like client: keeps cookies and sends the CSRF header it was given.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: Option<String>,
    pub bearer: Option<String>,
}

impl Client {
    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(c) = &self.csrf {
            r = r.header("x-csrf-token", c);
        }
        if let Some(t) = &self.bearer {
            r = r.bearer_auth(t);
        }
        r
    }

    pub async fn get(&self, path: &str) -> Resp {
        Resp::from(self.req(reqwest::Method::GET, path).send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        Resp::from(
            self.req(reqwest::Method::POST, path)
                .json(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// A raw body (file uploads).
    pub async fn post_bytes(&self, path: &str, body: Vec<u8>) -> Resp {
        Resp::from(
            self.req(reqwest::Method::POST, path)
                .body(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        Resp::from(
            self.req(reqwest::Method::PATCH, path)
                .json(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        Resp::from(
            self.req(reqwest::Method::PUT, path)
                .json(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        Resp::from(
            self.req(reqwest::Method::DELETE, path)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// The same client without its CSRF header, as a forged cross-site request.
    pub fn without_csrf(&self) -> Client {
        Client {
            csrf: None,
            ..self.clone()
        }
    }
}
