//! Cisco ASA / FTD / PIX syslog messages (`%ASA-4-106023: …`, `%FTD-…`, `%PIX-…`).
//!
//! Owns the messages detectors use; every other message id → `Skip`:
//! - denies `106001 106006 106007 106014 106015 106023 106100(denied) 313001 710003` → `ConnDenied`
//!   (`106100 … permitted` → `ConnAttempt`)
//! - `302013`/`302015` built → `ConnAttempt`; for `outbound` connections the ASA names the
//!   initiator second (`for outside:server to inside:client`), so src/dst are swapped back
//! - `302014`/`302016` teardown → `Flow` with bytes; the teardown does not say who initiated,
//!   so src is the `for` side and dst the `to` side as printed
//! - `419002` duplicate SYN and `733100` threat-detection rate exceeded → `Notice`
//! - `113004`/`605005` → `AuthSuccess`, `113015`/`605004` → `AuthFailure`, with the user
//!
//! Time: the first syslog stamp before the tag; without one (the ASA's default `no logging
//! timestamp`) `ctx.now`, which a live source sets to the arrival time.
//!
//! Note = the message tag (`%ASA-4-106023`), a slice of the line; `733100` keeps its
//! `[ Scanning] drop rate-1 exceeded` text. User names are attacker-chosen: the quoted
//! `for user "…"` takes everything up to the LAST quote, and `113015`'s user ends at the last
//! ` : user IP = `, so a crafted name cannot supply the address.
use super::fields::{ip, num, port};
use super::syslog_header;
use super::{LineParser, ParseContext, Parsed};
use crate::model::{ObsKind, Observation, Proto};
use jiff::Timestamp;
use std::borrow::Cow;
use std::net::IpAddr;

#[derive(Debug, Default)]
pub struct CiscoAsaParser;

impl LineParser for CiscoAsaParser {
    fn parse<'a>(&mut self, line: &'a str, ctx: &ParseContext) -> Parsed<'a> {
        if line.trim().is_empty() {
            return Parsed::Skip;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        let Some(tag_at) = ["%ASA-", "%FTD-", "%PIX-"]
            .iter()
            .filter_map(|t| line.find(t))
            .min()
        else {
            return Parsed::Skip;
        };
        // `logging timestamp` is off by default on the ASA: then the caller's "now" (arrival
        // time) stands in for the missing stamp.
        let time = stamp(&line[..tag_at], ctx).unwrap_or(ctx.now);
        let after = &line[tag_at..];
        let Some((tag, msg)) = after.split_once(": ") else {
            return Parsed::Bad("asa: truncated message tag");
        };
        // %ASA-4-106023
        let mut parts = tag[1..].splitn(3, '-');
        let (_fac, _level, id) = (parts.next(), parts.next(), parts.next().unwrap_or(""));
        let Some(id) = num::<u32>(id) else {
            return Parsed::Bad("asa: bad message id");
        };
        let mut o = Observation::new(time, ObsKind::Other, line);
        o.note = Some(Cow::Borrowed(tag));
        let ok = match id {
            106001 | 106006 | 106007 | 106015 | 710003 => from_to(&mut o, msg, ObsKind::ConnDenied),
            106014 | 106023 => src_dst(&mut o, msg),
            106100 => acl_log(&mut o, msg),
            313001 => icmp_denied(&mut o, msg),
            302013 | 302015 => built(&mut o, msg),
            302014 | 302016 => teardown(&mut o, msg),
            419002 => from_to(&mut o, msg, ObsKind::Notice),
            733100 => {
                o.kind = ObsKind::Notice;
                let end = msg.find(". Current").unwrap_or(msg.len());
                o.note = Some(Cow::Borrowed(&msg[..end]));
                true
            }
            113004 | 113015 => aaa(&mut o, msg, id == 113004),
            605004 | 605005 => admin_login(&mut o, msg, id == 605005),
            _ => return Parsed::Skip,
        };
        if !ok {
            return Parsed::Bad("asa: message fields not as expected");
        }
        Parsed::Obs(o)
    }
}

/// The first syslog stamp in the text before the tag (relays may add their own header).
fn stamp(head: &str, ctx: &ParseContext) -> Option<Timestamp> {
    if let Ok(h) = syslog_header::parse(head, ctx) {
        return Some(h.time);
    }
    let mut s = head.trim_start();
    if let Some(r) = s.strip_prefix('<') {
        s = r.split_once('>')?.1;
    }
    syslog_header::parse_stamp(s, ctx).map(|(t, _)| t)
}

