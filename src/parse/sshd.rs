//! OpenSSH server lines (`sshd`, `sshd-session`, `sshd-auth`) in syslog or journal short forms.
//!
//! Owns the mapping from sshd's messages to observation kinds. Must not touch: thresholds or
//! any decision (detectors count; this only says what one line means).
//!
//! One login attempt makes several lines; the mapping makes each attempt count once per kind:
//! - `Failed <method> for [invalid user] U from IP port P ssh2` → `AuthFailure` (one per attempt)
//! - `Invalid user U from IP [port P]`, `User U from IP not allowed because …` →
//!   `AuthInvalidUser` (one per connection naming a user that cannot log in)
//! - `Accepted <method> for U from IP port P ssh2` → `AuthSuccess`
//! - `maximum authentication attempts exceeded for …`, `Disconnecting … Too many
//!   authentication failures` → `Notice` (sshd's own verdict after failures already logged)
//! - PAM `authentication failure; … rhost= user=` and `PAM N more authentication failures`,
//!   preauth `Disconnected from`/`Connection closed by`/`Received disconnect`, timeouts,
//!   key-exchange refusals → `Other` with the peer address (they repeat a `Failed` line or
//!   carry no attempt; kept for the notice's excerpt, not counted as failures)
//! - any other sshd message → `Skip`; other programs' lines → `Skip`.
//!
//! User names are attacker-chosen and may contain ` from 1.2.3.4 port 22`: the peer is always
//! the LAST `<ip> port <n>` (see [`super::fields::last_addr`]), and the user is the text
//! between the fixed prefix and that address, kept verbatim.
use super::fields::{AddrAt, last_addr};
use super::syslog_header;
use super::{LineParser, ParseContext, Parsed};
use crate::model::{ObsKind, Observation, Proto};
use jiff::Timestamp;
use std::borrow::Cow;

#[derive(Debug, Default)]
pub struct SshdParser;

impl LineParser for SshdParser {
    fn parse<'a>(&mut self, line: &'a str, ctx: &ParseContext) -> Parsed<'a> {
        if line.trim().is_empty() {
            return Parsed::Skip;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        let h = match syslog_header::parse(line, ctx) {
            Ok(h) => h,
            Err(why) => return Parsed::Bad(why),
        };
        if !h.program.starts_with("sshd") {
            return Parsed::Skip;
        }
        parse_message(h.msg, h.time, line)
    }
}

/// The sshd message after the syslog header (shared with tests and other auth formats).
pub(crate) fn parse_message<'a>(msg: &'a str, time: Timestamp, raw: &'a str) -> Parsed<'a> {
    let mut msg = msg.trim_end_matches(['\r', '\n']);
    // rsyslog's repeat compression: `message repeated 3 times: [ Failed password for …]`
    if let Some(r) = msg.strip_prefix("message repeated ")
        && let Some((_, inner)) = r.split_once(" times: [")
    {
        msg = inner.trim_start().trim_end_matches(']').trim_end();
    }
    let msg = msg
        .strip_prefix("error: ")
        .or_else(|| msg.strip_prefix("fatal: "))
        .unwrap_or(msg);

    if let Some(r) = msg.strip_prefix("Failed ") {
        return attempt(r, ObsKind::AuthFailure, msg, time, raw);
    }
    if let Some(r) = msg.strip_prefix("Accepted ") {
        return attempt(r, ObsKind::AuthSuccess, msg, time, raw);
    }
    if let Some(r) = msg.strip_prefix("Invalid user ") {
        let Some(a) = last_addr(r) else {
            return Parsed::Bad("sshd: invalid user line without address");
        };
        return obs(
            ObsKind::AuthInvalidUser,
            Some(a.head),
            a,
            "invalid user",
            time,
            raw,
        );
    }
    if let Some(r) = msg.strip_prefix("User ") {
        // `User root from 1.2.3.4 not allowed because not listed in AllowUsers`
        if let Some(p) = r.rfind(" not allowed because ")
            && let Some(a) = last_addr(&r[..p])
        {
            let note = "user not allowed";
            return obs(ObsKind::AuthInvalidUser, Some(a.head), a, note, time, raw);
        }
        return Parsed::Skip;
    }
    if let Some(r) = msg.strip_prefix("maximum authentication attempts exceeded for ") {
        let Some(a) = last_addr(r) else {
            return Parsed::Bad("sshd: max attempts line without address");
        };
        let user = a.head.strip_prefix("invalid user ").unwrap_or(a.head);
        return obs(
            ObsKind::Notice,
            Some(user),
            a,
            "maximum authentication attempts exceeded",
            time,
            raw,
        );
    }
    if let Some(r) = msg.strip_prefix("Disconnecting ") {
        // `Disconnecting authenticating user root 1.2.3.4 port 5: Too many authentication failures [preauth]`
        if msg.contains("Too many authentication failures")
            && let Some(a) = last_addr(r)
        {
            let user = preauth_user(a.head);
            let note = "too many authentication failures";
            return obs(ObsKind::Notice, user, a, note, time, raw);
        }
        return Parsed::Skip;
    }
    if msg.contains("authentication failure;") || msg.starts_with("PAM ") {
        return pam_failure(msg, time, raw);
    }
    const PEER_PREFIXES: [(&str, &str); 11] = [
        ("Disconnected from ", "disconnected"),
        ("Connection closed by ", "connection closed"),
        ("Connection reset by ", "connection reset"),
        ("Received disconnect from ", "received disconnect"),
        ("Unable to negotiate with ", "key exchange refused"),
        (
            "Timeout before authentication for ",
            "timeout before authentication",
        ),
        (
            "Did not receive identification string from ",
            "no identification string",
        ),
        ("banner exchange: Connection from ", "bad banner"),
        ("ssh_dispatch_run_fatal: Connection from ", "protocol error"),
        (
            "Bad protocol version identification ",
            "bad protocol version",
        ),
        ("Magic value check failed ", "bad handshake"),
    ];
    for (prefix, what) in PEER_PREFIXES {
        if let Some(r) = msg.strip_prefix(prefix) {
            // The peer address comes first in these; cut at the first `:` that ends an
            // `<ip> port <n>` so daemon text after it is not searched.
            let Some(a) = last_addr(peer_part(r)).or_else(|| leading_addr(r)) else {
                return Parsed::Skip;
            };
            let user = preauth_user(a.head);
            return obs(ObsKind::Other, user, a, what, time, raw);
        }
    }
    // `reverse mapping checking getaddrinfo for NAME [IP] failed - POSSIBLE BREAK-IN ATTEMPT!`
    if let Some(r) = msg.strip_prefix("reverse mapping checking getaddrinfo for ")
        && let Some(e) = r.rfind("] failed")
        && let Some(b) = r[..e].rfind('[')
        && let Some(ip) = super::fields::ip(&r[b + 1..e])
    {
        let a = AddrAt {
            head: "",
            ip,
            port: None,
            tail: "",
        };
        return obs(ObsKind::Other, None, a, "reverse mapping failed", time, raw);
    }
    Parsed::Skip
}

