//! Outbound spam: a bot's burst to many MX hosts is evidence; an allow-listed relay, mail
//! submission and slow mail are not.
mod detect_support;
use cordon::model::{EvidenceKind, ObsKind, Subject};
use detect_support::*;

#[test]
fn spam_burst_to_many_outside_mx_hosts() {
    let mut h = Harness::new("", &[]);
    let bot = ip("10.40.2.2");
    // 60 distinct MX hosts in 2 minutes, each connection completing.
    for i in 0..60u32 {
        let t = at_ms(i64::from(i) * 2000);
        h.feed(&conn(
            ObsKind::ConnAttempt,
            t,
            bot,
            40_000 + i as u16,
            outside(i * 7919),
            25,
        ));
        h.feed(&conn(
            ObsKind::ConnEstablished,
            t,
            bot,
            40_000 + i as u16,
            outside(i * 7919),
            25,
        ));
    }
    let spam = h.of_kind(EvidenceKind::OutboundSpam);
    assert_eq!(spam.len(), 1, "one per window");
    assert_eq!(spam[0].subject, Subject::Host(bot));
    assert_eq!(spam[0].ports, vec![25]);
    assert_eq!(spam[0].peer_count, 25);
    // 25th distinct server at 24 × 2 s.
    assert_eq!(spam[0].last_seen, at(48));
}

#[test]
fn allow_listed_campus_mail_relay_never_triggers() {
    let mut h = Harness::new("", &["10.0.1.25/32"]);
    let relay = ip("10.0.1.25");
    let mut rng = Rng(25);
    // The campus relay delivers to 5,000 distinct MX hosts an hour.
    for i in 0..5000i64 {
        let mx = outside(rng.next() as u32);
        h.feed(&conn(
            ObsKind::ConnAttempt,
            at_ms(i * 720),
            relay,
            40_000,
            mx,
            25,
        ));
        h.feed(&conn(
            ObsKind::ConnEstablished,
            at_ms(i * 720),
            relay,
            40_000,
            mx,
            25,
        ));
    }
    assert!(h.out.is_empty(), "{:?}", h.out.first());
    assert_eq!(
        h.det.stats().spam.tracked,
        0,
        "allow-listed traffic is not even tracked"
    );
}

#[test]
fn submission_ports_and_slow_mail_are_not_spam() {
    let mut h = Harness::new("", &[]);
    let client = ip("10.40.3.3");
    // Many submissions to many providers on 587 (not server-to-server SMTP).
    for i in 0..200u32 {
        h.feed(&conn(
            ObsKind::ConnEstablished,
            at(i64::from(i)),
            client,
            40_000,
            outside(i),
            587,
        ));
    }
    // A small list server: one new MX every minute for 5 hours (10 per 10-minute window).
    let server = ip("10.40.4.4");
    for i in 0..300u32 {
        h.feed(&conn(
            ObsKind::ConnEstablished,
            at(i64::from(i) * 60),
            server,
            40_000,
            outside(1000 + i),
            25,
        ));
    }
    assert!(h.out.is_empty());
}
