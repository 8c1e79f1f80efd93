//! Frame decoding: one captured frame → one [`Packet`] (addresses, ports, TCP flags, ICMP
//! type/code, IP length), or a [`Malformed`] reason. Zero-copy and allocation-free: the link
//! layer (Ethernet, Linux SLL/SLL2, raw IP) is read here by hand, everything from the EtherType
//! down by etherparse's lax slicer, which tolerates snap-length truncation of payloads.
//!
//! Owns only decoding; knows nothing about flows, observations or libpcap.

use crate::model::Proto;
use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, TransportSlice};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The link-layer framing of a capture. Our own enum so the pure core does not depend on
/// libpcap; `ingest` maps pcap's `Linktype` numbers onto it with [`LinkType::from_dlt`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// DLT_EN10MB: Ethernet II, optionally with 802.1Q VLAN / 802.1ad QinQ tags.
    Ethernet,
    /// DLT_LINUX_SLL: Linux cooked capture v1 (16-byte header, `tcpdump -i any`).
    LinuxSll,
    /// DLT_LINUX_SLL2: Linux cooked capture v2 (20-byte header).
    LinuxSll2,
    /// DLT_RAW / LINKTYPE_IPV4 / LINKTYPE_IPV6: the frame starts with the IP header.
    RawIp,
    /// DLT_NULL: BSD loopback, 4-byte address family header in the capturing host's order.
    Null,
    /// DLT_LOOP (OpenBSD loopback): the same header in network byte order. Decoded as
    /// [`LinkType::Null`], but a capture filter must be compiled for it: libpcap's code for
    /// DLT_NULL would read the family backwards.
    Loop,
}

impl LinkType {
    /// Map a libpcap `DLT_*`/`LINKTYPE_*` number; `None` for framings we do not decode.
    pub fn from_dlt(dlt: i32) -> Option<LinkType> {
        match dlt {
            1 => Some(LinkType::Ethernet),
            113 => Some(LinkType::LinuxSll),
            276 => Some(LinkType::LinuxSll2),
            // DLT_RAW is 12 on most platforms, 14 on OpenBSD; LINKTYPE_RAW is 101;
            // LINKTYPE_IPV4 228, LINKTYPE_IPV6 229.
            12 | 14 | 101 | 228 | 229 => Some(LinkType::RawIp),
            0 => Some(LinkType::Null),
            108 => Some(LinkType::Loop),
            _ => None,
        }
    }

    /// The libpcap `DLT_*` number to compile filters for this framing.
    pub fn dlt(self) -> i32 {
        match self {
            LinkType::Ethernet => 1,
            LinkType::LinuxSll => 113,
            LinkType::LinuxSll2 => 276,
            LinkType::RawIp => 12,
            LinkType::Null => 0,
            LinkType::Loop => 108,
        }
    }

    /// The framing's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            LinkType::Ethernet => "Ethernet",
            LinkType::LinuxSll => "Linux cooked (SLL)",
            LinkType::LinuxSll2 => "Linux cooked v2 (SLL2)",
            LinkType::RawIp => "raw IP",
            LinkType::Null => "BSD loopback (DLT_NULL)",
            LinkType::Loop => "OpenBSD loopback (DLT_LOOP)",
        }
    }

    /// All link types, for tests that throw arbitrary bytes at every framing.
    pub const ALL: [LinkType; 6] = [
        LinkType::Ethernet,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
        LinkType::RawIp,
        LinkType::Null,
        LinkType::Loop,
    ];
}

/// Why a frame was skipped. Each has its own counter in [`DecodeStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Malformed {
    /// Shorter than its link-layer header.
    TruncatedLink,
    /// Not IPv4/IPv6 (ARP, LLDP, STP, ...). Not an error, but not for us either.
    NotIp,
    /// The IP header is truncated or invalid (bad version, IHL, length).
    BadIp,
    /// The transport header (TCP/UDP/ICMP) is truncated or invalid.
    BadTransport,
    /// A non-first IP fragment: no ports to read. (Reassembly is not attempted.)
    Fragment,
    /// An IP protocol other than TCP, UDP, ICMP, ICMPv6 (GRE, ESP, IGMP, ...).
    OtherProto,
    /// The capture's link type is one we do not decode.
    UnknownLink,
}

