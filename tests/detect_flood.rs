//! Outbound floods: a campus SYN flood is blamed on its campus source; a spoofed inbound flood
//! blames nobody; browsing bursts and big flow summaries are not floods.
mod detect_support;
use cordon::model::{EvidenceKind, ObsKind, Subject};
use detect_support::*;

#[test]
fn outbound_syn_flood_is_one_dos_per_window() {
    let mut h = Harness::new("", &[]);
    let src = ip("10.8.0.20");
    let target = ip("192.0.2.80");
    // hping3 -S -p 80 --faster: 1,000 SYNs/s from random source ports for 30 s.
    for i in 0..30_000i64 {
        let sport = 1024 + (i % 60_000) as u16;
        h.feed(&conn(
            ObsKind::ConnAttempt,
            at_ms(i),
            src,
            sport,
            target,
            80,
        ));
    }
    let dos = h.of_kind(EvidenceKind::OutboundDos);
    assert!(
        (2..=3).contains(&dos.len()),
        "one per 10 s window, got {}",
        dos.len()
    );
    assert_eq!(dos[0].subject, Subject::Host(src));
    assert_eq!(dos[0].peers, vec![target]);
    assert_eq!(dos[0].ports, vec![80]);
    assert!(dos[0].count >= 2000, "count {}", dos[0].count);
    // The SYN flood crossed 200/s averaged over 10 s after 2,000 SYNs: about 2 s in.
    assert!(dos[0].last_seen <= at(3));
    // The same flood is not a scan (one destination, one port).
    assert!(h.of_kind(EvidenceKind::OutboundScan).is_empty());
}

#[test]
fn spoofed_inbound_flood_blames_nobody() {
    let mut h = Harness::new("", &[]);
    let server = ip("10.0.0.80");
    let mut rng = Rng(3);
    // SYN flood against a campus web server from 50,000 random (spoofed) outside sources.
    for i in 0..50_000i64 {
        let spoofed = outside(rng.next() as u32);
        h.feed(&conn(
            ObsKind::ConnAttempt,
            at_ms(i / 5),
            spoofed,
            1234,
            server,
            80,
        ));
    }
    assert!(h.out.is_empty(), "{:?}", h.out.first());
    // Spoofed sources that claim campus addresses arrive from outside too, but the edge
    // reports them as attempts to a campus destination: never outbound.
    for i in 0..5_000i64 {
        h.feed(&conn(
            ObsKind::ConnAttempt,
            at_ms(20_000 + i),
            ip("10.9.9.9"),
            1234,
            server,
            80,
        ));
    }
    assert!(h.out.is_empty());
}

#[test]
fn require_handshake_ignores_unproven_sources_but_sees_connection_floods() {
    let mut h = Harness::new("[flood]\nrequire_handshake = true\n", &[]);
    let src = ip("10.8.0.21");
    let target = ip("192.0.2.81");
    for i in 0..20_000i64 {
        h.feed(&conn(
            ObsKind::ConnAttempt,
            at_ms(i / 2),
            src,
            2000,
            target,
            80,
        ));
    }
    assert!(h.of_kind(EvidenceKind::OutboundDos).is_empty());
    // An HTTP connection flood: completed handshakes, 500/s.
    for i in 0..5_000i64 {
        h.feed(&conn(
            ObsKind::ConnEstablished,
            at_ms(20_000 + i * 2),
            src,
            2000,
            target,
            80,
        ));
    }
    assert_eq!(h.of_kind(EvidenceKind::OutboundDos).len(), 1);
}

#[test]
fn browsing_bursts_and_big_flow_summaries_are_not_floods() {
    let mut h = Harness::new("", &[]);
    let client = ip("10.30.1.1");
    let cdn = ip("151.101.1.1");
    // Page loads opening 60 connections to one CDN in 1 s, every 2-10 s for 10 minutes.
    let mut rng = Rng(11);
    let mut start = 0i64;
    for _ in 0..100 {
        start += 2000 + rng.below(8000) as i64;
        for c in 0..60i64 {
            let t = at_ms(start + c * 16);
            h.feed(&conn(ObsKind::ConnAttempt, t, client, 40_000, cdn, 443));
            h.feed(&conn(ObsKind::ConnEstablished, t, client, 40_000, cdn, 443));
        }
    }
    // A one-hour video call summarised in one flow record: 400,000 packets at one instant.
    let mut flow = conn(
        ObsKind::Flow,
        at(700),
        client,
        50_000,
        ip("52.114.0.1"),
        3478,
    );
    flow.packets = 400_000;
    h.feed(&flow);
    assert!(h.out.is_empty(), "{:?}", h.out);
}

/// From packets each connection yields an attempt and an establishment: it counts once.
#[test]
fn packet_connections_count_once() {
    let cfg =
        "[flood]\nwindow = \"10s\"\nmin_connections_per_sec = 10\nmin_packets_per_sec = 100000";
    let src = ip("10.8.0.20");
    let target = ip("192.0.2.80");
    // 60 completed connections in 10 s: 6/s, below 10/s. Counted twice it would be 12/s.
    let mut h = Harness::new(cfg, &[]);
    for i in 0..60i64 {
        let sport = 2000 + i as u16;
        let t = at_ms(i * 150);
        h.feed(&from_packets(conn(
            ObsKind::ConnAttempt,
            t,
            src,
            sport,
            target,
            80,
        )));
        h.feed(&from_packets(conn(
            ObsKind::ConnEstablished,
            t,
            src,
            sport,
            target,
            80,
        )));
    }
    assert!(h.of_kind(EvidenceKind::OutboundDos).is_empty());
    // 120 attempts in 10 s is 12/s: a flood.
    for i in 0..120i64 {
        let t = at(20) + jiff::SignedDuration::from_millis(i * 75);
        h.feed(&from_packets(conn(
            ObsKind::ConnAttempt,
            t,
            src,
            3000 + i as u16,
            target,
            80,
        )));
    }
    let dos = h.of_kind(EvidenceKind::OutboundDos);
    assert_eq!(dos.len(), 1);
    assert_eq!(
        dos[0].count, 100,
        "emitted when the 100th attempt crossed the threshold"
    );
}
