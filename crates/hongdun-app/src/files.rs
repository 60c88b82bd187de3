//! Uploaded files: photos of a visit, rectification evidence. Kept in the
//! database (a backup holds them), typed by their first bytes rather than by
//! what the client claims, and read back only within the reader's scope.
use crate::{App, AppError, AppResult, Principal};
use hongdun_store::{NewFile, ScopeFilter, StoredFile};
use sha2::{Digest, Sha256};

/// Largest file accepted (a phone photo is a few MB).
pub const MAX_FILE_BYTES: usize = 10 << 20;

/// The content type of `bytes` by their signature: JPEG, PNG, WebP or PDF.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

/// A 1×1 PNG: the demo's stand-in for a rectification photo.
pub const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// "file:12" → 12.
pub fn file_ref(s: &str) -> Option<i64> {
    s.strip_prefix("file:")?.parse().ok().filter(|&n| n > 0)
}

impl App {
    /// The scope of the first of `perms` the caller holds.
    async fn any_scope(&self, p: &Principal, perms: &[&str]) -> AppResult<ScopeFilter> {
        for perm in perms {
            match self.authorize(p, perm).await {
                Ok(s) => return Ok(s),
                Err(AppError::Forbidden) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(AppError::Forbidden)
    }

    pub async fn upload_file(
        &self,
        p: &Principal,
        name: &str,
        bytes: Vec<u8>,
    ) -> AppResult<StoredFile> {
        self.any_scope(
            p,
            &["inspection:task:record", "hazard:handle", "hazard:create"],
        )
        .await?;
        let tree = self.unit_tree().await?;
        let file = self.checked_file(name, bytes, tree.scope_anchor(p.user.unit_id))?;
        Ok(self.store.put_file(&p.audit_ctx(), &file).await?)
    }

    /// An upload checked for size and type, its name cleaned, ready to store.
    pub(crate) fn checked_file(
        &self,
        name: &str,
        bytes: Vec<u8>,
        unit_id: hongdun_core::ids::UnitId,
    ) -> AppResult<NewFile> {
        if bytes.is_empty() {
            return Err(AppError::field("file", "file_empty", "文件是空的"));
        }
        if bytes.len() > MAX_FILE_BYTES {
            return Err(AppError::field(
                "file",
                "file_too_large",
                format!("文件不能超过 {} MB", MAX_FILE_BYTES >> 20),
            ));
        }
        let content_type = sniff(&bytes).ok_or_else(|| {
            AppError::field(
                "file",
                "file_type",
                "只接受 JPEG、PNG、WebP 图片或 PDF 文件",
            )
        })?;
        let name: String = name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_control())
            .take(100)
            .collect();
        let file = NewFile {
            sha256: hex::encode(Sha256::digest(&bytes)),
            name: if name.trim().is_empty() {
                "upload".into()
            } else {
                name
            },
            content_type: content_type.into(),
            data: bytes,
            unit_id,
        };
        Ok(file)
    }

    pub async fn get_file(&self, p: &Principal, id: i64) -> AppResult<(StoredFile, Vec<u8>)> {
        let scope = self
            .any_scope(
                p,
                &["hazard:list", "inspection:task:list", "food:alert:list"],
            )
            .await?;
        Ok(self.store.get_file(&scope, id).await?)
    }

    /// Every reference must be `file:ID` of an upload the caller can see.
    pub(crate) async fn check_file_refs(
        &self,
        p: &Principal,
        field: &str,
        refs: &[String],
    ) -> AppResult<()> {
        let mut ids = Vec::new();
        for r in refs {
            match file_ref(r.trim()) {
                Some(id) => ids.push(id),
                None => {
                    return Err(AppError::field(
                        field,
                        "file_unknown",
                        format!("“{r}”不是已上传的文件，请先上传照片或材料"),
                    ))
                }
            }
        }
        if ids.is_empty() {
            return Ok(());
        }
        let scope = self
            .any_scope(p, &["hazard:list", "inspection:task:list"])
            .await?;
        let found = self.store.file_info(&scope, &ids).await?;
        if let Some(missing) = ids.iter().find(|id| !found.iter().any(|f| f.id == **id)) {
            return Err(AppError::field(
                field,
                "file_unknown",
                format!("文件 {missing} 不存在或不在您的管辖范围内"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest"), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"%PDF-1.7"), Some("application/pdf"));
        assert_eq!(sniff(b"<html>"), None);
        assert_eq!(file_ref("file:12"), Some(12));
        assert_eq!(file_ref("file:0"), None);
        assert_eq!(file_ref("photo.jpg"), None);
    }
}
