//! Outbound scan detector: a campus source probing many outside addresses (horizontal) or many
//! ports on one outside address (vertical) within a window → `OutboundScan` about the source.
//!
//! Counts unanswered probes only: firewall denies, connection attempts whose handshake has not
//! (yet) completed, and flow summaries of at most `probe_max_packets` packets. A completed
//! handshake takes its destination back out of the count, so busy clients and NAT gateways
//! whose connections succeed stay far below the thresholds. Outside hosts scanning the campus
//! are not this detector's business (no evidence about them); traffic to campus destinations
//! is ignored unless `include_internal` is set.
//!
//! Spoofing: an unanswered probe proves nothing about its source address, so only campus
//! sources are ever blamed, relying on the edge's egress filtering (BCP 38) to drop packets
//! with forged off-campus sources (see `flood.rs` for the same choice). Firewall *accept* logs
//! without a matching completed-connection record count as probes: a NAT gateway logged that
//! way belongs in `inventory.allow` (or raise `horizontal_min_destinations`).
use super::bounded::{AdmittedMap, BoundedMap, DistinctSet, Fingerprint, Window};
use super::{
    DetectContext, Detector, DetectorStats, PeerSample, PortSample, keep_raw, new_evidence,
    outbound, push_raws, window_len,
};
use crate::config::ScanConfig;
use crate::model::{Evidence, EvidenceKind, ObsKind, Observation, Subject};
use jiff::{SignedDuration, Timestamp};
use std::net::IpAddr;

/// Per campus source: distinct destinations probed in the current window.
struct Source {
    win: Window,
    dsts: DistinctSet,
    peers: PeerSample,
    ports: PortSample,
    first_raw: String,
}

impl Source {
    fn new(now: Timestamp) -> Self {
        Source {
            win: Window::new(now),
            dsts: DistinctSet::default(),
            peers: PeerSample::new(),
            ports: PortSample::new(),
            first_raw: String::new(),
        }
    }
    fn clear(&mut self) {
        self.dsts.clear();
        self.peers.clear();
        self.ports.clear();
        self.first_raw.clear();
    }
}

/// Per (source, destination): distinct ports probed in the current window.
struct Pair {
    win: Window,
    ports: DistinctSet,
    sample: PortSample,
}

impl Pair {
    fn count(&mut self, now: Timestamp, window: SignedDuration, port: u16, cap: usize) {
        if self.win.advance(now, window) {
            self.ports.clear();
            self.sample.clear();
        }
        if self.ports.insert(u64::from(port), cap) && self.sample.len() < Evidence::MAX_LIST {
            self.sample.push(port);
        }
    }
}

pub struct ScanDetector {
    window: SignedDuration,
    h_min: usize,
    v_min: usize,
    h_cap: usize,
    v_cap: usize,
    probe_max_packets: u64,
    internal: bool,
    sources: BoundedMap<IpAddr, Source>,
    /// A pair gets an entry at its second probe (most destinations are probed once; a
    /// vertical scan needs many ports).
    pairs: AdmittedMap<(IpAddr, IpAddr), Pair>,
    counted: CountedFilter,
    fp: Fingerprint,
    emitted: u64,
}

impl ScanDetector {
    pub fn new(cfg: &ScanConfig) -> Self {
        let h_min = cfg.horizontal_min_destinations.max(1) as usize;
        let v_min = cfg.vertical_min_ports.max(1) as usize;
        ScanDetector {
            window: window_len(cfg.window),
            h_min,
            v_min,
            // Exact up to a few times the threshold: enough for a meaningful count in the
            // notice, bounded whatever the scan rate.
            h_cap: (h_min * 4).clamp(h_min, 4096),
            v_cap: (v_min * 4).clamp(v_min, 4096),
            probe_max_packets: cfg.probe_max_packets,
            internal: cfg.include_internal,
            sources: BoundedMap::new(cfg.max_sources),
            pairs: AdmittedMap::new(cfg.max_pairs),
            counted: CountedFilter::new(),
            fp: Fingerprint::default(),
            emitted: 0,
        }
    }

