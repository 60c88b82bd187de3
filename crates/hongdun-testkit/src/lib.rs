//! Test support: fresh databases on both backends, a small generated world,
//! a real server on port 0 with typed HTTP helpers, and the conformance suite
//! that SQLite and PostgreSQL must both pass.
//!
//! PostgreSQL tests run when `HONGDUN_TEST_PG_URL` is set (`.ci/run` sets it);
//! each test gets its own database, dropped when the test ends.
#![forbid(unsafe_code)]

pub mod api;
pub mod complaint;
pub mod conformance;
pub mod food;
pub mod food_check;
pub mod http;
pub mod inspection;
pub mod registry;

use hongdun_app::bootstrap::BootstrapOptions;
use hongdun_app::demo::DemoLogin;
use hongdun_app::{App, AppConfig};
use hongdun_store::Store;
use std::sync::Arc;

pub const PG_ENV: &str = "HONGDUN_TEST_PG_URL";

/// The two counties of the test world: 天台县 (A) and 平湖市 (B).
pub const COUNTY_A: &str = "331023";
pub const COUNTY_B: &str = "330482";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Direct access to the database, for tests that tamper behind the store's back.
pub enum Raw {
    Sqlite(sqlx::SqlitePool),
    Pg(sqlx::PgPool),
}

impl Raw {
    /// Runs a statement that may be refused (a trigger, a constraint).
    pub async fn try_exec(&self, sql: &str) -> Result<u64, String> {
        match self {
            Raw::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
            Raw::Pg(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
        }
        .map_err(|e| e.to_string())
    }

    /// The first column of the first row, as an integer.
    pub async fn scalar(&self, sql: &str) -> i64 {
        use sqlx::Row;
        match self {
            Raw::Sqlite(p) => sqlx::query(sql)
                .fetch_one(p)
                .await
                .unwrap()
                .get::<i64, _>(0),
            Raw::Pg(p) => sqlx::query(sql)
                .fetch_one(p)
                .await
                .unwrap()
                .get::<i64, _>(0),
        }
    }

    /// Every row, every column read as text (cast in the SQL where needed).
    pub async fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        use sqlx::Row;
        match self {
            Raw::Sqlite(p) => sqlx::query(sql)
                .fetch_all(p)
                .await
                .unwrap()
                .iter()
                .map(|r| (0..r.len()).map(|i| r.get::<String, _>(i)).collect())
                .collect(),
            Raw::Pg(p) => sqlx::query(sql)
                .fetch_all(p)
                .await
                .unwrap()
                .iter()
                .map(|r| (0..r.len()).map(|i| r.get::<String, _>(i)).collect())
                .collect(),
        }
    }

    /// The first column of the first row, as text.
    pub async fn text(&self, sql: &str) -> String {
        self.rows(sql).await.remove(0).remove(0)
    }

    pub async fn exec(&self, sql: &str) -> u64 {
        match self {
            Raw::Sqlite(p) => sqlx::query(sql).execute(p).await.unwrap().rows_affected(),
            Raw::Pg(p) => sqlx::query(sql).execute(p).await.unwrap().rows_affected(),
        }
    }
}

/// A fresh database; removed when dropped.
pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(#[allow(dead_code)] TempDir),
    PgDatabase { admin_url: String, name: String },
}

