//! [`SensorStats`]: an IDS sensor's own health counters (Suricata EVE `stats` records). They
//! say whether the sensor can be trusted to have seen everything — a sensor that drops packets
//! produces no evidence for what it dropped — so they go to metrics and logs, never to
//! detectors.
use jiff::Timestamp;
use serde::Serialize;

/// The counters of one sensor stats record that matter for trusting the sensor. Every counter
/// is cumulative since the sensor started (it resets when the sensor restarts) and `None` when
/// the record does not carry it (older versions, disabled subsystems).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SensorStats {
    /// When the sensor wrote the record.
    pub time: Timestamp,
    /// Seconds since the sensor started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uptime: Option<u64>,
    /// Packets the capture method received from the kernel (`capture.kernel_packets`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel_packets: Option<u64>,
    /// Packets the kernel dropped because the sensor was too slow (`capture.kernel_drops`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel_drops: Option<u64>,
    /// Packets decoded (`decoder.pkts`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decoder_packets: Option<u64>,
    /// Packets the decoder could not read (`decoder.invalid`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decoder_invalid: Option<u64>,
    /// Packets that found the flow table at its memory cap (`flow.memcap`): not tracked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_memcap: Option<u64>,
    /// Gaps in TCP reassembly (`tcp.reassembly_gap`): stream content not inspected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_reassembly_gap: Option<u64>,
    /// Packets of bypassed flows, not inspected (`flow_bypassed.local_pkts` + `.pkts`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_bypassed_packets: Option<u64>,
    /// Alerts raised (`detect.alert`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detect_alerts: Option<u64>,
}

impl SensorStats {
    /// A record at `time` carrying no counters yet.
    pub fn new(time: Timestamp) -> Self {
        SensorStats {
            time,
            uptime: None,
            kernel_packets: None,
            kernel_drops: None,
            decoder_packets: None,
            decoder_invalid: None,
            flow_memcap: None,
            tcp_reassembly_gap: None,
            flow_bypassed_packets: None,
            detect_alerts: None,
        }
    }
}
