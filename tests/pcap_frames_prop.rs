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
