//! AI capture alerts (AI 抓拍预警) from kitchen edge boxes. DOMAIN.md §6.
//!
//! An edge box watching a sunshine-kitchen camera reports a violation of a kind
//! from [`VIOLATIONS`] with a confidence in (0, 1]. The same kind on the same
//! camera again within the merge window, while the first is still waiting for
//! triage, is a repeat of it, not a new alert. A person triages every alert:
//! dismissed (a false positive — a cat is not a rat) with a reason, or confirmed,
//! which opens a hazard with a rectification order; the alert ends when that
//! hazard is closed after a re-check. Nothing closes an alert by itself.
use crate::Coded;
use serde::{Deserialize, Serialize};

/// Violations the boxes may report: code, label, and whether a confirmed one
/// is a hygiene matter of the kitchen's staff or of the premises.
pub const VIOLATIONS: &[(&str, &str)] = &[
    ("no_mask", "未戴口罩"),
    ("no_hat", "未戴厨师帽"),
    ("no_uniform", "未穿工作服"),
    ("smoking", "吸烟"),
    ("phone", "玩手机"),
    ("bare_hand", "徒手接触直接入口食品"),
    ("rodent", "老鼠出没"),
    ("bin_overflow", "垃圾桶未盖/满溢"),
    ("wet_floor", "地面积水"),
    ("flame", "明火无人看管"),
];

pub fn violation_label(code: &str) -> Option<&'static str> {
    VIOLATIONS.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}

/// Default merge window in minutes (setting `alert.merge_window_minutes`).
pub const DEFAULT_MERGE_WINDOW: u32 = 10;
/// An alert older than this when it arrives is refused (boxes that were offline
/// flush their queue; a week is enough).
pub const MAX_AGE_HOURS: i64 = 7 * 24;
/// Largest snapshot accepted, in bytes (decoded).
pub const MAX_SNAPSHOT_BYTES: usize = 2 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AlertStatus {
    /// 待研判
    Pending,
    /// 已确认 (a hazard carries the rectification)
    Confirmed,
    /// 已排除 (false positive)
    Dismissed,
}

impl AlertStatus {
    pub const ALL: [AlertStatus; 3] = [Self::Pending, Self::Confirmed, Self::Dismissed];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::Dismissed => "dismissed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Pending => "待研判",
            Self::Confirmed => "已确认",
            Self::Dismissed => "已排除（误报）",
        }
    }
}

/// Why one reported alert was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertError {
    #[error("unknown violation kind")]
    Kind,
    #[error("confidence out of range")]
    Confidence,
    #[error("alert time in the future")]
    Future,
    #[error("alert too old")]
    TooOld,
    #[error("snapshot not valid")]
    Snapshot,
    #[error("alert already triaged")]
    Triaged,
}

impl Coded for AlertError {
    fn code(&self) -> &'static str {
        match self {
            Self::Kind => "alert_kind",
            Self::Confidence => "alert_confidence",
            Self::Future => "alert_in_future",
            Self::TooOld => "alert_too_old",
            Self::Snapshot => "alert_snapshot",
            Self::Triaged => "alert_triaged",
        }
    }
    fn message_zh(&self) -> String {
        match self {
            Self::Kind => "未知的违规类型".into(),
            Self::Confidence => "置信度应在 0 到 1 之间".into(),
            Self::Future => "抓拍时间晚于当前时间".into(),
            Self::TooOld => "抓拍时间早于 7 天前，不再受理".into(),
            Self::Snapshot => "抓拍图片应为不超过 2 MB 的 JPEG 或 PNG（Base64 编码）".into(),
            Self::Triaged => "该预警已研判，不能重复处理".into(),
        }
    }
}

/// Checks one alert's kind and confidence (time and snapshot are checked by the
/// caller, which knows the clock and decodes the image).
pub fn check(kind: &str, confidence: f64) -> Result<(), AlertError> {
    if violation_label(kind).is_none() {
        return Err(AlertError::Kind);
    }
    if !(confidence > 0.0 && confidence <= 1.0) {
        return Err(AlertError::Confidence);
    }
    Ok(())
}

/// The image type of a snapshot by its magic bytes.
pub fn snapshot_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else {
        None
    }
}

/// False-positive rate: dismissed over triaged (confirmed + dismissed); `None`
/// when nothing was triaged.
pub fn false_positive_rate(confirmed: i64, dismissed: i64) -> Option<f64> {
    let triaged = confirmed + dismissed;
    (triaged > 0).then(|| dismissed as f64 / triaged as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionary_and_checks() {
        assert_eq!(violation_label("rodent"), Some("老鼠出没"));
        assert_eq!(check("cat", 0.9), Err(AlertError::Kind));
        assert_eq!(check("rodent", 0.0), Err(AlertError::Confidence));
        assert_eq!(check("rodent", 1.01), Err(AlertError::Confidence));
        assert_eq!(check("rodent", f64::NAN), Err(AlertError::Confidence));
        assert!(check("no_mask", 1.0).is_ok());
        assert_eq!(AlertError::Kind.code(), "alert_kind");
        let codes: std::collections::HashSet<_> = VIOLATIONS.iter().map(|(c, _)| c).collect();
        assert_eq!(codes.len(), VIOLATIONS.len());
    }

    #[test]
    fn snapshot_types_and_rates() {
        assert_eq!(snapshot_type(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(snapshot_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(snapshot_type(b"GIF89a"), None);
        assert_eq!(false_positive_rate(0, 0), None);
        assert_eq!(false_positive_rate(3, 1), Some(0.25));
    }
}
