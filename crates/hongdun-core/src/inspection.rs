//! Random inspections (双随机、一公开): the draw itself and the hazard loop's states.
//!
//! A draw is a pure function of its published inputs — the seed, the frozen
//! candidate list (id, credit-risk class, grid), the sampling rule, the inspector
//! pool with its recusal data and the team size — so `hongdun draw verify`, the
//! public verification page and the server all run this same code.
//!
//! Businesses: each class is sampled with the published-seed method
//! ([`crate::sampling`]) under the plan's ratio (rounded up, see
//! [`crate::sampling::quota`]), or the whole list for a fixed count. Teams: for
//! each drawn business, the inspectors who may inspect it (not of its grid, not
//! declaring a conflict with it) are ordered by the ticket of
//! `"{business id}/{certificate number}"` under the same seed, and the first
//! `team_size` form its team. Each business's team depends on nothing but its own
//! inputs, so one line of a published draw can be checked alone.
pub use crate::candidate_set::CandidateSet;
use crate::sampling::{quota, sha256_hex, Sampler, ALGORITHM, ALGORITHM_VERSION};
use crate::Coded;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// Credit-risk classes the product knows until configuration says otherwise
/// (SAMR 2022: A low … D high). Until credit grades exist every business is B.
pub const DEFAULT_CLASS: &str = "B";

/// One line of the frozen candidate list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// The credit code (or registration number).
    pub id: String,
    pub class: String,
    pub grid: Option<String>,
}

/// An inspector as the draw sees them: the certificate number identifies them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolInspector {
    pub cert_no: String,
    pub grid: Option<String>,
    /// Businesses (ids) this inspector declared a conflict of interest with.
    #[serde(default)]
    pub conflicts: BTreeSet<String>,
}

/// How many businesses to draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum Sampling {
    /// A ratio per class in basis points (500 = 5%); classes not listed are not drawn.
    Ratio { ratios: BTreeMap<String, u32> },
    /// A fixed number from the whole list, whatever the class.
    Count { count: usize },
}

/// Everything a draw depends on; what is published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawInput {
    pub seed: String,
    pub sampling: Sampling,
    pub team_size: usize,
    pub candidates: Vec<Candidate>,
    pub inspectors: Vec<PoolInspector>,
}

/// One drawn business and its team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pick {
    pub id: String,
    pub class: String,
    /// The full ticket ("0.…"), so anyone can check the order by hand.
    pub ticket: String,
    /// Certificate numbers, in ticket order.
    pub team: Vec<String>,
}

/// The result with the fingerprints that tie it to its inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawOutcome {
    pub algorithm: String,
    pub algorithm_version: u32,
    pub seed_hash: String,
    pub candidates_sha256: String,
    pub inspectors_sha256: String,
    /// Drawn and candidate counts per class.
    pub quotas: BTreeMap<String, (usize, usize)>,
    /// In class order (A, B, …), each class in ticket order.
    pub picks: Vec<Pick>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrawError {
    #[error("empty seed")]
    EmptySeed,
    #[error("team size {0} is below two")]
    TeamSize(usize),
    #[error("candidate {0} listed twice")]
    DuplicateCandidate(String),
    #[error("candidate {id} has no class")]
    BadClass { id: String },
    #[error("inspector {0} listed twice")]
    DuplicateInspector(String),
    #[error("ratio {ratio_bp} for class {class} is above 100%")]
    BadRatio { class: String, ratio_bp: u32 },
    #[error("only {eligible} inspectors may inspect {id}")]
    TeamUnavailable { id: String, eligible: usize },
}

