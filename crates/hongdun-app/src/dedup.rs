//! The import's duplicate check — "has this code come earlier in the file?" —
//! exact, and in memory bounded whatever the file's size.
//!
//! Keys (credit codes packed into a `u128`) go into an open-addressing table
//! in one `Vec`. When the table reaches its memory share it is sorted in place
//! (no second copy), written to a temporary file as a sorted run, and emptied.
//! Every spilled key is also set in one fixed-size split-block Bloom filter,
//! so a new key is looked up on disk only when the filter says "maybe": for
//! true duplicates (rare) and false hits (about 1% while the filter holds ten
//! bits a key — 100M spilled keys in the default 128 MiB). Past that the
//! filter answers "maybe" more often and the check slows down; it never
//! answers wrongly and never takes more memory.

use std::fs::File;
use std::hash::BuildHasher;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};

/// Keys of a run between two entries of its in-memory index: one disk read
/// (8 KiB) answers a lookup.
const STRIDE: usize = 512;
/// The table a check starts with: tiny files cost nothing.
const MIN_SLOTS: usize = 1024;
/// The smallest memory share a table may be given.
const FLOOR_SLOTS: usize = 64;

/// Split-block Bloom filter salts (as in Apache Parquet's filter spec).
const SALT: [u32; 8] = [
    0x47b6_137b,
    0x4497_4d91,
    0x8824_ad5b,
    0xa2b7_289d,
    0x7054_95c7,
    0x2df1_424b,
    0x9efc_4947,
    0x5c6b_fb31,
];

pub(crate) struct SeenKeys {
    /// `0` is an empty slot; a key is stored as `key + 1`.
    slots: Vec<u128>,
    len: usize,
    /// The table never grows beyond this many slots (a power of two).
    max_slots: usize,
    /// Bytes the Bloom filter takes once the first run is spilled.
    bloom_bytes: usize,
    hasher: foldhash::fast::RandomState,
    spill: Option<Spill>,
    /// Where runs are written; `None` is the system's temp directory.
    dir: Option<std::path::PathBuf>,
}

struct Spill {
    /// 256-bit blocks of eight 32-bit words.
    bloom: Vec<[u32; 8]>,
    runs: Vec<Run>,
    /// One stride of a run, as read from disk.
    buf: Vec<[u8; 16]>,
    /// Disk lookups made (filter said "maybe"), for the log.
    probes: u64,
}

struct Run {
    file: File,
    len: usize,
    /// Every `STRIDE`th key of the run.
    index: Vec<u128>,
}

impl SeenKeys {
    /// A check holding at most about `memory` bytes: two thirds for the
    /// table (rounded down to a power of two), the rest for the filter.
    pub(crate) fn with_memory(memory: usize) -> Self {
        let table = (memory / 3 * 2 / 16).max(FLOOR_SLOTS);
        let max_slots = if table.is_power_of_two() {
            table
        } else {
            table.next_power_of_two() / 2
        };
        let bloom_bytes = memory.saturating_sub(max_slots * 16).max(32);
        Self {
            slots: vec![0; MIN_SLOTS.min(max_slots)],
            len: 0,
            max_slots,
            bloom_bytes,
            hasher: Default::default(),
            spill: None,
            dir: None,
        }
    }

    /// Runs go to `dir` instead of the system's temp directory.
    pub(crate) fn in_dir(mut self, dir: Option<std::path::PathBuf>) -> Self {
        self.dir = dir;
        self
    }

    /// Keys the table holds before it grows or spills: three quarters full,
    /// so a miss probes a few neighbouring slots, not a long chain.
    fn limit(slots: usize) -> usize {
        slots / 4 * 3
    }

    /// Sizes the table for about `keys` keys in all at once instead of
    /// doubling (and rehashing) as it fills; never beyond its memory share.
    pub(crate) fn reserve(&mut self, keys: usize) {
        let want = (keys / 3 * 4 + 1).next_power_of_two().min(self.max_slots);
        if want > self.slots.len() {
            self.rehash(want);
        }
    }

