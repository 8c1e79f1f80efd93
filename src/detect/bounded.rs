//! Bounded state for detectors: a capped map with CLOCK (second-chance) eviction, a capped
//! distinct-value counter, and a tumbling window. Owns no detection logic; every detector keeps
//! its attacker-keyed state in these so memory is bounded whatever the input (DESIGN invariant 5).
use crate::slot_index::{EMPTY, SlotIndex, close_gap};
use jiff::{SignedDuration, Timestamp};
use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};

/// A map with at most `cap` entries. When full, inserting evicts an entry that has not been
/// touched since the clock hand last passed it (CLOCK, an O(1)-amortized approximation of
/// least-recently-updated). Evicted values are recycled for the new key, so a warm map
/// allocates nothing per observation. The hasher is foldhash, randomly seeded per map: fast
/// on the packet path, and an attacker who cannot learn the seed cannot aim collisions (and
/// the cap bounds the damage if they could).
///
/// The index (a `SlotIndex`) holds the hash's top half and the slot number; keys and their
/// full hashes live in the slots, so evicting needs no rehash of the old key.
#[derive(Debug)]
pub struct BoundedMap<K, V> {
    index: SlotIndex,
    hasher: foldhash::fast::RandomState,
    slots: Vec<Slot<K, V>>,
    /// CLOCK reference bits, apart from the slots so the hand's sweep reads one dense array
    /// instead of touching every (large) value.
    referenced: Vec<bool>,
    hand: usize,
    cap: usize,
    evictions: u64,
}

#[derive(Debug)]
struct Slot<K, V> {
    hash: u64,
    key: K,
    value: V,
}

impl<K: Hash + Eq + Clone, V> BoundedMap<K, V> {
    /// Slot room reserved up front: tables at the default caps (up to 2^17) never move their
    /// slots on the packet path, which would copy every one each time they doubled; larger
    /// caps grow from there. Untouched reserved pages cost no memory. (The index is not
    /// reserved: it grows cheaply, and a sparse index of a small table costs a cache miss
    /// per lookup.)
    const RESERVE: usize = 1 << 17;

    /// A map that never holds more than `cap` entries (at least 1).
    pub fn new(cap: usize) -> Self {
        let cap = cap.clamp(1, u32::MAX as usize);
        let reserve = cap.min(Self::RESERVE);
        BoundedMap {
            index: SlotIndex::with_capacity(0),
            hasher: foldhash::fast::RandomState::default(),
            slots: Vec::with_capacity(reserve),
            referenced: Vec::with_capacity(reserve),
            hand: 0,
            cap,
            evictions: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
    pub fn cap(&self) -> usize {
        self.cap
    }
    /// Entries evicted to make room since creation.
    pub fn evictions(&self) -> u64 {
        self.evictions
    }

    fn find<Q>(&self, key: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.find_hashed(self.hash(key), key)
    }

    /// `key`'s hash, for the `_hashed` calls: a caller that makes several calls about one key
    /// hashes it once.
    fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        self.hasher.hash_one(key)
    }

    fn find_hashed<Q>(&self, hash: u64, key: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let slots = &self.slots;
        self.index
            .find(hash, |i| slots[i as usize].key.borrow() == key)
            .map(|i| i as usize)
    }

    /// Start loading the index cell a lookup of `key` reads first (see
    /// [`super::Detectors::prefetch`]).
    #[inline]
    pub fn prefetch<Q: Hash + ?Sized>(&self, key: &Q) {
        self.index.prefetch(self.hash(key));
    }

    /// Second stage of [`Self::prefetch`], a few records later, once the index cell has
    /// arrived: start loading the slot it names, all of it (the key the lookup compares, and
    /// the value the detector then updates). On a busy edge the slot is as cold as the cell;
    /// a table keyed by campus sources is read for nearly every connection. Only the tag is
    /// compared, so a rare other key's slot may be loaded instead; a hint only, it changes
    /// nothing.
    #[inline]
    pub fn prefetch_slot<Q: Hash + ?Sized>(&self, key: &Q) {
        if let Some(i) = self.index.find(self.hash(key), |_| true)
            && let Some(s) = self.slots.get(i as usize)
        {
            crate::hint::prefetch_lines(s);
        }
    }

    /// Look up without marking the entry as used.
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.find(key).map(|i| &self.slots[i].value)
    }

