//! Packets → observations. [`FlowEngine`] decodes each captured frame ([`mod@decode`]) and tracks
//! it in a bounded flow table ([`table`]), emitting at most a few [`Observation`]s per packet:
//!
//! - `ConnAttempt` on an initiator's SYN, the first packet of a new UDP flow, or an ICMP query
//!   (echo/timestamp request; `icmp` set);
//! - `ConnEstablished` when a TCP handshake completes (the initiator's address is proven real)
//!   or a UDP/ICMP peer answers;
//! - `ConnFailed` when an attempt is refused (reset before the handshake completed) or has no
//!   answer after the attempt timeout (default 5 s, as Zeek's `tcp_attempt_delay`), or ends
//!   without either (`refused`, `half_open` when only a SYN-ACK came back, `unanswered`); a
//!   late answer still yields `ConnEstablished`. While the capture shows no answers to anyone
//!   ([`one_way`]: a one-direction span port, an uplink outage) `unanswered` verdicts are
//!   withheld and counted;
//! - `Flow` summaries (packets, bytes; `note` says `<established|attempt|midstream>:<why>`)
//!   when a flow ends by FIN/RST, idles out, is evicted, or at [`FlowEngine::finish`]; unless
//!   [`FlowSettings::summaries`] is off, as it is for the agent.
//!
//! Pure: no I/O, no clock (time is the packet's timestamp), no libpcap (the link type is our own
//! [`LinkType`]). Nothing here allocates per packet; observations borrow nothing (`raw` is "")
//! and carry `from_packets`, so detectors count each connection once.

pub mod batch;
pub mod decode;
pub mod one_way;
pub mod table;

pub use decode::{DecodeStats, LinkType, Malformed, Packet, decode};
pub use table::{EndReason, FlowTable, TableStats};

use crate::model::Observation;
use jiff::Timestamp;

/// Flow-engine settings, from `[detect.flow]` (see `config::schema::FlowConfig`).
#[derive(Debug, Clone)]
pub struct FlowSettings {
    /// At most this many flows are tracked; the least recently active is evicted beyond it.
    pub max_flows: usize,
    /// A flow with no packet for this long is summarized and dropped.
    pub idle_timeout: std::time::Duration,
    /// An attempt with no answer for this long is judged failed (`ConnFailed`).
    pub attempt_timeout: std::time::Duration,
    /// The campus networks, if known: only campus hosts' unanswered attempts can make the
    /// capture look one-way (outside hosts probing dark campus space are normal). Without
    /// them every initiator counts.
    pub campus: Option<crate::inventory::Campus>,
    /// Emit a `Flow` summary when a flow ends. The agent turns them off: its detectors count
    /// a connection at its attempt and verdict, nothing there reads summaries, and building
    /// and handing them on cost a few percent of a replay.
    pub summaries: bool,
    /// `detect.flow.trust_unseen_answers`: a TCP attempt whose initiator acknowledged an
    /// answer the capture never carried gets no verdict (otherwise it is judged, its verdict
    /// noted `answer_unseen`).
    pub trust_unseen_answers: bool,
}

impl FlowSettings {
    /// `[detect.flow]` with the campus networks of a source (its own, or `campus.networks`).
    pub fn for_source(
        cfg: &crate::config::Config,
        src: Option<&crate::config::SourceConfig>,
    ) -> Self {
        let nets = src
            .and_then(|s| s.campus.as_deref())
            .unwrap_or(&cfg.campus.networks);
        FlowSettings {
            campus: Some(crate::inventory::Campus::new(nets)),
            summaries: false,
            ..FlowSettings::from(&cfg.detect.flow)
        }
    }
}

impl Default for FlowSettings {
    fn default() -> Self {
        FlowSettings {
            max_flows: 1_000_000,
            idle_timeout: std::time::Duration::from_secs(120),
            attempt_timeout: std::time::Duration::from_secs(5),
            campus: None,
            summaries: true,
            trust_unseen_answers: false,
        }
    }
}

impl From<&crate::config::schema::FlowConfig> for FlowSettings {
    fn from(c: &crate::config::schema::FlowConfig) -> Self {
        FlowSettings {
            max_flows: c.max_flows,
            idle_timeout: c.idle_timeout.std(),
            attempt_timeout: c.attempt_timeout.std(),
            campus: None,
            summaries: true,
            trust_unseen_answers: c.trust_unseen_answers,
        }
    }
}

