//! Suricata EVE JSON, one event per line.
//!
//! Owns the mapping of event types: `alert` → `Alert` (signature id/text/category/severity),
//! `drop` → `ConnDenied`, `flow`/`netflow` → `Flow` (packets and bytes of both directions,
//! flow state as note), `anomaly` → `Notice` (the anomaly event as note), app-layer records
//! (`ssh`, `smtp`, `dns`, `http`, `tls`, `fileinfo`, …) → `Other` with the addresses (nothing a
//! detector counts, but the notice may cite them), `stats` → [`Parsed::Stats`] (the sensor's
//! capture/decoder/flow/detect counters that say whether it can be trusted), unknown types →
//! `Skip` (the caller counts skips, so new Suricata event types show up in metrics, not in
//! error logs).
//!
//! Speed: only the fields used are deserialized, strings borrow from the line (`Cow` becomes
//! owned only when the JSON has escapes), everything else is skipped by serde; `stats` records
//! (the largest, a few per minute) are recognised by a byte search before any JSON work and
//! read by their own small deserializer, so other lines never pay for them.
use super::fields::ip;
use super::syslog_header::parse_iso;
use super::{LineParser, ParseContext, Parsed};
use crate::model::{ObsKind, Observation, Proto, SensorStats, Signature};
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
        // Built once: `memmem::find` would build a searcher for every line.
        static STATS: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"event_type\":\"stats\""));
        if STATS.find(line.as_bytes()).is_some()
            && let Some(p) = stats(line, ctx)
        {
            return p;
        }
        let ev: Eve<'a> = match serde_json::from_str(line) {
            Ok(ev) => ev,
            Err(e) => return Parsed::Bad(json_error(&e)),
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
        let time = match event_time(ev.timestamp.as_deref(), ctx) {
            Ok(t) => t,
            Err(why) => return Parsed::Bad(why),
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

/// A `stats` record: only the counters [`SensorStats`] keeps; the rest (per-thread blocks,
/// app-layer counters, memuse) is skipped by serde without allocating.
#[derive(Deserialize)]
struct StatsEvent<'a> {
    #[serde(borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow)]
    event_type: Option<Cow<'a, str>>,
    stats: Option<StatsBody>,
}

#[derive(Deserialize)]
struct StatsBody {
    uptime: Option<u64>,
    capture: Option<StatsCapture>,
    decoder: Option<StatsDecoder>,
    flow: Option<StatsFlow>,
    tcp: Option<StatsTcp>,
    flow_bypassed: Option<StatsBypassed>,
    detect: Option<StatsDetect>,
}

#[derive(Deserialize)]
struct StatsCapture {
    kernel_packets: Option<u64>,
    kernel_drops: Option<u64>,
}

#[derive(Deserialize)]
struct StatsDecoder {
    pkts: Option<u64>,
    invalid: Option<u64>,
}

#[derive(Deserialize)]
struct StatsFlow {
    memcap: Option<u64>,
}

#[derive(Deserialize)]
struct StatsTcp {
    reassembly_gap: Option<u64>,
}

#[derive(Deserialize)]
struct StatsBypassed {
    local_pkts: Option<u64>,
    pkts: Option<u64>,
}

#[derive(Deserialize)]
struct StatsDetect {
    alert: Option<u64>,
}

/// Why a line is not usable JSON (the same reasons for every event type).
fn json_error(e: &serde_json::Error) -> &'static str {
    if e.is_eof() {
        "eve: truncated JSON"
    } else if e.is_data() {
        "eve: field of unexpected type"
    } else {
        "eve: invalid JSON"
    }
}

/// The record's `timestamp`, required for every event type.
fn event_time(ts: Option<&str>, ctx: &ParseContext) -> Result<jiff::Timestamp, &'static str> {
    let ts = ts.ok_or("eve: no timestamp")?;
    parse_iso(ts, ctx)
        .map(|(t, _)| t)
        .ok_or("eve: bad timestamp")
}

