//! Windowed, bounded detectors: observations in, evidence out. Pure: time comes from the
//! observations (data time), never from the clock. Every table keyed by attacker-chosen
//! values has a cap and counts its evictions (DESIGN invariant 5).
//!
//! Owns the detector trait, the shared helpers and the [`Detectors`] aggregate. Must not do
//! I/O, read the clock, or decide anything about owners or enforcement (that is `policy`).

pub mod beacon;
pub mod bounded;
pub mod bruteforce;
pub mod flood;
pub mod ids;
pub mod login;
pub mod scan;
pub mod spam;

pub use beacon::BeaconDetector;
pub use bounded::{
    AdmittedMap, BoundedMap, Dedupe, DistinctSet, Doorkeeper, Fingerprint, FirstSighting, Window,
};
pub use bruteforce::BruteForceDetector;
pub use flood::FloodDetector;
pub use ids::IdsDetector;
pub use login::LoginDetector;
pub use scan::ScanDetector;
pub use spam::SpamDetector;

use crate::config::DetectConfig;
use crate::inventory::Campus;
use crate::model::{Category, Evidence, EvidenceKind, ObsKind, Observation, Proto, Subject};
use jiff::{SignedDuration, Timestamp};
use std::net::IpAddr;

/// What every detector may consult.
#[derive(Clone, Copy)]
pub struct DetectContext<'c> {
    /// Which addresses are ours (per source: a source may override the campus networks).
    pub campus: &'c Campus,
    /// Addresses whose traffic never becomes evidence (allow-listed relays, our scanners).
    pub allow: &'c Campus,
    /// Configured source name, recorded in evidence.
    pub sensor: &'c str,
    /// Where the current observation's two addresses stand, when [`Detectors::observe`]
    /// classified them for all its detectors: the network lists are walked once per
    /// observation instead of once per detector, and [`outbound`] reads two flags.
    sides: Option<Sides>,
}

impl<'c> DetectContext<'c> {
    pub fn new(campus: &'c Campus, allow: &'c Campus, sensor: &'c str) -> Self {
        DetectContext {
            campus,
            allow,
            sensor,
            sides: None,
        }
    }

    /// This context for one observation, its addresses classified.
    fn for_observation(&self, obs: &Observation<'_>) -> Self {
        DetectContext {
            sides: obs.src.zip(obs.dst).map(|(s, d)| self.classify(s, d)),
            ..*self
        }
    }

    fn classify(&self, src: IpAddr, dst: IpAddr) -> Sides {
        let (src_campus, dst_campus) = self.campus.contains_each(src, dst);
        let (src_allowed, dst_allowed) = self.allow.contains_each(src, dst);
        Sides {
            src_campus,
            dst_campus,
            allowed: src_allowed || dst_allowed,
        }
    }
}

/// A detector entry's sample of peers for its evidence. The first two live in the entry
/// itself: most keys on a busy edge see one or two, and then cost no allocation and no cache
/// miss beyond the entry's own.
pub(crate) type PeerSample = smallvec::SmallVec<[IpAddr; 2]>;

/// A detector entry's sample of ports for its evidence, the first four in the entry (as
/// [`PeerSample`]).
pub(crate) type PortSample = smallvec::SmallVec<[u16; 4]>;

/// A set of ports as a bitmap (8 KiB): membership is one load. Brute force and spam ask it
/// about every new connection; scanning their configured lists cost 2 % of a packet replay's
/// instructions (callgrind).
#[derive(Debug, Clone)]
pub(crate) struct PortSet(Box<[u64]>);

impl PortSet {
    pub(crate) fn new(ports: &[u16]) -> Self {
        let mut words = vec![0u64; 1 << 10];
        for &p in ports {
            words[usize::from(p >> 6)] |= 1 << (p & 63);
        }
        PortSet(words.into_boxed_slice())
    }

    #[inline]
    pub(crate) fn contains(&self, port: u16) -> bool {
        self.0
            .get(usize::from(port >> 6))
            .is_some_and(|w| w >> (port & 63) & 1 != 0)
    }
}