/// Counters of the engine, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Frames handed to [`FlowEngine::packet`].
    pub packets: u64,
    /// Frames decoded to an IP packet with a transport header.
    pub decoded: u64,
    /// Frames skipped, by reason.
    pub malformed: DecodeStats,
    /// Flows in the table now.
    pub flows_live: u64,
    /// Flows ever created.
    pub flows_created: u64,
    /// Flows dropped after the idle timeout.
    pub flows_expired: u64,
    /// Flows evicted because the table was full.
    pub flows_evicted: u64,
    /// TCP segments that matched no flow and could not start one.
    pub stray: u64,
    /// Observations emitted.
    pub observations: u64,
    /// Attempts not judged `unanswered` because the link looked one-way then.
    pub unjudged_one_way: u64,
    /// TCP attempts whose initiator acknowledged an answer the capture never carried (split
    /// routing, answers dropped, or a scanner's own ACK); judged unless trusted.
    pub answer_unseen: u64,
    /// The link looks one-way now (attempts from many hosts, no answers at all).
    pub one_way: bool,
}

/// How many decoded packets [`FlowEngine::packet_ahead`] holds back. Each packet's flow lookup
/// is a cache miss on a busy link (a table of a million flows does not fit in cache); started
/// this many packets early, it has resolved by the time the packet is tracked.
const AHEAD: usize = 8;

/// A decoded packet and its prepared flow lookup, waiting in [`FlowEngine::packet_ahead`]'s
/// ring (or tracked at once by [`FlowEngine::packet`]).
#[derive(Debug, Clone, Copy)]
struct Ahead {
    ts: Timestamp,
    packet: Packet,
    prep: table::Prepared,
}

/// Frame decoding + bounded flow tracking.
pub struct FlowEngine {
    table: FlowTable,
    /// Packets decoded by [`Self::packet_ahead`] and not yet tracked, oldest at `next`.
    ahead: [Option<Ahead>; AHEAD],
    next: usize,
    packets: u64,
    decoded: u64,
    malformed: DecodeStats,
    observations: u64,
}

impl FlowEngine {
    pub fn new(cfg: &FlowSettings) -> Self {
        FlowEngine {
            table: FlowTable::new(cfg.max_flows, cfg.idle_timeout)
                .with_attempt_timeout(cfg.attempt_timeout)
                .with_campus(cfg.campus.clone())
                .with_summaries(cfg.summaries)
                .trusting_unseen_answers(cfg.trust_unseen_answers),
            ahead: [None; AHEAD],
            next: 0,
            packets: 0,
            decoded: 0,
            malformed: DecodeStats::default(),
            observations: 0,
        }
    }

