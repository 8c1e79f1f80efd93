//! Random observations (any kind, any addresses, hostile user names and raw text, times that
//! jump backwards or to the ends of time) under random configs never panic, and tables stay
//! within their caps.
mod detect_support;
use cordon::config::{DetectConfig, Duration};
use cordon::detect::{DetectContext, Detectors};
use cordon::inventory::Campus;
use cordon::model::{ObsKind, Observation, Proto};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const KINDS: [ObsKind; 10] = [
    ObsKind::Alert,
    ObsKind::ConnAttempt,
    ObsKind::ConnDenied,
    ObsKind::ConnEstablished,
    ObsKind::Flow,
    ObsKind::AuthFailure,
    ObsKind::AuthInvalidUser,
    ObsKind::AuthSuccess,
    ObsKind::Notice,
    ObsKind::Other,
];

fn addr() -> impl Strategy<Value = Option<IpAddr>> {
    prop_oneof![
        Just(None),
        (0u32..64).prop_map(|n| Some(IpAddr::V4(Ipv4Addr::from(0x0A00_0000 | n)))),
        (0u32..64).prop_map(|n| Some(IpAddr::V4(Ipv4Addr::from(0xCB00_0000 | n)))),
        any::<u32>().prop_map(|n| Some(IpAddr::V4(Ipv4Addr::from(n)))),
        any::<u128>().prop_map(|n| Some(IpAddr::V6(Ipv6Addr::from(n)))),
        (0u16..8).prop_map(|n| Some(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, n)))),
    ]
}

fn time() -> impl Strategy<Value = Timestamp> {
    prop_oneof![
        8 => (0i64..7_200_000).prop_map(detect_support::at_ms),
        1 => Just(Timestamp::MIN),
        1 => Just(Timestamp::MAX),
        1 => any::<i32>().prop_map(|s| Timestamp::UNIX_EPOCH + SignedDuration::from_secs(i64::from(s))),
    ]
}

#[derive(Debug, Clone)]
struct Rec {
    time: Timestamp,
    kind: usize,
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    dport: Option<u16>,
    packets: u64,
    user: Option<String>,
    raw: String,
}

fn rec() -> impl Strategy<Value = Rec> {
    (
        time(),
        0usize..KINDS.len(),
        addr(),
        addr(),
        prop_oneof![
            Just(None),
            Just(Some(22u16)),
            Just(Some(25u16)),
            any::<u16>().prop_map(Some)
        ],
        prop_oneof![Just(0u64), 1u64..5, Just(u64::MAX)],
        prop_oneof![
            Just(None),
            "[a-z]{1,4}".prop_map(Some),
            any::<String>().prop_map(Some)
        ],
        any::<String>(),
    )
        .prop_map(|(time, kind, src, dst, dport, packets, user, raw)| Rec {
            time,
            kind,
            src,
            dst,
            dport,
            packets,
            user,
            raw,
        })
}

fn config() -> impl Strategy<Value = DetectConfig> {
    (
        0i64..120,
        1u32..6,
        1usize..16,
        prop_oneof![Just(0.05f64), Just(f64::NAN), Just(-1.0), Just(1e9)],
        0u32..5,
        any::<bool>(),
    )
        .prop_map(|(win, thr, cap, jitter, contacts, handshake)| {
            let mut c = DetectConfig::default();
            let w = Duration::from_secs(win);
            c.scan.window = w;
            c.scan.horizontal_min_destinations = thr;
            c.scan.vertical_min_ports = thr;
            c.scan.max_sources = cap;
            c.scan.max_pairs = cap;
            c.flood.window = w;
            c.flood.min_connections_per_sec = thr;
            c.flood.min_packets_per_sec = thr;
            c.flood.require_handshake = handshake;
            c.flood.max_pairs = cap;
            c.spam.window = w;
            c.spam.min_servers = thr;
            c.spam.max_sources = cap;
            c.bruteforce.window = w;
            c.bruteforce.min_failures = thr;
            c.bruteforce.min_servers = thr;
            c.bruteforce.min_connections_one_server = thr;
            c.bruteforce.max_sources = cap;
            c.bruteforce.max_pairs = cap;
            c.login.window = w;
            c.login.failures_per_user = thr;
            c.login.failures_per_source = thr;
            c.login.max_users = cap;
            c.login.max_sources = cap;
            c.login.max_blamed = cap;
            c.beacon.min_contacts = contacts;
            c.beacon.max_jitter_ratio = jitter;
            c.beacon.min_interval = Duration::from_secs(win / 10);
            c.beacon.max_interval = Duration::from_secs(win);
            c.beacon.reemit_after = Duration::from_secs(0);
            c.beacon.max_pairs = cap;
            c
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn random_observations_never_panic(cfg in config(), recs in prop::collection::vec(rec(), 0..300)) {
        let pattern = regex_lite::Regex::new("^[a-z_][a-z0-9._-]{0,31}$").unwrap();
        let mut det = Detectors::new(&cfg, &pattern);
        let campus = Campus::new(&["10.0.0.0/8".parse().unwrap(), "2001:db8::/32".parse().unwrap()]);
        let allow = Campus::new(&["10.0.0.7/32".parse().unwrap()]);
        let ctx = DetectContext::new(&campus, &allow, "p");
        let mut out = Vec::new();
        for r in &recs {
            let mut o = Observation::new(r.time, KINDS[r.kind], &r.raw);
            o.src = r.src;
            o.dst = r.dst;
            o.src_port = Some(1);
            o.dst_port = r.dport;
            o.proto = Proto::Tcp;
            o.packets = r.packets;
            o.user = r.user.as_deref().map(Cow::Borrowed);
            det.observe(&o, &ctx, &mut out);
            if let Some(ip) = r.dst { det.note_blamed(ip, r.time); }
        }
        let s = det.stats();
        let cap = cfg.scan.max_sources as u64;
        // Sources, pairs and first probes waiting for their second.
        prop_assert!(s.scan.tracked <= 3 * cap);
        // Pairs, first sightings waiting for their second record, and the dedupe table.
        prop_assert!(s.flood.tracked <= 3 * cap);
        prop_assert!(s.spam.tracked <= cap);
        prop_assert!(s.bruteforce.tracked <= 2 * cap);
        prop_assert!(s.login.tracked <= 3 * cap);
        prop_assert!(s.beacon.tracked <= 3 * cap);
        prop_assert_eq!(s.total_emitted(), out.len() as u64);
        for ev in &out {
            prop_assert!(ev.peers.len() <= 32 && ev.ports.len() <= 32 && ev.raw.len() <= 5);
            if let Some(ip) = ev.subject.ip() {
                prop_assert!(campus.contains(ip) && !allow.contains(ip), "evidence about {}", ip);
            }
        }
    }
}
