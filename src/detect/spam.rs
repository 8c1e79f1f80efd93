//! Outbound spam detector: one campus host connecting to many distinct outside SMTP servers
//! (port 25 by default) within a window → `OutboundSpam` about the host.
//!
//! Campus mail relays legitimately do exactly this: they belong in `inventory.allow`, and an
//! allow-listed source never produces evidence. Denied attempts count too (a bot whose port 25
//! is blocked at the edge is still a bot).
use super::bounded::{BoundedMap, DistinctSet, Fingerprint, Window};
use super::{
    DetectContext, Detector, DetectorStats, PeerSample, keep_raw, new_connection, new_evidence,
    outbound, push_raws, window_len,
};
use crate::config::SpamConfig;
use crate::model::{Evidence, EvidenceKind, Observation, Subject};
use jiff::{SignedDuration, Timestamp};
use std::net::IpAddr;

struct Source {
    win: Window,
    servers: DistinctSet,
    peers: PeerSample,
    first_raw: String,
}

impl Source {
    fn new(now: Timestamp) -> Self {
        Source {
            win: Window::new(now),
            servers: DistinctSet::default(),
            peers: PeerSample::new(),
            first_raw: String::new(),
        }
    }
    fn clear(&mut self) {
        self.servers.clear();
        self.peers.clear();
        self.first_raw.clear();
    }
}

pub struct SpamDetector {
    window: SignedDuration,
    min_servers: usize,
    cap: usize,
    ports: super::PortSet,
    sources: BoundedMap<IpAddr, Source>,
    fp: Fingerprint,
    emitted: u64,
}

impl SpamDetector {
    pub fn new(cfg: &SpamConfig) -> Self {
        let min_servers = cfg.min_servers.max(1) as usize;
        SpamDetector {
            window: window_len(cfg.window),
            min_servers,
            cap: (min_servers * 4).clamp(min_servers, 4096),
            ports: super::PortSet::new(&cfg.ports),
            sources: BoundedMap::new(cfg.max_sources),
            fp: Fingerprint::default(),
            emitted: 0,
        }
    }

    /// About to see an attempt from `src` to `port` (see [`super::Detectors::prefetch`]): a
    /// mail connection reads the source's entry.
    #[inline]
    pub fn prefetch(&self, src: IpAddr, port: Option<u16>) {
        if port.is_some_and(|p| self.ports.contains(p)) {
            self.sources.prefetch(&src);
        }
    }

    /// Second stage of [`Self::prefetch`]: the source's entry.
    #[inline]
    pub fn prefetch_slots(&self, src: IpAddr, port: Option<u16>) {
        if port.is_some_and(|p| self.ports.contains(p)) {
            self.sources.prefetch_slot(&src);
        }
    }
}

impl Detector for SpamDetector {
    fn observe(&mut self, obs: &Observation<'_>, ctx: &DetectContext<'_>, out: &mut Vec<Evidence>) {
        if !new_connection(obs) {
            return;
        }
        let Some(port) = obs.dst_port else { return };
        if !self.ports.contains(port) {
            return;
        }
        let Some((src, dst)) = outbound(obs, ctx, false) else {
            return;
        };
        let now = obs.time;
        let fp = self.fp.of(&dst);
        let s = self.sources.get_or_insert(
            src,
            || Source::new(now),
            |s| {
                s.win.recycle(now);
                s.clear();
            },
        );
        if s.win.advance(now, self.window) {
            s.clear();
        }
        if s.first_raw.is_empty() {
            keep_raw(&mut s.first_raw, obs.raw);
        }
        if s.servers.insert(fp, self.cap) && s.peers.len() < Evidence::MAX_LIST {
            s.peers.push(dst);
        }
        if s.servers.len() < self.min_servers || !s.win.may_emit(now, self.window) {
            return;
        }
        s.win.mark_emitted(now);
        let mut ev = new_evidence(
            EvidenceKind::OutboundSpam,
            Subject::Host(src),
            s.win.start,
            s.win.last,
            s.win.count,
            obs.proto,
            "spam",
            ctx.sensor,
        );
        ev.push_peers(&s.peers, s.servers.len());
        ev.push_port(port);
        push_raws(&mut ev, &s.first_raw, obs.raw);
        tracing::debug!(source = %src, servers = s.servers.len(), "outbound spam");
        self.emitted += 1;
        out.push(ev);
    }

    fn name(&self) -> &'static str {
        "spam"
    }

    fn stats(&self) -> DetectorStats {
        DetectorStats {
            evictions: self.sources.evictions(),
            tracked: self.sources.len() as u64,
            emitted: self.emitted,
        }
    }
}
