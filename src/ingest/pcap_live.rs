//! Live packet capture on an interface with libpcap, on its own thread.
//!
//! Design: the capture thread owns both the libpcap handle and a [`FlowEngine`], so a frame is
//! decoded straight out of libpcap's ring buffer and never copied. What leaves the thread are
//! batches of [`PacketRecord`](crate::flow::batch::PacketRecord)s, handed to a
//! caller-supplied sink — typically a bounded channel sender — which may give back an emptied
//! batch to fill next. A batch leaves when it is full, when no packet is waiting (so the end of
//! a burst is never held back by a quiet link), and at least every 100 ms on a link that never
//! goes quiet. When the sink blocks, the kernel buffer fills and libpcap counts the drops;
//! those counters are exported in [`LiveCounters`] and logged whenever they grow.
//!
//! Reads are non-blocking; when nothing is waiting the thread polls the capture's descriptor
//! for up to `READ_TIMEOUT_MS`. (libpcap's own blocking read on Linux, TPACKET_V3 without
//! immediate mode, waits for the next packet however long that takes.)
//!
//! Stop: [`LiveCapture::stop`] sets a flag the loop checks after every read or poll (so within
//! `READ_TIMEOUT_MS`).
//!
//! A read error (the interface removed or reset) is logged and the interface reopened with
//! backoff; [`LiveCounters::up`] and `reopened` tell the metrics. The capture never ends on
//! its own: an edge monitor that stopped silently would be worse than one that says it is
//! blind and keeps trying.

use super::pcap_file::{PcapError, timestamp};
use crate::flow::batch::{BatchSink, Batcher};
use crate::flow::{FlowEngine, FlowSettings, FlowStats, LinkType};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Read timeout and poll timeout: the longest a stop request waits on a silent interface.
const READ_TIMEOUT_MS: i32 = 100;
/// How often kernel/interface drop counters are read.
const STATS_EVERY: Duration = Duration::from_secs(1);
/// On a link that never goes quiet, a partial batch still leaves at least this often.
const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Default snap length. cordon reads headers only (link, QinQ, IPv6 with some extension
/// headers, TCP with options fit well within 256 bytes; the IP header's own length gives the
/// byte counts). Bigger is costly. In immediate mode (TPACKET_V2) libpcap gives every ring
/// slot the snap length, capped at the MTU only on an interface without segmentation offloads
/// (at 64 KiB with them, as on veth and most NICs); on a veth at 5,000 packets/s a 2 MB ring
/// dropped 39 packets at 262144 and none at 256. In the default block mode each packet takes
/// its captured length, so 256 still fits several times more full-size packets.
pub const DEFAULT_SNAPLEN: i32 = 256;

/// Live capture settings (from a `kind = "pcap"` source).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSettings {
    pub interface: String,
    /// BPF filter expression (`tcp or udp or icmp`), if any.
    pub bpf: Option<String>,
    pub snaplen: i32,
    pub promiscuous: bool,
    /// Kernel buffer size in bytes.
    pub buffer_size: Option<i32>,
    /// Deliver packets at once instead of batching (lower latency, more wake-ups).
    pub immediate: bool,
}

impl LiveSettings {
    /// From a source table; `None` when it names no interface.
    pub fn from_source(s: &crate::config::schema::SourceConfig) -> Option<LiveSettings> {
        Some(LiveSettings {
            interface: s.interface.clone()?,
            bpf: s.bpf.clone(),
            snaplen: s.snaplen.unwrap_or(DEFAULT_SNAPLEN),
            promiscuous: s.promiscuous.unwrap_or(true),
            buffer_size: s.buffer_size,
            immediate: s.immediate.unwrap_or(false),
        })
    }
}

/// Counters shared with the capture thread (read them any time, e.g. for /metrics).
#[derive(Debug, Default)]
pub struct LiveCounters {
    /// Frames read from libpcap.
    pub packets: AtomicU64,
    /// Observations the flow engine produced (handed to the sink in batches; those of the
    /// batch being filled are counted already).
    pub observations: AtomicU64,
    /// libpcap `ps_recv`: packets the kernel received on the socket (since the last open).
    pub received: AtomicU64,
    /// libpcap `ps_drop`: dropped because the buffer was full (we were too slow).
    pub dropped: AtomicU64,
    /// libpcap `ps_ifdrop`: dropped by the interface/driver.
    pub if_dropped: AtomicU64,
    /// The interface is open and being read (false while it is being reopened after an error).
    pub up: AtomicBool,
    /// Times the interface was reopened after a read error.
    pub reopened: AtomicU64,
}