impl Coded for DrawError {
    fn code(&self) -> &'static str {
        match self {
            Self::EmptySeed => "draw_seed_empty",
            Self::TeamSize(_) => "draw_team_size",
            Self::DuplicateCandidate(_) => "draw_duplicate_candidate",
            Self::BadClass { .. } => "draw_bad_class",
            Self::DuplicateInspector(_) => "draw_duplicate_inspector",
            Self::BadRatio { .. } => "draw_bad_ratio",
            Self::TeamUnavailable { .. } => "draw_team_unavailable",
        }
    }
    fn message_zh(&self) -> String {
        match self {
            Self::EmptySeed => "随机种子不能为空".into(),
            Self::TeamSize(n) => format!("每组检查人员不得少于 2 人（当前 {n} 人）"),
            Self::DuplicateCandidate(id) => format!("检查对象 {id} 在名录中重复出现"),
            Self::BadClass { id } => format!("检查对象 {id} 缺少信用风险分类"),
            Self::DuplicateInspector(c) => format!("执法证号 {c} 在检查人员库中重复出现"),
            Self::BadRatio { class, ratio_bp } => {
                format!(
                    "{class} 类抽查比例 {}% 超过 100%",
                    f64::from(*ratio_bp) / 100.0
                )
            }
            Self::TeamUnavailable { id, eligible } => format!(
                "检查对象 {id} 回避后只有 {eligible} 名检查人员可选，不足一组，请扩大检查人员库"
            ),
        }
    }
}

/// Candidate positions in id order (byte order, as `str` compares), or the first
/// id listed twice.
pub fn canonical_order(candidates: &[Candidate]) -> Result<Vec<u32>, DrawError> {
    CandidateSet::from_candidates(candidates).canonical_order()
}

/// The frozen list as hashed: `id \t class \t grid \n` per candidate, sorted by id.
pub fn canonical_candidates(candidates: &[Candidate]) -> String {
    let set = CandidateSet::from_candidates(candidates);
    let order = set.canonical_order().unwrap_or_else(|_| {
        let mut o: Vec<u32> = (0..set.len() as u32).collect();
        o.sort_by(|&a, &b| set.id(a as usize).cmp(set.id(b as usize)));
        o
    });
    set.canonical_text(&order)
}

/// The pool as hashed: `cert \t grid \t conflicts;… \n`, sorted by certificate.
pub fn canonical_inspectors(inspectors: &[PoolInspector]) -> String {
    let mut sorted: Vec<&PoolInspector> = inspectors.iter().collect();
    sorted.sort_unstable_by(|a, b| a.cert_no.cmp(&b.cert_no));
    let mut s = String::new();
    for i in sorted {
        s.push_str(&i.cert_no);
        s.push('\t');
        s.push_str(i.grid.as_deref().unwrap_or(""));
        s.push('\t');
        s.push_str(&i.conflicts.iter().cloned().collect::<Vec<_>>().join(";"));
        s.push('\n');
    }
    s
}

/// May `inspector` inspect `candidate`? (recusal: own grid, declared conflict)
pub fn may_inspect(inspector: &PoolInspector, candidate: &Candidate) -> bool {
    may_inspect_at(inspector, &candidate.id, candidate.grid.as_deref())
}

fn may_inspect_at(inspector: &PoolInspector, id: &str, grid: Option<&str>) -> bool {
    let same_grid = inspector.grid.is_some() && inspector.grid.as_deref() == grid;
    !same_grid && !inspector.conflicts.contains(id)
}

/// Runs a draw. Deterministic: the same input gives the same outcome anywhere.
pub fn draw(input: &DrawInput) -> Result<DrawOutcome, DrawError> {
    draw_with_list(input).map(|(outcome, _)| outcome)
}

/// [`draw`], also returning the canonical candidate list it fingerprinted (what
/// the server stores as the frozen list).
pub fn draw_with_list(input: &DrawInput) -> Result<(DrawOutcome, String), DrawError> {
    let set = CandidateSet::from_candidates(&input.candidates);
    let (d, list) = draw_set(
        &input.seed,
        &input.sampling,
        input.team_size,
        &set,
        &input.inspectors,
    )?;
    Ok((d.outcome, list))
}

/// A draw over a [`CandidateSet`]: the outcome and the position in the set of
/// each pick.
#[derive(Debug, Clone)]
pub struct SetDraw {
    pub outcome: DrawOutcome,
    /// `chosen[k]` is the set position of `outcome.picks[k]`.
    pub chosen: Vec<usize>,
}

