//! Arbitrary bytes as frames, under every link type, never panic the decoder or the flow
//! table, and every frame is accounted for (decoded or counted as malformed by reason).

use cordon::flow::{FlowEngine, FlowSettings, LinkType};
use proptest::prelude::*;

fn link() -> impl Strategy<Value = LinkType> {
    prop::sample::select(LinkType::ALL.to_vec())
}

/// Frames that start like real ones (valid Ethernet + IPv4/IPv6 header prefix) and then go
/// random, so the fuzzing reaches the IP and transport layers instead of dying at the link.
fn plausible() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(vec![
            vec![0x08, 0x00, 0x45],
            vec![0x86, 0xdd, 0x60],
            vec![0x81, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45],
            vec![
                0x88, 0xa8, 0x00, 0x01, 0x81, 0x00, 0x00, 0x02, 0x86, 0xdd, 0x60,
            ],
        ]),
        prop::collection::vec(any::<u8>(), 0..120),
    )
        .prop_map(|(head, tail)| {
            let mut v = vec![2u8; 12];
            v.extend(head);
            v.extend(tail);
            v
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn arbitrary_frames_never_panic(
        frames in prop::collection::vec((link(), prop::collection::vec(any::<u8>(), 0..200), 0i64..400), 1..40)
    ) {
        let mut e = FlowEngine::new(&FlowSettings { max_flows: 8, idle_timeout: std::time::Duration::from_secs(60), ..FlowSettings::default() });
        let mut n = 0u64;
        for (l, f, t) in &frames {
            let ts = jiff::Timestamp::from_second(1_800_000_000 + t).unwrap();
            e.packet(ts, *l, f, &mut |_| n += 1);
        }
        e.finish(&mut |_| n += 1);
        let s = e.stats();
        prop_assert_eq!(s.packets, frames.len() as u64);
        prop_assert_eq!(s.decoded + s.malformed.total(), s.packets);
        prop_assert_eq!(s.observations, n);
        prop_assert!(s.flows_live == 0);
    }

    #[test]
    fn plausible_ethernet_frames_never_panic(frames in prop::collection::vec(plausible(), 1..40)) {
        let mut e = FlowEngine::new(&FlowSettings { max_flows: 4, idle_timeout: std::time::Duration::from_secs(1), ..FlowSettings::default() });
        let ts = jiff::Timestamp::from_second(1_800_000_000).unwrap();
        for f in &frames {
            e.packet(ts, LinkType::Ethernet, f, &mut |o| { assert!(o.raw.is_empty()); });
        }
        let s = e.stats();
        prop_assert_eq!(s.decoded + s.malformed.total(), s.packets);
        prop_assert!(s.flows_live <= 4);
    }
}

/// Ethernet frames that are mostly valid IPv4 with random header fields and lengths: the hand
/// fast path must agree with etherparse whenever it answers.
fn ipv4ish() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(vec![vec![0x08, 0x00], vec![0x81, 0x00, 0, 5, 0x08, 0x00]]),
        0x40u8..0x50,
        any::<[u8; 19]>(),
        prop::sample::select(vec![1u8, 6, 17, 2, 47]),
        prop::collection::vec(any::<u8>(), 0..60),
        any::<bool>(),
    )
        .prop_map(|(et, vihl, mut h, proto, tail, keep_len)| {
            let mut v = vec![2u8; 12];
            v.extend(et);
            h[8] = proto;
            if keep_len {
                let total = (20 + tail.len()) as u16;
                h[1..3].copy_from_slice(&total.to_be_bytes());
                h[5] &= 0x40;
                h[6] = 0;
            }
            v.push(if keep_len { 0x45 } else { vihl });
            v.extend(h);
            v.extend(tail);
            v
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20000))]
    #[test]
    fn fast_ipv4_path_agrees_with_etherparse(f in ipv4ish()) {
        if let Some(p) = cordon::flow::decode::fast_ipv4(&f) {
            prop_assert_eq!(Ok(p), cordon::flow::decode::decode_slow(LinkType::Ethernet, &f));
        }
    }
}