/// Where an observation's two addresses stand.
#[derive(Debug, Clone, Copy)]
struct Sides {
    src_campus: bool,
    dst_campus: bool,
    /// Either side is allow-listed.
    allowed: bool,
}

/// A detector consumes observations and emits evidence into `out`.
pub trait Detector: Send {
    /// Feed one observation; push any evidence it completes onto `out`.
    fn observe(&mut self, obs: &Observation<'_>, ctx: &DetectContext<'_>, out: &mut Vec<Evidence>);
    /// Short stable name, used in evidence and metrics.
    fn name(&self) -> &'static str;
    /// Counters for metrics. Default: nothing tracked.
    fn stats(&self) -> DetectorStats {
        DetectorStats::default()
    }
}

/// One detector's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DetectorStats {
    /// Entries evicted from its bounded tables (all tables summed).
    pub evictions: u64,
    /// Entries currently held (all tables summed).
    pub tracked: u64,
    /// Evidence records emitted.
    pub emitted: u64,
}

/// Counters of every detector, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DetectStats {
    pub scan: DetectorStats,
    pub flood: DetectorStats,
    pub spam: DetectorStats,
    pub bruteforce: DetectorStats,
    pub login: DetectorStats,
    pub beacon: DetectorStats,
    /// User names from logs that failed validation, so produced no account evidence.
    pub invalid_account_names: u64,
}

impl DetectStats {
    /// Names of the detectors (as `Detector::name` gives them), in the order of [`Self::each`].
    pub const NAMES: [&'static str; 6] = ["scan", "flood", "spam", "bruteforce", "login", "beacon"];

    /// Every detector's counters, in the order of [`Self::NAMES`].
    pub fn each(&self) -> [DetectorStats; 6] {
        [
            self.scan,
            self.flood,
            self.spam,
            self.bruteforce,
            self.login,
            self.beacon,
        ]
    }
    pub fn total_evictions(&self) -> u64 {
        self.each().iter().map(|d| d.evictions).sum()
    }
    pub fn total_emitted(&self) -> u64 {
        self.each().iter().map(|d| d.emitted).sum()
    }
}

/// Every windowed detector, built from config. (The IDS signature mapping lives beside them
/// and is driven by the pipeline separately.)
pub struct Detectors {
    pub scan: Option<ScanDetector>,
    pub flood: Option<FloodDetector>,
    pub spam: Option<SpamDetector>,
    pub bruteforce: Option<BruteForceDetector>,
    pub login: Option<LoginDetector>,
    pub beacon: Option<BeaconDetector>,
}

impl Detectors {
    /// Build every enabled detector. `account_pattern` is `inventory.account_pattern`.
    pub fn new(cfg: &DetectConfig, account_pattern: &regex_lite::Regex) -> Self {
        Detectors {
            scan: cfg.scan.enabled.then(|| ScanDetector::new(&cfg.scan)),
            flood: cfg.flood.enabled.then(|| FloodDetector::new(&cfg.flood)),
            spam: cfg.spam.enabled.then(|| SpamDetector::new(&cfg.spam)),
            bruteforce: cfg
                .bruteforce
                .enabled
                .then(|| BruteForceDetector::new(&cfg.bruteforce)),
            login: cfg
                .login
                .enabled
                .then(|| LoginDetector::new(&cfg.login, account_pattern.clone())),
            beacon: cfg.beacon.enabled.then(|| BeaconDetector::new(&cfg.beacon)),
        }
    }