/// `[iface:]ip[/port]` or `iface/ip(port)` → address and port.
fn endpoint(tok: &str) -> Option<(IpAddr, Option<u16>)> {
    let tok = tok.trim_end_matches([',', ';']);
    if let Some((a, p)) = tok.split_once('(') {
        // 106100: outside/1.2.3.4(5555)
        let a = a.rsplit_once('/').map_or(a, |(_, a)| a);
        return Some((ip(a)?, port(p.trim_end_matches(')'))));
    }
    let parse = |t: &str| -> Option<(IpAddr, Option<u16>)> {
        match t.rsplit_once('/') {
            Some((a, p)) => Some((ip(a)?, Some(service_port(p)?))),
            None => Some((ip(t)?, None)),
        }
    };
    parse(tok).or_else(|| parse(tok.split_once(':')?.1))
}

/// Ports as numbers or the service names 605004/605005 use.
fn service_port(p: &str) -> Option<u16> {
    port(p).or(match p {
        "ssh" => Some(22),
        "telnet" => Some(23),
        "http" => Some(80),
        "https" => Some(443),
        "serial" | "console" => Some(0),
        _ => None,
    })
}

/// The token after the first occurrence of `word` (e.g. `from `).
fn token_after<'a>(s: &'a str, word: &str) -> Option<&'a str> {
    let r = &s[s.find(word)? + word.len()..];
    Some(r.split(' ').next().unwrap_or(r))
}

fn proto_word(msg: &str) -> Proto {
    for w in msg.split(' ').take(4) {
        let p = Proto::from_name(w);
        if matches!(p, Proto::Tcp | Proto::Udp | Proto::Icmp | Proto::Icmpv6) {
            return p;
        }
    }
    Proto::Unknown
}

/// `… from A/p to B/q …` (106001, 106006, 106007, 106015, 419002, 710003).
fn from_to(o: &mut Observation<'_>, msg: &str, kind: ObsKind) -> bool {
    o.kind = kind;
    o.proto = proto_word(msg);
    if o.proto == Proto::Unknown && msg.starts_with("Inbound TCP") {
        o.proto = Proto::Tcp;
    }
    // The destination may be a configured object name instead of an address.
    let Some(a) = token_after(msg, "from ").and_then(endpoint) else {
        return false;
    };
    (o.src, o.src_port) = (Some(a.0), a.1);
    if let Some(b) = token_after(msg, " to ").and_then(endpoint) {
        (o.dst, o.dst_port) = (Some(b.0), b.1);
    }
    o.packets = 1;
    true
}

/// `Deny tcp src outside:A/p dst inside:B/q by access-group …`, icmp with `(type 8, code 0)`.
fn src_dst(o: &mut Observation<'_>, msg: &str) -> bool {
    o.kind = ObsKind::ConnDenied;
    o.proto = proto_word(msg);
    let Some(a) = token_after(msg, "src ").and_then(endpoint) else {
        return false;
    };
    (o.src, o.src_port) = (Some(a.0), a.1);
    if let Some(b) = token_after(msg, "dst ").and_then(endpoint) {
        (o.dst, o.dst_port) = (Some(b.0), b.1);
    }
    o.icmp = icmp_in_parens(msg);
    o.packets = 1;
    true
}

/// `(type 8, code 0)`
fn icmp_in_parens(msg: &str) -> Option<(u8, u8)> {
    let r = &msg[msg.find("(type ")? + 6..];
    let (t, r) = r.split_once(", code ")?;
    let c = r.split(')').next()?;
    Some((num(t)?, num(c)?))
}

/// `access-list NAME denied|permitted tcp outside/A(p) -> inside/B(q) hit-cnt 1 …`
fn acl_log(o: &mut Observation<'_>, msg: &str) -> bool {
    let mut w = msg.split(' ');
    let (
        Some("access-list"),
        Some(_name),
        Some(verdict),
        Some(proto),
        Some(a),
        Some("->"),
        Some(b),
    ) = (
        w.next(),
        w.next(),
        w.next(),
        w.next(),
        w.next(),
        w.next(),
        w.next(),
    )
    else {
        return false;
    };
    o.kind = match verdict {
        "denied" => ObsKind::ConnDenied,
        "permitted" => ObsKind::ConnAttempt,
        _ => ObsKind::Other,
    };
    o.proto = Proto::from_name(proto);
    let (Some(a), Some(b)) = (endpoint(a), endpoint(b)) else {
        return false;
    };
    (o.src, o.src_port, o.dst, o.dst_port) = (Some(a.0), a.1, Some(b.0), b.1);
    o.packets = token_after(msg, "hit-cnt ").and_then(num).unwrap_or(1);
    true
}

