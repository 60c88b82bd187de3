//! Reading and verifying the audit chain.
use crate::{App, AppResult, Principal};
use hongdun_core::audit::{chain_hash, GENESIS_HASH};
use hongdun_store::{AuditChange, AuditCtx, AuditQuery, AuditRow, Page};
use serde::Serialize;

/// The outcome of walking the chain from its first row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifyReport {
    pub rows_checked: i64,
    pub ok: bool,
    /// The first row at which the chain no longer holds.
    pub first_broken: Option<BrokenLink>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BrokenLink {
    pub seq: i64,
    /// `row_altered`, `row_missing` or `chain_relinked`, `tail_missing`.
    pub code: &'static str,
    pub message: String,
}

impl App {
    pub async fn list_audit(
        &self,
        p: &crate::Principal,
        q: &AuditQuery,
    ) -> AppResult<Page<AuditRow>> {
        let scope = self.authorize(p, "system:audit:list").await?;
        Ok(self.store.list_audit(&scope, q).await?)
    }

    /// Verifies the chain on behalf of a user; the run itself is audited.
    pub async fn verify_audit_as(&self, p: &Principal) -> AppResult<VerifyReport> {
        self.authorize(p, "system:audit:verify").await?;
        let report = self.verify_audit().await?;
        self.store
            .record_audit(
                &p.audit_ctx(),
                AuditChange::new::<(), _>(
                    "system.audit.verify",
                    "audit_log",
                    "*",
                    None,
                    Some(&report),
                ),
            )
            .await?;
        Ok(report)
    }

    /// Walks every row in order, recomputing each hash; stops at the first break.
    pub async fn verify_audit(&self) -> AppResult<VerifyReport> {
        let mut prev_hash = GENESIS_HASH.to_owned();
        let mut prev_seq = 0i64;
        let mut checked = 0i64;
        let broken = |checked: i64, seq, code, message: String| {
            Ok(VerifyReport {
                rows_checked: checked,
                ok: false,
                first_broken: Some(BrokenLink { seq, code, message }),
            })
        };
        loop {
            let rows = self.store.audit_rows_after(prev_seq, 1000).await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                if row.seq != prev_seq + 1 {
                    return broken(
                        checked,
                        prev_seq + 1,
                        "row_missing",
                        format!("第 {} 条操作日志缺失", prev_seq + 1),
                    );
                }
                if row.prev_hash != prev_hash {
                    return broken(
                        checked,
                        row.seq,
                        "chain_relinked",
                        format!("第 {} 条的前序哈希与上一条不符", row.seq),
                    );
                }
                let at = AuditRow::at_text(&row.at);
                if chain_hash(&row.prev_hash, &row.fields(&at)) != row.hash {
                    return broken(
                        checked,
                        row.seq,
                        "row_altered",
                        format!("第 {} 条操作日志的内容被改动", row.seq),
                    );
                }
                prev_hash = row.hash.clone();
                prev_seq = row.seq;
                checked += 1;
            }
        }
        let (head_seq, head_hash) = self.store.audit_head().await?;
        if head_seq != prev_seq || head_hash != prev_hash {
            return broken(
                checked,
                prev_seq + 1,
                "tail_missing",
                format!("日志链记录到第 {head_seq} 条，但只找到 {prev_seq} 条：末尾的日志被删除"),
            );
        }
        Ok(VerifyReport {
            rows_checked: checked,
            ok: true,
            first_broken: None,
        })
    }

    /// Records an action that changes nothing else (an export, a backup).
    pub async fn record(&self, ctx: &AuditCtx, change: AuditChange) -> AppResult<i64> {
        Ok(self.store.record_audit(ctx, change).await?)
    }
}