/// The draw itself, on the compact list the server reads (the published
/// [`DrawInput`] goes through [`draw`], which builds the same set), with the
/// frozen list as hashed.
pub fn draw_set(
    seed: &str,
    sampling: &Sampling,
    team_size: usize,
    set: &CandidateSet,
    inspectors: &[PoolInspector],
) -> Result<(SetDraw, String), DrawError> {
    let mut list = String::new();
    let drawn = draw_set_into(
        seed,
        sampling,
        team_size,
        set,
        inspectors,
        usize::MAX,
        &mut |piece| list.push_str(piece),
    )?;
    Ok((drawn, list))
}

/// [`draw_set`], handing the frozen list to `sink` in pieces of at most
/// `piece_bytes` that end at line ends (see
/// [`CandidateSet::write_canonical`]) instead of returning it whole: the
/// server compresses each piece as it comes, so a province's 200 MB of text
/// is never held at once.
pub fn draw_set_into(
    seed: &str,
    sampling: &Sampling,
    team_size: usize,
    set: &CandidateSet,
    inspectors: &[PoolInspector],
    piece_bytes: usize,
    sink: &mut (dyn FnMut(&str) + Send),
) -> Result<SetDraw, DrawError> {
    if seed.trim().is_empty() {
        return Err(DrawError::EmptySeed);
    }
    // Team size 0 draws businesses (or places) only, as a 回头看 re-visit draw does.
    if team_size == 1 {
        return Err(DrawError::TeamSize(team_size));
    }
    if let Some(c) = set.classes().iter().position(|c| c.trim().is_empty()) {
        let i = (0..set.len())
            .find(|&i| set.class_index(i) == c)
            .expect("an interned class has a member");
        return Err(DrawError::BadClass {
            id: set.id(i).to_owned(),
        });
    }
    let mut certs = HashSet::new();
    if let Some(dup) = inspectors
        .iter()
        .find(|i| !certs.insert(i.cert_no.as_str()))
    {
        // A duplicate candidate is reported first, as the list comes first.
        set.canonical_order()?;
        return Err(DrawError::DuplicateInspector(dup.cert_no.clone()));
    }
    // The canonical order, the frozen list and its fingerprint are worked out
    // on one thread while the tickets, quotas and teams are on the others: the
    // tickets do not depend on the order. A duplicate still wins over any
    // error of the draw itself, as if the order came first.
    std::thread::scope(|scope| {
        let listing = scope.spawn(move || {
            let mut hash = Sha256::new();
            set.write_canonical(piece_bytes, &mut |piece| {
                hash.update(piece.as_bytes());
                sink(piece);
            })?;
            Ok::<_, DrawError>(hex::encode(hash.finalize()))
        });
        let drawn = select_and_staff(seed, sampling, team_size, set, inspectors);
        let hash = listing.join().expect("list thread")?;
        let (mut outcome, chosen) = drawn?;
        outcome.candidates_sha256 = hash;
        Ok(SetDraw { outcome, chosen })
    })
}

/// Puts `keys` in order of their class (`class_of`, below `classes`) in place,
/// returning each class's stretch: a few passes of swaps, no second array.
fn partition_by_class(
    keys: &mut [(u64, u32)],
    classes: usize,
    class_of: impl Fn(&(u64, u32)) -> usize,
) -> Vec<std::ops::Range<usize>> {
    let mut ends = vec![0usize; classes];
    for k in keys.iter() {
        ends[class_of(k)] += 1;
    }
    let mut start = 0;
    for e in ends.iter_mut() {
        start += *e;
        *e = start;
    }
    let starts: Vec<usize> = (0..classes)
        .map(|c| if c == 0 { 0 } else { ends[c - 1] })
        .collect();
    let mut next = starts.clone();
    for c in 0..classes {
        while next[c] < ends[c] {
            let k = class_of(&keys[next[c]]);
            if k == c {
                next[c] += 1;
            } else {
                keys.swap(next[c], next[k]);
                next[k] += 1;
            }
        }
    }
    starts.into_iter().zip(ends).map(|(s, e)| s..e).collect()
}

