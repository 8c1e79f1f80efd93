//! Login compromise: success after failures (same user, same source), success from a blamed
//! address; failure bursts, typos, expired windows and hostile user names give no account
//! evidence.
mod detect_support;
use cordon::model::{AccountName, EvidenceKind, ObsKind, Subject};
use detect_support::*;

const ACCEPTED: &str = "Nov 23 09:01:00 login1 sshd[811]: Accepted password for alice from 185.220.101.7 port 50000 ssh2";

fn account(name: &str) -> Subject {
    let any = regex_lite::Regex::new(".*").unwrap();
    Subject::Account(AccountName::parse_with(name, &any).unwrap())
}

#[test]
fn success_after_failures_for_the_same_user_from_several_sources() {
    let mut h = Harness::new("", &[]);
    let server = Some(ip("10.0.0.22"));
    // A distributed guesser: 12 failures for alice from 4 addresses, then a success.
    for i in 0..12u32 {
        h.feed(&auth(
            ObsKind::AuthFailure,
            at(i64::from(i) * 5),
            outside(100 + i % 4),
            server,
            "alice",
        ));
    }
    assert!(h.out.is_empty(), "failures alone are not a compromise");
    let attacker = ip("185.220.101.7");
    let ok = with_raw(
        auth(ObsKind::AuthSuccess, at(60), attacker, server, "alice"),
        ACCEPTED,
    );
    h.feed(&ok);
    let ev = h.of_kind(EvidenceKind::AccountCompromise);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].subject, account("alice"));
    assert_eq!(ev[0].account.as_ref().map(|a| a.as_str()), Some("alice"));
    assert_eq!(ev[0].peers[0], attacker, "the successful source first");
    assert_eq!(ev[0].peer_count, 5);
    assert_eq!(ev[0].count, 13);
    assert_eq!(ev[0].first_seen, at(0));
    assert_eq!(ev[0].ports, vec![22]);
    assert!(ev[0].raw.iter().any(|r| r == ACCEPTED));
    assert_eq!(ev[0].kind.category(), cordon::model::Category::One);
}

#[test]
fn success_after_password_spray_from_the_same_source() {
    let mut h = Harness::new("", &[]);
    let attacker = ip("45.9.20.1");
    let server = Some(ip("10.0.0.22"));
    // One failure each for 30 different users (invalid and valid), then bob succeeds.
    for i in 0..30u32 {
        let kind = if i % 2 == 0 {
            ObsKind::AuthInvalidUser
        } else {
            ObsKind::AuthFailure
        };
        h.feed(&auth(
            kind,
            at(i64::from(i)),
            attacker,
            server,
            &format!("user{i}"),
        ));
    }
    h.feed(&auth(ObsKind::AuthSuccess, at(40), attacker, server, "bob"));
    let ev = h.of_kind(EvidenceKind::AccountCompromise);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].subject, account("bob"));
    assert_eq!(ev[0].peers, vec![attacker]);
    assert_eq!(ev[0].first_seen, at(0), "the spray's first failure");
}

#[test]
fn success_from_an_address_with_category_1_evidence() {
    let mut h = Harness::new("", &[]);
    let infected = ip("10.60.0.6");
    // The host scans (Category 1 emitted by the scan detector)...
    for i in 0..150u32 {
        h.feed(&conn(
            ObsKind::ConnDenied,
            at_ms(i64::from(i) * 100),
            infected,
            40_000,
            outside(i),
            445,
        ));
    }
    assert_eq!(h.of_kind(EvidenceKind::OutboundScan).len(), 1);
    // ...then logs in to a campus server as carol, with no failures at all.
    h.feed(&auth(
        ObsKind::AuthSuccess,
        at(3600),
        infected,
        Some(ip("10.0.0.22")),
        "carol",
    ));
    let ev = h.of_kind(EvidenceKind::AccountCompromise);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].subject, account("carol"));
    assert_eq!(ev[0].peers, vec![infected]);
}

#[test]
fn ids_blamed_address_via_note_blamed_and_expiry() {
    let mut h = Harness::new("", &[]);
    let c2 = ip("91.92.93.94");
    h.det.note_blamed(c2, at(600));
    h.feed(&auth(ObsKind::AuthSuccess, at(100), c2, None, "dave"));
    assert_eq!(h.of_kind(EvidenceKind::AccountCompromise).len(), 1);
    // After the blame expired a success is ordinary.
    h.feed(&auth(ObsKind::AuthSuccess, at(700), c2, None, "erin"));
    assert_eq!(h.of_kind(EvidenceKind::AccountCompromise).len(), 1);
}

