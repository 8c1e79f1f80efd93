//! The bounded flow table: decoded packets in, a few [`Observation`]s out.
//!
//! Flows are keyed by a direction-normalized 5-tuple; the side that sent the first SYN (or the
//! first UDP / ICMP query packet) is the initiator. Entries live in a slab threaded on an
//! intrusive LRU list ordered by last activity (to within a second), so idle expiry and
//! eviction-when-full both pop the list head in O(1). Attempts wait in a FIFO for their
//! verdict; flows closed by FIN/RST linger 5 s in another, then leave. Packets never allocate
//! once the slab has grown to its working size.
//!
//! Owns flow state only: no decoding, no detection, no I/O, no clock (time is the packet's).

use super::decode::{Packet, tcp_flags};
use super::one_way::OneWayGuard;
use crate::model::{ObsKind, Observation, Proto};
use crate::slot_index::SlotIndex;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::hash::BuildHasher;
use std::net::IpAddr;

use jiff::Timestamp;

/// Direction-normalized 5-tuple: `(a, a_port) <= (b, b_port)`, packed into five words so
/// hashing and comparing are a few wide operations: a (2 words), b (2 words), then
/// `a_port << 32 | b_port << 16 | proto << 8 | is_v6`.
#[derive(Debug, Clone, Copy, Eq)]
struct FlowKey([u64; 5]);

// By hand: the derived forms compile to a `memcmp` call and a length-prefixed byte hash.
impl PartialEq for FlowKey {
    #[inline]
    fn eq(&self, o: &Self) -> bool {
        let (a, b) = (&self.0, &o.0);
        ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4])) == 0
    }
}

impl std::hash::Hash for FlowKey {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        for w in self.0 {
            h.write_u64(w);
        }
    }
}

/// A packet's flow key, direction and hash, computed ahead of its lookup
/// ([`FlowTable::prepare`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Prepared {
    key: FlowKey,
    from_a: bool,
    hash: u64,
}

fn words(ip: IpAddr) -> (u64, u64) {
    match ip {
        IpAddr::V4(v4) => (0, u64::from(u32::from(v4))),
        IpAddr::V6(v6) => {
            let n = u128::from(v6);
            ((n >> 64) as u64, n as u64)
        }
    }
}

fn proto_number(p: Proto) -> u8 {
    match p {
        Proto::Tcp => 6,
        Proto::Udp => 17,
        Proto::Icmp => 1,
        Proto::Icmpv6 => 58,
        Proto::Other(n) => n,
        Proto::Unknown => 255,
    }
}

impl FlowKey {
    /// The key and whether the packet's sender is side `a`. Always inlined into the read
    /// loop, like the rest of a packet's path (see [`FlowTable::packet_prepared`]).
    ///
    /// Which side is `a` depends on the traffic, not on anything a branch predictor can learn
    /// (half the packets of a flow go each way): the sides are ordered with comparisons and
    /// masks instead of a branch, which callgrind's branch simulation counted as mispredicted
    /// on half the packets.
    #[inline(always)]
    fn of(p: &Packet) -> (FlowKey, bool) {
        let tail = u64::from(proto_number(p.proto)) << 8 | u64::from(p.src.is_ipv6());
        let (s, d) = (words(p.src), words(p.dst));
        let (sw, dw) = (
            u128::from(s.0) << 64 | u128::from(s.1),
            u128::from(d.0) << 64 | u128::from(d.1),
        );
        // (s, src_port) <= (d, dst_port), without short-circuits.
        let from_a = (sw < dw) | ((sw == dw) & (p.src_port <= p.dst_port));
        let m = u64::from(from_a).wrapping_neg();
        let pick = |x: u64, y: u64| (x & m) | (y & !m);
        let (sp, dp) = (u64::from(p.src_port), u64::from(p.dst_port));
        let ports = pick(sp << 32 | dp << 16, dp << 32 | sp << 16);
        let key = FlowKey([
            pick(s.0, d.0),
            pick(s.1, d.1),
            pick(d.0, s.0),
            pick(d.1, s.1),
            ports | tail,
        ]);
        (key, from_a)
    }

    fn addr(&self, hi: usize) -> IpAddr {
        let (h, l) = (self.0[hi], self.0[hi + 1]);
        if self.0[4] & 1 == 1 {
            IpAddr::V6(std::net::Ipv6Addr::from(
                u128::from(h) << 64 | u128::from(l),
            ))
        } else {
            IpAddr::V4(std::net::Ipv4Addr::from(l as u32))
        }
    }
    fn a(&self) -> IpAddr {
        self.addr(0)
    }
    fn b(&self) -> IpAddr {
        self.addr(2)
    }
    fn a_port(&self) -> u16 {
        (self.0[4] >> 32) as u16
    }
    fn b_port(&self) -> u16 {
        (self.0[4] >> 16) as u16
    }
    fn proto(&self) -> u8 {
        (self.0[4] >> 8) as u8
    }
}

