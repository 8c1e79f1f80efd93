//! /metrics end to end: the real `cordon run` binary with a followed EVE file (good, bad and
//! `stats` lines; then a rotation and a copytruncate), a UDP syslog listener and a capture
//! file; the test reads /metrics over HTTP on 127.0.0.1 and checks the labelled series.
use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PCAP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/background.pcap");

struct Agent {
    child: Child,
    log: PathBuf,
}

impl Agent {
    fn start(config: &Path) -> Agent {
        let log = config.with_extension("log");
        let child = Command::new(env!("CARGO_BIN_EXE_cordon"))
            .args(["run", "--quiet", "-c"])
            .arg(config)
            .env("CORDON_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn()
            .expect("start cordon");
        Agent { child, log }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_tcp_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}

/// GET /metrics with plain HTTP/1.0 (no chunking); `None` while the agent is not listening.
fn scrape(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    let (head, body) = resp.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.").then_some(())?;
    head.contains(" 200 ").then(|| body.to_string())
}

/// The value of one series, written exactly as the exposition writes it.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.split(' ').next()?.parse().ok())
}

/// Scrape until every `(series, value)` holds; panics with the last scrape otherwise.
fn wait_for(port: u16, want: &[(&str, f64)]) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Some(t) = scrape(port) {
            if want.iter().all(|(s, v)| value(&t, s) == Some(*v)) {
                return t;
            }
            last = t;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let got: Vec<String> = want
        .iter()
        .map(|(s, v)| format!("{s}: want {v}, got {:?}", value(&last, s)))
        .collect();
    panic!("metrics never matched:\n{}\n---\n{last}", got.join("\n"));
}

fn dns_line(src: &str) -> String {
    serde_json::json!({
        "timestamp": "2026-11-23T12:00:00.000000+0000", "flow_id": 42, "event_type": "dns",
        "src_ip": src, "src_port": 53000, "dest_ip": "192.0.2.53", "dest_port": 53,
        "proto": "UDP", "dns": {"type": "query", "id": 7, "rrname": "example.com", "rrtype": "A"}
    })
    .to_string()
}

/// A Suricata 7 stats record (totals only), with the counters that matter and some that do not.
fn stats_line(ts: &str, packets: u64, drops: u64, alerts: u64) -> String {
    serde_json::json!({
        "timestamp": ts, "event_type": "stats",
        "stats": {
            "uptime": 120,
            "capture": {"kernel_packets": packets, "kernel_drops": drops, "errors": 0},
            "decoder": {"pkts": packets - drops, "bytes": 99_000_000u64, "invalid": 3,
                        "ipv4": packets - drops, "avg_pkt_size": 700},
            "flow": {"memcap": 0, "tcp": 1000, "udp": 2000, "memuse": 7_000_000},
            "tcp": {"sessions": 900, "reassembly_gap": 5, "overlap": 17},
            "detect": {"engines": [{"id": 0, "rules_loaded": 40000, "rules_failed": 0}],
                       "alert": alerts, "alert_queue_overflow": 0},
            "flow_bypassed": {"local_pkts": 0, "local_bytes": 0, "closed": 0, "pkts": 0, "bytes": 0},
            "app_layer": {"flow": {"dns_udp": 77}, "tx": {"dns_udp": 120}}
        }
    })
    .to_string()
}

/// Frames in a classic little-endian microsecond pcap, counted here independently of cordon.
fn pcap_frames(path: &str) -> u64 {
    let b = std::fs::read(path).unwrap();
    assert_eq!(
        &b[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "test expects a LE classic pcap"
    );
    let (mut at, mut n) = (24usize, 0u64);
    while at + 16 <= b.len() {
        let incl = u32::from_le_bytes(b[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + incl;
        n += 1;
    }
    n
}

#[test]
fn labelled_metrics_from_a_running_agent() {
    let dir = tempfile::tempdir().unwrap();
    let eve = dir.path().join("eve.json");
    let api = free_tcp_port();
    let syslog_port = free_udp_port();
    let config = dir.path().join("cordon.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[agent]
state_dir = "{state}"

[campus]
networks = ["10.0.0.0/8"]

[calendar]
timezone = "UTC"

[office]
name = "Security Office"
email = "security@example.edu"

[[sources]]
name = "suricata"
kind = "file"
format = "suricata_eve"
path = "{eve}"
follow = true

[[sources]]
name = "edge-syslog"
kind = "syslog"
format = "sshd"
listen = "127.0.0.1:{syslog_port}"
transport = "udp"

[[sources]]
name = "tap"
kind = "pcap_file"
format = "pcap"
path = "{PCAP}"

[notify]
from = "cordon@example.edu"
answer_base_url = "http://127.0.0.1:{api}"
token_secret = "0123456789abcdef0123456789abcdef"

[notify.file]
dir = "{outbox}"

[enforce]
dry_run = true

[api]
listen = "127.0.0.1:{api}"
"#,
            state = dir.path().join("state").display(),
            eve = eve.display(),
            outbox = dir.path().join("outbox").display(),
        ),
    )
    .unwrap();
    let check = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(["check-config", "-c"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(check.status.success(), "{check:?}");

    // Two good lines, two bad ones, one stats record.
    let first = [
        dns_line("10.1.2.3"),
        dns_line("10.1.2.4"),
        "garbage".to_string(),
        r#"{"timestamp": "2026-11-23T12:00:00+0000", "event_type": "#.to_string(),
        stats_line("2026-11-23T12:00:08.000112+0000", 100_000, 100, 4),
    ];
    std::fs::write(&eve, first.join("\n") + "\n").unwrap();
    let agent = Agent::start(&config);

    let eve_lines = r#"cordon_source_lines_total{source="suricata",format="suricata_eve"}"#;
    let eve_bad = r#"cordon_source_lines_bad_total{source="suricata",format="suricata_eve"}"#;
    let drops = r#"cordon_sensor_kernel_drops{source="suricata"}"#;
    let t = wait_for(api, &[(eve_lines, 5.0), (eve_bad, 2.0), (drops, 100.0)]);
    for (s, v) in [
        (
            r#"cordon_sensor_kernel_packets{source="suricata"}"#,
            100_000.0,
        ),
        (
            r#"cordon_sensor_decoder_packets{source="suricata"}"#,
            99_900.0,
        ),
        (r#"cordon_sensor_decoder_invalid{source="suricata"}"#, 3.0),
        (r#"cordon_sensor_flow_memcap{source="suricata"}"#, 0.0),
        (
            r#"cordon_sensor_tcp_reassembly_gap{source="suricata"}"#,
            5.0,
        ),
        (
            r#"cordon_sensor_flow_bypassed_packets{source="suricata"}"#,
            0.0,
        ),
        (r#"cordon_sensor_detect_alerts{source="suricata"}"#, 4.0),
        (r#"cordon_sensor_uptime_seconds{source="suricata"}"#, 120.0),
        (r#"cordon_tail_files_opened_total{source="suricata"}"#, 1.0),
        (r#"cordon_tail_rotations_total{source="suricata"}"#, 0.0),
        (r#"cordon_tail_files{source="suricata"}"#, 1.0),
    ] {
        assert_eq!(value(&t, s), Some(v), "{s}\n{t}");
    }

    // Syslog: three datagrams, one of which the sshd parser refuses. The user name is
    // attacker-controlled text and must never become a label.
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    for m in [
        "<38>Nov 23 12:00:00 gw sshd[123]: Failed password for evil_label_probe from 203.0.113.9 port 4242 ssh2",
        "<38>Nov 23 12:00:01 gw sshd[123]: Invalid user admin",
        "<38>Nov 23 12:00:02 gw sshd[123]: Accepted password for alice from 10.1.2.3 port 5555 ssh2",
    ] {
        udp.send_to(m.as_bytes(), ("127.0.0.1", syslog_port))
            .unwrap();
    }
    let t = wait_for(
        api,
        &[
            (
                r#"cordon_syslog_messages_total{listener="edge-syslog",transport="udp"}"#,
                3.0,
            ),
            (
                r#"cordon_source_lines_total{source="edge-syslog",format="sshd"}"#,
                3.0,
            ),
            (
                r#"cordon_source_lines_bad_total{source="edge-syslog",format="sshd"}"#,
                1.0,
            ),
        ],
    );
    assert_eq!(
        value(
            &t,
            r#"cordon_syslog_oversize_total{listener="edge-syslog",transport="udp"}"#
        ),
        Some(0.0)
    );
    assert!(
        !t.contains("evil_label_probe"),
        "log content in /metrics:\n{t}"
    );

    // The capture file: every frame counted.
    let frames = pcap_frames(PCAP) as f64;
    let t = wait_for(
        api,
        &[(r#"cordon_capture_packets_total{source="tap"}"#, frames)],
    );
    assert!(
        value(&t, "cordon_flow_evictions_total").is_some(),
        "flow evictions missing\n{t}"
    );
    for d in ["scan", "flood", "spam", "bruteforce", "login", "beacon"] {
        let s = format!(r#"cordon_detector_table_evictions_total{{detector="{d}"}}"#);
        assert!(value(&t, &s).is_some(), "{s} missing\n{t}");
    }

    // Rotation (rename + create) with a second stats record: the sensor dropped 150 more.
    std::fs::rename(&eve, dir.path().join("eve.json.1")).unwrap();
    std::fs::write(
        &eve,
        stats_line("2026-11-23T12:00:16.000090+0000", 180_000, 250, 9) + "\n",
    )
    .unwrap();
    wait_for(
        api,
        &[
            (drops, 250.0),
            (eve_lines, 6.0),
            (r#"cordon_tail_rotations_total{source="suricata"}"#, 1.0),
            (r#"cordon_tail_files_opened_total{source="suricata"}"#, 2.0),
            (r#"cordon_sensor_detect_alerts{source="suricata"}"#, 9.0),
        ],
    );

    // Copytruncate: the file becomes shorter than what was read, then gets one bad line.
    std::fs::write(&eve, "oops\n").unwrap();
    let t = wait_for(
        api,
        &[
            (eve_lines, 7.0),
            (eve_bad, 3.0),
            (r#"cordon_tail_truncations_total{source="suricata"}"#, 1.0),
        ],
    );

    // The totals kept their names: every line of every source, every bad one.
    assert_eq!(value(&t, "cordon_lines_total"), Some(10.0), "{t}");
    assert_eq!(value(&t, "cordon_lines_bad_total"), Some(4.0), "{t}");
    assert!(value(&t, "cordon_detector_evictions").is_some(), "{t}");

    // One family per name (a scraper rejects duplicates).
    let mut types: Vec<&str> = t.lines().filter(|l| l.starts_with("# TYPE ")).collect();
    let n = types.len();
    types.sort_unstable();
    types.dedup();
    assert_eq!(types.len(), n, "duplicate metric family\n{t}");

    // The growth of the sensor's drop counter was logged.
    let deadline = Instant::now() + Duration::from_secs(5);
    let log = loop {
        let log = std::fs::read_to_string(&agent.log).unwrap();
        if log.contains("IDS sensor is dropping packets") || Instant::now() > deadline {
            break log;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let warn = log
        .lines()
        .find(|l| l.contains("IDS sensor is dropping packets"))
        .unwrap_or_else(|| panic!("no drop warning in the log:\n{log}"));
    assert!(warn.contains("150"), "{warn}");
    assert_eq!(
        log.matches("IDS sensor is dropping packets").count(),
        1,
        "the first record has nothing to compare with:\n{log}"
    );
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// A network namespace of the test's own (only `lo`), removed when dropped.
struct Netns(String);

impl Netns {
    fn create() -> Netns {
        let name = format!("cordon-metrics-{}", std::process::id());
        let _ = Command::new("ip")
            .args(["netns", "del", &name])
            .stderr(Stdio::null())
            .status();
        let ns = Netns(name);
        for args in [
            vec!["netns", "add", &ns.0],
            vec!["netns", "exec", &ns.0, "ip", "link", "set", "lo", "up"],
        ] {
            let st = Command::new("ip").args(&args).status().unwrap();
            assert!(st.success(), "ip {}", args.join(" "));
        }
        ns
    }

    /// GET /metrics inside the namespace.
    fn scrape(&self, port: u16) -> Option<String> {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.0, "curl", "-sf", "--max-time", "5"])
            .arg(format!("http://127.0.0.1:{port}/metrics"))
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// Live capture on the loopback interface of a namespace the test made: the agent's own API
/// traffic (our scrapes) is what it captures; libpcap's counters reach the interface gauges.
#[test]
fn live_capture_counters_reach_metrics() {
    if !is_root() {
        eprintln!(
            "SKIPPED live_capture_counters_reach_metrics: needs root for a network namespace"
        );
        return;
    }
    for t in ["ip", "curl"] {
        if !have(t) {
            eprintln!("SKIPPED live_capture_counters_reach_metrics: `{t}` not installed");
            return;
        }
    }
    let ns = Netns::create();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cordon.toml");
    let api = 18088;
    std::fs::write(
        &config,
        format!(
            r#"
[agent]
state_dir = "{state}"

[campus]
networks = ["10.0.0.0/8"]

[calendar]
timezone = "UTC"

[office]
name = "Security Office"
email = "security@example.edu"

[[sources]]
name = "lo-tap"
kind = "pcap"
format = "pcap"
interface = "lo"

[notify]
from = "cordon@example.edu"
answer_base_url = "http://127.0.0.1:{api}"
token_secret = "0123456789abcdef0123456789abcdef"

[notify.file]
dir = "{outbox}"

[api]
listen = "127.0.0.1:{api}"
"#,
            state = dir.path().join("state").display(),
            outbox = dir.path().join("outbox").display(),
        ),
    )
    .unwrap();
    let log = config.with_extension("log");
    let child = Command::new("ip")
        .args(["netns", "exec", &ns.0])
        .arg(env!("CARGO_BIN_EXE_cordon"))
        .args(["run", "--quiet", "-c"])
        .arg(&config)
        .env("CORDON_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
        .spawn()
        .expect("start cordon in the namespace");
    // `ip netns exec` execs the command: killing the child kills cordon.
    let _agent = Agent {
        child,
        log: log.clone(),
    };
    let packets = r#"cordon_capture_packets_total{source="lo-tap"}"#;
    let received = r#"cordon_capture_kernel_received{interface="lo"}"#;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = String::new();
    let t = loop {
        if let Some(t) = ns.scrape(api) {
            let ok = |s: &str| value(&t, s).is_some_and(|v| v > 0.0);
            if ok(packets) && ok(received) {
                break t;
            }
            last = t;
        }
        assert!(
            Instant::now() < deadline,
            "live capture counters never grew:\n{last}\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    for s in [
        r#"cordon_capture_kernel_drops{interface="lo"}"#,
        r#"cordon_capture_interface_drops{interface="lo"}"#,
        "cordon_flow_evictions_total",
    ] {
        assert!(value(&t, s).is_some(), "{s} missing\n{t}");
    }
}
