//! iptables / ip6tables / nftables `LOG` target lines as the kernel writes them:
//! `kernel: [ 203.8] PREFIX IN=eth0 OUT= MAC=… SRC=… DST=… LEN=60 … PROTO=TCP SPT=… DPT=… SYN`,
//! wrapped in any syslog form (see [`super::syslog_header`]) or in Proxmox's firewall log
//! (`0 3 PVEFW-HOST-IN 20/Jun/2022:13:09:14 +0200 policy DROP: IN=…`).
//!
//! Owns: the `KEY=value` fields of the outer packet (an ICMP error's quoted inner packet in
//! `[…]` is ignored), and the action implied by the log prefix.
//!
//! Action: the prefix is free text chosen by the administrator. A word DROP/DROPPED,
//! REJECT/REJECTED, DENY/DENIED, BLOCK/BLOCKED (any case, e.g. `[UFW BLOCK]`, `policy DROP:`)
//! → `ConnDenied`; ACCEPT/ACCEPTED, ALLOW/ALLOWED, PASS → `ConnAttempt`; anything else (no
//! prefix, `IPTABLES:`) → `ConnDenied`, because a `LOG` rule is nearly always placed in front of
//! the drop it documents; detectors treat both as "this source tried", so the choice only
//! affects the notice wording. The prefix is kept as `note`.
use super::fields::{ip, num, port};
use super::syslog_header;
use super::{LineParser, ParseContext, Parsed};
use crate::model::{ObsKind, Observation, Proto};
use jiff::Timestamp;
use memchr::memmem;
use std::borrow::Cow;
use std::sync::LazyLock;

#[derive(Debug, Default)]
pub struct NetfilterParser;

impl LineParser for NetfilterParser {
    fn parse<'a>(&mut self, line: &'a str, ctx: &ParseContext) -> Parsed<'a> {
        if line.trim().is_empty() {
            return Parsed::Skip;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        let (time, msg) = match syslog_header::parse(line, ctx) {
            Ok(h) => (h.time, h.msg),
            Err(why) => match proxmox(line, ctx) {
                Some(x) => x,
                None => return Parsed::Bad(why),
            },
        };
        // The kernel writes `PREFIXIN=… OUT=…` with no blank of its own after the prefix, so
        // `IN=` is found as the one just before the first ` OUT=`.
        // Proxmox leaves `OUT=` out: then `IN=` must start a token.
        let in_at = find_token(msg, &OUT)
            .and_then(|o| super::fields::rfind_word(&msg.as_bytes()[..o], b"IN="))
            .or_else(|| find_token(msg, &IN));
        let Some(in_at) = in_at else {
            // Another kernel message (or another program) in the same file.
            return Parsed::Skip;
        };
        let prefix = strip_kernel_clock(&msg[..in_at]).trim();
        parse_fields(&msg[in_at..], prefix, time, line)
    }
}

fn parse_fields<'a>(fields: &'a str, prefix: &'a str, time: Timestamp, raw: &'a str) -> Parsed<'a> {
    let mut o = Observation::new(time, action(prefix), raw);
    o.packets = 1;
    let mut proto: Option<&str> = None;
    let (mut icmp_type, mut icmp_code) = (None, None);
    let mut have_len = false;
    // Byte-wise: this loop runs for every token of every firewall line.
    let b = fields.as_bytes();
    let mut pos = 0;
    while pos < b.len() {
        let end = memchr::memchr(b' ', &b[pos..]).map_or(b.len(), |i| pos + i);
        let tok = &fields[pos..end];
        pos = end + 1;
        if tok.starts_with('[') {
            break; // the quoted inner packet of an ICMP error
        }
        let Some(eq) = memchr::memchr(b'=', tok.as_bytes()) else {
            continue;
        };
        let v = &tok[eq + 1..];
        match &tok.as_bytes()[..eq] {
            b"SRC" => o.src = ip(v),
            b"DST" => o.dst = ip(v),
            b"SPT" => o.src_port = port(v),
            b"DPT" => {
                o.dst_port = port(v);
                // Everything after the ports (WINDOW, flags, URGP) is not used.
                break;
            }
            b"PROTO" if proto.is_none() => proto = Some(v),
            b"LEN" if !have_len => {
                have_len = true;
                o.bytes = num(v).unwrap_or(0);
            }
            b"TYPE" if icmp_type.is_none() => icmp_type = num::<u8>(v),
            b"CODE" if icmp_code.is_none() => icmp_code = num::<u8>(v),
            _ => {}
        }
    }
    if o.src.is_none() || o.dst.is_none() {
        return Parsed::Bad("netfilter: missing or bad SRC=/DST=");
    }
    o.proto = proto.map_or(Proto::Unknown, Proto::from_name);
    if matches!(o.proto, Proto::Icmp | Proto::Icmpv6)
        && let Some(t) = icmp_type
    {
        o.icmp = Some((t, icmp_code.unwrap_or(0)));
    }
    if !prefix.is_empty() {
        o.note = Some(Cow::Borrowed(prefix));
    }
    Parsed::Obs(o)
}

