//! The syslog envelope shared by every line-based format: stamp, host, program, pid, message.
//!
//! Owns: RFC 3164 (`<13>Nov 23 09:12:01 host prog[pid]: msg`, also with a year after the day,
//! as Cisco writes it), RFC 5424 (`<134>1 2026-11-23T09:12:01.5+01:00 host app 123 - [sd] msg`),
//! journalctl `short`, `short-iso`, `short-iso-precise` and `short-full`, and ISO-8601 prefixed
//! lines (rsyslog high-precision). Hand-written rather than `syslog_loose` because this is the
//! hot path of every firewall line (target ≥ 1 M lines/s/core) and because we need our own
//! year inference. Must not touch: the message body (each format parses its own).
//!
//! Year inference: a year-less stamp gets the year that puts it closest to `ctx.now`, so a
//! Dec 31 line read on Jan 1 belongs to the old year and a line is never dropped at New Year.
use super::{ParseContext, StampKey};
use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{Offset, TimeZone};

/// The parsed envelope. All string fields borrow from the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    pub time: Timestamp,
    /// Reporting host, if the form carries one.
    pub host: Option<&'a str>,
    /// Program / tag / APP-NAME (`sshd`, `kernel`, `filterlog`, `postfix/smtpd`).
    pub program: &'a str,
    pub pid: Option<&'a str>,
    /// The message after `prog[pid]: ` (RFC 5424: after the structured data).
    pub msg: &'a str,
}

/// Parse the envelope of `line`. `Err` carries the reason for [`super::Parsed::Bad`].
pub fn parse<'a>(line: &'a str, ctx: &ParseContext) -> Result<Header<'a>, &'static str> {
    let mut rest = line.trim_start_matches([' ', '\t']);
    let mut had_pri = false;
    if let Some(after) = rest.strip_prefix('<') {
        let end = after
            .as_bytes()
            .iter()
            .take(4)
            .position(|&b| b == b'>')
            .ok_or("bad syslog priority")?;
        if end == 0 || !after.as_bytes()[..end].iter().all(u8::is_ascii_digit) {
            return Err("bad syslog priority");
        }
        rest = &after[end + 1..];
        had_pri = true;
    }
    // RFC 5424: VERSION SP TIMESTAMP ...
    if had_pri && rest.starts_with("1 ") {
        return parse_5424(&rest[2..], ctx);
    }
    let (time, after) = parse_stamp(rest, ctx).ok_or("no syslog timestamp")?;
    parse_host_tag(after, time)
}

/// A stamp at the start of `s` in any of the supported forms; returns the rest after one
/// separating blank.
pub fn parse_stamp<'a>(s: &'a str, ctx: &ParseContext) -> Option<(Timestamp, &'a str)> {
    let b = s.as_bytes();
    if b.len() >= 4 && b[0].is_ascii_digit() {
        return parse_iso(s, ctx);
    }
    // journalctl short-full: "Mon 2026-11-23 09:12:01 CET host ..."
    if b.len() > 9 && b[3] == b' ' && b[8] == b'-' && b[4..8].iter().all(u8::is_ascii_digit) {
        let (ts, rest) = parse_iso(&s[4..], ctx)?;
        // Skip a zone abbreviation (ambiguous, so the source's configured zone decides).
        let rest = match rest.split_once(' ') {
            Some((abbr, r)) if abbr.bytes().all(|c| c.is_ascii_alphabetic()) => r,
            _ => rest,
        };
        return Some((ts, rest));
    }
    parse_bsd(s, ctx)
}

