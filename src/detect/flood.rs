//! Outbound flood detector: one campus host sending connection attempts or packets to one
//! outside target at a rate no client reaches → `OutboundDos` about the campus host.
//!
//! Spoofing: only campus sources are ever blamed, so a flood arriving from outside with
//! spoofed sources never produces evidence about those addresses (or anyone). For a flood
//! *leaving* campus, a SYN flood never completes a handshake, so by default connection
//! attempts and denies count: the edge's egress filtering (BCP 38) drops packets with
//! off-campus sources, which makes the campus source address of an attempt trustworthy enough.
//! One campus host can still forge a neighbour's address; where that risk matters more than
//! missing SYN floods, `require_handshake = true` counts completed handshakes only.
//!
//! Flow summaries are not counted: a long download's summary carries its whole packet count
//! at one instant and would look like a flood.
use super::bounded::{AdmittedMap, Dedupe, Window};
use super::{
    DetectContext, Detector, DetectorStats, keep_raw, new_evidence, outbound, push_raws, window_len,
};
use crate::config::FloodConfig;
use crate::model::{Evidence, EvidenceKind, ObsKind, Observation, Subject};
use jiff::{SignedDuration, Timestamp};
use std::net::IpAddr;

struct Pair {
    win: Window,
    conns: u64,
    packets: u64,
    ports: Vec<u16>,
    first_raw: String,
}

impl Pair {
    fn new(now: Timestamp) -> Self {
        Pair {
            win: Window::new(now),
            conns: 0,
            packets: 0,
            ports: Vec::new(),
            first_raw: String::new(),
        }
    }
    fn clear(&mut self) {
        self.conns = 0;
        self.packets = 0;
        self.ports.clear();
        self.first_raw.clear();
    }
    /// Count one record at `now` in the current window (restarting it when it has expired).
    fn add(
        &mut self,
        now: Timestamp,
        window: SignedDuration,
        conns: u64,
        packets: u64,
        port: Option<u16>,
    ) {
        if self.win.advance(now, window) {
            self.clear();
        }
        self.conns += conns;
        self.packets = self.packets.saturating_add(packets);
        if let Some(port) = port
            && self.ports.len() < Evidence::MAX_LIST
            && !self.ports.contains(&port)
        {
            self.ports.push(port);
        }
    }
}

pub struct FloodDetector {
    window: SignedDuration,
    min_conns: u64,
    min_packets: u64,
    require_handshake: bool,
    /// A pair gets an entry at its second record, counting both (most pairs see one
    /// connection).
    pairs: AdmittedMap<(IpAddr, IpAddr), Pair>,
    dedupe: Dedupe,
    emitted: u64,
}

impl FloodDetector {
    pub fn new(cfg: &FloodConfig) -> Self {
        let window = window_len(cfg.window);
        let secs = window.as_secs().max(1) as u64;
        FloodDetector {
            window,
            min_conns: u64::from(cfg.min_connections_per_sec.max(1)).saturating_mul(secs),
            min_packets: u64::from(cfg.min_packets_per_sec.max(1)).saturating_mul(secs),
            require_handshake: cfg.require_handshake,
            pairs: AdmittedMap::new(cfg.max_pairs),
            dedupe: Dedupe::new(cfg.max_pairs),
            emitted: 0,
        }
    }
}

impl FloodDetector {
    /// About to see `obs`: start loading what it will touch (see [`super::Doorkeeper::prefetch`]).
    pub fn prefetch(&self, src: IpAddr, dst: IpAddr) {
        self.pairs.prefetch(&(src, dst));
    }
}

impl Detector for FloodDetector {
    fn observe(&mut self, obs: &Observation<'_>, ctx: &DetectContext<'_>, out: &mut Vec<Evidence>) {
        let (conns, packets) = match obs.kind {
            // From packets, a connection's attempt was already counted (unless only
            // handshakes count).
            ObsKind::ConnEstablished if !obs.from_packets || self.require_handshake => {
                (1, obs.packets.max(1))
            }
            ObsKind::ConnAttempt | ObsKind::ConnDenied if !self.require_handshake => {
                (1, obs.packets.max(1))
            }
            _ => return,
        };
        let Some((src, dst)) = outbound(obs, ctx, false) else {
            return;
        };
        let now = obs.time;
        // A plain one-connection, one-packet record waits; anything bigger (a log record
        // carrying a packet count, or one that alone reaches a threshold) goes straight in.
        let wait = conns == 1 && packets == 1 && self.min_conns > 1 && self.min_packets > 1;
        let Some((p, first)) = self.pairs.entry(
            (src, dst),
            now,
            obs.dst_port,
            wait,
            || Pair::new(now),
            |p| {
                p.win.recycle(now);
                p.clear();
            },
        ) else {
            return;
        };
        if let Some((t, port)) = first {
            p.win.recycle(t);
            p.add(t, self.window, 1, 1, port);
        }
        p.add(now, self.window, conns, packets, obs.dst_port);
        if p.first_raw.is_empty() {
            keep_raw(&mut p.first_raw, obs.raw);
        }
        if p.conns < self.min_conns && p.packets < self.min_packets {
            return;
        }
        if !p.win.may_emit(now, self.window) || !self.dedupe.allow(src, now, self.window) {
            return;
        }
        p.win.mark_emitted(now);
        let mut ev = new_evidence(
            EvidenceKind::OutboundDos,
            Subject::Host(src),
            p.win.start,
            p.win.last,
            p.conns,
            obs.proto,
            "flood",
            ctx.sensor,
        );
        ev.push_peer(dst);
        for &port in &p.ports {
            ev.push_port(port);
        }
        push_raws(&mut ev, &p.first_raw, obs.raw);
        tracing::debug!(source = %src, target = %dst, conns = p.conns, packets = p.packets, "outbound flood");
        self.emitted += 1;
        out.push(ev);
    }

    fn name(&self) -> &'static str {
        "flood"
    }

    fn stats(&self) -> DetectorStats {
        DetectorStats {
            evictions: self.pairs.evictions() + self.dedupe.evictions(),
            tracked: (self.pairs.len() + self.dedupe.len()) as u64,
            emitted: self.emitted,
        }
    }
}
