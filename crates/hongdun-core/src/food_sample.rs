//! Food sampling tests (食品安全监督抽检). DOMAIN.md §6.
//!
//! A sample is taken under a plan from a business (the seller), sent to a lab,
//! and judged item by item: a value against its limit under a standard. One
//! failed item fails the sample. A failed sample is disposed of — a notice
//! served on the business (核查处置通知), a recall (召回), a case opened (立案)
//! — and ends only when a person closes it after at least one disposal step.
//! Results are published (抽检信息公告) with nothing personal in them.
use crate::Coded;
use serde::{Deserialize, Serialize};

/// Food categories of the national sampling plan (国家食品安全抽样检验).
pub const CATEGORIES: &[(&str, &str)] = &[
    ("grain", "粮食加工品"),
    ("oil", "食用油、油脂及其制品"),
    ("condiment", "调味品"),
    ("meat", "肉制品"),
    ("dairy", "乳制品"),
    ("beverage", "饮料"),
    ("instant", "方便食品"),
    ("biscuit", "饼干"),
    ("canned", "罐头"),
    ("frozen_drink", "冷冻饮品"),
    ("quick_frozen", "速冻食品"),
    ("puffed", "薯类和膨化食品"),
    ("candy", "糖果制品"),
    ("tea", "茶叶及相关制品"),
    ("liquor", "酒类"),
    ("vegetable", "蔬菜制品"),
    ("fruit", "水果制品"),
    ("nuts", "炒货食品及坚果制品"),
    ("egg", "蛋制品"),
    ("sugar", "食糖"),
    ("aquatic", "水产制品"),
    ("starch", "淀粉及淀粉制品"),
    ("pastry", "糕点"),
    ("soy", "豆制品"),
    ("bee", "蜂产品"),
    ("infant", "婴幼儿配方食品"),
    ("catering", "餐饮食品"),
    ("agri", "食用农产品"),
    ("additive", "食品添加剂"),
];

/// Where a sample was taken.
pub const PLACE_KINDS: &[(&str, &str)] = &[
    ("supermarket", "超市/商场"),
    ("market", "农贸市场"),
    ("shop", "食杂店"),
    ("catering", "餐饮服务单位"),
    ("canteen", "单位/学校食堂"),
    ("online", "网络销售"),
    ("producer", "生产企业"),
];

pub fn category_label(code: &str) -> Option<&'static str> {
    CATEGORIES.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}
pub fn place_kind_label(code: &str) -> Option<&'static str> {
    PLACE_KINDS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SampleState {
    /// 待检验: taken, no results yet.
    Sampled,
    /// 合格
    Passed,
    /// 不合格: waiting for disposal.
    Failed,
    /// 核查处置中: at least one disposal step taken.
    Disposing,
    /// 处置完毕: closed by a person.
    Closed,
}

impl SampleState {
    pub const ALL: [SampleState; 5] = [
        Self::Sampled,
        Self::Passed,
        Self::Failed,
        Self::Disposing,
        Self::Closed,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sampled => "sampled",
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Disposing => "disposing",
            Self::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Sampled => "待检验",
            Self::Passed => "合格",
            Self::Failed => "不合格（待处置）",
            Self::Disposing => "核查处置中",
            Self::Closed => "处置完毕",
        }
    }
    /// Whether results are known (a sample can be published).
    pub fn has_results(self) -> bool {
        !matches!(self, Self::Sampled)
    }
    /// Whether the sample failed (whatever its disposal).
    pub fn failed(self) -> bool {
        matches!(self, Self::Failed | Self::Disposing | Self::Closed)
    }
}

/// Disposal steps for a failed sample.
pub const DISPOSALS: &[(&str, &str)] = &[
    ("notice", "送达检验结论并责令核查整改"),
    ("recall", "责令召回/下架"),
    ("case", "立案调查"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SampleAction {
    /// The lab's results: whether any item failed.
    Results { failed: bool },
    /// A disposal step (one of [`DISPOSALS`]).
    Dispose,
    /// 处置完毕, with the number of disposal steps taken so far.
    Close { disposals: usize },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SampleError {
    #[error("action not allowed in state {0:?}")]
    NotAllowed(SampleState),
    #[error("a failed sample needs a disposal step before it is closed")]
    NoDisposal,
}

impl Coded for SampleError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotAllowed(_) => "sample_state",
            Self::NoDisposal => "sample_disposal_required",
        }
    }
    fn message_zh(&self) -> String {
        match self {
            Self::NotAllowed(s) => format!("样品当前为“{}”，不能执行该操作", s.label_zh()),
            Self::NoDisposal => "不合格样品须先完成核查处置（送达、召回或立案）才能办结".into(),
        }
    }
}