    /// Look up and mark as recently used.
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let i = self.find(key)?;
        Some(self.used(i))
    }

    /// The value in slot `i`, marked as recently used.
    fn used(&mut self, i: usize) -> &mut V {
        self.referenced[i] = true;
        &mut self.slots[i].value
    }

    /// The entry for `key`, created with `init` (or by `recycle` on an evicted value when the
    /// map is full). Marks the entry as recently used.
    pub fn get_or_insert(
        &mut self,
        key: K,
        init: impl FnOnce() -> V,
        recycle: impl FnOnce(&mut V),
    ) -> &mut V {
        let hash = self.hash(&key);
        if let Some(i) = self.find_hashed(hash, &key) {
            return self.used(i);
        }
        self.insert_new(hash, key, init, recycle)
    }

    /// Insert `key` (of `hash`), known to be absent: in a free slot, or over the entry the
    /// CLOCK hand evicts when the map is full.
    fn insert_new(
        &mut self,
        hash: u64,
        key: K,
        init: impl FnOnce() -> V,
        recycle: impl FnOnce(&mut V),
    ) -> &mut V {
        if self.slots.len() < self.cap {
            let i = self.slots.len();
            self.slots.push(Slot {
                hash,
                key,
                value: init(),
            });
            self.referenced.push(true);
            self.index.insert(hash, i as u32);
            return &mut self.slots[i].value;
        }
        // Full: advance the hand, giving referenced entries a second chance. Terminates within
        // two sweeps because every pass clears the bit it skips.
        let victim = loop {
            if self.hand >= self.referenced.len() {
                self.hand = 0;
            }
            let bit = &mut self.referenced[self.hand];
            if *bit {
                *bit = false;
                self.hand += 1;
            } else {
                break self.hand;
            }
        };
        self.hand = victim + 1;
        self.evictions += 1;
        self.referenced[victim] = true;
        let filed = self.index.remove(self.slots[victim].hash, victim as u32);
        debug_assert!(filed, "an occupied slot is always indexed");
        self.index.insert(hash, victim as u32);
        let slot = &mut self.slots[victim];
        slot.hash = hash;
        slot.key = key;
        recycle(&mut slot.value);
        &mut slot.value
    }

    /// Remove an entry (not counted as an eviction).
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let i = self.find(key)?;
        let filed = self.index.remove(self.slots[i].hash, i as u32);
        debug_assert!(filed, "a slot found through the index is in it");
        let last = self.slots.len() - 1;
        let slot = self.slots.swap_remove(i);
        self.referenced.swap_remove(i);
        if i < last {
            // The former last slot now lives at `i`: point its index entry there.
            let filed = self
                .index
                .repoint(self.slots[i].hash, last as u32, i as u32);
            debug_assert!(filed, "an occupied slot is always indexed");
        }
        Some(slot.value)
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.slots.iter().map(|s| (&s.key, &s.value))
    }
}

/// Counts distinct values exactly up to `cap`, then saturates (stays at `cap`). Stores 64-bit
/// keyed fingerprints, not the values, so one entry costs 8 bytes whatever the value.
/// Thresholds only need "at least N distinct", which saturation preserves.
///
/// Up to [`DistinctSet::SMALL`] values it is a plain list (most keys see a handful); beyond,
/// the vector becomes an open-addressing table, so a host that contacts thousands of peers
/// costs O(1) per record instead of a scan of everything it contacted. The list's first
/// three values live in the set itself: a key that sees one or two values
/// (most keys on a busy edge) then costs no allocation, and no cache miss beyond its entry's.
#[derive(Debug, Clone, Default)]
pub struct DistinctSet {
    /// List mode: the first values (up to `INLINE`). Unused in table mode.
    head: [u64; DistinctSet::INLINE],
    /// List mode: the values after those in `head`, `len - INLINE` of them. Table mode: a
    /// power-of-two table of slots, [`EMPTY`] where free, at most half full.
    slots: Vec<u64>,
    len: usize,
    hashed: bool,
    saturated: bool,
}

