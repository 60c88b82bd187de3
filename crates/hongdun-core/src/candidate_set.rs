//! A draw's candidate list held compactly: a province's ten million businesses
//! as a few flat arrays (the ids in one string, classes and grids as small
//! numbers into their distinct values) instead of thirty million strings, and
//! their canonical (byte) order by sorting one array of packed integers.
use crate::inspection::{Candidate, DrawError};
use std::collections::HashMap;

/// The frozen candidate list of a draw, in the order it was read: one
/// stretch of rows per reader that filled it, kept as read (see
/// [`CandidateSet::append`]), positions counted across them.
#[derive(Debug, Clone, Default)]
pub struct CandidateSet {
    rows: Vec<Rows>,
    len: usize,
    classes: Vec<String>,
    grids: Vec<String>,
    grid_index: HashMap<String, u32>,
}

/// Sets are equal when they list the same candidates in the same order,
/// however their rows are stretched.
impl PartialEq for CandidateSet {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len
            && (0..self.len).all(|i| {
                (self.id(i), self.class(i), self.grid(i))
                    == (other.id(i), other.class(i), other.grid(i))
            })
    }
}

impl Eq for CandidateSet {}

/// One stretch of candidates.
#[derive(Debug, Clone, Default)]
struct Rows {
    ids: String,
    /// End of each id in `ids`.
    ends: Vec<u32>,
    /// Index into the set's `classes`.
    class: Vec<u16>,
    /// 0: no grid; n: the set's `grids[n - 1]`.
    grid: Vec<u32>,
}

impl Rows {
    fn with_capacity(n: usize) -> Self {
        Self {
            ids: String::with_capacity(n * 18),
            ends: Vec::with_capacity(n),
            class: Vec::with_capacity(n),
            grid: Vec::with_capacity(n),
        }
    }

    fn id(&self, j: usize) -> &str {
        let start = if j == 0 { 0 } else { self.ends[j - 1] as usize };
        &self.ids[start..self.ends[j] as usize]
    }
}

impl CandidateSet {
    pub fn with_capacity(n: usize) -> Self {
        Self {
            rows: vec![Rows::with_capacity(n)],
            ..Self::default()
        }
    }

    pub fn from_candidates(list: &[Candidate]) -> Self {
        let mut s = Self::with_capacity(list.len());
        for c in list {
            s.push(&c.id, &c.class, c.grid.as_deref());
        }
        s
    }

    pub fn to_candidates(&self) -> Vec<Candidate> {
        (0..self.len())
            .map(|i| Candidate {
                id: self.id(i).to_owned(),
                class: self.class(i).to_owned(),
                grid: self.grid(i).map(str::to_owned),
            })
            .collect()
    }

    pub fn push(&mut self, id: &str, class: &str, grid: Option<&str>) {
        let c = self.intern_class(class);
        let g = match grid {
            None => 0,
            Some(g) => self.intern_grid(g),
        };
        if self.rows.is_empty() {
            self.rows.push(Rows::default());
        }
        let rows = self.rows.last_mut().expect("one stretch at least");
        rows.ids.push_str(id);
        let end = u32::try_from(rows.ids.len()).expect("a reader's ids under 4 GiB");
        rows.ends.push(end);
        rows.class.push(c);
        rows.grid.push(g);
        self.len += 1;
    }

    fn intern_class(&mut self, class: &str) -> u16 {
        // Few classes (A–D): a scan beats hashing.
        let c = match self.classes.iter().position(|x| x == class) {
            Some(c) => c,
            None => {
                self.classes.push(class.to_owned());
                self.classes.len() - 1
            }
        };
        u16::try_from(c).expect("under 65,536 classes")
    }

    fn intern_grid(&mut self, grid: &str) -> u32 {
        if let Some(&n) = self.grid_index.get(grid) {
            return n;
        }
        self.grids.push(grid.to_owned());
        let n = self.grids.len() as u32;
        self.grid_index.insert(grid.to_owned(), n);
        n
    }