    /// Does this record count as an unanswered probe? From packets the flow engine gives a
    /// verdict on each attempt (`ConnFailed`), so the attempt itself and the flow summary do
    /// not count; a log record has to be judged on its own.
    fn is_probe(&self, obs: &Observation<'_>) -> bool {
        match obs.kind {
            ObsKind::ConnDenied | ObsKind::ConnFailed => true,
            ObsKind::ConnAttempt => !obs.from_packets,
            ObsKind::Flow => {
                !obs.from_packets && obs.packets > 0 && obs.packets <= self.probe_max_packets
            }
            _ => false,
        }
    }

    /// About to see a `kind` record from `src` to `dst` (see [`super::Detectors::prefetch`]):
    /// an answer reads the counted-pairs filter, a failed attempt the pair's first-sighting
    /// slot and the source's entry.
    #[inline]
    pub fn prefetch(&self, kind: ObsKind, src: IpAddr, dst: IpAddr) {
        if kind == ObsKind::ConnEstablished {
            self.counted.prefetch(self.fp.of(&(src, dst)));
        } else {
            self.pairs.prefetch(&(src, dst));
            self.sources.prefetch(&src);
        }
    }

    /// Second stage of [`Self::prefetch`] for a failed attempt (the only record whose entries
    /// it loads): its pair's and its source's.
    #[inline]
    pub fn prefetch_slots(&self, src: IpAddr, dst: IpAddr) {
        self.pairs.prefetch_slot(&(src, dst));
        self.sources.prefetch_slot(&src);
    }

    /// A completed handshake: the destination answered, so it was not a probe. The pair's
    /// ports are looked at only when the source had counted the destination: most answered
    /// connections were never probes, and the pair lookup is the costly part.
    fn answered(&mut self, now: Timestamp, src: IpAddr, dst: IpAddr, port: Option<u16>) {
        self.counted.tick(now, self.window);
        if !self.counted.may_hold(self.fp.of(&(src, dst))) {
            return; // never counted: the common case, without touching the source's entry
        }
        let fp = self.fp.of(&dst);
        let counted = match self.sources.get_mut(&src) {
            Some(s) => s.dsts.remove(fp),
            None => false,
        };
        if !counted {
            return;
        }
        if let (Some(p), Some(pair)) = (port, self.pairs.get_mut(&(src, dst))) {
            pair.ports.remove(u64::from(p));
        }
    }
}

/// Which (source, destination) pairs may be counted as probes now: a one-hash Bloom filter in
/// two generations, swapped every window of data time, so a pair counted at `t` is found
/// until at least `t + window`, by when its source's window has expired and its count no
/// longer matters. Lets an answer that was never a probe (nearly all of them) skip the
/// source's entry. False positives only cost that lookup; a flood of probes fills the filter
/// and makes every answer look, no worse than without it.
struct CountedFilter {
    cur: Vec<u64>,
    prev: Vec<u64>,
    swap_at: Option<Timestamp>,
}

impl CountedFilter {
    /// 2^20 bits per generation: 128 KiB, a few percent full at a campus edge's probe rate.
    const BITS: u32 = 20;

    fn new() -> Self {
        let words = (1usize << Self::BITS) / 64;
        CountedFilter {
            cur: vec![0; words],
            prev: vec![0; words],
            swap_at: None,
        }
    }
    fn tick(&mut self, now: Timestamp, window: SignedDuration) {
        match self.swap_at {
            Some(t) if now < t => {}
            Some(_) => {
                std::mem::swap(&mut self.cur, &mut self.prev);
                self.cur.fill(0);
                self.swap_at = Some(now.saturating_add(window).unwrap_or(now));
            }
            None => self.swap_at = Some(now.saturating_add(window).unwrap_or(now)),
        }
    }
    fn place(h: u64) -> (usize, u64) {
        let i = (h >> (64 - Self::BITS)) as usize;
        (i / 64, 1 << (i % 64))
    }
    fn insert(&mut self, h: u64) {
        let (w, b) = Self::place(h);
        self.cur[w] |= b;
    }
    fn prefetch(&self, h: u64) {
        let (w, _) = Self::place(h);
        crate::hint::prefetch(&self.cur[w]);
        crate::hint::prefetch(&self.prev[w]);
    }
    fn may_hold(&self, h: u64) -> bool {
        let (w, b) = Self::place(h);
        (self.cur[w] | self.prev[w]) & b != 0
    }
}