/// A running capture.
pub struct LiveCapture {
    stop: Arc<AtomicBool>,
    counters: Arc<LiveCounters>,
    flow: Arc<Mutex<FlowStats>>,
    thread: Option<JoinHandle<()>>,
}

/// An interface opened for capture: non-blocking, filtered, with the descriptor to poll.
struct Opened {
    cap: pcap::Capture<pcap::Active>,
    fd: std::os::fd::RawFd,
    link: LinkType,
}

/// The framing a live capture on `interface` will have, found without opening it (opening
/// may need privileges `check-config` lacks): `any` is Linux cooked v1, as libpcap opens it by
/// default; another interface by its ARP hardware type in `/sys/class/net`, mapped as libpcap
/// maps the common ones (libpcap has exceptions by name, e.g. `isdn*` as cooked). `None` when
/// it cannot be known now (no such interface yet, not Linux, a type not mapped here): the
/// filter is then checked as Ethernet, and opening the capture tells. sysfs is read in
/// check-config's own network namespace, so run it where cordon will run.
pub fn link_type(interface: &str) -> Option<LinkType> {
    if interface == "any" {
        return Some(LinkType::LinuxSll);
    }
    // Only a name the kernel could have is looked up: it is one path component.
    if !crate::config::validate::is_interface_name(interface) {
        return None;
    }
    let path = std::path::Path::new("/sys/class/net")
        .join(interface)
        .join("type");
    match std::fs::read_to_string(path)
        .ok()?
        .trim()
        .parse::<u32>()
        .ok()?
    {
        // ARPHRD_ETHER, and ARPHRD_LOOPBACK: Linux captures its loopback as Ethernet.
        1 | 772 => Some(LinkType::Ethernet),
        // ARPHRD_NONE: tun devices, WireGuard.
        65534 => Some(LinkType::RawIp),
        _ => None,
    }
}

fn open(cfg: &LiveSettings) -> Result<Opened, PcapError> {
    let err = |cause| PcapError::Live {
        interface: cfg.interface.clone(),
        cause,
    };
    let mut inactive = pcap::Capture::from_device(cfg.interface.as_str())
        .map_err(err)?
        .snaplen(cfg.snaplen)
        .promisc(cfg.promiscuous)
        .immediate_mode(cfg.immediate)
        .timeout(READ_TIMEOUT_MS);
    if let Some(b) = cfg.buffer_size {
        inactive = inactive.buffer_size(b);
    }
    let mut cap = inactive.open().map_err(err)?;
    if let Some(f) = &cfg.bpf {
        cap.filter(f, true).map_err(err)?;
    }
    // Non-blocking reads plus our own poll on the capture's descriptor: libpcap's blocking
    // read on Linux (TPACKET_V3, the default without immediate mode) waits for the next
    // packet however long that takes, which would hold a partial batch back for as long as
    // the link stays quiet, and a stop request with it.
    let mut cap = cap.setnonblock().map_err(err)?;
    let fd = selectable_fd(&mut cap).ok_or_else(|| err(pcap::Error::InvalidRawFd))?;
    let dl = cap.get_datalink();
    let link = LinkType::from_dlt(dl.0).ok_or_else(|| PcapError::UnsupportedLink {
        path: cfg.interface.clone().into(),
        dlt: dl.0,
        name: dl.get_name().unwrap_or_else(|_| "unknown".into()),
    })?;
    Ok(Opened { cap, fd, link })
}

