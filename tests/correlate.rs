//! Inventory lookups and correlation: owners by host record and most specific network,
//! protected assets, account owners, category, spread (bounded, 24 h of data time) and
//! severity.
use cordon::config::{CampusConfig, InventoryConfig, SeverityConfig};
use cordon::inventory::{Correlator, Inventory};
use cordon::model::{
    AccountName, Category, Evidence, EvidenceKind, Owner, Proto, Severity, Subject,
};
use jiff::{SignedDuration, Timestamp};
use std::net::IpAddr;

const INVENTORY: &str = r#"
account_pattern = "^[a-z_][a-z0-9._-]{0,31}$"
account_email_domain = "campus.example.edu"
protected = ["10.0.0.1/32", "10.0.0.53/32"]
allow = ["10.20.0.25/32", "198.51.100.7/32"]

[[networks]]
cidr = "10.0.0.0/8"
name = "Campus"
owner = "Network team"
email = "netops@campus.example.edu"

[[networks]]
cidr = "10.10.0.0/16"
name = "Chemistry"
owner = "Chemistry IT"
email = "it@chem.campus.example.edu"

[[networks]]
cidr = "10.10.5.0/24"
name = "Chemistry labs"
owner = "Chem lab admins"
email = "labs@chem.campus.example.edu"

[[networks]]
cidr = "10.99.0.0/16"
name = "Guest wireless"

[[networks]]
cidr = "fd00:10::/32"
name = "Chemistry (IPv6)"
owner = "Chemistry IT"
email = "it@chem.campus.example.edu"

[[hosts]]
ip = "10.0.0.1"
hostname = "edge-rtr-1.campus.example.edu"
os = "Junos"
location = "Data center A"
owner = "Network team"
email = "netops@campus.example.edu"

[[hosts]]
ip = "10.10.5.20"
mac = "52:54:00:12:34:56"
hostname = "nmr-ctl.chem.campus.example.edu"
os = "Windows 10"
asset_tag = "CH-0042"
location = "Chemistry B12"
owner = "Dr. Rivera"
email = "rivera@chem.campus.example.edu"
critical = true
confidential_data = true

[[hosts]]
ip = "10.10.5.21"
hostname = "spare.chem.campus.example.edu"
protected = true

[[accounts]]
name = "jdoe"
owner = "Jane Doe"
email = "jane.doe@campus.example.edu"

[[accounts]]
name = "registrar"
owner = "Registrar office"
email = "registrar@campus.example.edu"
protected = true
"#;

