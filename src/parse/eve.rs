//! Suricata EVE JSON, one event per line.
//!
//! Owns the mapping of event types: `alert` → `Alert` (signature id/text/category/severity),
//! `drop` → `ConnDenied`, `flow`/`netflow` → `Flow` (packets and bytes of both directions,
//! flow state as note), `anomaly` → `Notice` (the anomaly event as note), app-layer records
//! (`ssh`, `smtp`, `dns`, `http`, `tls`, `fileinfo`, …) → `Other` with the addresses (nothing a
//! detector counts, but the notice may cite them), `stats` and unknown types → `Skip` (the
//! caller counts skips, so new Suricata event types show up in metrics, not in error logs).
//!
//! Speed: only the fields used are deserialized, strings borrow from the line (`Cow` becomes
//! owned only when the JSON has escapes), everything else is skipped by serde; `stats` records
//! (the largest) are recognised by a byte search before any JSON work.
use super::fields::ip;
use super::syslog_header::parse_iso;
use super::{LineParser, ParseContext, Parsed};
use crate::model::{ObsKind, Observation, Proto, Signature};
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Debug, Default)]
pub struct EveParser;

#[derive(Deserialize)]
struct Eve<'a> {
    #[serde(borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow)]
    event_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    src_ip: Option<Cow<'a, str>>,
    src_port: Option<u16>,
    #[serde(borrow)]
    dest_ip: Option<Cow<'a, str>>,
    dest_port: Option<u16>,
    #[serde(borrow)]
    proto: Option<Cow<'a, str>>,
    icmp_type: Option<u8>,
    icmp_code: Option<u8>,
    #[serde(borrow)]
    alert: Option<Alert<'a>>,
    #[serde(borrow)]
    flow: Option<Flow<'a>>,
    netflow: Option<Netflow>,
    #[serde(borrow)]
    anomaly: Option<Anomaly<'a>>,
}

#[derive(Deserialize)]
struct Alert<'a> {
    #[serde(borrow)]
    action: Option<Cow<'a, str>>,
    signature_id: Option<u64>,
    #[serde(borrow)]
    signature: Option<Cow<'a, str>>,
    #[serde(borrow)]
    category: Option<Cow<'a, str>>,
    severity: Option<u8>,
}

#[derive(Deserialize)]
struct Flow<'a> {
    #[serde(default)]
    pkts_toserver: u64,
    #[serde(default)]
    pkts_toclient: u64,
    #[serde(default)]
    bytes_toserver: u64,
    #[serde(default)]
    bytes_toclient: u64,
    #[serde(borrow)]
    state: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Netflow {
    #[serde(default)]
    pkts: u64,
    #[serde(default)]
    bytes: u64,
}

#[derive(Deserialize)]
struct Anomaly<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    event: Option<Cow<'a, str>>,
}

/// App-layer event types reported as `Other`.
const APP_LAYER: [&str; 18] = [
    "ssh", "smtp", "dns", "http", "http2", "tls", "fileinfo", "ftp", "ftp_data", "smb", "rdp",
    "dhcp", "krb5", "snmp", "sip", "quic", "nfs", "ike",
];

impl LineParser for EveParser {
    fn parse<'a>(&mut self, line: &'a str, ctx: &ParseContext) -> Parsed<'a> {
        let line = line.trim_end_matches(['\r', '\n']);
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            return Parsed::Skip;
        }
        if !trimmed.starts_with('{') {
            return Parsed::Bad("eve: not a JSON object");
        }
        if memchr::memmem::find(line.as_bytes(), b"\"event_type\":\"stats\"").is_some() {
            return Parsed::Skip;
        }
        let ev: Eve<'a> = match serde_json::from_str(line) {
            Ok(ev) => ev,
            Err(e) if e.is_eof() => return Parsed::Bad("eve: truncated JSON"),
            Err(e) if e.is_data() => return Parsed::Bad("eve: field of unexpected type"),
            Err(_) => return Parsed::Bad("eve: invalid JSON"),
        };
        let Some(event_type) = ev.event_type else {
            return Parsed::Bad("eve: no event_type");
        };
        let kind = match &*event_type {
            "alert" => ObsKind::Alert,
            "drop" => ObsKind::ConnDenied,
            "flow" | "netflow" => ObsKind::Flow,
            "anomaly" => ObsKind::Notice,
            t if APP_LAYER.contains(&t) => ObsKind::Other,
            _ => return Parsed::Skip,
        };
        let Some(ts) = ev.timestamp else {
            return Parsed::Bad("eve: no timestamp");
        };
        let Some((time, _)) = parse_iso(&ts, ctx) else {
            return Parsed::Bad("eve: bad timestamp");
        };
        let mut o = Observation::new(time, kind, line);
        o.src = ev.src_ip.as_deref().and_then(ip);
        o.dst = ev.dest_ip.as_deref().and_then(ip);
        o.src_port = ev.src_port;
        o.dst_port = ev.dest_port;
        o.proto = match ev.proto.as_deref() {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().map_or(Proto::Unknown, Proto::from_number)
            }
            Some(p) => Proto::from_name(p),
            None => Proto::Unknown,
        };
        if let Some(t) = ev.icmp_type {
            o.icmp = Some((t, ev.icmp_code.unwrap_or(0)));
        }
        if let Some(f) = &ev.flow {
            o.packets = f.pkts_toserver.saturating_add(f.pkts_toclient);
            o.bytes = f.bytes_toserver.saturating_add(f.bytes_toclient);
        } else if let Some(n) = &ev.netflow {
            o.packets = n.pkts;
            o.bytes = n.bytes;
        }
        match kind {
            ObsKind::Alert => {
                let Some(a) = ev.alert else {
                    return Parsed::Bad("eve: alert without alert object");
                };
                o.signature = Some(Signature {
                    id: a.signature_id,
                    text: a.signature.unwrap_or(Cow::Borrowed("")),
                    class: a.category,
                    severity: a.severity,
                });
                o.note = a.action;
            }
            ObsKind::Flow => o.note = ev.flow.and_then(|f| f.state),
            ObsKind::Notice => {
                o.note = ev.anomaly.and_then(|a| a.event.or(a.kind));
            }
            _ => o.note = Some(event_type),
        }
        if o.src.is_none() && kind != ObsKind::Notice {
            return Parsed::Bad("eve: missing or bad src_ip");
        }
        Parsed::Obs(o)
    }
}
