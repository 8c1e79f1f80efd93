//! cargo bench --bench flow: frame decoding alone, and decode + flow table over a mixed
//! batch of synthetic frames (handshakes, data, FIN, UDP pairs, SYN probes).
use cordon::flow::{FlowEngine, FlowSettings, LinkType, decode};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use etherparse::PacketBuilder;
use std::hint::black_box;

fn frames() -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    for i in 0..10_000u32 {
        let peer = [100, (i >> 8) as u8, i as u8, 7];
        let host = [10, 20, (i % 7) as u8, 2];
        let sp = 1024 + (i % 60000) as u16;
        let mk = |src: [u8; 4], dst: [u8; 4], s: u16, d: u16, f: u8, n: usize| {
            let mut b = PacketBuilder::ethernet2([1; 6], [2; 6])
                .ipv4(src, dst, 64)
                .tcp(s, d, 1, 1024);
            if f & 2 != 0 {
                b = b.syn();
            }
            if f & 0x10 != 0 {
                b = b.ack(1);
            }
            if f & 1 != 0 {
                b = b.fin();
            }
            if f & 4 != 0 {
                b = b.rst();
            }
            let mut out = Vec::new();
            b.write(&mut out, &vec![0u8; n]).unwrap();
            out
        };
        if i % 4 == 3 {
            v.push(mk(host, peer, sp, 8080, 0x02, 0));
            v.push(mk(peer, host, 8080, sp, 0x14, 0));
            continue;
        }
        v.push(mk(host, peer, sp, 443, 0x02, 0));
        v.push(mk(peer, host, 443, sp, 0x12, 0));
        v.push(mk(host, peer, sp, 443, 0x10, 0));
        v.push(mk(host, peer, sp, 443, 0x10, 200));
        v.push(mk(peer, host, 443, sp, 0x10, 1200));
        v.push(mk(host, peer, sp, 443, 0x11, 0));
        v.push(mk(peer, host, 443, sp, 0x11, 0));
        v.push(mk(host, peer, sp, 443, 0x10, 0));
    }
    v
}

fn bench(c: &mut Criterion) {
    let frames = frames();
    let mut g = c.benchmark_group("flow");
    g.throughput(Throughput::Elements(frames.len() as u64));
    g.bench_function("decode", |b| {
        b.iter(|| {
            for f in &frames {
                let _ = black_box(decode(LinkType::Ethernet, black_box(f)));
            }
        })
    });
    g.bench_function("engine", |b| {
        let ts0 = jiff::Timestamp::from_second(1_800_000_000).unwrap();
        let mut round = 0i64;
        let mut e = FlowEngine::new(&FlowSettings::default());
        b.iter(|| {
            round += 1;
            let ts = ts0 + jiff::SignedDuration::from_secs(round * 1000);
            let mut n = 0u64;
            for f in &frames {
                e.packet(ts, LinkType::Ethernet, f, &mut |_| n += 1);
            }
            black_box(n)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