/// State bits of one flow.
mod st {
    /// Initiator's SYN seen.
    pub const SYN: u8 = 0x01;
    /// Responder's SYN-ACK seen.
    pub const SYNACK: u8 = 0x02;
    /// Handshake completed (TCP) / responder answered (UDP, ICMP).
    pub const EST: u8 = 0x04;
    pub const FIN_I: u8 = 0x08;
    pub const FIN_R: u8 = 0x10;
    pub const RST: u8 = 0x20;
    /// Joined mid-stream: no SYN seen, initiator is a guess (the first sender).
    pub const MID: u8 = 0x40;
    /// Closed by FIN/RST and its end handled (verdict, summary if on); the entry lingers only
    /// to absorb the last ACKs without creating a mid-stream flow.
    pub const DONE: u8 = 0x80;
}

/// Bits of [`Entry::marks`].
mod mark {
    /// `ConnFailed` was emitted (or withheld) for this attempt at its timeout.
    pub const FAILED: u8 = 0x01;
    /// The initiator acknowledged a SYN-ACK the capture never carried. Unless the responder
    /// was heard too (see [`super::Entry::answer_unseen`]), the answers take a path the
    /// capture does not see (split routing, a span port missing an uplink), were dropped, or
    /// the initiator sent the ACK itself to pass for answered.
    pub const ACKED_UNSEEN: u8 = 0x02;
    /// A packet from the responder was seen: its path is captured (a scanner's own ACK cannot
    /// hide the reset its probe drew).
    pub const HEARD_RESPONDER: u8 = 0x04;
}

const NIL: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct Entry {
    key: FlowKey,
    /// The key's tag in the index ([`SlotIndex::tag`] of its hash): removing the flow finds
    /// its cell without hashing the key again (it fits in the entry's padding).
    tag: u32,
    /// Time of the last packet (exact: it stamps the flow's summary and verdict).
    last: Timestamp,
    packets: u64,
    bytes: u64,
    prev: u32,
    next: u32,
    state: u8,
    /// The initiator is side `a` of the key.
    init_is_a: bool,
    /// What is known about the attempt's verdict, beside the TCP `state` (bits of [`mark`]).
    marks: u8,
    /// Creation time in microseconds: tells a pending attempt-timeout check whether its slot
    /// still holds the same flow.
    born_us: i64,
    /// When the entry was last moved to the list's tail (microseconds); see `relink_us`.
    listed_us: i64,
}

impl Entry {
    /// Ended now, this flow would be owed a `ConnFailed` verdict: an attempt never answered,
    /// not joined mid-stream, not judged yet.
    fn owes_verdict(&self) -> bool {
        self.marks & mark::FAILED == 0 && self.state & (st::EST | st::MID) == 0
    }

    /// The initiator went on as if answered and nothing from the responder was captured.
    /// Counted; the verdict is `answer_unseen`, or none when the site trusts such initiators.
    fn answer_unseen(&self) -> bool {
        self.marks & (mark::ACKED_UNSEEN | mark::HEARD_RESPONDER) == mark::ACKED_UNSEEN
    }
}

/// Why a flow summary was emitted; goes into `Observation.note`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// Both sides sent FIN.
    Fin,
    /// Either side sent RST.
    Rst,
    /// No packet for the idle timeout.
    Idle,
    /// Evicted to make room (table full).
    Evicted,
    /// End of input ([`FlowTable::flush`]).
    End,
}

/// `note` strings: "<established|attempt|midstream>:<reason>". Static so flows never allocate.
fn note(state: u8, why: EndReason) -> &'static str {
    let s = if state & st::EST != 0 {
        0
    } else if state & st::MID != 0 {
        2
    } else {
        1
    };
    const T: [[&str; 5]; 3] = [
        [
            "established:fin",
            "established:rst",
            "established:idle",
            "established:evicted",
            "established:end",
        ],
        [
            "attempt:fin",
            "attempt:rst",
            "attempt:idle",
            "attempt:evicted",
            "attempt:end",
        ],
        [
            "midstream:fin",
            "midstream:rst",
            "midstream:idle",
            "midstream:evicted",
            "midstream:end",
        ],
    ];
    let r = match why {
        EndReason::Fin => 0,
        EndReason::Rst => 1,
        EndReason::Idle => 2,
        EndReason::Evicted => 3,
        EndReason::End => 4,
    };
    T[s][r]
}

