//! Verifiable random sampling: the published-seed method (DOMAIN.md §5).
//!
//! Each id gets a ticket, a decimal fraction in [0, 1) derived from
//! `SHA-256(sha256_hex(seed) ‖ id)`: the hash read as an integer, written in
//! decimal, zero-padded to at least 64 digits, reversed and prefixed by "0.".
//! Ids sorted by ticket are the draw order; a sample of n is the first n. Anyone
//! holding the seed and the frozen list gets the same sample, and the sample of a
//! sub-list is the whole list's sample filtered to it (consistency).
//!
//! Comparing 78-digit strings for every id of a province would be slow, so the
//! sort uses the first 19 fraction digits (the integer modulo 10^19, reversed) as
//! a `u64` key, and only ids whose keys tie are compared on their full tickets.
use sha2::{Digest, Sha256};

/// The name and version stored with every draw, so a verifier knows which rule
/// produced it.
pub const ALGORITHM: &str = "sha256-consistent-sampler-decimal";
pub const ALGORITHM_VERSION: u32 = 1;

const TEN19: u64 = 10_000_000_000_000_000_000;

/// Lowercase hex SHA-256 of the UTF-8 text.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The 256-bit hash as decimal digits, most significant first, at least 64 of them.
fn decimal_digits(hash: &[u8; 32]) -> String {
    let mut limbs: [u64; 4] = std::array::from_fn(|i| {
        u64::from_be_bytes(hash[i * 8..i * 8 + 8].try_into().expect("8 bytes"))
    });
    // Repeated division by 10^19: each round yields 19 low-order digits.
    let mut chunks = Vec::with_capacity(5);
    while limbs.iter().any(|&l| l != 0) {
        let mut rem: u128 = 0;
        for limb in limbs.iter_mut() {
            let cur = (rem << 64) | u128::from(*limb);
            *limb = (cur / u128::from(TEN19)) as u64;
            rem = cur % u128::from(TEN19);
        }
        chunks.push(rem as u64);
    }
    let mut s = String::with_capacity(80);
    for (i, c) in chunks.iter().rev().enumerate() {
        if i == 0 {
            s.push_str(&c.to_string());
        } else {
            s.push_str(&format!("{c:019}"));
        }
    }
    if s.len() < 64 {
        s = format!("{}{s}", "0".repeat(64 - s.len()));
    }
    s
}

fn fraction(hash: &[u8; 32]) -> String {
    let digits = decimal_digits(hash);
    let mut s = String::with_capacity(digits.len() + 2);
    s.push_str("0.");
    s.extend(digits.chars().rev());
    s
}

