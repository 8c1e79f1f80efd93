//! Beaconing: a 60 s ± 1 s beacon is Category 2 evidence; irregular contacts, NTP/DNS,
//! allow-listed destinations and short series are not.
mod detect_support;
use cordon::model::{Category, EvidenceKind, ObsKind, Subject};
use detect_support::*;

/// Contacts from `src` to `dst` at `period_ms` ± `jitter_ms`, with a SYN and its handshake
/// 20 ms apart (the same contact).
fn beacon(
    h: &mut Harness,
    (src, dst, port): (&str, &str, u16),
    n: i64,
    (period_ms, jitter_ms, seed): (i64, i64, u64),
) {
    let mut rng = Rng(seed);
    for i in 0..n {
        let jitter = if jitter_ms == 0 {
            0
        } else {
            rng.below(2 * jitter_ms as u64 + 1) as i64 - jitter_ms
        };
        let t = i * period_ms + jitter;
        h.feed(&conn(
            ObsKind::ConnAttempt,
            at_ms(t),
            ip(src),
            50_000,
            ip(dst),
            port,
        ));
        h.feed(&conn(
            ObsKind::ConnEstablished,
            at_ms(t + 20),
            ip(src),
            50_000,
            ip(dst),
            port,
        ));
    }
}

#[test]
fn sixty_second_beacon_with_one_second_jitter() {
    let mut h = Harness::new("", &[]);
    beacon(
        &mut h,
        ("10.70.0.7", "193.42.33.7", 443),
        20,
        (60_000, 1000, 5),
    );
    let ev = h.of_kind(EvidenceKind::Beacon);
    assert_eq!(ev.len(), 1, "re-emitted at most hourly");
    assert_eq!(ev[0].subject, Subject::Host(ip("10.70.0.7")));
    assert_eq!(ev[0].kind.category(), Category::Two);
    assert_eq!(ev[0].peers, vec![ip("193.42.33.7")]);
    assert_eq!(ev[0].ports, vec![443]);
    assert_eq!(ev[0].count, 12, "emitted at the 12th contact");
}

#[test]
fn irregular_contacts_are_not_a_beacon() {
    let mut h = Harness::new("", &[]);
    let mut rng = Rng(17);
    let mut t = 0i64;
    for _ in 0..200 {
        t += 10_000 + rng.below(290_000) as i64;
        h.feed(&conn(
            ObsKind::ConnEstablished,
            at_ms(t),
            ip("10.70.0.8"),
            50_000,
            ip("140.82.112.3"),
            443,
        ));
    }
    assert!(h.out.is_empty());
}

#[test]
fn ntp_dns_allow_listed_and_short_series_are_not_beacons() {
    let mut h = Harness::new("", &["198.51.100.0/24"]);
    beacon(
        &mut h,
        ("10.70.0.9", "162.159.200.1", 123),
        50,
        (64_000, 0, 1),
    );
    beacon(&mut h, ("10.70.0.9", "9.9.9.9", 53), 50, (30_000, 0, 1));
    // Our monitoring collector outside campus, allow-listed.
    beacon(
        &mut h,
        ("10.70.0.9", "198.51.100.50", 443),
        50,
        (60_000, 0, 1),
    );
    // 11 contacts only.
    beacon(
        &mut h,
        ("10.70.0.10", "193.42.33.8", 443),
        11,
        (60_000, 0, 1),
    );
    // Too much jitter: 60 s ± 20 s.
    beacon(
        &mut h,
        ("10.70.0.11", "193.42.33.9", 443),
        40,
        (60_000, 20_000, 9),
    );
    assert!(h.out.is_empty(), "{:?}", h.out.first());
}

#[test]
fn a_long_gap_restarts_the_series() {
    let mut h = Harness::new("", &[]);
    // 8 regular contacts, two hours of silence, 8 more: never 12 in a row.
    beacon(
        &mut h,
        ("10.70.0.12", "193.42.33.10", 8443),
        8,
        (60_000, 0, 1),
    );
    let mut h2_start = 8 * 60_000 + 2 * 3_600_000;
    for _ in 0..8 {
        h.feed(&conn(
            ObsKind::Flow,
            at_ms(h2_start),
            ip("10.70.0.12"),
            50_000,
            ip("193.42.33.10"),
            8443,
        ));
        h2_start += 60_000;
    }
    assert!(h.out.is_empty());
}

/// One-off contacts keep no log line (a busy edge has millions of them), yet the evidence of a
/// real beacon still cites two lines: its second contact and the one that tipped it.
#[test]
fn evidence_cites_the_second_and_the_current_contact() {
    let mut h = Harness::new("", &[]);
    let lines: Vec<String> = (0..12).map(|i| format!("flow record {i}")).collect();
    for (i, line) in lines.iter().enumerate() {
        let mut o = conn(
            ObsKind::Flow,
            at(i as i64 * 60),
            ip("10.1.2.3"),
            40_000,
            ip("198.51.100.7"),
            443,
        );
        o.raw = line;
        h.feed(&o);
    }
    let ev = h.of_kind(EvidenceKind::Beacon);
    assert_eq!(ev.len(), 1, "{:?}", h.out);
    assert_eq!(ev[0].raw, vec!["flow record 1", "flow record 11"]);
}
