//! An index from a key's hash to the slot where the caller keeps the key and its value: the
//! flow table's and the detectors' bounded maps.
//!
//! A general hash table puts a key's control byte, its slot number and its entry in three
//! places, so a key seen for the first time (or removed) waits for memory three times, and
//! gives no way to start those loads early. Here a cell is one `u64` (the hash's top 32 bits
//! and the slot number) in a linear-probing array kept at most half full: a lookup usually
//! reads one cache line (a probe run may cross into the next), whose address
//! [`SlotIndex::prefetch`] can compute and start loading ahead of time. Deletion shifts the
//! rest of the probe run back ([`close_gap`], shared with the detectors' `DistinctSet`), so no
//! tombstones build up however many keys come and go.
//!
//! Pure and self-contained: keys live in the caller's slots; the caller's `eq` compares them.

/// Cell of an empty place. A real cell never equals it: slots are below `u32::MAX`.
pub(crate) const EMPTY: u64 = u64::MAX;

/// Cells per 64-byte cache line.
const PER_LINE: usize = 8;

#[derive(Debug)]
pub(crate) struct SlotIndex {
    cells: Vec<u64>,
    /// log2 of the cell count (at most 32: homes come from the hash's top 32 bits).
    bits: u32,
    len: usize,
}

impl SlotIndex {
    /// Room for `n` keys before the first growth.
    pub(crate) fn with_capacity(n: usize) -> SlotIndex {
        let bits = (2 * n.max(PER_LINE))
            .next_power_of_two()
            .trailing_zeros()
            .min(32);
        SlotIndex {
            cells: vec![EMPTY; 1 << bits],
            bits,
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The cell's hash part: the hash's top 32 bits. It picks the home place and, compared
    /// first, saves nearly every comparison with another key.
    ///
    /// A caller may keep a key's tag instead of its hash (8 bytes less, and no hashing again)
    /// and use the `_tagged` calls: they are what the hash-taking ones do after this.
    #[inline]
    pub(crate) fn tag(hash: u64) -> u32 {
        (hash >> 32) as u32
    }

    #[inline]
    fn home(&self, tag: u32) -> usize {
        Self::home_among(self.bits, tag)
    }

    /// The home place of `tag` among `1 << bits` cells.
    #[inline]
    fn home_among(bits: u32, tag: u32) -> usize {
        // bits ≥ 4, so the shift is below 32.
        (tag >> (32 - bits)) as usize
    }

    /// The cell filing `slot` under `tag`.
    #[inline]
    fn cell(tag: u32, slot: u32) -> u64 {
        u64::from(tag) << 32 | u64::from(slot)
    }

    #[inline]
    fn mask(&self) -> usize {
        self.cells.len() - 1
    }

    /// Start loading the cache line a lookup of `hash` reads first.
    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        self.prefetch_tagged(Self::tag(hash));
    }

    /// [`Self::prefetch`] by the key's [`Self::tag`].
    #[inline]
    pub(crate) fn prefetch_tagged(&self, tag: u32) {
        crate::hint::prefetch(&self.cells[self.home(tag)]);
    }

    /// The slot filed under `hash` for which `eq(slot)` holds.
    #[inline]
    pub(crate) fn find(&self, hash: u64, mut eq: impl FnMut(u32) -> bool) -> Option<u32> {
        let tag = Self::tag(hash);
        let mask = self.mask();
        let mut i = self.home(tag);
        loop {
            let c = self.cells[i];
            if c == EMPTY {
                return None;
            }
            if (c >> 32) as u32 == tag && eq(c as u32) {
                return Some(c as u32);
            }
            i = (i + 1) & mask;
        }
    }

    /// Add `slot` under `hash` (the caller knows it is not there yet).
    pub(crate) fn insert(&mut self, hash: u64, slot: u32) {
        self.insert_tagged(Self::tag(hash), slot);
    }

    /// [`Self::insert`] by the key's [`Self::tag`].
    pub(crate) fn insert_tagged(&mut self, tag: u32, slot: u32) {
        debug_assert!(slot != u32::MAX);
        if 2 * (self.len + 1) > self.cells.len() && self.bits < 32 {
            self.grow();
        }
        self.place(Self::cell(tag, slot));
        self.len += 1;
    }

    fn place(&mut self, cell: u64) {
        let mask = self.mask();
        let mut i = self.home((cell >> 32) as u32);
        while self.cells[i] != EMPTY {
            i = (i + 1) & mask;
        }
        self.cells[i] = cell;
    }

    fn grow(&mut self) {
        let old = std::mem::replace(&mut self.cells, vec![EMPTY; 1 << (self.bits + 1)]);
        self.bits += 1;
        for c in old {
            if c != EMPTY {
                self.place(c);
            }
        }
    }

    /// Where the cell `cell`, filed under `tag`, is; None when it is not there.
    fn position(&self, tag: u32, cell: u64) -> Option<usize> {
        let mask = self.mask();
        let mut i = self.home(tag);
        loop {
            match self.cells[i] {
                EMPTY => return None,
                c if c == cell => return Some(i),
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Remove `slot`, filed under `hash`. False when it was not there.
    pub(crate) fn remove(&mut self, hash: u64, slot: u32) -> bool {
        self.remove_tagged(Self::tag(hash), slot)
    }

    /// [`Self::remove`] by the key's [`Self::tag`].
    pub(crate) fn remove_tagged(&mut self, tag: u32, slot: u32) -> bool {
        let Some(i) = self.position(tag, Self::cell(tag, slot)) else {
            return false;
        };
        let bits = self.bits;
        close_gap(&mut self.cells, i, |c| {
            Self::home_among(bits, (c >> 32) as u32)
        });
        self.len -= 1;
        true
    }

    /// The entry of `from`, filed under `hash`, now points at slot `to` (the caller moved
    /// it). False when it was not there.
    pub(crate) fn repoint(&mut self, hash: u64, from: u32, to: u32) -> bool {
        let tag = Self::tag(hash);
        let Some(i) = self.position(tag, Self::cell(tag, from)) else {
            return false;
        };
        self.cells[i] = Self::cell(tag, to);
        true
    }

    pub(crate) fn clear(&mut self) {
        self.cells.fill(EMPTY);
        self.len = 0;
    }
}

/// Backward-shift deletion in a linear-probing array of cells (a power of two of them, empty
/// ones [`EMPTY`]): empty the cell at `hole`, then pull each later cell of its probe run back
/// into the gap unless its home (`home(cell)`) lies cyclically in (gap, cell], where moving it
/// would put it before its home. Every remaining cell stays reachable from its home, with no
/// tombstones.
#[inline]
pub(crate) fn close_gap(cells: &mut [u64], mut hole: usize, home: impl Fn(u64) -> usize) {
    let mask = cells.len() - 1;
    let mut j = (hole + 1) & mask;
    loop {
        let c = cells[j];
        if c == EMPTY {
            break;
        }
        let h = home(c);
        let stays = if hole <= j {
            hole < h && h <= j
        } else {
            hole < h || h <= j
        };
        if !stays {
            cells[hole] = c;
            hole = j;
        }
        j = (j + 1) & mask;
    }
    cells[hole] = EMPTY;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Hashes that pile slots onto five homes, one at the very end, so runs wrap and overlap.
    fn crowded(slot: u32) -> u64 {
        let home: u64 = [0, 0x4000_0000, 0x8000_0000, 0xc000_0000, 0xffff_ffff][slot as usize % 5];
        home << 32 | u64::from(slot)
    }

    #[test]
    fn agrees_with_a_map_through_inserts_moves_and_removals() {
        let mut ix = SlotIndex::with_capacity(4);
        let mut model: HashMap<u32, u64> = HashMap::new();
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        for step in 0..20_000u32 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let slot = (rng % 300) as u32;
            let hash = if step % 3 == 0 {
                crowded(slot)
            } else {
                rng.rotate_left(17)
            };
            match model.get(&slot) {
                // Now and then the caller moves a key to a free slot instead (BoundedMap's
                // swap-remove does).
                Some(&h) if step % 5 == 0 && !model.contains_key(&(slot + 300)) => {
                    assert!(
                        ix.repoint(h, slot, slot + 300),
                        "step {step}: slot {slot} missing"
                    );
                    model.remove(&slot);
                    model.insert(slot + 300, h);
                }
                Some(&h) => {
                    assert!(ix.remove(h, slot), "step {step}: slot {slot} missing");
                    model.remove(&slot);
                }
                None => {
                    ix.insert(hash, slot);
                    model.insert(slot, hash);
                }
            }
            assert_eq!(ix.len(), model.len());
            if step % 97 == 0 {
                for (&s, &h) in &model {
                    assert_eq!(ix.find(h, |x| x == s), Some(s), "step {step}");
                }
                assert!(2 * ix.len() <= ix.cells.len());
            }
        }
        for (&s, &h) in &model {
            assert!(ix.remove(h, s));
        }
        assert_eq!(ix.len(), 0);
        assert!(ix.cells.iter().all(|&c| c == EMPTY));
    }

    #[test]
    fn a_missing_slot_is_not_found_or_removed() {
        let mut ix = SlotIndex::with_capacity(8);
        ix.insert(crowded(1), 1);
        ix.insert(crowded(6), 6); // same home as 1
        assert_eq!(ix.find(crowded(6), |s| s == 11), None);
        assert!(!ix.remove(crowded(11), 11));
        assert!(!ix.remove(crowded(2), 6), "filed under another hash");
        assert!(ix.repoint(crowded(6), 6, 16));
        assert_eq!(ix.find(crowded(6), |s| s == 6), None);
        assert_eq!(ix.find(crowded(6), |s| s == 16), Some(16));
        assert!(!ix.repoint(crowded(6), 6, 26), "moved already");
        assert_eq!(ix.find(crowded(1), |s| s == 1), Some(1));
        ix.clear();
        assert_eq!(ix.len(), 0);
        assert_eq!(ix.find(crowded(1), |_| true), None);
    }
}