/// The first 19 fraction digits of the ticket as a number: the hash modulo
/// 10^19 with its 19 digits (zero-padded) reversed.
fn key_of(hash: &[u8; 32]) -> u64 {
    let mut rem: u128 = 0;
    for i in 0..4 {
        let limb = u64::from_be_bytes(hash[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
        rem = ((rem << 64) | u128::from(limb)) % u128::from(TEN19);
    }
    let mut low = rem as u64;
    let mut key = 0u64;
    for _ in 0..19 {
        key = key * 10 + low % 10;
        low /= 10;
    }
    key
}

/// `uniform(x)`: the ticket of the text `x` itself (the reference's helper).
pub fn uniform(text: &str) -> String {
    fraction(&Sha256::digest(text.as_bytes()).into())
}

/// Tickets under one seed. The seed's hex hash is exactly one SHA-256 block, so
/// the hasher state after it is computed once and cloned for every id.
#[derive(Clone)]
pub struct Sampler {
    seed_hash: String,
    state: Sha256,
}

impl Sampler {
    pub fn new(seed: &str) -> Self {
        let seed_hash = sha256_hex(seed);
        let mut state = Sha256::new();
        state.update(seed_hash.as_bytes());
        Self { seed_hash, state }
    }

    /// `sha256_hex(seed)`, published with the draw.
    pub fn seed_hash(&self) -> &str {
        &self.seed_hash
    }

    fn hash(&self, id: &str) -> [u8; 32] {
        let mut h = self.state.clone();
        h.update(id.as_bytes());
        h.finalize().into()
    }

    /// The full ticket of `id`, as the reference writes it.
    pub fn ticket(&self, id: &str) -> String {
        fraction(&self.hash(id))
    }

    /// A sort key with the ticket's order (ties broken by [`Sampler::ticket`]).
    pub fn key(&self, id: &str) -> u64 {
        key_of(&self.hash(id))
    }

    /// Compares two ids by ticket; equal tickets (only possible for equal ids) by id.
    fn cmp_full(&self, a: &str, b: &str) -> std::cmp::Ordering {
        self.ticket(a).cmp(&self.ticket(b)).then_with(|| a.cmp(b))
    }

    /// The positions of the `n` ids with the smallest tickets, in ticket order.
    /// Keys are computed on every core for long lists.
    pub fn take<I: Ids + ?Sized>(&self, ids: &I, n: usize) -> Vec<usize> {
        let mut keys = self.keys(ids);
        self.take_keyed(ids, &mut keys, n)
    }

    /// Like [`Sampler::take`], for precomputed `(key, position)` pairs of a
    /// subset of `ids`. The pairs are reordered in place.
    pub fn take_keyed<I: Ids + ?Sized>(
        &self,
        ids: &I,
        keys: &mut [(u64, u32)],
        n: usize,
    ) -> Vec<usize> {
        let n = n.min(keys.len());
        if n == 0 {
            return Vec::new();
        }
        if n == keys.len() {
            self.sort_keyed(ids, keys);
            return keys.iter().map(|k| k.1 as usize).collect();
        }
        keys.select_nth_unstable_by_key(n - 1, |k| k.0);
        // Ids sharing the boundary key may sit on either side: gather all of
        // them and let the full tickets decide.
        let boundary = keys[n - 1].0;
        let mut chosen: Vec<(u64, u32)> = keys[..n]
            .iter()
            .copied()
            .filter(|k| k.0 < boundary)
            .collect();
        let mut ties: Vec<(u64, u32)> = keys.iter().copied().filter(|k| k.0 == boundary).collect();
        ties.sort_by(|a, b| self.cmp_full(ids.id_at(a.1 as usize), ids.id_at(b.1 as usize)));
        ties.truncate(n - chosen.len());
        chosen.extend(ties);
        self.sort_keyed(ids, &mut chosen);
        chosen.into_iter().map(|k| k.1 as usize).collect()
    }

    /// Sorts by key, then runs of equal keys by full ticket.
    fn sort_keyed<I: Ids + ?Sized>(&self, ids: &I, keys: &mut [(u64, u32)]) {
        keys.sort_unstable_by_key(|k| k.0);
        let mut i = 0;
        while i < keys.len() {
            let mut j = i + 1;
            while j < keys.len() && keys[j].0 == keys[i].0 {
                j += 1;
            }
            if j - i > 1 {
                keys[i..j].sort_by(|a, b| {
                    self.cmp_full(ids.id_at(a.1 as usize), ids.id_at(b.1 as usize))
                });
            }
            i = j;
        }
    }

    /// `(key, position)` for every id, in parallel over the machine's cores,
    /// each core writing its own stretch of one array (no per-core copies to
    /// join: at province scale every fresh page costs).
    pub fn keys<I: Ids + ?Sized>(&self, ids: &I) -> Vec<(u64, u32)> {
        let n = ids.count();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        if n < 50_000 || threads == 1 {
            return (0..n).map(|i| (self.key(ids.id_at(i)), i as u32)).collect();
        }
        let mut all = vec![(0u64, 0u32); n];
        let chunk = n.div_ceil(threads);
        std::thread::scope(|s| {
            for (c, part) in all.chunks_mut(chunk).enumerate() {
                s.spawn(move || {
                    for (k, slot) in part.iter_mut().enumerate() {
                        let i = c * chunk + k;
                        *slot = (self.key(ids.id_at(i)), i as u32);
                    }
                });
            }
        });
        all
    }

    /// Every id in draw order (a shuffle).
    pub fn order<I: Ids + ?Sized>(&self, ids: &I) -> Vec<usize> {
        self.take(ids, ids.count())
    }
}

/// Ids by position, as the sampler reads them: a slice of strings, or a
/// compact list that keeps them in one buffer (`CandidateSet`), so a
/// province's ids need not be gathered into a vector of references first.
pub trait Ids: Sync {
    fn count(&self) -> usize;
    fn id_at(&self, i: usize) -> &str;
}

impl<S: AsRef<str> + Sync> Ids for [S] {
    fn count(&self) -> usize {
        self.len()
    }
    fn id_at(&self, i: usize) -> &str {
        self[i].as_ref()
    }
}

impl<S: AsRef<str> + Sync> Ids for Vec<S> {
    fn count(&self) -> usize {
        self.len()
    }
    fn id_at(&self, i: usize) -> &str {
        self[i].as_ref()
    }
}

impl<S: AsRef<str> + Sync, const N: usize> Ids for [S; N] {
    fn count(&self) -> usize {
        N
    }
    fn id_at(&self, i: usize) -> &str {
        self[i].as_ref()
    }
}

/// How many of a class of `size` a ratio in basis points (1/10000) samples:
/// rounded **up**, so a class with any member and a non-zero ratio is never
/// skipped, and never more than the class holds.
pub fn quota(size: usize, ratio_bp: u32) -> usize {
    let q = (size as u128 * u128::from(ratio_bp)).div_ceil(10_000);
    (q as usize).min(size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn domain_test_vectors() {
        assert_eq!(
            uniform("abc"),
            "0.56998071861792858926477341561059638840106636224182943832566300809078486324348"
        );
        let s = Sampler::new("01382438112797316654");
        assert_eq!(
            s.ticket("AB-130"),
            "0.26299714122838008416507544297546663599715395525154425586041245287750224561854"
        );
        let ids = ["ab-1", "ab-2", "cd-1", "ef-3"];
        let order: Vec<&str> = Sampler::new("314159")
            .order(&ids)
            .into_iter()
            .map(|i| ids[i])
            .collect();
        assert_eq!(order, ["cd-1", "ef-3", "ab-1", "ab-2"]);
    }

    #[test]
    fn key_is_the_tickets_first_nineteen_digits() {
        let s = Sampler::new("seed");
        for id in ["a", "b", "91330000MA27XK1234", "中文"] {
            let t = s.ticket(id);
            assert_eq!(format!("{:019}", s.key(id)), t[2..21]);
        }
    }

    #[test]
    fn quota_rounds_up_and_caps() {
        assert_eq!(quota(0, 500), 0);
        assert_eq!(quota(1, 500), 1);
        assert_eq!(quota(30, 500), 2); // 1.5 → 2
        assert_eq!(quota(100, 500), 5);
        assert_eq!(quota(7, 10_000), 7);
        assert_eq!(quota(7, 0), 0);
    }

    proptest! {
        #[test]
        fn take_is_a_prefix_of_the_full_ticket_order(
            ids in proptest::collection::hash_set("[a-z0-9-]{1,8}", 0..60),
            seed in "[0-9]{1,20}",
            n in 0usize..70,
        ) {
            let ids: Vec<String> = ids.into_iter().collect();
            let s = Sampler::new(&seed);
            let mut by_ticket: Vec<usize> = (0..ids.len()).collect();
            by_ticket.sort_by_key(|&i| s.ticket(&ids[i]));
            let taken = s.take(&ids, n);
            prop_assert_eq!(&taken[..], &by_ticket[..n.min(ids.len())]);
        }

        #[test]
        fn sub_list_sample_is_the_filtered_whole(
            ids in proptest::collection::hash_set("[A-Z]{2}-[0-9]{1,3}", 1..50),
            seed in "[0-9]{1,12}",
        ) {
            let ids: Vec<String> = ids.into_iter().collect();
            let s = Sampler::new(&seed);
            let whole: Vec<&String> = s.order(&ids).into_iter().map(|i| &ids[i]).collect();
            let sub: Vec<String> = ids.iter().filter(|i| i.starts_with('A')).cloned().collect();
            let sub_order: Vec<&String> = s.order(&sub).into_iter().map(|i| &sub[i]).collect();
            let filtered: Vec<&String> = whole.into_iter().filter(|i| i.starts_with('A')).collect();
            prop_assert_eq!(sub_order, filtered);
        }
    }
}