/// Track frames one by one (`packet`) and held back a few frames (`packet_ahead`, drained at
/// the given points): the observations, in order, and the counters must be the same.
fn both_ways(
    frames: &[(LinkType, Vec<u8>, i64)],
    drains: &[usize],
    max_flows: usize,
) -> Result<(), TestCaseError> {
    let settings = FlowSettings {
        max_flows,
        idle_timeout: std::time::Duration::from_secs(30),
        attempt_timeout: std::time::Duration::from_secs(2),
        ..FlowSettings::default()
    };
    let (mut now, mut ahead) = (FlowEngine::new(&settings), FlowEngine::new(&settings));
    let (mut seen_now, mut seen_ahead) = (Vec::new(), Vec::new());
    for (i, (l, f, t)) in frames.iter().enumerate() {
        let ts = jiff::Timestamp::from_second(1_800_000_000 + t).unwrap();
        now.packet(ts, *l, f, &mut |o| seen_now.push(o.clone()));
        ahead.packet_ahead(ts, *l, f, &mut |o| seen_ahead.push(o.clone()));
        if drains.contains(&i) {
            ahead.drain(&mut |o| seen_ahead.push(o.clone()));
            prop_assert_eq!(now.stats(), ahead.stats());
        }
    }
    now.finish(&mut |o| seen_now.push(o.clone()));
    ahead.finish(&mut |o| seen_ahead.push(o.clone()));
    prop_assert_eq!(seen_now, seen_ahead);
    prop_assert_eq!(now.stats(), ahead.stats());
    Ok(())
}

/// A TCP or UDP frame between a few hosts and ports, so flows repeat, answer and close.
fn flowish() -> impl Strategy<Value = (LinkType, Vec<u8>, i64)> {
    (
        0u8..4,
        0u8..4,
        0u16..3,
        any::<bool>(),
        any::<u8>(),
        0i64..100,
    )
        .prop_map(|(a, b, port, tcp, flags, t)| {
            let mut v = vec![2u8; 12];
            v.extend([0x08, 0x00, 0x45, 0, 0, 40, 0, 0, 0x40, 0, 64]);
            v.push(if tcp { 6 } else { 17 });
            v.extend([0, 0, 10, 0, 0, a, 198, 51, 100, b]);
            let (sp, dp) = (40_000 + port, 443u16);
            let (sp, dp) = if flags & 0x80 != 0 {
                (dp, sp)
            } else {
                (sp, dp)
            };
            v.extend(sp.to_be_bytes());
            v.extend(dp.to_be_bytes());
            if tcp {
                v.extend([0; 8]);
                v.extend([0x50, flags & 0x17, 0xff, 0xff, 0, 0, 0, 0]);
            } else {
                v.extend([0, 20, 0, 0]);
                v.extend([0; 12]);
            }
            let total = (v.len() - 14) as u16;
            v[16..18].copy_from_slice(&total.to_be_bytes());
            (LinkType::Ethernet, v, t / 10)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn holding_frames_back_changes_nothing(
        frames in prop::collection::vec(flowish(), 0..60),
        drains in prop::collection::vec(0usize..60, 0..4),
        max_flows in 1usize..6,
    ) {
        both_ways(&frames, &drains, max_flows)?;
    }

    #[test]
    fn holding_arbitrary_frames_back_changes_nothing(
        frames in prop::collection::vec((link(), prop::collection::vec(any::<u8>(), 0..200), 0i64..400), 0..40),
        drains in prop::collection::vec(0usize..40, 0..3),
    ) {
        both_ways(&frames, &drains, 8)?;
    }
}

/// The same over every capture in `captures/`, made by real tools.
#[test]
fn holding_frames_back_changes_nothing_on_the_captures() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "pcap") {
            continue;
        }
        let settings = FlowSettings::default();
        let (mut now, mut ahead) = (FlowEngine::new(&settings), FlowEngine::new(&settings));
        let (mut seen_now, mut seen_ahead) = (Vec::new(), Vec::new());
        cordon::ingest::pcap_file::read_pcap(&path, |ts, l, f| {
            now.packet(ts, l, f, &mut |o| seen_now.push(o.clone()));
            ahead.packet_ahead(ts, l, f, &mut |o| seen_ahead.push(o.clone()));
        })
        .unwrap();
        now.finish(&mut |o| seen_now.push(o.clone()));
        ahead.finish(&mut |o| seen_ahead.push(o.clone()));
        assert!(!seen_now.is_empty(), "{}", path.display());
        assert_eq!(seen_now, seen_ahead, "{}", path.display());
        assert_eq!(now.stats(), ahead.stats(), "{}", path.display());
        files += 1;
    }
    assert!(
        files >= 6,
        "only {files} captures found in {}",
        dir.display()
    );
}
