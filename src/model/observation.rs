//! An [`Observation`] is one normalized thing a parser or the packet decoder saw. It borrows
//! from the input line so parsing allocates nothing on the hot path; detectors copy only what
//! they keep.
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::net::IpAddr;

/// What kind of thing was observed. Detectors select on this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObsKind {
    /// An IDS/IPS or firewall threat alert carrying a signature.
    Alert,
    /// A connection attempt that was let through (firewall accept, SYN seen, flow start).
    ConnAttempt,
    /// A connection attempt the firewall denied or dropped.
    ConnDenied,
    /// A connection whose handshake completed (source address proven real).
    ConnEstablished,
    /// A connection attempt that failed: refused (TCP reset before the handshake completed),
    /// half-open (a SYN-ACK came back but the initiator never completed the handshake) or
    /// unanswered within the attempt timeout. The flow engine's verdict on its own
    /// `ConnAttempt`s (as Zeek's `connection_rejected` / `connection_attempt`).
    ConnFailed,
    /// A finished flow summary (EVE flow, Zeek conn, ASA teardown).
    Flow,
    /// A failed login (wrong password, bad key, PAM failure).
    AuthFailure,
    /// A login attempt for a user that does not exist.
    AuthInvalidUser,
    /// A successful login.
    AuthSuccess,
    /// A sensor's own notice (Zeek notice, ASA threat detection) without a signature id.
    Notice,
    /// Parsed, understood, but of no interest to any detector (stats, DNS answers, ...).
    Other,
}

impl ObsKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ObsKind::Alert => "alert",
            ObsKind::ConnAttempt => "conn_attempt",
            ObsKind::ConnDenied => "conn_denied",
            ObsKind::ConnEstablished => "conn_established",
            ObsKind::ConnFailed => "conn_failed",
            ObsKind::Flow => "flow",
            ObsKind::AuthFailure => "auth_failure",
            ObsKind::AuthInvalidUser => "auth_invalid_user",
            ObsKind::AuthSuccess => "auth_success",
            ObsKind::Notice => "notice",
            ObsKind::Other => "other",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
    Other(u8),
    #[default]
    Unknown,
}

impl Proto {
    pub fn from_name(s: &str) -> Proto {
        match s {
            "TCP" | "tcp" | "6" => Proto::Tcp,
            "UDP" | "udp" | "17" => Proto::Udp,
            "ICMP" | "icmp" | "1" => Proto::Icmp,
            "ICMPv6" | "IPv6-ICMP" | "ICMPV6" | "icmpv6" | "ipv6-icmp" | "58" => Proto::Icmpv6,
            other => other
                .parse::<u8>()
                .map(Proto::Other)
                .unwrap_or(Proto::Unknown),
        }
    }
    pub fn from_number(n: u8) -> Proto {
        match n {
            6 => Proto::Tcp,
            17 => Proto::Udp,
            1 => Proto::Icmp,
            58 => Proto::Icmpv6,
            n => Proto::Other(n),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
            Proto::Icmpv6 => "icmpv6",
            Proto::Other(_) => "other",
            Proto::Unknown => "unknown",
        }
    }
}

/// An IDS signature or named threat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signature<'a> {
    /// Signature id (Suricata/Snort sid, ASA message id, ...).
    pub id: Option<u64>,
    /// Human-readable signature text, e.g. `ET SCAN Nmap Scripting Engine User-Agent Detected`.
    pub text: Cow<'a, str>,
    /// Classification (Suricata `category`/classtype, Zeek notice type).
    pub class: Option<Cow<'a, str>>,
    /// Sensor severity (Suricata 1 = highest).
    pub severity: Option<u8>,
}

/// One normalized observation from a log line or packet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation<'a> {
    /// When it happened, per the record (data time, not arrival time).
    pub time: Timestamp,
    pub kind: ObsKind,
    pub src: Option<IpAddr>,
    pub src_port: Option<u16>,
    pub dst: Option<IpAddr>,
    pub dst_port: Option<u16>,
    pub proto: Proto,
    /// ICMP type and code, when the protocol is ICMP/ICMPv6.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp: Option<(u8, u8)>,
    /// User name as claimed by the record. Attacker-controlled: validate before any use
    /// beyond display.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<Signature<'a>>,
    /// Packets in this record (1 for a packet, N for a flow summary, 0 when unknown).
    pub packets: u64,
    /// Bytes in this record (0 when unknown).
    pub bytes: u64,
    /// Free text the format carries beside the fields (firewall log prefix, rule name,
    /// ASA message id): kept for the notice, never for decisions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<Cow<'a, str>>,
    /// The record as read; empty for packets.
    #[serde(skip)]
    pub raw: &'a str,
    /// Made by the flow engine from captured packets. One connection then yields several
    /// records (attempt, establishment or failure, summary), so detectors count the
    /// connection once, and a packet `ConnAttempt` is provisional: its verdict follows as
    /// `ConnEstablished` or `ConnFailed`. A log record stands on its own.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub from_packets: bool,
}

impl<'a> Observation<'a> {
    /// A blank observation of `kind` at `time`; parsers fill in what they know.
    pub fn new(time: Timestamp, kind: ObsKind, raw: &'a str) -> Self {
        Observation {
            time,
            kind,
            src: None,
            src_port: None,
            dst: None,
            dst_port: None,
            proto: Proto::Unknown,
            icmp: None,
            user: None,
            signature: None,
            packets: 0,
            bytes: 0,
            note: None,
            raw,
            from_packets: false,
        }
    }
}