/// Counters of the flow table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableStats {
    /// Flows currently in the table (including closed ones lingering).
    pub live: u64,
    /// Flows ever created.
    pub created: u64,
    /// Flows removed after the idle timeout.
    pub expired_idle: u64,
    /// Flows evicted because the table was full (oldest first).
    pub evicted_full: u64,
    /// TCP segments that matched no flow and could not start one (stray RST, ...).
    pub stray: u64,
    /// Attempts left without an `unanswered` verdict because the link looked one-way then
    /// (see [`super::one_way`]).
    pub unjudged_one_way: u64,
    /// TCP attempts whose initiator went on as if answered while no answer was captured
    /// (split routing, or a scanner's own ACK; see `Entry::answer_unseen`). Judged
    /// (`answer_unseen`) unless `FlowSettings::trust_unseen_answers`.
    pub answer_unseen: u64,
    /// The link looks one-way now: unanswered attempts are not judged.
    pub one_way: bool,
}

/// Bounded flow table.
pub struct FlowTable {
    /// Index from key hash to slab slot (the key lives in the slab): usually one cache line
    /// per lookup, which can be loaded ahead of time (see `prefetch_removal`).
    map: SlotIndex,
    hasher: foldhash::fast::RandomState,
    slab: Vec<Entry>,
    free: Vec<u32>,
    head: u32,
    tail: u32,
    cap: usize,
    idle_us: i64,
    /// Attempts still waiting for an answer, oldest first: (slot, born_us). Judged once they
    /// are `attempt_us` old; at most `cap` are kept (a flow whose check was dropped gets its
    /// verdict when it ends).
    attempts: VecDeque<(u32, i64)>,
    attempt_us: i64,
    /// A packet moves its flow to the LRU tail only when the flow was last moved at least
    /// this long ago: moving touches two neighbouring entries (cache misses), and most flows
    /// see all their packets within a millisecond. The list stays ordered by the time of the
    /// move, every flow's last packet is less than this after it, so idle expiry runs at most
    /// this late and eviction picks a flow idle within this of the least recent.
    relink_us: i64,
    /// Flows closed by FIN or RST, in closing order: (slot, born_us, closed_us). Each lingers
    /// [`CLOSE_LINGER_US`] after its last packet to absorb the final ACKs and retransmissions,
    /// then leaves the table, so a busy edge does not hold every finished connection for the
    /// whole idle timeout.
    closing: VecDeque<(u32, i64, i64)>,
    /// Data time of the last look at the timeouts (microseconds).
    checked_us: i64,
    /// Withholds `unanswered` verdicts while the capture shows no answers at all.
    one_way: OneWayGuard,
    /// Campus networks: only campus initiators feed the one-way guard (all when `None`).
    campus: Option<crate::inventory::Campus>,
    /// Emit `Flow` summaries (see `FlowSettings::summaries`).
    summaries: bool,
    /// See `FlowSettings::trust_unseen_answers`.
    trust_unseen_answers: bool,
    stats: TableStats,
}

/// `Entry::born_us` of a slot on the free list.
const FREE: i64 = i64::MIN;

/// Flows the index has room for before it first grows (growing re-places every live flow;
/// a busy edge reaches this many within seconds).
const INDEX_RESERVE: usize = 1 << 16;

/// How many closed flows ahead [`FlowTable::prefetch_removal`] starts loading.
const REMOVAL_AHEAD: usize = 8;

/// Timeouts are looked at no more often than this (microseconds of data time).
const EXPIRY_CHECK_US: i64 = 10_000;

/// How long a closed flow lingers after its last packet (as Zeek's `tcp_close_delay`).
const CLOSE_LINGER_US: i64 = 5_000_000;

impl FlowTable {
    /// `cap` flows at most (at least 1); a flow is dropped after `idle` without packets.
    pub fn new(cap: usize, idle: std::time::Duration) -> FlowTable {
        let cap = cap.clamp(1, NIL as usize - 1);
        let idle_us = i64::try_from(idle.as_micros()).unwrap_or(i64::MAX);
        FlowTable {
            map: SlotIndex::with_capacity(cap.min(INDEX_RESERVE)),
            hasher: foldhash::fast::RandomState::default(),
            slab: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            cap,
            idle_us,
            attempts: VecDeque::new(),
            attempt_us: 5_000_000,
            relink_us: (idle_us / 4).min(1_000_000),
            closing: VecDeque::new(),
            checked_us: i64::MIN,
            one_way: OneWayGuard::default(),
            campus: None,
            summaries: true,
            trust_unseen_answers: false,
            stats: TableStats::default(),
        }
    }

    /// An attempt (TCP SYN, UDP or ICMP query) with no answer after `d` gets its
    /// `ConnFailed` verdict then, instead of waiting for the flow to idle out.
    pub fn with_attempt_timeout(mut self, d: std::time::Duration) -> FlowTable {
        self.attempt_us = i64::try_from(d.as_micros()).unwrap_or(i64::MAX).max(1);
        self
    }

