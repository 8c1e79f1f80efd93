//! Outbound brute force: a campus host hammering outside ssh servers (packet path and auth
//! records); inbound guessing and a few admin sessions are not outbound brute force.
mod detect_support;
use cordon::model::{EvidenceKind, ObsKind, Subject};
use detect_support::*;

#[test]
fn many_short_ssh_sessions_to_one_outside_server() {
    let mut h = Harness::new("", &[]);
    let src = ip("10.50.0.9");
    let server = ip("203.0.113.22");
    // hydra: a new ssh connection every 2 s, each completing its handshake.
    for i in 0..100i64 {
        let t = at(i * 2);
        h.feed(&conn(
            ObsKind::ConnAttempt,
            t,
            src,
            40_000 + i as u16,
            server,
            22,
        ));
        h.feed(&conn(
            ObsKind::ConnEstablished,
            t,
            src,
            40_000 + i as u16,
            server,
            22,
        ));
    }
    let bf = h.of_kind(EvidenceKind::OutboundBruteForce);
    assert_eq!(bf.len(), 1, "one per 5-minute window over 200 s");
    assert_eq!(bf[0].subject, Subject::Host(src));
    assert_eq!(bf[0].peers, vec![server]);
    assert_eq!(bf[0].ports, vec![22]);
    assert_eq!(bf[0].last_seen, at(58), "30th connection");
    assert!(h.of_kind(EvidenceKind::OutboundScan).is_empty());
}

#[test]
fn auth_failures_from_a_campus_source_against_outside_servers() {
    let mut h = Harness::new("", &[]);
    let src = ip("10.50.0.10");
    for i in 0..25u32 {
        h.feed(&auth(
            ObsKind::AuthFailure,
            at(i64::from(i) * 3),
            src,
            Some(outside(i % 4)),
            "root",
        ));
    }
    let bf = h.of_kind(EvidenceKind::OutboundBruteForce);
    assert_eq!(bf.len(), 1);
    assert_eq!(bf[0].peer_count, 4);
    assert_eq!(bf[0].last_seen, at(57), "20th failure");
}

#[test]
fn ssh_to_many_outside_servers() {
    let mut h = Harness::new("", &[]);
    let src = ip("10.50.0.11");
    for i in 0..30u32 {
        h.feed(&conn(
            ObsKind::ConnEstablished,
            at(i64::from(i) * 5),
            src,
            40_000,
            outside(i * 31),
            22,
        ));
    }
    assert_eq!(h.of_kind(EvidenceKind::OutboundBruteForce).len(), 1);
}

#[test]
fn inbound_guessing_and_admin_sessions_are_not_outbound_brute_force() {
    let mut h = Harness::new("", &[]);
    let server = ip("10.0.0.22");
    let attacker = ip("185.220.101.1");
    for i in 0..500i64 {
        h.feed(&auth(
            ObsKind::AuthFailure,
            at(i),
            attacker,
            Some(server),
            "admin",
        ));
        h.feed(&conn(
            ObsKind::ConnEstablished,
            at(i),
            attacker,
            40_000,
            server,
            22,
        ));
    }
    // An admin opening 8 ssh sessions to two outside machines in a few minutes.
    let admin = ip("10.50.0.12");
    for i in 0..8u32 {
        h.feed(&conn(
            ObsKind::ConnEstablished,
            at(600 + i64::from(i) * 20),
            admin,
            40_000,
            outside(i % 2),
            22,
        ));
    }
    assert!(h.out.is_empty(), "{:?}", h.out.first());
}

/// From packets an SSH session yields an establishment and a summary: one connection.
#[test]
fn packet_sessions_count_once() {
    let mut h = Harness::new("", &[]);
    let src = ip("10.20.0.2");
    let server = ip("198.51.100.2");
    // 20 sessions (below the default 30 to one server), each seen twice from packets.
    for i in 0..20i64 {
        let t = at(i * 2);
        let sport = 50_000 + i as u16;
        h.feed(&from_packets(conn(
            ObsKind::ConnEstablished,
            t,
            src,
            sport,
            server,
            22,
        )));
        h.feed(&from_packets(conn(
            ObsKind::Flow,
            t,
            src,
            sport,
            server,
            22,
        )));
    }
    assert!(h.of_kind(EvidenceKind::OutboundBruteForce).is_empty());
    // Ten more: 30 sessions.
    for i in 20..30i64 {
        let t = at(i * 2);
        h.feed(&from_packets(conn(
            ObsKind::ConnEstablished,
            t,
            src,
            50_000 + i as u16,
            server,
            22,
        )));
    }
    let bf = h.of_kind(EvidenceKind::OutboundBruteForce);
    assert_eq!(bf.len(), 1);
}