// A free table slot is `slot_index::EMPTY` (`u64::MAX`), as in `SlotIndex`, whose deletion
// it shares. The one value that would collide with it is stored as its neighbour (see
// `DistinctSet::canon`); a port or a 64-bit fingerprint never is `u64::MAX` in practice, and
// one miscounted value cannot move a threshold.

impl DistinctSet {
    /// Values kept as a list before switching to a table.
    pub const SMALL: usize = 16;
    /// List values kept in the set itself.
    const INLINE: usize = 3;

    fn canon(fp: u64) -> u64 {
        if fp == EMPTY { EMPTY - 1 } else { fp }
    }

    /// Home slot in a table of `n` (a power of two) slots: a multiplicative mix, because the
    /// values may be small integers (ports) rather than hashes.
    fn home(fp: u64, n: usize) -> usize {
        (fp.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - n.trailing_zeros())) as usize
    }

    /// The table slot holding `fp`, or the free slot where it would go.
    fn probe(&self, fp: u64) -> (usize, bool) {
        let n = self.slots.len();
        let mut i = Self::home(fp, n);
        loop {
            match self.slots[i] {
                x if x == fp => return (i, true),
                EMPTY => return (i, false),
                _ => i = (i + 1) & (n - 1),
            }
        }
    }

    /// List mode: the values in `head`, and those in `slots`.
    fn listed(&self) -> (&[u64], &[u64]) {
        let inline = self.len.min(Self::INLINE);
        (&self.head[..inline], &self.slots[..self.len - inline])
    }

    /// List mode: the `i`th value's place.
    fn list_at(&mut self, i: usize) -> &mut u64 {
        if i < Self::INLINE {
            &mut self.head[i]
        } else {
            &mut self.slots[i - Self::INLINE]
        }
    }

    /// Rebuild as a table of `n` slots (a power of two, more than twice `len`).
    fn rehash(&mut self, n: usize) {
        let old: Vec<u64> = if self.hashed {
            self.slots.iter().copied().filter(|&x| x != EMPTY).collect()
        } else {
            let (head, rest) = self.listed();
            [head, rest].concat()
        };
        self.slots.clear();
        self.slots.resize(n, EMPTY);
        self.hashed = true;
        for fp in old {
            let (i, _) = self.probe(fp);
            self.slots[i] = fp;
        }
    }

    /// Add a fingerprint; true when it was new and counted.
    pub fn insert(&mut self, fp: u64, cap: usize) -> bool {
        let fp = Self::canon(fp);
        if self.contains(fp) {
            return false;
        }
        if self.len >= cap {
            self.saturated = true;
            return false;
        }
        if !self.hashed {
            if self.len < Self::INLINE {
                self.head[self.len] = fp;
                self.len += 1;
                return true;
            }
            if self.len < Self::SMALL {
                self.slots.truncate(self.len - Self::INLINE);
                self.slots.push(fp);
                self.len += 1;
                return true;
            }
            self.rehash(4 * Self::SMALL);
        } else if 2 * (self.len + 1) > self.slots.len() {
            self.rehash(2 * self.slots.len());
        }
        let (i, _) = self.probe(fp);
        self.slots[i] = fp;
        self.len += 1;
        true
    }

    pub fn contains(&self, fp: u64) -> bool {
        let fp = Self::canon(fp);
        if self.hashed {
            self.probe(fp).1
        } else {
            let (head, rest) = self.listed();
            head.contains(&fp) || rest.contains(&fp)
        }
    }

    /// Forget a fingerprint (e.g. a probe that turned out to be answered); true when it was
    /// there.
    pub fn remove(&mut self, fp: u64) -> bool {
        let fp = Self::canon(fp);
        if !self.hashed {
            let (head, rest) = self.listed();
            let Some(i) = head.iter().chain(rest).position(|&x| x == fp) else {
                return false;
            };
            let last = *self.list_at(self.len - 1);
            *self.list_at(i) = last;
            self.len -= 1;
            return true;
        }
        let (hole, found) = self.probe(fp);
        if !found {
            return false;
        }
        let n = self.slots.len();
        close_gap(&mut self.slots, hole, |x| Self::home(x, n));
        self.len -= 1;
        true
    }

    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// More values arrived than the cap allowed to be counted.
    pub fn saturated(&self) -> bool {
        self.saturated
    }
    /// Empty it, keeping the allocation (back to list mode).
    pub fn clear(&mut self) {
        self.slots.clear();
        self.len = 0;
        self.hashed = false;
        self.saturated = false;
    }
}