/// Tickets, per-class quotas and teams; the list fingerprint is filled in by the caller.
fn select_and_staff(
    seed: &str,
    sampling: &Sampling,
    team_size: usize,
    set: &CandidateSet,
    inspectors: &[PoolInspector],
) -> Result<(DrawOutcome, Vec<usize>), DrawError> {
    let sampler = Sampler::new(seed);
    let mut keys = sampler.keys(set);
    let mut quotas = BTreeMap::new();
    let mut chosen: Vec<usize> = Vec::new();
    match sampling {
        Sampling::Count { count } => {
            let mut sizes = vec![0usize; set.classes().len()];
            for i in 0..set.len() {
                sizes[set.class_index(i)] += 1;
            }
            let taken = sampler.take_keyed(set, &mut keys, *count);
            let mut drawn = vec![0usize; sizes.len()];
            for &i in &taken {
                drawn[set.class_index(i)] += 1;
            }
            for (c, name) in set.classes().iter().enumerate() {
                quotas.insert(name.clone(), (drawn[c], sizes[c]));
            }
            chosen = taken;
        }
        Sampling::Ratio { ratios } => {
            if let Some((class, &ratio_bp)) = ratios.iter().find(|(_, &r)| r > 10_000) {
                return Err(DrawError::BadRatio {
                    class: class.clone(),
                    ratio_bp,
                });
            }
            let stretches = partition_by_class(&mut keys, set.classes().len(), |k| {
                set.class_index(k.1 as usize)
            });
            // Classes in byte order of their names (A, B, …), as published.
            let mut classes: Vec<(&str, std::ops::Range<usize>)> = set
                .classes()
                .iter()
                .map(String::as_str)
                .zip(stretches)
                .collect();
            classes.sort_unstable_by(|a, b| a.0.cmp(b.0));
            for (class, stretch) in classes {
                let size = stretch.len();
                let n = quota(size, ratios.get(class).copied().unwrap_or(0));
                quotas.insert(class.to_owned(), (n, size));
                chosen.extend(sampler.take_keyed(set, &mut keys[stretch], n));
            }
        }
    }
    drop(keys);
    let picks = picks_of(&sampler, set, inspectors, team_size, &chosen)?;
    let outcome = DrawOutcome {
        algorithm: ALGORITHM.into(),
        algorithm_version: ALGORITHM_VERSION,
        seed_hash: sampler.seed_hash().to_owned(),
        candidates_sha256: String::new(),
        inspectors_sha256: sha256_hex(&canonical_inspectors(inspectors)),
        quotas,
        picks,
    };
    Ok((outcome, chosen))
}

/// The team of one drawn business: eligible inspectors by ticket of "id/cert".
pub fn team_for(
    sampler: &Sampler,
    candidate: &Candidate,
    inspectors: &[PoolInspector],
    team_size: usize,
) -> Result<Vec<String>, DrawError> {
    team_at(
        sampler,
        &candidate.id,
        candidate.grid.as_deref(),
        inspectors,
        team_size,
    )
}

fn team_at(
    sampler: &Sampler,
    id: &str,
    grid: Option<&str>,
    inspectors: &[PoolInspector],
    team_size: usize,
) -> Result<Vec<String>, DrawError> {
    let eligible: Vec<&PoolInspector> = inspectors
        .iter()
        .filter(|i| may_inspect_at(i, id, grid))
        .collect();
    if eligible.len() < team_size {
        return Err(DrawError::TeamUnavailable {
            id: id.to_owned(),
            eligible: eligible.len(),
        });
    }
    // The keys of "id/cert" hashed in parts, without making the strings: only
    // equal keys (all but impossible) need the full tickets, and so the text.
    let mut keys: Vec<(u64, u32)> = eligible
        .iter()
        .enumerate()
        .map(|(k, i)| (sampler.key_parts(&[id, "/", &i.cert_no]), k as u32))
        .collect();
    let mut sorted: Vec<u64> = keys.iter().map(|k| k.0).collect();
    sorted.sort_unstable();
    let picked = if sorted.windows(2).any(|w| w[0] == w[1]) {
        let names: Vec<String> = eligible
            .iter()
            .map(|i| format!("{id}/{}", i.cert_no))
            .collect();
        sampler.take_keyed(&names, &mut keys, team_size)
    } else {
        keys.sort_unstable();
        keys.iter().take(team_size).map(|k| k.1 as usize).collect()
    };
    Ok(picked
        .into_iter()
        .map(|k| eligible[k].cert_no.clone())
        .collect())
}

