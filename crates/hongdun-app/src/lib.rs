//! Use cases: authentication, authorisation and data scope, audit, and the
//! orchestration of stores. The HTTP layer and the command line call only this.
#![forbid(unsafe_code)]

pub mod alert;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod calendar;
pub mod complaint;
mod dedup;
pub mod demo;
mod error;
pub mod files;
pub mod food;
pub mod gen;
pub mod import;
pub mod inspection;
pub mod registry;
pub mod sample;
pub mod system;

pub use error::{AppError, AppResult, FieldError, REGISTRY_LOADING};

use hongdun_core::calendar::Calendar;
use hongdun_core::ids::{TokenId, UserId};
use hongdun_core::system::{RoleGrant, Scope, UnitTree};
use hongdun_store::{AuditCtx, Pledge, Role, ScopeFilter, Store, User};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Settings the application starts with; administrators can override the
/// `auth.*` ones at run time through the settings table.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub session_hours: i64,
    pub lockout_threshold: i64,
    pub lockout_minutes: i64,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            session_hours: 12,
            lockout_threshold: 5,
            lockout_minutes: 15,
        }
    }
}

/// How long cached reference data (unit tree, calendar) may be served before it
/// is re-read, so that several servers on one PostgreSQL converge.
const CACHE_TTL: Duration = Duration::from_secs(30);

/// Pledges by entity id.
pub(crate) type PledgeMap = HashMap<i64, Vec<Pledge>>;

struct Cached<T> {
    at: Instant,
    value: Arc<T>,
}

/// One piece of cached reference data, re-read after `CACHE_TTL`.
pub(crate) struct CacheSlot<T>(RwLock<Option<Cached<T>>>);

impl<T> CacheSlot<T> {
    fn new() -> Self {
        Self(RwLock::new(None))
    }
    /// The value, unless missing or older than `CACHE_TTL`.
    pub(crate) fn fresh(&self) -> Option<Arc<T>> {
        self.0
            .read()
            .unwrap()
            .as_ref()
            .filter(|c| c.at.elapsed() < CACHE_TTL)
            .map(|c| c.value.clone())
    }
    pub(crate) fn put(&self, value: T) -> Arc<T> {
        let value = Arc::new(value);
        *self.0.write().unwrap() = Some(Cached {
            at: Instant::now(),
            value: value.clone(),
        });
        value
    }
    pub(crate) fn forget(&self) {
        *self.0.write().unwrap() = None;
    }
    /// The value however old (served while another caller re-reads it).
    pub(crate) fn any(&self) -> Option<Arc<T>> {
        self.0.read().unwrap().as_ref().map(|c| c.value.clone())
    }
}

pub struct App {
    store: Arc<dyn Store>,
    config: AppConfig,
    units: CacheSlot<UnitTree>,
    calendar: CacheSlot<Calendar>,
    /// Every pledge by entity id: the public merchant page reads it on each
    /// request, and pledges are few.
    pledges: CacheSlot<PledgeMap>,
    /// Delivery-seal keys, batches and the scans not yet written (see `food`).
    seal_keys: CacheSlot<food::Keyring>,
    seal_batches: CacheSlot<food::BatchMap>,
    scan_book: food::ScanBook,
    /// Merchants' public views by credit code for the seal check (30 s).
    seal_merchants: food::MerchantCache,
    /// The kitchen online window (a setting), read at most every 30 s.
    online_window: CacheSlot<u32>,
    /// Every kitchen camera: the heartbeat intake and the public page read it.
    cameras: CacheSlot<food::CameraMap>,
    /// One reader of the camera list at a time; the others use the old list.
    cameras_loading: tokio::sync::Mutex<()>,
    /// The import jobs this process is running (see `import::LiveImport`).
    live_imports: std::sync::Mutex<std::collections::HashSet<i64>>,
}

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A browser session; state-changing requests must carry `csrf_token`.
    Session { id_hash: String, csrf_token: String },
    /// An API token, limited to its own permissions.
    Token {
        id: TokenId,
        permissions: Vec<String>,
    },
}

/// The signed-in caller of one request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    pub roles: Vec<Role>,
    pub credential: Credential,
    pub request_id: Option<String>,
    pub ip: Option<String>,
}

impl Principal {
    pub fn user_id(&self) -> UserId {
        self.user.id
    }

    /// The permissions this caller holds right now: the union over enabled roles,
    /// narrowed to the token's own list for API tokens.
    pub fn permissions(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .roles
            .iter()
            .filter(|r| r.enabled)
            .flat_map(|r| r.permissions.iter().cloned())
            .collect();
        if let Credential::Token { permissions, .. } = &self.credential {
            all.retain(|p| permissions.contains(p));
        }
        all.sort();
        all.dedup();
        all
    }

    pub fn audit_ctx(&self) -> AuditCtx {
        AuditCtx {
            actor_user_id: Some(self.user.id),
            actor_name: self.user.username.clone(),
            unit_id: Some(self.user.unit_id),
            request_id: self.request_id.clone(),
        }
    }

    fn grants(&self) -> Vec<RoleGrant> {
        self.roles
            .iter()
            .map(|r| RoleGrant {
                enabled: r.enabled,
                scope: r.scope,
                custom_units: r.custom_units.clone(),
                permissions: r.permissions.iter().cloned().collect(),
            })
            .collect()
    }
}

impl App {
    pub fn new(store: Arc<dyn Store>, config: AppConfig) -> Self {
        Self {
            store,
            config,
            units: CacheSlot::new(),
            calendar: CacheSlot::new(),
            pledges: CacheSlot::new(),
            seal_keys: CacheSlot::new(),
            seal_batches: CacheSlot::new(),
            scan_book: food::ScanBook::default(),
            seal_merchants: food::MerchantCache::default(),
            online_window: CacheSlot::new(),
            cameras: CacheSlot::new(),
            cameras_loading: tokio::sync::Mutex::new(()),
            live_imports: Default::default(),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn config(&self) -> &AppConfig {
        &self.config
    }

    /// The data scope `p` holds for `permission`, or `Forbidden`.
    ///
    /// Every use case that reads or changes regulated data starts here; the
    /// resulting filter goes into the store call.
    pub async fn authorize(&self, p: &Principal, permission: &str) -> AppResult<ScopeFilter> {
        if let Credential::Token { permissions, .. } = &p.credential {
            if !permissions.iter().any(|x| x == permission) {
                return Err(AppError::Forbidden);
            }
        }
        let tree = self.unit_tree().await?;
        let scope = Scope::resolve(&p.grants(), permission, p.user.id, p.user.unit_id, &tree);
        ScopeFilter::from_scope(&scope).ok_or(AppError::Forbidden)
    }

    pub async fn unit_tree(&self) -> AppResult<Arc<UnitTree>> {
        if let Some(tree) = self.units.fresh() {
            return Ok(tree);
        }
        Ok(self
            .units
            .put(UnitTree::new(self.store.unit_nodes().await?)))
    }

    fn forget_units(&self) {
        self.units.forget();
    }
}