/// Keyed fingerprints for [`DistinctSet`]: one random key per detector, so an attacker cannot
/// aim collisions.
#[derive(Debug, Clone, Default)]
pub struct Fingerprint(foldhash::fast::RandomState);

impl Fingerprint {
    pub fn of<T: Hash>(&self, v: &T) -> u64 {
        self.0.hash_one(v)
    }
}

/// A tumbling window anchored at the first observation after the previous one expired, plus
/// the rate limit for evidence: at most one emission per window length per key, whatever the
/// window boundaries, so a long scan yields one evidence per window, not one per packet.
/// Tumbling (not sliding) to keep one counter per key: a burst straddling a boundary can be
/// split in two, so an activity is surely caught once its rate is twice the threshold per
/// window; the defaults leave that margin.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: Timestamp,
    pub last: Timestamp,
    /// Observations counted in the current window.
    pub count: u64,
    /// When evidence was last emitted for this key (survives window resets).
    pub emitted: Option<Timestamp>,
}

impl Window {
    pub fn new(now: Timestamp) -> Self {
        Window {
            start: now,
            last: now,
            count: 0,
            emitted: None,
        }
    }

    /// Start afresh for a new key that reuses this slot.
    pub fn recycle(&mut self, now: Timestamp) {
        *self = Window::new(now);
    }

    /// Restart the window at `now` but remember when evidence was last emitted.
    pub fn recycle_keep_emitted(&mut self, now: Timestamp) {
        let emitted = self.emitted;
        *self = Window::new(now);
        self.emitted = emitted;
    }

    /// Move to `now`; returns true when the window expired and was restarted (the caller
    /// then clears its per-window counters). Late (out-of-order) records count in the
    /// current window: data time never runs backwards here.
    pub fn advance(&mut self, now: Timestamp, len: SignedDuration) -> bool {
        let restarted = if now.duration_since(self.start) >= len {
            self.start = now;
            self.count = 0;
            true
        } else {
            false
        };
        if now > self.last {
            self.last = now;
        }
        self.count += 1;
        restarted
    }

    /// May evidence be emitted now (none emitted within the last `len`)?
    pub fn may_emit(&self, now: Timestamp, len: SignedDuration) -> bool {
        match self.emitted {
            None => true,
            Some(t) => now.duration_since(t) >= len,
        }
    }

    pub fn mark_emitted(&mut self, now: Timestamp) {
        self.emitted = Some(now);
    }
}

/// Subject-level rate limit for detectors whose state is keyed by pairs: evidence of one kind
/// about one address at most once per window, whichever pair triggered it. Bounded like every
/// other table.
#[derive(Debug)]
pub struct Dedupe {
    last: BoundedMap<std::net::IpAddr, Timestamp>,
}

impl Dedupe {
    pub fn new(cap: usize) -> Self {
        Dedupe {
            last: BoundedMap::new(cap),
        }
    }
    /// True (and remembered) when nothing was emitted about `ip` within `len` before `now`.
    pub fn allow(&mut self, ip: std::net::IpAddr, now: Timestamp, len: SignedDuration) -> bool {
        if let Some(t) = self.last.get_mut(&ip) {
            if now.duration_since(*t) < len {
                return false;
            }
            *t = now;
            return true;
        }
        self.last.get_or_insert(ip, || now, |t| *t = now);
        true
    }
    pub fn evictions(&self) -> u64 {
        self.last.evictions()
    }
    pub fn len(&self) -> usize {
        self.last.len()
    }
    pub fn is_empty(&self) -> bool {
        self.last.is_empty()
    }
}

