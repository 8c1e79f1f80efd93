#!/usr/bin/env python3
"""Writes the seed inputs of the `frame` fuzz target into seeds/frame/ (run from fuzz/).

Hand-built frames (documentation addresses, zero checksums: the decoder does not check them)
in the target's input layout: chunks separated by 0xff, each chunk = one selector byte
(link = b % 6: 0 Ethernet, 1 LinuxSll, 2 LinuxSll2, 3 RawIp, 4 Null, 5 Loop; seconds to advance
= b // 6)
followed by the frame. No frame may contain 0xff, so MACs, TTLs and checksums avoid it.
"""
import os
import struct

ETH, SLL, SLL2, RAW, NULL, LOOP = range(6)
MAC_A = bytes.fromhex("020000000a01")
MAC_B = bytes.fromhex("020000000b02")


def v4(a):
    return bytes(int(x) for x in a.split("."))


def v6(a):
    import ipaddress
    return ipaddress.IPv6Address(a).packed


def ipv4(src, dst, proto, l4, flags_frag=0x4000):
    total = 20 + len(l4)
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0x1234, flags_frag, 64, proto, 0,
                       v4(src), v4(dst)) + l4


def ipv6(src, dst, nh, l4):
    return struct.pack("!IHBB16s16s", 0x60000000, len(l4), nh, 64, v6(src), v6(dst)) + l4


def tcp(sp, dp, flags, seq=1000, ack=0):
    return struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 5 << 4, flags, 29200, 0, 0)


def udp(sp, dp, payload=b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"):
    return struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload


def icmp(t, c, ident=0x0101, seq=1):
    return struct.pack("!BBHHH", t, c, 0, ident, seq) + b"abcdefgh"


def eth(payload, et=0x0800, vlans=()):
    h = MAC_B + MAC_A
    for tpid, vid in vlans:
        h += struct.pack("!HH", tpid, vid)
    return h + struct.pack("!H", et) + payload


def sll(payload, proto=0x0800):
    return struct.pack("!HHH8sH", 0, 1, 6, MAC_A + b"\0\0", proto) + payload


def sll2(payload, proto=0x0800):
    return struct.pack("!HHIHBB8s", proto, 0, 2, 1, 0, 6, MAC_A + b"\0\0") + payload


def null(payload, af=2):
    return struct.pack("<I", af) + payload


def loop(payload, af=2):
    # DLT_LOOP: the address family in network byte order.
    return struct.pack(">I", af) + payload


SYN, ACK, FIN, RST, PSH = 0x02, 0x10, 0x01, 0x04, 0x08
C, S = "10.1.2.3", "198.51.100.80"
C6, S6 = "2001:db8::3", "2001:db8:1::80"

seeds = {
    # A full TCP life: handshake, data, FIN both ways.
    "eth_tcp_session": [
        (ETH, eth(ipv4(C, S, 6, tcp(50000, 80, SYN)))),
        (ETH, eth(ipv4(S, C, 6, tcp(80, 50000, SYN | ACK, 5000, 1001)))),
        (ETH, eth(ipv4(C, S, 6, tcp(50000, 80, ACK, 1001, 5001)))),
        (ETH, eth(ipv4(C, S, 6, tcp(50000, 80, PSH | ACK, 1001, 5001) + b"GET / HTTP/1.1\r\n\r\n"))),
        (ETH, eth(ipv4(C, S, 6, tcp(50000, 80, FIN | ACK, 1019, 5001)))),
        (ETH, eth(ipv4(S, C, 6, tcp(80, 50000, FIN | ACK, 5001, 1020)))),
    ],
    # A scan: SYNs to several ports, RSTs back, then time passes so flows idle out.
    "eth_syn_scan": [(ETH, eth(ipv4("203.0.113.9", C, 6, tcp(40000, p, SYN)))) for p in (22, 23, 80, 443, 445, 3389)]
    + [(ETH, eth(ipv4(C, "203.0.113.9", 6, tcp(23, 40000, RST | ACK))))]
    + [(6 * 3 + ETH, eth(ipv4("203.0.113.9", C, 6, tcp(40001, 8080, SYN))))],
    # VLAN and QinQ tagged UDP and ICMP, plus a fragment (slow path).
    "eth_vlan_udp_icmp": [
        (ETH, eth(ipv4(C, "192.0.2.53", 17, udp(53000, 53)), vlans=[(0x8100, 10)])),
        (ETH, eth(ipv4("192.0.2.53", C, 17, udp(53, 53000)), vlans=[(0x88a8, 100), (0x8100, 10)])),
        (ETH, eth(ipv4(C, S, 1, icmp(8, 0)))),
        (ETH, eth(ipv4(S, C, 1, icmp(0, 0)))),
        (ETH, eth(ipv4(S, C, 1, icmp(3, 3)))),
        (ETH, eth(ipv4(C, S, 17, udp(1234, 161), flags_frag=0x2000))),
    ],
    "eth_ipv6": [
        (ETH, eth(ipv6(C6, S6, 6, tcp(50001, 443, SYN)), et=0x86DD)),
        (ETH, eth(ipv6(S6, C6, 6, tcp(443, 50001, SYN | ACK, 7, 1001)), et=0x86DD)),
        (ETH, eth(ipv6(C6, S6, 58, icmp(128, 0)), et=0x86DD)),
        (ETH, eth(ipv6(C6, S6, 17, udp(5353, 5353)), et=0x86DD)),
    ],
    "cooked_raw_null": [
        (SLL, sll(ipv4(C, S, 6, tcp(50002, 22, SYN)))),
        (SLL, sll(ipv6(C6, S6, 17, udp(40000, 53)), proto=0x86DD)),
        (SLL2, sll2(ipv4(C, S, 17, udp(40001, 123)))),
        (SLL2, sll2(ipv6(S6, C6, 58, icmp(129, 0)), proto=0x86DD)),
        (RAW, ipv4(C, S, 1, icmp(13, 0) + bytes(12))),
        (RAW, ipv6(C6, S6, 6, tcp(50003, 25, SYN))),
        (NULL, null(ipv4(C, S, 6, tcp(50004, 993, SYN)))),
        (NULL, null(ipv6(C6, S6, 17, udp(40002, 443)), af=30)),
        (LOOP, loop(ipv4(C, S, 6, tcp(50005, 143, SYN)))),
    ],
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "frame")
os.makedirs(out, exist_ok=True)
for name, frames in seeds.items():
    blob = b"\xff".join(bytes([sel]) + f for sel, f in frames)
    for sel, f in frames:
        assert sel != 0xFF and 0xFF not in f, (name, f.hex())
    with open(os.path.join(out, name), "wb") as fh:
        fh.write(blob)
    print(name, len(frames), "frames", len(blob), "bytes")
