//! Beacon detector: a campus host contacting one outside address at regular intervals (low
//! jitter over at least `min_contacts` contacts) → `Beacon` (Category 2) about the host.
//!
//! A "contact" is a new connection or flow (attempted, denied, established or summarized);
//! records closer than `min_interval` to the previous contact are the same contact (a SYN and
//! its handshake). A gap longer than `max_interval` restarts the series. Regular legitimate
//! pollers exist (monitoring agents, update checks): their destinations belong in
//! `inventory.allow`, their ports in `ignore_ports` (NTP and DNS by default).
use super::bounded::{AdmittedMap, Dedupe};
use super::{
    DetectContext, Detector, DetectorStats, PortSet, keep_raw_when_repeated, new_connection,
    new_evidence, outbound, push_raws,
};
use crate::config::BeaconConfig;
use crate::model::{Evidence, EvidenceKind, Observation, Subject};
use jiff::{SignedDuration, Timestamp};
use std::net::IpAddr;

/// Longest series of intervals judged (bounds per-pair memory whatever `min_contacts` says).
const MAX_INTERVALS: usize = 64;

struct Series {
    first: Timestamp,
    last: Timestamp,
    contacts: u64,
    /// The most recent intervals in milliseconds, a ring of at most `need` entries.
    intervals: Vec<u32>,
    next: usize,
    port: Option<u16>,
    first_raw: String,
}

impl Series {
    fn new(now: Timestamp) -> Self {
        Series {
            first: now,
            last: now,
            contacts: 1,
            intervals: Vec::new(),
            next: 0,
            port: None,
            first_raw: String::new(),
        }
    }
    fn restart(&mut self, now: Timestamp) {
        self.first = now;
        self.last = now;
        self.contacts = 1;
        self.intervals.clear();
        self.next = 0;
        self.port = None;
        self.first_raw.clear();
    }
    fn push(&mut self, ms: u32, need: usize) {
        if self.intervals.len() < need {
            // The ring's whole size at once: most series that get a second contact go on.
            self.intervals.reserve_exact(need - self.intervals.len());
            self.intervals.push(ms);
        } else {
            self.intervals[self.next] = ms;
            self.next = (self.next + 1) % need;
        }
    }
    /// Mean and standard deviation of the kept intervals, in milliseconds.
    fn stats(&self) -> (f64, f64) {
        let n = self.intervals.len() as f64;
        let mean = self.intervals.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let var = self
            .intervals
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / n;
        (mean, var.sqrt())
    }
}

pub struct BeaconDetector {
    need: usize,
    max_jitter_ratio: f64,
    min_interval: SignedDuration,
    max_interval: SignedDuration,
    ignore_ports: PortSet,
    reemit_after: SignedDuration,
    /// A pair gets a series at its second contact (most outside peers are contacted once).
    pairs: AdmittedMap<(IpAddr, IpAddr), Series>,
    dedupe: Dedupe,
    emitted: u64,
}

impl BeaconDetector {
    pub fn new(cfg: &BeaconConfig) -> Self {
        let need = (cfg.min_contacts.max(3) as usize - 1).min(MAX_INTERVALS);
        let max_interval = cfg.max_interval.0.clamp(
            SignedDuration::from_secs(1),
            SignedDuration::from_secs(86_400),
        );
        BeaconDetector {
            need,
            max_jitter_ratio: if cfg.max_jitter_ratio.is_finite() {
                cfg.max_jitter_ratio.max(0.0)
            } else {
                0.0
            },
            min_interval: cfg.min_interval.0,
            max_interval,
            ignore_ports: PortSet::new(&cfg.ignore_ports),
            reemit_after: cfg.reemit_after.0.max(SignedDuration::from_secs(1)),
            pairs: AdmittedMap::new(cfg.max_pairs),
            dedupe: Dedupe::new(cfg.max_pairs),
            emitted: 0,
        }
    }
}

impl BeaconDetector {
    /// About to see `obs`: start loading what it will touch (see [`super::Doorkeeper::prefetch`]).
    pub fn prefetch(&self, src: IpAddr, dst: IpAddr) {
        self.pairs.prefetch(&(src, dst));
    }
}

impl Detector for BeaconDetector {
    fn observe(&mut self, obs: &Observation<'_>, ctx: &DetectContext<'_>, out: &mut Vec<Evidence>) {
        if !new_connection(obs) {
            return;
        }
        if obs.dst_port.is_some_and(|p| self.ignore_ports.contains(p)) {
            return;
        }
        let Some((src, dst)) = outbound(obs, ctx, false) else {
            return;
        };
        let now = obs.time;
        let Some((s, first)) = self.pairs.entry(
            (src, dst),
            now,
            obs.dst_port,
            true,
            || Series::new(now),
            |s| s.restart(now),
        ) else {
            return;
        };
        if let Some((t, port)) = first {
            s.restart(t);
            s.port = port;
        }
        if s.contacts == 1 && s.intervals.is_empty() && s.last == now {
            if s.port.is_none() {
                s.port = obs.dst_port;
            }
            return;
        }
        let gap = now.duration_since(s.last);
        if gap < self.min_interval {
            return; // the same contact, or an out-of-order record
        }
        if gap > self.max_interval {
            s.restart(now);
            s.port = obs.dst_port;
            return;
        }
        let ms = u32::try_from(gap.as_millis()).unwrap_or(u32::MAX);
        s.push(ms, self.need);
        s.last = now;
        s.contacts += 1;
        keep_raw_when_repeated(&mut s.first_raw, obs.raw, s.contacts);
        if s.intervals.len() < self.need {
            return;
        }
        let (mean, sd) = s.stats();
        let min_ms = self.min_interval.as_millis() as f64;
        if mean < min_ms || sd > self.max_jitter_ratio * mean {
            return;
        }
        if !self.dedupe.allow(src, now, self.reemit_after) {
            return;
        }
        let mut ev = new_evidence(
            EvidenceKind::Beacon,
            Subject::Host(src),
            s.first,
            now,
            s.contacts,
            obs.proto,
            "beacon",
            ctx.sensor,
        );
        ev.push_peer(dst);
        if let Some(p) = s.port.or(obs.dst_port) {
            ev.push_port(p);
        }
        push_raws(&mut ev, &s.first_raw, obs.raw);
        tracing::debug!(source = %src, peer = %dst, mean_ms = mean, sd_ms = sd, "beacon");
        self.emitted += 1;
        out.push(ev);
    }

    fn name(&self) -> &'static str {
        "beacon"
    }

    fn stats(&self) -> DetectorStats {
        DetectorStats {
            evictions: self.pairs.evictions() + self.dedupe.evictions(),
            tracked: (self.pairs.len() + self.dedupe.len()) as u64,
            emitted: self.emitted,
        }
    }
}