fn picks_of(
    sampler: &Sampler,
    set: &CandidateSet,
    inspectors: &[PoolInspector],
    team_size: usize,
    chosen: &[usize],
) -> Result<Vec<Pick>, DrawError> {
    // Each pick's full ticket and team on every core: a province's picks are
    // some 150,000 decimal expansions and team draws.
    let one = |&i: &usize| {
        let id = set.id(i);
        Ok(Pick {
            id: id.to_owned(),
            class: set.class(i).to_owned(),
            ticket: sampler.ticket(id),
            team: team_at(sampler, id, set.grid(i), inspectors, team_size)?,
        })
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if chosen.len() < 2_000 || threads == 1 {
        return chosen.iter().map(one).collect();
    }
    let chunk = chosen.len().div_ceil(threads);
    std::thread::scope(|s| {
        let parts: Vec<_> = chosen
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(one).collect::<Result<Vec<_>, _>>()))
            .collect();
        let mut all = Vec::with_capacity(chosen.len());
        for p in parts {
            all.extend(p.join().expect("team thread")?);
        }
        Ok(all)
    })
}

/// Where a re-derived draw departs from a published one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    Field {
        field: &'static str,
        published: String,
        derived: String,
    },
    Pick {
        /// 1-based position in the published list.
        position: usize,
        published: Option<Pick>,
        derived: Option<Pick>,
    },
}

/// Compares a published outcome with one derived from the published inputs.
pub fn compare(published: &DrawOutcome, derived: &DrawOutcome) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let fields: [(&'static str, &str, &str); 5] = [
        ("algorithm", &published.algorithm, &derived.algorithm),
        ("seed_hash", &published.seed_hash, &derived.seed_hash),
        (
            "candidates_sha256",
            &published.candidates_sha256,
            &derived.candidates_sha256,
        ),
        (
            "inspectors_sha256",
            &published.inspectors_sha256,
            &derived.inspectors_sha256,
        ),
        ("quotas", "", ""),
    ];
    for (field, a, b) in fields.into_iter().take(4) {
        if a != b {
            out.push(Mismatch::Field {
                field,
                published: a.to_owned(),
                derived: b.to_owned(),
            });
        }
    }
    if published.algorithm_version != derived.algorithm_version {
        out.push(Mismatch::Field {
            field: "algorithm_version",
            published: published.algorithm_version.to_string(),
            derived: derived.algorithm_version.to_string(),
        });
    }
    if published.quotas != derived.quotas {
        out.push(Mismatch::Field {
            field: "quotas",
            published: format!("{:?}", published.quotas),
            derived: format!("{:?}", derived.quotas),
        });
    }
    let n = published.picks.len().max(derived.picks.len());
    for i in 0..n {
        let (a, b) = (published.picks.get(i), derived.picks.get(i));
        if a != b {
            out.push(Mismatch::Pick {
                position: i + 1,
                published: a.cloned(),
                derived: b.cloned(),
            });
            if out.len() > 20 {
                break;
            }
        }
    }
    out
}

// ------------------------------------------------------------------ hazards

/// The states of a hazard (隐患). Exactly one at a time; `Closed` is reachable
/// only through a passing re-check of submitted evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum HazardState {
    /// 已登记: found, no order yet.
    Reported,
    /// 整改中: a rectification order with a deadline.
    Ordered,
    /// 待复查: evidence submitted, awaiting re-check.
    Submitted,
    /// 已销号: re-checked and closed.
    Closed,
}