    /// Appends another set (a second reader's rows) as a stretch of its own:
    /// its classes and grids are mapped onto this set's in place, and its
    /// arrays are moved, not copied — at province scale a copy would be
    /// hundreds of megabytes of fresh pages.
    pub fn append(&mut self, other: CandidateSet) {
        let classes: Vec<u16> = other.classes.iter().map(|c| self.intern_class(c)).collect();
        let grids: Vec<u32> = std::iter::once(0)
            .chain(other.grids.iter().map(|g| self.intern_grid(g)))
            .collect();
        for mut rows in other.rows.into_iter().filter(|r| !r.ends.is_empty()) {
            for c in rows.class.iter_mut() {
                *c = classes[*c as usize];
            }
            for g in rows.grid.iter_mut() {
                *g = grids[*g as usize];
            }
            self.len += rows.ends.len();
            self.rows.push(rows);
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The stretch holding position `i`, and `i` within it.
    fn locate(&self, mut i: usize) -> (&Rows, usize) {
        for rows in &self.rows {
            if i < rows.ends.len() {
                return (rows, i);
            }
            i -= rows.ends.len();
        }
        panic!("candidate position out of range");
    }

    pub fn id(&self, i: usize) -> &str {
        let (rows, j) = self.locate(i);
        rows.id(j)
    }

    pub fn class(&self, i: usize) -> &str {
        &self.classes[self.class_index(i)]
    }

    /// The class of candidate `i` as an index into [`CandidateSet::classes`].
    pub fn class_index(&self, i: usize) -> usize {
        let (rows, j) = self.locate(i);
        rows.class[j] as usize
    }

    /// The distinct classes, in the order first seen.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    pub fn grid(&self, i: usize) -> Option<&str> {
        let (rows, j) = self.locate(i);
        match rows.grid[j] {
            0 => None,
            n => Some(&self.grids[n as usize - 1]),
        }
    }

    /// Bytes of all ids together.
    fn id_bytes(&self) -> usize {
        self.rows.iter().map(|r| r.ids.len()).sum()
    }

    /// Positions in id order (byte order, as `str` compares), or the first id
    /// listed twice.
    pub fn canonical_order(&self) -> Result<Vec<u32>, DrawError> {
        match self.packed_keys() {
            Some(keys) => self.order_packed(keys),
            None => self.order_general(),
        }
    }

    /// The frozen list as hashed: `id \t class \t grid \n` per candidate, in `order`.
    pub fn canonical_text(&self, order: &[u32]) -> String {
        let mut s = String::with_capacity(self.id_bytes() + self.len() * 4);
        self.canonical_pieces(order, usize::MAX, &mut |piece| s.push_str(piece));
        s
    }

    /// The same text handed to `sink` in pieces of at most `max_bytes` (or
    /// one line, if a line is longer), each ending at a line end: a
    /// province's list is hashed and compressed piece by piece instead of
    /// being held whole.
    pub fn canonical_pieces(&self, order: &[u32], max_bytes: usize, sink: &mut dyn FnMut(&str)) {
        let mut pieces = self.pieces(max_bytes, sink);
        for &i in order {
            let i = i as usize;
            pieces.line(self.id(i), self.class(i), self.grid(i).unwrap_or(""));
        }
        pieces.finish();
    }

    fn pieces<'s>(&self, max_bytes: usize, sink: &'s mut dyn FnMut(&str)) -> Pieces<'s> {
        Pieces {
            piece: String::with_capacity(max_bytes.min(self.id_bytes() + self.len() * 4)),
            max_bytes,
            sink,
        }
    }

    /// The frozen list (as [`CandidateSet::canonical_pieces`] writes it) with
    /// no order array in between: where the ids pack, each line's id is read
    /// back out of its sorted key, so only the class and the grid are looked
    /// up by position — a province's ids are not visited a second time in
    /// random order. The first id listed twice is an error, as in
    /// [`CandidateSet::canonical_order`].
    pub fn write_canonical(
        &self,
        max_bytes: usize,
        sink: &mut dyn FnMut(&str),
    ) -> Result<(), DrawError> {
        let Some(mut keys) = self.packed_keys() else {
            let order = self.order_general()?;
            self.canonical_pieces(&order, max_bytes, sink);
            return Ok(());
        };
        let mut pieces = self.pieces(max_bytes, sink);
        let mut last: Option<u128> = None;
        let mut id = [0u8; 18];
        for k in sort_parallel(&mut keys) {
            let code = k >> POS_BITS;
            let mut n = 0;
            while n < 18 {
                let r = ((code >> (5 * (17 - n))) & 31) as usize;
                if r == 0 {
                    break;
                }
                id[n] = PACK_ALPHABET[r - 1];
                n += 1;
            }
            let id = std::str::from_utf8(&id[..n]).expect("the alphabet is ASCII");
            if last == Some(code) {
                return Err(DrawError::DuplicateCandidate(id.to_owned()));
            }
            last = Some(code);
            let i = (k & POS_MASK) as usize;
            pieces.line(id, self.class(i), self.grid(i).unwrap_or(""));
        }
        pieces.finish();
        Ok(())
    }

    /// Every id as one integer whose order is the ids' byte order, with its
    /// position in the low bits — when every id is at most 18 symbols of the
    /// credit-code alphabet (credit codes, 15-digit registration numbers).
    /// Each symbol takes 5 bits as its rank + 1 (0 marks the end of a shorter
    /// id, which sorts before its extensions, as bytes do).
    fn packed_keys(&self) -> Option<Vec<u128>> {
        if self.len() as u128 >= 1u128 << POS_BITS {
            return None;
        }
        let mut rank = [0u8; 256];
        for (r, &b) in PACK_ALPHABET.iter().enumerate() {
            rank[b as usize] = r as u8 + 1;
        }
        let mut keys = Vec::with_capacity(self.len());
        for rows in &self.rows {
            let mut start = 0usize;
            for &end in &rows.ends {
                let id = &rows.ids.as_bytes()[start..end as usize];
                start = end as usize;
                if id.len() > 18 {
                    return None;
                }
                let mut k: u128 = 0;
                for &b in id {
                    let r = rank[b as usize];
                    if r == 0 {
                        return None;
                    }
                    k = (k << 5) | u128::from(r);
                }
                k <<= 5 * (18 - id.len() as u32);
                keys.push((k << POS_BITS) | keys.len() as u128);
            }
        }
        Some(keys)
    }

    fn order_packed(&self, mut keys: Vec<u128>) -> Result<Vec<u32>, DrawError> {
        let mut order = Vec::with_capacity(keys.len());
        let mut last: Option<u128> = None;
        for k in sort_parallel(&mut keys) {
            if last == Some(k >> POS_BITS) {
                let id = self.id((k & POS_MASK) as usize);
                return Err(DrawError::DuplicateCandidate(id.to_owned()));
            }
            last = Some(k >> POS_BITS);
            order.push((k & POS_MASK) as u32);
        }
        Ok(order)
    }

    /// Any ids: fixed 24-byte prefixes in one contiguous array, whole ids
    /// compared only where prefixes tie.
    fn order_general(&self) -> Result<Vec<u32>, DrawError> {
        let mut keys: Vec<(u128, u64, u32)> = (0..self.len())
            .map(|i| {
                let mut k = [0u8; 24];
                let b = self.id(i).as_bytes();
                let n = b.len().min(24);
                k[..n].copy_from_slice(&b[..n]);
                let hi = u128::from_be_bytes(k[..16].try_into().expect("16 bytes"));
                let lo = u64::from_be_bytes(k[16..].try_into().expect("8 bytes"));
                (hi, lo, i as u32)
            })
            .collect();
        let id = |k: &(u128, u64, u32)| self.id(k.2 as usize);
        keys.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| id(a).cmp(id(b))));
        for w in keys.windows(2) {
            if (w[0].0, w[0].1) == (w[1].0, w[1].1) && id(&w[0]) == id(&w[1]) {
                return Err(DrawError::DuplicateCandidate(id(&w[0]).to_owned()));
            }
        }
        Ok(keys.into_iter().map(|k| k.2).collect())
    }
}

