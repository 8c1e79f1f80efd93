//! The syslog receiver over real sockets on 127.0.0.1: UDP and TCP (newline framing and
//! RFC 6587 octet counting), split writes, oversize messages; and end to end, the real
//! `cordon run` receiving sshd lines over UDP and opening an account-compromise incident.
use cordon::ingest::syslog::{self, CounterSnapshot, Counters, Transport};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const L3164: &str = "<38>Nov 23 06:29:01 login1 sshd[811]: Failed password for alice from 203.0.113.9 port 50000 ssh2";
const L5424: &str = "<38>1 2026-11-23T06:29:05-05:00 login1 sshd 811 - - Accepted password for alice from 203.0.113.9 port 50000 ssh2";

struct Receiver {
    addr: SocketAddr,
    rx: mpsc::Receiver<Vec<u8>>,
    stop: CancellationToken,
    counters: Arc<Counters>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Receiver {
    fn start(transport: Transport) -> Receiver {
        let bound = syslog::bind("127.0.0.1:0".parse().unwrap(), transport).unwrap();
        let addr = bound.local_addr().unwrap();
        let (tx, rx) = mpsc::channel(16);
        let stop = CancellationToken::new();
        let counters = Arc::new(Counters::default());
        let task = tokio::spawn(syslog::serve_bound(
            bound,
            tx,
            stop.clone(),
            counters.clone(),
        ));
        Receiver {
            addr,
            rx,
            stop,
            counters,
            task,
        }
    }

    /// Collects lines until `n` have arrived (or 10 s pass).
    async fn lines(&mut self, n: usize) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while out.len() < n {
            let batch = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .expect("lines within 10 s")
                .expect("receiver open");
            assert_eq!(batch.last(), Some(&b'\n'), "a batch holds complete lines");
            let text = String::from_utf8(batch).unwrap();
            out.extend(text.lines().map(str::to_string));
        }
        out
    }

    async fn stop(self) -> CounterSnapshot {
        self.stop.cancel();
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("serve returns on shutdown")
            .unwrap()
            .unwrap();
        self.counters.snapshot()
    }
}

#[tokio::test]
async fn udp_datagrams_become_lines() {
    let mut r = Receiver::start(Transport::Udp);
    let s = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    s.send_to(format!("{L3164}\n").as_bytes(), r.addr)
        .await
        .unwrap();
    s.send_to(L5424.as_bytes(), r.addr).await.unwrap();
    s.send_to(b"<13>Nov 23 06:30:00 h app: one\ntwo\r\n", r.addr)
        .await
        .unwrap();
    let got = r.lines(3).await;
    assert_eq!(
        got,
        vec![
            L3164.to_string(),
            L5424.to_string(),
            "<13>Nov 23 06:30:00 h app: one two".to_string()
        ]
    );
    let c = r.stop().await;
    assert_eq!(c.messages, 3);
    assert_eq!(c.truncated, 0);
}

#[tokio::test]
async fn tcp_newline_framing_with_split_and_oversize_lines() {
    let mut r = Receiver::start(Transport::Tcp);
    let mut s = tokio::net::TcpStream::connect(r.addr).await.unwrap();
    s.write_all(format!("{L3164}\n").as_bytes()).await.unwrap();
    // A line split across writes, with a pause so the halves arrive apart.
    let (a, b) = L5424.split_at(20);
    s.write_all(a.as_bytes()).await.unwrap();
    s.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.write_all(format!("{b}\r\n").as_bytes()).await.unwrap();
    let big = "x".repeat(syslog::MAX_MESSAGE + 5000);
    s.write_all(format!("<13>Nov 23 06:30:00 h app: {big}\nafter\n").as_bytes())
        .await
        .unwrap();
    // The last line has no newline: end of stream completes it.
    s.write_all(b"last").await.unwrap();
    drop(s);
    let got = r.lines(5).await;
    assert_eq!(got[0], L3164);
    assert_eq!(got[1], L5424);
    assert_eq!(got[2].len(), syslog::MAX_MESSAGE);
    assert!(got[2].starts_with("<13>Nov 23 06:30:00 h app: xxx"));
    assert_eq!(got[3], "after");
    assert_eq!(got[4], "last");
    let c = r.stop().await;
    assert_eq!((c.messages, c.truncated, c.framing_errors), (5, 1, 0));
}