/// `Mmm dd hh:mm:ss[.frac]` or `Mmm dd yyyy hh:mm:ss` (day may be space-padded or one digit).
fn parse_bsd<'a>(s: &'a str, ctx: &ParseContext) -> Option<(Timestamp, &'a str)> {
    let b = s.as_bytes();
    let month = month_number(b.get(..3)?)?;
    let mut i = 3;
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    let (day, n) = digits(&b[i..], 2)?;
    i += n;
    if b.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    let mut year = None;
    // Cisco: "Nov 23 2026 09:12:01"
    if b.len() >= i + 5 && b[i + 4] == b' ' && b[i..i + 4].iter().all(u8::is_ascii_digit) {
        let (y, _) = digits(&b[i..], 4)?;
        year = Some(y as i16);
        i += 5;
    }
    let (time, n) = parse_clock(&b[i..])?;
    i += n;
    let rest = skip_one_blank(&s[i..]);
    let key = StampKey {
        year: year.unwrap_or(0),
        month,
        day: day as i8,
        time,
    };
    let ts = ctx.memo_stamp(key, || match year {
        Some(y) => local_to_ts(
            Date::new(y, month, day as i8).ok()?.to_datetime(time),
            &ctx.tz,
        ),
        None => infer_year(month, day as i8, time, ctx),
    })?;
    Some((ts, rest))
}

/// `YYYY-MM-DD[T ]hh:mm:ss[.frac][Z|±hh[:]mm]`; zone-less stamps use `ctx.tz`.
pub fn parse_iso<'a>(s: &'a str, ctx: &ParseContext) -> Option<(Timestamp, &'a str)> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') {
        return None;
    }
    let (y, _) = digits_exact(&b[0..4])?;
    let (mo, _) = digits_exact(&b[5..7])?;
    let (d, _) = digits_exact(&b[8..10])?;
    let date = Date::new(y as i16, mo as i8, d as i8).ok()?;
    let (time, n) = parse_clock(&b[11..])?;
    let mut i = 11 + n;
    let offset = match b.get(i) {
        Some(b'Z') | Some(b'z') => {
            i += 1;
            Some(Offset::UTC)
        }
        Some(&c @ (b'+' | b'-')) => {
            let (h, _) = digits_exact(b.get(i + 1..i + 3)?)?;
            i += 3;
            if b.get(i) == Some(&b':') {
                i += 1;
            }
            let (m, _) = digits_exact(b.get(i..i + 2)?)?;
            i += 2;
            let secs = (h * 3600 + m * 60) as i32;
            Some(Offset::from_seconds(if c == b'-' { -secs } else { secs }).ok()?)
        }
        _ => None,
    };
    let dt = date.to_datetime(time);
    let ts = match offset {
        Some(off) => off.to_timestamp(dt).ok()?,
        None => {
            let key = StampKey {
                year: y as i16,
                month: mo as i8,
                day: d as i8,
                time,
            };
            ctx.memo_stamp(key, || local_to_ts(dt, &ctx.tz))?
        }
    };
    Some((ts, skip_one_blank(&s[i..])))
}

/// `hh:mm:ss[.frac]` (fraction up to nanoseconds, longer fractions truncated).
fn parse_clock(b: &[u8]) -> Option<(Time, usize)> {
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let (h, _) = digits_exact(&b[0..2])?;
    let (m, _) = digits_exact(&b[3..5])?;
    let (s, _) = digits_exact(&b[6..8])?;
    let mut i = 8;
    let mut nanos: i32 = 0;
    if matches!(b.get(8), Some(b'.') | Some(b',')) && b.get(9).is_some_and(u8::is_ascii_digit) {
        i = 9;
        let mut scale = 100_000_000;
        while let Some(&c) = b.get(i) {
            if !c.is_ascii_digit() {
                break;
            }
            nanos += i32::from(c - b'0') * scale;
            scale /= 10;
            i += 1;
        }
    }
    // A leap second (":60") is clamped rather than refused.
    let s = s.min(59);
    Some((Time::new(h as i8, m as i8, s as i8, nanos).ok()?, i))
}

/// The candidate year among now-1, now, now+1 closest to `ctx.now` for which the date exists.
fn infer_year(month: i8, day: i8, time: Time, ctx: &ParseContext) -> Option<Timestamp> {
    let now_year = ctx.now_year();
    let mut best: Option<(i128, Timestamp)> = None;
    // Feb 29 in a non-leap neighbourhood: widen the search to the last leap year.
    let years: &[i16] = &[0, -1, 1, -2, -3, -4];
    for &dy in years {
        let Ok(date) = Date::new(now_year + dy, month, day) else {
            continue;
        };
        let Some(ts) = local_to_ts(date.to_datetime(time), &ctx.tz) else {
            continue;
        };
        let dist = (ts.as_nanosecond() - ctx.now.as_nanosecond()).abs();
        if best.is_none_or(|(d, _)| dist < d) {
            best = Some((dist, ts));
        }
        // Within half a year of now: nothing else can be closer.
        if dy == 0 && dist < 183 * 86_400 * 1_000_000_000 {
            break;
        }
    }
    best.map(|(_, ts)| ts)
}