/// First sightings of keys, before they earn a place in a [`BoundedMap`]. On a busy edge
/// most outside peers are contacted once: giving each a map entry costs several cache misses
/// (and evicts an entry that mattered). Here a first sighting (its time and port) is 16 bytes
/// in a direct-mapped array, one cache line touched; a second sighting of the same key hands
/// the first back so the caller can start the key's entry with it, losing nothing. A first
/// sighting overwritten by another key's (they share a slot) is counted like an eviction; its
/// key starts again at its next sighting. Tags are 32-bit keyed hashes: a rare false match
/// lends a key another key's first sighting (one early record), never more.
#[derive(Debug)]
pub struct Doorkeeper {
    /// One sighting per slot, packed (see [`Sighting`]) so that an empty table is all zero
    /// bits: the allocator then hands back zeroed pages, untouched until used, instead of the
    /// table being filled slot by slot at start-up (4 MB for the default caps).
    slots: Vec<u128>,
    hasher: foldhash::fast::RandomState,
    overwritten: u64,
    held: usize,
}

/// A slot's contents, unpacked. Packed as `time_us << 64 | port << 32 | tag`.
#[derive(Debug, Clone, Copy)]
struct Sighting {
    /// 0: empty.
    tag: u32,
    /// The port, or `NO_PORT`.
    port: u32,
    time_us: i64,
}

impl Sighting {
    fn pack(self) -> u128 {
        u128::from(self.time_us as u64) << 64 | u128::from(self.port) << 32 | u128::from(self.tag)
    }
    fn unpack(v: u128) -> Self {
        Sighting {
            tag: v as u32,
            port: (v >> 32) as u32,
            time_us: (v >> 64) as u64 as i64,
        }
    }
}

const NO_PORT: u32 = u32::MAX;

impl Doorkeeper {
    /// Room for `cap` first sightings (at least 1).
    pub fn new(cap: usize) -> Self {
        Doorkeeper {
            slots: vec![0; cap.clamp(1, 1 << 30)],
            hasher: foldhash::fast::RandomState::default(),
            overwritten: 0,
            held: 0,
        }
    }

    /// The slot of a key of hash `h`: its high bits pick the slot (scaled to the slot count,
    /// so the cap is exact); its low bits are the tag.
    fn place(&self, h: u64) -> usize {
        ((u128::from(h) * self.slots.len() as u128) >> 64) as usize
    }

    /// Start loading `key`'s slot into cache, so a later [`Self::admit`] does not wait for
    /// memory (the slot is one cache miss per new key on a busy edge, and the detectors that
    /// use this have other work to overlap with it).
    #[inline]
    pub fn prefetch<K: Hash>(&self, key: &K) {
        self.prefetch_hashed(self.hasher.hash_one(key));
    }

    #[inline]
    fn prefetch_hashed(&self, h: u64) {
        crate::hint::prefetch(&self.slots[self.place(h)]);
    }

    /// A sighting of `key` at `time` (to `port`). The first is remembered and gives None; the
    /// second gives back the first's time and port (and frees the slot).
    pub fn admit<K: Hash>(
        &mut self,
        key: &K,
        time: Timestamp,
        port: Option<u16>,
    ) -> Option<(Timestamp, Option<u16>)> {
        self.admit_hashed(self.hasher.hash_one(key), time, port)
    }