/// The slow path for lines the byte search marked as `stats`. `None` when the search hit a
/// nested key and the record is another event type: the caller parses it as usual.
#[cold]
fn stats<'a>(line: &'a str, ctx: &ParseContext) -> Option<Parsed<'a>> {
    let ev: StatsEvent<'_> = match serde_json::from_str(line) {
        Ok(ev) => ev,
        Err(e) => return Some(Parsed::Bad(json_error(&e))),
    };
    if ev.event_type.as_deref() != Some("stats") {
        return None;
    }
    let time = match event_time(ev.timestamp.as_deref(), ctx) {
        Ok(t) => t,
        Err(why) => return Some(Parsed::Bad(why)),
    };
    let Some(b) = ev.stats else {
        return Some(Parsed::Bad("eve: stats without stats object"));
    };
    let mut s = SensorStats::new(time);
    s.uptime = b.uptime;
    if let Some(c) = b.capture {
        s.kernel_packets = c.kernel_packets;
        s.kernel_drops = c.kernel_drops;
    }
    if let Some(d) = b.decoder {
        s.decoder_packets = d.pkts;
        s.decoder_invalid = d.invalid;
    }
    s.flow_memcap = b.flow.and_then(|f| f.memcap);
    s.tcp_reassembly_gap = b.tcp.and_then(|t| t.reassembly_gap);
    s.flow_bypassed_packets = b.flow_bypassed.and_then(|f| match (f.local_pkts, f.pkts) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
    });
    s.detect_alerts = b.detect.and_then(|d| d.alert);
    Some(Parsed::Stats(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::TimeZone;

    fn ctx() -> ParseContext {
        ParseContext::new(TimeZone::UTC, "2026-11-23T12:00:00Z".parse().unwrap())
    }

    /// A Suricata 7 stats record as `eve-log` with `stats: {totals: yes, threads: no}` writes
    /// it (AF_PACKET capture), abridged to a representative subset of its counters.
    pub(crate) const SURICATA7_STATS: &str = r#"{"timestamp":"2026-11-23T11:59:52.000412+0000","event_type":"stats","stats":{"uptime":86408,"capture":{"kernel_packets":48213977,"kernel_drops":1532,"errors":0,"afpacket":{"busy_loop_avg":0,"polls":1210442,"poll_signal":0,"poll_timeout":52110,"poll_data":1158332,"poll_errors":0,"send_errors":0}},"decoder":{"pkts":48212445,"bytes":41968204711,"invalid":87,"ipv4":47990112,"ipv6":222333,"ethernet":48212445,"tcp":31203317,"udp":16889021,"icmpv4":98110,"icmpv6":21997,"vlan":0,"avg_pkt_size":870,"max_pkt_size":1514,"event":{"ipv4":{"pkt_too_small":0,"hlen_too_small":0},"tcp":{"pkt_too_small":3}},"too_many_layers":0},"flow":{"memcap":0,"tcp":402211,"udp":611873,"icmpv4":5112,"icmpv6":1201,"tcp_reuse":12,"get_used":0,"get_used_eval":0,"spare":10000,"emerg_mode_entered":0,"emerg_mode_over":0,"memuse":7474304},"tcp":{"sessions":388101,"ssn_memcap_drop":0,"pseudo":1210,"invalid_checksum":0,"syn":401877,"synack":390112,"rst":51220,"midstream_pickups":0,"pkt_on_wrong_thread":0,"segment_memcap_drop":0,"stream_depth_reached":1733,"reassembly_gap":419,"overlap":2871,"memuse":2293760,"reassembly_memuse":9830400},"detect":{"engines":[{"id":0,"last_reload":"2026-11-22T12:00:04.118220+0000","rules_loaded":43921,"rules_failed":0,"rules_skipped":0}],"alert":311,"alert_queue_overflow":0,"alerts_suppressed":4},"flow_bypassed":{"local_pkts":0,"local_bytes":0,"local_capture_pkts":0,"local_capture_bytes":0,"closed":0,"pkts":20,"bytes":14180},"app_layer":{"flow":{"http":20144,"tls":188211,"dns_udp":400122,"failed_tcp":2011},"tx":{"http":41227,"dns_udp":811244}},"memcap_pressure":3,"memcap_pressure_max":7}}"#;

    #[test]
    fn suricata7_stats_golden() {
        let got = EveParser.parse(SURICATA7_STATS, &ctx());
        let Parsed::Stats(s) = got else {
            panic!("not stats: {got:?}")
        };
        let mut want = SensorStats::new("2026-11-23T11:59:52.000412Z".parse().unwrap());
        want.uptime = Some(86408);
        want.kernel_packets = Some(48_213_977);
        want.kernel_drops = Some(1532);
        want.decoder_packets = Some(48_212_445);
        want.decoder_invalid = Some(87);
        want.flow_memcap = Some(0);
        want.tcp_reassembly_gap = Some(419);
        want.flow_bypassed_packets = Some(20);
        want.detect_alerts = Some(311);
        assert_eq!(s, want);
    }

    #[test]
    fn stats_without_optional_blocks() {
        // Reading a pcap file (`-r`): no capture block, no bypass block.
        let line = r#"{"timestamp":"2026-11-23T11:00:00.000000+0000","event_type":"stats","stats":{"uptime":3,"decoder":{"pkts":10,"invalid":0},"detect":{"alert":2}}}"#;
        let Parsed::Stats(s) = EveParser.parse(line, &ctx()) else {
            panic!("not stats")
        };
        assert_eq!(s.kernel_drops, None);
        assert_eq!(s.kernel_packets, None);
        assert_eq!(s.flow_bypassed_packets, None);
        assert_eq!((s.decoder_packets, s.detect_alerts), (Some(10), Some(2)));
    }

    #[test]
    fn stats_refusals() {
        let c = ctx();
        let bad = |l: &str| match EveParser.parse(l, &c) {
            Parsed::Bad(why) => why,
            other => panic!("{l}: {other:?}"),
        };
        assert_eq!(
            bad(r#"{"event_type":"stats","stats":{"uptime":1}}"#),
            "eve: no timestamp"
        );
        assert_eq!(
            bad(
                r#"{"timestamp":"2026-11-23T11:00:00+0000","event_type":"stats","stats":{"capture":{"kernel_drops":-1}}}"#
            ),
            "eve: field of unexpected type"
        );
        assert_eq!(
            bad(
                r#"{"timestamp":"2026-11-23T11:00:00+0000","event_type":"stats","stats":{"uptime":1"#
            ),
            "eve: truncated JSON"
        );
        assert_eq!(
            bad(r#"{"timestamp":"2026-11-23T11:00:00+0000","event_type":"stats"}"#),
            "eve: stats without stats object"
        );
    }

    #[test]
    fn nested_stats_key_is_not_a_stats_record() {
        let line = r#"{"timestamp":"2026-11-23T11:00:00+0000","event_type":"zz_unknown","meta":{"event_type":"stats"}}"#;
        assert_eq!(EveParser.parse(line, &ctx()), Parsed::Skip);
    }

    #[test]
    fn parsed_does_not_grow() {
        // The stats variant must not make every parse result larger.
        assert!(
            std::mem::size_of::<SensorStats>() <= std::mem::size_of::<Observation<'static>>(),
            "{} > {}",
            std::mem::size_of::<SensorStats>(),
            std::mem::size_of::<Observation<'static>>()
        );
    }
}
