//! Outbound scan: horizontal and vertical positives; internal traffic, inbound scans, NAT,
//! allow-listed scanners, spread and slow traffic as negatives.
mod detect_support;
use cordon::model::{EvidenceKind, ObsKind, Subject};
use detect_support::*;

const DENY: &str = "Nov 23 09:00:01 edge kernel: [FW-DROP] IN=eth1 OUT=eth0 SRC=10.1.2.3 DST=203.0.113.9 LEN=60 PROTO=TCP SPT=40000 DPT=23 SYN";

#[test]
fn horizontal_sweep_of_port_23_is_one_scan_per_window() {
    let mut h = Harness::new("", &[]);
    let src = ip("10.1.2.3");
    // A Mirai-style telnet sweep: 20 SYNs/s to random outside addresses for 5 minutes.
    let mut rng = Rng(7);
    for i in 0..(20 * 300) {
        let o = conn(
            ObsKind::ConnDenied,
            at_ms(i * 50),
            src,
            40_000,
            outside(rng.next() as u32),
            23,
        );
        h.feed(&with_raw(o, DENY));
    }
    let scans = h.of_kind(EvidenceKind::OutboundScan);
    // One per 60 s window at most: 5 minutes → 5 (never per packet).
    assert!((4..=5).contains(&scans.len()), "got {}", scans.len());
    let first = scans[0];
    assert_eq!(first.subject, Subject::Host(src));
    assert!(first.peer_count >= 100, "peer_count {}", first.peer_count);
    assert_eq!(first.ports, vec![23]);
    assert_eq!(first.peers.len(), 32, "peer list is capped");
    assert_eq!(first.raw.first().map(String::as_str), Some(DENY));
    assert_eq!(first.detector, "scan");
    assert_eq!(first.sensor, "test-sensor");
    // Crossed the threshold after ~100 probes at 20/s: about 5 s in.
    assert!(first.last_seen <= at(6), "{}", first.last_seen);
    assert_eq!(h.det.stats().scan.emitted, scans.len() as u64);
}

#[test]
fn vertical_port_scan_of_one_outside_host() {
    let mut h = Harness::new("", &[]);
    let src = ip("10.20.0.5");
    let target = ip("198.51.100.7");
    // nmap -sS top ports: SYN to 1000 ports in 4 s, a few answered (open ports complete).
    for p in 1..=1000u16 {
        let t = at_ms(i64::from(p) * 4);
        h.feed(&conn(ObsKind::ConnAttempt, t, src, 51_000, target, p));
        if p == 22 || p == 80 || p == 443 {
            h.feed(&conn(ObsKind::ConnEstablished, t, src, 51_000, target, p));
        }
    }
    let scans = h.of_kind(EvidenceKind::OutboundScan);
    assert_eq!(scans.len(), 1);
    assert_eq!(scans[0].subject, Subject::Host(src));
    assert_eq!(scans[0].peers, vec![target]);
    assert_eq!(scans[0].ports.len(), 32);
}

#[test]
fn ipv6_vertical_scan() {
    let mut h = Harness::new("[scan]\nvertical_min_ports = 20\n", &[]);
    let src = ip("2001:db8:1::10");
    let target = ip("2a00:1450::1");
    for p in 1000..1030u16 {
        h.feed(&conn(
            ObsKind::ConnAttempt,
            at(i64::from(p - 1000)),
            src,
            40_000,
            target,
            p,
        ));
    }
    assert_eq!(h.of_kind(EvidenceKind::OutboundScan).len(), 1);
}

#[test]
fn backup_server_to_many_ports_on_one_internal_host_is_not_a_scan() {
    let mut h = Harness::new("", &[]);
    let backup = ip("10.0.5.5");
    let fileserver = ip("10.0.9.9");
    for p in 1..=2000u16 {
        h.feed(&conn(
            ObsKind::ConnAttempt,
            at_ms(i64::from(p)),
            backup,
            40_000,
            fileserver,
            p,
        ));
    }
    assert!(h.out.is_empty(), "{:?}", h.out);
}

#[test]
fn outside_host_scanning_campus_gives_no_evidence() {
    let mut h = Harness::new("", &[]);
    let attacker = ip("45.155.205.1");
    for i in 0..5000u32 {
        let victim = std::net::IpAddr::V4(std::net::Ipv4Addr::from(0x0A00_0000 | i));
        h.feed(&conn(
            ObsKind::ConnDenied,
            at_ms(i64::from(i)),
            attacker,
            40_000,
            victim,
            22,
        ));
        h.feed(&conn(
            ObsKind::ConnDenied,
            at_ms(i64::from(i)),
            attacker,
            40_000,
            ip("10.0.0.1"),
            (i % 60000) as u16 + 1,
        ));
    }
    assert!(h.out.is_empty());
}

#[test]
fn nat_gateway_with_busy_completed_connections_is_not_a_scan() {
    let mut h = Harness::new("", &[]);
    let nat = ip("10.255.0.1");
    let mut rng = Rng(99);
    // 3,000 users behind one address: 50 new HTTPS connections per second to 50 distinct
    // outside sites, all completing, for 2 minutes.
    for i in 0..(50 * 120) {
        let t = at_ms(i * 20);
        let dst = outside(rng.next() as u32);
        h.feed(&conn(ObsKind::ConnAttempt, t, nat, 30_000, dst, 443));
        h.feed(&conn(
            ObsKind::ConnEstablished,
            t + jiff::SignedDuration::from_millis(15),
            nat,
            30_000,
            dst,
            443,
        ));
    }
    assert!(h.of_kind(EvidenceKind::OutboundScan).is_empty());
}

