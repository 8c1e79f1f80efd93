//! Shared helpers for the detector tests: a campus (10.0.0.0/8, 2001:db8::/32), an allow list,
//! the real `Detectors` aggregate built from TOML, and observation builders.
#![allow(dead_code)]

use cordon::config::DetectConfig;
use cordon::detect::{DetectContext, Detectors};
use cordon::inventory::Campus;
use cordon::model::{Evidence, EvidenceKind, ObsKind, Observation, Proto};
use jiff::{SignedDuration, Timestamp};
use std::borrow::Cow;
use std::net::IpAddr;

pub struct Harness {
    pub campus: Campus,
    pub allow: Campus,
    pub det: Detectors,
    pub out: Vec<Evidence>,
}

impl Harness {
    /// Detectors configured by a `[detect]` TOML body (empty: defaults), with `allow` listed.
    pub fn new(detect_toml: &str, allow: &[&str]) -> Self {
        let cfg: DetectConfig = toml::from_str(detect_toml).expect("detect config");
        let pattern = regex_lite::Regex::new("^[a-z_][a-z0-9._-]{0,31}$").unwrap();
        Harness {
            campus: Campus::new(&[
                "10.0.0.0/8".parse().unwrap(),
                "2001:db8::/32".parse().unwrap(),
            ]),
            allow: Campus::new(&allow.iter().map(|a| a.parse().unwrap()).collect::<Vec<_>>()),
            det: Detectors::new(&cfg, &pattern),
            out: Vec::new(),
        }
    }

    pub fn feed(&mut self, obs: &Observation<'_>) {
        let ctx = DetectContext::new(&self.campus, &self.allow, "test-sensor");
        self.det.observe(obs, &ctx, &mut self.out);
    }

    pub fn of_kind(&self, kind: EvidenceKind) -> Vec<&Evidence> {
        self.out.iter().filter(|e| e.kind == kind).collect()
    }
}

pub fn base() -> Timestamp {
    "2026-11-23T09:00:00Z".parse().unwrap()
}

/// `ms` milliseconds after the base time.
pub fn at_ms(ms: i64) -> Timestamp {
    base() + SignedDuration::from_millis(ms)
}

pub fn at(secs: i64) -> Timestamp {
    at_ms(secs * 1000)
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A connection record as the flow decoder or a firewall parser would produce it.
pub fn conn(
    kind: ObsKind,
    time: Timestamp,
    src: IpAddr,
    sport: u16,
    dst: IpAddr,
    dport: u16,
) -> Observation<'static> {
    let mut o = Observation::new(time, kind, "");
    o.src = Some(src);
    o.src_port = Some(sport);
    o.dst = Some(dst);
    o.dst_port = Some(dport);
    o.proto = Proto::Tcp;
    o.packets = 1;
    o
}

/// A netfilter-style deny line for a record, so evidence carries raw text.
/// The same record as the flow engine makes it from captured packets.
pub fn from_packets(mut o: Observation<'_>) -> Observation<'_> {
    o.from_packets = true;
    o
}

pub fn with_raw<'a>(mut o: Observation<'a>, raw: &'a str) -> Observation<'a> {
    o.raw = raw;
    o
}

/// An sshd record: `src` logging in to `dst` (None: the log has only the source).
pub fn auth(
    kind: ObsKind,
    time: Timestamp,
    src: IpAddr,
    dst: Option<IpAddr>,
    user: &str,
) -> Observation<'static> {
    let mut o = Observation::new(time, kind, "");
    o.src = Some(src);
    o.src_port = Some(50_000);
    o.dst = dst;
    o.dst_port = Some(22);
    o.proto = Proto::Tcp;
    o.user = Some(Cow::Owned(user.to_string()));
    o
}

/// The n-th address of an outside /8 (203.x.y.z style spread over 2^24 addresses).
pub fn outside(n: u32) -> IpAddr {
    IpAddr::V4(std::net::Ipv4Addr::from(0xCB00_0000u32 | (n & 0x00FF_FFFF)))
}

/// A deterministic pseudo-random sequence (xorshift), so tests are reproducible.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