    /// [`Self::admit`] for a key of hash `h` (any well-mixed 64-bit hash, used consistently).
    fn admit_hashed(
        &mut self,
        h: u64,
        time: Timestamp,
        port: Option<u16>,
    ) -> Option<(Timestamp, Option<u16>)> {
        let i = self.place(h);
        let tag = (h as u32) | 1;
        let slot = &mut self.slots[i];
        let held = Sighting::unpack(*slot);
        if held.tag == tag {
            *slot = 0;
            self.held -= 1;
            let t = Timestamp::from_microsecond(held.time_us).ok()?;
            let p = u16::try_from(held.port).ok();
            return Some((t, p));
        }
        if held.tag == 0 {
            self.held += 1;
        } else {
            self.overwritten += 1;
        }
        *slot = Sighting {
            tag,
            port: port.map_or(NO_PORT, u32::from),
            time_us: time.as_microsecond(),
        }
        .pack();
        None
    }

    /// First sightings forgotten because another took their slot.
    pub fn overwritten(&self) -> u64 {
        self.overwritten
    }
    /// First sightings held now.
    pub fn len(&self) -> usize {
        self.held
    }
    pub fn is_empty(&self) -> bool {
        self.held == 0
    }
}

/// A key's first sighting, handed back with the entry it earned: its time and port.
pub type FirstSighting = (Timestamp, Option<u16>);

/// A [`BoundedMap`] behind a [`Doorkeeper`]: a key gets an entry at its second sighting, with
/// the first handed back. For the pair tables that see every new connection.
#[derive(Debug)]
pub struct AdmittedMap<K, V> {
    map: BoundedMap<K, V>,
    first: Doorkeeper,
}

impl<K: Hash + Eq + Clone, V> AdmittedMap<K, V> {
    /// At most `cap` entries, and as many first sightings waiting beside them.
    pub fn new(cap: usize) -> Self {
        AdmittedMap {
            map: BoundedMap::new(cap),
            first: Doorkeeper::new(cap),
        }
    }

    /// The entry for `key`, sighted at `now` (to `port`); None while its first sighting waits.
    /// With `wait` false a new key gets its entry at once. A new entry is made by `init`, or
    /// by `recycle` on an evicted one (as [`BoundedMap::get_or_insert`]), and comes with the
    /// first sighting that earned it, for the caller to count before this one.
    pub fn entry(
        &mut self,
        key: K,
        now: Timestamp,
        port: Option<u16>,
        wait: bool,
        init: impl FnOnce() -> V,
        recycle: impl FnOnce(&mut V),
    ) -> Option<(&mut V, Option<FirstSighting>)> {
        // One hash serves the map and the doorkeeper.
        let hash = self.map.hash(&key);
        if let Some(i) = self.map.find_hashed(hash, &key) {
            return Some((self.map.used(i), None));
        }
        let first = if wait {
            Some(self.first.admit_hashed(hash, now, port)?)
        } else {
            None
        };
        Some((self.map.insert_new(hash, key, init, recycle), first))
    }