impl HazardState {
    pub const ALL: [HazardState; 4] =
        [Self::Reported, Self::Ordered, Self::Submitted, Self::Closed];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reported => "reported",
            Self::Ordered => "ordered",
            Self::Submitted => "submitted",
            Self::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Reported => "已登记",
            Self::Ordered => "整改中",
            Self::Submitted => "待复查",
            Self::Closed => "已销号",
        }
    }
}

/// What someone does to a hazard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HazardAction {
    /// 责令整改 with a deadline in working days (computed by the caller).
    Order,
    /// 提交整改材料: at least one piece of evidence (photo, document).
    Submit { evidence: usize },
    /// 复查: passed closes the hazard; failed sends it back to rectification.
    Recheck { passed: bool },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HazardError {
    #[error("action not allowed in state {0:?}")]
    NotAllowed(HazardState),
    #[error("evidence required")]
    NoEvidence,
}

impl Coded for HazardError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotAllowed(_) => "hazard_state",
            Self::NoEvidence => "hazard_evidence_required",
        }
    }
    fn message_zh(&self) -> String {
        match self {
            Self::NotAllowed(s) => format!("隐患当前为“{}”，不能执行该操作", s.label_zh()),
            Self::NoEvidence => "请上传整改照片或材料".into(),
        }
    }
}

