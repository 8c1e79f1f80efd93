//! Outbound brute force detector: a campus host guessing passwords on outside servers →
//! `OutboundBruteForce` about the host. Two signals:
//! - auth records whose *source* is the campus host and whose destination is outside
//!   (failures and invalid users), counted per host;
//! - completed connections to outside login services (ssh, rdp, ...): many to one server, or
//!   to many servers, within the window (the packet path sees no passwords, only the pattern of
//!   many short sessions).
//!
//! Outside hosts guessing passwords on campus servers are the login detector's business, not
//! this one's.
use super::bounded::{BoundedMap, DistinctSet, Fingerprint, Window};
use super::{
    DetectContext, Detector, DetectorStats, PeerSample, PortSample, keep_raw_when_repeated,
    new_evidence, outbound, push_raws, window_len,
};
use crate::config::BruteForceConfig;
use crate::model::{Evidence, EvidenceKind, ObsKind, Observation, Subject};
use jiff::{SignedDuration, Timestamp};
use std::net::IpAddr;

struct Source {
    win: Window,
    failures: u64,
    servers: DistinctSet,
    peers: PeerSample,
    ports: PortSample,
    first_raw: String,
}

impl Source {
    fn new(now: Timestamp) -> Self {
        Source {
            win: Window::new(now),
            failures: 0,
            servers: DistinctSet::default(),
            peers: PeerSample::new(),
            ports: PortSample::new(),
            first_raw: String::new(),
        }
    }
    fn clear(&mut self) {
        self.failures = 0;
        self.servers.clear();
        self.peers.clear();
        self.ports.clear();
        self.first_raw.clear();
    }
}

pub struct BruteForceDetector {
    window: SignedDuration,
    min_failures: u64,
    min_conns_one: u64,
    min_servers: usize,
    cap: usize,
    ports: super::PortSet,
    sources: BoundedMap<IpAddr, Source>,
    pairs: BoundedMap<(IpAddr, IpAddr), Window>,
    fp: Fingerprint,
    emitted: u64,
}

impl BruteForceDetector {
    pub fn new(cfg: &BruteForceConfig) -> Self {
        let min_servers = cfg.min_servers.max(1) as usize;
        BruteForceDetector {
            window: window_len(cfg.window),
            min_failures: u64::from(cfg.min_failures.max(1)),
            min_conns_one: u64::from(cfg.min_connections_one_server.max(1)),
            min_servers,
            cap: (min_servers * 4).clamp(min_servers, 4096),
            ports: super::PortSet::new(&cfg.ports),
            sources: BoundedMap::new(cfg.max_sources),
            pairs: BoundedMap::new(cfg.max_pairs),
            fp: Fingerprint::default(),
            emitted: 0,
        }
    }

    /// About to see an answered connection from `src` to `dst` at `port` (see
    /// [`super::Detectors::prefetch`]): one to a watched port reads the pair's and the
    /// source's entries.
    #[inline]
    pub fn prefetch(&self, src: IpAddr, dst: IpAddr, port: Option<u16>) {
        if port.is_some_and(|p| self.ports.contains(p)) {
            self.pairs.prefetch(&(src, dst));
            self.sources.prefetch(&src);
        }
    }

    /// Second stage of [`Self::prefetch`]: the pair's and the source's entries.
    #[inline]
    pub fn prefetch_slots(&self, src: IpAddr, dst: IpAddr, port: Option<u16>) {
        if port.is_some_and(|p| self.ports.contains(p)) {
            self.pairs.prefetch_slot(&(src, dst));
            self.sources.prefetch_slot(&src);
        }
    }
}

impl Detector for BruteForceDetector {
    fn observe(&mut self, obs: &Observation<'_>, ctx: &DetectContext<'_>, out: &mut Vec<Evidence>) {
        let is_failure = matches!(obs.kind, ObsKind::AuthFailure | ObsKind::AuthInvalidUser);
        // From packets, the establishment is the connection; its summary is the same one.
        let is_conn = (obs.kind == ObsKind::ConnEstablished
            || obs.kind == ObsKind::Flow && !obs.from_packets)
            && obs.dst_port.is_some_and(|p| self.ports.contains(p));
        if !is_failure && !is_conn {
            return;
        }
        let Some((src, dst)) = outbound(obs, ctx, false) else {
            return;
        };
        let now = obs.time;
        let window = self.window;

        let mut pair_conns = 0;
        if is_conn {
            let w = self
                .pairs
                .get_or_insert((src, dst), || Window::new(now), |w| w.recycle(now));
            w.advance(now, window);
            pair_conns = w.count;
        }

        let fp = self.fp.of(&dst);
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
        keep_raw_when_repeated(&mut s.first_raw, obs.raw, s.win.count);
        if is_failure {
            s.failures += 1;
        }
        if s.servers.insert(fp, self.cap) && s.peers.len() < Evidence::MAX_LIST {
            s.peers.push(dst);
        }
        if let Some(p) = obs.dst_port
            && s.ports.len() < Evidence::MAX_LIST
            && !s.ports.contains(&p)
        {
            s.ports.push(p);
        }
        let hit = s.failures >= self.min_failures
            || pair_conns >= self.min_conns_one
            || (is_conn && s.servers.len() >= self.min_servers);
        if !hit || !s.win.may_emit(now, window) {
            return;
        }
        s.win.mark_emitted(now);
        let mut ev = new_evidence(
            EvidenceKind::OutboundBruteForce,
            Subject::Host(src),
            s.win.start,
            s.win.last,
            s.win.count,
            obs.proto,
            "bruteforce",
            ctx.sensor,
        );
        ev.push_peers(&s.peers, s.servers.len());
        ev.push_ports(&s.ports);
        push_raws(&mut ev, &s.first_raw, obs.raw);
        tracing::debug!(source = %src, failures = s.failures, pair_conns, "outbound brute force");
        self.emitted += 1;
        out.push(ev);
    }

    fn name(&self) -> &'static str {
        "bruteforce"
    }

    fn stats(&self) -> DetectorStats {
        DetectorStats {
            evictions: self.sources.evictions() + self.pairs.evictions(),
            tracked: (self.sources.len() + self.pairs.len()) as u64,
            emitted: self.emitted,
        }
    }
}
