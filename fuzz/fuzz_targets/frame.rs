//! Fuzz the packet path: arbitrary bytes as a run of captured frames through one `FlowEngine`
//! (decode + bounded flow table with eviction and idle expiry). Must never panic.
//!
//! Input layout: chunks separated by 0xff bytes. In each chunk the first byte picks the link
//! type (`b % 6`, in `LinkType::ALL` order: Ethernet, LinuxSll, LinuxSll2, RawIp, Null, Loop)
//! and how many seconds pass before this frame (`b / 6`, 0..=42, so the 1 s idle timeout
//! fires); the rest is the frame. Empty chunks are skipped.
//!
//! Besides "no panic" it checks the decoder's own promise: whenever the Ethernet fast path
//! decodes a frame, etherparse's general path decodes it to the same packet.
#![no_main]
use cordon::flow::decode::{decode_slow, fast_ipv4};
use cordon::flow::{FlowEngine, FlowSettings, LinkType};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut e = FlowEngine::new(&FlowSettings {
        max_flows: 4,
        idle_timeout: std::time::Duration::from_secs(1),
        attempt_timeout: std::time::Duration::from_millis(500),
        ..FlowSettings::default()
    });
    let mut t = jiff::Timestamp::from_second(1_800_000_000).unwrap();
    for chunk in data.split(|b| *b == 0xff) {
        let Some((&sel, frame)) = chunk.split_first() else {
            continue;
        };
        let link = LinkType::ALL[usize::from(sel) % LinkType::ALL.len()];
        t += jiff::SignedDuration::from_secs(i64::from(sel / 6));
        if link == LinkType::Ethernet
            && let Some(p) = fast_ipv4(frame)
        {
            assert_eq!(
                Ok(p),
                decode_slow(LinkType::Ethernet, frame),
                "fast path and etherparse disagree on {frame:02x?}"
            );
        }
        e.packet(t, link, frame, &mut |_| {});
    }
    e.finish(&mut |_| {});
});