fn inventory() -> Inventory {
    let inv: InventoryConfig = toml::from_str(INVENTORY).expect("inventory");
    let campus: CampusConfig =
        toml::from_str(r#"networks = ["10.0.0.0/8", "fd00::/8"]"#).expect("campus");
    Inventory::new(&inv, &campus)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn owner(name: &str, email: &str) -> Option<Owner> {
    Some(Owner {
        name: name.into(),
        email: email.into(),
    })
}

fn t0() -> Timestamp {
    "2026-11-23T09:00:00-05:00".parse().unwrap()
}

fn evidence(kind: EvidenceKind, subject: Subject, hours: i64, sid: Option<u64>) -> Evidence {
    let t = t0() + SignedDuration::from_hours(hours);
    Evidence {
        kind,
        subject,
        first_seen: t,
        last_seen: t,
        count: 1,
        proto: Proto::Tcp,
        ports: vec![443],
        peers: vec![ip("203.0.113.5")],
        peer_count: 1,
        signature: sid.map(|s| format!("ET MALWARE test {s}")),
        signature_id: sid,
        account: None,
        raw: vec!["raw line".into()],
        detector: if sid.is_some() { "ids" } else { "scan" }.into(),
        sensor: "test".into(),
    }
}

fn host_ev(kind: EvidenceKind, addr: &str, hours: i64, sid: Option<u64>) -> Evidence {
    evidence(kind, Subject::Host(ip(addr)), hours, sid)
}

#[test]
fn most_specific_network_owner_wins_and_host_records_override() {
    let inv = inventory();
    let (h, o) = inv.host(ip("10.10.9.9"));
    assert_eq!(h.network.as_deref(), Some("Chemistry"));
    assert_eq!(o, owner("Chemistry IT", "it@chem.campus.example.edu"));
    let (h, o) = inv.host(ip("10.10.5.99"));
    assert_eq!(h.network.as_deref(), Some("Chemistry labs"));
    assert_eq!(o, owner("Chem lab admins", "labs@chem.campus.example.edu"));
    let (h, o) = inv.host(ip("10.40.0.1"));
    assert_eq!(h.network.as_deref(), Some("Campus"));
    assert_eq!(o, owner("Network team", "netops@campus.example.edu"));

    let (h, o) = inv.host(ip("10.10.5.20"));
    assert_eq!(o, owner("Dr. Rivera", "rivera@chem.campus.example.edu"));
    assert_eq!(h.ip, Some(ip("10.10.5.20")));
    assert_eq!(
        h.mac.map(|m| m.to_string()).as_deref(),
        Some("52:54:00:12:34:56")
    );
    assert_eq!(
        h.hostname.as_deref(),
        Some("nmr-ctl.chem.campus.example.edu")
    );
    assert_eq!(h.os.as_deref(), Some("Windows 10"));
    assert_eq!(h.asset_tag.as_deref(), Some("CH-0042"));
    assert_eq!(h.location.as_deref(), Some("Chemistry B12"));
    assert_eq!(h.network.as_deref(), Some("Chemistry labs"));
    assert!(h.critical && h.confidential_data && !h.protected);

    // A host record without an email keeps the network owner, but its flags apply.
    let (h, o) = inv.host(ip("10.10.5.21"));
    assert!(h.protected);
    assert_eq!(o, owner("Chem lab admins", "labs@chem.campus.example.edu"));
}

#[test]
fn ownerless_network_protected_list_ipv6_and_mapped_addresses() {
    let inv = inventory();
    let (h, o) = inv.host(ip("10.99.3.4"));
    assert_eq!(h.network.as_deref(), Some("Guest wireless"));
    assert_eq!(o, None, "no owner: policy enforces Category 1 at once");
    let (h, _) = inv.host(ip("10.0.0.53"));
    assert!(h.protected, "protected by inventory.protected alone");
    let (h, o) = inv.host(ip("10.0.0.1"));
    assert!(h.protected);
    assert_eq!(h.os.as_deref(), Some("Junos"));
    assert_eq!(o, owner("Network team", "netops@campus.example.edu"));
    let (h, o) = inv.host(ip("fd00:10::44"));
    assert_eq!(h.network.as_deref(), Some("Chemistry (IPv6)"));
    assert_eq!(o, owner("Chemistry IT", "it@chem.campus.example.edu"));
    let (h, o) = inv.host(ip("::ffff:10.10.5.20"));
    assert_eq!(h.ip, Some(ip("10.10.5.20")));
    assert_eq!(o, owner("Dr. Rivera", "rivera@chem.campus.example.edu"));
    let (h, o) = inv.host(ip("fd00:99::1"));
    assert_eq!((h.network, o), (None, None));

    assert!(inv.campus().contains(ip("fd00:99::1")));
    assert!(!inv.campus().contains(ip("192.0.2.1")));
    assert!(inv.allow().contains(ip("198.51.100.7")));
    assert!(!inv.allow().contains(ip("10.20.0.26")));
    assert!(inv.account_pattern().is_match("jdoe"));
    assert!(!inv.account_pattern().is_match("Root;id"));
}

#[test]
fn account_owners_explicit_then_domain() {
    let inv = inventory();
    let pat = inv.account_pattern().clone();
    let name = |s: &str| AccountName::parse_with(s, &pat).unwrap();
    assert_eq!(
        inv.account(&name("jdoe")),
        (owner("Jane Doe", "jane.doe@campus.example.edu"), false)
    );
    assert_eq!(
        inv.account(&name("registrar")),
        (
            owner("Registrar office", "registrar@campus.example.edu"),
            true
        )
    );
    assert_eq!(
        inv.account(&name("mkim")),
        (owner("mkim", "mkim@campus.example.edu"), false)
    );
    // Without a domain, an unknown account has nobody to tell.
    let mut cfg: InventoryConfig = toml::from_str(INVENTORY).unwrap();
    cfg.account_email_domain = None;
    let campus: CampusConfig = toml::from_str(r#"networks = ["10.0.0.0/8"]"#).unwrap();
    let bare = Inventory::new(&cfg, &campus);
    assert_eq!(bare.account(&name("mkim")), (None, false));
    assert_eq!(
        bare.account(&name("jdoe")),
        (owner("Jane Doe", "jane.doe@campus.example.edu"), false)
    );
}

#[test]
fn findings_carry_context_category_and_severity() {
    let inv = inventory();
    let sev = SeverityConfig::default();
    let mut c = Correlator::new(1000);

    let f = c.finding(
        host_ev(EvidenceKind::Vulnerable, "10.10.9.9", 0, Some(2014297)),
        &inv,
        &sev,
    );
    assert_eq!(f.category, Category::Three);
    assert_eq!(f.severity, Severity::Low);
    assert_eq!(f.spread, 1);
    assert_eq!(f.owner, owner("Chemistry IT", "it@chem.campus.example.edu"));
    assert_eq!(f.evidence.raw, vec!["raw line".to_string()]);

    // Same kind on the critical, confidential host → High regardless of spread.
    let f = c.finding(
        host_ev(EvidenceKind::Vulnerable, "10.10.5.20", 0, Some(2014297)),
        &inv,
        &sev,
    );
    assert_eq!((f.severity, f.spread), (Severity::High, 2));
    assert_eq!(f.host.asset_tag.as_deref(), Some("CH-0042"));

    let f = c.finding(
        host_ev(EvidenceKind::OutboundScan, "10.99.3.4", 0, None),
        &inv,
        &sev,
    );
    assert_eq!(f.category, Category::One);
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.owner, None);
    assert_eq!(f.host.network.as_deref(), Some("Guest wireless"));

    let pat = inv.account_pattern().clone();
    let acct = AccountName::parse_with("registrar", &pat).unwrap();
    let f = c.finding(
        evidence(
            EvidenceKind::AccountCompromise,
            Subject::Account(acct),
            0,
            None,
        ),
        &inv,
        &sev,
    );
    assert_eq!(f.category, Category::One);
    assert!(f.host.protected, "account record's protected flag");
    assert_eq!(f.host.ip, None);
    assert_eq!(
        f.owner,
        owner("Registrar office", "registrar@campus.example.edu")
    );
}

#[test]
fn spread_counts_distinct_subjects_per_signature_within_24h() {
    let inv = inventory();
    let sev = SeverityConfig::default(); // medium at 3, high at 10
    let mut c = Correlator::new(1000);
    let trojan = |c: &mut Correlator, addr: &str, h: i64, sid: u64| {
        c.finding(
            host_ev(EvidenceKind::TrojanC2, addr, h, Some(sid)),
            &inv,
            &sev,
        )
    };
    assert_eq!(trojan(&mut c, "10.30.0.1", 0, 7).spread, 1);
    // The same host again does not count twice.
    assert_eq!(trojan(&mut c, "10.30.0.1", 1, 7).spread, 1);
    assert_eq!(trojan(&mut c, "10.30.0.2", 1, 7).spread, 2);
    // A different signature is a different finding.
    assert_eq!(trojan(&mut c, "10.30.0.3", 1, 8).spread, 1);
    let f = trojan(&mut c, "10.30.0.4", 2, 7);
    assert_eq!((f.spread, f.severity), (3, Severity::Medium));
    for i in 5..=11 {
        trojan(&mut c, &format!("10.30.0.{i}"), 3, 7);
    }
    let f = trojan(&mut c, "10.30.0.12", 3, 7);
    assert_eq!((f.spread, f.severity), (11, Severity::High));
    // 26 h later only the hosts seen within the last 24 h count: 10.30.0.1 (seen at h1)
    // aged out, as did everything else; the newcomer is alone.
    let f = trojan(&mut c, "10.30.0.99", 28, 7);
    assert_eq!((f.spread, f.severity), (1, Severity::Low));
    assert_eq!(c.evictions(), 0, "ageing out is not eviction");
}

#[test]
fn spread_tracker_is_bounded_and_counts_evictions() {
    let inv = inventory();
    let sev = SeverityConfig::default();
    let mut c = Correlator::new(50);
    // Spoofed-looking flood of distinct subjects and signatures.
    for i in 0..500u32 {
        let addr = format!("10.50.{}.{}", i / 250, i % 250);
        let f = c.finding(
            host_ev(EvidenceKind::OutboundScan, &addr, 0, Some(u64::from(i % 7))),
            &inv,
            &sev,
        );
        assert!(f.spread >= 1);
        assert!(c.tracked() <= 50);
    }
    assert_eq!(c.tracked(), 50);
    assert_eq!(c.evictions(), 450);
}

#[test]
fn full_tracker_evicts_the_oldest_subject_first() {
    let inv = inventory();
    let sev = SeverityConfig::default();
    let mut c = Correlator::new(3);
    let mut feed = |addr: &str, h: i64| {
        c.finding(
            host_ev(EvidenceKind::TrojanC2, addr, h, Some(1)),
            &inv,
            &sev,
        )
        .spread
    };
    assert_eq!(feed("10.30.0.1", 0), 1);
    assert_eq!(feed("10.30.0.2", 2), 2);
    assert_eq!(feed("10.30.0.3", 1), 3);
    // Full: the newcomer pushes out 10.30.0.1 (oldest data time), not .2 or .3.
    assert_eq!(feed("10.30.0.4", 3), 3);
    // .1 comes back as new (evicting .3, now the oldest); .2 is still there (no growth).
    assert_eq!(feed("10.30.0.1", 4), 3);
    assert_eq!(feed("10.30.0.2", 5), 3);
    assert_eq!(c.evictions(), 2);
    assert_eq!(c.tracked(), 3);
}