impl Malformed {
    pub const ALL: [Malformed; 7] = [
        Malformed::TruncatedLink,
        Malformed::NotIp,
        Malformed::BadIp,
        Malformed::BadTransport,
        Malformed::Fragment,
        Malformed::OtherProto,
        Malformed::UnknownLink,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Malformed::TruncatedLink => "truncated_link",
            Malformed::NotIp => "not_ip",
            Malformed::BadIp => "bad_ip",
            Malformed::BadTransport => "bad_transport",
            Malformed::Fragment => "fragment",
            Malformed::OtherProto => "other_proto",
            Malformed::UnknownLink => "unknown_link",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Counters of skipped frames by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeStats {
    counts: [u64; 7],
}

impl DecodeStats {
    pub fn count(&mut self, why: Malformed) {
        self.counts[why.index()] += 1;
    }
    pub fn get(&self, why: Malformed) -> u64 {
        self.counts[why.index()]
    }
    /// All skipped frames.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
    /// `(reason, count)` for every reason, for metrics.
    pub fn iter(&self) -> impl Iterator<Item = (Malformed, u64)> + '_ {
        Malformed::ALL.iter().map(|m| (*m, self.get(*m)))
    }
}

/// TCP flag bits as on the wire (byte 13 of the TCP header).
pub mod tcp_flags {
    pub const FIN: u16 = 0x01;
    pub const SYN: u16 = 0x02;
    pub const RST: u16 = 0x04;
    pub const PSH: u16 = 0x08;
    pub const ACK: u16 = 0x10;
}

/// One decoded packet: only the fields flow tracking needs, all `Copy`.
///
/// `repr(C)` with the flags between the ports: the fast path stores each port on its own, and
/// were they adjacent LLVM would read both back as one 4-byte load, which cannot be forwarded
/// from two 2-byte stores and stalls the CPU on every packet (the flags' width is chosen for
/// the same reason, see `flags`). This depends on the code LLVM emits: after touching `Packet`
/// or `FlowKey::of`, check the read loop with `perf record` / `perf annotate`
/// (benches/README.md, 2026-12-03 second session and 2026-12-07).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Packet {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: Proto,
    /// TCP/UDP ports. ICMP queries/replies carry their identifier in both (so a reply maps to
    /// its request's flow); 0 for other ICMP.
    pub src_port: u16,
    /// TCP flags (see [`tcp_flags`]); 0 for other protocols. Two bytes, though the flags fit
    /// in one: copying a packet reads the flags and the byte after them as one 2-byte load,
    /// which a 1-byte store cannot forward (a stall on every packet, seen in `perf annotate`).
    pub flags: u16,
    pub dst_port: u16,
    /// ICMP/ICMPv6 type and code.
    pub icmp: Option<(u8, u8)>,
    /// IP-layer length from the header (not the captured length, so snap length does not
    /// shrink byte counts).
    pub ip_len: u32,
}

const ETH_HDR: usize = 14;
const SLL_HDR: usize = 16;
const SLL2_HDR: usize = 20;

/// Decode one frame. Never panics, whatever the bytes.
///
/// The common case — Ethernet (optionally VLAN-tagged) carrying an unfragmented IPv4 packet
/// with a complete TCP/UDP/ICMP header — is read by [`fast_ipv4`] without building etherparse's
/// full `LaxSlicedPacket` (whose size makes moving it cost more than the parsing); everything
/// else, and anything the fast path doubts, goes through etherparse. A property test checks
/// that both paths agree.
#[inline]
pub fn decode(link: LinkType, frame: &[u8]) -> Result<Packet, Malformed> {
    if link == LinkType::Ethernet
        && let Some(p) = fast_ipv4(frame)
    {
        return Ok(p);
    }
    decode_slow(link, frame)
}