    /// Run every detector on one observation. Category 1 host evidence emitted here is also
    /// remembered by the login detector (a success from a blamed address is a compromise).
    pub fn observe(
        &mut self,
        obs: &Observation<'_>,
        ctx: &DetectContext<'_>,
        out: &mut Vec<Evidence>,
    ) {
        // A packet flow's summary tells no detector anything its attempt and verdict did not
        // (each counts a connection once, at those). `Pipeline::observe_packets` stops them
        // before they get here; this keeps other callers right.
        if obs.from_packets && obs.kind == ObsKind::Flow {
            return;
        }
        let ctx = &ctx.for_observation(obs);
        let before = out.len();
        // A new connection from a log goes to flood and beacon last: start loading their
        // first-sighting slots now, so those cache misses overlap the other detectors' work.
        // (Packet records were prefetched a few records ahead by
        // `Pipeline::observe_packets`.)
        if !obs.from_packets
            && obs.kind == ObsKind::ConnAttempt
            && let (Some(src), Some(dst)) = (obs.src, obs.dst)
        {
            self.prefetch(obs.kind, src, dst, obs.dst_port);
        }
        if let Some(d) = &mut self.scan {
            d.observe(obs, ctx, out);
        }
        if let Some(d) = &mut self.flood {
            d.observe(obs, ctx, out);
        }
        if let Some(d) = &mut self.spam {
            d.observe(obs, ctx, out);
        }
        if let Some(d) = &mut self.bruteforce {
            d.observe(obs, ctx, out);
        }
        if let Some(login) = &mut self.login {
            for ev in &out[before..] {
                if let (Subject::Host(ip), Category::One) = (&ev.subject, ev.kind.category()) {
                    login.note_blamed_for_ttl(*ip, ev.last_seen);
                }
            }
            login.observe(obs, ctx, out);
        }
        if let Some(d) = &mut self.beacon {
            d.observe(obs, ctx, out);
        }
    }

    /// About to see a record of `kind` from `src` to `dst` (port `dst_port`): start loading
    /// the table cells it will touch that are most likely cache misses on a busy edge. Those
    /// are the first-sighting slots of flood and beacon and spam's sources (an attempt), scan's
    /// pairs and sources (a failed attempt), and scan's filter of counted pairs and brute
    /// force's pairs and sources (an answer). For the tables looked up by key that is the
    /// index cell. A hint only: it changes no state.
    #[inline]
    pub fn prefetch(&self, kind: ObsKind, src: IpAddr, dst: IpAddr, dst_port: Option<u16>) {
        match kind {
            ObsKind::ConnAttempt => {
                if let Some(d) = &self.flood {
                    d.prefetch(src, dst);
                }
                if let Some(d) = &self.beacon {
                    d.prefetch(src, dst);
                }
                if let Some(d) = &self.spam {
                    d.prefetch(src, dst_port);
                }
            }
            ObsKind::ConnFailed => {
                if let Some(d) = &self.scan {
                    d.prefetch(kind, src, dst);
                }
            }
            ObsKind::ConnEstablished => {
                if let Some(d) = &self.scan {
                    d.prefetch(kind, src, dst);
                }
                if let Some(d) = &self.bruteforce {
                    d.prefetch(src, dst, dst_port);
                }
            }
            _ => {}
        }
    }

    /// Second stage of [`Self::prefetch`], a few records later: the cells it loaded name the
    /// entries, start loading those. The campus sources' entries of scan, spam and brute
    /// force were the detectors' largest wait on a busy edge (a third of their time).
    #[inline]
    pub fn prefetch_slots(&self, kind: ObsKind, src: IpAddr, dst: IpAddr, dst_port: Option<u16>) {
        match kind {
            ObsKind::ConnAttempt => {
                if let Some(d) = &self.spam {
                    d.prefetch_slots(src, dst_port);
                }
            }
            ObsKind::ConnFailed => {
                if let Some(d) = &self.scan {
                    d.prefetch_slots(src, dst);
                }
            }
            ObsKind::ConnEstablished => {
                if let Some(d) = &self.bruteforce {
                    d.prefetch_slots(src, dst, dst_port);
                }
            }
            _ => {}
        }
    }

    /// Tell the login detector that `ip` has Category 1 evidence from elsewhere (IDS) until
    /// `until`.
    pub fn note_blamed(&mut self, ip: IpAddr, until: Timestamp) {
        if let Some(login) = &mut self.login {
            login.note_blamed(ip, until);
        }
    }

