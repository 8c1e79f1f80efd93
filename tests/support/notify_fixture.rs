//! Shared fixtures for the notify/api integration tests: a fully populated incident with its
//! evidence, and a config. Use with `#[path = "support/notify_fixture.rs"] mod notify_fixture;`.
#![allow(dead_code)]

use cordon::config::Config;
use cordon::model::*;
use jiff::Timestamp;
use std::net::IpAddr;

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub const TZ: &str = "America/New_York";

pub fn config_text(extra_notify: &str) -> String {
    format!(
        r#"
[campus]
networks = ["10.0.0.0/8"]

[calendar]
timezone = "{TZ}"

[office]
name = "Campus Security Office"
email = "security@campus.edu"

[severity.notify]
high = ["ciso@campus.edu", "cio@campus.edu"]
medium = ["it-managers@campus.edu"]

[notify]
from = "cordon <cordon@campus.edu>"
answer_base_url = "https://cordon.campus.edu"
token_secret = "test-secret-0123456789"
{extra_notify}
"#
    )
}

pub fn config(extra_notify: &str) -> Config {
    // Only the schema: these tests build partial configs (e.g. no channel at all).
    cordon::config::read(&config_text(extra_notify)).unwrap()
}

pub fn evidence() -> Evidence {
    let ip: IpAddr = "10.1.2.3".parse().unwrap();
    let mut e = Evidence {
        kind: EvidenceKind::OutboundScan,
        subject: Subject::Host(ip),
        first_seen: ts("2026-11-20T21:02:11Z"),
        last_seen: ts("2026-11-20T21:05:40Z"),
        count: 412,
        proto: Proto::Tcp,
        ports: vec![],
        peers: vec![],
        peer_count: 0,
        signature: Some("ET SCAN Potential SSH Scan OUTBOUND".into()),
        signature_id: Some(2003068),
        account: None,
        raw: vec![],
        detector: "scan".into(),
        sensor: "edge-fw".into(),
    };
    e.push_port(22);
    e.push_port(2222);
    e.push_peer("203.0.113.7".parse().unwrap());
    e.push_peer("198.51.100.23".parse().unwrap());
    e.push_raw(
        "Nov 20 16:02:11 fw kernel: IN=eth1 OUT=eth0 SRC=10.1.2.3 DST=203.0.113.7 PROTO=TCP SPT=51000 DPT=22 SYN",
    );
    e.push_raw(
        "Nov 20 16:02:12 fw kernel: IN=eth1 OUT=eth0 SRC=10.1.2.3 DST=198.51.100.23 PROTO=TCP SPT=51001 DPT=2222 SYN",
    );
    e
}

pub fn incident(category: Category) -> Incident {
    let ip: IpAddr = "10.1.2.3".parse().unwrap();
    let opened = ts("2026-11-20T21:06:00Z");
    Incident {
        id: IncidentId::new(2026, 123),
        subject: Subject::Host(ip),
        host: HostInfo {
            ip: Some(ip),
            mac: Some("00:11:22:33:44:55".parse().unwrap()),
            hostname: Some("lab-ws-17.chem.campus.edu".into()),
            os: Some("Ubuntu 24.04".into()),
            asset_tag: Some("A-99812".into()),
            location: Some("Chemistry 204".into()),
            network: Some("Chemistry".into()),
            ..HostInfo::default()
        },
        owner: Some(Owner {
            name: "Dana Owner".into(),
            email: "dana@chem.campus.edu".into(),
        }),
        category,
        severity: Severity::Medium,
        spread: 1,
        phase: Phase::Open,
        opened_at: opened,
        first_seen: ts("2026-11-20T21:02:11Z"),
        last_seen: ts("2026-11-20T21:05:40Z"),
        evidence_kinds: vec![EvidenceKind::OutboundScan],
        evidence_count: 1,
        account: None,
        first_notice_at: Some(opened),
        second_notice_at: None,
        category_since: opened,
        owner_unreachable: false,
        answered_at: None,
        plan: None,
        deferral: None,
        approved: false,
        enforced_at: None,
        released_at: None,
        resolved_at: None,
        closed_at: None,
        deadlines: vec![Deadline {
            kind: DeadlineKind::AnswerDue,
            at: ts("2026-11-20T21:21:00Z"),
        }],
        effect_seq: 1,
    }
}
