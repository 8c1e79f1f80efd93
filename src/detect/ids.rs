//! IDS signature mapping: an IDS alert (Suricata EVE, or a sensor notice carrying a
//! signature) becomes evidence about the campus side that the alert implicates.
//!
//! Owns the site rules, the built-in classtype and signature-prefix defaults, and the
//! direction logic (who is the subject). Must not do I/O, read the clock, or look at owners.
//! Signature text is written by whoever can write the log: it selects a mapping (exactly as
//! the sensor's rule author intended) and is kept, truncated and cleaned, as evidence text;
//! it never becomes a value placed into a hook. Stateless per alert, so no table to bound.

use super::{DetectContext, Detector, DetectorStats, new_evidence};
use crate::config::{IdsConfig, IdsKind, SubjectSide};
use crate::model::{Category, Evidence, EvidenceKind, ObsKind, Observation, Signature, Subject};
use std::net::IpAddr;

/// Longest signature text kept in `Evidence::signature` (bytes); the raw line keeps more.
pub const MAX_SIGNATURE_LEN: usize = 256;

/// One site rule, with its matchers lower-cased once.
#[derive(Debug, Clone)]
struct Rule {
    sid: Option<u64>,
    contains: Option<String>,
    classtype: Option<String>,
    kind: IdsKind,
    side: SubjectSide,
}

impl Rule {
    /// Every matcher the rule gives must match; a rule with none matches nothing.
    fn matches(&self, sig: &Signature<'_>) -> bool {
        if self.sid.is_none() && self.contains.is_none() && self.classtype.is_none() {
            return false;
        }
        if let Some(sid) = self.sid
            && sig.id != Some(sid)
        {
            return false;
        }
        if let Some(needle) = &self.contains
            && !contains_ci(&sig.text, needle)
        {
            return false;
        }
        if let Some(class) = &self.classtype {
            match &sig.class {
                Some(c) if c.trim().eq_ignore_ascii_case(class) => {}
                _ => return false,
            }
        }
        true
    }
}

/// Maps IDS alerts to evidence (detector name `ids`).
#[derive(Debug, Clone)]
pub struct IdsDetector {
    rules: Vec<Rule>,
    default_rules: bool,
    max_severity: u8,
    emitted: u64,
}

impl IdsDetector {
    pub fn new(cfg: &IdsConfig) -> Self {
        IdsDetector {
            rules: cfg
                .rules
                .iter()
                .map(|r| Rule {
                    sid: r.sid,
                    contains: r
                        .signature_contains
                        .as_ref()
                        .map(|s| s.to_ascii_lowercase()),
                    classtype: r.classtype.as_ref().map(|s| s.trim().to_ascii_lowercase()),
                    kind: r.kind,
                    side: r.subject,
                })
                .collect(),
            default_rules: cfg.default_rules,
            max_severity: cfg.max_severity,
            emitted: 0,
        }
    }

    /// What the alert means and which side is the subject: the first matching site rule,
    /// else (when enabled) the built-in defaults. `None`: no mapping, nothing to say.
    fn classify(&self, sig: &Signature<'_>) -> Option<(IdsKind, SubjectSide)> {
        if let Some(r) = self.rules.iter().find(|r| r.matches(sig)) {
            return Some((r.kind, r.side));
        }
        if !self.default_rules {
            return None;
        }
        let kind = match prefix_default(&sig.text) {
            Family::Maps(k) => k,
            Family::Informational => return None,
            Family::Other => classtype_default(sig.class.as_deref()?)?,
        };
        Some((kind, SubjectSide::Auto))
    }
}

impl Detector for IdsDetector {
    fn observe(&mut self, obs: &Observation<'_>, ctx: &DetectContext<'_>, out: &mut Vec<Evidence>) {
        if !matches!(obs.kind, ObsKind::Alert | ObsKind::Notice) {
            return;
        }
        let Some(sig) = &obs.signature else { return };
        if sig.severity.is_some_and(|s| s > self.max_severity) {
            return;
        }
        let (Some(src), Some(dst)) = (obs.src, obs.dst) else {
            return;
        };
        if ctx.allow.contains(src) || ctx.allow.contains(dst) {
            return;
        }
        let Some((kind, side)) = self.classify(sig) else {
            return;
        };
        let Some((ev_kind, subject, peer)) = resolve(kind, side, src, dst, ctx) else {
            return;
        };
        let mut ev = new_evidence(
            ev_kind,
            Subject::Host(subject),
            obs.time,
            obs.time,
            1,
            obs.proto,
            self.name(),
            ctx.sensor,
        );
        if let Some(p) = obs.dst_port {
            ev.push_port(p);
        }
        ev.push_peer(peer);
        ev.signature = Some(clean_text(&sig.text, MAX_SIGNATURE_LEN));
        ev.signature_id = sig.id;
        if !obs.raw.is_empty() {
            ev.push_raw(obs.raw);
        }
        self.emitted += 1;
        out.push(ev);
    }