#[tokio::test]
async fn tcp_octet_counting_with_split_frames_and_embedded_newlines() {
    let mut r = Receiver::start(Transport::Tcp);
    let mut s = tokio::net::TcpStream::connect(r.addr).await.unwrap();
    let multi = "<13>1 2026-11-23T06:30:00Z h app - - - first\nsecond";
    let big = format!("<13>1 - h app - - - {}", "y".repeat(syslog::MAX_MESSAGE));
    let stream = format!(
        "{} {L5424}{} {multi}{} {big}{} {L3164}",
        L5424.len(),
        multi.len(),
        big.len(),
        L3164.len()
    );
    // Cut mid count, mid message and mid big frame.
    for part in [
        &stream[..1],
        &stream[1..40],
        &stream[40..5000],
        &stream[5000..],
    ] {
        s.write_all(part.as_bytes()).await.unwrap();
        s.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = r.lines(4).await;
    assert_eq!(got[0], L5424);
    assert_eq!(
        got[1],
        "<13>1 2026-11-23T06:30:00Z h app - - - first second"
    );
    assert_eq!(got[2].len(), syslog::MAX_MESSAGE);
    assert_eq!(got[3], L3164);
    // A bad count closes the connection and is counted.
    s.write_all(b"12x oops").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while r.counters.snapshot().framing_errors == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let c = r.stop().await;
    assert_eq!((c.messages, c.truncated, c.framing_errors), (4, 1, 1));
}

#[tokio::test]
async fn connections_beyond_the_limit_are_refused_and_counted() {
    let mut r = Receiver::start(Transport::Tcp);
    let mut held = Vec::new();
    for _ in 0..syslog::MAX_CONNECTIONS {
        held.push(tokio::net::TcpStream::connect(r.addr).await.unwrap());
    }
    // Every held connection is being served once one of them gets a line through.
    let last = held.last_mut().unwrap();
    last.write_all(b"hello\n").await.unwrap();
    assert_eq!(r.lines(1).await, vec!["hello".to_string()]);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut extra = Vec::new();
    while r.counters.snapshot().connections_refused == 0 && Instant::now() < deadline {
        extra.push(tokio::net::TcpStream::connect(r.addr).await.unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(r.counters.snapshot().connections_refused >= 1);
    // A freed slot is usable again.
    held.clear();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut s = tokio::net::TcpStream::connect(r.addr).await.unwrap();
    s.write_all(b"again\n").await.unwrap();
    assert_eq!(r.lines(1).await, vec!["again".to_string()]);
    r.stop().await;
}

// ---- end to end: `cordon run` with a syslog UDP source ----

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn free_udp_port() -> u16 {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}

struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn incidents_json(config: &Path) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(["incidents", "list", "--all", "--json", "-c"])
        .arg(config)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn agent_opens_an_incident_from_syslog_udp() {
    let dir = tempfile::tempdir().unwrap();
    let api = free_port();
    let port = free_udp_port();
    let config = dir.path().join("cordon.toml");
    let text = format!(
        r#"
[agent]
state_dir = "{state}"
name = "cordon-test"

[campus]
networks = ["10.0.0.0/8"]

[calendar]
timezone = "America/New_York"

[office]
name = "Security Office"
email = "security@example.edu"

[inventory]
account_email_domain = "example.edu"

[[sources]]
name = "auth"
kind = "syslog"
format = "sshd"
listen = "127.0.0.1:{port}"
transport = "udp"

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
    );
    std::fs::write(&config, text).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(["run", "--quiet", "-c"])
        .arg(&config)
        .env("CORDON_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::File::create(config.with_extension("log")).unwrap(),
        ))
        .spawn()
        .expect("start cordon");
    let _agent = Agent(child);

    // The agent holds the port once we can no longer bind it ourselves.
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
        assert!(Instant::now() < deadline, "agent did not start listening");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        incidents_json(&config).is_empty(),
        "no incident before the lines"
    );

    let tz = jiff::tz::TimeZone::get("America/New_York").unwrap();
    let now = jiff::Timestamp::now().to_zoned(tz);
    let stamp = now.strftime("%b %e %H:%M:%S").to_string();
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..30 {
        let line = format!(
            "<38>{stamp} login1 sshd[{}]: Failed password for alice from 203.0.113.9 port {} ssh2\n",
            900 + i,
            50000 + i
        );
        sock.send_to(line.as_bytes(), ("127.0.0.1", port)).unwrap();
        // Loopback UDP drops when the socket buffer fills; pace a little.
        std::thread::sleep(Duration::from_millis(5));
    }
    let ok = format!(
        "<38>1 {} login1 sshd 990 - - Accepted password for alice from 203.0.113.9 port 51000 ssh2",
        now.strftime("%Y-%m-%dT%H:%M:%S%:z")
    );
    sock.send_to(ok.as_bytes(), ("127.0.0.1", port)).unwrap();

    let deadline = Instant::now() + Duration::from_secs(20);
    let found = loop {
        let inc = incidents_json(&config);
        if !inc.is_empty() || Instant::now() > deadline {
            break inc;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let log = std::fs::read_to_string(config.with_extension("log")).unwrap_or_default();
    assert_eq!(found.len(), 1, "one incident; agent log:\n{log}");
    let inc = &found[0];
    assert_eq!(inc["subject"]["type"], "account", "{inc}");
    assert_eq!(inc["subject"]["id"], "alice", "{inc}");
    assert!(
        inc["evidence_kinds"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k == "account_compromise")),
        "{inc}"
    );
}