/// Lines of the frozen list (`id \t class \t grid \n`) gathered into pieces
/// of at most `max_bytes` (a longer line alone) for `sink`.
struct Pieces<'s> {
    piece: String,
    max_bytes: usize,
    sink: &'s mut dyn FnMut(&str),
}

impl Pieces<'_> {
    fn line(&mut self, id: &str, class: &str, grid: &str) {
        let line = id.len() + class.len() + grid.len() + 3;
        if !self.piece.is_empty() && self.piece.len() + line > self.max_bytes {
            (self.sink)(&self.piece);
            self.piece.clear();
        }
        self.piece.push_str(id);
        self.piece.push('\t');
        self.piece.push_str(class);
        self.piece.push('\t');
        self.piece.push_str(grid);
        self.piece.push('\n');
    }

    fn finish(self) {
        if !self.piece.is_empty() {
            (self.sink)(&self.piece);
        }
    }
}

/// A packed key: the id in its top 90 bits (18 symbols of 5), its position
/// in the low 38.
const POS_BITS: u32 = 128 - 90;
const POS_MASK: u128 = (1u128 << POS_BITS) - 1;

/// The symbols of credit codes (GB 32100: digits and capitals without I O S V Z)
/// and registration numbers, in byte order.
const PACK_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Sorts on every core: halves sorted apart, then merged as they are read
/// (into the caller's result, not into a second array of keys).
fn sort_parallel(keys: &mut [u128]) -> impl Iterator<Item = u128> + '_ {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mid = if keys.len() < 100_000 || threads == 1 {
        keys.sort_unstable();
        keys.len()
    } else {
        let mid = keys.len() / 2;
        let (a, b) = keys.split_at_mut(mid);
        std::thread::scope(|s| {
            s.spawn(|| a.sort_unstable());
            b.sort_unstable();
        });
        mid
    };
    let (a, b) = keys.split_at(mid);
    let (mut a, mut b) = (a.iter().copied().peekable(), b.iter().copied().peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) if x <= y => a.next(),
        (Some(_), Some(_)) => b.next(),
        (Some(_), None) => a.next(),
        (None, _) => b.next(),
    })
}

