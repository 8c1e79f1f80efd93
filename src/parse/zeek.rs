//! Zeek `conn.log` and `notice.log`, as TSV (with `#fields` header) or JSON (`LogAscii::use_json`).
//!
//! Owns: the `#separator`/`#fields` header state and the field mapping. The parser remembers
//! the column layout from the last `#fields` line; before one is seen (a tailer resuming in
//! the middle of a file) it assumes Zeek's stock column order for that log.
//!
//! conn.log: `conn_state` `S0` (no answer) → `ConnAttempt`, `REJ` (refused) → `ConnDenied`,
//! everything else → `Flow`; packets = orig_pkts + resp_pkts, bytes = orig_ip_bytes +
//! resp_ip_bytes (IP bytes, like EVE flows); note = conn_state.
//! notice.log → `Notice` with signature {text: msg, class: note (e.g. `Scan::Port_Scan`)},
//! addresses from `id.*` or else `src`/`dst`. `ts` may be epoch seconds or ISO 8601.
//! Header and comment lines → `Skip`.
use super::fields::{ip, num, port};
use super::syslog_header::parse_iso;
use super::{LineParser, ParseContext, Parsed};
use crate::model::{ObsKind, Observation, Proto, Signature};
use jiff::Timestamp;
use serde::Deserialize;
use std::borrow::Cow;

/// The columns we read, in [`COL_NAMES`] order.
const COL_NAMES: [&str; 17] = [
    "ts",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "conn_state",
    "orig_pkts",
    "resp_pkts",
    "orig_ip_bytes",
    "resp_ip_bytes",
    "note",
    "msg",
    "src",
    "dst",
    "p",
    "service",
];
const TS: usize = 0;
const ORIG_H: usize = 1;
const ORIG_P: usize = 2;
const RESP_H: usize = 3;
const RESP_P: usize = 4;
const PROTO: usize = 5;
const CONN_STATE: usize = 6;
const ORIG_PKTS: usize = 7;
const RESP_PKTS: usize = 8;
const ORIG_IP_BYTES: usize = 9;
const RESP_IP_BYTES: usize = 10;
const NOTE: usize = 11;
const MSG: usize = 12;
const SRC: usize = 13;
const DST: usize = 14;
const P: usize = 15;

/// Zeek's stock column order (Zeek 6/7).
const CONN_DEFAULT: &str = "ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration orig_bytes resp_bytes conn_state local_orig local_resp missed_bytes history orig_pkts orig_ip_bytes resp_pkts resp_ip_bytes tunnel_parents";
const NOTICE_DEFAULT: &str = "ts uid id.orig_h id.orig_p id.resp_h id.resp_p fuid file_mime_type file_desc proto note msg sub src dst p n peer_descr actions email_dest suppress_for remote_location.country_code remote_location.region remote_location.city remote_location.latitude remote_location.longitude";

/// At most this many TSV columns are looked at (stock logs have ≤ 26).
const MAX_COLS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Log {
    Conn,
    Notice,
}

#[derive(Debug)]
struct Tsv {
    log: Log,
    sep: u8,
    cols: [Option<u8>; COL_NAMES.len()],
}

impl Tsv {
    fn new(log: Log) -> Self {
        let mut t = Tsv {
            log,
            sep: b'\t',
            cols: [None; COL_NAMES.len()],
        };
        t.set_fields(match log {
            Log::Conn => CONN_DEFAULT.split(' '),
            Log::Notice => NOTICE_DEFAULT.split(' '),
        });
        t
    }