/// See the module comment.
fn action(prefix: &str) -> ObsKind {
    let mut allow = false;
    for w in prefix.split(|c: char| !c.is_ascii_alphanumeric()) {
        const DENY: [&str; 8] = [
            "DROP", "DROPPED", "REJECT", "REJECTED", "DENY", "DENIED", "BLOCK", "BLOCKED",
        ];
        const ALLOW: [&str; 6] = ["ACCEPT", "ACCEPTED", "ALLOW", "ALLOWED", "PASS", "PASSED"];
        if DENY.iter().any(|d| w.eq_ignore_ascii_case(d)) {
            return ObsKind::ConnDenied;
        }
        if ALLOW.iter().any(|a| w.eq_ignore_ascii_case(a)) {
            allow = true;
        }
    }
    if allow {
        ObsKind::ConnAttempt
    } else {
        ObsKind::ConnDenied
    }
}

// Searchers built once, not per line.
static OUT: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new("OUT="));
static IN: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new("IN="));

/// Byte offset of `key` at a token start (start of string or after a blank).
fn find_token(s: &str, key: &memmem::Finder<'_>) -> Option<usize> {
    let b = s.as_bytes();
    if b.starts_with(key.needle()) {
        return Some(0);
    }
    let mut from = 0;
    while let Some(p) = key.find(&b[from..]) {
        let at = from + p;
        if at > 0 && b[at - 1] == b' ' {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Drop the kernel's `[ 1234.567890]` uptime clock in front of the prefix.
fn strip_kernel_clock(s: &str) -> &str {
    let t = s.trim_start();
    if let Some(r) = t.strip_prefix('[')
        && let Some(end) = r.find(']')
    {
        let inner = r[..end].trim();
        if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return &r[end + 1..];
        }
    }
    t
}

/// Proxmox VE firewall log: `VMID LEVEL CHAIN dd/Mon/yyyy:hh:mm:ss +zzzz PREFIX: IN=…`.
fn proxmox<'a>(line: &'a str, ctx: &ParseContext) -> Option<(Timestamp, &'a str)> {
    let mut it = line.splitn(6, ' ');
    let (_vmid, _lvl, _chain) = (it.next()?, it.next()?, it.next()?);
    let stamp = it.next()?;
    let off = it.next()?;
    let rest = it.next()?;
    // dd/Mon/yyyy:hh:mm:ss → yyyy-mm-ddThh:mm:ss±zzzz, parsed by the shared ISO parser.
    let b = stamp.as_bytes();
    if b.len() != 20 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' {
        return None;
    }
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == &stamp[3..6])?
        + 1;
    let mut buf = [0u8; 32];
    let iso = format_into(
        &mut buf,
        &stamp[7..11],
        month,
        &stamp[0..2],
        &stamp[12..20],
        off,
    )?;
    let (ts, _) = syslog_header::parse_iso(iso, ctx)?;
    Some((ts, rest))
}

fn format_into<'b>(
    buf: &'b mut [u8; 32],
    y: &str,
    m: usize,
    d: &str,
    hms: &str,
    off: &str,
) -> Option<&'b str> {
    use std::io::Write;
    let mut cur = std::io::Cursor::new(&mut buf[..]);
    write!(cur, "{y}-{m:02}-{d}T{hms}{off}").ok()?;
    let n = cur.position() as usize;
    std::str::from_utf8(&buf[..n]).ok()
}