    /// Runs spilled to disk so far.
    pub(crate) fn runs(&self) -> usize {
        self.spill.as_ref().map_or(0, |s| s.runs.len())
    }

    /// Disk lookups made so far.
    pub(crate) fn probes(&self) -> u64 {
        self.spill.as_ref().map_or(0, |s| s.probes)
    }

    /// Reads the table's slot of each key, all at once, so that the
    /// `insert`s of the same keys that follow find them in the cache: the
    /// reads are independent, so the processor waits for their misses side
    /// by side instead of one `insert` at a time (the table is hundreds of
    /// megabytes, read at random; 10M rows: the check's share of the reader
    /// fell from about 16% to 5%).
    pub(crate) fn warm(&self, keys: impl Iterator<Item = u128>) {
        let mask = self.slots.len() - 1;
        let mut seen = 0u128;
        for key in keys {
            let i = (self.hasher.hash_one(key) >> 32) as usize & mask;
            seen ^= self.slots[i];
        }
        std::hint::black_box(seen);
    }

    /// Records `key`; `false` if it was recorded before.
    pub(crate) fn insert(&mut self, key: u128) -> std::io::Result<bool> {
        let stored = key.wrapping_add(1);
        debug_assert!(stored != 0);
        let h = self.hasher.hash_one(key);
        let mask = self.slots.len() - 1;
        let mut i = (h >> 32) as usize & mask;
        loop {
            match self.slots[i] {
                0 => break,
                s if s == stored => return Ok(false),
                _ => i = (i + 1) & mask,
            }
        }
        if let Some(spill) = &mut self.spill {
            if spill.maybe(h) && spill.contains(stored)? {
                return Ok(false);
            }
        }
        self.slots[i] = stored;
        self.len += 1;
        if self.len > Self::limit(self.slots.len()) {
            if self.slots.len() < self.max_slots {
                self.rehash(self.slots.len() * 2);
            } else {
                self.spill_table()?;
            }
        }
        Ok(true)
    }

    fn rehash(&mut self, slots: usize) {
        let old = std::mem::replace(&mut self.slots, vec![0; slots]);
        let mask = slots - 1;
        for s in old.into_iter().filter(|&s| s != 0) {
            let mut i = (self.hasher.hash_one(s - 1) >> 32) as usize & mask;
            while self.slots[i] != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }

    /// Sorts the full table in place, writes it as a run, sets its keys in
    /// the filter and empties the table.
    fn spill_table(&mut self) -> std::io::Result<()> {
        let started = std::time::Instant::now();
        self.slots.sort_unstable();
        let first = self.slots.partition_point(|&s| s == 0);
        let keys = &self.slots[first..];
        let spill = self.spill.get_or_insert_with(|| Spill {
            bloom: vec![[0; 8]; (self.bloom_bytes / 32).max(1)],
            runs: Vec::new(),
            buf: Vec::new(),
            probes: 0,
        });
        let file = match &self.dir {
            Some(dir) => tempfile::tempfile_in(dir)?,
            None => tempfile::tempfile()?,
        };
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let mut index = Vec::with_capacity(keys.len() / STRIDE + 1);
        for (n, &s) in keys.iter().enumerate() {
            if n % STRIDE == 0 {
                index.push(s);
            }
            out.write_all(&s.to_le_bytes())?;
            spill.set(self.hasher.hash_one(s - 1));
        }
        let file = out.into_inner().map_err(|e| e.into_error())?;
        spill.runs.push(Run {
            file,
            len: keys.len(),
            index,
        });
        tracing::debug!(
            keys = keys.len(),
            runs = spill.runs.len(),
            ms = started.elapsed().as_millis() as u64,
            "import duplicate check spilled a run"
        );
        self.slots.fill(0);
        self.len = 0;
        Ok(())
    }
}

impl Spill {
    fn block(&self, h: u64) -> usize {
        (((h >> 32) * self.bloom.len() as u64) >> 32) as usize
    }

