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
    reverse19(mod_ten19(hash))
}

/// The 19 decimal digits of `x` (< 10^19, zero-padded) in reverse order, four
/// digits at a time from a table rather than one division by ten per digit.
fn reverse19(x: u64) -> u64 {
    let (x, d0) = (x / 10_000, x % 10_000);
    let (x, d1) = (x / 10_000, x % 10_000);
    let (x, d2) = (x / 10_000, x % 10_000);
    let (d4, d3) = (x / 10_000, x % 10_000);
    let r = |d: u64| u64::from(REVERSE4[d as usize]);
    // d4 has three digits: reversed as four ("0abc" → "cba0"), then a tenth.
    r(d0) * 1_000_000_000_000_000
        + r(d1) * 100_000_000_000
        + r(d2) * 10_000_000
        + r(d3) * 1_000
        + r(d4) / 10
}

/// Each four-digit number (zero-padded) with its digits reversed.
static REVERSE4: [u16; 10_000] = {
    let mut t = [0u16; 10_000];
    let mut i = 0;
    while i < 10_000 {
        let (a, b, c, d) = (i / 1000, i / 100 % 10, i / 10 % 10, i % 10);
        t[i] = (d * 1000 + c * 100 + b * 10 + a) as u16;
        i += 1;
    }
    t
};

/// 5^19: 10^19 = 2^19 · 5^19, and 5^19 < 2^45.
const FIVE19: u64 = 19_073_486_328_125;
/// 5^19's inverse modulo 2^19 (it is odd), by Newton's iteration.
const FIVE19_INV: u64 = {
    let mut inv = FIVE19;
    let mut k = 0;
    while k < 5 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(FIVE19.wrapping_mul(inv)));
        k += 1;
    }
    inv & ((1 << 19) - 1)
};
/// 2^(32·j) modulo 5^19, for the j-th 32-bit word from the low end.
const POW32_MOD5: [u64; 8] = {
    let mut t = [0u64; 8];
    let mut j = 0;
    let mut p: u64 = 1;
    while j < 8 {
        t[j] = p;
        p = ((p as u128 * (1u128 << 32)) % FIVE19 as u128) as u64;
        j += 1;
    }
    t
};

/// The 256-bit big-endian `hash` modulo 10^19 without a 128-bit division (a
/// library call, several per ticket, over a province's ten million): the
/// remainder modulo 5^19 as a sum of each 32-bit word times its weight, the
/// one modulo 2^19 read off the low bits, and the two joined (Chinese
/// remainder theorem).
fn mod_ten19(hash: &[u8; 32]) -> u64 {
    // Eight products under 2^77 each: the sum stays under 2^80.
    let mut sum: u128 = 0;
    for (j, word) in hash.rchunks_exact(4).enumerate() {
        let w = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        sum += u128::from(w) * u128::from(POW32_MOD5[j]);
    }
    let (hi, lo) = ((sum >> 64) as u64, sum as u64);
    // 2^64 mod 5^19 is POW32_MOD5[2]; hi < 2^16 keeps the product small.
    let r5 = (hi * POW32_MOD5[2] % FIVE19 + lo % FIVE19) % FIVE19;
    let low = u64::from_be_bytes(hash[24..].try_into().expect("8 bytes"));
    let r2 = low & ((1 << 19) - 1);
    let k = (r2.wrapping_sub(r5).wrapping_mul(FIVE19_INV)) & ((1 << 19) - 1);
    r5 + FIVE19 * k
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

    /// [`Sampler::key`] of the parts' concatenation, without making it.
    pub fn key_parts(&self, parts: &[&str]) -> u64 {
        let mut h = self.state.clone();
        for p in parts {
            h.update(p.as_bytes());
        }
        key_of(&h.finalize().into())
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
            assert_eq!(
                s.key_parts(&[id, "/", "33102"]),
                s.key(&format!("{id}/33102"))
            );
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

    /// The hash modulo 10^19 by 128-bit division, as it was first written.
    fn mod_ten19_by_division(hash: &[u8; 32]) -> u64 {
        let mut rem: u128 = 0;
        for i in 0..4 {
            let limb = u64::from_be_bytes(hash[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
            rem = ((rem << 64) | u128::from(limb)) % u128::from(TEN19);
        }
        rem as u64
    }

    #[test]
    fn digits_reversed_by_table() {
        for x in [
            0,
            1,
            10,
            1234,
            9_999_999_999_999_999_999,
            1_000_000_000_000_000_000,
            4_321_000_000_000_000_001,
        ] {
            let want: u64 = format!("{x:019}")
                .chars()
                .rev()
                .collect::<String>()
                .parse()
                .unwrap();
            assert_eq!(reverse19(x), want, "{x}");
        }
    }

    #[test]
    fn modulo_ten19_at_the_edges() {
        for h in [[0u8; 32], [0xff; 32], {
            let mut h = [0u8; 32];
            h[31] = 1;
            h
        }] {
            assert_eq!(mod_ten19(&h), mod_ten19_by_division(&h));
        }
        assert_eq!((FIVE19 * FIVE19_INV) & ((1 << 19) - 1), 1);
    }

    proptest! {
        #[test]
        fn modulo_ten19_agrees_with_division(h in proptest::array::uniform32(any::<u8>())) {
            prop_assert_eq!(mod_ten19(&h), mod_ten19_by_division(&h));
        }

        #[test]
        fn reverse19_reverses_the_digits(x in 0u64..TEN19) {
            let want: u64 = format!("{x:019}").chars().rev().collect::<String>().parse().unwrap();
            prop_assert_eq!(reverse19(x), want);
        }

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