impl crate::sampling::Ids for CandidateSet {
    fn count(&self) -> usize {
        self.len()
    }
    fn id_at(&self, i: usize) -> &str {
        self.id(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn set(ids: &[&str]) -> CandidateSet {
        let mut s = CandidateSet::default();
        for (i, id) in ids.iter().enumerate() {
            s.push(id, ["A", "B"][i % 2], (i % 3 == 0).then_some("g1"));
        }
        s
    }

    fn byte_order(s: &CandidateSet) -> Vec<u32> {
        let mut o: Vec<u32> = (0..s.len() as u32).collect();
        o.sort_by(|&a, &b| s.id(a as usize).cmp(s.id(b as usize)));
        o
    }

    #[test]
    fn round_trips_its_candidates() {
        let s = set(&["91330000X", "92330000Y", "1"]);
        assert_eq!(CandidateSet::from_candidates(&s.to_candidates()), s);
        assert_eq!(s.grid(0), Some("g1"));
        assert_eq!(s.grid(1), None);
        assert_eq!(s.class(1), "B");
    }

    #[test]
    fn appending_maps_classes_and_grids() {
        let mut a = CandidateSet::default();
        a.push("1", "B", Some("g2"));
        let mut b = CandidateSet::default();
        b.push("2", "A", Some("g1"));
        b.push("3", "B", None);
        b.push("4", "C", Some("g2"));
        a.append(b);
        let got: Vec<(String, String, Option<String>)> = a
            .to_candidates()
            .into_iter()
            .map(|c| (c.id, c.class, c.grid))
            .collect();
        let want = [
            ("1", "B", Some("g2")),
            ("2", "A", Some("g1")),
            ("3", "B", None),
            ("4", "C", Some("g2")),
        ];
        assert_eq!(
            got,
            want.map(|(i, c, g)| (i.to_owned(), c.to_owned(), g.map(str::to_owned)))
        );
        assert_eq!(a.classes().len(), 3);
        assert_eq!((a.len(), a.id(3), a.class_index(3)), (4, "4", 2));
    }

    /// Credit-code-shaped ids in no particular order.
    fn spread_ids(n: u64) -> Vec<String> {
        (0..n)
            .map(|i| format!("9{}3310{:06}X{}", i % 7, (i * 7919) % 1_000_003, i % 10))
            .collect()
    }

    #[test]
    fn appended_stretches_order_and_write_as_one() {
        let ids = spread_ids(2000);
        let whole = set(&ids.iter().map(String::as_str).collect::<Vec<_>>());
        let mut parts = set(&ids[..700].iter().map(String::as_str).collect::<Vec<_>>());
        let mut rest = CandidateSet::default();
        for (i, id) in ids.iter().enumerate().skip(700) {
            rest.push(id, ["A", "B"][i % 2], (i % 3 == 0).then_some("g1"));
        }
        parts.append(rest);
        assert_eq!(parts, whole);
        assert_eq!(parts.canonical_order(), whole.canonical_order());
        let mut a = String::new();
        parts.write_canonical(100, &mut |p| a.push_str(p)).unwrap();
        assert_eq!(a, whole.canonical_text(&whole.canonical_order().unwrap()));
    }

    #[test]
    fn shorter_ids_sort_before_their_extensions() {
        let s = set(&[
            "330000000000001",
            "33000000000000",
            "91330000MA2A0000X1",
            "0",
        ]);
        assert!(s.packed_keys().is_some());
        assert_eq!(s.canonical_order().unwrap(), byte_order(&s));
    }

    #[test]
    fn duplicates_are_found_on_both_paths() {
        let packed = set(&["91330000MA2A0000X1", "92", "91330000MA2A0000X1"]);
        assert_eq!(
            packed.canonical_order(),
            Err(DrawError::DuplicateCandidate("91330000MA2A0000X1".into()))
        );
        let general = set(&["甲", "乙", "甲"]);
        assert!(general.packed_keys().is_none());
        assert_eq!(
            general.canonical_order(),
            Err(DrawError::DuplicateCandidate("甲".into()))
        );
    }

    #[test]
    fn the_parallel_sort_keeps_byte_order() {
        let ids = spread_ids(150_000);
        let s = set(&ids.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(s.canonical_order().unwrap(), byte_order(&s));
    }

    #[test]
    fn written_list_is_the_canonical_text() {
        let packed: Vec<String> = (0..3000u64)
            .map(|i| format!("9{}3310{:06}X{}", i % 7, (i * 7919) % 1_000_003, i % 10))
            .chain(["330000000000001".into(), "33000000000000".into()])
            .collect();
        let other = ["甲", "乙", "ab-1"];
        for ids in [
            packed.iter().map(String::as_str).collect::<Vec<_>>(),
            other.to_vec(),
        ] {
            let s = set(&ids);
            let whole = s.canonical_text(&s.canonical_order().unwrap());
            for max in [30, 4096, usize::MAX] {
                let mut pieces = Vec::new();
                s.write_canonical(max, &mut |p| pieces.push(p.to_owned()))
                    .unwrap();
                assert_eq!(pieces.concat(), whole);
            }
        }
        let dup = set(&["91330000MA2A0000X1", "92", "91330000MA2A0000X1"]);
        assert_eq!(
            dup.write_canonical(usize::MAX, &mut |_| {}),
            Err(DrawError::DuplicateCandidate("91330000MA2A0000X1".into()))
        );
    }

    #[test]
    fn pieces_are_the_text_cut_at_line_ends() {
        let ids: Vec<String> = (0..500u64).map(|i| format!("91331023MA{i:08}")).collect();
        let s = set(&ids.iter().map(String::as_str).collect::<Vec<_>>());
        let order = s.canonical_order().unwrap();
        let whole = s.canonical_text(&order);
        for max in [1, 25, 64, 1000, usize::MAX] {
            let mut pieces = Vec::new();
            s.canonical_pieces(&order, max, &mut |p| pieces.push(p.to_owned()));
            assert_eq!(pieces.concat(), whole);
            for p in &pieces {
                assert!(p.ends_with('\n'));
                // A piece over the limit is a single line.
                assert!(p.len() <= max || p.matches('\n').count() == 1);
            }
        }
    }

    proptest! {
        /// The packed order and the general one are the ids' byte order, for
        /// credit-code-like ids and for anything else.
        #[test]
        fn order_is_byte_order(
            codes in proptest::collection::btree_set("[0-9A-HJ-NP-RT-UW-Y]{1,18}", 0..300),
            other in proptest::collection::btree_set("[a-z0-9IO-]{1,30}", 0..50),
        ) {
            let codes: Vec<&str> = codes.iter().map(String::as_str).rev().collect();
            let s = set(&codes);
            prop_assert!(s.packed_keys().is_some());
            prop_assert_eq!(s.canonical_order().unwrap(), byte_order(&s));
            let mut mixed = codes.clone();
            mixed.extend(other.iter().map(String::as_str));
            mixed.sort_unstable();
            mixed.dedup();
            mixed.reverse();
            let s = set(&mixed);
            prop_assert_eq!(s.canonical_order().unwrap(), byte_order(&s));
        }
    }
}
