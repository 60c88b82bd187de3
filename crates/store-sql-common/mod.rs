//! SQL shared by both backends (see README.md beside this file).
mod alert;
mod audit;
mod complaint;
mod food;
pub(crate) mod inspection;
pub(crate) mod registry;
mod sample;
mod system;

pub(crate) use audit::append_audit;
// The chain's statements and next row, for SQLite's import writer (`bulk.rs`).
#[allow(unused_imports)]
pub(crate) use audit::{chained_row, AUDIT_HEAD, AUDIT_INSERT, AUDIT_NEXT};
// Used by SQLite's on-thread reads (`fast.rs`); PostgreSQL reads through sqlx.
#[allow(unused_imports)]
pub(crate) use inspection::{candidate_sql, SplitPoint, SqlArg, UnitSlice};

use crate::{map_err, Db, StoreError, StoreResult};
use chrono::{DateTime, SubsecRound, Utc};
use hongdun_store::ScopeFilter;
use sqlx::QueryBuilder;

pub(crate) type DbRow = <Db as sqlx::Database>::Row;
pub(crate) type Conn = <Db as sqlx::Database>::Connection;

/// One column of a row, with driver errors mapped.
pub(crate) fn get<'r, T>(r: &'r DbRow, col: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, Db> + sqlx::Type<Db>,
{
    sqlx::Row::try_get(r, col).map_err(map_err)
}

/// Timestamps are kept to the microsecond, which both databases store exactly,
/// so a value read back equals the value written (the audit hash relies on it).
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Appends ` AND <scope condition>` for a row owned by `unit_col` and,
/// where the table has one, by user `user_col`.
pub(crate) fn push_scope(
    qb: &mut QueryBuilder<'_, Db>,
    scope: &ScopeFilter,
    unit_col: &str,
    user_col: Option<&str>,
) {
    let ScopeFilter::Limited { units, user } = scope else {
        return;
    };
    let user = user.as_ref().zip(user_col);
    let push_units = |qb: &mut QueryBuilder<'_, Db>| {
        qb.push(unit_col).push(" IN (");
        let mut list = qb.separated(", ");
        for u in units {
            list.push_bind(u.0);
        }
        qb.push(")");
    };
    match (units.is_empty(), user) {
        (true, None) => {
            qb.push(" AND FALSE");
        }
        // Offices alone: a bare `IN` list, which SQLite's planner seeks an
        // index by (it scans the whole index for `(FALSE OR unit_id IN (…))`).
        (false, None) => {
            qb.push(" AND ");
            push_units(qb);
        }
        (true, Some((u, col))) => {
            qb.push(" AND ").push(col).push(" = ").push_bind(u.0);
        }
        (false, Some((u, col))) => {
            qb.push(" AND (");
            push_units(qb);
            qb.push(" OR ").push(col).push(" = ").push_bind(u.0);
            qb.push(")");
        }
    }
}

/// Space-separated lists (permissions) in one column.
pub(crate) fn join_list(items: &[String]) -> String {
    items.join(" ")
}
pub(crate) fn split_list(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

pub(crate) fn enum_col<T>(v: &str, parse: impl Fn(&str) -> Option<T>, col: &str) -> StoreResult<T> {
    parse(v).ok_or_else(|| StoreError::Other(format!("bad value {v:?} in column {col}")))
}

/// Escapes LIKE wildcards so user text matches literally (with `ESCAPE '\\'`).
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A LIKE pattern matching `s` anywhere, literally.
pub(crate) fn like_pattern(s: &str) -> String {
    format!("%{}%", like_escape(s))
}