/// `1.2.3.4: 11: Bye Bye [preauth]` (older OpenSSH, no port): the address leads.
fn leading_addr(r: &str) -> Option<AddrAt<'_>> {
    let end = r.find(' ').unwrap_or(r.len());
    let tok = r[..end].trim_end_matches([':', ',']);
    let ip = super::fields::ip(tok)?;
    Some(AddrAt {
        head: "",
        ip,
        port: None,
        tail: &r[end..],
    })
}

/// `password for [invalid user] U from IP port P ssh2` after `Failed `/`Accepted `.
fn attempt<'a>(
    r: &'a str,
    kind: ObsKind,
    msg: &'a str,
    time: Timestamp,
    raw: &'a str,
) -> Parsed<'a> {
    // The method is one word (`password`, `publickey`, `none`, `keyboard-interactive/pam`).
    let Some(sp) = memchr::memchr(b' ', r.as_bytes()) else {
        return Parsed::Bad("sshd: auth line without 'for'");
    };
    let (method, rest) = (&r[..sp], &r[sp..]);
    let Some(rest) = rest.strip_prefix(" for ") else {
        return Parsed::Bad(if rest.contains(" for ") {
            "sshd: auth line with odd method"
        } else {
            "sshd: auth line without 'for'"
        });
    };
    if method.is_empty() {
        return Parsed::Bad("sshd: auth line with odd method");
    }
    let Some(a) = last_addr(rest) else {
        return Parsed::Bad("sshd: auth line without address");
    };
    let user = if kind == ObsKind::AuthFailure {
        a.head.strip_prefix("invalid user ").unwrap_or(a.head)
    } else {
        a.head
    };
    // note: "Failed password" / "Accepted publickey" — a slice of the line, no allocation.
    let note = &msg[..msg.len() - r.len() + method.len()];
    obs(kind, Some(user), a, note, time, raw)
}

/// `pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=IP [user=U]`
fn pam_failure<'a>(msg: &'a str, time: Timestamp, raw: &'a str) -> Parsed<'a> {
    let Some(p) = msg.rfind(" rhost=") else {
        return Parsed::Skip;
    };
    let after = &msg[p + 7..];
    let (rhost, tail) = after.split_once(' ').unwrap_or((after, ""));
    // A host name instead of an address (UseDNS yes) gives nothing a detector can key on.
    let Some(src) = super::fields::ip(rhost) else {
        return Parsed::Skip;
    };
    let mut o = Observation::new(time, ObsKind::Other, raw);
    o.proto = Proto::Tcp;
    o.src = Some(src);
    // `user=` is written after rhost by pam_unix; a crafted user cannot move rhost.
    if let Some(u) = tail.trim_start().strip_prefix("user=") {
        o.user = Some(Cow::Borrowed(u));
    }
    o.note = Some(Cow::Borrowed("pam authentication failure"));
    Parsed::Obs(o)
}

/// Cut `r` after the first `<ip> port <n>` followed by `:` (the peer), so a
/// client-supplied string later in the message (a banner, a disconnect reason) cannot
/// supply another address.
fn peer_part(r: &str) -> &str {
    let mut from = 0;
    while let Some(p) = r[from..].find(" port ") {
        let at = from + p + 6;
        let digits = r[at..].bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            return &r[..at + digits];
        }
        from = at;
    }
    r
}

/// The user in `invalid user U` / `authenticating user U` / `user U` heads of preauth lines.
fn preauth_user(head: &str) -> Option<&str> {
    ["invalid user ", "authenticating user ", "user "]
        .iter()
        .find_map(|p| head.strip_prefix(p))
}

fn obs<'a>(
    kind: ObsKind,
    user: Option<&'a str>,
    a: AddrAt<'a>,
    note: &'a str,
    time: Timestamp,
    raw: &'a str,
) -> Parsed<'a> {
    let mut o = Observation::new(time, kind, raw);
    o.src = Some(a.ip);
    o.src_port = a.port;
    o.dst_port = None;
    o.proto = Proto::Tcp;
    o.user = user.map(Cow::Borrowed);
    o.note = Some(Cow::Borrowed(note));
    Parsed::Obs(o)
}