    /// Only attempts by hosts in `campus` can make the capture look one-way (see
    /// [`super::one_way`]); without it, every initiator's can.
    pub fn with_campus(mut self, campus: Option<crate::inventory::Campus>) -> FlowTable {
        self.campus = campus;
        self
    }

    /// Without summaries, a flow's end emits only the `ConnFailed` verdict it may be owed.
    pub fn with_summaries(mut self, on: bool) -> FlowTable {
        self.summaries = on;
        self
    }

    /// With `on`, an attempt whose initiator acknowledged an answer the capture never carried
    /// gets no verdict (see `Entry::answer_unseen`); without, it is judged like any other.
    pub fn trusting_unseen_answers(mut self, on: bool) -> FlowTable {
        self.trust_unseen_answers = on;
        self
    }

    /// Count an attempt for the one-way guard, if its initiator is a campus host. Kept out of
    /// line: on a two-way link answers keep coming and this is rarely reached.
    #[cold]
    #[inline(never)]
    fn one_way_attempt(&mut self, key: &FlowKey, init_is_a: bool, now_us: i64) {
        let w = if init_is_a { 0 } else { 2 };
        if let Some(c) = &self.campus
            && !c.contains(key.addr(w))
        {
            return;
        }
        // The initiator's address, folded to one word.
        self.one_way
            .attempt(now_us, key.0[w].rotate_left(32) ^ key.0[w + 1]);
    }

    /// Withhold an `unanswered` verdict on an attempt born at `born_us`? Only while the
    /// capture looks one-way, and only for attempts made since the last answer anywhere.
    fn withhold(&self, born_us: i64) -> bool {
        self.one_way.one_way() && self.one_way.quiet_since().is_some_and(|t| born_us >= t)
    }

    pub fn stats(&self) -> TableStats {
        let mut s = self.stats;
        s.live = self.map.len() as u64;
        s.one_way = self.one_way.one_way();
        s
    }

    /// Tracking a packet, first half: its flow key and hash, and a prefetch of the index cell
    /// its lookup reads. A caller holding packets back a few frames (see
    /// [`crate::flow::FlowEngine::packet_ahead`]) lets that cache miss resolve meanwhile;
    /// [`crate::flow::FlowEngine::packet`] goes straight on to the second half.
    #[inline(always)]
    pub(crate) fn prepare(&self, p: &Packet) -> Prepared {
        let (key, from_a) = FlowKey::of(p);
        let hash = self.hasher.hash_one(key);
        self.map.prefetch(hash);
        Prepared { key, from_a, hash }
    }

    /// Between the halves, once the index cell has had time to arrive: start loading the
    /// entry it points to. On a real link a flow's packets are far apart, so the entry (104
    /// bytes, two or three cache lines) is cold for nearly every packet. Not when the packet
    /// just before it is of the same flow (the same hash): tracking that one loads the entry.
    /// Only the tag is compared, so a rare other key's entry may be loaded instead; a hint
    /// only, it changes nothing.
    #[inline(always)]
    pub(crate) fn prefetch_entry(&self, prep: &Prepared, before: Option<&Prepared>) {
        if before.is_some_and(|b| b.hash == prep.hash) {
            return;
        }
        if let Some(i) = self.map.find(prep.hash, |_| true)
            && let Some(e) = self.slab.get(i as usize)
        {
            crate::hint::prefetch_lines(e);
        }
    }