impl LiveCapture {
    /// Open `cfg.interface` (errors at once if that fails) and start the capture thread.
    /// Observations go to `sink` in batches, on the capture thread; `sink` returns a spare
    /// empty batch to fill next (or `None`), or `Err(())` when its consumer is gone.
    ///
    /// A read error later (the interface removed, a driver reset) does not end the capture:
    /// it is logged, [`LiveCounters::up`] goes false, and the thread reopens the interface
    /// with backoff (1 s doubling to 30 s) until it succeeds or is stopped. Flow state is
    /// kept across the gap.
    pub fn start<S>(cfg: &LiveSettings, flow: FlowSettings, sink: S) -> Result<Self, PcapError>
    where
        S: BatchSink + Send + 'static,
    {
        let opened = open(cfg)?;
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(LiveCounters::default());
        counters.up.store(true, Ordering::Relaxed);
        let flow_stats = Arc::new(Mutex::new(FlowStats::default()));
        let run = Runner {
            opened,
            cfg: cfg.clone(),
            engine: FlowEngine::new(&flow),
            stop: stop.clone(),
            counters: counters.clone(),
            flow: flow_stats.clone(),
        };
        let thread = std::thread::Builder::new()
            .name(format!("pcap-{}", cfg.interface))
            .spawn(move || run.run(sink))
            .map_err(PcapError::Thread)?;
        Ok(LiveCapture {
            stop,
            counters,
            flow: flow_stats,
            thread: Some(thread),
        })
    }

    pub fn counters(&self) -> &LiveCounters {
        &self.counters
    }

    /// The counters, shared: readable (e.g. by a metrics task) after the capture is moved.
    pub fn shared_counters(&self) -> Arc<LiveCounters> {
        self.counters.clone()
    }

    /// Flow-engine counters as of the last stats tick (about once a second) or the stop.
    pub fn flow_stats(&self) -> FlowStats {
        match self.flow.lock() {
            Ok(g) => *g,
            Err(p) => *p.into_inner(),
        }
    }

    /// Ask the thread to stop, wait for it (within about `READ_TIMEOUT_MS`; blocking: call it
    /// off an async runtime's workers), and return the final flow-engine counters. Flows still
    /// open are summarized to the sink before it returns. (Read errors never end the thread:
    /// they are logged and the interface reopened.)
    pub fn stop(mut self) -> FlowStats {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(Err(_)) = self.thread.take().map(|t| t.join()) {
            tracing::error!("capture thread panicked");
        }
        self.flow_stats()
    }
}

impl Drop for LiveCapture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// First wait before reopening an interface after a read error; doubles up to the maximum.
const REOPEN_FIRST: Duration = Duration::from_secs(1);
const REOPEN_MAX: Duration = Duration::from_secs(30);

struct Runner {
    opened: Opened,
    cfg: LiveSettings,
    engine: FlowEngine,
    stop: Arc<AtomicBool>,
    counters: Arc<LiveCounters>,
    flow: Arc<Mutex<FlowStats>>,
}

impl Runner {
    fn run<S>(mut self, sink: S)
    where
        S: BatchSink,
    {
        let c = self.counters.clone();
        let mut batcher = Batcher::new(sink);
        while let Err(e) = self.read_until_stopped(&mut batcher) {
            c.up.store(false, Ordering::Relaxed);
            batcher.flush();
            tracing::error!(interface = %self.cfg.interface, error = %e, "live capture failed; reopening the interface");
            if !self.reopen() {
                break; // stopped while waiting
            }
            c.up.store(true, Ordering::Relaxed);
            c.reopened.fetch_add(1, Ordering::Relaxed);
            tracing::info!(interface = %self.cfg.interface, "live capture reopened");
        }
        self.engine.finish(&mut |o| batcher.push(o));
        batcher.flush();
        c.observations.store(batcher.pushed(), Ordering::Relaxed);
        c.up.store(false, Ordering::Relaxed);
        self.tick();
    }