/// The fast path; `None` means "not sure, ask etherparse". Always inlined: returning the
/// packet (about 50 bytes) from a call cost a tenth of the decoding (callgrind: 3 % of a
/// replay).
#[inline(always)]
pub fn fast_ipv4(frame: &[u8]) -> Option<Packet> {
    let mut off = 12;
    let mut et = u16::from_be_bytes([*frame.get(off)?, *frame.get(off + 1)?]);
    // Up to two VLAN tags (802.1Q, 802.1ad, legacy QinQ 0x9100).
    for _ in 0..2 {
        if matches!(et, 0x8100 | 0x88a8 | 0x9100) {
            off += 4;
            et = u16::from_be_bytes([*frame.get(off)?, *frame.get(off + 1)?]);
        }
    }
    if et != 0x0800 {
        return None;
    }
    let ip = frame.get(off + 2..)?;
    let h = ip.get(..20)?;
    if h[0] >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(h[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
    // Fragments (MF set or offset non-zero), short headers, bogus lengths: slow path.
    if ihl < 20 || total < ihl || u16::from_be_bytes([h[6], h[7]]) & 0x3fff != 0 {
        return None;
    }
    let l4 = ip.get(ihl..)?;
    let proto = h[9];
    let src = IpAddr::V4(Ipv4Addr::new(h[12], h[13], h[14], h[15]));
    let dst = IpAddr::V4(Ipv4Addr::new(h[16], h[17], h[18], h[19]));
    let mut p = Packet {
        src,
        dst,
        proto: Proto::from_number(proto),
        src_port: 0,
        dst_port: 0,
        flags: 0,
        icmp: None,
        ip_len: total as u32,
    };
    // The transport header must lie within both the capture and the IP total length.
    let avail = total - ihl;
    match proto {
        6 => {
            let t = l4.get(..20)?;
            let doff = usize::from(t[12] >> 4) * 4;
            if doff < 20 || doff > avail || l4.len() < doff {
                return None;
            }
            p.src_port = u16::from_be_bytes([t[0], t[1]]);
            p.dst_port = u16::from_be_bytes([t[2], t[3]]);
            p.flags = u16::from(t[13]);
        }
        17 => {
            let u = l4.get(..8)?;
            if avail < 8 {
                return None;
            }
            p.src_port = u16::from_be_bytes([u[0], u[1]]);
            p.dst_port = u16::from_be_bytes([u[2], u[3]]);
        }
        1 => {
            let i = l4.get(..8)?;
            // A timestamp message (13/14, code 0) is exactly 20 bytes: etherparse refuses any
            // other length (as captured, cut at the IP total length), so leave those to it.
            if avail < 8 || (matches!(i[0], 13 | 14) && i[1] == 0 && l4.len().min(avail) != 20) {
                return None;
            }
            p.icmp = Some((i[0], i[1]));
            if matches!(i[0], 0 | 8 | 13 | 14) {
                p.src_port = u16::from_be_bytes([i[4], i[5]]);
                p.dst_port = p.src_port;
            }
        }
        _ => return None,
    }
    Some(p)
}

/// The general path through etherparse.
pub fn decode_slow(link: LinkType, frame: &[u8]) -> Result<Packet, Malformed> {
    let sliced = match link {
        LinkType::Ethernet => {
            if frame.len() < ETH_HDR {
                return Err(Malformed::TruncatedLink);
            }
            let et = u16::from_be_bytes([frame[12], frame[13]]);
            // from_ether_type walks VLAN/QinQ (0x8100, 0x88a8, 0x9100) tags itself.
            LaxSlicedPacket::from_ether_type(EtherType(et), &frame[ETH_HDR..])
        }
        LinkType::LinuxSll => {
            if frame.len() < SLL_HDR {
                return Err(Malformed::TruncatedLink);
            }
            let et = u16::from_be_bytes([frame[14], frame[15]]);
            LaxSlicedPacket::from_ether_type(EtherType(et), &frame[SLL_HDR..])
        }
        LinkType::LinuxSll2 => {
            if frame.len() < SLL2_HDR {
                return Err(Malformed::TruncatedLink);
            }
            let et = u16::from_be_bytes([frame[0], frame[1]]);
            LaxSlicedPacket::from_ether_type(EtherType(et), &frame[SLL2_HDR..])
        }
        LinkType::RawIp => from_ip(frame)?,
        LinkType::Null | LinkType::Loop => {
            if frame.len() < 4 {
                return Err(Malformed::TruncatedLink);
            }
            // Address family in host byte order of the capturing machine: accept either.
            let af = u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]);
            let af = if af > 0xffff { af.swap_bytes() } else { af };
            match af {
                2 | 24 | 28 | 30 => from_ip(&frame[4..])?,
                _ => return Err(Malformed::NotIp),
            }
        }
    };
    from_sliced(&sliced)
}

