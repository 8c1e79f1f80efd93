//! Small field helpers shared by the parsers: addresses, ports, numbers, and the
//! right-anchored `from <ip> port <n>` search that keeps attacker-chosen user names from
//! shifting other fields. Pure, allocation-free.
use std::net::{IpAddr, Ipv4Addr};

/// An IP address; IPv4-mapped IPv6 (`::ffff:1.2.3.4`) becomes IPv4 so one host has one key.
/// Accepts a bracketed form (`[2001:db8::1]`) and an IPv6 zone suffix is refused.
pub fn ip(s: &str) -> Option<IpAddr> {
    let s = s
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(s);
    if s.is_empty() || s.len() > 45 {
        return None;
    }
    if let Some(v4) = ipv4(s.as_bytes()) {
        return Some(IpAddr::V4(v4));
    }
    s.parse::<IpAddr>().ok().map(|a| a.to_canonical())
}

/// Dotted-quad IPv4 exactly as `Ipv4Addr::from_str` accepts it (four decimal octets, no
/// leading zeros, nothing else), without its general-purpose parser: most addresses in
/// firewall and auth logs are IPv4 and this is on every line.
fn ipv4(b: &[u8]) -> Option<Ipv4Addr> {
    if b.len() < 7 || b.len() > 15 {
        return None;
    }
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (n, octet) in octets.iter_mut().enumerate() {
        if n > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut v: u16 = 0;
        while let Some(&c) = b.get(i) {
            if !c.is_ascii_digit() || i - start == 3 {
                break;
            }
            v = v * 10 + u16::from(c - b'0');
            i += 1;
        }
        let len = i - start;
        if len == 0 || v > 255 || (len > 1 && b[start] == b'0') {
            return None;
        }
        *octet = v as u8;
    }
    (i == b.len()).then(|| Ipv4Addr::from(octets))
}

/// The last occurrence of `needle` in `hay`: a reverse byte scan for its first byte, then a
/// compare. The needles here are short, fixed words; a general searcher costs more to set
/// up than this takes to run over one log line.
pub(crate) fn rfind_word(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, _) = needle.split_first()?;
    let mut end = hay.len().checked_sub(needle.len())? + 1;
    while let Some(p) = memchr::memrchr(first, &hay[..end]) {
        if hay[p..].starts_with(needle) {
            return Some(p);
        }
        end = p;
    }
    None
}

pub fn port(s: &str) -> Option<u16> {
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A small unsigned number (counts, ICMP type/code, severities).
pub fn num<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The address found by [`last_addr`]: text before it (without the connecting ` from`),
/// the address, the port if given, and the text after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrAt<'a> {
    pub head: &'a str,
    pub ip: IpAddr,
    pub port: Option<u16>,
    pub tail: &'a str,
}

/// The LAST `<ip> port <n>` in `s` (optionally preceded by `from`), else the last
/// `from <ip>` that ends the message or is followed only by a bracketed/colon suffix.
///
/// Why the last: OpenSSH (and Dovecot/Postfix) print the user name before the peer address,
/// and the user name is chosen by the attacker: `Failed password for invalid user
/// x from 6.6.6.6 port 22 from 1.2.3.4 port 5 ssh2` must yield 1.2.3.4, as fail2ban's
/// right-anchored filters do. Text after the address is written by the daemon itself.
/// A match with a port is preferred to a later bare `from <ip>` (so `… port 22 ssh2 from
/// 6.6.6.6` still gives the ported address). Known limit: OpenSSH before 7.x printed no port
/// in `Invalid user U from IP`, so there a user named `x from 6.6.6.6 port 1` wins; current
/// OpenSSH always prints the port.
pub fn last_addr(s: &str) -> Option<AddrAt<'_>> {
    let mut end = s.len();
    while let Some(p) = rfind_word(&s.as_bytes()[..end], b" port ") {
        end = p;
        let before = &s[..p];
        let ip_start = memchr::memrchr(b' ', before.as_bytes()).map_or(0, |i| i + 1);
        let Some(addr) = ip(&before[ip_start..]) else {
            continue;
        };
        let after = &s[p + 6..];
        let pend = after
            .bytes()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(after.len());
        let Some(port) = port(&after[..pend]) else {
            continue;
        };
        let head = before[..ip_start].trim_end_matches(' ');
        let head = head
            .strip_suffix(" from")
            .or_else(|| head.strip_suffix("from"))
            .unwrap_or(head);
        return Some(AddrAt {
            head,
            ip: addr,
            port: Some(port),
            tail: &after[pend..],
        });
    }
    // No port: `... from <ip>` at the end (older OpenSSH), possibly followed by ` [preauth]`
    // or `:` and daemon text.
    let mut end = s.len();
    while let Some(p) = rfind_word(&s.as_bytes()[..end], b"from ") {
        end = p;
        if p > 0 && s.as_bytes()[p - 1] != b' ' {
            continue;
        }
        let rest = &s[p + 5..];
        let tok_end = rest.find([' ', ',']).unwrap_or(rest.len());
        let (tok, tail) = rest.split_at(tok_end);
        let tok = tok.trim_end_matches(':');
        let Some(addr) = ip(tok) else { continue };
        return Some(AddrAt {
            head: s[..p].trim_end_matches(' '),
            ip: addr,
            port: None,
            tail,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_addr_is_right_anchored() {
        let a =
            last_addr("for invalid user x from 6.6.6.6 port 22 from 1.2.3.4 port 5 ssh2").unwrap();
        assert_eq!(a.ip.to_string(), "1.2.3.4");
        assert_eq!(a.port, Some(5));
        assert_eq!(a.head, "for invalid user x from 6.6.6.6 port 22");
        assert_eq!(a.tail, " ssh2");
        let a = last_addr("user x from 1.2.3.4 port 22 ssh2 from 6.6.6.6").unwrap();
        assert_eq!(a.ip.to_string(), "1.2.3.4");
        let a = last_addr("Invalid user bob from ::ffff:10.0.0.1").unwrap();
        assert_eq!(a.ip.to_string(), "10.0.0.1");
        assert_eq!(a.head, "Invalid user bob");
        assert!(last_addr("no address here").is_none());
    }

    #[test]
    fn ipv4_fast_path_agrees_with_std() {
        let cases = [
            "1.2.3.4",
            "255.255.255.255",
            "0.0.0.0",
            "10.0.0.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "1..2.3",
            "1.2.3.4 ",
            " 1.2.3.4",
            "1.2.3.04",
            "1.2.3.a",
            "1234.1.1.1",
            "1.2.3.",
            ".1.2.3",
            "999.999.999.999",
            "1.2.3.4x",
            "+1.2.3.4",
            "1.2.3.-4",
        ];
        for c in cases {
            assert_eq!(ipv4(c.as_bytes()), c.parse::<Ipv4Addr>().ok(), "{c:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn ipv4_fast_path_agrees_with_std_on_anything(s in "[0-9.]{0,17}|[0-9a-f:. x]{0,20}") {
            proptest::prop_assert_eq!(ipv4(s.as_bytes()), s.parse::<Ipv4Addr>().ok());
        }
    }

    #[test]
    fn rfind_word_finds_the_last() {
        assert_eq!(rfind_word(b"a port b port c", b" port "), Some(8));
        assert_eq!(rfind_word(b" port ", b" port "), Some(0));
        assert_eq!(rfind_word(b"port", b" port "), None);
        assert_eq!(rfind_word(b"from x from", b"from "), Some(0));
    }
}