/// The one transition table.
pub fn hazard_next(state: HazardState, action: &HazardAction) -> Result<HazardState, HazardError> {
    use HazardAction as A;
    use HazardState as S;
    match (state, action) {
        (S::Reported, A::Order) => Ok(S::Ordered),
        // Rectified on the spot (当场整改) or after an order: evidence first.
        (S::Reported | S::Ordered, A::Submit { evidence }) => {
            if *evidence == 0 {
                Err(HazardError::NoEvidence)
            } else {
                Ok(S::Submitted)
            }
        }
        (S::Submitted, A::Recheck { passed: true }) => Ok(S::Closed),
        (S::Submitted, A::Recheck { passed: false }) => Ok(S::Ordered),
        (s, _) => Err(HazardError::NotAllowed(s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn world(n: usize, classes: &[&str], grids: usize) -> Vec<Candidate> {
        (0..n)
            .map(|i| Candidate {
                id: format!("9133102{i:05}X"),
                class: classes[i % classes.len()].into(),
                grid: Some(format!("g{}", i % grids)),
            })
            .collect()
    }

    fn pool(n: usize, grids: usize) -> Vec<PoolInspector> {
        (0..n)
            .map(|i| PoolInspector {
                cert_no: format!("33102{i:04}"),
                grid: Some(format!("g{}", i % grids)),
                conflicts: BTreeSet::new(),
            })
            .collect()
    }

    #[test]
    fn list_in_pieces_is_the_list_whole() {
        let set = CandidateSet::from_candidates(&world(3_000, &["A", "B", "C"], 7));
        let ratios = Sampling::Ratio {
            ratios: [("A".into(), 500), ("B".into(), 100), ("C".into(), 3000)].into(),
        };
        let (whole, list) = draw_set("7", &ratios, 2, &set, &pool(9, 4)).unwrap();
        let mut pieces = Vec::new();
        let streamed = draw_set_into("7", &ratios, 2, &set, &pool(9, 4), 4096, &mut |p| {
            pieces.push(p.to_owned())
        })
        .unwrap();
        assert!(pieces.len() > 1);
        assert_eq!(pieces.concat(), list);
        assert_eq!(streamed.outcome, whole.outcome);
        assert_eq!(streamed.chosen, whole.chosen);
        assert_eq!(whole.outcome.candidates_sha256, sha256_hex(&list));
    }

    proptest! {
        #[test]
        fn partition_by_class_keeps_every_key_and_groups_them(
            classes in proptest::collection::vec(0usize..5, 0..400),
        ) {
            let mut keys: Vec<(u64, u32)> =
                (0..classes.len()).map(|i| (i as u64 * 31 % 17, i as u32)).collect();
            let before = {
                let mut k = keys.clone();
                k.sort_unstable();
                k
            };
            let stretches = partition_by_class(&mut keys, 5, |k| classes[k.1 as usize]);
            let mut after = keys.clone();
            after.sort_unstable();
            prop_assert_eq!(after, before);
            let mut end = 0;
            for (c, r) in stretches.iter().enumerate() {
                prop_assert_eq!(r.start, end);
                end = r.end;
                prop_assert_eq!(r.len(), classes.iter().filter(|&&x| x == c).count());
                prop_assert!(keys[r.clone()].iter().all(|k| classes[k.1 as usize] == c));
            }
            prop_assert_eq!(end, keys.len());
        }
    }

    #[test]
    fn draw_is_deterministic_and_fingerprinted() {
        let input = DrawInput {
            seed: "20261123".into(),
            sampling: Sampling::Ratio {
                ratios: [("A".into(), 500), ("B".into(), 2000)].into(),
            },
            team_size: 2,
            candidates: world(200, &["A", "B", "C"], 5),
            inspectors: pool(6, 3),
        };
        let a = draw(&input).unwrap();
        let b = draw(&input).unwrap();
        assert_eq!(a, b);
        // 67 A × 5% → 4 (3.35 rounded up); 67 B × 20% → 14; C has no ratio.
        assert_eq!(a.quotas["A"], (4, 67));
        assert_eq!(a.quotas["B"], (14, 67));
        assert_eq!(a.quotas["C"], (0, 66));
        assert_eq!(a.picks.len(), 18);
        assert_eq!(a.seed_hash, sha256_hex("20261123"));
        // Reordering the list changes neither the fingerprint nor the result.
        let mut shuffled = input.clone();
        shuffled.candidates.reverse();
        assert_eq!(draw(&shuffled).unwrap(), a);
        // Any edit to the list changes the fingerprint.
        let mut edited = input.clone();
        edited.candidates[4].class = "A".into();
        assert_ne!(
            draw(&edited).unwrap().candidates_sha256,
            a.candidates_sha256
        );
    }

    #[test]
    fn draw_errors_are_coded() {
        let mut input = DrawInput {
            seed: " ".into(),
            sampling: Sampling::Count { count: 3 },
            team_size: 2,
            candidates: world(10, &["B"], 2),
            inspectors: pool(2, 2),
        };
        assert_eq!(draw(&input).unwrap_err().code(), "draw_seed_empty");
        input.seed = "1".into();
        input.team_size = 1;
        assert_eq!(draw(&input).unwrap_err().code(), "draw_team_size");
        input.team_size = 2;
        // Two inspectors, each in one of the two grids: nobody may take a team of two.
        let err = draw(&input).unwrap_err();
        assert_eq!(err.code(), "draw_team_unavailable");
        assert!(err.message_zh().contains("回避"));
        input.candidates.push(input.candidates[0].clone());
        assert_eq!(draw(&input).unwrap_err().code(), "draw_duplicate_candidate");
    }

    #[test]
    fn compare_finds_a_tampered_pick() {
        let input = DrawInput {
            seed: "7".into(),
            sampling: Sampling::Count { count: 5 },
            team_size: 2,
            candidates: world(50, &["B"], 4),
            inspectors: pool(8, 4),
        };
        let real = draw(&input).unwrap();
        assert!(compare(&real, &real).is_empty());
        let mut forged = real.clone();
        forged.picks[2].id = "913310200999X".into();
        let diff = compare(&forged, &real);
        assert!(matches!(diff[..], [Mismatch::Pick { position: 3, .. }]));
    }

    proptest! {
        #[test]
        fn canonical_order_is_byte_order_and_finds_duplicates(
            ids in proptest::collection::vec("[0-9A-Z]{0,30}", 0..80),
        ) {
            let cands: Vec<Candidate> = ids.iter().map(|id| Candidate { id: id.clone(), class: "B".into(), grid: None }).collect();
            let mut naive = ids.clone();
            naive.sort();
            let has_dup = naive.windows(2).any(|w| w[0] == w[1]);
            match canonical_order(&cands) {
                Ok(order) => {
                    prop_assert!(!has_dup);
                    let got: Vec<&String> = order.iter().map(|&i| &ids[i as usize]).collect();
                    prop_assert_eq!(got, naive.iter().collect::<Vec<_>>());
                }
                Err(DrawError::DuplicateCandidate(_)) => prop_assert!(has_dup),
                Err(e) => prop_assert!(false, "{e:?}"),
            }
        }

        #[test]
        fn teams_respect_size_and_recusal(
            n in 1usize..120,
            grids in 1usize..6,
            inspectors in 4usize..12,
            team_size in 2usize..4,
            seed in "[0-9]{1,10}",
            conflict_every in 2usize..9,
        ) {
            let candidates = world(n, &["A", "B", "C", "D"], grids);
            let mut pool = pool(inspectors, grids + 1);
            for (k, i) in pool.iter_mut().enumerate() {
                for c in candidates.iter().skip(k).step_by(conflict_every) {
                    i.conflicts.insert(c.id.clone());
                }
            }
            let input = DrawInput {
                seed,
                sampling: Sampling::Ratio {
                    ratios: [("A".into(), 500), ("B".into(), 2000), ("C".into(), 6000), ("D".into(), 10_000)].into(),
                },
                team_size,
                candidates: candidates.clone(),
                inspectors: pool.clone(),
            };
            match draw(&input) {
                Ok(out) => {
                    for p in &out.picks {
                        prop_assert!(p.team.len() >= 2);
                        prop_assert_eq!(p.team.len(), team_size);
                        let c = candidates.iter().find(|c| c.id == p.id).unwrap();
                        for cert in &p.team {
                            let i = pool.iter().find(|i| &i.cert_no == cert).unwrap();
                            prop_assert!(may_inspect(i, c));
                        }
                        let distinct: BTreeSet<&String> = p.team.iter().collect();
                        prop_assert_eq!(distinct.len(), team_size);
                    }
                    for (class, ratio) in [("A", 500u32), ("B", 2000), ("C", 6000), ("D", 10_000)] {
                        let size = candidates.iter().filter(|c| c.class == class).count();
                        let drawn = out.picks.iter().filter(|p| p.class == class).count();
                        prop_assert_eq!(drawn, quota(size, ratio));
                        prop_assert_eq!(out.quotas.get(class).copied().unwrap_or((0, 0)), (drawn, size));
                    }
                }
                Err(DrawError::TeamUnavailable { id, eligible }) => {
                    let c = candidates.iter().find(|c| c.id == id).unwrap();
                    prop_assert_eq!(pool.iter().filter(|i| may_inspect(i, c)).count(), eligible);
                    prop_assert!(eligible < team_size);
                }
                Err(e) => prop_assert!(false, "unexpected {e:?}"),
            }
        }

        #[test]
        fn hazards_close_only_after_evidence_and_recheck(
            actions in proptest::collection::vec((0u8..3, 0usize..3, any::<bool>()), 0..30)
        ) {
            let mut state = HazardState::Reported;
            let mut evidence_since_order = false;
            for (kind, evidence, passed) in actions {
                let action = match kind {
                    0 => HazardAction::Order,
                    1 => HazardAction::Submit { evidence },
                    _ => HazardAction::Recheck { passed },
                };
                let before = state;
                match hazard_next(state, &action) {
                    Ok(next) => {
                        if next == HazardState::Closed {
                            prop_assert_eq!(before, HazardState::Submitted);
                            prop_assert!(evidence_since_order);
                            prop_assert_eq!(action, HazardAction::Recheck { passed: true });
                        }
                        if next == HazardState::Submitted { evidence_since_order = true; }
                        if next == HazardState::Ordered { evidence_since_order = false; }
                        state = next;
                    }
                    Err(_) => prop_assert_eq!(state, before),
                }
            }
        }
    }
}