fn from_ip(frame: &[u8]) -> Result<LaxSlicedPacket<'_>, Malformed> {
    match frame.first().map(|b| b >> 4) {
        Some(4) | Some(6) => LaxSlicedPacket::from_ip(frame).map_err(|_| Malformed::BadIp),
        Some(_) => Err(Malformed::BadIp),
        None => Err(Malformed::TruncatedLink),
    }
}

fn from_sliced(p: &LaxSlicedPacket<'_>) -> Result<Packet, Malformed> {
    let (src, dst, ip_len, payload) = match &p.net {
        Some(LaxNetSlice::Ipv4(v4)) => {
            let h = v4.header();
            (
                IpAddr::V4(Ipv4Addr::from(h.source())),
                IpAddr::V4(Ipv4Addr::from(h.destination())),
                u32::from(h.total_len()),
                v4.payload(),
            )
        }
        Some(LaxNetSlice::Ipv6(v6)) => {
            let h = v6.header();
            (
                IpAddr::V6(Ipv6Addr::from(h.source())),
                IpAddr::V6(Ipv6Addr::from(h.destination())),
                u32::from(h.payload_length()) + 40,
                v6.payload(),
            )
        }
        Some(LaxNetSlice::Arp(_)) => return Err(Malformed::NotIp),
        None => {
            return Err(match &p.stop_err {
                // An IP ethertype whose header did not parse.
                Some(_) if is_ip_ether(p) => Malformed::BadIp,
                Some((_, layer)) if is_link_layer(*layer) => Malformed::TruncatedLink,
                Some(_) => Malformed::BadIp,
                None => Malformed::NotIp,
            });
        }
    };
    let mut pkt = Packet {
        src,
        dst,
        proto: Proto::from_number(payload.ip_number.0),
        src_port: 0,
        dst_port: 0,
        flags: 0,
        icmp: None,
        ip_len,
    };
    match &p.transport {
        Some(TransportSlice::Tcp(t)) => {
            pkt.src_port = t.source_port();
            pkt.dst_port = t.destination_port();
            // Byte 13 of the header holds CWR..FIN; the slice is at least 20 bytes long.
            pkt.flags = u16::from(t.header_slice().get(13).copied().unwrap_or(0));
        }
        Some(TransportSlice::Udp(u)) => {
            pkt.src_port = u.source_port();
            pkt.dst_port = u.destination_port();
        }
        Some(TransportSlice::Icmpv4(i)) => {
            let (ty, code) = (i.type_u8(), i.code_u8());
            pkt.icmp = Some((ty, code));
            // Echo request/reply (8/0) and timestamp (13/14): identifier pairs them up.
            if matches!(ty, 0 | 8 | 13 | 14) {
                let b = i.bytes5to8();
                pkt.src_port = u16::from_be_bytes([b[0], b[1]]);
                pkt.dst_port = pkt.src_port;
            }
        }
        Some(TransportSlice::Icmpv6(i)) => {
            let (ty, code) = (i.type_u8(), i.code_u8());
            pkt.icmp = Some((ty, code));
            if matches!(ty, 128 | 129) {
                let b = i.bytes5to8();
                pkt.src_port = u16::from_be_bytes([b[0], b[1]]);
                pkt.dst_port = pkt.src_port;
            }
        }
        Some(TransportSlice::Igmp(_)) => return Err(Malformed::OtherProto),
        None => {
            if payload.fragmented {
                return Err(Malformed::Fragment);
            }
            return Err(match pkt.proto {
                Proto::Tcp | Proto::Udp | Proto::Icmp | Proto::Icmpv6 => Malformed::BadTransport,
                _ => Malformed::OtherProto,
            });
        }
    }
    Ok(pkt)
}