impl Detector for ScanDetector {
    fn observe(&mut self, obs: &Observation<'_>, ctx: &DetectContext<'_>, out: &mut Vec<Evidence>) {
        // Kind first: classifying the addresses costs more, and most records are neither.
        let answer = obs.kind == ObsKind::ConnEstablished;
        if !answer && !self.is_probe(obs) {
            return;
        }
        let Some((src, dst)) = outbound(obs, ctx, self.internal) else {
            return;
        };
        if answer {
            self.answered(obs.time, src, dst, obs.dst_port);
            return;
        }
        let now = obs.time;
        let window = self.window;
        let dst_fp = self.fp.of(&dst);
        self.counted.tick(now, window);

        // Vertical: ports on this one destination.
        let mut vertical: Option<usize> = None;
        let (v_cap, v_min) = (self.v_cap, self.v_min);
        if let Some(port) = obs.dst_port
            && let Some((pair, first)) = self.pairs.entry(
                (src, dst),
                now,
                Some(port),
                v_min > 1,
                || Pair {
                    win: Window::new(now),
                    ports: DistinctSet::default(),
                    sample: PortSample::new(),
                },
                |p| {
                    p.win.recycle(now);
                    p.ports.clear();
                    p.sample.clear();
                },
            )
        {
            if let Some((t, Some(first_port))) = first {
                pair.win.recycle(t);
                pair.count(t, window, first_port, v_cap);
            }
            pair.count(now, window, port, v_cap);
            if pair.ports.len() >= v_min {
                vertical = Some(pair.ports.len());
            }
        }

        // Horizontal: distinct destinations from this source.
        let s = self.sources.get_or_insert(
            src,
            || Source::new(now),
            |s| {
                s.win.recycle(now);
                s.clear();
            },
        );
        if s.win.advance(now, window) {
            s.clear();
        }
        if s.first_raw.is_empty() {
            keep_raw(&mut s.first_raw, obs.raw);
        }
        if s.dsts.insert(dst_fp, self.h_cap) {
            self.counted.insert(self.fp.of(&(src, dst)));
            if s.peers.len() < Evidence::MAX_LIST {
                s.peers.push(dst);
            }
        }
        if let Some(p) = obs.dst_port
            && s.ports.len() < Evidence::MAX_LIST
            && !s.ports.contains(&p)
        {
            s.ports.push(p);
        }
        let horizontal = s.dsts.len() >= self.h_min;
        if !(horizontal || vertical.is_some()) || !s.win.may_emit(now, window) {
            return;
        }
        s.win.mark_emitted(now);
        let mut ev = new_evidence(
            EvidenceKind::OutboundScan,
            Subject::Host(src),
            s.win.start,
            s.win.last,
            s.win.count,
            obs.proto,
            "scan",
            ctx.sensor,
        );
        if horizontal {
            ev.push_peers(&s.peers, s.dsts.len());
            ev.push_ports(&s.ports);
        } else if let Some(pair) = self.pairs.get(&(src, dst)) {
            ev.push_peer(dst);
            ev.push_ports(&pair.sample);
        }
        push_raws(&mut ev, &s.first_raw, obs.raw);
        tracing::debug!(
            source = %src,
            horizontal,
            vertical_ports = vertical,
            "outbound scan"
        );
        self.emitted += 1;
        out.push(ev);
    }

    fn name(&self) -> &'static str {
        "scan"
    }

    fn stats(&self) -> DetectorStats {
        DetectorStats {
            evictions: self.sources.evictions() + self.pairs.evictions(),
            tracked: (self.sources.len() + self.pairs.len()) as u64,
            emitted: self.emitted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_pairs_are_found_for_at_least_a_window() {
        let t = |s: i64| Timestamp::from_second(1_800_000_000 + s).unwrap();
        let w = SignedDuration::from_secs(60);
        let mut f = CountedFilter::new();
        f.tick(t(0), w);
        f.tick(t(50), w);
        f.insert(0xdead_beef_0000_0001);
        assert!(f.may_hold(0xdead_beef_0000_0001));
        assert!(!f.may_hold(0x1234_5678_0000_0001));
        // The first swap (at 60) keeps it in the previous generation: found until 120 > 50+60.
        f.tick(t(61), w);
        assert!(f.may_hold(0xdead_beef_0000_0001));
        f.tick(t(119), w);
        assert!(f.may_hold(0xdead_beef_0000_0001));
        // Two swaps later it is gone.
        f.tick(t(125), w);
        assert!(!f.may_hold(0xdead_beef_0000_0001));
    }
}