    /// Read and track packets until a stop request (`Ok`) or a read error (`Err`).
    fn read_until_stopped<S>(&mut self, batcher: &mut Batcher<S>) -> Result<(), PcapError>
    where
        S: BatchSink,
    {
        let c = self.counters.clone();
        let mut next_stats = Instant::now() + STATS_EVERY;
        let mut next_flush = Instant::now() + FLUSH_EVERY;
        while !self.stop.load(Ordering::Relaxed) {
            let o = &mut self.opened;
            match o.cap.next_packet() {
                Ok(pkt) => {
                    c.packets.fetch_add(1, Ordering::Relaxed);
                    let t = &pkt.header.ts;
                    if let Some(ts) = timestamp(t.tv_sec, t.tv_usec) {
                        self.engine
                            .packet(ts, o.link, pkt.data, &mut |o| batcher.push(o));
                        c.observations.store(batcher.pushed(), Ordering::Relaxed);
                    }
                }
                // Non-blocking: nothing is waiting. Hand on what we hold (nothing more is
                // coming to fill the batch), then sleep until the kernel has packets or the
                // read timeout passes.
                Err(pcap::Error::TimeoutExpired) => {
                    batcher.flush();
                    wait_readable(o.fd, READ_TIMEOUT_MS);
                }
                Err(_) if self.stop.load(Ordering::Relaxed) => break,
                Err(cause) => {
                    return Err(PcapError::Live {
                        interface: self.cfg.interface.clone(),
                        cause,
                    });
                }
            }
            let now = Instant::now();
            if now >= next_flush {
                // On a link never quiet long enough to empty the kernel's buffer, a partial
                // batch still waits at most this long.
                next_flush = now + FLUSH_EVERY;
                batcher.flush();
            }
            if now >= next_stats {
                next_stats = now + STATS_EVERY;
                self.tick();
            }
        }
        Ok(())
    }

    /// Reopen the interface, waiting between tries (checking for a stop every 100 ms). False
    /// when stopped first.
    fn reopen(&mut self) -> bool {
        let mut wait = REOPEN_FIRST;
        loop {
            let until = Instant::now() + wait;
            while Instant::now() < until {
                if self.stop.load(Ordering::Relaxed) {
                    return false;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            match open(&self.cfg) {
                Ok(o) => {
                    self.opened = o;
                    // libpcap's counters start again with the new handle.
                    let c = &self.counters;
                    for n in [&c.received, &c.dropped, &c.if_dropped] {
                        n.store(0, Ordering::Relaxed);
                    }
                    return true;
                }
                Err(e) => {
                    tracing::warn!(interface = %self.cfg.interface, error = %e, retry_in_s = (wait * 2).min(REOPEN_MAX).as_secs(), "cannot reopen the capture interface yet");
                    wait = (wait * 2).min(REOPEN_MAX);
                }
            }
        }
    }

    /// Read libpcap's counters; warn when drops grew since the last tick.
    fn tick(&mut self) {
        if let Ok(s) = self.opened.cap.stats() {
            let c = &self.counters;
            c.received.store(u64::from(s.received), Ordering::Relaxed);
            let d0 = c.dropped.swap(u64::from(s.dropped), Ordering::Relaxed);
            let i0 = c
                .if_dropped
                .swap(u64::from(s.if_dropped), Ordering::Relaxed);
            if u64::from(s.dropped) > d0 || u64::from(s.if_dropped) > i0 {
                tracing::warn!(
                    interface = %self.cfg.interface,
                    kernel_dropped = s.dropped,
                    if_dropped = s.if_dropped,
                    received = s.received,
                    "packet capture is dropping packets"
                );
            }
        }
        if let Ok(mut g) = self.flow.lock() {
            *g = self.engine.stats();
        }
    }
}

/// The descriptor to poll for packets (`pcap_get_selectable_fd`); `None` where there is none.
fn selectable_fd(cap: &mut pcap::Capture<pcap::Active>) -> Option<std::os::fd::RawFd> {
    unsafe extern "C" {
        fn pcap_get_selectable_fd(p: *mut std::ffi::c_void) -> std::ffi::c_int;
    }
    // SAFETY: `as_ptr` is the live `pcap_t` this capture owns; libpcap only reads it and
    // returns a descriptor number it keeps owning. The number is kept beside its capture in
    // `Opened` and replaced or dropped with it, so it is never polled after the close.
    let fd = unsafe { pcap_get_selectable_fd(cap.as_ptr().cast()) };
    (fd >= 0).then_some(fd)
}

/// Sleep until `fd` is readable or `ms` pass (an interrupted or failed poll just returns;
/// the caller reads again either way).
fn wait_readable(fd: std::os::fd::RawFd, ms: i32) {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid `pollfd` on the stack for the length of the call, and nfds = 1.
    unsafe {
        libc::poll(&mut p, 1, ms);
    }
}