#[test]
fn nat_gateway_that_does_probe_is_silenced_by_the_allow_list() {
    let mut h = Harness::new("", &["10.255.0.1/32"]);
    let nat = ip("10.255.0.1");
    for i in 0..1000u32 {
        h.feed(&conn(
            ObsKind::ConnDenied,
            at_ms(i64::from(i) * 10),
            nat,
            30_000,
            outside(i),
            445,
        ));
    }
    assert!(h.out.is_empty());
}

#[test]
fn spread_below_threshold_and_slow_scans_across_windows_are_quiet() {
    let mut h = Harness::new("", &[]);
    let src = ip("10.3.3.3");
    // 99 distinct destinations in one window: one short of the threshold.
    for i in 0..99u32 {
        h.feed(&conn(
            ObsKind::ConnDenied,
            at_ms(i64::from(i) * 100),
            src,
            40_000,
            outside(i),
            80,
        ));
    }
    // 48 more ports on a host already probed on 80: 49, one short of the vertical threshold.
    for p in 1..49u16 {
        h.feed(&conn(
            ObsKind::ConnDenied,
            at_ms(20_000 + i64::from(p)),
            src,
            40_000,
            outside(0),
            p,
        ));
    }
    assert!(h.out.is_empty(), "{:#?}", h.out);
    // Slow sweep: one new address every 1.5 s for an hour (40 per window).
    let mut h = Harness::new("", &[]);
    for i in 0..2400u32 {
        h.feed(&conn(
            ObsKind::ConnDenied,
            at_ms(i64::from(i) * 1500),
            src,
            40_000,
            outside(i),
            22,
        ));
    }
    assert!(h.out.is_empty());
}

#[test]
fn established_flows_are_not_probes_but_tiny_flows_are() {
    let mut h = Harness::new("", &[]);
    let src = ip("10.4.4.4");
    for i in 0..300u32 {
        let mut o = conn(
            ObsKind::Flow,
            at_ms(i64::from(i) * 100),
            src,
            40_000,
            outside(i),
            443,
        );
        o.packets = 40;
        o.bytes = 30_000;
        h.feed(&o);
    }
    assert!(h.out.is_empty(), "full flows must not count");
    for i in 0..300u32 {
        let mut o = conn(
            ObsKind::Flow,
            at_ms(40_000 + i64::from(i) * 10),
            src,
            40_000,
            outside(10_000 + i),
            3389,
        );
        o.packets = 2;
        h.feed(&o);
    }
    assert_eq!(h.of_kind(EvidenceKind::OutboundScan).len(), 1);
}

/// From packets a connection arrives as an attempt, then its verdict: only the failures are
/// probes. Attempts that succeed, or whose verdict has not come, count for nothing.
#[test]
fn packet_attempts_count_only_once_judged_failed() {
    let mut h = Harness::new("", &[]);
    let src = ip("10.20.0.9");
    // 300 outside web servers, every connection answered: a busy client, not a scanner.
    for i in 0..300u32 {
        let t = at_ms(i64::from(i) * 10);
        h.feed(&from_packets(conn(
            ObsKind::ConnAttempt,
            t,
            src,
            40_000,
            outside(i),
            443,
        )));
        h.feed(&from_packets(conn(
            ObsKind::ConnEstablished,
            t,
            src,
            40_000,
            outside(i),
            443,
        )));
        h.feed(&from_packets(conn(
            ObsKind::Flow,
            t,
            src,
            40_000,
            outside(i),
            443,
        )));
    }
    // 300 attempts still waiting for their verdict (a slow network): nothing yet either.
    for i in 1000..1300u32 {
        let t = at_ms(3_000 + i64::from(i));
        h.feed(&from_packets(conn(
            ObsKind::ConnAttempt,
            t,
            src,
            40_000,
            outside(i),
            23,
        )));
    }
    assert!(h.out.is_empty(), "{:?}", h.out.first());
    // The verdicts arrive: no answer from any of them. Now it is a sweep.
    for i in 1000..1300u32 {
        let t = at_ms(8_000 + i64::from(i));
        h.feed(&from_packets(conn(
            ObsKind::ConnFailed,
            t,
            src,
            40_000,
            outside(i),
            23,
        )));
    }
    let scans = h.of_kind(EvidenceKind::OutboundScan);
    assert_eq!(scans.len(), 1);
    assert_eq!(scans[0].subject, Subject::Host(src));
    assert_eq!(scans[0].ports, vec![23]);
    assert!(scans[0].peer_count >= 100);
}

/// A destination judged failed and answered later (a SYN retransmission that got through)
/// leaves the count again, as a log record's answer does.
#[test]
fn a_late_answer_takes_a_failed_packet_attempt_back() {
    let mut h = Harness::new("[scan]\nhorizontal_min_destinations = 10", &[]);
    let src = ip("10.20.0.9");
    for i in 0..9u32 {
        let t = at(i64::from(i));
        h.feed(&from_packets(conn(
            ObsKind::ConnFailed,
            t,
            src,
            40_000,
            outside(i),
            443,
        )));
        h.feed(&from_packets(conn(
            ObsKind::ConnEstablished,
            t,
            src,
            40_000,
            outside(i),
            443,
        )));
    }
    h.feed(&from_packets(conn(
        ObsKind::ConnFailed,
        at(9),
        src,
        40_000,
        outside(9),
        443,
    )));
    assert!(h.out.is_empty(), "1 unanswered destination of 10");
}
