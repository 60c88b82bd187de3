//! Audit rows: written by the store in the same transaction as the change they
//! record, hash-chained, with personal fields redacted before they are written.
use crate::{Page, Paging, ScopeFilter, StoreResult};
use chrono::{DateTime, Utc};
use hongdun_core::ids::{UnitId, UserId};
use serde::Serialize;

/// Who is making a change, carried into every write.
#[derive(Debug, Clone)]
pub struct AuditCtx {
    pub actor_user_id: Option<UserId>,
    pub actor_name: String,
    pub unit_id: Option<UnitId>,
    pub request_id: Option<String>,
}

impl AuditCtx {
    /// Changes made from the command line or by start-up tasks.
    pub fn system(what: &str) -> Self {
        Self {
            actor_user_id: None,
            actor_name: format!("system:{what}"),
            unit_id: None,
            request_id: None,
        }
    }
}

/// What one change did; `before`/`after` are redacted JSON.
#[derive(Debug, Clone)]
pub struct AuditChange {
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Keys whose values never reach the audit log in clear.
pub const PERSONAL_KEYS: &[&str] = &[
    "password",
    "password_hash",
    "token",
    "token_hash",
    "id_number",
    "id_card",
    "phone",
    "mobile",
    "home_address",
    // A complainant is a private person: name, phone, ID and address.
    "complainant_name",
    "complainant_phone",
    "complainant_id_number",
    "complainant_address",
];

impl AuditChange {
    pub fn new<B: Serialize, A: Serialize>(
        action: &str,
        target_type: &str,
        target_id: impl ToString,
        before: Option<&B>,
        after: Option<&A>,
    ) -> Self {
        Self {
            action: action.to_owned(),
            target_type: target_type.to_owned(),
            target_id: target_id.to_string(),
            before: before.map(redacted_json),
            after: after.map(redacted_json),
        }
    }
}

/// Serialises `v` with every personal key (at any depth) replaced by a marker
/// that still tells whether it was set.
pub fn redacted_json<T: Serialize + ?Sized>(v: &T) -> String {
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, val) in map.iter_mut() {
                    if PERSONAL_KEYS.contains(&k.as_str()) {
                        if !val.is_null() {
                            *val = serde_json::Value::String("[已脱敏]".into());
                        }
                    } else {
                        walk(val);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(v).unwrap_or(serde_json::Value::Null);
    walk(&mut value);
    value.to_string()
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditRow {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_user_id: Option<i64>,
    pub actor_name: String,
    pub unit_id: Option<i64>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRow {
    /// The timestamp exactly as the hash covers it.
    pub fn at_text(at: &DateTime<Utc>) -> String {
        at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    }

    /// The hashed fields of this row; `at` is `Self::at_text(&self.at)`.
    pub fn fields<'a>(&'a self, at: &'a str) -> hongdun_core::audit::AuditFields<'a> {
        hongdun_core::audit::AuditFields {
            seq: self.seq,
            at,
            actor_user_id: self.actor_user_id,
            actor_name: &self.actor_name,
            unit_id: self.unit_id,
            action: &self.action,
            target_type: &self.target_type,
            target_id: &self.target_id,
            before: self.before.as_deref(),
            after: self.after.as_deref(),
            request_id: self.request_id.as_deref(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub action: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub actor_user_id: Option<UserId>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub paging: Paging,
}

#[async_trait::async_trait]
pub trait AuditStore {
    /// Newest first. Rows are scoped by the unit of the person who acted.
    async fn list_audit(&self, scope: &ScopeFilter, q: &AuditQuery) -> StoreResult<Page<AuditRow>>;
    /// Rows with `seq > after`, oldest first, for chain verification.
    async fn audit_rows_after(&self, after: i64, limit: i64) -> StoreResult<Vec<AuditRow>>;
    /// Records an action that changes no other table (an export, a verification run).
    async fn record_audit(&self, ctx: &AuditCtx, change: AuditChange) -> StoreResult<i64>;
    /// The chain's last position and hash, as the writer left them.
    async fn audit_head(&self) -> StoreResult<(i64, String)>;
}