    fn set(&mut self, h: u64) {
        let b = self.block(h);
        let block = &mut self.bloom[b];
        for (w, salt) in block.iter_mut().zip(SALT) {
            *w |= 1 << ((h as u32).wrapping_mul(salt) >> 27);
        }
    }

    fn maybe(&self, h: u64) -> bool {
        let block = &self.bloom[self.block(h)];
        block
            .iter()
            .zip(SALT)
            .all(|(w, salt)| w & (1 << ((h as u32).wrapping_mul(salt) >> 27)) != 0)
    }

    /// Looks `stored` up in every run: the index narrows each run to one stride.
    fn contains(&mut self, stored: u128) -> std::io::Result<bool> {
        self.probes += 1;
        for run in &mut self.runs {
            let Some(at) = run.index.partition_point(|&k| k <= stored).checked_sub(1) else {
                continue;
            };
            let from = at * STRIDE;
            let n = STRIDE.min(run.len - from);
            self.buf.resize(n, [0; 16]);
            run.file.seek(SeekFrom::Start(from as u64 * 16))?;
            run.file.read_exact(self.buf.as_flattened_mut())?;
            if self
                .buf
                .binary_search_by(|b| u128::from_le_bytes(*b).cmp(&stored))
                .is_ok()
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// A tiny memory share forces many runs; every answer must match a plain set's.
    #[test]
    fn spilled_answers_match_a_plain_set() {
        let mut seen = SeenKeys::with_memory(4 * 1024);
        assert_eq!((seen.max_slots, seen.bloom_bytes), (128, 2 * 1024));
        let mut plain = HashSet::new();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for n in 0..8_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Keys from a small range repeat often, early and late; key 0 is allowed.
            let key = if n % 3 == 0 {
                u128::from(x % 5_000)
            } else {
                u128::from(x) << 40 | 1 << 127
            };
            assert_eq!(
                seen.insert(key).unwrap(),
                plain.insert(key),
                "key {key} at {n}"
            );
        }
        assert!(seen.runs() > 50, "{}", seen.runs());
        assert!(seen.probes() > 0);
        assert!(!seen.insert(0).unwrap());
    }

    /// At ten bits of filter a spilled key, about one new key in a hundred
    /// costs a disk lookup.
    #[test]
    fn the_filter_spares_most_new_keys_the_disk() {
        let mut seen = SeenKeys::with_memory(3 << 20);
        assert_eq!((seen.max_slots, seen.bloom_bytes), (1 << 17, 1 << 20));
        let spilled = (1 << 20) * 8 / 10;
        let mut k = 0u128;
        while seen.runs() * SeenKeys::limit(1 << 17) < spilled {
            k += 7_919;
            assert!(seen.insert(k).unwrap());
        }
        let before = seen.probes();
        for _ in 0..100_000 {
            k += 7_919;
            assert!(seen.insert(k).unwrap());
        }
        let rate = (seen.probes() - before) as f64 / 100_000.0;
        assert!(rate < 0.03, "{rate}");
    }

    #[test]
    fn a_reserved_table_stays_within_its_share() {
        let mut seen = SeenKeys::with_memory(384 << 20);
        assert_eq!(seen.max_slots, 1 << 24);
        assert_eq!(seen.bloom_bytes, 128 << 20);
        seen.reserve(1_000_000);
        assert_eq!(seen.slots.len(), 1 << 21);
        seen.reserve(100_000_000);
        assert_eq!(seen.slots.len(), 1 << 24);
        let mut small = SeenKeys::with_memory(0);
        assert_eq!(small.slots.len(), FLOOR_SLOTS);
        for k in 0..10_000 {
            assert!(small.insert(k).unwrap());
        }
        assert!(small.runs() > 0);
    }
}