    fn name(&self) -> &'static str {
        "ids"
    }

    fn stats(&self) -> DetectorStats {
        DetectorStats {
            evictions: 0,
            tracked: 0,
            emitted: self.emitted,
        }
    }
}

/// The evidence kind, the campus subject and the peer, or `None` when the alert says nothing
/// about a campus host we may blame (an attempted attack on us is not a compromise).
fn resolve(
    kind: IdsKind,
    side: SubjectSide,
    src: IpAddr,
    dst: IpAddr,
    ctx: &DetectContext<'_>,
) -> Option<(EvidenceKind, IpAddr, IpAddr)> {
    use EvidenceKind as E;
    // Role: the attacker (Category 1 kinds), the victim, or whichever side is campus.
    enum Role {
        Attacker,
        Victim,
        CampusSide,
    }
    let (ev_kind, role) = match kind {
        IdsKind::Ignore => return None,
        IdsKind::Scan => (E::OutboundScan, Role::Attacker),
        IdsKind::Exploit => (E::OutboundExploit, Role::Attacker),
        IdsKind::Dos => (E::OutboundDos, Role::Attacker),
        IdsKind::BruteForce => (E::OutboundBruteForce, Role::Attacker),
        IdsKind::TrojanC2 => (E::TrojanC2, Role::CampusSide),
        IdsKind::MalwareDownload => (E::MalwareDownload, Role::CampusSide),
        IdsKind::InboundCompromise => (E::InboundExploitSuccess, Role::Victim),
        IdsKind::Vulnerable => (E::Vulnerable, Role::CampusSide),
        IdsKind::Evidence(k) => match k {
            E::InboundExploitSuccess => (k, Role::Victim),
            k if k.category() == Category::One => (k, Role::Attacker),
            k => (k, Role::CampusSide),
        },
    };
    let campus = |ip| ctx.campus.contains(ip);
    let (subject, peer) = match (side, role) {
        (SubjectSide::Src, _) | (SubjectSide::Auto, Role::Attacker) => (src, dst),
        (SubjectSide::Dst, _) | (SubjectSide::Auto, Role::Victim) => (dst, src),
        (SubjectSide::Auto, Role::CampusSide) => {
            if campus(src) {
                (src, dst)
            } else {
                (dst, src)
            }
        }
    };
    (campus(subject) && !ctx.allow.contains(subject)).then_some((ev_kind, subject, peer))
}

/// What the Emerging Threats family word (after `ET`/`ETPRO`) says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// The family alone decides.
    Maps(IdsKind),
    /// Policy/informational/hunting families: their classtypes (often `attempted-recon`)
    /// describe the traffic, not a compromise, so they never fall back to the class table.
    Informational,
    /// Not an ET signature, or a family that says nothing: the classtype decides.
    Other,
}

/// Built-in meaning of the Emerging Threats signature families.
fn prefix_default(text: &str) -> Family {
    let mut words = text.split_ascii_whitespace();
    let (Some(vendor), Some(family)) = (words.next(), words.next()) else {
        return Family::Other;
    };
    if !(vendor.eq_ignore_ascii_case("ET") || vendor.eq_ignore_ascii_case("ETPRO")) {
        return Family::Other;
    }
    let is = |f: &str| family.eq_ignore_ascii_case(f);
    if is("SCAN") {
        Family::Maps(IdsKind::Scan)
    } else if is("EXPLOIT") {
        Family::Maps(IdsKind::Exploit)
    } else if is("TROJAN") || is("MALWARE") || is("CNC") {
        Family::Maps(IdsKind::TrojanC2)
    } else if is("POLICY") && (contains_ci(text, "vulnerable") || contains_ci(text, "outdated")) {
        Family::Maps(IdsKind::Vulnerable)
    } else if [
        "POLICY", "INFO", "HUNTING", "GAMES", "CHAT", "P2P", "TOR", "DNS",
    ]
    .iter()
    .any(|f| is(f))
    {
        Family::Informational
    } else {
        Family::Other
    }
}

