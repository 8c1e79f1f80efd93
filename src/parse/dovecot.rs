//! Dovecot authentication lines (IMAP/POP3/submission/managesieve login processes and the
//! auth / auth-worker processes).
//!
//! Owns the mapping:
//! - `*-login: … (auth failed, N attempts in S secs): user=<U>, method=M, rip=IP, …` →
//!   `AuthFailure` (the login process summary; logged with Dovecot's default settings)
//! - `*-login: Login: user=<U>, …, rip=IP, …` → `AuthSuccess`
//! - `*-login: … (no auth attempts …)` and other `rip=` lines → `Other`
//! - `auth[-worker]: MECH(U,IP[,<session>]): unknown user` → `AuthInvalidUser`; `… Password
//!   mismatch` / `pam_authenticate() failed` → `Other` (only with `auth_verbose=yes`, and each one
//!   repeats an attempt the login process already reports as `auth failed`)
//! - everything else → `Skip`.
//!
//! User names are attacker-chosen: `rip=` is taken from the LAST `, rip=` (Dovecot prints the
//! user first), and for `MECH(U,IP): ` the LAST `): ` whose text before ends in `,IP` wins.
use super::fields::ip;
use super::syslog_header;
use super::{LineParser, ParseContext, Parsed};
use crate::model::{ObsKind, Observation, Proto};
use jiff::Timestamp;
use std::borrow::Cow;

#[derive(Debug, Default)]
pub struct DovecotParser;

impl LineParser for DovecotParser {
    fn parse<'a>(&mut self, line: &'a str, ctx: &ParseContext) -> Parsed<'a> {
        if line.trim().is_empty() {
            return Parsed::Skip;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        let h = match syslog_header::parse(line, ctx) {
            Ok(h) => h,
            Err(why) => return Parsed::Bad(why),
        };
        if !h.program.starts_with("dovecot") {
            return Parsed::Skip;
        }
        let msg = h.msg;
        if msg.contains("-login: ") {
            return login_line(msg, h.time, line);
        }
        if msg.starts_with("auth") {
            return auth_line(msg, h.time, line);
        }
        Parsed::Skip
    }
}

fn login_line<'a>(msg: &'a str, time: Timestamp, raw: &'a str) -> Parsed<'a> {
    let Some(p) = msg.rfind(", rip=") else {
        return Parsed::Skip;
    };
    let after = &msg[p + 6..];
    let ip_end = after.find([',', ' ']).unwrap_or(after.len());
    let Some(src) = ip(&after[..ip_end]) else {
        return Parsed::Bad("dovecot: bad rip=");
    };
    let head = &msg[..p];
    let user = head.find("user=<").and_then(|u| {
        let r = &head[u + 6..];
        r.rfind('>').map(|e| &r[..e])
    });
    let (kind, note) = if head.contains("(auth failed,") {
        (ObsKind::AuthFailure, "auth failed")
    } else if head.contains("-login: Login: ") || head.contains("-login: Info: Login: ") {
        (ObsKind::AuthSuccess, "login")
    } else {
        (ObsKind::Other, "disconnected")
    };
    let mut o = Observation::new(time, kind, raw);
    o.src = Some(src);
    o.proto = Proto::Tcp;
    o.user = user.map(Cow::Borrowed);
    o.note = Some(Cow::Borrowed(note));
    if let Some(l) = msg.rfind(", lip=") {
        let a = &msg[l + 6..];
        o.dst = ip(&a[..a.find([',', ' ']).unwrap_or(a.len())]);
    }
    Parsed::Obs(o)
}

const MECHS: [&str; 12] = [
    "pam(",
    "sql(",
    "passwd-file(",
    "ldap(",
    "passwd(",
    "shadow(",
    "checkpassword(",
    "static(",
    "bsdauth(",
    "vpopmail(",
    "lua(",
    "oauth2(",
];

fn auth_line<'a>(msg: &'a str, time: Timestamp, raw: &'a str) -> Parsed<'a> {
    let mut end = msg.len();
    while let Some(p) = msg[..end].rfind("): ") {
        end = p;
        let mut before = &msg[..p];
        if before.ends_with('>')
            && let Some(s) = before.rfind(",<")
        {
            before = &before[..s];
        }
        let Some((head, addr)) = before.rsplit_once(',') else {
            continue;
        };
        let Some(src) = ip(addr) else { continue };
        // The leftmost mechanism prefix that starts a word begins the user.
        let Some(u) = MECHS
            .iter()
            .filter_map(|m| {
                head.match_indices(m)
                    .find(|(i, _)| *i > 0 && head.as_bytes()[i - 1] == b' ')
                    .map(|(i, _)| i + m.len())
            })
            .min()
        else {
            continue;
        };
        let user = &head[u..];
        let reason = &msg[p + 3..];
        let kind = if reason.starts_with("unknown user") {
            ObsKind::AuthInvalidUser
        } else if reason.contains("ismatch") || reason.contains("failed") {
            ObsKind::Other
        } else {
            return Parsed::Skip;
        };
        let mut o = Observation::new(time, kind, raw);
        o.src = Some(src);
        o.proto = Proto::Tcp;
        o.user = Some(Cow::Borrowed(user));
        let rend = reason.find(" (").unwrap_or(reason.len());
        o.note = Some(Cow::Borrowed(&reason[..rend]));
        return Parsed::Obs(o);
    }
    Parsed::Skip
}
