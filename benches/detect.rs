//! Throughput of the whole detector set over a realistic mix: background HTTPS with completed
//! handshakes, a horizontal scan, a SYN flood, a spam burst, sshd failures and a beacon.
//! `cargo bench --bench detect`.
use cordon::config::DetectConfig;
use cordon::detect::{DetectContext, Detectors};
use cordon::inventory::Campus;
use cordon::model::{ObsKind, Observation, Proto};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jiff::{SignedDuration, Timestamp};
use std::borrow::Cow;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

const N: usize = 100_000;

fn mix() -> Vec<Observation<'static>> {
    let t0: Timestamp = "2026-11-23T09:00:00Z".parse().unwrap();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let campus = |n: u64| IpAddr::V4(Ipv4Addr::from(0x0A00_0000 | (n as u32 & 0xFFFF)));
    let outside = |n: u64| IpAddr::V4(Ipv4Addr::from(0xCB00_0000 | (n as u32 & 0xFF_FFFF)));
    let mut v = Vec::with_capacity(N);
    for i in 0..N {
        let t = t0 + SignedDuration::from_micros(i as i64 * 100);
        let r = rnd();
        let (kind, src, dst, port) = match i % 10 {
            0 => (ObsKind::ConnDenied, campus(7), outside(r), 23),
            1 => (ObsKind::ConnAttempt, campus(8), outside(1), 80),
            2 => (ObsKind::ConnEstablished, campus(9), outside(r % 500), 25),
            3 => (ObsKind::AuthFailure, outside(r % 50), campus(22), 22),
            4 => (ObsKind::Flow, campus(r % 4000), outside(r >> 20), 443),
            _ => {
                let kind = if i % 2 == 0 {
                    ObsKind::ConnAttempt
                } else {
                    ObsKind::ConnEstablished
                };
                (kind, campus(r % 4000), outside(r >> 24), 443)
            }
        };
        let mut o = Observation::new(t, kind, "");
        o.src = Some(src);
        o.dst = Some(dst);
        o.src_port = Some((r & 0xFFFF) as u16);
        o.dst_port = Some(port);
        o.proto = Proto::Tcp;
        o.packets = if kind == ObsKind::Flow { 12 } else { 1 };
        if kind == ObsKind::AuthFailure {
            o.user = Some(Cow::Borrowed(if r % 3 == 0 { "root" } else { "admin" }));
        }
        v.push(o);
    }
    v
}

fn bench(c: &mut Criterion) {
    let obs = mix();
    let campus = Campus::new(&["10.0.0.0/8".parse().unwrap()]);
    let allow = Campus::new(&["10.0.1.25/32".parse().unwrap()]);
    let pattern = regex_lite::Regex::new("^[a-z_][a-z0-9._-]{0,31}$").unwrap();
    let cfg = DetectConfig::default();
    let mut g = c.benchmark_group("detectors");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("all_detectors_mixed_100k", |b| {
        let mut det = Detectors::new(&cfg, &pattern);
        let mut out = Vec::new();
        b.iter(|| {
            let ctx = DetectContext::new(&campus, &allow, "bench");
            for o in &obs {
                det.observe(o, &ctx, &mut out);
            }
            out.clear();
            black_box(det.stats());
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