/// Civil time in `tz` to an instant; gaps and folds resolve the "compatible" way (RFC 5545).
pub fn local_to_ts(dt: DateTime, tz: &TimeZone) -> Option<Timestamp> {
    tz.to_ambiguous_timestamp(dt).compatible().ok()
}

/// After the stamp: `host prog[pid]: msg`, tolerating a missing host and a missing pid.
fn parse_host_tag(s: &str, time: Timestamp) -> Result<Header<'_>, &'static str> {
    let s = s.trim_start_matches(' ');
    let (first, after_first) = split_blank(s).unwrap_or((s, ""));
    if looks_like_tag(first) {
        let (program, pid) = split_tag(first);
        return Ok(Header {
            time,
            host: None,
            program,
            pid,
            msg: after_first.trim_start_matches(' '),
        });
    }
    let host = first;
    let rest = after_first.trim_start_matches(' ');
    let (tag, msg) = match split_blank(rest) {
        Some((tag, msg)) => (tag, msg.trim_start_matches(' ')),
        None => (rest, ""),
    };
    if tag.is_empty() {
        return Err("no program tag after host");
    }
    if !looks_like_tag(tag) {
        // No `prog:` at all (some appliances): the whole rest is the message.
        return Ok(Header {
            time,
            host: Some(host),
            program: "",
            pid: None,
            msg: rest,
        });
    }
    let (program, pid) = split_tag(tag);
    Ok(Header {
        time,
        host: Some(host),
        program,
        pid,
        msg,
    })
}

/// `split_once(' ')` with the memchr crate's search (this runs twice on every line).
fn split_blank(s: &str) -> Option<(&str, &str)> {
    let i = memchr::memchr(b' ', s.as_bytes())?;
    Some((&s[..i], &s[i + 1..]))
}

fn looks_like_tag(t: &str) -> bool {
    t.ends_with(':') || (t.ends_with(']') && memchr::memchr(b'[', t.as_bytes()).is_some())
}

/// `prog[pid]:` → (`prog`, Some(`pid`)); `prog:` → (`prog`, None).
fn split_tag(t: &str) -> (&str, Option<&str>) {
    let t = t.strip_suffix(':').unwrap_or(t);
    match memchr::memchr(b'[', t.as_bytes()).map(|i| (&t[..i], &t[i + 1..])) {
        Some((prog, pid)) => (prog, Some(pid.trim_end_matches(']'))),
        None => (t, None),
    }
}

/// `TIMESTAMP HOST APP PROCID MSGID SD MSG` (after `<PRI>1 `).
fn parse_5424<'a>(s: &'a str, ctx: &ParseContext) -> Result<Header<'a>, &'static str> {
    let (time, rest) = if let Some(r) = s.strip_prefix("- ") {
        (ctx.now, r)
    } else {
        parse_iso(s, ctx).ok_or("bad RFC 5424 timestamp")?
    };
    let mut parts = rest.splitn(5, ' ');
    let host = parts.next().ok_or("truncated RFC 5424 header")?;
    let app = parts.next().ok_or("truncated RFC 5424 header")?;
    let procid = parts.next().ok_or("truncated RFC 5424 header")?;
    let _msgid = parts.next().ok_or("truncated RFC 5424 header")?;
    let sd_and_msg = parts.next().unwrap_or("");
    let msg = skip_structured_data(sd_and_msg).ok_or("bad RFC 5424 structured data")?;
    let nil = |v: &'a str| if v == "-" { None } else { Some(v) };
    Ok(Header {
        time,
        host: nil(host),
        program: if app == "-" { "" } else { app },
        pid: nil(procid),
        msg: msg.strip_prefix('\u{feff}').unwrap_or(msg),
    })
}

