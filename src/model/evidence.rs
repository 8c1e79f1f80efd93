//! [`Evidence`] is what a detector concluded about one subject; a [`Finding`] is evidence
//! placed in context (inventory, owner, category, severity) and is what opens or feeds an
//! incident.
use super::{AccountName, Category, MacAddr, Proto, Severity, Subject};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// What the evidence says the subject did or is. Each kind implies a category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    // Category 1: actively harming others.
    /// Scanning other hosts (horizontal or vertical).
    OutboundScan,
    /// Flooding a target (SYN flood, packet or connection flood).
    OutboundDos,
    /// Sending mail to many outside servers.
    OutboundSpam,
    /// Failing logins against other servers.
    OutboundBruteForce,
    /// Exploit attempts launched from the host.
    OutboundExploit,
    /// A campus account used by someone else.
    AccountCompromise,
    // Category 2: compromised, not (yet) harming others.
    /// Trojan or command-and-control traffic.
    TrojanC2,
    /// Malware downloaded to the host.
    MalwareDownload,
    /// An inbound exploit that succeeded.
    InboundExploitSuccess,
    /// Regular contact with one outside address (a beacon).
    Beacon,
    // Category 3: vulnerable.
    /// Vulnerable or policy-violating software/service.
    Vulnerable,
}

impl EvidenceKind {
    pub fn category(self) -> Category {
        use EvidenceKind::*;
        match self {
            OutboundScan | OutboundDos | OutboundSpam | OutboundBruteForce | OutboundExploit
            | AccountCompromise => Category::One,
            TrojanC2 | MalwareDownload | InboundExploitSuccess | Beacon => Category::Two,
            Vulnerable => Category::Three,
        }
    }
    pub fn as_str(self) -> &'static str {
        use EvidenceKind::*;
        match self {
            OutboundScan => "outbound_scan",
            OutboundDos => "outbound_dos",
            OutboundSpam => "outbound_spam",
            OutboundBruteForce => "outbound_brute_force",
            OutboundExploit => "outbound_exploit",
            AccountCompromise => "account_compromise",
            TrojanC2 => "trojan_c2",
            MalwareDownload => "malware_download",
            InboundExploitSuccess => "inbound_exploit_success",
            Beacon => "beacon",
            Vulnerable => "vulnerable",
        }
    }
    /// A sentence for notices.
    pub fn describe(self) -> &'static str {
        use EvidenceKind::*;
        match self {
            OutboundScan => "scanning other computers",
            OutboundDos => "flooding another computer (denial of service)",
            OutboundSpam => "sending mail to many outside mail servers (spam)",
            OutboundBruteForce => "trying passwords against other servers (brute force)",
            OutboundExploit => "attacking other computers with exploits",
            AccountCompromise => "the account is being used by someone else",
            TrojanC2 => "talking to a known malware control server",
            MalwareDownload => "downloaded known malware",
            InboundExploitSuccess => "was successfully exploited from outside",
            Beacon => "contacting one outside address at regular intervals (beaconing)",
            Vulnerable => "runs software vulnerable to a known exploit",
        }
    }
    /// Every kind, for config validation and docs.
    pub const ALL: [EvidenceKind; 11] = [
        EvidenceKind::OutboundScan,
        EvidenceKind::OutboundDos,
        EvidenceKind::OutboundSpam,
        EvidenceKind::OutboundBruteForce,
        EvidenceKind::OutboundExploit,
        EvidenceKind::AccountCompromise,
        EvidenceKind::TrojanC2,
        EvidenceKind::MalwareDownload,
        EvidenceKind::InboundExploitSuccess,
        EvidenceKind::Beacon,
        EvidenceKind::Vulnerable,
    ];
}

/// What a detector concluded. Owned; every list is capped by the detector that builds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub kind: EvidenceKind,
    pub subject: Subject,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// How many observations support it.
    pub count: u64,
    pub proto: Proto,
    /// Ports involved (destination ports of the subject's traffic, or the attacked service), capped.
    pub ports: Vec<u16>,
    /// Peer addresses involved, capped; `peer_count` says how many there were in all.
    pub peers: Vec<IpAddr>,
    pub peer_count: u64,
    /// Signature text, when an IDS said it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Signature id, when an IDS said it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_id: Option<u64>,
    /// Account involved (validated), e.g. for a login compromise seen from a host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountName>,
    /// Raw log lines (a few, each truncated), for the notice and the record.
    pub raw: Vec<String>,
    /// Which detector concluded it ("ids", "scan", "bruteforce", ...).
    pub detector: String,
    /// Which source/sensor it came from (the configured source name).
    pub sensor: String,
}

impl Evidence {
    /// Most raw lines kept per evidence.
    pub const MAX_RAW: usize = 5;
    /// Longest raw line kept (bytes); longer ones are cut at a char boundary and marked.
    pub const MAX_RAW_LEN: usize = 2048;
    /// Most peers and ports listed per evidence.
    pub const MAX_LIST: usize = 32;

    /// Add a raw excerpt, respecting the caps.
    pub fn push_raw(&mut self, line: &str) {
        if self.raw.len() >= Self::MAX_RAW {
            return;
        }
        let mut cut = line.trim_end_matches(['\r', '\n']);
        let mut truncated = false;
        if cut.len() > Self::MAX_RAW_LEN {
            let mut end = Self::MAX_RAW_LEN;
            while !cut.is_char_boundary(end) {
                end -= 1;
            }
            cut = &cut[..end];
            truncated = true;
        }
        let mut s = cut.to_string();
        if truncated {
            s.push_str(" …[truncated]");
        }
        self.raw.push(s);
    }
    pub fn push_peer(&mut self, ip: IpAddr) {
        if !self.peers.contains(&ip) {
            self.peer_count += 1;
            if self.peers.len() < Self::MAX_LIST {
                self.peers.push(ip);
            }
        }
    }
    pub fn push_port(&mut self, port: u16) {
        if self.ports.len() < Self::MAX_LIST && !self.ports.contains(&port) {
            self.ports.push(port);
        }
    }
    /// A detector's sample of peers, out of `distinct` it counted (the sample is capped, the
    /// count is not).
    pub fn push_peers(&mut self, sample: &[IpAddr], distinct: usize) {
        for &p in sample {
            self.push_peer(p);
        }
        self.peer_count = self.peer_count.max(distinct as u64);
    }
    pub fn push_ports(&mut self, ports: &[u16]) {
        for &p in ports {
            self.push_port(p);
        }
    }
}

/// The owner of a host or account, from the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub name: String,
    /// Where notices go.
    pub email: String,
}

/// What the inventory knows about the subject.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HostInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<MacAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Network/department name the address belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// Never enforced automatically (routers, DNS, critical servers).
    #[serde(default)]
    pub protected: bool,
    /// Critical enterprise service (raises severity).
    #[serde(default)]
    pub critical: bool,
    /// Holds confidential data (PII, payment, health): raises severity.
    #[serde(default)]
    pub confidential_data: bool,
}

/// Evidence in context: what the correlator hands the policy engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub evidence: Evidence,
    pub host: HostInfo,
    /// None: nobody to notify, which under policy means enforce at once (Category 1).
    pub owner: Option<Owner>,
    pub category: Category,
    pub severity: Severity,
    /// How many distinct subjects share this finding (spread), as the correlator counted.
    pub spread: u32,
}
