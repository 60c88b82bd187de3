//! Storage traits, row and input models, `StoreError` and `ScopeFilter`.
//!
//! No SQL lives here: `hongdun-store-sqlite` and `hongdun-store-pg` implement these
//! traits, and `hongdun-testkit`'s conformance suite holds both to the same
//! behaviour. Driver types never leak out of a backend crate.
#![forbid(unsafe_code)]

pub mod alert;
pub mod audit;
pub mod complaint;
pub mod food;
pub mod inspection;
pub mod registry;
pub mod sample;
pub mod system;

use hongdun_core::ids::{UnitId, UserId};
use hongdun_core::system::Scope;
use serde::Serialize;

pub use alert::*;
pub use audit::{AuditChange, AuditCtx, AuditQuery, AuditRow, AuditStore};
pub use complaint::*;
pub use food::*;
pub use inspection::*;
pub use registry::*;
pub use sample::*;
pub use system::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist, or lies outside the caller's scope.
    #[error("not found")]
    NotFound,
    /// A unique or foreign-key rule refused the change; `field` names the column.
    #[error("conflict on {field}")]
    Conflict { field: String },
    /// A referenced record (foreign key) does not exist.
    #[error("reference to a missing record")]
    MissingReference,
    /// A first bulk load into the empty register is under way and has left
    /// the credit code's uniqueness check to its end: businesses cannot be
    /// added or changed, nor looked up by code, until it is done.
    #[error("the register's first load is under way")]
    RegisterLoading,
    /// Anything else from the database; logged, never shown to users.
    #[error("database error: {0}")]
    Other(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Which owner units (and optionally which owning user) a read may return.
///
/// Every read of regulated data takes one. It can only be built from a resolved
/// [`Scope`], so there is no way to spell "no filter" by accident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeFilter {
    All,
    Limited {
        units: Vec<UnitId>,
        user: Option<UserId>,
    },
}

impl ScopeFilter {
    /// `None` for a denied scope: the caller answers 403 before touching the store.
    pub fn from_scope(scope: &Scope) -> Option<Self> {
        match scope {
            Scope::Denied => None,
            Scope::All => Some(Self::All),
            Scope::Limited { units, user } => Some(Self::Limited {
                units: units.iter().copied().collect(),
                user: *user,
            }),
        }
    }

    /// True when a record owned by `unit` (and created by or being `user`) is visible.
    pub fn allows(&self, unit: Option<UnitId>, user: Option<UserId>) -> bool {
        match self {
            Self::All => true,
            Self::Limited { units, user: me } => {
                unit.is_some_and(|u| units.contains(&u)) || (me.is_some() && *me == user)
            }
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Paging as the store takes it: 1-based page, bounded size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: i64,
    pub per_page: i64,
}

impl Paging {
    pub const MAX_PER_PAGE: i64 = 500;
    pub fn new(page: i64, per_page: i64) -> Self {
        Self {
            page: page.max(1),
            per_page: per_page.clamp(1, Self::MAX_PER_PAGE),
        }
    }
    pub fn offset(self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }
}

impl Default for Paging {
    fn default() -> Self {
        Self::new(1, 20)
    }
}

/// Everything a backend provides. `Arc<dyn Store>` is what the app holds.
#[async_trait::async_trait]
pub trait Store:
    DivisionStore
    + UnitStore
    + UserStore
    + RoleStore
    + SessionStore
    + TokenStore
    + AuditStore
    + LoginLogStore
    + DictStore
    + SettingStore
    + CalendarStore
    + EntityStore
    + ImportStore
    + InspectionStore
    + FileStore
    + ComplaintStore
    + FoodStore
    + AlertStore
    + SampleStore
    + Send
    + Sync
{
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Applies the embedded migrations; safe to run on every start.
    async fn migrate(&self) -> StoreResult<()>;
    /// A consistent copy of the whole database (SQLite only; PostgreSQL uses pg_dump).
    async fn backup_to(&self, path: &str) -> StoreResult<()>;
    async fn ping(&self) -> StoreResult<()>;
    async fn close(&self);
}