/// Built-in meaning of Suricata/Snort classtypes, by short name or by the description that
/// Suricata writes into `alert.category`. Classes that say nothing about a compromise
/// (misc activity, bad traffic, policy, decode, not suspicious, unknown) map to nothing: a
/// wrong disconnection costs more than a missed low-grade alert.
fn classtype_default(class: &str) -> Option<IdsKind> {
    const TABLE: &[(&str, &str, IdsKind)] = &[
        (
            "attempted-recon",
            "Attempted Information Leak",
            IdsKind::Scan,
        ),
        ("network-scan", "Detection of a Network Scan", IdsKind::Scan),
        (
            "attempted-admin",
            "Attempted Administrator Privilege Gain",
            IdsKind::Exploit,
        ),
        (
            "attempted-user",
            "Attempted User Privilege Gain",
            IdsKind::Exploit,
        ),
        (
            "unsuccessful-user",
            "Unsuccessful User Privilege Gain",
            IdsKind::Exploit,
        ),
        (
            "web-application-attack",
            "Web Application Attack",
            IdsKind::Exploit,
        ),
        (
            "shellcode-detect",
            "Executable code was detected",
            IdsKind::Exploit,
        ),
        ("attempted-dos", "Attempted Denial of Service", IdsKind::Dos),
        (
            "denial-of-service",
            "Detection of a Denial of Service Attack",
            IdsKind::Dos,
        ),
        (
            "suspicious-login",
            "An attempted login using a suspicious username was detected",
            IdsKind::BruteForce,
        ),
        (
            "default-login-attempt",
            "Attempt to login by a default username and password",
            IdsKind::BruteForce,
        ),
        (
            "trojan-activity",
            "A Network Trojan was detected",
            IdsKind::TrojanC2,
        ),
        (
            "command-and-control",
            "Malware Command and Control Activity Detected",
            IdsKind::TrojanC2,
        ),
        (
            "domain-c2",
            "Domain Observed Used for C2 Detected",
            IdsKind::TrojanC2,
        ),
        (
            "exploit-kit",
            "Exploit Kit Activity Detected",
            IdsKind::MalwareDownload,
        ),
        (
            "successful-admin",
            "Successful Administrator Privilege Gain",
            IdsKind::InboundCompromise,
        ),
        (
            "successful-user",
            "Successful User Privilege Gain",
            IdsKind::InboundCompromise,
        ),
        (
            "policy-violation",
            "Potential Corporate Privacy Violation",
            IdsKind::Ignore,
        ),
        ("bad-unknown", "Potentially Bad Traffic", IdsKind::Ignore),
        ("misc-activity", "Misc activity", IdsKind::Ignore),
        (
            "protocol-command-decode",
            "Generic Protocol Command Decode",
            IdsKind::Ignore,
        ),
        ("not-suspicious", "Not Suspicious Traffic", IdsKind::Ignore),
        ("unknown", "Unknown Traffic", IdsKind::Ignore),
    ];
    let class = class.trim();
    TABLE
        .iter()
        .find(|(short, long, _)| {
            class.eq_ignore_ascii_case(short) || class.eq_ignore_ascii_case(long)
        })
        .map(|&(_, _, kind)| kind)
        .filter(|k| *k != IdsKind::Ignore)
}

/// Case-insensitive (ASCII) substring test; `needle` is already lower-case.
fn contains_ci(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// Signature text for display: control characters replaced, cut at `max` bytes on a char
/// boundary.
fn clean_text(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut s: String = text[..end]
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if end < text.len() {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_by_prefix_and_class() {
        assert_eq!(prefix_default("ET SCAN Nmap"), Family::Maps(IdsKind::Scan));
        assert_eq!(
            prefix_default("ETPRO MALWARE x"),
            Family::Maps(IdsKind::TrojanC2)
        );
        assert_eq!(
            prefix_default("ET POLICY Outdated Flash Version M1"),
            Family::Maps(IdsKind::Vulnerable)
        );
        assert_eq!(
            prefix_default("ET POLICY curl User-Agent"),
            Family::Informational
        );
        assert_eq!(prefix_default("GPL SCAN x"), Family::Other);
        assert_eq!(prefix_default("ET"), Family::Other);
        assert_eq!(
            classtype_default("trojan-activity"),
            Some(IdsKind::TrojanC2)
        );
        assert_eq!(
            classtype_default("a network trojan was detected"),
            Some(IdsKind::TrojanC2)
        );
        assert_eq!(classtype_default("Misc activity"), None);
        assert_eq!(classtype_default("something new"), None);
        assert_eq!(clean_text("a\nb\u{1b}[31m", 256), "a b [31m");
        assert_eq!(clean_text("ééé", 3), "é…");
    }
}