/// The message after RFC 5424 STRUCTURED-DATA (`-` or `[id k="v\]"]...`).
fn skip_structured_data(s: &str) -> Option<&str> {
    if let Some(r) = s.strip_prefix('-') {
        return Some(skip_one_blank(r));
    }
    let b = s.as_bytes();
    let mut i = 0;
    while b.get(i) == Some(&b'[') {
        let mut in_quotes = false;
        i += 1;
        loop {
            match b.get(i)? {
                b'\\' if in_quotes => i += 1,
                b'"' => in_quotes = !in_quotes,
                b']' if !in_quotes => break,
                _ => {}
            }
            i += 1;
        }
        i += 1;
    }
    if i == 0 {
        // Neither `-` nor `[`: be lenient and treat everything as the message.
        return Some(s);
    }
    Some(skip_one_blank(s.get(i..)?))
}

fn skip_one_blank(s: &str) -> &str {
    s.strip_prefix(' ').unwrap_or(s)
}

fn month_number(m: &[u8]) -> Option<i8> {
    Some(match m {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

/// Up to `max` leading ASCII digits (at least one): (value, count).
pub(crate) fn digits(b: &[u8], max: usize) -> Option<(u32, usize)> {
    let mut v: u32 = 0;
    let mut n = 0;
    while n < max {
        match b.get(n) {
            Some(c) if c.is_ascii_digit() => {
                v = v * 10 + u32::from(c - b'0');
                n += 1;
            }
            _ => break,
        }
    }
    (n > 0).then_some((v, n))
}

/// All of `b` must be digits (short, fixed-width fields).
fn digits_exact(b: &[u8]) -> Option<(u32, usize)> {
    let (v, n) = digits(b, b.len())?;
    (n == b.len()).then_some((v, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(now: &str) -> ParseContext {
        ParseContext::new(
            TimeZone::get("Europe/Berlin").unwrap(),
            now.parse().unwrap(),
        )
    }

    #[test]
    fn bsd_with_year_inference_across_new_year() {
        let c = ctx("2027-01-01T00:05:00Z");
        let h = parse("Dec 31 23:59:58 gw sshd[12]: hello", &c).unwrap();
        assert_eq!(h.time.to_string(), "2026-12-31T22:59:58Z");
        assert_eq!(h.host, Some("gw"));
        assert_eq!(h.program, "sshd");
        assert_eq!(h.pid, Some("12"));
        assert_eq!(h.msg, "hello");
        let c = ctx("2026-12-31T23:30:00Z");
        let h = parse("Jan  1 00:40:00 gw kernel: x", &c).unwrap();
        assert_eq!(h.time.to_string(), "2026-12-31T23:40:00Z");
    }

    #[test]
    fn feb_29_finds_a_leap_year() {
        let c = ctx("2027-03-01T00:00:00Z");
        let h = parse("Feb 29 10:00:00 gw kernel: x", &c).unwrap();
        assert_eq!(h.time.to_string(), "2028-02-29T09:00:00Z");
    }

    #[test]
    fn forms() {
        let c = ctx("2026-11-23T12:00:00Z");
        let h = parse(
            "<134>1 2026-11-23T09:12:01.5+01:00 fw filterlog 99 - [m a=\"x]\"] 5,a",
            &c,
        )
        .unwrap();
        assert_eq!(h.time.to_string(), "2026-11-23T08:12:01.5Z");
        assert_eq!((h.program, h.pid, h.msg), ("filterlog", Some("99"), "5,a"));
        let h = parse("2026-11-23T09:12:01+0100 gw sshd[1]: m", &c).unwrap();
        assert_eq!(h.time.to_string(), "2026-11-23T08:12:01Z");
        let h = parse("Mon 2026-11-23 09:12:01 CET gw sshd[1]: m", &c).unwrap();
        assert_eq!(h.time.to_string(), "2026-11-23T08:12:01Z");
        let h = parse("<166>Nov 23 2026 09:12:01 asa : %ASA-6-1: x", &c).unwrap();
        assert_eq!(h.time.to_string(), "2026-11-23T08:12:01Z");
        assert!(parse("garbage", &c).is_err());
        assert!(parse("<1", &c).is_err());
    }
}