fn is_ip_ether(p: &LaxSlicedPacket<'_>) -> bool {
    matches!(
        p.stop_err.as_ref().map(|(_, l)| *l),
        Some(
            etherparse::err::Layer::IpHeader
                | etherparse::err::Layer::Ipv4Header
                | etherparse::err::Layer::Ipv4Packet
                | etherparse::err::Layer::Ipv6Header
                | etherparse::err::Layer::Ipv6Packet
                | etherparse::err::Layer::Ipv6ExtHeader
                | etherparse::err::Layer::IpAuthHeader
        )
    )
}

fn is_link_layer(l: etherparse::err::Layer) -> bool {
    matches!(
        l,
        etherparse::err::Layer::LinuxSllHeader
            | etherparse::err::Layer::Ethernet2Header
            | etherparse::err::Layer::VlanHeader
            | etherparse::err::Layer::MacsecHeader
            | etherparse::err::Layer::MacsecPacket
            | etherparse::err::Layer::EtherPayload
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::PacketBuilder;

    fn tcp_eth(flags_syn: bool) -> Vec<u8> {
        let mut b = PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4([10, 20, 0, 2], [198, 51, 100, 2], 64)
            .tcp(40000, 22, 1, 1024);
        if flags_syn {
            b = b.syn();
        }
        let mut v = Vec::new();
        b.write(&mut v, &[]).unwrap();
        v
    }

    #[test]
    fn ethernet_tcp_syn() {
        let p = decode(LinkType::Ethernet, &tcp_eth(true)).unwrap();
        assert_eq!(p.src, "10.20.0.2".parse::<IpAddr>().unwrap());
        assert_eq!(p.dst, "198.51.100.2".parse::<IpAddr>().unwrap());
        assert_eq!((p.src_port, p.dst_port), (40000, 22));
        assert_eq!(p.flags & tcp_flags::SYN, tcp_flags::SYN);
        assert_eq!(p.proto, Proto::Tcp);
        assert_eq!(p.ip_len, 40);
    }

    #[test]
    fn qinq_vlan_tcp() {
        let eth = tcp_eth(true);
        // dst, src, 802.1ad tag (vid 10), 802.1Q tag (vid 20), IPv4, then the IP packet.
        let mut v = eth[..12].to_vec();
        v.extend_from_slice(&[0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00, 0x00, 0x14, 0x08, 0x00]);
        v.extend_from_slice(&eth[14..]);
        let want = decode(LinkType::Ethernet, &eth).unwrap();
        assert_eq!(decode(LinkType::Ethernet, &v).unwrap(), want);
        // Single 802.1Q tag.
        let mut v1 = eth[..12].to_vec();
        v1.extend_from_slice(&[0x81, 0x00, 0x00, 0x14, 0x08, 0x00]);
        v1.extend_from_slice(&eth[14..]);
        assert_eq!(decode(LinkType::Ethernet, &v1).unwrap(), want);
    }

    #[test]
    fn sll_and_sll2_and_raw() {
        let eth = tcp_eth(true);
        let ip = &eth[14..];
        let mut sll = vec![0u8; 14];
        sll.extend_from_slice(&0x0800u16.to_be_bytes());
        sll.extend_from_slice(ip);
        let mut sll2 = 0x0800u16.to_be_bytes().to_vec();
        sll2.extend_from_slice(&[0u8; 18]);
        sll2.extend_from_slice(ip);
        let want = decode(LinkType::Ethernet, &eth).unwrap();
        assert_eq!(decode(LinkType::LinuxSll, &sll).unwrap(), want);
        assert_eq!(decode(LinkType::LinuxSll2, &sll2).unwrap(), want);
        assert_eq!(decode(LinkType::RawIp, ip).unwrap(), want);
    }

    #[test]
    fn ipv6_icmp_echo() {
        let mut v = Vec::new();
        PacketBuilder::ipv6([0xfd; 16], [0xfe; 16], 64)
            .icmpv6_echo_request(7, 1)
            .write(&mut v, &[0; 8])
            .unwrap();
        let p = decode(LinkType::RawIp, &v).unwrap();
        assert_eq!(p.proto, Proto::Icmpv6);
        assert_eq!(p.icmp, Some((128, 0)));
        assert_eq!(p.src_port, 7);
    }

    /// Ethernet + IPv4 (total length `total`) + an ICMP timestamp reply of `icmp_len` bytes.
    fn icmp_timestamp_eth(total: u16, icmp_len: usize) -> Vec<u8> {
        let mut v = vec![2, 0, 0, 0, 0x0b, 2, 2, 0, 0, 0, 0x0a, 1, 0x08, 0x00];
        v.extend_from_slice(&[0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, 1, 0, 0]);
        v[16..18].copy_from_slice(&total.to_be_bytes());
        v.extend_from_slice(&[10, 1, 2, 3, 198, 51, 100, 80]);
        let mut icmp = vec![14, 0, 0, 0, 0x01, 0x02, 0, 1];
        icmp.resize(icmp_len, 0x5a);
        v.extend(icmp);
        v
    }

    /// Found by `cargo fuzz run frame`: the fast path took an ICMP timestamp reply that was
    /// longer than 20 bytes, etherparse refused it, so the same packet decoded or not depending
    /// on the link type. Both paths now refuse it.
    #[test]
    fn icmp_timestamp_of_wrong_length_is_refused_by_both_paths() {
        let crash: [u8; 62] = [
            0x02, 0x00, 0x00, 0x00, 0x0b, 0x02, 0x02, 0x00, 0x00, 0x00, 0x0a, 0x01, 0x08, 0x00,
            0x45, 0x00, 0x00, 0xa4, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01, 0x00, 0x00, 0x0a, 0x81,
            0x02, 0x03, 0xc6, 0x33, 0x64, 0x50, 0x0e, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x0a, 0x01, 0x82, 0x03, 0xc6, 0x33, 0x64, 0x50, 0xc3, 0x50, 0x00, 0x00, 0x00,
            0x72, 0x10, 0x00, 0x00, 0x00, 0x00,
        ];
        // Too long (28 bytes captured of 144), too long and complete, too short (truncated).
        for f in [
            crash.to_vec(),
            icmp_timestamp_eth(48, 28),
            icmp_timestamp_eth(40, 12),
        ] {
            assert_eq!(fast_ipv4(&f), None, "{f:02x?}");
            assert_eq!(decode(LinkType::Ethernet, &f), Err(Malformed::BadTransport));
            assert_eq!(
                decode(LinkType::RawIp, &f[14..]),
                Err(Malformed::BadTransport)
            );
        }
        // Exactly 20 bytes: both paths decode it, the identifier pairs reply with request.
        let ok = icmp_timestamp_eth(40, 20);
        let p = fast_ipv4(&ok).unwrap();
        assert_eq!(Ok(p), decode_slow(LinkType::Ethernet, &ok));
        assert_eq!(
            (p.icmp, p.src_port, p.dst_port),
            (Some((14, 0)), 0x0102, 0x0102)
        );
        // Ethernet padding past the IP total length does not make it "too long".
        let mut padded = ok.clone();
        padded.extend_from_slice(&[0; 6]);
        assert_eq!(fast_ipv4(&padded), Some(p));
        assert_eq!(decode_slow(LinkType::Ethernet, &padded), Ok(p));
    }

    #[test]
    fn truncated_frames_have_reasons() {
        let eth = tcp_eth(true);
        assert_eq!(
            decode(LinkType::Ethernet, &eth[..10]),
            Err(Malformed::TruncatedLink)
        );
        assert_eq!(
            decode(LinkType::Ethernet, &eth[..20]),
            Err(Malformed::BadIp)
        );
        assert_eq!(
            decode(LinkType::Ethernet, &eth[..40]),
            Err(Malformed::BadTransport)
        );
        let mut arp = eth.clone();
        arp[12] = 0x08;
        arp[13] = 0x06;
        assert!(decode(LinkType::Ethernet, &arp).is_err());
    }
}