/// A directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl TempDir {
    pub fn new() -> Self {
        let dir =
            std::env::temp_dir().join(format!("hongdun-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::PgDatabase { admin_url, name } = &self.cleanup {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside any async context we may block: use a thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(pool) = sqlx::PgPool::connect(&admin_url).await {
                        let _ = sqlx::query(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .execute(&pool)
                        .await;
                        pool.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// Replaces the database name in a PostgreSQL URL.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let (scheme, rest) = base.split_once("://").expect("a postgres:// URL");
    let host = rest.split('/').next().unwrap_or(rest);
    match query {
        Some(q) => format!("{scheme}://{host}/{db}?{q}"),
        None => format!("{scheme}://{host}/{db}"),
    }
}

impl Backend {
    /// A fresh, migrated store, or `None` for PostgreSQL when no server is configured.
    pub async fn store(self) -> Option<(Arc<dyn Store>, Raw, TestDb)> {
        match self {
            Backend::Sqlite => {
                let dir = TempDir::new();
                let url = format!("sqlite://{}", dir.0.join("test.db").display());
                let store = hongdun_store_sqlite::SqliteStore::connect(&url)
                    .await
                    .unwrap();
                let raw = Raw::Sqlite(store.pool().clone());
                Some((
                    Arc::new(store),
                    raw,
                    TestDb {
                        url,
                        cleanup: Cleanup::Dir(dir),
                    },
                ))
            }
            Backend::Postgres => {
                let Ok(admin_url) = std::env::var(PG_ENV) else {
                    assert!(
                        std::env::var_os("CI").is_none(),
                        "{PG_ENV} must be set in CI: the PostgreSQL conformance run is mandatory there"
                    );
                    eprintln!("skipped: {PG_ENV} is not set");
                    return None;
                };
                let name = format!("hongdun_t_{}", uuid::Uuid::new_v4().simple());
                let admin = sqlx::PgPool::connect(&admin_url)
                    .await
                    .expect("connecting to HONGDUN_TEST_PG_URL");
                sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                    .execute(&admin)
                    .await
                    .unwrap();
                admin.close().await;
                let url = with_database(&admin_url, &name);
                let db = TestDb {
                    url: url.clone(),
                    cleanup: Cleanup::PgDatabase { admin_url, name },
                };
                let store = hongdun_store_pg::PgStore::connect(&url).await.unwrap();
                let raw = Raw::Pg(store.pool().clone());
                Some((Arc::new(store), raw, db))
            }
        }
    }

    /// A fresh database holding the test world: Zhejiang's divisions, the bundled
    /// holiday schedules, and two counties built by the demo generator, with
    /// users prefixed `a_` (天台) and `b_` (平湖).
    pub async fn world(self) -> Option<World> {
        let (store, raw, db) = self.store().await?;
        let app = Arc::new(App::new(store.clone(), AppConfig::default()));
        app.bootstrap(&BootstrapOptions {
            division_prefixes: Some(vec!["33".into()]),
        })
        .await
        .unwrap();
        stand_in_schedules(store.as_ref()).await;
        let a = app.create_county(COUNTY_A, "a_").await.unwrap();
        let b = app.create_county(COUNTY_B, "b_").await.unwrap();
        Some(World {
            backend: self,
            app,
            store,
            raw,
            db,
            logins_a: a,
            logins_b: b,
        })
    }
}

/// The tests run on today's date, and a deadline counted from today (20
/// working days to publish a visit, say) can run into a year whose official
/// schedule is not bundled yet: each is published in November or December,
/// and an administrator enters it (`PUT /api/v1/system/calendar/years/{y}`).
/// Until then the product answers `calendar_year_missing`, as it must. The
/// test world stands in for that administrator: each year after the last
/// bundled one, up to next year, is entered with ordinary weekends only.
async fn stand_in_schedules(store: &dyn Store) {
    use chrono::Datelike;
    let last = store
        .list_holiday_years()
        .await
        .unwrap()
        .iter()
        .map(|y| y.year)
        .max()
        .unwrap_or(0);
    let next = hongdun_app::inspection::today_cn().year() + 1;
    for year in last + 1..=next {
        store
            .put_holiday_year(
                &hongdun_store::AuditCtx::system("test"),
                year,
                "测试世界：尚未随版本发布的年份（仅普通周末）",
                &[],
            )
            .await
            .unwrap();
    }
}

pub struct World {
    pub backend: Backend,
    pub app: Arc<App>,
    pub store: Arc<dyn Store>,
    pub raw: Raw,
    pub db: TestDb,
    pub logins_a: Vec<DemoLogin>,
    pub logins_b: Vec<DemoLogin>,
}

/// The demo password of every generated user.
pub const PASSWORD: &str = hongdun_app::demo::DEMO_PASSWORD;

/// Generates one `#[tokio::test]` per case and backend; `$module` is a module
/// of this crate holding the cases.
#[macro_export]
macro_rules! on_both_backends {
    ($module:ident => $($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let world = $crate::Backend::Sqlite.world().await.unwrap();
                    $crate::$module::$case(&world).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(world) = $crate::Backend::Postgres.world().await else { return };
                    $crate::$module::$case(&world).await;
                }
            )*
        }
    };
}