/// `Denied ICMP type=8, code=0 from A on interface outside`
fn icmp_denied(o: &mut Observation<'_>, msg: &str) -> bool {
    o.kind = ObsKind::ConnDenied;
    o.proto = Proto::Icmp;
    let t = token_after(msg, "type=").map(|t| t.trim_end_matches(','));
    let c = token_after(msg, "code=");
    if let (Some(t), Some(c)) = (t.and_then(num), c.and_then(num)) {
        o.icmp = Some((t, c));
    }
    let Some(a) = token_after(msg, "from ").and_then(endpoint) else {
        return false;
    };
    o.src = Some(a.0);
    o.packets = 1;
    true
}

/// `Built inbound|outbound TCP|UDP connection ID for IF:A/p (A'/p') to IF:B/q (B'/q')`
fn built(o: &mut Observation<'_>, msg: &str) -> bool {
    o.kind = ObsKind::ConnAttempt;
    o.proto = proto_word(msg);
    let (Some(a), Some(b)) = (
        token_after(msg, " for ").and_then(endpoint),
        token_after(msg, " to ").and_then(endpoint),
    ) else {
        return false;
    };
    let (src, dst) = if msg.contains(" outbound ") {
        (b, a)
    } else {
        (a, b)
    };
    (o.src, o.src_port, o.dst, o.dst_port) = (Some(src.0), src.1, Some(dst.0), dst.1);
    true
}

/// `Teardown TCP connection ID for IF:A/p to IF:B/q duration 0:00:30 bytes 1234 …`
fn teardown(o: &mut Observation<'_>, msg: &str) -> bool {
    o.kind = ObsKind::Flow;
    o.proto = proto_word(msg);
    let (Some(a), Some(b)) = (
        token_after(msg, " for ").and_then(endpoint),
        token_after(msg, " to ").and_then(endpoint),
    ) else {
        return false;
    };
    (o.src, o.src_port, o.dst, o.dst_port) = (Some(a.0), a.1, Some(b.0), b.1);
    o.bytes = token_after(msg, " bytes ").and_then(num).unwrap_or(0);
    true
}

/// `AAA user authentication Successful|Rejected : … : server = S : user = U [: user IP = A]`
fn aaa<'a>(o: &mut Observation<'a>, msg: &'a str, success: bool) -> bool {
    o.kind = if success {
        ObsKind::AuthSuccess
    } else {
        ObsKind::AuthFailure
    };
    // `: user = U` (documented form) or `, User = U` (seen in the wild).
    let Some(rest) = [": user = ", ", User = "]
        .iter()
        .find_map(|k| msg.find(k).map(|u| &msg[u + k.len()..]))
    else {
        return false;
    };
    let (user, addr) = match rest.rfind(" : user IP = ") {
        Some(p) => (&rest[..p], ip(rest[p + 13..].trim())),
        None => (rest.trim_end(), None),
    };
    o.user = Some(Cow::Borrowed(user));
    o.src = addr;
    if let Some(s) = msg
        .find(": server = ")
        .or_else(|| msg.find(" server = ").map(|i| i - 1))
    {
        o.dst = msg[s + 11..].split([' ', ',']).next().and_then(ip);
    }
    true
}

/// `Login denied|permitted from A/p to IF:B/service for user "U"`
fn admin_login<'a>(o: &mut Observation<'a>, msg: &'a str, success: bool) -> bool {
    o.kind = if success {
        ObsKind::AuthSuccess
    } else {
        ObsKind::AuthFailure
    };
    o.proto = Proto::Tcp;
    let Some(a) = token_after(msg, "from ").and_then(endpoint) else {
        return false;
    };
    (o.src, o.src_port) = (Some(a.0), a.1);
    if let Some(b) = token_after(msg, " to ").and_then(endpoint) {
        (o.dst, o.dst_port) = (Some(b.0), b.1);
    }
    if let Some(p) = msg.find("for user \"") {
        let r = &msg[p + 10..];
        let end = r.rfind('"').unwrap_or(r.len());
        o.user = Some(Cow::Borrowed(&r[..end]));
    }
    true
}