    /// Tracking a packet, second half: track the packet prepared by [`Self::prepare`], taken
    /// at `ts`; emit what it completes. Inlined into the read loop with
    /// [`crate::flow::FlowEngine::packet`] and `packet_ahead`.
    #[inline(always)]
    pub(crate) fn packet_prepared(
        &mut self,
        ts: Timestamp,
        p: &Packet,
        prep: &Prepared,
        out: &mut impl FnMut(&Observation<'static>),
    ) {
        let now = ts.as_microsecond();
        self.expire(now, out);
        let &Prepared { key, from_a, hash } = prep;
        let slab = &self.slab;
        match self.map.find(hash, |i| slab[i as usize].key == key) {
            Some(i) => self.update(i, ts, now, p, from_a, out),
            None => self.start(key, SlotIndex::tag(hash), ts, now, p, from_a, out),
        }
    }

    /// Emit summaries (and owed verdicts) for every flow still open and empty the table (end
    /// of a replay).
    pub fn flush(&mut self, out: &mut impl FnMut(&Observation<'static>)) {
        // In the order of their last packets (the time their summaries carry), then drop
        // everything at once (no per-entry map removal). The order comes from reading the
        // slab front to back and sorting, not from walking the LRU list: that walk is a chain
        // of dependent cache misses, one per flow, and was a twentieth of a replay's time.
        let mut open: Vec<(Timestamp, u32)> = self
            .slab
            .iter()
            .zip(0u32..)
            .filter(|(e, _)| {
                e.born_us != FREE && e.state & st::DONE == 0 && (self.summaries || e.owes_verdict())
            })
            .map(|(e, i)| (e.last, i))
            .collect();
        open.sort_unstable();
        for (n, &(_, i)) in open.iter().enumerate() {
            if let Some(&(_, ahead)) = open.get(n + REMOVAL_AHEAD) {
                crate::hint::prefetch_lines(&self.slab[ahead as usize]);
            }
            self.end_of_flow(i, EndReason::End, out);
        }
        self.attempts.clear();
        self.closing.clear();
        self.map.clear();
        self.slab.clear();
        self.free.clear();
        self.head = NIL;
        self.tail = NIL;
    }

    /// Inlined into the read loop (the check is per packet); the work, once per 10 ms of
    /// data time, is not.
    #[inline(always)]
    fn expire(&mut self, now: i64, out: &mut impl FnMut(&Observation<'static>)) {
        // Every timeout is a second or more: looking at the queues once per 10 ms of data
        // time is as good as per packet, for a fraction of the work. (Time running backwards,
        // an out-of-order capture, looks at once.)
        if (0..EXPIRY_CHECK_US).contains(&now.saturating_sub(self.checked_us)) {
            return;
        }
        self.expire_due(now, out);
    }

    #[inline(never)]
    fn expire_due(&mut self, now: i64, out: &mut impl FnMut(&Observation<'static>)) {
        self.checked_us = now;
        while self.head != NIL {
            let h = self.head as usize;
            let last = self.slab[h].last.as_microsecond();
            if now.saturating_sub(last) <= self.idle_us {
                break;
            }
            self.stats.expired_idle += 1;
            self.remove(self.head, EndReason::Idle, out);
        }
        let linger = CLOSE_LINGER_US.min(self.idle_us);
        while let Some(&(i, born, closed)) = self.closing.front() {
            if now.saturating_sub(closed) <= linger {
                break;
            }
            self.prefetch_removal(
                self.closing.get(REMOVAL_AHEAD).map(|c| c.0),
                self.closing.get(REMOVAL_AHEAD / 2).map(|c| c.0),
            );
            self.closing.pop_front();
            let e = &self.slab[i as usize];
            if e.born_us != born || e.state & st::DONE == 0 {
                continue; // freed or reused since
            }
            let last = e.last.as_microsecond();
            if now.saturating_sub(last) <= linger {
                // A late packet: linger from that one.
                self.closing.push_back((i, born, last));
            } else {
                self.remove(i, EndReason::Fin, out); // summarized already: removes silently
            }
        }
        while let Some(&(i, born)) = self.attempts.front() {
            if now.saturating_sub(born) <= self.attempt_us {
                break;
            }
            // Runs of attempts come due together: load the entry a few checks ahead.
            if let Some(&(a, _)) = self.attempts.get(REMOVAL_AHEAD) {
                crate::hint::prefetch_lines(&self.slab[a as usize]);
            }
            self.attempts.pop_front();
            let e = &mut self.slab[i as usize];
            // The slot may since have been freed or reused: judge only the same flow, still
            // unanswered and still open.
            if e.born_us == born && e.owes_verdict() && e.state & st::DONE == 0 {
                e.marks |= mark::FAILED;
                self.judge(i, out);
            }
        }
    }

    /// Flows leave the closing queue in runs (one run per expiry check): while removing one,
    /// start loading what removing later ones will touch. `far`'s entry first; `near`'s entry
    /// was loaded that way a few removals ago, so its index line and list neighbours can be
    /// found now.
    #[inline]
    fn prefetch_removal(&self, far: Option<u32>, near: Option<u32>) {
        if let Some(i) = far {
            crate::hint::prefetch(&self.slab[i as usize]);
        }
        if let Some(i) = near {
            let e = &self.slab[i as usize];
            self.map.prefetch_tagged(e.tag);
            for n in [e.prev, e.next] {
                if n != NIL {
                    crate::hint::prefetch(&self.slab[n as usize]);
                }
            }
        }
    }

    /// What flow `i` ending for `why` emits: its summary (if summaries are on), and before it
    /// the `ConnFailed` verdict if it ends as an attempt (never answered, not joined
    /// mid-stream) without one.
    fn end_of_flow(&mut self, i: u32, why: EndReason, out: &mut impl FnMut(&Observation<'static>)) {
        if self.slab[i as usize].owes_verdict() {
            self.judge(i, out);
        }
        if !self.summaries {
            return;
        }
        let e = &self.slab[i as usize];
        let mut o = self.flow_obs(e, e.last, ObsKind::Flow);
        o.note = Some(Cow::Borrowed(note(e.state, why)));
        out(&o);
    }

    /// Attempt `i`'s `ConnFailed` verdict — unless nothing ever answered it (no reset, no
    /// SYN-ACK) while the link looks one-way: then it is counted as unjudged instead.
    fn judge(&mut self, i: u32, out: &mut impl FnMut(&Observation<'static>)) {
        let e = &self.slab[i as usize];
        if e.answer_unseen() {
            // Answered where the capture cannot see, says the initiator (whose own reset or
            // FIN may have ended it since): counted; judged as any other unless trusted.
            self.stats.answer_unseen += 1;
            if self.trust_unseen_answers {
                return;
            }
        }
        if e.state & (st::RST | st::SYNACK) == 0 && self.withhold(e.born_us) {
            self.stats.unjudged_one_way += 1;
        } else {
            out(&self.failed_obs(e));
        }
    }

    /// The `ConnFailed` verdict on attempt `e`: refused (reset), half-open (SYN-ACK but no
    /// handshake) or unanswered.
    fn failed_obs(&self, e: &Entry) -> Observation<'static> {
        let mut o = self.flow_obs(e, e.last, ObsKind::ConnFailed);
        o.note = Some(Cow::Borrowed(if e.answer_unseen() {
            // The initiator went on as if answered; nothing came back that the capture saw.
            "answer_unseen"
        } else if e.state & st::RST != 0 {
            "refused"
        } else if e.state & st::SYNACK != 0 {
            // Answered, but the initiator never completed the handshake: a SYN scanner
            // that drops its own resets, or a capture that missed the rest.
            "half_open"
        } else {
            "unanswered"
        }));
        o
    }

    /// A packet that matches no flow: start one, filed in the index under `tag` (the
    /// caller hashed the key already).
    #[allow(clippy::too_many_arguments)]
    fn start(
        &mut self,
        key: FlowKey,
        tag: u32,
        ts: Timestamp,
        now: i64,
        p: &Packet,
        from_a: bool,
        out: &mut impl FnMut(&Observation<'static>),
    ) {
        let (state, attempt) = match p.proto {
            Proto::Tcp => {
                let f = p.flags;
                if f & tcp_flags::RST != 0 {
                    // Nothing to track: a reset for a connection we never saw.
                    self.stats.stray += 1;
                    return;
                }
                if f & tcp_flags::SYN != 0 && f & tcp_flags::ACK == 0 {
                    (st::SYN, true)
                } else if f & tcp_flags::SYN != 0 {
                    // SYN-ACK without the SYN: the receiver is the initiator.
                    (st::MID | st::SYN | st::SYNACK, false)
                } else {
                    (st::MID, false)
                }
            }
            Proto::Icmp | Proto::Icmpv6 => match p.icmp {
                Some((ty, _)) if is_icmp_query(p.proto, ty) => (0, true),
                // Replies to queries we never saw and errors: nothing to track.
                _ => return,
            },
            _ => (0, true),
        };
        if self.map.len() >= self.cap && self.head != NIL {
            self.stats.evicted_full += 1;
            self.remove(self.head, EndReason::Evicted, out);
        }
        // A SYN-ACK's receiver initiated the connection.
        let init_is_a = if p.proto == Proto::Tcp && state & st::SYNACK != 0 {
            !from_a
        } else {
            from_a
        };
        let e = Entry {
            key,
            tag,
            last: ts,
            packets: 1,
            bytes: u64::from(p.ip_len),
            prev: NIL,
            next: NIL,
            state,
            init_is_a,
            marks: 0,
            born_us: now,
            listed_us: now,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.slab[i as usize] = e;
                i
            }
            None => {
                self.slab.push(e);
                (self.slab.len() - 1) as u32
            }
        };
        self.map.insert_tagged(tag, i);
        self.link_tail(i);
        self.stats.created += 1;
        if attempt {
            if self.one_way.quiet(now) {
                self.one_way_attempt(&key, init_is_a, now);
            }
            if self.attempts.len() >= self.cap {
                self.attempts.pop_front();
            }
            self.attempts.push_back((i, now));
            let mut o = packet_obs(ts, ObsKind::ConnAttempt, p);
            o.packets = 1;
            o.bytes = u64::from(p.ip_len);
            out(&o);
        }
    }

    /// A packet of a known flow: the common case, always inlined into the read loop (its one
    /// caller). Left to itself LLVM inlines it or not depending on unrelated code; out of
    /// line, a replay ran 1.6 % more instructions (callgrind), and with `FlowKey::of` and the
    /// idle check out of line too, 6 % more.
    #[inline(always)]
    fn update(
        &mut self,
        i: u32,
        ts: Timestamp,
        now: i64,
        p: &Packet,
        from_a: bool,
        out: &mut impl FnMut(&Observation<'static>),
    ) {
        if self.tail != i && now - self.slab[i as usize].listed_us >= self.relink_us {
            self.unlink(i);
            self.link_tail(i);
            self.slab[i as usize].listed_us = now;
        }
        let e = &self.slab[i as usize];
        let from_init = from_a == e.init_is_a;
        if !from_init && e.state & st::MID == 0 {
            // An answer to an attempt we saw: the capture carries both directions.
            self.one_way.answer(now);
        }
        let e = &mut self.slab[i as usize];
        if e.state & st::MID != 0
            && e.marks & mark::HEARD_RESPONDER == 0
            && p.proto == Proto::Tcp
            && p.flags & (tcp_flags::SYN | tcp_flags::ACK | tcp_flags::RST) == tcp_flags::SYN
        {
            // A bare SYN on a flow "joined mid-stream" that only one side has spoken on: what
            // came before (a stray segment, or an ACK sent ahead to keep the SYN from counting
            // as an attempt) was no connection; this is one.
            self.restart(i, ts, now, p, from_a, out);
            return;
        }
        if e.state & st::DONE != 0 {
            if p.proto == Proto::Tcp
                && p.flags & tcp_flags::SYN != 0
                && p.flags & tcp_flags::ACK == 0
            {
                // Port reuse: a new connection on a closed 5-tuple.
                self.restart(i, ts, now, p, from_a, out);
                return;
            }
            e.last = ts;
            return;
        }
        e.last = ts;
        e.packets += 1;
        e.bytes += u64::from(p.ip_len);
        let before = e.state;
        match p.proto {
            Proto::Tcp => {
                let f = p.flags;
                if from_init {
                    if f & tcp_flags::ACK != 0
                        && f & tcp_flags::SYN == 0
                        && e.state & st::SYNACK != 0
                        && e.state & st::RST == 0
                    {
                        e.state |= st::EST;
                    }
                    // An ACK (without SYN or RST) from an initiator whose SYN drew no captured
                    // answer at all: a stack only sends it after a SYN-ACK, so the answer came
                    // by another path. Not a handshake seen, so not `ConnEstablished` (which
                    // detectors take as proof that the source is real).
                    if f & (tcp_flags::ACK | tcp_flags::SYN | tcp_flags::RST) == tcp_flags::ACK
                        && e.state & (st::SYNACK | st::MID) == 0
                    {
                        e.marks |= mark::ACKED_UNSEEN;
                    }
                    if f & tcp_flags::FIN != 0 {
                        e.state |= st::FIN_I;
                    }
                } else {
                    e.marks |= mark::HEARD_RESPONDER;
                    if f & tcp_flags::SYN != 0 && f & tcp_flags::ACK != 0 {
                        e.state |= st::SYNACK;
                    }
                    if f & tcp_flags::FIN != 0 {
                        e.state |= st::FIN_R;
                    }
                }
                if f & tcp_flags::RST != 0 {
                    e.state |= st::RST;
                }
                // A mid-stream flow with data both ways is as good as established for
                // summaries, but never emits ConnEstablished (no handshake was seen).
            }
            _ => {
                if !from_init && e.state & st::EST == 0 {
                    e.state |= st::EST;
                }
            }
        }
        // EST is only ever set for TCP after a SYN-ACK was seen, so a mid-stream flow
        // caught at its SYN-ACK still proves its initiator real.
        if before & st::EST == 0 && e.state & st::EST != 0 {
            let e = &self.slab[i as usize];
            let mut o = self.flow_obs(e, ts, ObsKind::ConnEstablished);
            o.icmp = p.icmp;
            out(&o);
        }
        let e = &self.slab[i as usize];
        let end = if e.state & st::RST != 0 {
            Some(EndReason::Rst)
        } else if e.state & (st::FIN_I | st::FIN_R) == st::FIN_I | st::FIN_R {
            Some(EndReason::Fin)
        } else {
            None
        };
        if let Some(why) = end {
            self.end_of_flow(i, why, out);
            let e = &mut self.slab[i as usize];
            e.state |= st::DONE;
            if self.closing.len() >= self.cap {
                self.closing.pop_front(); // its flow idles out instead
            }
            self.closing.push_back((i, e.born_us, now));
        }
    }

    /// The packet `p` starts a new flow on flow `i`'s 5-tuple: free `i` and start afresh.
    fn restart(
        &mut self,
        i: u32,
        ts: Timestamp,
        now: i64,
        p: &Packet,
        from_a: bool,
        out: &mut impl FnMut(&Observation<'static>),
    ) {
        let e = &self.slab[i as usize];
        let (key, tag) = (e.key, e.tag);
        self.free_entry(i);
        self.start(key, tag, ts, now, p, from_a, out);
    }

    fn flow_obs(&self, e: &Entry, ts: Timestamp, kind: ObsKind) -> Observation<'static> {
        let k = &e.key;
        let (src, sp, dst, dp) = if e.init_is_a {
            (k.a(), k.a_port(), k.b(), k.b_port())
        } else {
            (k.b(), k.b_port(), k.a(), k.a_port())
        };
        let mut o = Observation::new(ts, kind, "");
        o.from_packets = true;
        o.src = Some(src);
        o.dst = Some(dst);
        o.proto = Proto::from_number(k.proto());
        if matches!(o.proto, Proto::Tcp | Proto::Udp) {
            o.src_port = Some(sp);
            o.dst_port = Some(dp);
        }
        o.packets = e.packets;
        o.bytes = e.bytes;
        o
    }

    /// Remove entry `i`, emitting its summary unless one was already emitted.
    fn remove(&mut self, i: u32, why: EndReason, out: &mut impl FnMut(&Observation<'static>)) {
        if self.slab[i as usize].state & st::DONE == 0 {
            self.end_of_flow(i, why, out);
        }
        self.unlink(i);
        self.free_entry(i);
    }

    /// Drop `i` from the LRU list, the map, and put its slot on the free list.
    fn free_entry(&mut self, i: u32) {
        // `unlink` is a no-op on an entry that is not linked.
        self.unlink(i);
        let filed = self.map.remove_tagged(self.slab[i as usize].tag, i);
        debug_assert!(filed, "a live flow is always indexed");
        // A free slot matches no pending attempt or closing check (their `born_us` differs),
        // so a flow already removed is neither judged nor freed a second time.
        self.slab[i as usize].born_us = FREE;
        self.free.push(i);
    }

    fn unlink(&mut self, i: u32) {
        let (prev, next) = {
            let e = &self.slab[i as usize];
            (e.prev, e.next)
        };
        if prev != NIL {
            self.slab[prev as usize].next = next;
        } else if self.head == i {
            self.head = next;
        }
        if next != NIL {
            self.slab[next as usize].prev = prev;
        } else if self.tail == i {
            self.tail = prev;
        }
        let e = &mut self.slab[i as usize];
        e.prev = NIL;
        e.next = NIL;
    }

    fn link_tail(&mut self, i: u32) {
        let t = self.tail;
        {
            let e = &mut self.slab[i as usize];
            e.prev = t;
            e.next = NIL;
        }
        if t != NIL {
            self.slab[t as usize].next = i;
        } else {
            self.head = i;
        }
        self.tail = i;
    }
}

/// ICMP types that ask for an answer (and so start a "connection"): echo, timestamp,
/// information and address-mask requests; ICMPv6 echo request.
fn is_icmp_query(proto: Proto, ty: u8) -> bool {
    match proto {
        Proto::Icmp => matches!(ty, 8 | 13 | 15 | 17),
        Proto::Icmpv6 => ty == 128,
        _ => false,
    }
}

/// An observation of a single packet (sender → receiver).
fn packet_obs(ts: Timestamp, kind: ObsKind, p: &Packet) -> Observation<'static> {
    let mut o = Observation::new(ts, kind, "");
    o.from_packets = true;
    o.src = Some(p.src);
    o.dst = Some(p.dst);
    o.proto = p.proto;
    o.icmp = p.icmp;
    if matches!(p.proto, Proto::Tcp | Proto::Udp) {
        o.src_port = Some(p.src_port);
        o.dst_port = Some(p.dst_port);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn addr(v6: bool, hi: u64, lo: u32) -> IpAddr {
        if v6 {
            IpAddr::V6(std::net::Ipv6Addr::from(
                u128::from(hi) << 64 | u128::from(lo),
            ))
        } else {
            IpAddr::V4(std::net::Ipv4Addr::from(lo))
        }
    }

    proptest! {
        /// The branch-free ordering of a key's sides is the plain one: `a` is the smaller
        /// (address, port) end, and both directions of a flow give the same key.
        #[test]
        fn a_flow_key_orders_its_sides_as_the_tuple_comparison_does(
            v6 in any::<bool>(),
            (sh, dh) in (0u64..3, 0u64..3),
            (sl, dl) in (0u32..4, 0u32..4),
            (sp, dp) in (0u16..3, 0u16..3),
        ) {
            let p = Packet {
                src: addr(v6, sh, sl),
                dst: addr(v6, dh, dl),
                proto: Proto::Tcp,
                src_port: sp,
                flags: 0,
                dst_port: dp,
                icmp: None,
                ip_len: 40,
            };
            let back = Packet { src: p.dst, dst: p.src, src_port: dp, dst_port: sp, ..p };
            let (k, from_a) = FlowKey::of(&p);
            let (kb, back_from_a) = FlowKey::of(&back);
            prop_assert_eq!(from_a, (words(p.src), sp) <= (words(p.dst), dp));
            prop_assert!(k == kb);
            prop_assert_eq!(from_a && back_from_a, (p.src, sp) == (p.dst, dp));
            let (a, b) = if from_a { (p.src, p.dst) } else { (p.dst, p.src) };
            prop_assert_eq!((k.a(), k.b()), (a, b));
        }
    }
}
