//! Postfix smtpd SASL lines.
//!
//! - `warning: NAME[IP]: SASL MECH authentication failed: REASON[, sasl_username=U]` → `AuthFailure`
//! - `QUEUEID: client=NAME[IP], sasl_method=M, sasl_username=U` → `AuthSuccess`
//! - every other Postfix line, and other programs' lines → `Skip`.
//!
//! NAME is the client's reverse-DNS name, which the client's owner controls: the address is
//! the LAST `[...]` before `: SASL` (Postfix refuses names with brackets, but we do not rely on it).
use super::fields::ip;
use super::syslog_header;
use super::{LineParser, ParseContext, Parsed};
use crate::model::{ObsKind, Observation, Proto};
use std::borrow::Cow;
use std::net::IpAddr;

#[derive(Debug, Default)]
pub struct PostfixParser;

impl LineParser for PostfixParser {
    fn parse<'a>(&mut self, line: &'a str, ctx: &ParseContext) -> Parsed<'a> {
        if line.trim().is_empty() {
            return Parsed::Skip;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        let h = match syslog_header::parse(line, ctx) {
            Ok(h) => h,
            Err(why) => return Parsed::Bad(why),
        };
        if !h.program.starts_with("postfix") {
            return Parsed::Skip;
        }
        let msg = h.msg;
        if let Some(p) = msg.find(": SASL ")
            && msg[p..].contains(" authentication failed")
        {
            let Some(src) = bracketed_ip(&msg[..p]) else {
                return Parsed::Bad("postfix: SASL failure without client address");
            };
            let mut o = Observation::new(h.time, ObsKind::AuthFailure, line);
            o.src = Some(src);
            o.proto = Proto::Tcp;
            if let Some(u) = msg.rfind(", sasl_username=") {
                o.user = Some(Cow::Borrowed(&msg[u + 16..]));
            }
            let note = &msg[p + 2..];
            let note_end = note.find(':').unwrap_or(note.len());
            o.note = Some(Cow::Borrowed(&note[..note_end]));
            return Parsed::Obs(o);
        }
        if let Some(c) = msg.find(": client=")
            && let Some(u) = msg.find(", sasl_username=")
            && u > c
        {
            let Some(src) = bracketed_ip(&msg[c..u]) else {
                return Parsed::Bad("postfix: SASL login without client address");
            };
            let mut o = Observation::new(h.time, ObsKind::AuthSuccess, line);
            o.src = Some(src);
            o.proto = Proto::Tcp;
            let user = &msg[u + 16..];
            // Postfix may append `, sasl_sender=…` (sender is client-chosen, user is not).
            let user = user.split(", sasl_sender=").next().unwrap_or(user);
            o.user = Some(Cow::Borrowed(user));
            o.note = Some(Cow::Borrowed("sasl login"));
            return Parsed::Obs(o);
        }
        Parsed::Skip
    }
}

/// The address in the last `[...]` of `s`.
fn bracketed_ip(s: &str) -> Option<IpAddr> {
    let e = s.rfind(']')?;
    let b = s[..e].rfind('[')?;
    ip(&s[b + 1..e])
}
