//! Prometheus metrics for the agent. Names follow `cordon_<what>_total` for counters (the
//! library appends `_total`), gauges carry no suffix, and the variable part goes into labels.
//!
//! Label values come only from config (source, listener and interface names the operator
//! chose) or from fixed sets in the code (format, transport, detector, malformed reason);
//! never from log content, so the number of series is bounded by the config.
//!
//! Sources and the pipeline keep plain integer counters of their own (`TailStats`, syslog
//! `Counters`, `FlowStats`, `LiveCounters`, `PipelineStats`, `DetectStats`); the handle types
//! here are resolved once per source and publish the *growth* of those counters, per chunk or
//! per tick, so no per-line work ever touches a label set or a lock.
use crate::detect::DetectStats;
use crate::flow::FlowStats;
use crate::flow::decode::Malformed;
use crate::ingest::file_tail::TailStats;
use crate::ingest::pcap_live::LiveCounters;
use crate::ingest::syslog::CounterSnapshot;
use crate::model::SensorStats;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::Ordering;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabels {
    pub source: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceFormatLabels {
    pub source: String,
    pub format: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ListenerLabels {
    /// The syslog source's name from config.
    pub listener: String,
    pub transport: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceReasonLabels {
    pub source: String,
    pub reason: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InterfaceLabels {
    pub interface: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DetectorLabels {
    pub detector: String,
}

type Counters<L> = Family<L, Counter>;
type Gauges<L> = Family<L, Gauge>;

#[derive(Default, Clone)]
pub struct Metrics {
    pub lines: Counter,
    pub lines_bad: Counter,
    pub observations: Counter,
    pub evidence: Counter,
    pub incidents_opened: Counter,
    pub notices_delivered: Counter,
    pub notices_failed: Counter,
    pub hook_calls_done: Counter,
    pub hook_calls_failed: Counter,
    pub effect_retries: Counter,
    pub detector_evictions: Gauge,

    pub source_lines: Counters<SourceFormatLabels>,
    pub source_lines_bad: Counters<SourceFormatLabels>,
    pub tail_files: Gauges<SourceLabels>,
    pub tail_files_opened: Counters<SourceLabels>,
    pub tail_rotations: Counters<SourceLabels>,
    pub tail_truncations: Counters<SourceLabels>,
    pub tail_long_lines: Counters<SourceLabels>,
    pub tail_read_errors: Counters<SourceLabels>,
    pub syslog_messages: Counters<ListenerLabels>,
    pub syslog_oversize: Counters<ListenerLabels>,
    pub syslog_framing_errors: Counters<ListenerLabels>,
    pub syslog_connections_refused: Counters<ListenerLabels>,
    pub capture_packets: Counters<SourceLabels>,
    pub capture_malformed: Counters<SourceReasonLabels>,
    pub capture_unjudged: Counters<SourceLabels>,
    pub capture_answer_unseen: Counters<SourceLabels>,
    pub capture_one_way: Gauges<SourceLabels>,
    pub capture_kernel_received: Gauges<InterfaceLabels>,
    pub capture_up: Gauges<InterfaceLabels>,
    pub capture_reopened: Counters<InterfaceLabels>,
    pub capture_kernel_drops: Gauges<InterfaceLabels>,
    pub capture_interface_drops: Gauges<InterfaceLabels>,
    pub flow_evictions: Counter,
    pub detector_evictions_by: Counters<DetectorLabels>,
    /// IDS sensor gauges per source, in the order of `SENSOR_GAUGES`.
    pub sensor_gauges: [Gauges<SourceLabels>; 9],
}

/// Name and help of each IDS sensor gauge, in the order of [`SensorGauges::values`].
const SENSOR_GAUGES: [(&str, &str); 9] = [
    (
        "cordon_sensor_uptime_seconds",
        "IDS sensor uptime (Suricata stats.uptime)",
    ),
    (
        "cordon_sensor_kernel_packets",
        "Packets the IDS sensor received (Suricata capture.kernel_packets)",
    ),
    (
        "cordon_sensor_kernel_drops",
        "Packets dropped before the IDS sensor saw them (Suricata capture.kernel_drops): evidence may be missing",
    ),
    (
        "cordon_sensor_decoder_packets",
        "Packets the IDS sensor decoded (Suricata decoder.pkts)",
    ),
    (
        "cordon_sensor_decoder_invalid",
        "Packets the IDS sensor could not decode (Suricata decoder.invalid)",
    ),
    (
        "cordon_sensor_flow_memcap",
        "Packets that hit the IDS flow memory cap (Suricata flow.memcap)",
    ),
    (
        "cordon_sensor_tcp_reassembly_gap",
        "TCP reassembly gaps in the IDS sensor (Suricata tcp.reassembly_gap)",
    ),
    (
        "cordon_sensor_flow_bypassed_packets",
        "Packets of bypassed flows the IDS did not inspect (Suricata flow_bypassed)",
    ),
    (
        "cordon_sensor_detect_alerts",
        "Alerts the IDS sensor raised (Suricata detect.alert)",
    ),
];

impl Metrics {
    pub fn register(&self, r: &mut Registry) {
        r.register("cordon_lines", "Input lines read", self.lines.clone());
        r.register(
            "cordon_lines_bad",
            "Input lines that did not parse (skipped)",
            self.lines_bad.clone(),
        );
        r.register(
            "cordon_observations",
            "Observations from lines and packets",
            self.observations.clone(),
        );
        r.register(
            "cordon_evidence",
            "Evidence records produced by detectors",
            self.evidence.clone(),
        );
        r.register(
            "cordon_incidents_opened",
            "Incidents opened",
            self.incidents_opened.clone(),
        );
        r.register(
            "cordon_notices_delivered",
            "Notices delivered",
            self.notices_delivered.clone(),
        );
        r.register(
            "cordon_notices_failed",
            "Notices that failed for good",
            self.notices_failed.clone(),
        );
        r.register(
            "cordon_hook_calls_done",
            "Hook calls that succeeded (or were dry runs)",
            self.hook_calls_done.clone(),
        );
        r.register(
            "cordon_hook_calls_failed",
            "Hook calls refused, held or failed for good",
            self.hook_calls_failed.clone(),
        );
        r.register(
            "cordon_effect_retries",
            "Effect attempts that will be retried",
            self.effect_retries.clone(),
        );
        r.register(
            "cordon_detector_evictions",
            "Detector table entries evicted at their caps",
            self.detector_evictions.clone(),
        );

        r.register(
            "cordon_source_lines",
            "Lines read per line source",
            self.source_lines.clone(),
        );
        r.register(
            "cordon_source_lines_bad",
            "Lines per source that did not parse (skipped, sampled in the log)",
            self.source_lines_bad.clone(),
        );
        r.register(
            "cordon_tail_files",
            "Files a file source tracks now",
            self.tail_files.clone(),
        );
        r.register(
            "cordon_tail_files_opened",
            "Files a file source opened",
            self.tail_files_opened.clone(),
        );
        r.register(
            "cordon_tail_rotations",
            "Followed files that were renamed away or deleted (rotation)",
            self.tail_rotations.clone(),
        );
        r.register(
            "cordon_tail_truncations",
            "Followed files found shorter than the read position (copytruncate)",
            self.tail_truncations.clone(),
        );
        r.register(
            "cordon_tail_long_lines",
            "Lines longer than the line cap, skipped",
            self.tail_long_lines.clone(),
        );
        r.register(
            "cordon_tail_read_errors",
            "Files dropped after an open or read error",
            self.tail_read_errors.clone(),
        );
        r.register(
            "cordon_syslog_messages",
            "Syslog messages received",
            self.syslog_messages.clone(),
        );
        r.register(
            "cordon_syslog_oversize",
            "Syslog messages cut at the size limit",
            self.syslog_oversize.clone(),
        );
        r.register(
            "cordon_syslog_framing_errors",
            "TCP syslog streams closed or cut on a bad octet count",
            self.syslog_framing_errors.clone(),
        );
        r.register(
            "cordon_syslog_connections_refused",
            "TCP syslog connections closed at once because the connection limit was reached",
            self.syslog_connections_refused.clone(),
        );
        r.register(
            "cordon_capture_packets",
            "Captured frames read (live or from a file)",
            self.capture_packets.clone(),
        );
        r.register(
            "cordon_capture_malformed",
            "Captured frames skipped, by reason (truncated, not IP, bad header, ...)",
            self.capture_malformed.clone(),
        );
        r.register(
            "cordon_capture_unjudged_attempts",
            "Connection attempts not judged unanswered because the capture showed no answers to anyone then (one-way span port, uplink outage)",
            self.capture_unjudged.clone(),
        );
        r.register(
            "cordon_capture_answer_unseen",
            "TCP connection attempts whose initiator acknowledged an answer the capture never carried (split routing: some return traffic takes an uplink the capture does not see); judged unless detect.flow.trust_unseen_answers",
            self.capture_answer_unseen.clone(),
        );
        r.register(
            "cordon_capture_one_way",
            "1 while a capture shows attempts from many hosts and no answers at all (see cordon_capture_unjudged_attempts)",
            self.capture_one_way.clone(),
        );
        r.register(
            "cordon_capture_up",
            "1 while a live capture's interface is open and read; 0 while it is being reopened after an error",
            self.capture_up.clone(),
        );
        r.register(
            "cordon_capture_reopened",
            "Times a live capture reopened its interface after a read error",
            self.capture_reopened.clone(),
        );
        r.register(
            "cordon_capture_kernel_received",
            "Packets the kernel received for a live capture (libpcap ps_recv)",
            self.capture_kernel_received.clone(),
        );
        r.register(
            "cordon_capture_kernel_drops",
            "Packets the kernel dropped because cordon was too slow (libpcap ps_drop)",
            self.capture_kernel_drops.clone(),
        );
        r.register(
            "cordon_capture_interface_drops",
            "Packets the interface or driver dropped (libpcap ps_ifdrop)",
            self.capture_interface_drops.clone(),
        );
        r.register(
            "cordon_flow_evictions",
            "Flows evicted because the flow table was full",
            self.flow_evictions.clone(),
        );
        // Not `cordon_detector_evictions{detector}`: that family name is the gauge above.
        r.register(
            "cordon_detector_table_evictions",
            "Detector table entries evicted at their caps, per detector",
            self.detector_evictions_by.clone(),
        );
        for ((name, help), g) in SENSOR_GAUGES.iter().zip(&self.sensor_gauges) {
            r.register(*name, *help, g.clone());
        }
    }

    /// Counter handles for one line source (file, stdin, syslog).
    pub fn source(&self, source: &str, format: &str) -> SourceCounters {
        let l = SourceFormatLabels {
            source: source.to_string(),
            format: format.to_string(),
        };
        SourceCounters {
            lines: self.source_lines.get_or_create_owned(&l),
            bad: self.source_lines_bad.get_or_create_owned(&l),
        }
    }

    /// Handles for one file source's tailer.
    pub fn tail(&self, source: &str) -> TailCounters {
        let l = SourceLabels {
            source: source.to_string(),
        };
        TailCounters {
            files: self.tail_files.get_or_create_owned(&l),
            files_opened: self.tail_files_opened.get_or_create_owned(&l),
            rotations: self.tail_rotations.get_or_create_owned(&l),
            truncations: self.tail_truncations.get_or_create_owned(&l),
            long_lines: self.tail_long_lines.get_or_create_owned(&l),
            errors: self.tail_read_errors.get_or_create_owned(&l),
            last: TailStats::default(),
        }
    }

    /// Handles for one syslog listener; `listener` is the source's name from config.
    pub fn syslog(&self, listener: &str, transport: &str) -> SyslogCounters {
        let l = ListenerLabels {
            listener: listener.to_string(),
            transport: transport.to_string(),
        };
        SyslogCounters {
            messages: self.syslog_messages.get_or_create_owned(&l),
            oversize: self.syslog_oversize.get_or_create_owned(&l),
            framing_errors: self.syslog_framing_errors.get_or_create_owned(&l),
            refused: self.syslog_connections_refused.get_or_create_owned(&l),
            last: CounterSnapshot::default(),
        }
    }

    /// Handles for one packet source (capture file or live interface).
    pub fn capture(&self, source: &str) -> CaptureCounters {
        let l = SourceLabels {
            source: source.to_string(),
        };
        let malformed = Malformed::ALL.map(|m| {
            self.capture_malformed
                .get_or_create_owned(&SourceReasonLabels {
                    source: source.to_string(),
                    reason: m.as_str().to_string(),
                })
        });
        CaptureCounters {
            packets: self.capture_packets.get_or_create_owned(&l),
            malformed,
            bad_time: self
                .capture_malformed
                .get_or_create_owned(&SourceReasonLabels {
                    source: source.to_string(),
                    reason: "bad_timestamp".to_string(),
                }),
            flow_evictions: self.flow_evictions.clone(),
            unjudged: self.capture_unjudged.get_or_create_owned(&l),
            answer_unseen: self.capture_answer_unseen.get_or_create_owned(&l),
            one_way: self.capture_one_way.get_or_create_owned(&l),
            source: source.to_string(),
            last: FlowStats::default(),
        }
    }

    /// Gauges for one live-capture interface.
    pub fn interface(&self, interface: &str) -> InterfaceGauges {
        let l = InterfaceLabels {
            interface: interface.to_string(),
        };
        InterfaceGauges {
            up: self.capture_up.get_or_create_owned(&l),
            reopened: self.capture_reopened.get_or_create_owned(&l),
            last_reopened: 0,
            received: self.capture_kernel_received.get_or_create_owned(&l),
            kernel_drops: self.capture_kernel_drops.get_or_create_owned(&l),
            interface_drops: self.capture_interface_drops.get_or_create_owned(&l),
        }
    }

    /// Per-detector eviction counters.
    pub fn detectors(&self) -> DetectorCounters {
        let c = |name: &str| {
            self.detector_evictions_by
                .get_or_create_owned(&DetectorLabels {
                    detector: name.to_string(),
                })
        };
        DetectorCounters {
            handles: DetectStats::NAMES.map(c),
            last: [0; 6],
        }
    }

    /// Gauges for one IDS source's stats records. A series appears at the first record that
    /// carries its counter, so a counter the sensor does not report is absent, not 0.
    pub fn sensor(&self, source: &str) -> SensorGauges {
        SensorGauges {
            labels: SourceLabels {
                source: source.to_string(),
            },
            families: self.sensor_gauges.clone(),
            last_drops: None,
        }
    }
}

/// Adds the growth of a monotonic counter since `before`.
fn grow(c: &Counter, now: u64, before: u64) {
    let d = now.saturating_sub(before);
    if d > 0 {
        c.inc_by(d);
    }
}

/// Gauges are i64; counters beyond that are pinned at the maximum.
fn set(g: &Gauge, v: u64) {
    g.set(i64::try_from(v).unwrap_or(i64::MAX));
}

/// Per line-source counters. The pipeline task adds the growth of `PipelineStats` over one
/// chunk of this source's lines: one add per chunk, not per line.
#[derive(Debug, Clone)]
pub struct SourceCounters {
    pub lines: Counter,
    pub bad: Counter,
}

impl SourceCounters {
    /// `lines`/`bad` read during one chunk.
    pub fn add(&self, lines: u64, bad: u64) {
        self.lines.inc_by(lines);
        self.bad.inc_by(bad);
    }
}

/// One file source's tailer counters.
#[derive(Debug, Clone)]
pub struct TailCounters {
    files: Gauge,
    files_opened: Counter,
    rotations: Counter,
    truncations: Counter,
    long_lines: Counter,
    errors: Counter,
    last: TailStats,
}

impl TailCounters {
    /// Publish the tailer's counters (call after each poll; cheap).
    pub fn publish(&mut self, s: TailStats) {
        let l = self.last;
        set(&self.files, s.files);
        grow(&self.files_opened, s.files_opened, l.files_opened);
        grow(&self.rotations, s.rotations, l.rotations);
        grow(&self.truncations, s.truncations, l.truncations);
        grow(&self.long_lines, s.long_lines, l.long_lines);
        grow(&self.errors, s.errors, l.errors);
        self.last = s;
    }
}

/// One syslog listener's counters.
#[derive(Debug, Clone)]
pub struct SyslogCounters {
    messages: Counter,
    oversize: Counter,
    framing_errors: Counter,
    refused: Counter,
    last: CounterSnapshot,
}

impl SyslogCounters {
    pub fn publish(&mut self, s: CounterSnapshot) {
        let l = self.last;
        grow(&self.messages, s.messages, l.messages);
        grow(&self.oversize, s.truncated, l.truncated);
        grow(&self.framing_errors, s.framing_errors, l.framing_errors);
        grow(&self.refused, s.connections_refused, l.connections_refused);
        self.last = s;
    }
}

/// One packet source's frame counters, fed from its flow engine's [`FlowStats`].
#[derive(Debug, Clone)]
pub struct CaptureCounters {
    packets: Counter,
    malformed: [Counter; Malformed::ALL.len()],
    bad_time: Counter,
    flow_evictions: Counter,
    unjudged: Counter,
    answer_unseen: Counter,
    one_way: Gauge,
    source: String,
    last: FlowStats,
}

impl CaptureCounters {
    /// Publish the engine's counters (call every so many packets and at the end).
    pub fn publish(&mut self, s: FlowStats) {
        let l = self.last;
        grow(&self.packets, s.packets, l.packets);
        for (i, m) in Malformed::ALL.iter().enumerate() {
            grow(&self.malformed[i], s.malformed.get(*m), l.malformed.get(*m));
        }
        grow(&self.flow_evictions, s.flows_evicted, l.flows_evicted);
        grow(&self.unjudged, s.unjudged_one_way, l.unjudged_one_way);
        grow(&self.answer_unseen, s.answer_unseen, l.answer_unseen);
        if l.answer_unseen == 0 && s.answer_unseen > 0 {
            // Once per source: the counter tells how it goes on.
            tracing::warn!(source = %self.source, "some TCP connections' initiators acknowledge answers the capture does not hold (split routing, or a span port missing an uplink?): see cordon_capture_answer_unseen_total and detect.flow.trust_unseen_answers");
        }
        set(&self.one_way, u64::from(s.one_way));
        if s.one_way != l.one_way {
            if s.one_way {
                tracing::warn!(source = %self.source, "the capture shows connection attempts from many hosts and no answers to any: a span port mirroring one direction, or an uplink outage? Unanswered attempts are not judged until answers are seen again");
            } else {
                tracing::info!(source = %self.source, unjudged = s.unjudged_one_way, "the capture shows answers again; unanswered attempts are judged again");
            }
        }
        self.last = s;
    }

    /// Frames of a capture file never handed to the engine because their timestamp was out
    /// of range: read, and malformed.
    pub fn bad_time(&self, n: u64) {
        self.packets.inc_by(n);
        self.bad_time.inc_by(n);
    }
}

/// One live interface's libpcap counters. libpcap's counters are 32-bit and wrap, and they
/// are the kernel's, so they are exported as gauges as read.
#[derive(Debug, Clone)]
pub struct InterfaceGauges {
    up: Gauge,
    reopened: Counter,
    last_reopened: u64,
    received: Gauge,
    kernel_drops: Gauge,
    interface_drops: Gauge,
}

impl InterfaceGauges {
    /// Copy the capture thread's latest libpcap stats (it reads them once a second and logs a
    /// warning itself when drops grow).
    pub fn publish(&mut self, c: &LiveCounters) {
        set(&self.up, u64::from(c.up.load(Ordering::Relaxed)));
        let reopened = c.reopened.load(Ordering::Relaxed);
        grow(&self.reopened, reopened, self.last_reopened);
        self.last_reopened = reopened;
        set(&self.received, c.received.load(Ordering::Relaxed));
        set(&self.kernel_drops, c.dropped.load(Ordering::Relaxed));
        set(&self.interface_drops, c.if_dropped.load(Ordering::Relaxed));
    }
}

/// Per-detector eviction counters.
#[derive(Debug, Clone)]
pub struct DetectorCounters {
    handles: [Counter; 6],
    last: [u64; 6],
}

impl DetectorCounters {
    pub fn publish(&mut self, s: &DetectStats) {
        let now = s.each().map(|d| d.evictions);
        for ((h, n), l) in self.handles.iter().zip(now).zip(self.last) {
            grow(h, n, l);
        }
        self.last = now;
    }
}

/// What a stats record said about the sensor's drops compared with the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropChange {
    /// First record, no drop counter, or no change.
    None,
    /// Dropped this many more packets since the last record.
    Grew(u64),
    /// The counter went down: the sensor restarted.
    Reset,
}

/// One IDS source's sensor gauges (a stats record comes every few seconds, so the label
/// lookup per record costs nothing that matters).
#[derive(Debug, Clone)]
pub struct SensorGauges {
    labels: SourceLabels,
    /// In the order of [`SensorGauges::values`].
    families: [Gauges<SourceLabels>; 9],
    last_drops: Option<u64>,
}

impl SensorGauges {
    fn values(s: &SensorStats) -> [Option<u64>; 9] {
        [
            s.uptime,
            s.kernel_packets,
            s.kernel_drops,
            s.decoder_packets,
            s.decoder_invalid,
            s.flow_memcap,
            s.tcp_reassembly_gap,
            s.flow_bypassed_packets,
            s.detect_alerts,
        ]
    }

    /// Set the gauges a record carries (others keep their value) and log a warning when the
    /// sensor dropped packets since its previous record: evidence may be missing.
    pub fn update(&mut self, s: &SensorStats) -> DropChange {
        for (f, v) in self.families.iter().zip(Self::values(s)) {
            if let Some(v) = v {
                set(&f.get_or_create(&self.labels), v);
            }
        }
        let Some(drops) = s.kernel_drops else {
            return DropChange::None;
        };
        let first = self.last_drops.is_none();
        let change = match self.last_drops.replace(drops) {
            Some(before) if drops > before => DropChange::Grew(drops - before),
            Some(before) if drops < before => DropChange::Reset,
            _ => DropChange::None,
        };
        let source = &self.labels.source;
        if first && drops > 0 {
            tracing::info!(
                %source,
                kernel_drops = drops,
                kernel_packets = s.kernel_packets.unwrap_or(0),
                "IDS sensor has dropped packets since it started"
            );
        }
        match change {
            DropChange::Grew(n) => tracing::warn!(
                %source,
                dropped = n,
                kernel_drops = drops,
                kernel_packets = s.kernel_packets.unwrap_or(0),
                sensor_time = %s.time,
                "IDS sensor is dropping packets: evidence from it may be missing"
            ),
            DropChange::Reset => tracing::info!(
                %source,
                kernel_drops = drops,
                "IDS sensor counters went down (sensor restarted)"
            ),
            DropChange::None => {}
        }
        change
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(m: &Metrics) -> String {
        let mut r = Registry::default();
        m.register(&mut r);
        let mut s = String::new();
        prometheus_client::encoding::text::encode(&mut s, &r).unwrap();
        s
    }

    #[test]
    fn family_names_are_unique() {
        // Families without series are not written: create one of each.
        let m = Metrics::default();
        let _handles = (
            m.source("a", "sshd"),
            m.tail("a"),
            m.syslog("b", "udp"),
            m.capture("c"),
            m.interface("eth0"),
            m.detectors(),
        );
        let mut all = SensorStats::new("2026-11-23T12:00:00Z".parse().unwrap());
        all.uptime = Some(1);
        all.kernel_packets = Some(1);
        all.kernel_drops = Some(1);
        all.decoder_packets = Some(1);
        all.decoder_invalid = Some(1);
        all.flow_memcap = Some(1);
        all.tcp_reassembly_gap = Some(1);
        all.flow_bypassed_packets = Some(1);
        all.detect_alerts = Some(1);
        m.sensor("d").update(&all);
        let out = text(&m);
        let mut names: Vec<&str> = out
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split(' ').next())
            .collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            n,
            "a metric family is registered twice:\n{out}"
        );
        assert!(n >= 39, "{n}");
    }

    #[test]
    fn deltas_are_published_once() {
        let m = Metrics::default();
        let mut t = m.tail("auth");
        let mut st = TailStats {
            files: 2,
            files_opened: 3,
            rotations: 1,
            ..TailStats::default()
        };
        t.publish(st);
        t.publish(st);
        st.rotations = 4;
        st.truncations = 2;
        t.publish(st);
        let out = text(&m);
        assert!(
            out.contains("cordon_tail_rotations_total{source=\"auth\"} 4\n"),
            "{out}"
        );
        assert!(
            out.contains("cordon_tail_truncations_total{source=\"auth\"} 2\n"),
            "{out}"
        );
        assert!(
            out.contains("cordon_tail_files_opened_total{source=\"auth\"} 3\n"),
            "{out}"
        );
        assert!(
            out.contains("cordon_tail_files{source=\"auth\"} 2\n"),
            "{out}"
        );
    }

    #[test]
    fn capture_and_detectors() {
        let m = Metrics::default();
        let mut c = m.capture("edge");
        let mut s = FlowStats {
            packets: 10,
            flows_evicted: 2,
            ..FlowStats::default()
        };
        s.malformed.count(Malformed::TruncatedLink);
        c.publish(s);
        s.packets = 15;
        s.malformed.count(Malformed::TruncatedLink);
        s.unjudged_one_way = 40;
        s.answer_unseen = 3;
        s.one_way = true;
        c.publish(s);
        c.bad_time(1);
        let mut d = m.detectors();
        let mut ds = DetectStats::default();
        ds.scan.evictions = 5;
        d.publish(&ds);
        ds.scan.evictions = 7;
        ds.beacon.evictions = 1;
        d.publish(&ds);
        let live = LiveCounters::default();
        live.dropped.store(12, Ordering::Relaxed);
        live.if_dropped.store(3, Ordering::Relaxed);
        live.reopened.store(2, Ordering::Relaxed);
        let mut g = m.interface("eth1");
        g.publish(&live);
        g.publish(&live); // a counter copied twice grows once
        let out = text(&m);
        for want in [
            "cordon_capture_packets_total{source=\"edge\"} 16\n",
            "cordon_capture_malformed_total{source=\"edge\",reason=\"truncated_link\"} 2\n",
            "cordon_capture_malformed_total{source=\"edge\",reason=\"bad_timestamp\"} 1\n",
            "cordon_flow_evictions_total 2\n",
            "cordon_capture_unjudged_attempts_total{source=\"edge\"} 40\n",
            "cordon_capture_answer_unseen_total{source=\"edge\"} 3\n",
            "cordon_capture_one_way{source=\"edge\"} 1\n",
            "cordon_detector_table_evictions_total{detector=\"scan\"} 7\n",
            "cordon_detector_table_evictions_total{detector=\"beacon\"} 1\n",
            "cordon_capture_kernel_drops{interface=\"eth1\"} 12\n",
            "cordon_capture_interface_drops{interface=\"eth1\"} 3\n",
            "cordon_capture_up{interface=\"eth1\"} 0\n",
            "cordon_capture_reopened_total{interface=\"eth1\"} 2\n",
        ] {
            assert!(out.contains(want), "{want} missing in\n{out}");
        }
    }

    #[test]
    fn sensor_drop_growth_and_reset() {
        let m = Metrics::default();
        let mut g = m.sensor("suricata");
        let t0: jiff::Timestamp = "2026-11-23T12:00:00Z".parse().unwrap();
        let mut s = SensorStats::new(t0);
        s.kernel_drops = Some(10);
        s.kernel_packets = Some(1000);
        assert_eq!(g.update(&s), DropChange::None);
        s.kernel_drops = Some(10);
        assert_eq!(g.update(&s), DropChange::None);
        s.kernel_drops = Some(25);
        assert_eq!(g.update(&s), DropChange::Grew(15));
        s.kernel_drops = Some(0);
        assert_eq!(g.update(&s), DropChange::Reset);
        let out = text(&m);
        assert!(
            out.contains("cordon_sensor_kernel_drops{source=\"suricata\"} 0\n"),
            "{out}"
        );
        assert!(
            out.contains("cordon_sensor_kernel_packets{source=\"suricata\"} 1000\n"),
            "{out}"
        );
        assert!(
            !out.contains("cordon_sensor_detect_alerts{"),
            "never reported: absent\n{out}"
        );
    }
}
