//! Bounded memory: a million distinct attacker-chosen keys keep every detector table at or
//! under its cap, and every eviction is counted.
mod detect_support;
use cordon::model::{ObsKind, Observation};
use detect_support::*;
use std::net::{IpAddr, Ipv4Addr};

const N: u32 = 1_000_000;
const CAP: u64 = 1000;

const SMALL_CAPS: &str = r#"
[scan]
max_sources = 1000
max_pairs = 1000
[flood]
max_pairs = 1000
[spam]
max_sources = 1000
[bruteforce]
max_sources = 1000
max_pairs = 1000
[login]
max_users = 1000
max_sources = 1000
max_blamed = 1000
[beacon]
max_pairs = 1000
"#;

fn campus(i: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0A00_0000 | (i & 0x00FF_FFFF)))
}

#[test]
fn a_million_spoofed_campus_sources_and_targets() {
    let mut h = Harness::new(SMALL_CAPS, &[]);
    for i in 0..N {
        // One SYN to port 25 from each of a million (forged) campus addresses to a million
        // outside addresses: every pair- and source-keyed table sees a million keys.
        h.feed(&conn(
            ObsKind::ConnAttempt,
            at_ms(i64::from(i)),
            campus(i),
            1,
            outside(i),
            25,
        ));
    }
    let s = h.det.stats();
    let over = u64::from(N) - CAP;
    // Scan's pairs, flood and beacon hold a pair's first sighting in a doorkeeper keyed by a
    // 32-bit tag. A new pair whose tag matches the waiting one's by chance (about once in
    // 4,000 runs of a million pairs) is admitted to the table as if seen twice: one entry
    // more, one overwritten sighting fewer. Still within the cap of entries plus as many
    // waiting sightings.
    let near = |got: u64, want: u64, what: &str| {
        assert!(got.abs_diff(want) <= 2, "{what}: {got}, want {want} (±2)");
    };
    near(s.scan.tracked, 2 * CAP, "scan tracked");
    near(
        s.scan.evictions,
        2 * over,
        "scan evictions (sources and pairs)",
    );
    near(s.flood.tracked, CAP, "flood tracked");
    near(s.flood.evictions, over, "flood evictions");
    assert_eq!(s.spam.tracked, CAP);
    assert_eq!(s.spam.evictions, over);
    near(s.beacon.tracked, CAP, "beacon tracked");
    near(s.beacon.evictions, over, "beacon evictions");
    assert_eq!(s.total_emitted(), 0, "one probe per source is nothing");
    assert!(h.out.is_empty());
}

#[test]
fn a_million_user_names_and_sources_against_campus_logins() {
    let mut h = Harness::new(SMALL_CAPS, &[]);
    let server = Some(ip("10.0.0.22"));
    let mut name = String::new();
    for i in 0..N {
        name.clear();
        use std::fmt::Write;
        write!(name, "u{i}").unwrap();
        let mut o: Observation<'_> = auth(
            ObsKind::AuthInvalidUser,
            at_ms(i64::from(i)),
            outside(i),
            server,
            "",
        );
        o.user = Some(std::borrow::Cow::Borrowed(name.as_str()));
        h.feed(&o);
    }
    for i in 0..N {
        h.det.note_blamed(outside(i), at(1_000_000));
    }
    let s = h.det.stats();
    let over = u64::from(N) - CAP;
    assert_eq!(s.login.tracked, 3 * CAP, "users, sources, blamed");
    assert_eq!(s.login.evictions, 3 * over);
    assert_eq!(s.total_emitted(), 0);
}

#[test]
fn a_million_outward_login_targets() {
    let mut h = Harness::new(SMALL_CAPS, &[]);
    for i in 0..N {
        h.feed(&conn(
            ObsKind::ConnEstablished,
            at_ms(i64::from(i)),
            campus(i),
            1,
            outside(i),
            22,
        ));
    }
    let s = h.det.stats();
    let over = u64::from(N) - CAP;
    assert_eq!(s.bruteforce.tracked, 2 * CAP);
    assert_eq!(s.bruteforce.evictions, 2 * over);
    assert!(s.flood.tracked <= 2 * CAP && s.beacon.tracked <= 2 * CAP);
    assert!(h.out.is_empty());
}

#[test]
fn default_caps_hold_against_a_million_pairs() {
    let mut h = Harness::new("", &[]);
    let src = ip("10.1.1.1");
    for i in 0..N {
        let mut o = conn(
            ObsKind::ConnAttempt,
            at_ms(i64::from(i) * 500),
            src,
            1,
            outside(i),
            (i % 65_535) as u16 + 1,
        );
        o.packets = 1;
        h.feed(&o);
    }
    let s = h.det.stats();
    // Scan: 1 source + at most 65,536 pairs; beacon: at most 131,072 pairs (+ its dedupe).
    assert!(s.scan.tracked <= 1 + 65_536, "{}", s.scan.tracked);
    assert!(s.scan.evictions >= u64::from(N) - 65_536);
    assert!(s.beacon.tracked <= 131_072 * 2);
    assert!(s.flood.tracked <= 65_536 * 2);
    // A genuine scan all along: one horizontal scan evidence per 60 s window at most.
    let windows = u64::from(N) * 500 / 60_000 + 1;
    assert!(
        s.scan.emitted >= windows - 1 && s.scan.emitted <= windows,
        "{}",
        s.scan.emitted
    );
}