    pub fn stats(&self) -> DetectStats {
        fn s<D: Detector>(d: &Option<D>) -> DetectorStats {
            d.as_ref().map(Detector::stats).unwrap_or_default()
        }
        DetectStats {
            scan: s(&self.scan),
            flood: s(&self.flood),
            spam: s(&self.spam),
            bruteforce: s(&self.bruteforce),
            login: s(&self.login),
            beacon: s(&self.beacon),
            invalid_account_names: self
                .login
                .as_ref()
                .map(LoginDetector::invalid_names)
                .unwrap_or(0),
        }
    }
}

/// Source and destination of campus-originated traffic that may become evidence about the
/// source: the source is campus and neither side is allow-listed; unless `internal` is set,
/// the destination must be outside campus.
pub(crate) fn outbound(
    obs: &Observation<'_>,
    ctx: &DetectContext<'_>,
    internal: bool,
) -> Option<(IpAddr, IpAddr)> {
    let (src, dst) = (obs.src?, obs.dst?);
    // Classified by `Detectors::observe` for this observation, or here for a detector run on
    // its own.
    let sides = ctx.sides.unwrap_or_else(|| ctx.classify(src, dst));
    if !sides.src_campus || sides.allowed || !internal && sides.dst_campus {
        return None;
    }
    Some((src, dst))
}

/// Does this record stand for a connection (a contact with its destination)? A log record of
/// any connection kind does; from packets one connection yields several records, and its
/// attempt is the one that counts.
pub(crate) fn new_connection(obs: &Observation<'_>) -> bool {
    if obs.from_packets {
        obs.kind == ObsKind::ConnAttempt
    } else {
        matches!(
            obs.kind,
            ObsKind::ConnAttempt | ObsKind::ConnDenied | ObsKind::ConnEstablished | ObsKind::Flow
        )
    }
}

/// A blank evidence record; the detector fills lists and raw lines. (Every argument is a
/// required field; a builder would only hide that.)
#[allow(clippy::too_many_arguments)]
pub(crate) fn new_evidence(
    kind: EvidenceKind,
    subject: Subject,
    first_seen: Timestamp,
    last_seen: Timestamp,
    count: u64,
    proto: Proto,
    detector: &str,
    sensor: &str,
) -> Evidence {
    Evidence {
        kind,
        subject,
        first_seen,
        last_seen,
        count,
        proto,
        ports: Vec::new(),
        peers: Vec::new(),
        peer_count: 0,
        signature: None,
        signature_id: None,
        account: None,
        raw: Vec::new(),
        detector: detector.to_string(),
        sensor: sensor.to_string(),
    }
}

/// A config duration as a positive window length (a zero window would make every record its
/// own window; one second is the floor).
pub(crate) fn window_len(d: crate::config::Duration) -> SignedDuration {
    d.0.max(SignedDuration::from_secs(1))
}

/// Remember a raw line in a reused buffer (no allocation once its capacity suffices), capped
/// at [`Evidence::MAX_RAW_LEN`] on a char boundary.
pub(crate) fn keep_raw(buf: &mut String, raw: &str) {
    buf.clear();
    let mut end = raw.len().min(Evidence::MAX_RAW_LEN);
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    buf.push_str(&raw[..end]);
}

/// Like [`keep_raw`], but only from a key's second record on (`count` is the records seen for
/// it so far, this one included). For tables that see every flow of a busy edge, most keys are
/// seen once and never become evidence; holding their line would cost up to
/// [`Evidence::MAX_RAW_LEN`] bytes per entry times the table's cap. The evidence still cites
/// the current line, so a threshold of one loses nothing.
pub(crate) fn keep_raw_when_repeated(buf: &mut String, raw: &str, count: u64) {
    if buf.is_empty() && count >= 2 {
        keep_raw(buf, raw);
    }
}

/// Add the first-kept and the current raw line to an evidence record, skipping empties and
/// duplicates.
pub(crate) fn push_raws(ev: &mut Evidence, first: &str, current: &str) {
    if !first.is_empty() {
        ev.push_raw(first);
    }
    if !current.is_empty() && current != first {
        ev.push_raw(current);
    }
}

#[cfg(test)]
mod tests {
    use super::PortSet;

    #[test]
    fn port_set_holds_exactly_its_ports() {
        let listed = [0u16, 22, 25, 63, 64, 587, 65535];
        let set = PortSet::new(&listed);
        for p in 0..=u16::MAX {
            assert_eq!(set.contains(p), listed.contains(&p), "port {p}");
        }
        assert!(!PortSet::new(&[]).contains(22));
    }
}