#[test]
fn failure_burst_without_success_and_typos_give_nothing() {
    let mut h = Harness::new("", &[]);
    let server = Some(ip("10.0.0.22"));
    let attacker = ip("185.220.101.8");
    for i in 0..5000i64 {
        h.feed(&auth(
            ObsKind::AuthFailure,
            at_ms(i * 200),
            attacker,
            server,
            "root",
        ));
    }
    // A user mistypes three times from home, then gets in.
    let home = ip("84.1.2.3");
    for i in 0..3i64 {
        h.feed(&auth(
            ObsKind::AuthFailure,
            at(2000 + i * 10),
            home,
            server,
            "frank",
        ));
    }
    h.feed(&auth(ObsKind::AuthSuccess, at(2040), home, server, "frank"));
    assert!(h.out.is_empty(), "{:?}", h.out.first());
}

#[test]
fn failures_outside_the_window_do_not_count() {
    let mut h = Harness::new("", &[]);
    let src = ip("185.220.101.9");
    for i in 0..15i64 {
        h.feed(&auth(ObsKind::AuthFailure, at(i), src, None, "gina"));
    }
    // Default window 10 minutes; success an hour later from elsewhere.
    h.feed(&auth(
        ObsKind::AuthSuccess,
        at(3600),
        ip("84.1.2.4"),
        None,
        "gina",
    ));
    assert!(h.out.is_empty());
}

#[test]
fn quiet_success_resets_a_users_typos() {
    let mut h = Harness::new("", &[]);
    let home = ip("84.1.2.5");
    for round in 0..5i64 {
        for i in 0..4i64 {
            h.feed(&auth(
                ObsKind::AuthFailure,
                at(round * 100 + i),
                home,
                None,
                "hank",
            ));
        }
        h.feed(&auth(
            ObsKind::AuthSuccess,
            at(round * 100 + 10),
            home,
            None,
            "hank",
        ));
    }
    assert!(
        h.out.is_empty(),
        "20 typos in 5 sittings, each followed by a success"
    );
}

#[test]
fn hostile_user_names_produce_no_account_evidence_and_are_counted() {
    let mut h = Harness::new("", &[]);
    let attacker = ip("185.220.101.10");
    for name in ["$(reboot)", "-rf", "Root", "a b"] {
        for i in 0..12i64 {
            h.feed(&auth(ObsKind::AuthFailure, at(i), attacker, None, name));
        }
        h.feed(&auth(ObsKind::AuthSuccess, at(20), attacker, None, name));
    }
    assert!(h.of_kind(EvidenceKind::AccountCompromise).is_empty());
    assert_eq!(h.det.stats().invalid_account_names, 4);
}

#[test]
fn repeated_successes_are_rate_limited_per_account() {
    let mut h = Harness::new("", &[]);
    let attacker = ip("185.220.101.11");
    h.det.note_blamed(attacker, at(100_000));
    for i in 0..100i64 {
        h.feed(&auth(
            ObsKind::AuthSuccess,
            at(i * 30),
            attacker,
            None,
            "ivan",
        ));
    }
    // 3,000 s of successes with a 600 s window: at most one evidence per window.
    let n = h.of_kind(EvidenceKind::AccountCompromise).len();
    assert_eq!(n, 5, "got {n}");
}

#[test]
fn logins_to_outside_servers_and_allow_listed_sources_are_ignored() {
    let mut h = Harness::new("", &["192.0.2.0/24"]);
    let scanner = ip("192.0.2.10");
    h.det.note_blamed(scanner, at(10_000));
    h.feed(&auth(ObsKind::AuthSuccess, at(1), scanner, None, "audit"));
    let campus_host = ip("10.60.0.7");
    h.det.note_blamed(campus_host, at(10_000));
    h.feed(&auth(
        ObsKind::AuthSuccess,
        at(2),
        campus_host,
        Some(ip("198.51.100.22")),
        "jane",
    ));
    assert!(h.out.is_empty());
}

#[test]
fn guessing_one_user_then_succeeding_as_another_from_the_same_source() {
    let mut h = Harness::new("", &[]);
    let attacker = ip("185.220.101.12");
    // 20 failures for root (below nothing for bob), then bob gets in from the same address.
    for i in 0..20i64 {
        h.feed(&auth(ObsKind::AuthFailure, at(i), attacker, None, "root"));
    }
    h.feed(&auth(ObsKind::AuthSuccess, at(30), attacker, None, "bob"));
    assert_eq!(h.of_kind(EvidenceKind::AccountCompromise).len(), 1);
}

#[test]
fn one_short_of_either_threshold_is_quiet() {
    let mut h = Harness::new("", &[]);
    let attacker = ip("185.220.101.13");
    // 9 failures for kim (threshold 10) from 19-failure source (threshold 20).
    for i in 0..9i64 {
        h.feed(&auth(ObsKind::AuthFailure, at(i), attacker, None, "kim"));
    }
    for i in 0..10i64 {
        h.feed(&auth(
            ObsKind::AuthFailure,
            at(10 + i),
            attacker,
            None,
            &format!("x{i}"),
        ));
    }
    h.feed(&auth(ObsKind::AuthSuccess, at(30), attacker, None, "kim"));
    assert!(h.out.is_empty());
}