    /// Start loading what [`Self::entry`] for `key` will read first: the map's index cell and
    /// the doorkeeper's slot (each a cache miss per new key on a busy edge; the detectors that
    /// use this have other work to overlap with them).
    #[inline]
    pub fn prefetch(&self, key: &K) {
        let hash = self.map.hash(key);
        self.map.index.prefetch(hash);
        self.first.prefetch_hashed(hash);
    }
    /// Second stage of [`Self::prefetch`]: the entry's slot, for a key that has one (see
    /// [`BoundedMap::prefetch_slot`]).
    #[inline]
    pub fn prefetch_slot(&self, key: &K) {
        self.map.prefetch_slot(key);
    }
    pub fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key)
    }
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.map.get_mut(key)
    }
    /// Entries evicted and first sightings overwritten.
    pub fn evictions(&self) -> u64 {
        self.map.evictions() + self.first.overwritten()
    }
    /// Entries and waiting first sightings.
    pub fn len(&self) -> usize {
        self.map.len() + self.first.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_stays_within_cap_and_counts_evictions() {
        let mut m: BoundedMap<u32, u32> = BoundedMap::new(100);
        for k in 0..10_000u32 {
            *m.get_or_insert(k, || 0, |v| *v = 0) += 1;
        }
        assert_eq!(m.len(), 100);
        assert_eq!(m.evictions(), 9_900);
        assert!(m.get(&9_999).is_some());
    }

    #[test]
    fn recently_used_entries_survive() {
        let mut m: BoundedMap<u32, u32> = BoundedMap::new(4);
        for k in 0..4 {
            m.get_or_insert(k, || k, |_| {});
        }
        m.get_or_insert(10, || 10, |v| *v = 10);
        assert_eq!(m.len(), 4);
        assert_eq!(m.evictions(), 1);
        for round in 0..20u32 {
            m.get_mut(&1);
            m.get_or_insert(100 + round, || 0, |v| *v = 0);
        }
        assert!(m.get(&1).is_some(), "touched key must survive");
    }

    #[test]
    fn remove_keeps_index_consistent() {
        let mut m: BoundedMap<u32, u32> = BoundedMap::new(8);
        for k in 0..8 {
            m.get_or_insert(k, || k * 10, |_| {});
        }
        assert_eq!(m.remove(&0), Some(0));
        assert_eq!(m.get(&7), Some(&70));
        assert_eq!(m.len(), 7);
        m.get_or_insert(42, || 420, |_| {});
        assert_eq!(m.get(&42), Some(&420));
        assert_eq!(m.evictions(), 0);
    }

    #[test]
    fn distinct_set_saturates() {
        let mut s = DistinctSet::default();
        for v in 0..10u64 {
            s.insert(v, 5);
        }
        assert_eq!(s.len(), 5);
        assert!(s.saturated());
        assert!(!s.insert(3, 5));
        s.clear();
        assert!(s.is_empty() && !s.saturated());
    }

    #[test]
    fn window_rate_limits() {
        let t0: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        let len = SignedDuration::from_secs(60);
        let mut w = Window::new(t0);
        assert!(!w.advance(t0, len));
        assert!(w.may_emit(t0, len));
        w.mark_emitted(t0);
        let t1 = t0 + SignedDuration::from_secs(30);
        assert!(!w.advance(t1, len));
        assert!(!w.may_emit(t1, len));
        let t2 = t0 + SignedDuration::from_secs(61);
        assert!(w.advance(t2, len));
        assert_eq!(w.count, 1);
        assert!(w.may_emit(t2, len));
    }

    proptest::proptest! {
        /// Against a plain map: whatever the mix of inserts, lookups and removals, every held
        /// key is found with its own value, a removed key is gone, the just-inserted key is
        /// held, and the size never passes the cap.
        #[test]
        fn map_agrees_with_a_model(ops in proptest::collection::vec((0u8..3, 0u16..40), 1..400)) {
            let mut m: BoundedMap<u16, u32> = BoundedMap::new(8);
            let mut model = std::collections::HashMap::new();
            for (n, (op, k)) in ops.into_iter().enumerate() {
                match op {
                    0 => {
                        let v = m.get_or_insert(k, || n as u32, |v| *v = n as u32);
                        model.entry(k).or_insert(n as u32);
                        *v = model[&k];
                        proptest::prop_assert_eq!(m.get(&k), Some(&model[&k]));
                    }
                    1 => {
                        let got = m.remove(&k);
                        let want = model.remove(&k);
                        if let Some(g) = got {
                            proptest::prop_assert_eq!(Some(g), want);
                        }
                        proptest::prop_assert!(m.get(&k).is_none());
                    }
                    _ => {
                        if let Some(v) = m.get_mut(&k) {
                            *v += 1;
                            *model.get_mut(&k).unwrap() += 1;
                        }
                    }
                }
                // Evicted keys leave the model too.
                model.retain(|k, _| m.get(k).is_some());
                proptest::prop_assert!(m.len() <= 8);
                proptest::prop_assert_eq!(m.len(), model.len());
                for (k, v) in m.iter() {
                    proptest::prop_assert_eq!(m.get(k), Some(v));
                    proptest::prop_assert_eq!(model.get(k), Some(v));
                }
            }
        }
    }

    proptest::proptest! {
        /// Against a plain set: inserts (with a cap), removals and lookups agree, through the
        /// switch from list to table and the table's growth.
        #[test]
        fn distinct_set_agrees_with_a_model(
            ops in proptest::collection::vec((0u8..4, 0u64..300), 1..1500),
            cap in 1usize..200,
        ) {
            let mut d = DistinctSet::default();
            let mut model = std::collections::HashSet::new();
            for (n, (op, v)) in ops.into_iter().enumerate() {
                // A few values near the sentinel, to exercise its neighbour.
                let v = if v >= 298 { u64::MAX - (v - 298) } else { v };
                match op {
                    0 | 1 => {
                        let canon = DistinctSet::canon(v);
                        let new = !model.contains(&canon) && model.len() < cap;
                        proptest::prop_assert_eq!(d.insert(v, cap), new);
                        if new {
                            model.insert(canon);
                        }
                    }
                    2 => {
                        d.remove(v);
                        model.remove(&DistinctSet::canon(v));
                    }
                    _ => {
                        if v % 50 == 0 {
                            d.clear();
                            model.clear();
                        }
                    }
                }
                proptest::prop_assert_eq!(d.len(), model.len());
                proptest::prop_assert_eq!(d.contains(v), model.contains(&DistinctSet::canon(v)));
                if n % 50 != 0 {
                    continue;
                }
                for x in 0..300u64 {
                    let x = if x >= 298 { u64::MAX - (x - 298) } else { x };
                    proptest::prop_assert_eq!(d.contains(x), model.contains(&DistinctSet::canon(x)));
                }
            }
        }
    }

    #[test]
    fn doorkeeper_hands_back_the_first_sighting_once() {
        let t = |s: i64| Timestamp::from_second(1_800_000_000 + s).unwrap();
        let mut d = Doorkeeper::new(1024);
        assert_eq!(d.admit(&"a", t(0), Some(443)), None);
        assert_eq!(d.len(), 1);
        assert_eq!(d.admit(&"a", t(5), None), Some((t(0), Some(443))));
        assert_eq!(d.len(), 0);
        // Taken: the next sighting is a first again.
        assert_eq!(d.admit(&"a", t(6), None), None);
        assert_eq!(d.admit(&"a", t(7), Some(1)), Some((t(6), None)));
    }

    #[test]
    fn doorkeeper_keeps_extreme_times_and_ports() {
        let mut d = Doorkeeper::new(64);
        for (i, (t, port)) in [
            (
                Timestamp::from_second(Timestamp::MIN.as_second() + 1).unwrap(),
                Some(0),
            ),
            (
                Timestamp::from_second(Timestamp::MAX.as_second() - 1).unwrap(),
                Some(u16::MAX),
            ),
            (Timestamp::from_microsecond(-1).unwrap(), None),
            (Timestamp::UNIX_EPOCH, Some(25)),
        ]
        .into_iter()
        .enumerate()
        {
            assert_eq!(d.admit(&i, t, port), None);
            assert_eq!(d.admit(&i, Timestamp::UNIX_EPOCH, None), Some((t, port)));
        }
        assert!(d.is_empty());
    }

    #[test]
    fn doorkeeper_stays_within_its_slots_and_counts_overwrites() {
        let t = |s: u64| Timestamp::from_second(1_800_000_000 + s as i64).unwrap();
        let mut d = Doorkeeper::new(100);
        for k in 0..10_000u64 {
            d.admit(&k, t(k), None);
        }
        assert_eq!(d.slots.len(), 100);
        assert!(d.len() <= 100);
        assert_eq!(d.overwritten() + d.len() as u64, 10_000);
        // Every key whose first sighting survived (the last writer of its slot: met first
        // when walking backwards) gets exactly it back.
        let held = d.len();
        let mut back = 0;
        for k in (0..10_000u64).rev() {
            if let Some((first, _)) = d.admit(&k, t(20_000), None) {
                assert_eq!(first, t(k));
                back += 1;
            }
        }
        assert_eq!(back, held);
    }
}