    /// Process one captured frame taken at `ts`; hand each resulting observation to `out`.
    /// Always inlined into the read loop: as a call it cost 8 % more instructions per packet
    /// (callgrind), and whether LLVM inlines it on its own changes with unrelated code.
    #[inline(always)]
    pub fn packet(
        &mut self,
        ts: Timestamp,
        link: LinkType,
        frame: &[u8],
        out: &mut impl FnMut(&Observation<'static>),
    ) {
        if let Some(a) = self.decode_frame(ts, link, frame) {
            Self::track(&mut self.table, &mut self.observations, &a, out);
        }
    }

    /// [`Self::packet`], but the packet is tracked eight packets later, its flow lookup
    /// started now: for reading files, where the next frames are already in memory. Their
    /// order is kept; [`Self::drain`] (or [`Self::finish`]) tracks the ones still held, and
    /// the table's counters in [`Self::stats`] lag by at most that many packets until then.
    #[inline(always)]
    pub fn packet_ahead(
        &mut self,
        ts: Timestamp,
        link: LinkType,
        frame: &[u8],
        out: &mut impl FnMut(&Observation<'static>),
    ) {
        // First track the packet held longest, in place (moving it out costs more than the
        // tracking saves); then decode this one straight into its slot. In this order nothing
        // decoded has to survive the tracking call, so the packet is stored from registers
        // instead of being spilled to the stack and copied.
        if let Some(a) = &self.ahead[self.next] {
            Self::track(&mut self.table, &mut self.observations, a, out);
        }
        self.ahead[self.next] = self.decode_frame(ts, link, frame);
        // Halfway through its wait, a held packet's index cell has arrived: start loading
        // the flow entry it points to, for the second half of the wait.
        let half = (self.next + AHEAD / 2) % AHEAD;
        if let Some(a) = &self.ahead[half] {
            let before = self.ahead[(half + AHEAD - 1) % AHEAD].as_ref();
            self.table.prefetch_entry(&a.prep, before.map(|b| &b.prep));
        }
        self.next = (self.next + 1) % AHEAD;
    }

    /// Track every packet [`Self::packet_ahead`] still holds, oldest first.
    pub fn drain(&mut self, out: &mut impl FnMut(&Observation<'static>)) {
        for k in 0..AHEAD {
            let i = (self.next + k) % AHEAD;
            if let Some(a) = &self.ahead[i] {
                Self::track(&mut self.table, &mut self.observations, a, out);
            }
            self.ahead[i] = None;
        }
    }

    /// Count a frame and decode it, its flow lookup prepared; `None` (counted by reason) when
    /// it does not decode. The first half of [`Self::packet`] and [`Self::packet_ahead`].
    #[inline(always)]
    fn decode_frame(&mut self, ts: Timestamp, link: LinkType, frame: &[u8]) -> Option<Ahead> {
        self.packets += 1;
        match decode(link, frame) {
            Ok(packet) => {
                self.decoded += 1;
                let prep = self.table.prepare(&packet);
                Some(Ahead { ts, packet, prep })
            }
            Err(why) => {
                self.malformed.count(why);
                None
            }
        }
    }

    /// Track a decoded packet, counting the observations it yields.
    #[inline(always)]
    fn track(
        table: &mut FlowTable,
        observations: &mut u64,
        a: &Ahead,
        out: &mut impl FnMut(&Observation<'static>),
    ) {
        table.packet_prepared(a.ts, &a.packet, &a.prep, &mut |o: &Observation<'static>| {
            *observations += 1;
            out(o)
        });
    }

    /// Count a frame whose link type the capture reports but we cannot decode.
    pub fn unknown_link(&mut self) {
        self.packets += 1;
        self.malformed.count(Malformed::UnknownLink);
    }

    /// End of input: every flow still open gets the verdict it is owed and (if summaries are
    /// on) its summary.
    pub fn finish(&mut self, out: &mut impl FnMut(&Observation<'static>)) {
        self.drain(out);
        let n = &mut self.observations;
        self.table.flush(&mut |o: &Observation<'static>| {
            *n += 1;
            out(o)
        });
    }

    pub fn stats(&self) -> FlowStats {
        let t = self.table.stats();
        FlowStats {
            packets: self.packets,
            decoded: self.decoded,
            malformed: self.malformed,
            flows_live: t.live,
            flows_created: t.created,
            flows_expired: t.expired_idle,
            flows_evicted: t.evicted_full,
            stray: t.stray,
            observations: self.observations,
            unjudged_one_way: t.unjudged_one_way,
            answer_unseen: t.answer_unseen,
            one_way: t.one_way,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ObsKind, Proto};
    use etherparse::PacketBuilder;
    use std::net::IpAddr;

    fn ts(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    fn tcp(src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16, f: &str) -> Vec<u8> {
        let mut b = PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4(src, dst, 64)
            .tcp(sp, dp, 1, 1024);
        for c in f.chars() {
            b = match c {
                'S' => b.syn(),
                'A' => b.ack(2),
                'F' => b.fin(),
                'R' => b.rst(),
                _ => b,
            };
        }
        let mut v = Vec::new();
        b.write(&mut v, &[]).unwrap();
        v
    }

    fn run(eng: &mut FlowEngine, frames: &[(i64, Vec<u8>)]) -> Vec<(ObsKind, String)> {
        let mut got = Vec::new();
        for (t, f) in frames {
            eng.packet(ts(*t), LinkType::Ethernet, f, &mut |o| {
                got.push((
                    o.kind,
                    format!(
                        "{}:{}>{}:{} {} {}",
                        o.src.unwrap(),
                        o.src_port.unwrap_or(0),
                        o.dst.unwrap(),
                        o.dst_port.unwrap_or(0),
                        o.packets,
                        o.note.as_deref().unwrap_or("")
                    ),
                ))
            });
        }
        eng.finish(&mut |o| {
            got.push((
                o.kind,
                format!("{} {}", o.src.unwrap(), o.note.as_deref().unwrap_or("")),
            ))
        });
        got
    }

    const C: [u8; 4] = [10, 20, 0, 2];
    const O: [u8; 4] = [198, 51, 100, 2];

    /// C's connection to O:80 from port 40000: handshake at 0 s, both FINs at 1 s.
    fn handshake_and_fins() -> Vec<(i64, Vec<u8>)> {
        vec![
            (0, tcp(C, O, 40000, 80, "S")),
            (0, tcp(O, C, 80, 40000, "SA")),
            (0, tcp(C, O, 40000, 80, "A")),
            (1, tcp(C, O, 40000, 80, "FA")),
            (1, tcp(O, C, 80, 40000, "FA")),
        ]
    }

    #[test]
    fn full_handshake_and_fin() {
        let mut e = FlowEngine::new(&FlowSettings::default());
        let mut frames = handshake_and_fins();
        frames.push((1, tcp(C, O, 40000, 80, "A")));
        let got = run(&mut e, &frames);
        let kinds: Vec<_> = got.iter().map(|g| g.0).collect();
        assert_eq!(
            kinds,
            [
                ObsKind::ConnAttempt,
                ObsKind::ConnEstablished,
                ObsKind::Flow
            ]
        );
        assert_eq!(
            got[2].1,
            "10.20.0.2:40000>198.51.100.2:80 5 established:fin"
        );
        assert_eq!(
            e.stats().flows_created,
            1,
            "the last ACK after both FINs must not start a mid-stream flow"
        );
    }

    /// C's connection to O:443 from port `sp` as a capture sees it when O's answers come back
    /// over an uplink it does not see: C's SYN, then C's ACK and data, and C's FIN or reset.
    fn answers_unseen(sp: u16, end: &str) -> Vec<(i64, Vec<u8>)> {
        vec![
            (0, tcp(C, O, sp, 443, "S")),
            (0, tcp(C, O, sp, 443, "A")),
            (0, tcp(C, O, sp, 443, "A")),
            (1, tcp(C, O, sp, 443, end)),
        ]
    }

    /// By default such an attempt is judged (the initiator is the host being judged, and its
    /// own ACK proves nothing), its verdict noted `answer_unseen`; a site that trusts it
    /// (`trust_unseen_answers`) gets no verdict. Counted either way.
    #[test]
    fn an_initiator_acknowledging_an_unseen_answer_is_counted_and_judged_unless_trusted() {
        for trust in [false, true] {
            for end in ["FA", "R", "A"] {
                let mut e = FlowEngine::new(&FlowSettings {
                    trust_unseen_answers: trust,
                    ..FlowSettings::default()
                });
                // Closed by the initiator's FIN or reset, or left open until the timeout.
                let mut frames = answers_unseen(40000, end);
                // Time passes: the attempt timeout runs, then judges these lone SYNs too.
                frames.push((10, tcp(C, O, 40001, 80, "S")));
                frames.push((20, tcp(C, O, 40002, 80, "S")));
                let got = run(&mut e, &frames);
                let failed: Vec<_> = got.iter().filter(|g| g.0 == ObsKind::ConnFailed).collect();
                let unseen: Vec<_> = failed
                    .iter()
                    .filter(|g| g.1.ends_with("answer_unseen"))
                    .collect();
                assert_eq!(unseen.len(), usize::from(!trust), "{trust} {end}: {got:?}");
                assert_eq!(failed.len(), 2 + usize::from(!trust), "{end}: {got:?}");
                // Not a handshake seen either way: nothing vouches for the source.
                assert!(
                    !got.iter().any(|g| g.0 == ObsKind::ConnEstablished),
                    "{got:?}"
                );
                assert_eq!(e.stats().answer_unseen, 1, "{trust} {end}");
            }
        }
    }

    /// A segment sent ahead of the SYN makes the flow "mid-stream" at first; the SYN that
    /// follows, on a flow only one side has spoken on, still makes it an attempt with its
    /// verdict (a probe or flood cannot dodge the count this way).
    #[test]
    fn a_syn_after_a_stray_segment_on_a_one_sided_flow_is_an_attempt() {
        let mut e = FlowEngine::new(&FlowSettings::default());
        let frames = vec![
            (0, tcp(C, O, 40000, 23, "A")),
            (0, tcp(C, O, 40000, 23, "S")),
            (0, tcp(C, O, 40001, 23, "A")),
            (0, tcp(C, O, 40001, 23, "S")),
            (0, tcp(O, C, 23, 40001, "RA")),
            (10, tcp(C, O, 40002, 80, "S")),
        ];
        let got = run(&mut e, &frames);
        let attempts = got.iter().filter(|g| g.0 == ObsKind::ConnAttempt).count();
        assert_eq!(attempts, 3, "{got:?}");
        let failed: Vec<_> = got.iter().filter(|g| g.0 == ObsKind::ConnFailed).collect();
        assert!(
            failed
                .iter()
                .any(|g| g.1.contains(":40000>") && g.1.ends_with("unanswered")),
            "{got:?}"
        );
        assert!(
            failed
                .iter()
                .any(|g| g.1.contains(":40001>") && g.1.ends_with("refused")),
            "{got:?}"
        );
        // A flow both sides have spoken on stays mid-stream: a SYN there is not a new attempt.
        let mut e = FlowEngine::new(&FlowSettings::default());
        let frames = vec![
            (0, tcp(C, O, 40000, 443, "A")),
            (0, tcp(O, C, 443, 40000, "A")),
            (0, tcp(C, O, 40000, 443, "S")),
        ];
        let got = run(&mut e, &frames);
        assert!(!got.iter().any(|g| g.0 == ObsKind::ConnAttempt), "{got:?}");
    }

    #[test]
    fn a_reset_from_the_responder_judges_the_attempt_whatever_the_initiator_sent() {
        // A scanner that follows each probe with its own ACK to pass as answered: the reset
        // its probe (or its ACK) draws shows the responder's path is captured.
        let mut e = FlowEngine::new(&FlowSettings::default());
        let frames = vec![
            (0, tcp(C, O, 40000, 8080, "S")),
            (0, tcp(C, O, 40000, 8080, "A")),
            (0, tcp(O, C, 8080, 40000, "R")),
        ];
        let got = run(&mut e, &frames);
        let failed: Vec<_> = got.iter().filter(|g| g.0 == ObsKind::ConnFailed).collect();
        assert_eq!(failed.len(), 1, "{got:?}");
        assert!(failed[0].1.ends_with("refused"), "{got:?}");
        assert_eq!(e.stats().answer_unseen, 0);
        // Same when the reset comes first and the initiator's ACK after it.
        let mut e = FlowEngine::new(&FlowSettings::default());
        let frames = vec![
            (0, tcp(C, O, 40000, 8080, "S")),
            (0, tcp(O, C, 8080, 40000, "RA")),
            (0, tcp(C, O, 40000, 8080, "A")),
        ];
        let got = run(&mut e, &frames);
        assert_eq!(
            got.iter().filter(|g| g.0 == ObsKind::ConnFailed).count(),
            1,
            "{got:?}"
        );
        assert_eq!(e.stats().answer_unseen, 0);
    }

    /// Twenty campus hosts, 400 attempts over three seconds, not one answer: what a span port
    /// mirroring one direction (or an uplink outage) looks like.
    fn unanswered_by_twenty_hosts() -> Vec<(i64, Vec<u8>)> {
        (0..400u16)
            .map(|n| {
                let host = [10, 1, 0, (n % 20) as u8 + 1];
                (i64::from(n / 100), tcp(host, O, 30000 + n, 443, "S"))
            })
            .collect()
    }

    #[test]
    fn a_capture_without_any_answers_withholds_unanswered_verdicts_until_one_comes() {
        let mut e = FlowEngine::new(&FlowSettings::default());
        let mut frames = unanswered_by_twenty_hosts();
        // Long after their timeout, an attempt that is answered: both directions again.
        frames.push((10, tcp([10, 1, 0, 1], O, 50000, 80, "S")));
        frames.push((10, tcp(O, [10, 1, 0, 1], 80, 50000, "SA")));
        // From now on unanswered attempts are judged as before.
        frames.push((11, tcp([10, 1, 0, 2], O, 50001, 80, "S")));
        frames.push((20, tcp([10, 1, 0, 3], O, 50002, 80, "S")));
        let mut got = run(&mut e, &frames);
        let mid = e.stats();
        e.finish(&mut |o| got.push((o.kind, String::new())));
        let failed = |note: &str| {
            got.iter()
                .filter(|g| g.0 == ObsKind::ConnFailed && g.1.ends_with(note))
                .count()
        };
        assert_eq!(mid.unjudged_one_way, 400);
        assert!(!mid.one_way, "an answer ends it");
        // 50001 judged at 20 s, 50002 at the end; none of the 400. The answered :80 attempt
        // never completed its handshake: half-open.
        assert_eq!(failed("unanswered"), 2);
        assert_eq!(failed("half_open"), 1);
        assert_eq!(e.stats().unjudged_one_way, 400);
    }

    #[test]
    fn a_syn_ack_without_the_handshake_is_judged_half_open() {
        let mut e = FlowEngine::new(&FlowSettings::default());
        let mut got = run(
            &mut e,
            &[
                (0, tcp(C, O, 40000, 443, "S")),
                (0, tcp(O, C, 443, 40000, "SA")),
                // The capture missed the last ACK and everything after it.
                (9, tcp(C, [198, 51, 100, 9], 5000, 22, "S")),
            ],
        );
        e.finish(&mut |o| got.push((o.kind, o.note.as_deref().unwrap_or("").to_string())));
        let failed: Vec<_> = got
            .iter()
            .filter(|g| g.0 == ObsKind::ConnFailed)
            .map(|g| g.1.rsplit(' ').next().unwrap_or("").to_string())
            .collect();
        // The :443 attempt was answered but never completed (a SYN scanner dropping its own
        // resets looks like this); the port-22 attempt was not answered at all.
        assert_eq!(failed, ["half_open", "unanswered"], "{failed:?}");
        assert!(
            got.iter().all(|g| g.0 != ObsKind::ConnEstablished),
            "the initiator's address was never proven"
        );
    }

    #[test]
    fn only_campus_initiators_make_a_capture_look_one_way() {
        // Outside hosts probing dark campus addresses all the time, unanswered: normal.
        let cfg = FlowSettings {
            campus: Some(crate::inventory::Campus::new(&["10.0.0.0/8"
                .parse()
                .unwrap()])),
            ..FlowSettings::default()
        };
        let mut e = FlowEngine::new(&cfg);
        let mut frames = Vec::new();
        for n in 0..400u16 {
            let outside = [203, 0, 113, (n % 20) as u8 + 1];
            frames.push((
                i64::from(n / 100),
                tcp(outside, [10, 9, 9, 9], 30000 + n, 23, "S"),
            ));
        }
        // A campus scanner among them, nothing answering it either.
        for n in 0..10u16 {
            frames.push((
                4,
                tcp([10, 1, 0, 1], [198, 51, 100, n as u8], 40000 + n, 445, "S"),
            ));
        }
        frames.push((20, tcp([10, 1, 0, 2], O, 50000, 80, "S")));
        let got = run(&mut e, &frames);
        assert!(!e.stats().one_way);
        assert_eq!(e.stats().unjudged_one_way, 0);
        let from_scanner = got
            .iter()
            .filter(|g| g.0 == ObsKind::ConnFailed && g.1.starts_with("10.1.0.1:"))
            .count();
        assert_eq!(from_scanner, 10);
    }

    #[test]
    fn refused_attempts_are_judged_even_on_a_link_that_looks_one_way() {
        let mut e = FlowEngine::new(&FlowSettings::default());
        let mut frames = unanswered_by_twenty_hosts();
        // A reset seen from the initiator's side (its own stack giving up) is a refusal the
        // capture did see: still judged.
        frames.push((4, tcp([10, 1, 0, 7], O, 40000, 22, "S")));
        frames.push((4, tcp([10, 1, 0, 7], O, 40000, 22, "R")));
        let mut got = run(&mut e, &frames);
        assert!(e.stats().one_way);
        e.finish(&mut |o| got.push((o.kind, o.note.as_deref().unwrap_or("").to_string())));
        let failed: Vec<_> = got.iter().filter(|g| g.0 == ObsKind::ConnFailed).collect();
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert!(failed[0].1.ends_with("refused"));
        assert_eq!(e.stats().unjudged_one_way, 400);
    }

    #[test]
    fn syn_scan_attempts_without_establishment() {
        let mut e = FlowEngine::new(&FlowSettings::default());
        let mut frames = Vec::new();
        for port in 1..=100u16 {
            frames.push((0, tcp(C, O, 5555, port, "S")));
            if port % 10 == 0 {
                frames.push((0, tcp(O, C, port, 5555, "SA")));
                frames.push((0, tcp(C, O, 5555, port, "R")));
            } else {
                frames.push((0, tcp(O, C, port, 5555, "RA")));
            }
        }
        let got = run(&mut e, &frames);
        let n = |k| got.iter().filter(|g| g.0 == k).count();
        assert_eq!(n(ObsKind::ConnAttempt), 100);
        assert_eq!(n(ObsKind::ConnEstablished), 0);
        assert_eq!(n(ObsKind::Flow), 100);
        assert!(
            got.iter()
                .all(|g| g.0 != ObsKind::Flow || g.1.contains("attempt:rst"))
        );
    }

    #[test]
    fn idle_expiry_and_lru_eviction_are_counted() {
        let cfg = FlowSettings {
            max_flows: 10,
            idle_timeout: std::time::Duration::from_secs(60),
            ..FlowSettings::default()
        };
        let mut e = FlowEngine::new(&cfg);
        let mut frames = Vec::new();
        for i in 0..25u8 {
            frames.push((0, tcp(C, [198, 51, 100, i], 1000, 22, "S")));
        }
        // Far later: every remaining flow has idled out.
        frames.push((1000, tcp(C, O, 1001, 22, "S")));
        let got = run(&mut e, &frames);
        let s = e.stats();
        assert_eq!(s.flows_evicted, 15);
        assert_eq!(s.flows_expired, 10);
        assert_eq!(
            got.iter()
                .filter(|g| g.1.ends_with("attempt:evicted"))
                .count(),
            15
        );
        assert_eq!(
            got.iter().filter(|g| g.0 == ObsKind::ConnAttempt).count(),
            26
        );
    }

    #[test]
    fn udp_reply_establishes_and_icmp_echo() {
        let mut e = FlowEngine::new(&FlowSettings::default());
        let mut q = Vec::new();
        PacketBuilder::ipv4(C, O, 64)
            .udp(3333, 53)
            .write(&mut q, &[0; 20])
            .unwrap();
        let mut r = Vec::new();
        PacketBuilder::ipv4(O, C, 64)
            .udp(53, 3333)
            .write(&mut r, &[0; 40])
            .unwrap();
        let mut ping = Vec::new();
        PacketBuilder::ipv4(C, O, 64)
            .icmpv4_echo_request(9, 1)
            .write(&mut ping, &[])
            .unwrap();
        let mut kinds = Vec::new();
        let mut icmp = None;
        for f in [&q, &r, &ping] {
            e.packet(ts(0), LinkType::RawIp, f, &mut |o| {
                kinds.push((o.kind, o.proto));
                if o.proto == Proto::Icmp {
                    icmp = o.icmp;
                }
            });
        }
        assert_eq!(
            kinds,
            [
                (ObsKind::ConnAttempt, Proto::Udp),
                (ObsKind::ConnEstablished, Proto::Udp),
                (ObsKind::ConnAttempt, Proto::Icmp)
            ]
        );
        assert_eq!(icmp, Some((8, 0)));
        let _: IpAddr = "10.20.0.2".parse().unwrap();
    }

    #[test]
    fn unanswered_attempt_is_judged_failed_after_the_timeout_and_a_late_answer_still_counts() {
        let mut e = FlowEngine::new(&FlowSettings::default());
        let got = run(
            &mut e,
            &[
                (0, tcp(C, O, 40000, 443, "S")),
                (3, tcp(C, O, 40000, 443, "S")), // retransmission: same attempt
                (4, tcp(C, O, 40001, 80, "S")),
                (4, tcp(O, C, 80, 40001, "RA")), // refused at once
                (9, tcp(C, [198, 51, 100, 9], 5000, 22, "S")), // 6 s after the last SYN
                (10, tcp(O, C, 443, 40000, "SA")), // late answer
                (10, tcp(C, O, 40000, 443, "A")),
            ],
        );
        let kinds: Vec<_> = got
            .iter()
            .map(|g| (g.0, g.1.split(' ').next_back().unwrap_or("").to_string()))
            .collect();
        let k = |kind, note: &str| (kind, note.to_string());
        assert_eq!(
            kinds[..7],
            [
                k(ObsKind::ConnAttempt, ""),
                k(ObsKind::ConnAttempt, ""),
                k(ObsKind::ConnFailed, "refused"),
                k(ObsKind::Flow, "attempt:rst"),
                k(ObsKind::ConnFailed, "unanswered"),
                k(ObsKind::ConnAttempt, ""),
                k(ObsKind::ConnEstablished, ""),
            ]
        );
        // At the end: the port-22 attempt was never answered and gets its verdict before its
        // summary; the established one gets none.
        let tail: Vec<_> = got[7..].iter().map(|g| g.0).collect();
        assert_eq!(
            tail.iter().filter(|k| **k == ObsKind::ConnFailed).count(),
            1,
            "{got:?}"
        );
        // The :443 attempt was judged once (at 9 s, from its first SYN), then answered late.
        assert!(got[4].1.contains(">198.51.100.2:443 "), "{got:?}");
        assert_eq!(
            got.iter()
                .filter(|g| g.0 == ObsKind::ConnFailed && g.1.contains(":443"))
                .count(),
            1
        );
    }

    #[test]
    fn closed_flows_leave_the_table_after_a_short_linger() {
        let mut e = FlowEngine::new(&FlowSettings::default());
        let mut frames = Vec::new();
        for i in 0..50u16 {
            let sp = 30000 + i;
            frames.push((0, tcp(C, O, sp, 80, "S")));
            frames.push((0, tcp(O, C, 80, sp, "SA")));
            frames.push((0, tcp(C, O, sp, 80, "A")));
            frames.push((0, tcp(C, O, sp, 80, "FA")));
            frames.push((0, tcp(O, C, 80, sp, "FA")));
        }
        for (t, f) in &frames {
            e.packet(ts(*t), LinkType::Ethernet, f, &mut |_| {});
        }
        assert_eq!(e.stats().flows_live, 50);
        // A late ACK keeps its flow a while longer; the others leave 5 s after closing.
        e.packet(
            ts(4),
            LinkType::Ethernet,
            &tcp(C, O, 30000, 80, "A"),
            &mut |_| {},
        );
        let mut late = Vec::new();
        e.packet(
            ts(6),
            LinkType::Ethernet,
            &tcp(C, O, 1, 53, "S"),
            &mut |o| late.push(o.kind),
        );
        assert_eq!(late, [ObsKind::ConnAttempt], "closed flows leave silently");
        assert_eq!(e.stats().flows_live, 2);
        assert_eq!(e.stats().flows_expired, 0);
        e.packet(
            ts(10),
            LinkType::Ethernet,
            &tcp(C, O, 2, 53, "S"),
            &mut |_| {},
        );
        assert_eq!(
            e.stats().flows_live,
            2,
            "the lingering one left, port 2 arrived"
        );
    }

    #[test]
    fn flows_removed_while_a_timeout_check_is_queued_are_not_judged_or_freed_twice() {
        // An idle timeout shorter than the attempt timeout and the close linger: flows leave
        // by idling out while their other checks are still queued.
        let cfg = FlowSettings {
            idle_timeout: std::time::Duration::from_secs(2),
            attempt_timeout: std::time::Duration::from_secs(5),
            ..FlowSettings::default()
        };
        let mut e = FlowEngine::new(&cfg);
        let mut kinds = Vec::new();
        let mut feed = |e: &mut FlowEngine, t: i64, f: Vec<u8>| {
            e.packet(ts(t), LinkType::Ethernet, &f, &mut |o| {
                kinds.push((o.kind, o.src_port.unwrap_or(0)))
            })
        };
        for (out, f) in [
            (true, "S"),
            (false, "SA"),
            (true, "A"),
            (true, "FA"),
            (false, "FA"),
        ] {
            let p = if out {
                tcp(C, O, 1000, 80, f)
            } else {
                tcp(O, C, 80, 1000, f)
            };
            feed(&mut e, 0, p);
        }
        feed(&mut e, 0, tcp(C, O, 2000, 22, "S"));
        feed(&mut e, 3, tcp(C, O, 3000, 443, "S")); // both idle out here
        feed(&mut e, 6, tcp(C, O, 3001, 443, "S")); // the attempt check for 2000 comes due
        for sp in [3000, 3001] {
            feed(&mut e, 6, tcp(O, C, 443, sp, "SA"));
            feed(&mut e, 6, tcp(C, O, sp, 443, "A"));
        }
        let n = |k: ObsKind, port: u16| kinds.iter().filter(|x| **x == (k, port)).count();
        assert_eq!(n(ObsKind::ConnFailed, 2000), 1, "{kinds:?}");
        // Each new flow has a slot of its own: both handshakes complete.
        assert_eq!(n(ObsKind::ConnEstablished, 3000), 1, "{kinds:?}");
        assert_eq!(n(ObsKind::ConnEstablished, 3001), 1, "{kinds:?}");
        assert_eq!(e.stats().flows_live, 2);
    }

    #[test]
    fn without_summaries_flows_end_silently_but_attempts_still_get_their_verdicts() {
        let cfg = FlowSettings {
            summaries: false,
            ..FlowSettings::default()
        };
        let mut e = FlowEngine::new(&cfg);
        let mut frames = handshake_and_fins();
        frames.extend([
            (1, tcp(C, O, 40001, 22, "S")),
            (1, tcp(O, C, 22, 40001, "RA")), // refused: judged at once
            (2, tcp(C, O, 40002, 443, "S")), // unanswered: judged at the end
        ]);
        let got = run(&mut e, &frames);
        let kinds: Vec<_> = got.iter().map(|g| g.0).collect();
        assert_eq!(
            kinds,
            [
                ObsKind::ConnAttempt,
                ObsKind::ConnEstablished,
                ObsKind::ConnAttempt,
                ObsKind::ConnFailed,
                ObsKind::ConnAttempt,
                ObsKind::ConnFailed,
            ],
            "{got:?}"
        );
        assert!(got[3].1.ends_with("refused") && got[5].1.ends_with("unanswered"));
        let s = e.stats();
        assert_eq!((s.flows_created, s.observations), (3, 6));
    }

    #[test]
    fn stray_rst_creates_nothing() {
        let mut e = FlowEngine::new(&FlowSettings::default());
        let got = run(&mut e, &[(0, tcp(O, C, 80, 1234, "RA"))]);
        assert!(got.is_empty());
        assert_eq!(e.stats().stray, 1);
        assert_eq!(e.stats().flows_live, 0);
    }
}
