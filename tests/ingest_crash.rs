//! Issue 3 proof: SIGKILL while ingesting, restart; no line is lost and none is counted twice
//! as evidence (offsets are committed in the same transaction as what the lines produced).
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LINES: usize = 20_000;

fn evidence_count(config: &std::path::Path) -> u64 {
    let out = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(["incidents", "list", "--all", "--json", "-c"])
        .arg(config)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|i| i["evidence_count"].as_u64().unwrap_or(0))
        .sum()
}

#[test]
fn sigkill_while_ingesting_loses_and_repeats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let eve = dir.path().join("eve.json");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&eve).unwrap());
    for i in 0..LINES {
        writeln!(
            f,
            r#"{{"timestamp":"2026-11-23T09:{:02}:{:02}.{:06}-0500","event_type":"alert","src_ip":"10.1.2.3","src_port":{},"dest_ip":"198.51.100.{}","dest_port":22,"proto":"TCP","alert":{{"signature_id":2001219,"signature":"ET SCAN Potential SSH Scan OUTBOUND","category":"Attempted Information Leak","severity":2}}}}"#,
            (i / 60) % 60,
            i % 60,
            i,
            1024 + (i % 60000),
            1 + i % 250
        )
        .unwrap();
    }
    drop(f);
    let config = dir.path().join("cordon.toml");
    let api = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    std::fs::write(
        &config,
        format!(
            r#"
[agent]
state_dir = "{state}"
[campus]
networks = ["10.0.0.0/8"]
[calendar]
timezone = "America/New_York"
[office]
name = "Security Office"
email = "security@example.edu"
[[inventory.networks]]
cidr = "10.1.0.0/16"
name = "Physics"
owner = "Physics IT"
email = "it@physics.example.edu"
[[sources]]
name = "suricata"
kind = "file"
format = "suricata_eve"
path = "{eve}"
follow = false
[notify]
from = "cordon@example.edu"
answer_base_url = "http://{api}"
token_secret = "0123456789abcdef0123456789abcdef"
[notify.file]
dir = "{outbox}"
[api]
listen = "{api}"
"#,
            state = dir.path().join("state").display(),
            eve = eve.display(),
            outbox = dir.path().join("outbox").display(),
        ),
    )
    .unwrap();
    let start = || {
        Command::new(env!("CARGO_BIN_EXE_cordon"))
            .args(["run", "--quiet", "-c"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // Kill it a few times while it reads; each restart resumes from the committed offset.
    let mut kills = 0;
    for delay_ms in [150u64, 400, 700] {
        let mut child = start();
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        if evidence_count(&config) as usize >= LINES {
            break;
        }
    }
    assert!(kills >= 1);
    let mut child = start();
    let deadline = Instant::now() + Duration::from_secs(120);
    while (evidence_count(&config) as usize) < LINES && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(300));
    }
    std::thread::sleep(Duration::from_secs(1));
    let n = evidence_count(&config);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        n as usize, LINES,
        "evidence records must equal alert lines exactly"
    );
}
