//! Observations leave the thread that runs the flow engine in batches: one channel send per
//! [`BATCH`] records instead of one per record, so a capture thread and the detector thread
//! meet a few hundred times per million packets instead of once per packet.
//!
//! A batch holds [`PacketRecord`]s, not [`Observation`]s: what a packet observation carries,
//! in under half the room, copied without branches (cloning observations into batches was an
//! eighth of the reader thread's time).
//!
//! Pure: the caller's `sink` does the sending; the caller decides when a partial batch must
//! go (a live capture flushes on a wall-clock tick so a quiet link never holds evidence back).
use crate::model::{ObsKind, Observation, Proto};
use jiff::Timestamp;
use std::borrow::Cow;
use std::net::IpAddr;

/// One flow-engine observation in transit between threads. The flow engine fills only these
/// fields (no user, signature or raw text; its notes are static strings), so
/// [`PacketRecord::observation`] gives back the observation it was made from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PacketRecord {
    pub time: Timestamp,
    pub kind: ObsKind,
    pub proto: Proto,
    pub icmp: Option<(u8, u8)>,
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    pub src_port: Option<u16>,
    pub dst_port: Option<u16>,
    pub packets: u64,
    pub bytes: u64,
    pub note: Option<&'static str>,
}

impl PacketRecord {
    /// From one of the flow engine's observations. Fields the engine never fills are not
    /// carried (checked in debug builds).
    pub fn new(o: &Observation<'static>) -> Self {
        debug_assert!(
            o.from_packets && o.user.is_none() && o.signature.is_none() && o.raw.is_empty(),
            "not a flow-engine observation: {o:?}"
        );
        let note = match &o.note {
            Some(Cow::Borrowed(s)) => Some(*s),
            Some(Cow::Owned(_)) => {
                debug_assert!(false, "flow-engine notes are static");
                None
            }
            None => None,
        };
        PacketRecord {
            time: o.time,
            kind: o.kind,
            proto: o.proto,
            icmp: o.icmp,
            src: o.src,
            dst: o.dst,
            src_port: o.src_port,
            dst_port: o.dst_port,
            packets: o.packets,
            bytes: o.bytes,
            note,
        }
    }

    /// The observation this record was made from.
    pub fn observation(&self) -> Observation<'static> {
        let mut o = Observation::new(self.time, self.kind, "");
        o.from_packets = true;
        o.proto = self.proto;
        o.icmp = self.icmp;
        o.src = self.src;
        o.dst = self.dst;
        o.src_port = self.src_port;
        o.dst_port = self.dst_port;
        o.packets = self.packets;
        o.bytes = self.bytes;
        o.note = self.note.map(Cow::Borrowed);
        o
    }
}

/// Records per batch: large enough that hand-offs are rare, small enough (about 100 KB) that
/// a batch is still in cache when the other thread reads it.
pub const BATCH: usize = 1024;

/// Where full batches go: takes a batch and gives back a spare empty one to fill next (`None`
/// to allocate one), or `Err(())` when its consumer is gone. Any such closure is one.
pub trait BatchSink: FnMut(Vec<PacketRecord>) -> Result<Option<Vec<PacketRecord>>, ()> {}

impl<F> BatchSink for F where F: FnMut(Vec<PacketRecord>) -> Result<Option<Vec<PacketRecord>>, ()> {}

/// Collects observations and hands full batches to `sink`.
///
/// `sink` gets the batch and returns a spare empty vector to fill next (`None` to allocate
/// one), so a consumer that sends emptied batches back makes the steady state allocation-free.
/// A sink that reports the other side gone (`Err(())`) closes the batcher: later records are
/// dropped and [`Batcher::is_closed`] tells the producer it may stop.
pub struct Batcher<S> {
    batch: Vec<PacketRecord>,
    sink: S,
    closed: bool,
    pushed: u64,
}

impl<S: BatchSink> Batcher<S> {
    pub fn new(sink: S) -> Self {
        Batcher {
            batch: Vec::with_capacity(BATCH),
            sink,
            closed: false,
            pushed: 0,
        }
    }

    pub fn push(&mut self, o: &Observation<'static>) {
        if self.closed {
            return;
        }
        self.pushed += 1;
        self.batch.push(PacketRecord::new(o));
        if self.batch.len() >= BATCH {
            self.flush();
        }
    }

    /// Hand on what has been collected, if anything.
    pub fn flush(&mut self) {
        if self.batch.is_empty() || self.closed {
            return;
        }
        let full = std::mem::take(&mut self.batch);
        match (self.sink)(full) {
            Ok(spare) => {
                let mut next = spare.unwrap_or_default();
                next.clear();
                next.reserve(BATCH);
                self.batch = next;
            }
            Err(()) => self.closed = true,
        }
    }

    /// The sink reported its consumer gone.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Observations taken so far (including those not yet flushed).
    pub fn pushed(&self) -> u64 {
        self.pushed
    }

    /// Observations waiting for the next flush.
    pub fn pending(&self) -> usize {
        self.batch.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ObsKind;

    fn obs(i: u64) -> Observation<'static> {
        let mut o = Observation::new(jiff::Timestamp::UNIX_EPOCH, ObsKind::ConnAttempt, "");
        o.from_packets = true;
        o.packets = i;
        o
    }

    #[test]
    fn a_record_gives_back_the_observation_it_was_made_from() {
        let mut o = obs(7);
        o.kind = ObsKind::Flow;
        o.src = Some("10.1.2.3".parse().unwrap());
        o.dst = Some("2001:db8::1".parse().unwrap());
        o.src_port = Some(40000);
        o.dst_port = Some(443);
        o.proto = Proto::Tcp;
        o.bytes = 1500;
        o.note = Some(Cow::Borrowed("established:fin"));
        assert_eq!(PacketRecord::new(&o).observation(), o);
        let mut i = obs(1);
        i.proto = Proto::Icmp;
        i.icmp = Some((8, 0));
        assert_eq!(PacketRecord::new(&i).observation(), i);
    }

    #[test]
    fn full_batches_go_at_once_and_flush_sends_the_rest_in_order() {
        let mut got: Vec<Vec<u64>> = Vec::new();
        let mut b = Batcher::new(|v: Vec<PacketRecord>| {
            got.push(v.iter().map(|o| o.packets).collect());
            Ok(Some(v))
        });
        for i in 0..(BATCH as u64 * 2 + 3) {
            b.push(&obs(i));
        }
        assert_eq!(b.pending(), 3);
        assert_eq!(b.pushed(), BATCH as u64 * 2 + 3);
        b.flush();
        b.flush(); // nothing left: no empty batch
        assert_eq!(b.pending(), 0);
        drop(b);
        assert_eq!(
            got.iter().map(Vec::len).collect::<Vec<_>>(),
            [BATCH, BATCH, 3]
        );
        let all: Vec<u64> = got.concat();
        assert_eq!(all, (0..(BATCH as u64 * 2 + 3)).collect::<Vec<_>>());
    }

    #[test]
    fn a_gone_consumer_closes_the_batcher() {
        let mut sends = 0;
        let mut b = Batcher::new(|_v: Vec<PacketRecord>| {
            sends += 1;
            Err(())
        });
        for i in 0..(BATCH as u64 * 3) {
            b.push(&obs(i));
        }
        assert!(b.is_closed());
        assert_eq!(b.pending(), 0);
        b.flush();
        drop(b);
        assert_eq!(sends, 1);
    }
}