    fn set_fields<'x>(&mut self, names: impl Iterator<Item = &'x str>) {
        self.cols = [None; COL_NAMES.len()];
        for (i, name) in names.enumerate().take(MAX_COLS) {
            if let Some(k) = COL_NAMES.iter().position(|n| *n == name) {
                self.cols[k] = Some(i as u8);
            }
        }
    }

    fn header(&mut self, line: &str) {
        if let Some(r) = line.strip_prefix("#separator ") {
            // `#separator \x09`
            let r = r.trim();
            self.sep = match r
                .strip_prefix("\\x")
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(b) if b.is_ascii() => b,
                _ => r.bytes().next().filter(u8::is_ascii).unwrap_or(b'\t'),
            };
        } else if let Some(r) = line.strip_prefix("#fields") {
            let sep = self.sep as char;
            self.set_fields(r.trim_start_matches(sep).split(sep));
        }
    }

    fn parse<'a>(&mut self, line: &'a str, ctx: &ParseContext) -> Parsed<'a> {
        let mut f = [""; MAX_COLS];
        for (i, v) in line.split(self.sep as char).enumerate().take(MAX_COLS) {
            f[i] = v;
        }
        let get = |k: usize| -> Option<&'a str> {
            let v = f[usize::from(self.cols[k]?)];
            (!v.is_empty() && v != "-" && v != "(empty)").then_some(v)
        };
        let Some(ts) = get(TS) else {
            return Parsed::Bad("zeek: no ts");
        };
        let Some(time) = epoch(ts).or_else(|| parse_iso(ts, ctx).map(|(t, _)| t)) else {
            return Parsed::Bad("zeek: bad ts");
        };
        let rec = Rec {
            orig_h: get(ORIG_H).map(Cow::Borrowed),
            orig_p: get(ORIG_P).and_then(port),
            resp_h: get(RESP_H).map(Cow::Borrowed),
            resp_p: get(RESP_P).and_then(port),
            proto: get(PROTO).map(Cow::Borrowed),
            conn_state: get(CONN_STATE).map(Cow::Borrowed),
            orig_pkts: get(ORIG_PKTS).and_then(num),
            resp_pkts: get(RESP_PKTS).and_then(num),
            orig_ip_bytes: get(ORIG_IP_BYTES).and_then(num),
            resp_ip_bytes: get(RESP_IP_BYTES).and_then(num),
            note: get(NOTE).map(Cow::Borrowed),
            msg: get(MSG).map(Cow::Borrowed),
            src: get(SRC).map(Cow::Borrowed),
            dst: get(DST).map(Cow::Borrowed),
            p: get(P).and_then(|p| port(p.split('/').next().unwrap_or(p))),
        };
        rec.into_parsed(self.log, time, line)
    }
}

/// One record, whichever encoding it came in.
#[derive(Debug, Default, Deserialize)]
struct Rec<'a> {
    #[serde(borrow, rename = "id.orig_h")]
    orig_h: Option<Cow<'a, str>>,
    #[serde(rename = "id.orig_p")]
    orig_p: Option<u16>,
    #[serde(borrow, rename = "id.resp_h")]
    resp_h: Option<Cow<'a, str>>,
    #[serde(rename = "id.resp_p")]
    resp_p: Option<u16>,
    #[serde(borrow)]
    proto: Option<Cow<'a, str>>,
    #[serde(borrow)]
    conn_state: Option<Cow<'a, str>>,
    orig_pkts: Option<u64>,
    resp_pkts: Option<u64>,
    orig_ip_bytes: Option<u64>,
    resp_ip_bytes: Option<u64>,
    #[serde(borrow)]
    note: Option<Cow<'a, str>>,
    #[serde(borrow)]
    msg: Option<Cow<'a, str>>,
    #[serde(borrow)]
    src: Option<Cow<'a, str>>,
    #[serde(borrow)]
    dst: Option<Cow<'a, str>>,
    p: Option<u16>,
}

