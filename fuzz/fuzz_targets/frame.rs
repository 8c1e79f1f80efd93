//! cargo fuzz run frame: arbitrary bytes as a frame under every link type through the
//! FlowEngine (decode + flow table). Must never panic.
#![no_main]
use cordon::flow::{FlowEngine, FlowSettings, LinkType};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut e = FlowEngine::new(&FlowSettings {
        max_flows: 4,
        idle_timeout: std::time::Duration::from_secs(1),
    });
    // First byte: timestamp step; then the data split into frames at 0xff bytes.
    let ts = jiff::Timestamp::from_second(1_800_000_000).unwrap();
    for (i, frame) in data.split(|b| *b == 0xff).enumerate() {
        let link = LinkType::ALL[i % LinkType::ALL.len()];
        let t = ts + jiff::SignedDuration::from_secs(i as i64);
        e.packet(t, link, frame, &mut |_| {});
    }
    e.finish(&mut |_| {});
});