/// The one transition table.
pub fn sample_next(state: SampleState, action: &SampleAction) -> Result<SampleState, SampleError> {
    use SampleAction as A;
    use SampleState as S;
    match (state, action) {
        (S::Sampled, A::Results { failed: false }) => Ok(S::Passed),
        (S::Sampled, A::Results { failed: true }) => Ok(S::Failed),
        (S::Failed | S::Disposing, A::Dispose) => Ok(S::Disposing),
        (S::Failed, A::Close { .. }) => Err(SampleError::NoDisposal),
        (S::Disposing, A::Close { disposals }) => {
            if *disposals == 0 {
                Err(SampleError::NoDisposal)
            } else {
                Ok(S::Closed)
            }
        }
        (s, _) => Err(SampleError::NotAllowed(s)),
    }
}

/// "Not detected" as labs write it.
fn not_detected(v: &str) -> bool {
    matches!(v, "未检出" | "ND" | "nd" | "N.D." | "阴性" | "-")
}

fn number(v: &str) -> Option<f64> {
    let v = v.trim_start_matches(['<', '＜']);
    v.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// Judges a value against a limit as labs and standards write them:
/// `≤0.2`, `<=0.2`, `<0.2`, `≥3.0`, `>3.0`, `0.5~1.5` (also `0.5-1.5`), and
/// `不得检出`. A value `未检出`/`ND` counts as zero; `<0.01` (below the
/// detection limit) likewise. `None` when either cannot be read: the lab's own
/// verdict is then needed.
pub fn judge(value: &str, limit: &str) -> Option<bool> {
    let value: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let limit: String = limit
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .replace("<=", "≤")
        .replace(">=", "≥")
        .replace('＜', "<")
        .replace('＞', ">")
        .replace('～', "~")
        .replace(['—', '–'], "-");
    let v = if not_detected(&value) || value.starts_with(['<', '＜']) {
        Some(0.0)
    } else {
        number(&value)
    };
    if limit == "不得检出" || limit == "ND" || limit == "阴性" {
        return Some(not_detected(&value) || value.starts_with(['<', '＜']) || v == Some(0.0));
    }
    let v = v?;
    let (op, rest) = if let Some(r) = limit.strip_prefix('≤') {
        ("le", r)
    } else if let Some(r) = limit.strip_prefix('≥') {
        ("ge", r)
    } else if let Some(r) = limit.strip_prefix('<') {
        ("lt", r)
    } else if let Some(r) = limit.strip_prefix('>') {
        ("gt", r)
    } else {
        let (a, b) = limit.split_once('~').or_else(|| limit.split_once('-'))?;
        let (a, b) = (number(a)?, number(b)?);
        return Some(a <= v && v <= b);
    };
    let l = number(rest)?;
    Some(match op {
        "le" => v <= l,
        "ge" => v >= l,
        "lt" => v < l,
        _ => v > l,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judges_limits_as_labs_write_them() {
        assert_eq!(judge("0.15", "≤0.2"), Some(true));
        assert_eq!(judge("0.25", "≤ 0.2"), Some(false));
        assert_eq!(judge("0.2", "<=0.2"), Some(true));
        assert_eq!(judge("0.2", "<0.2"), Some(false));
        assert_eq!(judge("未检出", "≤0.05"), Some(true));
        assert_eq!(judge("<0.01", "≤0.05"), Some(true));
        assert_eq!(judge("3.1", "≥3.0"), Some(true));
        assert_eq!(judge("未检出", "≥3.0"), Some(false));
        assert_eq!(judge("1.0", "0.5~1.5"), Some(true));
        assert_eq!(judge("1.6", "0.5-1.5"), Some(false));
        assert_eq!(judge("未检出", "不得检出"), Some(true));
        assert_eq!(judge("0.003", "不得检出"), Some(false));
        assert_eq!(judge("阳性", "≤0.2"), None);
        assert_eq!(judge("0.1", "应符合标准"), None);
    }

    #[test]
    fn a_failed_sample_closes_only_after_disposal() {
        use SampleAction as A;
        use SampleState as S;
        assert_eq!(
            sample_next(S::Sampled, &A::Results { failed: false }),
            Ok(S::Passed)
        );
        assert_eq!(
            sample_next(S::Sampled, &A::Results { failed: true }),
            Ok(S::Failed)
        );
        assert_eq!(
            sample_next(S::Failed, &A::Close { disposals: 0 }),
            Err(SampleError::NoDisposal)
        );
        assert_eq!(sample_next(S::Failed, &A::Dispose), Ok(S::Disposing));
        assert_eq!(
            sample_next(S::Disposing, &A::Close { disposals: 1 }),
            Ok(S::Closed)
        );
        assert!(sample_next(S::Passed, &A::Dispose).is_err());
        assert!(sample_next(S::Closed, &A::Dispose).is_err());
        assert!(sample_next(S::Passed, &A::Results { failed: true }).is_err());
        // Every state reachable from Failed that is not Closed still needs a person.
        for s in S::ALL {
            if let Ok(next) = sample_next(s, &A::Close { disposals: 1 }) {
                assert_eq!((s, next), (S::Disposing, S::Closed));
            }
        }
    }
}