/// The JSON form: `Rec` plus `ts` (number or string).
#[derive(Deserialize)]
struct JsonRec<'a> {
    ts: Option<JsonTs<'a>>,
    #[serde(borrow, flatten)]
    rec: Rec<'a>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonTs<'a> {
    Num(f64),
    Str(&'a str),
}

impl<'a> Rec<'a> {
    fn into_parsed(self, log: Log, time: Timestamp, raw: &'a str) -> Parsed<'a> {
        let mut o = Observation::new(time, ObsKind::Other, raw);
        o.src = self.orig_h.as_deref().and_then(ip);
        o.dst = self.resp_h.as_deref().and_then(ip);
        o.src_port = self.orig_p;
        o.dst_port = self.resp_p;
        o.proto = self
            .proto
            .as_deref()
            .map_or(Proto::Unknown, Proto::from_name);
        match log {
            Log::Conn => {
                if o.src.is_none() || o.dst.is_none() {
                    return Parsed::Bad("zeek conn: missing or bad id.orig_h/id.resp_h");
                }
                o.kind = match self.conn_state.as_deref() {
                    Some("S0") => ObsKind::ConnAttempt,
                    Some("REJ") => ObsKind::ConnDenied,
                    _ => ObsKind::Flow,
                };
                o.packets = self
                    .orig_pkts
                    .unwrap_or(0)
                    .saturating_add(self.resp_pkts.unwrap_or(0));
                o.bytes = self
                    .orig_ip_bytes
                    .unwrap_or(0)
                    .saturating_add(self.resp_ip_bytes.unwrap_or(0));
                o.note = self.conn_state;
            }
            Log::Notice => {
                o.kind = ObsKind::Notice;
                if o.src.is_none() {
                    o.src = self.src.as_deref().and_then(ip);
                }
                if o.dst.is_none() {
                    o.dst = self.dst.as_deref().and_then(ip);
                }
                if o.dst_port.is_none() {
                    o.dst_port = self.p;
                }
                let Some(note) = self.note else {
                    return Parsed::Bad("zeek notice: no note");
                };
                o.signature = Some(Signature {
                    id: None,
                    text: self.msg.unwrap_or(Cow::Borrowed("")),
                    class: Some(note.clone()),
                    severity: None,
                });
                o.note = Some(note);
            }
        }
        Parsed::Obs(o)
    }
}

/// `1591367999.305988` → instant.
fn epoch(s: &str) -> Option<Timestamp> {
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    let secs: i64 = num(secs)?;
    let mut nanos: i32 = 0;
    let mut scale = 100_000_000;
    for b in frac.bytes().take(9) {
        if !b.is_ascii_digit() {
            return None;
        }
        nanos += i32::from(b - b'0') * scale;
        scale /= 10;
    }
    Timestamp::new(secs, nanos).ok()
}

fn epoch_f64(x: f64) -> Option<Timestamp> {
    if !x.is_finite() || !(0.0..=253_402_300_799.0).contains(&x) {
        return None;
    }
    let secs = x.trunc() as i64;
    let nanos = ((x - x.trunc()) * 1e9).round().clamp(0.0, 999_999_999.0) as i32;
    Timestamp::new(secs, nanos).ok()
}

fn parse_any<'a>(tsv: &mut Tsv, line: &'a str, ctx: &ParseContext) -> Parsed<'a> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.is_empty() {
        return Parsed::Skip;
    }
    if line.starts_with('#') {
        tsv.header(line);
        return Parsed::Skip;
    }
    if line.starts_with('{') {
        let j: JsonRec<'a> = match serde_json::from_str(line) {
            Ok(j) => j,
            Err(e) if e.is_eof() => return Parsed::Bad("zeek: truncated JSON"),
            Err(_) => return Parsed::Bad("zeek: invalid JSON"),
        };
        let time = match j.ts {
            Some(JsonTs::Num(x)) => epoch_f64(x),
            Some(JsonTs::Str(s)) => epoch(s).or_else(|| parse_iso(s, ctx).map(|(t, _)| t)),
            None => return Parsed::Bad("zeek: no ts"),
        };
        let Some(time) = time else {
            return Parsed::Bad("zeek: bad ts");
        };
        return j.rec.into_parsed(tsv.log, time, line);
    }
    tsv.parse(line, ctx)
}

/// `conn.log` parser (stateful: remembers the `#fields` layout).
#[derive(Debug)]
pub struct ZeekConnParser(Tsv);

impl Default for ZeekConnParser {
    fn default() -> Self {
        ZeekConnParser(Tsv::new(Log::Conn))
    }
}

impl LineParser for ZeekConnParser {
    fn parse<'a>(&mut self, line: &'a str, ctx: &ParseContext) -> Parsed<'a> {
        parse_any(&mut self.0, line, ctx)
    }
}

/// `notice.log` parser (stateful: remembers the `#fields` layout).
#[derive(Debug)]
pub struct ZeekNoticeParser(Tsv);

impl Default for ZeekNoticeParser {
    fn default() -> Self {
        ZeekNoticeParser(Tsv::new(Log::Notice))
    }
}

impl LineParser for ZeekNoticeParser {
    fn parse<'a>(&mut self, line: &'a str, ctx: &ParseContext) -> Parsed<'a> {
        parse_any(&mut self.0, line, ctx)
    }
}
