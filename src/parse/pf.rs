//! pf / pfSense / OPNsense `filterlog` CSV lines, RFC 3164 or RFC 5424 wrapped.
//!
//! Layout (pfSense ≥ 2.2, OPNsense): `rule,subrule,anchor,tracker,iface,reason,action,dir,ipver,`
//! then IPv4 `tos,ecn,ttl,id,offset,flags,protonum,protoname,length,src,dst,` or IPv6
//! `class,flowlabel,hoplimit,protoname,protonum,length,src,dst,`, then for TCP/UDP
//! `sport,dport,datalen,…` and for ICMP `icmptype,…`.
//!
//! Owns: the CSV layout and the action mapping (`block`/`reject` → `ConnDenied`, `pass` →
//! `ConnAttempt`, anything else → `Other`). Note = the rule part of the record
//! (`rule,subrule,anchor,tracker,iface,reason,action,dir`), a slice of the line.
//! Lines from other programs (`pf` hosts log dhcpd, nginx, … to the same file) → `Skip`.
use super::fields::{ip, num, port};
use super::syslog_header;
use super::{LineParser, ParseContext, Parsed};
use crate::model::{ObsKind, Observation, Proto};
use std::borrow::Cow;

#[derive(Debug, Default)]
pub struct PfParser;

impl LineParser for PfParser {
    fn parse<'a>(&mut self, line: &'a str, ctx: &ParseContext) -> Parsed<'a> {
        if line.trim().is_empty() {
            return Parsed::Skip;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        let h = match syslog_header::parse(line, ctx) {
            Ok(h) => h,
            Err(why) => return Parsed::Bad(why),
        };
        if h.program != "filterlog" {
            return Parsed::Skip;
        }
        let msg = h.msg.trim();
        let mut f = [""; 24];
        let mut n = 0;
        for (i, part) in msg.split(',').enumerate() {
            if i >= f.len() {
                break;
            }
            f[i] = part;
            n = i + 1;
        }
        if n < 9 {
            return Parsed::Bad("pf: truncated record");
        }
        let kind = match f[6] {
            "block" | "reject" => ObsKind::ConnDenied,
            "pass" => ObsKind::ConnAttempt,
            "" => return Parsed::Bad("pf: no action"),
            _ => ObsKind::Other,
        };
        // (protocol name, protocol number, length, src, dst, first field after dst)
        let (pname, pnum, len, src, dst, next) = match f[8] {
            "4" if n >= 20 => (f[16], f[15], f[17], f[18], f[19], 20),
            "6" if n >= 17 => (f[12], f[13], f[14], f[15], f[16], 17),
            "4" | "6" => return Parsed::Bad("pf: truncated record"),
            _ => return Parsed::Bad("pf: unknown IP version"),
        };
        let mut o = Observation::new(h.time, kind, line);
        o.src = ip(src);
        o.dst = ip(dst);
        if o.src.is_none() || o.dst.is_none() {
            return Parsed::Bad("pf: bad address");
        }
        o.proto = match num::<u8>(pnum) {
            Some(p) => Proto::from_number(p),
            None => Proto::from_name(pname),
        };
        o.packets = 1;
        o.bytes = num(len).unwrap_or(0);
        match o.proto {
            Proto::Tcp | Proto::Udp => {
                o.src_port = port(f[next]);
                o.dst_port = port(f[next + 1]);
            }
            Proto::Icmp | Proto::Icmpv6 => {
                o.icmp = icmp_type(f[next], o.proto == Proto::Icmpv6);
            }
            _ => {}
        }
        // The rule part: everything before the 9th comma, a slice of the line.
        let rule_end = f[..8].iter().map(|s| s.len() + 1).sum::<usize>() - 1;
        o.note = msg.get(..rule_end).map(Cow::Borrowed);
        Parsed::Obs(o)
    }
}

/// pf's ICMP type words → (type, code) where the word fixes both (`unreach` alone does not
/// name its code, so it gives none).
fn icmp_type(word: &str, v6: bool) -> Option<(u8, u8)> {
    Some(match (word, v6) {
        ("request", false) => (8, 0),
        ("reply", false) => (0, 0),
        ("request", true) => (128, 0),
        ("reply", true) => (129, 0),
        ("unreachproto", false) => (3, 2),
        ("unreachport", false) => (3, 3),
        ("timexceed", false) => (11, 0),
        ("redirect", false) => (5, 0),
        _ => return None,
    })
}
